/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <glib/gstdio.h>
#include <string.h>

#include "catena-image-io.h"
#include "catena-nn.h"
#include "catena-test-util.h"

/* Reference checks for the stages in engine/stages (import, upscale, export). Tolerances are
 * stated next to each comparison. */

static void
fill_pattern (int x, int y, float px[4])
{
  /* Smooth, so lossy codecs (4:2:0 chroma) are judged on their quality, not on aliasing. */
  px[0] = 0.5f + 0.4f * sinf (x / 9.0f);
  px[1] = 0.5f + 0.4f * cosf (y / 7.0f);
  px[2] = 0.5f + 0.3f * sinf ((x + y) / 13.0f);
  px[3] = 1.0f;
}

static GeglBuffer *
run_stage (const char *kind,
           CatenaAsset *asset,
           GeglBuffer *input,
           const char *settings,
           GError **error)
{
  g_autoptr (CatenaStage) stage = catena_stage_new (kind, NULL);
  CatenaStageContext ctx = { .asset = asset };

  if (settings)
    {
      g_auto (GStrv) parts = g_strsplit (settings, ",", -1);
      for (guint i = 0; parts[i]; i++)
        {
          g_auto (GStrv) kv = g_strsplit (parts[i], "=", 2);
          g_assert_true (catena_stage_set_param_from_string (stage, kv[0], kv[1], NULL));
        }
    }
  return catena_stage_process (stage, &ctx, input, error);
}

static GeglBuffer *
import_file (const char *path, GError **error)
{
  g_autoptr (CatenaAsset) asset = catena_asset_new ("a");
  catena_asset_set_source (asset, path);
  return run_stage ("import", asset, NULL, NULL, error);
}

static double
mean_abs_diff (GeglBuffer *a, GeglBuffer *b, int channels)
{
  const GeglRectangle *r = gegl_buffer_get_extent (a);
  g_autofree float *pa = test_read_pixels (a, NULL);
  g_autofree float *pb = test_read_pixels (b, NULL);
  double sum = 0;
  gsize n = (gsize) r->width * r->height;

  g_assert_cmpint (r->width, ==, gegl_buffer_get_extent (b)->width);
  g_assert_cmpint (r->height, ==, gegl_buffer_get_extent (b)->height);
  for (gsize i = 0; i < n; i++)
    for (int c = 0; c < channels; c++)
      sum += fabs (pa[i * 4 + c] - pb[i * 4 + c]);
  return sum / (n * channels);
}

static void
test_import_formats (void)
{
  g_autofree char *dir = test_mkdtemp ();
  g_autoptr (GeglBuffer) src = test_make_buffer (128, 96, fill_pattern);
  struct
  {
    CatenaExportFormat format;
    double tolerance; /* mean absolute difference, in 0…1 units */
  } cases[] = {
    { CATENA_EXPORT_FORMAT_PNG, 0.5 / 255 },  /* lossless: only 8-bit rounding */
    { CATENA_EXPORT_FORMAT_TIFF, 0.5 / 255 }, /* lossless */
    { CATENA_EXPORT_FORMAT_WEBP, 4.0 / 255 }, /* lossy at quality 95 */
    { CATENA_EXPORT_FORMAT_JPEG, 4.0 / 255 }, /* lossy at quality 95 */
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *name = g_strdup_printf ("img.%s", catena_export_format_get_extension (cases[i].format));
      g_autofree char *path = g_build_filename (dir, name, NULL);
      g_autoptr (GeglBuffer) back = NULL;
      GError *error = NULL;
      double d;

      g_assert_true (catena_image_save (src, path, cases[i].format, 95, &error));
      g_assert_no_error (error);
      back = import_file (path, &error);
      g_assert_no_error (error);
      g_assert_cmpstr (babl_get_name (gegl_buffer_get_format (back)), ==, CATENA_WORK_FORMAT);
      d = mean_abs_diff (src, back, 3);
      g_test_message ("%s: mean abs diff %.5f", name, d);
      g_assert_cmpfloat (d, <=, cases[i].tolerance);
    }
  test_rm_rf (dir);
}

