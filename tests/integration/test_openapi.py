"""The intake's OpenAPI 3.1 document (issue 15, item 3): `sluice openapi`
for every example configuration and for connectors with every type and
option (intake keys, nested types, a transform, limits) is accepted by a
real validator (@apidevtools/swagger-parser's validate(), every record
schema compiled by ajv in strict mode); GET /openapi.json of the running
gateway is byte for byte `sluice openapi` of the same files, sits with
the introspection routes (admin_listen, admin_keys), and follows reloads;
the intake's real answers (200, 422, 400, 401, 404, 413, 415, 503) match
the response schemas the document gives them (judged by ajv).

The validators are npm packages that scripts/install-deps.sh pins and
installs into SLUICE_NPM_PREFIX (default /opt/sluice-npm); without node
or them the tests skip with a message (docs/testing.md)."""

import gzip
import http.client
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sluice_it import (SOURCE_DIR, LuaRaw, SluiceTestCase,  # noqa: E402
                       connector_lua, crm_record, free_port, lua_str,
                       sluice_bin, wait_until)

HERE = os.path.dirname(os.path.abspath(__file__))
CHECK = os.path.join(HERE, "openapi_check.mjs")
NPM = os.environ.get("SLUICE_NPM_PREFIX", "/opt/sluice-npm")
KEY = "intake-key-0123456789abcdef"
ADMIN_KEY = "admin-key-0123456789abcdef-XYZ"


