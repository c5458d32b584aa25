"""Proxies (issue 12, item 3) with a real forward proxy in the path:
Debian's tinyproxy, started by the test on 127.0.0.1. Records arrive at the
destination through it and its log shows each request; `no_proxy` bypasses
it; an uppercase HTTP_PROXY in sluice's environment is used without a key
and `proxy = false` ignores it; `sluice check` says which proxy and from
where, with the password masked (also in the logs); a proxy that refuses
sluice's credentials keeps every record until the password is
fixed. Python 3 standard library only."""

import base64
import os
import re
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from pki import Pki  # noqa: E402
from servers import Daemon, read_text  # noqa: E402
from sluice_it import (SluiceTestCase, LuaRaw, connector_lua,  # noqa: E402
                       crm_record, free_port, lua_str,
                       token_fetch_headers_fn, wait_until)

TINYPROXY = "/usr/bin/tinyproxy"

# every variable that could name a proxy, blanked in sluice's environment
# (an empty variable is not set) so that only what a test gives counts
PROXY_VARS = ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY",
              "all_proxy", "ALL_PROXY", "no_proxy", "NO_PROXY")

PASSWORD = "pr0xy-s3cret-Zq9"


def clean_env(**extra):
    env = {k: "" for k in PROXY_VARS}
    env.update(extra)
    return env


class Tinyproxy(Daemon):
    """tinyproxy in the foreground (-d) on a free port, its config and log
    in a temp dir (removed by stop()); with `auth` (user, password) it
    wants Basic auth."""

    name = "tinyproxy"

    def __init__(self, auth=None):
        super().__init__(tempfile.mkdtemp(prefix="sluice-tinyproxy-"))
        self.port = free_port()
        self.log = os.path.join(self.dir, "tinyproxy.log")
        self.conf = os.path.join(self.dir, "tinyproxy.conf")
        lines = ["Port %d" % self.port, "Listen 127.0.0.1", "Timeout 60",
                 "Allow 127.0.0.1", 'LogFile "%s"' % self.log,
                 "LogLevel Connect", "MaxClients 64",
                 'PidFile "%s"' % os.path.join(self.dir, "tinyproxy.pid")]
        if auth:
            lines.append("BasicAuth %s %s" % auth)
        with open(self.conf, "w") as f:
            f.write("\n".join(lines) + "\n")

    @property
    def url(self):
        return "http://127.0.0.1:%d" % self.port

    def start(self):
        return self.spawn([TINYPROXY, "-d", "-c", self.conf], [self.port])

    def stop(self):
        super().stop()
        shutil.rmtree(self.dir, ignore_errors=True)

    def log_text(self):
        return read_text(self.log)

    def diagnostics(self):
        return super().diagnostics() + self.log_text()

    def requests(self):
        """The request lines tinyproxy logged: 'POST http://...' each."""
        return re.findall(r"Request \(file descriptor \d+\): (.*)",
                          self.log_text())


class TlsFront:
    """An https:// proxy for the test: TLS on a free port (Python's ssl,
    a certificate of the test's CA) in front of tinyproxy, each
    connection relayed byte for byte to it."""

    def __init__(self, ctx, upstream_port):
        self.ctx, self.upstream = ctx, upstream_port
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.handshakes = 0
        self._stop = False
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self):
        self.sock.settimeout(0.2)
        while not self._stop:
            try:
                raw, _ = self.sock.accept()
            except OSError:
                continue
            threading.Thread(target=self._relay, args=(raw,),
                             daemon=True).start()

    def _relay(self, raw):
        try:
            raw.settimeout(10)
            tls = self.ctx.wrap_socket(raw, server_side=True)
        except (OSError, ssl.SSLError):
            raw.close()
            return
        self.handshakes += 1
        up = socket.create_connection(("127.0.0.1", self.upstream), 10)

        def pump(src, dst):
            try:
                while True:
                    data = src.recv(65536)
                    if not data:
                        break
                    dst.sendall(data)
            except OSError:
                pass
            for s in (src, dst):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

        t = threading.Thread(target=pump, args=(up, tls), daemon=True)
        t.start()
        pump(tls, up)
        t.join(10)
        tls.close()
        up.close()

    def stop(self):
        self._stop = True
        self.sock.close()
        self._thread.join(5)


