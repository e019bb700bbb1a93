/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <glib/gstdio.h>

#include "catena-provider.h"
#include "catena-stages-remote.h"
#include "catena-ui.h"
#include "ui-test-util.h"
#include "fake-server.h"

/* Remote providers in the window, against the loopback fake of fal (tests/providers):
 * preferences, provider/model/cost in the inspector, generate candidates, the strength sweep
 * scrubbed without requests. CI has no keyring: the key rows are tested with the environment
 * override, a fake backend, and the engine's "keyring turned off" answer. */

#define TIMEOUT_US (60 * G_USEC_PER_SEC)

typedef struct
{
  FakeServer *fake;
  CatenaWindow *window;
  char *dir;
} Fixture;

static gboolean
wait_until (gboolean (*cond) (gpointer), gpointer data)
{
  return ui_test_wait_until (cond (data), TIMEOUT_US);
}

static gboolean
window_idle (gpointer data)
{
  Fixture *f = data;

  return gtk_widget_get_width (GTK_WIDGET (f->window)) > 0 &&
         !catena_window_is_busy (f->window) &&
         !catena_runner_get_running (catena_window_get_runner (f->window));
}

static void
settle (Fixture *f)
{
  g_assert_true (wait_until (window_idle, f));
  for (int i = 0; i < 50; i++)
    g_main_context_iteration (NULL, FALSE);
  g_assert_true (wait_until (window_idle, f));
}

static void
fixture_set_up (Fixture *f, gconstpointer data)
{
  const char *url;

  f->fake = fake_fal_new ();
  url = fake_server_url (f->fake);
  catena_provider_set_endpoint (catena_provider_get ("fal"), "queue", url);
  catena_provider_set_endpoint (catena_provider_get ("fal"), "rest", url);
  f->dir = g_dir_make_tmp ("catena-ui-remote-XXXXXX", NULL);
  f->window = catena_window_new (NULL);
  gtk_window_present (GTK_WINDOW (f->window));
}

static void
fixture_tear_down (Fixture *f, gconstpointer data)
{
  gpointer window = f->window;
  gint64 end = g_get_monotonic_time () + TIMEOUT_US;

  g_object_add_weak_pointer (window, &window);
  gtk_window_destroy (GTK_WINDOW (f->window));
  while (window != NULL && g_get_monotonic_time () < end)
    {
      g_main_context_iteration (NULL, FALSE);
      g_usleep (1000);
    }
  g_assert_null (window);
  fake_server_free (f->fake);
  g_rmdir (f->dir);
  g_free (f->dir);
}

/* A project with one photo (the demo's) and the given chain (JSON array). */
static void
load_chain (Fixture *f, const char *chain_json)
{
  g_autofree char *photo = g_build_filename (g_getenv ("CATENA_SOURCE_DIR"), "data", "demo",
                                             "coffee.png", NULL);
  g_autofree char *text = g_strdup_printf (
    "{\"format\": \"catena-project\", \"version\": 1, \"name\": \"Remote\", "
    "\"settings\": {\"output-dir\": \"%s\"}, \"chain\": %s, "
    "\"assets\": [{\"id\": \"cup\", \"name\": \"Cup\", \"source\": \"%s\", "
    "\"prompt\": \"a coffee cup on a table\", \"class\": \"thumbnail\"}]}",
    f->dir, chain_json, photo);
  g_autofree char *path = g_build_filename (f->dir, "remote.catena", NULL);
  g_autoptr (GFile) file = g_file_new_for_path (path);
  g_autoptr (GError) error = NULL;

  g_assert_true (g_file_set_contents (path, text, -1, NULL));
  g_assert_true (catena_window_load (f->window, file, &error));
  g_assert_no_error (error);
  g_unlink (path);
  settle (f);
}

static CatenaChain *
chain_of (Fixture *f)
{
  return catena_project_get_chain (catena_window_get_project (f->window));
}

static void
activate (Fixture *f, const char *action, GVariant *param)
{
  g_assert_true (gtk_widget_activate_action_variant (GTK_WIDGET (f->window), action, param));
}

