/* SPDX-License-Identifier: GPL-3.0-or-later */
/* TF.js layers loader: every supported layer against a naive NHWC reference written here
 * from Keras' semantics, and malformed or hostile model.json / shards (every truncation,
 * unknown classes, unsupported configs, shape mismatches, huge sizes) → a clear GError. */

#include "config.h"

#include <glib/gstdio.h>
#include <math.h>
#include <string.h>

#include "catena-nn.h"

/* ---- building model.json + weights ---- */

typedef struct
{
  GString *layers;
  GString *specs;
  GByteArray *w;
  GHashTable *copies; /* weight name → float[] (Keras layout) */
  guint32 seed;
} Mb;

static Mb *
mb_new (void)
{
  Mb *m = g_new0 (Mb, 1);

  m->layers = g_string_new (NULL);
  m->specs = g_string_new (NULL);
  m->w = g_byte_array_new ();
  m->copies = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  m->seed = 12345;
  return m;
}

static void
mb_free (Mb *m)
{
  g_string_free (m->layers, TRUE);
  g_string_free (m->specs, TRUE);
  g_byte_array_unref (m->w);
  g_hash_table_unref (m->copies);
  g_free (m);
}

static float
mb_rand (Mb *m)
{
  m->seed = m->seed * 1664525u + 1013904223u;
  return (float) ((m->seed >> 8) / 16777216.0 - 0.5);
}

/* inputs: comma-separated layer names, or NULL for an InputLayer */
static void
mb_layer (Mb *m, const char *cls, const char *name, const char *cfg, const char *inputs)
{
  g_autoptr (GString) ib = g_string_new ("[");

  if (inputs != NULL)
    {
      g_auto (GStrv) in = g_strsplit (inputs, ",", -1);

      g_string_append (ib, "[");
      for (int i = 0; in[i] != NULL; i++)
        g_string_append_printf (ib, "%s[\"%s\", 0, 0, {}]", i ? ", " : "", in[i]);
      g_string_append (ib, "]");
    }
  g_string_append (ib, "]");
  g_string_append_printf (m->layers,
                          "%s{\"class_name\": \"%s\", \"name\": \"%s\", \"config\": "
                          "{\"name\": \"%s\", \"dtype\": \"float32\"%s%s}, "
                          "\"inbound_nodes\": %s}",
                          m->layers->len ? ",\n" : "", cls, name, name, cfg ? ", " : "",
                          cfg ? cfg : "", ib->str);
}

static void
mb_weight (Mb *m, const char *name, int rank, const gint64 *dims)
{
  gsize n = 1;
  float *v;
  g_autoptr (GString) shape = g_string_new ("[");

  for (int i = 0; i < rank; i++)
    {
      n *= (gsize) dims[i];
      g_string_append_printf (shape, "%s%" G_GINT64_FORMAT, i ? ", " : "", dims[i]);
    }
  g_string_append (shape, "]");
  v = g_new (float, n + 1);
  for (gsize i = 0; i < n; i++)
    v[i] = mb_rand (m);
  g_byte_array_append (m->w, (const guint8 *) v, (guint) (n * sizeof (float)));
  g_hash_table_insert (m->copies, g_strdup (name), v);
  g_string_append_printf (m->specs, "%s{\"name\": \"%s\", \"shape\": %s, \"dtype\": \"float32\"}",
                          m->specs->len ? ", " : "", name, shape->str);
}

static void
mb_conv (Mb *m, const char *name, const char *in, int cin, int filters, int k, int stride,
         int dil, const char *padding, const char *act, gboolean bias)
{
  g_autofree char *cfg = g_strdup_printf (
    "\"filters\": %d, \"kernel_size\": [%d, %d], \"strides\": [%d, %d], \"padding\": \"%s\", "
    "\"data_format\": \"channels_last\", \"dilation_rate\": [%d, %d], \"groups\": 1, "
    "\"activation\": \"%s\", \"use_bias\": %s, \"kernel_regularizer\": null",
    filters, k, k, stride, stride, padding, dil, dil, act, bias ? "true" : "false");
  g_autofree char *kn = g_strdup_printf ("%s/kernel", name);
  g_autofree char *bn = g_strdup_printf ("%s/bias", name);

  mb_layer (m, "Conv2D", name, cfg, in);
  mb_weight (m, kn, 4, (gint64[]) { k, k, cin, filters });
  if (bias)
    mb_weight (m, bn, 1, (gint64[]) { filters });
}

