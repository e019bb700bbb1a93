#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Builds bench/nn/bench-conv.c against a build directory's engine/nn and runs it:
#
#   bench/nn/bench-conv.sh [--build DIR] C M H W [DILATION] [RUNS]
#
# e.g. `CATENA_NN_WINOGRAD=0 bench/nn/bench-conv.sh --build _build-perf 64 64 512 512` for an
# A/B of one of ISNet's convs. The binary is written into DIR/bench-nn-conv.
set -eu

here="$(cd "$(dirname "$0")" && pwd)"
src="$(dirname "$(dirname "$here")")"
build="$src/_build-nn"
if [ "${1:-}" = "--build" ]; then
  build="$2"
  shift 2
fi
case "$build" in /*) ;; *) build="$PWD/$build" ;; esac
bin="$build/bench-nn-conv"
lib="$build/engine/nn/libcatena-nn.a"
[ -f "$lib" ] || { echo "bench-conv: $lib not found: build first" >&2; exit 1; }
if [ ! -x "$bin" ] || [ -n "$(find "$lib" "$here/bench-conv.c" -newer "$bin")" ]; then
  # the same link line as tests/nn/catena-nn-run (CUDA libraries included when built)
  link="$(sed -n '/^build tests\/nn\/catena-nn-run:/,/^$/p' "$build/build.ninja" \
          | sed -n 's/^ LINK_ARGS = //p')"
  # word splitting wanted: flag lists
  # shellcheck disable=SC2046,SC2086
  (cd "$build" && ${CC:-cc} -O2 -o "$bin" "$here/bench-conv.c" -I"$build" -I"$build/engine/nn" \
     -I"$src/engine/nn" -I"$src/tests/nn" $(pkg-config --cflags glib-2.0 libprotobuf-c) $link)
fi
exec "$bin" "$@"
