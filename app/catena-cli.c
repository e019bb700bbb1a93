/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <glib/gi18n.h>
#include <locale.h>
#include <stdio.h>
#include <string.h>
#include <glib-unix.h>
#include <signal.h>
#include <unistd.h>

#include "catena-cli-batch.h"
#include "catena-cli-review.h"
#include "catena-engine.h"
#include "catena-nn.h"

/* catena-cli: every engine feature without a display. Progress goes to stderr, results and
 * listings to stdout; any failure exits non-zero with one clear sentence. */

typedef struct
{
  GMainLoop *loop;
  gboolean ok;
  GError *error;
  gboolean tty;
  guint n_written;
} CliRun;

static void
usage (FILE *out)
{
  fprintf (out,
           _("Usage:\n"
             "  catena-cli run PROJECT.catena [--asset ID]… [--out DIR] [--set STAGE.PARAM=VALUE]…\n"
             "  catena-cli run --chain CHAIN.json --input PHOTO [--class CLASS] --out DIR "
             "[--set …]\n"
             "  catena-cli stages            list stage kinds and their parameters\n"
             "  catena-cli keys PROJECT.catena [--asset ID]   print each stage's cache key\n"
             "  catena-cli plan  (PROJECT.catena | --chain CHAIN.json) [--input DIR | --csv FILE]\n"
             "             [--class C] [--shard I/N] [--routing FILE] [--pricing FILE] [--json]\n"
             "  catena-cli batch (PROJECT.catena | --chain CHAIN.json) [--input DIR | --csv FILE]\n"
             "             --out DIR [--budget USD] [--campaign NAME] [--ledger FILE] [--shard I/N]\n"
             "             [--concurrency PROVIDER=N]…\n"
             "  catena-cli ledger LEDGER.jsonl|PROJECT.catena… [--by call|campaign|asset|stage]\n"
             "             [--campaign NAME] [-o FILE]\n"
             "  catena-cli review PROJECT.catena --asset ID --set-state STATE [--comment TEXT]\n"
             "             [--stage ID [--region X,Y,W,H]] [--user NAME] | --list [--log]\n"
             "  catena-cli export PROJECT.catena [--asset ID]… --out DIR [--override REASON]\n"
             "  catena-cli contact-sheet PROJECT.catena [--asset ID]… --out SHEET.pdf\n"
             "  catena-cli devices            where local models can run\n"
             "  catena-cli --version\n"
             "\n"
             "Every command takes --device cpu|cuda|auto: where local models (background\n"
             "removal, upscaling) run. auto (the default, or $CATENA_DEVICE) uses the GPU when\n"
             "there is one.\n"));
}

static void
on_stage_started (CatenaRunner *runner, const char *asset_id, guint index, const char *stage_id,
                  CliRun *cli)
{
  g_printerr ("%s[%3.0f%%] %s: %s…%s", cli->tty ? "\r\033[K" : "",
              100 * catena_runner_get_fraction (runner), asset_id, stage_id,
              cli->tty ? "" : "\n");
}

static void
on_stage_finished (CatenaRunner *runner, const char *asset_id, guint index, const char *stage_id,
                   const char *key, gboolean from_cache, CliRun *cli)
{
  if (from_cache)
    g_printerr ("%s[%3.0f%%] %s: %s (cached)%s", cli->tty ? "\r\033[K" : "",
                100 * catena_runner_get_fraction (runner), asset_id, stage_id,
                cli->tty ? "" : "\n");
}

static void
on_asset_finished (CatenaRunner *runner, const char *asset_id, const char *output,
                   const char *error_message, CliRun *cli)
{
  if (cli->tty)
    g_printerr ("\r\033[K");
  if (error_message)
    g_printerr (_("%s: failed: %s\n"), asset_id, error_message);
  else if (output)
    {
      g_print ("%s\t%s\n", asset_id, output);
      cli->n_written++;
    }
  else
    g_printerr (_("%s: done\n"), asset_id);
}

static void
on_run_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  CliRun *cli = user_data;

  cli->ok = catena_runner_run_finish (CATENA_RUNNER (source), result, &cli->error);
  g_main_loop_quit (cli->loop);
}

static GCancellable *interrupt_cancellable;

static gboolean
on_sigint (gpointer data)
{
  g_printerr (_("\nCancelling…\n"));
  g_cancellable_cancel (interrupt_cancellable);
  return G_SOURCE_CONTINUE;
}

static int
fail (GError *error)
{
  g_printerr ("catena-cli: %s\n", error->message);
  return 1;
}

