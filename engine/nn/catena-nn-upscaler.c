/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <math.h>
#include <string.h>

#include "catena-nn-private.h"

/* Super-resolution with the @upscalerjs ESRGAN-family (RDN) TF.js models, tiled and streamed.
 *
 * Pre/post-processing, read from the packages' JS (@upscalerjs/esrgan-slim|medium 1.0.0
 * dist/cjs/packages/shared/src/esrgan/esrgan.js and upscaler 1.0.0-beta.19
 * dist/node/upscalerjs/src/shared/tensor-utils.js): RDN models declare inputRange and
 * outputRange [0, 255], so 8-bit-range RGB goes in unscaled and the output is clipped to
 * 0…255 (scaleOutput: clipByValue(0, 255)); alpha is dropped by upscalerjs (it fills 255).
 * Here: RGB · 255 in, clamp(out, 0, 255) / 255 out, alpha upscaled with bicubic.
 *
 * Tiling: the picture is cut into cores; each core is run inside a window of `tile` input
 * pixels that adds `overlap` pixels of real context on every side that is not an image edge
 * (windows slide inwards at the right and bottom edges, so every window has the same size and
 * one graph serves the whole picture). Only the core of each window is written. With overlap
 * ≥ the model's receptive radius, tiles are exactly the whole-picture result (up to float
 * rounding): no seams, no blending needed. */

#define DEFAULT_TILE 192
#define MAX_SIDE 65536

struct _CatenaNnUpscaler
{
  CatenaNnTfjsModel *model;
  int scale;
  int radius;
  GMutex lock;
  CatenaNnGraph *graph; /* for the last window size */
  int graph_w, graph_h;
};

void
catena_nn_upscaler_free (CatenaNnUpscaler *up)
{
  if (up == NULL)
    return;
  catena_nn_tfjs_model_free (up->model);
  catena_nn_graph_free (up->graph);
  g_mutex_clear (&up->lock);
  g_free (up);
}

CatenaNnUpscaler *
catena_nn_upscaler_load (const char *model_dir_or_json, GError **error)
{
  g_autoptr (CatenaNnUpscaler) up = g_new0 (CatenaNnUpscaler, 1);
  g_autoptr (CatenaNnGraph) probe = NULL;
  CatenaNnDType dt;
  int ndim, side;
  const gint64 *dims;

  g_return_val_if_fail (model_dir_or_json != NULL, NULL);
  g_mutex_init (&up->lock);
  up->model = catena_nn_tfjs_model_load (model_dir_or_json, error);
  if (up->model == NULL)
    return NULL;
  up->radius = catena_nn_tfjs_model_get_radius (up->model);
  if (catena_nn_tfjs_model_get_channels (up->model) != 3)
    {
      g_set_error (error, CATENA_NN_ERROR, CATENA_NN_ERROR_UNSUPPORTED,
                   "%s is not an RGB upscaler (its input has %d channels)", model_dir_or_json,
                   catena_nn_tfjs_model_get_channels (up->model));
      return NULL;
    }
  /* build once at a small size: checks every layer's shapes now and gives the scale */
  side = 2 * up->radius + 9;
  probe = catena_nn_tfjs_model_build (up->model, side, side + 1, error);
  if (probe == NULL)
    return NULL;
  catena_nn_graph_get_output (probe, 0, &dt, &ndim, &dims);
  if (ndim != 4 || dims[0] != 1 || dims[1] != 3 || dims[2] % side != 0
      || dims[2] / side < 1 || dims[2] / side > 16 || dims[3] != dims[2] / side * (side + 1))
    {
      g_set_error (error, CATENA_NN_ERROR, CATENA_NN_ERROR_UNSUPPORTED,
                   "%s is not an upscaler: its output is not an RGB picture an integer "
                   "number of times larger than its input", model_dir_or_json);
      return NULL;
    }
  up->scale = (int) (dims[2] / side);
  return g_steal_pointer (&up);
}

