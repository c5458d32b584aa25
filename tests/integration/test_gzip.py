"""Content-Encoding at the HTTP intake (issue 5): gzip and deflate bodies are
inflated and checked like plain ones; a gzip bomb stops at
max_decompressed_bytes with 413; corrupt, truncated and unknown encodings
get clear JSON errors and nothing is kept. Python 3 standard library only;
assertions on the answers and on what reached the destination."""

import gzip
import os
import sys
import unittest
import zlib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sluice_it import (SluiceTestCase, compact, connector_lua,  # noqa: E402
                       crm_record, wait_until)


class GzipTest(SluiceTestCase):

    def setUp(self):
        super().setUp()
        self.dest = self.start_flex_destination()
        self.sl = self.start_sluice(
            {"crm": connector_lua("crm", self.dest.url + "/in")},
            gateway_extra="  max_decompressed_bytes = 1048576,")

    def post(self, data, encoding):
        return self.sl.post("crm", data, headers={"Content-Encoding": encoding})

    def body(self, ids):
        return compact([crm_record(i) for i in ids])

    def test_gzip_deflate_and_members(self):
        st, js, _ = self.post(gzip.compress(self.body(range(0, 50))), "gzip")
        self.assertEqual((st, js["accepted"]), (200, 50), self.sl.last_raw)
        st, js, _ = self.post(zlib.compress(self.body(range(50, 100))), "deflate")
        self.assertEqual((st, js["accepted"]), (200, 50), self.sl.last_raw)
        nd = b"".join(compact(crm_record(i)) + b"\n" for i in range(100, 150))
        half = len(nd) // 2
        half = nd.rindex(b"\n", 0, half) + 1
        two = gzip.compress(nd[:half]) + gzip.compress(nd[half:])
        st, js, _ = self.sl.post("crm", two, content_type="application/x-ndjson",
                                 headers={"Content-Encoding": "x-gzip"})
        self.assertEqual((st, js["accepted"]), (200, 50), self.sl.last_raw)
        wait_until(lambda: set(range(150)) <= set(self.dest.ids()), 10,
                   msg="150 records")
        self.assertEqual(sorted(self.dest.ids()), list(range(150)))

    def test_refusals_keep_nothing(self):
        cases = {
            "bomb": (gzip.compress(b"[" + b" " * (40 << 20) + b"]"), "gzip", 413,
                     "max_decompressed_bytes"),
            "truncated": (gzip.compress(self.body(range(10)))[:-12], "gzip", 400,
                          "ends early"),
            "not gzip": (self.body(range(10)), "gzip", 400, "not valid gzip"),
            "unknown": (self.body(range(10)), "br", 415,
                        "unsupported Content-Encoding"),
            "empty gzip": (b"", "gzip", 400, "not valid gzip"),
        }
        for what, (data, enc, status, msg) in cases.items():
            with self.subTest(what):
                st, js, _ = self.post(data, enc)
                self.assertEqual(st, status, self.sl.last_raw)
                self.assertIn(msg, js["error"])
        self.assertEqual(self.sl.stats("crm")["accepted"], 0)
        self.assertTrue(self.sl.alive())
        self.assertEqual(self.dest.ids(), [])


if __name__ == "__main__":
    unittest.main()