def get(port, path, key=None, method="GET", body=None):
    """-> (status, body bytes, {lower-case header: value}), a repeated
    header's values joined with ", "."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    h = {"Authorization": "Bearer " + key} if key else {}
    try:
        conn.request(method, path, body=body, headers=h)
        r = conn.getresponse()
        hdrs = {}
        for k, v in r.getheaders():
            k = k.lower()
            hdrs[k] = hdrs[k] + ", " + v if k in hdrs else v
        return r.status, r.read(), hdrs
    finally:
        conn.close()


def tools_missing():
    """Why the validators cannot run, or None."""
    if not shutil.which("node"):
        return "node is not installed (scripts/install-deps.sh installs it)"
    for pkg in ("@apidevtools/swagger-parser", "ajv", "ajv-formats"):
        if not os.path.isdir(os.path.join(NPM, "node_modules", pkg)):
            return ("%s is not in %s/node_modules (scripts/install-deps.sh "
                    "installs it; SLUICE_NPM_PREFIX)" % (pkg, NPM))
    return None


def openapi(config, cwd=None):
    """`sluice openapi -c config` -> (rc, stdout bytes, stderr text)."""
    p = subprocess.run([sluice_bin(), "openapi", "-c", config],
                       capture_output=True, timeout=60, cwd=cwd or SOURCE_DIR)
    return p.returncode, p.stdout, p.stderr.decode("utf-8", "replace")


def node(*args):
    p = subprocess.run(["node", CHECK, NPM] + list(args), capture_output=True,
                       text=True, timeout=120)
    if p.returncode != 0:
        raise AssertionError("openapi_check.mjs %s: rc %d\n%s"
                             % (args[0], p.returncode, p.stderr))
    return [json.loads(line) for line in p.stdout.splitlines()]


# A schema with every type and option (nested types from issue 7).
ALL_TYPES = [
    {"name": "id", "type": "integer", "min": 1, "max": 1000000},
    {"name": "email", "type": "string", "min_length": 3, "max_length": 64},
    {"name": "state", "type": "string", "nullable": True,
     "enum": ["new", "done", "d\u00e9j\u00e0 \"vu\""]},
    {"name": "price", "type": "number", "min": 0, "max": 1e6},
    {"name": "active", "type": "boolean"},
    {"name": "day", "type": "date", "nullable": True},
    {"name": "at", "type": "datetime"},
    {"name": "meta", "type": "json", "nullable": True},
    {"name": "raw", "type": "json"},
    {"name": "address", "type": "object", "fields": [
        {"name": "zip", "type": "string"},
        {"name": "city", "type": "string", "nullable": True}]},
    {"name": "lines", "type": "array", "min_items": 1, "max_items": 5,
     "items": {"type": "object", "fields": [
         {"name": "sku", "type": "string"},
         {"name": "qty", "type": "integer", "min": 1},
         {"name": "tags", "type": "array", "nullable": True,
          "items": {"type": "string", "max_length": 3}}]}},
    {"name": "grid", "type": "array", "nullable": True,
     "items": {"type": "array", "items": {"type": "number",
                                          "nullable": True}}},
    {"name": "\u20ac </script> $ref", "type": "string", "nullable": True},
]


def all_record(i):
    return {"id": i, "email": "u%d@x.io" % i, "state": "new", "price": 9.5,
            "active": True, "day": "2024-02-29", "at": "2024-05-01T12:30:00Z",
            "meta": {"a": [1, None]}, "raw": 0,
            "address": {"zip": "10115", "city": None},
            "lines": [{"sku": "A-1", "qty": 2, "tags": ["x"]}],
            "grid": [[1.5, None]]}


TRANSFORM = LuaRaw("""function(rec)
    if rec.skip then return nil end
    return { id = tonumber(rec.id), email = rec.mail, amount = nil,
             active = true, day = "2024-02-29", at = "2024-03-01T12:00:00Z" }
  end""")


def connectors(url, keys=True):
    full_extra = {"limits": {"record_bytes": 8192, "string_bytes": 512,
                             "fields": 20, "depth": 10,
                             "records_per_request": 50}}
    if keys:
        full_extra["intake_keys"] = [KEY]
    return {
        "full": connector_lua("full", url, schema=ALL_TYPES,
                              unknown_fields="reject", extra=full_extra),
        "crm": connector_lua("crm", url, unknown_fields="drop"),
        "reshape": connector_lua("reshape", url, extra={"transform": TRANSFORM}),
    }


class OpenAPITest(SluiceTestCase):

    def setUp(self):
        super().setUp()
        why = tools_missing()
        if why:
            self.skipTest(why)
        self.tmp = tempfile.mkdtemp(prefix="sluice-openapi-")
        self.addCleanup(shutil.rmtree, self.tmp, True)

    def write(self, name, data):
        path = os.path.join(self.tmp, name)
        with open(path, "wb" if isinstance(data, bytes) else "w") as f:
            f.write(data)
        return path

    def assert_valid(self, docs):
        """docs: {label: document bytes}; each passes the validators."""
        paths = {self.write("%s.json" % label, d): label
                 for label, d in docs.items()}
        for v in node("validate", *paths):
            self.assertTrue(v["ok"], "%s: %s" % (paths[v["doc"]], v.get("why")))
        self.assertEqual(len(paths), len(docs))

    # ---- the validators on the documents ---------------------------------

    def test_example_configs_validate(self):
        rc, out, err = openapi(os.path.join("conf", "sluice.lua"))
        self.assertEqual(rc, 0, err)
        self.assertTrue(out.endswith(b"\n") and out.count(b"\n") == 1)
        doc = json.loads(out)
        self.assertEqual(doc["openapi"], "3.1.0")
        self.assertEqual(doc["jsonSchemaDialect"],
                         "https://json-schema.org/draft/2020-12/schema")
        v = subprocess.run([sluice_bin(), "version"], capture_output=True,
                           text=True).stdout.split()[1]
        self.assertEqual(doc["info"]["version"], v)
        # one path and one record schema per connector the config loads
        names = sorted(p.split("/")[3] for p in doc["paths"])
        self.assertGreaterEqual(len(names), 5)
        for n in names:
            self.assertIn("%s_record" % n, doc["components"]["schemas"])
            self.assertEqual(list(doc["paths"]["/v1/connectors/%s/records" % n]),
                             ["post"])
        self.assert_valid({"conf": out})

    def test_every_type_and_option_validates(self):
        sl = self.make_sluice(connectors("http://127.0.0.1:9/in"))
        sl.write()
        rc, out, err = openapi(sl.gateway_file, cwd=sl.dir)
        self.assertEqual(rc, 0, err)
        doc = json.loads(out)
        self.assert_valid({"all": out})
        self.assertEqual(doc["servers"][0]["url"], "http://127.0.0.1:%d" % sl.port)
        ops = {p: doc["paths"][p]["post"] for p in doc["paths"]}
        full = ops["/v1/connectors/full/records"]
        self.assertEqual(full["security"], [{"intake_key": []}])
        self.assertIn("401", full["responses"])
        self.assertNotIn("security", ops["/v1/connectors/crm/records"])
        self.assertNotIn("401", ops["/v1/connectors/crm/records"]["responses"])
        self.assertEqual(doc["components"]["securitySchemes"]["intake_key"],
                         {"type": "http", "scheme": "bearer",
                          "description": doc["components"]["securitySchemes"]
                          ["intake_key"]["description"]})
        body = full["requestBody"]["content"]
        self.assertEqual(body["application/json"]["schema"]["oneOf"][1]
                         ["maxItems"], 50)
        self.assertEqual(body["application/x-ndjson"]["schema"]["type"], "string")
        names = [p["$ref"].split("/")[-1] for p in full["parameters"]]
        self.assertEqual(names, ["dry_run", "Content-Encoding"])
        s = doc["components"]["schemas"]["full_record"]
        p = s["properties"]
        self.assertEqual(p["id"], {"type": "integer", "minimum": 1,
                                   "maximum": 1000000})
        self.assertEqual(p["email"], {"type": "string", "minLength": 3,
                                      "maxLength": 64})
        self.assertEqual(p["state"]["type"], ["string", "null"])
        self.assertEqual(p["state"]["enum"],
                         ["new", "done", "d\u00e9j\u00e0 \"vu\"", None])
        self.assertEqual(p["day"], {"type": ["string", "null"], "format": "date"})
        self.assertEqual(p["at"], {"type": "string", "format": "date-time"})
        self.assertNotIn("type", p["meta"])
        self.assertEqual(p["raw"]["not"], {"type": "null"})
        self.assertEqual(p["address"]["required"], ["zip"])
        self.assertEqual(p["lines"]["minItems"], 1)
        self.assertEqual(p["lines"]["maxItems"], 5)
        self.assertEqual(p["lines"]["items"]["properties"]["tags"]["items"],
                         {"type": "string", "maxLength": 3})
        self.assertEqual(p["grid"]["items"]["items"]["type"], ["number", "null"])
        self.assertIn("\u20ac </script> $ref", p)
        self.assertEqual(s["required"], ["id", "email", "price", "active", "at",
                                         "raw", "address", "lines"])
        self.assertIs(s["additionalProperties"], False)
        self.assertEqual(s["maxProperties"], 20)
        self.assertEqual(s["x-sluice-record-bytes"], 8192)
        self.assertEqual(s["x-sluice-string-bytes"], 512)
        self.assertEqual(s["x-sluice-max-depth"], 10)
        # unknown_fields = "drop": unknown members allowed
        self.assertNotIn("additionalProperties",
                         doc["components"]["schemas"]["crm_record"])
        # a transform: the body is what the transform takes
        tr = ops["/v1/connectors/reshape/records"]["requestBody"]["content"]
        self.assertIs(tr["application/json"]["schema"]["x-sluice-transform"],
                      True)
        self.assertNotIn("oneOf", tr["application/json"]["schema"])
        self.assertIn("reshape_record", doc["components"]["schemas"])

    def test_config_error_exits_2(self):
        bad = self.write("bad.lua", "return { listen = 42 }\n")
        rc, out, err = openapi(bad)
        self.assertEqual(rc, 2)
        self.assertEqual(out, b"")
        self.assertIn("listen", err)
        rc, out, _ = openapi(os.path.join(self.tmp, "missing.lua"))
        self.assertEqual((rc, out), (2, b""))

    # ---- GET /openapi.json ---------------------------------------------

    def test_served_equals_offline_and_follows_reload(self):
        dest = self.start_destination()
        sl = self.start_sluice(connectors(dest.url + "/in"))
        rc, offline, err = openapi(sl.gateway_file, cwd=sl.dir)
        self.assertEqual(rc, 0, err)
        st, body, hdrs = get(sl.port, "/openapi.json")
        self.assertEqual(st, 200)
        self.assertEqual(hdrs["content-type"], "application/json")
        self.assertEqual(body, offline)
        st, head, _ = get(sl.port, "/openapi.json", method="HEAD")
        self.assertEqual((st, head), (200, b""))
        st, body, hdrs = get(sl.port, "/openapi.json", method="POST", body=b"{}")
        self.assertEqual(st, 405)
        self.assertEqual(hdrs["allow"], "GET")
        # a reload adds one connector and removes another
        del sl.connectors["crm"]
        os.remove(sl.connector_path("crm"))
        sl.connectors["added"] = connector_lua("added", dest.url + "/in")
        sl.write()
        sl.proc.send_signal(signal.SIGHUP)

        def reloaded():
            st, body, _ = get(sl.port, "/openapi.json")
            return body if st == 200 and b"/v1/connectors/added/" in body \
                else None
        body = wait_until(reloaded, msg="/openapi.json after the reload")
        paths = sorted(json.loads(body)["paths"])
        self.assertEqual(paths, ["/v1/connectors/added/records",
                                 "/v1/connectors/full/records",
                                 "/v1/connectors/reshape/records"])
        rc, offline, err = openapi(sl.gateway_file, cwd=sl.dir)
        self.assertEqual(rc, 0, err)
        self.assertEqual(body, offline)
        self.assert_valid({"reloaded": body})

    def test_admin_address_and_keys(self):
        dest = self.start_destination()
        admin = free_port()
        os.environ["SLUICE_IT_ADMIN_KEY"] = ADMIN_KEY
        self.addCleanup(os.environ.pop, "SLUICE_IT_ADMIN_KEY", None)
        sl = self.start_sluice(
            connectors(dest.url + "/in"),
            "  admin_listen = %s,\n  admin_keys = { sluice.env("
            "\"SLUICE_IT_ADMIN_KEY\") },\n" % lua_str("127.0.0.1:%d" % admin))
        # not on the intake's address, as /metrics is not
        st, body, _ = get(sl.port, "/openapi.json", ADMIN_KEY)
        self.assertEqual(st, 404)
        self.assertEqual(json.loads(body)["error"], "no such route")
        self.assertEqual(get(sl.port, "/metrics", ADMIN_KEY)[0], 404)
        # on the admin address, behind the admin keys as /metrics is
        for key, want in ((None, 401), ("wrong-key-0123456789", 401),
                          (ADMIN_KEY, 200)):
            st, body, hdrs = get(admin, "/openapi.json", key)
            self.assertEqual(st, want, body)
            self.assertEqual(get(admin, "/metrics", key)[0], want)
            if want == 401:
                self.assertIn("Bearer", hdrs["www-authenticate"])
                self.assertNotIn(ADMIN_KEY.encode(), body)
        rc, offline, err = openapi(sl.gateway_file, cwd=sl.dir)
        self.assertEqual(rc, 0, err)
        self.assertEqual(body, offline)
        # the document describes the intake's address, not the admin's
        self.assertEqual(json.loads(body)["servers"][0]["url"],
                         "http://127.0.0.1:%d" % sl.port)

    # ---- real answers against the documented shapes -----------------------

    def test_real_answers_match_the_document(self):
        dest = self.start_destination()
        sl = self.start_sluice(connectors(dest.url + "/in"),
                               "  max_body_bytes = 65536,\n")
        st, doc, _ = get(sl.port, "/openapi.json")
        self.assertEqual(st, 200)
        docfile = self.write("doc.json", doc)
        auth = {"Authorization": "Bearer " + KEY}
        bad = dict(all_record(2), id="2")
        cases = []  # (label, connector, status wanted, answer)

        def post(label, name, body, want, ctype="application/json",
                 headers=None, query=""):
            h = dict(headers or {})
            h["Content-Type"] = ctype
            data = body if isinstance(body, bytes) else \
                json.dumps(body).encode()
            st, js, hdrs = sl.request(
                "POST", "/v1/connectors/%s/records%s" % (name, query),
                body=data, headers=h)
            self.assertEqual(st, want, (label, sl.last_raw))
            self.assertEqual(hdrs.get("Content-Type"), "application/json",
                             label)
            self.assertIsNotNone(js, (label, sl.last_raw))
            cases.append((label, name, st, js))
            return js, hdrs

        js, _ = post("200 mixed", "full", [all_record(1), bad], 200,
                     headers=auth)
        self.assertEqual((js["accepted"], len(js["rejected"])), (1, 1))
        js, hdrs = post("200 dry run", "full", [all_record(3)], 200,
                        headers=auth, query="?dry_run=true")
        self.assertEqual(hdrs.get("Sluice-Dry-Run"), "true")
        post("200 ndjson", "crm",
             (json.dumps(crm_record(4)) + "\n{\"id\":\n").encode(), 200,
             ctype="application/x-ndjson")
        js, _ = post("200 gzip", "crm", gzip.compress(json.dumps(
            [crm_record(10), crm_record(11)]).encode()), 200,
            headers={"Content-Encoding": "gzip"})
        self.assertEqual(js["accepted"], 2)
        js, _ = post("200 dropped", "reshape",
                     [{"id": "5", "mail": "a@b.c"}, {"skip": True}], 200)
        self.assertEqual(js.get("dropped"), 1)
        post("422", "full", [bad], 422, headers=auth)
        js, _ = post("400 malformed", "crm", b"[{\"id\": 1,", 400)
        self.assertIn("offset", js)
        post("400 dry_run", "crm", [crm_record(6)], 400, query="?dry_run=maybe")
        js, hdrs = post("401 no key", "full", [all_record(7)], 401)
        self.assertIn("Bearer", hdrs.get("WWW-Authenticate", ""))
        post("401 wrong key", "full", [all_record(7)], 401,
             headers={"Authorization": "Bearer wrong-0123456789abcdef"})
        post("413 records", "full", [all_record(i) for i in range(51)], 413,
             headers=auth)
        post("413 body", "crm", b"[" + b" " * 70000 + b"]", 413)
        post("415 type", "crm", b"id,email\n1,a\n", 415, ctype="text/csv")
        post("415 encoding", "crm", [crm_record(8)], 415,
             headers={"Content-Encoding": "br"})
        st, js, _ = sl.post("nosuch", [crm_record(9)])
        self.assertEqual(st, 404, sl.last_raw)
        cases.append(("404", "crm", st, js))  # judged by crm's 404 answer
        self.judge(docfile, cases)

    def test_503_matches_the_document(self):
        port = free_port()  # a destination that never answers: records stay
        sl = self.start_sluice({"crm": connector_lua(
            "crm", "http://127.0.0.1:%d/in" % port,
            retry={"base_ms": 1000, "max_ms": 5000},
            extra={"spool": {"max_bytes": 2 * 1024 * 1024,
                             "segment_bytes": 256 * 1024,
                             "cache_bytes": 1024 * 1024}})})
        st, doc, _ = get(sl.port, "/openapi.json")
        docfile = self.write("doc.json", doc)
        refused = None
        for p in range(400):
            st, js, hdrs = sl.post("crm", [crm_record(p * 200 + k)
                                           for k in range(200)])
            if st == 503:
                refused = (js, hdrs)
                break
            self.assertEqual(st, 200, sl.last_raw)
        self.assertIsNotNone(refused, "the spool never filled")
        js, hdrs = refused
        self.assertGreaterEqual(int(hdrs.get("Retry-After")), 1)
        self.judge(docfile, [("503", "crm", 503, js)])

    def judge(self, docfile, cases):
        todo = [{"path": "/v1/connectors/%s/records" % name, "status": st,
                 "body": js} for _, name, st, js in cases]
        verdicts = node("answers", docfile, self.write("cases.json",
                                                       json.dumps(todo)))
        self.assertEqual(len(verdicts), len(cases))
        want = {200: "accepted", 400: "malformed", 401: "unauthorized",
                404: "unknown_connector", 413: "too_large",
                415: "unsupported", 422: "rejected", 503: "unavailable"}
        for (label, _, st, js), v in zip(cases, verdicts):
            self.assertTrue(v["ok"], "%s: %r does not match: %s"
                            % (label, js, v.get("why")))
            self.assertEqual(v["response"], want[st], label)
        # the judge can fail: a wrong shape is refused
        wrong = [{"path": todo[0]["path"], "status": 200,
                  "body": {"accepted": "1", "rejected": []}},
                 {"path": todo[0]["path"], "status": 400,
                  "body": {"error": "x", "extra": 1}}]
        verdicts = node("answers", docfile, self.write("wrong.json",
                                                       json.dumps(wrong)))
        self.assertEqual([v["ok"] for v in verdicts], [False, False])


if __name__ == "__main__":
    unittest.main()
