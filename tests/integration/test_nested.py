"""Nested types through the real binary: object, array and json fields
accepted and delivered compact and in schema order at every level
(byte-exact bodies), rejected with the path of the offending value, item
counts at and past their edges, the unknown-field policies below the
record, a transform that builds nested values, hostile input (nesting past
limits.depth, huge arrays), and every configuration error of the nested
keys with its message."""

import json
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sluice_it import (LuaRaw, SluiceTestCase, connector_lua,  # noqa: E402
                       wait_until)

ORDER_SCHEMA = [
    {"name": "id", "type": "string"},
    {"name": "address", "type": "object", "fields": [
        {"name": "street", "type": "string"},
        {"name": "zip", "type": "string"},
        {"name": "city", "type": "string", "nullable": True},
    ]},
    {"name": "lines", "type": "array", "min_items": 1, "max_items": 3,
     "items": {"type": "object", "fields": [
         {"name": "sku", "type": "string"},
         {"name": "qty", "type": "integer"},
         {"name": "dims", "type": "object", "nullable": True, "fields": [
             {"name": "w", "type": "number"},
         ]},
     ]}},
    {"name": "tags", "type": "array", "nullable": True,
     "items": {"type": "string", "nullable": True}},
    {"name": "meta", "type": "json", "nullable": True},
]

# shuffled keys at every level, whitespace everywhere
IN_1 = ('{ "meta" : { "b" : [ 1 , 2.50 , -0.0e+1 , "x \\u00e9 y" , { } ,'
        ' [ ] , null , true ] , "a" : false } ,\n "lines" : [ { "qty" : 2 ,'
        ' "sku" : "A-1" , "dims" : { "w" : 1.5 } } , { "sku" : "B" ,'
        ' "qty" : -1 } ] ,\t"address" : { "zip" : "10115" , "street" :'
        ' "Main St 1" } , "id" : "o-1" , "tags" : [ "red" , null ] }')
OUT_1 = ('{"id":"o-1","address":{"street":"Main St 1","zip":"10115",'
         '"city":null},"lines":[{"sku":"A-1","qty":2,"dims":{"w":1.5}},'
         '{"sku":"B","qty":-1,"dims":null}],"tags":["red",null],'
         '"meta":{"b":[1,2.50,-0.0e+1,"x \\u00e9 y",{},[],null,true],'
         '"a":false}}')
# already compact and in schema order: the same bytes
IN_2 = ('{"id":"o-2","address":{"street":"s","zip":"z","city":"c"},'
        '"lines":[{"sku":"k","qty":1,"dims":null}],"tags":[],"meta":"x"}')


# docs/connectors.md, "Nested types": the schema, a record and what is sent
DOC_SCHEMA = LuaRaw("""{
  { name = "order_id", type = "string" },
  { name = "placed_at", type = "datetime" },
  { name = "address", type = "object", fields = {
      { name = "street", type = "string" },
      { name = "zip", type = "string" },
      { name = "city", type = "string" },
      { name = "country", type = "string", nullable = true },
  } },
  { name = "lines", type = "array", min_items = 1, max_items = 100,
    items = { type = "object", fields = {
      { name = "sku", type = "string" },
      { name = "qty", type = "integer" },
      { name = "price", type = "number" },
      { name = "tags", type = "array", nullable = true,
        items = { type = "string" } },
    } } },
  { name = "attributes", type = "json", nullable = true },
}""")
DOC_IN = """{ "lines": [ { "qty": 2, "sku": "A-1", "price": 9.90 },
             { "sku": "B-7", "price": 4.5, "qty": 1, "tags": ["gift"] } ],
  "address": { "zip": "10115", "street": "Main St 1", "city": "Berlin" },
  "order_id": "o-1001", "placed_at": "2024-05-01T12:30:00Z",
  "attributes": { "channel" : "web", "coupon" : null } }"""
DOC_OUT = ('{"order_id":"o-1001","placed_at":"2024-05-01T12:30:00Z","address":'
           '{"street":"Main St 1","zip":"10115","city":"Berlin","country":null},'
           '"lines":[{"sku":"A-1","qty":2,"price":9.90,"tags":null},{"sku":'
           '"B-7","qty":1,"price":4.5,"tags":["gift"]}],"attributes":'
           '{"channel":"web","coupon":null}}')


