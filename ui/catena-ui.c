/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <gegl.h>

#include "catena-provider.h"
#include "catena-resources.h"
#include "catena-device-monitor.h"
#include "catena-ui.h"

void
catena_ui_register_resources (void)
{
  static gsize registered;

  if (g_once_init_enter (&registered))
    {
      /* Referencing the resource keeps its object in the static library at link time. */
      g_resources_register (catena_ui_get_resource ());
      g_once_init_leave (&registered, 1);
    }
}

void
catena_ui_init (void)
{
  static gsize initialized;

  if (g_once_init_enter (&initialized))
    {
      catena_engine_init ();
      catena_ui_register_resources ();
      adw_init ();
      g_once_init_leave (&initialized, 1);
    }
}

void
catena_ui_load_style (void)
{
  GtkCssProvider *provider = gtk_css_provider_new ();

  gtk_css_provider_load_from_resource (provider, CATENA_RESOURCE_PATH "/style.css");
  gtk_style_context_add_provider_for_display (gdk_display_get_default (),
                                              GTK_STYLE_PROVIDER (provider),
                                              GTK_STYLE_PROVIDER_PRIORITY_APPLICATION);
  g_object_unref (provider);
}

GFile *
catena_ui_dup_demo_project (void)
{
  const char *dirs[] = { CATENA_SOURCE_DATADIR, CATENA_DATADIR };

  for (guint i = 0; i < G_N_ELEMENTS (dirs); i++)
    {
      g_autofree char *path = g_build_filename (dirs[i], "demo", "demo.catena", NULL);
      if (g_file_test (path, G_FILE_TEST_IS_REGULAR))
        return g_file_new_for_path (path);
    }
  return NULL;
}

GSettings *
catena_ui_dup_settings (void)
{
  GSettingsSchemaSource *source = g_settings_schema_source_get_default ();
  g_autoptr (GSettingsSchema) schema = NULL;

  if (source)
    schema = g_settings_schema_source_lookup (source, CATENA_APPLICATION_ID, TRUE);
  if (schema == NULL)
    {
      g_debug ("Schema %s not found: settings are not saved", CATENA_APPLICATION_ID);
      return NULL;
    }
  return g_settings_new_full (schema, NULL, NULL);
}

static void
apply_comfyui_url (GSettings *settings, const char *key, gpointer user_data)
{
  g_autoptr (GVariant) user_value = g_settings_get_user_value (settings, "comfyui-url");
  g_autofree char *url = g_settings_get_string (settings, "comfyui-url");

  /* Left at its default, the environment (CATENA_COMFYUI_URL) still decides. */
  catena_provider_set_endpoint (catena_provider_get ("comfyui"), "base",
                                user_value && url[0] ? url : NULL);
}

void
catena_ui_watch_settings (GSettings *settings)
{
  g_return_if_fail (G_IS_SETTINGS (settings));

  g_signal_connect (settings, "changed::comfyui-url", G_CALLBACK (apply_comfyui_url), NULL);
  apply_comfyui_url (settings, "comfyui-url", NULL);
  /* where local models run: the "device" key → engine/nn */
  catena_device_monitor_bind_settings (catena_device_monitor_get_default (), settings);
}
