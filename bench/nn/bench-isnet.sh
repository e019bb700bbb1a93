#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
#
# ISNet 1024×1024 on the CPU: engine/nn against onnxruntime-node 1.30.0 (intraOpNumThreads=2).
#
#   bench/nn/bench-isnet.sh [--build DIR] [--runs N] [--rounds R] [--threads T]
#
# Each side does one warm-up run then N timed runs (default 5) in its own process; the two
# alternate for R rounds (default 2) so that both see the same machine weather. Reports the
# median and min per side over all rounds, the ratio ours / ORT (≤ 1 is the target) and the
# achieved GFLOP/s on the Conv nodes (319 GFLOP). The environment is left alone
# (OPENBLAS_CORETYPE, OPENBLAS_L2_SIZE… as set); the script prints what it ran with.
# Needs the model (build-aux/fetch-models.sh), node and npm (ORT goes into a scratch folder).
set -eu

here="$(cd "$(dirname "$0")" && pwd)"
src="$(dirname "$(dirname "$here")")"
build="$src/_build-nn"
runs=5
rounds=2
threads=2
while [ $# -gt 0 ]; do
  case "$1" in
    --build) build="$2"; shift 2 ;;
    --runs) runs="$2"; shift 2 ;;
    --rounds) rounds="$2"; shift 2 ;;
    --threads) threads="$2"; shift 2 ;;
    -h|--help) sed -n '3,14p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "bench-isnet: unknown argument $1" >&2; exit 2 ;;
  esac
done

die() { printf 'bench-isnet: error: %s\n' "$*" >&2; exit 1; }

run="${CATENA_NN_RUN:-$build/tests/nn/catena-nn-run}"
[ -x "$run" ] || die "$run not found: build first (meson setup _build-nn && ninja -C _build-nn)"
cache="${XDG_CACHE_HOME:-$HOME/.cache}/catena"
model="${CATENA_MODEL_DIR:-$cache/models}/isnet-medium.onnx"
[ -f "$model" ] || die "$model is missing: run build-aux/fetch-models.sh"
ort_dir="${CATENA_ORT_DIR:-$cache/ort-1.30.0}"
if [ ! -f "$ort_dir/node_modules/onnxruntime-node/package.json" ]; then
  echo "bench-isnet: installing onnxruntime-node@1.30.0 into $ort_dir (CPU only)"
  mkdir -p "$ort_dir"
  [ -f "$ort_dir/package.json" ] || echo '{ "private": true }' > "$ort_dir/package.json"
  (cd "$ort_dir" && ONNXRUNTIME_NODE_INSTALL_CUDA=skip npm install --silent --no-audit \
      --no-fund onnxruntime-node@1.30.0) || die "npm install onnxruntime-node failed"
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT INT TERM

echo "machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'), $(nproc) CPUs"
echo "env: OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-unset} OPENBLAS_L2_SIZE=${OPENBLAS_L2_SIZE:-unset}" \
     "OPENBLAS_NUM_THREADS=${OPENBLAS_NUM_THREADS:-unset}; threads=$threads runs=$runs rounds=$rounds"

# the same input tensor for both: engine/nn's preprocessing of a synthetic picture
"$run" isnet --model "$model" --runs 1 --threads "$threads" --dump-input "$work/input.f32" \
  --json > /dev/null

: > "$work/ours.json"
: > "$work/ort.json"
i=0
while [ "$i" -lt "$rounds" ]; do
  "$run" isnet --model "$model" --runs "$runs" --threads "$threads" --json >> "$work/ours.json"
  node "$src/build-aux/isnet-ort.mjs" run --ort-dir "$ort_dir" --model "$model" \
    --input "$work/input.f32" --runs "$runs" --threads "$threads" --json >> "$work/ort.json"
  i=$((i + 1))
done

node - "$work/ours.json" "$work/ort.json" <<'JS'
const fs = require('fs');
const read = (f) => fs.readFileSync(f, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
const [ours, ort] = process.argv.slice(2).map(read);
// medians of each process's runs, then the median and min across rounds
const med = (a) => { const s = [...a].sort((x, y) => x - y); return s[Math.floor(s.length / 2)]; };
const oursMed = med(ours.map((r) => r.median_ms)), ortMed = med(ort.map((r) => r.median_ms));
const oursMin = Math.min(...ours.map((r) => r.min_ms)), ortMin = Math.min(...ort.map((r) => r.min_ms));
const gflop = ours[0].conv_gflop;
console.log(`engine/nn        : median ${oursMed.toFixed(0)} ms, min ${oursMin.toFixed(0)} ms ` +
            `→ ${(gflop / (oursMed / 1000)).toFixed(0)} GFLOP/s (median), ` +
            `${(gflop / (oursMin / 1000)).toFixed(0)} GFLOP/s (min)`);
console.log(`onnxruntime-node : median ${ortMed.toFixed(0)} ms, min ${ortMin.toFixed(0)} ms ` +
            `→ ${(gflop / (ortMed / 1000)).toFixed(0)} GFLOP/s (median)  [${ort[0].version}]`);
console.log(`ratio ours/ORT   : ${(oursMed / ortMed).toFixed(2)}× (median), ` +
            `${(oursMin / ortMin).toFixed(2)}× (min); target ≤ 1.0×`);
JS
