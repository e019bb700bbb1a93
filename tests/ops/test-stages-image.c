/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The recolor, remove-background and composite stages: metadata, parameters, processing
 * through catena_stage_process(), preview graphs, errors and cancellation. */
#include "config.h"

#include <math.h>

#include "catena-engine.h"
#include "catena-nn-private.h" /* nn_device_set_test_executor: a stand-in GPU */
#include "catena-ops.h"
#include "catena-stages-image.h"

#define FMT "R'G'B'A float"

static GeglBuffer *
make_buffer (int          width,
             int          height,
             const Babl  *format,
             void       (*paint) (int x, int y, float p[4]))
{
  GeglRectangle rect = { 0, 0, width, height };
  g_autofree float *px = g_new (float, (gsize) width * height * 4);
  GeglBuffer *buffer = gegl_buffer_new (&rect, format);

  for (int y = 0; y < height; y++)
    for (int x = 0; x < width; x++)
      paint (x, y, px + ((gsize) y * width + x) * 4);
  gegl_buffer_set (buffer, &rect, 0, babl_format (FMT), px, GEGL_AUTO_ROWSTRIDE);
  return buffer;
}

static float *
pixels_of (GeglBuffer *buffer)
{
  const GeglRectangle *r = gegl_buffer_get_extent (buffer);
  float *px = g_new (float, (gsize) r->width * r->height * 4);

  gegl_buffer_get (buffer, r, 1.0, babl_format (FMT), px, GEGL_AUTO_ROWSTRIDE,
                   GEGL_ABYSS_NONE);
  return px;
}

/* A red box on a light grey studio backdrop. */
static void
paint_product (int   x,
               int   y,
               float p[4])
{
  gboolean product = x >= 30 && x < 90 && y >= 20 && y < 100;

  p[0] = product ? 0.8f : 0.9f;
  p[1] = product ? 0.1f : 0.9f;
  p[2] = product ? 0.12f : 0.9f;
  p[3] = 1;
}

static double
hue_at (const float *px,
        int          width,
        int          x,
        int          y)
{
  const float *p = px + ((gsize) y * width + x) * 4;

  return catena_rgb_to_hue ((double[3]) { p[0], p[1], p[2] });
}

typedef struct
{
  double last;
  int    calls;
} Progress;

static void
on_progress (double   fraction,
             gpointer data)
{
  Progress *progress = data;

  g_assert_cmpfloat (fraction, >=, progress->last - 1e-9);
  progress->last = fraction;
  progress->calls++;
}

static void
count_notify (GObject    *object,
              GParamSpec *pspec,
              gpointer    data)
{
  (*(int *) data)++;
}

/* ---- metadata and parameters ---------------------------------------------------------- */

static void
test_metadata (void)
{
  static const struct
  {
    const char *kind;
    const char *params[8];
  } expected[] = {
    { "recolor", { "exposure", "contrast", "temperature", "tint", "saturation", "hue",
                   "brand-color", "brand-strength" } },
    { "remove-background", { "method", "tolerance", "softness" } },
    { "composite", { "backdrop", "color", "color2", "fill", "aspect", "shadow-strength",
                     "shadow-blur" } },
  };

  for (guint i = 0; i < G_N_ELEMENTS (expected); i++)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (CatenaStage) stage = catena_stage_new (expected[i].kind, &error);
      g_autofree GParamSpec **params = NULL;
      guint n_params;

      g_assert_no_error (error);
      g_assert_cmpstr (catena_stage_get_kind (stage), ==, expected[i].kind);
      g_assert_nonnull (catena_stage_get_title (stage));
      g_assert_nonnull (catena_stage_get_description (stage));
      g_assert_true (g_str_has_suffix (catena_stage_get_icon_name (stage), "-symbolic"));
      g_assert_true (catena_stage_needs_input (stage));
      g_assert_cmpint (catena_stage_supports_preview (stage), ==,
                       g_str_equal (expected[i].kind, "recolor"));

      params = catena_stage_list_params (stage, &n_params);
      for (guint p = 0; p < G_N_ELEMENTS (expected[i].params) && expected[i].params[p]; p++)
        {
          g_assert_cmpuint (p, <, n_params);
          g_assert_cmpstr (params[p]->name, ==, expected[i].params[p]);
        }
      for (guint p = 0; p < n_params; p++)
        {
          g_assert_true (params[p]->flags & G_PARAM_EXPLICIT_NOTIFY);
          g_assert_nonnull (g_param_spec_get_nick (params[p]));
          g_assert_nonnull (g_param_spec_get_blurb (params[p]));
          g_assert_cmpstr (g_param_spec_get_nick (params[p]), !=, params[p]->name);
        }
    }
}

