"""Intake keys (issue 5, item 2): a connector with `intake_keys` answers 401
to a request without the right `Authorization: Bearer <key>` and keeps
nothing of it; every listed key works (rotation); the keys never appear in
`sluice check`, in the logs or in the answers. Python 3 standard library
only; every assertion is on what reached the destination or what a client
got."""

import os
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sluice_it import (SluiceTestCase, LuaRaw, connector_lua,  # noqa: E402
                       crm_record, wait_until)

OLD = "old-intake-key-0123456789abcdef"
NEW = "new-intake-key-fedcba9876543210"


class IntakeKeysTest(SluiceTestCase):

    def setUp(self):
        super().setUp()
        self.dest = self.start_flex_destination()
        os.environ["SLUICE_IT_NEW_KEY"] = NEW
        self.addCleanup(os.environ.pop, "SLUICE_IT_NEW_KEY", None)
        self.sl = self.start_sluice({
            "crm": connector_lua("crm", self.dest.url + "/in", extra={
                "intake_keys": LuaRaw('{ "%s", sluice.env("SLUICE_IT_NEW_KEY") }'
                                      % OLD)}),
            "open": connector_lua("open", self.dest.url + "/open"),
        })

    def post(self, name, ids, authorization=None):
        h = {"Authorization": authorization} if authorization is not None else {}
        return self.sl.post(name, [crm_record(i) for i in ids], headers=h)

    def test_right_wrong_missing_rotated(self):
        st, js, _ = self.post("crm", range(0, 10), "Bearer " + OLD)
        self.assertEqual((st, js.get("accepted")), (200, 10), self.sl.last_raw)
        st, js, _ = self.post("crm", range(10, 20), "bearer  " + NEW)
        self.assertEqual((st, js.get("accepted")), (200, 10), self.sl.last_raw)
        refused = {
            "missing": None,
            "empty bearer": "Bearer ",
            "basic": "Basic b2xkOmtleQ==",
            "no scheme": OLD,
            "wrong": "Bearer not-the-key-0123456789",
            "prefix": "Bearer " + OLD[:-1],
            "longer": "Bearer " + OLD + "x",
        }
        for i, (what, authz) in enumerate(refused.items()):
            with self.subTest(what):
                st, js, hdrs = self.post("crm", range(100 + i * 10, 110 + i * 10),
                                         authz)
                self.assertEqual(st, 401, self.sl.last_raw)
                self.assertIsInstance(js, dict, self.sl.last_raw)
                self.assertIn("error", js)
                want = "needs an intake key" if what in (
                    "missing", "empty bearer", "basic", "no scheme") else "wrong intake key"
                self.assertIn(want, js["error"])
                self.assertIn("Bearer", hdrs.get("WWW-Authenticate", ""))
                self.assertNotIn(OLD, self.sl.last_raw.decode())
        # a connector without keys stays open
        st, js, _ = self.post("open", range(500, 505))
        self.assertEqual(st, 200, self.sl.last_raw)
        wait_until(lambda: set(range(20)) <= set(self.dest.ids("/in")), 10,
                   msg="the authorized records")
        self.assertEqual(sorted(self.dest.ids("/in")), list(range(20)),
                         "records of refused requests reached the destination")
        stats = self.sl.stats("crm")
        self.assertEqual(stats["unauthorized"], len(refused))
        self.assertEqual(stats["accepted"], 20)
        st, _, _ = self.sl.get("/metrics")
        self.assertIn('sluice_requests_unauthorized_total{connector="crm"} %d'
                      % len(refused), self.sl.last_raw.decode())

    def test_keys_never_shown(self):
        self.post("crm", range(3), "Bearer wrong-key-but-secret-too-0000")
        out = subprocess.run([self.sl.bin, "check", "-c", self.sl.gateway_file],
                             capture_output=True, text=True, timeout=30,
                             env=dict(os.environ))
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertIn("intake_keys     2 keys (values hidden)", out.stdout)
        self.assertIn("intake_keys     none", out.stdout)  # the open one
        for secret in (OLD, NEW):
            self.assertNotIn(secret, out.stdout + out.stderr)
        st, _, _ = self.sl.get("/v1/connectors/crm")
        for secret in (OLD, NEW):
            self.assertNotIn(secret, self.sl.last_raw.decode())
        with open(self.sl.stderr_path, encoding="utf-8", errors="replace") as f:
            log = f.read()
        for secret in (OLD, NEW, "wrong-key-but-secret-too-0000"):
            self.assertNotIn(secret, log)


if __name__ == "__main__":
    unittest.main()
