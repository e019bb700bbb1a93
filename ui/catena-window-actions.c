/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <glib/gi18n.h>

#include "catena-window-private.h"

#define MAX_RECENT 8

/* One toast at a time: a newer message replaces the one on screen. The title is Pango
 * markup in libadwaita 1.2 (no use-markup before 1.4): messages are escaped, so a file named
 * “R&D <draft>.png” shows as it is. */
void
catena_window_toast (CatenaWindow *self, const char *message)
{
  g_autofree char *markup = g_markup_escape_text (message, -1);
  AdwToast *toast = adw_toast_new (markup);

  adw_toast_set_timeout (toast, 5);
  g_free (self->last_toast);
  self->last_toast = g_strdup (message);
  catena_window_dismiss_toast (self);
  self->toast = g_object_ref (toast);
  adw_toast_overlay_add_toast (self->toast_overlay, toast);
}

void
catena_window_dismiss_toast (CatenaWindow *self)
{
  g_return_if_fail (CATENA_IS_WINDOW (self));

  if (self->toast)
    adw_toast_dismiss (self->toast);
  g_clear_object (&self->toast);
}

void
catena_window_update_actions (CatenaWindow *self)
{
  GtkWidget *widget = GTK_WIDGET (self);
  gboolean has_project = self->project != NULL;
  gboolean running = self->runner && catena_runner_get_running (self->runner);
  guint n = has_project ? catena_chain_get_n_stages (catena_project_get_chain (self->project)) : 0;
  guint selected = self->chain_view ? catena_chain_view_get_selected (self->chain_view)
                                    : CATENA_INVALID_POSITION;
  guint n_assets = has_project
                     ? g_list_model_get_n_items (catena_project_get_assets (self->project))
                     : 0;
  gboolean has_selection = selected != CATENA_INVALID_POSITION && selected < n;

  if (self->chain_view == NULL)
    return; /* during template teardown */

  gtk_widget_action_set_enabled (widget, "win.save", has_project);
  gtk_widget_action_set_enabled (widget, "win.save-as", has_project);
  gtk_widget_action_set_enabled (widget, "win.add-assets", has_project);
  gtk_widget_action_set_enabled (widget, "win.add-stage", has_project);
  gtk_widget_action_set_enabled (widget, "win.undo",
                                 self->history && catena_history_can_undo (self->history));
  gtk_widget_action_set_enabled (widget, "win.redo",
                                 self->history && catena_history_can_redo (self->history));
  gtk_widget_action_set_enabled (widget, "win.remove-stage", has_selection);
  gtk_widget_action_set_enabled (widget, "win.move-stage-left", has_selection && selected > 0);
  gtk_widget_action_set_enabled (widget, "win.move-stage-right",
                                 has_selection && selected + 1 < n);
  gtk_widget_action_set_enabled (widget, "win.run", !running && n > 0 && self->asset != NULL);
  gtk_widget_action_set_enabled (widget, "win.run-all", !running && n > 0 && n_assets > 0);
  gtk_widget_action_set_enabled (widget, "win.cancel", running);
  {
    CatenaStage *stage = has_selection ? catena_window_get_selected_stage (self) : NULL;
    const char *kind = stage ? catena_stage_get_kind (stage) : "";

    gtk_widget_action_set_enabled (widget, "win.render-sweep",
                                   g_str_equal (kind, "style") && self->asset != NULL &&
                                     !running && self->sweep_pending == 0);
    gtk_widget_action_set_enabled (widget, "win.pick-candidate", g_str_equal (kind, "generate"));
  }
}

/* Chain edits */

static void
action_add_stage (GtkWidget *widget, const char *name, GVariant *param)
{
  CatenaWindow *self = CATENA_WINDOW (widget);
  guint selected = catena_chain_view_get_selected (self->chain_view);
  guint position = selected == CATENA_INVALID_POSITION
                     ? catena_chain_get_n_stages (catena_project_get_chain (self->project))
                     : selected + 1;

  catena_window_insert_stage (self, g_variant_get_string (param, NULL), position);
}

static void
action_remove_stage (GtkWidget *widget, const char *name, GVariant *param)
{
  CatenaWindow *self = CATENA_WINDOW (widget);
  guint selected = catena_chain_view_get_selected (self->chain_view);

  if (selected != CATENA_INVALID_POSITION)
    catena_history_remove (self->history, selected);
}

