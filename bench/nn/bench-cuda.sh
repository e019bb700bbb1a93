#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
#
# engine/nn on the GPU against engine/nn on the CPU (docs/cuda.md). Needs a CUDA build
# (meson setup _build-cuda; the `cuda` feature found nvcc and cuBLAS), a CUDA device, and the
# weights (build-aux/fetch-models.sh).
#
#   bench/nn/bench-cuda.sh [--build DIR] [--runs N] [--threads T] [--tile T] [--cpu-runs N]
#
# ISNet: latency of one 1×3×1024×1024 graph run (median of N after a warm-up), CPU vs CUDA,
# with the achieved GFLOP/s on the Conv nodes. ESRGAN (esrgan-medium ×4): the time of one
# T×T window (default 256), turned into output megapixels per second for a 4K output
# (3840×2160 from 960×540): windows = ceil(960 / (T − 2r)) · ceil(540 / (T − 2r)) with r the
# receptive radius (18), MP/s = 8.29 / (windows · window time). Transfers to and from the
# device are inside the timings (they are part of a run). The GPU lines are repeated for each
# precision of the convolutions' GEMMs (CATENA_NN_CUDA_PRECISION): fp32 (the default, within
# 1e-5 of the CPU), tf32 and fp16 (tensor cores, fp32 sums). ESRGAN is also timed with
# --tile 512, the upscaler's default window on the GPU.
set -eu

here="$(cd "$(dirname "$0")" && pwd)"
src="$(dirname "$(dirname "$here")")"
build="$src/_build-cuda"
runs=10
cpu_runs=2
threads="$(nproc)"
tile=256
while [ $# -gt 0 ]; do
  case "$1" in
    --build) build="$2"; shift 2 ;;
    --runs) runs="$2"; shift 2 ;;
    --cpu-runs) cpu_runs="$2"; shift 2 ;;
    --threads) threads="$2"; shift 2 ;;
    --tile) tile="$2"; shift 2 ;;
    -h|--help) sed -n '3,16p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "bench-cuda: unknown argument $1" >&2; exit 2 ;;
  esac
done

die() { printf 'bench-cuda: error: %s\n' "$*" >&2; exit 1; }

run="${CATENA_NN_RUN:-$build/tests/nn/catena-nn-run}"
[ -x "$run" ] || die "$run not found: meson setup _build-cuda && ninja -C _build-cuda"
cache="${XDG_CACHE_HOME:-$HOME/.cache}/catena"
models="${CATENA_MODEL_DIR:-$cache/models}"
isnet="$models/isnet-medium.onnx"
esrgan="$models/esrgan-medium-x4"
[ -f "$isnet" ] || die "$isnet is missing: run build-aux/fetch-models.sh"
[ -d "$esrgan" ] || die "$esrgan is missing: run build-aux/fetch-models.sh --only esrgan"

echo "machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'), $(nproc) CPUs"
if command -v nvidia-smi > /dev/null; then
  echo "gpu: $(nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader)"
fi
echo "runs=$runs (cpu $cpu_runs) threads=$threads tile=$tile"

field() { sed -n "s/.*\"$1\": \([0-9.]*\).*/\1/p"; }

isnet_line() {
  out="$("$run" model "$isnet" --json --threads "$threads" --runs "$2" --device "$1" | tail -n 1)"
  ms="$(echo "$out" | field median_ms)"
  gf="$(echo "$out" | field conv_gflop)"
  awk -v d="$1${3:+ $3}" -v ms="$ms" -v gf="$gf" \
    'BEGIN { printf "ISNet 1024²  %-9s  %9.1f ms  %8.1f GFLOP/s\n", d, ms, gf / (ms / 1000) }'
}

esrgan_line() {
  out="$("$run" upscale-tile --model "$esrgan" --tile "$tile" --json --threads "$threads" \
         --runs "$2" --device "$1" | tail -n 1)"
  ms="$(echo "$out" | field median_ms)"
  gf="$(echo "$out" | field conv_gflop)"
  awk -v d="$1${3:+ $3}" -v ms="$ms" -v gf="$gf" -v t="$tile" 'BEGIN {
    step = t - 2 * 18; n = int((960 + step - 1) / step) * int((540 + step - 1) / step);
    printf "ESRGAN ×4 %d² window  %-9s  %8.1f ms  %8.1f GFLOP/s  → 4K output %.2f MP/s (%d windows)\n",
           t, d, ms, gf / (ms / 1000), 3840 * 2160 / 1e6 / (n * ms / 1000), n }'
}

isnet_line cpu "$cpu_runs"
for p in fp32 tf32 fp16; do
  export CATENA_NN_CUDA_PRECISION=$p; isnet_line cuda "$runs" "$p"
done
esrgan_line cpu "$cpu_runs"
for p in fp32 tf32 fp16; do
  export CATENA_NN_CUDA_PRECISION=$p; esrgan_line cuda "$runs" "$p"
done
tile=512
for p in fp32 fp16; do
  export CATENA_NN_CUDA_PRECISION=$p; esrgan_line cuda "$runs" "$p"
done
unset CATENA_NN_CUDA_PRECISION
