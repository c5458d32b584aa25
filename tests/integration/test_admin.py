"""Admin address and keys (issue 14, item 5): with `admin_listen` the
introspection endpoints (/metrics, /readyz, GET /v1/connectors) move to
their own address and the intake's answers 404 for them, while /healthz
stays on both; with `admin_keys` they need a bearer key (401 without or
with a wrong one); the keys never show in `sluice check`, the answers or
the logs. Against the real binary and a real destination."""

import base64
import http.client
import json
import os
import signal
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sluice_it import (SluiceTestCase, connector_lua, crm_record,  # noqa: E402
                       free_port, lua_str, wait_until)

KEY = "admin-key-0123456789abcdef-XYZ"
OTHER = "admin-key-second-fedcba9876543210"
INTRO = ["/metrics", "/readyz", "/v1/connectors", "/v1/connectors/crm", "/"]


def get(port, path, key=None, method="GET", body=None, authz=None):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    h = {}
    if key is not None:
        h["Authorization"] = "Bearer " + key
    if authz is not None:
        h["Authorization"] = authz
    try:
        conn.request(method, path, body=body, headers=h)
        r = conn.getresponse()
        hdrs = {}
        for k, v in r.getheaders():  # repeated ones joined
            hdrs[k.lower()] = hdrs[k.lower()] + ", " + v if k.lower() in \
                hdrs else v
        return r.status, r.read(), hdrs
    finally:
        conn.close()


