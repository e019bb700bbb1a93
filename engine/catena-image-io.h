/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gio/gio.h>
#include <gegl.h>

#include "catena-types.h"

G_BEGIN_DECLS

/* Working format of every stage output. */
#define CATENA_WORK_FORMAT "R'G'B'A float"

/* Limits applied before any pixel memory is allocated (decompression bombs). */
#define CATENA_IMAGE_MAX_EDGE   32768
#define CATENA_IMAGE_MAX_PIXELS (160 * 1000 * 1000)

typedef enum
{
  CATENA_IMAGE_KIND_UNKNOWN,
  CATENA_IMAGE_KIND_PNG,
  CATENA_IMAGE_KIND_JPEG,
  CATENA_IMAGE_KIND_WEBP,
  CATENA_IMAGE_KIND_TIFF,
} CatenaImageKind;

/* Reads only headers: kind and size; checks the file is complete (PNG IEND, JPEG EOI,
 * RIFF length) and within the size limits. */
gboolean    catena_image_probe (const char      *path,
                                CatenaImageKind *kind,
                                int             *width,
                                int             *height,
                                GError         **error);
/* Decodes into CATENA_WORK_FORMAT (colour-managed to sRGB). */
GeglBuffer *catena_image_load  (const char      *path,
                                GCancellable    *cancellable,
                                GError         **error);
/* Writes atomically (temporary file + rename); 8-bit sRGB, tagged. */
gboolean    catena_image_save  (GeglBuffer        *buffer,
                                const char        *path,
                                CatenaExportFormat format,
                                int                quality,
                                GError           **error);
const char *catena_export_format_get_extension (CatenaExportFormat format);

/* Runs node's graph into a new buffer of CATENA_WORK_FORMAT with progress and cancellation. */
GeglBuffer *catena_render_node (GeglNode           *node,
                                const GeglRectangle *extent,
                                GCancellable       *cancellable,
                                void              (*progress) (double, gpointer),
                                gpointer            progress_data,
                                GError            **error);

G_END_DECLS
