/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <glib/gi18n.h>

#include "catena-application.h"
#include "catena-ui.h"

struct _CatenaApplication
{
  AdwApplication parent_instance;

  GSettings *settings; /* NULL without the schema */
  gboolean recovery_offered;
};

G_DEFINE_FINAL_TYPE (CatenaApplication, catena_application, ADW_TYPE_APPLICATION)

/* Every accelerator of the application, in one place (the help overlay lists the same). */
static const struct
{
  const char *action;
  const char *accels[3];
} accels[] = {
  { "app.quit", { "<Ctrl>q", NULL } },
  { "app.preferences", { "<Ctrl>comma", NULL } },
  { "win.open", { "<Ctrl>o", NULL } },
  { "win.save", { "<Ctrl>s", NULL } },
  { "win.save-as", { "<Ctrl><Shift>s", NULL } },
  { "win.add-assets", { "<Ctrl>i", NULL } },
  { "win.undo", { "<Ctrl>z", NULL } },
  { "win.redo", { "<Ctrl><Shift>z", "<Ctrl>y", NULL } },
  { "win.run", { "<Ctrl>r", NULL } },
  { "win.run-all", { "<Ctrl><Shift>r", NULL } },
  { "win.cancel", { "<Ctrl>period", NULL } },
  { "win.zoom-fit", { "<Ctrl>0", NULL } },
  { "win.zoom-100", { "<Ctrl>1", NULL } },
  { "win.zoom-in", { "<Ctrl>plus", "<Ctrl>equal", NULL } },
  { "win.zoom-out", { "<Ctrl>minus", NULL } },
  { "win.toggle-split", { "<Ctrl>b", NULL } },
  { "window.close", { "<Ctrl>w", NULL } },
};

static CatenaWindow *
new_window (CatenaApplication *self)
{
  return catena_window_new (GTK_APPLICATION (self));
}

static void
open_or_toast (CatenaWindow *window, GFile *file)
{
  g_autoptr (GError) error = NULL;

  if (file != NULL && !catena_window_load (window, file, &error))
    {
      g_autofree char *message = g_strdup_printf (_("Could not open the project: %s"),
                                                  error->message);
      AdwToast *toast = adw_toast_new (message);
      GtkWidget *overlay = gtk_window_get_child (GTK_WINDOW (window));
      if (ADW_IS_TOAST_OVERLAY (overlay))
        adw_toast_overlay_add_toast (ADW_TOAST_OVERLAY (overlay), toast);
      g_printerr ("%s\n", message);
    }
}

/* Crash recovery: autosaves left by a previous run are offered once, at start-up. */
static void
on_recover_response (AdwMessageDialog *dialog, const char *response, CatenaApplication *self)
{
  g_autoptr (GPtrArray) entries = catena_autosave_list ();

  for (guint i = 0; i < entries->len; i++)
    {
      CatenaAutosaveEntry *entry = g_ptr_array_index (entries, i);

      if (entry->live)
        continue; /* this window's, or another running Catena's: neither is ours to touch */
      if (g_strcmp0 (response, "recover") == 0)
        {
          g_autoptr (GError) error = NULL;
          g_autoptr (CatenaProject) project = catena_autosave_recover (entry, &error);
          CatenaWindow *window;

          if (project == NULL)
            {
              g_warning ("%s", error->message);
              continue;
            }
          window = new_window (self);
          catena_window_set_project (window, project);
          catena_window_mark_recovered (window);
          gtk_window_present (GTK_WINDOW (window));
          /* Keep it safe under the recovered project's own slot before dropping the old one. */
          if (!catena_autosave_write (project, &error))
            {
              g_warning ("%s", error->message);
              continue;
            }
          if (catena_project_get_file (project) != NULL)
            continue; /* same slot: removed when the user saves */
        }
      catena_autosave_delete (entry);
    }
}

static void
offer_recovery (CatenaApplication *self, GtkWindow *parent)
{
  g_autoptr (GPtrArray) entries = catena_autosave_list ();
  g_autoptr (GString) body = g_string_new (NULL);
  GtkWidget *dialog;

  for (guint i = 0; i < entries->len; i++)
    {
      CatenaAutosaveEntry *entry = g_ptr_array_index (entries, i);
      g_autofree char *when = NULL;

      if (entry->live)
        continue; /* another Catena, still running, has this project open */
      when = g_date_time_format (entry->saved_at, "%x %X");
      g_string_append_printf (body, "%s%s (%s)", body->len ? "\n" : "",
                              entry->name ? entry->name : _("Unsaved project"), when);
    }
  if (body->len == 0)
    return;
  dialog = adw_message_dialog_new (parent, _("Recover Unsaved Work?"), NULL);
  adw_message_dialog_format_body (ADW_MESSAGE_DIALOG (dialog),
                                  _("Catena closed without saving these projects:\n%s"),
                                  body->str);
  adw_message_dialog_add_responses (ADW_MESSAGE_DIALOG (dialog), "discard", _("_Discard"),
                                    "recover", _("_Recover"), NULL);
  adw_message_dialog_set_response_appearance (ADW_MESSAGE_DIALOG (dialog), "discard",
                                              ADW_RESPONSE_DESTRUCTIVE);
  adw_message_dialog_set_response_appearance (ADW_MESSAGE_DIALOG (dialog), "recover",
                                              ADW_RESPONSE_SUGGESTED);
  adw_message_dialog_set_default_response (ADW_MESSAGE_DIALOG (dialog), "recover");
  g_signal_connect_object (dialog, "response", G_CALLBACK (on_recover_response), self, 0);
  gtk_window_present (GTK_WINDOW (dialog));
}

