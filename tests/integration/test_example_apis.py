"""The shipped examples of issue 13, run as they are (only the URL points
at a local destination): conf/connectors/saas_events.lua against a
rate-limited API (a window of requests with X-RateLimit headers and 429
past it, a 409 for events it already has, a 423 "locked" once) and
conf/connectors/bulk_contacts.lua against a bulk API that answers 207
with one result per contact (422 for a bad email, 429 for a contact that
is busy the first time). Asserted on what reached the destination, on the
dead letters and on `sluice dlq replay`; docs/operations.md describes
both ("A rate-limited SaaS API", "A bulk API"). Python 3 standard library
only.
"""

import json
import math
import os
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sluice_it import SOURCE_DIR, SluiceTestCase, wait_until  # noqa: E402

EXAMPLES = os.path.join(SOURCE_DIR, "conf", "connectors")


def example(stem, base, dest_url):
    """conf/connectors/<stem>.lua with its API's base URL replaced."""
    with open(os.path.join(EXAMPLES, stem + ".lua")) as f:
        src = f.read()
    assert base in src, "%s.lua no longer uses %s" % (stem, base)
    return src.replace(base, dest_url)


class SaasApi:
    """A window of LIMIT requests per second that says what is left in
    X-RateLimit-* headers and answers 429 past it; 423 for the first
    request; 409 for a batch that holds an event it already has."""

    LIMIT = 100

    def __init__(self):
        self.lock = threading.Lock()
        self.end = 0.0
        self.count = 0
        self.seen_ids = set()
        self.over = 0

    def __call__(self, index, req):
        with self.lock:
            now = time.monotonic()
            if now >= self.end:
                self.end, self.count = now + 1.0, 0
            self.count += 1
            left = self.end - now
            h = {"X-RateLimit-Limit": str(self.LIMIT),
                 "X-RateLimit-Remaining": str(max(0, self.LIMIT - self.count)),
                 "X-RateLimit-Reset": str(math.ceil(left))}
            if self.count > self.LIMIT:
                self.over += 1
                return 429, h, b'{"error":"rate limited"}'
            if index == 0:
                return 423, h, b'{"error":"account locked for maintenance"}'
            ids = [e["id"] for e in json.loads(req.body)["batch"]]
            dup = any(i in self.seen_ids for i in ids)
            self.seen_ids.update(ids)
            if dup:
                return 409, h, b'{"error":"an event with this id exists"}'
            return 200, h, b'{"ok":true}'


def event(i, dup=False):
    return {"id": "ev-%d" % i, "user_id": "u-%d" % (i % 7),
            "name": "Signed Up", "timestamp": "2026-12-01T10:00:%02dZ" % (i % 60),
            "plan": None if i % 3 else "pro", "extra": "dropped"}


class BulkApi:
    """207 with {"results": [...]}, one per contact in request order:
    422 for an email with "invalid", 429 the first time an email with
    "busy" comes, 201 otherwise. After accept_all(), 201 for everything."""

    def __init__(self):
        self.lock = threading.Lock()
        self.busy_seen = set()
        self.take_all = False
        self.arrived = []        # emails answered 201, in order

    def accept_all(self):
        with self.lock:
            self.take_all = True

    def __call__(self, index, req):
        contacts = json.loads(req.body)["contacts"]
        results = []
        with self.lock:
            for c in contacts:
                e = c["email"]
                if not self.take_all and "invalid" in e:
                    results.append({"status": 422, "error": {
                        "code": "invalid_email", "message": "email is invalid"}})
                elif not self.take_all and "busy" in e and e not in self.busy_seen:
                    self.busy_seen.add(e)
                    results.append({"status": 429, "error": {
                        "message": "contact is being updated, try again"}})
                else:
                    self.arrived.append(e)
                    results.append({"status": 201, "id": "c-%d" % len(self.arrived)})
        return 207, {}, json.dumps({"results": results}).encode()


def contact(i):
    kind = "invalid" if i % 10 == 3 else "busy" if i % 10 == 7 else "ok"
    return {"email": "%s-%d@example.com" % (kind, i), "first_name": "F%d" % i,
            "last_name": None, "plan": "basic"}


