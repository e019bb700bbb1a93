/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <glib/gstdio.h>

#include "catena-ui.h"
#include "ui-test-util.h"

/* Crash recovery at start-up. A child process plays the session that crashed: it saves a
 * project, edits it, writes the autosaves through the engine (as the window's autosave timer
 * does) for it and for an unsaved project, and exits without discarding them. Each case then starts the
 * application once, in a subprocess of its own (a second GApplication in one process hangs),
 * with the same $XDG_STATE_HOME: the recovery dialog must appear over the first window, and
 * its Recover or Discard button must do what it says, in the windows and on disk. */

#define TIMEOUT_S 90

#define SAVED_NAME   "Spring campaign"
#define UNSAVED_NAME "Untitled draft"

static char *
state_dir (void)
{
  return g_build_filename (g_getenv ("XDG_STATE_HOME"), "catena", "autosave", NULL);
}

static char *
project_path (void)
{
  return g_build_filename (g_getenv ("CATENA_RECOVERY_DIR"), "work.catena", NULL);
}

static CatenaProject *
make_project (const char *name, const char *const *kinds)
{
  CatenaProject *project = catena_project_new ();
  GError *error = NULL;

  catena_project_set_name (project, name);
  for (guint i = 0; kinds[i]; i++)
    {
      g_autoptr (CatenaStage) stage = catena_stage_new (kinds[i], &error);
      g_assert_no_error (error);
      catena_chain_append (catena_project_get_chain (project), stage);
    }
  return project;
}

static double
saturation_of (CatenaChain *chain)
{
  double value = 0;

  g_object_get (catena_chain_find_stage (chain, "recolor", NULL), "saturation", &value, NULL);
  return value;
}

static char **
list_autosaves (void)
{
  g_autofree char *dir = state_dir ();
  g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
  g_autoptr (GStrvBuilder) b = g_strv_builder_new ();
  const char *name;

  while (d && (name = g_dir_read_name (d)))
    g_strv_builder_add (b, name);
  return g_strv_builder_end (b);
}

/* The crashed session: what it leaves on disk. Returns the saved project file's contents. */
static const char *self_path;

/* The session that crashes, as a process of its own that then ends (an autosave whose writer
 * still runs is that writer's work, not something to recover): saves the project, edits it,
 * autosaves it and an unsaved draft, prints the two autosave slots and exits without
 * discarding anything. Run when $CATENA_RECOVERY_CRASHED_SESSION is set. */
static int
crashed_session_main (void)
{
  const char *saved_kinds[] = { "import", "recolor", "export", NULL };
  const char *draft_kinds[] = { "generate", "upscale", NULL };
  g_autofree char *path = project_path ();
  g_autoptr (GFile) file = g_file_new_for_path (path);
  g_autoptr (CatenaProject) saved = make_project (SAVED_NAME, saved_kinds);
  g_autoptr (CatenaProject) draft = make_project (UNSAVED_NAME, draft_kinds);
  g_autoptr (GFile) slot = NULL;
  g_autoptr (GFile) draft_slot = NULL;
  g_autoptr (CatenaStage) upscale = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *slot_name = NULL, *draft_slot_name = NULL;

  g_assert_true (catena_project_save (saved, file, &error));
  g_assert_no_error (error);

  /* edits after the last save: a new stage and a parameter */
  upscale = catena_stage_new ("upscale", &error);
  g_assert_no_error (error);
  catena_chain_insert (catena_project_get_chain (saved), 2, upscale);
  g_assert_true (catena_chain_apply_setting (catena_project_get_chain (saved),
                                             "recolor.saturation=40", &error));
  g_assert_true (catena_autosave_write (saved, &error));
  g_assert_no_error (error);
  g_assert_true (catena_autosave_write (draft, &error));
  g_assert_no_error (error);

  slot = catena_autosave_get_file (saved);
  draft_slot = catena_autosave_get_file (draft);
  slot_name = g_file_get_basename (slot);
  draft_slot_name = g_file_get_basename (draft_slot);
  g_print ("%s\n%s\n", slot_name, draft_slot_name);
  /* the crash: nothing is discarded */
  return 0;
}

