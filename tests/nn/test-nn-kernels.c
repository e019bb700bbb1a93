/* SPDX-License-Identifier: GPL-3.0-or-later */
/* engine/nn kernels against naive references, on shapes the ONNX node tests do not cover
 * (groups, dilations, tiles, fused activations, fp16 graphs, pruning, cancellation). */

#include "config.h"

#include <math.h>

#include "nn-test-onnx.h"

static void
fill_random (GRand *r, float *p, gsize n)
{
  for (gsize i = 0; i < n; i++)
    p[i] = (float) g_rand_double_range (r, -1, 1);
}

typedef struct
{
  int n, c, h, w, m, kh, kw, sh, sw, dh, dw, pt, pl, pb, pr, group;
  gboolean bias, relu;
} ConvCase;

static void
conv_reference (const ConvCase *cc, const float *x, const float *wt, const float *b, float *y,
                int oh, int ow)
{
  int cg = cc->c / cc->group, mg = cc->m / cc->group;

  for (int n = 0; n < cc->n; n++)
    for (int m = 0; m < cc->m; m++)
      for (int i = 0; i < oh; i++)
        for (int j = 0; j < ow; j++)
          {
            int g = m / mg;
            double acc = cc->bias ? b[m] : 0;

            for (int c = 0; c < cg; c++)
              for (int ki = 0; ki < cc->kh; ki++)
                for (int kj = 0; kj < cc->kw; kj++)
                  {
                    int ih = i * cc->sh - cc->pt + ki * cc->dh, iw = j * cc->sw - cc->pl + kj * cc->dw;

                    if (ih < 0 || ih >= cc->h || iw < 0 || iw >= cc->w)
                      continue;
                    acc += (double) x[((n * cc->c + g * cg + c) * cc->h + ih) * cc->w + iw]
                           * wt[((m * cg + c) * cc->kh + ki) * cc->kw + kj];
                  }
            if (cc->relu && acc < 0)
              acc = 0;
            y[((n * cc->m + m) * oh + i) * ow + j] = (float) acc;
          }
}

/* expect: a substring of the graph's description (which kernel ran), or NULL */
static void
run_conv_case_expect (const ConvCase *cc, GRand *r, const char *expect)
{
  g_autoptr (GError) error = NULL;
  Tb *tb = tb_new (13);
  gint64 xd[4] = { cc->n, cc->c, cc->h, cc->w };
  gint64 wd[4] = { cc->m, cc->c / cc->group, cc->kh, cc->kw };
  gint64 bd[1] = { cc->m };
  int oh = (cc->h + cc->pt + cc->pb - ((cc->kh - 1) * cc->dh + 1)) / cc->sh + 1;
  int ow = (cc->w + cc->pl + cc->pr - ((cc->kw - 1) * cc->dw + 1)) / cc->sw + 1;
  gsize nw = (gsize) wd[0] * wd[1] * wd[2] * wd[3];
  g_autofree float *wt = g_new (float, nw), *b = g_new (float, cc->m);
  g_autofree float *ref = g_new (float, (gsize) cc->n * cc->m * oh * ow);
  g_autoptr (CatenaNnTensor) x = catena_nn_tensor_new (CATENA_NN_DTYPE_FLOAT, 4, xd, NULL);
  g_autoptr (CatenaNnGraph) g = NULL;
  CatenaNnTensor *out[1] = { NULL };
  Onnx__NodeProto *node;
  double max_err = 0;

  fill_random (r, x->data, x->n_elements);
  fill_random (r, wt, nw);
  fill_random (r, b, cc->m);
  tb_input (tb, "x", CATENA_NN_DTYPE_FLOAT, 4, xd);
  tb_init_float (tb, "w", 4, wd, wt);
  if (cc->bias)
    tb_init_float (tb, "b", 1, bd, b);
  node = tb_node (tb, "Conv", cc->bias ? "x,w,b" : "x,w", cc->relu ? "c" : "y");
  tb_attr_ints (tb, node, "kernel_shape", 2, (gint64[]) { cc->kh, cc->kw });
  tb_attr_ints (tb, node, "strides", 2, (gint64[]) { cc->sh, cc->sw });
  tb_attr_ints (tb, node, "dilations", 2, (gint64[]) { cc->dh, cc->dw });
  tb_attr_ints (tb, node, "pads", 4, (gint64[]) { cc->pt, cc->pl, cc->pb, cc->pr });
  tb_attr_int (tb, node, "group", cc->group);
  if (cc->relu)
    tb_node (tb, "Relu", "c", "y");
  tb_output (tb, "y", CATENA_NN_DTYPE_FLOAT);
  g = tb_load (tb, NULL, &error);
  g_assert_no_error (error);
  if (expect != NULL)
    {
      g_autofree char *desc = catena_nn_graph_describe (g);

      if (strstr (desc, expect) == NULL)
        g_error ("conv c%d %dx%d m%d d%dx%d: expected “%s” in “%s”", cc->c, cc->h, cc->w,
                 cc->m, cc->dh, cc->dw, expect, desc);
    }
  /* twice: the second run reuses the graph's workspace */
  for (int run = 0; run < 2; run++)
    {
      if (run > 0)
        catena_nn_tensor_unref (out[0]);
      g_assert_true (catena_nn_graph_run (g, &x, out, NULL, &error));
      g_assert_no_error (error);
    }
  conv_reference (cc, x->data, wt, b, ref, oh, ow);
  g_assert_cmpint (out[0]->n_elements, ==, (gsize) cc->n * cc->m * oh * ow);
  for (gsize i = 0; i < out[0]->n_elements; i++)
    max_err = MAX (max_err, fabs (((float *) out[0]->data)[i] - ref[i]));
  g_test_message ("conv n%d c%d %dx%d m%d k%dx%d s%d d%dx%d p%d,%d,%d,%d g%d: max error %.3g",
                  cc->n, cc->c, cc->h, cc->w, cc->m, cc->kh, cc->kw, cc->sh, cc->dh, cc->dw,
                  cc->pt, cc->pl, cc->pb, cc->pr, cc->group, max_err);
  g_assert_cmpfloat (max_err, <, 1e-3);
  catena_nn_tensor_unref (out[0]);
  tb_free (tb);
}

