/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <glib/gi18n.h>
#include <glib-unix.h>
#include <signal.h>
#include <gio/gunixoutputstream.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "catena-batch.h"
#include "catena-cli-batch.h"
#include "catena-engine.h"

/* plan, batch and ledger: runs over many SKUs with routing, a budget and the spend ledger. */

typedef struct
{
  char *chain_path;
  char *input_dir;
  char *csv;
  char *klass;
  char *shard;
  char *routing;
  char *pricing;
  char **settings;
  char *out_dir;
  double budget;
  char *campaign;
  char *ledger;
  char **concurrency;
  gboolean json;
  gboolean summary;
} Options;

static void
options_clear (Options *o)
{
  g_free (o->chain_path);
  g_free (o->input_dir);
  g_free (o->csv);
  g_free (o->klass);
  g_free (o->shard);
  g_free (o->routing);
  g_free (o->pricing);
  g_strfreev (o->settings);
  g_free (o->out_dir);
  g_free (o->campaign);
  g_free (o->ledger);
  g_strfreev (o->concurrency);
}

static int
fail (GError *error)
{
  g_printerr ("catena-cli: %s\n", error->message);
  return 1;
}

static GOptionEntry *
input_entries (Options *o)
{
  GOptionEntry entries[] = {
    { "chain", 0, 0, G_OPTION_ARG_FILENAME, &o->chain_path,
      N_("Chain file to run (instead of a project)"), "CHAIN.json" },
    { "input", 0, 0, G_OPTION_ARG_FILENAME, &o->input_dir, N_("Folder of SKU photos"), "DIR" },
    { "csv", 0, 0, G_OPTION_ARG_FILENAME, &o->csv,
      N_("SKU list: id, photo or prompt, class, extra columns"), "FILE" },
    { "class", 0, 0, G_OPTION_ARG_STRING, &o->klass,
      N_("Asset class of rows that name none (default feed)"), "CLASS" },
    { "shard", 0, 0, G_OPTION_ARG_STRING, &o->shard,
      N_("Take only rows p with p % N == I (0 ≤ I < N)"), "I/N" },
    { "routing", 0, 0, G_OPTION_ARG_FILENAME, &o->routing,
      N_("Routing rules over the project's (JSON)"), "FILE" },
    { "pricing", 0, 0, G_OPTION_ARG_FILENAME, &o->pricing,
      N_("Pricing table over the defaults (JSON)"), "FILE" },
    { "set", 0, 0, G_OPTION_ARG_STRING_ARRAY, &o->settings, N_("Override a stage parameter"),
      "STAGE.PARAM=VALUE" },
    { NULL },
  };
  return g_memdup2 (entries, sizeof entries);
}