static void
run_and_wait (Fixture *f)
{
  activate (f, "win.run", NULL);
  settle (f);
  g_test_message ("run: %s", catena_window_get_last_toast (f->window));
  g_assert_cmpstr (catena_window_get_last_toast (f->window), ==, "Run finished");
}

/* Saves what the window shows to the build dir, for people to look at. */
static void
save_screenshot (GtkWidget *widget, const char *name)
{
  int width = gtk_widget_get_width (widget), height = gtk_widget_get_height (widget);
  g_autoptr (GdkPaintable) paintable = gtk_widget_paintable_new (widget);
  g_autofree char *path = g_build_filename (g_getenv ("CATENA_UI_BUILD_DIR"), name, NULL);
  GskRenderer *renderer = gtk_native_get_renderer (gtk_widget_get_native (widget));
  g_autoptr (GskRenderNode) node = NULL;
  g_autoptr (GdkTexture) texture = NULL;

  for (int i = 0; node == NULL && i < 200; i++)
    {
      GtkSnapshot *snapshot = gtk_snapshot_new ();
      ui_test_pump (5);
      gdk_paintable_snapshot (paintable, snapshot, width, height);
      node = gtk_snapshot_free_to_node (snapshot);
    }
  g_assert_nonnull (node);
  texture = gsk_renderer_render_texture (renderer, node,
                                         &GRAPHENE_RECT_INIT (0, 0, width, height));
  g_assert_true (gdk_texture_save_to_png (texture, path));
  g_test_message ("screenshot %s", path);
}

/* Preferences */

typedef struct
{
  char *stored;
  guint n_store, n_clear, n_test;
} FakeKeyring;

static FakeKeyring keyring;

static gboolean
fake_store (const char *provider, const char *key, GCancellable *c, GError **error)
{
  g_free (keyring.stored);
  keyring.stored = g_strdup (key);
  keyring.n_store++;
  return TRUE;
}

static gboolean
fake_clear (const char *provider, GCancellable *c, GError **error)
{
  g_clear_pointer (&keyring.stored, g_free);
  keyring.n_clear++;
  return TRUE;
}

static char *
fake_lookup (const char *provider, GCancellable *c, GError **error)
{
  if (keyring.stored)
    return g_strdup (keyring.stored);
  g_set_error (error, CATENA_PROVIDER_ERROR, CATENA_PROVIDER_ERROR_MISSING_KEY, "no key");
  return NULL;
}

static void
fake_test_async (const char *provider, const char *key, GCancellable *c,
                 GAsyncReadyCallback callback, gpointer user_data)
{
  g_autoptr (GTask) task = g_task_new (NULL, c, callback, user_data);

  keyring.n_test++;
  if (g_strcmp0 (key ? key : keyring.stored, "good-key") == 0)
    g_task_return_boolean (task, TRUE);
  else
    g_task_return_new_error (task, CATENA_PROVIDER_ERROR, CATENA_PROVIDER_ERROR_UNAUTHORIZED,
                             "OpenAI refused the key");
}

static gboolean
fake_test_finish (GAsyncResult *result, GError **error)
{
  return g_task_propagate_boolean (G_TASK (result), error);
}

static const CatenaSecretsBackend fake_backend = {
  fake_store, fake_clear, fake_lookup, fake_test_async, fake_test_finish,
};

static gboolean
prefs_idle (gpointer data)
{
  return !catena_preferences_window_is_busy (data);
}

static void
apply_key (CatenaPreferencesWindow *prefs, CatenaApiKeyGroup *group, const char *key)
{
  GtkWidget *entry = catena_api_key_group_get_entry (group);

  gtk_editable_set_text (GTK_EDITABLE (entry), key);
  g_signal_emit_by_name (entry, "apply");
  g_assert_true (wait_until (prefs_idle, prefs));
}