static void
run_conv_case (const ConvCase *cc, GRand *r)
{
  run_conv_case_expect (cc, r, NULL);
}

static void
test_conv_random (void)
{
  g_autoptr (GRand) r = g_rand_new_with_seed (42);
  static const ConvCase fixed[] = {
    /* n c  h   w   m  kh kw sh sw dh dw pt pl pb pr group bias relu */
    { 1, 3, 33, 35, 8, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 1, TRUE, FALSE },     /* ISNet conv_in */
    { 1, 16, 20, 20, 16, 3, 3, 1, 1, 2, 2, 2, 2, 2, 2, 1, TRUE, TRUE },   /* dilated */
    { 1, 8, 24, 24, 8, 3, 3, 1, 1, 8, 8, 8, 8, 8, 8, 1, TRUE, TRUE },     /* dilation 8 */
    { 2, 6, 9, 11, 4, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1, FALSE, FALSE },    /* pointwise */
    { 1, 8, 13, 9, 8, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 8, TRUE, TRUE },      /* depthwise */
    { 1, 8, 10, 10, 12, 3, 3, 1, 2, 1, 1, 0, 1, 2, 0, 4, TRUE, FALSE },   /* groups */
    { 1, 64, 40, 40, 96, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, TRUE, TRUE },   /* several tiles */
    { 1, 128, 6, 6, 256, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, TRUE, TRUE },   /* split over M */
    { 1, 4, 5, 5, 3, 5, 5, 1, 1, 1, 1, 0, 0, 0, 0, 1, TRUE, FALSE },      /* 1×1 output */
    /* narrow (≤ 4 outputs, stride 1): ISNet's side output, dilated, asymmetric pads */
    { 1, 64, 40, 37, 1, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, TRUE, FALSE },
    { 2, 9, 21, 18, 4, 3, 3, 1, 1, 2, 3, 0, 4, 3, 1, 1, FALSE, TRUE },
    { 1, 6, 12, 14, 4, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 2, TRUE, TRUE },    /* groups */
    /* Winograd F(4×4, 3×3): partial edge tiles, asymmetric pads, batch 2, no bias */
    { 2, 16, 19, 23, 24, 3, 3, 1, 1, 1, 1, 0, 2, 1, 0, 1, TRUE, FALSE },
    { 1, 32, 17, 16, 16, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, FALSE, TRUE },
    { 1, 64, 64, 64, 64, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, TRUE, TRUE },   /* ESRGAN's body */
  };

  for (gsize i = 0; i < G_N_ELEMENTS (fixed); i++)
    run_conv_case (&fixed[i], r);
  for (int i = 0; i < 20; i++)
    {
      ConvCase cc = { 0 };
      int g = g_rand_int_range (r, 1, 4);

      cc.n = g_rand_int_range (r, 1, 3);
      cc.group = g;
      cc.c = g * g_rand_int_range (r, 1, 5);
      cc.m = g * g_rand_int_range (r, 1, 5);
      cc.kh = g_rand_int_range (r, 1, 4), cc.kw = g_rand_int_range (r, 1, 4);
      cc.sh = g_rand_int_range (r, 1, 3), cc.sw = g_rand_int_range (r, 1, 3);
      cc.dh = g_rand_int_range (r, 1, 3), cc.dw = g_rand_int_range (r, 1, 3);
      cc.pt = g_rand_int_range (r, 0, 3), cc.pl = g_rand_int_range (r, 0, 3);
      cc.pb = g_rand_int_range (r, 0, 3), cc.pr = g_rand_int_range (r, 0, 3);
      cc.h = g_rand_int_range (r, (cc.kh - 1) * cc.dh + 1, 20);
      cc.w = g_rand_int_range (r, (cc.kw - 1) * cc.dw + 1, 20);
      cc.bias = g_rand_boolean (r);
      cc.relu = g_rand_boolean (r);
      run_conv_case (&cc, r);
    }
}

