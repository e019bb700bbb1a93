/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <glib/gi18n.h>

#include "catena-provider.h"
#include "catena-stages-remote.h"
#include "catena-window-private.h"

/* What remote stages add to the window: a generate stage's candidates, the estimated cost of
 * the selected stage, and a style stage's strength sweep, scrubbed without requests. */

CatenaStage *
catena_window_get_selected_stage (CatenaWindow *self)
{
  guint position;

  if (self->project == NULL || self->chain_view == NULL)
    return NULL;
  position = catena_chain_view_get_selected (self->chain_view);
  if (position == CATENA_INVALID_POSITION)
    return NULL;
  return catena_chain_get_stage (catena_project_get_chain (self->project), position);
}

/* The cache key of the stage's input (the previous stage's output), or NULL. */
static const char *
input_key_of (CatenaWindow *self, CatenaStage *stage)
{
  guint position;

  if (self->keys == NULL ||
      !catena_chain_find_stage (catena_project_get_chain (self->project),
                                catena_stage_get_id (stage), &position) ||
      position == 0)
    return NULL;
  for (guint i = 0; i < position; i++)
    if (self->keys[i] == NULL)
      return NULL;
  return self->keys[position - 1];
}

/* Candidates */

char **
catena_window_find_candidates (CatenaStage *stage, CatenaStageContext *ctx, CatenaCache *cache)
{
  g_autofree char *batch = NULL;
  g_auto (GStrv) keys = NULL;
  gboolean any = FALSE;
  guint n = 0;

  if (!CATENA_IS_STAGE_GENERATE (stage))
    return NULL;
  g_object_get (stage, "candidates", &n, NULL);
  if (n == 0 || !(batch = catena_stage_generate_dup_batch_key (CATENA_STAGE_GENERATE (stage),
                                                               ctx)))
    return NULL;
  keys = g_new0 (char *, n + 1);
  for (guint i = 0; i < n; i++)
    {
      char *key = catena_stage_generate_candidate_key (batch, i);

      if (catena_cache_contains (cache, key))
        {
          keys[i] = key;
          any = TRUE;
        }
      else
        {
          keys[i] = g_strdup ("");
          g_free (key);
        }
    }
  return any ? g_steal_pointer (&keys) : NULL;
}

typedef struct
{
  GWeakRef window;
  guint index;
  char *key;
} CandidateRequest;

static char **
selected_candidates (CatenaWindow *self)
{
  CatenaStage *stage = catena_window_get_selected_stage (self);
  guint position = catena_chain_view_get_selected (self->chain_view);

  if (stage == NULL || !CATENA_IS_STAGE_GENERATE (stage) || self->candidate_keys == NULL ||
      position >= self->candidate_keys->len)
    return NULL;
  return self->candidate_keys->pdata[position];
}

static void
on_candidate_thumbnail (GObject *source, GAsyncResult *result, gpointer user_data)
{
  CandidateRequest *req = user_data;
  g_autoptr (CatenaWindow) self = g_weak_ref_get (&req->window);
  g_autoptr (GdkTexture) texture = NULL;
  g_autoptr (GError) error = NULL;
  char **keys;

  texture = catena_thumbnailer_load_finish (CATENA_THUMBNAILER (source), result, &error);
  if (self)
    {
      self->n_thumbnails_pending--;
      keys = selected_candidates (self);
      /* Only if the grid still shows that batch. */
      if (texture && keys && req->index < g_strv_length (keys) &&
          g_str_equal (keys[req->index], req->key))
        catena_candidate_grid_set_thumbnail (catena_inspector_get_candidate_grid (self->inspector),
                                             req->index, texture);
    }
  g_weak_ref_clear (&req->window);
  g_free (req->key);
  g_free (req);
}

void
catena_window_update_candidates (CatenaWindow *self)
{
  char **keys = selected_candidates (self);
  CatenaCandidateGrid *grid = catena_inspector_get_candidate_grid (self->inspector);
  guint n = keys ? g_strv_length (keys) : 0;

  catena_inspector_set_candidates (self->inspector, n);
  for (guint i = 0; i < n; i++)
    {
      GdkTexture *texture;
      CandidateRequest *req;

      if (*keys[i] == '\0')
        {
          catena_candidate_grid_set_thumbnail (grid, i, NULL);
          continue;
        }
      if ((texture = catena_thumbnailer_peek (self->thumbnailer, keys[i])))
        {
          catena_candidate_grid_set_thumbnail (grid, i, texture);
          continue;
        }
      req = g_new0 (CandidateRequest, 1);
      g_weak_ref_init (&req->window, self);
      req->index = i;
      req->key = g_strdup (keys[i]);
      self->n_thumbnails_pending++;
      catena_thumbnailer_load_async (self->thumbnailer, keys[i], self->cancellable,
                                     on_candidate_thumbnail, req);
    }
}

