#!/usr/bin/env python3
"""Small helpers for scripts/bench.sh (python3 standard library only).

  benchlib.py ports N            print N distinct free TCP ports on 127.0.0.1
  benchlib.py connector URL DURABILITY [SPOOL_MAX_BYTES] [gzip:LEVEL] [ca:PATH] [templates] [response_fn] [transform] [signature]
                                 print the bench connector (the records of
                                 gen_records.py, batches of 1,000, 4 in
                                 flight) delivering to URL; gzip:LEVEL
                                 gives it compression = "gzip" at LEVEL,
                                 ca:PATH tls = { ca_file = PATH },
                                 templates a batch and a record template,
                                 response_fn a sluice.responses.per_item
                                 reading an Elasticsearch bulk answer
  benchlib.py bulkconf DIR       write DIR/bulk_http.conf and
                                 DIR/bulk_server.conf: nginx's
                                 POST /bulk answering each batch with an
                                 Elasticsearch-bulk-style body of one item
                                 (status 201) per record
  benchlib.py stats              read GET /v1/connectors/{name} JSON on stdin,
                                 print "accepted delivered queued rejected
                                 requests failures retries refused
                                 dead_lettered spool_bytes pending in_flight"
                                 (all but the first four are 0 when absent)
  benchlib.py nginxlog LOG       LOG: nginx access log in the bench format
                                 ("$status $request_method $uri
                                 $http_idempotency_key"); print "records
                                 batches duplicates non2xx unkeyed": records =
                                 the sum of the trailing -<n> of each distinct
                                 key answered 200, duplicates = 200 lines
                                 whose key was already counted
  benchlib.py run OUT TIMEOUT CMD...
                                 run CMD (killed after TIMEOUT s or when this
                                 process gets SIGTERM/SIGINT), then append
                                 "cpu_s=<user+sys of CMD>" (then user_s,
                                 sys_s, wall_s) to OUT; exits with CMD's
                                 status
  benchlib.py runrss OUT TIMEOUT CMD...
                                 the same, CMD run under /usr/bin/time,
                                 and max_rss_kib=<CMD's peak RSS> too
  benchlib.py summary RAW OUT    RAW: key=value lines written by bench.sh
                                 (plus the WRK_JSON line); print the summary
                                 and write it as JSON to OUT
  benchlib.py sendsummary RAW OUT
                                 bench.sh --send: print rows/s, CPU and
                                 peak RSS of each run, write them as JSON
                                 to OUT
  benchlib.py compare OUT DIR... DIR: results dirs of runs (summary.json);
                                 print one comparison table, write it to
                                 OUT.txt and OUT.json
"""
import csv
import json
import os
import re
import resource
import signal
import socket
import subprocess
import sys
import time


def ports(n):
    socks = []
    try:
        for _ in range(n):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.bind(("127.0.0.1", 0))
            socks.append(s)
        print(" ".join(str(s.getsockname()[1]) for s in socks))
    finally:
        for s in socks:
            s.close()


def run(out, timeout, cmd, rss=False):
    t0 = time.monotonic()
    rss_file = out + ".rss"
    if rss:
        # A child's ru_maxrss counts the memory of the process that forked
        # it until the exec (python's ~17 MiB); GNU time's child starts
        # from a small process, so its %M is the command's own peak.
        cmd = ["/usr/bin/time", "-f", "%M", "-o", rss_file] + cmd
    p = subprocess.Popen(cmd)

    def forward(sig, _frame):
        p.send_signal(sig)
    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGINT, forward)
    try:
        rc = p.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        sys.stderr.write("benchlib: %s still running after %.0f s, killing it\n" % (cmd[0], timeout))
        p.kill()
        p.wait()
        rc = 124
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    with open(out, "a", encoding="utf-8") as f:
        f.write("cpu_s=%.3f\n" % (ru.ru_utime + ru.ru_stime))
        f.write("user_s=%.3f\nsys_s=%.3f\n" % (ru.ru_utime, ru.ru_stime))
        f.write("wall_s=%.3f\n" % (time.monotonic() - t0))
        if rss:
            with open(rss_file, encoding="utf-8") as r:
                f.write("max_rss_kib=%s\n" % r.read().strip().splitlines()[-1])
    sys.exit(rc if rc >= 0 else 128 - rc)


def find_stats(doc):
    """The connector document holds a "stats" object; accept it at the top
    level or one level down (e.g. {"connector": {..., "stats": {...}}})."""
    if isinstance(doc, dict):
        if isinstance(doc.get("stats"), dict):
            return doc["stats"]
        for v in doc.values():
            if isinstance(v, dict) and isinstance(v.get("stats"), dict):
                return v["stats"]
    raise SystemExit("benchlib: no \"stats\" object in the connector document")


def stats():
    raw = sys.stdin.read()
    try:
        doc = json.loads(raw)
    except ValueError as e:
        raise SystemExit("benchlib: connector document is not JSON (%s): %.200r" % (e, raw))
    st = find_stats(doc)
    out = []
    for k in ("accepted", "delivered", "queued", "rejected"):
        v = st.get(k)
        if not isinstance(v, int) or isinstance(v, bool):
            raise SystemExit("benchlib: stats.%s missing or not an integer: %r" % (k, st))
        out.append(str(v))
    # Optional counters: 0 when the build does not report them.
    for k in ("requests", "failures", "retries", "refused",
              "dead_lettered", "spool_bytes", "pending", "in_flight"):
        v = st.get(k, 0)
        out.append(str(v if isinstance(v, int) and not isinstance(v, bool) else 0))
    print(" ".join(out))


def nginxlog(path):
    """Records that reached nginx, counted from the idempotency keys the
    connector sends (<connector>-<spool id>-<position>-<n records>): a key
    names the same records on every retry, so distinct keys answered 200
    count each delivered record once, and a repeated key is a duplicate
    delivery (a batch nginx got but whose answer sluice never saw)."""
    seen = set()
    records = batches = dups = non2xx = unkeyed = 0
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            parts = line.split()
            if len(parts) < 4 or parts[2] not in ("/ingest", "/ingest_read", "/bulk"):
                continue
            status, key = parts[0], parts[3]
            m = re.search(r"-([0-9]+)$", key)
            if key == "-" or not m or key.startswith("check-"):
                unkeyed += 1   # bench.sh's own checks (keep-alive, /bulk)
                continue
            if status != "200":
                non2xx += 1
                continue
            if key in seen:
                dups += 1
                continue
            seen.add(key)
            batches += 1
            records += int(m.group(1))
    print(records, batches, dups, non2xx, unkeyed)


