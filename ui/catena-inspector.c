/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <adwaita.h>
#include <glib/gi18n.h>
#include <math.h>

#include "catena-candidate-grid.h"
#include "catena-device-monitor.h"
#include "catena-inspector.h"
#include "catena-routing-group.h"

struct _CatenaInspector
{
  GtkWidget parent_instance;

  CatenaHistory *history;
  CatenaStage *stage;
  GHashTable *editors; /* param name → editor widget (owned by the rows) */
  gboolean syncing;

  GtkWidget *box;
  GtkWidget *icon;
  GtkWidget *title;
  GtkWidget *description;
  GtkWidget *routing;
  GtkWidget *candidates;
  GtkWidget *candidate_grid;
  GtkWidget *sweep;
  GtkWidget *sweep_row;
  GtkWidget *sweep_button;
  GtkWidget *params;
  GtkWidget *empty;

  /* a slider edit ends on pointer release, or a pause after keyboard changes */
  gboolean pointer_down;
  GParamSpec *pending_finish;
  guint finish_source;
};

G_DEFINE_FINAL_TYPE (CatenaInspector, catena_inspector, GTK_TYPE_WIDGET)

enum {
  EDIT_FINISHED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

/* Keyboard changes of a slider count as one edit after this pause. */
#define KEYBOARD_FINISH_MS 600

static void
emit_finished (CatenaInspector *self)
{
  GParamSpec *pspec = g_steal_pointer (&self->pending_finish);

  g_clear_handle_id (&self->finish_source, g_source_remove);
  if (pspec && self->stage)
    g_signal_emit (self, signals[EDIT_FINISHED], 0, self->stage, pspec->name);
}

static gboolean
finish_timeout (gpointer data)
{
  CatenaInspector *self = data;

  self->finish_source = 0;
  emit_finished (self);
  return G_SOURCE_REMOVE;
}

static void
commit (CatenaInspector *self, GParamSpec *pspec, const GValue *value)
{
  if (self->syncing || self->stage == NULL)
    return;
  if (self->history)
    catena_history_set_param (self->history, self->stage, pspec->name, value);
  else
    g_object_set_property (G_OBJECT (self->stage), pspec->name, value);
}

static GParamSpec *
editor_pspec (GtkWidget *editor)
{
  return g_object_get_data (G_OBJECT (editor), "catena-pspec");
}

static void
on_scale_changed (GtkRange *range, CatenaInspector *self)
{
  GParamSpec *pspec = editor_pspec (GTK_WIDGET (range));
  g_auto (GValue) value = G_VALUE_INIT;

  g_value_init (&value, G_PARAM_SPEC_VALUE_TYPE (pspec));
  if (G_PARAM_SPEC_VALUE_TYPE (pspec) == G_TYPE_FLOAT)
    g_value_set_float (&value, (float) gtk_range_get_value (range));
  else
    g_value_set_double (&value, gtk_range_get_value (range));
  commit (self, pspec, &value);
  if (self->syncing)
    return;
  self->pending_finish = pspec;
  g_clear_handle_id (&self->finish_source, g_source_remove);
  if (!self->pointer_down)
    self->finish_source = g_timeout_add (KEYBOARD_FINISH_MS, finish_timeout, self);
}

/* Sees the raw button events before the slider's own gestures claim them. */
static gboolean
on_scale_event (GtkEventControllerLegacy *controller, GdkEvent *event, CatenaInspector *self)
{
  GdkEventType type = gdk_event_get_event_type (event);

  if (type == GDK_BUTTON_PRESS || type == GDK_TOUCH_BEGIN)
    self->pointer_down = TRUE;
  else if (type == GDK_BUTTON_RELEASE || type == GDK_TOUCH_END || type == GDK_TOUCH_CANCEL)
    {
      self->pointer_down = FALSE;
      emit_finished (self);
    }
  return GDK_EVENT_PROPAGATE;
}

static void
on_spin_changed (GtkSpinButton *spin, CatenaInspector *self)
{
  GParamSpec *pspec = editor_pspec (GTK_WIDGET (spin));
  g_auto (GValue) value = G_VALUE_INIT;
  GType type = G_PARAM_SPEC_VALUE_TYPE (pspec);

  g_value_init (&value, type);
  if (type == G_TYPE_UINT)
    g_value_set_uint (&value, (guint) gtk_spin_button_get_value_as_int (spin));
  else if (type == G_TYPE_INT64)
    g_value_set_int64 (&value, (gint64) gtk_spin_button_get_value (spin));
  else
    g_value_set_int (&value, gtk_spin_button_get_value_as_int (spin));
  commit (self, pspec, &value);
}

static void
on_switch_active (GtkSwitch *sw, GParamSpec *unused, CatenaInspector *self)
{
  GParamSpec *pspec = editor_pspec (GTK_WIDGET (sw));
  g_auto (GValue) value = G_VALUE_INIT;

  g_value_init (&value, G_TYPE_BOOLEAN);
  g_value_set_boolean (&value, gtk_switch_get_active (sw));
  commit (self, pspec, &value);
}

static void
on_color_set (GtkColorChooser *chooser, CatenaInspector *self)
{
  GParamSpec *pspec = editor_pspec (GTK_WIDGET (chooser));
  g_auto (GValue) value = G_VALUE_INIT;
  GdkRGBA rgba;

  gtk_color_chooser_get_rgba (chooser, &rgba);
  g_value_init (&value, G_TYPE_STRING);
  g_value_take_string (&value, g_strdup_printf ("#%02x%02x%02x",
                                                (int) lround (CLAMP (rgba.red, 0, 1) * 255),
                                                (int) lround (CLAMP (rgba.green, 0, 1) * 255),
                                                (int) lround (CLAMP (rgba.blue, 0, 1) * 255)));
  commit (self, pspec, &value);
}

static void
on_dropdown_selected (GtkDropDown *dropdown, GParamSpec *unused, CatenaInspector *self)
{
  GParamSpec *pspec = editor_pspec (GTK_WIDGET (dropdown));
  GEnumClass *klass = G_PARAM_SPEC_ENUM (pspec)->enum_class;
  guint selected = gtk_drop_down_get_selected (dropdown);
  g_auto (GValue) value = G_VALUE_INIT;

  if (selected >= klass->n_values)
    return;
  g_value_init (&value, G_PARAM_SPEC_VALUE_TYPE (pspec));
  g_value_set_enum (&value, klass->values[selected].value);
  commit (self, pspec, &value);
}

static void
on_entry_activate (GtkEntry *entry, CatenaInspector *self)
{
  GParamSpec *pspec = editor_pspec (GTK_WIDGET (entry));
  g_auto (GValue) value = G_VALUE_INIT;

  g_value_init (&value, G_TYPE_STRING);
  g_value_set_string (&value, gtk_editable_get_text (GTK_EDITABLE (entry)));
  commit (self, pspec, &value);
}

/* A new press on a slider starts a new undo step. */
static void
on_editor_pressed (GtkGestureClick *gesture, int n, double x, double y, CatenaInspector *self)
{
  if (self->history)
    catena_history_close_group (self->history);
}

static void
sync_editor (CatenaInspector *self, GParamSpec *pspec)
{
  GtkWidget *editor = g_hash_table_lookup (self->editors, pspec->name);
  g_auto (GValue) value = G_VALUE_INIT;
  GType type = G_PARAM_SPEC_VALUE_TYPE (pspec);

  if (editor == NULL)
    return;

  g_value_init (&value, type);
  g_object_get_property (G_OBJECT (self->stage), pspec->name, &value);
  self->syncing = TRUE;
  if (GTK_IS_SCALE (editor))
    gtk_range_set_value (GTK_RANGE (editor), type == G_TYPE_FLOAT ? g_value_get_float (&value)
                                                                  : g_value_get_double (&value));
  else if (GTK_IS_SPIN_BUTTON (editor))
    gtk_spin_button_set_value (GTK_SPIN_BUTTON (editor),
                               type == G_TYPE_UINT    ? g_value_get_uint (&value)
                               : type == G_TYPE_INT64 ? g_value_get_int64 (&value)
                                                      : g_value_get_int (&value));
  else if (GTK_IS_SWITCH (editor))
    gtk_switch_set_active (GTK_SWITCH (editor), g_value_get_boolean (&value));
  else if (GTK_IS_COLOR_CHOOSER (editor))
    {
      double rgb[3];
      if (catena_parse_color (g_value_get_string (&value), rgb))
        gtk_color_chooser_set_rgba (GTK_COLOR_CHOOSER (editor),
                                    &(GdkRGBA){ rgb[0], rgb[1], rgb[2], 1.0 });
    }
  else if (GTK_IS_DROP_DOWN (editor))
    {
      GEnumClass *klass = G_PARAM_SPEC_ENUM (pspec)->enum_class;
      for (guint i = 0; i < klass->n_values; i++)
        if (klass->values[i].value == g_value_get_enum (&value))
          gtk_drop_down_set_selected (GTK_DROP_DOWN (editor), i);
    }
  else if (GTK_IS_ENTRY (editor))
    gtk_editable_set_text (GTK_EDITABLE (editor),
                           g_value_get_string (&value) ? g_value_get_string (&value) : "");
  self->syncing = FALSE;
}

static void
on_stage_notify (CatenaInspector *self, GParamSpec *pspec, CatenaStage *stage)
{
  /* provider and model: the routing group follows them itself */
  if (pspec->owner_type != CATENA_TYPE_STAGE)
    sync_editor (self, pspec);
  if (g_str_equal (pspec->name, "pick"))
    {
      guint pick;
      g_object_get (stage, "pick", &pick, NULL);
      catena_candidate_grid_set_pick (CATENA_CANDIDATE_GRID (self->candidate_grid), pick);
    }
}

static int
digits_for (double lo, double hi)
{
  double range = hi - lo;

  if (range >= 100)
    return 0;
  if (range >= 50)
    return 1;
  return 2;
}

static GtkWidget *
make_editor (CatenaInspector *self, GParamSpec *pspec, GtkWidget *row)
{
  GType type = G_PARAM_SPEC_VALUE_TYPE (pspec);
  GtkWidget *editor = NULL;

  if (G_IS_PARAM_SPEC_DOUBLE (pspec) || G_IS_PARAM_SPEC_FLOAT (pspec))
    {
      double lo, hi;
      GtkGesture *press;

      if (G_IS_PARAM_SPEC_DOUBLE (pspec))
        lo = G_PARAM_SPEC_DOUBLE (pspec)->minimum, hi = G_PARAM_SPEC_DOUBLE (pspec)->maximum;
      else
        lo = G_PARAM_SPEC_FLOAT (pspec)->minimum, hi = G_PARAM_SPEC_FLOAT (pspec)->maximum;
      editor = gtk_scale_new_with_range (GTK_ORIENTATION_HORIZONTAL, lo, hi,
                                         pow (10, -digits_for (lo, hi)));
      gtk_scale_set_digits (GTK_SCALE (editor), digits_for (lo, hi));
      gtk_scale_set_draw_value (GTK_SCALE (editor), TRUE);
      gtk_scale_set_value_pos (GTK_SCALE (editor), GTK_POS_LEFT);
      gtk_widget_set_size_request (editor, 150, -1);
      gtk_widget_set_hexpand (editor, TRUE);
      g_signal_connect (editor, "value-changed", G_CALLBACK (on_scale_changed), self);
      press = gtk_gesture_click_new ();
      gtk_event_controller_set_propagation_phase (GTK_EVENT_CONTROLLER (press),
                                                  GTK_PHASE_CAPTURE);
      g_signal_connect (press, "pressed", G_CALLBACK (on_editor_pressed), self);
      gtk_widget_add_controller (editor, GTK_EVENT_CONTROLLER (press));
      {
        GtkEventController *legacy = gtk_event_controller_legacy_new ();
        gtk_event_controller_set_propagation_phase (legacy, GTK_PHASE_CAPTURE);
        g_signal_connect (legacy, "event", G_CALLBACK (on_scale_event), self);
        gtk_widget_add_controller (editor, legacy);
      }
    }
  else if (type == G_TYPE_INT || type == G_TYPE_UINT || type == G_TYPE_INT64)
    {
      double lo, hi;

      if (G_IS_PARAM_SPEC_INT (pspec))
        lo = G_PARAM_SPEC_INT (pspec)->minimum, hi = G_PARAM_SPEC_INT (pspec)->maximum;
      else if (G_IS_PARAM_SPEC_UINT (pspec))
        lo = G_PARAM_SPEC_UINT (pspec)->minimum, hi = G_PARAM_SPEC_UINT (pspec)->maximum;
      else
        lo = G_PARAM_SPEC_INT64 (pspec)->minimum, hi = G_PARAM_SPEC_INT64 (pspec)->maximum;
      editor = gtk_spin_button_new_with_range (lo, hi, 1);
      gtk_widget_set_valign (editor, GTK_ALIGN_CENTER);
      g_signal_connect (editor, "value-changed", G_CALLBACK (on_spin_changed), self);
    }
  else if (type == G_TYPE_BOOLEAN)
    {
      editor = gtk_switch_new ();
      gtk_widget_set_valign (editor, GTK_ALIGN_CENTER);
      adw_action_row_set_activatable_widget (ADW_ACTION_ROW (row), editor);
      g_signal_connect (editor, "notify::active", G_CALLBACK (on_switch_active), self);
    }
  else if (catena_param_spec_is_color (pspec))
    {
      G_GNUC_BEGIN_IGNORE_DEPRECATIONS
      editor = gtk_color_button_new ();
      gtk_color_chooser_set_use_alpha (GTK_COLOR_CHOOSER (editor), FALSE);
      gtk_color_button_set_title (GTK_COLOR_BUTTON (editor), g_param_spec_get_nick (pspec));
      G_GNUC_END_IGNORE_DEPRECATIONS
      gtk_widget_set_valign (editor, GTK_ALIGN_CENTER);
      g_signal_connect (editor, "color-set", G_CALLBACK (on_color_set), self);
    }
  else if (G_IS_PARAM_SPEC_ENUM (pspec))
    {
      GEnumClass *klass = G_PARAM_SPEC_ENUM (pspec)->enum_class;
      g_autoptr (GtkStringList) names = gtk_string_list_new (NULL);

      for (guint i = 0; i < klass->n_values; i++)
        {
          g_autofree char *nick = g_strdup (klass->values[i].value_nick);
          nick[0] = g_ascii_toupper (nick[0]);
          gtk_string_list_append (names, nick);
        }
      editor = gtk_drop_down_new (G_LIST_MODEL (g_steal_pointer (&names)), NULL);
      gtk_widget_set_valign (editor, GTK_ALIGN_CENTER);
      g_signal_connect (editor, "notify::selected", G_CALLBACK (on_dropdown_selected), self);
    }
  else if (type == G_TYPE_STRING)
    {
      editor = gtk_entry_new ();
      gtk_widget_set_valign (editor, GTK_ALIGN_CENTER);
      g_signal_connect (editor, "activate", G_CALLBACK (on_entry_activate), self);
    }

  if (editor)
    {
      g_object_set_data (G_OBJECT (editor), "catena-pspec", pspec);
      gtk_widget_set_name (editor, pspec->name);
      const char *nick = g_dgettext (GETTEXT_PACKAGE, g_param_spec_get_nick (pspec));

      gtk_accessible_update_property (GTK_ACCESSIBLE (editor), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                      nick, -1);
      /* A drop-down or colour button takes the focus with its inner button: that is what a
         reader announces. */
      if (GTK_IS_DROP_DOWN (editor) || GTK_IS_COLOR_CHOOSER (editor))
        for (GtkWidget *child = gtk_widget_get_first_child (editor); child;
             child = gtk_widget_get_next_sibling (child))
          if (GTK_IS_BUTTON (child))
            gtk_accessible_update_property (GTK_ACCESSIBLE (child),
                                            GTK_ACCESSIBLE_PROPERTY_LABEL, nick, -1);
    }
  return editor;
}

static void
rebuild (CatenaInspector *self)
{
  g_autofree GParamSpec **params = NULL;
  guint n_params = 0;

  g_hash_table_remove_all (self->editors);
  self->pending_finish = NULL;
  g_clear_handle_id (&self->finish_source, g_source_remove);
  catena_routing_group_set_stage (CATENA_ROUTING_GROUP (self->routing), self->stage);
  catena_candidate_grid_set_n (CATENA_CANDIDATE_GRID (self->candidate_grid), 0);
  gtk_widget_set_visible (self->candidates, FALSE);
  gtk_widget_set_visible (self->sweep, self->stage &&
                                         g_str_equal (catena_stage_get_kind (self->stage),
                                                      "style"));
  catena_inspector_set_sweep_status (self, NULL);
  if (self->params)
    {
      gtk_box_remove (GTK_BOX (self->box), self->params);
      self->params = NULL;
    }

  gtk_widget_set_visible (self->empty, self->stage == NULL);
  gtk_widget_set_visible (self->box, self->stage != NULL);
  if (self->stage == NULL)
    return;

  gtk_image_set_from_icon_name (GTK_IMAGE (self->icon), catena_stage_get_icon_name (self->stage));
  gtk_label_set_label (GTK_LABEL (self->title), catena_stage_get_title (self->stage));
  gtk_label_set_label (GTK_LABEL (self->description),
                       catena_stage_get_description (self->stage));
  gtk_accessible_update_property (GTK_ACCESSIBLE (self), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  catena_stage_get_title (self->stage), -1);

  self->params = adw_preferences_group_new ();
  adw_preferences_group_set_title (ADW_PREFERENCES_GROUP (self->params), _("Parameters"));
  params = catena_stage_list_params (self->stage, &n_params);
  if (n_params == 0)
    adw_preferences_group_set_description (ADW_PREFERENCES_GROUP (self->params),
                                           _("This stage has nothing to adjust."));
  else if (g_str_equal (catena_stage_get_kind (self->stage), "remove-background")
           || g_str_equal (catena_stage_get_kind (self->stage), "upscale"))
    {
      /* the neural methods run on the device chosen in Preferences: say which */
      g_autofree char *where = g_strdup_printf (
        _("Local models run on the %s"),
        catena_device_monitor_get_description (catena_device_monitor_get_default ()));

      adw_preferences_group_set_description (ADW_PREFERENCES_GROUP (self->params), where);
    }
  for (guint i = 0; i < n_params; i++)
    {
      GtkWidget *row = adw_action_row_new ();
      GtkWidget *editor;
      g_autofree char *range = catena_param_spec_describe_range (params[i]);
      const char *blurb = g_param_spec_get_blurb (params[i]);
      const char *nick = g_dgettext (GETTEXT_PACKAGE, g_param_spec_get_nick (params[i]));

      adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), nick);
      if (blurb)
        adw_action_row_set_subtitle (ADW_ACTION_ROW (row), g_dgettext (GETTEXT_PACKAGE, blurb));
      if (range)
        gtk_widget_set_tooltip_text (row, range);
      editor = make_editor (self, params[i], row);
      if (editor == NULL)
        continue;
      if (GTK_IS_SCALE (editor))
        {
          /* Sliders get the row's full width under the title. */
          GtkWidget *vbox = gtk_box_new (GTK_ORIENTATION_VERTICAL, 0);
          GtkWidget *title = gtk_label_new (nick);
          gtk_label_set_xalign (GTK_LABEL (title), 0);
          gtk_widget_set_tooltip_text (title, blurb ? g_dgettext (GETTEXT_PACKAGE, blurb) : NULL);
          gtk_widget_set_margin_start (vbox, 12);
          gtk_widget_set_margin_end (vbox, 12);
          gtk_widget_set_margin_top (vbox, 8);
          gtk_widget_set_margin_bottom (vbox, 4);
          gtk_box_append (GTK_BOX (vbox), title);
          gtk_box_append (GTK_BOX (vbox), editor);
          g_object_ref_sink (row);
          g_object_unref (row);
          /* An AdwPreferencesRow, or the group would put it outside its boxed list. */
          row = adw_preferences_row_new ();
          adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), nick);
          gtk_accessible_update_property (GTK_ACCESSIBLE (row), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                          nick, -1);
          gtk_list_box_row_set_activatable (GTK_LIST_BOX_ROW (row), FALSE);
          gtk_list_box_row_set_child (GTK_LIST_BOX_ROW (row), vbox);
        }
      else
        adw_action_row_add_suffix (ADW_ACTION_ROW (row), editor);
      adw_preferences_group_add (ADW_PREFERENCES_GROUP (self->params), row);
      g_hash_table_insert (self->editors, g_strdup (params[i]->name), editor);
      sync_editor (self, params[i]);
    }
  gtk_box_append (GTK_BOX (self->box), self->params);
}

