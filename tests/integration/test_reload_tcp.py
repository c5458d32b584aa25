"""Reload changes the TCP listeners (gateway key `tcp`, issue 14): a
listener added listens, one removed stops accepting while its open
connections are served, one whose settings change hands its socket on (a
connection open before keeps its settings, a new one gets the new ones),
a port taken or a certificate unreadable fails the whole reload, and a
TLS listener serves the certificate on disk after a SIGHUP."""

import os
import re
import shutil
import signal
import socket
import ssl
import sys
import threading
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sluice_it import (SluiceTestCase, compact, connector_lua,  # noqa: E402
                       crm_record, free_port, wait_until)
from pki import Pki  # noqa: E402
from test_reload import log_msgs, reload_counts  # noqa: E402
from test_reload_listen import refused  # noqa: E402


def line(i):
    return compact(crm_record(i)) + b"\n"


def tcp_entry(port, extra=""):
    return ('{ listen = "127.0.0.1:%d", connector = "crm"%s }'
            % (port, extra))


class ReloadTcpTest(SluiceTestCase):

    def start(self, entries, extra=""):
        self.dest = self.start_destination()
        self.url = self.dest.url + "/in"
        self.sl = self.start_sluice(
            {"crm": connector_lua("crm", self.url)},
            gateway_extra="  tcp = { %s },%s" % (", ".join(entries), extra))
        return self.sl

    def set_tcp(self, entries):
        with open(self.sl.gateway_file) as f:
            src = f.read()
        src = re.sub(r"  tcp = .*\n", "  tcp = { %s },\n" % ", ".join(entries),
                     src)
        with open(self.sl.gateway_file, "w") as f:
            f.write(src)

    def reload(self, result="ok"):
        before = reload_counts(self.sl).get(result, 0)
        self.sl.proc.send_signal(signal.SIGHUP)
        wait_until(lambda: reload_counts(self.sl).get(result, 0) == before + 1)

    def connect(self, port):
        s = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.addCleanup(s.close)
        return s

    def ids(self):
        return sorted(r["id"] for r in self.dest.records())

    def test_added_listener_accepts_and_delivers(self):
        a, b = free_port(), free_port()
        self.start([tcp_entry(a)])
        self.set_tcp([tcp_entry(a), tcp_entry(b, ", ack = true")])
        self.reload()
        self.assertIn("reload: tcp 127.0.0.1:%d -> crm listening" % b,
                      log_msgs(self.sl))
        s = self.connect(b)
        s.sendall(line(1))
        self.assertEqual(s.makefile("rb").readline(), b"ok\n")
        self.connect(a).sendall(line(2))
        wait_until(lambda: self.ids() == [1, 2])
        self.assertEqual(self.sl.sigterm()[0], 0)

    def test_listener_for_a_connector_added_by_the_same_reload(self):
        a, b = free_port(), free_port()
        self.start([tcp_entry(a)])
        with open(self.sl.connector_path("orders"), "w") as f:
            f.write(connector_lua("orders", self.url + "?c=orders"))
        self.set_tcp([tcp_entry(a),
                      tcp_entry(b, ", ack = true").replace('"crm"',
                                                           '"orders"')])
        self.reload()
        s = self.connect(b)
        s.sendall(line(7))
        self.assertEqual(s.makefile("rb").readline(), b"ok\n")
        wait_until(lambda: [r["id"] for q in self.dest.requests(ok_only=True)
                            if q.path.endswith("?c=orders")
                            for r in q.records()] == [7],
                   msg="the line delivered by the added connector")

    def test_listener_for_a_connector_that_could_not_be_added(self):
        a, b = free_port(), free_port()
        self.start([tcp_entry(a)])
        # its directory holds the lock of another schema: refused
        lock_dir = os.path.join(self.sl.dir, "var", "orders")
        os.makedirs(lock_dir)
        shutil.copy(os.path.join(self.sl.dir, "var", "crm", "schema.lock"),
                    lock_dir)
        schema = [{"name": "n", "type": "integer", "nullable": False}]
        with open(self.sl.connector_path("orders"), "w") as f:
            f.write(connector_lua("orders", self.url, schema=schema))
        self.set_tcp([tcp_entry(a),
                      tcp_entry(b).replace('"crm"', '"orders"')])
        before = reload_counts(self.sl)
        self.sl.proc.send_signal(signal.SIGHUP)
        wait_until(lambda: reload_counts(self.sl) != before)
        self.assertTrue(self.sl.alive())
        wait_until(lambda: refused(b), msg="no listener for orders")
        # the other listener is untouched
        self.connect(a).sendall(line(8))
        wait_until(lambda: self.ids() == [8])

    def test_removed_listener_closes_its_open_connection_served(self):
        a, b = free_port(), free_port()
        self.start([tcp_entry(a, ", ack = true"), tcp_entry(b)])
        kept = self.connect(a)
        kept.sendall(line(1))
        f = kept.makefile("rb")
        self.assertEqual(f.readline(), b"ok\n")
        self.set_tcp([tcp_entry(b)])
        self.reload()
        wait_until(lambda: refused(a))
        self.assertTrue(any("reload: tcp 127.0.0.1:%d closed" % a in m
                            for m in log_msgs(self.sl)), log_msgs(self.sl))
        kept.sendall(line(2))  # still served, with ack as accepted
        self.assertEqual(f.readline(), b"ok\n")
        wait_until(lambda: self.ids() == [1, 2])
        self.assertEqual(self.sl.sigterm()[0], 0)

    def test_ack_changed_keeps_the_old_mode_for_open_connections(self):
        a = free_port()
        self.start([tcp_entry(a)])
        before = self.connect(a)
        before.sendall(line(1))
        wait_until(lambda: self.ids() == [1])
        self.set_tcp([tcp_entry(a, ", ack = true")])
        self.reload()
        after = self.connect(a)
        after.sendall(line(2))
        self.assertEqual(after.makefile("rb").readline(), b"ok\n")
        before.sendall(line(3))  # no ack on it: it was accepted without
        wait_until(lambda: self.ids() == [1, 2, 3])
        before.settimeout(0.5)
        with self.assertRaises(socket.timeout):
            before.recv(10)
        self.assertEqual(self.sl.sigterm()[0], 0)

    def test_moved_listener_never_refuses_and_loses_nothing(self):
        old, new = free_port(), free_port()
        self.start([tcp_entry(old, ", ack = true")])
        acked, errors = [], []
        stop = threading.Event()
        moved = threading.Event()

        def client():
            i = 0
            while not stop.is_set():
                i += 1
                port = new if moved.is_set() else old
                try:
                    s = socket.create_connection(("127.0.0.1", port),
                                                 timeout=10)
                except ConnectionRefusedError:
                    if port == old:  # closed: the new one must listen
                        moved.set()
                        continue
                    errors.append("refused on the new port")
                    return
                try:
                    s.sendall(line(i))
                    if s.makefile("rb").readline() == b"ok\n":
                        acked.append(i)
                except OSError:
                    pass  # dropped from a closing backlog: not acked
                finally:
                    s.close()

        t = threading.Thread(target=client)
        t.start()
        wait_until(lambda: len(acked) >= 5)
        self.set_tcp([tcp_entry(new, ", ack = true")])
        self.reload()
        wait_until(lambda: moved.is_set() and len(acked) >= 10 or errors)
        n = len(acked)
        wait_until(lambda: len(acked) >= n + 5 or errors)
        stop.set()
        t.join(30)
        self.assertEqual(errors, [])
        wait_until(lambda: set(acked) <= set(self.ids()))
        got = [r["id"] for r in self.dest.records()]
        for i in acked:
            self.assertEqual(got.count(i), 1, i)
        self.assertEqual(self.sl.sigterm()[0], 0)

    def test_taken_port_fails_the_whole_reload(self):
        a = free_port()
        self.start([tcp_entry(a)])
        taken = socket.socket()
        self.addCleanup(taken.close)
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        b = taken.getsockname()[1]
        with open(self.sl.connector_path("extra"), "w") as f:
            f.write(connector_lua("extra", self.url))
        self.set_tcp([tcp_entry(a), tcp_entry(b)])
        self.reload("failed")
        self.assertTrue(any("cannot listen on 127.0.0.1:%d" % b in m
                            for m in log_msgs(self.sl)), log_msgs(self.sl))
        self.assertEqual(self.sl.post("extra", [crm_record(9)])[0], 404)
        self.connect(a).sendall(line(1))
        wait_until(lambda: self.ids() == [1])
        self.assertEqual(self.sl.sigterm()[0], 0)


