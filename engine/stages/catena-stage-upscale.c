/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <glib/gi18n-lib.h>
#include <math.h>

#include "catena-enums.h"
#include "catena-error.h"
#include "catena-image-io.h"
#include "catena-provider.h"
#include "catena-stage-private.h"
#include "catena-stages.h"

/* Classic upscaling with GEGL's samplers. LoHalo (Robidoux's Jacobian-adaptive sampler) is
 * the default: it keeps edges crisp with little haloing on product outlines. */
struct _CatenaStageUpscale
{
  CatenaStage parent_instance;

  double factor;
  CatenaUpscaleSampler sampler;
};

G_DEFINE_FINAL_TYPE (CatenaStageUpscale, catena_stage_upscale, CATENA_TYPE_STAGE)

enum {
  PROP_0,
  PROP_FACTOR,
  PROP_SAMPLER,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static GeglSamplerType
gegl_sampler (CatenaUpscaleSampler sampler)
{
  switch (sampler)
    {
    case CATENA_UPSCALE_SAMPLER_LINEAR:
      return GEGL_SAMPLER_LINEAR;
    case CATENA_UPSCALE_SAMPLER_CUBIC:
      return GEGL_SAMPLER_CUBIC;
    case CATENA_UPSCALE_SAMPLER_NOHALO:
      return GEGL_SAMPLER_NOHALO;
    case CATENA_UPSCALE_SAMPLER_LOHALO:
    default:
      return GEGL_SAMPLER_LOHALO;
    }
}

static GeglBuffer *
catena_stage_upscale_process (CatenaStage *stage,
                              CatenaStageContext *ctx,
                              GeglBuffer *input,
                              GError **error)
{
  CatenaStageUpscale *self = CATENA_STAGE_UPSCALE (stage);
  g_autoptr (GeglNode) graph = gegl_node_new ();
  const GeglRectangle *in = gegl_buffer_get_extent (input);
  GeglRectangle out = { 0, 0, (int) ceil (in->width * self->factor),
                        (int) ceil (in->height * self->factor) };
  GeglNode *src, *scale;

  /* A remote provider (fal, ComfyUI) runs its own upscaling model. */
  if (g_strcmp0 (catena_stage_get_provider (stage), "local") != 0)
    {
      g_autoptr (JsonObject) params = json_object_new ();
      json_object_set_double_member (params, "factor", self->factor);
      return catena_provider_run_image_stage (catena_stage_get_provider (stage),
                                              catena_stage_get_model (stage), "upscale", input,
                                              params, ctx, error);
    }

  if (out.width > CATENA_IMAGE_MAX_EDGE || out.height > CATENA_IMAGE_MAX_EDGE ||
      (gint64) out.width * out.height > CATENA_IMAGE_MAX_PIXELS)
    {
      g_set_error (error, CATENA_STAGE_ERROR, CATENA_STAGE_ERROR_TOO_LARGE,
                   _("Upscaling %d × %d by %g would make %d × %d pixels, more than Catena "
                     "handles; lower the factor."),
                   in->width, in->height, self->factor, out.width, out.height);
      return NULL;
    }

  src = gegl_node_new_child (graph, "operation", "gegl:buffer-source", "buffer", input, NULL);
  /* Scale about the origin with premultiplied alpha so cut-out edges do not bleed colour. */
  scale = gegl_node_new_child (graph, "operation", "gegl:scale-ratio", "x", self->factor, "y",
                               self->factor, "sampler", gegl_sampler (self->sampler),
                               "origin-x", 0.0, "origin-y", 0.0, "abyss-policy",
                               GEGL_ABYSS_CLAMP, NULL);
  gegl_node_connect_to (src, "output", scale, "input");

  return catena_render_node (scale, &out, ctx ? ctx->cancellable : NULL,
                             ctx ? ctx->progress : NULL, ctx ? ctx->progress_data : NULL, error);
}

static void
catena_stage_upscale_get_property (GObject *object,
                                   guint prop_id,
                                   GValue *value,
                                   GParamSpec *pspec)
{
  CatenaStageUpscale *self = CATENA_STAGE_UPSCALE (object);

  switch (prop_id)
    {
    case PROP_FACTOR:
      g_value_set_double (value, self->factor);
      break;
    case PROP_SAMPLER:
      g_value_set_enum (value, self->sampler);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
catena_stage_upscale_set_property (GObject *object,
                                   guint prop_id,
                                   const GValue *value,
                                   GParamSpec *pspec)
{
  CatenaStageUpscale *self = CATENA_STAGE_UPSCALE (object);

  switch (prop_id)
    {
    case PROP_FACTOR:
      if (self->factor != g_value_get_double (value))
        {
          self->factor = g_value_get_double (value);
          g_object_notify_by_pspec (object, pspec);
        }
      break;
    case PROP_SAMPLER:
      if (self->sampler != (CatenaUpscaleSampler) g_value_get_enum (value))
        {
          self->sampler = g_value_get_enum (value);
          g_object_notify_by_pspec (object, pspec);
        }
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
catena_stage_upscale_class_init (CatenaStageUpscaleClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  CatenaStageClass *stage_class = CATENA_STAGE_CLASS (klass);

  object_class->get_property = catena_stage_upscale_get_property;
  object_class->set_property = catena_stage_upscale_set_property;

  stage_class->kind = "upscale";
  stage_class->title = N_("Upscale");
  stage_class->description = N_("Enlarge the image for 4K/8K outputs");
  stage_class->icon_name = "zoom-in-symbolic";
  stage_class->needs_input = TRUE;
  stage_class->process = catena_stage_upscale_process;

  properties[PROP_FACTOR] =
    g_param_spec_double ("factor", N_("Factor"), N_("How many times larger the output is"), 1.0,
                         8.0, 2.0,
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_SAMPLER] =
    g_param_spec_enum ("sampler", N_("Sampler"),
                       N_("Interpolation: LoHalo keeps edges sharp, cubic is smoother"),
                       CATENA_TYPE_UPSCALE_SAMPLER, CATENA_UPSCALE_SAMPLER_LOHALO,
                       G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
catena_stage_upscale_init (CatenaStageUpscale *self)
{
  self->factor = 2.0;
  self->sampler = CATENA_UPSCALE_SAMPLER_LOHALO;
}