static void
test_notify_only_on_change (void)
{
  g_autoptr (CatenaStage) recolor = catena_stage_new ("recolor", NULL);
  g_autoptr (CatenaStage) composite = catena_stage_new ("composite", NULL);
  int n = 0;

  g_signal_connect (recolor, "notify", G_CALLBACK (count_notify), &n);
  g_signal_connect (composite, "notify", G_CALLBACK (count_notify), &n);
  g_object_set (recolor, "exposure", 0.0, "brand-color", "#0057b8", NULL);
  g_object_set (composite, "color", "#ffffff", "fill", 80.0, NULL);
  g_assert_cmpint (n, ==, 0);
  g_object_set (recolor, "exposure", 1.0, "brand-color", "#ff0000", NULL);
  g_object_set (composite, "color", "#000000", "backdrop", CATENA_BACKDROP_GRADIENT, NULL);
  g_assert_cmpint (n, ==, 4);
}

static void
test_json_roundtrip (void)
{
  g_autoptr (CatenaStage) stage = catena_stage_new ("recolor", NULL);
  g_autoptr (CatenaStage) copy = NULL;
  g_autoptr (JsonNode) json = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *a = NULL;
  g_autofree char *b = NULL;

  g_assert_true (catena_stage_set_param_from_string (stage, "brand-color", "#c8102e", &error));
  g_assert_true (catena_stage_set_param_from_string (stage, "saturation", "12.5", &error));
  g_assert_no_error (error);
  json = catena_stage_to_json (stage);
  copy = catena_stage_new_from_json (json, &error);
  g_assert_no_error (error);
  a = catena_stage_canonical_params (stage);
  b = catena_stage_canonical_params (copy);
  g_assert_cmpstr (a, ==, b);
}

/* ---- recolor --------------------------------------------------------------------------- */

static void
test_recolor_process (void)
{
  /* 8-bit input: the stage must convert to the working format */
  g_autoptr (GeglBuffer) in = make_buffer (120, 120, babl_format ("R'G'B'A u8"), paint_product);
  g_autoptr (CatenaStage) stage = catena_stage_new ("recolor", NULL);
  g_autoptr (GeglBuffer) out = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree float *px = NULL;
  g_autofree float *src = NULL;
  Progress progress = { 0 };
  CatenaStageContext ctx = { .progress = on_progress, .progress_data = &progress };

  g_object_set (stage, "brand-color", "#1a4fd6", "brand-strength", 1.0, NULL);
  out = catena_stage_process (stage, &ctx, in, &error);
  g_assert_no_error (error);
  g_assert_true (gegl_buffer_get_format (out) == babl_format (FMT));
  g_assert_true (gegl_rectangle_equal (gegl_buffer_get_extent (out),
                                       gegl_buffer_get_extent (in)));
  g_assert_cmpint (progress.calls, >, 0);
  g_assert_cmpfloat (progress.last, ==, 1.0);

  px = pixels_of (out);
  src = pixels_of (in);
  /* the product takes the brand's hue, the backdrop stays */
  g_assert_cmpfloat (fabs (remainder (hue_at (px, 120, 60, 60)
                                      - catena_rgb_to_hue ((double[3]) { 0x1a / 255.0,
                                                                         0x4f / 255.0,
                                                                         0xd6 / 255.0 }),
                                      360)), <, 2);
  for (int c = 0; c < 4; c++)
    g_assert_cmpfloat_with_epsilon (px[c], src[c], 1e-6);
}

