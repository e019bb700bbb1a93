/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <string.h>

#include "provider-test-util.h"

/* The ComfyUI provider against the fake server.py (fake-servers.c): WebSocket progress,
 * /history polling fallback, uploads, interrupt, object_info and failures. */

typedef struct
{
  FakeServer *fake;
  CatenaProvider *comfy;
} Fixture;

static void
setup (Fixture *f, gconstpointer data)
{
  f->fake = fake_comfyui_new ();
  f->comfy = catena_provider_get ("comfyui");
  provider_test_point_at (f->fake);
}

static void
teardown (Fixture *f, gconstpointer data)
{
  fake_server_free (f->fake);
}

static JsonObject *
find_node (JsonObject *prompt, const char *class_type)
{
  g_autoptr (GList) ids = json_object_get_members (prompt);
  for (GList *l = ids; l; l = l->next)
    {
      JsonObject *n = json_object_get_object_member (prompt, l->data);
      if (g_strcmp0 (json_object_get_string_member (n, "class_type"), class_type) == 0)
        return json_object_get_object_member (n, "inputs");
    }
  return NULL;
}

static JsonObject *
last_prompt (Fixture *f)
{
  g_autofree char *text = fake_server_dup_last (f->fake, "prompt");
  g_autoptr (JsonObject) body = provider_test_parse (text);
  return json_object_ref (json_object_get_object_member (body, "prompt"));
}

typedef struct
{
  guint n;
  double max_running;
} Progress;

static void
on_progress (double fraction, const char *message, gpointer data)
{
  Progress *p = data;
  p->n++;
  if (fraction < 1.0)
    p->max_running = MAX (p->max_running, fraction);
}

static void
test_models (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_auto (GStrv) ckpts = catena_provider_list_models (f->comfy, "generate", NULL, &error);
  g_auto (GStrv) loras = NULL;
  g_auto (GStrv) ups = NULL;

  g_assert_no_error (error);
  g_assert_cmpuint (g_strv_length (ckpts), ==, 2);
  g_assert_cmpstr (ckpts[0], ==, "sd_xl_base_1.0.safetensors");
  /* the newer ["COMBO", {options}] shape */
  loras = catena_provider_list_models (f->comfy, "style", NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (loras[0], ==, "brand-acme.safetensors");
  ups = catena_provider_list_models (f->comfy, "upscale", NULL, &error);
  g_assert_cmpstr (ups[0], ==, "RealESRGAN_x4plus.pth");
  g_assert_false (catena_provider_supports (f->comfy, "remove-background"));
}

static CatenaProviderRequest *
generate_request (void)
{
  CatenaProviderRequest *r = catena_provider_request_new ("generate");
  r->prompt = g_strdup ("a leather wallet, studio light");
  r->negative_prompt = g_strdup ("text, watermark");
  r->width = 64;
  r->height = 32;
  r->n_images = 2;
  r->seed = 99;
  return r;
}

static void
test_generate_ws (Fixture *f, gconstpointer data)
{
  g_autoptr (CatenaProviderRequest) r = generate_request ();
  g_autoptr (CatenaProviderResult) res = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonObject) prompt = NULL;
  Progress p = { 0 };
  JsonObject *ks, *lat;

  res = catena_provider_run (f->comfy, r, on_progress, &p, NULL, &error);
  g_assert_no_error (error);
  /* two outputs (batch of 2); the "temp" preview in the history is not taken */
  g_assert_cmpuint (res->images->len, ==, 2);
  assert_size (res->images->pdata[0], 64, 32);
  g_assert_cmpint (fake_server_count (f->fake, "ws"), ==, 1);
  g_assert_cmpint (fake_server_count (f->fake, "view"), ==, 2);
  /* WebSocket progress messages reached the callback */
  g_assert_cmpfloat (p.max_running, >, 0.5);
  /* done was learnt from the socket: one history fetch, not a poll loop */
  g_assert_cmpint (fake_server_count (f->fake, "history"), ==, 1);

  prompt = last_prompt (f);
  ks = find_node (prompt, "KSampler");
  g_assert_nonnull (ks);
  g_assert_cmpint (json_object_get_int_member (ks, "seed"), ==, 99);
  lat = find_node (prompt, "EmptyLatentImage");
  g_assert_cmpint (json_object_get_int_member (lat, "batch_size"), ==, 2);
  g_assert_cmpstr (json_object_get_string_member (find_node (prompt, "CheckpointLoaderSimple"),
                                                  "ckpt_name"),
                   ==, "sd_xl_base_1.0.safetensors");
  g_assert_nonnull (find_node (prompt, "SaveImage"));
  g_assert_cmpstr (res->provenance->provider, ==, "comfyui");
  g_assert_cmpint (res->provenance->seed, ==, 99);
  g_assert_cmpfloat (res->provenance->cost_usd, ==, 0.0);
}