def order(**over):
    """A valid order as a Python dict, `over` replacing top-level keys."""
    rec = {"id": "o", "address": {"street": "s", "zip": "z"},
           "lines": [{"sku": "k", "qty": 1}]}
    rec.update(over)
    return rec


class NestedTest(SluiceTestCase):

    def setUp(self):
        self.dest = self.start_destination()
        self.sl = self.start_sluice({
            "orders": connector_lua("orders", self.dest.url + "/orders",
                                    schema=ORDER_SCHEMA,
                                    batch={"max_records": 2,
                                           "max_delay_ms": 300},
                                    concurrency=1),
            "dropper": connector_lua("dropper", self.dest.url + "/drop",
                                     schema=ORDER_SCHEMA, body="ndjson",
                                     unknown_fields="drop",
                                     batch={"max_delay_ms": 20}),
        })

    def bodies(self, path):
        return [r.body for r in self.dest.ok_requests() if r.path == path]

    def reject(self, rec, field, error, name="orders"):
        body = rec if isinstance(rec, str) else json.dumps(rec)
        st, js, _ = self.sl.post(name, body)
        self.assertEqual(st, 422, "%s -> %r" % (body, self.sl.last_raw))
        rej = js["rejected"]
        self.assertEqual(len(rej), 1, js)
        self.assertEqual((rej[0]["field"], rej[0]["error"]), (field, error),
                         body)

    def test_encoded_compact_in_schema_order(self):
        st, js, _ = self.sl.post("orders", "[" + IN_1 + ",\n" + IN_2 + "]")
        self.assertEqual((st, js), (200, {"accepted": 2, "rejected": []}))
        self.sl.wait_drained("orders", 2)
        want = ("[" + OUT_1 + "," + IN_2 + "]").encode()
        self.assertEqual(self.bodies("/orders"), [want])

    def test_rejections_name_the_path(self):
        cases = [
            (order(address={"street": "s", "zip": 10115}), "address.zip",
             "expected string, got number"),
            (order(address={"street": "s"}), "address.zip",
             "required field is missing"),
            (order(address={"street": "s", "zip": "z", "x": 1}), "address.x",
             "unknown field (not in the schema)"),
            (order(lines=[{"sku": "a", "qty": 1}, {"sku": "b", "qty": 1},
                          {"qty": 1}]),
             "lines[2].sku", "required field is missing"),
            (order(lines=[{"sku": "a", "qty": 1, "dims": {"w": "wide"}}]),
             "lines[0].dims.w", "expected number, got string"),
            (order(lines=[{"sku": "a", "qty": 1, "dims": {}}]),
             "lines[0].dims.w", "required field is missing"),
            (order(lines=[{"sku": "a", "qty": 1.5}]), "lines[0].qty",
             "expected integer, got number 1.5"),
            (order(tags=["a", 7]), "tags[1]", "expected string, got number"),
            (order(address=None), "address", "null is not allowed"),
            (order(lines={"sku": "a"}), "lines", "expected array, got object"),
            (order(lines=["a"]), "lines[0]", "expected object, got string"),
        ]
        for rec, field, error in cases:
            with self.subTest(field=field, error=error):
                self.reject(rec, field, error)
        # a sibling of a rejected record is delivered
        st, js, _ = self.sl.post("orders", json.dumps(
            [order(id="bad", address={"zip": 1}), order(id="good")]))
        self.assertEqual(st, 200, js)
        self.assertEqual(js["accepted"], 1)
        self.assertEqual(js["rejected"][0]["field"], "address.zip")
        self.sl.wait_drained("orders", 1)
        recs = [r for r in self.dest.records() if r.get("id")]
        self.assertEqual([r["id"] for r in recs], ["good"])

    def test_item_counts_at_and_past_the_edges(self):
        one = {"sku": "k", "qty": 1}
        self.reject(order(lines=[]), "lines",
                    "0 items, fewer than min_items (1)")
        self.reject(order(lines=[one] * 4), "lines",
                    "4 items, more than max_items (3)")
        self.reject(order(lines=[one] * 1000), "lines",
                    "1000 items, more than max_items (3)")
        for n in (1, 3):
            st, js, _ = self.sl.post("orders", json.dumps(
                order(id="n%d" % n, lines=[one] * n)))
            self.assertEqual((st, js["accepted"]), (200, 1), js)
        self.sl.wait_drained("orders", 2)
        got = {r["id"]: len(r["lines"]) for r in self.dest.records()}
        self.assertEqual(got, {"n1": 1, "n3": 3})

    def test_json_passthrough(self):
        metas = [
            ('  7  ', '7'),
            ('"a\\"b\\\\ \\ud83d\\ude00"', '"a\\"b\\\\ \\ud83d\\ude00"'),
            ('[ 1e400 , 123456789012345678901234567890 , -0 ]',
             '[1e400,123456789012345678901234567890,-0]'),
            ('{ "z" : { "y" : { "x" : [ [ [ ] ] ] } } }',
             '{"z":{"y":{"x":[[[]]]}}}'),
        ]
        for i, (raw, compact) in enumerate(metas):
            rec = ('{"id":"j%d","address":{"street":"s","zip":"z"},'
                   '"lines":[{"sku":"k","qty":1}],"meta": %s }' % (i, raw))
            st, js, _ = self.sl.post("dropper", rec)
            self.assertEqual((st, js["accepted"]), (200, 1), js)
        self.sl.wait_drained("dropper", len(metas))
        raws = [x for b in self.bodies("/drop") for x in b.split(b"\n") if x]
        got = {json.loads(x)["id"]: x for x in raws}
        for i, (raw, compact) in enumerate(metas):
            self.assertEqual(got["j%d" % i], (
                '{"id":"j%d","address":{"street":"s","zip":"z","city":null},'
                '"lines":[{"sku":"k","qty":1,"dims":null}],"tags":null,'
                '"meta":%s}' % (i, compact)).encode())

    def test_unknown_fields_dropped_at_every_level(self):
        rec = ('{"x":{"deep":[1]},"id":"d","address":{"street":"s","y":[1,{}],'
               '"zip":"z"},"lines":[{"sku":"k","z":null,"qty":1,"dims":'
               '{"w":2,"h":3}}]}')
        st, js, _ = self.sl.post("dropper", rec)
        self.assertEqual((st, js["accepted"]), (200, 1), js)
        self.sl.wait_drained("dropper", 1)
        self.assertEqual(self.bodies("/drop"), [
            b'{"id":"d","address":{"street":"s","zip":"z","city":null},'
            b'"lines":[{"sku":"k","qty":1,"dims":{"w":2}}],"tags":null,'
            b'"meta":null}\n'])
        # and rejected at every level under reject
        self.reject(order(lines=[{"sku": "k", "qty": 1,
                                  "dims": {"w": 1, "h": 2}}]),
                    "lines[0].dims.h", "unknown field (not in the schema)")

    def test_hostile_input(self):
        # nesting past limits.depth (32): malformed JSON, the whole body
        deep = "[" * 40 + "]" * 40
        rec = ('{"id":"h","address":{"street":"s","zip":"z"},'
               '"lines":[{"sku":"k","qty":1}],"meta":%s}' % deep)
        st, js, _ = self.sl.post("orders", rec)
        self.assertEqual(st, 400, self.sl.last_raw)
        # a huge array: counted past max_items without being kept
        rec = json.dumps(order(lines=[{"sku": "k", "qty": 1}] * 100000))
        self.reject(rec, "lines", "100000 items, more than max_items (3)")
        # a huge array without a limit is fine within limits.record_bytes
        tags = ["t"] * 200000
        st, js, _ = self.sl.post("dropper", json.dumps(order(id="big",
                                                             tags=tags)))
        self.assertEqual((st, js["accepted"]), (200, 1), js)
        self.sl.wait_drained("dropper", 1)
        raw = b"".join(self.bodies("/drop"))
        self.assertEqual(json.loads(raw)["tags"], tags)
        # one past limits.record_bytes (1 MiB): rejected as a whole
        tags = ["x" * 100] * 11000
        st, js, _ = self.sl.post("dropper", json.dumps(order(tags=tags)))
        self.assertEqual(st, 422, js)
        self.assertIn("more than limits.record_bytes", js["rejected"][0]["error"])