int
catena_nn_upscaler_get_scale (CatenaNnUpscaler *up)
{
  g_return_val_if_fail (up != NULL, 0);
  return up->scale;
}

int
catena_nn_upscaler_get_receptive_radius (CatenaNnUpscaler *up)
{
  g_return_val_if_fail (up != NULL, 0);
  return up->radius;
}

CatenaNnGraph *
catena_nn_upscaler_get_graph (CatenaNnUpscaler *up, int width, int height, GError **error)
{
  if (up->graph != NULL && up->graph_w == width && up->graph_h == height)
    return up->graph;
  g_clear_pointer (&up->graph, catena_nn_graph_free);
  up->graph = catena_nn_tfjs_model_build (up->model, height, width, error);
  up->graph_w = width;
  up->graph_h = height;
  return up->graph;
}

/* ---- bicubic for alpha (Keys, a = −0.5; half-pixel centres; edges clamped) ---- */

static void
cubic_weights (double t, float w[4])
{
  const double a = -0.5;
  double x;

  x = 1 + t;
  w[0] = (float) (((a * x - 5 * a) * x + 8 * a) * x - 4 * a);
  x = t;
  w[1] = (float) (((a + 2) * x - (a + 3)) * x * x + 1);
  x = 1 - t;
  w[2] = (float) (((a + 2) * x - (a + 3)) * x * x + 1);
  w[3] = 1.f - w[0] - w[1] - w[2];
}

typedef struct
{
  int idx[4]; /* window-local source index */
  float w[4];
} Taps;

/* Taps for output coordinates [o0, o0 + n) of an axis of `len` input pixels, relative to a
 * window starting at input coordinate `win0`. */
static void
axis_taps (Taps *t, int o0, int n, int scale, int len, int win0)
{
  for (int i = 0; i < n; i++)
    {
      double src = (o0 + i + 0.5) / scale - 0.5;
      int x0 = (int) floor (src);

      cubic_weights (src - x0, t[i].w);
      for (int k = 0; k < 4; k++)
        t[i].idx[k] = CLAMP (x0 - 1 + k, 0, len - 1) - win0;
    }
}

/* ---- tiling ---- */

typedef struct
{
  int n;
  int *core0, *core1, *win0;
} Axis;

static void
axis_clear (Axis *a)
{
  g_free (a->core0);
  g_free (a->core1);
  g_free (a->win0);
}

static void
axis_plan (Axis *a, int len, int win, int ov)
{
  int step = len <= win ? len : win - 2 * ov;

  a->n = (len + step - 1) / step;
  a->core0 = g_new (int, a->n);
  a->core1 = g_new (int, a->n);
  a->win0 = g_new (int, a->n);
  for (int i = 0; i < a->n; i++)
    {
      a->core0[i] = i * step;
      a->core1[i] = MIN (len, (i + 1) * step);
      a->win0[i] = CLAMP (a->core0[i] - ov, 0, len - win);
    }
}

/* One pass over the picture with windows of `tile` (already checked) on *device. When the
 * GPU fails on the first window (nothing written yet), returns FALSE with *retry = TRUE and
 * the reason in *fallback: out of memory (*device unchanged) for a retry with smaller
 * windows, any other failure (*device = CPU) for a pass with the CPU's own window size (the
 * GPU's are several times larger: slower and heavier on the CPU). A GPU failure after that
 * moves the rest of the pass to the CPU (*device = CPU, the reason in *fallback). */
