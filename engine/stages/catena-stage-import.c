/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <glib/gi18n-lib.h>

#include "catena-asset.h"
#include "catena-cache.h"
#include "catena-error.h"
#include "catena-image-io.h"
#include "catena-stage-private.h"
#include "catena-stages.h"

/* First stage of a photo chain: decodes the asset's source photo. */
struct _CatenaStageImport
{
  CatenaStage parent_instance;
};

G_DEFINE_FINAL_TYPE (CatenaStageImport, catena_stage_import, CATENA_TYPE_STAGE)

static char *
resolve_source (CatenaStageContext *ctx, GError **error)
{
  char *path = ctx && ctx->asset ? catena_asset_resolve_source (ctx->asset, ctx->base_dir) : NULL;

  if (path == NULL)
    g_set_error (error, CATENA_STAGE_ERROR, CATENA_STAGE_ERROR_MISSING_INPUT,
                 _("Asset “%s” has no source photo to import."),
                 ctx && ctx->asset ? catena_asset_get_name (ctx->asset) : "?");
  return path;
}

static char *
catena_stage_import_input_identity (CatenaStage *stage, CatenaStageContext *ctx, GError **error)
{
  g_autofree char *path = resolve_source (ctx, error);
  g_autoptr (GError) local_error = NULL;
  char *hash;

  if (path == NULL)
    return NULL;
  /* The content, not the path: a replaced photo must not hit stale cache entries. */
  hash = catena_hash_file (path, ctx->cancellable, &local_error);
  if (hash == NULL)
    {
      g_autofree char *name = g_filename_display_name (path);
      if (g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        g_propagate_error (error, g_steal_pointer (&local_error));
      else
        g_set_error (error, CATENA_STAGE_ERROR, CATENA_STAGE_ERROR_MISSING_INPUT,
                     _("Could not read the photo “%s”: %s"), name, local_error->message);
    }
  return hash;
}

static GeglBuffer *
catena_stage_import_process (CatenaStage *stage,
                             CatenaStageContext *ctx,
                             GeglBuffer *input,
                             GError **error)
{
  g_autofree char *path = resolve_source (ctx, error);
  GeglBuffer *buffer;

  if (path == NULL)
    return NULL;
  buffer = catena_image_load (path, ctx->cancellable, error);
  catena_stage_context_report_progress (ctx, 1.0);
  return buffer;
}

static void
catena_stage_import_class_init (CatenaStageImportClass *klass)
{
  CatenaStageClass *stage_class = CATENA_STAGE_CLASS (klass);

  stage_class->kind = "import";
  stage_class->title = N_("Import");
  stage_class->description = N_("Read the asset’s photo (PNG, JPEG, WebP or TIFF)");
  stage_class->icon_name = "document-open-symbolic";
  stage_class->needs_input = FALSE;
  stage_class->process = catena_stage_import_process;
  stage_class->input_identity = catena_stage_import_input_identity;
}

static void
catena_stage_import_init (CatenaStageImport *self)
{
}
