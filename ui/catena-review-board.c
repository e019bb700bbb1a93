/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <glib/gi18n.h>

#include "catena-brand-kit.h"
#include "catena-review-board.h"
#include "catena-thumbnailer.h"

#define THUMBNAIL_SIZE 240
#define STRIP_WIDTH 168

/* What the worker found for one photo: its cache keys and its brand score. */
typedef struct
{
  char **keys; /* one per stage; NULL when the keys could not be computed */
  gboolean scored;
  gboolean flagged;
  double delta_e;
  char *swatch_name;
} AssetInfo;

struct _CatenaReviewBoard
{
  GtkWidget parent_instance;

  CatenaProject *project;
  CatenaCache *cache;
  CatenaReview *review;
  CatenaThumbnailer *thumbnailer;
  GCancellable *cancellable;

  GtkSingleSelection *selection;
  GHashTable *infos;      /* asset id → AssetInfo */
  GHashTable *requested;  /* thumbnail keys already asked for */
  GPtrArray *bound_items; /* GtkListItems currently showing a photo */
  guint generation;
  guint n_pending;
  char *open_id;
  char **target_ids; /* stage ids of the comment target drop-down, after "Whole photo" */
  GtkCustomFilter *log_filter;

  /* template */
  GtkGridView *grid;
  GtkStack *detail_stack;
  GtkLabel *title_label;
  GtkLabel *state_label;
  GtkLabel *brand_label;
  GtkBox *strip;
  GtkLabel *message_label;
  GtkStack *comments_stack;
  GtkListView *comments_view;
  GtkDropDown *target_dropdown;
  GtkEntry *comment_entry;
  GtkListView *log_view;
};

G_DEFINE_FINAL_TYPE (CatenaReviewBoard, catena_review_board, GTK_TYPE_WIDGET)

static void update_detail (CatenaReviewBoard *self);
static void update_actions (CatenaReviewBoard *self);
static void update_cells (CatenaReviewBoard *self);

static void
asset_info_free (AssetInfo *info)
{
  g_strfreev (info->keys);
  g_free (info->swatch_name);
  g_free (info);
}

static const char *
final_key (CatenaReviewBoard *self, const char *asset_id)
{
  AssetInfo *info = asset_id ? g_hash_table_lookup (self->infos, asset_id) : NULL;
  guint n;

  if (info == NULL || info->keys == NULL || (n = g_strv_length (info->keys)) == 0)
    return NULL;
  return info->keys[n - 1];
}

/* "2024-05-01 09:30" in local time, or the text as stored when it does not parse. */
static char *
format_time (const char *iso)
{
  g_autoptr (GDateTime) utc = iso ? g_date_time_new_from_iso8601 (iso, NULL) : NULL;
  g_autoptr (GDateTime) local = NULL;

  if (utc == NULL)
    return g_strdup (iso ? iso : "");
  local = g_date_time_to_local (utc);
  return g_date_time_format (local, "%Y-%m-%d %H:%M");
}

static void
style_state_label (GtkLabel *label, CatenaReviewState state)
{
  static const char *classes[] = { "dim-label", "accent", "warning", "success", "error" };

  for (guint i = 0; i < G_N_ELEMENTS (classes); i++)
    gtk_widget_remove_css_class (GTK_WIDGET (label), classes[i]);
  gtk_widget_add_css_class (GTK_WIDGET (label), "heading");
  gtk_widget_add_css_class (GTK_WIDGET (label), classes[CLAMP (state, 0, 4)]);
  gtk_label_set_label (label, catena_review_state_get_title (state));
}

/* ---------------------------------------------------------------------------------------- */
/* Keys and brand scores, on a worker, from a snapshot of the project. */

typedef struct
{
  CatenaProject *snapshot;
  GHashTable *infos;
  guint generation;
} KeysJob;

static void
keys_job_free (KeysJob *job)
{
  g_clear_object (&job->snapshot);
  g_clear_pointer (&job->infos, g_hash_table_unref);
  g_free (job);
}

static void
keys_thread (GTask *task, gpointer source, gpointer data, GCancellable *cancellable)
{
  KeysJob *job = data;
  GListModel *assets = catena_project_get_assets (job->snapshot);
  CatenaChain *chain = catena_project_get_chain (job->snapshot);
  g_autoptr (CatenaBrandKit) kit = catena_brand_kit_new_for_project (job->snapshot, NULL);
  g_autofree char *base = catena_project_dup_base_dir (job->snapshot);

  for (guint i = 0; i < g_list_model_get_n_items (assets); i++)
    {
      g_autoptr (CatenaAsset) asset = g_list_model_get_item (assets, i);
      AssetInfo *info = g_new0 (AssetInfo, 1);
      CatenaBrandScore score;

      if (g_cancellable_is_cancelled (cancellable))
        {
          asset_info_free (info);
          break;
        }
      info->keys = catena_chain_compute_keys (chain, asset, base, cancellable, NULL);
      /* A kit without swatches, or a photo not run yet, is simply not scored. */
      if (kit && catena_brand_kit_get_n_swatches (kit) > 0
          && catena_brand_kit_score_asset (kit, job->snapshot, asset, cancellable, &score, NULL))
        {
          info->scored = TRUE;
          info->flagged = score.flagged;
          info->delta_e = score.delta_e;
          info->swatch_name = g_strdup (score.swatch_name);
        }
      g_hash_table_insert (job->infos, g_strdup (catena_asset_get_id (asset)), info);
    }
  g_task_return_boolean (task, TRUE);
}

