/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

/* A tiny ONNX model builder for tests, on the protobuf-c code generated from onnx.proto. */

#include <string.h>

#include "catena-nn.h"
#include "onnx.pb-c.h"

typedef struct
{
  Onnx__ModelProto model;
  Onnx__GraphProto graph;
  Onnx__OperatorSetIdProto opset;
  Onnx__OperatorSetIdProto *opsets[1];
  GPtrArray *nodes, *inits, *inputs, *outputs;
  GPtrArray *allocs;
} Tb;

static inline gpointer
tb_keep (Tb *tb, gpointer p)
{
  g_ptr_array_add (tb->allocs, p);
  return p;
}

static inline Tb *
tb_new (int opset)
{
  Tb *tb = g_new0 (Tb, 1);

  onnx__model_proto__init (&tb->model);
  onnx__graph_proto__init (&tb->graph);
  onnx__operator_set_id_proto__init (&tb->opset);
  tb->opset.domain = (char *) "";
  tb->opset.has_version = TRUE;
  tb->opset.version = opset;
  tb->opsets[0] = &tb->opset;
  tb->model.has_ir_version = TRUE;
  tb->model.ir_version = 8;
  tb->model.n_opset_import = 1;
  tb->model.opset_import = tb->opsets;
  tb->model.graph = &tb->graph;
  tb->graph.name = (char *) "test";
  tb->nodes = g_ptr_array_new ();
  tb->inits = g_ptr_array_new ();
  tb->inputs = g_ptr_array_new ();
  tb->outputs = g_ptr_array_new ();
  tb->allocs = g_ptr_array_new_with_free_func (g_free);
  return tb;
}

static inline void
tb_free (Tb *tb)
{
  g_ptr_array_unref (tb->nodes);
  g_ptr_array_unref (tb->inits);
  g_ptr_array_unref (tb->inputs);
  g_ptr_array_unref (tb->outputs);
  g_ptr_array_unref (tb->allocs);
  g_free (tb);
}

static inline Onnx__ValueInfoProto *
tb_value_info (Tb *tb, const char *name, int elem_type, int ndim, const gint64 *dims)
{
  Onnx__ValueInfoProto *vi = tb_keep (tb, g_new0 (Onnx__ValueInfoProto, 1));
  Onnx__TypeProto *tp = tb_keep (tb, g_new0 (Onnx__TypeProto, 1));
  Onnx__TypeProto__Tensor *tt = tb_keep (tb, g_new0 (Onnx__TypeProto__Tensor, 1));

  onnx__value_info_proto__init (vi);
  onnx__type_proto__init (tp);
  onnx__type_proto__tensor__init (tt);
  vi->name = tb_keep (tb, g_strdup (name));
  vi->type = tp;
  tp->value_case = ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE;
  tp->tensor_type = tt;
  tt->has_elem_type = TRUE;
  tt->elem_type = elem_type;
  if (ndim >= 0)
    {
      Onnx__TensorShapeProto *sp = tb_keep (tb, g_new0 (Onnx__TensorShapeProto, 1));

      onnx__tensor_shape_proto__init (sp);
      sp->n_dim = ndim;
      sp->dim = tb_keep (tb, g_new0 (Onnx__TensorShapeProto__Dimension *, ndim + 1));
      for (int i = 0; i < ndim; i++)
        {
          Onnx__TensorShapeProto__Dimension *d = tb_keep (tb, g_new0 (Onnx__TensorShapeProto__Dimension, 1));

          onnx__tensor_shape_proto__dimension__init (d);
          if (dims[i] >= 0)
            {
              d->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE;
              d->dim_value = dims[i];
            }
          else
            {
              d->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM;
              d->dim_param = (char *) "N";
            }
          sp->dim[i] = d;
        }
      tt->shape = sp;
    }
  return vi;
}

static inline void
tb_input (Tb *tb, const char *name, int elem_type, int ndim, const gint64 *dims)
{
  g_ptr_array_add (tb->inputs, tb_value_info (tb, name, elem_type, ndim, dims));
}

static inline void
tb_output (Tb *tb, const char *name, int elem_type)
{
  g_ptr_array_add (tb->outputs, tb_value_info (tb, name, elem_type, -1, NULL));
}

/* inputs / outputs: comma-separated names ("" entries allowed: "x,,s") */
static inline Onnx__NodeProto *
tb_node (Tb *tb, const char *op, const char *inputs, const char *outputs)
{
  Onnx__NodeProto *n = tb_keep (tb, g_new0 (Onnx__NodeProto, 1));
  char **in = g_strsplit (inputs, ",", -1), **out = g_strsplit (outputs, ",", -1);

  onnx__node_proto__init (n);
  n->op_type = tb_keep (tb, g_strdup (op));
  n->name = tb_keep (tb, g_strdup_printf ("%s_%u", op, tb->nodes->len));
  n->n_input = g_strv_length (in);
  n->input = tb_keep (tb, g_new0 (char *, n->n_input + 1));
  for (gsize i = 0; i < n->n_input; i++)
    n->input[i] = tb_keep (tb, g_strdup (in[i]));
  n->n_output = g_strv_length (out);
  n->output = tb_keep (tb, g_new0 (char *, n->n_output + 1));
  for (gsize i = 0; i < n->n_output; i++)
    n->output[i] = tb_keep (tb, g_strdup (out[i]));
  n->attribute = tb_keep (tb, g_new0 (Onnx__AttributeProto *, 16));
  g_strfreev (in);
  g_strfreev (out);
  g_ptr_array_add (tb->nodes, n);
  return n;
}

