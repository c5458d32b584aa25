#!/usr/bin/env python3
"""Small helpers for scripts/bench.sh (python3 standard library only).

  benchlib.py ports N            print N distinct free TCP ports on 127.0.0.1
  benchlib.py stats              read GET /v1/connectors/{name} JSON on stdin,
                                 print "accepted delivered queued rejected
                                 requests failures retries refused" (the last
                                 four are 0 when absent)
  benchlib.py run OUT TIMEOUT CMD...
                                 run CMD (killed after TIMEOUT s or when this
                                 process gets SIGTERM/SIGINT), then append
                                 "cpu_s=<user+sys of CMD>" to OUT; exits
                                 with CMD's status
  benchlib.py summary RAW OUT    RAW: key=value lines written by bench.sh
                                 (plus the WRK_JSON line); print the summary
                                 and write it as JSON to OUT
"""
import json
import resource
import signal
import socket
import subprocess
import sys


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


def run(out, timeout, cmd):
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
    for k in ("requests", "failures", "retries", "refused"):
        v = st.get(k, 0)
        out.append(str(v if isinstance(v, int) and not isinstance(v, bool) else 0))
    print(" ".join(out))


def load_raw(path):
    kv, wrk = {}, None
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\n")
            if line.startswith("WRK_JSON "):
                wrk = json.loads(line[len("WRK_JSON "):])
            elif "=" in line:
                k, v = line.split("=", 1)
                kv[k] = v
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
        b = res["sluice"]["batches_received"]
        res["sluice"]["records_per_batch"] = round(dlv / b, 1) if b > 0 else None
        res["sluice"].update(cpu("sluice", window))

    res["ok"] = kv.get("ok", "1") == "1"
    with open(out_path, "w", encoding="utf-8") as f:
        json.dump(res, f, indent=2, ensure_ascii=False)
        f.write("\n")
    print_summary(res)


def print_summary(r):
    w, m = r["wrk"], r["machine"]
    L = w["latency_ms"]
    print("")
    print("== sluice bench (%s) ==" % ("wrk -> sluice -> nginx" if r["mode"] == "sluice"
                                       else "wrk -> nginx direct (baseline)"))
    print("machine     %d cores, %s, %.1f GiB, kernel %s" % (m["nproc"], m["cpu"], m["mem_gib"], m["kernel"]))
    if m["state_fs"]:
        print("state dir   on %s" % m["state_fs"])
    print("command     %s" % r["command"])
    print("load        %d req x %d records (%d bytes/request), %d connections, %d thread(s), %.2f s"
          % (w["requests"], w["records_per_request"], w["body_bytes"], w["connections"], w["threads"], w["duration_s"]))
    print("wrk         %.0f requests/s = %.0f records/s sent, %.1f MiB/s of body"
          % (w["requests_per_s"], w["records_per_s_sent"], w["intake_mib_per_s"]))
    print("latency     p50 %.2f ms  p75 %.2f  p90 %.2f  p99 %.2f  p99.9 %.2f  max %.2f"
          % (L["50"], L["75"], L["90"], L["99"], L["99.9"], L["max"]))
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
        print("batches     %d received by nginx (%s records each on average); sluice: %d attempts, %d failed, %d retries"
              % (s["batches_received"], s["records_per_batch"], s["attempts"], s["failures"], s["retries"]))
        print("sluice      %.2f CPU s = %.2f cores busy; peak RSS %.1f MiB (RSS at end %.1f MiB)"
              % (s["cpu_s"], s["cores_busy"], s["peak_rss_mib"], s["rss_end_mib"]))
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


def main():
    if len(sys.argv) >= 3 and sys.argv[1] == "ports":
        ports(int(sys.argv[2]))
    elif len(sys.argv) >= 5 and sys.argv[1] == "run":
        run(sys.argv[2], float(sys.argv[3]), sys.argv[4:])
    elif len(sys.argv) == 2 and sys.argv[1] == "stats":
        stats()
    elif len(sys.argv) == 4 and sys.argv[1] == "summary":
        summary(sys.argv[2], sys.argv[3])
    else:
        sys.stderr.write(__doc__)
        sys.exit(2)


if __name__ == "__main__":
    main()
