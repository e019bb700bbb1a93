/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <math.h>
#include <string.h>

#include "../catena-test-util.h"
#include "catena-brand-kit.h"
#include "catena-image-io.h"

/* CIEDE2000 against the published test data, the .cube parser (valid, malformed, fuzzed),
 * the catena:lut3d op against direct math, the brand-lut stage and the conformance score. */

/* Sharma, Wu & Dalal (2005), Table 1: the 34 pairs, ΔE00 given to 4 decimals, from a public
 * transcription of the table; the first six rows were also compared with a second one. */
static const double sharma[34][7] = {
  { 50.0000, 2.6772, -79.7751, 50.0000, 0.0000, -82.7485, 2.0425 },
  { 50.0000, 3.1571, -77.2803, 50.0000, 0.0000, -82.7485, 2.8615 },
  { 50.0000, 2.8361, -74.0200, 50.0000, 0.0000, -82.7485, 3.4412 },
  { 50.0000, -1.3802, -84.2814, 50.0000, 0.0000, -82.7485, 1.0000 },
  { 50.0000, -1.1848, -84.8006, 50.0000, 0.0000, -82.7485, 1.0000 },
  { 50.0000, -0.9009, -85.5211, 50.0000, 0.0000, -82.7485, 1.0000 },
  { 50.0000, 0.0000, 0.0000, 50.0000, -1.0000, 2.0000, 2.3669 },
  { 50.0000, -1.0000, 2.0000, 50.0000, 0.0000, 0.0000, 2.3669 },
  { 50.0000, 2.4900, -0.0010, 50.0000, -2.4900, 0.0009, 7.1792 },
  { 50.0000, 2.4900, -0.0010, 50.0000, -2.4900, 0.0010, 7.1792 },
  { 50.0000, 2.4900, -0.0010, 50.0000, -2.4900, 0.0011, 7.2195 },
  { 50.0000, 2.4900, -0.0010, 50.0000, -2.4900, 0.0012, 7.2195 },
  { 50.0000, -0.0010, 2.4900, 50.0000, 0.0009, -2.4900, 4.8045 },
  { 50.0000, -0.0010, 2.4900, 50.0000, 0.0010, -2.4900, 4.8045 },
  { 50.0000, -0.0010, 2.4900, 50.0000, 0.0011, -2.4900, 4.7461 },
  { 50.0000, 2.5000, 0.0000, 50.0000, 0.0000, -2.5000, 4.3065 },
  { 50.0000, 2.5000, 0.0000, 73.0000, 25.0000, -18.0000, 27.1492 },
  { 50.0000, 2.5000, 0.0000, 61.0000, -5.0000, 29.0000, 22.8977 },
  { 50.0000, 2.5000, 0.0000, 56.0000, -27.0000, -3.0000, 31.9030 },
  { 50.0000, 2.5000, 0.0000, 58.0000, 24.0000, 15.0000, 19.4535 },
  { 50.0000, 2.5000, 0.0000, 50.0000, 3.1736, 0.5854, 1.0000 },
  { 50.0000, 2.5000, 0.0000, 50.0000, 3.2972, 0.0000, 1.0000 },
  { 50.0000, 2.5000, 0.0000, 50.0000, 1.8634, 0.5757, 1.0000 },
  { 50.0000, 2.5000, 0.0000, 50.0000, 3.2592, 0.3350, 1.0000 },
  { 60.2574, -34.0099, 36.2677, 60.4626, -34.1751, 39.4387, 1.2644 },
  { 63.0109, -31.0961, -5.8663, 62.8187, -29.7946, -4.0864, 1.2630 },
  { 61.2901, 3.7196, -5.3901, 61.4292, 2.2480, -4.9620, 1.8731 },
  { 35.0831, -44.1164, 3.7933, 35.0232, -40.0716, 1.5901, 1.8645 },
  { 22.7233, 20.0904, -46.6940, 23.0331, 14.9730, -42.5619, 2.0373 },
  { 36.4612, 47.8580, 18.3852, 36.2715, 50.5065, 21.2231, 1.4146 },
  { 90.8027, -2.0831, 1.4410, 91.1528, -1.6435, 0.0447, 1.4441 },
  { 90.9257, -0.5406, -0.9208, 88.6381, -0.8985, -0.7239, 1.5381 },
  { 6.7747, -0.2908, -2.4247, 5.8714, -0.0985, -2.2286, 0.6377 },
  { 2.0776, 0.0795, -1.1350, 0.9033, -0.0636, -0.5514, 0.9082 },
};

