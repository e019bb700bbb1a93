/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <json-glib/json-glib.h>
#include <math.h>
#include <string.h>

#include "catena-nn-private.h"

/* TF.js layers models (model.json: a Keras model config plus a weights manifest; *.bin
 * shards of little-endian float32). The JSON is parsed and validated once, weights are
 * transposed from Keras' NHWC/HWIO to engine/nn's NCHW/OIHW, and the model is then built
 * into the ordinary graph IR for each input size the caller asks for (Keras models have
 * symbolic H and W; engine/nn specialises shapes at load). See docs/nn.md. */

#if G_BYTE_ORDER != G_LITTLE_ENDIAN
#error "engine/nn reads TF.js weight shards as little-endian"
#endif

#define TF_MAX_JSON_BYTES ((gsize) 64 << 20)
#define TF_MAX_WEIGHT_BYTES ((gsize) 2 << 30)
#define TF_MAX_LAYERS 10000
#define TF_MAX_SIDE 65536

typedef enum
{
  TF_INPUT,
  TF_CONV,
  TF_ACT,
  TF_ADD,
  TF_CONCAT,
  TF_UPSAMPLE,   /* nearest, integer factors */
  TF_UPCONV,     /* UpSampling2D(nearest, s) + Conv2D 3×3 "same", rewritten: see fuse_upconv */
  TF_SKIP,       /* an UpSampling2D folded into the TF_UPCONV that follows it */
  TF_SCALE,      /* MultiplyBeta: x · constant */
  TF_D2S,        /* PixelShuffleNx: depth_to_space */
  TF_PRELU,
} TfKind;

typedef struct
{
  char *name;
  char *class_name;
  TfKind kind;
  int n_in;
  int *in; /* layer indices */
  int n_consumers;
  /* Conv2D */
  gint64 filters, kh, kw, sh, sw, dh, dw, groups;
  gboolean same;
  CatenaNnTensor *w, *b; /* OIHW, [filters] */
  /* activation after the layer's op: an ONNX op name or NULL */
  const char *act;
  float alpha;
  gint64 axis;  /* Concatenate, NCHW */
  gint64 up;    /* UpSampling2D / PixelShuffle / fused factor */
  float scale;  /* MultiplyBeta */
  CatenaNnTensor *slope; /* PReLU, [C, 1, 1] */
  double res, radius;    /* resolution factor, receptive radius in input pixels */
} TfLayer;

struct _CatenaNnTfjsModel
{
  TfLayer *layers; /* topologically sorted */
  int n_layers;
  int input, output;
  gint64 in_channels, fixed_h, fixed_w; /* fixed_*: -1 when symbolic */
  int radius;
};

static void
layer_clear (TfLayer *l)
{
  g_free (l->name);
  g_free (l->class_name);
  g_free (l->in);
  g_clear_pointer (&l->w, catena_nn_tensor_unref);
  g_clear_pointer (&l->b, catena_nn_tensor_unref);
  g_clear_pointer (&l->slope, catena_nn_tensor_unref);
}

void
catena_nn_tfjs_model_free (CatenaNnTfjsModel *m)
{
  if (m == NULL)
    return;
  for (int i = 0; i < m->n_layers; i++)
    layer_clear (&m->layers[i]);
  g_free (m->layers);
  g_free (m);
}

static void G_GNUC_PRINTF (4, 5)
layer_error (GError **error, int code, const TfLayer *l, const char *format, ...)
{
  g_autofree char *msg = NULL;
  va_list args;

  va_start (args, format);
  msg = g_strdup_vprintf (format, args);
  va_end (args);
  g_set_error (error, CATENA_NN_ERROR, code, "Layer “%s” (%s): %s", l->name,
               l->class_name, msg);
}

/* ---- typed JSON access: any type surprise is a GError, never a g_critical ---- */

static JsonObject *
get_object (JsonObject *o, const char *name)
{
  JsonNode *n = o != NULL ? json_object_get_member (o, name) : NULL;

  return n != NULL && JSON_NODE_HOLDS_OBJECT (n) ? json_node_get_object (n) : NULL;
}

static JsonArray *
get_array (JsonObject *o, const char *name)
{
  JsonNode *n = o != NULL ? json_object_get_member (o, name) : NULL;

  return n != NULL && JSON_NODE_HOLDS_ARRAY (n) ? json_node_get_array (n) : NULL;
}

static const char *
node_string (JsonNode *n)
{
  return n != NULL && JSON_NODE_HOLDS_VALUE (n) && json_node_get_value_type (n) == G_TYPE_STRING
           ? json_node_get_string (n)
           : NULL;
}

static const char *
get_string (JsonObject *o, const char *name)
{
  return node_string (o != NULL ? json_object_get_member (o, name) : NULL);
}

static gboolean
node_int (JsonNode *n, gint64 *out)
{
  GType t;

  if (n == NULL || !JSON_NODE_HOLDS_VALUE (n))
    return FALSE;
  t = json_node_get_value_type (n);
  if (t == G_TYPE_INT64)
    {
      *out = json_node_get_int (n);
      return TRUE;
    }
  if (t == G_TYPE_DOUBLE)
    {
      double d = json_node_get_double (n);

      if (!isfinite (d) || d != floor (d) || fabs (d) > 1e15)
        return FALSE;
      *out = (gint64) d;
      return TRUE;
    }
  return FALSE;
}

static gboolean
node_number (JsonNode *n, double *out)
{
  gint64 i;

  if (node_int (n, &i))
    {
      *out = (double) i;
      return TRUE;
    }
  if (n != NULL && JSON_NODE_HOLDS_VALUE (n) && json_node_get_value_type (n) == G_TYPE_DOUBLE)
    {
      *out = json_node_get_double (n);
      return isfinite (*out);
    }
  return FALSE;
}

static gboolean
is_null (JsonObject *o, const char *name)
{
  JsonNode *n = o != NULL ? json_object_get_member (o, name) : NULL;

  return n == NULL || JSON_NODE_HOLDS_NULL (n);
}

/* A Keras pair such as kernel_size: [a, b] or a single integer; within [lo, hi]. */
static gboolean
get_pair (JsonObject *cfg,
          const char *name,
          gint64 def,
          gint64 lo,
          gint64 hi,
          gint64 out[2],
          const TfLayer *l,
          GError **error)
{
  JsonNode *n = json_object_get_member (cfg, name);

  if (n == NULL || JSON_NODE_HOLDS_NULL (n))
    {
      if (def < 0)
        {
          layer_error (error, CATENA_NN_ERROR_INVALID, l, "“%s” is missing", name);
          return FALSE;
        }
      out[0] = out[1] = def;
      return TRUE;
    }
  if (JSON_NODE_HOLDS_ARRAY (n) && json_array_get_length (json_node_get_array (n)) == 2)
    {
      JsonArray *a = json_node_get_array (n);

      if (!node_int (json_array_get_element (a, 0), &out[0])
          || !node_int (json_array_get_element (a, 1), &out[1]))
        goto bad;
    }
  else if (!node_int (n, &out[0]))
    goto bad;
  else
    out[1] = out[0];
  if (out[0] < lo || out[0] > hi || out[1] < lo || out[1] > hi)
    goto bad;
  return TRUE;

bad:
  layer_error (error, CATENA_NN_ERROR_UNSUPPORTED, l,
               "“%s” must be one or two integers in %" G_GINT64_FORMAT "…%" G_GINT64_FORMAT,
               name, lo, hi);
  return FALSE;
}

/* ---- weights ---- */

typedef struct
{
  GHashTable *tensors; /* name → CatenaNnTensor (layout as stored: Keras') */
  GHashTable *used;    /* names taken by a layer */
} Weights;

