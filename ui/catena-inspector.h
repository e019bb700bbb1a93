/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gtk/gtk.h>

#include "catena-engine.h"
#include "catena-history.h"

G_BEGIN_DECLS

#define CATENA_TYPE_INSPECTOR (catena_inspector_get_type ())
G_DECLARE_FINAL_TYPE (CatenaInspector, catena_inspector, CATENA, INSPECTOR, GtkWidget)

/* Editors generated from the stage's GParamSpecs: a slider per double, a spin button per
 * integer, a switch per boolean, a colour button per colour, a drop-down per enum. Edits go
 * through the history (one undo step per slider drag). */
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

G_END_DECLS