static void
test_delta_e_sharma (void)
{
  for (guint i = 0; i < G_N_ELEMENTS (sharma); i++)
    {
      double de = catena_delta_e_2000 (sharma[i], sharma[i] + 3);
      double back = catena_delta_e_2000 (sharma[i] + 3, sharma[i]);

      /* the table is rounded to 4 decimals */
      if (fabs (de - sharma[i][6]) > 0.5e-4 + 1e-9)
        g_error ("pair %u: ΔE00 %.6f, published %.4f", i + 1, de, sharma[i][6]);
      g_assert_cmpfloat_with_epsilon (de, back, 1e-9);
    }
  {
    double same[3] = { 42, 10, -7 };
    g_assert_cmpfloat (catena_delta_e_2000 (same, same), ==, 0);
  }
}

static void
test_srgb_to_lab (void)
{
  /* reference values from the CIE definitions with the D65 white of sRGB */
  const struct { double rgb[3]; double lab[3]; } cases[] = {
    { { 1, 1, 1 }, { 100, 0, 0 } },
    { { 0, 0, 0 }, { 0, 0, 0 } },
    { { 1, 0, 0 }, { 53.2408, 80.0925, 67.2032 } },
    { { 0, 1, 0 }, { 87.7347, -86.1827, 83.1793 } },
    { { 0, 0, 1 }, { 32.2970, 79.1875, -107.8602 } },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      double lab[3];

      catena_srgb_to_lab (cases[i].rgb, lab);
      for (int c = 0; c < 3; c++)
        g_assert_cmpfloat_with_epsilon (lab[c], cases[i].lab[c], 0.01);
    }
}

/* ---------------------------------------------------------------------------------------- */

typedef void (*ColorFunc) (const double in[3], double out[3]);

static char *
make_cube (guint n, ColorFunc f, const char *extra_header)
{
  GString *s = g_string_new ("# test LUT\nTITLE \"test\"\n");

  g_string_append_printf (s, "LUT_3D_SIZE %u\n%s", n, extra_header ? extra_header : "");
  for (guint b = 0; b < n; b++)
    for (guint g = 0; g < n; g++)
      for (guint r = 0; r < n; r++)
        {
          double in[3] = { (double) r / (n - 1), (double) g / (n - 1), (double) b / (n - 1) };
          double out[3];
          char buf[3][G_ASCII_DTOSTR_BUF_SIZE];

          f (in, out);
          g_string_append_printf (s, "%s %s %s\r\n", g_ascii_dtostr (buf[0], sizeof buf[0], out[0]),
                                  g_ascii_dtostr (buf[1], sizeof buf[1], out[1]),
                                  g_ascii_dtostr (buf[2], sizeof buf[2], out[2]));
        }
  return g_string_free (s, FALSE);
}

static void
f_identity (const double in[3], double out[3])
{
  memcpy (out, in, 3 * sizeof (double));
}

/* affine maps are reproduced exactly by trilinear and tetrahedral interpolation alike */
static void
f_affine (const double in[3], double out[3])
{
  out[0] = 0.8 * in[0] + 0.1 * in[1] + 0.05;
  out[1] = 0.2 * in[0] + 0.7 * in[1] + 0.1 * in[2];
  out[2] = -0.1 * in[1] + 0.9 * in[2] + 0.02;
}

static void
f_square (const double in[3], double out[3])
{
  for (int c = 0; c < 3; c++)
    out[c] = in[c] * in[c];
}

