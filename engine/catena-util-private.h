/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* GLib 2.74 has no g_set_str(): replaces *dest with a copy of value; TRUE when it changed, so
 * callers notify only on a real change. */
static inline gboolean
catena_set_str (char **dest, const char *value)
{
  if (g_strcmp0 (*dest, value) == 0)
    return FALSE;
  g_free (*dest);
  *dest = g_strdup (value);
  return TRUE;
}

G_END_DECLS
