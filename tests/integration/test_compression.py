"""Compressed request bodies (`compression = "gzip"`), through the real
binary: the destination inflates what it gets with Python's gzip module
(as a server would, independently of sluice) and compares it with what a
connector without compression sends, byte for byte; Content-Length is the
compressed size, retries send the very same compressed bytes, a 413 split
sends halves compressed on their own, headers_fn sees both bodies, and
every configuration error that compression adds is reported by
`sluice check`. (test_gzip.py is about the intake taking gzip bodies.)"""

import gzip
import hashlib
import hmac
import json
import os
import sys
import time
import unittest
import zlib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sluice_it import (SluiceTestCase, LuaRaw, connector_lua,  # noqa: E402
                       lua_str, wait_until)

SECRET = "whsec-compression-test"


def rec(i):
    """A valid record as compact JSON text in schema order (sluice sends
    exactly these bytes)."""
    return ('{"id":%d,"email":"user%d@example.com","amount":%d.25,'
            '"active":%s,"day":"2024-02-29","at":"2024-03-01T12:00:00Z"}'
            % (i, i, i % 1000, "true" if i % 2 else "false"))


def arr(texts):
    return "[" + ",".join(texts) + "]"


def one_member(body):
    """The bytes of a body that must be exactly one gzip member: inflated
    with Python's gzip module, and checked with zlib to hold nothing after
    the member."""
    d = zlib.decompressobj(16 + zlib.MAX_WBITS)
    out = d.decompress(body) + d.flush()
    if not d.eof or d.unused_data:
        raise AssertionError("not exactly one gzip member: eof=%s, %d bytes "
                             "after it" % (d.eof, len(d.unused_data)))
    assert gzip.decompress(body) == out
    return out


def gzip_aware(status_of=None):
    """A destination answer function that behaves like a server taking
    Content-Encoding: gzip: a body labelled gzip that does not inflate gets
    400. `status_of(index, request, inflated)` picks the status otherwise
    (default 200)."""
    def answer(i, req):
        body = req.body
        if (req.headers.get("Content-Encoding") or "").lower() == "gzip":
            try:
                body = one_member(req.body)
            except (OSError, EOFError, zlib.error, AssertionError):
                return 400
        return status_of(i, req, body) if status_of else 200
    return answer


