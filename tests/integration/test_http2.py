"""HTTP/2 (issue 12, item 4) against a real HTTP/2 server: Debian's nginx,
started by the test, in front of a slow Python destination (proxy_pass),
so that several batches are in flight at once. nginx's access log says,
per request, the connection it came on ($connection), the protocol and
when it started and ended: with http_version "auto" over TLS every request
is HTTP/2.0 on one connection and at least two overlap on it; "2" speaks
HTTP/2 over plain http:// (prior knowledge, nginx's h2c listener; one
connection per request with a libcurl older than 8.0.0, which cannot
reuse such a connection); "1.1"
stays on HTTP/1.1 even where HTTP/2 is offered. Every record arrives."""

import os
import shutil
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from pki import Pki  # noqa: E402
from servers import NGINX, Nginx  # noqa: E402
from sluice_it import (SluiceTestCase, connector_lua, crm_record,  # noqa: E402
                       free_port, wait_until)

# what each access log line says, in order
LOG_FORMAT = ("$server_port $connection $connection_requests $server_protocol "
              "$msec $request_time $status $request_uri")

SERVERS = """\
  http2_max_concurrent_streams 128;
  keepalive_requests 10000;
  server {{
    listen 127.0.0.1:{tls_port} ssl http2;
    ssl_certificate {cert};
    ssl_certificate_key {key};
    location / {{ proxy_pass http://127.0.0.1:{upstream}; }}
  }}
  server {{
    listen 127.0.0.1:{h2c_port} http2;
    location / {{ proxy_pass http://127.0.0.1:{upstream}; }}
  }}
  server {{
    listen 127.0.0.1:{plain_port};
    location / {{ proxy_pass http://127.0.0.1:{upstream}; }}
  }}
"""


class H2Nginx(Nginx):
    """nginx with a TLS listener with HTTP/2 (tls_port), an h2c one
    (h2c_port) and a plain HTTP/1.1 one (plain_port), all proxying to
    127.0.0.1:upstream."""

    def __init__(self, directory, cert, upstream):
        self.tls_port, self.h2c_port, self.plain_port = (
            free_port(), free_port(), free_port())
        super().__init__(directory, SERVERS.format(
            cert=cert.cert, key=cert.key, upstream=upstream,
            tls_port=self.tls_port, h2c_port=self.h2c_port,
            plain_port=self.plain_port),
            (self.tls_port, self.h2c_port, self.plain_port),
            log_format=LOG_FORMAT)

    def access(self, port, path):
        """The access log's lines for requests to port and path, as dicts.
        (The readiness probes never reach the log: they send nothing.)"""
        out = []
        for line in self.access_lines():
            p = line.split(" ")
            if len(p) != 8 or int(p[0]) != port or p[7] != path:
                continue
            end = float(p[4])
            out.append({"conn": int(p[1]), "n": int(p[2]), "proto": p[3],
                        "start": end - float(p[5]), "end": end,
                        "status": int(p[6])})
        return out


def overlapping(entries):
    """Pairs of requests whose [start, end] overlap."""
    pairs = 0
    es = sorted(entries, key=lambda e: e["start"])
    for i, a in enumerate(es):
        for b in es[i + 1:]:
            if b["start"] < a["end"]:
                pairs += 1
    return pairs


@unittest.skipUnless(os.access(NGINX, os.X_OK),
                     "nginx is not installed (scripts/install-deps.sh)")
