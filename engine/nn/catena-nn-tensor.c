/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "catena-nn-private.h"

G_DEFINE_QUARK (catena-nn-error-quark, catena_nn_error)

gsize
catena_nn_dtype_size (CatenaNnDType dtype)
{
  switch (dtype)
    {
    case CATENA_NN_DTYPE_FLOAT:
    case CATENA_NN_DTYPE_INT32:
    case CATENA_NN_DTYPE_UINT32:
      return 4;
    case CATENA_NN_DTYPE_UINT8:
    case CATENA_NN_DTYPE_INT8:
    case CATENA_NN_DTYPE_BOOL:
      return 1;
    case CATENA_NN_DTYPE_UINT16:
    case CATENA_NN_DTYPE_INT16:
    case CATENA_NN_DTYPE_FLOAT16:
    case CATENA_NN_DTYPE_BFLOAT16:
      return 2;
    case CATENA_NN_DTYPE_INT64:
    case CATENA_NN_DTYPE_DOUBLE:
    case CATENA_NN_DTYPE_UINT64:
      return 8;
    case CATENA_NN_DTYPE_UNDEFINED:
    case CATENA_NN_DTYPE_STRING:
    default:
      return 0;
    }
}

const char *
catena_nn_dtype_name (CatenaNnDType dtype)
{
  switch (dtype)
    {
    case CATENA_NN_DTYPE_FLOAT: return "float32";
    case CATENA_NN_DTYPE_UINT8: return "uint8";
    case CATENA_NN_DTYPE_INT8: return "int8";
    case CATENA_NN_DTYPE_UINT16: return "uint16";
    case CATENA_NN_DTYPE_INT16: return "int16";
    case CATENA_NN_DTYPE_INT32: return "int32";
    case CATENA_NN_DTYPE_INT64: return "int64";
    case CATENA_NN_DTYPE_STRING: return "string";
    case CATENA_NN_DTYPE_BOOL: return "bool";
    case CATENA_NN_DTYPE_FLOAT16: return "float16";
    case CATENA_NN_DTYPE_DOUBLE: return "float64";
    case CATENA_NN_DTYPE_UINT32: return "uint32";
    case CATENA_NN_DTYPE_UINT64: return "uint64";
    case CATENA_NN_DTYPE_BFLOAT16: return "bfloat16";
    case CATENA_NN_DTYPE_UNDEFINED:
    default:
      return "unknown";
    }
}

/* Types whose elements the engine can hold (string, bfloat16 and complex cannot). */
gboolean
nn_dtype_is_storable (CatenaNnDType dtype)
{
  return dtype != CATENA_NN_DTYPE_BFLOAT16 && catena_nn_dtype_size (dtype) > 0;
}

gboolean
nn_shape_elements (int ndim,
                   const gint64 *dims,
                   CatenaNnDType dtype,
                   gsize *n_elements,
                   gsize *nbytes,
                   GError **error)
{
  gsize n = 1, esize = catena_nn_dtype_size (dtype);

  if (ndim < 0 || ndim > CATENA_NN_MAX_DIMS)
    {
      g_set_error (error, CATENA_NN_ERROR, CATENA_NN_ERROR_UNSUPPORTED,
                   "Tensors of rank %d are not supported (at most %d)", ndim,
                   CATENA_NN_MAX_DIMS);
      return FALSE;
    }
  if (esize == 0)
    {
      g_set_error (error, CATENA_NN_ERROR, CATENA_NN_ERROR_UNSUPPORTED,
                   "Tensors of type %s are not supported", catena_nn_dtype_name (dtype));
      return FALSE;
    }
  for (int i = 0; i < ndim; i++)
    {
      if (dims[i] < 0)
        {
          g_set_error (error, CATENA_NN_ERROR, CATENA_NN_ERROR_INVALID,
                       "Negative tensor dimension %" G_GINT64_FORMAT, dims[i]);
          return FALSE;
        }
      if (dims[i] != 0 && n > NN_MAX_TENSOR_BYTES / (gsize) dims[i])
        n = NN_MAX_TENSOR_BYTES + 1;
      else
        n *= (gsize) dims[i];
    }
  if (n > NN_MAX_TENSOR_BYTES / esize)
    {
      g_set_error (error, CATENA_NN_ERROR, CATENA_NN_ERROR_TOO_LARGE,
                   "A tensor would need more than %" G_GSIZE_FORMAT " MiB",
                   NN_MAX_TENSOR_BYTES >> 20);
      return FALSE;
    }
  *n_elements = n;
  *nbytes = n * esize;
  return TRUE;
}

