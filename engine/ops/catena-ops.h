/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gegl.h>
#include <gio/gio.h>

#include "catena-types.h"
#include "catena-image-io.h"  /* CATENA_WORK_FORMAT */

G_BEGIN_DECLS

/* Registers Catena's own GEGL operations (catena:recolor). Call after gegl_init(); idempotent
 * and thread-safe. */
void        catena_ops_register                 (void);

/* Hue as Catena measures it: the angle, in degrees [0, 360), of a non-linear R'G'B' colour
 * around the grey axis (red 0, yellow 60, green 120, cyan 180, blue 240, magenta 300; the
 * same as HSV hue at those six points). Returns -1 for a grey colour. */
double      catena_rgb_to_hue                   (const double rgb[3]);

/* Dominant hue of the coloured pixels of @buffer (alpha > 0.5, near-grey pixels ignored),
 * from a saturation-weighted hue histogram. @confidence (0..1) is the share of the colourful
 * weight near that hue. Returns FALSE (hue 0, confidence 0) when nothing is colourful. */
gboolean    catena_analyze_dominant_hue         (GeglBuffer          *buffer,
                                                 const GeglRectangle *roi_or_null,
                                                 double              *hue_degrees,
                                                 double              *confidence);

typedef void (*CatenaOpsProgressFunc) (double fraction, gpointer user_data);

/* Classical background removal for studio packshots: a background model fitted on the image
 * border, a perceptual colour distance, a flood fill from the border (so product pixels of
 * background colour inside the object stay), cleanup and a soft edge.
 * @tolerance: colour distance (CIE ΔE) under which a pixel may be background, 1..100.
 * @softness: edge feather in pixels, 0..20.
 * Returns a new buffer in CATENA_WORK_FORMAT with the background made transparent. */
GeglBuffer *catena_remove_background_classical  (GeglBuffer    *input,
                                                 double         tolerance,
                                                 double         softness,
                                                 GCancellable  *cancellable,
                                                 GError       **error);
GeglBuffer *catena_remove_background_classical_full (GeglBuffer           *input,
                                                     double                 tolerance,
                                                     double                 softness,
                                                     GCancellable          *cancellable,
                                                     CatenaOpsProgressFunc  progress,
                                                     gpointer               progress_data,
                                                     GError               **error);

/* A studio backdrop for a cut-out. Colours are non-linear R'G'B' in 0..1. */
typedef struct
{
  CatenaBackdropKind kind;
  double             color[3];        /* solid colour, or the gradient's top colour */
  double             color2[3];       /* the gradient's bottom colour */
  double             fill;            /* 0.05..1: share of the canvas the product's bounding
                                       * box spans along its limiting dimension */
  double             aspect;          /* canvas width / height; 0 keeps the input's size */
  double             shadow_strength; /* 0..1: opacity of the contact shadow at its centre */
  double             shadow_blur;     /* 0..1: shadow softness, as a share of product width */
} CatenaBackdrop;

void        catena_backdrop_init_default        (CatenaBackdrop *spec);

/* Places @cutout (cropped to its alpha bounding box) centred on a new canvas with @spec's
 * backdrop and contact shadow. Returns a new buffer in CATENA_WORK_FORMAT. */
GeglBuffer *catena_composite_backdrop           (GeglBuffer            *cutout,
                                                 const CatenaBackdrop  *spec,
                                                 GCancellable          *cancellable,
                                                 GError               **error);

G_END_DECLS
