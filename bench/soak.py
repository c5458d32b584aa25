#!/usr/bin/env python3
"""Soak traffic for scripts/bench.sh --soak (python3 standard library only).

  soak.py run --out DIR --duration S --http URL --tcp HOST:PORT
              --tcp-ack HOST:PORT --max-line-bytes N --max-body-bytes N
              --idle-timeout S --body BODY.json
  soak.py check --out DIR --nginx-log LOG --raw RAW --samples CSV
              --summary OUT.json

`run` sends, for S seconds and at most a bounded number of operations per
worker, all on loopback, a mix of:

  http_valid   arrays of valid records (keep-alive)
  http_mixed   arrays of valid and schema-violating records (200, some rejected)
  http_bad     malformed JSON (400), a wrong Content-Type (415), bodies over
               max_body_bytes (413), NDJSON with broken lines, clients that
               hang up in the middle of the body (FIN or RST)
  tcp_valid    connections that write valid lines, half-close and wait
               for sluice to close
  tcp_ack      the `ack` listener: valid and invalid lines, every answer read
  tcp_mixed    valid lines among invalid, malformed, over-long
               (> max_line_bytes) and blank ones
  tcp_slow     valid records dribbled one byte at a time
  tcp_silent   connections that open and go silent (some after half a
               line): sluice must close them after idle_timeout_s
  tcp_hangup   valid lines then half a line, then close or RST
  tcp_garbage  binary junk, NUL bytes, bad UTF-8, deep nesting, and
               connections that open and close at once

Every record carries a unique id (from 1,000,000,000 on) and is filed as
A (acknowledged: must arrive exactly once), N (must never arrive: invalid,
refused, cut off, or turned away) or U (outcome unknown to the client, e.g.
lines before an RST: at most once). `check` reads the bodies nginx logged
(escape=json) and compares, record by record; it also reads sluice's RSS
samples (the last third of the soak against the middle third) and prints
the summary.
"""
import argparse
import collections
import csv
import http.client
import itertools
import json
import os
import random
import re
import socket
import struct
import sys
import threading
import time

ID_BASE = 1_000_000_000
_ids = itertools.count(ID_BASE)
_ranges = []          # (category, first id, count); list.append is atomic
_lock = threading.Lock()
stats = collections.defaultdict(collections.Counter)
problems = []


def take_ids(n):
    with _lock:
        first = next(_ids)
        for _ in range(n - 1):
            next(_ids)
    return first


def file_ids(cat, first, n):
    if n > 0:
        _ranges.append((cat, first, n))


def problem(worker, msg):
    if len(problems) < 200:
        problems.append("%s: %s" % (worker, msg))
    stats[worker]["problems"] += 1


# ---- records -------------------------------------------------------------

