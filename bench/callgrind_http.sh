#!/usr/bin/env bash
# bench/callgrind_http.sh: instructions per record of sluice's HTTP intake
# (memory mode, the bench connector and bodies of scripts/bench.sh: 100
# records per POST), counted by callgrind, which other load on the box does
# not disturb.
#
#   bench/callgrind_http.sh [BUILD_DIR (default build-bench)] [R1 R2]
#
# Runs sluice under valgrind --tool=callgrind twice, with `sluice sink` as
# the destination and one kept-alive client posting R1 and then R2 requests
# (default 100 and 300), each run ending with SIGTERM once everything is
# delivered. Startup and shutdown cost the same in both, so
#   (Ir(R2) - Ir(R1)) / ((R2 - R1) * 100)
# is the whole per-record cost: reading and answering the requests,
# checking, encoding, queueing and delivering. Keeps both callgrind.out
# files in BUILD_DIR/callgrind-http/.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${1:-build-bench}
R1=${2:-100}
R2=${3:-300}
case $BUILD in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
SLUICE=$BUILD/sluice
[ -x "$SLUICE" ] || { echo "no $SLUICE: build first" >&2; exit 1; }
OUT=$BUILD/callgrind-http
mkdir -p "$OUT"

TMP=$(mktemp -d /tmp/sluice-cgh.XXXXXX)
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$TMP"
}
trap cleanup EXIT

python3 "$ROOT/bench/gen_records.py" --count 100 >"$TMP/body.json"

run_one() { # R -> prints Ir
  local r=$1 sink_port http_port
  read -r sink_port http_port _ < <(python3 "$ROOT/bench/benchlib.py" ports 3)
  rm -rf "$TMP/var" "$TMP/connectors"
  mkdir -p "$TMP/var" "$TMP/connectors"
  cat >"$TMP/sluice.lua" <<EOF
return {
  listen = "127.0.0.1:$http_port",
  state_dir = "$TMP/var",
  connectors = { "connectors/*.lua" },
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
  valgrind --tool=callgrind --callgrind-out-file="$OUT/callgrind.out.$r" \
    "$SLUICE" run -c "$TMP/sluice.lua" >"$OUT/sluice-$r.log" 2>&1 &
  local sl=$!
  PIDS+=("$sl")
  python3 - "$http_port" "$TMP/body.json" "$r" <<'EOF'
import http.client, json, sys, time
port, path, n = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
body = open(path, "rb").read()
for _ in range(300):
    try:
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        c.request("GET", "/healthz"); c.getresponse().read(); break
    except OSError:
        time.sleep(0.2)
for _ in range(n):
    c.request("POST", "/v1/connectors/bench/records", body=body,
              headers={"Content-Type": "application/json"})
    r = c.getresponse(); r.read()
    assert r.status == 200, r.status
for _ in range(600):
    c.request("GET", "/v1/connectors/bench"); s = json.loads(c.getresponse().read())["stats"]
    if s["delivered"] >= n * 100 and s["queued"] == 0 and s["pending"] == 0:
        break
    time.sleep(0.5)
EOF
  kill -TERM "$sl"
  wait "$sl" || true
  kill -TERM "$sink"
  wait "$sink" 2>/dev/null || true
  grep -E '^(summary|totals):' "$OUT/callgrind.out.$r" | head -1 | awk '{print $2}'
}

ir1=$(run_one "$R1")
ir2=$(run_one "$R2")
python3 - "$R1" "$ir1" "$R2" "$ir2" <<'EOF'
import sys
r1, i1, r2, i2 = (int(x) for x in sys.argv[1:])
print(f"Ir({r1} requests) = {i1:,}  Ir({r2} requests) = {i2:,}")
print(f"instructions per request: {(i2 - i1) / (r2 - r1):,.0f}")
print(f"instructions per record:  {(i2 - i1) / ((r2 - r1) * 100):,.1f}")
EOF
