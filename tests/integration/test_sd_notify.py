"""sd_notify (issue 14, item 6): what the real binary tells a service
manager, read from a unix datagram socket the test binds and names in
NOTIFY_SOCKET, as systemd does for a Type=notify unit.

READY=1 comes once the intake and the TCP listener listen (the test, on
receiving it, finds both answering), STOPPING=1 at SIGTERM, STATUS= lines
throughout, every message from the main process (SCM_CREDENTIALS);
WATCHDOG=1 pings when WATCHDOG_USEC asks for them (and WATCHDOG_PID is
sluice's, or unset), none when WATCHDOG_PID names another process; a
NOTIFY_SOCKET nobody listens on changes nothing but a warning.
"""

import os
import signal
import socket
import stat
import struct
import sys
import tempfile
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sluice_it import (SluiceTestCase, connector_lua, free_port,  # noqa: E402
                       main, sluice_bin, wait_until)

SO_PASSCRED = getattr(socket, "SO_PASSCRED", 16)
SCM_CREDENTIALS = getattr(socket, "SCM_CREDENTIALS", 2)


def built_without_systemd():
    build = os.environ.get("SLUICE_BUILD_DIR")
    if not build:
        return False
    try:
        with open(os.path.join(build, "CMakeCache.txt")) as f:
            return "SLUICE_SYSTEMD:BOOL=OFF" in f.read()
    except OSError:
        return False


class NotifyListener:
    """A datagram socket at <tmp>/notify that a thread reads all along
    (sd_notify blocks once the socket's queue is full). Each message is
    kept as (text, sender pid, what on_ready returned or None)."""

    def __init__(self, on_ready=None):
        self.dir = tempfile.mkdtemp(prefix="sluice-notify-")
        self.path = os.path.join(self.dir, "notify")
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(self.path)
        self.sock.setsockopt(socket.SOL_SOCKET, SO_PASSCRED, 1)
        self.sock.settimeout(0.2)
        self.on_ready = on_ready
        self.messages = []
        self.lock = threading.Lock()
        self.running = True
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self):
        space = socket.CMSG_SPACE(struct.calcsize("3i"))
        while self.running:
            try:
                data, anc, _, _ = self.sock.recvmsg(4096, space)
            except socket.timeout:
                continue
            except OSError:
                return
            pid = None
            for level, kind, cdata in anc:
                if level == socket.SOL_SOCKET and kind == SCM_CREDENTIALS:
                    pid = struct.unpack("3i", cdata[:12])[0]
            text = data.decode("utf-8", "replace")
            seen = None
            if self.on_ready and "READY=1" in text.split("\n"):
                seen = self.on_ready()
            with self.lock:
                self.messages.append((text, pid, seen))

    def texts(self):
        with self.lock:
            return [m[0] for m in self.messages]

    def all(self):
        with self.lock:
            return list(self.messages)

    def with_field(self, field):
        return [t for t in self.texts() if field in t.split("\n")]

    def close(self):
        self.running = False
        self.thread.join(5)
        self.sock.close()
        for f in os.listdir(self.dir):
            os.unlink(os.path.join(self.dir, f))
        os.rmdir(self.dir)


def fields(text):
    return dict(line.split("=", 1) for line in text.split("\n") if "=" in line)