static void
test_recolor_preview_matches_process (void)
{
  g_autoptr (GeglBuffer) in = make_buffer (120, 120, babl_format (FMT), paint_product);
  g_autoptr (CatenaStage) stage = catena_stage_new ("recolor", NULL);
  g_autoptr (GeglBuffer) out = NULL;
  g_autoptr (GeglNode) graph = gegl_node_new ();
  g_autoptr (GError) error = NULL;
  g_autofree float *processed = NULL;
  g_autofree float *previewed = g_new (float, 120 * 120 * 4);
  GeglNode *source, *node;

  g_object_set (stage, "exposure", 0.5, "saturation", 20.0, "brand-color", "#1a4fd6",
                "brand-strength", 0.7, NULL);
  out = catena_stage_process (stage, NULL, in, &error);
  g_assert_no_error (error);
  processed = pixels_of (out);

  source = gegl_node_new_child (graph, "operation", "gegl:buffer-source", "buffer", in, NULL);
  node = catena_stage_build_preview (stage, graph, source);
  g_assert_nonnull (node);
  gegl_node_blit (node, 1.0, GEGL_RECTANGLE (0, 0, 120, 120), babl_format (FMT), previewed,
                  GEGL_AUTO_ROWSTRIDE, GEGL_BLIT_DEFAULT);
  for (int i = 0; i < 120 * 120 * 4; i++)
    g_assert_cmpfloat_with_epsilon (previewed[i], processed[i], 1e-3);

  /* a slider move updates the node in place */
  g_object_set (stage, "exposure", 0.0, "saturation", 0.0, "brand-strength", 0.0, NULL);
  catena_stage_recolor_update_node (CATENA_STAGE_RECOLOR (stage), node);
  gegl_node_blit (node, 1.0, GEGL_RECTANGLE (0, 0, 120, 120), babl_format (FMT), previewed,
                  GEGL_AUTO_ROWSTRIDE, GEGL_BLIT_DEFAULT);
  g_free (processed);
  processed = pixels_of (in);
  for (int i = 0; i < 120 * 120 * 4; i++)
    g_assert_cmpfloat_with_epsilon (previewed[i], processed[i], 1e-5);
}