gpointer
nn_aligned_alloc (gsize size)
{
  void *p = NULL;

  if (posix_memalign (&p, NN_ALIGN, MAX (size, NN_ALIGN)) != 0)
    return NULL;
  return p;
}

void
nn_aligned_free (gpointer p)
{
  free (p);
}

float *
nn_thread_scratch (NnThreadScratch *scratch, gsize n_floats)
{
  float *buf = g_private_get (&scratch->buf);

  if (buf == NULL || GPOINTER_TO_SIZE (g_private_get (&scratch->n_floats)) < n_floats)
    {
      if (n_floats > G_MAXSIZE / sizeof (float) ||
          (buf = nn_aligned_alloc (n_floats * sizeof (float))) == NULL)
        g_error ("engine/nn: out of memory for %" G_GSIZE_FORMAT " floats of scratch", n_floats);
      g_private_replace (&scratch->buf, buf);
      g_private_set (&scratch->n_floats, GSIZE_TO_POINTER (n_floats));
    }
  return buf;
}

static CatenaNnTensor *
tensor_alloc_struct (CatenaNnDType dtype, int ndim, const gint64 *dims, GError **error)
{
  CatenaNnTensor *t;
  gsize n, nbytes;

  if (!nn_dtype_is_storable (dtype))
    {
      g_set_error (error, CATENA_NN_ERROR, CATENA_NN_ERROR_UNSUPPORTED,
                   "Tensors of type %s are not supported", catena_nn_dtype_name (dtype));
      return NULL;
    }
  if (!nn_shape_elements (ndim, dims, dtype, &n, &nbytes, error))
    return NULL;
  t = g_new0 (CatenaNnTensor, 1);
  t->dtype = dtype;
  t->ndim = ndim;
  if (ndim > 0)
    memcpy (t->dims, dims, sizeof (gint64) * ndim);
  t->n_elements = n;
  t->nbytes = nbytes;
  t->ref_count = 1;
  return t;
}

CatenaNnTensor *
catena_nn_tensor_new (CatenaNnDType dtype, int ndim, const gint64 *dims, GError **error)
{
  CatenaNnTensor *t = tensor_alloc_struct (dtype, ndim, dims, error);

  if (t == NULL)
    return NULL;
  t->data = nn_aligned_alloc (t->nbytes);
  if (t->data == NULL)
    {
      g_set_error (error, CATENA_NN_ERROR, CATENA_NN_ERROR_TOO_LARGE,
                   "Out of memory allocating %" G_GSIZE_FORMAT " bytes", t->nbytes);
      g_free (t);
      return NULL;
    }
  memset (t->data, 0, t->nbytes);
  t->free_data = nn_aligned_free;
  return t;
}

CatenaNnTensor *
catena_nn_tensor_new_wrap (CatenaNnDType dtype,
                           int ndim,
                           const gint64 *dims,
                           gpointer data,
                           GDestroyNotify free_data,
                           GError **error)
{
  CatenaNnTensor *t = tensor_alloc_struct (dtype, ndim, dims, error);

  if (t == NULL)
    return NULL;
  t->data = data;
  t->free_data = free_data;
  return t;
}

CatenaNnTensor *
catena_nn_tensor_ref (CatenaNnTensor *tensor)
{
  g_return_val_if_fail (tensor != NULL, NULL);
  g_atomic_int_inc (&tensor->ref_count);
  return tensor;
}

void
catena_nn_tensor_unref (CatenaNnTensor *tensor)
{
  if (tensor == NULL)
    return;
  if (g_atomic_int_dec_and_test (&tensor->ref_count))
    {
      if (tensor->free_data != NULL)
        tensor->free_data (tensor->data);
      g_free (tensor);
    }
}

/* IEEE 754 binary16 ↔ binary32, round to nearest even. */
float
catena_nn_half_to_float (guint16 h)
{
  guint32 sign = (guint32) (h & 0x8000) << 16;
  guint32 exp = (h >> 10) & 0x1f;
  guint32 mant = h & 0x3ff;
  guint32 bits;
  float f;

  if (exp == 0x1f)
    bits = sign | 0x7f800000 | (mant << 13);
  else if (exp != 0)
    bits = sign | ((exp + 112) << 23) | (mant << 13);
  else if (mant == 0)
    bits = sign;
  else
    {
      /* subnormal: value = mant · 2^-24 */
      f = (float) mant * 5.9604644775390625e-8f;
      return sign ? -f : f;
    }
  memcpy (&f, &bits, 4);
  return f;
}

