"""The raw-TCP NDJSON intake (issue 5): one JSON record per line through the
same schema, spool and delivery as HTTP; partial lines split across reads;
many concurrent connections; rejected lines in the connector's reject log
(line, reason, peer); back-pressure instead of drops when the spool is
full; per-line acks; allow list, connection limit, idle timeout, over-long
lines. Every assertion is on what reached the destination, the reject log,
or what a client saw. Python 3 standard library only."""

import json
import os
import socket
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sluice_it import (SluiceTestCase, compact, connector_lua,  # noqa: E402
                       crm_record, free_port, wait_until)


def closed(sock):
    """Has the server closed sock (EOF or reset)?"""
    try:
        return sock.recv(10) == b""
    except (ConnectionResetError, BrokenPipeError):
        return True


def line(i):
    return compact(crm_record(i)) + b"\n"


class TcpTest(SluiceTestCase):

    def start_tcp(self, tcp_extra="", conn_extra=None, dest=True, env=None):
        self.dest = self.start_flex_destination() if dest else None
        self.tport = free_port()
        url = self.dest.url + "/in" if dest else "http://127.0.0.1:%d/in" % free_port()
        self.sl = self.start_sluice(
            {"crm": connector_lua("crm", url, retry={"base_ms": 20, "max_ms": 200},
                                  extra=conn_extra or {})},
            gateway_extra='  tcp = { { listen = "127.0.0.1:%d", connector = "crm"%s } },'
            % (self.tport, tcp_extra), env=env)
        return self.sl

    def connect(self):
        s = socket.create_connection(("127.0.0.1", self.tport), timeout=10)
        self.addCleanup(s.close)
        return s

    def rejects(self):
        path = os.path.join(self.sl.dir, "var", "crm", "rejects.ndjson")
        if not os.path.exists(path):
            return []
        with open(path, "rb") as f:
            return [json.loads(l) for l in f.read().splitlines() if l]

    def test_partial_lines_and_last_line_without_newline(self):
        self.start_tcp()
        data = b"".join(line(i) for i in range(300))
        s = self.connect()
        # cut everywhere: mid-record, mid-escape, at newlines
        for k in range(0, len(data), 97):
            s.sendall(data[k:k + 97])
            time.sleep(0.001)
        s.sendall(line(300)[:-1])  # the last line has no newline
        s.shutdown(socket.SHUT_WR)
        wait_until(lambda: set(range(301)) <= set(self.dest.ids()), 15,
                   msg="all 301 records at the destination")
        self.assertEqual(sorted(self.dest.ids()), list(range(301)))

    def test_200_concurrent_connections(self):
        self.start_tcp()
        errors = []

        def client(c):
            try:
                s = socket.create_connection(("127.0.0.1", self.tport), timeout=20)
                s.sendall(b"".join(line(c * 1000 + i) for i in range(50)))
                s.shutdown(socket.SHUT_WR)
                s.recv(1)  # wait for the close
                s.close()
            except OSError as e:
                errors.append(repr(e))

        threads = [threading.Thread(target=client, args=(c,)) for c in range(200)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        self.assertEqual(errors, [])
        want = {c * 1000 + i for c in range(200) for i in range(50)}
        wait_until(lambda: want <= set(self.dest.ids()), 30,
                   msg="10,000 records from 200 connections")
        self.assertEqual(len(self.dest.ids()), len(want))

    def test_rejected_lines_go_to_the_reject_log(self):
        self.start_tcp()
        bad_type = dict(crm_record(2), email=5)
        lines = [line(1), compact(bad_type) + b"\n", b"{not json\n", b"\n",
                 b"\xff\xfe bytes\n", line(3)]
        s = self.connect()
        s.sendall(b"".join(lines))
        s.shutdown(socket.SHUT_WR)
        wait_until(lambda: {1, 3} <= set(self.dest.ids()), 10, msg="good lines")
        wait_until(lambda: len(self.rejects()) == 3, 5, msg="3 rejects logged")
        rej = self.rejects()
        self.assertEqual([r["line"] for r in rej], [2, 3, 5])
        self.assertEqual(rej[0]["field"], "email")
        self.assertIn("malformed JSON", rej[1]["error"])
        for r in rej:
            self.assertTrue(r["peer"].startswith("127.0.0.1:"), r)
            self.assertIn("time", r)
        self.assertIn("{not json", rej[1]["text"])
        self.assertEqual(sorted(self.dest.ids()), [1, 3])
        self.assertEqual(self.sl.stats("crm")["rejected"], 3)

    def test_over_long_line_skipped(self):
        self.start_tcp(tcp_extra=", max_line_bytes = 1024")
        s = self.connect()
        s.sendall(line(1) + b'{"id":' + b"9" * 5000 + b"}\n" + line(2))
        s.shutdown(socket.SHUT_WR)
        wait_until(lambda: {1, 2} <= set(self.dest.ids()), 10, msg="lines 1, 3")
        rej = self.rejects()
        self.assertEqual(len(rej), 1)
        self.assertEqual(rej[0]["line"], 2)
        self.assertIn("max_line_bytes", rej[0]["error"])
        self.assertLessEqual(len(rej[0]["text"]), 512)

    def test_acks(self):
        self.start_tcp(tcp_extra=", ack = true")
        s = self.connect()
        s.sendall(line(1) + b"{bad\n" + line(2) + compact(dict(crm_record(3), id="x")) + b"\n")
        f = s.makefile("rb")
        answers = [f.readline() for _ in range(4)]
        self.assertEqual(answers[0], b"ok\n")
        self.assertTrue(answers[1].startswith(b"error {"), answers)
        self.assertEqual(json.loads(answers[1][6:])["line"], 2)
        self.assertEqual(answers[2], b"ok\n")
        self.assertEqual(json.loads(answers[3][6:])["field"], "id")
        wait_until(lambda: {1, 2} <= set(self.dest.ids()), 10, msg="acked lines")

    def test_acks_in_order_and_after_half_close(self):
        """With acks in fsync mode: a client that sends everything and
        half-closes gets one answer per line, in line order, even when a
        later chunk (all rejected) has nothing to wait for."""
        self.start_tcp(tcp_extra=", ack = true")
        s = self.connect()
        good = b"".join(line(i) for i in range(1, 201))
        s.sendall(good)
        time.sleep(0.05)
        s.sendall(b"{bad\n")
        s.shutdown(socket.SHUT_WR)
        f = s.makefile("rb")
        answers = [f.readline() for _ in range(201)]
        self.assertEqual(answers[:200], [b"ok\n"] * 200)
        self.assertTrue(answers[200].startswith(b"error {"), answers[200])
        self.assertEqual(json.loads(answers[200][6:])["line"], 201)
        self.assertEqual(f.readline(), b"")  # then the close

    def test_acks_in_order_with_an_over_long_line(self):
        """A line over max_line_bytes right after lines still waiting for
        durability: its error comes after their "ok"s, in line order."""
        self.start_tcp(tcp_extra=", ack = true, max_line_bytes = 1024")
        s = self.connect()
        good = b"".join(line(i) for i in range(1, 101))
        s.sendall(good + b'{"id":' + b"9" * 2000 + b"}\n" + line(101))
        f = s.makefile("rb")
        answers = [f.readline() for _ in range(102)]
        self.assertEqual(answers[:100], [b"ok\n"] * 100)
        self.assertTrue(answers[100].startswith(b"error {"), answers[100])
        self.assertEqual(json.loads(answers[100][6:])["line"], 101)
        self.assertIn("max_line_bytes", json.loads(answers[100][6:])["error"])
        self.assertEqual(answers[101], b"ok\n")

    def test_back_pressure_not_drops(self):
        """A 1 MiB spool and no destination: the intake stops reading (the
        client's sends block) instead of dropping; once the destination is
        there, every line the client sent arrives."""
        port = free_port()
        self.tport = free_port()
        self.sl = self.start_sluice(
            {"crm": connector_lua("crm", "http://127.0.0.1:%d/in" % port,
                                  retry={"base_ms": 50, "max_ms": 200},
                                  extra={"spool": {"max_bytes": 1048576,
                                                   "segment_bytes": 65536}})},
            gateway_extra='  tcp = { { listen = "127.0.0.1:%d", connector = "crm" } },'
            % self.tport)
        s = self.connect()
        s.setblocking(False)
        sent, blocked_at, n = 0, None, 0
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            chunk = b"".join(line(n + i) for i in range(100))
            try:
                k = s.send(chunk)
            except BlockingIOError:
                k = 0
            if k < len(chunk):
                # partial send: finish this chunk later, note the block
                rest = chunk[k:]
                blocked_at = blocked_at or time.monotonic()
                if time.monotonic() - blocked_at > 1.5:
                    break
                time.sleep(0.05)
                s.setblocking(True)
                s.settimeout(30)
                pending = rest
                break
            n += 100
            sent += len(chunk)
        self.assertIsNotNone(blocked_at, "the intake kept reading past a full spool")
        refused = self.sl.stats("crm")
        self.assertGreater(refused["accepted"], 0)
        dest = self.start_flex_destination(port=port)
        s.sendall(pending)
        n += 100
        s.shutdown(socket.SHUT_WR)
        wait_until(lambda: set(range(n)) <= set(dest.ids()), 60, interval=0.1,
                   msg="every line sent before and after the block")
        self.assertEqual(len(set(dest.ids())), n)

    def test_allow_list_and_connection_limit(self):
        self.start_tcp(tcp_extra=', allow = { "10.0.0.0/8" }')
        s = self.connect()
        s.settimeout(5)
        try:
            s.sendall(line(1))
            got = s.recv(10)
        except (ConnectionResetError, BrokenPipeError):
            got = b""  # closed with our line unread: a reset
        self.assertEqual(got, b"", "a peer outside allow was not closed")
        time.sleep(0.3)
        self.assertEqual(self.dest.ids(), [])

    def test_max_connections_and_idle_timeout(self):
        self.start_tcp(tcp_extra=", max_connections = 3, idle_timeout_s = 1")
        conns = [self.connect() for _ in range(3)]
        time.sleep(0.2)
        extra = self.connect()
        extra.settimeout(5)
        self.assertTrue(closed(extra), "the 4th connection was not closed")
        t0 = time.monotonic()
        conns[0].settimeout(10)
        self.assertTrue(closed(conns[0]), "an idle connection stayed open")
        self.assertLess(time.monotonic() - t0, 5)
        self.assertTrue(self.sl.alive())


if __name__ == "__main__":
    unittest.main()
