/* SPDX-License-Identifier: GPL-3.0-or-later */
/* catena:recolor against a straightforward double-precision reference written here from the
 * documented maths, dominant-hue analysis, classical background removal and the backdrop. */
#include "config.h"

#include <math.h>
#include <string.h>

#include "catena-engine.h"
#include "catena-ops.h"

#define FMT "R'G'B'A float"

/* ---- helpers ---------------------------------------------------------------------------- */

static GeglBuffer *
buffer_from_pixels (const float *pixels,
                    int          width,
                    int          height)
{
  GeglRectangle rect = { 0, 0, width, height };
  GeglBuffer *buffer = gegl_buffer_new (&rect, babl_format (FMT));

  gegl_buffer_set (buffer, &rect, 0, babl_format (FMT), pixels, GEGL_AUTO_ROWSTRIDE);
  return buffer;
}

static float *
buffer_pixels (GeglBuffer *buffer,
               const char *format)
{
  const GeglRectangle *r = gegl_buffer_get_extent (buffer);
  float *pixels = g_new (float, (gsize) r->width * r->height * 4);

  gegl_buffer_get (buffer, r, 1.0, babl_format (format), pixels, GEGL_AUTO_ROWSTRIDE,
                   GEGL_ABYSS_NONE);
  return pixels;
}

/* Renders catena:recolor over @n pixels with the given property list. */
static float *
recolor (const float *pixels,
         int          n,
         const char  *first_property,
         ...)
{
  g_autoptr (GeglBuffer) in = buffer_from_pixels (pixels, n, 1);
  g_autoptr (GeglNode) graph = gegl_node_new ();
  GeglNode *source = gegl_node_new_child (graph, "operation", "gegl:buffer-source",
                                          "buffer", in, NULL);
  GeglNode *op = gegl_node_new_child (graph, "operation", "catena:recolor", NULL);
  float *out = g_new (float, (gsize) n * 4);
  va_list args;

  va_start (args, first_property);
  if (first_property != NULL)
    gegl_node_set_valist (op, first_property, args);
  va_end (args);
  gegl_node_link (source, op);
  gegl_node_blit (op, 1.0, GEGL_RECTANGLE (0, 0, n, 1), babl_format (FMT), out,
                  GEGL_AUTO_ROWSTRIDE, GEGL_BLIT_DEFAULT);
  return out;
}

/* Test colours: a seeded random set over [−0.05, 1.1] (out-of-range values exercise the exact
 * paths), the dark toe, and the primaries. */
#define N_TEST_PIXELS 4096
static float *
test_pixels (void)
{
  g_autoptr (GRand) rand = g_rand_new_with_seed (42);
  float *p = g_new (float, N_TEST_PIXELS * 4);
  static const float fixed[][3] = {
    { 0, 0, 0 }, { 1, 1, 1 }, { 0.5f, 0.5f, 0.5f }, { 1, 0, 0 }, { 0, 1, 0 }, { 0, 0, 1 },
    { 0.01f, 0.02f, 0.03f }, { 0.04f, 0.05f, 0.002f }, { 1.1f, 0.2f, -0.05f },
  };

  for (int i = 0; i < N_TEST_PIXELS; i++)
    {
      for (int c = 0; c < 3; c++)
        p[i * 4 + c] = i < (int) G_N_ELEMENTS (fixed) ? fixed[i][c]
                       : i % 3 == 0 ? (float) g_rand_double_range (rand, 0, 0.1)
                       : (float) g_rand_double_range (rand, -0.05, 1.1);
      p[i * 4 + 3] = (float) g_rand_double (rand);
    }
  return p;
}

/* ---- reference ---------------------------------------------------------------------------- */

typedef struct
{
  double hue, saturation, temperature, tint, exposure, contrast;
  double target_hue, source_hue, brand_strength, hue_window;
} Params;

static double
ref_decode (double v)
{
  double a = fabs (v), r = a <= 0.04045 ? a / 12.92 : pow ((a + 0.055) / 1.055, 2.4);
  return copysign (r, v);
}

static double
ref_encode (double v)
{
  double a = fabs (v), r = a <= 0.0031308 ? a * 12.92 : 1.055 * pow (a, 1 / 2.4) - 0.055;
  return copysign (r, v);
}

