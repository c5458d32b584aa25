"""Schema rules through HTTP: every type and nullability rule accepted and
rejected at its edge, the unknown-field policies, duplicate keys, and that
rejected records never reach the destination while their siblings do."""

import itertools
import json
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sluice_it import SluiceTestCase, connector_lua, wait_until  # noqa: E402

FIELDS = ["id", "email", "amount", "active", "day", "at"]
MISSING = object()
_seq = itertools.count(1)


def build(values, extra=()):
    """Raw JSON object text from {field: raw JSON text or MISSING}, in
    schema order, then `extra` (key, raw) pairs."""
    parts = []
    for f in FIELDS:
        v = values.get(f, MISSING)
        if v is not MISSING:
            parts.append('"%s":%s' % (f, v))
    for k, v in extra:
        parts.append('"%s":%s' % (k, v))
    return "{" + ",".join(parts) + "}"


def case(**over):
    """(input text, expected delivered text, identity (key, value)) for a
    valid base record with `over` replacing fields (MISSING removes one)."""
    n = next(_seq)
    vals = {"id": str(1000000 + n), "email": '"case%d@t.example"' % n,
            "amount": "2.5", "active": "true", "day": '"2024-02-29"',
            "at": '"2024-03-01T12:00:00Z"'}
    vals.update(over)
    inp = build(vals)
    exp_vals = dict(vals)
    if exp_vals["amount"] is MISSING:
        exp_vals["amount"] = "null"
    expected = build(exp_vals)
    if "email" not in over:
        ident = ("email", json.loads(vals["email"]))
    else:
        ident = ("id", int(vals["id"]))
    return inp, expected, ident


