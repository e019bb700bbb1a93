/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <errno.h>
#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>

#include "catena-error.h"
#include "catena-provider.h"
#include "catena-runner.h"

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
};

G_DEFINE_FINAL_TYPE (CatenaRunner, catena_runner, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_CACHE,
  PROP_FRACTION,
  PROP_MESSAGE,
  PROP_RUNNING,
  N_PROPS
};

enum {
  STAGE_STARTED,
  STAGE_FINISHED,
  ASSET_PROGRESS,
  ASSET_FINISHED,
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
} Event;

typedef struct
{
  CatenaRunner *runner;
  GTask *task;
  GMainContext *context;
  CatenaChain *chain;     /* private snapshot */
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
  g_free (ev);
}

static void
run_free (Run *run)
{
  g_queue_clear_full (&run->events, (GDestroyNotify) event_free);
  g_clear_object (&run->runner);
  g_clear_object (&run->chain);
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
}

static void
catena_runner_init (CatenaRunner *self)
{
  self->max_workers = CLAMP (g_get_num_processors (), 1, 4);
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

/* Worker thread: runs the whole chain for one asset. */
static gboolean
process_asset (Run *run, guint asset_index, char **out_path, GError **error)
{
  CatenaAsset *asset = g_ptr_array_index (run->assets, asset_index);
  CatenaCache *cache = run->runner->cache;
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

  if (!(keys = catena_chain_compute_keys (run->chain, asset, run->base_dir, run->cancellable,
                                          error)))
    return FALSE;

  /* Resume after the last stage whose output is already cached: changing stage k re-runs
   * only k…n because the keys of 0…k-1 are unchanged. Stages before that which write files
   * must still be loadable, and the resume buffer must load (a damaged entry is a miss). */
  for (int i = run->n_stages - 1; i >= 0 && resume < 0; i--)
    if (catena_cache_contains (cache, keys[i]))
      resume = i;
  while (resume >= 0)
    {
      int missing = -1;

      for (int i = 0; run->out_dir && i < resume; i++)
        if (catena_stage_writes_output (catena_chain_get_stage (run->chain, i)) &&
            !catena_cache_contains (cache, keys[i]))
          {
            missing = i;
            break;
          }
      if (missing >= 0)
        {
          resume = missing - 1;
          continue;
        }
      if ((buffer = catena_cache_lookup (cache, keys[resume], NULL)))
        break;
      resume--;
    }

  for (int i = 0; i <= resume; i++)
    {
      CatenaStage *stage = catena_chain_get_stage (run->chain, i);
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
      CatenaStage *stage = catena_chain_get_stage (run->chain, i);
      g_autoptr (GeglBuffer) output = NULL;
      g_autoptr (GError) cache_error = NULL;
      Event *ev;

      if (g_cancellable_set_error_if_cancelled (run->cancellable, error))
        return FALSE;

      pd.stage_index = i;
      queue_event (run, event_new (EVENT_STAGE_STARTED, asset, i, stage));

      output = catena_stage_process (stage, &ctx, buffer, error);
      if (output == NULL)
        return FALSE;
      g_atomic_int_inc (&run->runner->n_executed);

      /* Written as soon as it exists, so a killed run keeps every finished stage. */
      if (!catena_cache_store (cache, keys[i], output, &cache_error))
        g_warning ("%s", cache_error->message);
      /* Remote stages leave their provenance (provider, model, seed, cost…) on this thread
       * until the key they ran under is known. */
      catena_provenance_commit_pending (cache, keys[i]);

      if (!write_stage_output (run, stage, &ctx, output, out_path, error))
        return FALSE;

      mark_stage_done (run, asset_index, i);
      ev = event_new (EVENT_STAGE_FINISHED, asset, i, stage);
      ev->key = g_strdup (keys[i]);
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
  run->task = g_object_ref (task);
  g_task_set_task_data (task, run, (GDestroyNotify) run_free);

  /* Generate keeps its candidates, and remote stages their provenance, in this cache. */
  catena_providers_set_cache (self->cache);

  if (self->n_running++ == 0)
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_RUNNING]);
  set_progress (self, 0.0, _("Starting…"));

  if (run->assets->len == 0)
    {
      queue_event (run, event_new (EVENT_DONE, NULL, 0, NULL));
      return;
    }
  g_thread_unref (g_thread_new ("catena-run", run_thread, run));
}

gboolean
catena_runner_run_finish (CatenaRunner *self, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}