static void
test_generate_polling (Fixture *f, gconstpointer data)
{
  g_autoptr (CatenaProviderRequest) r = generate_request ();
  g_autoptr (CatenaProviderResult) res = NULL;
  g_autoptr (GError) error = NULL;

  /* a server (or proxy) without the socket: /history is polled */
  catena_provider_set_endpoint (f->comfy, "base", NULL);
  g_setenv ("CATENA_COMFYUI_URL", fake_server_url (f->fake), TRUE);
  fake_server_fault (f->fake, "no-ws", 1);
  res = catena_provider_run (f->comfy, r, NULL, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (res->images->len, ==, 2);
  g_assert_cmpint (fake_server_count (f->fake, "ws-refused"), ==, 1);
  g_assert_cmpint (fake_server_count (f->fake, "ws"), ==, 0);
  g_assert_cmpint (fake_server_count (f->fake, "history"), >, 1);
  g_unsetenv ("CATENA_COMFYUI_URL");
}

static void
test_style_upload (Fixture *f, gconstpointer data)
{
  g_autoptr (CatenaProviderRequest) r = catena_provider_request_new ("style");
  g_autoptr (CatenaProviderResult) res = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonObject) prompt = NULL;
  g_autofree char *uploaded = NULL;
  JsonObject *lora, *load, *ks;

  r->prompt = g_strdup ("product shot");
  r->input = provider_test_buffer (64, 64);
  r->lora = g_strdup ("brand-acme.safetensors");
  r->lora_scale = 0.6;
  r->denoise = 0.3;
  r->model = g_strdup ("flux1-dev.safetensors");
  res = catena_provider_run (f->comfy, r, NULL, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (fake_server_count (f->fake, "upload"), ==, 1);
  prompt = last_prompt (f);
  lora = find_node (prompt, "LoraLoader");
  g_assert_cmpstr (json_object_get_string_member (lora, "lora_name"), ==,
                   "brand-acme.safetensors");
  g_assert_cmpfloat (json_object_get_double_member (lora, "strength_model"), ==, 0.6);
  g_assert_cmpfloat (json_object_get_double_member (lora, "strength_clip"), ==, 0.6);
  load = find_node (prompt, "LoadImage");
  uploaded = fake_server_dup_last (f->fake, "upload");
  g_assert_cmpstr (json_object_get_string_member (load, "image"), ==, uploaded);
  ks = find_node (prompt, "KSampler");
  g_assert_cmpfloat (json_object_get_double_member (ks, "denoise"), ==, 0.3);
  g_assert_nonnull (find_node (prompt, "VAEEncode"));
}

static void
test_upscale (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GeglBuffer) in = provider_test_buffer (32, 32);
  g_autoptr (GeglBuffer) out = NULL;
  g_autoptr (JsonObject) prompt = NULL;
  g_autoptr (CatenaProvenance) prov = NULL;

  /* the entry point the upscale stage calls when its provider is not local */
  out = catena_provider_run_image_stage ("comfyui", "RealESRGAN_x4plus.pth", "upscale", in,
                                         NULL, NULL, &error);
  g_assert_no_error (error);
  assert_size (out, 128, 128);
  prompt = last_prompt (f);
  g_assert_cmpstr (json_object_get_string_member (find_node (prompt, "UpscaleModelLoader"),
                                                  "model_name"),
                   ==, "RealESRGAN_x4plus.pth");
  g_assert_nonnull (find_node (prompt, "ImageUpscaleWithModel"));
  prov = catena_provenance_steal_pending ();
  g_assert_nonnull (prov);
  g_assert_cmpstr (prov->model, ==, "RealESRGAN_x4plus.pth");
}

