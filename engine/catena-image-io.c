/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <errno.h>
#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>
#include <string.h>

#include "catena-error.h"
#include "catena-image-io.h"

static guint32
be32 (const guchar *p)
{
  return ((guint32) p[0] << 24) | ((guint32) p[1] << 16) | ((guint32) p[2] << 8) | p[3];
}

static guint16
be16 (const guchar *p)
{
  return (guint16) ((p[0] << 8) | p[1]);
}

static guint32
le32 (const guchar *p)
{
  return ((guint32) p[3] << 24) | ((guint32) p[2] << 16) | ((guint32) p[1] << 8) | p[0];
}

static gboolean
invalid (GError **error, const char *path, const char *why)
{
  g_autofree char *name = g_filename_display_basename (path);
  g_set_error (error, CATENA_STAGE_ERROR, CATENA_STAGE_ERROR_INVALID_IMAGE,
               _("“%s” cannot be read: %s"), name, why);
  return FALSE;
}

/* PNG: IHDR gives the size; walking the chunks to IEND proves the file is whole. */
static gboolean
probe_png (const char *path, const guchar *d, gsize len, int *w, int *h, GError **error)
{
  gsize pos = 8;
  gboolean seen_iend = FALSE;

  if (len < 33 || memcmp (d + 12, "IHDR", 4) != 0)
    return invalid (error, path, _("the PNG header is damaged."));
  *w = (int) MIN (be32 (d + 16), (guint32) G_MAXINT);
  *h = (int) MIN (be32 (d + 20), (guint32) G_MAXINT);
  while (pos + 12 <= len)
    {
      guint32 clen = be32 (d + pos);
      if (memcmp (d + pos + 4, "IEND", 4) == 0)
        {
          seen_iend = TRUE;
          break;
        }
      if (clen > len || pos + 12 + (gsize) clen > len)
        break;
      pos += 12 + (gsize) clen;
    }
  if (!seen_iend)
    return invalid (error, path, _("the PNG file is cut short (it may not have finished downloading)."));
  return TRUE;
}

/* JPEG: walk marker segments for the frame size; after each scan look for the next marker and
 * require an EOI, which libjpeg would otherwise silently replace with grey. */
static gboolean
probe_jpeg (const char *path, const guchar *d, gsize len, int *w, int *h, GError **error)
{
  gsize pos = 2;
  gboolean have_size = FALSE;

  while (pos + 2 <= len)
    {
      guchar marker;
      guint16 seglen;

      if (d[pos] != 0xff)
        return invalid (error, path, _("the JPEG data is damaged."));
      marker = d[pos + 1];
      if (marker == 0xff)
        {
          pos++;
          continue;
        }
      if (marker == 0xd9)
        return have_size ? TRUE : invalid (error, path, _("the JPEG file has no image frame."));
      if (marker == 0x01 || (marker >= 0xd0 && marker <= 0xd7))
        {
          pos += 2;
          continue;
        }
      if (pos + 4 > len)
        break;
      seglen = be16 (d + pos + 2);
      if (seglen < 2 || pos + 2 + seglen > len)
        break;
      if ((marker >= 0xc0 && marker <= 0xcf) && marker != 0xc4 && marker != 0xc8 &&
          marker != 0xcc)
        {
          if (seglen < 7)
            return invalid (error, path, _("the JPEG frame header is damaged."));
          *h = be16 (d + pos + 5);
          *w = be16 (d + pos + 7);
          have_size = TRUE;
        }
      pos += 2 + seglen;
      if (marker == 0xda)
        {
          /* Entropy-coded data: skip stuffed bytes and restart markers. */
          while (pos + 1 < len &&
                 !(d[pos] == 0xff && d[pos + 1] != 0x00 && !(d[pos + 1] >= 0xd0 && d[pos + 1] <= 0xd7)))
            pos++;
        }
    }
  return invalid (error, path, _("the JPEG file is cut short (it may not have finished downloading)."));
}

