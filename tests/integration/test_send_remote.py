"""`sluice send` while a gateway holds the connector's state directory
(issue 15, item 1): the rows go through that gateway's intake, send says
so, returns once the gateway acknowledged every row, and the gateway
delivers them. Checked at the gateway (its accepted counter, its intake
requests) and at the destination (every valid row, once), in the rejects
file (every invalid row with its line), with intake keys (the right one,
and a gateway started with another), and with a gateway whose body limit
makes send halve its batches (413)."""

import csv
import io
import json
import os
import re
import ssl
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from pki import Pki  # noqa: E402
from sluice_it import (LuaRaw, SluiceTestCase, connector_lua,  # noqa: E402
                       sluice_bin)

KEY = "send-remote-intake-key-0123"
HEADER = ["id", "email", "amount", "active", "day", "at"]


def write_csv(path, n, bad_every=0):
    """n rows, CRLF, quoted cells with commas and newlines, unicode; with
    bad_every, every bad_every-th row invalid (id not an integer, or a
    bad boolean). Returns (valid ids, {line of a bad row: (field, its
    first cell)})."""
    buf = io.StringIO()
    w = csv.writer(buf)  # excel dialect: CRLF line ends
    w.writerow(HEADER)
    line = 2
    valid, bad = [], {}
    for i in range(1, n + 1):
        email = "u%d@example.com" % i
        if i % 7 == 0:
            email = "Zoë, \"the\nsecond\" <u%d@example.com>" % i
        row = [str(i), email, "" if i % 5 == 0 else "%d.25" % i,
               "true" if i % 2 else "FALSE", "2024-02-29",
               "2024-03-01T12:00:00Z"]
        if bad_every and i % bad_every == 0:
            if i % 2:
                row[0] = "x%d" % i
                bad[line] = ("id", row[0])
            else:
                row[3] = "maybe"
                bad[line] = ("active", row[0])
        else:
            valid.append(i)
        w.writerow(row)
        line += 1 + sum(c.count("\n") for c in row)
    with open(path, "w", newline="", encoding="utf-8") as f:
        f.write(buf.getvalue())
    return valid, bad


