"""The TCP intake's reading path: a flat buffer per connection, read in
big pieces, whose whole lines are handed on in place and whose partial
last line is carried to the next read. Every assertion is on what reached
the destination or the reject log. Python 3 standard library only."""

import os
import socket
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sluice_it import compact, crm_record, wait_until  # noqa: E402
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


if __name__ == "__main__":
    loader = unittest.TestLoader()
    suite = unittest.TestSuite(
        loader.loadTestsFromName(name, sys.modules[__name__])
        for name in ["TcpReadsTest." + n for n in vars(TcpReadsTest)
                     if n.startswith("test_")])
    sys.exit(not unittest.TextTestRunner(verbosity=2).run(suite).wasSuccessful())