class Records:
    def __init__(self, body_path):
        with open(body_path, encoding="utf-8") as f:
            recs = json.load(f)
        self.tmpl = []
        for r in recs:
            r = dict(r)
            r["id"] = 0
            s = json.dumps(r, ensure_ascii=False, separators=(",", ":"))
            assert s.startswith('{"id":0,')
            self.tmpl.append(s[len('{"id":0,'):])   # the rest after the id
        self.rng = random.Random(7)

    def valid(self, rid):
        return '{"id":%d,%s' % (rid, self.tmpl[rid % len(self.tmpl)])

    def invalid(self, rid):
        """A schema violation (valid JSON), with the id still readable."""
        t = self.tmpl[rid % len(self.tmpl)]
        k = rid % 6
        if k == 0:
            t = re.sub(r'"active":(true|false)', '"active":"yes"', t)
        elif k == 1:
            t = re.sub(r'"email":"[^"]*",', '', t)
        elif k == 2:
            t = t[:-1] + ',"extra":1}'
        elif k == 3:
            t = re.sub(r'"created_at":"[^"]*"', '"created_at":"2026-02-30T00:00:00Z"', t)
        elif k == 4:
            t = re.sub(r'"amount":[^,]*,', '"amount":"12.5",', t)
        else:
            t = re.sub(r'"name":"[^"]*"', '"name":42', t)
        return '{"id":%d,%s' % (rid, t)

    def malformed(self, rid):
        v = self.valid(rid)
        k = rid % 5
        if k == 0:
            return v[:len(v) // 2]                 # cut in half
        if k == 1:
            return v.replace(",", ",,", 1)
        if k == 2:
            return v[:-1] + "\x00}"
        if k == 3:
            return "[" * 2000 + "]" * 2000
        return "{\"id\":%d,\"email\":\"\\ud800\"" % rid


def nd(lines):
    return ("\n".join(lines) + "\n").encode()


def hostport(s):
    h, p = s.rsplit(":", 1)
    return h, int(p)


# ---- HTTP ----------------------------------------------------------------

class Http:
    def __init__(self, url):
        m = re.match(r"http://([^:/]+):(\d+)(/.*)", url)
        self.host, self.port, self.path = m.group(1), int(m.group(2)), m.group(3)
        self.c = None

    def post(self, body, ctype="application/json"):
        for attempt in (0, 1):
            if self.c is None:
                self.c = http.client.HTTPConnection(self.host, self.port, timeout=60)
            try:
                self.c.request("POST", self.path, body=body, headers={"Content-Type": ctype})
                r = self.c.getresponse()
                data = r.read()
                if r.getheader("Connection", "").lower() == "close":
                    self.c.close()
                    self.c = None
                return r.status, data
            except (ConnectionError, http.client.HTTPException, OSError) as e:
                self.c.close()
                self.c = None
                if attempt == 1:
                    return None, str(e).encode()
        return None, b""


def w_http_valid(a, R, name, deadline, max_ops):
    h = Http(a.http)
    for _ in range(max_ops):
        if time.time() >= deadline:
            break
        n = 200
        first = take_ids(n)
        body = ("[" + ",".join(R.valid(i) for i in range(first, first + n)) + "]").encode()
        st, data = h.post(body)
        stats[name]["status_%s" % st] += 1
        if st == 200:
            try:
                acc = json.loads(data).get("accepted")
            except ValueError:
                acc = None
            if acc == n:
                file_ids("A", first, n)
            else:
                problem(name, "200 but accepted %r of %d" % (acc, n))
                file_ids("U", first, n)
        elif st == 503:
            file_ids("N", first, n)
        else:
            if st is not None:
                problem(name, "HTTP %s for valid records: %.200r" % (st, data))
            file_ids("U", first, n)


def w_http_mixed(a, R, name, deadline, max_ops):
    h = Http(a.http)
    rng = random.Random(11)
    for _ in range(max_ops):
        if time.time() >= deadline:
            break
        nv, ni = 80, 20
        fv, fi = take_ids(nv), take_ids(ni)
        recs = [R.valid(i) for i in range(fv, fv + nv)] + [R.invalid(i) for i in range(fi, fi + ni)]
        rng.shuffle(recs)
        st, data = h.post(("[" + ",".join(recs) + "]").encode())
        stats[name]["status_%s" % st] += 1
        file_ids("N", fi, ni)
        if st == 200:
            try:
                d = json.loads(data)
                acc, rej = d.get("accepted"), len(d.get("rejected", []))
            except ValueError:
                acc, rej = None, None
            if acc == nv and rej == ni:
                file_ids("A", fv, nv)
            else:
                problem(name, "200 with accepted %r rejected %r (expected %d, %d)" % (acc, rej, nv, ni))
                file_ids("U", fv, nv)
        elif st == 503:
            file_ids("N", fv, nv)
        else:
            if st is not None:
                problem(name, "HTTP %s: %.200r" % (st, data))
            file_ids("U", fv, nv)


def raw_http(a, head, body_part, rst):
    h = Http(a.http)
    s = socket.create_connection((h.host, h.port), timeout=10)
    try:
        s.sendall(head + body_part)
        if rst:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    finally:
        s.close()


def w_http_bad(a, R, name, deadline, max_ops):
    h = Http(a.http)
    for op in range(max_ops):
        if time.time() >= deadline:
            break
        k = op % 6
        if k == 0:      # malformed JSON array
            first = take_ids(20)
            body = "[" + ",".join(R.valid(i) for i in range(first, first + 20)) + ",{\"id\":"
            file_ids("N", first, 20)
            st, _ = h.post(body.encode())
            stats[name]["malformed_%s" % st] += 1
            if st != 400:
                problem(name, "malformed JSON body answered %s, expected 400" % st)
        elif k == 1:    # wrong Content-Type
            first = take_ids(20)
            body = "[" + ",".join(R.valid(i) for i in range(first, first + 20)) + "]"
            file_ids("N", first, 20)
            st, _ = h.post(body.encode(), "text/plain")
            stats[name]["ctype_%s" % st] += 1
            if st != 415:
                problem(name, "text/plain answered %s, expected 415" % st)
        elif k == 2:    # over max_body_bytes
            n = a.max_body_bytes // 150 + 100
            first = take_ids(n)
            body = "[" + ",".join(R.valid(i) for i in range(first, first + n)) + "]"
            file_ids("N", first, n)
            st, _ = h.post(body.encode())
            stats[name]["oversized_%s" % st] += 1
            if st not in (413, None):
                problem(name, "a %d-byte body answered %s, expected 413" % (len(body), st))
        elif k == 3:    # NDJSON with broken lines: the valid ones are taken
            nv, nm = 30, 10
            fv, fm = take_ids(nv), take_ids(nm)
            lines = [R.valid(i) for i in range(fv, fv + nv)] + [R.malformed(i) for i in range(fm, fm + nm)]
            random.Random(fv).shuffle(lines)
            file_ids("N", fm, nm)
            st, data = h.post(nd(lines), "application/x-ndjson")
            stats[name]["ndjson_%s" % st] += 1
            try:
                acc = json.loads(data).get("accepted") if st == 200 else None
            except ValueError:
                acc = None
            if st == 200 and acc == nv:
                file_ids("A", fv, nv)
            elif st == 503:
                file_ids("N", fv, nv)
            else:
                problem(name, "NDJSON with %d broken lines answered %s accepted %r" % (nm, st, acc))
                file_ids("U", fv, nv)
        else:           # hang up mid-body: FIN (k == 4) or RST (k == 5)
            n = 100
            first = take_ids(n)
            body = ("[" + ",".join(R.valid(i) for i in range(first, first + n)) + "]").encode()
            head = ("POST %s HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                    "Content-Length: %d\r\n\r\n" % (h.path, len(body))).encode()
            file_ids("N", first, n)
            try:
                raw_http(a, head, body[:len(body) // 2], k == 5)
                stats[name]["hangup_%s" % ("rst" if k == 5 else "fin")] += 1
            except OSError as e:
                problem(name, "hang-up client: %s" % e)
        time.sleep(0.01)


# ---- TCP -----------------------------------------------------------------

def tcp_connect(addr):
    s = socket.create_connection(hostport(addr), timeout=30)
    return s


def finish_tcp(s, name):
    """Half-close and wait for sluice's close: True when it closed cleanly."""
    try:
        s.shutdown(socket.SHUT_WR)
        s.settimeout(60)
        while True:
            d = s.recv(65536)
            if not d:
                return True
    except OSError as e:
        stats[name]["close_error"] += 1
        problem(name, "waiting for sluice's close: %s" % e)
        return False
    finally:
        s.close()


def w_tcp_valid(a, R, name, deadline, max_ops):
    for _ in range(max_ops):
        if time.time() >= deadline:
            break
        n = 2000
        first = take_ids(n)
        data = nd([R.valid(i) for i in range(first, first + n)])
        try:
            s = tcp_connect(a.tcp)
            s.sendall(data)
        except OSError as e:
            problem(name, "connect/write: %s" % e)
            file_ids("U", first, n)
            continue
        ok = finish_tcp(s, name)
        file_ids("A" if ok else "U", first, n)
        stats[name]["connections"] += 1
        stats[name]["records"] += n


def w_tcp_ack(a, R, name, deadline, max_ops):
    """The ack listener. Odd connections send everything and half-close at
    once (a client saying "that was all"), even ones read all the answers
    before they close. Valid lines are acknowledged when the answers name
    exactly the invalid lines (by their "line" number) and one answer came
    per line; the order of the answers is checked apart."""
    rng = random.Random(5)
    for op in range(max_ops):
        if time.time() >= deadline:
            break
        n = 500
        first = take_ids(n)
        kinds = ["v" if rng.random() < 0.9 else ("i" if rng.random() < 0.5 else "m") for _ in range(n)]
        lines = [R.valid(first + j) if k == "v" else R.invalid(first + j) if k == "i" else R.malformed(first + j)
                 for j, k in enumerate(kinds)]
        for j, k in enumerate(kinds):
            if k != "v":
                file_ids("N", first + j, 1)
        early = op % 2 == 1
        answers = []
        try:
            s = tcp_connect(a.tcp_ack)
            s.sendall(nd(lines))
            if early:
                s.shutdown(socket.SHUT_WR)
            f = s.makefile("rb")
            while len(answers) < n:
                x = f.readline()
                if not x:
                    break
                answers.append(x)
            if not early:
                s.shutdown(socket.SHUT_WR)
            rest = f.read()
            s.close()
        except OSError as e:
            problem(name, "ack connection: %s" % e)
            for j, k in enumerate(kinds):
                if k == "v":
                    file_ids("U", first + j, 1)
            continue
        style = "halfclose_first" if early else "read_first"
        stats[name]["connections_" + style] += 1
        if rest:
            problem(name, "%d bytes after the %d answers" % (len(rest), n))
        err_lines = set()
        for x in answers:
            m = re.match(rb'error \{"line":([0-9]+)', x)
            if m:
                err_lines.add(int(m.group(1)))
        bad = {j + 1 for j, k in enumerate(kinds) if k != "v"}
        stats[name]["answers_" + style] += len(answers)
        stats[name]["lines_" + style] += n
        if len(answers) < n:
            stats[name]["answers_missing_" + style] += n - len(answers)
            stats[name]["connections_short_" + style] += 1
        in_order = all((k == "v") == (x == b"ok\n") for k, x in zip(kinds, answers))
        if not in_order:
            stats[name]["connections_out_of_order_" + style] += 1
        if len(answers) == n and err_lines == bad:
            cat = "A"
        else:
            cat = "U"
            if len(answers) == n:
                problem(name, "answers name lines %s as errors, the invalid ones are %s"
                        % (sorted(err_lines ^ bad)[:5], sorted(bad)[:5]))
        for j, k in enumerate(kinds):
            if k == "v":
                file_ids(cat, first + j, 1)


def w_tcp_mixed(a, R, name, deadline, max_ops):
    rng = random.Random(3)
    for _ in range(max_ops):
        if time.time() >= deadline:
            break
        n = 400
        first = take_ids(n)
        lines, valid = [], []
        for j in range(n):
            rid = first + j
            x = rng.random()
            if x < 0.7:
                lines.append(R.valid(rid))
                valid.append(rid)
            elif x < 0.8:
                lines.append(R.invalid(rid))
                file_ids("N", rid, 1)
            elif x < 0.9:
                lines.append(R.malformed(rid))
                file_ids("N", rid, 1)
            elif x < 0.95:   # over-long: a valid record, padded past max_line_bytes
                v = R.valid(rid)
                pad = "x" * (a.max_line_bytes + rng.randrange(1, 3 * a.max_line_bytes))
                lines.append(v.replace('"name":"', '"name":"' + pad, 1))
                file_ids("N", rid, 1)
            else:
                lines.append("" if x < 0.975 else "   ")
                file_ids("N", rid, 1)
        try:
            s = tcp_connect(a.tcp)
            s.sendall(nd(lines))
        except OSError as e:
            problem(name, "connect/write: %s" % e)
            for rid in valid:
                file_ids("U", rid, 1)
            continue
        ok = finish_tcp(s, name)
        for rid in valid:
            file_ids("A" if ok else "U", rid, 1)
        stats[name]["connections"] += 1


def w_tcp_slow(a, R, name, deadline, max_ops):
    for _ in range(max_ops):
        if time.time() + 5 >= deadline:
            break
        n = 3
        first = take_ids(n)
        data = nd([R.valid(i) for i in range(first, first + n)])
        try:
            s = tcp_connect(a.tcp)
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            for i in range(len(data)):
                s.send(data[i:i + 1])
                time.sleep(0.004)
        except OSError as e:
            problem(name, "dribbling: %s" % e)
            file_ids("U", first, n)
            continue
        ok = finish_tcp(s, name)
        file_ids("A" if ok else "U", first, n)
        stats[name]["connections"] += 1


def w_tcp_silent(a, R, name, deadline, max_ops):
    closes = []
    for op in range(max_ops):
        if time.time() + a.idle_timeout + 3 >= deadline:
            break
        socks = []
        for j in range(20):
            try:
                s = tcp_connect(a.tcp if j % 2 == 0 else a.tcp_ack)
                if j % 3 == 0:       # half a valid line, then silence
                    rid = take_ids(1)
                    v = R.valid(rid)
                    s.sendall(v[:len(v) // 2].encode())
                    file_ids("N", rid, 1)
                socks.append((s, time.time()))
            except OSError as e:
                problem(name, "connect: %s" % e)
        for s, t0 in socks:
            s.settimeout(max(0.1, t0 + a.idle_timeout + 5 - time.time()))
            try:
                d = s.recv(4096)
                if d and not d.startswith(b"error"):
                    problem(name, "silent connection got %.80r" % d)
                while d:
                    d = s.recv(4096)
                closes.append(time.time() - t0)
                stats[name]["closed_by_sluice"] += 1
            except socket.timeout:
                problem(name, "a silent connection was still open %.1f s later" % (time.time() - t0))
                stats[name]["not_closed"] += 1
            except OSError:
                closes.append(time.time() - t0)
                stats[name]["closed_by_sluice"] += 1
            finally:
                s.close()
    if closes:
        stats[name]["close_after_ms_min"] = int(min(closes) * 1000)
        stats[name]["close_after_ms_max"] = int(max(closes) * 1000)


def w_tcp_hangup(a, R, name, deadline, max_ops):
    for op in range(max_ops):
        if time.time() >= deadline:
            break
        n = 50
        first = take_ids(n + 1)
        v = R.valid(first + n)
        data = nd([R.valid(i) for i in range(first, first + n)]) + v[:len(v) // 2].encode()
        file_ids("U", first, n)            # before a hang-up: may or may not be taken
        file_ids("N", first + n, 1)        # half a record is never a record
        try:
            s = tcp_connect(a.tcp)
            s.sendall(data)
            if op % 2:
                s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            s.close()
            stats[name]["rst" if op % 2 else "fin"] += 1
        except OSError as e:
            problem(name, "hang-up client: %s" % e)
        time.sleep(0.02)


def w_tcp_garbage(a, R, name, deadline, max_ops):
    rng = random.Random(9)
    for op in range(max_ops):
        if time.time() >= deadline:
            break
        try:
            if op % 3 == 0:      # open and close at once
                for _ in range(10):
                    tcp_connect(a.tcp).close()
                stats[name]["churn"] += 10
                continue
            junk = bytearray(rng.randrange(256) for _ in range(rng.randrange(1, 3000)))
            lines = [bytes(junk), b"\x00" * 100, b"\xff\xfe{\"id\":1}", b"{" * 5000,
                     b"[" * 100000, b"{\"id\":" + b"9" * 400 + b"}", b"\"just a string\"", b"null", b"[]"]
            s = tcp_connect(a.tcp)
            s.sendall(b"\n".join(lines) + b"\n")
            finish_tcp(s, name)
            stats[name]["connections"] += 1
        except OSError as e:
            problem(name, "garbage: %s" % e)
        time.sleep(0.02)


WORKERS = [  # (name, function, threads, max operations each)
    ("http_valid", w_http_valid, 2, 200000),
    ("http_mixed", w_http_mixed, 1, 200000),
    ("http_bad", w_http_bad, 1, 20000),
    ("tcp_valid", w_tcp_valid, 2, 100000),
    ("tcp_ack", w_tcp_ack, 1, 100000),
    ("tcp_mixed", w_tcp_mixed, 1, 100000),
    ("tcp_slow", w_tcp_slow, 2, 1000),
    ("tcp_silent", w_tcp_silent, 1, 100),
    ("tcp_hangup", w_tcp_hangup, 1, 20000),
    ("tcp_garbage", w_tcp_garbage, 1, 20000),
]


def cmd_run(a):
    R = Records(a.body)
    deadline = time.time() + a.duration
    threads = []
    for name, fn, n, max_ops in WORKERS:
        for i in range(n):
            def go(fn=fn, name=name, max_ops=max_ops):
                try:
                    fn(a, R, name, deadline, max_ops)
                except Exception as e:  # a bug here must not hide sluice's figures
                    problem(name, "worker died: %r" % e)
            t = threading.Thread(target=go, name="%s-%d" % (name, i), daemon=True)
            t.start()
            threads.append(t)
    for t in threads:
        t.join(timeout=max(1, deadline - time.time() + 90))
    alive = [t.name for t in threads if t.is_alive()]
    if alive:
        problem("soak", "workers still running 90 s after the end: %s" % alive)
    with open(os.path.join(a.out, "ranges.txt"), "w") as f:
        for cat, first, n in sorted(_ranges, key=lambda x: x[1]):
            f.write("%s %d %d\n" % (cat, first, n))
    run = {"duration_s": a.duration, "ids": next(_ids) - ID_BASE,
           "workers": {k: dict(v) for k, v in stats.items()}, "problems": problems}
    with open(os.path.join(a.out, "run.json"), "w") as f:
        json.dump(run, f, indent=1)
    for k, v in sorted(stats.items()):
        print("soak: %-12s %s" % (k, " ".join("%s=%s" % x for x in sorted(v.items()))))
    for p in problems[:20]:
        print("soak: PROBLEM %s" % p)
    print("soak: %d ids used; %d problems" % (run["ids"], len(problems)))


# ---- check ---------------------------------------------------------------

def cmd_check(a):
    with open(os.path.join(a.out, "run.json")) as f:
        run = json.load(f)
    n = run["ids"]
    cat = bytearray(n)            # 0 unfiled, ord('A'), ord('N'), ord('U')
    for line in open(os.path.join(a.out, "ranges.txt")):
        c, first, cnt = line.split()
        first, cnt = int(first) - ID_BASE, int(cnt)
        cat[first:first + cnt] = c.encode() * cnt
    seen = bytearray(n)
    foreign = probe = batches = dup_batches = non200 = 0
    keys = set()
    idre = re.compile(rb'\\"id\\":(-?[0-9]+)')
    with open(a.nginx_log, "rb") as f:
        for line in f:
            parts = line.rstrip(b"\n").split(b" ", 5)
            if len(parts) < 6 or parts[2] not in (b"/ingest", b"/ingest_read"):
                continue
            if not parts[3].startswith(b"bench-"):
                continue          # bench.sh's own keep-alive check
            if parts[0] != b"200":
                non200 += 1
                continue
            if parts[3] in keys:
                dup_batches += 1
                continue
            keys.add(parts[3])
            batches += 1
            for m in idre.finditer(parts[5]):
                i = int(m.group(1)) - ID_BASE
                if 0 <= i < n:
                    if seen[i] < 255:
                        seen[i] += 1
                elif i < 0:
                    probe += 1
                else:
                    foreign += 1
    A, N, U = ord("A"), ord("N"), ord("U")
    cnt = collections.Counter()
    examples = collections.defaultdict(list)
    for i in range(n):
        c, s = cat[i], seen[i]
        if c == A:
            cnt["A"] += 1
            if s == 1:
                cnt["A_ok"] += 1
            elif s == 0:
                cnt["A_missing"] += 1
                if len(examples["A_missing"]) < 5:
                    examples["A_missing"].append(i + ID_BASE)
            else:
                cnt["A_dup"] += 1
                if len(examples["A_dup"]) < 5:
                    examples["A_dup"].append(i + ID_BASE)
        elif c == N:
            cnt["N"] += 1
            if s:
                cnt["N_arrived"] += 1
                if len(examples["N_arrived"]) < 5:
                    examples["N_arrived"].append(i + ID_BASE)
        elif c == U:
            cnt["U"] += 1
            if s == 1:
                cnt["U_arrived"] += 1
            elif s > 1:
                cnt["U_dup"] += 1
        else:
            cnt["unfiled"] += 1
            if s:
                cnt["unfiled_arrived"] += 1

    kv = {}
    for line in open(a.raw, encoding="utf-8"):
        if "=" in line:
            k, v = line.rstrip("\n").split("=", 1)
            kv[k] = v
    rows = []
    try:
        with open(a.samples, encoding="utf-8") as f:
            for r in csv.DictReader(f):
                if r.get("rss_kib"):
                    rows.append((float(r["t_s"]), r["phase"], int(r["rss_kib"])))
    except OSError:
        pass
    soak = [r for r in rows if r[1] == "soak"]
    rss = {}
    if soak:
        t_end = soak[-1][0]
        t0 = soak[0][0]
        third = (t_end - t0) / 3
        first10 = [r[2] for r in soak if r[0] < 10]
        last10 = [r[2] for r in soak if r[0] > t_end - 10]
        middle = [r[2] for r in soak if t0 + third <= r[0] < t0 + 2 * third]
        last = [r[2] for r in soak if r[0] >= t0 + 2 * third]
        rss = {"samples": len(soak), "first10_peak_mib": round(max(first10) / 1024, 1),
               "last10_peak_mib": round(max(last10) / 1024, 1),
               "middle_third_peak_mib": round(max(middle or [0]) / 1024, 1),
               "last_third_peak_mib": round(max(last or [0]) / 1024, 1),
               "soak_peak_mib": round(max(r[2] for r in soak) / 1024, 1),
               "soak_min_mib": round(min(r[2] for r in soak) / 1024, 1)}
        # Flat: no growth while the load goes on. Buffers and caches reach
        # their high-water marks when the destination falls behind for a
        # moment (bounded by the configuration: spool cache, batches in
        # flight) and malloc keeps those pages, so the first seconds are
        # not the reference; the last third must not outgrow the middle.
        rss["flat"] = (rss["last_third_peak_mib"] <=
                       rss["middle_third_peak_mib"] * 1.10 + 2)
    hwm = int(kv.get("sluice_hwm_kib", "0") or 0)
    tck = float(kv.get("clk_tck", "100"))
    cpu = (float(kv.get("sluice_ticks_after", 0)) - float(kv.get("sluice_ticks_before", 0))) / tck
    window = float(kv.get("t_drained", 0) or 0) - float(kv.get("t_wrk_start", 0) or 0)

    def sysd(k):
        return (float(kv.get("sys_%s_after" % k, 0)) - float(kv.get("sys_%s_before" % k, 0))) / tck
    res = {
        "machine": {"nproc": kv.get("nproc"), "cpu": kv.get("cpu_model"), "kernel": kv.get("kernel")},
        "durability": kv.get("durability"),
        "duration_s": run["duration_s"],
        "workers": run["workers"],
        "client_problems": run["problems"],
        "records": dict(cnt),
        "examples": dict(examples),
        "nginx": {"batches": batches, "duplicate_batches": dup_batches, "non200": non200,
                  "probe_records": probe, "foreign_ids": foreign},
        "sluice": {"accepted_total": int(kv.get("accepted_after", 0)),
                   "delivered_total": int(kv.get("delivered_after", 0)),
                   "rejected_total": int(kv.get("rejected_after", 0)),
                   "refused_total": int(kv.get("refused_after", 0)),
                   "dead_lettered_total": int(kv.get("dead_lettered_after", 0)),
                   "peak_rss_mib": round(hwm / 1024, 1),
                   "cpu_s": round(cpu, 2), "cores_busy": round(cpu / window, 2) if window > 0 else None},
        "rss": rss,
        "client_cpu_s": float(kv.get("wrk_cpu_s", 0) or 0),
        "others_cores": round(max(sysd("task") - cpu - float(kv.get("wrk_cpu_s", 0) or 0)
                                  - (float(kv.get("nginx_ticks_after", 0)) - float(kv.get("nginx_ticks_before", 0))) / tck,
                                  0) / window, 2) if window > 0 else None,
    }
    ok_records = (cnt["A_missing"] == 0 and cnt["A_dup"] == 0 and cnt["N_arrived"] == 0 and
                  cnt["U_dup"] == 0 and foreign == 0 and cnt["unfiled_arrived"] == 0)
    res["every_acknowledged_record_arrived_once"] = cnt["A_missing"] == 0 and cnt["A_dup"] == 0
    res["ok"] = ok_records and bool(rss.get("flat", False)) and kv.get("ok") == "1"
    with open(a.summary, "w") as f:
        json.dump(res, f, indent=2)
        f.write("\n")

    print("")
    print("== sluice soak (%s s, durability %s; HTTP + TCP + TCP with ack, loopback) =="
          % (run["duration_s"], res["durability"]))
    print("machine     %s cores, %s, kernel %s; other processes %s cores busy"
          % (kv.get("nproc"), kv.get("cpu_model"), kv.get("kernel"), res["others_cores"]))
    for k, v in sorted(run["workers"].items()):
        print("  %-12s %s" % (k, " ".join("%s=%s" % x for x in sorted(v.items()))))
    print("records     %d ids: %d acknowledged, %d must not arrive, %d unknown outcome"
          % (n, cnt["A"], cnt["N"], cnt["U"]))
    print("arrived     acknowledged: %d exactly once, %d missing, %d more than once %s"
          % (cnt["A_ok"], cnt["A_missing"], cnt["A_dup"],
             examples.get("A_missing", []) + examples.get("A_dup", [])))
    print("            must-not: %d arrived %s; unknown: %d arrived (%d twice); ids nginx got that were never sent: %d"
          % (cnt["N_arrived"], examples.get("N_arrived", []), cnt["U_arrived"], cnt["U_dup"], foreign))
    print("nginx       %d batches (%d duplicate keys, %d non-200)" % (batches, dup_batches, non200))
    s = res["sluice"]
    print("sluice      accepted %d = delivered %d + dead-lettered %d; rejected %d; refused %d; %.2f CPU s = %s cores"
          % (s["accepted_total"], s["delivered_total"], s["dead_lettered_total"], s["rejected_total"],
             s["refused_total"], s["cpu_s"], s["cores_busy"]))
    if rss:
        print("rss         %d samples: first 10 s peak %.1f MiB, middle third %.1f, last third %.1f "
              "(min %.1f, max %.1f); VmHWM %.1f MiB: %s"
              % (rss["samples"], rss["first10_peak_mib"], rss["middle_third_peak_mib"],
                 rss["last_third_peak_mib"], rss["soak_min_mib"], rss["soak_peak_mib"],
                 s["peak_rss_mib"], "flat" if rss["flat"] else "GROWING"))
    ta = run["workers"].get("tcp_ack", {})
    if ta:
        res["ack_answers"] = {st: {"lines": ta.get("lines_" + st, 0), "answers": ta.get("answers_" + st, 0),
                                   "connections": ta.get("connections_" + st, 0),
                                   "connections_short": ta.get("connections_short_" + st, 0),
                                   "connections_out_of_order": ta.get("connections_out_of_order_" + st, 0)}
                              for st in ("read_first", "halfclose_first")}
        for st, v in res["ack_answers"].items():
            print("ack         %-15s %d lines, %d answered; %d of %d connections short of answers, %d answered out of order"
                  % (st, v["lines"], v["answers"], v["connections_short"], v["connections"],
                     v["connections_out_of_order"]))
    print("client      %d problems%s" % (len(run["problems"]), "" if not run["problems"] else ":"))
    for p in run["problems"][:15]:
        print("            %s" % p)
    print("=> %s" % ("ok: every acknowledged record arrived exactly once, nothing else did, memory flat"
                     if res["ok"] else "FAILED"))
    sys.exit(0 if res["ok"] else 1)


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("run")
    r.add_argument("--out", required=True)
    r.add_argument("--duration", type=float, default=60)
    r.add_argument("--http", required=True)
    r.add_argument("--tcp", required=True)
    r.add_argument("--tcp-ack", required=True)
    r.add_argument("--max-line-bytes", type=int, default=4096)
    r.add_argument("--max-body-bytes", type=int, default=1048576)
    r.add_argument("--idle-timeout", type=float, default=3)
    r.add_argument("--body", required=True)
    c = sub.add_parser("check")
    c.add_argument("--out", required=True)
    c.add_argument("--nginx-log", required=True)
    c.add_argument("--raw", required=True)
    c.add_argument("--samples", required=True)
    c.add_argument("--summary", required=True)
    a = ap.parse_args()
    if a.cmd == "run":
        cmd_run(a)
    else:
        cmd_check(a)


if __name__ == "__main__":
    main()
