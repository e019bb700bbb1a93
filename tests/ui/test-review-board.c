/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <glib/gstdio.h>

#include "catena-brand-kit.h"
#include "catena-review-board.h"
#include "catena-ui.h"
#include "ui-test-util.h"

/* The review board under Xvfb: two runs of the demo photo, reviewed through the board's
 * actions; the review, the project's "review" section and the audit log out, and a PNG. */

#define TIMEOUT_US (120 * G_USEC_PER_SEC)

typedef struct
{
  CatenaProject *project;
  GtkWindow *window;
  CatenaReviewBoard *board;
  gboolean run_done;
} Fixture;

static void
iterate_until (gboolean (*cond) (Fixture *), Fixture *f)
{
  g_assert_true (ui_test_wait_until (cond (f), TIMEOUT_US));
}

static gboolean
run_is_done (Fixture *f)
{
  return f->run_done;
}

static gboolean
board_is_idle (Fixture *f)
{
  return !catena_review_board_is_busy (f->board);
}

static void
run_finished (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Fixture *f = user_data;
  g_autoptr (GError) error = NULL;

  g_assert_true (catena_runner_run_finish (CATENA_RUNNER (source), result, &error));
  g_assert_no_error (error);
  f->run_done = TRUE;
}

static CatenaAsset *
make_asset (const char *id, const char *name)
{
  g_autofree char *photo
      = g_build_filename (g_getenv ("CATENA_SOURCE_DIR"), "data", "demo", "coffee.png", NULL);
  CatenaAsset *asset = catena_asset_new (id);

  catena_asset_set_name (asset, name);
  catena_asset_set_source (asset, photo);
  return asset;
}

static void
fixture_set_up (Fixture *f, gconstpointer data)
{
  CatenaChain *chain;
  g_autoptr (CatenaStage) import = catena_stage_new ("import", NULL);
  g_autoptr (CatenaStage) export = catena_stage_new ("export", NULL);
  g_autoptr (CatenaAsset) first = make_asset ("first", "Coffee, first take");
  g_autoptr (CatenaAsset) second = make_asset ("second", "Coffee, second take");
  g_autoptr (CatenaBrandKit) kit = catena_brand_kit_new ();
  g_autoptr (CatenaRunner) runner = catena_runner_new (catena_cache_get_default ());

  f->project = catena_project_new ();
  catena_project_set_name (f->project, "Review board test");
  chain = catena_project_get_chain (f->project);
  catena_chain_append (chain, import);
  catena_chain_append (chain, export);
  catena_project_add_asset (f->project, first);
  catena_project_add_asset (f->project, second);
  /* A palette far from a coffee cup, so the board has a brand flag to show. */
  g_assert_true (catena_brand_kit_add_swatch (kit, "Signal green", "#00c060", NULL));
  catena_brand_kit_save_to_project (kit, f->project);

  /* Thumbnails come from the cache only: run first (out_dir NULL: nothing written). */
  catena_runner_run_async (runner, f->project, NULL, NULL, NULL, run_finished, f);
  iterate_until (run_is_done, f);

  f->window = GTK_WINDOW (gtk_window_new ());
  gtk_window_set_default_size (f->window, 1280, 800);
  f->board = CATENA_REVIEW_BOARD (catena_review_board_new (f->project, NULL));
  g_object_ref (f->board);
  gtk_window_set_child (f->window, GTK_WIDGET (f->board));
  gtk_window_present (f->window);
  iterate_until (board_is_idle, f);
}

static void
fixture_tear_down (Fixture *f, gconstpointer data)
{
  gtk_window_destroy (f->window);
  ui_test_drain ();
  g_assert_finalize_object (f->board);
  g_assert_finalize_object (f->project);
}

static void
activate (Fixture *f, const char *action)
{
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (f->board), action, NULL));
  ui_test_drain ();
}

static const char *
section_state (Fixture *f, const char *asset_id)
{
  static char state[64];
  g_autoptr (JsonNode) node = catena_project_dup_section (f->project, "review");
  JsonObject *assets, *asset;

  g_assert_nonnull (node);
  assets = json_object_get_object_member (json_node_get_object (node), "assets");
  asset = assets ? json_object_get_object_member (assets, asset_id) : NULL;
  g_assert_nonnull (asset);
  g_strlcpy (state, json_object_get_string_member (asset, "state"), sizeof state);
  return state;
}

