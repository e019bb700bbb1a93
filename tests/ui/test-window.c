/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <glib/gstdio.h>
#include <math.h>

#include "catena-device-monitor.h"
#include "catena-nn-private.h" /* nn_device_set_test_executor: a stand-in GPU */
#include "catena-ui.h"
#include "ui-test-util.h"

/* The window under Xvfb: actions in, model and pixels out. */

#define TIMEOUT_US (120 * G_USEC_PER_SEC)

typedef struct
{
  CatenaWindow *window;
  guint64 last_generation;
  gboolean last_sharp;
  guint n_rendered;
} Fixture;

static gboolean
wait_for (gboolean (*cond) (Fixture *), Fixture *f)
{
  return ui_test_wait_until (cond (f), TIMEOUT_US);
}

static gboolean
is_idle (Fixture *f)
{
  return !catena_window_is_busy (f->window);
}

static gboolean
is_allocated (Fixture *f)
{
  return gtk_widget_get_width (GTK_WIDGET (catena_window_get_preview (f->window))) > 0;
}

static gboolean
run_done (Fixture *f)
{
  return !catena_runner_get_running (catena_window_get_runner (f->window)) && is_idle (f);
}

static guint64 wanted_generation;

static gboolean
has_wanted_frame (Fixture *f)
{
  return f->last_generation >= wanted_generation && f->last_sharp;
}

/* Waits for a sharp frame at least as new as generation. */
static void
wait_for_frame (Fixture *f, guint64 generation)
{
  wanted_generation = generation;
  g_assert_true (wait_for (has_wanted_frame, f));
}

static void
wait_for_latest_frame (Fixture *f)
{
  wait_for_frame (f, catena_preview_renderer_get_generation (catena_window_get_renderer (
                       f->window)));
}

static void
settle (Fixture *f)
{
  ui_test_settle_window (f->window, TIMEOUT_US);
}

static void
on_rendered (CatenaPreviewRenderer *renderer, GdkTexture *after, GdkTexture *before, double scale,
             int x, int y, gboolean sharp, guint64 generation, Fixture *f)
{
  f->last_generation = generation;
  f->last_sharp = sharp;
  f->n_rendered++;
}

/* Exports go to the build dir, never next to the project in the source tree. */
static void
redirect_output (Fixture *f)
{
  g_autofree char *out = g_build_filename (g_getenv ("CATENA_UI_BUILD_DIR"), "out", NULL);

  catena_project_set_output_dir (catena_window_get_project (f->window), out);
}

static void
fixture_set_up (Fixture *f, gconstpointer data)
{
  g_autoptr (GFile) file = ui_test_project_file ();
  g_autoptr (GError) error = NULL;

  f->window = catena_window_new (NULL);
  g_signal_connect (catena_window_get_renderer (f->window), "rendered", G_CALLBACK (on_rendered),
                    f);
  g_assert_true (catena_window_load (f->window, file, &error));
  g_assert_no_error (error);
  redirect_output (f);
  gtk_window_present (GTK_WINDOW (f->window));
  g_assert_true (wait_for (is_allocated, f));
  settle (f);
}

static void
fixture_tear_down (Fixture *f, gconstpointer data)
{
  gpointer window = f->window;
  gint64 end = g_get_monotonic_time () + TIMEOUT_US;

  if (window == NULL)
    return; /* the test closed it */
  g_signal_handlers_disconnect_by_data (catena_window_get_renderer (f->window), f);
  /* The window must go away once its workers have answered: nothing else keeps it. */
  g_object_add_weak_pointer (window, &window);
  gtk_window_destroy (GTK_WINDOW (f->window));
  while (window != NULL && g_get_monotonic_time () < end)
    {
      g_main_context_iteration (NULL, FALSE);
      g_usleep (1000);
    }
  g_assert_null (window);
}

static CatenaChain *
chain_of (Fixture *f)
{
  return catena_project_get_chain (catena_window_get_project (f->window));
}

static guint
position_of (CatenaChain *chain, const char *kind)
{
  for (guint i = 0; i < catena_chain_get_n_stages (chain); i++)
    if (g_str_equal (catena_stage_get_kind (catena_chain_get_stage (chain, i)), kind))
      return i;
  g_assert_not_reached ();
}

static void
activate (Fixture *f, const char *action, GVariant *param)
{
  g_assert_true (gtk_widget_activate_action_variant (GTK_WIDGET (f->window), action, param));
}

