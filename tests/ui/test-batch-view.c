/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <glib/gstdio.h>

#include "catena-batch-view.h"
#include "catena-ui.h"
#include "ui-test-util.h"

/* The Batch view under Xvfb: three SKUs through a local-only chain (no network), a plan that
 * costs nothing, a run whose rows and thumbnails fill in, pause/resume/cancel, a screenshot. */

#define TIMEOUT_US (120 * G_USEC_PER_SEC)

typedef struct
{
  GtkWindow *window;
  CatenaBatchView *view;
  char *dir;
} Fixture;

static gboolean
wait_for (gboolean (*cond) (Fixture *), Fixture *f)
{
  return ui_test_wait_until (cond (f), TIMEOUT_US);
}

static gboolean
is_idle (Fixture *f)
{
  return !catena_batch_view_is_busy (f->view);
}

static gboolean
is_allocated (Fixture *f)
{
  return gtk_widget_get_width (GTK_WIDGET (f->view)) > 0;
}

static void
count_pictures (GtkWidget *widget, guint *n)
{
  if (GTK_IS_PICTURE (widget) && gtk_picture_get_paintable (GTK_PICTURE (widget)) != NULL)
    (*n)++;
  for (GtkWidget *c = gtk_widget_get_first_child (widget); c; c = gtk_widget_get_next_sibling (c))
    count_pictures (c, n);
}

static gboolean
has_thumbnails (Fixture *f)
{
  guint n = 0;

  count_pictures (GTK_WIDGET (f->view), &n);
  return n >= 3;
}

static void
spin (guint n)
{
  for (guint i = 0; i < n; i++)
    g_main_context_iteration (NULL, FALSE);
}

static void
activate (Fixture *f, const char *action)
{
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (f->view), action, NULL));
}

static void
fixture_set_up (Fixture *f, gconstpointer data)
{
  g_autofree char *photo
      = g_build_filename (g_getenv ("CATENA_SOURCE_DIR"), "data", "demo", "coffee.png", NULL);
  g_autofree char *photos = NULL, *out = NULL, *contents = NULL;
  g_autoptr (CatenaProject) project = catena_project_new ();
  g_autoptr (CatenaStage) import = catena_stage_new ("import", NULL);
  g_autoptr (CatenaStage) export = catena_stage_new ("export", NULL);
  g_autoptr (GError) error = NULL;
  const char *names[] = { "mug-a.png", "mug-b.png", "mug-c.png" };
  gsize len;

  f->dir = g_dir_make_tmp ("catena-batch-view-XXXXXX", NULL);
  photos = g_build_filename (f->dir, "photos", NULL);
  out = g_build_filename (f->dir, "out", NULL);
  g_assert_cmpint (g_mkdir (photos, 0700), ==, 0);
  g_assert_true (g_file_get_contents (photo, &contents, &len, NULL));
  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    {
      g_autofree char *p = g_build_filename (photos, names[i], NULL);
      g_assert_true (g_file_set_contents (p, contents, len, NULL));
    }

  catena_chain_append (catena_project_get_chain (project), import);
  catena_chain_append (catena_project_get_chain (project), export);
  catena_project_set_output_dir (project, out);

  f->view = CATENA_BATCH_VIEW (catena_batch_view_new (project));
  catena_batch_set_output_dir (catena_batch_view_get_batch (f->view), out);
  g_assert_true (catena_batch_view_load_folder (f->view, photos, &error));
  g_assert_no_error (error);

  f->window = GTK_WINDOW (gtk_window_new ());
  gtk_window_set_default_size (f->window, 1100, 620);
  gtk_window_set_child (f->window, GTK_WIDGET (f->view));
  gtk_window_present (f->window);
  g_assert_true (wait_for (is_allocated, f));
}

