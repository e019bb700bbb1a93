/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <gdk/x11/gdkx.h>

#include "catena-ui.h"
#include "ui-test-util.h"

/* Accessibility: every control a keyboard or a screen reader reaches has a name, and the chain
 * can be edited with the keyboard alone (real key events through the X server, via xdotool). */

#define TIMEOUT_US (60 * G_USEC_PER_SEC)

typedef struct
{
  CatenaApplication *app;
  CatenaWindow *window;
} Fixture;

static void
settle (Fixture *f)
{
  ui_test_settle_window (f->window, TIMEOUT_US);
}

static void
fixture_set_up (Fixture *f, gconstpointer data)
{
  g_autoptr (GFile) file = ui_test_project_file ();
  g_autoptr (GError) error = NULL;

  /* Registered (not run) so that its accelerator table applies, as in the app. */
  f->app = catena_application_new ();
  g_assert_true (g_application_register (G_APPLICATION (f->app), NULL, &error));
  g_assert_no_error (error);
  f->window = catena_window_new (GTK_APPLICATION (f->app));
  g_assert_true (catena_window_load (f->window, file, &error));
  g_assert_no_error (error);
  gtk_window_present (GTK_WINDOW (f->window));
  settle (f);
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
  g_clear_object (&f->app);
}

/* A name comes from the label property or a labelled-by relation. */
static gboolean
has_name (GtkWidget *widget)
{
  GtkAccessible *accessible = GTK_ACCESSIBLE (widget);

  if (gtk_test_accessible_has_relation (accessible, GTK_ACCESSIBLE_RELATION_LABELLED_BY))
    return TRUE;
  if (gtk_test_accessible_has_property (accessible, GTK_ACCESSIBLE_PROPERTY_LABEL))
    {
      g_autofree char *empty = gtk_test_accessible_check_property (
        accessible, GTK_ACCESSIBLE_PROPERTY_LABEL, "");
      return empty != NULL; /* not equal to "" */
    }
  return FALSE;
}

/* Parts of a composite control that take the focus for it (the text of a spin button or an
 * entry row) are named by that control. */
static gboolean
named_by_ancestor (GtkWidget *widget)
{
  GtkWidget *parent = widget;

  /* the text of an entry, the shown item of a combo row */
  if (!GTK_IS_TEXT (widget) && !g_str_equal (G_OBJECT_TYPE_NAME (widget), "GtkListItemWidget"))
    return FALSE;
  for (int depth = 0; depth < 8 && (parent = gtk_widget_get_parent (parent)); depth++)
    if ((GTK_IS_EDITABLE (parent) || ADW_IS_PREFERENCES_ROW (parent) ||
         GTK_IS_DROP_DOWN (parent)) &&
        has_name (parent))
      return TRUE;
  return FALSE;
}

/* Reached by the keyboard (every ancestor lets the focus in) or by the pointer (an
 * actionable widget nothing above makes untargetable). */
static gboolean
is_control (GtkWidget *widget, gboolean focus_reachable, gboolean targetable)
{
  if (!gtk_widget_get_mapped (widget))
    return FALSE;
  if (GTK_IS_ACTIONABLE (widget) && targetable)
    return TRUE;
  return focus_reachable && gtk_widget_get_focusable (widget) &&
         gtk_widget_get_can_focus (widget) && gtk_widget_get_sensitive (widget);
}

static void
collect_unnamed (GtkWidget *widget,
                 gboolean focus_reachable,
                 gboolean targetable,
                 GString *unnamed,
                 guint *n_controls)
{
  focus_reachable = focus_reachable && gtk_widget_get_can_focus (widget);
  targetable = targetable && gtk_widget_get_can_target (widget);
  if (is_control (widget, focus_reachable, targetable))
    {
      (*n_controls)++;
      if (!has_name (widget) && !named_by_ancestor (widget))
        {
          const char *tooltip = gtk_widget_get_tooltip_text (widget);
          GtkWidget *parent = gtk_widget_get_parent (widget);
          g_string_append_printf (unnamed, "\n  %s (in %s) “%s”", G_OBJECT_TYPE_NAME (widget),
                                  parent ? G_OBJECT_TYPE_NAME (parent) : "-",
                                  tooltip ? tooltip : "");
        }
    }
  for (GtkWidget *child = gtk_widget_get_first_child (widget); child;
       child = gtk_widget_get_next_sibling (child))
    collect_unnamed (child, focus_reachable, targetable, unnamed, n_controls);
}

