"""TLS to destinations (issue 12, item 1): a connector's `tls` table --
the CA it trusts, the client certificate it presents, the name it asks
for -- with a private CA, server and client certificates made by Debian's
openssl (pki.py) and Python's ssl serving the destination. Every assertion
is on what reached the destination, what stayed in the spool, or what
`sluice check` said."""

import os
import shutil
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from pki import Pki  # noqa: E402
from sluice_it import (SluiceTestCase, connector_lua, crm_record,  # noqa: E402
                       LuaRaw, spool_records, token_fetch_headers_fn,
                       wait_until)

KEY_PASSWORD = "tls-key-password-never-shown"


class TlsDestinationTest(SluiceTestCase):

    def setUp(self):
        super().setUp()
        self.tmp = tempfile.mkdtemp(prefix="sluice-pki-")
        self.addCleanup(shutil.rmtree, self.tmp, True)
        self.pki = Pki(self.tmp)
        self.srv = self.pki.server("srv")

    def post_all(self, sl, name, ids):
        st, js, _ = sl.post(name, [crm_record(i) for i in ids])
        self.assertEqual((st, js.get("accepted")), (200, len(ids)),
                         sl.last_raw)

    def test_private_ca_delivers_every_record(self):
        dest = self.start_destination(tls=self.srv.server_context())
        sl = self.make_sluice({"crm": connector_lua(
            "crm", dest.url + "/in",
            extra={"tls": {"ca_file": "pki/ca.pem"}})})
        sl.write()
        # relative to the connector file's directory
        os.makedirs(os.path.join(sl.dir, "connectors", "pki"))
        shutil.copy(self.pki.cert,
                    os.path.join(sl.dir, "connectors", "pki", "ca.pem"))
        sl.start()
        self.post_all(sl, "crm", range(0, 120))
        self.post_all(sl, "crm", range(120, 250))
        sl.wait_drained("crm", 250)
        got = sorted(r["id"] for r in dest.records())
        self.assertEqual(got, list(range(250)))
        self.assertTrue(dest.url.startswith("https://"))

    def test_client_certificate_required(self):
        dest = self.start_destination(
            tls=self.srv.server_context(client_ca=self.pki.cert))
        cli = self.pki.client("cli", days=20)
        enc = self.pki.client("enc", days=20, key_password=KEY_PASSWORD)
        ca = {"ca_file": self.pki.cert}
        sl = self.start_sluice({
            "nocert": connector_lua("nocert", dest.url + "/nocert",
                                    extra={"tls": ca}),
            "cert": connector_lua("cert", dest.url + "/cert", extra={
                "tls": dict(ca, client_cert=cli.cert, client_key=cli.key)}),
            "enc": connector_lua("enc", dest.url + "/enc", extra={
                "tls": dict(ca, client_cert=enc.cert, client_key=enc.key,
                            client_key_password=LuaRaw(
                                'sluice.env("SLUICE_IT_KEY_PASSWORD")'))}),
        }, env={"SLUICE_IT_KEY_PASSWORD": KEY_PASSWORD})
        for name in ("nocert", "cert", "enc"):
            self.post_all(sl, name, range(60))
        sl.wait_drained("cert", 60)
        sl.wait_drained("enc", 60)
        for path in ("/cert", "/enc"):
            got = sorted(r["id"] for req in dest.requests(ok_only=True)
                         if req.path == path for r in req.records())
            self.assertEqual(got, list(range(60)), path)
        # the one without a certificate is refused in the handshake, again
        # and again, and keeps every record
        wait_until(lambda: sl.stats("nocert").get("retries", 0) >= 3,
                   msg=lambda: "retries of nocert: %r" % sl.stats("nocert"))
        st = sl.stats("nocert")
        self.assertEqual((st["delivered"], st["pending"],
                          st["dead_lettered"]), (0, 60, 0), st)
        self.assertFalse([r for r in dest.requests()
                          if r.path == "/nocert"])
        self.assertTrue(dest.handshake_errors)
        kept = sorted(r["id"] for r in spool_records(sl.spool_dir("nocert")))
        self.assertEqual(kept, list(range(60)))
        self.assertNotIn(KEY_PASSWORD, sl.stderr_text())
        os.environ["SLUICE_IT_KEY_PASSWORD"] = KEY_PASSWORD
        self.addCleanup(os.environ.pop, "SLUICE_IT_KEY_PASSWORD", None)
        rc, out, err = sl.check()
        self.assertEqual(rc, 0, err)
        self.assertNotIn(KEY_PASSWORD, out + err)
        self.assertIn("password set (hidden)", out)
        self.assertIn("tls client cert CN=sluice client, expires ", out)
        self.assertIn("tls             CA: file %s (1 certificate: CN=sluice "
                      "test CA ca); verify on; min TLS 1.2" % self.pki.cert,
                      out)

    def check_files(self, tls, url="https://127.0.0.1:9/in", env=None):
        """`sluice check` of one connector with `tls` -> (rc, out, err)."""
        sl = self.make_sluice({"c": connector_lua("c", url,
                                                  extra={"tls": tls})})
        sl.write()
        return sl.check()

    def assert_refused(self, tls, *wants, file_problem=True):
        rc, out, err = self.check_files(tls)
        self.assertEqual(rc, 2, out + err)
        for want in wants:
            self.assertIn(want, err)
        if file_problem:
            self.assertIn("(connector c)", err)
        return err

    def test_check_refuses_broken_files(self):
        cli = self.pki.client("cli", days=20)
        other = self.pki.client("other", days=20)
        old = self.pki.client("old", days=-1)
        future = self.pki.client("future", start_days=2, days=9)
        with self.subTest("key does not match"):
            self.assert_refused(
                {"client_cert": cli.cert, "client_key": other.key},
                "tls.client_key: the key in \"%s\" does not match the "
                "certificate in \"%s\"" % (other.key, cli.cert))
        with self.subTest("expired"):
            self.assert_refused(
                {"client_cert": old.cert, "client_key": old.key},
                "tls.client_cert: \"%s\": the certificate (CN=sluice "
                "client) has expired: valid until " % old.cert)
        with self.subTest("not yet valid"):
            self.assert_refused(
                {"client_cert": future.cert, "client_key": future.key},
                "is not valid yet: valid from ")
        with self.subTest("missing"):
            err = self.assert_refused({"ca_file": "pki/missing.pem"},
                                      "tls.ca_file: cannot open \"",
                                      "connectors/pki/missing.pem\": No such "
                                      "file or directory")
        with self.subTest("not PEM"):
            junk = os.path.join(self.tmp, "junk.der")
            with open(junk, "wb") as f:
                f.write(os.urandom(700))
            self.assert_refused({"ca_file": junk},
                                "tls.ca_file: \"%s\" is not PEM" % junk)
        with self.subTest("encrypted key, no password"):
            enc = self.pki.client("enc", days=20, key_password="pw-123456")
            self.assert_refused(
                {"client_cert": enc.cert, "client_key": enc.key},
                "is encrypted: set tls.client_key_password")
        with self.subTest("wrong password"):
            err = self.assert_refused(
                {"client_cert": enc.cert, "client_key": enc.key,
                 "client_key_password": "wrong-password-xyz"},
                "tls.client_key_password: cannot decrypt")
            self.assertNotIn("wrong-password-xyz", err)
        with self.subTest("bad keys"):
            self.assert_refused({"min_version": "1.1", "verfy": False},
                                "tls.min_version: invalid value \"1.1\"",
                                "tls.verfy: unknown key (did you mean "
                                "\"verify\"?)", file_problem=False)
        with self.subTest("the gateway does not start either"):
            sl = self.make_sluice({"c": connector_lua(
                "c", "https://127.0.0.1:9/in",
                extra={"tls": {"client_cert": old.cert,
                               "client_key": old.key}})})
            sl.write()
            p = subprocess.run([sl.bin, "run", "-c", sl.gateway_file],
                               capture_output=True, text=True, timeout=30)
            self.assertEqual(p.returncode, 2, p.stderr)
            self.assertIn("tls.client_cert: \"%s\": the certificate "
                          "(CN=sluice client) has expired" % old.cert,
                          p.stderr)

    def test_check_warns(self):
        soon = self.pki.client("soon", days=5)
        dest = self.start_destination(tls=self.srv.server_context())
        sl = self.make_sluice({
            "soon": connector_lua("soon", "https://127.0.0.1:9/in", extra={
                "tls": {"client_cert": soon.cert, "client_key": soon.key}}),
            "blind": connector_lua("blind", dest.url + "/in",
                                   extra={"tls": {"verify": False}}),
        })
        sl.write()
        rc, out, err = sl.check()
        self.assertEqual(rc, 0, err)
        self.assertIn("WARNING: connector soon (", out)
        self.assertRegex(out, r"tls\.client_cert: \"%s\": the certificate "
                         r"\(CN=sluice client\) expires in [45] days, on "
                         % soon.cert)
        self.assertIn("WARNING: connector blind (", out)
        self.assertIn("tls.verify = false: the destination's certificate "
                      "and name are NOT checked", out)
        self.assertIn("verify OFF", out)
        # verify = false works (the private CA is not trusted) and the start
        # says so
        sl.start()
        self.post_all(sl, "blind", range(10))
        sl.wait_drained("blind", 10)
        self.assertEqual(sorted(r["id"] for r in dest.records()),
                         list(range(10)))
        warned = [ln for ln in sl.log_lines()
                  if "tls.verify = false" in str(ln.get("msg", ""))]
        self.assertTrue(warned, sl.stderr_tail())

    def test_headers_fn_requests_use_the_connectors_tls(self):
        # an OAuth2-style token fetch from headers_fn goes to a destination
        # that wants the private CA and a client certificate, as delivery
        dest = self.start_destination(
            tls=self.srv.server_context(client_ca=self.pki.cert))
        cli = self.pki.client("cli", days=20)
        hfn = token_fetch_headers_fn(dest.url + "/token")
        sl = self.start_sluice({"crm": connector_lua(
            "crm", dest.url + "/in", extra={
                "tls": {"ca_file": self.pki.cert, "client_cert": cli.cert,
                        "client_key": cli.key},
                "headers_fn": hfn})})
        self.post_all(sl, "crm", range(20))
        sl.wait_drained("crm", 20)
        delivered = [r for r in dest.requests(ok_only=True) if r.path == "/in"]
        self.assertEqual(sorted(x["id"] for r in delivered
                                for x in r.records()), list(range(20)))
        self.assertEqual({r.headers.get("X-Token-Status") for r in delivered},
                         {"200"})
        self.assertTrue([r for r in dest.requests() if r.path == "/token"])

    def test_ca_path_and_min_version(self):
        import ssl
        hashed = os.path.join(self.tmp, "hashed")
        os.makedirs(hashed)
        shutil.copy(self.pki.cert, os.path.join(hashed, "corp.pem"))
        subprocess.run(["openssl", "rehash", hashed], check=True,
                       capture_output=True)
        only12 = self.srv.server_context()
        only12.maximum_version = ssl.TLSVersion.TLSv1_2
        dest = self.start_destination(tls=only12)
        sl = self.start_sluice({
            "dir": connector_lua("dir", dest.url + "/dir", extra={
                "tls": {"ca_path": hashed}}),
            "v13": connector_lua("v13", dest.url + "/v13", extra={
                "tls": {"ca_path": hashed, "min_version": "1.3"}}),
        })
        self.post_all(sl, "dir", range(30))
        self.post_all(sl, "v13", range(30))
        sl.wait_drained("dir", 30)
        # a server that stops at TLS 1.2 is refused by min_version 1.3,
        # and the records wait
        wait_until(lambda: sl.stats("v13").get("retries", 0) >= 2,
                   msg=lambda: "retries of v13: %r" % sl.stats("v13"))
        self.assertFalse([r for r in dest.requests() if r.path == "/v13"])
        self.assertEqual(sl.stats("v13")["pending"], 30)
        # until it speaks 1.3
        dest.tls = self.srv.server_context()
        sl.wait_drained("v13", 30, timeout=30)
        for path in ("/dir", "/v13"):
            got = sorted(r["id"] for req in dest.requests(ok_only=True)
                         if req.path == path for r in req.records())
            self.assertEqual(got, list(range(30)), path)

    def test_server_name_asks_for_and_verifies_another_name(self):
        # a certificate for a DNS name only; the URL says 127.0.0.1
        named = self.pki.server("named", names=("api.internal.test",))
        dest = self.start_destination(tls=named.server_context())
        self.assertTrue(dest.url.startswith("https://127.0.0.1:"))
        sl = self.start_sluice({"crm": connector_lua(
            "crm", dest.url + "/in", extra={"tls": {
                "ca_file": self.pki.cert,
                "server_name": "api.internal.test"}})})
        self.post_all(sl, "crm", range(40))
        sl.wait_drained("crm", 40)
        self.assertEqual(sorted(r["id"] for r in dest.records()),
                         list(range(40)))
        hosts = {r.headers.get("Host") for r in dest.requests()}
        self.assertEqual(hosts, {"api.internal.test:%d" % dest.port})


if __name__ == "__main__":
    unittest.main()
