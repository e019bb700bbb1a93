/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <fcntl.h>
#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

#include "../catena-test-util.h"
#include "catena-batch.h"

/* Routing rules, prices, the ledger's file format and crash behaviour, budgets, and reading
 * SKU lists: everything that needs no provider. */

static CatenaChain *
make_chain (void)
{
  CatenaChain *chain = catena_chain_new ();
  const char *kinds[] = { "generate", "remove-background", "upscale", "export" };

  for (guint i = 0; i < G_N_ELEMENTS (kinds); i++)
    {
      g_autoptr (CatenaStage) s = catena_stage_new (kinds[i], NULL);
      g_assert_nonnull (s);
      catena_chain_append (chain, s);
    }
  return chain;
}

static JsonNode *
parse (const char *text)
{
  g_autoptr (JsonParser) p = json_parser_new ();
  g_assert_true (json_parser_load_from_data (p, text, -1, NULL));
  return json_parser_steal_root (p);
}

static void
test_router_defaults (void)
{
  g_autoptr (CatenaRouter) router = catena_router_new ();
  const char *provider = NULL, *model = NULL;

  /* data/routing/ is found from the build tree */
  g_assert_nonnull (catena_router_get_pricing_date (router));
  g_assert_true (catena_router_lookup_rule (router, CATENA_ASSET_CLASS_HERO, "upscale", &provider,
                                            &model));
  g_assert_cmpstr (provider, ==, "fal");
  g_assert_cmpstr (model, ==, "fal-ai/clarity-upscaler");
  g_assert_true (catena_router_lookup_rule (router, CATENA_ASSET_CLASS_THUMBNAIL, "upscale",
                                            &provider, &model));
  g_assert_cmpstr (provider, ==, "local");
  g_assert_false (catena_router_lookup_rule (router, CATENA_ASSET_CLASS_FEED, "recolor", NULL,
                                             NULL));
  g_assert_cmpuint (catena_router_get_concurrency (router, "fal"), ==, 8);
}

static void
test_router_route_and_pin (void)
{
  g_autoptr (CatenaRouter) router = catena_router_new ();
  g_autoptr (CatenaChain) chain = make_chain ();
  g_autoptr (CatenaChain) hero = NULL;
  g_autoptr (CatenaChain) thumb = NULL;
  g_autoptr (CatenaChain) pinned = NULL;

  hero = catena_router_route_chain (router, chain, CATENA_ASSET_CLASS_HERO);
  g_assert_cmpstr (catena_stage_get_provider (catena_chain_get_stage (hero, 2)), ==, "fal");
  g_assert_cmpstr (catena_stage_get_model (catena_chain_get_stage (hero, 2)), ==,
                   "fal-ai/clarity-upscaler");
  g_assert_cmpstr (catena_stage_get_model (catena_chain_get_stage (hero, 0)), ==,
                   "fal-ai/flux/dev");
  /* export is not routed */
  g_assert_cmpstr (catena_stage_get_provider (catena_chain_get_stage (hero, 3)), ==, "local");
  /* the original is untouched */
  g_assert_cmpstr (catena_stage_get_provider (catena_chain_get_stage (chain, 2)), ==, "local");

  /* routing changes cache keys: the provider/model are part of them */
  {
    g_autoptr (CatenaAsset) asset = catena_asset_new ("a");
    g_auto (GStrv) k1 = NULL;
    g_auto (GStrv) k2 = NULL;
    catena_asset_set_prompt (asset, "a teapot");
    catena_asset_set_asset_class (asset, CATENA_ASSET_CLASS_HERO);
    k1 = catena_chain_compute_keys (chain, asset, NULL, NULL, NULL);
    k2 = catena_chain_compute_keys (hero, asset, NULL, NULL, NULL);
    g_assert_cmpstr (k1[0], !=, k2[0]);
  }

  /* explicit settings win: a model set on the stage, a provider changed from the default,
   * or a pinned id */
  catena_stage_set_model (catena_chain_get_stage (chain, 0), "fal-ai/flux/schnell");
  catena_stage_set_provider (catena_chain_get_stage (chain, 1), "fal");
  catena_router_pin_stage (router, catena_stage_get_id (catena_chain_get_stage (chain, 2)));
  pinned = catena_router_route_chain (router, chain, CATENA_ASSET_CLASS_HERO);
  g_assert_cmpstr (catena_stage_get_model (catena_chain_get_stage (pinned, 0)), ==,
                   "fal-ai/flux/schnell");
  g_assert_cmpstr (catena_stage_get_model (catena_chain_get_stage (pinned, 1)), ==, "");
  g_assert_cmpstr (catena_stage_get_provider (catena_chain_get_stage (pinned, 2)), ==, "local");

  thumb = catena_router_route_chain (router, chain, CATENA_ASSET_CLASS_THUMBNAIL);
  g_assert_cmpstr (catena_stage_get_provider (catena_chain_get_stage (thumb, 1)), ==, "fal");
}

