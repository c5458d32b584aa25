"""Retry policy and dead letters (issue 4): a destination that fails in
every way in a row (5xx, 429 with Retry-After, refused connections,
timeouts) loses nothing; a poison record is isolated by bisection and
dead-lettered alone, then replayed; a 413 splits batches; 401/403 are
retried once at once with a fresh headers_fn; max_elapsed_s dead-letters a
batch that keeps failing; idempotency keys; strict order; and
on_permanent = "dead_letter".

Every assertion is on what reached the destination (a real local HTTP
server) or on what `sluice dlq` reports. Python 3 standard library only.
"""

import os
import re
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sluice_it import (SluiceTestCase, LuaRaw, connector_lua, crm_record,  # noqa: E402
                       free_port, http_date, wait_until)

POISON = "poison@example.com"
POISON_BYTES = b'"email":"poison@example.com"'

# Fast retries in every test unless it says otherwise.
FAST = {"base_ms": 20, "max_ms": 300}


def ids_of(entries):
    return sorted(e["record"]["id"] for e in entries)


class RetryTest(SluiceTestCase):

    def post_ok(self, sl, name, recs):
        st, js, _ = sl.post(name, recs)
        self.assertEqual(st, 200, "intake answer to %s: %s %r"
                         % (name, st, sl.last_raw))
        self.assertEqual(js.get("accepted"), len(recs), js)
        return js

    def wait_dlq(self, sl, name, n, timeout=15.0):
        """Wait until `sluice dlq list NAME --json` shows n entries."""
        return wait_until(lambda: (lambda e: e if len(e) >= n else None)(
            sl.dlq_list(name)), timeout, interval=0.1,
            msg=lambda: "%d dead letters for %s (have %d)"
            % (n, name, len(sl.dlq_list(name))))

    def assert_no_dup_ids(self, ids):
        dups = sorted({i for i in ids if ids.count(i) > 1}) if len(ids) != len(
            set(ids)) else []
        self.assertEqual(dups, [], "records delivered twice")

    # ---- 1. one continuous fault scenario -------------------------------

    def test_continuous_faults_nothing_lost(self):
        """503 for ~3 s, then 429 + Retry-After: 2, then connection refused
        for ~3 s, then answers slower than timeout_ms, then OK; records are
        posted the whole time and every accepted one arrives."""
        phase = {"p": "503"}
        lock = threading.Lock()
        slow_left = [4]
        slow_reqs = []

        def func(index, req):
            p = phase["p"]
            if p == "503":
                return 503, {}, b'{"error":"unavailable"}'
            if p == "429":
                return 429, {"Retry-After": "2"}, b'{"error":"slow down"}'
            if p == "slow":
                with lock:
                    take = slow_left[0] > 0
                    if take:
                        slow_left[0] -= 1
                if take:
                    req.note = "slow"
                    slow_reqs.append(req)
                    dest.sleep(2.0)
                    # if sluice waited for this answer (it must not), it
                    # is a failure anyway: the records did not arrive here
                    return 503
            return 200

        dest = self.start_flex_destination(func=func)
        sl = self.start_sluice({"crm": connector_lua(
            "crm", dest.url + "/in", timeout_ms=800, concurrency=4,
            batch={"max_records": 200, "max_delay_ms": 30},
            retry={"base_ms": 50, "max_ms": 500, "max_elapsed_s": 300})})

        posted, statuses = [], []
        stop = threading.Event()
        perr = []

        def poster():
            i = 0
            try:
                while not stop.is_set():
                    recs = [crm_record(i + k) for k in range(50)]
                    st, js, _ = sl.post("crm", recs)
                    statuses.append(st)
                    if st == 200 and js.get("accepted") == 50:
                        posted.extend(range(i, i + 50))
                    i += 50
                    stop.wait(0.1)
            except Exception as e:  # reported by the test
                perr.append(repr(e))

        th = threading.Thread(target=poster, daemon=True)
        th.start()
        self.addCleanup(stop.set)
        pace = threading.Event()  # never set: a paced timer

        def n_status(code):
            return sum(1 for r in dest.requests() if r.status == code)

        t0 = time.monotonic()
        wait_until(lambda: n_status(503) >= 2, 10, msg="503s answered")
        pace.wait(max(0.0, 3.0 - (time.monotonic() - t0)))
        phase["p"] = "429"
        wait_until(lambda: n_status(429) >= 1, 10, msg="a 429 answered")
        pace.wait(2.5)
        phase["p"] = "refused"
        dest.stop()
        t_down = time.monotonic()
        pace.wait(3.0)
        n_before_up = len(dest.requests())
        phase["p"] = "slow"
        dest.start()
        t_up = time.monotonic()
        wait_until(lambda: slow_left[0] == 0, 15, msg="4 slow requests")
        wait_until(lambda: all(r.answered for r in slow_reqs), 10,
                   msg="the slow answers to finish")
        phase["p"] = "ok"
        pace.wait(1.0)
        stop.set()
        th.join(10)
        self.assertEqual(perr, [], "the poster failed")
        self.assertTrue(statuses and all(s == 200 for s in statuses),
                        "intake answers during the faults: %r"
                        % sorted(set(statuses)))
        want = set(posted)
        wait_until(lambda: want <= set(dest.ids()), 40, interval=0.1,
                   msg=lambda: "every accepted record at the destination "
                   "(missing %d of %d)" % (len(want - set(dest.ids())), len(want)))
        got = dest.ids()
        reqs = dest.requests()
        sys.stderr.write(
            "\n[faults] %d records posted in %d requests over %.1fs; %d requests "
            "at the destination (%s); %d records delivered, %d duplicates\n"
            % (len(want), len(statuses), t_up - t0, len(reqs),
               {s: sum(1 for r in reqs if r.status == s)
                for s in sorted({r.status for r in reqs if r.status})},
               len(got), len(got) - len(set(got))))
        self.assertEqual(set(got), want, "unexpected ids delivered")
        # nothing reached the destination while it was down
        self.assertFalse([r for r in reqs if t_down < r.time < t_up])
        self.assertGreater(n_before_up, 0)

        # a 429 with Retry-After: 2 -> the batch's next attempt came >= ~1.9 s
        # later, although retry.max_ms is 500
        r429 = [r for r in reqs if r.status == 429]
        self.assertTrue(r429)
        gaps = []
        for r in r429:
            later = [q for q in reqs if q.index > r.index and q.body == r.body]
            self.assertTrue(later, "the batch answered 429 was never retried: %r" % r)
            gaps.append(later[0].time - r.answered)
        sys.stderr.write("[faults] after each 429 the batch came back after "
                         "%s s\n" % ", ".join("%.2f" % g for g in gaps))
        self.assertGreaterEqual(min(gaps), 1.9,
                                "a retry came too soon after 429 + Retry-After: 2")

        # a destination slower than timeout_ms: sluice gave up on the attempt
        # (its next attempt came before the slow answer would have)
        self.assertEqual(len(slow_reqs), 4)
        for r in slow_reqs:
            later = [q for q in reqs if q.index > r.index and q.body == r.body]
            self.assertTrue(later, "a batch that timed out was never retried")
            self.assertLess(later[0].time - r.time, 1.9,
                            "timeout_ms = 800 but the retry of a request "
                            "that took 2 s came %.2fs later"
                            % (later[0].time - r.time))
        st = sl.stats("crm")
        self.assertEqual(st.get("dead_lettered", 0), 0, st)
        self.assertEqual(sl.dlq_list("crm"), [])

    def test_retry_after_http_date(self):
        """A Retry-After given as an HTTP date is honoured too."""
        answered = []

        def func(index, req):
            if index == 0:
                answered.append(time.time())
                return 503, {"Retry-After": http_date(time.time() + 3)}
            return 200

        dest = self.start_flex_destination(func=func)
        sl = self.start_sluice({"crm": connector_lua(
            "crm", dest.url + "/in", concurrency=1, retry=FAST)})
        self.post_ok(sl, "crm", [crm_record(i) for i in range(3)])
        wait_until(lambda: dest.ids() == [0, 1, 2], 15, msg="the retry")
        r0, r1 = dest.requests()[:2]
        gap = r1.time - r0.answered
        # the date has a 1 s resolution: the wait is 2 to 3 s
        self.assertGreaterEqual(gap, 1.9, "retried %.2fs after a Retry-After "
                                "date 3 s ahead" % gap)
        self.assertLess(gap, 6.0)

    def test_transient_statuses_are_retried(self):
        """408, 429, 500, 502, 503 and 504 are retried; nothing is
        dead-lettered."""
        dest = self.start_flex_destination(script=[408, 429, 500, 502, 503, 504])
        sl = self.start_sluice({"crm": connector_lua(
            "crm", dest.url + "/in", concurrency=1, retry=FAST)})
        self.post_ok(sl, "crm", [crm_record(i) for i in range(5)])
        wait_until(lambda: dest.ids() == list(range(5)), 15, msg="delivery")
        self.assertEqual([r.status for r in dest.requests()],
                         [408, 429, 500, 502, 503, 504, 200])
        self.assertEqual(len({r.body for r in dest.requests()}), 1)
        self.assertEqual(sl.dlq_list("crm"), [])

    # ---- 2. a poison record: bisected, dead-lettered alone, replayed ------

    def test_poison_record_bisected_and_replayed(self):
        fixed = [False]

        def func(index, req):
            if POISON_BYTES in req.body and not fixed[0]:
                return 400, {}, b'{"error":"bad record: invalid email"}'
            return 200

        dest = self.start_flex_destination(func=func)
        sl = self.start_sluice({"crm": connector_lua(
            "crm", dest.url + "/in", concurrency=4, retry=FAST,
            batch={"max_records": 500, "max_delay_ms": 50})})
        recs = [crm_record(i) for i in range(500)]
        recs[137]["email"] = POISON
        self.post_ok(sl, "crm", recs)
        entries = self.wait_dlq(sl, "crm", 1)
        wait_until(lambda: len(set(dest.ids())) >= 499, 15,
                   msg="the 499 good records")
        time.sleep(0.3)  # nothing more should come
        first = dest.requests()[0]
        self.assertEqual(len(first.raw_records()), 500,
                         "the 500 records were not one batch: %r" % first)
        self.assertEqual(first.status, 400)
        got = dest.ids()
        self.assertEqual(sorted(got), [i for i in range(500) if i != 137])
        self.assert_no_dup_ids(got)
        entries = sl.dlq_list("crm")
        self.assertEqual(len(entries), 1, entries)
        e = entries[0]
        self.assertEqual(e["record"]["id"], 137, e)
        self.assertEqual(e["record"]["email"], POISON, e)
        self.assertEqual(e["status"], 400, e)
        self.assertTrue(e.get("reason"), e)
        self.assertIn("bad record", str(e.get("response")), e)
        self.assertTrue(e.get("batch_id"), e)
        self.assertGreaterEqual(int(e.get("attempts") or 0), 1, e)
        for k in ("id", "time", "first_attempt", "last_attempt"):
            self.assertIn(k, e)
        self.assertEqual(sl.stats("crm").get("dead_lettered"), 1,
                         sl.stats("crm"))
        n_reqs = len(dest.requests())
        sys.stderr.write("\n[poison] isolated in %d requests\n" % n_reqs)
        # bisection, not one request per record
        self.assertLess(n_reqs, 60, dest.summary())

        rc, out, err = sl.cli("dlq", "show", "crm", str(e["id"]))
        self.assertEqual(rc, 0, out + err)
        self.assertIn(POISON, out)

        # the destination is fixed; replay -> the record arrives
        fixed[0] = True
        t0 = time.monotonic()
        rc, out, err = sl.cli("dlq", "replay", "crm")
        self.assertEqual(rc, 0, out + err)
        wait_until(lambda: 137 in dest.ids(), 10, msg="the replayed record")
        took = time.monotonic() - t0
        sys.stderr.write("[poison] replayed record arrived after %.2fs\n" % took)
        self.assertLess(took, 4.0)
        self.assertEqual(sorted(set(dest.ids())), list(range(500)))
        back = [r for q in dest.ok_requests() for r in q.records()
                if r["id"] == 137]
        self.assertEqual(back, [recs[137]])
        with self.subTest("a replayed and delivered record leaves the dead "
                          "letters"):
            wait_until(lambda: sl.dlq_list("crm") == [], 5,
                       msg="dlq list empty after the replayed record was "
                       "delivered")

    def test_several_poison_records(self):
        """Poison at the edges and side by side: bisection isolates each."""
        dest = self.start_flex_destination(
            func=lambda i, r: (400, {}, b'{"error":"bad"}') if POISON_BYTES in r.body
            else 200)
        sl = self.start_sluice({"crm": connector_lua(
            "crm", dest.url + "/in", retry=FAST,
            batch={"max_records": 500, "max_delay_ms": 50})})
        bad = [0, 250, 251, 499]
        recs = [crm_record(i) for i in range(500)]
        for i in bad:
            recs[i]["email"] = POISON
        self.post_ok(sl, "crm", recs)
        self.wait_dlq(sl, "crm", len(bad))
        wait_until(lambda: len(set(dest.ids())) >= 500 - len(bad), 15,
                   msg="the good records")
        time.sleep(0.3)
        got = dest.ids()
        self.assertEqual(sorted(got), [i for i in range(500) if i not in bad])
        self.assert_no_dup_ids(got)
        entries = sl.dlq_list("crm")
        self.assertEqual(ids_of(entries), bad)
        self.assertTrue(all(e["status"] == 400 for e in entries), entries)

    # ---- 3. 413: split until each request fits ---------------------------

    def test_413_splits_batches(self):
        limit = 60

        def func(index, req):
            if req.path == "/always413":
                return 413
            return 413 if len(req.raw_records()) > limit else 200

        dest = self.start_flex_destination(func=func)
        sl = self.start_sluice({
            "crm": connector_lua("crm", dest.url + "/in", retry=FAST,
                                 batch={"max_records": 500, "max_delay_ms": 50}),
            "huge": connector_lua("huge", dest.url + "/always413", retry=FAST,
                                  batch={"max_records": 500, "max_delay_ms": 50}),
        })
        self.post_ok(sl, "crm", [crm_record(i) for i in range(500)])
        wait_until(lambda: len(set(dest.ids("/in"))) >= 500, 15,
                   msg="all 500 records")
        reqs = dest.requests(path="/in")
        self.assertEqual(len(reqs[0].raw_records()), 500, reqs[0])
        self.assertEqual(reqs[0].status, 413)
        ok = [r for r in reqs if r.ok]
        for r in ok:
            self.assertLessEqual(len(r.raw_records()), limit, r)
        got = dest.ids("/in")
        self.assertEqual(sorted(got), list(range(500)))
        self.assert_no_dup_ids(got)
        # sub-batches carry keys of their own
        keys = [r.headers.get("Idempotency-Key") for r in ok]
        self.assertTrue(all(keys), keys)
        self.assertEqual(len(set(keys)), len(keys), keys)
        self.assertNotIn(reqs[0].headers.get("Idempotency-Key"), keys)
        sys.stderr.write("\n[413] %d requests, %d delivered, sizes %s\n"
                         % (len(reqs), len(ok),
                            sorted(len(r.raw_records()) for r in ok)))

        # a single record answered 413 is permanent
        self.post_ok(sl, "huge", [crm_record(1000 + i) for i in range(3)])
        entries = self.wait_dlq(sl, "huge", 3)
        time.sleep(0.3)
        self.assertEqual(ids_of(sl.dlq_list("huge")), [1000, 1001, 1002])
        self.assertTrue(all(e["status"] == 413 for e in entries), entries)
        self.assertEqual(sl.dlq_list("crm"), [])
        self.assertEqual(sl.stats("crm").get("dead_lettered"), 0)

    # ---- 4. 401/403: one immediate retry with a fresh headers_fn ---------

    HFN = """function(req)
    local tok = "stale"
    if req.last_status == 401 or req.last_status == 403 then tok = "fresh" end
    return { Authorization = "Bearer " .. tok,
             ["X-Last-Status"] = tostring(req.last_status),
             ["X-Attempt"] = tostring(req.attempt) }
  end"""

    def test_401_retried_once_at_once(self):
        def func(index, req):
            if req.path == "/auth":
                return 200 if req.headers.get("Authorization") == \
                    "Bearer fresh" else 401
            if req.path == "/deny403":
                return 403
            return 401

        dest = self.start_flex_destination(func=func)
        slow_retry = {"base_ms": 3000, "max_ms": 6000}  # backoff would show
        conns = {}
        for name in ("auth", "deny", "deny403"):
            conns[name] = connector_lua(name, dest.url + "/" + name,
                                        concurrency=1, retry=slow_retry,
                                        extra={"headers_fn": LuaRaw(self.HFN)})
        sl = self.start_sluice(conns)
        self.post_ok(sl, "auth", [crm_record(i) for i in range(5)])
        wait_until(lambda: dest.ids("/auth") == list(range(5)), 10,
                   msg="delivery after the token refresh")
        reqs = dest.requests(path="/auth")
        self.assertEqual([r.status for r in reqs], [401, 200], reqs)
        r1, r2 = reqs
        self.assertEqual(r2.headers.get("Authorization"), "Bearer fresh")
        self.assertEqual(r2.headers.get("X-Last-Status"), "401")
        self.assertEqual(r1.headers.get("X-Last-Status"), "nil")
        self.assertEqual(r1.body, r2.body)
        self.assertEqual(r1.headers.get("Idempotency-Key"),
                         r2.headers.get("Idempotency-Key"))
        gap = r2.time - r1.answered
        sys.stderr.write("\n[401] retried after %.3fs\n" % gap)
        self.assertLess(gap, 0.5, "the retry after a 401 was not immediate")

        # 401 (or 403) twice in a row: permanent, the whole batch is
        # dead-lettered, no bisection
        for name, code in (("deny", 401), ("deny403", 403)):
            base = 100 if code == 401 else 200
            t0 = time.monotonic()
            self.post_ok(sl, name, [crm_record(base + i) for i in range(6)])
            entries = self.wait_dlq(sl, name, 6, timeout=10)
            took = time.monotonic() - t0
            time.sleep(0.5)
            reqs = dest.requests(path="/" + name)
            self.assertEqual([r.status for r in reqs], [code, code], reqs)
            self.assertEqual(reqs[1].headers.get("X-Last-Status"), str(code))
            self.assertLess(reqs[1].time - reqs[0].answered, 0.5)
            entries = sl.dlq_list(name)
            self.assertEqual(ids_of(entries), [base + i for i in range(6)])
            self.assertTrue(all(e["status"] == code for e in entries), entries)
            self.assertLess(took, 5.0)
            self.assertEqual(sl.stats(name).get("dead_lettered"), 6)
        self.assertEqual(sl.dlq_list("auth"), [])

    # ---- 5. max_elapsed_s ------------------------------------------------

    def test_recovery_wakes_batches_in_long_backoff(self):
        """Batches that backed off for up to 20 s while the destination was
        down go again within about a second of the first success after it
        returns (they hold the spool's room meanwhile); a Retry-After the
        server gave is still honoured."""
        dest = self.start_flex_destination()
        port = dest.port
        dest.stop()
        sl = self.start_sluice({"crm": connector_lua(
            "crm", "http://127.0.0.1:%d/in" % port, concurrency=4,
            batch={"max_records": 10, "max_delay_ms": 10},
            retry={"base_ms": 20000, "max_ms": 20000})})
        for k in range(4):
            self.post_ok(sl, "crm", [crm_record(k * 10 + i) for i in range(10)])
        wait_until(lambda: sl.stats("crm")["failures"] >= 4, 10,
                   msg="four failed batches")
        time.sleep(0.3)
        dest.start()
        # the 4 batches fill concurrency 4; the first of their retries to
        # land (each waits 0-20 s) is the success that wakes the others,
        # which without it would come back spread over up to 20 s
        t0 = time.monotonic()
        self.post_ok(sl, "crm", [crm_record(1000 + i) for i in range(10)])
        want = set(range(40)) | set(range(1000, 1010))
        wait_until(lambda: want <= set(dest.ids()), 30, interval=0.05,
                   msg="all records after the destination came back")
        first_ok = min(r.time for r in dest.requests() if r.status == 200)
        last = max(r.time for r in dest.requests())
        sys.stderr.write("\n[wake] all delivered %.2fs after the restart; the "
                         "last batch %.2fs after the first success\n"
                         % (time.monotonic() - t0, last - first_ok))
        self.assertLess(last - first_ok, 2.0)

    def test_failing_headers_fn_bounded_by_max_elapsed(self):
        """A headers_fn that always fails is retried like a transport
        failure and its records go to the dead letters once max_elapsed_s
        has passed, with headers_fn's error as the reason; nothing is sent."""
        dest = self.start_flex_destination()
        sl = self.start_sluice({"crm": connector_lua(
            "crm", dest.url + "/in", concurrency=1,
            retry={"base_ms": 50, "max_ms": 300, "max_elapsed_s": 2},
            extra={"headers_fn": LuaRaw(
                'function(req) error("token service unreachable") end')})})
        self.post_ok(sl, "crm", [crm_record(i) for i in range(10)])
        t0 = time.monotonic()
        entries = self.wait_dlq(sl, "crm", 10, timeout=15)
        took = time.monotonic() - t0
        self.assertGreaterEqual(took, 1.5)
        self.assertEqual(ids_of(entries), list(range(10)))
        for e in entries:
            self.assertIn(e["status"], (0, None), e)
            self.assertRegex(str(e["reason"]), "elapsed")
            self.assertIn("token service unreachable", str(e["reason"]))
        self.assertEqual(dest.requests(), [])

    def test_max_elapsed_dead_letters_then_replay(self):
        fixed = [False]
        dest = self.start_flex_destination(
            func=lambda i, r: 200 if fixed[0] else (503, {}, b"down for now"))
        gone = "http://127.0.0.1:%d/in" % free_port()  # nothing listens
        sl = self.start_sluice({
            "crm": connector_lua(
                "crm", dest.url + "/in", concurrency=2,
                retry={"base_ms": 50, "max_ms": 300, "max_elapsed_s": 2}),
            "gone": connector_lua(
                "gone", gone, concurrency=2,
                retry={"base_ms": 50, "max_ms": 300, "max_elapsed_s": 2}),
        })
        self.post_ok(sl, "crm", [crm_record(i) for i in range(20)])
        self.post_ok(sl, "gone", [crm_record(i) for i in range(5)])
        entries = self.wait_dlq(sl, "crm", 20, timeout=15)
        t_dl = time.monotonic()
        first = dest.requests()[0].time
        sys.stderr.write("\n[max_elapsed] dead-lettered %.2fs after the first "
                         "attempt, %d requests\n"
                         % (t_dl - first, len(dest.requests())))
        self.assertGreaterEqual(t_dl - first, 1.9)
        self.assertLess(t_dl - first, 8.0)
        self.assertEqual(ids_of(entries), list(range(20)))
        for e in entries:
            self.assertEqual(e["status"], 503, e)
            self.assertRegex(str(e["reason"]), re.compile(r"elapsed", re.I))
            self.assertGreaterEqual(int(e["attempts"]), 2, e)
        last = dest.requests()[-1].time
        time.sleep(0.7)
        self.assertFalse([r for r in dest.requests() if r.time > last],
                         "dead-lettered records were still sent")
        self.assertEqual(dest.ids(), [])
        self.assertEqual(sl.stats("crm").get("dead_lettered"), 20)
        # no HTTP answer at all (connection refused): the same, status 0
        gone_entries = self.wait_dlq(sl, "gone", 5, timeout=10)
        self.assertEqual(ids_of(gone_entries), list(range(5)))
        for e in gone_entries:
            self.assertIn(e["status"], (0, None), e)
            self.assertRegex(str(e["reason"]), re.compile(r"elapsed", re.I))

        fixed[0] = True
        rc, out, err = sl.cli("dlq", "replay", "crm")
        self.assertEqual(rc, 0, out + err)
        wait_until(lambda: sorted(set(dest.ids())) == list(range(20)), 10,
                   msg="the replayed records")

    def test_replay_while_stopped_and_since(self):
        """`dlq replay --since T` with the gateway stopped: the records
        dead-lettered after T are delivered at the next start, the older
        ones stay dead letters."""
        fixed = [False]
        dest = self.start_flex_destination(
            func=lambda i, r: 200 if fixed[0] else (422, {}, b'{"error":"no"}'))
        sl = self.start_sluice({"crm": connector_lua(
            "crm", dest.url + "/in", retry=FAST,
            extra={"on_permanent": "dead_letter"})})
        self.post_ok(sl, "crm", [crm_record(i) for i in range(5)])
        self.wait_dlq(sl, "crm", 5)
        since = int(time.time()) + 1
        wait_until(lambda: time.time() > since + 0.05, 3, msg="the clock")
        self.post_ok(sl, "crm", [crm_record(i) for i in range(10, 15)])
        self.wait_dlq(sl, "crm", 10)
        rc, _ = sl.sigterm()
        self.assertEqual(rc, 0)
        rc, out, err = sl.cli("dlq", "replay", "crm", "--since", str(since))
        self.assertEqual(rc, 0, out + err)
        self.assertEqual(dest.ids(), [])
        fixed[0] = True
        sl.start()
        wait_until(lambda: sorted(set(dest.ids())) == list(range(10, 15)), 10,
                   msg="the replayed records")
        time.sleep(0.5)
        self.assertEqual(sorted(set(dest.ids())), list(range(10, 15)))
        left = ids_of(sl.dlq_list("crm"))
        self.assertTrue(set(range(5)) <= set(left), left)
        with self.subTest("replayed entries leave the dead letters"):
            self.assertEqual(left, list(range(5)))

    # ---- 6. idempotency keys ---------------------------------------------

    def _idem_destination(self):
        """The first two requests to /idem and to /custom get 503."""
        counts = {}
        lock = threading.Lock()

        def func(index, req):
            with lock:
                n = counts.get(req.path, 0)
                counts[req.path] = n + 1
            if req.path in ("/idem", "/custom") and n in (0, 1):
                return 503
            return 200

        return self.start_flex_destination(func=func)

    def test_idempotency_key(self):
        """The default header: the same key on every retry of a batch,
        equal to req.batch_id, another key for another batch."""
        dest = self._idem_destination()
        echo = LuaRaw('function(req) return { ["X-Batch-Id"] = req.batch_id } end')
        sl = self.start_sluice({
            "idem": connector_lua("idem", dest.url + "/idem", concurrency=1,
                                  retry=FAST, extra={"headers_fn": echo}),
        })
        self.post_ok(sl, "idem", [crm_record(i) for i in range(5)])
        wait_until(lambda: dest.ids("/idem") == list(range(5)), 10, msg="batch A")
        self.post_ok(sl, "idem", [crm_record(i) for i in range(5, 10)])
        wait_until(lambda: dest.ids("/idem") == list(range(10)), 10, msg="batch B")
        reqs = dest.requests(path="/idem")
        self.assertEqual([r.status for r in reqs], [503, 503, 200, 200], reqs)
        keys = [r.headers.get("Idempotency-Key") for r in reqs]
        self.assertTrue(all(keys), keys)
        self.assertEqual(len(set(keys[:3])), 1, "key changed across retries: %r"
                         % keys)
        self.assertNotEqual(keys[3], keys[0], "two batches share a key")
        for r in reqs:
            self.assertEqual(r.headers.get("X-Batch-Id"),
                             r.headers.get("Idempotency-Key"),
                             "req.batch_id is not the idempotency key")
        sys.stderr.write("\n[idempotency] keys %r\n" % sorted(set(keys)))

    def test_idempotency_header_false_and_custom_name(self):
        """idempotency_header = false sends none; a string names the
        header (the same on every retry)."""
        dest = self._idem_destination()
        sl = self.start_sluice({
            "nokey": connector_lua("nokey", dest.url + "/nokey", retry=FAST,
                                   extra={"idempotency_header": False}),
            "custom": connector_lua("custom", dest.url + "/custom",
                                    concurrency=1, retry=FAST,
                                    extra={"idempotency_header": "X-Dedup-Key"}),
        })
        self.post_ok(sl, "nokey", [crm_record(i) for i in range(3)])
        wait_until(lambda: dest.ids("/nokey") == [0, 1, 2], 10, msg="nokey")
        for r in dest.requests(path="/nokey"):
            self.assertFalse([h for h in r.headers if "idempotency" in h.lower()],
                             r.headers)

        self.post_ok(sl, "custom", [crm_record(i) for i in range(3)])
        wait_until(lambda: dest.ids("/custom") == [0, 1, 2], 10, msg="custom")
        reqs = dest.requests(path="/custom")
        self.assertEqual([r.status for r in reqs], [503, 503, 200])
        ck = [r.headers.get("X-Dedup-Key") for r in reqs]
        self.assertTrue(all(ck), ck)
        self.assertEqual(len(set(ck)), 1, ck)
        for r in reqs:
            self.assertIsNone(r.headers.get("Idempotency-Key"), r.headers)

    # ---- 7. ordered = true -------------------------------------------------

    def test_ordered_with_retries(self):
        counter = [0]
        lock = threading.Lock()

        def func(index, req):
            with lock:
                n = counter[0]
                counter[0] += 1
            dest.sleep(0.01)
            if n % 4 == 1:
                return 503
            if n % 9 == 5:
                return 429
            if n % 11 == 7:
                return 500
            return 200

        dest = self.start_flex_destination(func=func)
        sl = self.start_sluice({"crm": connector_lua(
            "crm", dest.url + "/in", concurrency=4, retry=FAST,
            batch={"max_records": 25, "max_delay_ms": 10},
            extra={"ordered": True})})
        n = 1000
        for p in range(0, n, 50):
            self.post_ok(sl, "crm", [crm_record(i) for i in range(p, p + 50)])
        wait_until(lambda: len(set(dest.ids())) >= n, 30, interval=0.1,
                   msg=lambda: "%d records (have %d)" % (n, len(set(dest.ids()))))
        got = dest.ids()
        fails = sum(1 for r in dest.requests() if not r.ok)
        sys.stderr.write("\n[ordered] %d requests, %d failed, most at once: %d\n"
                         % (len(dest.requests()), fails, dest.max_in_flight))
        self.assertGreaterEqual(fails, 5)
        self.assertEqual(got, list(range(n)), "records out of order")
        self.assertEqual(dest.max_in_flight, 1)

    def test_ordered_with_a_poison_record(self):
        """Bisection in ordered mode keeps the order of the good records."""
        dest = self.start_flex_destination(
            func=lambda i, r: (400, {}, b'{"error":"bad"}') if POISON_BYTES in r.body
            else 200)
        sl = self.start_sluice({"crm": connector_lua(
            "crm", dest.url + "/in", concurrency=4, retry=FAST,
            batch={"max_records": 100, "max_delay_ms": 10},
            extra={"ordered": True})})
        recs = [crm_record(i) for i in range(300)]
        recs[150]["email"] = POISON
        for p in range(0, 300, 50):
            self.post_ok(sl, "crm", recs[p:p + 50])
        self.wait_dlq(sl, "crm", 1)
        wait_until(lambda: len(set(dest.ids())) >= 299, 15, msg="299 records")
        self.assertEqual(dest.ids(), [i for i in range(300) if i != 150])
        self.assertEqual(ids_of(sl.dlq_list("crm")), [150])
        self.assertEqual(dest.max_in_flight, 1)

    # ---- 8. on_permanent = "dead_letter" ---------------------------------

    def test_on_permanent_dead_letter_whole_batch(self):
        dest = self.start_flex_destination(
            func=lambda i, r: (400, {}, b'{"error":"bad"}') if POISON_BYTES in r.body
            else 200)
        sl = self.start_sluice({"crm": connector_lua(
            "crm", dest.url + "/in", retry=FAST,
            batch={"max_records": 100, "max_delay_ms": 50},
            extra={"on_permanent": "dead_letter"})})
        recs = [crm_record(i) for i in range(100)]
        recs[42]["email"] = POISON
        self.post_ok(sl, "crm", recs)
        entries = self.wait_dlq(sl, "crm", 100, timeout=10)
        time.sleep(0.3)
        reqs = dest.requests()
        self.assertEqual(len(reqs), 1, dest.summary())
        self.assertEqual(len(reqs[0].raw_records()), 100)
        self.assertEqual(dest.ids(), [])
        entries = sl.dlq_list("crm")
        self.assertEqual(ids_of(entries), list(range(100)))
        self.assertTrue(all(e["status"] == 400 for e in entries))
        self.assertEqual(sl.stats("crm").get("dead_lettered"), 100)
        # the connector goes on with the next records
        self.post_ok(sl, "crm", [crm_record(i) for i in range(100, 110)])
        wait_until(lambda: dest.ids() == list(range(100, 110)), 10,
                   msg="the next batch")

    # ---- dlq purge ---------------------------------------------------------

    def test_dlq_purge(self):
        dest = self.start_flex_destination(default=422)
        sl = self.start_sluice({"crm": connector_lua(
            "crm", dest.url + "/in", retry=FAST,
            extra={"on_permanent": "dead_letter"})})
        self.post_ok(sl, "crm", [crm_record(i) for i in range(4)])
        self.wait_dlq(sl, "crm", 4)
        # without --yes it only says what it would delete
        rc, out, err = sl.cli("dlq", "purge", "crm")
        self.assertEqual(len(sl.dlq_list("crm")), 4, out + err)
        rc, out, err = sl.cli("dlq", "purge", "crm", "--yes")
        self.assertEqual(rc, 0, out + err)
        self.assertEqual(sl.dlq_list("crm"), [])
        rc, out, err = sl.cli("dlq", "list", "crm")
        self.assertEqual(rc, 0, out + err)


if __name__ == "__main__":
    unittest.main(verbosity=2)