static void
rm_rf (const char *path)
{
  GDir *dir = g_dir_open (path, 0, NULL);
  const char *name;

  while (dir && (name = g_dir_read_name (dir)))
    {
      g_autofree char *child = g_build_filename (path, name, NULL);
      if (g_file_test (child, G_FILE_TEST_IS_DIR))
        rm_rf (child);
      else
        g_unlink (child);
    }
  if (dir)
    g_dir_close (dir);
  g_rmdir (path);
}

static void
fixture_tear_down (Fixture *f, gconstpointer data)
{
  gpointer view = f->view;
  gint64 end = g_get_monotonic_time () + TIMEOUT_US;

  /* the view goes away once its run and plan have answered: nothing else keeps it */
  g_object_add_weak_pointer (view, &view);
  gtk_window_destroy (f->window);
  while (view != NULL && g_get_monotonic_time () < end)
    {
      g_main_context_iteration (NULL, FALSE);
      g_usleep (1000);
    }
  g_assert_null (view);
  rm_rf (f->dir);
  g_free (f->dir);
}

static void
test_plan_costs_nothing (Fixture *f, gconstpointer data)
{
  CatenaPlan *plan;
  const char *totals;

  g_assert_cmpuint (
      g_list_model_get_n_items (catena_batch_get_rows (catena_batch_view_get_batch (f->view))), ==,
      3);
  activate (f, "batch.plan");
  g_assert_true (wait_for (is_idle, f));
  plan = catena_batch_view_get_plan (f->view);
  g_assert_nonnull (plan);
  g_assert_cmpuint (catena_plan_get_n_assets (plan), ==, 3);
  g_assert_cmpuint (catena_plan_get_n_calls (plan), ==, 0);
  g_assert_cmpfloat (catena_plan_get_total_cost (plan), ==, 0);
  g_test_message ("plan: %s", catena_batch_view_get_plan_text (f->view));
  g_assert_true (g_str_has_prefix (catena_batch_view_get_plan_text (f->view),
                                   "Plan: 0 paid calls, about US$0.00"));
  totals = catena_batch_view_get_totals_text (f->view);
  g_test_message ("totals: %s", totals);
  g_assert_nonnull (strstr (totals, "0 calls"));
  g_assert_nonnull (strstr (totals, "estimated US$0.00"));
  g_assert_nonnull (strstr (totals, "budget left no limit"));
}

static void
test_run_fills_rows (Fixture *f, gconstpointer data)
{
  CatenaBatch *batch = catena_batch_view_get_batch (f->view);
  GListModel *rows = catena_batch_get_rows (batch);
  GtkWidget *budget = ui_test_find_widget (GTK_WIDGET (f->view), GTK_TYPE_ENTRY);

  /* a budget that local work never touches */
  gtk_editable_set_text (GTK_EDITABLE (budget), "5");
  g_assert_nonnull (strstr (catena_batch_view_get_totals_text (f->view), "budget left US$5.00"));
  gtk_editable_set_text (GTK_EDITABLE (budget), "five");
  g_assert_true (gtk_widget_has_css_class (budget, "error"));
  /* no run with a budget that is not a number */
  gtk_widget_activate_action (GTK_WIDGET (f->view), "batch.run", NULL);
  g_assert_false (catena_batch_view_is_busy (f->view));
  gtk_editable_set_text (GTK_EDITABLE (budget), "5.00");

  activate (f, "batch.plan");
  g_assert_true (wait_for (is_idle, f));
  activate (f, "batch.run");
  g_assert_true (catena_batch_view_is_busy (f->view));
  g_assert_true (wait_for (is_idle, f));
  g_assert_cmpuint (catena_batch_get_n_done (batch), ==, 3);
  for (guint i = 0; i < g_list_model_get_n_items (rows); i++)
    {
      g_autoptr (CatenaBatchRow) row = g_list_model_get_item (rows, i);
      g_assert_cmpint (catena_batch_row_get_status (row), ==, CATENA_BATCH_ROW_DONE);
      g_assert_cmpfloat (catena_batch_row_get_progress (row), ==, 1);
      g_assert_true (g_file_test (catena_batch_row_get_output (row), G_FILE_TEST_IS_REGULAR));
    }
  /* the thumbnails of the outputs, loaded off the main thread */
  g_assert_true (wait_for (has_thumbnails, f));
  g_assert_null (catena_batch_view_get_budget_warning (f->view));
  g_test_message ("totals: %s", catena_batch_view_get_totals_text (f->view));
  g_assert_nonnull (strstr (catena_batch_view_get_totals_text (f->view), "3 done"));
  g_assert_nonnull (strstr (catena_batch_view_get_totals_text (f->view), "spent US$0.00"));
}

