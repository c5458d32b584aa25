"""The systemd unit (issue 14, item 6): `systemd-analyze verify` accepts
conf/systemd/sluice.service without a warning, its sandboxing rates as
"OK" by `systemd-analyze security --offline`, it says what an operator
relies on (Type=notify, reload by SIGHUP, the sandbox, its user and state
directory), and systemd-sysusers makes the user of
conf/systemd/sluice.sysusers.

verify checks that ExecStart='s binary exists, so it reads a copy of the
unit whose /usr/bin/sluice is the built binary, and that the man page of
Documentation= exists, so it runs with MANPATH naming the built sluice.1
(test_install verifies the installed unit as it is). Without systemd-analyze (systemd is not
installed) the tests skip and say so; scripts/install-deps.sh installs it,
so CI runs them.

The unit's own commands are also run, without systemd, as systemd would
run them: ExecStart= (paths swapped for the build's and a test
configuration) with NOTIFY_SOCKET and WATCHDOG_USEC from WatchdogSec=,
ExecReload= with $MAINPID, SIGTERM (no KillSignal=) within
TimeoutStopSec=: READY=1, RELOADING=1/READY=1, STOPPING=1 and a clean exit
come as the unit's Type=notify expects.
"""

import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sluice_it import (SOURCE_DIR, SluiceTestCase, connector_lua,  # noqa: E402
                       sluice_bin, wait_until)
from test_sd_notify import NotifyListener, built_without_systemd  # noqa: E402

UNIT = os.path.join(SOURCE_DIR, "conf", "systemd", "sluice.service")
SYSUSERS = os.path.join(SOURCE_DIR, "conf", "systemd", "sluice.sysusers")
ANALYZE = shutil.which("systemd-analyze")


def unit_keys(text):
    """{(section, key): [values]} of a unit file's text."""
    keys = {}
    section = None
    for line in text.splitlines():
        line = line.strip()
        if not line or line[0] in "#;":
            continue
        if line.startswith("["):
            section = line.strip("[]")
            continue
        k, _, v = line.partition("=")
        keys.setdefault((section, k.strip()), []).append(v.strip())
    return keys


def analyze(*args, cwd, manpath=None):
    env = dict(os.environ)
    if manpath:
        env["MANPATH"] = manpath
    return subprocess.run([ANALYZE] + list(args), cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=120)


def built_man_page():
    """The sluice.1 the build made (`sluice help --man`), or None."""
    build = os.environ.get("SLUICE_BUILD_DIR") or os.path.dirname(
        sluice_bin())
    path = os.path.join(build, "sluice.1")
    return path if os.path.isfile(path) else None


@unittest.skipUnless(ANALYZE, "systemd-analyze not found: systemd is not "
                     "installed in this image (scripts/install-deps.sh "
                     "installs it)")
class SystemdUnit(unittest.TestCase):

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="sluice-unit-")
        self.addCleanup(shutil.rmtree, self.tmp, True)
        with open(UNIT) as f:
            self.text = f.read()
        man = built_man_page()
        if not man:
            self.fail("no sluice.1 in the build directory (the build makes "
                      "it: target sluice_man)")
        os.makedirs(os.path.join(self.tmp, "man", "man1"))
        shutil.copy(man, os.path.join(self.tmp, "man", "man1"))

    def copy(self, text, name="sluice.service"):
        """The unit with the built binary for /usr/bin/sluice, in tmp."""
        path = os.path.join(self.tmp, name)
        with open(path, "w") as f:
            f.write(text.replace("/usr/bin/sluice", sluice_bin()))
        return path

    def verify(self, path, manpath=True):
        return analyze("verify", path, cwd=self.tmp,
                       manpath=os.path.join(self.tmp, "man") if manpath
                       else None)

    def test_verify_passes_without_a_warning(self):
        p = self.verify(self.copy(self.text))
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(p.stderr.strip(), "", "verify warned")

    def test_verify_would_see_a_mistake(self):
        # the checks above can fail: a misspelt key is a warning, a
        # missing binary or man page an error
        p = self.verify(self.copy(self.text), manpath=False)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("man sluice(1)", p.stderr)
        p = self.verify(self.copy(self.text.replace("Type=notify",
                                                    "Tpye=notify"),
                                  "typo.service"))
        self.assertIn("Unknown key", p.stderr)
        p = self.verify(self.copy(self.text.replace(
            "/usr/bin/sluice", "/nonexistent/sluice"), "gone.service"))
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("/nonexistent/sluice", p.stderr)

    def test_security_exposure_ok(self):
        path = self.copy(self.text)
        p = analyze("security", "--offline=yes", "--threshold=20", path,
                    cwd=self.tmp)
        self.assertEqual(p.returncode, 0, p.stdout[-2000:] + p.stderr)
        self.assertIn("Overall exposure level for sluice.service", p.stdout)

    def test_what_an_operator_relies_on(self):
        k = unit_keys(self.text)

        def one(key, section="Service"):
            vals = k.get((section, key), [])
            self.assertEqual(len(vals), 1, "%s=: %r" % (key, vals))
            return vals[0]

        self.assertEqual(one("Type"), "notify")
        self.assertEqual(one("ExecStart"),
                         "/usr/bin/sluice run -c /etc/sluice/sluice.lua")
        self.assertEqual(one("ExecReload"), "/bin/kill -HUP $MAINPID")
        self.assertEqual(one("Restart"), "on-failure")
        # sluice run's exit 2 (sl_main.c: configuration or schema lock)
        # is not retried
        self.assertEqual(one("RestartPreventExitStatus"), "2")
        self.assertTrue(one("WatchdogSec"))
        self.assertEqual(one("User"), "sluice")
        self.assertEqual(one("StateDirectory"), "sluice")
        self.assertEqual(one("ReadWritePaths"), "/var/lib/sluice")
        for key, want in (("ProtectSystem", "strict"),
                          ("NoNewPrivileges", "yes"), ("PrivateTmp", "yes"),
                          ("ProtectHome", "yes")):
            self.assertEqual(one(key), want, key)
        self.assertGreaterEqual(int(one("LimitNOFILE")), 4096)
        # the graceful stop (sl_gateway.h: SL_GATEWAY_DRAIN_MS, 10 s) fits
        # in the time systemd gives it before SIGKILL
        self.assertGreater(int(one("TimeoutStopSec").rstrip("s")), 10)
        self.assertEqual(one("WantedBy", "Install"), "multi-user.target")
        # enabled before it is configured: skipped, not failed
        self.assertEqual(one("ConditionPathExists", "Unit"),
                         "/etc/sluice/sluice.lua")

    def test_sysusers_makes_the_user(self):
        sysusers = shutil.which("systemd-sysusers")
        if not sysusers:
            self.skipTest("systemd-sysusers not found")
        if os.getuid() != 0:
            p = subprocess.run([sysusers, "--dry-run", SYSUSERS],
                               capture_output=True, text=True, timeout=60)
            self.assertEqual(p.returncode, 0, p.stderr)
            return
        # into an empty root of the test's own: the host's files stay
        root = os.path.join(self.tmp, "root")
        os.makedirs(os.path.join(root, "etc"))
        p = subprocess.run([sysusers, "--root=" + root, SYSUSERS],
                           capture_output=True, text=True, timeout=60)
        self.assertEqual(p.returncode, 0, p.stderr)
        with open(os.path.join(root, "etc", "passwd")) as f:
            users = [line.split(":") for line in f.read().splitlines()]
        sluice = [u for u in users if u[0] == "sluice"]
        self.assertEqual(len(sluice), 1, users)
        self.assertEqual(sluice[0][5], "/var/lib/sluice")
        self.assertIn("nologin", sluice[0][6])
        self.assertLess(int(sluice[0][2]), 1000, "not a system user")