class ReloadTcpTlsTest(SluiceTestCase):

    def test_rotated_certificate_served_and_unreadable_one_refused(self):
        dest = self.start_destination()
        self.sl = self.make_sluice(
            {"crm": connector_lua("crm", dest.url + "/in")})
        pki = Pki(self.sl.dir, name="pki")
        first, second = pki.server("one"), pki.server("two", days=20)
        live_cert = os.path.join(self.sl.dir, "live.pem")
        live_key = os.path.join(self.sl.dir, "live.key")
        shutil.copy(first.cert, live_cert)
        shutil.copy(first.key, live_key)
        port = free_port()
        self.sl.gateway_extra = (
            '  tcp = { { listen = "127.0.0.1:%d", connector = "crm", ack = '
            'true, tls = { cert = "live.pem", key = "live.key" } } },' % port)
        self.sl.start()
        ctx = ssl.create_default_context(cafile=pki.cert)

        def served_cert():
            s = socket.create_connection(("127.0.0.1", port), timeout=10)
            ts = ctx.wrap_socket(s, server_hostname="127.0.0.1")
            try:
                ts.sendall(line(len(served) + 1))
                self.assertEqual(ts.makefile("rb").readline(), b"ok\n")
                return ts.getpeercert(binary_form=True)
            finally:
                ts.close()

        def der(path):
            with open(path) as f:
                return ssl.PEM_cert_to_DER_cert(f.read())

        served = []
        served.append(served_cert())
        self.assertEqual(served[0], der(first.cert))
        shutil.copy(second.cert, live_cert)
        shutil.copy(second.key, live_key)
        self.sl.proc.send_signal(signal.SIGHUP)
        wait_until(lambda: reload_counts(self.sl).get("ok") == 1)
        served.append(served_cert())
        self.assertEqual(served[1], der(second.cert))
        os.chmod(live_cert, 0)
        if os.access(live_cert, os.R_OK):  # root reads it anyway
            os.unlink(live_cert)
        self.sl.proc.send_signal(signal.SIGHUP)
        wait_until(lambda: reload_counts(self.sl).get("failed") == 1)
        served.append(served_cert())
        self.assertEqual(served[2], der(second.cert))
        wait_until(lambda: len(dest.records()) == 3)
        self.assertEqual(self.sl.sigterm()[0], 0)


if __name__ == "__main__":
    unittest.main()