static void
run_and_wait (Fixture *f, gboolean all)
{
  activate (f, all ? "win.run-all" : "win.run", NULL);
  g_assert_true (catena_runner_get_running (catena_window_get_runner (f->window)));
  g_assert_true (wait_for (run_done, f));
  settle (f);
}

/* Mean of R'+G'+B' over the opaque pixels, and how many distinct colours there are. */
static double
texture_stats (GdkTexture *texture, guint *n_colours)
{
  int w = gdk_texture_get_width (texture), h = gdk_texture_get_height (texture);
  g_autofree guint8 *data = g_malloc ((gsize) w * h * 4);
  g_autoptr (GHashTable) colours = g_hash_table_new (NULL, NULL);
  double sum = 0;
  guint64 n = 0;

  gdk_texture_download (texture, data, (gsize) w * 4);
  for (int i = 0; i < w * h; i++)
    {
      const guint8 *p = data + i * 4; /* BGRA premultiplied, native endian */
      if (p[3] < 250)
        continue;
      sum += p[0] + p[1] + p[2];
      n++;
      g_hash_table_add (colours, GUINT_TO_POINTER ((p[0] << 16 | p[1] << 8 | p[2]) + 1));
    }
  if (n_colours)
    *n_colours = g_hash_table_size (colours);
  return n ? sum / (3.0 * n) : 0;
}

static void
test_window_builds (Fixture *f, gconstpointer data)
{
  CatenaChainView *view = catena_window_get_chain_view (f->window);
  CatenaChain *chain = chain_of (f);
  guint n_types;
  g_autofree GType *types = catena_stage_list_types (&n_types);
  GtkWidget *palette = NULL;

  g_assert_cmpuint (catena_chain_get_n_stages (chain), ==, 4);
  for (guint i = 0; i < 4; i++)
    g_assert_nonnull (catena_chain_view_get_card (view, i));
  g_assert_null (catena_chain_view_get_card (view, 4));
  /* The last stage is selected and the inspector shows it. */
  g_assert_cmpuint (catena_chain_view_get_selected (view), ==, 3);
  g_assert_true (catena_inspector_get_stage (catena_window_get_inspector (f->window)) ==
                 catena_chain_get_stage (chain, 3));

  /* the palette offers every registered stage kind */
  {
    GtkWidget *stack[64];
    int top = 0;
    stack[top++] = GTK_WIDGET (f->window);
    while (top > 0 && palette == NULL)
      {
        GtkWidget *w = stack[--top];
        if (CATENA_IS_STAGE_PALETTE (w))
          palette = w;
        for (GtkWidget *c = gtk_widget_get_first_child (w); c && top < 63;
             c = gtk_widget_get_next_sibling (c))
          stack[top++] = c;
      }
  }
  g_assert_nonnull (palette);
  g_assert_cmpuint (catena_stage_palette_get_n_kinds (CATENA_STAGE_PALETTE (palette)), ==,
                    n_types);
  g_assert_cmpuint (n_types, >=, 3);
}

