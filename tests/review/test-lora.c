/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include "catena-engine.h"

#include <string.h>

#include "../catena-test-util.h"
#include "catena-lora.h"

/* safetensors headers (valid, malformed, fuzzed), base-model detection from key layouts and
 * the refusal of LoRAs that would do nothing on the chosen model. The files are synthetic:
 * the key names and shapes follow kohya sd-scripts and diffusers/PEFT conventions. */

typedef struct
{
  const char *name;
  const char *dtype;
  guint64 shape[4];
  guint n_dims;
} T;

/* A safetensors blob: header JSON then zeroed tensor bytes, offsets in order. */
static GByteArray *
make_st (const T *tensors, guint n, const char *metadata_json)
{
  g_autoptr (GString) h = g_string_new ("{");
  GByteArray *out = g_byte_array_new ();
  guint64 offset = 0, len;
  guint8 le[8];

  if (metadata_json)
    g_string_append_printf (h, "\"__metadata__\":%s", metadata_json);
  for (guint i = 0; i < n; i++)
    {
      guint64 bytes = g_str_equal (tensors[i].dtype, "F32") ? 4 : 2;

      for (guint d = 0; d < tensors[i].n_dims; d++)
        bytes *= tensors[i].shape[d];
      g_string_append_printf (h, "%s\"%s\":{\"dtype\":\"%s\",\"shape\":[",
                              (i || metadata_json) ? "," : "", tensors[i].name, tensors[i].dtype);
      for (guint d = 0; d < tensors[i].n_dims; d++)
        g_string_append_printf (h, "%s%" G_GUINT64_FORMAT, d ? "," : "", tensors[i].shape[d]);
      g_string_append_printf (h, "],\"data_offsets\":[%" G_GUINT64_FORMAT ",%" G_GUINT64_FORMAT
                              "]}", offset, offset + bytes);
      offset += bytes;
    }
  g_string_append (h, "}");
  while (h->len % 8)  /* the format pads the header with spaces */
    g_string_append_c (h, ' ');
  len = h->len;
  for (int i = 0; i < 8; i++)
    le[i] = (len >> (8 * i)) & 0xff;
  g_byte_array_append (out, le, 8);
  g_byte_array_append (out, (const guint8 *) h->str, h->len);
  g_byte_array_set_size (out, out->len + offset);
  memset (out->data + 8 + len, 0, offset);
  return out;
}

static const T sd15[] = {
  { "lora_te_text_model_encoder_layers_0_mlp_fc1.alpha", "F16", { 0 }, 0 },
  { "lora_te_text_model_encoder_layers_0_mlp_fc1.lora_down.weight", "F16", { 8, 768 }, 2 },
  { "lora_te_text_model_encoder_layers_0_mlp_fc1.lora_up.weight", "F16", { 3072, 8 }, 2 },
  { "lora_unet_down_blocks_0_attentions_0_transformer_blocks_0_attn2_to_k.lora_down.weight",
    "F16", { 8, 768 }, 2 },
  { "lora_unet_down_blocks_0_attentions_0_transformer_blocks_0_attn2_to_k.lora_up.weight",
    "F16", { 320, 8 }, 2 },
};

static const T sdxl[] = {
  { "lora_te1_text_model_encoder_layers_0_mlp_fc1.lora_down.weight", "F16", { 16, 768 }, 2 },
  { "lora_te2_text_model_encoder_layers_0_mlp_fc1.lora_down.weight", "F16", { 16, 1280 }, 2 },
  { "lora_unet_input_blocks_4_1_transformer_blocks_0_attn2_to_k.lora_down.weight", "F16",
    { 16, 2048 }, 2 },
  { "lora_unet_input_blocks_4_1_transformer_blocks_0_attn2_to_k.lora_up.weight", "F16",
    { 640, 16 }, 2 },
};

static const T flux_diffusers[] = {
  { "transformer.single_transformer_blocks.0.attn.to_k.lora_A.weight", "BF16", { 16, 3072 }, 2 },
  { "transformer.single_transformer_blocks.0.attn.to_k.lora_B.weight", "BF16", { 3072, 16 }, 2 },
  { "transformer.transformer_blocks.0.attn.to_q.lora_A.weight", "BF16", { 16, 3072 }, 2 },
};

