/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gtk/gtk.h>

#include "catena-engine.h"
#include "catena-stage-card.h"

G_BEGIN_DECLS

#define CATENA_INVALID_POSITION G_MAXUINT

#define CATENA_TYPE_CHAIN_VIEW (catena_chain_view_get_type ())
G_DECLARE_FINAL_TYPE (CatenaChainView, catena_chain_view, CATENA, CHAIN_VIEW, GtkWidget)

/* The chain as a strip of stage cards. It never edits the chain itself: drops and the remove
 * buttons come out as signals, so the window can route them through the undo history.
 *  "insert-kind" (const char *kind, guint position)
 *  "move-stage"  (guint from, guint to)
 *  "remove-stage" (guint position)
 * Drops are strings: "catena-kind:KIND" from the palette, "catena-move:INDEX" from a card. */
GtkWidget       *catena_chain_view_new          (void);
void             catena_chain_view_set_chain    (CatenaChainView *self,
                                                 CatenaChain     *chain);
CatenaStageCard *catena_chain_view_get_card     (CatenaChainView *self,
                                                 guint            position);
guint            catena_chain_view_get_selected (CatenaChainView *self);
void             catena_chain_view_set_selected (CatenaChainView *self,
                                                 guint            position);
/* Where a drop at x (in the view's coordinates) inserts: 0…n. */
guint            catena_chain_view_position_at  (CatenaChainView *self,
                                                 double           x);
/* What a drop of value at x does; returns FALSE if value is not ours. */
gboolean         catena_chain_view_drop         (CatenaChainView *self,
                                                 const char      *value,
                                                 double           x);

G_END_DECLS
