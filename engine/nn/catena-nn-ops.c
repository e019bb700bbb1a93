/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <math.h>
#include <string.h>

#include "catena-nn-params.h"
#include "catena-nn-private.h"
#include "catena-nn-winograd.h"

/* Operator table: shape/type inference ("prepare") and CPU kernels for everything but Conv.
 * Semantics follow the ONNX operator specs (onnx/docs/Operators.md) and the reference
 * implementations in onnx/backend/test/case/node. */

#define CHUNK 65536

static gboolean
need_float (NnNode *node, NnValue *v, GError **error)
{
  if (v == NULL)
    {
      nn_error (error, CATENA_NN_ERROR_INVALID, node, "a required input is missing");
      return FALSE;
    }
  if (v->dtype != CATENA_NN_DTYPE_FLOAT)
    {
      nn_error (error, CATENA_NN_ERROR_UNSUPPORTED, node, "only float32 is supported (got %s)",
                catena_nn_dtype_name (v->dtype));
      return FALSE;
    }
  return TRUE;
}

static NnValue *
need_input (NnGraph *g, NnNode *node, int i, GError **error)
{
  NnValue *v = nn_input (g, node, i);

  if (v == NULL)
    nn_error (error, CATENA_NN_ERROR_INVALID, node, "input %d is required", i);
  return v;
}

static NnValue *
need_constant (NnGraph *g, NnNode *node, int i, const char *what, GError **error)
{
  NnValue *v = nn_input (g, node, i);

  if (v != NULL && v->constant == NULL)
    {
      nn_error (error, CATENA_NN_ERROR_NOT_CONSTANT, node,
                "input “%s” (%s) must be known when the model is loaded", v->name, what);
      return NULL;
    }
  return v;
}

static gboolean
normalize_axis (NnNode *node, gint64 axis, int rank, gint64 *out, GError **error)
{
  if (axis < -rank || axis >= rank)
    {
      nn_error (error, CATENA_NN_ERROR_INVALID, node,
                "axis %" G_GINT64_FORMAT " is out of range for rank %d", axis, rank);
      return FALSE;
    }
  *out = axis < 0 ? axis + rank : axis;
  return TRUE;
}

static gboolean
check_n_outputs (NnNode *node, int n, GError **error)
{
  for (int i = n; i < node->n_out; i++)
    if (node->out[i] >= 0)
      {
        nn_error (error, CATENA_NN_ERROR_UNSUPPORTED, node, "output %d is not supported", i);
        return FALSE;
      }
  return TRUE;
}

static gboolean
same_as_input (NnGraph *g, NnNode *node, NnValue *x, GError **error)
{
  return nn_set_output (g, node, 0, x->dtype, x->ndim, x->dims, error);
}

/* ---- strided copies (Slice, Transpose, DepthToSpace) ---- */

static void
strided_copy (const guint8 *src,
              gint64 base,
              const gint64 *sstride,
              int ndim,
              const gint64 *odims,
              guint8 *dst,
              gsize esize)
{
  gint64 idx[CATENA_NN_MAX_DIMS + 2] = { 0 };
  gint64 inner, outer = 1;

  if (ndim == 0)
    {
      memcpy (dst, src + base * (gint64) esize, esize);
      return;
    }
  for (int d = 0; d < ndim; d++)
    if (odims[d] == 0)
      return;
  inner = odims[ndim - 1];
  for (int d = 0; d < ndim - 1; d++)
    outer *= odims[d];
  for (gint64 o = 0; o < outer; o++)
    {
      gint64 off = base;

      for (int d = 0; d < ndim - 1; d++)
        off += idx[d] * sstride[d];
      if (sstride[ndim - 1] == 1)
        memcpy (dst, src + off * (gint64) esize, inner * esize);
      else if (esize == 4)
        for (gint64 i = 0; i < inner; i++)
          ((guint32 *) dst)[i] = ((const guint32 *) src)[off + i * sstride[ndim - 1]];
      else
        for (gint64 i = 0; i < inner; i++)
          memcpy (dst + i * esize, src + (off + i * sstride[ndim - 1]) * (gint64) esize, esize);
      dst += inner * esize;
      for (int d = ndim - 2; d >= 0; d--)
        {
          if (++idx[d] < odims[d])
            break;
          idx[d] = 0;
        }
    }
}

static void
contiguous_strides (int ndim, const gint64 *dims, gint64 *strides)
{
  /* Unsigned: a shape with a zero dimension is legal and empty, yet the product of its other
   * dimensions may exceed 64 bits (found by fuzzing); such strides are never used to index. */
  guint64 s = 1;

  for (int d = ndim - 1; d >= 0; d--)
    {
      strides[d] = (gint64) s;
      s *= (guint64) dims[d];
    }
}

/* ---- Constant, Shape, Identity, Cast ---- */

static gboolean
constant_prepare (NnGraph *g, NnNode *node, GError **error)
{
  static const char *const known[] = { "value", "value_float", "value_floats", "value_int",
                                       "value_ints", NULL };
  NnAttr *a;
  CatenaNnTensor *t = NULL;
  NnValue *out;

  if (!nn_check_attrs (node, known, error))
    return FALSE;
  if (node->n_attrs != 1)
    {
      nn_error (error, CATENA_NN_ERROR_INVALID, node, "needs exactly one value attribute");
      return FALSE;
    }
  a = &node->attrs[0];
  if (a->type == NN_ATTR_TENSOR && strcmp (a->name, "value") == 0)
    {
      if (a->t->dtype == CATENA_NN_DTYPE_FLOAT16)
        {
          t = catena_nn_tensor_new (CATENA_NN_DTYPE_FLOAT, a->t->ndim, a->t->dims, error);
          if (t == NULL)
            return FALSE;
          nn_convert (a->t->data, a->t->dtype, t->data, t->dtype, t->n_elements);
        }
      else
        t = catena_nn_tensor_ref (a->t);
    }
  else if (a->type == NN_ATTR_FLOAT || a->type == NN_ATTR_INT)
    {
      t = catena_nn_tensor_new (a->type == NN_ATTR_FLOAT ? CATENA_NN_DTYPE_FLOAT
                                                         : CATENA_NN_DTYPE_INT64, 0, NULL, error);
      if (t == NULL)
        return FALSE;
      if (a->type == NN_ATTR_FLOAT)
        *(float *) t->data = a->f;
      else
        *(gint64 *) t->data = a->i;
    }
  else if (a->type == NN_ATTR_FLOATS || a->type == NN_ATTR_INTS)
    {
      gint64 n = (gint64) a->n;

      t = catena_nn_tensor_new (a->type == NN_ATTR_FLOATS ? CATENA_NN_DTYPE_FLOAT
                                                          : CATENA_NN_DTYPE_INT64, 1, &n, error);
      if (t == NULL)
        return FALSE;
      if (n > 0)
        memcpy (t->data, a->type == NN_ATTR_FLOATS ? (void *) a->floats : (void *) a->ints,
                t->nbytes);
    }
  else
    {
      nn_error (error, CATENA_NN_ERROR_INVALID, node, "attribute “%s” has the wrong kind",
                a->name);
      return FALSE;
    }
  if (!nn_set_output (g, node, 0, t->dtype, t->ndim, t->dims, error))
    {
      catena_nn_tensor_unref (t);
      return FALSE;
    }
  out = nn_value (g, node->out[0]);
  out->constant = t;
  return TRUE;
}

static gboolean
shape_prepare (NnGraph *g, NnNode *node, GError **error)
{
  static const char *const known[] = { "start", "end", NULL };
  NnValue *x = need_input (g, node, 0, error);
  gint64 start, end, n;
  CatenaNnTensor *t;

  if (x == NULL || !nn_check_attrs (node, known, error))
    return FALSE;
  start = nn_attr_int (node, "start", 0);
  end = nn_attr_int (node, "end", x->ndim);
  if (start < 0)
    start += x->ndim;
  if (end < 0)
    end += x->ndim;
  start = CLAMP (start, 0, x->ndim);
  end = CLAMP (end, 0, x->ndim);
  n = MAX (0, end - start);
  t = catena_nn_tensor_new (CATENA_NN_DTYPE_INT64, 1, &n, error);
  if (t == NULL)
    return FALSE;
  for (gint64 i = 0; i < n; i++)
    ((gint64 *) t->data)[i] = x->dims[start + i];
  if (!nn_set_output (g, node, 0, CATENA_NN_DTYPE_INT64, 1, &n, error))
    {
      catena_nn_tensor_unref (t);
      return FALSE;
    }
  nn_value (g, node->out[0])->constant = t;
  return TRUE;
}