static void
test_edit_and_undo (Fixture *f, gconstpointer data)
{
  CatenaChainView *view = catena_window_get_chain_view (f->window);
  CatenaChain *chain = chain_of (f);
  CatenaHistory *history = catena_window_get_history (f->window);
  g_autofree char *original = ui_test_chain_kinds (chain);
  char *kinds;

  g_assert_cmpstr (original, ==, "import,upscale,recolor,export");
  g_assert_false (catena_window_get_modified (f->window));

  /* add after the selection */
  catena_chain_view_set_selected (view, 1);
  activate (f, "win.add-stage", g_variant_new_string ("recolor"));
  kinds = ui_test_chain_kinds (chain);
  g_assert_cmpstr (kinds, ==, "import,upscale,recolor,recolor,export");
  g_free (kinds);
  g_assert_cmpuint (catena_chain_view_get_selected (view), ==, 2);
  g_assert_cmpstr (catena_stage_get_id (catena_chain_get_stage (chain, 2)), !=, "recolor");
  g_assert_true (catena_window_get_modified (f->window));

  /* a drop from the palette at the far left inserts first */
  g_assert_true (catena_chain_view_drop (view, "catena-kind:upscale", 0));
  kinds = ui_test_chain_kinds (chain);
  g_assert_cmpstr (kinds, ==, "upscale,import,upscale,recolor,recolor,export");
  g_free (kinds);

  /* a card dragged to the end */
  g_assert_true (catena_chain_view_drop (view, "catena-move:0", 1e6));
  kinds = ui_test_chain_kinds (chain);
  g_assert_cmpstr (kinds, ==, "import,upscale,recolor,recolor,export,upscale");
  g_free (kinds);

  /* move left with the action, then remove with the action */
  catena_chain_view_set_selected (view, 5);
  activate (f, "win.move-stage-left", NULL);
  kinds = ui_test_chain_kinds (chain);
  g_assert_cmpstr (kinds, ==, "import,upscale,recolor,recolor,upscale,export");
  g_free (kinds);
  g_assert_cmpuint (catena_chain_view_get_selected (view), ==, 4);
  activate (f, "win.remove-stage", NULL);
  kinds = ui_test_chain_kinds (chain);
  g_assert_cmpstr (kinds, ==, "import,upscale,recolor,recolor,export");
  g_free (kinds);
  g_assert_cmpuint (catena_history_get_n_undo (history), ==, 5);

  /* undo everything, then redo one step */
  for (int i = 0; i < 5; i++)
    activate (f, "win.undo", NULL);
  kinds = ui_test_chain_kinds (chain);
  g_assert_cmpstr (kinds, ==, original);
  g_free (kinds);
  g_assert_false (catena_window_get_modified (f->window));
  g_assert_false (catena_history_can_undo (history));
  activate (f, "win.redo", NULL);
  kinds = ui_test_chain_kinds (chain);
  g_assert_cmpstr (kinds, ==, "import,upscale,recolor,recolor,export");
  g_free (kinds);

  /* the cards follow the model exactly */
  for (guint i = 0; i < catena_chain_get_n_stages (chain); i++)
    g_assert_true (catena_stage_card_get_stage (catena_chain_view_get_card (view, i)) ==
                   catena_chain_get_stage (chain, i));
  settle (f);
}

static void
test_slider_one_undo_step (Fixture *f, gconstpointer data)
{
  CatenaChainView *view = catena_window_get_chain_view (f->window);
  CatenaChain *chain = chain_of (f);
  CatenaHistory *history = catena_window_get_history (f->window);
  guint position = position_of (chain, "recolor");
  CatenaStage *recolor = catena_chain_get_stage (chain, position);
  GtkWidget *scale;
  double exposure;

  catena_chain_view_set_selected (view, position);
  scale = catena_inspector_get_editor (catena_window_get_inspector (f->window), "exposure");
  g_assert_true (GTK_IS_SCALE (scale));
  g_assert_true (GTK_IS_COLOR_BUTTON (
    catena_inspector_get_editor (catena_window_get_inspector (f->window), "brand-color")));

  /* a drag: many values, one step */
  for (int i = 1; i <= 20; i++)
    gtk_range_set_value (GTK_RANGE (scale), i * 0.05);
  g_object_get (recolor, "exposure", &exposure, NULL);
  g_assert_cmpfloat_with_epsilon (exposure, 1.0, 1e-9);
  g_assert_cmpuint (catena_history_get_n_undo (history), ==, 1);

  activate (f, "win.undo", NULL);
  g_object_get (recolor, "exposure", &exposure, NULL);
  g_assert_cmpfloat_with_epsilon (exposure, 0.0, 1e-9);
  /* the slider follows the model */
  g_assert_cmpfloat_with_epsilon (gtk_range_get_value (GTK_RANGE (scale)), 0.0, 1e-9);
  activate (f, "win.redo", NULL);
  g_object_get (recolor, "exposure", &exposure, NULL);
  g_assert_cmpfloat_with_epsilon (exposure, 1.0, 1e-9);

  /* a new drag after the group closed is a second step */
  catena_history_close_group (history);
  gtk_range_set_value (GTK_RANGE (scale), -0.5);
  g_assert_cmpuint (catena_history_get_n_undo (history), ==, 2);
  settle (f);
}