static void
test_preferences (Fixture *f, gconstpointer data)
{
  g_autoptr (GSettings) settings = catena_ui_dup_settings ();
  CatenaPreferencesWindow *prefs;
  CatenaApiKeyGroup *fal, *openai;
  GtkWidget *row;
  g_autofree char *endpoint = NULL;

  g_assert_nonnull (settings); /* GSETTINGS_SCHEMA_DIR points at the build's data/ */
  catena_ui_watch_settings (settings);
  catena_api_key_group_set_backend (&fake_backend);
  prefs = CATENA_PREFERENCES_WINDOW (catena_preferences_window_new (GTK_WINDOW (f->window),
                                                                    settings));
  gtk_window_present (GTK_WINDOW (prefs));
  g_assert_true (wait_until (prefs_idle, prefs));

  /* FAL_KEY is set: the environment wins and the row says so */
  fal = catena_preferences_window_get_key_group (prefs, "fal");
  g_assert_nonnull (fal);
  g_assert_cmpint (catena_api_key_group_get_state (fal), ==, CATENA_KEY_STATE_ENVIRONMENT);
  g_assert_nonnull (strstr (catena_api_key_group_get_status (fal), "FAL_KEY"));
  g_assert_null (strstr (catena_api_key_group_get_status (fal), FAKE_KEY));

  /* OpenAI: none, then saved (the entry empties, the key is shown nowhere), tested, forgotten */
  openai = catena_preferences_window_get_key_group (prefs, "openai");
  g_assert_cmpint (catena_api_key_group_get_state (openai), ==, CATENA_KEY_STATE_NONE);
  g_assert_false (gtk_widget_get_sensitive (catena_api_key_group_get_forget_button (openai)));
  g_assert_true (ADW_IS_PASSWORD_ENTRY_ROW (catena_api_key_group_get_entry (openai)));
  apply_key (prefs, openai, "  bad-key ");
  g_assert_cmpstr (keyring.stored, ==, "bad-key");
  g_assert_cmpint (catena_api_key_group_get_state (openai), ==, CATENA_KEY_STATE_STORED);
  g_assert_cmpstr (gtk_editable_get_text (GTK_EDITABLE (catena_api_key_group_get_entry (openai))),
                   ==, "");
  g_assert_null (strstr (catena_api_key_group_get_status (openai), "bad-key"));
  g_signal_emit_by_name (catena_api_key_group_get_test_button (openai), "clicked");
  g_assert_true (wait_until (prefs_idle, prefs));
  g_test_message ("test: %s", catena_api_key_group_get_status (openai));
  g_assert_nonnull (strstr (catena_api_key_group_get_status (openai), "refused"));
  apply_key (prefs, openai, "good-key");
  g_signal_emit_by_name (catena_api_key_group_get_test_button (openai), "clicked");
  g_assert_true (wait_until (prefs_idle, prefs));
  g_assert_nonnull (strstr (catena_api_key_group_get_status (openai), "works"));
  g_signal_emit_by_name (catena_api_key_group_get_forget_button (openai), "clicked");
  g_assert_true (wait_until (prefs_idle, prefs));
  g_assert_null (keyring.stored);
  g_assert_cmpint (catena_api_key_group_get_state (openai), ==, CATENA_KEY_STATE_NONE);
  g_assert_cmpuint (keyring.n_store, ==, 2);
  g_assert_cmpuint (keyring.n_test, ==, 2);
  ui_test_pump (300);
  save_screenshot (GTK_WIDGET (prefs), "remote-preferences.png");
  gtk_window_destroy (GTK_WINDOW (prefs));

  /* the engine's own backend with the keyring off (as on CI): a sentence, the key kept */
  catena_api_key_group_set_backend (NULL);
  prefs = CATENA_PREFERENCES_WINDOW (catena_preferences_window_new (GTK_WINDOW (f->window),
                                                                    settings));
  gtk_window_present (GTK_WINDOW (prefs));
  g_assert_true (wait_until (prefs_idle, prefs));
  openai = catena_preferences_window_get_key_group (prefs, "openai");
  apply_key (prefs, openai, "sk-typed");
  g_test_message ("%s", catena_api_key_group_get_status (openai));
  g_assert_nonnull (strstr (catena_api_key_group_get_status (openai), "not saved"));
  g_assert_null (strstr (catena_api_key_group_get_status (openai), "sk-typed"));
  g_assert_cmpstr (gtk_editable_get_text (GTK_EDITABLE (catena_api_key_group_get_entry (openai))),
                   ==, "sk-typed");

  /* ComfyUI: a bad address is refused; a good one is saved and used by the provider */
  row = catena_preferences_window_get_comfyui_row (prefs);
  gtk_editable_set_text (GTK_EDITABLE (row), "ftp://example.org");
  g_signal_emit_by_name (row, "apply");
  g_assert_true (gtk_widget_has_css_class (row, "error"));
  g_assert_cmpstr (g_settings_get_string (settings, "comfyui-url"), ==, "http://127.0.0.1:8188");
  gtk_editable_set_text (GTK_EDITABLE (row), "http://127.0.0.1:9/");
  g_signal_emit_by_name (row, "apply");
  g_assert_false (gtk_widget_has_css_class (row, "error"));
  g_assert_cmpstr (g_settings_get_string (settings, "comfyui-url"), ==, "http://127.0.0.1:9");
  endpoint = catena_provider_dup_endpoint (catena_provider_get ("comfyui"), "base");
  g_assert_cmpstr (endpoint, ==, "http://127.0.0.1:9");
  g_settings_reset (settings, "comfyui-url");
  gtk_window_destroy (GTK_WINDOW (prefs));
}

