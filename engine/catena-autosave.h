/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include "catena-project.h"

G_BEGIN_DECLS

/* Crash recovery. A modified project is written now and then to
 * $XDG_STATE_HOME/catena/autosave/<hash of its path>.catena (an ordinary project document with
 * an "autosave" section naming the original), never over the user's own file. A clean save or
 * a deliberate discard removes it; whatever is left at the next start, written by a process
 * that no longer runs, was lost in a crash. */

typedef struct
{
  GFile     *autosave;   /* the autosave document */
  char      *original;   /* path of the project it belongs to, or NULL for an unsaved one */
  char      *name;       /* the project's name, for the recovery dialog */
  GDateTime *saved_at;
  gboolean   live;       /* the process that wrote it still runs (this one, or another Catena
                          * with the project open): its work, not a crash's leftovers */
} CatenaAutosaveEntry;

void           catena_autosave_entry_free      (CatenaAutosaveEntry *entry);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (CatenaAutosaveEntry, catena_autosave_entry_free)

GFile         *catena_autosave_get_file        (CatenaProject *project);
gboolean       catena_autosave_write           (CatenaProject *project,
                                                GError       **error);
void           catena_autosave_discard         (CatenaProject *project);
/* Autosaves on disk, newest first (a GPtrArray of CatenaAutosaveEntry); what a crash left
 * behind are those not live. */
GPtrArray     *catena_autosave_list            (void);
/* The recovered project: its file is the original (so Save writes there and relative photo
 * paths resolve), and the autosave stays until that save succeeds. */
CatenaProject *catena_autosave_recover         (CatenaAutosaveEntry *entry,
                                                GError             **error);
void           catena_autosave_delete          (CatenaAutosaveEntry *entry);

G_END_DECLS
