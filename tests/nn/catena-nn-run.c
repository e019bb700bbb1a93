/* SPDX-License-Identifier: GPL-3.0-or-later */
/* catena-nn-run: drives engine/nn from the command line, for benchmarks and checks.
 *
 *   catena-nn-run isnet [--model PATH] [--image FILE] [--runs N] [--threads N]
 *                       [--dump-input F] [--dump-output F] [--alpha F.pgm] [--json]
 *   catena-nn-run model PATH.onnx [--runs N] [--threads N]
 *   catena-nn-run upscale [--model DIR] [--image FILE | --size WxH] [--tile N] [--overlap N]
 *                         [--runs N] [--out F.ppm] [--json]
 *   catena-nn-run upscale-tile [--model DIR] [--tile N] [--image FILE | --input F] [--runs N]
 *                              [--dump-input F] [--dump-output F] [--json]
 *
 * isnet: removes the background of --image (any format GdkPixbuf reads; without --image a
 * synthetic picture), prints timings; --dump-input writes the 1×3×1024×1024 float32 tensor
 * fed to the network, --dump-output the raw 1×1×1024×1024 float32 output (little-endian),
 * --alpha the full-resolution alpha as a PGM. model: loads any ONNX file, feeds zeros.
 * upscale: streams a picture through catena_nn_upscaler_process (--size: a synthetic picture
 * made rectangle by rectangle, so that neither the input nor the output is ever whole in
 * memory — measure peak RSS with /usr/bin/time -v); --out writes an 8-bit PPM band by band.
 * upscale-tile: runs the network alone on one --tile × --tile window (benchmarks; the
 * tfjs check dumps its NCHW float32 input, 0…255, and raw output; --input reads that tensor,
 * raw little-endian float32 1×3×N×N, instead of a crop). Default model:
 * esrgan-medium-x4. --device cuda (model, upscale-tile) runs the graph with the CUDA executor
 * and fails rather than time a CPU fallback. */

#include "config.h"

#include <locale.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "catena-nn.h"

#ifdef HAVE_GDK_PIXBUF
#include <gdk-pixbuf/gdk-pixbuf.h>
#endif

static char *opt_model, *opt_image, *opt_dump_in, *opt_dump_out, *opt_alpha, *opt_size, *opt_out;
static char *opt_input;
static char *opt_device;
static int opt_runs = 1, opt_threads, opt_tile, opt_overlap = -1;
static gboolean opt_json;

static const GOptionEntry entries[] = {
  { "model", 0, 0, G_OPTION_ARG_FILENAME, &opt_model, "ISNet model (default: installed)", "P" },
  { "image", 0, 0, G_OPTION_ARG_FILENAME, &opt_image, "Input picture", "FILE" },
  { "input", 0, 0, G_OPTION_ARG_FILENAME, &opt_input,
    "upscale-tile: input tensor, raw float32 1×3×N×N (NCHW, 0…255)", "F" },
  { "runs", 0, 0, G_OPTION_ARG_INT, &opt_runs, "Timed runs after one warm-up", "N" },
  { "threads", 0, 0, G_OPTION_ARG_INT, &opt_threads, "Kernel threads", "N" },
  { "dump-input", 0, 0, G_OPTION_ARG_FILENAME, &opt_dump_in, "Write the input tensor", "F" },
  { "dump-output", 0, 0, G_OPTION_ARG_FILENAME, &opt_dump_out, "Write the raw output", "F" },
  { "alpha", 0, 0, G_OPTION_ARG_FILENAME, &opt_alpha, "Write the alpha (PGM)", "F" },
  { "json", 0, 0, G_OPTION_ARG_NONE, &opt_json, "Print timings as JSON", NULL },
  { "size", 0, 0, G_OPTION_ARG_STRING, &opt_size, "Synthetic input size (upscale)", "WxH" },
  { "tile", 0, 0, G_OPTION_ARG_INT, &opt_tile, "Upscaler window side", "N" },
  { "overlap", 0, 0, G_OPTION_ARG_INT, &opt_overlap, "Upscaler context per side", "N" },
  { "out", 0, 0, G_OPTION_ARG_FILENAME, &opt_out, "Write the upscaled picture (PPM)", "F" },
  { "device", 0, 0, G_OPTION_ARG_STRING, &opt_device,
    "model, upscale-tile: cpu (default) or cuda (fails instead of falling back)", "D" },
  { NULL }
};

