/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <grp.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "catena-autosave.h"
#include "catena-test-util.h"

/* Saving where the user may not write: a folder with mode 0555, a file with mode 0444, a
 * state folder that is read-only. Each save fails with G_IO_ERROR_PERMISSION_DENIED and a
 * message naming the place, leaves what was there byte for byte, and leaves no temporary
 * file behind.
 *
 * Root ignores permission bits, and CI runs the tests as root: there each case runs in a
 * subprocess (g_test_trap_subprocess, a fresh exec of this program rather than a fork of a
 * process whose GEGL threads are running) that makes its folder, hands it to nobody
 * (65534:65534) and drops to that user with setresgid/setresuid before touching it. */

#define NOBODY 65534

typedef void (*CaseFunc) (const char *dir);

static CatenaProject *
make_project (const char *name)
{
  CatenaProject *project = catena_project_new ();
  const char *kinds[] = { "import", "recolor", "export" };
  GError *error = NULL;

  catena_project_set_name (project, name);
  for (guint i = 0; i < G_N_ELEMENTS (kinds); i++)
    {
      g_autoptr (CatenaStage) stage = catena_stage_new (kinds[i], &error);
      g_assert_no_error (error);
      catena_chain_append (catena_project_get_chain (project), stage);
    }
  return project;
}

static void
change_project (CatenaProject *project)
{
  g_assert_true (catena_chain_apply_setting (catena_project_get_chain (project),
                                             "recolor.saturation=40", NULL));
  catena_project_set_name (project, "Changed after the save");
}

static int
compare_names (gconstpointer a, gconstpointer b)
{
  return g_strcmp0 (*(const char *const *) a, *(const char *const *) b);
}

/* The names in a folder, sorted and joined with ",". */
static char *
list_folder (const char *dir)
{
  g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
  g_autoptr (GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  const char *name;

  g_assert_nonnull (d);
  while ((name = g_dir_read_name (d)))
    g_ptr_array_add (names, g_strdup (name));
  g_ptr_array_sort (names, compare_names);
  g_ptr_array_add (names, NULL);
  return g_strjoinv (",", (char **) names->pdata);
}

static char *
read_file (const char *path)
{
  g_autoptr (GError) error = NULL;
  char *data = NULL;

  g_assert_true (g_file_get_contents (path, &data, NULL, &error));
  g_assert_no_error (error);
  return data;
}

/* Whether mode really keeps this process out of dir: a capability (or a root we could not
 * leave) would make every assertion below meaningless. */
static gboolean
permissions_enforced (const char *dir)
{
  g_autofree char *probe = g_build_filename (dir, "probe", NULL);
  int fd = g_open (probe, O_WRONLY | O_CREAT | O_EXCL, 0644);

  if (fd < 0)
    return TRUE;
  g_close (fd, NULL);
  g_unlink (probe);
  return FALSE;
}

static void
assert_permission_error (const GError *error, const char *place)
{
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED);
  g_test_message ("error: %s", error->message);
  /* the designer must learn where: the folder or file is in the sentence */
  g_assert_nonnull (strstr (error->message, place));
}

/* A new project saved into a folder with mode 0555. */
static void
case_new_in_folder (const char *dir)
{
  g_autofree char *folder = g_build_filename (dir, "locked", NULL);
  g_autofree char *path = g_build_filename (folder, "new.catena", NULL);
  g_autoptr (GFile) file = g_file_new_for_path (path);
  g_autoptr (CatenaProject) project = make_project ("New");
  g_autoptr (GError) error = NULL;
  g_autofree char *listing = NULL;

  g_assert_cmpint (g_mkdir (folder, 0755), ==, 0);
  g_assert_cmpint (g_chmod (folder, 0555), ==, 0);
  if (!permissions_enforced (folder))
    {
      g_test_skip ("folder permissions are not enforced for this user");
      return;
    }

  g_assert_false (catena_project_save (project, file, &error));
  assert_permission_error (error, folder);
  g_assert_null (catena_project_get_file (project));
  listing = list_folder (folder);
  g_assert_cmpstr (listing, ==, "");
  g_chmod (folder, 0755);
}

/* An existing, writable project file in a folder with mode 0555: the save cannot go through a
 * temporary file, and must not fall back to rewriting the file in place (GLib's
 * g_file_replace does: a failed write then leaves a truncated project). */
