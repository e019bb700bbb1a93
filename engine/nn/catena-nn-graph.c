/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#ifdef __linux__
#include <sys/mman.h>
#include <unistd.h>
#endif

#include "catena-nn-params.h"
#include "catena-nn-private.h"
#include "catena-nn-winograd.h"

/* Constant folding runs kernels while loading; keep what it may produce small. */
#define NN_MAX_FOLD_BYTES ((gsize) 64 << 20)

NnGraph *
nn_graph_new (void)
{
  NnGraph *g = g_new0 (NnGraph, 1);

  g->values = g_array_new (FALSE, TRUE, sizeof (NnValue));
  g->nodes = g_array_new (FALSE, TRUE, sizeof (NnNode));
  g->value_index = g_hash_table_new (g_str_hash, g_str_equal);
  g->inputs = g_array_new (FALSE, FALSE, sizeof (int));
  g->input_dtypes = g_array_new (FALSE, FALSE, sizeof (int));
  g->outputs = g_array_new (FALSE, FALSE, sizeof (int));
  g->output_dtypes = g_array_new (FALSE, FALSE, sizeof (int));
  g_mutex_init (&g->lock);
  return g;
}

void
catena_nn_graph_free (CatenaNnGraph *g)
{
  if (g == NULL)
    return;
  if (g->free_device != NULL)
    g->free_device (g->device);
  for (guint i = 0; i < g->nodes->len; i++)
    {
      NnNode *n = nn_node (g, i);

      g_free (n->name);
      g_free (n->op_type);
      g_free (n->in);
      g_free (n->out);
      for (int a = 0; a < n->n_attrs; a++)
        {
          g_free (n->attrs[a].name);
          g_free (n->attrs[a].s);
          g_free (n->attrs[a].ints);
          g_free (n->attrs[a].floats);
          catena_nn_tensor_unref (n->attrs[a].t);
        }
      g_free (n->attrs);
      if (n->free_params != NULL)
        n->free_params (n->params);
    }
  for (guint i = 0; i < g->values->len; i++)
    {
      NnValue *v = nn_value (g, i);

      g_free (v->name);
      catena_nn_tensor_unref (v->constant);
    }
  g_array_unref (g->values);
  g_array_unref (g->nodes);
  g_hash_table_unref (g->value_index);
  g_array_unref (g->inputs);
  g_array_unref (g->input_dtypes);
  g_array_unref (g->outputs);
  g_array_unref (g->output_dtypes);
  g_free (g->order);
  g_free (g->views);
  nn_aligned_free (g->arena);
  nn_aligned_free (g->workspace);
  g_mutex_clear (&g->lock);
  g_free (g);
}

int
nn_graph_lookup (NnGraph *g, const char *name)
{
  return GPOINTER_TO_INT (g_hash_table_lookup (g->value_index, name)) - 1;
}

/* Adds a value named `name` (names are unique: SSA). Returns -1 if it exists. */
int
nn_graph_add_value (NnGraph *g, const char *name)
{
  NnValue v = { 0 };
  int index;

  if (nn_graph_lookup (g, name) >= 0)
    return -1;
  v.name = g_strdup (name);
  v.producer = -1;
  v.alias_of = -1;
  v.def_step = -1;
  v.last_use = -1;
  g_array_append_val (g->values, v);
  index = (int) g->values->len - 1;
  /* the table keys point into the value's own copy of the name */
  g_hash_table_insert (g->value_index, nn_value (g, index)->name, GINT_TO_POINTER (index + 1));
  return index;
}

void
nn_error (GError **error, int code, NnNode *node, const char *format, ...)
{
  g_autofree char *msg = NULL;
  va_list args;

  va_start (args, format);
  msg = g_strdup_vprintf (format, args);
  va_end (args);
  if (node->name != NULL && node->name[0] != '\0')
    g_set_error (error, CATENA_NN_ERROR, code, "Operator %s (node “%s”): %s", node->op_type,
                 node->name, msg);
  else
    g_set_error (error, CATENA_NN_ERROR, code, "Operator %s: %s", node->op_type, msg);
}

NnAttr *
nn_attr (NnNode *node, const char *name)
{
  for (int i = 0; i < node->n_attrs; i++)
    if (strcmp (node->attrs[i].name, name) == 0)
      return &node->attrs[i];
  return NULL;
}

