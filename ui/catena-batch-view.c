/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <glib/gi18n.h>

#include "catena-batch-view.h"

#define THUMB_SIZE 48

typedef enum
{
  COL_THUMB,
  COL_ID,
  COL_CLASS,
  COL_STATUS,
  COL_PROGRESS,
  COL_STAGE,
  COL_ESTIMATED,
  COL_COST,
} Column;

struct _CatenaBatchView
{
  GtkWidget parent_instance;

  GtkWidget *box;
  GtkEntry *budget_entry;
  GtkButton *pause_button;
  GtkRevealer *budget_revealer;
  GtkLabel *budget_label;
  GtkRevealer *plan_revealer;
  GtkLabel *plan_label;
  GtkGrid *plan_grid;
  GtkStack *stack;
  GtkColumnView *column_view;
  GtkLabel *totals_label;
  GtkLabel *status_label;

  CatenaBatch *batch;
  CatenaPlan *plan;
  GCancellable *plan_cancellable;
  GCancellable *run_cancellable;
  /* cancelled on dispose: thumbnail loads answer nobody after that */
  GCancellable *life;
  GtkNativeDialog *chooser;
  /* output path → GdkTexture: rebinding a cell on scroll must not reload the file */
  GHashTable *thumbs;
  guint totals_idle;
  gboolean running;
  gboolean user_paused;
  gboolean budget_valid;
  gboolean disposed;
};

G_DEFINE_FINAL_TYPE (CatenaBatchView, catena_batch_view, GTK_TYPE_WIDGET)

static void update_actions (CatenaBatchView *self);
static void schedule_totals (CatenaBatchView *self);

static char *
format_usd (double usd)
{
  /* fal bills fractions of a cent per thumbnail: cents alone would hide them */
  if (usd > 0 && usd < 1)
    /* Translators: an amount in US dollars, to a tenth of a cent */
    return g_strdup_printf (_ ("US$%.3f"), usd);
  /* Translators: an amount in US dollars */
  return g_strdup_printf (_ ("US$%.2f"), usd);
}

static void
set_status (CatenaBatchView *self, const char *text)
{
  gtk_label_set_label (self->status_label, text ? text : "");
}

/* ---- cells ---------------------------------------------------------------------------- */

static gboolean
transform_enum (GBinding *binding, const GValue *from, GValue *to, gpointer data)
{
  Column column = GPOINTER_TO_INT (data);
  int v = g_value_get_enum (from);

  if (column == COL_CLASS)
    {
      g_value_set_string (to, catena_asset_class_to_string (v));
      return TRUE;
    }
  switch ((CatenaBatchRowStatus)v)
    {
    case CATENA_BATCH_ROW_PENDING:
      g_value_set_string (to, _ ("Waiting"));
      break;
    case CATENA_BATCH_ROW_RUNNING:
      g_value_set_string (to, _ ("Running"));
      break;
    case CATENA_BATCH_ROW_DONE:
      g_value_set_string (to, _ ("Done"));
      break;
    case CATENA_BATCH_ROW_FAILED:
      g_value_set_string (to, _ ("Failed"));
      break;
    case CATENA_BATCH_ROW_CANCELLED:
      g_value_set_string (to, _ ("Cancelled"));
      break;
    default:
      g_value_set_string (to, "");
      break;
    }
  return TRUE;
}

static gboolean
transform_usd (GBinding *binding, const GValue *from, GValue *to, gpointer data)
{
  g_value_take_string (to, format_usd (g_value_get_double (from)));
  return TRUE;
}

static gboolean
transform_str (GBinding *binding, const GValue *from, GValue *to, gpointer data)
{
  const char *s = g_value_get_string (from);
  g_value_set_string (to, s ? s : "");
  return TRUE;
}

static GdkPixbuf *
load_thumb (const char *path, GCancellable *cancellable, GError **error)
{
  if (g_cancellable_set_error_if_cancelled (cancellable, error))
    return NULL;
  return gdk_pixbuf_new_from_file_at_scale (path, THUMB_SIZE * 2, THUMB_SIZE * 2, TRUE, error);
}

static void
load_thumb_thread (GTask *task, gpointer source, gpointer data, GCancellable *cancellable)
{
  GError *error = NULL;
  GdkPixbuf *pixbuf = load_thumb (data, cancellable, &error);

  if (pixbuf)
    g_task_return_pointer (task, pixbuf, g_object_unref);
  else if (error)
    g_task_return_error (task, error);
  else
    /* some loaders give up on a damaged file without saying why */
    g_task_return_new_error (task, GDK_PIXBUF_ERROR, GDK_PIXBUF_ERROR_CORRUPT_IMAGE,
                             "Unreadable image");
}