void
catena_inspector_set_stage (CatenaInspector *self, CatenaStage *stage)
{
  g_return_if_fail (CATENA_IS_INSPECTOR (self));

  if (self->stage == stage)
    return;
  if (self->stage)
    g_signal_handlers_disconnect_by_func (self->stage, on_stage_notify, self);
  g_set_object (&self->stage, stage);
  if (stage)
    g_signal_connect_object (stage, "notify", G_CALLBACK (on_stage_notify), self,
                             G_CONNECT_SWAPPED);
  rebuild (self);
}

CatenaStage *
catena_inspector_get_stage (CatenaInspector *self)
{
  g_return_val_if_fail (CATENA_IS_INSPECTOR (self), NULL);
  return self->stage;
}

void
catena_inspector_set_history (CatenaInspector *self, CatenaHistory *history)
{
  g_return_if_fail (CATENA_IS_INSPECTOR (self));
  g_set_object (&self->history, history);
  catena_routing_group_set_history (CATENA_ROUTING_GROUP (self->routing), history);
}

CatenaRoutingGroup *
catena_inspector_get_routing (CatenaInspector *self)
{
  g_return_val_if_fail (CATENA_IS_INSPECTOR (self), NULL);
  return CATENA_ROUTING_GROUP (self->routing);
}

