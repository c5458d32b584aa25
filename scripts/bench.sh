#!/usr/bin/env bash
# scripts/bench.sh: end-to-end throughput of sluice on this machine.
#
#   wrk --POST JSON arrays--> sluice (intake, schema check, spool)
#       --batches of <= 1000 records--> nginx (answers 200 "ok")
#
# usage: scripts/bench.sh [--duration 20] [--connections 32] [--threads 1]
#                         [--build-dir build-bench] [--records 100]
#                         [--durability fsync|os|memory] [--all-modes]
#                         [--modes LIST] [--outage SECONDS] [--outage-at 10]
#                         [--spool-max-bytes N] [--drain-timeout S]
#                         [--profile] [--baseline] [--no-build] [--keep]
#                         [--tcp [--senders 4]] [--soak]
#                         [--compression gzip [--compression-level 6]]
#                         [--tls intake|dest|both] [--response-fn]
#                         [--send [--rows 1000000]]
#                         [--transform] [--signature]
#                         [--tcp --ack] [--rate N] [--workers N]
#                         [--pin-sluice CPULIST] [--pin-load CPULIST]
#
#   --tcp            TCP intake instead of HTTP: the bench connector gets a
#                    `tcp` listener (loopback, a free port) and --senders
#                    connections of bench/tcp_send (compiled here with cc)
#                    stream the bench records, one per line (NDJSON, the
#                    same records as the HTTP body, 1,000 distinct ones
#                    repeated), for --duration s, then half-close and wait
#                    until sluice has taken every line. Checked: every
#                    record written was accepted and delivered (nginx's
#                    count too); reported: records/s, the senders' time
#                    blocked by back-pressure, sluice CPU and peak RSS
#   --senders N      TCP connections with --tcp (default 4)
#   --ack            with --tcp: the listener has `ack = true` and tcp_send
#                    reads the answers (one line per line sent, in order:
#                    "ok" once durable, "error {...}"), matches each to its
#                    line and measures the latency from the write of the
#                    line to its answer: p50, p90, p99, p99.9 and max from
#                    a histogram of every answer (1.6 % buckets), in
#                    summary.txt/json. A missing answer, an error line or
#                    an unexpected one fails the run. At most 65,536 lines
#                    per sender wait for their answer (past that it waits
#                    for answers: "ack window", apart from "blocked"). At
#                    full load the latency is mostly that queue: quote it
#                    from a --rate run
#   --rate N         the load held at N records/s instead of as fast as
#                    possible, for latency at a known load (e.g. half the
#                    peak): wrk through bench/post.lua's delay() (Debian's
#                    wrk 4.1 has no --rate): each wrk thread keeps a
#                    schedule of N / records / threads requests/s over its
#                    connections, to the ms; each connection has one
#                    request in flight, so --connections must cover rate x
#                    latency. tcp_send --rate: N / senders records/s per
#                    connection. The summary gives the rate offered and
#                    reached. Not with --soak or --send
#   --workers N      the gateway file gets `workers = N` (the threads that
#                    check records; 0 = one per CPU, sluice's default);
#                    fails at once if the binary does not know the key
#                    (`sluice keys`). Not with --baseline
#   --pin-sluice L   run sluice under `taskset -c L` (L: a CPU list, e.g.
#                    0 or 0,1 or 0-3); not with --baseline or --send
#   --pin-load L     the same for the load (wrk, tcp_send, soak.py) and
#                    nginx (its workers inherit it); not with --send. The
#                    summary shows each one's Cpus_allowed_list as read
#                    from /proc. On this 2-core VM `--pin-sluice 0
#                    --pin-load 1` gives sluice one core of its own, while
#                    `--pin-sluice 0,1` (two cores for sluice) leaves the
#                    load none of its own: it then shares both cores with
#                    sluice (`--pin-load 1` puts it on one of them); say so
#                    next to such a figure
#   --soak           a soak (default --duration 60): bench/soak.py sends
#                    mixed valid, invalid and hostile traffic to both
#                    intakes (HTTP and two TCP listeners, one with ack) on
#                    loopback, bounded in time and count; nginx logs every
#                    delivered body, so each valid record acknowledged
#                    (HTTP 200 / TCP "ok" / TCP written whole and the
#                    connection closed by sluice) is checked to have
#                    arrived exactly once, and every record that was
#                    refused, invalid or cut off to have not; RSS every
#                    second into samples.csv, peak of the last third vs the
#                    middle third
#
#   --durability M   the bench connector's durability: fsync (default, the
#                    product default), os or memory
#   --all-modes      one full run per durability (fsync, os, memory), one
#                    after another, each with its own results dir, then one
#                    comparison table (= --modes fsync,os,memory)
#   --modes LIST     the same for a comma-separated list of modes
#   --outage S       destination outage under full load: nginx is stopped
#                    --outage-at s (default 10) into the wrk run, kept down
#                    S s, restarted on the same port; the run lasts at least
#                    outage-at + S + 20 s and the drain timeout is raised;
#                    503s and refused records are expected then, lost ones
#                    are not
#   --spool-max-bytes N  spool = { max_bytes = N } (default: sluice's, 1 GiB)
#   --compression C  the bench connector's compression: none (default) or
#                    gzip (each batch body gzipped on sluice's event loop,
#                    sent with Content-Encoding: gzip; nginx only counts
#                    it); HTTP runs only (with --modes too)
#   --compression-level N  its compression_level, 1..9 (default 6)
#   --tls WHERE      TLS on the intake (sluice's gateway `tls`: wrk posts
#                    over HTTPS), on the delivery (nginx serves the
#                    destination with `listen ... ssl`, the connector trusts
#                    it with tls.ca_file), or both; a private CA and its
#                    certificates (ECDSA P-256) are made in the temp dir
#                    with openssl. TLS 1.3, HTTP/1.1 keep-alive on both
#                    sides. HTTP runs only
#   --response-fn    the bench connector gets a response_fn,
#                    require("sluice.responses").per_item { items = "items",
#                    status = "*.status", error = "*.error.reason" }, and
#                    nginx answers every batch (POST /bulk) with an
#                    Elasticsearch-bulk-style body of one item per record,
#                    all status 201 and no "errors" field, so every item of
#                    every answer is decoded and walked (~150 bytes per
#                    item, ~150 KB per batch of 1,000; see benchlib.py
#                    bulkconf). Checked besides: no retry and no failed
#                    attempt (a response_fn error retries the batch). Not
#                    with --baseline, --soak or --outage
#   --transform      the bench connector gets a small transform (rename
#                    amount to total, uppercase name, add a field source;
#                    benchlib.py TRANSFORM), the schema that of its output
#   --signature      the bench connector gets a headers_fn signing each
#                    batch body with HMAC-SHA256 over a timestamp and the
#                    body (benchlib.py SIGNATURE)
#   --send           the one-shot job instead of wrk: bench/gen_csv.py
#                    writes --rows rows (default 1,000,000; six fields of
#                    mixed types, quoted cells, UTF-8) as CSV and the same
#                    records as NDJSON, then, each with a state dir of its
#                    own, into nginx: `sluice send bench rows.csv` in its
#                    own process (no gateway), the same for rows.ndjson,
#                    then a gateway (`sluice run`) and the NDJSON posted to
#                    its intake by one curl (chunks of 1,000 lines, one
#                    keep-alive connection), then `sluice send bench
#                    rows.csv` through that gateway's intake. Reported per
#                    run: rows/s (until the last record was delivered, or
#                    acknowledged through the gateway, then drained), CPU
#                    seconds (user+sys) and peak RSS of sluice send and of
#                    the gateway. Checked: nginx counted every row once, no
#                    rejects. With --profile the two runs of sluice send in
#                    its own process run under perf record (figures then
#                    include perf's cost). Not with --tcp, --soak,
#                    --baseline, --outage, --modes or --tls
#   --rows N         rows of --send (default 1000000)
#   --drain-timeout S    how long sluice may take to drain after wrk ends
#                    (default 30, or 2 x outage + 60 with --outage)
#   --duration N     wrk run length in seconds (default 20)
#   --connections N  wrk connections (default 32)
#   --threads N      wrk threads (default 1)
#   --build-dir DIR  CMake build dir, RelWithDebInfo (-O2 -g) (default build-bench)
#   --records N      records per request body, ~200 bytes each (default 100)
#   --profile        perf record -g the sluice process during the wrk run,
#                    write the top of `perf report` to the results dir
#   --baseline       no sluice: wrk posts the same body to nginx directly
#                    (the ceiling of the client and destination on this box)
#   --no-build       use DIR/sluice as it is
#   --keep           keep the temp dir (configs, logs, spool) after the run
#
# Everything runs on 127.0.0.1 with ports picked at run time; everything
# started here is stopped on exit, and the temp dir (configs, the state dir
# with the spool, logs) is removed unless --keep. Results (summary.txt,
# summary.json, wrk.txt, samples.csv: sluice's RSS and spool bytes every
# second, logs, perf report) go to DIR/bench-results/<UTC time>-<mode>/.
# nginx logs the Idempotency-Key of every batch, so the records that reached
# it are counted independently of sluice's counters.
# Exit status is non-zero when anything failed: build, startup, sluice
# died, a record was rejected or lost (accepted != delivered + dead-lettered,
# or nginx counted other than delivered), nothing was accepted, wrk saw
# errors (503s excepted with --outage), or the queue did not drain in time.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

DURATION=""
TCP=0
SENDERS=4
SOAK=0
CONNECTIONS=32
THREADS=1
BUILD_DIR=build-bench
RECORDS=100
PROFILE=0
BASELINE=0
BUILD=1
KEEP=0
DURABILITY=fsync
MODES=""
OUTAGE=0              # s of destination outage (0: none)
OUTAGE_AT=10          # s into the wrk run when nginx is stopped
SPOOL_MAX_BYTES=""
COMPRESSION=none
COMPRESSION_LEVEL=6
TLS=none              # intake, dest or both
RESPONSE_FN=0         # 1: the bench connector reads nginx's bulk answers
TRANSFORM=0           # 1: the bench connector has a transform
SIGNATURE=0           # 1: the bench connector has a signing headers_fn
ACK=0                 # 1: --tcp with ack = true, tcp_send reads the answers
RATE=""               # records/s offered (empty: as fast as possible)
WORKERS=""            # gateway key workers (empty: left out)
PIN_SLUICE=""         # taskset -c CPU lists (empty: not pinned)
PIN_LOAD=""
SEND=0                # 1: the sluice send scenario (--send)
ROWS=1000000          # rows of --send
DRAIN_TIMEOUT=""      # s, after wrk ends, for the queue to reach 0 (default 30)
HEALTH_TIMEOUT=20     # s, for sluice to answer /healthz
STOP_TIMEOUT=10       # s, for a process to exit after SIGTERM

