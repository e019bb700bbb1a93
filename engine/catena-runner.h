/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gio/gio.h>

#include "catena-cache.h"
#include "catena-project.h"
#include "catena-router.h"
#include "catena-ledger.h"

G_BEGIN_DECLS

#define CATENA_TYPE_RUNNER (catena_runner_get_type ())
G_DECLARE_FINAL_TYPE (CatenaRunner, catena_runner, CATENA, RUNNER, GObject)

CatenaRunner *catena_runner_new          (CatenaCache        *cache);
CatenaCache  *catena_runner_get_cache    (CatenaRunner       *self);
double        catena_runner_get_fraction (CatenaRunner       *self);
const char   *catena_runner_get_message  (CatenaRunner       *self);
gboolean      catena_runner_get_running  (CatenaRunner       *self);
void          catena_runner_set_max_workers (CatenaRunner    *self,
                                             guint            max_workers);

/* Routing, prices and per-provider concurrency. With a router, each asset runs the chain as
 * routed for its class (catena_router_route_chain), so cache keys carry the resolved
 * provider/model. NULL (the default): stages run as configured. */
void          catena_runner_set_router   (CatenaRunner       *self,
                                          CatenaRouter       *router);
CatenaRouter *catena_runner_get_router   (CatenaRunner       *self);
/* Before each paid call the runner reserves its estimated cost; a call that does not fit is
 * not sent: the runner pauses ("paused" signal with the reason) until resumed after the
 * limit was raised, or cancelled. NULL: no limit. */
void          catena_runner_set_budget   (CatenaRunner       *self,
                                          CatenaBudget       *budget);
/* Every provider call is written to ledger (before it is sent and when it ends) under
 * campaign. NULL: no ledger. */
void          catena_runner_set_ledger   (CatenaRunner       *self,
                                          CatenaLedger       *ledger,
                                          const char         *campaign);
/* Calls at once to provider ("local" counts in-process stages); 0 restores the router's (or
 * the built-in) limit. */
void          catena_runner_set_provider_limit (CatenaRunner *self,
                                                const char   *provider,
                                                guint         limit);
/* Paused: stages already running finish, nothing new starts. */
void          catena_runner_pause        (CatenaRunner       *self);
void          catena_runner_resume       (CatenaRunner       *self);
gboolean      catena_runner_get_paused   (CatenaRunner       *self);

/* Runs the project's chain (a snapshot taken now) over assets (NULL: all assets) on a worker
 * pool. Signals and the callback arrive on the thread-default main context of the caller.
 * out_dir NULL: stages that write files (export) skip writing. */
void          catena_runner_run_async    (CatenaRunner       *self,
                                          CatenaProject      *project,
                                          GPtrArray          *assets,
                                          const char         *out_dir,
                                          GCancellable       *cancellable,
                                          GAsyncReadyCallback callback,
                                          gpointer            user_data);
gboolean      catena_runner_run_finish   (CatenaRunner       *self,
                                          GAsyncResult       *result,
                                          GError            **error);

/* Counters since creation: stages actually executed and stages served from the cache. */
void          catena_runner_get_stats    (CatenaRunner       *self,
                                          guint              *n_executed,
                                          guint              *n_cached);

/* Cache keys of every stage of chain for asset (blocking: hashes the source file).
 * Returns a NULL-terminated array with one key per stage. */
char        **catena_chain_compute_keys  (CatenaChain        *chain,
                                          CatenaAsset        *asset,
                                          const char         *base_dir,
                                          GCancellable       *cancellable,
                                          GError            **error);

/* Index of the last stage a run resumes after (-1: none): the last cached stage such that
 * every earlier stage that writes a file is cached too when writing outputs. */
int           catena_chain_find_resume   (CatenaChain        *chain,
                                          char              **keys,
                                          CatenaCache        *cache,
                                          gboolean            writing_outputs);
/* Whether running stage now would send a request: a remote stage whose result is not
 * already at hand (generate: the picked candidate may be cached from an earlier run). */
gboolean      catena_stage_will_call_provider (CatenaStage        *stage,
                                               CatenaStageContext *ctx,
                                               CatenaCache        *cache);

/* Signals:
 *  "stage-started"  (const char *asset_id, guint index, const char *stage_id)
 *  "stage-finished" (const char *asset_id, guint index, const char *stage_id,
 *                    const char *cache_key, gboolean from_cache)
 *  "asset-finished" (const char *asset_id, const char *output_path_or_null,
 *                    const char *error_message_or_null)
 *  "asset-progress" (const char *asset_id, guint index, double stage_fraction)
 *  "call-finished"  (const char *asset_id, const char *stage_id, const char *provider,
 *                    const char *model, double estimated_usd, double reported_usd,
 *                    gboolean billed)
 *  "paused"         (const char *reason_or_null)   also notifies "paused"
 */

G_END_DECLS
