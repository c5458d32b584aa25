#!/usr/bin/env bash
# bench/callgrind_tcp.sh: instructions per record of sluice's TCP intake
# (memory mode, the bench connector and records of scripts/bench.sh --tcp),
# counted by callgrind, which other load on the box does not disturb.
#
#   bench/callgrind_tcp.sh [BUILD_DIR (default build-bench)] [N1 N2]
#
# Runs sluice under valgrind --tool=callgrind twice, with `sluice sink` as
# the destination and bench/tcp_send (4 connections) writing N1 and then N2
# records (default 100000 and 300000), each run ending with SIGTERM once
# everything is delivered. Startup and shutdown cost the same in both, so
#   (Ir(N2) - Ir(N1)) / (N2 - N1)
# is the whole per-record cost: reading, checking, encoding, spooling and
# delivering. Prints it, and keeps both callgrind.out files (and a
# callgrind_annotate of the N2 run) in BUILD_DIR/callgrind-tcp/.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${1:-build-bench}
N1=${2:-100000}
N2=${3:-300000}
case $BUILD in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
SLUICE=$BUILD/sluice
[ -x "$SLUICE" ] || { echo "no $SLUICE: build first" >&2; exit 1; }
OUT=$BUILD/callgrind-tcp
mkdir -p "$OUT"
TCP_SEND=$BUILD/tcp_send
cc -O2 -g -Wall -Wextra -pthread -o "$TCP_SEND" "$ROOT/bench/tcp_send.c"

TMP=$(mktemp -d /tmp/sluice-cg.XXXXXX)
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$TMP"
}
trap cleanup EXIT

python3 "$ROOT/bench/gen_records.py" --count 1000 --ndjson >"$TMP/records.ndjson"

run_one() { # N -> prints Ir
  local n=$1 sink_port http_port tcp_port
  read -r sink_port http_port tcp_port _ < <(python3 "$ROOT/bench/benchlib.py" ports 4)
  rm -rf "$TMP/var" "$TMP/connectors"
  mkdir -p "$TMP/var" "$TMP/connectors"
  cat >"$TMP/sluice.lua" <<EOF
return {
  listen = "127.0.0.1:$http_port",
  state_dir = "$TMP/var",
  connectors = { "connectors/*.lua" },
  tcp = { { listen = "127.0.0.1:$tcp_port", connector = "bench", allow = { "127.0.0.1/32" } } },
}
EOF
  cat >"$TMP/connectors/bench.lua" <<EOF
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
  url = "http://127.0.0.1:$sink_port/ingest",
  method = "POST",
  body = "array",
  batch = { max_records = 1000, max_bytes = 1048576, max_delay_ms = 50 },
  concurrency = 4,
  durability = "memory",
}
EOF
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
  "$TCP_SEND" 127.0.0.1 "$tcp_port" "$TMP/records.ndjson" 4 3600 "$n" >"$OUT/tcp_send-$n.txt"
  for _ in $(seq 600); do
    local st
    st=$(curl -fsS "http://127.0.0.1:$http_port/v1/connectors/bench" || true)
    python3 -c 'import json,sys; s=json.loads(sys.argv[1])["stats"]; sys.exit(0 if s["delivered"]>=int(sys.argv[2]) and s["queued"]==0 and s["pending"]==0 else 1)' \
      "$st" "$n" 2>/dev/null && break
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
python3 - "$N1" "$ir1" "$N2" "$ir2" <<'EOF'
import sys
n1, i1, n2, i2 = (int(x) for x in sys.argv[1:])
print(f"Ir({n1}) = {i1:,}  Ir({n2}) = {i2:,}")
print(f"instructions per record: {(i2 - i1) / (n2 - n1):,.1f}")
EOF
echo "annotated: $OUT/annotate-$N2.txt"
