"""`sluice check` shows each field's rules and, per connector, the request
one made-up record becomes: method, URL with its placeholders filled, the headers every
attempt carries (secrets masked), Content-Length, and the body. The text
is checked byte for byte against what these tests work out from the
connector by hand, and against what a running gateway really sends for
the same record to a local destination."""

import gzip
import json
import os
import re
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sluice_it import (SOURCE_DIR, LuaRaw, SluiceTestCase,  # noqa: E402
                       connector_lua)

SECRET = "Bearer pr3view-s3cret"

ORDER = [
    {"name": "id", "type": "integer", "min": 10},
    {"name": "status", "type": "string", "enum": ["new", "done"]},
    {"name": "code", "type": "string", "max_length": 3},
    {"name": "sku", "type": "string", "min_length": 8},
    {"name": "price", "type": "number", "min": 2.25, "max": 9},
    {"name": "qty", "type": "integer", "max": -5},
    {"name": "paid", "type": "boolean", "nullable": True},
    {"name": "day", "type": "date"},
    {"name": "at", "type": "datetime"},
    {"name": "address", "type": "object", "fields": [
        {"name": "zip", "type": "string"},
        {"name": "geo", "type": "object", "fields": [
            {"name": "lat", "type": "number"}]}]},
    {"name": "lines", "type": "array", "min_items": 2, "items": {
        "type": "object", "fields": [{"name": "n", "type": "integer"}]}},
    {"name": "tags", "type": "array", "items": {"type": "string"}},
    {"name": "extra", "type": "json", "nullable": True},
]

# what sl_schema_sample makes of ORDER, in schema order
ORDER_RECORD = (
    '{"id":10,"status":"new","code":"cod","sku":"sku-1xxx","price":2.25,'
    '"qty":-5,"paid":true,"day":"2026-01-31","at":"2026-01-31T12:00:00Z",'
    '"address":{"zip":"zip-1","geo":{"lat":1.5}},'
    '"lines":[{"n":1},{"n":1}],"tags":["tags-1"],"extra":{}}')


def example(out, name):
    """The example request block of connector `name` in check's output:
    its lines without the four-space indent."""
    block = out.split("\nconnector %s (" % name, 1)[1]
    block = block.split("\nconnector ", 1)[0]
    head = "  example request (a record made up from the schema; nothing " \
           "is sent)\n"
    assert head in block, block
    body = block.split(head, 1)[1]
    lines = []
    for line in body.split("\n"):
        if not line.startswith("    ") and line != "":
            break
        lines.append(line[4:])
    while lines and lines[-1] == "":
        lines.pop()
    return lines


