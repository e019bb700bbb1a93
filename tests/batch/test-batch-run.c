/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include "batch-test-util.h"

/* Batches against the fake fal server: the plan's call count is what a run sends, budgets
 * stop calls before they are sent, per-provider concurrency, pause/resume, cancel. */

typedef struct
{
  FakeServer *fake;
  char *dir;
  char *out;
  CatenaCache *cache;
  CatenaProject *project;
  CatenaLedger *ledger;
} Fixture;

static const char *skus =
  "id,prompt,class\n"
  "A,red mug,thumbnail\n"
  "B,blue mug,hero\n"
  "C,red mug,thumbnail\n" /* the same output as A: made once */
  "D,green mug,hero\n"
  "E,red mug,hero\n"
  "F,tea,feed\n";
/* A gen, B gen+up, D gen+up, E gen+up, F gen; C shares everything with A */
#define SKU_CALLS 8

static void
setup (Fixture *f, gconstpointer data)
{
  g_autoptr (CatenaChain) chain = batch_test_chain ();
  g_autofree char *cache_dir = NULL;
  g_autofree char *ledger = NULL;

  f->fake = fake_fal_new ();
  batch_test_point_at (f->fake);
  f->dir = g_dir_make_tmp ("catena-batch-XXXXXX", NULL);
  f->out = g_build_filename (f->dir, "out", NULL);
  cache_dir = g_build_filename (f->dir, "cache", NULL);
  f->cache = catena_cache_new (cache_dir, 32 * 1024 * 1024);
  f->project = catena_project_new ();
  for (guint i = 0; i < catena_chain_get_n_stages (chain); i++)
    catena_chain_append (catena_project_get_chain (f->project), catena_chain_get_stage (chain, i));
  ledger = g_build_filename (f->dir, "ledger.jsonl", NULL);
  f->ledger = catena_ledger_open (ledger, NULL);
  g_assert_nonnull (f->ledger);
}

static void
teardown (Fixture *f, gconstpointer data)
{
  catena_providers_set_cache (NULL);
  g_clear_object (&f->ledger);
  g_clear_object (&f->project);
  g_clear_object (&f->cache);
  batch_test_rm_rf (f->dir);
  g_free (f->dir);
  g_free (f->out);
  fake_server_free (f->fake);
}

static CatenaBatch *
make_batch (Fixture *f, const char *csv_text)
{
  g_autofree char *csv = batch_test_write (f->dir, "skus.csv", csv_text);
  CatenaBatch *batch = catena_batch_new (f->project);
  g_autoptr (GError) error = NULL;

  catena_batch_set_cache (batch, f->cache);
  g_assert_true (catena_batch_load_csv (batch, csv, CATENA_ASSET_CLASS_FEED, &error));
  g_assert_no_error (error);
  catena_batch_set_output_dir (batch, f->out);
  catena_batch_set_ledger (batch, f->ledger, "spring");
  return batch;
}

typedef struct
{
  gboolean done;
  gboolean ok;
  GError *error;
} Wait;

static void
on_done (GObject *source, GAsyncResult *result, gpointer data)
{
  Wait *w = data;
  w->ok = catena_batch_run_finish (CATENA_BATCH (source), result, &w->error);
  w->done = TRUE;
}

static gboolean
run_batch (CatenaBatch *batch, GCancellable *cancellable, GError **error)
{
  Wait w = { 0 };

  catena_batch_run_async (batch, cancellable, on_done, &w);
  while (!w.done)
    g_main_context_iteration (NULL, TRUE);
  if (w.error)
    g_propagate_error (error, w.error);
  return w.ok;
}

