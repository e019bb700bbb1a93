/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Where local models run: the process-wide choice (catena_nn_set_device, $CATENA_DEVICE), its
 * description, the reports the UI and CLI show, and the fallbacks: a GPU that fails runs the
 * model on the CPU with a reason; a GPU that runs out of memory makes the upscaler retry with
 * smaller tiles first. A stand-in executor (nn_device_set_test_executor) plays the GPU, so
 * all of this runs in every build, with or without a device; test-nn-cuda compares the real
 * CUDA kernels when one exists. */

#include "config.h"

#include <math.h>
#include <string.h>

#include "catena-nn-private.h"
#include "nn-test-onnx.h"

/* ---- a stand-in GPU ---- */

typedef enum
{
  FAKE_OK,          /* runs the graph (on the CPU) as if on the device */
  FAKE_OOM_ABOVE,   /* out of memory for windows above max_pixels */
  FAKE_OOM_ALWAYS,
  FAKE_FAIL_SECOND, /* a driver error on the second call */
  FAKE_FAIL_ALWAYS, /* a driver error on every call */
} FakeMode;

static struct
{
  FakeMode mode;
  gint64 max_pixels;
  int calls, oom_calls, ran;
  gint64 largest_ran;
} fake;

static gboolean
fake_gpu (CatenaNnGraph *graph,
          CatenaNnTensor *const *inputs,
          CatenaNnTensor **outputs,
          GCancellable *cancellable,
          GError **error)
{
  gint64 pixels = inputs[0]->ndim == 4 ? inputs[0]->dims[2] * inputs[0]->dims[3] : 0;

  fake.calls++;
  if (fake.mode == FAKE_OOM_ALWAYS || (fake.mode == FAKE_OOM_ABOVE && pixels > fake.max_pixels))
    {
      fake.oom_calls++;
      g_set_error (error, CATENA_NN_ERROR, CATENA_NN_ERROR_DEVICE_MEMORY,
                   "Not enough GPU memory to run the model (%" G_GINT64_FORMAT " pixels)",
                   pixels);
      return FALSE;
    }
  if ((fake.mode == FAKE_FAIL_SECOND && fake.calls == 2) || fake.mode == FAKE_FAIL_ALWAYS)
    {
      g_set_error_literal (error, CATENA_NN_ERROR, CATENA_NN_ERROR_DEVICE,
                           "CUDA error in the model's kernels: an illegal memory access");
      return FALSE;
    }
  if (!catena_nn_graph_run (graph, inputs, outputs, cancellable, error))
    return FALSE;
  fake.ran++;
  fake.largest_ran = MAX (fake.largest_ran, pixels);
  return TRUE;
}

static void
fake_start (FakeMode mode, gint64 max_pixels)
{
  memset (&fake, 0, sizeof fake);
  fake.mode = mode;
  fake.max_pixels = max_pixels;
  nn_device_set_test_executor (fake_gpu, "Fake GPU (test)");
}

/* ---- what the notify saw ---- */

static struct
{
  int n;
  CatenaNnDevice used;
  GError *fallback;
} seen;

static void
on_model_ran (CatenaNnDevice used, const GError *fallback, gpointer user_data)
{
  g_assert_true (user_data == &seen);
  seen.n++;
  seen.used = used;
  g_clear_error (&seen.fallback);
  seen.fallback = fallback != NULL ? g_error_copy (fallback) : NULL;
}

static void
seen_reset (void)
{
  g_clear_error (&seen.fallback);
  memset (&seen, 0, sizeof seen);
}

/* Leaves the process as the next test expects it. */
static void
restore (void)
{
  nn_device_set_test_executor (NULL, NULL);
  catena_nn_set_device (CATENA_NN_DEVICE_AUTO);
  seen_reset ();
}

/* ---- a small model ---- */

static CatenaNnGraph *
sigmoid_graph (void)
{
  g_autoptr (GError) error = NULL;
  Tb *tb = tb_new (13);
  CatenaNnGraph *g;

  tb_input (tb, "x", CATENA_NN_DTYPE_FLOAT, 4, (gint64[]) { 1, 2, 5, 7 });
  tb_node (tb, "Sigmoid", "x", "y");
  tb_output (tb, "y", CATENA_NN_DTYPE_FLOAT);
  g = tb_load (tb, NULL, &error);
  g_assert_no_error (error);
  tb_free (tb);
  return g;
}