static gboolean
identity_prepare (NnGraph *g, NnNode *node, GError **error)
{
  NnValue *x = need_input (g, node, 0, error);

  if (x == NULL || !nn_check_attrs (node, NULL, error))
    return FALSE;
  node->alias = TRUE;
  return same_as_input (g, node, x, error);
}

static gboolean
cast_prepare (NnGraph *g, NnNode *node, GError **error)
{
  static const char *const known[] = { "to", "saturate", NULL };
  NnValue *x = need_input (g, node, 0, error);
  CatenaNnDType to;

  if (x == NULL || !nn_check_attrs (node, known, error))
    return FALSE;
  to = (CatenaNnDType) nn_attr_int (node, "to", 0);
  if (!nn_dtype_is_storable (to))
    {
      nn_error (error, CATENA_NN_ERROR_UNSUPPORTED, node, "casting to %s is not supported",
                catena_nn_dtype_name (to));
      return FALSE;
    }
  /* float16 values are held as float32: float ↔ float16 casts between them are no-ops */
  if (to == CATENA_NN_DTYPE_FLOAT16)
    to = CATENA_NN_DTYPE_FLOAT;
  if (to == x->dtype)
    node->alias = TRUE;
  return nn_set_output (g, node, 0, to, x->ndim, x->dims, error);
}

static void
cast_run (NnNode *node, CatenaNnTensor *const *in, CatenaNnTensor *const *out)
{
  nn_convert (in[0]->data, in[0]->dtype, out[0]->data, out[0]->dtype, out[0]->n_elements);
}

/* ---- unary elementwise ---- */

typedef struct
{
  NnNode *node;
  const float *x;
  float *y;
  gsize n;
  float a, b;
} UnaryRun;

static gboolean
unary_prepare (NnGraph *g, NnNode *node, GError **error)
{
  static const char *const none[] = { NULL };
  static const char *const alpha[] = { "alpha", NULL };
  NnValue *x = nn_input (g, node, 0);
  gboolean leaky = strcmp (node->op_type, "LeakyRelu") == 0;

  if (!nn_check_attrs (node, leaky ? alpha : none, error) || !need_float (node, x, error))
    return FALSE;
  return same_as_input (g, node, x, error);
}

static void
unary_task (gpointer user, gsize task, int thread)
{
  UnaryRun *r = user;
  gsize i0 = task * CHUNK, i1 = MIN (r->n, i0 + CHUNK);
  const float *x = r->x;
  float *y = r->y;
  const char *op = r->node->op_type;

  if (strcmp (op, "Relu") == 0)
    for (gsize i = i0; i < i1; i++)
      y[i] = x[i] > 0.f ? x[i] : 0.f;
  else if (strcmp (op, "Sigmoid") == 0)
    for (gsize i = i0; i < i1; i++)
      y[i] = 1.f / (1.f + expf (-x[i]));
  else if (strcmp (op, "Tanh") == 0)
    for (gsize i = i0; i < i1; i++)
      y[i] = tanhf (x[i]);
  else if (strcmp (op, "LeakyRelu") == 0)
    for (gsize i = i0; i < i1; i++)
      y[i] = x[i] >= 0.f ? x[i] : x[i] * r->a;
  else if (strcmp (op, "Clip") == 0)
    for (gsize i = i0; i < i1; i++)
      y[i] = x[i] < r->a ? r->a : x[i] > r->b ? r->b : x[i];
}

static void
unary_run (NnNode *node, CatenaNnTensor *const *in, CatenaNnTensor *const *out)
{
  UnaryRun r = { node, in[0]->data, out[0]->data, out[0]->n_elements,
                 nn_attr_float (node, "alpha", 0.01f), 0 };

  if (strcmp (node->op_type, "Clip") == 0)
    {
      r.a = node->n_in > 1 && in[1] != NULL ? *(const float *) in[1]->data
                                            : nn_attr_float (node, "min", -INFINITY);
      r.b = node->n_in > 2 && in[2] != NULL ? *(const float *) in[2]->data
                                            : nn_attr_float (node, "max", INFINITY);
    }
  nn_parallel_run ((r.n + CHUNK - 1) / CHUNK, unary_task, &r);
}

static gboolean
clip_prepare (NnGraph *g, NnNode *node, GError **error)
{
  static const char *const known[] = { "min", "max", NULL };
  NnValue *x = nn_input (g, node, 0);

  if (!nn_check_attrs (node, known, error) || !need_float (node, x, error))
    return FALSE;
  for (int i = 1; i < MIN (node->n_in, 3); i++)
    {
      NnValue *v = nn_input (g, node, i);

      if (v == NULL)
        continue;
      if (!need_float (node, v, error))
        return FALSE;
      if (v->n_elements != 1)
        {
          nn_error (error, CATENA_NN_ERROR_INVALID, node, "min and max must be scalars");
          return FALSE;
        }
    }
  return same_as_input (g, node, x, error);
}

/* ---- binary elementwise with broadcasting ---- */

static gboolean
binary_prepare (NnGraph *g, NnNode *node, GError **error)
{
  NnValue *a = need_input (g, node, 0, error), *b;
  BinParams *p;
  gint64 sa[CATENA_NN_MAX_DIMS], sb[CATENA_NN_MAX_DIMS];
  const char *op = node->op_type;

  if (a == NULL || (b = need_input (g, node, 1, error)) == NULL)
    return FALSE;
  if (!nn_check_attrs (node, NULL, error))
    return FALSE;
  if (a->dtype != b->dtype)
    {
      nn_error (error, CATENA_NN_ERROR_INVALID, node, "input types differ (%s, %s)",
                catena_nn_dtype_name (a->dtype), catena_nn_dtype_name (b->dtype));
      return FALSE;
    }
  if (a->dtype != CATENA_NN_DTYPE_FLOAT
      && (strcmp (op, "PRelu") == 0
          || (a->dtype != CATENA_NN_DTYPE_INT64 && a->dtype != CATENA_NN_DTYPE_INT32
              && a->dtype != CATENA_NN_DTYPE_DOUBLE)))
    {
      nn_error (error, CATENA_NN_ERROR_UNSUPPORTED, node, "type %s is not supported",
                catena_nn_dtype_name (a->dtype));
      return FALSE;
    }
  p = g_new0 (BinParams, 1);
  node->params = p;
  node->free_params = g_free;
  p->op = strcmp (op, "Add") == 0   ? BIN_ADD
          : strcmp (op, "Sub") == 0 ? BIN_SUB
          : strcmp (op, "Mul") == 0 ? BIN_MUL
          : strcmp (op, "Div") == 0 ? BIN_DIV
                                    : BIN_PRELU;
  p->ndim = MAX (a->ndim, b->ndim);
  contiguous_strides (a->ndim, a->dims, sa);
  contiguous_strides (b->ndim, b->dims, sb);
  for (int d = 0; d < p->ndim; d++)
    {
      int da = d - (p->ndim - a->ndim), db = d - (p->ndim - b->ndim);
      gint64 ea = da >= 0 ? a->dims[da] : 1, eb = db >= 0 ? b->dims[db] : 1;

      if (ea != eb && ea != 1 && eb != 1)
        {
          nn_error (error, CATENA_NN_ERROR_INVALID, node,
                    "shapes cannot be broadcast (%" G_GINT64_FORMAT " vs %" G_GINT64_FORMAT
                    " on axis %d)", ea, eb, d);
          return FALSE;
        }
      if (p->op == BIN_PRELU && eb != ea && ea == 1)
        {
          nn_error (error, CATENA_NN_ERROR_INVALID, node, "slope must broadcast to X");
          return FALSE;
        }
      p->dims[d] = ea == 1 ? eb : ea;
      p->sa[d] = ea == 1 ? 0 : sa[da];
      p->sb[d] = eb == 1 ? 0 : sb[db];
    }
  p->rows = 1;
  for (int d = 0; d < p->ndim - 1; d++)
    p->rows *= p->dims[d];
  return nn_set_output (g, node, 0, a->dtype, p->ndim, p->dims, error);
}

typedef struct
{
  const BinParams *p;
  CatenaNnDType dtype;
  const void *a, *b;
  void *y;
} BinRun;

