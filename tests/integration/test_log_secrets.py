"""Secrets never appear in what sluice writes (issue 14, item 8): a gateway
at --log-level debug with an intake key, a connector sending a bearer
token, one sending HTTP Basic credentials (a URL with user info is refused,
without showing it) and
one getting OAuth2 client-credentials tokens (client secret from the
environment), every one of them failing: the destination answers 401,
the token endpoint refuses the client first, clients post with wrong
keys, and the destination quotes the Authorization it got in its 401
body (which sluice logs, with the request's secrets taken out). Then the whole stderr and stdout of the run, `sluice check` and
`sluice dlq list/show` are searched for each secret value (and its base64
and URL-encoded forms): none is there.

Also: repeated failures are summarised rather than written each time
(the dedup of docs/operations.md, Logs), and a successful delivery is a
debug line, not an info one."""

import base64
import json
import os
import secrets
import subprocess
import sys
import unittest
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sluice_it import (SluiceTestCase, LuaRaw, connector_lua,  # noqa: E402
                       crm_record, lua_str, wait_until)


def secret(what):
    return "%s-%s" % (what, secrets.token_hex(12))


INTAKE_KEY = secret("intake-key")
WRONG_KEY = secret("wrong-intake-key")
BEARER = secret("bearer-token")
BASIC_PW = secret("basic-password")
URL_PW = secret("url-password")
CLIENT_SECRET = secret("client-secret")
ACCESS_TOKEN = secret("access-token")
SECRETS = {"intake key": INTAKE_KEY, "wrong intake key": WRONG_KEY,
           "bearer token": BEARER, "basic password": BASIC_PW,
           "url password": URL_PW, "client secret": CLIENT_SECRET,
           "access token": ACCESS_TOKEN}


def forms(value):
    """The value and the ways it may be written: base64 of "user:value"
    (Basic), of the value alone, URL-encoded."""
    out = {value, base64.b64encode(value.encode()).decode(),
           urllib.parse.quote(value, safe="")}
    for user in ("bob", "client-1"):
        out.add(base64.b64encode(("%s:%s" % (user, value)).encode())
                .decode())
    return out


