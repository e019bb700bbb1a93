/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

#define CATENA_TYPE_CANDIDATE_GRID (catena_candidate_grid_get_type ())
G_DECLARE_FINAL_TYPE (CatenaCandidateGrid, catena_candidate_grid, CATENA, CANDIDATE_GRID,
                      GtkWidget)

/* The images one generate run made, as a small grid. Activating one (click, Enter or Space)
 * activates "win.pick-candidate" with its index: the window routes it through the history. */
GtkWidget *catena_candidate_grid_new           (void);
/* n candidates, pick marked; thumbnails arrive later. */
void       catena_candidate_grid_set_n         (CatenaCandidateGrid *self,
                                                guint                n);
guint      catena_candidate_grid_get_n         (CatenaCandidateGrid *self);
void       catena_candidate_grid_set_pick      (CatenaCandidateGrid *self,
                                                guint                pick);
void       catena_candidate_grid_set_thumbnail (CatenaCandidateGrid *self,
                                                guint                index,
                                                GdkTexture          *texture);
GdkTexture *catena_candidate_grid_get_thumbnail (CatenaCandidateGrid *self,
                                                 guint                index);
/* The focusable child of a candidate (a GtkFlowBoxChild), for keyboard tests. */
GtkWidget *catena_candidate_grid_get_child     (CatenaCandidateGrid *self,
                                                guint                index);

G_END_DECLS
