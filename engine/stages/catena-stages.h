/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include "catena-stage-private.h"

G_BEGIN_DECLS

#define CATENA_TYPE_STAGE_IMPORT (catena_stage_import_get_type ())
G_DECLARE_FINAL_TYPE (CatenaStageImport, catena_stage_import, CATENA, STAGE_IMPORT, CatenaStage)

#define CATENA_TYPE_STAGE_UPSCALE (catena_stage_upscale_get_type ())
G_DECLARE_FINAL_TYPE (CatenaStageUpscale, catena_stage_upscale, CATENA, STAGE_UPSCALE, CatenaStage)

#define CATENA_TYPE_STAGE_EXPORT (catena_stage_export_get_type ())
G_DECLARE_FINAL_TYPE (CatenaStageExport, catena_stage_export, CATENA, STAGE_EXPORT, CatenaStage)

G_END_DECLS
