#!/usr/bin/env bash
# The main job in one command: install what is missing, build, start a local
# destination (sluice sink on 127.0.0.1:9000) and the gateway on the example
# configuration (conf/sluice.lua, intake on 127.0.0.1:8080, raw TCP on
# 127.0.0.1:5170), post the sample records in conf/samples/ (and the events
# again over TCP), and show the gateway's answers, what the destination
# received and what the TCP intake rejected. Stops everything it started.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc)" --target sluice >/dev/null

intake=127.0.0.1:8080
dest=127.0.0.1:9000
work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

port_busy() { (exec 3<>"/dev/tcp/${1%:*}/${1#*:}") 2>/dev/null; }
for a in $intake $dest 127.0.0.1:5170; do
  if port_busy "$a"; then
    echo "demo: $a is already in use; stop what listens there and retry" >&2
    exit 1
  fi
done

# The example keeps its state (spools, dead letters, schema locks) in
# conf/var, which git ignores; the demo starts from a clean one so that it
# shows the same thing every time.
rm -rf conf/var

echo "== sluice check -c conf/sluice.lua"
build/sluice check -c conf/sluice.lua
echo

build/sluice sink --listen "$dest" --body >"$work/sink.log" 2>&1 &
pids+=($!)
build/sluice run -c conf/sluice.lua >"$work/sluice.log" 2>&1 &
pids+=($!)

for _ in $(seq 100); do
  curl -fsS "http://$intake/healthz" >/dev/null 2>&1 && break
  sleep 0.1
done
curl -fsS "http://$intake/healthz" >/dev/null || { cat "$work/sluice.log"; exit 1; }

for f in conf/samples/*; do
  name=$(basename "$f"); connector=${name%.*}
  case "$f" in
    *.ndjson) ctype=application/x-ndjson ;;
    *) ctype=application/json ;;
  esac
  echo "== POST $f -> /v1/connectors/$connector/records"
  curl -sS -w '  (HTTP %{http_code})\n' -H "Content-Type: $ctype" \
    --data-binary "@$f" "http://$intake/v1/connectors/$connector/records"
  echo
done

echo "== the events again over raw TCP (127.0.0.1:5170, one record per line)"
if [ -f conf/samples/events.ndjson ]; then
  exec 3<>/dev/tcp/127.0.0.1/5170
  cat conf/samples/events.ndjson >&3
  exec 3>&-
  echo "  sent $(grep -c . conf/samples/events.ndjson) lines; rejected ones go to conf/var/events/rejects.ndjson"
fi
echo

# wait until every connector has delivered what it accepted
for _ in $(seq 100); do
  left=$(curl -fsS "http://$intake/v1/connectors" | python3 -c '
import json, sys
d = json.load(sys.stdin)
print(sum(c["stats"]["queued"] + c["stats"]["pending"] for c in d["connectors"]))')
  [ "$left" = 0 ] && break
  sleep 0.1
done

echo "== what the destination received (sluice sink on $dest)"
sed 's/^/  /' "$work/sink.log"
echo
echo "== connector counters"
curl -fsS "http://$intake/v1/connectors" | python3 -c '
import json, sys
for c in json.load(sys.stdin)["connectors"]:
    s = c["stats"]
    print("  %s (durability %s): accepted %d, rejected %d, delivered %d in "
          "%d request(s), dead letters %d" % (
        c["name"], c["durability"], s["accepted"], s["rejected"],
        s["delivered"], s["requests"], s["dead_letters"]))'
echo
echo "== lines the TCP intake rejected (conf/var/events/rejects.ndjson)"
for _ in $(seq 20); do [ -s conf/var/events/rejects.ndjson ] && break; sleep 0.1; done
sed 's/^/  /' conf/var/events/rejects.ndjson 2>/dev/null || echo "  (none)"
echo
echo "== state kept for the next run (conf/var: spools, schema locks)"
(cd conf/var && find . -maxdepth 3 \( -name '*.seg' -o -name progress -o -name schema.lock \) | sort | sed 's/^/  /')
[ "$left" = 0 ] || { echo "demo: records still undelivered" >&2; exit 1; }
