"""The intake API: status codes and JSON answers, limits, content types,
NDJSON, the read endpoints and the stats counters."""

import json
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sluice_it import SluiceTestCase, connector_lua, media_type, wait_until  # noqa: E402


def rec(i, **over):
    d = {"id": i, "email": "user%d@example.com" % i, "amount": 1.5,
         "active": True, "day": "2024-02-29", "at": "2024-03-01T12:00:00Z"}
    d.update(over)
    return d


def text(i):
    return json.dumps(rec(i), separators=(",", ":"))


class IntakeTest(SluiceTestCase):

    def setUp(self):
        self.dest = self.start_destination()
        self.sl = self.start_sluice({
            "crm": connector_lua("crm", self.dest.url + "/crm",
                                 batch={"max_delay_ms": 20}),
            "other": connector_lua("other", self.dest.url + "/other",
                                   method="PUT", body="ndjson"),
        })

    def assert_json_error(self, js):
        self.assertIsInstance(js, dict, "answer is not a JSON object: %r"
                              % self.sl.last_raw)
        self.assertIsInstance(js.get("error"), str, js)
        self.assertTrue(js["error"], js)

    def wait_sentinel(self, i=999999):
        """Post a valid record and wait for it at the destination: anything
        accepted before it has been delivered by then."""
        st, js, _ = self.sl.post("crm", rec(i))
        self.assertEqual(st, 200, self.sl.last_raw)
        self.dest.wait_records(1)
        wait_until(lambda: any(r["id"] == i for r in self.dest.records()), 10,
                   msg="sentinel record")

    # ---- answers -----------------------------------------------------------

    def test_single_object_accepted(self):
        st, js, h = self.sl.post("crm", rec(1))
        self.assertEqual(st, 200, self.sl.last_raw)
        self.assertEqual(js, {"accepted": 1, "rejected": []})
        self.assertEqual(media_type(h.get("Content-Type")), "application/json")

    def test_mixed_200(self):
        body = [rec(1), rec(2, email=5), rec(3)]
        st, js, h = self.sl.post("crm", body)
        self.assertEqual(st, 200, self.sl.last_raw)
        self.assertEqual(media_type(h.get("Content-Type")), "application/json")
        self.assertEqual(js["accepted"], 2)
        self.assertEqual(len(js["rejected"]), 1, js)
        r = js["rejected"][0]
        self.assertEqual((r["index"], r["field"]), (1, "email"))
        self.assertIn("expected string, got number", r["error"])

    def test_none_accepted_422(self):
        body = [rec(1, id="1"), rec(2, day="2023-02-29")]
        st, js, _ = self.sl.post("crm", body)
        self.assertEqual(st, 422, self.sl.last_raw)
        self.assertEqual(js["accepted"], 0)
        self.assertEqual([(r["index"], r["field"]) for r in js["rejected"]],
                         [(0, "id"), (1, "day")])
        self.assertIn("expected integer, got string", js["rejected"][0]["error"])
        self.assertIn("invalid date", js["rejected"][1]["error"])

    def test_empty_array_200_zero_accepted(self):
        st, js, _ = self.sl.post("crm", "[]")
        self.assertEqual(st, 200, self.sl.last_raw)
        self.assertEqual(js, {"accepted": 0, "rejected": []})

    def test_malformed_json_400_with_offset(self):
        cases = [
            ('[{"id":1,}]', 9),                  # '}' where a key is expected
            ('{"a" 1}', 5),                      # '1' where ':' is expected
            ('[{"id":1},]', 10),                 # ']' where a value is expected
            ('[] x', 3),                         # trailing bytes
            ('[{"id":1}', 9),                    # truncated: error at the end
        ]
        for body, off in cases:
            with self.subTest(body=body):
                st, js, _ = self.sl.post("crm", body)
                self.assertEqual(st, 400, self.sl.last_raw)
                self.assert_json_error(js)
                self.assertIn("malformed JSON", js["error"])
                self.assertEqual(js.get("offset"), off, js)

    def test_malformed_utf8_400(self):
        st, js, _ = self.sl.post("crm", b'[{"email":"a\xffb"}]')
        self.assertEqual(st, 400, self.sl.last_raw)
        self.assert_json_error(js)
        self.assertIn("malformed JSON", js["error"])
        self.assertIsInstance(js.get("offset"), int, js)

    def test_malformed_body_accepts_nothing(self):
        body = "[" + text(1) + "," + text(2) + ',{"id":3,}]'
        st, js, _ = self.sl.post("crm", body)
        self.assertEqual(st, 400, self.sl.last_raw)
        self.assertEqual(js.get("offset"), len(body) - 2, js)
        self.wait_sentinel()
        self.assertEqual([r["id"] for r in self.dest.records()], [999999])
        self.assertEqual(self.sl.stats("crm")["accepted"], 1)

    def test_top_level_scalar(self):
        st, js, _ = self.sl.post("crm", "42")
        self.assertIn(st, (400, 422), self.sl.last_raw)
        self.assertIsInstance(js, dict, self.sl.last_raw)
        if st == 422:
            self.assertEqual(js["accepted"], 0)
            self.assertEqual(js["rejected"][0]["index"], 0)
            self.assertEqual(js["rejected"][0]["field"], "")
        else:
            self.assert_json_error(js)

    def test_unknown_connector_404(self):
        st, js, _ = self.sl.post("nope", rec(1))
        self.assertEqual(st, 404, self.sl.last_raw)
        self.assert_json_error(js)
        st, js, _ = self.sl.get("/v1/connectors/nope")
        self.assertEqual(st, 404, self.sl.last_raw)
        self.assert_json_error(js)

    def test_unsupported_content_type_415(self):
        st, js, _ = self.sl.post("crm", "id,email\n1,a@b.c\n", content_type="text/csv")
        self.assertEqual(st, 415, self.sl.last_raw)
        self.assert_json_error(js)
        self.assertEqual(self.sl.stats("crm")["accepted"], 0)

    def test_missing_content_type_is_json(self):
        st, js, _ = self.sl.post("crm", [rec(1), rec(2)], content_type=None)
        self.assertEqual(st, 200, self.sl.last_raw)
        self.assertEqual(js, {"accepted": 2, "rejected": []})

    def test_json_content_type_with_charset(self):
        st, js, _ = self.sl.post("crm", rec(1),
                                 content_type="application/json; charset=utf-8")
        self.assertEqual(st, 200, self.sl.last_raw)
        self.assertEqual(js["accepted"], 1)

    def test_wrong_method_405_with_allow(self):
        for method in ("GET", "DELETE", "PUT"):
            with self.subTest(method=method):
                st, _, h = self.sl.request(method, "/v1/connectors/crm/records")
                self.assertEqual(st, 405, self.sl.last_raw)
                allow = h.get("Allow")
                self.assertIsNotNone(allow, "405 without an Allow header")
                self.assertIn("POST", [m.strip() for m in allow.split(",")])

    # ---- NDJSON -------------------------------------------------------------

    def test_ndjson_all_lines(self):
        body = "".join(text(i) + "\n" for i in range(5))
        st, js, _ = self.sl.post("crm", body, content_type="application/x-ndjson")
        self.assertEqual(st, 200, self.sl.last_raw)
        self.assertEqual(js, {"accepted": 5, "rejected": []})
        self.dest.wait_records(5)
        self.assertEqual(sorted(r["id"] for r in self.dest.records()), list(range(5)))

    def test_ndjson_last_line_without_newline(self):
        body = text(1) + "\n" + text(2)
        st, js, _ = self.sl.post("crm", body, content_type="application/x-ndjson")
        self.assertEqual(st, 200, self.sl.last_raw)
        self.assertEqual(js, {"accepted": 2, "rejected": []})

    def test_ndjson_malformed_line_rejected_alone(self):
        body = text(0) + '\n{"id": 1, "email":\n' + text(2) + "\n"
        st, js, _ = self.sl.post("crm", body, content_type="application/x-ndjson")
        self.assertEqual(st, 200, self.sl.last_raw)
        self.assertEqual(js["accepted"], 2, js)
        self.assertEqual(len(js["rejected"]), 1, js)
        r = js["rejected"][0]
        self.assertEqual(r["index"], 1)
        self.assertEqual(r["field"], "")
        self.assertIn("malformed JSON", r["error"])
        self.dest.wait_records(2)
        self.wait_sentinel()
        self.assertEqual(sorted(r["id"] for r in self.dest.records()),
                         [0, 2, 999999])

    def test_ndjson_all_malformed_422(self):
        body = "{nope\n[1,\n"
        st, js, _ = self.sl.post("crm", body, content_type="application/x-ndjson")
        self.assertEqual(st, 422, self.sl.last_raw)
        self.assertEqual(js["accepted"], 0)
        self.assertEqual([(r["index"], r["field"]) for r in js["rejected"]],
                         [(0, ""), (1, "")])
        for r in js["rejected"]:
            self.assertIn("malformed JSON", r["error"])

    # ---- volume -------------------------------------------------------------

    def test_twenty_thousand_records_in_one_request(self):
        n = 20000
        body = "[" + ",".join(text(i) for i in range(n)) + "]"
        self.assertLess(len(body), 8 * 1024 * 1024)
        st, js, _ = self.sl.post("crm", body)
        self.assertEqual(st, 200, self.sl.last_raw[:500])
        self.assertEqual(js, {"accepted": n, "rejected": []})
        self.dest.wait_records(n, timeout=30)
        stats = self.sl.wait_drained("crm", n, timeout=30)
        self.assertEqual(stats["accepted"], n)
        ids = sorted(r["id"] for r in self.dest.records())
        self.assertEqual(ids, list(range(n)))

    # ---- read endpoints ----------------------------------------------------

    def test_healthz(self):
        st, js, h = self.sl.get("/healthz")
        self.assertEqual(st, 200)
        self.assertEqual(js, {"status": "ok"})
        self.assertEqual(media_type(h.get("Content-Type")), "application/json")

    def test_list_connectors(self):
        st, js, _ = self.sl.get("/v1/connectors")
        self.assertEqual(st, 200, self.sl.last_raw)
        names = sorted(c["name"] for c in js["connectors"])
        self.assertEqual(names, ["crm", "other"])

    def test_connector_detail(self):
        st, js, _ = self.sl.get("/v1/connectors/other")
        self.assertEqual(st, 200, self.sl.last_raw)
        self.assertEqual(js["name"], "other")
        self.assertEqual(js["url"], self.dest.url + "/other")
        self.assertEqual(js["method"], "PUT")
        self.assertEqual(js["body"], "ndjson")
        self.assertEqual(js["schema"], [
            {"name": "id", "type": "integer", "nullable": False},
            {"name": "email", "type": "string", "nullable": False},
            {"name": "amount", "type": "number", "nullable": True},
            {"name": "active", "type": "boolean", "nullable": False},
            {"name": "day", "type": "date", "nullable": False},
            {"name": "at", "type": "datetime", "nullable": False},
        ])
        for k in ("accepted", "rejected", "delivered", "queued", "in_flight",
                  "requests", "failures", "retries"):
            self.assertIn(k, js["stats"])
            self.assertIsInstance(js["stats"][k], int, (k, js["stats"]))
            self.assertEqual(js["stats"][k], 0, (k, js["stats"]))
        st, js, _ = self.sl.get("/v1/connectors/crm")
        self.assertEqual(js["body"], "array")
        self.assertEqual(js["method"], "POST")

    def test_stats_counters(self):
        st, js, _ = self.sl.post("crm", [rec(1), rec(2, active="yes"), rec(3),
                                         rec(4, extra=1), rec(5)])
        self.assertEqual(st, 200, self.sl.last_raw)
        self.assertEqual(js["accepted"], 3)
        st, js, _ = self.sl.post("crm", rec(6, id=None))
        self.assertEqual(st, 422, self.sl.last_raw)
        self.dest.wait_records(3)
        stats = self.sl.wait_drained("crm", 3)
        self.assertEqual(stats["accepted"], 3)
        self.assertEqual(stats["rejected"], 3)
        self.assertEqual(stats["delivered"], 3)
        self.assertEqual(stats["queued"], 0)
        self.assertEqual(stats["in_flight"], 0)
        self.assertEqual(stats["requests"], len(self.dest.requests()))
        self.assertEqual(stats["failures"], 0)
        self.assertEqual(stats["retries"], 0)
        other = self.sl.stats("other")
        self.assertEqual((other["accepted"], other["rejected"]), (0, 0))


class BodyLimitTest(SluiceTestCase):

    def test_over_max_body_bytes_413(self):
        dest = self.start_destination()
        sl = self.start_sluice({"crm": connector_lua("crm", dest.url + "/crm")},
                               gateway_extra="  max_body_bytes = 4096,")
        small = "[" + ",".join(text(i) for i in range(25)) + "]"
        self.assertLessEqual(len(small), 4096)
        st, js, _ = sl.post("crm", small)
        self.assertEqual(st, 200, sl.last_raw)
        self.assertEqual(js["accepted"], 25)
        big = "[" + ",".join(text(i) for i in range(40)) + "]"
        self.assertGreater(len(big), 4096)
        self.assertLess(len(big), 8192)
        try:
            st, js, _ = sl.post("crm", big)
        except (ConnectionError, OSError) as e:
            self.fail("connection failed instead of a 413 answer: %r" % e)
        self.assertEqual(st, 413, sl.last_raw)
        self.assertEqual(sl.stats("crm")["accepted"], 25)


if __name__ == "__main__":
    unittest.main(verbosity=2)
