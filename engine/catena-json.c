/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <glib/gi18n-lib.h>

#include "catena-error.h"
#include "catena-json-private.h"

#define MAX_DOCUMENT_SIZE (64 * 1024 * 1024)

JsonNode *
catena_json_parse_document (const char *data,
                            gsize length,
                            const char *display_name,
                            const char *format,
                            int max_version,
                            GError **error)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (GError) local_error = NULL;
  JsonObject *obj;
  JsonNode *member;
  const char *got_format;
  gint64 version;

  if (!json_parser_load_from_data (parser, data, length, &local_error))
    {
      g_set_error (error, CATENA_PROJECT_ERROR, CATENA_PROJECT_ERROR_INVALID,
                   _("“%s” is not valid JSON: %s"), display_name, local_error->message);
      return NULL;
    }
  if (json_parser_get_root (parser) == NULL ||
      !JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)))
    goto not_ours;

  obj = json_node_get_object (json_parser_get_root (parser));
  member = json_object_get_member (obj, "format");
  if (member == NULL || !JSON_NODE_HOLDS_VALUE (member) ||
      json_node_get_value_type (member) != G_TYPE_STRING)
    goto not_ours;
  got_format = json_node_get_string (member);
  if (g_strcmp0 (got_format, format) != 0)
    goto not_ours;

  member = json_object_get_member (obj, "version");
  if (member == NULL || !JSON_NODE_HOLDS_VALUE (member) ||
      json_node_get_value_type (member) != G_TYPE_INT64)
    {
      g_set_error (error, CATENA_PROJECT_ERROR, CATENA_PROJECT_ERROR_INVALID,
                   _("“%s” has no format version."), display_name);
      return NULL;
    }
  version = json_node_get_int (member);
  if (version > max_version)
    {
      g_set_error (error, CATENA_PROJECT_ERROR, CATENA_PROJECT_ERROR_VERSION,
                   _("“%s” was written by a newer Catena (format version %lld; this one "
                     "reads up to %d). Update Catena to open it."),
                   display_name, (long long) version, max_version);
      return NULL;
    }
  if (version < 1)
    {
      g_set_error (error, CATENA_PROJECT_ERROR, CATENA_PROJECT_ERROR_INVALID,
                   _("“%s” has an invalid format version."), display_name);
      return NULL;
    }
  return json_node_copy (json_parser_get_root (parser));

not_ours:
  g_set_error (error, CATENA_PROJECT_ERROR, CATENA_PROJECT_ERROR_INVALID,
               _("“%s” is not a Catena %s file."), display_name,
               g_str_equal (format, "catena-chain") ? _("chain") : _("project"));
  return NULL;
}

gboolean
catena_file_replace_atomic (GFile *file, const void *data, gsize length, GError **error)
{
  g_autoptr (GFileOutputStream) out = NULL;

  /* g_file_replace writes a temporary file beside the target and renames it over on close.
   * Not g_file_replace_contents: on a failed write (full disk, quota) GLib 2.74 still closes
   * the stream normally, which renames the truncated temporary over the user's file (seen in
   * tests/test-project.c's disk-full case). Closing with a cancelled cancellable discards the
   * temporary instead. */
  if (!(out = g_file_replace (file, NULL, FALSE, G_FILE_CREATE_NONE, NULL, error)))
    return FALSE;
  if (!g_output_stream_write_all (G_OUTPUT_STREAM (out), data, length, NULL, NULL, error))
    {
      g_autoptr (GCancellable) discard = g_cancellable_new ();
      g_cancellable_cancel (discard);
      g_output_stream_close (G_OUTPUT_STREAM (out), discard, NULL);
      return FALSE;
    }
  return g_output_stream_close (G_OUTPUT_STREAM (out), NULL, error);
}

JsonNode *
catena_json_load_document (GFile *file, const char *format, int max_version, GError **error)
{
  g_autofree char *data = NULL;
  g_autofree char *name = g_file_get_parse_name (file);
  g_autoptr (GFileInfo) info = NULL;
  gsize length = 0;

  info = g_file_query_info (file, G_FILE_ATTRIBUTE_STANDARD_SIZE, G_FILE_QUERY_INFO_NONE, NULL,
                            error);
  if (info == NULL)
    {
      if (error && g_error_matches (*error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND))
        {
          g_clear_error (error);
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, _("“%s” does not exist."), name);
        }
      return NULL;
    }
  if (g_file_info_get_size (info) > MAX_DOCUMENT_SIZE)
    {
      g_set_error (error, CATENA_PROJECT_ERROR, CATENA_PROJECT_ERROR_INVALID,
                   _("“%s” is too large to be a Catena file."), name);
      return NULL;
    }
  if (!g_file_load_contents (file, NULL, &data, &length, NULL, error))
    return NULL;
  return catena_json_parse_document (data, length, name, format, max_version, error);
}

gboolean
catena_json_save_document (JsonNode *root, GFile *file, GError **error)
{
  g_autoptr (JsonGenerator) gen = json_generator_new ();
  g_autofree char *data = NULL;
  gsize length;

  json_generator_set_pretty (gen, TRUE);
  json_generator_set_indent (gen, 2);
  json_generator_set_root (gen, root);
  data = json_generator_to_data (gen, &length);

  return catena_file_replace_atomic (file, data, length, error);
}