def wrk_latency_dist(path):
    """wrk --latency's "Latency Distribution" block: {"50": ms, ...}."""
    unit = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0, "h": 3600000.0}
    out, on = {}, False
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            for line in f:
                if "Latency Distribution" in line:
                    on = True
                    continue
                if on:
                    m = re.match(r"\s+([0-9.]+)%\s+([0-9.]+)(us|ms|s|m|h)\s*$", line)
                    if not m:
                        break
                    out[m.group(1)] = round(float(m.group(2)) * unit[m.group(3)], 3)
    except OSError:
        pass
    return out


def samples(path):
    """The 1 s samples bench.sh writes (CSV with a header)."""
    rows = []
    try:
        with open(path, encoding="utf-8") as f:
            for r in csv.DictReader(f):
                row = {"phase": r.get("phase", "")}
                for k, v in r.items():
                    if k != "phase":
                        try:
                            row[k] = float(v)
                        except (TypeError, ValueError):
                            row[k] = None
                rows.append(row)
    except OSError:
        pass
    return rows


def peak(rows, key, phases=None):
    vals = [r[key] for r in rows if r.get(key) is not None and
            (phases is None or r["phase"] in phases)]
    return max(vals) if vals else None


def load_raw(path):
    kv, wrk, tcp = {}, None, None
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\n")
            if line.startswith("WRK_JSON "):
                wrk = json.loads(line[len("WRK_JSON "):])
            elif line.startswith("TCP_JSON "):
                tcp = json.loads(line[len("TCP_JSON "):])
            elif "=" in line:
                k, v = line.split("=", 1)
                kv[k] = v
    if wrk is None and tcp is not None:
        # bench.sh --tcp: the senders' figures in wrk's shape (one record
        # per "request", no latency: nothing is answered without ack).
        kv["_tcp"] = tcp
        wrk = {"requests": tcp["records"], "duration_us": tcp["duration_us"], "bytes": 0,
               "errors": {"connect": tcp["errors"]["connect"], "read": tcp["errors"]["eof"],
                          "write": tcp["errors"]["write"], "status": 0, "timeout": 0},
               "latency_us": {"mean": 0, "stdev": 0, "max": 0, "50": 0, "75": 0, "90": 0,
                              "99": 0, "99.9": 0}}
        a = tcp.get("ack")
        if a:
            # --ack: the latency of each line's answer stands for wrk's
            # (p75 is not kept: p90 stands in for it)
            al = a["latency_us"]
            wrk["latency_us"] = {"mean": al["mean"], "stdev": 0, "max": al["max"], "50": al["50"],
                                 "75": al["90"], "90": al["90"], "99": al["99"], "99.9": al["99.9"]}
        kv.setdefault("records_per_request", "1")
        kv["body_bytes"] = str(tcp["bytes"] / tcp["records"]) if tcp["records"] else "0"
    if wrk is None:
        raise SystemExit("benchlib: no WRK_JSON line (did wrk run bench/post.lua?)")
    return kv, wrk


def num(kv, k, default=None):
    v = kv.get(k, "")
    if v == "":
        if default is None:
            raise SystemExit("benchlib: missing %s" % k)
        return default
    return float(v)


