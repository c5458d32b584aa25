"""`ordered = true` under load from several clients, with `workers` = 1
and 2 (issue 16): four HTTP clients and two TCP connections send records
carrying their client id and a sequence number at once, while the
destination answers some requests 500 (so that batches are retried).
What docs/connectors.md promises, asserted on what the destination saw:
one request in flight whatever `concurrency` says; records arrive in the
order they were accepted (each client's sequence strictly increasing,
none missing, none twice among the accepted requests; an HTTP request's
records together, as it was accepted whole); and a failing batch holds
back the ones after it, so the request after a failed one is that batch
again (same body, same idempotency key), the only repeats allowed.
Python 3 standard library only."""

import os
import socket
import sys
import threading
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sluice_it import (SluiceTestCase, compact, connector_lua,  # noqa: E402
                       free_port, wait_until)

SCHEMA = [{"name": "client", "type": "string"},
          {"name": "seq", "type": "integer"}]
HTTP_CLIENTS, POSTS, PER_POST = 4, 40, 20
TCP_CLIENTS, LINES, TCP_CHUNK = 2, 2000, 50
FAIL_EVERY = 5  # the destination answers 500 to request 3, 8, 13, ...


def threads_of(proc):
    """How many threads the process runs now (for the report only: the
    tests assert on what was delivered, not on how the work was split)."""
    try:
        return len(os.listdir("/proc/%d/task" % proc.pid))
    except OSError:
        return 0


def fails(index):
    return index % FAIL_EVERY == 3


class OrderedWorkersTest(SluiceTestCase):

    def load(self, sl, tport):
        """Run every client at once; -> the errors they saw."""
        errors = []
        lock = threading.Lock()

        def http_client(c):
            for p in range(POSTS):
                recs = [{"client": "h%d" % c, "seq": p * PER_POST + k}
                        for k in range(PER_POST)]
                st, js, _ = sl.post("ord", recs)
                if st != 200 or js.get("accepted") != PER_POST:
                    with lock:
                        errors.append(("http", c, p, st, js))
                    return

        def tcp_client(c):
            try:
                s = socket.create_connection(("127.0.0.1", tport), timeout=30)
                with s:
                    for k in range(0, LINES, TCP_CHUNK):
                        s.sendall(b"".join(
                            compact({"client": "t%d" % c, "seq": k + i}) + b"\n"
                            for i in range(TCP_CHUNK)))
                    s.shutdown(socket.SHUT_WR)
                    if s.recv(1) != b"":  # the close: every line taken
                        raise OSError("an answer from a listener without acks")
            except OSError as e:
                with lock:
                    errors.append(("tcp", c, repr(e)))

        ts = [threading.Thread(target=http_client, args=(c,))
              for c in range(HTTP_CLIENTS)]
        ts += [threading.Thread(target=tcp_client, args=(c,))
               for c in range(TCP_CLIENTS)]
        for t in ts:
            t.start()
        for t in ts:
            t.join(120)
        self.assertFalse([t for t in ts if t.is_alive()], "clients stuck")
        return errors

    def ordered_under_load(self, workers):
        dest = self.start_flex_destination(
            func=lambda i, r: 500 if fails(i) else 200, delay=0.01)
        tport = free_port()
        sl = self.start_sluice(
            {"ord": connector_lua(
                "ord", dest.url + "/in", schema=SCHEMA, concurrency=4,
                retry={"base_ms": 5, "max_ms": 20},
                batch={"max_records": 100, "max_delay_ms": 10},
                extra={"ordered": True})},
            gateway_extra='  workers = %d,\n  tcp = { { listen = '
            '"127.0.0.1:%d", connector = "ord" } },' % (workers, tport))
        self.assertEqual(self.load(sl, tport), [])
        nthreads = threads_of(sl.proc)
        total = HTTP_CLIENTS * POSTS * PER_POST + TCP_CLIENTS * LINES
        sl.wait_drained("ord", total, timeout=60)
        reqs = dest.requests()
        failed = [r for r in reqs if fails(r.index)]

        # one request in flight: the destination never answered two at once
        self.assertEqual(dest.max_in_flight, 1)
        # the request after a failed one is the same batch again
        self.assertTrue(failed, "no request failed: no retry was tested")
        for r in failed:
            self.assertEqual(r.status, 500)
            nxt = reqs[r.index + 1]
            self.assertEqual(
                (nxt.headers.get("Idempotency-Key"), nxt.body),
                (r.headers.get("Idempotency-Key"), r.body),
                "request %d after the failed %d is not its re-send"
                % (nxt.index, r.index))
        # the accepted requests: every record once, in acceptance order
        stream = [(x["client"], x["seq"]) for r in reqs if r.ok
                  for x in r.records()]
        seqs = {}
        for client, seq in stream:
            seqs.setdefault(client, []).append(seq)
        want = {"h%d" % c: list(range(POSTS * PER_POST))
                for c in range(HTTP_CLIENTS)}
        want.update({"t%d" % c: list(range(LINES))
                     for c in range(TCP_CLIENTS)})
        for client in sorted(want):
            got = seqs.get(client, [])
            self.assertEqual(len(got), len(want[client]), client)
            wrong = [(a, b) for a, b in zip(got, got[1:]) if b <= a]
            self.assertEqual(wrong[:5], [], "%s: out of order" % client)
            self.assertEqual(got, want[client], client)
        self.assertEqual(sorted(seqs), sorted(want))
        # an HTTP request was accepted whole: its records side by side
        where = {rec: i for i, rec in enumerate(stream)}
        apart = []
        for c in range(HTTP_CLIENTS):
            for p in range(POSTS):
                at = [where[("h%d" % c, p * PER_POST + k)]
                      for k in range(PER_POST)]
                if at != list(range(at[0], at[0] + PER_POST)):
                    apart.append(("h%d" % c, p))
        self.assertEqual(apart[:5], [], "records of one request apart")
        # the clients' records were interleaved: the order held under load
        owners = [client for client, _ in stream]
        switches = sum(1 for a, b in zip(owners, owners[1:]) if a != b)
        sys.stderr.write(
            "\n[ordered, workers = %d] %d records from %d clients in %d "
            "requests (%d answered 500 and sent again); %d switches "
            "between clients in the stream; sluice ran %d threads after the load\n"
            % (workers, len(stream), len(want), len(reqs), len(failed),
               switches, nthreads))
        self.assertGreater(switches, len(want),
                           "the clients hardly overlapped: the test proves "
                           "little")

    def test_ordered_under_load_workers_1(self):
        self.ordered_under_load(1)

    def test_ordered_under_load_workers_2(self):
        self.ordered_under_load(2)


if __name__ == "__main__":
    unittest.main(verbosity=2)