static void
assert_all_named (GtkWidget *root, guint min_controls)
{
  g_autoptr (GString) unnamed = g_string_new (NULL);
  guint n_controls = 0;

  collect_unnamed (root, TRUE, TRUE, unnamed, &n_controls);
  g_test_message ("%s: %u controls", G_OBJECT_TYPE_NAME (root), n_controls);
  if (unnamed->len > 0)
    g_error ("controls without an accessible name in %s:%s", G_OBJECT_TYPE_NAME (root),
             unnamed->str);
  g_assert_cmpuint (n_controls, >=, min_controls);
}

static void
test_every_control_named (Fixture *f, gconstpointer data)
{
  CatenaChain *chain = catena_project_get_chain (catena_window_get_project (f->window));
  GtkWidget *prefs;

  /* each kind of stage in the inspector, so every kind of editor is walked */
  for (guint i = 0; i < catena_chain_get_n_stages (chain); i++)
    {
      catena_chain_view_set_selected (catena_window_get_chain_view (f->window), i);
      settle (f);
      assert_all_named (GTK_WIDGET (f->window), 20);
    }
  catena_chain_view_set_selected (catena_window_get_chain_view (f->window), 0);
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (f->window), "win.add-stage", "s",
                                             "generate"));
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (f->window), "win.add-stage", "s",
                                             "style"));
  for (guint i = 1; i < 3; i++)
    {
      catena_chain_view_set_selected (catena_window_get_chain_view (f->window), i);
      settle (f);
      assert_all_named (GTK_WIDGET (f->window), 20);
    }

  prefs = catena_preferences_window_new (GTK_WINDOW (f->window), NULL);
  gtk_window_present (GTK_WINDOW (prefs));
  while (!gtk_widget_get_mapped (prefs) ||
         catena_preferences_window_is_busy (CATENA_PREFERENCES_WINDOW (prefs)))
    g_main_context_iteration (NULL, TRUE);
  assert_all_named (prefs, 6);
  adw_preferences_window_set_visible_page_name (ADW_PREFERENCES_WINDOW (prefs), "general");
  for (int i = 0; i < 20; i++)
    g_main_context_iteration (NULL, FALSE);
  assert_all_named (prefs, 3);
  gtk_window_destroy (GTK_WINDOW (prefs));
}

/* Keys */

static gboolean
xdotool (Fixture *f, const char *keys)
{
  GdkSurface *surface = gtk_native_get_surface (GTK_NATIVE (f->window));
  g_autofree char *cmd = g_strdup_printf ("xdotool windowfocus --sync %lu key --clearmodifiers %s",
                                          (gulong) gdk_x11_surface_get_xid (surface), keys);
  g_autoptr (GError) error = NULL;
  int status = 0;

  if (!g_spawn_command_line_sync (cmd, NULL, NULL, &status, &error) ||
      !g_spawn_check_wait_status (status, NULL))
    {
      g_test_message ("xdotool failed: %s", error ? error->message : cmd);
      return FALSE;
    }
  /* the events are on their way through the X server: let GTK read them */
  for (int i = 0; i < 40; i++)
    {
      g_main_context_iteration (NULL, FALSE);
      g_usleep (2000);
    }
  return TRUE;
}

static void
assert_kinds (CatenaChain *chain, const char *expected)
{
  g_autofree char *kinds = ui_test_chain_kinds (chain);
  g_assert_cmpstr (kinds, ==, expected);
}

static GtkWidget *
focus_of (Fixture *f)
{
  return gtk_root_get_focus (GTK_ROOT (f->window));
}