/* Project (or chain), rows, router: what plan and batch share. */
static CatenaBatch *
make_batch (Options *o, int argc, char **argv, CatenaProject **out_project, GError **error)
{
  g_autoptr (CatenaProject) project = NULL;
  g_autoptr (CatenaBatch) batch = NULL;
  g_autoptr (CatenaRouter) router = NULL;
  CatenaAssetKind klass = CATENA_ASSET_CLASS_FEED;

  if (o->chain_path)
    {
      g_autoptr (GFile) file = g_file_new_for_commandline_arg (o->chain_path);
      g_autoptr (CatenaChain) chain = NULL;
      g_autofree char *base = g_path_get_basename (o->chain_path);
      char *dot = strrchr (base, '.');

      if (argc > 1)
        {
          g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_FAILED,
                       _("--chain takes no project file."));
          return NULL;
        }
      if (!(chain = catena_chain_load (file, error)))
        return NULL;
      project = catena_project_new ();
      if (dot && dot != base)
        *dot = '\0';
      catena_project_set_name (project, base);
      for (guint i = 0; i < catena_chain_get_n_stages (chain); i++)
        catena_chain_append (catena_project_get_chain (project),
                             catena_chain_get_stage (chain, i));
    }
  else if (argc == 2)
    {
      g_autoptr (GFile) file = g_file_new_for_commandline_arg (argv[1]);
      if (!(project = catena_project_load (file, error)))
        return NULL;
    }
  else
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_FAILED,
                   _("give a project file, or --chain CHAIN.json with --input DIR or --csv "
                     "FILE."));
      return NULL;
    }
  if (o->chain_path && !o->input_dir && !o->csv)
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_FAILED,
                   _("--chain needs the SKUs: --input DIR or --csv FILE."));
      return NULL;
    }
  if (o->input_dir && o->csv)
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_FAILED,
                   _("use --input or --csv, not both."));
      return NULL;
    }
  for (guint i = 0; o->settings && o->settings[i]; i++)
    if (!catena_chain_apply_setting (catena_project_get_chain (project), o->settings[i], error))
      return NULL;
  if (o->klass && !catena_asset_class_from_string (o->klass, &klass))
    {
      g_set_error (error, CATENA_PROJECT_ERROR, CATENA_PROJECT_ERROR_INVALID,
                   _("Unknown asset class “%s”: use thumbnail, feed, hero or print."),
                   o->klass);
      return NULL;
    }

  batch = catena_batch_new (project);
  if (o->shard)
    {
      guint index, count;
      if (!catena_batch_parse_shard (o->shard, &index, &count, error))
        return NULL;
      catena_batch_set_shard (batch, index, count);
    }
  if (o->input_dir)
    {
      if (!catena_batch_load_folder (batch, o->input_dir, klass, error))
        return NULL;
    }
  else if (o->csv)
    {
      if (!catena_batch_load_csv (batch, o->csv, klass, error))
        return NULL;
    }
  else
    catena_batch_load_project_assets (batch);

  if (!(router = catena_router_new_for_project (project, error)))
    return NULL;
  if (o->routing && !catena_router_load_rules_file (router, o->routing, error))
    return NULL;
  if (o->pricing && !catena_router_load_pricing_file (router, o->pricing, error))
    return NULL;
  catena_batch_set_router (batch, router);
  if (out_project)
    *out_project = g_steal_pointer (&project);
  return g_steal_pointer (&batch);
}

static void
print_plan (CatenaPlan *plan, gboolean details)
{
  guint n_remote = catena_plan_count (plan, CATENA_PLAN_REMOTE);
  guint n_paid = 0;

  for (guint i = 0; i < catena_plan_get_n_steps (plan); i++)
    {
      const CatenaPlanStep *s = catena_plan_get_step (plan, i);

      n_paid += s->action == CATENA_PLAN_REMOTE && s->cost_usd > 0;
      if (!details)
        continue;
      if (s->action == CATENA_PLAN_ERROR)
        g_print ("%s\t%s\t-\terror\t-\t-\t-\t%s\n", s->asset_id,
                 catena_asset_class_to_string (s->asset_class), s->message);
      else
        g_print ("%s\t%s\t%s\t%s\t%s\t%s\t%.4f\n", s->asset_id,
                 catena_asset_class_to_string (s->asset_class), s->stage_id,
                 catena_plan_action_to_string (s->action, s->cost_usd), s->provider,
                 s->model && s->model[0] ? s->model : "-", s->cost_usd);
    }
  for (guint c = 0; c <= CATENA_ASSET_CLASS_PRINT; c++)
    if (catena_plan_get_class_calls (plan, c) > 0)
      g_print (_("# %-9s %6u calls  $%.2f\n"), catena_asset_class_to_string (c),
               catena_plan_get_class_calls (plan, c), catena_plan_get_class_cost (plan, c));
  g_print (_("# total: %u assets, %u provider calls (%u paid), %u stages from the cache, %u "
             "shared, %u local, %u assets that cannot run: $%.2f estimated (prices read on "
             "%s)\n"),
           catena_plan_get_n_assets (plan), n_remote, n_paid,
           catena_plan_count (plan, CATENA_PLAN_CACHED),
           catena_plan_count (plan, CATENA_PLAN_SHARED),
           catena_plan_count (plan, CATENA_PLAN_LOCAL), catena_plan_count (plan, CATENA_PLAN_ERROR),
           catena_plan_get_total_cost (plan),
           catena_plan_get_pricing_date (plan) ? catena_plan_get_pricing_date (plan)
                                               : _("an unknown date"));
}