static void
case_over_existing_in_folder (const char *dir)
{
  g_autofree char *folder = g_build_filename (dir, "locked", NULL);
  g_autofree char *path = g_build_filename (folder, "work.catena", NULL);
  g_autoptr (GFile) file = g_file_new_for_path (path);
  g_autoptr (CatenaProject) project = make_project ("Spring campaign");
  g_autoptr (GError) error = NULL;
  g_autofree char *before = NULL;
  g_autofree char *after = NULL;
  g_autofree char *listing = NULL;

  g_assert_cmpint (g_mkdir (folder, 0755), ==, 0);
  g_assert_true (catena_project_save (project, file, &error));
  g_assert_no_error (error);
  before = read_file (path);
  g_assert_cmpint (g_access (path, W_OK), ==, 0);

  change_project (project);
  g_assert_cmpint (g_chmod (folder, 0555), ==, 0);
  if (!permissions_enforced (folder))
    {
      g_test_skip ("folder permissions are not enforced for this user");
      return;
    }
  g_assert_false (catena_project_save (project, file, &error));
  assert_permission_error (error, folder);

  after = read_file (path);
  g_assert_cmpstr (after, ==, before);
  g_assert_true (g_file_equal (catena_project_get_file (project), file));
  listing = list_folder (folder);
  g_assert_cmpstr (listing, ==, "work.catena");
  g_chmod (folder, 0755);
}

/* A project file with mode 0444 in a writable folder: renaming over it would work, but the
 * user marked it read-only, so the save refuses (as GLib's g_file_replace always has). */
static void
case_readonly_file (const char *dir)
{
  g_autofree char *path = g_build_filename (dir, "final.catena", NULL);
  g_autoptr (GFile) file = g_file_new_for_path (path);
  g_autoptr (CatenaProject) project = make_project ("Final");
  g_autoptr (GError) error = NULL;
  g_autofree char *before = NULL;
  g_autofree char *after = NULL;
  g_autofree char *listing = NULL;
  GStatBuf st;

  g_assert_true (catena_project_save (project, file, &error));
  before = read_file (path);
  g_assert_cmpint (g_chmod (path, 0444), ==, 0);
  if (g_access (path, W_OK) == 0)
    {
      g_test_skip ("file permissions are not enforced for this user");
      return;
    }

  change_project (project);
  g_assert_false (catena_project_save (project, file, &error));
  assert_permission_error (error, path);
  after = read_file (path);
  g_assert_cmpstr (after, ==, before);
  g_assert_cmpint (g_stat (path, &st), ==, 0);
  g_assert_cmpint (st.st_mode & 0777, ==, 0444);
  listing = list_folder (dir);
  g_assert_cmpstr (listing, ==, "final.catena");
}

/* Saving over a file keeps its permissions (a temporary file is created 0600-ish by mkstemp;
 * the saved project must not change mode). */
static void
case_keeps_mode (const char *dir)
{
  g_autofree char *path = g_build_filename (dir, "shared.catena", NULL);
  g_autoptr (GFile) file = g_file_new_for_path (path);
  g_autoptr (CatenaProject) project = make_project ("Shared");
  g_autoptr (GError) error = NULL;
  g_autofree char *listing = NULL;
  GStatBuf st;

  g_assert_true (catena_project_save (project, file, &error));
  g_assert_cmpint (g_chmod (path, 0664), ==, 0);
  change_project (project);
  g_assert_true (catena_project_save (project, file, &error));
  g_assert_no_error (error);
  g_assert_cmpint (g_stat (path, &st), ==, 0);
  g_assert_cmpint (st.st_mode & 0777, ==, 0664);
  listing = list_folder (dir);
  g_assert_cmpstr (listing, ==, "shared.catena");
}

/* Autosaves go to $XDG_STATE_HOME/catena/autosave: a read-only autosave folder keeps the last
 * autosave as it was; a read-only state folder fails before anything is written. */