static char *
mb_json (Mb *m, const char *in, const char *out)
{
  return g_strdup_printf (
    "{\"format\": \"layers-model\", \"generatedBy\": \"keras v2.10.0\", \"convertedBy\": "
    "\"test\", \"modelTopology\": {\"keras_version\": \"2.10.0\", \"backend\": \"tensorflow\", "
    "\"model_config\": {\"class_name\": \"Functional\", \"config\": {\"name\": \"m\", "
    "\"layers\": [%s], \"input_layers\": [[\"%s\", 0, 0]], \"output_layers\": [[\"%s\", 0, 0]]"
    "}}}, \"weightsManifest\": [{\"paths\": [\"group1-shard1of1.bin\"], \"weights\": [%s]}]}",
    m->layers->str, in, out, m->specs->str);
}

static const char input_cfg[] =
  "\"batch_input_shape\": [null, null, null, 3], \"sparse\": false, \"ragged\": false";

/* ---- the NHWC reference ---- */

typedef struct
{
  int h, w, c;
  float *d;
} Img;

static Img
img_new (int h, int w, int c)
{
  return (Img) { h, w, c, g_new0 (float, (gsize) h * w * c + 1) };
}

#define AT(im, y, x, ch) ((im).d[((gsize) (y) * (im).w + (x)) * (im).c + (ch)])

static Img
ref_conv (Mb *m, const char *name, Img x, int filters, int k, int stride, int dil,
          gboolean same, int act /* 0 linear, 1 relu, 2 tanh, 3 sigmoid */)
{
  g_autofree char *kn = g_strdup_printf ("%s/kernel", name);
  g_autofree char *bn = g_strdup_printf ("%s/bias", name);
  const float *kw = g_hash_table_lookup (m->copies, kn);
  const float *b = g_hash_table_lookup (m->copies, bn);
  int ek = (k - 1) * dil + 1;
  int oh = same ? (x.h + stride - 1) / stride : (x.h - ek) / stride + 1;
  int ow = same ? (x.w + stride - 1) / stride : (x.w - ek) / stride + 1;
  int pt = same ? MAX ((oh - 1) * stride + ek - x.h, 0) / 2 : 0;
  int pl = same ? MAX ((ow - 1) * stride + ek - x.w, 0) / 2 : 0;
  Img y = img_new (oh, ow, filters);

  for (int i = 0; i < oh; i++)
    for (int j = 0; j < ow; j++)
      for (int o = 0; o < filters; o++)
        {
          double acc = b != NULL ? b[o] : 0;

          for (int ki = 0; ki < k; ki++)
            for (int kj = 0; kj < k; kj++)
              {
                int yy = i * stride - pt + ki * dil, xx = j * stride - pl + kj * dil;

                if (yy < 0 || yy >= x.h || xx < 0 || xx >= x.w)
                  continue;
                for (int c = 0; c < x.c; c++)
                  acc += AT (x, yy, xx, c) * kw[((ki * k + kj) * x.c + c) * filters + o];
              }
          if (act == 1)
            acc = MAX (acc, 0);
          else if (act == 2)
            acc = tanh (acc);
          else if (act == 3)
            acc = 1 / (1 + exp (-acc));
          AT (y, i, j, o) = (float) acc;
        }
  return y;
}

static Img
ref_upsample (Img x, int s)
{
  Img y = img_new (x.h * s, x.w * s, x.c);

  for (int i = 0; i < y.h; i++)
    for (int j = 0; j < y.w; j++)
      for (int c = 0; c < x.c; c++)
        AT (y, i, j, c) = AT (x, i / s, j / s, c);
  return y;
}

