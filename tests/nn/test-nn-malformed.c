/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Malformed and hostile ONNX input: every case must end in a clear GError, never a crash or
 * an unbounded allocation. Truncations and byte flips of a valid model are run too. */

#include "config.h"

#include "nn-test-onnx.h"

static Tb *
small_model (void)
{
  Tb *tb = tb_new (13);
  gint64 xd[4] = { 1, 2, 6, 6 }, wd[4] = { 3, 2, 3, 3 }, bd[1] = { 3 };
  float w[54], b[3] = { 0.1f, -0.2f, 0.3f };
  Onnx__NodeProto *n;

  for (int i = 0; i < 54; i++)
    w[i] = (float) (i % 7) * 0.1f - 0.3f;
  tb_input (tb, "x", CATENA_NN_DTYPE_FLOAT, 4, xd);
  tb_init_float (tb, "w", 4, wd, w);
  tb_init_float (tb, "b", 1, bd, b);
  n = tb_node (tb, "Conv", "x,w,b", "c");
  tb_attr_ints (tb, n, "pads", 4, (gint64[]) { 1, 1, 1, 1 });
  tb_node (tb, "Relu", "c", "r");
  n = tb_node (tb, "MaxPool", "r", "y");
  tb_attr_ints (tb, n, "kernel_shape", 2, (gint64[]) { 2, 2 });
  tb_attr_ints (tb, n, "strides", 2, (gint64[]) { 2, 2 });
  tb_output (tb, "y", CATENA_NN_DTYPE_FLOAT);
  return tb;
}

static void
expect_error (Tb *tb, int code, const char *needle)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (CatenaNnGraph) g = tb_load (tb, NULL, &error);

  g_assert_null (g);
  g_assert_error (error, CATENA_NN_ERROR, code);
  g_test_message ("%s", error->message);
  if (needle != NULL)
    g_assert_nonnull (strstr (error->message, needle));
  tb_free (tb);
}

/* Loads whatever it gets; if it loads, running it on zeros must work too. */
static void
load_anything (const guint8 *data, gsize len)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (CatenaNnGraph) g = catena_nn_graph_load_onnx (data, len, NULL, &error);
  g_autoptr (GPtrArray) ins = NULL;
  CatenaNnTensor *outs[8] = { NULL };

  if (g == NULL)
    {
      g_assert_nonnull (error);
      g_assert_true (error->domain == CATENA_NN_ERROR);
      return;
    }
  if (catena_nn_graph_get_n_outputs (g) > G_N_ELEMENTS (outs))
    return;
  ins = g_ptr_array_new_with_free_func ((GDestroyNotify) catena_nn_tensor_unref);
  for (guint i = 0; i < catena_nn_graph_get_n_inputs (g); i++)
    {
      CatenaNnDType dt;
      const gint64 *dims;
      int nd;
      CatenaNnTensor *t;

      catena_nn_graph_get_input (g, i, &dt, &nd, &dims);
      t = catena_nn_tensor_new (dt, nd, dims, NULL);
      if (t == NULL)
        return;
      g_ptr_array_add (ins, t);
    }
  if (catena_nn_graph_run (g, (CatenaNnTensor *const *) ins->pdata, outs, NULL, &error))
    for (guint i = 0; i < catena_nn_graph_get_n_outputs (g); i++)
      catena_nn_tensor_unref (outs[i]);
}

static void
test_garbage (void)
{
  g_autoptr (GError) error = NULL;
  static const guint8 junk[] = "this is not a protobuf \xff\xff\xff\xff\xff\xff\xff\x0f";
  CatenaNnGraph *g;

  g = catena_nn_graph_load_onnx (junk, sizeof junk, NULL, &error);
  g_assert_null (g);
  g_assert_error (error, CATENA_NN_ERROR, CATENA_NN_ERROR_INVALID);
  g_clear_error (&error);
  g = catena_nn_graph_load_onnx (junk, 0, NULL, &error);
  g_assert_null (g);
  g_assert_error (error, CATENA_NN_ERROR, CATENA_NN_ERROR_INVALID); /* no graph */
  g_clear_error (&error);
  g = catena_nn_graph_load_onnx_file ("/nonexistent/model.onnx", NULL, &error);
  g_assert_null (g);
  g_assert_error (error, CATENA_NN_ERROR, CATENA_NN_ERROR_IO);
  g_clear_error (&error);
  g_assert_null (catena_nn_tensor_new_from_onnx (junk, sizeof junk, &error));
  g_assert_error (error, CATENA_NN_ERROR, CATENA_NN_ERROR_INVALID);
}

