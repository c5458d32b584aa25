#!/usr/bin/env bash
# bench/callgrind.sh: instructions per record of one of sluice's intakes
# (memory mode, the bench connector and records of scripts/bench.sh),
# counted by callgrind, which other load on the box does not disturb.
#
#   bench/callgrind.sh tcp  [BUILD_DIR (default build-bench)] [N1 N2]
#   bench/callgrind.sh http [BUILD_DIR (default build-bench)] [N1 N2]
#   bench/callgrind.sh transform [BUILD_DIR] [N1 N2]
#   bench/callgrind.sh signature [BUILD_DIR] [N1 N2]
#   ... [--workers N]   (anywhere: the gateway file gets workers = N)
#
# Runs sluice under valgrind --tool=callgrind twice, with `sluice sink` as
# the destination, each run ending with SIGTERM once everything is
# delivered:
#   tcp   bench/tcp_send (4 connections) writes N1 and then N2 records
#         (default 100000 and 300000) of NDJSON into a TCP listener;
#   http  one kept-alive client posts N1 and then N2 requests (default 100
#         and 300) of 100 records each;
#   transform  the same with benchlib.py's small Lua transform (rename a
#         field, uppercase a string, add a field) on every record;
#   signature  the same with a headers_fn signing each batch's body
#         (HMAC-SHA256).
# Startup and shutdown cost the same in both runs, so the difference over
# the difference in records is the whole per-record cost: reading,
# checking, encoding, spooling and delivering. Keeps both callgrind.out
# files (and an annotation of the larger run) in BUILD_DIR/callgrind-MODE/.
# CONNECTOR_EXTRA="templates" (or "gzip:6", as benchlib.py connector takes
# them) gives the bench connector a batch and a record template.
# --workers N writes `workers = N` (the threads that check records) into
# the gateway file; the total counts every thread's instructions, and the
# script stops at once if the binary does not know the key.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
WORKERS=""
ARGS=()
while [ $# -gt 0 ]; do
  case $1 in
    --workers) [ $# -ge 2 ] || { echo "--workers needs a value" >&2; exit 2; }; WORKERS=$2; shift 2 ;;
    --workers=*) WORKERS=${1#*=}; shift ;;
    *) ARGS+=("$1"); shift ;;
  esac
done
set -- "${ARGS[@]}"
[ -z "$WORKERS" ] || [[ $WORKERS =~ ^[0-9]{1,4}$ ]] || { echo "--workers must be a number (got '$WORKERS')" >&2; exit 2; }
MODE=${1:-}
case $MODE in
  tcp) N1=${3:-100000} N2=${4:-300000} PER=1 ;;
  http) N1=${3:-100} N2=${4:-300} PER=100 ;;
  transform|signature)
    N1=${3:-100} N2=${4:-300} PER=100
    CONNECTOR_EXTRA="${CONNECTOR_EXTRA:-} $MODE" ;;
  *) echo "usage: bench/callgrind.sh tcp|http|transform|signature [BUILD_DIR] [N1 N2] [--workers N]" >&2; exit 2 ;;
esac
LOAD=$MODE
[ "$MODE" = tcp ] || LOAD=http
BUILD=${2:-build-bench}
case $BUILD in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
SLUICE=$BUILD/sluice
[ -x "$SLUICE" ] || { echo "no $SLUICE: build first" >&2; exit 1; }
GW_WORKERS=""
if [ -n "$WORKERS" ]; then
  keys=$("$SLUICE" keys 2>/dev/null) || keys=""
  # shellcheck disable=SC2016  # backquotes of the Markdown table, not a command
  grep -q '^| `workers` |' <<<"$keys" ||
    { echo "--workers: $SLUICE has no gateway key workers (see \`sluice keys\`)" >&2; exit 1; }
  GW_WORKERS="workers = $WORKERS,"
fi
OUT=$BUILD/callgrind-$MODE${WORKERS:+-w$WORKERS}
mkdir -p "$OUT"

TMP=$(mktemp -d /tmp/sluice-cg.XXXXXX)
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$TMP"
}
trap cleanup EXIT

if [ "$MODE" = tcp ]; then
  TCP_SEND=$BUILD/tcp_send
  cc -O2 -g -Wall -Wextra -pthread -o "$TCP_SEND" "$ROOT/bench/tcp_send.c"
  python3 "$ROOT/bench/gen_records.py" --count 1000 --ndjson >"$TMP/records.ndjson"
