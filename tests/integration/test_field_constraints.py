"""Field constraints through the real binary: enum, min/max and
min_length/max_length at and past each edge over HTTP; the rejection a
client gets names the field and the rule; accepted records reach the
destination byte for byte (escapes as sent); rejected ones never do;
every misuse in a connector file is a configuration error at its line;
and rules may change across restarts without tripping the schema lock."""

import json
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sluice_it import (SluiceTestCase, connector_lua, run_check,  # noqa: E402
                       wait_until)

# A CRM contact: HubSpot's lifecycle stages, an order quantity, a price,
# a display name and an id beyond double precision.
STAGES = ["subscriber", "lead", "marketingqualifiedlead",
          "salesqualifiedlead", "opportunity", "customer", "evangelist",
          "other"]
SCHEMA = [
    {"name": "id", "type": "integer", "min": 1},
    {"name": "stage", "type": "string", "enum": STAGES},
    {"name": "quantity", "type": "integer", "min": 1, "max": 10000},
    {"name": "price", "type": "number", "nullable": True, "min": 0,
     "max": 100000},
    {"name": "name", "type": "string", "nullable": True, "min_length": 1,
     "max_length": 64},
    {"name": "ref", "type": "integer", "nullable": True,
     "max": 9007199254740992},
]


def rec(i, stage='"lead"', quantity="1", price="9.99", name='"Ada"',
        ref="null"):
    """A record's JSON text in schema order (so that its encoding is the
    same bytes); the values are raw JSON."""
    return ('{"id":%d,"stage":%s,"quantity":%s,"price":%s,"name":%s,'
            '"ref":%s}' % (i, stage, quantity, price, name, ref))


ACCEPTED = [
    dict(stage='"subscriber"'),
    dict(stage='"other"'),
    dict(stage='"l\\u0065ad"'),                  # escapes decode to "lead"
    dict(stage='"\\u0063ustomer"'),
    dict(quantity="1"),                           # min
    dict(quantity="10000"),                       # max
    dict(price="0"),                              # min
    dict(price="-0.0"),                           # -0 == 0
    dict(price="100000"),                         # max
    dict(price="1e5"),
    dict(price="null"),                           # nullable: rules skipped
    dict(name='"A"'),                             # min_length
    dict(name='"' + "n" * 64 + '"'),              # max_length
    dict(name='"' + "\u00e9" * 64 + '"'),         # 64 code points, 128 bytes
    dict(name='"' + "\\u00e9" * 64 + '"'),        # 64 escapes, one each
    dict(name='"' + "\\ud83d\\ude00" * 64 + '"'),  # 64 surrogate pairs
    dict(name="null"),
    dict(ref="9007199254740992"),                 # 2^53, exact
    dict(ref="-9223372036854775808"),
]

REJECTED = [
    (dict(stage='"pending"'), "stage",
     '"pending" is not one of the enum values ("subscriber", "lead", '
     '"marketingqualifiedlead", "salesqualifiedlead", "opportunity", '
     '"customer", "evangelist", "other")'),
    (dict(stage='"Lead"'), "stage", None),
    (dict(stage='""'), "stage", None),
    (dict(stage='"l\\u0065ads"'), "stage", None),
    (dict(quantity="0"), "quantity", "0 is less than min (1)"),
    (dict(quantity="10001"), "quantity", "10001 is greater than max (10000)"),
    (dict(quantity="-9223372036854775808"), "quantity",
     "-9223372036854775808 is less than min (1)"),
    (dict(price="-0.01"), "price", "-0.01 is less than min (0)"),
    (dict(price="1e9"), "price", "1e9 is greater than max (100000)"),
    (dict(price="100000.00000001"), "price",
     "100000.00000001 is greater than max (100000)"),
    (dict(name='""'), "name", "0 characters, fewer than min_length (1)"),
    (dict(name='"' + "n" * 65 + '"'), "name",
     "65 characters, more than max_length (64)"),
    (dict(name='"' + "n" * 70 + '"'), "name",
     "70 characters, more than max_length (64)"),
    (dict(name='"' + "\\u00e9" * 65 + '"'), "name",
     "65 characters, more than max_length (64)"),
    (dict(name='"' + "\\ud83d\\ude00" * 65 + '"'), "name",
     "65 characters, more than max_length (64)"),
    (dict(ref="9007199254740993"), "ref",
     "9007199254740993 is greater than max (9007199254740992)"),
    # the type is checked before the rules
    (dict(quantity="1.5"), "quantity", "expected integer, got number 1.5"),
    (dict(stage="3"), "stage", "expected string, got number"),
]


