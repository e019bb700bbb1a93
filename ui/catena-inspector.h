/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gtk/gtk.h>

#include "catena-engine.h"
#include "catena-candidate-grid.h"
#include "catena-history.h"
#include "catena-routing-group.h"

G_BEGIN_DECLS

#define CATENA_TYPE_INSPECTOR (catena_inspector_get_type ())
G_DECLARE_FINAL_TYPE (CatenaInspector, catena_inspector, CATENA, INSPECTOR, GtkWidget)

/* Editors generated from the stage's GParamSpecs: a slider per double, a spin button per
 * integer, a switch per boolean, a colour button per colour, a drop-down per enum. Edits go
 * through the history (one undo step per slider drag).
 * "edit-finished" (CatenaStage *stage, const char *param): a slider was let go, or its
 * keyboard changes paused. */
GtkWidget   *catena_inspector_new         (void);
void         catena_inspector_set_history (CatenaInspector *self,
                                           CatenaHistory   *history);
void         catena_inspector_set_stage   (CatenaInspector *self,
                                           CatenaStage     *stage);
CatenaStage *catena_inspector_get_stage   (CatenaInspector *self);
/* The editor widget of a parameter (GtkScale, GtkSpinButton, GtkSwitch, GtkColorButton,
 * GtkDropDown or GtkEntry), or NULL. */
GtkWidget   *catena_inspector_get_editor  (CatenaInspector *self,
                                           const char      *param);
/* Provider, model and estimated cost. */
CatenaRoutingGroup  *catena_inspector_get_routing        (CatenaInspector *self);
/* A generate stage's cached candidates: n of them (0 hides the grid); the window fills in
 * the thumbnails. */
void                 catena_inspector_set_candidates     (CatenaInspector *self,
                                                          guint            n);
CatenaCandidateGrid *catena_inspector_get_candidate_grid (CatenaInspector *self);
/* A style stage's strength sweep: what the row says (NULL: what a sweep is). */
void                 catena_inspector_set_sweep_status   (CatenaInspector *self,
                                                          const char      *status);
const char          *catena_inspector_get_sweep_status   (CatenaInspector *self);

G_END_DECLS