guint16
catena_nn_float_to_half (float f)
{
  guint32 x, sign, mant;
  int exp;

  memcpy (&x, &f, 4);
  sign = (x >> 16) & 0x8000;
  exp = (int) ((x >> 23) & 0xff);
  mant = x & 0x7fffff;
  if (exp == 0xff)
    return (guint16) (sign | 0x7c00 | (mant ? 0x200 | (mant >> 13) : 0));
  exp = exp - 127 + 15;
  if (exp >= 0x1f)
    return (guint16) (sign | 0x7c00);
  if (exp <= 0)
    {
      /* subnormal or zero in half precision */
      guint32 m, shift, half, rounded;

      if (exp < -10)
        return (guint16) sign;
      m = mant | 0x800000;
      shift = (guint32) (14 - exp);
      half = 1u << (shift - 1);
      rounded = m >> shift;
      if ((m & ((1u << shift) - 1)) > half
          || ((m & ((1u << shift) - 1)) == half && (rounded & 1)))
        rounded++;
      return (guint16) (sign | rounded);
    }
  {
    guint32 h = sign | ((guint32) exp << 10) | (mant >> 13);
    guint32 rest = mant & 0x1fff;

    if (rest > 0x1000 || (rest == 0x1000 && (h & 1)))
      h++; /* may carry into the exponent, which is still correct (up to inf) */
    return (guint16) h;
  }
}

double
nn_tensor_get_double (const CatenaNnTensor *t, gsize i)
{
  switch (t->dtype)
    {
    case CATENA_NN_DTYPE_FLOAT: return ((const float *) t->data)[i];
    case CATENA_NN_DTYPE_DOUBLE: return ((const double *) t->data)[i];
    case CATENA_NN_DTYPE_FLOAT16: return catena_nn_half_to_float (((const guint16 *) t->data)[i]);
    case CATENA_NN_DTYPE_INT64: return (double) ((const gint64 *) t->data)[i];
    case CATENA_NN_DTYPE_INT32: return ((const gint32 *) t->data)[i];
    case CATENA_NN_DTYPE_UINT32: return ((const guint32 *) t->data)[i];
    case CATENA_NN_DTYPE_INT16: return ((const gint16 *) t->data)[i];
    case CATENA_NN_DTYPE_UINT16: return ((const guint16 *) t->data)[i];
    case CATENA_NN_DTYPE_INT8: return ((const gint8 *) t->data)[i];
    case CATENA_NN_DTYPE_UINT8:
    case CATENA_NN_DTYPE_BOOL: return ((const guint8 *) t->data)[i];
    case CATENA_NN_DTYPE_UINT64: return (double) ((const guint64 *) t->data)[i];
    default: return 0;
    }
}

gint64
nn_tensor_get_int (const CatenaNnTensor *t, gsize i)
{
  switch (t->dtype)
    {
    case CATENA_NN_DTYPE_INT64: return ((const gint64 *) t->data)[i];
    case CATENA_NN_DTYPE_UINT64: return (gint64) MIN (((const guint64 *) t->data)[i], G_MAXINT64);
    case CATENA_NN_DTYPE_FLOAT:
    case CATENA_NN_DTYPE_DOUBLE:
    case CATENA_NN_DTYPE_FLOAT16:
      {
        double d = nn_tensor_get_double (t, i);
        if (isnan (d))
          return 0;
        return d >= 9.2e18 ? G_MAXINT64 : d <= -9.2e18 ? G_MININT64 : (gint64) d;
      }
    default: return (gint64) nn_tensor_get_double (t, i);
    }
}

static inline double
load_double (const void *src, CatenaNnDType t, gsize i)
{
  CatenaNnTensor view = { .dtype = t, .data = (gpointer) src };
  return nn_tensor_get_double (&view, i);
}

