#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
# Runs a UI test (or the preview benchmark) on a private X server.
#
# Not `xvfb-run -a`: it picks a display number by looking for a free lock file and then
# starts Xvfb on it, so two UI tests started together by meson can pick the same number and
# one of them talks to the other's server or to none (a SIGSEGV at start-up in CI). With
# -displayfd, Xvfb itself claims the first free display (its lock file is created with
# O_EXCL) and writes the number to the descriptor once it accepts connections.
if ! command -v Xvfb >/dev/null 2>&1; then
  echo "1..0 # SKIP Xvfb is not installed (apt-get install xvfb)"
  exit 77
fi
export GDK_BACKEND=x11 GSK_RENDERER=cairo GTK_A11Y=none GSETTINGS_BACKEND=memory NO_AT_BRIDGE=1

tmp=$(mktemp -d "${TMPDIR:-/tmp}/catena-xvfb.XXXXXX") || exit 1
xvfb_pid=
cleanup () {
  if [ -n "$xvfb_pid" ]; then
    kill "$xvfb_pid" 2>/dev/null
    wait "$xvfb_pid" 2>/dev/null
  fi
  rm -rf "$tmp"
}
# The EXIT trap keeps the test's status; a signal becomes an exit so the trap runs.
trap cleanup EXIT
trap 'exit 129' HUP
trap 'exit 130' INT
trap 'exit 143' TERM

mkfifo "$tmp/displayfd" || exit 1
Xvfb -displayfd 3 -screen 0 1600x1000x24 -nolisten tcp 3>"$tmp/displayfd" \
  2>"$tmp/xvfb.log" &
xvfb_pid=$!
# Blocks until Xvfb writes its display number, or reads nothing if it exits first.
read -r display <"$tmp/displayfd"
case $display in
  '' | *[!0-9]*)
    echo "Bail out! Xvfb did not start"
    cat "$tmp/xvfb.log" >&2
    exit 1
    ;;
esac
export DISPLAY=":$display"
unset WAYLAND_DISPLAY

"$@"
