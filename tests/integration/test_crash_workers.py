"""kill -9 under load from several clients, with `workers` = 1 and 2
(issue 16): four HTTP clients post JSON arrays and two TCP clients stream
NDJSON with `ack = true` to the same connector (durability fsync) while
the gateway is killed and restarted on the same state directory, three
times. Every record that was acknowledged (HTTP 200 with all of it
accepted, or a TCP "ok") reaches the destination at least once; a record
delivered twice came both times under the same idempotency key; the
duplicates, and the records that arrived without an acknowledgement (in
flight at a kill: allowed), are reported on stderr. Python 3 standard
library only."""

import http.client
import os
import socket
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sluice_it import (SluiceTestCase, compact, connector_lua,  # noqa: E402
                       crm_record, free_port, wait_until)

HTTP_CLIENTS, TCP_CLIENTS = 4, 2
PER_POST = 50          # records in one HTTP post
TCP_CHUNK = 100        # lines a TCP client writes at once
CONCURRENCY, MAX_RECORDS = 4, 200
KILLS = 3
ACKED_PER_CYCLE = 12000  # acknowledged records between two kills (at least)
SPAN = 10 ** 7          # ids of client c are c * SPAN + n


def threads_of(proc):
    """How many threads the process runs now (for the report only: the
    tests assert on what was delivered, not on how the work was split)."""
    try:
        return len(os.listdir("/proc/%d/task" % proc.pid))
    except OSError:
        return 0


class Ledger:
    """What the clients sent and what they were told, shared by their
    threads: ids acknowledged, ids sent without an acknowledgement, and
    answers that are neither (a bug, whatever the kills did)."""

    def __init__(self):
        self.lock = threading.Lock()
        self.acked = []
        self.unacked = []
        self.wrong = []
        self.http_acked = self.tcp_acked = 0

    def ack(self, ids, tcp):
        with self.lock:
            self.acked.extend(ids)
            if tcp:
                self.tcp_acked += len(ids)
            else:
                self.http_acked += len(ids)

    def lost(self, ids):
        with self.lock:
            self.unacked.extend(ids)

    def bad(self, what):
        with self.lock:
            self.wrong.append(what)

    def counts(self):
        with self.lock:
            return len(self.acked), self.http_acked, self.tcp_acked


class Load:
    """The clients. `up` is set while the gateway runs: a client that
    loses its connection waits for it before going on with new ids (the
    records it was not told about are counted unacknowledged). `stop`
    ends them."""

    def __init__(self, sl, tport, ledger):
        self.sl, self.tport, self.ledger = sl, tport, ledger
        self.up = threading.Event()
        self.stop = threading.Event()
        self.next_id = {}
        self.threads = []

    def ids(self, client, n):
        base = self.next_id.get(client, client * SPAN)
        self.next_id[client] = base + n
        return list(range(base, base + n))

    def start(self):
        for c in range(HTTP_CLIENTS):
            self.threads.append(threading.Thread(target=self.http_client,
                                                 args=(c,), daemon=True))
        for c in range(TCP_CLIENTS):
            self.threads.append(threading.Thread(
                target=self.tcp_client, args=(HTTP_CLIENTS + c,), daemon=True))
        for t in self.threads:
            t.start()

    def join(self):
        self.stop.set()
        self.up.set()
        for t in self.threads:
            t.join(60)
        return [t for t in self.threads if t.is_alive()]

    def http_client(self, c):
        while not self.stop.is_set():
            self.up.wait(60)
            ids = self.ids(c, PER_POST)
            try:
                st, js, _ = self.sl.post("crm", [crm_record(i) for i in ids])
            except (OSError, http.client.HTTPException):
                self.ledger.lost(ids)  # the gateway went away
                self.stop.wait(0.05)
                continue
            if st == 200 and isinstance(js, dict) and \
                    js.get("accepted") == PER_POST:
                self.ledger.ack(ids, tcp=False)
            else:
                self.ledger.lost(ids)
                self.ledger.bad(("http", st, js))

    def tcp_client(self, c):
        while not self.stop.is_set():
            self.up.wait(60)
            try:
                s = socket.create_connection(("127.0.0.1", self.tport),
                                             timeout=30)
            except OSError:
                self.stop.wait(0.05)
                continue
            try:
                self.tcp_session(c, s)
            finally:
                s.close()

    def tcp_session(self, c, s):
        """Write chunks of lines while a reader takes the answers, one per
        line in line order: the k-th "ok" acknowledges the k-th line."""
        sent = []            # ids in the order written
        lock = threading.Lock()
        done = threading.Event()
        answered = [0]

        def reader():
            f = s.makefile("rb")
            try:
                while True:
                    ans = f.readline()
                    if not ans.endswith(b"\n"):
                        return  # the close (or a cut answer at a kill)
                    with lock:
                        k = answered[0]
                        i = sent[k] if k < len(sent) else None
                        answered[0] = k + 1
                    if ans == b"ok\n" and i is not None:
                        self.ledger.ack([i], tcp=True)
                    else:
                        self.ledger.bad(("tcp", i, ans[:200]))
                        if i is not None:
                            self.ledger.lost([i])
            except OSError:
                return
            finally:
                done.set()

        rt = threading.Thread(target=reader, daemon=True)
        rt.start()
        try:
            while not self.stop.is_set():
                ids = self.ids(c, TCP_CHUNK)
                with lock:
                    sent.extend(ids)
                s.sendall(b"".join(compact(crm_record(i)) + b"\n"
                                   for i in ids))
                self.stop.wait(0.01)
            s.shutdown(socket.SHUT_WR)  # then every answer, then the close
        except OSError:
            pass  # the gateway went away
        done.wait(60)
        with lock:
            self.ledger.lost(sent[answered[0]:])