/* --device cuda must not quietly time the CPU: a fallback is an error here. */
static gboolean
run_graph (CatenaNnGraph *g, CatenaNnTensor *const *in, CatenaNnTensor **out, GError **error)
{
  CatenaNnDevice device = g_strcmp0 (opt_device, "cuda") == 0 ? CATENA_NN_DEVICE_CUDA
                                                               : CATENA_NN_DEVICE_CPU;
  GError *fallback = NULL;

  if (!catena_nn_graph_run_device (g, device, in, out, NULL, &fallback, NULL, error))
    return FALSE;
  if (fallback != NULL)
    {
      for (guint i = 0; i < catena_nn_graph_get_n_outputs (g); i++)
        g_clear_pointer (&out[i], catena_nn_tensor_unref);
      g_propagate_error (error, fallback);
      return FALSE;
    }
  return TRUE;
}

static int
cmp_double (gconstpointer a, gconstpointer b)
{
  double x = *(const double *) a, y = *(const double *) b;

  return x < y ? -1 : x > y;
}

static void
report (const char *what, GArray *times, double flops)
{
  double median;

  g_array_sort (times, cmp_double);
  median = g_array_index (times, double, times->len / 2);
  if (opt_json)
    {
      printf ("{\"what\": \"%s\", \"runs\": %u, \"median_ms\": %.1f, \"min_ms\": %.1f, "
              "\"conv_gflop\": %.2f, \"threads\": %d, \"device\": \"%s\"}\n",
              what, times->len, median, g_array_index (times, double, 0), flops * 1e-9,
              catena_nn_get_n_threads (), opt_device != NULL ? opt_device : "cpu");
      return;
    }
  printf ("%s: median %.1f ms, min %.1f ms over %u runs, %d threads", what, median,
          g_array_index (times, double, 0), times->len, catena_nn_get_n_threads ());
  if (flops > 0)
    printf (", conv %.1f GFLOP → %.1f GFLOP/s", flops * 1e-9, flops * 1e-9 / (median * 1e-3));
  printf ("\n");
}

static gboolean
write_file (const char *path, const void *data, gsize len, GError **error)
{
  return g_file_set_contents (path, data, (gssize) len, error);
}

static guint8 *
load_image (int *w, int *h, int *stride, GError **error)
{
  if (opt_image != NULL)
    {
#ifdef HAVE_GDK_PIXBUF
      g_autoptr (GdkPixbuf) pb = gdk_pixbuf_new_from_file (opt_image, error);
      g_autoptr (GdkPixbuf) rgba = NULL;

      if (pb == NULL)
        return NULL;
      rgba = gdk_pixbuf_get_has_alpha (pb) ? g_object_ref (pb) : gdk_pixbuf_add_alpha (pb, FALSE, 0, 0, 0);
      *w = gdk_pixbuf_get_width (rgba);
      *h = gdk_pixbuf_get_height (rgba);
      *stride = gdk_pixbuf_get_rowstride (rgba);
      return g_memdup2 (gdk_pixbuf_read_pixels (rgba), (gsize) *stride * (*h - 1) + *w * 4);
#else
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                   "built without GdkPixbuf: cannot read %s", opt_image);
      return NULL;
#endif
    }
  /* synthetic: a warm disc on a cool gradient */
  *w = 800, *h = 600, *stride = 800 * 4;
  {
    guint8 *px = g_malloc ((gsize) *stride * *h);

    for (int y = 0; y < *h; y++)
      for (int x = 0; x < *w; x++)
        {
          guint8 *p = px + (gsize) y * *stride + x * 4;
          int dx = x - 400, dy = y - 300;
          gboolean in = dx * dx + dy * dy < 180 * 180;

          p[0] = in ? 220 : (guint8) (40 + y / 10);
          p[1] = in ? 120 : (guint8) (80 + x / 20);
          p[2] = in ? 40 : 180;
          p[3] = 255;
        }
    return px;
  }
}