#define BIN_LOOP(T, DIVEXPR)                                                   \
  do                                                                           \
    {                                                                          \
      const T *A = (const T *) r->a + oa, *B = (const T *) r->b + ob;          \
      T *Y = (T *) r->y + row * inner;                                         \
      switch (p->op)                                                           \
        {                                                                      \
        case BIN_ADD:                                                          \
          for (gint64 i = 0; i < inner; i++) Y[i] = A[i * ia] + B[i * ib];     \
          break;                                                               \
        case BIN_SUB:                                                          \
          for (gint64 i = 0; i < inner; i++) Y[i] = A[i * ia] - B[i * ib];     \
          break;                                                               \
        case BIN_MUL:                                                          \
          for (gint64 i = 0; i < inner; i++) Y[i] = A[i * ia] * B[i * ib];     \
          break;                                                               \
        case BIN_DIV:                                                          \
          for (gint64 i = 0; i < inner; i++)                                   \
            {                                                                  \
              T x = A[i * ia], z = B[i * ib];                                  \
              Y[i] = DIVEXPR;                                                  \
            }                                                                  \
          break;                                                               \
        case BIN_PRELU:                                                        \
          for (gint64 i = 0; i < inner; i++)                                   \
            Y[i] = A[i * ia] < 0 ? A[i * ia] * B[i * ib] : A[i * ia];          \
          break;                                                               \
        }                                                                      \
    }                                                                          \
  while (0)

static void
binary_task (gpointer user, gsize task, int thread)
{
  BinRun *r = user;
  const BinParams *p = r->p;
  gint64 inner = p->ndim > 0 ? p->dims[p->ndim - 1] : 1;
  gint64 ia = p->ndim > 0 ? p->sa[p->ndim - 1] : 0, ib = p->ndim > 0 ? p->sb[p->ndim - 1] : 0;
  gint64 rows_per_task = MAX (1, CHUNK / MAX (inner, 1));
  gint64 r0 = (gint64) task * rows_per_task, r1 = MIN (p->rows, r0 + rows_per_task);

  for (gint64 row = r0; row < r1; row++)
    {
      gint64 oa = 0, ob = 0, rem = row;

      for (int d = p->ndim - 2; d >= 0; d--)
        {
          gint64 i = rem % p->dims[d];

          rem /= p->dims[d];
          oa += i * p->sa[d];
          ob += i * p->sb[d];
        }
      switch (r->dtype)
        {
        case CATENA_NN_DTYPE_FLOAT: BIN_LOOP (float, x / z); break;
        case CATENA_NN_DTYPE_DOUBLE: BIN_LOOP (double, x / z); break;
        /* integer division: no trap on 0 or MIN / -1 */
        case CATENA_NN_DTYPE_INT32:
          BIN_LOOP (gint32, z == 0 ? 0 : (z == -1 ? (gint32) (0u - (guint32) x) : x / z));
          break;
        case CATENA_NN_DTYPE_INT64:
          BIN_LOOP (gint64, z == 0 ? 0 : (z == -1 ? (gint64) (0u - (guint64) x) : x / z));
          break;
        default: break;
        }
    }
}

static void
binary_run (NnNode *node, CatenaNnTensor *const *in, CatenaNnTensor *const *out)
{
  const BinParams *p = node->params;
  BinRun r = { p, out[0]->dtype, in[0]->data, in[1]->data, out[0]->data };
  gint64 inner = p->ndim > 0 ? p->dims[p->ndim - 1] : 1;
  gint64 rows_per_task = MAX (1, CHUNK / MAX (inner, 1));

  if (out[0]->n_elements == 0)
    return;
  nn_parallel_run ((gsize) ((p->rows + rows_per_task - 1) / rows_per_task), binary_task, &r);
}

/* ---- Concat ---- */

static gboolean
concat_prepare (NnGraph *g, NnNode *node, GError **error)
{
  static const char *const known[] = { "axis", NULL };
  NnValue *x0 = need_input (g, node, 0, error);
  ConcatParams *p;
  gint64 dims[CATENA_NN_MAX_DIMS];

  if (x0 == NULL || !nn_check_attrs (node, known, error))
    return FALSE;
  if (nn_attr (node, "axis") == NULL || x0->ndim == 0)
    {
      nn_error (error, CATENA_NN_ERROR_INVALID, node, "needs an axis and inputs of rank ≥ 1");
      return FALSE;
    }
  p = g_new0 (ConcatParams, 1);
  node->params = p;
  node->free_params = g_free;
  if (!normalize_axis (node, nn_attr_int (node, "axis", 0), x0->ndim, &p->axis, error))
    return FALSE;
  memcpy (dims, x0->dims, sizeof dims);
  dims[p->axis] = 0;
  for (int i = 0; i < node->n_in; i++)
    {
      NnValue *v = need_input (g, node, i, error);

      if (v == NULL)
        return FALSE;
      if (v->dtype != x0->dtype || v->ndim != x0->ndim)
        {
          nn_error (error, CATENA_NN_ERROR_INVALID, node, "inputs differ in type or rank");
          return FALSE;
        }
      for (int d = 0; d < v->ndim; d++)
        if (d != p->axis && v->dims[d] != x0->dims[d])
          {
            nn_error (error, CATENA_NN_ERROR_INVALID, node,
                      "input %d does not match input 0 on axis %d", i, d);
            return FALSE;
          }
      dims[p->axis] += v->dims[p->axis];
    }
  p->outer = 1;
  for (int d = 0; d < p->axis; d++)
    p->outer *= dims[d];
  return nn_set_output (g, node, 0, x0->dtype, x0->ndim, dims, error);
}

typedef struct
{
  NnNode *node;
  CatenaNnTensor *const *in;
  CatenaNnTensor *y;
  gsize *in_bytes; /* per outer row, per input */
  gsize out_bytes;
  gsize *prefix;
} ConcatRun;

#define COPY_CHUNK ((gsize) 1 << 20)

static void
concat_task (gpointer user, gsize task, int thread)
{
  ConcatRun *r = user;
  const ConcatParams *p = r->node->params;
  gsize total = (gsize) p->outer * r->out_bytes;
  gsize b0 = task * COPY_CHUNK, b1 = MIN (total, b0 + COPY_CHUNK);

  /* copy output bytes [b0, b1): walk the (row, input) pieces overlapping it */
  while (b0 < b1)
    {
      gsize row = b0 / r->out_bytes, in_row = b0 % r->out_bytes;
      int i = 0;
      gsize n;

      while (i + 1 < r->node->n_in && r->prefix[i + 1] <= in_row)
        i++;
      n = MIN (b1 - b0, r->prefix[i] + r->in_bytes[i] - in_row);
      if (n == 0)
        break;
      {
        guint8 *dst = (guint8 *) r->y->data + b0;
        const guint8 *src = (const guint8 *) r->in[i]->data + row * r->in_bytes[i]
                            + (in_row - r->prefix[i]);

        /* an input produced in place (catena-nn-graph.c, concat_in_place) is already there */
        if (dst != src)
          memcpy (dst, src, n);
      }
      b0 += n;
    }
}

static void
concat_run (NnNode *node, CatenaNnTensor *const *in, CatenaNnTensor *const *out)
{
  const ConcatParams *p = node->params;
  gsize in_bytes[node->n_in + 1], prefix[node->n_in + 1];
  ConcatRun r = { node, in, out[0], in_bytes, 0, prefix };
  gsize esize = catena_nn_dtype_size (out[0]->dtype);

  for (int i = 0; i < node->n_in; i++)
    {
      gsize inner = esize;

      for (int d = (int) p->axis; d < in[i]->ndim; d++)
        inner *= (gsize) in[i]->dims[d];
      in_bytes[i] = inner;
      prefix[i] = r.out_bytes;
      r.out_bytes += inner;
    }
  if (r.out_bytes == 0 || p->outer == 0)
    return;
  /* inputs that are empty are skipped by the prefix walk; avoid a zero-size piece loop */
  for (int i = 0; i < node->n_in; i++)
    if (in_bytes[i] == 0)
      {
        /* fall back to a plain sequential copy */
        guint8 *dst = out[0]->data;

        for (gint64 o = 0; o < p->outer; o++)
          for (int k = 0; k < node->n_in; k++)
            {
              memcpy (dst, (const guint8 *) in[k]->data + o * in_bytes[k], in_bytes[k]);
              dst += in_bytes[k];
            }
        return;
      }
  nn_parallel_run ((p->outer * r.out_bytes + COPY_CHUNK - 1) / COPY_CHUNK, concat_task, &r);
}

/* ---- Slice ---- */

