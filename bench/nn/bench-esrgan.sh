#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
#
# ESRGAN 4× (@upscalerjs/esrgan-medium x4) on the CPU: engine/nn against @tensorflow/tfjs
# and against onnxruntime-node 1.30.0.
#
#   bench/nn/bench-esrgan.sh [--build DIR] [--model NAME] [--runs N] [--rounds R] [--side S]
#                            [--tfjs-side S] [--threads T] [--no-tfjs] [--no-ort]
#
# engine/nn runs the network alone (catena-nn-run upscale-tile) on one S × S window (default
# 256) and on the tfjs size; tfjs runs the same model.json on a --tfjs-side window (default
# 64). Each side does one warm-up then N timed runs (default 5), median and min. The ratio is
# taken at the same size (--tfjs-side). tfjs is the pure-JS CPU backend: @tensorflow/tfjs-node
# (the native TensorFlow build) cannot be installed here (its install script downloads
# libtensorflow from storage.googleapis.com, which this machine cannot reach), so the peer is
# far slower than a native runtime would be; --tfjs-side 256 compares at full size if you have
# several minutes per run; --no-tfjs skips this part.
# Then (unless --no-ort) build-aux/tfjs-to-onnx.mjs converts the same model.json to ONNX for
# a fixed S × S input, both engines run it once on one seeded random input (0…255) and their
# outputs are compared (max |Δ| and PSNR, peak 255; under 45 dB fails); then engine/nn and
# onnxruntime-node (intraOpNumThreads T, interOpNumThreads 1, graphOptimizationLevel all,
# sequential) alternate for R rounds (default 2), each process doing one warm-up then N timed
# runs. Reports the median of the per-process medians and the min per side, the ratio
# ours / ORT and the GFLOP/s of the convolutions as catena-nn-run counts them (direct
# convolution, fused upsampling included: the same count as the literal graph ORT runs).
# Needs the models (build-aux/fetch-models.sh), node and npm: tfjs, onnxruntime-node and
# protobufjs go into scratch folders under ~/.cache/catena, never the source tree; the
# converter reads Debian's /usr/include/onnx/onnx.proto (libonnx-dev, build-aux/setup.sh).
set -eu

here="$(cd "$(dirname "$0")" && pwd)"
src="$(dirname "$(dirname "$here")")"
build="$src/_build-nn"
runs=5
rounds=2
side=256
tside=64
threads=2
name=esrgan-medium-x4
do_tfjs=1
do_ort=1
while [ $# -gt 0 ]; do
  case "$1" in
    --build) build="$2"; shift 2 ;;
    --model) name="$2"; shift 2 ;;
    --runs) runs="$2"; shift 2 ;;
    --rounds) rounds="$2"; shift 2 ;;
    --side) side="$2"; shift 2 ;;
    --tfjs-side) tside="$2"; shift 2 ;;
    --threads) threads="$2"; shift 2 ;;
    --no-tfjs) do_tfjs=0; shift ;;
    --no-ort) do_ort=0; shift ;;
    -h|--help) sed -n '3,28p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "bench-esrgan: unknown argument $1" >&2; exit 2 ;;
  esac
done

die() { printf 'bench-esrgan: error: %s\n' "$*" >&2; exit 1; }

run="${CATENA_NN_RUN:-$build/tests/nn/catena-nn-run}"
[ -x "$run" ] || die "$run not found: build first (meson setup _build-nn && ninja -C _build-nn)"
cache="${XDG_CACHE_HOME:-$HOME/.cache}/catena"
model="${CATENA_MODEL_DIR:-$cache/models}/$name"
[ -f "$model/model.json" ] || die "$model is missing: run build-aux/fetch-models.sh"
npm_scratch() { # DIR PACKAGE@VERSION [ENV=VALUE…]: install into a scratch folder once
  dir="$1"; pkg="$2"; shift 2
  [ -f "$dir/node_modules/${pkg%@*}/package.json" ] && return 0
  echo "bench-esrgan: installing $pkg into $dir"
  mkdir -p "$dir"
  [ -f "$dir/package.json" ] || echo '{ "private": true }' > "$dir/package.json"
  (cd "$dir" && env "$@" npm install --silent --no-audit --no-fund "$pkg") \
    || die "npm install $pkg failed"
}

tfjs_dir="${CATENA_TFJS_DIR:-$cache/tfjs}"
ort_dir="${CATENA_ORT_DIR:-$cache/ort-1.30.0}"
pbjs_dir="${CATENA_PROTOBUFJS_DIR:-$cache/protobufjs-7.5.4}"
[ "$do_tfjs" = 0 ] || npm_scratch "$tfjs_dir" @tensorflow/tfjs@4.22.0
if [ "$do_ort" = 1 ]; then
  [ -f /usr/include/onnx/onnx.proto ] \
    || die "/usr/include/onnx/onnx.proto is missing: install libonnx-dev (build-aux/setup.sh)"
  npm_scratch "$ort_dir" onnxruntime-node@1.30.0 ONNXRUNTIME_NODE_INSTALL_CUDA=skip
  npm_scratch "$pbjs_dir" protobufjs@7.5.4
fi

echo "machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'), $(nproc) CPUs;" \
     "load average$(uptime | sed 's/.*load average//')"
echo "env: OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-unset} OPENBLAS_L2_SIZE=${OPENBLAS_L2_SIZE:-unset};" \
     "model=$name threads=$threads runs=$runs rounds=$rounds side=$side tfjs-side=$tside"

if [ "$do_tfjs" = 1 ]; then
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
fi

[ "$do_ort" = 1 ] || exit 0

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT INT TERM

