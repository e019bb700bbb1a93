/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gtk/gtk.h>

#include "catena-engine.h"

G_BEGIN_DECLS

#define CATENA_TYPE_THUMBNAILER (catena_thumbnailer_get_type ())
G_DECLARE_FINAL_TYPE (CatenaThumbnailer, catena_thumbnailer, CATENA, THUMBNAILER, GObject)

/* Small textures of cached stage outputs, rendered with GEGL on worker threads and kept in
 * memory by cache key (a key names one exact image, so an entry never goes stale). */
CatenaThumbnailer *catena_thumbnailer_new         (CatenaCache       *cache,
                                                   int                size);
GdkTexture        *catena_thumbnailer_peek        (CatenaThumbnailer *self,
                                                   const char        *key);
void               catena_thumbnailer_load_async  (CatenaThumbnailer *self,
                                                   const char        *key,
                                                   GCancellable      *cancellable,
                                                   GAsyncReadyCallback callback,
                                                   gpointer           user_data);
/* NULL without error when the key is not in the cache. */
GdkTexture        *catena_thumbnailer_load_finish (CatenaThumbnailer *self,
                                                   GAsyncResult      *result,
                                                   GError           **error);

G_END_DECLS