TRANSFORM = """function(rec, ctx)
    local lines = {}
    for sku, qty in string.gmatch(rec.items, "(%w+):(%d+)") do
      lines[#lines + 1] = { sku = sku, qty = math.tointeger(tonumber(qty)) }
    end
    return {
      id = rec.id,
      address = { zip = rec.zip, street = rec.street, city = sluice.json.null },
      lines = lines,
      tags = rec.tags or sluice.json.empty_array,
      meta = { source = "transform", empty = setmetatable({}, sluice.json.array_mt),
               obj = {} },
    }
  end"""


class NestedTransformTest(SluiceTestCase):

    def test_documented_order(self):
        dest = self.start_destination()
        src = connector_lua("shop", dest.url + "/shop", body="ndjson",
                            batch={"max_delay_ms": 20})
        # the documented schema, verbatim
        start = src.index("  schema = ")
        end = src.index("\n  body = ")
        src = src[:start] + "  schema = " + DOC_SCHEMA.src + "," + src[end:]
        sl = self.start_sluice({"shop": src})
        st, js, _ = sl.post("shop", DOC_IN)
        self.assertEqual((st, js), (200, {"accepted": 1, "rejected": []}))
        sl.wait_drained("shop", 1)
        self.assertEqual(dest.ok_requests()[0].body, DOC_OUT.encode() + b"\n")
        doc = json.loads(DOC_IN)
        doc["lines"] = doc["lines"] * 2
        doc["lines"][3] = dict(doc["lines"][3], qty="1")
        st, js, _ = sl.post("shop", json.dumps(doc))
        self.assertEqual(js["rejected"][0]["field"], "lines[3].qty")
        self.assertEqual(js["rejected"][0]["error"],
                         "expected integer, got string")

    def test_transform_builds_nested_values(self):
        dest = self.start_destination()
        sl = self.start_sluice({"xf": connector_lua(
            "xf", dest.url + "/xf", schema=ORDER_SCHEMA, body="ndjson",
            batch={"max_delay_ms": 20}, concurrency=1,
            extra={"transform": LuaRaw(TRANSFORM)})})
        st, js, _ = sl.post("xf", json.dumps(
            {"id": "t1", "zip": "z", "street": "s", "items": "a:1 b:2"}))
        self.assertEqual((st, js["accepted"]), (200, 1), js)
        sl.wait_drained("xf", 1)
        # an empty array read from a record stays an array through Lua
        st, js, _ = sl.post("xf", json.dumps(
            {"id": "t2", "zip": "z", "street": "s", "items": "c:3",
             "tags": []}))
        self.assertEqual((st, js["accepted"]), (200, 1), js)
        sl.wait_drained("xf", 2)
        # the transform's lines may fail the schema, named by path
        st, js, _ = sl.post("xf", json.dumps(
            {"id": "t3", "zip": "z", "street": "s", "items": ""}))
        self.assertEqual(st, 422, js)
        self.assertEqual(js["rejected"][0]["field"], "lines")
        body = b"".join(r.body for r in dest.ok_requests())
        lines = body.split(b"\n")
        # meta is a Lua table written in Lua's order: compared parsed
        self.assertTrue(lines[0].startswith(
            b'{"id":"t1","address":{"street":"s","zip":"z","city":null},'
            b'"lines":[{"sku":"a","qty":1,"dims":null},{"sku":"b","qty":2,'
            b'"dims":null}],"tags":[],"meta":{'), lines[0])
        recs = [json.loads(x) for x in lines if x]
        self.assertEqual(recs[0]["meta"], {"source": "transform", "empty": [],
                                           "obj": {}})
        self.assertEqual(recs[1]["tags"], [])
        self.assertEqual(recs[1]["lines"], [{"sku": "c", "qty": 3,
                                             "dims": None}])


