/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <glib/gi18n-lib.h>
#include <errno.h>
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <string.h>

#include "catena-cache.h"
#include "catena-error.h"

/* On disk, one file per stage output: <dir>/<key[0:2]>/<key>.cbuf
 *   "CATBUF01" | u32 width | u32 height | u32 format-name length | format name | pixels
 * Raw pixels rather than PNG: intermediates are float and a hit must be cheaper than the stage
 * it replaces. Files are written to a temporary name and renamed, so a killed run leaves either
 * a whole entry or none. */
#define MAGIC        "CATBUF01"
#define MAGIC_LEN    8
#define STRIP_ROWS   64
#define MAX_EDGE     65536
#define MAX_FMT_NAME 128

typedef struct
{
  char *key;
  GeglBuffer *buffer;
  gsize bytes;
  GList *link;
} MemEntry;

struct _CatenaCache
{
  GObject parent_instance;

  char *dir;
  gsize memory_budget;

  GMutex lock;
  GHashTable *entries; /* key -> MemEntry */
  GQueue lru;          /* of MemEntry, most recent at the head */
  gsize memory_used;
};

G_DEFINE_FINAL_TYPE (CatenaCache, catena_cache, G_TYPE_OBJECT)

static void
mem_entry_free (gpointer data)
{
  MemEntry *e = data;
  g_object_unref (e->buffer);
  g_free (e->key);
  g_free (e);
}

static void
catena_cache_finalize (GObject *object)
{
  CatenaCache *self = CATENA_CACHE (object);

  g_queue_clear (&self->lru);
  g_hash_table_destroy (self->entries);
  g_mutex_clear (&self->lock);
  g_free (self->dir);

  G_OBJECT_CLASS (catena_cache_parent_class)->finalize (object);
}

static void
catena_cache_class_init (CatenaCacheClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = catena_cache_finalize;
}

static void
catena_cache_init (CatenaCache *self)
{
  g_mutex_init (&self->lock);
  self->entries = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, mem_entry_free);
  g_queue_init (&self->lru);
}

CatenaCache *
catena_cache_new (const char *dir, gsize memory_budget)
{
  CatenaCache *self = g_object_new (CATENA_TYPE_CACHE, NULL);

  self->dir = dir ? g_strdup (dir) : g_build_filename (g_get_user_cache_dir (), "catena", "stages", NULL);
  self->memory_budget = memory_budget;
  return self;
}

CatenaCache *
catena_cache_get_default (void)
{
  static CatenaCache *cache;
  static gsize initialized;

  if (g_once_init_enter (&initialized))
    {
      cache = catena_cache_new (NULL, 512 * 1024 * 1024);
      g_once_init_leave (&initialized, 1);
    }
  return cache;
}

const char *
catena_cache_get_dir (CatenaCache *self)
{
  g_return_val_if_fail (CATENA_IS_CACHE (self), NULL);
  return self->dir;
}

static gboolean
valid_key (const char *key)
{
  gsize len = key ? strlen (key) : 0;

  if (len < 8 || len > 128)
    return FALSE;
  for (gsize i = 0; i < len; i++)
    if (!g_ascii_isxdigit (key[i]))
      return FALSE;
  return TRUE;
}

static char *
path_for_key (CatenaCache *self, const char *key)
{
  char sub[3] = { key[0], key[1], 0 };
  g_autofree char *name = g_strconcat (key, ".cbuf", NULL);
  return g_build_filename (self->dir, sub, name, NULL);
}

static gsize
buffer_bytes (GeglBuffer *buffer)
{
  const GeglRectangle *r = gegl_buffer_get_extent (buffer);
  return (gsize) r->width * r->height * babl_format_get_bytes_per_pixel (gegl_buffer_get_format (buffer));
}

