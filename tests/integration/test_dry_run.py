"""POST /v1/connectors/{name}/records?dry_run=true (issue 15, item 4): the
same status and body as a real post of the same body, a Sluice-Dry-Run:
true header, and nothing spooled, delivered or counted accepted."""

import gzip
import json
import os
import re
import signal
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sluice_it import (LuaRaw, SluiceTestCase, compact,  # noqa: E402
                       connector_lua, wait_until)

KEY = "dry-run-intake-key"

# drops id 0 (the answer's "dropped"), keeps the rest as they are
TRANSFORM = """function(rec)
    if rec.id == 0 then return nil end
    return rec
  end"""


def rec(i, **over):
    d = {"id": i, "email": "u%d@example.com" % i, "amount": 1.5,
         "active": True, "day": "2024-02-29", "at": "2024-03-01T12:00:00Z"}
    d.update(over)
    return d


def without(d, k):
    d = dict(d)
    del d[k]
    return d


def ndjson(recs):
    return b"".join(compact(r) + b"\n" for r in recs)


JSON = {"Content-Type": "application/json"}
NDJSON = {"Content-Type": "application/x-ndjson"}

# (what, connector, body, headers, ids a real post delivers)
CASES = [
    ("all valid", "crm", compact([rec(1), rec(2), rec(3)]), JSON, {1, 2, 3}),
    ("mixed", "crm", compact([
        rec(10), rec(11, email=5), without(rec(12), "email"),
        rec(13, zzz=1), rec(0), rec(14, day="2023-02-29"), rec(15)]),
     JSON, {10, 15}),
    ("all invalid", "crm", compact([rec(20, id="20"), rec(21, active=1)]),
     JSON, set()),
    ("bad JSON", "crm", b'[{"id":30,"email":"x"', JSON, set()),
    ("empty array", "crm", b"[]", JSON, set()),
    ("ndjson", "crm", ndjson([rec(40), rec(41, amount="x"), rec(42)]),
     NDJSON, {40, 42}),
    ("gzip", "crm", gzip.compress(compact([rec(50), rec(51, id=None)])),
     dict(JSON, **{"Content-Encoding": "gzip"}), {50}),
    ("bad gzip", "crm", b"not gzip at all",
     dict(JSON, **{"Content-Encoding": "gzip"}), set()),
    ("too large", "crm", compact([rec(60 + i) for i in range(60)]), JSON,
     set()),
    ("wrong content type", "crm", b"id,email\n70,a@b\n",
     {"Content-Type": "text/csv"}, set()),
    ("no intake key", "keyed", compact([rec(80)]), JSON, set()),
    ("wrong intake key", "keyed", compact([rec(81)]),
     dict(JSON, Authorization="Bearer nope"), set()),
    ("right intake key", "keyed", compact([rec(82)]),
     dict(JSON, Authorization="Bearer " + KEY), {82}),
    ("unknown connector", "nosuch", compact([rec(90)]), JSON, set()),
    ("too many records", "keyed", compact([rec(95), rec(96), rec(97)]),
     dict(JSON, Authorization="Bearer " + KEY), set()),
]

# answered before the records route reads the query: no marker
UNMARKED = {"too large", "unknown connector"}
CHECKED = {"all valid", "mixed", "all invalid", "bad JSON", "empty array",
           "ndjson", "gzip", "too many records"}