static gboolean
probe_webp (const char *path, const guchar *d, gsize len, int *w, int *h, GError **error)
{
  guint32 riff_len = le32 (d + 4);

  if ((gsize) riff_len + 8 > len)
    return invalid (error, path, _("the WebP file is cut short."));
  if (len >= 30 && memcmp (d + 12, "VP8 ", 4) == 0)
    {
      *w = (d[26] | (d[27] << 8)) & 0x3fff;
      *h = (d[28] | (d[29] << 8)) & 0x3fff;
    }
  else if (len >= 25 && memcmp (d + 12, "VP8L", 4) == 0)
    {
      guint32 bits = le32 (d + 21);
      *w = (bits & 0x3fff) + 1;
      *h = ((bits >> 14) & 0x3fff) + 1;
    }
  else if (len >= 30 && memcmp (d + 12, "VP8X", 4) == 0)
    {
      *w = 1 + (d[24] | (d[25] << 8) | (d[26] << 16));
      *h = 1 + (d[27] | (d[28] << 8) | (d[29] << 16));
    }
  else
    return invalid (error, path, _("the WebP header is damaged."));
  return TRUE;
}

gboolean
catena_image_probe (const char *path,
                    CatenaImageKind *kind,
                    int *width,
                    int *height,
                    GError **error)
{
  g_autoptr (GMappedFile) map = NULL;
  g_autoptr (GError) local_error = NULL;
  g_autofree char *name = g_filename_display_basename (path);
  const guchar *d;
  gsize len;
  int w = 0, h = 0;
  CatenaImageKind k = CATENA_IMAGE_KIND_UNKNOWN;

  if (!(map = g_mapped_file_new (path, FALSE, &local_error)))
    {
      if (g_error_matches (local_error, G_FILE_ERROR, G_FILE_ERROR_NOENT))
        g_set_error (error, CATENA_STAGE_ERROR, CATENA_STAGE_ERROR_MISSING_INPUT,
                     _("The photo “%s” is missing: it was moved or deleted."), name);
      else
        g_set_error (error, CATENA_STAGE_ERROR, CATENA_STAGE_ERROR_INVALID_IMAGE,
                     _("Could not open the photo “%s”: %s"), name, local_error->message);
      return FALSE;
    }
  d = (const guchar *) g_mapped_file_get_contents (map);
  len = g_mapped_file_get_length (map);

  if (len >= 8 && memcmp (d, "\x89PNG\r\n\x1a\n", 8) == 0)
    {
      k = CATENA_IMAGE_KIND_PNG;
      if (!probe_png (path, d, len, &w, &h, error))
        return FALSE;
    }
  else if (len >= 4 && d[0] == 0xff && d[1] == 0xd8 && d[2] == 0xff)
    {
      k = CATENA_IMAGE_KIND_JPEG;
      if (!probe_jpeg (path, d, len, &w, &h, error))
        return FALSE;
    }
  else if (len >= 16 && memcmp (d, "RIFF", 4) == 0 && memcmp (d + 8, "WEBP", 4) == 0)
    {
      k = CATENA_IMAGE_KIND_WEBP;
      if (!probe_webp (path, d, len, &w, &h, error))
        return FALSE;
    }
  else if (len >= 8 && (memcmp (d, "II*\0", 4) == 0 || memcmp (d, "MM\0*", 4) == 0))
    {
      /* TIFF sizes live in IFDs anywhere in the file; GEGL's loader reports them below. */
      k = CATENA_IMAGE_KIND_TIFF;
    }
  else
    {
      g_set_error (error, CATENA_STAGE_ERROR, CATENA_STAGE_ERROR_INVALID_IMAGE,
                   _("“%s” is not a PNG, JPEG, WebP or TIFF image."), name);
      return FALSE;
    }

  if (k != CATENA_IMAGE_KIND_TIFF)
    {
      if (w <= 0 || h <= 0)
        return invalid (error, path, _("the image has no pixels."));
      if (w > CATENA_IMAGE_MAX_EDGE || h > CATENA_IMAGE_MAX_EDGE ||
          (gint64) w * h > CATENA_IMAGE_MAX_PIXELS)
        {
          g_set_error (error, CATENA_STAGE_ERROR, CATENA_STAGE_ERROR_TOO_LARGE,
                       _("“%s” is %d × %d pixels, larger than Catena accepts (%d pixels on a "
                         "side, %d megapixels)."),
                       name, w, h, CATENA_IMAGE_MAX_EDGE, CATENA_IMAGE_MAX_PIXELS / 1000000);
          return FALSE;
        }
    }
  if (kind)
    *kind = k;
  if (width)
    *width = w;
  if (height)
    *height = h;
  return TRUE;
}