/* Rodrigues rotation of an RGB vector about the grey axis. */
static void
ref_rotate_grey (double rgb[3],
                 double degrees)
{
  double th = degrees * G_PI / 180, k = 1 / sqrt (3.0);
  double c = cos (th), s = sin (th), dot = (rgb[0] + rgb[1] + rgb[2]) * k;
  double cross[3] = { k * (rgb[2] - rgb[1]), k * (rgb[0] - rgb[2]), k * (rgb[1] - rgb[0]) };

  for (int i = 0; i < 3; i++)
    rgb[i] = rgb[i] * c + cross[i] * s + k * dot * (1 - c);
}

static double
ref_hue (const double rgb[3])
{
  double h = atan2 (sqrt (3.0) / 2 * (rgb[1] - rgb[2]), rgb[0] - (rgb[1] + rgb[2]) / 2);
  return h * 180 / G_PI;
}

static void
reference (const Params *p,
           const float  *in,
           double        out[3])
{
  double rgb[3] = { in[0], in[1], in[2] };

  if (p->brand_strength > 0)
    {
      double delta = remainder (p->target_hue - p->source_hue, 360);
      double d = fabs (remainder (ref_hue (rgb) - p->source_hue, 360));
      double lo = p->hue_window / 4, hi = p->hue_window / 2, s = (d - lo) / (hi - lo), w;

      /* full weight in the inner half of the window, a smoothstep down to 0 at its edge */
      w = d <= lo ? 1 : d >= hi ? 0 : 1 - s * s * (3 - 2 * s);
      if (rgb[0] != rgb[1] || rgb[1] != rgb[2])
        ref_rotate_grey (rgb, p->brand_strength * w * delta);
    }

  {
    double t = p->temperature / 200, g = p->tint / 200;
    double gain[3] = { exp2 (t + g / 2), exp2 (-g), exp2 (-t + g / 2) };
    double white = 0.2126 * gain[0] + 0.7152 * gain[1] + 0.0722 * gain[2];

    for (int c = 0; c < 3; c++)
      {
        double lin = ref_decode (rgb[c]) * gain[c] / white * exp2 (p->exposure);
        rgb[c] = (ref_encode (lin) - 0.5) * exp2 (p->contrast / 50) + 0.5;
      }
  }

  ref_rotate_grey (rgb, p->hue);
  {
    double f = 1 + p->saturation / 100;
    double luma = 0.2126 * rgb[0] + 0.7152 * rgb[1] + 0.0722 * rgb[2];

    for (int c = 0; c < 3; c++)
      out[c] = luma + f * (rgb[c] - luma);
  }
}

static double
max_error_against_reference (const Params *params)
{
  Params copy = *params, *p = &copy;
  g_autofree float *in = test_pixels ();
  g_autofree float *out = NULL;
  double worst = 0;

  if (p->hue_window == 0)
    p->hue_window = 60;
  out = recolor (in, N_TEST_PIXELS, "hue", p->hue, "saturation", p->saturation,
             "temperature", p->temperature, "tint", p->tint, "exposure", p->exposure,
             "contrast", p->contrast, "target-hue", p->target_hue, "source-hue", p->source_hue,
             "brand-strength", p->brand_strength, "hue-window", p->hue_window, NULL);

  for (int i = 0; i < N_TEST_PIXELS; i++)
    {
      double ref[3];

      reference (p, in + i * 4, ref);
      for (int c = 0; c < 3; c++)
        {
          /* relative above 1: exposure multiplies bright values */
          double e = fabs (out[i * 4 + c] - ref[c]) / MAX (1.0, fabs (ref[c]));

          if (e > worst)
            worst = e;
        }
      g_assert_cmpfloat (out[i * 4 + 3], ==, in[i * 4 + 3]);
    }
  return worst;
}

/* hue_window 0 stands for the op's default, 60° */
#define PARAMS(...) (&(Params) { __VA_ARGS__ })

/* ---- recolor tests ------------------------------------------------------------------------ */

static void
test_recolor_registered (void)
{
  g_assert_true (gegl_has_operation ("catena:recolor"));
  catena_ops_register ();  /* idempotent */
  g_assert_true (gegl_has_operation ("catena:recolor"));
}

static void
test_recolor_identity (void)
{
  g_autofree float *in = test_pixels ();
  g_autofree float *out = recolor (in, N_TEST_PIXELS, NULL);

  for (int i = 0; i < N_TEST_PIXELS * 4; i++)
    g_assert_cmpfloat_with_epsilon (out[i], in[i], 1e-5);

  /* brand match with the target equal to the source is no change either */
  g_free (out);
  out = recolor (in, N_TEST_PIXELS, "brand-strength", 1.0, "source-hue", 30.0,
                 "target-hue", 30.0, NULL);
  for (int i = 0; i < N_TEST_PIXELS * 4; i++)
    g_assert_cmpfloat_with_epsilon (out[i], in[i], 1e-5);
}

