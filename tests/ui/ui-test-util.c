/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include "ui-test-util.h"

gboolean
ui_test_step (gint64 end_us)
{
  if (g_get_monotonic_time () > end_us)
    return FALSE;
  g_main_context_iteration (NULL, FALSE);
  g_usleep (500);
  return TRUE;
}

void
ui_test_pump (guint ms)
{
  gint64 end = g_get_monotonic_time () + (gint64) ms * 1000;

  while (g_get_monotonic_time () < end)
    {
      g_main_context_iteration (NULL, FALSE);
      g_usleep (1000);
    }
}

void
ui_test_drain (void)
{
  while (g_main_context_iteration (NULL, FALSE))
    ;
}

static gboolean
window_idle (CatenaWindow *window)
{
  return gtk_widget_get_width (GTK_WIDGET (window)) > 0 && !catena_window_is_busy (window);
}

void
ui_test_settle_window (CatenaWindow *window, gint64 timeout_us)
{
  g_assert_true (ui_test_wait_until (window_idle (window), timeout_us));
  /* let the idle callbacks of late worker results run */
  for (int i = 0; i < 50; i++)
    g_main_context_iteration (NULL, FALSE);
  g_assert_true (ui_test_wait_until (window_idle (window), timeout_us));
}

GFile *
ui_test_project_file (void)
{
  g_autofree char *path = g_build_filename (g_getenv ("CATENA_UI_TEST_DIR"), "test.catena", NULL);

  return g_file_new_for_path (path);
}

char *
ui_test_chain_kinds (CatenaChain *chain)
{
  GString *s = g_string_new (NULL);

  for (guint i = 0; i < catena_chain_get_n_stages (chain); i++)
    g_string_append_printf (s, "%s%s", i ? "," : "",
                            catena_stage_get_kind (catena_chain_get_stage (chain, i)));
  return g_string_free (s, FALSE);
}

GtkWidget *
ui_test_find_widget (GtkWidget *root, GType type)
{
  if (G_TYPE_CHECK_INSTANCE_TYPE (root, type))
    return root;
  for (GtkWidget *child = gtk_widget_get_first_child (root); child;
       child = gtk_widget_get_next_sibling (child))
    {
      GtkWidget *found = ui_test_find_widget (child, type);

      if (found)
        return found;
    }
  return NULL;
}

GdkTexture *
ui_test_render_widget (GtkWidget *widget)
{
  int width = gtk_widget_get_width (widget), height = gtk_widget_get_height (widget);
  g_autoptr (GdkPaintable) paintable = gtk_widget_paintable_new (widget);
  GskRenderer *renderer = gtk_native_get_renderer (gtk_widget_get_native (widget));
  g_autoptr (GskRenderNode) node = NULL;

  /* The paintable has no node until the window has drawn a frame since the last change. */
  for (int i = 0; node == NULL && i < 400; i++)
    {
      GtkSnapshot *snapshot = gtk_snapshot_new ();

      if (i > 0)
        {
          g_main_context_iteration (NULL, FALSE);
          g_usleep (5000);
        }
      gdk_paintable_snapshot (paintable, snapshot, width, height);
      node = gtk_snapshot_free_to_node (snapshot);
    }
  g_assert_nonnull (node);
  return gsk_renderer_render_texture (renderer, node, &GRAPHENE_RECT_INIT (0, 0, width, height));
}