static void
action_move_stage (GtkWidget *widget, const char *name, GVariant *param)
{
  CatenaWindow *self = CATENA_WINDOW (widget);
  guint selected = catena_chain_view_get_selected (self->chain_view);
  gboolean left = g_str_has_suffix (name, "left");
  guint n = catena_chain_get_n_stages (catena_project_get_chain (self->project));

  if (selected == CATENA_INVALID_POSITION || (left && selected == 0) ||
      (!left && selected + 1 >= n))
    return;
  catena_history_move (self->history, selected, left ? selected - 1 : selected + 1);
}

static void
action_undo (GtkWidget *widget, const char *name, GVariant *param)
{
  CatenaWindow *self = CATENA_WINDOW (widget);

  if (g_str_equal (name, "win.undo"))
    catena_history_undo (self->history);
  else
    catena_history_redo (self->history);
}

static void
action_pick_candidate (GtkWidget *widget, const char *name, GVariant *param)
{
  catena_window_pick_candidate (CATENA_WINDOW (widget), g_variant_get_uint32 (param));
}

static void
action_render_sweep (GtkWidget *widget, const char *name, GVariant *param)
{
  catena_window_render_sweep (CATENA_WINDOW (widget));
}

/* Runs */

static void
on_run_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (CatenaWindow) self = user_data;
  g_autoptr (GError) error = NULL;
  g_autofree char *message = NULL;

  if (!catena_runner_run_finish (CATENA_RUNNER (source), result, &error))
    {
      /* Cancelling is the user's choice, not a failure. */
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        message = g_strdup (_("Run cancelled"));
      else
        message = g_strdup_printf (_("The run did not finish: %s"), error->message);
    }
  else
    message = g_strdup (_("Run finished"));
  if (self->device_note != NULL)
    {
      /* where the local models ran, when the GPU asked for could not (window.c) */
      g_autofree char *with_note = g_strdup_printf ("%s. %s", message, self->device_note);

      g_clear_pointer (&self->device_note, g_free);
      g_free (message);
      message = g_steal_pointer (&with_note);
    }

  if (g_cancellable_is_cancelled (self->cancellable))
    return; /* the window is gone */
  /* New outputs: thumbnails, brand scores and approval keys on the review board. */
  if (self->review_board)
    catena_review_board_refresh (self->review_board);
  catena_window_toast (self, message);
  catena_window_schedule_refresh (self);
  catena_window_update_actions (self);
}

void
catena_window_run (CatenaWindow *self, gboolean all_assets)
{
  g_autoptr (GPtrArray) assets = NULL;

  if (self->project == NULL || catena_runner_get_running (self->runner))
    return;
  if (!all_assets)
    {
      if (self->asset == NULL)
        return;
      assets = g_ptr_array_new ();
      g_ptr_array_add (assets, self->asset);
      g_hash_table_remove (self->asset_errors, catena_asset_get_id (self->asset));
    }
  else
    g_hash_table_remove_all (self->asset_errors);
  g_hash_table_remove_all (self->errors);

  g_clear_object (&self->run_cancellable);
  self->run_cancellable = g_cancellable_new ();
  g_clear_pointer (&self->device_note, g_free);
  catena_runner_run_async (self->runner, self->project, assets,
                           catena_project_get_output_dir (self->project), self->run_cancellable,
                           on_run_done, g_object_ref (self));
  catena_window_update_actions (self);
}

static void
action_run (GtkWidget *widget, const char *name, GVariant *param)
{
  catena_window_run (CATENA_WINDOW (widget), g_str_equal (name, "win.run-all"));
}

static void
action_cancel (GtkWidget *widget, const char *name, GVariant *param)
{
  CatenaWindow *self = CATENA_WINDOW (widget);

  if (self->run_cancellable)
    g_cancellable_cancel (self->run_cancellable);
}

/* Preview */

static void
action_zoom (GtkWidget *widget, const char *name, GVariant *param)
{
  CatenaWindow *self = CATENA_WINDOW (widget);

  if (g_str_equal (name, "win.zoom-fit"))
    catena_preview_zoom_fit (self->preview);
  else if (g_str_equal (name, "win.zoom-100"))
    catena_preview_set_zoom (self->preview, 1.0);
  else if (g_str_equal (name, "win.zoom-in"))
    catena_preview_zoom_by (self->preview, 1.25);
  else
    catena_preview_zoom_by (self->preview, 1 / 1.25);
}