else
  python3 "$ROOT/bench/gen_records.py" --count 100 >"$TMP/body.json"
fi

# load N: send N records (tcp) or N requests (http) to the running sluice
load_tcp() {
  "$TCP_SEND" 127.0.0.1 "$tcp_port" "$TMP/records.ndjson" 4 3600 "$1" \
    >"$OUT/tcp_send-$1.txt"
}
load_http() {
  python3 - "$http_port" "$TMP/body.json" "$1" <<'EOF'
import http.client, sys
port, path, n = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
body = open(path, "rb").read()
c = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
for _ in range(n):
    c.request("POST", "/v1/connectors/bench/records", body=body,
              headers={"Content-Type": "application/json"})
    r = c.getresponse(); r.read()
    assert r.status == 200, r.status
EOF
}

run_one() { # N -> prints Ir
  local n=$1 sink_port tcp_listener=""
  read -r sink_port http_port tcp_port _ < <(python3 "$ROOT/bench/benchlib.py" ports 4)
  [ "$MODE" = tcp ] && tcp_listener="tcp = { { listen = \"127.0.0.1:$tcp_port\", connector = \"bench\", allow = { \"127.0.0.1/32\" } } },"
  rm -rf "$TMP/var" "$TMP/connectors"
  mkdir -p "$TMP/var" "$TMP/connectors"
  cat >"$TMP/sluice.lua" <<EOF
return {
  listen = "127.0.0.1:$http_port",
  state_dir = "$TMP/var",
  connectors = { "connectors/*.lua" },
  $tcp_listener
  $GW_WORKERS
}
EOF
  # shellcheck disable=SC2086  # CONNECTOR_EXTRA: words, split on purpose
  python3 "$ROOT/bench/benchlib.py" connector \
    "http://127.0.0.1:$sink_port/ingest" memory ${CONNECTOR_EXTRA:-} \
    >"$TMP/connectors/bench.lua"
  "$SLUICE" sink --listen "127.0.0.1:$sink_port" >/dev/null 2>&1 &
  local sink=$!
  PIDS+=("$sink")
  valgrind --tool=callgrind --callgrind-out-file="$OUT/callgrind.out.$n" \
    "$SLUICE" run -c "$TMP/sluice.lua" >"$OUT/sluice-$n.log" 2>&1 &
  local sl=$!
  PIDS+=("$sl")
  for _ in $(seq 300); do
    curl -fsS "http://127.0.0.1:$http_port/healthz" >/dev/null 2>&1 && break
    sleep 0.2
  done
  "load_$LOAD" "$n"
  local records=$((n * PER))
  for _ in $(seq 600); do
    local st
    st=$(curl -fsS "http://127.0.0.1:$http_port/v1/connectors/bench" || true)
    python3 -c 'import json,sys; s=json.loads(sys.argv[1])["stats"]; sys.exit(0 if s["delivered"]>=int(sys.argv[2]) and s["queued"]==0 and s["pending"]==0 else 1)' \
      "$st" "$records" 2>/dev/null && break
    sleep 0.5
  done
  kill -TERM "$sl"
  wait "$sl" || true
  kill -TERM "$sink"
  wait "$sink" 2>/dev/null || true
  grep -E '^(summary|totals):' "$OUT/callgrind.out.$n" | head -1 | awk '{print $2}'
}

ir1=$(run_one "$N1")
ir2=$(run_one "$N2")
callgrind_annotate "$OUT/callgrind.out.$N2" 2>/dev/null | head -60 >"$OUT/annotate-$N2.txt" || true
python3 - "$N1" "$ir1" "$N2" "$ir2" "$PER" <<'EOF'
import sys
n1, i1, n2, i2, per = (int(x) for x in sys.argv[1:])
unit = "records" if per == 1 else "requests"
print(f"Ir({n1} {unit}) = {i1:,}  Ir({n2} {unit}) = {i2:,}")
if per > 1:
    print(f"instructions per request: {(i2 - i1) / (n2 - n1):,.0f}")
print(f"instructions per record: {(i2 - i1) / ((n2 - n1) * per):,.1f}")
EOF
echo "annotated: $OUT/annotate-$N2.txt"
