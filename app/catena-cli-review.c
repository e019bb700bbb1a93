/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <glib-unix.h>
#include <glib/gi18n.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "catena-cli-review.h"
#include "catena-engine.h"
#include "catena-review.h"

/* catena-cli export / review / contact-sheet. Like the rest of catena-cli: results on stdout,
 * progress and errors on stderr, one sentence per failure. The project file is saved only
 * when its review section changed (a state, a comment, an override or a delivery). */

static int
fail (const GError *error)
{
  g_printerr ("catena-cli: %s\n", error->message);
  return g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED) ? 130 : 1;
}

static CatenaProject *
load_project (const char *arg,
              GFile     **file_out,
              GError    **error)
{
  g_autoptr (GFile) file = g_file_new_for_commandline_arg (arg);
  CatenaProject *project = catena_project_load (file, error);

  if (project != NULL && file_out)
    *file_out = g_steal_pointer (&file);
  return project;
}

static char *
section_string (CatenaProject *project)
{
  g_autoptr (JsonNode) node = catena_project_dup_section (project, "review");

  return node ? json_to_string (node, FALSE) : NULL;
}

/* Saves when the review section differs from before; the audit log must never be lost. */
static int
save_if_changed (CatenaProject *project,
                 GFile         *file,
                 const char    *before,
                 int            status)
{
  g_autofree char *after = section_string (project);
  g_autoptr (GError) error = NULL;

  if (g_strcmp0 (before, after) == 0)
    return status;
  if (!catena_project_save (project, file, &error))
    {
      g_printerr ("catena-cli: %s\n", error->message);
      return 1;
    }
  return status;
}

static GPtrArray *
find_assets (CatenaProject *project,
             char         **ids,
             GError       **error)
{
  g_autoptr (GPtrArray) assets = NULL;

  if (ids == NULL)
    return NULL;
  assets = g_ptr_array_new ();
  for (guint i = 0; ids[i]; i++)
    {
      CatenaAsset *asset = catena_project_find_asset (project, ids[i]);

      if (asset == NULL)
        {
          g_set_error (error, CATENA_PROJECT_ERROR, CATENA_PROJECT_ERROR_NOT_FOUND,
                       _("The project has no asset “%s”."), ids[i]);
          return NULL;
        }
      g_ptr_array_add (assets, asset);
    }
  return g_steal_pointer (&assets);
}

/* ---------------------------------------------------------------------------------------- */
/* export: delivery runs on a worker so Ctrl+C on the main loop can cancel it */

typedef struct
{
  CatenaProject *project;
  GPtrArray *assets;
  const char *out_dir;
  const char *reason;
  GCancellable *cancellable;
  GMainLoop *loop;
  gboolean ok;
  GError *error;
  GPtrArray *paths;
  gboolean tty;
} ExportJob;

static void
export_progress (double   fraction,
                 gpointer data)
{
  ExportJob *job = data;

  if (job->tty)
    g_printerr ("\r\033[K[%3.0f%%] %s", 100 * fraction, _("delivering…"));
}

static gboolean
quit_loop (gpointer data)
{
  g_main_loop_quit (data);
  return G_SOURCE_REMOVE;
}

static gpointer
export_thread (gpointer data)
{
  ExportJob *job = data;

  job->ok = catena_deliver_assets (job->project, job->assets, job->out_dir, job->reason,
                                   job->cancellable, export_progress, job, &job->paths,
                                   &job->error);
  /* A source, not g_main_context_invoke(): if this thread finishes before the main thread
   * enters g_main_loop_run(), invoke would quit the loop here, before it runs, and the CLI
   * would then wait forever. */
  {
    g_autoptr (GSource) source = g_idle_source_new ();
    g_source_set_callback (source, quit_loop, job->loop, NULL);
    g_source_attach (source, NULL);
  }
  return NULL;
}

static gboolean
on_sigint (gpointer data)
{
  g_printerr (_("\nCancelling…\n"));
  g_cancellable_cancel (data);
  return G_SOURCE_CONTINUE;
}