static gboolean
slice_prepare (NnGraph *g, NnNode *node, GError **error)
{
  NnValue *x = need_input (g, node, 0, error);
  NnValue *vs, *ve, *va, *vst;
  gint64 starts[CATENA_NN_MAX_DIMS], steps[CATENA_NN_MAX_DIMS], dims[CATENA_NN_MAX_DIMS];
  gint64 strides[CATENA_NN_MAX_DIMS];
  gboolean seen[CATENA_NN_MAX_DIMS] = { FALSE };
  GatherParams *p;
  gsize n;

  if (x == NULL || !nn_check_attrs (node, NULL, error))
    return FALSE;
  if (node->opset < 10)
    {
      nn_error (error, CATENA_NN_ERROR_UNSUPPORTED, node, "Slice-%d is not supported",
                node->opset);
      return FALSE;
    }
  if ((vs = need_constant (g, node, 1, "starts", error)) == NULL && error && *error)
    return FALSE;
  if ((ve = need_constant (g, node, 2, "ends", error)) == NULL && error && *error)
    return FALSE;
  va = need_constant (g, node, 3, "axes", error);
  if (error && *error)
    return FALSE;
  vst = need_constant (g, node, 4, "steps", error);
  if (error && *error)
    return FALSE;
  if (vs == NULL || ve == NULL || vs->ndim != 1 || ve->ndim != 1
      || vs->n_elements != ve->n_elements || vs->n_elements > (gsize) x->ndim
      || (va && (va->ndim != 1 || va->n_elements != vs->n_elements))
      || (vst && (vst->ndim != 1 || vst->n_elements != vs->n_elements)))
    {
      nn_error (error, CATENA_NN_ERROR_INVALID, node,
                "starts, ends, axes and steps must be 1-D of the same length");
      return FALSE;
    }
  memcpy (dims, x->dims, sizeof dims);
  for (int d = 0; d < x->ndim; d++)
    starts[d] = 0, steps[d] = 1;
  n = vs->n_elements;
  for (gsize i = 0; i < n; i++)
    {
      gint64 axis = va ? nn_tensor_get_int (va->constant, i) : (gint64) i;
      gint64 s = nn_tensor_get_int (vs->constant, i), e = nn_tensor_get_int (ve->constant, i);
      gint64 step = vst ? nn_tensor_get_int (vst->constant, i) : 1, dim;

      if (!normalize_axis (node, axis, x->ndim, &axis, error))
        return FALSE;
      if (seen[axis] || step == 0)
        {
          nn_error (error, CATENA_NN_ERROR_INVALID, node, "repeated axis or zero step");
          return FALSE;
        }
      seen[axis] = TRUE;
      dim = x->dims[axis];
      /* a step longer than the axis picks at most one element: bound it before dividing */
      if (step < -dim - 1 || step > dim + 1)
        step = step > 0 ? dim + 1 : -dim - 1;
      if (s < 0)
        s = s < -dim ? 0 : s + dim;
      if (e < 0)
        e = e < -dim ? -1 : e + dim;
      if (step > 0)
        {
          s = CLAMP (s, 0, dim);
          e = CLAMP (e, 0, dim);
          dims[axis] = e > s ? (e - s + step - 1) / step : 0;
        }
      else
        {
          s = CLAMP (s, 0, dim - 1);
          e = CLAMP (e, -1, dim - 1);
          dims[axis] = s > e ? (s - e + (-step) - 1) / (-step) : 0;
        }
      starts[axis] = s;
      steps[axis] = step;
    }
  p = g_new0 (GatherParams, 1);
  node->params = p;
  node->free_params = g_free;
  contiguous_strides (x->ndim, x->dims, strides);
  for (int d = 0; d < x->ndim; d++)
    {
      p->base += starts[d] * strides[d];
      p->sstride[d] = steps[d] * strides[d];
    }
  return nn_set_output (g, node, 0, x->dtype, x->ndim, dims, error);
}

static void
gather_run (NnNode *node, CatenaNnTensor *const *in, CatenaNnTensor *const *out)
{
  const GatherParams *p = node->params;

  strided_copy (in[0]->data, p->base, p->sstride, out[0]->ndim, out[0]->dims, out[0]->data,
                catena_nn_dtype_size (out[0]->dtype));
}

/* ---- Transpose, DepthToSpace: gathers with a permuted view ---- */

static void
perm_run (NnNode *node, CatenaNnTensor *const *in, CatenaNnTensor *const *out)
{
  const PermParams *p = node->params;

  strided_copy (in[0]->data, 0, p->sstride, p->ndim, p->vdims, out[0]->data,
                catena_nn_dtype_size (out[0]->dtype));
}

static gboolean
transpose_prepare (NnGraph *g, NnNode *node, GError **error)
{
  static const char *const known[] = { "perm", NULL };
  NnValue *x = need_input (g, node, 0, error);
  gint64 strides[CATENA_NN_MAX_DIMS];
  gboolean seen[CATENA_NN_MAX_DIMS] = { FALSE };
  const gint64 *perm;
  PermParams *p;
  gsize n;

  if (x == NULL || !nn_check_attrs (node, known, error))
    return FALSE;
  perm = nn_attr_ints (node, "perm", &n);
  if (perm != NULL && n != (gsize) x->ndim)
    {
      nn_error (error, CATENA_NN_ERROR_INVALID, node, "perm must have one entry per axis");
      return FALSE;
    }
  p = g_new0 (PermParams, 1);
  node->params = p;
  node->free_params = g_free;
  p->ndim = x->ndim;
  contiguous_strides (x->ndim, x->dims, strides);
  for (int d = 0; d < x->ndim; d++)
    {
      gint64 src = perm ? perm[d] : x->ndim - 1 - d;

      if (src < 0 || src >= x->ndim || seen[src])
        {
          nn_error (error, CATENA_NN_ERROR_INVALID, node, "perm is not a permutation");
          return FALSE;
        }
      seen[src] = TRUE;
      p->vdims[d] = x->dims[src];
      p->sstride[d] = strides[src];
    }
  return nn_set_output (g, node, 0, x->dtype, x->ndim, p->vdims, error);
}

static gboolean
depth_to_space_prepare (NnGraph *g, NnNode *node, GError **error)
{
  static const char *const known[] = { "blocksize", "mode", NULL };
  NnValue *x = need_input (g, node, 0, error);
  const char *mode;
  gint64 b, n, c, h, w, cb, dims[4];
  PermParams *p;

  if (x == NULL || !nn_check_attrs (node, known, error))
    return FALSE;
  b = nn_attr_int (node, "blocksize", 0);
  mode = nn_attr_string (node, "mode", "DCR");
  if (x->ndim != 4 || b < 1 || b > 4096 || x->dims[1] % (b * b) != 0)
    {
      nn_error (error, CATENA_NN_ERROR_INVALID, node,
                "needs a 4-D input whose channels divide by blocksize²");
      return FALSE;
    }
  if (strcmp (mode, "DCR") != 0 && strcmp (mode, "CRD") != 0)
    {
      nn_error (error, CATENA_NN_ERROR_UNSUPPORTED, node, "mode “%s” is not supported", mode);
      return FALSE;
    }
  n = x->dims[0], c = x->dims[1], h = x->dims[2], w = x->dims[3], cb = c / (b * b);
  p = g_new0 (PermParams, 1);
  node->params = p;
  node->free_params = g_free;
  p->ndim = 6;
  /* view of the output as [n, cb, h, b, w, b] */
  {
    gint64 vd[6] = { n, cb, h, b, w, b };
    gint64 hs = w, cs = h * w, ns = c * h * w;
    /* channel index of (cb_i, bi, bj): DCR = (bi*b + bj)*cb + cb_i; CRD = cb_i*b*b + bi*b + bj */
    gint64 s_cb = strcmp (mode, "DCR") == 0 ? cs : b * b * cs;
    gint64 s_bi = strcmp (mode, "DCR") == 0 ? b * cb * cs : b * cs;
    gint64 s_bj = strcmp (mode, "DCR") == 0 ? cb * cs : cs;
    gint64 st[6] = { ns, s_cb, hs, s_bi, 1, s_bj };

    memcpy (p->vdims, vd, sizeof vd);
    memcpy (p->sstride, st, sizeof st);
  }
  dims[0] = n, dims[1] = cb, dims[2] = h * b, dims[3] = w * b;
  return nn_set_output (g, node, 0, x->dtype, 4, dims, error);
}

/* ---- Reshape, Flatten, Squeeze, Unsqueeze: no-copy views ---- */

static gboolean
view_output (NnGraph *g, NnNode *node, NnValue *x, int ndim, const gint64 *dims, GError **error)
{
  gsize n, nbytes;

  if (!nn_shape_elements (ndim, dims, x->dtype, &n, &nbytes, error))
    return FALSE;
  if (n != x->n_elements)
    {
      nn_error (error, CATENA_NN_ERROR_INVALID, node, "the new shape has %" G_GSIZE_FORMAT
                " elements, the input %" G_GSIZE_FORMAT, n, x->n_elements);
      return FALSE;
    }
  node->alias = TRUE;
  return nn_set_output (g, node, 0, x->dtype, ndim, dims, error);
}