/* A fresh folder for the project and $XDG_STATE_HOME, shared with the subprocesses. */
static void
new_session_dir (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("catena-recovery-XXXXXX", &error);
  g_autofree char *state = NULL;

  g_assert_no_error (error);
  state = g_build_filename (dir, "state", NULL);
  g_setenv ("CATENA_RECOVERY_DIR", dir, TRUE);
  g_setenv ("XDG_STATE_HOME", state, TRUE);
}

/* Runs this test case again in a subprocess (where g_test_subprocess () is TRUE): one
 * GApplication per process. */
static void
run_case_in_subprocess (void)
{
  g_test_trap_subprocess (NULL, (guint64) (TIMEOUT_S + 30) * G_USEC_PER_SEC,
                          G_TEST_SUBPROCESS_INHERIT_STDERR);
  g_test_trap_assert_passed ();
}

/* Runs the crashed session in a child process; returns the project file's text as saved. */
static char *
prepare_crashed_session (char **saved_slot, char **unsaved_slot)
{
  g_autofree char *path = NULL;
  g_autofree char *out = NULL;
  g_auto (GStrv) env = NULL;
  g_auto (GStrv) lines = NULL;
  g_autoptr (GError) error = NULL;
  char *argv[] = { (char *) self_path, NULL };
  char *contents = NULL;
  int status = 0;

  new_session_dir ();
  env = g_environ_setenv (g_get_environ (), "CATENA_RECOVERY_CRASHED_SESSION", "1", TRUE);
  g_assert_true (g_spawn_sync (NULL, argv, env, G_SPAWN_CHILD_INHERITS_STDIN, NULL, NULL, &out,
                               NULL, &status, &error));
  g_assert_no_error (error);
  g_assert_true (g_spawn_check_wait_status (status, NULL));
  lines = g_strsplit (out, "\n", 0);
  g_assert_cmpuint (g_strv_length (lines), >=, 2);
  *saved_slot = g_strdup (lines[0]);
  *unsaved_slot = g_strdup (lines[1]);

  path = project_path ();
  g_assert_true (g_file_get_contents (path, &contents, NULL, NULL));
  {
    g_auto (GStrv) names = list_autosaves ();
    g_assert_cmpuint (g_strv_length (names), ==, 2);
  }
  return contents;
}

static void
remove_session (void)
{
  const char *dir = g_getenv ("CATENA_RECOVERY_DIR");
  char *argv[] = { (char *) "rm", (char *) "-rf", (char *) dir, NULL };

  g_assert_nonnull (dir);
  g_spawn_sync (NULL, argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL, NULL, NULL, NULL);
}

/* ---- the application, in the subprocess ---- */

typedef struct
{
  GtkApplication *app;
  const char *response; /* "recover" or "discard" */
  AdwMessageDialog *dialog;
  gboolean answered;
  gboolean checked;
} Run;

static AdwMessageDialog *
find_dialog (void)
{
  GListModel *toplevels = gtk_window_get_toplevels ();

  for (guint i = 0; i < g_list_model_get_n_items (toplevels); i++)
    {
      g_autoptr (GObject) w = g_list_model_get_item (toplevels, i);
      if (ADW_IS_MESSAGE_DIALOG (w) && gtk_widget_get_visible (GTK_WIDGET (w)))
        return ADW_MESSAGE_DIALOG (w);
    }
  return NULL;
}

static GtkWidget *
find_button (GtkWidget *widget, const char *label)
{
  if (GTK_IS_BUTTON (widget) && g_strcmp0 (gtk_button_get_label (GTK_BUTTON (widget)), label) == 0)
    return widget;
  for (GtkWidget *c = gtk_widget_get_first_child (widget); c; c = gtk_widget_get_next_sibling (c))
    {
      GtkWidget *found = find_button (c, label);
      if (found)
        return found;
    }
  return NULL;
}

static GPtrArray *
catena_windows (GtkApplication *app)
{
  GPtrArray *windows = g_ptr_array_new ();

  for (GList *l = gtk_application_get_windows (app); l; l = l->next)
    if (CATENA_IS_WINDOW (l->data))
      g_ptr_array_add (windows, l->data);
  return windows;
}