/* Called with the lock held. */
static void
mem_insert_locked (CatenaCache *self, const char *key, GeglBuffer *buffer)
{
  MemEntry *e;
  gsize bytes = buffer_bytes (buffer);

  if (bytes > self->memory_budget)
    return;
  if ((e = g_hash_table_lookup (self->entries, key)))
    {
      g_queue_unlink (&self->lru, e->link);
      g_queue_push_head_link (&self->lru, e->link);
      return;
    }
  while (self->memory_used + bytes > self->memory_budget && self->lru.tail)
    {
      MemEntry *old = self->lru.tail->data;
      g_queue_delete_link (&self->lru, old->link);
      self->memory_used -= old->bytes;
      g_hash_table_remove (self->entries, old->key);
    }
  e = g_new0 (MemEntry, 1);
  e->key = g_strdup (key);
  e->buffer = g_object_ref (buffer);
  e->bytes = bytes;
  g_queue_push_head (&self->lru, e);
  e->link = self->lru.head;
  g_hash_table_insert (self->entries, e->key, e);
  self->memory_used += bytes;
}

static GeglBuffer *
mem_lookup (CatenaCache *self, const char *key)
{
  GeglBuffer *buffer = NULL;
  MemEntry *e;

  g_mutex_lock (&self->lock);
  if ((e = g_hash_table_lookup (self->entries, key)))
    {
      g_queue_unlink (&self->lru, e->link);
      g_queue_push_head_link (&self->lru, e->link);
      buffer = g_object_ref (e->buffer);
    }
  g_mutex_unlock (&self->lock);
  return buffer;
}

static gboolean
read_exact (GInputStream *in, void *buf, gsize len)
{
  gsize got = 0;
  return g_input_stream_read_all (in, buf, len, &got, NULL, NULL) && got == len;
}

static GeglBuffer *
disk_read (const char *path, GError **error)
{
  g_autoptr (GFile) file = g_file_new_for_path (path);
  g_autoptr (GFileInputStream) in = NULL;
  g_autoptr (GeglBuffer) buffer = NULL;
  g_autoptr (GFileInfo) info = NULL;
  g_autofree guchar *strip = NULL;
  char magic[MAGIC_LEN];
  char fmt_name[MAX_FMT_NAME + 1];
  guint32 hdr[3];
  const Babl *format;
  gsize bpp, row_bytes;
  goffset expected;

  if (!(in = g_file_read (file, NULL, NULL)))
    return NULL; /* a miss */

  if (!read_exact (G_INPUT_STREAM (in), magic, MAGIC_LEN) || memcmp (magic, MAGIC, MAGIC_LEN) != 0 ||
      !read_exact (G_INPUT_STREAM (in), hdr, sizeof hdr) || hdr[0] == 0 || hdr[1] == 0 ||
      hdr[0] > MAX_EDGE || hdr[1] > MAX_EDGE || hdr[2] == 0 || hdr[2] > MAX_FMT_NAME ||
      !read_exact (G_INPUT_STREAM (in), fmt_name, hdr[2]))
    goto corrupt;
  fmt_name[hdr[2]] = '\0';
  if (!babl_format_exists (fmt_name))
    goto corrupt;
  format = babl_format (fmt_name);
  bpp = babl_format_get_bytes_per_pixel (format);
  row_bytes = (gsize) hdr[0] * bpp;

  /* The size must match exactly: a truncated entry (disk full, killed writer) is a miss. */
  info = g_file_input_stream_query_info (in, G_FILE_ATTRIBUTE_STANDARD_SIZE, NULL, NULL);
  expected = MAGIC_LEN + sizeof hdr + hdr[2] + (goffset) row_bytes * hdr[1];
  if (info == NULL || g_file_info_get_size (info) != expected)
    goto corrupt;

  buffer = gegl_buffer_new (GEGL_RECTANGLE (0, 0, hdr[0], hdr[1]), format);
  strip = g_malloc (row_bytes * STRIP_ROWS);
  for (guint32 y = 0; y < hdr[1]; y += STRIP_ROWS)
    {
      guint32 rows = MIN (STRIP_ROWS, hdr[1] - y);
      if (!read_exact (G_INPUT_STREAM (in), strip, row_bytes * rows))
        goto corrupt;
      gegl_buffer_set (buffer, GEGL_RECTANGLE (0, y, hdr[0], rows), 0, format, strip, row_bytes);
    }
  return g_steal_pointer (&buffer);

corrupt:
  g_set_error (error, CATENA_CACHE_ERROR, CATENA_CACHE_ERROR_CORRUPT,
               _("The cache entry %s is damaged; it will be recomputed."), path);
  return NULL;
}