class SdNotifyTest(SluiceTestCase):

    def setUp(self):
        if built_without_systemd():
            raise unittest.SkipTest("built with -DSLUICE_SYSTEMD=OFF: sluice "
                                    "sends no sd_notify messages")
        self.dest = self.start_destination()

    def listener(self, on_ready=None):
        n = NotifyListener(on_ready)
        self.addCleanup(n.close)
        return n

    def sluice(self, env, tcp_port=None, wrapper=None):
        extra = ""
        if tcp_port:
            extra = ("  tcp = { { listen = \"127.0.0.1:%d\", connector = "
                     "\"crm\" } },\n" % tcp_port)
        s = self.make_sluice({"crm": connector_lua("crm", self.dest.url +
                                                   "/crm")}, extra, env=env)
        if wrapper:
            s.bin = self.wrapper(s.dir, wrapper)
        return s

    def wrapper(self, d, line):
        """An executable that runs `line` (sh) and then execs sluice in
        its own process, as systemd execs ExecStart= with WATCHDOG_PID set
        to the pid it started."""
        path = os.path.join(d, "run-sluice")
        with open(path, "w") as f:
            f.write("#!/bin/sh\n%s\nexec '%s' \"$@\"\n" % (line, sluice_bin()))
        os.chmod(path, os.stat(path).st_mode | stat.S_IXUSR)
        return path

    def test_ready_after_listening_and_stopping_at_sigterm(self):
        tcp_port = free_port()
        holder = {}

        def on_ready():
            # the moment READY=1 arrives, both listeners answer
            s = holder["s"]
            try:
                st, _, _ = s.request("GET", "/healthz", timeout=5)
            except OSError as e:
                st = repr(e)
            try:
                with socket.create_connection(("127.0.0.1", tcp_port), 5):
                    tcp = "connected"
            except OSError as e:
                tcp = repr(e)
            return (st, tcp)

        n = self.listener(on_ready)
        s = holder["s"] = self.sluice({"NOTIFY_SOCKET": n.path}, tcp_port)
        s.start()
        wait_until(lambda: n.with_field("READY=1"), 10,
                   msg=lambda: "READY=1 (got %r)" % n.texts())
        msgs = n.all()
        ready = [m for m in msgs if "READY=1" in m[0].split("\n")]
        self.assertEqual(len(ready), 1, msgs)
        self.assertEqual(ready[0][2], (200, "connected"), msgs)
        f = fields(ready[0][0])
        self.assertEqual("listening on 127.0.0.1:%d and 1 TCP listener; 1 "
                         "connector: 1 delivering; 0 undelivered" % s.port,
                         f["STATUS"])
        # STATUS= lines while it started, before READY=1, and a start
        # timeout extended for each connector's opening
        self.assertEqual(msgs[0][0], "STATUS=starting: opening 1 connector")
        self.assertEqual(msgs[1][0], "EXTEND_TIMEOUT_USEC=90000000\n"
                         "STATUS=starting: opening connector crm (1 of 1)")
        self.assertIs(msgs[2], ready[0])
        self.assertNotIn("STOPPING=1", "\n".join(n.texts()))

        # it serves as ever
        st, _, _ = s.post("crm", {"id": 1, "email": "a@example.com",
                                  "amount": 1.0, "active": True,
                                  "day": "2024-01-01",
                                  "at": "2024-01-01T00:00:00Z"})
        self.assertIn(st, (200, 202))
        self.dest.wait_records(1)

        self.assertEqual(s.sigterm()[0], 0)
        stopping = n.with_field("STOPPING=1")
        self.assertEqual(len(stopping), 1, n.texts())
        self.assertIn("stopping (signal 15)", fields(stopping[0])["STATUS"])
        texts = n.texts()
        self.assertLess(texts.index(ready[0][0]), texts.index(stopping[0]))
        # every message came from sluice's own (main) process
        pids = {m[1] for m in n.all()}
        self.assertEqual(pids, {s.proc.pid}, n.all())
        # no watchdog asked for: no pings
        self.assertEqual(n.with_field("WATCHDOG=1"), [])
        self.assertNotIn("watchdog:", s.stderr_text())

    def test_status_follows_the_backlog(self):
        down = self.start_destination(default=503)
        n = self.listener()
        s = self.make_sluice({
            "crm": connector_lua("crm", self.dest.url + "/crm"),
            "down": connector_lua("down", down.url + "/down",
                                  retry={"base_ms": 1000, "max_ms": 1000})},
            env={"NOTIFY_SOCKET": n.path})
        s.start()
        wait_until(lambda: n.with_field("READY=1"), 10)
        self.assertIn("2 connectors: 2 delivering; 0 undelivered",
                      fields(n.with_field("READY=1")[0])["STATUS"])
        st, _, _ = s.post("down", [{"id": i, "email": "a@example.com",
                                    "amount": 1.0, "active": True,
                                    "day": "2024-01-01",
                                    "at": "2024-01-01T00:00:00Z"}
                                   for i in range(3)])
        self.assertIn(st, (200, 202))
        down.wait_requests(1)

        def status_with_backlog():
            return [t for t in n.texts() if t.startswith("STATUS=") and
                    "; 3 undelivered" in t]
        # the timer looks every 5 s and sends what changed
        got = wait_until(status_with_backlog, 20,
                         msg=lambda: "a STATUS= with the backlog (got %r)"
                         % n.texts())
        self.assertTrue(got[0].startswith("STATUS=listening on 127.0.0.1:%d; "
                                          "2 connectors: " % s.port), got)
        # one message per change, not one per period
        self.assertEqual(len(set(n.texts())), len(n.texts()), n.texts())
        self.assertEqual(s.sigterm()[0], 0)
        # after STOPPING=1 no "listening" status comes
        texts = n.texts()
        at = texts.index(n.with_field("STOPPING=1")[0])
        self.assertEqual(texts[at + 1:], [])

    def test_status_names_at_most_three_per_state(self):
        down = self.start_destination(default=503)
        n = self.listener()
        s = self.make_sluice({
            "d%d" % i: connector_lua("d%d" % i, down.url + "/d",
                                     retry={"base_ms": 200, "max_ms": 200},
                                     extra={"degraded_after_s": 1})
            for i in range(1, 6)}, env={"NOTIFY_SOCKET": n.path})
        s.start()
        wait_until(lambda: n.with_field("READY=1"), 10)
        for i in range(1, 6):
            st, _, _ = s.post("d%d" % i, {"id": i, "email": "a@example.com",
                                          "amount": 1.0, "active": True,
                                          "day": "2024-01-01",
                                          "at": "2024-01-01T00:00:00Z"})
            self.assertIn(st, (200, 202))
        want = ("STATUS=listening on 127.0.0.1:%d; 5 connectors: 0 "
                "delivering, 5 degraded (d1, d2, d3, +2); 5 undelivered"
                % s.port)
        wait_until(lambda: want in n.texts(), 30,
                   msg=lambda: "%r (got %r)" % (want, n.texts()))
        self.assertEqual(s.sigterm()[0], 0)

    def test_reloading_then_ready_around_sighup(self):
        n = self.listener()
        s = self.sluice({"NOTIFY_SOCKET": n.path})
        s.start()
        wait_until(lambda: n.with_field("READY=1"), 10)
        t0 = time.clock_gettime(time.CLOCK_MONOTONIC)
        s.proc.send_signal(signal.SIGHUP)
        wait_until(lambda: len(n.with_field("READY=1")) == 2, 10,
                   msg=lambda: "READY=1 after the reload (got %r)"
                   % n.texts())
        texts = n.texts()
        reloading = n.with_field("RELOADING=1")
        self.assertEqual(len(reloading), 1, texts)
        f = fields(reloading[0])
        # MONOTONIC_USEC: CLOCK_MONOTONIC when the reload began, as
        # systemd 253+ matches it to the reload it asked for
        usec = int(f["MONOTONIC_USEC"])
        self.assertGreaterEqual(usec, int(t0 * 1e6) - 1000)
        self.assertLessEqual(usec, int(time.clock_gettime(
            time.CLOCK_MONOTONIC) * 1e6) + 1000)
        self.assertIn("reloading " + s.gateway_file, f["STATUS"])
        second = n.with_field("READY=1")[1]
        self.assertLess(texts.index(reloading[0]), texts.index(second))
        self.assertIn("configuration reloaded", fields(second)["STATUS"])

        # a broken file: refused, and still READY=1 after it (systemd
        # leaves "reloading" only so)
        with open(s.gateway_file, "a") as f:
            f.write("\nthis is not Lua {\n")
        s.proc.send_signal(signal.SIGHUP)
        wait_until(lambda: len(n.with_field("READY=1")) == 3, 10,
                   msg=lambda: "READY=1 after the refused reload (got %r)"
                   % n.texts())
        self.assertEqual(len(n.with_field("RELOADING=1")), 2)
        self.assertIn("reload failed, configuration unchanged",
                      fields(n.with_field("READY=1")[2])["STATUS"])
        self.assertEqual(s.get("/healthz")[0], 200)
        self.assertEqual(s.sigterm()[0], 0)
        self.assertEqual({m[1] for m in n.all()}, {s.proc.pid})

    def test_watchdog_pings(self):
        n = self.listener()
        s = self.sluice({"NOTIFY_SOCKET": n.path, "WATCHDOG_USEC": "400000"},
                        wrapper="WATCHDOG_PID=$$; export WATCHDOG_PID")
        s.start()
        wait_until(lambda: len(n.with_field("WATCHDOG=1")) >= 3, 20,
                   msg=lambda: "3 WATCHDOG=1 pings (got %r)" % n.texts())
        self.assertIn("WATCHDOG=1 every 200 ms (WATCHDOG_USEC=400000)",
                      s.stderr_text())
        self.assertEqual({m[1] for m in n.all()}, {s.proc.pid})
        self.assertEqual(len(n.with_field("READY=1")), 1)
        # pings go on while it drains, until it exits
        self.assertEqual(s.sigterm()[0], 0)
        self.assertEqual(len(n.with_field("STOPPING=1")), 1)

    def test_watchdog_of_another_process_is_not_pinged(self):
        n = self.listener()
        s = self.sluice({"NOTIFY_SOCKET": n.path, "WATCHDOG_USEC": "200000",
                         "WATCHDOG_PID": str(os.getpid())})
        s.start()
        wait_until(lambda: n.with_field("READY=1"), 10)
        # ten periods of the watchdog asked for
        time.sleep(1.0)
        self.assertEqual(n.with_field("WATCHDOG=1"), [])
        self.assertNotIn("watchdog:", s.stderr_text())
        self.assertEqual(s.sigterm()[0], 0)

    def test_hostile_watchdog_usec_is_ignored(self):
        for usec in ("lots", "-1", "18446744073709551616", "1e6"):
            with self.subTest(usec=usec):
                n = NotifyListener()
                try:
                    s = self.sluice({"NOTIFY_SOCKET": n.path,
                                     "WATCHDOG_USEC": usec})
                    s.start()
                    wait_until(lambda: n.with_field("READY=1"), 10)
                    self.assertIn("is not a number of microseconds",
                                  s.stderr_text())
                    self.assertEqual(s.sigterm()[0], 0)
                    self.assertEqual(n.with_field("WATCHDOG=1"), [])
                finally:
                    n.close()

    def test_nobody_listening(self):
        d = tempfile.mkdtemp(prefix="sluice-notify-")
        self.addCleanup(os.rmdir, d)
        for sock in (os.path.join(d, "gone"), "not/absolute", "@"):
            with self.subTest(sock=sock):
                s = self.sluice({"NOTIFY_SOCKET": sock})
                s.start()
                st, _, _ = s.get("/healthz")
                self.assertEqual(st, 200)
                self.assertEqual(s.sigterm()[0], 0)
                err = s.stderr_text()
                self.assertIn("cannot send READY=1 to the service manager",
                              err)
                self.assertIn("cannot send STOPPING=1", err)


if __name__ == "__main__":
    main()
