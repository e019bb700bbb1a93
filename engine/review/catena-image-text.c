/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>
#include <string.h>

#include "catena-review.h"

/* A short provenance note inside the delivered file itself, so it survives being separated
 * from its sidecar. Done by rewriting the finished file rather than through GEGL's savers,
 * which have no text-chunk option: PNG gets an iTXt chunk (UTF-8, uncompressed) right after
 * IHDR, JPEG a COM segment after the APPn markers (so JFIF/Exif stay first). An earlier note
 * under the same keyword is replaced, so re-delivering does not pile notes up. */

#define PNG_SIG "\x89PNG\r\n\x1a\n"
#define MAX_FILE (512u * 1024 * 1024)

static guint32 crc_table[256];

static void
crc_init (void)
{
  static gsize done;

  if (g_once_init_enter (&done))
    {
      for (guint32 n = 0; n < 256; n++)
        {
          guint32 c = n;
          for (int k = 0; k < 8; k++)
            c = (c & 1) ? 0xedb88320u ^ (c >> 1) : c >> 1;
          crc_table[n] = c;
        }
      g_once_init_leave (&done, 1);
    }
}

/* CRC-32 as PNG defines it (ISO 3309, the same as zlib's). */
static guint32
png_crc (const guchar *data,
         gsize         len,
         guint32       crc)
{
  crc_init ();
  crc ^= 0xffffffffu;
  for (gsize i = 0; i < len; i++)
    crc = crc_table[(crc ^ data[i]) & 0xff] ^ (crc >> 8);
  return crc ^ 0xffffffffu;
}

static guint32
be32 (const guchar *p)
{
  return (guint32) p[0] << 24 | (guint32) p[1] << 16 | (guint32) p[2] << 8 | p[3];
}

static void
put_be32 (GByteArray *out,
          guint32     v)
{
  guchar b[4] = { v >> 24, v >> 16, v >> 8, v };
  g_byte_array_append (out, b, 4);
}

static gboolean
keyword_ok (const char *keyword)
{
  gsize len = keyword ? strlen (keyword) : 0;

  /* PNG: 1–79 Latin-1 printable characters, no leading/trailing/double spaces */
  if (len < 1 || len > 79 || keyword[0] == ' ' || keyword[len - 1] == ' ')
    return FALSE;
  for (gsize i = 0; i < len; i++)
    if ((guchar) keyword[i] < 32 || (guchar) keyword[i] > 126 || keyword[i] == ':')
      return FALSE;
  return TRUE;
}

static gboolean
damaged (GError    **error,
         const char *path)
{
  g_autofree char *name = g_filename_display_basename (path);

  g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
               _("“%s” is damaged: its provenance note could not be added. Export it again."),
               name);
  return FALSE;
}

/* Is this iTXt chunk ours (same keyword)? */
static gboolean
itxt_has_keyword (const guchar *data,
                  guint32       len,
                  const char   *keyword)
{
  gsize klen = strlen (keyword);

  return len > klen && memcmp (data, keyword, klen) == 0 && data[klen] == 0;
}

static GByteArray *
png_with_text (const guchar *d,
               gsize         len,
               const char   *path,
               const char   *keyword,
               const char   *text,
               GError      **error)
{
  g_autoptr (GByteArray) out = g_byte_array_sized_new (len + strlen (text) + 64);
  gsize pos = 8;
  gboolean inserted = FALSE, ended = FALSE;

  if (len < 8 || memcmp (d, PNG_SIG, 8) != 0)
    return damaged (error, path), NULL;
  g_byte_array_append (out, d, 8);
  while (!ended)
    {
      guint32 clen;
      const guchar *type;

      if (len - pos < 12)
        return damaged (error, path), NULL;
      clen = be32 (d + pos);
      type = d + pos + 4;
      if (clen > len - pos - 12)
        return damaged (error, path), NULL;
      if (pos == 8 && memcmp (type, "IHDR", 4) != 0)
        return damaged (error, path), NULL;
      ended = memcmp (type, "IEND", 4) == 0;
      if (!(memcmp (type, "iTXt", 4) == 0 && itxt_has_keyword (type + 4, clen, keyword)))
        g_byte_array_append (out, d + pos, clen + 12);
      pos += clen + 12;

      if (!inserted && memcmp (type, "IHDR", 4) == 0)
        {
          g_autoptr (GByteArray) chunk = g_byte_array_new ();
          static const guchar zeros[4] = { 0, 0, 0, 0 };

          /* keyword \0, compression flag 0, method 0, empty language \0, empty translated
           * keyword \0, text */
          g_byte_array_append (chunk, (const guchar *) "iTXt", 4);
          g_byte_array_append (chunk, (const guchar *) keyword, strlen (keyword));
          g_byte_array_append (chunk, zeros, 4);
          g_byte_array_append (chunk, zeros, 1);
          g_byte_array_append (chunk, (const guchar *) text, strlen (text));
          put_be32 (out, chunk->len - 4);
          g_byte_array_append (out, chunk->data, chunk->len);
          put_be32 (out, png_crc (chunk->data, chunk->len, 0));
          inserted = TRUE;
        }
    }
  return g_steal_pointer (&out);
}

static gboolean
jpeg_com_is_ours (const guchar *payload,
                  gsize         len,
                  const char   *keyword)
{
  gsize klen = strlen (keyword);

  return len >= klen + 2 && memcmp (payload, keyword, klen) == 0 && payload[klen] == ':' &&
         payload[klen + 1] == ' ';
}

