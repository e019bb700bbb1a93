/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <glib/gi18n.h>

#include "catena-device-monitor.h"
#include "catena-stage-card.h"
#include "catena-ui.h"
#include "catena-window-private.h"

#define THUMBNAIL_SIZE   320
#define REFRESH_DELAY_MS 40

G_DEFINE_FINAL_TYPE (CatenaWindow, catena_window, ADW_TYPE_APPLICATION_WINDOW)

static void update_preview_source (CatenaWindow *self);

/* Cache keys: worked out on a worker (hashing the source photo blocks). */

typedef struct
{
  CatenaChain *chain;
  CatenaAsset *asset;
  char *base_dir;
  CatenaCache *cache;
  guint serial;
  guint n;
  char **keys;
  char **shown;
  GPtrArray *candidates;
  gboolean *cached;
  guint error_index;
  char *error_message;
} KeysJob;

static void
keys_job_free (KeysJob *job)
{
  g_clear_object (&job->chain);
  g_clear_object (&job->asset);
  g_clear_object (&job->cache);
  g_free (job->base_dir);
  g_strfreev (job->keys);
  g_strfreev (job->shown);
  g_clear_pointer (&job->candidates, g_ptr_array_unref);
  g_free (job->cached);
  g_free (job->error_message);
  g_free (job);
}

static void
keys_thread (GTask *task, gpointer source, gpointer data, GCancellable *cancellable)
{
  KeysJob *job = data;
  CatenaStageContext ctx = { .asset = job->asset, .base_dir = job->base_dir,
                             .cancellable = cancellable };

  job->error_index = G_MAXUINT;
  for (guint i = 0; i < job->n; i++)
    {
      g_autoptr (GError) error = NULL;

      job->keys[i] = catena_stage_compute_key (catena_chain_get_stage (job->chain, i), &ctx,
                                               i > 0 ? job->keys[i - 1] : NULL, &error);
      if (job->keys[i] == NULL)
        {
          if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
            {
              g_task_return_error (task, g_steal_pointer (&error));
              return;
            }
          job->error_index = i;
          job->error_message = g_strdup (error->message);
          break;
        }
      job->cached[i] = catena_cache_contains (job->cache, job->keys[i]);
      job->shown[i] = g_strdup (job->keys[i]);
      g_ptr_array_add (job->candidates,
                       catena_window_find_candidates (catena_chain_get_stage (job->chain, i), &ctx,
                                                      job->cache));
      /* A new pick of a generate stage shows its candidate until the next run. */
      if (!job->cached[i] && job->candidates->pdata[i])
        {
          guint pick = 0;
          char **candidates = job->candidates->pdata[i];

          g_object_get (catena_chain_get_stage (job->chain, i), "pick", &pick, NULL);
          if (pick < g_strv_length (candidates) && *candidates[pick])
            {
              g_free (job->shown[i]);
              job->shown[i] = g_strdup (candidates[pick]);
              job->cached[i] = TRUE;
            }
        }
    }
  g_task_return_boolean (task, TRUE);
}

CatenaAsset *
catena_window_snapshot_asset (CatenaAsset *asset)
{
  CatenaAsset *copy = catena_asset_new (catena_asset_get_id (asset));

  catena_asset_set_name (copy, catena_asset_get_name (asset));
  catena_asset_set_source (copy, catena_asset_get_source (asset));
  catena_asset_set_prompt (copy, catena_asset_get_prompt (asset));
  catena_asset_set_asset_class (copy, catena_asset_get_asset_class (asset));
  return copy;
}

typedef struct
{
  GWeakRef window;
  CatenaStageCard *card;
  char *key;
} ThumbnailRequest;

/* The key a card's thumbnail comes from (its own, or its picked candidate's). */
#define SHOWN_KEY "catena-shown-key"

static void
thumbnail_request_free (ThumbnailRequest *req)
{
  g_weak_ref_clear (&req->window);
  g_object_unref (req->card);
  g_free (req->key);
  g_free (req);
}

static void
on_thumbnail_loaded (GObject *source, GAsyncResult *result, gpointer user_data)
{
  ThumbnailRequest *req = user_data;
  g_autoptr (CatenaWindow) self = g_weak_ref_get (&req->window);
  g_autoptr (GdkTexture) texture = NULL;
  g_autoptr (GError) error = NULL;

  texture = catena_thumbnailer_load_finish (CATENA_THUMBNAILER (source), result, &error);
  if (self)
    self->n_thumbnails_pending--;
  if (error && !g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    g_warning ("Could not make a thumbnail: %s", error->message);
  /* Dropped if the card has moved on to another key meanwhile. */
  if (self && texture &&
      g_strcmp0 (g_object_get_data (G_OBJECT (req->card), SHOWN_KEY), req->key) == 0)
    catena_stage_card_set_thumbnail (req->card, texture);
  thumbnail_request_free (req);
}

static void
request_thumbnail (CatenaWindow *self, CatenaStageCard *card, const char *key)
{
  GdkTexture *texture = catena_thumbnailer_peek (self->thumbnailer, key);
  ThumbnailRequest *req;

  g_object_set_data_full (G_OBJECT (card), SHOWN_KEY, g_strdup (key), g_free);
  if (texture)
    {
      catena_stage_card_set_thumbnail (card, texture);
      return;
    }
  req = g_new0 (ThumbnailRequest, 1);
  g_weak_ref_init (&req->window, self);
  req->card = g_object_ref (card);
  req->key = g_strdup (key);
  self->n_thumbnails_pending++;
  catena_thumbnailer_load_async (self->thumbnailer, key, self->cancellable, on_thumbnail_loaded,
                                 req);
}

static void
apply_card_state (CatenaWindow *self, guint i, CatenaStageCard *card, const char *key,
                  const char *shown_key, gboolean cached, guint error_index,
                  const char *error_message)
{
  const char *failed;

  catena_stage_card_set_key (card, key);
  if (catena_stage_card_get_state (card) == CATENA_CARD_RUNNING)
    return;
  if (i == error_index)
    catena_stage_card_set_state (card, CATENA_CARD_FAILED, error_message);
  else if (i > error_index)
    catena_stage_card_set_state (card, CATENA_CARD_STALE, _("Waiting for an earlier stage"));
  else if (key && (failed = g_hash_table_lookup (self->errors, key)))
    catena_stage_card_set_state (card, CATENA_CARD_FAILED, failed);
  else if (cached)
    {
      catena_stage_card_set_state (card, CATENA_CARD_READY, NULL);
      request_thumbnail (self, card, shown_key ? shown_key : key);
    }
  else
    catena_stage_card_set_state (card, CATENA_CARD_STALE, NULL);
}

static void
on_keys_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  CatenaWindow *self = CATENA_WINDOW (source);
  KeysJob *job = g_task_get_task_data (G_TASK (result));
  g_autoptr (GError) error = NULL;

  self->keys_pending--;
  if (!g_task_propagate_boolean (G_TASK (result), &error))
    return;
  if (job->serial != self->keys_serial)
    return; /* the chain or the asset changed meanwhile; a newer job is on its way */

  g_strfreev (self->keys);
  self->keys = g_steal_pointer (&job->keys);
  job->keys = g_new0 (char *, 1);
  g_strfreev (self->shown_keys);
  self->shown_keys = g_steal_pointer (&job->shown);
  g_clear_pointer (&self->candidate_keys, g_ptr_array_unref);
  self->candidate_keys = g_steal_pointer (&job->candidates);

  for (guint i = 0; i < job->n; i++)
    {
      CatenaStageCard *card = catena_chain_view_get_card (self->chain_view, i);
      if (card)
        apply_card_state (self, i, card, self->keys[i], self->shown_keys[i], job->cached[i],
                          job->error_index, job->error_message);
    }
  update_preview_source (self);
  catena_window_update_candidates (self);
}