/* Winograd F(4×4, 3×3), both schedules, undilated and dilated (d² sub-grids), against the
 * direct reference: partial edge tiles, asymmetric pads, unequal dilations, batch 2, tasks
 * that split a tile row. */
static void
test_conv_winograd (void)
{
  g_autoptr (GRand) r = g_rand_new_with_seed (4);
  static const struct
  {
    ConvCase cc;
    const char *schedule, *tiles, *expect;
  } fixed[] = {
    /* n c  h   w   m  kh kw sh sw dh dw pt pl pb pr group bias relu */
    { { 1, 16, 37, 29, 24, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, TRUE, TRUE }, "fused", NULL,
      "Winograd 1 (staged 0)" },
    { { 1, 16, 37, 29, 24, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, TRUE, TRUE }, "staged", NULL,
      "Winograd 1 (staged 1)" },
    /* 10 tiles across in tasks of 8: two segments of 5 */
    { { 2, 8, 30, 39, 8, 3, 3, 1, 1, 1, 1, 0, 2, 1, 0, 1, TRUE, FALSE }, "fused", "8",
      "Winograd 1 (staged 0)" },
    /* several tile rows per task */
    { { 1, 8, 41, 14, 12, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, FALSE, TRUE }, "fused", "64",
      "Winograd 1 (staged 0)" },
    { { 1, 16, 21, 19, 8, 3, 3, 1, 1, 2, 2, 2, 2, 2, 2, 1, TRUE, TRUE }, NULL, NULL,
      "Winograd 1 (staged 1)" },
    { { 1, 12, 33, 30, 16, 3, 3, 1, 1, 4, 4, 4, 4, 4, 4, 1, TRUE, FALSE }, NULL, NULL,
      "Winograd 1 (staged 1)" },
    /* ISNet's RSU-4F: dilation 8 on 32², one 4×4 tile per sub-grid */
    { { 1, 32, 32, 32, 32, 3, 3, 1, 1, 8, 8, 8, 8, 8, 8, 1, TRUE, TRUE }, NULL, NULL,
      "Winograd 1 (staged 1)" },
    { { 2, 8, 25, 17, 9, 3, 3, 1, 1, 3, 3, 1, 3, 2, 0, 1, TRUE, TRUE }, NULL, NULL,
      "Winograd 1 (staged 1)" },
    { { 1, 8, 20, 22, 8, 3, 3, 1, 1, 2, 3, 2, 3, 2, 3, 1, TRUE, FALSE }, NULL, NULL,
      "Winograd 1 (staged 1)" },
    { { 1, 8, 8, 8, 8, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, TRUE, FALSE }, NULL, NULL,
      "Winograd 1" },
    /* ESRGAN's body */
    { { 1, 64, 64, 64, 64, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, TRUE, TRUE }, "fused", NULL,
      "Winograd 1 (staged 0)" },
    { { 1, 64, 64, 64, 64, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, TRUE, TRUE }, "staged", NULL,
      "Winograd 1 (staged 1)" },
  };
  static const char *const schedules[] = { "", "fused", "staged" };

  for (gsize i = 0; i < G_N_ELEMENTS (fixed); i++)
    {
      g_setenv ("CATENA_NN_WG_SCHEDULE", fixed[i].schedule ? fixed[i].schedule : "", TRUE);
      if (fixed[i].tiles != NULL)
        g_setenv ("CATENA_NN_WG_TILES", fixed[i].tiles, TRUE);
      else
        g_unsetenv ("CATENA_NN_WG_TILES");
      run_conv_case_expect (&fixed[i].cc, r, fixed[i].expect);
    }
  g_unsetenv ("CATENA_NN_WG_TILES");
  for (int i = 0; i < 30; i++)
    {
      ConvCase cc = { 0 };
      int oh, ow;
      gboolean fused;

      cc.n = g_rand_int_range (r, 1, 3);
      cc.group = 1;
      cc.c = g_rand_int_range (r, 8, 49);
      cc.m = g_rand_int_range (r, 8, 49);
      cc.kh = cc.kw = 3;
      cc.sh = cc.sw = 1;
      cc.dh = g_rand_int_range (r, 1, 5), cc.dw = g_rand_int_range (r, 1, 5);
      cc.pt = g_rand_int_range (r, 0, cc.dh + 2), cc.pb = g_rand_int_range (r, 0, cc.dh + 2);
      cc.pl = g_rand_int_range (r, 0, cc.dw + 2), cc.pr = g_rand_int_range (r, 0, cc.dw + 2);
      cc.h = g_rand_int_range (r, 2 * cc.dh + 1, 41);
      cc.w = g_rand_int_range (r, 2 * cc.dw + 1, 41);
      cc.bias = g_rand_boolean (r);
      cc.relu = g_rand_boolean (r);
      oh = cc.h + cc.pt + cc.pb - 2 * cc.dh;
      ow = cc.w + cc.pl + cc.pr - 2 * cc.dw;
      fused = cc.dh == 1 && cc.dw == 1 && i % 3 == 1;
      g_setenv ("CATENA_NN_WG_SCHEDULE", schedules[i % 3], TRUE);
      run_conv_case_expect (&cc, r,
                            oh * ow < 64 ? "Winograd 0"
                            : fused      ? "Winograd 1 (staged 0)"
                            : i % 3 == 2 || cc.dh > 1 || cc.dw > 1 ? "Winograd 1 (staged 1)"
                                                                   : "Winograd 1");
    }
  g_unsetenv ("CATENA_NN_WG_SCHEDULE");
}