static void
on_thumb_loaded (GObject *source, GAsyncResult *result, gpointer data)
{
  CatenaBatchView *self = CATENA_BATCH_VIEW (source);
  g_autoptr (GtkPicture) picture = data;
  g_autoptr (GError) error = NULL;
  g_autoptr (GdkPixbuf) pixbuf = g_task_propagate_pointer (G_TASK (result), &error);
  const char *path = g_task_get_task_data (G_TASK (result));
  g_autoptr (GdkTexture) texture = NULL;

  if (pixbuf == NULL)
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        g_debug ("No thumbnail for %s: %s", path, error->message);
      return;
    }
  texture = gdk_texture_new_for_pixbuf (pixbuf);
  g_hash_table_replace (self->thumbs, g_strdup (path), g_object_ref (texture));
  /* the cell may show another row by now */
  if (g_strcmp0 (g_object_get_data (G_OBJECT (picture), "catena-path"), path) == 0)
    gtk_picture_set_paintable (picture, GDK_PAINTABLE (texture));
}

static void
on_row_output (CatenaBatchRow *row, GParamSpec *pspec, GtkPicture *picture)
{
  CatenaBatchView *self = g_object_get_data (G_OBJECT (picture), "catena-view");
  const char *path = catena_batch_row_get_output (row);
  GdkTexture *texture;
  g_autoptr (GTask) task = NULL;

  g_object_set_data_full (G_OBJECT (picture), "catena-path", g_strdup (path), g_free);
  if (path == NULL || self == NULL)
    {
      gtk_picture_set_paintable (picture, NULL);
      return;
    }
  texture = g_hash_table_lookup (self->thumbs, path);
  gtk_picture_set_paintable (picture, texture ? GDK_PAINTABLE (texture) : NULL);
  if (texture)
    return;
  task = g_task_new (self, self->life, on_thumb_loaded, g_object_ref (picture));
  g_task_set_source_tag (task, on_row_output);
  g_task_set_task_data (task, g_strdup (path), g_free);
  g_task_run_in_thread (task, load_thumb_thread);
}

static void
setup_cell (GtkSignalListItemFactory *factory, GtkListItem *item, gpointer data)
{
  Column column = GPOINTER_TO_INT (data);
  GtkWidget *child;

  switch (column)
    {
    case COL_THUMB:
      child = gtk_picture_new ();
      gtk_widget_set_size_request (child, THUMB_SIZE, THUMB_SIZE);
      gtk_picture_set_content_fit (GTK_PICTURE (child), GTK_CONTENT_FIT_CONTAIN);
      gtk_picture_set_can_shrink (GTK_PICTURE (child), TRUE);
      break;
    case COL_PROGRESS:
      child = gtk_progress_bar_new ();
      gtk_widget_set_valign (child, GTK_ALIGN_CENTER);
      gtk_widget_set_size_request (child, 96, -1);
      break;
    default:
      child = gtk_label_new (NULL);
      gtk_label_set_ellipsize (GTK_LABEL (child), PANGO_ELLIPSIZE_END);
      if (column == COL_ESTIMATED || column == COL_COST)
        {
          gtk_label_set_xalign (GTK_LABEL (child), 1);
          gtk_widget_add_css_class (child, "numeric");
        }
      else
        gtk_label_set_xalign (GTK_LABEL (child), 0);
      break;
    }
  gtk_list_item_set_child (item, child);
}

static void
keep_binding (GtkListItem *item, const char *name, GBinding *binding)
{
  g_object_set_data (G_OBJECT (item), name, binding);
}