int
catena_cli_export (int    argc,
                   char **argv)
{
  g_autofree char *out_dir = NULL;
  g_autofree char *reason = NULL;
  g_autofree char *user = NULL;
  g_autofree char *before = NULL;
  g_auto (GStrv) asset_ids = NULL;
  g_autoptr (GOptionContext) octx = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (CatenaProject) project = NULL;
  g_autoptr (GFile) file = NULL;
  g_autoptr (GPtrArray) assets = NULL;
  g_autoptr (GMainLoop) loop = NULL;
  g_autoptr (GCancellable) cancellable = g_cancellable_new ();
  ExportJob job = { 0 };
  guint sigint_id;
  int status = 0;
  GOptionEntry entries[] = {
    { "asset", 0, 0, G_OPTION_ARG_STRING_ARRAY, &asset_ids,
      N_("Asset to deliver (repeatable; default: all)"), "ID" },
    { "out", 0, 0, G_OPTION_ARG_FILENAME, &out_dir, N_("Delivery folder"), "DIR" },
    { "override", 0, 0, G_OPTION_ARG_STRING, &reason,
      N_("Deliver assets that are not approved; the reason goes into the audit log"),
      "REASON" },
    { "user", 0, 0, G_OPTION_ARG_STRING, &user, N_("Name recorded in the audit log"), "NAME" },
    { NULL },
  };

  octx = g_option_context_new (_("PROJECT.catena — deliver approved assets"));
  g_option_context_add_main_entries (octx, entries, GETTEXT_PACKAGE);
  if (!g_option_context_parse (octx, &argc, &argv, &error))
    {
      fail (error);
      return 2;
    }
  if (argc != 2 || out_dir == NULL)
    {
      g_printerr (_("Usage: catena-cli export PROJECT.catena [--asset ID]… --out DIR "
                    "[--override \"reason\"]\n"));
      return 2;
    }
  if (!(project = load_project (argv[1], &file, &error)))
    return fail (error);
  if (asset_ids && !(assets = find_assets (project, asset_ids, &error)))
    return fail (error);
  if (user != NULL)
    g_setenv ("CATENA_USER", user, TRUE);
  before = section_string (project);

  loop = g_main_loop_new (NULL, FALSE);
  job = (ExportJob) { project, assets, out_dir, reason, cancellable, loop, FALSE, NULL, NULL,
                      isatty (fileno (stderr)) };
  sigint_id = g_unix_signal_add (SIGINT, on_sigint, cancellable);
  g_thread_unref (g_thread_new ("catena-deliver", export_thread, &job));
  g_main_loop_run (loop);
  g_source_remove (sigint_id);
  if (job.tty)
    g_printerr ("\r\033[K");

  if (!job.ok)
    status = fail (job.error);
  else
    {
      for (guint i = 0; i < job.paths->len; i++)
        {
          g_autofree char *name = g_path_get_basename (g_ptr_array_index (job.paths, i));
          g_autofree char *id = g_strdup (name);
          char *dot = strrchr (id, '.');

          if (dot)
            *dot = '\0';
          g_print ("%s\t%s\n", id, (char *) g_ptr_array_index (job.paths, i));
        }
      g_printerr (g_dngettext (GETTEXT_PACKAGE, "Delivered %u asset with provenance.\n",
                               "Delivered %u assets with provenance.\n", job.paths->len),
                  job.paths->len);
    }
  g_clear_error (&job.error);
  g_clear_pointer (&job.paths, g_ptr_array_unref);
  return save_if_changed (project, file, before, status);
}

/* ---------------------------------------------------------------------------------------- */

static gboolean
parse_region (const char    *text,
              GeglRectangle *region)
{
  g_auto (GStrv) parts = g_strsplit (text, ",", -1);
  gint64 v[4];

  if (g_strv_length (parts) != 4)
    return FALSE;
  for (int i = 0; i < 4; i++)
    if (!g_ascii_string_to_signed (g_strstrip (parts[i]), 10, i < 2 ? G_MININT : 1, G_MAXINT,
                                   &v[i], NULL))
      return FALSE;
  *region = (GeglRectangle) { v[0], v[1], v[2], v[3] };
  return TRUE;
}

