/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <signal.h>
#include <sys/wait.h>

#include "batch-test-util.h"

/* Crash-safe resume: catena-cli batch is killed with SIGKILL mid-batch and run again. The
 * outputs must equal those of an uninterrupted run, every (asset, stage) must be billed once
 * in the ledger, and the only requests sent twice are the ones in flight at the kill (the
 * ledger shows them as unconfirmed). BATCH_DRIVER is catena-cli's plan/batch/ledger. */

#define N_SKUS 16

static char *
driver_path (void)
{
  return g_strdup (BATCH_DRIVER);
}

static GPid
spawn_batch (FakeServer *fake, const char *dir, const char *name)
{
  g_autofree char *driver = driver_path ();
  g_autofree char *chain = g_build_filename (dir, "chain.json", NULL);
  g_autofree char *csv = g_build_filename (dir, "skus.csv", NULL);
  g_autofree char *out = g_build_filename (dir, name, "out", NULL);
  g_autofree char *ledger = g_build_filename (dir, name, "ledger.jsonl", NULL);
  g_autofree char *cache = g_build_filename (dir, name, "cache", NULL);
  char *argv[] = { driver, (char *) "batch", (char *) "--chain", chain, (char *) "--csv", csv,
                   (char *) "--out", out, (char *) "--ledger", ledger,
                   (char *) "--campaign", (char *) "resume", (char *) "--concurrency",
                   (char *) "fal=2", NULL };
  g_auto (GStrv) env = g_get_environ ();
  g_autoptr (GError) error = NULL;
  GPid pid;

  env = g_environ_setenv (env, "XDG_CACHE_HOME", cache, TRUE);
  env = g_environ_setenv (env, "CATENA_FAL_QUEUE_URL", fake_server_url (fake), TRUE);
  env = g_environ_setenv (env, "CATENA_FAL_REST_URL", fake_server_url (fake), TRUE);
  env = g_environ_setenv (env, "FAL_KEY", FAKE_KEY, TRUE);
  env = g_environ_setenv (env, "CATENA_NO_SECRET_SERVICE", "1", TRUE);
  env = g_environ_setenv (env, "CATENA_POLL_INTERVAL_MS", "25", TRUE);
  env = g_environ_setenv (env, "CATENA_RETRY_BASE_MS", "10", TRUE);
  env = g_environ_setenv (env, "GEGL_SWAP", "RAM", TRUE);
  g_assert_true (g_spawn_async (NULL, argv, env,
                                G_SPAWN_DO_NOT_REAP_CHILD | G_SPAWN_STDOUT_TO_DEV_NULL |
                                  (g_test_verbose () ? 0 : G_SPAWN_STDERR_TO_DEV_NULL),
                                NULL, NULL, &pid, &error));
  g_assert_no_error (error);
  return pid;
}

static int
wait_exit (GPid pid)
{
  int status = 0;
  g_assert_cmpint (waitpid (pid, &status, 0), ==, pid);
  return status;
}

static guint
count_billed (const char *dir, const char *name)
{
  g_autofree char *path = g_build_filename (dir, name, "ledger.jsonl", NULL);
  g_autofree char *text = NULL;
  guint n = 0;

  if (!g_file_get_contents (path, &text, NULL, NULL))
    return 0;
  for (const char *p = text; (p = strstr (p, "\"event\":\"billed\"")); p++)
    n++;
  return n;
}