/* tf.depthToSpace NHWC: out[h·b + i, w·b + j, c] = in[h, w, (i·b + j)·C' + c] */
static Img
ref_d2s (Img x, int b)
{
  int cc = x.c / (b * b);
  Img y = img_new (x.h * b, x.w * b, cc);

  for (int h = 0; h < x.h; h++)
    for (int w = 0; w < x.w; w++)
      for (int i = 0; i < b; i++)
        for (int j = 0; j < b; j++)
          for (int c = 0; c < cc; c++)
            AT (y, h * b + i, w * b + j, c) = AT (x, h, w, (i * b + j) * cc + c);
  return y;
}

/* ---- the model with every layer kind ---- */

static Mb *
build_all (void)
{
  Mb *m = mb_new ();

  mb_layer (m, "InputLayer", "x", input_cfg, NULL);
  mb_conv (m, "c1", "x", 3, 8, 3, 1, 1, "same", "relu", TRUE);
  mb_conv (m, "c2", "c1", 8, 8, 3, 1, 2, "same", "linear", FALSE);
  mb_conv (m, "c3", "c1", 8, 8, 1, 1, 1, "valid", "linear", TRUE);
  mb_layer (m, "Add", "add", NULL, "c2,c3");
  mb_layer (m, "LeakyReLU", "lr", "\"alpha\": 0.1", "add");
  mb_layer (m, "PReLU", "pr", "\"shared_axes\": [1, 2], \"alpha_regularizer\": null", "lr");
  mb_weight (m, "pr/alpha", 3, (gint64[]) { 1, 1, 8 });
  mb_layer (m, "Concatenate", "cat", "\"axis\": -1", "pr,c1");
  mb_layer (m, "MultiplyBeta", "mb", NULL, "cat");
  mb_layer (m, "UpSampling2D", "up", "\"size\": [2, 2], \"interpolation\": \"nearest\", "
            "\"data_format\": \"channels_last\"", "mb");
  mb_conv (m, "c4", "up", 16, 4, 3, 1, 1, "same", "relu", TRUE); /* fused with "up" */
  mb_layer (m, "PixelShuffle2x", "ps", NULL, "c4");
  mb_conv (m, "s2", "x", 3, 1, 3, 2, 1, "same", "tanh", TRUE);
  mb_layer (m, "UpSampling2D", "u8", "\"size\": 8", "s2"); /* not fused: feeds an Add */
  mb_layer (m, "Activation", "sg", "\"activation\": \"sigmoid\"", "u8");
  mb_layer (m, "Add", "out", NULL, "ps,sg");
  return m;
}

static Img
ref_all (Mb *m, Img x)
{
  Img c1 = ref_conv (m, "c1", x, 8, 3, 1, 1, TRUE, 1);
  Img c2 = ref_conv (m, "c2", c1, 8, 3, 1, 2, TRUE, 0);
  Img c3 = ref_conv (m, "c3", c1, 8, 1, 1, 1, FALSE, 0);
  const float *alpha = g_hash_table_lookup (m->copies, "pr/alpha");
  Img cat = img_new (x.h, x.w, 16), up, c4, ps, s2, u8;

  for (int i = 0; i < x.h; i++)
    for (int j = 0; j < x.w; j++)
      for (int c = 0; c < 8; c++)
        {
          float v = AT (c2, i, j, c) + AT (c3, i, j, c);

          v = v >= 0 ? v : 0.1f * v;
          v = v >= 0 ? v : alpha[c] * v;
          AT (cat, i, j, c) = v * 0.2f;
          AT (cat, i, j, 8 + c) = AT (c1, i, j, c) * 0.2f;
        }
  up = ref_upsample (cat, 2);
  c4 = ref_conv (m, "c4", up, 4, 3, 1, 1, TRUE, 1);
  ps = ref_d2s (c4, 2);
  s2 = ref_conv (m, "s2", x, 1, 3, 2, 1, TRUE, 2);
  u8 = ref_upsample (s2, 8);
  for (gsize i = 0; i < (gsize) ps.h * ps.w; i++)
    ps.d[i] += 1 / (1 + expf (-u8.d[i]));
  g_free (c1.d), g_free (c2.d), g_free (c3.d), g_free (cat.d), g_free (up.d), g_free (c4.d);
  g_free (s2.d), g_free (u8.d);
  return ps;
}

