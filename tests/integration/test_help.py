"""`sluice help`, `sluice help COMMAND`, `sluice COMMAND --help` (and -h)
for every command, and the man page made from the same text (issue 14,
item 7).

The commands are the ones core/cli/sl_main.c dispatches (read from its
source, so that a command added there without a row in core/cli/sl_help.c
fails here) and the ones `sluice help` lists. The man page is the build's
build/sluice.1; groff renders it with every warning on (-ww) and must say
nothing.

Environment: SLUICE_BIN, SLUICE_BUILD_DIR, SLUICE_SOURCE_DIR (ctest sets
them).
"""

import os
import re
import shutil
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sluice_it import SOURCE_DIR, sluice_bin  # noqa: E402


def run(*args):
    return subprocess.run([sluice_bin()] + list(args), capture_output=True,
                          text=True, timeout=30, cwd="/")


def dispatched_commands():
    with open(os.path.join(SOURCE_DIR, "core", "cli", "sl_main.c")) as f:
        src = f.read()
    return sorted(set(re.findall(r'strcmp\(cmd, "([a-z]+)"\) [=!]= 0', src)))


def listed_commands():
    p = run("help")
    assert p.returncode == 0, p.stderr
    body = p.stdout.split("commands:\n", 1)[1].split("\n\n", 1)[0]
    return [line.split()[0] for line in body.splitlines()]


class Help(unittest.TestCase):
    def test_every_dispatched_command_is_listed(self):
        cmds = dispatched_commands()
        self.assertIn("run", cmds)
        self.assertIn("dlq", cmds)
        self.assertEqual(sorted(set(cmds) - set(listed_commands())), [])

    def test_command_help_everywhere(self):
        for cmd in listed_commands():
            want = "usage: sluice %s" % cmd
            ways = [("help", cmd), (cmd, "--help"), (cmd, "-h")]
            for args in ways:
                p = run(*args)
                self.assertEqual(p.returncode, 0, (args, p.stderr))
                self.assertTrue(p.stdout.startswith(want), (args, p.stdout))
                self.assertIn("\nexit status:\n", p.stdout, args)
                self.assertEqual(p.stderr, "", args)
            # the three print the same text
            texts = {run(*a).stdout for a in ways}
            self.assertEqual(len(texts), 1, cmd)

    def test_help_anywhere_among_the_options(self):
        # nothing is loaded or started: the config does not exist
        for args in (("run", "-c", "/nonexistent.lua", "--help"),
                     ("check", "--log-level", "debug", "-h"),
                     ("dlq", "purge", "crm", "--yes", "--help"),
                     ("reset", "crm", "--force", "--help"),
                     ("sink", "--listen", "nonsense", "--help")):
            p = run(*args)
            self.assertEqual(p.returncode, 0, (args, p.stderr))
            self.assertTrue(p.stdout.startswith("usage: sluice " + args[0]),
                            (args, p.stdout))

    def test_run_help_names_its_options(self):
        p = run("run", "--help")
        self.assertIn("-c, --config FILE", p.stdout)
        self.assertIn("--log-level LEVEL", p.stdout)

    def test_overview(self):
        for args in (("help",), ("--help",), ("-h",)):
            p = run(*args)
            self.assertEqual(p.returncode, 0)
            self.assertTrue(p.stdout.startswith("usage: sluice <command>"))
        p = run()
        self.assertEqual(p.returncode, 2)
        self.assertIn("commands:", p.stderr)

    def test_unknown_command(self):
        for args in (("help", "bogus"), ("bogus",), ("bogus", "--help")):
            p = run(*args)
            self.assertEqual(p.returncode, 2, args)
            self.assertIn('unknown command "bogus"', p.stderr, args)
            self.assertIn("\ncommands:\n", p.stderr, args)
            self.assertIn("  run ", p.stderr, args)
            self.assertEqual(p.stdout, "", args)

    def test_man_matches_help(self):
        build = os.environ.get("SLUICE_BUILD_DIR")
        if not build:
            self.skipTest("SLUICE_BUILD_DIR not set (ctest sets it)")
        with open(os.path.join(build, "sluice.1")) as f:
            page = f.read()
        self.assertEqual(page, run("help", "--man").stdout)
        for cmd in listed_commands():
            self.assertIn("\n.SS %s\n" % cmd, page)

    def test_man_renders_without_warnings(self):
        build = os.environ.get("SLUICE_BUILD_DIR")
        if not build:
            self.skipTest("SLUICE_BUILD_DIR not set (ctest sets it)")
        groff = shutil.which("groff")
        if not groff:
            self.skipTest("groff not installed (scripts/install-deps.sh "
                          "installs groff-base)")
        env = dict(os.environ, LC_ALL="C.UTF-8")
        p = subprocess.run([groff, "-man", "-Tutf8", "-ww",
                            os.path.join(build, "sluice.1")],
                           capture_output=True, text=True, env=env,
                           timeout=60)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(p.stderr, "")
        out = re.sub(r".\x08", "", p.stdout)  # overstrike bold/underline
        self.assertIn("SLUICE(1)", out)
        for cmd in listed_commands():
            self.assertIn("sluice %s" % cmd, out)
        self.assertIn("Exit status:", out)


if __name__ == "__main__":
    unittest.main(verbosity=2)
