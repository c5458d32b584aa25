"""Metrics that answer the on-call questions (issue 14): /metrics scraped
while clients post is valid Prometheus text (`promtool check metrics`,
from Debian's prometheus package); the histograms agree with the
counters and with what the destination saw; TCP acks are timed once
per line answered; the oldest record's age rises while the destination
is down and falls back once it is up.

Assertions are on /metrics, the intake's answers and the requests at a
real local HTTP destination. Python 3 standard library only.
"""

import http.client
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sluice_it import (SluiceTestCase, LuaRaw, compact, connector_lua,  # noqa: E402
                       crm_record, free_port, wait_until)

SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$')
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def parse(text):
    """{(name, frozenset of (label, value)): float} of a scrape; checks
    each line is a comment or a sample."""
    out = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = SAMPLE.match(line)
        if not m:
            raise AssertionError("not a sample line: %r" % line)
        labels = frozenset(LABEL.findall(m.group(3) or ""))
        out[(m.group(1), labels)] = float(m.group(4))
    return out


def get(samples, name, **labels):
    want = set(labels.items())
    vals = [v for (n, ls), v in samples.items() if n == name and want <= ls]
    if not vals:
        raise AssertionError("no sample %s%r" % (name, labels))
    return sum(vals)


def buckets(samples, name, connector):
    """[(le, cumulative count)] of a histogram, by le ascending."""
    out = []
    for (n, ls), v in samples.items():
        d = dict(ls)
        if n == name + "_bucket" and d.get("connector") == connector:
            le = float("inf") if d["le"] == "+Inf" else float(d["le"])
            out.append((le, v))
    return sorted(out)


class Poster(threading.Thread):
    def __init__(self, port, base, posts, per_post=20):
        super().__init__(daemon=True)
        self.port, self.base, self.posts, self.per = port, base, posts, per_post
        self.statuses = []

    def run(self):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        for k in range(self.posts):
            first = self.base + k * self.per
            body = compact([crm_record(i) for i in
                            range(first, first + self.per)])
            conn.request("POST", "/v1/connectors/crm/records", body=body,
                         headers={"Content-Type": "application/json"})
            resp = conn.getresponse()
            resp.read()
            self.statuses.append(resp.status)
        conn.close()