class DryRunTest(SluiceTestCase):

    def setUp(self):
        self.dest = self.start_destination()
        self.sl = self.start_sluice({
            "crm": connector_lua("crm", self.dest.url + "/crm",
                                 unknown_fields="reject",
                                 batch={"max_delay_ms": 20},
                                 extra={"transform": LuaRaw(TRANSFORM)}),
            "keyed": connector_lua("keyed", self.dest.url + "/keyed",
                                   batch={"max_delay_ms": 20},
                                   extra={"intake_keys": [KEY],
                                          "limits": {
                                              "records_per_request": 2}}),
        }, gateway_extra="  max_body_bytes = 4096,")

    def post(self, name, body, headers, query=""):
        st, _, h = self.sl.request("POST", "/v1/connectors/%s/records%s"
                                   % (name, query), body=body,
                                   headers=headers)
        return st, self.sl.last_raw, h

    def metric(self, family, connector):
        st, _, _ = self.sl.get("/metrics")
        self.assertEqual(st, 200)
        m = re.search(r'^%s\{connector="%s"\} (\S+)$' % (family, connector),
                      self.sl.last_raw.decode(), re.M)
        self.assertIsNotNone(m, family)
        return float(m.group(1))

    def counters(self):
        return {(f, c): self.metric(f, c)
                for f in ("sluice_records_accepted_total",
                          "sluice_records_rejected_total",
                          "sluice_records_dropped_total",
                          "sluice_records_queued")
                for c in ("crm", "keyed")}

    def test_dry_run_answers_as_a_real_post_and_delivers_nothing(self):
        before = self.counters()
        dry = {}
        for what, name, body, h, _ in CASES:
            for q in ("?dry_run=true", "?dry_run=1&other=x"):
                st, raw, hdrs = self.post(name, body, h, q)
                self.assertEqual(hdrs.get("Sluice-Dry-Run"),
                                 None if what in UNMARKED else "true",
                                 "%s: marker" % what)
                if what in dry:
                    self.assertEqual(dry[what], (st, raw), what)
                dry[what] = (st, raw)
        # nothing of it spooled, delivered or counted accepted
        self.assertEqual(self.counters(), before)
        # counted: the dry runs whose records were checked
        self.assertEqual(self.metric("sluice_dry_runs_total", "crm"),
                         2 * (len(CHECKED) - 1))
        self.assertEqual(self.metric("sluice_dry_runs_total", "keyed"), 4)
        self.assertEqual(self.sl.stats("crm")["spool_records"], 0)
        self.assertEqual(self.dest.requests(), [])

        want = set()
        for what, name, body, h, ids in CASES:
            st, raw, hdrs = self.post(name, body, h)
            self.assertIsNone(hdrs.get("Sluice-Dry-Run"), what)
            self.assertEqual((st, raw), dry[what],
                             "%s: dry run %r, real post %r"
                             % (what, dry[what], (st, raw)))
            want |= ids
        # the statuses are the real ones (not just equal to each other)
        self.assertEqual([dry[c[0]][0] for c in CASES],
                         [200, 200, 422, 400, 200, 200, 200, 400, 413, 415,
                          401, 401, 200, 404, 413])
        mixed = json.loads(dry["mixed"][1])
        self.assertEqual(mixed["accepted"], 2)
        self.assertEqual(mixed["dropped"], 1)
        self.assertEqual([r["index"] for r in mixed["rejected"]],
                         [1, 2, 3, 5])
        wait_until(lambda: {r["id"] for r in self.dest.records()} == want,
                   10, msg=lambda: "delivered %r, want %r"
                   % (sorted(r["id"] for r in self.dest.records()),
                      sorted(want)))
        self.assertEqual(len(self.dest.records()), len(want))
        self.assertEqual(self.metric("sluice_records_accepted_total", "crm")
                         + self.metric("sluice_records_accepted_total",
                                       "keyed"), len(want))

    def test_bad_dry_run_value_400(self):
        body = compact([rec(1)])
        for q in ("?dry_run=maybe", "?dry_run=", "?dry_run",
                  "?dry_run=true&dry_run=true"):
            st, raw, _ = self.post("crm", body, JSON, q)
            self.assertEqual(st, 400, q)
            err = json.loads(raw)["error"]
            self.assertIn("dry_run", err, q)
        # a bad value is checked after the intake key
        st, _, _ = self.post("keyed", body, JSON, "?dry_run=maybe")
        self.assertEqual(st, 401)
        # false and 0 are a real post; other parameters are ignored
        for i, q in enumerate(("?dry_run=false", "?dry_run=0", "?x=1&y")):
            st, raw, h = self.post("crm", compact([rec(100 + i)]), JSON, q)
            self.assertEqual((st, json.loads(raw)),
                             (200, {"accepted": 1, "rejected": []}), q)
            self.assertIsNone(h.get("Sluice-Dry-Run"), q)
        self.dest.wait_records(3)
        self.assertEqual(sorted(r["id"] for r in self.dest.records()),
                         [100, 101, 102])
        self.assertEqual(self.metric("sluice_dry_runs_total", "crm"), 0)

    def test_removed_connector_404(self):
        # a reload removes "keyed": 404 for a dry run as for a real post
        os.unlink(self.sl.connector_path("keyed"))
        self.sl.proc.send_signal(signal.SIGHUP)

        def removed():
            st, _, _ = self.sl.get("/v1/connectors/keyed")
            return st == 404
        wait_until(removed, msg="keyed removed by the reload")
        body = compact([rec(1)])
        h = dict(JSON, Authorization="Bearer " + KEY)
        dry = self.post("keyed", body, h, "?dry_run=true")
        real = self.post("keyed", body, h)
        self.assertEqual(dry[:2], real[:2])
        self.assertEqual(dry[0], 404)
        self.assertIn(b"unknown connector", dry[1])

    def test_full_spool_dry_run_still_answers_the_verdict(self):
        # a destination that refuses everything fills a small queue: a real
        # post gets 503, a dry run the verdict (it needs no room)
        dest = self.start_destination(default=503)
        sl = self.start_sluice({"tiny": connector_lua(
            "tiny", dest.url + "/tiny",
            extra={"durability": "memory", "queue_max_bytes": 1048576})})
        n, st = 0, 200
        while st == 200 and n < 100000:
            st, _, _ = sl.post("tiny", [rec(n + i) for i in range(2000)])
            n += 2000
        self.assertEqual(st, 503, sl.last_raw)
        body = compact([rec(1), rec(2, id="2")])
        st, js, h = sl.request("POST", "/v1/connectors/tiny/records"
                               "?dry_run=true", body=body, headers=JSON)
        self.assertEqual(st, 200, sl.last_raw)
        self.assertEqual(js["accepted"], 1)
        self.assertEqual([r["index"] for r in js["rejected"]], [1])
        self.assertEqual(h.get("Sluice-Dry-Run"), "true")

if __name__ == "__main__":
    unittest.main()
