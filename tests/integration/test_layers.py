"""core/ is layered by stage (docs/architecture.md), and stays so.

The folders of core/, bottom to top, are SLUICE_STAGES in the top
CMakeLists.txt. Checked here:
- every file of core/ is core/<stage>/sl_*.c or .h, in a listed stage;
- every #include "..." in core/ names a header of core/ by its bare name
  (flat includes) in the same or a lower stage;
- no two modules include each other's headers, directly or round a
  circle (a module is a file's stem: sl_spool.c and sl_spool.h);
- no two object files call each other, directly or round a circle (from
  `nm` over the built library, when SLUICE_CORE_LIB is set, as ctest
  does).
"""

import collections
import os
import re
import shutil
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sluice_it import SOURCE_DIR  # noqa: E402

CORE = os.path.join(SOURCE_DIR, "core")


def stages():
    """The stages, bottom to top, as the top CMakeLists.txt lists them."""
    with open(os.path.join(SOURCE_DIR, "CMakeLists.txt")) as f:
        text = f.read()
    m = re.search(r"set\(SLUICE_STAGES\s+([^)]*)\)", text)
    if not m:
        raise AssertionError("no set(SLUICE_STAGES ...) in CMakeLists.txt")
    return m.group(1).split()


def core_files():
    """{file name: stage} of every file under core/ (and the strays)."""
    files, strays = {}, []
    for dirpath, dirnames, filenames in os.walk(CORE):
        rel = os.path.relpath(dirpath, CORE)
        for name in filenames:
            path = os.path.join(rel, name)
            if rel == "." or os.sep in rel or \
                    not re.fullmatch(r"sl_[a-z0-9_]+\.[ch]", name):
                strays.append(path)
            elif name in files:
                strays.append(path + " (the same name as in %s/)" % files[name])
            else:
                files[name] = rel
    return files, strays


def includes(stage, name):
    with open(os.path.join(CORE, stage, name), errors="replace") as f:
        return re.findall(r'^\s*#\s*include\s+"([^"]+)"', f.read(), re.M)


def cycles(graph):
    """The circles of a {node: {nodes}} graph, each as a list of nodes."""
    found, state, stack = [], {}, []

    def visit(u):
        state[u] = 1
        stack.append(u)
        for v in sorted(graph.get(u, ())):
            if state.get(v) == 1:
                found.append(stack[stack.index(v):] + [v])
            elif v not in state:
                visit(v)
        stack.pop()
        state[u] = 2

    for u in sorted(graph):
        if u not in state:
            visit(u)
    return found


class Layers(unittest.TestCase):
    def setUp(self):
        self.stages = stages()
        self.rank = {s: i for i, s in enumerate(self.stages)}
        self.files, self.strays = core_files()

    def test_every_file_sits_in_a_listed_stage(self):
        self.assertEqual(self.strays, [],
                         "files of core/ that are not core/<stage>/sl_*.[ch]")
        unlisted = sorted({s for s in self.files.values()
                           if s not in self.rank})
        self.assertEqual(unlisted, [], "folders not in SLUICE_STAGES")

    def test_includes_are_flat_and_go_down(self):
        wrong = []
        for name, stage in sorted(self.files.items()):
            for inc in includes(stage, name):
                if inc not in self.files:
                    wrong.append("%s/%s includes \"%s\": not a header of "
                                 "core/ named flat" % (stage, name, inc))
                elif self.rank[self.files[inc]] > self.rank[stage]:
                    wrong.append("%s/%s includes %s from the higher %s/"
                                 % (stage, name, inc, self.files[inc]))
        self.assertEqual(wrong, [])

    def test_no_include_circles_between_modules(self):
        graph = collections.defaultdict(set)
        for name, stage in self.files.items():
            me = name.rsplit(".", 1)[0]
            for inc in includes(stage, name):
                other = inc.rsplit(".", 1)[0]
                if inc in self.files and other != me:
                    graph[me].add(other)
        self.assertEqual([" -> ".join(c) for c in cycles(graph)], [])

    def test_no_call_circles_between_objects(self):
        lib = os.environ.get("SLUICE_CORE_LIB")
        nm = shutil.which("nm")
        if not lib or not nm:
            self.skipTest("SLUICE_CORE_LIB or nm missing (ctest sets both)")
        out = subprocess.run([nm, "-A", "-P", lib], check=True,
                             capture_output=True, text=True).stdout
        defined, used = {}, collections.defaultdict(set)
        for line in out.splitlines():
            m = re.match(r".*\[([^\]]+)\]: (\S+) (\S)", line)
            if not m:
                continue
            obj, sym, kind = m.groups()
            obj = obj.split(".", 1)[0]
            if kind == "U":
                used[obj].add(sym)
            elif kind.isupper():
                defined[sym] = obj
        self.assertGreater(len(defined), 100, "nm found too few symbols")
        graph = {o: {defined[s] for s in syms
                     if s in defined and defined[s] != o}
                 for o, syms in used.items()}
        self.assertEqual([" -> ".join(c) for c in cycles(graph)], [])


if __name__ == "__main__":
    unittest.main(verbosity=2)
