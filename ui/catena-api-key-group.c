/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <glib/gi18n.h>

#include "catena-api-key-group.h"
#include "catena-provider.h"

struct _CatenaApiKeyGroup
{
  AdwPreferencesGroup parent_instance;

  char *provider;
  CatenaKeyState state;
  char *status;
  guint n_busy;
  GCancellable *cancellable;

  GtkWidget *status_row;
  GtkWidget *spinner;
  GtkWidget *test_button;
  GtkWidget *forget_button;
  GtkWidget *entry;
};

G_DEFINE_FINAL_TYPE (CatenaApiKeyGroup, catena_api_key_group, ADW_TYPE_PREFERENCES_GROUP)

static const CatenaSecretsBackend engine_backend = {
  catena_secrets_store, catena_secrets_clear, catena_secrets_lookup,
  catena_secrets_test_key_async, catena_secrets_test_key_finish,
};
static const CatenaSecretsBackend *backend = &engine_backend;

void
catena_api_key_group_set_backend (const CatenaSecretsBackend *new_backend)
{
  backend = new_backend ? new_backend : &engine_backend;
}

/* Keys leave memory as soon as they are handed on. */
static void
wipe_free (char *key)
{
  if (key)
    {
      volatile char *p = key;
      while (*p)
        *p++ = 0;
      g_free (key);
    }
}

static const char *
provider_title (const char *provider)
{
  CatenaProvider *p = catena_provider_get (provider);

  return p ? g_dgettext (GETTEXT_PACKAGE, catena_provider_get_title (p)) : provider;
}

static const char *
env_override (CatenaApiKeyGroup *self)
{
  const char *name = catena_secrets_get_env_name (self->provider);
  const char *value = name ? g_getenv (name) : NULL;

  return value && *value ? name : NULL;
}

static void
update_widgets (CatenaApiKeyGroup *self)
{
  gboolean busy = self->n_busy > 0;
  gboolean has_text = *gtk_editable_get_text (GTK_EDITABLE (self->entry)) != '\0';

  adw_action_row_set_subtitle (ADW_ACTION_ROW (self->status_row), self->status);
  gtk_widget_set_visible (self->spinner, busy);
  gtk_spinner_set_spinning (GTK_SPINNER (self->spinner), busy);
  gtk_widget_set_sensitive (self->test_button,
                            !busy && (has_text || self->state == CATENA_KEY_STATE_STORED ||
                                      self->state == CATENA_KEY_STATE_ENVIRONMENT));
  gtk_widget_set_sensitive (self->forget_button, !busy && self->state == CATENA_KEY_STATE_STORED);
  gtk_widget_set_sensitive (self->entry, !busy);
}

static void
set_status (CatenaApiKeyGroup *self, CatenaKeyState state, const char *status)
{
  self->state = state;
  g_free (self->status);
  self->status = g_strdup (status);
  update_widgets (self);
}

static void
set_state (CatenaApiKeyGroup *self, CatenaKeyState state, const GError *error)
{
  g_autofree char *text = NULL;

  switch (state)
    {
    case CATENA_KEY_STATE_CHECKING:
      text = g_strdup (_("Looking in the keyring…"));
      break;
    case CATENA_KEY_STATE_ENVIRONMENT:
      /* Translators: %s is an environment variable such as FAL_KEY */
      text = g_strdup_printf (_("Set from the environment (%s): it is used instead of a key "
                                "saved here"),
                              env_override (self));
      break;
    case CATENA_KEY_STATE_STORED:
      text = g_strdup (_("A key is saved in the system keyring"));
      break;
    case CATENA_KEY_STATE_UNAVAILABLE:
      text = g_strdup_printf (_("The system keyring cannot be used: %s"),
                              error ? error->message : _("unknown error"));
      break;
    case CATENA_KEY_STATE_NONE:
    default:
      text = g_strdup (_("No key yet: paste one below"));
      break;
    }
  set_status (self, state, text);
}

