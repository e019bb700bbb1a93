/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include "catena-stage.h"

G_BEGIN_DECLS

struct _CatenaStageClass
{
  GObjectClass parent_class;

  /* Set in class_init. Strings are static; title/description are N_() marked. */
  const char *kind;
  const char *title;
  const char *description;
  const char *icon_name;
  gboolean    needs_input;          /* FALSE for stages that start a chain (import, generate) */
  gboolean    key_uses_asset_class; /* output depends on the asset class (export sizes) */

  /* Returns the output buffer (a new reference). Runs on a worker thread. */
  GeglBuffer *(*process)        (CatenaStage        *self,
                                 CatenaStageContext *ctx,
                                 GeglBuffer         *input,
                                 GError            **error);

  /* For stages without input: a stable identity of what they read (e.g. a file's hash). */
  char       *(*input_identity) (CatenaStage        *self,
                                 CatenaStageContext *ctx,
                                 GError            **error);

  /* Optional: stages that produce a file (export). */
  gboolean    (*write_output)   (CatenaStage        *self,
                                 CatenaStageContext *ctx,
                                 GeglBuffer         *output,
                                 const char         *dir,
                                 char              **out_path,
                                 GError            **error);

  /* Optional: the same operation as a GEGL graph for live previews (point operations). */
  GeglNode   *(*build_preview)  (CatenaStage *self,
                                 GeglNode    *parent,
                                 GeglNode    *input);

  /* Optional: names the engine an automatic choice resolves to (e.g. which model is
   * installed), so the cache key changes when that does. */
  char       *(*engine_identity) (CatenaStage *self);

  gpointer padding[7];
};

G_END_DECLS