static gboolean
refresh_now (gpointer data)
{
  CatenaWindow *self = data;
  g_autoptr (GTask) task = NULL;
  KeysJob *job;

  self->refresh_source = 0;
  self->keys_serial++;
  if (self->project == NULL || self->asset == NULL)
    {
      g_clear_pointer (&self->keys, g_strfreev);
      for (guint i = 0; catena_chain_view_get_card (self->chain_view, i); i++)
        catena_stage_card_set_state (catena_chain_view_get_card (self->chain_view, i),
                                     CATENA_CARD_UNKNOWN, NULL);
      update_preview_source (self);
      return G_SOURCE_REMOVE;
    }

  job = g_new0 (KeysJob, 1);
  job->chain = catena_chain_duplicate (catena_project_get_chain (self->project));
  job->asset = catena_window_snapshot_asset (self->asset);
  job->base_dir = catena_project_dup_base_dir (self->project);
  job->cache = g_object_ref (catena_runner_get_cache (self->runner));
  job->serial = self->keys_serial;
  job->n = catena_chain_get_n_stages (job->chain);
  job->keys = g_new0 (char *, job->n + 1);
  job->shown = g_new0 (char *, job->n + 1);
  job->candidates = g_ptr_array_new_with_free_func ((GDestroyNotify) g_strfreev);
  job->cached = g_new0 (gboolean, job->n + 1);

  task = g_task_new (self, self->cancellable, on_keys_done, NULL);
  g_task_set_task_data (task, job, (GDestroyNotify) keys_job_free);
  self->keys_pending++;
  g_task_run_in_thread (task, keys_thread);
  return G_SOURCE_REMOVE;
}

void
catena_window_schedule_refresh (CatenaWindow *self)
{
  /* Invalidate now, so a late result of an older job is dropped. */
  self->keys_serial++;
  if (self->refresh_source == 0)
    self->refresh_source = g_timeout_add (REFRESH_DELAY_MS, refresh_now, self);
}

/* The large preview */

typedef struct
{
  CatenaCache *cache;
  char *in_key;
  char *out_key;
  GeglBuffer *in;
  GeglBuffer *out;
  guint serial;
} SourcesJob;

static void
sources_job_free (SourcesJob *job)
{
  g_clear_object (&job->cache);
  g_free (job->in_key);
  g_free (job->out_key);
  g_clear_object (&job->in);
  g_clear_object (&job->out);
  g_free (job);
}

static void
sources_thread (GTask *task, gpointer source, gpointer data, GCancellable *cancellable)
{
  SourcesJob *job = data;

  if (job->in_key)
    job->in = catena_cache_lookup (job->cache, job->in_key, NULL);
  if (job->out_key)
    job->out = catena_cache_lookup (job->cache, job->out_key, NULL);
  g_task_return_boolean (task, TRUE);
}

void
catena_window_set_preview_status (CatenaWindow *self, const char *title,
                                  const char *description)
{
  adw_status_page_set_title (self->preview_status, title);
  adw_status_page_set_description (self->preview_status, description);
  gtk_widget_set_visible (GTK_WIDGET (self->preview_status), title != NULL);
  if (title != NULL)
    {
      catena_preview_clear (self->preview);
      catena_preview_set_image_size (self->preview, 0, 0);
      gtk_widget_set_visible (GTK_WIDGET (self->preview_badge), FALSE);
    }
}

static void
request_render (CatenaWindow *self)
{
  double scale;
  GeglRectangle rect;

  if (catena_preview_get_render_request (self->preview, &scale, &rect))
    catena_preview_renderer_set_view (self->renderer, scale, &rect);
}

