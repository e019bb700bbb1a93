/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <glib/gi18n.h>

#include "catena-provider.h"
#include "catena-routing-group.h"

struct _CatenaRoutingGroup
{
  AdwPreferencesGroup parent_instance;

  CatenaHistory *history;
  CatenaStage *stage;
  GPtrArray *providers; /* names, parallel to the provider row's items */
  GPtrArray *models;    /* ids, parallel to the model row's items; "" = default */
  gboolean syncing;
  gboolean committing; /* our own edit: the row that changed must not lose its model now */
  guint n_busy;
  GCancellable *cancellable;

  GtkWidget *provider_row;
  GtkWidget *model_row;
  GtkWidget *cost_row;
};

G_DEFINE_FINAL_TYPE (CatenaRoutingGroup, catena_routing_group, ADW_TYPE_PREFERENCES_GROUP)

/* provider + "/" + kind → GStrv: asked once per session (ComfyUI asks its server). */
static GHashTable *model_lists;

static char *
list_id (const char *provider, const char *kind)
{
  return g_strconcat (provider, "/", kind, NULL);
}

static void
commit (CatenaRoutingGroup *self, const char *provider, const char *model)
{
  if (self->syncing || self->stage == NULL)
    return;
  self->committing = TRUE;
  if (self->history)
    catena_history_set_routing (self->history, self->stage, provider, model);
  else
    {
      catena_stage_set_provider (self->stage, provider);
      catena_stage_set_model (self->stage, model);
    }
  self->committing = FALSE;
}

static void fill_models (CatenaRoutingGroup *self);
static void ensure_models (CatenaRoutingGroup *self);

static void
on_provider_selected (CatenaRoutingGroup *self)
{
  guint i = adw_combo_row_get_selected (ADW_COMBO_ROW (self->provider_row));

  if (i >= self->providers->len ||
      g_strcmp0 (self->providers->pdata[i], catena_stage_get_provider (self->stage)) == 0)
    return;
  /* Models are per provider: a new provider starts on its default. */
  commit (self, self->providers->pdata[i], "");
  fill_models (self);
  ensure_models (self);
}

static void
on_model_selected (CatenaRoutingGroup *self)
{
  guint i = adw_combo_row_get_selected (ADW_COMBO_ROW (self->model_row));

  if (self->stage == NULL || i >= self->models->len)
    return;
  commit (self, catena_stage_get_provider (self->stage), self->models->pdata[i]);
}

static void
fill_models (CatenaRoutingGroup *self)
{
  const char *provider_name = catena_stage_get_provider (self->stage);
  const char *kind = catena_stage_get_kind (self->stage);
  const char *current = catena_stage_get_model (self->stage);
  CatenaProvider *provider = catena_provider_get (provider_name);
  g_autofree char *id = list_id (provider_name, kind);
  GStrv listed = model_lists ? g_hash_table_lookup (model_lists, id) : NULL;
  const char *default_model = provider ? catena_provider_get_default_model (provider, kind)
                                       : NULL;
  g_autoptr (GtkStringList) titles = gtk_string_list_new (NULL);
  g_autofree char *default_title = NULL;
  guint selected = 0;

  g_ptr_array_set_size (self->models, 0);
  default_title = default_model && *default_model
                    /* Translators: %s is a model id such as fal-ai/flux/schnell */
                    ? g_strdup_printf (_("Default (%s)"), default_model)
                    : g_strdup (_("Provider’s default"));
  gtk_string_list_append (titles, default_title);
  g_ptr_array_add (self->models, g_strdup (""));
  for (guint i = 0; listed && listed[i]; i++)
    {
      gtk_string_list_append (titles, listed[i]);
      g_ptr_array_add (self->models, g_strdup (listed[i]));
    }
  if (current && *current)
    {
      for (guint i = 1; i < self->models->len && selected == 0; i++)
        if (g_str_equal (self->models->pdata[i], current))
          selected = i;
      if (selected == 0)
        {
          /* From the project, not (or no longer) offered: keep showing it. */
          gtk_string_list_append (titles, current);
          g_ptr_array_add (self->models, g_strdup (current));
          selected = self->models->len - 1;
        }
    }

  self->syncing = TRUE;
  adw_combo_row_set_model (ADW_COMBO_ROW (self->model_row), G_LIST_MODEL (titles));
  adw_combo_row_set_selected (ADW_COMBO_ROW (self->model_row), selected);
  self->syncing = FALSE;
  gtk_widget_set_sensitive (self->model_row, self->models->len > 1);
}

typedef struct
{
  char *provider;
  char *kind;
  char **models;
} ModelsJob;

