"""Every gateway key of the HTTP intake follows a reload (issue 14): a
changed admin_listen (none -> some, moved, some -> none), admin_keys, the
limits, tls (built again from its files on every SIGHUP: a rotated
certificate is taken; plain -> TLS) and log_level apply from the commit
on. listen and admin_listen are bound together: if either cannot be,
the reload fails whole and nothing moves. Against the real binary and a
real destination."""

import http.client
import os
import re
import shutil
import signal
import socket
import ssl
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from pki import Pki  # noqa: E402
from sluice_it import (SluiceTestCase, connector_lua, crm_record,  # noqa: E402
                       compact, free_port, lua_str, wait_until)
from test_reload import log_msgs  # noqa: E402
from test_reload_listen import post_on  # noqa: E402

K1 = "admin-key-first-0123456789abcdef"
K2 = "admin-key-second-fedcba9876543210"


def get(port, path, key=None, tls=None):
    """GET on a new connection -> (status, body bytes)."""
    if tls is not None:
        conn = http.client.HTTPSConnection("127.0.0.1", port, timeout=10,
                                           context=tls)
    else:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    h = {"Authorization": "Bearer " + key} if key else {}
    try:
        conn.request("GET", path, headers=h)
        r = conn.getresponse()
        return r.status, r.read()
    finally:
        conn.close()


def refused(port):
    try:
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
        return False
    except ConnectionRefusedError:
        return True
    except ConnectionResetError:
        return False


def counts(port, key=None, tls=None):
    st, body = get(port, "/metrics", key, tls)
    assert st == 200, (st, body)
    return {m.group(1): int(m.group(2)) for m in re.finditer(
        r'^sluice_config_reloads_total\{result="(\w+)"\} (\d+)$',
        body.decode(), re.M)}


def metric(port, name):
    st, body = get(port, "/metrics")
    assert st == 200, (st, body)
    m = re.search(r"^%s (\d+)$" % re.escape(name), body.decode(), re.M)
    return int(m.group(1)) if m else None


def tls_lua(cert, key):
    return "  tls = { cert = %s, key = %s }," % (lua_str(cert), lua_str(key))