static CatenaWindow *
window_named (GPtrArray *windows, const char *name)
{
  for (guint i = 0; i < windows->len; i++)
    {
      CatenaProject *project = catena_window_get_project (windows->pdata[i]);
      if (project && g_strcmp0 (catena_project_get_name (project), name) == 0)
        return windows->pdata[i];
    }
  return NULL;
}

static void
check_dialog (Run *run, AdwMessageDialog *dialog)
{
  const char *body = adw_message_dialog_get_body (dialog);
  GtkWindow *parent = gtk_window_get_transient_for (GTK_WINDOW (dialog));

  g_assert_cmpstr (adw_message_dialog_get_heading (dialog), ==, "Recover Unsaved Work?");
  /* both lost projects are named, newest first is not required */
  g_assert_nonnull (strstr (body, SAVED_NAME));
  g_assert_nonnull (strstr (body, UNSAVED_NAME));
  g_assert_true (adw_message_dialog_has_response (dialog, "recover"));
  g_assert_true (adw_message_dialog_has_response (dialog, "discard"));
  g_assert_cmpstr (adw_message_dialog_get_default_response (dialog), ==, "recover");
  /* over the first window, which is up already */
  g_assert_true (CATENA_IS_WINDOW (parent));
  g_assert_true (gtk_widget_get_visible (GTK_WIDGET (parent)));
  g_assert_true (gtk_window_get_modal (GTK_WINDOW (dialog)));
}

static void
check_recovered (Run *run)
{
  g_autoptr (GPtrArray) windows = catena_windows (run->app);
  g_autofree char *path = project_path ();
  g_autoptr (GFile) original = g_file_new_for_path (path);
  CatenaWindow *saved, *draft;
  CatenaProject *project;
  CatenaChainView *view;
  g_autofree char *kinds = NULL;

  /* the first window, plus one per recovered project */
  g_assert_cmpuint (windows->len, ==, 3);
  saved = window_named (windows, SAVED_NAME);
  draft = window_named (windows, UNSAVED_NAME);
  g_assert_nonnull (saved);
  g_assert_nonnull (draft);

  /* The saved project comes back with the edits that were never saved, pointing at its file
   * (Save writes there), marked as unsaved work. */
  project = catena_window_get_project (saved);
  g_assert_true (g_file_equal (catena_project_get_file (project), original));
  kinds = ui_test_chain_kinds (catena_project_get_chain (project));
  g_assert_cmpstr (kinds, ==, "import,recolor,upscale,export");
  g_assert_cmpfloat (saturation_of (catena_project_get_chain (project)), ==, 40.0);
  g_assert_null (catena_project_dup_section (project, "autosave"));
  g_assert_true (catena_window_get_modified (saved));
  g_assert_true (gtk_widget_get_visible (GTK_WIDGET (saved)));
  g_assert_cmpstr (gtk_window_get_title (GTK_WINDOW (saved)), ==, SAVED_NAME);
  g_assert_cmpstr (catena_window_get_last_toast (saved), ==,
                   "Recovered unsaved work: save it to keep it.");
  /* and the strip shows the recovered chain, card by card */
  view = catena_window_get_chain_view (saved);
  for (guint i = 0; i < 4; i++)
    {
      CatenaStageCard *card = catena_chain_view_get_card (view, i);
      g_assert_nonnull (card);
      g_assert_true (catena_stage_card_get_stage (card) ==
                     catena_chain_get_stage (catena_project_get_chain (project), i));
    }
  g_assert_null (catena_chain_view_get_card (view, 4));

  /* The never-saved project comes back without a file. */
  project = catena_window_get_project (draft);
  g_assert_null (catena_project_get_file (project));
  g_clear_pointer (&kinds, g_free);
  kinds = ui_test_chain_kinds (catena_project_get_chain (project));
  g_assert_cmpstr (kinds, ==, "generate,upscale");
  g_assert_true (catena_window_get_modified (draft));
}

