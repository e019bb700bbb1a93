/* SPDX-License-Identifier: GPL-3.0-or-later */
/* engine/nn's CUDA executor against the CPU path: every kernel on random inputs (relative L2
 * error ≤ 1e-5 in fp32), a graph mixing device and host nodes, and ISNet and ESRGAN end to
 * end when their weights are installed. Without a CUDA device (or in a build without CUDA)
 * the device tests are skipped with "no CUDA device", and what does run is the fallback
 * contract: catena_nn_graph_run_device () still answers, on the CPU, with a DEVICE reason. */

#include "config.h"

#include <math.h>

#include "nn-test-onnx.h"

static gboolean have_device;
static GRand *rng;

/* Without a device the kernel tests still build their models and run them on the CPU (so CI
 * checks the test models themselves), then report a skip. */
#define NEED_DEVICE()                                                                          \
  G_STMT_START                                                                                 \
  {                                                                                            \
    if (!have_device)                                                                          \
      g_test_skip ("no CUDA device");                                                          \
  }                                                                                            \
  G_STMT_END

/* Whole models are not worth a CPU-only run here (test-nn-isnet and -upscaler do that). */
#define NEED_DEVICE_OR_RETURN()                                                                \
  G_STMT_START                                                                                 \
  {                                                                                            \
    if (!have_device)                                                                          \
      {                                                                                        \
        g_test_skip ("no CUDA device");                                                        \
        return;                                                                                \
      }                                                                                        \
  }                                                                                            \
  G_STMT_END

static CatenaNnTensor *
random_tensor (CatenaNnDType dtype, int ndim, const gint64 *dims)
{
  g_autoptr (GError) error = NULL;
  CatenaNnTensor *t = catena_nn_tensor_new (dtype, ndim, dims, &error);

  g_assert_no_error (error);
  for (gsize i = 0; i < t->n_elements; i++)
    {
      float v = (float) g_rand_double_range (rng, -2, 2);

      if (dtype == CATENA_NN_DTYPE_FLOAT16)
        ((guint16 *) t->data)[i] = catena_nn_float_to_half (v);
      else
        ((float *) t->data)[i] = v;
    }
  return t;
}

static float *
random_floats (gsize n)
{
  float *p = g_new (float, n);

  for (gsize i = 0; i < n; i++)
    p[i] = (float) g_rand_double_range (rng, -1, 1);
  return p;
}

static double
value_at (const CatenaNnTensor *t, gsize i)
{
  if (t->dtype == CATENA_NN_DTYPE_FLOAT16)
    return catena_nn_half_to_float (((const guint16 *) t->data)[i]);
  return ((const float *) t->data)[i];
}

static double
relative_error (const CatenaNnTensor *out, const CatenaNnTensor *ref)
{
  double num = 0, den = 0;

  g_assert_cmpint (out->dtype, ==, ref->dtype);
  g_assert_cmpuint (out->n_elements, ==, ref->n_elements);
  for (gsize i = 0; i < ref->n_elements; i++)
    {
      double d = value_at (out, i) - value_at (ref, i);

      num += d * d;
      den += value_at (ref, i) * value_at (ref, i);
    }
  return den > 0 ? sqrt (num / den) : sqrt (num);
}

/* Runs g on the CPU and on the device (twice: the second run reuses the uploaded weights)
 * and compares every output. */
static void
compare_graph (CatenaNnGraph *g, CatenaNnTensor *const *inputs, const char *what, double tol)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GError) fallback = NULL;
  guint n_out = catena_nn_graph_get_n_outputs (g);
  g_autofree CatenaNnTensor **ref = g_new0 (CatenaNnTensor *, n_out);
  g_autofree CatenaNnTensor **dev = g_new0 (CatenaNnTensor *, n_out);
  CatenaNnDevice used = CATENA_NN_DEVICE_CPU;

  g_assert_true (catena_nn_graph_run (g, inputs, ref, NULL, &error));
  g_assert_no_error (error);
  for (int pass = 0; pass < 2 && have_device; pass++)
    {
      g_assert_true (catena_nn_graph_run_device (g, CATENA_NN_DEVICE_CUDA, inputs, dev, &used,
                                                 &fallback, NULL, &error));
      g_assert_no_error (error);
      g_assert_no_error (fallback);
      g_assert_cmpint (used, ==, CATENA_NN_DEVICE_CUDA);
      for (guint o = 0; o < n_out; o++)
        {
          double e = relative_error (dev[o], ref[o]);

          g_test_message ("%s output %u (pass %d): relative L2 error %.3g", what, o, pass, e);
          g_assert_cmpfloat (e, <=, tol);
          g_clear_pointer (&dev[o], catena_nn_tensor_unref);
        }
    }
  for (guint o = 0; o < n_out; o++)
    catena_nn_tensor_unref (ref[o]);
}

