/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <glib/gi18n-lib.h>

#include "catena-asset.h"
#include "catena-image-io.h"
#include "catena-plan.h"
#include "catena-provider.h"
#include "catena-runner.h"
#include "catena-stages-remote.h"

struct _CatenaPlan
{
  GObject parent_instance;

  GArray *steps;  /* of CatenaPlanStep */
  guint n_assets;
  guint n_calls;
  double total;
  double class_cost[4];
  guint class_calls[4];
  char *pricing_date;
};

G_DEFINE_FINAL_TYPE (CatenaPlan, catena_plan, G_TYPE_OBJECT)

static void
step_clear (gpointer data)
{
  CatenaPlanStep *s = data;
  g_free (s->asset_id);
  g_free (s->stage_id);
  g_free (s->stage_kind);
  g_free (s->provider);
  g_free (s->model);
  g_free (s->key);
  g_free (s->message);
}

static void
catena_plan_finalize (GObject *object)
{
  CatenaPlan *self = CATENA_PLAN (object);

  g_array_unref (self->steps);
  g_free (self->pricing_date);
  G_OBJECT_CLASS (catena_plan_parent_class)->finalize (object);
}

static void
catena_plan_class_init (CatenaPlanClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = catena_plan_finalize;
}

static void
catena_plan_init (CatenaPlan *self)
{
  self->steps = g_array_new (FALSE, TRUE, sizeof (CatenaPlanStep));
  g_array_set_clear_func (self->steps, step_clear);
}

const char *
catena_plan_action_to_string (CatenaPlanAction action, double cost_usd)
{
  switch (action)
    {
    case CATENA_PLAN_CACHED:
      return "cached";
    case CATENA_PLAN_SHARED:
      return "shared";
    case CATENA_PLAN_LOCAL:
      return "local";
    case CATENA_PLAN_REMOTE:
      return cost_usd > 0 ? "paid" : "remote";
    case CATENA_PLAN_ERROR:
    default:
      return "error";
    }
}

/* Size of what the first stage makes: a photo's header, or the generate size. */
static void
probe_source (CatenaAsset *asset, const char *base_dir, int *w, int *h)
{
  g_autofree char *path = NULL;

  *w = *h = 0;
  if (catena_asset_get_source (asset) == NULL || catena_asset_get_source (asset)[0] == '\0')
    return;
  path = catena_asset_resolve_source (asset, base_dir);
  if (!catena_image_probe (path, NULL, w, h, NULL))
    *w = *h = 0;
}