/* A buffer with a grid of colours and alpha, run through catena:lut3d. */
static float *
run_op (CatenaLut3d *lut, CatenaLutInterpolation interp, double strength, int side, float **input)
{
  g_autoptr (GeglBuffer) in = gegl_buffer_new (GEGL_RECTANGLE (0, 0, side, side),
                                               babl_format (CATENA_WORK_FORMAT));
  g_autoptr (GeglBuffer) out = NULL;
  g_autoptr (GeglNode) graph = gegl_node_new ();
  float *px = g_new (float, side * side * 4);
  GeglNode *src, *op;
  GRand *rand = g_rand_new_with_seed (7);

  for (int i = 0; i < side * side; i++)
    {
      px[i * 4] = g_rand_double (rand);
      px[i * 4 + 1] = g_rand_double (rand);
      px[i * 4 + 2] = g_rand_double (rand);
      px[i * 4 + 3] = g_rand_double (rand);
    }
  g_rand_free (rand);
  gegl_buffer_set (in, NULL, 0, babl_format (CATENA_WORK_FORMAT), px, GEGL_AUTO_ROWSTRIDE);
  src = gegl_node_new_child (graph, "operation", "gegl:buffer-source", "buffer", in, NULL);
  op = gegl_node_new_child (graph, "operation", "catena:lut3d", "lut", lut, "strength", strength,
                            "interpolation", interp, NULL);
  gegl_node_link (src, op);
  out = catena_render_node (op, GEGL_RECTANGLE (0, 0, side, side), NULL, NULL, NULL, NULL);
  g_assert_nonnull (out);
  *input = px;
  return test_read_pixels (out, CATENA_WORK_FORMAT);
}