void
catena_window_pick_candidate (CatenaWindow *self, guint index)
{
  CatenaStage *stage = catena_window_get_selected_stage (self);
  g_auto (GValue) value = G_VALUE_INIT;
  guint n = 0;

  if (stage == NULL || !CATENA_IS_STAGE_GENERATE (stage))
    return;
  g_object_get (stage, "candidates", &n, NULL);
  if (index >= n)
    return;
  g_value_init (&value, G_TYPE_UINT);
  g_value_set_uint (&value, index);
  /* Its own undo step; the new pick is served from the cache (see KeysJob). */
  catena_history_close_group (self->history);
  catena_history_set_param (self->history, stage, "pick", &value);
  catena_history_close_group (self->history);
}

/* Cost */

void
catena_window_update_cost (CatenaWindow *self)
{
  CatenaStage *stage = catena_window_get_selected_stage (self);
  CatenaRoutingGroup *routing = catena_inspector_get_routing (self->inspector);
  g_autoptr (CatenaProviderRequest) request = NULL;
  g_autofree char *text = NULL;
  g_autofree char *amount = NULL;
  CatenaProvider *provider;
  const char *name, *model;
  CatenaStageCard *card;

  if (stage == NULL)
    return;
  name = catena_stage_get_provider (stage);
  provider = catena_provider_get (name);
  if (provider == NULL)
    {
      catena_routing_group_set_cost (routing, NULL);
      return;
    }
  if (g_str_equal (name, "local"))
    {
      catena_routing_group_set_cost (routing, _("Free: runs on this computer"));
      return;
    }
  if (g_str_equal (name, "comfyui"))
    {
      catena_routing_group_set_cost (routing, _("Free: runs on your ComfyUI server"));
      return;
    }

  /* What the stage would send, as far as the price depends on it: model, count and size. */
  request = catena_provider_request_new (catena_stage_get_kind (stage));
  model = catena_stage_get_model (stage);
  request->model = model && *model ? g_strdup (model) : NULL;
  if (g_object_class_find_property (G_OBJECT_GET_CLASS (stage), "candidates"))
    g_object_get (stage, "candidates", &request->n_images, NULL);
  if (CATENA_IS_STAGE_GENERATE (stage))
    {
      CatenaStageContext ctx = { .asset = self->asset };
      catena_stage_generate_get_size (CATENA_STAGE_GENERATE (stage), &ctx, &request->width,
                                      &request->height);
    }
  else if (self->stage_input)
    request->input = g_object_ref (self->stage_input);

  /* Translators: an amount in US dollars */
  amount = g_strdup_printf (_("US$%.3f"), catena_provider_estimate_cost (provider, request));
  card = catena_chain_view_get_card (self->chain_view,
                                     catena_chain_view_get_selected (self->chain_view));
  if (card && catena_stage_card_get_state (card) == CATENA_CARD_READY)
    /* Translators: %s is an amount such as US$0.003 */
    text = g_strdup_printf (_("About %s per run for this photo; cached now, so running again "
                              "costs nothing"),
                            amount);
  else
    text = g_strdup_printf (_("About %s for this photo"), amount);
  catena_routing_group_set_cost (routing, text);
}

/* Strength sweep */

static char *
sweep_identity (CatenaStage *stage, const char *input_key)
{
  g_autoptr (CatenaStage) copy = catena_stage_duplicate (stage);
  g_autofree char *params = NULL;

  g_object_set (copy, "strength", 0.0, NULL);
  params = catena_stage_canonical_params (copy);
  return g_strdup_printf ("%s|%s|%s|%s", input_key, catena_stage_get_provider (stage),
                          catena_stage_get_model (stage), params);
}

void
catena_window_forget_sweep (CatenaWindow *self)
{
  g_clear_object (&self->sweep_stage);
  g_clear_pointer (&self->sweep_identity, g_free);
  g_clear_pointer (&self->sweep_buffers, g_ptr_array_unref);
  g_clear_object (&self->sweep_input);
  self->blending = FALSE;
}