static int
run_isnet (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (CatenaNnIsnet) isnet = NULL;
  g_autofree char *path = opt_model ? g_strdup (opt_model)
                                    : catena_nn_find_model (CATENA_NN_ISNET_MODEL);
  g_autofree guint8 *rgba = NULL, *alpha = NULL;
  g_autoptr (GArray) times = g_array_new (FALSE, FALSE, sizeof (double));
  g_autofree char *desc = NULL;
  gint64 t0;
  int w, h, stride;

  if (path == NULL)
    {
      g_autofree char *msg = catena_nn_model_missing_message (CATENA_NN_ISNET_MODEL);

      fprintf (stderr, "%s\n", msg);
      return 77;
    }
  t0 = g_get_monotonic_time ();
  isnet = catena_nn_isnet_load (path, &error);
  if (isnet == NULL)
    {
      fprintf (stderr, "catena-nn-run: %s\n", error->message);
      return 1;
    }
  desc = catena_nn_graph_describe (catena_nn_isnet_get_graph (isnet));
  if (!opt_json)
    printf ("loaded %s in %.0f ms\n%s\n", path, (g_get_monotonic_time () - t0) / 1000.0, desc);
  rgba = load_image (&w, &h, &stride, &error);
  if (rgba == NULL)
    {
      fprintf (stderr, "catena-nn-run: %s\n", error->message);
      return 1;
    }
  alpha = g_malloc ((gsize) w * h);
  for (int r = 0; r <= opt_runs; r++)
    {
      t0 = g_get_monotonic_time ();
      if (!catena_nn_isnet_run (isnet, rgba, w, h, stride, alpha, NULL, &error))
        {
          fprintf (stderr, "catena-nn-run: %s\n", error->message);
          return 1;
        }
      if (r > 0) /* the first run is a warm-up (arena, page faults) */
        {
          double ms = (g_get_monotonic_time () - t0) / 1000.0;
          g_array_append_val (times, ms);
        }
    }
  report ("isnet", times, catena_nn_graph_get_conv_flops (catena_nn_isnet_get_graph (isnet)));
  if (opt_dump_in != NULL)
    {
      /* the tensor catena_nn_isnet_run fed: rebuild it the same way */
      g_autofree guint8 *small = g_malloc (1024 * 1024 * 4);
      g_autofree float *in = g_malloc (sizeof (float) * 3 * 1024 * 1024);

      catena_nn_resize_bilinear_u8 (rgba, w, h, stride, small, 1024, 1024, 1024 * 4, 4);
      for (gsize i = 0; i < 1024 * 1024; i++)
        for (int c = 0; c < 3; c++)
          in[i + c * 1024 * 1024] = (small[i * 4 + c] - 128.f) / 256.f;
      if (!write_file (opt_dump_in, in, sizeof (float) * 3 * 1024 * 1024, &error))
        goto fail;
    }
  if (opt_dump_out != NULL
      && !write_file (opt_dump_out, catena_nn_isnet_get_raw_output (isnet),
                      sizeof (float) * 1024 * 1024, &error))
    goto fail;
  if (opt_alpha != NULL)
    {
      g_autofree char *head = g_strdup_printf ("P5\n%d %d\n255\n", w, h);
      g_autoptr (GByteArray) pgm = g_byte_array_new ();

      g_byte_array_append (pgm, (const guint8 *) head, strlen (head));
      g_byte_array_append (pgm, alpha, (guint) ((gsize) w * h));
      if (!write_file (opt_alpha, pgm->data, pgm->len, &error))
        goto fail;
    }
  return 0;

fail:
  fprintf (stderr, "catena-nn-run: %s\n", error->message);
  return 1;
}

