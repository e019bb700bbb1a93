/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <math.h>
#include <string.h>

#include "catena-preview-renderer.h"
#include "catena-thumbnailer.h"

#define MAX_ENTRIES 256

struct _CatenaThumbnailer
{
  GObject parent_instance;

  CatenaCache *cache;
  int size;
  GHashTable *textures; /* key → GdkTexture */
};

G_DEFINE_FINAL_TYPE (CatenaThumbnailer, catena_thumbnailer, G_TYPE_OBJECT)

typedef struct
{
  CatenaCache *cache;
  char *key;
  int size;
  GBytes *bytes;
  int width, height;
  gsize stride;
} Job;

static void
job_free (Job *job)
{
  g_clear_object (&job->cache);
  g_free (job->key);
  g_clear_pointer (&job->bytes, g_bytes_unref);
  g_free (job);
}

static void
catena_thumbnailer_finalize (GObject *object)
{
  CatenaThumbnailer *self = CATENA_THUMBNAILER (object);

  g_clear_object (&self->cache);
  g_clear_pointer (&self->textures, g_hash_table_unref);

  G_OBJECT_CLASS (catena_thumbnailer_parent_class)->finalize (object);
}

static void
catena_thumbnailer_class_init (CatenaThumbnailerClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = catena_thumbnailer_finalize;
}

static void
catena_thumbnailer_init (CatenaThumbnailer *self)
{
  self->textures = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_object_unref);
}

CatenaThumbnailer *
catena_thumbnailer_new (CatenaCache *cache, int size)
{
  CatenaThumbnailer *self = g_object_new (CATENA_TYPE_THUMBNAILER, NULL);

  self->cache = g_object_ref (cache ? cache : catena_cache_get_default ());
  self->size = MAX (16, size);
  return self;
}

GdkTexture *
catena_thumbnailer_peek (CatenaThumbnailer *self, const char *key)
{
  g_return_val_if_fail (CATENA_IS_THUMBNAILER (self), NULL);
  return key ? g_hash_table_lookup (self->textures, key) : NULL;
}

static void
thumbnail_thread (GTask *task, gpointer source, gpointer data, GCancellable *cancellable)
{
  Job *job = data;
  g_autoptr (GError) error = NULL;
  g_autoptr (GeglBuffer) buffer = NULL;
  const GeglRectangle *extent;
  GeglRectangle rect;
  double scale;

  buffer = catena_cache_lookup (job->cache, job->key, &error);
  if (buffer == NULL)
    {
      if (error)
        g_task_return_error (task, g_steal_pointer (&error));
      else
        g_task_return_boolean (task, FALSE);
      return;
    }
  if (g_task_return_error_if_cancelled (task))
    return;

  /* Every thumbnail has the same 3:2 box, the image centred in it, so cards line up whatever
   * the aspect of the stage's output. */
  extent = gegl_buffer_get_extent (buffer);
  job->width = job->size;
  job->height = job->size * 2 / 3;
  scale = MIN (1.0, MIN ((double) job->width / extent->width,
                         (double) job->height / extent->height));
  rect = (GeglRectangle){ 0, 0, CLAMP ((int) floor (extent->width * scale), 1, job->width),
                          CLAMP ((int) floor (extent->height * scale), 1, job->height) };
  {
    gsize stride, box_stride = (gsize) job->width * 4;
    g_autoptr (GBytes) image = catena_render_rgba8 (buffer, scale, &rect, &stride);
    guint8 *box = g_malloc0 (box_stride * job->height);
    const guint8 *src = g_bytes_get_data (image, NULL);
    int x0 = (job->width - rect.width) / 2, y0 = (job->height - rect.height) / 2;

    for (int y = 0; y < rect.height; y++)
      memcpy (box + (gsize) (y0 + y) * box_stride + (gsize) x0 * 4, src + (gsize) y * stride,
              (gsize) rect.width * 4);
    job->bytes = g_bytes_new_take (box, box_stride * job->height);
    job->stride = box_stride;
  }
  g_task_return_boolean (task, TRUE);
}

void
catena_thumbnailer_load_async (CatenaThumbnailer *self,
                               const char *key,
                               GCancellable *cancellable,
                               GAsyncReadyCallback callback,
                               gpointer user_data)
{
  g_autoptr (GTask) task = NULL;
  Job *job;

  g_return_if_fail (CATENA_IS_THUMBNAILER (self));
  g_return_if_fail (key != NULL);

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, catena_thumbnailer_load_async);
  job = g_new0 (Job, 1);
  job->cache = g_object_ref (self->cache);
  job->key = g_strdup (key);
  job->size = self->size;
  g_task_set_task_data (task, job, (GDestroyNotify) job_free);

  if (g_hash_table_contains (self->textures, key))
    {
      g_task_return_boolean (task, TRUE);
      return;
    }
  g_task_run_in_thread (task, thumbnail_thread);
}

GdkTexture *
catena_thumbnailer_load_finish (CatenaThumbnailer *self, GAsyncResult *result, GError **error)
{
  GTask *task = G_TASK (result);
  Job *job = g_task_get_task_data (task);
  GdkTexture *texture;

  if (!g_task_propagate_boolean (task, error))
    return NULL;
  if ((texture = g_hash_table_lookup (self->textures, job->key)))
    return g_object_ref (texture);
  if (job->bytes == NULL)
    return NULL;

  if (g_hash_table_size (self->textures) >= MAX_ENTRIES)
    g_hash_table_remove_all (self->textures);
  texture = catena_texture_new_rgba8 (job->bytes, job->width, job->height, job->stride);
  g_hash_table_insert (self->textures, g_strdup (job->key), g_object_ref (texture));
  return texture;
}