static void
test_truncated_and_flipped (void)
{
  Tb *tb = small_model ();
  g_autoptr (GBytes) bytes = tb_pack (tb);
  gsize len;
  const guint8 *data = g_bytes_get_data (bytes, &len);
  g_autofree guint8 *copy = g_memdup2 (data, len);
  g_autoptr (GRand) r = g_rand_new_with_seed (1234);

  load_anything (data, len); /* the intact model loads and runs */
  {
    g_autoptr (GError) error = NULL;
    g_autoptr (CatenaNnGraph) g = catena_nn_graph_load_onnx (data, len, NULL, &error);
    g_assert_no_error (error);
  }
  for (gsize cut = 0; cut < len; cut++)
    load_anything (data, cut);
  for (int i = 0; i < 3000; i++)
    {
      gsize pos = g_rand_int_range (r, 0, (gint32) len);
      guint8 old = copy[pos];

      copy[pos] = (guint8) g_rand_int_range (r, 0, 256);
      if (g_rand_boolean (r))
        copy[g_rand_int_range (r, 0, (gint32) len)] ^= 0x80;
      load_anything (copy, len);
      copy[pos] = old;
      memcpy (copy, data, len);
    }
  tb_free (tb);
}

static void
test_unsupported_op (void)
{
  Tb *tb = small_model ();

  tb_node (tb, "FancyAttention", "y", "z");
  tb_node (tb, "Einsum", "z", "q");
  expect_error (tb, CATENA_NN_ERROR_UNSUPPORTED, "FancyAttention, Einsum");
}

static void
test_unsupported_attr (void)
{
  Tb *tb = small_model ();
  Onnx__NodeProto *n = g_ptr_array_index (tb->nodes, 0);

  tb_attr_int (tb, n, "fancy_mode", 1);
  expect_error (tb, CATENA_NN_ERROR_UNSUPPORTED, "fancy_mode");
}

static void
test_hostile_dims (void)
{
  Tb *tb = tb_new (13);
  gint64 xd[2] = { 1, 4 }, big[3] = { G_GINT64_CONSTANT (1) << 40, G_GINT64_CONSTANT (1) << 40, 8 };
  float v = 1;

  tb_input (tb, "x", CATENA_NN_DTYPE_FLOAT, 2, xd);
  tb_init_raw (tb, "w", CATENA_NN_DTYPE_FLOAT, 3, big, &v, 4);
  tb_node (tb, "Add", "x,w", "y");
  tb_output (tb, "y", CATENA_NN_DTYPE_FLOAT);
  expect_error (tb, CATENA_NN_ERROR_TOO_LARGE, NULL);

  tb = tb_new (13);
  tb_input (tb, "x", CATENA_NN_DTYPE_FLOAT, 2, (gint64[]) { G_MAXINT64, G_MAXINT64 });
  tb_node (tb, "Relu", "x", "y");
  tb_output (tb, "y", CATENA_NN_DTYPE_FLOAT);
  expect_error (tb, CATENA_NN_ERROR_TOO_LARGE, NULL);

  tb = tb_new (13);
  tb_input (tb, "x", CATENA_NN_DTYPE_FLOAT, 2, (gint64[]) { 1, -1 });
  tb_node (tb, "Relu", "x", "y");
  tb_output (tb, "y", CATENA_NN_DTYPE_FLOAT);
  expect_error (tb, CATENA_NN_ERROR_UNSUPPORTED, "symbolic");
}

static void
test_short_raw_data (void)
{
  Tb *tb = small_model ();
  Onnx__TensorProto *w = g_ptr_array_index (tb->inits, 0);

  w->raw_data.len -= 4;
  expect_error (tb, CATENA_NN_ERROR_INVALID, "wrong amount of data");
}