static void
test_review_with_actions (Fixture *f, gconstpointer data)
{
  CatenaReview *review = catena_review_board_get_review (f->board);
  GListModel *log = catena_review_get_log (review);
  GListModel *comments;
  GtkWidget *entry, *dropdown;
  g_autoptr (CatenaReviewComment) comment = NULL;
  g_autoptr (GdkTexture) texture = NULL;
  g_autofree char *path
      = g_build_filename (g_getenv ("CATENA_UI_BUILD_DIR"), "review-board.png", NULL);
  static const struct
  {
    const char *asset, *action, *from, *to;
  } expected[] = {
    { "first", "state", "draft", "in-review" },     { "first", "state", "in-review", "approved" },
    { "second", "state", "draft", "in-review" },    { "second", "comment", NULL, NULL },
    { "second", "state", "in-review", "rejected" },
  };

  g_assert_null (catena_review_board_get_open_asset (f->board));

  /* next with nothing open opens the first photo; a draft cannot be approved directly. */
  activate (f, "board.next");
  g_assert_cmpstr (catena_review_board_get_open_asset (f->board), ==, "first");
  activate (f, "board.approve");
  g_assert_cmpint (catena_review_get_state (review, "first"), ==, CATENA_REVIEW_STATE_DRAFT);
  activate (f, "board.send-to-review");
  activate (f, "board.approve");
  g_assert_cmpint (catena_review_get_state (review, "first"), ==, CATENA_REVIEW_STATE_APPROVED);
  g_assert_cmpstr (section_state (f, "first"), ==, "approved");
  /* The approval records the output it was given for (the export stage's key). */
  g_assert_nonnull (catena_review_get_approved_key (review, "first"));

  /* The second photo: a comment on its import stage, then rejected. */
  activate (f, "board.next");
  g_assert_cmpstr (catena_review_board_get_open_asset (f->board), ==, "second");
  activate (f, "board.next");
  g_assert_cmpstr (catena_review_board_get_open_asset (f->board), ==, "second");
  activate (f, "board.send-to-review");
  entry = ui_test_find_widget (GTK_WIDGET (f->board), GTK_TYPE_ENTRY);
  dropdown = ui_test_find_widget (GTK_WIDGET (f->board), GTK_TYPE_DROP_DOWN);
  g_assert_nonnull (entry);
  g_assert_nonnull (dropdown);
  gtk_drop_down_set_selected (GTK_DROP_DOWN (dropdown), 1);
  gtk_editable_set_text (GTK_EDITABLE (entry), "The cup is cropped at the rim");
  g_signal_emit_by_name (entry, "activate");
  g_assert_cmpstr (gtk_editable_get_text (GTK_EDITABLE (entry)), ==, "");
  activate (f, "board.reject");
  g_assert_cmpint (catena_review_get_state (review, "second"), ==, CATENA_REVIEW_STATE_REJECTED);
  g_assert_cmpstr (section_state (f, "second"), ==, "rejected");
  g_assert_cmpint (catena_review_get_state (review, "first"), ==, CATENA_REVIEW_STATE_APPROVED);

  comments = catena_review_get_comments (review, "second");
  g_assert_cmpuint (g_list_model_get_n_items (comments), ==, 1);
  comment = g_list_model_get_item (comments, 0);
  g_assert_cmpstr (catena_review_comment_get_stage_id (comment), ==, "import");
  g_assert_cmpstr (catena_review_comment_get_author (comment), ==, "Board Tester");
  g_assert_cmpstr (catena_review_comment_get_text (comment), ==, "The cup is cropped at the rim");

  g_assert_cmpuint (g_list_model_get_n_items (log), ==, G_N_ELEMENTS (expected));
  for (guint i = 0; i < G_N_ELEMENTS (expected); i++)
    {
      g_autoptr (CatenaReviewEntry) entry_i = g_list_model_get_item (log, i);

      g_assert_cmpstr (catena_review_entry_get_asset_id (entry_i), ==, expected[i].asset);
      g_assert_cmpstr (catena_review_entry_get_action (entry_i), ==, expected[i].action);
      g_assert_cmpstr (catena_review_entry_get_from_state (entry_i), ==, expected[i].from);
      g_assert_cmpstr (catena_review_entry_get_to_state (entry_i), ==, expected[i].to);
      g_assert_cmpstr (catena_review_entry_get_user (entry_i), ==, "Board Tester");
    }

  /* previous goes back; from the first photo it stays there. */
  activate (f, "board.previous");
  g_assert_cmpstr (catena_review_board_get_open_asset (f->board), ==, "first");
  activate (f, "board.previous");
  g_assert_cmpstr (catena_review_board_get_open_asset (f->board), ==, "first");
  activate (f, "board.next");

  gtk_expander_set_expanded (GTK_EXPANDER (ui_test_find_widget (GTK_WIDGET (f->board), GTK_TYPE_EXPANDER)),
                             TRUE);
  iterate_until (board_is_idle, f);
  for (int i = 0; i < 50; i++)
    {
      g_main_context_iteration (NULL, FALSE);
      g_usleep (2000);
    }
  texture = ui_test_render_widget (GTK_WIDGET (f->window));
  g_assert_true (gdk_texture_save_to_png (texture, path));
  g_test_message ("screenshot %s: %d × %d", path, gdk_texture_get_width (texture),
                  gdk_texture_get_height (texture));
}

int
main (int argc, char *argv[])
{
  g_setenv ("CATENA_USER", "Board Tester", TRUE);
  gtk_init ();
  catena_ui_init ();
  catena_ui_load_style ();
  g_test_init (&argc, &argv, NULL);

  g_test_add ("/ui/review-board/review-with-actions", Fixture, NULL, fixture_set_up,
              test_review_with_actions, fixture_tear_down);

  return g_test_run ();
}
