/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <locale.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "catena-batch.h"
#include "catena-engine.h"
#include "catena-provider.h"
#include "fake-server.h"

/* N SKUs through generate (fal) → remove background (fal) → export, against the loopback
 * fake fal server whose latency comes from its queue protocol: every job answers IN_QUEUE,
 * IN_PROGRESS, then COMPLETED, one status poll apart (poll interval P, fal's default 500 ms).
 * Prints wall time against the ideal (latency of one call × calls / concurrency), resident
 * memory as the batch advances, and the longest gap between ticks of a 10 ms main-loop timer
 * (the UI's frame clock would see the same stalls).
 *
 *   bench-batch [SKUS=1000] [FAL_CONCURRENCY=32] [POLL_MS=100] */

typedef struct
{
  gint64 last_tick;
  gint64 max_gap;
  guint ticks;
} Stall;

static gboolean
on_tick (gpointer data)
{
  Stall *s = data;
  gint64 now = g_get_monotonic_time ();

  if (s->last_tick)
    s->max_gap = MAX (s->max_gap, now - s->last_tick);
  s->last_tick = now;
  s->ticks++;
  return G_SOURCE_CONTINUE;
}

static double
rss_mib (void)
{
  g_autofree char *text = NULL;
  long pages = 0, resident = 0;

  if (g_file_get_contents ("/proc/self/statm", &text, NULL, NULL))
    sscanf (text, "%ld %ld", &pages, &resident);
  return resident * (double) sysconf (_SC_PAGESIZE) / (1024.0 * 1024.0);
}

typedef struct
{
  gboolean done;
  gboolean ok;
  GError *error;
  guint total;
  guint next_report;
} Wait;

static void
on_done (GObject *source, GAsyncResult *result, gpointer data)
{
  Wait *w = data;
  w->ok = catena_batch_run_finish (CATENA_BATCH (source), result, &w->error);
  w->done = TRUE;
}

static void
on_n_done (CatenaBatch *batch, GParamSpec *pspec, Wait *w)
{
  guint done = catena_batch_get_n_done (batch);

  if (done * 10 >= w->next_report * w->total && w->next_report <= 10)
    {
      g_print ("  %3u %%  %5u SKUs done  RSS %.1f MiB\n", w->next_report * 10, done, rss_mib ());
      w->next_report++;
    }
}

static CatenaProject *
make_project (void)
{
  CatenaProject *project = catena_project_new ();
  g_autoptr (CatenaStage) gen = catena_stage_new ("generate", NULL);
  g_autoptr (CatenaStage) cut = catena_stage_new ("remove-background", NULL);
  g_autoptr (CatenaStage) out = catena_stage_new ("export", NULL);

  g_object_set (gen, "width", 64, "height", 64, "candidates", 1, NULL);
  /* set explicitly: routing leaves it on fal whatever the class */
  catena_stage_set_provider (cut, "fal");
  g_object_set (out, "long-edge", 64, NULL);
  catena_chain_append (catena_project_get_chain (project), gen);
  catena_chain_append (catena_project_get_chain (project), cut);
  catena_chain_append (catena_project_get_chain (project), out);
  return project;
}

static CatenaBatch *
make_batch (CatenaProject *project, const char *dir, const char *tag, guint n, guint concurrency,
            CatenaCache *cache, CatenaLedger *ledger)
{
  g_autoptr (GString) csv = g_string_new ("id,prompt,class\n");
  g_autofree char *csv_name = g_strdup_printf ("%s.csv", tag);
  g_autofree char *csv_path = g_build_filename (dir, csv_name, NULL);
  g_autofree char *out = g_build_filename (dir, tag, NULL);
  g_autoptr (GError) error = NULL;
  CatenaBatch *batch = catena_batch_new (project);

  for (guint i = 0; i < n; i++)
    g_string_append_printf (csv, "%s-%05u,product %s %u on white,thumbnail\n", tag, i, tag, i);
  g_assert (g_file_set_contents (csv_path, csv->str, csv->len, NULL));
  catena_batch_set_cache (batch, cache);
  if (!catena_batch_load_csv (batch, csv_path, CATENA_ASSET_CLASS_THUMBNAIL, &error))
    g_error ("%s", error->message);
  catena_batch_set_output_dir (batch, out);
  catena_batch_set_ledger (batch, ledger, "bench");
  catena_batch_set_provider_limit (batch, "fal", concurrency);
  return batch;
}