/* Loads tb's model (freeing tb), binds random inputs of the declared shapes, compares. */
static void
compare_model_tol (Tb *tb, const char *what, double tol)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (CatenaNnGraph) g = tb_load (tb, NULL, &error);
  guint n_in;
  g_autoptr (GPtrArray) inputs = g_ptr_array_new_with_free_func (
    (GDestroyNotify) catena_nn_tensor_unref);

  g_assert_no_error (error);
  tb_free (tb);
  n_in = catena_nn_graph_get_n_inputs (g);
  for (guint i = 0; i < n_in; i++)
    {
      CatenaNnDType dt;
      int ndim;
      const gint64 *dims;

      catena_nn_graph_get_input (g, i, &dt, &ndim, &dims);
      g_ptr_array_add (inputs, random_tensor (dt, ndim, dims));
    }
  compare_graph (g, (CatenaNnTensor *const *) inputs->pdata, what, tol);
}

static void
compare_model (Tb *tb, const char *what)
{
  compare_model_tol (tb, what, 1e-5);
}

/* ---- runs without a device too ---- */

static void
test_available (void)
{
  g_autofree char *name = NULL;
  gboolean ok = catena_nn_cuda_available (&name);

  g_assert_cmpint (ok, ==, have_device);
  if (ok)
    {
      g_assert_nonnull (name);
      g_test_message ("CUDA device: %s", name);
    }
  else
    g_assert_null (name);
  g_assert_cmpint (catena_nn_cuda_available (NULL), ==, ok);
}

static Tb *
conv_relu_model (void)
{
  Tb *tb = tb_new (13);
  gint64 xd[4] = { 1, 8, 17, 19 }, wd[4] = { 16, 8, 3, 3 }, bd[1] = { 16 };
  g_autofree float *w = random_floats (16 * 8 * 9), *b = random_floats (16);
  Onnx__NodeProto *n;

  tb_input (tb, "x", CATENA_NN_DTYPE_FLOAT, 4, xd);
  tb_init_float (tb, "w", 4, wd, w);
  tb_init_float (tb, "b", 1, bd, b);
  n = tb_node (tb, "Conv", "x,w,b", "c");
  tb_attr_ints (tb, n, "pads", 4, (gint64[]) { 1, 1, 1, 1 });
  tb_node (tb, "Relu", "c", "y");
  tb_output (tb, "y", CATENA_NN_DTYPE_FLOAT);
  return tb;
}

/* No device: the same answer on the CPU, and a reason the caller can show. */
static void
test_fallback (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GError) fallback = NULL;
  Tb *tb = conv_relu_model ();
  g_autoptr (CatenaNnGraph) g = tb_load (tb, NULL, &error);
  g_autoptr (CatenaNnTensor) x = random_tensor (CATENA_NN_DTYPE_FLOAT, 4,
                                                (gint64[]) { 1, 8, 17, 19 });
  CatenaNnTensor *ref[1] = { NULL }, *out[1] = { NULL };
  CatenaNnDevice used = CATENA_NN_DEVICE_CUDA;

  g_assert_no_error (error);
  tb_free (tb);
  g_assert_true (catena_nn_graph_run (g, &x, ref, NULL, &error));
  g_assert_true (catena_nn_graph_run_device (g, CATENA_NN_DEVICE_CUDA, &x, out, &used,
                                             &fallback, NULL, &error));
  g_assert_no_error (error);
  if (have_device)
    {
      g_assert_no_error (fallback);
      g_assert_cmpint (used, ==, CATENA_NN_DEVICE_CUDA);
      g_assert_cmpfloat (relative_error (out[0], ref[0]), <=, 1e-5);
    }
  else
    {
      g_assert_error (fallback, CATENA_NN_ERROR, CATENA_NN_ERROR_DEVICE);
      g_test_message ("fallback: %s", fallback->message);
      g_assert_cmpint (used, ==, CATENA_NN_DEVICE_CPU);
      g_assert_cmpmem (out[0]->data, out[0]->nbytes, ref[0]->data, ref[0]->nbytes);
    }
  catena_nn_tensor_unref (out[0]);
  catena_nn_tensor_unref (ref[0]);

  /* asking for the CPU never reports a fallback */
  g_clear_error (&fallback);
  g_assert_true (catena_nn_graph_run_device (g, CATENA_NN_DEVICE_CPU, &x, out, &used, &fallback,
                                             NULL, &error));
  g_assert_no_error (fallback);
  g_assert_cmpint (used, ==, CATENA_NN_DEVICE_CPU);
  catena_nn_tensor_unref (out[0]);
}