/* Tolerances: tone and matrix are float maths plus a tabulated dark toe: 2e-4 (relative above
 * 1). The brand weight is tabulated in 1024 steps, 3e-3 covers the rotation quantisation. */
static void
test_recolor_exposure (void)
{
  float in[] = { 0.2f, 0.5f, 0.8f, 1, 0.001f, 0.03f, 0.99f, 1 };
  g_autofree float *out = recolor (in, 2, "exposure", 1.0, NULL);
  g_autoptr (GeglBuffer) bin = buffer_from_pixels (in, 2, 1);
  g_autoptr (GeglBuffer) bout = buffer_from_pixels (out, 2, 1);
  g_autofree float *lin_in = buffer_pixels (bin, "RGBA float");
  g_autofree float *lin_out = buffer_pixels (bout, "RGBA float");

  /* +1 EV doubles linear light */
  for (int i = 0; i < 2; i++)
    for (int c = 0; c < 3; c++)
      g_assert_cmpfloat_with_epsilon (lin_out[i * 4 + c], 2 * lin_in[i * 4 + c],
                                      2e-4 * MAX (1, lin_out[i * 4 + c]));

  g_assert_cmpfloat (max_error_against_reference (PARAMS (.exposure = 1.7)), <, 2e-4);
  g_assert_cmpfloat (max_error_against_reference (PARAMS (.exposure = -4.5)), <, 2e-4);
}

static void
test_recolor_white_balance (void)
{
  g_autofree float *out = NULL;
  float grey[] = { 0.5f, 0.5f, 0.5f, 1 };

  g_assert_cmpfloat (max_error_against_reference (PARAMS (.temperature = 60)), <, 2e-4);
  g_assert_cmpfloat (max_error_against_reference (PARAMS (.temperature = -100)), <, 2e-4);
  g_assert_cmpfloat (max_error_against_reference (PARAMS (.tint = 45)), <, 2e-4);
  g_assert_cmpfloat (max_error_against_reference (PARAMS (.tint = -80)), <, 2e-4);

  /* warm means redder than bluer */
  out = recolor (grey, 1, "temperature", 50.0, NULL);
  g_assert_cmpfloat (out[0], >, 0.52);
  g_assert_cmpfloat (out[2], <, 0.48);
}

static void
test_recolor_contrast (void)
{
  float in[] = { 0.5f, 0.5f, 0.5f, 1, 0.7f, 0.7f, 0.7f, 1 };
  g_autofree float *out = recolor (in, 2, "contrast", 50.0, NULL);

  g_assert_cmpfloat_with_epsilon (out[0], 0.5, 1e-5);  /* mid-grey is the pivot */
  g_assert_cmpfloat_with_epsilon (out[4], 0.9, 1e-4);  /* slope 2 at +50 */
  g_assert_cmpfloat (max_error_against_reference (PARAMS (.contrast = 35)), <, 2e-4);
  g_assert_cmpfloat (max_error_against_reference (PARAMS (.contrast = -100)), <, 2e-4);
}

static void
test_recolor_saturation (void)
{
  float in[] = { 0.9f, 0.3f, 0.1f, 1 };
  g_autofree float *out = recolor (in, 1, "saturation", -100.0, NULL);

  g_assert_cmpfloat_with_epsilon (out[0], out[1], 1e-5);
  g_assert_cmpfloat_with_epsilon (out[1], out[2], 1e-5);
  g_assert_cmpfloat (max_error_against_reference (PARAMS (.saturation = 40)), <, 2e-4);
  g_assert_cmpfloat (max_error_against_reference (PARAMS (.saturation = -70)), <, 2e-4);
}

static void
test_recolor_hue (void)
{
  float red[] = { 1, 0, 0, 1 };
  g_autofree float *out = recolor (red, 1, "hue", 120.0, NULL);

  g_assert_cmpfloat_with_epsilon (out[0], 0, 1e-5);
  g_assert_cmpfloat_with_epsilon (out[1], 1, 1e-5);
  g_assert_cmpfloat_with_epsilon (out[2], 0, 1e-5);
  g_assert_cmpfloat (max_error_against_reference (PARAMS (.hue = 33)), <, 2e-4);
  g_assert_cmpfloat (max_error_against_reference (PARAMS (.hue = -170)), <, 2e-4);
}

