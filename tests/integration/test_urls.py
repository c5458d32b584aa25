"""Per-record URLs and header placeholders through the real binary: the
request target the destination received (raw, percent-encoded), header
values, headers_fn's req.url, the URL in the dead letters and in the log,
the protection against header injection and empty path segments (at the
intake and at send time), the shipped REST connector, and every
configuration error with its message (`sluice check`)."""

import json
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sluice_it import (SOURCE_DIR, LuaRaw, SluiceTestCase,  # noqa: E402
                       connector_lua, free_port, wait_until)

REST_FILE = os.path.join(SOURCE_DIR, "conf", "connectors", "rest_users.lua")
REST_BASE = "https://api.example.com"


def rest_connector(dest_url):
    """conf/connectors/rest_users.lua with its API at the destination."""
    with open(REST_FILE) as f:
        src = f.read()
    assert REST_BASE in src, "rest_users.lua no longer uses " + REST_BASE
    return src.replace(REST_BASE, dest_url)


def user(uid, tenant='"acme"'):
    """A rest_users record as compact JSON text in schema order (what is
    sent), with `uid` and `tenant` given as JSON text (escapes kept)."""
    return ('{"id":%s,"tenant":%s,"email":"u@example.com","name":"U",'
            '"plan":null,"seats":3,"since":"2024-02-29"}' % (uid, tenant))


USERS = [  # id as JSON text, the path segment it must become
    ('"a b"', "a%20b"),
    ('"a/b"', "a%2Fb"),
    ('"100%"', "100%25"),
    ('"q?x#y"', "q%3Fx%23y"),
    ('"Jos\\u00e9"', "Jos%C3%A9"),
    ('"Zo\u00eb"', "Zo%C3%AB"),
    ('"plain-1.2_3~"', "plain-1.2_3~"),
    ('"\\ud83d\\ude00"', "%F0%9F%98%80"),
    ('"a\\"b\\\\c"', "a%22b%5Cc"),
]

CRM = [
    {"name": "id", "type": "integer"},
    {"name": "email", "type": "string"},
    {"name": "day", "type": "date"},
    {"name": "amount", "type": "number"},
    {"name": "note", "type": "string", "nullable": True},
    {"name": "ok", "type": "boolean"},
]


def crm(i, email="a@x.com", day="2024-02-29"):
    return ('{"id":%d,"email":%s,"day":"%s","amount":1.5,"note":null,'
            '"ok":true}' % (i, json.dumps(email), day))


