#!/usr/bin/env bash
# scripts/bench.sh: end-to-end throughput of sluice on this machine.
#
#   wrk --POST JSON arrays--> sluice (intake, schema check, spool)
#       --batches of <= 1000 records--> nginx (answers 200 "ok")
#
# usage: scripts/bench.sh [--duration 20] [--connections 32] [--threads 1]
#                         [--build-dir build-bench] [--records 100]
#                         [--profile] [--baseline] [--no-build] [--keep]
#
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
# started here is stopped on exit. Results (summary.txt, summary.json,
# wrk.txt, logs, perf report) go to DIR/bench-results/<UTC time>/.
# Exit status is non-zero when anything failed: build, startup, sluice
# died, a record was rejected, nothing was accepted, wrk saw errors, or the
# queue did not drain within 30 s.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

DURATION=20
CONNECTIONS=32
THREADS=1
BUILD_DIR=build-bench
RECORDS=100
PROFILE=0
BASELINE=0
BUILD=1
KEEP=0
DRAIN_TIMEOUT=30      # s, after wrk ends, for the queue to reach 0
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
    --duration=*)    DURATION=${1#*=}; shift ;;
    --connections=*) CONNECTIONS=${1#*=}; shift ;;
    --threads=*)     THREADS=${1#*=}; shift ;;
    --build-dir=*)   BUILD_DIR=${1#*=}; shift ;;
    --records=*)     RECORDS=${1#*=}; shift ;;
    --profile)  PROFILE=1; shift ;;
    --baseline) BASELINE=1; shift ;;
    --no-build) BUILD=0; shift ;;
    --keep)     KEEP=1; shift ;;
    -h|--help)  usage; exit 0 ;;
    *) usage >&2; die "unknown argument: $1" ;;
  esac
done
for v in DURATION CONNECTIONS THREADS RECORDS; do
  [[ ${!v} =~ ^[1-9][0-9]{0,6}$ ]] || die "--${v,,} must be a positive integer (got '${!v}')"
