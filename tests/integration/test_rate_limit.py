"""Rate limits (issue 13, item 1) against a real rate limiter: Debian's
nginx with limit_req (rate=20r/s, burst=1 nodelay, limit_req_status 429),
started by the test in front of the Python destination (proxy_pass); the
burst of one forgives a single request that a busy machine delays and the
next that then comes early (without it, a 10 ms hiccup on the 55 ms gaps
drew a 429 in one run of seven). One record per request and concurrency 4
make many requests quickly. With rate_limit = { requests_per_s = 18 } no
request of at least 200 draws a 429 and they take at least (n-1)/18 s (a
lower bound the limiter sets, not a speed assertion); without a rate limit
nginx answers 429s (its log says so) and every record still arrives, once.
nginx's access log says, per request, when it came and how it was
answered. Against the Python destination alone: retries wait for the
limit like first tries, and records_per_s paces batches of 10 records."""

import os
import re
import shutil
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from servers import NGINX, Nginx  # noqa: E402
from sluice_it import (SluiceTestCase, connector_lua, crm_record,  # noqa: E402
                       free_port, wait_until)

LOG_FORMAT = "$msec $request_time $status $connection $request_uri"

SERVER = """\
  limit_req_zone $server_name zone=z:1m rate=20r/s;
  server {{
    listen 127.0.0.1:{port};
    server_name limited;  # the zone's key: an empty key is not limited
    location / {{
      limit_req zone=z burst=1 nodelay;
      limit_req_status 429;
      proxy_pass http://127.0.0.1:{upstream};
    }}
  }}
"""


@unittest.skipUnless(os.access(NGINX, os.X_OK),
                     "nginx is not installed (scripts/install-deps.sh)")
