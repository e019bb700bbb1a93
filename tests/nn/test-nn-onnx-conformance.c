/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Runs Debian's libonnx-testdata node tests (ONNX 1.12 backend tests) for every operator
 * engine/nn supports, and reports pass / fail / skip counts per operator. A test whose
 * attributes or types engine/nn does not support must be refused cleanly when loading
 * (UNSUPPORTED or TOO_LARGE): it is reported as skipped with the reason. */

#include "config.h"

#include <locale.h>
#include <math.h>
#include <string.h>

#include "catena-nn.h"
#include "onnx.pb-c.h"

#define DEFAULT_TESTDATA "/usr/share/libonnx-testdata/data/node"

typedef struct
{
  char *op;
  GPtrArray *tests; /* char * dir names */
  int pass, fail, skip;
  GString *report;
} OpGroup;

static GHashTable *groups; /* op → OpGroup */
static char *testdata;

static const char *
testdata_dir (void)
{
  const char *env = g_getenv ("CATENA_ONNX_TESTDATA");

  return env != NULL ? env : DEFAULT_TESTDATA;
}

static gboolean
op_supported (const char *op)
{
  const char *const *ops = catena_nn_supported_ops ();

  for (int i = 0; ops[i] != NULL; i++)
    if (strcmp (ops[i], op) == 0)
      return TRUE;
  return FALSE;
}

/* The operator a test is about is its last node's (Constant nodes feed it). Tests of other
 * operators' function bodies (…_expanded) count only if engine/nn supports all their nodes. */
static const char *
test_op (const char *name, Onnx__ModelProto *mp)
{
  const Onnx__GraphProto *gp = mp->graph;
  gboolean all_supported = TRUE;
  const char *last;
  g_autofree char *prefix = NULL;
  gsize len;

  if (gp == NULL || gp->n_node == 0)
    return NULL;
  for (gsize i = 0; i < gp->n_node; i++)
    if ((gp->node[i]->domain != NULL && gp->node[i]->domain[0] != '\0')
        || !op_supported (gp->node[i]->op_type))
      all_supported = FALSE;
  last = gp->node[gp->n_node - 1]->op_type;
  if (!op_supported (last))
    return NULL;
  prefix = g_ascii_strdown (last, -1);
  len = strlen (prefix);
  if (all_supported
      || (g_str_has_prefix (name + 5, prefix) && (name[5 + len] == '\0' || name[5 + len] == '_')))
    return last;
  return NULL;
}

static CatenaNnTensor *
read_tensor (const char *path, GError **error)
{
  g_autofree char *data = NULL;
  gsize len;

  if (!g_file_get_contents (path, &data, &len, error))
    return NULL;
  return catena_nn_tensor_new_from_onnx ((const guint8 *) data, len, error);
}

static gboolean
compare (CatenaNnTensor *got, CatenaNnTensor *want, GString *why)
{
  if (got->dtype != want->dtype || got->ndim != want->ndim
      || memcmp (got->dims, want->dims, sizeof (gint64) * got->ndim) != 0)
    {
      g_string_append_printf (why, "type/shape %s rank %d vs expected %s rank %d",
                              catena_nn_dtype_name (got->dtype), got->ndim,
                              catena_nn_dtype_name (want->dtype), want->ndim);
      return FALSE;
    }
  for (gsize i = 0; i < got->n_elements; i++)
    {
      double a, b;

      switch (got->dtype)
        {
        case CATENA_NN_DTYPE_FLOAT: a = ((float *) got->data)[i], b = ((float *) want->data)[i]; break;
        case CATENA_NN_DTYPE_DOUBLE: a = ((double *) got->data)[i], b = ((double *) want->data)[i]; break;
        case CATENA_NN_DTYPE_FLOAT16:
          a = catena_nn_half_to_float (((guint16 *) got->data)[i]);
          b = catena_nn_half_to_float (((guint16 *) want->data)[i]);
          break;
        default:
          if (memcmp ((guint8 *) got->data + i * catena_nn_dtype_size (got->dtype),
                      (guint8 *) want->data + i * catena_nn_dtype_size (got->dtype),
                      catena_nn_dtype_size (got->dtype)) != 0)
            {
              g_string_append_printf (why, "element %" G_GSIZE_FORMAT " differs", i);
              return FALSE;
            }
          continue;
        }
      if (isnan (a) && isnan (b))
        continue;
      /* numpy.testing.assert_allclose as ONNX's backend tests use it */
      if (!(fabs (a - b) <= 1e-7 + 1e-3 * fabs (b)) && !(a == b))
        {
          g_string_append_printf (why, "element %" G_GSIZE_FORMAT ": %g, expected %g", i, a, b);
          return FALSE;
        }
    }
  return TRUE;
}

typedef enum { RESULT_PASS, RESULT_FAIL, RESULT_SKIP } Result;