def summary(raw_path, out_path):
    kv, wrk = load_raw(raw_path)
    mode = kv.get("mode", "sluice")
    tck = num(kv, "clk_tck")
    wrk_s = wrk["duration_us"] / 1e6
    lat = wrk["latency_us"]
    recs_per_req = int(num(kv, "records_per_request"))
    errs = wrk["errors"]
    res = {
        "mode": mode,
        "durability": kv.get("durability") if mode == "sluice" else None,
        "compression": kv.get("compression", "none") if mode == "sluice" else None,
        "tls": kv.get("tls", "none") if mode == "sluice" else None,
        "response_fn": kv.get("response_fn") == "1" if mode == "sluice" else None,
        "command": kv.get("wrk_cmd", ""),
        "machine": {
            "nproc": int(num(kv, "nproc")),
            "cpu": kv.get("cpu_model", "?"),
            "kernel": kv.get("kernel", "?"),
            "mem_gib": round(num(kv, "mem_kib", 0) / 1048576, 1),
            "state_fs": kv.get("state_fs", ""),
        },
        "wrk": {
            "threads": int(num(kv, "threads")),
            "connections": int(num(kv, "connections")),
            "duration_s": round(wrk_s, 3),
            "requests": wrk["requests"],
            "requests_per_s": round(wrk["requests"] / wrk_s, 1),
            "body_bytes": int(num(kv, "body_bytes")),
            "records_per_request": recs_per_req,
            "errors": errs,
            "latency_ms": {k: round(v / 1000.0, 3) for k, v in lat.items()},
        },
    }
    # The same percentiles as printed by wrk --latency (HdrHistogram, so
    # they agree with the WRK_JSON ones); p50 and p99 are the quoted ones.
    dist = wrk_latency_dist(kv.get("wrk_txt", ""))
    res["wrk"]["latency_distribution_ms"] = dist
    res["wrk"]["latency_p50_ms"] = dist.get("50", res["wrk"]["latency_ms"].get("50"))
    res["wrk"]["latency_p99_ms"] = dist.get("99", res["wrk"]["latency_ms"].get("99"))
    res["wrk"]["responses_2xx"] = wrk["requests"] - errs["status"]
    res["wrk"]["records_per_s_sent"] = round(wrk["requests"] * recs_per_req / wrk_s, 1)
    res["wrk"]["intake_mib_per_s"] = round(wrk["requests"] * num(kv, "body_bytes") / wrk_s / 1048576, 1)

    def cpu(prefix, wall):
        d = (num(kv, prefix + "_ticks_after") - num(kv, prefix + "_ticks_before")) / tck
        return {"cpu_s": round(d, 2), "cores_busy": round(d / wall, 2) if wall > 0 else None}

    window = num(kv, "t_drained", 0) - num(kv, "t_wrk_start") if mode == "sluice" else wrk_s
    res["nginx"] = cpu("nginx", window)
    if "wrk_cpu_s" in kv:
        res["wrk"]["cpu_s"] = round(num(kv, "wrk_cpu_s"), 2)
        res["wrk"]["cores_busy"] = round(num(kv, "wrk_cpu_s") / wrk_s, 2)

    # The whole machine over the same window: CPU of every task, irq and
    # softirq (most of it the loopback traffic of this run), steal; "others"
    # is the task CPU that is not wrk, sluice or nginx: noise from elsewhere.
    def sysd(k):
        return (num(kv, "sys_%s_after" % k, 0) - num(kv, "sys_%s_before" % k, 0)) / tck
    ours = res["nginx"]["cpu_s"] + res["wrk"].get("cpu_s", 0)
    if mode == "sluice":
        ours += (num(kv, "sluice_ticks_after") - num(kv, "sluice_ticks_before")) / tck
    if window > 0 and "sys_task_before" in kv:
        res["machine_window"] = {
            "others_cores": round(max(sysd("task") - ours, 0) / window, 2),
            "irq_softirq_cores": round(sysd("irq") / window, 2),
            "steal_cores": round(sysd("steal") / window, 2),
        }

    if mode == "sluice":
        acc = int(num(kv, "accepted_after") - num(kv, "accepted_before"))
        dlv = int(num(kv, "delivered_after") - num(kv, "delivered_before"))
        rej = int(num(kv, "rejected_after"))
        res["sluice"] = {
            "accepted": acc,
            "delivered": dlv,
            "rejected_total": rej,
            "queued_after": int(num(kv, "queued_after")),
            "accepted_per_s": round(acc / wrk_s, 1),
            "drain_s": round(num(kv, "t_drained") - num(kv, "t_wrk_end"), 3),
            "delivered_window_s": round(window, 3),
            "delivered_per_s": round(dlv / window, 1) if window > 0 else None,
            "peak_rss_mib": round(num(kv, "sluice_hwm_kib") / 1024, 1),
            "rss_end_mib": round(num(kv, "sluice_rss_kib") / 1024, 1),
            "spool_bytes_end": int(num(kv, "spool_bytes", 0)),
            "batches_received": int(num(kv, "nginx_batches", 0)),
            "attempts": int(num(kv, "requests_after", 0) - num(kv, "requests_before", 0)),
            "failures": int(num(kv, "failures_after", 0) - num(kv, "failures_before", 0)),
            "retries": int(num(kv, "retries_after", 0) - num(kv, "retries_before", 0)),
            "refused": int(num(kv, "refused_after", 0) - num(kv, "refused_before", 0)),
        }
        res["sluice"]["dead_lettered"] = int(num(kv, "dead_lettered_after", 0) - num(kv, "dead_lettered_before", 0))
        res["sluice"]["spool_bytes_stat_end"] = int(num(kv, "spool_bytes_stat_after", 0))
        # Nothing lost: from sluice's own counters (since it started, the
        # probe included) and, independently, from what reached nginx.
        acc_t = int(num(kv, "accepted_after"))
        dlv_t = int(num(kv, "delivered_after"))
        dl_t = int(num(kv, "dead_lettered_after", 0))
        chk = {
            "accepted_total": acc_t,
            "delivered_total": dlv_t,
            "dead_lettered_total": dl_t,
            "counters_ok": acc_t == dlv_t + dl_t,
        }
        if "nginx_records" in kv:
            ngx = int(num(kv, "nginx_records"))
            chk.update({
                "nginx_records": ngx,
                "nginx_batches": int(num(kv, "nginx_batches_keyed", 0)),
                "nginx_duplicate_batches": int(num(kv, "nginx_duplicates", 0)),
                "nginx_non2xx": int(num(kv, "nginx_non2xx", 0)),
                "nginx_ok": ngx == dlv_t,
            })
            # Records whose 200 wrk saw during the measured run: each one
            # must have reached nginx (nginx also got the probe's).
            acked = res["wrk"]["responses_2xx"] * recs_per_req
            chk["wrk_acknowledged_records"] = acked
            chk["acknowledged_reached_nginx"] = ngx - recs_per_req >= acked
        chk["nothing_lost"] = chk["counters_ok"] and chk.get("nginx_ok", True) and \
            chk.get("acknowledged_reached_nginx", True)
        res["loss_check"] = chk

        rows = samples(kv.get("samples_csv", ""))
        if rows:
            smp = {
                "csv": os.path.basename(kv.get("samples_csv", "")),
                "n": len(rows),
                "peak_rss_mib": round(peak(rows, "rss_kib") / 1024, 1) if peak(rows, "rss_kib") else None,
                "peak_spool_bytes": int(peak(rows, "spool_bytes") or 0),
            }
            phases = []
            for r in rows:
                if r["phase"] not in phases:
                    phases.append(r["phase"])
            smp["by_phase"] = {}
            for ph in phases:
                pr = peak(rows, "rss_kib", {ph})
                ps = peak(rows, "spool_bytes", {ph})
                smp["by_phase"][ph] = {
                    "samples": sum(1 for r in rows if r["phase"] == ph),
                    "peak_rss_mib": round(pr / 1024, 1) if pr else None,
                    "peak_spool_mib": round(ps / 1048576, 1) if ps is not None else None,
                }
            res["samples"] = smp

        if "outage_s" in kv:
            t0 = num(kv, "t_wrk_start")
            o = {
                "requested_s": int(num(kv, "outage_s")),
                "stopped_at_s": round(num(kv, "t_outage_start") - t0, 1),
                "down_s": round(num(kv, "t_outage_end") - num(kv, "t_outage_start"), 1),
                "wrk_non2xx": errs["status"],
                "refused_records": res["sluice"]["refused"],
                "spool_max_bytes": int(num(kv, "spool_max_bytes", 0)),
            }
            # From the samples: when the intake first refused, when the
            # spool stopped growing, when delivery resumed after the restart.
            ts = num(kv, "t_outage_start") - t0
            te = num(kv, "t_outage_end") - t0
            first_ref = next((r["t_s"] for r in rows if (r.get("refused") or 0) >
                              (rows[0].get("refused") or 0)), None)
            o["first_refusal_after_stop_s"] = round(first_ref - ts, 1) if first_ref is not None else None
            dl_at_restart = next((r["delivered"] for r in rows if r["t_s"] >= te and r.get("delivered") is not None), None)
            resumed = next((r["t_s"] for r in rows if r["t_s"] >= te and dl_at_restart is not None and
                            (r.get("delivered") or 0) > dl_at_restart), None)
            o["delivery_resumed_after_restart_s"] = round(resumed - te, 1) if resumed is not None else None
            # How long the intake kept refusing after the destination was
            # back, and when the backlog (queued) was all cut into batches.
            prev, last_ref = None, None
            for r in rows:
                if prev is not None and r.get("refused") is not None and prev.get("refused") is not None \
                        and r["refused"] > prev["refused"] and r["t_s"] >= te:
                    last_ref = r["t_s"]
                prev = r
            o["refusing_until_after_restart_s"] = round(last_ref - te, 1) if last_ref is not None else None
            # (under continued load a few batches are always queued)
            q0 = next((r["t_s"] for r in rows if r["t_s"] >= te and r.get("queued") is not None
                       and r["queued"] < 10000), None)
            o["backlog_cut_after_restart_s"] = round(q0 - te, 1) if q0 is not None else None
            last = next((r for r in reversed(rows) if r.get("spool_bytes") is not None), None)
            o["spool_bytes_last_sample"] = int(last["spool_bytes"]) if last else None
            res["outage"] = o

        if kv.get("fdatasyncs", "").isdigit():
            fds = int(kv["fdatasyncs"])
            fs = int(kv["fsyncs"]) if kv.get("fsyncs", "").isdigit() else 0
            win = num(kv, "sync_window_s")
            res["sluice"]["syncs"] = {
                "fdatasync": fds, "fsync": fs, "window_s": win,
                "fdatasync_per_s": round(fds / win, 1),
                "records_per_fdatasync": round(acc / fds, 1) if fds else None,
                "requests_per_fdatasync": round(acc / recs_per_req / fds, 2) if fds else None,
            }
        # CPU per thread (the event loop, the sync, delete, piece and check
        # threads), over the load when bench.sh sampled its end.
        load_s = num(kv, "t_wrk_end", 0) - num(kv, "t_wrk_start")
        if kv.get("sluice_threads_load_end") and load_s > 0:
            res["sluice"].update(thread_cpu(kv, tck, "sluice_threads_before", "sluice_threads_load_end",
                                            load_s, "load"))
        elif window > 0:
            res["sluice"].update(thread_cpu(kv, tck, "sluice_threads_before", "sluice_threads_after",
                                            window, "load and drain"))
        b = res["sluice"]["batches_received"]
        res["sluice"]["records_per_batch"] = round(dlv / b, 1) if b > 0 else None
        res["sluice"].update(cpu("sluice", window))

    tcp = kv.get("_tcp")
    if tcp is not None:
        res["tcp"] = {
            "senders": tcp["connections"],
            "records_written": tcp["records"],
            "bytes_written": tcp["bytes"],
            "write_s": round(tcp["duration_us"] / 1e6, 3),
            "records_per_s_written": round(tcp["records"] / (tcp["duration_us"] / 1e6), 1)
            if tcp["duration_us"] else None,
            "mib_per_s_written": round(tcp["bytes"] / (tcp["duration_us"] / 1e6) / 1048576, 1)
            if tcp["duration_us"] else None,
            "blocked_s_per_sender": round(tcp["blocked_s_sum"] / tcp["connections"], 2),
            "blocked_share": round(tcp["blocked_s_sum"] / tcp["connections"] / (tcp["duration_us"] / 1e6), 3)
            if tcp["duration_us"] else None,
            "stalls_100ms": tcp["stalls_100ms"],
            "max_stall_ms": tcp["max_stall_ms"],
            "close_wait_s": tcp["eof_wait_s"],
            "errors": tcp["errors"],
            "per_connection": tcp["per_connection"],
        }
        if tcp.get("ack"):
            res["tcp"]["ack"] = tcp["ack"]
        if "sluice" in res:
            acc = res["sluice"]["accepted"]
            res["loss_check"]["tcp_written_records"] = tcp["records"]
            res["loss_check"]["tcp_all_accepted"] = acc == tcp["records"]
            res["loss_check"]["acknowledged_reached_nginx"] = \
                res["loss_check"].get("nginx_ok", True) and acc == tcp["records"]
            res["loss_check"]["nothing_lost"] = res["loss_check"]["counters_ok"] and \
                res["loss_check"].get("nginx_ok", True) and acc == tcp["records"]
            res["sluice"]["accepted_per_s"] = round(acc / (tcp["duration_us"] / 1e6), 1)

    if mode == "sluice":
        res["workers"] = kv.get("workers") or None
    rate = kv.get("rate_offered", "")
    if rate:
        sent = res["tcp"]["records_per_s_written"] if tcp is not None else res["wrk"]["records_per_s_sent"]
        res["rate"] = {"offered_records_per_s": int(rate), "reached_records_per_s": sent}
        if "sluice" in res:
            res["rate"]["accepted_per_s"] = res["sluice"]["accepted_per_s"]
    if kv.get("pin_sluice") or kv.get("pin_load"):
        res["pinning"] = {"sluice": kv.get("sluice_cpus") or None, "nginx": kv.get("nginx_cpus") or None,
                          "load": kv.get("load_cpus") or None,
                          "asked": {"sluice": kv.get("pin_sluice") or None, "load": kv.get("pin_load") or None}}
    res["ok"] = kv.get("ok", "1") == "1"
    with open(out_path, "w", encoding="utf-8") as f:
        json.dump(res, f, indent=2, ensure_ascii=False)
        f.write("\n")
    print_summary(res)


