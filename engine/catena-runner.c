/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <errno.h>
#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>

#include "catena-error.h"
#include "catena-provider.h"
#include "catena-runner.h"
#include "catena-stages-remote.h"

struct _CatenaRunner
{
  GObject parent_instance;

  CatenaCache *cache;
  guint max_workers;
  double fraction;
  char *message;
  guint n_running;

  gint n_executed; /* atomic */
  gint n_cached;   /* atomic */

  CatenaRouter *router;
  CatenaBudget *budget;
  CatenaLedger *ledger;
  char *campaign;
  GHashTable *limits;       /* provider -> guint, set by catena_runner_set_provider_limit */

  /* Shared by every worker of every run; waits wake on cancellation too. */
  GMutex gate_lock;
  GCond gate_cond;
  gboolean paused;
  GHashTable *lanes;        /* provider -> calls running now */
  GHashTable *inflight;     /* cache keys some worker is producing now */
};

G_DEFINE_FINAL_TYPE (CatenaRunner, catena_runner, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_CACHE,
  PROP_FRACTION,
  PROP_MESSAGE,
  PROP_RUNNING,
  PROP_PAUSED,
  N_PROPS
};

enum {
  STAGE_STARTED,
  STAGE_FINISHED,
  ASSET_PROGRESS,
  ASSET_FINISHED,
  CALL_FINISHED,
  PAUSED,
  N_SIGNALS
};

static GParamSpec *properties[N_PROPS];
static guint signals[N_SIGNALS];

typedef enum
{
  EVENT_STAGE_STARTED,
  EVENT_STAGE_FINISHED,
  EVENT_ASSET_PROGRESS,
  EVENT_ASSET_FINISHED,
  EVENT_CALL_FINISHED,
  EVENT_PAUSED,
  EVENT_DONE,
} EventType;

typedef struct
{
  EventType type;
  char *asset_id;
  guint index;
  char *stage_id;
  char *key;
  gboolean from_cache;
  double fraction;
  char *output;
  char *error_message;
  char *provider;
  char *model;
  double estimated;
  double reported;
} Event;

typedef struct
{
  CatenaRunner *runner;
  GTask *task;
  GMainContext *context;
  GThread *thread;              /* run_thread, joined when its last event is dispatched */
  CatenaChain *chain;     /* private snapshot */
  CatenaChain *routed[4]; /* per asset class when a router is set */
  CatenaRouter *pricing;  /* the runner's router, or the default prices */
  CatenaBudget *budget;
  CatenaLedger *ledger;
  char *campaign;
  gulong cancel_id;
  GPtrArray *assets;      /* private snapshots */
  char *base_dir;
  char *out_dir;
  GCancellable *cancellable;
  guint n_stages;

  GMutex lock;
  GQueue events;
  gboolean idle_pending;
  double *partial;        /* per asset: stages done + fraction of the current one */
  GError *first_error;
  guint n_failed;
} Run;

static void
event_free (Event *ev)
{
  g_free (ev->asset_id);
  g_free (ev->stage_id);
  g_free (ev->key);
  g_free (ev->output);
  g_free (ev->error_message);
  g_free (ev->provider);
  g_free (ev->model);
  g_free (ev);
}

static void
run_free (Run *run)
{
  g_queue_clear_full (&run->events, (GDestroyNotify) event_free);
  g_clear_object (&run->runner);
  g_clear_object (&run->chain);
  for (guint i = 0; i < G_N_ELEMENTS (run->routed); i++)
    g_clear_object (&run->routed[i]);
  g_clear_object (&run->pricing);
  g_clear_object (&run->budget);
  g_clear_object (&run->ledger);
  g_free (run->campaign);
  g_clear_pointer (&run->assets, g_ptr_array_unref);
  g_clear_object (&run->cancellable);
  g_clear_pointer (&run->context, g_main_context_unref);
  g_clear_error (&run->first_error);
  g_free (run->partial);
  g_free (run->base_dir);
  g_free (run->out_dir);
  g_mutex_clear (&run->lock);
  g_free (run);
}

static void
catena_runner_finalize (GObject *object)
{
  CatenaRunner *self = CATENA_RUNNER (object);

  g_clear_object (&self->cache);
  g_free (self->message);
  g_clear_object (&self->router);
  g_clear_object (&self->budget);
  g_clear_object (&self->ledger);
  g_free (self->campaign);
  g_hash_table_unref (self->limits);
  g_hash_table_unref (self->lanes);
  g_hash_table_unref (self->inflight);
  g_mutex_clear (&self->gate_lock);
  g_cond_clear (&self->gate_cond);

  G_OBJECT_CLASS (catena_runner_parent_class)->finalize (object);
}