static const T flux_kohya[] = {
  { "lora_unet_double_blocks_0_img_attn_qkv.lora_down.weight", "F16", { 4, 3072 }, 2 },
  { "lora_unet_double_blocks_0_img_attn_qkv.lora_up.weight", "F16", { 9216, 4 }, 2 },
  { "lora_unet_single_blocks_0_linear1.lora_down.weight", "F16", { 4, 3072 }, 2 },
};

static const T checkpoint[] = {
  { "model.diffusion_model.input_blocks.0.0.weight", "F16", { 320, 4, 3, 3 }, 4 },
};

static CatenaLoraInfo *
info_for (const T *t, guint n, const char *meta, GError **error)
{
  g_autoptr (GByteArray) blob = make_st (t, n, meta);
  g_autoptr (CatenaSafetensors) st = catena_safetensors_parse (blob->data, blob->len, blob->len,
                                                               error);

  return st ? catena_lora_info_from_header (st, "/loras/test.safetensors", error) : NULL;
}

static void
test_detect (void)
{
  struct {
    const T *t;
    guint n;
    CatenaBaseModel base;
    int dim;
  } cases[] = {
    { sd15, G_N_ELEMENTS (sd15), CATENA_BASE_MODEL_SD1, 8 },
    { sdxl, G_N_ELEMENTS (sdxl), CATENA_BASE_MODEL_SDXL, 16 },
    { flux_diffusers, G_N_ELEMENTS (flux_diffusers), CATENA_BASE_MODEL_FLUX, 16 },
    { flux_kohya, G_N_ELEMENTS (flux_kohya), CATENA_BASE_MODEL_FLUX, 4 },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (CatenaLoraInfo) info = info_for (cases[i].t, cases[i].n, NULL, &error);

      g_assert_no_error (error);
      g_test_message ("%s: %s", catena_base_model_to_string (info->base), info->evidence);
      g_assert_cmpint (info->base, ==, cases[i].base);
      g_assert_cmpint (info->network_dim, ==, cases[i].dim);
    }
  {
    g_autoptr (GError) error = NULL;
    g_assert_null (info_for (checkpoint, 1, NULL, &error));
    g_assert_error (error, CATENA_LORA_ERROR, CATENA_LORA_ERROR_NOT_A_LORA);
  }
}

static void
test_metadata (void)
{
  const char *meta =
    "{\"ss_base_model_version\":\"sdxl_base_v1-0\",\"ss_network_dim\":\"32\","
    "\"ss_network_alpha\":\"16.0\",\"ss_tag_frequency\":"
    "\"{\\\"10_nwstyle\\\": {\\\"nwstyle\\\": 40, \\\"mug\\\": 12, \\\" warm light\\\": 20}, "
    "\\\"5_extra\\\": {\\\"mug\\\": 30}}\"}";
  g_autoptr (GError) error = NULL;
  g_autoptr (CatenaLoraInfo) info = info_for (sd15, G_N_ELEMENTS (sd15), meta, &error);

  g_assert_no_error (error);
  /* the keys say SD 1.x; the metadata's SDXL claim is noted, not believed */
  g_assert_cmpint (info->base, ==, CATENA_BASE_MODEL_SD1);
  g_assert_nonnull (strstr (info->evidence, "sdxl_base_v1-0"));
  g_assert_cmpstr (info->metadata_base, ==, "sdxl_base_v1-0");
  g_assert_cmpint (info->network_dim, ==, 32);
  g_assert_cmpfloat (info->network_alpha, ==, 16.0);
  g_assert_cmpstr (info->triggers[0], ==, "mug");       /* 12 + 30 */
  g_assert_cmpstr (info->triggers[1], ==, "nwstyle");
  g_assert_cmpstr (info->triggers[2], ==, "warm light");

  /* keys without attention layers or encoders: the metadata decides */
  {
    const T plain[] = { { "lora_unet_foo.lora_down.weight", "F16", { 4, 10 }, 2 } };
    g_autoptr (CatenaLoraInfo) m = info_for (plain, 1, "{\"modelspec.architecture\":"
                                             "\"flux-1-dev/lora\"}", &error);
    g_assert_no_error (error);
    g_assert_cmpint (m->base, ==, CATENA_BASE_MODEL_FLUX);
  }
}