static void
check_discarded (Run *run)
{
  g_autoptr (GPtrArray) windows = catena_windows (run->app);
  g_autoptr (GPtrArray) entries = catena_autosave_list ();

  g_assert_cmpuint (windows->len, ==, 1);
  g_assert_null (window_named (windows, SAVED_NAME));
  g_assert_null (window_named (windows, UNSAVED_NAME));
  g_assert_cmpuint (entries->len, ==, 0);
}

static gboolean
step (gpointer data)
{
  Run *run = data;
  AdwMessageDialog *dialog = find_dialog ();

  if (!run->answered)
    {
      GtkWidget *button;

      if (dialog == NULL)
        return G_SOURCE_CONTINUE;
      check_dialog (run, dialog);
      /* what a click does: the response button's own signal */
      button = find_button (GTK_WIDGET (dialog), g_str_equal (run->response, "recover")
                                                   ? "_Recover"
                                                   : "_Discard");
      g_assert_nonnull (button);
      run->dialog = dialog;
      g_object_add_weak_pointer (G_OBJECT (dialog), (gpointer *) &run->dialog);
      run->answered = TRUE;
      g_signal_emit_by_name (button, "clicked");
      return G_SOURCE_CONTINUE;
    }
  /* the dialog closes itself once answered */
  if (run->dialog != NULL && gtk_widget_get_visible (GTK_WIDGET (run->dialog)))
    return G_SOURCE_CONTINUE;
  if (g_str_equal (run->response, "recover"))
    check_recovered (run);
  else
    check_discarded (run);
  run->checked = TRUE;

  /* Quit without the "Save Changes?" questions: destroying a window is not a discard, so
   * the recovered work stays in its autosave until it is saved. */
  {
    GList *windows = g_list_copy (gtk_application_get_windows (run->app));
    for (GList *l = windows; l; l = l->next)
      gtk_window_destroy (l->data);
    g_list_free (windows);
  }
  return G_SOURCE_REMOVE;
}

static gboolean
give_up (gpointer data)
{
  g_error ("The recovery dialog did not appear or was not answered in %d s", TIMEOUT_S);
  return G_SOURCE_REMOVE;
}

static void
run_application (const char *response)
{
  g_autoptr (CatenaApplication) app = catena_application_new ();
  char *argv[] = { (char *) "catena", NULL };
  Run run = { .app = GTK_APPLICATION (app), .response = response };

  g_timeout_add (50, step, &run);
  g_timeout_add_seconds (TIMEOUT_S, give_up, NULL);
  g_assert_cmpint (g_application_run (G_APPLICATION (app), 1, argv), ==, 0);
  /* the application quits when step() closed the last window, after its checks */
  g_assert_true (run.checked);
}

/* ---- the cases, in the test process ---- */

static void
test_recover (void)
{
  g_autofree char *saved_slot = NULL;
  g_autofree char *unsaved_slot = NULL;
  g_autofree char *before = NULL;
  g_autofree char *after = NULL;
  g_autofree char *path = NULL;
  g_autoptr (GPtrArray) entries = NULL;
  g_auto (GStrv) names = NULL;
  gboolean saved_found = FALSE, draft_found = FALSE;

  if (g_test_subprocess ())
    {
      run_application ("recover");
      return;
    }
  before = prepare_crashed_session (&saved_slot, &unsaved_slot);
  run_case_in_subprocess ();

  /* Recovering never writes over the user's file... */
  path = project_path ();
  g_assert_true (g_file_get_contents (path, &after, NULL, NULL));
  g_assert_cmpstr (after, ==, before);
  /* ...and the work stays safe until it is saved: the saved project keeps its slot (now
   * holding the recovered project), the unsaved one moved to the new session's slot. */
  names = list_autosaves ();
  g_assert_cmpuint (g_strv_length (names), ==, 2);
  g_assert_true (g_strv_contains ((const char *const *) names, saved_slot));
  g_assert_false (g_strv_contains ((const char *const *) names, unsaved_slot));
  entries = catena_autosave_list ();
  for (guint i = 0; i < entries->len; i++)
    {
      CatenaAutosaveEntry *entry = g_ptr_array_index (entries, i);
      g_autoptr (GError) error = NULL;
      g_autoptr (CatenaProject) project = catena_autosave_recover (entry, &error);

      g_assert_no_error (error);
      if (g_strcmp0 (entry->name, SAVED_NAME) == 0)
        {
          g_assert_cmpstr (entry->original, ==, path);
          g_assert_cmpfloat (saturation_of (catena_project_get_chain (project)), ==, 40.0);
          saved_found = TRUE;
        }
      else
        {
          g_assert_cmpstr (entry->name, ==, UNSAVED_NAME);
          g_assert_null (entry->original);
          draft_found = TRUE;
        }
    }
  g_assert_true (saved_found && draft_found);
  remove_session ();
}