static void
catena_runner_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  CatenaRunner *self = CATENA_RUNNER (object);

  switch (prop_id)
    {
    case PROP_CACHE:
      g_value_set_object (value, self->cache);
      break;
    case PROP_FRACTION:
      g_value_set_double (value, self->fraction);
      break;
    case PROP_MESSAGE:
      g_value_set_string (value, self->message);
      break;
    case PROP_RUNNING:
      g_value_set_boolean (value, self->n_running > 0);
      break;
    case PROP_PAUSED:
      g_value_set_boolean (value, catena_runner_get_paused (self));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
catena_runner_set_property (GObject *object,
                            guint prop_id,
                            const GValue *value,
                            GParamSpec *pspec)
{
  CatenaRunner *self = CATENA_RUNNER (object);

  switch (prop_id)
    {
    case PROP_CACHE:
      self->cache = g_value_dup_object (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
catena_runner_class_init (CatenaRunnerClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GType type = G_TYPE_FROM_CLASS (klass);

  object_class->finalize = catena_runner_finalize;
  object_class->get_property = catena_runner_get_property;
  object_class->set_property = catena_runner_set_property;

  properties[PROP_CACHE] =
    g_param_spec_object ("cache", "Cache", "Where stage outputs are kept", CATENA_TYPE_CACHE,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);
  properties[PROP_FRACTION] =
    g_param_spec_double ("fraction", "Fraction", "Progress of the current run", 0, 1, 0,
                         G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_MESSAGE] =
    g_param_spec_string ("message", "Message", "What the runner is doing", NULL,
                         G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_RUNNING] =
    g_param_spec_boolean ("running", "Running", "Whether a run is in progress", FALSE,
                          G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_PAUSED] =
    g_param_spec_boolean ("paused", "Paused", "Whether new stages wait (paused by the user or "
                          "by the budget)", FALSE,
                          G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  signals[STAGE_STARTED] = g_signal_new ("stage-started", type, G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                                         NULL, G_TYPE_NONE, 3, G_TYPE_STRING, G_TYPE_UINT,
                                         G_TYPE_STRING);
  signals[STAGE_FINISHED] =
    g_signal_new ("stage-finished", type, G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL, G_TYPE_NONE, 5,
                  G_TYPE_STRING, G_TYPE_UINT, G_TYPE_STRING, G_TYPE_STRING, G_TYPE_BOOLEAN);
  signals[ASSET_PROGRESS] = g_signal_new ("asset-progress", type, G_SIGNAL_RUN_LAST, 0, NULL,
                                          NULL, NULL, G_TYPE_NONE, 3, G_TYPE_STRING, G_TYPE_UINT,
                                          G_TYPE_DOUBLE);
  signals[ASSET_FINISHED] = g_signal_new ("asset-finished", type, G_SIGNAL_RUN_LAST, 0, NULL,
                                          NULL, NULL, G_TYPE_NONE, 3, G_TYPE_STRING,
                                          G_TYPE_STRING, G_TYPE_STRING);
  signals[CALL_FINISHED] =
    g_signal_new ("call-finished", type, G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL, G_TYPE_NONE, 7,
                  G_TYPE_STRING, G_TYPE_STRING, G_TYPE_STRING, G_TYPE_STRING, G_TYPE_DOUBLE,
                  G_TYPE_DOUBLE, G_TYPE_BOOLEAN);
  signals[PAUSED] = g_signal_new ("paused", type, G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                                  G_TYPE_NONE, 1, G_TYPE_STRING);
}

static void
catena_runner_init (CatenaRunner *self)
{
  self->max_workers = CLAMP (g_get_num_processors (), 1, 4);
  self->limits = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  self->lanes = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  self->inflight = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_mutex_init (&self->gate_lock);
  g_cond_init (&self->gate_cond);
}

CatenaRunner *
catena_runner_new (CatenaCache *cache)
{
  return g_object_new (CATENA_TYPE_RUNNER, "cache", cache ? cache : catena_cache_get_default (),
                       NULL);
}

CatenaCache *
catena_runner_get_cache (CatenaRunner *self)
{
  g_return_val_if_fail (CATENA_IS_RUNNER (self), NULL);
  return self->cache;
}

double
catena_runner_get_fraction (CatenaRunner *self)
{
  g_return_val_if_fail (CATENA_IS_RUNNER (self), 0);
  return self->fraction;
}

const char *
catena_runner_get_message (CatenaRunner *self)
{
  g_return_val_if_fail (CATENA_IS_RUNNER (self), NULL);
  return self->message;
}

gboolean
catena_runner_get_running (CatenaRunner *self)
{
  g_return_val_if_fail (CATENA_IS_RUNNER (self), FALSE);
  return self->n_running > 0;
}

void
catena_runner_set_max_workers (CatenaRunner *self, guint max_workers)
{
  g_return_if_fail (CATENA_IS_RUNNER (self));
  self->max_workers = MAX (1, max_workers);
}

void
catena_runner_set_router (CatenaRunner *self, CatenaRouter *router)
{
  g_return_if_fail (CATENA_IS_RUNNER (self));
  g_set_object (&self->router, router);
}

CatenaRouter *
catena_runner_get_router (CatenaRunner *self)
{
  g_return_val_if_fail (CATENA_IS_RUNNER (self), NULL);
  return self->router;
}

void
catena_runner_set_budget (CatenaRunner *self, CatenaBudget *budget)
{
  g_return_if_fail (CATENA_IS_RUNNER (self));
  g_set_object (&self->budget, budget);
}

void
catena_runner_set_ledger (CatenaRunner *self, CatenaLedger *ledger, const char *campaign)
{
  g_return_if_fail (CATENA_IS_RUNNER (self));
  g_set_object (&self->ledger, ledger);
  g_free (self->campaign);
  self->campaign = g_strdup (campaign ? campaign : "");
}

void
catena_runner_set_provider_limit (CatenaRunner *self, const char *provider, guint limit)
{
  g_return_if_fail (CATENA_IS_RUNNER (self));
  g_return_if_fail (provider != NULL);

  g_mutex_lock (&self->gate_lock);
  if (limit == 0)
    g_hash_table_remove (self->limits, provider);
  else
    g_hash_table_replace (self->limits, g_strdup (provider), GUINT_TO_POINTER (limit));
  g_cond_broadcast (&self->gate_cond);
  g_mutex_unlock (&self->gate_lock);
}

static gboolean
set_paused (CatenaRunner *self, gboolean paused)
{
  gboolean changed;

  g_mutex_lock (&self->gate_lock);
  changed = self->paused != paused;
  self->paused = paused;
  g_cond_broadcast (&self->gate_cond);
  g_mutex_unlock (&self->gate_lock);
  return changed;
}

void
catena_runner_pause (CatenaRunner *self)
{
  g_return_if_fail (CATENA_IS_RUNNER (self));
  if (set_paused (self, TRUE))
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_PAUSED]);
}

void
catena_runner_resume (CatenaRunner *self)
{
  g_return_if_fail (CATENA_IS_RUNNER (self));
  if (set_paused (self, FALSE))
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_PAUSED]);
}

gboolean
catena_runner_get_paused (CatenaRunner *self)
{
  gboolean paused;

  g_return_val_if_fail (CATENA_IS_RUNNER (self), FALSE);
  g_mutex_lock (&self->gate_lock);
  paused = self->paused;
  g_mutex_unlock (&self->gate_lock);
  return paused;
}

void
catena_runner_get_stats (CatenaRunner *self, guint *n_executed, guint *n_cached)
{
  g_return_if_fail (CATENA_IS_RUNNER (self));
  if (n_executed)
    *n_executed = g_atomic_int_get (&self->n_executed);
  if (n_cached)
    *n_cached = g_atomic_int_get (&self->n_cached);
}

static void
set_progress (CatenaRunner *self, double fraction, const char *message)
{
  fraction = CLAMP (fraction, 0.0, 1.0);
  if (self->fraction != fraction)
    {
      self->fraction = fraction;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_FRACTION]);
    }
  if (message != NULL && g_strcmp0 (self->message, message) != 0)
    {
      g_free (self->message);
      self->message = g_strdup (message);
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_MESSAGE]);
    }
}