static void
on_sources_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  CatenaWindow *self = CATENA_WINDOW (source);
  SourcesJob *job = g_task_get_task_data (G_TASK (result));
  guint position = catena_chain_view_get_selected (self->chain_view);
  CatenaStage *stage;
  GeglBuffer *shown;
  const GeglRectangle *extent;

  self->preview_pending--;
  if (!g_task_propagate_boolean (G_TASK (result), NULL) || job->serial != self->preview_serial)
    return;

  stage = catena_chain_get_stage (catena_project_get_chain (self->project), position);
  self->live = stage && job->in && catena_stage_supports_preview (stage);
  self->live_stage = self->live ? stage : NULL;
  self->blending = FALSE;
  g_set_object (&self->stage_input, job->in);
  catena_window_update_cost (self);
  /* A style stage between sweep strengths: the blend of its neighbours, until it runs. */
  if (!job->out && !self->live && stage && catena_window_show_sweep (self, stage))
    return;

  if (self->live)
    {
      g_autoptr (CatenaStage) copy = catena_stage_duplicate (stage);
      /* Same input as before (a key refresh after a slider move): keep the proxies. */
      if (self->shown_source == job->in && self->shown_before == job->in)
        catena_preview_renderer_set_stage (self->renderer, copy);
      else
        catena_preview_renderer_set_source (self->renderer, job->in, job->in, copy);
      shown = job->in;
      g_set_object (&self->shown_before, job->in);
    }
  else if (job->out)
    {
      if (self->shown_source != job->out || self->shown_before != job->in)
        catena_preview_renderer_set_source (self->renderer, job->out, job->in, NULL);
      shown = job->out;
      g_set_object (&self->shown_before, job->in);
    }
  else
    {
      g_clear_object (&self->shown_source);
      g_clear_object (&self->shown_before);
      catena_preview_renderer_set_source (self->renderer, NULL, NULL, NULL);
      catena_window_set_preview_status (self, _("Not Rendered Yet"),
                                        job->in_key || job->out_key
                                          ? _("Run the chain to see this stage’s output")
                                          : _("This stage cannot run yet: see its card"));
      return;
    }

  g_set_object (&self->shown_source, shown);
  catena_window_set_preview_status (self, NULL, NULL);
  extent = gegl_buffer_get_extent (shown);
  catena_preview_set_image_size (self->preview, extent->width, extent->height);
  request_render (self);
}

static void
update_preview_source (CatenaWindow *self)
{
  guint position = catena_chain_view_get_selected (self->chain_view);
  g_autoptr (GTask) task = NULL;
  SourcesJob *job;

  self->preview_serial++;
  self->live = FALSE;
  self->live_stage = NULL;

  if (self->project == NULL || position == CATENA_INVALID_POSITION || self->asset == NULL)
    {
      g_clear_object (&self->shown_source);
      g_clear_object (&self->shown_before);
    }
  if (self->project == NULL || position == CATENA_INVALID_POSITION)
    {
      catena_preview_renderer_set_source (self->renderer, NULL, NULL, NULL);
      catena_window_set_preview_status (self, _("No Stage Selected"),
                          _("Add stages to the chain and select one to see its output"));
      return;
    }
  if (self->asset == NULL)
    {
      catena_preview_renderer_set_source (self->renderer, NULL, NULL, NULL);
      catena_window_set_preview_status (self, _("No Photos"),
                                        _("Drop photos on the window to add them"));
      return;
    }
  if (self->keys == NULL)
    return; /* keys are on their way; we come back here when they land */

  job = g_new0 (SourcesJob, 1);
  job->cache = g_object_ref (catena_runner_get_cache (self->runner));
  job->serial = self->preview_serial;
  for (guint i = 0; i <= position && self->keys[i]; i++)
    {
      if (i == position)
        job->out_key = g_strdup (self->shown_keys ? self->shown_keys[i] : self->keys[i]);
      else if (i + 1 == position)
        job->in_key = g_strdup (self->shown_keys ? self->shown_keys[i] : self->keys[i]);
    }
  task = g_task_new (self, self->cancellable, on_sources_done, NULL);
  g_task_set_task_data (task, job, (GDestroyNotify) sources_job_free);
  self->preview_pending++;
  g_task_run_in_thread (task, sources_thread);
}

/* A local model of this window's run could not use the GPU: say so with the run's closing
 * toast ("Run finished. The GPU could not …"), once per run, not as a toast of its own that
 * the run's toast would replace a moment later. */
static void
on_model_ran (CatenaWindow *self, int used, const char *fallback)
{
  if (fallback == NULL || !catena_runner_get_running (self->runner) || self->device_note != NULL)
    return;
  self->device_note = g_strdup_printf (
    _("The GPU could not run a local model (%s); it ran on the CPU"), fallback);
}

static void
on_rendered (CatenaWindow *self,
             GdkTexture *after,
             GdkTexture *before,
             double scale,
             int x,
             int y,
             gboolean sharp,
             guint64 generation,
             CatenaPreviewRenderer *renderer)
{
  catena_preview_set_textures (self->preview, after, before, scale, x, y);
  gtk_widget_set_visible (GTK_WIDGET (self->preview_badge), self->live || self->blending);
  if (self->blending)
    gtk_label_set_label (self->preview_badge,
                         _("Strength preview from the sweep · exact render when you let go"));
  else
    gtk_label_set_label (self->preview_badge,
                         sharp ? _("Live preview") : _("Live preview · refining…"));
}

static void
on_view_changed (CatenaWindow *self, CatenaPreview *preview)
{
  request_render (self);
}

static void
on_split_changed (CatenaWindow *self, GParamSpec *pspec, CatenaPreview *preview)
{
  catena_preview_renderer_set_show_before (self->renderer, catena_preview_get_split (preview));
}

/* Chain and selection */

static void
on_selected_stage (CatenaWindow *self, GParamSpec *pspec, CatenaChainView *view)
{
  guint position = catena_chain_view_get_selected (view);
  CatenaStage *stage = NULL;

  if (self->project && position != CATENA_INVALID_POSITION)
    stage = catena_chain_get_stage (catena_project_get_chain (self->project), position);
  catena_inspector_set_stage (self->inspector, stage);
  update_preview_source (self);
  catena_window_update_candidates (self);
  catena_window_update_cost (self);
  catena_window_update_actions (self);
}

static void
on_chain_items_changed (CatenaWindow *self, guint position, guint removed, guint added,
                        GListModel *model)
{
  catena_window_schedule_refresh (self);
  catena_window_update_actions (self);
}

static void
on_stage_changed (CatenaWindow *self, CatenaStage *stage, GParamSpec *pspec, CatenaChain *chain)
{
  /* A slider of the stage shown live: re-render its small graph only, right now. */
  if (self->live && stage == self->live_stage)
    {
      g_autoptr (CatenaStage) copy = catena_stage_duplicate (stage);
      catena_preview_renderer_set_stage (self->renderer, copy);
    }
  /* A remote stage's strength: scrub across the sweep, no request. */
  else if (stage == catena_window_get_selected_stage (self))
    catena_window_show_sweep (self, stage);
  if (stage == catena_window_get_selected_stage (self))
    catena_window_update_cost (self);
  catena_window_schedule_refresh (self);
}

/* The slider let go: a remote stage previewed from its sweep renders its exact value once,
 * through the normal run (a cache hit on a sweep strength). */