static void
bind_cell (GtkSignalListItemFactory *factory, GtkListItem *item, gpointer data)
{
  Column column = GPOINTER_TO_INT (data);
  CatenaBatchRow *row = gtk_list_item_get_item (item);
  GtkWidget *child = gtk_list_item_get_child (item);
  const GBindingFlags flags = G_BINDING_SYNC_CREATE;

  switch (column)
    {
    case COL_THUMB:
      {
        CatenaBatchView *self = g_object_get_data (G_OBJECT (factory), "catena-view");
        gulong id;

        g_object_set_data (G_OBJECT (child), "catena-view", self);
        id = g_signal_connect_object (row, "notify::output", G_CALLBACK (on_row_output), child, 0);
        g_object_set_data (G_OBJECT (item), "catena-handler", GSIZE_TO_POINTER (id));
        on_row_output (row, NULL, GTK_PICTURE (child));
        gtk_widget_set_tooltip_text (child, catena_batch_row_get_source (row));
      }
      break;
    case COL_PROGRESS:
      keep_binding (item, "catena-binding",
                    g_object_bind_property (row, "progress", child, "fraction", flags));
      break;
    case COL_ID:
      keep_binding (item, "catena-binding",
                    g_object_bind_property_full (row, "id", child, "label", flags, transform_str,
                                                 NULL, NULL, NULL));
      break;
    case COL_STAGE:
      keep_binding (item, "catena-binding",
                    g_object_bind_property_full (row, "stage", child, "label", flags, transform_str,
                                                 NULL, NULL, NULL));
      break;
    case COL_CLASS:
      keep_binding (item, "catena-binding",
                    g_object_bind_property_full (row, "asset-class", child, "label", flags,
                                                 transform_enum, NULL, data, NULL));
      break;
    case COL_STATUS:
      keep_binding (item, "catena-binding",
                    g_object_bind_property_full (row, "status", child, "label", flags,
                                                 transform_enum, NULL, data, NULL));
      /* why a row failed, where the status is */
      keep_binding (item, "catena-binding2",
                    g_object_bind_property (row, "message", child, "tooltip-text", flags));
      break;
    case COL_ESTIMATED:
    case COL_COST:
      keep_binding (
          item, "catena-binding",
          g_object_bind_property_full (row, column == COL_COST ? "cost" : "estimated-cost", child,
                                       "label", flags, transform_usd, NULL, NULL, NULL));
      break;
    default:
      g_assert_not_reached ();
    }
}

static void
unbind_cell (GtkSignalListItemFactory *factory, GtkListItem *item, gpointer data)
{
  const char *names[] = { "catena-binding", "catena-binding2" };
  gulong id = GPOINTER_TO_SIZE (g_object_steal_data (G_OBJECT (item), "catena-handler"));

  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    {
      GBinding *binding = g_object_steal_data (G_OBJECT (item), names[i]);
      if (binding)
        g_binding_unbind (binding);
    }
  if (id != 0)
    {
      GtkWidget *child = gtk_list_item_get_child (item);
      g_signal_handler_disconnect (gtk_list_item_get_item (item), id);
      g_object_set_data (G_OBJECT (child), "catena-path", NULL);
      gtk_picture_set_paintable (GTK_PICTURE (child), NULL);
    }
}

static void
add_column (CatenaBatchView *self, Column column, const char *title, gboolean expand)
{
  GtkListItemFactory *factory = gtk_signal_list_item_factory_new ();
  g_autoptr (GtkColumnViewColumn) col = NULL;

  g_object_set_data (G_OBJECT (factory), "catena-view", self);
  g_signal_connect (factory, "setup", G_CALLBACK (setup_cell), GINT_TO_POINTER (column));
  g_signal_connect (factory, "bind", G_CALLBACK (bind_cell), GINT_TO_POINTER (column));
  g_signal_connect (factory, "unbind", G_CALLBACK (unbind_cell), GINT_TO_POINTER (column));
  col = gtk_column_view_column_new (title, factory);
  gtk_column_view_column_set_expand (col, expand);
  gtk_column_view_column_set_resizable (col, column != COL_THUMB);
  gtk_column_view_append_column (self->column_view, col);
}

/* ---- totals, plan, state -------------------------------------------------------------- */

static double
budget_limit (CatenaBatchView *self)
{
  g_autofree char *text
      = g_strstrip (g_strdup (gtk_editable_get_text (GTK_EDITABLE (self->budget_entry))));
  double v;
  char *end;

  g_strdelimit (text, ",", '.');
  if (text[0] == '\0')
    return -1;
  v = g_ascii_strtod (text, &end);
  return *end == '\0' && v >= 0 ? v : -1;
}

