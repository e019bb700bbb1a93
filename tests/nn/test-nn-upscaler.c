/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The ESRGAN upscalers (@upscalerjs/esrgan-slim, esrgan-medium): tiling is seamless (tiles
 * equal the untiled result), every output pixel is written once, alpha, errors,
 * cancellation. Exits 77 (skipped) when the weights are not installed. */

#include "config.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "catena-nn.h"

static char *slim_x2, *medium_x4;

static float *
picture (int w, int h, gboolean with_alpha)
{
  float *p = g_new (float, (gsize) w * h * 4);

  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++)
      {
        float *q = p + ((gsize) y * w + x) * 4;

        q[0] = 0.5f + 0.4f * sinf (x * 0.3f) * cosf (y * 0.2f);
        q[1] = ((x / 7 + y / 5) % 2) ? 0.8f : 0.2f;
        q[2] = (float) x / w;
        q[3] = with_alpha ? CLAMP ((x - w / 3) / 10.f, 0.f, 1.f) : 1.f;
      }
  return p;
}

static float *
upscale (CatenaNnUpscaler *up, const float *in, int w, int h, int tile, int overlap)
{
  int s = catena_nn_upscaler_get_scale (up);
  float *out = g_new0 (float, (gsize) w * s * h * s * 4);
  g_autoptr (GError) error = NULL;

  g_assert_true (catena_nn_upscaler_run (up, in, w, h, w * 4, out, w * s * 4, tile, overlap,
                                         NULL, NULL, NULL, &error));
  g_assert_no_error (error);
  return out;
}

static double
max_diff (const float *a, const float *b, gsize n, int channel)
{
  double m = 0;

  for (gsize i = 0; i < n; i++)
    if (channel < 0 || (int) (i % 4) == channel)
      m = MAX (m, fabs (a[i] - b[i]));
  return m;
}

static void
test_seamless (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (CatenaNnUpscaler) up = catena_nn_upscaler_load (slim_x2, &error);
  const int w = 70, h = 53;
  g_autofree float *in = picture (w, h, TRUE);
  g_autofree float *whole = NULL, *tiled = NULL, *rough = NULL;
  gsize n;
  double d;

  g_assert_no_error (error);
  g_assert_cmpint (catena_nn_upscaler_get_scale (up), ==, 2);
  g_assert_cmpint (catena_nn_upscaler_get_receptive_radius (up), ==, 10);
  n = (gsize) w * 2 * h * 2 * 4;
  whole = upscale (up, in, w, h, 512, -1); /* one window */
  tiled = upscale (up, in, w, h, 32, -1);  /* 12-pixel cores, many windows, edge windows */
  d = max_diff (whole, tiled, n, -1);
  g_test_message ("tiles (32, overlap = radius 10) vs whole: max diff %.3g", d);
  g_assert_cmpfloat (d, <, 1e-5);
  /* less context than the receptive field: close, not exact */
  rough = upscale (up, in, w, h, 32, 4);
  d = max_diff (whole, rough, n, -1);
  g_test_message ("tiles (32, overlap 4) vs whole: max diff %.3g", d);
  g_assert_cmpfloat (d, <, 0.2);
  for (gsize i = 0; i < n; i++)
    g_assert_true (whole[i] >= 0.f && whole[i] <= 1.f);
}

typedef struct
{
  int w, h, s;
  guint8 *hits;
  int fail_after;
  int reads;
} Count;

static gboolean
count_read (int x, int y, int w, int h, float *rgba, int stride, gpointer data, GError **error)
{
  Count *c = data;

  g_assert_true (x >= 0 && y >= 0 && x + w <= c->w && y + h <= c->h);
  if (c->fail_after >= 0 && c->reads++ >= c->fail_after)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "the buffer went away");
      return FALSE;
    }
  for (int r = 0; r < h; r++)
    for (int i = 0; i < w * 4; i++)
      rgba[(gsize) r * stride + i] = (i % 4) == 3 ? 1.f : 0.25f;
  return TRUE;
}

static gboolean
count_write (int x, int y, int w, int h, const float *rgba, int stride, gpointer data,
             GError **error)
{
  Count *c = data;
  int ow = c->w * c->s;

  g_assert_true (x >= 0 && y >= 0 && x + w <= ow && y + h <= c->h * c->s);
  for (int r = 0; r < h; r++)
    for (int i = 0; i < w; i++)
      {
        c->hits[(gsize) (y + r) * ow + x + i]++;
        g_assert_cmpfloat (rgba[(gsize) r * stride + i * 4 + 3], ==, 1.f);
      }
  return TRUE;
}

static void
count_progress (double f, gpointer data)
{
  g_assert_true (f > 0 && f <= 1);
}