class MetricsScrapeTest(SluiceTestCase):

    def scrape(self, sl):
        st, _, hdrs = sl.get("/metrics")
        self.assertEqual(st, 200)
        self.assertTrue(hdrs["Content-Type"].startswith("text/plain"))
        return sl.last_raw.decode("utf-8")

    def test_scrape_under_load_is_valid_and_agrees(self):
        dest = self.start_flex_destination()
        sl = self.start_sluice({"crm": connector_lua(
            "crm", dest.url + "/in", batch={"max_records": 100,
                                            "max_delay_ms": 20})})
        posters = [Poster(sl.port, 1000000 * (k + 1), 60) for k in range(3)]
        for p in posters:
            p.start()
        scrapes = []
        while any(p.is_alive() for p in posters):
            scrapes.append(self.scrape(sl))
            time.sleep(0.05)
        for p in posters:
            p.join()
        self.assertEqual(sorted({s for p in posters for s in p.statuses}),
                         [200])
        total = sum(len(p.statuses) * p.per for p in posters)
        sl.wait_drained("crm", total, timeout=30)
        self.assertTrue(scrapes, "no scrape taken during the load")

        promtool = shutil.which("promtool")
        if promtool:
            for text in (scrapes[len(scrapes) // 2], self.scrape(sl)):
                r = subprocess.run([promtool, "check", "metrics"],
                                   input=text.encode(), capture_output=True,
                                   timeout=60)
                self.assertEqual(r.returncode, 0, "promtool check metrics:\n%s"
                                 % (r.stdout + r.stderr).decode())
        else:
            sys.stderr.write("promtool not installed (Debian package "
                             "prometheus, scripts/install-deps.sh): the "
                             "scrape is not checked by promtool\n")

        s = parse(self.scrape(sl))
        c = "crm"
        requests = get(s, "sluice_requests_total", connector=c)
        reqs = dest.requests()
        self.assertEqual(requests, len(reqs))
        self.assertEqual(get(s, "sluice_records_accepted_total", connector=c),
                         total)
        # every attempt is timed and sized once, and answered once
        for h in ("sluice_delivery_attempt_duration_seconds",
                  "sluice_delivery_batch_records",
                  "sluice_delivery_batch_bytes"):
            self.assertEqual(get(s, h + "_count", connector=c), requests, h)
            b = buckets(s, h, c)
            self.assertEqual(b[-1], (float("inf"), requests), h)
            self.assertEqual([v for _, v in b], sorted(v for _, v in b),
                             "%s buckets are cumulative" % h)
        self.assertEqual(get(s, "sluice_delivery_batch_records_sum",
                             connector=c), total)
        self.assertEqual(get(s, "sluice_delivery_batch_bytes_sum",
                             connector=c), sum(len(r.body) for r in reqs))
        self.assertEqual(get(s, "sluice_responses_total", connector=c,
                             code="200"), requests)
        self.assertEqual(get(s, "sluice_responses_total", connector=c),
                         requests)
        self.assertEqual(get(s, "sluice_transport_failures_total",
                             connector=c), 0)
        posts = sum(len(p.statuses) for p in posters)
        self.assertEqual(get(s, "sluice_intake_request_duration_seconds_count",
                             connector=c), posts)
        self.assertEqual(buckets(s, "sluice_intake_request_duration_seconds",
                                 c)[-1], (float("inf"), posts))
        self.assertGreater(get(s, "sluice_intake_request_duration_seconds_sum",
                               connector=c), 0)
        self.assertGreater(get(s, "sluice_last_delivery_timestamp_seconds",
                               connector=c), time.time() - 600)
        self.assertEqual(get(s, "sluice_oldest_record_age_seconds",
                             connector=c), 0)
        self.assertEqual(get(s, "sluice_spool_records", connector=c), 0)
        self.assertEqual(len([k for k in s if k[0] == "sluice_build_info"]), 1)

    def test_oldest_record_age_while_the_destination_is_down(self):
        port = free_port()
        dest = self.start_flex_destination(port=port)
        sl = self.start_sluice({"crm": connector_lua(
            "crm", dest.url + "/in", concurrency=1,
            batch={"max_records": 50, "max_delay_ms": 20},
            retry={"base_ms": 50, "max_ms": 200})})
        st, _, _ = sl.post("crm", [crm_record(i) for i in range(10)])
        self.assertEqual(st, 200)
        sl.wait_drained("crm", 10)
        before_down = get(parse(self.scrape(sl)),
                          "sluice_last_delivery_timestamp_seconds",
                          connector="crm")
        self.assertGreater(before_down, 0)
        dest.stop()
        for k in range(5):
            st, _, _ = sl.post("crm", [crm_record(i) for i in
                                       range(100 + 100 * k, 200 + 100 * k)])
            self.assertEqual(st, 200)

        def age():
            return get(parse(self.scrape(sl)),
                       "sluice_oldest_record_age_seconds", connector="crm")
        a0 = wait_until(lambda: age() or None, 10,
                        msg="an oldest record age while the destination "
                        "is down")
        wait_until(lambda: age() >= a0 + 1.0, 15,
                   msg="the oldest record age rising while the "
                   "destination is down")
        s = parse(self.scrape(sl))
        self.assertGreater(get(s, "sluice_transport_failures_total",
                               connector="crm", cause="connect"), 0)
        self.assertGreater(get(s, "sluice_spool_records", connector="crm"), 0)
        self.assertEqual(get(s, "sluice_last_delivery_timestamp_seconds",
                             connector="crm"), before_down)
        dest.start()
        sl.wait_drained("crm", 510, timeout=30)
        self.assertEqual(age(), 0)
        s = parse(self.scrape(sl))
        self.assertGreater(get(s, "sluice_last_delivery_timestamp_seconds",
                               connector="crm"), before_down)
        self.assertEqual(get(s, "sluice_spool_records", connector="crm"), 0)

    def test_oldest_record_age_counts_batches_waiting_to_retry(self):
        """Every record cut into batches that are retrying (nothing left
        waiting in the spool): the age still rises, across a reload (the
        retired sender's batch counts), and is 0 once they are delivered."""
        port = free_port()
        dest = self.start_flex_destination(port=port)
        dest.stop()
        sl = self.start_sluice({"crm": connector_lua(
            "crm", dest.url + "/in", concurrency=1,
            batch={"max_records": 100, "max_delay_ms": 20},
            retry={"base_ms": 50, "max_ms": 200})})
        st, _, _ = sl.post("crm", [crm_record(i) for i in range(20)])
        self.assertEqual(st, 200)

        def scrape():
            return parse(self.scrape(sl))

        def all_cut():
            s = scrape()
            return (get(s, "sluice_records_queued", connector="crm") == 0
                    and get(s, "sluice_records_pending",
                            connector="crm") == 20
                    and get(s, "sluice_transport_failures_total",
                            connector="crm", cause="connect") > 0) or None
        wait_until(all_cut, 10, msg="all 20 records in a retrying batch")

        def age():
            return get(scrape(), "sluice_oldest_record_age_seconds",
                       connector="crm")
        a0 = wait_until(lambda: age() or None, 10,
                        msg="an oldest record age with every record cut")
        wait_until(lambda: age() >= a0 + 1.0, 15,
                   msg="the oldest record age rising while its batch "
                   "retries")
        self.assertEqual(get(scrape(), "sluice_records_queued",
                             connector="crm"), 0)
        # a reload: the batch stays with the retired sender; still counted
        with open(sl.connector_path("crm"), "w") as f:
            f.write(connector_lua(
                "crm", dest.url + "/in", concurrency=1,
                headers={"X-Gen": "two"},
                batch={"max_records": 100, "max_delay_ms": 20},
                retry={"base_ms": 50, "max_ms": 200}))
        sl.proc.send_signal(signal.SIGHUP)
        def reloaded():
            s = scrape()
            return s.get(("sluice_config_reloads_total",
                          frozenset({("result", "ok")})), 0) == 1
        wait_until(reloaded, 10, msg="a reload")
        a1 = age()
        self.assertGreaterEqual(a1, a0 + 1.0)
        wait_until(lambda: age() >= a1 + 0.5, 15,
                   msg="the oldest record age rising after the reload")
        dest.start()
        sl.wait_drained("crm", 20, timeout=30)
        self.assertEqual(age(), 0)
        self.assertEqual(sorted(r["id"] for r in dest.records()),
                         list(range(20)))

    def test_oldest_record_age_survives_a_restart(self):
        """The destination answers 503; the records wait. After a SIGTERM
        and a start on the same state directory the age goes on from
        where it was (the arrival marks in spool/arrivals), not from the
        start; once the destination is back every record arrives exactly
        once and the age is 0."""
        down = threading.Event()
        down.set()
        dest = self.start_destination(
            func=lambda i, req: 503 if down.is_set() else 200)
        sl = self.start_sluice({"crm": connector_lua(
            "crm", dest.url + "/in", concurrency=1,
            batch={"max_records": 5, "max_delay_ms": 20},
            retry={"base_ms": 50, "max_ms": 200})})
        st, _, _ = sl.post("crm", [crm_record(i) for i in range(10)])
        self.assertEqual(st, 200)
        st, _, _ = sl.post("crm", [crm_record(i) for i in range(10, 20)])
        self.assertEqual(st, 200)

        def age():
            return get(parse(self.scrape(sl)),
                       "sluice_oldest_record_age_seconds", connector="crm")
        wait_until(lambda: age() > 2.0, 15,
                   msg="the oldest record age past 2 s while the "
                   "destination answers 503")
        wait_until(lambda: dest.requests(), 10, msg="a refused attempt")
        before = age()
        t0 = time.monotonic()
        self.assertEqual(sl.stop(), 0)
        sl.start()
        after = age()
        gap = time.monotonic() - t0
        self.assertGreaterEqual(after, before + gap - 0.1,
                                msg="the age after the restart goes on "
                                "from before it (%.3f s before, %.3f s "
                                "after, %.3f s between)"
                                % (before, after, gap))
        self.assertIn("undelivered records", sl.stderr_text())
        down.clear()
        sl.wait_drained("crm", 20, timeout=30)
        self.assertEqual(age(), 0)
        ids = [r["id"] for r in dest.records()]
        self.assertEqual(sorted(ids), list(range(20)),
                         msg="every record exactly once")


def promtool_check(test, text):
    """`promtool check metrics` on text, when promtool is installed."""
    promtool = shutil.which("promtool")
    if not promtool:
        sys.stderr.write("promtool not installed: the scrape is not "
                         "checked by promtool\n")
        return
    r = subprocess.run([promtool, "check", "metrics"], input=text.encode(),
                       capture_output=True, timeout=60)
    test.assertEqual(r.returncode, 0, "promtool check metrics:\n%s"
                     % (r.stdout + r.stderr).decode())


class TcpAckMetricsTest(SluiceTestCase):

    def test_tcp_ack_duration_one_per_line_answered(self):
        """N lines to a TCP listener with ack, in more than one chunk (a
        chunk holds at most 1000 lines), some answered "error" (bad JSON,
        a schema miss, a line over max_line_bytes): N answers, then
        sluice_tcp_ack_duration_seconds counts N for that connector, with
        cumulative buckets; a connector with only the HTTP intake shows
        the family with every sample 0."""
        dest = self.start_flex_destination()
        tport = free_port()
        sl = self.start_sluice(
            {"crm": connector_lua("crm", dest.url + "/in"),
             "web": connector_lua("web", dest.url + "/web")},
            gateway_extra='  tcp = { { listen = "127.0.0.1:%d", connector = '
            '"crm", ack = true, max_line_bytes = 1024 } },' % tport)
        good = [compact(crm_record(i)) + b"\n" for i in range(1, 1500)]
        data = b"".join(good[:700]) + b"{bad\n" + b"".join(good[700:1200]) \
            + b'{"id":' + b"9" * 2000 + b"}\n" \
            + compact(dict(crm_record(5000), id="x")) + b"\n" \
            + b"".join(good[1200:])
        n = len(good) + 3
        sock = socket.create_connection(("127.0.0.1", tport), timeout=30)
        self.addCleanup(sock.close)
        sock.sendall(data)
        f = sock.makefile("rb")
        answers = [f.readline() for _ in range(n)]
        self.assertEqual(len([a for a in answers if a == b"ok\n"]),
                         len(good))
        self.assertEqual(len([a for a in answers
                              if a.startswith(b"error {")]), 3)
        # the answers are queued before the scrape; the count follows them
        text = sl.get("/metrics") and sl.last_raw.decode()
        promtool_check(self, text)
        s = parse(text)
        h = "sluice_tcp_ack_duration_seconds"
        self.assertEqual(get(s, h + "_count", connector="crm"), n)
        b = buckets(s, h, "crm")
        self.assertEqual(b[-1], (float("inf"), n))
        self.assertEqual([v for _, v in b], sorted(v for _, v in b),
                         "buckets are cumulative")
        self.assertGreater(get(s, h + "_sum", connector="crm"), 0)
        # HTTP only: the family is there, all 0
        st, _, _ = sl.post("web", [crm_record(i) for i in range(3)])
        self.assertEqual(st, 200)
        s = parse(sl.get("/metrics") and sl.last_raw.decode())
        self.assertEqual(get(s, h + "_count", connector="web"), 0)
        self.assertEqual(buckets(s, h, "web")[-1], (float("inf"), 0))
        self.assertEqual(get(s, "sluice_intake_request_duration_seconds_count",
                             connector="web"), 1)
        self.assertEqual(get(s, "sluice_intake_request_duration_seconds_count",
                             connector="crm"), 0)
        sl.wait_drained("crm", len(good))


class LuaMetricsTest(SluiceTestCase):

    def test_lua_calls_errors_and_budget_by_kind(self):
        """transform, headers_fn and response_fn are counted apart: calls,
        errors, budget overruns and time; the scrape stays valid."""
        dest = self.start_flex_destination()
        sl = self.start_sluice({"crm": connector_lua(
            "crm", dest.url + "/in", batch={"max_records": 10,
                                            "max_delay_ms": 20},
            extra={
                "transform": LuaRaw(
                    "function(rec)\n"
                    "    if rec.id == 3 then error('no 3') end\n"
                    "    if rec.id == 4 then while true do end end\n"
                    "    return rec\n"
                    "  end"),
                "headers_fn": LuaRaw(
                    "function(req) return { ['X-N'] = tostring(#req.batch_id) }"
                    " end"),
                "response_fn": LuaRaw("function(res, req) return nil end"),
            })})
        st, js, _ = sl.post("crm", [crm_record(i) for i in range(10)])
        self.assertEqual(st, 200, sl.last_raw)
        self.assertEqual(js["accepted"], 8)
        sl.wait_drained("crm", 8)
        text = sl.get("/metrics") and sl.last_raw.decode()
        s = parse(text)

        def lua(name, kind):
            return get(s, name, connector="crm", function=kind)
        self.assertEqual(lua("sluice_lua_calls_total", "transform"), 10)
        self.assertEqual(lua("sluice_lua_errors_total", "transform"), 2)
        self.assertEqual(lua("sluice_lua_budget_exceeded_total", "transform"),
                         1)
        self.assertGreater(lua("sluice_lua_seconds_total", "transform"), 0)
        requests = get(s, "sluice_requests_total", connector="crm")
        self.assertGreaterEqual(lua("sluice_lua_calls_total", "headers_fn"),
                                requests)
        self.assertEqual(lua("sluice_lua_errors_total", "headers_fn"), 0)
        self.assertEqual(lua("sluice_lua_calls_total", "response_fn"),
                         requests)
        self.assertEqual(lua("sluice_lua_errors_total", "response_fn"), 0)
        promtool = shutil.which("promtool")
        if promtool:
            r = subprocess.run([promtool, "check", "metrics"],
                               input=text.encode(), capture_output=True,
                               timeout=60)
            self.assertEqual(r.returncode, 0, (r.stdout + r.stderr).decode())


if __name__ == "__main__":
    unittest.main(verbosity=2)