def thread_cpu(kv, tck, before, after, wall, label):
    """CPU per thread between two samples of bench.sh's thread_ticks
    ("tid,name,ticks ..."), then per name and per kind (the name without a
    trailing number: sl-sync-3 is an sl-sync). A thread that started in
    between counts from 0; one that ended in between is not seen (counted
    in threads_ended)."""
    def threads(k):
        out = {}
        for item in kv.get(k, "").split():
            f = item.split(",")
            if len(f) == 3 and f[2].isdigit():
                out[f[0]] = (f[1], int(f[2]))
        return out
    t0, t1 = threads(before), threads(after)
    if not t1:
        return {}
    per = []
    for tid, (name, ticks) in sorted(t1.items(), key=lambda x: int(x[0])):
        d = (ticks - t0.get(tid, (name, 0))[1]) / tck
        per.append({"tid": int(tid), "name": name, "cpu_s": round(d, 2), "cores_busy": round(d / wall, 2)})

    def group(key):
        g = {}
        for t in per:
            e = g.setdefault(key(t["name"]), {"threads": 0, "cpu_s": 0.0})
            e["threads"] += 1
            e["cpu_s"] += t["cpu_s"]
        for e in g.values():
            e["cpu_s"] = round(e["cpu_s"], 2)
            e["cores_busy"] = round(e["cpu_s"] / wall, 2)
        return dict(sorted(g.items(), key=lambda x: -x[1]["cpu_s"]))
    return {"threads": per,
            "threads_window": {"what": label, "s": round(wall, 3)},
            "threads_by_name": group(lambda n: n),
            "threads_by_kind": group(lambda n: re.sub(r"-?[0-9]+$", "", n) or n),
            "threads_ended": len(set(t0) - set(t1))}


def print_threads(s):
    """CPU per thread kind, then per named thread where a kind has more."""
    if not s.get("threads_by_kind"):
        return
    w = s["threads_window"]
    kinds = ", ".join("%s %.2f%s" % (k, v["cores_busy"], " (%d threads)" % v["threads"] if v["threads"] > 1 else "")
                      for k, v in s["threads_by_kind"].items())
    print("threads     cores busy over the %s (%.1f s): %s%s"
          % (w["what"], w["s"], kinds, "; %d thread(s) ended meanwhile" % s["threads_ended"]
             if s["threads_ended"] else ""))
    names = [(k, v) for k, v in s["threads_by_name"].items() if k not in s["threads_by_kind"] and v["cpu_s"] > 0]
    if names:
        print("            by name: %s" % ", ".join("%s %.2f%s" % (k, v["cores_busy"], " (x%d)" % v["threads"]
                                                                 if v["threads"] > 1 else "") for k, v in names))
    busy = sorted((t for t in s["threads"] if t["cpu_s"] > 0), key=lambda t: -t["cpu_s"])
    if len(s["threads"]) > 1 and busy:
        print("            by thread: %s%s" % (", ".join("%s[%d] %.2f" % (t["name"], t["tid"], t["cores_busy"])
                                                         for t in busy[:12]),
                                               ", ..." if len(busy) > 12 else ""))


