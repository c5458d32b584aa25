"""Per-record limits (connector key `limits`): limits.record_bytes,
string_bytes, fields, depth and records_per_request, over HTTP (JSON array,
single object, NDJSON) and over TCP listeners (reject log, acks), with small
configured limits and with the defaults. Every limit is probed at exactly
its value (accepted) and one byte / member / level / record past it
(rejected with the exact message); every assertion is on the answer a
client got, the reject log, or the exact bytes that reached the
destination. Python 3 standard library only."""

import json
import os
import socket
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sluice_it import (SluiceTestCase, connector_lua, free_port,  # noqa: E402
                       media_type, wait_until)

SCHEMA = [
    {"name": "id", "type": "integer"},
    {"name": "name", "type": "string"},
    {"name": "tag", "type": "string", "nullable": True},
]

SMALL = {"record_bytes": 300, "string_bytes": 40, "fields": 6, "depth": 3,
         "records_per_request": 10}

NDJSON = "application/x-ndjson"


def rec(i, name=None, tag=None, extra=b""):
    """The JSON text (bytes) of a record: id, name (a raw JSON string body,
    quoted here), tag (likewise, left out when None), then `extra` (raw
    member text, each starting with a comma)."""
    if name is None:
        name = b"r%d" % i
    out = b'{"id":%d,"name":"%s"' % (i, name)
    if tag is not None:
        out += b',"tag":"%s"' % tag
    return out + extra + b"}"


def want(i, name=None, tag=None):
    """What the destination must receive for rec(i, name, tag, ...): the
    schema fields only, in schema order, a missing tag as null, string
    values byte for byte as they were sent."""
    if name is None:
        name = b"r%d" % i
    return b'{"id":%d,"name":"%s","tag":%s}' % (
        i, name, b"null" if tag is None else b'"' + tag + b'"')


def padded(i, size):
    """A record of exactly `size` bytes from its '{' to its '}': the
    padding is whitespace inside the object (between two members)."""
    head, tail = b'{"id":%d,' % i, b'"name":"r%d"}' % i
    n = size - len(head) - len(tail)
    assert n >= 0
    return head + b" " * n + tail


def array(elems):
    """A JSON array body with whitespace around (outside) each element,
    which no record size counts."""
    return b"[" + b",".join(b"\n  " + e + b"  \n" for e in elems) + b"]"


def members(i, total):
    """A record of `total` members: id, name, then unknown ones."""
    return rec(i, extra=b"".join(b',"u%d":%d' % (k, k)
                                 for k in range(total - 2)))


def err_rpr(n):
    return {"error": "more than limits.records_per_request (%d) records in "
                     "one request; nothing of this request was accepted" % n}


def rej(index, field, error):
    return {"index": index, "field": field, "error": error}


def msg_record(n, limit):
    return "record is %d bytes, more than limits.record_bytes (%d)" % (n, limit)


def msg_string(n, limit):
    return "string is %d bytes, more than limits.string_bytes (%d)" % (n, limit)


def msg_fields(limit):
    return "more than limits.fields (%d) members" % limit


def msg_deep(off, line=False):
    return "malformed JSON at byte %d%s: nesting deeper than the depth limit" % (
        off, " of the line" if line else "")