/* A bad input is the caller's error on either device, never a silent fallback. */
static void
test_bad_input (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GError) fallback = NULL;
  Tb *tb = conv_relu_model ();
  g_autoptr (CatenaNnGraph) g = tb_load (tb, NULL, &error);
  g_autoptr (CatenaNnTensor) x = random_tensor (CATENA_NN_DTYPE_FLOAT, 4,
                                                (gint64[]) { 1, 8, 17, 18 });
  CatenaNnTensor *out[1] = { NULL };

  g_assert_no_error (error);
  tb_free (tb);
  g_assert_false (catena_nn_graph_run_device (g, CATENA_NN_DEVICE_CUDA, &x, out, NULL,
                                              &fallback, NULL, &error));
  g_assert_error (error, CATENA_NN_ERROR, CATENA_NN_ERROR_INPUT);
  g_assert_null (out[0]);
}

/* ---- kernels (device only) ---- */

static void
test_unary (void)
{
  static const char *const ops[] = { "Relu", "Sigmoid", "Tanh", "LeakyRelu", "Clip" };
  gint64 xd[4] = { 2, 3, 37, 41 };

  NEED_DEVICE ();
  for (gsize i = 0; i < G_N_ELEMENTS (ops); i++)
    {
      Tb *tb = tb_new (13);
      Onnx__NodeProto *n;

      tb_input (tb, "x", CATENA_NN_DTYPE_FLOAT, 4, xd);
      if (g_str_equal (ops[i], "Clip"))
        {
          float lo = -0.5f, hi = 0.75f;

          tb_init_float (tb, "lo", 0, NULL, &lo);
          tb_init_float (tb, "hi", 0, NULL, &hi);
          tb_node (tb, "Clip", "x,lo,hi", "y");
        }
      else
        {
          n = tb_node (tb, ops[i], "x", "y");
          if (g_str_equal (ops[i], "LeakyRelu"))
            tb_attr_float (tb, n, "alpha", 0.2f);
        }
      tb_output (tb, "y", CATENA_NN_DTYPE_FLOAT);
      compare_model (tb, ops[i]);
    }
}

static void
test_binary (void)
{
  static const char *const ops[] = { "Add", "Sub", "Mul", "Div", "PRelu" };
  gint64 xd[4] = { 2, 5, 13, 17 }, bd[3] = { 5, 1, 1 };

  NEED_DEVICE ();
  for (gsize i = 0; i < G_N_ELEMENTS (ops); i++)
    {
      /* two full inputs */
      Tb *tb = tb_new (13);
      g_autofree float *b = random_floats (5);

      tb_input (tb, "a", CATENA_NN_DTYPE_FLOAT, 4, xd);
      tb_input (tb, "b", CATENA_NN_DTYPE_FLOAT, 4, xd);
      tb_node (tb, ops[i], "a,b", "y");
      tb_output (tb, "y", CATENA_NN_DTYPE_FLOAT);
      compare_model (tb, ops[i]);

      /* a per-channel constant, broadcast (the conv bias shape) */
      tb = tb_new (13);
      for (int k = 0; k < 5; k++)
        b[k] += 1.5f; /* away from 0 for Div */
      tb_input (tb, "a", CATENA_NN_DTYPE_FLOAT, 4, xd);
      tb_init_float (tb, "b", 3, bd, b);
      tb_node (tb, ops[i], "a,b", "y");
      tb_output (tb, "y", CATENA_NN_DTYPE_FLOAT);
      compare_model (tb, ops[i]);
    }
}

