#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Installs what is missing (apt), builds, and opens Catena on the bundled demo project.
# Without a display (or without the GUI built) it runs the demo chain with catena-cli and
# prints where the outputs are. Everything is local: no network, no API key.
set -euo pipefail

cd "$(dirname "$0")/.."
build_dir=${CATENA_BUILD_DIR:-_build}
project=data/demo/demo.catena

build-aux/setup.sh

# The neural background remover is used when its weights are present (fetched once, cached).
if [[ -x build-aux/fetch-models.sh && -z ${CATENA_NO_MODELS:-} ]]; then
  build-aux/fetch-models.sh || echo "demo: model download failed; using the classical stages" >&2
fi

if [[ -x $build_dir/app/catena && ( -n ${DISPLAY:-} || -n ${WAYLAND_DISPLAY:-} ) ]]; then
  exec "$build_dir/app/catena" "$project"
fi

out=${CATENA_DEMO_OUT:-$PWD/$build_dir/demo-out}
echo "demo: no display; running the demo chain with catena-cli" >&2
"$build_dir/app/catena-cli" run "$project" --out "$out"
echo "demo: outputs are in $out"