node "$src/build-aux/tfjs-to-onnx.mjs" --protobufjs-dir "$pbjs_dir" --model "$model/model.json" \
  --side "$side" --output "$work/model.onnx"

# one seeded uniform 0…255 input for both (a 32-bit LCG: reproducible, no dependency)
node - "$work/input.f32" "$side" <<'JS'
const [file, side] = [process.argv[2], Number(process.argv[3])];
const x = new Float32Array(3 * side * side);
let s = 20260101;
for (let i = 0; i < x.length; i++) {
  s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
  x[i] = (s / 4294967296) * 255;
}
require('fs').writeFileSync(file, Buffer.from(x.buffer));
JS

# onnxruntime-node: one warm-up, then RUNS timed runs; one JSON line
cat > "$work/ort.mjs" <<'JS'
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
const [ortDir, model, input, side, runs, threads, output] = process.argv.slice(2);
const require = createRequire(path.join(path.resolve(ortDir), 'package.json'));
const ort = require('onnxruntime-node');
const session = await ort.InferenceSession.create(model, {
  executionProviders: ['cpu'], graphOptimizationLevel: 'all', intraOpNumThreads: Number(threads),
  interOpNumThreads: 1, executionMode: 'sequential',
});
const buf = fs.readFileSync(input);
const x = new Float32Array(buf.buffer, buf.byteOffset, buf.byteLength / 4);
const dims = [1, 3, Number(side), Number(side)];
const feeds = { [session.inputNames[0]]: new ort.Tensor('float32', x, dims) };
const times = [];
let out = null;
for (let r = 0; r <= Number(runs); r++) {
  const t0 = process.hrtime.bigint();
  out = (await session.run(feeds))[session.outputNames[0]].data;
  if (r > 0) times.push(Number(process.hrtime.bigint() - t0) / 1e6);
}
if (output) fs.writeFileSync(output, Buffer.from(out.buffer, out.byteOffset, out.byteLength));
times.sort((a, b) => a - b);
const version = require('onnxruntime-node/package.json').version;
console.log(JSON.stringify({ what: 'onnxruntime-node', version,
                             median_ms: times[times.length >> 1], min_ms: times[0] }));
JS

ours() { "$run" upscale-tile --model "$model" --tile "$side" --input "$work/input.f32" \
           --threads "$threads" --json "$@"; }
ort() { node "$work/ort.mjs" "$ort_dir" "$work/model.onnx" "$work/input.f32" "$side" "$@"; }

# agreement first: a benchmark of a different function would mean nothing
ours --runs 1 --dump-output "$work/ours.f32" > /dev/null
ort 1 "$threads" "$work/ort.f32" > /dev/null
node - "$work/ours.f32" "$work/ort.f32" <<'JS' || die "engine/nn and onnxruntime disagree"
const fs = require('fs');
const read = (f) => {
  const b = fs.readFileSync(f);
  return new Float32Array(b.buffer, b.byteOffset, b.byteLength / 4);
};
const [a, b] = process.argv.slice(2).map(read);
if (a.length !== b.length) {
  console.error(`sizes differ: ${a.length} vs ${b.length}`);
  process.exit(1);
}
let max = 0, se = 0;
for (let i = 0; i < a.length; i++) {
  const d = a[i] - b[i];
  max = Math.max(max, Math.abs(d));
  se += d * d;
}
const psnr = se === 0 ? Infinity : 10 * Math.log10(255 * 255 / (se / a.length));
console.log(`ours vs ORT, same random input: max |Δ| ${max.toExponential(2)} (0…255), ` +
            `PSNR ${psnr.toFixed(1)} dB`);
process.exit(psnr >= 45 ? 0 : 1);
JS

: > "$work/ours.json"
: > "$work/ort.json"
i=0
while [ "$i" -lt "$rounds" ]; do
  ours --runs "$runs" >> "$work/ours.json"
  ort "$runs" "$threads" >> "$work/ort.json"
  i=$((i + 1))
done

node - "$work/ours.json" "$work/ort.json" "$side" <<'JS'
const fs = require('fs');
const read = (f) => fs.readFileSync(f, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
const [ours, ort] = process.argv.slice(2, 4).map(read);
const side = process.argv[4];
// medians of each process's runs, then the median and min across rounds
const med = (a) => { const s = [...a].sort((x, y) => x - y); return s[Math.floor(s.length / 2)]; };
const oursMed = med(ours.map((r) => r.median_ms)), ortMed = med(ort.map((r) => r.median_ms));
const oursMin = Math.min(...ours.map((r) => r.min_ms));
const ortMin = Math.min(...ort.map((r) => r.min_ms));
const gflop = ours[0].conv_gflop;
const gf = (ms) => (gflop / (ms / 1000)).toFixed(0);
console.log(`engine/nn ${side}²       : median ${oursMed.toFixed(0)} ms, min ${oursMin.toFixed(0)} ms ` +
            `→ ${gf(oursMed)} GFLOP/s (median), ${gf(oursMin)} GFLOP/s (min); ` +
            `${gflop.toFixed(1)} GFLOP`);
console.log(`onnxruntime-node ${side}²: median ${ortMed.toFixed(0)} ms, min ${ortMin.toFixed(0)} ms ` +
            `→ ${gf(ortMed)} GFLOP/s (median), ${gf(ortMin)} GFLOP/s (min)  [${ort[0].version}]`);
console.log(`ratio ours/ORT         : ${(oursMed / ortMed).toFixed(2)}× (median), ` +
            `${(oursMin / ortMin).toFixed(2)}× (min)`);
JS