static int
cmd_stages (void)
{
  g_autofree GType *types = NULL;
  guint n_types;

  types = catena_stage_list_types (&n_types);
  for (guint i = 0; i < n_types; i++)
    {
      g_autoptr (CatenaStage) stage = g_object_new (types[i], NULL);
      g_autofree GParamSpec **params = NULL;
      guint n_params;

      g_print ("%s\t%s — %s\n", catena_stage_get_kind (stage), catena_stage_get_title (stage),
               catena_stage_get_description (stage));
      params = catena_stage_list_params (stage, &n_params);
      for (guint j = 0; j < n_params; j++)
        {
          g_autofree char *def = NULL;

          if (G_IS_PARAM_SPEC_DOUBLE (params[j]))
            {
              double d;
              g_object_get (stage, params[j]->name, &d, NULL);
              def = g_strdup_printf ("%g", d);
            }
          else
            def = catena_stage_dup_param_string (stage, params[j]->name);
          g_autofree char *range = catena_param_spec_describe_range (params[j]);
          const char *type = catena_param_spec_is_color (params[j])
                               ? "colour"
                               : g_type_name (G_PARAM_SPEC_VALUE_TYPE (params[j]));

          g_print ("  %-18s %-8s default %-10s%s%s%s  %s\n", params[j]->name,
                   G_TYPE_IS_ENUM (G_PARAM_SPEC_VALUE_TYPE (params[j])) ? "choice" : type, def,
                   range ? " [" : "", range ? range : "", range ? "]" : "",
                   g_dgettext (GETTEXT_PACKAGE, g_param_spec_get_blurb (params[j])));
        }
    }
  return 0;
}

static CatenaProject *
project_for_chain (const char *chain_path,
                   const char *input,
                   const char *klass,
                   GError **error)
{
  g_autoptr (GFile) file = g_file_new_for_commandline_arg (chain_path);
  g_autoptr (CatenaChain) chain = NULL;
  g_autoptr (CatenaProject) project = NULL;
  g_autoptr (CatenaAsset) asset = NULL;
  g_autofree char *abs_input = NULL;
  g_autofree char *id = NULL;
  CatenaAssetKind asset_class = CATENA_ASSET_CLASS_FEED;

  if (!(chain = catena_chain_load (file, error)))
    return NULL;
  if (klass && !catena_asset_class_from_string (klass, &asset_class))
    {
      g_set_error (error, CATENA_PROJECT_ERROR, CATENA_PROJECT_ERROR_INVALID,
                   _("Unknown asset class “%s”: use thumbnail, feed, hero or print."), klass);
      return NULL;
    }
  if (!g_file_test (input, G_FILE_TEST_EXISTS))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, _("The photo “%s” does not exist."),
                   input);
      return NULL;
    }

  project = catena_project_new ();
  for (guint i = 0; i < catena_chain_get_n_stages (chain); i++)
    catena_chain_append (catena_project_get_chain (project), catena_chain_get_stage (chain, i));
  abs_input = g_canonicalize_filename (input, NULL);
  id = catena_project_make_asset_id (project, abs_input);
  asset = catena_asset_new (id);
  catena_asset_set_source (asset, abs_input);
  catena_asset_set_asset_class (asset, asset_class);
  catena_project_add_asset (project, asset);
  return g_steal_pointer (&project);
}