void
catena_inspector_set_candidates (CatenaInspector *self, guint n)
{
  guint pick = 0;

  g_return_if_fail (CATENA_IS_INSPECTOR (self));

  catena_candidate_grid_set_n (CATENA_CANDIDATE_GRID (self->candidate_grid), n);
  if (self->stage && g_object_class_find_property (G_OBJECT_GET_CLASS (self->stage), "pick"))
    g_object_get (self->stage, "pick", &pick, NULL);
  catena_candidate_grid_set_pick (CATENA_CANDIDATE_GRID (self->candidate_grid), pick);
  gtk_widget_set_visible (self->candidates, n > 0);
}

CatenaCandidateGrid *
catena_inspector_get_candidate_grid (CatenaInspector *self)
{
  g_return_val_if_fail (CATENA_IS_INSPECTOR (self), NULL);
  return CATENA_CANDIDATE_GRID (self->candidate_grid);
}

void
catena_inspector_set_sweep_status (CatenaInspector *self, const char *status)
{
  g_return_if_fail (CATENA_IS_INSPECTOR (self));

  adw_action_row_set_subtitle (ADW_ACTION_ROW (self->sweep_row),
                               status ? status
                                      : _("Renders strengths 0.25, 0.5, 0.75 and 1 once, so the "
                                          "slider can scrub across them without new requests"));
}