/* Resize linear / half_pixel to sizes, as ISNet uses it, against the ONNX formula. */
static void
test_resize_isnet (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GRand) r = g_rand_new_with_seed (7);
  Tb *tb = tb_new (15);
  gint64 xd[4] = { 1, 3, 7, 10 }, sizes[4] = { 1, 3, 16, 13 };
  g_autoptr (CatenaNnTensor) x = catena_nn_tensor_new (CATENA_NN_DTYPE_FLOAT, 4, xd, NULL);
  g_autoptr (CatenaNnGraph) g = NULL;
  CatenaNnTensor *out[1] = { NULL };
  Onnx__NodeProto *node;
  const float *X, *Y;

  fill_random (r, x->data, x->n_elements);
  tb_input (tb, "x", CATENA_NN_DTYPE_FLOAT, 4, xd);
  tb_init_int64 (tb, "sizes", 4, sizes);
  node = tb_node (tb, "Resize", "x,,,sizes", "y");
  tb_attr_string (tb, node, "mode", "linear");
  tb_attr_string (tb, node, "coordinate_transformation_mode", "half_pixel");
  tb_output (tb, "y", CATENA_NN_DTYPE_FLOAT);
  g = tb_load (tb, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (catena_nn_graph_run (g, &x, out, NULL, &error));
  X = x->data, Y = out[0]->data;
  for (int c = 0; c < 3; c++)
    for (int i = 0; i < 16; i++)
      for (int j = 0; j < 13; j++)
        {
          double sy = (i + 0.5) * 7 / 16.0 - 0.5, sx = (j + 0.5) * 10 / 13.0 - 0.5;
          int y0 = (int) floor (sy), x0 = (int) floor (sx);
          double fy = sy - y0, fx = sx - x0;
          int ya = CLAMP (y0, 0, 6), yb = CLAMP (y0 + 1, 0, 6);
          int xa = CLAMP (x0, 0, 9), xb = CLAMP (x0 + 1, 0, 9);
          const float *p = X + c * 70;
          double v = (1 - fy) * ((1 - fx) * p[ya * 10 + xa] + fx * p[ya * 10 + xb])
                     + fy * ((1 - fx) * p[yb * 10 + xa] + fx * p[yb * 10 + xb]);

          g_assert_cmpfloat_with_epsilon (Y[(c * 16 + i) * 13 + j], v, 1e-5);
        }
  catena_nn_tensor_unref (out[0]);
  tb_free (tb);
}

