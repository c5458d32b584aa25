"""sluice send (issue 15, item 1): a file through a connector in this
process. A 50,000-row CSV written by Python's csv module (quoted commas,
embedded newlines, unicode, CRLF, a sprinkling of invalid rows), the same
data as NDJSON and as a JSON array, standard input, the progress bar on a
pseudo-terminal and plain lines elsewhere, the exit statuses, Ctrl-C once
and twice, and dead letters. Each test asserts on what reached the
destination and on the rejects file."""

import csv
import fcntl
import io
import json
import os
import pty
import select
import signal
import struct
import subprocess
import sys
import termios
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sluice_it import (LuaRaw, SluiceTestCase, connector_lua,  # noqa: E402
                       sanitizer_report, sluice_bin)

SCHEMA = [
    {"name": "id", "type": "integer"},
    {"name": "name", "type": "string"},
    {"name": "note", "type": "string", "nullable": True},
    {"name": "score", "type": "number", "nullable": True},
    {"name": "active", "type": "boolean"},
]
COLUMNS = ["id", "name", "note", "score", "active"]
ROWS = 50000
BAD_EVERY = 997
# kind of invalid row -> (the field the rejection names, in CSV; in JSON)
BAD_KINDS = ["integer", "empty", "boolean", "short"]
BAD_FIELD = {"integer": ("id", "id"), "empty": ("name", "name"),
             "boolean": ("active", "active"), "short": ("", "active")}


def row_values(i):
    """The cells of valid row i (as CSV text) and its record."""
    name = ["Name, %d" % i, 'say "hi" %d' % i, "Zoë 東京 %d" % i,
            "plain%d" % i][i % 4]
    note = None
    if i % 7 == 0:
        note = "line one\nline two, %d" % i
    elif i % 11 == 0:
        note = None
    elif i % 3 == 0:
        note = "ok ✓ %d" % i
    score = None if i % 5 == 0 else i + 0.5
    active = i % 2 == 0
    cells = [str(i), name, "" if note is None else note,
             "" if score is None else repr(score),
             ["true", "FALSE", "1", "0"][i % 4] if i % 4 in (0, 2)
             else ["True", "false", "0", "0"][i % 4]]
    # i % 4: 0 "true"(even), 1 "false"(odd), 2 "1"(even), 3 "0"(odd)
    cells[4] = {0: "true", 1: "false", 2: "1", 3: "0"}[i % 4]
    return cells, {"id": i, "name": name, "note": note, "score": score,
                   "active": active}