static CatenaNnTensor *
ramp (int ndim, const gint64 *dims)
{
  g_autoptr (GError) error = NULL;
  CatenaNnTensor *t = catena_nn_tensor_new (CATENA_NN_DTYPE_FLOAT, ndim, dims, &error);

  g_assert_no_error (error);
  for (gsize i = 0; i < t->n_elements; i++)
    ((float *) t->data)[i] = (float) sin (i * 0.37);
  return t;
}

/* ---- the choice ---- */

static void
test_strings (void)
{
  CatenaNnDevice d = CATENA_NN_DEVICE_CPU;

  g_assert_true (catena_nn_device_from_string ("cuda", &d));
  g_assert_cmpint (d, ==, CATENA_NN_DEVICE_CUDA);
  g_assert_true (catena_nn_device_from_string ("GPU", &d));
  g_assert_cmpint (d, ==, CATENA_NN_DEVICE_CUDA);
  g_assert_true (catena_nn_device_from_string ("Auto", &d));
  g_assert_cmpint (d, ==, CATENA_NN_DEVICE_AUTO);
  g_assert_true (catena_nn_device_from_string ("cpu", &d));
  g_assert_cmpint (d, ==, CATENA_NN_DEVICE_CPU);
  g_assert_false (catena_nn_device_from_string ("tpu", &d));
  g_assert_false (catena_nn_device_from_string ("", &d));
  g_assert_false (catena_nn_device_from_string (NULL, &d));
  g_assert_cmpint (d, ==, CATENA_NN_DEVICE_CPU); /* untouched on failure */
  for (int i = CATENA_NN_DEVICE_CPU; i <= CATENA_NN_DEVICE_AUTO; i++)
    {
      g_assert_true (catena_nn_device_from_string (catena_nn_device_to_string (i), &d));
      g_assert_cmpint (d, ==, i);
    }
}

static void
test_env (void)
{
  if (g_test_subprocess ())
    {
      const char *value = g_getenv ("CATENA_TEST_DEVICE_VALUE");

      g_setenv ("CATENA_DEVICE", value, TRUE);
      g_print ("device=%s\n", catena_nn_device_to_string (catena_nn_get_device ()));
      /* an explicit choice wins over the variable */
      catena_nn_set_device (CATENA_NN_DEVICE_CUDA);
      g_print ("after set=%s\n", catena_nn_device_to_string (catena_nn_get_device ()));
      return;
    }
  {
    static const char *const cases[][2] = {
      { "cpu", "device=cpu\n*" }, { "CUDA", "device=cuda\n*" }, { "auto", "device=auto\n*" }
    };

    /* the subprocess inherits the environment; it sets CATENA_DEVICE itself */
    for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
      {
        g_setenv ("CATENA_TEST_DEVICE_VALUE", cases[i][0], TRUE);
        g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
        g_test_trap_assert_passed ();
        g_test_trap_assert_stdout (cases[i][1]);
        g_test_trap_assert_stdout ("*after set=cuda*");
      }
  }
  /* a value that is not a device: a warning naming it (fatal in tests) */
  g_setenv ("CATENA_TEST_DEVICE_VALUE", "quantum", TRUE);
  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_failed ();
  g_test_trap_assert_stderr ("*CATENA_DEVICE=quantum is not cpu, cuda or auto*");
  g_unsetenv ("CATENA_TEST_DEVICE_VALUE");
}

/* Without a GPU (this machine, CI): AUTO is the CPU and nothing is reported as a failure;
 * CUDA asked explicitly falls back with a reason. */