/* An fp16 graph like ISNet's: fp16 weights, Cast in and out, Conv + Relu, MaxPool (ceil). */
static void
test_fp16_graph (void)
{
  g_autoptr (GError) error = NULL;
  Tb *tb = tb_new (15);
  gint64 xd[4] = { 1, 1, 5, 5 }, wd[4] = { 1, 1, 1, 1 };
  guint16 w_half = catena_nn_float_to_half (2.0f);
  g_autoptr (CatenaNnTensor) x = catena_nn_tensor_new (CATENA_NN_DTYPE_FLOAT, 4, xd, NULL);
  g_autoptr (CatenaNnGraph) g = NULL;
  CatenaNnTensor *out[2] = { NULL };
  Onnx__NodeProto *node;
  g_autofree char *desc = NULL;
  float *xp = x->data;

  for (int i = 0; i < 25; i++)
    xp[i] = (float) i - 12.f;
  tb_input (tb, "x", CATENA_NN_DTYPE_FLOAT, 4, xd);
  tb_init_raw (tb, "w", CATENA_NN_DTYPE_FLOAT16, 4, wd, &w_half, 2);
  node = tb_node (tb, "Cast", "x", "xh");
  tb_attr_int (tb, node, "to", CATENA_NN_DTYPE_FLOAT16);
  tb_node (tb, "Conv", "xh,w", "c");
  tb_node (tb, "Relu", "c", "r");
  node = tb_node (tb, "MaxPool", "r", "p");
  tb_attr_ints (tb, node, "kernel_shape", 2, (gint64[]) { 2, 2 });
  tb_attr_ints (tb, node, "strides", 2, (gint64[]) { 2, 2 });
  tb_attr_int (tb, node, "ceil_mode", 1);
  node = tb_node (tb, "Cast", "p", "y");
  tb_attr_int (tb, node, "to", CATENA_NN_DTYPE_FLOAT);
  tb_output (tb, "y", CATENA_NN_DTYPE_FLOAT);
  tb_output (tb, "p", CATENA_NN_DTYPE_FLOAT16);
  g = tb_load (tb, NULL, &error);
  g_assert_no_error (error);
  desc = catena_nn_graph_describe (g);
  g_test_message ("%s", desc);
  g_assert_nonnull (strstr (desc, "fused Conv+Relu 1"));
  g_assert_true (catena_nn_graph_run (g, &x, out, NULL, &error));
  g_assert_cmpint (out[0]->dims[2], ==, 3);
  g_assert_cmpint (out[0]->dims[3], ==, 3);
  /* max of 2·relu(x) over 2×2 windows, the last row/column alone */
  {
    const float want[9] = { 0, 0, 0, 8, 12, 14, 18, 22, 24 };

    for (int i = 0; i < 9; i++)
      g_assert_cmpfloat (((float *) out[0]->data)[i], ==, want[i]);
  }
  g_assert_cmpint (out[1]->dtype, ==, CATENA_NN_DTYPE_FLOAT16);
  g_assert_cmpfloat (catena_nn_half_to_float (((guint16 *) out[1]->data)[8]), ==, 24);
  catena_nn_tensor_unref (out[0]);
  catena_nn_tensor_unref (out[1]);
  tb_free (tb);
}