static gboolean
reshape_prepare (NnGraph *g, NnNode *node, GError **error)
{
  static const char *const known[] = { "allowzero", NULL };
  NnValue *x = need_input (g, node, 0, error), *s;
  gint64 dims[CATENA_NN_MAX_DIMS], known_prod = 1;
  int infer = -1, ndim;
  gboolean allowzero = nn_attr_int (node, "allowzero", 0) != 0;

  if (x == NULL || !nn_check_attrs (node, known, error))
    return FALSE;
  s = need_constant (g, node, 1, "shape", error);
  if (s == NULL)
    {
      if (error && *error == NULL)
        nn_error (error, CATENA_NN_ERROR_INVALID, node, "needs a shape input");
      return FALSE;
    }
  if (s->ndim != 1 || s->n_elements > CATENA_NN_MAX_DIMS)
    {
      nn_error (error, CATENA_NN_ERROR_UNSUPPORTED, node, "shape must be 1-D of rank ≤ %d",
                CATENA_NN_MAX_DIMS);
      return FALSE;
    }
  ndim = (int) s->n_elements;
  for (int d = 0; d < ndim; d++)
    {
      gint64 v = nn_tensor_get_int (s->constant, d);

      if (v == 0 && !allowzero)
        {
          if (d >= x->ndim)
            {
              nn_error (error, CATENA_NN_ERROR_INVALID, node, "0 refers to a missing axis");
              return FALSE;
            }
          v = x->dims[d];
        }
      if (v == -1)
        {
          if (infer >= 0)
            {
              nn_error (error, CATENA_NN_ERROR_INVALID, node, "more than one -1 in shape");
              return FALSE;
            }
          infer = d;
          v = 1;
        }
      else if (v < 0)
        {
          nn_error (error, CATENA_NN_ERROR_INVALID, node, "negative size in shape");
          return FALSE;
        }
      dims[d] = v;
      if (v != 0 && known_prod > G_MAXINT64 / v)
        {
          nn_error (error, CATENA_NN_ERROR_TOO_LARGE, node, "shape is too large");
          return FALSE;
        }
      known_prod *= v;
    }
  if (infer >= 0)
    {
      if (known_prod == 0 || x->n_elements % (gsize) known_prod != 0)
        {
          nn_error (error, CATENA_NN_ERROR_INVALID, node, "cannot infer the -1 dimension");
          return FALSE;
        }
      dims[infer] = (gint64) x->n_elements / known_prod;
    }
  return view_output (g, node, x, ndim, dims, error);
}

static gboolean
flatten_prepare (NnGraph *g, NnNode *node, GError **error)
{
  static const char *const known[] = { "axis", NULL };
  NnValue *x = need_input (g, node, 0, error);
  gint64 axis, dims[2] = { 1, 1 };

  if (x == NULL || !nn_check_attrs (node, known, error))
    return FALSE;
  axis = nn_attr_int (node, "axis", 1);
  if (axis < 0)
    axis += x->ndim;
  if (axis < 0 || axis > x->ndim)
    {
      nn_error (error, CATENA_NN_ERROR_INVALID, node, "axis out of range");
      return FALSE;
    }
  for (int d = 0; d < x->ndim; d++)
    dims[d < axis ? 0 : 1] *= x->dims[d];
  return view_output (g, node, x, 2, dims, error);
}

static gboolean
axes_list (NnGraph *g, NnNode *node, int rank, gboolean *mark, gsize *count, GError **error)
{
  const gint64 *attr;
  gsize n = 0;
  NnValue *v = NULL;

  *count = 0;
  if (node->opset >= 13)
    {
      v = need_constant (g, node, 1, "axes", error);
      if (v == NULL && error && *error)
        return FALSE;
      if (v != NULL && v->ndim != 1)
        {
          nn_error (error, CATENA_NN_ERROR_INVALID, node, "axes must be 1-D");
          return FALSE;
        }
      n = v ? v->n_elements : 0;
      attr = NULL;
    }
  else
    attr = nn_attr_ints (node, "axes", &n);
  for (gsize i = 0; i < n; i++)
    {
      gint64 a = v ? nn_tensor_get_int (v->constant, i) : attr[i];

      if (!normalize_axis (node, a, rank, &a, error))
        return FALSE;
      if (mark[a])
        {
          nn_error (error, CATENA_NN_ERROR_INVALID, node, "repeated axis");
          return FALSE;
        }
      mark[a] = TRUE;
    }
  *count = n;
  return TRUE;
}

static gboolean
squeeze_prepare (NnGraph *g, NnNode *node, GError **error)
{
  static const char *const known[] = { "axes", NULL };
  NnValue *x = need_input (g, node, 0, error);
  gboolean mark[CATENA_NN_MAX_DIMS] = { FALSE };
  gint64 dims[CATENA_NN_MAX_DIMS];
  gsize n;
  int nd = 0;

  if (x == NULL || !nn_check_attrs (node, known, error)
      || !axes_list (g, node, x->ndim, mark, &n, error))
    return FALSE;
  for (int d = 0; d < x->ndim; d++)
    {
      if (n == 0 ? x->dims[d] == 1 : mark[d])
        {
          if (x->dims[d] != 1)
            {
              nn_error (error, CATENA_NN_ERROR_INVALID, node, "axis %d is not of size 1", d);
              return FALSE;
            }
          continue;
        }
      dims[nd++] = x->dims[d];
    }
  return view_output (g, node, x, nd, dims, error);
}

static gboolean
unsqueeze_prepare (NnGraph *g, NnNode *node, GError **error)
{
  static const char *const known[] = { "axes", NULL };
  NnValue *x = need_input (g, node, 0, error);
  gboolean mark[CATENA_NN_MAX_DIMS] = { FALSE };
  gint64 dims[CATENA_NN_MAX_DIMS];
  gsize n, count;
  int rank, src = 0;

  if (x == NULL || !nn_check_attrs (node, known, error))
    return FALSE;
  /* the output rank depends on the number of axes */
  if (node->opset >= 13)
    {
      NnValue *v = need_constant (g, node, 1, "axes", error);

      if (v == NULL)
        {
          if (error && *error == NULL)
            nn_error (error, CATENA_NN_ERROR_INVALID, node, "needs axes");
          return FALSE;
        }
      n = v->n_elements;
    }
  else
    nn_attr_ints (node, "axes", &n);
  rank = x->ndim + (int) n;
  if (rank > CATENA_NN_MAX_DIMS)
    {
      nn_error (error, CATENA_NN_ERROR_UNSUPPORTED, node, "rank %d is too large", rank);
      return FALSE;
    }
  if (!axes_list (g, node, rank, mark, &count, error))
    return FALSE;
  for (int d = 0; d < rank; d++)
    dims[d] = mark[d] ? 1 : x->dims[src++];
  return view_output (g, node, x, rank, dims, error);
}

/* ---- Resize ---- */

static void
resize_params_free (gpointer data)
{
  ResizeParams *p = data;

  g_free (p->ty.idx);
  g_free (p->ty.w);
  g_free (p->tx.idx);
  g_free (p->tx.w);
  g_free (p);
}

static double
cubic_weight (double t, double a)
{
  t = fabs (t);
  if (t <= 1)
    return ((a + 2) * t - (a + 3)) * t * t + 1;
  if (t < 2)
    return ((a * t - 5 * a) * t + 8 * a) * t - 4 * a;
  return 0;
}