static void
test_run_thumbnails_and_live_recolor (Fixture *f, gconstpointer data)
{
  CatenaChainView *view = catena_window_get_chain_view (f->window);
  CatenaChain *chain = chain_of (f);
  CatenaPreview *preview = catena_window_get_preview (f->window);
  guint position = position_of (chain, "recolor");
  CatenaStage *recolor = catena_chain_get_stage (chain, position);
  GtkWidget *scale;
  double before_mean, after_mean;
  guint64 generation;
  guint n_colours;

  run_and_wait (f, FALSE);
  g_assert_cmpstr (catena_window_get_last_toast (f->window), ==, "Run finished");
  for (guint i = 0; i < catena_chain_get_n_stages (chain); i++)
    {
      CatenaStageCard *card = catena_chain_view_get_card (view, i);
      g_assert_cmpint (catena_stage_card_get_state (card), ==, CATENA_CARD_READY);
      g_assert_nonnull (catena_stage_card_get_thumbnail (card));
    }
  /* the import card shows the photo in the 320 × 213 thumbnail box */
  g_assert_cmpint (gdk_texture_get_width (
                     catena_stage_card_get_thumbnail (catena_chain_view_get_card (view, 0))),
                   ==, 320);
  g_assert_cmpint (gdk_texture_get_height (
                     catena_stage_card_get_thumbnail (catena_chain_view_get_card (view, 0))),
                   ==, 213);

  /* select recolor: its input is cached, so the preview is live */
  catena_chain_view_set_selected (view, position);
  settle (f);
  g_assert_true (catena_window_is_live (f->window));
  g_assert_nonnull (catena_preview_get_texture (preview));
  before_mean = texture_stats (catena_preview_get_texture (preview), &n_colours);
  g_assert_cmpuint (n_colours, >, 1000);

  /* brighten with the slider: only the preview graph re-renders, nothing runs */
  scale = catena_inspector_get_editor (catena_window_get_inspector (f->window), "exposure");
  gtk_range_set_value (GTK_RANGE (scale), 1.5);
  generation = catena_preview_renderer_get_generation (catena_window_get_renderer (f->window));
  g_assert_false (catena_runner_get_running (catena_window_get_runner (f->window)));
  wait_for_frame (f, generation);
  after_mean = texture_stats (catena_preview_get_texture (preview), NULL);
  g_test_message ("preview mean %.1f → %.1f", before_mean, after_mean);
  g_assert_cmpfloat (after_mean, >, before_mean + 20);

  /* the recolor card and those after it are stale until the next run */
  settle (f);
  g_assert_cmpint (catena_stage_card_get_state (catena_chain_view_get_card (view, position - 1)),
                   ==, CATENA_CARD_READY);
  g_assert_cmpint (catena_stage_card_get_state (catena_chain_view_get_card (view, position)), ==,
                   CATENA_CARD_STALE);
  g_assert_cmpint (catena_stage_card_get_state (catena_chain_view_get_card (view, position + 1)),
                   ==, CATENA_CARD_STALE);

  /* before/after and zoom */
  activate (f, "win.toggle-split", NULL);
  g_assert_true (catena_preview_get_split (preview));
  activate (f, "win.zoom-100", NULL);
  g_assert_cmpfloat_with_epsilon (catena_preview_get_zoom (preview), 1.0, 1e-9);
  activate (f, "win.zoom-fit", NULL);
  g_assert_cmpfloat (catena_preview_get_zoom (preview), !=, 1.0);

  run_and_wait (f, TRUE);
  g_assert_cmpint (catena_stage_card_get_state (catena_chain_view_get_card (view, position)), ==,
                   CATENA_CARD_READY);
  g_object_set (recolor, "exposure", 0.0, NULL);
  settle (f);
}

static void
test_cancel (Fixture *f, gconstpointer data)
{
  CatenaChain *chain = chain_of (f);
  CatenaStage *upscale = catena_chain_get_stage (chain, position_of (chain, "upscale"));
  g_autofree char *factor = g_strdup_printf ("%.4f", g_random_double_range (2.0, 3.0));

  /* parameters nobody ran yet, so the run has real work to cancel */
  g_assert_true (catena_stage_set_param_from_string (upscale, "factor", factor, NULL));
  settle (f);
  activate (f, "win.run", NULL);
  g_assert_true (gtk_widget_is_visible (GTK_WIDGET (f->window)));
  activate (f, "win.cancel", NULL);
  g_assert_true (wait_for (run_done, f));
  settle (f);
  g_assert_cmpstr (catena_window_get_last_toast (f->window), ==, "Run cancelled");
  for (guint i = 0; i < catena_chain_get_n_stages (chain); i++)
    g_assert_cmpint (catena_stage_card_get_state (
                       catena_chain_view_get_card (catena_window_get_chain_view (f->window), i)),
                     !=, CATENA_CARD_FAILED);
}