static gboolean
read_manifest (JsonArray *manifest,
               const guint8 *data,
               gsize len,
               Weights *w,
               GError **error)
{
  gsize offset = 0;

  for (guint gi = 0; gi < json_array_get_length (manifest); gi++)
    {
      JsonNode *gn = json_array_get_element (manifest, gi);
      JsonArray *specs = JSON_NODE_HOLDS_OBJECT (gn)
                           ? get_array (json_node_get_object (gn), "weights")
                           : NULL;

      if (specs == NULL)
        {
          g_set_error (error, CATENA_NN_ERROR, CATENA_NN_ERROR_INVALID,
                       "weightsManifest group %u has no “weights” list", gi);
          return FALSE;
        }
      for (guint wi = 0; wi < json_array_get_length (specs); wi++)
        {
          JsonNode *sn = json_array_get_element (specs, wi);
          JsonObject *spec = JSON_NODE_HOLDS_OBJECT (sn) ? json_node_get_object (sn) : NULL;
          const char *name = get_string (spec, "name");
          const char *dtype = get_string (spec, "dtype");
          JsonArray *shape = get_array (spec, "shape");
          gint64 dims[CATENA_NN_MAX_DIMS];
          gsize n, nbytes;
          CatenaNnTensor *t;
          int rank;

          if (name == NULL || shape == NULL)
            {
              g_set_error (error, CATENA_NN_ERROR, CATENA_NN_ERROR_INVALID,
                           "Weight %u of manifest group %u has no name or shape", wi, gi);
              return FALSE;
            }
          if (!is_null (spec, "quantization") || (dtype != NULL && strcmp (dtype, "float32") != 0))
            {
              g_set_error (error, CATENA_NN_ERROR, CATENA_NN_ERROR_UNSUPPORTED,
                           "Weight “%s” is %s%s; only unquantized float32 weights are supported",
                           name, dtype != NULL ? dtype : "float32",
                           is_null (spec, "quantization") ? "" : " (quantized)");
              return FALSE;
            }
          rank = (int) json_array_get_length (shape);
          if (rank > CATENA_NN_MAX_DIMS)
            {
              g_set_error (error, CATENA_NN_ERROR, CATENA_NN_ERROR_UNSUPPORTED,
                           "Weight “%s” has rank %d, more than %d", name, rank,
                           CATENA_NN_MAX_DIMS);
              return FALSE;
            }
          for (int d = 0; d < rank; d++)
            if (!node_int (json_array_get_element (shape, d), &dims[d]) || dims[d] < 0)
              {
                g_set_error (error, CATENA_NN_ERROR, CATENA_NN_ERROR_INVALID,
                             "Weight “%s” has an invalid shape", name);
                return FALSE;
              }
          {
            GError *local = NULL;

            if (!nn_shape_elements (rank, dims, CATENA_NN_DTYPE_FLOAT, &n, &nbytes, &local))
              {
                g_set_error (error, CATENA_NN_ERROR, local->code, "Weight “%s”: %s", name,
                             local->message);
                g_error_free (local);
                return FALSE;
              }
          }
          if (nbytes > len - offset)
            {
              g_set_error (error, CATENA_NN_ERROR, CATENA_NN_ERROR_INVALID,
                           "The weight files are too short: “%s” needs bytes %" G_GSIZE_FORMAT
                           "…%" G_GSIZE_FORMAT " but there are only %" G_GSIZE_FORMAT,
                           name, offset, offset + nbytes, len);
              return FALSE;
            }
          if (g_hash_table_contains (w->tensors, name))
            {
              g_set_error (error, CATENA_NN_ERROR, CATENA_NN_ERROR_INVALID,
                           "Weight “%s” is listed twice in the manifest", name);
              return FALSE;
            }
          t = catena_nn_tensor_new (CATENA_NN_DTYPE_FLOAT, rank, dims, error);
          if (t == NULL)
            return FALSE;
          if (nbytes > 0)
            memcpy (t->data, data + offset, nbytes);
          offset += nbytes;
          g_hash_table_insert (w->tensors, g_strdup (name), t);
        }
    }
  if (offset != len)
    {
      g_set_error (error, CATENA_NN_ERROR, CATENA_NN_ERROR_INVALID,
                   "The weight files hold %" G_GSIZE_FORMAT " bytes but the manifest describes %"
                   G_GSIZE_FORMAT, len, offset);
      return FALSE;
    }
  return TRUE;
}

/* The weight "<layer>/<what>" with exactly `rank` dims, taken (each weight serves once). */
static CatenaNnTensor *
take_weight (Weights *w, const TfLayer *l, const char *what, int rank, GError **error)
{
  g_autofree char *key = g_strdup_printf ("%s/%s", l->name, what);
  CatenaNnTensor *t = g_hash_table_lookup (w->tensors, key);

  if (t == NULL)
    {
      layer_error (error, CATENA_NN_ERROR_INVALID, l, "weight “%s” is not in the manifest", key);
      return NULL;
    }
  if (t->ndim != rank)
    {
      layer_error (error, CATENA_NN_ERROR_INVALID, l, "weight “%s” has rank %d, expected %d",
                   key, t->ndim, rank);
      return NULL;
    }
  g_hash_table_add (w->used, g_steal_pointer (&key));
  return t;
}

/* ---- layers ---- */

static gboolean
parse_activation (const char *name, TfLayer *l, GError **error)
{
  if (name == NULL || strcmp (name, "linear") == 0)
    l->act = NULL;
  else if (strcmp (name, "relu") == 0)
    l->act = "Relu";
  else if (strcmp (name, "sigmoid") == 0)
    l->act = "Sigmoid";
  else if (strcmp (name, "tanh") == 0)
    l->act = "Tanh";
  else
    {
      layer_error (error, CATENA_NN_ERROR_UNSUPPORTED, l, "activation “%s” is not supported",
                   name);
      return FALSE;
    }
  return TRUE;
}

