/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gtk/gtk.h>

#include "catena-engine.h"

G_BEGIN_DECLS

typedef enum
{
  CATENA_CARD_UNKNOWN, /* keys not computed yet */
  CATENA_CARD_READY,   /* output cached for the current parameters */
  CATENA_CARD_STALE,   /* parameters or an earlier stage changed: needs a run */
  CATENA_CARD_RUNNING,
  CATENA_CARD_FAILED,
} CatenaCardState;

#define CATENA_TYPE_STAGE_CARD (catena_stage_card_get_type ())
G_DECLARE_FINAL_TYPE (CatenaStageCard, catena_stage_card, CATENA, STAGE_CARD, GtkWidget)

/* One stage of the chain strip: thumbnail of its output for the selected asset and state. */
GtkWidget       *catena_stage_card_new           (CatenaStage     *stage);
CatenaStage     *catena_stage_card_get_stage     (CatenaStageCard *self);
void             catena_stage_card_set_state     (CatenaStageCard *self,
                                                  CatenaCardState  state,
                                                  const char      *message);
CatenaCardState  catena_stage_card_get_state     (CatenaStageCard *self);
const char      *catena_stage_card_get_message   (CatenaStageCard *self);
void             catena_stage_card_set_progress  (CatenaStageCard *self,
                                                  double           fraction);
void             catena_stage_card_set_thumbnail (CatenaStageCard *self,
                                                  GdkTexture      *texture);
GdkTexture      *catena_stage_card_get_thumbnail (CatenaStageCard *self);
/* The cache key the thumbnail shows, so a late result for an older key is dropped. */
void             catena_stage_card_set_key       (CatenaStageCard *self,
                                                  const char      *key);
const char      *catena_stage_card_get_key       (CatenaStageCard *self);
void             catena_stage_card_set_selected  (CatenaStageCard *self,
                                                  gboolean         selected);

G_END_DECLS