static void
test_discard (void)
{
  g_autofree char *saved_slot = NULL;
  g_autofree char *unsaved_slot = NULL;
  g_autofree char *before = NULL;
  g_autofree char *after = NULL;
  g_autofree char *path = NULL;
  g_auto (GStrv) names = NULL;

  if (g_test_subprocess ())
    {
      run_application ("discard");
      return;
    }
  before = prepare_crashed_session (&saved_slot, &unsaved_slot);
  run_case_in_subprocess ();

  /* Discard removes every autosave and leaves the saved project as it was on disk. */
  names = list_autosaves ();
  g_assert_cmpuint (g_strv_length (names), ==, 0);
  path = project_path ();
  g_assert_true (g_file_get_contents (path, &after, NULL, NULL));
  g_assert_cmpstr (after, ==, before);
  remove_session ();
}

/* Nothing left from a crash: no dialog, only the first window. */
static gboolean
check_no_dialog (gpointer data)
{
  GtkApplication *app = data;
  static guint ticks;
  g_autoptr (GPtrArray) windows = catena_windows (app);

  if (windows->len == 0 || ++ticks < 20) /* a second after the window is up */
    return G_SOURCE_CONTINUE;
  g_assert_null (find_dialog ());
  g_assert_cmpuint (windows->len, ==, 1);
  gtk_window_destroy (windows->pdata[0]);
  return G_SOURCE_REMOVE;
}

/* The application's start-up with nothing to recover: no dialog, one window. */
static void
run_application_expecting_no_dialog (void)
{
  g_autoptr (CatenaApplication) app = catena_application_new ();
  char *argv[] = { (char *) "catena", NULL };

  g_timeout_add (50, check_no_dialog, app);
  g_timeout_add_seconds (TIMEOUT_S, give_up, NULL);
  g_assert_cmpint (g_application_run (G_APPLICATION (app), 1, argv), ==, 0);
}

static void
test_nothing_to_recover (void)
{
  if (g_test_subprocess ())
    {
      run_application_expecting_no_dialog ();
      return;
    }
  new_session_dir ();
  run_case_in_subprocess ();
  remove_session ();
}

/* Another Catena still running (here: this test process) has an autosave on disk: a new
 * instance neither offers it nor touches it. */
static void
test_running_session_not_offered (void)
{
  const char *kinds[] = { "import", "export", NULL };
  g_autoptr (CatenaProject) open_elsewhere = NULL;
  g_autoptr (GError) error = NULL;
  g_auto (GStrv) names = NULL;

  if (g_test_subprocess ())
    {
      run_application_expecting_no_dialog ();
      return;
    }
  new_session_dir ();
  open_elsewhere = make_project (UNSAVED_NAME, kinds);
  g_assert_true (catena_autosave_write (open_elsewhere, &error));
  g_assert_no_error (error);

  run_case_in_subprocess ();
  names = list_autosaves ();
  g_assert_cmpuint (g_strv_length (names), ==, 1);
  catena_autosave_discard (open_elsewhere);
  remove_session ();
}

int
main (int argc, char *argv[])
{
  self_path = argv[0];
  gtk_init ();
  catena_ui_init ();
  if (g_getenv ("CATENA_RECOVERY_CRASHED_SESSION") != NULL)
    return crashed_session_main ();
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/ui/recovery/recover", test_recover);
  g_test_add_func ("/ui/recovery/discard", test_discard);
  g_test_add_func ("/ui/recovery/nothing-to-recover", test_nothing_to_recover);
  g_test_add_func ("/ui/recovery/running-session-not-offered", test_running_session_not_offered);

  return g_test_run ();
}
