"""`sluice check` and configuration errors through the binary (the detailed
error cases are unit-tested in C)."""

import glob
import os
import re
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sluice_it import (SOURCE_DIR, SluiceTestCase, connector_lua,  # noqa: E402
                       run_check, sluice_bin)

SECRET = "s3cr3t-t0ken-XYZ"
API_KEY = "k3y-VALUE-9876"

# Line numbers matter below: keep each key on the line the tests name.
TYPO_CONNECTOR = """\
return {
  name = "crm",
  url = "http://127.0.0.1:9/v1/contacts",
  method = "POST",
  hedaers = { ["X-Source"] = "sluice" },
  schema = {
    { name = "id", type = "integer" },
    { name = "email", type = "string" },
  },
}
"""
TYPO_LINE = 5

BADTYPE_CONNECTOR = """\
return {
  name = "crm",
  url = "http://127.0.0.1:9/v1/contacts",
  method = "POST",
  schema = {
    { name = "id", type = "integer" },
    { name = "email", type = "strng" },
  },
}
"""
BADTYPE_LINE = 7

BOTH_CONNECTOR = """\
return {
  name = "crm",
  url = "http://127.0.0.1:9/v1/contacts",
  method = "POST",
  hedaers = { ["X-Source"] = "sluice" },
  schema = {
    { name = "id", type = "integer" },
    { name = "email", type = "strng" },
  },
}
"""

SYNTAX_CONNECTOR = """\
return {
  name = "crm",
  url = "http://127.0.0.1:9/v1/contacts",
  method = "POST",,
  schema = { { name = "id", type = "integer" } },
}
"""
SYNTAX_LINE = 4


def lua_strings(path, key):
    """Every `key = "value"` string in a Lua file, comments left out."""
    out = []
    with open(path) as f:
        for line in f:
            code = line.split("--", 1)[0]
            out += re.findall(r'\b%s\s*=\s*"([^"]*)"' % key, code)
    return out


