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
 * failure the existing file is left untouched and the temporary removed. Never rewrites the
 * file in place: a folder the user may not write to, or a read-only file, fails with
 * G_IO_ERROR_PERMISSION_DENIED and a sentence naming it. A replaced file keeps its mode. */
gboolean  catena_file_replace_atomic (GFile      *file,
                                      const void *data,
                                      gsize       length,
                                      GError    **error);
/* Atomic: temporary file in the same folder, fsync, rename. */
gboolean  catena_json_save_document (JsonNode   *root,
                                     GFile      *file,
                                     GError    **error);

/* Typed member access for untrusted documents and server answers: the default when the member
 * is missing, null or of another type. json-glib's *_with_default accessors log a critical on
 * a type mismatch (found by fuzzing ComfyUI workflows). */
static inline JsonNode *
catena_json_value_ (JsonObject *object, const char *name)
{
  JsonNode *node = object ? json_object_get_member (object, name) : NULL;
  return node && JSON_NODE_HOLDS_VALUE (node) ? node : NULL;
}

static inline const char *
catena_json_string (JsonObject *object, const char *name, const char *def)
{
  JsonNode *node = catena_json_value_ (object, name);
  return node && json_node_get_value_type (node) == G_TYPE_STRING ? json_node_get_string (node)
                                                                   : def;
}

static inline gboolean
catena_json_is_number_ (JsonNode *node)
{
  GType t = json_node_get_value_type (node);
  return t == G_TYPE_INT64 || t == G_TYPE_DOUBLE || t == G_TYPE_BOOLEAN;
}

static inline gint64
catena_json_int (JsonObject *object, const char *name, gint64 def)
{
  JsonNode *node = catena_json_value_ (object, name);
  return node && catena_json_is_number_ (node) ? json_node_get_int (node) : def;
}

static inline double
catena_json_double (JsonObject *object, const char *name, double def)
{
  JsonNode *node = catena_json_value_ (object, name);
  return node && catena_json_is_number_ (node) ? json_node_get_double (node) : def;
}

static inline gboolean
catena_json_boolean (JsonObject *object, const char *name, gboolean def)
{
  JsonNode *node = catena_json_value_ (object, name);
  return node && catena_json_is_number_ (node) ? json_node_get_boolean (node) : def;
}

G_END_DECLS