static void
test_stream (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (CatenaNnUpscaler) up = catena_nn_upscaler_load (slim_x2, &error);
  Count c = { 61, 47, 2, NULL, -1, 0 };

  g_assert_no_error (error);
  c.hits = g_malloc0 ((gsize) c.w * 2 * c.h * 2);
  g_assert_true (catena_nn_upscaler_process (up, c.w, c.h, 40, -1, count_read, count_write,
                                             count_progress, &c, NULL, &error));
  g_assert_no_error (error);
  for (gsize i = 0; i < (gsize) c.w * 2 * c.h * 2; i++)
    g_assert_cmpint (c.hits[i], ==, 1);

  /* a failing read stops the run with the caller's error */
  c.fail_after = 2;
  g_assert_false (catena_nn_upscaler_process (up, c.w, c.h, 40, -1, count_read, count_write,
                                              NULL, &c, NULL, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_FAILED);
  g_clear_error (&error);

  /* bad sizes */
  g_assert_false (catena_nn_upscaler_process (up, 0, 5, 0, -1, count_read, count_write, NULL,
                                              &c, NULL, &error));
  g_assert_error (error, CATENA_NN_ERROR, CATENA_NN_ERROR_INPUT);
  g_clear_error (&error);
  g_assert_false (catena_nn_upscaler_process (up, 100, 100, 20, -1, count_read, count_write,
                                              NULL, &c, NULL, &error));
  g_assert_error (error, CATENA_NN_ERROR, CATENA_NN_ERROR_INPUT);
  g_test_message ("%s", error->message);
  g_clear_error (&error);
  g_free (c.hits);
}

static void
test_alpha (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (CatenaNnUpscaler) up = catena_nn_upscaler_load (slim_x2, &error);
  const int w = 40, h = 30;
  g_autofree float *in = picture (w, h, TRUE);
  g_autofree float *out = upscale (up, in, w, h, 0, -1);
  g_autofree float *opaque_in = picture (w, h, FALSE);
  g_autofree float *opaque_out = upscale (up, opaque_in, w, h, 0, -1);

  for (int y = 0; y < h * 2; y++)
    for (int x = 0; x < w * 2; x++)
      {
        float a = out[((gsize) y * w * 2 + x) * 4 + 3];
        /* the ramp of the input, sampled at the output pixel's centre */
        float expect = CLAMP (((x + 0.5f) / 2 - 0.5f - w / 3) / 10.f, 0.f, 1.f);

        g_assert_cmpfloat (a, >=, 0.f);
        g_assert_cmpfloat (a, <=, 1.f);
        /* bicubic reproduces a ramp away from its kinks */
        g_assert_cmpfloat (fabsf (a - expect), <, 0.05f);
        g_assert_cmpfloat (opaque_out[((gsize) y * w * 2 + x) * 4 + 3], ==, 1.f);
      }
  /* colour does not depend on alpha */
  g_assert_cmpfloat (max_diff (out, opaque_out, (gsize) w * h * 16, 0), <, 1e-6);
}

static void
test_cancel (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (CatenaNnUpscaler) up = catena_nn_upscaler_load (slim_x2, &error);
  g_autoptr (GCancellable) cancel = g_cancellable_new ();
  g_autofree float *in = picture (20, 20, FALSE);
  g_autofree float *out = g_new (float, 40 * 40 * 4);

  g_cancellable_cancel (cancel);
  g_assert_false (catena_nn_upscaler_run (up, in, 20, 20, 80, out, 160, 0, -1, cancel, NULL,
                                          NULL, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
}

static void
test_medium (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (CatenaNnUpscaler) up = catena_nn_upscaler_load (medium_x4, &error);
  g_autofree float *in = picture (24, 20, FALSE);
  g_autofree float *out = NULL;
  double mean = 0;

  g_assert_no_error (error);
  g_assert_cmpint (catena_nn_upscaler_get_scale (up), ==, 4);
  g_assert_cmpint (catena_nn_upscaler_get_receptive_radius (up), ==, 18);
  out = upscale (up, in, 24, 20, 0, -1);
  /* an upscale keeps the picture: the mean red matches the input's */
  for (int i = 0; i < 96 * 80; i++)
    mean += out[i * 4];
  mean /= 96 * 80;
  {
    double in_mean = 0;

    for (int i = 0; i < 24 * 20; i++)
      in_mean += in[i * 4];
    in_mean /= 24 * 20;
    g_test_message ("mean red: in %.4f, out %.4f", in_mean, mean);
    g_assert_cmpfloat (fabs (mean - in_mean), <, 0.02);
  }
}

static void
test_missing (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (CatenaNnUpscaler) up = catena_nn_upscaler_load ("/nonexistent/esrgan", &error);
  g_autofree char *name = catena_nn_upscaler_model_name (CATENA_NN_ESRGAN_SLIM, 4);
  g_autofree char *msg = catena_nn_model_missing_message (name);

  g_assert_null (up);
  g_assert_error (error, CATENA_NN_ERROR, CATENA_NN_ERROR_MODEL_MISSING);
  g_assert_cmpstr (name, ==, "esrgan-slim-x4/model.json");
  g_assert_nonnull (strstr (msg, "fetch-models.sh"));
  g_assert_null (catena_nn_upscaler_model_name ("esrgan-huge", 4));
  g_assert_null (catena_nn_upscaler_model_name (CATENA_NN_ESRGAN_SLIM, 5));
  g_assert_null (catena_nn_find_model ("../esrgan-slim-x4/model.json"));
  g_assert_null (catena_nn_find_model ("/etc/passwd"));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  slim_x2 = catena_nn_find_upscaler (CATENA_NN_ESRGAN_SLIM, 2);
  medium_x4 = catena_nn_find_upscaler (CATENA_NN_ESRGAN_MEDIUM, 4);
  if (slim_x2 == NULL || medium_x4 == NULL)
    {
      g_autofree char *msg = catena_nn_model_missing_message ("esrgan-slim-x2/model.json");

      printf ("1..0 # SKIP %s\n", msg);
      return 77;
    }
  g_test_add_func ("/nn/upscaler/seamless", test_seamless);
  g_test_add_func ("/nn/upscaler/stream", test_stream);
  g_test_add_func ("/nn/upscaler/alpha", test_alpha);
  g_test_add_func ("/nn/upscaler/cancel", test_cancel);
  g_test_add_func ("/nn/upscaler/medium", test_medium);
  g_test_add_func ("/nn/upscaler/missing", test_missing);
  return g_test_run ();
}