static gboolean
process_tiles (CatenaNnUpscaler *up,
               int width,
               int height,
               int tile,
               int ov,
               CatenaNnReadRectFunc read_rect,
               CatenaNnWriteRectFunc write_rect,
               CatenaNnProgressFunc progress,
               gpointer user_data,
               CatenaNnDevice *device,
               gboolean *retry,
               GError **fallback,
               GCancellable *cancellable,
               GError **error)
{
  g_autoptr (CatenaNnTensor) input = NULL;
  g_autofree float *rgba = NULL, *out = NULL;
  g_autofree Taps *tx = NULL, *ty = NULL;
  CatenaNnGraph *graph;
  Axis ax = { 0 }, ay = { 0 };
  int s, tw, th, done = 0, total;
  gsize plane;
  gboolean ok = FALSE;

  s = up->scale;
  *retry = FALSE;
  tw = MIN (tile, width);
  th = MIN (tile, height);
  graph = catena_nn_upscaler_get_graph (up, tw, th, error);
  if (graph == NULL)
    return FALSE;
  input = catena_nn_tensor_new (CATENA_NN_DTYPE_FLOAT, 4, (gint64[]) { 1, 3, th, tw }, error);
  if (input == NULL)
    return FALSE;
  axis_plan (&ax, width, tw, ov);
  axis_plan (&ay, height, th, ov);
  total = ax.n * ay.n;
  plane = (gsize) tw * th;
  rgba = g_new (float, plane * 4);
  /* one core's output: at most (tile) × (tile) input pixels × s² */
  out = g_new (float, (gsize) tw * s * th * s * 4);
  tx = g_new (Taps, (gsize) tw * s);
  ty = g_new (Taps, (gsize) th * s);

  for (int j = 0; j < ay.n; j++)
    for (int i = 0; i < ax.n; i++)
      {
        int wx = ax.win0[i], wy = ay.win0[j];
        int cx0 = ax.core0[i], cx1 = ax.core1[i], cy0 = ay.core0[j], cy1 = ay.core1[j];
        int ow = (cx1 - cx0) * s, oh = (cy1 - cy0) * s;
        int rx = (cx0 - wx) * s, ry = (cy0 - wy) * s; /* core origin in the window's output */
        float *px = input->data;
        CatenaNnTensor *result = NULL;
        const float *res;
        gboolean opaque = TRUE;
        gint64 ostride;

        if (g_cancellable_set_error_if_cancelled (cancellable, error)
            || !read_rect (wx, wy, tw, th, rgba, tw * 4, user_data, error))
          goto out;
        for (gsize p = 0; p < plane; p++)
          {
            const float *q = rgba + p * 4;

            px[p] = CLAMP (q[0], 0.f, 1.f) * 255.f;
            px[plane + p] = CLAMP (q[1], 0.f, 1.f) * 255.f;
            px[2 * plane + p] = CLAMP (q[2], 0.f, 1.f) * 255.f;
            if (!(q[3] >= 1.f))
              opaque = FALSE;
          }
        if (*device == CATENA_NN_DEVICE_CPU)
          {
            if (!catena_nn_graph_run (graph, &input, &result, cancellable, error))
              goto out;
          }
        else
          {
            g_autoptr (GError) why = NULL;
            CatenaNnDevice used;

            if (!nn_graph_run_device_ex (graph, *device, &input, &result, &used,
                                         done == 0 ? retry : NULL, &why, cancellable, error))
              {
                if (*retry)
                  g_propagate_error (fallback, g_steal_pointer (&why));
                goto out;
              }
            if (why != NULL && done == 0)
              {
                /* start again on the CPU, with its windows */
                catena_nn_tensor_unref (result);
                *device = used;
                *retry = TRUE;
                g_clear_error (fallback);
                g_propagate_error (fallback, g_steal_pointer (&why));
                goto out;
              }
            if (why != NULL)
              {
                /* it ran on the CPU: stay there for the rest rather than fail window after
                 * window on the GPU */
                *device = used;
                g_clear_error (fallback);
                g_propagate_error (fallback, g_steal_pointer (&why));
              }
          }
        res = result->data;
        ostride = (gint64) tw * s;
        for (int y = 0; y < oh; y++)
          {
            float *d = out + (gsize) y * ow * 4;
            gsize row = (gsize) (ry + y) * ostride + rx;

            for (int x = 0; x < ow; x++)
              for (int c = 0; c < 3; c++)
                {
                  float v = res[(gsize) c * ostride * th * s + row + x];

                  d[x * 4 + c] = CLAMP (v, 0.f, 255.f) * (1.f / 255.f);
                }
          }
        catena_nn_tensor_unref (result);
        if (opaque)
          for (gsize p = 0; p < (gsize) ow * oh; p++)
            out[p * 4 + 3] = 1.f;
        else
          {
            axis_taps (tx, cx0 * s, ow, s, width, wx);
            axis_taps (ty, cy0 * s, oh, s, height, wy);
            for (int y = 0; y < oh; y++)
              for (int x = 0; x < ow; x++)
                {
                  float a = 0;

                  for (int ky = 0; ky < 4; ky++)
                    {
                      const float *r = rgba + (gsize) ty[y].idx[ky] * tw * 4 + 3;
                      float h = 0;

                      for (int kx = 0; kx < 4; kx++)
                        h += tx[x].w[kx] * r[tx[x].idx[kx] * 4];
                      a += ty[y].w[ky] * h;
                    }
                  out[((gsize) y * ow + x) * 4 + 3] = CLAMP (a, 0.f, 1.f);
                }
          }
        if (!write_rect (cx0 * s, cy0 * s, ow, oh, out, ow * 4, user_data, error))
          goto out;
        done++;
        if (progress != NULL)
          progress ((double) done / total, user_data);
      }
  ok = TRUE;

out:
  axis_clear (&ax);
  axis_clear (&ay);
  return ok;
}