def print_run_setup(r):
    """Rate, workers and pinning, when the run set them."""
    if r.get("workers"):
        print("workers     %s (gateway key workers)" % r["workers"])
    rt = r.get("rate")
    if rt:
        print("rate        offered %s records/s, reached %s records/s sent%s"
              % ("{:,}".format(rt["offered_records_per_s"]), "{:,.0f}".format(rt["reached_records_per_s"] or 0),
                 ", %s accepted/s" % "{:,.0f}".format(rt["accepted_per_s"]) if "accepted_per_s" in rt else ""))
    p = r.get("pinning")
    if p:
        print("pinned      sluice on CPUs %s, nginx on %s, load on %s (Cpus_allowed_list)"
              % (p["sluice"] or "-", p["nginx"] or "?", p["load"] or "all"))


def print_sluice_work(s):
    """The lines both summaries give on sluice's side: batches, CPU, RSS,
    threads."""
    print("batches     %d received by nginx (%s records each on average); sluice: %d attempts, %d failed, %d retries"
          % (s["batches_received"], s["records_per_batch"], s["attempts"], s["failures"], s["retries"]))
    print("sluice      %.2f CPU s = %.2f cores busy; peak RSS %.1f MiB (RSS at end %.1f MiB)"
          % (s["cpu_s"], s["cores_busy"], s["peak_rss_mib"], s["rss_end_mib"]))
    print_threads(s)


def print_summary(r):
    w, m = r["wrk"], r["machine"]
    L = w["latency_ms"]
    if r.get("tcp"):
        return print_tcp_summary(r)
    print("")
    comp = r.get("compression") or "none"
    tls = r.get("tls") or "none"
    print("== sluice bench (%s) ==" % ("wrk -> sluice -> nginx, durability %s%s%s%s" % (
        r["durability"], "" if comp == "none" else ", compression " + comp,
        ", response_fn per_item (a bulk answer of one item per record)" if r.get("response_fn") else "",
        "" if tls == "none" else ", TLS " + {"intake": "on the intake", "dest": "to the destination",
                                            "both": "on the intake and to the destination"}[tls])
        if r["mode"] == "sluice" else "wrk -> nginx direct (baseline)"))
    print("machine     %d cores, %s, %.1f GiB, kernel %s" % (m["nproc"], m["cpu"], m["mem_gib"], m["kernel"]))
    if m["state_fs"]:
        print("state dir   on %s" % m["state_fs"])
    print("command     %s" % r["command"])
    print_run_setup(r)
    print("load        %d req x %d records (%d bytes/request), %d connections, %d thread(s), %.2f s"
          % (w["requests"], w["records_per_request"], w["body_bytes"], w["connections"], w["threads"], w["duration_s"]))
    print("wrk         %.0f requests/s = %.0f records/s sent, %.1f MiB/s of body"
          % (w["requests_per_s"], w["records_per_s_sent"], w["intake_mib_per_s"]))
    print("latency     p50 %.2f ms  p75 %.2f  p90 %.2f  p99 %.2f  p99.9 %.2f  max %.2f"
          % (L["50"], L["75"], L["90"], L["99"], L["99.9"], L["max"]))
    if w.get("latency_distribution_ms"):
        print("intake      latency median %.2f ms, p99 %.2f ms (wrk --latency \"Latency Distribution\")"
              % (w["latency_p50_ms"], w["latency_p99_ms"]))
    e = w["errors"]
    print("wrk errors  connect %d  read %d  write %d  status(non-2xx/3xx) %d  timeout %d"
          % (e["connect"], e["read"], e["write"], e["status"], e["timeout"]))
    if r["mode"] == "sluice":
        s = r["sluice"]
        print("accepted    %d records = %.0f records/s (over the wrk run)" % (s["accepted"], s["accepted_per_s"]))
        print("delivered   %d records = %.0f records/s (wrk start -> queue drained, %.2f s; drain took %.2f s)"
              % (s["delivered"], s["delivered_per_s"] or 0, s["delivered_window_s"], s["drain_s"]))
        print("rejected    %d (total since start)   queued at end %d   refused (queue full) %d"
              % (s["rejected_total"], s["queued_after"], s["refused"]))
        print_sluice_work(s)
        sy = s.get("syncs")
        if sy:
            print("syncs       %d fdatasync + %d fsync in %.0f s = %.0f fdatasync/s; %s records (%s requests) per fdatasync"
                  % (sy["fdatasync"], sy["fsync"], sy["window_s"], sy["fdatasync_per_s"],
                     sy["records_per_fdatasync"], sy["requests_per_fdatasync"]))
        print("spool       %d bytes on disk at end (stats.spool_bytes %d); dead-lettered %d"
              % (s["spool_bytes_end"], s["spool_bytes_stat_end"], s["dead_lettered"]))
        c = r.get("loss_check")
        if c:
            line = ("lost?       sluice: accepted %d = delivered %d + dead-lettered %d: %s"
                    % (c["accepted_total"], c["delivered_total"], c["dead_lettered_total"],
                       "yes" if c["counters_ok"] else "NO"))
            print(line)
            if "nginx_records" in c:
                print("            nginx: %d records in %d distinct batches (%d duplicate deliveries, %d non-2xx) "
                      "= delivered: %s; wrk got 200 for %d records, all reached nginx: %s"
                      % (c["nginx_records"], c["nginx_batches"], c["nginx_duplicate_batches"], c["nginx_non2xx"],
                         "yes" if c["nginx_ok"] else "NO", c["wrk_acknowledged_records"],
                         "yes" if c["acknowledged_reached_nginx"] else "NO"))
            print("            => %s" % ("nothing lost" if c["nothing_lost"] else "RECORDS LOST OR UNACCOUNTED"))
        o = r.get("outage")
        if o:
            print("outage      nginx stopped at %.1f s for %.1f s; wrk got %d non-2xx (503) answers, %d records refused"
                  % (o["stopped_at_s"], o["down_s"], o["wrk_non2xx"], o["refused_records"]))
            print("            first refusal %s s after the stop; delivery resumed %s s after the restart;"
                  % (o["first_refusal_after_stop_s"], o["delivery_resumed_after_restart_s"]))
            print("            backlog cut into batches (queued < 10,000) %s s after the restart; the intake refused until %s s after it"
                  % (o["backlog_cut_after_restart_s"], o["refusing_until_after_restart_s"]))
        sm = r.get("samples")
        if sm:
            ph = ", ".join("%s %s MiB (spool %s MiB)" % (k, v["peak_rss_mib"], v["peak_spool_mib"])
                           for k, v in sm["by_phase"].items())
            print("samples     %d x 1 s (%s): peak RSS by phase: %s; peak spool %.1f MiB"
                  % (sm["n"], sm["csv"], ph, sm["peak_spool_bytes"] / 1048576))
    n = r["nginx"]
    print("nginx       %.2f CPU s = %.2f cores busy" % (n["cpu_s"], n["cores_busy"]))
    if "cpu_s" in w:
        print("wrk         %.2f CPU s = %.2f cores busy" % (w["cpu_s"], w["cores_busy"]))
    mw = r.get("machine_window")
    if mw:
        print("machine     other processes %.2f cores busy, irq+softirq %.2f cores, steal %.2f cores%s"
              % (mw["others_cores"], mw["irq_softirq_cores"], mw["steal_cores"],
                 "   << NOT A QUIET MACHINE: figures are low" if mw["others_cores"] >= 0.1 else ""))
    print("reference   Fluent Bit 4.2, same job, this machine: ~480,000 records/s delivered, 1.25 cores, 190 MiB RSS")
    print("target      sluice >= 1,000,000 records/s delivered with < 32 MiB RSS")


