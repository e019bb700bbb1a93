/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include "catena-stage-palette.h"
#include "catena-thumbnailer.h"
#include "catena-window.h"

G_BEGIN_DECLS

struct _CatenaWindow
{
  AdwApplicationWindow parent_instance;

  /* template */
  AdwToastOverlay *toast_overlay;
  AdwWindowTitle *window_title;
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
  gboolean assets_modified;
  GHashTable *errors;            /* cache key → why that stage failed */
  GHashTable *asset_errors;      /* asset id → message, or "" when it finished */
  GHashTable *running_stage;     /* asset id → stage id being run */
  char *last_toast;
  AdwToast *toast;               /* the one shown; a newer one replaces it */
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

/* catena-window.c */
void catena_window_schedule_refresh      (CatenaWindow   *self);
void catena_window_update_title          (CatenaWindow   *self);
void catena_window_insert_stage          (CatenaWindow   *self,
                                          const char     *kind,
                                          guint           position);

G_END_DECLS
