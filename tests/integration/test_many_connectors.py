"""Many connectors, few threads (issue 16): a gateway with 1,000
connectors, each with a small transform and a file-backed (fsync) spool,
starts, takes records for several of them and delivers them; its thread
count is bounded by a figure that does not depend on the number of
connectors (the spools share one sync pool: sl_syncpool), and so is the
count of descriptors beyond the per-connector files.

It prints the start time, RSS, threads and descriptors for 200 and for
1,000 connectors (docs/benchmarks.md, "Many connectors"). Python 3
standard library only.
"""

import os
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sluice_it import (Sluice, SluiceTestCase, LuaRaw,  # noqa: E402
                       connector_lua, crm_record, wait_until)

TRANSFORM = """function(rec, ctx)
    rec.email = rec.email:upper()
    return rec
  end"""

# Threads a gateway may have whatever its connectors, with `workers = 2`
# (the same figure on any machine): the loop, the 2 check threads, the
# sync pool (at most 8) and its delete thread, with room.
GATEWAY = "workers = 2,"
THREAD_BOUND = 24


def proc_count(pid, what):
    return len(os.listdir("/proc/%d/%s" % (pid, what)))


def rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def cpu_s(pid):
    """User + system CPU seconds the process has used (a start time that
    other load on the machine does not stretch)."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class ManyConnectorsTest(SluiceTestCase):

    def gateway(self, dest, n, keep):
        conns = {"c%04d" % i: connector_lua(
            "c%04d" % i, dest.url, extra={"transform": LuaRaw(TRANSFORM)})
            for i in range(n)}
        if keep:  # checked (sanitizer reports, crashes) when the test ends
            sl = self.make_sluice(conns, GATEWAY)
        else:     # stopped by the test
            sl = Sluice(conns, GATEWAY)
            self.addCleanup(sl.close)
        t0 = time.monotonic()
        sl.start(timeout=60.0)
        took = time.monotonic() - t0
        pid = sl.proc.pid
        figures = {"connectors": n, "start_s": round(took, 2),
                   "start_cpu_s": round(cpu_s(pid), 2),
                   "rss_mib": round(rss_kib(pid) / 1024.0, 1),
                   "threads": proc_count(pid, "task"),
                   "fds": proc_count(pid, "fd")}
        sys.stderr.write("\nmany connectors: %s\n" % figures)
        return sl, figures

    def post_and_deliver(self, sl, dest, names):
        for k, name in enumerate(names):
            recs = [crm_record(k * 10 + j) for j in range(3)]
            st, js, _ = sl.post(name, recs)
            self.assertEqual(st, 200, "%s: %s %r" % (name, st, sl.last_raw))
            self.assertEqual(js.get("accepted"), 3, js)
        want = 3 * len(names)
        wait_until(lambda: len(dest.records()) >= want, timeout=20.0,
                   msg="records at the destination")
        got = dest.records()
        self.assertEqual(sorted(r["id"] for r in got),
                         sorted(k * 10 + j for k in range(len(names))
                                for j in range(3)))
        self.assertTrue(all(r["email"].startswith("USER") for r in got), got)

    def test_threads_do_not_grow_with_connectors(self):
        dest = self.start_destination()
        small, f200 = self.gateway(dest, 200, keep=False)
        self.assertEqual(small.stop(), 0)
        self.assertLess(f200["threads"], THREAD_BOUND)
        dest2 = self.start_destination()
        sl, f1000 = self.gateway(dest2, 1000, keep=True)
        names = ["c0000", "c0001", "c0499", "c0998", "c0999"]
        self.post_and_deliver(sl, dest2, names)
        pid = sl.proc.pid
        threads = proc_count(pid, "task")
        self.assertLess(threads, THREAD_BOUND)
        # the same threads as with 200 connectors: none per connector
        self.assertEqual(f1000["threads"], f200["threads"])
        # descriptors per connector are its files (lock, spool dir,
        # segment, progress, ...), not a pipe pair each: the difference
        # between 1,000 and 200 connectors, per connector, stays small
        per = (f1000["fds"] - f200["fds"]) / 800.0
        sys.stderr.write("descriptors per connector: %.2f\n" % per)
        self.assertLess(per, 8)


if __name__ == "__main__":
    unittest.main()