static double
run (CatenaBatch *batch, Wait *w)
{
  gint64 t0 = g_get_monotonic_time ();

  catena_batch_run_async (batch, NULL, on_done, w);
  while (!w->done)
    g_main_context_iteration (NULL, TRUE);
  if (!w->ok)
    g_error ("batch failed: %s", w->error->message);
  return (g_get_monotonic_time () - t0) / 1e6;
}

int
main (int argc, char **argv)
{
  guint n = argc > 1 ? (guint) g_ascii_strtoull (argv[1], NULL, 10) : 1000;
  guint concurrency = argc > 2 ? (guint) g_ascii_strtoull (argv[2], NULL, 10) : 32;
  guint poll_ms = argc > 3 ? (guint) g_ascii_strtoull (argv[3], NULL, 10) : 100;
  g_autofree char *dir = g_dir_make_tmp ("catena-bench-batch-XXXXXX", NULL);
  g_autofree char *cache_dir = g_build_filename (dir, "cache", NULL);
  g_autofree char *ledger_path = g_build_filename (dir, "ledger.jsonl", NULL);
  g_autoptr (FakeServer) fake = NULL;
  g_autoptr (CatenaCache) cache = NULL;
  g_autoptr (CatenaLedger) ledger = NULL;
  g_autoptr (CatenaProject) project = NULL;
  g_autoptr (CatenaBatch) warm = NULL;
  g_autoptr (CatenaBatch) batch = NULL;
  struct rusage ru;
  Stall stall = { 0 };
  Wait w1 = { 0 }, w = { 0 };
  double latency, wall, ideal, rss_before;
  guint calls, tick;
  char *rm[] = { (char *) "rm", (char *) "-rf", dir, NULL };

  setlocale (LC_ALL, "");
  g_setenv ("CATENA_NO_SECRET_SERVICE", "1", TRUE);
  g_setenv ("FAL_KEY", FAKE_KEY, TRUE);
  g_setenv ("GEGL_SWAP", "RAM", FALSE);
  catena_engine_init ();
  catena_providers_set_poll_interval_ms (poll_ms);
  fake = fake_fal_new ();
  catena_provider_set_endpoint (catena_provider_get ("fal"), "queue", fake_server_url (fake));
  catena_provider_set_endpoint (catena_provider_get ("fal"), "rest", fake_server_url (fake));
  cache = catena_cache_new (cache_dir, 64 * 1024 * 1024);
  ledger = catena_ledger_open (ledger_path, NULL);
  project = make_project ();

  /* latency of one call: one SKU alone (two calls in sequence) */
  warm = make_batch (project, dir, "warm", 1, 1, cache, ledger);
  latency = run (warm, &w1) / 2;

  batch = make_batch (project, dir, "sku", n, concurrency, cache, ledger);
  w.total = n;
  w.next_report = 1;
  g_signal_connect (batch, "notify::n-done", G_CALLBACK (on_n_done), &w);
  tick = g_timeout_add (10, on_tick, &stall);
  rss_before = rss_mib ();
  g_print ("bench-batch: %u SKUs, generate → remove-background on fake fal (poll %u ms), "
           "export; fal concurrency %u\n", n, poll_ms, concurrency);
  g_print ("    0 %%      0 SKUs done  RSS %.1f MiB\n", rss_before);
  wall = run (batch, &w);
  g_source_remove (tick);

  calls = fake_server_count (fake, "submit") - 2;
  ideal = latency * calls / concurrency;
  getrusage (RUSAGE_SELF, &ru);
  g_print ("calls sent           %u (%u SKUs × 2)\n", calls, n);
  g_print ("latency of one call  %.0f ms (measured alone)\n", latency * 1000);
  g_print ("wall time            %.2f s\n", wall);
  g_print ("ideal                %.2f s (latency × calls / concurrency)\n", ideal);
  g_print ("wall / ideal         %.2f\n", wall / ideal);
  g_print ("RSS                  %.1f MiB at start, %.1f MiB at the end, peak %.1f MiB\n",
           rss_before, rss_mib (), ru.ru_maxrss / 1024.0);
  g_print ("main-loop stall      max gap between 10 ms ticks %.1f ms (%u ticks)\n",
           stall.max_gap / 1000.0, stall.ticks);
  g_print ("spent (fake prices)  $%.2f; ledger %s\n", catena_batch_get_spent (batch),
           catena_ledger_get_path (ledger));

  g_clear_object (&batch);
  g_clear_object (&warm);
  g_spawn_sync (NULL, rm, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL, NULL, NULL, NULL);
  return 0;
}
