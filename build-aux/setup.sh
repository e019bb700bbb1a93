#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Installs what is missing on Debian 12 (apt), configures and builds Catena.
#   build-aux/setup.sh           packages to build and run the app
#   build-aux/setup.sh --tests   also what the test suite needs (Xvfb, test photos, ONNX tests)
# Environment: CATENA_BUILD_DIR (default _build), CATENA_MESON_ARGS (extra meson options).
set -euo pipefail

cd "$(dirname "$0")/.."
build_dir=${CATENA_BUILD_DIR:-_build}

packages=(
  build-essential meson ninja-build pkg-config gettext
  libglib2.0-dev libglib2.0-dev-bin libgegl-dev libbabl-dev libjson-glib-dev
  libcurl4-openssl-dev libsecret-1-dev libprotobuf-c-dev protobuf-c-compiler libopenblas-dev
  libonnx-dev
  libgtk-4-dev libadwaita-1-dev
  python3 python3-skimage
  nodejs npm  # fetch-models.sh downloads the local models' weights with npm
)
if [[ ${1:-} == --tests ]]; then
  packages+=(xvfb xauth xdotool desktop-file-utils appstream-util libonnx-testdata libsoup-3.0-dev)
fi

missing=()
for p in "${packages[@]}"; do
  # npm/nodejs may come from elsewhere (e.g. NodeSource); a working binary is enough.
  if [[ $p == npm || $p == nodejs ]] && command -v "${p/nodejs/node}" >/dev/null 2>&1; then
    continue
  fi
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if ((${#missing[@]})); then
  sudo=""
  if [[ $(id -u) -ne 0 ]]; then
    sudo=sudo
  fi
  echo "setup: installing ${missing[*]}" >&2
  $sudo apt-get update -q
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

if [[ ! -f $build_dir/build.ninja ]]; then
  # shellcheck disable=SC2086
  meson setup "$build_dir" ${CATENA_MESON_ARGS:-}
fi
ninja -C "$build_dir"
