/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <math.h>
#include <string.h>

#include "provider-test-util.h"

/* The generate, edit and style stages on the fake fal server: candidates and pick, the
 * strength sweep, provenance sidecars, and the local provider. */

typedef struct
{
  FakeServer *fake;
  char *dir;
  CatenaCache *cache;
} Fixture;

static void
setup (Fixture *f, gconstpointer data)
{
  f->fake = fake_fal_new ();
  provider_test_point_at (f->fake);
  f->dir = g_dir_make_tmp ("catena-prov-XXXXXX", NULL);
  f->cache = catena_cache_new (f->dir, 64 * 1024 * 1024);
  catena_providers_set_cache (f->cache);
}

static void
teardown (Fixture *f, gconstpointer data)
{
  char *argv[] = { "rm", "-rf", f->dir, NULL };

  catena_providers_set_cache (NULL);
  g_object_unref (f->cache);
  g_spawn_sync (NULL, argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL, NULL, NULL, NULL);
  g_free (f->dir);
  fake_server_free (f->fake);
}

static gboolean
file_contains (const char *dir, const char *needle)
{
  g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
  const char *name;

  while (d && (name = g_dir_read_name (d)))
    {
      g_autofree char *path = g_build_filename (dir, name, NULL);
      g_autofree char *data = NULL;
      gsize len;
      if (g_file_test (path, G_FILE_TEST_IS_DIR))
        {
          if (file_contains (path, needle))
            return TRUE;
        }
      else if (g_file_get_contents (path, &data, &len, NULL) &&
               memmem (data, len, needle, strlen (needle)))
        return TRUE;
    }
  return FALSE;
}