/* Main-context side: drains every queued event in order. */
static gboolean
dispatch_events (gpointer data)
{
  Run *run = data;
  GQueue events = G_QUEUE_INIT;
  double total_partial = 0;
  gboolean done = FALSE;

  g_mutex_lock (&run->lock);
  events = run->events;
  g_queue_init (&run->events);
  run->idle_pending = FALSE;
  for (guint i = 0; i < run->assets->len; i++)
    total_partial += run->partial[i];
  g_mutex_unlock (&run->lock);

  if (run->n_stages > 0 && run->assets->len > 0)
    set_progress (run->runner, total_partial / ((double) run->n_stages * run->assets->len), NULL);

  for (GList *l = events.head; l; l = l->next)
    {
      Event *ev = l->data;
      CatenaRunner *self = run->runner;

      switch (ev->type)
        {
        case EVENT_STAGE_STARTED:
          {
            CatenaStage *stage = catena_chain_get_stage (run->chain, ev->index);
            g_autofree char *msg = g_strdup_printf (_("%s: %s (%u of %u)"), ev->asset_id,
                                                    catena_stage_get_title (stage), ev->index + 1,
                                                    run->n_stages);
            set_progress (self, self->fraction, msg);
            g_signal_emit (self, signals[STAGE_STARTED], 0, ev->asset_id, ev->index,
                           ev->stage_id);
          }
          break;
        case EVENT_STAGE_FINISHED:
          g_signal_emit (self, signals[STAGE_FINISHED], 0, ev->asset_id, ev->index, ev->stage_id,
                         ev->key, ev->from_cache);
          break;
        case EVENT_ASSET_PROGRESS:
          g_signal_emit (self, signals[ASSET_PROGRESS], 0, ev->asset_id, ev->index,
                         ev->fraction);
          break;
        case EVENT_ASSET_FINISHED:
          g_signal_emit (self, signals[ASSET_FINISHED], 0, ev->asset_id, ev->output,
                         ev->error_message);
          break;
        case EVENT_CALL_FINISHED:
          g_signal_emit (self, signals[CALL_FINISHED], 0, ev->asset_id, ev->stage_id,
                         ev->provider, ev->model, ev->estimated, ev->reported,
                         ev->from_cache /* billed */);
          break;
        case EVENT_PAUSED:
          g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_PAUSED]);
          set_progress (self, self->fraction, ev->error_message);
          g_signal_emit (self, signals[PAUSED], 0, ev->error_message);
          break;
        case EVENT_DONE:
          done = TRUE;
          break;
        default:
          g_assert_not_reached ();
        }
    }
  g_queue_clear_full (&events, (GDestroyNotify) event_free);

  if (done)
    {
      GTask *task = run->task;
      CatenaRunner *self = run->runner;

      /* EVENT_DONE is the thread's last act: once the run is reported finished, no thread of
       * it is left (a caller that then exits does not race a thread's own exit). */
      g_clear_pointer (&run->thread, g_thread_join);

      if (--self->n_running == 0)
        g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_RUNNING]);
      if (run->first_error)
        g_task_return_error (task, g_steal_pointer (&run->first_error));
      else
        g_task_return_boolean (task, TRUE);
      g_object_unref (task); /* frees run via task data */
    }
  return G_SOURCE_REMOVE;
}