static void
catena_application_activate (GApplication *app)
{
  CatenaApplication *self = CATENA_APPLICATION (app);
  GtkWindow *window = gtk_application_get_active_window (GTK_APPLICATION (app));
  g_autoptr (GFile) demo = NULL;

  if (window == NULL)
    {
      window = GTK_WINDOW (new_window (self));
      demo = catena_ui_dup_demo_project ();
      if (demo)
        open_or_toast (CATENA_WINDOW (window), demo);
      else
        {
          g_autoptr (CatenaProject) project = catena_project_new ();
          catena_window_set_project (CATENA_WINDOW (window), project);
        }
    }
  gtk_window_present (window);
  if (!self->recovery_offered)
    {
      self->recovery_offered = TRUE;
      offer_recovery (self, window);
    }
}

static void
catena_application_open (GApplication *app, GFile **files, int n_files, const char *hint)
{
  CatenaApplication *self = CATENA_APPLICATION (app);

  for (int i = 0; i < n_files; i++)
    {
      CatenaWindow *window = new_window (self);
      open_or_toast (window, files[i]);
      gtk_window_present (GTK_WINDOW (window));
    }
}

static void
catena_application_startup (GApplication *app)
{
  CatenaApplication *self = CATENA_APPLICATION (app);

  G_APPLICATION_CLASS (catena_application_parent_class)->startup (app);

  catena_ui_init ();
  self->settings = catena_ui_dup_settings ();
  if (self->settings)
    catena_ui_watch_settings (self->settings);
  for (guint i = 0; i < G_N_ELEMENTS (accels); i++)
    gtk_application_set_accels_for_action (GTK_APPLICATION (app), accels[i].action,
                                           accels[i].accels);
}

static void
action_quit (GSimpleAction *action, GVariant *param, gpointer user_data)
{
  GtkApplication *app = user_data;
  GList *windows = g_list_copy (gtk_application_get_windows (app));

  /* Each window asks about its own unsaved changes. */
  for (GList *l = windows; l; l = l->next)
    gtk_window_close (l->data);
  g_list_free (windows);
}

static void
action_about (GSimpleAction *action, GVariant *param, gpointer user_data)
{
  GtkApplication *app = user_data;
  const char *developers[] = { "The Catena authors", NULL };

  adw_show_about_window (gtk_application_get_active_window (app),
                         "application-name", _("Catena"),
                         "application-icon", CATENA_APPLICATION_ID,
                         "version", PACKAGE_VERSION,
                         "comments", _("Chains of image models for creative teams"),
                         "developers", developers,
                         "license-type", GTK_LICENSE_GPL_3_0,
                         NULL);
}

static void
action_preferences (GSimpleAction *action, GVariant *param, gpointer user_data)
{
  CatenaApplication *self = user_data;
  GtkWindow *parent = gtk_application_get_active_window (GTK_APPLICATION (self));
  GtkWidget *window = catena_preferences_window_new (parent, self->settings);

  gtk_window_set_application (GTK_WINDOW (window), GTK_APPLICATION (self));
  gtk_window_present (GTK_WINDOW (window));
}

static const GActionEntry app_actions[] = {
  { "quit", action_quit },
  { "preferences", action_preferences },
  { "about", action_about },
};

static void
catena_application_dispose (GObject *object)
{
  CatenaApplication *self = CATENA_APPLICATION (object);

  g_clear_object (&self->settings);

  G_OBJECT_CLASS (catena_application_parent_class)->dispose (object);
}

static void
catena_application_class_init (CatenaApplicationClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GApplicationClass *app_class = G_APPLICATION_CLASS (klass);

  object_class->dispose = catena_application_dispose;
  app_class->activate = catena_application_activate;
  app_class->open = catena_application_open;
  app_class->startup = catena_application_startup;
}

static void
catena_application_init (CatenaApplication *self)
{
  g_action_map_add_action_entries (G_ACTION_MAP (self), app_actions, G_N_ELEMENTS (app_actions),
                                   self);
}

CatenaApplication *
catena_application_new (void)
{
  /* GtkApplication and AdwApplication look for help-overlay.ui and style.css at startup. */
  catena_ui_register_resources ();
  return g_object_new (CATENA_TYPE_APPLICATION,
                       "application-id", CATENA_APPLICATION_ID,
                       "resource-base-path", CATENA_RESOURCE_PATH,
                       "flags", G_APPLICATION_HANDLES_OPEN | G_APPLICATION_NON_UNIQUE,
                       NULL);
}