static void
test_recolor_combined (void)
{
  g_assert_cmpfloat (max_error_against_reference (PARAMS (.hue = 12, .saturation = 25,
                                                          .temperature = -30, .tint = 10,
                                                          .exposure = 0.7, .contrast = 20)),
                     <, 2e-4);
  g_assert_cmpfloat (max_error_against_reference (PARAMS (.source_hue = 10, .target_hue = 220,
                                                          .brand_strength = 0.8,
                                                          .hue_window = 90, .exposure = 0.3,
                                                          .saturation = 10)),
                     <, 3e-3);
  /* a window wider than 180° takes the atan2 path */
  g_assert_cmpfloat (max_error_against_reference (PARAMS (.source_hue = 300, .target_hue = 100,
                                                          .brand_strength = 1,
                                                          .hue_window = 240)),
                     <, 3e-3);
}

/* A red product on a grey backdrop: the product goes blue, the backdrop does not move. */
static void
test_recolor_brand_match (void)
{
  const int w = 64, h = 64;
  g_autofree float *img = g_new (float, w * h * 4);
  g_autoptr (GeglBuffer) buffer = NULL;
  g_autofree float *out = NULL;
  double source, confidence, target, rgb[3];

  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++)
      {
        float *p = img + (y * w + x) * 4;
        gboolean product = abs (x - 32) < 16 && abs (y - 32) < 20;
        float shade = 0.6f + 0.3f * x / w;

        p[0] = product ? 0.85f * shade : 0.55f;
        p[1] = product ? 0.12f * shade : 0.55f;
        p[2] = product ? 0.10f * shade : 0.55f;
        p[3] = 1;
      }
  buffer = buffer_from_pixels (img, w * h, 1);
  g_assert_true (catena_analyze_dominant_hue (buffer, NULL, &source, &confidence));
  g_assert_cmpfloat (fabs (remainder (source - 1.2, 360)), <, 3);
  g_assert_cmpfloat (confidence, >, 0.9);

  target = catena_rgb_to_hue ((double[3]) { 0.1, 0.2, 0.8 });
  out = recolor (img, w * h, "brand-strength", 1.0, "source-hue", source, "target-hue",
                 target, "hue-window", 60.0, NULL);
  for (int i = 0; i < w * h; i++)
    {
      const float *p = img + i * 4, *q = out + i * 4;

      rgb[0] = q[0];
      rgb[1] = q[1];
      rgb[2] = q[2];
      if (p[0] == p[1] && p[1] == p[2])
        {
          for (int c = 0; c < 3; c++)
            g_assert_cmpfloat_with_epsilon (q[c], p[c], 1e-6);
        }
      else
        {
          g_assert_cmpfloat (fabs (remainder (catena_rgb_to_hue (rgb) - target, 360)), <, 3);
          g_assert_cmpfloat (q[2], >, q[0]);
        }
    }

  /* half strength: half way */
  g_free (out);
  out = recolor (img, w * h, "brand-strength", 0.5, "source-hue", source, "target-hue",
                 target, NULL);
  rgb[0] = out[(32 * w + 32) * 4];
  rgb[1] = out[(32 * w + 32) * 4 + 1];
  rgb[2] = out[(32 * w + 32) * 4 + 2];
  g_assert_cmpfloat (fabs (remainder (catena_rgb_to_hue (rgb)
                                      - (source + remainder (target - source, 360) / 2), 360)),
                     <, 3);
}

static void
test_analyze_dominant_hue (void)
{
  const int w = 40, h = 40;
  g_autofree float *img = g_new (float, w * h * 4);
  g_autoptr (GeglBuffer) buffer = NULL;
  double hue, confidence;

  /* a green product in a cut-out, on a transparent saturated-blue surround that must not
   * count */
  for (int i = 0; i < w * h; i++)
    {
      gboolean product = i % w > 10 && i % w < 30 && i / w > 10 && i / w < 30;
      float *p = img + i * 4;

      p[0] = product ? 0.2f : 0.0f;
      p[1] = product ? 0.7f : 0.0f;
      p[2] = product ? 0.2f : 1.0f;
      p[3] = product ? 1.0f : 0.0f;
    }
  buffer = buffer_from_pixels (img, w, h);
  g_assert_true (catena_analyze_dominant_hue (buffer, NULL, &hue, &confidence));
  g_assert_cmpfloat (fabs (hue - 120), <, 1);
  g_assert_cmpfloat (confidence, >, 0.95);

  /* the ROI restricts what is looked at: a corner is transparent only */
  g_assert_false (catena_analyze_dominant_hue (buffer, GEGL_RECTANGLE (0, 0, 8, 8), &hue,
                                               &confidence));
  g_assert_cmpfloat (confidence, ==, 0);

  /* grey has no hue */
  for (int i = 0; i < w * h * 4; i++)
    img[i] = 0.4f;
  g_object_unref (buffer);
  buffer = buffer_from_pixels (img, w, h);
  g_assert_false (catena_analyze_dominant_hue (buffer, NULL, &hue, &confidence));
  g_assert_cmpfloat (catena_rgb_to_hue ((double[3]) { 0.3, 0.3, 0.3 }), ==, -1);
  g_assert_cmpfloat_with_epsilon (catena_rgb_to_hue ((double[3]) { 0, 0, 1 }), 240, 1e-9);
}

