/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <adwaita.h>

#include "catena-batch.h"
#include "catena-engine.h"

G_BEGIN_DECLS

/* The Batch view: SKUs from a folder or a CSV run through the project's chain, with a plan
 * before any spend, a budget, pause/resume/cancel and live per-row progress. Commands are
 * actions on the widget ("batch.add-folder", "batch.add-csv", "batch.plan", "batch.run",
 * "batch.pause" (pause or resume), "batch.cancel"). */
#define CATENA_TYPE_BATCH_VIEW (catena_batch_view_get_type ())
G_DECLARE_FINAL_TYPE (CatenaBatchView, catena_batch_view, CATENA, BATCH_VIEW, GtkWidget)

GtkWidget *catena_batch_view_new (CatenaProject *project);
CatenaBatch *catena_batch_view_get_batch (CatenaBatchView *self);
gboolean catena_batch_view_load_folder (CatenaBatchView *self, const char *dir, GError **error);
gboolean catena_batch_view_load_csv (CatenaBatchView *self, const char *path, GError **error);
/* The last finished plan, or NULL (none yet, or rows changed since). */
CatenaPlan *catena_batch_view_get_plan (CatenaBatchView *self);
/* TRUE while a plan is being computed or a run has not returned. */
gboolean catena_batch_view_is_busy (CatenaBatchView *self);
/* What the plan box and the footer show, for tests and accessibility checks. */
const char *catena_batch_view_get_plan_text (CatenaBatchView *self);
const char *catena_batch_view_get_totals_text (CatenaBatchView *self);
/* The budget warning while the batch waits paused on its budget, else NULL. */
const char *catena_batch_view_get_budget_warning (CatenaBatchView *self);

G_END_DECLS