static gboolean
parse_conv (JsonObject *cfg, TfLayer *l, Weights *w, GError **error)
{
  gint64 ks[2], st[2], di[2];
  const char *padding = get_string (cfg, "padding");
  JsonNode *bias_n = json_object_get_member (cfg, "use_bias");
  gboolean use_bias = bias_n == NULL || !JSON_NODE_HOLDS_VALUE (bias_n)
                      || json_node_get_value_type (bias_n) != G_TYPE_BOOLEAN
                      || json_node_get_boolean (bias_n);
  CatenaNnTensor *k, *b = NULL;
  gint64 ci, odims[4];
  const float *src;
  float *dst;

  if (!node_int (json_object_get_member (cfg, "filters"), &l->filters) || l->filters < 1
      || l->filters > 65536)
    {
      layer_error (error, CATENA_NN_ERROR_INVALID, l, "“filters” must be in 1…65536");
      return FALSE;
    }
  if (!get_pair (cfg, "kernel_size", -1, 1, 64, ks, l, error)
      || !get_pair (cfg, "strides", 1, 1, 64, st, l, error)
      || !get_pair (cfg, "dilation_rate", 1, 1, 64, di, l, error))
    return FALSE;
  if (!is_null (cfg, "groups") && (!node_int (json_object_get_member (cfg, "groups"),
                                              &l->groups) || l->groups < 1
                                   || l->groups > 65536 || l->filters % l->groups != 0))
    {
      layer_error (error, CATENA_NN_ERROR_INVALID, l, "“groups” must divide “filters”");
      return FALSE;
    }
  if (is_null (cfg, "groups"))
    l->groups = 1;
  if (padding == NULL || (strcmp (padding, "same") != 0 && strcmp (padding, "valid") != 0))
    {
      layer_error (error, CATENA_NN_ERROR_UNSUPPORTED, l, "padding “%s” is not supported",
                   padding != NULL ? padding : "(none)");
      return FALSE;
    }
  if ((st[0] > 1 || st[1] > 1) && (di[0] > 1 || di[1] > 1))
    {
      layer_error (error, CATENA_NN_ERROR_UNSUPPORTED, l,
                   "strides and dilation_rate both above 1 are not allowed by Keras");
      return FALSE;
    }
  l->same = strcmp (padding, "same") == 0;
  l->kh = ks[0], l->kw = ks[1], l->sh = st[0], l->sw = st[1], l->dh = di[0], l->dw = di[1];
  if (!parse_activation (get_string (cfg, "activation"), l, error))
    return FALSE;

  /* kernel: [kh, kw, in/groups, filters] → OIHW */
  if ((k = take_weight (w, l, "kernel", 4, error)) == NULL)
    return FALSE;
  if (k->dims[0] != l->kh || k->dims[1] != l->kw || k->dims[3] != l->filters)
    {
      layer_error (error, CATENA_NN_ERROR_INVALID, l,
                   "kernel shape %" G_GINT64_FORMAT "×%" G_GINT64_FORMAT "×%" G_GINT64_FORMAT
                   "×%" G_GINT64_FORMAT " does not match kernel_size and filters",
                   k->dims[0], k->dims[1], k->dims[2], k->dims[3]);
      return FALSE;
    }
  if (use_bias)
    {
      if ((b = take_weight (w, l, "bias", 1, error)) == NULL)
        return FALSE;
      if (b->dims[0] != l->filters)
        {
          layer_error (error, CATENA_NN_ERROR_INVALID, l, "bias has %" G_GINT64_FORMAT
                       " elements for %" G_GINT64_FORMAT " filters", b->dims[0], l->filters);
          return FALSE;
        }
      l->b = catena_nn_tensor_ref (b);
    }
  ci = k->dims[2];
  odims[0] = l->filters, odims[1] = ci, odims[2] = l->kh, odims[3] = l->kw;
  if ((l->w = catena_nn_tensor_new (CATENA_NN_DTYPE_FLOAT, 4, odims, error)) == NULL)
    return FALSE;
  src = k->data;
  dst = l->w->data;
  for (gint64 o = 0; o < l->filters; o++)
    for (gint64 i = 0; i < ci; i++)
      for (gint64 y = 0; y < l->kh; y++)
        for (gint64 x = 0; x < l->kw; x++)
          dst[((o * ci + i) * l->kh + y) * l->kw + x] =
            src[((y * l->kw + x) * ci + i) * l->filters + o];
  return TRUE;
}

/* NHWC axis → NCHW axis */
static gboolean
parse_axis (JsonObject *cfg, TfLayer *l, GError **error)
{
  gint64 a = -1;

  if (!is_null (cfg, "axis") && !node_int (json_object_get_member (cfg, "axis"), &a))
    a = 99;
  switch (a)
    {
    case -1:
    case 3: l->axis = 1; return TRUE;
    case 1:
    case -3: l->axis = 2; return TRUE;
    case 2:
    case -2: l->axis = 3; return TRUE;
    default:
      layer_error (error, CATENA_NN_ERROR_UNSUPPORTED, l,
                   "only the height, width or channel axis can be concatenated");
      return FALSE;
    }
}

static gboolean
parse_layer (const char *class_name, JsonObject *cfg, TfLayer *l, Weights *w, GError **error)
{
  const char *dtype = get_string (cfg, "dtype");
  const char *fmt = get_string (cfg, "data_format");

  if (dtype != NULL && strcmp (dtype, "float32") != 0)
    {
      layer_error (error, CATENA_NN_ERROR_UNSUPPORTED, l, "dtype “%s” is not supported", dtype);
      return FALSE;
    }
  if (fmt != NULL && strcmp (fmt, "channels_last") != 0)
    {
      layer_error (error, CATENA_NN_ERROR_UNSUPPORTED, l, "data_format “%s” is not supported",
                   fmt);
      return FALSE;
    }
  if (strcmp (class_name, "InputLayer") == 0)
    return TRUE;
  if (strcmp (class_name, "Conv2D") == 0)
    {
      l->kind = TF_CONV;
      return parse_conv (cfg, l, w, error);
    }
  if (strcmp (class_name, "Activation") == 0)
    {
      l->kind = TF_ACT;
      if (get_string (cfg, "activation") == NULL)
        {
          layer_error (error, CATENA_NN_ERROR_INVALID, l, "“activation” is missing");
          return FALSE;
        }
      return parse_activation (get_string (cfg, "activation"), l, error);
    }
  if (strcmp (class_name, "ReLU") == 0)
    {
      double slope = 0, thr = 0;

      l->kind = TF_ACT;
      if (!is_null (cfg, "max_value")
          || (!is_null (cfg, "threshold")
              && (!node_number (json_object_get_member (cfg, "threshold"), &thr) || thr != 0))
          || (!is_null (cfg, "negative_slope")
              && !node_number (json_object_get_member (cfg, "negative_slope"), &slope)))
        {
          layer_error (error, CATENA_NN_ERROR_UNSUPPORTED, l,
                       "only max_value = null and threshold = 0 are supported");
          return FALSE;
        }
      l->act = slope != 0 ? "LeakyRelu" : "Relu";
      l->alpha = (float) slope;
      return TRUE;
    }
  if (strcmp (class_name, "LeakyReLU") == 0)
    {
      double alpha = 0.3; /* Keras' default */
      const char *key = is_null (cfg, "alpha") ? "negative_slope" : "alpha";

      l->kind = TF_ACT;
      if (!is_null (cfg, key) && !node_number (json_object_get_member (cfg, key), &alpha))
        {
          layer_error (error, CATENA_NN_ERROR_INVALID, l, "“%s” must be a number", key);
          return FALSE;
        }
      l->act = "LeakyRelu";
      l->alpha = (float) alpha;
      return TRUE;
    }
  if (strcmp (class_name, "PReLU") == 0)
    {
      JsonArray *shared = get_array (cfg, "shared_axes");
      gint64 a0 = 0, a1 = 0, dims[3];
      CatenaNnTensor *t;

      l->kind = TF_PRELU;
      if (shared == NULL || json_array_get_length (shared) != 2
          || !node_int (json_array_get_element (shared, 0), &a0)
          || !node_int (json_array_get_element (shared, 1), &a1) || MIN (a0, a1) != 1
          || MAX (a0, a1) != 2)
        {
          layer_error (error, CATENA_NN_ERROR_UNSUPPORTED, l,
                       "only per-channel slopes (shared_axes [1, 2]) are supported");
          return FALSE;
        }
      if ((t = take_weight (w, l, "alpha", 3, error)) == NULL)
        return FALSE;
      if (t->dims[0] != 1 || t->dims[1] != 1)
        {
          layer_error (error, CATENA_NN_ERROR_INVALID, l, "alpha must have shape 1×1×C");
          return FALSE;
        }
      dims[0] = t->dims[2], dims[1] = 1, dims[2] = 1;
      if ((l->slope = catena_nn_tensor_new (CATENA_NN_DTYPE_FLOAT, 3, dims, error)) == NULL)
        return FALSE;
      memcpy (l->slope->data, t->data, t->nbytes);
      return TRUE;
    }
  if (strcmp (class_name, "Add") == 0)
    {
      l->kind = TF_ADD;
      return TRUE;
    }
  if (strcmp (class_name, "Concatenate") == 0)
    {
      l->kind = TF_CONCAT;
      return parse_axis (cfg, l, error);
    }
  if (strcmp (class_name, "UpSampling2D") == 0)
    {
      const char *interp = get_string (cfg, "interpolation");
      gint64 size[2];

      l->kind = TF_UPSAMPLE;
      if (!get_pair (cfg, "size", 2, 1, 16, size, l, error))
        return FALSE;
      if (interp != NULL && strcmp (interp, "nearest") != 0)
        {
          layer_error (error, CATENA_NN_ERROR_UNSUPPORTED, l,
                       "interpolation “%s” is not supported (only “nearest”)", interp);
          return FALSE;
        }
      if (size[0] != size[1])
        {
          layer_error (error, CATENA_NN_ERROR_UNSUPPORTED, l,
                       "different vertical and horizontal factors are not supported");
          return FALSE;
        }
      l->up = size[0];
      return TRUE;
    }
  /* upscalerjs' custom layers (the @upscalerjs packages' packages/shared/src/esrgan/esrgan.js) */
  if (strcmp (class_name, "MultiplyBeta") == 0)
    {
      l->kind = TF_SCALE;
      l->scale = 0.2f; /* their BETA, fixed in the JS, not in the config */
      return TRUE;
    }
  if (g_str_has_prefix (class_name, "PixelShuffle") && g_str_has_suffix (class_name, "x"))
    {
      g_autofree char *digits = g_strndup (class_name + 12, strlen (class_name) - 13);
      guint64 s = 0;

      l->kind = TF_D2S;
      if (!g_ascii_string_to_unsigned (digits, 10, 2, 16, &s, NULL))
        {
          layer_error (error, CATENA_NN_ERROR_UNSUPPORTED, l, "unknown pixel-shuffle factor");
          return FALSE;
        }
      l->up = (gint64) s;
      return TRUE;
    }
  if (strcmp (class_name, "Lambda") == 0)
    {
      layer_error (error, CATENA_NN_ERROR_UNSUPPORTED, l,
                   "Lambda layers hold Python code that only Keras can run");
      return FALSE;
    }
  layer_error (error, CATENA_NN_ERROR_UNSUPPORTED, l, "this layer class is not supported");
  return FALSE;
}