def bad_kind(i):
    return BAD_KINDS[(i // BAD_EVERY) % len(BAD_KINDS)] \
        if i % BAD_EVERY == 0 else None


def bad_cells(i, kind):
    cells, _ = row_values(i)
    if kind == "integer":
        cells[0] = "%dx" % i
    elif kind == "empty":
        cells[1] = ""
    elif kind == "boolean":
        cells[4] = "yes"
    else:
        cells = cells[:2]
    return cells


def bad_record(i, kind):
    _, rec = row_values(i)
    if kind == "integer":
        rec["id"] = "%dx" % i
    elif kind == "empty":
        rec["name"] = None
    elif kind == "boolean":
        rec["active"] = "yes"
    else:
        del rec["active"]
        del rec["score"]
    return rec


def write_csv(path, n=ROWS, bad=True):
    """Write the CSV; returns (valid records by id, {line: (kind, raw)} of
    the invalid rows)."""
    buf = io.StringIO(newline="")
    w = csv.writer(buf)  # excel dialect: CRLF line ends, minimal quoting
    w.writerow(COLUMNS)
    line = 2
    valid, invalid = {}, {}
    for i in range(1, n + 1):
        kind = bad_kind(i) if bad else None
        cells = bad_cells(i, kind) if kind else row_values(i)[0]
        start = buf.tell()
        w.writerow(cells)
        text = buf.getvalue()[start:]
        if kind:
            invalid[line] = (kind, text[:-2])
        else:
            valid[i] = row_values(i)[1]
        line += 1 + text[:-2].count("\n")
    with open(path, "w", encoding="utf-8", newline="") as f:
        f.write(buf.getvalue())
    return valid, invalid


def write_json(path, n=ROWS, array=False):
    """NDJSON (or an array, one element a line); returns what write_csv
    does, the lines those of the JSON text."""
    valid, invalid = {}, {}
    lines = ["["] if array else []
    for i in range(1, n + 1):
        kind = bad_kind(i)
        rec = bad_record(i, kind) if kind else row_values(i)[1]
        text = json.dumps(rec, ensure_ascii=False)
        lines.append(text + ("," if array and i < n else ""))
        if kind:
            invalid[len(lines)] = (kind, text)
        else:
            valid[i] = rec
    if array:
        lines.append("]")
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")
    return valid, invalid


class SendTest(SluiceTestCase):

    def setup_sluice(self, dest=None, **kw):
        dest = dest or self.start_destination()
        batch = {"max_records": 500, "max_delay_ms": 20}
        batch.update(kw.pop("batch", {}))
        self.sl = self.make_sluice({
            "crm": connector_lua("crm", dest.url + "/crm", schema=SCHEMA,
                                 unknown_fields="reject", batch=batch,
                                 **kw)})
        self.sl.write()
        self.dest = dest
        return dest

    def path(self, name):
        return os.path.join(self.sl.dir, name)

    def send(self, *args, stdin=None, timeout=300, cwd=None):
        """Run sluice send -> (rc, stdout, stderr)."""
        p = subprocess.run([sluice_bin(), "send"] + list(args) +
                           ["-c", self.sl.gateway_file], input=stdin,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           timeout=timeout, cwd=cwd or self.sl.dir)
        self.check_sanitizer(p.stderr)
        return p.returncode, p.stdout.decode(), p.stderr.decode("utf-8",
                                                                "replace")

    def check_sanitizer(self, err):
        path = self.path("send-stderr.log")
        with open(path, "wb") as f:
            f.write(err)
        report = sanitizer_report(path)
        if report:
            self.fail("sluice send reported a sanitizer error:\n" + report)

    def delivered(self):
        got = {}
        for r in self.dest.records():
            self.assertNotIn(r["id"], got, "delivered twice: %r" % r)
            got[r["id"]] = r
        return got

    def assert_delivered(self, valid):
        got = self.delivered()
        self.assertEqual(len(got), len(valid))
        self.assertEqual(set(got), set(valid))
        for i, want in valid.items():
            rec = got[i]
            for k in COLUMNS:
                self.assertEqual(rec.get(k), want[k], "record %d %s" % (i, k))

    def rejects(self, path):
        with open(path, encoding="utf-8") as f:
            return [json.loads(line) for line in f]

    def assert_rejects(self, path, invalid, csv_fields=True, raw=True):
        rej = self.rejects(path)
        self.assertEqual([r["line"] for r in rej], sorted(invalid))
        for r in rej:
            kind, text = invalid[r["line"]]
            field = BAD_FIELD[kind][0 if csv_fields else 1]
            self.assertEqual(r["field"], field, r)
            self.assertTrue(r["error"], r)
            if raw:
                self.assertEqual(r["row"], text, r)

    # ------------------------------------------------------------------

    def test_csv_50000_rows(self):
        self.setup_sluice()
        data = self.path("people.csv")
        valid, invalid = write_csv(data)
        self.assertGreater(len(invalid), 40)
        rc, out, err = self.send("crm", data)
        self.assertEqual(rc, 1, out + err)
        self.assert_delivered(valid)
        self.assert_rejects(data + ".rejects.ndjson", invalid)
        self.assertIn("rows read", out)
        self.assertRegex(out, r"accepted\s+%d\b" % len(valid))
        self.assertRegex(out, r"rejected\s+%d \(in %s\)"
                         % (len(invalid), data + ".rejects.ndjson"))
        self.assertRegex(out, r"delivered\s+%d\b" % len(valid))
        self.assertRegex(out, r"dead-lettered\s+0\b")
        # not a terminal: plain lines, the last at 100 %
        self.assertNotIn("\r", err)
        self.assertRegex(err, r"sluice send: 100%%, rows %d," % ROWS)

    def test_all_valid_exit_0_and_stale_rejects_removed(self):
        self.setup_sluice()
        data = self.path("ok.csv")
        valid, invalid = write_csv(data, n=3000, bad=False)
        self.assertEqual(invalid, {})
        with open(data + ".rejects.ndjson", "w") as f:
            f.write("stale\n")
        rc, out, err = self.send("crm", data, "--batch", "250")
        self.assertEqual(rc, 0, out + err)
        self.assert_delivered(valid)
        self.assertFalse(os.path.exists(data + ".rejects.ndjson"))
        self.assertRegex(out, r"rejected\s+0\n")

    def test_ndjson_and_json_array_same_delivered_set(self):
        self.setup_sluice()
        for array in (False, True):
            with self.subTest(array=array):
                self.dest._requests.clear()
                data = self.path("people.json" if array else "people.ndjson")
                valid, invalid = write_json(data, n=20000, array=array)
                rc, out, err = self.send("crm", data)
                self.assertEqual(rc, 1, out + err)
                self.assert_delivered(valid)
                self.assert_rejects(data + ".rejects.ndjson", invalid,
                                    csv_fields=False)
        # the CSV of the same rows delivers the same set
        self.dest._requests.clear()
        data = self.path("people.csv")
        valid_csv, _ = write_csv(data, n=20000)
        self.assertEqual(set(valid_csv), set(valid))
        rc, out, err = self.send("crm", data)
        self.assert_delivered(valid)

    def test_several_files_each_with_its_rejects(self):
        self.setup_sluice()
        a, b = self.path("a.csv"), self.path("b.ndjson")
        valid_a, invalid_a = write_csv(a, n=2500)
        valid_b, invalid_b = write_json(b, n=1200)
        # b's ids overlap a's: make them distinct
        with open(b) as f:
            lines = [json.loads(x) for x in f]
        with open(b, "w") as f:
            for r in lines:
                if isinstance(r["id"], int):
                    r["id"] += 100000
                f.write(json.dumps(r) + "\n")
        valid_b = {i + 100000: dict(r, id=i + 100000)
                   for i, r in valid_b.items()}
        rc, out, err = self.send("crm", a, b, "--batch", "300")
        self.assertEqual(rc, 1, out + err)
        self.assert_delivered({**valid_a, **valid_b})
        self.assert_rejects(a + ".rejects.ndjson", invalid_a)
        self.assert_rejects(b + ".rejects.ndjson", invalid_b,
                            csv_fields=False, raw=False)
        self.assertIn("(in %s.rejects.ndjson, %s.rejects.ndjson)" % (a, b),
                      out)

    def test_stdin(self):
        self.setup_sluice()
        data = self.path("in.csv")
        valid, invalid = write_csv(data, n=2000)
        with open(data, "rb") as f:
            body = f.read()
        rc, out, err = self.send("crm", "-", "--format", "csv", stdin=body)
        self.assertEqual(rc, 1, out + err)
        self.assert_delivered(valid)
        self.assert_rejects(self.path("stdin.rejects.ndjson"), invalid)
        # sniffed: an array on stdin, rejects where --rejects says
        self.dest._requests.clear()
        jpath = self.path("in.json")
        valid, invalid = write_json(jpath, n=1500, array=True)
        with open(jpath, "rb") as f:
            body = f.read()
        rej = self.path("mine.ndjson")
        rc, out, err = self.send("crm", "-", "--rejects", rej, stdin=body)
        self.assertEqual(rc, 1, out + err)
        self.assert_delivered(valid)
        self.assert_rejects(rej, invalid, csv_fields=False)
        # CSV cannot be told from its first byte: exit 2, nothing sent
        self.dest._requests.clear()
        rc, out, err = self.send("crm", "-", stdin=b"id,name\n1,a\n")
        self.assertEqual(rc, 2, err)
        self.assertIn("--format", err)

    def test_progress_bar_on_a_terminal(self):
        self.setup_sluice()
        data = self.path("p.csv")
        valid, _ = write_csv(data, n=20000, bad=False)
        master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ,
                    struct.pack("HHHH", 24, 120, 0, 0))
        p = subprocess.Popen([sluice_bin(), "send", "crm", data, "-c",
                              self.sl.gateway_file], stdout=subprocess.PIPE,
                             stderr=slave, stdin=subprocess.DEVNULL,
                             cwd=self.sl.dir)
        os.close(slave)
        chunks = []
        while True:
            try:
                r, _, _ = select.select([master], [], [], 60)
                if not r:
                    break
                b = os.read(master, 65536)
            except OSError:  # EIO: the other end closed
                break
            if not b:
                break
            chunks.append(b)
        os.close(master)
        out = p.stdout.read().decode()
        rc = p.wait(60)
        # the terminal writes each line end as CRLF (ONLCR)
        tty = b"".join(chunks).decode("utf-8", "replace").replace("\r\n",
                                                                  "\n")
        self.check_sanitizer(tty.encode())
        self.assertEqual(rc, 0, out + tty)
        draws = tty.split("\r")
        self.assertGreaterEqual(len(draws), 3, repr(tty))  # redrawn in place
        last = draws[-1]
        self.assertIn("100%", last)
        self.assertIn("rows 20000,", last)
        self.assertIn("delivered 20000,", last)
        self.assertLessEqual(len(last.rstrip("\n").replace("\x1b[K", "")),
                             119)
        self.assertIn("[" + "#" * 10, last)
        self.assertNotIn("\n", "".join(draws[1:-1]).replace("\x1b[K", ""))
        self.assert_delivered(valid)

    def test_tsv_delimiter_crlf_in_quotes_and_bom(self):
        self.setup_sluice()
        tsv = self.path("t.tsv")
        with open(tsv, "wb") as f:
            f.write(b"\xef\xbb\xbfid\tname\tactive\r\n1\ta,b\tTRUE\r\n"
                    b"2\t\"x\ty\r\nz\"\t0\r\n3\tq\tmaybe\r\n")
        semi = self.path("s.csv")
        with open(semi, "wb") as f:
            f.write(b"id;name;active\n4;\"p;q\";1\n")
        rc, out, err = self.send("crm", tsv)
        self.assertEqual(rc, 1, out + err)
        rej = self.rejects(tsv + ".rejects.ndjson")
        self.assertEqual([(r["line"], r["field"], r["row"]) for r in rej],
                         [(5, "active", "3\tq\tmaybe")])
        rc, out, err = self.send("crm", semi, "--delimiter", ";")
        self.assertEqual(rc, 0, out + err)
        got = self.delivered()
        self.assertEqual({i: (r["name"], r["active"]) for i, r in got.items()},
                         {1: ("a,b", True), 2: ("x\ty\r\nz", False),
                          4: ("p;q", True)})

    def test_transform_sees_columns_the_schema_lacks(self):
        self.setup_sluice(extra={"transform": LuaRaw(
            "function(rec) rec.name = rec.full_name; rec.full_name = nil; "
            "if rec.id == 2 then return nil end return rec end")})
        data = self.path("t.csv")
        with open(data, "w") as f:
            # no column for the non-nullable `name`: the transform fills it
            f.write("id,full_name,active\n1,Ann,true\n2,Bob,false\n"
                    "3,,true\n")
        rc, out, err = self.send("crm", data)
        self.assertEqual(rc, 1, out + err)  # row 3: name is null
        self.assertRegex(out, r"dropped\s+1\b")
        got = self.delivered()
        self.assertEqual({i: r["name"] for i, r in got.items()}, {1: "Ann"})
        rej = self.rejects(data + ".rejects.ndjson")
        self.assertEqual([(r["line"], r["field"]) for r in rej],
                         [(4, "name")])
        self.assertEqual(rej[0]["row"], "3,,true")

    def test_usage_and_configuration_errors_exit_2(self):
        self.setup_sluice()
        data = self.path("ok.csv")
        write_csv(data, n=10, bad=False)
        bad_header = self.path("bad.csv")
        with open(bad_header, "w") as f:
            f.write("idx,name,active\n1,a,true\n")
        other = self.path("data.txt")
        with open(other, "w") as f:
            f.write("{}\n")
        cases = [
            (["nosuch", data], "no connector"),
            (["crm", self.path("missing.csv")], "cannot open"),
            (["crm", data, "--bogus"], "unknown option"),
            (["crm", data, "--format", "xml"], "--format"),
            (["crm", data, "--batch", "0"], "--batch"),
            (["crm"], "which file"),
            (["crm", other], "cannot tell the format"),
            (["crm", bad_header], "idx"),
            (["crm", data, data, "--rejects", "x"], "--rejects"),
        ]
        for args, words in cases:
            with self.subTest(args=args):
                rc, out, err = self.send(*args)
                self.assertEqual(rc, 2, out + err)
                self.assertIn(words, err)
        self.assertEqual(self.dest.requests(), [])

    def test_ctrl_c_once_delivers_what_was_accepted(self):
        self.setup_sluice(batch={"max_records": 100})
        p = subprocess.Popen([sluice_bin(), "send", "crm", "-", "--format",
                              "ndjson", "--batch", "100", "-c",
                              self.sl.gateway_file], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             cwd=self.sl.dir)
        first = b"".join(json.dumps(row_values(i)[1]).encode() + b"\n"
                         for i in range(1, 1001))
        p.stdin.write(first)
        p.stdin.flush()
        # the 1000 rows were read and taken: delivered
        self.dest.wait_records(1000, timeout=60)
        p.send_signal(signal.SIGINT)
        # rows written after the signal are not read
        try:
            p.stdin.write(b"".join(json.dumps(row_values(i)[1]).encode() +
                                   b"\n" for i in range(1001, 1101)))
            p.stdin.close()
        except BrokenPipeError:
            pass
        p.stdin = None
        out, err = p.communicate(timeout=60)
        self.check_sanitizer(err)
        out, err = out.decode(), err.decode()
        self.assertEqual(p.returncode, 1, out + err)
        self.assertIn("interrupted: reading stops", err)
        self.assertIn("stopped by a signal", out)
        self.assertRegex(out, r"accepted\s+1000\b")
        self.assertRegex(out, r"delivered\s+1000\b")
        self.assert_delivered({i: row_values(i)[1] for i in range(1, 1001)})

    def test_ctrl_c_twice_leaves_the_rest_in_the_spool(self):
        # one request at a time, each answered after 0.3 s
        dest = self.start_destination(delay=0.3)
        self.setup_sluice(dest, batch={"max_records": 50}, concurrency=1)
        n = 1000
        p = subprocess.Popen([sluice_bin(), "send", "crm", "-", "--format",
                              "ndjson", "-c", self.sl.gateway_file],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, cwd=self.sl.dir)
        p.stdin.write(b"".join(json.dumps(row_values(i)[1]).encode() + b"\n"
                               for i in range(1, n + 1)))
        p.stdin.close()
        p.stdin = None
        dest.wait_requests(1, timeout=60)
        p.send_signal(signal.SIGINT)
        time.sleep(0.05)  # two signals, not one merged: not timing-critical
        p.send_signal(signal.SIGINT)
        out, err = p.communicate(timeout=60)
        self.check_sanitizer(err)
        out, err = out.decode(), err.decode()
        self.assertEqual(p.returncode, 1, out + err)
        self.assertIn("interrupted again: stopping now", err)
        self.assertRegex(out, r"accepted\s+%d\b" % n)
        m = __import__("re").search(r"undelivered\s+(\d+) \(kept in the spool",
                                    out)
        self.assertIsNotNone(m, out)
        self.assertGreater(int(m.group(1)), 0)
        # a later send (of nothing) delivers the rest; nothing is lost
        empty = self.path("empty.ndjson")
        open(empty, "w").close()
        rc, out2, err2 = self.send("crm", empty)
        self.assertEqual(rc, 0, out2 + err2)
        self.assertIn("from an earlier run", out2)
        got = {r["id"] for r in dest.records()}
        self.assertEqual(got, set(range(1, n + 1)))

    def test_a_second_send_on_the_same_connector_exit_2(self):
        self.setup_sluice()
        p = subprocess.Popen([sluice_bin(), "send", "crm", "-", "--format",
                              "ndjson", "-c", self.sl.gateway_file],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, cwd=self.sl.dir)
        p.stdin.write(json.dumps(row_values(1)[1]).encode() + b"\n")
        p.stdin.flush()
        self.dest.wait_records(1, timeout=60)  # it holds the connector now
        data = self.path("two.csv")
        write_csv(data, n=5, bad=False)
        rc, out, err = self.send("crm", data)
        self.assertEqual(rc, 2, out + err)
        self.assertIn("not a gateway", err)
        p.stdin.write(json.dumps(row_values(2)[1]).encode() + b"\n")
        p.stdin.close()
        p.stdin = None
        out, err = p.communicate(timeout=60)
        self.check_sanitizer(err)
        self.assertEqual(p.returncode, 0, out + err)
        self.assertEqual(set(self.delivered()), {1, 2})

    def test_dead_letters_exit_1(self):
        dest = self.start_destination(default=400)
        self.setup_sluice(dest)
        data = self.path("d.csv")
        valid, _ = write_csv(data, n=300, bad=False)
        rc, out, err = self.send("crm", data)
        self.assertEqual(rc, 1, out + err)
        self.assertRegex(out, r"accepted\s+300\b")
        self.assertRegex(out, r"delivered\s+0\b")
        self.assertRegex(out, r"dead-lettered\s+300 \(sluice dlq list crm "
                         r"shows them\)")
        self.assertGreater(len(dest.requests()), 0)
        self.assertEqual(dest.records(), [])
        p = subprocess.run([sluice_bin(), "dlq", "list", "crm", "-c",
                            self.sl.gateway_file], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, cwd=self.sl.dir)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertGreater(len(p.stdout.splitlines()), 0)


if __name__ == "__main__":
    unittest.main(verbosity=2)
