#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Installs what is missing, builds and runs every test. Ends with
#   tests: N passed, N failed[, N skipped]
# counting individual test cases (TAP lines) rather than test programs.
set -euo pipefail

cd "$(dirname "$0")/.."
build_dir=${CATENA_BUILD_DIR:-_build}

build-aux/setup.sh --tests

# Model weights for the neural stages: fetched once into the cache folder the scripts own.
if [[ -x build-aux/fetch-models.sh ]]; then
  build-aux/fetch-models.sh || echo "test: model download failed; neural tests will skip" >&2
fi

status=0
meson test -C "$build_dir" --print-errorlogs --num-processes 2 "$@" || status=$?

python3 - "$build_dir/meson-logs/testlog.json" <<'PY'
import json, re, sys
passed = failed = skipped = 0
for line in open(sys.argv[1]):
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
        # A program that crashed after some cases passed still counts as a failure.
        if t["result"] in ("FAIL", "TIMEOUT", "ERROR") and not any(l.startswith("not ok") for l in cases):
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
