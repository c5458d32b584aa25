"""response_fn (issue 13, items 5 and 6): a connector's Lua function reads
every answer of the destination and says what it means, record by record.

The destination here is bulk-style, like Elasticsearch's _bulk: it takes
a JSON array and answers 200 with {"items": [...]} in request order, one
result per record: 201, or 400 with a reason for a record it refuses (an
email at bad.example), or 429 for a record it throttles (ids divisible by
5, the first time it sees them). The connector's response_fn (written
inline here) maps the items to `failed`. The tests assert on what reached
the destination and what `sluice dlq` holds: exactly the refused records
are dead-lettered with reasons naming batch and item, the throttled ones
arrive on a later attempt in a request of their own, nothing else is sent
twice. Also: an erroring response_fn and one in an endless loop retry the
batch; max_response_bytes cuts a large body and says so; response_fn may
poll an asynchronous job with sluice.http.request; `status` overrides and
a nil from response_fn combine; hostile returns are refused and retried;
`sluice dlq replay` sends the refused records again.

Python 3 standard library only.
"""

import json
import os
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sluice_it import (SluiceTestCase, LuaRaw, connector_lua, crm_record,  # noqa: E402
                       lua_str, wait_until)

FAST = {"base_ms": 20, "max_ms": 200}

# Maps a bulk answer's items to failed: 429 -> retry, other non-2xx ->
# refused with the item's reason. It checks req.record(i) against the id
# the destination echoes, so a record out of place would show.
BULK_FN = LuaRaw("""function(res, req)
    if res.status ~= 200 then return nil end
    local ans = sluice.json.decode(res.body)
    local failed = {}
    for i, item in ipairs(ans.items) do
      if req.record(i).id ~= item.id then
        error("item " .. i .. " is id " .. tostring(item.id) .. ", not "
              .. tostring(req.record(i).id))
      end
      if item.status == 429 then
        failed[#failed + 1] = { index = i, retry = true, reason = "throttled" }
      elseif item.status >= 300 then
        failed[#failed + 1] = { index = i, reason = item.error.reason }
      end
    end
    return { failed = failed }
  end""")


def bad(i):
    return i % 7 == 3


def throttled(i):
    return i % 5 == 0


class Bulk:
    """A bulk-style destination's answers, and what it took. It refuses a
    record whose email is at bad.example (until `fixed`); `throttle`
    chooses records by id, answered 429 the first time only."""

    def __init__(self, throttle=throttled):
        self.fixed = False    # refuse nothing from now on
        self.throttle = throttle
        self.lock = threading.Lock()
        self.seen = {}        # id -> times seen
        self.taken = []       # ids answered 201, in order
        self.positions = {}   # id -> (request index, 1-based position)

    def __call__(self, index, req):
        if req.path != "/bulk":
            return 404
        items = []
        with self.lock:
            for pos, rec in enumerate(req.records(), 1):
                i = rec["id"]
                self.seen[i] = self.seen.get(i, 0) + 1
                self.positions.setdefault(i, (index, pos))
                if not self.fixed and "bad.example" in rec["email"]:
                    items.append({"id": i, "status": 400,
                                  "error": {"reason": "bad email"}})
                elif self.throttle(i) and self.seen[i] == 1:
                    items.append({"id": i, "status": 429})
                else:
                    items.append({"id": i, "status": 201})
                    self.taken.append(i)
        return 200, {}, json.dumps({"items": items}).encode()


def records(n, refuse=bad):
    return [crm_record(i, email="u%d@bad.example" % i if refuse(i) else None)
            for i in range(n)]


