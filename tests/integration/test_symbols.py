"""Every global name carries its file's prefix (issue 10).

Symbols: `nm` over the objects of sluice_core (the static library, whose
members are exactly the objects built from core/; a stale object of a
renamed file in CMakeFiles/ cannot interfere). A global defined in
`sl_x.c` must be `sl_x` or `sl_x_*`. The files of a module (MODULES:
sl_config.c and sl_config_*.c) may export anything with the module's
prefix.

Macros: every `#define` in core/*/sl_*.h is `SL_<FILE>_*` or `sl_<file>_*`
(or the module's), and the include guard is `SL_<FILE>_H`.

Environment: SLUICE_CORE_LIB (the library; ctest sets it), SLUICE_SOURCE_DIR.
"""

import glob
import os
import re
import shutil
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sluice_it import SOURCE_DIR  # noqa: E402

# Modules whose files share one prefix: the module `sl_m` is the files
# sl_m.c and sl_m_*.c, and any of them may export sl_m and sl_m_*. Add a
# module only when its files really form one: the prefix is then the
# module's name for anyone who reads a symbol.
MODULES = (
    # the configuration: sl_config.c loads it, sl_config_keys.c declares
    # the keys, sl_config_parse.c reads them, sl_config_*_rules.c check
    # them, sl_config_errors.c lists what is wrong, sl_config_print.c shows
    "sl_config",
    # the schema: sl_schema.h is its interface, sl_schema_def.h its
    # structures, sl_schema_fields.c builds it, sl_schema_check.c/.h check
    # one value, sl_schema_encode.c and sl_schema_nested.c encode records
    "sl_schema",
    # a connector at run time: sl_connector_life.c its life and intake step,
    # sl_connector_view.c what it shows, sl_connector_def.h its struct
    "sl_connector",
)

# Names the compiler's instrumentation defines in ASan/UBSan and fuzz
# builds (reserved for the implementation: they start with "__").
INSTRUMENTATION = ("__odr_asan", "__asan", "__sancov", "__ubsan")


def is_or_starts(name, prefix):
    return name == prefix or name.startswith(prefix + "_")


def allowed(stem, name):
    """Whether the file `stem` (sl_spool) may define `name`: its module's
    prefix, or else its own."""
    for m in MODULES:
        if is_or_starts(stem, m):
            return is_or_starts(name, m)
    return is_or_starts(name, stem)


def core_symbols(lib):
    """[(object, its stem, symbol)] of the external symbols lib defines."""
    nm = shutil.which("nm")
    if not nm:
        raise unittest.SkipTest("nm not found")
    out = subprocess.run([nm, "-A", "-P", "-g", "--defined-only", lib],
                         check=True, capture_output=True, text=True).stdout
    syms = []
    # "libsluice_core.a[sl_buf.c.o]: sl_buf_init T 0 22"
    for line in out.splitlines():
        m = re.match(r".*\[([^\]]+)\]: (\S+) ", line)
        if not m:
            continue
        obj, sym = m.groups()
        stem = obj.split(".", 1)[0]
        if not sym.startswith(INSTRUMENTATION):
            syms.append((obj, stem, sym))
    return syms


class SymbolPrefixes(unittest.TestCase):
    def test_globals_carry_their_files_prefix(self):
        lib = os.environ.get("SLUICE_CORE_LIB")
        if not lib:
            raise unittest.SkipTest("SLUICE_CORE_LIB not set (ctest sets it)")
        syms = core_symbols(lib)
        self.assertGreater(len(syms), 100, "nm found too few symbols in " + lib)
        bad = ["%s: %s" % (obj, sym) for obj, stem, sym in syms
               if not allowed(stem, sym)]
        for b in bad:
            print("symbol without its file's prefix: " + b)
        self.assertEqual(bad, [], "%d global symbols without their file's "
                         "prefix (listed above)" % len(bad))


DEFINE = re.compile(r"^\s*#\s*define\s+([A-Za-z_][A-Za-z0-9_]*)")
GUARD = re.compile(r"^\s*#\s*ifndef\s+([A-Za-z_][A-Za-z0-9_]*)")


class MacroPrefixes(unittest.TestCase):
    def test_header_macros_carry_their_files_prefix(self):
        headers = sorted(glob.glob(os.path.join(SOURCE_DIR, "core", "*",
                                                "sl_*.h")))
        self.assertGreater(len(headers), 10)
        bad = []
        for h in headers:
            stem = os.path.basename(h)[:-2]
            rel = os.path.relpath(h, SOURCE_DIR)
            guard = stem.upper() + "_H"
            with open(h, encoding="utf-8") as f:
                lines = f.read().splitlines()
            first = next((GUARD.match(l).group(1) for l in lines
                          if GUARD.match(l)), None)
            if first != guard:
                bad.append("%s: include guard %s, not %s" % (rel, first,
                                                             guard))
            for n, line in enumerate(lines, 1):
                m = DEFINE.match(line)
                if not m or m.group(1) == guard:
                    continue
                name = m.group(1)
                # SL_SPOOL_MAX or sl_spool_max, not Sl_Spool_max
                lower = name.lower() if name.startswith("SL_") else name
                if not allowed(stem, lower):
                    bad.append("%s:%d: #define %s" % (rel, n, name))
        for b in bad:
            print("macro without its file's prefix: " + b)
        self.assertEqual(bad, [], "%d header macros without their file's "
                         "prefix (listed above)" % len(bad))


if __name__ == "__main__":
    unittest.main(verbosity=2)