static void
test_layers (void)
{
  Mb *m = build_all ();
  g_autofree char *json = mb_json (m, "x", "out");
  g_autoptr (GError) error = NULL;
  g_autoptr (CatenaNnTfjsModel) model = NULL;
  const int H = 10, W = 12;

  model = catena_nn_tfjs_model_load_data (json, strlen (json), m->w->data, m->w->len, &error);
  g_assert_no_error (error);
  /* c1 1 + c2 2 + c4 (fused: a 3×3 conv at 1×) 1 = 4; s2 1 */
  g_assert_cmpint (catena_nn_tfjs_model_get_radius (model), ==, 4);
  for (int t = 0; t < 2; t++)
    {
      int h = t ? H + 6 : H, w = t ? W - 2 : W;
      g_autoptr (CatenaNnGraph) g = catena_nn_tfjs_model_build (model, h, w, &error);
      g_autoptr (CatenaNnTensor) in = NULL, out = NULL;
      g_autofree char *desc = NULL;
      Img x = img_new (h, w, 3), ref;
      double maxd = 0;

      g_assert_no_error (error);
      desc = catena_nn_graph_describe (g);
      g_test_message ("%s", desc);
      /* the UpSampling2D + Conv2D pair became Conv + DepthToSpace: one Resize left (u8) */
      g_assert_nonnull (strstr (desc, "Resize 1"));
      in = catena_nn_tensor_new (CATENA_NN_DTYPE_FLOAT, 4, (gint64[]) { 1, 3, h, w }, &error);
      for (int i = 0; i < h * w * 3; i++)
        x.d[i] = mb_rand (m) * 4;
      for (int c = 0; c < 3; c++)
        for (int i = 0; i < h * w; i++)
          ((float *) in->data)[c * h * w + i] = x.d[i * 3 + c];
      g_assert_true (catena_nn_graph_run (g, &in, &out, NULL, &error));
      g_assert_no_error (error);
      g_assert_cmpint (out->dims[1], ==, 1);
      g_assert_cmpint (out->dims[2], ==, 4 * h);
      g_assert_cmpint (out->dims[3], ==, 4 * w);
      ref = ref_all (m, x);
      for (int i = 0; i < ref.h * ref.w; i++)
        maxd = MAX (maxd, fabs (ref.d[i] - ((float *) out->data)[i]));
      g_test_message ("%d×%d: max |ours − reference| = %.3g", w, h, maxd);
      g_assert_cmpfloat (maxd, <, 1e-4);
      g_free (x.d);
      g_free (ref.d);
    }
  mb_free (m);
}

static void
test_valid_padding (void)
{
  Mb *m = mb_new ();
  g_autofree char *json = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (CatenaNnTfjsModel) model = NULL;
  g_autoptr (CatenaNnGraph) g = NULL;
  g_autoptr (CatenaNnTensor) in = NULL, out = NULL;
  Img x = img_new (9, 11, 3), ref;

  mb_layer (m, "InputLayer", "x", input_cfg, NULL);
  mb_conv (m, "v", "x", 3, 5, 3, 2, 1, "valid", "relu", TRUE);
  json = mb_json (m, "x", "v");
  model = catena_nn_tfjs_model_load_data (json, strlen (json), m->w->data, m->w->len, &error);
  g_assert_no_error (error);
  g = catena_nn_tfjs_model_build (model, 9, 11, &error);
  g_assert_no_error (error);
  in = catena_nn_tensor_new (CATENA_NN_DTYPE_FLOAT, 4, (gint64[]) { 1, 3, 9, 11 }, &error);
  for (int i = 0; i < 9 * 11 * 3; i++)
    x.d[i] = mb_rand (m);
  for (int c = 0; c < 3; c++)
    for (int i = 0; i < 99; i++)
      ((float *) in->data)[c * 99 + i] = x.d[i * 3 + c];
  g_assert_true (catena_nn_graph_run (g, &in, &out, NULL, &error));
  ref = ref_conv (m, "v", x, 5, 3, 2, 1, FALSE, 1);
  g_assert_cmpint (out->dims[2], ==, ref.h);
  g_assert_cmpint (out->dims[3], ==, ref.w);
  for (int c = 0; c < 5; c++)
    for (int i = 0; i < ref.h * ref.w; i++)
      g_assert_cmpfloat (fabs (ref.d[i * 5 + c] - ((float *) out->data)[c * ref.h * ref.w + i]),
                         <, 1e-5);
  g_free (x.d);
  g_free (ref.d);
  mb_free (m);
}