static void
case_autosave (const char *dir)
{
  g_autofree char *state = g_build_filename (dir, "state", NULL);
  g_autofree char *slots = g_build_filename (state, "catena", "autosave", NULL);
  g_autofree char *bare = g_build_filename (dir, "bare-state", NULL);
  g_autofree char *project_path = g_build_filename (dir, "work.catena", NULL);
  g_autoptr (GFile) project_file = g_file_new_for_path (project_path);
  g_autoptr (CatenaProject) project = make_project ("Autosaved");
  g_autoptr (GFile) slot = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) entries = NULL;
  g_autofree char *old_state = g_strdup (g_getenv ("XDG_STATE_HOME"));
  g_autofree char *slot_path = NULL;
  g_autofree char *before = NULL;
  g_autofree char *after = NULL;
  g_autofree char *listing = NULL;
  g_autofree char *project_before = NULL;
  g_autofree char *project_after = NULL;

  g_assert_true (catena_project_save (project, project_file, &error));
  project_before = read_file (project_path);
  g_setenv ("XDG_STATE_HOME", state, TRUE);
  change_project (project);
  g_assert_true (catena_autosave_write (project, &error));
  g_assert_no_error (error);
  slot = catena_autosave_get_file (project);
  slot_path = g_file_get_path (slot);
  before = read_file (slot_path);

  g_assert_cmpint (g_chmod (slots, 0555), ==, 0);
  if (!permissions_enforced (slots))
    {
      g_test_skip ("folder permissions are not enforced for this user");
      goto out;
    }
  catena_project_set_name (project, "Changed again");
  g_assert_false (catena_autosave_write (project, &error));
  assert_permission_error (error, slots);
  g_clear_error (&error);
  after = read_file (slot_path);
  g_assert_cmpstr (after, ==, before);
  listing = list_folder (slots);
  {
    g_autofree char *name = g_path_get_basename (slot_path);
    g_assert_cmpstr (listing, ==, name);
  }
  /* the autosave never goes next to the project, and the project is untouched */
  project_after = read_file (project_path);
  g_assert_cmpstr (project_after, ==, project_before);
  g_clear_pointer (&listing, g_free);
  listing = list_folder (dir);
  g_assert_cmpstr (listing, ==, "state,work.catena");
  /* what is there can still be recovered */
  entries = catena_autosave_list ();
  g_assert_cmpuint (entries->len, ==, 1);
  g_chmod (slots, 0755);

  /* A state folder where catena/autosave cannot be created. */
  g_assert_cmpint (g_mkdir (bare, 0555), ==, 0);
  g_setenv ("XDG_STATE_HOME", bare, TRUE);
  g_assert_false (catena_autosave_write (project, &error));
  assert_permission_error (error, bare);
  g_clear_pointer (&listing, g_free);
  listing = list_folder (bare);
  g_assert_cmpstr (listing, ==, "");
  g_chmod (bare, 0755);

out:
  g_chmod (slots, 0755);
  if (old_state)
    g_setenv ("XDG_STATE_HOME", old_state, TRUE);
  else
    g_unsetenv ("XDG_STATE_HOME");
}

/* setresuid in a fork of this process: can the subprocess drop to nobody at all (a container
 * without CAP_SETUID cannot)? The child only makes system calls, so forking a threaded
 * process is safe here. */
static gboolean
can_drop_privileges (void)
{
  int status = 0;
  pid_t pid = fork ();

  if (pid == 0)
    _exit (setgroups (0, NULL) == 0 && setresgid (NOBODY, NOBODY, NOBODY) == 0 &&
               setresuid (NOBODY, NOBODY, NOBODY) == 0 && geteuid () == NOBODY
             ? 0
             : 1);
  if (pid < 0 || waitpid (pid, &status, 0) != pid)
    return FALSE;
  return WIFEXITED (status) && WEXITSTATUS (status) == 0;
}

static void
drop_privileges (void)
{
  /* groups first: once the uid is nobody, setgroups and setresgid are refused */
  g_assert_cmpint (setgroups (0, NULL), ==, 0);
  g_assert_cmpint (setresgid (NOBODY, NOBODY, NOBODY), ==, 0);
  g_assert_cmpint (setresuid (NOBODY, NOBODY, NOBODY), ==, 0);
  g_assert_cmpint (geteuid (), ==, NOBODY);
  g_assert_cmpint (getegid (), ==, NOBODY);
  /* and no way back */
  g_assert_cmpint (setresuid (0, 0, 0), ==, -1);
}

static void
run_case (gconstpointer data)
{
  CaseFunc func = (CaseFunc) data;
  g_autofree char *dir = NULL;

  if (geteuid () != 0)
    {
      dir = test_mkdtemp ();
      func (dir);
      test_rm_rf (dir);
      return;
    }
  if (g_test_subprocess ())
    {
      /* made by root (0700), given to nobody before dropping to it */
      dir = test_mkdtemp ();
      g_assert_cmpint (chown (dir, NOBODY, NOBODY), ==, 0);
      drop_privileges ();
      func (dir);
      test_rm_rf (dir);
      return;
    }
  if (!can_drop_privileges ())
    {
      g_test_skip ("running as root and cannot switch to nobody (65534) to test permissions");
      return;
    }
  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_INHERIT_STDERR);
  g_test_trap_assert_passed ();
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  catena_engine_init ();

  g_test_add_data_func ("/readonly/project/new-in-readonly-folder", case_new_in_folder,
                        run_case);
  g_test_add_data_func ("/readonly/project/over-existing-in-readonly-folder",
                        case_over_existing_in_folder, run_case);
  g_test_add_data_func ("/readonly/project/readonly-file", case_readonly_file, run_case);
  g_test_add_data_func ("/readonly/project/keeps-mode", case_keeps_mode, run_case);
  g_test_add_data_func ("/readonly/autosave", case_autosave, run_case);

  return g_test_run ();
}