static void
toast (CatenaApiKeyGroup *self, const char *message)
{
  GtkRoot *root = gtk_widget_get_root (GTK_WIDGET (self));
  /* a toast's title is markup in libadwaita 1.2; keyring errors are plain text */
  g_autofree char *markup = g_markup_escape_text (message, -1);

  if (ADW_IS_PREFERENCES_WINDOW (root))
    adw_preferences_window_add_toast (ADW_PREFERENCES_WINDOW (root), adw_toast_new (markup));
}

/* Keyring calls block (D-Bus): they run on a worker. */

typedef enum
{
  JOB_LOOKUP,
  JOB_STORE,
  JOB_CLEAR,
} JobType;

typedef struct
{
  JobType type;
  char *provider;
  char *key;
  gboolean found;
} Job;

static void
job_free (Job *job)
{
  g_free (job->provider);
  wipe_free (job->key);
  g_free (job);
}

static void
job_thread (GTask *task, gpointer source, gpointer data, GCancellable *cancellable)
{
  Job *job = data;
  GError *error = NULL;
  gboolean ok = FALSE;

  switch (job->type)
    {
    case JOB_LOOKUP:
      {
        char *key = backend->lookup (job->provider, cancellable, &error);
        job->found = key != NULL;
        wipe_free (key);
        ok = key != NULL || g_error_matches (error, CATENA_PROVIDER_ERROR,
                                             CATENA_PROVIDER_ERROR_MISSING_KEY);
        if (ok)
          g_clear_error (&error);
      }
      break;
    case JOB_STORE:
      ok = backend->store (job->provider, job->key, cancellable, &error);
      break;
    case JOB_CLEAR:
      ok = backend->clear (job->provider, cancellable, &error);
      break;
    }
  if (ok)
    g_task_return_boolean (task, TRUE);
  else
    g_task_return_error (task, error);
}

static void
on_job_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  CatenaApiKeyGroup *self = CATENA_API_KEY_GROUP (source);
  Job *job = g_task_get_task_data (G_TASK (result));
  g_autoptr (GError) error = NULL;
  gboolean ok = g_task_propagate_boolean (G_TASK (result), &error);

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  self->n_busy--;
  switch (job->type)
    {
    case JOB_LOOKUP:
      if (env_override (self))
        set_state (self, CATENA_KEY_STATE_ENVIRONMENT, NULL);
      else if (!ok)
        set_state (self, CATENA_KEY_STATE_UNAVAILABLE, error);
      else
        set_state (self, job->found ? CATENA_KEY_STATE_STORED : CATENA_KEY_STATE_NONE, NULL);
      break;
    case JOB_STORE:
      if (ok)
        {
          gtk_editable_set_text (GTK_EDITABLE (self->entry), "");
          if (env_override (self))
            set_state (self, CATENA_KEY_STATE_ENVIRONMENT, NULL);
          else
            set_state (self, CATENA_KEY_STATE_STORED, NULL);
          toast (self, _("Key saved"));
        }
      else
        {
          /* The typed key stays in the entry, so nothing is lost. */
          g_autofree char *text = g_strdup_printf (_("The key was not saved: %s"),
                                                   error->message);
          set_status (self, self->state, text);
        }
      break;
    case JOB_CLEAR:
      if (ok)
        {
          set_state (self, env_override (self) ? CATENA_KEY_STATE_ENVIRONMENT
                                               : CATENA_KEY_STATE_NONE,
                     NULL);
          toast (self, _("Key removed"));
        }
      else
        {
          g_autofree char *text = g_strdup_printf (_("The key was not removed: %s"),
                                                   error->message);
          set_status (self, self->state, text);
        }
      break;
    }
  update_widgets (self);
}

static void
start_job (CatenaApiKeyGroup *self, JobType type, char *key)
{
  g_autoptr (GTask) task = g_task_new (self, self->cancellable, on_job_done, NULL);
  Job *job = g_new0 (Job, 1);

  job->type = type;
  job->provider = g_strdup (self->provider);
  job->key = key;
  g_task_set_task_data (task, job, (GDestroyNotify) job_free);
  self->n_busy++;
  update_widgets (self);
  g_task_run_in_thread (task, job_thread);
}

