"""TLS failures are explained and kept (issue 12, item 2). A destination
over HTTPS that is wrong -- signed by a CA the connector does not trust,
an expired or not-yet-valid certificate, a certificate for another name,
a server that wants a client certificate -- keeps every record in the
spool: the cause is logged once (the line counted in sluice's stderr),
counted in /metrics by cause, nothing is dead-lettered; once the
destination is fixed (its certificate swapped live) every record arrives
exactly once and the recovery is logged. Certificates are made by
Debian's openssl (pki.py); the destination is Python's ssl."""

import datetime
import os
import re
import shutil
import ssl
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from pki import Pki  # noqa: E402
from servers import NGINX, Nginx  # noqa: E402
from sluice_it import (SluiceTestCase, connector_lua, crm_record,  # noqa: E402
                       free_port, wait_until)

CAUSES = ("unknown_ca", "cert_expired", "cert_not_yet_valid",
          "name_mismatch", "client_cert_required", "client_cert_rejected",
          "protocol_version", "local_files", "other_handshake")

# quick retries: many failed attempts within a second or two
FAST = {"base_ms": 20, "max_ms": 100}

METRIC = re.compile(r'^sluice_tls_failures_total\{connector="([^"]*)",'
                    r'cause="([a-z_]+)"\} (\d+)$', re.M)

# the race TLS 1.3 allows: the server checks our certificate after our
# handshake is done and our request is on its way; its alert is lost when
# its reset comes first, and curl reports only the reset (sl_tls_cause.h)
RESET = ("Connection reset by peer", "getpeername() failed", "Broken pipe",
         "bad write retry")


