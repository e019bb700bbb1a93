#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Checks every translation in po/LINGUAS against a template extracted from the sources now
# (the same xgettext keywords as i18n.gettext's glib preset), so a string added without
# updating the .po files fails here with its text, not silently in a release.
#
# usage: check-po.sh SOURCE_ROOT WORK_DIR
set -euo pipefail
src=${1:?source root}
work=${2:-$(mktemp -d)}
mkdir -p "$work"
cd "$src"

for tool in xgettext msgfmt msgmerge msgattrib; do
  command -v "$tool" >/dev/null || { echo "Bail out! $tool is missing (gettext)"; exit 1; }
done

pot=$work/catena.pot
grep -v '^#' po/POTFILES.in | sed '/^$/d' > "$work/POTFILES"
xgettext --package-name=catena --from-code=UTF-8 --add-comments --no-wrap \
  --files-from="$work/POTFILES" --directory="$src" --output="$pot" \
  --keyword=_ --keyword=N_ --keyword=C_:1c,2 --keyword=NC_:1c,2 \
  --keyword=g_dcgettext:2 --keyword=g_dngettext:2,3 --keyword=g_dpgettext2:2c,3 \
  --flag=N_:1:pass-c-format --flag=C_:2:pass-c-format --flag=NC_:2:pass-c-format \
  --flag=g_dngettext:2:pass-c-format --flag=g_strdup_printf:1:c-format \
  --flag=g_string_printf:2:c-format --flag=g_string_append_printf:2:c-format \
  --flag=g_error_new:3:c-format --flag=g_set_error:4:c-format \
  --flag=g_markup_printf_escaped:1:c-format --flag=g_printerr:1:c-format \
  --flag=g_print:1:c-format --flag=g_printf:1:c-format \
  2>"$work/xgettext.log" || { cat "$work/xgettext.log"; echo "Bail out! xgettext failed"; exit 1; }

langs=$(grep -v '^#' po/LINGUAS | sed '/^$/d')
n=$(echo "$langs" | wc -w)
echo "1..$((n * 2))"
i=0
status=0
for lang in $langs; do
  po=po/$lang.po
  i=$((i + 1))
  if out=$(msgfmt --check --statistics -o /dev/null "$po" 2>&1); then
    echo "ok $i - $lang: msgfmt --check ($out)"
  else
    echo "not ok $i - $lang: msgfmt --check"
    sed 's/^/# /' <<<"$out"
    status=1
  fi

  i=$((i + 1))
  merged=$work/$lang.po
  # No fuzzy matching: a guessed translation of a new string is not a translation.
  msgmerge --quiet --no-fuzzy-matching --no-wrap -o "$merged" "$po" "$pot"
  stats=$(msgfmt --statistics -o /dev/null "$merged" 2>&1)
  missing=$(msgattrib --untranslated --no-obsolete --no-wrap "$merged" | grep -c '^msgid ' || true)
  fuzzy=$(msgattrib --only-fuzzy --no-obsolete --no-wrap "$merged" | grep -c '^msgid ' || true)
  # Both counts include the header entry when there is anything to report.
  if [[ $missing -eq 0 && $fuzzy -eq 0 ]]; then
    echo "ok $i - $lang: every msgid of the sources is translated ($stats)"
  else
    echo "not ok $i - $lang: untranslated or fuzzy messages ($stats)"
    echo "# Update with: meson compile -C BUILDDIR catena-update-po, then translate:"
    { msgattrib --untranslated --no-obsolete --no-wrap "$merged"
      msgattrib --only-fuzzy --no-obsolete --no-wrap "$merged"; } |
      awk '/^#: / { print; next }
           /^msgid "/ { if ($0 != "msgid \"\"") print; on = 1; next }
           /^"/ && on { print; next }
           { on = 0 }' | sed 's/^/#   /'
    status=1
  fi
done
exit $status
