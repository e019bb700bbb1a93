/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <glib/gi18n-lib.h>

#include "catena-util-private.h"
#include "catena-asset.h"
#include "catena-error.h"
#include "catena-image-io.h"
#include "catena-provider.h"
#include "catena-stages-remote.h"

/* Model-based edits in words ("make the bag burgundy", "remove the reflection"), optionally
 * limited to a mask: where the local recolor stage cannot follow shapes, an edit model can. */
struct _CatenaStageEdit
{
  CatenaStage parent_instance;

  char *instruction;
  char *mask;
  int seed;
};

G_DEFINE_FINAL_TYPE (CatenaStageEdit, catena_stage_edit, CATENA_TYPE_STAGE)

enum {
  PROP_0,
  PROP_INSTRUCTION,
  PROP_MASK,
  PROP_SEED,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static void
forward_progress (double fraction, const char *message, gpointer user_data)
{
  catena_stage_context_report_progress (user_data, fraction);
}

static GeglBuffer *
load_mask (CatenaStageEdit *self, CatenaStageContext *ctx, GeglBuffer *input, GError **error)
{
  g_autofree char *path = NULL;
  g_autoptr (GeglBuffer) mask = NULL;
  const GeglRectangle *in = gegl_buffer_get_extent (input);
  const GeglRectangle *m;

  if (g_path_is_absolute (self->mask) || ctx == NULL || ctx->base_dir == NULL)
    path = g_strdup (self->mask);
  else
    path = g_build_filename (ctx->base_dir, self->mask, NULL);
  if (!(mask = catena_image_load (path, ctx ? ctx->cancellable : NULL, error)))
    {
      g_prefix_error (error, _("The edit mask could not be read: "));
      return NULL;
    }
  m = gegl_buffer_get_extent (mask);
  if (m->width != in->width || m->height != in->height)
    {
      g_set_error (error, CATENA_STAGE_ERROR, CATENA_STAGE_ERROR_INVALID_PARAMETER,
                   _("The edit mask is %d × %d pixels but the image is %d × %d; paint the mask "
                     "at the image's size."),
                   m->width, m->height, in->width, in->height);
      return NULL;
    }
  return g_steal_pointer (&mask);
}

static GeglBuffer *
catena_stage_edit_process (CatenaStage *stage, CatenaStageContext *ctx, GeglBuffer *input,
                           GError **error)
{
  CatenaStageEdit *self = CATENA_STAGE_EDIT (stage);
  CatenaProvider *provider = catena_provider_get (catena_stage_get_provider (stage));
  g_autoptr (CatenaProviderRequest) req = NULL;
  g_autoptr (CatenaProviderResult) result = NULL;
  const char *model = catena_stage_get_model (stage);

  catena_provenance_set_pending (NULL);
  if (self->instruction == NULL || self->instruction[0] == '\0')
    {
      g_set_error (error, CATENA_STAGE_ERROR, CATENA_STAGE_ERROR_INVALID_PARAMETER,
                   _("The edit stage needs an instruction, e.g. “make the bag red”."));
      return NULL;
    }
  if (provider == NULL)
    {
      g_set_error (error, CATENA_STAGE_ERROR, CATENA_STAGE_ERROR_INVALID_PARAMETER,
                   _("Catena does not know the provider “%s”. Choose fal, OpenAI or ComfyUI."),
                   catena_stage_get_provider (stage));
      return NULL;
    }
  req = catena_provider_request_new ("edit");
  req->model = model && model[0] ? g_strdup (model) : NULL;
  req->prompt = g_strdup (self->instruction);
  req->seed = self->seed;
  req->input = g_object_ref (input);
  req->denoise = 0.75;
  if (self->mask && self->mask[0] && !(req->mask = load_mask (self, ctx, input, error)))
    return NULL;

  result = catena_provider_run (provider, req, forward_progress, ctx,
                                ctx ? ctx->cancellable : NULL, error);
  if (result == NULL)
    return NULL;
  catena_provenance_set_pending (result->provenance);
  return g_object_ref (g_ptr_array_index (result->images, 0));
}

static void
catena_stage_edit_get_property (GObject *object, guint prop_id, GValue *value,
                                GParamSpec *pspec)
{
  CatenaStageEdit *self = CATENA_STAGE_EDIT (object);

  switch (prop_id)
    {
    case PROP_INSTRUCTION:
      g_value_set_string (value, self->instruction);
      break;
    case PROP_MASK:
      g_value_set_string (value, self->mask);
      break;
    case PROP_SEED:
      g_value_set_int (value, self->seed);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
catena_stage_edit_set_property (GObject *object, guint prop_id, const GValue *value,
                                GParamSpec *pspec)
{
  CatenaStageEdit *self = CATENA_STAGE_EDIT (object);

  switch (prop_id)
    {
    case PROP_INSTRUCTION:
      if (catena_set_str (&self->instruction, g_value_get_string (value)))
        g_object_notify_by_pspec (object, pspec);
      break;
    case PROP_MASK:
      if (catena_set_str (&self->mask, g_value_get_string (value)))
        g_object_notify_by_pspec (object, pspec);
      break;
    case PROP_SEED:
      if (self->seed != g_value_get_int (value))
        {
          self->seed = g_value_get_int (value);
          g_object_notify_by_pspec (object, pspec);
        }
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
catena_stage_edit_finalize (GObject *object)
{
  CatenaStageEdit *self = CATENA_STAGE_EDIT (object);

  g_free (self->instruction);
  g_free (self->mask);
  G_OBJECT_CLASS (catena_stage_edit_parent_class)->finalize (object);
}

static void
catena_stage_edit_class_init (CatenaStageEditClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  CatenaStageClass *stage_class = CATENA_STAGE_CLASS (klass);
  GParamFlags flags = G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS;

  object_class->get_property = catena_stage_edit_get_property;
  object_class->set_property = catena_stage_edit_set_property;
  object_class->finalize = catena_stage_edit_finalize;

  stage_class->kind = "edit";
  stage_class->title = N_("Edit");
  stage_class->description = N_("Change the image as described, optionally inside a mask");
  stage_class->icon_name = "document-edit-symbolic";
  stage_class->needs_input = TRUE;
  stage_class->process = catena_stage_edit_process;

  properties[PROP_INSTRUCTION] =
    g_param_spec_string ("instruction", N_("Instruction"),
                         N_("What to change, in words (e.g. “make the bag burgundy”)"), "",
                         flags);
  properties[PROP_MASK] =
    g_param_spec_string ("mask", N_("Mask"),
                         N_("Image file, white where the edit may change pixels; empty for "
                            "the whole image"),
                         "", flags);
  properties[PROP_SEED] =
    g_param_spec_int ("seed", N_("Seed"), N_("Change it for another variation"), 0, G_MAXINT32,
                      0, flags);
  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
catena_stage_edit_init (CatenaStageEdit *self)
{
  self->instruction = g_strdup ("");
  self->mask = g_strdup ("");
  catena_stage_set_provider (CATENA_STAGE (self), "fal");
}