static void
test_plan_matches_run (Fixture *f, gconstpointer data)
{
  g_autoptr (CatenaBatch) batch = make_batch (f, skus);
  g_autoptr (CatenaBatch) again = NULL;
  g_autoptr (CatenaPlan) plan = NULL;
  g_autoptr (CatenaPlan) replan = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GHashTable) billed = NULL;
  GListModel *rows;

  plan = catena_batch_plan (batch, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (catena_plan_get_n_assets (plan), ==, 6);
  g_assert_cmpuint (catena_plan_get_n_calls (plan), ==, SKU_CALLS);
  g_assert_cmpuint (catena_plan_get_class_calls (plan, CATENA_ASSET_CLASS_HERO), ==, 6);
  /* thumbnail upscale is local; C is shared with A */
  g_assert_cmpuint (catena_plan_count (plan, CATENA_PLAN_SHARED), ==, 3);
  /* hero: flux/dev 1 MP at $0.025 + clarity $0.03; thumbnail/feed: schnell $0.003 */
  g_assert_cmpfloat_with_epsilon (catena_plan_get_class_cost (plan, CATENA_ASSET_CLASS_HERO),
                                  3 * (0.025 + 0.03), 1e-9);
  g_assert_cmpfloat_with_epsilon (catena_plan_get_total_cost (plan),
                                  3 * (0.025 + 0.03) + 2 * 0.003, 1e-9);

  g_assert_true (run_batch (batch, NULL, &error));
  g_assert_no_error (error);
  /* what the plan said is what was sent */
  g_assert_cmpint (fake_server_count (f->fake, "submit"), ==, catena_plan_get_n_calls (plan));
  g_assert_cmpuint (catena_batch_get_n_done (batch), ==, 6);
  g_assert_cmpfloat_with_epsilon (catena_batch_get_spent (batch),
                                  catena_plan_get_total_cost (plan), 1e-9);
  rows = catena_batch_get_rows (batch);
  for (guint i = 0; i < g_list_model_get_n_items (rows); i++)
    {
      g_autoptr (CatenaBatchRow) row = g_list_model_get_item (rows, i);
      g_assert_cmpint (catena_batch_row_get_status (row), ==, CATENA_BATCH_ROW_DONE);
      g_assert_cmpfloat (catena_batch_row_get_progress (row), ==, 1.0);
      g_assert_true (g_file_test (catena_batch_row_get_output (row), G_FILE_TEST_IS_REGULAR));
    }
  billed = batch_test_billed (catena_ledger_get_path (f->ledger), NULL);
  g_assert_cmpuint (g_hash_table_size (billed), ==, SKU_CALLS);

  /* everything is cached now: the plan says so and a new run sends nothing */
  again = make_batch (f, skus);
  replan = catena_batch_plan (again, NULL, &error);
  g_assert_cmpuint (catena_plan_get_n_calls (replan), ==, 0);
  g_assert_cmpuint (catena_plan_count (replan, CATENA_PLAN_CACHED), ==, 18);
  g_assert_true (run_batch (again, NULL, &error));
  g_assert_cmpint (fake_server_count (f->fake, "submit"), ==, SKU_CALLS);
}

