"""Body templates (issue 11, part 1): `body = { form, template,
record_template }` against a real local destination, every body compared
byte for byte: a batch template, a record template, both (HubSpot), the
object form, NDJSON lines, $batch_id and $count, a 413 split and a
bisected batch wrapped again piece by piece (the dead letter keeps the
record, not the envelope), headers_fn seeing the wrapped body, batch
max_bytes counting the envelope, the shipped HubSpot example, and every
configuration error with its message."""

import gzip
import hashlib
import json
import os
import re
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sluice_it import (SOURCE_DIR, SluiceTestCase, LuaRaw, connector_lua,  # noqa: E402
                       wait_until)

POISON = "poison@example.com"
FAST = {"base_ms": 20, "max_ms": 200}


def rec(i, email=None):
    """A CRM_SCHEMA record as compact JSON in schema order: the bytes
    sluice must put in the body."""
    return ('{"id":%d,"email":"%s","amount":1.5,"active":true,'
            '"day":"2024-02-29","at":"2024-03-01T12:00:00Z"}'
            % (i, email or "user%d@example.com" % i))


def loose(i, email=None):
    """The same record as a client might write it (spaces, other order)."""
    return ('{ "at" : "2024-03-01T12:00:00Z", "email": "%s", "id" : %d, '
            '"active": true, "day": "2024-02-29", "amount": 1.5 }'
            % (email or "user%d@example.com" % i, i))


def post_body(ids, email=None):
    return "[" + ",\n".join(loose(i, email(i) if email else None)
                            for i in ids) + "]"