static void
on_apply (CatenaApiKeyGroup *self)
{
  g_autofree char *text = g_strdup (gtk_editable_get_text (GTK_EDITABLE (self->entry)));

  g_strstrip (text);
  if (*text == '\0' || self->n_busy > 0)
    return;
  start_job (self, JOB_STORE, g_steal_pointer (&text));
}

static void
on_forget_clicked (CatenaApiKeyGroup *self)
{
  if (self->state == CATENA_KEY_STATE_STORED && self->n_busy == 0)
    start_job (self, JOB_CLEAR, NULL);
}

static void
on_test_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (CatenaApiKeyGroup) self = user_data;
  g_autoptr (GError) error = NULL;
  g_autofree char *text = NULL;

  if (!backend->test_finish (result, &error) &&
      g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  self->n_busy--;
  if (error)
    text = g_strdup_printf (_("The test failed: %s"), error->message);
  else
    /* Translators: %s is a provider name such as fal */
    text = g_strdup_printf (_("The key works: %s accepted it"), provider_title (self->provider));
  set_status (self, self->state, text);
}

static void
on_test_clicked (CatenaApiKeyGroup *self)
{
  g_autofree char *typed = g_strdup (gtk_editable_get_text (GTK_EDITABLE (self->entry)));

  if (self->n_busy > 0)
    return;
  g_strstrip (typed);
  self->n_busy++;
  set_status (self, self->state, _("Testing the key…"));
  /* A typed key is tested before it is saved; otherwise the one in use. */
  backend->test_async (self->provider, *typed ? typed : NULL, self->cancellable, on_test_done,
                       g_object_ref (self));
  memset (typed, 0, strlen (typed));
}

static void
refresh (CatenaApiKeyGroup *self)
{
  /* The environment wins over the keyring, so there is nothing to look up. */
  if (env_override (self))
    set_state (self, CATENA_KEY_STATE_ENVIRONMENT, NULL);
  else
    {
      set_state (self, CATENA_KEY_STATE_CHECKING, NULL);
      start_job (self, JOB_LOOKUP, NULL);
    }
}

static void
catena_api_key_group_dispose (GObject *object)
{
  CatenaApiKeyGroup *self = CATENA_API_KEY_GROUP (object);

  g_cancellable_cancel (self->cancellable);

  G_OBJECT_CLASS (catena_api_key_group_parent_class)->dispose (object);
}

static void
catena_api_key_group_finalize (GObject *object)
{
  CatenaApiKeyGroup *self = CATENA_API_KEY_GROUP (object);

  g_clear_object (&self->cancellable);
  g_free (self->provider);
  g_free (self->status);

  G_OBJECT_CLASS (catena_api_key_group_parent_class)->finalize (object);
}

static void
catena_api_key_group_class_init (CatenaApiKeyGroupClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = catena_api_key_group_dispose;
  object_class->finalize = catena_api_key_group_finalize;
}