static void
models_job_free (ModelsJob *job)
{
  g_free (job->provider);
  g_free (job->kind);
  g_strfreev (job->models);
  g_free (job);
}

static void
models_thread (GTask *task, gpointer source, gpointer data, GCancellable *cancellable)
{
  ModelsJob *job = data;
  g_autoptr (GError) error = NULL;

  job->models = catena_provider_list_models (catena_provider_get (job->provider), job->kind,
                                             cancellable, &error);
  /* A server that does not answer offers no list; the default still works once it does. */
  if (error && !g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    g_debug ("No model list from %s: %s", job->provider, error->message);
  g_task_return_boolean (task, TRUE);
}

static void
on_models_listed (GObject *source, GAsyncResult *result, gpointer user_data)
{
  CatenaRoutingGroup *self = CATENA_ROUTING_GROUP (source);
  ModelsJob *job = g_task_get_task_data (G_TASK (result));

  if (!g_task_propagate_boolean (G_TASK (result), NULL))
    return; /* cancelled: the group is gone */
  self->n_busy--;
  if (model_lists == NULL)
    model_lists = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                         (GDestroyNotify) g_strfreev);
  g_hash_table_replace (model_lists, list_id (job->provider, job->kind),
                        job->models ? g_steal_pointer (&job->models) : g_new0 (char *, 1));
  if (self->stage && g_str_equal (catena_stage_get_provider (self->stage), job->provider) &&
      g_str_equal (catena_stage_get_kind (self->stage), job->kind))
    fill_models (self);
}

static void
ensure_models (CatenaRoutingGroup *self)
{
  const char *provider = catena_stage_get_provider (self->stage);
  const char *kind = catena_stage_get_kind (self->stage);
  g_autofree char *id = list_id (provider, kind);
  g_autoptr (GTask) task = NULL;
  ModelsJob *job;

  if ((model_lists && g_hash_table_contains (model_lists, id)) ||
      catena_provider_get (provider) == NULL)
    return;
  job = g_new0 (ModelsJob, 1);
  job->provider = g_strdup (provider);
  job->kind = g_strdup (kind);
  task = g_task_new (self, self->cancellable, on_models_listed, NULL);
  g_task_set_task_data (task, job, (GDestroyNotify) models_job_free);
  self->n_busy++;
  g_task_run_in_thread (task, models_thread);
}

static void
sync_rows (CatenaRoutingGroup *self)
{
  const char **names = catena_provider_list_names ();
  const char *kind, *current;
  g_autoptr (GtkStringList) titles = gtk_string_list_new (NULL);
  guint selected = GTK_INVALID_LIST_POSITION;

  if (self->stage == NULL)
    return;
  kind = catena_stage_get_kind (self->stage);
  current = catena_stage_get_provider (self->stage);
  g_ptr_array_set_size (self->providers, 0);
  for (guint i = 0; names && names[i]; i++)
    {
      CatenaProvider *provider = catena_provider_get (names[i]);

      if (!catena_provider_supports (provider, kind) && g_strcmp0 (names[i], current) != 0)
        continue;
      if (g_strcmp0 (names[i], current) == 0)
        selected = self->providers->len;
      g_ptr_array_add (self->providers, g_strdup (names[i]));
      gtk_string_list_append (titles, g_dgettext (GETTEXT_PACKAGE,
                                                  catena_provider_get_title (provider)));
    }
  if (selected == GTK_INVALID_LIST_POSITION)
    {
      /* Stages that are plain local work (recolor, export) name "local" as well. */
      selected = self->providers->len;
      g_ptr_array_add (self->providers, g_strdup (current));
      gtk_string_list_append (titles, current);
    }

  self->syncing = TRUE;
  adw_combo_row_set_model (ADW_COMBO_ROW (self->provider_row), G_LIST_MODEL (titles));
  adw_combo_row_set_selected (ADW_COMBO_ROW (self->provider_row), selected);
  self->syncing = FALSE;
  gtk_widget_set_sensitive (self->provider_row, self->providers->len > 1);
  adw_action_row_set_subtitle (ADW_ACTION_ROW (self->provider_row),
                               self->providers->len > 1 ? NULL
                                                        : _("Only one place can run this stage"));
  fill_models (self);
  ensure_models (self);
}

static void
on_stage_notify (CatenaRoutingGroup *self, GParamSpec *pspec, CatenaStage *stage)
{
  if (!self->committing && (g_str_equal (pspec->name, "provider") ||
                            g_str_equal (pspec->name, "model")))
    sync_rows (self);
}