class PerRecordUrlTest(SluiceTestCase):

    def post_ok(self, sl, name, body, accepted):
        st, js, _ = sl.post(name, body)
        self.assertEqual(st, 200, sl.last_raw)
        self.assertEqual(js["accepted"], accepted, js)
        return js

    def test_rest_connector_paths_and_header(self):
        dest = self.start_destination()
        sl = self.start_sluice({"rest_users": rest_connector(dest.url)})
        body = "\n".join(user(u, '"t\\u00e9 {x}"') for u, _ in USERS)
        st, js, _ = sl.request("POST", "/v1/connectors/rest_users/records",
                               body=body.encode(),
                               headers={"Content-Type": "application/x-ndjson"})
        self.assertEqual((st, js["accepted"]), (200, len(USERS)), sl.last_raw)
        reqs = dest.wait_requests(len(USERS))
        got = {r.path: r for r in reqs}
        for uid, seg in USERS:
            path = "/v1/users/" + seg
            self.assertIn(path, got, "no request to %s (got %s)"
                          % (path, sorted(got)))
            r = got[path]
            self.assertEqual(r.method, "PUT")
            self.assertEqual(r.body, user(uid, '"t\\u00e9 {x}"').encode())
            # a header placeholder's value is sent raw (decoded UTF-8)
            raw = r.headers.get("X-Tenant").encode("latin-1")
            self.assertEqual(raw, "t\u00e9 {x}".encode())
            self.assertEqual(r.headers.get("Authorization"), "Bearer demo-token")
        self.assertEqual(len(reqs), len(USERS))

    def test_integer_date_and_query(self):
        dest = self.start_destination()
        url = dest.url + "/v1/accounts/{id}/days/{day}?email={email}&id={id}"
        sl = self.start_sluice({"crm": connector_lua(
            "crm", url, schema=CRM, body="object", method="PATCH")})
        self.post_ok(sl, "crm", "[%s,%s,%s]" % (
            crm(42), crm(-7, "a+b c@x.com"), crm(0, "Jos\u00e9&x=1")), 3)
        paths = sorted(r.path for r in dest.wait_requests(3))
        self.assertEqual(paths, sorted([
            "/v1/accounts/42/days/2024-02-29?email=a%40x.com&id=42",
            "/v1/accounts/-7/days/2024-02-29?email=a%2Bb%20c%40x.com&id=-7",
            "/v1/accounts/0/days/2024-02-29?email=Jos%C3%A9%26x%3D1&id=0",
        ]))
        self.assertEqual({r.method for r in dest.requests()}, {"PATCH"})

    def test_headers_fn_sees_rendered_url(self):
        dest = self.start_destination()
        sl = self.start_sluice({"crm": connector_lua(
            "crm", dest.url + "/v1/things/{email}", schema=CRM, body="object",
            headers={"X-Id": "id={id}", "X-Static": "{\"a\":1}"},
            extra={"headers_fn": LuaRaw(
                "function(req) return { [\"X-Url\"] = req.url } end")})})
        self.post_ok(sl, "crm", crm(5, "x/y z"), 1)
        r = dest.wait_requests(1)[0]
        self.assertEqual(r.path, "/v1/things/x%2Fy%20z")
        self.assertEqual(r.headers.get("X-Url"),
                         dest.url + "/v1/things/x%2Fy%20z")
        self.assertEqual(r.headers.get("X-Id"), "id=5")
        self.assertEqual(r.headers.get("X-Static"), "{\"a\":1}")

    def test_body_template_keeps_the_record_for_the_url(self):
        # body = { form = "object", template = ... }: the URL comes from the
        # record, never from the envelope around it
        dest = self.start_destination()
        sl = self.start_sluice({"crm": connector_lua(
            "crm", dest.url + "/v1/items/{email}?n={id}", schema=CRM,
            body=LuaRaw('{ form = "object", template = \'{"data": $record, '
                        '"key": $batch_id}\', record_template = '
                        '\'{"p": $record}\' }'),
            headers={"X-N": "{id}"})})
        self.post_ok(sl, "crm", crm(9, "a b"), 1)
        r = dest.wait_requests(1)[0]
        self.assertEqual(r.path, "/v1/items/a%20b?n=9")
        self.assertEqual(r.headers.get("X-N"), "9")
        key = r.headers.get("Idempotency-Key")
        self.assertEqual(r.body, ('{"data":{"p":%s},"key":"%s"}'
                                  % (crm(9, "a b"), key)).encode())

    def test_dead_letter_and_log_show_url(self):
        dest = self.start_destination(
            func=lambda i, r: 400 if "bad" in r.path else 200)
        sl = self.start_sluice({"rest_users": rest_connector(dest.url)})
        self.post_ok(sl, "rest_users", "[%s,%s]" % (user('"good"'),
                                                     user('"bad one"')), 2)
        wait_until(lambda: sl.dlq_list("rest_users"), 10, msg="a dead letter")
        entries = sl.dlq_list("rest_users")
        self.assertEqual(len(entries), 1, entries)
        e = entries[0]
        want = dest.url + "/v1/users/bad%20one"
        self.assertEqual(e["url"], want)
        self.assertEqual(e["status"], 400)
        self.assertEqual(e["record"]["id"], "bad one")
        rc, out, err = sl.cli("dlq", "show", "rest_users", str(e["id"]))
        self.assertEqual(rc, 0, err)
        self.assertIn("url            %s\n" % want, out)
        rc, out, err = sl.cli("dlq", "list", "rest_users")
        self.assertEqual(rc, 0, err)
        self.assertIn(" URL ", out)
        self.assertIn(dest.url + "/v1/use", out)
        msgs = [m.get("msg", "") for m in sl.log_lines()]
        self.assertTrue(any("to " + want + ": HTTP 400" in m for m in msgs),
                        msgs)
        self.assertTrue(any("to " + want + ": 1 record to the dead letters"
                            in m for m in msgs), msgs)
        self.assertIn("/v1/users/good", [r.path for r in dest.requests()])

    def test_intake_refuses_header_injection_and_empty_segment(self):
        dest = self.start_destination()
        sl = self.start_sluice({"rest_users": rest_connector(dest.url)})
        bad = [user('"x"', '"acme\\r\\nX-Evil: 1"'), user('"x"', '"a\\tb"'),
               user('"x"', '"a\\u007fb"'), user('""'), user('".."'),
               user('"."'), user('"ok"')]
        st, js, _ = sl.post("rest_users", "[%s]" % ",".join(bad))
        self.assertEqual(st, 200, sl.last_raw)
        self.assertEqual(js["accepted"], 1, js)
        rej = [(r["index"], r["field"], r["error"]) for r in js["rejected"]]
        ctl = ("has a control character (CR, LF, tab, ...), which cannot go "
               "in header \"X-Tenant\"")
        self.assertEqual(rej, [
            (0, "tenant", ctl), (1, "tenant", ctl), (2, "tenant", ctl),
            (3, "id", "is empty, but is a path segment of the URL"),
            (4, "id", 'is "..", but a path segment of the URL cannot be "." '
             'or ".."'),
            (5, "id", 'is ".", but a path segment of the URL cannot be "." '
             'or ".."')])
        r = dest.wait_requests(1)[0]
        self.assertEqual(r.path, "/v1/users/ok")
        for h, v in r.headers.items():
            self.assertNotIn("Evil", h)

    def test_send_time_dead_letters_what_an_older_config_let_in(self):
        # Records taken while the header had no placeholder (and the
        # destination was down) meet one after a restart: the bad one is
        # dead-lettered with the reason, the others go.
        port = free_port()
        dest_url = "http://127.0.0.1:%d" % port
        old = rest_connector(dest_url).replace('"{tenant}"', '"static"')
        sl = self.start_sluice({"rest_users": old})
        self.post_ok(sl, "rest_users", "[%s,%s]" % (
            user('"u1"', '"evil\\nX-Evil: 1"'), user('"u2"')), 2)
        # and a run of them: dead-lettered one by one from the event loop
        self.post_ok(sl, "rest_users", "[%s]" % ",".join(
            user('"r%d"' % i, '"\\t"') for i in range(200)), 200)
        self.assertEqual(sl.sigterm()[0], 0)
        dest = self.start_destination(port=port)
        sl.connectors["rest_users"] = rest_connector(dest_url)
        sl.write()
        sl.start()
        wait_until(lambda: len(sl.dlq_list("rest_users")) == 201, 60,
                   msg="201 dead letters")
        e = sl.dlq_list("rest_users")[0]
        self.assertEqual(e["record"]["id"], "u1")
        self.assertEqual(e["reason"], 'field "tenant": has a control character '
                         '(CR, LF, tab, ...), which cannot go in header '
                         '"X-Tenant"')
        self.assertEqual(e["status"], 0)
        self.assertNotIn("url", e)  # no request was made
        wait_until(lambda: any(r.path == "/v1/users/u2" and r.ok
                               for r in dest.requests()), 15, msg="u2 sent")
        self.assertEqual([r.path for r in dest.requests()], ["/v1/users/u2"])
        self.assertEqual(sorted(x["record"]["id"] for x in
                                sl.dlq_list("rest_users")[1:]),
                         sorted("r%d" % i for i in range(200)))
        self.assertTrue(sl.alive())