static void
test_import_real_photo (void)
{
  g_autofree char *path = test_source_path ("data/demo/coffee.png");
  g_autoptr (GeglBuffer) buffer = NULL;
  g_autofree float *px = NULL;
  GError *error = NULL;
  double mean = 0;

  buffer = import_file (path, &error);
  g_assert_no_error (error);
  g_assert_cmpint (gegl_buffer_get_extent (buffer)->width, ==, 600);
  g_assert_cmpint (gegl_buffer_get_extent (buffer)->height, ==, 400);
  px = test_read_pixels (buffer, NULL);
  for (gsize i = 0; i < 600 * 400; i++)
    {
      g_assert_cmpfloat (px[i * 4 + 3], ==, 1.0f);
      mean += px[i * 4];
    }
  mean /= 600 * 400;
  /* A real photo: neither black nor blown out. */
  g_assert_cmpfloat (mean, >, 0.2);
  g_assert_cmpfloat (mean, <, 0.9);
}

static void
expect_import_error (const char *path, int code, const char *fragment)
{
  GError *error = NULL;
  g_autoptr (GeglBuffer) buffer = import_file (path, &error);

  g_assert_null (buffer);
  g_assert_error (error, CATENA_STAGE_ERROR, code);
  g_test_message ("%s → %s", path, error->message);
  if (fragment)
    g_assert_nonnull (strstr (error->message, fragment));
  g_clear_error (&error);
}

static void
put_be32 (guchar *p, guint32 v)
{
  p[0] = v >> 24, p[1] = v >> 16, p[2] = v >> 8, p[3] = v;
}

static void
test_import_bad_input (void)
{
  g_autofree char *truncated = test_skimage_path ("truncated.jpg");
  g_autofree char *dir = test_mkdtemp ();
  g_autofree char *garbage = g_build_filename (dir, "garbage.png", NULL);
  g_autofree char *bomb = g_build_filename (dir, "bomb.png", NULL);
  g_autofree char *cut = g_build_filename (dir, "cut.png", NULL);
  g_autofree char *coffee = test_source_path ("data/demo/coffee.png");
  g_autofree char *data = NULL;
  gsize len;
  guchar png[8 + 25 + 12];

  if (g_file_test (truncated, G_FILE_TEST_EXISTS))
    expect_import_error (truncated, CATENA_STAGE_ERROR_INVALID_IMAGE, "cut short");
  else
    g_test_message ("skimage's truncated.jpg is not installed (apt-get install python3-skimage)");

  g_assert_true (g_file_set_contents (garbage, "this is not an image at all", -1, NULL));
  expect_import_error (garbage, CATENA_STAGE_ERROR_INVALID_IMAGE, "not a PNG");

  /* A PNG that claims 50000 × 50000: refused from the header, before any allocation. */
  memcpy (png, "\x89PNG\r\n\x1a\n", 8);
  put_be32 (png + 8, 13);
  memcpy (png + 12, "IHDR", 4);
  put_be32 (png + 16, 50000);
  put_be32 (png + 20, 50000);
  memcpy (png + 24, "\x08\x02\x00\x00\x00", 5);
  put_be32 (png + 29, 0);
  put_be32 (png + 33, 0);
  memcpy (png + 37, "IEND", 4);
  put_be32 (png + 41, 0);
  g_assert_true (g_file_set_contents (bomb, (char *) png, sizeof png, NULL));
  expect_import_error (bomb, CATENA_STAGE_ERROR_TOO_LARGE, "larger than Catena accepts");

  /* The demo photo cut in half. */
  g_assert_true (g_file_get_contents (coffee, &data, &len, NULL));
  g_assert_true (g_file_set_contents (cut, data, len / 2, NULL));
  expect_import_error (cut, CATENA_STAGE_ERROR_INVALID_IMAGE, "cut short");

  {
    g_autofree char *missing = g_build_filename (dir, "missing.jpg", NULL);
    expect_import_error (missing, CATENA_STAGE_ERROR_MISSING_INPUT, NULL);
  }
  test_rm_rf (dir);
}

static void
fill_gradient (int x, int y, float px[4])
{
  px[0] = x / 64.0f;
  px[1] = y / 48.0f;
  px[2] = 0.5f;
  px[3] = 1.0f;
}