static void
queue_event (Run *run, Event *ev)
{
  gboolean schedule = FALSE;

  g_mutex_lock (&run->lock);
  /* Progress is merged: a newer fraction for the same stage replaces the queued one. */
  if (ev->type == EVENT_ASSET_PROGRESS && run->events.tail)
    {
      Event *last = run->events.tail->data;
      if (last->type == EVENT_ASSET_PROGRESS && last->index == ev->index &&
          g_strcmp0 (last->asset_id, ev->asset_id) == 0)
        {
          last->fraction = ev->fraction;
          event_free (ev);
          ev = NULL;
        }
    }
  if (ev)
    g_queue_push_tail (&run->events, ev);
  if (!run->idle_pending)
    schedule = run->idle_pending = TRUE;
  g_mutex_unlock (&run->lock);

  if (schedule)
    {
      g_autoptr (GSource) source = g_idle_source_new ();
      g_source_set_priority (source, G_PRIORITY_DEFAULT_IDLE);
      g_source_set_callback (source, dispatch_events, run, NULL);
      g_source_set_static_name (source, "[catena] runner events");
      g_source_attach (source, run->context);
    }
}

static Event *
event_new (EventType type, CatenaAsset *asset, guint index, CatenaStage *stage)
{
  Event *ev = g_new0 (Event, 1);
  ev->type = type;
  ev->asset_id = asset ? g_strdup (catena_asset_get_id (asset)) : NULL;
  ev->index = index;
  ev->stage_id = stage ? g_strdup (catena_stage_get_id (stage)) : NULL;
  return ev;
}

typedef struct
{
  Run *run;
  CatenaAsset *asset;
  guint asset_index;
  guint stage_index;
} ProgressData;

static void
on_stage_progress (double fraction, gpointer user_data)
{
  ProgressData *pd = user_data;
  Event *ev = event_new (EVENT_ASSET_PROGRESS, pd->asset, pd->stage_index, NULL);

  g_mutex_lock (&pd->run->lock);
  pd->run->partial[pd->asset_index] = pd->stage_index + fraction;
  g_mutex_unlock (&pd->run->lock);

  ev->fraction = fraction;
  queue_event (pd->run, ev);
}

static void
mark_stage_done (Run *run, guint asset_index, guint stage_index)
{
  g_mutex_lock (&run->lock);
  run->partial[asset_index] = stage_index + 1;
  g_mutex_unlock (&run->lock);
}

char **
catena_chain_compute_keys (CatenaChain *chain,
                           CatenaAsset *asset,
                           const char *base_dir,
                           GCancellable *cancellable,
                           GError **error)
{
  guint n = catena_chain_get_n_stages (chain);
  g_auto (GStrv) keys = g_new0 (char *, n + 1);
  CatenaStageContext ctx = { .asset = asset, .base_dir = base_dir, .cancellable = cancellable };

  for (guint i = 0; i < n; i++)
    {
      keys[i] = catena_stage_compute_key (catena_chain_get_stage (chain, i), &ctx,
                                          i > 0 ? keys[i - 1] : NULL, error);
      if (keys[i] == NULL)
        return NULL;
    }
  return g_steal_pointer (&keys);
}

static gboolean
write_stage_output (Run *run,
                    CatenaStage *stage,
                    CatenaStageContext *ctx,
                    GeglBuffer *buffer,
                    char **out_path,
                    GError **error)
{
  g_autofree char *path = NULL;

  if (run->out_dir == NULL || !catena_stage_writes_output (stage))
    return TRUE;
  if (g_mkdir_with_parents (run->out_dir, 0755) != 0)
    {
      int saved = errno;
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved),
                   _("Could not create the output folder %s: %s"), run->out_dir,
                   g_strerror (saved));
      return FALSE;
    }
  if (!catena_stage_write_output (stage, ctx, buffer, run->out_dir, &path, error))
    return FALSE;
  if (path)
    {
      g_free (*out_path);
      *out_path = g_steal_pointer (&path);
    }
  return TRUE;
}

int
catena_chain_find_resume (CatenaChain *chain, char **keys, CatenaCache *cache,
                          gboolean writing_outputs)
{
  int resume = catena_chain_get_n_stages (chain) - 1;

  for (;;)
    {
      int missing = -1;

      while (resume >= 0 && !catena_cache_contains (cache, keys[resume]))
        resume--;
      if (resume < 0)
        return -1;
      /* Stages before the resume point that write files must still be loadable. */
      for (int i = 0; writing_outputs && i < resume && missing < 0; i++)
        if (catena_stage_writes_output (catena_chain_get_stage (chain, i)) &&
            !catena_cache_contains (cache, keys[i]))
          missing = i;
      if (missing < 0)
        return resume;
      resume = missing - 1;
    }
}

gboolean
catena_stage_will_call_provider (CatenaStage *stage, CatenaStageContext *ctx, CatenaCache *cache)
{
  if (!catena_stage_is_remote_call (stage))
    return FALSE;
  if (CATENA_IS_STAGE_GENERATE (stage))
    {
      CatenaStageGenerate *gen = CATENA_STAGE_GENERATE (stage);
      g_autofree char *batch = catena_stage_generate_dup_batch_key (gen, ctx);
      g_autofree char *pick_key = NULL;
      guint pick = 0, candidates = 1;

      g_object_get (stage, "pick", &pick, "candidates", &candidates, NULL);
      pick_key = catena_stage_generate_candidate_key (batch, MIN (pick, candidates - 1));
      return !catena_cache_contains (cache, pick_key);
    }
  return TRUE;
}