const char *
catena_inspector_get_sweep_status (CatenaInspector *self)
{
  g_return_val_if_fail (CATENA_IS_INSPECTOR (self), NULL);
  return adw_action_row_get_subtitle (ADW_ACTION_ROW (self->sweep_row));
}

GtkWidget *
catena_inspector_get_editor (CatenaInspector *self, const char *param)
{
  g_return_val_if_fail (CATENA_IS_INSPECTOR (self), NULL);
  return g_hash_table_lookup (self->editors, param);
}

static void
catena_inspector_dispose (GObject *object)
{
  CatenaInspector *self = CATENA_INSPECTOR (object);
  GtkWidget *child;

  if (self->stage)
    g_signal_handlers_disconnect_by_func (self->stage, on_stage_notify, self);
  g_clear_object (&self->stage);
  g_clear_object (&self->history);
  g_clear_handle_id (&self->finish_source, g_source_remove);
  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self))))
    gtk_widget_unparent (child);

  G_OBJECT_CLASS (catena_inspector_parent_class)->dispose (object);
}

static void
catena_inspector_finalize (GObject *object)
{
  CatenaInspector *self = CATENA_INSPECTOR (object);

  g_hash_table_unref (self->editors);

  G_OBJECT_CLASS (catena_inspector_parent_class)->finalize (object);
}