static void
test_recolor_errors (void)
{
  g_autoptr (CatenaStage) stage = catena_stage_new ("recolor", NULL);
  g_autoptr (GeglBuffer) in = make_buffer (16, 16, babl_format (FMT), paint_product);
  g_autoptr (GeglBuffer) empty = gegl_buffer_new (GEGL_RECTANGLE (0, 0, 0, 0),
                                                  babl_format (FMT));
  g_autoptr (GCancellable) cancellable = g_cancellable_new ();
  g_autoptr (GError) error = NULL;
  CatenaStageContext ctx = { .cancellable = cancellable };

  g_assert_null (catena_stage_process (stage, NULL, NULL, &error));
  g_assert_error (error, CATENA_STAGE_ERROR, CATENA_STAGE_ERROR_MISSING_INPUT);
  g_clear_error (&error);
  g_assert_null (catena_stage_process (stage, NULL, empty, &error));
  g_assert_error (error, CATENA_STAGE_ERROR, CATENA_STAGE_ERROR_INVALID_IMAGE);
  g_clear_error (&error);

  g_object_set (stage, "brand-color", "blue", "brand-strength", 1.0, NULL);
  g_assert_null (catena_stage_process (stage, NULL, in, &error));
  g_assert_error (error, CATENA_STAGE_ERROR, CATENA_STAGE_ERROR_INVALID_PARAMETER);
  g_clear_error (&error);

  g_object_set (stage, "brand-color", "#00ff00", NULL);
  g_cancellable_cancel (cancellable);
  g_assert_null (catena_stage_process (stage, &ctx, in, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
}

/* ---- remove background ---------------------------------------------------------------- */

static void
test_remove_background (void)
{
  g_autoptr (GeglBuffer) in = make_buffer (120, 120, babl_format ("R'G'B' u8"), paint_product);
  g_autoptr (CatenaStage) stage = catena_stage_new ("remove-background", NULL);
  g_autoptr (GeglBuffer) out = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree float *px = NULL;
  Progress progress = { 0 };
  CatenaStageContext ctx = { .progress = on_progress, .progress_data = &progress };

  /* The classical engine explicitly: automatic picks the network when its weights exist. */
  g_object_set (stage, "softness", 0.0, "method", CATENA_REMOVE_BACKGROUND_CLASSICAL, NULL);
  out = catena_stage_process (stage, &ctx, in, &error);
  g_assert_no_error (error);
  g_assert_true (gegl_buffer_get_format (out) == babl_format (FMT));
  g_assert_cmpfloat (progress.last, ==, 1.0);
  px = pixels_of (out);
  for (int y = 0; y < 120; y++)
    for (int x = 0; x < 120; x++)
      {
        gboolean product = x >= 30 && x < 90 && y >= 20 && y < 100;

        g_assert_cmpfloat (fabs (px[(y * 120 + x) * 4 + 3] - (product ? 1.0 : 0.0)), <, 0.01);
      }
}

static void
test_remove_background_methods (void)
{
  g_autoptr (GeglBuffer) in = make_buffer (64, 64, babl_format (FMT), paint_product);
  g_autoptr (CatenaStage) stage = catena_stage_new ("remove-background", NULL);
  g_autoptr (GCancellable) cancellable = g_cancellable_new ();
  g_autoptr (GeglBuffer) out = NULL;
  g_autoptr (GError) error = NULL;
  CatenaStageContext ctx = { .cancellable = cancellable };
  CatenaRemoveBackgroundMethod method;

  g_object_get (stage, "method", &method, NULL);
  g_assert_cmpint (method, ==, CATENA_REMOVE_BACKGROUND_AUTO);

  /* Neural without weights is covered by test-stages-no-models (tests/meson.build). */

  g_object_set (stage, "method", CATENA_REMOVE_BACKGROUND_CLASSICAL, NULL);
  out = catena_stage_process (stage, NULL, in, &error);
  g_assert_no_error (error);
  g_assert_nonnull (out);

  g_cancellable_cancel (cancellable);
  g_assert_null (catena_stage_process (stage, &ctx, in, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
}

/* ---- composite ------------------------------------------------------------------------ */

static void
paint_cutout (int   x,
              int   y,
              float p[4])
{
  gboolean product = x >= 10 && x < 50 && y >= 10 && y < 90;

  p[0] = 0.2f;
  p[1] = 0.8f;
  p[2] = 0.3f;
  p[3] = product ? 1 : 0;
}

static void
test_composite (void)
{
  g_autoptr (GeglBuffer) in = make_buffer (200, 100, babl_format (FMT), paint_cutout);
  g_autoptr (CatenaStage) stage = catena_stage_new ("composite", NULL);
  g_autoptr (GeglBuffer) out = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree float *px = NULL;
  int top = -1, bottom = -1;

  g_assert_true (catena_stage_set_param_from_string (stage, "color", "#336699", &error));
  g_assert_true (catena_stage_set_param_from_string (stage, "fill", "60", &error));
  g_assert_true (catena_stage_set_param_from_string (stage, "aspect", "1", &error));
  g_assert_no_error (error);
  out = catena_stage_process (stage, NULL, in, &error);
  g_assert_no_error (error);
  g_assert_cmpint (gegl_buffer_get_extent (out)->width, ==, 200);
  g_assert_cmpint (gegl_buffer_get_extent (out)->height, ==, 200);
  px = pixels_of (out);
  g_assert_cmpfloat_with_epsilon (px[0], 0x33 / 255.0, 1e-3);
  g_assert_cmpfloat_with_epsilon (px[1], 0x66 / 255.0, 1e-3);
  g_assert_cmpfloat_with_epsilon (px[2], 0x99 / 255.0, 1e-3);

  /* the product (80 tall, height-limited) spans 60 % of 200 */
  for (int y = 0; y < 200; y++)
    {
      const float *p = px + (y * 200 + 100) * 4;

      if (p[1] > 0.6f && p[0] < 0.4f)
        {
          if (top < 0)
            top = y;
          bottom = y;
        }
    }
  g_assert_cmpfloat (fabs ((bottom - top + 1) / 200.0 - 0.6), <=, 0.02);
}

static void
test_composite_errors (void)
{
  g_autoptr (GeglBuffer) in = make_buffer (50, 50, babl_format (FMT), paint_cutout);
  g_autoptr (CatenaStage) stage = catena_stage_new ("composite", NULL);
  g_autoptr (GError) error = NULL;

  g_assert_false (catena_stage_set_param_from_string (stage, "color", "not a colour", &error));
  g_assert_error (error, CATENA_STAGE_ERROR, CATENA_STAGE_ERROR_INVALID_PARAMETER);
  g_clear_error (&error);

  g_object_set (stage, "color2", "#12", NULL);
  g_assert_null (catena_stage_process (stage, NULL, in, &error));
  g_assert_error (error, CATENA_STAGE_ERROR, CATENA_STAGE_ERROR_INVALID_PARAMETER);
}

static gboolean
unused_gpu (CatenaNnGraph *graph, CatenaNnTensor *const *inputs, CatenaNnTensor **outputs,
            GCancellable *cancellable, GError **error)
{
  g_assert_not_reached ();
}

static char *
key_of (CatenaStage *stage)
{
  g_autoptr (CatenaAsset) asset = catena_asset_new ("a");
  CatenaStageContext ctx = { .asset = asset };
  g_autoptr (GError) error = NULL;
  char *key = catena_stage_compute_key (stage, &ctx, "0123456789abcdef", &error);

  g_assert_no_error (error);
  return key;
}

/* Local models at a GPU precision below float32 give other pixels: their results must not
 * share cache entries with float32 ones (CPU or GPU, which agree to 1e-5). */
static void
test_keys_follow_gpu_precision (void)
{
  const char *kinds[] = { "remove-background", "upscale" };

  for (guint k = 0; k < G_N_ELEMENTS (kinds); k++)
    {
      g_autoptr (CatenaStage) stage = catena_stage_new (kinds[k], NULL);
      g_autofree char *cpu = NULL, *gpu32 = NULL, *gpu16 = NULL, *cpu16 = NULL, *tf = NULL;

      g_assert_true (catena_stage_set_param_from_string (stage, "method", "neural", NULL));
      catena_nn_set_device (CATENA_NN_DEVICE_CPU);
      catena_nn_set_gpu_precision (CATENA_NN_PRECISION_FP32);
      cpu = key_of (stage);

      nn_device_set_test_executor (unused_gpu, "Stand-in GPU");
      catena_nn_set_device (CATENA_NN_DEVICE_AUTO);
      g_assert_null (catena_nn_numerics_tag ());
      gpu32 = key_of (stage);
      g_assert_cmpstr (gpu32, ==, cpu);

      catena_nn_set_gpu_precision (CATENA_NN_PRECISION_FP16);
      g_assert_cmpstr (catena_nn_numerics_tag (), ==, "fp16");
      gpu16 = key_of (stage);
      g_assert_cmpstr (gpu16, !=, cpu);
      catena_nn_set_gpu_precision (CATENA_NN_PRECISION_TF32);
      tf = key_of (stage);
      g_assert_cmpstr (tf, !=, cpu);
      g_assert_cmpstr (tf, !=, gpu16);

      /* the precision is the GPU's: on the CPU it changes nothing */
      catena_nn_set_device (CATENA_NN_DEVICE_CPU);
      catena_nn_set_gpu_precision (CATENA_NN_PRECISION_FP16);
      g_assert_null (catena_nn_numerics_tag ());
      cpu16 = key_of (stage);
      g_assert_cmpstr (cpu16, ==, cpu);

      nn_device_set_test_executor (NULL, NULL);
      catena_nn_set_device (CATENA_NN_DEVICE_AUTO);
      catena_nn_set_gpu_precision (CATENA_NN_PRECISION_FP32);
    }
}

int
main (int    argc,
      char **argv)
{
  int ret;

  g_test_init (&argc, &argv, NULL);
  catena_engine_init ();
  catena_ops_register ();
  /* registered by catena_engine_init(); registering again is a no-op */
  catena_stage_register_type (CATENA_TYPE_STAGE_RECOLOR);
  catena_stage_register_type (CATENA_TYPE_STAGE_REMOVE_BACKGROUND);
  catena_stage_register_type (CATENA_TYPE_STAGE_COMPOSITE);

  g_test_add_func ("/stages-image/metadata", test_metadata);
  g_test_add_func ("/stages-image/notify", test_notify_only_on_change);
  g_test_add_func ("/stages-image/json", test_json_roundtrip);
  g_test_add_func ("/stages-image/recolor/process", test_recolor_process);
  g_test_add_func ("/stages-image/recolor/preview", test_recolor_preview_matches_process);
  g_test_add_func ("/stages-image/recolor/errors", test_recolor_errors);
  g_test_add_func ("/stages-image/remove-background/process", test_remove_background);
  g_test_add_func ("/stages-image/remove-background/methods", test_remove_background_methods);
  g_test_add_func ("/stages-image/composite/process", test_composite);
  g_test_add_func ("/stages-image/composite/errors", test_composite_errors);
  g_test_add_func ("/stages-image/keys-follow-gpu-precision", test_keys_follow_gpu_precision);

  ret = g_test_run ();
  catena_engine_shutdown ();
  return ret;
}
