#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Fetches the weights of Catena's local models with the npm client and checks them.
#
#   build-aux/fetch-models.sh [--dir DIR] [--only isnet|esrgan]
#
# Installs into $CATENA_MODEL_DIR, else ${XDG_CACHE_HOME:-~/.cache}/catena/models:
#   isnet-medium.onnx          ISNet (background removal), reassembled from
#                              @imgly/background-removal-data@1.4.5 /models/medium
#   isnet-medium.LICENSE.md    that package's licence (AGPL-3.0): fetched, never committed
#   esrgan-{slim,medium}-x{2,3,4,8}/  upscalers (TF.js layers: model.json + shard, LICENSE)
#                              from @upscalerjs/esrgan-slim@1.0.0, esrgan-medium@1.0.0 (MIT)
#
# Idempotent: a model already there with the recorded checksum is left alone. Every ISNet
# chunk is checked against the SHA-256 that names it and against the byte offsets in the
# package's dist/resources.json, and the whole file against the checksum recorded below; the
# upscaler tarballs are checked against the SHA-256 recorded below before anything is unpacked.
set -eu

ISNET_PACKAGE="@imgly/background-removal-data@1.4.5"
ISNET_RESOURCE="/models/medium"
ISNET_FILE="isnet-medium.onnx"
ISNET_SIZE=88188479
ISNET_SHA256="b6e8497ba978a6f5fbb647e419d2696cd80df5a23cb6a8ea532021911bd76acb"

# @upscalerjs/esrgan-slim@1.0.0 also holds @upscalerjs/default-model@1.0.0 (its x2 files are
# byte-identical to default-model's), so default-model is not fetched separately.
ESRGAN_PACKAGES="esrgan-slim:1.0.0:b53070ff01363e74d33138106dcc72b58d341c9fb7e8fd648554a4e7744142b5
esrgan-medium:1.0.0:367471ded0629387b9aabc75183be0b80d39d46c3f509945ebde4f5bf7a49627"
ESRGAN_SCALES="2 3 4 8"

dir="${CATENA_MODEL_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/catena/models}"
only=""
while [ $# -gt 0 ]; do
  case "$1" in
    --dir) dir="$2"; shift 2 ;;
    --dir=*) dir="${1#--dir=}"; shift ;;
    --only) only="$2"; shift 2 ;;
    --only=*) only="${1#--only=}"; shift ;;
    -h|--help) sed -n '3,18p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "fetch-models: unknown argument $1" >&2; exit 2 ;;
  esac
done

say() { printf 'fetch-models: %s\n' "$*"; }
die() { printf 'fetch-models: error: %s\n' "$*" >&2; exit 1; }

for tool in npm node tar sha256sum; do
  command -v "$tool" >/dev/null 2>&1 || die "$tool is needed (apt-get install npm coreutils tar)"
done

case "$only" in
  ""|isnet|esrgan) ;;
  *) die "--only takes isnet or esrgan" ;;
esac

mkdir -p "$dir"
target="$dir/$ISNET_FILE"

sha_of() { sha256sum "$1" | cut -d' ' -f1; }

work="$(mktemp -d "$dir/.fetch.XXXXXX")"
trap 'rm -rf "$work"' EXIT INT TERM

