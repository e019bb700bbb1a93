/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gtk/gtk.h>

#include "catena-engine.h"

G_BEGIN_DECLS

#define CATENA_TYPE_PREVIEW_RENDERER (catena_preview_renderer_get_type ())
G_DECLARE_FINAL_TYPE (CatenaPreviewRenderer, catena_preview_renderer, CATENA, PREVIEW_RENDERER,
                      GObject)

/* The large preview's renderer, in darktable's shape: one worker thread; a request replaces
 * the one in flight (a render checks between strips whether it is still wanted); a live stage
 * is rendered first on a coarse proxy (half the view's scale) and then sharp; proxies of the
 * stage's input are made once per view and reused while sliders move.
 *
 * "rendered" (GdkTexture *after, GdkTexture *before_or_null, double scale, int x, int y,
 *             gboolean sharp, guint64 generation) arrives on the main context of the creator.
 * x, y: where the texture starts, in the coordinates of the image scaled by scale. */
CatenaPreviewRenderer *catena_preview_renderer_new        (void);
/* source: the buffer shown (for a live stage: its input); before: shown left of the split;
 * live: a private copy of a stage whose catena_stage_build_preview() is applied to source. */
guint64 catena_preview_renderer_set_source  (CatenaPreviewRenderer *self,
                                             GeglBuffer            *source,
                                             GeglBuffer            *before,
                                             CatenaStage           *live);
guint64 catena_preview_renderer_set_stage   (CatenaPreviewRenderer *self,
                                             CatenaStage           *live);
/* Shows a and b (cached renders, e.g. two neighbouring strengths of a sweep) mixed linearly:
 * (1 − t)·a + t·b, from 8-bit renders of each kept while the view stays, so scrubbing t costs
 * one mix per frame. set_source() ends it. */
guint64 catena_preview_renderer_set_blend   (CatenaPreviewRenderer *self,
                                             GeglBuffer            *a,
                                             GeglBuffer            *b,
                                             double                 t,
                                             GeglBuffer            *before);
guint64 catena_preview_renderer_set_view    (CatenaPreviewRenderer *self,
                                             double                 scale,
                                             const GeglRectangle   *rect);
guint64 catena_preview_renderer_set_show_before (CatenaPreviewRenderer *self,
                                                 gboolean               show_before);
guint64 catena_preview_renderer_get_generation  (CatenaPreviewRenderer *self);
gboolean catena_preview_renderer_has_source     (CatenaPreviewRenderer *self);
void     catena_preview_renderer_get_counts     (CatenaPreviewRenderer *self,
                                                 guint                 *n_coarse,
                                                 guint                 *n_sharp,
                                                 guint                 *n_restarted);

/* Ends the worker (waits for the render in flight to notice) and drops what it shows:
 * "rendered" is not emitted again, even for renders already queued, although pending
 * results may keep the object alive a little longer. For an owner going away (the window's
 * dispose). Idempotent; dispose does it too. */
void     catena_preview_renderer_stop           (CatenaPreviewRenderer *self);

/* Helper for any thread: buffer scaled by scale, the part in rect (scaled coordinates), as
 * straight-alpha 8-bit RGBA. */
GBytes     *catena_render_rgba8          (GeglBuffer          *buffer,
                                          double               scale,
                                          const GeglRectangle *rect,
                                          gsize               *stride);
GdkTexture *catena_texture_new_rgba8     (GBytes              *bytes,
                                          int                  width,
                                          int                  height,
                                          gsize                stride);

G_END_DECLS
