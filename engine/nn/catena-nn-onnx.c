/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <string.h>

#include "catena-nn-private.h"
#include "onnx.pb-c.h"

/* ONNX loader: protobuf-c parses the ModelProto (generated at build time from Debian's
 * onnx.proto), then the graph is rebuilt node by node in engine/nn's IR. Everything is
 * validated before use: a hostile file gets a GError, never a crash or a huge allocation. */

#if G_BYTE_ORDER != G_LITTLE_ENDIAN
#error "engine/nn reads ONNX raw_data as little-endian"
#endif

/* protobuf's own limit; beyond it the file cannot be a valid model */
#define NN_MAX_MODEL_BYTES ((gsize) 2 << 30)

static CatenaNnTensor *
tensor_from_proto (const Onnx__TensorProto *tp, gboolean promote_half, GError **error)
{
  const char *name = tp->name != NULL && tp->name[0] ? tp->name : "(unnamed)";
  CatenaNnDType dt = tp->has_data_type ? (CatenaNnDType) tp->data_type : 0;
  gint64 dims[CATENA_NN_MAX_DIMS];
  gsize n, nbytes, have;
  CatenaNnTensor *t;
  const void *src = NULL;
  GError *local = NULL;

  if ((tp->has_data_location && tp->data_location == ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL)
      || tp->n_external_data > 0)
    {
      g_set_error (error, CATENA_NN_ERROR, CATENA_NN_ERROR_UNSUPPORTED,
                   "Tensor “%s” keeps its data in an external file, which is not supported",
                   name);
      return NULL;
    }
  if (tp->segment != NULL)
    {
      g_set_error (error, CATENA_NN_ERROR, CATENA_NN_ERROR_UNSUPPORTED,
                   "Tensor “%s” is segmented, which is not supported", name);
      return NULL;
    }
  if (!nn_dtype_is_storable (dt))
    {
      g_set_error (error, CATENA_NN_ERROR, CATENA_NN_ERROR_UNSUPPORTED,
                   "Tensor “%s” has type %s, which is not supported", name,
                   catena_nn_dtype_name (dt));
      return NULL;
    }
  if (tp->n_dims > CATENA_NN_MAX_DIMS)
    {
      g_set_error (error, CATENA_NN_ERROR, CATENA_NN_ERROR_UNSUPPORTED,
                   "Tensor “%s” has rank %" G_GSIZE_FORMAT ", more than %d", name, tp->n_dims,
                   CATENA_NN_MAX_DIMS);
      return NULL;
    }
  for (gsize i = 0; i < tp->n_dims; i++)
    dims[i] = tp->dims[i];
  if (!nn_shape_elements ((int) tp->n_dims, dims, dt, &n, &nbytes, &local))
    {
      g_set_error (error, CATENA_NN_ERROR, local->code, "Tensor “%s”: %s", name, local->message);
      g_error_free (local);
      return NULL;
    }

  /* check the data is all there before allocating */
  if (tp->has_raw_data)
    {
      have = tp->raw_data.len / MAX (catena_nn_dtype_size (dt), 1);
      if (tp->raw_data.len != nbytes)
        have = G_MAXSIZE;
      src = tp->raw_data.data;
    }
  else
    switch (dt)
      {
      case CATENA_NN_DTYPE_FLOAT: have = tp->n_float_data; break;
      case CATENA_NN_DTYPE_INT64: have = tp->n_int64_data; break;
      case CATENA_NN_DTYPE_DOUBLE: have = tp->n_double_data; break;
      case CATENA_NN_DTYPE_UINT32:
      case CATENA_NN_DTYPE_UINT64: have = tp->n_uint64_data; break;
      default: have = tp->n_int32_data; break;
      }
  if (have != n)
    {
      g_set_error (error, CATENA_NN_ERROR, CATENA_NN_ERROR_INVALID,
                   "Tensor “%s” has the wrong amount of data for its shape (truncated file?)",
                   name);
      return NULL;
    }
  t = catena_nn_tensor_new (dt, (int) tp->n_dims, dims, error);
  if (t == NULL)
    return NULL;
  if (n > 0)
    {
      if (src != NULL)
        memcpy (t->data, src, nbytes);
      else
        switch (dt)
          {
          case CATENA_NN_DTYPE_FLOAT: memcpy (t->data, tp->float_data, nbytes); break;
          case CATENA_NN_DTYPE_INT64: memcpy (t->data, tp->int64_data, nbytes); break;
          case CATENA_NN_DTYPE_DOUBLE: memcpy (t->data, tp->double_data, nbytes); break;
          case CATENA_NN_DTYPE_UINT64: memcpy (t->data, tp->uint64_data, nbytes); break;
          case CATENA_NN_DTYPE_UINT32:
            for (gsize i = 0; i < n; i++)
              ((guint32 *) t->data)[i] = (guint32) tp->uint64_data[i];
            break;
          case CATENA_NN_DTYPE_INT32: memcpy (t->data, tp->int32_data, nbytes); break;
          default:
            /* narrow types (and float16 bit patterns) travel in int32_data */
            for (gsize i = 0; i < n; i++)
              {
                gint32 v = tp->int32_data[i];

                switch (catena_nn_dtype_size (dt))
                  {
                  case 1: ((guint8 *) t->data)[i] = (guint8) v; break;
                  case 2: ((guint16 *) t->data)[i] = (guint16) v; break;
                  default: break;
                  }
              }
            break;
          }
    }
  if (promote_half && dt == CATENA_NN_DTYPE_FLOAT16)
    {
      CatenaNnTensor *f = catena_nn_tensor_new (CATENA_NN_DTYPE_FLOAT, t->ndim, t->dims, error);

      if (f != NULL)
        nn_convert (t->data, t->dtype, f->data, f->dtype, n);
      catena_nn_tensor_unref (t);
      return f;
    }
  return t;
}