/* ---- malformed ---- */

static void
expect_fail (const char *json, const guint8 *w, gsize wlen, int code, const char *needle)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (CatenaNnTfjsModel) m = catena_nn_tfjs_model_load_data (json, strlen (json), w, wlen,
                                                                    &error);

  g_assert_null (m);
  g_assert_error (error, CATENA_NN_ERROR, code);
  g_test_message ("%s", error->message);
  if (needle != NULL && strstr (error->message, needle) == NULL)
    g_error ("“%s” not in “%s”", needle, error->message);
}

/* A one-conv model whose config or weights a test changes by string substitution. */
static char *
conv_json (Mb **out_m, const char *from, const char *to)
{
  Mb *m = mb_new ();
  g_autofree char *json = NULL;
  g_autoptr (GString) s = NULL;

  mb_layer (m, "InputLayer", "x", input_cfg, NULL);
  mb_conv (m, "conv", "x", 3, 4, 3, 1, 1, "same", "relu", TRUE);
  json = mb_json (m, "x", "conv");
  s = g_string_new (json);
  if (from != NULL)
    g_assert_cmpuint (g_string_replace (s, from, to, 1), ==, 1);
  *out_m = m;
  return g_string_free (g_steal_pointer (&s), FALSE);
}

static void
expect_conv_fail (const char *from, const char *to, int code, const char *needle)
{
  Mb *m;
  g_autofree char *json = conv_json (&m, from, to);

  expect_fail (json, m->w->data, m->w->len, code, needle);
  mb_free (m);
}

static void
test_malformed_json (void)
{
  Mb *m;
  g_autofree char *json = conv_json (&m, NULL, NULL);
  gsize len = strlen (json);

  expect_fail ("", NULL, 0, CATENA_NN_ERROR_INVALID, NULL);
  expect_fail ("{", NULL, 0, CATENA_NN_ERROR_INVALID, "not valid JSON");
  expect_fail ("[1, 2, 3]", NULL, 0, CATENA_NN_ERROR_INVALID, "Not a TF.js layers model");
  expect_fail ("{\"format\": \"graph-model\"}", NULL, 0, CATENA_NN_ERROR_UNSUPPORTED,
               "graph-model");
  expect_fail ("\xff\xfe{}", NULL, 0, CATENA_NN_ERROR_INVALID, "UTF-8");
  /* every truncation of model.json fails cleanly */
  for (gsize n = 0; n < len; n++)
    {
      g_autofree char *cut = g_strndup (json, n);
      g_autoptr (GError) error = NULL;
      g_autoptr (CatenaNnTfjsModel) t = catena_nn_tfjs_model_load_data (cut, n, m->w->data,
                                                                        m->w->len, &error);

      g_assert_null (t);
      g_assert_true (error != NULL && error->domain == CATENA_NN_ERROR);
    }
  /* every short weight buffer, and one byte too many */
  for (gsize n = 0; n <= m->w->len + 1; n++)
    {
      g_autoptr (GError) error = NULL;
      g_autofree guint8 *w = g_malloc0 (n + 1);
      g_autoptr (CatenaNnTfjsModel) t = NULL;

      memcpy (w, m->w->data, MIN (n, m->w->len));
      t = catena_nn_tfjs_model_load_data (json, len, w, n, &error);
      if (n == m->w->len)
        {
          g_assert_no_error (error);
          g_assert_nonnull (t);
        }
      else
        g_assert_error (error, CATENA_NN_ERROR, CATENA_NN_ERROR_INVALID);
    }
  mb_free (m);
}

