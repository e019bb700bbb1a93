#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
# replay.sh HARNESS CORPUS_DIR CRASHES_DIR PREFIX: the corpus plus this harness's reproducers.
set -eu
exe=$1 corpus=$2 crashes=$3 prefix=$4
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for f in "$crashes"/"$prefix"*; do
  [ -f "$f" ] && cp "$f" "$tmp/"
done
exec "$exe" "$corpus" "$tmp"