# ---- upscalers: npm pack, check the tarball, install one folder per model and scale ----
fetch_esrgan() {
  echo "$ESRGAN_PACKAGES" | while IFS=: read -r name version sha; do
    stamp="$dir/.$name-$version.sha256"
    # the stamp lists every installed file's checksum: verified, not just present
    if [ -f "$stamp" ] && (cd "$dir" && sha256sum --quiet -c "$stamp" >/dev/null 2>&1); then
      say "@upscalerjs/$name@$version already installed and verified in $dir"
      continue
    fi
    pw="$work/$name"
    mkdir -p "$pw"
    say "downloading @upscalerjs/$name@$version with npm pack"
    (cd "$pw" && npm pack --silent "@upscalerjs/$name@$version" >/dev/null) \
      || die "npm pack @upscalerjs/$name@$version failed"
    tarball="$(ls "$pw"/*.tgz 2>/dev/null | head -n 1)"
    [ -n "$tarball" ] || die "npm pack produced no tarball for $name"
    got="$(sha_of "$tarball")"
    [ "$got" = "$sha" ] || die "@upscalerjs/$name@$version checksum $got does not match the recorded $sha"
    tar -xzf "$tarball" -C "$pw" || die "cannot unpack $tarball"
    : > "$pw/stamp"
    for s in $ESRGAN_SCALES; do
      src="$pw/package/models/x$s"
      dst="$name-x$s"
      [ -f "$src/model.json" ] || die "$name has no models/x$s/model.json"
      rm -rf "$dir/$dst.new"
      mkdir -p "$dir/$dst.new"
      cp "$src"/model.json "$src"/*.bin "$dir/$dst.new/"
      cp "$pw/package/LICENSE" "$dir/$dst.new/LICENSE"
      rm -rf "$dir/$dst"
      mv "$dir/$dst.new" "$dir/$dst"
      (cd "$dir" && sha256sum "$dst"/*) >> "$pw/stamp"
    done
    mv "$pw/stamp" "$stamp"
    say "installed @upscalerjs/$name@$version (scales $ESRGAN_SCALES, MIT) in $dir"
  done
}

if [ "$only" != "isnet" ]; then
  fetch_esrgan
fi
[ "$only" = "esrgan" ] && exit 0

if [ -f "$target" ] && [ "$(sha_of "$target")" = "$ISNET_SHA256" ]; then
  say "$ISNET_FILE already installed and verified in $dir"
  exit 0
fi

say "downloading $ISNET_PACKAGE with npm pack (about 136 MB)"
(cd "$work" && npm pack --silent "$ISNET_PACKAGE" >/dev/null) || die "npm pack $ISNET_PACKAGE failed"
tarball="$(ls "$work"/*.tgz 2>/dev/null | head -n 1)"
[ -n "$tarball" ] || die "npm pack produced no tarball"
tar -xzf "$tarball" -C "$work" || die "cannot unpack $tarball"
pkg="$work/package"
[ -f "$pkg/dist/resources.json" ] || die "the package has no dist/resources.json"

say "reassembling $ISNET_RESOURCE from its chunks"
# node reads resources.json, checks each chunk's SHA-256 and offsets, and concatenates them.
node - "$pkg/dist" "$ISNET_RESOURCE" "$work/$ISNET_FILE" <<'EOF'
const fs = require('fs');
const path = require('path');
const crypto = require('crypto');
const [dist, key, out] = process.argv.slice(2);
const resources = JSON.parse(fs.readFileSync(path.join(dist, 'resources.json'), 'utf8'));
const entry = resources[key];
if (!entry || !Array.isArray(entry.chunks)) {
  console.error(`fetch-models: ${key} is not in resources.json`);
  process.exit(1);
}
const fd = fs.openSync(out, 'w');
let offset = 0;
for (const chunk of entry.chunks) {
  if (!/^[0-9a-f]{64}$/.test(chunk.hash)) {
    console.error(`fetch-models: bad chunk name ${chunk.hash}`);
    process.exit(1);
  }
  const data = fs.readFileSync(path.join(dist, chunk.hash));
  const sha = crypto.createHash('sha256').update(data).digest('hex');
  const [start, end] = chunk.offsets;
  if (sha !== chunk.hash || start !== offset || end - start !== data.length) {
    console.error(`fetch-models: chunk ${chunk.hash} does not match its checksum or offsets`);
    process.exit(1);
  }
  fs.writeSync(fd, data);
  offset += data.length;
}
fs.closeSync(fd);
if (offset !== entry.size) {
  console.error(`fetch-models: reassembled ${offset} bytes, resources.json says ${entry.size}`);
  process.exit(1);
}
console.log(`fetch-models: ${entry.chunks.length} chunks verified, ${offset} bytes`);
EOF

size="$(wc -c < "$work/$ISNET_FILE" | tr -d ' ')"
[ "$size" = "$ISNET_SIZE" ] || die "$ISNET_FILE has $size bytes, expected $ISNET_SIZE"
sum="$(sha_of "$work/$ISNET_FILE")"
[ "$sum" = "$ISNET_SHA256" ] || die "$ISNET_FILE checksum $sum does not match the recorded $ISNET_SHA256"

[ -f "$pkg/LICENSE.md" ] && cp "$pkg/LICENSE.md" "$dir/isnet-medium.LICENSE.md"
mv -f "$work/$ISNET_FILE" "$target"
say "installed $target (sha256 $ISNET_SHA256)"
say "licence: AGPL-3.0, see $dir/isnet-medium.LICENSE.md (the weights are never committed)"