class ReloadGatewayTest(SluiceTestCase):

    def start(self, extra="", dest=None):
        self.dest = dest or self.start_destination()
        self.sl = self.start_sluice(
            {"crm": connector_lua("crm", self.dest.url + "/in")}, extra)
        return self.sl

    def reload(self, extra, result="ok", port=None, key=None, after=None,
               after_key=None):
        """Rewrite the gateway file with `extra`, SIGHUP, wait for the
        reload counted as `result`: metrics on port with key before
        (default: the intake's), on after with after_key then."""
        port = port or self.sl.port
        before = counts(port, key).get(result, 0)
        self.sl.gateway_extra = extra
        self.sl.write()
        self.sl.proc.send_signal(signal.SIGHUP)

        def counted():
            try:
                return counts(after or port, after_key or key).get(
                    result, 0) == before + 1
            except (AssertionError, OSError):
                return False
        wait_until(counted, msg="a reload counted as %s" % result)

    def post_ok(self, i):
        st, ans, _ = self.sl.post("crm", [crm_record(i)])
        self.assertEqual(st, 200, ans)

    def delivered(self):
        return sorted(r["id"] for r in self.dest.records())

    def admin(self, port):
        return "  admin_listen = %s,\n" % lua_str("127.0.0.1:%d" % port)

    def test_admin_listen_none_some_moved_none(self):
        self.start()
        a, b = free_port(), free_port()
        self.assertEqual(get(self.sl.port, "/metrics")[0], 200)
        # none -> some: introspection moves to its own address
        self.reload(self.admin(a), after=a)
        self.assertEqual(get(self.sl.port, "/metrics")[0], 404)
        self.assertEqual(get(a, "/metrics")[0], 200)
        self.assertEqual(counts(a), {"ok": 1, "failed": 0})
        self.assertIn("reload: 0 connectors changed, 0 added, 0 removed; "
                      "gateway: admin", log_msgs(self.sl))
        self.post_ok(1)
        # moved: the old admin address refuses, the new one answers
        self.reload(self.admin(b), port=a, after=b)
        wait_until(lambda: refused(a))
        self.assertEqual(get(b, "/metrics")[0], 200)
        self.assertEqual(get(self.sl.port, "/metrics")[0], 404)
        self.post_ok(2)
        # some -> none: back on the intake's address
        self.reload("", port=b, after=self.sl.port)
        wait_until(lambda: refused(b))
        self.assertEqual(get(self.sl.port, "/metrics")[0], 200)
        self.assertEqual(counts(self.sl.port), {"ok": 3, "failed": 0})
        self.post_ok(3)
        wait_until(lambda: self.delivered() == [1, 2, 3])
        msgs = log_msgs(self.sl)
        self.assertFalse(any("not applied" in m for m in msgs), msgs)
        # the status page shows where it listens now
        st, page = get(self.sl.port, "/")
        self.assertEqual(st, 200)
        self.assertNotIn(b"admin 127.0.0.1", page)
        self.assertEqual(self.sl.sigterm()[0], 0)

    def test_status_page_shows_the_new_admin_address(self):
        self.start()
        a = free_port()
        self.reload(self.admin(a), after=a)
        st, page = get(a, "/")
        self.assertEqual(st, 200)
        self.assertIn(("admin 127.0.0.1:%d" % a).encode(), page)

    def test_admin_keys_changed(self):
        keys = "  admin_keys = { %s },\n"
        self.start(keys % lua_str(K1))
        self.assertEqual(get(self.sl.port, "/metrics", K1)[0], 200)
        self.assertEqual(get(self.sl.port, "/metrics", K2)[0], 401)
        self.reload(keys % lua_str(K2), key=K1, after_key=K2)
        self.assertEqual(get(self.sl.port, "/metrics", K1)[0], 401)
        self.assertEqual(get(self.sl.port, "/metrics", K2)[0], 200)
        self.assertEqual(get(self.sl.port, "/metrics")[0], 401)
        self.assertEqual(counts(self.sl.port, K2), {"ok": 1, "failed": 0})
        self.post_ok(1)
        wait_until(lambda: self.delivered() == [1])

    def test_taken_admin_port_fails_the_whole_reload(self):
        self.start()
        taken = socket.socket()
        self.addCleanup(taken.close)
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        busy = taken.getsockname()[1]
        old, new = self.sl.port, free_port()
        self.sl.port = new  # the file now says listen = new
        self.sl.gateway_extra = self.admin(busy)
        self.sl.write()
        self.sl.port = old
        self.sl.proc.send_signal(signal.SIGHUP)
        wait_until(lambda: counts(old).get("failed") == 1)
        self.assertEqual(counts(old), {"ok": 0, "failed": 1})
        # the intake did not move, and introspection stayed on it
        self.assertTrue(refused(new))
        self.assertEqual(get(old, "/metrics")[0], 200)
        msgs = log_msgs(self.sl)
        self.assertTrue(any(m.startswith(
            "reload failed: admin_listen 127.0.0.1:%d: cannot listen on "
            "127.0.0.1:%d" % (busy, busy)) for m in msgs), msgs)
        self.post_ok(1)
        wait_until(lambda: self.delivered() == [1])

    def test_max_body_bytes_lowered(self):
        self.start()
        big = [crm_record(i, email="u%d@%s.example.com" % (i, "x" * 40))
               for i in range(100, 160)]
        self.assertGreater(len(compact(big)), 4096)
        st, ans, _ = self.sl.post("crm", big)
        self.assertEqual(st, 200, ans)
        self.reload("  max_body_bytes = 4096,")
        self.assertIn("reload: 0 connectors changed, 0 added, 0 removed; "
                      "gateway: limits", log_msgs(self.sl))
        st, ans, _ = self.sl.post("crm", big)
        self.assertEqual(st, 413, ans)
        self.post_ok(1)
        wait_until(lambda: self.delivered() ==
                   sorted([r["id"] for r in big] + [1]))

    def test_max_connections_lowered_closes_nothing(self):
        a = free_port()
        self.start(self.admin(a))
        conns = [http.client.HTTPConnection("127.0.0.1", self.sl.port,
                                            timeout=10) for _ in range(3)]
        for i, c in enumerate(conns):
            self.addCleanup(c.close)
            self.assertEqual(post_on(c, [i + 1])[0], 200)
        wait_until(lambda: metric(a, "sluice_http_connections") == 3)
        self.reload(self.admin(a) + "  max_connections = 2,", port=a)
        wait_until(lambda: metric(a, "sluice_http_accept_paused_total") == 1)
        # the three open ones are still served
        for i, c in enumerate(conns):
            self.assertEqual(post_on(c, [i + 11])[0], 200)
        self.assertEqual(metric(a, "sluice_http_connections"), 3)
        # under the limit again, it accepts
        conns[0].close()
        conns[1].close()
        wait_until(lambda: metric(a, "sluice_http_connections") == 1)
        self.post_ok(21)
        wait_until(lambda: self.delivered() == [1, 2, 3, 11, 12, 13, 21])

    def test_log_level_debug_applies(self):
        # the first attempt of each record fails: "delivered after 2
        # attempts" is a debug line
        dest = self.start_destination(
            func=lambda i, req: 503 if i % 2 == 0 else 200)
        self.start(dest=dest)
        self.post_ok(1)
        wait_until(lambda: self.delivered() == [1], timeout=20)
        self.assertFalse(any("delivered after 2 attempts" in m
                             for m in log_msgs(self.sl)))
        self.reload('  log_level = "debug",')
        self.assertIn("reload: 0 connectors changed, 0 added, 0 removed; "
                      "gateway: log_level", log_msgs(self.sl))
        self.post_ok(2)
        wait_until(lambda: self.delivered() == [1, 2], timeout=20)
        wait_until(lambda: any("delivered after 2 attempts" in m
                               for m in log_msgs(self.sl)))

    def test_workers_change_waits_for_the_next_start(self):
        # the check threads stay as started; the reload says so and the
        # records still go through them
        self.start('  workers = 2,')
        self.assertIn("workers: 2 (the event loop and 1 check thread)",
                      log_msgs(self.sl))
        self.post_ok(1)
        self.reload('  workers = 1,')
        wait_until(lambda: any(
            "workers = 1 in the file, 2 at the start: the check threads "
            "change at the next start" in m for m in log_msgs(self.sl)))
        self.post_ok(2)
        wait_until(lambda: self.delivered() == [1, 2], timeout=20)
        self.assertEqual(metric(self.sl.port, "sluice_config_reloads_total"
                                "{result=\"ok\"}"), 1)

    def test_log_level_flag_wins_on_reload(self):
        dest = self.start_destination(
            func=lambda i, req: 503 if i % 2 == 0 else 200)
        self.dest = dest
        self.sl = self.make_sluice(
            {"crm": connector_lua("crm", dest.url + "/in")})
        self.sl.run_args = ["--log-level", "debug"]
        self.sl.start()
        self.reload('  log_level = "error",')
        self.post_ok(1)
        wait_until(lambda: self.delivered() == [1], timeout=20)
        wait_until(lambda: any("delivered after 2 attempts" in m
                               for m in log_msgs(self.sl)))


