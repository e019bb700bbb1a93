/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <glib/gstdio.h>
#include <string.h>

#include "catena-image-io.h"
#include "catena-test-util.h"

static void
fill_noise (int x, int y, float px[4])
{
  guint32 h = ((guint32) x * 73856093u) ^ ((guint32) y * 19349663u);
  px[0] = (h & 0xff) / 255.0f;
  px[1] = ((h >> 8) & 0xff) / 255.0f;
  px[2] = ((h >> 16) & 0xff) / 255.0f;
  px[3] = ((h >> 24) & 0xff) / 255.0f;
}

#define KEY_A "aa11aa11aa11aa11aa11aa11aa11aa11aa11aa11aa11aa11aa11aa11aa11aa11"
#define KEY_B "bb22bb22bb22bb22bb22bb22bb22bb22bb22bb22bb22bb22bb22bb22bb22bb22"

static void
test_cache_round_trip (void)
{
  g_autofree char *dir = test_mkdtemp ();
  g_autoptr (CatenaCache) cache = catena_cache_new (dir, 64 * 1024 * 1024);
  g_autoptr (GeglBuffer) buffer = test_make_buffer (77, 130, fill_noise);
  g_autoptr (GeglBuffer) hit = NULL;
  g_autofree float *a = NULL;
  g_autofree float *b = NULL;
  GError *error = NULL;

  g_assert_null (catena_cache_lookup (cache, KEY_A, &error));
  g_assert_no_error (error);
  g_assert_false (catena_cache_contains (cache, KEY_A));

  g_assert_true (catena_cache_store (cache, KEY_A, buffer, &error));
  g_assert_no_error (error);
  g_assert_true (catena_cache_contains (cache, KEY_A));

  /* From disk, after the memory tier is dropped: bit-exact, same size and format. */
  catena_cache_clear_memory (cache);
  hit = catena_cache_lookup (cache, KEY_A, &error);
  g_assert_no_error (error);
  g_assert_nonnull (hit);
  g_assert_cmpint (gegl_buffer_get_extent (hit)->width, ==, 77);
  g_assert_cmpint (gegl_buffer_get_extent (hit)->height, ==, 130);
  g_assert_true (gegl_buffer_get_format (hit) == gegl_buffer_get_format (buffer));
  a = test_read_pixels (buffer, NULL);
  b = test_read_pixels (hit, NULL);
  g_assert_cmpmem (a, 77 * 130 * 16, b, 77 * 130 * 16);

  /* Invalid keys never touch the disk. */
  g_assert_null (catena_cache_lookup (cache, "../../etc/passwd", NULL));
  g_assert_false (catena_cache_contains (cache, "zz"));

  g_assert_true (catena_cache_clear (cache, &error));
  g_assert_false (catena_cache_contains (cache, KEY_A));
  test_rm_rf (dir);
}

static void
test_cache_lru (void)
{
  g_autofree char *dir = test_mkdtemp ();
  /* Room for one 100×100 float buffer (160 kB) in memory. */
  g_autoptr (CatenaCache) cache = catena_cache_new (dir, 200 * 1000);
  g_autoptr (GeglBuffer) one = test_make_buffer (100, 100, fill_noise);
  g_autoptr (GeglBuffer) two = test_make_buffer (100, 100, fill_noise);
  g_autoptr (GeglBuffer) hit = NULL;

  g_assert_true (catena_cache_store (cache, KEY_A, one, NULL));
  g_assert_true (catena_cache_store (cache, KEY_B, two, NULL));
  /* KEY_B is in memory (the same object comes back); KEY_A was evicted and comes from disk. */
  hit = catena_cache_lookup (cache, KEY_B, NULL);
  g_assert_true (hit == two);
  g_clear_object (&hit);
  hit = catena_cache_lookup (cache, KEY_A, NULL);
  g_assert_nonnull (hit);
  g_assert_true (hit != one);
  test_rm_rf (dir);
}