static Result
run_one (const char *dir, GString *why)
{
  g_autofree char *model_path = g_build_filename (dir, "model.onnx", NULL);
  g_autofree char *model = NULL;
  g_autoptr (GDir) d = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) sets = g_ptr_array_new_with_free_func (g_free);
  Onnx__ModelProto *mp;
  g_auto (GStrv) input_names = NULL;
  gsize len;
  const char *entry;

  if (!g_file_get_contents (model_path, &model, &len, &error))
    {
      g_string_append (why, error->message);
      return RESULT_FAIL;
    }
  /* input names in order, minus initializers (ONNX feeds them positionally) */
  mp = onnx__model_proto__unpack (NULL, len, (const guint8 *) model);
  if (mp == NULL || mp->graph == NULL)
    {
      g_string_append (why, "cannot parse model.onnx");
      return RESULT_FAIL;
    }
  {
    g_autoptr (GStrvBuilder) b = g_strv_builder_new ();

    for (gsize i = 0; i < mp->graph->n_input; i++)
      {
        gboolean init = FALSE;

        for (gsize j = 0; j < mp->graph->n_initializer; j++)
          if (g_strcmp0 (mp->graph->initializer[j]->name, mp->graph->input[i]->name) == 0)
            init = TRUE;
        if (!init)
          g_strv_builder_add (b, mp->graph->input[i]->name);
      }
    input_names = g_strv_builder_end (b);
  }
  onnx__model_proto__free_unpacked (mp, NULL);

  d = g_dir_open (dir, 0, NULL);
  while (d != NULL && (entry = g_dir_read_name (d)) != NULL)
    if (g_str_has_prefix (entry, "test_data_set_"))
      g_ptr_array_add (sets, g_build_filename (dir, entry, NULL));
  g_ptr_array_sort (sets, (GCompareFunc) g_strcmp0);

  for (guint s = 0; s < sets->len; s++)
    {
      const char *set = g_ptr_array_index (sets, s);
      g_autoptr (GPtrArray) inputs = g_ptr_array_new_with_free_func (
        (GDestroyNotify) catena_nn_tensor_unref);
      g_autoptr (GPtrArray) expected = g_ptr_array_new_with_free_func (
        (GDestroyNotify) catena_nn_tensor_unref);
      g_autoptr (GHashTable) bind = NULL;
      g_autoptr (CatenaNnGraph) graph = NULL;
      g_autoptr (GPtrArray) feed = g_ptr_array_new ();
      CatenaNnTensor **outputs;
      gboolean ok = TRUE;

      for (int i = 0;; i++)
        {
          g_autofree char *name = g_strdup_printf ("input_%d.pb", i);
          g_autofree char *path = g_build_filename (set, name, NULL);
          CatenaNnTensor *t;

          if (!g_file_test (path, G_FILE_TEST_EXISTS))
            break;
          t = read_tensor (path, &error);
          if (t == NULL)
            {
              /* sequences and optionals are not tensors: their models are refused too */
              g_string_append_printf (why, "%s: %s", name, error->message);
              return RESULT_SKIP;
            }
          g_ptr_array_add (inputs, t);
        }
      for (int i = 0;; i++)
        {
          g_autofree char *name = g_strdup_printf ("output_%d.pb", i);
          g_autofree char *path = g_build_filename (set, name, NULL);
          CatenaNnTensor *t;

          if (!g_file_test (path, G_FILE_TEST_EXISTS))
            break;
          t = read_tensor (path, &error);
          if (t == NULL)
            {
              g_string_append_printf (why, "%s: %s", name, error->message);
              return RESULT_SKIP;
            }
          g_ptr_array_add (expected, t);
        }

      graph = catena_nn_graph_load_onnx ((const guint8 *) model, len, NULL, &error);
      if (graph == NULL && g_error_matches (error, CATENA_NN_ERROR,
                                            CATENA_NN_ERROR_NOT_CONSTANT))
        {
          /* shape inputs (starts, sizes, axes…) fed as data: bind all but the first */
          g_clear_error (&error);
          bind = g_hash_table_new (g_str_hash, g_str_equal);
          for (guint i = 1; i < inputs->len && input_names[i] != NULL; i++)
            g_hash_table_insert (bind, input_names[i], g_ptr_array_index (inputs, i));
          graph = catena_nn_graph_load_onnx ((const guint8 *) model, len,
                                             &(CatenaNnLoadOptions) { bind, NULL }, &error);
        }
      if (graph == NULL)
        {
          g_string_append (why, error->message);
          if (error->domain == CATENA_NN_ERROR
              && (error->code == CATENA_NN_ERROR_UNSUPPORTED
                  || error->code == CATENA_NN_ERROR_TOO_LARGE))
            return RESULT_SKIP;
          return RESULT_FAIL;
        }
      for (guint i = 0; i < inputs->len && input_names[i] != NULL; i++)
        if (bind == NULL || !g_hash_table_contains (bind, input_names[i]))
          g_ptr_array_add (feed, g_ptr_array_index (inputs, i));
      if (feed->len != catena_nn_graph_get_n_inputs (graph)
          || expected->len != catena_nn_graph_get_n_outputs (graph))
        {
          g_string_append_printf (why, "%u inputs / %u outputs, the graph has %u / %u",
                                  feed->len, expected->len,
                                  catena_nn_graph_get_n_inputs (graph),
                                  catena_nn_graph_get_n_outputs (graph));
          return RESULT_FAIL;
        }
      outputs = g_new0 (CatenaNnTensor *, expected->len + 1);
      if (!catena_nn_graph_run (graph, (CatenaNnTensor *const *) feed->pdata, outputs, NULL,
                                &error))
        {
          g_string_append (why, error->message);
          ok = FALSE;
        }
      for (guint i = 0; ok && i < expected->len; i++)
        if (!compare (outputs[i], g_ptr_array_index (expected, i), why))
          {
            g_autofree char *base = g_path_get_basename (set);
            g_autofree char *where = g_strdup_printf ("%s output %u: ", base, i);

            g_string_prepend (why, where);
            ok = FALSE;
          }
      for (guint i = 0; i < expected->len; i++)
        catena_nn_tensor_unref (outputs[i]);
      g_free (outputs);
      if (!ok)
        return RESULT_FAIL;
    }
  return RESULT_PASS;
}