static void
plan_asset (CatenaPlan *self,
            CatenaChain *chain,
            CatenaAsset *asset,
            const char *base_dir,
            CatenaRouter *pricing,
            CatenaCache *cache,
            GHashTable *planned,
            GCancellable *cancellable)
{
  g_autoptr (GError) error = NULL;
  g_auto (GStrv) keys = NULL;
  CatenaAssetKind klass = catena_asset_get_asset_class (asset);
  CatenaStageContext ctx = { .asset = asset, .base_dir = base_dir, .cancellable = cancellable };
  guint n = catena_chain_get_n_stages (chain);
  int resume, w = 0, h = 0;

  self->n_assets++;
  if (!(keys = catena_chain_compute_keys (chain, asset, base_dir, cancellable, &error)))
    {
      CatenaPlanStep step = { 0 };
      step.asset_id = g_strdup (catena_asset_get_id (asset));
      step.asset_class = klass;
      step.action = CATENA_PLAN_ERROR;
      step.message = g_strdup (error->message);
      g_array_append_val (self->steps, step);
      return;
    }
  resume = catena_chain_find_resume (chain, keys, cache, TRUE);
  probe_source (asset, base_dir, &w, &h);

  for (guint i = 0; i < n; i++)
    {
      CatenaStage *stage = catena_chain_get_stage (chain, i);
      CatenaPlanStep step = { 0 };
      g_autofree char *batch = NULL;
      guint n_images;
      int ow, oh;

      catena_stage_estimate_output (stage, asset, w, h, &ow, &oh, &n_images);
      step.asset_id = g_strdup (catena_asset_get_id (asset));
      step.asset_class = klass;
      step.index = i;
      step.stage_id = g_strdup (catena_stage_get_id (stage));
      step.stage_kind = g_strdup (catena_stage_get_kind (stage));
      step.provider = g_strdup (catena_stage_get_provider (stage));
      step.model = g_strdup (catena_stage_get_model (stage));
      step.key = g_strdup (keys[i]);
      step.width = ow;
      step.height = oh;
      if (CATENA_IS_STAGE_GENERATE (stage))
        batch = catena_stage_generate_dup_batch_key (CATENA_STAGE_GENERATE (stage), &ctx);

      if ((int) i <= resume)
        step.action = CATENA_PLAN_CACHED;
      else if (g_hash_table_contains (planned, keys[i]) ||
               (batch && g_hash_table_contains (planned, batch)))
        step.action = CATENA_PLAN_SHARED;
      else if (catena_stage_will_call_provider (stage, &ctx, cache))
        {
          step.action = CATENA_PLAN_REMOTE;
          step.cost_usd = catena_router_estimate_stage (pricing, stage, asset, w, h);
          self->n_calls++;
          self->total += step.cost_usd;
          self->class_cost[klass] += step.cost_usd;
          self->class_calls[klass]++;
        }
      else
        step.action = CATENA_PLAN_LOCAL;
      if (step.action == CATENA_PLAN_REMOTE || step.action == CATENA_PLAN_LOCAL)
        {
          g_hash_table_add (planned, g_strdup (keys[i]));
          if (batch)
            g_hash_table_add (planned, g_steal_pointer (&batch));
        }
      g_array_append_val (self->steps, step);
      w = ow;
      h = oh;
    }
}

CatenaPlan *
catena_plan_compute (CatenaProject *project,
                     GPtrArray *assets,
                     CatenaRouter *router,
                     CatenaCache *cache,
                     GCancellable *cancellable,
                     GError **error)
{
  g_autoptr (CatenaPlan) self = g_object_new (CATENA_TYPE_PLAN, NULL);
  g_autoptr (CatenaRouter) pricing = router ? g_object_ref (router) : catena_router_new ();
  g_autoptr (GHashTable) planned = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autoptr (GPtrArray) list = g_ptr_array_new_with_free_func (g_object_unref);
  g_autofree char *base_dir = NULL;
  CatenaChain *routed[4] = { NULL };
  CatenaChain *chain;

  g_return_val_if_fail (CATENA_IS_PROJECT (project), NULL);

  cache = cache ? cache : catena_cache_get_default ();
  chain = catena_project_get_chain (project);
  base_dir = catena_project_dup_base_dir (project);
  if (assets)
    for (guint i = 0; i < assets->len; i++)
      g_ptr_array_add (list, g_object_ref (assets->pdata[i]));
  else
    {
      GListModel *all = catena_project_get_assets (project);
      for (guint i = 0; i < g_list_model_get_n_items (all); i++)
        g_ptr_array_add (list, g_list_model_get_item (all, i));
    }

  for (guint c = 0; c < G_N_ELEMENTS (routed); c++)
    routed[c] = router ? catena_router_route_chain (router, chain, c) : g_object_ref (chain);
  for (guint i = 0; i < list->len; i++)
    {
      CatenaAsset *asset = list->pdata[i];
      if (g_cancellable_set_error_if_cancelled (cancellable, error))
        break;
      plan_asset (self, routed[catena_asset_get_asset_class (asset)], asset, base_dir, pricing,
                  cache, planned, cancellable);
    }
  for (guint c = 0; c < G_N_ELEMENTS (routed); c++)
    g_clear_object (&routed[c]);
  if (g_cancellable_is_cancelled (cancellable))
    return NULL;
  self->pricing_date = g_strdup (catena_router_get_pricing_date (pricing));
  return g_steal_pointer (&self);
}