class AdminTest(SluiceTestCase):

    def start(self, admin_port=None, keys=True):
        self.dest = self.start_destination()
        os.environ["SLUICE_IT_ADMIN_KEY"] = KEY
        self.addCleanup(os.environ.pop, "SLUICE_IT_ADMIN_KEY", None)
        extra = ""
        if admin_port:
            extra += "  admin_listen = %s,\n" % lua_str(
                "127.0.0.1:%d" % admin_port)
        if keys:
            extra += ('  admin_keys = { sluice.env("SLUICE_IT_ADMIN_KEY"), '
                      '%s },\n' % lua_str(OTHER))
        self.sl = self.start_sluice(
            {"crm": connector_lua("crm", self.dest.url + "/in")}, extra)
        return self.sl

    def assert_no_key_anywhere(self):
        text = self.sl.stderr_text()
        for k in (KEY, OTHER):
            self.assertNotIn(k, text)

    def test_own_port_with_keys(self):
        admin = free_port()
        sl = self.start(admin)
        intake = sl.port
        # the intake's address: records and /healthz only
        self.assertEqual(get(intake, "/healthz")[0], 200)
        for path in INTRO:
            with self.subTest(intake=path):
                st, body, _ = get(intake, path, KEY)
                self.assertEqual(st, 404, body)
                self.assertEqual(json.loads(body)["error"], "no such route")
        st, _, _ = sl.post("crm", [crm_record(i) for i in range(3)])
        self.assertEqual(st, 200, sl.last_raw)
        self.dest.wait_records(3)
        # the admin address: /healthz open, the rest behind the keys
        self.assertEqual(get(admin, "/healthz")[0], 200)
        for path in INTRO:
            with self.subTest(admin=path):
                st, body, h = get(admin, path)
                self.assertEqual(st, 401, body)
                self.assertIn("needs an admin key", json.loads(body)["error"])
                self.assertIn("Bearer", h.get("www-authenticate", ""))
                self.assertIn("Basic", h.get("www-authenticate", ""))
                for wrong in ("Bearer " + KEY[:-1], "Bearer " + KEY + "x",
                              "Basic " + KEY, KEY, "Bearer "):
                    st, body, _ = get(admin, path, authz=wrong)
                    self.assertEqual(st, 401, (wrong, body))
                    self.assertNotIn(KEY.encode(), body)
                for k in (KEY, OTHER):
                    st, body, _ = get(admin, path, k)
                    self.assertEqual(st, 200, body)
        st, body, _ = get(admin, "/v1/connectors", KEY)
        self.assertEqual([c["name"] for c in json.loads(body)["connectors"]],
                         ["crm"])
        # the destination holds them before sluice has read its answer
        wait_until(lambda: json.loads(get(admin, "/v1/connectors", KEY)[1])
                   ["connectors"][0]["stats"]["delivered"] == 3, timeout=10)
        st, body, _ = get(admin, "/metrics", KEY)
        self.assertIn(b'sluice_records_delivered_total{connector="crm"} 3',
                      body)
        # a browser's login prompt: the key as the password of Basic
        basic = "Basic " + base64.b64encode(("op:" + KEY).encode()).decode()
        for path in ("/", "/metrics"):
            self.assertEqual(get(admin, path, authz=basic)[0], 200)
        wrong = "Basic " + base64.b64encode(b"op:not-the-key-0123456").decode()
        self.assertEqual(get(admin, "/", authz=wrong)[0], 401)
        # blanks around the key are forgiven, as for intake_keys
        self.assertEqual(get(admin, "/metrics", authz="bearer" + " " * 5000 +
                             KEY + "\t")[0], 200)
        # hostile headers: a huge bearer value, a control character; both
        # refused, the gateway unharmed
        for authz in ("Bearer " + "x" * 60000, "Bearer \x01" + KEY):
            try:
                st, body, _ = get(admin, "/metrics", authz=authz)
            except (OSError, http.client.HTTPException):
                continue  # refused before routing: fine too
            self.assertIn(st, (400, 401, 413, 431), body[:200])
        self.assertEqual(get(admin, "/metrics", KEY)[0], 200)
        # records are not taken on the admin address
        st, body, _ = get(admin, "/v1/connectors/crm/records", KEY, "POST",
                          json.dumps([crm_record(9)]).encode())
        self.assertEqual(st, 404, body)
        self.assertEqual(len(self.dest.records()), 3)
        self.assert_no_key_anywhere()

    def test_admin_answers_during_the_drain(self):
        admin = free_port()
        self.dest = self.start_destination(delay=3.0)
        self.sl = sl = self.start_sluice(
            {"crm": connector_lua("crm", self.dest.url + "/in")},
            "  admin_listen = %s,\n" % lua_str("127.0.0.1:%d" % admin))
        self.assertEqual(sl.post("crm", [crm_record(1)])[0], 200)

        def in_flight():
            st, body, _ = get(admin, "/v1/connectors/crm")
            return json.loads(body)["stats"]["in_flight"] == 1
        wait_until(in_flight, timeout=10, msg="a request in flight")
        sl.proc.send_signal(signal.SIGTERM)
        wait_until(lambda: get(admin, "/readyz")[0] == 503, timeout=5,
                   msg="not ready once stopping")
        st, body, _ = get(admin, "/readyz")
        self.assertEqual(json.loads(body)["checks"]["listeners"],
                         "shutting down")
        with self.assertRaises(OSError):
            get(sl.port, "/healthz")  # the intake's listener is closed
        self.assertEqual(sl.proc.wait(20), 0)
        sl.started = False  # it stopped as asked, not by itself
        self.dest.wait_records(1)

    def test_keys_on_the_intake_address(self):
        sl = self.start()
        port = sl.port
        for path in INTRO:
            with self.subTest(path):
                self.assertEqual(get(port, path)[0], 401)
                self.assertEqual(get(port, path, "wrong-key-0123456789")[0],
                                 401)
                self.assertEqual(get(port, path, KEY)[0], 200)
        self.assertEqual(get(port, "/healthz")[0], 200)
        # the admin keys are not intake keys: posting needs none
        st, _, _ = sl.post("crm", [crm_record(1)])
        self.assertEqual(st, 200, sl.last_raw)
        self.dest.wait_records(1)
        self.assert_no_key_anywhere()

    def test_own_port_open(self):
        admin = free_port()
        sl = self.start(admin, keys=False)
        for path in INTRO:
            with self.subTest(path):
                self.assertEqual(get(admin, path)[0], 200)
                self.assertEqual(get(sl.port, path)[0], 404)

    def test_check_shows_them_without_values(self):
        admin = free_port()
        os.environ["SLUICE_IT_ADMIN_KEY"] = KEY
        self.addCleanup(os.environ.pop, "SLUICE_IT_ADMIN_KEY", None)
        sl = self.make_sluice(
            {"crm": connector_lua("crm", "http://127.0.0.1:9/in")},
            "  admin_listen = %s,\n  admin_keys = { "
            "sluice.env(\"SLUICE_IT_ADMIN_KEY\"), %s },\n"
            % (lua_str("127.0.0.1:%d" % admin), lua_str(OTHER)))
        rc, out, err = sl.check()
        self.assertEqual(rc, 0, err)
        self.assertIn("admin_listen    127.0.0.1:%d" % admin, out)
        self.assertIn("admin_keys      2 keys (values hidden)", out)
        for k in (KEY, OTHER):
            self.assertNotIn(k, out + err)

    def test_bad_settings(self):
        port = free_port()
        cases = {
            "the intake's address": (
                "admin_listen = %s," % lua_str("127.0.0.1:%d" % port),
                "is (or overlaps) the address of the HTTP intake"),
            "not an address": ("admin_listen = \"nowhere\",",
                               "admin_listen"),
            "empty list": ("admin_keys = {},", "list 1 to 16 keys"),
            "short key": ("admin_keys = { \"short-secret\" },",
                          "a key of 12 characters"),
            "a space": ("admin_keys = { \"a key with spaces in it\" },",
                        "not a visible ASCII character"),
            "twice": ("admin_keys = { \"%s\", \"%s\" }," % (OTHER, OTHER),
                      "admin_keys[2]: the same key as admin_keys[1]"),
            "not a list": ("admin_keys = \"%s\"," % OTHER, "admin_keys"),
            "too long a key": ("admin_keys = { string.rep(\"k\", 1025) },",
                               "a key of 1025 characters"),
            "too many": ("admin_keys = { %s }," % ", ".join(
                '"%s-%02d"' % (OTHER, i) for i in range(17)),
                "list 1 to 16 keys (17 given)"),
            "not strings": ("admin_keys = { 12345678901234567890 },",
                            "expected a string"),
        }
        for what, (extra, want) in cases.items():
            with self.subTest(what):
                sl = self.make_sluice(
                    {"crm": connector_lua("crm", "http://127.0.0.1:9/in")},
                    "  " + extra + "\n")
                sl.port = port
                sl.write()
                rc, out, err = sl.check()
                self.assertNotEqual(rc, 0, out)
                self.assertIn(want, err)
                if "short" in what or "twice" in what or "space" in what:
                    self.assertNotIn("short-secret", err)
                    self.assertNotIn(OTHER, err)
                    self.assertNotIn("with spaces", err)


if __name__ == "__main__":
    unittest.main()