static GByteArray *
jpeg_with_text (const guchar *d,
                gsize         len,
                const char   *path,
                const char   *keyword,
                const char   *text,
                GError      **error)
{
  g_autoptr (GByteArray) out = g_byte_array_sized_new (len + strlen (text) + 64);
  gsize pos = 2, payload = strlen (keyword) + 2 + strlen (text);
  gboolean inserted = FALSE;

  if (len < 4 || d[0] != 0xff || d[1] != 0xd8)
    return damaged (error, path), NULL;
  if (payload + 2 > 0xffff)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   _("The provenance note is too long for a JPEG comment (64 KB)."));
      return NULL;
    }
  g_byte_array_append (out, d, 2);
  /* Walk the marker segments up to SOS; the entropy-coded rest is copied as is. */
  while (pos < len)
    {
      guchar marker;
      gsize seg;

      if (len - pos < 4 || d[pos] != 0xff)
        return damaged (error, path), NULL;
      marker = d[pos + 1];
      if (marker == 0xff)
        {
          pos++;  /* fill byte */
          continue;
        }
      seg = (gsize) d[pos + 2] << 8 | d[pos + 3];
      if (seg < 2 || seg > len - pos - 2)
        return damaged (error, path), NULL;

      if (!inserted && !(marker >= 0xe0 && marker <= 0xef))
        {
          guchar hdr[4] = { 0xff, 0xfe, (payload + 2) >> 8, (payload + 2) & 0xff };

          g_byte_array_append (out, hdr, 4);
          g_byte_array_append (out, (const guchar *) keyword, strlen (keyword));
          g_byte_array_append (out, (const guchar *) ": ", 2);
          g_byte_array_append (out, (const guchar *) text, strlen (text));
          inserted = TRUE;
        }
      if (marker == 0xda)
        {
          g_byte_array_append (out, d + pos, len - pos);
          return g_steal_pointer (&out);
        }
      if (!(marker == 0xfe && jpeg_com_is_ours (d + pos + 4, seg - 2, keyword)))
        g_byte_array_append (out, d + pos, seg + 2);
      pos += seg + 2;
    }
  return damaged (error, path), NULL;
}

gboolean
catena_image_embed_text (const char *path,
                         const char *keyword,
                         const char *text,
                         GError    **error)
{
  g_autoptr (GMappedFile) map = NULL;
  g_autoptr (GByteArray) out = NULL;
  g_autofree char *tmp = NULL;
  const guchar *d;
  gsize len;

  g_return_val_if_fail (path != NULL, FALSE);
  g_return_val_if_fail (keyword_ok (keyword), FALSE);
  g_return_val_if_fail (text != NULL && g_utf8_validate (text, -1, NULL), FALSE);

  if (!(map = g_mapped_file_new (path, FALSE, error)))
    return FALSE;
  d = (const guchar *) g_mapped_file_get_contents (map);
  len = g_mapped_file_get_length (map);
  if (len > MAX_FILE)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                   _("The file is larger than 512 MB; its provenance stays in the sidecar."));
      return FALSE;
    }
  if (len >= 8 && memcmp (d, PNG_SIG, 8) == 0)
    out = png_with_text (d, len, path, keyword, text, error);
  else if (len >= 3 && d[0] == 0xff && d[1] == 0xd8 && d[2] == 0xff)
    out = jpeg_with_text (d, len, path, keyword, text, error);
  else
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                   _("Only PNG and JPEG files carry an embedded provenance note."));
      return FALSE;
    }
  if (out == NULL)
    return FALSE;
  /* g_file_set_contents writes a temporary file and renames it over the target */
  return g_file_set_contents (path, (const char *) out->data, out->len, error);
}

char *
catena_image_read_text (const char *path,
                        const char *keyword)
{
  g_autoptr (GMappedFile) map = g_mapped_file_new (path, FALSE, NULL);
  const guchar *d;
  gsize len, pos;

  if (map == NULL || !keyword_ok (keyword))
    return NULL;
  d = (const guchar *) g_mapped_file_get_contents (map);
  len = g_mapped_file_get_length (map);
  if (len >= 8 && memcmp (d, PNG_SIG, 8) == 0)
    {
      for (pos = 8; len - pos >= 12;)
        {
          guint32 clen = be32 (d + pos);
          const guchar *type = d + pos + 4;
          gsize klen = strlen (keyword);

          if (clen > len - pos - 12)
            return NULL;
          if (memcmp (type, "iTXt", 4) == 0 && itxt_has_keyword (type + 4, clen, keyword) &&
              png_crc (type, clen + 4, 0) == be32 (type + 4 + clen))
            {
              const guchar *p = type + 4 + klen + 1, *end = type + 4 + clen;
              /* compression flag + method, then language and translated keyword */
              if (end - p < 2 || p[0] != 0)
                return NULL;
              p += 2;
              for (int skip = 0; skip < 2; skip++)
                {
                  const guchar *z = memchr (p, 0, end - p);
                  if (z == NULL)
                    return NULL;
                  p = z + 1;
                }
              return g_utf8_make_valid ((const char *) p, end - p);
            }
          if (memcmp (type, "IEND", 4) == 0)
            return NULL;
          pos += clen + 12;
        }
      return NULL;
    }
  if (len >= 4 && d[0] == 0xff && d[1] == 0xd8)
    {
      for (pos = 2; len - pos >= 4 && d[pos] == 0xff;)
        {
          guchar marker = d[pos + 1];
          gsize seg = (gsize) d[pos + 2] << 8 | d[pos + 3];

          if (marker == 0xda || seg < 2 || seg > len - pos - 2)
            return NULL;
          if (marker == 0xfe && jpeg_com_is_ours (d + pos + 4, seg - 2, keyword))
            {
              gsize skip = strlen (keyword) + 2;
              return g_utf8_make_valid ((const char *) d + pos + 4 + skip, seg - 2 - skip);
            }
          pos += seg + 2;
        }
    }
  return NULL;
}