static void
on_edit_finished (CatenaWindow *self, CatenaStage *stage, const char *param,
                  CatenaInspector *inspector)
{
  /* Only the strength: any other change would be a new, unconfirmed, paid request. */
  if (g_strcmp0 (param, "strength") != 0 || !catena_window_sweep_fits (self, stage) ||
      stage != catena_window_get_selected_stage (self) || catena_runner_get_running (self->runner))
    return;
  catena_window_run (self, FALSE);
}

void
catena_window_insert_stage (CatenaWindow *self, const char *kind, guint position)
{
  g_autoptr (CatenaStage) stage = NULL;
  g_autoptr (GError) error = NULL;
  CatenaChain *chain = catena_project_get_chain (self->project);
  g_autofree char *id = NULL;

  if (!(stage = catena_stage_new (kind, &error)))
    {
      catena_window_toast (self, error->message);
      return;
    }
  id = catena_chain_make_unique_id (chain, kind);
  catena_stage_set_id (stage, id);
  position = MIN (position, catena_chain_get_n_stages (chain));
  catena_history_insert (self->history, position, stage);
  catena_chain_view_set_selected (self->chain_view, position);
}

static void
on_insert_kind (CatenaWindow *self, const char *kind, guint position, CatenaChainView *view)
{
  catena_window_insert_stage (self, kind, position);
}

static void
on_move_stage (CatenaWindow *self, guint from, guint to, CatenaChainView *view)
{
  catena_history_move (self->history, from, to);
}

static void
on_remove_stage (CatenaWindow *self, guint position, CatenaChainView *view)
{
  catena_history_remove (self->history, position);
}

/* Runs */

static CatenaStageCard *
card_for_stage_id (CatenaWindow *self, const char *stage_id)
{
  guint position;

  if (self->project == NULL ||
      !catena_chain_find_stage (catena_project_get_chain (self->project), stage_id, &position))
    return NULL;
  return catena_chain_view_get_card (self->chain_view, position);
}

static gboolean
is_selected_asset (CatenaWindow *self, const char *asset_id)
{
  return self->asset && g_strcmp0 (catena_asset_get_id (self->asset), asset_id) == 0;
}

static void
on_stage_started (CatenaWindow *self, const char *asset_id, guint index, const char *stage_id,
                  CatenaRunner *runner)
{
  CatenaStageCard *card;

  g_hash_table_insert (self->running_stage, g_strdup (asset_id), g_strdup (stage_id));
  if (is_selected_asset (self, asset_id) && (card = card_for_stage_id (self, stage_id)))
    catena_stage_card_set_state (card, CATENA_CARD_RUNNING, NULL);
}

static void
on_asset_progress (CatenaWindow *self, const char *asset_id, guint index, double fraction,
                   CatenaRunner *runner)
{
  const char *stage_id = g_hash_table_lookup (self->running_stage, asset_id);
  CatenaStageCard *card;

  if (stage_id && is_selected_asset (self, asset_id) && (card = card_for_stage_id (self, stage_id)))
    catena_stage_card_set_progress (card, fraction);
}

static void
on_stage_finished (CatenaWindow *self, const char *asset_id, guint index, const char *stage_id,
                   const char *key, gboolean from_cache, CatenaRunner *runner)
{
  CatenaStageCard *card;

  g_hash_table_remove (self->running_stage, asset_id);
  if (!is_selected_asset (self, asset_id) || !(card = card_for_stage_id (self, stage_id)))
    return;
  if (g_strcmp0 (catena_stage_card_get_key (card), key) == 0)
    {
      catena_stage_card_set_state (card, CATENA_CARD_READY, NULL);
      request_thumbnail (self, card, key);
      /* From now on the stage's own entry shows it (not its picked candidate). */
      for (guint i = 0; self->shown_keys && self->keys && self->keys[i] && self->shown_keys[i];
           i++)
        if (g_str_equal (self->keys[i], key))
          {
            g_free (self->shown_keys[i]);
            self->shown_keys[i] = g_strdup (key);
          }
      if (catena_chain_view_get_card (self->chain_view,
                                      catena_chain_view_get_selected (self->chain_view)) == card)
        update_preview_source (self);
    }
  else if (catena_stage_card_get_state (card) == CATENA_CARD_RUNNING)
    catena_stage_card_set_state (card, CATENA_CARD_STALE, NULL);
}

static void
update_asset_rows (CatenaWindow *self)
{
  for (int i = 0;; i++)
    {
      GtkListBoxRow *row = gtk_list_box_get_row_at_index (self->asset_list, i);
      CatenaAsset *asset;
      GtkWidget *icon;
      const char *status;

      if (row == NULL)
        break;
      asset = g_object_get_data (G_OBJECT (row), "catena-asset");
      icon = g_object_get_data (G_OBJECT (row), "catena-status");
      status = g_hash_table_lookup (self->asset_errors, catena_asset_get_id (asset));
      gtk_widget_set_visible (icon, status != NULL);
      if (status == NULL)
        continue;
      gtk_image_set_from_icon_name (GTK_IMAGE (icon), *status ? "dialog-error-symbolic"
                                                              : "object-select-symbolic");
      gtk_widget_set_tooltip_text (icon, *status ? status : _("Finished"));
      if (*status)
        gtk_widget_add_css_class (icon, "error");
      else
        gtk_widget_remove_css_class (icon, "error");
    }
}

static void
on_asset_finished (CatenaWindow *self, const char *asset_id, const char *output,
                   const char *error_message, CatenaRunner *runner)
{
  g_autofree char *stage_id = NULL;
  gboolean cancelled = self->run_cancellable && g_cancellable_is_cancelled (self->run_cancellable);
  CatenaStageCard *card = NULL;

  g_hash_table_steal_extended (self->running_stage, asset_id, NULL, (gpointer *) &stage_id);
  if (stage_id && is_selected_asset (self, asset_id))
    card = card_for_stage_id (self, stage_id);

  if (error_message && !cancelled)
    {
      g_hash_table_insert (self->asset_errors, g_strdup (asset_id), g_strdup (error_message));
      if (card)
        {
          if (catena_stage_card_get_key (card))
            g_hash_table_insert (self->errors, g_strdup (catena_stage_card_get_key (card)),
                                 g_strdup (error_message));
          catena_stage_card_set_state (card, CATENA_CARD_FAILED, error_message);
        }
    }
  else
    {
      if (!error_message)
        g_hash_table_insert (self->asset_errors, g_strdup (asset_id), g_strdup (""));
      if (card && catena_stage_card_get_state (card) == CATENA_CARD_RUNNING)
        catena_stage_card_set_state (card, CATENA_CARD_STALE, NULL);
    }
  update_asset_rows (self);
}

