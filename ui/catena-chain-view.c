/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <glib/gi18n.h>

#include "catena-chain-view.h"

#define KIND_PREFIX "catena-kind:"
#define MOVE_PREFIX "catena-move:"

struct _CatenaChainView
{
  GtkWidget parent_instance;

  CatenaChain *chain;
  CatenaStage *selected; /* not a ref: always a stage of chain */

  GtkWidget *scroller;
  GtkWidget *box;
  GtkWidget *marker;
  GtkWidget *empty;
  guint scroll_source;
};

G_DEFINE_FINAL_TYPE (CatenaChainView, catena_chain_view, GTK_TYPE_WIDGET)

enum {
  PROP_0,
  PROP_SELECTED,
  N_PROPS
};

enum {
  INSERT_KIND,
  MOVE_STAGE,
  REMOVE_STAGE,
  N_SIGNALS
};

static GParamSpec *properties[N_PROPS];
static guint signals[N_SIGNALS];

static guint
n_cards (CatenaChainView *self)
{
  return self->chain ? catena_chain_get_n_stages (self->chain) : 0;
}

CatenaStageCard *
catena_chain_view_get_card (CatenaChainView *self, guint position)
{
  guint i = 0;

  g_return_val_if_fail (CATENA_IS_CHAIN_VIEW (self), NULL);

  for (GtkWidget *child = gtk_widget_get_first_child (self->box); child;
       child = gtk_widget_get_next_sibling (child))
    {
      if (!CATENA_IS_STAGE_CARD (child))
        continue;
      if (i++ == position)
        return CATENA_STAGE_CARD (child);
    }
  return NULL;
}

static guint
card_position (CatenaChainView *self, GtkWidget *card)
{
  guint i = 0;

  for (GtkWidget *child = gtk_widget_get_first_child (self->box); child;
       child = gtk_widget_get_next_sibling (child))
    {
      if (child == card)
        return i;
      if (CATENA_IS_STAGE_CARD (child))
        i++;
    }
  return CATENA_INVALID_POSITION;
}

guint
catena_chain_view_get_selected (CatenaChainView *self)
{
  g_return_val_if_fail (CATENA_IS_CHAIN_VIEW (self), CATENA_INVALID_POSITION);

  /* By identity: the selected stage may already be gone (and finalized) from the chain. */
  for (guint i = 0; self->selected && i < n_cards (self); i++)
    if (catena_chain_get_stage (self->chain, i) == self->selected)
      return i;
  return CATENA_INVALID_POSITION;
}

static void
sync_selection (CatenaChainView *self)
{
  for (GtkWidget *child = gtk_widget_get_first_child (self->box); child;
       child = gtk_widget_get_next_sibling (child))
    if (CATENA_IS_STAGE_CARD (child))
      catena_stage_card_set_selected (
        CATENA_STAGE_CARD (child),
        catena_stage_card_get_stage (CATENA_STAGE_CARD (child)) == self->selected);
}

/* After the next layout, so a card inserted just now has its place. */
static gboolean
scroll_to_selected (gpointer data)
{
  CatenaChainView *self = data;
  CatenaStageCard *card = catena_chain_view_get_card (self, catena_chain_view_get_selected (self));
  GtkAdjustment *adj = gtk_scrolled_window_get_hadjustment (GTK_SCROLLED_WINDOW (self->scroller));
  graphene_rect_t bounds;

  self->scroll_source = 0;
  if (card && gtk_widget_compute_bounds (GTK_WIDGET (card), self->box, &bounds))
    {
      double value = gtk_adjustment_get_value (adj);
      double page = gtk_adjustment_get_page_size (adj);
      double x0 = bounds.origin.x - 12, x1 = bounds.origin.x + bounds.size.width + 12;

      if (x0 < value)
        gtk_adjustment_set_value (adj, x0);
      else if (x1 > value + page)
        gtk_adjustment_set_value (adj, x1 - page);
    }
  return G_SOURCE_REMOVE;
}