class TemplateTest(SluiceTestCase):

    def pair(self, body, dest=None, name="crm", **kw):
        dest = dest or self.start_destination()
        kw.setdefault("batch", {"max_delay_ms": 100})
        sl = self.start_sluice({name: connector_lua(
            name, dest.url + "/in", body=body, **kw)})
        return dest, sl

    def post_ok(self, sl, ids, name="crm", email=None):
        st, js, _ = sl.post(name, post_body(ids, email))
        self.assertEqual(st, 200, sl.last_raw)
        self.assertEqual(js["accepted"], len(ids), js)

    def one_request(self, dest, sl, n, name="crm"):
        dest.wait_requests(1)
        sl.wait_drained(name, n)
        reqs = dest.requests()
        self.assertEqual(len(reqs), 1, reqs)
        r = reqs[0]
        self.assertEqual(int(r.headers["Content-Length"]), len(r.body))
        return r

    # ---- the forms, byte-exact ---------------------------------------------

    def test_batch_template(self):
        dest, sl = self.pair({"template":
                              '{"inputs": $records, "source": "sluice"}'})
        self.post_ok(sl, [1, 2, 3])
        r = self.one_request(dest, sl, 3)
        self.assertEqual(r.body, ('{"inputs":[%s,%s,%s],"source":"sluice"}'
                                  % (rec(1), rec(2), rec(3))).encode())
        self.assertEqual(r.content_type, "application/json")

    def test_segment_style_batch_template(self):
        dest, sl = self.pair({"form": "array",
                              "template": '{\n  "batch": $records\n}\n'})
        self.post_ok(sl, [4, 5])
        r = self.one_request(dest, sl, 2)
        self.assertEqual(r.body, ('{"batch":[%s,%s]}' % (rec(4), rec(5))).encode())

    def test_record_template(self):
        dest, sl = self.pair({"record_template": '{"properties": $record}'})
        self.post_ok(sl, [1, 2])
        r = self.one_request(dest, sl, 2)
        self.assertEqual(r.body, ('[{"properties":%s},{"properties":%s}]'
                                  % (rec(1), rec(2))).encode())

    def test_both_templates_hubspot(self):
        dest, sl = self.pair({"template": '{ "inputs" : $records }',
                              "record_template": '{ "properties" : $record }'})
        self.post_ok(sl, [1, 2, 3])
        r = self.one_request(dest, sl, 3)
        self.assertEqual(r.body, ('{"inputs":[{"properties":%s},'
                                  '{"properties":%s},{"properties":%s}]}'
                                  % (rec(1), rec(2), rec(3))).encode())

    def test_object_form_with_template(self):
        dest, sl = self.pair({"form": "object", "template": '{"data": $record}'},
                             concurrency=1)
        self.post_ok(sl, [1, 2, 3])
        dest.wait_requests(3)
        sl.wait_drained("crm", 3)
        self.assertEqual([r.body for r in dest.requests()],
                         [('{"data":%s}' % rec(i)).encode() for i in (1, 2, 3)])

    def test_object_form_with_both_templates(self):
        dest, sl = self.pair({"form": "object",
                              "template": '{"data": $record, "id": $batch_id}',
                              "record_template": '{"attributes": $record}'})
        self.post_ok(sl, [7])
        r = self.one_request(dest, sl, 1)
        key = r.headers["Idempotency-Key"]
        self.assertTrue(key)
        self.assertEqual(r.body, ('{"data":{"attributes":%s},"id":"%s"}'
                                  % (rec(7), key)).encode())

    def test_ndjson_with_record_template(self):
        dest, sl = self.pair({"form": "ndjson",
                              "record_template": '{"event": $record, "v": 1}'})
        self.post_ok(sl, [1, 2])
        r = self.one_request(dest, sl, 2)
        self.assertEqual(r.content_type, "application/x-ndjson")
        self.assertEqual(r.body, ('{"event":%s,"v":1}\n{"event":%s,"v":1}\n'
                                  % (rec(1), rec(2))).encode())

    def test_batch_id_and_count(self):
        dest, sl = self.pair({"template": '{"id": $batch_id, "n": $count, '
                              '"items": $records, "again": [$batch_id, $count]}'})
        self.post_ok(sl, [1, 2, 3])
        r = self.one_request(dest, sl, 3)
        key = r.headers["Idempotency-Key"]
        self.assertRegex(key, r"^crm-[0-9a-f]{16}-[0-9a-f]+-3$")
        self.assertEqual(r.body, ('{"id":"%s","n":3,"items":[%s,%s,%s],'
                                  '"again":["%s",3]}'
                                  % (key, rec(1), rec(2), rec(3), key)).encode())

    def test_literal_dollars_and_escapes_kept(self):
        tpl = ('{"note": "costs $records \\"quoted\\" \\u00e9 \\\\", '
               '"$count": $records}')
        dest, sl = self.pair({"template": tpl})
        self.post_ok(sl, [1])
        r = self.one_request(dest, sl, 1)
        self.assertEqual(r.body, ('{"note":"costs $records \\"quoted\\" '
                                  '\\u00e9 \\\\","$count":[%s]}' % rec(1)).encode())

    # ---- pieces wrapped again ------------------------------------------------

    def test_413_split_rewrapped(self):
        tpl = {"template": '{"id": $batch_id, "n": $count, "inputs": $records}',
               "record_template": '{"properties": $record}'}
        dest = self.start_flex_destination(
            func=lambda i, r: 413 if i == 0 else 200)
        dest, sl = self.pair(tpl, dest=dest, retry=FAST, concurrency=1)
        self.post_ok(sl, [1, 2, 3, 4])
        dest.wait_requests(3)
        sl.wait_drained("crm", 4)
        reqs = dest.requests()
        self.assertEqual([r.status for r in reqs], [413, 200, 200], reqs)

        def wrapped(r, ids):
            key = r.headers["Idempotency-Key"]
            return ('{"id":"%s","n":%d,"inputs":[%s]}' % (
                key, len(ids), ",".join('{"properties":%s}' % rec(i)
                                        for i in ids))).encode()

        self.assertEqual(reqs[0].body, wrapped(reqs[0], [1, 2, 3, 4]))
        self.assertEqual(reqs[1].body, wrapped(reqs[1], [1, 2]))
        self.assertEqual(reqs[2].body, wrapped(reqs[2], [3, 4]))
        keys = [r.headers["Idempotency-Key"] for r in reqs]
        self.assertEqual(len(set(keys)), 3, keys)
        self.assertTrue(all(k.endswith(s) for k, s in zip(keys, ("-4", "-2", "-2"))),
                        keys)

    def test_bisect_rewrapped_dead_letter_keeps_record(self):
        tpl = {"template": '{"n": $count, "inputs": $records}',
               "record_template": '{"properties": $record}'}
        bad = POISON.encode()
        dest = self.start_flex_destination(
            func=lambda i, r: (422, {}, b'{"error":"invalid email"}')
            if bad in r.body else 200)
        dest, sl = self.pair(tpl, dest=dest, retry=FAST, concurrency=1)
        self.post_ok(sl, [0, 1, 2, 3], email=lambda i: POISON if i == 2 else None)
        entries = wait_until(lambda: (lambda e: e if e else None)(
            sl.dlq_list("crm")), 15, interval=0.1, msg="the dead letter")
        sl.wait_drained("crm", 3)
        self.assertEqual(len(entries), 1, entries)
        e = entries[0]
        self.assertEqual(e["status"], 422, e)
        # the record as it was accepted, not the envelope around it
        self.assertEqual(e["record"], json.loads(rec(2, POISON)), e)
        rc, out, err = sl.cli("dlq", "show", "crm", str(e["id"]))
        self.assertEqual(rc, 0, out + err)
        self.assertNotIn("properties", out)
        # every piece was wrapped on its own
        for r in dest.requests():
            doc = json.loads(r.body)
            self.assertEqual(sorted(doc), ["inputs", "n"], r)
            self.assertEqual(doc["n"], len(doc["inputs"]), r)
            for x in doc["inputs"]:
                self.assertEqual(list(x), ["properties"], r)
        first = dest.requests()[0]
        self.assertEqual(first.body, ('{"n":4,"inputs":[%s]}' % ",".join(
            '{"properties":%s}' % rec(i, POISON if i == 2 else None)
            for i in range(4))).encode())
        delivered = [x["properties"]["id"] for r in dest.ok_requests()
                     for x in json.loads(r.body)["inputs"]]
        self.assertEqual(sorted(delivered), [0, 1, 3])
        for r in dest.ok_requests():
            ids = [x["properties"]["id"] for x in json.loads(r.body)["inputs"]]
            self.assertEqual(r.body, ('{"n":%d,"inputs":[%s]}' % (len(ids), ",".join(
                '{"properties":%s}' % rec(i) for i in ids))).encode())

    # ---- headers_fn and max_bytes ----------------------------------------------

    def test_headers_fn_sees_wrapped_body(self):
        hfn = LuaRaw('function(req) return {\n'
                     '  ["X-Body-SHA256"] = sluice.hex(sluice.sha256(req.body)),\n'
                     '  ["X-Body-Len"] = tostring(#req.body),\n'
                     '  ["X-Records"] = tostring(req.records) } end')
        dest, sl = self.pair({"template": '{"inputs": $records, "id": $batch_id}',
                              "record_template": '{"properties": $record}'},
                             extra={"headers_fn": hfn})
        self.post_ok(sl, [1, 2])
        r = self.one_request(dest, sl, 2)
        self.assertTrue(r.body.startswith(b'{"inputs":[{"properties":'), r)
        self.assertEqual(r.headers["X-Body-SHA256"],
                         hashlib.sha256(r.body).hexdigest())
        self.assertEqual(r.headers["X-Body-Len"], str(len(r.body)))
        self.assertEqual(r.headers["X-Records"], "2")

    def test_max_bytes_counts_the_envelope(self):
        pad = "x" * 600
        # each record is 121 bytes + 15 for its wrap and comma: about 3
        # records fit beside the 620-byte envelope in 1024 bytes
        dest, sl = self.pair({"template": '{"pad": "%s", "inputs": $records}' % pad,
                              "record_template": '{"p": $record}'},
                             batch={"max_bytes": 1024, "max_delay_ms": 300},
                             concurrency=1)
        self.post_ok(sl, list(range(20)))
        sl.wait_drained("crm", 20)
        reqs = dest.requests()
        self.assertGreater(len(reqs), 4, reqs)
        for r in reqs:
            self.assertLessEqual(len(r.body), 1024, r)
        ids = [x["p"]["id"] for r in reqs for x in json.loads(r.body)["inputs"]]
        self.assertEqual(ids, list(range(20)))
        # an envelope past max_bytes: still one record per request
        dest2 = self.start_destination()
        big = "y" * 1100
        sl2 = self.start_sluice({"big": connector_lua(
            "big", dest2.url + "/in", body={"template": '{"pad": "%s", '
                                             '"inputs": $records}' % big},
            batch={"max_bytes": 1024, "max_delay_ms": 100}, concurrency=1)})
        self.post_ok(sl2, [1, 2], name="big")
        sl2.wait_drained("big", 2)
        self.assertEqual([r.body for r in dest2.requests()],
                         [('{"pad":"%s","inputs":[%s]}' % (big, rec(i))).encode()
                          for i in (1, 2)])

    # ---- with the other request features -------------------------------------

    def test_with_compression(self):
        """gzip compresses the wrapped body."""
        dest, sl = self.pair({"template": '{"inputs": $records}',
                              "record_template": '{"properties": $record}'},
                             extra={"compression": "gzip"})
        self.post_ok(sl, [1, 2])
        r = self.one_request(dest, sl, 2)
        self.assertEqual(r.headers.get("Content-Encoding"), "gzip", r)
        self.assertEqual(gzip.decompress(r.body), (
            '{"inputs":[{"properties":%s},{"properties":%s}]}'
            % (rec(1), rec(2))).encode())

    def test_with_per_record_url(self):
        """The object form's URL is filled from the record, the body is
        the template around it."""
        dest = self.start_destination()
        sl = self.start_sluice({"crm": connector_lua(
            "crm", dest.url + "/users/{id}", method="PUT", concurrency=1,
            body={"form": "object", "template": '{"user": $record, "n": $count}'})})
        self.post_ok(sl, [5, 6])
        dest.wait_requests(2)
        sl.wait_drained("crm", 2)
        reqs = dest.requests()
        self.assertEqual([(r.method, r.path, r.body) for r in reqs],
                         [("PUT", "/users/%d" % i,
                           ('{"user":%s,"n":1}' % rec(i)).encode())
                          for i in (5, 6)])

    # ---- the shipped example -------------------------------------------------

    def test_hubspot_example(self):
        path = os.path.join(SOURCE_DIR, "conf", "connectors", "hubspot_contacts.lua")
        with open(path) as f:
            src = f.read()
        dest = self.start_destination()
        src, n = re.subn(r'url = "http://127\.0\.0\.1:9000/',
                         'url = "%s/' % dest.url, src)
        self.assertEqual(n, 1, "the example's url line changed")
        sl = self.start_sluice({"hubspot_contacts": src})
        with open(os.path.join(SOURCE_DIR, "conf", "samples",
                               "hubspot_contacts.json")) as f:
            sample = f.read()
        st, js, _ = sl.post("hubspot_contacts", sample)
        self.assertEqual(st, 200, sl.last_raw)
        self.assertEqual(js["accepted"], 3, js)
        dest.wait_requests(1)
        sl.wait_drained("hubspot_contacts", 3)
        reqs = dest.requests()
        self.assertEqual(len(reqs), 1, reqs)
        r = reqs[0]
        self.assertEqual(r.path, "/crm/v3/objects/contacts/batch/create")
        self.assertEqual(r.headers["Authorization"], "Bearer demo-token")
        self.assertEqual(r.body, (
            '{"inputs":['
            '{"properties":{"email":"ada@example.com","firstname":"Ada",'
            '"lastname":"Lovelace","company":"Analytical Engines","phone":null}},'
            '{"properties":{"email":"grace@example.com","firstname":"Grace",'
            '"lastname":"Hopper","company":null,"phone":"+1 555 0100"}},'
            '{"properties":{"email":"alan@example.com","firstname":"Alan",'
            '"lastname":"Turing","company":null,"phone":null}}]}').encode())

    # ---- configuration errors ---------------------------------------------------

    def check_errors(self, body, want):
        """`sluice check` on a connector with `body`: exit 2, and each
        wanted message on a line of its own naming crm.lua and a line."""
        sl = self.make_sluice({"crm": connector_lua(
            "crm", "http://127.0.0.1:9/in", body=body)})
        rc, out, err = sl.check()
        self.assertNotEqual(rc, 0, out)
        for w in want:
            lines = [l for l in err.splitlines() if w in l]
            self.assertEqual(len(lines), 1, "%r not once in:\n%s" % (w, err))
            self.assertRegex(lines[0], r"crm\.lua:\d+: body")
        return err

    def test_config_errors(self):
        cases = [
            ({"template": '{"inputs": $recs}'},
             ["body.template: position 11: unknown placeholder $recs (valid: "
              "$records, $batch_id, $count)"]),
            ({"template": '[$records, $records]'},
             ["body.template: position 11: $records appears twice (it must "
              "appear exactly once)"]),
            ({"template": '{"inputs": []}'},
             ["body.template: needs $records exactly once"]),
            ({"form": "object", "template": '{"data": 1}'},
             ["body.template: needs $record exactly once"]),
            ({"form": "object", "template": '{"data": $records}'},
             ["body.template: position 9: $records cannot be used here "
              "(valid: $record, $batch_id, $count)"]),
            ({"template": '{"data": $record}'},
             ["body.template: position 9: $record cannot be used here "
              "(valid: $records, $batch_id, $count)"]),
            ({"template": '{$records: 1}'},
             ["body.template: position 1: placeholder $records where a key "
              "must stand"]),
            ({"template": '[-$count, $records]'},
             ["body.template: position 2: placeholder $count must stand "
              "alone as a value"]),
            ({"template": '{"a": $records,}'},
             ["body.template: position 15: not valid JSON: trailing comma "
              "before '}'"]),
            ({"template": '{"a": $records} {}'},
             ["body.template: position 16: not valid JSON: trailing "
              "characters after the document"]),
            ({"template": '{\n  "a": $records,\n  "b": nul\n}'},
             ["body.template: position 26 (line 3, column 8): not valid "
              "JSON: invalid literal"]),
            ({"template": ""},
             ["body.template: is empty; write JSON with $records"]),
            ({"template": "[" * 33 + "$records" + "]" * 33},
             ["body.template: position 32: nesting deeper than 32 levels"]),
            ({"template": '{"pad": "%s", "r": $records}' % ("x" * 65536)},
             ["body.template: is 65562 bytes; at most 65536"]),
            ({"template": LuaRaw('"[$records, \\0]"')},
             ["body.template: position 11: not valid JSON: expected a value"]),
            ({"template": LuaRaw('"[\\"\\255\\", $records]"')},
             ["body.template: position 2: not valid JSON: invalid UTF-8 in "
              "string"]),
            ({"record_template": '{"p": $record, "id": $batch_id}'},
             ["body.record_template: position 21: $batch_id cannot be used "
              "here (valid: $record)"]),
            ({"record_template": '{"p": $records}'},
             ["body.record_template: position 6: $records cannot be used "
              "here (valid: $record)"]),
            ({"record_template": '{"p": 1}'},
             ["body.record_template: needs $record exactly once"]),
            ({"form": "ndjson", "template": '{"batch": $records}'},
             ['body.template: not allowed with form "ndjson", whose lines '
              'are the records (record_template wraps each one)']),
            ({"form": "arry"},
             ['body.form: invalid value "arry" (did you mean "array"? valid: '
              'array, object, ndjson)']),
            ({"templat": '{"a": $records}'},
             ['body.templat: unknown key (did you mean "template"?)']),
            ({"template": 5},
             ["body.template: expected a string, got number 5"]),
            (LuaRaw("7"),
             ['body: expected a form name ("array", "object", "ndjson") or '
              'a table like { form = "array", template = ... }, got number 7']),
            ("objekt",
             ['body: invalid value "objekt" (did you mean "object"? valid: '
              'array, object, ndjson)']),
        ]
        for k, (body, want) in enumerate(cases):
            with self.subTest(case=k, want=want[0][:60]):
                self.check_errors(body, want)

    def test_config_errors_name_the_line(self):
        src = ('return {\n'
               '  name = "crm", url = "http://127.0.0.1:9/in",\n'
               '  schema = { { name = "id", type = "integer" } },\n'
               '  body = {\n'
               '    form = "array",\n'
               '    record_template = [[{"p": $recrd}]],\n'
               '    template = [[{"inputs": $records, "n": $cnt}]],\n'
               '  },\n'
               '}\n')
        sl = self.make_sluice({"crm": src})
        rc, out, err = sl.check()
        self.assertNotEqual(rc, 0)
        self.assertIn("crm.lua:6: body.record_template: position 6: unknown "
                      "placeholder $recrd (valid: $record)", err)
        self.assertIn("crm.lua:7: body.template: position 26: unknown "
                      "placeholder $cnt (valid: $records, $batch_id, $count)",
                      err)

    def test_check_shows_templates(self):
        sl = self.make_sluice({"crm": connector_lua(
            "crm", "http://127.0.0.1:9/in",
            body={"template": '{ "inputs" : $records }',
                  "record_template": '{ "properties" : $record }'})})
        rc, out, err = sl.check()
        self.assertEqual(rc, 0, err)
        self.assertIn('record_template {"properties":$record}', out)
        self.assertIn('template        {"inputs":$records}', out)
        # the plain string form keeps working
        sl = self.make_sluice({"crm": connector_lua(
            "crm", "http://127.0.0.1:9/in", body="ndjson")})
        rc, out, err = sl.check()
        self.assertEqual(rc, 0, err)
        self.assertIn("ndjson (Content-Type: application/x-ndjson)", out)
        self.assertNotIn("template", out)


if __name__ == "__main__":
    unittest.main(verbosity=2)