static void
on_runner_running (CatenaWindow *self, GParamSpec *pspec, CatenaRunner *runner)
{
  gboolean running = catena_runner_get_running (runner);

  gtk_widget_set_visible (self->cancel_button, running);
  gtk_widget_set_visible (self->progress_bar, running);
  catena_window_update_actions (self);
}

/* Assets */

static GtkWidget *
create_asset_row (gpointer item, gpointer user_data)
{
  CatenaAsset *asset = item;
  GtkWidget *row = adw_action_row_new ();
  GtkWidget *icon = gtk_image_new ();
  GtkWidget *status = gtk_image_new ();

  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), catena_asset_get_name (asset)
                                                              ? catena_asset_get_name (asset)
                                                              : catena_asset_get_id (asset));
  adw_action_row_set_subtitle (ADW_ACTION_ROW (row),
                               catena_asset_class_to_string (catena_asset_get_asset_class (asset)));
  gtk_image_set_from_icon_name (GTK_IMAGE (icon), "image-x-generic-symbolic");
  adw_action_row_add_prefix (ADW_ACTION_ROW (row), icon);
  gtk_widget_set_visible (status, FALSE);
  adw_action_row_add_suffix (ADW_ACTION_ROW (row), status);
  g_object_set_data_full (G_OBJECT (row), "catena-asset", g_object_ref (asset), g_object_unref);
  g_object_set_data (G_OBJECT (row), "catena-status", status);
  return row;
}

static void
on_asset_row_selected (CatenaWindow *self, GtkListBoxRow *row, GtkListBox *list)
{
  CatenaAsset *asset = row ? g_object_get_data (G_OBJECT (row), "catena-asset") : NULL;

  if (asset == self->asset)
    return;
  g_set_object (&self->asset, asset);
  g_strfreev (g_steal_pointer (&self->keys));
  g_strfreev (g_steal_pointer (&self->shown_keys));
  catena_window_forget_sweep (self);
  catena_window_schedule_refresh (self);
  catena_window_update_actions (self);
}

static void
on_assets_changed (CatenaWindow *self, guint position, guint removed, guint added,
                   GListModel *model)
{
  update_asset_rows (self);
  if (self->asset == NULL && g_list_model_get_n_items (model) > 0)
    catena_window_select_asset (self, 0);
  catena_window_update_actions (self);
}

void
catena_window_select_asset (CatenaWindow *self, guint position)
{
  GtkListBoxRow *row;

  g_return_if_fail (CATENA_IS_WINDOW (self));

  row = gtk_list_box_get_row_at_index (self->asset_list, position);
  gtk_list_box_select_row (self->asset_list, row);
}

CatenaAsset *
catena_window_get_asset (CatenaWindow *self)
{
  g_return_val_if_fail (CATENA_IS_WINDOW (self), NULL);
  return self->asset;
}

static gboolean
is_image_file (GFile *file)
{
  g_autofree char *name = g_file_get_basename (file);
  g_autofree char *type = g_content_type_guess (name, NULL, 0, NULL);

  return g_content_type_is_a (type, "image/*");
}

guint
catena_window_add_files (CatenaWindow *self, GFile **files, guint n_files)
{
  g_autofree char *base_dir = NULL;
  g_autoptr (GFile) base = NULL;
  guint n_added = 0, first = 0;

  g_return_val_if_fail (CATENA_IS_WINDOW (self), 0);

  if (self->project == NULL)
    return 0;
  base_dir = catena_project_dup_base_dir (self->project);
  base = g_file_new_for_path (base_dir);
  first = g_list_model_get_n_items (catena_project_get_assets (self->project));

  for (guint i = 0; i < n_files; i++)
    {
      g_autoptr (CatenaAsset) asset = NULL;
      g_autofree char *basename = g_file_get_basename (files[i]);
      g_autofree char *relative = g_file_get_relative_path (base, files[i]);
      g_autofree char *path = g_file_get_path (files[i]);
      g_autofree char *stem = NULL;
      g_autofree char *id = NULL;
      char *dot;

      if (path == NULL || !is_image_file (files[i]))
        continue;
      stem = g_strdup (basename);
      if ((dot = strrchr (stem, '.')))
        *dot = '\0';
      id = catena_project_make_asset_id (self->project, stem);
      asset = catena_asset_new (id);
      catena_asset_set_name (asset, stem);
      catena_asset_set_source (asset, relative ? relative : path);
      catena_project_add_asset (self->project, asset);
      n_added++;
    }

  if (n_added > 0)
    {
      g_autofree char *msg = g_strdup_printf (
        g_dngettext (GETTEXT_PACKAGE, "Added %u photo", "Added %u photos", n_added), n_added);
      self->assets_modified = TRUE;
      catena_window_update_title (self);
      catena_window_select_asset (self, first);
      catena_window_toast (self, msg);
    }
  else if (n_files > 0)
    catena_window_toast (self, _("Only image files can be added as photos"));
  return n_added;
}

static gboolean
on_files_dropped (GtkDropTarget *target, const GValue *value, double x, double y,
                  CatenaWindow *self)
{
  GSList *list = g_value_get_boxed (value);
  g_autoptr (GPtrArray) files = g_ptr_array_new ();

  for (GSList *l = list; l; l = l->next)
    g_ptr_array_add (files, l->data);
  return catena_window_add_files (self, (GFile **) files->pdata, files->len) > 0;
}

/* Project */