class CrashWorkersTest(SluiceTestCase):

    def crash_cycles(self, workers):
        dest = self.start_flex_destination(delay=0.03)
        tport = free_port()
        sl = self.start_sluice(
            {"crm": connector_lua(
                "crm", dest.url + "/in", concurrency=CONCURRENCY,
                retry={"base_ms": 20, "max_ms": 300},
                batch={"max_records": MAX_RECORDS, "max_delay_ms": 20},
                extra={"durability": "fsync",
                       "spool": {"segment_bytes": 256 * 1024}})},
            gateway_extra='  workers = %d,\n  tcp = { { listen = '
            '"127.0.0.1:%d", connector = "crm", ack = true } },'
            % (workers, tport))
        ledger = Ledger()
        load = Load(sl, tport, ledger)
        load.up.set()
        load.start()
        t0 = time.monotonic()
        cycles = []
        nthreads = []
        for k in range(KILLS):
            a0, h0, t0_ = ledger.counts()
            wait_until(lambda: ledger.counts()[1] - h0 >= ACKED_PER_CYCLE / 2
                       and ledger.counts()[2] - t0_ >= ACKED_PER_CYCLE / 4
                       and ledger.counts()[0] - a0 >= ACKED_PER_CYCLE, 60,
                       interval=0.005, msg=lambda: "cycle %d: load "
                       "acknowledged (counts %r, wrong %r)"
                       % (k, ledger.counts(), ledger.wrong[:3]))
            nthreads.append(threads_of(sl.proc))
            load.up.clear()
            rc = sl.kill9()
            acked = ledger.counts()
            delivered = len(set(dest.ids()))
            self.assertEqual(rc, -9, "sluice was not killed by the signal")
            cycles.append((acked, delivered))
            sl.start(timeout=30)
            load.up.set()
        # some load on the last start too, then the clients stop
        a0 = ledger.counts()[0]
        wait_until(lambda: ledger.counts()[0] - a0 >= ACKED_PER_CYCLE / 2,
                   60, msg="load after the last restart")
        stuck = load.join()
        self.assertEqual(stuck, [], "clients still running")
        want = set(ledger.acked)
        wait_until(lambda: want <= set(dest.ids()), 60, interval=0.1,
                   msg=lambda: "every acknowledged record delivered "
                   "(%d missing)" % len(want - set(dest.ids())))
        took = time.monotonic() - t0

        got = dest.ids()
        distinct = set(got)
        dups = len(got) - len(distinct)
        unacked = set(ledger.unacked)
        sent = want | unacked
        sys.stderr.write(
            "\n[kill -9, workers = %d] %d kills; acknowledged %d (HTTP %d, "
            "TCP %d), unacknowledged %d (%d of them delivered anyway); "
            "delivered %d, %d distinct, %d duplicates (%.2f%% of the "
            "deliveries); %.1fs; at each kill (acknowledged, delivered "
            "distinct): %s; sluice's threads under load: %s\n"
            % (workers, KILLS, len(want), ledger.http_acked, ledger.tcp_acked,
               len(unacked), len(unacked & distinct), len(got), len(distinct),
               dups, 100.0 * dups / max(1, len(got)), took,
               ", ".join("(%d, %d)" % (a[0], d) for a, d in cycles),
               nthreads))
        self.assertEqual(ledger.wrong[:5], [],
                         "answers that are neither an acknowledgement nor a "
                         "lost connection")
        self.assertEqual(len(ledger.acked), len(want),
                         "an id acknowledged twice: the clients' bookkeeping")
        self.assertFalse(want & unacked, "an id both acknowledged and not")
        self.assertEqual(want - distinct, set(), "acknowledged, never delivered")
        self.assertEqual(distinct - sent, set(), "delivered, never sent")
        self.assertTrue(any(a[0] > d for a, d in cycles),
                        "no backlog at any kill: the test proves little")
        # a kill re-sends at most the batches in flight then (and those
        # cut from the same records again): the bound of test_spool's
        # kill -9 test, per kill
        bound = KILLS * CONCURRENCY * MAX_RECORDS * 2
        self.assertLessEqual(dups, bound, "more duplicates than the batches "
                             "in flight at the kills explain")
        # a key always names the same records, and a record delivered twice
        # came both times under the same key (the receiver can drop the copy)
        by_key, keys_of_id = {}, {}
        for r in dest.ok_requests():
            key = r.headers.get("Idempotency-Key")
            self.assertTrue(key, r.headers)
            by_key.setdefault(key, set()).add(r.body)
            for x in r.records():
                keys_of_id.setdefault(x["id"], set()).add(key)
        self.assertEqual([k for k, b in by_key.items() if len(b) > 1], [],
                         "one key for different bodies")
        self.assertEqual({i: k for i, k in keys_of_id.items() if len(k) > 1},
                         {}, "a record delivered twice under different keys")

    def test_kill9_under_load_workers_1(self):
        self.crash_cycles(1)

    def test_kill9_under_load_workers_2(self):
        self.crash_cycles(2)


if __name__ == "__main__":
    unittest.main(verbosity=2)