static gboolean
class_supported (const char *c)
{
  static const char *const known[] = { "InputLayer", "Conv2D", "Activation", "ReLU", "LeakyReLU",
                                       "PReLU", "Add", "Concatenate", "UpSampling2D",
                                       "MultiplyBeta", NULL };

  for (int i = 0; known[i] != NULL; i++)
    if (strcmp (c, known[i]) == 0)
      return TRUE;
  return g_str_has_prefix (c, "PixelShuffle") && g_str_has_suffix (c, "x");
}

/* inbound_nodes of a Keras 2 functional layer: [[["name", 0, 0, {}], …]] — one call only. */
static gboolean
parse_inbound (JsonArray *calls, TfLayer *l, GHashTable *index, GError **error)
{
  JsonNode *cn;
  JsonArray *args;
  guint n;

  if (calls == NULL || json_array_get_length (calls) != 1)
    {
      layer_error (error, CATENA_NN_ERROR_UNSUPPORTED, l,
                   "a layer must be called exactly once (shared layers are not supported)");
      return FALSE;
    }
  cn = json_array_get_element (calls, 0);
  if (!JSON_NODE_HOLDS_ARRAY (cn))
    {
      layer_error (error, CATENA_NN_ERROR_UNSUPPORTED, l,
                   "inbound_nodes are not in the Keras 2 format");
      return FALSE;
    }
  args = json_node_get_array (cn);
  n = json_array_get_length (args);
  if (n == 0 || n > 1024)
    {
      layer_error (error, CATENA_NN_ERROR_INVALID, l, "has %u inputs", n);
      return FALSE;
    }
  l->n_in = (int) n;
  l->in = g_new (int, n);
  for (guint i = 0; i < n; i++)
    {
      JsonNode *an = json_array_get_element (args, i);
      JsonArray *a = JSON_NODE_HOLDS_ARRAY (an) ? json_node_get_array (an) : NULL;
      const char *src;
      gint64 ni = -1, ti = -1;
      gpointer p;

      if (a == NULL || json_array_get_length (a) < 3
          || (src = node_string (json_array_get_element (a, 0))) == NULL
          || !node_int (json_array_get_element (a, 1), &ni)
          || !node_int (json_array_get_element (a, 2), &ti))
        {
          layer_error (error, CATENA_NN_ERROR_INVALID, l, "input %u is malformed", i);
          return FALSE;
        }
      if (json_array_get_length (a) > 3)
        {
          JsonNode *kw = json_array_get_element (a, 3);

          if (!JSON_NODE_HOLDS_OBJECT (kw) || json_object_get_size (json_node_get_object (kw)))
            {
              layer_error (error, CATENA_NN_ERROR_UNSUPPORTED, l,
                           "call arguments are not supported");
              return FALSE;
            }
        }
      if (ni != 0 || ti != 0)
        {
          layer_error (error, CATENA_NN_ERROR_UNSUPPORTED, l,
                       "input %u uses call %" G_GINT64_FORMAT " output %" G_GINT64_FORMAT
                       " of “%s” (only single-output layers called once are supported)",
                       i, ni, ti, src);
          return FALSE;
        }
      p = g_hash_table_lookup (index, src);
      if (p == NULL)
        {
          layer_error (error, CATENA_NN_ERROR_INVALID, l, "input “%s” is not a layer", src);
          return FALSE;
        }
      l->in[i] = GPOINTER_TO_INT (p) - 1;
    }
  return TRUE;
}

static gboolean
parse_input_layer (JsonObject *cfg, TfLayer *l, CatenaNnTfjsModel *m, GError **error)
{
  JsonArray *shape = get_array (cfg, "batch_input_shape");
  gint64 d[4] = { -1, -1, -1, -1 };

  if (shape == NULL)
    shape = get_array (cfg, "batch_shape"); /* Keras 3 */
  if (shape == NULL || json_array_get_length (shape) != 4)
    {
      layer_error (error, CATENA_NN_ERROR_UNSUPPORTED, l,
                   "only image inputs (batch, height, width, channels) are supported");
      return FALSE;
    }
  for (int i = 0; i < 4; i++)
    {
      JsonNode *n = json_array_get_element (shape, i);

      if (!JSON_NODE_HOLDS_NULL (n) && (!node_int (n, &d[i]) || d[i] < 1 || d[i] > TF_MAX_SIDE))
        {
          layer_error (error, CATENA_NN_ERROR_INVALID, l, "invalid input dimension %d", i);
          return FALSE;
        }
    }
  if (d[3] < 1 || d[3] > 4096 || (d[0] != -1 && d[0] != 1))
    {
      layer_error (error, CATENA_NN_ERROR_UNSUPPORTED, l,
                   "the input needs a fixed channel count and a batch of 1");
      return FALSE;
    }
  if (!parse_layer ("InputLayer", cfg, l, NULL, error))
    return FALSE;
  l->kind = TF_INPUT;
  m->in_channels = d[3];
  m->fixed_h = d[1];
  m->fixed_w = d[2];
  return TRUE;
}

/* UpSampling2D(nearest, s) feeding only a 3×3 stride-1 "same" Conv2D equals a 3×3 conv on
 * the low-resolution map with filters·s² outputs followed by depth_to_space(s): output phase
 * r of a tap j at upsampled offset j − 1 reads source offset floor((r + j − 1) / s) ∈ {−1, 0, 1}
 * (zero padding maps to zero padding). Same result, and the s²-times larger upsampled
 * activation (48 channels at 4× in the ESRGAN models) is never stored. */