@unittest.skipUnless(os.access(TINYPROXY, os.X_OK),
                     "tinyproxy is not installed (scripts/install-deps.sh)")
class ProxyTest(SluiceTestCase):

    def start_proxy(self, auth=None):
        p = Tinyproxy(auth)
        self.addCleanup(p.stop)
        return p.start()

    def connector(self, extra=None, url=None):
        return {"crm": connector_lua("crm", url or self.dest.url + "/in",
                                     extra=extra or {},
                                     batch={"max_records": 10})}

    def setUp(self):
        super().setUp()
        self.dest = self.start_destination()

    def deliver(self, sl, ids):
        st, js, _ = sl.post("crm", [crm_record(i) for i in ids])
        self.assertEqual(st, 200, sl.last_raw)
        got = self.dest.wait_records(len(ids))
        self.assertEqual(sorted(r["id"] for r in got), sorted(ids))
        sl.wait_drained("crm", len(ids))

    def check(self, sl, env):
        """`sluice check` with sluice's environment -> (rc, out, err)."""
        if not sl._written:
            sl.write()
        p = subprocess.run([sl.bin, "check", "-c", sl.gateway_file],
                           stdin=subprocess.DEVNULL, capture_output=True,
                           timeout=30, env=dict(os.environ, **env))
        return (p.returncode, p.stdout.decode("utf-8", "replace"),
                p.stderr.decode("utf-8", "replace"))

    def proxied(self, proxy):
        """The POSTs to the destination that the proxy's log shows."""
        want = "POST %s/in HTTP/1.1" % self.dest.url
        return [r for r in proxy.requests() if r == want]

    def test_records_arrive_through_the_proxy(self):
        proxy = self.start_proxy()
        env = clean_env()
        sl = self.make_sluice(self.connector({"proxy": proxy.url}), env=env)
        rc, out, err = self.check(sl, env)
        self.assertEqual(rc, 0, err)
        self.assertIn("  proxy           %s (connector key proxy)\n"
                      % proxy.url, out)
        sl.start()
        self.deliver(sl, list(range(30)))
        # every request the destination answered came through the proxy
        self.assertEqual(len(self.proxied(proxy)), len(self.dest.requests()),
                         proxy.log_text())
        self.assertGreaterEqual(len(self.proxied(proxy)), 3)

    def test_no_proxy_bypasses_it(self):
        proxy = self.start_proxy()
        env = clean_env()
        sl = self.make_sluice(self.connector({
            "proxy": proxy.url,
            "no_proxy": ["internal.example.com", "127.0.0.0/8"]}), env=env)
        rc, out, err = self.check(sl, env)
        self.assertEqual(rc, 0, err)
        self.assertIn("  no_proxy        internal.example.com,127.0.0.0/8 "
                      "(connector key no_proxy)\n", out)
        sl.start()
        self.deliver(sl, list(range(20)))
        self.assertEqual(proxy.requests(), [], proxy.log_text())

    def test_uppercase_environment_without_a_key(self):
        proxy = self.start_proxy()
        env = clean_env(HTTP_PROXY=proxy.url)
        sl = self.make_sluice(self.connector(), env=env)
        rc, out, err = self.check(sl, env)
        self.assertEqual(rc, 0, err)
        self.assertIn("  proxy           %s (environment HTTP_PROXY)\n"
                      % proxy.url, out)
        sl.start()
        self.deliver(sl, list(range(20)))
        self.assertEqual(len(self.proxied(proxy)), len(self.dest.requests()))
        self.assertGreaterEqual(len(self.proxied(proxy)), 2)

    def test_environment_no_proxy_and_lowercase_first(self):
        proxy = self.start_proxy()
        # the lowercase variable wins over the uppercase one (which names
        # a port nobody listens on); NO_PROXY names other hosts
        env = clean_env(http_proxy=proxy.url,
                        HTTP_PROXY="http://127.0.0.1:%d" % free_port(),
                        NO_PROXY="internal.example.com")
        sl = self.make_sluice(self.connector(), env=env)
        rc, out, err = self.check(sl, env)
        self.assertEqual(rc, 0, err)
        self.assertIn("(environment http_proxy)", out)
        self.assertIn("  no_proxy        internal.example.com (environment "
                      "NO_PROXY)\n", out)
        sl.start()
        self.deliver(sl, list(range(10)))
        self.assertEqual(len(self.proxied(proxy)), len(self.dest.requests()))
        # with 127.0.0.1 in NO_PROXY the destination is reached directly
        proxy_seen = len(proxy.requests())
        env2 = clean_env(HTTP_PROXY=proxy.url, NO_PROXY="localhost,127.0.0.1")
        sl2 = self.make_sluice(self.connector(url=self.dest.url + "/in2"),
                               env=env2)
        sl2.start()
        st, _, _ = sl2.post("crm", [crm_record(i) for i in range(100, 110)])
        self.assertEqual(st, 200, sl2.last_raw)
        self.dest.wait_records(20)
        sl2.wait_drained("crm", 10)
        self.assertEqual(len(proxy.requests()), proxy_seen)

    def test_https_goes_through_a_connect_tunnel(self):
        tmp = tempfile.mkdtemp(prefix="sluice-pki-")
        self.addCleanup(shutil.rmtree, tmp, True)
        pki = Pki(tmp)
        dest = self.start_destination(tls=pki.server("srv").server_context())
        proxy = self.start_proxy()
        dead = "http://127.0.0.1:%d" % free_port()
        # each scheme takes its own variable: HTTP_PROXY (nobody listens
        # there) is not for https:// URLs
        env = clean_env(HTTPS_PROXY=proxy.url, HTTP_PROXY=dead)
        sl = self.make_sluice({"crm": connector_lua(
            "crm", dest.url + "/in", batch={"max_records": 10},
            extra={"tls": {"ca_file": pki.cert}})}, env=env)
        rc, out, err = self.check(sl, env)
        self.assertEqual(rc, 0, err)
        self.assertIn("  proxy           %s (environment HTTPS_PROXY)\n"
                      % proxy.url, out)
        self.assertIn("    for http:// URLs  %s (environment HTTP_PROXY)\n"
                      % dead, out)
        sl.start()
        st, _, _ = sl.post("crm", [crm_record(i) for i in range(30)])
        self.assertEqual(st, 200, sl.last_raw)
        dest.wait_records(30)
        sl.wait_drained("crm", 30)
        self.assertEqual(sorted(r["id"] for r in dest.records()),
                         list(range(30)))
        tunnels = [r for r in proxy.requests()
                   if r == "CONNECT 127.0.0.1:%d HTTP/1.1" % dest.port]
        self.assertGreaterEqual(len(tunnels), 1, proxy.log_text())
        self.assertEqual(len(proxy.requests()), len(tunnels))

    def test_headers_fn_requests_take_the_proxy_too(self):
        # an OAuth2-style token fetch from headers_fn goes through the
        # connector's proxy, as delivery does
        proxy = self.start_proxy()
        token = self.start_destination()
        hfn = token_fetch_headers_fn(token.url + "/token")
        env = clean_env()
        sl = self.start_sluice(self.connector(
            {"proxy": proxy.url, "headers_fn": hfn}), env=env)
        self.deliver(sl, list(range(20)))
        self.assertEqual({r.headers.get("X-Token-Status")
                          for r in self.dest.requests()}, {"200"})
        fetches = [r for r in proxy.requests()
                   if r == "POST %s/token HTTP/1.1" % token.url]
        self.assertEqual(len(fetches), len(token.requests()))
        self.assertGreaterEqual(len(fetches), 1)
        self.assertEqual(len(self.proxied(proxy)), len(self.dest.requests()))

    def test_an_https_proxy_verified_by_its_ca_file(self):
        tmp = tempfile.mkdtemp(prefix="sluice-pki-")
        self.addCleanup(shutil.rmtree, tmp, True)
        pki = Pki(tmp)
        proxy = self.start_proxy()
        front = TlsFront(pki.server("proxy").server_context(), proxy.port)
        self.addCleanup(front.stop)
        env = clean_env()
        key = {"url": "https://127.0.0.1:%d" % front.port,
               "ca_file": pki.cert}
        sl = self.make_sluice(self.connector({"proxy": key}), env=env)
        rc, out, err = self.check(sl, env)
        self.assertEqual(rc, 0, err)
        self.assertIn("  proxy           https://127.0.0.1:%d (connector key "
                      "proxy)\n" % front.port, out)
        self.assertIn("  proxy ca_file   %s (1 certificate: CN=sluice test CA "
                      "ca)\n" % pki.cert, out)
        sl.start()
        self.deliver(sl, list(range(20)))
        self.assertEqual(len(self.proxied(proxy)), len(self.dest.requests()))
        self.assertGreaterEqual(front.handshakes, 1)
        # ca_file is for https:// proxies only
        key = {"url": proxy.url, "ca_file": pki.cert}
        sl2 = self.make_sluice(self.connector({"proxy": key}), env=env)
        rc, out, err = self.check(sl2, env)
        self.assertNotEqual(rc, 0)
        self.assertIn("proxy.ca_file: only for an https:// proxy", err)

    def test_an_https_proxy_of_an_unknown_ca_keeps_the_records(self):
        tmp = tempfile.mkdtemp(prefix="sluice-pki-")
        self.addCleanup(shutil.rmtree, tmp, True)
        pki = Pki(tmp)
        proxy = self.start_proxy()
        front = TlsFront(pki.server("proxy").server_context(), proxy.port)
        self.addCleanup(front.stop)
        env = clean_env()
        # without ca_file: the system store, which does not know the CA
        sl = self.start_sluice(self.connector(
            {"proxy": "https://127.0.0.1:%d" % front.port}), env=env)
        st, _, _ = sl.post("crm", [crm_record(i) for i in range(10)])
        self.assertEqual(st, 200, sl.last_raw)
        wait_until(lambda: sl.stats("crm").get("failures", 0) >= 2, 15,
                   msg="two failed attempts")
        stats = sl.stats("crm")
        self.assertEqual(stats.get("delivered"), 0, stats)
        self.assertEqual(stats.get("dead_lettered", 0), 0, stats)
        self.assertEqual(proxy.requests(), [])
        self.assertEqual(self.dest.requests(), [])
        # the log says whose certificate it was, and which key to set
        wait_until(lambda: [ln for ln in sl.log_lines() if "TLS to the "
                            "https:// proxy" in str(ln.get("msg"))], 10,
                   msg=lambda: "the proxy's TLS failure logged:\n"
                   + sl.stderr_tail())
        msg = [ln["msg"] for ln in sl.log_lines()
               if "TLS to the https:// proxy" in str(ln.get("msg"))][0]
        self.assertIn("unknown_ca", msg)
        self.assertIn("proxy.ca_file", msg)

    def test_proxy_false_ignores_the_environment(self):
        proxy = self.start_proxy()
        env = clean_env(HTTP_PROXY=proxy.url, ALL_PROXY=proxy.url)
        sl = self.make_sluice(self.connector({"proxy": False}), env=env)
        rc, out, err = self.check(sl, env)
        self.assertEqual(rc, 0, err)
        self.assertIn("  proxy           none (proxy = false", out)
        self.assertNotIn("no_proxy", out)
        sl.start()
        self.deliver(sl, list(range(20)))
        self.assertEqual(proxy.requests(), [], proxy.log_text())

    def test_no_key_no_variable(self):
        env = clean_env()
        sl = self.make_sluice(self.connector(), env=env)
        rc, out, err = self.check(sl, env)
        self.assertEqual(rc, 0, err)
        self.assertIn("  proxy           none\n", out)

    def test_credentials_from_the_environment_are_masked(self):
        proxy = self.start_proxy(auth=("bob", PASSWORD))
        env = clean_env(SLUICE_IT_PROXY_PASS=PASSWORD)
        proxy_key = LuaRaw('"http://bob:" .. sluice.env("SLUICE_IT_PROXY_PASS")'
                           ' .. "@127.0.0.1:%d"' % proxy.port)
        sl = self.make_sluice(self.connector({"proxy": proxy_key}), env=env)
        rc, out, err = self.check(sl, env)
        self.assertEqual(rc, 0, err)
        self.assertIn("  proxy           http://bob:***@127.0.0.1:%d "
                      "(connector key proxy)\n" % proxy.port, out)
        self.assertNotIn(PASSWORD, out + err)
        sl.start()
        self.deliver(sl, list(range(20)))
        self.assertEqual(len(self.proxied(proxy)), len(self.dest.requests()))
        sl.sigterm()
        log = sl.stderr_text()
        self.assertNotIn(PASSWORD, log)
        # the start says which proxy, masked
        self.assertIn("connector crm: proxy http://bob:***@127.0.0.1:%d "
                      "(connector key proxy)" % proxy.port, log)

    def test_table_form_credentials_need_no_encoding(self):
        # characters a URL reserves, given as they are: the proxy gets them
        # back in Basic auth (a Destination stands in for the proxy, to
        # read the header; tinyproxy's BasicAuth takes no such password)
        fake = self.start_destination()
        user, password = "doe@corp:x", "p@ss:w/rd%41 #?"
        env = clean_env(SLUICE_IT_PROXY_PASS=password)
        key = LuaRaw('{ url = "http://127.0.0.1:%d", user = %s, '
                     'password = sluice.env("SLUICE_IT_PROXY_PASS") }'
                     % (fake.port, lua_str(user)))
        sl = self.make_sluice(self.connector(
            {"proxy": key}, url="http://127.0.0.1:%d/in" % free_port()),
            env=env)
        rc, out, err = self.check(sl, env)
        self.assertEqual(rc, 0, err)
        self.assertIn("  proxy           http://doe%%40corp%%3Ax:***@127.0.0.1:"
                      "%d (connector key proxy)\n" % fake.port, out)
        self.assertNotIn("w/rd", out + err)
        sl.start()
        st, _, _ = sl.post("crm", [crm_record(i) for i in range(10)])
        self.assertEqual(st, 200, sl.last_raw)
        fake.wait_records(10)
        want = "Basic " + base64.b64encode(
            ("%s:%s" % (user, password)).encode()).decode()
        self.assertEqual({r.headers.get("Proxy-Authorization")
                          for r in fake.requests()}, {want})
        sl.sigterm()
        log = sl.stderr_text()
        self.assertNotIn("w/rd", log)
        self.assertNotIn("w%2Frd", log)

    def test_a_refused_password_keeps_the_records(self):
        proxy = self.start_proxy(auth=("bob", PASSWORD))
        wrong = "wrong-" + PASSWORD
        env = clean_env(SLUICE_IT_PROXY_PASS=wrong)
        key = LuaRaw('"http://bob:" .. sluice.env("SLUICE_IT_PROXY_PASS") .. '
                     '"@127.0.0.1:%d"' % proxy.port)
        sl = self.make_sluice(self.connector({"proxy": key}), env=env)
        sl.start()
        st, js, _ = sl.post("crm", [crm_record(i) for i in range(10)])
        self.assertEqual(st, 200, sl.last_raw)
        # the proxy refuses each attempt (tinyproxy answers 407 and
        # closes before reading the body, which curl may see as a reset):
        # retried, never buried
        wait_until(lambda: len(proxy.requests()) >= 3, 15,
                   msg=lambda: "three attempts at the proxy:\n"
                   + proxy.log_text())
        stats = sl.stats("crm")
        self.assertEqual(stats.get("delivered"), 0, stats)
        self.assertEqual(stats.get("dead_lettered", 0), 0, stats)
        self.assertEqual(self.dest.requests(), [])
        sl.sigterm()
        log = sl.stderr_text()
        # the third attempt or a later one: repeats of one failure are
        # summarised, with the last repeat's text (docs/operations.md, Logs)
        self.assertRegex(log, r"attempt ([3-9]|[1-9][0-9]+) ")
        self.assertNotIn(wrong, log)
        # the password fixed, everything kept arrives
        sl.env["SLUICE_IT_PROXY_PASS"] = PASSWORD
        sl.start()
        self.dest.wait_records(10)
        sl.wait_drained("crm", 10)
        self.assertEqual(sorted(r["id"] for r in self.dest.records()),
                         list(range(10)))

    def test_407_is_retried_not_dead_lettered(self):
        # a "proxy" that answers 407 three times, then forwards (here: is
        # the sink itself): the 407s say nothing about the records
        fake = self.start_destination(script=[407, 407, 407])
        env = clean_env()
        sl = self.start_sluice(self.connector(
            {"proxy": "http://127.0.0.1:%d" % fake.port},
            url="http://127.0.0.1:%d/in" % free_port()), env=env)
        st, _, _ = sl.post("crm", [crm_record(i) for i in range(10)])
        self.assertEqual(st, 200, sl.last_raw)
        fake.wait_records(10)
        stats = sl.wait_drained("crm", 10)
        self.assertEqual(stats.get("dead_lettered", 0), 0, stats)
        self.assertEqual([r.status for r in fake.requests()],
                         [407, 407, 407, 200])
        # what reached it is a proxy request: the absolute URL
        self.assertTrue(fake.requests()[0].path.startswith("http://"),
                        fake.requests()[0].path)

    def test_bad_proxy_urls_are_refused_at_load(self):
        env = clean_env()
        cases = {
            "http://bob:%s@127.0.0.1" % PASSWORD: "no port",
            "ftp://bob:%s@127.0.0.1:21" % PASSWORD:
                'unsupported proxy scheme "ftp"',
            "127.0.0.1:3128": "no scheme",
            "http://127.0.0.1:3128/path": "a proxy URL has no path",
        }
        for url, want in cases.items():
            with self.subTest(url=url):
                sl = self.make_sluice(self.connector({"proxy": url}), env=env)
                rc, out, err = self.check(sl, env)
                self.assertNotEqual(rc, 0)
                self.assertRegex(err, r"crm\.lua:\d+: proxy: .*" +
                                 re.escape(want))
                self.assertNotIn(PASSWORD, out + err)
        # a bad variable names itself; proxy = false is the way out
        env = clean_env(HTTPS_PROXY="ftp://bob:%s@proxy.example:21" % PASSWORD)
        sl = self.make_sluice(self.connector(), env=env)
        rc, out, err = self.check(sl, env)
        self.assertNotEqual(rc, 0)
        self.assertIn('environment variable HTTPS_PROXY="ftp://bob:***@'
                      'proxy.example:21": unsupported proxy scheme', err)
        self.assertNotIn(PASSWORD, out + err)
        # a variable without a port (other programs accept it) is taken
        # with curl's default, and check warns of it
        env2 = clean_env(HTTPS_PROXY="http://bob:%s@proxy.example" % PASSWORD)
        sl2 = self.make_sluice(self.connector(), env=env2)
        rc, out, err = self.check(sl2, env2)
        self.assertEqual(rc, 0, err)
        self.assertIn('HTTPS_PROXY="http://bob:***@proxy.example" names no '
                      'port: port 1080 is used', out + err)
        self.assertIn("proxy.example:1080", out)
        self.assertNotIn(PASSWORD, out + err)
        sl = self.make_sluice(self.connector({"proxy": False}), env=env)
        rc, out, err = self.check(sl, env)
        self.assertEqual(rc, 0, err)


if __name__ == "__main__":
    unittest.main(verbosity=2)