CatenaNnTensor *
catena_nn_tensor_new_from_onnx (const guint8 *data, gsize len, GError **error)
{
  Onnx__TensorProto *tp;
  CatenaNnTensor *t;

  if (len > NN_MAX_MODEL_BYTES
      || (tp = onnx__tensor_proto__unpack (NULL, len, data)) == NULL)
    {
      g_set_error (error, CATENA_NN_ERROR, CATENA_NN_ERROR_INVALID,
                   "Not a valid ONNX tensor (truncated or malformed protobuf)");
      return NULL;
    }
  t = tensor_from_proto (tp, FALSE, error);
  onnx__tensor_proto__free_unpacked (tp, NULL);
  return t;
}

static gboolean
convert_attr (const Onnx__AttributeProto *ap, NnAttr *a, GError **error)
{
  int type = ap->has_type ? (int) ap->type : 0;

  a->name = g_strdup (ap->name != NULL ? ap->name : "");
  if (type == 0)
    {
      /* IR < 2 files leave the type out: infer it from the field that is set */
      type = ap->n_floats ? ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOATS
             : ap->n_ints ? ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS
             : ap->has_s  ? ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRING
             : ap->t      ? ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TENSOR
             : ap->has_f  ? ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT
             : ap->has_i  ? ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT
                          : 0;
    }
  switch (type)
    {
    case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT:
      a->type = NN_ATTR_FLOAT;
      a->f = ap->f;
      break;
    case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT:
      a->type = NN_ATTR_INT;
      a->i = ap->i;
      break;
    case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRING:
      a->type = NN_ATTR_STRING;
      a->s = g_strndup ((const char *) ap->s.data, ap->s.len);
      break;
    case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOATS:
      a->type = NN_ATTR_FLOATS;
      a->n = ap->n_floats;
      a->floats = g_memdup2 (ap->floats, sizeof (float) * ap->n_floats);
      break;
    case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS:
      a->type = NN_ATTR_INTS;
      a->n = ap->n_ints;
      a->ints = g_memdup2 (ap->ints, sizeof (gint64) * ap->n_ints);
      break;
    case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TENSOR:
      if (ap->t == NULL)
        {
          g_set_error (error, CATENA_NN_ERROR, CATENA_NN_ERROR_INVALID,
                       "Attribute “%s” has no tensor", a->name);
          return FALSE;
        }
      a->type = NN_ATTR_TENSOR;
      a->t = tensor_from_proto (ap->t, FALSE, error);
      if (a->t == NULL)
        return FALSE;
      break;
    default:
      a->type = NN_ATTR_OTHER;
      break;
    }
  return TRUE;
}