gint64
nn_attr_int (NnNode *node, const char *name, gint64 def)
{
  NnAttr *a = nn_attr (node, name);

  return a != NULL && a->type == NN_ATTR_INT ? a->i : def;
}

float
nn_attr_float (NnNode *node, const char *name, float def)
{
  NnAttr *a = nn_attr (node, name);

  return a != NULL && a->type == NN_ATTR_FLOAT ? a->f : def;
}

const char *
nn_attr_string (NnNode *node, const char *name, const char *def)
{
  NnAttr *a = nn_attr (node, name);

  return a != NULL && a->type == NN_ATTR_STRING ? a->s : def;
}

const gint64 *
nn_attr_ints (NnNode *node, const char *name, gsize *n)
{
  NnAttr *a = nn_attr (node, name);

  if (a == NULL || a->type != NN_ATTR_INTS)
    {
      *n = 0;
      return NULL;
    }
  *n = a->n;
  return a->ints;
}

/* Any attribute the op does not know could change its meaning: refuse it. */
gboolean
nn_check_attrs (NnNode *node, const char *const *known, GError **error)
{
  for (int i = 0; i < node->n_attrs; i++)
    {
      gboolean ok = FALSE;

      for (int k = 0; known != NULL && known[k] != NULL; k++)
        if (strcmp (known[k], node->attrs[i].name) == 0)
          ok = TRUE;
      if (!ok)
        {
          nn_error (error, CATENA_NN_ERROR_UNSUPPORTED, node, "attribute “%s” is not supported",
                    node->attrs[i].name);
          return FALSE;
        }
      if (node->attrs[i].type == NN_ATTR_OTHER)
        {
          nn_error (error, CATENA_NN_ERROR_UNSUPPORTED, node,
                    "attribute “%s” has an unsupported kind", node->attrs[i].name);
          return FALSE;
        }
    }
  return TRUE;
}

NnValue *
nn_input (NnGraph *g, NnNode *node, int i)
{
  if (i >= node->n_in || node->in[i] < 0)
    return NULL;
  return nn_value (g, node->in[i]);
}

gboolean
nn_set_output (NnGraph *g,
               NnNode *node,
               int i,
               CatenaNnDType dtype,
               int ndim,
               const gint64 *dims,
               GError **error)
{
  NnValue *v;
  GError *local = NULL;

  if (i >= node->n_out || node->out[i] < 0)
    return TRUE;
  v = nn_value (g, node->out[i]);
  if (dtype == CATENA_NN_DTYPE_FLOAT16)
    dtype = CATENA_NN_DTYPE_FLOAT;
  if (!nn_dtype_is_storable (dtype))
    {
      nn_error (error, CATENA_NN_ERROR_UNSUPPORTED, node, "output type %s is not supported",
                catena_nn_dtype_name (dtype));
      return FALSE;
    }
  if (!nn_shape_elements (ndim, dims, dtype, &v->n_elements, &v->nbytes, &local))
    {
      nn_error (error, local->code, node, "%s", local->message);
      g_error_free (local);
      return FALSE;
    }
  v->dtype = dtype;
  v->ndim = ndim;
  if (ndim > 0)
    memcpy (v->dims, dims, sizeof (gint64) * ndim);
  return TRUE;
}

static void
value_view (NnValue *v, CatenaNnTensor *t)
{
  memset (t, 0, sizeof *t);
  t->dtype = v->dtype;
  t->ndim = v->ndim;
  memcpy (t->dims, v->dims, sizeof t->dims);
  t->n_elements = v->n_elements;
  t->nbytes = v->nbytes;
  t->ref_count = 1;
}

