/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <glib/gstdio.h>
#include <signal.h>
#include <sys/resource.h>
#include <string.h>

#include "catena-test-util.h"

static CatenaProject *
make_project (void)
{
  CatenaProject *project = catena_project_new ();
  CatenaChain *chain = catena_project_get_chain (project);
  const char *kinds[] = { "import", "upscale", "export" };
  g_autoptr (CatenaAsset) a = catena_asset_new ("mug");
  g_autoptr (CatenaAsset) b = catena_asset_new ("banner");
  GError *error = NULL;

  catena_project_set_name (project, "Spring campaign");
  for (guint i = 0; i < G_N_ELEMENTS (kinds); i++)
    {
      g_autoptr (CatenaStage) s = catena_stage_new (kinds[i], &error);
      g_assert_no_error (error);
      catena_chain_append (chain, s);
    }
  g_assert_true (catena_chain_apply_setting (chain, "upscale.factor=3", &error));
  g_assert_true (catena_chain_apply_setting (chain, "export.matte=#102030", &error));
  catena_asset_set_source (a, "photos/mug.png");
  catena_asset_set_asset_class (a, CATENA_ASSET_CLASS_HERO);
  catena_asset_set_prompt (b, "a mug on a marble table, soft light");
  catena_asset_set_name (b, "Banner – “spring”");
  catena_asset_set_asset_class (b, CATENA_ASSET_CLASS_PRINT);
  catena_project_add_asset (project, a);
  catena_project_add_asset (project, b);
  return project;
}

static char *
to_string (CatenaProject *project)
{
  g_autoptr (JsonNode) node = catena_project_to_json (project);
  return json_to_string (node, TRUE);
}

static void
test_round_trip (void)
{
  g_autofree char *dir = test_mkdtemp ();
  g_autofree char *path = g_build_filename (dir, "p.catena", NULL);
  g_autoptr (GFile) file = g_file_new_for_path (path);
  g_autoptr (CatenaProject) project = make_project ();
  g_autoptr (CatenaProject) loaded = NULL;
  g_autofree char *a = NULL;
  g_autofree char *b = NULL;
  g_autofree char *base = NULL;
  g_autofree char *resolved = NULL;
  GError *error = NULL;

  g_assert_true (catena_project_save (project, file, &error));
  g_assert_no_error (error);
  g_assert_true (g_file_equal (catena_project_get_file (project), file));

  loaded = catena_project_load (file, &error);
  g_assert_no_error (error);
  a = to_string (project);
  b = to_string (loaded);
  g_assert_cmpstr (a, ==, b);
  g_assert_cmpstr (catena_project_get_name (loaded), ==, "Spring campaign");
  g_assert_cmpuint (g_list_model_get_n_items (catena_project_get_assets (loaded)), ==, 2);
  g_assert_cmpint (catena_asset_get_asset_class (catena_project_find_asset (loaded, "banner")), ==,
                   CATENA_ASSET_CLASS_PRINT);

  /* Relative sources resolve against the project's folder. */
  base = catena_project_dup_base_dir (loaded);
  g_assert_cmpstr (base, ==, dir);
  resolved = catena_asset_resolve_source (catena_project_find_asset (loaded, "mug"), base);
  g_assert_true (g_str_has_prefix (resolved, dir));
  g_assert_true (g_str_has_suffix (resolved, "photos/mug.png"));

  g_assert_finalize_object (g_steal_pointer (&loaded));
  test_rm_rf (dir);
}

static GError *
load_text (const char *text)
{
  g_autofree char *dir = test_mkdtemp ();
  g_autofree char *path = g_build_filename (dir, "bad.catena", NULL);
  g_autoptr (GFile) file = g_file_new_for_path (path);
  g_autoptr (CatenaProject) project = NULL;
  GError *error = NULL;

  g_assert_true (g_file_set_contents (path, text, -1, NULL));
  project = catena_project_load (file, &error);
  g_assert_null (project);
  g_assert_nonnull (error);
  g_test_message ("%s → %s", text, error->message);
  test_rm_rf (dir);
  return error;
}

static void
expect_invalid (const char *text, const char *fragment)
{
  g_autoptr (GError) error = load_text (text);
  g_assert_true (error->domain == CATENA_PROJECT_ERROR || error->domain == CATENA_STAGE_ERROR);
  if (fragment)
    g_assert_nonnull (strstr (error->message, fragment));
}