void
catena_routing_group_set_stage (CatenaRoutingGroup *self, CatenaStage *stage)
{
  g_return_if_fail (CATENA_IS_ROUTING_GROUP (self));

  if (self->stage == stage)
    return;
  if (self->stage)
    g_signal_handlers_disconnect_by_func (self->stage, on_stage_notify, self);
  g_set_object (&self->stage, stage);
  if (stage)
    {
      g_signal_connect_object (stage, "notify", G_CALLBACK (on_stage_notify), self,
                               G_CONNECT_SWAPPED);
      sync_rows (self);
    }
  catena_routing_group_set_cost (self, NULL);
}

void
catena_routing_group_set_history (CatenaRoutingGroup *self, CatenaHistory *history)
{
  g_return_if_fail (CATENA_IS_ROUTING_GROUP (self));
  g_set_object (&self->history, history);
}

void
catena_routing_group_set_cost (CatenaRoutingGroup *self, const char *text)
{
  g_return_if_fail (CATENA_IS_ROUTING_GROUP (self));

  adw_action_row_set_subtitle (ADW_ACTION_ROW (self->cost_row), text ? text : "—");
}

const char *
catena_routing_group_get_cost (CatenaRoutingGroup *self)
{
  g_return_val_if_fail (CATENA_IS_ROUTING_GROUP (self), NULL);
  return adw_action_row_get_subtitle (ADW_ACTION_ROW (self->cost_row));
}

GtkWidget *
catena_routing_group_get_provider_row (CatenaRoutingGroup *self)
{
  g_return_val_if_fail (CATENA_IS_ROUTING_GROUP (self), NULL);
  return self->provider_row;
}

GtkWidget *
catena_routing_group_get_model_row (CatenaRoutingGroup *self)
{
  g_return_val_if_fail (CATENA_IS_ROUTING_GROUP (self), NULL);
  return self->model_row;
}

gboolean
catena_routing_group_is_busy (CatenaRoutingGroup *self)
{
  g_return_val_if_fail (CATENA_IS_ROUTING_GROUP (self), FALSE);
  return self->n_busy > 0;
}

static void
catena_routing_group_dispose (GObject *object)
{
  CatenaRoutingGroup *self = CATENA_ROUTING_GROUP (object);

  g_cancellable_cancel (self->cancellable);
  if (self->stage)
    g_signal_handlers_disconnect_by_func (self->stage, on_stage_notify, self);
  g_clear_object (&self->stage);
  g_clear_object (&self->history);

  G_OBJECT_CLASS (catena_routing_group_parent_class)->dispose (object);
}

static void
catena_routing_group_finalize (GObject *object)
{
  CatenaRoutingGroup *self = CATENA_ROUTING_GROUP (object);

  g_clear_object (&self->cancellable);
  g_ptr_array_unref (self->providers);
  g_ptr_array_unref (self->models);

  G_OBJECT_CLASS (catena_routing_group_parent_class)->finalize (object);
}

static void
catena_routing_group_class_init (CatenaRoutingGroupClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = catena_routing_group_dispose;
  object_class->finalize = catena_routing_group_finalize;
}

static void
catena_routing_group_init (CatenaRoutingGroup *self)
{
  self->cancellable = g_cancellable_new ();
  self->providers = g_ptr_array_new_with_free_func (g_free);
  self->models = g_ptr_array_new_with_free_func (g_free);

  adw_preferences_group_set_title (ADW_PREFERENCES_GROUP (self), _("Runs On"));

  self->provider_row = adw_combo_row_new ();
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (self->provider_row), _("Provider"));
  gtk_widget_set_name (self->provider_row, "provider");
  g_signal_connect_swapped (self->provider_row, "notify::selected",
                            G_CALLBACK (on_provider_selected), self);
  adw_preferences_group_add (ADW_PREFERENCES_GROUP (self), self->provider_row);

  self->model_row = adw_combo_row_new ();
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (self->model_row), _("Model"));
  gtk_widget_set_name (self->model_row, "model");
  g_signal_connect_swapped (self->model_row, "notify::selected", G_CALLBACK (on_model_selected),
                            self);
  adw_preferences_group_add (ADW_PREFERENCES_GROUP (self), self->model_row);

  self->cost_row = adw_action_row_new ();
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (self->cost_row), _("Estimated Cost"));
  gtk_widget_set_tooltip_text (self->cost_row,
                               _("For the selected photo, from Catena’s price table; the "
                                 "provider’s bill decides"));
  gtk_widget_add_css_class (self->cost_row, "property");
  adw_preferences_group_add (ADW_PREFERENCES_GROUP (self), self->cost_row);
}

GtkWidget *
catena_routing_group_new (void)
{
  return g_object_new (CATENA_TYPE_ROUTING_GROUP, NULL);
}