static void
thumbnail_loaded (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (CatenaReviewBoard) self = user_data;
  g_autoptr (GdkTexture) texture = NULL;
  g_autoptr (GError) error = NULL;

  self->n_pending--;
  texture = catena_thumbnailer_load_finish (CATENA_THUMBNAILER (source), result, &error);
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  if (error)
    g_debug ("Review board thumbnail: %s", error->message);
  if (texture == NULL)
    return;
  update_cells (self);
  if (self->open_id)
    update_detail (self);
}

/* Asks for a key's thumbnail once; the result lands in the thumbnailer's table. */
static void
request_thumbnail (CatenaReviewBoard *self, const char *key)
{
  if (key == NULL || catena_thumbnailer_peek (self->thumbnailer, key)
      || g_hash_table_contains (self->requested, key))
    return;
  g_hash_table_add (self->requested, g_strdup (key));
  self->n_pending++;
  catena_thumbnailer_load_async (self->thumbnailer, key, self->cancellable, thumbnail_loaded,
                                 g_object_ref (self));
}

static void
keys_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  CatenaReviewBoard *self = CATENA_REVIEW_BOARD (source);
  KeysJob *job = g_task_get_task_data (G_TASK (result));

  self->n_pending--;
  if (!g_task_propagate_boolean (G_TASK (result), NULL) || job->generation != self->generation)
    return;

  g_hash_table_remove_all (self->requested);
  g_clear_pointer (&self->infos, g_hash_table_unref);
  self->infos = g_steal_pointer (&job->infos);
  update_cells (self);
  if (self->open_id)
    update_detail (self);
}

void
catena_review_board_refresh (CatenaReviewBoard *self)
{
  g_autoptr (JsonNode) node = NULL;
  g_autoptr (GTask) task = NULL;
  g_autofree char *base = NULL;
  GListModel *assets;
  KeysJob *job;

  g_return_if_fail (CATENA_IS_REVIEW_BOARD (self));

  /* The worker gets a copy of the project with absolute photo paths, never the live one. */
  node = catena_project_to_json (self->project);
  job = g_new0 (KeysJob, 1);
  job->snapshot = catena_project_new_from_json (node, NULL);
  job->infos
      = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify)asset_info_free);
  job->generation = ++self->generation;
  if (job->snapshot == NULL)
    {
      keys_job_free (job);
      return;
    }
  base = catena_project_dup_base_dir (self->project);
  assets = catena_project_get_assets (job->snapshot);
  for (guint i = 0; i < g_list_model_get_n_items (assets); i++)
    {
      g_autoptr (CatenaAsset) asset = g_list_model_get_item (assets, i);
      g_autofree char *path = catena_asset_resolve_source (asset, base);

      catena_asset_set_source (asset, path);
    }

  task = g_task_new (self, self->cancellable, keys_done, NULL);
  g_task_set_source_tag (task, catena_review_board_refresh);
  g_task_set_task_data (task, job, (GDestroyNotify)keys_job_free);
  self->n_pending++;
  g_task_run_in_thread (task, keys_thread);
}

/* ---------------------------------------------------------------------------------------- */
/* Grid cells */

static void
cell_setup (GtkSignalListItemFactory *factory, GtkListItem *item, gpointer user_data)
{
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 4);
  GtkWidget *overlay = gtk_overlay_new ();
  GtkWidget *picture = gtk_picture_new ();
  GtkWidget *placeholder = gtk_label_new (_ ("Not run yet"));
  GtkWidget *name = gtk_label_new (NULL);
  GtkWidget *row = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 6);
  GtkWidget *state = gtk_label_new (NULL);
  GtkWidget *flag = gtk_label_new (NULL);

  gtk_widget_set_margin_start (box, 6);
  gtk_widget_set_margin_end (box, 6);
  gtk_widget_set_margin_top (box, 6);
  gtk_widget_set_margin_bottom (box, 6);
  gtk_widget_set_size_request (picture, THUMBNAIL_SIZE / 2 * 3 / 2, THUMBNAIL_SIZE / 2);
  gtk_picture_set_can_shrink (GTK_PICTURE (picture), TRUE);
  gtk_widget_add_css_class (overlay, "card");
  gtk_widget_set_overflow (overlay, GTK_OVERFLOW_HIDDEN);
  gtk_overlay_set_child (GTK_OVERLAY (overlay), picture);
  gtk_widget_add_css_class (placeholder, "dim-label");
  gtk_overlay_add_overlay (GTK_OVERLAY (overlay), placeholder);

  gtk_label_set_xalign (GTK_LABEL (name), 0);
  gtk_label_set_ellipsize (GTK_LABEL (name), PANGO_ELLIPSIZE_END);
  gtk_label_set_xalign (GTK_LABEL (state), 0);
  gtk_widget_set_hexpand (state, TRUE);
  gtk_widget_add_css_class (state, "caption");
  gtk_widget_add_css_class (flag, "caption");
  gtk_widget_add_css_class (flag, "warning");
  gtk_box_append (GTK_BOX (row), state);
  gtk_box_append (GTK_BOX (row), flag);

  gtk_box_append (GTK_BOX (box), overlay);
  gtk_box_append (GTK_BOX (box), name);
  gtk_box_append (GTK_BOX (box), row);
  g_object_set_data (G_OBJECT (box), "picture", picture);
  g_object_set_data (G_OBJECT (box), "placeholder", placeholder);
  g_object_set_data (G_OBJECT (box), "name", name);
  g_object_set_data (G_OBJECT (box), "state", state);
  g_object_set_data (G_OBJECT (box), "flag", flag);
  gtk_list_item_set_child (item, box);
}