GeglBuffer *
catena_render_node (GeglNode *node,
                    const GeglRectangle *extent,
                    GCancellable *cancellable,
                    void (*progress) (double, gpointer),
                    gpointer progress_data,
                    GError **error)
{
  g_autoptr (GeglBuffer) out = NULL;
  g_autoptr (GeglProcessor) processor = NULL;
  GeglNode *parent = gegl_node_get_parent (node);
  GeglNode *sink;
  double fraction = 0;

  out = gegl_buffer_new (extent, babl_format (CATENA_WORK_FORMAT));
  sink = gegl_node_new_child (parent, "operation", "gegl:write-buffer", "buffer", out, NULL);
  gegl_node_connect_to (node, "output", sink, "input");

  processor = gegl_node_new_processor (sink, extent);
  while (gegl_processor_work (processor, &fraction))
    {
      if (g_cancellable_set_error_if_cancelled (cancellable, error))
        {
          gegl_node_remove_child (parent, sink);
          return NULL;
        }
      if (progress)
        progress (fraction, progress_data);
    }
  gegl_node_remove_child (parent, sink);
  if (progress)
    progress (1.0, progress_data);
  return g_steal_pointer (&out);
}

static const char *
loader_for (CatenaImageKind kind)
{
  switch (kind)
    {
    case CATENA_IMAGE_KIND_PNG:
      return "gegl:png-load";
    case CATENA_IMAGE_KIND_JPEG:
      return "gegl:jpg-load";
    case CATENA_IMAGE_KIND_WEBP:
      return "gegl:webp-load";
    case CATENA_IMAGE_KIND_TIFF:
      return "gegl:tiff-load";
    default:
      return "gegl:load";
    }
}

GeglBuffer *
catena_image_load (const char *path, GCancellable *cancellable, GError **error)
{
  g_autoptr (GeglNode) graph = NULL;
  g_autofree char *name = g_filename_display_basename (path);
  GeglNode *load;
  GeglRectangle bbox;
  CatenaImageKind kind;
  int w, h;

  if (!catena_image_probe (path, &kind, &w, &h, error))
    return NULL;

  graph = gegl_node_new ();
  load = gegl_node_new_child (graph, "operation", loader_for (kind), "path", path, NULL);
  bbox = gegl_node_get_bounding_box (load);
  if (bbox.width <= 0 || bbox.height <= 0)
    {
      g_set_error (error, CATENA_STAGE_ERROR, CATENA_STAGE_ERROR_INVALID_IMAGE,
                   _("“%s” cannot be read: the image data is damaged or in an unsupported "
                     "variant of its format."),
                   name);
      return NULL;
    }
  if (bbox.width > CATENA_IMAGE_MAX_EDGE || bbox.height > CATENA_IMAGE_MAX_EDGE ||
      (gint64) bbox.width * bbox.height > CATENA_IMAGE_MAX_PIXELS)
    {
      g_set_error (error, CATENA_STAGE_ERROR, CATENA_STAGE_ERROR_TOO_LARGE,
                   _("“%s” is %d × %d pixels, larger than Catena accepts."), name, bbox.width,
                   bbox.height);
      return NULL;
    }
  return catena_render_node (load, &bbox, cancellable, NULL, NULL, error);
}