class LimitsTest(SluiceTestCase):

    def start(self, name="lim", limits=SMALL, batch=None):
        """A destination and a sluice with one connector `name` (SCHEMA,
        unknown members dropped, `limits` unless None, one request at a
        time so the destination sees the records in intake order)."""
        self.dest = self.start_destination()
        extra = {"limits": limits} if limits is not None else {}
        self.sl = self.start_sluice(
            {name: connector_lua(name, self.dest.url + "/" + name,
                                 schema=SCHEMA, unknown_fields="drop",
                                 concurrency=1, batch=batch, extra=extra)})
        return self.sl

    def post(self, name, body, content_type="application/json"):
        return self.sl.post(name, body, content_type=content_type)

    def assert_answer(self, got, status, js):
        st, ans, h = got
        self.assertEqual(st, status, self.sl.last_raw[:2000])
        self.assertEqual(ans, js, self.sl.last_raw[:2000])
        self.assertEqual(media_type(h.get("Content-Type")), "application/json")

    def delivered(self, name, n):
        """Wait until exactly n records were delivered (stats) -> the raw
        bytes of every record the destination received, in order."""
        self.sl.wait_drained(name, n)
        got = self.dest.raw_records()
        self.assertEqual(len(got), n)
        return got

    # ---- 1. each limit at its value and one past it, over HTTP ------------

    def test_small_limits_at_and_past_each_limit_http(self):
        self.start()
        name40 = b"a" * 36 + b'\\"' + b"bb"      # 40 bytes as written (39 decoded)
        name41 = b"c" * 41
        tag41 = b"d" * 35 + b"\\u00e9"           # 41 as written, 37 decoded
        name_utf8 = "\u00e9".encode() * 20      # 20 characters, 40 bytes
        elems = [
            padded(0, 300),                                      # 0 ok
            padded(1, 301),                                      # 1 record_bytes
            rec(2, name=name40),                                 # 2 ok
            rec(3, name=name41),                                 # 3 string_bytes
            rec(4, tag=tag41),                                   # 4 string_bytes
            b'{"u1":1,"tag":"t","id":5,"u2":"x","name":"r5","u3":[true]}',  # 5: 6 members
            rec(6, tag=b"t", extra=b',"u1":1,"u2":2,"u3":3,"u4":4'),      # 6: 7 members
            rec(7, extra=b',"x":{"a":1},"y":[1,2]'),             # 7 depth 3
            rec(8, extra=b',"note":"' + b"e" * 100 + b'"'),      # 8 dropped: unchecked
            rec(9, name=name_utf8),                              # 9 ok
        ]
        self.assertEqual(len(padded(0, 300)), 300)
        self.assertEqual(len(padded(1, 301)), 301)
        self.assertEqual(len(elems), SMALL["records_per_request"])
        self.assert_answer(self.post("lim", array(elems)), 200, {
            "accepted": 6,
            "rejected": [
                rej(1, "", msg_record(301, 300)),
                rej(3, "name", msg_string(41, 40)),
                rej(4, "tag", msg_string(41, 40)),
                rej(6, "", msg_fields(6)),
            ]})

        # a second request: the first problem in input order wins (a long
        # string before the record's size); a \u escape at exactly 40; and a
        # request of rejections only is a 422
        tag40 = b"f" * 34 + b"\\u00e9"
        over_both = rec(11, name=b"g" * 41, extra=b',"pad":"' + b"p" * 250 + b'"')
        self.assertGreater(len(over_both), 300)
        self.assert_answer(self.post("lim", array([rec(10, tag=tag40), over_both])),
                           200, {"accepted": 1,
                                 "rejected": [rej(1, "name", msg_string(41, 40))]})
        self.assert_answer(
            self.post("lim", array([padded(12, 301), members(13, 7),
                                    rec(14, name=b"h" * 41)])),
            422, {"accepted": 0, "rejected": [
                rej(0, "", msg_record(301, 300)),
                rej(1, "", msg_fields(6)),
                rej(2, "name", msg_string(41, 40))]})

        self.assertEqual(self.delivered("lim", 7), [
            want(0), want(2, name=name40), want(5, tag=b"t"), want(7), want(8),
            want(9, name=name_utf8), want(10, tag=tag40)])
        st = self.sl.stats("lim")
        self.assertEqual((st["accepted"], st["rejected"]), (7, 8), st)

    # ---- 2. records_per_request --------------------------------------------

    def test_records_per_request(self):
        self.start(limits={"records_per_request": 10})
        # exactly 10: fine
        self.assert_answer(self.post("lim", array([rec(i) for i in range(10)])),
                           200, {"accepted": 10, "rejected": []})
        # 11 in a JSON array: 413, nothing taken (valid or not)
        self.assert_answer(self.post("lim", array([rec(100 + i) for i in range(11)])),
                           413, err_rpr(10))
        bad = [rec(200 + i) for i in range(10)] + [b'{"id":"x","name":"y"}']
        self.assert_answer(self.post("lim", array(bad)), 413, err_rpr(10))
        # NDJSON: blank and whitespace-only lines do not count...
        blanks = [b"", b"   ", b"\t", b"\r", b""]
        lines = []
        for i in range(10):
            lines.append(rec(300 + i))
            if i < len(blanks):
                lines.append(blanks[i])
        body = b"\n".join(lines) + b"\n\n"
        self.assert_answer(self.post("lim", body, NDJSON), 200,
                           {"accepted": 10, "rejected": []})
        # ...non-blank ones do, malformed or not
        lines.append(rec(310))
        self.assert_answer(self.post("lim", b"\n".join(lines) + b"\n", NDJSON),
                           413, err_rpr(10))
        lines[-1] = b"{not json"
        self.assert_answer(self.post("lim", b"\n".join(lines), NDJSON),
                           413, err_rpr(10))
        # a later valid request is delivered: the refused ones never were
        self.assert_answer(self.post("lim", rec(999)), 200,
                           {"accepted": 1, "rejected": []})
        got = self.delivered("lim", 21)
        self.assertEqual(got, [want(i) for i in range(10)]
                         + [want(300 + i) for i in range(10)] + [want(999)])
        st = self.sl.stats("lim")
        self.assertEqual((st["accepted"], st["rejected"]), (21, 0), st)

    # ---- 3. depth -----------------------------------------------------------

    def test_depth(self):
        self.start(limits={"depth": 3})
        # the body's array is a level: record 2 is 4 deep, the body is refused
        body = b'[{"id":1,"name":"a"},{"id":2,"name":"b","x":[[1]]}]'
        off = body.index(b"[[1]]") + 1
        self.assert_answer(self.post("lim", body), 400,
                           {"error": msg_deep(off), "offset": off})
        # objects count the same as arrays
        body = b'[{"id":1,"name":"a","x":{"y":{"z":1}}}]'
        off = body.index(b'{"z"')
        self.assert_answer(self.post("lim", body), 400,
                           {"error": msg_deep(off), "offset": off})
        # 3 levels in an array body, and in a single-object body (no array)
        self.assert_answer(self.post("lim", b'[{"id":3,"name":"c","x":[1]}]'), 200,
                           {"accepted": 1, "rejected": []})
        self.assert_answer(self.post("lim", b'{"id":4,"name":"d","x":[[1]]}'), 200,
                           {"accepted": 1, "rejected": []})
        body = b'{"id":5,"name":"e","x":[[[1]]]}'
        off = body.index(b"[[[") + 2
        self.assert_answer(self.post("lim", body), 400,
                           {"error": msg_deep(off), "offset": off})
        # NDJSON: the too-deep line alone is rejected
        deep = b'{"id":8,"name":"h","x":[[[1]]]}'
        lines = [rec(6), b'{"id":7,"name":"g","x":[[1]]}', deep, rec(9)]
        self.assert_answer(self.post("lim", b"\n".join(lines) + b"\n", NDJSON),
                           200, {"accepted": 3, "rejected": [
                               rej(2, "", msg_deep(deep.index(b"[[[") + 2, line=True))]})
        self.assert_answer(self.post("lim", rec(999)), 200,
                           {"accepted": 1, "rejected": []})
        self.assertEqual(self.delivered("lim", 6),
                         [want(3, name=b"c"), want(4, name=b"d"), want(6),
                          want(7, name=b"g"), want(9), want(999)])

    # ---- 4. TCP listeners ---------------------------------------------------

    def rejects(self, name):
        path = os.path.join(self.sl.dir, "var", name, "rejects.ndjson")
        if not os.path.exists(path):
            return []
        with open(path, "rb") as f:
            return [json.loads(x) for x in f.read().splitlines() if x]

    def test_tcp_listeners(self):
        self.dest = self.start_destination()
        plain, acked = free_port(), free_port()
        self.sl = self.start_sluice(
            {n: connector_lua(n, self.dest.url + "/" + n, schema=SCHEMA,
                              unknown_fields="drop", concurrency=1,
                              extra={"limits": SMALL})
             for n in ("tl", "ta")},
            gateway_extra='  tcp = { { listen = "127.0.0.1:%d", connector = "tl" },'
            ' { listen = "127.0.0.1:%d", connector = "ta", ack = true } },'
            % (plain, acked))
        deep = b'{"id":5,"name":"h","x":[[[[1]]]]}'
        bad = {  # line number -> (line, field, error)
            2: (padded(2, 301), "", msg_record(301, 300)),
            3: (rec(3, name=b"c" * 41), "name", msg_string(41, 40)),
            4: (members(4, 7), "", msg_fields(6)),
            5: (deep, "", msg_deep(deep.index(b"[[[[") + 2, line=True)),
        }
        head = [rec(1), bad[2][0], bad[3][0], bad[4][0], bad[5][0],
                b'{"id":6,"name":"r6","x":[[1]]}', padded(7, 300),
                members(8, 6)]
        tail = [rec(100 + i) for i in range(25)]  # far more than 10 per connection
        good = ([want(1), want(6), want(7), want(8)]
                + [want(100 + i) for i in range(25)])

        # the listener without acks; a blank line counts as a line
        s = socket.create_connection(("127.0.0.1", plain), timeout=10)
        self.addCleanup(s.close)
        s.sendall(b"\n".join(head[:5] + [b"   "] + head[5:] + tail) + b"\n")
        s.shutdown(socket.SHUT_WR)
        wait_until(lambda: len(self.rejects("tl")) >= 4, 10, msg="4 rejects of tl")
        rl = self.rejects("tl")
        self.assertEqual([(r["line"], r["text"], r["field"], r["error"]) for r in rl],
                         [(n, bad[n][0].decode(), bad[n][1], bad[n][2])
                          for n in (2, 3, 4, 5)])
        for r in rl:
            self.assertTrue(r["peer"].startswith("127.0.0.1:"), r)

        # the listener with acks: one answer per line, in order
        a = socket.create_connection(("127.0.0.1", acked), timeout=10)
        self.addCleanup(a.close)
        a.sendall(b"".join(x + b"\n" for x in head + tail))
        a.shutdown(socket.SHUT_WR)
        f = a.makefile("rb")
        answers = [f.readline() for _ in range(len(head) + len(tail))]
        self.assertEqual(f.readline(), b"")  # then the close
        for n, ans in enumerate(answers, 1):
            if n in bad:
                self.assertTrue(ans.startswith(b"error {") and ans.endswith(b"\n"),
                                (n, ans))
                self.assertEqual(json.loads(ans[6:]),
                                 {"line": n, "field": bad[n][1], "error": bad[n][2]})
            else:
                self.assertEqual(ans, b"ok\n", n)
        self.assertEqual([(r["line"], r["field"], r["error"]) for r in self.rejects("ta")],
                         [(n, bad[n][1], bad[n][2]) for n in (2, 3, 4, 5)])

        for n in ("tl", "ta"):
            self.sl.wait_drained(n, len(good))
            st = self.sl.stats(n)
            self.assertEqual((st["accepted"], st["rejected"]), (29, 4), (n, st))
        for n in ("tl", "ta"):
            got = []
            for r in self.dest.requests(ok_only=True):
                if r.path == "/" + n:
                    got.extend(r.raw_records())
            self.assertEqual(got, good, n)

    # ---- 5. the defaults ---------------------------------------------------

    def test_defaults(self):
        self.start(limits=None,
                   batch={"max_records": 100000, "max_bytes": 8 << 20})
        kib = 1024
        big = b"b" * (200 * kib)
        at = b"c" * (256 * kib)
        pad = 1048576 - len(rec(6, extra=b',"pad":""'))
        elems = [
            rec(0, name=b"a" * (300 * kib)),                     # 0 string_bytes
            rec(1, name=big),                                    # 1 ok: 200 KiB
            rec(2, name=at),                                     # 2 ok: 262144
            rec(3, name=b"d" * (256 * kib + 1)),                 # 3 string_bytes
            members(4, 1025),                                    # 4 fields
            members(5, 1024),                                    # 5 ok
            rec(6, extra=b',"pad":"' + b"p" * pad + b'"'),       # 6 ok: 1 MiB
            rec(7, extra=b',"pad":"' + b"p" * (pad + 1) + b'"'),  # 7 record_bytes
        ]
        self.assertEqual(len(elems[6]), 1048576)
        self.assert_answer(self.post("lim", array(elems)), 200, {
            "accepted": 4,
            "rejected": [
                rej(0, "name", "string is 307200 bytes, more than "
                               "limits.string_bytes (262144)"),
                rej(3, "name", msg_string(262145, 262144)),
                rej(4, "", msg_fields(1024)),
                rej(7, "", msg_record(1048577, 1048576)),
            ]})
        # depth 32, the body's array included
        def nested(i, levels):
            return rec(i, extra=b',"x":' + b"[" * levels + b"1" + b"]" * levels)
        ok = array([nested(8, 30)])
        self.assert_answer(self.post("lim", ok), 200, {"accepted": 1, "rejected": []})
        body = array([nested(9, 31)])
        off = body.index(b"[1]")
        self.assert_answer(self.post("lim", body), 400,
                           {"error": msg_deep(off), "offset": off})
        # 100000 records per request; one more is 413
        many = [b'{"id":%d,"name":""}' % i for i in range(1000, 101001)]
        self.assert_answer(self.post("lim", b"[" + b",".join(many) + b"]"),
                           413, err_rpr(100000))
        self.assert_answer(self.post("lim", b"[" + b",".join(many[:-1]) + b"]"),
                           200, {"accepted": 100000, "rejected": []})

        got = self.delivered("lim", 5 + 100000)
        self.assertEqual(got[:5], [want(1, name=big), want(2, name=at), want(5),
                                   want(6), want(8)])
        self.assertEqual(got[5:], [b'{"id":%d,"name":"","tag":null}' % i
                                   for i in range(1000, 101000)])


if __name__ == "__main__":
    unittest.main()