static void
catena_inspector_class_init (CatenaInspectorClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = catena_inspector_dispose;
  object_class->finalize = catena_inspector_finalize;

  /* (CatenaStage *stage, const char *param): a slider was let go (or keyboard changes
   * paused); the window renders exact values of remote stages then. */
  signals[EDIT_FINISHED] = g_signal_new ("edit-finished", G_TYPE_FROM_CLASS (klass),
                                         G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL, G_TYPE_NONE, 2,
                                         CATENA_TYPE_STAGE, G_TYPE_STRING);
  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BOX_LAYOUT);
  gtk_widget_class_set_css_name (widget_class, "inspector");
}

static void
catena_inspector_init (CatenaInspector *self)
{
  GtkWidget *header, *titles;

  self->editors = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  gtk_orientable_set_orientation (GTK_ORIENTABLE (gtk_widget_get_layout_manager (
                                    GTK_WIDGET (self))),
                                  GTK_ORIENTATION_VERTICAL);

  self->empty = adw_status_page_new ();
  adw_status_page_set_icon_name (ADW_STATUS_PAGE (self->empty), "view-paged-symbolic");
  adw_status_page_set_title (ADW_STATUS_PAGE (self->empty), _("No Stage Selected"));
  adw_status_page_set_description (ADW_STATUS_PAGE (self->empty),
                                   _("Select a stage in the chain to adjust it"));
  gtk_widget_add_css_class (self->empty, "compact");
  gtk_widget_set_can_focus (self->empty, FALSE); /* nothing to do there */
  gtk_widget_set_vexpand (self->empty, TRUE);
  gtk_widget_set_parent (self->empty, GTK_WIDGET (self));

  self->box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 18);
  gtk_widget_set_margin_start (self->box, 12);
  gtk_widget_set_margin_end (self->box, 12);
  gtk_widget_set_margin_top (self->box, 12);
  gtk_widget_set_margin_bottom (self->box, 12);
  gtk_widget_set_parent (self->box, GTK_WIDGET (self));

  header = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 12);
  self->icon = gtk_image_new ();
  gtk_image_set_icon_size (GTK_IMAGE (self->icon), GTK_ICON_SIZE_LARGE);
  gtk_widget_set_valign (self->icon, GTK_ALIGN_START);
  gtk_box_append (GTK_BOX (header), self->icon);
  titles = gtk_box_new (GTK_ORIENTATION_VERTICAL, 2);
  self->title = gtk_label_new (NULL);
  gtk_label_set_xalign (GTK_LABEL (self->title), 0);
  gtk_widget_add_css_class (self->title, "title-3");
  gtk_box_append (GTK_BOX (titles), self->title);
  self->description = gtk_label_new (NULL);
  gtk_label_set_xalign (GTK_LABEL (self->description), 0);
  gtk_label_set_wrap (GTK_LABEL (self->description), TRUE);
  gtk_widget_add_css_class (self->description, "dim-label");
  gtk_box_append (GTK_BOX (titles), self->description);
  gtk_box_append (GTK_BOX (header), titles);
  gtk_box_append (GTK_BOX (self->box), header);

  self->routing = catena_routing_group_new ();
  gtk_box_append (GTK_BOX (self->box), self->routing);

  self->candidates = adw_preferences_group_new ();
  adw_preferences_group_set_title (ADW_PREFERENCES_GROUP (self->candidates), _("Candidates"));
  adw_preferences_group_set_description (ADW_PREFERENCES_GROUP (self->candidates),
                                         _("Pick the one that continues down the chain: served "
                                           "from the cache, at no cost"));
  self->candidate_grid = catena_candidate_grid_new ();
  adw_preferences_group_add (ADW_PREFERENCES_GROUP (self->candidates), self->candidate_grid);
  gtk_widget_set_visible (self->candidates, FALSE);
  gtk_box_append (GTK_BOX (self->box), self->candidates);

  self->sweep = adw_preferences_group_new ();
  adw_preferences_group_set_title (ADW_PREFERENCES_GROUP (self->sweep), _("Live Strength"));
  self->sweep_row = adw_action_row_new ();
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (self->sweep_row), _("Preview Sweep"));
  adw_action_row_set_subtitle_lines (ADW_ACTION_ROW (self->sweep_row), 4);
  self->sweep_button = gtk_button_new_with_mnemonic (_("_Render…"));
  gtk_widget_set_valign (self->sweep_button, GTK_ALIGN_CENTER);
  gtk_actionable_set_action_name (GTK_ACTIONABLE (self->sweep_button), "win.render-sweep");
  gtk_widget_set_tooltip_text (self->sweep_button,
                               _("Render the strength preview sweep (asks before spending)"));
  adw_action_row_add_suffix (ADW_ACTION_ROW (self->sweep_row), self->sweep_button);
  adw_preferences_group_add (ADW_PREFERENCES_GROUP (self->sweep), self->sweep_row);
  gtk_widget_set_visible (self->sweep, FALSE);
  gtk_box_append (GTK_BOX (self->box), self->sweep);

  rebuild (self);
}

GtkWidget *
catena_inspector_new (void)
{
  return g_object_new (CATENA_TYPE_INSPECTOR, NULL);
}
