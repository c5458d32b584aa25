"""The shipped examples of issue 13, run as they are (only the URL points
at a local destination): conf/connectors/bulk_contacts.lua against a bulk
API that answers 207 with one result per contact (422 for a bad email,
429 for a contact that is busy the first time). Asserted on what reached
the destination, on the dead letters and on `sluice dlq replay`. Python 3
standard library only.
"""

import json
import os
import sys
import threading
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