static void
test_upscale_reference (void)
{
  const char *samplers[] = { "linear", "cubic", "lohalo", "nohalo" };
  g_autoptr (GeglBuffer) src = test_make_buffer (64, 48, fill_gradient);

  for (guint s = 0; s < G_N_ELEMENTS (samplers); s++)
    {
      g_autofree char *settings = g_strdup_printf ("factor=2,method=classic,sampler=%s", samplers[s]);
      g_autoptr (GeglBuffer) out = NULL;
      g_autofree float *px = NULL;
      GError *error = NULL;
      double max_err = 0;

      out = run_stage ("upscale", NULL, src, settings, &error);
      g_assert_no_error (error);
      g_assert_cmpint (gegl_buffer_get_extent (out)->width, ==, 128);
      g_assert_cmpint (gegl_buffer_get_extent (out)->height, ==, 96);
      px = test_read_pixels (out, NULL);
      /* Every sampler reproduces a linear ramp exactly away from the borders: output pixel X
       * samples input coordinate (X + 0.5) / 2, whose value is ((X + 0.5) / 2 - 0.5) / 64. */
      for (int y = 8; y < 96 - 8; y++)
        for (int x = 8; x < 128 - 8; x++)
          {
            float *p = px + ((gsize) y * 128 + x) * 4;
            double er = fabs (p[0] - ((x + 0.5) / 2 - 0.5) / 64.0);
            double eg = fabs (p[1] - ((y + 0.5) / 2 - 0.5) / 48.0);
            max_err = MAX (max_err, MAX (er, eg));
            g_assert_cmpfloat (fabs (p[3] - 1.0), <, 1e-4);
          }
      g_test_message ("%s: max error %.6f", samplers[s], max_err);
      g_assert_cmpfloat (max_err, <, 2e-3); /* tolerance: 0.5 of an 8-bit step */
    }
}

static void
test_upscale_too_large (void)
{
  g_autoptr (GeglBuffer) src = gegl_buffer_new (GEGL_RECTANGLE (0, 0, 8000, 6000),
                                                babl_format (CATENA_WORK_FORMAT));
  GError *error = NULL;
  g_autoptr (GeglBuffer) out = run_stage ("upscale", NULL, src, "factor=8", &error);

  g_assert_null (out);
  g_assert_error (error, CATENA_STAGE_ERROR, CATENA_STAGE_ERROR_TOO_LARGE);
  g_clear_error (&error);
}

static void
fill_transparent_red (int x, int y, float px[4])
{
  px[0] = 1, px[1] = 0, px[2] = 0;
  px[3] = (x < 10) ? 1.0f : 0.0f; /* a red strip on the left, transparent elsewhere */
}

static gboolean
file_contains (const char *path, const char *needle, gsize needle_len)
{
  g_autofree char *data = NULL;
  gsize len;

  g_assert_true (g_file_get_contents (path, &data, &len, NULL));
  return memmem (data, len, needle, needle_len) != NULL;
}

