/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gio/gio.h>

#include "catena-cache.h"
#include "catena-project.h"

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

/* Signals:
 *  "stage-started"  (const char *asset_id, guint index, const char *stage_id)
 *  "stage-finished" (const char *asset_id, guint index, const char *stage_id,
 *                    const char *cache_key, gboolean from_cache)
 *  "asset-finished" (const char *asset_id, const char *output_path_or_null,
 *                    const char *error_message_or_null)
 *  "asset-progress" (const char *asset_id, guint index, double stage_fraction)
 */

G_END_DECLS
