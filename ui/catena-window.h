/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <adwaita.h>

#include "catena-chain-view.h"
#include "catena-engine.h"
#include "catena-history.h"
#include "catena-inspector.h"
#include "catena-preview-renderer.h"
#include "catena-preview.h"

G_BEGIN_DECLS

#define CATENA_TYPE_WINDOW (catena_window_get_type ())
G_DECLARE_FINAL_TYPE (CatenaWindow, catena_window, CATENA, WINDOW, AdwApplicationWindow)

CatenaWindow          *catena_window_new             (GtkApplication *application);
gboolean               catena_window_load            (CatenaWindow   *self,
                                                      GFile          *file,
                                                      GError        **error);
/* The project came from an autosave: it is unsaved work until the user saves it. */
void                   catena_window_mark_recovered  (CatenaWindow   *self);
void                   catena_window_set_project     (CatenaWindow   *self,
                                                      CatenaProject  *project);
CatenaProject         *catena_window_get_project     (CatenaWindow   *self);
CatenaHistory         *catena_window_get_history     (CatenaWindow   *self);
CatenaRunner          *catena_window_get_runner      (CatenaWindow   *self);
CatenaChainView       *catena_window_get_chain_view  (CatenaWindow   *self);
CatenaInspector       *catena_window_get_inspector   (CatenaWindow   *self);
CatenaPreview         *catena_window_get_preview     (CatenaWindow   *self);
CatenaPreviewRenderer *catena_window_get_renderer    (CatenaWindow   *self);
void                   catena_window_select_asset    (CatenaWindow   *self,
                                                      guint           position);
CatenaAsset           *catena_window_get_asset       (CatenaWindow   *self);
/* Adds image files as assets; returns how many were images. */
guint                  catena_window_add_files       (CatenaWindow   *self,
                                                      GFile         **files,
                                                      guint           n_files);
/* Saves the project there (photo paths are rebased to the new folder). */
gboolean               catena_window_save_to         (CatenaWindow   *self,
                                                      GFile          *file,
                                                      GError        **error);
gboolean               catena_window_get_modified    (CatenaWindow   *self);
/* TRUE while cache keys, thumbnails or preview sources are being worked out. */
gboolean               catena_window_is_busy         (CatenaWindow   *self);
/* Whether the large preview shows a live stage (re-rendered while its sliders move). */
gboolean               catena_window_is_live         (CatenaWindow   *self);
/* Whether the large preview blends two renders of a strength sweep (a style stage). */
gboolean               catena_window_is_blending     (CatenaWindow   *self);
const char            *catena_window_get_last_toast  (CatenaWindow   *self);
void                   catena_window_dismiss_toast   (CatenaWindow   *self);

G_END_DECLS