class TlsFailuresTest(SluiceTestCase):

    def setUp(self):
        super().setUp()
        self.tmp = tempfile.mkdtemp(prefix="sluice-pki-")
        self.addCleanup(shutil.rmtree, self.tmp, True)
        self.pki = Pki(self.tmp)                  # the CA the connector trusts
        self.other = Pki(self.tmp, name="other")  # one it does not
        self.good = self.pki.server("good")

    # helpers
    def tls_failures(self, sl, name="crm"):
        st, _, _ = sl.get("/metrics")
        self.assertEqual(st, 200)
        text = sl.last_raw.decode()
        self.assertIn("# HELP sluice_tls_failures_total ", text)
        self.assertIn("# TYPE sluice_tls_failures_total counter\n", text)
        got = {c: int(n) for conn, c, n in METRIC.findall(text)
               if conn == name}
        self.assertEqual(sorted(got), sorted(CAUSES), text)
        return got

    def messages(self, sl):
        return [ln.get("msg", "") for ln in sl.log_lines()]

    def cause_lines(self, sl, cause):
        return [m for m in self.messages(sl)
                if m.startswith("crm: TLS to 127.0.0.1 failed: %s: " % cause)]

    def attempt_lines(self, sl):
        """Today's per-attempt transport line, for any attempt."""
        return [m for m in self.messages(sl)
                if re.match(r"batch \S+ \(\d+ records?\) attempt \d+ to ", m)]

    def post(self, sl, ids):
        st, js, _ = sl.post("crm", [crm_record(i) for i in ids])
        self.assertEqual((st, js.get("accepted")), (200, len(ids)),
                         sl.last_raw)

    def start(self, dest, tls=None, retry=None):
        r = dict(FAST)
        r.update(retry or {})
        t = {"ca_file": self.pki.cert}
        t.update(tls or {})
        return self.start_sluice({"crm": connector_lua(
            "crm", dest.url + "/in", retry=r, extra={"tls": t})})

    def fails_then_recovers(self, cause, bad_ctx, good_ctx=None, tls=None,
                            tls12=False):
        if tls12:
            bad_ctx.maximum_version = ssl.TLSVersion.TLSv1_2
        dest = self.start_destination(tls=bad_ctx)
        sl = self.start(dest, tls)
        self.post(sl, range(0, 60))
        # several failed attempts, records coming in meanwhile
        wait_until(lambda: self.tls_failures(sl)[cause] >= 4, 20,
                   msg=lambda: "failures %r" % self.tls_failures(sl))
        self.post(sl, range(60, 100))
        wait_until(lambda: self.tls_failures(sl)[cause] >= 8, 20,
                   msg=lambda: "failures %r" % self.tls_failures(sl))

        # nothing reached the destination's HTTP side
        self.assertEqual(dest.requests(), [])
        # one line for the cause, in plain words, with the host
        lines = self.cause_lines(sl, cause)
        self.assertEqual(len(lines), 1, self.messages(sl))
        self.assertIn("curl: ", lines[0])
        self.assertIn("records stay in the spool", lines[0])
        # no other cause was seen, nor said
        counts = self.tls_failures(sl)
        self.assertEqual({c for c, n in counts.items() if n}, {cause},
                         counts)
        self.assertFalse([m for m in self.messages(sl)
                          if "TLS to" in m and cause not in m],
                         self.messages(sl))
        # no line per attempt (but, over TLS 1.3, resets before the first
        # alert, which are not yet known to be about TLS)
        for m in self.attempt_lines(sl):
            self.assertTrue(cause.startswith("client_cert") and not tls12 and
                            any(r in m for r in RESET), m)
        # kept: nothing dead-lettered, all of it pending or queued
        stats = sl.stats("crm")
        self.assertEqual(stats["dead_lettered"], 0, stats)
        self.assertEqual(stats["delivered"], 0, stats)
        self.assertEqual(stats["pending"] + stats["queued"], 100, stats)
        self.assertEqual(sl.dlq_list("crm"), [])

        # fixed: everything arrives, once
        dest.tls = good_ctx or self.good.server_context()
        sl.wait_drained("crm", 100, timeout=30)
        got = [r["id"] for r in dest.records()]
        self.assertEqual(sorted(got), list(range(100)))
        self.assertEqual(len(got), len(set(got)), "delivered twice")
        self.assert_recovered(sl, cause)
        self.assertEqual(sl.dlq_list("crm"), [])
        return lines[0], dest

    def assert_recovered(self, sl, cause):
        """The recovery line, with every failed attempt. Normally one; but
        a handshake that began before the fix may still fail after another
        batch's attempt succeeded: then the cause is news again and is
        said again, and so is the recovery."""
        total = sum(self.tls_failures(sl).values())
        rec = [re.match(r"crm: TLS to 127\.0\.0\.1 recovered after (\d+) "
                        r"failed attempts?$", m)
               for m in self.messages(sl) if " recovered after " in m]
        self.assertTrue(rec and all(rec), self.messages(sl))
        self.assertEqual(sum(int(m.group(1)) for m in rec), total,
                         self.messages(sl))
        self.assertEqual(len(self.cause_lines(sl, cause)), len(rec),
                         self.messages(sl))

    # the causes
    def test_wrong_ca(self):
        line, dest = self.fails_then_recovers(
            "unknown_ca", self.other.server("theirs").server_context())
        self.assertIn("set tls.ca_file", line)
        self.assertIn("unable to get local issuer certificate", line)
        # and the server heard why from us
        self.assertTrue(any("unknown ca" in e.lower()
                            for e in dest.handshake_errors),
                        dest.handshake_errors)

    def test_expired_server_certificate(self):
        line, _ = self.fails_then_recovers(
            "cert_expired", self.pki.server("old", days=-1).server_context())
        self.assertIn("certificate has expired", line)

    def test_not_yet_valid_server_certificate(self):
        line, _ = self.fails_then_recovers(
            "cert_not_yet_valid",
            self.pki.server("young", start_days=2, days=9).server_context())
        self.assertIn("not yet valid", line)

    def test_name_mismatch(self):
        line, _ = self.fails_then_recovers(
            "name_mismatch",
            self.pki.server("named", names=("other.example",))
            .server_context())
        self.assertIn("tls.server_name", line)
        self.assertIn("127.0.0.1", line)

    def test_client_certificate_required(self):
        line, dest = self.fails_then_recovers(
            "client_cert_required",
            self.good.server_context(client_ca=self.pki.cert))
        self.assertIn("set tls.client_cert and tls.client_key", line)
        self.assertTrue(dest.handshake_errors)

    def test_client_certificate_required_tls12(self):
        # within the handshake: an alert every time, no race
        line, _ = self.fails_then_recovers(
            "client_cert_required",
            self.good.server_context(client_ca=self.pki.cert), tls12=True)
        self.assertIn("handshake failure", line)

    def test_client_certificate_rejected_tls12(self):
        theirs = self.other.client("stranger")
        self.fails_then_recovers(
            "client_cert_rejected",
            self.good.server_context(client_ca=self.pki.cert),
            good_ctx=self.good.server_context(client_ca=self.other.cert),
            tls={"client_cert": theirs.cert, "client_key": theirs.key},
            tls12=True)

    def test_client_certificate_rejected(self):
        # ours is signed by a CA the destination does not trust
        theirs = self.other.client("stranger")
        self.fails_then_recovers(
            "client_cert_rejected",
            self.good.server_context(client_ca=self.pki.cert),
            good_ctx=self.good.server_context(client_ca=self.other.cert),
            tls={"client_cert": theirs.cert, "client_key": theirs.key})

    # changes of cause, and the retry time
    def test_a_change_of_cause_is_said_with_the_count(self):
        dest = self.start_destination(
            tls=self.other.server("theirs").server_context())
        sl = self.start(dest)
        self.post(sl, range(30))
        wait_until(lambda: self.tls_failures(sl)["unknown_ca"] >= 3, 20)
        dest.tls = self.pki.server("old", days=-1).server_context()
        wait_until(lambda: self.tls_failures(sl)["cert_expired"] >= 3, 20)
        counts = self.tls_failures(sl)
        lines = self.cause_lines(sl, "cert_expired")
        self.assertEqual(len(lines), 1, self.messages(sl))
        m = re.search(r"before, (\d+) attempts? failed with unknown_ca$",
                      lines[0])
        self.assertTrue(m, lines[0])
        # every unknown_ca failure came before the change
        self.assertEqual(int(m.group(1)), counts["unknown_ca"])
        self.assertEqual(len(self.cause_lines(sl, "unknown_ca")), 1)
        dest.tls = self.good.server_context()
        sl.wait_drained("crm", 30, timeout=30)
        self.assertEqual(sorted(r["id"] for r in dest.records()),
                         list(range(30)))
        total = sum(self.tls_failures(sl).values())
        self.assertIn("crm: TLS to 127.0.0.1 recovered after %d failed "
                      "attempts" % total, self.messages(sl))

    def test_dead_lettered_only_after_max_elapsed(self):
        dest = self.start_destination(
            tls=self.other.server("theirs").server_context())
        sl = self.start(dest, retry={"max_elapsed_s": 2})
        self.post(sl, range(10))
        entries = wait_until(
            lambda: (lambda e: e if len(e) == 10 else None)(
                sl.dlq_list("crm")), 20, interval=0.1)
        self.assertEqual(sorted(e["record"]["id"] for e in entries),
                         list(range(10)))
        for e in entries:
            first = datetime.datetime.fromisoformat(
                e["first_attempt"].replace("Z", "+00:00"))
            last = datetime.datetime.fromisoformat(
                e["last_attempt"].replace("Z", "+00:00"))
            # retried until max_elapsed_s ran out, never given up sooner
            # (last_attempt is when the last one started, a handshake
            # before the time was found out)
            self.assertGreaterEqual((last - first).total_seconds(), 1.5, e)
            self.assertGreater(e["attempts"], 2, e)
            self.assertIn("max_elapsed_s = 2", e["reason"], e)
            self.assertIn("last: TLS unknown_ca: SSL certificate problem: "
                          "unable to get local issuer certificate",
                          e["reason"], e)
        self.assertEqual(dest.requests(), [])
        self.assertEqual(len(self.cause_lines(sl, "unknown_ca")), 1)