/* Provider, model and cost in the inspector */

static const char *generate_chain =
  "[{\"kind\": \"generate\", \"id\": \"generate\", \"provider\": \"fal\", "
  "\"params\": {\"width\": 48, \"height\": 32, \"candidates\": 3, \"seed\": 7}}]";

static void
test_routing_and_cost (Fixture *f, gconstpointer data)
{
  CatenaChain *chain;
  CatenaStage *stage;
  CatenaRoutingGroup *routing;
  CatenaHistory *history;
  GtkWidget *provider_row, *model_row;
  GListModel *providers;
  guint openai = G_MAXUINT;

  load_chain (f, generate_chain);
  chain = chain_of (f);
  stage = catena_chain_get_stage (chain, 0);
  history = catena_window_get_history (f->window);
  routing = catena_inspector_get_routing (catena_window_get_inspector (f->window));
  provider_row = catena_routing_group_get_provider_row (routing);
  model_row = catena_routing_group_get_model_row (routing);

  /* only providers that can generate */
  providers = adw_combo_row_get_model (ADW_COMBO_ROW (provider_row));
  for (guint i = 0; i < g_list_model_get_n_items (providers); i++)
    {
      const char *title = gtk_string_list_get_string (GTK_STRING_LIST (providers), i);
      g_assert_cmpstr (title, !=, "local");
      if (g_str_equal (title, "OpenAI"))
        openai = i;
    }
  g_assert_cmpuint (openai, !=, G_MAXUINT);
  g_test_message ("cost: %s", catena_routing_group_get_cost (routing));
  g_assert_nonnull (strstr (catena_routing_group_get_cost (routing), "US$"));

  /* a model from the list, then another provider: each one undo step */
  g_assert_cmpuint (g_list_model_get_n_items (adw_combo_row_get_model (ADW_COMBO_ROW (
                      model_row))),
                    >=, 2);
  adw_combo_row_set_selected (ADW_COMBO_ROW (model_row), 1);
  g_assert_cmpstr (catena_stage_get_model (stage), !=, "");
  adw_combo_row_set_selected (ADW_COMBO_ROW (provider_row), openai);
  g_assert_cmpstr (catena_stage_get_provider (stage), ==, "openai");
  g_assert_cmpstr (catena_stage_get_model (stage), ==, "");
  g_assert_cmpuint (catena_history_get_n_undo (history), ==, 2);
  settle (f);
  activate (f, "win.undo", NULL);
  g_assert_cmpstr (catena_stage_get_provider (stage), ==, "fal");
  g_assert_cmpstr (catena_stage_get_model (stage), !=, "");
  /* the rows follow the model */
  g_assert_cmpstr (gtk_string_list_get_string (
                     GTK_STRING_LIST (adw_combo_row_get_model (ADW_COMBO_ROW (provider_row))),
                     adw_combo_row_get_selected (ADW_COMBO_ROW (provider_row))),
                   ==, "fal");
  activate (f, "win.undo", NULL);
  g_assert_cmpstr (catena_stage_get_model (stage), ==, "");
  settle (f);
}