static void
action_toggle_split (GtkWidget *widget, const char *name, GVariant *param)
{
  CatenaWindow *self = CATENA_WINDOW (widget);

  catena_preview_set_split (self->preview, !catena_preview_get_split (self->preview));
}

/* Files */

static void
add_recent (GFile *file)
{
  g_autofree char *uri = g_file_get_uri (file);
  gtk_recent_manager_add_item (gtk_recent_manager_get_default (), uri);
}

static void
open_file (CatenaWindow *self, GFile *file)
{
  g_autoptr (GError) error = NULL;
  CatenaWindow *target = self;
  GtkApplication *app = gtk_window_get_application (GTK_WINDOW (self));

  /* Never lose unsaved work: a modified project stays open and the other gets a window. */
  if (catena_window_get_modified (self) && app != NULL)
    target = catena_window_new (app);
  if (!catena_window_load (target, file, &error))
    {
      g_autofree char *msg = g_strdup_printf (_("Could not open the project: %s"), error->message);
      catena_window_toast (self, msg);
      if (target != self)
        gtk_window_destroy (GTK_WINDOW (target));
      return;
    }
  gtk_window_present (GTK_WINDOW (target));
}

static void
on_open_response (GtkNativeDialog *dialog, int response, CatenaWindow *self)
{
  if (response == GTK_RESPONSE_ACCEPT)
    {
      g_autoptr (GFile) file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (dialog));
      open_file (self, file);
    }
  g_object_unref (dialog);
}

static GtkFileFilter *
project_filter (void)
{
  GtkFileFilter *filter = gtk_file_filter_new ();

  gtk_file_filter_set_name (filter, _("Catena Projects"));
  gtk_file_filter_add_pattern (filter, "*.catena");
  return filter;
}

static void
action_open (GtkWidget *widget, const char *name, GVariant *param)
{
  CatenaWindow *self = CATENA_WINDOW (widget);
  GtkFileChooserNative *dialog;
  g_autoptr (GtkFileFilter) filter = project_filter ();

  dialog = gtk_file_chooser_native_new (_("Open a Project"), GTK_WINDOW (self),
                                        GTK_FILE_CHOOSER_ACTION_OPEN, _("_Open"), _("_Cancel"));
  gtk_file_chooser_add_filter (GTK_FILE_CHOOSER (dialog), filter);
  gtk_native_dialog_set_modal (GTK_NATIVE_DIALOG (dialog), TRUE);
  g_signal_connect_object (dialog, "response", G_CALLBACK (on_open_response), self, 0);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (dialog));
}

static void
action_open_recent (GtkWidget *widget, const char *name, GVariant *param)
{
  g_autoptr (GFile) file = g_file_new_for_uri (g_variant_get_string (param, NULL));

  open_file (CATENA_WINDOW (widget), file);
}

/* Relative photo paths are relative to the project's folder: keep them pointing at the same
 * files when the project is saved somewhere else. */
static void
rebase_assets (CatenaWindow *self, GFile *file)
{
  g_autofree char *old_base = catena_project_dup_base_dir (self->project);
  g_autoptr (GFile) new_dir = g_file_get_parent (file);
  g_autoptr (GFile) old_dir = g_file_new_for_path (old_base);
  GListModel *assets = catena_project_get_assets (self->project);

  if (new_dir == NULL || g_file_equal (old_dir, new_dir))
    return;
  for (guint i = 0; i < g_list_model_get_n_items (assets); i++)
    {
      g_autoptr (CatenaAsset) asset = g_list_model_get_item (assets, i);
      g_autofree char *path = catena_asset_resolve_source (asset, old_base);
      g_autoptr (GFile) source = NULL;
      g_autofree char *relative = NULL;
      const char *current = catena_asset_get_source (asset);

      if (path == NULL || current == NULL || g_path_is_absolute (current))
        continue;
      source = g_file_new_for_path (path);
      relative = g_file_get_relative_path (new_dir, source);
      catena_asset_set_source (asset, relative ? relative : path);
    }
}