/* Blocks while the runner is paused. FALSE when the run was cancelled. */
static gboolean
wait_gate (Run *run)
{
  CatenaRunner *self = run->runner;
  gboolean ok;

  g_mutex_lock (&self->gate_lock);
  while (self->paused && !g_cancellable_is_cancelled (run->cancellable))
    g_cond_wait (&self->gate_cond, &self->gate_lock);
  ok = !g_cancellable_is_cancelled (run->cancellable);
  g_mutex_unlock (&self->gate_lock);
  return ok;
}

static void
on_run_cancelled (GCancellable *cancellable, gpointer data)
{
  CatenaRunner *self = data;

  g_mutex_lock (&self->gate_lock);
  g_cond_broadcast (&self->gate_cond);
  g_mutex_unlock (&self->gate_lock);
}

static guint
lane_limit (Run *run, const char *lane)
{
  gpointer v;

  if (g_hash_table_lookup_extended (run->runner->limits, lane, NULL, &v))
    return GPOINTER_TO_UINT (v);
  return catena_router_get_concurrency (run->pricing, lane);
}

/* Per-provider concurrency: at most lane_limit() stages of one provider run at once. */
static gboolean
acquire_lane (Run *run, const char *lane)
{
  CatenaRunner *self = run->runner;
  gboolean ok;

  g_mutex_lock (&self->gate_lock);
  while (GPOINTER_TO_UINT (g_hash_table_lookup (self->lanes, lane)) >= lane_limit (run, lane) &&
         !g_cancellable_is_cancelled (run->cancellable))
    g_cond_wait (&self->gate_cond, &self->gate_lock);
  ok = !g_cancellable_is_cancelled (run->cancellable);
  if (ok)
    g_hash_table_replace (self->lanes, g_strdup (lane),
                          GUINT_TO_POINTER (GPOINTER_TO_UINT (g_hash_table_lookup (self->lanes,
                                                                                   lane)) + 1));
  g_mutex_unlock (&self->gate_lock);
  return ok;
}

static void
release_lane (Run *run, const char *lane)
{
  CatenaRunner *self = run->runner;
  guint n;

  g_mutex_lock (&self->gate_lock);
  n = GPOINTER_TO_UINT (g_hash_table_lookup (self->lanes, lane));
  g_hash_table_replace (self->lanes, g_strdup (lane), GUINT_TO_POINTER (n > 0 ? n - 1 : 0));
  g_cond_broadcast (&self->gate_cond);
  g_mutex_unlock (&self->gate_lock);
}

/* Two assets may need the same output (the same SKU twice, one prompt for two classes that
 * share a size): the second waits for the first instead of paying for it again. */
static gboolean
claim_key (Run *run, const char *key)
{
  CatenaRunner *self = run->runner;
  gboolean ok;

  g_mutex_lock (&self->gate_lock);
  while (g_hash_table_contains (self->inflight, key) &&
         !g_cancellable_is_cancelled (run->cancellable))
    g_cond_wait (&self->gate_cond, &self->gate_lock);
  ok = !g_cancellable_is_cancelled (run->cancellable);
  if (ok)
    g_hash_table_add (self->inflight, g_strdup (key));
  g_mutex_unlock (&self->gate_lock);
  return ok;
}

static void
release_key (Run *run, const char *key)
{
  CatenaRunner *self = run->runner;

  g_mutex_lock (&self->gate_lock);
  g_hash_table_remove (self->inflight, key);
  g_cond_broadcast (&self->gate_cond);
  g_mutex_unlock (&self->gate_lock);
}

/* Reserves the estimated cost of a call; when it does not fit the runner pauses (nothing new
 * is sent) and this waits until it is resumed — after the limit was raised — or cancelled. */
static gboolean
reserve_budget (Run *run, double amount, GError **error)
{
  for (;;)
    {
      g_autoptr (GError) budget_error = NULL;
      gboolean newly_paused;

      if (!wait_gate (run))
        return !g_cancellable_set_error_if_cancelled (run->cancellable, error);
      if (run->budget == NULL || catena_budget_reserve (run->budget, amount, &budget_error))
        return TRUE;

      g_mutex_lock (&run->runner->gate_lock);
      newly_paused = !run->runner->paused;
      run->runner->paused = TRUE;
      g_mutex_unlock (&run->runner->gate_lock);
      if (newly_paused)
        {
          Event *ev = event_new (EVENT_PAUSED, NULL, 0, NULL);
          ev->error_message = g_strdup (budget_error->message);
          queue_event (run, ev);
        }
    }
}

static void
record_call (Run *run,
             CatenaLedgerEntry *entry,
             CatenaLedgerEvent event,
             const char *message)
{
  g_autoptr (GError) error = NULL;

  if (run->ledger == NULL)
    return;
  entry->event = event;
  entry->time = 0;
  g_free (entry->message);
  entry->message = g_strdup (message);
  if (!catena_ledger_append (run->ledger, entry, &error))
    g_warning ("%s", error->message);
}