static void
update_cell (CatenaReviewBoard *self, GtkListItem *item)
{
  CatenaAsset *asset = gtk_list_item_get_item (item);
  GtkWidget *box = gtk_list_item_get_child (item);
  const char *id, *key;
  AssetInfo *info;
  GdkTexture *texture;
  GtkWidget *flag;
  CatenaReviewState state;
  g_autofree char *label = NULL;

  if (asset == NULL || box == NULL)
    return;
  id = catena_asset_get_id (asset);
  info = g_hash_table_lookup (self->infos, id);
  key = final_key (self, id);
  request_thumbnail (self, key);
  texture = catena_thumbnailer_peek (self->thumbnailer, key);
  gtk_picture_set_paintable (g_object_get_data (G_OBJECT (box), "picture"),
                             GDK_PAINTABLE (texture));
  gtk_widget_set_visible (g_object_get_data (G_OBJECT (box), "placeholder"), texture == NULL);
  gtk_label_set_label (g_object_get_data (G_OBJECT (box), "name"),
                       catena_asset_get_name (asset) ? catena_asset_get_name (asset) : id);
  state = catena_review_get_state (self->review, id);
  style_state_label (g_object_get_data (G_OBJECT (box), "state"), state);

  flag = g_object_get_data (G_OBJECT (box), "flag");
  gtk_widget_set_visible (flag, info && info->scored && info->flagged);
  if (info && info->flagged)
    {
      /* TRANSLATORS: a photo's main colour is off the brand palette by this CIEDE2000 */
      label = g_strdup_printf (_ ("Off brand ΔE %.1f"), info->delta_e);
      gtk_label_set_label (GTK_LABEL (flag), label);
    }
  g_clear_pointer (&label, g_free);
  label = g_strdup_printf (
      "%s, %s%s", gtk_label_get_label (g_object_get_data (G_OBJECT (box), "name")),
      catena_review_state_get_title (state), info && info->flagged ? _ (", off brand") : "");
  gtk_accessible_update_property (GTK_ACCESSIBLE (box), GTK_ACCESSIBLE_PROPERTY_LABEL, label, -1);
}

static void
cell_bind (GtkSignalListItemFactory *factory, GtkListItem *item, CatenaReviewBoard *self)
{
  g_ptr_array_add (self->bound_items, item);
  update_cell (self, item);
}

static void
cell_unbind (GtkSignalListItemFactory *factory, GtkListItem *item, CatenaReviewBoard *self)
{
  g_ptr_array_remove (self->bound_items, item);
}

static void
update_cells (CatenaReviewBoard *self)
{
  for (guint i = 0; i < self->bound_items->len; i++)
    update_cell (self, g_ptr_array_index (self->bound_items, i));
}

/* ---------------------------------------------------------------------------------------- */
/* Comments and log rows */

static void
two_line_setup (GtkSignalListItemFactory *factory, GtkListItem *item, gpointer user_data)
{
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 2);
  GtkWidget *header = gtk_label_new (NULL);
  GtkWidget *body = gtk_label_new (NULL);

  gtk_widget_set_margin_start (box, 12);
  gtk_widget_set_margin_end (box, 12);
  gtk_widget_set_margin_top (box, 6);
  gtk_widget_set_margin_bottom (box, 6);
  gtk_label_set_xalign (GTK_LABEL (header), 0);
  gtk_label_set_ellipsize (GTK_LABEL (header), PANGO_ELLIPSIZE_END);
  gtk_widget_add_css_class (header, "caption");
  gtk_widget_add_css_class (header, "dim-label");
  gtk_label_set_xalign (GTK_LABEL (body), 0);
  gtk_label_set_wrap (GTK_LABEL (body), TRUE);
  gtk_label_set_wrap_mode (GTK_LABEL (body), PANGO_WRAP_WORD_CHAR);
  gtk_label_set_selectable (GTK_LABEL (body), FALSE);
  gtk_box_append (GTK_BOX (box), header);
  gtk_box_append (GTK_BOX (box), body);
  gtk_list_item_set_child (item, box);
}