/* Only the requested outputs are computed; cancellation stops a run without an error dialog
 * (G_IO_ERROR_CANCELLED). */
static void
test_prune_and_cancel (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GCancellable) cancel = g_cancellable_new ();
  const char *const wanted[] = { "a", NULL };
  CatenaNnLoadOptions opts = { NULL, wanted };
  Tb *tb = tb_new (13);
  gint64 xd[2] = { 2, 3 };
  g_autoptr (CatenaNnTensor) x = catena_nn_tensor_new (CATENA_NN_DTYPE_FLOAT, 2, xd, NULL);
  g_autoptr (CatenaNnGraph) g = NULL;
  CatenaNnTensor *out[1] = { NULL };
  g_autofree char *desc = NULL;

  tb_input (tb, "x", CATENA_NN_DTYPE_FLOAT, 2, xd);
  tb_node (tb, "Sigmoid", "x", "a");
  tb_node (tb, "Tanh", "x", "b");
  tb_output (tb, "a", CATENA_NN_DTYPE_FLOAT);
  tb_output (tb, "b", CATENA_NN_DTYPE_FLOAT);
  g = tb_load (tb, &opts, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (catena_nn_graph_get_n_outputs (g), ==, 1);
  desc = catena_nn_graph_describe (g);
  g_assert_null (strstr (desc, "Tanh"));
  g_assert_true (catena_nn_graph_run (g, &x, out, NULL, &error));
  g_assert_cmpfloat (((float *) out[0]->data)[0], ==, 0.5f);
  catena_nn_tensor_unref (out[0]);
  g_cancellable_cancel (cancel);
  g_assert_false (catena_nn_graph_run (g, &x, out, cancel, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_null (out[0]);
  tb_free (tb);
}

/* Concat inputs produced in place (straight into their slice of the output) give the same
 * bytes as copying; graph inputs, values used twice, values seen as a graph output through a
 * view and Concat outputs are copied. Returns the two outputs. */
static void
run_concat_graph (gboolean in_place, int expect_in_place, CatenaNnTensor **out)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GRand) r = g_rand_new_with_seed (11);
  g_autoptr (CatenaNnGraph) g = NULL;
  g_autoptr (CatenaNnTensor) x = NULL;
  g_autofree char *desc = NULL, *want = NULL;
  gint64 xd[4] = { 1, 8, 12, 12 }, wa[4] = { 8, 8, 3, 3 }, wb[4] = { 6, 8, 1, 1 };
  gint64 sizes[4] = { 1, 8, 12, 12 };
  float wta[8 * 8 * 9], wtb[6 * 8];
  Onnx__NodeProto *node;
  Tb *tb = tb_new (13);

  g_setenv ("CATENA_NN_CONCAT_IN_PLACE", in_place ? "1" : "0", TRUE);
  fill_random (r, wta, G_N_ELEMENTS (wta));
  fill_random (r, wtb, G_N_ELEMENTS (wtb));
  tb_input (tb, "x", CATENA_NN_DTYPE_FLOAT, 4, xd);
  tb_init_float (tb, "wa", 4, wa, wta);
  tb_init_float (tb, "wb", 4, wb, wtb);
  tb_init_int64 (tb, "sizes", 4, sizes);
  node = tb_node (tb, "Conv", "x,wa", "ca");
  tb_attr_ints (tb, node, "pads", 4, (gint64[]) { 1, 1, 1, 1 });
  tb_node (tb, "Relu", "ca", "ra");            /* fused: a view of ca, used three times */
  tb_node (tb, "Conv", "x,wb", "cb");          /* a graph output through a view: copied */
  tb_node (tb, "Identity", "cb", "cbo");
  tb_node (tb, "Conv", "ra,wb", "cb2");        /* in place in the second Concat */
  tb_node (tb, "MaxPool", "ra", "p");          /* pooled, then resized back: in place */
  tb_attr_ints (tb, tb->nodes->pdata[tb->nodes->len - 1], "kernel_shape", 2,
                (gint64[]) { 2, 2 });
  tb_attr_ints (tb, tb->nodes->pdata[tb->nodes->len - 1], "strides", 2, (gint64[]) { 2, 2 });
  node = tb_node (tb, "Resize", "p,,,sizes", "up");
  tb_attr_string (tb, node, "mode", "linear");
  node = tb_node (tb, "Concat", "ra,x,cb,up", "y1");
  tb_attr_int (tb, node, "axis", 1);
  node = tb_node (tb, "Concat", "y1,cb2", "y");   /* a Concat output: copied */
  tb_attr_int (tb, node, "axis", 1);
  tb_output (tb, "y", CATENA_NN_DTYPE_FLOAT);
  tb_output (tb, "cbo", CATENA_NN_DTYPE_FLOAT);
  g = tb_load (tb, NULL, &error);
  g_assert_no_error (error);
  g_unsetenv ("CATENA_NN_CONCAT_IN_PLACE");
  desc = catena_nn_graph_describe (g);
  want = g_strdup_printf ("Concat inputs in place %d", expect_in_place);
  g_test_message ("%s", desc);
  g_assert_nonnull (strstr (desc, want));
  x = catena_nn_tensor_new (CATENA_NN_DTYPE_FLOAT, 4, xd, NULL);
  fill_random (r, x->data, x->n_elements);
  for (int run = 0; run < 2; run++)
    {
      if (run > 0)
        {
          catena_nn_tensor_unref (out[0]);
          catena_nn_tensor_unref (out[1]);
        }
      g_assert_true (catena_nn_graph_run (g, &x, out, NULL, &error));
      g_assert_no_error (error);
    }
  tb_free (tb);
}

