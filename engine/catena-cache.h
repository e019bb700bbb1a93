/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gegl.h>

#include "catena-types.h"

G_BEGIN_DECLS

#define CATENA_TYPE_CACHE (catena_cache_get_type ())
G_DECLARE_FINAL_TYPE (CatenaCache, catena_cache, CATENA, CACHE, GObject)

/* dir NULL: $XDG_CACHE_HOME/catena/stages. Thread-safe. */
CatenaCache *catena_cache_new            (const char  *dir,
                                          gsize        memory_budget);
CatenaCache *catena_cache_get_default    (void);
const char  *catena_cache_get_dir        (CatenaCache *self);
/* Returns a new reference, or NULL on a miss (error set only for real failures). */
GeglBuffer  *catena_cache_lookup         (CatenaCache *self,
                                          const char  *key,
                                          GError     **error);
gboolean     catena_cache_contains       (CatenaCache *self,
                                          const char  *key);
gboolean     catena_cache_store          (CatenaCache *self,
                                          const char  *key,
                                          GeglBuffer  *buffer,
                                          GError     **error);
void         catena_cache_clear_memory   (CatenaCache *self);
gboolean     catena_cache_clear          (CatenaCache *self,
                                          GError     **error);

/* Hash helpers used for keys. */
char        *catena_hash_file            (const char  *path,
                                          GCancellable *cancellable,
                                          GError     **error);

G_END_DECLS