typedef struct
{
  int n, c, h, w, m, kh, kw, s, d, pad, group;
  gboolean bias, relu;
} ConvCase;

static void
test_conv (void)
{
  static const ConvCase cases[] = {
    /* n c   h    w    m  kh kw s  d  pad group bias relu */
    { 1, 3, 64, 61, 16, 3, 3, 2, 1, 1, 1, TRUE, TRUE },   /* ISNet's first conv */
    { 1, 64, 48, 48, 64, 3, 3, 1, 1, 1, 1, TRUE, TRUE }, /* ESRGAN's body */
    { 2, 16, 20, 22, 24, 3, 3, 1, 2, 2, 1, TRUE, FALSE }, /* dilated, batch 2 */
    { 1, 32, 30, 30, 16, 1, 1, 1, 1, 0, 1, TRUE, FALSE }, /* pointwise (no im2col) */
    { 1, 16, 19, 23, 16, 3, 3, 1, 1, 1, 16, TRUE, TRUE }, /* depthwise */
    { 1, 12, 21, 17, 18, 3, 3, 2, 1, 0, 3, FALSE, FALSE }, /* groups, no bias */
    { 1, 8, 33, 35, 12, 5, 5, 1, 1, 2, 1, TRUE, FALSE },  /* 5×5 */
    { 1, 64, 96, 96, 48, 3, 3, 1, 1, 1, 1, TRUE, FALSE }, /* larger GEMM */
  };

  NEED_DEVICE ();
  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      const ConvCase *cc = &cases[i];
      Tb *tb = tb_new (13);
      gint64 xd[4] = { cc->n, cc->c, cc->h, cc->w };
      gint64 wd[4] = { cc->m, cc->c / cc->group, cc->kh, cc->kw }, bd[1] = { cc->m };
      g_autofree float *w = random_floats ((gsize) wd[0] * wd[1] * wd[2] * wd[3]);
      g_autofree float *b = random_floats (cc->m);
      g_autofree char *what = g_strdup_printf ("Conv c%d %dx%d m%d k%d s%d d%d g%d", cc->c, cc->h,
                                               cc->w, cc->m, cc->kh, cc->s, cc->d, cc->group);
      Onnx__NodeProto *n;

      tb_input (tb, "x", CATENA_NN_DTYPE_FLOAT, 4, xd);
      tb_init_float (tb, "w", 4, wd, w);
      if (cc->bias)
        tb_init_float (tb, "b", 1, bd, b);
      n = tb_node (tb, "Conv", cc->bias ? "x,w,b" : "x,w", cc->relu ? "c" : "y");
      tb_attr_ints (tb, n, "kernel_shape", 2, (gint64[]) { cc->kh, cc->kw });
      tb_attr_ints (tb, n, "strides", 2, (gint64[]) { cc->s, cc->s });
      tb_attr_ints (tb, n, "dilations", 2, (gint64[]) { cc->d, cc->d });
      tb_attr_ints (tb, n, "pads", 4, (gint64[]) { cc->pad, cc->pad, cc->pad, cc->pad });
      tb_attr_int (tb, n, "group", cc->group);
      if (cc->relu)
        tb_node (tb, "Relu", "c", "y");
      tb_output (tb, "y", CATENA_NN_DTYPE_FLOAT);
      compare_model (tb, what);
    }
}

