"""`sluice preview CONNECTOR FILE` (issue 15, item 2): the requests the
first records of a file would make, byte for byte what the destination
then receives when the same records are sent, while the destination
receives nothing during the preview; headers_fn runs with req.preview =
true, its sluice.http.request made (or refused with --no-network);
rejections listed with their lines; -n, standard input, usage errors.

The byte-identity cases run the preview while a gateway holds the
connector's state directory (so the preview needs neither its lock nor
its spool), then post the same file to that gateway's intake, with
batch settings that cut the same batches, and compare every request."""

import gzip
import json
import os
import re
import subprocess
import sys
import threading
import unittest
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sluice_it import (SOURCE_DIR, LuaRaw, SluiceTestCase,  # noqa: E402
                       connector_lua, lua_str, sluice_bin)

SECRET = "Bearer pr3view-s3cret"
SIGN_KEY = "k3y-for-hmac"

SCHEMA = [{"name": "id", "type": "integer"},
          {"name": "email", "type": "string"},
          {"name": "tier", "type": "string", "nullable": True}]

# lower-cases the email, drops id 13, turns "x" in tier into two records
TRANSFORM = LuaRaw("""function(rec)
    if rec.id == 13 then return nil end
    rec.email = string.lower(rec.email)
    if rec.tier == "x" then
      local twin = { id = rec.id + 1000, email = rec.email, tier = "twin" }
      return { rec, twin }
    end
    return rec
  end""")

# a signature over the body (masked by name), and the preview flag
HEADERS_FN = LuaRaw("""function(req)
    return {
      ["X-Body-Signature"] = sluice.hex(sluice.hmac_sha256(%s, req.body)),
      ["X-Preview"] = tostring(req.preview),
      ["X-Records"] = req.records,
    }
  end""" % lua_str(SIGN_KEY))

# curl adds these; the preview does not show them
CURL_HEADERS = {"host", "accept", "user-agent"}


def records(n, start=1):
    return [{"id": i, "email": "User%d@Example.COM" % i,
             "tier": "x" if i % 4 == 0 else None}
            for i in range(start, start + n)]


def ndjson(recs):
    return "".join(json.dumps(r, separators=(",", ":")) + "\n" for r in recs)


def parse_text(out):
    """The request blocks of text output: dicts with head, method, url,
    headers [(name, value)], body (bytes), and the end line's sizes."""
    blocks = []
    parts = re.split(rb"(?m)^(### request \d+ of \d+ \(records \d+\.\.\d+, "
                     rb"lines \d+\.\.\d+\))\n", out)
    for head, rest in zip(parts[1::2], parts[2::2]):
        top, body_and_end = rest.split(b"\n\n", 1)
        m = re.search(rb"\n--- end of body \((\d+) bytes(?:, sent "
                      rb"gzip-compressed: (\d+) bytes)?\)\n", body_and_end)
        assert m, body_and_end
        body = body_and_end[:m.start()]
        lines = top.decode().split("\n")
        method, url = lines[0].split(" ", 1)
        heads = [tuple(h.split(": ", 1)) for h in lines[1:]]
        blocks.append({"head": head.decode(), "method": method, "url": url,
                       "headers": heads, "body": body,
                       "body_bytes": int(m.group(1)),
                       "sent_bytes": int(m.group(2) or m.group(1))})
    return blocks


def json_lines(out):
    return [json.loads(line) for line in out.decode().splitlines()]


