"""The destination's rate-limit headers (issue 13, item 2): a destination
that allows K requests per window and says so in its answers
(X-RateLimit-Remaining/-Reset as a wait or as a Unix time, the IETF
draft's older RateLimit-Remaining/-Reset, or its structured RateLimit with
RateLimit-Policy) and answers 429 past
its quota. sluice stops when the remaining quota is 0 and resumes after
the reset: it draws no 429 and delivers every record; the pauses are
logged and counted in /metrics.

Assertions are on what reached the destination and on what sluice says,
never on timings. Python 3 standard library only.
"""

import math
import os
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sluice_it import (SluiceTestCase, connector_lua, crm_record,  # noqa: E402
                       wait_until)

K = 5          # requests per window
WINDOW = 1.0   # seconds
RECORDS = 60   # in batches of 2: 30 requests, 6 windows or more


class Window:
    """A fixed window of K requests that starts with the first request
    after the last one ended; past K, 429."""

    def __init__(self, headers):
        self.headers = headers  # (remaining, reset_s, end_wall) -> dict
        self.lock = threading.Lock()
        self.end = 0.0
        self.count = 0
        self.over = 0
        self.seen = []  # (index, seconds into the window, count)

    def __call__(self, index, req):
        with self.lock:
            now = time.monotonic()
            if now >= self.end:
                self.end = now + WINDOW
                self.count = 0
            self.count += 1
            over = self.count > K
            if over:
                self.over += 1
            left = self.end - now
            self.seen.append((index, round(WINDOW - left, 3), self.count))
            h = self.headers(max(0, K - self.count), left,
                             time.time() + left)
        if over:
            return 429, h, b'{"error":"rate limited"}'
        return 200, h


def x_delta(remaining, left, end_wall):
    return {"X-RateLimit-Limit": str(K),
            "X-RateLimit-Remaining": str(remaining),
            "X-RateLimit-Reset": str(math.ceil(left))}


def x_epoch(remaining, left, end_wall):
    return {"X-RateLimit-Limit": str(K),
            "X-RateLimit-Remaining": str(remaining),
            "X-RateLimit-Reset": str(math.ceil(end_wall))}


def draft_fields(remaining, left, end_wall):
    return {"RateLimit-Limit": str(K),
            "RateLimit-Remaining": str(remaining),
            "RateLimit-Reset": str(math.ceil(left))}


def structured(remaining, left, end_wall):
    return {"RateLimit-Policy": '"default";q=%d;w=%d' % (K, WINDOW),
            "RateLimit": '"default";r=%d;t=%d' % (remaining, math.ceil(left))}


class RateLimitHeadersTest(SluiceTestCase):

    def run_against(self, headers, concurrency):
        limiter = Window(headers)
        dest = self.start_flex_destination(func=limiter)
        sl = self.start_sluice({"crm": connector_lua(
            "crm", dest.url + "/in", concurrency=concurrency,
            batch={"max_records": 2, "max_delay_ms": 20},
            retry={"base_ms": 20, "max_ms": 200})})
        recs = [crm_record(i) for i in range(RECORDS)]
        for i in range(0, RECORDS, 10):
            st, js, _ = sl.post("crm", recs[i:i + 10])
            self.assertEqual(st, 200, sl.last_raw)
        stats = sl.wait_drained("crm", RECORDS, timeout=60)
        got = sorted(r["id"] for r in dest.records())
        self.assertEqual(got, list(range(RECORDS)), "every record, once")
        statuses = [r.status for r in dest.requests()]
        self.assertNotIn(429, statuses, "sluice drew a 429; requests "
                         "(index, s into the window, count): %r"
                         % limiter.seen)
        self.assertEqual(limiter.over, 0)
        self.assertEqual(stats["failures"], 0)
        self.assertGreaterEqual(len(statuses), RECORDS // 2)
        # every window's quota ran out: sluice paused at least once per
        # window after the first (6 windows' worth of requests)
        self.assertGreaterEqual(stats["quota_pauses"], 5, stats)
        st, _, _ = sl.get("/metrics")
        self.assertIn('sluice_quota_pauses_total{connector="crm"} %d'
                      % stats["quota_pauses"], sl.last_raw.decode())
        log = sl.stderr_text()
        self.assertRegex(log, r"crm: destination says quota exhausted; "
                         r"pausing [12] s")
        self.assertEqual(log.count("quota exhausted"), stats["quota_pauses"])
        return dest

    def test_x_ratelimit_reset_seconds(self):
        self.run_against(x_delta, concurrency=1)

    def test_in_flight_requests_count(self):
        """4 requests in flight at once, 5 per window: what remains is
        shared with those still out."""
        self.run_against(x_delta, concurrency=4)

    def test_x_ratelimit_reset_unix_time(self):
        self.run_against(x_epoch, concurrency=2)

    def test_draft_ratelimit_fields(self):
        self.run_against(draft_fields, concurrency=2)

    def test_structured_ratelimit(self):
        self.run_against(structured, concurrency=3)


if __name__ == "__main__":
    unittest.main()
