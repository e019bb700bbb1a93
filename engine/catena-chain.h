/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gio/gio.h>
#include <json-glib/json-glib.h>

#include "catena-stage.h"

G_BEGIN_DECLS

#define CATENA_CHAIN_FORMAT_VERSION 1

#define CATENA_TYPE_CHAIN (catena_chain_get_type ())
G_DECLARE_FINAL_TYPE (CatenaChain, catena_chain, CATENA, CHAIN, GObject)

CatenaChain *catena_chain_new            (void);
guint        catena_chain_get_n_stages   (CatenaChain  *self);
CatenaStage *catena_chain_get_stage      (CatenaChain  *self,
                                          guint         position);
CatenaStage *catena_chain_find_stage     (CatenaChain  *self,
                                          const char   *id,
                                          guint        *position);
/* Ids are unique in a chain; a clashing or missing id is replaced by "<kind>[-N]". */
void         catena_chain_insert         (CatenaChain  *self,
                                          guint         position,
                                          CatenaStage  *stage);
void         catena_chain_append         (CatenaChain  *self,
                                          CatenaStage  *stage);
void         catena_chain_remove         (CatenaChain  *self,
                                          guint         position);
void         catena_chain_move           (CatenaChain  *self,
                                          guint         from,
                                          guint         to);
char        *catena_chain_make_unique_id (CatenaChain  *self,
                                          const char   *kind);
CatenaChain *catena_chain_duplicate      (CatenaChain  *self);

/* "stage-changed" (CatenaStage *stage, GParamSpec *pspec) when any stage property changes. */

JsonNode    *catena_chain_to_json        (CatenaChain  *self);
CatenaChain *catena_chain_new_from_json  (JsonNode     *node,
                                          GError      **error);
CatenaChain *catena_chain_load           (GFile        *file,
                                          GError      **error);
gboolean     catena_chain_save           (CatenaChain  *self,
                                          GFile        *file,
                                          GError      **error);
/* Apply "stage.param=value" (stage is an id or a kind when unique). */
gboolean     catena_chain_apply_setting  (CatenaChain  *self,
                                          const char   *assignment,
                                          GError      **error);

G_END_DECLS