def print_tcp_summary(r):
    m, t, w = r["machine"], r["tcp"], r["wrk"]
    s, c = r["sluice"], r["loss_check"]
    print("")
    print("== sluice bench (tcp_send -> sluice TCP intake -> nginx, durability %s) ==" % r["durability"])
    print("machine     %d cores, %s, %.1f GiB, kernel %s" % (m["nproc"], m["cpu"], m["mem_gib"], m["kernel"]))
    if m["state_fs"]:
        print("state dir   on %s" % m["state_fs"])
    print("command     %s" % r["command"])
    print_run_setup(r)
    print("senders     %d connections wrote %d records (%.1f MiB of NDJSON, %.0f bytes/record) in %.2f s"
          % (t["senders"], t["records_written"], t["bytes_written"] / 1048576,
             t["bytes_written"] / max(t["records_written"], 1), t["write_s"]))
    print("            = %.0f records/s, %.1f MiB/s written; errors %s" % (t["records_per_s_written"] or 0,
                                                                      t["mib_per_s_written"] or 0, t["errors"]))
    print("blocked     %.2f s per sender waiting for room (%.0f %% of the run; TCP back-pressure and plain "
          "\"sluice reads slower than we write\"); %d stalls >= 100 ms, longest %.0f ms"
          % (t["blocked_s_per_sender"], 100 * (t["blocked_share"] or 0), t["stalls_100ms"], t["max_stall_ms"]))
    print("            sluice closed the connections %.2f s after the last write (every line taken)" % t["close_wait_s"])
    a = t.get("ack")
    if a:
        L = a["latency_us"]
        print("acks        %d ok, %d error, %d unexpected, %d missing (ack = true: one answer per line)"
              % (a["ok"], a["error"], a["unexpected"], a["missing"]))
        print("ack latency write -> answer: p50 %.2f ms  p90 %.2f  p99 %.2f  p99.9 %.2f  max %.2f  mean %.2f"
              % (L["50"] / 1e3, L["90"] / 1e3, L["99"] / 1e3, L["99.9"] / 1e3, L["max"] / 1e3, L["mean"] / 1e3))
        if "window_wait_s_sum" in a:
            print("ack window  %.2f s per sender waiting for answers with 65,536 lines unanswered (not in blocked)"
                  % (a["window_wait_s_sum"] / t["senders"]))
        if a.get("first_error"):
            print("            first error: %s" % a["first_error"][:200])
    print("accepted    %d records = %.0f records/s (over the senders' write time)" % (s["accepted"], s["accepted_per_s"]))
    print("delivered   %d records = %.0f records/s (start -> queue drained, %.2f s; drain took %.2f s)"
          % (s["delivered"], s["delivered_per_s"] or 0, s["delivered_window_s"], s["drain_s"]))
    print("rejected    %d (total since start)   queued at end %d   refused %d"
          % (s["rejected_total"], s["queued_after"], s["refused"]))
    print_sluice_work(s)
    sy = s.get("syncs")
    if sy and sy["fdatasync"]:
        print("syncs       %d fdatasync + %d fsync in %.0f s = %.0f fdatasync/s; %s records per fdatasync"
              % (sy["fdatasync"], sy["fsync"], sy["window_s"], sy["fdatasync_per_s"], sy["records_per_fdatasync"]))
    print("lost?       sluice: accepted %d = delivered %d + dead-lettered %d (totals, HTTP probe included): %s"
          % (c["accepted_total"], c["delivered_total"], c["dead_lettered_total"], "yes" if c["counters_ok"] else "NO"))
    if "nginx_records" in c:
        print("            nginx: %d records in %d distinct batches (%d duplicate deliveries, %d non-2xx) = delivered: %s"
              % (c["nginx_records"], c["nginx_batches"], c["nginx_duplicate_batches"], c["nginx_non2xx"],
                 "yes" if c["nginx_ok"] else "NO"))
    print("            senders wrote %d records, sluice accepted %d during the run: %s"
          % (c["tcp_written_records"], s["accepted"], "yes" if c["tcp_all_accepted"] else "NO"))
    print("            => %s" % ("nothing lost" if c["nothing_lost"] else "RECORDS LOST OR UNACCOUNTED"))
    sm = r.get("samples")
    if sm:
        ph = ", ".join("%s %s MiB (spool %s MiB)" % (k, v["peak_rss_mib"], v["peak_spool_mib"])
                       for k, v in sm["by_phase"].items())
        print("samples     %d x 1 s (%s): peak RSS by phase: %s" % (sm["n"], sm["csv"], ph))
    n = r["nginx"]
    print("nginx       %.2f CPU s = %.2f cores busy" % (n["cpu_s"], n["cores_busy"]))
    if "cpu_s" in w:
        print("tcp_send    %.2f CPU s = %.2f cores busy" % (w["cpu_s"], w["cores_busy"]))
    mw = r.get("machine_window")
    if mw:
        print("machine     other processes %.2f cores busy, irq+softirq %.2f cores, steal %.2f cores%s"
              % (mw["others_cores"], mw["irq_softirq_cores"], mw["steal_cores"],
                 "   << NOT A QUIET MACHINE: figures are low" if mw["others_cores"] >= 0.1 else ""))
    print("reference   Fluent Bit 4.2 TCP input (JSON) -> HTTP output, this machine: ~850,000 records/s, 260 MiB RSS")
    print("target      sluice >= 2,000,000 records/s in memory mode, flat memory")