static inline Onnx__AttributeProto *
tb_attr (Tb *tb, Onnx__NodeProto *n, const char *name, int type)
{
  Onnx__AttributeProto *a = tb_keep (tb, g_new0 (Onnx__AttributeProto, 1));

  g_assert (n->n_attribute < 15);
  onnx__attribute_proto__init (a);
  a->name = tb_keep (tb, g_strdup (name));
  a->has_type = TRUE;
  a->type = type;
  n->attribute[n->n_attribute++] = a;
  return a;
}

static inline void
tb_attr_int (Tb *tb, Onnx__NodeProto *n, const char *name, gint64 v)
{
  Onnx__AttributeProto *a = tb_attr (tb, n, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT);

  a->has_i = TRUE;
  a->i = v;
}

static inline void
tb_attr_float (Tb *tb, Onnx__NodeProto *n, const char *name, float v)
{
  Onnx__AttributeProto *a = tb_attr (tb, n, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT);

  a->has_f = TRUE;
  a->f = v;
}

static inline void
tb_attr_ints (Tb *tb, Onnx__NodeProto *n, const char *name, int count, const gint64 *v)
{
  Onnx__AttributeProto *a = tb_attr (tb, n, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS);

  a->n_ints = count;
  a->ints = tb_keep (tb, g_new0 (gint64, count + 1));
  memcpy (a->ints, v, sizeof (gint64) * count);
}

static inline void
tb_attr_string (Tb *tb, Onnx__NodeProto *n, const char *name, const char *s)
{
  Onnx__AttributeProto *a = tb_attr (tb, n, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRING);

  a->has_s = TRUE;
  a->s.data = tb_keep (tb, g_strdup (s));
  a->s.len = strlen (s);
}

/* an initializer with raw little-endian data of nbytes bytes (may lie about the size) */
static inline Onnx__TensorProto *
tb_init_raw (Tb *tb, const char *name, int type, int ndim, const gint64 *dims, const void *data,
             gsize nbytes)
{
  Onnx__TensorProto *t = tb_keep (tb, g_new0 (Onnx__TensorProto, 1));

  onnx__tensor_proto__init (t);
  t->name = tb_keep (tb, g_strdup (name));
  t->has_data_type = TRUE;
  t->data_type = type;
  t->n_dims = ndim;
  t->dims = tb_keep (tb, g_new0 (gint64, ndim + 1));
  if (ndim > 0)
    memcpy (t->dims, dims, sizeof (gint64) * ndim);
  t->has_raw_data = TRUE;
  t->raw_data.len = nbytes;
  t->raw_data.data = tb_keep (tb, g_malloc0 (nbytes + 1));
  memcpy (t->raw_data.data, data, nbytes);
  g_ptr_array_add (tb->inits, t);
  return t;
}

static inline void
tb_init_float (Tb *tb, const char *name, int ndim, const gint64 *dims, const float *data)
{
  gsize n = 1;

  for (int i = 0; i < ndim; i++)
    n *= dims[i];
  tb_init_raw (tb, name, CATENA_NN_DTYPE_FLOAT, ndim, dims, data, n * sizeof (float));
}

static inline void
tb_init_int64 (Tb *tb, const char *name, int count, const gint64 *v)
{
  gint64 dims[1] = { count };

  tb_init_raw (tb, name, CATENA_NN_DTYPE_INT64, 1, dims, v, count * sizeof (gint64));
}

static inline GBytes *
tb_pack (Tb *tb)
{
  gsize len;
  guint8 *buf;

  tb->graph.n_node = tb->nodes->len;
  tb->graph.node = (Onnx__NodeProto **) tb->nodes->pdata;
  tb->graph.n_initializer = tb->inits->len;
  tb->graph.initializer = (Onnx__TensorProto **) tb->inits->pdata;
  tb->graph.n_input = tb->inputs->len;
  tb->graph.input = (Onnx__ValueInfoProto **) tb->inputs->pdata;
  tb->graph.n_output = tb->outputs->len;
  tb->graph.output = (Onnx__ValueInfoProto **) tb->outputs->pdata;
  len = onnx__model_proto__get_packed_size (&tb->model);
  buf = g_malloc (len + 1);
  onnx__model_proto__pack (&tb->model, buf);
  return g_bytes_new_take (buf, len);
}

static inline CatenaNnGraph *
tb_load (Tb *tb, const CatenaNnLoadOptions *options, GError **error)
{
  g_autoptr (GBytes) b = tb_pack (tb);
  gsize len;
  const guint8 *d = g_bytes_get_data (b, &len);

  return catena_nn_graph_load_onnx (d, len, options, error);
}
