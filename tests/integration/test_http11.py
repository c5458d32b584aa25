"""HTTP behaviour real clients rely on (issue 5): chunked request bodies,
keep-alive (several requests on one connection), `Expect: 100-continue`,
and a body over max_body_bytes refused with 413 and nothing kept — also
when the client asked with Expect first, before sending the body. Python 3
standard library only; assertions on answers and on the destination."""

import http.client
import os
import socket
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sluice_it import (SluiceTestCase, compact, connector_lua,  # noqa: E402
                       crm_record, read_http_response,
                       wait_until)

PATH = "/v1/connectors/crm/records"


class Http11Test(SluiceTestCase):

    def setUp(self):
        super().setUp()
        self.dest = self.start_flex_destination()
        self.sl = self.start_sluice(
            {"crm": connector_lua("crm", self.dest.url + "/in")},
            gateway_extra="  max_body_bytes = 65536,")

    def body(self, ids):
        return compact([crm_record(i) for i in ids])

    def test_chunked_and_keep_alive(self):
        c = http.client.HTTPConnection("127.0.0.1", self.sl.port, timeout=10)
        self.addCleanup(c.close)
        data = self.body(range(0, 40))

        def pieces():
            for k in range(0, len(data), 113):
                yield data[k:k + 113]
        c.request("POST", PATH, body=pieces(), encode_chunked=True,
                  headers={"Content-Type": "application/json"})
        r = c.getresponse()
        self.assertEqual(r.status, 200, r.read())
        r.read()
        for k in range(1, 4):  # the same connection again
            c.request("POST", PATH, body=self.body(range(k * 40, k * 40 + 40)),
                      headers={"Content-Type": "application/json"})
            r = c.getresponse()
            self.assertEqual(r.status, 200)
            r.read()
        wait_until(lambda: set(range(160)) <= set(self.dest.ids()), 10,
                   msg="160 records")

    def test_expect_100_continue(self):
        data = self.body(range(500, 520))
        s = socket.create_connection(("127.0.0.1", self.sl.port), timeout=10)
        self.addCleanup(s.close)
        s.sendall(b"POST %s HTTP/1.1\r\nHost: x\r\nContent-Type: application/json"
                  b"\r\nContent-Length: %d\r\nExpect: 100-continue\r\n\r\n"
                  % (PATH.encode(), len(data)))
        self.assertTrue(s.recv(64).startswith(b"HTTP/1.1 100 Continue"))
        s.sendall(data)
        st, _, body = read_http_response(s)
        self.assertEqual(st, 200, body)
        wait_until(lambda: set(range(500, 520)) <= set(self.dest.ids()), 10,
                   msg="the records sent after 100 Continue")

    def test_too_large_is_refused_before_and_after_expect(self):
        s = socket.create_connection(("127.0.0.1", self.sl.port), timeout=10)
        self.addCleanup(s.close)
        s.sendall(b"POST %s HTTP/1.1\r\nHost: x\r\nContent-Type: application/json"
                  b"\r\nContent-Length: 10000000\r\nExpect: 100-continue\r\n\r\n"
                  % PATH.encode())
        st, head, _ = read_http_response(s)
        self.assertEqual(st, 413)  # without sending 10 MB first
        big = b"[" + b",".join(compact(crm_record(i)) for i in range(2000)) + b"]"
        self.assertGreater(len(big), 65536)
        s2 = socket.create_connection(("127.0.0.1", self.sl.port), timeout=10)
        self.addCleanup(s2.close)
        s2.sendall(b"POST %s HTTP/1.1\r\nHost: x\r\nContent-Type: application/json"
                   b"\r\nContent-Length: %d\r\n\r\n" % (PATH.encode(), len(big)))
        try:
            s2.sendall(big)
        except (ConnectionResetError, BrokenPipeError):
            pass
        st, _, _ = read_http_response(s2)
        self.assertEqual(st, 413)
        time.sleep(0.3)
        self.assertEqual(self.sl.stats("crm")["accepted"], 0)
        self.assertEqual(self.dest.ids(), [])


if __name__ == "__main__":
    unittest.main()