static void
test_compatibility (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (CatenaLoraInfo) xl = info_for (sdxl, G_N_ELEMENTS (sdxl), NULL, &error);
  const T plain[] = { { "lora_unet_foo.lora_down.weight", "F16", { 4, 10 }, 2 } };
  g_autoptr (CatenaLoraInfo) unknown = info_for (plain, 1, NULL, &error);

  g_assert_cmpint (catena_base_model_for_model_id ("fal-ai/flux-lora"), ==,
                   CATENA_BASE_MODEL_FLUX);
  g_assert_cmpint (catena_base_model_for_model_id ("stabilityai/stable-diffusion-xl-base-1.0"),
                   ==, CATENA_BASE_MODEL_SDXL);
  g_assert_cmpint (catena_base_model_for_model_id ("fal-ai/lora"), ==, CATENA_BASE_MODEL_UNKNOWN);
  g_assert_cmpint (catena_base_model_for_model_id ("v1-5-pruned-emaonly.safetensors"), ==,
                   CATENA_BASE_MODEL_SD1);
  g_assert_cmpint (catena_base_model_for_model_id ("juggernautXL_v9.safetensors"), ==,
                   CATENA_BASE_MODEL_SDXL);

  g_assert_true (catena_lora_check_compatible (xl, CATENA_BASE_MODEL_SDXL, &error));
  g_assert_true (catena_lora_check_compatible (xl, CATENA_BASE_MODEL_UNKNOWN, &error));
  g_assert_false (catena_lora_check_compatible (xl, CATENA_BASE_MODEL_FLUX, &error));
  g_assert_error (error, CATENA_LORA_ERROR, CATENA_LORA_ERROR_INCOMPATIBLE);
  g_test_message ("%s", error->message);
  g_clear_error (&error);
  g_assert_false (catena_lora_check_compatible (unknown, CATENA_BASE_MODEL_FLUX, &error));
  g_assert_error (error, CATENA_LORA_ERROR, CATENA_LORA_ERROR_UNKNOWN_BASE);
}

static void
expect_invalid (GByteArray *blob, guint64 file_size, int code)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (CatenaSafetensors) st = catena_safetensors_parse (blob->data, blob->len, file_size,
                                                               &error);

  g_assert_null (st);
  g_assert_error (error, CATENA_LORA_ERROR, code);
}

static GByteArray *
raw (const char *header, gsize data_bytes)
{
  GByteArray *b = g_byte_array_new ();
  guint64 n = strlen (header);
  guint8 le[8];

  for (int i = 0; i < 8; i++)
    le[i] = (n >> (8 * i)) & 0xff;
  g_byte_array_append (b, le, 8);
  g_byte_array_append (b, (const guint8 *) header, n);
  g_byte_array_set_size (b, b->len + data_bytes);
  return b;
}

static void
test_malformed (void)
{
  const struct { const char *header; gsize data; } cases[] = {
    { "[1,2]", 0 },
    { "{\"a\":{\"dtype\":\"F16\",\"shape\":[2],\"data_offsets\":[0,4]}", 4 },  /* cut JSON */
    { "{\"a\":{\"dtype\":\"Q4\",\"shape\":[2],\"data_offsets\":[0,4]}}", 4 },
    { "{\"a\":{\"dtype\":\"F16\",\"shape\":[3],\"data_offsets\":[0,4]}}", 4 },  /* size */
    { "{\"a\":{\"dtype\":\"F16\",\"shape\":[2],\"data_offsets\":[0,4]},"
      "\"b\":{\"dtype\":\"F16\",\"shape\":[2],\"data_offsets\":[2,6]}}", 6 },  /* overlap */
    { "{\"a\":{\"dtype\":\"F16\",\"shape\":[2],\"data_offsets\":[4,8]}}", 8 },  /* hole */
    { "{\"a\":{\"dtype\":\"F16\",\"shape\":[2],\"data_offsets\":[0,4]}}", 9 },  /* extra */
    { "{\"a\":{\"dtype\":\"F16\",\"shape\":[2],\"data_offsets\":[0,4]}}", 2 },  /* short */
    { "{\"a\":{\"dtype\":\"F16\",\"shape\":[-2],\"data_offsets\":[0,4]}}", 4 },
    { "{\"a\":{\"dtype\":\"F16\",\"shape\":[2.0],\"data_offsets\":[0,4]}}", 4 },
    { "{\"a\":{\"dtype\":\"F16\",\"shape\":[4294967296,4294967296,16],"
      "\"data_offsets\":[0,4]}}", 4 },                                        /* overflow */
    { "{\"__metadata__\":{\"k\":5}}", 0 },
    { "{\"a\":[]}", 0 },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (GByteArray) b = raw (cases[i].header, cases[i].data);
      expect_invalid (b, b->len, CATENA_LORA_ERROR_INVALID);
    }
  {
    /* deep nesting would recurse in the JSON parser: refused before parsing */
    g_autoptr (GString) deep = g_string_new ("{\"__metadata__\":");
    g_autoptr (GByteArray) b = NULL;
    for (int i = 0; i < 100000; i++)
      g_string_append_c (deep, '[');
    b = raw (deep->str, 0);
    expect_invalid (b, b->len, CATENA_LORA_ERROR_INVALID);
  }
  {
    /* a header length over 100 MB is refused without reading it */
    guint8 huge[16] = { 0, 0, 0, 0x10, 0, 0, 0, 0, '{', '}' };
    g_autoptr (GByteArray) b = g_byte_array_new ();
    g_byte_array_append (b, huge, sizeof huge);
    expect_invalid (b, (guint64) 1 << 40, CATENA_LORA_ERROR_TOO_LARGE);
  }
  {
    g_autoptr (GByteArray) b = g_byte_array_new ();
    g_byte_array_append (b, (const guint8 *) "abc", 3);
    expect_invalid (b, 3, CATENA_LORA_ERROR_INVALID);
  }
}