static void
test_router_project_section (void)
{
  g_autoptr (CatenaProject) project = catena_project_new ();
  g_autoptr (CatenaRouter) router = NULL;
  g_autoptr (CatenaRouter) again = NULL;
  g_autoptr (JsonNode) section = parse (
    "{\"rules\": {\"*\": {\"generate\": {\"provider\": \"openai\", \"model\": \"gpt-image-1\"}}},"
    " \"concurrency\": {\"openai\": 2},"
    " \"pricing\": {\"read_on\": \"2030-01-02\", \"prices\": [{\"provider\": \"openai\", "
    "\"model\": \"gpt-image-1\", \"per_image\": 0.5}]}}");
  g_autoptr (JsonNode) bad_provider =
    parse ("{\"rules\": {\"hero\": {\"upscale\": {\"provider\": \"acme\"}}}}");
  g_autoptr (JsonNode) bad_kind =
    parse ("{\"rules\": {\"hero\": {\"generate\": {\"provider\": \"local\"}}}}");
  g_autoptr (JsonNode) bad_class =
    parse ("{\"rules\": {\"poster\": {\"generate\": {\"provider\": \"fal\"}}}}");
  g_autoptr (JsonNode) saved = NULL;
  g_autoptr (GError) error = NULL;
  const char *provider, *model;

  catena_project_set_section (project, "routing", section);
  router = catena_router_new_for_project (project, &error);
  g_assert_no_error (error);
  g_assert_true (catena_router_lookup_rule (router, CATENA_ASSET_CLASS_FEED, "generate",
                                            &provider, &model));
  /* the class rule from the defaults still wins over the project's "*" */
  g_assert_cmpstr (provider, ==, "fal");
  catena_router_set_rule (router, CATENA_ASSET_CLASS_FEED, "generate", "openai", "gpt-image-1");
  g_assert_cmpfloat_with_epsilon (catena_router_estimate (router, "openai", "gpt-image-1",
                                                          "generate", 1024, 1024, 3),
                                  1.5, 1e-9);
  g_assert_cmpstr (catena_router_get_pricing_date (router), ==, "2030-01-02");
  g_assert_cmpuint (catena_router_get_concurrency (router, "openai"), ==, 2);

  /* round trip through the section */
  saved = catena_router_to_json (router);
  again = g_object_new (CATENA_TYPE_ROUTER, NULL);
  g_assert_true (catena_router_load_rules (again, saved, &error));
  g_assert_no_error (error);
  g_assert_true (catena_router_lookup_rule (again, CATENA_ASSET_CLASS_FEED, "generate",
                                            &provider, NULL));
  g_assert_cmpstr (provider, ==, "openai");
  g_assert_cmpfloat_with_epsilon (catena_router_estimate (again, "openai", "gpt-image-1",
                                                          "generate", 1024, 1024, 1),
                                  0.5, 1e-9);

  g_assert_false (catena_router_load_rules (again, bad_provider, &error));
  g_assert_error (error, CATENA_ROUTING_ERROR, CATENA_ROUTING_ERROR_UNKNOWN_PROVIDER);
  g_clear_error (&error);
  g_assert_false (catena_router_load_rules (again, bad_kind, &error));
  g_assert_error (error, CATENA_ROUTING_ERROR, CATENA_ROUTING_ERROR_UNSUPPORTED);
  g_clear_error (&error);
  g_assert_false (catena_router_load_rules (again, bad_class, &error));
  g_assert_error (error, CATENA_ROUTING_ERROR, CATENA_ROUTING_ERROR_INVALID);
}

