#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
#
# ESRGAN 4× (@upscalerjs/esrgan-medium x4) on the CPU: engine/nn against @tensorflow/tfjs.
#
#   bench/nn/bench-esrgan.sh [--build DIR] [--model NAME] [--runs N] [--side S]
#                            [--tfjs-side S] [--threads T]
#
# engine/nn runs the network alone (catena-nn-run upscale-tile) on one S × S window (default
# 256) and on the tfjs size; tfjs runs the same model.json on a --tfjs-side window (default
# 64). Each side does one warm-up then N timed runs (default 5), median and min. The ratio is
# taken at the same size (--tfjs-side). tfjs is the pure-JS CPU backend: @tensorflow/tfjs-node
# (the native TensorFlow build) cannot be installed here (its install script downloads
# libtensorflow from storage.googleapis.com, which this machine cannot reach), so the peer is
# far slower than a native runtime would be; --tfjs-side 256 compares at full size if you have
# several minutes per run. Needs the models (build-aux/fetch-models.sh), node and npm (tfjs
# goes into a scratch folder, never the source tree).
set -eu

here="$(cd "$(dirname "$0")" && pwd)"
src="$(dirname "$(dirname "$here")")"
build="$src/_build-nn"
runs=5
side=256
tside=64
threads=2
name=esrgan-medium-x4
while [ $# -gt 0 ]; do
  case "$1" in
    --build) build="$2"; shift 2 ;;
    --model) name="$2"; shift 2 ;;
    --runs) runs="$2"; shift 2 ;;
    --side) side="$2"; shift 2 ;;
    --tfjs-side) tside="$2"; shift 2 ;;
    --threads) threads="$2"; shift 2 ;;
    -h|--help) sed -n '3,18p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "bench-esrgan: unknown argument $1" >&2; exit 2 ;;
  esac
done

die() { printf 'bench-esrgan: error: %s\n' "$*" >&2; exit 1; }

run="${CATENA_NN_RUN:-$build/tests/nn/catena-nn-run}"
[ -x "$run" ] || die "$run not found: build first (meson setup _build-nn && ninja -C _build-nn)"
cache="${XDG_CACHE_HOME:-$HOME/.cache}/catena"
model="${CATENA_MODEL_DIR:-$cache/models}/$name"
[ -f "$model/model.json" ] || die "$model is missing: run build-aux/fetch-models.sh"
tfjs_dir="${CATENA_TFJS_DIR:-$cache/tfjs}"
if [ ! -f "$tfjs_dir/node_modules/@tensorflow/tfjs/package.json" ]; then
  echo "bench-esrgan: installing @tensorflow/tfjs@4.22.0 into $tfjs_dir"
  mkdir -p "$tfjs_dir"
  [ -f "$tfjs_dir/package.json" ] || echo '{ "private": true }' > "$tfjs_dir/package.json"
  (cd "$tfjs_dir" && npm install --silent --no-audit --no-fund @tensorflow/tfjs@4.22.0) \
    || die "npm install @tensorflow/tfjs failed"
fi

echo "machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'), $(nproc) CPUs"
echo "env: OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-unset} OPENBLAS_L2_SIZE=${OPENBLAS_L2_SIZE:-unset};" \
     "model=$name threads=$threads runs=$runs side=$side tfjs-side=$tside"

big="$("$run" upscale-tile --model "$model" --tile "$side" --runs "$runs" --threads "$threads" --json)"
small="$("$run" upscale-tile --model "$model" --tile "$tside" --runs "$runs" --threads "$threads" --json)"
tfjs="$(node "$src/build-aux/check-esrgan-vs-tfjs.mjs" bench "$tfjs_dir" "$model" "$tside" "$runs" 2>/dev/null | tail -n 1)"

node - "$big" "$small" "$tfjs" "$side" "$tside" <<'JS'
const [big, small, tfjs] = process.argv.slice(2, 5).map((s) => JSON.parse(s));
const [side, tside] = process.argv.slice(5).map(Number);
const gf = (r, ms) => (r.conv_gflop / (ms / 1000)).toFixed(1);
console.log(`engine/nn ${side}²  : median ${big.median_ms.toFixed(0)} ms, min ${big.min_ms.toFixed(0)} ms, ` +
            `${big.conv_gflop.toFixed(1)} GFLOP → ${gf(big, big.median_ms)} GFLOP/s (median)`);
console.log(`engine/nn ${tside}²   : median ${small.median_ms.toFixed(1)} ms, min ${small.min_ms.toFixed(1)} ms, ` +
            `${small.conv_gflop.toFixed(2)} GFLOP → ${gf(small, small.median_ms)} GFLOP/s (median)`);
console.log(`tfjs ${tfjs.version} (${tfjs.backend}) ${tside}²: median ${tfjs.median_ms.toFixed(0)} ms, ` +
            `min ${tfjs.min_ms.toFixed(0)} ms → ${gf(small, tfjs.median_ms)} GFLOP/s (median)`);
console.log(`ratio ours/tfjs at ${tside}²: ${(small.median_ms / tfjs.median_ms).toFixed(3)}× (median)`);
JS