static void
test_maxpool (void)
{
  static const int cases[][5] = { /* k, s, pad, ceil, dilation */
                                  { 2, 2, 0, 0, 1 },
                                  { 3, 1, 1, 0, 1 },
                                  { 3, 2, 1, 1, 1 },
                                  { 2, 2, 0, 1, 1 },
                                  { 3, 1, 2, 0, 2 } };
  gint64 xd[4] = { 1, 6, 31, 33 };

  NEED_DEVICE ();
  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      Tb *tb = tb_new (13);
      gint64 k = cases[i][0], s = cases[i][1], p = cases[i][2], d = cases[i][4];
      Onnx__NodeProto *n;

      tb_input (tb, "x", CATENA_NN_DTYPE_FLOAT, 4, xd);
      n = tb_node (tb, "MaxPool", "x", "y");
      tb_attr_ints (tb, n, "kernel_shape", 2, (gint64[]) { k, k });
      tb_attr_ints (tb, n, "strides", 2, (gint64[]) { s, s });
      tb_attr_ints (tb, n, "pads", 4, (gint64[]) { p, p, p, p });
      tb_attr_ints (tb, n, "dilations", 2, (gint64[]) { d, d });
      tb_attr_int (tb, n, "ceil_mode", cases[i][3]);
      tb_output (tb, "y", CATENA_NN_DTYPE_FLOAT);
      compare_model (tb, "MaxPool");
    }
}

static void
test_resize (void)
{
  static const struct
  {
    const char *mode, *ctm;
    gint64 oh, ow;
  } cases[] = {
    { "nearest", "asymmetric", 64, 80 },      /* UpSampling2D ×2 */
    { "nearest", "half_pixel", 50, 23 },
    { "linear", "half_pixel", 64, 80 },       /* ISNet's upsampling */
    { "linear", "align_corners", 47, 91 },
    { "linear", "pytorch_half_pixel", 13, 7 }, /* down */
    { "cubic", "half_pixel", 40, 55 },
  };
  gint64 xd[4] = { 1, 5, 32, 40 };

  NEED_DEVICE ();
  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      Tb *tb = tb_new (13);
      gint64 sizes[4] = { 1, 5, cases[i].oh, cases[i].ow };
      g_autofree char *what = g_strdup_printf ("Resize %s %s", cases[i].mode, cases[i].ctm);
      Onnx__NodeProto *n;

      tb_input (tb, "x", CATENA_NN_DTYPE_FLOAT, 4, xd);
      tb_init_int64 (tb, "sizes", 4, sizes);
      n = tb_node (tb, "Resize", "x,,,sizes", "y");
      tb_attr_string (tb, n, "mode", cases[i].mode);
      tb_attr_string (tb, n, "coordinate_transformation_mode", cases[i].ctm);
      if (g_str_equal (cases[i].mode, "nearest"))
        tb_attr_string (tb, n, "nearest_mode", "floor");
      tb_output (tb, "y", CATENA_NN_DTYPE_FLOAT);
      compare_model (tb, what);
    }
}

static void
test_concat_d2s (void)
{
  Tb *tb;
  Onnx__NodeProto *n;

  NEED_DEVICE ();
  tb = tb_new (13);
  tb_input (tb, "a", CATENA_NN_DTYPE_FLOAT, 4, (gint64[]) { 2, 3, 9, 11 });
  tb_input (tb, "b", CATENA_NN_DTYPE_FLOAT, 4, (gint64[]) { 2, 5, 9, 11 });
  tb_input (tb, "c", CATENA_NN_DTYPE_FLOAT, 4, (gint64[]) { 2, 1, 9, 11 });
  n = tb_node (tb, "Concat", "a,b,c", "y");
  tb_attr_int (tb, n, "axis", 1);
  tb_output (tb, "y", CATENA_NN_DTYPE_FLOAT);
  compare_model (tb, "Concat");

  for (int crd = 0; crd < 2; crd++)
    {
      tb = tb_new (13);
      tb_input (tb, "x", CATENA_NN_DTYPE_FLOAT, 4, (gint64[]) { 1, 48, 13, 15 });
      n = tb_node (tb, "DepthToSpace", "x", "y");
      tb_attr_int (tb, n, "blocksize", 4);
      tb_attr_string (tb, n, "mode", crd ? "CRD" : "DCR");
      tb_output (tb, "y", CATENA_NN_DTYPE_FLOAT);
      compare_model (tb, crd ? "DepthToSpace CRD" : "DepthToSpace DCR");
    }

  tb = tb_new (13);
  tb_input (tb, "x", CATENA_NN_DTYPE_FLOAT, 4, (gint64[]) { 2, 3, 7, 5 });
  n = tb_node (tb, "Transpose", "x", "y");
  tb_attr_ints (tb, n, "perm", 4, (gint64[]) { 0, 2, 3, 1 });
  tb_output (tb, "y", CATENA_NN_DTYPE_FLOAT);
  compare_model (tb, "Transpose");
}