gboolean
catena_window_save_to (CatenaWindow *self, GFile *file, GError **error)
{
  /* The autosave slot follows the project's path: drop the old slot after a save-as too. */
  g_autoptr (GFile) old_autosave = catena_autosave_get_file (self->project);

  rebase_assets (self, file);
  if (!catena_project_save (self->project, file, error))
    return FALSE;
  g_file_delete (old_autosave, NULL, NULL);
  catena_autosave_discard (self->project);
  self->assets_modified = FALSE;
  catena_history_mark_saved (self->history);
  add_recent (file);
  catena_window_update_recent (self);
  catena_window_update_title (self);
  return TRUE;
}

static void
save_or_toast (CatenaWindow *self, GFile *file, gboolean close_after)
{
  g_autoptr (GError) error = NULL;

  if (!catena_window_save_to (self, file, &error))
    {
      g_autofree char *msg = g_strdup_printf (_("Could not save the project: %s"),
                                              error->message);
      catena_window_toast (self, msg);
      return;
    }
  catena_window_toast (self, _("Project saved"));
  if (close_after)
    gtk_window_destroy (GTK_WINDOW (self));
}

static void
on_save_response (GtkNativeDialog *dialog, int response, CatenaWindow *self)
{
  gboolean close_after = GPOINTER_TO_INT (g_object_get_data (G_OBJECT (dialog), "close-after"));

  if (response == GTK_RESPONSE_ACCEPT)
    {
      g_autoptr (GFile) file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (dialog));
      save_or_toast (self, file, close_after);
    }
  g_object_unref (dialog);
}

void
catena_window_save_as (CatenaWindow *self, gboolean close_after)
{
  GtkFileChooserNative *dialog;
  g_autoptr (GtkFileFilter) filter = project_filter ();
  const char *name = catena_project_get_name (self->project);
  g_autofree char *suggested = g_strdup_printf ("%s.catena", name && *name ? name : _("Untitled"));

  dialog = gtk_file_chooser_native_new (_("Save the Project"), GTK_WINDOW (self),
                                        GTK_FILE_CHOOSER_ACTION_SAVE, _("_Save"), _("_Cancel"));
  gtk_file_chooser_add_filter (GTK_FILE_CHOOSER (dialog), filter);
  gtk_file_chooser_set_current_name (GTK_FILE_CHOOSER (dialog), suggested);
  gtk_native_dialog_set_modal (GTK_NATIVE_DIALOG (dialog), TRUE);
  g_object_set_data (G_OBJECT (dialog), "close-after", GINT_TO_POINTER (close_after));
  g_signal_connect_object (dialog, "response", G_CALLBACK (on_save_response), self, 0);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (dialog));
}

static void
action_save (GtkWidget *widget, const char *name, GVariant *param)
{
  CatenaWindow *self = CATENA_WINDOW (widget);
  GFile *file = catena_project_get_file (self->project);

  if (file == NULL || g_str_equal (name, "win.save-as"))
    catena_window_save_as (self, FALSE);
  else
    save_or_toast (self, file, FALSE);
}

static void
on_add_assets_response (GtkNativeDialog *dialog, int response, CatenaWindow *self)
{
  if (response == GTK_RESPONSE_ACCEPT)
    {
      g_autoptr (GListModel) files = gtk_file_chooser_get_files (GTK_FILE_CHOOSER (dialog));
      g_autoptr (GPtrArray) array = g_ptr_array_new_with_free_func (g_object_unref);

      for (guint i = 0; i < g_list_model_get_n_items (files); i++)
        g_ptr_array_add (array, g_list_model_get_item (files, i));
      catena_window_add_files (self, (GFile **) array->pdata, array->len);
    }
  g_object_unref (dialog);
}