static void
test_cache_corrupt (void)
{
  g_autofree char *dir = test_mkdtemp ();
  g_autoptr (CatenaCache) cache = catena_cache_new (dir, 0);
  g_autoptr (GeglBuffer) buffer = test_make_buffer (40, 30, fill_noise);
  g_autofree char *path = g_build_filename (dir, "aa", KEY_A ".cbuf", NULL);
  g_autofree char *data = NULL;
  gsize len;
  GError *error = NULL;

  g_assert_true (catena_cache_store (cache, KEY_A, buffer, NULL));
  g_assert_true (g_file_get_contents (path, &data, &len, NULL));

  /* Truncated (a writer killed mid-way, a full disk): a miss, and the entry is dropped. */
  g_assert_true (g_file_set_contents (path, data, len - 100, NULL));
  g_assert_null (catena_cache_lookup (cache, KEY_A, &error));
  g_assert_no_error (error);
  g_assert_false (g_file_test (path, G_FILE_TEST_EXISTS));

  /* A header claiming a huge image is refused before allocating. */
  memset (data + 8, 0xff, 8);
  g_assert_true (g_file_set_contents (path, data, len, NULL));
  g_assert_null (catena_cache_lookup (cache, KEY_A, &error));
  g_assert_no_error (error);
  test_rm_rf (dir);
}

/* Runner */

typedef struct
{
  GMainLoop *loop;
  gboolean ok;
  GError *error;
  GPtrArray *finished; /* "asset:stage:cached|run" */
  GPtrArray *outputs;
  guint n_progress;
  gboolean wrong_thread;
  GCancellable *cancel_on_progress;
} RunResult;

static GThread *main_thread;

static void
on_stage_finished (CatenaRunner *runner, const char *asset_id, guint index, const char *stage_id,
                   const char *key, gboolean from_cache, RunResult *r)
{
  if (g_thread_self () != main_thread)
    r->wrong_thread = TRUE;
  g_ptr_array_add (r->finished,
                   g_strdup_printf ("%s:%s:%s", asset_id, stage_id, from_cache ? "cached" : "run"));
}

static void
on_asset_progress (CatenaRunner *runner, const char *asset_id, guint index, double fraction,
                   RunResult *r)
{
  if (g_thread_self () != main_thread)
    r->wrong_thread = TRUE;
  r->n_progress++;
  if (r->cancel_on_progress && index == 1 && fraction > 0.0 && fraction < 1.0)
    g_cancellable_cancel (r->cancel_on_progress);
}

static void
on_asset_finished (CatenaRunner *runner, const char *asset_id, const char *output,
                   const char *error_message, RunResult *r)
{
  g_ptr_array_add (r->outputs, g_strdup_printf ("%s=%s", asset_id,
                                                output ? output : error_message ? error_message : "-"));
}

static void
on_done (GObject *source, GAsyncResult *result, gpointer data)
{
  RunResult *r = data;
  r->ok = catena_runner_run_finish (CATENA_RUNNER (source), result, &r->error);
  g_main_loop_quit (r->loop);
}

static void
run_result_clear (RunResult *r)
{
  g_clear_pointer (&r->loop, g_main_loop_unref);
  g_clear_pointer (&r->finished, g_ptr_array_unref);
  g_clear_pointer (&r->outputs, g_ptr_array_unref);
  g_clear_error (&r->error);
}

static void
run_project (CatenaRunner *runner,
             CatenaProject *project,
             const char *out_dir,
             GCancellable *cancellable,
             RunResult *r)
{
  gulong ids[3];

  memset (r, 0, sizeof *r);
  r->loop = g_main_loop_new (NULL, FALSE);
  r->finished = g_ptr_array_new_with_free_func (g_free);
  r->outputs = g_ptr_array_new_with_free_func (g_free);
  ids[0] = g_signal_connect (runner, "stage-finished", G_CALLBACK (on_stage_finished), r);
  ids[1] = g_signal_connect (runner, "asset-progress", G_CALLBACK (on_asset_progress), r);
  ids[2] = g_signal_connect (runner, "asset-finished", G_CALLBACK (on_asset_finished), r);
  r->cancel_on_progress = cancellable;
  catena_runner_run_async (runner, project, NULL, out_dir, cancellable, on_done, r);
  g_assert_true (catena_runner_get_running (runner));
  g_main_loop_run (r->loop);
  for (guint i = 0; i < G_N_ELEMENTS (ids); i++)
    g_signal_handler_disconnect (runner, ids[i]);
  g_assert_false (r->wrong_thread);
  g_assert_false (catena_runner_get_running (runner));
}

