/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

#include "catena-autosave.h"
#include "catena-error.h"
#include "catena-json-private.h"

static char *
autosave_dir (void)
{
  /* State, not cache: this must survive a cache clean-up. */
  const char *state = g_getenv ("XDG_STATE_HOME");
  g_autofree char *fallback = g_build_filename (g_get_home_dir (), ".local", "state", NULL);

  return g_build_filename (state && g_path_is_absolute (state) ? state : fallback, "catena",
                           "autosave", NULL);
}

/* Who writes an autosave: the process, told apart from a later one with the same pid by its
 * start time, on this boot. Linux /proc; elsewhere NULL, and every autosave counts as left
 * behind (as before this existed). */
static const char *
boot_id (void)
{
  static gsize done;
  static char *id;

  if (g_once_init_enter (&done))
    {
      if (g_file_get_contents ("/proc/sys/kernel/random/boot_id", &id, NULL, NULL))
        g_strstrip (id);
      g_once_init_leave (&done, 1);
    }
  return id;
}

static char *
process_identity (GPid pid)
{
  g_autofree char *stat = NULL;
  g_autofree char *stat_path = g_strdup_printf ("/proc/%d/stat", (int) pid);
  g_auto (GStrv) fields = NULL;
  const char *after_name;

  if (boot_id () == NULL || !g_file_get_contents (stat_path, &stat, NULL, NULL))
    return NULL;
  /* "pid (comm) state ppid …": comm may hold spaces and parentheses; field 22 is starttime */
  if ((after_name = strrchr (stat, ')')) == NULL)
    return NULL;
  fields = g_strsplit (after_name + 1, " ", 0);
  if (g_strv_length (fields) < 21)
    return NULL;
  return g_strdup_printf ("%s/%d/%s", boot_id (), (int) pid, fields[20]);
}

/* This process's identity, read once. */
static const char *
own_identity (void)
{
  static gsize done;
  static char *identity;

  if (g_once_init_enter (&done))
    {
      identity = process_identity (getpid ());
      g_once_init_leave (&done, 1);
    }
  return identity;
}

/* TRUE when the process that wrote meta (its "writer") still runs: this one, or another
 * Catena whose windows are open. */
static gboolean
writer_alive (JsonObject *meta)
{
  const char *writer = catena_json_string (meta, "writer", NULL);
  gint64 pid = catena_json_int (meta, "pid", 0);
  g_autofree char *now = NULL;

  if (writer == NULL || pid <= 0 || pid > G_MAXINT)
    return FALSE;
  now = process_identity ((GPid) pid);
  return now != NULL && strcmp (now, writer) == 0;
}

static JsonObject *
section_object (JsonNode *root)
{
  JsonNode *node = json_object_get_member (json_node_get_object (root), "sections");
  return node && JSON_NODE_HOLDS_OBJECT (node) ? json_node_get_object (node) : NULL;
}

static char *
original_path (CatenaProject *project)
{
  GFile *file = catena_project_get_file (project);
  return file ? g_file_get_path (file) : NULL;
}

GFile *
catena_autosave_get_file (CatenaProject *project)
{
  g_autofree char *dir = autosave_dir ();
  g_autofree char *path = original_path (project);
  g_autofree char *hash = NULL;
  g_autofree char *name = NULL;
  g_autofree char *full = NULL;

  g_return_val_if_fail (CATENA_IS_PROJECT (project), NULL);

  /* Unsaved projects are told apart by object identity within this process; a new process
   * never writes to an old unsaved project's slot because the pointer differs. */
  if (path != NULL)
    hash = g_compute_checksum_for_string (G_CHECKSUM_SHA256, path, -1);
  else
    {
      g_autofree char *id = g_strdup_printf ("untitled-%d-%p", (int) getpid (), (void *) project);
      hash = g_compute_checksum_for_string (G_CHECKSUM_SHA256, id, -1);
    }
  name = g_strndup (hash, 24);
  full = g_strconcat (dir, G_DIR_SEPARATOR_S, name, ".catena", NULL);
  return g_file_new_for_path (full);
}