static gboolean
fuse_upconv (CatenaNnTfjsModel *m, GError **error)
{
  for (int i = 0; i < m->n_layers; i++)
    {
      TfLayer *c = &m->layers[i], *u;
      gint64 s, f, ci, nf;
      g_autoptr (CatenaNnTensor) w = NULL, b = NULL;
      const float *src;
      float *dst;

      if (c->kind != TF_CONV || c->n_in != 1)
        continue;
      u = &m->layers[c->in[0]];
      if (u->kind != TF_UPSAMPLE || u->n_consumers != 1 || c->in[0] == m->output || u->up < 2
          || c->kh != 3 || c->kw != 3 || c->sh != 1 || c->sw != 1 || c->dh != 1 || c->dw != 1
          || !c->same || c->groups != 1)
        continue;
      s = u->up, f = c->filters, ci = c->w->dims[1], nf = f * s * s;
      if ((w = catena_nn_tensor_new (CATENA_NN_DTYPE_FLOAT, 4,
                                     (gint64[]) { nf, ci, 3, 3 }, error)) == NULL
          || (b = catena_nn_tensor_new (CATENA_NN_DTYPE_FLOAT, 1, (gint64[]) { nf },
                                        error)) == NULL)
        return FALSE;
      memset (w->data, 0, w->nbytes);
      src = c->w->data;
      dst = w->data;
      for (gint64 r1 = 0; r1 < s; r1++)
        for (gint64 r2 = 0; r2 < s; r2++)
          for (gint64 o = 0; o < f; o++)
            {
              gint64 oo = (r1 * s + r2) * f + o;

              ((float *) b->data)[oo] = c->b != NULL ? ((const float *) c->b->data)[o] : 0.f;
              for (gint64 k = 0; k < ci; k++)
                for (int j1 = 0; j1 < 3; j1++)
                  for (int j2 = 0; j2 < 3; j2++)
                    {
                      /* floor division of values ≥ −1 */
                      gint64 t1 = (r1 + j1 - 1 + s) / s - 1 + 1;
                      gint64 t2 = (r2 + j2 - 1 + s) / s - 1 + 1;

                      dst[((oo * ci + k) * 3 + t1) * 3 + t2] +=
                        src[((o * ci + k) * 3 + j1) * 3 + j2];
                    }
            }
      g_clear_pointer (&c->w, catena_nn_tensor_unref);
      g_clear_pointer (&c->b, catena_nn_tensor_unref);
      c->w = g_steal_pointer (&w);
      c->b = g_steal_pointer (&b);
      c->kind = TF_UPCONV;
      c->up = s;
      u->kind = TF_SKIP;
    }
  return TRUE;
}

static gboolean
sort_layers (CatenaNnTfjsModel *m, GError **error)
{
  g_autofree int *pending = g_new0 (int, m->n_layers + 1);
  g_autofree int *order = g_new (int, m->n_layers + 1);
  g_autofree int *newpos = g_new (int, m->n_layers + 1);
  g_autofree gboolean *done = g_new0 (gboolean, m->n_layers + 1);
  TfLayer *sorted;
  int n = 0;
  gboolean progress = TRUE;

  /* layers are few: repeated passes keep the file's order among ready layers */
  while (n < m->n_layers && progress)
    {
      progress = FALSE;
      for (int i = 0; i < m->n_layers; i++)
        {
          gboolean ready = !done[i];

          for (int k = 0; ready && k < m->layers[i].n_in; k++)
            ready = done[m->layers[i].in[k]];
          if (ready)
            {
              done[i] = TRUE;
              newpos[i] = n;
              order[n++] = i;
              progress = TRUE;
            }
        }
    }
  if (n != m->n_layers)
    {
      g_set_error (error, CATENA_NN_ERROR, CATENA_NN_ERROR_INVALID,
                   "The model's layers form a cycle");
      return FALSE;
    }
  sorted = g_new (TfLayer, m->n_layers + 1);
  for (int i = 0; i < n; i++)
    {
      sorted[i] = m->layers[order[i]];
      for (int k = 0; k < sorted[i].n_in; k++)
        sorted[i].in[k] = newpos[sorted[i].in[k]];
    }
  g_free (m->layers);
  m->layers = sorted;
  m->input = newpos[m->input];
  m->output = newpos[m->output];
  return TRUE;
}

/* [["name", 0, 0]] with exactly one entry */
static int
io_layer (JsonObject *cfg, const char *key, GHashTable *index, GError **error)
{
  JsonArray *a = get_array (cfg, key), *e;
  JsonNode *n;
  const char *name;
  gpointer p;

  if (a == NULL || json_array_get_length (a) != 1)
    {
      g_set_error (error, CATENA_NN_ERROR, CATENA_NN_ERROR_UNSUPPORTED,
                   "The model must have exactly one %s",
                   strcmp (key, "input_layers") == 0 ? "input" : "output");
      return -1;
    }
  n = json_array_get_element (a, 0);
  e = JSON_NODE_HOLDS_ARRAY (n) ? json_node_get_array (n) : NULL;
  name = e != NULL && json_array_get_length (e) >= 1 ? node_string (json_array_get_element (e, 0))
                                                     : NULL;
  if (name == NULL || (p = g_hash_table_lookup (index, name)) == NULL)
    {
      g_set_error (error, CATENA_NN_ERROR, CATENA_NN_ERROR_INVALID,
                   "The model's %s names no layer", key);
      return -1;
    }
  return GPOINTER_TO_INT (p) - 1;
}

static void
compute_radius (CatenaNnTfjsModel *m)
{
  for (int i = 0; i < m->n_layers; i++)
    {
      TfLayer *l = &m->layers[i];
      double res = 1, rad = 0;

      for (int k = 0; k < l->n_in; k++)
        {
          res = m->layers[l->in[k]].res;
          rad = MAX (rad, m->layers[l->in[k]].radius);
        }
      switch (l->kind)
        {
        case TF_CONV:
          rad += MAX ((l->kh - 1) * l->dh, (l->kw - 1) * l->dw) / 2.0 / res;
          res /= MIN (l->sh, l->sw);
          break;
        case TF_UPCONV:
          rad += 1 / res;
          res *= l->up;
          break;
        case TF_UPSAMPLE:
        case TF_D2S:
          res *= l->up;
          break;
        default:
          break;
        }
      l->res = res;
      l->radius = rad;
    }
  m->radius = (int) ceil (m->layers[m->output].radius - 1e-9);
}