class ExampleApisTest(SluiceTestCase):

    def test_saas_events_example(self):
        api = SaasApi()
        dest = self.start_flex_destination(func=api)
        sl = self.start_sluice({"saas_events": example(
            "saas_events", "https://track.example.com", dest.url)})
        rc, out, err = sl.check()
        self.assertEqual(rc, 0, err)
        self.assertIn("90 requests/s", out)
        self.assertIn("adaptive (1 to 16)", out)
        self.assertIn("success 409; retry 423", out)
        n = 300
        evs = [event(i) for i in range(n)]
        for i in range(0, n, 30):
            st, js, _ = sl.post("saas_events", evs[i:i + 30])
            self.assertEqual((st, js.get("accepted")), (200, 30), sl.last_raw)
        sl.wait_drained("saas_events", n, timeout=60)
        # the API has these already: sent again, they get 409, which the
        # example's status lists count as delivered
        st, js, _ = sl.post("saas_events", evs[:5])
        self.assertEqual(st, 200, sl.last_raw)
        stats = sl.wait_drained("saas_events", n + 5, timeout=30)
        reqs = dest.requests()
        self.assertEqual(api.over, 0, "a 429 was drawn: %s" % dest.summary())
        self.assertEqual(reqs[0].status, 423)
        got = set()
        for r in reqs:
            if r.status in (200, 409):
                got.update(e["id"] for e in json.loads(r.body)["batch"])
            self.assertNotIn("extra", r.body.decode(), "unknown field dropped")
            self.assertTrue(r.headers["Authorization"].startswith("Basic "))
        self.assertEqual(got, {"ev-%d" % i for i in range(n)})
        self.assertIn(409, [r.status for r in reqs])
        first = json.loads(reqs[0].body)["batch"]
        again = [r for r in reqs[1:] if json.loads(r.body)["batch"] == first]
        self.assertTrue(again, "the batch answered 423 came again")
        self.assertEqual(stats["dead_lettered"], 0)
        self.assertEqual(sl.dlq_list("saas_events"), [])

    def test_bulk_contacts_example(self):
        api = BulkApi()
        dest = self.start_flex_destination(func=api)
        sl = self.start_sluice({"bulk_contacts": example(
            "bulk_contacts", "https://api.example.com", dest.url)})
        n = 40
        recs = [contact(i) for i in range(n)]
        st, js, _ = sl.post("bulk_contacts", recs)
        self.assertEqual((st, js.get("accepted")), (200, n), sl.last_raw)
        bad = [r["email"] for r in recs if "invalid" in r["email"]]
        busy = [r["email"] for r in recs if "busy" in r["email"]]
        good = [r["email"] for r in recs if r["email"] not in bad + busy]
        stats = sl.wait_drained("bulk_contacts", n - len(bad), timeout=30)
        self.assertEqual(stats["dead_lettered"], len(bad), stats)

        # Every good contact arrived once, every busy one on a later
        # attempt, in a batch of its own; nothing else was sent again.
        self.assertEqual(sorted(api.arrived), sorted(good + busy))
        sent = {}
        for r in dest.requests():
            self.assertEqual(r.headers["Authorization"], "Bearer demo-token")
            for c in json.loads(r.body)["contacts"]:
                sent[c["email"]] = sent.get(c["email"], 0) + 1
        for e in good + bad:
            self.assertEqual(sent[e], 1, e)
        for e in busy:
            self.assertEqual(sent[e], 2, e)
        first = json.loads(dest.requests()[0].body)["contacts"]
        self.assertEqual(len(first), n, "one batch of all 40 first")
        retried = [json.loads(r.body)["contacts"] for r in dest.requests()[1:]]
        self.assertEqual(sorted(c["email"] for b in retried for c in b),
                         sorted(busy), "the retry batch holds the busy ones")

        # Exactly the refused contacts are dead letters, with the API's
        # message and the item and batch they were.
        dl = sl.dlq_list("bulk_contacts")
        self.assertEqual(sorted(e["record"]["email"] for e in dl), sorted(bad))
        for e in dl:
            self.assertIn("status 422: email is invalid", e["reason"])
            idx = [c["email"] for c in first].index(e["record"]["email"]) + 1
            self.assertIn("item %d of batch bulk_contacts-" % idx, e["reason"])
            self.assertEqual(e["status"], 207)

        # Fixed at the API: replayed, they arrive, and the dlq is empty.
        api.accept_all()
        rc, out, err = sl.cli("dlq", "replay", "bulk_contacts")
        self.assertEqual(rc, 0, out + err)
        self.assertIn("replayed %d record(s)" % len(bad), out)
        wait_until(lambda: all(e in api.arrived for e in bad), 20,
                   msg=lambda: "replayed contacts at the API: %s" % dest.summary())
        self.assertEqual(sl.dlq_list("bulk_contacts"), [])
        sl.wait_drained("bulk_contacts", n, timeout=20)


if __name__ == "__main__":
    unittest.main()
