"""Reload moves the HTTP intake's `listen` (issue 14, item 1): the new
address listens before the old one stops accepting, so a client trying the
old address and then the new one is never refused by both; a connection
already open on the old address gets its answers; an address that cannot
be bound fails the reload as a whole and changes nothing."""

import http.client
import os
import signal
import socket
import sys
import threading
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sluice_it import (SluiceTestCase, compact, connector_lua,  # noqa: E402
                       crm_record, free_port, wait_until)
from test_reload import log_msgs, reload_counts  # noqa: E402


def refused(port):
    """Does 127.0.0.1:port refuse a connection? A reset (a connection
    dropped from a closed listener's backlog) raises."""
    try:
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
        return False
    except ConnectionRefusedError:
        return True


def post_on(conn, ids):
    """POST crm records on an open (kept-alive) connection -> (status,
    body)."""
    conn.request("POST", "/v1/connectors/crm/records",
                 body=compact([crm_record(i) for i in ids]),
                 headers={"Content-Type": "application/json"})
    resp = conn.getresponse()
    return resp.status, resp.read()


class ReloadListenTest(SluiceTestCase):

    def start_crm(self, headers=None):
        self.dest = self.start_destination()
        self.url = self.dest.url + "/in"
        self.sl = self.start_sluice(
            {"crm": connector_lua("crm", self.url, headers=headers)})
        return self.sl

    def set_listen(self, port, extra=""):
        with open(self.sl.gateway_file) as f:
            src = f.read()
        src = src.replace('"127.0.0.1:%d"' % self.sl.port,
                          '"127.0.0.1:%d"' % port, 1)
        if extra:
            src = src.replace("return {", "return {\n" + extra, 1)
        with open(self.sl.gateway_file, "w") as f:
            f.write(src)

    def delivered_ids(self):
        return sorted(r["id"] for r in self.dest.records())

    def test_reload_moves_listen_without_a_refused_connection(self):
        self.start_crm()
        old, new = self.sl.port, free_port()
        kept = http.client.HTTPConnection("127.0.0.1", old, timeout=10)
        self.addCleanup(kept.close)
        self.assertEqual(post_on(kept, [1])[0], 200)
        # a prober: the old address, and when it refuses, the new one. The
        # new one listens before the old one closes: never both refused
        both_refused, resets = [], []
        seen_old_closed = threading.Event()
        stop = threading.Event()

        def probe():
            while not stop.is_set():
                try:
                    if refused(old):
                        if refused(new):
                            both_refused.append("both refused")
                        seen_old_closed.set()
                except ConnectionResetError as e:
                    # connected in the instant the old socket closed, after
                    # its backlog was seen empty: one closing, one at most
                    resets.append(repr(e))
        t = threading.Thread(target=probe)
        t.start()
        try:
            self.set_listen(new)
            self.sl.proc.send_signal(signal.SIGHUP)
            seen_old_closed.wait(10)
        finally:
            stop.set()
            t.join()
        self.assertTrue(seen_old_closed.is_set(), "the old address closed")
        self.assertEqual(both_refused, [])
        self.assertLessEqual(len(resets), 1, resets)
        self.assertFalse(refused(new))
        self.assertTrue(refused(old))
        # the connection the old address had accepted is still served
        st, body = post_on(kept, [2])
        self.assertEqual(st, 200, body)
        self.sl.port = new
        self.assertEqual(reload_counts(self.sl), {"ok": 1, "failed": 0})
        msgs = log_msgs(self.sl)
        self.assertIn("reload: 0 connectors changed, 0 added, 0 removed; "
                      "gateway: listen", msgs)
        self.assertIn("reload: listening on 127.0.0.1:%d; 127.0.0.1:%d "
                      "closed" % (new, old), msgs)
        self.assertFalse(any("not applied" in m for m in msgs), msgs)
        self.sl.post("crm", [crm_record(3)])
        wait_until(lambda: self.delivered_ids() == [1, 2, 3])
        # a reload without a change after the move: nothing to move or say
        self.sl.proc.send_signal(signal.SIGHUP)
        wait_until(lambda: reload_counts(self.sl).get("ok") == 2)
        self.assertEqual(sum("gateway: listen" in m
                             for m in log_msgs(self.sl)), 1)
        # and back to the first port
        self.set_listen(old)
        self.sl.proc.send_signal(signal.SIGHUP)
        wait_until(lambda: not refused(old) and refused(new))
        self.sl.port = old
        self.assertEqual(self.sl.post("crm", [crm_record(4)])[0], 200)
        wait_until(lambda: self.delivered_ids() == [1, 2, 3, 4])
        self.assertEqual(self.sl.sigterm()[0], 0)

    def test_taken_address_fails_the_reload_and_changes_nothing(self):
        self.start_crm(headers={"X-Env": "one"})
        taken = socket.socket()
        self.addCleanup(taken.close)
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        self.set_listen(port, extra="  max_body_bytes = 4096,")
        with open(self.sl.connector_path("crm"), "w") as f:
            f.write(connector_lua("crm", self.url, headers={"X-Env": "two"}))
        self.sl.proc.send_signal(signal.SIGHUP)
        wait_until(lambda: reload_counts(self.sl).get("failed") == 1)
        self.assertEqual(reload_counts(self.sl).get("ok"), 0)
        msgs = log_msgs(self.sl)
        bad = [m for m in msgs if m.startswith(
            "reload failed: listen 127.0.0.1:%d: cannot listen on "
            "127.0.0.1:%d: " % (port, port))]
        self.assertEqual(len(bad), 1, msgs)
        self.assertIn("the running configuration is unchanged (listening "
                      "on 127.0.0.1:%d)" % self.sl.port, bad[0])
        self.assertFalse(any("not applied" in m for m in msgs), msgs)
        # still on the old address, with the old header
        st, ans, _ = self.sl.post("crm", [crm_record(1)])
        self.assertEqual(st, 200, ans)
        wait_until(lambda: self.delivered_ids() == [1])
        self.assertEqual(self.dest.requests()[-1].headers.get("X-Env"), "one")
        # the port free again: the same files reload, all of them
        taken.close()
        self.sl.proc.send_signal(signal.SIGHUP)
        wait_until(lambda: not refused(port))
        old, self.sl.port = self.sl.port, port
        wait_until(lambda: refused(old))
        wait_until(lambda: reload_counts(self.sl).get("ok") == 1)
        self.assertFalse(any("not applied" in m for m in log_msgs(self.sl)))
        self.assertEqual(self.sl.post("crm", [crm_record(2)])[0], 200)
        wait_until(lambda: self.delivered_ids() == [1, 2])
        self.assertEqual(self.dest.requests()[-1].headers.get("X-Env"), "two")
        self.assertEqual(self.sl.sigterm()[0], 0)


if __name__ == "__main__":
    unittest.main()