static void
test_no_gpu (void)
{
  g_autoptr (CatenaNnGraph) g = sigmoid_graph ();
  g_autoptr (CatenaNnTensor) x = ramp (4, (gint64[]) { 1, 2, 5, 7 });
  g_autoptr (GError) error = NULL;
  g_autoptr (GError) fallback = NULL;
  g_autofree char *cpu = NULL, *autod = NULL, *why = NULL;
  CatenaNnTensor *out[1] = { NULL };
  CatenaNnDevice used = CATENA_NN_DEVICE_CUDA;

  if (catena_nn_cuda_available (NULL))
    {
      g_test_skip ("a CUDA device is present (test-nn-cuda covers it)");
      return;
    }
  g_assert_cmpint (catena_nn_device_resolve (CATENA_NN_DEVICE_AUTO), ==, CATENA_NN_DEVICE_CPU);
  g_assert_cmpint (catena_nn_device_resolve (CATENA_NN_DEVICE_CUDA), ==, CATENA_NN_DEVICE_CUDA);
  why = catena_nn_device_unavailable_reason ();
  g_assert_nonnull (why);
  cpu = catena_nn_device_describe (CATENA_NN_DEVICE_CPU);
  autod = catena_nn_device_describe (CATENA_NN_DEVICE_AUTO);
  g_test_message ("cpu: %s; auto: %s", cpu, autod);
  g_assert_true (g_str_has_prefix (cpu, "CPU, "));
  g_assert_nonnull (strstr (autod, why));

  g_assert_true (catena_nn_graph_run_device (g, CATENA_NN_DEVICE_AUTO, &x, out, &used,
                                             &fallback, NULL, &error));
  g_assert_no_error (error);
  g_assert_no_error (fallback);
  g_assert_cmpint (used, ==, CATENA_NN_DEVICE_CPU);
  g_clear_pointer (&out[0], catena_nn_tensor_unref);

  g_assert_true (catena_nn_graph_run_device (g, CATENA_NN_DEVICE_CUDA, &x, out, &used,
                                             &fallback, NULL, &error));
  g_assert_error (fallback, CATENA_NN_ERROR, CATENA_NN_ERROR_DEVICE);
  g_assert_cmpint (used, ==, CATENA_NN_DEVICE_CPU);
  g_clear_pointer (&out[0], catena_nn_tensor_unref);
}

static void
test_stand_in (void)
{
  g_autoptr (CatenaNnGraph) g = sigmoid_graph ();
  g_autoptr (CatenaNnTensor) x = ramp (4, (gint64[]) { 1, 2, 5, 7 });
  g_autoptr (GError) error = NULL;
  g_autoptr (GError) fallback = NULL;
  g_autofree char *name = NULL, *desc = NULL;
  CatenaNnTensor *out[1] = { NULL }, *ref[1] = { NULL };
  CatenaNnDevice used = CATENA_NN_DEVICE_CPU;

  g_assert_true (catena_nn_graph_run (g, &x, ref, NULL, &error));
  fake_start (FAKE_OK, 0);
  g_assert_true (catena_nn_cuda_available (&name));
  g_assert_cmpstr (name, ==, "Fake GPU (test)");
  desc = catena_nn_device_describe (CATENA_NN_DEVICE_AUTO);
  g_assert_cmpstr (desc, ==, "GPU: Fake GPU (test)");
  g_assert_null (catena_nn_device_unavailable_reason ());

  g_assert_true (catena_nn_graph_run_device (g, CATENA_NN_DEVICE_AUTO, &x, out, &used,
                                             &fallback, NULL, &error));
  g_assert_no_error (fallback);
  g_assert_cmpint (used, ==, CATENA_NN_DEVICE_CUDA);
  g_assert_cmpint (fake.ran, ==, 1);
  g_assert_cmpmem (out[0]->data, out[0]->nbytes, ref[0]->data, ref[0]->nbytes);
  g_clear_pointer (&out[0], catena_nn_tensor_unref);

  /* the CPU, when asked, never touches the device */
  g_assert_true (catena_nn_graph_run_device (g, CATENA_NN_DEVICE_CPU, &x, out, &used,
                                             &fallback, NULL, &error));
  g_assert_cmpint (used, ==, CATENA_NN_DEVICE_CPU);
  g_assert_cmpint (fake.calls, ==, 1);
  g_clear_pointer (&out[0], catena_nn_tensor_unref);

  /* out of memory, without a retry offered: the CPU, with the reason */
  fake.mode = FAKE_OOM_ALWAYS;
  g_assert_true (catena_nn_graph_run_device (g, CATENA_NN_DEVICE_AUTO, &x, out, &used,
                                             &fallback, NULL, &error));
  g_assert_error (fallback, CATENA_NN_ERROR, CATENA_NN_ERROR_DEVICE_MEMORY);
  g_assert_cmpint (used, ==, CATENA_NN_DEVICE_CPU);
  g_assert_cmpmem (out[0]->data, out[0]->nbytes, ref[0]->data, ref[0]->nbytes);
  g_clear_pointer (&out[0], catena_nn_tensor_unref);
  g_clear_error (&fallback);

  /* with a retry offered: nothing run, the caller decides */
  {
    gboolean oom = FALSE;

    g_assert_false (nn_graph_run_device_ex (g, CATENA_NN_DEVICE_CUDA, &x, out, &used, &oom,
                                            &fallback, NULL, &error));
    g_assert_no_error (error);
    g_assert_true (oom);
    g_assert_error (fallback, CATENA_NN_ERROR, CATENA_NN_ERROR_DEVICE_MEMORY);
    g_assert_null (out[0]);
  }
  catena_nn_tensor_unref (ref[0]);
  restore ();
}