/* The sweep was rendered for this stage as it is now, but for its strength. */
gboolean
catena_window_sweep_fits (CatenaWindow *self, CatenaStage *stage)
{
  const char *input_key = input_key_of (self, stage);
  g_autofree char *identity = NULL;

  if (self->sweep_buffers == NULL || stage != self->sweep_stage || input_key == NULL)
    return FALSE;
  identity = sweep_identity (stage, input_key);
  return g_strcmp0 (identity, self->sweep_identity) == 0;
}

gboolean
catena_window_show_sweep (CatenaWindow *self, CatenaStage *stage)
{
  g_autofree char *status = NULL;
  const double *strengths;
  guint n, lo = 0, hi = 0;
  double strength, t = 0;
  GeglBuffer *a, *b;
  const GeglRectangle *extent;

  if (!catena_window_sweep_fits (self, stage))
    return FALSE; /* something else changed: the sweep no longer shows this stage */

  strengths = catena_stage_style_get_sweep_strengths (&n);
  g_object_get (stage, "strength", &strength, NULL);
  if (strength >= strengths[n - 1])
    lo = hi = n - 1;
  else if (strength > strengths[0])
    {
      while (lo + 1 < n && strengths[lo + 1] <= strength)
        lo++;
      hi = lo + 1;
      t = (strength - strengths[lo]) / (strengths[hi] - strengths[lo]);
    }
  a = self->sweep_buffers->pdata[lo];
  b = self->sweep_buffers->pdata[hi];

  self->blending = TRUE;
  g_clear_object (&self->shown_source);
  g_clear_object (&self->shown_before);
  catena_window_set_preview_status (self, NULL, NULL);
  extent = gegl_buffer_get_extent (a);
  catena_preview_set_image_size (self->preview, extent->width, extent->height);
  catena_preview_renderer_set_blend (self->renderer, a, b, t, self->sweep_input);
  {
    double scale;
    GeglRectangle rect;
    if (catena_preview_get_render_request (self->preview, &scale, &rect))
      catena_preview_renderer_set_view (self->renderer, scale, &rect);
  }
  if (strength < strengths[0] || strength > strengths[n - 1])
    status = g_strdup_printf (_("Outside the sweep (%.2f – %.2f): the preview shows the "
                                "nearest render until the exact one lands"),
                              strengths[0], strengths[n - 1]);
  else
    status = g_strdup (_("Drag Strength to preview it from the sweep; the exact value renders "
                         "once when you let go"));
  catena_inspector_set_sweep_status (self->inspector, status);
  return TRUE;
}

typedef struct
{
  CatenaStage *stage;       /* the chain's, to know the sweep is for it */
  CatenaStage *copy;        /* what the worker renders */
  CatenaAsset *asset;
  char *base_dir;
  CatenaCache *cache;
  char *input_key;
  char *identity;
  gboolean confirmed;
  gboolean asked;
  double cost;
  guint n_missing;
  GPtrArray *buffers;
  GeglBuffer *input;
  GWeakRef window;
} SweepJob;

static void
sweep_job_free (SweepJob *job)
{
  g_clear_object (&job->stage);
  g_clear_object (&job->copy);
  g_clear_object (&job->asset);
  g_clear_object (&job->cache);
  g_free (job->base_dir);
  g_free (job->input_key);
  g_free (job->identity);
  g_clear_pointer (&job->buffers, g_ptr_array_unref);
  g_clear_object (&job->input);
  g_weak_ref_clear (&job->window);
  g_free (job);
}

static gboolean
sweep_confirm (double estimated_usd, guint n_renders, gpointer user_data)
{
  SweepJob *job = user_data;

  job->asked = TRUE;
  job->cost = estimated_usd;
  job->n_missing = n_renders;
  return job->confirmed;
}

typedef struct
{
  GWeakRef window;
  char *stage_id;
  double fraction;
} SweepProgress;

static gboolean
sweep_progress_cb (gpointer data)
{
  SweepProgress *p = data;
  g_autoptr (CatenaWindow) self = g_weak_ref_get (&p->window);
  guint position;
  CatenaStageCard *card;

  if (self && self->project &&
      catena_chain_find_stage (catena_project_get_chain (self->project), p->stage_id,
                               &position) &&
      (card = catena_chain_view_get_card (self->chain_view, position)))
    catena_stage_card_set_progress (card, p->fraction);
  return G_SOURCE_REMOVE;
}