static void
list_asset (CatenaReview *review,
            CatenaAsset  *asset,
            gboolean      with_log)
{
  const char *id = catena_asset_get_id (asset);
  GListModel *comments = catena_review_get_comments (review, id);
  guint n = g_list_model_get_n_items (comments);

  g_print ("%s\t%s\t%u\n", id, catena_review_state_to_string (catena_review_get_state (review, id)),
           n);
  for (guint i = 0; i < n; i++)
    {
      g_autoptr (CatenaReviewComment) c = g_list_model_get_item (comments, i);
      int x, y, w, h;
      g_autofree char *region = catena_review_comment_get_region (c, &x, &y, &w, &h)
                                  ? g_strdup_printf (" [%d,%d %dx%d]", x, y, w, h)
                                  : g_strdup ("");

      g_print ("  %s %s %s%s%s: %s\n", catena_review_comment_get_time (c),
               catena_review_comment_get_author (c),
               catena_review_comment_get_stage_id (c) ? catena_review_comment_get_stage_id (c)
                                                      : "-",
               region, "", catena_review_comment_get_text (c));
    }
  if (with_log)
    {
      GListModel *log = catena_review_get_log (review);

      for (guint i = 0; i < g_list_model_get_n_items (log); i++)
        {
          g_autoptr (CatenaReviewEntry) e = g_list_model_get_item (log, i);

          if (g_strcmp0 (catena_review_entry_get_asset_id (e), id) != 0)
            continue;
          g_print ("  log %s %s %s%s%s%s%s%s\n", catena_review_entry_get_time (e),
                   catena_review_entry_get_user (e), catena_review_entry_get_action (e),
                   catena_review_entry_get_from_state (e) ? " " : "",
                   catena_review_entry_get_from_state (e) ? catena_review_entry_get_from_state (e)
                                                          : "",
                   catena_review_entry_get_to_state (e) ? "→" : "",
                   catena_review_entry_get_to_state (e) ? catena_review_entry_get_to_state (e) : "",
                   catena_review_entry_get_text (e) ? "" : "");
          if (catena_review_entry_get_text (e))
            g_print ("      %s\n", catena_review_entry_get_text (e));
        }
    }
}