class ReloadTlsTest(SluiceTestCase):

    def make(self):
        self.dest = self.start_destination()
        self.sl = self.make_sluice(
            {"crm": connector_lua("crm", self.dest.url + "/in")})
        self.pki = Pki(self.sl.dir, name="pki")
        self.srv = self.pki.server("srv")
        self.tls = tls_lua(os.path.relpath(self.srv.cert, self.sl.dir),
                           os.path.relpath(self.srv.key, self.sl.dir))
        self.ctx = ssl.create_default_context(cafile=self.pki.cert)

    def hup(self, result, tls):
        before = counts(self.sl.port, tls=tls).get(result, 0)
        self.sl.write()
        self.sl.proc.send_signal(signal.SIGHUP)
        wait_until(lambda: counts(self.sl.port, tls=tls).get(result, 0) ==
                   before + 1, msg="a reload counted as %s" % result)

    def peer_cert(self):
        with socket.create_connection(("127.0.0.1", self.sl.port), 10) as s:
            with self.ctx.wrap_socket(s, server_hostname="127.0.0.1") as t:
                return t.getpeercert(binary_form=True)

    def pem_der(self, path):
        with open(path) as f:
            return ssl.PEM_cert_to_DER_cert(f.read())

    def test_rotated_certificate_is_taken_on_sighup(self):
        self.make()
        self.sl.gateway_extra = self.tls
        self.sl.client_tls = self.ctx
        self.sl.start()
        self.assertEqual(self.peer_cert(), self.pem_der(self.srv.cert))
        # a connection open before the rotation keeps working
        kept = http.client.HTTPSConnection("127.0.0.1", self.sl.port,
                                           timeout=10, context=self.ctx)
        self.addCleanup(kept.close)
        kept.request("GET", "/healthz")
        self.assertEqual(kept.getresponse().read(), b'{"status":"ok"}\n')
        new = self.pki.server("srv2")
        shutil.copyfile(new.cert, self.srv.cert)
        shutil.copyfile(new.key, self.srv.key)
        self.hup("ok", self.ctx)
        self.assertEqual(self.peer_cert(), self.pem_der(new.cert))
        kept.request("GET", "/healthz")
        self.assertEqual(kept.getresponse().status, 200)
        st, ans, _ = self.sl.post("crm", [crm_record(1)])
        self.assertEqual(st, 200, ans)
        wait_until(lambda: [r["id"] for r in self.dest.records()] == [1])

    def test_plain_to_tls(self):
        self.make()
        self.sl.start()
        self.assertEqual(self.sl.post("crm", [crm_record(1)])[0], 200)
        self.sl.gateway_extra = self.tls
        self.sl.write()
        self.sl.proc.send_signal(signal.SIGHUP)
        wait_until(self.tls_up, msg="the intake speaks TLS")
        self.assertEqual(counts(self.sl.port, tls=self.ctx),
                         {"ok": 1, "failed": 0})
        self.sl.client_tls = self.ctx
        st, ans, _ = self.sl.post("crm", [crm_record(2)])
        self.assertEqual(st, 200, ans)
        wait_until(lambda: sorted(r["id"] for r in self.dest.records()) ==
                   [1, 2])
        # and back to plain
        self.sl.gateway_extra = ""
        self.sl.write()
        self.sl.proc.send_signal(signal.SIGHUP)
        wait_until(lambda: not self.tls_up())
        self.sl.client_tls = None
        self.assertEqual(self.sl.post("crm", [crm_record(3)])[0], 200)
        wait_until(lambda: sorted(r["id"] for r in self.dest.records()) ==
                   [1, 2, 3])

    def tls_up(self):
        try:
            self.peer_cert()
            return True
        except (ssl.SSLError, ConnectionError):
            return False

    def test_unreadable_key_fails_and_keeps_serving(self):
        self.make()
        self.sl.gateway_extra = self.tls
        self.sl.client_tls = self.ctx
        self.sl.start()
        before = self.peer_cert()
        with open(self.srv.key, "w") as f:
            f.write("not a key\n")
        self.hup("failed", self.ctx)
        self.assertEqual(counts(self.sl.port, tls=self.ctx),
                         {"ok": 0, "failed": 1})
        self.assertEqual(self.peer_cert(), before)
        st, ans, _ = self.sl.post("crm", [crm_record(1)])
        self.assertEqual(st, 200, ans)
        wait_until(lambda: [r["id"] for r in self.dest.records()] == [1])


if __name__ == "__main__":
    unittest.main()