class PlaceholderConfigErrorTest(SluiceTestCase):
    """Every configuration error of placeholders, as `sluice check` says
    it (connector_lua puts url on line 3, headers on line 5)."""

    def check_error(self, url, want, body="object", headers=None,
                    schema=None):
        sl = self.make_sluice({"c": connector_lua(
            "c", url, schema=schema or CRM, body=body, headers=headers)})
        rc, out, err = sl.check()
        self.assertNotEqual(rc, 0, out)
        self.assertIn("connectors/c.lua:" + want, err)
        return err

    def test_url_errors(self):
        base = "http://127.0.0.1:9"  # 18 bytes
        cases = [
            ("/v1/{id", "3: url: position 22: '{' without a closing '}'"),
            ("/v1/{id{n}}", "3: url: position 22: '{' without a closing '}'"),
            ("/v1/id}", "3: url: position 24: '}' without an opening '{'"),
            ("/v1/{}", "3: url: position 22: empty placeholder '{}'"),
            ("/v1/{a:b}", "3: url: position 22: '{a:b}' is not a placeholder "
             "(a field name of letters, digits, '_', '-' and '.')"),
            ("/v1/{nope}", "3: url: position 22: {nope}: no such field in the "
             "schema (placeholders name top-level fields)"),
            ("/v1/{note}", "3: url: position 22: {note}: the field is "
             "nullable; a placeholder needs a value in every record"),
            ("/v1/{amount}", "3: url: position 22: {amount}: a number field; "
             "placeholders take string, integer or date fields"),
            ("/v1/{ok}", "3: url: position 22: {ok}: a boolean field; "
             "placeholders take string, integer or date fields"),
            ("/" + "{id}" * 17, "3: url: position 83: more than 16 "
             "placeholders"),
        ]
        for path, want in cases:
            with self.subTest(path=path):
                self.check_error(base + path, want)
        with self.subTest("host"):
            self.check_error("http://{id}.example.com/v1", "3: url: position "
                             "7: placeholder {id} in the scheme, host or "
                             "port; placeholders go in the path or the query")
        with self.subTest("port"):
            self.check_error("http://127.0.0.1:{id}/v1", "3: url: position "
                             "17: placeholder {id} in the scheme, host or "
                             "port; placeholders go in the path or the query")
        for form in ("array", "ndjson"):
            with self.subTest(form=form):
                self.check_error(base + "/v1/{id}", "3: url: placeholder {id} "
                                 "needs body = \"object\" (one request per "
                                 "record)", body=form)

    def test_header_errors(self):
        base = "http://127.0.0.1:9/v1"
        self.check_error(base, '5: headers["X-A"]: position 2: {nope}: no '
                         'such field in the schema (placeholders name '
                         'top-level fields)', headers={"X-A": "a {nope}"})
        self.check_error(base, '5: headers["X-A"]: position 0: {note}: the '
                         'field is nullable; a placeholder needs a value in '
                         'every record', headers={"X-A": "{note}"})
        self.check_error(base, '5: headers["X-A"]: position 0: {amount}: a '
                         'number field; placeholders take string, integer or '
                         'date fields', headers={"X-A": "{amount}"})
        self.check_error(base, '5: headers["X-A"]: placeholder {id} needs '
                         'body = "object" (one request per record)',
                         headers={"X-A": "{id}"}, body="array")

    def test_braces_that_are_not_placeholders_pass(self):
        # header values: a brace that is not {name} is text (JSON, {}, ...)
        sl = self.make_sluice({"c": connector_lua(
            "c", "http://127.0.0.1:9/v1", schema=CRM, body="array",
            headers={"X-Meta": "{\"a\": {}} { id } }{"})})
        rc, out, err = sl.check()
        self.assertEqual(rc, 0, err)
        sl = self.make_sluice({"c": connector_lua(
            "c", "http://127.0.0.1:9/v1/{id}/{email}?d={day}", schema=CRM,
            body="object", headers={"X-E": "<{email}>"})})
        rc, out, err = sl.check()
        self.assertEqual(rc, 0, err)


if __name__ == "__main__":
    unittest.main()
