"""Lua connectors that program the pipeline (issue 3): rotating OAuth2
tokens, Standard Webhooks / HMAC signing verified by an independent Python
implementation, transforms (drop, split, rename, error), the instruction
and memory limits, an event loop that is not blocked while Lua waits on a
slow HTTP server, and headers_fn failures that are retried.

Every server here is a real local HTTP server; every wait polls with a
deadline. Python 3 standard library only.
"""

import base64
import hashlib
import hmac
import json
import os
import re
import secrets
import sys
import threading
import time
import unittest
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sluice_it import (SluiceTestCase, LuaRaw, connector_lua, free_port,  # noqa: E402
                       lua_str, wait_until, CIDict)


# --------------------------------------------------------------------------
# helpers local to this file

class FuncServer:
    """A small HTTP server on 127.0.0.1 whose answers come from
    `handler(method, path, headers CIDict, body bytes) -> (status, headers
    dict, body bytes)`. Every request is recorded as (time, method, path,
    headers, body). `release` is an Event a slow handler can wait on, set
    by stop() so that no handler outlives the test."""

    def __init__(self, handler):
        self.handler = handler
        self.port = free_port()
        self.release = threading.Event()
        self.lock = threading.Lock()
        self.log = []
        self._server = None

    def start(self):
        outer = self

        class H(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, fmt, *args):
                pass

            def _do(self):
                n = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(n) if n > 0 else b""
                hdrs = CIDict(self.headers.items())
                with outer.lock:
                    outer.log.append((time.monotonic(), self.command, self.path,
                                      hdrs, body))
                status, rh, rb = outer.handler(self.command, self.path, hdrs, body)
                self.send_response(status)
                for k, v in (rh or {}).items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(rb)))
                self.end_headers()
                self.wfile.write(rb)
                self.wfile.flush()

            do_GET = do_POST = do_PUT = _do

        class S(ThreadingHTTPServer):
            daemon_threads = True
            allow_reuse_address = True

        self._server = S(("127.0.0.1", self.port), H)
        threading.Thread(target=self._server.serve_forever,
                         kwargs={"poll_interval": 0.05}, daemon=True).start()
        return self

    def stop(self):
        self.release.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    @property
    def url(self):
        return "http://127.0.0.1:%d" % self.port

    def calls(self):
        with self.lock:
            return list(self.log)


def crm_rec(i):
    return {"id": i, "email": "user%d@example.com" % i, "amount": 1.5,
            "active": True, "day": "2024-02-29", "at": "2024-03-01T12:00:00Z"}


def connector_src(prelude, name, url, **kw):
    """A connector file: `prelude` (local requires etc.) then the table."""
    return prelude.rstrip("\n") + "\n" + connector_lua(name, url, **kw)


def line_of(src, needle):
    """1-based line number of the first line of `src` containing `needle`."""
    for n, line in enumerate(src.splitlines(), 1):
        if needle in line:
            return n
    raise AssertionError("%r not in the connector source" % needle)


# Retry fast in every test: the spec's retry = { base_ms = 50, max_ms = 200 }.
FAST_RETRY = {"base_ms": 50, "max_ms": 200}