static int
run_model (const char *path)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (CatenaNnGraph) g = NULL;
  g_autoptr (GPtrArray) inputs = g_ptr_array_new_with_free_func (
    (GDestroyNotify) catena_nn_tensor_unref);
  g_autoptr (GArray) times = g_array_new (FALSE, FALSE, sizeof (double));
  g_autofree CatenaNnTensor **outputs = NULL;
  g_autofree char *desc = NULL;
  gint64 t0 = g_get_monotonic_time ();

  g = catena_nn_graph_load_onnx_file (path, NULL, &error);
  if (g == NULL)
    {
      fprintf (stderr, "catena-nn-run: %s\n", error->message);
      return 1;
    }
  desc = catena_nn_graph_describe (g);
  printf ("loaded %s in %.0f ms\n%s\n", path, (g_get_monotonic_time () - t0) / 1000.0, desc);
  for (guint i = 0; i < catena_nn_graph_get_n_inputs (g); i++)
    {
      CatenaNnDType dt;
      const gint64 *dims;
      int ndim;

      catena_nn_graph_get_input (g, i, &dt, &ndim, &dims);
      g_ptr_array_add (inputs, catena_nn_tensor_new (dt, ndim, dims, &error));
      if (g_ptr_array_index (inputs, i) == NULL)
        {
          fprintf (stderr, "catena-nn-run: %s\n", error->message);
          return 1;
        }
    }
  outputs = g_new0 (CatenaNnTensor *, catena_nn_graph_get_n_outputs (g) + 1);
  for (int r = 0; r <= opt_runs; r++)
    {
      t0 = g_get_monotonic_time ();
      if (!run_graph (g, (CatenaNnTensor *const *) inputs->pdata, outputs, &error))
        {
          fprintf (stderr, "catena-nn-run: %s\n", error->message);
          return 1;
        }
      for (guint i = 0; i < catena_nn_graph_get_n_outputs (g); i++)
        g_clear_pointer (&outputs[i], catena_nn_tensor_unref);
      if (r > 0)
        {
          double ms = (g_get_monotonic_time () - t0) / 1000.0;
          g_array_append_val (times, ms);
        }
    }
  report ("model", times, catena_nn_graph_get_conv_flops (g));
  return 0;
}

/* ---- upscaling ---- */

typedef struct
{
  const guint8 *rgba; /* --image, or NULL: synthetic */
  int w, h, stride, scale;
  FILE *out;
  guint8 *band; /* one band of output rows, 8-bit RGB */
  int band_y, band_h;
  double sum;
  gsize n;
} Stream;

static float
synthetic (int x, int y, int c)
{
  /* texture and edges at every scale, cheap and deterministic */
  double v = 0.5 + 0.25 * sin (x * 0.11 + c) * cos (y * 0.07 - c)
             + 0.2 * (((x / 37) + (y / 23)) % 2 ? 1 : -1) * (c == 1 ? 0.5 : 1);
  return (float) CLAMP (v, 0.0, 1.0);
}

static gboolean
stream_read (int x, int y, int w, int h, float *rgba, int stride, gpointer data, GError **error)
{
  Stream *st = data;

  for (int r = 0; r < h; r++)
    for (int i = 0; i < w; i++)
      {
        float *d = rgba + (gsize) r * stride + (gsize) i * 4;

        if (st->rgba != NULL)
          {
            const guint8 *p = st->rgba + (gsize) (y + r) * st->stride + (gsize) (x + i) * 4;

            for (int c = 0; c < 4; c++)
              d[c] = p[c] / 255.f;
          }
        else
          {
            for (int c = 0; c < 3; c++)
              d[c] = synthetic (x + i, y + r, c);
            d[3] = 1.f;
          }
      }
  return TRUE;
}

static gboolean
stream_write (int x, int y, int w, int h, const float *rgba, int stride, gpointer data,
              GError **error)
{
  Stream *st = data;
  int ow = st->w * st->scale;

  for (int r = 0; r < h; r++)
    for (int i = 0; i < w; i++)
      for (int c = 0; c < 3; c++)
        {
          float v = rgba[(gsize) r * stride + (gsize) i * 4 + c];

          st->sum += v;
          st->n++;
          if (st->out != NULL)
            {
              if (st->band == NULL || st->band_y != y)
                {
                  st->band_y = y;
                  st->band_h = h;
                  st->band = g_realloc (st->band, (gsize) ow * h * 3);
                }
              st->band[((gsize) r * ow + x + i) * 3 + c] = (guint8) (v * 255.f + 0.5f);
            }
        }
  if (st->out != NULL && x + w == ow
      && fwrite (st->band, 1, (gsize) ow * h * 3, st->out) != (gsize) ow * h * 3)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "cannot write the output");
      return FALSE;
    }
  return TRUE;
}