static void
test_failure_is_explained (Fixture *f, gconstpointer data)
{
  g_autoptr (CatenaProject) project = catena_project_new ();
  g_autoptr (CatenaAsset) asset = catena_asset_new ("missing");
  g_autoptr (CatenaStage) import = catena_stage_new ("import", NULL);
  g_autoptr (CatenaStage) upscale = catena_stage_new ("upscale", NULL);
  CatenaStageCard *card;

  catena_asset_set_source (asset, "/nonexistent/missing-photo.png");
  catena_project_add_asset (project, asset);
  catena_chain_append (catena_project_get_chain (project), import);
  catena_chain_append (catena_project_get_chain (project), upscale);
  catena_window_set_project (f->window, project);
  redirect_output (f);
  settle (f);

  card = catena_chain_view_get_card (catena_window_get_chain_view (f->window), 0);
  g_assert_cmpint (catena_stage_card_get_state (card), ==, CATENA_CARD_FAILED);
  g_assert_nonnull (strstr (catena_stage_card_get_message (card), "missing-photo.png"));

  run_and_wait (f, FALSE);
  g_assert_true (g_str_has_prefix (catena_window_get_last_toast (f->window),
                                   "The run did not finish: "));
}

/* A stand-in GPU that takes its time and then fails: the run goes on on the CPU and says so
 * once, and the live preview keeps answering while the "GPU" works. */
static gboolean
slow_failing_gpu (CatenaNnGraph *graph,
                  CatenaNnTensor *const *inputs,
                  CatenaNnTensor **outputs,
                  GCancellable *cancellable,
                  GError **error)
{
  g_usleep (1500 * 1000);
  g_set_error_literal (error, CATENA_NN_ERROR, CATENA_NN_ERROR_DEVICE,
                       "Fake GPU: the device was lost");
  return FALSE;
}

static void
test_gpu_job_keeps_preview_live (Fixture *f, gconstpointer data)
{
  g_autofree char *slim = catena_nn_find_upscaler (CATENA_NN_ESRGAN_SLIM, 2);
  g_autofree char *photo = g_build_filename (g_getenv ("CATENA_SOURCE_DIR"), "data", "demo",
                                             "coffee.png", NULL);
  g_autoptr (CatenaProject) project = catena_project_new ();
  g_autoptr (CatenaAsset) asset = catena_asset_new ("coffee");
  g_autoptr (CatenaStage) import = catena_stage_new ("import", NULL);
  g_autoptr (CatenaStage) recolor = catena_stage_new ("recolor", NULL);
  g_autoptr (CatenaStage) upscale = catena_stage_new ("upscale", NULL);
  g_autoptr (GSettings) settings = catena_ui_dup_settings ();
  CatenaDeviceMonitor *monitor = catena_device_monitor_get_default ();
  CatenaRunner *runner = catena_window_get_runner (f->window);
  CatenaChainView *view = catena_window_get_chain_view (f->window);
  GtkWidget *scale;
  guint64 generation;

  if (slim == NULL)
    {
      g_test_skip ("esrgan-slim-x2 is not installed (build-aux/fetch-models.sh)");
      return;
    }
  catena_asset_set_source (asset, photo);
  catena_project_add_asset (project, asset);
  g_assert_true (catena_stage_set_param_from_string (upscale, "method", "neural", NULL));
  g_assert_true (catena_stage_set_param_from_string (upscale, "factor", "2", NULL));
  g_assert_true (catena_stage_set_param_from_string (upscale, "network", "slim", NULL));
  catena_chain_append (catena_project_get_chain (project), import);
  catena_chain_append (catena_project_get_chain (project), recolor);
  catena_chain_append (catena_project_get_chain (project), upscale);
  catena_window_set_project (f->window, project);
  redirect_output (f);
  settle (f);

  /* the preference drives engine/nn */
  if (settings != NULL)
    {
      catena_device_monitor_bind_settings (monitor, settings);
      g_settings_set_string (settings, "device", "cpu");
      g_assert_cmpint (catena_nn_get_device (), ==, CATENA_NN_DEVICE_CPU);
    }
  else
    catena_nn_set_device (CATENA_NN_DEVICE_CPU);
  g_assert_true (g_str_has_prefix (catena_device_monitor_get_description (monitor), "CPU, "));
  run_and_wait (f, FALSE);
  g_assert_cmpstr (catena_window_get_last_toast (f->window), ==, "Run finished");

  /* now a GPU (the stand-in), chosen: the inspector and the progress bar name it */
  nn_device_set_test_executor (slow_failing_gpu, "Stand-in GPU");
  if (settings != NULL)
    g_settings_set_string (settings, "device", "cuda");
  else
    catena_nn_set_device (CATENA_NN_DEVICE_CUDA);
  if (settings != NULL)
    {
      g_assert_cmpint (catena_nn_get_device (), ==, CATENA_NN_DEVICE_CUDA);
      g_assert_cmpstr (catena_device_monitor_get_description (monitor), ==, "GPU: Stand-in GPU");
    }

  /* edit recolor: recolor and upscale are stale; run them; the upscale sits on the "GPU" */
  catena_chain_view_set_selected (view, 1);
  settle (f);
  g_assert_true (catena_window_is_live (f->window));
  scale = catena_inspector_get_editor (catena_window_get_inspector (f->window), "exposure");
  gtk_range_set_value (GTK_RANGE (scale), 0.5);
  settle (f);
  activate (f, "win.run", NULL);
  g_assert_true (catena_runner_get_running (runner));

  /* while it runs, the slider still renders new frames */
  for (int i = 0; i < 3; i++)
    {
      gtk_range_set_value (GTK_RANGE (scale), 0.8 + 0.2 * i);
      generation = catena_preview_renderer_get_generation (catena_window_get_renderer (
                     f->window));
      wait_for_frame (f, generation);
      g_test_message ("frame %d while running: %s", i,
                      catena_runner_get_running (runner) ? "yes" : "no");
    }
  g_assert_true (catena_runner_get_running (runner));
  g_assert_true (wait_for (run_done, f));
  settle (f);

  /* the run finished (on the CPU), and its toast tells why the GPU was not used */
  g_assert_cmpstr (catena_window_get_last_toast (f->window), ==,
                   "Run finished. The GPU could not run a local model (Fake GPU: the device "
                   "was lost); it ran on the CPU");
  /* the slider moved during the run: what ran is already stale, nothing failed */
  g_assert_cmpint (catena_stage_card_get_state (catena_chain_view_get_card (view, 2)), ==,
                   CATENA_CARD_STALE);

  nn_device_set_test_executor (NULL, NULL);
  if (settings != NULL)
    g_settings_reset (settings, "device");
  catena_nn_set_device (CATENA_NN_DEVICE_AUTO);
}