/* Runs a node whose inputs are all constants now, while loading. */
static gboolean
fold_node (NnGraph *g, NnNode *node, GError **error)
{
  CatenaNnTensor *in_views[node->n_in + 1];
  CatenaNnTensor *outs[node->n_out + 1];
  gsize total = 0;

  for (int i = 0; i < node->n_out; i++)
    if (node->out[i] >= 0)
      total += nn_value (g, node->out[i])->nbytes;
  if (total > NN_MAX_FOLD_BYTES)
    return TRUE; /* left to run time */
  for (int i = 0; i < node->n_in; i++)
    in_views[i] = node->in[i] >= 0 ? nn_value (g, node->in[i])->constant : NULL;
  for (int i = 0; i < node->n_out; i++)
    {
      NnValue *v = node->out[i] >= 0 ? nn_value (g, node->out[i]) : NULL;

      outs[i] = NULL;
      if (v == NULL)
        continue;
      outs[i] = catena_nn_tensor_new (v->dtype, v->ndim, v->dims, error);
      if (outs[i] == NULL)
        {
          for (int j = 0; j < i; j++)
            catena_nn_tensor_unref (outs[j]);
          return FALSE;
        }
    }
  if (node->alias)
    memcpy (outs[0]->data, in_views[0]->data, outs[0]->nbytes);
  else
    node->op->run (node, in_views, outs);
  for (int i = 0; i < node->n_out; i++)
    if (outs[i] != NULL)
      nn_value (g, node->out[i])->constant = outs[i];
  node->dead = TRUE;
  return TRUE;
}

gboolean
nn_graph_add_node (NnGraph *g, NnNode *node, GError **error)
{
  gboolean all_const = TRUE, outs_const = TRUE;
  int index;

  g_array_append_val (g->nodes, *node);
  index = (int) g->nodes->len - 1;
  node = nn_node (g, index);
  for (int i = 0; i < node->n_out; i++)
    if (node->out[i] >= 0)
      nn_value (g, node->out[i])->producer = index;
  {
    GError *local = NULL;

    /* prepare functions test *error: always hand them a real one */
    if (!node->op->prepare (g, node, &local))
      {
        if (local == NULL)
          nn_error (&local, CATENA_NN_ERROR_INVALID, node, "invalid node");
        g_propagate_error (error, local);
        return FALSE;
      }
  }
  for (int i = 0; i < node->n_in; i++)
    if (node->in[i] >= 0 && nn_value (g, node->in[i])->constant == NULL)
      all_const = FALSE;
  for (int i = 0; i < node->n_out; i++)
    if (node->out[i] >= 0 && nn_value (g, node->out[i])->constant == NULL)
      outs_const = FALSE;
  if (outs_const)
    {
      node->dead = TRUE; /* prepare folded it (Shape, Constant) */
      return TRUE;
    }
  if (all_const && !node->op->no_fold)
    return fold_node (g, node, error);
  if (node->alias)
    nn_value (g, node->out[0])->alias_of = node->in[0];
  return TRUE;
}

static int
value_root (NnGraph *g, int v)
{
  while (nn_value (g, v)->alias_of >= 0)
    v = nn_value (g, v)->alias_of;
  return v;
}

typedef struct
{
  gsize offset, size;
  int last_use;
} Block;

static int
block_cmp (gconstpointer a, gconstpointer b)
{
  const Block *x = a, *y = b;

  return x->offset < y->offset ? -1 : x->offset > y->offset;
}

/* Greedy first-fit placement of activations in one arena, in execution order. */
static gboolean
plan_arena (NnGraph *g, GError **error)
{
  g_autoptr (GArray) live = g_array_new (FALSE, FALSE, sizeof (Block));
  gsize arena = 0;

  for (int s = -1; s < g->n_order; s++)
    {
      /* step -1 places graph inputs that need a converted copy */
      for (guint vi = 0; vi < g->values->len; vi++)
        {
          NnValue *v = nn_value (g, vi);
          gsize size, offset = 0;
          guint k;

          if (!v->in_arena || v->def_step != s)
            continue;
          for (k = 0; k < live->len;)
            {
              if (g_array_index (live, Block, k).last_use < s)
                g_array_remove_index (live, k);
              else
                k++;
            }
          g_array_sort (live, block_cmp);
          size = (v->nbytes + NN_ALIGN - 1) & ~(gsize) (NN_ALIGN - 1);
          for (k = 0; k < live->len; k++)
            {
              Block *b = &g_array_index (live, Block, k);

              if (b->offset >= offset + size)
                break;
              offset = MAX (offset, b->offset + b->size);
            }
          v->offset = offset;
          arena = MAX (arena, offset + size);
          if (arena > NN_MAX_ARENA_BYTES)
            {
              g_set_error (error, CATENA_NN_ERROR, CATENA_NN_ERROR_TOO_LARGE,
                           "The model needs more than %" G_GSIZE_FORMAT
                           " GiB of working memory at this input size",
                           NN_MAX_ARENA_BYTES >> 30);
              return FALSE;
            }
          g_array_append_val (live, ((Block) { offset, size, v->last_use }));
        }
    }
  g->arena_size = arena;
  return TRUE;
}