class CompressionTest(SluiceTestCase):

    def post_ok(self, sl, name, body, accepted):
        st, js, _ = sl.post(name, body)
        self.assertEqual(st, 200, "intake answer %r" % sl.last_raw)
        self.assertEqual(js["accepted"], accepted, js)

    def assert_gzip_request(self, r):
        """Content-Encoding gzip, Content-Length the compressed bytes, not
        chunked; returns the inflated body."""
        self.assertEqual(r.headers.get("Content-Encoding"), "gzip", r)
        self.assertFalse(r.chunked, r)
        self.assertTrue(r.has_content_length, r)
        self.assertEqual(int(r.headers["Content-Length"]), len(r.body))
        self.assertEqual(r.body[:3], b"\x1f\x8b\x08")
        return one_member(r.body)

    # ---- the same bytes as without compression ---------------------------

    def test_inflated_body_is_what_an_uncompressed_connector_sends(self):
        dest = self.start_destination(func=gzip_aware())
        conns = {}
        for form in ("array", "ndjson", "object"):
            for comp in ("none", "gzip"):
                name = "%s_%s" % (form, comp)
                extra = {"compression": comp} if comp == "gzip" else {}
                if comp == "gzip" and form == "ndjson":
                    extra["compression_level"] = 1
                if comp == "gzip" and form == "object":
                    extra["compression_level"] = 9
                conns[name] = connector_lua(
                    name, dest.url + "/" + name, body=form, concurrency=1,
                    batch={"max_records": 50, "max_delay_ms": 100},
                    extra=extra)
        sl = self.start_sluice(conns)
        n = 40
        body = arr(rec(i) for i in range(n))
        for name in conns:
            self.post_ok(sl, name, body, n)
        for name in conns:
            sl.wait_drained(name, n)
        by_path = {}
        for r in dest.requests():
            self.assertTrue(r.ok, r)
            by_path.setdefault(r.path.strip("/"), []).append(r)
        for form in ("array", "ndjson", "object"):
            plain = by_path["%s_none" % form]
            zipped = by_path["%s_gzip" % form]
            self.assertEqual(len(plain), len(zipped), form)
            for p, z in zip(plain, zipped):
                self.assertNotIn("Content-Encoding", p.headers)
                self.assertEqual(self.assert_gzip_request(z), p.body, form)
                self.assertEqual(z.headers.get("Content-Type"),
                                 p.headers.get("Content-Type"))
            if form == "array":
                self.assertEqual(one_member(zipped[0].body), body.encode())
                self.assertLess(len(zipped[0].body), len(body) // 3)
            self.assertEqual(len(plain), n if form == "object" else 1, form)

    def test_large_body(self):
        dest = self.start_destination(func=gzip_aware())
        sl = self.start_sluice({"big": connector_lua(
            "big", dest.url + "/big", concurrency=1,
            batch={"max_records": 20000, "max_bytes": 4 << 20,
                   "max_delay_ms": 300},
            extra={"compression": "gzip"})})
        n = 12000  # ~1.4 MiB of records, one body
        body = arr(rec(i) for i in range(n))
        self.post_ok(sl, "big", body, n)
        sl.wait_drained("big", n, timeout=30)
        reqs = dest.requests()
        self.assertEqual(len(reqs), 1, reqs)
        self.assertEqual(self.assert_gzip_request(reqs[0]), body.encode())
        sys.stderr.write("\n[compression] %d body bytes sent as %d\n"
                         % (len(body), len(reqs[0].body)))

    def test_per_record_urls(self):
        # object form with {id} in the URL: each record's body compressed
        # on its own, sent to its own URL
        dest = self.start_destination(func=gzip_aware())
        sl = self.start_sluice({"users": connector_lua(
            "users", dest.url + "/v1/users/{id}", body="object",
            concurrency=1, extra={"compression": "gzip"})})
        self.post_ok(sl, "users", arr(rec(i) for i in range(3)), 3)
        sl.wait_drained("users", 3)
        reqs = dest.requests()
        self.assertEqual(sorted(r.path for r in reqs),
                         ["/v1/users/0", "/v1/users/1", "/v1/users/2"])
        for r in reqs:
            i = int(r.path.rsplit("/", 1)[1])
            self.assertEqual(self.assert_gzip_request(r), rec(i).encode())

    # ---- retries and splits ---------------------------------------------

    def test_retries_send_the_same_compressed_bytes(self):
        dest = self.start_destination(
            func=gzip_aware(lambda i, r, b: 503 if i < 2 else 200))
        sl = self.start_sluice({"crm": connector_lua(
            "crm", dest.url + "/in", concurrency=1,
            batch={"max_records": 10, "max_delay_ms": 50},
            extra={"compression": "gzip", "compression_level": 9})})
        self.post_ok(sl, "crm", arr(rec(i) for i in range(10)), 10)
        stats = sl.wait_drained("crm", 10)
        reqs = dest.requests()
        self.assertEqual([r.status for r in reqs], [503, 503, 200], reqs)
        self.assertEqual(len({r.body for r in reqs}), 1,
                         "a retry sent other bytes")
        self.assertEqual(len({r.headers.get("Idempotency-Key")
                              for r in reqs}), 1)
        self.assertEqual(self.assert_gzip_request(reqs[2]),
                         arr(rec(i) for i in range(10)).encode())
        self.assertEqual(stats["retries"], 2)

    def test_413_split_sends_halves_compressed_on_their_own(self):
        def status(i, r, inflated):
            return 413 if inflated.count(b'"id"') > 3 else 200
        dest = self.start_destination(func=gzip_aware(status))
        sl = self.start_sluice({"crm": connector_lua(
            "crm", dest.url + "/in", concurrency=1,
            batch={"max_records": 6, "max_delay_ms": 50},
            extra={"compression": "gzip"})})
        self.post_ok(sl, "crm", arr(rec(i) for i in range(6)), 6)
        stats = sl.wait_drained("crm", 6)
        reqs = dest.requests()
        self.assertEqual([r.status for r in reqs], [413, 200, 200], reqs)
        inflated = [self.assert_gzip_request(r) for r in reqs]
        self.assertEqual(inflated, [arr(rec(i) for i in range(6)).encode(),
                                    arr(rec(i) for i in range(3)).encode(),
                                    arr(rec(i) for i in range(3, 6)).encode()])
        # each half is its own member, not a piece of the whole's
        self.assertNotEqual(reqs[1].body, reqs[2].body)
        for half in reqs[1:]:
            self.assertNotIn(half.body[10:-8], reqs[0].body)
        self.assertEqual(stats["splits"], 1)

    def test_templates_are_compressed_after_wrapping(self):
        # the final body (templates applied) is what is compressed; a 413
        # half is wrapped again and compressed on its own; headers_fn's
        # req.body is that final body before compression
        def status(i, r, inflated):
            if r.headers.get("X-Body-Sha256") != \
                    hashlib.sha256(inflated).hexdigest():
                return 400
            return 413 if inflated.count(b'"properties"') > 2 else 200
        dest = self.start_destination(func=gzip_aware(status))
        hfn = ('function(req) return { ["X-Body-Sha256"] = '
               'sluice.hex(sluice.sha256(req.body)) } end')
        sl = self.start_sluice({"hub": connector_lua(
            "hub", dest.url + "/batch", concurrency=1,
            body={"template": '{ "inputs" : $records, "n": $count }',
                  "record_template": '{ "properties" : $record }'},
            batch={"max_records": 4, "max_delay_ms": 50},
            extra={"compression": "gzip", "headers_fn": LuaRaw(hfn)})})
        self.post_ok(sl, "hub", arr(rec(i) for i in range(4)), 4)
        sl.wait_drained("hub", 4)
        reqs = dest.requests()
        self.assertEqual([r.status for r in reqs], [413, 200, 200], reqs)

        def wrapped(ids):
            return ('{"inputs":[%s],"n":%d}' % (",".join(
                '{"properties":%s}' % rec(i) for i in ids), len(ids))).encode()
        self.assertEqual([self.assert_gzip_request(r) for r in reqs],
                         [wrapped([0, 1, 2, 3]), wrapped([0, 1]),
                          wrapped([2, 3])])

    # ---- headers_fn ----------------------------------------------------------

    def test_headers_fn_sees_body_and_compressed_body(self):
        hfn = """function(req)
    return {
      ["X-Sig"] = sluice.hex(sluice.hmac_sha256(%(s)s,
                                                req.compressed_body or "")),
      ["X-Body-Sig"] = sluice.hex(sluice.hmac_sha256(%(s)s, req.body)),
      ["X-Has-Compressed"] = tostring(req.compressed_body ~= nil),
    }
  end""" % {"s": lua_str(SECRET)}

        def sig(data):
            return hmac.new(SECRET.encode(), data, hashlib.sha256).hexdigest()

        def status(i, r, inflated):
            # the destination checks the signature over the bytes it got
            if r.headers.get("Content-Encoding") == "gzip" and \
                    r.headers.get("X-Sig") != sig(r.body):
                return 401
            return 200 if r.headers.get("X-Body-Sig") == sig(inflated) else 400
        dest = self.start_destination(func=gzip_aware(status))
        sl = self.start_sluice({
            "zipped": connector_lua("zipped", dest.url + "/zipped",
                                    extra={"compression": "gzip",
                                           "headers_fn": LuaRaw(hfn)}),
            "plain": connector_lua("plain", dest.url + "/plain",
                                   extra={"headers_fn": LuaRaw(hfn)})})
        body = arr(rec(i) for i in range(5))
        self.post_ok(sl, "zipped", body, 5)
        self.post_ok(sl, "plain", body, 5)
        sl.wait_drained("zipped", 5)
        sl.wait_drained("plain", 5)
        reqs = {r.path: r for r in dest.requests()}
        self.assertEqual(len(dest.requests()), 2, dest.summary())
        z, p = reqs["/zipped"], reqs["/plain"]
        self.assertEqual(z.status, 200)
        self.assertEqual(z.headers.get("X-Has-Compressed"), "true")
        self.assertEqual(z.headers.get("X-Sig"), sig(z.body))
        self.assertEqual(z.headers.get("X-Body-Sig"), sig(body.encode()))
        self.assertEqual(self.assert_gzip_request(z), body.encode())
        self.assertEqual(p.headers.get("X-Has-Compressed"), "false")
        self.assertEqual(p.body, body.encode())

    def test_headers_fn_cannot_set_content_encoding(self):
        hfn = 'function(req) return { ["Content-Encoding"] = "br" } end'
        dest = self.start_destination()
        sl = self.start_sluice({
            "zipped": connector_lua("zipped", dest.url + "/zipped",
                                    concurrency=1,
                                    extra={"compression": "gzip",
                                           "headers_fn": LuaRaw(hfn)}),
            "plain": connector_lua("plain", dest.url + "/plain",
                                   concurrency=1,
                                   extra={"headers_fn": LuaRaw(hfn)})})
        self.post_ok(sl, "zipped", [json.loads(rec(1))], 1)
        self.post_ok(sl, "plain", [json.loads(rec(2))], 1)

        def logged():
            with open(sl.stderr_path, "rb") as f:
                text = f.read().decode("utf-8", "replace")
            return ('headers_fn: header \\"Content-Encoding\\" is set by '
                    'sluice (compression)' in text and
                    'headers_fn: header \\"Content-Encoding\\" would not '
                    'describe the body, which sluice sends uncompressed '
                    '(use compression = \\"gzip\\")' in text)
        wait_until(logged, 10, msg="both refusals logged")
        time.sleep(0.2)
        self.assertEqual(dest.requests(), [], "a request was sent")
        for name in ("zipped", "plain"):
            s = sl.stats(name)
            self.assertEqual(s["delivered"], 0)
            self.assertGreaterEqual(s["failures"], 1)
            self.assertEqual(s["requests"], 0)

    # ---- configuration errors ------------------------------------------------

    def check_errors(self, extra, headers=None):
        """`sluice check` of a connector with these keys -> (rc, stdout,
        stderr, the connector file's lines)."""
        sl = self.make_sluice({"crm": connector_lua(
            "crm", "http://127.0.0.1:9/in", headers=headers, extra=extra)})
        rc, out, err = sl.check()
        with open(sl.connector_path("crm")) as f:
            lines = f.read().splitlines()
        return rc, out, err, lines

    def test_check_prints_compression(self):
        rc, out, err, _ = self.check_errors({"compression": "GZIP",
                                             "compression_level": 3})
        self.assertEqual(rc, 0, err)
        self.assertIn("compression     gzip, level 3 (Content-Encoding: gzip)",
                      out)
        rc, out, err, _ = self.check_errors({})
        self.assertEqual(rc, 0, err)
        self.assertNotIn("compression", out)

    def test_config_errors(self):
        # (keys, static headers, the key whose line the message names, the
        # message after "crm.lua:<line>: ")
        cases = [
            ({"compression": "zip"}, None, "compression",
             'compression: invalid value "zip" (did you mean "gzip"? valid: '
             'none, gzip)'),
            ({"compression": "gzip", "compression_level": 10}, None,
             "compression_level",
             "compression_level: 10 is out of range (1..9)"),
            ({"compression": "gzip", "compression_level": 0}, None,
             "compression_level",
             "compression_level: 0 is out of range (1..9)"),
            ({"compression": "gzip", "compression_level": 2.5}, None,
             "compression_level",
             "compression_level: expected an integer, got number 2.5"),
            ({"compression": "gzip", "compression_level": "6"}, None,
             "compression_level",
             'compression_level: expected an integer, got string "6"'),
            ({"compression_level": 6}, None, "compression_level",
             'compression_level: set, but compression is "none"; add '
             'compression = "gzip" or remove it'),
            ({"compression": "gzip"}, {"Content-Encoding": "gzip"}, "headers",
             'headers["Content-Encoding"]: compression sets it '
             '(Content-Encoding: gzip); remove it'),
            ({}, {"content-encoding": "gzip"}, "headers",
             'headers["content-encoding"]: sluice sends the body '
             'uncompressed, so this header would not describe it; remove it, '
             'or set compression = "gzip" to send gzip bodies'),
            ({"idempotency_header": "Content-Encoding"}, None,
             "idempotency_header",
             'idempotency_header: "Content-Encoding" says how the body is '
             'encoded; it cannot carry the batch key'),
        ]
        for extra, headers, key, want in cases:
            with self.subTest(extra=extra, headers=headers):
                rc, out, err, src = self.check_errors(extra, headers)
                self.assertNotEqual(rc, 0, out)
                line = 1 + next(i for i, l in enumerate(src)
                                if l.startswith("  %s = " % key))
                lines = [l for l in err.splitlines() if "crm.lua:" in l]
                self.assertEqual(len(lines), 1, err)
                self.assertTrue(lines[0].endswith("/crm.lua:%d: %s"
                                                  % (line, want)),
                                "got  %r\nwant ...crm.lua:%d: %s"
                                % (lines[0], line, want))


if __name__ == "__main__":
    unittest.main(verbosity=2)