typedef struct
{
  CatenaProject *project;
  GPtrArray *assets;
  CatenaRouter *router;
  CatenaCache *cache;
} PlanData;

static void
plan_data_free (PlanData *d)
{
  g_clear_object (&d->project);
  g_clear_pointer (&d->assets, g_ptr_array_unref);
  g_clear_object (&d->router);
  g_clear_object (&d->cache);
  g_free (d);
}

static void
plan_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  PlanData *d = task_data;
  GError *error = NULL;
  CatenaPlan *plan = catena_plan_compute (d->project, d->assets, d->router, d->cache,
                                          cancellable, &error);
  if (plan)
    g_task_return_pointer (task, plan, g_object_unref);
  else
    g_task_return_error (task, error);
}

void
catena_plan_compute_async (CatenaProject *project,
                           GPtrArray *assets,
                           CatenaRouter *router,
                           CatenaCache *cache,
                           GCancellable *cancellable,
                           GAsyncReadyCallback callback,
                           gpointer user_data)
{
  g_autoptr (GTask) task = g_task_new (NULL, cancellable, callback, user_data);
  PlanData *d = g_new0 (PlanData, 1);
  g_autoptr (JsonNode) json = NULL;
  GListModel *all;

  g_return_if_fail (CATENA_IS_PROJECT (project));

  /* The worker reads a copy: the UI may keep editing the project. */
  json = catena_project_to_json (project);
  d->project = catena_project_new_from_json (json, NULL);
  if (d->project == NULL)
    d->project = g_object_ref (project);
  else
    {
      g_autofree char *base = catena_project_dup_base_dir (project);
      /* relative sources keep resolving against the original folder */
      all = catena_project_get_assets (d->project);
      for (guint i = 0; i < g_list_model_get_n_items (all); i++)
        {
          g_autoptr (CatenaAsset) a = g_list_model_get_item (all, i);
          g_autofree char *abs = catena_asset_get_source (a) && catena_asset_get_source (a)[0]
                                   ? catena_asset_resolve_source (a, base)
                                   : NULL;
          if (abs)
            catena_asset_set_source (a, abs);
        }
    }
  if (assets)
    {
      d->assets = g_ptr_array_new_with_free_func (g_object_unref);
      for (guint i = 0; i < assets->len; i++)
        {
          CatenaAsset *a =
            catena_project_find_asset (d->project, catena_asset_get_id (assets->pdata[i]));
          if (a)
            g_ptr_array_add (d->assets, g_object_ref (a));
        }
    }
  d->router = router ? g_object_ref (router) : NULL;
  d->cache = cache ? g_object_ref (cache) : NULL;
  g_task_set_source_tag (task, catena_plan_compute_async);
  g_task_set_task_data (task, d, (GDestroyNotify) plan_data_free);
  g_task_run_in_thread (task, plan_thread);
}

CatenaPlan *
catena_plan_compute_finish (GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, NULL), NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}

guint
catena_plan_get_n_steps (CatenaPlan *self)
{
  g_return_val_if_fail (CATENA_IS_PLAN (self), 0);
  return self->steps->len;
}

const CatenaPlanStep *
catena_plan_get_step (CatenaPlan *self, guint index)
{
  g_return_val_if_fail (CATENA_IS_PLAN (self), NULL);
  g_return_val_if_fail (index < self->steps->len, NULL);
  return &g_array_index (self->steps, CatenaPlanStep, index);
}

guint
catena_plan_get_n_assets (CatenaPlan *self)
{
  g_return_val_if_fail (CATENA_IS_PLAN (self), 0);
  return self->n_assets;
}

guint
catena_plan_get_n_calls (CatenaPlan *self)
{
  g_return_val_if_fail (CATENA_IS_PLAN (self), 0);
  return self->n_calls;
}

