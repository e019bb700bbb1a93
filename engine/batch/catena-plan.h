/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gio/gio.h>

#include "catena-cache.h"
#include "catena-project.h"
#include "catena-router.h"

G_BEGIN_DECLS

/* What a run would do with one stage of one asset. */
typedef enum
{
  CATENA_PLAN_CACHED, /* in the cache (or before the point the run resumes from) */
  CATENA_PLAN_SHARED, /* made by an earlier asset of the same run: no second call */
  CATENA_PLAN_LOCAL,  /* runs in-process: no call, no cost */
  CATENA_PLAN_REMOTE, /* a provider call (paid when cost_usd > 0) */
  CATENA_PLAN_ERROR,  /* the asset cannot run (message says why); nothing is sent */
} CatenaPlanAction;

typedef struct
{
  char            *asset_id;
  CatenaAssetKind  asset_class;
  guint            index;       /* stage position; 0 for CATENA_PLAN_ERROR */
  char            *stage_id;
  char            *stage_kind;
  char            *provider;    /* as routed */
  char            *model;
  char            *key;
  CatenaPlanAction action;
  double           cost_usd;    /* estimate, REMOTE only */
  int              width;       /* estimated output size */
  int              height;
  char            *message;     /* CATENA_PLAN_ERROR */
} CatenaPlanStep;

const char *catena_plan_action_to_string (CatenaPlanAction action, double cost_usd);

/* A dry run: per asset and stage, cache hit, local work or a provider call with its
 * estimated cost. It follows the runner's own decisions (routing per class, resume point,
 * candidates already made, duplicate outputs made once), so its number of calls is what a
 * run sends. */
#define CATENA_TYPE_PLAN (catena_plan_get_type ())
G_DECLARE_FINAL_TYPE (CatenaPlan, catena_plan, CATENA, PLAN, GObject)

/* Blocking (hashes source photos): call from a worker, or use the async variant. assets
 * NULL: all of the project's; router NULL: stages as configured, default prices; cache NULL:
 * the default cache. */
CatenaPlan     *catena_plan_compute        (CatenaProject      *project,
                                            GPtrArray          *assets,
                                            CatenaRouter       *router,
                                            CatenaCache        *cache,
                                            GCancellable       *cancellable,
                                            GError            **error);
/* The callback runs on the caller's thread-default main context. */
void            catena_plan_compute_async  (CatenaProject      *project,
                                            GPtrArray          *assets,
                                            CatenaRouter       *router,
                                            CatenaCache        *cache,
                                            GCancellable       *cancellable,
                                            GAsyncReadyCallback callback,
                                            gpointer            user_data);
CatenaPlan     *catena_plan_compute_finish (GAsyncResult       *result,
                                            GError            **error);

guint                 catena_plan_get_n_steps    (CatenaPlan      *self);
const CatenaPlanStep *catena_plan_get_step       (CatenaPlan      *self,
                                                  guint            index);
guint                 catena_plan_get_n_assets   (CatenaPlan      *self);
/* Provider calls a run would send (REMOTE steps). */
guint                 catena_plan_get_n_calls    (CatenaPlan      *self);
guint                 catena_plan_count          (CatenaPlan      *self,
                                                  CatenaPlanAction action);
double                catena_plan_get_total_cost (CatenaPlan      *self);
double                catena_plan_get_class_cost (CatenaPlan      *self,
                                                  CatenaAssetKind  asset_class);
guint                 catena_plan_get_class_calls (CatenaPlan     *self,
                                                   CatenaAssetKind asset_class);
const char           *catena_plan_get_pricing_date (CatenaPlan    *self);
JsonNode             *catena_plan_to_json        (CatenaPlan      *self);

G_END_DECLS
