/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <glib/gi18n.h>

#include "catena-device-monitor.h"
#include "catena-preferences-window.h"
#include "catena-provider.h"

struct _CatenaPreferencesWindow
{
  AdwPreferencesWindow parent_instance;

  GSettings *settings;
  GCancellable *cancellable;
  GPtrArray *key_groups;
  gboolean checking;

  /* template */
  AdwPreferencesPage *providers_page;
  AdwPreferencesPage *general_page;
  AdwPreferencesGroup *comfyui_group;
  GtkWidget *comfyui_row;
  GtkWidget *comfyui_check_row;
  GtkWidget *comfyui_spinner;
  GtkWidget *comfyui_check_button;
  AdwPreferencesGroup *models_group;
  AdwPreferencesGroup *projects_group;
  GtkWidget *device_row;
  GtkWidget *autosave_spin;
};

G_DEFINE_FINAL_TYPE (CatenaPreferencesWindow, catena_preferences_window,
                     ADW_TYPE_PREFERENCES_WINDOW)

static const char *devices[] = { "auto", "cpu", "cuda" };

static gboolean
device_get_mapping (GValue *value, GVariant *variant, gpointer user_data)
{
  const char *nick = g_variant_get_string (variant, NULL);

  for (guint i = 0; i < G_N_ELEMENTS (devices); i++)
    if (g_str_equal (nick, devices[i]))
      {
        g_value_set_uint (value, i);
        return TRUE;
      }
  return FALSE;
}

static GVariant *
device_set_mapping (const GValue *value, const GVariantType *type, gpointer user_data)
{
  guint i = g_value_get_uint (value);

  return i < G_N_ELEMENTS (devices) ? g_variant_new_string (devices[i]) : NULL;
}

static char *
dup_comfyui_url (CatenaPreferencesWindow *self)
{
  return catena_provider_dup_endpoint (catena_provider_get ("comfyui"), "base");
}

static void
on_comfyui_setting_changed (CatenaPreferencesWindow *self)
{
  g_autofree char *url = dup_comfyui_url (self);

  /* What the provider uses: the setting, or the environment while the setting is default. */
  gtk_editable_set_text (GTK_EDITABLE (self->comfyui_row), url ? url : "");
  gtk_widget_remove_css_class (self->comfyui_row, "error");
}

/* http(s) with a host; the provider refuses plain http off this computer at run time with
 * its own sentence, so that is not repeated here. */
static gboolean
valid_server_url (const char *text)
{
  g_autoptr (GUri) uri = g_uri_parse (text, G_URI_FLAGS_NONE, NULL);
  const char *scheme = uri ? g_uri_get_scheme (uri) : NULL;

  return uri && (g_strcmp0 (scheme, "http") == 0 || g_strcmp0 (scheme, "https") == 0) &&
         g_uri_get_host (uri) && *g_uri_get_host (uri);
}

static void
on_comfyui_apply (CatenaPreferencesWindow *self)
{
  g_autofree char *text = g_strstrip (g_strdup (gtk_editable_get_text (
                                        GTK_EDITABLE (self->comfyui_row))));
  size_t len = strlen (text);

  while (len > 0 && text[len - 1] == '/')
    text[--len] = '\0';
  if (!valid_server_url (text))
    {
      gtk_widget_add_css_class (self->comfyui_row, "error");
      adw_preferences_window_add_toast (
        ADW_PREFERENCES_WINDOW (self),
        adw_toast_new (_("Enter an address such as http://127.0.0.1:8188")));
      return;
    }
  gtk_widget_remove_css_class (self->comfyui_row, "error");
  if (self->settings)
    g_settings_set_string (self->settings, "comfyui-url", text);
  else
    catena_provider_set_endpoint (catena_provider_get ("comfyui"), "base", text);
  on_comfyui_setting_changed (self);
}

static void
set_check_status (CatenaPreferencesWindow *self, const char *status)
{
  adw_action_row_set_subtitle (ADW_ACTION_ROW (self->comfyui_check_row), status);
  gtk_widget_set_visible (self->comfyui_spinner, self->checking);
  gtk_spinner_set_spinning (GTK_SPINNER (self->comfyui_spinner), self->checking);
  gtk_widget_set_sensitive (self->comfyui_check_button, !self->checking);
}