static void
queue_scroll_to_selected (CatenaChainView *self)
{
  if (self->scroll_source == 0)
    self->scroll_source = g_timeout_add (30, scroll_to_selected, self);
}

void
catena_chain_view_set_selected (CatenaChainView *self, guint position)
{
  CatenaStage *stage = NULL;

  g_return_if_fail (CATENA_IS_CHAIN_VIEW (self));

  if (position != CATENA_INVALID_POSITION && position < n_cards (self))
    stage = catena_chain_get_stage (self->chain, position);
  if (stage == self->selected)
    return;
  self->selected = stage;
  sync_selection (self);
  queue_scroll_to_selected (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SELECTED]);
}

static void
on_card_pressed (GtkGestureClick *gesture, int n_press, double x, double y, CatenaChainView *self)
{
  GtkWidget *card = gtk_event_controller_get_widget (GTK_EVENT_CONTROLLER (gesture));

  catena_chain_view_set_selected (self, card_position (self, card));
  gtk_widget_grab_focus (card);
}

static void
on_card_remove (CatenaStageCard *card, CatenaChainView *self)
{
  guint position = card_position (self, GTK_WIDGET (card));

  if (position != CATENA_INVALID_POSITION)
    g_signal_emit (self, signals[REMOVE_STAGE], 0, position);
}

static GdkContentProvider *
on_card_drag_prepare (GtkDragSource *source, double x, double y, CatenaChainView *self)
{
  GtkWidget *card = gtk_event_controller_get_widget (GTK_EVENT_CONTROLLER (source));
  g_autofree char *value = g_strdup_printf (MOVE_PREFIX "%u", card_position (self, card));
  g_autoptr (GdkPaintable) icon = gtk_widget_paintable_new (card);

  gtk_drag_source_set_icon (source, icon, (int) x, (int) y);
  return gdk_content_provider_new_typed (G_TYPE_STRING, value);
}

/* Keyboard users select a card by moving the focus to it. */
static void
on_card_focus_enter (GtkEventControllerFocus *focus, CatenaChainView *self)
{
  GtkWidget *card = gtk_event_controller_get_widget (GTK_EVENT_CONTROLLER (focus));

  catena_chain_view_set_selected (self, card_position (self, card));
}

static GtkWidget *
make_card (CatenaChainView *self, CatenaStage *stage)
{
  GtkWidget *card = catena_stage_card_new (stage);
  GtkGesture *click = gtk_gesture_click_new ();
  GtkDragSource *drag = gtk_drag_source_new ();

  gtk_event_controller_set_propagation_phase (GTK_EVENT_CONTROLLER (click), GTK_PHASE_CAPTURE);
  g_signal_connect (click, "pressed", G_CALLBACK (on_card_pressed), self);
  gtk_widget_add_controller (card, GTK_EVENT_CONTROLLER (click));

  gtk_drag_source_set_actions (drag, GDK_ACTION_MOVE);
  g_signal_connect (drag, "prepare", G_CALLBACK (on_card_drag_prepare), self);
  gtk_widget_add_controller (card, GTK_EVENT_CONTROLLER (drag));

  g_signal_connect (card, "remove", G_CALLBACK (on_card_remove), self);
  {
    GtkEventController *focus = gtk_event_controller_focus_new ();
    g_signal_connect (focus, "enter", G_CALLBACK (on_card_focus_enter), self);
    gtk_widget_add_controller (card, focus);
  }
  return card;
}