static void
test_bad_graphs (void)
{
  Tb *tb;
  Onnx__NodeProto *n;

  /* an input nobody defines */
  tb = small_model ();
  tb_node (tb, "Add", "y,nowhere", "z");
  expect_error (tb, CATENA_NN_ERROR_INVALID, "nowhere");

  /* a cycle */
  tb = tb_new (13);
  tb_input (tb, "x", CATENA_NN_DTYPE_FLOAT, 1, (gint64[]) { 4 });
  tb_node (tb, "Add", "x,b", "a");
  tb_node (tb, "Relu", "a", "b");
  tb_output (tb, "b", CATENA_NN_DTYPE_FLOAT);
  expect_error (tb, CATENA_NN_ERROR_INVALID, "cycle");

  /* a value defined twice */
  tb = small_model ();
  tb_node (tb, "Relu", "x", "y");
  expect_error (tb, CATENA_NN_ERROR_INVALID, "twice");

  /* weights that do not fit the input */
  tb = tb_new (13);
  tb_input (tb, "x", CATENA_NN_DTYPE_FLOAT, 4, (gint64[]) { 1, 3, 8, 8 });
  tb_init_float (tb, "w", 4, (gint64[]) { 2, 5, 3, 3 }, (float[90]) { 0 });
  tb_node (tb, "Conv", "x,w", "y");
  tb_output (tb, "y", CATENA_NN_DTYPE_FLOAT);
  expect_error (tb, CATENA_NN_ERROR_INVALID, "group");

  /* a kernel larger than the input */
  tb = tb_new (13);
  tb_input (tb, "x", CATENA_NN_DTYPE_FLOAT, 4, (gint64[]) { 1, 1, 2, 2 });
  tb_init_float (tb, "w", 4, (gint64[]) { 1, 1, 5, 5 }, (float[25]) { 0 });
  tb_node (tb, "Conv", "x,w", "y");
  tb_output (tb, "y", CATENA_NN_DTYPE_FLOAT);
  expect_error (tb, CATENA_NN_ERROR_UNSUPPORTED, "do not fit");

  /* a hostile dilation */
  tb = tb_new (13);
  tb_input (tb, "x", CATENA_NN_DTYPE_FLOAT, 4, (gint64[]) { 1, 1, 4, 4 });
  tb_init_float (tb, "w", 4, (gint64[]) { 1, 1, 3, 3 }, (float[9]) { 0 });
  n = tb_node (tb, "Conv", "x,w", "y");
  tb_attr_ints (tb, n, "dilations", 2, (gint64[]) { G_MAXINT64, 1 });
  tb_output (tb, "y", CATENA_NN_DTYPE_FLOAT);
  expect_error (tb, CATENA_NN_ERROR_UNSUPPORTED, NULL);

  /* a Resize to an absurd size */
  tb = tb_new (13);
  tb_input (tb, "x", CATENA_NN_DTYPE_FLOAT, 4, (gint64[]) { 1, 1, 4, 4 });
  tb_init_int64 (tb, "s", 4, (gint64[]) { 1, 1, G_GINT64_CONSTANT (1) << 31, 1 << 20 });
  tb_node (tb, "Resize", "x,,,s", "y");
  tb_output (tb, "y", CATENA_NN_DTYPE_FLOAT);
  expect_error (tb, CATENA_NN_ERROR_TOO_LARGE, NULL);

  /* Reshape to a different element count */
  tb = tb_new (13);
  tb_input (tb, "x", CATENA_NN_DTYPE_FLOAT, 2, (gint64[]) { 2, 3 });
  tb_init_int64 (tb, "s", 2, (gint64[]) { 4, 2 });
  tb_node (tb, "Reshape", "x,s", "y");
  tb_output (tb, "y", CATENA_NN_DTYPE_FLOAT);
  expect_error (tb, CATENA_NN_ERROR_INVALID, "elements");

  /* a shape computed at run time */
  tb = tb_new (13);
  tb_input (tb, "x", CATENA_NN_DTYPE_FLOAT, 2, (gint64[]) { 2, 3 });
  tb_input (tb, "s", CATENA_NN_DTYPE_INT64, 1, (gint64[]) { 2 });
  tb_node (tb, "Reshape", "x,s", "y");
  tb_output (tb, "y", CATENA_NN_DTYPE_FLOAT);
  expect_error (tb, CATENA_NN_ERROR_NOT_CONSTANT, "loaded");

  /* an output nobody computes */
  tb = small_model ();
  tb_output (tb, "ghost", CATENA_NN_DTYPE_FLOAT);
  expect_error (tb, CATENA_NN_ERROR_INVALID, "ghost");

  /* a foreign operator domain */
  tb = small_model ();
  n = tb_node (tb, "Relu", "y", "z");
  n->domain = (char *) "com.microsoft";
  expect_error (tb, CATENA_NN_ERROR_UNSUPPORTED, "com.microsoft.Relu");

  /* external data */
  tb = small_model ();
  ((Onnx__TensorProto *) g_ptr_array_index (tb->inits, 0))->has_data_location = TRUE;
  ((Onnx__TensorProto *) g_ptr_array_index (tb->inits, 0))->data_location =
    ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL;
  expect_error (tb, CATENA_NN_ERROR_UNSUPPORTED, "external");
}

static void
test_wrong_run_input (void)
{
  g_autoptr (GError) error = NULL;
  Tb *tb = small_model ();
  g_autoptr (CatenaNnGraph) g = tb_load (tb, NULL, &error);
  g_autoptr (CatenaNnTensor) bad = catena_nn_tensor_new (CATENA_NN_DTYPE_FLOAT, 4,
                                                         (gint64[]) { 1, 2, 6, 7 }, NULL);
  CatenaNnTensor *out[1] = { NULL };

  g_assert_no_error (error);
  g_assert_false (catena_nn_graph_run (g, &bad, out, NULL, &error));
  g_assert_error (error, CATENA_NN_ERROR, CATENA_NN_ERROR_INPUT);
  g_assert_nonnull (strstr (error->message, "1×2×6×6"));
  tb_free (tb);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/nn/malformed/garbage", test_garbage);
  g_test_add_func ("/nn/malformed/truncated-flipped", test_truncated_and_flipped);
  g_test_add_func ("/nn/malformed/unsupported-op", test_unsupported_op);
  g_test_add_func ("/nn/malformed/unsupported-attribute", test_unsupported_attr);
  g_test_add_func ("/nn/malformed/hostile-dims", test_hostile_dims);
  g_test_add_func ("/nn/malformed/short-raw-data", test_short_raw_data);
  g_test_add_func ("/nn/malformed/bad-graphs", test_bad_graphs);
  g_test_add_func ("/nn/malformed/wrong-run-input", test_wrong_run_input);
  return g_test_run ();
}