static gboolean
update_totals (gpointer data)
{
  CatenaBatchView *self = data;
  GListModel *rows = catena_batch_get_rows (self->batch);
  guint n = g_list_model_get_n_items (rows), calls = 0;
  double estimated = 0, spent = catena_batch_get_spent (self->batch), limit;
  CatenaBudget *budget = catena_batch_get_budget (self->batch);
  g_autofree char *est_text = NULL, *spent_text = NULL, *left_text = NULL, *text = NULL;

  self->totals_idle = 0;
  for (guint i = 0; i < n; i++)
    {
      g_autoptr (CatenaBatchRow) row = g_list_model_get_item (rows, i);
      guint c;
      double e;

      g_object_get (row, "calls", &c, "estimated-cost", &e, NULL);
      calls += c;
      estimated += e;
    }
  /* before a run the rows have no estimates yet: the plan has them */
  if (estimated == 0 && self->plan)
    estimated = catena_plan_get_total_cost (self->plan);

  limit = budget_limit (self);
  est_text = format_usd (estimated);
  spent_text = format_usd (spent);
  if (limit < 0)
    left_text = g_strdup (_ ("no limit"));
  else
    {
      double used
          = budget ? catena_budget_get_spent (budget) + catena_budget_get_reserved (budget) : spent;
      left_text = format_usd (MAX (limit - used, 0));
    }
  text = g_strdup_printf (_ ("%u SKUs · %u done · %u failed · %u calls · estimated %s · "
                             "spent %s · budget left %s"),
                          n, catena_batch_get_n_done (self->batch),
                          catena_batch_get_n_failed (self->batch), calls, est_text, spent_text,
                          left_text);
  gtk_label_set_label (self->totals_label, text);
  return G_SOURCE_REMOVE;
}

static void
schedule_totals (CatenaBatchView *self)
{
  /* progress arrives per stage and per row: one refresh per main-loop turn is plenty */
  if (self->totals_idle == 0)
    self->totals_idle = g_idle_add_full (G_PRIORITY_LOW, update_totals, self, NULL);
}

static void
clear_grid (GtkGrid *grid)
{
  GtkWidget *child;

  while ((child = gtk_widget_get_first_child (GTK_WIDGET (grid))))
    gtk_grid_remove (grid, child);
}

static void
grid_row (GtkGrid *grid,
          int y,
          const char *a,
          const char *b,
          const char *c,
          const char *d,
          const char *css)
{
  const char *cells[] = { a, b, c, d };

  for (int x = 0; x < 4; x++)
    {
      GtkWidget *label = gtk_label_new (cells[x]);
      gtk_label_set_xalign (GTK_LABEL (label), x == 0 ? 0 : 1);
      gtk_widget_add_css_class (label, "numeric");
      if (css)
        gtk_widget_add_css_class (label, css);
      gtk_grid_attach (grid, label, x, y, 1, 1);
    }
}

static void
show_plan (CatenaBatchView *self)
{
  CatenaPlan *plan = self->plan;
  guint assets[CATENA_ASSET_CLASS_PRINT + 1] = { 0 };
  g_autoptr (GHashTable) seen = g_hash_table_new (g_str_hash, g_str_equal);
  guint n_errors = catena_plan_count (plan, CATENA_PLAN_ERROR);
  g_autofree char *total = format_usd (catena_plan_get_total_cost (plan));
  g_autofree char *calls = g_strdup_printf ("%u", catena_plan_get_n_calls (plan));
  g_autofree char *skus = g_strdup_printf ("%u", catena_plan_get_n_assets (plan));
  g_autofree char *heading = NULL;
  int y = 1;

  for (guint i = 0; i < catena_plan_get_n_steps (plan); i++)
    {
      const CatenaPlanStep *step = catena_plan_get_step (plan, i);
      if (step->asset_class <= CATENA_ASSET_CLASS_PRINT && g_hash_table_add (seen, step->asset_id))
        assets[step->asset_class]++;
    }

  clear_grid (self->plan_grid);
  grid_row (self->plan_grid, 0, _ ("Class"), _ ("SKUs"), _ ("Paid calls"), _ ("Estimated"),
            "dim-label");
  for (guint c = 0; c <= CATENA_ASSET_CLASS_PRINT; c++)
    {
      g_autofree char *n = NULL, *k = NULL, *cost = NULL;

      if (assets[c] == 0)
        continue;
      n = g_strdup_printf ("%u", assets[c]);
      k = g_strdup_printf ("%u", catena_plan_get_class_calls (plan, c));
      cost = format_usd (catena_plan_get_class_cost (plan, c));
      grid_row (self->plan_grid, y++, catena_asset_class_to_string (c), n, k, cost, NULL);
    }
  grid_row (self->plan_grid, y, _ ("Total"), skus, calls, total, "heading");

  if (catena_plan_get_n_assets (plan) == 0)
    heading = g_strdup (_ ("Nothing left to plan: every SKU is done"));
  else
    heading = g_strdup_printf (_ ("Plan: %u paid calls, about %s before any spend"),
                               catena_plan_get_n_calls (plan), total);
  if (n_errors > 0)
    {
      g_autofree char *with_errors
          = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%s; %u SKU cannot run (see its status)",
                                          "%s; %u SKUs cannot run (see their status)", n_errors),
                             heading, n_errors);
      g_free (heading);
      heading = g_steal_pointer (&with_errors);
    }
  if (catena_plan_get_pricing_date (plan))
    {
      g_autofree char *dated = g_strdup_printf (_ ("%s (prices as read on %s)"), heading,
                                                catena_plan_get_pricing_date (plan));
      g_free (heading);
      heading = g_steal_pointer (&dated);
    }
  gtk_label_set_label (self->plan_label, heading);
  gtk_revealer_set_reveal_child (self->plan_revealer, TRUE);
}