static CatenaNnTfjsModel *
model_from_root (JsonNode *root, const guint8 *weights, gsize weights_len, GError **error)
{
  g_autoptr (CatenaNnTfjsModel) m = g_new0 (CatenaNnTfjsModel, 1);
  g_autoptr (GHashTable) index = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr (GString) unknown = g_string_new (NULL);
  Weights w;
  JsonObject *top, *topo, *mc, *cfg;
  JsonArray *layers, *manifest;
  const char *format, *cls;
  gboolean ok = FALSE;

  w.tensors = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                     (GDestroyNotify) catena_nn_tensor_unref);
  w.used = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  m->input = m->output = -1;

  top = JSON_NODE_HOLDS_OBJECT (root) ? json_node_get_object (root) : NULL;
  format = get_string (top, "format");
  if (format != NULL && strcmp (format, "layers-model") != 0)
    {
      g_set_error (error, CATENA_NN_ERROR, CATENA_NN_ERROR_UNSUPPORTED,
                   "This is a TF.js “%s”; only layers models are supported", format);
      goto out;
    }
  topo = get_object (top, "modelTopology");
  mc = get_object (topo, "model_config") != NULL ? get_object (topo, "model_config") : topo;
  cls = get_string (mc, "class_name");
  cfg = get_object (mc, "config");
  layers = get_array (cfg, "layers");
  manifest = get_array (top, "weightsManifest");
  if (top == NULL || cls == NULL || layers == NULL || manifest == NULL)
    {
      g_set_error (error, CATENA_NN_ERROR, CATENA_NN_ERROR_INVALID,
                   "Not a TF.js layers model (model.json needs modelTopology with a model "
                   "config and a weightsManifest)");
      goto out;
    }
  if (strcmp (cls, "Functional") != 0 && strcmp (cls, "Model") != 0)
    {
      g_set_error (error, CATENA_NN_ERROR, CATENA_NN_ERROR_UNSUPPORTED,
                   "Keras “%s” models are not supported (only functional models)", cls);
      goto out;
    }
  if (json_array_get_length (layers) == 0 || json_array_get_length (layers) > TF_MAX_LAYERS)
    {
      g_set_error (error, CATENA_NN_ERROR, CATENA_NN_ERROR_INVALID,
                   "The model has %u layers", json_array_get_length (layers));
      goto out;
    }
  if (!read_manifest (manifest, weights, weights_len, &w, error))
    goto out;

  m->n_layers = (int) json_array_get_length (layers);
  m->layers = g_new0 (TfLayer, m->n_layers + 1);
  /* names first (inputs may refer to later layers), and every unknown class at once */
  for (int i = 0; i < m->n_layers; i++)
    {
      JsonNode *ln = json_array_get_element (layers, i);
      JsonObject *lo = JSON_NODE_HOLDS_OBJECT (ln) ? json_node_get_object (ln) : NULL;
      const char *name = get_string (lo, "name");
      const char *lc = get_string (lo, "class_name");

      if (name == NULL)
        name = get_string (get_object (lo, "config"), "name");
      if (name == NULL || lc == NULL || get_object (lo, "config") == NULL || name[0] == '\0')
        {
          g_set_error (error, CATENA_NN_ERROR, CATENA_NN_ERROR_INVALID,
                       "Layer %d has no name, class or config", i);
          goto out;
        }
      if (g_hash_table_contains (index, name))
        {
          g_set_error (error, CATENA_NN_ERROR, CATENA_NN_ERROR_INVALID,
                       "Two layers are named “%s”", name);
          goto out;
        }
      m->layers[i].name = g_strdup (name);
      m->layers[i].class_name = g_strdup (lc);
      g_hash_table_insert (index, m->layers[i].name, GINT_TO_POINTER (i + 1));
      if (!class_supported (lc))
        g_string_append_printf (unknown, "%s“%s” (%s)", unknown->len ? ", " : "", name, lc);
    }
  if (unknown->len > 0)
    {
      g_set_error (error, CATENA_NN_ERROR, CATENA_NN_ERROR_UNSUPPORTED,
                   "The model uses layers engine/nn does not support: %s", unknown->str);
      goto out;
    }
  for (int i = 0; i < m->n_layers; i++)
    {
      JsonObject *lo = json_node_get_object (json_array_get_element (layers, i));
      JsonObject *lcfg = get_object (lo, "config");
      TfLayer *l = &m->layers[i];

      if (strcmp (l->class_name, "InputLayer") == 0)
        {
          JsonArray *ib = get_array (lo, "inbound_nodes");

          if (ib != NULL && json_array_get_length (ib) > 0)
            {
              layer_error (error, CATENA_NN_ERROR_INVALID, l, "an input cannot have inputs");
              goto out;
            }
          if (!parse_input_layer (lcfg, l, m, error))
            goto out;
          continue;
        }
      if (!parse_inbound (get_array (lo, "inbound_nodes"), l, index, error)
          || !parse_layer (l->class_name, lcfg, l, &w, error))
        goto out;
      if ((l->kind == TF_ADD && l->n_in < 2) || (l->kind != TF_ADD && l->kind != TF_CONCAT
                                                 && l->n_in != 1))
        {
          layer_error (error, CATENA_NN_ERROR_INVALID, l, "wrong number of inputs (%d)",
                       l->n_in);
          goto out;
        }
    }
  if ((m->input = io_layer (cfg, "input_layers", index, error)) < 0
      || (m->output = io_layer (cfg, "output_layers", index, error)) < 0)
    goto out;
  for (int i = 0; i < m->n_layers; i++)
    if (m->layers[i].kind == TF_INPUT && i != m->input)
      {
        layer_error (error, CATENA_NN_ERROR_UNSUPPORTED, &m->layers[i],
                     "models with several inputs are not supported");
        goto out;
      }
  if (m->layers[m->input].kind != TF_INPUT)
    {
      g_set_error (error, CATENA_NN_ERROR, CATENA_NN_ERROR_INVALID,
                   "The model's input is not an InputLayer");
      goto out;
    }
  if (g_hash_table_size (w.used) != g_hash_table_size (w.tensors))
    {
      GHashTableIter it;
      gpointer key;

      g_hash_table_iter_init (&it, w.tensors);
      while (g_hash_table_iter_next (&it, &key, NULL))
        if (!g_hash_table_contains (w.used, key))
          {
            g_set_error (error, CATENA_NN_ERROR, CATENA_NN_ERROR_INVALID,
                         "Weight “%s” belongs to no layer of the model", (char *) key);
            goto out;
          }
    }
  if (!sort_layers (m, error))
    goto out;
  for (int i = 0; i < m->n_layers; i++)
    for (int k = 0; k < m->layers[i].n_in; k++)
      m->layers[m->layers[i].in[k]].n_consumers++;
  if (!fuse_upconv (m, error))
    goto out;
  compute_radius (m);
  ok = TRUE;

out:
  g_hash_table_unref (w.tensors);
  g_hash_table_unref (w.used);
  return ok ? g_steal_pointer (&m) : NULL;
}

static JsonNode *
parse_json (const char *json, gsize len, GError **error)
{
  g_autoptr (JsonParser) parser = NULL;
  GError *local = NULL;

  if (len > TF_MAX_JSON_BYTES)
    {
      g_set_error (error, CATENA_NN_ERROR, CATENA_NN_ERROR_TOO_LARGE,
                   "model.json is larger than %" G_GSIZE_FORMAT " MiB", TF_MAX_JSON_BYTES >> 20);
      return NULL;
    }
  if (!g_utf8_validate (json, (gssize) len, NULL))
    {
      g_set_error (error, CATENA_NN_ERROR, CATENA_NN_ERROR_INVALID,
                   "model.json is not valid UTF-8 text");
      return NULL;
    }
  parser = json_parser_new_immutable ();
  if (!json_parser_load_from_data (parser, json, (gssize) len, &local))
    {
      g_set_error (error, CATENA_NN_ERROR, CATENA_NN_ERROR_INVALID,
                   "model.json is not valid JSON: %s", local->message);
      g_error_free (local);
      return NULL;
    }
  if (json_parser_get_root (parser) == NULL)
    {
      g_set_error (error, CATENA_NN_ERROR, CATENA_NN_ERROR_INVALID, "model.json is empty");
      return NULL;
    }
  return json_node_ref (json_parser_get_root (parser));
}

CatenaNnTfjsModel *
catena_nn_tfjs_model_load_data (const char *json,
                                gsize json_len,
                                const guint8 *weights,
                                gsize weights_len,
                                GError **error)
{
  g_autoptr (JsonNode) root = parse_json (json, json_len, error);

  if (root == NULL)
    return NULL;
  return model_from_root (root, weights, weights_len, error);
}

/* Shard paths are file names next to model.json: nothing absolute, no “..”. */
static gboolean
safe_shard_name (const char *p)
{
  g_auto (GStrv) parts = NULL;

  if (p == NULL || p[0] == '\0' || g_path_is_absolute (p) || strchr (p, '\\') != NULL)
    return FALSE;
  parts = g_strsplit (p, "/", -1);
  for (int i = 0; parts[i] != NULL; i++)
    if (parts[i][0] == '\0' || strcmp (parts[i], "..") == 0 || strcmp (parts[i], ".") == 0)
      return FALSE;
  return TRUE;
}

