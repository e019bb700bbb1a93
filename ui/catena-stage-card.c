/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <glib/gi18n.h>

#include "catena-stage-card.h"

struct _CatenaStageCard
{
  GtkWidget parent_instance;

  CatenaStage *stage;
  CatenaCardState state;
  char *message;
  char *key;
  GdkTexture *thumbnail;

  GtkWidget *box;
  GtkPicture *picture;
  GtkLabel *badge;
  GtkImage *placeholder;
  GtkWidget *remove_button;
  GtkProgressBar *progress;
  GtkImage *icon;
  GtkLabel *title;
  GtkLabel *subtitle;
};

G_DEFINE_FINAL_TYPE (CatenaStageCard, catena_stage_card, GTK_TYPE_WIDGET)

enum {
  REMOVE,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static void
on_remove_clicked (CatenaStageCard *self)
{
  g_signal_emit (self, signals[REMOVE], 0);
}

static void
update_labels (CatenaStageCard *self)
{
  const char *provider = catena_stage_get_provider (self->stage);
  const char *model = catena_stage_get_model (self->stage);
  g_autofree char *routing = NULL;
  const char *badge = NULL;
  const char *subtitle;

  routing = model && *model ? g_strdup_printf ("%s · %s", provider, model) : g_strdup (provider);
  subtitle = routing;

  gtk_widget_remove_css_class (GTK_WIDGET (self), "stale");
  gtk_widget_remove_css_class (GTK_WIDGET (self), "failed");
  gtk_widget_remove_css_class (GTK_WIDGET (self), "running");
  gtk_widget_remove_css_class (GTK_WIDGET (self->badge), "error");
  gtk_widget_remove_css_class (GTK_WIDGET (self->badge), "warning");

  switch (self->state)
    {
    case CATENA_CARD_STALE:
      badge = _("Stale");
      gtk_widget_add_css_class (GTK_WIDGET (self), "stale");
      gtk_widget_add_css_class (GTK_WIDGET (self->badge), "warning");
      subtitle = self->message ? self->message : _("Needs a run");
      break;
    case CATENA_CARD_FAILED:
      badge = _("Failed");
      gtk_widget_add_css_class (GTK_WIDGET (self), "failed");
      gtk_widget_add_css_class (GTK_WIDGET (self->badge), "error");
      subtitle = self->message ? self->message : _("Failed");
      break;
    case CATENA_CARD_RUNNING:
      badge = _("Running");
      gtk_widget_add_css_class (GTK_WIDGET (self), "running");
      break;
    case CATENA_CARD_READY:
    case CATENA_CARD_UNKNOWN:
    default:
      break;
    }

  gtk_label_set_label (self->badge, badge);
  gtk_widget_set_visible (GTK_WIDGET (self->badge), badge != NULL);
  gtk_label_set_label (self->subtitle, subtitle);
  gtk_widget_set_tooltip_text (GTK_WIDGET (self),
                               self->state == CATENA_CARD_FAILED && self->message
                                 ? self->message
                                 : catena_stage_get_description (self->stage));
  {
    /* Screen readers hear the stage and its state, as the badge and subtitle show them. */
    g_autofree char *label = badge ? g_strdup_printf ("%s, %s: %s",
                                                      catena_stage_get_title (self->stage), badge,
                                                      subtitle)
                                   : g_strdup_printf ("%s: %s",
                                                      catena_stage_get_title (self->stage),
                                                      subtitle);
    gtk_accessible_update_property (GTK_ACCESSIBLE (self), GTK_ACCESSIBLE_PROPERTY_LABEL, label,
                                    -1);
  }
  gtk_widget_set_visible (GTK_WIDGET (self->progress), self->state == CATENA_CARD_RUNNING);
  gtk_widget_set_visible (GTK_WIDGET (self->placeholder), self->thumbnail == NULL);
  gtk_image_set_from_icon_name (self->placeholder, self->state == CATENA_CARD_FAILED
                                                     ? "dialog-error-symbolic"
                                                     : catena_stage_get_icon_name (self->stage));
}

static void
on_stage_notify (CatenaStageCard *self, GParamSpec *pspec, CatenaStage *stage)
{
  if (g_strcmp0 (pspec->name, "provider") == 0 || g_strcmp0 (pspec->name, "model") == 0)
    update_labels (self);
}

static void
catena_stage_card_dispose (GObject *object)
{
  CatenaStageCard *self = CATENA_STAGE_CARD (object);

  gtk_widget_dispose_template (GTK_WIDGET (self), CATENA_TYPE_STAGE_CARD);
  g_clear_object (&self->stage);
  g_clear_object (&self->thumbnail);

  G_OBJECT_CLASS (catena_stage_card_parent_class)->dispose (object);
}

static void
catena_stage_card_finalize (GObject *object)
{
  CatenaStageCard *self = CATENA_STAGE_CARD (object);

  g_free (self->message);
  g_free (self->key);

  G_OBJECT_CLASS (catena_stage_card_parent_class)->finalize (object);
}

static void
catena_stage_card_class_init (CatenaStageCardClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = catena_stage_card_dispose;
  object_class->finalize = catena_stage_card_finalize;

  signals[REMOVE] = g_signal_new ("remove", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL,
                                  NULL, NULL, G_TYPE_NONE, 0);

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/io/github/catena/Catena/catena-stage-card.ui");
  gtk_widget_class_bind_template_child (widget_class, CatenaStageCard, box);
  gtk_widget_class_bind_template_child (widget_class, CatenaStageCard, picture);
  gtk_widget_class_bind_template_child (widget_class, CatenaStageCard, badge);
  gtk_widget_class_bind_template_child (widget_class, CatenaStageCard, placeholder);
  gtk_widget_class_bind_template_child (widget_class, CatenaStageCard, remove_button);
  gtk_widget_class_bind_template_child (widget_class, CatenaStageCard, progress);
  gtk_widget_class_bind_template_child (widget_class, CatenaStageCard, icon);
  gtk_widget_class_bind_template_child (widget_class, CatenaStageCard, title);
  gtk_widget_class_bind_template_child (widget_class, CatenaStageCard, subtitle);
  gtk_widget_class_bind_template_callback (widget_class, on_remove_clicked);

  /* Keyboard editing of the focused (= selected) card, ahead of the scrolled window around
   * the strip, which would take Ctrl+arrows to scroll. */
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Left, GDK_CONTROL_MASK,
                                       "win.move-stage-left", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Right, GDK_CONTROL_MASK,
                                       "win.move-stage-right", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Delete, 0, "win.remove-stage", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_KP_Delete, 0, "win.remove-stage",
                                       NULL);

  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BIN_LAYOUT);
  gtk_widget_class_set_css_name (widget_class, "stagecard");
  gtk_widget_class_set_accessible_role (widget_class, GTK_ACCESSIBLE_ROLE_LIST_ITEM);
}