class PreviewTest(SluiceTestCase):

    def test_batch_templates_nested_and_rules(self):
        sl = self.make_sluice({"orders": connector_lua(
            "orders", "http://127.0.0.1:9/v1/orders", schema=ORDER,
            headers={"Authorization": SECRET, "X-Source": "sluice"},
            body={"form": "array", "template":
                  '{ "inputs": $records, "n": $count, "id": $batch_id }',
                  "record_template": '{"properties": $record}'})})
        rc, out, err = sl.check()
        self.assertEqual(rc, 0, err)
        key = "orders-0000000000000000-0-1"
        body = ('{"inputs":[{"properties":%s}],"n":1,"id":"%s"}'
                % (ORDER_RECORD, key))
        self.assertEqual(example(out, "orders"), [
            "POST http://127.0.0.1:9/v1/orders",
            "Content-Type: application/json",
            "Idempotency-Key: " + key,
            "Authorization: ****",
            "X-Source: sluice",
            "Content-Length: %d" % len(body),
            "",
            body])
        self.assertNotIn("pr3view", out + err)
        json.loads(body)
        # the schema table shows each field's rules
        for row in (r"id\s+integer\s+no\s+min 10$",
                    r'status\s+string\s+no\s+enum "new", "done"$',
                    r"code\s+string\s+no\s+max_length 3$",
                    r"sku\s+string\s+no\s+min_length 8$",
                    r"price\s+number\s+no\s+min 2.25; max 9$",
                    r"qty\s+integer\s+no\s+max -5$",
                    r"paid\s+boolean\s+yes$"):
            self.assertRegex(out, "(?m)^    " + row)

    def test_ndjson_and_headers_fn_note(self):
        schema = [{"name": "id", "type": "integer"},
                  {"name": "v", "type": "string", "nullable": True}]
        sl = self.make_sluice({"ev": connector_lua(
            "ev", "http://127.0.0.1:9/ev", schema=schema,
            body={"form": "ndjson", "record_template": '{"e": $record}'},
            extra={"idempotency_header": False,
                   "headers_fn": LuaRaw(
                       "function(req) return { [\"X-Sig\"] = 'x' } end")})})
        rc, out, err = sl.check()
        self.assertEqual(rc, 0, err)
        body = '{"e":{"id":1,"v":"v-1"}}'
        self.assertEqual(example(out, "ev"), [
            "POST http://127.0.0.1:9/ev",
            "Content-Type: application/x-ndjson",
            "Content-Length: %d" % (len(body) + 1),
            "(and what headers_fn returns for each attempt; not run here)",
            "",
            body])

    def test_rules_no_record_meets(self):
        # a placeholder's value may not be empty: max_length 0 leaves none
        schema = [{"name": "id", "type": "string", "max_length": 0}]
        sl = self.make_sluice({"r": connector_lua(
            "r", "http://127.0.0.1:9/u/{id}", schema=schema, body="object")})
        rc, out, err = sl.check()
        self.assertEqual(rc, 0, err)
        lines = example(out, "r")
        self.assertEqual(len(lines), 1, lines)
        self.assertRegex(lines[0], r"^\(no record could be made up: id: .*"
                                   r"empty.*\)$")

    def test_preview_is_what_is_sent(self):
        """The shipped REST connector with gzip: check's request is the one
        a running gateway sends for the same record."""
        dest = self.start_destination()
        with open(os.path.join(SOURCE_DIR, "conf", "connectors",
                               "rest_users.lua")) as f:
            src = f.read().replace("https://api.example.com", dest.url)
        src = src.replace("return {", "return {\n  compression = \"gzip\",",
                          1)
        sl = self.start_sluice({"rest_users": src})
        rc, out, err = sl.check()
        self.assertEqual(rc, 0, err)
        lines = example(out, "rest_users")
        method, url = lines[0].split(" ", 1)
        heads = lines[1:lines.index("")]
        body = lines[lines.index("") + 1]
        self.assertEqual(len(lines), lines.index("") + 2, lines)
        m = re.fullmatch(r"Content-Length: (\d+) \(gzip of the (\d+) bytes "
                         r"below\)", heads[-1])
        self.assertTrue(m, heads)
        self.assertEqual(int(m.group(2)), len(body.encode()))
        self.assertIn("Content-Encoding: gzip", heads)
        self.assertIn("Authorization: ****", heads)
        self.assertIn('\n  batch           one record per request (body form '
                      '"object")\n', out)

        st, js, _ = sl.post("rest_users", body)
        self.assertEqual((st, js["accepted"]), (200, 1), sl.last_raw)
        r = dest.wait_requests(1)[0]
        self.assertEqual(r.method, method)
        self.assertEqual(dest.url + r.path, url)
        self.assertEqual(gzip.decompress(r.body), body.encode())
        self.assertEqual(int(r.headers.get("Content-Length")), len(r.body))
        self.assertEqual(len(r.body), int(m.group(1)))
        for h in heads[:-1]:
            name, value = h.split(": ", 1)
            if value == "****":
                self.assertTrue(r.headers.get(name), name)
            elif name.lower() != "idempotency-key":  # a new spool's key
                self.assertEqual(r.headers.get(name), value, name)


if __name__ == "__main__":
    unittest.main()
