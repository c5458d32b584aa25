"""The HTTP intake's own bounds (issue 5): every refusal is a JSON answer
(also those libevent gives before sluice sees the request: body or headers
too large, a malformed request), slow clients are closed after
request_timeout_s without holding up anyone else, idle connections after
idle_timeout_s, and at max_connections the intake stops accepting until a
connection closes; nothing of a refused request is kept. Python 3 standard
library only."""

import os
import socket
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sluice_it import (SluiceTestCase, compact, connector_lua,  # noqa: E402
                       crm_record, read_http_response,
                       wait_until)

PATH = b"/v1/connectors/crm/records"


def closed_by_peer(sock, timeout):
    """Wait until the peer closes: True, or False after `timeout` s."""
    sock.settimeout(timeout)
    try:
        while True:
            chunk = sock.recv(4096)
            if not chunk:
                return True
    except socket.timeout:
        return False
    except ConnectionResetError:
        return True


def post_bytes(ids):
    body = compact([crm_record(i) for i in ids])
    return (b"POST %s HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Content-Length: %d\r\n\r\n" % (PATH, len(body))) + body


class HttpLimitsTest(SluiceTestCase):

    def start(self, extra):
        self.dest = self.start_flex_destination()
        self.sl = self.start_sluice(
            {"crm": connector_lua("crm", self.dest.url + "/in")},
            gateway_extra=extra)

    def connect(self):
        s = socket.create_connection(("127.0.0.1", self.sl.port), timeout=10)
        self.addCleanup(s.close)
        return s

    def metric(self, name):
        st, _, _ = self.sl.request("GET", "/metrics")
        self.assertEqual(st, 200)
        for l in self.sl.last_raw.decode().splitlines():
            if l.startswith(name + " "):
                return int(l.split()[1])
        self.fail("no metric " + name)

    def test_refusals_before_the_handler_are_json(self):
        self.start("  max_body_bytes = 65536, max_header_bytes = 4096,")
        # a declared body over the limit, asked with Expect: refused before
        # the body (no 100 Continue), in JSON
        s = self.connect()
        s.sendall(b"POST %s HTTP/1.1\r\nHost: x\r\nContent-Type: application/"
                  b"json\r\nContent-Length: 10000000\r\nExpect: 100-continue"
                  b"\r\n\r\n" % PATH)
        self.assert_json_error(read_http_response(s), 413,
                               ["Content-Length 10000000",
                                "max_body_bytes (65536 bytes)",
                                "nothing of it was accepted"])
        # a length of twelve digits is named as sent
        s = self.connect()
        s.sendall(b"POST %s HTTP/1.1\r\nHost: x\r\ncontent-length:   "
                  b"123456789012\r\n\r\n[" % PATH)
        self.assert_json_error(read_http_response(s), 413,
                               ["Content-Length 123456789012"])
        # the same without Expect, the body sent
        big = compact([crm_record(i) for i in range(2000)])
        self.assertGreater(len(big), 65536)
        s = self.connect()
        s.sendall(b"POST %s HTTP/1.1\r\nHost: x\r\nContent-Type: application/"
                  b"json\r\nContent-Length: %d\r\n\r\n" % (PATH, len(big)))
        try:
            s.sendall(big)
        except (ConnectionResetError, BrokenPipeError):
            pass
        self.assert_json_error(read_http_response(s), 413,
                               ["Content-Length %d" % len(big),
                                "max_body_bytes"])
        # chunked, over the limit only once decoded
        s = self.connect()
        s.sendall(b"POST %s HTTP/1.1\r\nHost: x\r\nContent-Type: application/"
                  b"json\r\nTransfer-Encoding: chunked\r\n\r\n" % PATH)
        try:
            for k in range(0, len(big), 8192):
                piece = big[k:k + 8192]
                s.sendall(b"%x\r\n%s\r\n" % (len(piece), piece))
            s.sendall(b"0\r\n\r\n")
        except (ConnectionResetError, BrokenPipeError):
            pass
        self.assert_json_error(read_http_response(s), 413, ["max_body_bytes"])
        # headers over max_header_bytes
        s = self.connect()
        s.sendall(b"POST %s HTTP/1.1\r\nHost: x\r\nX-Pad: %s\r\n"
                  b"Content-Length: 2\r\n\r\n[]" % (PATH, b"p" * 8000))
        self.assert_json_error(read_http_response(s), 431,
                               ["max_header_bytes (4096 bytes)"])
        # a malformed request line, a malformed header, bad chunk framing
        for raw, words in (
                (b"GARBAGE\r\n\r\n", "malformed HTTP request"),
                (b"POST %s HTTP/1.1\r\nno colon here\r\n\r\n" % PATH,
                 "malformed HTTP request"),
                (b"POST %s HTTP/1.1\r\nContent-Length: abc\r\n\r\n" % PATH,
                 "malformed HTTP request"),
                (b"POST %s HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: "
                 b"chunked\r\n\r\n5\r\n[{}]]\r\nzz\r\n" % PATH,
                 "malformed chunked body"),
                (b"POST %s HTTP/1.1\r\nHost: x\r\nExpect: 200-ok\r\n"
                 b"Content-Length: 2\r\n\r\n" % PATH, None)):
            s = self.connect()
            s.sendall(raw)
            if words:
                self.assert_json_error(read_http_response(s), 400, [words])
            else:
                self.assert_json_error(read_http_response(s), 417, ["Expect"])
        # none of it was kept; the intake still works
        self.assertEqual(self.sl.stats("crm")["accepted"], 0)
        self.assertEqual(self.metric("sluice_http_requests_refused_total"), 10)
        st, ans, _ = self.sl.post("crm", [crm_record(1)])
        self.assertEqual(st, 200, ans)
        wait_until(lambda: self.dest.ids() == [1], 10, msg="record 1 arrives")

    def test_slow_client_is_closed_others_are_served(self):
        self.start("  request_timeout_s = 2, idle_timeout_s = 30,")
        slow = []
        for _ in range(3):
            s = self.connect()
            s.sendall(b"POST %s HTTP/1.1\r\n" % PATH)
            slow.append(s)
        t0 = time.monotonic()
        stop = threading.Event()
        trickled = [0]

        def trickle():
            # a header byte every 0.3 s per connection: never idle long
            # enough for an inactivity timeout
            while not stop.is_set():
                for s in slow:
                    try:
                        s.sendall(b"X")
                        trickled[0] += 1
                    except OSError:
                        pass
                time.sleep(0.3)
        th = threading.Thread(target=trickle, daemon=True)
        th.start()
        self.addCleanup(stop.set)
        # everyone else is served meanwhile, on new and kept-alive
        # connections
        ids = []
        for k in range(10):
            batch = list(range(k * 10, k * 10 + 10))
            st, ans, _ = self.sl.post("crm", [crm_record(i) for i in batch])
            self.assertEqual(st, 200, ans)
            ids += batch
            time.sleep(0.05)
        for s in slow:
            self.assertTrue(closed_by_peer(s, 10), "slow client not closed")
        elapsed = time.monotonic() - t0
        stop.set()
        th.join(5)
        self.assertGreaterEqual(elapsed, 1.9)  # not before its time
        self.assertGreater(trickled[0], 6)
        wait_until(lambda: sorted(self.dest.ids()) == ids, 10,
                   msg="every record of the served clients")
        self.assertIn("HTTP client too slow", self.sl.stderr_tail(200))
        self.assertEqual(self.metric("sluice_http_slow_closed_total"), 3)
        # a slow but timely request (1 s of 2) is taken
        s = self.connect()
        req = post_bytes([500, 501])
        for k in range(0, len(req), len(req) // 5 + 1):
            s.sendall(req[k:k + len(req) // 5 + 1])
            time.sleep(0.2)
        resp = read_http_response(s)
        self.assertEqual(resp[0], 200, resp)
        # the clock is per request: a kept-alive connection may send a
        # second request long after its first
        time.sleep(2.5)
        s.sendall(post_bytes([502]))
        resp = read_http_response(s)
        self.assertEqual(resp[0], 200, resp)
        wait_until(lambda: {500, 501, 502} <= set(self.dest.ids()), 10,
                   msg="the timely slow records")

    def test_idle_connections_are_closed(self):
        self.start("  idle_timeout_s = 1, request_timeout_s = 30,")
        silent = self.connect()          # never sends a byte
        kept = self.connect()            # one request, then nothing
        kept.sendall(post_bytes([7]))
        self.assertEqual(read_http_response(kept)[0], 200)
        t0 = time.monotonic()
        self.assertTrue(closed_by_peer(silent, 10), "silent client kept")
        self.assertTrue(closed_by_peer(kept, 10), "idle keep-alive kept")
        self.assertGreaterEqual(time.monotonic() - t0, 0.5)
        wait_until(lambda: self.dest.ids() == [7], 10, msg="record 7")

    def test_connection_limit(self):
        self.start("  max_connections = 4, request_timeout_s = 30,"
                   " idle_timeout_s = 30,")
        held = [self.connect() for _ in range(4)]
        held[0].sendall(post_bytes([1]))  # a served one counts too
        self.assertEqual(read_http_response(held[0])[0], 200)
        # the fifth is queued by the kernel, not served while four are open
        fifth = self.connect()
        fifth.sendall(post_bytes([2]))
        fifth.settimeout(1.0)
        with self.assertRaises(socket.timeout):
            fifth.recv(1)
        wait_until(lambda: "not accepting new ones" in self.sl.stderr_tail(100),
                   5, msg="the pause is logged")
        # one closes: the fifth is taken and answered
        held[1].close()
        fifth.settimeout(10)
        resp = read_http_response(fifth)
        self.assertEqual(resp[0], 200, resp)
        wait_until(lambda: sorted(self.dest.ids()) == [1, 2], 10,
                   msg="records 1 and 2")
        # a crowd of 40 clients against 4 slots: each is served in turn as
        # the others finish
        for s in held[2:] + [held[0], fifth]:
            s.close()
        results = []

        def client(i):
            try:
                c = socket.create_connection(("127.0.0.1", self.sl.port),
                                             timeout=20)
                c.sendall(post_bytes([1000 + i]).replace(
                    b"\r\n\r\n", b"\r\nConnection: close\r\n\r\n", 1))
                results.append(read_http_response(c)[0])
                c.close()
            except OSError as e:
                results.append(repr(e))
        ths = [threading.Thread(target=client, args=(i,)) for i in range(40)]
        for t in ths:
            t.start()
        for t in ths:
            t.join(30)
        self.assertEqual(results, [200] * 40)
        wait_until(lambda: set(range(1000, 1040)) <= set(self.dest.ids()), 10,
                   msg="the crowd's records")
        self.assertIn("accepting HTTP connections again",
                      self.sl.stderr_tail(200))
        self.assertGreaterEqual(self.metric("sluice_http_accept_paused_total"), 1)
        # only the /metrics request's own connection is open now
        wait_until(lambda: self.metric("sluice_http_connections") == 1, 5,
                   msg="the crowd's connections closed")


if __name__ == "__main__":
    unittest.main()