/* Device kernels around host-run nodes (AveragePool, BatchNormalization have no CUDA kernel
 * yet): the tensors cross over and back. */
static void
test_mixed (void)
{
  Tb *tb = tb_new (13);
  gint64 xd[4] = { 1, 8, 24, 24 }, wd[4] = { 8, 8, 3, 3 }, cd[1] = { 8 };
  g_autofree float *w = random_floats (8 * 8 * 9), *sc = random_floats (8);
  g_autofree float *bi = random_floats (8), *me = random_floats (8), *va = random_floats (8);
  Onnx__NodeProto *n;

  NEED_DEVICE ();
  for (int i = 0; i < 8; i++)
    va[i] = fabsf (va[i]) + 0.5f;
  tb_input (tb, "x", CATENA_NN_DTYPE_FLOAT, 4, xd);
  tb_init_float (tb, "w", 4, wd, w);
  tb_init_float (tb, "sc", 1, cd, sc);
  tb_init_float (tb, "bi", 1, cd, bi);
  tb_init_float (tb, "me", 1, cd, me);
  tb_init_float (tb, "va", 1, cd, va);
  n = tb_node (tb, "Conv", "x,w", "c1");
  tb_attr_ints (tb, n, "pads", 4, (gint64[]) { 1, 1, 1, 1 });
  tb_node (tb, "BatchNormalization", "c1,sc,bi,me,va", "bn");
  n = tb_node (tb, "AveragePool", "bn", "ap");
  tb_attr_ints (tb, n, "kernel_shape", 2, (gint64[]) { 2, 2 });
  tb_attr_ints (tb, n, "strides", 2, (gint64[]) { 2, 2 });
  tb_node (tb, "Sigmoid", "ap", "s");
  tb_node (tb, "Add", "s,s", "y");
  tb_output (tb, "y", CATENA_NN_DTYPE_FLOAT);
  tb_output (tb, "bn", CATENA_NN_DTYPE_FLOAT);
  compare_model (tb, "mixed device/host");
}

/* ---- whole models (device and weights) ---- */

static void
compare_loaded_graph (CatenaNnGraph *g, const char *what, double tol)
{
  g_autoptr (GPtrArray) inputs = g_ptr_array_new_with_free_func (
    (GDestroyNotify) catena_nn_tensor_unref);

  for (guint i = 0; i < catena_nn_graph_get_n_inputs (g); i++)
    {
      CatenaNnDType dt;
      int ndim;
      const gint64 *dims;

      catena_nn_graph_get_input (g, i, &dt, &ndim, &dims);
      g_ptr_array_add (inputs, random_tensor (dt, ndim, dims));
    }
  compare_graph (g, (CatenaNnTensor *const *) inputs->pdata, what, tol);
}

static void
test_isnet (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *path = NULL;
  g_autoptr (CatenaNnIsnet) isnet = NULL;

  NEED_DEVICE_OR_RETURN ();
  path = catena_nn_find_model (CATENA_NN_ISNET_MODEL);
  if (path == NULL)
    {
      g_test_skip ("ISNet weights are not installed (build-aux/fetch-models.sh)");
      return;
    }
  isnet = catena_nn_isnet_load (path, &error);
  g_assert_no_error (error);
  /* 70-odd convs deep: summation order differences grow; 1e-4 relative is still < 1/255 */
  compare_loaded_graph (catena_nn_isnet_get_graph (isnet), "ISNet 1024²", 1e-4);
}

static void
test_esrgan (void)
{
  static const char *const families[] = { CATENA_NN_ESRGAN_SLIM, CATENA_NN_ESRGAN_MEDIUM };

  NEED_DEVICE_OR_RETURN ();
  for (gsize i = 0; i < G_N_ELEMENTS (families); i++)
    {
      g_autoptr (GError) error = NULL;
      g_autofree char *path = catena_nn_find_upscaler (families[i], 4);
      g_autoptr (CatenaNnUpscaler) up = NULL;
      g_autofree char *what = NULL;
      CatenaNnGraph *g;

      if (path == NULL)
        {
          g_test_message ("%s ×4 is not installed (build-aux/fetch-models.sh)", families[i]);
          continue;
        }
      up = catena_nn_upscaler_load (path, &error);
      g_assert_no_error (error);
      g = catena_nn_upscaler_get_graph (up, 192, 192, &error);
      g_assert_no_error (error);
      what = g_strdup_printf ("%s ×4 192²", families[i]);
      compare_loaded_graph (g, what, 1e-4);
    }
}