static gboolean
is_default_domain (const char *domain)
{
  return domain == NULL || domain[0] == '\0' || strcmp (domain, "ai.onnx") == 0;
}

/* Lists every operator the engine lacks, so one error names them all. */
static gboolean
check_ops (const Onnx__GraphProto *gp, GError **error)
{
  g_autoptr (GString) missing = g_string_new (NULL);
  g_autoptr (GHashTable) seen = g_hash_table_new (g_str_hash, g_str_equal);
  guint n_missing = 0;

  for (gsize i = 0; i < gp->n_node; i++)
    {
      const Onnx__NodeProto *np = gp->node[i];
      const char *op = np->op_type != NULL ? np->op_type : "";

      if (is_default_domain (np->domain) && nn_op_lookup (op) != NULL)
        continue;
      if (g_hash_table_contains (seen, op))
        continue;
      g_hash_table_add (seen, (gpointer) op);
      g_string_append_printf (missing, "%s%s%s%s", n_missing++ ? ", " : "",
                              is_default_domain (np->domain) ? "" : np->domain,
                              is_default_domain (np->domain) ? "" : ".",
                              op[0] ? op : "(unnamed)");
    }
  if (n_missing > 0)
    {
      g_set_error (error, CATENA_NN_ERROR, CATENA_NN_ERROR_UNSUPPORTED,
                   "The model uses operators engine/nn does not support: %s", missing->str);
      return FALSE;
    }
  return TRUE;
}

static gboolean
add_graph_input (NnGraph *g,
                 const Onnx__ValueInfoProto *vi,
                 const CatenaNnLoadOptions *options,
                 GError **error)
{
  const char *name = vi->name != NULL ? vi->name : "";
  CatenaNnTensor *bound = NULL;
  const Onnx__TypeProto__Tensor *tt;
  gint64 dims[CATENA_NN_MAX_DIMS];
  CatenaNnDType dt;
  NnValue *v;
  int index;
  GError *local = NULL;

  if (nn_graph_lookup (g, name) >= 0)
    return TRUE; /* an initializer also listed as an input (IR < 4): a constant */
  index = nn_graph_add_value (g, name);
  if (index < 0)
    {
      g_set_error (error, CATENA_NN_ERROR, CATENA_NN_ERROR_INVALID, "Duplicate input “%s”",
                   name);
      return FALSE;
    }
  v = nn_value (g, index);
  if (options != NULL && options->constants != NULL)
    bound = g_hash_table_lookup (options->constants, name);
  if (bound != NULL)
    {
      CatenaNnDType bdt = bound->dtype == CATENA_NN_DTYPE_FLOAT16 ? CATENA_NN_DTYPE_FLOAT
                                                                  : bound->dtype;
      CatenaNnTensor *c = catena_nn_tensor_new (bdt, bound->ndim, bound->dims, error);

      if (c == NULL)
        return FALSE;
      nn_convert (bound->data, bound->dtype, c->data, bdt, c->n_elements);
      v->constant = c;
      v->dtype = bdt;
      v->ndim = c->ndim;
      memcpy (v->dims, c->dims, sizeof v->dims);
      v->n_elements = c->n_elements;
      v->nbytes = c->nbytes;
      return TRUE;
    }
  if (vi->type == NULL || vi->type->value_case != ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE
      || vi->type->tensor_type == NULL)
    {
      g_set_error (error, CATENA_NN_ERROR, CATENA_NN_ERROR_UNSUPPORTED,
                   "Input “%s” is not a tensor (sequences, maps and optionals are not "
                   "supported)", name);
      return FALSE;
    }
  tt = vi->type->tensor_type;
  dt = tt->has_elem_type ? (CatenaNnDType) tt->elem_type : 0;
  if (!nn_dtype_is_storable (dt))
    {
      g_set_error (error, CATENA_NN_ERROR, CATENA_NN_ERROR_UNSUPPORTED,
                   "Input “%s” has type %s, which is not supported", name,
                   catena_nn_dtype_name (dt));
      return FALSE;
    }
  if (tt->shape == NULL || tt->shape->n_dim > CATENA_NN_MAX_DIMS)
    {
      g_set_error (error, CATENA_NN_ERROR, CATENA_NN_ERROR_UNSUPPORTED,
                   "Input “%s” has no fixed shape of rank ≤ %d", name, CATENA_NN_MAX_DIMS);
      return FALSE;
    }
  for (gsize d = 0; d < tt->shape->n_dim; d++)
    {
      const Onnx__TensorShapeProto__Dimension *dim = tt->shape->dim[d];

      if (dim == NULL || dim->value_case != ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE
          || dim->dim_value < 0)
        {
          g_set_error (error, CATENA_NN_ERROR, CATENA_NN_ERROR_UNSUPPORTED,
                       "Input “%s” has a symbolic or unknown dimension %s%s%s; engine/nn needs "
                       "fixed input shapes", name,
                       dim && dim->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM ? "“" : "",
                       dim && dim->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM ? dim->dim_param : "",
                       dim && dim->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM ? "”" : "");
          return FALSE;
        }
      dims[d] = dim->dim_value;
    }
  v->dtype = dt == CATENA_NN_DTYPE_FLOAT16 ? CATENA_NN_DTYPE_FLOAT : dt;
  v->ndim = (int) tt->shape->n_dim;
  memcpy (v->dims, dims, sizeof (gint64) * v->ndim);
  if (!nn_shape_elements (v->ndim, v->dims, v->dtype, &v->n_elements, &v->nbytes, &local))
    {
      g_set_error (error, CATENA_NN_ERROR, local->code, "Input “%s”: %s", name, local->message);
      g_error_free (local);
      return FALSE;
    }
  v->is_input = TRUE;
  g_array_append_val (g->inputs, index);
  g_array_append_val (g->input_dtypes, dt);
  return TRUE;
}

