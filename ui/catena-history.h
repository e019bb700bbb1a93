/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include "catena-engine.h"

G_BEGIN_DECLS

#define CATENA_TYPE_HISTORY (catena_history_get_type ())
G_DECLARE_FINAL_TYPE (CatenaHistory, catena_history, CATENA, HISTORY, GObject)

/* Undo/redo of chain edits. Every edit the UI makes to the chain goes through here. */
CatenaHistory *catena_history_new          (CatenaChain   *chain);
CatenaChain   *catena_history_get_chain    (CatenaHistory *self);
void           catena_history_insert       (CatenaHistory *self,
                                            guint          position,
                                            CatenaStage   *stage);
void           catena_history_remove       (CatenaHistory *self,
                                            guint          position);
void           catena_history_move         (CatenaHistory *self,
                                            guint          from,
                                            guint          to);
/* Consecutive changes of the same parameter (a slider drag) merge into one step until
 * catena_history_close_group() or another edit. */
gboolean       catena_history_set_param    (CatenaHistory *self,
                                            CatenaStage   *stage,
                                            const char    *name,
                                            const GValue  *value);
/* Where a stage runs, as one step (model "" or NULL: the provider's default). */
gboolean       catena_history_set_routing  (CatenaHistory *self,
                                            CatenaStage   *stage,
                                            const char    *provider,
                                            const char    *model);
void           catena_history_close_group  (CatenaHistory *self);
gboolean       catena_history_undo         (CatenaHistory *self);
gboolean       catena_history_redo         (CatenaHistory *self);
gboolean       catena_history_can_undo     (CatenaHistory *self);
gboolean       catena_history_can_redo     (CatenaHistory *self);
guint          catena_history_get_n_undo   (CatenaHistory *self);
/* Modified since the last catena_history_mark_saved(). */
gboolean       catena_history_get_modified (CatenaHistory *self);
void           catena_history_mark_saved   (CatenaHistory *self);

G_END_DECLS
