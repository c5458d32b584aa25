"""Status classification overrides (issue 13, item 4): a connector's
`status = { success = {...}, retry = {...}, permanent = {...} }` changes
what a destination's status code means. A 409 listed in success counts
as delivered at once; a 400 listed in retry is tried again after the
backoff (honouring Retry-After) and arrives when the destination then
answers 200; a 500 listed in permanent is dead-lettered without a retry,
the dead letter's reason naming the list; a listed 401 loses its one
retry with fresh headers; an unlisted 404 stays permanent; `sluice check`
shows the lists.

Every assertion is on what reached the destination (a real local HTTP
server) or on what `sluice dlq` and the stats report. Python 3 standard
library only.
"""

import os
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sluice_it import (SluiceTestCase, LuaRaw, connector_lua, crm_record,  # noqa: E402
                       wait_until)

FAST = {"base_ms": 20, "max_ms": 300}
LISTS = LuaRaw("{ success = { 200, 201, 202, 207, 409 }, "
               "retry = { 400 }, permanent = { 500, 401 } }")


class StatusOverridesTest(SluiceTestCase):

    def connector(self, dest, **extra):
        x = {"status": LISTS}
        x.update(extra)
        return connector_lua("crm", dest.url + "/in", concurrency=1,
                             retry=FAST, extra=x)

    def post_ok(self, sl, recs):
        st, js, _ = sl.post("crm", recs)
        self.assertEqual(st, 200, "intake answer: %s %r" % (st, sl.last_raw))
        self.assertEqual(js.get("accepted"), len(recs), js)

    def settle(self, sl, dest, n_requests):
        """Wait until the destination has n_requests and nothing is left
        queued or in flight; then a moment more, for a retry that must not
        come."""
        wait_until(lambda: len(dest.requests()) >= n_requests, 15,
                   msg=lambda: "%d requests (%s)" % (n_requests,
                                                     dest.summary()))

        def idle():
            s = sl.stats("crm")
            return s if s.get("queued") == 0 and s.get("in_flight") == 0 \
                else None
        wait_until(idle, 15, msg="the connector idle")
        time.sleep(0.5)  # longer than FAST's backoff: a retry would show

    def test_409_in_success_is_delivered(self):
        dest = self.start_flex_destination(
            func=lambda i, req: (409, {}, b'{"error":"already exists"}'))
        sl = self.start_sluice({"crm": self.connector(dest)})
        self.post_ok(sl, [crm_record(i) for i in range(5)])
        self.settle(sl, dest, 1)
        self.assertEqual([r.status for r in dest.requests()], [409],
                         dest.summary())
        self.assertEqual(len(dest.requests()[0].records()), 5)
        st = sl.stats("crm")
        self.assertEqual(st.get("delivered"), 5, st)
        self.assertEqual(st.get("dead_lettered", 0), 0, st)
        self.assertEqual(st.get("failures", 0), 0, st)
        self.assertEqual(sl.dlq_list("crm"), [])

    def test_400_in_retry_is_retried_then_delivered(self):
        answered = []

        def func(index, req):
            if index < 2:
                answered.append(time.monotonic())
                return 400, {"Retry-After": "1"}, b'{"error":"try later"}'
            return 200

        dest = self.start_flex_destination(func=func)
        sl = self.start_sluice({"crm": self.connector(dest)})
        self.post_ok(sl, [crm_record(i) for i in range(5)])
        wait_until(lambda: dest.ids() == list(range(5)), 15,
                   msg=lambda: "delivery after the 400s (%s)"
                   % dest.summary())
        self.settle(sl, dest, 3)
        reqs = dest.requests()
        self.assertEqual([r.status for r in reqs], [400, 400, 200])
        self.assertEqual(len({r.body for r in reqs}), 1, "the same batch")
        # Retry-After: 1 is honoured (a lower bound only)
        self.assertGreaterEqual(reqs[1].time - reqs[0].answered, 0.9)
        st = sl.stats("crm")
        self.assertEqual(st.get("delivered"), 5, st)
        self.assertEqual(st.get("dead_lettered", 0), 0, st)
        self.assertEqual(sl.dlq_list("crm"), [])

    def test_400_in_retry_runs_out_of_time_names_the_list(self):
        dest = self.start_flex_destination(func=lambda i, req: 400)
        sl = self.start_sluice({"crm": connector_lua(
            "crm", dest.url + "/in", concurrency=1,
            retry={"base_ms": 20, "max_ms": 100, "max_elapsed_s": 1},
            extra={"status": LISTS})})
        self.post_ok(sl, [crm_record(i) for i in range(3)])
        entries = wait_until(lambda: (lambda e: e if len(e) == 3 else None)(
            sl.dlq_list("crm")), 15, interval=0.1, msg="3 dead letters")
        self.assertGreater(len(dest.requests()), 1, "retried")
        for e in entries:
            self.assertIn("ran out", e["reason"], e)
            self.assertIn("HTTP 400 (status.retry)", e["reason"], e)

    def test_500_in_permanent_is_dead_lettered_at_once(self):
        dest = self.start_flex_destination(
            func=lambda i, req: (500, {}, b'{"error":"schema mismatch"}'))
        sl = self.start_sluice({"crm": self.connector(
            dest, on_permanent="dead_letter")})
        self.post_ok(sl, [crm_record(i) for i in range(4)])
        entries = wait_until(lambda: (lambda e: e if len(e) == 4 else None)(
            sl.dlq_list("crm")), 15, interval=0.1, msg="4 dead letters")
        self.settle(sl, dest, 1)
        self.assertEqual([r.status for r in dest.requests()], [500],
                         "no retry: " + dest.summary())
        self.assertEqual(sorted(e["record"]["id"] for e in entries),
                         list(range(4)))
        for e in entries:
            self.assertEqual(e["status"], 500, e)
            self.assertEqual(e["reason"], "HTTP 500 (status.permanent)", e)
            self.assertIn("schema mismatch", str(e.get("response")), e)
        st = sl.stats("crm")
        self.assertEqual(st.get("dead_lettered"), 4, st)
        self.assertEqual(st.get("delivered", 0), 0, st)

    def test_401_in_permanent_is_not_retried_with_fresh_headers(self):
        dest = self.start_flex_destination(func=lambda i, req: 401)
        sl = self.start_sluice({"crm": self.connector(
            dest, on_permanent="dead_letter")})
        self.post_ok(sl, [crm_record(i) for i in range(2)])
        entries = wait_until(lambda: (lambda e: e if len(e) == 2 else None)(
            sl.dlq_list("crm")), 15, interval=0.1, msg="2 dead letters")
        self.settle(sl, dest, 1)
        self.assertEqual([r.status for r in dest.requests()], [401])
        for e in entries:
            self.assertEqual(e["reason"], "HTTP 401 (status.permanent)", e)

    def test_404_unlisted_stays_permanent(self):
        dest = self.start_flex_destination(func=lambda i, req: 404)
        sl = self.start_sluice({"crm": self.connector(
            dest, on_permanent="dead_letter")})
        self.post_ok(sl, [crm_record(i) for i in range(3)])
        entries = wait_until(lambda: (lambda e: e if len(e) == 3 else None)(
            sl.dlq_list("crm")), 15, interval=0.1, msg="3 dead letters")
        self.settle(sl, dest, 1)
        self.assertEqual([r.status for r in dest.requests()], [404])
        for e in entries:
            self.assertEqual(e["status"], 404, e)
            self.assertEqual(e["reason"], "HTTP 404 (permanent)", e)

    def test_check_shows_the_lists_and_refuses_a_code_twice(self):
        dest = self.start_flex_destination()
        sl = self.make_sluice({"crm": self.connector(dest)})
        rc, out, err = sl.check()
        self.assertEqual(rc, 0, out + err)
        self.assertIn("status          success 200 201 202 207 409; retry "
                      "400; permanent 401 500", out)
        bad = self.make_sluice({"crm": connector_lua(
            "crm", dest.url + "/in", extra={"status": LuaRaw(
                "{ success = { 409 }, permanent = { 409, \"500\" } }")})})
        rc, out, err = bad.check()
        self.assertNotEqual(rc, 0)
        self.assertIn("status.permanent[1]: 409 is in status.success and "
                      "status.permanent; a code may be in one list only",
                      out + err)
        self.assertIn("status.permanent[2]: expected an HTTP status code",
                      out + err)


if __name__ == "__main__":
    unittest.main(verbosity=2)