_SERVER = """\
  server {{
    listen 127.0.0.1:{port} ssl;
    ssl_certificate {cert};
    ssl_certificate_key {key};
    {extra}
    location / {{ proxy_pass http://127.0.0.1:{upstream}; }}
  }}
"""


class TlsFront(Nginx):
    """Debian's nginx as a TLS front of a Destination (proxy_pass), with
    server directives `extra`, started; reconfigure() rewrites them and
    restarts it on the same port."""

    def __init__(self, directory, cert, upstream, extra):
        self.port = free_port()
        self.vars = dict(port=self.port, cert=cert.cert, key=cert.key,
                         upstream=upstream)
        super().__init__(os.path.join(directory, "nginx"),
                         self.server(extra), [self.port])
        self.start()

    def server(self, extra):
        return _SERVER.format(extra=extra, **self.vars)

    @property
    def url(self):
        return "https://127.0.0.1:%d" % self.port

    def reconfigure(self, extra):
        self.restart(self.server(extra))


@unittest.skipUnless(os.access(NGINX, os.X_OK), "needs Debian's nginx")
class NginxTlsFailuresTest(TlsFailuresTest):
    """The same promises against nginx, which says some TLS refusals with
    an HTTP answer instead of an alert: with `ssl_verify_client on` and
    no client certificate (or one it does not trust) it completes the
    handshake and answers 400 "No required SSL certificate was sent" (or
    "The SSL certificate error"). A 400 is otherwise permanent: without
    telling them apart every record would be bisected down and
    dead-lettered at once."""

    # the Python-destination tests are not run again here
    for _name in [n for n in dir(TlsFailuresTest) if n.startswith("test_")]:
        locals()[_name] = None
    del _name

    def nginx_fails_then_recovers(self, cause, extra, fixed, tls=None):
        dest = self.start_destination()
        ngx = TlsFront(self.tmp, self.good, dest.port, extra)
        self.addCleanup(ngx.stop)
        sl = self.start(ngx, tls)
        self.post(sl, range(0, 60))
        wait_until(lambda: self.tls_failures(sl)[cause] >= 4, 20,
                   msg=lambda: "failures %r" % self.tls_failures(sl))
        self.post(sl, range(60, 100))
        wait_until(lambda: self.tls_failures(sl)[cause] >= 8, 20,
                   msg=lambda: "failures %r" % self.tls_failures(sl))
        self.assertEqual(dest.requests(), [])
        lines = self.cause_lines(sl, cause)
        self.assertEqual(len(lines), 1, self.messages(sl))
        counts = self.tls_failures(sl)
        self.assertEqual({c for c, n in counts.items() if n}, {cause},
                         counts)
        self.assertEqual(self.attempt_lines(sl), [])
        stats = sl.stats("crm")
        # neither bisected nor dead-lettered: it is not about the records
        self.assertEqual((stats["dead_lettered"], stats["splits"],
                          stats["delivered"]), (0, 0, 0), stats)
        self.assertEqual(stats["pending"] + stats["queued"], 100, stats)
        self.assertEqual(sl.dlq_list("crm"), [])

        ngx.reconfigure(fixed)
        sl.wait_drained("crm", 100, timeout=30)
        got = [r["id"] for r in dest.records()]
        self.assertEqual(sorted(got), list(range(100)))
        self.assertEqual(len(got), len(set(got)), "delivered twice")
        # nginx was restarted: no old handshake survives, one recovery
        total = sum(self.tls_failures(sl).values())
        self.assertEqual([m for m in self.messages(sl)
                          if " recovered after " in m],
                         ["crm: TLS to 127.0.0.1 recovered after %d failed "
                          "attempts" % total])
        self.assertEqual(sl.dlq_list("crm"), [])
        return lines[0]

    def test_nginx_client_certificate_required(self):
        line = self.nginx_fails_then_recovers(
            "client_cert_required",
            "ssl_client_certificate %s; ssl_verify_client on;"
            % self.pki.cert, "ssl_verify_client off;")
        self.assertIn('the destination answered HTTP 400 "No required SSL '
                      'certificate was sent"', line)

    def test_nginx_client_certificate_rejected(self):
        theirs = self.other.client("stranger")
        line = self.nginx_fails_then_recovers(
            "client_cert_rejected",
            "ssl_client_certificate %s; ssl_verify_client on;"
            % self.pki.cert,
            "ssl_client_certificate %s; ssl_verify_client on;"
            % self.other.cert,
            tls={"client_cert": theirs.cert, "client_key": theirs.key})
        self.assertIn('HTTP 400 "The SSL certificate error"', line)

    def test_nginx_400_dead_lettered_only_after_max_elapsed(self):
        dest = self.start_destination()
        ngx = TlsFront(self.tmp, self.good, dest.port,
                    "ssl_client_certificate %s; ssl_verify_client on;"
                    % self.pki.cert)
        self.addCleanup(ngx.stop)
        sl = self.start(ngx, retry={"max_elapsed_s": 2})
        self.post(sl, range(10))
        entries = wait_until(
            lambda: (lambda e: e if len(e) == 10 else None)(
                sl.dlq_list("crm")), 20, interval=0.1)
        for e in entries:
            # retried as one batch until the time ran out, not bisected
            # and buried as a permanent 400
            self.assertGreater(e["attempts"], 2, e)
            self.assertIn("max_elapsed_s = 2", e["reason"], e)
            self.assertIn("last: TLS client_cert_required: HTTP 400",
                          e["reason"], e)
        self.assertEqual(sl.stats("crm")["splits"], 0)
        self.assertEqual(dest.requests(), [])

    def test_nginx_protocol_version(self):
        # nginx 1.22 offers up to TLS 1.2 unless told otherwise
        line = self.nginx_fails_then_recovers(
            "protocol_version", "ssl_protocols TLSv1.2;",
            "ssl_protocols TLSv1.2 TLSv1.3;", tls={"min_version": "1.3"})
        self.assertIn("tls.min_version", line)
        self.assertIn("alert protocol version", line)


if __name__ == "__main__":
    unittest.main()
