/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

/* G_DECLARE_FINAL_TYPE needs the complete CatenaStageClass */
#include "catena-stage-private.h"
#include "catena-cache.h"

G_BEGIN_DECLS

/* Stages that run on a model provider (fal, ComfyUI, OpenAI): see engine/providers. */

#define CATENA_TYPE_STAGE_GENERATE (catena_stage_generate_get_type ())
G_DECLARE_FINAL_TYPE (CatenaStageGenerate, catena_stage_generate, CATENA, STAGE_GENERATE,
                      CatenaStage)

#define CATENA_TYPE_STAGE_EDIT (catena_stage_edit_get_type ())
G_DECLARE_FINAL_TYPE (CatenaStageEdit, catena_stage_edit, CATENA, STAGE_EDIT, CatenaStage)

#define CATENA_TYPE_STAGE_STYLE (catena_stage_style_get_type ())
G_DECLARE_FINAL_TYPE (CatenaStageStyle, catena_stage_style, CATENA, STAGE_STYLE, CatenaStage)

/* Generate: one run makes `candidates` images; `pick` chooses the one that continues. All of
 * them are kept in the cache under keys derived from the batch key (the stage's identity
 * without `pick`), so changing `pick` never calls the provider again. */
char      *catena_stage_generate_dup_batch_key     (CatenaStageGenerate *self,
                                                    CatenaStageContext  *ctx);
char      *catena_stage_generate_candidate_key     (const char          *batch_key,
                                                    guint                index);
/* The cached candidates in order (NULL entries for missing ones); NULL if none is cached. */
GPtrArray *catena_stage_generate_lookup_candidates (CatenaStageGenerate *self,
                                                    CatenaStageContext  *ctx,
                                                    CatenaCache         *cache);
/* Size used for the request: the stage's width/height, or from the asset class. */
void       catena_stage_generate_get_size          (CatenaStageGenerate *self,
                                                    CatenaStageContext  *ctx,
                                                    int                 *width,
                                                    int                 *height);

/* Style: the LoRA strengths a sweep renders, for the UI to blend between neighbours. */
const double *catena_stage_style_get_sweep_strengths (guint *n_strengths);

/* Called once with the estimated cost of the whole sweep (only strengths not yet cached);
 * return FALSE to stop before anything is spent. */
typedef gboolean (*CatenaCostConfirmFunc) (double   estimated_usd,
                                           guint    n_renders,
                                           gpointer user_data);

/* Renders the stage at every sweep strength (blocking; worker thread), storing each output
 * and its provenance in cache under the key the stage would have at that strength, given
 * input_key (the key of the previous stage's output). Returns one key per strength. */
char        **catena_stage_style_render_sweep (CatenaStageStyle     *self,
                                               CatenaStageContext   *ctx,
                                               GeglBuffer           *input,
                                               const char           *input_key,
                                               CatenaCache          *cache,
                                               CatenaCostConfirmFunc confirm,
                                               gpointer              confirm_data,
                                               GError              **error);

G_END_DECLS