GeglBuffer *
catena_cache_lookup (CatenaCache *self, const char *key, GError **error)
{
  g_autoptr (GError) local_error = NULL;
  g_autofree char *path = NULL;
  GeglBuffer *buffer;

  g_return_val_if_fail (CATENA_IS_CACHE (self), NULL);

  if (!valid_key (key))
    return NULL;
  if ((buffer = mem_lookup (self, key)))
    return buffer;

  path = path_for_key (self, key);
  buffer = disk_read (path, &local_error);
  if (local_error)
    {
      /* Damaged entries are recomputed, not fatal: drop the file and report a miss. */
      g_debug ("%s", local_error->message);
      g_unlink (path);
      return NULL;
    }
  if (buffer)
    {
      g_mutex_lock (&self->lock);
      mem_insert_locked (self, key, buffer);
      g_mutex_unlock (&self->lock);
    }
  return buffer;
}

gboolean
catena_cache_contains (CatenaCache *self, const char *key)
{
  g_autofree char *path = NULL;
  gboolean found;

  g_return_val_if_fail (CATENA_IS_CACHE (self), FALSE);

  if (!valid_key (key))
    return FALSE;
  g_mutex_lock (&self->lock);
  found = g_hash_table_contains (self->entries, key);
  g_mutex_unlock (&self->lock);
  if (found)
    return TRUE;
  path = path_for_key (self, key);
  return g_file_test (path, G_FILE_TEST_IS_REGULAR);
}

gboolean
catena_cache_store (CatenaCache *self, const char *key, GeglBuffer *buffer, GError **error)
{
  g_autoptr (GFile) file = NULL;
  g_autoptr (GFileOutputStream) out = NULL;
  g_autofree char *path = NULL;
  g_autofree char *dir = NULL;
  g_autofree guchar *strip = NULL;
  const GeglRectangle *r;
  const Babl *format;
  const char *fmt_name;
  guint32 hdr[3];
  gsize bpp, row_bytes;

  g_return_val_if_fail (CATENA_IS_CACHE (self), FALSE);
  g_return_val_if_fail (GEGL_IS_BUFFER (buffer), FALSE);
  g_return_val_if_fail (valid_key (key), FALSE);

  r = gegl_buffer_get_extent (buffer);
  format = gegl_buffer_get_format (buffer);
  fmt_name = babl_get_name (format);
  bpp = babl_format_get_bytes_per_pixel (format);
  row_bytes = (gsize) r->width * bpp;

  g_mutex_lock (&self->lock);
  mem_insert_locked (self, key, buffer);
  g_mutex_unlock (&self->lock);

  path = path_for_key (self, key);
  dir = g_path_get_dirname (path);
  if (g_mkdir_with_parents (dir, 0700) != 0)
    {
      int saved = errno;
      g_set_error (error, CATENA_CACHE_ERROR, CATENA_CACHE_ERROR_IO,
                   _("Could not create the cache folder %s: %s"), dir, g_strerror (saved));
      return FALSE;
    }

  file = g_file_new_for_path (path);
  out = g_file_replace (file, NULL, FALSE, G_FILE_CREATE_PRIVATE, NULL, error);
  if (out == NULL)
    goto fail;

  hdr[0] = r->width;
  hdr[1] = r->height;
  hdr[2] = strlen (fmt_name);
  if (!g_output_stream_write_all (G_OUTPUT_STREAM (out), MAGIC, MAGIC_LEN, NULL, NULL, error) ||
      !g_output_stream_write_all (G_OUTPUT_STREAM (out), hdr, sizeof hdr, NULL, NULL, error) ||
      !g_output_stream_write_all (G_OUTPUT_STREAM (out), fmt_name, hdr[2], NULL, NULL, error))
    goto fail;

  strip = g_malloc (row_bytes * STRIP_ROWS);
  for (int y = 0; y < r->height; y += STRIP_ROWS)
    {
      int rows = MIN (STRIP_ROWS, r->height - y);
      gegl_buffer_get (buffer, GEGL_RECTANGLE (r->x, r->y + y, r->width, rows), 1.0, format,
                       strip, row_bytes, GEGL_ABYSS_NONE);
      if (!g_output_stream_write_all (G_OUTPUT_STREAM (out), strip, row_bytes * rows, NULL, NULL,
                                      error))
        goto fail;
    }
  if (!g_output_stream_close (G_OUTPUT_STREAM (out), NULL, error))
    goto fail;
  return TRUE;

fail:
  if (out != NULL)
    {
      /* Cancelling the close makes GLocalFileOutputStream discard the temporary file. */
      g_autoptr (GCancellable) abort_close = g_cancellable_new ();
      g_cancellable_cancel (abort_close);
      g_output_stream_close (G_OUTPUT_STREAM (out), abort_close, NULL);
    }
  if (error && *error && (*error)->domain != CATENA_CACHE_ERROR)
    {
      GError *e = *error;
      *error = NULL;
      g_set_error (error, CATENA_CACHE_ERROR, CATENA_CACHE_ERROR_IO,
                   _("Could not write to the cache (%s): %s"), self->dir, e->message);
      g_error_free (e);
    }
  return FALSE;
}