void
catena_window_update_title (CatenaWindow *self)
{
  const char *name = self->project ? catena_project_get_name (self->project) : NULL;
  GFile *file = self->project ? catena_project_get_file (self->project) : NULL;
  g_autofree char *basename = file ? g_file_get_basename (file) : NULL;
  g_autofree char *title = NULL;
  g_autofree char *subtitle = NULL;

  if (name == NULL || *name == '\0')
    name = basename ? basename : _("Untitled Project");
  title = catena_window_get_modified (self) ? g_strdup_printf ("• %s", name) : g_strdup (name);
  if (file)
    {
      g_autofree char *parent = g_file_get_parse_name (file);
      subtitle = g_path_get_dirname (parent);
    }
  adw_view_switcher_title_set_title (self->window_title, title);
  adw_view_switcher_title_set_subtitle (self->window_title, subtitle);
  gtk_window_set_title (GTK_WINDOW (self), name);
}

static void
on_history_modified (CatenaWindow *self, GParamSpec *pspec, CatenaHistory *history)
{
  catena_window_update_title (self);
  catena_window_update_actions (self);
}

/* Review states and comments live in the project file: they make it unsaved. */
static void
on_review_changed (CatenaWindow *self)
{
  self->assets_modified = TRUE;
  catena_window_update_title (self);
}

