#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Checks engine/nn's TF.js loader and ESRGAN upscalers against @tensorflow/tfjs.
#
#   build-aux/check-esrgan-vs-tfjs.sh [--build DIR] [--image FILE] [--side N] [MODEL…]
#
# For each model (default: every installed esrgan-slim-x{2,3,4,8} and esrgan-medium-x{2,3,4,8}):
# 1. catena-nn-run upscale-tile (from the build dir, default _build-nn) runs the network on
#    the centre --side × --side crop (default 64) of the photo and dumps its input and raw
#    output;
# 2. @tensorflow/tfjs 4.22.0 (pure JS CPU backend), installed at check time into a scratch
#    folder (${XDG_CACHE_HOME:-~/.cache}/catena/tfjs, never the source tree), loads the same
#    model.json and shards and predicts on the same tensor;
# 3. PSNR (peak 255) of ours against tfjs must be ≥ 45 dB.
# Needs: node, npm, the models (build-aux/fetch-models.sh). Default photo: coffee.png from
# Debian's python3-skimage (public domain), extracted from the .deb if not installed.
set -eu

here="$(cd "$(dirname "$0")" && pwd)"
src="$(dirname "$here")"
build="$src/_build-nn"
image=""
side=64
while [ $# -gt 0 ]; do
  case "$1" in
    --build) build="$2"; shift 2 ;;
    --image) image="$2"; shift 2 ;;
    --side) side="$2"; shift 2 ;;
    -h|--help) sed -n '3,18p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) echo "check-esrgan-vs-tfjs: unknown argument $1" >&2; exit 2 ;;
    *) break ;;
  esac
done

say() { printf 'check-esrgan-vs-tfjs: %s\n' "$*"; }
die() { printf 'check-esrgan-vs-tfjs: error: %s\n' "$*" >&2; exit 1; }

run="${CATENA_NN_RUN:-$build/tests/nn/catena-nn-run}"
[ -x "$run" ] || die "$run not found: build first (meson setup _build-nn && ninja -C _build-nn)"
cache="${XDG_CACHE_HOME:-$HOME/.cache}/catena"
models="${CATENA_MODEL_DIR:-$cache/models}"

tfjs_dir="${CATENA_TFJS_DIR:-$cache/tfjs}"
if [ ! -f "$tfjs_dir/node_modules/@tensorflow/tfjs/package.json" ]; then
  say "installing @tensorflow/tfjs@4.22.0 into $tfjs_dir"
  mkdir -p "$tfjs_dir"
  [ -f "$tfjs_dir/package.json" ] || echo '{ "private": true }' > "$tfjs_dir/package.json"
  (cd "$tfjs_dir" && npm install --silent --no-audit --no-fund @tensorflow/tfjs@4.22.0) \
    || die "npm install @tensorflow/tfjs failed"
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

if [ $# -eq 0 ]; then
  for f in esrgan-slim esrgan-medium; do
    for s in 2 3 4 8; do
      [ -f "$models/$f-x$s/model.json" ] && set -- "$@" "$f-x$s"
    done
  done
  [ $# -gt 0 ] || die "no upscaler installed in $models: run build-aux/fetch-models.sh"
fi

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT INT TERM
fail=0
for m in "$@"; do
  dir="$models/$m"
  [ -f "$dir/model.json" ] || dir="$m"
  "$run" upscale-tile --model "$dir" --image "$image" --tile "$side" --runs 1 --json \
    --dump-input "$tmp/in.f32" --dump-output "$tmp/ours.f32" > "$tmp/ours.json" \
    || die "catena-nn-run failed on $m"
  line="$(node "$here/check-esrgan-vs-tfjs.mjs" "$tfjs_dir" "$dir" "$tmp/in.f32" "$tmp/ours.f32" "$side")" \
    || die "tfjs failed on $m"
  echo "$line"
  psnr="$(echo "$line" | sed 's/.*"psnr_db":\([^,]*\),.*/\1/')"
  if ! awk -v p="$psnr" 'BEGIN { exit !(p == "Infinity" || p + 0 >= 45) }'; then
    say "FAIL: $m PSNR $psnr dB < 45"
    fail=1
  fi
done
[ $fail -eq 0 ] && say "all models ≥ 45 dB against tfjs"
exit $fail