void
catena_cache_clear_memory (CatenaCache *self)
{
  g_return_if_fail (CATENA_IS_CACHE (self));

  g_mutex_lock (&self->lock);
  g_queue_clear (&self->lru);
  g_hash_table_remove_all (self->entries);
  self->memory_used = 0;
  g_mutex_unlock (&self->lock);
}

static gboolean
remove_tree (GFile *dir, GError **error)
{
  g_autoptr (GFileEnumerator) en = NULL;
  GFileInfo *info;
  GFile *child;

  en = g_file_enumerate_children (dir, G_FILE_ATTRIBUTE_STANDARD_NAME "," G_FILE_ATTRIBUTE_STANDARD_TYPE,
                                  G_FILE_QUERY_INFO_NOFOLLOW_SYMLINKS, NULL, error);
  if (en == NULL)
    return FALSE;
  while (g_file_enumerator_iterate (en, &info, &child, NULL, error) && info != NULL)
    {
      if (g_file_info_get_file_type (info) == G_FILE_TYPE_DIRECTORY && !remove_tree (child, error))
        return FALSE;
      if (!g_file_delete (child, NULL, error))
        return FALSE;
    }
  return error == NULL || *error == NULL;
}

gboolean
catena_cache_clear (CatenaCache *self, GError **error)
{
  g_autoptr (GFile) dir = NULL;
  g_autoptr (GError) local_error = NULL;

  catena_cache_clear_memory (self);
  dir = g_file_new_for_path (self->dir);
  if (!remove_tree (dir, &local_error))
    {
      if (g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND))
        return TRUE;
      g_propagate_error (error, g_steal_pointer (&local_error));
      return FALSE;
    }
  return TRUE;
}

char *
catena_hash_file (const char *path, GCancellable *cancellable, GError **error)
{
  g_autoptr (GFile) file = g_file_new_for_path (path);
  g_autoptr (GFileInputStream) in = NULL;
  g_autoptr (GChecksum) sum = g_checksum_new (G_CHECKSUM_SHA256);
  g_autofree guchar *buf = g_malloc (1 << 16);
  gssize n;

  if (!(in = g_file_read (file, cancellable, error)))
    return NULL;
  while ((n = g_input_stream_read (G_INPUT_STREAM (in), buf, 1 << 16, cancellable, error)) > 0)
    g_checksum_update (sum, buf, n);
  if (n < 0)
    return NULL;
  return g_strdup (g_checksum_get_string (sum));
}
