/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <glib/gi18n-lib.h>

#include "catena-error.h"
#include "catena-provider-private.h"

/* "local" runs on this computer: the built-in remove-background and upscale stages (GEGL and
 * engine/nn). Generation and LoRA styling need a model server, so local refuses them with a
 * message that says where they can run. */
struct _CatenaProviderLocal
{
  CatenaProvider parent_instance;
};

G_DECLARE_FINAL_TYPE (CatenaProviderLocal, catena_provider_local, CATENA, PROVIDER_LOCAL,
                      CatenaProvider)
G_DEFINE_FINAL_TYPE (CatenaProviderLocal, catena_provider_local, CATENA_TYPE_PROVIDER)

static gboolean
local_supports (CatenaProvider *self, const char *kind)
{
  return g_str_equal (kind, "remove-background") || g_str_equal (kind, "upscale");
}

static const char *
local_default_model (CatenaProvider *self, const char *kind)
{
  return "builtin";
}

static CatenaProviderResult *
local_run (CatenaProvider *self, const CatenaProviderRequest *request,
           CatenaProviderProgressFunc progress, gpointer progress_data,
           GCancellable *cancellable, GError **error)
{
  g_autoptr (CatenaStage) stage = NULL;
  g_autoptr (CatenaProviderResult) result = NULL;
  CatenaStageContext ctx = { .cancellable = cancellable };
  GeglBuffer *out;

  if (request->input == NULL)
    {
      g_set_error (error, CATENA_STAGE_ERROR, CATENA_STAGE_ERROR_MISSING_INPUT,
                   _("The %s stage needs an image."), request->stage_kind);
      return NULL;
    }
  if (!(stage = catena_stage_new (request->stage_kind, error)))
    return NULL;
  catena_stage_set_provider (stage, "local");
  if (g_str_equal (request->stage_kind, "upscale") &&
      g_object_class_find_property (G_OBJECT_GET_CLASS (stage), "factor"))
    g_object_set (stage, "factor", request->scale, NULL);
  if (!(out = catena_stage_process (stage, &ctx, request->input, error)))
    return NULL;
  result = catena_provider_result_new ();
  g_ptr_array_add (result->images, out);
  return g_steal_pointer (&result);
}

static void
catena_provider_local_class_init (CatenaProviderLocalClass *klass)
{
  CatenaProviderClass *provider_class = CATENA_PROVIDER_CLASS (klass);

  provider_class->name = "local";
  provider_class->title = N_("This computer");
  provider_class->supports = local_supports;
  provider_class->default_model = local_default_model;
  provider_class->run = local_run;
}

static void
catena_provider_local_init (CatenaProviderLocal *self)
{
}