CatenaNnTfjsModel *
catena_nn_tfjs_model_load (const char *path, GError **error)
{
  g_autofree char *json_path = NULL, *dir = NULL, *json = NULL;
  g_autoptr (JsonNode) root = NULL;
  g_autoptr (GByteArray) weights = g_byte_array_new ();
  JsonArray *manifest;
  gsize len = 0;
  GError *local = NULL;

  g_return_val_if_fail (path != NULL, NULL);
  json_path = g_file_test (path, G_FILE_TEST_IS_DIR) ? g_build_filename (path, "model.json", NULL)
                                                      : g_strdup (path);
  if (!g_file_get_contents (json_path, &json, &len, &local))
    {
      g_set_error (error, CATENA_NN_ERROR,
                   g_error_matches (local, G_FILE_ERROR, G_FILE_ERROR_NOENT)
                     ? CATENA_NN_ERROR_MODEL_MISSING
                     : CATENA_NN_ERROR_IO,
                   "Could not read the model: %s", local->message);
      g_error_free (local);
      return NULL;
    }
  if ((root = parse_json (json, len, error)) == NULL)
    return NULL;
  dir = g_path_get_dirname (json_path);
  manifest = JSON_NODE_HOLDS_OBJECT (root)
               ? get_array (json_node_get_object (root), "weightsManifest")
               : NULL;
  for (guint gi = 0; manifest != NULL && gi < json_array_get_length (manifest); gi++)
    {
      JsonNode *gn = json_array_get_element (manifest, gi);
      JsonArray *paths = JSON_NODE_HOLDS_OBJECT (gn)
                           ? get_array (json_node_get_object (gn), "paths")
                           : NULL;

      if (paths == NULL)
        {
          g_set_error (error, CATENA_NN_ERROR, CATENA_NN_ERROR_INVALID,
                       "weightsManifest group %u has no “paths” list", gi);
          return NULL;
        }
      for (guint pi = 0; pi < json_array_get_length (paths); pi++)
        {
          const char *name = node_string (json_array_get_element (paths, pi));
          g_autofree char *file = NULL, *data = NULL;
          gsize flen = 0;

          if (!safe_shard_name (name))
            {
              g_set_error (error, CATENA_NN_ERROR, CATENA_NN_ERROR_INVALID,
                           "Weight file name “%s” is not a plain file name next to model.json",
                           name != NULL ? name : "(not a string)");
              return NULL;
            }
          file = g_build_filename (dir, name, NULL);
          if (!g_file_get_contents (file, &data, &flen, &local))
            {
              g_set_error (error, CATENA_NN_ERROR,
                           g_error_matches (local, G_FILE_ERROR, G_FILE_ERROR_NOENT)
                             ? CATENA_NN_ERROR_MODEL_MISSING
                             : CATENA_NN_ERROR_IO,
                           "Could not read the weight file: %s", local->message);
              g_error_free (local);
              return NULL;
            }
          if (flen > TF_MAX_WEIGHT_BYTES - weights->len)
            {
              g_set_error (error, CATENA_NN_ERROR, CATENA_NN_ERROR_TOO_LARGE,
                           "The weight files are larger than 2 GiB");
              return NULL;
            }
          g_byte_array_append (weights, (const guint8 *) data, (guint) flen);
        }
    }
  return model_from_root (root, weights->data, weights->len, error);
}

/* ---- building a graph for one input size ---- */

static NnAttr
attr_ints (const char *name, const gint64 *v, gsize n)
{
  NnAttr a = { .name = g_strdup (name), .type = NN_ATTR_INTS, .n = n };

  a.ints = g_memdup2 (v, sizeof (gint64) * n);
  return a;
}

static NnAttr
attr_int (const char *name, gint64 v)
{
  return (NnAttr) { .name = g_strdup (name), .type = NN_ATTR_INT, .i = v };
}

static NnAttr
attr_str (const char *name, const char *s)
{
  return (NnAttr) { .name = g_strdup (name), .type = NN_ATTR_STRING, .s = g_strdup (s) };
}

static NnAttr
attr_float (const char *name, float f)
{
  return (NnAttr) { .name = g_strdup (name), .type = NN_ATTR_FLOAT, .f = f };
}

static int
add_const (NnGraph *g, const char *name, CatenaNnTensor *t)
{
  int vi = nn_graph_add_value (g, name);
  NnValue *v;

  if (vi < 0)
    return -1;
  v = nn_value (g, vi);
  v->constant = catena_nn_tensor_ref (t);
  v->dtype = t->dtype;
  v->ndim = t->ndim;
  memcpy (v->dims, t->dims, sizeof v->dims);
  v->n_elements = t->n_elements;
  v->nbytes = t->nbytes;
  return vi;
}

/* Adds one node; the graph owns attrs afterwards. Returns the output value or -1. */
static int
emit (NnGraph *g,
      const char *op,
      const char *name,
      const int *in,
      int n_in,
      const char *out_name,
      NnAttr *attrs,
      int n_attrs,
      GError **error)
{
  NnNode node = { 0 };

  node.name = g_strdup (name);
  node.op_type = g_strdup (op);
  node.op = nn_op_lookup (op);
  node.opset = 17;
  node.n_in = n_in;
  node.in = g_new (int, n_in + 1);
  memcpy (node.in, in, sizeof (int) * n_in);
  node.n_out = 1;
  node.out = g_new (int, 2);
  node.attrs = g_new0 (NnAttr, n_attrs + 1);
  if (n_attrs > 0)
    memcpy (node.attrs, attrs, sizeof (NnAttr) * n_attrs);
  node.n_attrs = n_attrs;
  node.out[0] = nn_graph_add_value (g, out_name);
  if (node.out[0] < 0 || node.op == NULL)
    {
      g_set_error (error, CATENA_NN_ERROR, CATENA_NN_ERROR_INVALID,
                   "Layer “%s”: value “%s” is defined twice", name, out_name);
      for (int a = 0; a < n_attrs; a++)
        {
          g_free (node.attrs[a].name);
          g_free (node.attrs[a].s);
          g_free (node.attrs[a].ints);
        }
      g_free (node.attrs);
      g_free (node.name);
      g_free (node.op_type);
      g_free (node.in);
      g_free (node.out);
      return -1;
    }
  if (!nn_graph_add_node (g, &node, error))
    return -1;
  return node.out[0];
}

static int
emit_activation (NnGraph *g, const TfLayer *l, int x, GError **error)
{
  NnAttr a = attr_float ("alpha", l->alpha);
  gboolean leaky = strcmp (l->act, "LeakyRelu") == 0;

  if (!leaky)
    g_free (a.name);
  return emit (g, l->act, l->name, &x, 1, l->name, &a, leaky ? 1 : 0, error);
}