gboolean
catena_autosave_write (CatenaProject *project, GError **error)
{
  g_autoptr (JsonNode) root = NULL;
  g_autoptr (GFile) file = catena_autosave_get_file (project);
  g_autoptr (GFile) dir = g_file_get_parent (file);
  g_autoptr (GDateTime) now = g_date_time_new_now_utc ();
  g_autofree char *original = original_path (project);
  g_autofree char *stamp = g_date_time_format_iso8601 (now);
  const char *writer = own_identity ();
  JsonObject *sections, *meta;
  GError *local_error = NULL;

  if (!g_file_make_directory_with_parents (dir, NULL, &local_error))
    {
      if (!g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_EXISTS))
        {
          g_propagate_error (error, local_error);
          return FALSE;
        }
      g_clear_error (&local_error);
    }

  root = catena_project_to_json (project);
  sections = section_object (root);
  if (sections == NULL)
    {
      sections = json_object_new ();
      json_object_set_object_member (json_node_get_object (root), "sections", sections);
    }
  meta = json_object_new ();
  if (original)
    json_object_set_string_member (meta, "original", original);
  json_object_set_string_member (meta, "saved-at", stamp);
  if (writer != NULL)
    {
      json_object_set_int_member (meta, "pid", getpid ());
      json_object_set_string_member (meta, "writer", writer);
    }
  json_object_set_object_member (sections, "autosave", meta);

  /* Atomic like every save: a crash while autosaving leaves the previous autosave. */
  return catena_json_save_document (root, file, error);
}

void
catena_autosave_discard (CatenaProject *project)
{
  g_autoptr (GFile) file = catena_autosave_get_file (project);
  g_file_delete (file, NULL, NULL);
}

void
catena_autosave_entry_free (CatenaAutosaveEntry *entry)
{
  if (entry == NULL)
    return;
  g_clear_object (&entry->autosave);
  g_clear_pointer (&entry->saved_at, g_date_time_unref);
  g_free (entry->original);
  g_free (entry->name);
  g_free (entry);
}

static int
newest_first (gconstpointer a, gconstpointer b)
{
  const CatenaAutosaveEntry *ea = *(CatenaAutosaveEntry **) a;
  const CatenaAutosaveEntry *eb = *(CatenaAutosaveEntry **) b;
  return g_date_time_compare (eb->saved_at, ea->saved_at);
}

GPtrArray *
catena_autosave_list (void)
{
  g_autofree char *dir_path = autosave_dir ();
  GPtrArray *entries = g_ptr_array_new_with_free_func ((GDestroyNotify) catena_autosave_entry_free);
  g_autoptr (GDir) dir = g_dir_open (dir_path, 0, NULL);
  const char *name;

  while (dir && (name = g_dir_read_name (dir)))
    {
      g_autofree char *path = g_build_filename (dir_path, name, NULL);
      g_autoptr (GFile) file = g_file_new_for_path (path);
      g_autoptr (JsonNode) root = NULL;
      JsonObject *sections, *meta;
      CatenaAutosaveEntry *entry;
      const char *stamp;

      if (!g_str_has_suffix (name, ".catena"))
        continue;
      /* A damaged or foreign file is skipped, not deleted: it may still be worth a look. */
      root = catena_json_load_document (file, "catena-project", CATENA_PROJECT_FORMAT_VERSION,
                                        NULL);
      if (root == NULL)
        continue;
      sections = section_object (root);
      meta = NULL;
      if (sections && json_object_has_member (sections, "autosave") &&
          JSON_NODE_HOLDS_OBJECT (json_object_get_member (sections, "autosave")))
        meta = json_object_get_object_member (sections, "autosave");
      if (meta == NULL)
        continue;
      entry = g_new0 (CatenaAutosaveEntry, 1);
      entry->autosave = g_object_ref (file);
      entry->original = g_strdup (catena_json_string (meta, "original",
                                                                              NULL));
      entry->name = g_strdup (catena_json_string (
        json_node_get_object (root), "name", NULL));
      stamp = catena_json_string (meta, "saved-at", NULL);
      entry->saved_at = stamp ? g_date_time_new_from_iso8601 (stamp, NULL) : NULL;
      if (entry->saved_at == NULL)
        entry->saved_at = g_date_time_new_from_unix_utc (0);
      entry->live = writer_alive (meta);
      g_ptr_array_add (entries, entry);
    }
  g_ptr_array_sort (entries, newest_first);
  return entries;
}

CatenaProject *
catena_autosave_recover (CatenaAutosaveEntry *entry, GError **error)
{
  g_autoptr (JsonNode) root = NULL;
  g_autoptr (CatenaProject) project = NULL;
  JsonObject *sections;

  root = catena_json_load_document (entry->autosave, "catena-project",
                                    CATENA_PROJECT_FORMAT_VERSION, error);
  if (root == NULL)
    return NULL;
  sections = section_object (root);
  if (sections && json_object_has_member (sections, "autosave"))
    json_object_remove_member (sections, "autosave");
  if (!(project = catena_project_new_from_json (root, error)))
    return NULL;
  if (entry->original)
    {
      g_autoptr (GFile) original = g_file_new_for_path (entry->original);
      catena_project_set_file (project, original);
    }
  return g_steal_pointer (&project);
}

void
catena_autosave_delete (CatenaAutosaveEntry *entry)
{
  g_file_delete (entry->autosave, NULL, NULL);
}
