"""TLS to destinations (issue 12, item 1): a connector's `tls` table --
the CA it trusts, the client certificate it presents, the name it asks
for -- with a private CA, server and client certificates made by Debian's
openssl (pki.py) and Python's ssl serving the destination. Every assertion
is on what reached the destination, what stayed in the spool, or what
`sluice check` said."""

import os
import shutil
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from pki import Pki  # noqa: E402
from sluice_it import (SluiceTestCase, connector_lua, crm_record,  # noqa: E402
                       LuaRaw)


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