static CatenaProject *
demo_like_project (const char *photo, guint n_assets)
{
  CatenaProject *project = catena_project_new ();
  CatenaChain *chain = catena_project_get_chain (project);
  const char *kinds[] = { "import", "upscale", "export" };

  for (guint i = 0; i < G_N_ELEMENTS (kinds); i++)
    {
      g_autoptr (CatenaStage) s = catena_stage_new (kinds[i], NULL);
      catena_chain_append (chain, s);
    }
  g_assert_true (catena_chain_apply_setting (chain, "export.long-edge=300", NULL));
  /* The classic sampler keeps these cache/runner tests fast whether or not ESRGAN is installed. */
  g_assert_true (catena_chain_apply_setting (chain, "upscale.method=classic", NULL));
  for (guint i = 0; i < n_assets; i++)
    {
      g_autofree char *id = g_strdup_printf ("sku-%u", i);
      g_autoptr (CatenaAsset) asset = catena_asset_new (id);
      catena_asset_set_source (asset, photo);
      catena_project_add_asset (project, asset);
    }
  return project;
}

static void
stats_delta (CatenaRunner *runner, guint *last_exec, guint *last_cached, guint *d_exec, guint *d_cached)
{
  guint e, c;
  catena_runner_get_stats (runner, &e, &c);
  *d_exec = e - *last_exec;
  *d_cached = c - *last_cached;
  *last_exec = e;
  *last_cached = c;
}

static void
test_runner_cache_invalidation (void)
{
  g_autofree char *dir = test_mkdtemp ();
  g_autofree char *cache_dir = g_build_filename (dir, "cache", NULL);
  g_autofree char *out_dir = g_build_filename (dir, "out", NULL);
  g_autofree char *photo = test_source_path ("data/demo/coffee.png");
  g_autoptr (CatenaCache) cache = catena_cache_new (cache_dir, 256 * 1024 * 1024);
  g_autoptr (CatenaRunner) runner = catena_runner_new (cache);
  g_autoptr (CatenaProject) project = demo_like_project (photo, 1);
  CatenaChain *chain = catena_project_get_chain (project);
  guint le = 0, lc = 0, de, dc;
  RunResult r;

  /* First run: every stage executes, and the export is written. */
  run_project (runner, project, out_dir, NULL, &r);
  g_assert_no_error (r.error);
  g_assert_true (r.ok);
  stats_delta (runner, &le, &lc, &de, &dc);
  g_assert_cmpuint (de, ==, 3);
  g_assert_cmpuint (dc, ==, 0);
  g_assert_cmpuint (r.finished->len, ==, 3);
  g_assert_cmpstr (g_ptr_array_index (r.finished, 2), ==, "sku-0:export:run");
  g_assert_cmpuint (r.n_progress, >, 0);
  g_assert_cmpfloat (catena_runner_get_fraction (runner), ==, 1.0);
  {
    g_autofree char *expected = g_build_filename (out_dir, "sku-0.png", NULL);
    g_autofree char *line = g_strdup_printf ("sku-0=%s", expected);
    g_assert_cmpstr (g_ptr_array_index (r.outputs, 0), ==, line);
    g_assert_true (g_file_test (expected, G_FILE_TEST_IS_REGULAR));
  }
  run_result_clear (&r);

  /* Same chain again: nothing runs, the file is still written from the cache. */
  {
    g_autofree char *expected = g_build_filename (out_dir, "sku-0.png", NULL);
    g_unlink (expected);
    run_project (runner, project, out_dir, NULL, &r);
    g_assert_true (r.ok);
    stats_delta (runner, &le, &lc, &de, &dc);
    g_assert_cmpuint (de, ==, 0);
    g_assert_cmpuint (dc, ==, 3);
    g_assert_true (g_file_test (expected, G_FILE_TEST_IS_REGULAR));
    run_result_clear (&r);
  }

  /* Tweak the last stage: only it runs. */
  g_assert_true (catena_chain_apply_setting (chain, "export.format=jpeg", NULL));
  run_project (runner, project, out_dir, NULL, &r);
  g_assert_true (r.ok);
  stats_delta (runner, &le, &lc, &de, &dc);
  g_assert_cmpuint (de, ==, 1);
  g_assert_cmpuint (dc, ==, 2);
  g_assert_cmpstr (g_ptr_array_index (r.finished, 2), ==, "sku-0:export:run");
  run_result_clear (&r);

  /* Tweak the middle stage: it and everything after it run. */
  g_assert_true (catena_chain_apply_setting (chain, "upscale.factor=1.5", NULL));
  run_project (runner, project, out_dir, NULL, &r);
  g_assert_true (r.ok);
  stats_delta (runner, &le, &lc, &de, &dc);
  g_assert_cmpuint (de, ==, 2);
  g_assert_cmpuint (dc, ==, 1);
  run_result_clear (&r);

  /* Back to the earlier value: all three come from the cache (content addressed). */
  g_assert_true (catena_chain_apply_setting (chain, "upscale.factor=2", NULL));
  run_project (runner, project, out_dir, NULL, &r);
  stats_delta (runner, &le, &lc, &de, &dc);
  g_assert_cmpuint (de, ==, 0);
  g_assert_cmpuint (dc, ==, 3);
  run_result_clear (&r);

  /* A fresh cache object over the same folder (a new process) still hits from disk. */
  {
    g_autoptr (CatenaCache) cache2 = catena_cache_new (cache_dir, 0);
    g_autoptr (CatenaRunner) runner2 = catena_runner_new (cache2);
    guint e2 = 0, c2 = 0;
    run_project (runner2, project, NULL, NULL, &r);
    g_assert_true (r.ok);
    stats_delta (runner2, &e2, &c2, &de, &dc);
    g_assert_cmpuint (de, ==, 0);
    g_assert_cmpuint (dc, ==, 3);
    run_result_clear (&r);
  }
  test_rm_rf (dir);
}

