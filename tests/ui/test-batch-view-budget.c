/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include "../batch/batch-test-util.h"
#include "catena-batch-view.h"
#include "catena-ui.h"
#include "ui-test-util.h"

/* The Batch view against the loopback fake fal server: a budget too small for the first
 * paid call pauses the batch with a warning and nothing sent; a raised budget and Resume
 * finish it. Also the screenshot of the paused view. */

#define TIMEOUT_US (120 * G_USEC_PER_SEC)

static CatenaBatchView *view;

static gboolean
wait_until (gboolean (*cond) (void))
{
  return ui_test_wait_until (cond (), TIMEOUT_US);
}

static gboolean
is_idle (void)
{
  return !catena_batch_view_is_busy (view);
}

static gboolean
is_budget_paused (void)
{
  return catena_batch_view_get_budget_warning (view) != NULL;
}

static void
test_budget_pause (void)
{
  FakeServer *fake = fake_fal_new ();
  g_autofree char *dir = g_dir_make_tmp ("catena-batch-view-XXXXXX", NULL);
  g_autofree char *cache_dir = g_build_filename (dir, "cache", NULL);
  g_autofree char *out = g_build_filename (dir, "out", NULL);
  g_autofree char *csv = batch_test_write (dir, "skus.csv",
                                           "id,prompt,class\n"
                                           "A,red mug,thumbnail\n"
                                           "B,blue mug,thumbnail\n"
                                           "C,green mug,thumbnail\n");
  g_autofree char *png
      = g_build_filename (g_getenv ("CATENA_UI_BUILD_DIR"), "test-batch-view-budget.png", NULL);
  g_autoptr (CatenaChain) chain = batch_test_chain ();
  g_autoptr (CatenaProject) project = catena_project_new ();
  g_autoptr (CatenaCache) cache = catena_cache_new (cache_dir, 32 * 1024 * 1024);
  g_autoptr (GError) error = NULL;
  CatenaBatch *batch;
  GtkWindow *window;
  GtkWidget *budget;
  CatenaPlan *plan;
  gpointer weak;

  batch_test_point_at (fake);
  for (guint i = 0; i < catena_chain_get_n_stages (chain); i++)
    catena_chain_append (catena_project_get_chain (project), catena_chain_get_stage (chain, i));
  view = CATENA_BATCH_VIEW (catena_batch_view_new (project));
  batch = catena_batch_view_get_batch (view);
  catena_batch_set_cache (batch, cache);
  catena_batch_set_output_dir (batch, out);
  catena_batch_set_provider_limit (batch, "fal", 1);
  g_assert_true (catena_batch_view_load_csv (view, csv, &error));
  g_assert_no_error (error);

  window = GTK_WINDOW (gtk_window_new ());
  gtk_window_set_default_size (window, 1100, 620);
  gtk_window_set_child (window, GTK_WIDGET (view));
  gtk_window_present (window);

  gtk_widget_activate_action (GTK_WIDGET (view), "batch.plan", NULL);
  g_assert_true (wait_until (is_idle));
  plan = catena_batch_view_get_plan (view);
  g_assert_nonnull (plan);
  g_assert_cmpuint (catena_plan_get_n_calls (plan), ==, 3);
  g_assert_cmpfloat (catena_plan_get_total_cost (plan), >, 0);
  g_test_message ("plan: %s", catena_batch_view_get_plan_text (view));

  budget = ui_test_find_widget (GTK_WIDGET (view), GTK_TYPE_ENTRY);
  gtk_editable_set_text (GTK_EDITABLE (budget), "0.0001");
  gtk_widget_activate_action (GTK_WIDGET (view), "batch.run", NULL);
  g_assert_true (wait_until (is_budget_paused));
  g_test_message ("warning: %s", catena_batch_view_get_budget_warning (view));
  g_assert_cmpint (fake_server_count (fake, "submit"), ==, 0);
  g_assert_true (catena_batch_view_is_busy (view));

  for (gint64 end = g_get_monotonic_time () + G_USEC_PER_SEC / 2; g_get_monotonic_time () < end;)
    g_main_context_iteration (NULL, FALSE);
  {
    g_autoptr (GdkPaintable) paintable = gtk_widget_paintable_new (GTK_WIDGET (window));
    GtkSnapshot *snapshot = gtk_snapshot_new ();
    g_autoptr (GskRenderNode) node = NULL;
    g_autoptr (GdkTexture) texture = NULL;
    int w = gtk_widget_get_width (GTK_WIDGET (window)),
        h = gtk_widget_get_height (GTK_WIDGET (window));

    gdk_paintable_snapshot (paintable, snapshot, w, h);
    node = gtk_snapshot_free_to_node (snapshot);
    if (node)
      {
        texture = gsk_renderer_render_texture (gtk_native_get_renderer (GTK_NATIVE (window)), node,
                                               &GRAPHENE_RECT_INIT (0, 0, w, h));
        g_assert_true (gdk_texture_save_to_png (texture, png));
      }
  }

  /* raise the budget and resume: the batch finishes */
  gtk_editable_set_text (GTK_EDITABLE (budget), "10");
  gtk_widget_activate_action (GTK_WIDGET (view), "batch.pause", NULL);
  g_assert_true (wait_until (is_idle));
  g_assert_null (catena_batch_view_get_budget_warning (view));
  g_assert_cmpuint (catena_batch_get_n_done (batch), ==, 3);
  g_assert_cmpint (fake_server_count (fake, "submit"), ==, 3);
  g_test_message ("totals: %s", catena_batch_view_get_totals_text (view));

  weak = view;
  g_object_add_weak_pointer (weak, &weak);
  gtk_window_destroy (window);
  for (gint64 end = g_get_monotonic_time () + TIMEOUT_US; weak && g_get_monotonic_time () < end;)
    g_main_context_iteration (NULL, FALSE);
  g_assert_null (weak);
  batch_test_rm_rf (dir);
  fake_server_free (fake);
}

int
main (int argc, char *argv[])
{
  gtk_init ();
  batch_test_init (&argc, &argv);
  catena_ui_init ();
  catena_ui_load_style ();
  g_test_add_func ("/ui/batch-view/budget-pause", test_budget_pause);
  return g_test_run ();
}