static void
set_two_lines (GtkListItem *item, const char *header, const char *body)
{
  GtkWidget *box = gtk_list_item_get_child (item);
  GtkWidget *top = gtk_widget_get_first_child (box);
  GtkWidget *bottom = gtk_widget_get_next_sibling (top);

  gtk_label_set_label (GTK_LABEL (top), header);
  gtk_label_set_label (GTK_LABEL (bottom), body ? body : "");
  gtk_widget_set_visible (bottom, body && *body);
}

static void
comment_bind (GtkSignalListItemFactory *factory, GtkListItem *item, CatenaReviewBoard *self)
{
  CatenaReviewComment *comment = gtk_list_item_get_item (item);
  const char *stage_id = catena_review_comment_get_stage_id (comment);
  CatenaStage *stage = NULL;
  g_autofree char *when = format_time (catena_review_comment_get_time (comment));
  g_autofree char *header = NULL;

  if (stage_id)
    stage = catena_chain_find_stage (catena_project_get_chain (self->project), stage_id, NULL);
  if (stage_id)
    /* TRANSLATORS: author · date · stage the comment is about */
    header = g_strdup_printf (_ ("%s · %s · on %s"), catena_review_comment_get_author (comment),
                              when, stage ? catena_stage_get_title (stage) : stage_id);
  else
    header = g_strdup_printf ("%s · %s", catena_review_comment_get_author (comment), when);
  set_two_lines (item, header, catena_review_comment_get_text (comment));
}

static void
log_bind (GtkSignalListItemFactory *factory, GtkListItem *item, CatenaReviewBoard *self)
{
  CatenaReviewEntry *entry = gtk_list_item_get_item (item);
  const char *action = catena_review_entry_get_action (entry);
  const char *text = catena_review_entry_get_text (entry);
  g_autofree char *when = format_time (catena_review_entry_get_time (entry));
  g_autofree char *header = g_strdup_printf ("%s · %s", catena_review_entry_get_user (entry), when);
  g_autofree char *body = NULL;
  CatenaReviewState from, to;

  if (g_strcmp0 (action, "state") == 0
      && catena_review_state_from_string (catena_review_entry_get_from_state (entry), &from)
      && catena_review_state_from_string (catena_review_entry_get_to_state (entry), &to))
    body = g_strdup_printf ("%s → %s%s%s", catena_review_state_get_title (from),
                            catena_review_state_get_title (to), text ? ": " : "", text ? text : "");
  else if (g_strcmp0 (action, "comment") == 0)
    body = g_strdup_printf (_ ("Commented: %s"), text ? text : "");
  else if (g_strcmp0 (action, "override") == 0)
    body = g_strdup_printf (_ ("Delivered without approval: %s"), text ? text : "");
  else if (g_strcmp0 (action, "deliver") == 0)
    body = g_strdup_printf (_ ("Delivered %s"), text ? text : "");
  else
    body = g_strdup_printf ("%s %s", action, text ? text : "");
  set_two_lines (item, header, body);
}

static gboolean
log_filter_func (gpointer item, gpointer user_data)
{
  CatenaReviewBoard *self = user_data;

  return self->open_id && g_strcmp0 (catena_review_entry_get_asset_id (item), self->open_id) == 0;
}

/* ---------------------------------------------------------------------------------------- */
/* Detail pane */

static void
strip_tile_clicked (GtkButton *button, CatenaReviewBoard *self)
{
  guint index = GPOINTER_TO_UINT (g_object_get_data (G_OBJECT (button), "index"));

  /* Clicking a stage makes it the comment's subject (0 is the whole photo). */
  gtk_drop_down_set_selected (self->target_dropdown, index + 1);
  gtk_widget_grab_focus (GTK_WIDGET (self->comment_entry));
}