def seconds(v):
    """A systemd time span of this unit ("30s", "2min", "90") in s."""
    for unit, mult in (("min", 60), ("ms", 0.001), ("s", 1)):
        if v.endswith(unit):
            return float(v[:-len(unit)]) * mult
    return float(v)


class UnitCommands(SluiceTestCase):

    def test_the_units_commands_as_systemd_runs_them(self):
        if built_without_systemd():
            self.skipTest("built with -DSLUICE_SYSTEMD=OFF")
        with open(UNIT) as f:
            k = unit_keys(f.read())
        self.assertNotIn(("Service", "KillSignal"), k)  # SIGTERM, then
        dest = self.start_destination()
        n = NotifyListener()
        self.addCleanup(n.close)
        watchdog_usec = int(seconds(k[("Service", "WatchdogSec")][0]) * 1e6)
        s = self.make_sluice({"crm": connector_lua("crm", dest.url + "/c")},
                             env={"NOTIFY_SOCKET": n.path,
                                  "WATCHDOG_USEC": str(watchdog_usec)})
        s.write()
        argv = shlex.split(k[("Service", "ExecStart")][0].replace(
            "/usr/bin/sluice", sluice_bin()).replace(
            "/etc/sluice/sluice.lua", s.gateway_file))
        # the harness starts exactly that command line
        self.assertEqual(argv, [s.bin, "run", "-c", s.gateway_file])
        s.start()
        wait_until(lambda: n.with_field("READY=1"), 10,
                   msg=lambda: "READY=1 (got %r)" % n.texts())
        self.assertIn("WATCHDOG=1 every %d ms" % (watchdog_usec // 2000),
                      s.stderr_text())

        reload = shlex.split(k[("Service", "ExecReload")][0].replace(
            "$MAINPID", str(s.proc.pid)))
        p = subprocess.run(reload, capture_output=True, text=True, timeout=30)
        self.assertEqual(p.returncode, 0, p.stderr)
        wait_until(lambda: len(n.with_field("READY=1")) == 2, 10,
                   msg=lambda: "READY=1 after ExecReload (got %r)"
                   % n.texts())
        self.assertEqual(len(n.with_field("RELOADING=1")), 1, n.texts())
        self.assertTrue(s.alive())

        # a configuration error: exit 2, which the unit does not restart
        bad = subprocess.run(argv[:-1] + [os.path.join(s.dir, "none.lua")],
                             capture_output=True, text=True, timeout=30)
        self.assertEqual(bad.returncode, 2, bad.stderr)

        rc, took = s.sigterm(timeout=seconds(k[("Service",
                                                "TimeoutStopSec")][0]))
        self.assertEqual(rc, 0, "not stopped within TimeoutStopSec=")
        self.assertEqual(len(n.with_field("STOPPING=1")), 1, n.texts())
        self.assertEqual({m[1] for m in n.all()}, {s.proc.pid})


if __name__ == "__main__":
    unittest.main(verbosity=2)