static void
sweep_progress_free (SweepProgress *p)
{
  g_weak_ref_clear (&p->window);
  g_free (p->stage_id);
  g_free (p);
}

/* Called on the worker: hand the fraction to the main context. */
static void
sweep_progress (double fraction, gpointer user_data)
{
  SweepJob *job = user_data;
  SweepProgress *p = g_new0 (SweepProgress, 1);
  g_autoptr (CatenaWindow) self = g_weak_ref_get (&job->window);

  if (self == NULL)
    {
      g_free (p);
      return;
    }
  g_weak_ref_init (&p->window, self);
  p->stage_id = g_strdup (catena_stage_get_id (job->copy));
  p->fraction = fraction;
  g_idle_add_full (G_PRIORITY_DEFAULT_IDLE, sweep_progress_cb, p,
                   (GDestroyNotify) sweep_progress_free);
}

static void
sweep_thread (GTask *task, gpointer source, gpointer data, GCancellable *cancellable)
{
  SweepJob *job = data;
  CatenaStageContext ctx = { .asset = job->asset, .base_dir = job->base_dir,
                             .cancellable = cancellable, .progress = sweep_progress,
                             .progress_data = job };
  g_autoptr (GError) error = NULL;
  g_auto (GStrv) keys = NULL;

  job->input = catena_cache_lookup (job->cache, job->input_key, NULL);
  if (job->input == NULL)
    {
      g_task_return_new_error (task, CATENA_STAGE_ERROR, CATENA_STAGE_ERROR_INVALID_PARAMETER,
                               _("Run the chain up to this stage first: the sweep starts from "
                                 "its input."));
      return;
    }
  keys = catena_stage_style_render_sweep (CATENA_STAGE_STYLE (job->copy), &ctx, job->input,
                                          job->input_key, job->cache, sweep_confirm, job,
                                          &error);
  if (keys == NULL)
    {
      /* Not confirmed yet: the estimate is in the job; nothing was spent. */
      if (job->asked && !job->confirmed && !g_cancellable_is_cancelled (cancellable))
        g_task_return_boolean (task, TRUE);
      else
        g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  job->buffers = g_ptr_array_new_with_free_func (g_object_unref);
  for (guint i = 0; keys[i]; i++)
    {
      GeglBuffer *buffer = catena_cache_lookup (job->cache, keys[i], &error);

      if (buffer == NULL)
        {
          g_task_return_error (task, g_steal_pointer (&error));
          return;
        }
      g_ptr_array_add (job->buffers, buffer);
    }
  g_task_return_boolean (task, TRUE);
}

static void start_sweep (CatenaWindow *self, SweepJob *job);

static void
set_sweep_card_state (CatenaWindow *self, CatenaStage *stage, CatenaCardState state)
{
  guint position;
  CatenaStageCard *card;

  if (catena_chain_find_stage (catena_project_get_chain (self->project),
                               catena_stage_get_id (stage), &position) &&
      (card = catena_chain_view_get_card (self->chain_view, position)))
    catena_stage_card_set_state (card, state, NULL);
}

static void
on_sweep_response (AdwMessageDialog *dialog, const char *response, CatenaWindow *self)
{
  SweepJob *job = g_object_steal_data (G_OBJECT (dialog), "catena-sweep-job");

  if (job == NULL)
    return;
  if (g_strcmp0 (response, "render") == 0 && !g_cancellable_is_cancelled (self->cancellable))
    {
      job->confirmed = TRUE;
      start_sweep (self, job);
    }
  else
    {
      catena_inspector_set_sweep_status (self->inspector, _("Not rendered: nothing was spent"));
      sweep_job_free (job);
    }
}

static void
ask_to_render (CatenaWindow *self, SweepJob *job)
{
  GtkWidget *dialog;
  g_autofree char *amount = g_strdup_printf (_("US$%.2f"), job->cost);
  CatenaProvider *provider = catena_provider_get (catena_stage_get_provider (job->copy));

  dialog = adw_message_dialog_new (GTK_WINDOW (self), _("Render the Strength Preview?"), NULL);
  adw_message_dialog_format_body (
    ADW_MESSAGE_DIALOG (dialog),
    /* Translators: %u renders, %s a provider such as fal, %s an amount such as US$0.12 */
    g_dngettext (GETTEXT_PACKAGE,
                 "Catena renders the style %u time on %s, for about %s. The slider then "
                 "previews strengths between renders without new requests.",
                 "Catena renders the style %u times on %s, for about %s in all. The slider "
                 "then previews strengths between renders without new requests.",
                 job->n_missing),
    job->n_missing,
    provider ? g_dgettext (GETTEXT_PACKAGE, catena_provider_get_title (provider))
             : catena_stage_get_provider (job->copy),
    amount);
  adw_message_dialog_add_responses (ADW_MESSAGE_DIALOG (dialog), "cancel", _("_Cancel"),
                                    "render", _("_Render"), NULL);
  adw_message_dialog_set_response_appearance (ADW_MESSAGE_DIALOG (dialog), "render",
                                              ADW_RESPONSE_SUGGESTED);
  adw_message_dialog_set_default_response (ADW_MESSAGE_DIALOG (dialog), "render");
  adw_message_dialog_set_close_response (ADW_MESSAGE_DIALOG (dialog), "cancel");
  g_object_set_data_full (G_OBJECT (dialog), "catena-sweep-job", job,
                          (GDestroyNotify) sweep_job_free);
  g_signal_connect_object (dialog, "response", G_CALLBACK (on_sweep_response), self, 0);
  gtk_window_present (GTK_WINDOW (dialog));
}

static void
on_sweep_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  CatenaWindow *self = CATENA_WINDOW (source);
  SweepJob *job = user_data;
  g_autoptr (GError) error = NULL;

  self->sweep_pending--;
  if (g_cancellable_is_cancelled (self->cancellable))
    {
      sweep_job_free (job); /* the window is going */
      return;
    }
  if (job->confirmed)
    set_sweep_card_state (self, job->stage, CATENA_CARD_STALE);
  if (!g_task_propagate_boolean (G_TASK (result), &error))
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        {
          g_autofree char *message = g_strdup_printf (_("No strength preview: %s"),
                                                      error->message);
          catena_inspector_set_sweep_status (self->inspector, message);
          catena_window_toast (self, message);
        }
      sweep_job_free (job);
      catena_window_schedule_refresh (self);
      catena_window_update_actions (self);
      return;
    }
  if (job->buffers == NULL)
    {
      ask_to_render (self, job);
      catena_window_update_actions (self);
      return;
    }

  catena_window_forget_sweep (self);
  self->sweep_stage = g_steal_pointer (&job->stage);
  self->sweep_identity = g_steal_pointer (&job->identity);
  self->sweep_buffers = g_steal_pointer (&job->buffers);
  self->sweep_input = g_steal_pointer (&job->input);
  sweep_job_free (job);
  if (self->sweep_stage == catena_window_get_selected_stage (self))
    catena_window_show_sweep (self, self->sweep_stage);
  catena_window_schedule_refresh (self);
  catena_window_update_actions (self);
}