done
[ "$THREADS" -le "$CONNECTIONS" ] || die "--threads ($THREADS) must not exceed --connections ($CONNECTIONS)"
[[ $BUILD_DIR = /* ]] || BUILD_DIR=$ROOT/$BUILD_DIR
[ "$BASELINE" -eq 1 ] && [ "$PROFILE" -eq 1 ] && die "--profile profiles sluice; it makes no sense with --baseline"

# ---------------------------------------------------------------- state ----
NGINX=/usr/sbin/nginx
TMP=""
NGINX_PID="" SLUICE_PID="" WRK_PID="" PERF_PID=""
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
    curl -sf -o /dev/null --max-time 1 "$url" && return 0
    alive "$pid" || return 1
    sleep 0.1
  done
  return 1
}

raw() { printf '%s=%s\n' "$1" "$2" >>"$RAW"; }

# ----------------------------------------------------------------- deps ----
log "installing dependencies (scripts/install-deps.sh --bench)"
"$ROOT/scripts/install-deps.sh" --bench
for c in wrk curl python3 cmake awk; do
  command -v "$c" >/dev/null || die "$c not found after install-deps"
done
[ -x "$NGINX" ] || die "$NGINX not found after install-deps"

STAMP=$(date -u +%Y%m%dT%H%M%SZ)
RES=$BUILD_DIR/bench-results/$STAMP
[ "$BASELINE" -eq 1 ] && RES=$RES-baseline
mkdir -p "$RES"
RAW=$RES/raw.txt
: >"$RAW"
TMP=$(mktemp -d "${TMPDIR:-/tmp}/sluice-bench.XXXXXX")
chmod 755 "$TMP"   # nginx workers run as nobody when started as root

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

BODY=$TMP/body.json
python3 "$ROOT/bench/gen_records.py" --count "$RECORDS" >"$BODY"
BODY_BYTES=$(stat -c %s "$BODY")
raw body_bytes "$BODY_BYTES"
cp "$BODY" "$RES/body.json"
log "request body: $RECORDS records, $BODY_BYTES bytes"

read -r NGINX_PORT SLUICE_PORT < <(python3 "$ROOT/bench/benchlib.py" ports 2)
[ -n "$SLUICE_PORT" ] || die "could not pick free ports"

# ---------------------------------------------------------------- nginx ----
NGX=$TMP/nginx
mkdir -p "$NGX"
sed -e "s|@DIR@|$NGX|g" -e "s|@PORT@|$NGINX_PORT|g" \
  "$ROOT/bench/nginx.conf.in" >"$NGX/nginx.conf"
"$NGINX" -t -q -p "$NGX/" -c "$NGX/nginx.conf" -e "$NGX/error.log" ||
  die "nginx rejects $NGX/nginx.conf"
"$NGINX" -p "$NGX/" -c "$NGX/nginx.conf" -e "$NGX/error.log" >"$NGX/stdout.log" 2>&1 &
NGINX_PID=$!
NGINX_URL=http://127.0.0.1:$NGINX_PORT
if ! wait_http "$NGINX_URL/nginx_status" 10 "$NGINX_PID"; then
  cat "$NGX/error.log" "$NGX/stdout.log" >&2 2>/dev/null || true
  die "nginx did not start on 127.0.0.1:$NGINX_PORT"
fi
read -r -a NGINX_WORKERS <<<"$(child_pids "$NGINX_PID" | tr '\n' ' ')"
[ ${#NGINX_WORKERS[@]} -gt 0 ] || die "nginx has no worker process"
log "nginx pid $NGINX_PID (workers: ${NGINX_WORKERS[*]}) on 127.0.0.1:$NGINX_PORT"

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

nginx_requests() {
  curl -sSf --max-time 5 "$NGINX_URL/nginx_status" | awk 'NR == 3 { print $3 }'
}

# ------------------------------------------------------------------ wrk ----
# run_wrk URL: runs wrk in the background through benchlib (which records
# wrk's own CPU time), waits for it, bounded by DURATION + 30 s.
run_wrk() {
  local url=$1 rc=0
  WRK_CMD="BENCH_BODY=body.json wrk -t$THREADS -c$CONNECTIONS -d${DURATION}s --latency -s bench/post.lua $url"
  raw wrk_cmd "$WRK_CMD"
  log "running: $WRK_CMD"
  BENCH_BODY=$BODY python3 "$ROOT/bench/benchlib.py" run "$RES/wrk.cpu" $((DURATION + 30)) \
    wrk "-t$THREADS" "-c$CONNECTIONS" "-d${DURATION}s" --latency \
    -s "$ROOT/bench/post.lua" "$url" >"$RES/wrk.txt" 2>&1 &
  WRK_PID=$!
  wait "$WRK_PID" || rc=$?
  WRK_PID=""
  sed '/^WRK_JSON /d' "$RES/wrk.txt" >&2
  [ "$rc" -eq 0 ] || die "wrk exited with status $rc"
  grep '^WRK_JSON ' "$RES/wrk.txt" >>"$RAW" || die "wrk printed no WRK_JSON line"
  raw wrk_cpu_s "$(sed -n 's/^cpu_s=//p' "$RES/wrk.cpu")"
}

# wrk_errors: total of wrk's error counters (from the WRK_JSON line).
wrk_errors() {
  python3 -c 'import json,sys
for l in open(sys.argv[1]):
    if l.startswith("WRK_JSON "):
        print(sum(json.loads(l[9:])["errors"].values()))' "$RAW"
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
cat >"$SL/sluice.lua" <<EOF
return {
  listen = "127.0.0.1:$SLUICE_PORT",
  state_dir = "$SL/var",
  connectors = { "connectors/*.lua" },
}
EOF
cat >"$SL/connectors/bench.lua" <<EOF
return {
  name = "bench",
  schema = {
    { name = "id",         type = "integer" },
    { name = "email",      type = "string" },
    { name = "name",       type = "string" },
    { name = "amount",     type = "number", nullable = true },
    { name = "active",     type = "boolean" },
    { name = "created_at", type = "datetime" },
  },
  url = "http://127.0.0.1:$NGINX_PORT/ingest",
  method = "POST",
  body = "array",
  batch = { max_records = 1000, max_bytes = 1048576, max_delay_ms = 50 },
  concurrency = 4,
}
EOF
cp "$SL/sluice.lua" "$SL/connectors/bench.lua" "$RES/"
raw state_fs "$(df -PT "$SL/var" | awk 'NR == 2 { print $2 " (" $1 ")" }')"

"$SLUICE_BIN" run -c "$SL/sluice.lua" >"$SL/sluice.log" 2>&1 &
SLUICE_PID=$!
SLUICE_URL=http://127.0.0.1:$SLUICE_PORT
sluice_log() { cp "$SL/sluice.log" "$RES/sluice.log" 2>/dev/null; tail -n 30 "$SL/sluice.log" >&2; }
if ! wait_http "$SLUICE_URL/healthz" "$HEALTH_TIMEOUT" "$SLUICE_PID"; then
  sluice_log
  alive "$SLUICE_PID" || die "sluice exited during startup (log: $RES/sluice.log)"
  die "sluice did not answer GET /healthz within ${HEALTH_TIMEOUT}s (log: $RES/sluice.log)"
fi
log "sluice pid $SLUICE_PID on 127.0.0.1:$SLUICE_PORT"

# get_stats: "accepted delivered queued rejected requests failures retries
# refused" of connector bench.
get_stats() {
  curl -sSf --max-time 5 "$SLUICE_URL/v1/connectors/bench" |
    python3 "$ROOT/bench/benchlib.py" stats
}

# drain ACC0 DLV0: wait until queued is 0 and every record accepted since
# ACC0/DLV0 was delivered, at most DRAIN_TIMEOUT s. Sets ACC DLV Q REJ REQS
# FAILURES RETRIES REFUSED.
drain() {
  local acc0=$1 dlv0=$2 deadline line
  deadline=$(($(date +%s) + DRAIN_TIMEOUT))
  while :; do
    line=$(get_stats) || { sluice_log; die "cannot read GET /v1/connectors/bench"; }
    read -r ACC DLV Q REJ REQS FAILURES RETRIES REFUSED <<<"$line"
    [ "$Q" -eq 0 ] && [ $((DLV - dlv0)) -ge $((ACC - acc0)) ] && return 0
    alive "$SLUICE_PID" || { sluice_log; die "sluice died while draining the queue"; }
    if [ "$(date +%s)" -ge "$deadline" ]; then
      sluice_log
      die "queue did not drain within ${DRAIN_TIMEOUT}s: accepted +$((ACC - acc0)), delivered +$((DLV - dlv0)), queued $Q"
    fi
    sleep 0.05
  done
}

# Probe: one request by hand, all records accepted and delivered.
probe=$(curl -sS --max-time 10 -o "$TMP/probe.out" -w '%{http_code}' \
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

line=$(get_stats) || die "cannot read GET /v1/connectors/bench"
read -r ACC0 DLV0 _ _ REQS0 FAILURES0 RETRIES0 REFUSED0 <<<"$line"
raw accepted_before "$ACC0"
raw delivered_before "$DLV0"
raw requests_before "$REQS0"
raw failures_before "$FAILURES0"
raw retries_before "$RETRIES0"
raw refused_before "$REFUSED0"
NREQ0=$(nginx_requests)
raw sluice_ticks_before "$(cpu_ticks "$SLUICE_PID")"
raw nginx_ticks_before "$(cpu_ticks "$NGINX_PID" "${NGINX_WORKERS[@]}")"
raw_sys before
raw t_wrk_start "$(now)"
if [ "$PERF_OK" -eq 1 ]; then
  perf record "${PERF_EVENT[@]}" -g -p "$SLUICE_PID" -o "$RES/perf.data" \
    -- sleep "$DURATION" >"$RES/perf-record.log" 2>&1 &
  PERF_PID=$!
fi
run_wrk "$SLUICE_URL/v1/connectors/bench/records"
raw t_wrk_end "$(now)"
alive "$SLUICE_PID" || { sluice_log; die "sluice died during the wrk run"; }

drain "$ACC0" "$DLV0"
raw t_drained "$(now)"
raw_sys after
raw sluice_ticks_after "$(cpu_ticks "$SLUICE_PID")"
raw nginx_ticks_after "$(cpu_ticks "$NGINX_PID" "${NGINX_WORKERS[@]}")"
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
raw spool_bytes "$(du -sb "$SL/var" | awk '{ print $1 }')"
NREQ1=$(nginx_requests)
raw nginx_batches $((NREQ1 - NREQ0 - 1))   # minus the status request itself

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
[ "$REJ" -eq 0 ] || FAILS+=("sluice rejected $REJ record(s)")
[ "$REFUSED" -eq 0 ] || FAILS+=("sluice refused $REFUSED record(s): queue full (HTTP 503)")
[ $((ACC - ACC0)) -gt 0 ] || FAILS+=("sluice accepted no record during the run")
[ $((DLV - DLV0)) -ge $((ACC - ACC0)) ] || FAILS+=("delivered $((DLV - DLV0)) < accepted $((ACC - ACC0))")
e=$(wrk_errors)
[ "$e" -eq 0 ] || FAILS+=("wrk reported $e errors (see $RES/wrk.txt)")
if [ ${#FAILS[@]} -eq 0 ]; then finish ok; else finish failed; fi