static void
catena_api_key_group_init (CatenaApiKeyGroup *self)
{
  GtkWidget *box;

  self->cancellable = g_cancellable_new ();

  self->status_row = adw_action_row_new ();
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (self->status_row), _("API Key"));
  adw_action_row_set_subtitle_lines (ADW_ACTION_ROW (self->status_row), 3);
  box = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 6);
  gtk_widget_set_valign (box, GTK_ALIGN_CENTER);
  self->spinner = gtk_spinner_new ();
  gtk_box_append (GTK_BOX (box), self->spinner);
  self->test_button = gtk_button_new_with_mnemonic (_("_Test"));
  gtk_widget_set_tooltip_text (self->test_button,
                               _("Make one free request to check that the key is accepted"));
  g_signal_connect_swapped (self->test_button, "clicked", G_CALLBACK (on_test_clicked), self);
  gtk_box_append (GTK_BOX (box), self->test_button);
  self->forget_button = gtk_button_new_with_mnemonic (_("_Forget"));
  gtk_widget_add_css_class (self->forget_button, "destructive-action");
  gtk_widget_set_tooltip_text (self->forget_button, _("Remove the key from the system keyring"));
  g_signal_connect_swapped (self->forget_button, "clicked", G_CALLBACK (on_forget_clicked),
                            self);
  gtk_box_append (GTK_BOX (box), self->forget_button);
  adw_action_row_add_suffix (ADW_ACTION_ROW (self->status_row), box);
  adw_preferences_group_add (ADW_PREFERENCES_GROUP (self), self->status_row);

  self->entry = adw_password_entry_row_new ();
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (self->entry), _("New Key"));
  adw_entry_row_set_show_apply_button (ADW_ENTRY_ROW (self->entry), TRUE);
  g_signal_connect_swapped (self->entry, "apply", G_CALLBACK (on_apply), self);
  g_signal_connect_swapped (self->entry, "entry-activated", G_CALLBACK (on_apply), self);
  g_signal_connect_swapped (self->entry, "changed", G_CALLBACK (update_widgets), self);
  adw_preferences_group_add (ADW_PREFERENCES_GROUP (self), self->entry);
}

GtkWidget *
catena_api_key_group_new (const char *provider)
{
  CatenaApiKeyGroup *self;
  g_autofree char *description = NULL;
  g_autofree char *entry_label = NULL;
  const char *env_name;

  g_return_val_if_fail (provider != NULL, NULL);

  self = g_object_new (CATENA_TYPE_API_KEY_GROUP, NULL);
  self->provider = g_strdup (provider);
  env_name = catena_secrets_get_env_name (provider);
  adw_preferences_group_set_title (ADW_PREFERENCES_GROUP (self), provider_title (provider));
  if (env_name)
    /* Translators: %s is an environment variable such as FAL_KEY */
    description = g_strdup_printf (_("Kept in the system keyring, never in projects or logs. "
                                     "The %s environment variable overrides it."),
                                   env_name);
  else
    description = g_strdup (_("Kept in the system keyring, never in projects or logs."));
  adw_preferences_group_set_description (ADW_PREFERENCES_GROUP (self), description);
  /* Several groups show "New Key": say whose it is. */
  entry_label = g_strdup_printf (_("New %s API key"), provider_title (provider));
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->entry), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  entry_label, -1);
  gtk_widget_set_name (GTK_WIDGET (self), provider);
  refresh (self);
  return GTK_WIDGET (self);
}

const char *
catena_api_key_group_get_provider (CatenaApiKeyGroup *self)
{
  g_return_val_if_fail (CATENA_IS_API_KEY_GROUP (self), NULL);
  return self->provider;
}

CatenaKeyState
catena_api_key_group_get_state (CatenaApiKeyGroup *self)
{
  g_return_val_if_fail (CATENA_IS_API_KEY_GROUP (self), CATENA_KEY_STATE_NONE);
  return self->state;
}

const char *
catena_api_key_group_get_status (CatenaApiKeyGroup *self)
{
  g_return_val_if_fail (CATENA_IS_API_KEY_GROUP (self), NULL);
  return self->status;
}

gboolean
catena_api_key_group_is_busy (CatenaApiKeyGroup *self)
{
  g_return_val_if_fail (CATENA_IS_API_KEY_GROUP (self), FALSE);
  return self->n_busy > 0;
}

GtkWidget *
catena_api_key_group_get_entry (CatenaApiKeyGroup *self)
{
  g_return_val_if_fail (CATENA_IS_API_KEY_GROUP (self), NULL);
  return self->entry;
}

GtkWidget *
catena_api_key_group_get_test_button (CatenaApiKeyGroup *self)
{
  g_return_val_if_fail (CATENA_IS_API_KEY_GROUP (self), NULL);
  return self->test_button;
}

GtkWidget *
catena_api_key_group_get_forget_button (CatenaApiKeyGroup *self)
{
  g_return_val_if_fail (CATENA_IS_API_KEY_GROUP (self), NULL);
  return self->forget_button;
}
