#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
# Runs a UI test (or the preview benchmark) on a private X server.
if ! command -v xvfb-run >/dev/null 2>&1; then
  echo "1..0 # SKIP xvfb-run is not installed (apt-get install xvfb xauth)"
  exit 77
fi
export GDK_BACKEND=x11 GSK_RENDERER=cairo GTK_A11Y=none GSETTINGS_BACKEND=memory NO_AT_BRIDGE=1
exec xvfb-run -a -s '-screen 0 1600x1000x24' "$@"