static void
test_kill_and_resume (void)
{
  g_autofree char *dir = g_dir_make_tmp ("catena-resume-XXXXXX", NULL);
  g_autoptr (FakeServer) fake = fake_fal_new ();
  g_autoptr (CatenaChain) chain = batch_test_chain ();
  g_autoptr (GFile) chain_file = NULL;
  g_autoptr (GString) csv = g_string_new ("id,prompt,class\n");
  g_autoptr (GHashTable) billed = NULL;
  g_autofree char *chain_path = g_build_filename (dir, "chain.json", NULL);
  g_autofree char *crash_ledger = g_build_filename (dir, "crash", "ledger.jsonl", NULL);
  g_autoptr (GError) error = NULL;
  GHashTableIter it;
  gpointer value;
  guint pairs = 0, unconfirmed = 0, n_files = 0;
  int status, before, after;
  GPid pid;

  for (guint i = 0; i < N_SKUS; i++)
    {
      gboolean hero = i % 2;
      g_string_append_printf (csv, "SKU-%02u,product %u on white,%s\n", i, i,
                              hero ? "hero" : "thumbnail");
      pairs += hero ? 2 : 1; /* hero also upscales on fal */
    }
  g_free (batch_test_write (dir, "skus.csv", csv->str));
  chain_file = g_file_new_for_path (chain_path);
  g_assert_true (catena_chain_save (chain, chain_file, &error));

  /* reference: one uninterrupted run */
  pid = spawn_batch (fake, dir, "ref");
  status = wait_exit (pid);
  g_assert_true (WIFEXITED (status) && WEXITSTATUS (status) == 0);
  g_assert_cmpint (fake_server_count (fake, "submit"), ==, pairs);

  /* killed once a few calls are billed, then run again to the end */
  before = fake_server_count (fake, "submit");
  pid = spawn_batch (fake, dir, "crash");
  while (count_billed (dir, "crash") < pairs / 3)
    {
      g_assert_cmpint (waitpid (pid, &status, WNOHANG), ==, 0);
      g_usleep (2000);
    }
  kill (pid, SIGKILL);
  status = wait_exit (pid);
  g_assert_true (WIFSIGNALED (status));
  g_test_message ("killed after %u billed calls", count_billed (dir, "crash"));
  g_assert_cmpuint (count_billed (dir, "crash"), <, pairs);

  pid = spawn_batch (fake, dir, "crash");
  status = wait_exit (pid);
  g_assert_true (WIFEXITED (status) && WEXITSTATUS (status) == 0);
  after = fake_server_count (fake, "submit");

  /* each (asset, stage) billed once; only calls in flight at the kill were sent again */
  billed = batch_test_billed (crash_ledger, &unconfirmed);
  g_assert_cmpuint (g_hash_table_size (billed), ==, pairs);
  g_hash_table_iter_init (&it, billed);
  while (g_hash_table_iter_next (&it, NULL, &value))
    g_assert_cmpuint (GPOINTER_TO_UINT (value), ==, 1);
  g_test_message ("%u calls were in flight at the kill", unconfirmed);
  g_assert_cmpuint (unconfirmed, <=, 2); /* fal=2: at most two in flight */
  /* an unconfirmed call may have been killed after its ledger line but before its request */
  g_assert_cmpint (after - before, >=, (int) pairs);
  g_assert_cmpint (after - before, <=, (int) (pairs + unconfirmed));

  /* the same files, byte for byte */
  for (guint i = 0; i < N_SKUS; i++)
    {
      g_autofree char *name = g_strdup_printf ("SKU-%02u.png", i);
      g_autofree char *ref = g_build_filename (dir, "ref", "out", name, NULL);
      g_autofree char *got = g_build_filename (dir, "crash", "out", name, NULL);
      g_autofree char *a = NULL;
      g_autofree char *b = NULL;
      gsize la, lb;

      g_assert_true (g_file_get_contents (ref, &a, &la, NULL));
      g_assert_true (g_file_get_contents (got, &b, &lb, NULL));
      g_assert_cmpmem (a, la, b, lb);
      n_files++;
    }
  g_assert_cmpuint (n_files, ==, N_SKUS);

  /* and the ledger exports by stage through the CLI */
  {
    g_autofree char *driver = driver_path ();
    char *argv[] = { driver, (char *) "ledger", crash_ledger, (char *) "--by", (char *) "stage",
                     NULL };
    g_autofree char *out = NULL;
    g_assert_true (g_spawn_sync (NULL, argv, NULL, 0, NULL, NULL, &out, NULL, &status, NULL));
    g_assert_true (WIFEXITED (status) && WEXITSTATUS (status) == 0);
    g_assert_true (g_str_has_prefix (out, "campaign,asset,stage,calls,billed,unconfirmed"));
    g_assert_nonnull (strstr (out, "resume,SKU-01,upscale,"));
  }
  batch_test_rm_rf (dir);
}