void
catena_window_set_project (CatenaWindow *self, CatenaProject *project)
{
  CatenaChain *chain;
  GListModel *assets;

  g_return_if_fail (CATENA_IS_WINDOW (self));
  g_return_if_fail (CATENA_IS_PROJECT (project));

  if (self->run_cancellable)
    g_cancellable_cancel (self->run_cancellable);

  if (self->project)
    {
      g_signal_handlers_disconnect_by_data (catena_project_get_chain (self->project), self);
      g_signal_handlers_disconnect_by_data (catena_project_get_assets (self->project), self);
    }
  if (self->history)
    g_signal_handlers_disconnect_by_data (self->history, self);

  g_set_object (&self->project, project);
  g_clear_object (&self->history);
  g_clear_object (&self->asset);
  g_clear_pointer (&self->keys, g_strfreev);
  g_clear_pointer (&self->shown_keys, g_strfreev);
  catena_window_forget_sweep (self);
  g_hash_table_remove_all (self->asset_errors);
  self->assets_modified = FALSE;

  chain = catena_project_get_chain (project);
  assets = catena_project_get_assets (project);
  self->history = catena_history_new (chain);
  g_signal_connect_object (self->history, "notify::modified", G_CALLBACK (on_history_modified),
                           self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->history, "notify::can-undo",
                           G_CALLBACK (catena_window_update_actions), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->history, "notify::can-redo",
                           G_CALLBACK (catena_window_update_actions), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (chain, "items-changed", G_CALLBACK (on_chain_items_changed), self,
                           G_CONNECT_SWAPPED);
  g_signal_connect_object (chain, "stage-changed", G_CALLBACK (on_stage_changed), self,
                           G_CONNECT_SWAPPED);
  g_signal_connect_object (assets, "items-changed", G_CALLBACK (on_assets_changed), self,
                           G_CONNECT_SWAPPED);

  catena_inspector_set_history (self->inspector, self->history);
  catena_inspector_set_stage (self->inspector, NULL);

  /* Review board and batch view are tied to one project: new ones for each (the old ones are
   * disposed with their bins' children, which cancels their work). */
  self->review_board = CATENA_REVIEW_BOARD (
    catena_review_board_new (project, catena_runner_get_cache (self->runner)));
  adw_bin_set_child (self->review_bin, GTK_WIDGET (self->review_board));
  g_signal_connect_object (catena_review_board_get_review (self->review_board), "changed",
                           G_CALLBACK (on_review_changed), self, G_CONNECT_SWAPPED);
  adw_bin_set_child (self->batch_bin, catena_batch_view_new (project));
  catena_chain_view_set_chain (self->chain_view, chain);
  gtk_list_box_bind_model (self->asset_list, assets, create_asset_row, self, NULL);
  if (g_list_model_get_n_items (assets) > 0)
    catena_window_select_asset (self, 0);
  if (catena_chain_get_n_stages (chain) > 0)
    catena_chain_view_set_selected (self->chain_view, catena_chain_get_n_stages (chain) - 1);

  catena_preview_zoom_fit (self->preview);
  catena_window_update_title (self);
  catena_window_update_actions (self);
  catena_window_schedule_refresh (self);
}

gboolean
catena_window_load (CatenaWindow *self, GFile *file, GError **error)
{
  g_autoptr (CatenaProject) project = NULL;

  g_return_val_if_fail (CATENA_IS_WINDOW (self), FALSE);

  if (!(project = catena_project_load (file, error)))
    return FALSE;
  catena_window_set_project (self, project);
  {
    g_autofree char *uri = g_file_get_uri (file);
    gtk_recent_manager_add_item (gtk_recent_manager_get_default (), uri);
  }
  catena_window_update_recent (self);
  return TRUE;
}

/* Closing */

static void
on_close_response (AdwMessageDialog *dialog, const char *response, CatenaWindow *self)
{
  if (g_strcmp0 (response, "discard") == 0)
    {
      catena_autosave_discard (self->project);
      self->assets_modified = FALSE;
      catena_history_mark_saved (self->history);
      gtk_window_destroy (GTK_WINDOW (self));
    }
  else if (g_strcmp0 (response, "save") == 0)
    {
      GFile *file = catena_project_get_file (self->project);
      g_autoptr (GError) error = NULL;

      if (file == NULL)
        catena_window_save_as (self, TRUE);
      else if (catena_window_save_to (self, file, &error))
        gtk_window_destroy (GTK_WINDOW (self));
      else
        catena_window_toast (self, error->message);
    }
}

static gboolean
catena_window_close_request (GtkWindow *window)
{
  CatenaWindow *self = CATENA_WINDOW (window);
  GtkWidget *dialog;

  if (!catena_window_get_modified (self))
    return GTK_WINDOW_CLASS (catena_window_parent_class)->close_request (window);

  dialog = adw_message_dialog_new (window, _("Save Changes?"), NULL);
  adw_message_dialog_format_body (
    ADW_MESSAGE_DIALOG (dialog),
    _("“%s” has unsaved changes. Changes you do not save are lost."),
    gtk_window_get_title (window));
  adw_message_dialog_add_responses (ADW_MESSAGE_DIALOG (dialog), "cancel", _("_Cancel"),
                                    "discard", _("_Discard"), "save", _("_Save"), NULL);
  adw_message_dialog_set_response_appearance (ADW_MESSAGE_DIALOG (dialog), "discard",
                                              ADW_RESPONSE_DESTRUCTIVE);
  adw_message_dialog_set_response_appearance (ADW_MESSAGE_DIALOG (dialog), "save",
                                              ADW_RESPONSE_SUGGESTED);
  adw_message_dialog_set_default_response (ADW_MESSAGE_DIALOG (dialog), "save");
  adw_message_dialog_set_close_response (ADW_MESSAGE_DIALOG (dialog), "cancel");
  g_signal_connect_object (dialog, "response", G_CALLBACK (on_close_response), self, 0);
  gtk_window_present (GTK_WINDOW (dialog));
  return TRUE;
}

void
catena_window_mark_recovered (CatenaWindow *self)
{
  g_return_if_fail (CATENA_IS_WINDOW (self));
  self->assets_modified = TRUE;
  catena_window_update_title (self);
  catena_window_toast (self, _("Recovered unsaved work: save it to keep it."));
}

/* Crash recovery: a modified project is copied to its autosave slot now and then (a small
 * JSON document, written atomically); a save or a deliberate discard removes it. */
static gboolean
autosave_tick (gpointer data)
{
  CatenaWindow *self = data;
  g_autoptr (GError) error = NULL;

  if (self->project && catena_window_get_modified (self) &&
      !catena_autosave_write (self->project, &error))
    g_warning ("Autosave failed: %s", error->message);
  return G_SOURCE_CONTINUE;
}

static void
start_autosave (CatenaWindow *self)
{
  g_autoptr (GSettings) settings = catena_ui_dup_settings ();
  guint interval = settings ? g_settings_get_uint (settings, "autosave-interval") : 60;

  if (interval > 0)
    self->autosave_source = g_timeout_add_seconds (interval, autosave_tick, self);
}

/* GObject */

static void
catena_window_dispose (GObject *object)
{
  CatenaWindow *self = CATENA_WINDOW (object);

  g_cancellable_cancel (self->cancellable);
  if (self->run_cancellable)
    g_cancellable_cancel (self->run_cancellable);
  g_clear_handle_id (&self->refresh_source, g_source_remove);
  g_clear_handle_id (&self->autosave_source, g_source_remove);
  if (self->renderer)
    {
      g_signal_handlers_disconnect_by_data (self->renderer, self);
      catena_preview_renderer_stop (self->renderer);
    }
  g_clear_object (&self->renderer);

  gtk_widget_dispose_template (GTK_WIDGET (self), CATENA_TYPE_WINDOW);

  if (self->project)
    {
      g_signal_handlers_disconnect_by_data (catena_project_get_chain (self->project), self);
      g_signal_handlers_disconnect_by_data (catena_project_get_assets (self->project), self);
    }
  g_clear_object (&self->history);
  g_clear_object (&self->project);
  g_clear_object (&self->asset);
  g_clear_object (&self->thumbnailer);
  if (self->runner)
    g_signal_handlers_disconnect_by_data (self->runner, self);
  g_clear_object (&self->runner);
  g_clear_object (&self->run_cancellable);
  g_clear_object (&self->shown_source);
  g_clear_object (&self->shown_before);
  g_clear_object (&self->stage_input);
  g_clear_object (&self->toast);
  catena_window_forget_sweep (self);

  G_OBJECT_CLASS (catena_window_parent_class)->dispose (object);
}

static void
catena_window_finalize (GObject *object)
{
  CatenaWindow *self = CATENA_WINDOW (object);

  g_clear_object (&self->cancellable);
  g_strfreev (self->keys);
  g_strfreev (self->shown_keys);
  g_clear_pointer (&self->candidate_keys, g_ptr_array_unref);
  g_hash_table_unref (self->errors);
  g_hash_table_unref (self->asset_errors);
  g_hash_table_unref (self->running_stage);
  g_free (self->last_toast);
  g_free (self->device_note);

  G_OBJECT_CLASS (catena_window_parent_class)->finalize (object);
}

static void
catena_window_class_init (CatenaWindowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);
  GtkWindowClass *window_class = GTK_WINDOW_CLASS (klass);

  object_class->dispose = catena_window_dispose;
  object_class->finalize = catena_window_finalize;
  window_class->close_request = catena_window_close_request;

  g_type_ensure (CATENA_TYPE_STAGE_PALETTE);
  g_type_ensure (CATENA_TYPE_CHAIN_VIEW);
  g_type_ensure (CATENA_TYPE_PREVIEW);
  g_type_ensure (CATENA_TYPE_INSPECTOR);

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/io/github/catena/Catena/catena-window.ui");
  gtk_widget_class_bind_template_child (widget_class, CatenaWindow, toast_overlay);
  gtk_widget_class_bind_template_child (widget_class, CatenaWindow, window_title);
  gtk_widget_class_bind_template_child (widget_class, CatenaWindow, view_stack);
  gtk_widget_class_bind_template_child (widget_class, CatenaWindow, review_bin);
  gtk_widget_class_bind_template_child (widget_class, CatenaWindow, batch_bin);
  gtk_widget_class_bind_template_child (widget_class, CatenaWindow, run_button);
  gtk_widget_class_bind_template_child (widget_class, CatenaWindow, cancel_button);
  gtk_widget_class_bind_template_child (widget_class, CatenaWindow, progress_bar);
  gtk_widget_class_bind_template_child (widget_class, CatenaWindow, palette);
  gtk_widget_class_bind_template_child (widget_class, CatenaWindow, asset_list);
  gtk_widget_class_bind_template_child (widget_class, CatenaWindow, preview);
  gtk_widget_class_bind_template_child (widget_class, CatenaWindow, preview_status);
  gtk_widget_class_bind_template_child (widget_class, CatenaWindow, preview_badge);
  gtk_widget_class_bind_template_child (widget_class, CatenaWindow, split_button);
  gtk_widget_class_bind_template_child (widget_class, CatenaWindow, chain_view);
  gtk_widget_class_bind_template_child (widget_class, CatenaWindow, inspector);
  gtk_widget_class_bind_template_child (widget_class, CatenaWindow, recent_section);

  catena_window_class_install_actions (widget_class);
}

