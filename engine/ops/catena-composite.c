/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Studio backdrop: the cut-out, cropped to its alpha bounding box, scaled so that box spans
 * `fill` of the canvas along its limiting dimension, centred over a solid, gradient or
 * transparent backdrop, with a soft elliptic contact shadow under its bottom edge.
 * One GEGL graph: backdrop → over (shadow) → over (transformed product) → crop. The shadow is
 * drawn analytically (an ellipse convolved with a Gaussian, see draw_shadow()), which costs
 * only its own bounding box instead of a full-canvas blur. */
#include "config.h"

#include <math.h>

#include <glib/gi18n-lib.h>

#include "catena-error.h"
#include "catena-ops.h"

#define ALPHA_VISIBLE 0.02f  /* what counts as product when finding its bounding box */

void
catena_backdrop_init_default (CatenaBackdrop *spec)
{
  *spec = (CatenaBackdrop) {
    .kind = CATENA_BACKDROP_SOLID,
    .color = { 1, 1, 1 },
    .color2 = { 0.9, 0.9, 0.9 },
    .fill = 0.8,
    .aspect = 0,
    .shadow_strength = 0.35,
    .shadow_blur = 0.05,
  };
}

static gboolean
alpha_bounds (GeglBuffer    *buffer,
              GeglRectangle *bounds)
{
  const GeglRectangle *extent = gegl_buffer_get_extent (buffer);
  GeglBufferIterator *it = gegl_buffer_iterator_new (buffer, extent, 0, babl_format ("YA float"),
                                                     GEGL_ACCESS_READ, GEGL_ABYSS_NONE, 1);
  int x0 = G_MAXINT, y0 = G_MAXINT, x1 = G_MININT, y1 = G_MININT;

  while (gegl_buffer_iterator_next (it))
    {
      const float *ya = it->items[0].data;
      const GeglRectangle *r = &it->items[0].roi;

      for (int y = r->y; y < r->y + r->height; y++)
        for (int x = r->x; x < r->x + r->width; x++, ya += 2)
          if (ya[1] > ALPHA_VISIBLE)
            {
              x0 = MIN (x0, x);
              x1 = MAX (x1, x);
              y0 = MIN (y0, y);
              y1 = MAX (y1, y);
            }
    }
  if (x1 < x0)
    return FALSE;
  *bounds = (GeglRectangle) { x0, y0, x1 - x0 + 1, y1 - y0 + 1 };
  return TRUE;
}

static GeglColor *
color_new (const double rgb[3],
           double       alpha)
{
  GeglColor *color = gegl_color_new (NULL);
  double pixel[4] = { rgb[0], rgb[1], rgb[2], alpha };

  gegl_color_set_pixel (color, babl_format ("R'G'B'A double"), pixel);
  return color;
}

/* A filled ellipse blurred by a Gaussian of std-dev sigma, with the signed distance to the
 * ellipse approximated to first order ((r − 1) / |∇r|), which is exact on the axes. */
static GeglBuffer *
draw_shadow (double cx,
             double cy,
             double rx,
             double ry,
             double sigma,
             double strength)
{
  int margin = (int) ceil (3 * sigma) + 1;
  GeglRectangle rect = { (int) floor (cx - rx) - margin, (int) floor (cy - ry) - margin,
                         (int) ceil (2 * rx) + 2 * margin + 1,
                         (int) ceil (2 * ry) + 2 * margin + 1 };
  const Babl *format = babl_format ("RGBA float");
  GeglBuffer *shadow = gegl_buffer_new (&rect, format);
  GeglBufferIterator *it = gegl_buffer_iterator_new (shadow, &rect, 0, format,
                                                     GEGL_ACCESS_WRITE, GEGL_ABYSS_NONE, 1);

  while (gegl_buffer_iterator_next (it))
    {
      float *p = it->items[0].data;
      const GeglRectangle *r = &it->items[0].roi;

      for (int y = r->y; y < r->y + r->height; y++)
        for (int x = r->x; x < r->x + r->width; x++, p += 4)
          {
            double u = (x + 0.5 - cx) / rx, v = (y + 0.5 - cy) / ry;
            double e = sqrt (u * u + v * v);
            double gx = u / rx, gy = v / ry;
            double grad = e > 1e-9 ? sqrt (gx * gx + gy * gy) / e : 1 / MIN (rx, ry);
            double d = (e - 1) / grad;  /* signed distance in pixels, negative inside */

            p[0] = p[1] = p[2] = 0;
            p[3] = (float) (strength * 0.5 * erfc (d / (sigma * G_SQRT2)));
          }
    }
  return shadow;
}