static void
test_unsupported (void)
{
  expect_conv_fail ("\"class_name\": \"Conv2D\"", "\"class_name\": \"Conv3D\"",
                    CATENA_NN_ERROR_UNSUPPORTED, "“conv” (Conv3D)");
  expect_conv_fail ("\"class_name\": \"Conv2D\"", "\"class_name\": \"Lambda\"",
                    CATENA_NN_ERROR_UNSUPPORTED, "“conv” (Lambda)");
  expect_conv_fail ("\"padding\": \"same\"", "\"padding\": \"causal\"",
                    CATENA_NN_ERROR_UNSUPPORTED, "Layer “conv” (Conv2D): padding “causal”");
  expect_conv_fail ("\"activation\": \"relu\"", "\"activation\": \"elu\"",
                    CATENA_NN_ERROR_UNSUPPORTED, "activation “elu”");
  expect_conv_fail ("\"channels_last\"", "\"channels_first\"", CATENA_NN_ERROR_UNSUPPORTED,
                    "channels_first");
  expect_conv_fail ("\"dtype\": \"float32\"", "\"dtype\": \"mixed_float16\"",
                    CATENA_NN_ERROR_UNSUPPORTED, "mixed_float16");
  expect_conv_fail ("\"strides\": [1, 1]", "\"strides\": [100, 1]", CATENA_NN_ERROR_UNSUPPORTED,
                    "strides");
  expect_conv_fail ("\"filters\": 4", "\"filters\": 4000000000", CATENA_NN_ERROR_INVALID,
                    "filters");
  expect_conv_fail ("\"filters\": 4", "\"filters\": \"four\"", CATENA_NN_ERROR_INVALID,
                    "filters");
  expect_conv_fail ("\"class_name\": \"Functional\"", "\"class_name\": \"Sequential\"",
                    CATENA_NN_ERROR_UNSUPPORTED, "Sequential");
  expect_conv_fail ("[\"x\", 0, 0, {}]", "[\"x\", 1, 0, {}]", CATENA_NN_ERROR_UNSUPPORTED,
                    "call 1");
  expect_conv_fail ("[\"x\", 0, 0, {}]", "[\"y\", 0, 0, {}]", CATENA_NN_ERROR_INVALID,
                    "input “y” is not a layer");
  expect_conv_fail ("[\"x\", 0, 0, {}]", "[\"conv\", 0, 0, {}]", CATENA_NN_ERROR_INVALID,
                    "cycle");
  expect_conv_fail ("\"dtype\": \"float32\"}]", "\"dtype\": \"float32\", \"quantization\": "
                    "{\"dtype\": \"uint8\", \"scale\": 1, \"min\": 0}}]",
                    CATENA_NN_ERROR_UNSUPPORTED, "quantized");
  expect_conv_fail ("\"output_layers\": [[\"conv\", 0, 0]]", "\"output_layers\": []",
                    CATENA_NN_ERROR_UNSUPPORTED, "exactly one output");
  expect_conv_fail ("[null, null, null, 3]", "[null, null, null]", CATENA_NN_ERROR_UNSUPPORTED,
                    "image inputs");
  expect_conv_fail ("\"name\": \"x\", \"config\"", "\"name\": \"conv\", \"config\"",
                    CATENA_NN_ERROR_INVALID, "Two layers are named");
}