static void
catena_stage_card_init (CatenaStageCard *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
}

GtkWidget *
catena_stage_card_new (CatenaStage *stage)
{
  CatenaStageCard *self;

  g_return_val_if_fail (CATENA_IS_STAGE (stage), NULL);

  self = g_object_new (CATENA_TYPE_STAGE_CARD, NULL);
  self->stage = g_object_ref (stage);
  gtk_label_set_label (self->title, catena_stage_get_title (stage));
  {
    /* Translators: %s is a stage title such as Recolor */
    g_autofree char *remove = g_strdup_printf (_("Remove the %s stage"),
                                               catena_stage_get_title (stage));
    gtk_accessible_update_property (GTK_ACCESSIBLE (self->remove_button),
                                    GTK_ACCESSIBLE_PROPERTY_LABEL, remove, -1);
  }
  gtk_image_set_from_icon_name (self->icon, catena_stage_get_icon_name (stage));
  g_signal_connect_object (stage, "notify", G_CALLBACK (on_stage_notify), self,
                           G_CONNECT_SWAPPED);
  update_labels (self);
  return GTK_WIDGET (self);
}

CatenaStage *
catena_stage_card_get_stage (CatenaStageCard *self)
{
  g_return_val_if_fail (CATENA_IS_STAGE_CARD (self), NULL);
  return self->stage;
}

void
catena_stage_card_set_state (CatenaStageCard *self, CatenaCardState state, const char *message)
{
  g_return_if_fail (CATENA_IS_STAGE_CARD (self));

  if (self->state == state && g_strcmp0 (self->message, message) == 0)
    return;
  self->state = state;
  g_free (self->message);
  self->message = g_strdup (message);
  if (state == CATENA_CARD_RUNNING)
    gtk_progress_bar_set_fraction (self->progress, 0);
  update_labels (self);
}

CatenaCardState
catena_stage_card_get_state (CatenaStageCard *self)
{
  g_return_val_if_fail (CATENA_IS_STAGE_CARD (self), CATENA_CARD_UNKNOWN);
  return self->state;
}

const char *
catena_stage_card_get_message (CatenaStageCard *self)
{
  g_return_val_if_fail (CATENA_IS_STAGE_CARD (self), NULL);
  return self->message;
}

void
catena_stage_card_set_progress (CatenaStageCard *self, double fraction)
{
  g_return_if_fail (CATENA_IS_STAGE_CARD (self));
  gtk_progress_bar_set_fraction (self->progress, CLAMP (fraction, 0, 1));
}

void
catena_stage_card_set_thumbnail (CatenaStageCard *self, GdkTexture *texture)
{
  g_return_if_fail (CATENA_IS_STAGE_CARD (self));

  if (!g_set_object (&self->thumbnail, texture))
    return;
  gtk_picture_set_paintable (self->picture, GDK_PAINTABLE (texture));
  update_labels (self);
}

GdkTexture *
catena_stage_card_get_thumbnail (CatenaStageCard *self)
{
  g_return_val_if_fail (CATENA_IS_STAGE_CARD (self), NULL);
  return self->thumbnail;
}

void
catena_stage_card_set_key (CatenaStageCard *self, const char *key)
{
  g_return_if_fail (CATENA_IS_STAGE_CARD (self));

  if (g_strcmp0 (self->key, key) == 0)
    return;
  g_free (self->key);
  self->key = g_strdup (key);
}

const char *
catena_stage_card_get_key (CatenaStageCard *self)
{
  g_return_val_if_fail (CATENA_IS_STAGE_CARD (self), NULL);
  return self->key;
}

void
catena_stage_card_set_selected (CatenaStageCard *self, gboolean selected)
{
  g_return_if_fail (CATENA_IS_STAGE_CARD (self));

  if (selected)
    gtk_widget_add_css_class (GTK_WIDGET (self), "selected");
  else
    gtk_widget_remove_css_class (GTK_WIDGET (self), "selected");
}
