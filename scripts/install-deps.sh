#!/usr/bin/env bash
# Installs every Debian package sluice needs to build, test, demo and bench.
# Idempotent: installs only what is missing. Run as root (or with sudo).
set -euo pipefail

pkgs=(
  # build
  build-essential cmake pkg-config
  liblua5.4-dev lua5.4 lua-cjson lua-cjson-dev
  libcurl4-openssl-dev libevent-dev libssl-dev zlib1g-dev
  libsystemd-dev
  # `sluice send`'s CSV reader (core/record/sl_csv.c) parses with libcsv
  libcsv-dev
  # tests: a private CA and certificates (openssl), an HTTP/2 and TLS
  # destination (nginx), a forward proxy (tinyproxy)
  python3 curl ca-certificates openssl nginx-light tinyproxy-bin
  # tests: systemd-analyze and systemd-sysusers for the unit in
  # conf/systemd (systemd)
  systemd
  # tests: rendering the man page sluice(1) with warnings on (groff)
  groff-base
  # tests: `promtool check metrics` on /metrics (test_metrics_scrape); Debian
  # ships promtool only in the server's package (~330 MB installed)
  prometheus
  # tests: the status page rendered in headless Chromium, with a screenshot
  # (test_status_page)
  chromium
  # tests: the OpenAPI document checked by a real validator, records judged
  # by an independent JSON Schema validator (npm packages, below)
  nodejs npm
)
# extras, any of them at once:
#   --bench  the benchmark tools (scripts/bench.sh, bench/callgrind.sh)
#   --clang  clang, for the clang build of .ci/run
#   --fuzz   clang and its libFuzzer/sanitizer runtimes (scripts/test.sh --fuzz)
for arg in "$@"; do
  case "$arg" in
    --bench) pkgs+=(wrk linux-perf valgrind time) ;;
    --clang) pkgs+=(clang) ;;
    --fuzz) pkgs+=(clang libclang-rt-dev) ;;
    *) echo "usage: scripts/install-deps.sh [--bench] [--clang] [--fuzz]" >&2
       exit 2 ;;
  esac
done

missing=()
for p in "${pkgs[@]}"; do
  # a nodejs not from Debian (NodeSource's) brings its own npm, which
  # Debian's npm package would conflict with
  [ "$p" = npm ] && command -v npm >/dev/null && continue
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
if [ ${#missing[@]} -gt 0 ]; then
  echo "install-deps: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# Test-only npm packages, each pinned to an exact version (with every
# dependency) by tests/npm/package-lock.json, into one fixed prefix that
# the tests find through SLUICE_NPM_PREFIX (default /opt/sluice-npm):
# @apidevtools/swagger-parser (validates OpenAPI 3.1), ajv + ajv-formats
# (JSON Schema 2020-12). Nothing is installed when the lock is unchanged.
npm_prefix="${SLUICE_NPM_PREFIX:-/opt/sluice-npm}"
npm_src="$(cd "$(dirname "$0")/.." && pwd)/tests/npm"
if ! cmp -s "$npm_src/package-lock.json" "$npm_prefix/package-lock.json" ||
   [ ! -d "$npm_prefix/node_modules" ]; then
  echo "install-deps: npm packages into $npm_prefix"
  $SUDO mkdir -p "$npm_prefix"
  $SUDO cp "$npm_src/package.json" "$npm_src/package-lock.json" "$npm_prefix/"
  $SUDO npm ci --prefix "$npm_prefix" --no-audit --no-fund --ignore-scripts \
    --loglevel=error >/dev/null
fi