/* ---- the models follow the choice ---- */

static char *slim_x2;

static float *
picture (int w, int h, gboolean with_alpha)
{
  float *p = g_new (float, (gsize) w * h * 4);

  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++)
      {
        float *q = p + ((gsize) y * w + x) * 4;

        q[0] = 0.5f + 0.5f * (float) sin (x * 0.21 + y * 0.05);
        q[1] = 0.5f + 0.5f * (float) cos (x * 0.03 - y * 0.17);
        q[2] = (float) ((x * 7 + y * 13) % 64) / 63.f;
        q[3] = with_alpha ? (float) (x + y) / (w + h) : 1.f;
      }
  return p;
}

static float *
upscale (CatenaNnUpscaler *up, const float *in, int w, int h)
{
  g_autoptr (GError) error = NULL;
  float *out = g_new (float, (gsize) w * 2 * h * 2 * 4);

  g_assert_true (catena_nn_upscaler_run (up, in, w, h, w * 4, out, w * 2 * 4, 0, -1, NULL, NULL,
                                         NULL, &error));
  g_assert_no_error (error);
  return out;
}

static double
max_diff (const float *a, const float *b, gsize n)
{
  double m = 0;

  for (gsize i = 0; i < n; i++)
    m = MAX (m, fabs ((double) a[i] - b[i]));
  return m;
}