class FieldConstraintsTest(SluiceTestCase):

    def setUp(self):
        self.dest = self.start_destination()
        self.sl = self.start_sluice({
            "contacts": connector_lua("contacts", self.dest.url + "/c",
                                      schema=SCHEMA, body="ndjson",
                                      batch={"max_delay_ms": 20}),
        })

    def delivered(self):
        return [raw for r in self.dest.ok_requests() if r.path == "/c"
                for raw in r.raw_records()]

    def test_accepted_at_the_edges_arrive_byte_exact(self):
        recs = [rec(i + 1, **over) for i, over in enumerate(ACCEPTED)]
        st, js, _ = self.sl.post("contacts", "[" + ",".join(recs) + "]")
        self.assertEqual((st, js), (200, {"accepted": len(recs),
                                          "rejected": []}), self.sl.last_raw)
        wait_until(lambda: len(self.delivered()) == len(recs), 10,
                   msg="all accepted records delivered")
        got = sorted(self.delivered())
        self.assertEqual(got, sorted(r.encode() for r in recs))

    def test_rejections_name_the_field_and_the_rule(self):
        good = rec(1000)
        recs = [rec(2000 + i, **over) for i, (over, _, _) in
                enumerate(REJECTED)]
        body = "[" + ",".join(recs + [good]) + "]"
        st, js, _ = self.sl.post("contacts", body)
        self.assertEqual(st, 200, self.sl.last_raw)
        self.assertEqual(js["accepted"], 1, js)
        rej = js["rejected"]
        self.assertEqual([r["index"] for r in rej], list(range(len(REJECTED))),
                         js)
        for r, (over, field, error) in zip(rej, REJECTED):
            with self.subTest(over=over):
                self.assertEqual(r["field"], field, r)
                if error is None:
                    self.assertIn("is not one of the enum values", r["error"])
                else:
                    self.assertEqual(r["error"], error)
        wait_until(lambda: self.delivered() == [good.encode()], 10,
                   msg="only the good record delivered")
        # one alone: 422, the client sees the field and the rule
        st, js, _ = self.sl.post("contacts", rec(3000, quantity="0"))
        self.assertEqual(st, 422, self.sl.last_raw)
        self.assertEqual(js, {"accepted": 0, "rejected": [
            {"index": 0, "field": "quantity",
             "error": "0 is less than min (1)"}]})
        sentinel = rec(4000)
        self.assertEqual(self.sl.post("contacts", sentinel)[0], 200)
        wait_until(lambda: sentinel.encode() in self.delivered(), 10,
                   msg="sentinel delivered")
        self.assertEqual(sorted(self.delivered()),
                         sorted([good.encode(), sentinel.encode()]))
        stats = self.sl.stats("contacts")
        self.assertEqual(stats["rejected"], len(REJECTED) + 1)

    def test_ndjson_and_unknown_order_and_escaped_keys(self):
        # out of schema order and an escaped key: the rule still applies to
        # the field, and the encoding is in schema order
        line_ok = ('{"ref":null,"name":"Bo","price":1,"quantity":2,'
                   '"st\\u0061ge":"evangelist","id":5000}')
        line_bad = ('{"ref":null,"name":"Bo","price":1,"quantity":2,'
                    '"st\\u0061ge":"fan","id":5001}')
        st, js, _ = self.sl.post("contacts", line_ok + "\n" + line_bad + "\n",
                                 content_type="application/x-ndjson")
        self.assertEqual(st, 200, self.sl.last_raw)
        self.assertEqual(js["rejected"], [
            {"index": 1, "field": "stage",
             "error": '"fan" is not one of the enum values ("subscriber", '
                      '"lead", "marketingqualifiedlead", "salesqualifiedlead", '
                      '"opportunity", "customer", "evangelist", "other")'}])
        want = rec(5000, stage='"evangelist"', quantity="2", price="1",
                   name='"Bo"').encode()
        wait_until(lambda: self.delivered() == [want], 10,
                   msg="the good line delivered in schema order")

    def test_rules_change_across_restarts(self):
        first = rec(6000, quantity="50")
        self.assertEqual(self.sl.post("contacts", first)[0], 200)
        wait_until(lambda: self.delivered() == [first.encode()], 10)
        self.sl.stop()
        tighter = [dict(f) for f in SCHEMA]
        tighter[2]["max"] = 10
        self.sl.connectors["contacts"] = connector_lua(
            "contacts", self.dest.url + "/c", schema=tighter, body="ndjson",
            batch={"max_delay_ms": 20})
        self.sl.write()
        self.sl.start()  # the schema lock does not include rules
        st, js, _ = self.sl.post("contacts", rec(6001, quantity="50"))
        self.assertEqual(st, 422, self.sl.last_raw)
        self.assertEqual(js["rejected"][0]["error"],
                         "50 is greater than max (10)")
        ok = rec(6002, quantity="10")
        self.assertEqual(self.sl.post("contacts", ok)[0], 200)
        wait_until(lambda: ok.encode() in self.delivered(), 10)