/* Concat along channels with one image (outer = 1): an input whose storage is used by nothing
 * else is produced straight into its slice of the output, which the Concat then skips. The
 * output's block is reserved from the first such producer on. Returns, per value, the Concat
 * output it lives in (or -1) and its byte offset there; the chosen values are left out of
 * plan_arena and placed after it. CATENA_NN_CONCAT_IN_PLACE=0 turns this off (A/B). */
static void
concat_in_place (NnGraph *g, int *into, gsize *at)
{
  const char *env = g_getenv ("CATENA_NN_CONCAT_IN_PLACE");
  g_autofree int *uses = g_new0 (int, g->values->len);

  for (guint vi = 0; vi < g->values->len; vi++)
    into[vi] = -1;
  if (env != NULL && atoi (env) == 0)
    return;
  /* real (non-view) uses of each storage root */
  for (int s = 0; s < g->n_order; s++)
    {
      NnNode *n = nn_node (g, g->order[s]);

      if (n->alias)
        continue;
      for (int i = 0; i < n->n_in; i++)
        if (n->in[i] >= 0)
          uses[value_root (g, n->in[i])]++;
    }
  for (int s = 0; s < g->n_order; s++)
    {
      NnNode *n = nn_node (g, g->order[s]);
      const ConcatParams *p = n->params;
      NnValue *o;
      gsize off = 0;

      if (n->alias || strcmp (n->op_type, "Concat") != 0 || p == NULL || p->outer != 1
          || n->out[0] < 0)
        continue;
      o = nn_value (g, n->out[0]);
      if (!o->in_arena || o->alias_of >= 0 || o->constant != NULL)
        continue;
      for (int i = 0; i < n->n_in; i++)
        {
          int r = value_root (g, n->in[i]);
          NnValue *v = nn_value (g, r), *src = nn_value (g, n->in[i]);
          gsize bytes = src->nbytes;

          /* last_use: no view of it is a graph output */
          if (v->in_arena && v->constant == NULL && !v->is_input && !v->is_output
              && v->last_use <= s && v->producer >= 0 && uses[r] == 1 && into[r] < 0
              && r != n->out[0]
              && v->dtype == o->dtype && v->nbytes == bytes && off % NN_ALIGN == 0
              && strcmp (nn_node (g, v->producer)->op_type, "Concat") != 0)
            {
              into[r] = n->out[0];
              at[r] = off;
              v->in_arena = FALSE;
              o->def_step = MIN (o->def_step, v->def_step);
            }
          off += bytes;
        }
    }
}