static void
test_keyboard_only (Fixture *f, gconstpointer data)
{
  CatenaChainView *view = catena_window_get_chain_view (f->window);
  CatenaChain *chain = catena_project_get_chain (catena_window_get_project (f->window));
  GtkWidget *focus;
  int steps;

  if (!GDK_IS_X11_DISPLAY (gdk_display_get_default ()) ||
      !g_find_program_in_path ("xdotool"))
    {
      g_test_skip ("needs X11 and xdotool (apt-get install xdotool)");
      return;
    }
  assert_kinds (chain, "import,upscale,recolor,export");

  /* Tab until a stage card has the focus: focusing a card selects it. */
  for (steps = 0; steps < 80; steps++)
    {
      focus = focus_of (f);
      if (focus && CATENA_IS_STAGE_CARD (focus))
        break;
      g_assert_true (xdotool (f, "Tab"));
    }
  g_assert_true (focus && CATENA_IS_STAGE_CARD (focus));
  g_test_message ("a card after %d Tab presses", steps);
  g_assert_true (catena_stage_card_get_stage (CATENA_STAGE_CARD (focus)) ==
                 catena_chain_get_stage (chain, catena_chain_view_get_selected (view)));

  /* arrows walk the cards; the focused card is the selected one */
  while (catena_chain_view_get_selected (view) > 1)
    g_assert_true (xdotool (f, "Left"));
  while (catena_chain_view_get_selected (view) < 1)
    g_assert_true (xdotool (f, "Right"));
  g_assert_cmpuint (catena_chain_view_get_selected (view), ==, 1);

  /* Ctrl+Right moves the upscale card right; the focus stays on it */
  g_assert_true (xdotool (f, "ctrl+Right"));
  assert_kinds (chain, "import,recolor,upscale,export");
  g_assert_cmpuint (catena_chain_view_get_selected (view), ==, 2);
  g_assert_true (CATENA_IS_STAGE_CARD (focus_of (f)));
  g_assert_true (xdotool (f, "ctrl+Left"));
  assert_kinds (chain, "import,upscale,recolor,export");

  /* Delete removes it; Ctrl+Z (the application's accelerator) brings it back */
  g_assert_true (xdotool (f, "Delete"));
  assert_kinds (chain, "import,recolor,export");
  g_assert_true (xdotool (f, "ctrl+z"));
  assert_kinds (chain, "import,upscale,recolor,export");
  settle (f);

  /* Select the recolor card, then Tab back into the palette and add an upscale after it */
  catena_chain_view_set_selected (view, 2);
  for (steps = 0; steps < 120; steps++)
    {
      focus = focus_of (f);
      if (focus && gtk_widget_get_ancestor (focus, CATENA_TYPE_STAGE_PALETTE) &&
          GTK_IS_LIST_BOX_ROW (focus))
        break;
      g_assert_true (xdotool (f, "shift+Tab"));
    }
  g_assert_true (focus && GTK_IS_LIST_BOX_ROW (focus));
  for (steps = 0; steps < 20 && g_strcmp0 (gtk_widget_get_name (focus_of (f)), "upscale"); steps++)
    g_assert_true (xdotool (f, "Down"));
  for (steps = 0; steps < 20 && g_strcmp0 (gtk_widget_get_name (focus_of (f)), "upscale"); steps++)
    g_assert_true (xdotool (f, "Up"));
  g_assert_cmpstr (gtk_widget_get_name (focus_of (f)), ==, "upscale");
  g_assert_cmpuint (catena_chain_view_get_selected (view), ==, 2);
  g_assert_true (xdotool (f, "Return"));
  assert_kinds (chain, "import,upscale,recolor,upscale,export");
  g_assert_cmpuint (catena_chain_view_get_selected (view), ==, 3);

  /* and everything undone from the keyboard */
  g_assert_true (xdotool (f, "ctrl+z"));
  assert_kinds (chain, "import,upscale,recolor,export");
  settle (f);
}

int
main (int argc, char *argv[])
{
  /* CI has no keyring: the key rows take the path that says so */
  g_setenv ("CATENA_NO_SECRET_SERVICE", "1", TRUE);
  /* GTK's test accessibility backend keeps every property and needs no bus (with "none"
   * there is nothing to read back). */
  g_setenv ("GTK_A11Y", "test", TRUE);
  gtk_init ();
  catena_ui_init ();
  catena_ui_load_style ();
  g_test_init (&argc, &argv, NULL);

#define ADD(name, func) g_test_add (name, Fixture, NULL, fixture_set_up, func, fixture_tear_down)
  ADD ("/ui/a11y/every-control-named", test_every_control_named);
  ADD ("/ui/a11y/keyboard-only", test_keyboard_only);
#undef ADD

  return g_test_run ();
}