static void
on_plan_done (GObject *source, GAsyncResult *result, gpointer data)
{
  g_autoptr (CatenaBatchView) self = data;
  g_autoptr (GError) error = NULL;
  g_autoptr (CatenaPlan) plan = catena_plan_compute_finish (result, &error);

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED) || self->disposed)
    return;
  g_clear_object (&self->plan_cancellable);
  if (plan == NULL)
    set_status (self, error->message);
  else
    {
      g_set_object (&self->plan, plan);
      show_plan (self);
      set_status (self, NULL);
    }
  schedule_totals (self);
  update_actions (self);
}

static void
invalidate_plan (CatenaBatchView *self)
{
  if (self->plan_cancellable)
    g_cancellable_cancel (self->plan_cancellable);
  g_clear_object (&self->plan_cancellable);
  g_clear_object (&self->plan);
  gtk_revealer_set_reveal_child (self->plan_revealer, FALSE);
  gtk_label_set_label (self->plan_label, "");
}

static void
on_rows_changed (
    GListModel *rows, guint position, guint removed, guint added, CatenaBatchView *self)
{
  gtk_stack_set_visible_child_name (self->stack,
                                    g_list_model_get_n_items (rows) > 0 ? "rows" : "empty");
  invalidate_plan (self);
  schedule_totals (self);
  update_actions (self);
}

static void
on_batch_notify (CatenaBatch *batch, GParamSpec *pspec, CatenaBatchView *self)
{
  CatenaBatchState state = catena_batch_get_state (batch);
  gboolean budget_paused = state == CATENA_BATCH_PAUSED && !self->user_paused;

  gtk_label_set_label (self->budget_label, budget_paused ? catena_batch_get_message (batch) : "");
  gtk_revealer_set_reveal_child (self->budget_revealer, budget_paused);
  /* the budget's sentence is in the warning above; the footer need not repeat it */
  if (self->running && catena_batch_get_message (batch) && !budget_paused)
    set_status (self, catena_batch_get_message (batch));
  schedule_totals (self);
  update_actions (self);
}

static void
on_budget_changed (GtkEditable *editable, CatenaBatchView *self)
{
  g_autofree char *text = g_strstrip (g_strdup (gtk_editable_get_text (editable)));
  double v = -1;
  char *end = NULL;

  g_strdelimit (text, ",", '.');
  if (text[0] != '\0')
    v = g_ascii_strtod (text, &end);
  self->budget_valid = text[0] == '\0' || (end && *end == '\0' && v >= 0);
  if (self->budget_valid)
    {
      gtk_widget_remove_css_class (GTK_WIDGET (editable), "error");
      catena_batch_set_budget_limit (self->batch, text[0] == '\0' ? -1 : v);
    }
  else
    gtk_widget_add_css_class (GTK_WIDGET (editable), "error");
  schedule_totals (self);
  update_actions (self);
}

static void
update_actions (CatenaBatchView *self)
{
  GtkWidget *widget = GTK_WIDGET (self);
  gboolean has_rows = g_list_model_get_n_items (catena_batch_get_rows (self->batch)) > 0;
  gboolean planning = self->plan_cancellable != NULL;
  gboolean paused = catena_batch_get_state (self->batch) == CATENA_BATCH_PAUSED;

  gtk_widget_action_set_enabled (widget, "batch.add-folder", !self->running);
  gtk_widget_action_set_enabled (widget, "batch.add-csv", !self->running);
  gtk_widget_action_set_enabled (widget, "batch.plan", has_rows && !self->running && !planning);
  gtk_widget_action_set_enabled (widget, "batch.run",
                                 has_rows && !self->running && self->budget_valid);
  gtk_widget_action_set_enabled (widget, "batch.pause", self->running);
  gtk_widget_action_set_enabled (widget, "batch.cancel", self->running || planning);
  gtk_button_set_label (self->pause_button, paused ? _ ("Res_ume") : _ ("Pa_use"));
}

