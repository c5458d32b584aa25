"""Delivery to the destination: exact bodies, body forms, batching, methods,
headers, keep-alive, retries, a destination that is down at first, and
concurrent intake."""

import json
import math
import os
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sluice_it import (SluiceTestCase, connector_lua, free_port, media_type,  # noqa: E402
                       wait_until, Destination)


def rec(i, amount="1.50"):
    """A valid record as raw JSON text, already compact and in schema order
    (so sluice must deliver exactly these bytes)."""
    return ('{"id":%d,"email":"user%d@example.com","amount":%s,"active":true,'
            '"day":"2024-02-29","at":"2024-03-01T12:00:00Z"}' % (i, i, amount))


def arr(texts):
    return "[" + ",".join(texts) + "]"


# Records written loosely (spaces, other key order, escapes, missing or null
# nullable field) and what sluice must send for each.
LOOSE = [
    ('{ "email" : "a\\u00e9\\"b\\\\c\\/d", "id" : 7, '
     '"at":"2024-03-01T12:00:00+05:30", "day" : "2024-02-29",\n'
     '  "active" : false, "amount" : 1.50 }',
     '{"id":7,"email":"a\\u00e9\\"b\\\\c\\/d","amount":1.50,"active":false,'
     '"day":"2024-02-29","at":"2024-03-01T12:00:00+05:30"}'),
    ('{"at":"2024-12-31T23:59:59.123Z","active":true,"day":"2000-01-01",'
     '"email":"Zo\u00eb \u2603","id":-9223372036854775808}',
     '{"id":-9223372036854775808,"email":"Zo\u00eb \u2603","amount":null,'
     '"active":true,"day":"2000-01-01","at":"2024-12-31T23:59:59.123Z"}'),
    ('{"id":9223372036854775807,"email":"","amount":null,"active":true,'
     '"day":"1999-12-31","at":"1999-12-31T23:59:59-08:00"}',
     '{"id":9223372036854775807,"email":"","amount":null,"active":true,'
     '"day":"1999-12-31","at":"1999-12-31T23:59:59-08:00"}'),
    ('{"amount":-1.25e-3,"id":0,"email":"x","active":false,"day":"2024-01-31",'
     '"at":"2024-01-31T00:00:00Z"}',
     '{"id":0,"email":"x","amount":-1.25e-3,"active":false,"day":"2024-01-31",'
     '"at":"2024-01-31T00:00:00Z"}'),
]