class ResponseFnTest(SluiceTestCase):

    def connector(self, dest, path="/bulk", fn=BULK_FN, **extra):
        x = {"response_fn": fn}
        x.update(extra)
        return connector_lua("crm", dest.url + path, concurrency=1,
                             retry=FAST, batch={"max_records": 50},
                             extra=x)

    def post_ok(self, sl, recs):
        st, js, _ = sl.post("crm", recs)
        self.assertEqual(st, 200, "intake answer: %s %r" % (st, sl.last_raw))
        self.assertEqual(js.get("accepted"), len(recs), js)

    def idle(self, sl):
        def cond():
            s = sl.stats("crm")
            return s if s.get("queued") == 0 and s.get("in_flight") == 0 \
                and s.get("pending") == 0 else None
        return wait_until(cond, 20, msg="the connector idle")

    def test_partial_failures_dead_letter_and_retry_exactly(self):
        bulk = Bulk()
        dest = self.start_flex_destination(func=bulk)
        sl = self.start_sluice({"crm": self.connector(dest)})
        n = 120
        self.post_ok(sl, records(n))
        refused = [i for i in range(n) if bad(i)]
        want = [i for i in range(n) if not bad(i)]
        wait_until(lambda: sorted(bulk.taken) == want, 20,
                   msg=lambda: "every good record taken (%s)"
                   % dest.summary())
        entries = wait_until(
            lambda: (lambda e: e if len(e) == len(refused) else None)(
                sl.dlq_list("crm")), 15, interval=0.1,
            msg="the refused records dead-lettered")
        st = self.idle(sl)
        time.sleep(0.3)  # longer than FAST's backoff: a resend would show

        # every good record reached the destination exactly once
        self.assertEqual(sorted(bulk.taken), want)
        self.assertEqual(len(bulk.taken), len(set(bulk.taken)))
        # nothing else was resent: refused once, throttled twice
        for i in range(n):
            times = 2 if throttled(i) and not bad(i) else 1
            self.assertEqual(bulk.seen.get(i), times, "record %d" % i)
        # exactly the refused records are dead letters, with their reasons
        # naming the batch (its key) and the item (its place in the request)
        self.assertEqual(sorted(e["record"]["id"] for e in entries), refused)
        reqs = dest.requests()
        for e in entries:
            i = e["record"]["id"]
            req_index, pos = bulk.positions[i]
            key = reqs[req_index].headers.get("Idempotency-Key")
            self.assertEqual(e["reason"], "item %d of batch %s: bad email"
                             % (pos, key), e)
            self.assertEqual(e["batch_id"], key, e)
            self.assertEqual(e["status"], 200, e)
            self.assertIn("bad email", str(e.get("response")), e)
        # the throttled records came again in requests of their own, after
        # the batch they were in, with keys of their own
        first = {}
        for q in reqs:
            ids = [r["id"] for r in q.records()]
            again = [i for i in ids if i in first]
            if again:
                self.assertEqual(again, ids, "a retry holds only the "
                                 "throttled records: %r" % ids)
                self.assertTrue(all(throttled(i) for i in ids), ids)
                self.assertNotIn(q.headers.get("Idempotency-Key"),
                                 {reqs[first[i]].headers.get(
                                     "Idempotency-Key") for i in ids})
                self.assertRegex(q.headers.get("Idempotency-Key"),
                                 r"-p[0-9a-f]{8}$")
            for i in ids:
                first.setdefault(i, q.index)
        self.assertEqual(st.get("dead_lettered"), len(refused), st)
        self.assertEqual(st.get("delivered"), len(want), st)
        self.assertEqual(st.get("records_retried"),
                         len([i for i in want if throttled(i)]), st)
        self.assertEqual(st.get("response_fn_errors", 0), 0, st)
        log = sl.stderr_text()
        self.assertIn("the destination refused", log)
        self.assertIn("to send again on their own (response_fn)", log)

        with self.subTest("sluice dlq list shows the item"):
            rc, out, err = sl.cli("dlq", "list", "crm")
            self.assertEqual(rc, 0, out + err)
            # record 3, the 4th of its request: the batch id is left out
            # of the reason's column, which then shows why
            self.assertRegex(out, r"\n +1  \S+ +200 +1  item 4: bad email +"
                             r"http://127\.0\.0\.1:\d+/bulk +\{\"id\":3,")
            self.assertIn("17 dead letter(s)", out)
            e = entries[0]
            rc, out, err = sl.cli("dlq", "show", "crm", str(e["id"]))
            self.assertEqual(rc, 0, out + err)
            self.assertIn("reason         " + e["reason"] + "\n", out)

        with self.subTest("sluice dlq replay sends them again"):
            bulk.fixed = True
            rc, out, err = sl.cli("dlq", "replay", "crm")
            self.assertEqual(rc, 0, out + err)
            wait_until(lambda: set(refused) <= set(bulk.taken), 15,
                       msg="the replayed records taken")
            wait_until(lambda: sl.dlq_list("crm") == [], 10,
                       msg="the dead letters empty after the replay")

    def test_erroring_response_fn_retries_the_batch(self):
        dest = self.start_flex_destination(func=lambda i, r: 200)
        fn = LuaRaw("""(function()
    local calls = 0
    return function(res, req)
      calls = calls + 1
      if calls == 1 then error("boom on call " .. calls) end
      return nil
    end
  end)()""")
        sl = self.start_sluice({"crm": self.connector(dest, fn=fn)})
        self.post_ok(sl, [crm_record(i) for i in range(3)])
        st = sl.wait_drained("crm", 3)
        reqs = dest.requests()
        self.assertEqual(len(reqs), 2, dest.summary())
        self.assertEqual(reqs[0].body, reqs[1].body, "the same batch again")
        self.assertEqual(dest.ids(), [0, 1, 2, 0, 1, 2])
        self.assertEqual(st.get("delivered"), 3, st)
        self.assertEqual(st.get("response_fn_errors"), 1, st)
        self.assertEqual(st.get("dead_lettered", 0), 0, st)
        key = reqs[0].headers.get("Idempotency-Key")
        line = [ln for ln in sl.log_lines() if "response_fn:" in
                ln.get("msg", "")]
        self.assertEqual(len(line), 1, line)
        self.assertIn("batch %s " % key, line[0]["msg"])
        self.assertRegex(line[0]["msg"], r"HTTP 200: response_fn: "
                         r"\S*crm\.lua:\d+: boom on call 1; retrying")

    def test_endless_loop_hits_the_budget_and_retries(self):
        dest = self.start_flex_destination(func=lambda i, r: 200)
        fn = LuaRaw("""(function()
    local calls = 0
    return function(res, req)
      calls = calls + 1
      if calls == 1 then while true do end end
      return nil
    end
  end)()""")
        sl = self.start_sluice({"crm": self.connector(
            dest, fn=fn, lua=LuaRaw("{ max_instructions = 100000 }"))})
        self.post_ok(sl, [crm_record(i) for i in range(2)])
        st = sl.wait_drained("crm", 2)
        self.assertEqual(len(dest.requests()), 2, dest.summary())
        self.assertEqual(st.get("response_fn_errors"), 1, st)
        self.assertIn("instruction limit exceeded; retrying",
                      sl.stderr_text())

    def test_max_response_bytes_cuts_and_says_so(self):
        big = json.dumps({"ok": True, "pad": "x" * 5000}).encode()
        dest = self.start_flex_destination(
            func=lambda i, r: (503 if i == 0 else 200, {}, big))
        fn = LuaRaw("""function(res, req)
    if #res.body ~= 1024 or not res.truncated then
      return { outcome = "permanent",
               reason = "saw " .. #res.body .. " " .. tostring(res.truncated) }
    end
    if res.headers["content-type"] ~= "application/json" then
      return { outcome = "permanent", reason = "no content-type" }
    end
    return nil
  end""")
        sl = self.start_sluice({"crm": self.connector(
            dest, fn=fn, max_response_bytes=1024)})
        self.post_ok(sl, [crm_record(i) for i in range(2)])
        st = sl.wait_drained("crm", 2)
        self.assertEqual([r.status for r in dest.requests()], [503, 200])
        self.assertEqual(sl.dlq_list("crm"), [])
        self.assertEqual(st.get("delivered"), 2, st)
        # said once per batch, though both answers were cut
        cut = [ln for ln in sl.log_lines()
               if "cut at max_response_bytes = 1024" in ln.get("msg", "")]
        self.assertEqual(len(cut), 1, cut)

    def test_small_body_is_whole_and_headers_join(self):
        seen = []

        def func(i, r):
            return 200, {"X-Part": "a", "x-part": "b"}, b'{"items":[]}'
        dest = self.start_flex_destination(func=func)
        probe = self.start_flex_destination(
            func=lambda i, r: (seen.append(r.body.decode()), 200)[1])
        fn = LuaRaw("""function(res, req)
    sluice.http.request { method = "POST", url = %s,
      body = table.concat({ tostring(res.status), res.body,
        tostring(res.truncated), tostring(res.headers["x-part"]),
        tostring(req.records), req.batch_id, tostring(req.attempt),
        req.record(2).email, tostring(req.record(2) == req.record(2)),
        tostring(pcall(req.record, 3)), tostring(pcall(req.record, 0)) },
        "|") }
    return nil
  end""" % lua_str(probe.url + "/probe"))
        sl = self.start_sluice({"crm": self.connector(dest, fn=fn)})
        self.post_ok(sl, [crm_record(i) for i in range(2)])
        sl.wait_drained("crm", 2)
        wait_until(lambda: seen, 5, msg="the probe")
        parts = seen[0].split("|")
        key = dest.requests()[0].headers.get("Idempotency-Key")
        self.assertEqual(parts[:9], ["200", '{"items":[]}', "false", "a, b",
                                     "2", key, "1", "user1@example.com",
                                     "true"], parts)
        self.assertEqual(parts[9], "false")   # record(3): out of range
        self.assertEqual(parts[10], "false")  # record(0)

    def test_polls_an_async_job_with_http_request(self):
        jobs = {}
        lock = threading.Lock()

        def func(i, r):
            if r.path == "/bulk":
                with lock:
                    n = len(jobs)
                    jobs[n] = {"polls": 0, "ids": [x["id"] for x in
                                                   r.records()]}
                return 202, {}, json.dumps({"job": "/jobs/%d" % n}).encode()
            if r.path.startswith("/jobs/"):
                with lock:
                    job = jobs[int(r.path.rsplit("/", 1)[1])]
                    job["polls"] += 1
                    if job["polls"] < 3:
                        return 200, {}, b'{"state":"running"}'
                items = [{"status": 400, "error": "bad id"} if i % 4 == 1
                         else {"status": 201} for i in job["ids"]]
                return 200, {}, json.dumps({"state": "done",
                                            "items": items}).encode()
            return 404

        dest = self.start_flex_destination(func=func)
        fn = LuaRaw("""function(res, req)
    if res.status ~= 202 then return nil end
    local job = sluice.json.decode(res.body).job
    for _ = 1, 100 do
      local r, err = sluice.http.request { url = %s .. job,
                                           timeout_ms = 2000 }
      if not r then error("job: " .. tostring(err)) end
      local js = sluice.json.decode(r.body)
      if js.state == "done" then
        local failed = {}
        for i, it in ipairs(js.items) do
          if it.status >= 300 then
            failed[#failed + 1] = { index = i, reason = it.error }
          end
        end
        return { outcome = "success", failed = failed }
      end
      sluice.sleep(30)
    end
    return { outcome = "retry", reason = "the job did not finish" }
  end""" % lua_str(dest.url))
        sl = self.start_sluice({"crm": self.connector(dest, fn=fn)})
        self.post_ok(sl, [crm_record(i) for i in range(8)])
        entries = wait_until(lambda: (lambda e: e if len(e) == 2 else None)(
            sl.dlq_list("crm")), 15, interval=0.1, msg="2 dead letters")
        st = self.idle(sl)
        self.assertEqual(sorted(e["record"]["id"] for e in entries), [1, 5])
        for e in entries:
            self.assertRegex(e["reason"], r"^item \d of batch crm-\S+: "
                             r"bad id$")
        self.assertEqual(len(dest.requests(path="/bulk")), 1)
        self.assertEqual(jobs[0]["polls"], 3)
        self.assertEqual(st.get("delivered"), 6, st)

    def test_status_overrides_and_response_fn_combine(self):
        """nil from response_fn is the default classification, status
        lists included; failed applies when the status means delivered."""
        seen = {}

        def func(i, r):
            ids = [x["id"] for x in r.records()]
            first = ids[0]
            seen[first] = seen.get(first, 0) + 1
            if first in (0, 30):
                return 409, {}, b'{"error":"exists"}'
            if first in (10, 40):
                return 500, {}, b'{"error":"schema"}'
            if first == 20 and seen[first] == 1:
                return 400, {}, b'{"error":"later"}'
            return 200

        dest = self.start_flex_destination(func=func)
        fn = LuaRaw("""function(res, req)
    local first = req.record(1).id
    if first == 30 or first == 40 then
      return { failed = { { index = 2, reason = "dup" } } }
    end
    return nil
  end""")
        sl = self.start_sluice({"crm": self.connector(
            dest, fn=fn, on_permanent="dead_letter",
            status=LuaRaw("{ success = { 409 }, retry = { 400 }, "
                          "permanent = { 500 } }"))})
        for first in (0, 10, 20, 30, 40):
            self.post_ok(sl, [crm_record(first + i) for i in range(3)])
            self.idle(sl)
        entries = sl.dlq_list("crm")
        got = {e["record"]["id"]: e["reason"] for e in entries}
        key30 = [q.headers.get("Idempotency-Key") for q in dest.requests()
                 if q.records()[0]["id"] == 30][0]
        self.assertEqual(got, {
            10: "HTTP 500 (status.permanent)",
            11: "HTTP 500 (status.permanent)",
            12: "HTTP 500 (status.permanent)",
            31: "item 2 of batch %s: dup" % key30,
            40: "HTTP 500 (status.permanent)",   # failed not used: 500
            41: "HTTP 500 (status.permanent)",
            42: "HTTP 500 (status.permanent)",
        })
        self.assertEqual(seen, {0: 1, 10: 1, 20: 2, 30: 1, 40: 1})
        st = sl.stats("crm")
        delivered = 3 + 3 + 2  # 0..2 (409), 20..22 (after the 400), 30, 32
        self.assertEqual(st.get("delivered"), delivered, st)
        self.assertEqual(st.get("dead_lettered"), 7, st)

    def test_outcomes_retry_then_permanent_without_bisect(self):
        dest = self.start_flex_destination(func=lambda i, r: 200)
        fn = LuaRaw("""(function()
    local calls = 0
    return function(res, req)
      calls = calls + 1
      if calls == 1 then
        return { outcome = "retry", retry_after_s = 1, reason = "busy" }
      end
      return { outcome = "permanent", reason = "account closed" }
    end
  end)()""")
        sl = self.start_sluice({"crm": self.connector(dest, fn=fn)})
        self.post_ok(sl, [crm_record(i) for i in range(4)])
        entries = wait_until(lambda: (lambda e: e if len(e) == 4 else None)(
            sl.dlq_list("crm")), 15, interval=0.1, msg="4 dead letters")
        self.idle(sl)
        time.sleep(0.3)
        reqs = dest.requests()
        # not halved (on_permanent = "bisect" is the default): response_fn
        # has spoken
        self.assertEqual(len(reqs), 2, dest.summary())
        self.assertGreaterEqual(reqs[1].time - reqs[0].answered, 0.9)
        for e in entries:
            self.assertEqual(e["reason"], "account closed", e)
            self.assertEqual(e["status"], 200, e)
        self.assertIn("HTTP 200: busy", sl.stderr_text())

    def test_retry_runs_out_of_time_names_response_fns_reason(self):
        dest = self.start_flex_destination(func=lambda i, r: 200)
        fn = LuaRaw("""function(res, req)
    if req.records > 1 then
      return { failed = { { index = 2, retry = true, reason = "429" } } }
    end
    return { outcome = "retry", reason = "still busy" }
  end""")
        sl = self.start_sluice({"crm": connector_lua(
            "crm", dest.url + "/bulk", concurrency=1,
            retry={"base_ms": 20, "max_ms": 100, "max_elapsed_s": 1},
            extra={"response_fn": fn})})
        self.post_ok(sl, [crm_record(i) for i in range(3)])
        entries = wait_until(lambda: (lambda e: e if len(e) == 1 else None)(
            sl.dlq_list("crm")), 15, interval=0.1, msg="1 dead letter")
        st = self.idle(sl)
        # the picked record kept being asked for again until the batch's
        # retry time ran out; the others were delivered at once
        self.assertEqual(entries[0]["record"]["id"], 1)
        self.assertEqual(entries[0]["reason"], "retry time (max_elapsed_s = "
                         "1) ran out; last: HTTP 200: still busy")
        self.assertRegex(entries[0]["batch_id"], r"-p[0-9a-f]{8}$")
        self.assertGreater(entries[0]["attempts"], 2, entries[0])
        self.assertEqual(st.get("delivered"), 2, st)
        reqs = dest.requests()
        self.assertEqual([r["id"] for r in reqs[0].records()], [0, 1, 2])
        for q in reqs[1:]:
            self.assertEqual([r["id"] for r in q.records()], [1])

    def test_dlq_list_shortens_only_item_reasons(self):
        """The list drops "of batch <key>" from a reason of the form
        "item <i> of batch <key>: why"; reasons that only look like it
        are shown as they are."""
        reasons = ["item 12 of batch k-1-2-3: why", "item of batch k: x",
                   "item 3 of batch k-1 no colon", "item 3 of batches k: x",
                   "item 3x of batch k: x", "item 3 of batch : empty key",
                   "item 3 of batch k:", "item 3 of batch"]
        fn = LuaRaw("""function(res, req)
    return { outcome = "permanent", reason = req.record(1).email }
  end""")
        dest = self.start_flex_destination(func=lambda i, r: 200)
        sl = self.start_sluice({"crm": connector_lua(
            "crm", dest.url + "/bulk", body="object",
            extra={"response_fn": fn})})
        self.post_ok(sl, [crm_record(i, email=r)
                          for i, r in enumerate(reasons)])
        wait_until(lambda: len(sl.dlq_list("crm")) == len(reasons), 15,
                   interval=0.1, msg="the dead letters")
        rc, out, err = sl.cli("dlq", "list", "crm")
        self.assertEqual(rc, 0, out + err)
        shown = {}
        for line in out.splitlines()[1:-1]:
            shown[int(line.split()[0])] = line[52:82].rstrip()
        by_id = {e["id"]: e["reason"] for e in sl.dlq_list("crm")}
        for i, reason in by_id.items():
            want = "item 12: why" if reason.startswith("item 12 ") \
                else reason
            self.assertEqual(shown[i], want[:30] if len(want) <= 30
                             else want[:27] + "...", reason)

    def test_hostile_returns_are_refused_and_retried(self):
        hostile = [
            ("'ok'", "expected nil or a table"),
            ("{ outcome = 'maybe' }", "outcome: expected"),
            ("{ faild = {} }", 'unknown key "faild"'),
            ("{ failed = 'x' }", "failed: expected a list"),
            ("{ failed = { { index = 99 } } }", "99 is out of range"),
            ("{ failed = { { index = 1 }, { index = 1 } } }",
             "listed twice"),
            ("{ failed = { { index = 1.5 } } }", "got a fraction"),
            ("{ failed = { { index = 1, reason = {} } } }",
             "failed[1].reason: expected a string"),
            ("{ failed = { { index = 1, retry = 'yes' } } }",
             "failed[1].retry: expected true or false"),
            ("(function() local f = {} for i = 1, 10000 do "
             "f[i] = { index = 1 } end return { failed = f } end)()",
             "failed: 10000 items, more than the piece's 3 records"),
            ("{ retry_after_s = -5 }", "retry_after_s: expected"),
        ]
        fn = LuaRaw("""(function()
    local calls = 0
    local bad = { %s }
    return function(res, req)
      calls = calls + 1
      local f = bad[calls]
      if f then return f() end
      return nil
    end
  end)()""" % ", ".join("function() return %s end" % h for h, _ in hostile))
        dest = self.start_flex_destination(func=lambda i, r: 200)
        sl = self.start_sluice({"crm": self.connector(
            dest, fn=fn, retry={"base_ms": 5, "max_ms": 20})})
        self.post_ok(sl, [crm_record(i) for i in range(3)])
        st = sl.wait_drained("crm", 3, timeout=30)
        self.assertEqual(len(dest.requests()), len(hostile) + 1,
                         dest.summary())
        self.assertEqual(len({q.body for q in dest.requests()}), 1)
        self.assertEqual(st.get("response_fn_errors"), len(hostile), st)
        self.assertEqual(st.get("delivered"), 3, st)
        self.assertEqual(sl.dlq_list("crm"), [])
        msgs = [ln["msg"] for ln in sl.log_lines()
                if "response_fn:" in ln.get("msg", "")]
        self.assertEqual(len(msgs), len(hostile), msgs)
        for (src, want), msg in zip(hostile, msgs):
            self.assertIn(want, msg, src)
            self.assertIn("; retrying", msg)
        self.assertTrue(sl.alive())

    def test_check_shows_the_keys_and_refuses_bad_ones(self):
        dest = self.start_flex_destination()
        sl = self.make_sluice({"crm": self.connector(
            dest, max_response_bytes=4 * 1024 * 1024)})
        rc, out, err = sl.check()
        self.assertEqual(rc, 0, out + err)
        self.assertRegex(out, r"response_fn     yes \(crm\.lua:\d+\)")
        self.assertIn("max_response_bytes 4194304 (4 MiB) of an answer "
                      "shown to response_fn", out)
        for bad, want in ((100, "max_response_bytes: 100 is out of range "
                                "(1024..67108864 bytes)"),
                          (1 << 30, "max_response_bytes: 1073741824 is out "
                                    "of range"),
                          ("big", "max_response_bytes: expected an "
                                  "integer"),
                          (1.5, "max_response_bytes")):
            x = self.make_sluice({"crm": self.connector(
                dest, max_response_bytes=bad)})
            rc, out, err = x.check()
            self.assertNotEqual(rc, 0, bad)
            self.assertIn(want, out + err)
        x = self.make_sluice({"crm": connector_lua(
            "crm", dest.url, extra={"response_fn": "function(res) end"})})
        rc, out, err = x.check()
        self.assertNotEqual(rc, 0)
        self.assertIn("response_fn: expected a function, got string", out + err)


if __name__ == "__main__":
    unittest.main(verbosity=2)
