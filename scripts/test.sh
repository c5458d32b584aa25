#!/usr/bin/env bash
# Builds sluice and runs the whole test suite through ctest: C unit tests
# and integration tests that drive the real binary against local servers.
#   scripts/test.sh           RelWithDebInfo build in build/
#   scripts/test.sh --asan    AddressSanitizer + UBSan build in build-asan/
set -euo pipefail
cd "$(dirname "$0")/.."

build=build
cmake_args=(-DCMAKE_BUILD_TYPE=RelWithDebInfo)
ctest_args=()
for arg in "$@"; do
  case "$arg" in
    --asan) build=build-asan; cmake_args+=(-DSLUICE_ASAN=ON) ;;
    -R=*) ctest_args+=(-R "${arg#-R=}") ;;
    *) echo "usage: scripts/test.sh [--asan] [-R=REGEX]" >&2; exit 2 ;;
  esac
done

scripts/install-deps.sh
cmake -S . -B "$build" "${cmake_args[@]}" >/dev/null
cmake --build "$build" -j"$(nproc)"

if [ "$build" = build-asan ]; then
  # LeakSanitizer needs ptrace-free process inspection; report every leak.
  export ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:halt_on_error=1"
  export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
fi
cd "$build"
ctest --output-on-failure --timeout 300 "${ctest_args[@]}"
