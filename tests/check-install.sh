#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
# `meson install` into a temporary DESTDIR works and the installed programs run: the CLI runs
# the installed demo project, the app starts far enough to print its options.
#   tests/check-install.sh BUILD_DIR PREFIX
set -eu
build=$1
prefix=$2
dest=$(mktemp -d)
trap 'rm -rf "$dest"' EXIT

meson install -C "$build" --no-rebuild --quiet --destdir "$dest" >/dev/null
root=$dest$prefix
test -x "$root/bin/catena-cli"
test -f "$root/share/applications/io.github.catena.Catena.desktop"
test -f "$root/share/metainfo/io.github.catena.Catena.metainfo.xml"
test -f "$root/share/glib-2.0/schemas/io.github.catena.Catena.gschema.xml"
test -f "$root/share/catena/demo/demo.catena"

"$root/bin/catena-cli" stages | grep -q '^import'
XDG_CACHE_HOME=$dest/cache CATENA_MODEL_DIR=$dest/no-models HOME=$dest \
  "$root/bin/catena-cli" run "$root/share/catena/demo/demo.catena" --out "$dest/out" >/dev/null
test -s "$dest/out/coffee.png"
if [ -x "$root/bin/catena" ]; then
  "$root/bin/catena" --help >/dev/null
fi
echo "installed into $root: ok"