class LogSecrets(SluiceTestCase):

    def setUp(self):
        super().setUp()
        self.token_calls = []

        def answer(index, req):
            if req.path.startswith("/oauth/token"):
                self.token_calls.append(req)
                if len(self.token_calls) <= 2:
                    return (401, {"Content-Type": "application/json"},
                            b'{"error":"invalid_client"}')
                return (200, {"Content-Type": "application/json"},
                        json.dumps({"access_token": ACCESS_TOKEN,
                                    "token_type": "Bearer",
                                    "expires_in": 3600}).encode())
            # a careless destination: it quotes what it was sent
            auth = req.headers.get("Authorization") or ""
            return (401, {"WWW-Authenticate": 'Bearer error="invalid_token"'},
                    json.dumps({"error": "invalid_token",
                                "got": auth}).encode())

        self.dest = self.start_flex_destination(func=answer)
        port = self.dest.port
        keys = {"intake_keys": LuaRaw('{ sluice.env("SLUICE_IT_INTAKE_KEY") }')}
        retry = {"base_ms": 20, "max_ms": 100}
        tok = connector_lua("tok", self.dest.url + "/tok", retry=retry,
                            extra=dict(keys, headers=LuaRaw(
                                '{ Authorization = "Bearer " .. '
                                'sluice.env("SLUICE_IT_BEARER") }')))
        basic_extra = dict(keys, headers=LuaRaw(
            '{ Authorization = "Basic " .. sluice.base64_encode("bob:" .. '
            'sluice.env("SLUICE_IT_BASIC_PW")) }'))
        basic = connector_lua("basic", self.dest.url + "/basic", retry=retry,
                              extra=basic_extra)
        # credentials in a URL are refused; the refusal must not show them
        self.basic_in_url = connector_lua(
            "basic", LuaRaw('"http://bob:" .. sluice.env("SLUICE_IT_URL_PW")'
                            ' .. "@127.0.0.1:%d/basic"' % port),
            retry=retry, extra=basic_extra)
        prelude = ('local oauth2 = require "sluice.oauth2"\n'
                   'local token = oauth2.client_credentials {\n'
                   '  token_url = %s, client_id = "client-1",\n'
                   '  client_secret = sluice.env("SLUICE_IT_CLIENT_SECRET"),\n'
                   '}\n' % lua_str(self.dest.url + "/oauth/token"))
        oauth = prelude + connector_lua(
            "oauth", self.dest.url + "/oauth", retry=retry, extra=dict(
                keys, headers_fn=LuaRaw("function(req) return { "
                                        "Authorization = token:header(req) } "
                                        "end")))
        env = {"SLUICE_IT_INTAKE_KEY": INTAKE_KEY, "SLUICE_IT_BEARER": BEARER,
               "SLUICE_IT_BASIC_PW": BASIC_PW, "SLUICE_IT_URL_PW": URL_PW,
               "SLUICE_IT_CLIENT_SECRET": CLIENT_SECRET}
        self.sl = self.make_sluice({"tok": tok, "basic": basic,
                                    "oauth": oauth}, env=env)
        self.sl.run_args = ["--log-level", "debug"]
        self.env = dict(os.environ, **env)

    def cli(self, *args):
        p = subprocess.run([self.sl.bin] + list(args) + ["-c",
                           self.sl.gateway_file], cwd=self.sl.dir,
                           env=self.env, capture_output=True, text=True,
                           timeout=60)
        return p.stdout + p.stderr

    def assert_no_secret(self, text, where):
        for what, value in SECRETS.items():
            for form in forms(value):
                self.assertNotIn(form, text, "%s (%s) in %s" % (what, form,
                                                               where))

    def test_no_secret_in_any_output(self):
        good_basic = self.sl.connectors["basic"]
        self.sl.connectors["basic"] = self.basic_in_url
        self.sl.write()
        refused = self.cli("check")
        self.assertIn("credentials in the URL are not supported", refused)
        self.assert_no_secret(refused, "sluice check of a URL with a "
                              "password")
        self.sl.connectors["basic"] = good_basic
        self.sl.write()
        check = self.cli("check")
        self.assertIn("OK (3 connectors)", check)
        self.sl.start()
        good = {"Authorization": "Bearer " + INTAKE_KEY}
        for name in ("tok", "basic", "oauth"):
            for i in range(3):
                st, _, _ = self.sl.post(name, [crm_record(i * 10 + k)
                                               for k in range(5)],
                                        headers=good)
                self.assertEqual(st, 200, self.sl.last_raw)
            for authz in ("Bearer " + WRONG_KEY, WRONG_KEY,
                          "Basic " + base64.b64encode(
                              ("bob:" + WRONG_KEY).encode()).decode()):
                st, _, _ = self.sl.post(name, [crm_record(99)],
                                        headers={"Authorization": authz})
                self.assertEqual(st, 401, self.sl.last_raw)
                self.assert_no_secret(self.sl.last_raw.decode("latin-1"),
                                      "the intake's answer")

        def seen(path):
            return [r for r in self.dest.requests() if r.path == path]
        # every destination refused a batch twice, and the token
        # endpoint refused the client before giving a token
        wait_until(lambda: all(len(seen(p)) >= 2 for p in
                               ("/tok", "/basic", "/oauth")), 20,
                   msg=lambda: self.dest.summary())
        self.assertGreaterEqual(len(self.token_calls), 3)
        # what was sent is what the connectors say: the secrets really
        # were in play
        self.assertEqual(seen("/tok")[0].headers.get("Authorization"),
                         "Bearer " + BEARER)
        self.assertIn(ACCESS_TOKEN,
                      seen("/oauth")[-1].headers.get("Authorization", ""))
        for name in ("tok", "basic", "oauth"):
            wait_until(lambda: self.sl.stats(name).get("dead_lettered", 0)
                       >= 15, 20, msg=lambda: repr(self.sl.stats(name)))
        self.sl.sigterm()
        log = self.sl.stderr_text()
        with open(self.sl.stdout_path, errors="replace") as f:
            log += f.read()
        self.assertIn("HTTP 401", log)
        # the destination's quote, without what it quoted
        self.assertIn('\\"got\\": \\"****\\"', log)
        self.assert_no_secret(log, "the log")
        for name in ("tok", "basic", "oauth"):
            out = self.cli("dlq", "list", name)
            self.assertIn("HTTP 401", out)
            self.assert_no_secret(out, "dlq list " + name)
            self.assert_no_secret(self.cli("dlq", "show", name, "1"),
                                  "dlq show " + name)
        self.assert_no_secret(check, "sluice check")
        # the refused requests at the intake: one line, then counted
        lines = [json.loads(x) for x in log.splitlines()
                 if x.startswith("{")]
        unauth = [x["msg"] for x in lines if "intake key" in x["msg"]]
        self.assertLessEqual(len(unauth), 9, unauth)


