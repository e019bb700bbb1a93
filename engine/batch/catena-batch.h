/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gio/gio.h>

#include "catena-ledger.h"
#include "catena-plan.h"
#include "catena-router.h"
#include "catena-runner.h"

G_BEGIN_DECLS

typedef enum
{
  CATENA_BATCH_ROW_PENDING,
  CATENA_BATCH_ROW_RUNNING,
  CATENA_BATCH_ROW_DONE,
  CATENA_BATCH_ROW_FAILED,
  CATENA_BATCH_ROW_CANCELLED,
} CatenaBatchRowStatus;

typedef enum
{
  CATENA_BATCH_IDLE,
  CATENA_BATCH_RUNNING,
  CATENA_BATCH_PAUSED,   /* by the user, or because the budget is reached (see "message") */
  CATENA_BATCH_FINISHED,
} CatenaBatchState;

GType catena_batch_row_status_get_type (void) G_GNUC_CONST;
GType catena_batch_state_get_type (void) G_GNUC_CONST;
#define CATENA_TYPE_BATCH_ROW_STATUS (catena_batch_row_status_get_type ())
#define CATENA_TYPE_BATCH_STATE (catena_batch_state_get_type ())

/* One SKU. Properties (all notify on the main context): "id", "asset-class", "source",
 * "prompt", "status", "progress" (0–1), "stage" (id of the stage running), "cost" (reported
 * USD), "estimated-cost", "calls", "output" (file written), "message" (why it failed). */
#define CATENA_TYPE_BATCH_ROW (catena_batch_row_get_type ())
G_DECLARE_FINAL_TYPE (CatenaBatchRow, catena_batch_row, CATENA, BATCH_ROW, GObject)

const char          *catena_batch_row_get_id        (CatenaBatchRow *self);
CatenaAssetKind      catena_batch_row_get_asset_class (CatenaBatchRow *self);
const char          *catena_batch_row_get_source    (CatenaBatchRow *self);
const char          *catena_batch_row_get_prompt    (CatenaBatchRow *self);
CatenaBatchRowStatus catena_batch_row_get_status    (CatenaBatchRow *self);
double               catena_batch_row_get_progress  (CatenaBatchRow *self);
double               catena_batch_row_get_cost      (CatenaBatchRow *self);
const char          *catena_batch_row_get_output    (CatenaBatchRow *self);
const char          *catena_batch_row_get_message   (CatenaBatchRow *self);
/* A CSV column that is not id/photo/prompt/class; NULL when absent. */
const char          *catena_batch_row_get_extra     (CatenaBatchRow *self,
                                                     const char     *name);

/* A chain run over many SKUs: rows from a folder of photos or a CSV, sharding across
 * machines, routing, a budget, the ledger, per-provider concurrency, pause/resume/cancel.
 * Rows are a GListModel of CatenaBatchRow. Properties: "state", "message", "fraction",
 * "spent" (USD reported this session), "n-done", "n-failed". */
#define CATENA_TYPE_BATCH (catena_batch_get_type ())
G_DECLARE_FINAL_TYPE (CatenaBatch, catena_batch, CATENA, BATCH, GObject)

/* project: its chain, routing section and base folder (its assets are not rows). */
CatenaBatch    *catena_batch_new               (CatenaProject  *project);
CatenaProject  *catena_batch_get_project       (CatenaBatch    *self);
GListModel     *catena_batch_get_rows          (CatenaBatch    *self);

/* "i/N" with 0 <= i < N: this machine takes rows whose position p (0-based, in input order)
 * has p % N == i. Set before loading. */
gboolean        catena_batch_parse_shard       (const char     *text,
                                                guint          *index,
                                                guint          *count,
                                                GError        **error);
void            catena_batch_set_shard         (CatenaBatch    *self,
                                                guint           index,
                                                guint           count);
/* Photos (PNG, JPEG, WebP, TIFF) in dir, by name; id = file name without extension. */
gboolean        catena_batch_load_folder       (CatenaBatch    *self,
                                                const char     *dir,
                                                CatenaAssetKind asset_class,
                                                GError        **error);
/* CSV with a header row: "id" (or "sku"), "photo" (or "path"/"image"; relative to the CSV),
 * "prompt" ({column} is replaced by that column of the row), "class"; other columns are
 * kept as extra fields. Every row needs a photo or a prompt. */
gboolean        catena_batch_load_csv          (CatenaBatch    *self,
                                                const char     *path,
                                                CatenaAssetKind default_class,
                                                GError        **error);
/* Rows from the project's own assets. */
void            catena_batch_load_project_assets (CatenaBatch  *self);

/* Where stage outputs are kept (default: the default cache). Set before the first run. */
void            catena_batch_set_cache         (CatenaBatch    *self,
                                                CatenaCache    *cache);
void            catena_batch_set_router        (CatenaBatch    *self,
                                                CatenaRouter   *router);
CatenaRouter   *catena_batch_get_router        (CatenaBatch    *self);
void            catena_batch_set_ledger        (CatenaBatch    *self,
                                                CatenaLedger   *ledger,
                                                const char     *campaign);
/* USD for the campaign, counting what the ledger already holds for it; < 0: no limit.
 * Raising it while paused by the budget and resuming continues the batch. */
void            catena_batch_set_budget_limit  (CatenaBatch    *self,
                                                double          limit_usd);
CatenaBudget   *catena_batch_get_budget        (CatenaBatch    *self);
/* Headless runs: when the budget is reached, finish with CATENA_ROUTING_ERROR_BUDGET
 * instead of waiting paused. */
void            catena_batch_set_stop_on_budget (CatenaBatch   *self,
                                                 gboolean       stop);
void            catena_batch_set_output_dir    (CatenaBatch    *self,
                                                const char     *out_dir);
void            catena_batch_set_provider_limit (CatenaBatch   *self,
                                                 const char    *provider,
                                                 guint          limit);
CatenaRunner   *catena_batch_get_runner        (CatenaBatch    *self);

/* Dry run over the rows not done yet (blocking; see catena_plan_compute_async). */
CatenaPlan     *catena_batch_plan              (CatenaBatch    *self,
                                                GCancellable   *cancellable,
                                                GError        **error);

/* Runs every row not done yet; results and notifications on the caller's main context. */
void            catena_batch_run_async         (CatenaBatch        *self,
                                                GCancellable       *cancellable,
                                                GAsyncReadyCallback callback,
                                                gpointer            user_data);
gboolean        catena_batch_run_finish        (CatenaBatch        *self,
                                                GAsyncResult       *result,
                                                GError            **error);
void            catena_batch_pause             (CatenaBatch    *self);
void            catena_batch_resume            (CatenaBatch    *self);
CatenaBatchState catena_batch_get_state        (CatenaBatch    *self);
const char     *catena_batch_get_message       (CatenaBatch    *self);
double          catena_batch_get_spent         (CatenaBatch    *self);
guint           catena_batch_get_n_done        (CatenaBatch    *self);
guint           catena_batch_get_n_failed      (CatenaBatch    *self);

G_END_DECLS
