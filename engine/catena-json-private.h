/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gio/gio.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/* Reads a versioned Catena JSON document: an object with "format" == format and an integer
 * "version" not newer than max_version. Documents are capped at 64 MiB. */
JsonNode *catena_json_load_document (GFile      *file,
                                     const char *format,
                                     int         max_version,
                                     GError    **error);
JsonNode *catena_json_parse_document (const char *data,
                                      gsize       length,
                                      const char *display_name,
                                      const char *format,
                                      int         max_version,
                                      GError    **error);
/* Writes data to file through a temporary file in the same folder renamed on success; on any
 * failure the existing file is left untouched and the temporary removed. */
gboolean  catena_file_replace_atomic (GFile      *file,
                                      const void *data,
                                      gsize       length,
                                      GError    **error);
/* Atomic: temporary file in the same folder, fsync, rename. */
gboolean  catena_json_save_document (JsonNode   *root,
                                     GFile      *file,
                                     GError    **error);

G_END_DECLS