static void
test_pause_resume_cancel (Fixture *f, gconstpointer data)
{
  CatenaBatch *batch = catena_batch_view_get_batch (f->view);

  activate (f, "batch.run");
  activate (f, "batch.pause");
  g_assert_cmpint (catena_batch_get_state (batch), ==, CATENA_BATCH_PAUSED);
  /* a pause the user asked for is not the budget's */
  g_assert_null (catena_batch_view_get_budget_warning (f->view));
  spin (20);
  activate (f, "batch.pause");
  g_assert_cmpint (catena_batch_get_state (batch), ==, CATENA_BATCH_RUNNING);
  activate (f, "batch.cancel");
  g_assert_true (wait_for (is_idle, f));
  g_test_message ("after cancel: %u done", catena_batch_get_n_done (batch));

  /* a plan cancelled half way, then a run that finishes what is left */
  activate (f, "batch.plan");
  activate (f, "batch.cancel");
  g_assert_true (wait_for (is_idle, f));
  g_assert_null (catena_batch_view_get_plan (f->view));
  activate (f, "batch.run");
  g_assert_true (wait_for (is_idle, f));
  g_assert_cmpuint (catena_batch_get_n_done (batch), ==, 3);
}

/* closing while a run and a plan are out: both answer a view that is gone, quietly */
static void
test_close_while_busy (Fixture *f, gconstpointer data)
{
  activate (f, "batch.run");
  spin (2);
  g_assert_true (catena_batch_view_is_busy (f->view));
}

static void
test_screenshot (Fixture *f, gconstpointer data)
{
  g_autoptr (GdkTexture) texture = NULL;
  g_autofree char *path
      = g_build_filename (g_getenv ("CATENA_UI_BUILD_DIR"), "test-batch-view.png", NULL);

  activate (f, "batch.plan");
  g_assert_true (wait_for (is_idle, f));
  activate (f, "batch.run");
  g_assert_true (wait_for (is_idle, f));
  g_assert_true (wait_for (has_thumbnails, f));
  /* let the revealer's animation finish */
  for (gint64 end = g_get_monotonic_time () + G_USEC_PER_SEC / 2; g_get_monotonic_time () < end;)
    g_main_context_iteration (NULL, FALSE);

  texture = ui_test_render_widget (GTK_WIDGET (f->window));
  g_assert_true (gdk_texture_save_to_png (texture, path));
  g_test_message ("screenshot %s: %d × %d", path, gdk_texture_get_width (texture),
                  gdk_texture_get_height (texture));
}

int
main (int argc, char *argv[])
{
  gtk_init ();
  catena_ui_init ();
  catena_ui_load_style ();
  g_test_init (&argc, &argv, NULL);

#define ADD(name, func) g_test_add (name, Fixture, NULL, fixture_set_up, func, fixture_tear_down)
  ADD ("/ui/batch-view/plan-costs-nothing", test_plan_costs_nothing);
  ADD ("/ui/batch-view/run-fills-rows", test_run_fills_rows);
  ADD ("/ui/batch-view/pause-resume-cancel", test_pause_resume_cancel);
  ADD ("/ui/batch-view/close-while-busy", test_close_while_busy);
  ADD ("/ui/batch-view/screenshot", test_screenshot);
#undef ADD

  return g_test_run ();
}
