#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
# catena-cli --device and `catena-cli devices`: the choice is parsed everywhere, a bad value
# is refused with a sentence, and a run with --device cuda either uses the GPU or says why it
# could not and still writes the picture (computed on the CPU). TAP output.
# usage: test-cli-device.sh CATENA-CLI SOURCE-DIR
set -u
cli=$1
src=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
n=0
fails=0
ok () { n=$((n + 1)); echo "ok $n - $1"; }
not_ok () { n=$((n + 1)); fails=$((fails + 1)); echo "not ok $n - $1"; sed 's/^/# /' "$tmp/err"; }

echo "1..6"

if "$cli" devices >"$tmp/out" 2>"$tmp/err" && grep -q "^cpu	" "$tmp/out" \
   && grep -q "^cuda	" "$tmp/out" && grep -q "(--device auto)" "$tmp/out"; then
  ok "devices lists cpu, cuda and the choice"
else
  not_ok "devices lists cpu, cuda and the choice"
fi
sed 's/^/# /' "$tmp/out"

if "$cli" --device=cpu devices >"$tmp/out" 2>"$tmp/err" && grep -q "(--device cpu): CPU, " "$tmp/out"; then
  ok "--device=cpu before the command"
else
  not_ok "--device=cpu before the command"
fi

CATENA_DEVICE=cpu "$cli" devices >"$tmp/out" 2>"$tmp/err"
if grep -q "(--device cpu)" "$tmp/out"; then ok "CATENA_DEVICE=cpu"; else not_ok "CATENA_DEVICE=cpu"; fi

"$cli" devices --device tpu >"$tmp/out" 2>"$tmp/err"
rc=$?
if [ $rc -eq 2 ] && grep -q "unknown device “tpu”" "$tmp/err"; then
  ok "an unknown device is refused (exit 2)"
else
  not_ok "an unknown device is refused (exit 2, got $rc)"
fi

"$cli" stages --device >"$tmp/out" 2>"$tmp/err"
rc=$?
if [ $rc -eq 2 ] && grep -q "needs a value" "$tmp/err"; then
  ok "--device without a value is refused"
else
  not_ok "--device without a value is refused (got $rc)"
fi

# A neural upscale with --device cuda, with an empty cache so it really runs. Needs the
# esrgan-slim-x2 weights (found in ~/.cache/catena/models as well).
cat >"$tmp/chain.json" <<'JSON'
{ "format": "catena-chain", "version": 1, "stages": [
  { "kind": "import", "id": "import" },
  { "kind": "upscale", "id": "upscale",
    "params": { "factor": 2.0, "method": "neural", "network": "slim" } },
  { "kind": "export", "id": "export" } ] }
JSON
XDG_CACHE_HOME="$tmp/cache" "$cli" run --chain "$tmp/chain.json" --input "$src/data/demo/coffee.png" --device cuda \
  --out "$tmp/out-dir" >"$tmp/out" 2>"$tmp/err"
rc=$?
if grep -q "is not installed" "$tmp/err"; then
  echo "ok 6 # SKIP the esrgan-slim-x2 weights are not installed"
  exit 0
fi
if [ $rc -eq 0 ] && [ -s "$(cut -f2 "$tmp/out" | head -1)" ] \
   && grep -q "^Local models run on the " "$tmp/err" \
   && { grep -q "^Local models run on the GPU: " "$tmp/err" \
        || grep -q "could not run a local model (.*); it ran on the CPU" "$tmp/err"; }; then
  ok "run --device cuda writes the picture and says where the model ran"
else
  not_ok "run --device cuda writes the picture and says where the model ran (rc $rc)"
fi
sed 's/^/# /' "$tmp/err"
[ $fails -eq 0 ]