static gboolean
add_node (NnGraph *g, const Onnx__NodeProto *np, int opset, GError **error)
{
  NnNode node = { 0 };
  const char *op = np->op_type != NULL ? np->op_type : "";

  node.name = g_strdup (np->name);
  node.op_type = g_strdup (op);
  node.op = nn_op_lookup (op);
  node.opset = opset;
  node.n_in = (int) MIN (np->n_input, 1024);
  node.n_out = (int) MIN (np->n_output, 1024);
  node.in = g_new (int, node.n_in + 1);
  node.out = g_new (int, node.n_out + 1);
  node.n_attrs = (int) MIN (np->n_attribute, 1024);
  node.attrs = g_new0 (NnAttr, node.n_attrs + 1);
  if (np->n_input > 1024 || np->n_output > 1024 || np->n_attribute > 1024)
    {
      nn_error (error, CATENA_NN_ERROR_TOO_LARGE, &node, "too many inputs, outputs or attributes");
      goto fail;
    }
  for (int i = 0; i < node.n_attrs; i++)
    {
      GError *local = NULL;

      if (!convert_attr (np->attribute[i], &node.attrs[i], &local))
        {
          nn_error (error, local->code, &node, "%s", local->message);
          g_error_free (local);
          node.n_attrs = i + 1;
          goto fail;
        }
    }
  for (int i = 0; i < node.n_in; i++)
    {
      const char *name = np->input[i];

      if (name == NULL || name[0] == '\0')
        {
          node.in[i] = -1;
          continue;
        }
      node.in[i] = nn_graph_lookup (g, name);
      if (node.in[i] < 0)
        {
          nn_error (error, CATENA_NN_ERROR_INVALID, &node,
                    "input “%s” is not defined by any node, input or initializer",
                    name);
          goto fail;
        }
    }
  for (int i = 0; i < node.n_out; i++)
    {
      const char *name = np->output[i];

      if (name == NULL || name[0] == '\0')
        {
          node.out[i] = -1;
          continue;
        }
      node.out[i] = nn_graph_add_value (g, name);
      if (node.out[i] < 0)
        {
          nn_error (error, CATENA_NN_ERROR_INVALID, &node, "value “%s” is defined twice", name);
          goto fail;
        }
    }
  /* the graph owns the node's memory from here on, even if preparing it fails */
  return nn_graph_add_node (g, &node, error);

fail:
  g_free (node.name);
  g_free (node.op_type);
  g_free (node.in);
  g_free (node.out);
  for (int a = 0; a < node.n_attrs; a++)
    {
      g_free (node.attrs[a].name);
      g_free (node.attrs[a].s);
      g_free (node.attrs[a].ints);
      g_free (node.attrs[a].floats);
      catena_nn_tensor_unref (node.attrs[a].t);
    }
  g_free (node.attrs);
  return FALSE;
}