static int
emit_layer (NnGraph *g, const CatenaNnTfjsModel *m, const TfLayer *l, const int *val,
            GError **error)
{
  g_autofree char *tmp = g_strdup_printf ("%s:op", l->name);
  g_autofree char *wname = g_strdup_printf ("%s/kernel", l->name);
  g_autofree char *bname = g_strdup_printf ("%s/bias", l->name);
  const char *out = l->act != NULL ? tmp : l->name;
  int x = l->n_in > 0 ? val[l->in[0]] : -1, y;

  switch (l->kind)
    {
    case TF_INPUT:
      g_assert_not_reached ();
    case TF_SKIP:
      return x;
    case TF_CONV:
    case TF_UPCONV:
      {
        int in[3] = { x, add_const (g, wname, l->w), l->b ? add_const (g, bname, l->b) : -1 };
        gint64 k[2] = { l->kh, l->kw }, s[2] = { l->sh, l->sw }, d[2] = { l->dh, l->dw };
        gint64 pads1[4] = { 1, 1, 1, 1 };
        NnAttr attrs[5];
        int n = 0;
        g_autofree char *d2s = g_strdup_printf ("%s:d2s", l->name);

        if (in[1] < 0 || (l->b && in[2] < 0))
          {
            layer_error (error, CATENA_NN_ERROR_INVALID, l, "weight names clash");
            return -1;
          }
        attrs[n++] = attr_ints ("kernel_shape", k, 2);
        attrs[n++] = attr_ints ("strides", s, 2);
        attrs[n++] = attr_ints ("dilations", d, 2);
        attrs[n++] = attr_int ("group", l->groups);
        if (l->kind == TF_UPCONV)
          attrs[n++] = attr_ints ("pads", pads1, 4);
        else
          attrs[n++] = attr_str ("auto_pad", l->same ? "SAME_UPPER" : "VALID");
        if (l->kind == TF_CONV)
          y = emit (g, "Conv", l->name, in, l->b ? 3 : 2, out, attrs, n, error);
        else
          {
            NnAttr da[2] = { attr_int ("blocksize", l->up), attr_str ("mode", "DCR") };

            /* activation before depth_to_space, so that Relu fuses into the conv */
            y = emit (g, "Conv", l->name, in, l->b ? 3 : 2, tmp, attrs, n, error);
            if (y >= 0 && l->act != NULL)
              {
                NnAttr a = attr_float ("alpha", l->alpha);
                gboolean leaky = strcmp (l->act, "LeakyRelu") == 0;
                g_autofree char *an = g_strdup_printf ("%s:act", l->name);

                if (!leaky)
                  g_free (a.name);
                y = emit (g, l->act, l->name, &y, 1, an, &a, leaky ? 1 : 0, error);
              }
            if (y < 0)
              {
                for (int i = 0; i < 2; i++)
                  {
                    g_free (da[i].name);
                    g_free (da[i].s);
                  }
                return -1;
              }
            return emit (g, "DepthToSpace", l->name, &y, 1, l->name, da, 2, error);
          }
        break;
      }
    case TF_ACT:
      return l->act != NULL ? emit_activation (g, l, x, error)
                            : emit (g, "Identity", l->name, &x, 1, l->name, NULL, 0, error);
    case TF_ADD:
      y = x;
      for (int i = 1; i < l->n_in && y >= 0; i++)
        {
          g_autofree char *o = i + 1 == l->n_in && l->act == NULL
                                 ? g_strdup (l->name)
                                 : g_strdup_printf ("%s:add%d", l->name, i);
          int in[2] = { y, val[l->in[i]] };

          y = emit (g, "Add", l->name, in, 2, o, NULL, 0, error);
        }
      return y;
    case TF_CONCAT:
      {
        g_autofree int *in = g_new (int, l->n_in);
        NnAttr a = attr_int ("axis", l->axis);

        for (int i = 0; i < l->n_in; i++)
          in[i] = val[l->in[i]];
        y = emit (g, "Concat", l->name, in, l->n_in, out, &a, 1, error);
        break;
      }
    case TF_UPSAMPLE:
      {
        g_autoptr (CatenaNnTensor) sc = catena_nn_tensor_new (CATENA_NN_DTYPE_FLOAT, 1,
                                                               (gint64[]) { 4 }, error);
        g_autofree char *sname = g_strdup_printf ("%s/scales", l->name);
        NnAttr a[3];
        int in[3];

        if (sc == NULL)
          return -1;
        memcpy (sc->data, (float[]) { 1, 1, (float) l->up, (float) l->up }, 4 * sizeof (float));
        in[0] = x, in[1] = -1, in[2] = add_const (g, sname, sc);
        a[0] = attr_str ("mode", "nearest");
        a[1] = attr_str ("coordinate_transformation_mode", "asymmetric");
        a[2] = attr_str ("nearest_mode", "floor");
        y = emit (g, "Resize", l->name, in, 3, out, a, 3, error);
        break;
      }
    case TF_SCALE:
      {
        g_autoptr (CatenaNnTensor) sc = catena_nn_tensor_new (CATENA_NN_DTYPE_FLOAT, 1,
                                                               (gint64[]) { 1 }, error);
        g_autofree char *sname = g_strdup_printf ("%s/beta", l->name);
        int in[2];

        if (sc == NULL)
          return -1;
        *(float *) sc->data = l->scale;
        in[0] = x, in[1] = add_const (g, sname, sc);
        y = emit (g, "Mul", l->name, in, 2, out, NULL, 0, error);
        break;
      }
    case TF_D2S:
      {
        NnAttr a[2] = { attr_int ("blocksize", l->up), attr_str ("mode", "DCR") };

        y = emit (g, "DepthToSpace", l->name, &x, 1, out, a, 2, error);
        break;
      }
    case TF_PRELU:
      {
        g_autofree char *sname = g_strdup_printf ("%s/alpha", l->name);
        int in[2] = { x, add_const (g, sname, l->slope) };

        y = emit (g, "PRelu", l->name, in, 2, out, NULL, 0, error);
        break;
      }
    default:
      g_assert_not_reached ();
    }
  if (y >= 0 && l->act != NULL)
    y = emit_activation (g, l, y, error);
  return y;
}

CatenaNnGraph *
catena_nn_tfjs_model_build (CatenaNnTfjsModel *m, int height, int width, GError **error)
{
  g_autoptr (CatenaNnGraph) g = NULL;
  g_autofree int *val = NULL;
  const TfLayer *in = NULL;
  NnValue *v;
  int vi, dt = CATENA_NN_DTYPE_FLOAT;
  GError *local = NULL;

  g_return_val_if_fail (m != NULL, NULL);
  if (height < 1 || width < 1 || height > TF_MAX_SIDE || width > TF_MAX_SIDE
      || (m->fixed_h > 0 && m->fixed_h != height) || (m->fixed_w > 0 && m->fixed_w != width))
    {
      g_set_error (error, CATENA_NN_ERROR, CATENA_NN_ERROR_INPUT,
                   "The model cannot take a %d×%d input", width, height);
      return NULL;
    }
  g = nn_graph_new ();
  val = g_new (int, m->n_layers + 1);
  in = &m->layers[m->input];
  vi = nn_graph_add_value (g, in->name);
  v = nn_value (g, vi);
  v->dtype = CATENA_NN_DTYPE_FLOAT;
  v->ndim = 4;
  memcpy (v->dims, (gint64[]) { 1, m->in_channels, height, width }, 4 * sizeof (gint64));
  if (!nn_shape_elements (4, v->dims, v->dtype, &v->n_elements, &v->nbytes, &local))
    {
      g_propagate_error (error, local);
      return NULL;
    }
  v->is_input = TRUE;
  g_array_append_val (g->inputs, vi);
  g_array_append_val (g->input_dtypes, dt);
  for (int i = 0; i < m->n_layers; i++)
    {
      if (i == m->input)
        val[i] = vi;
      else if ((val[i] = emit_layer (g, m, &m->layers[i], val, error)) < 0)
        return NULL;
    }
  g_array_append_val (g->outputs, val[m->output]);
  g_array_append_val (g->output_dtypes, dt);
  if (!nn_graph_finish (g, NULL, error))
    return NULL;
  return g_steal_pointer (&g);
}

int
catena_nn_tfjs_model_get_radius (CatenaNnTfjsModel *m)
{
  return m->radius;
}

int
catena_nn_tfjs_model_get_channels (CatenaNnTfjsModel *m)
{
  return (int) m->in_channels;
}