BAD_CONNECTOR = """\
return {
  name = "bad",
  url = "http://127.0.0.1:9/x",
  schema = {
    { name = "id", type = "integer", enum = { "a" } },
    { name = "qty", type = "integer", min = 10, max = 5 },
    { name = "stage", type = "string", enum = { "lead", "lead" } },
    { name = "price", type = "number", max = 1/0 },
    { name = "name", type = "string", min_length = 3, max_length = 2 },
    { name = "code", type = "string", min = 1 },
    { name = "ok", type = "boolean", max_length = 4 },
  },
}
"""


class FieldConstraintErrorsTest(SluiceTestCase):

    def test_each_misuse_is_reported_at_its_line(self):
        sl = self.make_sluice({"bad": BAD_CONNECTOR})
        sl.write()
        rc, out, err = sl.check()
        self.assertEqual(rc, 2, out + err)
        path = sl.connector_path("bad")
        want = [
            '%s:5: schema[1].enum: only for type = "string" (this field is '
            'integer)',
            '%s:6: schema[2].min: 10 is greater than max (5)',
            '%s:7: schema[3].enum[2]: the same value as enum[1]',
            '%s:8: schema[4].max: expected a finite number, got number inf',
            '%s:9: schema[5].min_length: 3 is greater than max_length (2)',
            '%s:10: schema[6].min: only for type = "integer" or "number" '
            '(this field is string)',
            '%s:11: schema[7].max_length: only for type = "string" (this '
            'field is boolean)',
        ]
        for w in want:
            self.assertIn(w % path, err)
        self.assertEqual(sum(1 for line in err.splitlines()
                             if path + ":" in line), len(want), err)

    def test_a_good_file_checks(self):
        sl = self.make_sluice({"contacts": connector_lua(
            "contacts", "http://127.0.0.1:9/c", schema=SCHEMA)})
        sl.write()
        rc, out, err = sl.check()
        self.assertEqual(rc, 0, out + err)


if __name__ == "__main__":
    unittest.main(verbosity=2)
