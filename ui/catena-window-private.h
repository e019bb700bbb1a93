/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include "catena-stage-palette.h"
#include "catena-thumbnailer.h"
#include "catena-batch-view.h"
#include "catena-review-board.h"
#include "catena-window.h"

G_BEGIN_DECLS

struct _CatenaWindow
{
  AdwApplicationWindow parent_instance;

  /* template */
  AdwToastOverlay *toast_overlay;
  AdwViewSwitcherTitle *window_title;
  AdwViewStack *view_stack;
  AdwBin *review_bin;
  AdwBin *batch_bin;
  CatenaReviewBoard *review_board; /* owned by review_bin */
  GtkWidget *run_button;
  GtkWidget *cancel_button;
  GtkWidget *progress_bar;
  CatenaStagePalette *palette;
  GtkListBox *asset_list;
  CatenaPreview *preview;
  AdwStatusPage *preview_status;
  GtkLabel *preview_badge;
  GtkWidget *split_button;
  CatenaChainView *chain_view;
  CatenaInspector *inspector;
  GMenu *recent_section;

  CatenaProject *project;
  CatenaHistory *history;
  CatenaRunner *runner;
  CatenaThumbnailer *thumbnailer;
  CatenaPreviewRenderer *renderer;
  GCancellable *cancellable;     /* cancelled when the window goes */
  GCancellable *run_cancellable; /* the run in progress */

  CatenaAsset *asset;            /* selected */
  GStrv keys;                    /* cache key of every stage for the asset (NULL past an error) */
  GStrv shown_keys;              /* the key whose entry shows each stage (a generate stage's
                                  * picked candidate before it ran with that pick) */
  GPtrArray *candidate_keys;     /* per stage: GStrv of candidate keys ("" = not cached) or NULL */
  guint keys_serial;
  guint keys_pending;
  guint refresh_source;
  guint n_thumbnails_pending;
  guint preview_serial;
  guint preview_pending;
  gboolean live;
  CatenaStage *live_stage;       /* borrowed: the chain's stage shown live */
  GeglBuffer *shown_source;      /* what the renderer was last given, to skip repeats */
  GeglBuffer *shown_before;
  GeglBuffer *stage_input;       /* the selected stage's input, when cached (cost, sweep) */
  gboolean assets_modified;
  guint autosave_source;
  GHashTable *errors;            /* cache key → why that stage failed */
  GHashTable *asset_errors;      /* asset id → message, or "" when it finished */
  GHashTable *running_stage;     /* asset id → stage id being run */
  char *last_toast;
  char *device_note;             /* this run's GPU fallback, told with the run's last toast */
  AdwToast *toast;               /* the one shown; a newer one replaces it */

  /* strength sweep of a style stage (catena-window-remote.c) */
  CatenaStage *sweep_stage;      /* the chain's stage it was rendered for */
  char *sweep_identity;          /* that stage's identity without its strength */
  GPtrArray *sweep_buffers;      /* one GeglBuffer per sweep strength */
  GeglBuffer *sweep_input;
  guint sweep_pending;
  gboolean blending;             /* the preview shows a blend of two sweep renders */
};

/* catena-window-actions.c */
void catena_window_class_install_actions (GtkWidgetClass *widget_class);
void catena_window_update_actions        (CatenaWindow   *self);
void catena_window_toast                 (CatenaWindow   *self,
                                          const char     *message);
void catena_window_run                   (CatenaWindow   *self,
                                          gboolean        all_assets);
void catena_window_save_as               (CatenaWindow   *self,
                                          gboolean        close_after);
void catena_window_update_recent         (CatenaWindow   *self);

/* catena-window-remote.c: candidates, cost, the strength sweep */
char   **catena_window_find_candidates    (CatenaStage        *stage,
                                           CatenaStageContext *ctx,
                                           CatenaCache        *cache);
void     catena_window_update_candidates  (CatenaWindow   *self);
void     catena_window_update_cost        (CatenaWindow   *self);
void     catena_window_pick_candidate     (CatenaWindow   *self,
                                           guint           index);
void     catena_window_render_sweep       (CatenaWindow   *self);
gboolean catena_window_sweep_fits         (CatenaWindow   *self,
                                           CatenaStage    *stage);
/* Shows the sweep blended at the stage's strength when the sweep fits it. */
gboolean catena_window_show_sweep         (CatenaWindow   *self,
                                           CatenaStage    *stage);
void     catena_window_forget_sweep       (CatenaWindow   *self);
CatenaStage *catena_window_get_selected_stage (CatenaWindow *self);

/* catena-window.c */
CatenaAsset *catena_window_snapshot_asset (CatenaAsset *asset);
void catena_window_set_preview_status    (CatenaWindow   *self,
                                          const char     *title,
                                          const char     *description);
void catena_window_schedule_refresh      (CatenaWindow   *self);
void catena_window_update_title          (CatenaWindow   *self);
void catena_window_insert_stage          (CatenaWindow   *self,
                                          const char     *kind,
                                          guint           position);

G_END_DECLS