/* Tensor cores: TF32 and fp16 products (fp32 sums) hold one conv within 5e-3 and the whole
 * models within 3e-2 relative L2 of the fp32 CPU path (random inputs). The precision applies
 * to graphs first run on the GPU after it is set. */
static void
test_tensor_cores (void)
{
  static const CatenaNnPrecision modes[] = { CATENA_NN_PRECISION_TF32, CATENA_NN_PRECISION_FP16 };

  NEED_DEVICE_OR_RETURN ();
  for (gsize m = 0; m < G_N_ELEMENTS (modes); m++)
    {
      g_autoptr (GError) error = NULL;
      g_autofree char *isnet_path = catena_nn_find_model (CATENA_NN_ISNET_MODEL);
      g_autofree char *slim = catena_nn_find_upscaler (CATENA_NN_ESRGAN_SLIM, 4);
      const char *name = catena_nn_precision_to_string (modes[m]);
      g_autofree char *what = NULL;

      catena_nn_set_gpu_precision (modes[m]);
      what = g_strdup_printf ("Conv+Relu (%s)", name);
      compare_model_tol (conv_relu_model (), what, 5e-3);
      if (isnet_path != NULL)
        {
          g_autoptr (CatenaNnIsnet) isnet = catena_nn_isnet_load (isnet_path, &error);

          g_assert_no_error (error);
          g_free (what);
          what = g_strdup_printf ("ISNet 1024² (%s)", name);
          compare_loaded_graph (catena_nn_isnet_get_graph (isnet), what, 3e-2);
        }
      if (slim != NULL)
        {
          g_autoptr (CatenaNnUpscaler) up = catena_nn_upscaler_load (slim, &error);
          CatenaNnGraph *g;

          g_assert_no_error (error);
          g = catena_nn_upscaler_get_graph (up, 192, 192, &error);
          g_assert_no_error (error);
          g_free (what);
          what = g_strdup_printf ("esrgan-slim ×4 192² (%s)", name);
          compare_loaded_graph (g, what, 3e-2);
        }
    }
  catena_nn_set_gpu_precision (CATENA_NN_PRECISION_FP32);
}

int
main (int argc, char **argv)
{
  g_autofree char *name = NULL;
  int ret;

  /* The CPU reference uses im2col + SGEMM like the device (Winograd's own error, ≤ 2.5e-4,
   * would hide the kernels' at 1e-5). Read when a model loads. */
  g_setenv ("CATENA_NN_WINOGRAD", "0", TRUE);
  g_test_init (&argc, &argv, NULL);
  rng = g_rand_new_with_seed (5);
  have_device = catena_nn_cuda_available (&name);
  if (!have_device)
    g_test_message ("no CUDA device: device tests are skipped, the CPU fallback is tested");

  g_test_add_func ("/nn/cuda/available", test_available);
  g_test_add_func ("/nn/cuda/fallback", test_fallback);
  g_test_add_func ("/nn/cuda/bad-input", test_bad_input);
  g_test_add_func ("/nn/cuda/unary", test_unary);
  g_test_add_func ("/nn/cuda/binary", test_binary);
  g_test_add_func ("/nn/cuda/conv", test_conv);
  g_test_add_func ("/nn/cuda/maxpool", test_maxpool);
  g_test_add_func ("/nn/cuda/resize", test_resize);
  g_test_add_func ("/nn/cuda/concat-depth-to-space", test_concat_d2s);
  g_test_add_func ("/nn/cuda/mixed-host-device", test_mixed);
  g_test_add_func ("/nn/cuda/isnet", test_isnet);
  g_test_add_func ("/nn/cuda/esrgan", test_esrgan);
  g_test_add_func ("/nn/cuda/tensor-cores", test_tensor_cores);
  ret = g_test_run ();
  g_rand_free (rng);
  return ret;
}
