"""The durable spool (issue 4): kill -9 in the middle of a load loses no
acknowledged record; the idempotency key survives a restart; a torn or
corrupt segment tail is cut and the rest delivered; a full spool answers 503;
SIGTERM keeps the backlog on disk; the schema lock; durability "os" and
"memory"; records survive a restart when nothing was delivered.

Every assertion is on what reached the destination (a real local HTTP
server), on the spool's files, or on the CLI's answers. Python 3 standard
library only.
"""

import email.utils
import http.client
import json
import os
import re
import signal
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sluice_it import (SluiceTestCase, CRM_SCHEMA, FlexDestination,  # noqa: E402
                       compact, connector_lua, crm_record, free_port,
                       read_segment, segment_files, spool_records, wait_until)

FAST = {"base_ms": 20, "max_ms": 300}


def schema_with(**changes):
    """CRM_SCHEMA with some fields changed: name -> dict of new keys, or
    None to remove the field."""
    out = []
    for f in CRM_SCHEMA:
        if f["name"] in changes:
            ch = changes[f["name"]]
            if ch is None:
                continue
            f = dict(f, **ch)
        out.append(dict(f))
    return out


class SpoolTest(SluiceTestCase):

    def post_ok(self, sl, name, recs):
        st, js, _ = sl.post(name, recs)
        self.assertEqual(st, 200, "intake answer to %s: %s %r"
                         % (name, st, sl.last_raw))
        self.assertEqual(js.get("accepted"), len(recs), js)
        return js

    def dest_later(self, port, **kw):
        """A destination on `port` that is not started yet (down)."""
        d = FlexDestination(port=port, **kw)
        self.addCleanup(self._finish_destination, d)
        return d

    def wait_ids(self, dest, want, timeout=20.0, path=None):
        want = set(want)
        return wait_until(lambda: want <= set(dest.ids(path)), timeout,
                          interval=0.05,
                          msg=lambda: "%d records at the destination (missing %d,"
                          " e.g. %s)" % (len(want), len(want - set(dest.ids(path))),
                                         sorted(want - set(dest.ids(path)))[:5]))

    # ---- 1. kill -9 in the middle of a load -----------------------------

    def test_kill9_mid_load_loses_nothing_acknowledged(self):
        concurrency, max_records = 4, 200
        dest = self.start_flex_destination(delay=0.15)
        # small segments: the backlog spans many files, some deleted as
        # they are delivered
        sl = self.start_sluice({"crm": connector_lua(
            "crm", dest.url + "/in", concurrency=concurrency, retry=FAST,
            batch={"max_records": max_records, "max_delay_ms": 20},
            extra={"spool": {"segment_bytes": 256 * 1024}})})
        threads, posts, per_post = 4, 75, 100
        total = threads * posts * per_post
        bodies = {}
        for t in range(threads):
            for p in range(posts):
                base = (t * posts + p) * per_post
                bodies[(t, p)] = compact([crm_record(base + k)
                                          for k in range(per_post)])
        acked, unacked, errors = [], [], []
        lock = threading.Lock()
        up = threading.Event()
        up.set()
        pace = threading.Event()  # never set: a paced timer

        def worker(t):
            for p in range(posts):
                base = (t * posts + p) * per_post
                ids = range(base, base + per_post)
                up.wait(60)
                try:
                    st, js, _ = sl.post("crm", bodies[(t, p)])
                except (OSError, http.client.HTTPException) as e:
                    with lock:
                        unacked.extend(ids)
                        errors.append(repr(e))
                    continue
                with lock:
                    if st == 200 and js.get("accepted") == per_post:
                        acked.extend(ids)
                    else:
                        unacked.extend(ids)
                        errors.append((st, js))
                pace.wait(0.04)  # ~3 s of load: delivery keeps up in part

        ts = [threading.Thread(target=worker, args=(t,), daemon=True)
              for t in range(threads)]
        t0 = time.monotonic()
        for th in ts:
            th.start()
        wait_until(lambda: len(acked) >= total * 0.4 and len(dest.requests(
            ok_only=True)) >= 4, 60, interval=0.005,
            msg="40% of the load acknowledged and some delivered")
        up.clear()
        rc = sl.kill9()
        with lock:
            acked_at_kill = len(acked)
        segs_at_kill = len(segment_files(sl.spool_dir("crm")))
        delivered_at_kill = len(set(dest.ids()))
        self.assertEqual(rc, -9)
        time.sleep(0.3)  # requests on the wire at the kill fail
        sl.start(timeout=30)
        up.set()
        for th in ts:
            th.join(120)
        want = set(acked)
        self.wait_ids(dest, want, timeout=90)
        took = time.monotonic() - t0
        got = dest.ids()
        dups = len(got) - len(set(got))
        unacked_arrived = len(set(unacked) & set(got))
        bound = concurrency * max_records * 2
        sys.stderr.write(
            "\n[kill -9] %d records posted; at the kill %d acknowledged, %d "
            "delivered (backlog %d); in the end %d acknowledged, %d "
            "unacknowledged (%d of them arrived anyway), %d delivered "
            "distinct, %d duplicates (bound %d), %.1fs; %d segment files at "
            "the kill, %d at the end\n"
            % (total, acked_at_kill, delivered_at_kill,
               acked_at_kill - delivered_at_kill, len(want), len(unacked),
               unacked_arrived, len(set(got)), dups, bound, took, segs_at_kill,
               len(segment_files(sl.spool_dir("crm")))))
        self.assertGreater(acked_at_kill - delivered_at_kill, 0,
                           "no backlog at the kill: the test proves little")
        self.assertLessEqual(len([e for e in errors if not isinstance(e, str)]), 0,
                             errors[:5])
        self.assertFalse(set(got) - set(range(total)), "unknown ids delivered")
        self.assertLessEqual(dups, bound, "more duplicates than the batches in "
                             "flight at the kill explain")
        # a key always names the same records, and a record delivered twice
        # came both times with the same key (the receiver can drop the copy)
        by_key, keys_of_id = {}, {}
        for r in dest.ok_requests():
            k = r.headers.get("Idempotency-Key")
            self.assertTrue(k, r.headers)
            by_key.setdefault(k, set()).add(r.body)
            for x in r.records():
                keys_of_id.setdefault(x["id"], set()).add(k)
        self.assertEqual([k for k, b in by_key.items() if len(b) > 1], [],
                         "one key for different bodies")
        self.assertEqual({i: k for i, k in keys_of_id.items() if len(k) > 1}, {},
                         "a record delivered twice under different keys")

    # ---- 2. the idempotency key survives kill -9 and SIGTERM -------------

    def test_same_key_after_restart(self):
        ok = [False]
        dest = self.start_flex_destination(
            func=lambda i, r: 200 if ok[0] else 503)
        sl = self.start_sluice({"crm": connector_lua(
            "crm", dest.url + "/in", concurrency=1, retry=FAST)})
        self.post_ok(sl, "crm", [crm_record(i) for i in range(10)])
        dest.wait_requests(2, timeout=10)
        first = dest.requests()
        key = first[0].headers.get("Idempotency-Key")
        self.assertTrue(key, first[0].headers)
        self.assertEqual({r.headers.get("Idempotency-Key") for r in first}, {key})
        body = first[0].body
        self.assertEqual(sl.kill9(), -9)

        # restart, still failing: the same batch with the same key
        n = len(dest.requests())
        sl.start()
        dest.wait_requests(n + 2, timeout=10)
        again = dest.requests()[n:]
        self.assertEqual({r.headers.get("Idempotency-Key") for r in again}, {key},
                         "the key changed across kill -9")
        self.assertEqual({r.body for r in again}, {body})

        # SIGTERM, restart with the destination OK
        rc, took = sl.sigterm()
        self.assertEqual(rc, 0)
        ok[0] = True
        sl.start()
        self.wait_ids(dest, range(10), timeout=10)
        delivered = dest.ok_requests()
        self.assertEqual(len(delivered), 1, dest.summary())
        self.assertEqual(delivered[0].headers.get("Idempotency-Key"), key,
                         "the key changed across SIGTERM")
        self.assertEqual(delivered[0].body, body)

    def test_keys_not_reused_after_restarts(self):
        """Batches of different records never share a key, also after the
        spool was drained and sluice restarted (SIGTERM, then kill -9)."""
        dest = self.start_flex_destination()
        sl = self.start_sluice({"crm": connector_lua(
            "crm", dest.url + "/in", concurrency=1, retry=FAST)})
        # records of the same size, so that positions would repeat
        for n, stop in enumerate(("sigterm", "kill9", None)):
            ids = range(10 + 10 * n, 20 + 10 * n)
            self.post_ok(sl, "crm", [crm_record(i) for i in ids])
            self.wait_ids(dest, ids, timeout=10)
            time.sleep(0.3)
            if stop == "sigterm":
                self.assertEqual(sl.sigterm()[0], 0)
            elif stop == "kill9":
                self.assertEqual(sl.kill9(), -9)
            if stop:
                sl.start()
        time.sleep(0.3)
        by_key = {}
        for r in dest.ok_requests():
            by_key.setdefault(r.headers.get("Idempotency-Key"), set()).add(r.body)
        sys.stderr.write("\n[keys] %r\n" % sorted(by_key))
        self.assertNotIn(None, by_key)
        self.assertEqual({k: len(b) for k, b in by_key.items() if len(b) > 1}, {},
                         "a key was reused for other records")
        self.assertEqual(len(by_key), 3)

    # ---- 3. a torn or corrupt tail ---------------------------------------

    def _damaged_tail(self, damage):
        port = free_port()
        sl = self.start_sluice({"crm": connector_lua(
            "crm", "http://127.0.0.1:%d/in" % port, concurrency=2, retry=FAST,
            batch={"max_records": 500, "max_delay_ms": 20})})
        posts = [[crm_record(p * 10 + k) for k in range(10)] for p in range(5)]
        for recs in posts:
            self.post_ok(sl, "crm", recs)
            time.sleep(0.05)
        wait_until(lambda: sl.stats("crm")["failures"] >= 1, 10,
                   msg="a failed attempt")
        rc, took = sl.sigterm()
        self.assertEqual(rc, 0, sl.stderr_tail())
        segs = segment_files(sl.spool_dir("crm"))
        self.assertTrue(segs, os.listdir(sl.state_dir("crm")))
        self.assertTrue(os.path.exists(os.path.join(sl.spool_dir("crm"),
                                                    "progress")))
        blocks, leftover = read_segment(segs[-1])
        all_blocks = [b for s in segs for b in read_segment(s)[0]]
        # the format: one block per intake request, crc32 of the payload
        self.assertEqual(leftover, 0, blocks)
        self.assertEqual(len(all_blocks), 5, all_blocks)
        self.assertTrue(all(b.crc_ok for b in all_blocks), all_blocks)
        self.assertEqual([[json.loads(r) for r in b.records()] for b in all_blocks],
                         posts)
        self.assertEqual([b.count for b in all_blocks], [10] * 5)
        last = blocks[-1]
        size = os.path.getsize(segs[-1])
        self.assertEqual(last.end, size)
        with open(segs[-1], "r+b") as f:
            if damage == "truncate":
                f.truncate(last.offset + (16 + last.payload_len) // 2)
            else:
                pos = last.offset + 16 + last.payload_len // 2
                f.seek(pos)
                b = f.read(1)
                f.seek(pos)
                f.write(bytes([b[0] ^ 0x5A]))

        dest = self.start_flex_destination(port=port)
        sl.start()
        self.wait_ids(dest, range(40), timeout=15)
        torn = [ln for ln in sl.log_lines() if ln.get("component") == "spool"
                and "torn tail" in str(ln.get("msg"))]
        self.assertTrue(torn, "no spool log line about the torn tail:\n%s"
                        % sl.stderr_tail())
        sys.stderr.write("\n[%s] %s\n" % (damage, json.dumps(torn[0])))
        # the spool goes on: a new record after the cut arrives
        self.post_ok(sl, "crm", [crm_record(1000)])
        self.wait_ids(dest, [1000], timeout=10)
        time.sleep(0.3)
        self.assertEqual(set(dest.ids()), set(range(40)) | {1000},
                         "the damaged block's records must not be delivered")
        # and after another restart nothing is sent again from garbage
        rc, _ = sl.sigterm()
        self.assertEqual(rc, 0)
        n = len(dest.requests())
        sl.start()
        time.sleep(0.5)
        self.assertEqual(len(dest.requests()), n, dest.summary())

    def test_truncated_tail_is_cut(self):
        self._damaged_tail("truncate")

    def test_corrupt_tail_is_cut(self):
        self._damaged_tail("corrupt")

    # ---- 4. a full spool -------------------------------------------------

    def test_full_spool_503_then_delivers(self):
        port = free_port()
        spool_max, queue_max = 2 * 1024 * 1024, 1024 * 1024
        sl = self.start_sluice({"crm": connector_lua(
            "crm", "http://127.0.0.1:%d/in" % port, retry=FAST,
            extra={"spool": {"max_bytes": spool_max, "segment_bytes": 256 * 1024,
                             "cache_bytes": queue_max}})})
        accepted, accepted_bytes, refused = [], 0, None
        for p in range(400):
            recs = [crm_record(p * 200 + k) for k in range(200)]
            st, js, hdrs = sl.post("crm", recs)
            if st == 503:
                refused = (p, recs, js, hdrs, sl.last_raw)
                break
            self.assertEqual(st, 200, sl.last_raw)
            self.assertEqual(js.get("accepted"), 200, js)
            accepted.extend(r["id"] for r in recs)
            accepted_bytes += sum(len(compact(r)) for r in recs)
        self.assertIsNotNone(refused, "the spool never filled")
        p, recs, js, hdrs, raw = refused
        sys.stderr.write("\n[full] 503 after %d records (%d bytes): %s, "
                         "Retry-After: %s\n" % (len(accepted), accepted_bytes, raw,
                                                hdrs.get("Retry-After")))
        self.assertIsInstance(js, dict, raw)
        self.assertIsInstance(js.get("error"), str, raw)
        self.assertRegex(js["error"], re.compile(r"spool", re.I))
        self.assertRegex(js["error"], re.compile(r"full", re.I))
        ra = hdrs.get("Retry-After")
        self.assertTrue(ra, "no Retry-After")
        self.assertTrue(re.fullmatch(r"\d+", ra.strip()) or
                        email.utils.parsedate_tz(ra), ra)
        # the backlog went past the in-memory limit (it is on disk) but not
        # past the spool's
        self.assertGreater(accepted_bytes, queue_max)
        self.assertLessEqual(accepted_bytes, spool_max)
        # still full for the same request (nothing was delivered since)
        st, js2, hdrs2 = sl.post("crm", recs)
        self.assertEqual(st, 503, sl.last_raw)
        self.assertTrue(hdrs2.get("Retry-After"))

        dest = self.start_flex_destination(port=port)
        self.wait_ids(dest, accepted, timeout=60)
        refused_ids = {r["id"] for r in recs}
        time.sleep(0.3)
        self.assertFalse(refused_ids & set(dest.ids()),
                         "records of a refused request were delivered")
        # and the intake takes records again
        self.post_ok(sl, "crm", [crm_record(2 * 10 ** 7)])
        self.wait_ids(dest, [2 * 10 ** 7], timeout=10)
        segs = segment_files(sl.spool_dir("crm"))
        sys.stderr.write("[full] %d segment file(s) left after the backlog "
                         "drained: %s bytes\n"
                         % (len(segs), [os.path.getsize(s) for s in segs]))

    # ---- 5. SIGTERM with the destination down ---------------------------

    def test_sigterm_keeps_backlog(self):
        port = free_port()
        sl = self.start_sluice({"crm": connector_lua(
            "crm", "http://127.0.0.1:%d/in" % port, retry=FAST)})
        for p in range(3):
            self.post_ok(sl, "crm", [crm_record(p * 100 + k) for k in range(100)])
        wait_until(lambda: sl.stats("crm")["failures"] >= 1, 10,
                   msg="a failed attempt")
        rc, took = sl.sigterm(timeout=30)
        sys.stderr.write("\n[sigterm] exit %s after %.2fs\n" % (rc, took))
        self.assertEqual(rc, 0, sl.stderr_tail())
        self.assertLess(took, 10.0)
        on_disk = [r["id"] for r in spool_records(sl.spool_dir("crm"))]
        self.assertEqual(sorted(on_disk), list(range(300)))
        dest = self.start_flex_destination(port=port)
        sl.start()
        self.wait_ids(dest, range(300), timeout=15)
        self.assertEqual(sorted(set(dest.ids())), list(range(300)))

    def test_sigterm_lets_in_flight_requests_finish(self):
        """SIGTERM closes the intake, waits for the requests on the wire
        (their answers count), keeps the rest; the restart sends only the
        rest: no record twice."""
        dest = self.start_flex_destination(delay=1.0)
        sl = self.start_sluice({"crm": connector_lua(
            "crm", dest.url + "/in", concurrency=2, retry=FAST,
            batch={"max_records": 50, "max_delay_ms": 20})})
        self.post_ok(sl, "crm", [crm_record(i) for i in range(100)])
        wait_until(lambda: len([r for r in dest.requests() if r.status is None])
                   >= 2, 10, msg="two requests on the wire")
        self.post_ok(sl, "crm", [crm_record(i) for i in range(100, 300)])
        t0 = time.monotonic()
        sl.proc.send_signal(signal.SIGTERM)
        time.sleep(0.3)
        try:
            st, _, _ = sl.post("crm", [crm_record(10 ** 6)])
        except (OSError, http.client.HTTPException):
            st = None
        self.assertNotEqual(st, 200, "the intake accepted records after SIGTERM")
        rc = sl.proc.wait(30)
        took = time.monotonic() - t0
        sl.sigterm()  # reaps and closes the log files
        sys.stderr.write("\n[sigterm in flight] exit %s after %.2fs; %d requests "
                         "answered 200 before the exit\n"
                         % (rc, took, len(dest.ok_requests())))
        self.assertEqual(rc, 0, sl.stderr_tail())
        self.assertLess(took, 10.0)
        first = set(dest.ids())
        self.assertGreaterEqual(len(first), 100, "the in-flight requests were "
                                "not let finish")
        dest.delay = 0
        sl.start()
        self.wait_ids(dest, range(300), timeout=20)
        time.sleep(0.3)
        got = dest.ids()
        self.assertEqual(sorted(got), list(range(300)),
                         "records missing or sent twice (%d duplicates)"
                         % (len(got) - len(set(got))))

    def test_sigterm_under_load_every_200_is_kept(self):
        """SIGTERM while 8 clients post: every request answered 200 before
        the exit is in the spool (the answers of a group commit in progress
        are sent, not dropped with the connections), and arrives after the
        restart."""
        port = free_port()
        sl = self.start_sluice({"crm": connector_lua(
            "crm", "http://127.0.0.1:%d/in" % port, retry=FAST)})
        acked, lock, stop = set(), threading.Lock(), threading.Event()
        unanswered = set()  # ids of requests whose connection closed
        outcomes = {"200": 0, "503": 0, "no answer": 0, "refused": 0}

        def worker(t):
            n = 0
            while not stop.is_set():
                ids = [t * 10 ** 6 + n * 20 + k for k in range(20)]
                n += 1
                try:
                    st, _, _ = sl.post("crm", [crm_record(i) for i in ids])
                except ConnectionRefusedError:
                    key, st = "refused", None
                except (OSError, http.client.HTTPException):
                    key, st = "no answer", None
                else:
                    key = str(st) if st in (200, 503) else "other %s" % st
                with lock:
                    outcomes[key] = outcomes.get(key, 0) + 1
                    if st == 200:
                        acked.update(ids)
                    if key == "no answer":
                        unanswered.update(ids)
                if st is None:
                    time.sleep(0.01)

        threads = [threading.Thread(target=worker, args=(t,)) for t in range(8)]
        for th in threads:
            th.start()
        wait_until(lambda: len(acked) >= 2000, 20, msg="2000 records acked")
        rc, took = sl.sigterm(timeout=30)
        stop.set()
        for th in threads:
            th.join(30)
        sys.stderr.write("\n[sigterm under load] exit %s after %.2fs; %d records "
                         "acknowledged; answers: %s\n"
                         % (rc, took, len(acked), outcomes))
        self.assertEqual(rc, 0, sl.stderr_tail())
        self.assertEqual(set(k for k in outcomes if outcomes[k]) -
                         {"200", "503", "no answer", "refused"}, set(), outcomes)
        on_disk = set(r["id"] for r in spool_records(sl.spool_dir("crm")))
        self.assertEqual(acked - on_disk, set(),
                         "records answered 200 but not in the spool")
        # a request that got no answer must not have been kept: its answer
        # was not lost on the way out
        self.assertEqual(unanswered & on_disk, set(),
                         "records kept in the spool whose request got no answer")
        dest = self.start_flex_destination(port=port)
        sl.start()
        self.wait_ids(dest, acked, timeout=30)

    def test_clients_that_hang_up_before_the_answer(self):
        """Clients that close the connection right after sending, while
        their records are being made durable: sluice keeps serving, the
        records it spooled are delivered once each."""
        import socket
        dest = self.start_flex_destination()
        sl = self.start_sluice({"crm": connector_lua(
            "crm", dest.url + "/in", retry=FAST)})
        for k in range(100):
            body = compact([crm_record(k * 10 + i) for i in range(10)])
            s = socket.create_connection(("127.0.0.1", sl.port))
            s.sendall(b"POST /v1/connectors/crm/records HTTP/1.1\r\n"
                      b"Host: x\r\nContent-Type: application/json\r\n"
                      b"Content-Length: %d\r\n\r\n" % len(body) + body)
            s.close()
        self.post_ok(sl, "crm", [crm_record(10 ** 6)])
        wait_until(lambda: sl.stats("crm")["delivered"] ==
                   sl.stats("crm")["accepted"], 15, msg="all delivered")
        got = dest.ids()
        self.assertTrue(sl.alive())
        self.assertEqual(len(got), len(set(got)))
        self.assertEqual(len(got), sl.stats("crm")["accepted"])
        self.assertIn(10 ** 6, got)

    def test_sigterm_with_hung_destination_and_long_retry_after(self):
        """SIGTERM does not wait for a Retry-After of a minute, and gives up
        on a request that hangs after a deadline (well under 15 s); both
        batches are sent again, with their keys, after the restart."""
        hang = [True]

        def func(index, req):
            if req.path == "/hung" and hang[0]:
                dest.sleep(60)
                return 200
            if req.path == "/later" and hang[0]:
                return 429, {"Retry-After": "60"}
            return 200

        dest = self.start_flex_destination(func=func)
        sl = self.start_sluice({
            "hung": connector_lua("hung", dest.url + "/hung", timeout_ms=60000,
                                  retry=FAST),
            "later": connector_lua("later", dest.url + "/later", retry=FAST),
        })
        self.post_ok(sl, "hung", [crm_record(i) for i in range(10)])
        self.post_ok(sl, "later", [crm_record(i) for i in range(10)])
        wait_until(lambda: dest.requests(path="/hung") and
                   dest.requests(path="/later", ok_only=False) and
                   dest.requests(path="/later")[0].status == 429, 10,
                   msg="both requests at the destination")
        rc, took = sl.sigterm(timeout=40)
        sys.stderr.write("\n[sigterm hung] exit %s after %.2fs\n" % (rc, took))
        self.assertEqual(rc, 0, sl.stderr_tail())
        self.assertLess(took, 15.0)
        keys = {p: dest.requests(path=p)[0].headers.get("Idempotency-Key")
                for p in ("/hung", "/later")}
        hang[0] = False
        n = len(dest.requests())
        sl.start()
        wait_until(lambda: dest.ids("/hung") and dest.ids("/later"), 10,
                   msg="both batches after the restart")
        after = dest.requests()[n:]
        for p in ("/hung", "/later"):
            got = [r for r in after if r.path == p and r.ok]
            self.assertEqual(len(got), 1, dest.summary())
            self.assertEqual(got[0].headers.get("Idempotency-Key"), keys[p])
            self.assertEqual([x["id"] for x in got[0].records()], list(range(10)))

    def test_memory_mode_queue_limit(self):
        """With durability "memory", queue_max_bytes bounds the whole queue:
        503 with Retry-After when full; what was accepted is delivered."""
        port = free_port()
        concurrency, max_records = 4, 500
        sl = self.start_sluice({"mem": connector_lua(
            "mem", "http://127.0.0.1:%d/in" % port, retry=FAST,
            concurrency=concurrency, batch={"max_records": max_records},
            extra={"durability": "memory", "queue_max_bytes": 1024 * 1024})})
        accepted, nbytes, st = [], 0, None
        for p in range(200):
            recs = [crm_record(p * 200 + k) for k in range(200)]
            st, js, hdrs = sl.post("mem", recs)
            if st != 200:
                break
            accepted.extend(r["id"] for r in recs)
            nbytes += sum(len(compact(r)) for r in recs)
        self.assertEqual(st, 503, sl.last_raw)
        self.assertTrue(hdrs.get("Retry-After"))
        self.assertIsInstance((js or {}).get("error"), str, sl.last_raw)
        self.assertIn("queue_max_bytes", js["error"])
        # queue_max_bytes bounds everything not yet delivered, the
        # outstanding batches (failing while the destination is down)
        # included; the limit counts frames too (4 bytes a record)
        sys.stderr.write("\n[memory queue] 503 after %d record bytes\n" % nbytes)
        self.assertLessEqual(nbytes + 4 * len(accepted), 1024 * 1024)
        self.assertGreater(nbytes, 512 * 1024)
        self.assertEqual(segment_files(sl.spool_dir("mem")), [])
        dest = self.start_flex_destination(port=port)
        self.wait_ids(dest, accepted, timeout=30)
        self.assertFalse({r["id"] for r in recs} & set(dest.ids()))

    # ---- 6. the schema lock ----------------------------------------------

    def test_schema_lock(self):
        port = free_port()
        dest = self.start_flex_destination(port=port, default=400)
        src = lambda schema: connector_lua(  # noqa: E731
            "crm", dest.url + "/in", retry=FAST, schema=schema,
            extra={"on_permanent": "dead_letter"})
        sl = self.start_sluice({"crm": src(CRM_SCHEMA)})
        lock = os.path.join(sl.state_dir("crm"), "schema.lock")
        self.assertTrue(os.path.exists(lock))
        # 3 dead letters, then 10 records left in the spool
        self.post_ok(sl, "crm", [crm_record(i) for i in range(3)])
        wait_until(lambda: len(sl.dlq_list("crm")) == 3, 10, interval=0.1,
                   msg="3 dead letters")
        dest.stop()
        self.post_ok(sl, "crm", [crm_record(i) for i in range(100, 110)])
        rc, _ = sl.sigterm()
        self.assertEqual(rc, 0)
        self.assertEqual(sl.check()[0], 0)

        def changed(schema):
            sl.connectors["crm"] = src(schema)
            sl.write()
            return sl.check()

        # each kind of change is refused by check, naming the field
        cases = [
            ("type", schema_with(amount={"type": "string"}), "amount",
             'field "amount": type was number, now string'),
            ("added", CRM_SCHEMA + [{"name": "note", "type": "string",
                                     "nullable": True}], "note", None),
            ("removed", schema_with(active=None), "active", None),
            ("nullability", schema_with(email={"nullable": True}), "email", None),
            ("order", [CRM_SCHEMA[1], CRM_SCHEMA[0]] + CRM_SCHEMA[2:], "id", None),
        ]
        for what, schema, field, text in cases:
            with self.subTest(change=what):
                rc, out, err = changed(schema)
                self.assertEqual(rc, 2, out + err)
                if what == "order":
                    # an order change names the fields in their old and new
                    # order rather than one field
                    self.assertRegex(out + err, r"(?i)order")
                    self.assertRegex(out + err, r"id, email, amount.*\n?.*"
                                     r"email, id, amount")
                else:
                    self.assertIn('"%s"' % field, out + err)
                if text:
                    self.assertIn(text, out + err)
                if what == "type":
                    sys.stderr.write("\n[schema lock] check says:\n%s%s"
                                     % (out[-600:], err[-600:]))

        new = schema_with(amount={"type": "string"})
        changed(new)
        rc, out, err = sl.run_once()
        self.assertEqual(rc, 2, "sluice run with a changed schema: %s %s%s"
                         % (rc, out, err))
        self.assertIn('field "amount": type was number, now string', out + err)

        # reset refuses while the spool and the dead letters hold records
        rc, out, err = sl.cli("reset", "crm")
        sys.stderr.write("[schema lock] reset says: %s%s\n" % (out, err))
        self.assertEqual(rc, 1, out + err)
        self.assertRegex(out + err, r"\b10\b")
        self.assertRegex(out + err, r"\b3\b")
        self.assertTrue(os.path.exists(lock))
        self.assertEqual(sl.check()[0], 2)
        rc, out, err = sl.cli("reset", "crm", "--force")
        sys.stderr.write("[schema lock] reset --force says: %s%s\n" % (out, err))
        self.assertEqual(rc, 0, out + err)
        self.assertRegex(out + err, r"\b10\b")
        self.assertRegex(out + err, r"\b3\b")
        rc, out, err = sl.check()
        self.assertEqual(rc, 0, out + err)

        # run starts with the new schema; the discarded records never come
        dest2 = self.start_flex_destination(port=port)
        sl.start()
        self.assertEqual(sl.dlq_list("crm"), [])
        rec = dict(crm_record(500), amount="12.50")
        self.post_ok(sl, "crm", [rec])
        self.wait_ids(dest2, [500], timeout=10)
        time.sleep(0.5)
        self.assertEqual(dest2.ids(), [500])
        self.assertEqual(dest2.records()[0]["amount"], "12.50")
        rc, _ = sl.sigterm()
        self.assertEqual(rc, 0)

        # the lock now holds the new schema; with nothing left, a plain
        # reset removes it
        rc, out, err = changed(CRM_SCHEMA)
        self.assertEqual(rc, 2)
        self.assertIn('field "amount": type was string, now number', out + err)
        rc, out, err = sl.cli("reset", "crm")
        self.assertEqual(rc, 0, out + err)
        self.assertEqual(sl.check()[0], 0)

    # ---- 7. durability "os" and "memory" ---------------------------------

    def test_durability_modes(self):
        port = free_port()
        url = "http://127.0.0.1:%d" % port
        sl = self.make_sluice({
            "fs": connector_lua("fs", url + "/fs", retry=FAST),
            "os": connector_lua("os", url + "/os", retry=FAST,
                                extra={"durability": "os"}),
            "mem": connector_lua("mem", url + "/mem", retry=FAST,
                                 extra={"durability": "memory"}),
        })
        rc, out, err = sl.check()
        self.assertEqual(rc, 0, out + err)
        sections = {}
        for part in re.split(r"(?m)^connector ", out)[1:]:
            sections[part.split()[0]] = part
        self.assertEqual(set(sections), {"fs", "os", "mem"}, out)
        dur = {}
        for name, part in sections.items():
            lines = [ln.strip() for ln in part.splitlines()
                     if ln.strip().startswith("durability")]
            self.assertEqual(len(lines), 1, part)
            dur[name] = lines[0]
        sys.stderr.write("\n[durability] %r\n" % dur)
        self.assertRegex(dur["fs"], r"^durability\s+fsync\b")
        self.assertRegex(dur["os"], r"^durability\s+os\b")
        self.assertRegex(dur["mem"], r"^durability\s+memory\b")
        self.assertIn("lost", dur["mem"].lower())

        # destination down: records of "os" survive kill -9 like "fsync"
        sl.start()
        for name in ("fs", "os", "mem"):
            self.post_ok(sl, name, [crm_record(i) for i in range(100)])
        self.assertEqual(segment_files(sl.spool_dir("mem")), [])
        self.assertTrue(segment_files(sl.spool_dir("os")))
        self.assertEqual(sl.kill9(), -9)
        dest = self.start_flex_destination(port=port)
        sl.start()
        self.wait_ids(dest, range(100), path="/fs", timeout=10)
        self.wait_ids(dest, range(100), path="/os", timeout=10)
        # every mode delivers
        for name in ("fs", "os", "mem"):
            self.post_ok(sl, name, [crm_record(i) for i in range(100, 300)])
        for name in ("fs", "os", "mem"):
            self.wait_ids(dest, range(100, 300), path="/" + name, timeout=10)
        sys.stderr.write("[durability] after kill -9, memory mode delivered "
                         "%d of its 100 earlier records\n"
                         % len(set(dest.ids("/mem")) & set(range(100))))

        # memory mode keeps the old SIGTERM behaviour: deliver, then exit
        dest.delay = 0.2
        self.post_ok(sl, "mem", [crm_record(i) for i in range(300, 400)])
        rc, took = sl.sigterm()
        self.assertEqual(rc, 0, sl.stderr_tail())
        self.assertTrue(set(range(300, 400)) <= set(dest.ids("/mem")),
                        "memory mode did not deliver before exiting")

    # ---- 8. survive a restart with nothing delivered ---------------------

    def test_fsync_records_survive_kill9_when_nothing_was_delivered(self):
        port = free_port()
        sl = self.start_sluice({"crm": connector_lua(
            "crm", "http://127.0.0.1:%d/in" % port, retry=FAST)})
        for p in range(5):
            self.post_ok(sl, "crm", [crm_record(p * 100 + k) for k in range(100)])
        wait_until(lambda: sl.stats("crm")["failures"] >= 1, 10,
                   msg="a failed attempt")
        self.assertEqual(sl.stats("crm")["delivered"], 0)
        self.assertEqual(sl.kill9(), -9)
        dest = self.start_flex_destination(port=port)
        sl.start()
        self.wait_ids(dest, range(500), timeout=15)
        got = dest.ids()
        self.assertEqual(sorted(set(got)), list(range(500)))
        self.assertEqual(len(got), 500, "duplicates although nothing had been "
                         "delivered before")


if __name__ == "__main__":
    unittest.main(verbosity=2)