static void
test_upscaler (void)
{
  const int w = 150, h = 130;
  const gsize n = (gsize) w * 2 * h * 2 * 4;
  g_autoptr (GError) error = NULL;
  g_autoptr (CatenaNnUpscaler) up = NULL;
  g_autofree float *in = picture (w, h, TRUE), *ref = NULL, *out = NULL;

  if (slim_x2 == NULL)
    {
      g_test_skip ("esrgan-slim-x2 is not installed (build-aux/fetch-models.sh)");
      return;
    }
  up = catena_nn_upscaler_load (slim_x2, &error);
  g_assert_no_error (error);
  g_assert_cmpint (catena_nn_upscaler_get_receptive_radius (up) * 2 + 8, <=, 128);
  catena_nn_set_device_notify (on_model_ran, &seen);

  /* the reference: the CPU, chosen; nothing asked of the (stand-in) GPU */
  fake_start (FAKE_OK, 0);
  catena_nn_set_device (CATENA_NN_DEVICE_CPU);
  ref = upscale (up, in, w, h);
  g_assert_cmpint (fake.calls, ==, 0);
  g_assert_cmpint (seen.n, ==, 1);
  g_assert_cmpint (seen.used, ==, CATENA_NN_DEVICE_CPU);
  g_assert_no_error (seen.fallback);

  /* AUTO with a GPU: one window (the picture is smaller than a GPU tile), on the device */
  seen_reset ();
  catena_nn_set_device (CATENA_NN_DEVICE_AUTO);
  out = upscale (up, in, w, h);
  g_assert_cmpint (fake.ran, ==, 1);
  g_assert_cmpint (fake.largest_ran, ==, (gint64) w * h);
  g_assert_cmpint (seen.n, ==, 1);
  g_assert_cmpint (seen.used, ==, CATENA_NN_DEVICE_CUDA);
  g_assert_no_error (seen.fallback);
  g_assert_cmpfloat (max_diff (out, ref, n), <=, 1e-5);
  g_clear_pointer (&out, g_free);

  /* out of memory above 128²: 512 and 256 windows fail before anything is written, 128
   * fits; seamless tiles give the same picture; the GPU is still what ran */
  seen_reset ();
  fake_start (FAKE_OOM_ABOVE, 128 * 128);
  catena_nn_set_device (CATENA_NN_DEVICE_CUDA);
  out = upscale (up, in, w, h);
  g_test_message ("OOM above 128²: %d calls, %d out of memory, %d ran, largest %" G_GINT64_FORMAT,
                  fake.calls, fake.oom_calls, fake.ran, fake.largest_ran);
  g_assert_cmpint (fake.oom_calls, ==, 2);
  g_assert_cmpint (fake.ran, >=, 4);
  g_assert_cmpint (fake.largest_ran, <=, 128 * 128);
  g_assert_cmpint (seen.n, ==, 1);
  g_assert_cmpint (seen.used, ==, CATENA_NN_DEVICE_CUDA);
  g_assert_cmpfloat (max_diff (out, ref, n), <=, 1e-4);
  g_clear_pointer (&out, g_free);

  /* never enough memory: halve down to the smallest useful tile, then the CPU, saying why */
  seen_reset ();
  fake_start (FAKE_OOM_ALWAYS, 0);
  out = upscale (up, in, w, h);
  g_test_message ("always OOM: %d tries before the CPU", fake.calls);
  g_assert_cmpint (fake.ran, ==, 0);
  g_assert_cmpint (fake.calls, >=, 3);
  g_assert_cmpint (seen.n, ==, 1);
  g_assert_cmpint (seen.used, ==, CATENA_NN_DEVICE_CPU);
  g_assert_error (seen.fallback, CATENA_NN_ERROR, CATENA_NN_ERROR_DEVICE_MEMORY);
  g_assert_cmpfloat (max_diff (out, ref, n), <=, 1e-5);
  g_clear_pointer (&out, g_free);

  /* a driver error on the first window: nothing was written, so the CPU starts again with
   * its own windows; the GPU is asked once */
  seen_reset ();
  fake_start (FAKE_FAIL_ALWAYS, 0);
  out = upscale (up, in, w, h);
  g_assert_cmpint (fake.calls, ==, 1);
  g_assert_cmpint (seen.n, ==, 1);
  g_assert_cmpint (seen.used, ==, CATENA_NN_DEVICE_CPU);
  g_assert_error (seen.fallback, CATENA_NN_ERROR, CATENA_NN_ERROR_DEVICE);
  g_assert_cmpfloat (max_diff (out, ref, n), <=, 1e-5);
  g_clear_pointer (&out, g_free);

  /* a driver error mid-way (96-pixel tiles: several windows): the rest on the CPU,
   * without asking the GPU again for every tile */
  seen_reset ();
  fake_start (FAKE_FAIL_SECOND, 0);
  {
    g_autofree float *tiled = g_new (float, n);

    g_assert_true (catena_nn_upscaler_run (up, in, w, h, w * 4, tiled, w * 2 * 4, 96, -1, NULL,
                                           NULL, NULL, &error));
    g_assert_no_error (error);
    g_assert_cmpint (fake.calls, ==, 2);
    g_assert_cmpint (fake.ran, ==, 1);
    g_assert_cmpint (seen.n, ==, 1);
    g_assert_cmpint (seen.used, ==, CATENA_NN_DEVICE_CPU);
    g_assert_error (seen.fallback, CATENA_NN_ERROR, CATENA_NN_ERROR_DEVICE);
    g_assert_cmpfloat (max_diff (tiled, ref, n), <=, 1e-4);
  }

  catena_nn_set_device_notify (NULL, NULL);
  restore ();
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  slim_x2 = catena_nn_find_upscaler (CATENA_NN_ESRGAN_SLIM, 2);

  g_test_add_func ("/nn/device/strings", test_strings);
  g_test_add_func ("/nn/device/env", test_env);
  g_test_add_func ("/nn/device/no-gpu", test_no_gpu);
  g_test_add_func ("/nn/device/stand-in", test_stand_in);
  g_test_add_func ("/nn/device/upscaler", test_upscaler);
  return g_test_run ();
}
