/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <json-glib/json-glib.h>

#include "catena-types.h"

G_BEGIN_DECLS

#define CATENA_TYPE_ASSET (catena_asset_get_type ())
G_DECLARE_FINAL_TYPE (CatenaAsset, catena_asset, CATENA, ASSET, GObject)

CatenaAsset      *catena_asset_new            (const char       *id);
const char       *catena_asset_get_id         (CatenaAsset      *self);
const char       *catena_asset_get_name       (CatenaAsset      *self);
void              catena_asset_set_name       (CatenaAsset      *self,
                                               const char       *name);
/* Path of the source photo, as written in the project (may be relative). */
const char       *catena_asset_get_source     (CatenaAsset      *self);
void              catena_asset_set_source     (CatenaAsset      *self,
                                               const char       *source);
const char       *catena_asset_get_prompt     (CatenaAsset      *self);
void              catena_asset_set_prompt     (CatenaAsset      *self,
                                               const char       *prompt);
CatenaAssetKind  catena_asset_get_asset_class (CatenaAsset     *self);
void              catena_asset_set_asset_class (CatenaAsset     *self,
                                                CatenaAssetKind asset_class);
/* Absolute source path, resolved against base_dir when relative. */
char             *catena_asset_resolve_source (CatenaAsset      *self,
                                               const char       *base_dir);

const char       *catena_asset_class_to_string   (CatenaAssetKind asset_class);
gboolean          catena_asset_class_from_string (const char      *text,
                                                  CatenaAssetKind *out);
/* Longest edge, in pixels, of exports of this class. */
int               catena_asset_class_get_long_edge (CatenaAssetKind asset_class);

JsonNode         *catena_asset_to_json        (CatenaAsset      *self);
CatenaAsset      *catena_asset_new_from_json  (JsonNode         *node,
                                               GError          **error);

G_END_DECLS