class LuaTest(SluiceTestCase):

    def start_server(self, handler):
        s = FuncServer(handler).start()
        self.addCleanup(s.stop)
        return s

    def post_ok(self, sl, name, body, accepted=None):
        st, js, _ = sl.post(name, body)
        self.assertEqual(st, 200, "intake answer to %s: %s %r" % (name, st, sl.last_raw))
        if accepted is not None:
            self.assertEqual(js.get("accepted"), accepted, js)
            self.assertEqual(js.get("rejected"), [], js)
        return js

    def assert_ids_exact(self, dest_records, expected_ids, dest):
        """Every id arrived (sets equal); duplicates only as whole re-sent
        bodies (a retried batch)."""
        got = [r["id"] for r in dest_records]
        self.assertEqual(set(got), set(expected_ids),
                         "missing: %s; unexpected: %s" % (
                             sorted(set(expected_ids) - set(got))[:20],
                             sorted(set(got) - set(expected_ids))[:20]))
        if len(got) != len(expected_ids):
            counts = {}
            for b in (r.body for r in dest.ok_requests()):
                counts[b] = counts.get(b, 0) + 1
            dup_bodies = sum(c - 1 for c in counts.values())
            self.assertGreater(dup_bodies, 0,
                               "%d records for %d ids, but no body was sent "
                               "twice" % (len(got), len(expected_ids)))

    # ---- 1. OAuth2 client credentials, rotating tokens ------------------

    def test_oauth2_token_rotation(self):
        lifetime = 2.0
        client_id, client_secret = "sluice-client", "s3cr3t-Value_42"
        issued = {}          # token -> monotonic time of issue
        bad = []             # token endpoint requests that were wrong
        lock = threading.Lock()

        def token_endpoint(method, path, headers, body):
            problems = []
            if method != "POST":
                problems.append("method %s" % method)
            ctype = (headers.get("Content-Type") or "").split(";")[0].strip()
            if ctype != "application/x-www-form-urlencoded":
                problems.append("content-type %r" % ctype)
            form = urllib.parse.parse_qs(body.decode("ascii", "replace"),
                                         keep_blank_values=True)
            if form.get("grant_type") != ["client_credentials"]:
                problems.append("form %r" % body)
            auth = headers.get("Authorization") or ""
            ok_auth = False
            if auth.startswith("Basic "):
                try:
                    raw = base64.b64decode(auth[6:], validate=True).decode()
                    u, _, p = raw.partition(":")
                    ok_auth = (urllib.parse.unquote_plus(u) == client_id and
                               urllib.parse.unquote_plus(p) == client_secret)
                except ValueError:
                    pass
            if not ok_auth:
                problems.append("authorization %r" % auth)
            if problems:
                with lock:
                    bad.append(problems)
                return 401, {"Content-Type": "application/json"}, \
                    b'{"error":"invalid_client"}'
            tok = secrets.token_urlsafe(24)
            with lock:
                issued[tok] = time.monotonic()
            return 200, {"Content-Type": "application/json",
                         "Cache-Control": "no-store"}, json.dumps(
                {"access_token": tok, "token_type": "Bearer",
                 "expires_in": int(lifetime)}).encode()

        tokens = self.start_server(token_endpoint)
        verdicts = []        # (status, reason) per destination request

        def dest_func(index, req):
            auth = req.headers.get("Authorization") or ""
            tok = auth[7:] if auth.startswith("Bearer ") else None
            with lock:
                t0 = issued.get(tok)
            if t0 is None:
                verdicts.append((401, "unknown token"))
                return 401
            if req.time - t0 > lifetime:
                verdicts.append((401, "expired by %.3fs" % (req.time - t0 - lifetime)))
                return 401
            verdicts.append((200, ""))
            return 200

        dest = self.start_destination(func=dest_func)
        prelude = ('local oauth2 = require "sluice.oauth2"\n'
                   'local token = oauth2.client_credentials {\n'
                   '  token_url = %s, client_id = %s, client_secret = %s,\n'
                   '  refresh_skew_s = 0,\n'
                   '}\n' % (lua_str(tokens.url + "/oauth/token"),
                            lua_str(client_id), lua_str(client_secret)))
        src = connector_src(
            prelude, "oauth", dest.url + "/v1/contacts",
            batch={"max_records": 50, "max_delay_ms": 50}, concurrency=4,
            retry=FAST_RETRY,
            extra={"headers_fn": LuaRaw(
                "function(req) return { Authorization = token:header(req) } end")})
        sl = self.start_sluice({"oauth": src})

        n_posts, per_post, spread = 30, 100, 7.0
        t_start = time.monotonic()
        pace = threading.Event()           # never set: wait() is a paced timer
        for p in range(n_posts):
            due = t_start + spread * p / (n_posts - 1)
            delay = due - time.monotonic()
            if delay > 0:
                pace.wait(delay)
            recs = [crm_rec(p * per_post + k) for k in range(per_post)]
            self.post_ok(sl, "oauth", recs, accepted=per_post)
        total = n_posts * per_post
        stats = sl.wait_drained("oauth", total, timeout=30)
        elapsed = time.monotonic() - t_start

        self.assertEqual(bad, [], "token endpoint got bad requests")
        self.assertEqual(stats["accepted"], total, stats)
        self.assert_ids_exact(dest.records(), range(total), dest)

        n_calls = len(tokens.calls())
        n_requests = len(dest.requests())
        n401 = sum(1 for s, _ in verdicts if s == 401)
        sys.stderr.write("\n[oauth2] %.1fs, %d token calls, %d requests "
                         "(%d answered 401: %s), stats %r\n"
                         % (elapsed, n_calls, n_requests, n401,
                            sorted(set(r for s, r in verdicts if s == 401))[:5],
                            stats))
        self.assertLessEqual(n_calls, elapsed / lifetime * 2 + 3,
                             "token endpoint hit %d times in %.1fs"
                             % (n_calls, elapsed))
        # the token really rotated: several lifetimes passed
        self.assertGreaterEqual(n_calls, 3)
        self.assertLess(n_calls * 3, n_requests,
                        "token calls not far below requests")
        self.assertGreaterEqual(len(issued), 3)

    def test_oauth2_401_and_failing_token_endpoint(self):
        """The first token request fails (500): the batch is retried later.
        The second token is revoked at the destination (401): sluice throws
        it away and the retry carries a third one. Nothing is lost."""
        calls, issued = [], []

        def token_endpoint(method, path, headers, body):
            calls.append(time.monotonic())
            if len(calls) == 1:
                return 500, {}, b"try later"
            tok = "tok-%d-%s" % (len(calls), secrets.token_hex(8))
            issued.append(tok)
            return 200, {"Content-Type": "application/json"}, json.dumps(
                {"access_token": tok, "token_type": "Bearer",
                 "expires_in": 3600}).encode()

        tokens = self.start_server(token_endpoint)

        def dest_func(index, req):
            auth = req.headers.get("Authorization") or ""
            if issued and auth == "Bearer " + issued[0]:
                return 401                      # revoked
            return 200 if auth[7:] in issued else 401

        dest = self.start_destination(func=dest_func)
        prelude = ('local oauth2 = require "sluice.oauth2"\n'
                   'local token = oauth2.client_credentials {\n'
                   '  token_url = %s, client_id = "id", client_secret = "pw",\n'
                   '}\n' % lua_str(tokens.url + "/token"))
        src = connector_src(
            prelude, "oauth", dest.url + "/in", concurrency=1, retry=FAST_RETRY,
            extra={"headers_fn": LuaRaw(
                "function(req) return { Authorization = token:header(req) } end")})
        sl = self.start_sluice({"oauth": src})
        self.post_ok(sl, "oauth", [crm_rec(i) for i in range(5)], accepted=5)
        sl.wait_drained("oauth", 5, timeout=15)
        self.assertEqual(len(calls), 3, "token endpoint calls")
        ok = dest.ok_requests()
        self.assertEqual(len(ok), 1, dest.summary())
        self.assertEqual(ok[0].headers.get("Authorization"), "Bearer " + issued[1])
        self.assertEqual([r["id"] for r in ok[0].records()], list(range(5)))
        self.assertEqual([r.status for r in dest.requests()], [401, 200])

    # ---- 2. request signing ----------------------------------------------

    def test_standard_webhooks_and_hmac(self):
        key = os.urandom(24)
        whsec = "whsec_" + base64.b64encode(key).decode()
        hub_secret = b"s3cret"
        std_log, hub_log = [], []

        def verify_std(index, req):
            wid = req.headers.get("webhook-id")
            ts = req.headers.get("webhook-timestamp")
            sig = req.headers.get("webhook-signature")
            why = None
            if not (wid and ts and sig):
                why = "missing header(s): %r" % ((wid, ts, sig),)
            elif not re.fullmatch(r"[0-9]+", ts) or abs(time.time() - int(ts)) > 300:
                why = "bad timestamp %r" % ts
            else:
                content = wid.encode() + b"." + ts.encode() + b"." + req.body
                want = base64.b64encode(
                    hmac.new(key, content, hashlib.sha256).digest()).decode()
                cands = [s[3:] for s in sig.split(" ") if s.startswith("v1,")]
                if not any(hmac.compare_digest(c, want) for c in cands):
                    why = "signature mismatch: %r" % sig
            std_log.append((wid, why))
            return 401 if why else 200

        def verify_hub(index, req):
            sig = req.headers.get("X-Hub-Signature-256") or ""
            want = "sha256=" + hmac.new(hub_secret, req.body, hashlib.sha256).hexdigest()
            why = None if hmac.compare_digest(sig, want) else "bad %r" % sig
            hub_log.append(why)
            return 401 if why else 200

        std_dest = self.start_destination(func=verify_std)
        hub_dest = self.start_destination(func=verify_hub)
        prelude = 'local webhooks = require "sluice.webhooks"\n'
        std_src = connector_src(
            prelude, "std", std_dest.url + "/hooks",
            batch={"max_records": 50, "max_delay_ms": 50}, retry=FAST_RETRY,
            extra={"headers_fn": LuaRaw("webhooks.standard { secret = %s }"
                                        % lua_str(whsec))})
        hub_src = connector_src(
            prelude + 'local sign = webhooks.hmac { header = "X-Hub-Signature-256",'
            ' secret = "s3cret", prefix = "sha256=" }\n',
            "hub", hub_dest.url + "/hooks", body="ndjson",
            batch={"max_records": 50, "max_delay_ms": 50}, retry=FAST_RETRY,
            extra={"headers_fn": LuaRaw("function(req) return sign(req) end")})
        sl = self.start_sluice({"std": std_src, "hub": hub_src})

        n = 400
        for p in range(4):
            recs = [crm_rec(p * 100 + k) for k in range(100)]
            # a non-ASCII, escaped value: the signature covers the exact bytes
            recs[0]["email"] = "Zo\u00eb \u2603 \"q\" <x@y>"
            self.post_ok(sl, "std", recs, accepted=100)
            self.post_ok(sl, "hub", recs, accepted=100)
        # a bad signature is answered 401 and retried for ever: stop waiting
        # at the first one, so that the failure says why
        def settled():
            if [w for w in std_log if w[1]] or [w for w in hub_log if w]:
                return "a request did not verify"
            return all(sl.stats(c).get("delivered") == n for c in ("std", "hub"))
        wait_until(settled, 20, msg="both connectors delivered %d records" % n)

        self.assertTrue(std_log)
        self.assertEqual([w for w in std_log if w[1]], [],
                         "Standard Webhooks requests that did not verify")
        self.assertEqual([w for w in hub_log if w], [],
                         "X-Hub-Signature-256 requests that did not verify")
        self.assert_ids_exact(std_dest.records(), range(n), std_dest)
        self.assert_ids_exact(hub_dest.records(), range(n), hub_dest)
        # every request was accepted at once, so every webhook-id differs
        ids = [w for w, _ in std_log]
        self.assertEqual(len(ids), len(set(ids)), ids)

    # ---- 3. transforms ---------------------------------------------------

    TRANSFORM_SCHEMA = [
        {"name": "id", "type": "integer"},
        {"name": "email", "type": "string"},
        {"name": "note", "type": "string", "nullable": True},
    ]
    TRANSFORM_FN = """function(rec, ctx)
    local kind = rec.kind
    rec.kind = nil
    if rec.mail ~= nil then
      rec.email = rec.mail:lower()
      rec.mail = nil
    end
    if kind == "drop" then
      return nil
    elseif kind == "split" then
      return {
        { id = rec.id * 10 + 1, email = rec.email, note = rec.note },
        { id = rec.id * 10 + 2, email = rec.email, note = "second" },
      }
    elseif kind == "error" then
      error("boom")
    elseif kind == "ctx" then
      rec.note = ctx.connector .. "#" .. ctx.index
    end
    return rec
  end"""

    def test_transform_drop_split_rename_error(self):
        dest = self.start_destination()
        src = connector_lua("xf", dest.url + "/in",
                            schema=self.TRANSFORM_SCHEMA,
                            batch={"max_records": 1000, "max_delay_ms": 100},
                            retry=FAST_RETRY,
                            extra={"transform": LuaRaw(self.TRANSFORM_FN)})
        sl = self.make_sluice({"xf": src})
        sl.start()
        boom_line = line_of(src, 'error("boom")')
        path = sl.connector_path("xf")

        body = ('['
                '{"id":1,"mail":"A@X.io","kind":"keep","note":"n1"},'          # 0
                '{"id":2,"mail":"b@x.io","kind":"drop"},'                      # 1
                '{"id":3,"mail":"c@x.io","kind":"split","note":null},'         # 2
                '{"id":4,"mail":"d@x.io","kind":"error"},'                     # 3
                '{"id":5,"mail":"e@x.io","kind":"keep"},'                      # 4
                '{"id":"six","mail":"f@x.io","kind":"keep"},'                  # 5
                '{"id":7,"mail":"g@x.io","kind":"ctx","note":"x"},'            # 6
                '{"id":8,"mail":"h\\u00e9@x.io","kind":"keep","note":"\\"q\\""}'  # 7
                ']')
        st, js, _ = sl.post("xf", body)
        self.assertEqual(st, 200, sl.last_raw)
        self.assertEqual(js.get("accepted"), 6, js)
        self.assertEqual(js.get("dropped"), 1, js)
        rej = js.get("rejected")
        self.assertEqual([r["index"] for r in rej], [3, 5], js)
        err = rej[0]["error"]
        self.assertTrue(err.startswith("transform: "), err)
        self.assertRegex(err, r"xf\.lua:%d: boom$" % boom_line)
        if len(path) < 55:  # Lua shortens longer chunk names with "..."
            self.assertIn("%s:%d: boom" % (path, boom_line), err)
        self.assertEqual(rej[1]["field"], "id", js)
        self.assertNotIn("transform", rej[1]["error"], js)

        expected = [
            '{"id":1,"email":"a@x.io","note":"n1"}',
            '{"id":31,"email":"c@x.io","note":null}',
            '{"id":32,"email":"c@x.io","note":"second"}',
            '{"id":5,"email":"e@x.io","note":null}',
            '{"id":7,"email":"g@x.io","note":"xf#6"}',
        ]
        stats = sl.wait_drained("xf", 6, timeout=10)
        self.assertEqual((stats["accepted"], stats["dropped"], stats["rejected"]),
                         (6, 1, 2), stats)
        reqs = dest.ok_requests()
        self.assertEqual(len(reqs), 1, dest.summary())
        raw = [r.decode() for r in reqs[0].raw_records()]
        self.assertEqual(raw[:5], expected)
        # the last one: a non-ASCII and an escaped quote survive the round trip
        self.assertEqual(json.loads(raw[5]),
                         {"id": 8, "email": "h\u00e9@x.io", "note": '"q"'})
        self.assertEqual(reqs[0].body.decode(), "[" + ",".join(raw) + "]")

        # a larger mixed post: counts and ids
        recs, want_ids, n_drop, n_err = [], set(), 0, 0
        for i in range(100, 400):
            kind = ("keep", "drop", "split", "error")[i % 4]
            recs.append({"id": i, "mail": "U%d@X.io" % i, "kind": kind})
            if kind == "keep":
                want_ids.add(i)
            elif kind == "split":
                want_ids.update((i * 10 + 1, i * 10 + 2))
            elif kind == "drop":
                n_drop += 1
            else:
                n_err += 1
        st, js, _ = sl.post("xf", recs)
        self.assertEqual(st, 200, sl.last_raw)
        self.assertEqual(js.get("accepted"), len(want_ids), js)
        self.assertEqual(js.get("dropped"), n_drop, js)
        rej = js.get("rejected")
        self.assertEqual(js.get("rejected_total", len(rej)), n_err, js)
        self.assertTrue(all(r["error"].startswith("transform: ") and
                            r["error"].endswith(":%d: boom" % boom_line)
                            and r["index"] % 4 == 3 for r in rej), rej[:3])
        sl.wait_drained("xf", 6 + len(want_ids), timeout=10)
        later = [r for q in dest.ok_requests()[1:] for r in q.records()]
        self.assertEqual(sorted(r["id"] for r in later), sorted(want_ids))
        self.assertTrue(all(r["email"] == r["email"].lower() and
                            set(r) == {"id", "email", "note"} for r in later))

        # a transform that drops everything: 200, not 422
        st, js, _ = sl.post("xf", [{"id": 1, "mail": "a@b", "kind": "drop"}])
        self.assertEqual((st, js.get("accepted"), js.get("dropped")), (200, 0, 1),
                         sl.last_raw)

    # ---- 4. endless loop and memory hog ----------------------------------

    def test_endless_loop_and_memory_hog(self):
        dest = self.start_destination()
        loop_fn = """function(rec, ctx)
    if rec.email == "loop" then
      local n = 0
      while true do n = n + 1 end
    end
    return rec
  end"""
        hog_fn = """function(rec, ctx)
    if rec.email == "hog" then
      local t, i = {}, 0
      while true do
        i = i + 1
        t[i] = string.rep("x", 4096) .. i
      end
    end
    return rec
  end"""
        sl = self.start_sluice({
            "loop": connector_lua("loop", dest.url + "/loop", retry=FAST_RETRY,
                                  extra={"transform": LuaRaw(loop_fn),
                                         "lua": {"max_instructions": 1000000}}),
            "hog": connector_lua("hog", dest.url + "/hog", retry=FAST_RETRY,
                                 extra={"transform": LuaRaw(hog_fn),
                                        "lua": {"max_instructions": 1000000000,
                                                "max_memory_mb": 16}}),
            "plain": connector_lua("plain", dest.url + "/plain", retry=FAST_RETRY),
        })

        def rec(i, email):
            r = crm_rec(i)
            r["email"] = email
            return r

        # the loop: rejected promptly with a clear error
        t0 = time.monotonic()
        st, js, _ = sl.post("loop", [rec(1, "loop")])
        took = time.monotonic() - t0
        self.assertLess(took, 5.0)
        self.assertEqual(st, 422, sl.last_raw)
        self.assertEqual(js["accepted"], 0, js)
        self.assertEqual(len(js["rejected"]), 1, js)
        self.assertEqual(js["rejected"][0]["index"], 0, js)
        self.assertTrue(js["rejected"][0]["error"].startswith("transform: "), js)
        self.assertIn("instruction limit exceeded", js["rejected"][0]["error"], js)

        # the hog: rejected with the memory limit
        t0 = time.monotonic()
        st, js, _ = sl.post("hog", [rec(2, "hog")])
        took_hog = time.monotonic() - t0
        self.assertLess(took_hog, 10.0)
        self.assertEqual(st, 422, sl.last_raw)
        self.assertEqual(len(js["rejected"]), 1, js)
        self.assertIn("memory limit", js["rejected"][0]["error"], js)
        self.assertTrue(sl.alive())

        # the other connector serves as usual
        self.post_ok(sl, "plain", [crm_rec(i) for i in range(10)], accepted=10)
        sl.wait_drained("plain", 10)
        self.assertEqual(sorted(r["id"] for q in dest.ok_requests()
                                if q.path == "/plain" for r in q.records()),
                         list(range(10)))

        # and the two broken ones recover for the records that behave
        for name, bad in (("loop", "loop"), ("hog", "hog")):
            st, js, _ = sl.post(name, [rec(10, "ok@x.io"), rec(11, bad),
                                       rec(12, "ok2@x.io")])
            self.assertEqual(st, 200, sl.last_raw)
            self.assertEqual(js["accepted"], 2, js)
            self.assertEqual([r["index"] for r in js["rejected"]], [1], js)
            sl.wait_drained(name, 2)
            got = [r["id"] for q in dest.ok_requests() if q.path == "/" + name
                   for r in q.records()]
            self.assertEqual(sorted(got), [10, 12], name)
        self.post_ok(sl, "plain", [crm_rec(99)], accepted=1)
        sl.wait_drained("plain", 11)
        self.assertTrue(sl.alive())
        self.assertEqual(sl.get("/healthz")[0], 200)

    # ---- 5. a slow sluice.http.request does not block the loop ----------

    def test_http_request_in_headers_fn_does_not_block(self):
        slow_s = 3.0
        counter = [0]
        lock = threading.Lock()

        def slow(method, path, headers, body):
            with lock:
                counter[0] += 1
                n = counter[0]
            srv_started = time.monotonic()
            slow_srv.release.wait(slow_s)   # set only when the test ends
            if time.monotonic() - srv_started < slow_s - 0.05:
                return 503, {}, b"stopped"
            return 200, {"Content-Type": "text/plain"}, ("slow-answer-%d" % n).encode()

        slow_srv = self.start_server(slow)
        dest = self.start_destination()
        hfn = """function(req)
    local r, err = sluice.http.request {
      method = "GET", url = %s, headers = { ["X-From"] = req.connector },
      timeout_ms = 10000,
    }
    if not r then error("slow server: " .. tostring(err)) end
    return { ["X-Slow"] = r.body, ["X-Slow-Status"] = tostring(r.status),
             ["X-Slow-CT"] = r.headers["content-type"] or "none" }
  end""" % lua_str(slow_srv.url + "/slow")
        sl = self.start_sluice({
            "slowc": connector_lua("slowc", dest.url + "/slowc", retry=FAST_RETRY,
                                   timeout_ms=20000,
                                   extra={"headers_fn": LuaRaw(hfn)}),
            "fast": connector_lua("fast", dest.url + "/fast", retry=FAST_RETRY),
        })
        self.post_ok(sl, "slowc", [crm_rec(1)], accepted=1)
        wait_until(lambda: slow_srv.calls(), 5, msg="headers_fn's request at "
                   "the slow server")
        t_slow = slow_srv.calls()[0][0]

        times = []
        for i in range(6):
            name = "fast" if i % 3 else "slowc"
            t0 = time.monotonic()
            self.post_ok(sl, name, [crm_rec(100 + i)], accepted=1)
            times.append((name, time.monotonic() - t0))
        t_posted = time.monotonic()
        self.assertLess(t_posted - t_slow, slow_s - 0.5,
                        "the posts themselves took too long to prove anything")
        self.assertTrue(all(t < 0.5 for _, t in times), times)
        # the fast connector even delivers while the slow call waits
        dest.wait_requests(1, timeout=2)
        fast = [q for q in dest.ok_requests() if q.path == "/fast"]
        self.assertTrue(fast and fast[0].time < t_slow + slow_s - 0.2,
                        dest.summary())
        # then the slow call completes and its batch goes out with the answer
        sl.wait_drained("slowc", 3, timeout=15)
        sl.wait_drained("fast", 4, timeout=5)
        slowc = [q for q in dest.ok_requests() if q.path == "/slowc"]
        self.assertTrue(slowc)
        first = [q for q in slowc if 1 in [r["id"] for r in q.records()]]
        self.assertEqual(len(first), 1, dest.summary())
        q = first[0]
        self.assertRegex(q.headers.get("X-Slow") or "", r"^slow-answer-\d+$")
        self.assertEqual(q.headers.get("X-Slow-Status"), "200")
        self.assertEqual(q.headers.get("X-Slow-CT"), "text/plain")
        self.assertGreaterEqual(q.time - t_slow, slow_s - 0.1)
        for q in slowc:
            self.assertRegex(q.headers.get("X-Slow") or "", r"^slow-answer-\d+$")
        _, _, _, hdrs, _ = slow_srv.calls()[0]
        self.assertEqual(hdrs.get("X-From"), "slowc")

    # ---- 6. an error in headers_fn fails the attempt, which is retried ---

    def test_headers_fn_error_is_retried(self):
        probes = []
        probe = self.start_server(lambda m, p, h, b: (probes.append(b.decode()),
                                                      (200, {}, b"ok"))[1])
        dest = self.start_destination()
        hfn = """function(req)
    sluice.http.request { method = "POST", url = %s, timeout_ms = 5000,
      body = table.concat({ req.batch_id, tostring(req.attempt),
                            tostring(req.last_status), tostring(req.records),
                            req.method, req.url, req.connector,
                            tostring(#req.body) }, "|") }
    if req.attempt < 3 then error("not yet") end
    return { ["X-Attempt"] = tostring(req.attempt),
             ["X-Batch-Id"] = req.batch_id,
             ["X-Body-Sha256"] = sluice.hex(sluice.sha256(req.body)) }
  end""" % lua_str(probe.url + "/probe")
        url = dest.url + "/retry"
        sl = self.start_sluice({"retry": connector_lua(
            "retry", url, retry=FAST_RETRY, concurrency=1,
            headers={"X-Attempt": "static", "X-Static": "yes"},
            extra={"headers_fn": LuaRaw(hfn)})})
        self.post_ok(sl, "retry", [crm_rec(i) for i in range(3)], accepted=3)
        stats = sl.wait_drained("retry", 3, timeout=10)

        reqs = dest.requests()
        self.assertEqual(len(reqs), 1, dest.summary())
        q = reqs[0]
        self.assertEqual(q.headers.get("X-Attempt"), "3")
        self.assertEqual(q.headers.get("X-Static"), "yes")
        self.assertEqual(q.headers.get("X-Body-Sha256"),
                         hashlib.sha256(q.body).hexdigest())
        self.assertEqual([r["id"] for r in q.records()], [0, 1, 2])
        # two attempts failed in headers_fn (never sent), one was sent
        self.assertEqual((stats.get("requests"), stats.get("failures")), (1, 2), stats)

        wait_until(lambda: len(probes) >= 3, 5, msg="3 probes")
        seen = [p.split("|") for p in probes]
        sys.stderr.write("\n[headers_fn retry] req as seen per attempt: %r\n"
                         % seen)
        self.assertEqual(len(seen), 3, seen)
        self.assertEqual([s[1] for s in seen], ["1", "2", "3"])
        self.assertEqual(len({s[0] for s in seen}), 1, "batch_id changed: %r" % seen)
        self.assertEqual(seen[0][0], q.headers.get("X-Batch-Id"))
        self.assertEqual(seen[0][2], "nil", "last_status on attempt 1")
        for s in seen:
            self.assertEqual(s[3:7], ["3", "POST", url, "retry"], s)
            self.assertEqual(int(s[7]), len(q.body), s)

    def test_headers_fn_header_rules(self):
        """headers_fn's headers follow the static-header rules: a reserved
        name fails the attempt (retried, logged), false removes a static
        header, integers are sent as text."""
        dest = self.start_destination()
        hfn = """function(req)
    if req.attempt == 1 then return { ["Content-Length"] = "1" } end
    return { ["X-Static"] = false, ["X-Count"] = req.records }
  end"""
        sl = self.start_sluice({"rules": connector_lua(
            "rules", dest.url + "/rules", retry=FAST_RETRY, concurrency=1,
            headers={"X-Static": "yes", "X-Kept": "k"},
            extra={"headers_fn": LuaRaw(hfn)})})
        self.post_ok(sl, "rules", [crm_rec(i) for i in range(2)], accepted=2)
        stats = sl.wait_drained("rules", 2, timeout=10)
        reqs = dest.requests()
        self.assertEqual(len(reqs), 1, dest.summary())
        h = reqs[0].headers
        self.assertIsNone(h.get("X-Static"))
        self.assertEqual(h.get("X-Kept"), "k")
        self.assertEqual(h.get("X-Count"), "2")
        self.assertEqual(stats.get("failures"), 1, stats)
        self.assertIn("Content-Length", sl.stderr_tail(200))
        self.assertIn("is set by sluice", sl.stderr_tail(200))

    def test_headers_fn_budget_survives_pcall(self):
        """An endless loop in headers_fn is stopped by the instruction budget
        even when the script wraps it in pcall and loops again: the attempt
        fails (retried), the gateway keeps serving, and a later attempt that
        behaves is delivered."""
        dest = self.start_destination()
        hfn = """function(req)
    if req.attempt == 1 then
      for _ = 1, 3 do pcall(function() while true do end end) end
      while true do end
    end
    return { ["X-Attempt"] = tostring(req.attempt) }
  end"""
        sl = self.start_sluice({"spin": connector_lua(
            "spin", dest.url + "/spin", retry=FAST_RETRY, concurrency=1,
            extra={"headers_fn": LuaRaw(hfn),
                   "lua": LuaRaw("{ max_instructions = 100000 }")})})
        self.post_ok(sl, "spin", [crm_rec(i) for i in range(2)], accepted=2)
        stats = sl.wait_drained("spin", 2, timeout=10)
        reqs = dest.requests()
        self.assertEqual(len(reqs), 1, dest.summary())
        self.assertEqual(reqs[0].headers.get("X-Attempt"), "2")
        self.assertEqual(stats.get("failures"), 1, stats)
        self.assertIn("instruction limit exceeded", sl.stderr_tail(200))

    def test_headers_fn_error_log_names_file_and_line(self):
        """Beyond the letter of the spec, what an operator expects (and what
        transform errors do): the warning for an attempt that failed in
        headers_fn names the connector file and line, not Lua's placeholder
        chunk name."""
        dest = self.start_destination()
        hfn = """function(req)
    if req.attempt < 2 then error("not yet") end
    return {}
  end"""
        src = connector_lua("hlog", dest.url + "/h", retry=FAST_RETRY,
                            extra={"headers_fn": LuaRaw(hfn)})
        sl = self.start_sluice({"hlog": src})
        self.post_ok(sl, "hlog", [crm_rec(1)], accepted=1)
        sl.wait_drained("hlog", 1, timeout=10)
        want = "hlog.lua:%d: not yet" % line_of(src, 'error("not yet")')
        log = wait_until(lambda: "not yet" in sl.stderr_tail() and sl.stderr_tail(),
                         5, msg="the warning in the log")
        line = [ln for ln in log.splitlines() if "not yet" in ln][0]
        self.assertIn(want, json.loads(line)["msg"], line)


if __name__ == "__main__":
    unittest.main(verbosity=2)