gboolean
nn_graph_finish (NnGraph *g, const char *const *wanted, GError **error)
{
  g_autofree gboolean *needed = g_new0 (gboolean, g->values->len);

  /* keep only the requested outputs */
  if (wanted != NULL)
    {
      g_autoptr (GArray) outs = g_array_new (FALSE, FALSE, sizeof (int));
      g_autoptr (GArray) dts = g_array_new (FALSE, FALSE, sizeof (int));

      for (int w = 0; wanted[w] != NULL; w++)
        {
          gboolean found = FALSE;

          for (guint i = 0; i < g->outputs->len; i++)
            if (strcmp (nn_value (g, g_array_index (g->outputs, int, i))->name, wanted[w]) == 0)
              {
                g_array_append_val (outs, g_array_index (g->outputs, int, i));
                g_array_append_val (dts, g_array_index (g->output_dtypes, int, i));
                found = TRUE;
                break;
              }
          if (!found)
            {
              g_set_error (error, CATENA_NN_ERROR, CATENA_NN_ERROR_INVALID,
                           "The model has no output named “%s”", wanted[w]);
              return FALSE;
            }
        }
      g_array_set_size (g->outputs, 0);
      g_array_set_size (g->output_dtypes, 0);
      g_array_append_vals (g->outputs, outs->data, outs->len);
      g_array_append_vals (g->output_dtypes, dts->data, dts->len);
    }

  for (guint i = 0; i < g->outputs->len; i++)
    {
      int vi = g_array_index (g->outputs, int, i);

      nn_value (g, vi)->is_output = TRUE;
      needed[vi] = TRUE;
    }

  /* dead code: walk back from the outputs */
  for (int ni = (int) g->nodes->len - 1; ni >= 0; ni--)
    {
      NnNode *n = nn_node (g, ni);
      gboolean live = FALSE;

      for (int o = 0; o < n->n_out; o++)
        if (n->out[o] >= 0 && needed[n->out[o]])
          live = TRUE;
      if (!live)
        n->dead = TRUE;
      if (n->dead)
        continue;
      for (int i = 0; i < n->n_in; i++)
        if (n->in[i] >= 0)
          needed[n->in[i]] = TRUE;
    }

  for (guint vi = 0; vi < g->values->len; vi++)
    nn_value (g, vi)->n_consumers = 0;
  for (guint ni = 0; ni < g->nodes->len; ni++)
    {
      NnNode *n = nn_node (g, ni);

      if (n->dead)
        continue;
      for (int i = 0; i < n->n_in; i++)
        if (n->in[i] >= 0)
          nn_value (g, n->in[i])->n_consumers++;
    }

  /* fuse Conv → Relu when the Relu is the conv's only consumer */
  for (guint ni = 0; ni < g->nodes->len; ni++)
    {
      NnNode *n = nn_node (g, ni);
      NnValue *v;

      if (n->dead || strcmp (n->op_type, "Relu") != 0 || n->alias)
        continue;
      v = nn_value (g, n->in[0]);
      if (v->producer < 0 || v->n_consumers != 1 || v->is_output || v->constant != NULL)
        continue;
      if (strcmp (nn_node (g, v->producer)->op_type, "Conv") != 0
          || nn_node (g, v->producer)->act != NN_ACT_NONE || nn_node (g, v->producer)->dead)
        continue;
      nn_node (g, v->producer)->act = NN_ACT_RELU;
      n->alias = TRUE;
      nn_value (g, n->out[0])->alias_of = n->in[0];
    }

  /* execution order, liveness */
  g->order = g_new (int, g->nodes->len + 1);
  g->n_order = 0;
  for (guint ni = 0; ni < g->nodes->len; ni++)
    if (!nn_node (g, ni)->dead)
      g->order[g->n_order++] = (int) ni;

  g->conv_flops = 0;
  for (int s = 0; s < g->n_order; s++)
    {
      NnNode *n = nn_node (g, g->order[s]);

      g->conv_flops += n->flops;
      for (int i = 0; i < n->n_in; i++)
        if (n->in[i] >= 0)
          {
            NnValue *r = nn_value (g, value_root (g, n->in[i]));
            r->last_use = MAX (r->last_use, s);
          }
      for (int o = 0; o < n->n_out; o++)
        if (n->out[o] >= 0)
          {
            NnValue *v = nn_value (g, n->out[o]);

            if (v->constant != NULL || v->alias_of >= 0)
              continue;
            v->def_step = s;
            v->in_arena = TRUE;
            v->last_use = MAX (v->last_use, s);
          }
    }
  for (guint i = 0; i < g->inputs->len; i++)
    {
      NnValue *v = nn_value (g, g_array_index (g->inputs, int, i));

      if ((CatenaNnDType) g_array_index (g->input_dtypes, int, i) != v->dtype)
        {
          v->in_arena = TRUE;
          v->def_step = -1;
        }
    }
  for (guint i = 0; i < g->outputs->len; i++)
    nn_value (g, value_root (g, g_array_index (g->outputs, int, i)))->last_use = G_MAXINT;

  {
    g_autofree int *into = g_new (int, g->values->len);
    g_autofree gsize *at = g_new0 (gsize, g->values->len);

    concat_in_place (g, into, at);
    if (!plan_arena (g, error))
      return FALSE;
    for (guint vi = 0; vi < g->values->len; vi++)
      if (into[vi] >= 0)
        {
          nn_value (g, vi)->in_arena = TRUE;
          nn_value (g, vi)->offset = nn_value (g, into[vi])->offset + at[vi];
        }
  }

  g->views = g_new0 (CatenaNnTensor, g->values->len);
  for (guint vi = 0; vi < g->values->len; vi++)
    value_view (nn_value (g, vi), &g->views[vi]);
  return TRUE;
}

guint
catena_nn_graph_get_n_inputs (CatenaNnGraph *g)
{
  return g->inputs->len;
}