static void
test_cli_plan_and_budget (void)
{
  g_autofree char *dir = g_dir_make_tmp ("catena-cliplan-XXXXXX", NULL);
  g_autoptr (FakeServer) fake = fake_fal_new ();
  g_autoptr (CatenaChain) chain = batch_test_chain ();
  g_autofree char *chain_path = g_build_filename (dir, "chain.json", NULL);
  g_autoptr (GFile) chain_file = g_file_new_for_path (chain_path);
  g_autofree char *csv = NULL;
  g_autofree char *driver = driver_path ();
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autofree char *out_dir = g_build_filename (dir, "o", NULL);
  g_autofree char *cache = g_build_filename (dir, "cache", NULL);
  g_auto (GStrv) env = g_get_environ ();
  int status;

  g_assert_true (catena_chain_save (chain, chain_file, NULL));
  csv = batch_test_write (dir, "skus.csv", "id,prompt,class\nA,a,hero\nB,b,hero\nC,c,thumbnail\n");
  env = g_environ_setenv (env, "XDG_CACHE_HOME", cache, TRUE);
  env = g_environ_setenv (env, "CATENA_FAL_QUEUE_URL", fake_server_url (fake), TRUE);
  env = g_environ_setenv (env, "CATENA_FAL_REST_URL", fake_server_url (fake), TRUE);
  env = g_environ_setenv (env, "FAL_KEY", FAKE_KEY, TRUE);
  env = g_environ_setenv (env, "CATENA_NO_SECRET_SERVICE", "1", TRUE);
  env = g_environ_setenv (env, "CATENA_POLL_INTERVAL_MS", "20", TRUE);

  {
    char *argv[] = { driver, (char *) "plan", (char *) "--chain", chain_path, (char *) "--csv",
                     csv, NULL };
    g_assert_true (g_spawn_sync (NULL, argv, env, 0, NULL, NULL, &out, &err, &status, NULL));
    if (!WIFEXITED (status) || WEXITSTATUS (status) != 0)
      g_printerr ("plan failed:\n%s%s", out, err);
    g_assert_true (WIFEXITED (status) && WEXITSTATUS (status) == 0);
    g_assert_nonnull (strstr (out, "A\thero\tgenerate\tpaid\tfal\tfal-ai/flux/dev\t0.0250"));
    g_assert_nonnull (strstr (out, "C\tthumbnail\tupscale\tlocal\tlocal"));
    g_assert_nonnull (strstr (out, "5 provider calls (5 paid)"));
    g_assert_nonnull (strstr (out, "$0.11"));
  }
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  {
    /* $0.06 pays for one hero SKU (0.055) and no more: exit 3 and a sentence */
    char *argv[] = { driver, (char *) "batch", (char *) "--chain", chain_path, (char *) "--csv",
                     csv, (char *) "--out", out_dir, (char *) "--budget", (char *) "0.06",
                     (char *) "--concurrency", (char *) "fal=1", NULL };
    g_assert_true (g_spawn_sync (NULL, argv, env, 0, NULL, NULL, &out, &err, &status, NULL));
    if (!WIFEXITED (status) || WEXITSTATUS (status) != 3)
      g_printerr ("batch did not stop at the budget:\n%s%s", out, err);
    g_assert_true (WIFEXITED (status));
    g_assert_cmpint (WEXITSTATUS (status), ==, 3);
    g_assert_nonnull (strstr (err, "budget of $0.06 is reached"));
    g_assert_cmpint (fake_server_count (fake, "submit"), <=, 3);
  }
  batch_test_rm_rf (dir);
}

int
main (int argc, char **argv)
{
  batch_test_init (&argc, &argv);
  g_test_add_func ("/batch/cli/kill-and-resume", test_kill_and_resume);
  g_test_add_func ("/batch/cli/plan-and-budget", test_cli_plan_and_budget);
  return g_test_run ();
}
