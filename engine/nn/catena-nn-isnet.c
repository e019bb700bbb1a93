/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <math.h>
#include <string.h>

#include "catena-nn-private.h"

/* ISNet background removal, with the pre/post-processing of @imgly/background-removal-node
 * 1.4.5 (dist/index.cjs: runInference, tensorResizeBilinear, tensorHWCtoBCHW,
 * convertFloat32ToUint8):
 *   RGBA → 1024×1024 with their bilinear (rounded to 8 bits) → planar RGB (v − 128) / 256
 *   → ISNet → output (0…1) × 255 truncated to 8 bits → their bilinear back to the source size.
 * See docs/nn.md. */

#define ISNET_SIZE 1024
#define ISNET_MAX_SIDE 65536

struct _CatenaNnIsnet
{
  CatenaNnGraph *graph;
  CatenaNnTensor *input;
  guint8 *rgba_1024;
  guint8 *mask_1024;
  float *raw;
  gboolean have_raw;
};

/* ---- model files ---- */

static char *
model_in (const char *dir, const char *name)
{
  char *path;

  if (dir == NULL || dir[0] == '\0')
    return NULL;
  path = g_build_filename (dir, name, NULL);
  if (g_file_test (path, G_FILE_TEST_IS_REGULAR))
    return path;
  g_free (path);
  return NULL;
}

char *
catena_nn_find_model (const char *name)
{
  g_autofree char *xdg = NULL, *home = NULL;
  char *path;

  g_return_val_if_fail (name != NULL, NULL);
  if (name[0] == '\0' || g_path_is_absolute (name) || strchr (name, '\\') != NULL)
    return NULL;
  {
    g_auto (GStrv) parts = g_strsplit (name, "/", -1);

    for (int i = 0; parts[i] != NULL; i++)
      if (parts[i][0] == '\0' || strcmp (parts[i], "..") == 0 || strcmp (parts[i], ".") == 0)
        return NULL;
  }
  if ((path = model_in (g_getenv ("CATENA_MODEL_DIR"), name)) != NULL)
    return path;
  xdg = g_build_filename (g_get_user_cache_dir (), "catena", "models", NULL);
  if ((path = model_in (xdg, name)) != NULL)
    return path;
  /* tests and sandboxes move XDG_CACHE_HOME; the fetch script's default stays valid */
  home = g_build_filename (g_get_home_dir (), ".cache", "catena", "models", NULL);
  return model_in (home, name);
}

char *
catena_nn_model_missing_message (const char *name)
{
  if (g_strcmp0 (name, CATENA_NN_ISNET_MODEL) == 0)
    return g_strdup_printf (
      "The background-removal model (ISNet, %s) is not installed. Install it with "
      "“build-aux/fetch-models.sh” from Catena's source tree: it downloads "
      "@imgly/background-removal-data 1.4.5 with npm into ~/.cache/catena/models and checks "
      "it. Or set CATENA_MODEL_DIR to a folder that contains %s.",
      name, name);
  if (g_str_has_prefix (name, "esrgan-"))
    return g_strdup_printf (
      "The upscaling model %s is not installed. Install it with “build-aux/fetch-models.sh” "
      "from Catena's source tree: it downloads @upscalerjs/esrgan-slim and esrgan-medium 1.0.0 "
      "(MIT, about 16 MB) with npm into ~/.cache/catena/models and checks them. Or set "
      "CATENA_MODEL_DIR to a folder that contains %s.",
      name, name);
  return g_strdup_printf ("The model file %s is not installed. Run “build-aux/fetch-models.sh” "
                          "from Catena's source tree, or set CATENA_MODEL_DIR to a folder that "
                          "contains it.",
                          name);
}

/* ---- the reference bilinear ---- */

typedef struct
{
  const guint8 *src;
  int sw, sh, ss;
  guint8 *dst;
  int dw, dh, ds;
  int channels;
} ResizeU8;

#define RESIZE_ROWS 16