guint
catena_nn_graph_get_n_outputs (CatenaNnGraph *g)
{
  return g->outputs->len;
}

static const char *
io_info (CatenaNnGraph *g,
         GArray *list,
         GArray *dtypes,
         guint index,
         CatenaNnDType *dtype,
         int *ndim,
         const gint64 **dims)
{
  NnValue *v;

  g_return_val_if_fail (index < list->len, NULL);
  v = nn_value (g, g_array_index (list, int, index));
  if (dtype != NULL)
    *dtype = g_array_index (dtypes, int, index);
  if (ndim != NULL)
    *ndim = v->ndim;
  if (dims != NULL)
    *dims = v->dims;
  return v->name;
}

const char *
catena_nn_graph_get_input (CatenaNnGraph *g,
                           guint index,
                           CatenaNnDType *dtype,
                           int *ndim,
                           const gint64 **dims)
{
  return io_info (g, g->inputs, g->input_dtypes, index, dtype, ndim, dims);
}

const char *
catena_nn_graph_get_output (CatenaNnGraph *g,
                            guint index,
                            CatenaNnDType *dtype,
                            int *ndim,
                            const gint64 **dims)
{
  return io_info (g, g->outputs, g->output_dtypes, index, dtype, ndim, dims);
}

double
catena_nn_graph_get_conv_flops (CatenaNnGraph *g)
{
  return g->conv_flops;
}

char *
catena_nn_graph_describe (CatenaNnGraph *g)
{
  g_autoptr (GHashTable) counts = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr (GString) s = g_string_new (NULL);
  g_autoptr (GList) keys = NULL;
  int n_alias = 0, n_fused = 0, n_wg = 0, n_staged = 0, n_in_place = 0;

  for (int i = 0; i < g->n_order; i++)
    {
      NnNode *n = nn_node (g, g->order[i]);

      if (n->alias)
        {
          n_alias++;
          continue;
        }
      if (n->act != NN_ACT_NONE)
        n_fused++;
      if (strcmp (n->op_type, "Concat") == 0 && n->out[0] >= 0)
        for (int k = 0; k < n->n_in; k++)
          {
            NnValue *v = nn_value (g, value_root (g, n->in[k]));
            NnValue *o = nn_value (g, n->out[0]);

            /* inside the output's block: produced in place */
            n_in_place += v->in_arena && o->in_arena && v != o && v->offset >= o->offset
                          && v->offset < o->offset + o->nbytes;
          }
      if (strcmp (n->op_type, "Conv") == 0 && n->params != NULL
          && ((ConvParams *) n->params)->winograd)
        {
          n_wg++;
          n_staged += ((ConvParams *) n->params)->wg_staged;
        }
      g_hash_table_insert (counts, n->op_type,
                           GINT_TO_POINTER (GPOINTER_TO_INT (g_hash_table_lookup (counts,
                                                                                  n->op_type))
                                            + 1));
    }
  keys = g_list_sort (g_hash_table_get_keys (counts), (GCompareFunc) strcmp);
  g_string_append (s, "kernels:");
  for (GList *l = keys; l != NULL; l = l->next)
    g_string_append_printf (s, " %s %d", (char *) l->data,
                            GPOINTER_TO_INT (g_hash_table_lookup (counts, l->data)));
  g_string_append_printf (s, "; no-copy views %d; fused Conv+Relu %d; arena %.1f MiB; "
                          "conv %.1f GFLOP; Winograd %d (staged %d); Concat inputs in place %d",
                          n_alias, n_fused, g->arena_size / 1048576.0, g->conv_flops * 1e-9,
                          n_wg, n_staged, n_in_place);
  return g_string_free (g_steal_pointer (&s), FALSE);
}

gboolean
nn_graph_check_input (CatenaNnGraph *g, guint i, CatenaNnTensor *t, GError **error)
{
  NnValue *v = nn_value (g, g_array_index (g->inputs, int, i));
  CatenaNnDType dt = g_array_index (g->input_dtypes, int, i);

  if (t == NULL || t->dtype != dt || t->ndim != v->ndim
      || memcmp (t->dims, v->dims, sizeof (gint64) * v->ndim) != 0 || t->data == NULL)
    {
      g_autoptr (GString) want = g_string_new (NULL);

      for (int d = 0; d < v->ndim; d++)
        g_string_append_printf (want, "%s%" G_GINT64_FORMAT, d ? "×" : "", v->dims[d]);
      g_set_error (error, CATENA_NN_ERROR, CATENA_NN_ERROR_INPUT,
                   "Input “%s” must be a %s tensor of shape %s", v->name,
                   catena_nn_dtype_name (dt), want->str);
      return FALSE;
    }
  return TRUE;
}

