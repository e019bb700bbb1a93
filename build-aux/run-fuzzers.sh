#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Builds the libFuzzer harnesses of tests/fuzz/ with clang, ASan, UBSan and coverage on the
# whole engine, runs each for SECONDS_EACH (default 20) from its seed corpus, and prints the
# executions and crashes per harness. Crash reproducers land in tests/fuzz/crashes/.
#
# usage: build-aux/run-fuzzers.sh [SECONDS_EACH] [HARNESS…]
#   BUILD_DIR (default _build-fuzz), FUZZ_JOBS (parallel workers per harness, default 1)
set -euo pipefail
cd "$(dirname "$0")/.."
src=$PWD
seconds=${1:-20}
shift || true
build=${BUILD_DIR:-_build-fuzz}
crashes=$src/tests/fuzz/crashes
all=(project-json chain-json onnx tfjs safetensors cube provider-json provider-answers)
names=("${@:-${all[@]}}")

command -v clang >/dev/null ||
  { echo "run-fuzzers: clang is missing: apt-get install clang libclang-rt-14-dev" >&2; exit 1; }
grep -q "subdir('fuzz')" tests/meson.build ||
  { echo "run-fuzzers: tests/meson.build does not include tests/fuzz (subdir('fuzz'))" >&2
    exit 1; }

if [[ ! -f $build/build.ninja ]]; then
  # fuzzer-no-link instruments the engine for coverage without linking libFuzzer's main()
  # into every program of the build; the harnesses add -fsanitize=fuzzer themselves.
  CC=clang meson setup "$build" -Dgui=disabled -Dcuda=disabled -Dbuildtype=debugoptimized \
    -Db_sanitize=address,undefined -Db_lundef=false \
    -Dc_args='-fsanitize=fuzzer-no-link -fno-sanitize-recover=undefined -fno-omit-frame-pointer' \
    >/dev/null
fi
meson compile -C "$build" "${names[@]/#/fuzz-}" >/dev/null

mkdir -p "$crashes"
export GEGL_SWAP=RAM GEGL_THREADS=1 NO_AT_BRIDGE=1
# Full malloc stacks, so that build-aux/lsan.supp (third-party leaks) can match frames in
# libraries built without frame pointers.
export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1:allocator_may_return_null=1:fast_unwind_on_malloc=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$src/build-aux/lsan.supp:print_suppressions=0}

printf '%-16s %12s %8s %8s %8s\n' harness executions exec/s corpus crashes
status=0
for name in "${names[@]}"; do
  exe=$build/tests/fuzz/fuzz-$name
  work=$build/tests/fuzz/work-$name
  log=$build/tests/fuzz/fuzz-$name.log
  mkdir -p "$work"
  before=$(find "$crashes" -name "$name-*" | wc -l)
  # Harnesses that start the engine (GEGL, its plugins and worker threads) see allocations
  # from unsymbolised plugin code that LSan reports at random, with or without an input;
  # their leaks are left to the sanitizer test suite (build-aux/test.sh --sanitize).
  case $name in
    project-json|chain-json|provider-json) leaks=0 ;;
    *) leaks=1 ;;
  esac
  # -max_len: the seeds' largest size bounds mutations unless told; 64 KiB reaches past every
  # header limit the parsers check before reading further.
  ASAN_OPTIONS=$ASAN_OPTIONS:detect_leaks=$leaks \
  "$exe" -max_total_time="$seconds" -print_final_stats=1 -max_len=65536 -timeout=10 \
    -detect_leaks=$leaks \
    -rss_limit_mb=4096 ${FUZZ_JOBS:+-jobs=$FUZZ_JOBS -workers=$FUZZ_JOBS} \
    -artifact_prefix="$crashes/$name-" "$work" "$src/tests/fuzz/corpus/$name" \
    >"$log" 2>&1 || true
  after=$(find "$crashes" -name "$name-*" | wc -l)
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  units=$(find "$work" -type f | wc -l)
  printf '%-16s %12s %8s %8s %8s\n' "$name" "${execs:-?}" "${rate:-?}" "$units" \
    "$((after - before))"
  if (( after > before )); then
    status=1
    grep -m1 -E '^SUMMARY: |ERROR: libFuzzer: (timeout|out-of-memory)' "$log" | sed 's/^/    /'
    find "$crashes" -name "$name-*" -newer "$exe" | sed 's/^/    reproducer: /'
  fi
done
echo "logs: $build/tests/fuzz/fuzz-*.log"
exit $status