static void
rebuild_strip (CatenaReviewBoard *self)
{
  CatenaChain *chain = catena_project_get_chain (self->project);
  AssetInfo *info = self->open_id ? g_hash_table_lookup (self->infos, self->open_id) : NULL;
  guint n = catena_chain_get_n_stages (chain);
  GtkWidget *child;

  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self->strip))))
    gtk_box_remove (self->strip, child);

  for (guint i = 0; i < n; i++)
    {
      CatenaStage *stage = catena_chain_get_stage (chain, i);
      const char *key = info && info->keys && i < g_strv_length (info->keys) ? info->keys[i] : NULL;
      GdkTexture *texture = catena_thumbnailer_peek (self->thumbnailer, key);
      GtkWidget *button = gtk_button_new ();
      GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 4);
      GtkWidget *overlay = gtk_overlay_new ();
      GtkWidget *picture = gtk_picture_new_for_paintable (GDK_PAINTABLE (texture));
      GtkWidget *title = gtk_label_new (catena_stage_get_title (stage));
      g_autofree char *tooltip = NULL;

      request_thumbnail (self, key);
      gtk_widget_set_size_request (picture, STRIP_WIDTH, STRIP_WIDTH * 2 / 3);
      gtk_picture_set_can_shrink (GTK_PICTURE (picture), TRUE);
      gtk_overlay_set_child (GTK_OVERLAY (overlay), picture);
      if (texture == NULL)
        {
          GtkWidget *placeholder = gtk_label_new (_ ("Not run yet"));

          gtk_widget_add_css_class (placeholder, "dim-label");
          gtk_overlay_add_overlay (GTK_OVERLAY (overlay), placeholder);
        }
      gtk_widget_add_css_class (overlay, "card");
      gtk_widget_set_overflow (overlay, GTK_OVERFLOW_HIDDEN);
      gtk_widget_add_css_class (title, "caption");
      gtk_box_append (GTK_BOX (box), overlay);
      gtk_box_append (GTK_BOX (box), title);
      gtk_button_set_child (GTK_BUTTON (button), box);
      gtk_widget_add_css_class (button, "flat");
      tooltip = g_strdup_printf (_ ("Comment on “%s”"), catena_stage_get_title (stage));
      gtk_widget_set_tooltip_text (button, tooltip);
      gtk_accessible_update_property (GTK_ACCESSIBLE (button), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                      catena_stage_get_title (stage), -1);
      g_object_set_data (G_OBJECT (button), "index", GUINT_TO_POINTER (i));
      g_signal_connect (button, "clicked", G_CALLBACK (strip_tile_clicked), self);
      gtk_box_append (self->strip, button);
    }
}

static void
rebuild_targets (CatenaReviewBoard *self)
{
  CatenaChain *chain = catena_project_get_chain (self->project);
  guint n = catena_chain_get_n_stages (chain);
  guint selected = gtk_drop_down_get_selected (self->target_dropdown);
  g_autofree char *selected_id = NULL;
  g_autoptr (GtkStringList) list = gtk_string_list_new (NULL);
  guint keep = 0;

  if (self->target_ids && selected != GTK_INVALID_LIST_POSITION && selected > 0
      && selected - 1 < g_strv_length (self->target_ids))
    selected_id = g_strdup (self->target_ids[selected - 1]);
  g_clear_pointer (&self->target_ids, g_strfreev);
  self->target_ids = g_new0 (char *, n + 1);
  gtk_string_list_append (list, _ ("Whole photo"));
  for (guint i = 0; i < n; i++)
    {
      CatenaStage *stage = catena_chain_get_stage (chain, i);

      self->target_ids[i] = g_strdup (catena_stage_get_id (stage));
      gtk_string_list_append (list, catena_stage_get_title (stage));
      if (g_strcmp0 (selected_id, self->target_ids[i]) == 0)
        keep = i + 1;
    }
  gtk_drop_down_set_model (self->target_dropdown, G_LIST_MODEL (list));
  gtk_drop_down_set_selected (self->target_dropdown, keep);
}

static void
update_detail (CatenaReviewBoard *self)
{
  CatenaAsset *asset
      = self->open_id ? catena_project_find_asset (self->project, self->open_id) : NULL;
  AssetInfo *info;

  if (asset == NULL)
    {
      g_clear_pointer (&self->open_id, g_free);
      gtk_stack_set_visible_child_name (self->detail_stack, "empty");
      gtk_list_view_set_model (self->comments_view, NULL);
      gtk_filter_changed (GTK_FILTER (self->log_filter), GTK_FILTER_CHANGE_DIFFERENT);
      update_actions (self);
      return;
    }

  info = g_hash_table_lookup (self->infos, self->open_id);
  gtk_stack_set_visible_child_name (self->detail_stack, "detail");
  gtk_label_set_label (self->title_label, catena_asset_get_name (asset)
                                              ? catena_asset_get_name (asset)
                                              : self->open_id);
  style_state_label (self->state_label, catena_review_get_state (self->review, self->open_id));
  gtk_widget_set_visible (GTK_WIDGET (self->brand_label), info && info->scored && info->flagged);
  if (info && info->scored && info->flagged)
    {
      g_autofree char *text = g_strdup_printf (
          _ ("Off brand: the product's colour is ΔE %.1f from the nearest swatch, “%s”"),
          info->delta_e, info->swatch_name ? info->swatch_name : "");

      gtk_label_set_label (self->brand_label, text);
    }
  rebuild_strip (self);
  update_actions (self);
}

static void
comments_changed (
    GListModel *model, guint position, guint removed, guint added, CatenaReviewBoard *self)
{
  gtk_stack_set_visible_child_name (self->comments_stack,
                                    g_list_model_get_n_items (model) ? "list" : "empty");
}