/* ONNX requires nodes in topological order, but exporters do not always comply (ISNet's
 * fp16 conversion appends its Cast nodes at the end): sort them (Kahn), keeping the file's
 * order among ready nodes. Names not produced by any node must be inputs or initializers;
 * add_node reports them. */
static gsize *
topo_order (const Onnx__GraphProto *gp, GError **error)
{
  g_autoptr (GHashTable) producer = g_hash_table_new (g_str_hash, g_str_equal);
  g_autofree gsize *pending = g_new0 (gsize, gp->n_node + 1);
  g_autoptr (GPtrArray) consumers = g_ptr_array_new_with_free_func (
    (GDestroyNotify) g_array_unref);
  g_autofree gsize *queue = g_new (gsize, gp->n_node + 1);
  gsize *order = g_new (gsize, gp->n_node + 1);
  gsize head = 0, tail = 0, n = 0;

  for (gsize i = 0; i < gp->n_node; i++)
    {
      g_ptr_array_add (consumers, g_array_new (FALSE, FALSE, sizeof (gsize)));
      for (gsize o = 0; o < gp->node[i]->n_output; o++)
        if (gp->node[i]->output[o] != NULL && gp->node[i]->output[o][0] != '\0')
          g_hash_table_insert (producer, gp->node[i]->output[o], GSIZE_TO_POINTER (i + 1));
    }
  for (gsize i = 0; i < gp->n_node; i++)
    for (gsize k = 0; k < gp->node[i]->n_input; k++)
      {
        const char *name = gp->node[i]->input[k];
        gsize p;

        if (name == NULL || name[0] == '\0')
          continue;
        p = GPOINTER_TO_SIZE (g_hash_table_lookup (producer, name));
        if (p == 0)
          continue;
        g_array_append_val (g_ptr_array_index (consumers, p - 1), i);
        pending[i]++;
      }
  for (gsize i = 0; i < gp->n_node; i++)
    if (pending[i] == 0)
      queue[tail++] = i;
  while (head < tail)
    {
      gsize i = queue[head++];
      GArray *c = g_ptr_array_index (consumers, i);

      order[n++] = i;
      for (guint k = 0; k < c->len; k++)
        if (--pending[g_array_index (c, gsize, k)] == 0)
          queue[tail++] = g_array_index (c, gsize, k);
    }
  if (n != gp->n_node)
    {
      g_set_error (error, CATENA_NN_ERROR, CATENA_NN_ERROR_INVALID,
                   "The model's graph has a cycle");
      g_free (order);
      return NULL;
    }
  return order;
}