static void
on_items_changed (CatenaChainView *self, guint position, guint removed, guint added,
                  GListModel *model)
{
  GtkWidget *after = NULL;
  CatenaStage *old_selected = self->selected;
  guint old_position = catena_chain_view_get_selected (self);
  GtkRoot *root = gtk_widget_get_root (GTK_WIDGET (self));
  GtkWidget *focus = root ? gtk_root_get_focus (root) : NULL;
  /* A keyboard move or removal rebuilds cards: the focus follows the selection. */
  gboolean had_focus = focus && gtk_widget_is_ancestor (focus, self->box);

  gtk_widget_set_visible (self->marker, FALSE);
  for (guint i = 0; i < removed; i++)
    {
      CatenaStageCard *card = catena_chain_view_get_card (self, position);
      if (card)
        gtk_box_remove (GTK_BOX (self->box), GTK_WIDGET (card));
    }
  if (position > 0)
    after = GTK_WIDGET (catena_chain_view_get_card (self, position - 1));
  for (guint i = 0; i < added; i++)
    {
      g_autoptr (CatenaStage) stage = g_list_model_get_item (model, position + i);
      GtkWidget *card = make_card (self, stage);

      gtk_box_insert_child_after (GTK_BOX (self->box), card, after);
      after = card;
    }

  gtk_widget_set_visible (self->empty, n_cards (self) == 0);

  /* Keep the selected stage selected; if it went away, select its neighbour. */
  if (old_selected == NULL || old_position == CATENA_INVALID_POSITION)
    {
      guint n = n_cards (self);
      self->selected = NULL;
      if (n > 0)
        catena_chain_view_set_selected (self, MIN (position, n - 1));
      else
        g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SELECTED]);
    }
  else
    {
      sync_selection (self);
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SELECTED]);
    }
  if (had_focus)
    {
      CatenaStageCard *card = catena_chain_view_get_card (self, catena_chain_view_get_selected (
                                                                  self));
      if (card)
        gtk_widget_grab_focus (GTK_WIDGET (card));
    }
}

void
catena_chain_view_set_chain (CatenaChainView *self, CatenaChain *chain)
{
  guint old_n;

  g_return_if_fail (CATENA_IS_CHAIN_VIEW (self));

  if (self->chain == chain)
    return;

  old_n = n_cards (self);
  if (self->chain)
    {
      g_signal_handlers_disconnect_by_func (self->chain, on_items_changed, self);
      for (guint i = 0; i < old_n; i++)
        gtk_box_remove (GTK_BOX (self->box), GTK_WIDGET (catena_chain_view_get_card (self, 0)));
    }
  self->selected = NULL;
  g_set_object (&self->chain, chain);
  if (chain)
    {
      g_signal_connect_object (chain, "items-changed", G_CALLBACK (on_items_changed), self,
                               G_CONNECT_SWAPPED);
      on_items_changed (self, 0, 0, catena_chain_get_n_stages (chain), G_LIST_MODEL (chain));
    }
  else
    gtk_widget_set_visible (self->empty, TRUE);
}

guint
catena_chain_view_position_at (CatenaChainView *self, double x)
{
  guint n = n_cards (self);

  for (guint i = 0; i < n; i++)
    {
      graphene_rect_t bounds;
      GtkWidget *card = GTK_WIDGET (catena_chain_view_get_card (self, i));

      if (gtk_widget_compute_bounds (card, GTK_WIDGET (self), &bounds) &&
          x < bounds.origin.x + bounds.size.width / 2)
        return i;
    }
  return n;
}

gboolean
catena_chain_view_drop (CatenaChainView *self, const char *value, double x)
{
  guint position = catena_chain_view_position_at (self, x);

  g_return_val_if_fail (CATENA_IS_CHAIN_VIEW (self), FALSE);

  if (value == NULL)
    return FALSE;
  if (g_str_has_prefix (value, KIND_PREFIX))
    {
      g_signal_emit (self, signals[INSERT_KIND], 0, value + strlen (KIND_PREFIX), position);
      return TRUE;
    }
  if (g_str_has_prefix (value, MOVE_PREFIX))
    {
      guint64 from;
      guint to;

      if (!g_ascii_string_to_unsigned (value + strlen (MOVE_PREFIX), 10, 0, n_cards (self) - 1,
                                       &from, NULL))
        return FALSE;
      to = position > from ? position - 1 : position;
      if (to != from)
        g_signal_emit (self, signals[MOVE_STAGE], 0, (guint) from, to);
      return TRUE;
    }
  return FALSE;
}