int
catena_cli_plan (int argc, char **argv)
{
  Options o = { 0 };
  g_autofree GOptionEntry *common = input_entries (&o);
  GOptionEntry own[] = {
    { "json", 0, 0, G_OPTION_ARG_NONE, &o.json, N_("Print the plan as JSON"), NULL },
    { "summary", 0, 0, G_OPTION_ARG_NONE, &o.summary, N_("Only the totals"), NULL },
    { NULL },
  };
  g_autoptr (GOptionContext) octx = g_option_context_new (_("[PROJECT.catena] — what a batch "
                                                            "would run and cost"));
  g_autoptr (GError) error = NULL;
  g_autoptr (CatenaBatch) batch = NULL;
  g_autoptr (CatenaPlan) plan = NULL;
  int status = 0;

  catena_engine_init ();
  g_option_context_add_main_entries (octx, common, GETTEXT_PACKAGE);
  g_option_context_add_main_entries (octx, own, GETTEXT_PACKAGE);
  if (!g_option_context_parse (octx, &argc, &argv, &error))
    status = fail (error);
  else if (!(batch = make_batch (&o, argc, argv, NULL, &error)))
    status = fail (error);
  else if (!(plan = catena_batch_plan (batch, NULL, &error)))
    status = fail (error);
  else if (o.json)
    {
      g_autoptr (JsonNode) node = catena_plan_to_json (plan);
      g_autofree char *text = json_to_string (node, TRUE);
      g_print ("%s\n", text);
    }
  else
    print_plan (plan, !o.summary);
  options_clear (&o);
  return status;
}

/* ---------------------------------------------------------------------------------------- */
/* batch */

typedef struct
{
  GMainLoop *loop;
  CatenaBatch *batch;
  GCancellable *cancellable;
  gboolean ok;
  GError *error;
  gboolean tty;
  guint total;
} BatchRun;

static void
on_row_status (CatenaBatchRow *row, GParamSpec *pspec, BatchRun *run)
{
  CatenaBatchRowStatus status = catena_batch_row_get_status (row);
  guint done = catena_batch_get_n_done (run->batch) + catena_batch_get_n_failed (run->batch);

  if (status == CATENA_BATCH_ROW_DONE)
    {
      if (catena_batch_row_get_output (row))
        g_print ("%s\t%s\n", catena_batch_row_get_id (row), catena_batch_row_get_output (row));
      g_printerr (_("[%u/%u] %s: done ($%.4f)\n"), done, run->total,
                  catena_batch_row_get_id (row), catena_batch_row_get_cost (row));
    }
  else if (status == CATENA_BATCH_ROW_FAILED)
    g_printerr (_("[%u/%u] %s: failed: %s\n"), done, run->total, catena_batch_row_get_id (row),
                catena_batch_row_get_message (row));
}

static void
on_batch_done (GObject *source, GAsyncResult *result, gpointer data)
{
  BatchRun *run = data;

  run->ok = catena_batch_run_finish (CATENA_BATCH (source), result, &run->error);
  g_main_loop_quit (run->loop);
}

static gboolean
on_signal (gpointer data)
{
  BatchRun *run = data;

  g_printerr (_("\nCancelling: calls in flight are abandoned, finished stages stay cached…\n"));
  g_cancellable_cancel (run->cancellable);
  return G_SOURCE_CONTINUE;
}