static void
test_concat_in_place (void)
{
  CatenaNnTensor *a[2], *b[2];

  run_concat_graph (TRUE, 2, a);
  run_concat_graph (FALSE, 0, b);
  g_assert_cmpint (a[0]->n_elements, ==, (gsize) (8 + 8 + 6 + 8 + 6) * 144);
  for (int i = 0; i < 2; i++)
    {
      g_assert_cmpmem (a[i]->data, a[i]->nbytes, b[i]->data, b[i]->nbytes);
      catena_nn_tensor_unref (a[i]);
      catena_nn_tensor_unref (b[i]);
    }
}

/* The reference bilinear of @imgly/background-removal: src = dst · (src/dst), floor/ceil. */
static void
test_bilinear_u8 (void)
{
  const guint8 src[4] = { 0, 100, 200, 255 }; /* 4×1, one channel */
  guint8 up[8], down[2];

  catena_nn_resize_bilinear_u8 (src, 4, 1, 4, up, 8, 1, 8, 1);
  /* x · 0.5: 0, 0.5, 1, 1.5, 2, 2.5, 3, 3.5 (clamped) */
  {
    const guint8 want[8] = { 0, 50, 100, 150, 200, 228, 255, 255 };

    for (int i = 0; i < 8; i++)
      g_assert_cmpint (up[i], ==, want[i]);
  }
  catena_nn_resize_bilinear_u8 (src, 4, 1, 4, down, 2, 1, 2, 1);
  g_assert_cmpint (down[0], ==, 0);
  g_assert_cmpint (down[1], ==, 200);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/nn/kernels/conv-random", test_conv_random);
  g_test_add_func ("/nn/kernels/conv-winograd", test_conv_winograd);
  g_test_add_func ("/nn/kernels/resize-isnet", test_resize_isnet);
  g_test_add_func ("/nn/kernels/fp16-graph", test_fp16_graph);
  g_test_add_func ("/nn/kernels/prune-cancel", test_prune_and_cancel);
  g_test_add_func ("/nn/kernels/concat-in-place", test_concat_in_place);
  g_test_add_func ("/nn/kernels/bilinear-u8", test_bilinear_u8);
  return g_test_run ();
}