/* Windows on the GPU: larger than on the CPU (fewer launches, the overlap costs less); halved
 * while the GPU runs out of memory. */
#define GPU_DEFAULT_TILE 512

gboolean
catena_nn_upscaler_process (CatenaNnUpscaler *up,
                            int width,
                            int height,
                            int tile,
                            int overlap,
                            CatenaNnReadRectFunc read_rect,
                            CatenaNnWriteRectFunc write_rect,
                            CatenaNnProgressFunc progress,
                            gpointer user_data,
                            GCancellable *cancellable,
                            GError **error)
{
  g_autoptr (GMutexLocker) locker = NULL;
  g_autoptr (GError) fallback = NULL;
  CatenaNnDevice device;
  int s, ov, cpu_tile, gpu_tile;

  g_return_val_if_fail (up != NULL && read_rect != NULL && write_rect != NULL, FALSE);
  s = up->scale;
  if (width < 1 || height < 1 || width > MAX_SIDE || height > MAX_SIDE
      || (gint64) width * s > MAX_SIDE * 4 || (gint64) height * s > MAX_SIDE * 4)
    {
      g_set_error (error, CATENA_NN_ERROR, CATENA_NN_ERROR_INPUT,
                   "Cannot upscale a %d×%d picture (each side must be 1…%d pixels)", width,
                   height, MAX_SIDE);
      return FALSE;
    }
  ov = overlap < 0 ? up->radius : overlap;
  ov = CLAMP (ov, 2, 1024); /* the alpha bicubic reads 2 pixels around each core */
  if (tile != 0 && (tile < 2 * ov + 8 || tile > 8192))
    {
      g_set_error (error, CATENA_NN_ERROR, CATENA_NN_ERROR_INPUT,
                   "A tile of %d pixels is too small for an overlap of %d (at least %d) or "
                   "larger than 8192",
                   tile, ov, 2 * ov + 8);
      return FALSE;
    }
  cpu_tile = tile > 0 ? tile : MAX (DEFAULT_TILE, 2 * ov + 8);
  gpu_tile = tile > 0 ? tile : MAX (GPU_DEFAULT_TILE, 2 * ov + 8);
  device = catena_nn_device_resolve (catena_nn_get_device ());

  locker = g_mutex_locker_new (&up->lock);
  for (;;)
    {
      gboolean retry = FALSE;
      int t = device == CATENA_NN_DEVICE_CPU ? cpu_tile : gpu_tile;

      if (process_tiles (up, width, height, t, ov, read_rect, write_rect, progress, user_data,
                         &device, &retry, &fallback, cancellable, error))
        break;
      if (!retry)
        return FALSE;
      if (device == CATENA_NN_DEVICE_CPU)
        continue; /* the GPU failed: a CPU pass with CPU windows */
      /* out of GPU memory before anything was written: smaller windows, then the CPU */
      if (gpu_tile / 2 >= 2 * ov + 8 && gpu_tile / 2 >= 32)
        {
          g_debug ("%s; retrying with %d-pixel tiles", fallback->message, gpu_tile / 2);
          gpu_tile /= 2;
          g_clear_error (&fallback);
        }
      else
        device = CATENA_NN_DEVICE_CPU;
    }
  nn_device_report (device, fallback);
  return TRUE;
}