log() { printf 'bench: %s\n' "$*" >&2; }
die() { log "FAIL: $*"; exit 1; }
usage() { sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0"; }

need_arg() { if [ $# -lt 2 ] || [ -z "$2" ]; then die "$1 needs a value"; fi; }
while [ $# -gt 0 ]; do
  case "$1" in
    --duration)    need_arg "$@"; DURATION=$2; shift 2 ;;
    --connections) need_arg "$@"; CONNECTIONS=$2; shift 2 ;;
    --threads)     need_arg "$@"; THREADS=$2; shift 2 ;;
    --build-dir)   need_arg "$@"; BUILD_DIR=$2; shift 2 ;;
    --records)     need_arg "$@"; RECORDS=$2; shift 2 ;;
    --durability)  need_arg "$@"; DURABILITY=$2; shift 2 ;;
    --modes)       need_arg "$@"; MODES=$2; shift 2 ;;
    --outage)      need_arg "$@"; OUTAGE=$2; shift 2 ;;
    --outage-at)   need_arg "$@"; OUTAGE_AT=$2; shift 2 ;;
    --spool-max-bytes) need_arg "$@"; SPOOL_MAX_BYTES=$2; shift 2 ;;
    --drain-timeout)   need_arg "$@"; DRAIN_TIMEOUT=$2; shift 2 ;;
    --durability=*)  DURABILITY=${1#*=}; shift ;;
    --modes=*)       MODES=${1#*=}; shift ;;
    --outage=*)      OUTAGE=${1#*=}; shift ;;
    --outage-at=*)   OUTAGE_AT=${1#*=}; shift ;;
    --spool-max-bytes=*) SPOOL_MAX_BYTES=${1#*=}; shift ;;
    --compression)       need_arg "$@"; COMPRESSION=$2; shift 2 ;;
    --compression=*)     COMPRESSION=${1#*=}; shift ;;
    --compression-level) need_arg "$@"; COMPRESSION_LEVEL=$2; shift 2 ;;
    --compression-level=*) COMPRESSION_LEVEL=${1#*=}; shift ;;
    --drain-timeout=*)   DRAIN_TIMEOUT=${1#*=}; shift ;;
    --tls)     need_arg "$@"; TLS=$2; shift 2 ;;
    --tls=*)   TLS=${1#*=}; shift ;;
    --all-modes) MODES=fsync,os,memory; shift ;;
    --response-fn) RESPONSE_FN=1; shift ;;
    --transform)   TRANSFORM=1; shift ;;
    --signature)   SIGNATURE=1; shift ;;
    --send)        SEND=1; shift ;;
    --rows)        need_arg "$@"; ROWS=$2; shift 2 ;;
    --rows=*)      ROWS=${1#*=}; shift ;;
    --duration=*)    DURATION=${1#*=}; shift ;;
    --connections=*) CONNECTIONS=${1#*=}; shift ;;
    --threads=*)     THREADS=${1#*=}; shift ;;
    --build-dir=*)   BUILD_DIR=${1#*=}; shift ;;
    --records=*)     RECORDS=${1#*=}; shift ;;
    --senders)     need_arg "$@"; SENDERS=$2; shift 2 ;;
    --senders=*)   SENDERS=${1#*=}; shift ;;
    --tcp)      TCP=1; shift ;;
    --ack)      ACK=1; shift ;;
    --rate)     need_arg "$@"; RATE=$2; shift 2 ;;
    --rate=*)   RATE=${1#*=}; shift ;;
    --workers)  need_arg "$@"; WORKERS=$2; shift 2 ;;
    --workers=*) WORKERS=${1#*=}; shift ;;
    --pin-sluice)   need_arg "$@"; PIN_SLUICE=$2; shift 2 ;;
    --pin-sluice=*) PIN_SLUICE=${1#*=}; shift ;;
    --pin-load)     need_arg "$@"; PIN_LOAD=$2; shift 2 ;;
    --pin-load=*)   PIN_LOAD=${1#*=}; shift ;;
    --soak)     SOAK=1; shift ;;
    --profile)  PROFILE=1; shift ;;
    --baseline) BASELINE=1; shift ;;
    --no-build) BUILD=0; shift ;;
    --keep)     KEEP=1; shift ;;
    -h|--help)  usage; exit 0 ;;
    *) usage >&2; die "unknown argument: $1" ;;
  esac
done
[ -n "$DURATION" ] || { if [ "$SOAK" -eq 1 ]; then DURATION=60; else DURATION=20; fi; }
for v in DURATION CONNECTIONS THREADS RECORDS SENDERS ROWS; do
  [[ ${!v} =~ ^[1-9][0-9]{0,6}$ ]] || die "--${v,,} must be a positive integer (got '${!v}')"
done
case $DURABILITY in fsync|os|memory) ;; *) die "--durability must be fsync, os or memory (got '$DURABILITY')" ;; esac
case $COMPRESSION in none|gzip) ;; *) die "--compression must be none or gzip (got '$COMPRESSION')" ;; esac
case $TLS in none|intake|dest|both) ;; *) die "--tls must be intake, dest or both (got '$TLS')" ;; esac
[ "$TLS" = none ] || { [ "$TCP" -eq 0 ] && [ "$SOAK" -eq 0 ] && [ "$BASELINE" -eq 0 ]; } ||
  die "--tls: HTTP runs of sluice only (not --tcp/--soak/--baseline)"
TLS_IN=0 TLS_OUT=0
case $TLS in intake) TLS_IN=1 ;; dest) TLS_OUT=1 ;; both) TLS_IN=1 TLS_OUT=1 ;; esac
[[ $COMPRESSION_LEVEL =~ ^[1-9]$ ]] || die "--compression-level must be 1..9 (got '$COMPRESSION_LEVEL')"
[[ $OUTAGE =~ ^[0-9]{1,5}$ ]] || die "--outage must be a number of seconds (got '$OUTAGE')"
[[ $OUTAGE_AT =~ ^[1-9][0-9]{0,4}$ ]] || die "--outage-at must be a positive number of seconds (got '$OUTAGE_AT')"
[ -z "$SPOOL_MAX_BYTES" ] || [[ $SPOOL_MAX_BYTES =~ ^[1-9][0-9]{0,15}$ ]] ||
  die "--spool-max-bytes must be a positive integer (got '$SPOOL_MAX_BYTES')"
[ -z "$DRAIN_TIMEOUT" ] || [[ $DRAIN_TIMEOUT =~ ^[1-9][0-9]{0,5}$ ]] ||
  die "--drain-timeout must be a positive integer (got '$DRAIN_TIMEOUT')"
if [ "$OUTAGE" -gt 0 ]; then
  # Load before, during and at least 20 s after the outage.
  [ "$DURATION" -ge $((OUTAGE_AT + OUTAGE + 20)) ] || {
    DURATION=$((OUTAGE_AT + OUTAGE + 20))
    log "--outage $OUTAGE: wrk runs ${DURATION}s (outage at ${OUTAGE_AT}s + ${OUTAGE}s + 20s)"
  }
  # Once nginx is back, every batch may wait out a backoff of up to
  # retry.max_ms (30 s) before its next attempt; then the backlog drains.
  : "${DRAIN_TIMEOUT:=$((2 * OUTAGE + 60))}"
