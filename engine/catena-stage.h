/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gegl.h>
#include <json-glib/json-glib.h>

#include "catena-types.h"

G_BEGIN_DECLS

#define CATENA_TYPE_STAGE (catena_stage_get_type ())
G_DECLARE_DERIVABLE_TYPE (CatenaStage, catena_stage, CATENA, STAGE, GObject)

typedef void (*CatenaProgressFunc) (double fraction, gpointer user_data);

/* What a stage sees of the run it is part of. Plain struct: it lives on the worker's stack. */
typedef struct
{
  CatenaAsset       *asset;        /* the asset being processed */
  const char        *base_dir;     /* relative asset paths resolve against this */
  GCancellable      *cancellable;
  CatenaProgressFunc progress;     /* nullable; called from the worker thread */
  gpointer           progress_data;
} CatenaStageContext;

void          catena_stage_context_report_progress (CatenaStageContext *ctx,
                                                    double              fraction);

/* Registry of stage kinds */
void          catena_stage_register_type       (GType        type);
GType        *catena_stage_list_types          (guint       *n_types);
GType         catena_stage_type_for_kind       (const char  *kind);
CatenaStage  *catena_stage_new                 (const char  *kind,
                                                GError     **error);

/* Class metadata, also available from a GType */
const char   *catena_stage_get_kind            (CatenaStage *self);
const char   *catena_stage_get_title           (CatenaStage *self);
const char   *catena_stage_get_description     (CatenaStage *self);
const char   *catena_stage_get_icon_name       (CatenaStage *self);
gboolean      catena_stage_needs_input         (CatenaStage *self);
gboolean      catena_stage_writes_output       (CatenaStage *self);
gboolean      catena_stage_supports_preview    (CatenaStage *self);
const char   *catena_stage_type_get_kind       (GType        type);
const char   *catena_stage_type_get_title      (GType        type);
const char   *catena_stage_type_get_description (GType       type);
const char   *catena_stage_type_get_icon_name  (GType        type);

/* Instance identity and routing */
const char   *catena_stage_get_id              (CatenaStage *self);
void          catena_stage_set_id              (CatenaStage *self,
                                                const char  *id);
const char   *catena_stage_get_provider        (CatenaStage *self);
void          catena_stage_set_provider        (CatenaStage *self,
                                                const char  *provider);
const char   *catena_stage_get_model           (CatenaStage *self);
void          catena_stage_set_model           (CatenaStage *self,
                                                const char  *model);

/* Parameters: the subclass's own GObject properties, in declaration order. */
GParamSpec  **catena_stage_list_params         (CatenaStage *self,
                                                guint       *n_params);
GParamSpec  **catena_stage_type_list_params    (GType        type,
                                                guint       *n_params);
gboolean      catena_stage_set_param_from_string (CatenaStage *self,
                                                  const char  *name,
                                                  const char  *value,
                                                  GError     **error);
char         *catena_stage_dup_param_string    (CatenaStage *self,
                                                const char  *name);
char         *catena_param_spec_describe_range (GParamSpec  *pspec);

/* Colour parameters are strings "#rrggbb" marked on their GParamSpec. */
GParamSpec   *catena_param_spec_color          (const char  *name,
                                                const char  *nick,
                                                const char  *blurb,
                                                const char  *default_value);
gboolean      catena_param_spec_is_color       (GParamSpec  *pspec);
gboolean      catena_parse_color               (const char  *text,
                                                double       rgb[3]);

/* Serialisation and identity */
JsonNode     *catena_stage_to_json             (CatenaStage *self);
CatenaStage  *catena_stage_new_from_json       (JsonNode    *node,
                                                GError     **error);
CatenaStage  *catena_stage_duplicate           (CatenaStage *self);
char         *catena_stage_canonical_params    (CatenaStage *self);
char         *catena_stage_compute_key         (CatenaStage        *self,
                                                CatenaStageContext *ctx,
                                                const char         *input_key,
                                                GError            **error);

/* Running */
GeglBuffer   *catena_stage_process             (CatenaStage        *self,
                                                CatenaStageContext *ctx,
                                                GeglBuffer         *input,
                                                GError            **error);
gboolean      catena_stage_write_output        (CatenaStage        *self,
                                                CatenaStageContext *ctx,
                                                GeglBuffer         *output,
                                                const char         *dir,
                                                char              **out_path,
                                                GError            **error);
GeglNode     *catena_stage_build_preview       (CatenaStage *self,
                                                GeglNode    *parent,
                                                GeglNode    *input);

G_END_DECLS