static void
test_group (gconstpointer data)
{
  OpGroup *grp = (OpGroup *) data;

  for (guint i = 0; i < grp->tests->len; i++)
    {
      const char *name = g_ptr_array_index (grp->tests, i);
      g_autofree char *dir = g_build_filename (testdata, name, NULL);
      g_autoptr (GString) why = g_string_new (NULL);

      switch (run_one (dir, why))
        {
        case RESULT_PASS:
          grp->pass++;
          break;
        case RESULT_SKIP:
          grp->skip++;
          g_test_message ("skip %s: %s", name, why->str);
          break;
        case RESULT_FAIL:
          grp->fail++;
          g_test_message ("FAIL %s: %s", name, why->str);
          break;
        }
    }
  g_test_message ("%s: %d passed, %d failed, %d skipped (of %u)", grp->op, grp->pass,
                  grp->fail, grp->skip, grp->tests->len);
  g_string_append_printf (grp->report, "%-20s %3d passed %3d failed %3d skipped\n", grp->op,
                          grp->pass, grp->fail, grp->skip);
  g_assert_cmpint (grp->fail, ==, 0);
}

static GString *summary;

static void
test_summary (void)
{
  g_test_message ("per-operator results:\n%s", summary->str);
}

static void
test_missing (void)
{
  g_test_skip ("libonnx-testdata is not installed (apt-get install libonnx-testdata), or set "
               "CATENA_ONNX_TESTDATA to its data/node folder");
}

int
main (int argc, char **argv)
{
  g_autoptr (GDir) d = NULL;
  g_autoptr (GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GList) ops = NULL;
  const char *entry;

  setlocale (LC_ALL, "");
  g_test_init (&argc, &argv, NULL);
  testdata = g_strdup (testdata_dir ());
  d = g_dir_open (testdata, 0, NULL);
  if (d == NULL)
    {
      g_test_add_func ("/nn/onnx/conformance", test_missing);
      return g_test_run ();
    }
  while ((entry = g_dir_read_name (d)) != NULL)
    g_ptr_array_add (names, g_strdup (entry));
  g_ptr_array_sort (names, (GCompareFunc) g_strcmp0);

  groups = g_hash_table_new (g_str_hash, g_str_equal);
  summary = g_string_new (NULL);
  for (guint i = 0; i < names->len; i++)
    {
      const char *name = *(char **) &g_ptr_array_index (names, i);
      g_autofree char *path = g_build_filename (testdata, name, "model.onnx", NULL);
      g_autofree char *model = NULL;
      gsize len;
      Onnx__ModelProto *mp;
      const char *op;
      OpGroup *grp;

      if (!g_file_get_contents (path, &model, &len, NULL))
        continue;
      mp = onnx__model_proto__unpack (NULL, len, (const guint8 *) model);
      if (mp == NULL)
        continue;
      op = test_op (name, mp);
      if (op != NULL && op_supported (op))
        {
          grp = g_hash_table_lookup (groups, op);
          if (grp == NULL)
            {
              grp = g_new0 (OpGroup, 1);
              grp->op = g_strdup (op);
              grp->tests = g_ptr_array_new ();
              grp->report = summary;
              g_hash_table_insert (groups, grp->op, grp);
            }
          g_ptr_array_add (grp->tests, g_strdup (name));
        }
      onnx__model_proto__free_unpacked (mp, NULL);
    }
  ops = g_list_sort (g_hash_table_get_keys (groups), (GCompareFunc) strcmp);
  for (GList *l = ops; l != NULL; l = l->next)
    {
      g_autofree char *path = g_strdup_printf ("/nn/onnx/%s", (char *) l->data);

      g_test_add_data_func (path, g_hash_table_lookup (groups, l->data), test_group);
    }
  g_test_add_func ("/nn/onnx/summary", test_summary);
  return g_test_run ();
}