fi
: "${DRAIN_TIMEOUT:=30}"
[ "$THREADS" -le "$CONNECTIONS" ] || die "--threads ($THREADS) must not exceed --connections ($CONNECTIONS)"
[[ $BUILD_DIR = /* ]] || BUILD_DIR=$ROOT/$BUILD_DIR
[ "$BASELINE" -eq 1 ] && [ "$PROFILE" -eq 1 ] && die "--profile profiles sluice; it makes no sense with --baseline"
[ "$BASELINE" -eq 1 ] && [ -n "$MODES" ] && die "--modes/--all-modes run sluice; they make no sense with --baseline"
[ "$BASELINE" -eq 1 ] && [ "$OUTAGE" -gt 0 ] && die "--outage needs sluice; it makes no sense with --baseline"
[ "$COMPRESSION" = none ] || [ "$BASELINE" -eq 0 ] || die "--compression is sluice's; it makes no sense with --baseline"
[ "$COMPRESSION" = none ] || { [ "$TCP" -eq 0 ] && [ "$SOAK" -eq 0 ]; } || die "--compression: HTTP runs only (not --tcp/--soak)"
[ "$RESPONSE_FN" -eq 0 ] || { [ "$BASELINE" -eq 0 ] && [ "$SOAK" -eq 0 ] && [ "$OUTAGE" -eq 0 ]; } ||
  die "--response-fn: not with --baseline, --soak or --outage"
[ "$SEND" -eq 0 ] || { [ "$TCP" -eq 0 ] && [ "$SOAK" -eq 0 ] && [ "$BASELINE" -eq 0 ] &&
  [ "$OUTAGE" -eq 0 ] && [ -z "$MODES" ] && [ "$TLS" = none ]; } ||
  die "--send: not with --tcp, --soak, --baseline, --outage, --modes or --tls"
[ "$ACK" -eq 0 ] || [ "$TCP" -eq 1 ] || die "--ack: with --tcp only (the soak has an ack listener of its own)"
[ -z "$RATE" ] || [[ $RATE =~ ^[1-9][0-9]{0,9}$ ]] || die "--rate must be a positive number of records/s (got '$RATE')"
[ -z "$RATE" ] || { [ "$SOAK" -eq 0 ] && [ "$SEND" -eq 0 ]; } || die "--rate: not with --soak or --send"
[ -z "$WORKERS" ] || [[ $WORKERS =~ ^[0-9]{1,4}$ ]] || die "--workers must be a number of threads (got '$WORKERS')"
[ -z "$WORKERS" ] || [ "$BASELINE" -eq 0 ] || die "--workers is sluice's; it makes no sense with --baseline"
[ -z "$PIN_SLUICE" ] || { [ "$BASELINE" -eq 0 ] && [ "$SEND" -eq 0 ]; } || die "--pin-sluice: not with --baseline or --send"
[ -z "$PIN_LOAD" ] || [ "$SEND" -eq 0 ] || die "--pin-load: not with --send"
for v in PIN_SLUICE PIN_LOAD; do
  [ -z "${!v}" ] || { [[ ${!v} =~ ^[0-9][0-9,-]*$ ]] && taskset -c "${!v}" true 2>/dev/null; } ||
    die "--$(echo "${v,,}" | tr _ -): '${!v}' is not a CPU list taskset accepts on this machine (CPUs 0-$(($(nproc) - 1)))"
done
PIN_SL=() PIN_LD=()
[ -z "$PIN_SLUICE" ] || PIN_SL=(taskset -c "$PIN_SLUICE")
[ -z "$PIN_LOAD" ] || PIN_LD=(taskset -c "$PIN_LOAD")
if [ "$TCP" -eq 1 ] || [ "$SOAK" -eq 1 ]; then
  [ "$TCP" -eq 1 ] && [ "$SOAK" -eq 1 ] && die "--tcp and --soak are separate runs"
  [ "$BASELINE" -eq 0 ] || die "--tcp/--soak need sluice; they make no sense with --baseline"
  [ -z "$MODES" ] || die "--tcp/--soak: give one --durability, not --modes/--all-modes"
  [ "$OUTAGE" -eq 0 ] || die "--tcp/--soak: no --outage"
  [ "$SOAK" -eq 0 ] || [ "$PROFILE" -eq 0 ] || die "--soak: no --profile"
fi

# ---------------------------------------------------------------- state ----
NGINX=/usr/sbin/nginx
TMP=""
NGINX_PID="" SLUICE_PID="" WRK_PID="" PERF_PID="" SAMPLER_PID="" SYNC_PID=""
FAILS=()
NGINX_WORKERS=()

now() { date +%s.%N; }

# alive PID: the process exists and is not a zombie.
alive() {
  local s
  s=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
  s=${s##*) }
  [ "${s%% *}" != Z ]
}

# stop_pid PID [SIGNAL]: signal, wait up to STOP_TIMEOUT s, then SIGKILL.
stop_pid() {
  local pid=$1 sig=${2:-TERM} i
  [ -n "$pid" ] || return 0
  if alive "$pid"; then
    kill "-$sig" "$pid" 2>/dev/null || true
    for ((i = 0; i < STOP_TIMEOUT * 10; i++)); do
      alive "$pid" || break
      sleep 0.1
    done
    if alive "$pid"; then
      log "pid $pid still running ${STOP_TIMEOUT}s after SIG$sig, sending SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
    fi
  fi
  wait "$pid" 2>/dev/null || true
}

# shellcheck disable=SC2317  # invoked by the EXIT trap
cleanup() {
  local rc=$?
  set +e
  trap - EXIT INT TERM
  stop_pid "$PERF_PID" INT
  stop_pid "$SAMPLER_PID"
  stop_pid "$SYNC_PID" INT
  stop_pid "$WRK_PID"
  stop_pid "$SLUICE_PID"
  stop_pid "$NGINX_PID"
  local w
  for w in "${NGINX_WORKERS[@]}"; do
    alive "$w" && kill -KILL "$w" 2>/dev/null
  done
  if [ -n "$TMP" ] && [ -d "$TMP" ]; then
    if [ "$KEEP" -eq 1 ]; then
      log "kept $TMP"
    else
      rm -rf "$TMP"
    fi
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'log "interrupted"; exit 130' INT
trap 'log "terminated"; exit 143' TERM

# cpu_ticks PID...: utime + stime (clock ticks) summed over the processes.
cpu_ticks() {
  local total=0 pid s f
  for pid in "$@"; do
    s=$(cat "/proc/$pid/stat" 2>/dev/null) || continue
    s=${s##*) }                     # fields from 3 (state) on
    read -r -a f <<<"$s"
    total=$((total + f[11] + f[12])) # fields 14 utime, 15 stime
  done
  echo "$total"
}

# sys_ticks: "task irq steal" clock ticks of the whole machine from
# /proc/stat: task = user+nice+system, irq = irq+softirq, steal = steal.
sys_ticks() { awk '$1 == "cpu" { print $2 + $3 + $4, $7 + $8, $9; exit }' /proc/stat; }
raw_sys() {
  local t i st
  read -r t i st <<<"$(sys_ticks)"
  raw "sys_task_$1" "$t"
  raw "sys_irq_$1" "$i"
  raw "sys_steal_$1" "$st"
}

# thread_ticks PID: "tid,name,ticks ..." (utime + stime) of each thread.
thread_ticks() {
  local t s n f out=""
  for t in /proc/"$1"/task/*; do
    s=$(cat "$t/stat" 2>/dev/null) || continue
    n=$(tr -c 'A-Za-z0-9_.:\n-' _ <"$t/comm" 2>/dev/null) || n='?'
    s=${s##*) }
    read -r -a f <<<"$s"
    out+="${t##*/},$n,$((f[11] + f[12])) "
  done
  echo "$out"
}

# proc_kib PID FIELD: a kB value from /proc/PID/status (VmHWM, VmRSS).
proc_kib() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status"; }

