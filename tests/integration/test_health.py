"""Health (issue 14, item 3): /healthz says the process answers; /readyz
says 200 when the listeners are up, the state directories writable and the
configuration loaded, else 503 naming the check; each connector in GET
/v1/connectors shows a state (delivering, degraded once attempts have been
failing for degraded_after_s, blocked while its spool refuses records)
with the last error (secrets-free) and since when, and /metrics has
sluice_connector_state. Against the real binary and a real destination."""

import datetime
import os
import signal
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sluice_it import (SluiceTestCase, connector_lua, crm_record,  # noqa: E402
                       free_port, wait_until)


def rfc3339(s):
    return datetime.datetime.strptime(s, "%Y-%m-%dT%H:%M:%S.%fZ")


class HealthTest(SluiceTestCase):

    def describe(self, sl, name):
        st, js, _ = sl.request("GET", "/v1/connectors/" + name)
        self.assertEqual(st, 200, sl.last_raw)
        return js

    def state_gauges(self, sl, name):
        st, _, _ = sl.request("GET", "/metrics")
        self.assertEqual(st, 200)
        out = {}
        for line in sl.last_raw.decode().splitlines():
            pre = 'sluice_connector_state{connector="%s",state="' % name
            if line.startswith(pre):
                state, val = line[len(pre):].split('"} ')
                out[state] = int(val)
        return out

    def test_readyz(self):
        dest = self.start_destination()
        sl = self.start_sluice({"crm": connector_lua("crm", dest.url + "/in")})
        st, js, _ = sl.request("GET", "/healthz")
        self.assertEqual((st, js), (200, {"status": "ok"}))
        st, js, _ = sl.request("GET", "/readyz")
        self.assertEqual(st, 200, sl.last_raw)
        self.assertEqual(js["status"], "ready")
        self.assertEqual(js["checks"], {"http_listener": "ok",
                                        "listeners": "ok",
                                        "state_dir": "ok", "config": "ok"})
        st, _, _ = sl.request("POST", "/readyz", body=b"{}")
        self.assertEqual(st, 405)
        # the connector's directory goes away (a wiped or remounted disk)
        d = os.path.join(sl.dir, "var", "crm")
        os.rename(d, d + ".moved")
        try:
            st, js, _ = sl.request("GET", "/readyz")
            self.assertEqual(st, 503, sl.last_raw)
            self.assertEqual(js["status"], "not ready")
            self.assertIn("is not writable", js["checks"]["state_dir"])
            self.assertEqual(js["checks"]["listeners"], "ok")
            # liveness is not readiness
            self.assertEqual(sl.request("GET", "/healthz")[0], 200)
        finally:
            os.rename(d + ".moved", d)
        self.assertEqual(sl.request("GET", "/readyz")[0], 200, sl.last_raw)

    def test_degraded_then_delivering(self):
        dest = self.start_destination(default=503)
        sl = self.start_sluice({"crm": connector_lua(
            "crm", dest.url + "/in", extra={"degraded_after_s": 1})})
        js = self.describe(sl, "crm")
        self.assertEqual(js["state"], "delivering")
        self.assertIsNone(js["last_error"])
        started = rfc3339(js["since"])
        self.assertEqual(self.state_gauges(sl, "crm"),
                         {"delivering": 1, "degraded": 0, "blocked": 0})
        st, _, _ = sl.post("crm", [crm_record(i) for i in range(5)])
        self.assertEqual(st, 200)
        # the answer is read once the destination has sent it
        wait_until(lambda: self.describe(sl, "crm")["last_error"] ==
                   "HTTP 503", timeout=10, msg="the 503 seen")
        wait_until(lambda: self.describe(sl, "crm")["state"] == "degraded",
                   timeout=10, msg="degraded after 1 s of failures")
        js = self.describe(sl, "crm")
        self.assertEqual(js["last_error"], "HTTP 503")
        self.assertGreaterEqual(rfc3339(js["since"]), started)
        self.assertEqual(self.state_gauges(sl, "crm"),
                         {"delivering": 0, "degraded": 1, "blocked": 0})
        # the list says the same
        st, lst, _ = sl.request("GET", "/v1/connectors")
        self.assertEqual(lst["connectors"][0]["state"], "degraded")
        degraded_since = rfc3339(js["since"])
        dest.default = 200
        dest.wait_records(5, timeout=15)
        wait_until(lambda: self.describe(sl, "crm")["state"] == "delivering",
                   timeout=10)
        js = self.describe(sl, "crm")
        self.assertGreater(rfc3339(js["since"]), degraded_since)
        # the last error stays readable, with its time
        self.assertEqual(js["last_error"], "HTTP 503")
        self.assertLessEqual(rfc3339(js["last_error_at"]), rfc3339(js["since"]))
        self.assertEqual(self.state_gauges(sl, "crm")["delivering"], 1)

    def test_degraded_after_s_follows_a_reload(self):
        dest = self.start_destination(default=503)
        url = dest.url + "/in"
        sl = self.start_sluice({"crm": connector_lua(
            "crm", url, extra={"degraded_after_s": 3600})})
        self.assertEqual(sl.post("crm", [crm_record(1)])[0], 200)
        wait_until(lambda: self.describe(sl, "crm")["last_error"] ==
                   "HTTP 503", timeout=10, msg="the 503 seen")
        self.assertEqual(self.describe(sl, "crm")["state"], "delivering")
        with open(sl.connector_path("crm"), "w") as f:
            f.write(connector_lua("crm", url, extra={"degraded_after_s": 1}))
        sl.proc.send_signal(signal.SIGHUP)
        # the streak that began before the reload is judged by the new
        # threshold: degraded without a restart
        wait_until(lambda: self.describe(sl, "crm")["state"] == "degraded",
                   timeout=10, msg="degraded by the reloaded threshold")
        dest.default = 200
        dest.wait_records(1, timeout=15)

    def test_transport_error_is_secrets_free(self):
        port = free_port()  # nobody listens there
        url = "http://127.0.0.1:%d/in?token=t0ken-v4lue" % port
        sl = self.start_sluice({"crm": connector_lua(
            "crm", url, extra={"degraded_after_s": 1})})
        self.assertEqual(sl.post("crm", [crm_record(1)])[0], 200)
        wait_until(lambda: self.describe(sl, "crm")["state"] == "degraded",
                   timeout=10)
        err = self.describe(sl, "crm")["last_error"]
        self.assertIn("connect", err.lower())
        for secret in ("t0ken", str(port), "127.0.0.1"):
            self.assertNotIn(secret, err)

    def test_blocked_while_the_spool_refuses(self):
        dest = self.start_destination(default=503)
        sl = self.start_sluice({"crm": connector_lua(
            "crm", dest.url + "/in",
            extra={"durability": "memory", "queue_max_bytes": 1048576})})
        n, st = 0, 200
        while st == 200 and n < 100000:
            st, _, _ = sl.post("crm", [crm_record(n + i) for i in range(2000)])
            n += 2000
        self.assertEqual(st, 503, sl.last_raw)
        js = self.describe(sl, "crm")
        self.assertEqual(js["state"], "blocked")
        # the last failure: the refusal, or a retry's answer after it
        self.assertIn(js["last_error"], ("spool full: the intake answers 503",
                                         "HTTP 503"))
        rfc3339(js["since"])
        self.assertEqual(self.state_gauges(sl, "crm")["blocked"], 1)
        dest.default = 200
        wait_until(lambda: self.describe(sl, "crm")["stats"]["queued"] == 0
                   and self.describe(sl, "crm")["stats"]["pending"] == 0,
                   timeout=30)
        # the next accepted request ends it
        self.assertEqual(sl.post("crm", [crm_record(999999)])[0], 200)
        self.assertEqual(self.describe(sl, "crm")["state"], "delivering")

    def test_full_disk_blocks_and_is_not_ready(self):
        env, flag = self.enospc_env()
        dest = self.start_destination()
        sl = self.start_sluice({"crm": connector_lua("crm", dest.url + "/in")},
                               env=env)
        self.assertEqual(sl.post("crm", [crm_record(1)])[0], 200)
        self.assertEqual(sl.request("GET", "/readyz")[0], 200)
        open(flag, "w").close()  # the disk is full
        st, _, _ = sl.post("crm", [crm_record(2)])
        self.assertEqual(st, 503, sl.last_raw)
        js = self.describe(sl, "crm")
        self.assertEqual(js["state"], "blocked")
        self.assertIn("cannot write the spool", js["last_error"])
        st, js, _ = sl.request("GET", "/readyz")
        self.assertEqual(st, 503, sl.last_raw)
        self.assertIn("the spool of crm cannot be written",
                      js["checks"]["state_dir"])
        self.assertEqual(sl.request("GET", "/healthz")[0], 200)
        os.unlink(flag)  # room again
        wait_until(lambda: sl.post("crm", [crm_record(3)])[0] == 200,
                   timeout=20, msg="records taken again")
        self.assertEqual(self.describe(sl, "crm")["state"], "delivering")
        wait_until(lambda: sl.request("GET", "/readyz")[0] == 200,
                   timeout=10, msg="ready again")
        dest.wait_records(2)


if __name__ == "__main__":
    unittest.main()