/* Candidates */

static void
test_candidates (Fixture *f, gconstpointer data)
{
  CatenaInspector *inspector = catena_window_get_inspector (f->window);
  CatenaCandidateGrid *grid = catena_inspector_get_candidate_grid (inspector);
  CatenaChainView *view = catena_window_get_chain_view (f->window);
  CatenaStage *stage;
  guint pick;

  load_chain (f, generate_chain);
  stage = catena_chain_get_stage (chain_of (f), 0);
  g_assert_cmpuint (catena_candidate_grid_get_n (grid), ==, 0);
  run_and_wait (f);
  g_assert_cmpint (fake_server_count (f->fake, "submit"), ==, 1);

  /* all three, with thumbnails from the cache */
  g_assert_cmpuint (catena_candidate_grid_get_n (grid), ==, 3);
  for (guint i = 0; i < 3; i++)
    g_assert_nonnull (catena_candidate_grid_get_thumbnail (grid, i));
  save_screenshot (GTK_WIDGET (f->window), "remote-candidates.png");

  /* clicking (activating) the third picks it: no request, the card stays ready */
  gtk_widget_activate (catena_candidate_grid_get_child (grid, 2));
  g_object_get (stage, "pick", &pick, NULL);
  g_assert_cmpuint (pick, ==, 2);
  settle (f);
  g_assert_cmpint (fake_server_count (f->fake, "submit"), ==, 1);
  g_assert_cmpint (catena_stage_card_get_state (catena_chain_view_get_card (view, 0)), ==,
                   CATENA_CARD_READY);
  g_assert_true (catena_stage_card_get_thumbnail (catena_chain_view_get_card (view, 0)) ==
                 catena_candidate_grid_get_thumbnail (grid, 2));

  /* undoable like any parameter */
  activate (f, "win.undo", NULL);
  g_object_get (stage, "pick", &pick, NULL);
  g_assert_cmpuint (pick, ==, 0);
  activate (f, "win.pick-candidate", g_variant_new_uint32 (1));
  g_object_get (stage, "pick", &pick, NULL);
  g_assert_cmpuint (pick, ==, 1);

  /* a run with the new pick is served from the candidates */
  run_and_wait (f);
  g_assert_cmpint (fake_server_count (f->fake, "submit"), ==, 1);
}

/* The strength sweep */

static GtkWidget *
find_message_dialog (void)
{
  GListModel *toplevels = gtk_window_get_toplevels ();

  for (guint i = 0; i < g_list_model_get_n_items (toplevels); i++)
    {
      g_autoptr (GtkWidget) w = g_list_model_get_item (toplevels, i);
      if (ADW_IS_MESSAGE_DIALOG (w) && gtk_widget_get_visible (w))
        return w;
    }
  return NULL;
}

static gboolean
has_dialog (gpointer data)
{
  return find_message_dialog () != NULL;
}

static gboolean
running (gpointer data)
{
  Fixture *f = data;
  return catena_runner_get_running (catena_window_get_runner (f->window));
}