static void
start_sweep (CatenaWindow *self, SweepJob *job)
{
  g_autoptr (GTask) task = g_task_new (self, self->cancellable, on_sweep_done, job);

  g_task_set_task_data (task, job, NULL);
  self->sweep_pending++;
  if (job->confirmed)
    {
      set_sweep_card_state (self, job->stage, CATENA_CARD_RUNNING);
      catena_inspector_set_sweep_status (self->inspector, _("Rendering the sweep…"));
    }
  else
    catena_inspector_set_sweep_status (self->inspector, _("Working out the cost…"));
  catena_window_update_actions (self);
  g_task_run_in_thread (task, sweep_thread);
}

void
catena_window_render_sweep (CatenaWindow *self)
{
  CatenaStage *stage = catena_window_get_selected_stage (self);
  const char *input_key;
  SweepJob *job;

  if (stage == NULL || !CATENA_IS_STAGE_STYLE (stage) || self->asset == NULL ||
      self->sweep_pending > 0)
    return;
  if (!(input_key = input_key_of (self, stage)))
    {
      catena_window_toast (self, _("Run the chain up to this stage first: the sweep starts from "
                                   "its input."));
      return;
    }
  job = g_new0 (SweepJob, 1);
  job->stage = g_object_ref (stage);
  job->copy = catena_stage_duplicate (stage);
  job->asset = catena_window_snapshot_asset (self->asset);
  job->base_dir = catena_project_dup_base_dir (self->project);
  job->cache = g_object_ref (catena_runner_get_cache (self->runner));
  job->input_key = g_strdup (input_key);
  job->identity = sweep_identity (stage, input_key);
  g_weak_ref_init (&job->window, self);
  start_sweep (self, job);
}