static void
resize_u8_task (gpointer user, gsize task, int thread)
{
  const ResizeU8 *r = user;
  /* same double arithmetic, in the same order, as the JavaScript */
  double scale_x = (double) r->sw / r->dw, scale_y = (double) r->sh / r->dh;
  int y0 = (int) task * RESIZE_ROWS, y1 = MIN (r->dh, y0 + RESIZE_ROWS);

  for (int y = y0; y < y1; y++)
    {
      double src_y = y * scale_y;
      int ya = MAX ((int) floor (src_y), 0), yb = MIN ((int) ceil (src_y), r->sh - 1);
      double dy = src_y - ya;
      const guint8 *ra = r->src + (gsize) ya * r->ss, *rb = r->src + (gsize) yb * r->ss;
      guint8 *out = r->dst + (gsize) y * r->ds;

      for (int x = 0; x < r->dw; x++)
        {
          double src_x = x * scale_x;
          int xa = MAX ((int) floor (src_x), 0), xb = MIN ((int) ceil (src_x), r->sw - 1);
          double dx = src_x - xa;

          for (int c = 0; c < r->channels; c++)
            {
              double p1 = ra[xa * r->channels + c], p2 = ra[xb * r->channels + c];
              double p3 = rb[xa * r->channels + c], p4 = rb[xb * r->channels + c];
              double v = (1 - dx) * (1 - dy) * p1 + dx * (1 - dy) * p2 + (1 - dx) * dy * p3
                         + dx * dy * p4;
              double rounded = floor (v + 0.5); /* Math.round */

              out[x * r->channels + c] = (guint8) CLAMP (rounded, 0, 255);
            }
        }
    }
}

void
catena_nn_resize_bilinear_u8 (const guint8 *src,
                              int src_w,
                              int src_h,
                              int src_stride,
                              guint8 *dst,
                              int dst_w,
                              int dst_h,
                              int dst_stride,
                              int channels)
{
  ResizeU8 r = { src, src_w, src_h, src_stride, dst, dst_w, dst_h, dst_stride, channels };

  g_return_if_fail (src_w > 0 && src_h > 0 && dst_w > 0 && dst_h > 0 && channels > 0);
  nn_parallel_run ((gsize) (dst_h + RESIZE_ROWS - 1) / RESIZE_ROWS, resize_u8_task, &r);
}

/* ---- ISNet ---- */

void
catena_nn_isnet_free (CatenaNnIsnet *isnet)
{
  if (isnet == NULL)
    return;
  catena_nn_graph_free (isnet->graph);
  catena_nn_tensor_unref (isnet->input);
  g_free (isnet->rgba_1024);
  g_free (isnet->mask_1024);
  g_free (isnet->raw);
  g_free (isnet);
}

CatenaNnIsnet *
catena_nn_isnet_load (const char *model_path, GError **error)
{
  static const char *const outputs[] = { "output", NULL };
  static const gint64 in_dims[4] = { 1, 3, ISNET_SIZE, ISNET_SIZE };
  CatenaNnLoadOptions options = { NULL, outputs };
  g_autoptr (CatenaNnIsnet) isnet = g_new0 (CatenaNnIsnet, 1);
  CatenaNnDType dt;
  const gint64 *dims;
  int ndim;

  if (model_path == NULL)
    {
      g_autofree char *msg = catena_nn_model_missing_message (CATENA_NN_ISNET_MODEL);

      g_set_error_literal (error, CATENA_NN_ERROR, CATENA_NN_ERROR_MODEL_MISSING, msg);
      return NULL;
    }
  isnet->graph = catena_nn_graph_load_onnx_file (model_path, &options, error);
  if (isnet->graph == NULL)
    return NULL;
  if (catena_nn_graph_get_n_inputs (isnet->graph) != 1
      || (catena_nn_graph_get_input (isnet->graph, 0, &dt, &ndim, &dims), dt)
           != CATENA_NN_DTYPE_FLOAT
      || ndim != 4 || memcmp (dims, in_dims, sizeof in_dims) != 0
      || (catena_nn_graph_get_output (isnet->graph, 0, &dt, &ndim, &dims), ndim) != 4
      || dims[0] != 1 || dims[1] != 1 || dims[2] != ISNET_SIZE || dims[3] != ISNET_SIZE
      || dt != CATENA_NN_DTYPE_FLOAT)
    {
      g_set_error (error, CATENA_NN_ERROR, CATENA_NN_ERROR_INVALID,
                   "%s is not the ISNet model Catena expects (float input 1×3×1024×1024, "
                   "output “output” 1×1×1024×1024)", model_path);
      return NULL;
    }
  isnet->input = catena_nn_tensor_new (CATENA_NN_DTYPE_FLOAT, 4, in_dims, error);
  if (isnet->input == NULL)
    return NULL;
  isnet->rgba_1024 = g_malloc ((gsize) ISNET_SIZE * ISNET_SIZE * 4);
  isnet->mask_1024 = g_malloc ((gsize) ISNET_SIZE * ISNET_SIZE);
  isnet->raw = g_malloc ((gsize) ISNET_SIZE * ISNET_SIZE * sizeof (float));
  return g_steal_pointer (&isnet);
}