static void
test_runner_keys_chain (void)
{
  g_autofree char *photo = test_source_path ("data/demo/coffee.png");
  g_autoptr (CatenaProject) project = demo_like_project (photo, 1);
  CatenaChain *chain = catena_project_get_chain (project);
  CatenaAsset *asset = catena_project_find_asset (project, "sku-0");
  g_auto (GStrv) a = NULL;
  g_auto (GStrv) b = NULL;
  g_auto (GStrv) c = NULL;
  GError *error = NULL;

  a = catena_chain_compute_keys (chain, asset, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_strv_length (a), ==, 3);

  g_assert_true (catena_chain_apply_setting (chain, "upscale.factor=3", NULL));
  b = catena_chain_compute_keys (chain, asset, NULL, NULL, &error);
  g_assert_cmpstr (a[0], ==, b[0]);
  g_assert_cmpstr (a[1], !=, b[1]);
  g_assert_cmpstr (a[2], !=, b[2]); /* chained: a changed input changes every later key */

  /* Provider and model are part of the key; so is the asset class for export only. */
  catena_stage_set_model (catena_chain_get_stage (chain, 1), "other");
  catena_asset_set_asset_class (asset, CATENA_ASSET_CLASS_PRINT);
  c = catena_chain_compute_keys (chain, asset, NULL, NULL, &error);
  g_assert_cmpstr (c[0], ==, b[0]);
  g_assert_cmpstr (c[1], !=, b[1]);
}

