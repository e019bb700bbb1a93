/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gtk/gtk.h>

#include "catena-engine.h"
#include "catena-review.h"

G_BEGIN_DECLS

#define CATENA_TYPE_REVIEW_BOARD (catena_review_board_get_type ())
G_DECLARE_FINAL_TYPE (CatenaReviewBoard, catena_review_board, CATENA, REVIEW_BOARD, GtkWidget)

/* A grid of the project's photos with their final output, review state and brand flag, and a
 * detail pane for the open photo: every stage's intermediate, comments, state buttons and the
 * audit log. Actions: board.next/previous (j/k, Right/Left), board.approve (a), board.reject
 * (r), board.request-changes (c), board.send-to-review (s), board.add-comment (the entry's
 * text, on the photo or the stage picked next to it). cache NULL: the default cache. */
GtkWidget     *catena_review_board_new            (CatenaProject     *project,
                                                   CatenaCache       *cache);
CatenaProject *catena_review_board_get_project    (CatenaReviewBoard *self);
/* The board's review of the project: it writes the project's "review" section. */
CatenaReview  *catena_review_board_get_review     (CatenaReviewBoard *self);
/* Id of the photo shown in the detail pane, or NULL. */
const char    *catena_review_board_get_open_asset (CatenaReviewBoard *self);
/* Opens a photo in the detail pane (NULL closes it). */
void           catena_review_board_open_asset     (CatenaReviewBoard *self,
                                                   const char        *asset_id);
/* Recomputes cache keys, thumbnails and brand scores (after a run, say). The project's chain
 * and photo list are watched already. */
void           catena_review_board_refresh        (CatenaReviewBoard *self);
/* TRUE while keys, scores or thumbnails are being computed (for tests). */
gboolean       catena_review_board_is_busy        (CatenaReviewBoard *self);

G_END_DECLS