guint
catena_plan_count (CatenaPlan *self, CatenaPlanAction action)
{
  guint n = 0;

  g_return_val_if_fail (CATENA_IS_PLAN (self), 0);
  for (guint i = 0; i < self->steps->len; i++)
    n += g_array_index (self->steps, CatenaPlanStep, i).action == action;
  return n;
}

double
catena_plan_get_total_cost (CatenaPlan *self)
{
  g_return_val_if_fail (CATENA_IS_PLAN (self), 0);
  return self->total;
}

double
catena_plan_get_class_cost (CatenaPlan *self, CatenaAssetKind asset_class)
{
  g_return_val_if_fail (CATENA_IS_PLAN (self), 0);
  g_return_val_if_fail (asset_class <= CATENA_ASSET_CLASS_PRINT, 0);
  return self->class_cost[asset_class];
}

guint
catena_plan_get_class_calls (CatenaPlan *self, CatenaAssetKind asset_class)
{
  g_return_val_if_fail (CATENA_IS_PLAN (self), 0);
  g_return_val_if_fail (asset_class <= CATENA_ASSET_CLASS_PRINT, 0);
  return self->class_calls[asset_class];
}

const char *
catena_plan_get_pricing_date (CatenaPlan *self)
{
  g_return_val_if_fail (CATENA_IS_PLAN (self), NULL);
  return self->pricing_date;
}

JsonNode *
catena_plan_to_json (CatenaPlan *self)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();

  g_return_val_if_fail (CATENA_IS_PLAN (self), NULL);

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "assets");
  json_builder_add_int_value (b, self->n_assets);
  json_builder_set_member_name (b, "calls");
  json_builder_add_int_value (b, self->n_calls);
  json_builder_set_member_name (b, "total_usd");
  json_builder_add_double_value (b, self->total);
  if (self->pricing_date)
    {
      json_builder_set_member_name (b, "prices_read_on");
      json_builder_add_string_value (b, self->pricing_date);
    }
  json_builder_set_member_name (b, "classes");
  json_builder_begin_object (b);
  for (guint c = 0; c < 4; c++)
    {
      json_builder_set_member_name (b, catena_asset_class_to_string (c));
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "calls");
      json_builder_add_int_value (b, self->class_calls[c]);
      json_builder_set_member_name (b, "cost_usd");
      json_builder_add_double_value (b, self->class_cost[c]);
      json_builder_end_object (b);
    }
  json_builder_end_object (b);
  json_builder_set_member_name (b, "steps");
  json_builder_begin_array (b);
  for (guint i = 0; i < self->steps->len; i++)
    {
      CatenaPlanStep *s = &g_array_index (self->steps, CatenaPlanStep, i);

      json_builder_begin_object (b);
      json_builder_set_member_name (b, "asset");
      json_builder_add_string_value (b, s->asset_id);
      json_builder_set_member_name (b, "class");
      json_builder_add_string_value (b, catena_asset_class_to_string (s->asset_class));
      json_builder_set_member_name (b, "action");
      json_builder_add_string_value (b, catena_plan_action_to_string (s->action, s->cost_usd));
      if (s->action == CATENA_PLAN_ERROR)
        {
          json_builder_set_member_name (b, "message");
          json_builder_add_string_value (b, s->message);
        }
      else
        {
          json_builder_set_member_name (b, "stage");
          json_builder_add_string_value (b, s->stage_id);
          json_builder_set_member_name (b, "kind");
          json_builder_add_string_value (b, s->stage_kind);
          json_builder_set_member_name (b, "provider");
          json_builder_add_string_value (b, s->provider);
          json_builder_set_member_name (b, "model");
          json_builder_add_string_value (b, s->model);
          json_builder_set_member_name (b, "cost_usd");
          json_builder_add_double_value (b, s->cost_usd);
          json_builder_set_member_name (b, "key");
          json_builder_add_string_value (b, s->key);
        }
      json_builder_end_object (b);
    }
  json_builder_end_array (b);
  json_builder_end_object (b);
  return json_builder_get_root (b);
}
