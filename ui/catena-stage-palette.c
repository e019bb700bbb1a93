/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <adwaita.h>
#include <glib/gi18n.h>

#include "catena-engine.h"
#include "catena-stage-palette.h"

struct _CatenaStagePalette
{
  GtkWidget parent_instance;

  GtkWidget *list;
  guint n_kinds;
};

G_DEFINE_FINAL_TYPE (CatenaStagePalette, catena_stage_palette, GTK_TYPE_WIDGET)

static GdkContentProvider *
on_drag_prepare (GtkDragSource *source, double x, double y, CatenaStagePalette *self)
{
  GtkWidget *row = gtk_event_controller_get_widget (GTK_EVENT_CONTROLLER (source));
  const char *kind = g_object_get_data (G_OBJECT (row), "catena-kind");
  g_autofree char *value = g_strconcat ("catena-kind:", kind, NULL);
  g_autoptr (GdkPaintable) icon = gtk_widget_paintable_new (row);

  gtk_drag_source_set_icon (source, icon, (int) x, (int) y);
  return gdk_content_provider_new_typed (G_TYPE_STRING, value);
}

static void
on_row_activated (GtkListBox *list, GtkListBoxRow *row, CatenaStagePalette *self)
{
  const char *kind = g_object_get_data (G_OBJECT (row), "catena-kind");

  gtk_widget_activate_action (GTK_WIDGET (self), "win.add-stage", "s", kind);
}

static void
populate (CatenaStagePalette *self)
{
  g_autofree GType *types = catena_stage_list_types (&self->n_kinds);

  for (guint i = 0; i < self->n_kinds; i++)
    {
      GtkWidget *row = adw_action_row_new ();
      GtkWidget *icon = gtk_image_new_from_icon_name (catena_stage_type_get_icon_name (types[i]));
      GtkWidget *add = gtk_image_new_from_icon_name ("list-add-symbolic");
      GtkDragSource *drag = gtk_drag_source_new ();
      const char *kind = catena_stage_type_get_kind (types[i]);

      adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row),
                                     catena_stage_type_get_title (types[i]));
      adw_action_row_set_subtitle (ADW_ACTION_ROW (row),
                                   catena_stage_type_get_description (types[i]));
      adw_action_row_set_subtitle_lines (ADW_ACTION_ROW (row), 2);
      adw_action_row_add_prefix (ADW_ACTION_ROW (row), icon);
      gtk_widget_add_css_class (add, "dim-label");
      adw_action_row_add_suffix (ADW_ACTION_ROW (row), add);
      gtk_list_box_row_set_activatable (GTK_LIST_BOX_ROW (row), TRUE);
      gtk_widget_set_tooltip_text (row, _("Drag into the chain, or click (or press Enter) to add "
                                          "after the selected stage"));
      g_object_set_data_full (G_OBJECT (row), "catena-kind", g_strdup (kind), g_free);
      gtk_widget_set_name (row, kind);

      gtk_drag_source_set_actions (drag, GDK_ACTION_COPY);
      g_signal_connect (drag, "prepare", G_CALLBACK (on_drag_prepare), self);
      gtk_widget_add_controller (row, GTK_EVENT_CONTROLLER (drag));

      gtk_list_box_append (GTK_LIST_BOX (self->list), row);
    }
}

static void
catena_stage_palette_dispose (GObject *object)
{
  CatenaStagePalette *self = CATENA_STAGE_PALETTE (object);

  g_clear_pointer (&self->list, gtk_widget_unparent);

  G_OBJECT_CLASS (catena_stage_palette_parent_class)->dispose (object);
}

/* Descriptions wrap instead of widening the sidebar: ask for a moderate natural width. */
#define NATURAL_WIDTH 264

static void
catena_stage_palette_measure (GtkWidget *widget,
                              GtkOrientation orientation,
                              int for_size,
                              int *minimum,
                              int *natural,
                              int *minimum_baseline,
                              int *natural_baseline)
{
  CatenaStagePalette *self = CATENA_STAGE_PALETTE (widget);

  if (orientation == GTK_ORIENTATION_VERTICAL && for_size < 0)
    {
      int min_width, nat_width;
      /* The height at the width we will ask for, not at the list's own natural width. */
      catena_stage_palette_measure (widget, GTK_ORIENTATION_HORIZONTAL, -1, &min_width,
                                    &nat_width, NULL, NULL);
      for_size = nat_width;
    }
  gtk_widget_measure (self->list, orientation, for_size, minimum, natural, minimum_baseline,
                      natural_baseline);
  if (orientation == GTK_ORIENTATION_HORIZONTAL)
    *natural = MAX (*minimum, MIN (*natural, NATURAL_WIDTH));
}

static void
catena_stage_palette_size_allocate (GtkWidget *widget, int width, int height, int baseline)
{
  gtk_widget_allocate (CATENA_STAGE_PALETTE (widget)->list, width, height, baseline, NULL);
}

static void
catena_stage_palette_class_init (CatenaStagePaletteClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = catena_stage_palette_dispose;
  widget_class->measure = catena_stage_palette_measure;
  widget_class->size_allocate = catena_stage_palette_size_allocate;
  gtk_widget_class_set_css_name (widget_class, "stagepalette");
}

static void
catena_stage_palette_init (CatenaStagePalette *self)
{
  self->list = gtk_list_box_new ();
  gtk_list_box_set_selection_mode (GTK_LIST_BOX (self->list), GTK_SELECTION_NONE);
  gtk_widget_add_css_class (self->list, "boxed-list");
  gtk_widget_set_parent (self->list, GTK_WIDGET (self));
  g_signal_connect (self->list, "row-activated", G_CALLBACK (on_row_activated), self);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->list), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  _("Stages"), -1);
  populate (self);
}

GtkWidget *
catena_stage_palette_new (void)
{
  return g_object_new (CATENA_TYPE_STAGE_PALETTE, NULL);
}

guint
catena_stage_palette_get_n_kinds (CatenaStagePalette *self)
{
  g_return_val_if_fail (CATENA_IS_STAGE_PALETTE (self), 0);
  return self->n_kinds;
}
