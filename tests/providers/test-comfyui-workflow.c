/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <string.h>

#include "provider-test-util.h"

/* ComfyUI API-format export and import. The txt2img graph below has the shape of
 * script_examples/basic_api_example.py in the ComfyUI repository, with a LoRA, a model
 * upscale and a custom node Catena does not know. */

static const char *workflow_text =
  "{"
  " \"3\": {\"class_type\": \"KSampler\", \"inputs\": {\"cfg\": 8, \"denoise\": 1,"
  "   \"latent_image\": [\"5\", 0], \"model\": [\"10\", 0], \"negative\": [\"7\", 0],"
  "   \"positive\": [\"6\", 0], \"sampler_name\": \"euler\", \"scheduler\": \"normal\","
  "   \"seed\": 8566257, \"steps\": 20}},"
  " \"4\": {\"class_type\": \"CheckpointLoaderSimple\","
  "   \"inputs\": {\"ckpt_name\": \"v1-5-pruned-emaonly.safetensors\"}},"
  " \"5\": {\"class_type\": \"EmptyLatentImage\","
  "   \"inputs\": {\"batch_size\": 2, \"height\": 512, \"width\": 768}},"
  " \"6\": {\"class_type\": \"CLIPTextEncode\","
  "   \"inputs\": {\"clip\": [\"10\", 1], \"text\": \"masterpiece best quality bag\"}},"
  " \"7\": {\"class_type\": \"CLIPTextEncode\","
  "   \"inputs\": {\"clip\": [\"10\", 1], \"text\": \"bad hands\"}},"
  " \"8\": {\"class_type\": \"VAEDecode\", \"inputs\": {\"samples\": [\"3\", 0],"
  "   \"vae\": [\"4\", 2]}},"
  " \"9\": {\"class_type\": \"SaveImage\", \"inputs\": {\"filename_prefix\": \"ComfyUI\","
  "   \"images\": [\"12\", 0]}},"
  " \"10\": {\"class_type\": \"LoraLoader\", \"inputs\": {\"model\": [\"4\", 0],"
  "   \"clip\": [\"4\", 1], \"lora_name\": \"acme.safetensors\", \"strength_model\": 0.7,"
  "   \"strength_clip\": 0.7}},"
  " \"11\": {\"class_type\": \"UpscaleModelLoader\","
  "   \"inputs\": {\"model_name\": \"4x-UltraSharp.pth\"}},"
  " \"12\": {\"class_type\": \"ImageUpscaleWithModel\", \"inputs\": {\"upscale_model\":"
  "   [\"11\", 0], \"image\": [\"13\", 0]}},"
  " \"13\": {\"class_type\": \"FaceDetailer\", \"inputs\": {\"image\": [\"8\", 0],"
  "   \"guide_size\": 384}}"
  "}";

static JsonNode *
parse (const char *text)
{
  g_autoptr (JsonParser) p = json_parser_new ();
  g_assert_true (json_parser_load_from_data (p, text, -1, NULL));
  return json_parser_steal_root (p);
}

static JsonObject *
node_of_class (JsonObject *prompt, const char *class_type, const char **id_out)
{
  g_autoptr (GList) ids = json_object_get_members (prompt);
  for (GList *l = ids; l; l = l->next)
    {
      JsonObject *n = json_object_get_object_member (prompt, l->data);
      if (g_str_equal (json_object_get_string_member (n, "class_type"), class_type))
        {
          if (id_out)
            *id_out = l->data;
          return json_object_get_object_member (n, "inputs");
        }
    }
  return NULL;
}

static void
test_import (void)
{
  g_autoptr (JsonNode) wf = parse (workflow_text);
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) ignored = NULL;
  g_autoptr (CatenaChain) chain = catena_comfyui_import_workflow (wf, &ignored, &error);
  const char *kinds[] = { "generate", "style", "upscale", "export" };
  CatenaStage *gen, *style, *up;
  g_autofree char *prompt = NULL;
  g_autofree char *lora = NULL;
  guint w, candidates;
  double strength;

  g_assert_no_error (error);
  g_assert_cmpuint (catena_chain_get_n_stages (chain), ==, 4);
  for (guint i = 0; i < 4; i++)
    g_assert_cmpstr (catena_stage_get_kind (catena_chain_get_stage (chain, i)), ==, kinds[i]);
  gen = catena_chain_get_stage (chain, 0);
  g_object_get (gen, "prompt", &prompt, "width", &w, "candidates", &candidates, NULL);
  g_assert_cmpstr (prompt, ==, "masterpiece best quality bag");
  g_assert_cmpuint (w, ==, 768);
  g_assert_cmpuint (candidates, ==, 2);
  g_assert_cmpstr (catena_stage_get_provider (gen), ==, "comfyui");
  g_assert_cmpstr (catena_stage_get_model (gen), ==, "v1-5-pruned-emaonly.safetensors");
  style = catena_chain_get_stage (chain, 1);
  g_object_get (style, "lora", &lora, "strength", &strength, NULL);
  g_assert_cmpstr (lora, ==, "acme.safetensors");
  g_assert_cmpfloat (strength, ==, 0.7);
  up = catena_chain_get_stage (chain, 2);
  g_assert_cmpstr (catena_stage_get_model (up), ==, "4x-UltraSharp.pth");
  /* the custom node is reported, not silently dropped */
  g_assert_cmpuint (ignored->len, ==, 1);
  g_assert_nonnull (strstr (ignored->pdata[0], "FaceDetailer"));
}