static void
test_add_files_and_save (Fixture *f, gconstpointer data)
{
  g_autofree char *photo = g_build_filename (g_getenv ("CATENA_SOURCE_DIR"), "data", "demo",
                                             "coffee.png", NULL);
  g_autofree char *dir = g_dir_make_tmp ("catena-ui-XXXXXX", NULL);
  g_autofree char *saved_path = g_build_filename (dir, "copy.catena", NULL);
  g_autoptr (GFile) saved = g_file_new_for_path (saved_path);
  g_autoptr (GFile) photo_file = g_file_new_for_path (photo);
  g_autoptr (GFile) text_file = g_file_new_for_path ("/etc/hostname");
  g_autoptr (CatenaProject) reloaded = NULL;
  g_autoptr (GError) error = NULL;
  GListModel *assets = catena_project_get_assets (catena_window_get_project (f->window));
  g_autofree char *resolved = NULL;
  g_autofree char *reloaded_dir = NULL;

  g_assert_cmpuint (catena_window_add_files (f->window, &text_file, 1), ==, 0);
  g_assert_cmpuint (catena_window_add_files (f->window, &photo_file, 1), ==, 1);
  g_assert_cmpuint (g_list_model_get_n_items (assets), ==, 2);
  g_assert_true (catena_window_get_modified (f->window));
  g_assert_cmpstr (catena_asset_get_id (catena_window_get_asset (f->window)), ==, "coffee-2");
  settle (f);

  g_assert_true (catena_window_save_to (f->window, saved, &error));
  g_assert_no_error (error);
  g_assert_false (catena_window_get_modified (f->window));

  reloaded = catena_project_load (saved, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_list_model_get_n_items (catena_project_get_assets (reloaded)), ==, 2);
  g_assert_cmpuint (catena_chain_get_n_stages (catena_project_get_chain (reloaded)), ==, 4);
  /* photo paths still point at the photo from the new folder */
  reloaded_dir = catena_project_dup_base_dir (reloaded);
  resolved = catena_asset_resolve_source (catena_project_find_asset (reloaded, "coffee"),
                                          reloaded_dir);
  g_assert_true (g_file_test (resolved, G_FILE_TEST_IS_REGULAR));

  g_unlink (saved_path);
  g_rmdir (dir);
}