static int
cmd_run (int argc, char **argv, gboolean keys_only)
{
  g_autofree char *chain_path = NULL;
  g_autofree char *input = NULL;
  g_autofree char *out_dir = NULL;
  g_autofree char *klass = NULL;
  g_auto (GStrv) asset_ids = NULL;
  g_auto (GStrv) settings = NULL;
  g_autoptr (GOptionContext) octx = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (CatenaProject) project = NULL;
  g_autoptr (CatenaRunner) runner = NULL;
  g_autoptr (GPtrArray) assets = NULL;
  g_autoptr (GMainLoop) loop = NULL;
  CatenaChain *chain;
  CliRun cli = { 0 };
  guint sigint_id;
  GOptionEntry entries[] = {
    { "chain", 0, 0, G_OPTION_ARG_FILENAME, &chain_path, N_("Chain file to run"), "CHAIN.json" },
    { "input", 0, 0, G_OPTION_ARG_FILENAME, &input, N_("Photo to run the chain on"), "PHOTO" },
    { "class", 0, 0, G_OPTION_ARG_STRING, &klass, N_("Asset class of --input"), "CLASS" },
    { "asset", 0, 0, G_OPTION_ARG_STRING_ARRAY, &asset_ids, N_("Asset to run (repeatable)"),
      "ID" },
    { "out", 0, 0, G_OPTION_ARG_FILENAME, &out_dir, N_("Output folder"), "DIR" },
    { "set", 0, 0, G_OPTION_ARG_STRING_ARRAY, &settings, N_("Override a stage parameter"),
      "STAGE.PARAM=VALUE" },
    { NULL },
  };

  octx = g_option_context_new (keys_only ? "PROJECT.catena" : "[PROJECT.catena]");
  g_option_context_add_main_entries (octx, entries, GETTEXT_PACKAGE);
  if (!g_option_context_parse (octx, &argc, &argv, &error))
    return fail (error);

  if (chain_path != NULL)
    {
      if (argc > 1 || input == NULL)
        {
          g_printerr (_("catena-cli: --chain takes --input PHOTO and no project file.\n"));
          return 2;
        }
      if (!(project = project_for_chain (chain_path, input, klass, &error)))
        return fail (error);
      if (out_dir == NULL)
        out_dir = g_get_current_dir ();
    }
  else
    {
      g_autoptr (GFile) file = NULL;

      if (argc != 2)
        {
          usage (stderr);
          return 2;
        }
      file = g_file_new_for_commandline_arg (argv[1]);
      if (!(project = catena_project_load (file, &error)))
        return fail (error);
      if (out_dir == NULL)
        out_dir = g_strdup (catena_project_get_output_dir (project));
    }

  chain = catena_project_get_chain (project);
  for (guint i = 0; settings && settings[i]; i++)
    if (!catena_chain_apply_setting (chain, settings[i], &error))
      return fail (error);

  if (asset_ids != NULL)
    {
      assets = g_ptr_array_new ();
      for (guint i = 0; asset_ids[i]; i++)
        {
          CatenaAsset *asset = catena_project_find_asset (project, asset_ids[i]);
          if (asset == NULL)
            {
              g_printerr (_("catena-cli: the project has no asset “%s”.\n"), asset_ids[i]);
              return 1;
            }
          g_ptr_array_add (assets, asset);
        }
    }

  if (keys_only)
    {
      GListModel *all = catena_project_get_assets (project);
      g_autofree char *base = catena_project_dup_base_dir (project);

      for (guint a = 0; a < g_list_model_get_n_items (all); a++)
        {
          g_autoptr (CatenaAsset) asset = g_list_model_get_item (all, a);
          g_auto (GStrv) keys = NULL;

          if (assets && !g_ptr_array_find (assets, asset, NULL))
            continue;
          if (!(keys = catena_chain_compute_keys (chain, asset, base, NULL, &error)))
            return fail (error);
          for (guint i = 0; keys[i]; i++)
            g_print ("%s\t%s\t%s\n", catena_asset_get_id (asset),
                     catena_stage_get_id (catena_chain_get_stage (chain, i)), keys[i]);
        }
      return 0;
    }

  if (catena_chain_get_n_stages (chain) == 0)
    {
      g_printerr (_("catena-cli: the chain is empty: add stages to it first.\n"));
      return 1;
    }

  loop = g_main_loop_new (NULL, FALSE);
  cli.loop = loop;
  cli.tty = isatty (STDERR_FILENO);
  runner = catena_runner_new (NULL);
  g_signal_connect (runner, "stage-started", G_CALLBACK (on_stage_started), &cli);
  g_signal_connect (runner, "stage-finished", G_CALLBACK (on_stage_finished), &cli);
  g_signal_connect (runner, "asset-finished", G_CALLBACK (on_asset_finished), &cli);

  interrupt_cancellable = g_cancellable_new ();
  sigint_id = g_unix_signal_add (SIGINT, on_sigint, NULL);
  catena_runner_run_async (runner, project, assets, out_dir, interrupt_cancellable, on_run_done,
                           &cli);
  g_main_loop_run (loop);
  g_source_remove (sigint_id);
  g_clear_object (&interrupt_cancellable);

  if (!cli.ok)
    {
      int code = g_error_matches (cli.error, G_IO_ERROR, G_IO_ERROR_CANCELLED) ? 130 : 1;
      if (code == 130)
        g_printerr (_("catena-cli: cancelled; finished stages are kept in the cache.\n"));
      else
        g_printerr ("catena-cli: %s\n", cli.error->message);
      g_clear_error (&cli.error);
      return code;
    }
  {
    guint executed, cached;
    catena_runner_get_stats (runner, &executed, &cached);
    g_printerr (_("Done: %u stages run, %u from the cache, %u files written.\n"), executed,
                cached, cli.n_written);
  }
  return 0;
}

/* ---- --device (every command) ---- */

static GMutex device_report_lock;
static gboolean device_reported;
static char *device_last_fallback;

/* From the worker that ran a local model: say once where models run, and every new reason
 * the GPU was not used. */
static void
on_device_used (CatenaNnDevice used, const GError *fallback, gpointer user_data)
{
  g_mutex_lock (&device_report_lock);
  if (fallback != NULL && g_strcmp0 (device_last_fallback, fallback->message) != 0)
    {
      g_printerr (_("catena-cli: the GPU could not run a local model (%s); it ran on the "
                    "CPU.\n"),
                  fallback->message);
      g_free (device_last_fallback);
      device_last_fallback = g_strdup (fallback->message);
    }
  if (!device_reported)
    {
      g_autofree char *where = catena_nn_device_describe (used);

      g_printerr (_("Local models run on the %s\n"), where);
      device_reported = TRUE;
    }
  g_mutex_unlock (&device_report_lock);
}