/* Worker thread: runs stage i of asset, which is not cached. */
static GeglBuffer *
execute_stage (Run *run,
               CatenaStageContext *ctx,
               CatenaChain *chain,
               guint i,
               const char *key,
               GeglBuffer *input,
               gboolean *from_cache,
               GError **error)
{
  CatenaCache *cache = run->runner->cache;
  CatenaStage *stage = catena_chain_get_stage (chain, i);
  CatenaAsset *asset = ctx->asset;
  g_autoptr (GeglBuffer) output = NULL;
  g_autoptr (GError) cache_error = NULL;
  g_autoptr (CatenaLedgerEntry) entry = NULL;
  g_autoptr (CatenaProvenance) provenance = NULL;
  g_autofree char *batch = NULL;
  gboolean remote = FALSE;
  const char *lane;
  double estimate = 0, reported = 0, duration;
  gint64 started;

  *from_cache = FALSE;
  if (!claim_key (run, key))
    {
      g_cancellable_set_error_if_cancelled (run->cancellable, error);
      return NULL;
    }
  /* Generate stages that differ only in the candidate they pick share one request. */
  if (CATENA_IS_STAGE_GENERATE (stage))
    {
      batch = catena_stage_generate_dup_batch_key (CATENA_STAGE_GENERATE (stage), ctx);
      if (!claim_key (run, batch))
        {
          g_clear_pointer (&batch, g_free);
          release_key (run, key);
          g_cancellable_set_error_if_cancelled (run->cancellable, error);
          return NULL;
        }
    }
  /* Another worker may have made it while this one waited. */
  if ((output = catena_cache_lookup (cache, key, NULL)))
    {
      *from_cache = TRUE;
      goto out;
    }

  remote = catena_stage_will_call_provider (stage, ctx, catena_providers_get_cache ());
  lane = remote ? catena_stage_get_provider (stage) : "local";
  if (remote)
    {
      const GeglRectangle *e = input ? gegl_buffer_get_extent (input) : NULL;
      estimate = catena_router_estimate_stage (run->pricing, stage, asset, e ? e->width : 0,
                                               e ? e->height : 0);
      if (!reserve_budget (run, estimate, error))
        goto out;
    }
  if (!acquire_lane (run, lane))
    {
      g_cancellable_set_error_if_cancelled (run->cancellable, error);
      goto out;
    }
  if (remote && run->ledger)
    {
      entry = catena_ledger_entry_new ();
      entry->campaign = g_strdup (run->campaign);
      entry->asset = g_strdup (catena_asset_get_id (asset));
      entry->stage = g_strdup (catena_stage_get_id (stage));
      entry->stage_kind = g_strdup (catena_stage_get_kind (stage));
      entry->provider = g_strdup (catena_stage_get_provider (stage));
      entry->model = g_strdup (catena_stage_get_model (stage));
      entry->key = g_strdup (key);
      entry->estimated_usd = estimate;
      /* No call leaves without its line on disk. */
      entry->event = CATENA_LEDGER_SENT;
      if (!catena_ledger_append (run->ledger, entry, error))
        {
          release_lane (run, lane);
          goto out;
        }
    }

  started = g_get_monotonic_time ();
  if (entry)
    entry->started_at = g_get_real_time ();
  output = catena_stage_process (stage, ctx, input, error);
  duration = (g_get_monotonic_time () - started) / 1e6;
  release_lane (run, lane);
  provenance = catena_provenance_steal_pending ();
  if (output == NULL)
    {
      if (entry)
        {
          entry->duration_s = duration;
          record_call (run, entry, CATENA_LEDGER_FAILED,
                       error && *error ? (*error)->message : NULL);
        }
      goto out;
    }
  g_atomic_int_inc (&run->runner->n_executed);

  /* Written as soon as it exists, so a killed run keeps every finished stage. */
  if (!catena_cache_store (cache, key, output, &cache_error))
    g_warning ("%s", cache_error->message);
  /* Remote stages leave their provenance (provider, model, seed, cost…) on this thread
   * until the key they ran under is known. */
  if (provenance && !catena_provenance_save (provenance, cache, key, &cache_error))
    g_warning ("%s", cache_error->message);

  /* A remote stage that ran without a request took a result its provider kept: if a stopped
   * run sent that request, it was paid for and is billed now. */
  if (!remote && run->ledger && catena_stage_is_remote_call (stage))
    {
      g_autoptr (GError) ledger_error = NULL;
      catena_ledger_confirm_key (run->ledger, key, provenance ? provenance->cost_usd : -1,
                                 &ledger_error);
      if (ledger_error)
        g_warning ("%s", ledger_error->message);
    }

  if (remote)
    {
      Event *ev;

      reported = provenance ? provenance->cost_usd : estimate;
      if (entry)
        {
          entry->reported_usd = reported;
          entry->duration_s = duration;
          g_free (entry->remote_id);
          entry->remote_id = provenance ? g_strdup (provenance->remote_id) : NULL;
          record_call (run, entry, CATENA_LEDGER_BILLED, NULL);
        }
      ev = event_new (EVENT_CALL_FINISHED, asset, i, stage);
      ev->provider = g_strdup (catena_stage_get_provider (stage));
      ev->model = g_strdup (catena_stage_get_model (stage));
      ev->estimated = estimate;
      ev->reported = reported;
      ev->from_cache = TRUE;
      queue_event (run, ev);
    }

out:
  if (remote && run->budget)
    catena_budget_settle (run->budget, estimate, output ? reported : 0);
  if (batch)
    release_key (run, batch);
  release_key (run, key);
  return g_steal_pointer (&output);
}