/* ---- remove background -------------------------------------------------------------------- */

static gboolean
packshot_inside (double x,
                 double y)
{
  /* a bottle: rounded body and a cap */
  double bx = CLAMP (x, 250, 390), by = CLAMP (y, 150, 390);
  gboolean body = x >= 220 && x <= 420 && y >= 120 && y <= 420
                  && (x - bx) * (x - bx) + (y - by) * (y - by) <= 30 * 30;
  gboolean cap = (x - 320) * (x - 320) / (40.0 * 40) + (y - 100) * (y - 100) / (30.0 * 30) <= 1;

  return body || cap;
}

/* A packshot whose true mask is known: a bottle with a near-white label (the backdrop's own
 * colour, which must survive) on a grey gradient with noise and a faint contact shadow. */
static GeglBuffer *
make_packshot (guint8 **truth_out)
{
  const int w = 640, h = 480;
  g_autofree float *img = g_new (float, w * h * 4);
  guint8 *truth = g_new (guint8, w * h);
  g_autoptr (GRand) rand = g_rand_new_with_seed (7);

  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++)
      {
        float *p = img + (y * w + x) * 4;
        double bg = 0.96 - 0.14 * y / h - 0.03 * pow ((x - w / 2.0) / w, 2);
        double shadow = 0.06 * exp (-pow ((x - 320) / 110.0, 2) - pow ((y - 425) / 10.0, 2));
        int covered = 0;
        double obj[3];
        gboolean label = x >= 250 && x <= 390 && y >= 220 && y <= 320;
        gboolean in_cap = y < 130;

        for (int sy = 0; sy < 4; sy++)
          for (int sx = 0; sx < 4; sx++)
            covered += packshot_inside (x + (sx + 0.5) / 4, y + (sy + 0.5) / 4);
        obj[0] = in_cap ? 0.1 : label ? 0.93 : 0.15;
        obj[1] = in_cap ? 0.1 : label ? 0.93 : 0.30;
        obj[2] = in_cap ? 0.1 : label ? 0.92 : 0.70;
        for (int c = 0; c < 3; c++)
          {
            double noise = sqrt (-2 * log (g_rand_double_range (rand, 1e-9, 1)))
                           * cos (2 * G_PI * g_rand_double (rand)) * 0.01;
            double a = covered / 16.0;

            p[c] = (float) (a * obj[c] + (1 - a) * (bg - shadow) + noise);
          }
        p[3] = 1;
        truth[y * w + x] = covered >= 8;
      }
  *truth_out = truth;
  return buffer_from_pixels (img, w, h);
}

static double
iou (const float  *rgba,
     const guint8 *truth,
     int           n)
{
  guint64 inter = 0, uni = 0;

  for (int i = 0; i < n; i++)
    {
      gboolean pred = rgba[i * 4 + 3] > 0.5f;

      inter += pred && truth[i];
      uni += pred || truth[i];
    }
  return (double) inter / MAX (uni, 1);
}