int
catena_cli_batch (int argc, char **argv)
{
  Options o = { .budget = -1 };
  g_autofree GOptionEntry *common = input_entries (&o);
  GOptionEntry own[] = {
    { "out", 0, 0, G_OPTION_ARG_FILENAME, &o.out_dir, N_("Output folder"), "DIR" },
    { "budget", 0, 0, G_OPTION_ARG_DOUBLE, &o.budget,
      N_("US dollars the campaign may spend, counting earlier runs in the ledger"), "USD" },
    { "campaign", 0, 0, G_OPTION_ARG_STRING, &o.campaign,
      N_("Name the ledger records calls under (default: the project or chain name)"), "NAME" },
    { "ledger", 0, 0, G_OPTION_ARG_FILENAME, &o.ledger,
      N_("Spend ledger (default: next to the project, or in the output folder)"), "FILE" },
    { "concurrency", 0, 0, G_OPTION_ARG_STRING_ARRAY, &o.concurrency,
      N_("Calls at once to a provider (repeatable)"), "PROVIDER=N" },
    { NULL },
  };
  g_autoptr (GOptionContext) octx = g_option_context_new (_("[PROJECT.catena] — run a chain "
                                                            "over many SKUs"));
  g_autoptr (GError) error = NULL;
  g_autoptr (CatenaProject) project = NULL;
  g_autoptr (CatenaBatch) batch = NULL;
  g_autoptr (CatenaLedger) ledger = NULL;
  g_autoptr (GMainLoop) loop = NULL;
  g_autoptr (GCancellable) cancellable = NULL;
  g_autofree char *ledger_path = NULL;
  g_autofree char *campaign = NULL;
  GListModel *rows;
  BatchRun run = { 0 };
  guint sigint_id, sigterm_id;
  int status = 0;

  catena_engine_init ();
  g_option_context_add_main_entries (octx, common, GETTEXT_PACKAGE);
  g_option_context_add_main_entries (octx, own, GETTEXT_PACKAGE);
  if (!g_option_context_parse (octx, &argc, &argv, &error) ||
      !(batch = make_batch (&o, argc, argv, &project, &error)))
    {
      status = fail (error);
      goto out;
    }
  if (o.out_dir == NULL)
    o.out_dir = g_strdup (o.chain_path ? NULL : catena_project_get_output_dir (project));
  if (o.out_dir == NULL)
    {
      g_printerr (_("catena-cli: say where outputs go with --out DIR.\n"));
      status = 2;
      goto out;
    }
  catena_batch_set_output_dir (batch, o.out_dir);

  for (guint i = 0; o.concurrency && o.concurrency[i]; i++)
    {
      g_auto (GStrv) kv = g_strsplit (o.concurrency[i], "=", 2);
      guint64 n;

      if (g_strv_length (kv) != 2 || !g_ascii_string_to_unsigned (kv[1], 10, 1, 256, &n, NULL))
        {
          g_printerr (_("catena-cli: --concurrency takes PROVIDER=N with N from 1 to 256, not "
                        "“%s”.\n"),
                      o.concurrency[i]);
          status = 2;
          goto out;
        }
      catena_batch_set_provider_limit (batch, kv[0], (guint) n);
    }

  campaign = g_strdup (o.campaign ? o.campaign : catena_project_get_name (project));
  if (o.ledger)
    ledger_path = g_strdup (o.ledger);
  else
    {
      ledger_path = catena_ledger_default_path (o.chain_path ? NULL : project, o.out_dir);
      /* shards on a shared folder each keep their own file: appends from several machines
       * to one file are not atomic on network file systems */
      if (o.shard)
        {
          g_autofree char *stem = g_strndup (ledger_path, strlen (ledger_path) - 6);
          g_autofree char *tag = g_strdelimit (g_strdup (o.shard), "/", '-');
          g_free (ledger_path);
          ledger_path = g_strdup_printf ("%s.shard-%s.jsonl", stem, tag);
        }
    }
  if (!(ledger = catena_ledger_open (ledger_path, &error)))
    {
      status = fail (error);
      goto out;
    }
  catena_batch_set_ledger (batch, ledger, campaign ? campaign : "");
  catena_batch_set_budget_limit (batch, o.budget);
  catena_batch_set_stop_on_budget (batch, TRUE);

  rows = catena_batch_get_rows (batch);
  run.total = g_list_model_get_n_items (rows);
  if (run.total == 0)
    {
      g_printerr (_("catena-cli: no SKUs to run in this shard.\n"));
      goto out;
    }
  for (guint i = 0; i < run.total; i++)
    {
      g_autoptr (CatenaBatchRow) row = g_list_model_get_item (rows, i);
      g_signal_connect (row, "notify::status", G_CALLBACK (on_row_status), &run);
    }

  loop = g_main_loop_new (NULL, FALSE);
  cancellable = g_cancellable_new ();
  run.loop = loop;
  run.batch = batch;
  run.cancellable = cancellable;
  run.tty = isatty (STDERR_FILENO);
  sigint_id = g_unix_signal_add (SIGINT, on_signal, &run);
  sigterm_id = g_unix_signal_add (SIGTERM, on_signal, &run);
  if (o.budget >= 0)
    g_printerr (_("Budget $%.2f for “%s”; $%.2f already spent in the ledger.\n"), o.budget,
                campaign, catena_ledger_get_spent (ledger, campaign));
  catena_batch_run_async (batch, cancellable, on_batch_done, &run);
  g_main_loop_run (loop);
  g_source_remove (sigint_id);
  g_source_remove (sigterm_id);

  g_printerr (_("%u done, %u failed of %u; $%.4f spent this run; ledger %s\n"),
              catena_batch_get_n_done (batch), catena_batch_get_n_failed (batch), run.total,
              catena_batch_get_spent (batch), catena_ledger_get_path (ledger));
  if (!run.ok)
    {
      if (g_error_matches (run.error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        {
          g_printerr (_("catena-cli: cancelled; run the same command again to resume.\n"));
          status = 130;
        }
      else
        {
          g_printerr ("catena-cli: %s\n", run.error->message);
          status = g_error_matches (run.error, CATENA_ROUTING_ERROR, CATENA_ROUTING_ERROR_BUDGET)
                     ? 3
                     : 1;
        }
      g_clear_error (&run.error);
    }
  else if (catena_batch_get_n_failed (batch) > 0)
    status = 1;

out:
  options_clear (&o);
  return status;
}

/* ---------------------------------------------------------------------------------------- */
/* ledger */

int
catena_cli_ledger (int argc, char **argv)
{
  g_autofree char *by = NULL;
  g_autofree char *campaign = NULL;
  g_autofree char *output = NULL;
  GOptionEntry entries[] = {
    { "by", 0, 0, G_OPTION_ARG_STRING, &by,
      N_("One row per call (default), campaign, asset or stage"), "GROUP" },
    { "campaign", 0, 0, G_OPTION_ARG_STRING, &campaign, N_("Only this campaign"), "NAME" },
    { "output", 'o', 0, G_OPTION_ARG_FILENAME, &output, N_("Write the CSV here, not to stdout"),
      "FILE" },
    { NULL },
  };
  g_autoptr (GOptionContext) octx =
    g_option_context_new (_("LEDGER.jsonl|PROJECT.catena… — export the spend ledger as CSV"));
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) paths = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GOutputStream) out = NULL;

  catena_engine_init ();
  g_option_context_add_main_entries (octx, entries, GETTEXT_PACKAGE);
  if (!g_option_context_parse (octx, &argc, &argv, &error))
    return fail (error);
  if (argc < 2)
    {
      g_printerr (_("catena-cli: name a ledger file (or the project it belongs to).\n"));
      return 2;
    }
  for (int i = 1; i < argc; i++)
    {
      if (g_str_has_suffix (argv[i], ".catena"))
        {
          g_autoptr (GFile) file = g_file_new_for_commandline_arg (argv[i]);
          g_autoptr (CatenaProject) project = catena_project_load (file, &error);
          if (project == NULL)
            return fail (error);
          g_ptr_array_add (paths, catena_ledger_default_path (project, NULL));
        }
      else if (!g_file_test (argv[i], G_FILE_TEST_IS_REGULAR))
        {
          g_printerr (_("catena-cli: the ledger “%s” does not exist.\n"), argv[i]);
          return 1;
        }
      else
        g_ptr_array_add (paths, g_strdup (argv[i]));
    }
  g_ptr_array_add (paths, NULL);

  if (output)
    {
      g_autoptr (GFile) file = g_file_new_for_commandline_arg (output);
      out = G_OUTPUT_STREAM (g_file_replace (file, NULL, FALSE, G_FILE_CREATE_NONE, NULL,
                                             &error));
      if (out == NULL)
        return fail (error);
    }
  else
    out = g_unix_output_stream_new (STDOUT_FILENO, FALSE);
  if (!catena_ledger_export_csv ((const char *const *) paths->pdata, by, campaign, out, NULL,
                                 &error))
    {
      /* A cancelled close discards the temporary file instead of renaming a partial CSV. */
      g_autoptr (GCancellable) discard = g_cancellable_new ();
      g_cancellable_cancel (discard);
      g_output_stream_close (out, discard, NULL);
      return fail (error);
    }
  if (!g_output_stream_close (out, NULL, &error))
    return fail (error);
  return 0;
}