static void
test_runner_cancel (void)
{
  g_autofree char *dir = test_mkdtemp ();
  g_autofree char *photo = test_source_path ("data/demo/coffee.png");
  g_autoptr (CatenaCache) cache = catena_cache_new (dir, 256 * 1024 * 1024);
  g_autoptr (CatenaRunner) runner = catena_runner_new (cache);
  g_autoptr (CatenaProject) project = demo_like_project (photo, 1);
  g_autoptr (GCancellable) cancellable = g_cancellable_new ();
  guint le = 0, lc = 0, de, dc;
  RunResult r;

  /* A big upscale so the cancel lands mid-stage (on its first progress report). */
  g_assert_true (catena_chain_apply_setting (catena_project_get_chain (project), "upscale.factor=8", NULL));
  run_project (runner, project, NULL, cancellable, &r);
  g_assert_false (r.ok);
  g_assert_error (r.error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  stats_delta (runner, &le, &lc, &de, &dc);
  /* import finished and was kept; upscale was interrupted; export never started. */
  g_assert_cmpuint (de, ==, 1);
  g_assert_cmpuint (r.finished->len, ==, 1);
  run_result_clear (&r);

  /* The next run resumes from the cached import (a smaller upscale keeps the test quick). */
  g_assert_true (catena_chain_apply_setting (catena_project_get_chain (project), "upscale.factor=2", NULL));
  run_project (runner, project, NULL, NULL, &r);
  g_assert_true (r.ok);
  stats_delta (runner, &le, &lc, &de, &dc);
  g_assert_cmpuint (de, ==, 2);
  g_assert_cmpuint (dc, ==, 1);
  run_result_clear (&r);
  test_rm_rf (dir);
}

static void
test_runner_many_assets_and_errors (void)
{
  g_autofree char *dir = test_mkdtemp ();
  g_autofree char *photo = test_source_path ("data/demo/coffee.png");
  g_autofree char *truncated = g_build_filename (dir, "truncated.jpg", NULL);
  g_autoptr (CatenaCache) cache = catena_cache_new (dir, 256 * 1024 * 1024);
  g_autoptr (CatenaRunner) runner = catena_runner_new (cache);
  g_autoptr (CatenaProject) project = demo_like_project (photo, 4);
  g_autoptr (CatenaAsset) broken = catena_asset_new ("broken");
  g_autofree char *skimage_truncated = test_skimage_path ("truncated.jpg");
  guint le = 0, lc = 0, de, dc;
  RunResult r;

  if (g_file_test (skimage_truncated, G_FILE_TEST_EXISTS))
    {
      g_autofree char *data = NULL;
      gsize len;
      g_assert_true (g_file_get_contents (skimage_truncated, &data, &len, NULL));
      g_assert_true (g_file_set_contents (truncated, data, len, NULL));
    }
  else
    {
      g_autofree char *data = NULL;
      gsize len;
      g_test_message ("python3-skimage missing: cutting a JPEG ourselves");
      g_assert_true (g_file_get_contents (photo, &data, &len, NULL));
      g_assert_true (g_file_set_contents (truncated, "\xff\xd8\xff\xe0\x00\x10JFIF", 10, NULL));
    }
  catena_asset_set_source (broken, truncated);
  catena_project_add_asset (project, broken);
  catena_runner_set_max_workers (runner, 3);

  run_project (runner, project, NULL, NULL, &r);
  g_assert_false (r.ok);
  g_assert_error (r.error, CATENA_STAGE_ERROR, CATENA_STAGE_ERROR_INVALID_IMAGE);
  g_assert_nonnull (strstr (r.error->message, "truncated.jpg"));
  stats_delta (runner, &le, &lc, &de, &dc);
  /* The four good assets share one photo: stages run or hit the cache, but all 12 are done. */
  g_assert_cmpuint (de + dc, ==, 12);
  g_assert_cmpuint (r.outputs->len, ==, 5);
  {
    guint n_failed = 0;
    for (guint i = 0; i < r.outputs->len; i++)
      if (g_str_has_prefix (g_ptr_array_index (r.outputs, i), "broken="))
        {
          n_failed++;
          g_assert_nonnull (strstr (g_ptr_array_index (r.outputs, i), "cut short"));
        }
    g_assert_cmpuint (n_failed, ==, 1);
  }
  run_result_clear (&r);
  test_rm_rf (dir);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  catena_engine_init ();
  main_thread = g_thread_self ();

  g_test_add_func ("/cache/round-trip", test_cache_round_trip);
  g_test_add_func ("/cache/lru", test_cache_lru);
  g_test_add_func ("/cache/corrupt", test_cache_corrupt);
  g_test_add_func ("/runner/keys-chain", test_runner_keys_chain);
  g_test_add_func ("/runner/cache-invalidation", test_runner_cache_invalidation);
  g_test_add_func ("/runner/cancel", test_runner_cancel);
  g_test_add_func ("/runner/many-assets-and-errors", test_runner_many_assets_and_errors);

  return g_test_run ();
}
