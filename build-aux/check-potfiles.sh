#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Every source file with translatable strings must be listed in po/POTFILES.in (and every
# listed file must exist), so no user-visible text escapes translation.
set -euo pipefail
cd "${1:-$(dirname "$0")/..}"
status=0
listed=$(grep -v '^#' po/POTFILES.in | sed '/^$/d' | sort)
found=$( (grep -rlE '(^|[^A-Za-z0-9_])(N?_|C_|NC_|g_dngettext)\s*\(\s*"' --include='*.c' engine ui app 2>/dev/null || true;
          grep -rl 'translatable="yes"' --include='*.ui' ui 2>/dev/null || true) | sort -u)
for f in $found; do
  if ! grep -qxF "$f" <<<"$listed"; then
    echo "not in po/POTFILES.in: $f"
    status=1
  fi
done
for f in $listed; do
  if [[ ! -f $f ]]; then
    echo "listed in po/POTFILES.in but missing: $f"
    status=1
  fi
done
exit $status
