/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include "../catena-test-util.h"
#include "catena-review.h"

/* Review states, the workflow's transitions, comments, the audit log and the round trip
 * through the project's "review" section. */

static CatenaProject *
make_project (void)
{
  CatenaProject *project = catena_project_new ();
  const char *ids[] = { "mug", "cup" };

  for (guint i = 0; i < G_N_ELEMENTS (ids); i++)
    {
      g_autoptr (CatenaAsset) asset = catena_asset_new (ids[i]);
      catena_asset_set_source (asset, "photo.png");
      catena_project_add_asset (project, asset);
    }
  {
    g_autoptr (CatenaStage) import = catena_stage_new ("import", NULL);
    g_autoptr (CatenaStage) recolor = catena_stage_new ("recolor", NULL);
    catena_chain_append (catena_project_get_chain (project), import);
    catena_chain_append (catena_project_get_chain (project), recolor);
  }
  return project;
}

static void
test_transitions (void)
{
  /* every pair against the documented workflow */
  const char *allowed[] = {
    "draft>in-review",
    "in-review>changes-requested", "in-review>approved", "in-review>rejected",
    "changes-requested>in-review", "changes-requested>draft",
    "approved>in-review", "approved>changes-requested",
    "rejected>draft", "rejected>in-review",
    NULL,
  };

  for (int from = 0; from <= CATENA_REVIEW_STATE_REJECTED; from++)
    for (int to = 0; to <= CATENA_REVIEW_STATE_REJECTED; to++)
      {
        g_autofree char *pair = g_strdup_printf ("%s>%s", catena_review_state_to_string (from),
                                                 catena_review_state_to_string (to));
        gboolean expected = g_strv_contains (allowed, pair);

        g_assert_cmpint (catena_review_state_can_change (from, to), ==, expected);
      }
  {
    CatenaReviewState s;
    g_assert_true (catena_review_state_from_string ("changes_requested", &s));
    g_assert_cmpint (s, ==, CATENA_REVIEW_STATE_CHANGES_REQUESTED);
    g_assert_false (catena_review_state_from_string ("done", &s));
  }
}

typedef struct
{
  guint n_state;
  guint n_comment;
  guint n_changed;
  CatenaReviewState last_old, last_new;
} Counts;

static void
on_state (CatenaReview *r, const char *id, CatenaReviewState old, CatenaReviewState new,
          Counts *c)
{
  c->n_state++;
  c->last_old = old;
  c->last_new = new;
}

static void
on_comment (CatenaReview *r, CatenaReviewComment *comment, Counts *c)
{
  c->n_comment++;
}

static void
on_changed (CatenaReview *r, Counts *c)
{
  c->n_changed++;
}

static gboolean
is_iso_utc (const char *s)
{
  return g_regex_match_simple ("^\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\dZ$", s, 0, 0);
}