/* Takes --device VALUE / --device=VALUE out of argv (any position after the command).
 * Returns FALSE after printing why when the value is not a device. */
static gboolean
take_device_option (int *argc, char **argv)
{
  int j = 1;

  for (int i = 1; i < *argc; i++)
    {
      const char *value = NULL;
      CatenaNnDevice device;

      if (g_str_equal (argv[i], "--"))
        {
          while (i < *argc)
            argv[j++] = argv[i++];
          break;
        }
      if (g_str_equal (argv[i], "--device"))
        {
          if (i + 1 >= *argc)
            {
              g_printerr (_("catena-cli: --device needs a value: cpu, cuda or auto.\n"));
              return FALSE;
            }
          value = argv[++i];
        }
      else if (g_str_has_prefix (argv[i], "--device="))
        value = argv[i] + strlen ("--device=");
      else
        {
          argv[j++] = argv[i];
          continue;
        }
      if (!catena_nn_device_from_string (value, &device))
        {
          g_printerr (_("catena-cli: unknown device “%s”: use cpu, cuda or auto.\n"), value);
          return FALSE;
        }
      catena_nn_set_device (device);
      if (device == CATENA_NN_DEVICE_CUDA && !catena_nn_cuda_available (NULL))
        {
          g_autofree char *where = catena_nn_device_describe (CATENA_NN_DEVICE_AUTO);

          g_printerr (_("catena-cli: --device cuda: no usable GPU; local models will run on "
                        "the %s.\n"),
                      where);
        }
    }
  argv[j] = NULL;
  *argc = j;
  return TRUE;
}

static int
cmd_devices (void)
{
  g_autofree char *gpu = NULL;
  g_autofree char *cpu = catena_nn_device_describe (CATENA_NN_DEVICE_CPU);
  g_autofree char *chosen = catena_nn_device_describe (catena_nn_get_device ());

  g_print ("cpu\t%s\t%s\n", _("available"), cpu);
  if (catena_nn_cuda_available (&gpu))
    g_print ("cuda\t%s\t%s\n", _("available"), gpu);
  else
    {
      g_autofree char *why = catena_nn_device_unavailable_reason ();

      g_print ("cuda\t%s\t%s\n", _("not available"), why);
    }
  g_print (_("in use (--device %s): %s\n"), catena_nn_device_to_string (catena_nn_get_device ()),
           chosen);
  return 0;
}

int
main (int argc, char **argv)
{
  setlocale (LC_ALL, "");
  bindtextdomain (GETTEXT_PACKAGE, LOCALEDIR);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  textdomain (GETTEXT_PACKAGE);

  if (argc < 2)
    {
      usage (stderr);
      return 2;
    }
  if (g_str_equal (argv[1], "--version"))
    {
      g_print ("catena-cli %s\n", PACKAGE_VERSION);
      return 0;
    }
  if (g_str_equal (argv[1], "--help") || g_str_equal (argv[1], "-h") ||
      g_str_equal (argv[1], "help"))
    {
      usage (stdout);
      return 0;
    }

  if (!take_device_option (&argc, argv))
    return 2;
  if (argc < 2)
    {
      usage (stderr);
      return 2;
    }
  catena_engine_init ();
  catena_nn_set_device_notify (on_device_used, NULL);

  if (g_str_equal (argv[1], "devices"))
    return cmd_devices ();
  if (g_str_equal (argv[1], "stages"))
    return cmd_stages ();
  if (g_str_equal (argv[1], "run"))
    return cmd_run (argc - 1, argv + 1, FALSE);
  if (g_str_equal (argv[1], "keys"))
    return cmd_run (argc - 1, argv + 1, TRUE);

  if (g_str_equal (argv[1], "plan"))
    return catena_cli_plan (argc - 1, argv + 1);
  if (g_str_equal (argv[1], "batch"))
    return catena_cli_batch (argc - 1, argv + 1);
  if (g_str_equal (argv[1], "ledger"))
    return catena_cli_ledger (argc - 1, argv + 1);
  if (g_str_equal (argv[1], "export"))
    return catena_cli_export (argc - 1, argv + 1);
  if (g_str_equal (argv[1], "review"))
    return catena_cli_review (argc - 1, argv + 1);
  if (g_str_equal (argv[1], "contact-sheet"))
    return catena_cli_contact_sheet (argc - 1, argv + 1);

  g_printerr (_("catena-cli: unknown command “%s”.\n"), argv[1]);
  usage (stderr);
  return 2;
}