class SendRemoteTest(SluiceTestCase):

    def start(self, extra=None, gateway_extra="", env=None):
        self.dest = self.start_destination()
        self.sl = self.start_sluice({
            "crm": connector_lua("crm", self.dest.url + "/crm",
                                 batch={"max_delay_ms": 20},
                                 extra=extra),
        }, gateway_extra=gateway_extra, env=env)
        self.csv = os.path.join(self.sl.dir, "rows.csv")

    def send(self, *args, env=None):
        p = subprocess.run(
            [sluice_bin(), "send", "crm", self.csv, "-c",
             self.sl.gateway_file] + list(args),
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, timeout=120,
            env=dict(os.environ, **(env or {})))
        return p.returncode, p.stdout.decode("utf-8", "replace")

    def metric(self, family):
        st, _, _ = self.sl.get("/metrics")
        self.assertEqual(st, 200)
        m = re.search(r'^%s\{connector="crm"[^}]*\} (\S+)$' % family,
                      self.sl.last_raw.decode(), re.M)
        self.assertIsNotNone(m, family)
        return float(m.group(1))

    def rejects(self):
        path = self.csv + ".rejects.ndjson"
        if not os.path.exists(path):
            return []
        with open(path, encoding="utf-8") as f:
            return [json.loads(x) for x in f]

    def delivered_ids(self):
        return sorted(r["id"] for r in self.dest.records())

    def test_through_the_intake_with_rejects(self):
        self.start()
        valid, bad = write_csv(self.csv, 3000, bad_every=97)
        accepted0 = self.metric("sluice_records_accepted_total")
        requests0 = self.metric("sluice_intake_request_duration_seconds_count")
        rc, out = self.send()
        self.assertEqual(rc, 1, out)
        self.assertIn("sending through the gateway (pid %d) at "
                      "http://127.0.0.1:%d/v1/connectors/crm/records"
                      % (self.sl.proc.pid, self.sl.port), out)
        self.assertIn("acknowledged by the gateway; delivery is the "
                      "gateway's job now", out)
        # the gateway took them: its counter rose by the valid rows, over
        # several intake requests (batches)
        self.assertEqual(self.metric("sluice_records_accepted_total")
                         - accepted0, len(valid))
        self.assertGreater(self.metric("sluice_intake_request_duration_seconds_count")
                           - requests0, 1)
        # and delivered each once
        self.dest.wait_records(len(valid), timeout=30)
        self.assertEqual(self.delivered_ids(), valid)
        # the rejects: every invalid row, its line and field, the row as
        # read
        rej = self.rejects()
        self.assertEqual({r["line"]: r["field"] for r in rej},
                         {line: f for line, (f, _) in bad.items()})
        for r in rej:
            self.assertTrue(r["row"].startswith(bad[r["line"]][1] + ","), r)
            self.assertTrue(r["error"], r)
        # send's state: it did not open the connector (the gateway holds
        # it and still runs)
        self.assertTrue(self.sl.alive())

    def test_intake_keys(self):
        self.start(extra={"intake_keys": LuaRaw(
            '{ sluice.env("SEND_IT_KEY") }')}, env={"SEND_IT_KEY": KEY})
        valid, _ = write_csv(self.csv, 500)
        rc, out = self.send(env={"SEND_IT_KEY": KEY})
        self.assertEqual(rc, 0, out)
        self.assertIn("sending through the gateway", out)
        self.dest.wait_records(len(valid), timeout=30)
        self.assertEqual(self.delivered_ids(), valid)
        self.assertEqual(self.metric("sluice_records_accepted_total"),
                         len(valid))
        # a config whose key the running gateway does not accept: a
        # configuration error, nothing taken
        rc, out = self.send(env={"SEND_IT_KEY": "another-key-0123456789"})
        self.assertEqual(rc, 2, out)
        self.assertIn("401", out)
        self.assertIn("intake_keys", out)
        self.assertEqual(self.metric("sluice_records_accepted_total"),
                         len(valid))

    def test_body_limit_halves_batches(self):
        # a 16 KiB body limit: send's batches (up to 1 MiB) get 413 and
        # are halved until they fit; every row arrives once
        self.start(gateway_extra="  max_body_bytes = 16384,")
        valid, _ = write_csv(self.csv, 2000)
        rc, out = self.send()
        self.assertEqual(rc, 0, out)
        self.assertEqual(self.metric("sluice_records_accepted_total"),
                         len(valid))
        self.dest.wait_records(len(valid), timeout=30)
        self.assertEqual(self.delivered_ids(), valid)
        self.assertEqual(self.rejects(), [])

    def test_transform_makes_several_records_of_a_row(self):
        # a transform whose outputs outnumber the rows: each row becomes
        # two records, every tenth is dropped. The gateway's answers count
        # outputs; send takes them, and every output arrives
        self.start(extra={"transform": LuaRaw(
            "function(rec)\n"
            "    if rec.id % 10 == 0 then return nil end\n"
            "    local twin = {}\n"
            "    for k, v in pairs(rec) do twin[k] = v end\n"
            "    twin.id = rec.id + 100000\n"
            "    return { rec, twin }\n"
            "  end")})
        valid, _ = write_csv(self.csv, 600)
        rc, out = self.send()
        self.assertEqual(rc, 0, out)
        kept = [i for i in valid if i % 10]
        want = sorted(kept + [i + 100000 for i in kept])
        self.assertEqual(self.metric("sluice_records_accepted_total"),
                         len(want))
        self.assertRegex(out, r"acknowledged\s+%d\b" % len(want))
        self.assertRegex(out, r"dropped\s+%d\b" % (len(valid) - len(kept)))
        self.dest.wait_records(len(want), timeout=30)
        self.assertEqual(self.delivered_ids(), want)
        self.assertEqual(self.rejects(), [])

    def test_gateway_gone(self):
        # the lock is held but nothing answers at the address: send says
        # it cannot reach the gateway (a stopped gateway releases the
        # lock, so hold it by hand with another address in the config)
        self.start()
        write_csv(self.csv, 10)
        other = os.path.join(self.sl.dir, "other.lua")
        with open(self.sl.gateway_file, encoding="utf-8") as f:
            text = f.read()
        from sluice_it import free_port
        with open(other, "w", encoding="utf-8") as f:
            f.write(text.replace("127.0.0.1:%d" % self.sl.port,
                                 "127.0.0.1:%d" % free_port()))
        p = subprocess.run([sluice_bin(), "send", "crm", self.csv, "-c",
                            other], stdin=subprocess.DEVNULL,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           timeout=120)
        out = p.stdout.decode()
        self.assertNotEqual(p.returncode, 0, out)
        self.assertIn("cannot be reached", out)
        self.assertEqual(self.dest.records(), [])


class SendRemoteTlsTest(SluiceTestCase):
    """A gateway whose intake serves HTTPS: send pins its certificate."""

    def setUp(self):
        self.dest = self.start_destination()
        self.sl = self.make_sluice({"crm": connector_lua(
            "crm", self.dest.url + "/crm", batch={"max_delay_ms": 20})})
        self.pki = Pki(self.sl.dir, name="pki")
        self.srv = self.pki.server("srv")
        self.csv = os.path.join(self.sl.dir, "rows.csv")

    def tls(self, extra="", client=None):
        self.sl.gateway_extra = ('  tls = { cert = "%s", key = "%s"%s },'
                                 % (self.srv.cert, self.srv.key, extra))
        ctx = ssl.create_default_context(cafile=self.pki.cert)
        if client is not None:
            ctx.load_cert_chain(client.cert, client.key)
        self.sl.client_tls = ctx
        self.sl.start()

    def send(self):
        p = subprocess.run([sluice_bin(), "send", "crm", self.csv, "-c",
                            self.sl.gateway_file], stdin=subprocess.DEVNULL,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           timeout=120)
        return p.returncode, p.stdout.decode("utf-8", "replace")

    def test_https_intake(self):
        self.tls()
        valid, _ = write_csv(self.csv, 300)
        rc, out = self.send()
        self.assertEqual(rc, 0, out)
        self.assertIn("at https://127.0.0.1:%d/v1/connectors/crm/records"
                      % self.sl.port, out)
        self.dest.wait_records(len(valid), timeout=30)
        self.assertEqual(sorted(r["id"] for r in self.dest.records()), valid)

    def test_client_certificate_required(self):
        self.tls(', client_ca = "%s", require_client_cert = true'
                 % self.pki.cert, client=self.pki.client("cli"))
        write_csv(self.csv, 10)
        rc, out = self.send()
        self.assertEqual(rc, 2, out)
        self.assertIn("requires a client certificate", out)
        self.assertEqual(self.dest.records(), [])


if __name__ == "__main__":
    unittest.main()