class TokenServer:
    """A local token endpoint: answers each POST with a new token."""

    def __init__(self):
        self.calls = 0
        self.lock = threading.Lock()
        outer = self

        class H(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def do_POST(self):
                n = int(self.headers.get("Content-Length") or 0)
                self.rfile.read(n)
                with outer.lock:
                    outer.calls += 1
                    tok = "tok-%d" % outer.calls
                body = tok.encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.server.daemon_threads = True
        self.url = "http://127.0.0.1:%d/token" % self.server.server_port
        threading.Thread(target=self.server.serve_forever,
                         kwargs={"poll_interval": 0.05}, daemon=True).start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


class PreviewCmdTest(SluiceTestCase):

    def preview(self, sl, *args, stdin=None):
        """Run `sluice preview ARGS -c <sl's file>` -> (rc, out, err)."""
        if not sl._written:
            sl.write()
        p = subprocess.run([sluice_bin(), "preview"] + list(args) +
                           ["-c", sl.gateway_file], cwd=sl.dir,
                           input=stdin, capture_output=True, timeout=60)
        return p.returncode, p.stdout, p.stderr.decode("utf-8", "replace")

    def write_file(self, sl, name, text):
        path = os.path.join(sl.dir, name)
        with open(path, "w") as f:
            f.write(text)
        return path

    def crm(self, url, extra=None, batch=None, body="array"):
        x = {"transform": TRANSFORM, "headers_fn": HEADERS_FN,
             "compression": "gzip", "ordered": True}
        x.update(extra or {})
        return connector_lua(
            "crm", url + "/v1/contacts", schema=SCHEMA, body=body,
            headers={"Authorization": SECRET, "X-Source": "sluice-preview"},
            batch=batch or {"max_records": 4, "max_delay_ms": 20},
            concurrency=1, extra=x)

    def assert_same_request(self, shown, got, dest_url):
        """A request as the preview showed it (JSON form, secrets shown)
        is the one the destination received, but for the batch's key and
        X-Preview."""
        self.assertEqual(got.method, shown["method"])
        self.assertEqual(dest_url + got.path, shown["url"])
        self.assertEqual(gzip.decompress(got.body), shown["body"].encode())
        self.assertEqual(len(got.body), shown["sent_bytes"])
        names = set()
        for name, value in shown["headers"]:
            names.add(name.lower())
            if name.lower() == "idempotency-key":
                self.assertTrue(got.headers.get(name))
            elif name == "X-Preview":
                self.assertEqual((value, got.headers.get(name)),
                                 ("true", "false"))
            else:
                self.assertEqual(got.headers.get(name), value, name)
        extra = {k.lower() for k in got.headers.keys()} - names
        self.assertLessEqual(extra, CURL_HEADERS, extra)

    def test_preview_is_what_the_destination_receives(self):
        dest = self.start_destination()
        sl = self.start_sluice({"crm": self.crm(dest.url)})
        recs = records(9)
        recs.insert(3, {"id": "seven", "email": "a@b"})       # line 4
        recs.insert(6, {"id": 13, "email": "Drop@Me"})        # line 7
        path = self.write_file(sl, "in.ndjson", ndjson(recs))

        rc, out, err = self.preview(sl, "crm", path, "-n", "50", "--json",
                                    "--show-secrets")
        self.assertEqual(rc, 1, err)  # one record rejected
        got = json_lines(out)
        kinds = [g["kind"] for g in got]
        self.assertEqual(kinds.count("request"), 3, got)
        self.assertEqual(got[-1], {"kind": "summary", "read": 11,
                                   "accepted": 11, "rejected": 1,
                                   "dropped": 1, "requests": 3,
                                   "failed": 0})
        rej = [g for g in got if g["kind"] == "rejected"]
        self.assertEqual(len(rej), 1)
        self.assertEqual((rej[0]["line"], rej[0]["field"]), (4, "id"))
        self.assertEqual([g["line"] for g in got if g["kind"] == "dropped"],
                         [7])
        shown = [g for g in got if g["kind"] == "request"]
        self.assertEqual([(s["records"], s["lines"]) for s in shown],
                         [([1, 4], [1, 5]), ([5, 8], [5, 9]),
                          ([9, 11], [10, 11])])
        for s in shown:
            self.assertEqual(s["compression"], "gzip")
            self.assertIn(["Authorization", SECRET], s["headers"])
            self.assertIn(["X-Preview", "true"], s["headers"])
        first = json.loads(shown[0]["body"])
        self.assertEqual(first[0], {"id": 1, "email": "user1@example.com",
                                    "tier": None})
        self.assertEqual(first[3]["tier"], "x")
        self.assertEqual(json.loads(shown[1]["body"])[0],  # the twin
                         {"id": 1004, "email": "user4@example.com",
                          "tier": "twin"})
        # nothing reached the destination, nothing was spooled
        self.assertEqual(dest.requests(), [])
        self.assertEqual(sl.stats("crm")["accepted"], 0)

        # the text form shows the same requests, secrets masked
        rc, text, err = self.preview(sl, "crm", path, "-n", "50")
        self.assertEqual(rc, 1, err)
        blocks = parse_text(text)
        self.assertEqual(len(blocks), 3)
        self.assertNotIn(b"pr3view", text)
        self.assertTrue(text.startswith(b"line 4: id: "), text)
        self.assertIn(b"\nline 7: dropped by the transform\n", text)
        for b, s in zip(blocks, shown):
            self.assertEqual(b["body"], s["body"].encode())
            self.assertEqual(b["body_bytes"], len(b["body"]))
            self.assertEqual((b["method"], b["url"]), (s["method"], s["url"]))
            self.assertEqual(b["sent_bytes"], s["sent_bytes"])
            # (headers_fn's come in the order of a Lua table: any)
            want = {n: "****" if n in ("Authorization", "X-Body-Signature")
                    else v for n, v in s["headers"]}
            self.assertEqual(dict(b["headers"]), want)
            self.assertEqual(len(b["headers"]), len(s["headers"]))
        self.assertEqual(dest.requests(), [])

        # now the same file, sent: the same batches (4 records at most)
        st, js, _ = sl.post("crm", ndjson(recs).encode(),
                            content_type="application/x-ndjson")
        self.assertEqual((st, js["accepted"]), (200, 11), sl.last_raw)
        reqs = dest.wait_requests(3)
        sl.wait_drained("crm", 11)
        self.assertEqual(len(dest.requests()), 3)
        for s, r in zip(shown, reqs):
            self.assert_same_request(s, r, dest.url)

    def test_preview_then_send(self):
        """The same file previewed, then sent with `sluice send` (in this
        process: no gateway holds the connector): the destination
        receives exactly the previewed requests, and nothing before."""
        dest = self.start_destination()
        sl = self.make_sluice({"crm": self.crm(dest.url)})
        recs = records(9)
        recs.insert(2, {"id": 13, "email": "Drop@Me"})
        csv = "id,email,tier\r\n" + "".join(
            "%d,\"%s\",%s\r\n" % (r["id"], r["email"], r.get("tier") or "")
            for r in recs)
        path = self.write_file(sl, "in.csv", csv)
        rc, out, err = self.preview(sl, "crm", path, "-n", "100", "--json",
                                    "--show-secrets")
        self.assertEqual(rc, 0, err)
        shown = [g for g in json_lines(out) if g["kind"] == "request"]
        self.assertEqual(len(shown), 3)
        self.assertEqual(dest.requests(), [])
        p = subprocess.run([sluice_bin(), "send", "crm", path, "--no-progress",
                            "-c", sl.gateway_file], cwd=sl.dir,
                           capture_output=True, timeout=60)
        self.assertEqual(p.returncode, 0, p.stderr)
        reqs = dest.requests()
        self.assertEqual(len(reqs), 3, dest.summary())
        for s, r in zip(shown, reqs):
            self.assert_same_request(s, r, dest.url)

    def test_preview_then_send_through_a_gateway(self):
        """A gateway holds the connector: the preview runs beside it, and
        `sluice send` of the same NDJSON goes through its intake; the
        destination receives the previewed requests."""
        dest = self.start_destination()
        sl = self.start_sluice({"crm": self.crm(dest.url)})
        # (no tier "x": send through a gateway refuses an answer that
        # counts more records than rows sent, as a transform's twin makes)
        recs = [dict(r, tier="t") for r in records(6)]
        path = self.write_file(sl, "in.ndjson", ndjson(recs))
        rc, out, err = self.preview(sl, "crm", path, "--json",
                                    "--show-secrets", "-n", "6")
        self.assertEqual(rc, 0, err)
        shown = [g for g in json_lines(out) if g["kind"] == "request"]
        self.assertEqual(len(shown), 2)  # 4, then 2
        self.assertEqual(dest.requests(), [])
        p = subprocess.run([sluice_bin(), "send", "crm", path, "--no-progress",
                            "-c", sl.gateway_file], cwd=sl.dir,
                           capture_output=True, timeout=60)
        self.assertEqual(p.returncode, 0, p.stderr)
        sl.wait_drained("crm", 6)
        reqs = dest.requests()
        self.assertEqual(len(reqs), 2, dest.summary())
        for s, r in zip(shown, reqs):
            self.assert_same_request(s, r, dest.url)

    def test_per_record_urls(self):
        """The shipped REST connector (one PUT per record to /users/{id},
        a header from a placeholder) with gzip: each previewed request is
        one the gateway sends."""
        dest = self.start_destination()
        with open(os.path.join(SOURCE_DIR, "conf", "connectors",
                               "rest_users.lua")) as f:
            src = f.read().replace("https://api.example.com", dest.url)
        src = src.replace("return {", "return {\n  compression = \"gzip\",",
                          1)
        sl = self.start_sluice({"rest_users": src})
        users = [{"id": "u/%d x" % i, "tenant": "t%d" % (i % 2),
                  "email": "u%d@example.com" % i, "name": "U %d" % i,
                  "plan": None, "seats": i, "since": "2026-01-0%d" % i}
                 for i in range(1, 4)]
        path = self.write_file(sl, "users.ndjson", ndjson(users))
        rc, out, err = self.preview(sl, "rest_users", path, "-n", "3",
                                    "--json", "--show-secrets")
        self.assertEqual(rc, 0, err)
        shown = [g for g in json_lines(out) if g["kind"] == "request"]
        self.assertEqual(len(shown), 3)
        self.assertEqual(shown[0]["url"], dest.url + "/v1/users/u%2F1%20x")
        self.assertIn(["X-Tenant", "t1"], shown[0]["headers"])
        # the default is one batch: one record for body "object"
        rc, out1, err = self.preview(sl, "rest_users", path, "--json")
        self.assertEqual(rc, 0, err)
        self.assertEqual(json_lines(out1)[-1]["read"], 1)
        self.assertEqual(dest.requests(), [])

        st, js, _ = sl.post("rest_users", users)
        self.assertEqual((st, js["accepted"]), (200, 3), sl.last_raw)
        reqs = dest.wait_requests(3)
        by_path = {r.path: r for r in reqs}
        for s in shown:
            path = s["url"][len(dest.url):]
            self.assertIn(path, by_path)
            r = by_path[path]
            self.assertEqual(r.method, "PUT")
            self.assertEqual(gzip.decompress(r.body), s["body"].encode())
            for name, value in s["headers"]:
                if name != "Idempotency-Key":
                    self.assertEqual(r.headers.get(name), value, name)

    def token_connector(self, url, token_url):
        fn = LuaRaw("""function(req)
    local r, err = sluice.http.request { method = "POST", url = %s,
      body = "grant_type=client_credentials" }
    if not r then error("token fetch: " .. tostring(err)) end
    local tok = r.body
    return { Authorization = "Bearer " .. tok,
             ["X-Preview"] = tostring(req.preview) }
  end""" % lua_str(token_url))
        return connector_lua("tok", url + "/in", schema=SCHEMA,
                             batch={"max_records": 2},
                             extra={"headers_fn": fn})

    def test_no_network(self):
        dest = self.start_destination()
        tokens = TokenServer()
        self.addCleanup(tokens.stop)
        sl = self.make_sluice({"tok": self.token_connector(dest.url,
                                                           tokens.url)})
        path = self.write_file(sl, "in.ndjson", ndjson(records(3)))
        # without --no-network the token endpoint is asked, per request
        rc, out, err = self.preview(sl, "tok", path, "-n", "3",
                                    "--show-secrets")
        self.assertEqual(rc, 0, err)
        blocks = parse_text(out)
        self.assertEqual(len(blocks), 2)
        self.assertEqual(tokens.calls, 2)
        self.assertIn(("Authorization", "Bearer tok-1"), blocks[0]["headers"])
        self.assertIn(("Authorization", "Bearer tok-2"), blocks[1]["headers"])
        self.assertIn(("X-Preview", "true"), blocks[0]["headers"])
        # masked without --show-secrets (headers_fn's headers too)
        rc, out, err = self.preview(sl, "tok", path, "-n", "3")
        self.assertEqual(rc, 0, err)
        self.assertIn(b"\nAuthorization: ****\n", out)
        self.assertNotIn(b"Bearer tok-", out)
        self.assertEqual(tokens.calls, 4)

        # with it, the call raises: no request, the error shown, exit 1
        rc, out, err = self.preview(sl, "tok", path, "-n", "3",
                                    "--no-network", "--json")
        self.assertEqual(rc, 1, err)
        self.assertEqual(tokens.calls, 4)
        got = json_lines(out)
        shown = [g for g in got if g["kind"] == "request"]
        self.assertEqual(len(shown), 2)
        for s in shown:
            self.assertIn("sluice.http.request to %s was not made: "
                          "--no-network" % tokens.url, s["error"])
            self.assertTrue(s["error"].startswith("headers_fn: "), s)
            self.assertEqual(s["headers"], [])
            self.assertEqual(len(json.loads(s["body"])), 2 if
                             s["request"] == 1 else 1)
        self.assertEqual(got[-1]["failed"], 2)
        rc, out, err = self.preview(sl, "tok", path, "--no-network")
        self.assertEqual(rc, 1, err)
        self.assertIn(b"\n(not made: headers_fn: ", out)
        self.assertIn(b"--no-network)\n", out)
        self.assertEqual(tokens.calls, 4)
        self.assertEqual(dest.requests(), [])
        # no gateway ran: the preview made no state directory
        self.assertEqual(os.listdir(os.path.join(sl.dir, "var")), [])

    def test_count_stdin_and_invalid_rows(self):
        dest = self.start_destination()
        sl = self.make_sluice({"crm": self.crm(dest.url)})
        lines = ['{"id":1,"email":"A@x"}', "", '{"id":2}',
                 'not json', '{"id":3,"email":"b","extra":1}',
                 '[{"id":4,"email":"c"}]', '{"id":5,"email":"D@x"}',
                 '{"id":6,"email":"e"}', '{"id":7,"email":"f"}']
        text = "\n".join(lines) + "\n"
        path = self.write_file(sl, "bad.ndjson", text)
        rc, out, err = self.preview(sl, "crm", path, "-n", "6", "--json")
        self.assertEqual(rc, 1, err)
        got = json_lines(out)
        rej = [(g["line"], g["field"]) for g in got if g["kind"] == "rejected"]
        self.assertEqual([r[0] for r in rej], [3, 4, 5, 6], got)
        # the transform meets the missing email first (as the intake does)
        self.assertRegex([g for g in got if g["kind"] == "rejected"][0]
                         ["error"], r"^transform: .*crm\.lua:\d+: bad "
                         r"argument .*lower")
        self.assertEqual(got[-1]["read"], 6)
        self.assertEqual(got[-1]["accepted"], 2)
        shown = [g for g in got if g["kind"] == "request"]
        self.assertEqual([s["lines"] for s in shown], [[1, 7]])
        self.assertEqual(json.loads(shown[0]["body"]),
                         [{"id": 1, "email": "a@x", "tier": None},
                          {"id": 5, "email": "d@x", "tier": None}])
        # the default is one batch: max_records 4 records read
        rc, out, err = self.preview(sl, "crm", path, "--json")
        self.assertEqual(json_lines(out)[-1]["read"], 4)
        # standard input, all accepted: exit 0
        rc, out, err = self.preview(sl, "crm", "-", "--json",
                                    stdin=b'{"id":9,"email":"Z"}\n')
        self.assertEqual(rc, 0, err)
        got = json_lines(out)
        self.assertEqual(json.loads(got[0]["body"]),
                         [{"id": 9, "email": "z", "tier": None}])
        # nothing but rejections: no request, exit 1
        rc, out, err = self.preview(sl, "crm", "-", stdin=b'{"id":"no"}\n')
        self.assertEqual(rc, 1, err)
        self.assertNotIn(b"### request", out)
        self.assertIn(b"0 requests, nothing sent", out)
        self.assertEqual(dest.requests(), [])

    def test_csv_tsv_and_json_array(self):
        """CSV (quoted commas, an embedded newline, CRLF, a BOM, a cell
        the schema refuses), TSV and a pretty-printed JSON array preview
        the same requests as the NDJSON of the same records."""
        sl = self.make_sluice({"crm": self.crm("http://127.0.0.1:9",
                                               batch={"max_records": 10})})
        recs = [{"id": 1, "email": "A, B@X.com", "tier": None},
                {"id": 2, "email": "multi\nLine@x", "tier": "x"},
                {"id": 4, "email": "\u00e9t\u00e9@x", "tier": "gold"}]
        nd = self.write_file(sl, "same.ndjson", ndjson(recs))
        rc, out, err = self.preview(sl, "crm", nd, "--json",
                                    "--show-secrets")
        self.assertEqual(rc, 0, err)
        want = [g for g in json_lines(out) if g["kind"] == "request"]
        self.assertEqual(len(want), 1)

        csv = ("\ufeffid,email,tier\r\n"
               "1,\"A, B@X.com\",\r\n"
               "2,\"multi\nLine@x\",x\r\n"
               "abc,c@x,\r\n"
               "4,\u00e9t\u00e9@x,gold\r\n")
        path = self.write_file(sl, "in.csv", csv)
        rc, out, err = self.preview(sl, "crm", path, "--json",
                                    "--show-secrets")
        self.assertEqual(rc, 1, err)
        got = json_lines(out)
        rej = [g for g in got if g["kind"] == "rejected"]
        self.assertEqual([(g["line"], g["field"]) for g in rej], [(5, "id")])
        shown = [g for g in got if g["kind"] == "request"]
        self.assertEqual(len(shown), 1)
        self.assertEqual(shown[0]["body"], want[0]["body"])
        self.assertEqual(shown[0]["lines"], [2, 6])
        sig = dict(shown[0]["headers"])["X-Body-Signature"]
        self.assertEqual(sig, dict(want[0]["headers"])["X-Body-Signature"])

        tsv = csv.replace(",\"A, B@X.com\",", "\t\"A, B@X.com\"\t")
        tsv = "\n".join(line if "A, B" in line else line.replace(",", "\t")
                        for line in tsv.split("\n"))
        path = self.write_file(sl, "in.txt", tsv)
        for args in (["--tsv"], ["--format", "tsv"],
                     ["--format", "csv", "--delimiter", "tab"]):
            rc, out, err = self.preview(sl, "crm", path, "--json", *args)
            self.assertEqual(rc, 1, (args, err))
            shown = [g for g in json_lines(out) if g["kind"] == "request"]
            self.assertEqual(shown[0]["body"], want[0]["body"], args)
        # a name that says no format, and no --format: exit 2
        rc, out, err = self.preview(sl, "crm", path)
        self.assertEqual(rc, 2, err)

        arr = "[\n" + ",\n".join(json.dumps(r, indent=2) for r in recs) + "\n]\n"
        path = self.write_file(sl, "in.json", arr)
        rc, out, err = self.preview(sl, "crm", path, "--json")
        self.assertEqual(rc, 0, err)
        shown = [g for g in json_lines(out) if g["kind"] == "request"]
        self.assertEqual(shown[0]["body"], want[0]["body"])
        self.assertEqual(shown[0]["lines"], [2, 12])

    def test_csv_columns_for_the_transform(self):
        """With a transform, a CSV column the schema lacks reaches it as a
        string (as sluice send reads the file)."""
        fn = LuaRaw("""function(rec)
    local out = { id = rec.id, email = rec.email .. "@" .. rec.domain }
    return out
  end""")
        sl = self.make_sluice({"m": connector_lua(
            "m", "http://127.0.0.1:9/in", schema=SCHEMA,
            extra={"transform": fn, "idempotency_header": False})})
        path = self.write_file(sl, "in.csv",
                               "id,email,domain\n1,ann,x.org\n2,bob,y.org\n")
        rc, out, err = self.preview(sl, "m", path, "--json")
        self.assertEqual(rc, 0, err)
        req = [g for g in json_lines(out) if g["kind"] == "request"][0]
        self.assertEqual(json.loads(req["body"]),
                         [{"id": 1, "email": "ann@x.org", "tier": None},
                          {"id": 2, "email": "bob@y.org", "tier": None}])

    def test_hostile_rows(self):
        """An oversized line, invalid UTF-8, a NUL, a field name that would
        drive a terminal, deep nesting: each rejected on its line, the
        text output free of control bytes, the rows after them read."""
        sl = self.make_sluice({"crm": self.crm("http://127.0.0.1:9",
                                               batch={"max_records": 10})})
        rows = [b'{"id":1,"email":"a"}',
                b'{"id":2,"email":"' + b"x" * (2 << 20) + b'"}',
                b'{"id":3,"email":"\xff\xfe"}',
                b'{"id":4,"email":"a\x00b"}',
                b'{"id":5,"email":"e","\\u001b[2Jevil":1}',
                b'{"id":6,"email":"e","tier":' + b"[" * 200 + b"]" * 200
                + b"}",
                b'{"id":7,"email":"ok"}']
        path = os.path.join(sl.dir, "bad.ndjson")
        sl.write()
        with open(path, "wb") as f:
            f.write(b"\n".join(rows) + b"\n")
        rc, out, err = self.preview(sl, "crm", path)
        self.assertEqual(rc, 1, err)
        lines = out.decode("utf-8").splitlines()
        rejected = [int(m.group(1)) for m in
                    (re.match(r"line (\d+): ", x) for x in lines) if m]
        self.assertEqual(rejected, [2, 3, 4, 5, 6], out)
        self.assertNotIn(b"\x1b", out)
        self.assertIn(b"\\x1b[2Jevil", out)
        self.assertIn(b"### 7 records read: 2 accepted, 5 rejected", out)
        body = parse_text(out)[0]["body"]
        self.assertEqual([r["id"] for r in json.loads(body)], [1, 7])

    def test_usage_errors(self):
        sl = self.make_sluice({"crm": self.crm("http://127.0.0.1:9")})
        path = self.write_file(sl, "in.ndjson", ndjson(records(2)))
        for args in ([], ["crm"], ["crm", path, "-n", "0"],
                     ["crm", path, "-n", "x"], ["crm", path, "-n"],
                     ["crm", path, "-n", "1000001"],
                     ["crm", path, "--bogus"], ["crm", path, "extra"],
                     ["crm", path, "--format", "xml"],
                     ["crm", path, "--format", "json", "--delimiter", ";"],
                     ["crm", path, "--delimiter", "ab"],
                     ["nope", path], ["crm", path + ".missing"]):
            rc, out, err = self.preview(sl, *args)
            self.assertEqual(rc, 2, (args, out, err))
            self.assertEqual(out, b"", args)
            self.assertTrue(err, args)
        if os.path.exists("/dev/full"):  # output that cannot be written
            with open("/dev/full", "wb") as full:
                p = subprocess.run([sluice_bin(), "preview", "crm", path,
                                    "-c", sl.gateway_file], stdout=full,
                                   stderr=subprocess.PIPE, timeout=30)
            self.assertEqual(p.returncode, 2, p.stderr)
            self.assertIn(b"cannot write the output", p.stderr)
        rc, out, err = self.preview(sl, "nope", path)
        self.assertIn('no connector "nope"', err)
        self.assertIn("crm", err)
        # a configuration with errors
        with open(sl.connector_path("crm"), "a") as f:
            f.write("oops(\n")
        rc, out, err = self.preview(sl, "crm", path)
        self.assertEqual(rc, 2, err)
        p = subprocess.run([sluice_bin(), "preview", "--help"],
                           capture_output=True, text=True, timeout=30)
        self.assertEqual(p.returncode, 0)
        self.assertTrue(p.stdout.startswith("usage: sluice preview "))


if __name__ == "__main__":
    unittest.main()