static CatenaNnGraph *
graph_from_model (const Onnx__ModelProto *mp, const CatenaNnLoadOptions *options, GError **error)
{
  const Onnx__GraphProto *gp = mp->graph;
  g_autoptr (CatenaNnGraph) g = NULL;
  int opset = -1;

  if (gp == NULL)
    {
      g_set_error (error, CATENA_NN_ERROR, CATENA_NN_ERROR_INVALID, "The model has no graph");
      return NULL;
    }
  for (gsize i = 0; i < mp->n_opset_import; i++)
    if (is_default_domain (mp->opset_import[i]->domain))
      opset = (int) CLAMP (mp->opset_import[i]->version, 0, 10000);
  if (opset < 0)
    {
      g_set_error (error, CATENA_NN_ERROR, CATENA_NN_ERROR_INVALID,
                   "The model does not say which ONNX opset it uses");
      return NULL;
    }
  if (gp->n_sparse_initializer > 0)
    {
      g_set_error (error, CATENA_NN_ERROR, CATENA_NN_ERROR_UNSUPPORTED,
                   "Sparse initializers are not supported");
      return NULL;
    }
  if (!check_ops (gp, error))
    return NULL;

  g = nn_graph_new ();
  for (gsize i = 0; i < gp->n_initializer; i++)
    {
      const Onnx__TensorProto *tp = gp->initializer[i];
      CatenaNnTensor *t;
      NnValue *v;
      int index;

      if (tp->name == NULL || (index = nn_graph_add_value (g, tp->name)) < 0)
        {
          g_set_error (error, CATENA_NN_ERROR, CATENA_NN_ERROR_INVALID,
                       "Initializer “%s” is unnamed or defined twice", tp->name ? tp->name : "");
          return NULL;
        }
      t = tensor_from_proto (tp, TRUE, error);
      if (t == NULL)
        return NULL;
      v = nn_value (g, index);
      v->constant = t;
      v->dtype = t->dtype;
      v->ndim = t->ndim;
      memcpy (v->dims, t->dims, sizeof v->dims);
      v->n_elements = t->n_elements;
      v->nbytes = t->nbytes;
    }
  for (gsize i = 0; i < gp->n_input; i++)
    if (!add_graph_input (g, gp->input[i], options, error))
      return NULL;
  {
    g_autofree gsize *order = topo_order (gp, error);

    if (order == NULL)
      return NULL;
    for (gsize i = 0; i < gp->n_node; i++)
      if (!add_node (g, gp->node[order[i]], opset, error))
        return NULL;
  }
  if (gp->n_output == 0)
    {
      g_set_error (error, CATENA_NN_ERROR, CATENA_NN_ERROR_INVALID, "The model has no outputs");
      return NULL;
    }
  for (gsize i = 0; i < gp->n_output; i++)
    {
      const Onnx__ValueInfoProto *vi = gp->output[i];
      int index = vi->name != NULL ? nn_graph_lookup (g, vi->name) : -1;
      int dt;

      if (index < 0)
        {
          g_set_error (error, CATENA_NN_ERROR, CATENA_NN_ERROR_INVALID,
                       "Output “%s” is not computed by any node", vi->name ? vi->name : "");
          return NULL;
        }
      dt = nn_value (g, index)->dtype;
      /* float16 outputs were computed as float32: convert back when handing them out */
      if (vi->type != NULL && vi->type->value_case == ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE
          && vi->type->tensor_type != NULL && vi->type->tensor_type->has_elem_type
          && vi->type->tensor_type->elem_type == CATENA_NN_DTYPE_FLOAT16
          && dt == CATENA_NN_DTYPE_FLOAT)
        dt = CATENA_NN_DTYPE_FLOAT16;
      g_array_append_val (g->outputs, index);
      g_array_append_val (g->output_dtypes, dt);
    }
  if (!nn_graph_finish (g, options != NULL ? options->outputs : NULL, error))
    return NULL;
  return g_steal_pointer (&g);
}

CatenaNnGraph *
catena_nn_graph_load_onnx (const guint8 *data,
                           gsize len,
                           const CatenaNnLoadOptions *options,
                           GError **error)
{
  Onnx__ModelProto *mp;
  CatenaNnGraph *g;

  if (len > NN_MAX_MODEL_BYTES)
    {
      g_set_error (error, CATENA_NN_ERROR, CATENA_NN_ERROR_TOO_LARGE,
                   "The model file is larger than 2 GiB, which ONNX does not allow");
      return NULL;
    }
  mp = onnx__model_proto__unpack (NULL, len, data);
  if (mp == NULL)
    {
      g_set_error (error, CATENA_NN_ERROR, CATENA_NN_ERROR_INVALID,
                   "Not a valid ONNX model (truncated or malformed protobuf)");
      return NULL;
    }
  g = graph_from_model (mp, options, error);
  onnx__model_proto__free_unpacked (mp, NULL);
  return g;
}

CatenaNnGraph *
catena_nn_graph_load_onnx_file (const char *path,
                                const CatenaNnLoadOptions *options,
                                GError **error)
{
  g_autoptr (GMappedFile) file = NULL;
  GError *local = NULL;

  file = g_mapped_file_new (path, FALSE, &local);
  if (file == NULL)
    {
      g_set_error (error, CATENA_NN_ERROR, CATENA_NN_ERROR_IO,
                   "Could not read the model file: %s", local->message);
      g_error_free (local);
      return NULL;
    }
  return catena_nn_graph_load_onnx ((const guint8 *) g_mapped_file_get_contents (file),
                                    g_mapped_file_get_length (file), options, error);
}