static void
catena_window_init (CatenaWindow *self)
{
  GtkDropTarget *target;

  self->cancellable = g_cancellable_new ();
  self->errors = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  self->asset_errors = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  self->running_stage = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);

  gtk_widget_init_template (GTK_WIDGET (self));

  start_autosave (self);

  self->runner = catena_runner_new (NULL);
  self->thumbnailer = catena_thumbnailer_new (catena_runner_get_cache (self->runner),
                                              THUMBNAIL_SIZE);
  self->renderer = catena_preview_renderer_new ();

  g_object_bind_property (self->runner, "fraction", self->progress_bar, "fraction",
                          G_BINDING_SYNC_CREATE);
  g_object_bind_property (self->runner, "message", self->progress_bar, "text",
                          G_BINDING_SYNC_CREATE);
  g_object_bind_property (self->split_button, "active", self->preview, "split",
                          G_BINDING_SYNC_CREATE | G_BINDING_BIDIRECTIONAL);
  g_signal_connect_object (self->runner, "notify::running", G_CALLBACK (on_runner_running), self,
                           G_CONNECT_SWAPPED);
  g_signal_connect_object (self->runner, "stage-started", G_CALLBACK (on_stage_started), self,
                           G_CONNECT_SWAPPED);
  g_signal_connect_object (self->runner, "stage-finished", G_CALLBACK (on_stage_finished), self,
                           G_CONNECT_SWAPPED);
  g_signal_connect_object (self->runner, "asset-progress", G_CALLBACK (on_asset_progress), self,
                           G_CONNECT_SWAPPED);
  g_signal_connect_object (self->runner, "asset-finished", G_CALLBACK (on_asset_finished), self,
                           G_CONNECT_SWAPPED);
  g_signal_connect_object (self->renderer, "rendered", G_CALLBACK (on_rendered), self,
                           G_CONNECT_SWAPPED);
  g_signal_connect_object (catena_device_monitor_get_default (), "model-ran",
                           G_CALLBACK (on_model_ran), self, G_CONNECT_SWAPPED);

  g_signal_connect_object (self->chain_view, "notify::selected", G_CALLBACK (on_selected_stage),
                           self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->chain_view, "insert-kind", G_CALLBACK (on_insert_kind), self,
                           G_CONNECT_SWAPPED);
  g_signal_connect_object (self->chain_view, "move-stage", G_CALLBACK (on_move_stage), self,
                           G_CONNECT_SWAPPED);
  g_signal_connect_object (self->chain_view, "remove-stage", G_CALLBACK (on_remove_stage), self,
                           G_CONNECT_SWAPPED);
  g_signal_connect_object (self->inspector, "edit-finished", G_CALLBACK (on_edit_finished), self,
                           G_CONNECT_SWAPPED);
  g_signal_connect_object (self->preview, "view-changed", G_CALLBACK (on_view_changed), self,
                           G_CONNECT_SWAPPED);
  g_signal_connect_object (self->preview, "notify::split", G_CALLBACK (on_split_changed), self,
                           G_CONNECT_SWAPPED);
  g_signal_connect_object (self->asset_list, "row-selected", G_CALLBACK (on_asset_row_selected),
                           self, G_CONNECT_SWAPPED);
  catena_preview_renderer_set_show_before (self->renderer, FALSE);

  target = gtk_drop_target_new (GDK_TYPE_FILE_LIST, GDK_ACTION_COPY);
  g_signal_connect (target, "drop", G_CALLBACK (on_files_dropped), self);
  gtk_widget_add_controller (GTK_WIDGET (self), GTK_EVENT_CONTROLLER (target));

  catena_window_set_preview_status (self, _("No Project"), NULL);
  catena_window_update_recent (self);
  catena_window_update_actions (self);
}

CatenaWindow *
catena_window_new (GtkApplication *application)
{
  return g_object_new (CATENA_TYPE_WINDOW, "application", application, NULL);
}

CatenaProject *
catena_window_get_project (CatenaWindow *self)
{
  g_return_val_if_fail (CATENA_IS_WINDOW (self), NULL);
  return self->project;
}

CatenaHistory *
catena_window_get_history (CatenaWindow *self)
{
  g_return_val_if_fail (CATENA_IS_WINDOW (self), NULL);
  return self->history;
}

CatenaRunner *
catena_window_get_runner (CatenaWindow *self)
{
  g_return_val_if_fail (CATENA_IS_WINDOW (self), NULL);
  return self->runner;
}

CatenaChainView *
catena_window_get_chain_view (CatenaWindow *self)
{
  g_return_val_if_fail (CATENA_IS_WINDOW (self), NULL);
  return self->chain_view;
}

CatenaInspector *
catena_window_get_inspector (CatenaWindow *self)
{
  g_return_val_if_fail (CATENA_IS_WINDOW (self), NULL);
  return self->inspector;
}

CatenaPreview *
catena_window_get_preview (CatenaWindow *self)
{
  g_return_val_if_fail (CATENA_IS_WINDOW (self), NULL);
  return self->preview;
}

CatenaPreviewRenderer *
catena_window_get_renderer (CatenaWindow *self)
{
  g_return_val_if_fail (CATENA_IS_WINDOW (self), NULL);
  return self->renderer;
}

gboolean
catena_window_get_modified (CatenaWindow *self)
{
  g_return_val_if_fail (CATENA_IS_WINDOW (self), FALSE);
  return self->assets_modified || (self->history && catena_history_get_modified (self->history));
}

gboolean
catena_window_is_busy (CatenaWindow *self)
{
  g_return_val_if_fail (CATENA_IS_WINDOW (self), FALSE);
  return self->refresh_source != 0 || self->keys_pending > 0 || self->preview_pending > 0 ||
         self->n_thumbnails_pending > 0 || self->sweep_pending > 0 ||
         catena_routing_group_is_busy (catena_inspector_get_routing (self->inspector));
}

gboolean
catena_window_is_live (CatenaWindow *self)
{
  g_return_val_if_fail (CATENA_IS_WINDOW (self), FALSE);
  return self->live;
}

gboolean
catena_window_is_blending (CatenaWindow *self)
{
  g_return_val_if_fail (CATENA_IS_WINDOW (self), FALSE);
  return self->blending;
}

const char *
catena_window_get_last_toast (CatenaWindow *self)
{
  g_return_val_if_fail (CATENA_IS_WINDOW (self), NULL);
  return self->last_toast;
}
