"""A full disk (issue 14): spool writes fail with ENOSPC (an LD_PRELOAD
shim, tests/support/enospc.c, fails writes to *.seg files while a flag
file exists). The intake answers 503 with Retry-After; the connector's
counters say those records were refused, not accepted (accepted equals
what clients were told was taken); once the disk has room again the
intake takes records again and every acknowledged record is delivered.

Assertions are on the answers clients got, the counters in GET
/v1/connectors and /metrics, and the records at a real local HTTP
destination. Python 3 standard library only.
"""

import http.client
import json
import os
import socket
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sluice_it import (SluiceTestCase, compact, connector_lua,  # noqa: E402
                       crm_record, free_port, wait_until)

PER_POST = 20


class Client(threading.Thread):
    """Posts PER_POST records at a time, with fresh ids, until stopped;
    keeps the ids of the requests answered 200 and of those answered
    503."""

    def __init__(self, port, base):
        super().__init__(daemon=True)
        self.port, self.next_id = port, base
        self.acked, self.refused, self.other = [], [], []
        self.stopping = threading.Event()

    def run(self):
        conn = None
        while not self.stopping.is_set():
            ids = list(range(self.next_id, self.next_id + PER_POST))
            self.next_id += PER_POST
            body = compact([crm_record(i) for i in ids])
            try:
                if conn is None:
                    conn = http.client.HTTPConnection("127.0.0.1", self.port,
                                                      timeout=30)
                conn.request("POST", "/v1/connectors/crm/records", body=body,
                             headers={"Content-Type": "application/json"})
                resp = conn.getresponse()
                raw = resp.read()
            except (OSError, http.client.HTTPException) as e:
                self.other.append(repr(e))
                conn = None
                continue
            if resp.status == 200:
                self.acked.extend(ids)
            elif resp.status == 503:
                self.refused.extend(ids)
                self.retry_after = resp.getheader("Retry-After")
                self.answer = json.loads(raw)
                time.sleep(0.02)
            else:
                self.other.append((resp.status, raw[:200]))
        if conn is not None:
            conn.close()


def metric(text, name, labels):
    for line in text.splitlines():
        if line.startswith(name + "{") and labels in line:
            return float(line.rsplit(" ", 1)[1])
    raise AssertionError("no %s{%s} in /metrics" % (name, labels))


class DiskFullTest(SluiceTestCase):

    def test_full_disk_refuses_and_counts_refused(self):
        env, flag = self.enospc_env()
        dest = self.start_flex_destination()
        sl = self.start_sluice({"crm": connector_lua(
            "crm", dest.url + "/in", retry={"base_ms": 20, "max_ms": 200})},
            env=env)
        clients = [Client(sl.port, 1000000 * (k + 1)) for k in range(3)]
        for c in clients:
            c.start()
        try:
            wait_until(lambda: sum(len(c.acked) for c in clients) >= 600, 20,
                       msg="records taken before the disk fills")
            open(flag, "w").close()  # the disk is full
            wait_until(lambda: sum(len(c.refused) for c in clients) >= 600,
                       20, msg="503 answers while the disk is full")
            acked_while_full = sum(len(c.acked) for c in clients)
            time.sleep(0.3)
            os.unlink(flag)  # room again
            wait_until(lambda: sum(len(c.acked) for c in clients) >=
                       acked_while_full + 600, 20,
                       msg="records taken again once the disk has room")
        finally:
            for c in clients:
                c.stopping.set()
            for c in clients:
                c.join(30)
        acked = [i for c in clients for i in c.acked]
        refused = [i for c in clients for i in c.refused]
        self.assertEqual([o for c in clients for o in c.other], [])
        answers = [c.answer for c in clients if c.refused]
        self.assertTrue(answers)
        for a in answers:
            self.assertIn("nothing of this request was accepted", a["error"])
        self.assertTrue(all(c.retry_after for c in clients if c.refused))
        # every acknowledged record arrives
        want = set(acked)
        wait_until(lambda: want <= set(dest.ids()), 30, interval=0.05,
                   msg=lambda: "acknowledged records at the destination "
                   "(missing %d)" % len(want - set(dest.ids())))
        stats = sl.stats("crm")
        self.assertEqual(stats["accepted"], len(acked), stats)
        self.assertEqual(stats["refused"], len(refused), stats)
        st, _, _ = sl.get("/metrics")
        self.assertEqual(st, 200)
        text = sl.last_raw.decode()
        self.assertEqual(metric(text, "sluice_records_accepted_total",
                                'connector="crm"'), len(acked))
        self.assertEqual(metric(text, "sluice_records_refused_total",
                                'connector="crm"'), len(refused))

    def test_full_disk_over_tcp_with_acks(self):
        """The TCP intake with ack = true: while the disk is full every line
        is answered with an error and counted refused; the lines answered
        ok are counted accepted and delivered."""
        env, flag = self.enospc_env()
        dest = self.start_flex_destination()
        tport = free_port()
        sl = self.start_sluice(
            {"crm": connector_lua("crm", dest.url + "/in",
                                  retry={"base_ms": 20, "max_ms": 200})},
            gateway_extra='  tcp = { { listen = "127.0.0.1:%d", '
            'connector = "crm", ack = true } },' % tport, env=env)
        sock = socket.create_connection(("127.0.0.1", tport), timeout=30)
        self.addCleanup(sock.close)
        f = sock.makefile("rb")
        acked, refused, next_id = [], [], 1
        for rnd in range(30):
            if rnd == 10:
                open(flag, "w").close()
            if rnd == 20:
                os.unlink(flag)
            ids = list(range(next_id, next_id + 20))
            next_id += 20
            sock.sendall(b"".join(compact(crm_record(i)) + b"\n"
                                  for i in ids))
            for i in ids:
                ans = f.readline()
                if ans == b"ok\n":
                    acked.append(i)
                else:
                    self.assertTrue(ans.startswith(b"error "), ans)
                    self.assertIn(b"not accepted", ans)
                    refused.append(i)
        self.assertTrue(refused, "no line refused while the disk was full")
        self.assertTrue(acked)
        want = set(acked)
        wait_until(lambda: want <= set(dest.ids()), 30, interval=0.05,
                   msg="acknowledged lines at the destination")
        stats = sl.stats("crm")
        self.assertEqual(stats["accepted"], len(acked), stats)
        self.assertEqual(stats["refused"], len(refused), stats)


if __name__ == "__main__":
    unittest.main(verbosity=2)