class DeliveryTest(SluiceTestCase):

    def setup_pair(self, dest_kw=None, path="/v1/contacts", name="crm", **conn_kw):
        dest = self.start_destination(**(dest_kw or {}))
        sl = self.start_sluice({name: connector_lua(name, dest.url + path, **conn_kw)})
        return dest, sl

    def post_ok(self, sl, body, name="crm", accepted=None, **kw):
        st, js, _ = sl.post(name, body, **kw)
        self.assertEqual(st, 200, "intake answer %r" % sl.last_raw)
        if accepted is not None:
            self.assertEqual(js["accepted"], accepted, js)
            self.assertEqual(js["rejected"], [], js)
        return js

    def assert_clean(self, req):
        """Content-Length present and right, never chunked."""
        self.assertFalse(req.chunked, "chunked request: %r" % req)
        self.assertTrue(req.has_content_length, "no Content-Length: %r" % req)
        self.assertEqual(int(req.headers["Content-Length"]), len(req.body))

    # ---- body forms, byte-exact --------------------------------------------

    def test_array_body_exact(self):
        dest, sl = self.setup_pair(body="array", batch={"max_delay_ms": 100})
        self.post_ok(sl, "[" + ",\n ".join(i for i, _ in LOOSE) + "]",
                     accepted=len(LOOSE))
        reqs = dest.wait_requests(1)
        sl.wait_drained("crm", len(LOOSE))
        reqs = dest.requests()
        self.assertEqual(len(reqs), 1, reqs)
        r = reqs[0]
        self.assertEqual(r.body, arr(e for _, e in LOOSE).encode())
        self.assertEqual(r.method, "POST")
        self.assertEqual(r.path, "/v1/contacts")
        self.assertEqual(r.content_type, "application/json")
        self.assert_clean(r)

    def test_object_body_exact_one_request_per_record(self):
        dest, sl = self.setup_pair(body="object", concurrency=1)
        self.post_ok(sl, "[" + ",".join(i for i, _ in LOOSE) + "]",
                     accepted=len(LOOSE))
        dest.wait_requests(len(LOOSE))
        sl.wait_drained("crm", len(LOOSE))
        reqs = dest.requests()
        self.assertEqual(len(reqs), len(LOOSE), reqs)
        # concurrency 1: in order
        self.assertEqual([r.body for r in reqs], [e.encode() for _, e in LOOSE])
        for r in reqs:
            self.assertEqual(r.content_type, "application/json")
            self.assert_clean(r)

    def test_object_body_single_object_post(self):
        dest, sl = self.setup_pair(body="object")
        self.post_ok(sl, LOOSE[0][0], accepted=1)
        reqs = dest.wait_requests(1)
        sl.wait_drained("crm", 1)
        self.assertEqual(len(dest.requests()), 1)
        self.assertEqual(reqs[0].body, LOOSE[0][1].encode())

    def test_ndjson_body_exact(self):
        dest, sl = self.setup_pair(body="ndjson", batch={"max_delay_ms": 100})
        self.post_ok(sl, "[" + ",".join(i for i, _ in LOOSE) + "]",
                     accepted=len(LOOSE))
        dest.wait_requests(1)
        sl.wait_drained("crm", len(LOOSE))
        reqs = dest.requests()
        self.assertEqual(len(reqs), 1, reqs)
        r = reqs[0]
        self.assertEqual(r.body, "".join(e + "\n" for _, e in LOOSE).encode())
        self.assertEqual(r.content_type, "application/x-ndjson")
        self.assert_clean(r)

    # ---- batching ------------------------------------------------------------

    def test_batching_by_count(self):
        dest, sl = self.setup_pair(batch={"max_records": 10, "max_delay_ms": 100})
        self.post_ok(sl, arr(rec(i) for i in range(35)), accepted=35)
        dest.wait_records(35)
        sl.wait_drained("crm", 35)
        reqs = dest.requests()
        sizes = [len(r.raw_records()) for r in reqs]
        self.assertEqual(sorted(sizes), [5, 10, 10, 10], sizes)
        ids = sorted(x["id"] for x in dest.records())
        self.assertEqual(ids, list(range(35)))
        got = sorted(dest.raw_records(), key=lambda b: json.loads(b)["id"])
        self.assertEqual(got, [rec(i).encode() for i in range(35)])

    def test_batching_by_bytes(self):
        max_bytes = 2048  # sluice's floor for max_bytes is 1024
        dest, sl = self.setup_pair(batch={"max_records": 1000,
                                          "max_bytes": max_bytes,
                                          "max_delay_ms": 50})
        n = 100  # ~13 KB of records
        texts = [rec(i) for i in range(n)]
        self.post_ok(sl, arr(texts), accepted=n)
        dest.wait_records(n)
        sl.wait_drained("crm", n)
        reqs = dest.requests()
        for r in reqs:
            self.assertLessEqual(len(r.body), max_bytes,
                                 "request body over max_bytes: %r" % r)
        total = sum(len(t) for t in texts)
        self.assertGreaterEqual(len(reqs), math.ceil(total / max_bytes))
        self.assertTrue(any(len(r.raw_records()) > 1 for r in reqs),
                        "every request carries a single record: %r" % reqs)
        self.assertEqual(sorted(x["id"] for x in dest.records()), list(range(n)))

    def test_batching_by_delay(self):
        dest, sl = self.setup_pair(batch={"max_records": 1000, "max_delay_ms": 300})
        t0 = time.monotonic()
        for i in range(3):
            self.post_ok(sl, rec(i), accepted=1)
        posted = time.monotonic() - t0
        dest.wait_requests(1, timeout=10)
        sl.wait_drained("crm", 3)
        reqs = dest.requests()
        self.assertEqual(len(reqs), 1,
                         "3 records within max_delay_ms (posted in %.3fs) should "
                         "make one request: %r" % (posted, reqs))
        elapsed = reqs[0].time - t0
        self.assertEqual(reqs[0].records(), [json.loads(rec(i)) for i in range(3)])
        self.assertGreaterEqual(elapsed, 0.2, "batch sent before max_delay_ms")
        self.assertLess(elapsed, 5.0)

    # ---- method, URL, headers, transport -----------------------------------

    def test_method_put_and_patch(self):
        dest = self.start_destination()
        sl = self.start_sluice({
            "put_c": connector_lua("put_c", dest.url + "/things/put", method="PUT"),
            "patch_c": connector_lua("patch_c", dest.url + "/things/patch?x=1",
                                     method="PATCH"),
            "post_c": connector_lua("post_c", dest.url + "/things/post",
                                    method="POST"),
        })
        for name in ("put_c", "patch_c", "post_c"):
            self.post_ok(sl, rec(1), name=name, accepted=1)
        dest.wait_requests(3)
        by_path = {r.path: r for r in dest.requests()}
        self.assertEqual(set(by_path), {"/things/put", "/things/patch?x=1",
                                        "/things/post"})
        self.assertEqual(by_path["/things/put"].method, "PUT")
        self.assertEqual(by_path["/things/patch?x=1"].method, "PATCH")
        self.assertEqual(by_path["/things/post"].method, "POST")
        for r in by_path.values():
            self.assertEqual(r.body, arr([rec(1)]).encode())
            self.assert_clean(r)

    def test_static_headers_and_content_type(self):
        dest, sl = self.setup_pair(headers={"X-Source": "sluice",
                                            "Authorization": "Bearer abc",
                                            "X-Tenant-Id": "t-42"})
        self.post_ok(sl, rec(1), accepted=1)
        r = dest.wait_requests(1)[0]
        self.assertEqual(r.headers.get("X-Source"), "sluice")
        self.assertEqual(r.headers.get("Authorization"), "Bearer abc")
        self.assertEqual(r.headers.get("x-tenant-id"), "t-42")
        self.assertEqual(media_type(r.headers.get("Content-Type")),
                         "application/json")
        self.assert_clean(r)

    def test_large_bodies_not_chunked(self):
        dest, sl = self.setup_pair(batch={"max_records": 5000,
                                          "max_bytes": 1048576,
                                          "max_delay_ms": 50})
        n = 3000  # ~400 KB in a few requests
        self.post_ok(sl, arr(rec(i) for i in range(n)), accepted=n)
        dest.wait_records(n, timeout=20)
        for r in dest.requests():
            self.assert_clean(r)
            self.assertLessEqual(len(r.body), 1048576)
        self.assertEqual(sorted(x["id"] for x in dest.records()), list(range(n)))

    def test_keepalive_connection_reuse(self):
        dest, sl = self.setup_pair(body="object", concurrency=2)
        n = 50
        self.post_ok(sl, arr(rec(i) for i in range(n)), accepted=n)
        dest.wait_requests(n, timeout=20)
        sl.wait_drained("crm", n)
        self.assertEqual(len(dest.requests()), n)
        conns = dest.connection_count()
        self.assertLess(conns, n / 2,
                        "%d requests used %d connections (no keep-alive?)"
                        % (n, conns))
        self.assertEqual(sorted(x["id"] for x in dest.records()), list(range(n)))

    # ---- retries ---------------------------------------------------------------

    def test_retry_after_500s_delivers_every_record_with_identical_bodies(self):
        dest, sl = self.setup_pair(dest_kw={"script": [500] * 5},
                                   batch={"max_records": 5, "max_delay_ms": 30},
                                   concurrency=1,
                                   retry={"base_ms": 20, "max_ms": 200})
        n = 12
        self.post_ok(sl, arr(rec(i) for i in range(n)), accepted=n)
        dest.wait_records(n, timeout=20)
        stats = sl.wait_drained("crm", n)
        reqs = dest.requests()
        ok = [r for r in reqs if r.ok]
        failed = [r for r in reqs if not r.ok]
        self.assertEqual(len(failed), 5, reqs)
        # every record arrives exactly once (2xx answers are never retried)
        got = sorted(dest.raw_records(), key=lambda b: json.loads(b)["id"])
        self.assertEqual(got, [rec(i).encode() for i in range(n)])
        # a retried batch has the very same body bytes
        ok_bodies = [r.body for r in ok]
        for r in failed:
            self.assertIn(r.body, ok_bodies,
                          "failed batch %r was not retried byte-identical" % r)
        self.assertEqual(len(set(ok_bodies)), len(ok_bodies))
        for r in ok:
            ids = [x["id"] for x in r.records()]
            self.assertEqual(r.body, arr(rec(i) for i in ids).encode())
        self.assertEqual(stats["accepted"], n)
        self.assertEqual(stats["requests"], len(reqs))
        self.assertEqual(stats["failures"], 5)
        self.assertGreaterEqual(stats["retries"], 1)

    def test_destination_down_then_up(self):
        port = free_port()  # nothing listens there yet
        sl = self.start_sluice({"crm": connector_lua(
            "crm", "http://127.0.0.1:%d/in" % port, concurrency=2,
            batch={"max_records": 4, "max_delay_ms": 30},
            retry={"base_ms": 50, "max_ms": 300})})
        n = 10
        self.post_ok(sl, arr(rec(i) for i in range(n)), accepted=n)
        # sluice tries, fails (connection refused) and keeps the records
        wait_until(lambda: sl.stats("crm")["failures"] >= 1, 10,
                   msg="a failed delivery attempt while the destination is down")
        st = sl.stats("crm")
        self.assertEqual(st["delivered"], 0, st)
        dest = Destination(port=port).start()
        self.addCleanup(self._finish_destination, dest)
        dest.wait_records(n, timeout=15)
        sl.wait_drained("crm", n)
        got = sorted(dest.raw_records(), key=lambda b: json.loads(b)["id"])
        self.assertEqual(got, [rec(i).encode() for i in range(n)])

    # ---- concurrent intake -------------------------------------------------------

    def test_concurrent_posts_all_arrive(self):
        dest, sl = self.setup_pair(batch={"max_records": 37, "max_delay_ms": 30})
        threads, per_thread, per_post = 8, 5, 5
        errors = []

        def worker(t):
            try:
                for p in range(per_thread):
                    base = (t * per_thread + p) * per_post
                    st, js, _ = sl.post("crm", arr(rec(base + k)
                                                   for k in range(per_post)))
                    if st != 200 or js.get("accepted") != per_post:
                        errors.append((st, js))
            except Exception as e:  # reported below
                errors.append(repr(e))

        ts = [threading.Thread(target=worker, args=(t,)) for t in range(threads)]
        for t in ts:
            t.start()
        for t in ts:
            t.join(60)
        self.assertEqual(errors, [])
        n = threads * per_thread * per_post
        dest.wait_records(n, timeout=20)
        stats = sl.wait_drained("crm", n)
        self.assertEqual(stats["accepted"], n)
        self.assertEqual(stats["delivered"], stats["accepted"])
        self.assertEqual(stats["queued"], 0)
        got = sorted(dest.raw_records(), key=lambda b: json.loads(b)["id"])
        self.assertEqual(got, [rec(i).encode() for i in range(n)])


if __name__ == "__main__":
    unittest.main(verbosity=2)
