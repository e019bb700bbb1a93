/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ISNet background removal end to end. Skips (77) when the weights are not installed:
 * build-aux/fetch-models.sh fetches them. Correctness against onnxruntime is checked by
 * build-aux/check-isnet-vs-ort.sh (it needs npm). */

#include "config.h"

#include <string.h>

#include "catena-nn.h"

static char *model_path;
static CatenaNnIsnet *isnet;

/* A warm disc on a cool, darker background. */
static guint8 *
picture (int w, int h, int stride)
{
  guint8 *px = g_malloc0 ((gsize) stride * h);

  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++)
      {
        guint8 *p = px + (gsize) y * stride + x * 4;
        int dx = x - w / 2, dy = y - h / 2;
        gboolean in = dx * dx + dy * dy < (h / 3) * (h / 3);

        p[0] = in ? 230 : 30;
        p[1] = in ? 150 : 60 + y % 40;
        p[2] = in ? 60 : 120;
        p[3] = 255;
      }
  return px;
}

static void
test_missing_model (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *msg = catena_nn_model_missing_message (CATENA_NN_ISNET_MODEL);

  g_assert_nonnull (strstr (msg, "fetch-models.sh"));
  g_assert_null (catena_nn_isnet_load (NULL, &error));
  g_assert_error (error, CATENA_NN_ERROR, CATENA_NN_ERROR_MODEL_MISSING);
  g_clear_error (&error);
  g_assert_null (catena_nn_find_model ("../etc/passwd"));
  g_assert_null (catena_nn_find_model ("no-such-model.onnx"));
}

static void
test_run (void)
{
  g_autoptr (GError) error = NULL;
  const int w = 300, h = 200, stride = 300 * 4 + 16;
  g_autofree guint8 *px = picture (w, h, stride);
  g_autofree guint8 *a1 = g_malloc ((gsize) w * h), *a2 = g_malloc ((gsize) w * h);
  const float *raw;
  gint64 t0;
  double in_sum = 0, out_sum = 0;
  int in_n = 0, out_n = 0;

  t0 = g_get_monotonic_time ();
  g_assert_true (catena_nn_isnet_run (isnet, px, w, h, stride, a1, NULL, &error));
  g_assert_no_error (error);
  g_test_message ("ISNet run: %.0f ms", (g_get_monotonic_time () - t0) / 1000.0);
  raw = catena_nn_isnet_get_raw_output (isnet);
  g_assert_nonnull (raw);
  for (int i = 0; i < 1024 * 1024; i++)
    g_assert_true (raw[i] >= 0.f && raw[i] <= 1.f);
  /* the disc is the subject: more opaque inside than outside */
  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++)
      {
        int dx = x - w / 2, dy = y - h / 2, d2 = dx * dx + dy * dy;

        if (d2 < (h / 4) * (h / 4))
          in_sum += a1[y * w + x], in_n++;
        else if (d2 > (h / 2) * (h / 2))
          out_sum += a1[y * w + x], out_n++;
      }
  g_test_message ("mean alpha inside %.1f, outside %.1f", in_sum / in_n, out_sum / out_n);
  g_assert_cmpfloat (in_sum / in_n, >, out_sum / out_n + 64);
  /* deterministic */
  g_assert_true (catena_nn_isnet_run (isnet, px, w, h, stride, a2, NULL, &error));
  g_assert_cmpmem (a1, (gsize) w * h, a2, (gsize) w * h);
}

static void
test_bad_input (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GCancellable) cancel = g_cancellable_new ();
  guint8 px[16] = { 0 }, alpha[4];

  g_assert_false (catena_nn_isnet_run (isnet, px, 0, 2, 8, alpha, NULL, &error));
  g_assert_error (error, CATENA_NN_ERROR, CATENA_NN_ERROR_INPUT);
  g_clear_error (&error);
  g_assert_false (catena_nn_isnet_run (isnet, px, 2, 2, 4, alpha, NULL, &error));
  g_assert_error (error, CATENA_NN_ERROR, CATENA_NN_ERROR_INPUT);
  g_clear_error (&error);
  g_cancellable_cancel (cancel);
  g_assert_false (catena_nn_isnet_run (isnet, px, 2, 2, 8, alpha, cancel, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
}

int
main (int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  int ret;

  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/nn/isnet/missing-model", test_missing_model);
  model_path = catena_nn_find_model (CATENA_NN_ISNET_MODEL);
  if (model_path == NULL)
    {
      g_autofree char *msg = catena_nn_model_missing_message (CATENA_NN_ISNET_MODEL);

      /* meson reads 77 as a skipped test */
      g_printerr ("SKIP: %s\n", msg);
      return 77;
    }
  isnet = catena_nn_isnet_load (model_path, &error);
  g_assert_no_error (error);
  g_test_add_func ("/nn/isnet/run", test_run);
  g_test_add_func ("/nn/isnet/bad-input", test_bad_input);
  ret = g_test_run ();
  catena_nn_isnet_free (isnet);
  g_free (model_path);
  return ret;
}