const char *
catena_export_format_get_extension (CatenaExportFormat format)
{
  switch (format)
    {
    case CATENA_EXPORT_FORMAT_JPEG:
      return "jpg";
    case CATENA_EXPORT_FORMAT_WEBP:
      return "webp";
    case CATENA_EXPORT_FORMAT_TIFF:
      return "tif";
    case CATENA_EXPORT_FORMAT_PNG:
    default:
      return "png";
    }
}

gboolean
catena_image_save (GeglBuffer *buffer,
                   const char *path,
                   CatenaExportFormat format,
                   int quality,
                   GError **error)
{
  g_autoptr (GeglNode) graph = gegl_node_new ();
  g_autoptr (GeglBuffer) u8 = NULL;
  g_autofree char *dir = g_path_get_dirname (path);
  g_autofree char *base = g_path_get_basename (path);
  g_autofree char *tmp = NULL;
  const GeglRectangle *extent = gegl_buffer_get_extent (buffer);
  GeglNode *src, *save;
  gboolean has_alpha = format != CATENA_EXPORT_FORMAT_JPEG;

  /* GEGL's savers only warn when they cannot open the file: check the folder first. */
  if (!g_file_test (dir, G_FILE_TEST_IS_DIR) || g_access (dir, W_OK) != 0)
    {
      g_autofree char *name = g_filename_display_name (dir);
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED,
                   _("Cannot write into the folder “%s”: it does not exist or is read-only."),
                   name);
      return FALSE;
    }

  /* Savers pick their bit depth from the input format: give them 8-bit sRGB explicitly. */
  u8 = gegl_buffer_new (extent, babl_format (has_alpha ? "R'G'B'A u8" : "R'G'B' u8"));
  gegl_buffer_copy (buffer, NULL, GEGL_ABYSS_NONE, u8, NULL);

  tmp = g_strdup_printf ("%s/.%s.%u.tmp.%s", dir, base, g_random_int (),
                         catena_export_format_get_extension (format));
  src = gegl_node_new_child (graph, "operation", "gegl:buffer-source", "buffer", u8, NULL);
  switch (format)
    {
    case CATENA_EXPORT_FORMAT_JPEG:
      save = gegl_node_new_child (graph, "operation", "gegl:jpg-save", "path", tmp, "quality",
                                  CLAMP (quality, 1, 100), "optimize", TRUE, NULL);
      break;
    case CATENA_EXPORT_FORMAT_WEBP:
      save = gegl_node_new_child (graph, "operation", "gegl:webp-save", "path", tmp, "quality",
                                  CLAMP (quality, 1, 100), NULL);
      break;
    case CATENA_EXPORT_FORMAT_TIFF:
      save = gegl_node_new_child (graph, "operation", "gegl:tiff-save", "path", tmp, NULL);
      break;
    case CATENA_EXPORT_FORMAT_PNG:
    default:
      save = gegl_node_new_child (graph, "operation", "gegl:png-save", "path", tmp, "bitdepth", 8,
                                  NULL);
      break;
    }
  gegl_node_connect_to (src, "output", save, "input");
  gegl_node_process (save);

  /* GEGL's savers do not report failures: re-read the headers (and for PNG/JPEG/WebP the
   * end marker) so a full disk shows up as an error, not as a broken file. */
  if (!g_file_test (tmp, G_FILE_TEST_IS_REGULAR) || !catena_image_probe (tmp, NULL, NULL, NULL, NULL))
    {
      g_unlink (tmp);
      g_autofree char *name = g_filename_display_name (path);
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED,
                   _("Could not write “%s”: check that the folder exists, is writable and that "
                     "the disk is not full."),
                   name);
      return FALSE;
    }
  if (g_rename (tmp, path) != 0)
    {
      int saved = errno;
      g_autofree char *name = g_filename_display_name (path);
      g_unlink (tmp);
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved), _("Could not write “%s”: %s"),
                   name, g_strerror (saved));
      return FALSE;
    }
  return TRUE;
}