CatenaNnGraph *
catena_nn_isnet_get_graph (CatenaNnIsnet *isnet)
{
  return isnet->graph;
}

const float *
catena_nn_isnet_get_raw_output (CatenaNnIsnet *isnet)
{
  return isnet->have_raw ? isnet->raw : NULL;
}

gboolean
catena_nn_isnet_run (CatenaNnIsnet *isnet,
                     const guint8 *rgba,
                     int width,
                     int height,
                     int stride,
                     guint8 *alpha_out,
                     GCancellable *cancellable,
                     GError **error)
{
  CatenaNnTensor *out[1] = { NULL };
  const gsize plane = (gsize) ISNET_SIZE * ISNET_SIZE;
  float *in;
  const float *o;

  g_return_val_if_fail (isnet != NULL && rgba != NULL && alpha_out != NULL, FALSE);
  if (width <= 0 || height <= 0 || width > ISNET_MAX_SIDE || height > ISNET_MAX_SIDE
      || stride < width * 4)
    {
      g_set_error (error, CATENA_NN_ERROR, CATENA_NN_ERROR_INPUT,
                   "Cannot remove the background of a %d×%d image (stride %d): sizes must be "
                   "1…%d pixels", width, height, stride, ISNET_MAX_SIDE);
      return FALSE;
    }
  catena_nn_resize_bilinear_u8 (rgba, width, height, stride, isnet->rgba_1024, ISNET_SIZE,
                                ISNET_SIZE, ISNET_SIZE * 4, 4);
  in = isnet->input->data;
  for (gsize i = 0; i < plane; i++)
    {
      const guint8 *px = isnet->rgba_1024 + i * 4;

      in[i] = (px[0] - 128.f) / 256.f;
      in[i + plane] = (px[1] - 128.f) / 256.f;
      in[i + 2 * plane] = (px[2] - 128.f) / 256.f;
    }
  {
    g_autoptr (GError) fallback = NULL;
    CatenaNnDevice used;

    /* where the user chose (catena_nn_set_device); any GPU failure reruns on the CPU */
    if (!nn_graph_run_device_ex (isnet->graph, catena_nn_get_device (), &isnet->input, out,
                                 &used, NULL, &fallback, cancellable, error))
      return FALSE;
    nn_device_report (used, fallback);
  }
  o = out[0]->data;
  memcpy (isnet->raw, o, plane * sizeof (float));
  isnet->have_raw = TRUE;
  for (gsize i = 0; i < plane; i++)
    {
      /* Uint8Array store of v · 255: truncation (NaN → 0); clamped instead of wrapped */
      double v = (double) o[i] * 255.0;

      isnet->mask_1024[i] = isnan (v) || v <= 0 ? 0 : v >= 255 ? 255 : (guint8) v;
    }
  catena_nn_tensor_unref (out[0]);
  catena_nn_resize_bilinear_u8 (isnet->mask_1024, ISNET_SIZE, ISNET_SIZE, ISNET_SIZE,
                                alpha_out, width, height, width, 1);
  return TRUE;
}