static inline void
store_double (void *dst, CatenaNnDType t, gsize i, double v)
{
  switch (t)
    {
    case CATENA_NN_DTYPE_FLOAT: ((float *) dst)[i] = (float) v; break;
    case CATENA_NN_DTYPE_DOUBLE: ((double *) dst)[i] = v; break;
    case CATENA_NN_DTYPE_FLOAT16: ((guint16 *) dst)[i] = catena_nn_float_to_half ((float) v); break;
    case CATENA_NN_DTYPE_BOOL: ((guint8 *) dst)[i] = v != 0; break;
    default:
      {
        /* Out-of-range float → int is undefined in C; saturate like most runtimes. */
        double lo, hi;
        gint64 iv;

        switch (t)
          {
          case CATENA_NN_DTYPE_INT8: lo = G_MININT8; hi = G_MAXINT8; break;
          case CATENA_NN_DTYPE_UINT8: lo = 0; hi = G_MAXUINT8; break;
          case CATENA_NN_DTYPE_INT16: lo = G_MININT16; hi = G_MAXINT16; break;
          case CATENA_NN_DTYPE_UINT16: lo = 0; hi = G_MAXUINT16; break;
          case CATENA_NN_DTYPE_INT32: lo = G_MININT32; hi = G_MAXINT32; break;
          case CATENA_NN_DTYPE_UINT32: lo = 0; hi = G_MAXUINT32; break;
          default: lo = -9.2e18; hi = 9.2e18; break;
          }
        v = isnan (v) ? 0 : v < lo ? lo : v > hi ? hi : v;
        iv = (gint64) v;
        switch (t)
          {
          case CATENA_NN_DTYPE_INT8: ((gint8 *) dst)[i] = (gint8) iv; break;
          case CATENA_NN_DTYPE_UINT8: ((guint8 *) dst)[i] = (guint8) iv; break;
          case CATENA_NN_DTYPE_INT16: ((gint16 *) dst)[i] = (gint16) iv; break;
          case CATENA_NN_DTYPE_UINT16: ((guint16 *) dst)[i] = (guint16) iv; break;
          case CATENA_NN_DTYPE_INT32: ((gint32 *) dst)[i] = (gint32) iv; break;
          case CATENA_NN_DTYPE_UINT32: ((guint32 *) dst)[i] = (guint32) iv; break;
          case CATENA_NN_DTYPE_INT64: ((gint64 *) dst)[i] = iv; break;
          case CATENA_NN_DTYPE_UINT64: ((guint64 *) dst)[i] = (guint64) MAX (iv, 0); break;
          default: break;
          }
      }
    }
}

void
nn_convert (const void *src, CatenaNnDType src_type, void *dst, CatenaNnDType dst_type, gsize n)
{
  if (n == 0)
    return;
  if (src_type == dst_type)
    {
      memmove (dst, src, n * catena_nn_dtype_size (src_type));
      return;
    }
  if (src_type == CATENA_NN_DTYPE_FLOAT16 && dst_type == CATENA_NN_DTYPE_FLOAT)
    {
      for (gsize i = 0; i < n; i++)
        ((float *) dst)[i] = catena_nn_half_to_float (((const guint16 *) src)[i]);
      return;
    }
  if (src_type == CATENA_NN_DTYPE_FLOAT && dst_type == CATENA_NN_DTYPE_FLOAT16)
    {
      for (gsize i = 0; i < n; i++)
        ((guint16 *) dst)[i] = catena_nn_float_to_half (((const float *) src)[i]);
      return;
    }
  if (src_type == CATENA_NN_DTYPE_INT64 && dst_type == CATENA_NN_DTYPE_INT32)
    {
      for (gsize i = 0; i < n; i++)
        ((gint32 *) dst)[i] = (gint32) ((const gint64 *) src)[i]; /* wraps, like ONNX Cast */
      return;
    }
  if (src_type == CATENA_NN_DTYPE_INT64 || src_type == CATENA_NN_DTYPE_UINT64)
    {
      /* doubles lose precision above 2^53: go through integers */
      for (gsize i = 0; i < n; i++)
        {
          gint64 v = src_type == CATENA_NN_DTYPE_INT64 ? ((const gint64 *) src)[i]
                                                       : (gint64) ((const guint64 *) src)[i];
          if (dst_type == CATENA_NN_DTYPE_INT64 || dst_type == CATENA_NN_DTYPE_UINT64)
            ((gint64 *) dst)[i] = v;
          else
            store_double (dst, dst_type, i, (double) v);
        }
      return;
    }
  for (gsize i = 0; i < n; i++)
    store_double (dst, dst_type, i, load_double (src, src_type, i));
}