/* The arena and the workspace, which the kernels stride through (channel planes 1 MiB apart,
 * Winograd's ξ-planes): asks Linux for transparent huge pages, fewer TLB misses (ISNet:
 * 782–802 → 762–775 ms, esrgan-medium 256² window 394–406 → 374–378 ms, with THP in
 * "madvise" mode). CATENA_NN_HUGEPAGES=0 turns it off. */
static gpointer
big_alloc (gsize size)
{
  gpointer p = nn_aligned_alloc (size);

#if defined(__linux__) && defined(MADV_HUGEPAGE)
  const char *env = g_getenv ("CATENA_NN_HUGEPAGES");

  if (p != NULL && size >= ((gsize) 4 << 20) && (env == NULL || atoi (env) != 0))
    {
      guintptr page = (guintptr) MAX (sysconf (_SC_PAGESIZE), 4096);
      guintptr a = ((guintptr) p + page - 1) & ~(page - 1);
      guintptr e = ((guintptr) p + size) & ~(page - 1);

      if (e > a)
        madvise ((void *) a, e - a, MADV_HUGEPAGE); /* advice only: errors are harmless */
    }
#endif
  return p;
}

/* the graph this thread is running, for nn_workspace_get () */
static GPrivate running_graph_key;

gpointer
nn_workspace_get (gsize size)
{
  NnGraph *g = g_private_get (&running_graph_key);

  if (g == NULL)
    return NULL;
  if (g->workspace_size < size)
    {
      nn_aligned_free (g->workspace);
      g->workspace = big_alloc (size);
      g->workspace_size = g->workspace != NULL ? size : 0;
    }
  return g->workspace;
}

/* One line per node: time, and for Conv its shape, algorithm and rate (direct FLOPs). */
static void
profile_node (NnNode *n, gint64 us)
{
  if (strcmp (n->op_type, "Conv") == 0 && n->params != NULL)
    {
      const ConvParams *p = n->params;

      g_printerr ("catena-nn node: %-8s %8.2f ms  c%-4" G_GINT64_FORMAT " m%-4" G_GINT64_FORMAT
                  " %4" G_GINT64_FORMAT "x%-4" G_GINT64_FORMAT " k%" G_GINT64_FORMAT
                  " s%" G_GINT64_FORMAT " d%" G_GINT64_FORMAT " g%" G_GINT64_FORMAT
                  " %-9s %6.1f GFLOP/s  %s\n",
                  n->op_type, us / 1000.0, p->c, p->m, p->oh, p->ow, p->kh, p->sh, p->dh,
                  p->group,
                  p->winograd    ? (p->wg_staged ? "wg-staged" : "wg-fused")
                  : p->pointwise ? "pointwise"
                  : p->depthwise ? "depthwise"
                  : p->narrow    ? "narrow"
                                 : "im2col",
                  us > 0 ? n->flops / (us * 1e3) : 0.0, n->name);
    }
  else
    g_printerr ("catena-nn node: %-8s %8.2f ms  %s\n", n->op_type, us / 1000.0, n->name);
}