def compare(out, dirs):
    runs = []
    for d in dirs:
        with open(os.path.join(d, "summary.json"), encoding="utf-8") as f:
            r = json.load(f)
        r["_dir"] = d
        runs.append(r)
    mem = next((r for r in runs if r.get("durability") == "memory" and r.get("sluice")), None)
    hdr = ("durability", "conns", "rec/s delivered", "rec/s accepted", "vs memory",
           "p50 ms", "p99 ms", "sluice cores", "peak RSS MiB", "fdatasync/s", "rec/fdatasync",
           "refused", "nothing lost", "ok")
    rows = []
    for r in runs:
        s = r.get("sluice") or {}
        w = r["wrk"]
        ratio = ""
        if mem and s.get("delivered_per_s") and mem["sluice"].get("delivered_per_s"):
            ratio = "%.2fx" % (mem["sluice"]["delivered_per_s"] / s["delivered_per_s"])
        lc = r.get("loss_check", {})
        rows.append((r.get("durability") or r["mode"], str(w["connections"]),
                     "{:,.0f}".format(s.get("delivered_per_s") or 0),
                     "{:,.0f}".format(s.get("accepted_per_s") or 0), ratio,
                     "%.2f" % w["latency_p50_ms"], "%.2f" % w["latency_p99_ms"],
                     "%.2f" % s.get("cores_busy", 0), "%.1f" % s.get("peak_rss_mib", 0),
                     "%.0f" % s["syncs"]["fdatasync_per_s"] if s.get("syncs") else "-",
                     "{:,.0f}".format(s["syncs"]["records_per_fdatasync"])
                     if (s.get("syncs") or {}).get("records_per_fdatasync") else "-",
                     str(s.get("refused", 0)),
                     "yes" if lc.get("nothing_lost") else "NO",
                     "yes" if r.get("ok") else "FAILED"))
    width = [max(len(h), *(len(x[i]) for x in rows)) for i, h in enumerate(hdr)]
    lines = ["| " + " | ".join(h.ljust(width[i]) for i, h in enumerate(hdr)) + " |",
             "|" + "|".join("-" * (n + 2) for n in width) + "|"]
    for x in rows:
        lines.append("| " + " | ".join(v.rjust(width[i]) if i else v.ljust(width[i])
                                       for i, v in enumerate(x)) + " |")
    lines.append("")
    lines.append("vs memory = memory mode's records/s delivered / this mode's (target for fsync: <= 2x)")
    for r in runs:
        lines.append("%-7s %s" % (r.get("durability") or r["mode"], r["_dir"]))
    text = "\n".join(lines)
    print(text)
    with open(out + ".txt", "w", encoding="utf-8") as f:
        f.write(text + "\n")
    with open(out + ".json", "w", encoding="utf-8") as f:
        json.dump([{k: v for k, v in r.items()} for r in runs], f, indent=2, ensure_ascii=False)
        f.write("\n")


BATCH_MAX_RECORDS = 1000     # the bench connector's batch.max_records

BENCH_CONNECTOR = '''return {
  name = "bench",
  schema = {
    { name = "id",         type = "integer" },
    { name = "email",      type = "string" },
    { name = "name",       type = "string" },
    { name = "amount",     type = "number", nullable = true },
    { name = "active",     type = "boolean" },
    { name = "created_at", type = "datetime" },
  },
  url = "%s",
  method = "POST",
  body = "array",
  batch = { max_records = %d, max_bytes = 1048576, max_delay_ms = 50 },
  concurrency = 4,
  durability = "%s",%s%s
}
'''


# bench.sh --response-fn: every item of nginx's answer is walked (no
# `errors` fast path): what is measured is reading a bulk answer.
RESPONSE_FN = """
  response_fn = require("sluice.responses").per_item {
    items = "items", status = "*.status", error = "*.error.reason",
  },"""


TEMPLATES_BODY = """body = {
    form = "array",
    template = '{"inputs": $records, "source": "sluice"}',
    record_template = '{"properties": $record}',
  },"""


# "transform": the small transform the Fluent Bit comparison of issue 16
# runs (rename a field, uppercase a string, add a field); the schema is
# that of its output: amount renamed total, a source added.
TRANSFORM = """
  transform = function(rec)
    rec.total = rec.amount
    rec.amount = nil
    rec.name = string.upper(rec.name)
    rec.source = "bench"
    return rec
  end,"""
TRANSFORM_SCHEMA = (
    ('    { name = "amount",     type = "number", nullable = true },\n',
     '    { name = "total",      type = "number", nullable = true },\n'),
    ('    { name = "created_at", type = "datetime" },\n',
     '    { name = "created_at", type = "datetime" },\n'
     '    { name = "source",     type = "string" },\n'))

# "signature": a headers_fn signing each body (HMAC-SHA256 over a
# timestamp and the body, as a webhook receiver checks it).
SIGNATURE = """
  headers_fn = function(req)
    local ts = string.format("%d", math.floor(sluice.now()))
    return {
      ["X-Timestamp"] = ts,
      ["X-Signature"] = "sha256=" .. sluice.hex(
        sluice.hmac_sha256("bench-secret", ts .. "." .. req.body)),
    }
  end,"""


def connector(url, durability, *extra):
    """The one bench connector of bench.sh and callgrind.sh. extra: a
    spool max_bytes (digits), "gzip:LEVEL" (compression), "ca:PATH"
    (tls.ca_file: the destination's CA), "templates" (a
    HubSpot-style batch and record template), "response_fn" (a
    per_item response_fn for the answers of bulkconf's /bulk),
    "transform" (TRANSFORM, its output's schema) and/or "signature"
    (SIGNATURE, a headers_fn)."""
    spool = comp = tls = respfn = lua = ""
    templates = transform = False
    for x in extra:
        if x.startswith("gzip:"):
            comp = ('\n  compression = "gzip",\n  compression_level = %d,'
                    % int(x[5:]))
        elif x.startswith("ca:"):
            tls = '\n  tls = { ca_file = %s },' % json.dumps(x[3:])
        elif x == "templates":
            templates = True
        elif x == "response_fn":
            respfn = RESPONSE_FN
        elif x == "transform":
            transform = True
            lua += TRANSFORM
        elif x == "signature":
            lua += SIGNATURE
        else:
            spool = "\n  spool = { max_bytes = %d }," % int(x)
    text = BENCH_CONNECTOR % (url, BATCH_MAX_RECORDS, durability, spool,
                              comp + tls + respfn + lua)
    if transform:
        for a, b in TRANSFORM_SCHEMA:
            assert a in text
            text = text.replace(a, b)
    if templates:
        text = text.replace('body = "array",', TEMPLATES_BODY)
    sys.stdout.write(text)


# One item of Elasticsearch's answer to an index action, as it sends it.
BULK_ITEM = ('{"index":{"_index":"bench","_id":"1","_version":1,"result":"created",'
             '"_shards":{"total":2,"successful":1,"failed":0},"_seq_no":0,'
             '"_primary_term":1,"status":201}}')


