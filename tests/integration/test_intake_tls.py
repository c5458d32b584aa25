"""TLS on the intake (issue 12, item 5): the gateway's `tls` serves the HTTP
intake over HTTPS, `tcp[n].tls` a TCP listener over TLS, with a private CA
made by Debian's openssl (pki.py). Records posted with curl --cacert and
with Python's ssl client reach the destination; plain HTTP to the TLS port
is refused; client certificates asked for, required, verified (intake keys
still apply); a client that stalls mid-handshake is closed after the
request timeout while others are served; the size limits answer the same
JSON over TLS; `sluice check` refuses bad files naming the key and file and
shows the certificate. Assertions are on what reached the destination or
what a client saw."""

import json
import os
import select
import socket
import ssl
import subprocess
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from pki import Pki  # noqa: E402
from sluice_it import (LuaRaw, SluiceTestCase, compact,  # noqa: E402
                       connector_lua, crm_record, free_port,
                       read_http_response, wait_until)

PATH = b"/v1/connectors/crm/records"
KEY = "intake-key-0123456789"


def lua_tls(**keys):
    """A Lua `tls = { ... }` table from keyword arguments."""
    parts = []
    for k, v in keys.items():
        if isinstance(v, bool):
            parts.append("%s = %s" % (k, "true" if v else "false"))
        else:
            parts.append('%s = "%s"' % (k, v))
    return "{ " + ", ".join(parts) + " }"


def client_context(ca, cert=None):
    ctx = ssl.create_default_context(cafile=ca)
    if cert is not None:
        ctx.load_cert_chain(cert.cert, cert.key)
    return ctx


def client_hello():
    """The first bytes a TLS client sends (a real ClientHello)."""
    ctx = ssl.create_default_context()
    inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
    obj = ctx.wrap_bio(inc, out, server_hostname="localhost")
    try:
        obj.do_handshake()
    except ssl.SSLWantReadError:
        pass
    return out.read()


def closed_within(sock, seconds):
    """Did the server close sock within `seconds` (EOF or reset)?"""
    sock.settimeout(seconds)
    try:
        return sock.recv(100) == b""
    except (ConnectionResetError, BrokenPipeError):
        return True
    except socket.timeout:
        return False


def records(ids):
    return [crm_record(i) for i in ids]