/* Worker thread: runs the whole chain for one asset. */
static gboolean
process_asset (Run *run, guint asset_index, char **out_path, GError **error)
{
  CatenaAsset *asset = g_ptr_array_index (run->assets, asset_index);
  CatenaCache *cache = run->runner->cache;
  CatenaAssetKind asset_class = catena_asset_get_asset_class (asset);
  CatenaChain *chain = run->routed[asset_class] ? run->routed[asset_class] : run->chain;
  ProgressData pd = { run, asset, asset_index, 0 };
  CatenaStageContext ctx = {
    .asset = asset,
    .base_dir = run->base_dir,
    .cancellable = run->cancellable,
    .progress = on_stage_progress,
    .progress_data = &pd,
  };
  g_auto (GStrv) keys = NULL;
  g_autoptr (GeglBuffer) buffer = NULL;
  int resume = -1;

  if (run->n_stages == 0)
    return TRUE;
  if (!wait_gate (run))
    return !g_cancellable_set_error_if_cancelled (run->cancellable, error);

  if (!(keys = catena_chain_compute_keys (chain, asset, run->base_dir, run->cancellable, error)))
    return FALSE;

  /* Resume after the last stage whose output is already cached: changing stage k re-runs
   * only k…n because the keys of 0…k-1 are unchanged. Stages before that which write files
   * must still be loadable, and the resume buffer must load (a damaged entry is a miss). */
  resume = catena_chain_find_resume (chain, keys, cache, run->out_dir != NULL);
  while (resume >= 0)
    {
      if ((buffer = catena_cache_lookup (cache, keys[resume], NULL)))
        break;
      resume--;
      while (resume >= 0 && !catena_cache_contains (cache, keys[resume]))
        resume--;
    }

  for (int i = 0; i <= resume; i++)
    {
      CatenaStage *stage = catena_chain_get_stage (chain, i);
      Event *ev;

      if (catena_stage_writes_output (stage) && run->out_dir)
        {
          g_autoptr (GeglBuffer) cached =
            i == resume ? g_object_ref (buffer) : catena_cache_lookup (cache, keys[i], NULL);
          if (cached == NULL)
            {
              g_set_error (error, CATENA_CACHE_ERROR, CATENA_CACHE_ERROR_CORRUPT,
                           _("A cached result of the %s stage disappeared during the run; run "
                             "again."),
                           catena_stage_get_kind (stage));
              return FALSE;
            }
          if (!write_stage_output (run, stage, &ctx, cached, out_path, error))
            return FALSE;
        }
      g_atomic_int_inc (&run->runner->n_cached);
      mark_stage_done (run, asset_index, i);
      ev = event_new (EVENT_STAGE_FINISHED, asset, i, stage);
      ev->key = g_strdup (keys[i]);
      ev->from_cache = TRUE;
      queue_event (run, ev);
    }

  for (guint i = resume + 1; i < run->n_stages; i++)
    {
      CatenaStage *stage = catena_chain_get_stage (chain, i);
      g_autoptr (GeglBuffer) output = NULL;
      gboolean from_cache = FALSE;
      Event *ev;

      if (!wait_gate (run) || g_cancellable_set_error_if_cancelled (run->cancellable, error))
        return !g_cancellable_set_error_if_cancelled (run->cancellable, error);

      pd.stage_index = i;
      queue_event (run, event_new (EVENT_STAGE_STARTED, asset, i, stage));

      output = execute_stage (run, &ctx, chain, i, keys[i], buffer, &from_cache, error);
      if (output == NULL)
        return FALSE;
      if (from_cache)
        g_atomic_int_inc (&run->runner->n_cached);

      if (!write_stage_output (run, stage, &ctx, output, out_path, error))
        return FALSE;

      mark_stage_done (run, asset_index, i);
      ev = event_new (EVENT_STAGE_FINISHED, asset, i, stage);
      ev->key = g_strdup (keys[i]);
      ev->from_cache = from_cache;
      queue_event (run, ev);

      g_set_object (&buffer, output);
    }
  return TRUE;
}

static void
asset_worker (gpointer data, gpointer user_data)
{
  Run *run = user_data;
  guint asset_index = GPOINTER_TO_UINT (data) - 1;
  CatenaAsset *asset = g_ptr_array_index (run->assets, asset_index);
  g_autoptr (GError) error = NULL;
  g_autofree char *out_path = NULL;
  Event *ev;

  ev = event_new (EVENT_ASSET_FINISHED, asset, 0, NULL);
  if (!process_asset (run, asset_index, &out_path, &error))
    {
      ev->error_message = g_strdup (error->message);
      g_mutex_lock (&run->lock);
      run->n_failed++;
      if (run->first_error == NULL ||
          (g_error_matches (run->first_error, G_IO_ERROR, G_IO_ERROR_CANCELLED) &&
           !g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED)))
        {
          g_clear_error (&run->first_error);
          if (run->assets->len > 1 && !g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
            g_set_error (&run->first_error, error->domain, error->code, "%s: %s",
                         catena_asset_get_name (asset), error->message);
          else
            run->first_error = g_error_copy (error);
        }
      g_mutex_unlock (&run->lock);
    }
  ev->output = g_steal_pointer (&out_path);
  queue_event (run, ev);
}