static void
axis_taps (AxisTaps *t,
           gint64 in_len,
           gint64 out_len,
           double scale,
           const char *coord,
           const char *mode,
           const char *nearest_mode,
           double cubic_a,
           gboolean exclude_outside)
{
  gboolean nearest = strcmp (mode, "nearest") == 0, cubic = strcmp (mode, "cubic") == 0;

  t->n_taps = nearest ? 1 : cubic ? 4 : 2;
  t->idx = g_new0 (gint64, out_len * t->n_taps + 1);
  t->w = g_new0 (float, out_len * t->n_taps + 1);
  for (gint64 o = 0; o < out_len; o++)
    {
      double x;
      gint64 *idx = t->idx + o * t->n_taps;
      float *w = t->w + o * t->n_taps;

      /* the reference uses the unrounded output length scale · in_len here */
      double out_f = scale * (double) in_len;

      if (strcmp (coord, "align_corners") == 0)
        x = out_f == 1 ? 0 : o * (double) (in_len - 1) / (out_f - 1);
      else if (strcmp (coord, "asymmetric") == 0)
        x = o / scale;
      else if (strcmp (coord, "pytorch_half_pixel") == 0)
        x = out_f == 1 ? -0.5 : (o + 0.5) / scale - 0.5;
      else if (strcmp (coord, "tf_half_pixel_for_nn") == 0)
        x = (o + 0.5) / scale;
      else
        x = (o + 0.5) / scale - 0.5; /* half_pixel */

      if (nearest)
        {
          double r;
          gint64 i;

          if (x == floor (x))
            i = (gint64) x;
          else if (strcmp (nearest_mode, "floor") == 0)
            i = (gint64) floor (x);
          else if (strcmp (nearest_mode, "ceil") == 0)
            i = (gint64) ceil (x);
          else
            {
              r = x - floor (x);
              if (strcmp (nearest_mode, "round_prefer_ceil") == 0)
                i = (gint64) floor (x) + (r >= 0.5);
              else
                i = (gint64) floor (x) + (r > 0.5);
            }
          idx[0] = CLAMP (i, 0, in_len - 1);
          w[0] = 1.f;
          continue;
        }
      {
        /* left neighbour and ratio in (0, 1], as the ONNX reference picks them */
        gint64 left = (gint64) ceil (x) - 1;
        double ratio = x - left, sum = 0;
        double cw[4];
        gint64 ci[4];

        if (!cubic)
          {
            cw[0] = 1 - ratio, cw[1] = ratio;
            ci[0] = left, ci[1] = left + 1;
          }
        else
          for (int k = 0; k < 4; k++)
            {
              ci[k] = left - 1 + k;
              cw[k] = cubic_weight (ratio + 1 - k, cubic_a);
            }
        for (int k = 0; k < t->n_taps; k++)
          {
            if (exclude_outside && (ci[k] < 0 || ci[k] >= in_len))
              cw[k] = 0;
            sum += cw[k];
          }
        for (int k = 0; k < t->n_taps; k++)
          {
            idx[k] = CLAMP (ci[k], 0, in_len - 1);
            w[k] = (float) (exclude_outside && sum != 0 ? cw[k] / sum : cw[k]);
          }
      }
    }
}

static gboolean
resize_prepare (NnGraph *g, NnNode *node, GError **error)
{
  static const char *const known[] = { "coordinate_transformation_mode", "cubic_coeff_a",
                                       "exclude_outside", "extrapolation_value", "mode",
                                       "nearest_mode", NULL };
  NnValue *x = nn_input (g, node, 0), *vscales, *vsizes, *spec;
  const char *coord = nn_attr_string (node, "coordinate_transformation_mode", "half_pixel");
  const char *mode = nn_attr_string (node, "mode", "nearest");
  const char *nmode = nn_attr_string (node, "nearest_mode", "round_prefer_floor");
  double scales[CATENA_NN_MAX_DIMS];
  gint64 dims[CATENA_NN_MAX_DIMS];
  ResizeParams *p;
  int r;

  if (!nn_check_attrs (node, known, error) || !need_float (node, x, error))
    return FALSE;
  if (node->opset < 11)
    {
      nn_error (error, CATENA_NN_ERROR_UNSUPPORTED, node, "Resize-%d is not supported",
                node->opset);
      return FALSE;
    }
  if (strcmp (mode, "nearest") != 0 && strcmp (mode, "linear") != 0
      && strcmp (mode, "cubic") != 0)
    {
      nn_error (error, CATENA_NN_ERROR_UNSUPPORTED, node, "mode “%s” is not supported", mode);
      return FALSE;
    }
  if (strcmp (coord, "half_pixel") != 0 && strcmp (coord, "asymmetric") != 0
      && strcmp (coord, "align_corners") != 0 && strcmp (coord, "pytorch_half_pixel") != 0
      && strcmp (coord, "tf_half_pixel_for_nn") != 0)
    {
      nn_error (error, CATENA_NN_ERROR_UNSUPPORTED, node,
                "coordinate_transformation_mode “%s” is not supported", coord);
      return FALSE;
    }
  if (strcmp (nmode, "round_prefer_floor") != 0 && strcmp (nmode, "round_prefer_ceil") != 0
      && strcmp (nmode, "floor") != 0 && strcmp (nmode, "ceil") != 0)
    {
      nn_error (error, CATENA_NN_ERROR_UNSUPPORTED, node, "nearest_mode “%s” is not supported",
                nmode);
      return FALSE;
    }
  r = x->ndim;
  if (r < 2)
    {
      nn_error (error, CATENA_NN_ERROR_UNSUPPORTED, node, "inputs of rank %d are not supported",
                r);
      return FALSE;
    }
  vscales = need_constant (g, node, 2, "scales", error);
  if (vscales == NULL && error && *error)
    return FALSE;
  vsizes = need_constant (g, node, 3, "sizes", error);
  if (vsizes == NULL && error && *error)
    return FALSE;
  if (vscales != NULL && vscales->n_elements == 0)
    vscales = NULL;
  if (vsizes != NULL && vsizes->n_elements == 0)
    vsizes = NULL;
  if ((vscales == NULL) == (vsizes == NULL))
    {
      nn_error (error, CATENA_NN_ERROR_INVALID, node, "needs exactly one of scales and sizes");
      return FALSE;
    }
  spec = vscales != NULL ? vscales : vsizes;
  if (spec == NULL || spec->n_elements != (gsize) r)
    {
      nn_error (error, CATENA_NN_ERROR_INVALID, node, "scales/sizes must have %d entries", r);
      return FALSE;
    }
  for (int d = 0; d < r; d++)
    {
      if (vscales)
        {
          double s = nn_tensor_get_double (vscales->constant, d);
          double o = floor (x->dims[d] * s);

          if (!(s > 0) || o > (double) NN_MAX_TENSOR_BYTES)
            {
              nn_error (error, CATENA_NN_ERROR_INVALID, node, "invalid scale %g", s);
              return FALSE;
            }
          scales[d] = s;
          dims[d] = (gint64) o;
        }
      else
        {
          gint64 o = nn_tensor_get_int (vsizes->constant, d);

          if (o < 0 || o > (gint64) NN_MAX_TENSOR_BYTES)
            {
              nn_error (error, CATENA_NN_ERROR_INVALID, node, "invalid size");
              return FALSE;
            }
          dims[d] = o;
          scales[d] = x->dims[d] > 0 ? (double) o / (double) x->dims[d] : 1.0;
        }
      if (d < r - 2 && dims[d] != x->dims[d])
        {
          nn_error (error, CATENA_NN_ERROR_UNSUPPORTED, node,
                    "only the last two axes may be resized (axis %d changes)", d);
          return FALSE;
        }
    }
  if (!nn_set_output (g, node, 0, CATENA_NN_DTYPE_FLOAT, r, dims, error))
    return FALSE;
  p = g_new0 (ResizeParams, 1);
  node->params = p;
  node->free_params = resize_params_free;
  p->outer = 1;
  for (int d = 0; d < r - 2; d++)
    p->outer *= dims[d];
  p->ih = x->dims[r - 2], p->iw = x->dims[r - 1];
  p->oh = dims[r - 2], p->ow = dims[r - 1];
  p->nearest = strcmp (mode, "nearest") == 0;
  if (p->ih == 0 || p->iw == 0)
    {
      if (p->oh * p->ow != 0)
        {
          nn_error (error, CATENA_NN_ERROR_INVALID, node, "cannot resize an empty input");
          return FALSE;
        }
      return TRUE;
    }
  axis_taps (&p->ty, p->ih, p->oh, scales[r - 2], coord, mode, nmode,
             nn_attr_float (node, "cubic_coeff_a", -0.75f),
             nn_attr_int (node, "exclude_outside", 0) != 0);
  axis_taps (&p->tx, p->iw, p->ow, scales[r - 1], coord, mode, nmode,
             nn_attr_float (node, "cubic_coeff_a", -0.75f),
             nn_attr_int (node, "exclude_outside", 0) != 0);
  /* ISNet's decoder doubles with half-pixel linear taps: a fixed stencil inside the row */
  p->x2 = !p->nearest && p->tx.n_taps == 2 && p->ow == 2 * p->iw && p->iw >= 4;
  for (gint64 i = 1; p->x2 && i < p->iw - 1; i++)
    {
      const gint64 *ix = p->tx.idx + 4 * i;
      const float *wx = p->tx.w + 4 * i;

      p->x2 = ix[0] == i - 1 && ix[1] == i && wx[0] == 0.25f && wx[1] == 0.75f
              && ix[2] == i && ix[3] == i + 1 && wx[2] == 0.75f && wx[3] == 0.25f;
    }
  return TRUE;
}

typedef struct
{
  const ResizeParams *p;
  const float *x;
  float *y;
  gint64 rows_per_task;
} ResizeRun;

static NnThreadScratch resize_row = NN_THREAD_SCRATCH_INIT;