static void
on_comfyui_checked (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (CatenaPreferencesWindow) self = user_data;
  g_autoptr (GError) error = NULL;
  g_autofree char *text = NULL;

  if (!catena_secrets_test_key_finish (result, &error) &&
      g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  self->checking = FALSE;
  if (error)
    text = g_strdup_printf (_("No answer: %s"), error->message);
  else
    text = g_strdup (_("The server answers"));
  set_check_status (self, text);
}

static void
on_comfyui_check (CatenaPreferencesWindow *self)
{
  if (self->checking)
    return;
  self->checking = TRUE;
  set_check_status (self, _("Checking…"));
  catena_secrets_test_key_async ("comfyui", NULL, self->cancellable, on_comfyui_checked,
                                 g_object_ref (self));
}

/* A page scrolls in a focusable scrolled window: name it after the page. */
static void
label_page (AdwPreferencesPage *page)
{
  for (GtkWidget *child = gtk_widget_get_first_child (GTK_WIDGET (page)); child;
       child = gtk_widget_get_next_sibling (child))
    if (GTK_IS_SCROLLED_WINDOW (child))
      gtk_accessible_update_property (GTK_ACCESSIBLE (child), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                      adw_preferences_page_get_title (page), -1);
}

static void
add_key_groups (CatenaPreferencesWindow *self)
{
  const char **names = catena_provider_list_names ();

  /* Providers that take a key, before the ComfyUI server. */
  for (guint i = 0; names && names[i]; i++)
    {
      GtkWidget *group;

      if (catena_secrets_get_env_name (names[i]) == NULL)
        continue;
      group = catena_api_key_group_new (names[i]);
      g_ptr_array_add (self->key_groups, group);
      adw_preferences_page_add (self->providers_page, ADW_PREFERENCES_GROUP (group));
    }
  /* The page keeps groups in the order they were added: move ComfyUI last. */
  g_object_ref (self->comfyui_group);
  adw_preferences_page_remove (self->providers_page, self->comfyui_group);
  adw_preferences_page_add (self->providers_page, self->comfyui_group);
  g_object_unref (self->comfyui_group);
}

static gboolean
device_subtitle (GBinding *binding, const GValue *from, GValue *to, gpointer user_data)
{
  /* TRANSLATORS: %s is where models run now, e.g. "GPU: NVIDIA RTX 4090" or "CPU, 8 threads" */
  g_value_take_string (to, g_strdup_printf (_("Background removal and upscaling. Now: %s"),
                                            g_value_get_string (from)));
  return TRUE;
}

static void
bind_settings (CatenaPreferencesWindow *self)
{
  if (self->settings == NULL)
    {
      const char *why = _("Settings cannot be saved: the io.github.catena.Catena schema is not "
                          "installed.");
      adw_preferences_group_set_description (self->models_group, why);
      adw_preferences_group_set_description (self->projects_group, why);
      gtk_widget_set_sensitive (self->device_row, FALSE);
      gtk_widget_set_sensitive (self->autosave_spin, FALSE);
    }
  else
    {
      g_settings_bind_with_mapping (self->settings, "device", self->device_row, "selected",
                                    G_SETTINGS_BIND_DEFAULT, device_get_mapping,
                                    device_set_mapping, NULL, NULL);
      /* the monitor follows the same key: its description is where models run now */
      g_object_bind_property_full (catena_device_monitor_get_default (), "description",
                                   self->device_row, "subtitle", G_BINDING_SYNC_CREATE,
                                   device_subtitle, NULL, NULL, NULL);
      g_settings_bind (self->settings, "autosave-interval", self->autosave_spin, "value",
                       G_SETTINGS_BIND_DEFAULT);
      g_signal_connect_object (self->settings, "changed::comfyui-url",
                               G_CALLBACK (on_comfyui_setting_changed), self,
                               G_CONNECT_SWAPPED | G_CONNECT_AFTER);
    }
  on_comfyui_setting_changed (self);
}

static void
catena_preferences_window_dispose (GObject *object)
{
  CatenaPreferencesWindow *self = CATENA_PREFERENCES_WINDOW (object);

  g_cancellable_cancel (self->cancellable);
  gtk_widget_dispose_template (GTK_WIDGET (self), CATENA_TYPE_PREFERENCES_WINDOW);
  g_clear_object (&self->settings);
  g_clear_pointer (&self->key_groups, g_ptr_array_unref);

  G_OBJECT_CLASS (catena_preferences_window_parent_class)->dispose (object);
}

static void
catena_preferences_window_finalize (GObject *object)
{
  CatenaPreferencesWindow *self = CATENA_PREFERENCES_WINDOW (object);

  g_clear_object (&self->cancellable);

  G_OBJECT_CLASS (catena_preferences_window_parent_class)->finalize (object);
}

static void
catena_preferences_window_class_init (CatenaPreferencesWindowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = catena_preferences_window_dispose;
  object_class->finalize = catena_preferences_window_finalize;

  gtk_widget_class_set_template_from_resource (
    widget_class, "/io/github/catena/Catena/catena-preferences-window.ui");
  gtk_widget_class_bind_template_child (widget_class, CatenaPreferencesWindow, providers_page);
  gtk_widget_class_bind_template_child (widget_class, CatenaPreferencesWindow, general_page);
  gtk_widget_class_bind_template_child (widget_class, CatenaPreferencesWindow, comfyui_group);
  gtk_widget_class_bind_template_child (widget_class, CatenaPreferencesWindow, comfyui_row);
  gtk_widget_class_bind_template_child (widget_class, CatenaPreferencesWindow,
                                        comfyui_check_row);
  gtk_widget_class_bind_template_child (widget_class, CatenaPreferencesWindow, comfyui_spinner);
  gtk_widget_class_bind_template_child (widget_class, CatenaPreferencesWindow,
                                        comfyui_check_button);
  gtk_widget_class_bind_template_child (widget_class, CatenaPreferencesWindow, models_group);
  gtk_widget_class_bind_template_child (widget_class, CatenaPreferencesWindow, projects_group);
  gtk_widget_class_bind_template_child (widget_class, CatenaPreferencesWindow, device_row);
  gtk_widget_class_bind_template_child (widget_class, CatenaPreferencesWindow, autosave_spin);
  gtk_widget_class_bind_template_callback (widget_class, on_comfyui_apply);
  gtk_widget_class_bind_template_callback (widget_class, on_comfyui_check);
}

static void
catena_preferences_window_init (CatenaPreferencesWindow *self)
{
  self->cancellable = g_cancellable_new ();
  self->key_groups = g_ptr_array_new ();
  gtk_widget_init_template (GTK_WIDGET (self));
  label_page (self->providers_page);
  label_page (self->general_page);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->autosave_spin),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, _("Autosave interval in seconds"),
                                  -1);
}