class CheckTest(SluiceTestCase):

    def test_shipped_example_passes(self):
        gw = os.path.join(SOURCE_DIR, "conf", "sluice.lua")
        self.assertTrue(os.path.isfile(gw), "missing example %s" % gw)
        files = sorted(glob.glob(os.path.join(SOURCE_DIR, "conf", "connectors", "*.lua")))
        self.assertTrue(files, "no example connectors in conf/connectors/")
        rc, out, err = run_check(gw)
        self.assertEqual(rc, 0, "check failed:\n%s" % err)
        for f in files:
            for name in lua_strings(f, "name"):  # connector and field names
                self.assertIn(name, out, "%s: %r not in check output" % (f, name))
            for typ in lua_strings(f, "type"):
                self.assertIn(typ, out, "%s: type %r not in check output" % (f, typ))

    def test_check_prints_connector_and_masks_secrets(self):
        sl = self.make_sluice({"crm": connector_lua(
            "crm_contacts", "http://127.0.0.1:9/v1/contacts", method="PATCH",
            headers={"X-Source": "sluice", "Authorization": "Bearer " + SECRET})})
        rc, out, err = sl.check()
        self.assertEqual(rc, 0, "check failed:\n%s" % err)
        self.assertIn("crm_contacts", out)
        self.assertIn("http://127.0.0.1:9/v1/contacts", out)
        self.assertIn("PATCH", out)
        self.assertIn("X-Source", out)
        self.assertIn("Authorization", out)
        self.assertNotIn(SECRET, out)
        self.assertNotIn(SECRET, err)
        for field, typ in (("id", "integer"), ("email", "string"),
                           ("amount", "number"), ("active", "boolean"),
                           ("day", "date"), ("at", "datetime")):
            self.assertRegex(out, r"\b%s\b[^\n]*\b%s\b" % (field, typ),
                             "schema row for %s" % field)

    def test_check_masks_api_key_header(self):
        sl = self.make_sluice({"crm": connector_lua(
            "crm", "http://127.0.0.1:9/x",
            headers={"X-Api-Key": API_KEY})})
        rc, out, err = sl.check()
        self.assertEqual(rc, 0, "check failed:\n%s" % err)
        self.assertIn("X-Api-Key", out)
        self.assertNotIn(API_KEY, out)

    def test_typo_key_did_you_mean_with_line(self):
        sl = self.make_sluice({"crm": TYPO_CONNECTOR})
        rc, out, err = sl.check()
        self.assertNotEqual(rc, 0)
        lines = [l for l in err.splitlines() if "hedaers" in l]
        self.assertEqual(len(lines), 1, "one line for the problem:\n%s" % err)
        self.assertIn("crm.lua:%d:" % TYPO_LINE, lines[0])
        self.assertIn('did you mean "headers"', lines[0])

    def test_unknown_type(self):
        sl = self.make_sluice({"crm": BADTYPE_CONNECTOR})
        rc, out, err = sl.check()
        self.assertNotEqual(rc, 0)
        lines = [l for l in err.splitlines() if "strng" in l]
        self.assertEqual(len(lines), 1, err)
        self.assertRegex(lines[0], r"crm\.lua:\d+: ")
        self.assertIn("type", lines[0])

    def test_every_problem_reported_one_line_each(self):
        sl = self.make_sluice({"crm": BOTH_CONNECTOR})
        rc, out, err = sl.check()
        self.assertNotEqual(rc, 0)
        problem_lines = [l for l in err.splitlines()
                         if re.search(r"crm\.lua:\d+: ", l)]
        self.assertTrue(any("hedaers" in l for l in problem_lines), err)
        self.assertTrue(any("strng" in l for l in problem_lines), err)

    def test_lua_syntax_error_names_file_and_line(self):
        sl = self.make_sluice({"crm": SYNTAX_CONNECTOR})
        rc, out, err = sl.check()
        self.assertNotEqual(rc, 0)
        self.assertIn("crm.lua:%d:" % SYNTAX_LINE, err)

    def test_missing_config_file(self):
        path = "/nonexistent/sluice-it/sluice.lua"
        rc, out, err = run_check(path)
        self.assertNotEqual(rc, 0)
        self.assertIn(path, err)

    def test_run_with_bad_config_exits_nonzero(self):
        sl = self.make_sluice({"crm": TYPO_CONNECTOR})
        sl.write()
        t0 = time.monotonic()
        try:
            p = subprocess.run([sluice_bin(), "run", "-c", sl.gateway_file],
                               stdin=subprocess.DEVNULL, capture_output=True,
                               timeout=10)
        except subprocess.TimeoutExpired:
            self.fail("`sluice run` with a bad config still running after 10 s")
        err = p.stderr.decode("utf-8", "replace")
        self.assertNotEqual(p.returncode, 0)
        self.assertLess(time.monotonic() - t0, 10)
        self.assertIn("crm.lua:%d:" % TYPO_LINE, err)
        self.assertIn("hedaers", err)
        self.assertIn('did you mean "headers"', err)

    # ---- the gateway key workers (issue 16) ------------------------------
    # Sluice.write() puts gateway_extra on line 5 of sluice.lua.

    def test_workers_out_of_range_or_not_an_integer(self):
        for value, says in (
                ("-1", "-1 is out of range (0..256)"),
                ("257", "257 is out of range (0..256)"),
                ("1.5", "expected an integer, got number 1.5"),
                ('"two"', 'expected an integer, got string "two"'),
                ("{}", "expected an integer, got table"),
                ("2^63", "expected an integer, got number 9.2233720368548e+18"),
                ("1e300", "expected an integer, got number 1e+300")):
            with self.subTest(workers=value):
                sl = self.make_sluice(
                    {"crm": connector_lua("crm", "http://127.0.0.1:9/x")},
                    gateway_extra="  workers = %s," % value)
                rc, out, err = sl.check()
                self.assertNotEqual(rc, 0, out)
                lines = [l for l in err.splitlines() if "workers" in l]
                self.assertEqual(lines, ["%s:5: workers: %s"
                                         % (sl.gateway_file, says)], err)
                rc, _, err = sl.run_once()
                self.assertNotEqual(rc, 0, "sluice run started with workers "
                                    "= %s" % value)
                self.assertIn("sluice.lua:5: workers: " + says, err)

    def test_workers_printed_by_check(self):
        for extra, says in (
                ("", "  workers         0 (one per CPU)\n"),
                ("  workers = 0,", "  workers         0 (one per CPU)\n"),
                ("  workers = 1,", "  workers         1 (records checked on "
                                   "the loop thread)\n"),
                ("  workers = 256,", "  workers         256 (threads checking "
                                     "records)\n")):
            with self.subTest(extra=extra):
                sl = self.make_sluice(
                    {"crm": connector_lua("crm", "http://127.0.0.1:9/x")},
                    gateway_extra=extra)
                rc, out, err = sl.check()
                self.assertEqual(rc, 0, err)
                self.assertIn(says, out)


if __name__ == "__main__":
    unittest.main(verbosity=2)