static void
test_remove_background_packshot (void)
{
  g_autofree guint8 *truth = NULL;
  g_autoptr (GeglBuffer) in = make_packshot (&truth);
  g_autoptr (GeglBuffer) out = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree float *px = NULL;
  double score;

  out = catena_remove_background_classical (in, 10, 1, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (out);
  g_assert_true (gegl_rectangle_equal (gegl_buffer_get_extent (out),
                                       gegl_buffer_get_extent (in)));
  g_assert_true (gegl_buffer_get_format (out) == babl_format (FMT));
  px = buffer_pixels (out, FMT);
  score = iou (px, truth, 640 * 480);
  g_test_message ("packshot IoU %.4f", score);
  g_assert_cmpfloat (score, >=, 0.95);
  /* the white label inside the bottle stays opaque */
  g_assert_cmpfloat (px[(270 * 640 + 320) * 4 + 3], >, 0.99);
  /* backdrop corners and the shadow go */
  g_assert_cmpfloat (px[3], <, 0.01);
  g_assert_cmpfloat (px[(479 * 640 + 639) * 4 + 3], <, 0.01);
  g_assert_cmpfloat (px[(440 * 640 + 320) * 4 + 3], <, 0.05);
}

static GeglBuffer *
load_coffee (void)
{
  const char *path = "/usr/lib/python3/dist-packages/skimage/data/coffee.png";
  g_autoptr (GeglNode) graph = NULL;
  GeglNode *load;
  GeglBuffer *buffer = NULL;

  if (!g_file_test (path, G_FILE_TEST_EXISTS))
    return NULL;
  graph = gegl_node_new ();
  load = gegl_node_new_child (graph, "operation", "gegl:load", "path", path, NULL);
  {
    GeglRectangle r = gegl_node_get_bounding_box (load);

    buffer = gegl_buffer_new (&r, babl_format (FMT));
    gegl_node_blit_buffer (load, buffer, &r, 0, GEGL_ABYSS_NONE);
  }
  return buffer;
}

static void
test_remove_background_coffee (void)
{
  g_autoptr (GeglBuffer) in = load_coffee ();
  g_autoptr (GeglBuffer) out = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree float *px = NULL;
  const GeglRectangle *r;
  double mean = 0;

  if (in == NULL)
    {
      g_test_skip ("scikit-image's coffee.png is not installed");
      return;
    }
  r = gegl_buffer_get_extent (in);
  g_assert_cmpint (r->width, ==, 600);
  out = catena_remove_background_classical (in, 6, 1.5, NULL, &error);
  g_assert_no_error (error);
  px = buffer_pixels (out, FMT);
  for (int i = 0; i < r->width * r->height; i++)
    mean += px[i * 4 + 3];
  mean /= r->width * r->height;
  g_test_message ("coffee alpha mean %.3f", mean);
  /* a cup and saucer fill a good part of the frame, the table the rest */
  g_assert_cmpfloat (mean, >, 0.15);
  g_assert_cmpfloat (mean, <, 0.85);
  g_assert_cmpfloat (px[3], <, 0.1);
  g_assert_cmpfloat (px[(r->width - 1) * 4 + 3], <, 0.1);
  g_assert_cmpfloat (px[((r->height - 1) * r->width) * 4 + 3], <, 0.1);
  g_assert_cmpfloat (px[((r->height - 1) * r->width + r->width - 1) * 4 + 3], <, 0.1);
  /* the coffee in the middle of the cup is product */
  g_assert_cmpfloat (px[(140 * r->width + 290) * 4 + 3], >, 0.9);
}

static void
test_remove_background_errors (void)
{
  g_autofree guint8 *truth = NULL;
  g_autoptr (GeglBuffer) in = make_packshot (&truth);
  g_autoptr (GeglBuffer) empty = gegl_buffer_new (GEGL_RECTANGLE (0, 0, 0, 0),
                                                  babl_format (FMT));
  g_autoptr (GCancellable) cancellable = g_cancellable_new ();
  g_autoptr (GError) error = NULL;
  GeglBuffer *out;

  g_cancellable_cancel (cancellable);
  out = catena_remove_background_classical (in, 10, 1, cancellable, &error);
  g_assert_null (out);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_clear_error (&error);

  out = catena_remove_background_classical (NULL, 10, 1, NULL, &error);
  g_assert_null (out);
  g_assert_error (error, CATENA_STAGE_ERROR, CATENA_STAGE_ERROR_MISSING_INPUT);
  g_clear_error (&error);

  out = catena_remove_background_classical (empty, 10, 1, NULL, &error);
  g_assert_null (out);
  g_assert_error (error, CATENA_STAGE_ERROR, CATENA_STAGE_ERROR_INVALID_IMAGE);
}

/* Cancelling from the progress callback stops the run midway. */
static void
cancel_at_half (double   fraction,
                gpointer data)
{
  if (fraction >= 0.5)
    g_cancellable_cancel (data);
}

static void
test_remove_background_cancel_midway (void)
{
  g_autofree guint8 *truth = NULL;
  g_autoptr (GeglBuffer) in = make_packshot (&truth);
  g_autoptr (GCancellable) cancellable = g_cancellable_new ();
  g_autoptr (GError) error = NULL;
  GeglBuffer *out;

  out = catena_remove_background_classical_full (in, 10, 1, cancellable, cancel_at_half,
                                                 cancellable, &error);
  g_assert_null (out);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
}

/* ---- composite ---------------------------------------------------------------------------- */

/* A 300×200 cut-out: an opaque orange 60×100 block at (40, 30), transparent elsewhere. */
static GeglBuffer *
make_cutout (void)
{
  const int w = 300, h = 200;
  g_autofree float *img = g_new0 (float, w * h * 4);

  for (int y = 30; y < 130; y++)
    for (int x = 40; x < 100; x++)
      {
        float *p = img + (y * w + x) * 4;

        p[0] = 0.9f;
        p[1] = 0.5f;
        p[2] = 0.1f;
        p[3] = 1;
      }
  return buffer_from_pixels (img, w, h);
}

static void
bounds_where (const float *px,
              int          w,
              int          h,
              gboolean   (*is_product) (const float *p),
              int         *x0,
              int         *y0,
              int         *x1,
              int         *y1)
{
  *x0 = *y0 = G_MAXINT;
  *x1 = *y1 = -1;
  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++)
      if (is_product (px + (y * w + x) * 4))
        {
          *x0 = MIN (*x0, x);
          *y0 = MIN (*y0, y);
          *x1 = MAX (*x1, x);
          *y1 = MAX (*y1, y);
        }
}