/* Files from a file manager also come as text: leave those to the window (new photos). */
static gboolean
on_drop_accept (GtkDropTarget *target, GdkDrop *drop, CatenaChainView *self)
{
  GdkContentFormats *formats = gdk_drop_get_formats (drop);

  return !gdk_content_formats_contain_gtype (formats, GDK_TYPE_FILE_LIST) &&
         gdk_content_formats_contain_gtype (formats, G_TYPE_STRING);
}

static GdkDragAction
on_drop_motion (GtkDropTarget *target, double x, double y, CatenaChainView *self)
{
  guint position = catena_chain_view_position_at (self, x);
  GtkWidget *before = position > 0 ? GTK_WIDGET (catena_chain_view_get_card (self, position - 1))
                                   : NULL;

  if (gtk_widget_get_prev_sibling (self->marker) != before ||
      !gtk_widget_get_visible (self->marker))
    gtk_box_reorder_child_after (GTK_BOX (self->box), self->marker, before);
  gtk_widget_set_visible (self->marker, TRUE);
  return GDK_ACTION_COPY | GDK_ACTION_MOVE;
}

static void
on_drop_leave (GtkDropTarget *target, CatenaChainView *self)
{
  gtk_widget_set_visible (self->marker, FALSE);
}

static gboolean
on_drop (GtkDropTarget *target, const GValue *value, double x, double y, CatenaChainView *self)
{
  gboolean handled;

  gtk_widget_set_visible (self->marker, FALSE);
  handled = catena_chain_view_drop (self, g_value_get_string (value), x);
  return handled;
}