static void
test_router_estimate (void)
{
  g_autoptr (CatenaRouter) router = catena_router_new ();
  g_autoptr (CatenaStage) gen = catena_stage_new ("generate", NULL);
  g_autoptr (CatenaStage) up = catena_stage_new ("upscale", NULL);
  g_autoptr (CatenaAsset) asset = catena_asset_new ("a");

  /* per megapixel, rounded up per image */
  g_assert_cmpfloat_with_epsilon (catena_router_estimate (router, "fal", "fal-ai/flux/schnell",
                                                          "generate", 1000, 1000, 4),
                                  0.012, 1e-9);
  g_assert_cmpfloat_with_epsilon (catena_router_estimate (router, "fal", "fal-ai/flux/schnell",
                                                          "generate", 1024, 1024, 1),
                                  0.006, 1e-9);
  /* empty model: the provider's default for the kind */
  g_assert_cmpfloat_with_epsilon (catena_router_estimate (router, "fal", "", "remove-background",
                                                          0, 0, 1),
                                  0.002, 1e-9);
  g_assert_cmpfloat (catena_router_estimate (router, "local", "", "upscale", 100, 100, 1), ==, 0);
  g_assert_cmpfloat (catena_router_estimate (router, "comfyui", "x", "generate", 100, 100, 1), ==,
                     0);

  /* a stage: generate 512² × 2 candidates on schnell */
  g_object_set (gen, "width", 512, "height", 512, "candidates", 2, NULL);
  g_assert_true (catena_stage_is_remote_call (gen));
  g_assert_cmpfloat_with_epsilon (catena_router_estimate_stage (router, gen, asset, 0, 0), 0.006,
                                  1e-9);
  g_assert_false (catena_stage_is_remote_call (up));
  g_assert_cmpfloat (catena_router_estimate_stage (router, up, asset, 100, 100), ==, 0);
  catena_stage_set_provider (up, "fal");
  g_assert_true (catena_stage_is_remote_call (up));
}

static char *
temp_file (const char *name)
{
  g_autofree char *dir = g_dir_make_tmp ("catena-ledger-XXXXXX", NULL);
  return g_build_filename (dir, name, NULL);
}

static void
append (CatenaLedger *ledger, const char *call, CatenaLedgerEvent event, const char *campaign,
        const char *asset, const char *stage, double est, double rep)
{
  g_autoptr (CatenaLedgerEntry) e = catena_ledger_entry_new ();
  g_autoptr (GError) error = NULL;

  e->call_id = g_strdup (call);
  e->event = event;
  e->campaign = g_strdup (campaign);
  e->asset = g_strdup (asset);
  e->stage = g_strdup (stage);
  e->stage_kind = g_strdup ("generate");
  e->provider = g_strdup ("fal");
  e->model = g_strdup ("fal-ai/flux/schnell");
  e->estimated_usd = est;
  e->reported_usd = rep;
  g_assert_true (catena_ledger_append (ledger, e, &error));
  g_assert_no_error (error);
}

static char *
export (const char *path, const char *by, const char *campaign)
{
  const char *paths[] = { path, NULL };
  g_autoptr (GOutputStream) out = g_memory_output_stream_new_resizable ();
  g_autoptr (GError) error = NULL;

  g_assert_true (catena_ledger_export_csv (paths, by, campaign, out, NULL, &error));
  g_assert_no_error (error);
  g_output_stream_write_all (out, "", 1, NULL, NULL, NULL);
  g_output_stream_close (out, NULL, NULL);
  return g_memory_output_stream_steal_data (G_MEMORY_OUTPUT_STREAM (out));
}

static guint
count_lines (const char *text)
{
  guint n = 0;
  for (const char *p = text; *p; p++)
    n += *p == '\n';
  return n;
}