/* tmp = Σ wy·rows, then out[x] = Σ wx·tmp: two taps each way (linear) */
static NN_SIMD void
resize_row_linear (const ResizeParams *p, const float *restrict src, const gint64 *iy,
                   const float *wy, float *restrict tmp, float *restrict out)
{
  const float *restrict r0 = src + iy[0] * p->iw, *restrict r1 = src + iy[1] * p->iw;
  float w0 = wy[0], w1 = wy[1];
  gint64 x = 0;

  NN_IVDEP
  for (gint64 i = 0; i < p->iw; i++)
    tmp[i] = w0 * r0[i] + w1 * r1[i];
  if (p->x2)
    {
      gint64 iw = p->iw;

      /* the stencil inside, the clamped taps at both ends */
      for (gint64 i = 1; i < iw - 1; i++)
        {
          out[2 * i] = 0.25f * tmp[i - 1] + 0.75f * tmp[i];
          out[2 * i + 1] = 0.75f * tmp[i] + 0.25f * tmp[i + 1];
        }
      for (; x < p->ow; x = x == 1 ? p->ow - 2 : x + 1)
        out[x] = p->tx.w[2 * x] * tmp[p->tx.idx[2 * x]]
                 + p->tx.w[2 * x + 1] * tmp[p->tx.idx[2 * x + 1]];
      return;
    }
  for (; x < p->ow; x++)
    {
      const gint64 *ix = p->tx.idx + x * 2;
      const float *wx = p->tx.w + x * 2;

      out[x] = wx[0] * tmp[ix[0]] + wx[1] * tmp[ix[1]];
    }
}

static void
resize_task (gpointer user, gsize task, int thread)
{
  ResizeRun *r = user;
  const ResizeParams *p = r->p;
  gint64 tasks_per_plane = (p->oh + r->rows_per_task - 1) / r->rows_per_task;
  gint64 plane = (gint64) task / tasks_per_plane;
  gint64 y0 = ((gint64) task % tasks_per_plane) * r->rows_per_task;
  gint64 y1 = MIN (p->oh, y0 + r->rows_per_task);
  const float *src = r->x + plane * p->ih * p->iw;
  float *dst = r->y + plane * p->oh * p->ow;
  float *tmp = nn_thread_scratch (&resize_row, (gsize) p->iw);
  for (gint64 y = y0; y < y1; y++)
    {
      const gint64 *iy = p->ty.idx + y * p->ty.n_taps;
      const float *wy = p->ty.w + y * p->ty.n_taps;
      float *out = dst + y * p->ow;

      if (p->nearest)
        {
          const float *row = src + iy[0] * p->iw;

          for (gint64 x = 0; x < p->ow; x++)
            out[x] = row[p->tx.idx[x]];
          continue;
        }
      if (p->ty.n_taps == 2 && p->tx.n_taps == 2)
        {
          resize_row_linear (p, src, iy, wy, tmp, out);
          continue;
        }
      /* vertical pass into tmp, then horizontal taps */
      for (gint64 x = 0; x < p->iw; x++)
        tmp[x] = 0;
      for (int k = 0; k < p->ty.n_taps; k++)
        {
          const float *row = src + iy[k] * p->iw;
          float wk = wy[k];

          if (wk == 0.f)
            continue;
          for (gint64 x = 0; x < p->iw; x++)
            tmp[x] += wk * row[x];
        }
      if (p->tx.n_taps == 2)
        for (gint64 x = 0; x < p->ow; x++)
          {
            const gint64 *ix = p->tx.idx + x * 2;
            const float *wx = p->tx.w + x * 2;

            out[x] = wx[0] * tmp[ix[0]] + wx[1] * tmp[ix[1]];
          }
      else
        for (gint64 x = 0; x < p->ow; x++)
          {
            float acc = 0;

            for (int k = 0; k < p->tx.n_taps; k++)
              acc += p->tx.w[x * p->tx.n_taps + k] * tmp[p->tx.idx[x * p->tx.n_taps + k]];
            out[x] = acc;
          }
    }
}

static void
resize_run (NnNode *node, CatenaNnTensor *const *in, CatenaNnTensor *const *out)
{
  const ResizeParams *p = node->params;
  ResizeRun r = { p, in[0]->data, out[0]->data, 0 };
  gint64 tasks_per_plane;

  if (out[0]->n_elements == 0)
    return;
  r.rows_per_task = MAX (1, CHUNK / MAX (p->ow, 1));
  tasks_per_plane = (p->oh + r.rows_per_task - 1) / r.rows_per_task;
  nn_parallel_run ((gsize) (p->outer * tasks_per_plane), resize_task, &r);
}

/* ---- pooling ---- */

static gboolean
pool_prepare (NnGraph *g, NnNode *node, GError **error)
{
  static const char *const known_max[] = { "auto_pad", "ceil_mode", "dilations",
                                           "kernel_shape", "pads", "storage_order", "strides",
                                           NULL };
  static const char *const known_avg[] = { "auto_pad", "ceil_mode", "count_include_pad",
                                           "kernel_shape", "pads", "strides", NULL };
  NnValue *x = nn_input (g, node, 0);
  gboolean is_max = strcmp (node->op_type, "MaxPool") == 0;
  gboolean global = strcmp (node->op_type, "GlobalAveragePool") == 0;
  const gint64 *ks, *st, *di, *pa;
  gsize nks, nst, ndi, npa;
  gint64 pads[4] = { 0 }, dims[CATENA_NN_MAX_DIMS];
  const char *auto_pad = nn_attr_string (node, "auto_pad", "NOTSET");
  gboolean ceil_mode = nn_attr_int (node, "ceil_mode", 0) != 0;
  PoolParams *p;
  int nsp;

  if (!nn_check_attrs (node, global ? NULL : is_max ? known_max : known_avg, error)
      || !need_float (node, x, error) || !check_n_outputs (node, 1, error))
    return FALSE;
  if (x->ndim < 3)
    {
      nn_error (error, CATENA_NN_ERROR_INVALID, node, "needs an input of rank ≥ 3");
      return FALSE;
    }
  p = g_new0 (PoolParams, 1);
  node->params = p;
  node->free_params = g_free;
  p->is_max = is_max;
  p->global = global;
  if (global)
    {
      gint64 sp = 1;

      for (int d = 2; d < x->ndim; d++)
        sp *= x->dims[d];
      p->planes = x->dims[0] * x->dims[1];
      p->h = 1, p->w = sp, p->oh = 1, p->ow = 1;
      for (int d = 0; d < x->ndim; d++)
        dims[d] = d < 2 ? x->dims[d] : 1;
      return nn_set_output (g, node, 0, CATENA_NN_DTYPE_FLOAT, x->ndim, dims, error);
    }
  nsp = x->ndim - 2;
  if (nsp > 2)
    {
      nn_error (error, CATENA_NN_ERROR_UNSUPPORTED, node, "only 1-D and 2-D pooling is supported");
      return FALSE;
    }
  ks = nn_attr_ints (node, "kernel_shape", &nks);
  st = nn_attr_ints (node, "strides", &nst);
  di = nn_attr_ints (node, "dilations", &ndi);
  pa = nn_attr_ints (node, "pads", &npa);
  if (ks == NULL || nks != (gsize) nsp || (st && nst != (gsize) nsp)
      || (di && ndi != (gsize) nsp) || (pa && npa != (gsize) nsp * 2))
    {
      nn_error (error, CATENA_NN_ERROR_INVALID, node, "kernel_shape, strides, dilations or "
                "pads do not match the input rank");
      return FALSE;
    }
  if (nn_attr_int (node, "storage_order", 0) != 0)
    {
      nn_error (error, CATENA_NN_ERROR_UNSUPPORTED, node, "storage_order 1 is not supported");
      return FALSE;
    }
  p->planes = x->dims[0] * x->dims[1];
  p->h = nsp == 2 ? x->dims[2] : 1;
  p->w = x->dims[nsp + 1];
  p->kh = nsp == 2 ? ks[0] : 1;
  p->kw = ks[nsp - 1];
  p->sh = nsp == 2 && st ? st[0] : 1;
  p->sw = st ? st[nsp - 1] : 1;
  p->dh = nsp == 2 && di ? di[0] : 1;
  p->dw = di ? di[nsp - 1] : 1;
  if (pa && nsp == 2)
    memcpy (pads, (gint64[4]) { pa[0], pa[2], pa[1], pa[3] }, sizeof pads);
  else if (pa)
    memcpy (pads, (gint64[4]) { 0, 0, pa[0], pa[1] }, sizeof pads);
  p->count_include_pad = nn_attr_int (node, "count_include_pad", 0) != 0;
  if (!nn_window_axis (auto_pad, p->h, p->kh, p->sh, p->dh, &pads[0], &pads[1], ceil_mode,
                       &p->oh)
      || !nn_window_axis (auto_pad, p->w, p->kw, p->sw, p->dw, &pads[2], &pads[3], ceil_mode,
                          &p->ow))
    {
      nn_error (error, CATENA_NN_ERROR_UNSUPPORTED, node,
                "kernel, strides, dilations or pads do not fit the input");
      return FALSE;
    }
  p->ph = pads[0], p->pe_h = pads[1], p->pw = pads[2], p->pe_w = pads[3];
  dims[0] = x->dims[0], dims[1] = x->dims[1];
  if (nsp == 2)
    dims[2] = p->oh, dims[3] = p->ow;
  else
    dims[2] = p->ow;
  return nn_set_output (g, node, 0, CATENA_NN_DTYPE_FLOAT, x->ndim, dims, error);
}