static void
test_strength_sweep (Fixture *f, gconstpointer data)
{
  CatenaInspector *inspector = catena_window_get_inspector (f->window);
  CatenaChainView *view = catena_window_get_chain_view (f->window);
  CatenaPreviewRenderer *renderer = catena_window_get_renderer (f->window);
  CatenaStage *stage;
  GtkWidget *dialog, *slider;
  guint n_sharp_before, n_sharp;

  load_chain (f, "[{\"kind\": \"import\", \"id\": \"import\"}, "
                 "{\"kind\": \"style\", \"id\": \"style\", \"provider\": \"fal\", "
                 "\"params\": {\"lora\": \"https://example.org/brand.safetensors\"}}]");
  stage = catena_chain_get_stage (chain_of (f), 1);
  catena_chain_view_set_selected (view, 1);
  run_and_wait (f); /* strength 0.75: one render */
  g_assert_cmpint (fake_server_count (f->fake, "submit"), ==, 1);

  /* the sweep asks first, with the cost of the three missing strengths */
  activate (f, "win.render-sweep", NULL);
  g_assert_true (wait_until (has_dialog, NULL));
  dialog = find_message_dialog ();
  g_test_message ("%s", adw_message_dialog_get_body (ADW_MESSAGE_DIALOG (dialog)));
  g_assert_nonnull (strstr (adw_message_dialog_get_body (ADW_MESSAGE_DIALOG (dialog)), "3 times"));
  g_assert_cmpint (fake_server_count (f->fake, "submit"), ==, 1);
  adw_message_dialog_response (ADW_MESSAGE_DIALOG (dialog), "render");
  settle (f);
  g_assert_cmpint (fake_server_count (f->fake, "submit"), ==, 4);

  /* scrubbing blends neighbouring renders: frames, no request, no run */
  slider = catena_inspector_get_editor (inspector, "strength");
  g_assert_true (GTK_IS_SCALE (slider));
  catena_preview_renderer_get_counts (renderer, NULL, &n_sharp_before, NULL);
  for (int i = 0; i < 10; i++)
    {
      gtk_range_set_value (GTK_RANGE (slider), 0.3 + i * 0.03);
      g_assert_true (catena_window_is_blending (f->window));
      ui_test_pump (20);
    }
  g_assert_false (catena_runner_get_running (catena_window_get_runner (f->window)));
  g_assert_cmpint (fake_server_count (f->fake, "submit"), ==, 4);
  catena_preview_renderer_get_counts (renderer, NULL, &n_sharp, NULL);
  g_assert_cmpuint (n_sharp, >, n_sharp_before);
  g_test_message ("%u blended frames", n_sharp - n_sharp_before);
  save_screenshot (GTK_WIDGET (f->window), "remote-sweep.png");

  /* let go (the keyboard pause here): the exact strength renders once, through a run */
  g_assert_true (wait_until (running, f));
  settle (f);
  g_assert_cmpint (fake_server_count (f->fake, "submit"), ==, 5);
  g_assert_false (catena_window_is_blending (f->window));
  g_assert_cmpint (catena_stage_card_get_state (catena_chain_view_get_card (view, 1)), ==,
                   CATENA_CARD_READY);

  /* letting go on a sweep strength is a cache hit: the exact render is there at once */
  gtk_range_set_value (GTK_RANGE (slider), 0.5);
  g_assert_true (wait_until (running, f));
  settle (f);
  g_assert_cmpint (fake_server_count (f->fake, "submit"), ==, 5);
  g_assert_false (catena_window_is_blending (f->window));

  /* another parameter invalidates the sweep: no blend, and letting go runs nothing */
  g_object_set (stage, "denoise", 0.5, NULL);
  settle (f);
  gtk_range_set_value (GTK_RANGE (slider), 0.4);
  g_assert_false (catena_window_is_blending (f->window));
  ui_test_pump (900);
  g_assert_false (catena_runner_get_running (catena_window_get_runner (f->window)));
  settle (f);
  g_assert_cmpint (fake_server_count (f->fake, "submit"), ==, 5);
}

int
main (int argc, char *argv[])
{
  /* the fake accepts this key; the keyring is off, as on CI */
  g_setenv ("FAL_KEY", FAKE_KEY, TRUE);
  g_unsetenv ("OPENAI_API_KEY");
  g_setenv ("CATENA_NO_SECRET_SERVICE", "1", TRUE);
  gtk_init ();
  catena_ui_init ();
  catena_ui_load_style ();
  g_test_init (&argc, &argv, NULL);
  catena_providers_set_retry_base_ms (10);
  catena_providers_set_poll_interval_ms (20);
  g_assert_true (catena_cache_clear (catena_cache_get_default (), NULL));

#define ADD(name, func) g_test_add (name, Fixture, NULL, fixture_set_up, func, fixture_tear_down)
  ADD ("/ui/remote/preferences", test_preferences);
  ADD ("/ui/remote/routing-and-cost", test_routing_and_cost);
  ADD ("/ui/remote/candidates", test_candidates);
  ADD ("/ui/remote/strength-sweep", test_strength_sweep);
#undef ADD

  return g_test_run ();
}
