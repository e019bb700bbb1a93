/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

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

/* Files without a local path (GVfs): GIO's replace, which writes a temporary file and renames
 * it on close where the backend can. Not g_file_replace_contents: on a failed write (full
 * disk, quota) GLib 2.74 still closes the stream normally, which renames the truncated
 * temporary over the user's file. Closing with a cancelled cancellable discards it instead. */
static gboolean
replace_with_gio (GFile *file, const void *data, gsize length, GError **error)
{
  g_autoptr (GFileOutputStream) out = NULL;

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

static void
set_save_error (GError **error, int saved_errno, const char *path, const char *folder)
{
  g_autofree char *name = g_filename_display_name (path);
  g_autofree char *dir = g_filename_display_name (folder);
  int code = g_io_error_from_errno (saved_errno);

  switch (saved_errno)
    {
    case EACCES:
    case EPERM:
      g_set_error (error, G_IO_ERROR, code,
                   _("Could not save “%s”: you do not have permission to write to the folder "
                     "“%s”."),
                   name, dir);
      break;
    case EROFS:
      g_set_error (error, G_IO_ERROR, code,
                   _("Could not save “%s”: the folder “%s” is on a read-only disk."), name,
                   dir);
      break;
    case ENOENT:
    case ENOTDIR:
      g_set_error (error, G_IO_ERROR, code,
                   _("Could not save “%s”: the folder “%s” does not exist."), name, dir);
      break;
    default:
      g_set_error (error, G_IO_ERROR, code, _("Could not save “%s”: %s"), name,
                   g_strerror (saved_errno));
      break;
    }
}

static gboolean
write_all (int fd, const guint8 *data, gsize length)
{
  while (length > 0)
    {
      gssize n = write (fd, data, MIN (length, (gsize) G_MAXSSIZE));

      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        {
          if (n == 0)
            errno = ENOSPC;
          return FALSE;
        }
      data += n;
      length -= n;
    }
  return TRUE;
}

/* Not g_file_replace for local files either: where it cannot create its temporary file (a
 * folder the user may not write to, a file owned by someone else, a file with several hard
 * links) it falls back to truncating the user's file and writing it in place, so the save
 * "succeeds" without being atomic and a failure halfway loses the project
 * (tests/test-readonly.c). Here the save goes through a temporary file or fails. */
gboolean
catena_file_replace_atomic (GFile *file, const void *data, gsize length, GError **error)
{
  g_autofree char *path = g_file_get_path (file);
  g_autofree char *target = NULL;
  g_autofree char *folder = NULL;
  g_autofree char *base = NULL;
  g_autofree char *tmp = NULL;
  struct stat st;
  gboolean exists;
  int fd, saved_errno;

  if (path == NULL)
    return replace_with_gio (file, data, length, error);

  /* A link stays a link: the file it points to is replaced. */
  if (g_lstat (path, &st) == 0 && S_ISLNK (st.st_mode))
    target = realpath (path, NULL);
  if (target == NULL)
    target = g_strdup (path);
  folder = g_path_get_dirname (target);
  base = g_path_get_basename (target);

  exists = g_stat (target, &st) == 0;
  if (exists && !S_ISREG (st.st_mode))
    {
      g_autofree char *name = g_filename_display_name (path);
      g_set_error (error, G_IO_ERROR,
                   S_ISDIR (st.st_mode) ? G_IO_ERROR_IS_DIRECTORY : G_IO_ERROR_NOT_REGULAR_FILE,
                   _("Could not save “%s”: it is not a regular file."), name);
      return FALSE;
    }
  /* Renaming over a read-only file would work; the user marked it read-only for a reason. */
  if (exists && g_access (target, W_OK) != 0 && (errno == EACCES || errno == EROFS))
    {
      g_autofree char *name = NULL;
      saved_errno = errno;
      name = g_filename_display_name (path);
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved_errno),
                   _("Could not save “%s”: the file is read-only."), name);
      return FALSE;
    }

  /* Hidden, beside the target (rename only works within one file system); the name is cut
   * so that it fits NAME_MAX whatever the target's length. */
  tmp = g_strdup_printf ("%s%s.%.200s.XXXXXX", folder,
                         g_str_has_suffix (folder, G_DIR_SEPARATOR_S) ? "" : G_DIR_SEPARATOR_S,
                         base);
  fd = g_mkstemp_full (tmp, O_WRONLY | O_CLOEXEC, 0666);
  if (fd < 0)
    {
      set_save_error (error, errno, path, folder);
      return FALSE;
    }
  /* A new file gets 0666 less the umask (the mode given to mkstemp's open), as any other
   * program's new file would. A replaced one keeps its permissions, and its owner and group
   * where we may set them; where we may not, the file becomes ours rather than being
   * rewritten in place. */
  if (exists)
    {
      if ((st.st_uid != geteuid () || st.st_gid != getegid ()) &&
          fchown (fd, st.st_uid, st.st_gid) != 0)
        g_debug ("Keeping the owner of %s: %s", target, g_strerror (errno));
      (void) fchmod (fd, st.st_mode & 07777);
    }

  if (!write_all (fd, data, length) || fsync (fd) != 0)
    {
      saved_errno = errno;
      g_close (fd, NULL);
      goto failed;
    }
  if (!g_close (fd, NULL))
    {
      saved_errno = errno;
      goto failed;
    }
  if (g_rename (tmp, target) != 0)
    {
      saved_errno = errno;
      goto failed;
    }
  return TRUE;

failed:
  g_unlink (tmp);
  set_save_error (error, saved_errno, path, folder);
  return FALSE;
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
