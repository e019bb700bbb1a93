#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Checks engine/nn's ISNet against onnxruntime-node on the same input tensor.
#
#   build-aux/check-isnet-vs-ort.sh [--build DIR] [--image FILE]
#
# 1. catena-nn-run (from the build dir, default _build-nn) preprocesses the photo exactly as
#    Catena does, runs ISNet and writes the input tensor and the raw 1024×1024 output;
# 2. onnxruntime-node 1.30.0 (CPU), installed at check time into a scratch folder
#    (${XDG_CACHE_HOME:-~/.cache}/catena/ort-1.30.0, never the source tree), runs the same
#    tensor through the same model file;
# 3. the outputs are compared: max / mean absolute difference, and the IoU of the masks
#    thresholded at 0.5, which must be ≥ 0.99.
# Needs: node, npm, the model (build-aux/fetch-models.sh). Default photo: coffee.png from
# Debian's python3-skimage (public domain), extracted from the .deb if not installed.
set -eu

here="$(cd "$(dirname "$0")" && pwd)"
src="$(dirname "$here")"
build="$src/_build-nn"
image=""
while [ $# -gt 0 ]; do
  case "$1" in
    --build) build="$2"; shift 2 ;;
    --image) image="$2"; shift 2 ;;
    -h|--help) sed -n '3,17p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "check-isnet-vs-ort: unknown argument $1" >&2; exit 2 ;;
  esac
done

say() { printf 'check-isnet-vs-ort: %s\n' "$*"; }
die() { printf 'check-isnet-vs-ort: error: %s\n' "$*" >&2; exit 1; }

run="${CATENA_NN_RUN:-$build/tests/nn/catena-nn-run}"
[ -x "$run" ] || die "$run not found: build first (meson setup _build-nn && ninja -C _build-nn)"
cache="${XDG_CACHE_HOME:-$HOME/.cache}/catena"
models="${CATENA_MODEL_DIR:-$cache/models}"
model="$models/isnet-medium.onnx"
[ -f "$model" ] || die "$model is missing: run build-aux/fetch-models.sh"

ort_dir="${CATENA_ORT_DIR:-$cache/ort-1.30.0}"
if [ ! -f "$ort_dir/node_modules/onnxruntime-node/package.json" ]; then
  say "installing onnxruntime-node@1.30.0 into $ort_dir (CPU only)"
  mkdir -p "$ort_dir"
  [ -f "$ort_dir/package.json" ] || echo '{ "private": true }' > "$ort_dir/package.json"
  (cd "$ort_dir" && ONNXRUNTIME_NODE_INSTALL_CUDA=skip npm install --silent --no-audit \
      --no-fund onnxruntime-node@1.30.0) || die "npm install onnxruntime-node failed"
fi

if [ -z "$image" ]; then
  image=/usr/lib/python3/dist-packages/skimage/data/coffee.png
  if [ ! -f "$image" ]; then
    photos="$cache/photos"
    if [ ! -f "$photos/usr/lib/python3/dist-packages/skimage/data/coffee.png" ]; then
      say "extracting coffee.png from Debian's python3-skimage package"
      mkdir -p "$photos"
      (cd "$photos" && apt-get download python3-skimage >/dev/null && dpkg -x python3-skimage_*.deb .) \
        || die "cannot fetch python3-skimage; pass --image FILE"
    fi
    image="$photos/usr/lib/python3/dist-packages/skimage/data/coffee.png"
  fi
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT INT TERM

say "engine/nn on $image"
"$run" isnet --model "$model" --image "$image" --runs 1 \
  --dump-input "$work/input.f32" --dump-output "$work/ours.f32"
say "onnxruntime-node on the same tensor"
node "$here/isnet-ort.mjs" run --ort-dir "$ort_dir" --model "$model" \
  --input "$work/input.f32" --output "$work/ort.f32" --runs 1
if node "$here/isnet-ort.mjs" compare "$work/ours.f32" "$work/ort.f32"; then
  say "PASS (IoU ≥ 0.99)"
else
  say "FAIL (IoU < 0.99)"
  exit 1
fi
