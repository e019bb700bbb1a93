/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

/* G_DECLARE_FINAL_TYPE needs the complete CatenaStageClass */
#include "catena-stage-private.h"

G_BEGIN_DECLS

#define CATENA_TYPE_STAGE_RECOLOR (catena_stage_recolor_get_type ())
G_DECLARE_FINAL_TYPE (CatenaStageRecolor, catena_stage_recolor, CATENA, STAGE_RECOLOR,
                      CatenaStage)

#define CATENA_TYPE_STAGE_REMOVE_BACKGROUND (catena_stage_remove_background_get_type ())
G_DECLARE_FINAL_TYPE (CatenaStageRemoveBackground, catena_stage_remove_background, CATENA,
                      STAGE_REMOVE_BACKGROUND, CatenaStage)

#define CATENA_TYPE_STAGE_COMPOSITE (catena_stage_composite_get_type ())
G_DECLARE_FINAL_TYPE (CatenaStageComposite, catena_stage_composite, CATENA, STAGE_COMPOSITE,
                      CatenaStage)

/* Copies the stage's current parameters onto a catena:recolor node made by
 * catena_stage_build_preview(), so a moving slider does not rebuild the preview graph. */
void catena_stage_recolor_update_node (CatenaStageRecolor *self,
                                       GeglNode           *node);

G_END_DECLS