static void
catena_chain_view_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  CatenaChainView *self = CATENA_CHAIN_VIEW (object);

  switch (prop_id)
    {
    case PROP_SELECTED:
      g_value_set_uint (value, catena_chain_view_get_selected (self));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
catena_chain_view_set_property (GObject *object,
                                guint prop_id,
                                const GValue *value,
                                GParamSpec *pspec)
{
  CatenaChainView *self = CATENA_CHAIN_VIEW (object);

  switch (prop_id)
    {
    case PROP_SELECTED:
      catena_chain_view_set_selected (self, g_value_get_uint (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
catena_chain_view_dispose (GObject *object)
{
  CatenaChainView *self = CATENA_CHAIN_VIEW (object);

  if (self->chain)
    g_signal_handlers_disconnect_by_func (self->chain, on_items_changed, self);
  g_clear_object (&self->chain);
  g_clear_handle_id (&self->scroll_source, g_source_remove);
  self->selected = NULL;
  g_clear_pointer (&self->scroller, gtk_widget_unparent);

  G_OBJECT_CLASS (catena_chain_view_parent_class)->dispose (object);
}

/* One Tab stop for the whole strip, as for a list: Tab enters at the selected card and leaves
 * the strip again; arrows walk the cards (and focusing one selects it). */
static gboolean
catena_chain_view_focus (GtkWidget *widget, GtkDirectionType direction)
{
  CatenaChainView *self = CATENA_CHAIN_VIEW (widget);
  GtkRoot *root = gtk_widget_get_root (widget);
  GtkWidget *focus = root ? gtk_root_get_focus (root) : NULL;
  CatenaStageCard *card;

  if (direction != GTK_DIR_TAB_FORWARD && direction != GTK_DIR_TAB_BACKWARD)
    return GTK_WIDGET_CLASS (catena_chain_view_parent_class)->focus (widget, direction);
  if (focus && gtk_widget_is_ancestor (focus, widget))
    return FALSE;
  card = catena_chain_view_get_card (self, catena_chain_view_get_selected (self));
  if (card == NULL)
    card = catena_chain_view_get_card (self, 0);
  return card && gtk_widget_grab_focus (GTK_WIDGET (card));
}

static void
catena_chain_view_class_init (CatenaChainViewClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);
  GType type = G_TYPE_FROM_CLASS (klass);

  object_class->dispose = catena_chain_view_dispose;
  object_class->get_property = catena_chain_view_get_property;
  object_class->set_property = catena_chain_view_set_property;
  widget_class->focus = catena_chain_view_focus;

  properties[PROP_SELECTED] =
    g_param_spec_uint ("selected", NULL, NULL, 0, G_MAXUINT, G_MAXUINT,
                       G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  signals[INSERT_KIND] = g_signal_new ("insert-kind", type, G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                                       G_TYPE_NONE, 2, G_TYPE_STRING, G_TYPE_UINT);
  signals[MOVE_STAGE] = g_signal_new ("move-stage", type, G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                                      G_TYPE_NONE, 2, G_TYPE_UINT, G_TYPE_UINT);
  signals[REMOVE_STAGE] = g_signal_new ("remove-stage", type, G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                                        NULL, G_TYPE_NONE, 1, G_TYPE_UINT);

  /* Delete removes the selected stage only while the strip has the focus, so it never eats
   * the key in the inspector's entries. */
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Delete, 0, "win.remove-stage", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_KP_Delete, 0, "win.remove-stage",
                                       NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Left, GDK_ALT_MASK,
                                       "win.move-stage-left", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Right, GDK_ALT_MASK,
                                       "win.move-stage-right", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Left, GDK_CONTROL_MASK,
                                       "win.move-stage-left", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Right, GDK_CONTROL_MASK,
                                       "win.move-stage-right", NULL);

  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BIN_LAYOUT);
  gtk_widget_class_set_css_name (widget_class, "chainview");
  gtk_widget_class_set_accessible_role (widget_class, GTK_ACCESSIBLE_ROLE_LIST);
}

static void
catena_chain_view_init (CatenaChainView *self)
{
  GtkDropTarget *target;
  GtkWidget *overlay;

  overlay = gtk_overlay_new ();
  self->scroller = gtk_scrolled_window_new ();
  gtk_scrolled_window_set_policy (GTK_SCROLLED_WINDOW (self->scroller), GTK_POLICY_AUTOMATIC,
                                  GTK_POLICY_NEVER);
  gtk_widget_set_parent (self->scroller, GTK_WIDGET (self));
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->scroller), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  _("Chain"), -1);
  gtk_scrolled_window_set_child (GTK_SCROLLED_WINDOW (self->scroller), overlay);

  self->box = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 12);
  gtk_widget_add_css_class (self->box, "strip");
  gtk_widget_set_valign (self->box, GTK_ALIGN_CENTER);
  gtk_overlay_set_child (GTK_OVERLAY (overlay), self->box);

  self->marker = gtk_box_new (GTK_ORIENTATION_VERTICAL, 0);
  gtk_widget_add_css_class (self->marker, "drop-marker");
  gtk_widget_set_visible (self->marker, FALSE);
  gtk_box_append (GTK_BOX (self->box), self->marker);

  self->empty = gtk_label_new (_("Drag stages here from the palette to build a chain"));
  gtk_widget_add_css_class (self->empty, "dim-label");
  gtk_widget_set_can_target (self->empty, FALSE);
  gtk_overlay_add_overlay (GTK_OVERLAY (overlay), self->empty);

  target = gtk_drop_target_new (G_TYPE_STRING, GDK_ACTION_COPY | GDK_ACTION_MOVE);
  g_signal_connect (target, "accept", G_CALLBACK (on_drop_accept), self);
  g_signal_connect (target, "motion", G_CALLBACK (on_drop_motion), self);
  g_signal_connect (target, "enter", G_CALLBACK (on_drop_motion), self);
  g_signal_connect (target, "leave", G_CALLBACK (on_drop_leave), self);
  g_signal_connect (target, "drop", G_CALLBACK (on_drop), self);
  gtk_widget_add_controller (GTK_WIDGET (self), GTK_EVENT_CONTROLLER (target));

  gtk_widget_set_focusable (GTK_WIDGET (self), FALSE);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  _("Chain"), -1);
}

GtkWidget *
catena_chain_view_new (void)
{
  return g_object_new (CATENA_TYPE_CHAIN_VIEW, NULL);
}