/* ---- actions -------------------------------------------------------------------------- */

static void
action_plan (GtkWidget *widget, const char *name, GVariant *param)
{
  CatenaBatchView *self = CATENA_BATCH_VIEW (widget);
  CatenaProject *project = catena_batch_get_project (self->batch);
  GListModel *rows = catena_batch_get_rows (self->batch);
  g_autoptr (GPtrArray) assets = g_ptr_array_new ();

  invalidate_plan (self);
  for (guint i = 0; i < g_list_model_get_n_items (rows); i++)
    {
      g_autoptr (CatenaBatchRow) row = g_list_model_get_item (rows, i);
      CatenaAsset *asset;

      if (catena_batch_row_get_status (row) == CATENA_BATCH_ROW_DONE)
        continue;
      asset = catena_project_find_asset (project, catena_batch_row_get_id (row));
      if (asset)
        g_ptr_array_add (assets, asset);
    }
  self->plan_cancellable = g_cancellable_new ();
  set_status (self, _ ("Planning…"));
  /* the cache the run will read, so "cached" means what the run will find */
  catena_plan_compute_async (project, assets, catena_batch_get_router (self->batch),
                             catena_runner_get_cache (catena_batch_get_runner (self->batch)),
                             self->plan_cancellable, on_plan_done, g_object_ref (self));
  update_actions (self);
}

static void
on_run_done (GObject *source, GAsyncResult *result, gpointer data)
{
  g_autoptr (CatenaBatchView) self = data;
  g_autoptr (GError) error = NULL;

  catena_batch_run_finish (CATENA_BATCH (source), result, &error);
  self->running = FALSE;
  /* a run cancelled by closing the view answers after its widgets are gone */
  if (self->disposed)
    return;
  self->user_paused = FALSE;
  /* cancellation is not an error: the batch's own message says what was kept */
  if (error && !g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    set_status (self, error->message);
  else
    set_status (self, catena_batch_get_message (CATENA_BATCH (source)));
  on_batch_notify (CATENA_BATCH (source), NULL, self);
}

static void
action_run (GtkWidget *widget, const char *name, GVariant *param)
{
  CatenaBatchView *self = CATENA_BATCH_VIEW (widget);

  if (self->run_cancellable == NULL || g_cancellable_is_cancelled (self->run_cancellable))
    g_set_object (&self->run_cancellable, g_cancellable_new ());
  self->running = TRUE;
  self->user_paused = FALSE;
  catena_batch_run_async (self->batch, self->run_cancellable, on_run_done, g_object_ref (self));
  update_actions (self);
}

static void
action_pause (GtkWidget *widget, const char *name, GVariant *param)
{
  CatenaBatchView *self = CATENA_BATCH_VIEW (widget);

  if (catena_batch_get_state (self->batch) == CATENA_BATCH_PAUSED)
    {
      self->user_paused = FALSE;
      catena_batch_resume (self->batch);
    }
  else
    {
      self->user_paused = TRUE;
      catena_batch_pause (self->batch);
    }
  update_actions (self);
}

static void
action_cancel (GtkWidget *widget, const char *name, GVariant *param)
{
  CatenaBatchView *self = CATENA_BATCH_VIEW (widget);

  if (self->plan_cancellable)
    {
      invalidate_plan (self);
      set_status (self, NULL);
    }
  if (self->run_cancellable)
    g_cancellable_cancel (self->run_cancellable);
  update_actions (self);
}

static void
on_chooser_response (GtkNativeDialog *chooser, int response, CatenaBatchView *self)
{
  gboolean csv = GPOINTER_TO_INT (g_object_get_data (G_OBJECT (chooser), "catena-csv"));
  g_autoptr (GFile) file = NULL;
  g_autofree char *path = NULL;
  g_autoptr (GError) error = NULL;

  if (response == GTK_RESPONSE_ACCEPT)
    file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (chooser));
  gtk_native_dialog_destroy (chooser);
  g_clear_object (&self->chooser);
  if (file == NULL || (path = g_file_get_path (file)) == NULL)
    return;
  if (csv ? !catena_batch_view_load_csv (self, path, &error)
          : !catena_batch_view_load_folder (self, path, &error))
    set_status (self, error->message);
}

