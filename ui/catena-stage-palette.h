/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

#define CATENA_TYPE_STAGE_PALETTE (catena_stage_palette_get_type ())
G_DECLARE_FINAL_TYPE (CatenaStagePalette, catena_stage_palette, CATENA, STAGE_PALETTE, GtkWidget)

/* Every registered stage kind with its icon and one-line description. Rows are drag sources
 * ("catena-kind:KIND"); activating one runs win.add-stage. */
GtkWidget *catena_stage_palette_new     (void);
guint      catena_stage_palette_get_n_kinds (CatenaStagePalette *self);

G_END_DECLS