static void
test_budget_stops_and_resumes (Fixture *f, gconstpointer data)
{
  g_autoptr (CatenaBatch) batch = make_batch (f, skus);
  g_autoptr (GError) error = NULL;
  g_autoptr (GHashTable) billed = NULL;
  GHashTableIter it;
  gpointer value;
  double limit = 0.06;
  int sent;

  catena_batch_set_provider_limit (batch, "fal", 1);
  catena_batch_set_budget_limit (batch, limit);
  catena_batch_set_stop_on_budget (batch, TRUE);
  g_assert_false (run_batch (batch, NULL, &error));
  g_assert_error (error, CATENA_ROUTING_ERROR, CATENA_ROUTING_ERROR_BUDGET);
  g_test_message ("%s", error->message);
  g_assert_nonnull (strstr (error->message, "$0.06"));
  g_clear_error (&error);

  /* nothing was sent that did not fit, and every call sent is in the ledger */
  sent = fake_server_count (f->fake, "submit");
  g_assert_cmpint (sent, >, 0);
  g_assert_cmpint (sent, <, SKU_CALLS);
  g_assert_cmpfloat (catena_ledger_get_spent (f->ledger, "spring"), <=, limit + 1e-9);
  billed = batch_test_billed (catena_ledger_get_path (f->ledger), NULL);
  g_assert_cmpuint (g_hash_table_size (billed), ==, sent);
  g_assert_cmpuint (catena_batch_get_n_done (batch), <, 6);

  /* raise it and run again: only what is missing is paid for */
  catena_batch_set_budget_limit (batch, 10);
  g_assert_true (run_batch (batch, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (catena_batch_get_n_done (batch), ==, 6);
  g_assert_cmpint (fake_server_count (f->fake, "submit"), ==, SKU_CALLS);
  g_clear_pointer (&billed, g_hash_table_unref);
  billed = batch_test_billed (catena_ledger_get_path (f->ledger), NULL);
  g_assert_cmpuint (g_hash_table_size (billed), ==, SKU_CALLS);
  g_hash_table_iter_init (&it, billed);
  while (g_hash_table_iter_next (&it, NULL, &value))
    g_assert_cmpuint (GPOINTER_TO_UINT (value), ==, 1);
}

static int
compare_gint64 (gconstpointer a, gconstpointer b)
{
  gint64 x = *(const gint64 *) a, y = *(const gint64 *) b;
  return x < y ? -1 : x > y;
}

static void
test_concurrency_limit (Fixture *f, gconstpointer data)
{
  GString *csv = g_string_new ("id,prompt\n");
  g_autoptr (CatenaBatch) batch = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) calls = NULL;
  g_autoptr (GArray) events = g_array_new (FALSE, FALSE, sizeof (gint64));
  const char *paths[] = { catena_ledger_get_path (f->ledger), NULL };
  int running = 0, peak = 0;

  for (guint i = 0; i < 10; i++)
    g_string_append_printf (csv, "S%u,product %u\n", i, i);
  batch = make_batch (f, csv->str);
  g_string_free (csv, TRUE);
  catena_batch_set_provider_limit (batch, "fal", 2);
  g_assert_true (run_batch (batch, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpint (fake_server_count (f->fake, "submit"), ==, 10);

  /* calls overlap at most two at a time: each call's [started, started + duration] lies
   * inside the time it held one of fal's two lanes */
  calls = catena_ledger_read_calls (paths, NULL);
  for (guint i = 0; i < calls->len; i++)
    {
      CatenaLedgerEntry *e = calls->pdata[i];
      gint64 start = e->started_at * 2 + 1;
      gint64 end = (e->started_at + (gint64) (e->duration_s * 1e6)) * 2;
      g_assert_cmpint (e->event, ==, CATENA_LEDGER_BILLED);
      g_assert_cmpint (e->started_at, >, 0);
      /* ends sort before starts at the same microsecond */
      g_array_append_val (events, start);
      g_array_append_val (events, end);
    }
  g_array_sort (events, compare_gint64);
  for (guint i = 0; i < events->len; i++)
    {
      running += (g_array_index (events, gint64, i) & 1) ? 1 : -1;
      peak = MAX (peak, running);
    }
  g_assert_cmpint (peak, <=, 2);
  g_assert_cmpint (peak, >=, 1);
  g_assert_cmpuint (calls->len, ==, 10);
}

static gboolean
quit_later (gpointer data)
{
  *(gboolean *) data = TRUE;
  return G_SOURCE_REMOVE;
}

static void
spin (guint ms)
{
  gboolean done = FALSE;
  g_timeout_add (ms, quit_later, &done);
  while (!done)
    g_main_context_iteration (NULL, TRUE);
}

static void
test_pause_resume_cancel (Fixture *f, gconstpointer data)
{
  GString *csv = g_string_new ("id,prompt\n");
  g_autoptr (CatenaBatch) batch = NULL;
  g_autoptr (CatenaBatch) second = NULL;
  g_autoptr (GCancellable) cancellable = g_cancellable_new ();
  g_autoptr (GError) error = NULL;
  Wait w = { 0 };
  int paused_count;
  guint unconfirmed = 0;

  for (guint i = 0; i < 6; i++)
    g_string_append_printf (csv, "P%u,thing %u\n", i, i);
  batch = make_batch (f, csv->str);
  catena_batch_set_provider_limit (batch, "fal", 1);
  catena_batch_run_async (batch, NULL, on_done, &w);
  spin (100);
  catena_batch_pause (batch);
  g_assert_cmpint (catena_batch_get_state (batch), ==, CATENA_BATCH_PAUSED);
  spin (300); /* the call in flight finishes */
  paused_count = fake_server_count (f->fake, "submit");
  spin (300);
  g_assert_cmpint (fake_server_count (f->fake, "submit"), ==, paused_count);
  g_assert_false (w.done);
  catena_batch_resume (batch);
  while (!w.done)
    g_main_context_iteration (NULL, TRUE);
  g_assert_true (w.ok);
  g_assert_cmpuint (catena_batch_get_n_done (batch), ==, 6);

  /* cancel mid-run: calls in flight end as "failed" in the ledger, rows as cancelled */
  g_string_truncate (csv, 0);
  g_string_append (csv, "id,prompt\n");
  for (guint i = 0; i < 6; i++)
    g_string_append_printf (csv, "Q%u,other %u\n", i, i);
  second = make_batch (f, csv->str);
  g_string_free (csv, TRUE);
  catena_batch_set_provider_limit (second, "fal", 2);
  memset (&w, 0, sizeof w);
  catena_batch_run_async (second, cancellable, on_done, &w);
  spin (60);
  g_cancellable_cancel (cancellable);
  while (!w.done)
    g_main_context_iteration (NULL, TRUE);
  g_assert_false (w.ok);
  g_assert_error (w.error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_clear_error (&w.error);
  g_assert_cmpuint (catena_batch_get_n_done (second), <, 6);
  g_hash_table_unref (batch_test_billed (catena_ledger_get_path (f->ledger), &unconfirmed));
  g_assert_cmpuint (unconfirmed, ==, 0);
}

int
main (int argc, char **argv)
{
  batch_test_init (&argc, &argv);
#define ADD(path, fn) g_test_add (path, Fixture, NULL, setup, fn, teardown)
  ADD ("/batch/plan-matches-run", test_plan_matches_run);
  ADD ("/batch/budget", test_budget_stops_and_resumes);
  ADD ("/batch/concurrency", test_concurrency_limit);
  ADD ("/batch/pause-resume-cancel", test_pause_resume_cancel);
#undef ADD
  return g_test_run ();
}