static void
choose (CatenaBatchView *self, gboolean csv)
{
  GtkRoot *root = gtk_widget_get_root (GTK_WIDGET (self));
  GtkFileChooserNative *chooser;

  if (self->chooser)
    return;
  chooser = gtk_file_chooser_native_new (
      csv ? _ ("Add SKUs from a CSV") : _ ("Add a Folder of Photos"),
      GTK_IS_WINDOW (root) ? GTK_WINDOW (root) : NULL,
      csv ? GTK_FILE_CHOOSER_ACTION_OPEN : GTK_FILE_CHOOSER_ACTION_SELECT_FOLDER, _ ("_Add"),
      _ ("_Cancel"));
  if (csv)
    {
      g_autoptr (GtkFileFilter) filter = gtk_file_filter_new ();
      gtk_file_filter_set_name (filter, _ ("CSV files"));
      gtk_file_filter_add_pattern (filter, "*.csv");
      gtk_file_filter_add_pattern (filter, "*.CSV");
      gtk_file_filter_add_mime_type (filter, "text/csv");
      gtk_file_chooser_add_filter (GTK_FILE_CHOOSER (chooser), filter);
    }
  gtk_native_dialog_set_modal (GTK_NATIVE_DIALOG (chooser), TRUE);
  g_object_set_data (G_OBJECT (chooser), "catena-csv", GINT_TO_POINTER (csv));
  g_signal_connect (chooser, "response", G_CALLBACK (on_chooser_response), self);
  self->chooser = GTK_NATIVE_DIALOG (chooser);
  gtk_native_dialog_show (self->chooser);
}

static void
action_add (GtkWidget *widget, const char *name, GVariant *param)
{
  choose (CATENA_BATCH_VIEW (widget), g_str_equal (name, "batch.add-csv"));
}

/* ---- object --------------------------------------------------------------------------- */

static void
catena_batch_view_dispose (GObject *object)
{
  CatenaBatchView *self = CATENA_BATCH_VIEW (object);

  self->disposed = TRUE;
  g_cancellable_cancel (self->life);
  if (self->run_cancellable)
    g_cancellable_cancel (self->run_cancellable);
  if (self->plan_cancellable)
    g_cancellable_cancel (self->plan_cancellable);
  if (self->chooser)
    gtk_native_dialog_destroy (self->chooser);
  g_clear_object (&self->chooser);
  g_clear_handle_id (&self->totals_idle, g_source_remove);
  if (self->batch)
    {
      g_signal_handlers_disconnect_by_data (self->batch, self);
      g_signal_handlers_disconnect_by_data (catena_batch_get_rows (self->batch), self);
    }
  gtk_widget_dispose_template (GTK_WIDGET (self), CATENA_TYPE_BATCH_VIEW);
  G_OBJECT_CLASS (catena_batch_view_parent_class)->dispose (object);
}

static void
catena_batch_view_finalize (GObject *object)
{
  CatenaBatchView *self = CATENA_BATCH_VIEW (object);

  g_clear_object (&self->batch);
  g_clear_object (&self->plan);
  g_clear_object (&self->plan_cancellable);
  g_clear_object (&self->run_cancellable);
  g_clear_object (&self->life);
  g_clear_pointer (&self->thumbs, g_hash_table_unref);
  G_OBJECT_CLASS (catena_batch_view_parent_class)->finalize (object);
}

static void
catena_batch_view_class_init (CatenaBatchViewClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = catena_batch_view_dispose;
  object_class->finalize = catena_batch_view_finalize;

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/io/github/catena/Catena/catena-batch-view.ui");
  gtk_widget_class_bind_template_child (widget_class, CatenaBatchView, box);
  gtk_widget_class_bind_template_child (widget_class, CatenaBatchView, budget_entry);
  gtk_widget_class_bind_template_child (widget_class, CatenaBatchView, pause_button);
  gtk_widget_class_bind_template_child (widget_class, CatenaBatchView, budget_revealer);
  gtk_widget_class_bind_template_child (widget_class, CatenaBatchView, budget_label);
  gtk_widget_class_bind_template_child (widget_class, CatenaBatchView, plan_revealer);
  gtk_widget_class_bind_template_child (widget_class, CatenaBatchView, plan_label);
  gtk_widget_class_bind_template_child (widget_class, CatenaBatchView, plan_grid);
  gtk_widget_class_bind_template_child (widget_class, CatenaBatchView, stack);
  gtk_widget_class_bind_template_child (widget_class, CatenaBatchView, column_view);
  gtk_widget_class_bind_template_child (widget_class, CatenaBatchView, totals_label);
  gtk_widget_class_bind_template_child (widget_class, CatenaBatchView, status_label);
  gtk_widget_class_bind_template_callback (widget_class, on_budget_changed);

  gtk_widget_class_install_action (widget_class, "batch.add-folder", NULL, action_add);
  gtk_widget_class_install_action (widget_class, "batch.add-csv", NULL, action_add);
  gtk_widget_class_install_action (widget_class, "batch.plan", NULL, action_plan);
  gtk_widget_class_install_action (widget_class, "batch.run", NULL, action_run);
  gtk_widget_class_install_action (widget_class, "batch.pause", NULL, action_pause);
  gtk_widget_class_install_action (widget_class, "batch.cancel", NULL, action_cancel);

  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BIN_LAYOUT);
  gtk_widget_class_set_css_name (widget_class, "batchview");
}

