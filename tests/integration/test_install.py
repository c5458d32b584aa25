"""`cmake --install` of the current build: the installed binary finds its
Lua modules from its own location, and the installed example passes
`sluice check` from another directory, with nothing of the source tree
compiled in (issue 10), the man page goes to share/man/man1, and the
systemd unit and its sysusers.d file are installed with the prefix's
paths, `systemd-analyze verify` accepting the installed unit as it is
(issue 14).

The source and build trees stay as they are: the test installs into a
temporary prefix and runs the installed binary with SLUICE_LUA_PATH unset
and the cwd elsewhere; that the binary holds no string of the source path
shows that it cannot be reading the source's lua/.

Environment: SLUICE_BUILD_DIR (the build directory), SLUICE_CMAKE (cmake),
SLUICE_SOURCE_DIR (ctest sets them).
"""

import glob
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sluice_it import SOURCE_DIR  # noqa: E402


def installed_env():
    env = dict(os.environ)
    env.pop("SLUICE_LUA_PATH", None)
    return env


class Install(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        build = os.environ.get("SLUICE_BUILD_DIR")
        if not build:
            raise unittest.SkipTest("SLUICE_BUILD_DIR not set (ctest sets it)")
        cmake = os.environ.get("SLUICE_CMAKE") or shutil.which("cmake")
        cls.tmp = tempfile.mkdtemp(prefix="sluice-install-")
        cls.prefix = os.path.join(cls.tmp, "inst")
        # --strip: a RelWithDebInfo build's debug info names the source
        # files; what matters is that no path is compiled into the code
        p = subprocess.run([cmake, "--install", build, "--prefix", cls.prefix,
                            "--strip"], capture_output=True, text=True)
        if p.returncode != 0:
            shutil.rmtree(cls.tmp, ignore_errors=True)
            raise AssertionError("cmake --install failed:\n" + p.stdout +
                                 p.stderr)
        cls.bin = os.path.join(cls.prefix, "bin", "sluice")
        cls.share = os.path.join(cls.prefix, "share", "sluice")
        cls.conf = os.path.join(cls.share, "conf", "sluice.lua")
        cls.elsewhere = os.path.join(cls.tmp, "elsewhere")
        os.mkdir(cls.elsewhere)

    @classmethod
    def tearDownClass(cls):
        if os.environ.get("SLUICE_IT_KEEP") != "1":
            shutil.rmtree(cls.tmp, ignore_errors=True)

    def check(self, conf, cwd):
        p = subprocess.run([self.bin, "check", "-c", conf], cwd=cwd,
                           env=installed_env(), capture_output=True,
                           text=True, timeout=60)
        return p.returncode, p.stdout, p.stderr

    def test_layout(self):
        self.assertTrue(os.access(self.bin, os.X_OK))
        for rel in ("lua/sluice/oauth2.lua", "lua/sluice/webhooks.lua",
                    "lua/sluice/responses.lua",
                    "conf/sluice.lua"):
            self.assertTrue(os.path.isfile(os.path.join(self.share, rel)), rel)
        shipped = sorted(os.path.basename(f) for f in
                         glob.glob(os.path.join(SOURCE_DIR, "conf",
                                                "connectors", "*.lua")))
        got = sorted(os.listdir(os.path.join(self.share, "conf",
                                             "connectors")))
        self.assertEqual(got, shipped)
        doc = os.path.join(self.prefix, "share", "doc", "sluice")
        for name in ("README.md", "connectors.md", "operations.md"):
            self.assertTrue(os.path.isfile(os.path.join(doc, name)), name)
        # the man page sluice(1), made from the help table at build time
        man = os.path.join(self.prefix, "share", "man", "man1", "sluice.1")
        self.assertTrue(os.path.isfile(man), man)
        with open(man) as f:
            self.assertTrue(f.read().startswith(".TH SLUICE 1 "))
        # the build tree's pointer to the source is not installed, nor is
        # the example's state (conf/var, left by the demo)
        found = [os.path.join(d, f) for d, _, fs in os.walk(self.prefix)
                 for f in fs if f == "sluice-lua-dir"]
        self.assertEqual(found, [])
        self.assertFalse(os.path.exists(os.path.join(self.share, "conf",
                                                     "var")))

    def unit(self):
        path = os.path.join(self.prefix, "lib", "systemd", "system",
                            "sluice.service")
        self.assertTrue(os.path.isfile(path), path)
        with open(path) as f:
            return path, f.read()

    def test_systemd_unit(self):
        path, text = self.unit()
        self.assertIn("\nExecStart=%s run -c %s\n"
                      % (self.bin, os.path.join(self.prefix, "etc", "sluice",
                                                "sluice.lua")), text)
        self.assertIn("Documentation=man:sluice(1) file:%s/share/doc/sluice/"
                      "operations.md" % self.prefix, text)
        self.assertNotIn("/usr/bin/sluice", text)
        # the rest is the source's unit, line for line
        with open(os.path.join(SOURCE_DIR, "conf", "systemd",
                               "sluice.service")) as f:
            src = f.read().splitlines()
        got = text.splitlines()
        self.assertEqual(len(got), len(src))
        self.assertEqual([g for g, s in zip(got, src) if g != s],
                         [g for g in got if self.prefix in g])
        users = os.path.join(self.prefix, "lib", "sysusers.d", "sluice.conf")
        self.assertTrue(os.path.isfile(users), users)
        # not also among the example configuration
        self.assertFalse(os.path.exists(os.path.join(self.share, "conf",
                                                     "systemd")))
        analyze = shutil.which("systemd-analyze")
        if not analyze:
            self.skipTest("systemd-analyze not found (systemd is not "
                          "installed; scripts/install-deps.sh installs it)")
        # Documentation=man:sluice(1): the installed page
        env = dict(os.environ, MANPATH=os.path.join(self.prefix, "share",
                                                    "man"))
        p = subprocess.run([analyze, "verify", path], cwd=self.elsewhere,
                           env=env, capture_output=True, text=True,
                           timeout=120)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(p.stderr.strip(), "")

    def test_check_installed_example_from_elsewhere(self):
        n = len(glob.glob(os.path.join(SOURCE_DIR, "conf", "connectors",
                                       "*.lua")))
        rc, out, err = self.check(self.conf, self.elsewhere)
        self.assertEqual(rc, 0, err)
        self.assertIn("%s: OK (%d connectors)" % (self.conf, n), out)
        # a relative -c from the prefix: connector paths resolve from the
        # configuration file's directory, not from the cwd
        rc, out, err = self.check(os.path.join("share", "sluice", "conf",
                                               "sluice.lua"), self.prefix)
        self.assertEqual(rc, 0, err)

    def test_modules_come_from_the_prefix(self):
        # a copy of the prefix without sluice/oauth2.lua: the copy's binary
        # misses it there, so it looks nowhere else
        copy = os.path.join(self.tmp, "copy")
        shutil.copytree(self.prefix, copy, symlinks=True)
        os.remove(os.path.join(copy, "share", "sluice", "lua", "sluice",
                               "oauth2.lua"))
        p = subprocess.run([os.path.join(copy, "bin", "sluice"), "check", "-c",
                            os.path.join(copy, "share", "sluice", "conf",
                                         "sluice.lua")],
                           cwd=self.elsewhere, env=installed_env(),
                           capture_output=True, text=True, timeout=60)
        self.assertNotEqual(p.returncode, 0)
        want = os.path.join(copy, "bin", "..", "share", "sluice", "lua",
                            "sluice", "oauth2.lua")
        self.assertIn("module 'sluice.oauth2' not found (no file %s)" % want,
                      p.stderr)
        shutil.rmtree(copy)

    def sanitized(self):
        """Whether the binary is an ASan/UBSan build: the sanitizers keep
        source file names for their reports, stripped or not."""
        p = subprocess.run(["nm", "-D", self.bin], capture_output=True,
                           text=True)
        return any(w.startswith(("__asan_", "__ubsan_"))
                   for w in p.stdout.split())

    def test_no_source_path_in_the_binary(self):
        srcs = sorted({SOURCE_DIR, os.path.realpath(SOURCE_DIR)})
        if self.sanitized():
            # only the path that used to be compiled in: <source>/lua
            srcs = [os.path.join(s, "lua") for s in srcs]
        for src in srcs:
            p = subprocess.run(["grep", "-c", "-F", src, self.bin],
                               capture_output=True, text=True)
            self.assertEqual(p.stdout.strip(), "0",
                             "%s names %s %s times" % (self.bin, src,
                                                       p.stdout.strip()))


if __name__ == "__main__":
    unittest.main(verbosity=2)
