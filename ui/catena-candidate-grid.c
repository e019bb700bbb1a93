/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <glib/gi18n.h>

#include "catena-candidate-grid.h"

#define THUMB_SIZE 88

struct _CatenaCandidateGrid
{
  GtkWidget parent_instance;

  GtkWidget *flowbox;
  guint n;
  guint pick;
};

G_DEFINE_FINAL_TYPE (CatenaCandidateGrid, catena_candidate_grid, GTK_TYPE_WIDGET)

GtkWidget *
catena_candidate_grid_get_child (CatenaCandidateGrid *self, guint index)
{
  g_return_val_if_fail (CATENA_IS_CANDIDATE_GRID (self), NULL);
  return GTK_WIDGET (gtk_flow_box_get_child_at_index (GTK_FLOW_BOX (self->flowbox), index));
}

static GtkWidget *
picture_of (CatenaCandidateGrid *self, guint index)
{
  GtkWidget *child = catena_candidate_grid_get_child (self, index);

  if (child == NULL)
    return NULL;
  /* child → overlay → picture */
  return gtk_overlay_get_child (GTK_OVERLAY (gtk_flow_box_child_get_child (
    GTK_FLOW_BOX_CHILD (child))));
}

static void
update_labels (CatenaCandidateGrid *self)
{
  for (guint i = 0; i < self->n; i++)
    {
      GtkWidget *child = catena_candidate_grid_get_child (self, i);
      GtkWidget *check = g_object_get_data (G_OBJECT (child), "catena-check");
      g_autofree char *label = NULL;

      if (i == self->pick)
        /* Translators: an image from a generate stage; %u counts from 1 */
        label = g_strdup_printf (_("Candidate %u, picked"), i + 1);
      else
        label = g_strdup_printf (_("Candidate %u"), i + 1);
      gtk_accessible_update_property (GTK_ACCESSIBLE (child), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                      label, -1);
      gtk_widget_set_tooltip_text (child, label);
      gtk_widget_set_visible (check, i == self->pick);
      if (i == self->pick)
        {
          gtk_widget_add_css_class (child, "picked");
          gtk_flow_box_select_child (GTK_FLOW_BOX (self->flowbox), GTK_FLOW_BOX_CHILD (child));
        }
      else
        gtk_widget_remove_css_class (child, "picked");
    }
}

static void
on_child_activated (GtkFlowBox *box, GtkFlowBoxChild *child, CatenaCandidateGrid *self)
{
  guint index = (guint) gtk_flow_box_child_get_index (child);

  gtk_widget_activate_action (GTK_WIDGET (self), "win.pick-candidate", "u", index);
}

void
catena_candidate_grid_set_n (CatenaCandidateGrid *self, guint n)
{
  g_return_if_fail (CATENA_IS_CANDIDATE_GRID (self));

  if (n == self->n)
    return;
  while (self->n > n)
    gtk_flow_box_remove (GTK_FLOW_BOX (self->flowbox),
                         catena_candidate_grid_get_child (self, --self->n));
  while (self->n < n)
    {
      GtkWidget *overlay = gtk_overlay_new ();
      GtkWidget *picture = gtk_picture_new ();
      GtkWidget *check = gtk_image_new_from_icon_name ("object-select-symbolic");
      GtkWidget *child = gtk_flow_box_child_new ();

      gtk_widget_set_size_request (picture, THUMB_SIZE, THUMB_SIZE);
      gtk_picture_set_can_shrink (GTK_PICTURE (picture), TRUE);
      gtk_picture_set_content_fit (GTK_PICTURE (picture), GTK_CONTENT_FIT_CONTAIN);
      gtk_widget_add_css_class (picture, "thumbnail");
      gtk_overlay_set_child (GTK_OVERLAY (overlay), picture);
      gtk_widget_set_halign (check, GTK_ALIGN_END);
      gtk_widget_set_valign (check, GTK_ALIGN_START);
      gtk_widget_set_margin_top (check, 4);
      gtk_widget_set_margin_end (check, 4);
      gtk_widget_add_css_class (check, "osd");
      gtk_widget_add_css_class (check, "picked-check");
      gtk_overlay_add_overlay (GTK_OVERLAY (overlay), check);
      gtk_flow_box_child_set_child (GTK_FLOW_BOX_CHILD (child), overlay);
      g_object_set_data (G_OBJECT (child), "catena-check", check);
      gtk_flow_box_append (GTK_FLOW_BOX (self->flowbox), child);
      self->n++;
    }
  update_labels (self);
}

guint
catena_candidate_grid_get_n (CatenaCandidateGrid *self)
{
  g_return_val_if_fail (CATENA_IS_CANDIDATE_GRID (self), 0);
  return self->n;
}

void
catena_candidate_grid_set_pick (CatenaCandidateGrid *self, guint pick)
{
  g_return_if_fail (CATENA_IS_CANDIDATE_GRID (self));

  self->pick = pick;
  update_labels (self);
}

void
catena_candidate_grid_set_thumbnail (CatenaCandidateGrid *self, guint index, GdkTexture *texture)
{
  GtkWidget *picture;

  g_return_if_fail (CATENA_IS_CANDIDATE_GRID (self));

  if ((picture = picture_of (self, index)))
    gtk_picture_set_paintable (GTK_PICTURE (picture), GDK_PAINTABLE (texture));
}

GdkTexture *
catena_candidate_grid_get_thumbnail (CatenaCandidateGrid *self, guint index)
{
  GtkWidget *picture;

  g_return_val_if_fail (CATENA_IS_CANDIDATE_GRID (self), NULL);

  picture = picture_of (self, index);
  return picture ? GDK_TEXTURE (gtk_picture_get_paintable (GTK_PICTURE (picture))) : NULL;
}

static void
catena_candidate_grid_dispose (GObject *object)
{
  CatenaCandidateGrid *self = CATENA_CANDIDATE_GRID (object);

  g_clear_pointer (&self->flowbox, gtk_widget_unparent);

  G_OBJECT_CLASS (catena_candidate_grid_parent_class)->dispose (object);
}

static void
catena_candidate_grid_class_init (CatenaCandidateGridClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = catena_candidate_grid_dispose;
  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BIN_LAYOUT);
  gtk_widget_class_set_css_name (widget_class, "candidategrid");
}

static void
catena_candidate_grid_init (CatenaCandidateGrid *self)
{
  self->flowbox = gtk_flow_box_new ();
  gtk_flow_box_set_selection_mode (GTK_FLOW_BOX (self->flowbox), GTK_SELECTION_SINGLE);
  gtk_flow_box_set_activate_on_single_click (GTK_FLOW_BOX (self->flowbox), TRUE);
  gtk_flow_box_set_max_children_per_line (GTK_FLOW_BOX (self->flowbox), 4);
  gtk_flow_box_set_min_children_per_line (GTK_FLOW_BOX (self->flowbox), 2);
  gtk_flow_box_set_homogeneous (GTK_FLOW_BOX (self->flowbox), TRUE);
  gtk_flow_box_set_row_spacing (GTK_FLOW_BOX (self->flowbox), 6);
  gtk_flow_box_set_column_spacing (GTK_FLOW_BOX (self->flowbox), 6);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->flowbox), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  _("Candidates"), -1);
  g_signal_connect (self->flowbox, "child-activated", G_CALLBACK (on_child_activated), self);
  gtk_widget_set_parent (self->flowbox, GTK_WIDGET (self));
}

GtkWidget *
catena_candidate_grid_new (void)
{
  return g_object_new (CATENA_TYPE_CANDIDATE_GRID, NULL);
}