static void
test_screenshot (Fixture *f, gconstpointer data)
{
  CatenaChain *chain = chain_of (f);
  g_autoptr (GdkTexture) texture = NULL;
  g_autofree char *path = g_build_filename (g_getenv ("CATENA_UI_BUILD_DIR"),
                                            "test-window.png", NULL);
  guint n_colours;

  run_and_wait (f, FALSE);
  catena_chain_view_set_selected (catena_window_get_chain_view (f->window),
                                  position_of (chain, "recolor"));
  settle (f);
  wait_for_latest_frame (f);
  for (int i = 0; i < 30; i++)
    g_main_context_iteration (NULL, FALSE);

  texture = ui_test_render_widget (GTK_WIDGET (f->window));
  g_assert_cmpint (gdk_texture_get_width (texture), >=, 1000);
  g_assert_true (gdk_texture_save_to_png (texture, path));
  texture_stats (texture, &n_colours);
  g_test_message ("screenshot %s: %d × %d, %u colours", path, gdk_texture_get_width (texture),
                  gdk_texture_get_height (texture), n_colours);
  g_assert_cmpuint (n_colours, >, 2000);
}

/* The demo project, as the README shows it: a run, the recolor stage live, before/after. */
static void
test_demo_screenshot (Fixture *f, gconstpointer data)
{
  g_autoptr (GFile) demo = catena_ui_dup_demo_project ();
  g_autoptr (GdkTexture) texture = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *path = g_build_filename (g_getenv ("CATENA_UI_BUILD_DIR"), "demo-window.png",
                                            NULL);
  const char *extra = g_getenv ("CATENA_SCREENSHOT");
  CatenaChain *chain;
  GtkWidget *scale;
  guint n_colours;

  if (demo == NULL)
    {
      g_test_skip ("data/demo/demo.catena is not there");
      return;
    }
  g_assert_true (catena_window_load (f->window, demo, &error));
  g_assert_no_error (error);
  redirect_output (f);
  settle (f);
  run_and_wait (f, FALSE);
  g_test_message ("demo run: %s", catena_window_get_last_toast (f->window));

  chain = chain_of (f);
  catena_chain_view_set_selected (catena_window_get_chain_view (f->window),
                                  position_of (chain, "recolor"));
  settle (f);
  /* a tweak after the run: the preview follows live, later cards show they are stale */
  scale = catena_inspector_get_editor (catena_window_get_inspector (f->window), "saturation");
  gtk_range_set_value (GTK_RANGE (scale), gtk_range_get_value (GTK_RANGE (scale)) + 25);
  activate (f, "win.toggle-split", NULL);
  catena_window_dismiss_toast (f->window);
  settle (f);
  wait_for_latest_frame (f);
  /* let the toast's hide animation finish */
  for (gint64 end = g_get_monotonic_time () + G_USEC_PER_SEC / 2; g_get_monotonic_time () < end;)
    g_main_context_iteration (NULL, FALSE);

  texture = ui_test_render_widget (GTK_WIDGET (f->window));
  g_assert_true (gdk_texture_save_to_png (texture, path));
  if (extra && *extra)
    g_assert_true (gdk_texture_save_to_png (texture, extra));
  texture_stats (texture, &n_colours);
  g_assert_cmpuint (n_colours, >, 2000);
}

/* The application: accelerators from its table, the shortcuts window from the GResource, and
 * with no argument the demo project. */
static gboolean app_checked;

static gboolean
check_app (gpointer data)
{
  GtkApplication *app = data;
  GtkWindow *window = gtk_application_get_active_window (app);
  g_auto (GStrv) undo = gtk_application_get_accels_for_action (app, "win.undo");
  g_auto (GStrv) run = gtk_application_get_accels_for_action (app, "win.run");

  if (window == NULL)
    return G_SOURCE_CONTINUE;
  g_assert_true (CATENA_IS_WINDOW (window));
  g_assert_nonnull (gtk_application_window_get_help_overlay (GTK_APPLICATION_WINDOW (window)));
  g_assert_cmpstr (undo[0], ==, "<Control>z");
  g_assert_cmpstr (run[0], ==, "<Control>r");
  if (catena_ui_dup_demo_project () != NULL)
    g_assert_nonnull (catena_window_get_project (CATENA_WINDOW (window)));
  /* The same actions the shortcuts reach */
  g_assert_true (g_action_group_has_action (G_ACTION_GROUP (app), "about"));
  app_checked = TRUE;
  gtk_window_destroy (window);
  return G_SOURCE_REMOVE;
}

