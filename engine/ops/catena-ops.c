/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <math.h>

#include "catena-ops.h"
#include "catena-ops-private.h"

void
catena_ops_register (void)
{
  static gsize done = 0;

  if (g_once_init_enter (&done))
    {
      /* GEGL learns an operation's name when its class is initialised: keep the class alive
       * so "catena:recolor" resolves for the life of the process. */
      g_type_class_ref (CATENA_TYPE_OP_RECOLOR);
      g_once_init_leave (&done, 1);
    }
}

double
catena_rgb_to_hue (const double rgb[3])
{
  double x = rgb[0] - 0.5 * (rgb[1] + rgb[2]);
  double y = CATENA_SQRT3 / 2 * (rgb[1] - rgb[2]);
  double h;

  if (hypot (x, y) < 1e-9)
    return -1;
  h = atan2 (y, x) * 180 / G_PI;
  return h < 0 ? h + 360 : h;
}

#define HUE_BINS        360
#define HUE_SMOOTH      7      /* bins each side: peaks are found on a 15° wide box */
#define HUE_LOBE        30     /* degrees each side of the peak that count as "that hue" */
#define MIN_CHROMA      0.08   /* below this a pixel is grey: its hue is noise */
#define SAMPLE_BUDGET   262144 /* pixels looked at; the histogram needs no more */

gboolean
catena_analyze_dominant_hue (GeglBuffer          *buffer,
                             const GeglRectangle *roi_or_null,
                             double              *hue_degrees,
                             double              *confidence)
{
  const Babl *format = babl_format ("R'G'B'A float");
  GeglRectangle roi;
  double weight[HUE_BINS] = { 0 }, sum_cos[HUE_BINS] = { 0 }, sum_sin[HUE_BINS] = { 0 };
  double smooth[HUE_BINS];
  double total = 0, lobe = 0, lc = 0, ls = 0, hue;
  guint64 n_opaque = 0, n_colourful = 0;
  int step, peak = 0;
  g_autofree float *row = NULL;

  if (hue_degrees != NULL)
    *hue_degrees = 0;
  if (confidence != NULL)
    *confidence = 0;
  g_return_val_if_fail (GEGL_IS_BUFFER (buffer), FALSE);

  if (roi_or_null != NULL)
    gegl_rectangle_intersect (&roi, roi_or_null, gegl_buffer_get_extent (buffer));
  else
    roi = *gegl_buffer_get_extent (buffer);
  if (roi.width <= 0 || roi.height <= 0)
    return FALSE;

  /* A regular grid of samples: exact pixel colours (no averaging across edges, which would
   * invent hues) at a bounded cost whatever the image size. */
  step = (int) ceil (sqrt ((double) roi.width * roi.height / SAMPLE_BUDGET));
  step = MAX (step, 1);
  row = g_new (float, (gsize) roi.width * 4);

  for (int y = roi.y + step / 2; y < roi.y + roi.height; y += step)
    {
      GeglRectangle r = { roi.x, y, roi.width, 1 };

      gegl_buffer_get (buffer, &r, 1.0, format, row, GEGL_AUTO_ROWSTRIDE, GEGL_ABYSS_NONE);
      for (int x = step / 2; x < roi.width; x += step)
        {
          const float *p = row + (gsize) x * 4;
          double cx, cy, c, h;
          int bin;

          if (!(p[3] > 0.5f))
            continue;
          n_opaque++;
          cx = p[0] - 0.5 * (p[1] + p[2]);
          cy = CATENA_SQRT3 / 2 * (p[1] - p[2]);
          c = hypot (cx, cy);
          if (!(c >= MIN_CHROMA))
            continue;
          n_colourful++;
          h = atan2 (cy, cx);
          bin = (int) floor ((h < 0 ? h + 2 * G_PI : h) * HUE_BINS / (2 * G_PI));
          bin = CLAMP (bin, 0, HUE_BINS - 1);
          weight[bin] += c;
          sum_cos[bin] += c * cos (h);
          sum_sin[bin] += c * sin (h);
          total += c;
        }
    }

  if (n_colourful == 0 || total <= 0)
    return FALSE;

  for (int i = 0; i < HUE_BINS; i++)
    {
      smooth[i] = 0;
      for (int j = -HUE_SMOOTH; j <= HUE_SMOOTH; j++)
        smooth[i] += weight[(i + j + HUE_BINS) % HUE_BINS];
      if (smooth[i] > smooth[peak])
        peak = i;
    }

  /* The exact mean hue of the peak's lobe, not the bin centre. */
  for (int j = -HUE_LOBE; j <= HUE_LOBE; j++)
    {
      int i = (peak + j + HUE_BINS) % HUE_BINS;

      lobe += weight[i];
      lc += sum_cos[i];
      ls += sum_sin[i];
    }
  hue = atan2 (ls, lc) * 180 / G_PI;
  if (hue < 0)
    hue += 360;

  if (hue_degrees != NULL)
    *hue_degrees = hue;
  /* Share of the colour in that lobe, discounted when only a sliver of the visible pixels is
   * colourful at all (a grey product with a small red logo is not "a red product"). */
  if (confidence != NULL)
    *confidence = lobe / total * MIN (1.0, (double) n_colourful / n_opaque / 0.05);
  return TRUE;
}