static void
test_fuzz (void)
{
  g_autoptr (GByteArray) valid = make_st (sdxl, G_N_ELEMENTS (sdxl),
                                          "{\"ss_tag_frequency\":\"{\\\"a\\\": {\\\"b\\\": 1}}\"}");
  GRand *rand = g_rand_new_with_seed (424242);
  const char alphabet[] = "{}[]\",:0123456789-eE. \\ufdtypeshapeoffsetsF16BF16__metadata__";
  guint n_ok = 0, n_err = 0;
  gsize header_end = 8 + GUINT64_FROM_LE (*(guint64 *) (void *) valid->data);

  for (guint iter = 0; iter < 6000; iter++)
    {
      g_autoptr (GByteArray) b = g_byte_array_new ();
      g_autoptr (GError) error = NULL;
      g_autoptr (CatenaSafetensors) st = NULL;
      guint n_mut = g_rand_int_range (rand, 1, 6);

      g_byte_array_append (b, valid->data, valid->len);
      for (guint m = 0; m < n_mut && b->len > 0; m++)
        {
          /* mostly inside the header, where the parser looks */
          guint pos = g_rand_int_range (rand, 0, MIN (b->len, header_end + 4));
          guint8 c = g_rand_boolean (rand)
                       ? alphabet[g_rand_int_range (rand, 0, sizeof alphabet - 1)]
                       : (guint8) g_rand_int_range (rand, 0, 256);

          switch (g_rand_int_range (rand, 0, 5))
            {
            case 0: b->data[pos] = c; break;
            case 1: g_byte_array_remove_index (b, pos); break;
            case 2:
              g_byte_array_append (b, &c, 1);
              memmove (b->data + pos + 1, b->data + pos, b->len - pos - 1);
              b->data[pos] = c;
              break;
            case 3: g_byte_array_set_size (b, pos); break;
            default: b->data[g_rand_int_range (rand, 0, 8)] = c; break;  /* the length */
            }
        }
      st = catena_safetensors_parse (b->data, b->len, b->len, &error);
      g_assert_true ((st != NULL) != (error != NULL));
      if (st != NULL)
        {
          g_autoptr (GError) e2 = NULL;
          g_autoptr (CatenaLoraInfo) info = catena_lora_info_from_header (st, "fuzz", &e2);
          g_assert_true ((info != NULL) != (e2 != NULL));
          n_ok++;
        }
      else
        n_err++;
    }
  g_rand_free (rand);
  g_test_message ("fuzz: %u parsed, %u refused", n_ok, n_err);
  g_assert_cmpuint (n_err, >, 0);
}