class Http2Test(SluiceTestCase):

    RECORDS = 80       # 8 batches of 10
    CONCURRENCY = 4

    def setUp(self):
        super().setUp()
        self.tmp = tempfile.mkdtemp(prefix="sluice-nginx-")
        self.addCleanup(shutil.rmtree, self.tmp, True)
        self.pki = Pki(self.tmp)
        # slow, so that the batches in flight overlap at nginx
        self.dest = self.start_destination(delay=0.4)
        self.nginx = H2Nginx(os.path.join(self.tmp, "nginx"),
                             self.pki.server("nginx"), self.dest.port)
        self.addCleanup(self.nginx.stop)
        self.nginx.start()

    def run_connector(self, url, http_version, path):
        extra = {"tls": {"ca_file": self.pki.cert}} if url.startswith(
            "https:") else {}
        if http_version is not None:
            extra["http_version"] = http_version
        sl = self.make_sluice({"crm": connector_lua(
            "crm", url + path, concurrency=self.CONCURRENCY,
            batch={"max_records": 10, "max_delay_ms": 20}, extra=extra)})
        rc, out, err = sl.check()
        self.assertEqual(rc, 0, err)
        sl.start()
        ids = list(range(self.RECORDS))
        st, js, _ = sl.post("crm", [crm_record(i) for i in ids])
        self.assertEqual((st, js.get("accepted")), (200, len(ids)),
                         sl.last_raw)
        sl.wait_drained("crm", len(ids), timeout=30)
        self.assertEqual(sorted(r["id"] for r in self.dest.records()), ids)
        return out

    def wait_logged(self, port, path, n):
        """nginx writes a line once the answer is sent: wait for all."""
        return wait_until(
            lambda: (lambda e: e if len(e) >= n else None)(
                self.nginx.access(port, path)), 10,
            msg=lambda: "%d lines in nginx's log for %s" % (n, path))

    def test_auto_over_tls_multiplexes_on_one_connection(self):
        out = self.run_connector("https://127.0.0.1:%d" % self.nginx.tls_port,
                                 None, "/auto")
        self.assertIn("  http_version    auto (HTTP/2 when the destination "
                      "offers it, else HTTP/1.1)\n", out)
        n = len(self.dest.requests())
        self.assertGreaterEqual(n, self.RECORDS // 10)
        log = self.wait_logged(self.nginx.tls_port, "/auto", n)
        self.assertEqual({e["proto"] for e in log}, {"HTTP/2.0"}, log)
        self.assertEqual({e["status"] for e in log}, {200}, log)
        self.assertEqual(len({e["conn"] for e in log}), 1,
                         "one connection for every batch: %r" % log)
        self.assertGreaterEqual(overlapping(log), 1,
                                "batches in flight together: %r" % log)

    def test_2_over_plain_http_is_prior_knowledge(self):
        out = self.run_connector("http://127.0.0.1:%d" % self.nginx.h2c_port,
                                 "2", "/h2c")
        self.assertIn("  http_version    2 (prior knowledge over http://",
                      out)
        n = len(self.dest.requests())
        log = self.wait_logged(self.nginx.h2c_port, "/h2c", n)
        self.assertEqual({e["proto"] for e in log}, {"HTTP/2.0"}, log)
        self.assertGreaterEqual(overlapping(log), 1, log)
        if "a connection per request" in out:
            # libcurl < 8.0.0 breaks a reused prior-knowledge connection
            # (curl issue 10634): sluice, and check, say it uses one each
            self.assertEqual(len({e["conn"] for e in log}), n, log)
        else:
            self.assertEqual(len({e["conn"] for e in log}), 1, log)

    def test_1_1_forced_where_http2_is_offered(self):
        out = self.run_connector("https://127.0.0.1:%d" % self.nginx.tls_port,
                                 "1.1", "/h1")
        self.assertIn("  http_version    1.1", out)
        n = len(self.dest.requests())
        log = self.wait_logged(self.nginx.tls_port, "/h1", n)
        self.assertEqual({e["proto"] for e in log}, {"HTTP/1.1"}, log)
        # one request at a time per connection: the overlapping batches
        # needed connections of their own
        self.assertGreater(len({e["conn"] for e in log}), 1, log)

    def test_auto_over_plain_http_stays_on_1_1(self):
        self.run_connector("http://127.0.0.1:%d" % self.nginx.plain_port,
                           "auto", "/plain")
        n = len(self.dest.requests())
        log = self.wait_logged(self.nginx.plain_port, "/plain", n)
        self.assertEqual({e["proto"] for e in log}, {"HTTP/1.1"}, log)

    def test_bad_http_version_is_refused(self):
        sl = self.make_sluice({"crm": connector_lua(
            "crm", "https://127.0.0.1:1/x", extra={"http_version": "3"})})
        rc, out, err = sl.check()
        self.assertNotEqual(rc, 0)
        self.assertRegex(err, r'crm\.lua:\d+: http_version: invalid value '
                              r'"3" \(did you mean "2"\? valid: auto, 1\.1, '
                              r'2\)')


if __name__ == "__main__":
    unittest.main(verbosity=2)
