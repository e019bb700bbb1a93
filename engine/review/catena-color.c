/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <math.h>

#include "catena-brand-kit.h"

/* Brand colours are specified as sRGB hex, so sRGB (D65) is the only input space needed.
 * CIEDE2000 follows the formula as written out step by step in Sharma, Wu & Dalal, "The
 * CIEDE2000 Color-Difference Formula: Implementation Notes…", Color Res. Appl. 30 (2005),
 * including its notes on hue angles when a chroma is zero and on the mean hue. */

static double
srgb_decode (double v)
{
  return v <= 0.04045 ? v / 12.92 : pow ((v + 0.055) / 1.055, 2.4);
}

static double
lab_f (double t)
{
  const double d = 6.0 / 29.0;

  return t > d * d * d ? cbrt (t) : t / (3 * d * d) + 4.0 / 29.0;
}

void
catena_srgb_to_lab (const double rgb[3],
                    double       lab[3])
{
  double r = srgb_decode (rgb[0]), g = srgb_decode (rgb[1]), b = srgb_decode (rgb[2]);
  /* IEC 61966-2-1 primaries, D65 white normalised to Y = 1 */
  double x = 0.4124564 * r + 0.3575761 * g + 0.1804375 * b;
  double y = 0.2126729 * r + 0.7151522 * g + 0.0721750 * b;
  double z = 0.0193339 * r + 0.1191920 * g + 0.9503041 * b;
  double fx = lab_f (x / 0.95047), fy = lab_f (y), fz = lab_f (z / 1.08883);

  lab[0] = 116 * fy - 16;
  lab[1] = 500 * (fx - fy);
  lab[2] = 200 * (fy - fz);
}

static double
deg (double rad)
{
  return rad * 180.0 / G_PI;
}

static double
rad (double degrees)
{
  return degrees * G_PI / 180.0;
}

double
catena_delta_e_2000 (const double lab1[3],
                     const double lab2[3])
{
  const double pow25_7 = 6103515625.0; /* 25^7 */
  double c1 = hypot (lab1[1], lab1[2]), c2 = hypot (lab2[1], lab2[2]);
  double c_bar = (c1 + c2) / 2, c_bar7 = pow (c_bar, 7);
  double g = 0.5 * (1 - sqrt (c_bar7 / (c_bar7 + pow25_7)));
  double a1p = (1 + g) * lab1[1], a2p = (1 + g) * lab2[1];
  double c1p = hypot (a1p, lab1[2]), c2p = hypot (a2p, lab2[2]);
  double h1p = (a1p == 0 && lab1[2] == 0) ? 0 : deg (atan2 (lab1[2], a1p));
  double h2p = (a2p == 0 && lab2[2] == 0) ? 0 : deg (atan2 (lab2[2], a2p));
  double dl, dc, dhp, dh, l_bar, c_bar_p, h_bar_p, t, dtheta, c_bar_p7, rc, sl, sc, sh, rt;

  if (h1p < 0)
    h1p += 360;
  if (h2p < 0)
    h2p += 360;

  dl = lab2[0] - lab1[0];
  dc = c2p - c1p;
  if (c1p * c2p == 0)
    dhp = 0;
  else if (fabs (h2p - h1p) <= 180)
    dhp = h2p - h1p;
  else if (h2p - h1p > 180)
    dhp = h2p - h1p - 360;
  else
    dhp = h2p - h1p + 360;
  dh = 2 * sqrt (c1p * c2p) * sin (rad (dhp / 2));

  l_bar = (lab1[0] + lab2[0]) / 2;
  c_bar_p = (c1p + c2p) / 2;
  if (c1p * c2p == 0)
    h_bar_p = h1p + h2p;
  else if (fabs (h1p - h2p) <= 180)
    h_bar_p = (h1p + h2p) / 2;
  else if (h1p + h2p < 360)
    h_bar_p = (h1p + h2p + 360) / 2;
  else
    h_bar_p = (h1p + h2p - 360) / 2;

  t = 1 - 0.17 * cos (rad (h_bar_p - 30)) + 0.24 * cos (rad (2 * h_bar_p)) +
      0.32 * cos (rad (3 * h_bar_p + 6)) - 0.20 * cos (rad (4 * h_bar_p - 63));
  dtheta = 30 * exp (-pow ((h_bar_p - 275) / 25, 2));
  c_bar_p7 = pow (c_bar_p, 7);
  rc = 2 * sqrt (c_bar_p7 / (c_bar_p7 + pow25_7));
  sl = 1 + 0.015 * pow (l_bar - 50, 2) / sqrt (20 + pow (l_bar - 50, 2));
  sc = 1 + 0.045 * c_bar_p;
  sh = 1 + 0.015 * c_bar_p * t;
  rt = -sin (rad (2 * dtheta)) * rc;

  return sqrt (pow (dl / sl, 2) + pow (dc / sc, 2) + pow (dh / sh, 2) +
               rt * (dc / sc) * (dh / sh));
}