static void
test_application (void)
{
  g_autoptr (CatenaApplication) app = catena_application_new ();
  char *argv[] = { (char *) "catena", NULL };

  g_timeout_add (100, check_app, app);
  g_assert_cmpint (g_application_run (G_APPLICATION (app), 1, argv), ==, 0);
  g_assert_true (app_checked);
}

static void
count_frame (CatenaPreviewRenderer *renderer, GdkTexture *after, GdkTexture *before,
             double scale, int x, int y, gboolean sharp, guint64 generation, guint *n)
{
  (*n)++;
}

/* A window closed with a rendered frame not yet delivered: nothing arrives afterwards. The
 * queued result used to keep the renderer alive past its window and still emit "rendered",
 * into handlers whose data was gone (this file's fixture, found by ASan). */
static void
test_no_frames_after_close (Fixture *f, gconstpointer data)
{
  g_autoptr (CatenaPreviewRenderer) renderer = g_object_ref (catena_window_get_renderer (
                                                 f->window));
  g_autoptr (GeglBuffer) buffer = gegl_buffer_new (GEGL_RECTANGLE (0, 0, 256, 256),
                                                   babl_format ("R'G'B'A float"));
  gpointer window = f->window;
  guint n_sharp0, n_sharp = 0, n_after = 0;
  gint64 end = g_get_monotonic_time () + TIMEOUT_US;

  /* a render finishes on the worker while this (main) thread does not dispatch its result */
  catena_preview_renderer_get_counts (renderer, NULL, &n_sharp0, NULL);
  catena_preview_renderer_set_source (renderer, buffer, NULL, NULL);
  catena_preview_renderer_set_view (renderer, 0.75, GEGL_RECTANGLE (0, 0, 0, 0));
  while (n_sharp == n_sharp0 || n_sharp == 0)
    {
      g_assert_cmpint (g_get_monotonic_time (), <, end);
      g_usleep (1000);
      catena_preview_renderer_get_counts (renderer, NULL, &n_sharp, NULL);
    }
  g_usleep (50000); /* the count goes up just before the result is queued */
  g_signal_connect (renderer, "rendered", G_CALLBACK (count_frame), &n_after);

  g_object_add_weak_pointer (window, &window);
  gtk_window_destroy (GTK_WINDOW (f->window));
  f->window = NULL;
  while (window != NULL && g_get_monotonic_time () < end)
    {
      g_main_context_iteration (NULL, FALSE);
      g_usleep (1000);
    }
  g_assert_null (window);
  for (int i = 0; i < 200; i++)
    {
      g_main_context_iteration (NULL, FALSE);
      g_usleep (1000);
    }
  g_assert_cmpuint (n_after, ==, 0);
  g_signal_handlers_disconnect_by_data (renderer, &n_after);
}

int
main (int argc, char *argv[])
{
  gtk_init ();
  catena_ui_init ();
  catena_ui_load_style ();
  g_test_init (&argc, &argv, NULL);
  /* Start from an empty cache, so "stale" and "ready" do not depend on earlier runs. */
  g_assert_true (catena_cache_clear (catena_cache_get_default (), NULL));

#define ADD(name, func) g_test_add (name, Fixture, NULL, fixture_set_up, func, fixture_tear_down)
  ADD ("/ui/window/builds", test_window_builds);
  ADD ("/ui/window/edit-and-undo", test_edit_and_undo);
  ADD ("/ui/window/slider-one-undo-step", test_slider_one_undo_step);
  ADD ("/ui/window/run-thumbnails-live-recolor", test_run_thumbnails_and_live_recolor);
  ADD ("/ui/window/cancel", test_cancel);
  ADD ("/ui/window/failure-is-explained", test_failure_is_explained);
  ADD ("/ui/window/gpu-job-keeps-preview-live", test_gpu_job_keeps_preview_live);
  ADD ("/ui/window/add-files-and-save", test_add_files_and_save);
  ADD ("/ui/window/no-frames-after-close", test_no_frames_after_close);
  ADD ("/ui/window/screenshot", test_screenshot);
  ADD ("/ui/window/demo-screenshot", test_demo_screenshot);
#undef ADD
  g_test_add_func ("/ui/app/startup", test_application);

  return g_test_run ();
}
