/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gio/gio.h>

#include "catena-asset.h"
#include "catena-chain.h"

G_BEGIN_DECLS

#define CATENA_PROJECT_FORMAT_VERSION 1

#define CATENA_TYPE_PROJECT (catena_project_get_type ())
G_DECLARE_FINAL_TYPE (CatenaProject, catena_project, CATENA, PROJECT, GObject)

CatenaProject *catena_project_new             (void);
CatenaProject *catena_project_load            (GFile          *file,
                                               GError        **error);
/* Atomic: written to a temporary file next to the target and renamed over it. */
gboolean       catena_project_save            (CatenaProject  *self,
                                               GFile          *file,
                                               GError        **error);
GFile         *catena_project_get_file        (CatenaProject  *self);
/* Where Save writes and relative photo paths resolve (recovered autosaves point it back at
 * the original); load and save set it themselves. */
void           catena_project_set_file        (CatenaProject  *self,
                                               GFile          *file);
/* Directory relative paths resolve against (the project file's folder, or the cwd). */
char          *catena_project_dup_base_dir    (CatenaProject  *self);
const char    *catena_project_get_name        (CatenaProject  *self);
void           catena_project_set_name        (CatenaProject  *self,
                                               const char     *name);
const char    *catena_project_get_output_dir  (CatenaProject  *self);
void           catena_project_set_output_dir  (CatenaProject  *self,
                                               const char     *output_dir);
CatenaChain   *catena_project_get_chain       (CatenaProject  *self);
/* A GListModel of CatenaAsset */
GListModel    *catena_project_get_assets      (CatenaProject  *self);
/* New references to `assets` (a GPtrArray of CatenaAsset), or to every asset of the project
 * when `assets` is NULL: what a command given an optional --asset list works on. */
GPtrArray     *catena_project_select_assets   (CatenaProject  *self,
                                               GPtrArray      *assets);
CatenaAsset   *catena_project_find_asset      (CatenaProject  *self,
                                               const char     *id);
void           catena_project_add_asset       (CatenaProject  *self,
                                               CatenaAsset    *asset);
void           catena_project_remove_asset    (CatenaProject  *self,
                                               CatenaAsset    *asset);
char          *catena_project_make_asset_id   (CatenaProject  *self,
                                               const char     *hint);

/* Named sections for features that keep their own data in the project (routing rules,
 * review states, brand kit…). Stored under "sections" and preserved on load/save even when
 * this build does not know them. dup returns a copy or NULL; set copies (NULL removes) and
 * emits "section-changed" (const char *name). */
JsonNode      *catena_project_dup_section     (CatenaProject  *self,
                                               const char     *name);
void           catena_project_set_section     (CatenaProject  *self,
                                               const char     *name,
                                               JsonNode       *node);

JsonNode      *catena_project_to_json         (CatenaProject  *self);
CatenaProject *catena_project_new_from_json   (JsonNode       *node,
                                               GError        **error);

G_END_DECLS