int
catena_cli_review (int    argc,
                   char **argv)
{
  g_autofree char *asset_id = NULL;
  g_autofree char *state_text = NULL;
  g_autofree char *comment = NULL;
  g_autofree char *stage_id = NULL;
  g_autofree char *region_text = NULL;
  g_autofree char *user = NULL;
  g_autofree char *before = NULL;
  gboolean list = FALSE, with_log = FALSE;
  g_autoptr (GOptionContext) octx = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (CatenaProject) project = NULL;
  g_autoptr (GFile) file = NULL;
  g_autoptr (CatenaReview) review = NULL;
  CatenaAsset *asset = NULL;
  CatenaReviewState state;
  GeglRectangle region;
  GOptionEntry entries[] = {
    { "asset", 0, 0, G_OPTION_ARG_STRING, &asset_id, N_("Asset to review"), "ID" },
    { "set-state", 0, 0, G_OPTION_ARG_STRING, &state_text,
      N_("draft, in-review, changes-requested, approved or rejected"), "STATE" },
    { "comment", 0, 0, G_OPTION_ARG_STRING, &comment, N_("Add a comment"), "TEXT" },
    { "stage", 0, 0, G_OPTION_ARG_STRING, &stage_id, N_("Stage the comment is about"), "ID" },
    { "region", 0, 0, G_OPTION_ARG_STRING, &region_text,
      N_("Region of that stage's image the comment is about"), "X,Y,W,H" },
    { "user", 0, 0, G_OPTION_ARG_STRING, &user, N_("Name recorded in the audit log"), "NAME" },
    { "list", 0, 0, G_OPTION_ARG_NONE, &list, N_("List states and comments"), NULL },
    { "log", 0, 0, G_OPTION_ARG_NONE, &with_log, N_("With --list: also the audit log"), NULL },
    { NULL },
  };

  octx = g_option_context_new (_("PROJECT.catena — review states and comments"));
  g_option_context_add_main_entries (octx, entries, GETTEXT_PACKAGE);
  if (!g_option_context_parse (octx, &argc, &argv, &error))
    {
      fail (error);
      return 2;
    }
  if (argc != 2 || (!list && (asset_id == NULL || (state_text == NULL && comment == NULL))))
    {
      g_printerr (_("Usage: catena-cli review PROJECT.catena --asset ID "
                    "--set-state approved|rejected|changes-requested|in-review|draft "
                    "[--comment TEXT] [--stage ID [--region X,Y,W,H]]\n"
                    "       catena-cli review PROJECT.catena --list [--asset ID] [--log]\n"));
      return 2;
    }
  if (state_text != NULL && !catena_review_state_from_string (state_text, &state))
    {
      g_printerr (_("catena-cli: “%s” is not a review state: use draft, in-review, "
                    "changes-requested, approved or rejected.\n"),
                  state_text);
      return 2;
    }
  if (region_text != NULL && !parse_region (region_text, &region))
    {
      g_printerr (_("catena-cli: --region takes X,Y,W,H in pixels, e.g. 120,40,200,160.\n"));
      return 2;
    }
  if (!(project = load_project (argv[1], &file, &error)))
    return fail (error);
  if (asset_id != NULL && !(asset = catena_project_find_asset (project, asset_id)))
    {
      g_printerr (_("catena-cli: the project has no asset “%s”.\n"), asset_id);
      return 1;
    }
  if (!(review = catena_review_new_for_project (project, &error)))
    return fail (error);
  if (user != NULL)
    catena_review_set_user (review, user);
  before = section_string (project);

  if (list)
    {
      GListModel *all = catena_project_get_assets (project);

      for (guint i = 0; i < g_list_model_get_n_items (all); i++)
        {
          g_autoptr (CatenaAsset) a = g_list_model_get_item (all, i);
          if (asset == NULL || a == asset)
            list_asset (review, a, with_log);
        }
      return 0;
    }

  /* The comment first: "changes requested" is usually sent with its reason. */
  if (comment != NULL &&
      !catena_review_add_comment (review, asset_id, stage_id, region_text ? &region : NULL,
                                  comment, &error))
    return fail (error);
  if (state_text != NULL)
    {
      g_autofree char *output_key = NULL;

      if (state == CATENA_REVIEW_STATE_APPROVED)
        {
          /* An approval covers this output: delivery refuses it once the chain changes. */
          g_autofree char *base = catena_project_dup_base_dir (project);
          CatenaChain *chain = catena_project_get_chain (project);
          g_auto (GStrv) keys = catena_chain_compute_keys (chain, asset, base, NULL, &error);

          if (keys == NULL)
            return save_if_changed (project, file, before, fail (error));
          if (keys[0] != NULL)
            output_key = g_strdup (keys[g_strv_length (keys) - 1]);
        }
      if (!catena_review_set_state (review, asset_id, state, NULL, output_key, &error))
        return save_if_changed (project, file, before, fail (error));
    }
  list_asset (review, asset, FALSE);
  return save_if_changed (project, file, before, 0);
}

/* ---------------------------------------------------------------------------------------- */

int
catena_cli_contact_sheet (int    argc,
                          char **argv)
{
  g_autofree char *out = NULL;
  g_auto (GStrv) asset_ids = NULL;
  g_autoptr (GOptionContext) octx = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (CatenaProject) project = NULL;
  g_autoptr (GPtrArray) assets = NULL;
  GOptionEntry entries[] = {
    { "asset", 0, 0, G_OPTION_ARG_STRING_ARRAY, &asset_ids,
      N_("Asset to include (repeatable; default: all)"), "ID" },
    { "out", 0, 0, G_OPTION_ARG_FILENAME, &out, N_("PDF file to write"), "SHEET.pdf" },
    { NULL },
  };

  octx = g_option_context_new (_("PROJECT.catena — a PDF of outputs, stages and comments"));
  g_option_context_add_main_entries (octx, entries, GETTEXT_PACKAGE);
  if (!g_option_context_parse (octx, &argc, &argv, &error))
    {
      fail (error);
      return 2;
    }
  if (argc != 2 || out == NULL)
    {
      g_printerr (_("Usage: catena-cli contact-sheet PROJECT.catena [--asset ID]… "
                    "--out SHEET.pdf\n"));
      return 2;
    }
  if (!(project = load_project (argv[1], NULL, &error)))
    return fail (error);
  if (asset_ids && !(assets = find_assets (project, asset_ids, &error)))
    return fail (error);
  if (!catena_contact_sheet_write (project, assets, out, NULL, &error))
    return fail (error);
  g_print ("%s\n", out);
  return 0;
}