static gpointer
run_thread (gpointer data)
{
  Run *run = data;
  GThreadPool *pool;
  g_autoptr (GError) error = NULL;

  pool = g_thread_pool_new (asset_worker, run, MIN (run->runner->max_workers, run->assets->len),
                            FALSE, &error);
  if (pool == NULL)
    {
      g_mutex_lock (&run->lock);
      run->first_error = g_steal_pointer (&error);
      g_mutex_unlock (&run->lock);
    }
  else
    {
      for (guint i = 0; i < run->assets->len; i++)
        g_thread_pool_push (pool, GUINT_TO_POINTER (i + 1), NULL);
      g_thread_pool_free (pool, FALSE, TRUE);
    }
  g_cancellable_disconnect (run->cancellable, run->cancel_id);
  run->cancel_id = 0;
  queue_event (run, event_new (EVENT_DONE, NULL, 0, NULL));
  return NULL;
}

/* Workers read a private copy: the UI may edit the project while a run goes on. */
static CatenaAsset *
snapshot_asset (CatenaAsset *asset)
{
  CatenaAsset *copy = catena_asset_new (catena_asset_get_id (asset));

  catena_asset_set_name (copy, catena_asset_get_name (asset));
  catena_asset_set_source (copy, catena_asset_get_source (asset));
  catena_asset_set_prompt (copy, catena_asset_get_prompt (asset));
  catena_asset_set_asset_class (copy, catena_asset_get_asset_class (asset));
  return copy;
}

void
catena_runner_run_async (CatenaRunner *self,
                         CatenaProject *project,
                         GPtrArray *assets,
                         const char *out_dir,
                         GCancellable *cancellable,
                         GAsyncReadyCallback callback,
                         gpointer user_data)
{
  g_autoptr (GTask) task = NULL;
  Run *run;
  GListModel *all;

  g_return_if_fail (CATENA_IS_RUNNER (self));
  g_return_if_fail (CATENA_IS_PROJECT (project));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, catena_runner_run_async);
  g_task_set_check_cancellable (task, FALSE);

  run = g_new0 (Run, 1);
  g_mutex_init (&run->lock);
  g_queue_init (&run->events);
  run->runner = g_object_ref (self);
  run->context = g_main_context_ref_thread_default ();
  run->chain = catena_chain_duplicate (catena_project_get_chain (project));
  run->n_stages = catena_chain_get_n_stages (run->chain);
  run->base_dir = catena_project_dup_base_dir (project);
  run->cancellable = cancellable ? g_object_ref (cancellable) : g_cancellable_new ();
  run->assets = g_ptr_array_new_with_free_func (g_object_unref);
  if (out_dir)
    run->out_dir = g_path_is_absolute (out_dir) ? g_strdup (out_dir)
                                                : g_build_filename (run->base_dir, out_dir, NULL);

  all = catena_project_get_assets (project);
  if (assets != NULL)
    for (guint i = 0; i < assets->len; i++)
      g_ptr_array_add (run->assets, snapshot_asset (g_ptr_array_index (assets, i)));
  else
    for (guint i = 0; i < g_list_model_get_n_items (all); i++)
      {
        g_autoptr (CatenaAsset) asset = g_list_model_get_item (all, i);
        g_ptr_array_add (run->assets, snapshot_asset (asset));
      }
  run->partial = g_new0 (double, MAX (1, run->assets->len));
  /* Routing happens once per class, before keys are computed: the keys then carry the
   * provider/model the asset really runs on. */
  if (self->router)
    for (guint c = 0; c < G_N_ELEMENTS (run->routed); c++)
      run->routed[c] = catena_router_route_chain (self->router, run->chain, c);
  run->pricing = self->router ? g_object_ref (self->router) : catena_router_new ();
  run->budget = self->budget ? g_object_ref (self->budget) : NULL;
  run->ledger = self->ledger ? g_object_ref (self->ledger) : NULL;
  if (run->ledger)
    {
      g_autoptr (GError) ledger_error = NULL;
      /* a previous run stopped between storing a paid result and writing "billed" */
      catena_ledger_reconcile (run->ledger, self->cache, &ledger_error);
      if (ledger_error)
        g_warning ("%s", ledger_error->message);
    }
  run->campaign = g_strdup (self->campaign ? self->campaign : "");
  run->cancel_id = g_cancellable_connect (run->cancellable, G_CALLBACK (on_run_cancelled), self,
                                          NULL);
  run->task = g_object_ref (task);
  g_task_set_task_data (task, run, (GDestroyNotify) run_free);

  /* Generate keeps its candidates, and remote stages their provenance, in this cache. */
  catena_providers_set_cache (self->cache);

  if (self->n_running++ == 0)
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_RUNNING]);
  set_progress (self, 0.0, _("Starting…"));

  if (run->assets->len == 0)
    {
      g_cancellable_disconnect (run->cancellable, run->cancel_id);
      run->cancel_id = 0;
      queue_event (run, event_new (EVENT_DONE, NULL, 0, NULL));
      return;
    }
  run->thread = g_thread_new ("catena-run", run_thread, run);
}

gboolean
catena_runner_run_finish (CatenaRunner *self, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}