static void
stream_progress (double fraction, gpointer data)
{
  if (!opt_json)
    fprintf (stderr, "\r%3.0f %%", fraction * 100);
}

static CatenaNnUpscaler *
load_upscaler (GError **error)
{
  g_autofree char *path = opt_model ? g_strdup (opt_model)
                                    : catena_nn_find_upscaler (CATENA_NN_ESRGAN_MEDIUM, 4);

  if (path == NULL)
    {
      g_autofree char *name = catena_nn_upscaler_model_name (CATENA_NN_ESRGAN_MEDIUM, 4);
      g_autofree char *msg = catena_nn_model_missing_message (name);

      g_set_error_literal (error, CATENA_NN_ERROR, CATENA_NN_ERROR_MODEL_MISSING, msg);
      return NULL;
    }
  return catena_nn_upscaler_load (path, error);
}

static int
fail_with (GError *error)
{
  fprintf (stderr, "catena-nn-run: %s\n", error->message);
  return error->domain == CATENA_NN_ERROR && error->code == CATENA_NN_ERROR_MODEL_MISSING ? 77 : 1;
}

static int
run_upscale (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (CatenaNnUpscaler) up = NULL;
  g_autoptr (GArray) times = g_array_new (FALSE, FALSE, sizeof (double));
  g_autofree guint8 *rgba = NULL;
  Stream st = { 0 };
  int w = 0, h = 0, stride = 0;

  if ((up = load_upscaler (&error)) == NULL)
    return fail_with (error);
  if (opt_size != NULL)
    {
      if (sscanf (opt_size, "%dx%d", &w, &h) != 2)
        {
          fprintf (stderr, "catena-nn-run: --size takes WxH\n");
          return 2;
        }
    }
  else if ((rgba = load_image (&w, &h, &stride, &error)) == NULL)
    return fail_with (error);
  st.rgba = rgba, st.w = w, st.h = h, st.stride = stride;
  st.scale = catena_nn_upscaler_get_scale (up);
  for (int r = 0; r < opt_runs; r++)
    {
      gint64 t0 = g_get_monotonic_time ();
      double ms;

      st.sum = 0, st.n = 0;
      if (opt_out != NULL)
        {
          st.out = fopen (opt_out, "wb");
          if (st.out == NULL)
            {
              fprintf (stderr, "catena-nn-run: cannot write %s\n", opt_out);
              return 1;
            }
          fprintf (st.out, "P6\n%d %d\n255\n", w * st.scale, h * st.scale);
        }
      if (!catena_nn_upscaler_process (up, w, h, opt_tile, opt_overlap, stream_read,
                                       stream_write, stream_progress, &st, NULL, &error))
        return fail_with (error);
      if (st.out != NULL)
        fclose (st.out);
      st.out = NULL;
      ms = (g_get_monotonic_time () - t0) / 1000.0;
      g_array_append_val (times, ms);
      if (!opt_json)
        fprintf (stderr, "\r");
    }
  g_free (st.band);
  if (!opt_json)
    printf ("upscaled %d×%d → %d×%d (×%d, receptive radius %d), mean %.6f\n", w, h,
            w * st.scale, h * st.scale, st.scale, catena_nn_upscaler_get_receptive_radius (up),
            st.sum / MAX (st.n, 1));
  report ("upscale", times, 0);
  return 0;
}