static gboolean
is_opaque (const float *p)
{
  return p[3] > 0.5f;
}

static gboolean
is_orange (const float *p)
{
  return p[0] > 0.6f && p[2] < 0.4f;
}

static void
test_composite_solid (void)
{
  g_autoptr (GeglBuffer) cutout = make_cutout ();
  g_autoptr (GeglBuffer) out = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree float *px = NULL;
  CatenaBackdrop spec;
  int x0, y0, x1, y1;

  catena_backdrop_init_default (&spec);
  spec.color[0] = 0.2;
  spec.color[1] = 0.4;
  spec.color[2] = 0.6;
  spec.fill = 0.7;
  spec.shadow_strength = 0.5;
  out = catena_composite_backdrop (cutout, &spec, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (gegl_buffer_get_extent (out)->width, ==, 300);
  g_assert_cmpint (gegl_buffer_get_extent (out)->height, ==, 200);
  g_assert_true (gegl_buffer_get_format (out) == babl_format (FMT));
  px = buffer_pixels (out, FMT);

  for (int c = 0; c < 3; c++)
    {
      g_assert_cmpfloat_with_epsilon (px[c], spec.color[c], 1e-3);
      g_assert_cmpfloat_with_epsilon (px[(200 * 300 - 1) * 4 + c], spec.color[c], 1e-3);
    }
  g_assert_cmpfloat_with_epsilon (px[3], 1, 1e-5);

  /* the block is limited by height: 100 px → 70 % of 200 = 140 px, centred */
  bounds_where (px, 300, 200, is_orange, &x0, &y0, &x1, &y1);
  g_test_message ("product at %d,%d–%d,%d", x0, y0, x1, y1);
  g_assert_cmpfloat (fabs ((y1 - y0 + 1) / 200.0 - 0.7), <=, 0.02);
  g_assert_cmpfloat (fabs ((x0 + x1) / 2.0 - 149.5), <=, 2);
  g_assert_cmpfloat (fabs ((y0 + y1) / 2.0 - 99.5), <=, 2);

  /* the contact shadow: darker just under the product than at the corners */
  {
    const float *under = px + ((y1 + 3) * 300 + (x0 + x1) / 2) * 4;
    const float *corner = px + (199 * 300) * 4;

    g_assert_cmpfloat (under[0] + under[1] + under[2], <,
                       0.9 * (corner[0] + corner[1] + corner[2]));
  }
}

static void
test_composite_gradient_aspect (void)
{
  g_autoptr (GeglBuffer) cutout = make_cutout ();
  g_autoptr (GeglBuffer) out = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree float *px = NULL;
  CatenaBackdrop spec;
  int x0, y0, x1, y1;

  catena_backdrop_init_default (&spec);
  spec.kind = CATENA_BACKDROP_GRADIENT;
  memcpy (spec.color, (double[3]) { 0.2, 0.6, 0.9 }, sizeof spec.color);
  memcpy (spec.color2, (double[3]) { 0.1, 0.2, 0.9 }, sizeof spec.color2);
  spec.aspect = 1;
  spec.fill = 0.5;
  spec.shadow_strength = 0;
  out = catena_composite_backdrop (cutout, &spec, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (gegl_buffer_get_extent (out)->width, ==, 300);
  g_assert_cmpint (gegl_buffer_get_extent (out)->height, ==, 300);
  px = buffer_pixels (out, FMT);
  for (int c = 0; c < 3; c++)
    {
      g_assert_cmpfloat_with_epsilon (px[c], spec.color[c], 0.02);
      g_assert_cmpfloat_with_epsilon (px[(300 * 300 - 1) * 4 + c], spec.color2[c], 0.02);
    }
  bounds_where (px, 300, 300, is_orange, &x0, &y0, &x1, &y1);
  g_assert_cmpfloat (fabs ((y1 - y0 + 1) / 300.0 - 0.5), <=, 0.02);
}

static void
test_composite_transparent (void)
{
  g_autoptr (GeglBuffer) cutout = make_cutout ();
  g_autoptr (GeglBuffer) out = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree float *px = NULL;
  CatenaBackdrop spec;
  int x0, y0, x1, y1;

  catena_backdrop_init_default (&spec);
  spec.kind = CATENA_BACKDROP_TRANSPARENT;
  spec.aspect = 0.5;  /* portrait 150×300 */
  spec.fill = 0.9;
  spec.shadow_strength = 0;
  out = catena_composite_backdrop (cutout, &spec, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (gegl_buffer_get_extent (out)->width, ==, 150);
  g_assert_cmpint (gegl_buffer_get_extent (out)->height, ==, 300);
  px = buffer_pixels (out, FMT);
  g_assert_cmpfloat (px[3], <, 1e-5);
  /* 60×100 in 150×300: width limits (0.4 vs 0.33): 90 % of 150 = 135 px wide */
  bounds_where (px, 150, 300, is_opaque, &x0, &y0, &x1, &y1);
  g_assert_cmpfloat (fabs ((x1 - x0 + 1) / 150.0 - 0.9), <=, 0.02);
  g_assert_cmpfloat (fabs ((y1 - y0 + 1) / 300.0 - 0.9 * 150 / 60 * 100 / 300), <=, 0.02);
}

static void
test_composite_errors (void)
{
  g_autoptr (GeglBuffer) clear = gegl_buffer_new (GEGL_RECTANGLE (0, 0, 20, 20),
                                                  babl_format (FMT));
  g_autoptr (GeglBuffer) cutout = make_cutout ();
  g_autoptr (GCancellable) cancellable = g_cancellable_new ();
  g_autoptr (GError) error = NULL;

  g_assert_null (catena_composite_backdrop (clear, NULL, NULL, &error));
  g_assert_error (error, CATENA_STAGE_ERROR, CATENA_STAGE_ERROR_INVALID_IMAGE);
  g_clear_error (&error);
  g_assert_null (catena_composite_backdrop (NULL, NULL, NULL, &error));
  g_assert_error (error, CATENA_STAGE_ERROR, CATENA_STAGE_ERROR_MISSING_INPUT);
  g_clear_error (&error);
  g_cancellable_cancel (cancellable);
  g_assert_null (catena_composite_backdrop (cutout, NULL, cancellable, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
}

int
main (int    argc,
      char **argv)
{
  int ret;

  g_test_init (&argc, &argv, NULL);
  catena_engine_init ();
  catena_ops_register ();

  g_test_add_func ("/ops/recolor/registered", test_recolor_registered);
  g_test_add_func ("/ops/recolor/identity", test_recolor_identity);
  g_test_add_func ("/ops/recolor/exposure", test_recolor_exposure);
  g_test_add_func ("/ops/recolor/white-balance", test_recolor_white_balance);
  g_test_add_func ("/ops/recolor/contrast", test_recolor_contrast);
  g_test_add_func ("/ops/recolor/saturation", test_recolor_saturation);
  g_test_add_func ("/ops/recolor/hue", test_recolor_hue);
  g_test_add_func ("/ops/recolor/combined", test_recolor_combined);
  g_test_add_func ("/ops/recolor/brand-match", test_recolor_brand_match);
  g_test_add_func ("/ops/analyze/dominant-hue", test_analyze_dominant_hue);
  g_test_add_func ("/ops/remove-background/packshot", test_remove_background_packshot);
  g_test_add_func ("/ops/remove-background/coffee", test_remove_background_coffee);
  g_test_add_func ("/ops/remove-background/errors", test_remove_background_errors);
  g_test_add_func ("/ops/remove-background/cancel-midway", test_remove_background_cancel_midway);
  g_test_add_func ("/ops/composite/solid", test_composite_solid);
  g_test_add_func ("/ops/composite/gradient-aspect", test_composite_gradient_aspect);
  g_test_add_func ("/ops/composite/transparent", test_composite_transparent);
  g_test_add_func ("/ops/composite/errors", test_composite_errors);

  ret = g_test_run ();
  catena_engine_shutdown ();
  return ret;
}