static void
test_malformed (void)
{
  g_autoptr (GError) newer = NULL;

  expect_invalid ("", "not a Catena project");
  expect_invalid ("{\"format\": \"catena-project\", \"version\": 1, \"chain\": [", "not valid JSON");
  expect_invalid ("[1, 2, 3]", "not a Catena project");
  expect_invalid ("{\"format\": \"catena-chain\", \"version\": 1, \"stages\": []}",
                  "not a Catena project");
  expect_invalid ("{\"format\": \"catena-project\"}", "no format version");
  expect_invalid ("{\"format\": \"catena-project\", \"version\": \"1\"}", "no format version");
  expect_invalid ("{\"format\": \"catena-project\", \"version\": 0, \"chain\": []}", "invalid");
  expect_invalid ("{\"format\": \"catena-project\", \"version\": 1}", "no chain");
  expect_invalid ("{\"format\": \"catena-project\", \"version\": 1, \"chain\": {}}", "array");
  expect_invalid ("{\"format\": \"catena-project\", \"version\": 1, \"chain\": [42]}", "object");
  expect_invalid ("{\"format\": \"catena-project\", \"version\": 1, \"chain\": [{\"kind\": "
                  "\"teleport\"}]}",
                  "teleport");
  expect_invalid ("{\"format\": \"catena-project\", \"version\": 1, \"chain\": [{\"kind\": "
                  "\"upscale\", \"params\": {\"factor\": \"big\"}}]}",
                  "factor");
  expect_invalid ("{\"format\": \"catena-project\", \"version\": 1, \"chain\": [{\"kind\": "
                  "\"upscale\", \"params\": {\"factor\": 1e9}}]}",
                  "factor");
  expect_invalid ("{\"format\": \"catena-project\", \"version\": 1, \"chain\": [{\"kind\": "
                  "\"upscale\", \"params\": {\"warp\": 1}}]}",
                  "warp");
  expect_invalid ("{\"format\": \"catena-project\", \"version\": 1, \"chain\": [{\"kind\": "
                  "\"upscale\", \"id\": \"u\"}, {\"kind\": \"upscale\", \"id\": \"u\"}]}",
                  "share the id");
  expect_invalid ("{\"format\": \"catena-project\", \"version\": 1, \"chain\": [], \"assets\": "
                  "[{\"id\": \"a\", \"source\": \"x.png\", \"class\": \"billboard\"}]}",
                  "billboard");
  expect_invalid ("{\"format\": \"catena-project\", \"version\": 1, \"chain\": [], \"assets\": "
                  "[{\"id\": \"a\"}]}",
                  "neither");
  expect_invalid ("{\"format\": \"catena-project\", \"version\": 1, \"chain\": [], \"assets\": "
                  "[{\"id\": \"a\", \"source\": \"1.png\"}, {\"id\": \"a\", \"source\": \"2.png\"}]}",
                  "share the id");
  expect_invalid ("{\"format\": \"catena-project\", \"version\": 1, \"chain\": [], \"assets\": "
                  "[{\"id\": 7, \"source\": \"1.png\"}]}",
                  "string");

  newer = load_text ("{\"format\": \"catena-project\", \"version\": 99, \"chain\": []}");
  g_assert_error (newer, CATENA_PROJECT_ERROR, CATENA_PROJECT_ERROR_VERSION);
  g_assert_nonnull (strstr (newer->message, "newer Catena"));
}