static void
test_states_and_log (void)
{
  g_autoptr (CatenaProject) project = make_project ();
  g_autoptr (GError) error = NULL;
  CatenaReview *review;
  GListModel *log;
  Counts c = { 0 };

  g_setenv ("CATENA_USER", "Ada Reviewer", TRUE);
  review = catena_review_new_for_project (project, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (catena_review_get_user (review), ==, "Ada Reviewer");
  g_signal_connect (review, "state-changed", G_CALLBACK (on_state), &c);
  g_signal_connect (review, "changed", G_CALLBACK (on_changed), &c);

  g_assert_cmpint (catena_review_get_state (review, "mug"), ==, CATENA_REVIEW_STATE_DRAFT);
  /* draft cannot be approved directly */
  g_assert_false (catena_review_set_state (review, "mug", CATENA_REVIEW_STATE_APPROVED, NULL,
                                           NULL, &error));
  g_assert_error (error, CATENA_REVIEW_ERROR, CATENA_REVIEW_ERROR_TRANSITION);
  g_clear_error (&error);
  g_assert_cmpuint (c.n_state, ==, 0);

  g_assert_false (catena_review_set_state (review, "nope", CATENA_REVIEW_STATE_IN_REVIEW, NULL,
                                           NULL, &error));
  g_assert_error (error, CATENA_REVIEW_ERROR, CATENA_REVIEW_ERROR_UNKNOWN_ASSET);
  g_clear_error (&error);

  g_assert_true (catena_review_set_state (review, "mug", CATENA_REVIEW_STATE_IN_REVIEW, NULL,
                                          NULL, &error));
  g_assert_true (catena_review_set_state (review, "mug", CATENA_REVIEW_STATE_APPROVED,
                                          "looks great", "abc123", &error));
  g_assert_no_error (error);
  g_assert_cmpuint (c.n_state, ==, 2);
  g_assert_cmpint (c.last_old, ==, CATENA_REVIEW_STATE_IN_REVIEW);
  g_assert_cmpint (c.last_new, ==, CATENA_REVIEW_STATE_APPROVED);
  g_assert_cmpstr (catena_review_get_approved_key (review, "mug"), ==, "abc123");
  g_assert_cmpuint (c.n_changed, ==, 2);

  /* reopening drops the approval's key */
  g_assert_true (catena_review_set_state (review, "mug", CATENA_REVIEW_STATE_IN_REVIEW, NULL,
                                          NULL, &error));
  g_assert_null (catena_review_get_approved_key (review, "mug"));

  log = catena_review_get_log (review);
  g_assert_cmpuint (g_list_model_get_n_items (log), ==, 3);
  {
    g_autoptr (CatenaReviewEntry) e = g_list_model_get_item (log, 1);
    g_assert_cmpstr (catena_review_entry_get_action (e), ==, "state");
    g_assert_cmpstr (catena_review_entry_get_from_state (e), ==, "in-review");
    g_assert_cmpstr (catena_review_entry_get_to_state (e), ==, "approved");
    g_assert_cmpstr (catena_review_entry_get_user (e), ==, "Ada Reviewer");
    g_assert_cmpstr (catena_review_entry_get_text (e), ==, "looks great");
    g_assert_true (is_iso_utc (catena_review_entry_get_time (e)));
  }

  /* the project's section follows every change */
  {
    g_autoptr (JsonNode) node = catena_project_dup_section (project, "review");
    JsonObject *o = json_node_get_object (node);
    g_assert_cmpuint (json_array_get_length (json_object_get_array_member (o, "log")), ==, 3);
  }
  g_assert_finalize_object (review);
  g_unsetenv ("CATENA_USER");
}

static void
test_comments (void)
{
  g_autoptr (CatenaProject) project = make_project ();
  g_autoptr (GError) error = NULL;
  g_autoptr (CatenaReview) review = catena_review_new_for_project (project, &error);
  GListModel *model;
  CatenaReviewComment *c;
  Counts counts = { 0 };
  int x, y, w, h;

  catena_review_set_user (review, "Ben");
  g_signal_connect (review, "comment-added", G_CALLBACK (on_comment), &counts);
  model = catena_review_get_comments (review, "cup");
  g_assert_cmpuint (g_list_model_get_n_items (model), ==, 0);

  c = catena_review_add_comment (review, "cup", "recolor", GEGL_RECTANGLE (10, 20, 30, 40),
                                 "The rim is too orange.", &error);
  g_assert_no_error (error);
  g_assert_nonnull (c);
  g_assert_cmpuint (g_list_model_get_n_items (model), ==, 1);
  g_assert_cmpuint (counts.n_comment, ==, 1);
  g_assert_cmpstr (catena_review_comment_get_author (c), ==, "Ben");
  g_assert_cmpstr (catena_review_comment_get_stage_id (c), ==, "recolor");
  g_assert_true (catena_review_comment_get_region (c, &x, &y, &w, &h));
  g_assert_cmpint (x, ==, 10);
  g_assert_cmpint (h, ==, 40);
  g_assert_true (is_iso_utc (catena_review_comment_get_time (c)));

  c = catena_review_add_comment (review, "cup", NULL, NULL, "Overall fine.", &error);
  g_assert_nonnull (c);
  g_assert_false (catena_review_comment_get_region (c, NULL, NULL, NULL, NULL));
  g_assert_cmpuint (g_list_model_get_n_items (catena_review_get_comments (review, "mug")), ==, 0);

  /* refused: empty text, unknown stage, region without stage, empty region */
  g_assert_null (catena_review_add_comment (review, "cup", NULL, NULL, "   ", &error));
  g_assert_error (error, CATENA_REVIEW_ERROR, CATENA_REVIEW_ERROR_EMPTY);
  g_clear_error (&error);
  g_assert_null (catena_review_add_comment (review, "cup", "upscale", NULL, "x", &error));
  g_assert_error (error, CATENA_REVIEW_ERROR, CATENA_REVIEW_ERROR_UNKNOWN_STAGE);
  g_clear_error (&error);
  g_assert_null (catena_review_add_comment (review, "cup", NULL, GEGL_RECTANGLE (0, 0, 5, 5),
                                            "x", &error));
  g_assert_error (error, CATENA_REVIEW_ERROR, CATENA_REVIEW_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_null (catena_review_add_comment (review, "cup", "recolor",
                                            GEGL_RECTANGLE (0, 0, 0, 5), "x", &error));
  g_assert_error (error, CATENA_REVIEW_ERROR, CATENA_REVIEW_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_cmpuint (g_list_model_get_n_items (model), ==, 2);
}

static void
test_round_trip (void)
{
  g_autoptr (CatenaProject) project = make_project ();
  g_autoptr (CatenaProject) loaded = NULL;
  g_autoptr (CatenaReview) review = NULL;
  g_autoptr (CatenaReview) again = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = test_mkdtemp ();
  g_autofree char *path = g_build_filename (dir, "p.catena", NULL);
  g_autoptr (GFile) file = g_file_new_for_path (path);
  g_autoptr (JsonNode) a = NULL;
  g_autoptr (JsonNode) b = NULL;
  CatenaReviewComment *c;

  review = catena_review_new_for_project (project, &error);
  catena_review_set_user (review, "Chris");
  g_assert_true (catena_review_set_state (review, "cup", CATENA_REVIEW_STATE_IN_REVIEW, NULL,
                                          NULL, &error));
  g_assert_nonnull (catena_review_add_comment (review, "cup", "import",
                                               GEGL_RECTANGLE (1, 2, 3, 4), "crop tighter",
                                               &error));
  g_assert_true (catena_review_set_state (review, "cup", CATENA_REVIEW_STATE_CHANGES_REQUESTED,
                                          NULL, NULL, &error));
  g_assert_true (catena_project_save (project, file, &error));
  g_assert_no_error (error);

  loaded = catena_project_load (file, &error);
  g_assert_no_error (error);
  again = catena_review_new_for_project (loaded, &error);
  g_assert_no_error (error);
  g_assert_cmpint (catena_review_get_state (again, "cup"), ==,
                   CATENA_REVIEW_STATE_CHANGES_REQUESTED);
  g_assert_cmpuint (g_list_model_get_n_items (catena_review_get_log (again)), ==, 3);
  g_assert_cmpuint (g_list_model_get_n_items (catena_review_get_comments (again, "cup")), ==, 1);
  a = catena_review_to_json (review);
  b = catena_review_to_json (again);
  g_assert_true (json_node_equal (a, b));

  /* new comment ids continue after the loaded ones */
  c = catena_review_add_comment (again, "cup", NULL, NULL, "second", &error);
  g_assert_cmpstr (catena_review_comment_get_id (c), ==, "c2");
  test_rm_rf (dir);
}

static void
test_damaged_section (void)
{
  const char *cases[] = {
    "[]",
    "{\"version\": 99}",
    "{\"assets\": {\"cup\": {\"state\": \"finished\"}}}",
    "{\"assets\": []}",
    "{\"comments\": [{\"asset\": \"cup\"}]}",
    "{\"comments\": [{\"asset\": \"cup\", \"text\": \"x\", \"region\": [1, 2, 0, 4]}]}",
    "{\"comments\": [{\"asset\": \"cup\", \"text\": \"x\", \"region\": [1, 2, \"a\", 4]}]}",
    "{\"log\": [{\"time\": 5, \"action\": \"state\"}]}",
    "{\"log\": {}}",
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (CatenaProject) project = make_project ();
      g_autoptr (JsonNode) node = json_from_string (cases[i], NULL);
      g_autoptr (GError) error = NULL;
      g_autoptr (CatenaReview) review = NULL;

      g_assert_nonnull (node);
      catena_project_set_section (project, "review", node);
      review = catena_review_new_for_project (project, &error);
      g_assert_null (review);
      g_assert_error (error, CATENA_REVIEW_ERROR, CATENA_REVIEW_ERROR_INVALID);
    }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  catena_engine_init ();

  g_test_add_func ("/review/transitions", test_transitions);
  g_test_add_func ("/review/states-and-log", test_states_and_log);
  g_test_add_func ("/review/comments", test_comments);
  g_test_add_func ("/review/round-trip", test_round_trip);
  g_test_add_func ("/review/damaged-section", test_damaged_section);
  return g_test_run ();
}