static void
catena_batch_view_init (CatenaBatchView *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  self->life = g_cancellable_new ();
  self->thumbs = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_object_unref);
  self->budget_valid = TRUE;

  add_column (self, COL_THUMB, "", FALSE);
  add_column (self, COL_ID, _ ("SKU"), TRUE);
  add_column (self, COL_CLASS, _ ("Class"), FALSE);
  add_column (self, COL_STATUS, _ ("Status"), FALSE);
  add_column (self, COL_PROGRESS, _ ("Progress"), FALSE);
  add_column (self, COL_STAGE, _ ("Stage"), FALSE);
  add_column (self, COL_ESTIMATED, _ ("Estimated"), FALSE);
  add_column (self, COL_COST, _ ("Cost"), FALSE);
}

GtkWidget *
catena_batch_view_new (CatenaProject *project)
{
  CatenaBatchView *self;
  GListModel *rows;

  g_return_val_if_fail (CATENA_IS_PROJECT (project), NULL);

  self = g_object_new (CATENA_TYPE_BATCH_VIEW, NULL);
  self->batch = catena_batch_new (project);
  rows = catena_batch_get_rows (self->batch);
  gtk_column_view_set_model (self->column_view,
                             GTK_SELECTION_MODEL (gtk_no_selection_new (g_object_ref (rows))));
  g_signal_connect (rows, "items-changed", G_CALLBACK (on_rows_changed), self);
  g_signal_connect (self->batch, "notify", G_CALLBACK (on_batch_notify), self);
  on_rows_changed (rows, 0, 0, 0, self);
  on_batch_notify (self->batch, NULL, self);
  return GTK_WIDGET (self);
}

CatenaBatch *
catena_batch_view_get_batch (CatenaBatchView *self)
{
  g_return_val_if_fail (CATENA_IS_BATCH_VIEW (self), NULL);
  return self->batch;
}

gboolean
catena_batch_view_load_folder (CatenaBatchView *self, const char *dir, GError **error)
{
  g_return_val_if_fail (CATENA_IS_BATCH_VIEW (self), FALSE);
  return catena_batch_load_folder (self->batch, dir, CATENA_ASSET_CLASS_FEED, error);
}

gboolean
catena_batch_view_load_csv (CatenaBatchView *self, const char *path, GError **error)
{
  g_return_val_if_fail (CATENA_IS_BATCH_VIEW (self), FALSE);
  return catena_batch_load_csv (self->batch, path, CATENA_ASSET_CLASS_FEED, error);
}

CatenaPlan *
catena_batch_view_get_plan (CatenaBatchView *self)
{
  g_return_val_if_fail (CATENA_IS_BATCH_VIEW (self), NULL);
  return self->plan;
}

gboolean
catena_batch_view_is_busy (CatenaBatchView *self)
{
  g_return_val_if_fail (CATENA_IS_BATCH_VIEW (self), FALSE);
  return self->running || self->plan_cancellable != NULL;
}

const char *
catena_batch_view_get_plan_text (CatenaBatchView *self)
{
  g_return_val_if_fail (CATENA_IS_BATCH_VIEW (self), NULL);
  return gtk_label_get_label (self->plan_label);
}

const char *
catena_batch_view_get_totals_text (CatenaBatchView *self)
{
  g_return_val_if_fail (CATENA_IS_BATCH_VIEW (self), NULL);
  if (self->totals_idle)
    {
      g_source_remove (self->totals_idle);
      update_totals (self);
    }
  return gtk_label_get_label (self->totals_label);
}

const char *
catena_batch_view_get_budget_warning (CatenaBatchView *self)
{
  g_return_val_if_fail (CATENA_IS_BATCH_VIEW (self), NULL);
  return gtk_revealer_get_reveal_child (self->budget_revealer)
             ? gtk_label_get_label (self->budget_label)
             : NULL;
}