static void
test_library (void)
{
  g_autofree char *dir = test_mkdtemp ();
  g_autofree char *xl_path = g_build_filename (dir, "brand-xl.safetensors", NULL);
  g_autofree char *bad_path = g_build_filename (dir, "broken.safetensors", NULL);
  g_autoptr (GByteArray) xl = make_st (sdxl, G_N_ELEMENTS (sdxl), NULL);
  g_autoptr (CatenaProject) project = catena_project_new ();
  g_autoptr (CatenaLoraLibrary) lib = NULL;
  g_autoptr (CatenaLoraLibrary) again = NULL;
  g_autoptr (GError) error = NULL;
  const CatenaLoraInfo *info;

  g_assert_true (g_file_set_contents (xl_path, (const char *) xl->data, xl->len, NULL));
  g_assert_true (g_file_set_contents (bad_path, (const char *) xl->data, xl->len - 3, NULL));

  lib = catena_lora_library_new_for_project (project, &error);
  g_assert_no_error (error);
  info = catena_lora_library_add (lib, xl_path, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (info->base, ==, CATENA_BASE_MODEL_SDXL);
  g_assert_null (catena_lora_library_add (lib, bad_path, NULL, &error));
  g_assert_error (error, CATENA_LORA_ERROR, CATENA_LORA_ERROR_INVALID);
  g_test_message ("%s", error->message);
  g_clear_error (&error);
  g_assert_cmpuint (catena_lora_library_get_n_items (lib), ==, 1);

  /* stored in the project, read back */
  again = catena_lora_library_new_for_project (project, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (catena_lora_library_get_n_items (again), ==, 1);
  g_assert_cmpint (catena_lora_library_get_item (again, 0)->base, ==, CATENA_BASE_MODEL_SDXL);

  /* the check a style stage makes before a paid call */
  g_assert_true (catena_lora_library_check_for_model (again, xl_path, "sdxl-base", NULL, &error));
  g_assert_false (catena_lora_library_check_for_model (again, xl_path, "fal-ai/flux-lora", NULL,
                                                       &error));
  g_assert_error (error, CATENA_LORA_ERROR, CATENA_LORA_ERROR_INCOMPATIBLE);
  g_clear_error (&error);
  g_assert_true (catena_lora_library_remove (again, xl_path));
  g_assert_cmpuint (catena_lora_library_get_n_items (again), ==, 0);
  test_rm_rf (dir);
}

/* The style stage refuses a LoRA made for another base model before any request: the provider
 * endpoint points at a closed port, so reaching the network would fail differently. */
static void
test_style_preflight (void)
{
  g_autofree char *sdxl = g_build_filename (g_getenv ("CATENA_SOURCE_DIR"), "tests", "fuzz",
                                            "corpus", "safetensors", "sdxl-lora.safetensors",
                                            NULL);
  g_autoptr (CatenaStage) style = catena_stage_new ("style", NULL);
  g_autoptr (GeglBuffer) input = gegl_buffer_new (GEGL_RECTANGLE (0, 0, 8, 8),
                                                  babl_format ("R'G'B'A float"));
  g_autoptr (GeglBuffer) out = NULL;
  GError *error = NULL;

  g_setenv ("FAL_KEY", "test-key-not-real", TRUE);
  g_setenv ("CATENA_FAL_QUEUE_URL", "http://127.0.0.1:9", TRUE);
  g_setenv ("CATENA_FAL_REST_URL", "http://127.0.0.1:9", TRUE);
  g_object_set (style, "provider", "fal", "model", "fal-ai/flux-lora", "lora", sdxl, "prompt",
                "a mug", NULL);
  out = catena_stage_process (style, NULL, input, &error);
  g_assert_null (out);
  g_assert_error (error, CATENA_STAGE_ERROR, CATENA_STAGE_ERROR_INVALID_PARAMETER);
  g_test_message ("%s", error->message);
  g_assert_nonnull (strstr (error->message, "SDXL"));
  g_clear_error (&error);
  g_unsetenv ("FAL_KEY");
  g_unsetenv ("CATENA_FAL_QUEUE_URL");
  g_unsetenv ("CATENA_FAL_REST_URL");
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  catena_engine_init ();

  g_test_add_func ("/lora/detect", test_detect);
  g_test_add_func ("/lora/metadata", test_metadata);
  g_test_add_func ("/lora/compatibility", test_compatibility);
  g_test_add_func ("/lora/safetensors/malformed", test_malformed);
  g_test_add_func ("/lora/safetensors/fuzz", test_fuzz);
  g_test_add_func ("/lora/library", test_library);
  g_test_add_func ("/lora/style-preflight", test_style_preflight);
  return g_test_run ();
}
