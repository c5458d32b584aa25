"""The TCP intake's reading path: a flat buffer per connection, read in
big pieces, whose whole lines are handed on in place and whose partial
last line is carried to the next read. Every assertion is on what reached
the destination or the reject log. Python 3 standard library only."""

import json
import os
import random
import socket
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sluice_it import LuaRaw, compact, crm_record, wait_until  # noqa: E402
from test_tcp import TcpTest, closed, line  # noqa: E402


class TcpReadsTest(TcpTest):
    """Reuses TcpTest's helpers; runs only the tests defined here."""

    def test_every_split_of_a_line_and_big_writes(self):
        """The intake reads into its own buffer and keeps a partial line at
        its front: a line cut at each of its bytes in turn (each half a
        separate write, so mostly a separate read), a rejected line cut
        the same way (its line number counts every line before it), then
        4 MB in one write (reads grow to their big size, many partial lines
        carried over) and a last line without newline."""
        self.start_tcp()
        s = self.connect()
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sample = line(0)
        n = 0
        for k in range(1, len(sample)):
            data = line(n)
            cut = min(k, len(data) - 1)
            s.sendall(data[:cut])
            time.sleep(0.002)
            s.sendall(data[cut:])
            n += 1
        bad = compact(dict(crm_record(10 ** 6), email=5)) + b"\n"
        for k in (1, len(bad) // 2, len(bad) - 1):
            s.sendall(bad[:k])
            time.sleep(0.002)
            s.sendall(bad[k:])
            n += 1  # a line number is taken, no id
        first_big = n
        big = b"".join(line(i) for i in range(first_big, first_big + 20000))
        s.sendall(big)
        s.sendall(line(first_big + 20000)[:-1])
        s.shutdown(socket.SHUT_WR)
        self.assertTrue(closed(s))
        want = list(range(first_big - 3)) + list(range(first_big, first_big + 20001))
        wait_until(lambda: len(self.dest.ids()) >= len(want), 30,
                   msg="every record at the destination")
        self.assertEqual(sorted(self.dest.ids()), want)  # each once
        rej = self.rejects()
        self.assertEqual([r["line"] for r in rej],
                         [first_big - 2, first_big - 1, first_big])
        self.assertTrue(all(r["field"] == "email" for r in rej), rej)

    def mixed(self, n, seed):
        """n lines, about 1 in 40 invalid in various ways, 1 in 100 blank:
        (bytes, ids of the valid lines, {line number: text} of the
        invalid ones)."""
        rnd = random.Random(seed)
        out, ids, bad = [], [], {}
        for i in range(1, n + 1):
            r = rnd.random()
            if r < 0.01:
                out.append(b"  \n")
            elif r < 0.02:
                t = b'{"id":%d,,}' % i
                out.append(t + b"\n")
                bad[i] = t
            elif r < 0.035:
                t = compact(dict(crm_record(i), email=i))
                out.append(t + b"\n")
                bad[i] = t
            else:
                out.append(line(i))
                ids.append(i)
        return b"".join(out), ids, bad

    def test_lines_longer_than_a_chunk(self):
        """Lines between the 256 KiB the intake hands on at once and
        max_line_bytes are taken whole (each alone), also the last one
        without newline before a half-close; one byte past max_line_bytes
        is rejected and skipped; nothing after it is lost."""
        self.start_tcp(", max_line_bytes = 700000",
                       conn_extra={"unknown_fields": "drop"})

        def padded(i, size):
            """Record i as a line of exactly `size` bytes before its
            newline (an unknown member, dropped, pads it)."""
            head = compact(crm_record(i))[:-1] + b',"pad":"'
            return head + b"x" * (size - len(head) - 2) + b'"}'
        s = self.connect()
        a, c = padded(1, 600000), padded(3, 700000)
        d, f = padded(4, 700001), padded(6, 650000)
        self.assertEqual((len(a), len(c), len(d)), (600000, 700000, 700001))
        s.sendall(a + b"\n" + line(2) + c + b"\n" + d + b"\n" + line(5) + f)
        s.shutdown(socket.SHUT_WR)
        self.assertTrue(closed(s))
        wait_until(lambda: len(self.dest.ids()) >= 5, 30,
                   msg="the five valid records")
        self.assertEqual(sorted(self.dest.ids()), [1, 2, 3, 5, 6])
        got = {r["id"]: r for r in self.dest.records()}
        self.assertNotIn("pad", got[1])  # dropped, the record taken whole
        rej = self.rejects()
        self.assertEqual([r["line"] for r in rej], [4])
        self.assertIn("max_line_bytes", rej[0]["error"])

    def test_slow_line_is_closed_slow_lines_are_not(self):
        """line_timeout_s: a client that trickles one line (a byte every
        0.2 s) is closed after the timeout, its partial line in the reject
        log, the whole line before it delivered; a client that sends whole
        lines slowly (one every 0.4 s, longer in all than the timeout) is
        not; others are served meanwhile."""
        self.start_tcp(", line_timeout_s = 1, idle_timeout_s = 30")
        slow = self.connect()
        steady = self.connect()
        slow.sendall(line(1))
        t0 = time.monotonic()
        partial = compact(crm_record(2))
        sent = 0
        stop = [False]

        def trickle():
            nonlocal sent
            while not stop[0] and sent < len(partial) - 1:
                try:
                    slow.sendall(partial[sent:sent + 1])
                except OSError:
                    return
                sent += 1
                time.sleep(0.2)
        th = threading.Thread(target=trickle, daemon=True)
        th.start()
        for i in range(10, 17):
            steady.sendall(line(i))
            time.sleep(0.4)
        self.assertTrue(closed(slow))
        elapsed = time.monotonic() - t0
        stop[0] = True
        th.join(5)
        self.assertGreaterEqual(elapsed, 0.9)
        steady.sendall(line(17))
        steady.shutdown(socket.SHUT_WR)
        self.assertTrue(closed(steady))
        want = [1] + list(range(10, 18))
        wait_until(lambda: sorted(self.dest.ids()) == want, 10,
                   msg="the whole lines of both clients")
        rej = self.rejects()
        self.assertEqual(len(rej), 1, rej)
        self.assertEqual(rej[0]["line"], 2)
        self.assertIn("line_timeout_s (1 s)", rej[0]["error"])
        self.assertTrue(partial.startswith(rej[0]["text"].encode()))

    def test_acks_wait_out_a_slow_disk_past_the_idle_timeout(self):
        """With ack, the answers wait for durability; a disk slower than
        idle_timeout_s (every fdatasync 2.5 s, by an LD_PRELOAD shim) must
        not get the connection closed as "silent" while the client waits
        for those answers: every line is answered ok, then delivered."""
        lib = os.environ.get("SLUICE_SLOW_FSYNC_LIB")
        if not lib:
            self.skipTest("SLUICE_SLOW_FSYNC_LIB not set (ctest sets it)")
        env = {"LD_PRELOAD": lib, "SLUICE_SLOW_FSYNC_MS": "2500",
               "ASAN_OPTIONS": os.environ.get("ASAN_OPTIONS", "") +
               ":verify_asan_link_order=0"}
        self.start_tcp(", ack = true, idle_timeout_s = 1", env=env)
        s = self.connect()
        s.settimeout(30)
        s.sendall(b"".join(line(i) for i in range(50)))
        got = b""
        while got.count(b"\n") < 50:
            chunk = s.recv(65536)
            if not chunk:
                break
            got += chunk
        self.assertEqual(got.splitlines(), [b"ok"] * 50)
        s.close()
        wait_until(lambda: sorted(self.dest.ids()) == list(range(50)), 30,
                   msg="the 50 answered records")

    def test_big_writes_with_rejections(self):
        """Big chunks checked on the check threads: the reject log still
        names each invalid line by
        its number (blank lines counted), with its text, and every valid
        line arrives once."""
        self.start_tcp()
        data, ids, bad = self.mixed(30000, 5)
        s = self.connect()
        s.sendall(data)
        s.shutdown(socket.SHUT_WR)
        self.assertTrue(closed(s))
        wait_until(lambda: len(self.dest.ids()) >= len(ids), 30,
                   msg="every valid record at the destination")
        self.assertEqual(sorted(self.dest.ids()), ids)
        rej = self.rejects()
        self.assertEqual({r["line"]: r["text"].encode() for r in rej}, bad)
        self.assertEqual(self.sl.stats("crm")["rejected"], len(bad))

    def test_many_rejections_in_one_chunk(self):
        """More rejections in one chunk than are listed (1,000): all are
        counted; those logged carry their own line's number and text."""
        self.start_tcp()
        lines = [b'{"id":"x%d"}' % i for i in range(1, 12001)]
        s = self.connect()
        s.sendall(b"\n".join(lines) + b"\n" + line(99))
        s.shutdown(socket.SHUT_WR)
        self.assertTrue(closed(s))
        wait_until(lambda: self.sl.stats("crm")["rejected"] == 12000, 30,
                   msg="12,000 rejected")
        wait_until(lambda: 99 in self.dest.ids(), 10, msg="the valid line")
        rej = self.rejects()
        self.assertGreaterEqual(len(rej), 1000)
        for r in rej:
            self.assertEqual(r["text"].encode(), lines[r["line"] - 1], r)

    def test_big_writes_with_acks(self):
        """With ack: one answer per line, in line order, the errors on
        exactly the invalid lines, for a big write checked off the loop."""
        self.start_tcp(tcp_extra=", ack = true")
        data, ids, bad = self.mixed(6000, 7)
        s = self.connect()
        s.sendall(data)
        s.shutdown(socket.SHUT_WR)
        f = s.makefile("rb")
        answers = [f.readline() for _ in range(6000)]
        self.assertEqual(f.readline(), b"")  # then the close
        for i, a in enumerate(answers, 1):
            if i in bad:
                self.assertTrue(a.startswith(b"error {"), (i, a))
                self.assertEqual(json.loads(a[6:])["line"], i)
            else:
                self.assertEqual(a, b"ok\n", (i, a))
        wait_until(lambda: len(self.dest.ids()) >= len(ids), 30,
                   msg="every valid record at the destination")
        self.assertEqual(sorted(self.dest.ids()), ids)

    def test_big_writes_with_a_transform(self):
        """A connector with a transform keeps its chunks on the loop thread
        (one Lua state): its records still arrive, transformed, each
        once."""
        self.start_tcp(conn_extra={"transform": LuaRaw(
            "function(r) r.email = string.upper(r.email) return r end")})
        data = b"".join(line(i) for i in range(20000))
        s = self.connect()
        s.sendall(data)
        s.shutdown(socket.SHUT_WR)
        self.assertTrue(closed(s))
        wait_until(lambda: len(self.dest.ids()) >= 20000, 30,
                   msg="every record at the destination")
        self.assertEqual(sorted(self.dest.ids()), list(range(20000)))
        emails = [x["email"] for r in self.dest.requests(ok_only=True)
                  for x in r.records()]
        self.assertEqual(emails[:3], [e.upper() for e in emails[:3]])
        self.assertTrue(all(e == e.upper() for e in emails))


if __name__ == "__main__":
    loader = unittest.TestLoader()
    suite = unittest.TestSuite(
        loader.loadTestsFromName(name, sys.modules[__name__])
        for name in ["TcpReadsTest." + n for n in vars(TcpReadsTest)
                     if n.startswith("test_")])
    sys.exit(not unittest.TextTestRunner(verbosity=2).run(suite).wasSuccessful())
