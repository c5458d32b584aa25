#!/usr/bin/env bash
# Installs every Debian package sluice needs to build, test, demo and bench.
# Idempotent: installs only what is missing. Run as root (or with sudo).
set -euo pipefail

pkgs=(
  # build
  build-essential cmake pkg-config
  liblua5.4-dev lua5.4 lua-cjson lua-cjson-dev
  libcurl4-openssl-dev libevent-dev libssl-dev zlib1g-dev
  # tests
  python3 curl ca-certificates
)
if [ "${1:-}" = "--bench" ]; then
  pkgs+=(wrk nginx-light linux-perf valgrind)
fi
if [ "${1:-}" = "--fuzz" ]; then
  pkgs+=(clang libclang-rt-dev)
fi

missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