GtkWidget *
catena_preferences_window_new (GtkWindow *parent, GSettings *settings)
{
  CatenaPreferencesWindow *self;

  g_return_val_if_fail (settings == NULL || G_IS_SETTINGS (settings), NULL);

  self = g_object_new (CATENA_TYPE_PREFERENCES_WINDOW, "transient-for", parent, NULL);
  self->settings = settings ? g_object_ref (settings) : NULL;
  add_key_groups (self);
  bind_settings (self);
  return GTK_WIDGET (self);
}

CatenaApiKeyGroup *
catena_preferences_window_get_key_group (CatenaPreferencesWindow *self, const char *provider)
{
  g_return_val_if_fail (CATENA_IS_PREFERENCES_WINDOW (self), NULL);

  for (guint i = 0; i < self->key_groups->len; i++)
    if (g_strcmp0 (catena_api_key_group_get_provider (self->key_groups->pdata[i]), provider) ==
        0)
      return self->key_groups->pdata[i];
  return NULL;
}

GtkWidget *
catena_preferences_window_get_comfyui_row (CatenaPreferencesWindow *self)
{
  g_return_val_if_fail (CATENA_IS_PREFERENCES_WINDOW (self), NULL);
  return self->comfyui_row;
}

const char *
catena_preferences_window_get_comfyui_status (CatenaPreferencesWindow *self)
{
  g_return_val_if_fail (CATENA_IS_PREFERENCES_WINDOW (self), NULL);
  return adw_action_row_get_subtitle (ADW_ACTION_ROW (self->comfyui_check_row));
}

gboolean
catena_preferences_window_is_busy (CatenaPreferencesWindow *self)
{
  g_return_val_if_fail (CATENA_IS_PREFERENCES_WINDOW (self), FALSE);

  if (self->checking)
    return TRUE;
  for (guint i = 0; i < self->key_groups->len; i++)
    if (catena_api_key_group_is_busy (self->key_groups->pdata[i]))
      return TRUE;
  return FALSE;
}