static void
test_bad_weights (void)
{
  /* kernel shape does not match the config */
  expect_conv_fail ("\"kernel_size\": [3, 3]", "\"kernel_size\": [1, 3]",
                    CATENA_NN_ERROR_INVALID, "Layer “conv” (Conv2D): kernel shape");
  /* hostile sizes: refused before allocating */
  expect_conv_fail ("\"shape\": [3, 3, 3, 4]", "\"shape\": [100000, 100000, 100000, 4]",
                    CATENA_NN_ERROR_TOO_LARGE, NULL);
  expect_conv_fail ("\"shape\": [3, 3, 3, 4]", "\"shape\": [3, -3, 3, 4]",
                    CATENA_NN_ERROR_INVALID, "invalid shape");
  expect_conv_fail ("\"shape\": [4]", "\"shape\": [1000000]", CATENA_NN_ERROR_INVALID,
                    "too short");
  expect_conv_fail ("\"name\": \"conv/bias\"", "\"name\": \"conv/kernel\"",
                    CATENA_NN_ERROR_INVALID, "listed twice");
  expect_conv_fail ("\"name\": \"conv/bias\"", "\"name\": \"other/bias\"",
                    CATENA_NN_ERROR_INVALID, "“conv/bias” is not in the manifest");
  expect_conv_fail ("\"use_bias\": true", "\"use_bias\": false", CATENA_NN_ERROR_INVALID,
                    "“conv/bias” belongs to no layer");

  /* input channels that do not match the kernel: found when building, naming the layer */
  {
    Mb *m;
    g_autofree char *json = conv_json (&m, "[null, null, null, 3]", "[null, null, null, 5]");
    g_autoptr (GError) error = NULL;
    g_autoptr (CatenaNnTfjsModel) model = catena_nn_tfjs_model_load_data (json, strlen (json),
                                                                          m->w->data, m->w->len,
                                                                          &error);
    g_autoptr (CatenaNnGraph) g = NULL;

    g_assert_no_error (error);
    g = catena_nn_tfjs_model_build (model, 8, 8, &error);
    g_assert_null (g);
    g_assert_error (error, CATENA_NN_ERROR, CATENA_NN_ERROR_INVALID);
    g_test_message ("%s", error->message);
    g_assert_nonnull (strstr (error->message, "“conv”"));
    g_clear_error (&error);
    g = catena_nn_tfjs_model_build (model, 0, 8, &error);
    g_assert_error (error, CATENA_NN_ERROR, CATENA_NN_ERROR_INPUT);
    mb_free (m);
  }
}

static void
test_files (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("catena-nn-tfjs-XXXXXX", &error);
  g_autofree char *jpath = g_build_filename (dir, "model.json", NULL);
  g_autofree char *bpath = g_build_filename (dir, "group1-shard1of1.bin", NULL);
  g_autoptr (CatenaNnTfjsModel) model = NULL;
  Mb *m;
  g_autofree char *json = conv_json (&m, NULL, NULL);
  g_autofree char *evil = NULL;
  g_auto (GStrv) parts = NULL;

  g_assert_no_error (error);
  g_assert_true (g_file_set_contents (jpath, json, -1, &error));
  /* missing shard */
  model = catena_nn_tfjs_model_load (dir, &error);
  g_assert_null (model);
  g_assert_error (error, CATENA_NN_ERROR, CATENA_NN_ERROR_MODEL_MISSING);
  g_clear_error (&error);
  /* short shard */
  g_assert_true (g_file_set_contents (bpath, (const char *) m->w->data, m->w->len - 4, &error));
  model = catena_nn_tfjs_model_load (jpath, &error);
  g_assert_error (error, CATENA_NN_ERROR, CATENA_NN_ERROR_INVALID);
  g_test_message ("%s", error->message);
  g_clear_error (&error);
  /* complete */
  g_assert_true (g_file_set_contents (bpath, (const char *) m->w->data, m->w->len, &error));
  model = catena_nn_tfjs_model_load (dir, &error);
  g_assert_no_error (error);
  g_assert_nonnull (model);
  g_clear_pointer (&model, catena_nn_tfjs_model_free);
  /* shard names must stay next to model.json */
  parts = g_strsplit (json, "group1-shard1of1.bin", -1);
  evil = g_strjoinv ("../../etc/passwd", parts);
  g_assert_true (g_file_set_contents (jpath, evil, -1, &error));
  model = catena_nn_tfjs_model_load (dir, &error);
  g_assert_error (error, CATENA_NN_ERROR, CATENA_NN_ERROR_INVALID);
  g_clear_error (&error);
  /* no model at all */
  model = catena_nn_tfjs_model_load ("/nonexistent/model.json", &error);
  g_assert_error (error, CATENA_NN_ERROR, CATENA_NN_ERROR_MODEL_MISSING);
  g_remove (jpath);
  g_remove (bpath);
  g_rmdir (dir);
  mb_free (m);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/nn/tfjs/layers", test_layers);
  g_test_add_func ("/nn/tfjs/valid-padding", test_valid_padding);
  g_test_add_func ("/nn/tfjs/malformed-json", test_malformed_json);
  g_test_add_func ("/nn/tfjs/unsupported", test_unsupported);
  g_test_add_func ("/nn/tfjs/bad-weights", test_bad_weights);
  g_test_add_func ("/nn/tfjs/files", test_files);
  return g_test_run ();
}