static void
action_add_assets (GtkWidget *widget, const char *name, GVariant *param)
{
  CatenaWindow *self = CATENA_WINDOW (widget);
  GtkFileChooserNative *dialog;
  g_autoptr (GtkFileFilter) filter = gtk_file_filter_new ();

  gtk_file_filter_set_name (filter, _("Photos"));
  gtk_file_filter_add_mime_type (filter, "image/png");
  gtk_file_filter_add_mime_type (filter, "image/jpeg");
  gtk_file_filter_add_mime_type (filter, "image/webp");
  gtk_file_filter_add_mime_type (filter, "image/tiff");
  dialog = gtk_file_chooser_native_new (_("Add Photos"), GTK_WINDOW (self),
                                        GTK_FILE_CHOOSER_ACTION_OPEN, _("_Add"), _("_Cancel"));
  gtk_file_chooser_set_select_multiple (GTK_FILE_CHOOSER (dialog), TRUE);
  gtk_file_chooser_add_filter (GTK_FILE_CHOOSER (dialog), filter);
  gtk_native_dialog_set_modal (GTK_NATIVE_DIALOG (dialog), TRUE);
  g_signal_connect_object (dialog, "response", G_CALLBACK (on_add_assets_response), self, 0);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (dialog));
}

static int
compare_recent (gconstpointer a, gconstpointer b)
{
  GtkRecentInfo *ia = *(GtkRecentInfo **) a, *ib = *(GtkRecentInfo **) b;

  return g_date_time_compare (gtk_recent_info_get_modified (ib),
                              gtk_recent_info_get_modified (ia));
}

void
catena_window_update_recent (CatenaWindow *self)
{
  GList *items = gtk_recent_manager_get_items (gtk_recent_manager_get_default ());
  g_autoptr (GPtrArray) projects = g_ptr_array_new ();

  g_menu_remove_all (self->recent_section);
  for (GList *l = items; l; l = l->next)
    if (g_str_has_suffix (gtk_recent_info_get_uri (l->data), ".catena") &&
        gtk_recent_info_exists (l->data))
      g_ptr_array_add (projects, l->data);
  g_ptr_array_sort (projects, compare_recent);
  for (guint i = 0; i < MIN (projects->len, MAX_RECENT); i++)
    {
      GtkRecentInfo *info = g_ptr_array_index (projects, i);
      g_autoptr (GMenuItem) item = g_menu_item_new (gtk_recent_info_get_display_name (info), NULL);

      g_menu_item_set_action_and_target (item, "win.open-recent", "s",
                                         gtk_recent_info_get_uri (info));
      g_menu_append_item (self->recent_section, item);
    }
  g_list_free_full (items, (GDestroyNotify) gtk_recent_info_unref);
}

void
catena_window_class_install_actions (GtkWidgetClass *widget_class)
{
  gtk_widget_class_install_action (widget_class, "win.open", NULL, action_open);
  gtk_widget_class_install_action (widget_class, "win.open-recent", "s", action_open_recent);
  gtk_widget_class_install_action (widget_class, "win.save", NULL, action_save);
  gtk_widget_class_install_action (widget_class, "win.save-as", NULL, action_save);
  gtk_widget_class_install_action (widget_class, "win.add-assets", NULL, action_add_assets);
  gtk_widget_class_install_action (widget_class, "win.undo", NULL, action_undo);
  gtk_widget_class_install_action (widget_class, "win.redo", NULL, action_undo);
  gtk_widget_class_install_action (widget_class, "win.add-stage", "s", action_add_stage);
  gtk_widget_class_install_action (widget_class, "win.remove-stage", NULL, action_remove_stage);
  gtk_widget_class_install_action (widget_class, "win.move-stage-left", NULL, action_move_stage);
  gtk_widget_class_install_action (widget_class, "win.move-stage-right", NULL, action_move_stage);
  gtk_widget_class_install_action (widget_class, "win.pick-candidate", "u",
                                   action_pick_candidate);
  gtk_widget_class_install_action (widget_class, "win.render-sweep", NULL, action_render_sweep);
  gtk_widget_class_install_action (widget_class, "win.run", NULL, action_run);
  gtk_widget_class_install_action (widget_class, "win.run-all", NULL, action_run);
  gtk_widget_class_install_action (widget_class, "win.cancel", NULL, action_cancel);
  gtk_widget_class_install_action (widget_class, "win.zoom-fit", NULL, action_zoom);
  gtk_widget_class_install_action (widget_class, "win.zoom-100", NULL, action_zoom);
  gtk_widget_class_install_action (widget_class, "win.zoom-in", NULL, action_zoom);
  gtk_widget_class_install_action (widget_class, "win.zoom-out", NULL, action_zoom);
  gtk_widget_class_install_action (widget_class, "win.toggle-split", NULL, action_toggle_split);
}