static void
test_export (void)
{
  g_autofree char *dir = test_mkdtemp ();
  g_autoptr (GeglBuffer) src = test_make_buffer (300, 200, fill_transparent_red);
  g_autoptr (CatenaAsset) asset = catena_asset_new ("sku-42");
  struct
  {
    CatenaAssetKind klass;
    const char *settings;
    int w, h;
  } sizes[] = {
    { CATENA_ASSET_CLASS_FEED, NULL, 1080, 720 },
    { CATENA_ASSET_CLASS_THUMBNAIL, NULL, 512, 341 },
    { CATENA_ASSET_CLASS_HERO, NULL, 3840, 2560 },
    { CATENA_ASSET_CLASS_FEED, "long-edge=100", 100, 67 },
  };

  for (guint i = 0; i < G_N_ELEMENTS (sizes); i++)
    {
      g_autoptr (GeglBuffer) out = NULL;
      GError *error = NULL;

      catena_asset_set_asset_class (asset, sizes[i].klass);
      out = run_stage ("export", asset, src, sizes[i].settings, &error);
      g_assert_no_error (error);
      g_assert_cmpint (gegl_buffer_get_extent (out)->width, ==, sizes[i].w);
      g_assert_cmpint (gegl_buffer_get_extent (out)->height, ==, sizes[i].h);
    }

  /* JPEG: transparent areas become the matte colour; the file is written atomically, sRGB. */
  {
    g_autoptr (CatenaStage) stage = catena_stage_new ("export", NULL);
    g_autoptr (GeglBuffer) out = NULL;
    g_autoptr (GeglBuffer) back = NULL;
    g_autofree char *path = NULL;
    g_autofree float *px = NULL;
    CatenaStageContext ctx = { .asset = asset };
    GError *error = NULL;

    catena_asset_set_asset_class (asset, CATENA_ASSET_CLASS_THUMBNAIL);
    g_assert_true (catena_stage_set_param_from_string (stage, "format", "jpeg", NULL));
    g_assert_true (catena_stage_set_param_from_string (stage, "matte", "#336699", NULL));
    out = catena_stage_process (stage, &ctx, src, &error);
    g_assert_no_error (error);
    px = test_read_pixels (out, NULL);
    /* Right half is transparent in the input: matte #336699 within 1/255. */
    {
      float *p = px + (200 * 512 + 400) * 4;
      g_assert_cmpfloat (fabs (p[0] - 0x33 / 255.0), <, 1.0 / 255);
      g_assert_cmpfloat (fabs (p[1] - 0x66 / 255.0), <, 1.0 / 255);
      g_assert_cmpfloat (fabs (p[2] - 0x99 / 255.0), <, 1.0 / 255);
      g_assert_cmpfloat (p[3], ==, 1.0f);
    }
    g_assert_true (catena_stage_write_output (stage, &ctx, out, dir, &path, &error));
    g_assert_no_error (error);
    g_assert_true (g_str_has_suffix (path, "/sku-42.jpg"));
    g_assert_true (file_contains (path, "ICC_PROFILE", 11));
    back = import_file (path, &error);
    g_assert_no_error (error);
    g_assert_cmpint (gegl_buffer_get_extent (back)->width, ==, 512);
  }

  /* PNG carries an sRGB chunk. */
  {
    g_autoptr (CatenaStage) stage = catena_stage_new ("export", NULL);
    g_autoptr (GeglBuffer) out = NULL;
    g_autofree char *path = NULL;
    CatenaStageContext ctx = { .asset = asset };
    GError *error = NULL;

    out = catena_stage_process (stage, &ctx, src, &error);
    g_assert_true (catena_stage_write_output (stage, &ctx, out, dir, &path, &error));
    g_assert_no_error (error);
    g_assert_true (file_contains (path, "sRGB", 4));
  }

  /* Writing into a missing folder fails with an error and leaves nothing behind. */
  {
    g_autoptr (CatenaStage) stage = catena_stage_new ("export", NULL);
    g_autofree char *missing = g_build_filename (dir, "no", "such", NULL);
    g_autofree char *path = NULL;
    CatenaStageContext ctx = { .asset = asset };
    GError *error = NULL;

    g_assert_false (catena_stage_write_output (stage, &ctx, src, missing, &path, &error));
    g_assert_nonnull (error);
    g_assert_null (path);
    g_clear_error (&error);
  }
  test_rm_rf (dir);
}