static void
test_cancel_interrupts (Fixture *f, gconstpointer data)
{
  g_autoptr (CatenaProviderRequest) r = generate_request ();
  g_autoptr (GCancellable) cancellable = g_cancellable_new ();
  g_autoptr (GError) error = NULL;
  CancelLater c = { cancellable, 300 };
  GThread *t;
  gint64 start = g_get_monotonic_time ();
  CatenaProviderResult *res;

  fake_server_fault (f->fake, "hang", 1);
  t = cancel_later (&c);
  res = catena_provider_run (f->comfy, r, NULL, NULL, cancellable, &error);
  g_thread_join (t);
  g_assert_null (res);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_cmpint (g_get_monotonic_time () - start, <, 1500 * 1000);
  /* the fake received POST /interrupt (and the queue deletion for a pending prompt) */
  g_assert_cmpint (fake_server_count (f->fake, "interrupt"), ==, 1);
  g_assert_cmpint (fake_server_count (f->fake, "queue-delete"), ==, 1);
}

static void
test_timeout_interrupts (Fixture *f, gconstpointer data)
{
  g_autoptr (CatenaProviderRequest) r = generate_request ();
  g_autoptr (GError) error = NULL;
  CatenaProviderResult *res;

  catena_providers_set_job_timeout_ms (500);
  fake_server_fault (f->fake, "hang", 1);
  res = catena_provider_run (f->comfy, r, NULL, NULL, NULL, &error);
  catena_providers_set_job_timeout_ms (20000);
  g_assert_null (res);
  g_assert_error (error, CATENA_PROVIDER_ERROR, CATENA_PROVIDER_ERROR_TIMEOUT);
  g_assert_cmpint (fake_server_count (f->fake, "interrupt"), ==, 1);
}

static void
test_errors (Fixture *f, gconstpointer data)
{
  g_autoptr (CatenaProviderRequest) r = generate_request ();
  g_autoptr (GError) error = NULL;
  CatenaProviderResult *res;

  fake_server_fault (f->fake, "exec-error", 1);
  res = catena_provider_run (f->comfy, r, NULL, NULL, NULL, &error);
  g_assert_null (res);
  g_assert_error (error, CATENA_PROVIDER_ERROR, CATENA_PROVIDER_ERROR_REMOTE_FAILED);
  g_assert_nonnull (strstr (error->message, "CUDA out of memory"));
  g_clear_error (&error);

  /* validation: a checkpoint the server does not have → 400 with node_errors */
  g_free (r->model);
  r->model = g_strdup ("missing.safetensors");
  res = catena_provider_run (f->comfy, r, NULL, NULL, NULL, &error);
  g_assert_null (res);
  g_assert_error (error, CATENA_PROVIDER_ERROR, CATENA_PROVIDER_ERROR_INVALID_REQUEST);
  g_assert_nonnull (strstr (error->message, "Prompt outputs failed validation"));
  g_clear_error (&error);
  g_clear_pointer (&r->model, g_free);

  fake_server_fault (f->fake, "view-not-image", 1);
  res = catena_provider_run (f->comfy, r, NULL, NULL, NULL, &error);
  g_assert_null (res);
  g_assert_error (error, CATENA_PROVIDER_ERROR, CATENA_PROVIDER_ERROR_BAD_RESPONSE);
  g_clear_error (&error);

  /* remove-background has no standard ComfyUI node */
  {
    g_autoptr (CatenaProviderRequest) rb = catena_provider_request_new ("remove-background");
    rb->input = provider_test_buffer (8, 8);
    res = catena_provider_run (f->comfy, rb, NULL, NULL, NULL, &error);
    g_assert_null (res);
    g_assert_error (error, CATENA_PROVIDER_ERROR, CATENA_PROVIDER_ERROR_UNSUPPORTED);
  }
}

int
main (int argc, char **argv)
{
  provider_test_init (&argc, &argv);

#define ADD(name, fn) g_test_add ("/providers/comfyui/" name, Fixture, NULL, setup, fn, teardown)
  ADD ("models", test_models);
  ADD ("generate-ws", test_generate_ws);
  ADD ("generate-polling", test_generate_polling);
  ADD ("style-upload", test_style_upload);
  ADD ("upscale", test_upscale);
  ADD ("cancel-interrupts", test_cancel_interrupts);
  ADD ("timeout-interrupts", test_timeout_interrupts);
  ADD ("errors", test_errors);
#undef ADD
  return g_test_run ();
}
