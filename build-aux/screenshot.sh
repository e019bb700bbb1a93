#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
# Regenerates docs/screenshot.png: the UI test renders the demo project's window to a PNG.
#   build-aux/screenshot.sh [BUILD_DIR]
set -e
src=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-"$src/_build"}
ninja -C "$build" tests/ui/test-window
CATENA_SCREENSHOT="$src/docs/screenshot.png" meson test -C "$build" --suite ui --print-errorlogs
echo "wrote $src/docs/screenshot.png"
