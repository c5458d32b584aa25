#!/usr/bin/env bash
# Builds sluice and runs the whole test suite through ctest: C unit tests
# and integration tests that drive the real binary against local servers.
#   scripts/test.sh           RelWithDebInfo build in build/
#   scripts/test.sh --asan    AddressSanitizer + UBSan build in build-asan/
#   scripts/test.sh --tsan    ThreadSanitizer build in build-tsan/
#   scripts/test.sh --fuzz [--fuzz-seconds N]
#                             clang + libFuzzer build in build-fuzz/; runs
#                             each tests/fuzz/fuzz_<name> for N seconds
#                             (default 60) over a copy of its seed corpus
#   -R=REGEX                  only the ctest tests (or, with --fuzz, the
#                             fuzz targets) whose names match
set -euo pipefail
cd "$(dirname "$0")/.."

build=build
# every build of the suite fails on a compiler warning
cmake_args=(-DCMAKE_BUILD_TYPE=RelWithDebInfo -DSLUICE_WERROR=ON)
ctest_args=()
fuzz=0
fuzz_seconds=60
regex=""
usage="usage: scripts/test.sh [--asan | --tsan | --fuzz [--fuzz-seconds N]] [-R=REGEX]"
while [ $# -gt 0 ]; do
  case "$1" in
    --asan) build=build-asan; cmake_args+=(-DSLUICE_ASAN=ON) ;;
    --tsan) build=build-tsan; cmake_args+=(-DSLUICE_TSAN=ON) ;;
    --fuzz) fuzz=1; build=build-fuzz; cmake_args+=(-DSLUICE_FUZZ=ON) ;;
    --fuzz-seconds) shift; fuzz_seconds="${1:-}" ;;
    --fuzz-seconds=*) fuzz_seconds="${1#--fuzz-seconds=}" ;;
    -R=*) regex="${1#-R=}"; ctest_args+=(-R "$regex") ;;
    *) echo "$usage" >&2; exit 2 ;;
  esac
  shift
done
case "$fuzz_seconds" in ''|*[!0-9]*) echo "$usage" >&2; exit 2 ;; esac

if [ "$fuzz" = 1 ]; then
  scripts/install-deps.sh --fuzz
else
  scripts/install-deps.sh
fi

if [ "$fuzz" = 1 ]; then
  CC=clang cmake -S . -B "$build" "${cmake_args[@]}" >/dev/null
  cmake --build "$build" --target fuzz -j"$(nproc)"

  # Longest input per target: records and config files are small; the
  # scanner and the framing get room for deep nesting and many lines.
  declare -A max_len=([json]=16384 [json_diff]=4096 [schema]=4096
                      [ndjson]=16384 [config]=8192 [csv]=8192)
  work=$(mktemp -d /tmp/sluice-fuzz.XXXXXX)
  artifacts="$PWD/$build/fuzz-artifacts"
  failed=()
  export ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:halt_on_error=1"
  export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
  for src in tests/fuzz/fuzz_*.c; do
    name=$(basename "$src" .c); name=${name#fuzz_}
    [ -n "$regex" ] && ! [[ "fuzz_$name" =~ $regex ]] && continue
    # Work on a copy: new inputs found here never land in the tree.
    mkdir -p "$work/$name" "$artifacts/$name"
    cp tests/fuzz/corpus/"$name"/* "$work/$name/"
    # the shipped example connectors seed the config loader as they are
    [ "$name" = config ] && cp conf/connectors/*.lua "$work/$name/"
    dict=(); [ -f tests/fuzz/"$name".dict ] && dict=(-dict=tests/fuzz/"$name".dict)
    echo "fuzz: fuzz_$name for ${fuzz_seconds}s"
    log="$work/$name.log"
    if "$build/tests/fuzz/fuzz_$name" "$work/$name" "${dict[@]}" \
         -max_total_time="$fuzz_seconds" -max_len="${max_len[$name]:-4096}" \
         -timeout=5 -rss_limit_mb=2048 -print_final_stats=1 \
         -artifact_prefix="$artifacts/$name/" >"$log" 2>&1; then
      grep -E '^#[0-9]+[[:space:]]+DONE|^stat::number_of_executed_units|^stat::peak_rss' "$log" |
        sed "s/^/fuzz_$name: /"
    else
      tail -n 40 "$log" >&2
      saved=$(grep -o "Test unit written to .*" "$log" | sed 's/Test unit written to //')
      echo "fuzz: fuzz_$name FAILED; input saved to ${saved:-$artifacts/$name/}" >&2
      echo "fuzz: reproduce with $build/tests/fuzz/fuzz_$name ${saved:-<input>}" >&2
      failed+=("fuzz_$name")
    fi
  done
  rm -rf "$work"
  if [ ${#failed[@]} -gt 0 ]; then
    echo "fuzz: failed: ${failed[*]}" >&2
    exit 1
  fi
  echo "fuzz: all targets ran ${fuzz_seconds}s clean"
  exit 0
fi

cmake -S . -B "$build" "${cmake_args[@]}" >/dev/null
cmake --build "$build" -j"$(nproc)"

if [ "$build" = build-asan ]; then
  # LeakSanitizer needs ptrace-free process inspection; report every leak.
  export ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:halt_on_error=1"
  export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
fi
runner=()
if [ "$build" = build-tsan ]; then
  # Any report fails the test: the process exits with 66 at the first one
  # and the integration harness also looks for it in sluice's stderr.
  # tests/tsan.supp may name only third-party code, each with a reason.
  export TSAN_OPTIONS="halt_on_error=1:exitcode=66:second_deadlock_stack=1:suppressions=$PWD/tests/tsan.supp"
  # gcc 12's libtsan knows only the layouts of 28 random mmap bits; with
  # more (vm.mmap_rnd_bits, 32 on recent kernels) it dies with "FATAL:
  # ThreadSanitizer: unexpected memory mapping". Run the suite with ASLR
  # off for this process tree instead of changing the machine's sysctl.
  bits=$(cat /proc/sys/vm/mmap_rnd_bits 2>/dev/null || echo 28)
  if [ "$bits" -gt 28 ]; then
    if setarch "$(uname -m)" -R true 2>/dev/null; then
      runner=(setarch "$(uname -m)" -R)
    else
      echo "test.sh: vm.mmap_rnd_bits is $bits and ASLR cannot be turned" \
           "off here (setarch -R); gcc 12's TSan needs 28:" \
           "sysctl -w vm.mmap_rnd_bits=28" >&2
      exit 1
    fi
  fi
fi
cd "$build"
"${runner[@]}" ctest --output-on-failure --timeout 300 "${ctest_args[@]}"