static void
test_ledger_reopen_and_torn_line (void)
{
  g_autofree char *path = temp_file ("spend.jsonl");
  g_autoptr (CatenaLedger) ledger = NULL;
  g_autoptr (CatenaLedger) again = NULL;
  g_autoptr (GPtrArray) calls = NULL;
  g_autoptr (GError) error = NULL;
  const char *paths[] = { path, NULL };
  int fd;

  ledger = catena_ledger_open (path, &error);
  g_assert_no_error (error);
  append (ledger, "c1", CATENA_LEDGER_SENT, "spring", "sku-1", "generate", 0.01, 0);
  append (ledger, "c1", CATENA_LEDGER_BILLED, "spring", "sku-1", "generate", 0.01, 0.012);
  append (ledger, "c2", CATENA_LEDGER_SENT, "spring", "sku-2", "generate", 0.01, 0);
  append (ledger, "c3", CATENA_LEDGER_SENT, "autumn", "sku-3", "generate", 0.02, 0);
  append (ledger, "c3", CATENA_LEDGER_FAILED, "autumn", "sku-3", "generate", 0.02, 0);
  g_assert_cmpfloat_with_epsilon (catena_ledger_get_spent (ledger, "spring"), 0.022, 1e-9);
  g_assert_cmpfloat_with_epsilon (catena_ledger_get_spent (ledger, "autumn"), 0, 1e-9);
  g_clear_object (&ledger);

  /* a record torn by a kill: no newline, half a JSON object */
  fd = g_open (path, O_WRONLY | O_APPEND, 0);
  g_assert_cmpint (write (fd, "{\"v\":1,\"event\":\"billed\",\"call\":\"c2\",\"repo", 38), ==, 38);
  close (fd);

  again = catena_ledger_open (path, &error);
  g_assert_no_error (error);
  /* c2 was in flight: counted at its estimate, as it may have been billed */
  g_assert_cmpfloat_with_epsilon (catena_ledger_get_spent (again, "spring"), 0.022, 1e-9);
  g_assert_cmpuint (catena_ledger_get_n_unconfirmed (again), ==, 1);
  append (again, "c4", CATENA_LEDGER_SENT, "spring", "sku-4", "generate", 0.01, 0);
  append (again, "c4", CATENA_LEDGER_BILLED, "spring", "sku-4", "generate", 0.01, 0.01);

  calls = catena_ledger_read_calls (paths, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (calls->len, ==, 4);
  g_assert_cmpint (((CatenaLedgerEntry *) calls->pdata[1])->event, ==, CATENA_LEDGER_SENT);
  g_assert_cmpint (((CatenaLedgerEntry *) calls->pdata[3])->event, ==, CATENA_LEDGER_BILLED);
  g_assert_cmpfloat_with_epsilon (catena_ledger_get_spent (again, NULL), 0.032, 1e-9);
}

static void
test_ledger_reconcile (void)
{
  g_autofree char *path = temp_file ("spend.jsonl");
  g_autofree char *dir = g_path_get_dirname (path);
  g_autofree char *cache_dir = g_build_filename (dir, "cache", NULL);
  g_autoptr (CatenaCache) cache = catena_cache_new (cache_dir, 1 << 20);
  g_autoptr (CatenaLedger) ledger = catena_ledger_open (path, NULL);
  g_autoptr (GeglBuffer) buffer = gegl_buffer_new (GEGL_RECTANGLE (0, 0, 4, 4),
                                                   babl_format ("R'G'B'A float"));
  g_autoptr (CatenaLedgerEntry) stored = catena_ledger_entry_new ();
  g_autoptr (CatenaLedgerEntry) lost = catena_ledger_entry_new ();
  const char *key = "00aa11bb22cc33dd44ee55ff66007711aa22bb33cc44dd55ee66ff7700881199";

  /* killed after the result was stored but before "billed" was written */
  g_assert_true (catena_cache_store (cache, key, buffer, NULL));
  stored->event = lost->event = CATENA_LEDGER_SENT;
  stored->campaign = g_strdup ("c");
  stored->key = g_strdup (key);
  stored->estimated_usd = 0.04;
  lost->campaign = g_strdup ("c");
  lost->key = g_strdup ("ffff");
  lost->estimated_usd = 0.02;
  g_assert_true (catena_ledger_append (ledger, stored, NULL));
  g_assert_true (catena_ledger_append (ledger, lost, NULL));
  g_assert_cmpuint (catena_ledger_get_n_unconfirmed (ledger), ==, 2);
  g_assert_cmpuint (catena_ledger_reconcile (ledger, cache, NULL), ==, 1);
  g_assert_cmpuint (catena_ledger_get_n_unconfirmed (ledger), ==, 1);
  g_assert_cmpfloat_with_epsilon (catena_ledger_get_spent (ledger, "c"), 0.06, 1e-9);
  g_assert_cmpuint (catena_ledger_reconcile (ledger, cache, NULL), ==, 0);
  /* its result was kept by the provider instead (generate candidates): billed at its cost */
  g_assert_cmpuint (catena_ledger_confirm_key (ledger, "eeee", 0.05, NULL), ==, 0);
  g_assert_cmpuint (catena_ledger_confirm_key (ledger, "ffff", 0.05, NULL), ==, 1);
  g_assert_cmpuint (catena_ledger_get_n_unconfirmed (ledger), ==, 0);
  g_assert_cmpfloat_with_epsilon (catena_ledger_get_spent (ledger, "c"), 0.09, 1e-9);
  g_assert_cmpuint (catena_ledger_confirm_key (ledger, "ffff", 0.05, NULL), ==, 0);
  test_rm_rf (dir);
}

static void
test_ledger_csv (void)
{
  g_autofree char *path = temp_file ("spend.jsonl");
  g_autoptr (CatenaLedger) ledger = catena_ledger_open (path, NULL);
  g_autofree char *by_call = NULL;
  g_autofree char *by_campaign = NULL;
  g_autofree char *by_asset = NULL;
  g_autofree char *by_stage = NULL;
  g_autofree char *spring = NULL;
  g_autoptr (GError) error = NULL;
  const char *paths[] = { path, NULL };
  g_autoptr (GOutputStream) out = g_memory_output_stream_new_resizable ();

  append (ledger, "c1", CATENA_LEDGER_SENT, "spring", "sku,1", "generate", 0.01, 0);
  append (ledger, "c1", CATENA_LEDGER_BILLED, "spring", "sku,1", "generate", 0.01, 0.01);
  append (ledger, "c2", CATENA_LEDGER_SENT, "spring", "sku,1", "upscale", 0.03, 0);
  append (ledger, "c2", CATENA_LEDGER_BILLED, "spring", "sku,1", "upscale", 0.03, 0.03);
  append (ledger, "c3", CATENA_LEDGER_SENT, "autumn", "sku-2", "generate", 0.01, 0);

  by_call = export (path, "call", NULL);
  g_assert_true (g_str_has_prefix (by_call, "time,campaign,asset,stage,kind,provider,model,"
                                            "status,estimated_usd,reported_usd"));
  g_assert_cmpuint (count_lines (by_call), ==, 4);
  g_assert_nonnull (strstr (by_call, ",spring,\"sku,1\",upscale,generate,fal,"));
  g_assert_nonnull (strstr (by_call, ",unconfirmed,"));

  by_campaign = export (path, "campaign", NULL);
  g_assert_cmpstr (by_campaign, ==,
                   "campaign,calls,billed,unconfirmed,failed,estimated_usd,reported_usd\r\n"
                   "spring,2,2,0,0,0.040000,0.040000\r\n"
                   "autumn,1,0,1,0,0.010000,0.000000\r\n");
  by_asset = export (path, "asset", NULL);
  g_assert_cmpuint (count_lines (by_asset), ==, 3);
  by_stage = export (path, "stage", NULL);
  g_assert_cmpuint (count_lines (by_stage), ==, 4);
  g_assert_nonnull (strstr (by_stage, "spring,\"sku,1\",upscale,1,1,0,0,0.030000,0.030000"));
  spring = export (path, "asset", "spring");
  g_assert_cmpuint (count_lines (spring), ==, 2);

  g_assert_false (catena_ledger_export_csv (paths, "colour", NULL, out, NULL, &error));
  g_assert_error (error, CATENA_ROUTING_ERROR, CATENA_ROUTING_ERROR_INVALID);
}

static void
test_budget (void)
{
  g_autoptr (CatenaBudget) budget = catena_budget_new (0.10, 0.04);
  g_autoptr (CatenaBudget) unlimited = catena_budget_new (-1, 5);
  g_autoptr (GError) error = NULL;

  g_assert_true (catena_budget_reserve (budget, 0.03, NULL));
  g_assert_true (catena_budget_reserve (budget, 0.03, NULL));
  /* 0.04 spent + 0.06 reserved: nothing left */
  g_assert_false (catena_budget_reserve (budget, 0.001, &error));
  g_assert_error (error, CATENA_ROUTING_ERROR, CATENA_ROUTING_ERROR_BUDGET);
  g_assert_nonnull (strstr (error->message, "$0.10"));
  /* a call came in cheaper than estimated */
  catena_budget_settle (budget, 0.03, 0.02);
  g_assert_true (catena_budget_reserve (budget, 0.01, NULL));
  g_assert_cmpfloat_with_epsilon (catena_budget_get_spent (budget), 0.06, 1e-9);
  catena_budget_set_limit (budget, 1);
  g_assert_true (catena_budget_reserve (budget, 0.5, NULL));
  g_assert_true (catena_budget_reserve (unlimited, 1000, NULL));
}

static char *
write_csv (const char *dir, const char *name, const char *text)
{
  char *path = g_build_filename (dir, name, NULL);
  g_assert_true (g_file_set_contents (path, text, -1, NULL));
  return path;
}

static void
test_batch_csv (void)
{
  g_autofree char *dir = g_dir_make_tmp ("catena-csv-XXXXXX", NULL);
  g_autofree char *photo = g_build_filename (dir, "mug.png", NULL);
  g_autofree char *good = NULL;
  g_autoptr (CatenaProject) project = catena_project_new ();
  g_autoptr (CatenaBatch) batch = NULL;
  g_autoptr (CatenaBatch) shard = NULL;
  g_autoptr (CatenaBatchRow) row0 = NULL;
  g_autoptr (CatenaBatchRow) row1 = NULL;
  g_autoptr (CatenaBatchRow) row2 = NULL;
  g_autoptr (GError) error = NULL;
  guint index, count;
  const char *bad[] = {
    "id,prompt\nA,x\nA,y\n",                 /* repeated id */
    "id,prompt,class\nA,x,poster\n",         /* unknown class */
    "id,photo\nA,missing.png\n",             /* no such photo */
    "id,prompt\nA,\"never closed\n",         /* open quote */
    "name,colour\nA,red\n",                  /* no id/photo/prompt */
    "id,prompt,photo\nA,,\n",                /* neither photo nor prompt */
  };

  g_assert_true (g_file_set_contents (photo, "not read before the run", -1, NULL));
  good = write_csv (dir, "skus.csv",
                    "\xef\xbb\xbfid,photo,prompt,class,colour\r\n"
                    "MUG-1,mug.png,,hero,red\r\n"
                    "\r\n"
                    "TEE-2,,\"A {colour} T-shirt, \"\"studio\"\" light\",thumbnail,"
                    "\"navy\nblue\"\r\n"
                    "CAP-3,,a {colour} cap,,green\r\n");
  batch = catena_batch_new (project);
  g_assert_true (catena_batch_load_csv (batch, good, CATENA_ASSET_CLASS_FEED, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (g_list_model_get_n_items (catena_batch_get_rows (batch)), ==, 3);
  row0 = g_list_model_get_item (catena_batch_get_rows (batch), 0);
  row1 = g_list_model_get_item (catena_batch_get_rows (batch), 1);
  row2 = g_list_model_get_item (catena_batch_get_rows (batch), 2);
  g_assert_cmpstr (catena_batch_row_get_id (row0), ==, "MUG-1");
  g_assert_cmpstr (catena_batch_row_get_source (row0), ==, photo);
  g_assert_cmpint (catena_batch_row_get_asset_class (row0), ==, CATENA_ASSET_CLASS_HERO);
  g_assert_cmpstr (catena_batch_row_get_prompt (row1), ==,
                   "A navy\nblue T-shirt, \"studio\" light");
  g_assert_cmpint (catena_batch_row_get_asset_class (row1), ==, CATENA_ASSET_CLASS_THUMBNAIL);
  g_assert_cmpint (catena_batch_row_get_asset_class (row2), ==, CATENA_ASSET_CLASS_FEED);
  g_assert_cmpstr (catena_batch_row_get_extra (row2, "colour"), ==, "green");
  g_assert_cmpint (catena_batch_row_get_status (row2), ==, CATENA_BATCH_ROW_PENDING);
  g_assert_nonnull (catena_project_find_asset (catena_batch_get_project (batch), "CAP-3"));
  /* the caller's project is not touched */
  g_assert_cmpuint (g_list_model_get_n_items (catena_project_get_assets (project)), ==, 0);

  /* shard 1/2 takes the second row of the file (blank lines do not count) */
  g_assert_true (catena_batch_parse_shard ("1/2", &index, &count, NULL));
  shard = catena_batch_new (project);
  catena_batch_set_shard (shard, index, count);
  g_assert_true (catena_batch_load_csv (shard, good, CATENA_ASSET_CLASS_FEED, NULL));
  g_assert_cmpuint (g_list_model_get_n_items (catena_batch_get_rows (shard)), ==, 1);
  {
    g_autoptr (CatenaBatchRow) r = g_list_model_get_item (catena_batch_get_rows (shard), 0);
    g_assert_cmpstr (catena_batch_row_get_id (r), ==, "TEE-2");
  }
  g_assert_false (catena_batch_parse_shard ("2/2", &index, &count, &error));
  g_assert_error (error, CATENA_ROUTING_ERROR, CATENA_ROUTING_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_false (catena_batch_parse_shard ("x", &index, &count, NULL));

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autofree char *name = g_strdup_printf ("bad%u.csv", i);
      g_autofree char *path = write_csv (dir, name, bad[i]);
      g_autoptr (CatenaBatch) b = catena_batch_new (project);

      g_assert_false (catena_batch_load_csv (b, path, CATENA_ASSET_CLASS_FEED, &error));
      g_assert_nonnull (error);
      g_test_message ("%s", error->message);
      g_clear_error (&error);
    }
  test_rm_rf (dir);
}

static void
test_batch_folder (void)
{
  g_autofree char *dir = g_dir_make_tmp ("catena-folder-XXXXXX", NULL);
  g_autoptr (CatenaProject) project = catena_project_new ();
  g_autoptr (CatenaBatch) batch = catena_batch_new (project);
  g_autoptr (CatenaBatch) empty = catena_batch_new (project);
  g_autoptr (GError) error = NULL;
  const char *names[] = { "b.JPG", "a.png", "notes.txt", ".hidden.png" };

  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    {
      g_autofree char *p = g_build_filename (dir, names[i], NULL);
      g_assert_true (g_file_set_contents (p, "x", -1, NULL));
    }
  g_assert_true (catena_batch_load_folder (batch, dir, CATENA_ASSET_CLASS_THUMBNAIL, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (g_list_model_get_n_items (catena_batch_get_rows (batch)), ==, 2);
  {
    g_autoptr (CatenaBatchRow) r = g_list_model_get_item (catena_batch_get_rows (batch), 0);
    g_assert_cmpstr (catena_batch_row_get_id (r), ==, "a");
    g_assert_cmpint (catena_batch_row_get_asset_class (r), ==, CATENA_ASSET_CLASS_THUMBNAIL);
  }
  test_rm_rf (dir);
  g_assert_false (catena_batch_load_folder (empty, dir, CATENA_ASSET_CLASS_FEED, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
}

int
main (int argc, char **argv)
{
  g_setenv ("CATENA_NO_SECRET_SERVICE", "1", TRUE);
  g_test_init (&argc, &argv, NULL);
  catena_engine_init ();

  g_test_add_func ("/router/defaults", test_router_defaults);
  g_test_add_func ("/router/route-and-pin", test_router_route_and_pin);
  g_test_add_func ("/router/project-section", test_router_project_section);
  g_test_add_func ("/router/estimate", test_router_estimate);
  g_test_add_func ("/ledger/reopen-and-torn-line", test_ledger_reopen_and_torn_line);
  g_test_add_func ("/ledger/reconcile", test_ledger_reconcile);
  g_test_add_func ("/ledger/csv", test_ledger_csv);
  g_test_add_func ("/ledger/budget", test_budget);
  g_test_add_func ("/batch/csv", test_batch_csv);
  g_test_add_func ("/batch/folder", test_batch_folder);
  return g_test_run ();
}