void
catena_review_board_open_asset (CatenaReviewBoard *self, const char *asset_id)
{
  GListModel *comments = NULL;
  GListModel *assets;

  g_return_if_fail (CATENA_IS_REVIEW_BOARD (self));

  if (asset_id && catena_project_find_asset (self->project, asset_id) == NULL)
    asset_id = NULL;
  if (g_strcmp0 (self->open_id, asset_id) != 0)
    {
      GtkSelectionModel *old = gtk_list_view_get_model (self->comments_view);

      if (old)
        g_signal_handlers_disconnect_by_func (gtk_no_selection_get_model (GTK_NO_SELECTION (old)),
                                              comments_changed, self);
      g_free (self->open_id);
      self->open_id = g_strdup (asset_id);
      gtk_editable_set_text (GTK_EDITABLE (self->comment_entry), "");
      gtk_widget_set_visible (GTK_WIDGET (self->message_label), FALSE);
      if (asset_id)
        {
          g_autoptr (GtkNoSelection) selection = NULL;

          comments = catena_review_get_comments (self->review, asset_id);
          selection = gtk_no_selection_new (g_object_ref (comments));
          gtk_list_view_set_model (self->comments_view, GTK_SELECTION_MODEL (selection));
          g_signal_connect_object (comments, "items-changed", G_CALLBACK (comments_changed), self,
                                   0);
          comments_changed (comments, 0, 0, 0, self);
        }
      gtk_filter_changed (GTK_FILTER (self->log_filter), GTK_FILTER_CHANGE_DIFFERENT);
      rebuild_targets (self);
    }

  /* Keep the grid's selection on the open photo. */
  assets = catena_project_get_assets (self->project);
  for (guint i = 0; asset_id && i < g_list_model_get_n_items (assets); i++)
    {
      g_autoptr (CatenaAsset) asset = g_list_model_get_item (assets, i);

      if (g_strcmp0 (catena_asset_get_id (asset), asset_id) == 0)
        gtk_single_selection_set_selected (self->selection, i);
    }
  update_detail (self);
}

const char *
catena_review_board_get_open_asset (CatenaReviewBoard *self)
{
  g_return_val_if_fail (CATENA_IS_REVIEW_BOARD (self), NULL);
  return self->open_id;
}

static void
grid_activate (GtkGridView *grid, guint position, CatenaReviewBoard *self)
{
  g_autoptr (CatenaAsset) asset
      = g_list_model_get_item (catena_project_get_assets (self->project), position);

  if (asset)
    catena_review_board_open_asset (self, catena_asset_get_id (asset));
}

/* ---------------------------------------------------------------------------------------- */
/* Actions */

static const struct
{
  const char *action;
  CatenaReviewState state;
} state_actions[] = {
  { "board.send-to-review", CATENA_REVIEW_STATE_IN_REVIEW },
  { "board.request-changes", CATENA_REVIEW_STATE_CHANGES_REQUESTED },
  { "board.approve", CATENA_REVIEW_STATE_APPROVED },
  { "board.reject", CATENA_REVIEW_STATE_REJECTED },
};

static void
update_actions (CatenaReviewBoard *self)
{
  gboolean open = self->open_id != NULL;
  CatenaReviewState state
      = open ? catena_review_get_state (self->review, self->open_id) : CATENA_REVIEW_STATE_DRAFT;
  guint n = g_list_model_get_n_items (catena_project_get_assets (self->project));

  for (guint i = 0; i < G_N_ELEMENTS (state_actions); i++)
    gtk_widget_action_set_enabled (
        GTK_WIDGET (self), state_actions[i].action,
        open && catena_review_state_can_change (state, state_actions[i].state));
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "board.add-comment", open);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "board.next", n > 0);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "board.previous", n > 0);
}

static void
show_error (CatenaReviewBoard *self, const GError *error)
{
  gtk_label_set_label (self->message_label, error ? error->message : "");
  gtk_widget_set_visible (GTK_WIDGET (self->message_label), error != NULL);
}

static void
set_state_action (GtkWidget *widget, const char *action_name, GVariant *param)
{
  CatenaReviewBoard *self = CATENA_REVIEW_BOARD (widget);
  g_autoptr (GError) error = NULL;

  if (self->open_id == NULL)
    return;
  for (guint i = 0; i < G_N_ELEMENTS (state_actions); i++)
    if (g_str_equal (action_name, state_actions[i].action))
      {
        CatenaReviewState state = state_actions[i].state;

        /* An approval records the output looked at, so delivery notices later chain edits. */
        catena_review_set_state (
            self->review, self->open_id, state, NULL,
            state == CATENA_REVIEW_STATE_APPROVED ? final_key (self, self->open_id) : NULL, &error);
        show_error (self, error);
        return;
      }
}

static void
step_action (GtkWidget *widget, const char *action_name, GVariant *param)
{
  CatenaReviewBoard *self = CATENA_REVIEW_BOARD (widget);
  GListModel *assets = catena_project_get_assets (self->project);
  guint n = g_list_model_get_n_items (assets);
  int step = g_str_equal (action_name, "board.next") ? 1 : -1;
  int current = -1, target;
  g_autoptr (CatenaAsset) asset = NULL;

  if (n == 0)
    return;
  for (guint i = 0; self->open_id && i < n; i++)
    {
      g_autoptr (CatenaAsset) a = g_list_model_get_item (assets, i);

      if (g_strcmp0 (catena_asset_get_id (a), self->open_id) == 0)
        current = i;
    }
  /* Nothing open: next opens the first photo, previous the last. */
  if (current < 0)
    target = step > 0 ? 0 : (int)n - 1;
  else
    target = CLAMP (current + step, 0, (int)n - 1);
  asset = g_list_model_get_item (assets, target);
  catena_review_board_open_asset (self, catena_asset_get_id (asset));
}

