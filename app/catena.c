/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <glib/gi18n.h>
#include <locale.h>

#include "catena-ui.h"

/* Run from the build tree (build/app/catena), the schema is compiled into build/data and may
 * not be installed: point GSettings there. This must happen before the first GSettings call
 * (the default schema source is read once). Installed (no data/ next to bin/), or with
 * GSETTINGS_SCHEMA_DIR already set, nothing changes; without any schema the app runs on
 * defaults (catena_ui_dup_settings returns NULL). */
static void
use_uninstalled_schema (void)
{
  g_autofree char *exe = NULL;
  g_autofree char *dir = NULL;
  g_autofree char *compiled = NULL;

  if (g_getenv ("GSETTINGS_SCHEMA_DIR"))
    return;
  if (!(exe = g_file_read_link ("/proc/self/exe", NULL)))
    return;
  dir = g_build_filename (exe, "..", "..", "data", NULL);
  compiled = g_build_filename (dir, "gschemas.compiled", NULL);
  if (g_file_test (compiled, G_FILE_TEST_IS_REGULAR))
    {
      g_autofree char *canonical = g_canonicalize_filename (dir, NULL);
      g_setenv ("GSETTINGS_SCHEMA_DIR", canonical, TRUE);
    }
}

int
main (int argc, char *argv[])
{
  g_autoptr (CatenaApplication) app = NULL;

  setlocale (LC_ALL, "");
  bindtextdomain (GETTEXT_PACKAGE, LOCALEDIR);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  textdomain (GETTEXT_PACKAGE);
  use_uninstalled_schema ();

  app = catena_application_new ();
  return g_application_run (G_APPLICATION (app), argc, argv);
}