static int
run_upscale_tile (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (CatenaNnUpscaler) up = NULL;
  g_autoptr (GArray) times = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr (CatenaNnTensor) in = NULL, out = NULL;
  g_autofree guint8 *rgba = NULL;
  g_autofree char *desc = NULL;
  CatenaNnGraph *g;
  int t = opt_tile > 0 ? opt_tile : 256, w = 0, h = 0, stride = 0;
  float *px;

  if ((up = load_upscaler (&error)) == NULL)
    return fail_with (error);
  if ((g = catena_nn_upscaler_get_graph (up, t, t, &error)) == NULL)
    return fail_with (error);
  desc = catena_nn_graph_describe (g);
  if (!opt_json)
    printf ("%s\n", desc);
  in = catena_nn_tensor_new (CATENA_NN_DTYPE_FLOAT, 4, (gint64[]) { 1, 3, t, t }, &error);
  if (in == NULL)
    return fail_with (error);
  if (opt_image != NULL && opt_input != NULL)
    {
      fprintf (stderr, "catena-nn-run: --image and --input exclude each other\n");
      return 2;
    }
  if (opt_image != NULL && (rgba = load_image (&w, &h, &stride, &error)) == NULL)
    return fail_with (error);
  px = in->data;
  if (opt_input != NULL)
    {
      g_autofree char *raw = NULL;
      gsize len = 0;

      if (!g_file_get_contents (opt_input, &raw, &len, &error))
        return fail_with (error);
      if (len != in->nbytes)
        {
          fprintf (stderr, "catena-nn-run: %s has %" G_GSIZE_FORMAT " bytes, not the %"
                   G_GSIZE_FORMAT " of a 1×3×%d×%d float32 tensor\n", opt_input, len,
                   (gsize) in->nbytes, t, t);
          return 1;
        }
      memcpy (px, raw, len);
    }
  else
    {
      /* a photo's centre crop (edge pixels repeated if it is smaller than the tile) */
      for (int y = 0; y < t; y++)
        for (int x = 0; x < t; x++)
          for (int c = 0; c < 3; c++)
            {
              int sy = CLAMP (y + (h - t) / 2, 0, h - 1);
              int sx = CLAMP (x + (w - t) / 2, 0, w - 1);

              px[((gsize) c * t + y) * t + x] =
                rgba != NULL ? rgba[(gsize) sy * stride + (gsize) sx * 4 + c]
                             : roundf (synthetic (x, y, c) * 255.f);
            }
    }
  for (int r = 0; r <= opt_runs; r++)
    {
      gint64 t0 = g_get_monotonic_time ();

      g_clear_pointer (&out, catena_nn_tensor_unref);
      if (!run_graph (g, &in, &out, &error))
        return fail_with (error);
      if (r > 0)
        {
          double ms = (g_get_monotonic_time () - t0) / 1000.0;
          g_array_append_val (times, ms);
        }
    }
  report ("upscale-tile", times, catena_nn_graph_get_conv_flops (g));
  if ((opt_dump_in != NULL && !write_file (opt_dump_in, in->data, in->nbytes, &error))
      || (opt_dump_out != NULL && !write_file (opt_dump_out, out->data, out->nbytes, &error)))
    return fail_with (error);
  return 0;
}

int
main (int argc, char **argv)
{
  g_autoptr (GOptionContext) ctx = g_option_context_new ("isnet | model PATH.onnx");
  g_autoptr (GError) error = NULL;

  setlocale (LC_ALL, "");
  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!g_option_context_parse (ctx, &argc, &argv, &error))
    {
      fprintf (stderr, "catena-nn-run: %s\n", error->message);
      return 2;
    }
  opt_runs = MAX (opt_runs, 1);
  if (opt_threads > 0)
    catena_nn_set_n_threads (opt_threads);
  if (opt_device != NULL && strcmp (opt_device, "cpu") != 0 && strcmp (opt_device, "cuda") != 0)
    {
      fprintf (stderr, "catena-nn-run: --device is cpu or cuda\n");
      return 2;
    }
  if (g_strcmp0 (opt_device, "cuda") == 0)
    {
      g_autofree char *name = NULL;

      if (!catena_nn_cuda_available (&name))
        {
          fprintf (stderr, "catena-nn-run: no CUDA device (or a build without CUDA)\n");
          return 1;
        }
      fprintf (stderr, "catena-nn-run: CUDA device %s\n", name);
    }
  if (argc >= 2 && strcmp (argv[1], "isnet") == 0)
    return run_isnet ();
  if (argc >= 3 && strcmp (argv[1], "model") == 0)
    return run_model (argv[2]);
  if (argc >= 2 && strcmp (argv[1], "upscale") == 0)
    return run_upscale ();
  if (argc >= 2 && strcmp (argv[1], "upscale-tile") == 0)
    return run_upscale_tile ();
  fprintf (stderr, "usage: catena-nn-run isnet | model PATH.onnx | upscale | upscale-tile "
           "[options]\n");
  return 2;
}
