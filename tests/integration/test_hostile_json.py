"""The defined outcome of each hostile JSON value (issue 5), through the real
intakes: invalid UTF-8, lone surrogates in \\u escapes, raw control
characters, NaN/Infinity, duplicate keys, integers beyond int64, numbers
beyond double, a byte order mark, and deep nesting. Each is checked three
ways — alone in a JSON body (400 for malformed JSON, 422 for a rejected
record, with the exact message), as one NDJSON line among valid ones (only
that line rejected), and as a TCP line (in the reject log) — and only the
valid records reach the destination. Python 3 standard library only."""

import json
import os
import socket
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sluice_it import (SluiceTestCase, connector_lua,  # noqa: E402
                       crm_record, free_port, wait_until)


def rec(i, **over):
    """A valid record's text with some members replaced by raw JSON."""
    r = {k: json.dumps(v) for k, v in crm_record(i).items()}
    r.update(over)
    return ("{" + ",".join('"%s":%s' % (k, v) for k, v in r.items()) +
            "}").encode("latin-1")


# (name, record text, kind, message): kind "syntax" is malformed JSON (a
# JSON body is refused whole), "field" a record rejected naming `field`
CASES = [
    ("invalid UTF-8", rec(1, email=b'"a\xffb"'.decode("latin-1")),
     "syntax", "invalid UTF-8 in string"),
    ("overlong UTF-8", rec(2, email=b'"\xc0\xaf"'.decode("latin-1")),
     "syntax", "invalid UTF-8 in string"),
    ("UTF-8 surrogate", rec(3, email=b'"\xed\xa0\x80"'.decode("latin-1")),
     "syntax", "invalid UTF-8 in string"),
    ("lone high surrogate", rec(4, email='"x\\ud800y"'),
     "syntax", "lone surrogate in \\u escape"),
    ("lone low surrogate", rec(5, email='"\\udc00"'),
     "syntax", "lone surrogate in \\u escape"),
    ("raw control character", rec(6, email='"a\tb"'),
     "syntax", "control character in string"),
    ("NaN", rec(7, amount="NaN"), "syntax", "NaN and Infinity are not JSON"),
    ("Infinity", rec(8, amount="-Infinity"), "syntax",
     "NaN and Infinity are not JSON"),
    ("duplicate key", rec(9)[:-1] + b',"id":9}', ("id",), "duplicate field"),
    ("int64 overflow", rec(10, id="9223372036854775808"), ("id",),
     "integer out of range (64-bit)"),
    ("double overflow", rec(11, amount="1e400"), ("amount",),
     "number out of range"),
    ("nesting", rec(12, extra="[" * 40 + "]" * 40), "syntax",
     "nesting deeper than the depth limit"),
]
# a surrogate pair and escaped text are fine
MIN64 = -9223372036854775808
GOOD = [rec(100, email='"\\ud83d\\ude00 \\u00e9\\n"'), rec(101),
        rec(102, id=str(MIN64), amount="1.7976931348623157e308")]
GOOD_IDS = sorted([100, 101, MIN64])


class HostileJsonTest(SluiceTestCase):

    def setUp(self):
        super().setUp()
        self.dest = self.start_flex_destination()
        self.tport = free_port()
        self.sl = self.start_sluice(
            {"crm": connector_lua("crm", self.dest.url + "/in",
                                  unknown_fields="drop")},
            gateway_extra='  tcp = { { listen = "127.0.0.1:%d", '
                          'connector = "crm" } },' % self.tport)

    def test_json_body_each_alone(self):
        for name, text, kind, msg in CASES:
            with self.subTest(name):
                st, js, _ = self.sl.post("crm", b"[" + text + b"]")
                if kind == "syntax":
                    self.assertEqual(st, 400, self.sl.last_raw)
                    self.assertIn("malformed JSON at byte", js["error"])
                    self.assertIn(msg, js["error"])
                    self.assertIsInstance(js["offset"], int)
                else:
                    self.assertEqual(st, 422, self.sl.last_raw)
                    self.assertEqual(js["rejected"], [
                        {"index": 0, "field": kind[0], "error": msg}])
        # a byte order mark before the body
        st, js, _ = self.sl.post("crm", b"\xef\xbb\xbf[" + GOOD[1] + b"]")
        self.assertEqual(st, 400, self.sl.last_raw)
        self.assertIn("byte order mark", js["error"])
        st, js, _ = self.sl.post("crm", b"[" + b",".join(GOOD) + b"]")
        self.assertEqual(st, 200, self.sl.last_raw)
        wait_until(lambda: sorted(self.dest.ids()) == GOOD_IDS, 10,
                   msg="only the good records")
        self.assertEqual(self.sl.stats("crm")["accepted"], 3)
        got = {r["id"]: r for r in self.dest.records()}
        self.assertEqual(got[100]["email"], "\U0001F600 \u00e9\n")
        self.assertEqual(got[MIN64]["amount"], 1.7976931348623157e308)

    def test_ndjson_lines_and_tcp_lines(self):
        body = b"\n".join([GOOD[0]] + [t for _, t, _, _ in CASES] +
                          [GOOD[1]]) + b"\n"
        st, js, _ = self.sl.post("crm", body, "application/x-ndjson")
        self.assertEqual(st, 200, self.sl.last_raw)
        self.assertEqual(js["accepted"], 2)
        self.assertEqual(len(js["rejected"]), len(CASES))
        for k, (name, _, kind, msg) in enumerate(CASES):
            r = js["rejected"][k]
            self.assertEqual(r["index"], k + 1, name)
            self.assertIn(msg, r["error"], name)
            if kind != "syntax":
                self.assertEqual(r["field"], kind[0], name)
        # the same lines over TCP: the reject log names each
        s = socket.create_connection(("127.0.0.1", self.tport), timeout=10)
        self.addCleanup(s.close)
        s.sendall(b"\n".join([GOOD[2]] + [t for _, t, _, _ in CASES]) + b"\n")
        s.shutdown(socket.SHUT_WR)
        path = os.path.join(self.sl.dir, "var", "crm", "rejects.ndjson")

        def rejects():
            if not os.path.exists(path):
                return []
            with open(path, "rb") as f:
                return [json.loads(l) for l in f.read().splitlines() if l]
        wait_until(lambda: len(rejects()) == len(CASES), 10,
                   msg="every hostile TCP line in the reject log")
        logged = sorted(rejects(), key=lambda r: r["line"])
        for (name, _, _, msg), r in zip(CASES, logged):
            self.assertIn(msg, r["error"], name)
        self.assertEqual([r["line"] for r in logged],
                         list(range(2, len(CASES) + 2)))
        wait_until(lambda: sorted(self.dest.ids()) == GOOD_IDS, 10,
                   msg="only the good records, from both intakes")


if __name__ == "__main__":
    unittest.main()