class QuietSuccess(SluiceTestCase):

    def test_deliveries_are_debug_and_failures_summarised(self):
        calls = []

        def answer(index, req):
            calls.append(index)
            return 503 if len(calls) <= 6 else 200
        dest = self.start_flex_destination(func=answer)
        sl = self.start_sluice({"crm": connector_lua(
            "crm", dest.url + "/in", concurrency=1,
            retry={"base_ms": 10, "max_ms": 20})})
        st, _, _ = sl.post("crm", [crm_record(i) for i in range(3)])
        self.assertEqual(st, 200, sl.last_raw)
        sl.wait_drained("crm", 3, timeout=20)
        sl.sigterm()
        lines = [json.loads(x) for x in sl.stderr_text().splitlines()
                 if x.startswith("{")]
        attempts = [x for x in lines if "HTTP 503" in x["msg"]]
        # six failed attempts of one batch: the first line, and the rest
        # summarised at the stop
        self.assertEqual(len(attempts), 2, attempts)
        self.assertNotIn("repeated", attempts[0]["msg"])
        self.assertIn("attempt 6 ", attempts[1]["msg"])
        self.assertIn("(repeated 5 times in the last ", attempts[1]["msg"])
        self.assertEqual(attempts[1]["level"], "warn")
        # at info level, no line for the delivery itself
        self.assertEqual([x for x in lines if "delivered after" in x["msg"]],
                         [])

    def test_log_level_key_and_the_option_over_it(self):
        calls = []

        def answer(index, req):
            calls.append(index)
            return 503 if len(calls) == 1 else 200
        dest = self.start_flex_destination(func=answer)
        conn = {"crm": connector_lua("crm", dest.url + "/in",
                                     retry={"base_ms": 10, "max_ms": 20})}
        sl = self.start_sluice(conn, gateway_extra='  log_level = "debug",')
        st, _, _ = sl.post("crm", [crm_record(1)])
        self.assertEqual(st, 200, sl.last_raw)
        sl.wait_drained("crm", 1, timeout=20)
        sl.sigterm()
        levels = [json.loads(x)["level"] for x in
                  sl.stderr_text().splitlines() if x.startswith("{")]
        self.assertIn("debug", levels)
        self.assertIn("delivered after 2 attempts", sl.stderr_text())
        # --log-level wins over the key
        sl2 = self.make_sluice(conn, gateway_extra='  log_level = "debug",')
        sl2.run_args = ["--log-level", "warn"]
        sl2.start()
        sl2.sigterm()
        levels = [json.loads(x)["level"] for x in
                  sl2.stderr_text().splitlines() if x.startswith("{")]
        self.assertEqual([x for x in levels if x in ("debug", "info")], [])
        # a level that is none: an error naming the choices
        sl3 = self.make_sluice(conn, gateway_extra='  log_level = "loud",')
        sl3.write()
        p = subprocess.run([sl3.bin, "check", "-c", sl3.gateway_file],
                           capture_output=True, text=True, timeout=60)
        self.assertEqual(p.returncode, 2)
        self.assertIn("log_level", p.stderr)
        self.assertIn('invalid value "loud" (valid: debug, info, warn', p.stderr)


if __name__ == "__main__":
    unittest.main(verbosity=2)
