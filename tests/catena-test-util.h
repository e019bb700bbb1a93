/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gegl.h>
#include <math.h>

#include "catena-engine.h"

#define CATENA_WORK_FORMAT_NAME "R'G'B'A float"

/* Shared helpers for the engine tests (header-only so each test stays one file). */

static inline char *
test_source_path (const char *relative)
{
  const char *root = g_getenv ("CATENA_SOURCE_DIR");
  g_assert_nonnull (root);
  return g_build_filename (root, relative, NULL);
}

/* Debian's python3-skimage ships real photographs and a deliberately broken JPEG. */
static inline char *
test_skimage_path (const char *name)
{
  const char *dir = g_getenv ("CATENA_SKIMAGE_DATA");
  char *path = g_build_filename (dir ? dir : "/usr/lib/python3/dist-packages/skimage/data", name,
                                 NULL);
  return path;
}

static inline GeglBuffer *
test_make_buffer (int w, int h, void (*fill) (int x, int y, float px[4]))
{
  GeglBuffer *buffer = gegl_buffer_new (GEGL_RECTANGLE (0, 0, w, h), babl_format (CATENA_WORK_FORMAT_NAME));
  float *data = g_new (float, (gsize) w * h * 4);

  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++)
      fill (x, y, data + ((gsize) y * w + x) * 4);
  gegl_buffer_set (buffer, NULL, 0, babl_format (CATENA_WORK_FORMAT_NAME), data, GEGL_AUTO_ROWSTRIDE);
  g_free (data);
  return buffer;
}

static inline float *
test_read_pixels (GeglBuffer *buffer, const char *format_name)
{
  const GeglRectangle *r = gegl_buffer_get_extent (buffer);
  float *data = g_new (float, (gsize) r->width * r->height * 4);
  gegl_buffer_get (buffer, r, 1.0, babl_format (format_name ? format_name : CATENA_WORK_FORMAT_NAME),
                   data, GEGL_AUTO_ROWSTRIDE, GEGL_ABYSS_NONE);
  return data;
}

/* A temporary folder removed (recursively) by the caller with test_rm_rf. */
static inline char *
test_mkdtemp (void)
{
  GError *error = NULL;
  char *dir = g_dir_make_tmp ("catena-test-XXXXXX", &error);
  g_assert_no_error (error);
  return dir;
}

static inline void
test_rm_rf (const char *path)
{
  char *argv[] = { "rm", "-rf", (char *) path, NULL };
  g_spawn_sync (NULL, argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL, NULL, NULL, NULL);
}