class SchemaRulesTest(SluiceTestCase):

    def setUp(self):
        self.dest = self.start_destination()
        self.sl = self.start_sluice({
            "rules": connector_lua("rules", self.dest.url + "/rules",
                                   body="ndjson", batch={"max_delay_ms": 20}),
            "dropper": connector_lua("dropper", self.dest.url + "/drop",
                                     body="ndjson", unknown_fields="drop",
                                     batch={"max_delay_ms": 20}),
        })

    # helpers -------------------------------------------------------------------

    def delivered(self, ident, path="/rules"):
        key, val = ident
        for r in self.dest.ok_requests():
            if r.path != path:
                continue
            for raw in r.raw_records():
                if json.loads(raw).get(key) == val:
                    return raw
        return None

    def wait_delivered(self, ident, path="/rules"):
        return wait_until(lambda: self.delivered(ident, path), 10,
                          msg="record %r at the destination" % (ident,))

    def accept(self, name="rules", path="/rules", **over):
        inp, expected, ident = case(**over)
        st, js, _ = self.sl.post(name, inp)
        self.assertEqual((st, js), (200, {"accepted": 1, "rejected": []}),
                         "input %s" % inp)
        raw = self.wait_delivered(ident, path)
        self.assertEqual(raw, expected.encode(), "input %s" % inp)

    def reject(self, field, error, **over):
        inp, _, _ = case(**over)
        self.reject_raw(inp, field, error)

    def reject_raw(self, inp, field, error, name="rules"):
        st, js, _ = self.sl.post(name, inp)
        self.assertEqual(st, 422, "input %s -> %r" % (inp, self.sl.last_raw))
        self.assertEqual(js.get("accepted"), 0, js)
        rej = js.get("rejected")
        self.assertIsInstance(rej, list, js)
        self.assertEqual(len(rej), 1, js)
        self.assertEqual(rej[0].get("index"), 0, js)
        self.assertEqual(rej[0].get("field"), field, "input %s -> %r" % (inp, js))
        self.assertIsInstance(rej[0].get("error"), str, js)
        if error is None:
            self.assertTrue(rej[0]["error"], js)
        else:
            self.assertIn(error, rej[0]["error"], "input %s -> %r" % (inp, js))

    # integer -------------------------------------------------------------------

    def test_integer_accepted(self):
        for v in ("0", "-1", "42", "9223372036854775807", "-9223372036854775808"):
            with self.subTest(id=v):
                self.accept(id=v)

    def test_integer_rejected(self):
        cases = [
            ("9223372036854775808", "out of range"),
            ("-9223372036854775809", "out of range"),
            ("1.5", None),
            ("1e3", None),
            ("1.0", None),
            ('"1"', "expected integer, got string"),
            ("true", "expected integer, got boolean"),
            ("[1]", "expected integer, got array"),
            ('{"v":1}', "expected integer, got object"),
            ("null", "null is not allowed"),
        ]
        for v, err in cases:
            with self.subTest(id=v):
                self.reject("id", err, id=v)
        with self.subTest(id="missing"):
            self.reject("id", "required field is missing", id=MISSING)

    # number ----------------------------------------------------------------------

    def test_number_accepted_and_kept_verbatim(self):
        for v in ("0", "1.50", "-1.25e-3", "1E+2", "123456789012345678901234567890",
                  "-0.0", "1e308"):
            with self.subTest(amount=v):
                self.accept(amount=v)

    def test_number_rejected(self):
        cases = [
            ("1e400", "out of range"),
            ("-1e400", "out of range"),
            ('"1.5"', "expected number, got string"),
            ("false", "expected number, got boolean"),
            ("{}", "expected number, got object"),
        ]
        for v, err in cases:
            with self.subTest(amount=v):
                self.reject("amount", err, amount=v)

    def test_nullable_number_null_and_missing(self):
        with self.subTest("null"):
            self.accept(amount="null")
        with self.subTest("missing -> null"):
            self.accept(amount=MISSING)

    # string ------------------------------------------------------------------------

    def test_string_accepted(self):
        for v in ('""', '"plain"', '"tab\\tquote\\"back\\\\slash\\/u\\u00e9\\ud83d\\ude00"',
                  '"raw utf-8 \u00e9\u2603\U0001F600"'):
            with self.subTest(email=v):
                self.accept(email=v)

    def test_string_rejected(self):
        cases = [
            ("5", "expected string, got number"),
            ("true", "expected string, got boolean"),
            ('["a"]', "expected string, got array"),
            ('{"a":"b"}', "expected string, got object"),
            ("null", "null is not allowed"),
        ]
        for v, err in cases:
            with self.subTest(email=v):
                self.reject("email", err, email=v)
        with self.subTest(email="missing"):
            self.reject("email", "required field is missing", email=MISSING)

    # boolean -----------------------------------------------------------------------

    def test_boolean(self):
        for v in ("true", "false"):
            with self.subTest(active=v):
                self.accept(active=v)
        for v, err in (('"true"', "expected boolean, got string"),
                       ("1", "expected boolean, got number"),
                       ("null", "null is not allowed")):
            with self.subTest(active=v):
                self.reject("active", err, active=v)
        with self.subTest(active="missing"):
            self.reject("active", "required field is missing", active=MISSING)

    # date --------------------------------------------------------------------------

    def test_date_accepted(self):
        for v in ("2024-02-29", "2000-02-29", "2023-02-28", "2024-12-31",
                  "2024-04-30", "0001-01-01"):
            with self.subTest(day=v):
                self.accept(day='"%s"' % v)

    def test_date_rejected(self):
        for v in ("2024-02-30", "2023-02-29", "1900-02-29", "2024-13-01",
                  "2024-00-10", "2024-04-31", "2024-01-00", "2024-2-29",
                  "24-02-29", "2024/02/29", "2024-02-29T00:00:00Z", ""):
            with self.subTest(day=v):
                self.reject("day", "invalid date", day='"%s"' % v)
        with self.subTest(day="number"):
            self.reject("day", "expected date, got number", day="20240229")
        with self.subTest(day="null"):
            self.reject("day", "null is not allowed", day="null")

    # datetime ------------------------------------------------------------------------

    def test_datetime_accepted(self):
        for v in ("2024-03-01T12:00:00Z", "2024-03-01T12:00:00+05:30",
                  "2024-03-01T12:00:00-08:00", "2024-03-01T12:00:00.123456Z",
                  "2024-02-29T23:59:59+00:00"):
            with self.subTest(at=v):
                self.accept(at='"%s"' % v)

    def test_datetime_rejected(self):
        for v in ("2024-03-01T12:00:00", "2024-03-01T12:00:00.5", "2024-03-01",
                  "2024-02-30T12:00:00Z", "2024-03-01T25:00:00Z",
                  "2024-03-01T12:60:00Z", "2024-03-01T12:00:00+5:30",
                  "not a datetime"):
            with self.subTest(at=v):
                self.reject("at", "invalid datetime", at='"%s"' % v)
        with self.subTest(at="boolean"):
            self.reject("at", "expected datetime, got boolean", at="true")

    # unknown fields, duplicates ------------------------------------------------------

    def test_unknown_field_rejected_by_default(self):
        inp, _, _ = case()
        inp = inp[:-1] + ',"nickname":"bob"}'
        self.reject_raw(inp, "nickname", "unknown field")

    def test_unknown_field_dropped_with_drop_policy(self):
        inp, expected, ident = case()
        inp = ('{"nickname":"bob",' + inp[1:-1]
               + ',"meta":{"a":[1,{"b":null}],"c":"}"},"z":[]}')
        st, js, _ = self.sl.post("dropper", inp)
        self.assertEqual((st, js), (200, {"accepted": 1, "rejected": []}), inp)
        raw = self.wait_delivered(ident, "/drop")
        self.assertEqual(raw, expected.encode())
        self.assertNotIn(b"nickname", raw)
        self.assertNotIn(b"meta", raw)

    def test_drop_policy_still_checks_known_fields(self):
        inp, _, _ = case(email="5")
        inp = inp[:-1] + ',"extra":1}'
        self.reject_raw(inp, "email", "expected string, got number", name="dropper")

    def test_duplicate_field_rejected(self):
        inp, _, _ = case()
        inp = inp[:-1] + ',"id":5}'
        self.reject_raw(inp, "id", "duplicate field")

    def test_non_object_record_rejected_with_empty_field(self):
        st, js, _ = self.sl.post("rules", "[1]")
        self.assertEqual(st, 422, self.sl.last_raw)
        self.assertEqual(js["accepted"], 0)
        self.assertEqual(len(js["rejected"]), 1, js)
        self.assertEqual(js["rejected"][0]["index"], 0)
        self.assertEqual(js["rejected"][0]["field"], "")

    # mixed batch ---------------------------------------------------------------------------

    def test_rejected_never_delivered_accepted_siblings_are(self):
        cases = [
            case(),                                   # 0 ok
            case(email="5"),                          # 1 bad
            case(amount=MISSING),                     # 2 ok
            case(day='"2023-02-29"'),                 # 3 bad
            case(),                                   # 4 ok
            case(at='"2024-03-01T12:00:00"'),         # 5 bad
            case(id="1.5"),                           # 6 bad
        ]
        bad = {1: "email", 3: "day", 5: "at", 6: "id"}
        body = "[" + ",".join(c[0] for c in cases) + "]"
        st, js, _ = self.sl.post("rules", body)
        self.assertEqual(st, 200, self.sl.last_raw)
        self.assertEqual(js["accepted"], 3, js)
        self.assertEqual([(r["index"], r["field"]) for r in js["rejected"]],
                         sorted(bad.items()), js)
        for i in (0, 2, 4):
            self.assertEqual(self.wait_delivered(cases[i][2]),
                             cases[i][1].encode())
        # a sentinel posted later arrives after anything queued before it
        s_inp, s_exp, s_ident = case()
        self.assertEqual(self.sl.post("rules", s_inp)[0], 200)
        self.wait_delivered(s_ident)
        all_raw = self.dest.raw_records()
        for i in bad:
            ident = cases[i][2]
            self.assertIsNone(self.delivered(ident), "rejected record %d delivered" % i)
            self.assertNotIn(cases[i][0].encode(), all_raw)
        self.assertEqual(len(all_raw), 4, all_raw)
        stats = self.sl.stats("rules")
        self.assertEqual(stats["accepted"], 4)
        self.assertEqual(stats["rejected"], 4)

    def test_ndjson_intake_rejections_indexed_by_line(self):
        good1, exp1, id1 = case()
        bad = case(active='"yes"')[0]
        good2, exp2, id2 = case()
        body = good1 + "\n" + bad + "\n" + good2 + "\n"
        st, js, _ = self.sl.post("rules", body, content_type="application/x-ndjson")
        self.assertEqual(st, 200, self.sl.last_raw)
        self.assertEqual(js["accepted"], 2, js)
        self.assertEqual(len(js["rejected"]), 1, js)
        self.assertEqual(js["rejected"][0]["index"], 1)
        self.assertEqual(js["rejected"][0]["field"], "active")
        self.assertIn("expected boolean, got string", js["rejected"][0]["error"])
        self.assertEqual(self.wait_delivered(id1), exp1.encode())
        self.assertEqual(self.wait_delivered(id2), exp2.encode())


if __name__ == "__main__":
    unittest.main(verbosity=2)