class IntakeTlsTest(SluiceTestCase):

    def setUp(self):
        super().setUp()
        self.dest = self.start_flex_destination()

    def make(self, gateway_extra, conn_extra=None, tls=None):
        """A sluice whose certificates live in its own directory (so that
        the paths in `tls` are relative to the gateway file)."""
        self.sl = self.make_sluice(
            {"crm": connector_lua("crm", self.dest.url + "/in",
                                  extra=conn_extra or {})})
        self.pki = Pki(self.sl.dir, name="pki")
        self.srv = self.pki.server("srv")
        self.sl.gateway_extra = gateway_extra
        return self.sl

    def rel(self, path):
        return os.path.relpath(path, self.sl.dir)

    def https(self, **extra):
        keys = dict(cert=self.rel(self.srv.cert), key=self.rel(self.srv.key))
        keys.update(extra)
        return "  tls = %s," % lua_tls(**keys)

    def start_https(self, extra="", conn_extra=None, **tls):
        self.make("", conn_extra)
        self.sl.gateway_extra = self.https(**tls) + "\n" + extra
        self.sl.client_tls = client_context(self.pki.cert)
        return self.sl.start()

    def metric(self, name):
        st, _, _ = self.sl.get("/metrics")
        self.assertEqual(st, 200)
        total = 0
        for ln in self.sl.last_raw.decode().splitlines():
            if ln.startswith(name + "{") or ln.startswith(name + " "):
                total += int(ln.rsplit(" ", 1)[1])
        return total

    # ---- HTTPS ---------------------------------------------------------

    def test_https_with_curl_and_python_ssl(self):
        self.start_https()
        st, js, _ = self.sl.post("crm", records(range(0, 10)))
        self.assertEqual(st, 200, self.sl.last_raw)
        body = compact(records(range(10, 20)))
        p = subprocess.run(
            ["curl", "-sS", "--cacert", self.pki.cert, "-o", "/dev/null",
             "-w", "%{http_code}", "-H", "Content-Type: application/json",
             "--data-binary", "@-",
             "https://127.0.0.1:%d/v1/connectors/crm/records" % self.sl.port],
            input=body, capture_output=True, timeout=30)
        self.assertEqual(p.stdout, b"200", p.stderr)
        wait_until(lambda: sorted(self.dest.ids()) == list(range(20)), 15,
                   msg="20 records at the destination")
        # curl without the CA does not trust the intake
        p = subprocess.run(
            ["curl", "-sS", "-o", "/dev/null", "https://127.0.0.1:%d/healthz"
             % self.sl.port], capture_output=True, timeout=30,
            env=dict(os.environ, CURL_CA_BUNDLE="/nonexistent",
                     SSL_CERT_FILE="/nonexistent"))
        self.assertNotEqual(p.returncode, 0)

    def test_plain_http_to_the_tls_port_fails_cleanly(self):
        self.start_https()
        before = self.metric("sluice_intake_tls_handshake_failures_total")
        s = socket.create_connection(("127.0.0.1", self.sl.port), timeout=10)
        self.addCleanup(s.close)
        s.sendall(b"POST /v1/connectors/crm/records HTTP/1.1\r\nHost: x\r\n"
                  b"Content-Type: application/json\r\nContent-Length: 2\r\n"
                  b"\r\n[]")
        got = b""
        try:
            while True:
                chunk = s.recv(4096)
                if not chunk:
                    break
                got += chunk
        except ConnectionResetError:
            pass
        self.assertNotIn(b"HTTP/1.1 200", got)  # nothing answered in clear
        self.assertNotIn(b"{", got)
        wait_until(lambda: self.metric(
            "sluice_intake_tls_handshake_failures_total") > before, 10,
            msg="the failed handshake counted")
        self.assertIn('listener="127.0.0.1:%d"' % self.sl.port,
                      self.sl.last_raw.decode())
        # and the intake still serves TLS clients
        st, _, _ = self.sl.post("crm", records([1]))
        self.assertEqual(st, 200)
        self.assertTrue(self.sl.alive())

    def tls_socket(self):
        s = socket.create_connection(("127.0.0.1", self.sl.port), timeout=15)
        ts = self.sl.client_tls.wrap_socket(s, server_hostname="127.0.0.1")
        self.addCleanup(ts.close)
        return ts

    def test_size_limits_answer_json_over_tls(self):
        self.start_https("  max_body_bytes = 4096,\n  max_header_bytes = 2048,")
        ts = self.tls_socket()
        ts.sendall(b"POST %s HTTP/1.1\r\nHost: x\r\nContent-Type: application/"
                   b"json\r\nContent-Length: 10000000\r\nExpect: 100-continue"
                   b"\r\n\r\n" % PATH)
        self.assert_json_error(read_http_response(ts), 413,
                               ["Content-Length 10000000",
                                "max_body_bytes (4096 bytes)"])
        ts = self.tls_socket()
        ts.sendall(b"POST %s HTTP/1.1\r\nHost: x\r\nX-Pad: %s\r\n"
                   b"Content-Length: 2\r\n\r\n[]" % (PATH, b"p" * 4000))
        self.assert_json_error(read_http_response(ts), 431,
                               ["max_header_bytes (2048 bytes)"])
        ts = self.tls_socket()
        ts.sendall(b"GARBAGE\r\n\r\n")
        self.assert_json_error(read_http_response(ts), 400,
                               ["malformed HTTP request"])
        st, _, _ = self.sl.post("crm", records([7]))
        self.assertEqual(st, 200)
        wait_until(lambda: self.dest.ids() == [7], 15,
                   msg="only the small post delivered")

    def test_handshake_stallers_closed_while_others_are_served(self):
        self.start_https("  request_timeout_s = 2,")
        silent = socket.create_connection(("127.0.0.1", self.sl.port),
                                          timeout=10)
        self.addCleanup(silent.close)
        partial = socket.create_connection(("127.0.0.1", self.sl.port),
                                           timeout=10)
        self.addCleanup(partial.close)
        partial.sendall(client_hello()[:20])
        # meanwhile a TLS client is served, again and again
        for i in range(5):
            st, _, _ = self.sl.post("crm", records([i]))
            self.assertEqual(st, 200)
        self.assertTrue(closed_within(silent, 15), "the silent staller "
                        "was not closed")
        self.assertTrue(closed_within(partial, 15), "the partial "
                        "ClientHello was not closed")
        self.assertGreaterEqual(
            self.metric("sluice_intake_tls_handshake_failures_total"), 2)
        wait_until(lambda: sorted(self.dest.ids()) == list(range(5)), 15,
                   msg="the served client's records delivered")
        with open(self.sl.stderr_path) as f:
            log = f.read()
        self.assertIn("HTTPS: TLS handshake with 127.0.0.1:", log)
        self.assertIn("not done within request_timeout_s (2 s)", log)

    def test_slow_client_after_the_handshake_closed(self):
        self.start_https("  request_timeout_s = 2,")
        ts = self.tls_socket()
        ts.sendall(b"POST %s HTTP/1.1\r\nHost: x\r\n" % PATH)
        gone = False
        for _ in range(80):  # a header byte every 0.25 s: never silent
            r, _, _ = select.select([ts], [], [], 0.25)
            if r:
                try:
                    gone = ts.recv(100) == b""
                except (ConnectionError, ssl.SSLError):
                    gone = True
                if gone:
                    break
            try:
                ts.sendall(b"X")
            except (ConnectionError, ssl.SSLError):
                gone = True
                break
        self.assertTrue(gone, "the trickling TLS client was not closed")
        self.assertGreaterEqual(self.metric("sluice_http_slow_closed_total"),
                                1)
        self.assertEqual(self.dest.ids(), [])

    def test_connection_limit_counts_tls_connections(self):
        self.start_https("  max_connections = 2,\n  request_timeout_s = 30,")
        a = socket.create_connection(("127.0.0.1", self.sl.port), timeout=10)
        b = socket.create_connection(("127.0.0.1", self.sl.port), timeout=10)
        self.addCleanup(a.close)
        self.addCleanup(b.close)
        # two stallers hold both slots: a third client waits in the queue
        c = socket.create_connection(("127.0.0.1", self.sl.port), timeout=10)
        self.addCleanup(c.close)
        tc = client_context(self.pki.cert).wrap_socket(
            c, server_hostname="127.0.0.1", do_handshake_on_connect=False)
        tc.settimeout(1.0)
        with self.assertRaises((socket.timeout, ssl.SSLError, OSError)):
            tc.do_handshake()
        a.close()  # a slot frees: the queued client is served
        tc.settimeout(10)
        tc.do_handshake()
        tc.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close"
                   b"\r\n\r\n")
        self.assertIn(b"200 OK", tc.recv(4096))
        tc.close()

    # ---- client certificates --------------------------------------------

    def test_client_cert_required(self):
        self.make("", conn_extra={"intake_keys": LuaRaw('{ "%s" }' % KEY)})
        cli = self.pki.client("cli")
        self.sl.gateway_extra = self.https(
            client_ca=self.rel(self.pki.cert), require_client_cert=True)
        self.sl.client_tls = client_context(self.pki.cert, cli)
        self.sl.start()
        # with a client certificate and the intake key: served
        st, _, _ = self.sl.post("crm", records([1]),
                                headers={"Authorization": "Bearer " + KEY})
        self.assertEqual(st, 200, self.sl.last_raw)
        # the certificate does not replace the intake key
        st, _, _ = self.sl.post("crm", records([2]))
        self.assertEqual(st, 401)
        # without one: refused in the handshake (TLS 1.3 tells the client
        # on its first read)
        bare = client_context(self.pki.cert)
        with self.assertRaises((ssl.SSLError, ConnectionError)):
            self.sl.client_tls = bare
            self.sl.post("crm", records([3]),
                         headers={"Authorization": "Bearer " + KEY})
        # one from a CA it does not trust: refused too
        other = Pki(self.sl.dir, name="other")
        self.sl.client_tls = client_context(self.pki.cert,
                                            other.client("stranger"))
        with self.assertRaises((ssl.SSLError, ConnectionError)):
            self.sl.post("crm", records([4]),
                         headers={"Authorization": "Bearer " + KEY})
        p = subprocess.run(
            ["curl", "-sS", "--cacert", self.pki.cert, "-o", "/dev/null",
             "https://127.0.0.1:%d/healthz" % self.sl.port],
            capture_output=True, timeout=30)
        self.assertNotEqual(p.returncode, 0)
        p = subprocess.run(
            ["curl", "-sS", "--cacert", self.pki.cert, "--cert", cli.cert,
             "--key", cli.key, "-o", "/dev/null", "-w", "%{http_code}",
             "https://127.0.0.1:%d/healthz" % self.sl.port],
            capture_output=True, timeout=30)
        self.assertEqual(p.stdout, b"200", p.stderr)
        self.sl.client_tls = client_context(self.pki.cert, cli)
        self.assertGreaterEqual(
            self.metric("sluice_intake_tls_handshake_failures_total"), 3)
        wait_until(lambda: self.dest.ids() == [1], 15,
                   msg="only the record with certificate and key delivered")
        with open(self.sl.stderr_path) as f:
            self.assertIn("peer did not return a certificate", f.read())

    def test_client_cert_asked_not_required(self):
        self.make("")
        self.sl.gateway_extra = self.https(client_ca=self.rel(self.pki.cert))
        self.sl.client_tls = client_context(self.pki.cert)
        self.sl.start()
        st, _, _ = self.sl.post("crm", records([1]))  # none: served
        self.assertEqual(st, 200)
        self.sl.client_tls = client_context(self.pki.cert,
                                            self.pki.client("cli"))
        st, _, _ = self.sl.post("crm", records([2]))  # a good one: served
        self.assertEqual(st, 200)
        other = Pki(self.sl.dir, name="other")
        self.sl.client_tls = client_context(self.pki.cert,
                                            other.client("stranger"))
        with self.assertRaises((ssl.SSLError, ConnectionError)):
            self.sl.post("crm", records([3]))  # a bad one: refused
        wait_until(lambda: sorted(self.dest.ids()) == [1, 2], 15,
                   msg="records 1 and 2 delivered")

    def test_min_version_1_3(self):
        self.start_https(min_version="1.3")
        ctx = client_context(self.pki.cert)
        ctx.maximum_version = ssl.TLSVersion.TLSv1_2
        s = socket.create_connection(("127.0.0.1", self.sl.port), timeout=10)
        self.addCleanup(s.close)
        with self.assertRaises((ssl.SSLError, ConnectionError)):
            ctx.wrap_socket(s, server_hostname="127.0.0.1")
        st, _, _ = self.sl.post("crm", records([1]))
        self.assertEqual(st, 200)

    # ---- TCP over TLS ---------------------------------------------------

    def start_tcp_tls(self, tcp_extra="", **tls):
        self.make("")
        self.tport = free_port()
        keys = dict(cert=self.rel(self.srv.cert), key=self.rel(self.srv.key))
        keys.update(tls)
        self.sl.gateway_extra = (
            '  tcp = { { listen = "127.0.0.1:%d", connector = "crm", '
            'tls = %s%s } },' % (self.tport, lua_tls(**keys), tcp_extra))
        return self.sl.start()

    def tls_connect(self, cert=None):
        s = socket.create_connection(("127.0.0.1", self.tport), timeout=15)
        ts = client_context(self.pki.cert, cert).wrap_socket(
            s, server_hostname="127.0.0.1")
        self.addCleanup(ts.close)
        return ts

    def test_tcp_over_tls_python_and_openssl(self):
        self.start_tcp_tls(", ack = true")
        ts = self.tls_connect()
        # large enough that lines span TLS records and reads
        data = b"".join(compact(crm_record(i)) + b"\n" for i in range(500))
        ts.sendall(data)
        got = b""
        while got.count(b"\n") < 500:
            chunk = ts.recv(65536)
            self.assertTrue(chunk, "closed before every line was answered")
            got += chunk
        self.assertEqual(got, b"ok\n" * 500)
        ts.close()
        lines = b"".join(compact(crm_record(i)) + b"\n"
                         for i in range(500, 510))
        # openssl s_client -quiet keeps the connection after its input
        # ends: read the ten answers, then stop it
        p = subprocess.Popen(
            ["openssl", "s_client", "-quiet", "-connect",
             "127.0.0.1:%d" % self.tport, "-CAfile", self.pki.cert,
             "-verify_return_error"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL)
        self.addCleanup(p.wait)
        self.addCleanup(p.kill)
        p.stdin.write(lines)
        p.stdin.flush()
        answers = [p.stdout.readline() for _ in range(10)]
        self.assertEqual(answers, [b"ok\n"] * 10)
        wait_until(lambda: sorted(self.dest.ids()) == list(range(510)), 20,
                   msg="510 records at the destination")

    def test_tcp_tls_client_cert_and_line_limits(self):
        cli = None
        self.make("")
        cli = self.pki.client("cli")
        self.tport = free_port()
        keys = dict(cert=self.rel(self.srv.cert), key=self.rel(self.srv.key),
                    client_ca=self.rel(self.pki.cert),
                    require_client_cert=True)
        self.sl.gateway_extra = (
            '  tcp = { { listen = "127.0.0.1:%d", connector = "crm", '
            'ack = true, max_line_bytes = 256, tls = %s } },'
            % (self.tport, lua_tls(**keys)))
        self.sl.start()
        bare = self.tls_connect()
        with self.assertRaises((ssl.SSLError, ConnectionError)):
            bare.sendall(compact(crm_record(1)) + b"\n")
            if bare.recv(100) == b"":
                raise ConnectionError("closed")
        ts = self.tls_connect(cli)
        ts.sendall(compact(crm_record(2)) + b"\n" + b'{"x":"' + b"a" * 400 +
                   b'"}\n' + compact(crm_record(3)) + b"\n")
        got = b""
        while got.count(b"\n") < 3:
            chunk = ts.recv(4096)
            self.assertTrue(chunk)
            got += chunk
        answers = sorted(got.splitlines())
        self.assertEqual(answers[:1], [b"error {\"line\":2,\"field\":\"\","
                                       b"\"error\":\"line longer than "
                                       b"max_line_bytes (256)\"}"])
        self.assertEqual(answers[1:], [b"ok", b"ok"])
        wait_until(lambda: sorted(self.dest.ids()) == [2, 3], 15,
                   msg="records 2 and 3 delivered")

    def test_tcp_tls_line_timeout_and_connection_limit(self):
        self.start_tcp_tls(", line_timeout_s = 2, max_connections = 1")
        ts = self.tls_connect()
        ts.sendall(compact(crm_record(1)) + b"\n" + b'{"id":2,"em')
        # a second connection is past max_connections: closed at once
        extra = socket.create_connection(("127.0.0.1", self.tport),
                                         timeout=10)
        self.addCleanup(extra.close)
        self.assertTrue(closed_within(extra, 10))
        # the partial line is not whole within line_timeout_s: closed
        ts.settimeout(15)
        try:
            self.assertEqual(ts.recv(100), b"")
        except (ConnectionError, ssl.SSLError):
            pass
        wait_until(lambda: self.dest.ids() == [1], 15,
                   msg="the whole line delivered")
        path = os.path.join(self.sl.dir, "var", "crm", "rejects.ndjson")
        wait_until(lambda: os.path.exists(path), 10, msg="a reject log")
        with open(path) as f:
            rej = [json.loads(x) for x in f if x.strip()]
        self.assertEqual(len(rej), 1)
        self.assertIn("line_timeout_s", rej[0]["error"])
        self.assertEqual(rej[0]["text"], '{"id":2,"em')

    def test_tcp_tls_back_pressure_loses_nothing(self):
        """A 1 MiB spool and no destination yet: the listener stops reading
        (records wait in TLS records, in OpenSSL and in the socket) and
        takes them again once delivery drains; every line arrives once."""
        self.make("")
        dport = free_port()
        self.sl.connectors["crm"] = connector_lua(
            "crm", "http://127.0.0.1:%d/in" % dport,
            retry={"base_ms": 50, "max_ms": 200},
            extra={"spool": {"max_bytes": 1048576, "segment_bytes": 65536}})
        self.tport = free_port()
        self.sl.gateway_extra = (
            '  tcp = { { listen = "127.0.0.1:%d", connector = "crm", '
            'tls = %s } },' % (self.tport, lua_tls(
                cert=self.rel(self.srv.cert), key=self.rel(self.srv.key))))
        self.sl.start()
        n = 20000  # about 2.4 MB: more than the spool holds
        data = b"".join(compact(crm_record(i)) + b"\n" for i in range(n))
        ts = self.tls_connect()
        ts.settimeout(60)
        errors = []

        def send():
            try:
                for k in range(0, len(data), 50000):
                    ts.sendall(data[k:k + 50000])
                ts.unwrap()  # close_notify: the end of the stream
            except (OSError, ssl.SSLError) as e:
                errors.append(e)

        t = threading.Thread(target=send)
        t.start()
        wait_until(lambda: self.sl.stats("crm")["accepted"] > 0, 15,
                   msg="some lines accepted")
        dest = self.start_flex_destination(port=dport)
        wait_until(lambda: len(dest.ids()) >= n, 60,
                   msg="all %d records at the destination" % n)
        t.join(30)
        # the close_notify was seen (it came with the last lines) and
        # answered with sluice's own
        self.assertFalse(t.is_alive(), "the end of the stream was not seen")
        self.assertEqual(errors, [])
        self.assertEqual(sorted(dest.ids()), list(range(n)))

    def test_concurrent_tls_clients(self):
        self.start_https()
        errors = []

        def client(c):
            try:
                ctx = client_context(self.pki.cert)
                for j in range(5):
                    s = socket.create_connection(("127.0.0.1", self.sl.port),
                                                 timeout=30)
                    ts = ctx.wrap_socket(s, server_hostname="127.0.0.1")
                    body = compact(records(range(c * 100 + j * 10,
                                                 c * 100 + j * 10 + 10)))
                    ts.sendall(b"POST %s HTTP/1.1\r\nHost: x\r\nContent-Type:"
                               b" application/json\r\nContent-Length: %d\r\n"
                               b"\r\n%s" % (PATH, len(body), body))
                    resp = read_http_response(ts)
                    if not resp or resp[0] != 200:
                        errors.append((c, j, resp))
                    ts.close()
            except (OSError, ssl.SSLError) as e:
                errors.append((c, e))

        threads = [threading.Thread(target=client, args=(c,))
                   for c in range(20)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        self.assertEqual(errors, [])
        want = sorted(c * 100 + j * 10 + k for c in range(20)
                      for j in range(5) for k in range(10))
        wait_until(lambda: sorted(self.dest.ids()) == want, 30,
                   msg="1000 records from 20 clients at the destination")

    def test_tcp_handshake_staller_closed_after_line_timeout(self):
        self.start_tcp_tls(", line_timeout_s = 2")
        silent = socket.create_connection(("127.0.0.1", self.tport),
                                          timeout=10)
        self.addCleanup(silent.close)
        partial = socket.create_connection(("127.0.0.1", self.tport),
                                           timeout=10)
        self.addCleanup(partial.close)
        partial.sendall(client_hello()[:20])
        ts = self.tls_connect()
        ts.sendall(b"".join(compact(crm_record(i)) + b"\n" for i in range(3)))
        wait_until(lambda: sorted(self.dest.ids()) == [0, 1, 2], 15,
                   msg="the served client's records delivered")
        self.assertTrue(closed_within(silent, 15))
        self.assertTrue(closed_within(partial, 15))
        ts.sendall(compact(crm_record(3)) + b"\n")  # still served
        wait_until(lambda: sorted(self.dest.ids()) == [0, 1, 2, 3], 15,
                   msg="the fourth record delivered")
        self.sl.client_tls = None
        self.assertGreaterEqual(
            self.metric("sluice_intake_tls_handshake_failures_total"), 2)
        self.assertIn('listener="127.0.0.1:%d"' % self.tport,
                      self.sl.last_raw.decode())


class IntakeTlsCheckTest(SluiceTestCase):
    """`sluice check` refuses TLS files that cannot work, naming the key and
    the file, and shows the certificate of one that does."""

    def setUp(self):
        super().setUp()
        self.sl = self.make_sluice(
            {"crm": connector_lua("crm", "http://127.0.0.1:9/in")})
        self.pki = Pki(self.sl.dir, name="pki")
        self.srv = self.pki.server("srv")
        self.other = self.pki.server("other")

    def check(self, tls, where="gateway"):
        if where == "gateway":
            self.sl.gateway_extra = "  tls = %s," % tls
        else:
            self.sl.gateway_extra = (
                '  tcp = { { listen = "127.0.0.1:%d", connector = "crm", '
                'tls = %s } },' % (free_port(), tls))
        self.sl.write()
        return self.sl.check()

    def rel(self, p):
        return os.path.relpath(p, self.sl.dir)

    def test_good_config_shows_the_certificate(self):
        rc, out, err = self.check(lua_tls(
            cert=self.rel(self.srv.cert), key=self.rel(self.srv.key),
            client_ca=self.rel(self.pki.cert), require_client_cert=True,
            min_version="1.3"))
        self.assertEqual(rc, 0, err)
        self.assertIn("CN=127.0.0.1", out)
        self.assertIn(self.srv.cert, out)
        self.assertIn("expires 20", out)
        self.assertIn("require_client_cert", out)
        self.assertIn("TLS 1.3 or later", out)
        rc, out, err = self.check(lua_tls(
            cert=self.rel(self.srv.cert), key=self.rel(self.srv.key)),
            where="tcp")
        self.assertEqual(rc, 0, err)
        self.assertIn("    tls cert %s" % self.srv.cert, out)

    def test_key_not_matching_the_certificate(self):
        rc, out, err = self.check(lua_tls(cert=self.rel(self.srv.cert),
                                          key=self.rel(self.other.key)))
        self.assertNotEqual(rc, 0)
        self.assertIn("tls.key", err)
        self.assertIn(self.other.key, err)
        self.assertIn("does not match", err)

    def test_missing_unreadable_and_not_pem(self):
        rc, _, err = self.check(lua_tls(cert="nope.pem",
                                        key=self.rel(self.srv.key)))
        self.assertNotEqual(rc, 0)
        self.assertIn("tls.cert", err)
        self.assertIn(os.path.join(self.sl.dir, "nope.pem"), err)
        self.assertIn("No such file", err)
        junk = os.path.join(self.sl.dir, "junk.pem")
        with open(junk, "w") as f:
            f.write("this is not a certificate\n")
        rc, _, err = self.check(lua_tls(cert="junk.pem",
                                        key=self.rel(self.srv.key)),
                                where="tcp")
        self.assertNotEqual(rc, 0)
        self.assertIn("tcp[1].tls.cert", err)
        self.assertIn("not a PEM certificate", err)
        rc, _, err = self.check(lua_tls(cert=self.rel(self.srv.cert),
                                        key="junk.pem"))
        self.assertIn("tls.key", err)
        self.assertIn("not an unencrypted PEM private key", err)
        rc, _, err = self.check(lua_tls(cert=self.rel(self.srv.cert),
                                        key=self.rel(self.srv.key),
                                        client_ca="junk.pem"))
        self.assertIn("tls.client_ca", err)
        self.assertIn(junk, err)
        if os.geteuid() != 0:
            os.chmod(self.srv.key, 0)
            rc, _, err = self.check(lua_tls(cert=self.rel(self.srv.cert),
                                            key=self.rel(self.srv.key)))
            self.assertIn("tls.key", err)
            self.assertIn("Permission denied", err)

    def test_bad_keys(self):
        rc, _, err = self.check(lua_tls(cert=self.rel(self.srv.cert),
                                        key=self.rel(self.srv.key),
                                        min_version="1.1"))
        self.assertNotEqual(rc, 0)
        self.assertIn("tls.min_version", err)
        self.assertIn("1.2", err)
        rc, _, err = self.check(lua_tls(cert=self.rel(self.srv.cert),
                                        key=self.rel(self.srv.key),
                                        require_client_cert=True))
        self.assertIn("tls.require_client_cert", err)
        self.assertIn("client_ca", err)
        rc, _, err = self.check(lua_tls(cert=self.rel(self.srv.cert)))
        self.assertIn("tls.key", err)
        self.assertIn("missing", err)
        rc, _, err = self.check(lua_tls(cert=self.rel(self.srv.cert),
                                        key=self.rel(self.srv.key),
                                        verify=False))
        self.assertIn("tls.verify", err)

    def test_expired_certificate_is_said(self):
        old = self.pki.server("old", days=-1)
        rc, out, err = self.check(lua_tls(cert=self.rel(old.cert),
                                          key=self.rel(old.key)))
        self.assertEqual(rc, 0, err)
        self.assertIn("EXPIRED", out)


if __name__ == "__main__":
    unittest.main()