GeglBuffer *
catena_composite_backdrop (GeglBuffer            *cutout,
                           const CatenaBackdrop  *spec,
                           GCancellable          *cancellable,
                           GError               **error)
{
  g_autoptr (GeglNode) graph = NULL;
  g_autoptr (GeglBuffer) shadow = NULL;
  GeglNode *backdrop, *crop_backdrop, *source, *crop, *to_origin, *resize, *place;
  GeglNode *over_shadow, *over_product;
  GeglRectangle extent, bbox, canvas;
  double fill, scale, ox, oy, pw, ph;
  CatenaBackdrop defaults;

  if (cutout == NULL)
    {
      g_set_error (error, CATENA_STAGE_ERROR, CATENA_STAGE_ERROR_MISSING_INPUT,
                   _("The backdrop needs a cut-out image."));
      return NULL;
    }
  if (spec == NULL)
    {
      catena_backdrop_init_default (&defaults);
      spec = &defaults;
    }
  extent = *gegl_buffer_get_extent (cutout);
  if (extent.width <= 0 || extent.height <= 0)
    {
      g_set_error (error, CATENA_STAGE_ERROR, CATENA_STAGE_ERROR_INVALID_IMAGE,
                   _("The backdrop received an empty image."));
      return NULL;
    }
  if (!alpha_bounds (cutout, &bbox))
    {
      g_set_error (error, CATENA_STAGE_ERROR, CATENA_STAGE_ERROR_INVALID_IMAGE,
                   _("The image is fully transparent: there is no product to place. "
                     "Check the background removal before it."));
      return NULL;
    }
  if (g_cancellable_set_error_if_cancelled (cancellable, error))
    return NULL;

  canvas = (GeglRectangle) { 0, 0, extent.width, extent.height };
  if (spec->aspect > 0)
    {
      int edge = MAX (extent.width, extent.height);
      double aspect = CLAMP (spec->aspect, 0.1, 10);

      canvas.width = aspect >= 1 ? edge : MAX (1, (int) round (edge * aspect));
      canvas.height = aspect >= 1 ? MAX (1, (int) round (edge / aspect)) : edge;
    }

  fill = CLAMP (spec->fill, 0.01, 1.0);
  scale = fill * MIN ((double) canvas.width / bbox.width, (double) canvas.height / bbox.height);
  pw = bbox.width * scale;
  ph = bbox.height * scale;
  ox = (canvas.width - pw) / 2;
  oy = (canvas.height - ph) / 2;

  graph = gegl_node_new ();
  switch (spec->kind)
    {
    case CATENA_BACKDROP_GRADIENT:
      {
        GeglColor *top = color_new (spec->color, 1);
        GeglColor *bottom = color_new (spec->color2, 1);

        backdrop = gegl_node_new_child (graph, "operation", "gegl:linear-gradient",
                                        "start-x", 0.0, "start-y", 0.0,
                                        "end-x", 0.0, "end-y", (double) canvas.height,
                                        "start-color", top, "end-color", bottom, NULL);
        g_object_unref (top);
        g_object_unref (bottom);
        break;
      }
    case CATENA_BACKDROP_TRANSPARENT:
      {
        const double none[3] = { 0, 0, 0 };
        GeglColor *clear = color_new (none, 0);

        backdrop = gegl_node_new_child (graph, "operation", "gegl:color", "value", clear, NULL);
        g_object_unref (clear);
        break;
      }
    case CATENA_BACKDROP_SOLID:
    default:
      {
        GeglColor *solid = color_new (spec->color, 1);

        backdrop = gegl_node_new_child (graph, "operation", "gegl:color", "value", solid, NULL);
        g_object_unref (solid);
        break;
      }
    }
  crop_backdrop = gegl_node_new_child (graph, "operation", "gegl:crop",
                                       "x", 0.0, "y", 0.0,
                                       "width", (double) canvas.width,
                                       "height", (double) canvas.height, NULL);
  gegl_node_link (backdrop, crop_backdrop);
  over_shadow = crop_backdrop;

  if (spec->shadow_strength > 0)
    {
      double rx = MAX (1.0, 0.45 * pw), ry = MAX (1.0, 0.06 * pw);
      double sigma = MAX (0.5, CLAMP (spec->shadow_blur, 0, 1) * pw);
      GeglNode *shadow_source;

      /* centred a little above the bottom edge so the product stands in its shadow */
      shadow = draw_shadow (ox + pw / 2, oy + ph - 0.3 * ry, rx, ry, sigma,
                            CLAMP (spec->shadow_strength, 0, 1));
      shadow_source = gegl_node_new_child (graph, "operation", "gegl:buffer-source",
                                           "buffer", shadow, NULL);
      over_shadow = gegl_node_new_child (graph, "operation", "gegl:over", NULL);
      gegl_node_link (crop_backdrop, over_shadow);
      gegl_node_connect_to (shadow_source, "output", over_shadow, "aux");
    }

  source = gegl_node_new_child (graph, "operation", "gegl:buffer-source", "buffer", cutout,
                                NULL);
  crop = gegl_node_new_child (graph, "operation", "gegl:crop",
                              "x", (double) bbox.x, "y", (double) bbox.y,
                              "width", (double) bbox.width, "height", (double) bbox.height,
                              NULL);
  /* Three affine ops that GEGL folds into one resampling (its transform string parser reads
   * only the first of several SVG transforms). */
  to_origin = gegl_node_new_child (graph, "operation", "gegl:translate",
                                   "x", (double) -bbox.x, "y", (double) -bbox.y, NULL);
  resize = gegl_node_new_child (graph, "operation", "gegl:scale-ratio",
                                "x", scale, "y", scale, "sampler", GEGL_SAMPLER_CUBIC, NULL);
  place = gegl_node_new_child (graph, "operation", "gegl:translate", "x", ox, "y", oy, NULL);
  gegl_node_link_many (source, crop, to_origin, resize, place, NULL);
  over_product = gegl_node_new_child (graph, "operation", "gegl:over", NULL);
  gegl_node_link (over_shadow, over_product);
  gegl_node_connect_to (place, "output", over_product, "aux");

  return catena_render_node (over_product, &canvas, cancellable, NULL, NULL, error);
}