typedef struct
{
  const PoolParams *p;
  const float *x;
  float *y;
} PoolRun;

static void
pool_task (gpointer user, gsize task, int thread)
{
  PoolRun *r = user;
  const PoolParams *p = r->p;
  const float *x = r->x + (gint64) task * p->h * p->w;
  float *y = r->y + (gint64) task * p->oh * p->ow;

  if (p->global)
    {
      double acc = 0;

      for (gint64 i = 0; i < p->w; i++)
        acc += x[i];
      y[0] = (float) (acc / MAX (p->w, 1));
      return;
    }
  if (p->is_max && p->kh == 2 && p->kw == 2 && p->sh == 2 && p->sw == 2 && p->ph == 0
      && p->pw == 0 && p->dh == 1 && p->dw == 1 && p->oh * 2 <= p->h && p->ow * 2 <= p->w)
    {
      /* ISNet's 2×2/2 pools on even sizes */
      for (gint64 oh = 0; oh < p->oh; oh++)
        {
          const float *r0 = x + 2 * oh * p->w, *r1 = r0 + p->w;
          float *out = y + oh * p->ow;

          for (gint64 ow = 0; ow < p->ow; ow++)
            {
              float a = MAX (r0[2 * ow], r0[2 * ow + 1]), b = MAX (r1[2 * ow], r1[2 * ow + 1]);
              out[ow] = MAX (a, b);
            }
        }
      return;
    }
  for (gint64 oh = 0; oh < p->oh; oh++)
    for (gint64 ow = 0; ow < p->ow; ow++)
      {
        gint64 h0 = oh * p->sh - p->ph, w0 = ow * p->sw - p->pw;
        float best = -INFINITY;
        double acc = 0;
        gint64 count = 0;

        for (gint64 i = 0; i < p->kh; i++)
          {
            gint64 ih = h0 + i * p->dh;

            if (ih < 0 || ih >= p->h)
              continue;
            for (gint64 j = 0; j < p->kw; j++)
              {
                gint64 iw = w0 + j * p->dw;
                float v;

                if (iw < 0 || iw >= p->w)
                  continue;
                v = x[ih * p->w + iw];
                best = v > best || isnan (v) ? v : best;
                acc += v;
                count++;
              }
          }
        if (p->is_max)
          y[oh * p->ow + ow] = best;
        else
          {
            if (p->count_include_pad)
              {
                /* the window clipped to input + explicit pads */
                gint64 hs = MAX (h0, -p->ph), he = MIN (h0 + p->kh, p->h + p->pe_h);
                gint64 ws = MAX (w0, -p->pw), we = MIN (w0 + p->kw, p->w + p->pe_w);
                count = MAX (0, he - hs) * MAX (0, we - ws);
              }
            y[oh * p->ow + ow] = count > 0 ? (float) (acc / count) : 0.f;
          }
      }
}

static void
pool_run (NnNode *node, CatenaNnTensor *const *in, CatenaNnTensor *const *out)
{
  PoolRun r = { node->params, in[0]->data, out[0]->data };

  if (out[0]->n_elements == 0)
    return;
  nn_parallel_run ((gsize) r.p->planes, pool_task, &r);
}

/* ---- BatchNormalization (inference) ---- */

static gboolean
batchnorm_prepare (NnGraph *g, NnNode *node, GError **error)
{
  static const char *const known[] = { "epsilon", "momentum", "training_mode", "spatial",
                                       NULL };
  NnValue *x = nn_input (g, node, 0);

  if (!nn_check_attrs (node, known, error) || !need_float (node, x, error))
    return FALSE;
  if (nn_attr_int (node, "training_mode", 0) != 0 || !check_n_outputs (node, 1, error))
    {
      if (error && *error == NULL)
        nn_error (error, CATENA_NN_ERROR_UNSUPPORTED, node, "training mode is not supported");
      return FALSE;
    }
  if (nn_attr_int (node, "spatial", 1) != 1 || x->ndim < 2)
    {
      nn_error (error, CATENA_NN_ERROR_UNSUPPORTED, node, "only spatial batch norm on rank ≥ 2");
      return FALSE;
    }
  for (int i = 1; i < 5; i++)
    {
      NnValue *v = nn_input (g, node, i);

      if (!need_float (node, v, error))
        return FALSE;
      if (v->ndim != 1 || v->dims[0] != x->dims[1])
        {
          nn_error (error, CATENA_NN_ERROR_INVALID, node, "input %d must have C elements", i);
          return FALSE;
        }
    }
  return same_as_input (g, node, x, error);
}

static void
batchnorm_run (NnNode *node, CatenaNnTensor *const *in, CatenaNnTensor *const *out)
{
  const float *x = in[0]->data, *s = in[1]->data, *b = in[2]->data, *mean = in[3]->data;
  const float *var = in[4]->data;
  float *y = out[0]->data, eps = nn_attr_float (node, "epsilon", 1e-5f);
  gint64 n = in[0]->dims[0], c = in[0]->dims[1], sp = 1;

  for (int d = 2; d < in[0]->ndim; d++)
    sp *= in[0]->dims[d];
  for (gint64 i = 0; i < n; i++)
    for (gint64 ch = 0; ch < c; ch++)
      {
        float k = s[ch] / sqrtf (var[ch] + eps), o = b[ch] - mean[ch] * k;
        gint64 base = (i * c + ch) * sp;

        for (gint64 j = 0; j < sp; j++)
          y[base + j] = x[base + j] * k + o;
      }
}

/* ---- the table ---- */

static const NnOpInfo ops[] = {
  { "Add", binary_prepare, binary_run, FALSE },
  { "AveragePool", pool_prepare, pool_run, FALSE },
  { "BatchNormalization", batchnorm_prepare, batchnorm_run, FALSE },
  { "Cast", cast_prepare, cast_run, FALSE },
  { "Clip", clip_prepare, unary_run, FALSE },
  { "Concat", concat_prepare, concat_run, FALSE },
  { "Constant", constant_prepare, NULL, FALSE },
  { "Conv", nn_conv_prepare, nn_conv_run, TRUE },
  { "DepthToSpace", depth_to_space_prepare, perm_run, FALSE },
  { "Div", binary_prepare, binary_run, FALSE },
  { "Flatten", flatten_prepare, NULL, FALSE },
  { "GlobalAveragePool", pool_prepare, pool_run, FALSE },
  { "Identity", identity_prepare, NULL, FALSE },
  { "LeakyRelu", unary_prepare, unary_run, FALSE },
  { "MaxPool", pool_prepare, pool_run, FALSE },
  { "Mul", binary_prepare, binary_run, FALSE },
  { "PRelu", binary_prepare, binary_run, FALSE },
  { "Relu", unary_prepare, unary_run, FALSE },
  { "Reshape", reshape_prepare, NULL, FALSE },
  { "Resize", resize_prepare, resize_run, FALSE },
  { "Shape", shape_prepare, NULL, FALSE },
  { "Sigmoid", unary_prepare, unary_run, FALSE },
  { "Slice", slice_prepare, gather_run, FALSE },
  { "Squeeze", squeeze_prepare, NULL, FALSE },
  { "Sub", binary_prepare, binary_run, FALSE },
  { "Tanh", unary_prepare, unary_run, FALSE },
  { "Transpose", transpose_prepare, perm_run, FALSE },
  { "Unsqueeze", unsqueeze_prepare, NULL, FALSE },
};

const NnOpInfo *
nn_op_lookup (const char *op_type)
{
  for (gsize i = 0; i < G_N_ELEMENTS (ops); i++)
    if (strcmp (ops[i].name, op_type) == 0)
      return &ops[i];
  return NULL;
}

const char *const *
nn_supported_ops (void)
{
  static const char *names[G_N_ELEMENTS (ops) + 1];
  static gsize done;

  if (g_once_init_enter (&done))
    {
      for (gsize i = 0; i < G_N_ELEMENTS (ops); i++)
        names[i] = ops[i].name;
      g_once_init_leave (&done, 1);
    }
  return names;
}

const char *const *
catena_nn_supported_ops (void)
{
  return nn_supported_ops ();
}