static void
add_comment_action (GtkWidget *widget, const char *action_name, GVariant *param)
{
  CatenaReviewBoard *self = CATENA_REVIEW_BOARD (widget);
  const char *text = gtk_editable_get_text (GTK_EDITABLE (self->comment_entry));
  guint selected = gtk_drop_down_get_selected (self->target_dropdown);
  const char *stage_id = NULL;
  g_autoptr (GError) error = NULL;

  if (self->open_id == NULL)
    return;
  if (selected != GTK_INVALID_LIST_POSITION && selected > 0 && self->target_ids
      && selected - 1 < g_strv_length (self->target_ids))
    stage_id = self->target_ids[selected - 1];
  if (catena_review_add_comment (self->review, self->open_id, stage_id, NULL, text, &error))
    gtk_editable_set_text (GTK_EDITABLE (self->comment_entry), "");
  show_error (self, error);
}

static void
comment_entry_activate (GtkEntry *entry, CatenaReviewBoard *self)
{
  gtk_widget_activate_action (GTK_WIDGET (self), "board.add-comment", NULL);
}

/* ---------------------------------------------------------------------------------------- */

static void
review_changed (CatenaReview *review, CatenaReviewBoard *self)
{
  update_cells (self);
  if (self->open_id)
    {
      style_state_label (self->state_label, catena_review_get_state (review, self->open_id));
      update_actions (self);
    }
}

static void
project_changed (CatenaReviewBoard *self)
{
  catena_review_board_refresh (self);
  if (self->open_id)
    {
      rebuild_targets (self);
      update_detail (self);
    }
  update_actions (self);
}

static void
catena_review_board_dispose (GObject *object)
{
  CatenaReviewBoard *self = CATENA_REVIEW_BOARD (object);

  GtkWidget *child;

  g_cancellable_cancel (self->cancellable);
  gtk_widget_dispose_template (GTK_WIDGET (self), CATENA_TYPE_REVIEW_BOARD);
  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self))))
    gtk_widget_unparent (child);
  g_clear_object (&self->selection);
  g_clear_object (&self->log_filter);

  G_OBJECT_CLASS (catena_review_board_parent_class)->dispose (object);
}

static void
catena_review_board_finalize (GObject *object)
{
  CatenaReviewBoard *self = CATENA_REVIEW_BOARD (object);

  g_clear_object (&self->review);
  g_clear_object (&self->project);
  g_clear_object (&self->cache);
  g_clear_object (&self->thumbnailer);
  g_clear_object (&self->cancellable);
  g_clear_pointer (&self->infos, g_hash_table_unref);
  g_clear_pointer (&self->requested, g_hash_table_unref);
  g_clear_pointer (&self->bound_items, g_ptr_array_unref);
  g_clear_pointer (&self->target_ids, g_strfreev);
  g_free (self->open_id);

  G_OBJECT_CLASS (catena_review_board_parent_class)->finalize (object);
}

static void
catena_review_board_class_init (CatenaReviewBoardClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = catena_review_board_dispose;
  object_class->finalize = catena_review_board_finalize;

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/io/github/catena/Catena/catena-review-board.ui");
  gtk_widget_class_bind_template_child (widget_class, CatenaReviewBoard, grid);
  gtk_widget_class_bind_template_child (widget_class, CatenaReviewBoard, detail_stack);
  gtk_widget_class_bind_template_child (widget_class, CatenaReviewBoard, title_label);
  gtk_widget_class_bind_template_child (widget_class, CatenaReviewBoard, state_label);
  gtk_widget_class_bind_template_child (widget_class, CatenaReviewBoard, brand_label);
  gtk_widget_class_bind_template_child (widget_class, CatenaReviewBoard, strip);
  gtk_widget_class_bind_template_child (widget_class, CatenaReviewBoard, message_label);
  gtk_widget_class_bind_template_child (widget_class, CatenaReviewBoard, comments_stack);
  gtk_widget_class_bind_template_child (widget_class, CatenaReviewBoard, comments_view);
  gtk_widget_class_bind_template_child (widget_class, CatenaReviewBoard, target_dropdown);
  gtk_widget_class_bind_template_child (widget_class, CatenaReviewBoard, comment_entry);
  gtk_widget_class_bind_template_child (widget_class, CatenaReviewBoard, log_view);

  gtk_widget_class_install_action (widget_class, "board.next", NULL, step_action);
  gtk_widget_class_install_action (widget_class, "board.previous", NULL, step_action);
  for (guint i = 0; i < G_N_ELEMENTS (state_actions); i++)
    gtk_widget_class_install_action (widget_class, state_actions[i].action, NULL, set_state_action);
  gtk_widget_class_install_action (widget_class, "board.add-comment", NULL, add_comment_action);

  /* Bubble-phase shortcuts: a focused entry takes the letters first, so typing a comment
   * never approves anything. */
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_j, 0, "board.next", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Right, 0, "board.next", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_k, 0, "board.previous", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Left, 0, "board.previous", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_a, 0, "board.approve", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_r, 0, "board.reject", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_c, 0, "board.request-changes", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_s, 0, "board.send-to-review", NULL);

  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BIN_LAYOUT);
  gtk_widget_class_set_css_name (widget_class, "reviewboard");
}