static void
test_generate_candidates (Fixture *f, gconstpointer data)
{
  g_autoptr (CatenaStage) stage = catena_stage_new ("generate", NULL);
  g_autoptr (CatenaAsset) asset = catena_asset_new ("bag");
  g_autoptr (GError) error = NULL;
  g_autoptr (GeglBuffer) first = NULL;
  g_autoptr (GeglBuffer) second = NULL;
  g_autoptr (GPtrArray) candidates = NULL;
  g_autoptr (CatenaProvenance) prov = NULL;
  g_autofree char *key = NULL;
  g_autofree char *key2 = NULL;
  CatenaStageContext ctx = { .asset = asset };
  float a[4], b[4];

  catena_asset_set_prompt (asset, "a red handbag");
  g_assert_cmpstr (catena_stage_get_provider (stage), ==, "fal");
  g_object_set (stage, "width", 48, "height", 32, "candidates", 3, "pick", 1, "seed", 5, NULL);
  first = catena_stage_process (stage, &ctx, NULL, &error);
  g_assert_no_error (error);
  assert_size (first, 48, 32);
  g_assert_cmpint (fake_server_count (f->fake, "submit"), ==, 1);
  {
    g_autoptr (JsonObject) sent = provider_test_take_parse (fake_server_dup_last (f->fake, "submit"));
    g_assert_cmpstr (json_object_get_string_member (sent, "prompt"), ==, "a red handbag");
    g_assert_cmpint (json_object_get_int_member (sent, "num_images"), ==, 3);
  }

  /* every candidate is kept; another pick is served from the cache, at no cost */
  candidates = catena_stage_generate_lookup_candidates (CATENA_STAGE_GENERATE (stage), &ctx,
                                                        f->cache);
  g_assert_nonnull (candidates);
  g_assert_cmpuint (candidates->len, ==, 3);
  for (guint i = 0; i < 3; i++)
    g_assert_nonnull (candidates->pdata[i]);
  key = catena_stage_compute_key (stage, &ctx, NULL, &error);
  g_object_set (stage, "pick", 2, NULL);
  key2 = catena_stage_compute_key (stage, &ctx, NULL, &error);
  g_assert_cmpstr (key, !=, key2);
  second = catena_stage_process (stage, &ctx, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (fake_server_count (f->fake, "submit"), ==, 1);
  gegl_buffer_get (first, GEGL_RECTANGLE (0, 0, 1, 1), 1.0, babl_format ("R'G'B'A float"), a,
                   GEGL_AUTO_ROWSTRIDE, GEGL_ABYSS_NONE);
  gegl_buffer_get (second, GEGL_RECTANGLE (0, 0, 1, 1), 1.0, babl_format ("R'G'B'A float"), b,
                   GEGL_AUTO_ROWSTRIDE, GEGL_ABYSS_NONE);
  g_assert_cmpfloat (fabs (a[0] - b[0]), >, 0.05); /* the fake colours candidates apart */

  /* provenance sidecar keyed by the stage key */
  prov = catena_provenance_lookup (f->cache, key);
  g_assert_nonnull (prov);
  g_assert_cmpstr (prov->provider, ==, "fal");
  g_assert_cmpstr (prov->model, ==, "fal-ai/flux/schnell");
  g_assert_cmpint (prov->seed, ==, 5);
  g_assert_cmpuint (prov->n_outputs, ==, 3);
  g_assert_cmpfloat (prov->cost_usd, >, 0);
  g_assert_true (json_object_has_member (prov->parameters, "prompt"));
  /* the key is nowhere in the cache */
  g_assert_false (file_contains (f->dir, FAKE_KEY));
}

static void
test_generate_local_refused (Fixture *f, gconstpointer data)
{
  g_autoptr (CatenaStage) stage = catena_stage_new ("generate", NULL);
  g_autoptr (GError) error = NULL;
  CatenaStageContext ctx = { 0 };
  GeglBuffer *out;

  catena_stage_set_provider (stage, "local");
  g_object_set (stage, "prompt", "x", "width", 16, "height", 16, NULL);
  out = catena_stage_process (stage, &ctx, NULL, &error);
  g_assert_null (out);
  g_assert_error (error, CATENA_PROVIDER_ERROR, CATENA_PROVIDER_ERROR_UNSUPPORTED);
}

static void
test_edit_stage (Fixture *f, gconstpointer data)
{
  g_autoptr (CatenaStage) stage = catena_stage_new ("edit", NULL);
  g_autoptr (GeglBuffer) in = provider_test_buffer (40, 30);
  g_autoptr (GeglBuffer) out = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (CatenaProvenance) prov = NULL;
  CatenaStageContext ctx = { 0 };

  out = catena_stage_process (stage, &ctx, in, &error);
  g_assert_null (out);
  g_assert_error (error, CATENA_STAGE_ERROR, CATENA_STAGE_ERROR_INVALID_PARAMETER);
  g_clear_error (&error);

  g_object_set (stage, "instruction", "make the strap gold", NULL);
  out = catena_stage_process (stage, &ctx, in, &error);
  g_assert_no_error (error);
  g_assert_cmpint (fake_server_count (f->fake, "upload-put"), ==, 1);
  /* provenance waits for the runner, which knows the key */
  prov = catena_provenance_steal_pending ();
  g_assert_nonnull (prov);
  g_assert_cmpstr (prov->stage_kind, ==, "edit");
  g_assert_cmpstr (prov->model, ==, "fal-ai/flux-pro/kontext");
  g_assert_true (catena_provenance_save (prov, f->cache, "abcdef0123456789", &error));
  g_assert_no_error (error);
  {
    g_autoptr (CatenaProvenance) back = catena_provenance_lookup (f->cache, "abcdef0123456789");
    g_assert_nonnull (back);
    g_assert_cmpstr (back->remote_id, ==, prov->remote_id);
  }
}

static gboolean
confirm_cost (double usd, guint n, gpointer data)
{
  double *seen = data;
  seen[0] = usd;
  seen[1] = n;
  return TRUE;
}

static gboolean
refuse_cost (double usd, guint n, gpointer data)
{
  return FALSE;
}

static void
test_style_sweep (Fixture *f, gconstpointer data)
{
  g_autoptr (CatenaStage) stage = catena_stage_new ("style", NULL);
  g_autoptr (GeglBuffer) in = provider_test_buffer (32, 32);
  g_autoptr (GError) error = NULL;
  g_auto (GStrv) keys = NULL;
  g_auto (GStrv) again = NULL;
  g_autofree char *exact = NULL;
  const double *strengths;
  guint n;
  double seen[2] = { -1, -1 };
  CatenaStageContext ctx = { 0 };

  g_object_set (stage, "lora", "https://example.com/acme.safetensors", "prompt", "product",
                NULL);
  /* refusing the estimate spends nothing */
  keys = catena_stage_style_render_sweep (CATENA_STAGE_STYLE (stage), &ctx, in,
                                          "0123456789abcdef", f->cache, refuse_cost, NULL,
                                          &error);
  g_assert_null (keys);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_cmpint (fake_server_count (f->fake, "submit"), ==, 0);
  g_clear_error (&error);

  keys = catena_stage_style_render_sweep (CATENA_STAGE_STYLE (stage), &ctx, in,
                                          "0123456789abcdef", f->cache, confirm_cost, seen,
                                          &error);
  g_assert_no_error (error);
  strengths = catena_stage_style_get_sweep_strengths (&n);
  g_assert_cmpuint (n, ==, 4);
  g_assert_cmpfloat (strengths[0], ==, 0.25);
  g_assert_cmpuint (g_strv_length (keys), ==, 4);
  g_assert_cmpfloat (seen[1], ==, 4);
  g_assert_cmpfloat (seen[0], >, 0);
  g_assert_cmpint (fake_server_count (f->fake, "submit"), ==, 4);
  for (guint i = 0; i < 4; i++)
    {
      g_autoptr (CatenaProvenance) p = catena_provenance_lookup (f->cache, keys[i]);
      g_autoptr (JsonObject) sent = NULL;
      g_assert_true (catena_cache_contains (f->cache, keys[i]));
      g_assert_nonnull (p);
      g_assert_cmpfloat (json_object_get_double_member (p->parameters, "lora_scale"), ==,
                         strengths[i]);
    }

  /* the chain's own key at 0.75 is one of the sweep's: releasing the slider there is a hit */
  g_object_set (stage, "strength", 0.75, NULL);
  exact = catena_stage_compute_key (stage, &ctx, "0123456789abcdef", &error);
  g_assert_cmpstr (exact, ==, keys[2]);

  /* a second sweep finds everything cached: no estimate asked, no request */
  seen[1] = -1;
  again = catena_stage_style_render_sweep (CATENA_STAGE_STYLE (stage), &ctx, in,
                                           "0123456789abcdef", f->cache, confirm_cost, seen,
                                           &error);
  g_assert_no_error (error);
  g_assert_cmpfloat (seen[1], ==, -1);
  g_assert_cmpint (fake_server_count (f->fake, "submit"), ==, 4);
}

static void
test_image_stage_remote (Fixture *f, gconstpointer data)
{
  g_autoptr (GeglBuffer) in = provider_test_buffer (20, 20);
  g_autoptr (GeglBuffer) out = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonObject) params = json_object_new ();
  g_autoptr (JsonObject) sent = NULL;
  g_autofree char *path = NULL;

  json_object_set_double_member (params, "scale", 4);
  out = catena_provider_run_image_stage ("fal", NULL, "upscale", in, params, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (out);
  path = fake_server_dup_last (f->fake, "submit-path");
  g_assert_cmpstr (path, ==, "/fal-ai/esrgan");
  sent = provider_test_take_parse (fake_server_dup_last (f->fake, "submit"));
  g_assert_cmpfloat (json_object_get_double_member (sent, "scale"), ==, 4);
  g_assert_true (json_object_has_member (sent, "image_url"));
  g_clear_object (&out);

  out = catena_provider_run_image_stage ("nowhere", NULL, "upscale", in, NULL, NULL, &error);
  g_assert_null (out);
  g_assert_error (error, CATENA_PROVIDER_ERROR, CATENA_PROVIDER_ERROR_UNSUPPORTED);
}

static void
test_local_provider (Fixture *f, gconstpointer data)
{
  CatenaProvider *local = catena_provider_get ("local");
  g_autoptr (CatenaProviderRequest) r = catena_provider_request_new ("upscale");
  g_autoptr (CatenaProviderResult) res = NULL;
  g_autoptr (GError) error = NULL;

  g_assert_true (catena_provider_supports (local, "upscale"));
  g_assert_true (catena_provider_supports (local, "remove-background"));
  g_assert_false (catena_provider_supports (local, "generate"));
  g_assert_cmpfloat (catena_provider_estimate_cost (local, r), ==, 0);
  r->input = provider_test_buffer (10, 10);
  r->scale = 2;
  res = catena_provider_run (local, r, NULL, NULL, NULL, &error);
  g_assert_no_error (error);
  assert_size (res->images->pdata[0], 20, 20);
  g_assert_cmpstr (res->provenance->provider, ==, "local");
}

static void
test_provenance_json (Fixture *f, gconstpointer data)
{
  g_autoptr (CatenaProvenance) p = catena_provenance_new ();
  g_autoptr (CatenaProvenance) back = NULL;
  g_autoptr (JsonNode) node = NULL;
  g_autoptr (GError) error = NULL;

  p->provider = g_strdup ("fal");
  p->model = g_strdup ("fal-ai/flux/dev");
  p->stage_kind = g_strdup ("generate");
  p->seed = 42;
  p->cost_usd = 0.05;
  p->started_at = G_GINT64_CONSTANT (1700000000) * G_USEC_PER_SEC;
  p->duration_s = 3.5;
  p->parameters = json_object_new ();
  json_object_set_string_member (p->parameters, "prompt", "a mug");
  node = catena_provenance_to_json (p);
  back = catena_provenance_new_from_json (node, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (back->model, ==, "fal-ai/flux/dev");
  g_assert_cmpint (back->seed, ==, 42);
  g_assert_cmpfloat (back->cost_usd, ==, 0.05);
  g_assert_cmpfloat (back->duration_s, ==, 3.5);
  g_assert_cmpstr (json_object_get_string_member (back->parameters, "prompt"), ==, "a mug");
  g_assert_null (catena_provenance_lookup (f->cache, "../../etc/passwd"));
}

int
main (int argc, char **argv)
{
  provider_test_init (&argc, &argv);

#define ADD(name, fn) g_test_add ("/providers/stages/" name, Fixture, NULL, setup, fn, teardown)
  ADD ("generate-candidates", test_generate_candidates);
  ADD ("generate-local-refused", test_generate_local_refused);
  ADD ("edit", test_edit_stage);
  ADD ("style-sweep", test_style_sweep);
  ADD ("image-stage-remote", test_image_stage_remote);
  ADD ("local-provider", test_local_provider);
  ADD ("provenance-json", test_provenance_json);
#undef ADD
  return g_test_run ();
}
