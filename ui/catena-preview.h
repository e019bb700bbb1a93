/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gegl.h>
#include <gtk/gtk.h>

G_BEGIN_DECLS

#define CATENA_TYPE_PREVIEW (catena_preview_get_type ())
G_DECLARE_FINAL_TYPE (CatenaPreview, catena_preview, CATENA, PREVIEW, GtkWidget)

/* The large preview: shows textures rendered elsewhere (CatenaPreviewRenderer), scaled to the
 * current zoom until a sharper one lands; fit, 100 %, scroll to zoom, drag to pan, and a
 * before/after split with a draggable divider. "view-changed" asks for a new render. */
GtkWidget *catena_preview_new              (void);
void       catena_preview_set_image_size   (CatenaPreview       *self,
                                            int                  width,
                                            int                  height);
void       catena_preview_set_textures     (CatenaPreview       *self,
                                            GdkTexture          *after,
                                            GdkTexture          *before,
                                            double               scale,
                                            int                  x,
                                            int                  y);
void       catena_preview_clear            (CatenaPreview       *self);
GdkTexture *catena_preview_get_texture     (CatenaPreview       *self);
/* What should be rendered now: scale of the image, and the visible part in scaled
 * coordinates. FALSE if nothing is visible. */
gboolean   catena_preview_get_render_request (CatenaPreview     *self,
                                              double            *scale,
                                              GeglRectangle     *rect);
void       catena_preview_zoom_fit         (CatenaPreview       *self);
void       catena_preview_set_zoom         (CatenaPreview       *self,
                                            double               zoom);
double     catena_preview_get_zoom         (CatenaPreview       *self);
void       catena_preview_zoom_by          (CatenaPreview       *self,
                                            double               factor);
gboolean   catena_preview_get_split        (CatenaPreview       *self);
void       catena_preview_set_split        (CatenaPreview       *self,
                                            gboolean             split);

G_END_DECLS