static void
check_op (ColorFunc f, guint n, CatenaLutInterpolation interp, double tolerance)
{
  g_autofree char *text = make_cube (n, f, NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (CatenaLut3d) lut = catena_lut3d_new_from_data (text, -1, &error);
  g_autofree float *in = NULL;
  g_autofree float *out = NULL;
  const int side = 48;
  double max_err = 0;

  g_assert_no_error (error);
  out = run_op (lut, interp, 1.0, side, &in);
  for (int i = 0; i < side * side; i++)
    {
      double src[3] = { in[i * 4], in[i * 4 + 1], in[i * 4 + 2] }, want[3];

      f (src, want);
      for (int c = 0; c < 3; c++)
        max_err = MAX (max_err, fabs (out[i * 4 + c] - want[c]));
      g_assert_cmpfloat (out[i * 4 + 3], ==, in[i * 4 + 3]);  /* alpha untouched */
    }
  g_test_message ("max error %.2e (tolerance %.1e)", max_err, tolerance);
  g_assert_cmpfloat (max_err, <, tolerance);
}

static void
test_lut_identity (void)
{
  check_op (f_identity, 17, CATENA_LUT_INTERPOLATION_TETRAHEDRAL, 1e-5);
  check_op (f_identity, 2, CATENA_LUT_INTERPOLATION_TRILINEAR, 1e-5);
  {
    g_autoptr (CatenaLut3d) id = catena_lut3d_new_identity (5);
    float in[3] = { 0.3f, 0.71f, 0.05f }, out[3];
    catena_lut3d_apply (id, CATENA_LUT_INTERPOLATION_TETRAHEDRAL, in, out);
    for (int c = 0; c < 3; c++)
      g_assert_cmpfloat_with_epsilon (out[c], in[c], 1e-6);
  }
}

static void
test_lut_affine (void)
{
  check_op (f_affine, 5, CATENA_LUT_INTERPOLATION_TETRAHEDRAL, 2e-5);
  check_op (f_affine, 5, CATENA_LUT_INTERPOLATION_TRILINEAR, 2e-5);
}

/* x² per channel is separable: trilinear interpolation of it is exactly the piecewise-linear
 * interpolation of x² between grid points, which is easy to compute directly. */
static void
test_lut_trilinear_direct (void)
{
  const guint n = 9;
  g_autofree char *text = make_cube (n, f_square, NULL);
  g_autoptr (CatenaLut3d) lut = catena_lut3d_new_from_data (text, -1, NULL);
  g_autofree float *in = NULL;
  g_autofree float *out = NULL;
  const int side = 32;

  g_assert_nonnull (lut);
  out = run_op (lut, CATENA_LUT_INTERPOLATION_TRILINEAR, 1.0, side, &in);
  for (int i = 0; i < side * side; i++)
    for (int c = 0; c < 3; c++)
      {
        double x = in[i * 4 + c] * (n - 1);
        int k = MIN ((int) x, (int) n - 2);
        double t = x - k, a = (double) k / (n - 1), b = (double) (k + 1) / (n - 1);
        double want = a * a + t * (b * b - a * a);

        g_assert_cmpfloat_with_epsilon (out[i * 4 + c], want, 2e-6);
      }
  /* at the grid points both interpolations give the table itself */
  {
    float node[3] = { 0.25f, 0.5f, 0.875f }, got[3];
    catena_lut3d_apply (lut, CATENA_LUT_INTERPOLATION_TETRAHEDRAL, node, got);
    for (int c = 0; c < 3; c++)
      g_assert_cmpfloat_with_epsilon (got[c], node[c] * node[c], 1e-6);
  }
}

static void
test_lut_strength_and_domain (void)
{
  g_autofree char *text = make_cube (5, f_affine, "DOMAIN_MIN 0 0 0\nDOMAIN_MAX 1 1 1\n");
  g_autoptr (CatenaLut3d) lut = catena_lut3d_new_from_data (text, -1, NULL);
  g_autofree float *in = NULL;
  g_autofree float *out = NULL;

  g_assert_nonnull (lut);
  g_assert_cmpstr (catena_lut3d_get_title (lut), ==, "test");
  out = run_op (lut, CATENA_LUT_INTERPOLATION_TETRAHEDRAL, 0.5, 16, &in);
  for (int i = 0; i < 16 * 16; i++)
    {
      double src[3] = { in[i * 4], in[i * 4 + 1], in[i * 4 + 2] }, want[3];
      f_affine (src, want);
      for (int c = 0; c < 3; c++)
        g_assert_cmpfloat_with_epsilon (out[i * 4 + c], 0.5 * src[c] + 0.5 * want[c], 2e-5);
    }
  {
    /* out of domain clamps to the edge */
    float over[3] = { 1.5f, -0.5f, 0.5f }, got[3], edge[3] = { 1, 0, 0.5f }, want[3];
    catena_lut3d_apply (lut, CATENA_LUT_INTERPOLATION_TRILINEAR, over, got);
    catena_lut3d_apply (lut, CATENA_LUT_INTERPOLATION_TRILINEAR, edge, want);
    for (int c = 0; c < 3; c++)
      g_assert_cmpfloat_with_epsilon (got[c], want[c], 1e-6);
  }
}

static void
test_cube_malformed (void)
{
  const char *cases[] = {
    "",
    "LUT_3D_SIZE 2\n0 0 0\n",                                   /* too few lines */
    "0 0 0\nLUT_3D_SIZE 2\n",                                   /* data first */
    "LUT_3D_SIZE 1\n0 0 0\n",                                   /* size too small */
    "LUT_3D_SIZE 1000\n",                                       /* too large */
    "LUT_3D_SIZE 2.5\n",
    "LUT_1D_SIZE 4\n0 0 0\n0 0 0\n0 0 0\n0 0 0\n",              /* 1D */
    "LUT_3D_SIZE 2\n0 0 0\n0 0 0\n0 0 0\n0 0 0\n0 0 0\n0 0 0\n0 0 0\nnan 0 0\n",
    "LUT_3D_SIZE 2\n0 0 0\n0 0 0\n0 0 0\n0 0 0\n0 0 0\n0 0 0\n0 0 0\n0 0\n",
    "LUT_3D_SIZE 2\n0 0 0\n0 0 0\n0 0 0\n0 0 0\n0 0 0\n0 0 0\n0 0 0\n0 0 0 0\n",
    "LUT_3D_SIZE 2\nDOMAIN_MIN 1 1 1\nDOMAIN_MAX 0 0 0\n0 0 0\n0 0 0\n0 0 0\n0 0 0\n0 0 0\n"
    "0 0 0\n0 0 0\n0 0 0\n",
    "LUT_3D_SIZE 2\nFOO 1\n",
    "LUT_3D_SIZE 2\n0 0 0\n0 0 0\n0 0 0\n0 0 0\n0 0 0\n0 0 0\n0 0 0\n0 0 0\n0 0 0\n",
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (CatenaLut3d) lut = catena_lut3d_new_from_data (cases[i], -1, &error);

      g_assert_null (lut);
      g_assert_error (error, CATENA_BRAND_ERROR, CATENA_BRAND_ERROR_LUT);
      g_assert_true (g_utf8_validate (error->message, -1, NULL));
    }
  {
    g_autoptr (GError) error = NULL;
    g_assert_null (catena_lut3d_new_from_data ("LUT_3D_SIZE 2\n\0 0 0", 20, &error));
    g_assert_error (error, CATENA_BRAND_ERROR, CATENA_BRAND_ERROR_LUT);
  }
}

/* Random byte flips, insertions, deletions and truncations of a valid file: always a LUT or
 * an error, never a crash (run under ASan/UBSan in CI). */
static void
test_cube_fuzz (void)
{
  g_autofree char *valid = make_cube (4, f_affine, "DOMAIN_MIN 0 0 0\nDOMAIN_MAX 1 1 1\n");
  gsize len = strlen (valid);
  GRand *rand = g_rand_new_with_seed (20240501);
  const char alphabet[] = "0123456789.-+eE \t\n\r#ABCDLUT_3DSIZEDOMAINMAXnanif\"";
  guint n_ok = 0, n_err = 0;

  for (guint iter = 0; iter < 4000; iter++)
    {
      g_autoptr (GByteArray) b = g_byte_array_new ();
      g_autoptr (GError) error = NULL;
      g_autoptr (CatenaLut3d) lut = NULL;
      guint n_mut = g_rand_int_range (rand, 1, 8);

      g_byte_array_append (b, (const guint8 *) valid, len);
      for (guint m = 0; m < n_mut && b->len > 0; m++)
        {
          guint pos = g_rand_int_range (rand, 0, b->len);
          guint8 c = g_rand_boolean (rand) ? alphabet[g_rand_int_range (rand, 0,
                                                                        sizeof alphabet - 1)]
                                           : (guint8) g_rand_int_range (rand, 0, 256);
          switch (g_rand_int_range (rand, 0, 4))
            {
            case 0: b->data[pos] = c; break;
            case 1: g_byte_array_remove_index (b, pos); break;
            case 2: g_byte_array_append (b, &c, 1); memmove (b->data + pos + 1, b->data + pos, b->len - pos - 1); b->data[pos] = c; break;
            default: g_byte_array_set_size (b, pos); break;
            }
        }
      lut = catena_lut3d_new_from_data ((const char *) b->data, b->len, &error);
      g_assert_true ((lut != NULL) != (error != NULL));
      if (lut)
        {
          float in[3] = { 0.5f, 0.25f, 0.75f }, out[3];
          g_assert_cmpuint (catena_lut3d_get_size (lut), >=, 2);
          catena_lut3d_apply (lut, CATENA_LUT_INTERPOLATION_TETRAHEDRAL, in, out);
          n_ok++;
        }
      else
        n_err++;
    }
  g_rand_free (rand);
  g_test_message ("fuzz: %u parsed, %u refused", n_ok, n_err);
  g_assert_cmpuint (n_err, >, 0);
}

/* ---------------------------------------------------------------------------------------- */

static void
fill_product (int x, int y, float px[4])
{
  /* a red disc (Signal Red #c8102e) with a small white label, transparent around */
  double dx = x - 32, dy = y - 32;
  gboolean inside = dx * dx + dy * dy < 24 * 24;

  px[0] = 0xc8 / 255.0f;
  px[1] = 0x10 / 255.0f;
  px[2] = 0x2e / 255.0f;
  px[3] = inside ? 1 : 0;
  if (inside && fabs (dx) < 4 && fabs (dy) < 4)
    px[0] = px[1] = px[2] = 1;
}

static void
fill_off_brand (int x, int y, float px[4])
{
  px[0] = 0.2f;
  px[1] = 0.8f;
  px[2] = 0.2f;  /* green: far from every swatch */
  px[3] = (x > 10 && x < 50 && y > 10 && y < 50) ? 1 : 0;
}

static void
fill_on_backdrop (int x, int y, float px[4])
{
  /* Harbour Blue square on a cream backdrop, all opaque */
  gboolean product = x > 16 && x < 48 && y > 16 && y < 48;
  px[0] = product ? 0x00 / 255.0f : 0xf4 / 255.0f;
  px[1] = product ? 0x57 / 255.0f : 0xef / 255.0f;
  px[2] = product ? 0xb8 / 255.0f : 0xe9 / 255.0f;
  px[3] = 1;
}

static CatenaBrandKit *
load_sample_kit (void)
{
  g_autofree char *path = test_source_path ("data/brand/sample-brand-kit.json");
  g_autoptr (GError) error = NULL;
  CatenaBrandKit *kit = catena_brand_kit_load (path, &error);

  g_assert_no_error (error);
  return kit;
}

static void
test_brand_kit_sample (void)
{
  g_autoptr (CatenaBrandKit) kit = load_sample_kit ();
  g_autoptr (CatenaLut3d) lut = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (CatenaProject) project = catena_project_new ();
  g_autoptr (CatenaBrandKit) again = NULL;

  g_assert_cmpuint (catena_brand_kit_get_n_swatches (kit), ==, 6);
  g_assert_cmpstr (catena_brand_kit_get_swatch (kit, 2)->name, ==, "Signal Red");
  g_assert_cmpuint (catena_brand_kit_get_n_backdrops (kit), ==, 2);
  g_assert_cmpuint (catena_brand_kit_get_n_loras (kit), ==, 1);
  g_assert_cmpstr (catena_brand_kit_get_lora (kit, 0)->triggers[0], ==, "nwstyle");
  g_assert_cmpfloat (catena_brand_kit_get_threshold (kit), ==, 5.0);
  lut = catena_lut3d_load (catena_brand_kit_get_lut_path (kit), &error);
  g_assert_no_error (error);
  g_assert_cmpuint (catena_lut3d_get_size (lut), ==, 9);

  catena_brand_kit_save_to_project (kit, project);
  again = catena_brand_kit_new_for_project (project, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (catena_brand_kit_get_n_swatches (again), ==, 6);
  g_assert_cmpstr (catena_brand_kit_get_swatch (again, 3)->hex, ==, "#0057b8");

  g_assert_false (catena_brand_kit_add_swatch (again, "Bad", "#12345", &error));
  g_assert_error (error, CATENA_BRAND_ERROR, CATENA_BRAND_ERROR_BAD_COLOR);
}

static void
test_brand_score (void)
{
  g_autoptr (CatenaBrandKit) kit = load_sample_kit ();
  g_autoptr (GeglBuffer) red = test_make_buffer (64, 64, fill_product);
  g_autoptr (GeglBuffer) green = test_make_buffer (64, 64, fill_off_brand);
  g_autoptr (GeglBuffer) blue = test_make_buffer (64, 64, fill_on_backdrop);
  g_autoptr (GeglBuffer) empty = test_make_buffer (8, 8, fill_off_brand);
  g_autoptr (GError) error = NULL;
  CatenaBrandScore score;

  g_assert_true (catena_brand_kit_score_buffer (kit, red, FALSE, &score, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (score.swatch_name, ==, "Signal Red");
  g_assert_cmpfloat (score.delta_e, <, 0.5);
  g_assert_false (score.flagged);
  g_assert_cmpstr (score.product_hex, ==, "#c8102e");
  g_assert_cmpfloat (score.coverage, >, 0.9);

  g_assert_true (catena_brand_kit_score_buffer (kit, green, FALSE, &score, &error));
  g_assert_true (score.flagged);
  g_assert_cmpfloat (score.delta_e, >, 20);

  /* opaque packshot: the backdrop is left out, the blue product remains */
  g_assert_true (catena_brand_kit_score_buffer (kit, blue, TRUE, &score, &error));
  g_assert_cmpstr (score.swatch_name, ==, "Harbour Blue");
  g_assert_cmpfloat (score.delta_e, <, 0.5);

  g_assert_false (catena_brand_kit_score_buffer (kit, empty, FALSE, &score, &error));
  g_assert_error (error, CATENA_BRAND_ERROR, CATENA_BRAND_ERROR_NO_PRODUCT);
}

static void
test_stage_brand_lut (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (CatenaStage) stage = catena_stage_new ("brand-lut", &error);
  g_autoptr (GeglBuffer) in = test_make_buffer (32, 32, fill_product);
  g_autoptr (GeglBuffer) out = NULL;
  g_autoptr (GeglBuffer) none = NULL;
  g_autofree char *dir = test_mkdtemp ();
  g_autofree char *cube = make_cube (3, f_affine, NULL);
  g_autofree char *cube_path = g_build_filename (dir, "look.cube", NULL);
  g_autofree float *a = NULL;
  g_autofree float *b = NULL;
  CatenaStageContext ctx = { .base_dir = dir };
  g_autofree char *key1 = NULL;
  g_autofree char *key2 = NULL;

  g_assert_no_error (error);
  g_assert_cmpstr (catena_stage_get_kind (stage), ==, "brand-lut");

  /* no LUT yet: a clear error */
  g_assert_null (catena_stage_process (stage, &ctx, in, &error));
  g_assert_error (error, CATENA_STAGE_ERROR, CATENA_STAGE_ERROR_INVALID_PARAMETER);
  g_clear_error (&error);

  g_assert_true (g_file_set_contents (cube_path, cube, -1, NULL));
  g_object_set (stage, "lut", cube_path, "strength", 1.0, NULL);
  key1 = catena_stage_compute_key (stage, &ctx, "input", &error);
  out = catena_stage_process (stage, &ctx, in, &error);
  g_assert_no_error (error);
  a = test_read_pixels (out, NULL);
  b = test_read_pixels (in, NULL);
  for (int i = 0; i < 32 * 32; i++)
    {
      double src[3] = { b[i * 4], b[i * 4 + 1], b[i * 4 + 2] }, want[3];
      f_affine (src, want);
      for (int c = 0; c < 3; c++)
        g_assert_cmpfloat_with_epsilon (a[i * 4 + c], want[c], 2e-5);
    }

  /* the key follows the LUT's content, not only its path */
  {
    g_autofree char *other = make_cube (3, f_identity, NULL);
    g_assert_true (g_file_set_contents (cube_path, other, -1, NULL));
  }
  key2 = catena_stage_compute_key (stage, &ctx, "input", &error);
  g_assert_cmpstr (key1, !=, key2);

  g_object_set (stage, "strength", 0.0, NULL);
  none = catena_stage_process (stage, &ctx, in, &error);
  g_assert_no_error (error);
  g_free (a);
  a = test_read_pixels (none, NULL);
  for (int i = 0; i < 32 * 32 * 4; i++)
    g_assert_cmpfloat_with_epsilon (a[i], b[i], 1e-6);
  test_rm_rf (dir);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  catena_engine_init ();
  /* until catena_engine_init registers them */
  catena_lut3d_op_register ();
  if (catena_stage_type_for_kind ("brand-lut") == G_TYPE_INVALID)
    catena_stage_register_type (CATENA_TYPE_STAGE_BRAND_LUT);

  g_test_add_func ("/brand/delta-e/sharma-2005", test_delta_e_sharma);
  g_test_add_func ("/brand/srgb-to-lab", test_srgb_to_lab);
  g_test_add_func ("/brand/lut/identity", test_lut_identity);
  g_test_add_func ("/brand/lut/affine-exact", test_lut_affine);
  g_test_add_func ("/brand/lut/trilinear-direct", test_lut_trilinear_direct);
  g_test_add_func ("/brand/lut/strength-domain", test_lut_strength_and_domain);
  g_test_add_func ("/brand/cube/malformed", test_cube_malformed);
  g_test_add_func ("/brand/cube/fuzz", test_cube_fuzz);
  g_test_add_func ("/brand/kit/sample", test_brand_kit_sample);
  g_test_add_func ("/brand/kit/score", test_brand_score);
  g_test_add_func ("/brand/stage/brand-lut", test_stage_brand_lut);
  return g_test_run ();
}