static void
test_cancelled (void)
{
  g_autoptr (GeglBuffer) src = test_make_buffer (64, 48, fill_gradient);
  g_autoptr (CatenaStage) stage = catena_stage_new ("upscale", NULL);
  g_autoptr (GCancellable) cancellable = g_cancellable_new ();
  CatenaStageContext ctx = { .cancellable = cancellable };
  GError *error = NULL;

  g_cancellable_cancel (cancellable);
  g_assert_null (catena_stage_process (stage, &ctx, src, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_clear_error (&error);

  /* A stage that needs an input refuses to run without one. */
  g_assert_null (catena_stage_process (stage, NULL, NULL, &error));
  g_assert_error (error, CATENA_STAGE_ERROR, CATENA_STAGE_ERROR_MISSING_INPUT);
  g_clear_error (&error);
}

static void
test_remove_background_neural (void)
{
  g_autofree char *model = catena_nn_find_model (CATENA_NN_ISNET_MODEL);
  g_autofree char *path = test_source_path ("data/demo/coffee.png");
  g_autoptr (GeglBuffer) photo = NULL;
  g_autoptr (GeglBuffer) cut = NULL;
  g_autofree float *px = NULL;
  g_autoptr (CatenaStage) stage = catena_stage_new ("remove-background", NULL);
  g_autofree char *key_auto = NULL;
  g_autofree char *key_classical = NULL;
  GError *error = NULL;
  double inside = 0, corners = 0;

  if (model == NULL)
    {
      g_test_skip ("ISNet weights are not installed: run build-aux/fetch-models.sh");
      return;
    }

  /* With the weights installed, automatic means neural, and the cache key says so. */
  key_auto = catena_stage_compute_key (stage, NULL, "input", &error);
  g_assert_true (catena_stage_set_param_from_string (stage, "method", "classical", NULL));
  key_classical = catena_stage_compute_key (stage, NULL, "input", &error);
  g_assert_cmpstr (key_auto, !=, key_classical);
  g_assert_true (catena_stage_set_param_from_string (stage, "method", "neural", NULL));

  photo = import_file (path, &error);
  g_assert_no_error (error);
  cut = catena_stage_process (stage, NULL, photo, &error);
  g_assert_no_error (error);
  g_assert_cmpint (gegl_buffer_get_extent (cut)->width, ==, 600);
  px = test_read_pixels (cut, NULL);

  /* The cup's rim and crema (centre-top) are product; the table corners are not. */
  for (int y = 60; y < 140; y++)
    for (int x = 260; x < 340; x++)
      inside += px[((gsize) y * 600 + x) * 4 + 3];
  inside /= 80 * 80;
  for (int y = 0; y < 20; y++)
    for (int x = 0; x < 20; x++)
      corners += px[((gsize) y * 600 + x) * 4 + 3] + px[((gsize) y * 600 + 599 - x) * 4 + 3];
  corners /= 2 * 20 * 20;
  g_test_message ("alpha inside %.3f, corners %.3f", inside, corners);
  g_assert_cmpfloat (inside, >, 0.95);
  g_assert_cmpfloat (corners, <, 0.05);
  /* Colour comes from the photo untouched: only alpha changes. */
  {
    g_autofree float *orig = test_read_pixels (photo, NULL);
    gsize i = (gsize) 100 * 600 + 300;
    g_assert_cmpfloat (fabs (orig[i * 4] - px[i * 4]), <, 1e-6);
  }
}

/* Run by meson with HOME and the model folders pointing nowhere. */
static void
test_remove_background_missing_model (void)
{
  g_autoptr (GeglBuffer) src = test_make_buffer (64, 48, fill_gradient);
  g_autoptr (CatenaStage) stage = catena_stage_new ("remove-background", NULL);
  g_autoptr (GeglBuffer) out = NULL;
  g_autofree char *model = catena_nn_find_model (CATENA_NN_ISNET_MODEL);
  GError *error = NULL;

  if (model != NULL)
    {
      g_test_skip ("the weights are installed; meson runs this case with HOME elsewhere");
      return;
    }
  /* Automatic falls back to the classical engine… */
  out = run_stage ("remove-background", NULL, src, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (out);
  /* …and asking for the network says what is missing and how to get it. */
  g_assert_true (catena_stage_set_param_from_string (stage, "method", "neural", NULL));
  g_assert_null (catena_stage_process (stage, NULL, src, &error));
  g_assert_error (error, CATENA_STAGE_ERROR, CATENA_STAGE_ERROR_MISSING_MODEL);
  g_test_message ("%s", error->message);
  g_assert_nonnull (strstr (error->message, "fetch-models"));
  g_clear_error (&error);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  catena_engine_init ();

  g_test_add_func ("/stages/import/formats", test_import_formats);
  g_test_add_func ("/stages/import/real-photo", test_import_real_photo);
  g_test_add_func ("/stages/import/bad-input", test_import_bad_input);
  g_test_add_func ("/stages/upscale/reference", test_upscale_reference);
  g_test_add_func ("/stages/upscale/too-large", test_upscale_too_large);
  g_test_add_func ("/stages/export", test_export);
  g_test_add_func ("/stages/cancelled", test_cancelled);
  g_test_add_func ("/stages/remove-background/neural", test_remove_background_neural);
  g_test_add_func ("/stages/remove-background/missing-model", test_remove_background_missing_model);

  return g_test_run ();
}