/* ---- the in-memory convenience ---- */

typedef struct
{
  const float *in;
  int in_stride;
  float *out;
  int out_stride;
  CatenaNnProgressFunc progress;
  gpointer progress_data;
} MemIo;

static gboolean
mem_read (int x, int y, int w, int h, float *dst, int stride, gpointer data, GError **error)
{
  MemIo *io = data;

  for (int r = 0; r < h; r++)
    memcpy (dst + (gsize) r * stride, io->in + (gsize) (y + r) * io->in_stride + (gsize) x * 4,
            sizeof (float) * 4 * w);
  return TRUE;
}

static gboolean
mem_write (int x, int y, int w, int h, const float *src, int stride, gpointer data,
           GError **error)
{
  MemIo *io = data;

  for (int r = 0; r < h; r++)
    memcpy (io->out + (gsize) (y + r) * io->out_stride + (gsize) x * 4,
            src + (gsize) r * stride, sizeof (float) * 4 * w);
  return TRUE;
}

static void
mem_progress (double fraction, gpointer data)
{
  MemIo *io = data;

  if (io->progress != NULL)
    io->progress (fraction, io->progress_data);
}

gboolean
catena_nn_upscaler_run (CatenaNnUpscaler *up,
                        const float *rgba_in,
                        int width,
                        int height,
                        int in_stride_floats,
                        float *rgba_out,
                        int out_stride_floats,
                        int tile,
                        int overlap,
                        GCancellable *cancellable,
                        CatenaNnProgressFunc progress,
                        gpointer progress_data,
                        GError **error)
{
  MemIo io = { rgba_in, in_stride_floats, rgba_out, out_stride_floats, progress, progress_data };

  g_return_val_if_fail (up != NULL && rgba_in != NULL && rgba_out != NULL, FALSE);
  if (in_stride_floats < width * 4 || out_stride_floats < width * up->scale * 4)
    {
      g_set_error (error, CATENA_NN_ERROR, CATENA_NN_ERROR_INPUT,
                   "Row strides are shorter than the rows");
      return FALSE;
    }
  return catena_nn_upscaler_process (up, width, height, tile, overlap, mem_read, mem_write,
                                     mem_progress, &io, cancellable, error);
}

char *
catena_nn_find_upscaler (const char *family, int scale)
{
  g_autofree char *name = NULL;

  g_return_val_if_fail (family != NULL, NULL);
  name = catena_nn_upscaler_model_name (family, scale);
  return name != NULL ? catena_nn_find_model (name) : NULL;
}

char *
catena_nn_upscaler_model_name (const char *family, int scale)
{
  if ((g_strcmp0 (family, CATENA_NN_ESRGAN_SLIM) != 0
       && g_strcmp0 (family, CATENA_NN_ESRGAN_MEDIUM) != 0)
      || (scale != 2 && scale != 3 && scale != 4 && scale != 8))
    return NULL;
  return g_strdup_printf ("%s-x%d/model.json", family, scale);
}