def bulkconf(d):
    """nginx config for bench.sh --response-fn: POST /bulk answers a batch
    of n records with {"took":3,"items":[<n items>]}. nginx cannot count the
    records in a body (and the bench records differ in length, so the body
    length does not tell either), but the Idempotency-Key sluice sends ends
    in the batch's record count (<connector>-<spool id>-<position>-<n>).
    A map takes n from the key; a config token is at most 4 KiB, so the
    items are not spelt out per n: `set` doubles one item into chunks of
    1, 2, 4, ... 512 items (each followed by a comma), a map per bit of n-1
    picks the chunk or "" and the answer is the chunks of n-1 followed by
    one last item. A key without a count gets 400; n above
    BATCH_MAX_RECORDS gets a wrong count, which response_fn refuses (the
    batch is retried, and bench.sh fails on retries)."""
    bits = max((BATCH_MAX_RECORDS - 1).bit_length(), 1)
    http = ["# written by bench/benchlib.py bulkconf (bench.sh --response-fn)\n",
            'map $http_idempotency_key $bulk_n {\n    default "";\n'
            '    "~-(?<bulk_count>[0-9]+)$" $bulk_count;\n}\n']
    for j in range(bits):
        http.append("map $bulk_n $bulk_b%d {\n    default \"\";\n" % j)
        http.extend('    %d "$bulk_c%d";\n' % (n, j)
                    for n in range(1, BATCH_MAX_RECORDS + 1) if (n - 1) >> j & 1)
        http.append("}\n")
    srv = ["# written by bench/benchlib.py bulkconf (bench.sh --response-fn)\n",
           "location = /bulk {\n    limit_except POST { deny all; }\n",
           "    default_type application/json;\n",
           "    set $bulk_c0 '%s,';\n" % BULK_ITEM]
    srv.extend('    set $bulk_c%d "$bulk_c%d$bulk_c%d";\n' % (j, j - 1, j - 1)
               for j in range(1, bits))
    srv.append("    if ($bulk_n = \"\") {\n        return 400 "
               "'{\"error\":\"no record count at the end of the Idempotency-Key\"}';\n    }\n")
    chunks = "".join("$bulk_b%d" % j for j in reversed(range(bits)))
    srv.append("    return 200 '{\"took\":3,\"items\":[%s%s]}';\n}\n" % (chunks, BULK_ITEM))
    with open(os.path.join(d, "bulk_http.conf"), "w", encoding="utf-8") as f:
        f.write("".join(http))
    with open(os.path.join(d, "bulk_server.conf"), "w", encoding="utf-8") as f:
        f.write("".join(srv))


SEND_RUNS = [
    ("send_csv", "sluice send, CSV, no gateway", "wall_s", None),
    ("send_ndjson", "sluice send, NDJSON, no gateway", "wall_s", None),
    ("intake_ndjson", "curl: NDJSON to a gateway's intake", "total_s", "gateway"),
    ("send_remote", "sluice send, CSV, through the gateway", "total_s", "gateway"),
]


def send_summary(raw_path, out_path):
    """bench.sh --send: one row per run: rows/s (rows over the run's wall
    time: send until delivered, or the client and then the gateway's
    drain), CPU seconds and peak RSS of the client, and the gateway's."""
    kv = {}
    with open(raw_path, encoding="utf-8") as f:
        for line in f:
            if "=" in line:
                k, v = line.rstrip("\n").split("=", 1)
                kv[k] = v
    rows = int(kv["rows"])
    out = {"rows": rows, "csv_bytes": int(kv["csv_bytes"]),
           "ndjson_bytes": int(kv["ndjson_bytes"]), "nproc": kv.get("nproc"),
           "cpu_model": kv.get("cpu_model"), "durability": kv.get("durability"),
           "runs": []}
    print("== sluice send: %d rows (CSV %.1f MB, NDJSON %.1f MB), durability %s, "
          "%s cores, %s ==" % (rows, out["csv_bytes"] / 1e6, out["ndjson_bytes"] / 1e6,
                               kv.get("durability"), kv.get("nproc"), kv.get("cpu_model")))
    print("%-40s %10s %8s %8s %10s %9s %10s" % ("run", "rows/s", "wall s", "CPU s",
                                              "peak RSS", "gw CPU s", "gw RSS"))
    for name, label, wall_key, gw in SEND_RUNS:
        if name + "_cpu_s" not in kv:
            continue
        wall = float(kv[name + "_" + wall_key])
        r = {"name": name, "label": label, "command": kv.get(name + "_cmd", ""),
             "exit": int(kv.get(name + "_exit", "0")), "wall_s": wall,
             "rows_per_s": rows / wall if wall > 0 else 0,
             "cpu_s": float(kv[name + "_cpu_s"]),
             "user_s": float(kv.get(name + "_user_s", "0")),
             "sys_s": float(kv.get(name + "_sys_s", "0")),
             "max_rss_kib": int(kv.get(name + "_max_rss_kib", "0")),
             "nginx_records": int(kv.get(name + "_nginx_records", "0"))}
        if gw:
            r["gateway_cpu_s"] = float(kv[name + "_gateway_cpu_s"])
            r["gateway_rss_kib"] = int(kv[name + "_gateway_rss_kib"] or 0)
        out["runs"].append(r)
        print("%-40s %10s %8.2f %8.2f %8.1f Mi %9s %10s" % (
            label, "{:,.0f}".format(r["rows_per_s"]), wall, r["cpu_s"],
            r["max_rss_kib"] / 1024,
            "%.2f" % r["gateway_cpu_s"] if gw else "-",
            "%.1f Mi" % (r["gateway_rss_kib"] / 1024) if gw else "-"))
    with open(out_path, "w", encoding="utf-8") as f:
        json.dump(out, f, indent=1)


def main():
    if len(sys.argv) >= 3 and sys.argv[1] == "ports":
        ports(int(sys.argv[2]))
    elif 4 <= len(sys.argv) <= 8 and sys.argv[1] == "connector":
        connector(*sys.argv[2:])
    elif len(sys.argv) >= 5 and sys.argv[1] == "run":
        run(sys.argv[2], float(sys.argv[3]), sys.argv[4:])
    elif len(sys.argv) >= 5 and sys.argv[1] == "runrss":
        run(sys.argv[2], float(sys.argv[3]), sys.argv[4:], rss=True)
    elif len(sys.argv) == 2 and sys.argv[1] == "stats":
        stats()
    elif len(sys.argv) == 4 and sys.argv[1] == "sendsummary":
        send_summary(sys.argv[2], sys.argv[3])
    elif len(sys.argv) == 4 and sys.argv[1] == "summary":
        summary(sys.argv[2], sys.argv[3])
    elif len(sys.argv) == 3 and sys.argv[1] == "bulkconf":
        bulkconf(sys.argv[2])
    elif len(sys.argv) == 3 and sys.argv[1] == "nginxlog":
        nginxlog(sys.argv[2])
    elif len(sys.argv) >= 4 and sys.argv[1] == "compare":
        compare(sys.argv[2], sys.argv[3:])
    else:
        sys.stderr.write(__doc__)
        sys.exit(2)


if __name__ == "__main__":
    main()