class RateLimitTest(SluiceTestCase):

    def setUp(self):
        super().setUp()
        self.tmp = tempfile.mkdtemp(prefix="sluice-nginx-")
        self.addCleanup(shutil.rmtree, self.tmp, True)
        self.dest = self.start_destination()
        self.port = free_port()
        self.nginx = Nginx(os.path.join(self.tmp, "nginx"), SERVER.format(
            port=self.port, upstream=self.dest.port), [self.port],
            log_format=LOG_FORMAT)
        self.addCleanup(self.nginx.stop)
        self.nginx.start()

    def access(self, path):
        """nginx's log lines for `path`: (arrival time, status,
        connection)."""
        out = []
        for line in self.nginx.access_lines():
            p = line.split(" ")
            if len(p) == 5 and p[4] == path:
                out.append((float(p[0]) - float(p[1]), int(p[2]), int(p[3])))
        return sorted(out)

    def deliver(self, path, n, rate_limit=None):
        """Send n records, one per request, through nginx; wait until all
        arrived and nginx logged every request. Returns (check's output,
        the log, sluice)."""
        extra = {"rate_limit": rate_limit} if rate_limit else {}
        sl = self.make_sluice({"crm": connector_lua(
            "crm", "http://127.0.0.1:%d%s" % (self.port, path),
            concurrency=4, batch={"max_records": 1, "max_delay_ms": 0},
            retry={"base_ms": 20, "max_ms": 200}, extra=extra)})
        rc, out, err = sl.check()
        self.assertEqual(rc, 0, err)
        sl.start()
        ids = list(range(n))
        st, js, _ = sl.post("crm", [crm_record(i) for i in ids])
        self.assertEqual((st, js.get("accepted")), (200, n), sl.last_raw)
        sl.wait_drained("crm", n, timeout=40)
        # every record arrived, once
        self.assertEqual(sorted(r["id"] for r in self.dest.records()), ids)
        requests = sl.stats("crm")["requests"]
        log = wait_until(lambda: (lambda e: e if len(e) >= requests else
                                  None)(self.access(path)), 10,
                         msg=lambda: "%d lines in nginx's log" % requests)
        return out, log, sl

    def test_paced_below_the_limit_draws_no_429(self):
        n = 210
        out, log, sl = self.deliver("/paced", n, {"requests_per_s": 18})
        self.assertIn("  rate_limit      18 requests/s (one per 55.5556 ms), "
                      "burst 1; retries count\n", out)
        statuses = [e[1] for e in log]
        self.assertEqual(statuses.count(429), 0, "429s: %r" % log)
        self.assertEqual(len(log), n)
        stats = sl.stats("crm")
        self.assertEqual((stats["requests"], stats["retries"]), (n, 0))
        # spaced by the limiter: no faster than 18/s (minus a little for
        # the clocks' granularity); no upper bound
        self.assertGreaterEqual(log[-1][0] - log[0][0], (n - 1) / 18 - 0.2,
                                log)
        # held back, and /metrics says for how long
        self.assertGreater(stats["rate_limited"], n // 2, stats)
        self.assertGreater(stats["rate_limit_wait_ms"], 0, stats)
        st, _, _ = sl.get("/metrics")
        self.assertEqual(st, 200)
        text = sl.last_raw.decode()
        m = re.search(r'^sluice_rate_limit_wait_seconds_total'
                      r'\{connector="crm"\} (\d+)\.(\d{3})$', text, re.M)
        self.assertIsNotNone(m, text)
        self.assertEqual(int(m.group(1)) * 1000 + int(m.group(2)),
                         sl.stats("crm")["rate_limit_wait_ms"])
        self.assertRegex(text, r'(?m)^sluice_rate_limit_delayed_total'
                               r'\{connector="crm"\} \d+$')

    def test_unpaced_draws_429s_and_loses_nothing(self):
        n = 120
        t0 = time.monotonic()
        out, log, sl = self.deliver("/unpaced", n)
        self.assertNotIn("rate_limit", out)
        statuses = [e[1] for e in log]
        self.assertGreater(statuses.count(429), 0,
                           "nginx limited nothing: %r" % log)
        self.assertEqual(statuses.count(200), n, log)
        self.assertEqual(set(statuses), {200, 429}, log)
        stats = sl.stats("crm")
        self.assertEqual(stats["requests"], len(log))
        self.assertEqual((stats["rate_limited"], stats["rate_limit_wait_ms"]),
                         (0, 0))
        self.assertLess(time.monotonic() - t0, 60)


class RateLimitRetriesTest(SluiceTestCase):
    """Without nginx: what reached the destination, and when."""

    def run_limited(self, n, rate_limit, batch, func=None):
        dest = self.start_destination(func=func)
        sl = self.start_sluice({"crm": connector_lua(
            "crm", dest.url + "/x", concurrency=4, batch=batch,
            retry={"base_ms": 1, "max_ms": 5},
            extra={"rate_limit": rate_limit})})
        ids = list(range(n))
        st, js, _ = sl.post("crm", [crm_record(i) for i in ids])
        self.assertEqual((st, js.get("accepted")), (200, n), sl.last_raw)
        stats = sl.wait_drained("crm", n, timeout=30)
        self.assertEqual(sorted(r["id"] for r in dest.records()), ids)
        times = [r.time for r in dest.requests()]
        return stats, max(times) - min(times)

    def test_retries_wait_for_the_limit_too(self):
        # every third request draws a 503, retried after 1-5 ms of
        # backoff: the retries take their turn like first tries
        stats, span = self.run_limited(
            30, {"requests_per_s": 10}, {"max_records": 1, "max_delay_ms": 0},
            func=lambda i, req: 503 if i % 3 == 0 else 200)
        self.assertGreater(stats["retries"], 10, stats)
        self.assertEqual(stats["requests"], 30 + stats["retries"])
        self.assertGreaterEqual(span, (stats["requests"] - 1) / 10 - 0.2,
                                stats)

    def test_records_per_s_paces_big_batches(self):
        # batches of 10; the bucket holds 100 records (one second's
        # worth): the first 10 batches go at once, the other 20 at 100
        # records/s
        stats, span = self.run_limited(
            300, {"records_per_s": 100}, {"max_records": 10,
                                          "max_delay_ms": 0})
        self.assertEqual(stats["requests"], 30, stats)
        self.assertGreaterEqual(span, (300 - 100) / 100 - 0.2, stats)
        self.assertGreater(stats["rate_limited"], 0, stats)


if __name__ == "__main__":
    unittest.main(verbosity=2)