class NestedRulesTest(SluiceTestCase):

    def test_constraints_on_nested_fields_and_items(self):
        dest = self.start_destination()
        schema = [
            {"name": "address", "type": "object", "fields": [
                {"name": "country", "type": "string", "enum": ["DE", "FR"]},
            ]},
            {"name": "lines", "type": "array", "items": {
                "type": "object", "fields": [
                    {"name": "qty", "type": "integer", "min": 1, "max": 99},
                ]}},
            {"name": "codes", "type": "array", "items": {
                "type": "string", "max_length": 3}},
        ]
        sl = self.start_sluice({"r": connector_lua(
            "r", dest.url + "/r", schema=schema, body="ndjson",
            batch={"max_delay_ms": 20})})
        ok = {"address": {"country": "DE"}, "lines": [{"qty": 1}, {"qty": 99}],
              "codes": ["abc", "é"]}
        st, js, _ = sl.post("r", json.dumps(ok))
        self.assertEqual((st, js["accepted"]), (200, 1), js)
        sl.wait_drained("r", 1)
        bad = [
            (dict(ok, address={"country": "IT"}), "address.country",
             '"IT" is not one of the enum values ("DE", "FR")'),
            (dict(ok, lines=[{"qty": 1}, {"qty": 0}]), "lines[1].qty",
             "0 is less than min (1)"),
            (dict(ok, codes=["abc", "abcd"]), "codes[1]", None),
        ]
        for rec, field, error in bad:
            with self.subTest(field=field):
                st, js, _ = sl.post("r", json.dumps(rec))
                self.assertEqual(st, 422, js)
                self.assertEqual(js["rejected"][0]["field"], field)
                if error:
                    self.assertEqual(js["rejected"][0]["error"], error)
                else:
                    self.assertIn("max_length", js["rejected"][0]["error"])
        # a rule for another type, in items, is refused at its key
        sl2 = self.make_sluice({"x": connector_lua(
            "x", "http://127.0.0.1:9/x", schema=[
                {"name": "a", "type": "array", "items": {
                    "type": "integer", "enum": ["x"]}}])})
        rc, out, err = sl2.check()
        self.assertNotEqual(rc, 0)
        self.assertIn('schema[1].items.enum: only for type = "string" (this '
                      'field is integer)', err)