static void
test_export (void)
{
  g_autoptr (CatenaChain) chain = catena_chain_new ();
  g_autoptr (CatenaAsset) asset = catena_asset_new ("a");
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) skipped = NULL;
  g_autoptr (JsonNode) out = NULL;
  g_autoptr (CatenaStage) import = catena_stage_new ("import", NULL);
  g_autoptr (CatenaStage) style = catena_stage_new ("style", NULL);
  g_autoptr (CatenaStage) up = catena_stage_new ("upscale", NULL);
  g_autoptr (CatenaStage) rb = catena_stage_new ("remove-background", NULL);
  g_autoptr (CatenaStage) exp = catena_stage_new ("export", NULL);
  JsonObject *prompt, *lora, *load, *save, *ups;
  const char *up_id = NULL;

  catena_asset_set_source (asset, "/photos/sku-123.png");
  catena_asset_set_prompt (asset, "leather bag");
  g_object_set (style, "lora", "acme.safetensors", "strength", 0.5, NULL);
  catena_stage_set_provider (up, "comfyui");
  catena_stage_set_model (up, "RealESRGAN_x4plus.pth");
  catena_chain_append (chain, import);
  if (rb)
    catena_chain_append (chain, rb);
  catena_chain_append (chain, style);
  catena_chain_append (chain, up);
  catena_chain_append (chain, exp);

  out = catena_comfyui_export_chain (chain, asset, &skipped, &error);
  g_assert_no_error (error);
  prompt = json_node_get_object (out);
  load = node_of_class (prompt, "LoadImage", NULL);
  g_assert_cmpstr (json_object_get_string_member (load, "image"), ==, "sku-123.png");
  lora = node_of_class (prompt, "LoraLoader", NULL);
  g_assert_cmpfloat (json_object_get_double_member (lora, "strength_model"), ==, 0.5);
  g_assert_cmpfloat (json_object_get_double_member (lora, "strength_clip"), ==, 0.5);
  g_assert_nonnull (node_of_class (prompt, "VAEEncode", NULL));
  ups = node_of_class (prompt, "ImageUpscaleWithModel", &up_id);
  g_assert_nonnull (ups);
  save = node_of_class (prompt, "SaveImage", NULL);
  g_assert_cmpstr (json_array_get_string_element (json_object_get_array_member (save, "images"),
                                                  0),
                   ==, up_id);
  g_assert_cmpstr (json_object_get_string_member (node_of_class (prompt, "CLIPTextEncode", NULL),
                                                  "text"),
                   ==, "leather bag");
  if (rb)
    {
      g_assert_cmpuint (skipped->len, ==, 1);
      g_assert_nonnull (strstr (skipped->pdata[0], "remove-background"));
    }

  /* and back: Catena reads its own export */
  {
    g_autoptr (CatenaChain) back = catena_comfyui_import_workflow (out, NULL, &error);
    g_assert_no_error (error);
    g_assert_cmpstr (catena_stage_get_kind (catena_chain_get_stage (back, 0)), ==, "import");
    g_assert_cmpstr (catena_stage_get_kind (catena_chain_get_stage (back, 1)), ==, "style");
    g_assert_cmpstr (catena_stage_get_kind (catena_chain_get_stage (back, 2)), ==, "upscale");
  }
}

static void
test_invalid (void)
{
  const char *bad[] = {
    "[1, 2]",
    "{\"1\": {\"inputs\": {}}}",
    "{\"nodes\": [], \"links\": []}",
    "{\"1\": {\"class_type\": \"LoadImage\", \"inputs\": {\"image\": \"x.png\"}}}",
  };

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr (JsonNode) wf = parse (bad[i]);
      g_autoptr (GError) error = NULL;
      CatenaChain *chain = catena_comfyui_import_workflow (wf, NULL, &error);
      g_assert_null (chain);
      g_assert_error (error, CATENA_PROJECT_ERROR, CATENA_PROJECT_ERROR_INVALID);
    }
  {
    /* a cycle must not recurse forever */
    g_autoptr (JsonNode) wf = parse (
      "{\"1\": {\"class_type\": \"SaveImage\", \"inputs\": {\"images\": [\"2\", 0]}},"
      " \"2\": {\"class_type\": \"Foo\", \"inputs\": {\"image\": [\"3\", 0]}},"
      " \"3\": {\"class_type\": \"Bar\", \"inputs\": {\"image\": [\"2\", 0]}}}");
    g_autoptr (GError) error = NULL;
    CatenaChain *chain = catena_comfyui_import_workflow (wf, NULL, &error);
    g_assert_null (chain);
    g_assert_error (error, CATENA_PROJECT_ERROR, CATENA_PROJECT_ERROR_INVALID);
  }
  {
    g_autoptr (CatenaChain) empty = catena_chain_new ();
    g_autoptr (GError) error = NULL;
    g_assert_null (catena_comfyui_export_chain (empty, NULL, NULL, &error));
    g_assert_error (error, CATENA_PROJECT_ERROR, CATENA_PROJECT_ERROR_INVALID);
  }
}

int
main (int argc, char **argv)
{
  provider_test_init (&argc, &argv);
  g_test_add_func ("/providers/comfyui-workflow/import", test_import);
  g_test_add_func ("/providers/comfyui-workflow/export", test_export);
  g_test_add_func ("/providers/comfyui-workflow/invalid", test_invalid);
  return g_test_run ();
}