gboolean
catena_nn_graph_run (CatenaNnGraph *g,
                     CatenaNnTensor *const *inputs,
                     CatenaNnTensor **outputs,
                     GCancellable *cancellable,
                     GError **error)
{
  g_autoptr (GMutexLocker) locker = NULL;
  CatenaNnTensor *in_ptrs[16], *out_ptrs[16];
  GHashTable *profile = NULL; /* CATENA_NN_PROFILE=1: time per operator, on stderr */
  gboolean profile_nodes;     /* CATENA_NN_PROFILE=2: and per node */
  gboolean ok = TRUE;

  g_return_val_if_fail (g != NULL, FALSE);
  for (guint i = 0; i < g->inputs->len; i++)
    if (!nn_graph_check_input (g, i, inputs[i], error))
      return FALSE;
  for (guint i = 0; i < g->outputs->len; i++)
    outputs[i] = NULL;

  locker = g_mutex_locker_new (&g->lock);
  if (g->arena == NULL && g->arena_size > 0)
    {
      g->arena = big_alloc (g->arena_size);
      if (g->arena == NULL)
        {
          g_set_error (error, CATENA_NN_ERROR, CATENA_NN_ERROR_TOO_LARGE,
                       "Not enough memory to run the model (%.0f MiB needed)",
                       g->arena_size / 1048576.0);
          return FALSE;
        }
    }
  for (guint vi = 0; vi < g->values->len; vi++)
    {
      NnValue *v = nn_value (g, vi);

      if (v->constant != NULL)
        g->views[vi].data = v->constant->data;
      else if (v->in_arena)
        g->views[vi].data = g->arena + v->offset;
      else
        g->views[vi].data = NULL;
    }
  for (guint i = 0; i < g->inputs->len; i++)
    {
      int vi = g_array_index (g->inputs, int, i);
      NnValue *v = nn_value (g, vi);

      if (v->in_arena)
        nn_convert (inputs[i]->data, inputs[i]->dtype, g->views[vi].data, v->dtype,
                    v->n_elements);
      else
        g->views[vi].data = inputs[i]->data;
    }
  for (guint vi = 0; vi < g->values->len; vi++)
    if (nn_value (g, vi)->alias_of >= 0)
      g->views[vi].data = g->views[value_root (g, vi)].data;

  if (profile == NULL)
    profile = g_getenv ("CATENA_NN_PROFILE") != NULL ? g_hash_table_new (g_str_hash, g_str_equal)
                                                     : NULL;
  profile_nodes = profile != NULL && atoi (g_getenv ("CATENA_NN_PROFILE")) >= 2;
  g_private_set (&running_graph_key, g);
  for (int s = 0; s < g->n_order && ok; s++)
    {
      NnNode *n = nn_node (g, g->order[s]);
      gint64 t0 = profile != NULL ? g_get_monotonic_time () : 0;
      CatenaNnTensor **ip = n->n_in <= 16 ? in_ptrs : g_new (CatenaNnTensor *, n->n_in);
      CatenaNnTensor **op = n->n_out <= 16 ? out_ptrs : g_new (CatenaNnTensor *, n->n_out);

      if (g_cancellable_set_error_if_cancelled (cancellable, error))
        ok = FALSE;
      else if (!n->alias)
        {
          for (int i = 0; i < n->n_in; i++)
            ip[i] = n->in[i] >= 0 ? &g->views[n->in[i]] : NULL;
          for (int o = 0; o < n->n_out; o++)
            op[o] = n->out[o] >= 0 ? &g->views[n->out[o]] : NULL;
          n->op->run (n, ip, op);
          if (profile != NULL)
            {
              char *key = n->op_type;
              gint64 dt = g_get_monotonic_time () - t0;
              gint64 us = GPOINTER_TO_SIZE (g_hash_table_lookup (profile, key));

              g_hash_table_insert (profile, key, GSIZE_TO_POINTER (us + dt));
              if (profile_nodes)
                profile_node (n, dt);
            }
        }
      if (ip != in_ptrs)
        g_free (ip);
      if (op != out_ptrs)
        g_free (op);
    }
  g_private_set (&running_graph_key, NULL);
  if (profile != NULL)
    {
      GHashTableIter it;
      gpointer k, v;

      g_hash_table_iter_init (&it, profile);
      while (g_hash_table_iter_next (&it, &k, &v))
        g_printerr ("catena-nn profile: %-12s %8.1f ms\n", (char *) k,
                    GPOINTER_TO_SIZE (v) / 1000.0);
      g_hash_table_unref (profile);
    }
  if (!ok)
    return FALSE;

  for (guint i = 0; i < g->outputs->len; i++)
    {
      int vi = g_array_index (g->outputs, int, i);
      NnValue *v = nn_value (g, vi);
      CatenaNnDType dt = g_array_index (g->output_dtypes, int, i);

      outputs[i] = catena_nn_tensor_new (dt, v->ndim, v->dims, error);
      if (outputs[i] == NULL)
        {
          for (guint j = 0; j < i; j++)
            g_clear_pointer (&outputs[j], catena_nn_tensor_unref);
          return FALSE;
        }
      nn_convert (g->views[vi].data, v->dtype, outputs[i]->data, dt, v->n_elements);
    }
  return TRUE;
}
