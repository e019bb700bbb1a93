#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Installs what is missing, builds and runs every test. Ends with
#   tests: N passed, N failed[, N skipped]
# counting individual test cases (TAP lines) rather than test programs.
#   build-aux/test.sh                 the normal build (_build)
#   build-aux/test.sh --sanitize      also a second build with AddressSanitizer +
#                                     UndefinedBehaviorSanitizer (_build-asan), as CI does
#   build-aux/test.sh --fuzz SECONDS  also run every libFuzzer harness for SECONDS from its
#                                     seed corpus (clang build _build-fuzz), as CI does
# Extra arguments go to `meson test` (e.g. a suite: --suite engine).
set -euo pipefail

cd "$(dirname "$0")/.."
build_dir=${CATENA_BUILD_DIR:-_build}
asan_dir=${CATENA_ASAN_BUILD_DIR:-_build-asan}
sanitize=0
fuzz_seconds=0
while (($#)); do
  case $1 in
    --sanitize) sanitize=1; shift ;;
    --fuzz) fuzz_seconds=$2; shift 2 ;;
    *) break ;;
  esac
done

build-aux/setup.sh --tests
if ((fuzz_seconds > 0)) && ! command -v clang >/dev/null; then
  sudo=""
  [[ $(id -u) -ne 0 ]] && sudo=sudo
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends \
    clang libclang-rt-14-dev
fi

# Model weights for the neural stages: fetched once into the cache folder the scripts own.
if [[ -x build-aux/fetch-models.sh ]]; then
  build-aux/fetch-models.sh || echo "test: model download failed; neural tests will skip" >&2
fi

status=0
logs=()
meson test -C "$build_dir" --print-errorlogs --num-processes 2 "$@" || status=$?
logs+=("$build_dir/meson-logs/testlog.json")

if ((sanitize)); then
  if [[ ! -f $asan_dir/build.ninja ]]; then
    # CUDA off: the CUDA runtime is not instrumented and its driver probe would drown the leak
    # report; the CPU twins of every kernel are what this build checks.
    meson setup "$asan_dir" -Dbuildtype=debug -Db_sanitize=address,undefined -Db_lundef=false \
      -Dcuda=disabled
  fi
  ninja -C "$asan_dir"
  supp=$PWD/build-aux/lsan.supp
  # Full stacks so the suppressions (third-party libraries only) can match.
  export ASAN_OPTIONS=fast_unwind_on_malloc=0:malloc_context_size=30:detect_leaks=1
  export LSAN_OPTIONS=suppressions=$supp:print_suppressions=0
  export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
  # GLib 2.74 serves GObjects and signal handlers from its slice allocator, which ASan
  # cannot see into: a write into a freed GObject went unnoticed until this (docs/ui.md).
  export G_SLICE=always-malloc
  meson test -C "$asan_dir" --print-errorlogs --num-processes 2 --timeout-multiplier 5 \
    --no-suite ui --logbase asan "$@" || status=$?
  logs+=("$asan_dir/meson-logs/asan.json")
  # The window tests load GL/pixbuf modules that are unloaded before the leak check, so their
  # allocations cannot be attributed: memory errors and UB are still fatal there.
  if [[ -d $asan_dir/tests/ui ]]; then
    ASAN_OPTIONS=${ASAN_OPTIONS/detect_leaks=1/detect_leaks=0} \
      meson test -C "$asan_dir" --print-errorlogs --timeout-multiplier 5 --suite ui \
      --logbase asan-ui "$@" || status=$?
    logs+=("$asan_dir/meson-logs/asan-ui.json")
  fi
fi

if ((fuzz_seconds > 0)); then
  # One result per harness: passed when the bounded run found no new crash.
  fuzz_log=$(mktemp)
  build-aux/run-fuzzers.sh "$fuzz_seconds" | tee "$fuzz_log" || status=1
  python3 - "$fuzz_log" > "${build_dir}/meson-logs/fuzz.json" <<'PY'
import json, sys
for line in open(sys.argv[1]):
    f = line.split()
    if len(f) == 5 and f[0] != "harness" and f[4].isdigit():
        print(json.dumps({"name": "fuzz-" + f[0], "stdout": "",
                          "result": "OK" if f[4] == "0" else "FAIL"}))
PY
  logs+=("$build_dir/meson-logs/fuzz.json")
  rm -f "$fuzz_log"
fi

python3 - "${logs[@]}" <<'PY'
import json, re, sys
passed = failed = skipped = 0
for path in sys.argv[1:]:
    try:
        lines = open(path)
    except OSError:
        continue
    for line in lines:
        t = json.loads(line)
        out = t.get("stdout") or ""
        cases = [l for l in out.splitlines() if re.match(r"^(not )?ok\b", l)]
        if cases:
            for l in cases:
                if re.search(r"#\s*SKIP", l, re.I):
                    skipped += 1
                elif l.startswith("ok"):
                    passed += 1
                else:
                    failed += 1
            # A program that crashed after its cases passed still counts as a failure.
            if t["result"] in ("FAIL", "TIMEOUT", "ERROR") and not any(
                    l.startswith("not ok") for l in cases):
                failed += 1
        elif t["result"] == "OK":
            passed += 1
        elif t["result"] == "SKIP":
            skipped += 1
        else:
            failed += 1
line = f"tests: {passed} passed, {failed} failed"
if skipped:
    line += f", {skipped} skipped"
print(line)
PY
exit $status