child_pids() {
  local p=$1 c
  if c=$(cat /proc/"$p"/task/*/children 2>/dev/null) && [ -n "$c" ]; then
    echo "$c"
  else
    pgrep -P "$p" || true
  fi
}

# wait_http URL SECONDS PID: poll until URL answers 2xx; fail if PID dies.
wait_http() {
  local url=$1 secs=$2 pid=$3 i
  for ((i = 0; i < secs * 10; i++)); do
    curl -sf "${CURL_CA[@]}" -o /dev/null --max-time 1 "$url" && return 0
    alive "$pid" || return 1
    sleep 0.1
  done
  return 1
}

raw() { printf '%s=%s\n' "$1" "$2" >>"$RAW"; }

# ------------------------------------------------------ several modes ----
# --modes/--all-modes: this script once per mode (each a full run with its
# own results dir; the first one builds), then one comparison table.
if [ -n "$MODES" ]; then
  IFS=, read -r -a MODE_LIST <<<"$MODES"
  [ ${#MODE_LIST[@]} -gt 0 ] || die "--modes: empty list"
  for m in "${MODE_LIST[@]}"; do
    case $m in fsync|os|memory) ;; *) die "--modes: unknown mode '$m' (fsync, os, memory)" ;; esac
  done
  args=(--duration "$DURATION" --connections "$CONNECTIONS" --threads "$THREADS"
        --build-dir "$BUILD_DIR" --records "$RECORDS" --outage "$OUTAGE"
        --outage-at "$OUTAGE_AT" --drain-timeout "$DRAIN_TIMEOUT")
  [ -n "$SPOOL_MAX_BYTES" ] && args+=(--spool-max-bytes "$SPOOL_MAX_BYTES")
  args+=(--compression "$COMPRESSION" --compression-level "$COMPRESSION_LEVEL")
  [ "$RESPONSE_FN" -eq 1 ] && args+=(--response-fn)
  [ "$TRANSFORM" -eq 1 ] && args+=(--transform)
  [ "$SIGNATURE" -eq 1 ] && args+=(--signature)
  [ "$PROFILE" -eq 1 ] && args+=(--profile)
  [ "$KEEP" -eq 1 ] && args+=(--keep)
  [ -n "$RATE" ] && args+=(--rate "$RATE")
  [ -n "$WORKERS" ] && args+=(--workers "$WORKERS")
  [ -n "$PIN_SLUICE" ] && args+=(--pin-sluice "$PIN_SLUICE")
  [ -n "$PIN_LOAD" ] && args+=(--pin-load "$PIN_LOAD")
  CMP=$BUILD_DIR/bench-results/$(date -u +%Y%m%dT%H%M%SZ)-modes
  mkdir -p "$CMP"
  dirs=() failed=() nobuild=()
  [ "$BUILD" -eq 1 ] || nobuild=(--no-build)
  for m in "${MODE_LIST[@]}"; do
    log "=== durability $m: scripts/bench.sh ${args[*]} ${nobuild[*]} --durability $m"
    rc=0
    "$0" "${args[@]}" "${nobuild[@]}" --durability "$m" | tee "$CMP/run-$m.txt" || rc=$?
    [ "$rc" -eq 0 ] || failed+=("$m (exit $rc)")
    d=$(sed -n 's/^results  *//p' "$CMP/run-$m.txt" | tail -n 1)
    if [ -n "$d" ] && [ -f "$d/summary.json" ]; then dirs+=("$d"); else failed+=("$m: no summary"); fi
    nobuild=(--no-build)
  done
  echo
  echo "== durability modes compared ($(nproc) cores, $(awk -F': *' '/^model name/ { print $2; exit }' /proc/cpuinfo), kernel $(uname -r)) =="
  [ ${#dirs[@]} -gt 0 ] && python3 "$ROOT/bench/benchlib.py" compare "$CMP/comparison" "${dirs[@]}"
  echo "comparison  $CMP/comparison.txt"
  if [ ${#failed[@]} -gt 0 ]; then
    for f in "${failed[@]}"; do log "FAIL: $f"; done
    exit 1
  fi
  exit 0
fi

# ----------------------------------------------------------------- deps ----
log "installing dependencies (scripts/install-deps.sh --bench)"
"$ROOT/scripts/install-deps.sh" --bench
for c in wrk curl python3 cmake awk; do
  command -v "$c" >/dev/null || die "$c not found after install-deps"
done
[ -x "$NGINX" ] || die "$NGINX not found after install-deps"

STAMP=$(date -u +%Y%m%dT%H%M%SZ)
RES=$BUILD_DIR/bench-results/$STAMP
if [ "$BASELINE" -eq 1 ]; then RES=$RES-baseline
elif [ "$TCP" -eq 1 ]; then RES=$RES-tcp-$DURABILITY-s$SENDERS
elif [ "$SOAK" -eq 1 ]; then RES=$RES-soak-$DURABILITY
elif [ "$SEND" -eq 1 ]; then RES=$RES-send-$DURABILITY-r$ROWS
else RES=$RES-$DURABILITY-c$CONNECTIONS; fi
[ "$OUTAGE" -gt 0 ] && RES=$RES-outage$OUTAGE
[ "$COMPRESSION" = none ] || RES=$RES-gzip$COMPRESSION_LEVEL
[ "$TLS" = none ] || RES=$RES-tls-$TLS
[ "$RESPONSE_FN" -eq 0 ] || RES=$RES-respfn
[ "$TRANSFORM" -eq 0 ] || RES=$RES-transform
[ "$SIGNATURE" -eq 0 ] || RES=$RES-signature
[ "$ACK" -eq 0 ] || RES=$RES-ack
[ -z "$RATE" ] || RES=$RES-rate$RATE
[ -z "$WORKERS" ] || RES=$RES-w$WORKERS
[ -z "$PIN_SLUICE" ] || RES=$RES-pin${PIN_SLUICE//,/_}
mkdir -p "$RES"
RAW=$RES/raw.txt
: >"$RAW"
TMP=$(mktemp -d "${TMPDIR:-/tmp}/sluice-bench.XXXXXX")
chmod 755 "$TMP"   # nginx workers run as nobody when started as root

# --tls: a private CA and one certificate for 127.0.0.1 that both nginx
# and sluice's intake serve (curl and sluice trust the CA; wrk does not
# verify).
CURL_CA=()
if [ "$TLS" != none ]; then
  PKI=$TMP/pki
  mkdir -p "$PKI"
  {
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
      -keyout "$PKI/ca.key" -out "$PKI/ca.pem" -days 2 -subj "/CN=sluice bench CA" \
      -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign &&
    openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
      -keyout "$PKI/server.key" -out "$PKI/server.csr" -subj "/CN=127.0.0.1" &&
    printf 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n' >"$PKI/server.ext" &&
    openssl x509 -req -in "$PKI/server.csr" -CA "$PKI/ca.pem" -CAkey "$PKI/ca.key" \
      -CAcreateserial -days 2 -extfile "$PKI/server.ext" -out "$PKI/server.pem"
  } >"$PKI/openssl.log" 2>&1 || { cat "$PKI/openssl.log" >&2; die "openssl could not make the bench certificates"; }
  chmod 644 "$PKI"/*
  CURL_CA=(--cacert "$PKI/ca.pem")
  raw tls "$TLS"
  raw openssl "$(openssl version)"
fi

# ---------------------------------------------------------------- build ----
SLUICE_BIN=$BUILD_DIR/sluice
if [ "$BASELINE" -eq 0 ]; then
  if [ "$BUILD" -eq 1 ]; then
    log "building sluice (RelWithDebInfo: -O2 -g) in $BUILD_DIR, log: $RES/build.log"
    if ! { cmake -S "$ROOT" -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=RelWithDebInfo &&
           cmake --build "$BUILD_DIR" -j2 --target sluice; } >"$RES/build.log" 2>&1; then
      tail -n 40 "$RES/build.log" >&2
      die "build failed (full log: $RES/build.log)"
    fi
  fi
  [ -x "$SLUICE_BIN" ] || die "no sluice binary at $SLUICE_BIN"
  if [ -n "$WORKERS" ]; then
    # (the table first: grep -q would end the pipe early, and pipefail)
    keys=$("$SLUICE_BIN" keys 2>/dev/null) || keys=""
    # shellcheck disable=SC2016  # backquotes of the Markdown table, not a command
    grep -q '^| `workers` |' <<<"$keys" ||
      die "--workers: $SLUICE_BIN has no gateway key workers (see \`sluice keys\`): build a sluice that has it"
  fi
fi
TCP_SEND=$BUILD_DIR/tcp_send
if [ "$TCP" -eq 1 ]; then
  command -v cc >/dev/null || die "--tcp needs a C compiler (cc)"
  cc -O2 -g -Wall -Wextra -pthread -o "$TCP_SEND" "$ROOT/bench/tcp_send.c" >>"$RES/build.log" 2>&1 ||
    { tail -n 20 "$RES/build.log" >&2; die "cannot compile bench/tcp_send.c"; }
fi

# --------------------------------------------------------- machine, body ---
CLK_TCK=$(getconf CLK_TCK)
raw mode "$([ "$BASELINE" -eq 1 ] && echo baseline || echo sluice)"
raw clk_tck "$CLK_TCK"
raw nproc "$(nproc)"
raw cpu_model "$(awk -F': *' '/^model name/ { print $2; exit }' /proc/cpuinfo)"
raw kernel "$(uname -r)"
raw mem_kib "$(awk '$1 == "MemTotal:" { print $2 }' /proc/meminfo)"
raw threads "$THREADS"
raw connections "$CONNECTIONS"
raw records_per_request "$RECORDS"
raw rate_offered "$RATE"
raw pin_sluice "$PIN_SLUICE"
raw pin_load "$PIN_LOAD"
raw load_cpus "${PIN_LOAD:-all}"
raw wrk_txt "$RES/wrk.txt"

BODY=$TMP/body.json
python3 "$ROOT/bench/gen_records.py" --count "$RECORDS" >"$BODY"
BODY_BYTES=$(stat -c %s "$BODY")
raw body_bytes "$BODY_BYTES"
cp "$BODY" "$RES/body.json"
log "request body: $RECORDS records, $BODY_BYTES bytes"

read -r NGINX_PORT SLUICE_PORT TCP_PORT TCP_ACK_PORT NGINX_TLS_PORT < <(python3 "$ROOT/bench/benchlib.py" ports 5)
[ -n "$NGINX_TLS_PORT" ] || die "could not pick free ports"
if [ "$TCP" -eq 1 ]; then
  # The senders' input: the bench records one per line (1,000 distinct
  # ones; tcp_send repeats them into a 256 KiB buffer).
  NDJSON=$TMP/records.ndjson
  python3 "$ROOT/bench/gen_records.py" --count 1000 --ndjson >"$NDJSON"
  raw ndjson_bytes "$(stat -c %s "$NDJSON")"
  raw ndjson_records 1000
  raw intake tcp
  raw senders "$SENDERS"
  log "TCP input: 1000 records, $(stat -c %s "$NDJSON") bytes of NDJSON, $SENDERS senders"
fi

# ---------------------------------------------------------------- nginx ----
NGX=$TMP/nginx
mkdir -p "$NGX"
# With sluice in front, nginx logs one line per batch (~1,000/s): status,
# method, path and the Idempotency-Key, whose trailing -<n> is the batch's
# number of records: the count of records that reached nginx, independent
# of sluice's counters (and of nginx restarts). Not in --baseline, where
# every wrk request would be a line.
NGX_LOG_SED=()
[ "$BASELINE" -eq 1 ] || NGX_LOG_SED=(-e "s|^\( *\)access_log off;\$|\1log_format bench '\$status \$request_method \$uri \$http_idempotency_key \$content_length';\n\1access_log $NGX/access.log bench;|")
# --soak: every delivered body in the log (escape=json, the last field;
# $request_body is set in /ingest_read, which reads the whole body first),
# so bench/soak.py can check record by record what arrived.
[ "$SOAK" -eq 0 ] || NGX_LOG_SED=(-e "s|^\( *\)access_log off;\$|\1log_format bench escape=json '\$status \$request_method \$uri \$http_idempotency_key \$content_length \$request_body';\n\1access_log $NGX/access.log bench;|")
# --tls dest|both: the same server also listens with TLS on its own port
# (the plain one stays for /nginx_status and the checks below).
NGX_TLS_SED=(-e "/@TLS_LISTEN@/d")
[ "$TLS_OUT" -eq 0 ] || NGX_TLS_SED=(-e "s|@TLS_LISTEN@|listen 127.0.0.1:$NGINX_TLS_PORT ssl backlog=4096;\n        ssl_certificate $PKI/server.pem;\n        ssl_certificate_key $PKI/server.key;\n        ssl_protocols TLSv1.2 TLSv1.3;|")
# --response-fn: POST /bulk and the maps it needs (bench/benchlib.py bulkconf).
NGX_BULK_SED=(-e "/@BULK_HTTP@/d" -e "/@BULK_SERVER@/d")
if [ "$RESPONSE_FN" -eq 1 ]; then
  python3 "$ROOT/bench/benchlib.py" bulkconf "$NGX" || die "cannot write the nginx /bulk config"
  NGX_BULK_SED=(-e "s|@BULK_HTTP@|include $NGX/bulk_http.conf;|" -e "s|@BULK_SERVER@|include $NGX/bulk_server.conf;|")
fi
sed -e "s|@DIR@|$NGX|g" -e "s|@PORT@|$NGINX_PORT|g" "${NGX_LOG_SED[@]}" "${NGX_TLS_SED[@]}" "${NGX_BULK_SED[@]}" \
  "$ROOT/bench/nginx.conf.in" >"$NGX/nginx.conf"
[ "$BASELINE" -eq 1 ] || grep -q 'access_log .*access.log bench;' "$NGX/nginx.conf" ||
  die "could not enable the access log in $NGX/nginx.conf"
"$NGINX" -t -q -p "$NGX/" -c "$NGX/nginx.conf" -e "$NGX/error.log" ||
  die "nginx rejects $NGX/nginx.conf"
NGINX_URL=http://127.0.0.1:$NGINX_PORT

# start_nginx: start the bench nginx (again, after an outage: same config,
# same port, same access log, appended to); sets NGINX_PID, NGINX_WORKERS.
start_nginx() {
  local try
  for try in 1 2 3 4 5; do
    "${PIN_LD[@]}" "$NGINX" -p "$NGX/" -c "$NGX/nginx.conf" -e "$NGX/error.log" >>"$NGX/stdout.log" 2>&1 &
    NGINX_PID=$!
    wait_http "$NGINX_URL/nginx_status" 10 "$NGINX_PID" && break
    # e.g. the port briefly taken: a client socket of the run bound to it
    log "nginx did not start on 127.0.0.1:$NGINX_PORT (attempt $try): $(tail -n 1 "$NGX/error.log" 2>/dev/null)"
    stop_pid "$NGINX_PID"
    NGINX_PID=""
    sleep 0.5
  done
  if [ -z "$NGINX_PID" ]; then
    cat "$NGX/error.log" "$NGX/stdout.log" >&2 2>/dev/null || true
    die "nginx did not start on 127.0.0.1:$NGINX_PORT"
  fi
  read -r -a NGINX_WORKERS <<<"$(child_pids "$NGINX_PID" | tr '\n' ' ')"
  [ ${#NGINX_WORKERS[@]} -gt 0 ] || die "nginx has no worker process"
  log "nginx pid $NGINX_PID (workers: ${NGINX_WORKERS[*]}) on 127.0.0.1:$NGINX_PORT"
}

# stop_nginx: the destination goes away (SIGTERM to the master = nginx -s
# stop: fast shutdown, open connections are closed).
stop_nginx() {
  local w
  stop_pid "$NGINX_PID" TERM
  for w in "${NGINX_WORKERS[@]}"; do
    alive "$w" && kill -KILL "$w" 2>/dev/null
  done
  NGINX_PID="" NGINX_WORKERS=()
}
start_nginx
cpus_of() { awk '$1 == "Cpus_allowed_list:" { print $2 }' "/proc/$1/status" 2>/dev/null; }
raw nginx_cpus "$(cpus_of "${NGINX_WORKERS[0]}")"

# The destination must read and discard a big body and keep the connection:
# two 1 MiB POSTs on one connection, both 200, the second without a connect.
head -c 1048576 /dev/zero | tr '\0' 'x' >"$TMP/1mib"
check=$(curl -sS -H 'Expect:' -o /dev/null -w '%{http_code}:%{num_connects} ' \
          --data-binary @"$TMP/1mib" "$NGINX_URL/ingest" \
        --next -sS -H 'Expect:' -o /dev/null -w '%{http_code}:%{num_connects}' \
          --data-binary @"$TMP/1mib" "$NGINX_URL/ingest") || die "curl to nginx failed"
[ "$check" = "200:1 200:0" ] ||
  die "nginx keep-alive check: expected '200:1 200:0' (code:new connections), got '$check'"
log "nginx keep-alive check ok (two 1 MiB POSTs on one connection: $check)"
if [ "$RESPONSE_FN" -eq 1 ]; then
  # /bulk answers n items for a key ending in -n, 400 without one (keys
  # "check-..." are not counted as delivered records: benchlib nginxlog).
  for n in 1 2 3 500 999 1000; do
    curl -sS -X POST -H "Idempotency-Key: check-0-$n" --data-binary x "$NGINX_URL/bulk" |
      python3 -c 'import json, sys
d = json.load(sys.stdin); n = int(sys.argv[1])
sys.exit(0 if len(d["items"]) == n and all(i["index"]["status"] == 201 for i in d["items"]) else 1)' "$n" ||
      die "nginx /bulk: the answer to a batch of $n is not $n items of status 201"
  done
  check=$(curl -sS -o /dev/null -w '%{http_code}' -X POST --data-binary x "$NGINX_URL/bulk")
  [ "$check" = 400 ] || die "nginx /bulk: a request without a keyed count answered $check, not 400"
  log "nginx /bulk check ok (1 to 1000 items, as the Idempotency-Key says)"
fi

nginx_requests() {
  curl -sSf --max-time 5 "$NGINX_URL/nginx_status" | awk 'NR == 3 { print $3 }'
}

# ------------------------------------------------------------------ wrk ----
# start_wrk URL: runs wrk in the background through benchlib (which records
# wrk's own CPU time), bounded by DURATION + 30 s; finish_wrk waits for it.
start_wrk() {
  local url=$1
  local rate_env=""
  # --rate: requests/s per wrk thread, for post.lua's delay()
  [ -z "$RATE" ] || rate_env=$(awk -v r="$RATE" -v n="$RECORDS" -v t="$THREADS" 'BEGIN { printf "%.3f", r / n / t }')
  WRK_CMD="${rate_env:+BENCH_RATE=$rate_env }BENCH_BODY=body.json ${PIN_LD[*]}${PIN_LD:+ }wrk -t$THREADS -c$CONNECTIONS -d${DURATION}s --latency -s bench/post.lua $url"
  raw wrk_cmd "$WRK_CMD"
  log "running: $WRK_CMD"
  BENCH_RATE=$rate_env BENCH_BODY=$BODY python3 "$ROOT/bench/benchlib.py" run "$RES/wrk.cpu" $((DURATION + 30)) \
    "${PIN_LD[@]}" wrk "-t$THREADS" "-c$CONNECTIONS" "-d${DURATION}s" --latency \
    -s "$ROOT/bench/post.lua" "$url" >"$RES/wrk.txt" 2>&1 &
  WRK_PID=$!
}
run_wrk() { start_wrk "$1"; finish_wrk; }
# start_tcp: --senders connections of tcp_send stream the NDJSON records
# into the TCP listener for DURATION s (then wait for sluice to take them).
start_tcp() {
  local opts=()
  [ "$ACK" -eq 0 ] || opts+=(--ack)
  [ -z "$RATE" ] || opts+=(--rate "$RATE")
  WRK_CMD="${PIN_LD[*]}${PIN_LD:+ }tcp_send ${opts[*]}${opts:+ }127.0.0.1 <tcp> records.ndjson $SENDERS ${DURATION}"
  raw wrk_cmd "$WRK_CMD"
  log "running: $WRK_CMD"
  python3 "$ROOT/bench/benchlib.py" run "$RES/wrk.cpu" $((DURATION + 330)) \
    "${PIN_LD[@]}" "$TCP_SEND" "${opts[@]}" 127.0.0.1 "$TCP_PORT" "$NDJSON" "$SENDERS" "$DURATION" >"$RES/tcp_send.txt" 2>&1 &
  WRK_PID=$!
}
finish_tcp() {
  local rc=0
  wait "$WRK_PID" || rc=$?
  WRK_PID=""
  sed '/^TCP_JSON /d' "$RES/tcp_send.txt" >&2
  grep '^TCP_JSON ' "$RES/tcp_send.txt" >>"$RAW" || die "tcp_send printed no TCP_JSON line (exit $rc)"
  [ "$rc" -eq 0 ] || FAILS+=("tcp_send exited with status $rc (see $RES/tcp_send.txt)")
  raw wrk_cpu_s "$(sed -n 's/^cpu_s=//p' "$RES/wrk.cpu")"
}
start_load() { if [ "$TCP" -eq 1 ]; then start_tcp; else start_wrk "$1"; fi; }
finish_load() { if [ "$TCP" -eq 1 ]; then finish_tcp; else finish_wrk; fi; }
finish_wrk() {
  local rc=0
  wait "$WRK_PID" || rc=$?
  WRK_PID=""
  sed '/^WRK_JSON /d' "$RES/wrk.txt" >&2
  [ "$rc" -eq 0 ] || die "wrk exited with status $rc"
  grep '^WRK_JSON ' "$RES/wrk.txt" >>"$RAW" || die "wrk printed no WRK_JSON line"
  raw wrk_cpu_s "$(sed -n 's/^cpu_s=//p' "$RES/wrk.cpu")"
}

# wrk_errors [KEY...]: total of wrk's error counters (from the WRK_JSON
# line), but those named.
wrk_errors() {
  python3 -c 'import json,sys
for l in open(sys.argv[1]):
    if l.startswith("WRK_JSON "):
        print(sum(v for k, v in json.loads(l[9:])["errors"].items() if k not in sys.argv[2:]))' "$RAW" "$@"
}

finish() {
  local status=0
  [ "$1" = ok ] || status=1
  raw ok "$([ "$status" -eq 0 ] && echo 1 || echo 0)"
  python3 "$ROOT/bench/benchlib.py" summary "$RAW" "$RES/summary.json" | tee "$RES/summary.txt"
  echo "results     $RES"
  if [ ${#FAILS[@]} -gt 0 ]; then
    local f
    for f in "${FAILS[@]}"; do log "FAIL: $f"; done
  fi
  exit "$status"
}

if [ "$BASELINE" -eq 1 ]; then
  n0=$(nginx_requests)
  raw nginx_ticks_before "$(cpu_ticks "$NGINX_PID" "${NGINX_WORKERS[@]}")"
  raw_sys before
  run_wrk "$NGINX_URL/ingest"
  raw_sys after
  raw nginx_ticks_after "$(cpu_ticks "$NGINX_PID" "${NGINX_WORKERS[@]}")"
  n1=$(nginx_requests)
  log "nginx counted $((n1 - n0 - 1)) requests"
  e=$(wrk_errors)
  [ "$e" -eq 0 ] || FAILS+=("wrk reported $e errors (see $RES/wrk.txt)")
  if [ ${#FAILS[@]} -eq 0 ]; then finish ok; else finish failed; fi
fi

# --------------------------------------------------------------- sluice ----
SL=$TMP/sluice
mkdir -p "$SL/connectors" "$SL/var"
# --tcp: one listener into the bench connector; --soak: two (one with
# ack), small limits so that the hostile traffic meets them, and a 1 MiB
# max_body_bytes for the 413s.
SOAK_MAX_LINE=4096
SOAK_IDLE_S=3
SOAK_MAX_CONN=256
SOAK_MAX_BODY=1048576
GW_EXTRA=""
if [ "$TCP" -eq 1 ]; then
  GW_EXTRA="  tcp = { { listen = \"127.0.0.1:$TCP_PORT\", connector = \"bench\", allow = { \"127.0.0.1/32\" }$([ "$ACK" -eq 0 ] || echo ', ack = true') } },"
elif [ "$SOAK" -eq 1 ]; then
  GW_EXTRA="  max_body_bytes = $SOAK_MAX_BODY,
  tcp = {
    { listen = \"127.0.0.1:$TCP_PORT\", connector = \"bench\", allow = { \"127.0.0.1/32\" },
      max_line_bytes = $SOAK_MAX_LINE, idle_timeout_s = $SOAK_IDLE_S, max_connections = $SOAK_MAX_CONN },
    { listen = \"127.0.0.1:$TCP_ACK_PORT\", connector = \"bench\", ack = true, allow = { \"127.0.0.1/32\" },
      max_line_bytes = $SOAK_MAX_LINE, idle_timeout_s = $SOAK_IDLE_S, max_connections = $SOAK_MAX_CONN },
  },"
fi
[ -z "$WORKERS" ] || GW_EXTRA="$GW_EXTRA
  workers = $WORKERS,"
[ "$TLS_IN" -eq 0 ] || GW_EXTRA="$GW_EXTRA
  tls = { cert = \"$PKI/server.pem\", key = \"$PKI/server.key\" },"
cat >"$SL/sluice.lua" <<EOF
return {
  listen = "127.0.0.1:$SLUICE_PORT",
  state_dir = "$SL/var",
  connectors = { "connectors/*.lua" },
$GW_EXTRA
}
EOF
# With --outage the destination answers only once it has read the whole
# body (see bench/nginx.conf.in): nginx's plain `return 200` answers before
# reading the body, and a batch it acknowledged and never read would be
# lost by the destination, not by sluice.
NGINX_PATH=/ingest
[ "$OUTAGE" -eq 0 ] && [ "$SOAK" -eq 0 ] || NGINX_PATH=/ingest_read
[ "$RESPONSE_FN" -eq 0 ] || NGINX_PATH=/bulk
COMP_ARG=""
[ "$COMPRESSION" = none ] || COMP_ARG=gzip:$COMPRESSION_LEVEL
DEST_URL=http://127.0.0.1:$NGINX_PORT$NGINX_PATH
TLS_ARG=""
[ "$TLS_OUT" -eq 0 ] || { DEST_URL=https://127.0.0.1:$NGINX_TLS_PORT$NGINX_PATH; TLS_ARG=ca:$PKI/ca.pem; }
RESPFN_ARG=""
[ "$RESPONSE_FN" -eq 0 ] || RESPFN_ARG=response_fn
python3 "$ROOT/bench/benchlib.py" connector "$DEST_URL" \
  "$DURABILITY" ${SPOOL_MAX_BYTES:+"$SPOOL_MAX_BYTES"} ${COMP_ARG:+"$COMP_ARG"} ${TLS_ARG:+"$TLS_ARG"} \
  ${RESPFN_ARG:+"$RESPFN_ARG"} $([ "$TRANSFORM" -eq 0 ] || echo transform) \
  $([ "$SIGNATURE" -eq 0 ] || echo signature) >"$SL/connectors/bench.lua"
cp "$SL/sluice.lua" "$SL/connectors/bench.lua" "$RES/"
raw state_fs "$(df -PT "$SL/var" | awk 'NR == 2 { print $2 " (" $1 ")" }')"
raw durability "$DURABILITY"
raw spool_max_bytes "${SPOOL_MAX_BYTES:-1073741824}"
raw compression "$([ "$COMPRESSION" = none ] && echo none || echo "gzip level $COMPRESSION_LEVEL")"
raw response_fn "$RESPONSE_FN"
raw transform "$TRANSFORM"
raw workers "$WORKERS"
raw ack "$ACK"
raw signature "$SIGNATURE"

# --------------------------------------------------------------- --send ----
# The one-shot job. Each run has a state dir of its own (var-NAME) and
# nginx's access log is emptied before it, so that nginx's count is that
# run's. `sluice send` in its own process returns once every record was
# delivered; through the gateway once the gateway acknowledged every row,
# and the run ends when the gateway has delivered them.
if [ "$SEND" -eq 1 ]; then
  IN=$TMP/input
  mkdir -p "$IN"
  log "writing $ROWS rows as CSV and as NDJSON (bench/gen_csv.py)"
  python3 "$ROOT/bench/gen_csv.py" --rows "$ROWS" --csv "$IN/rows.csv" --ndjson "$IN/rows.ndjson" ||
    die "bench/gen_csv.py failed"
  raw rows "$ROWS"
  raw csv_bytes "$(stat -c %s "$IN/rows.csv")"
  raw ndjson_bytes "$(stat -c %s "$IN/rows.ndjson")"
  head -n 5 "$IN/rows.csv" >"$RES/rows-head.csv"
  SEND_TIMEOUT=$((ROWS / 1000 + 300))
  # gw_file NAME: the gateway file with the state dir var-NAME; prints it.
  gw_file() {
    sed "s|^  state_dir = .*|  state_dir = \"$SL/var-$1\",|" "$SL/sluice.lua" >"$SL/sluice-$1.lua"
    cp "$SL/sluice-$1.lua" "$RES/"
    echo "$SL/sluice-$1.lua"
  }
  # nginx_check NAME: nginx counted every row once since its log was emptied.
  nginx_check() {
    local recs batches dups non2xx unkeyed
    read -r recs batches dups non2xx unkeyed < <(python3 "$ROOT/bench/benchlib.py" nginxlog "$NGX/access.log")
    raw "$1_nginx_records" "$recs"
    [ "$recs" -eq "$ROWS" ] || FAILS+=("$1: nginx counted $recs records, not $ROWS")
    [ "$dups" -eq 0 ] || FAILS+=("$1: nginx got $dups batches twice")
    [ ! -s "$2.rejects.ndjson" ] || FAILS+=("$1: rows rejected (see $2.rejects.ndjson)")
  }
  # send_run NAME FILE GATEWAY_FILE: sluice send, its CPU, RSS and wall
  # time taken by benchlib run (NAME_cpu_s, NAME_max_rss_kib, NAME_wall_s).
  # With --profile, under perf record (cpu-clock; its figures then
  # include perf's own cost), the top of the report in NAME.perf.txt.
  send_run() {
    local name=$1 rc=0 prof=()
    [ "$PROFILE" -eq 0 ] || prof=(perf record -q -e cpu-clock -F 999 -g -o "$RES/$name.perf.data" --)
    log "running: ${prof[*]} sluice send bench ${2##*/} -c ${3##*/}"
    raw "${name}_cmd" "sluice send bench ${2##*/} -c ${3##*/}"
    python3 "$ROOT/bench/benchlib.py" runrss "$RES/$name.stat" "$SEND_TIMEOUT" \
      "${prof[@]}" "$SLUICE_BIN" send bench "$2" -c "$3" </dev/null >"$RES/$name.txt" 2>&1 || rc=$?
    if [ "$PROFILE" -eq 1 ]; then
      perf report -i "$RES/$name.perf.data" --no-children --stdio --percent-limit 1 \
        --sort symbol 2>/dev/null | grep -v '^$' | head -n 60 >"$RES/$name.perf.txt" || true
    fi
    tail -n 4 "$RES/$name.txt" >&2
    raw "${name}_exit" "$rc"
    [ "$rc" -eq 0 ] || FAILS+=("$name: sluice send exited with status $rc (see $RES/$name.txt)")
    sed "s/^/${name}_/" "$RES/$name.stat" >>"$RAW"
  }
  for f in csv ndjson; do
    : >"$NGX/access.log"
    send_run "send_$f" "$IN/rows.$f" "$(gw_file "$f")"
    nginx_check "send_$f" "$IN/rows.$f"
  done

  # A gateway; the NDJSON posted to its intake, 1,000 lines a request,
  # by one curl on one keep-alive connection.
  GW=$(gw_file intake)
  "$SLUICE_BIN" run -c "$GW" >"$SL/sluice.log" 2>&1 &
  SLUICE_PID=$!
  SLUICE_URL=http://127.0.0.1:$SLUICE_PORT
  wait_http "$SLUICE_URL/healthz" "$HEALTH_TIMEOUT" "$SLUICE_PID" || {
    cp "$SL/sluice.log" "$RES/" 2>/dev/null; die "the gateway did not start (log: $RES/sluice.log)"; }
  log "gateway pid $SLUICE_PID on 127.0.0.1:$SLUICE_PORT"
  # gw_drain: wait until the gateway delivered every record it accepted.
  gw_drain() {
    local deadline=$(($(date +%s) + SEND_TIMEOUT)) acc dlv q rej rest
    while :; do
      read -r acc dlv q rej rest < <(curl -sSf --max-time 5 "$SLUICE_URL/v1/connectors/bench" |
        python3 "$ROOT/bench/benchlib.py" stats) || die "cannot read the gateway's GET /v1/connectors/bench"
      [ "$q" -eq 0 ] && [ "$dlv" -ge "$acc" ] && { GW_ACC=$acc GW_REJ=$rej; return 0; }
      alive "$SLUICE_PID" || die "the gateway died while draining"
      [ "$(date +%s)" -lt "$deadline" ] || die "the gateway did not drain in ${SEND_TIMEOUT}s"
      sleep 0.05
    done
  }
  # gw_measured NAME CMD...: CMD (through benchlib run), then the drain;
  # rows/s over both, the gateway's CPU in between and its peak RSS.
  gw_measured() {
    local name=$1 t0 t1 k0 k1 rc=0
    shift
    : >"$NGX/access.log"
    t0=$(now)
    k0=$(cpu_ticks "$SLUICE_PID")
    python3 "$ROOT/bench/benchlib.py" runrss "$RES/$name.stat" "$SEND_TIMEOUT" "$@" \
      </dev/null >"$RES/$name.txt" 2>&1 || rc=$?
    gw_drain
    t1=$(now)
    k1=$(cpu_ticks "$SLUICE_PID")
    raw "${name}_exit" "$rc"
    [ "$rc" -eq 0 ] || FAILS+=("$name: $1 exited with status $rc (see $RES/$name.txt)")
    sed "s/^/${name}_/" "$RES/$name.stat" >>"$RAW"
    raw "${name}_total_s" "$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')"
    raw "${name}_gateway_cpu_s" "$(awk -v a="$k0" -v b="$k1" -v t="$CLK_TCK" 'BEGIN { printf "%.2f", (b - a) / t }')"
    raw "${name}_gateway_rss_kib" "$(proc_kib "$SLUICE_PID" VmHWM)"
  }
  split -l 1000 -a 5 -d "$IN/rows.ndjson" "$IN/chunk."
  first=1
  for c in "$IN"/chunk.*; do
    [ "$first" -eq 1 ] || echo next
    first=0
    # upload-file streams each chunk (data-binary would read all of them
    # into memory while parsing the config); request makes the PUT a POST
    printf 'url = "%s"\nupload-file = "%s"\nrequest = "POST"\nheader = "Content-Type: application/x-ndjson"\nheader = "Expect:"\noutput = "/dev/null"\nwrite-out = "%%{http_code}\\n"\n' \
      "$SLUICE_URL/v1/connectors/bench/records" "$c"
  done >"$IN/curl.cfg"
  log "running: curl -K curl.cfg ($(ls "$IN"/chunk.* | wc -l) POSTs of 1,000 NDJSON lines, one connection)"
  raw intake_ndjson_cmd "curl -sS -K curl.cfg (POST /v1/connectors/bench/records, 1,000 NDJSON lines each, keep-alive)"
  gw_measured intake_ndjson curl -sS -K "$IN/curl.cfg"
  bad=$(grep -vc '^200$' "$RES/intake_ndjson.txt" || true)
  [ "$bad" -eq 0 ] || FAILS+=("intake_ndjson: $bad POSTs not answered 200 (see $RES/intake_ndjson.txt)")
  nginx_check intake_ndjson "$IN/rows.ndjson"

  # sluice send through the running gateway: the CSV once more.
  raw send_remote_cmd "sluice send bench rows.csv -c sluice-intake.lua (gateway running)"
  log "running: sluice send bench rows.csv -c sluice-intake.lua, through the gateway"
  gw_measured send_remote "$SLUICE_BIN" send bench "$IN/rows.csv" -c "$GW"
  tail -n 4 "$RES/send_remote.txt" >&2
  grep -q 'through the gateway' "$RES/send_remote.txt" ||
    FAILS+=("send_remote: sluice send did not say it went through the gateway")
  nginx_check send_remote "$IN/rows.csv"
  [ "$GW_REJ" -eq 0 ] || FAILS+=("the gateway rejected $GW_REJ records")
  cp "$SL/sluice.log" "$RES/" 2>/dev/null || true
  python3 "$ROOT/bench/benchlib.py" sendsummary "$RAW" "$RES/summary.json" | tee "$RES/summary.txt"
  echo "results     $RES"
  if [ ${#FAILS[@]} -gt 0 ]; then
    for f in "${FAILS[@]}"; do log "FAIL: $f"; done
    exit 1
  fi
  exit 0
fi

"${PIN_SL[@]}" "$SLUICE_BIN" run -c "$SL/sluice.lua" >"$SL/sluice.log" 2>&1 &
SLUICE_PID=$!
SLUICE_URL=http://127.0.0.1:$SLUICE_PORT
[ "$TLS_IN" -eq 0 ] || SLUICE_URL=https://127.0.0.1:$SLUICE_PORT
sluice_log() { cp "$SL/sluice.log" "$RES/sluice.log" 2>/dev/null; tail -n 30 "$SL/sluice.log" >&2; }
if ! wait_http "$SLUICE_URL/healthz" "$HEALTH_TIMEOUT" "$SLUICE_PID"; then
  sluice_log
  alive "$SLUICE_PID" || die "sluice exited during startup (log: $RES/sluice.log)"
  die "sluice did not answer GET /healthz within ${HEALTH_TIMEOUT}s (log: $RES/sluice.log)"
fi
log "sluice pid $SLUICE_PID on 127.0.0.1:$SLUICE_PORT"
raw sluice_cpus "$(cpus_of "$SLUICE_PID")"

# get_stats: "accepted delivered queued rejected requests failures retries
# refused dead_lettered spool_bytes pending in_flight" of connector bench.
get_stats() {
  curl -sSf "${CURL_CA[@]}" --max-time 5 "$SLUICE_URL/v1/connectors/bench" |
    python3 "$ROOT/bench/benchlib.py" stats
}

# drain ACC0 DLV0 [DL0]: wait until queued is 0 and every record accepted
# since ACC0/DLV0 was delivered (or dead-lettered), at most DRAIN_TIMEOUT s.
# Sets ACC DLV Q REJ REQS FAILURES RETRIES REFUSED DL SPOOLB PEND INFL.
drain() {
  local acc0=$1 dlv0=$2 dl0=${3:-0} deadline line
  deadline=$(($(date +%s) + DRAIN_TIMEOUT))
  while :; do
    line=$(get_stats) || { sluice_log; die "cannot read GET /v1/connectors/bench"; }
    read -r ACC DLV Q REJ REQS FAILURES RETRIES REFUSED DL SPOOLB PEND INFL <<<"$line"
    [ "$Q" -eq 0 ] && [ $((DLV + DL - dlv0 - dl0)) -ge $((ACC - acc0)) ] && return 0
    alive "$SLUICE_PID" || { sluice_log; die "sluice died while draining the queue"; }
    if [ "$(date +%s)" -ge "$deadline" ]; then
      sluice_log
      die "queue did not drain within ${DRAIN_TIMEOUT}s: accepted +$((ACC - acc0)), delivered +$((DLV - dlv0)), dead-lettered +$((DL - dl0)), queued $Q, pending $PEND, in flight $INFL, spool $SPOOLB bytes"
    fi
    sleep 0.05
  done
}

# Probe: one request by hand, all records accepted and delivered.
probe=$(curl -sS "${CURL_CA[@]}" --max-time 10 -o "$TMP/probe.out" -w '%{http_code}' \
          -H 'Content-Type: application/json' --data-binary @"$BODY" \
          "$SLUICE_URL/v1/connectors/bench/records") || die "probe POST failed"
if [[ $probe != 2?? ]]; then
  head -c 600 "$TMP/probe.out" >&2; echo >&2
  die "probe POST answered HTTP $probe"
fi
log "probe POST: HTTP $probe $(head -c 200 "$TMP/probe.out")"
drain 0 0
[ "$REJ" -eq 0 ] || die "sluice rejected $REJ record(s) of the probe body: $(head -c 600 "$TMP/probe.out")"
[ "$ACC" -ge "$RECORDS" ] || die "probe: only $ACC of $RECORDS records accepted"
log "probe ok: accepted $ACC, delivered $DLV"
if [ "$DURABILITY" != memory ]; then
  # The spool lives in the state dir, inside $TMP (removed on exit).
  SPOOL_DIR=$SL/var/bench/spool
  [ -d "$SPOOL_DIR" ] || SPOOL_DIR=$(find "$SL/var" -type d -name spool 2>/dev/null | head -n 1)
  [ -d "$SPOOL_DIR" ] || die "durability $DURABILITY but no spool dir under $SL/var"
  log "spool dir $SPOOL_DIR ($(df -PT "$SPOOL_DIR" | awk 'NR == 2 { print $2 " on " $1 }'))"
fi

# ------------------------------------------------------------- measured ----
PERF_OK=0
if [ "$PROFILE" -eq 1 ]; then
  PERF_EVENT=()
  if ! command -v perf >/dev/null || ! perf stat -e cpu-clock true >/dev/null 2>&1; then
    log "perf does not work here; running without --profile"
  else
    # In VMs hardware counters are often missing: sample on cpu-clock then.
    perf stat -e instructions true 2>&1 | grep -q 'not supported' && PERF_EVENT=(-e cpu-clock)
    PERF_OK=1
  fi
fi

# sampler: every second, sluice's VmRSS and its connector stats (spool
# bytes, counters) into samples.csv, with the phase bench.sh is in
# ($TMP/phase: load, outage, after, drain).
PHASE_FILE=$TMP/phase
set_phase() { echo "$1" >"$PHASE_FILE.tmp" && mv -f "$PHASE_FILE.tmp" "$PHASE_FILE"; }
sampler() {
  local t0=$1 out=$2 j rss ph t f v row next
  echo "t_s,phase,rss_kib,spool_bytes,accepted,delivered,refused,queued,pending,in_flight,dead_lettered,failures" >"$out"
  next=$(date +%s%N)
  while alive "$SLUICE_PID"; do
    t=$(now)
    rss=$(proc_kib "$SLUICE_PID" VmRSS 2>/dev/null) || rss=""
    j=$(curl -s "${CURL_CA[@]}" --max-time 2 "$SLUICE_URL/v1/connectors/bench" 2>/dev/null) || j=""
    ph=$(cat "$PHASE_FILE" 2>/dev/null) || ph=""
    row="$(awk -v a="$t" -v b="$t0" 'BEGIN { printf "%.2f", a - b }'),$ph,$rss"
    for f in spool_bytes accepted delivered refused queued pending in_flight dead_lettered failures; do
      v=""
      [[ $j =~ \"$f\":([0-9]+) ]] && v=${BASH_REMATCH[1]}
      row+=",$v"
    done
    echo "$row" >>"$out"
    next=$((next + 1000000000))
    v=$(( (next - $(date +%s%N)) / 1000000 ))
    [ "$v" -gt 0 ] && sleep "$(printf '%d.%03d' $((v / 1000)) $((v % 1000)))"
  done
}

line=$(get_stats) || die "cannot read GET /v1/connectors/bench"
read -r ACC0 DLV0 _ _ REQS0 FAILURES0 RETRIES0 REFUSED0 DL0 _ <<<"$line"
raw dead_lettered_before "$DL0"
raw accepted_before "$ACC0"
raw delivered_before "$DLV0"
raw requests_before "$REQS0"
raw failures_before "$FAILURES0"
raw retries_before "$RETRIES0"
raw refused_before "$REFUSED0"
NREQ0=$(nginx_requests)
raw sluice_ticks_before "$(cpu_ticks "$SLUICE_PID")"
raw sluice_threads_before "$(thread_ticks "$SLUICE_PID")"
raw nginx_ticks_before "$(cpu_ticks "$NGINX_PID" "${NGINX_WORKERS[@]}")"
raw_sys before
T_WRK_START=$(now)
raw t_wrk_start "$T_WRK_START"
set_phase load
sampler "$T_WRK_START" "$RES/samples.csv" &
SAMPLER_PID=$!
raw samples_csv "$RES/samples.csv"
# Group commit at work: fdatasync/fsync calls of sluice (all threads)
# during the wrk run, counted by perf on the syscall tracepoints (no
# sampling; a few hundred events per second cost nothing measurable).
if [ "$PROFILE" -eq 0 ] && command -v perf >/dev/null &&
   perf stat -e syscalls:sys_enter_fdatasync true >/dev/null 2>&1; then
  perf stat -x, -e syscalls:sys_enter_fdatasync,syscalls:sys_enter_fsync \
    -p "$SLUICE_PID" -o "$RES/syncs.csv" -- sleep "$DURATION" >/dev/null 2>&1 &
  SYNC_PID=$!
fi
if [ "$PERF_OK" -eq 1 ]; then
  perf record "${PERF_EVENT[@]}" -g -p "$SLUICE_PID" -o "$RES/perf.data" \
    -- sleep "$DURATION" >"$RES/perf-record.log" 2>&1 &
  PERF_PID=$!
fi
# sleep_until T: sleep until the epoch time T (fractional), watching sluice.
sleep_until() {
  while awk -v a="$(now)" -v b="$1" 'BEGIN { exit !(a < b) }'; do
    alive "$SLUICE_PID" || { sluice_log; die "sluice died during the wrk run"; }
    sleep 0.2
  done
}

NGINX_TICKS_OFFSET=0
if [ "$SOAK" -eq 1 ]; then
  set_phase soak
  SOAK_DIR=$RES/soak
  mkdir -p "$SOAK_DIR"
  WRK_CMD="bench/soak.py run --duration $DURATION (HTTP, TCP, TCP with ack; 127.0.0.1)"
  raw wrk_cmd "$WRK_CMD"
  log "running: $WRK_CMD"
  python3 "$ROOT/bench/benchlib.py" run "$RES/wrk.cpu" $((DURATION + 120)) \
    "${PIN_LD[@]}" python3 "$ROOT/bench/soak.py" run --out "$SOAK_DIR" --duration "$DURATION" \
      --http "$SLUICE_URL/v1/connectors/bench/records" --tcp "127.0.0.1:$TCP_PORT" \
      --tcp-ack "127.0.0.1:$TCP_ACK_PORT" --max-line-bytes "$SOAK_MAX_LINE" \
      --max-body-bytes "$SOAK_MAX_BODY" --idle-timeout "$SOAK_IDLE_S" \
      --body "$BODY" >"$RES/soak.txt" 2>&1 &
  WRK_PID=$!
  while alive "$WRK_PID"; do
    alive "$SLUICE_PID" || { sluice_log; FAILS+=("sluice died during the soak"); break; }
    sleep 0.5
  done
  rc=0
  wait "$WRK_PID" || rc=$?
  WRK_PID=""
  cat "$RES/soak.txt" >&2
  [ "$rc" -eq 0 ] || FAILS+=("soak.py run exited with status $rc")
  raw wrk_cpu_s "$(sed -n 's/^cpu_s=//p' "$RES/wrk.cpu")"
  if ! alive "$SLUICE_PID"; then
    cp "$SL/sluice.log" "$RES/sluice.log" 2>/dev/null
    tail -n 60 "$SL/sluice.log" >"$RES/sluice-log-tail.txt" 2>/dev/null
    for f in "${FAILS[@]}"; do log "FAIL: $f"; done
    die "sluice is not alive after the soak (log tail: $RES/sluice-log-tail.txt)"
  fi
else
start_load "$SLUICE_URL/v1/connectors/bench/records"
if [ "$OUTAGE" -gt 0 ]; then
  raw outage_s "$OUTAGE"
  sleep_until "$(awk -v a="$T_WRK_START" -v b="$OUTAGE_AT" 'BEGIN { printf "%.3f", a + b }')"
  alive "$WRK_PID" || die "wrk ended before the outage"
  t=$(cpu_ticks "$NGINX_PID" "${NGINX_WORKERS[@]}")
  set_phase outage
  T_OUT=$(now)
  raw t_outage_start "$T_OUT"
  log "outage: stopping nginx (pid $NGINX_PID) for ${OUTAGE}s"
  stop_nginx
  NGINX_TICKS_OFFSET=$((NGINX_TICKS_OFFSET + t))
  sleep_until "$(awk -v a="$T_OUT" -v b="$OUTAGE" 'BEGIN { printf "%.3f", a + b }')"
  start_nginx
  T_BACK=$(now)
  raw t_outage_end "$T_BACK"
  set_phase after
  NGINX_TICKS_OFFSET=$((NGINX_TICKS_OFFSET - $(cpu_ticks "$NGINX_PID" "${NGINX_WORKERS[@]}")))
  log "outage: nginx back after $(awk -v a="$T_BACK" -v b="$T_OUT" 'BEGIN { printf "%.1f", a - b }')s; $(get_stats | awk '{ print "accepted " $1 ", delivered " $2 ", refused " $8 ", spool " $10 " bytes" }')"
fi
finish_load
fi
raw t_wrk_end "$(now)"
raw sluice_threads_load_end "$(thread_ticks "$SLUICE_PID")"
if [ -n "$SYNC_PID" ]; then
  wait "$SYNC_PID" 2>/dev/null || true
  SYNC_PID=""
  raw fdatasyncs "$(awk -F, '$3 ~ /sys_enter_fdatasync/ { print $1 }' "$RES/syncs.csv" 2>/dev/null)"
  raw fsyncs "$(awk -F, '$3 ~ /sys_enter_fsync$/ { print $1 }' "$RES/syncs.csv" 2>/dev/null)"
  raw sync_window_s "$DURATION"
fi
set_phase drain
alive "$SLUICE_PID" || { sluice_log; die "sluice died during the wrk run"; }

drain "$ACC0" "$DLV0" "$DL0"
raw t_drained "$(now)"
sleep 1.1   # one more sample after the drain
stop_pid "$SAMPLER_PID"
SAMPLER_PID=""
raw_sys after
raw sluice_ticks_after "$(cpu_ticks "$SLUICE_PID")"
raw sluice_threads_after "$(thread_ticks "$SLUICE_PID")"
raw nginx_ticks_after $(($(cpu_ticks "$NGINX_PID" "${NGINX_WORKERS[@]}") + NGINX_TICKS_OFFSET))
raw sluice_hwm_kib "$(proc_kib "$SLUICE_PID" VmHWM)"
raw sluice_rss_kib "$(proc_kib "$SLUICE_PID" VmRSS)"
raw accepted_after "$ACC"
raw delivered_after "$DLV"
raw queued_after "$Q"
raw rejected_after "$REJ"
raw requests_after "$REQS"
raw failures_after "$FAILURES"
raw retries_after "$RETRIES"
raw refused_after "$REFUSED"
raw dead_lettered_after "$DL"
raw spool_bytes_stat_after "$SPOOLB"
raw spool_bytes "$(du -sb "$SL/var" | awk '{ print $1 }')"
NREQ1=$(nginx_requests)
if [ "$OUTAGE" -eq 0 ]; then
  raw nginx_batches $((NREQ1 - NREQ0 - 1))   # minus the status request itself
fi
# Records that reached nginx, from its access log (every line is written
# when the request ends; the log is not buffered).
read -r NGX_RECORDS NGX_BATCHES NGX_DUPS NGX_NON2XX _ < <(python3 "$ROOT/bench/benchlib.py" nginxlog "$NGX/access.log") ||
  die "cannot read nginx's access log"
raw nginx_records "$NGX_RECORDS"
raw nginx_batches_keyed "$NGX_BATCHES"
raw nginx_duplicates "$NGX_DUPS"
raw nginx_non2xx "$NGX_NON2XX"
[ "$OUTAGE" -eq 0 ] || raw nginx_batches "$NGX_BATCHES"
gzip -c "$NGX/access.log" >"$RES/nginx-access.log.gz" 2>/dev/null || true

if [ "$PERF_OK" -eq 1 ]; then
  stop_pid "$PERF_PID" INT   # normally already done: it records for DURATION s
  PERF_PID=""
  if timeout 300 perf report -i "$RES/perf.data" --stdio --no-children \
       >"$RES/perf-report-full.txt" 2>"$RES/perf-report.log"; then
    head -n 60 "$RES/perf-report-full.txt" >"$RES/perf-report.txt"
    # The same samples without call chains: the hottest symbols at a glance.
    timeout 300 perf report -i "$RES/perf.data" --stdio --no-children -g none \
      --percent-limit 0.5 2>/dev/null | grep -v '^#' | grep -v '^$' | head -n 40 \
      >"$RES/perf-report-flat.txt" || true
    log "profile: $RES/perf-report.txt (call graphs), $RES/perf-report-flat.txt (flat)"
    log "figures of a profiled run are perturbed by perf; quote unprofiled runs"
  else
    FAILS+=("perf report failed (see $RES/perf-report.log)")
  fi
fi

cp "$SL/sluice.log" "$RES/sluice.log" 2>/dev/null || true
alive "$SLUICE_PID" || FAILS+=("sluice died")
if [ "$SOAK" -eq 1 ]; then
  # Record by record: what arrived at nginx against what the soak sent.
  raw ok "$([ ${#FAILS[@]} -eq 0 ] && echo 1 || echo 0)"
  find "$SL/var" -name 'rejects.ndjson*' -exec cp {} "$RES/" \; 2>/dev/null || true
  grep -a -E '"level":"(warn|error|fatal)"' "$SL/sluice.log" |
    sed -E 's/"ts":"[^"]*",//; s/[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+:[0-9]+/<peer>/g; s/[0-9]+/N/g' |
    sort | uniq -c | sort -rn | head -n 30 >"$RES/sluice-warnings.txt" 2>/dev/null || true
  rc=0
  python3 "$ROOT/bench/soak.py" check --out "$SOAK_DIR" --nginx-log "$NGX/access.log" \
    --raw "$RAW" --samples "$RES/samples.csv" --summary "$RES/summary.json" | tee "$RES/summary.txt" || rc=$?
  [ "$rc" -eq 0 ] || FAILS+=("soak check failed (see $RES/summary.txt)")
  [ "$ACC" -eq $((DLV + DL)) ] || FAILS+=("accepted $ACC != delivered $DLV + dead-lettered $DL")
  echo "results     $RES"
  for f in "${FAILS[@]}"; do log "FAIL: $f"; done
  [ ${#FAILS[@]} -eq 0 ] || exit 1
  exit 0
fi
[ "$REJ" -eq 0 ] || FAILS+=("sluice rejected $REJ record(s)")
# With an outage, 503s (spool full) are the expected back-pressure.
[ "$OUTAGE" -gt 0 ] || [ "$REFUSED" -eq 0 ] || FAILS+=("sluice refused $REFUSED record(s): queue full (HTTP 503)")
[ $((ACC - ACC0)) -gt 0 ] || FAILS+=("sluice accepted no record during the run")
[ "$ACC" -eq $((DLV + DL)) ] || FAILS+=("accepted $ACC != delivered $DLV + dead-lettered $DL (totals since start)")
[ "$DL" -eq 0 ] || FAILS+=("$DL record(s) dead-lettered (expected none)")
[ "$NGX_RECORDS" -eq "$DLV" ] || FAILS+=("nginx received $NGX_RECORDS distinct records, sluice counts $DLV delivered")
if [ "$RESPONSE_FN" -eq 1 ]; then
  # Every answer says every item is 201: a retry or a failed attempt is
  # response_fn refusing an answer (see sluice.log).
  [ "$RETRIES" -eq 0 ] || FAILS+=("--response-fn: $RETRIES retries (response_fn errors? see $RES/sluice.log)")
  [ "$FAILURES" -eq 0 ] || FAILS+=("--response-fn: $FAILURES failed attempts (see $RES/sluice.log)")
fi
if [ "$TCP" -eq 1 ]; then
  read -r TCP_RECS e < <(python3 -c 'import json,sys
for l in open(sys.argv[1]):
    if l.startswith("TCP_JSON "):
        j = json.loads(l[9:]); print(j["records"], sum(j["errors"].values()))' "$RAW")
  [ "$e" -eq 0 ] || FAILS+=("tcp_send reported $e errors (see $RES/tcp_send.txt)")
  [ $((ACC - ACC0)) -eq "$TCP_RECS" ] || FAILS+=("the senders wrote $TCP_RECS records, sluice accepted $((ACC - ACC0))")
  if [ "$ACK" -eq 1 ]; then
    read -r A_OK A_ERR A_UNEXP A_MISS < <(python3 -c 'import json,sys
for l in open(sys.argv[1]):
    if l.startswith("TCP_JSON "):
        a = json.loads(l[9:]).get("ack") or {}
        print(a.get("ok", 0), a.get("error", -1), a.get("unexpected", -1), a.get("missing", -1))' "$RAW")
    [ "$A_OK" -eq "$TCP_RECS" ] || FAILS+=("--ack: $A_OK of $TCP_RECS lines answered ok")
    [ "$A_MISS" -eq 0 ] || FAILS+=("--ack: $A_MISS lines without an answer")
    [ "$A_ERR" -eq 0 ] || FAILS+=("--ack: $A_ERR error answers (first in $RES/tcp_send.txt)")
    [ "$A_UNEXP" -eq 0 ] || FAILS+=("--ack: $A_UNEXP answers neither ok nor error, or past the lines sent")
  fi
else
  if [ "$OUTAGE" -gt 0 ]; then e=$(wrk_errors status); else e=$(wrk_errors); fi
  [ "$e" -eq 0 ] || FAILS+=("wrk reported $e errors (see $RES/wrk.txt)")
fi
if [ ${#FAILS[@]} -eq 0 ]; then finish ok; else finish failed; fi