static void
test_missing_file (void)
{
  g_autoptr (GFile) file = g_file_new_for_path ("/nonexistent/nowhere.catena");
  GError *error = NULL;

  g_assert_null (catena_project_load (file, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
  g_clear_error (&error);
}

static void
test_atomic_save (void)
{
  g_autofree char *dir = test_mkdtemp ();
  g_autofree char *path = g_build_filename (dir, "p.catena", NULL);
  g_autoptr (GFile) file = g_file_new_for_path (path);
  g_autoptr (CatenaProject) project = make_project ();
  g_autofree char *before = NULL;
  g_autofree char *after = NULL;
  GError *error = NULL;

  g_assert_true (catena_project_save (project, file, &error));
  g_assert_true (g_file_get_contents (path, &before, NULL, NULL));

  /* A folder that refuses the temporary file: the save fails and the old file is intact. */
  if (getuid () != 0)
    {
      catena_project_set_name (project, "changed");
      g_assert_cmpint (g_chmod (dir, 0500), ==, 0);
      g_assert_false (catena_project_save (project, file, &error));
      g_assert_nonnull (error);
      g_clear_error (&error);
      g_chmod (dir, 0700);
      g_assert_true (g_file_get_contents (path, &after, NULL, NULL));
      g_assert_cmpstr (before, ==, after);
    }
  else
    {
      /* root ignores permissions: save to a path whose folder does not exist instead. */
      g_autofree char *bad = g_build_filename (dir, "missing", "p.catena", NULL);
      g_autoptr (GFile) bad_file = g_file_new_for_path (bad);
      g_assert_false (catena_project_save (project, bad_file, &error));
      g_assert_nonnull (error);
      g_clear_error (&error);
      g_assert_true (g_file_equal (catena_project_get_file (project), file));
    }

  /* No temporary files left beside the project. */
  {
    g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
    const char *name;
    guint n = 0;
    while ((name = g_dir_read_name (d)))
      n++;
    g_assert_cmpuint (n, ==, 1);
  }
  test_rm_rf (dir);
}

/* An autosave whose writer has exited is a crash's leftover (live = FALSE); one whose writer
 * runs is not, and a dead writer's pid taken by another process does not make it live. */
static void
test_autosave_writer (void)
{
  g_autofree char *dir = NULL;
  g_autofree char *state = NULL;
  g_autoptr (GPtrArray) entries = NULL;
  g_autoptr (CatenaProject) mine = make_project ();
  g_autoptr (GError) error = NULL;
  guint n_live = 0, n_left = 0;

  if (g_test_subprocess ())
    {
      /* the session that crashes: writes an autosave of an unsaved project and exits */
      g_autoptr (CatenaProject) lost = make_project ();

      catena_project_set_name (lost, "Lost draft");
      g_assert_true (catena_autosave_write (lost, NULL));
      return;
    }
  dir = test_mkdtemp ();
  state = g_build_filename (dir, "state", NULL);
  g_setenv ("XDG_STATE_HOME", state, TRUE);
  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_INHERIT_STDERR);
  g_test_trap_assert_passed ();
  catena_project_set_name (mine, "Open here");
  g_assert_true (catena_autosave_write (mine, &error));
  g_assert_no_error (error);

  entries = catena_autosave_list ();
  g_assert_cmpuint (entries->len, ==, 2);
  for (guint i = 0; i < entries->len; i++)
    {
      CatenaAutosaveEntry *e = g_ptr_array_index (entries, i);

      if (e->live)
        {
          g_assert_cmpstr (e->name, ==, "Open here");
          n_live++;
        }
      else
        {
          g_assert_cmpstr (e->name, ==, "Lost draft");
          n_left++;
        }
    }
  g_assert_cmpuint (n_live, ==, 1);
  g_assert_cmpuint (n_left, ==, 1);

  /* this process's pid with another start time (a reused pid) is not this process */
  {
    g_autoptr (GFile) slot = catena_autosave_get_file (mine);
    g_autofree char *text = NULL;
    g_autofree char *path = g_file_get_path (slot);
    g_autoptr (GRegex) re = g_regex_new ("(\"writer\"\\s*:\\s*\"[^\"]*/)([0-9]+)\"", 0, 0, NULL);
    g_autofree char *forged = NULL;

    g_assert_true (g_file_get_contents (path, &text, NULL, NULL));
    forged = g_regex_replace (re, text, -1, 0, "\\g<1>1\"", 0, NULL);
    g_assert_cmpstr (forged, !=, text);
    g_assert_true (g_file_set_contents (path, forged, -1, NULL));
    g_clear_pointer (&entries, g_ptr_array_unref);
    entries = catena_autosave_list ();
    for (guint i = 0; i < entries->len; i++)
      g_assert_false (((CatenaAutosaveEntry *) g_ptr_array_index (entries, i))->live);
  }
  g_unsetenv ("XDG_STATE_HOME");
  test_rm_rf (dir);
}

/* A full disk (simulated with RLIMIT_FSIZE, which fails writes with EFBIG just as ENOSPC
 * would) fails the save with an error and leaves the saved project exactly as it was. Run in a
 * subprocess: the limit applies to the whole process. */
static void
test_disk_full (void)
{
  if (g_test_subprocess ())
    {
      g_autofree char *dir = test_mkdtemp ();
      g_autofree char *path = g_build_filename (dir, "p.catena", NULL);
      g_autoptr (GFile) file = g_file_new_for_path (path);
      g_autoptr (CatenaProject) project = make_project ();
      g_autofree char *before = NULL;
      g_autofree char *after = NULL;
      struct rlimit limit = { 0 };
      GError *error = NULL;

      g_assert_true (catena_project_save (project, file, &error));
      g_assert_true (g_file_get_contents (path, &before, NULL, NULL));

      /* Grow the document well past the limit, then try to save it. */
      for (guint i = 0; i < 200; i++)
        {
          g_autofree char *id = g_strdup_printf ("sku-%04u-with-a-long-enough-name", i);
          g_autoptr (CatenaAsset) asset = catena_asset_new (id);
          catena_asset_set_source (asset, "photos/a-fairly-long-file-name-for-a-product.png");
          catena_project_add_asset (project, asset);
        }
      signal (SIGXFSZ, SIG_IGN);
      limit.rlim_cur = limit.rlim_max = strlen (before) + 512;
      g_assert_cmpint (setrlimit (RLIMIT_FSIZE, &limit), ==, 0);

      g_assert_false (catena_project_save (project, file, &error));
      g_assert_nonnull (error);
      g_printerr ("%s\n", error->message);
      g_clear_error (&error);
      g_assert_true (g_file_get_contents (path, &after, NULL, NULL));
      g_assert_cmpstr (before, ==, after);
      {
        /* and no temporary file is left beside it */
        g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
        guint n = 0;
        while (g_dir_read_name (d))
          n++;
        g_assert_cmpuint (n, ==, 1);
      }
      test_rm_rf (dir);
      return;
    }
  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_passed ();
  g_test_trap_assert_stderr ("*too large*");
}

static void
test_chain_file (void)
{
  g_autofree char *dir = test_mkdtemp ();
  g_autofree char *path = g_build_filename (dir, "c.json", NULL);
  g_autoptr (GFile) file = g_file_new_for_path (path);
  g_autoptr (CatenaProject) project = make_project ();
  g_autoptr (CatenaChain) loaded = NULL;
  GError *error = NULL;

  g_assert_true (catena_chain_save (catena_project_get_chain (project), file, &error));
  loaded = catena_chain_load (file, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (catena_chain_get_n_stages (loaded), ==, 3);
  g_assert_cmpstr (catena_stage_get_id (catena_chain_get_stage (loaded, 2)), ==, "export");

  g_assert_true (g_file_set_contents (path, "{\"format\":\"catena-chain\",\"version\":7,\"stages\":[]}",
                                      -1, NULL));
  g_assert_null (catena_chain_load (file, &error));
  g_assert_error (error, CATENA_PROJECT_ERROR, CATENA_PROJECT_ERROR_VERSION);
  g_clear_error (&error);
  test_rm_rf (dir);
}

static void
on_section_changed (CatenaProject *project, const char *name, guint *count)
{
  (*count)++;
}

static void
test_sections (void)
{
  g_autofree char *dir = test_mkdtemp ();
  g_autofree char *path = g_build_filename (dir, "s.catena", NULL);
  g_autoptr (GFile) file = g_file_new_for_path (path);
  g_autoptr (CatenaProject) project = make_project ();
  g_autoptr (CatenaProject) loaded = NULL;
  g_autoptr (JsonNode) node = json_from_string ("{\"budget\": 12.5, \"rules\": [1, 2]}", NULL);
  g_autoptr (JsonNode) back = NULL;
  GError *error = NULL;
  guint changes = 0;

  g_signal_connect (project, "section-changed", G_CALLBACK (on_section_changed), &changes);
  g_assert_null (catena_project_dup_section (project, "routing"));
  catena_project_set_section (project, "routing", node);
  catena_project_set_section (project, "routing", node); /* equal: no signal */
  g_assert_cmpuint (changes, ==, 1);

  g_assert_true (catena_project_save (project, file, &error));
  loaded = catena_project_load (file, &error);
  g_assert_no_error (error);
  back = catena_project_dup_section (loaded, "routing");
  g_assert_true (json_node_equal (back, node));

  catena_project_set_section (project, "routing", NULL);
  g_assert_cmpuint (changes, ==, 2);
  g_assert_null (catena_project_dup_section (project, "routing"));

  g_assert_true (g_file_set_contents (path, "{\"format\":\"catena-project\",\"version\":1,"
                                      "\"chain\":[],\"sections\":[]}", -1, NULL));
  g_assert_null (catena_project_load (file, &error));
  g_assert_error (error, CATENA_PROJECT_ERROR, CATENA_PROJECT_ERROR_INVALID);
  g_clear_error (&error);
  test_rm_rf (dir);
}

static void
test_autosave (void)
{
  g_autofree char *dir = test_mkdtemp ();
  g_autofree char *state = g_build_filename (dir, "state", NULL);
  g_autofree char *path = g_build_filename (dir, "work.catena", NULL);
  g_autoptr (GFile) file = g_file_new_for_path (path);
  g_autoptr (CatenaProject) project = make_project ();
  g_autoptr (CatenaProject) unsaved = make_project ();
  g_autoptr (GPtrArray) entries = NULL;
  g_autoptr (CatenaProject) recovered = NULL;
  g_autofree char *saved_text = NULL;
  g_autofree char *a = NULL;
  g_autofree char *b = NULL;
  GError *error = NULL;

  g_setenv ("XDG_STATE_HOME", state, TRUE);
  g_assert_true (catena_project_save (project, file, &error));
  g_assert_true (g_file_get_contents (path, &saved_text, NULL, NULL));

  /* Unsaved edits go to the autosave, never over the user's file. */
  g_assert_true (catena_chain_apply_setting (catena_project_get_chain (project),
                                             "upscale.factor=4", NULL));
  g_assert_true (catena_autosave_write (project, &error));
  g_assert_no_error (error);
  g_assert_true (catena_autosave_write (unsaved, &error));
  {
    g_autofree char *now = NULL;
    g_assert_true (g_file_get_contents (path, &now, NULL, NULL));
    g_assert_cmpstr (now, ==, saved_text);
  }

  /* Next start: both are offered; the saved project's points back at its file. */
  entries = catena_autosave_list ();
  g_assert_cmpuint (entries->len, ==, 2);
  for (guint i = 0; i < entries->len; i++)
    {
      CatenaAutosaveEntry *e = g_ptr_array_index (entries, i);
      if (e->original == NULL)
        continue;
      g_assert_cmpstr (e->original, ==, path);
      g_assert_cmpstr (e->name, ==, "Spring campaign");
      recovered = catena_autosave_recover (e, &error);
      g_assert_no_error (error);
    }
  g_assert_nonnull (recovered);
  g_assert_true (g_file_equal (catena_project_get_file (recovered), file));
  g_assert_null (catena_project_dup_section (recovered, "autosave"));
  {
    double f;
    g_object_get (catena_chain_find_stage (catena_project_get_chain (recovered), "upscale", NULL),
                  "factor", &f, NULL);
    g_assert_cmpfloat (f, ==, 4.0);
  }
  {
    g_autoptr (JsonNode) ja = catena_project_to_json (recovered);
    g_autoptr (JsonNode) jb = catena_project_to_json (project);
    a = json_to_string (ja, TRUE);
    b = json_to_string (jb, TRUE);
  }
  g_assert_cmpstr (a, ==, b);
  /* this process wrote them and still runs: they are its work, not a crash's leftovers */
  for (guint i = 0; i < entries->len; i++)
    g_assert_true (((CatenaAutosaveEntry *) g_ptr_array_index (entries, i))->live);

  /* A clean save discards the autosave; a damaged autosave file is skipped, not fatal. */
  catena_autosave_discard (project);
  catena_autosave_discard (unsaved);
  g_clear_pointer (&entries, g_ptr_array_unref);
  {
    g_autofree char *junk = g_build_filename (state, "catena", "autosave", "junk.catena", NULL);
    g_assert_true (g_file_set_contents (junk, "{ not json", -1, NULL));
  }
  entries = catena_autosave_list ();
  g_assert_cmpuint (entries->len, ==, 0);
  g_unsetenv ("XDG_STATE_HOME");
  test_rm_rf (dir);
}

static void
test_asset_ids (void)
{
  g_autoptr (CatenaProject) project = make_project ();
  g_autofree char *a = catena_project_make_asset_id (project, "/photos/Blue Mug.final.jpg");
  g_autofree char *b = catena_project_make_asset_id (project, "/x/mug.png");

  g_assert_cmpstr (a, ==, "Blue-Mug-final");
  g_assert_cmpstr (b, ==, "mug-2");
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  catena_engine_init ();

  g_test_add_func ("/project/round-trip", test_round_trip);
  g_test_add_func ("/project/malformed", test_malformed);
  g_test_add_func ("/project/missing-file", test_missing_file);
  g_test_add_func ("/project/atomic-save", test_atomic_save);
  g_test_add_func ("/project/chain-file", test_chain_file);
  g_test_add_func ("/project/asset-ids", test_asset_ids);
  g_test_add_func ("/project/sections", test_sections);
  g_test_add_func ("/project/autosave", test_autosave);
  g_test_add_func ("/project/autosave-writer", test_autosave_writer);
  g_test_add_func ("/project/disk-full", test_disk_full);

  return g_test_run ();
}