def nest(depth):
    """A field nested `depth` objects deep (depth 1: an object of a leaf)."""
    f = {"name": "leaf", "type": "string"}
    for _ in range(depth):
        f = {"name": "o", "type": "object", "fields": [f]}
    return f


class NestedConfigTest(SluiceTestCase):

    def errors(self, schema):
        dest_url = "http://127.0.0.1:9/x"
        sl = self.make_sluice({"crm": connector_lua("crm", dest_url,
                                                    schema=schema)})
        rc, out, err = sl.check()
        self.assertNotEqual(rc, 0, out)
        return err

    def test_each_message(self):
        ok = {"name": "id", "type": "string"}
        cases = [
            ([{"name": "a", "type": "string", "fields": [ok]}],
             'schema[1].fields: fields is only for type = "object" (this '
             'field is string)'),
            ([ok, {"name": "a", "type": "object"}],
             'schema[2].type: type = "object" needs fields'),
            ([ok, {"name": "a", "type": "array"}],
             'schema[2].type: type = "array" needs items'),
            ([{"name": "a", "type": "object", "fields": [ok],
               "items": {"type": "string"}}],
             'schema[1].items: items is only for type = "array" (this field '
             'is object)'),
            ([{"name": "a", "type": "string", "min_items": 1}],
             'schema[1].min_items: min_items is only for type = "array"'),
            ([ok, {"name": "a", "type": "array", "items": {"type": "string"},
                   "min_items": 5, "max_items": 3}],
             'schema[2].min_items: 5 is greater than max_items (3)'),
            ([{"name": "a", "type": "array", "items": {"type": "string"},
               "max_items": 0}],
             'schema[1].max_items: expected an integer from 1 to 1000000000,'
             ' got number 0'),
            ([ok, {"name": "a", "type": "object", "fields": [
                ok, {"name": "b", "type": "strng"}]}],
             'schema[2].fields[2].type: unknown type "strng" (did you mean '
             '"string"?'),
            ([ok, {"name": "a", "type": "object", "fields": [ok, ok]}],
             'schema[2].fields[2].name: duplicate field "id"'),
            ([{"name": "a", "type": "object", "fields": []}],
             'schema[1].fields: must list at least one field'),
            ([{"name": "a", "type": "array", "items": {
                "type": "object", "feilds": [ok]}}],
             'schema[1].items.feilds: unknown key (did you mean "fields"?)'),
            ([{"name": "a", "type": "array", "items": {
                "type": "object", "name": "x", "fields": [ok]}}],
             'schema[1].items.name: unknown key'),
            ([{"name": "a", "type": "array", "items": {
                "type": "array", "items": {"type": "object"}}}],
             'schema[1].items.items.type: type = "object" needs fields'),
            ([nest(9)],
             "schema[1]" + ".fields[1]" * 8 + ".fields: nesting deeper than "
             "8 levels"),
        ]
        for schema, msg in cases:
            with self.subTest(msg=msg):
                self.assertIn(msg, self.errors(schema))

    def test_schema_lock_names_a_nested_change(self):
        src = lambda schema: connector_lua(  # noqa: E731
            "orders", "http://127.0.0.1:9/x", schema=schema)
        sl = self.start_sluice({"orders": src(ORDER_SCHEMA)})
        lock = os.path.join(sl.state_dir("orders"), "schema.lock")
        with open(lock) as f:
            text = f.read()
        self.assertIn("field address object not-null\n  parts {street string "
                      "not-null, zip string not-null, city string nullable}\n",
                      text)
        self.assertEqual(sl.sigterm()[0], 0)
        self.assertEqual(sl.check()[0], 0)
        changed = json.loads(json.dumps(ORDER_SCHEMA))
        changed[2]["items"]["fields"][1]["type"] = "number"
        sl.connectors["orders"] = src(changed)
        sl.write()
        rc, out, err = sl.check()
        self.assertEqual(rc, 2, err)
        self.assertIn('field "lines": was [1..3 object not-null {sku string '
                      'not-null, qty integer not-null, dims object nullable '
                      '{w number not-null}}], now [1..3 object not-null {sku '
                      'string not-null, qty number not-null, dims object '
                      'nullable {w number not-null}}]', err)

    def test_check_shows_the_parts(self):
        sl = self.make_sluice({"orders": connector_lua(
            "orders", "http://127.0.0.1:9/x", schema=ORDER_SCHEMA)})
        rc, out, err = sl.check()
        self.assertEqual(rc, 0, err)
        self.assertIn("    address  object    no\n"
                      "             {street string not-null, zip string "
                      "not-null, city string nullable}\n", out)
        self.assertIn("    lines    array     no\n"
                      "             [1..3 object not-null {sku string "
                      "not-null, qty integer not-null, dims object nullable "
                      "{w number not-null}}]\n", out)
        self.assertIn("    meta     json      yes\n", out)

    def test_eight_levels_and_duplicates_across_levels_are_fine(self):
        dest = self.start_destination()
        schema = [nest(8), {"name": "leaf", "type": "integer"}]
        sl = self.start_sluice({"deep": connector_lua(
            "deep", dest.url + "/deep", schema=schema, body="ndjson",
            batch={"max_delay_ms": 20})})
        inner = {"leaf": "x"}
        for _ in range(8):
            inner = {"o": inner}
        inner["leaf"] = 5
        st, js, _ = sl.post("deep", json.dumps(inner))
        self.assertEqual((st, js["accepted"]), (200, 1), js)
        sl.wait_drained("deep", 1)
        self.assertEqual(dest.ok_requests()[0].body,
                         json.dumps(inner, separators=(",", ":")).encode() +
                         b"\n")
        bad = {"leaf": 2}
        for _ in range(8):
            bad = {"o": bad}
        bad["leaf"] = 3
        st, js, _ = sl.post("deep", json.dumps(bad))
        self.assertEqual(st, 422, js)
        self.assertEqual(js["rejected"][0]["field"], ".".join(["o"] * 8) +
                         ".leaf")
        self.assertEqual(js["rejected"][0]["error"],
                         "expected string, got number")


if __name__ == "__main__":
    unittest.main(verbosity=2)