static void
catena_review_board_init (CatenaReviewBoard *self)
{
  GtkListItemFactory *factory;

  gtk_widget_init_template (GTK_WIDGET (self));
  self->cancellable = g_cancellable_new ();
  self->infos
      = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify)asset_info_free);
  self->requested = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  self->bound_items = g_ptr_array_new ();

  factory = gtk_signal_list_item_factory_new ();
  g_signal_connect (factory, "setup", G_CALLBACK (cell_setup), self);
  g_signal_connect (factory, "bind", G_CALLBACK (cell_bind), self);
  g_signal_connect (factory, "unbind", G_CALLBACK (cell_unbind), self);
  gtk_grid_view_set_factory (self->grid, factory);
  g_object_unref (factory);

  factory = gtk_signal_list_item_factory_new ();
  g_signal_connect (factory, "setup", G_CALLBACK (two_line_setup), self);
  g_signal_connect (factory, "bind", G_CALLBACK (comment_bind), self);
  gtk_list_view_set_factory (self->comments_view, factory);
  g_object_unref (factory);

  factory = gtk_signal_list_item_factory_new ();
  g_signal_connect (factory, "setup", G_CALLBACK (two_line_setup), self);
  g_signal_connect (factory, "bind", G_CALLBACK (log_bind), self);
  gtk_list_view_set_factory (self->log_view, factory);
  g_object_unref (factory);

  self->log_filter = gtk_custom_filter_new (log_filter_func, self, NULL);
  g_signal_connect (self->grid, "activate", G_CALLBACK (grid_activate), self);
  g_signal_connect (self->comment_entry, "activate", G_CALLBACK (comment_entry_activate), self);
}

GtkWidget *
catena_review_board_new (CatenaProject *project, CatenaCache *cache)
{
  CatenaReviewBoard *self;
  g_autoptr (GError) error = NULL;
  GtkFilterListModel *log;
  g_autoptr (GtkNoSelection) log_selection = NULL;

  g_return_val_if_fail (CATENA_IS_PROJECT (project), NULL);

  self = g_object_new (CATENA_TYPE_REVIEW_BOARD, NULL);
  self->project = g_object_ref (project);
  self->cache = g_object_ref (cache ? cache : catena_cache_get_default ());
  self->thumbnailer = catena_thumbnailer_new (self->cache, THUMBNAIL_SIZE);
  self->review = catena_review_new_for_project (project, &error);
  if (self->review == NULL)
    {
      /* A malformed section: review from scratch rather than refuse to show the photos. */
      g_warning ("Review section ignored: %s", error->message);
      self->review = catena_review_new ();
    }

  self->selection = gtk_single_selection_new (g_object_ref (catena_project_get_assets (project)));
  gtk_single_selection_set_autoselect (self->selection, FALSE);
  gtk_single_selection_set_can_unselect (self->selection, TRUE);
  gtk_single_selection_set_selected (self->selection, GTK_INVALID_LIST_POSITION);
  gtk_grid_view_set_model (self->grid, GTK_SELECTION_MODEL (self->selection));

  log = gtk_filter_list_model_new (g_object_ref (catena_review_get_log (self->review)),
                                   g_object_ref (GTK_FILTER (self->log_filter)));
  log_selection = gtk_no_selection_new (G_LIST_MODEL (log));
  gtk_list_view_set_model (self->log_view, GTK_SELECTION_MODEL (log_selection));

  g_signal_connect_object (self->review, "changed", G_CALLBACK (review_changed), self, 0);
  g_signal_connect_object (catena_project_get_chain (project), "items-changed",
                           G_CALLBACK (project_changed), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (catena_project_get_chain (project), "stage-changed",
                           G_CALLBACK (project_changed), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (catena_project_get_assets (project), "items-changed",
                           G_CALLBACK (project_changed), self, G_CONNECT_SWAPPED);

  update_actions (self);
  catena_review_board_refresh (self);
  return GTK_WIDGET (self);
}

CatenaProject *
catena_review_board_get_project (CatenaReviewBoard *self)
{
  g_return_val_if_fail (CATENA_IS_REVIEW_BOARD (self), NULL);
  return self->project;
}

CatenaReview *
catena_review_board_get_review (CatenaReviewBoard *self)
{
  g_return_val_if_fail (CATENA_IS_REVIEW_BOARD (self), NULL);
  return self->review;
}

gboolean
catena_review_board_is_busy (CatenaReviewBoard *self)
{
  g_return_val_if_fail (CATENA_IS_REVIEW_BOARD (self), FALSE);
  return self->n_pending > 0;
}
