/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <glib/gi18n-lib.h>
#include <math.h>

#include "catena-enums.h"
#include "catena-error.h"
#include "catena-image-io.h"
#include "catena-nn.h"
#include "catena-provider.h"
#include "catena-stage-private.h"
#include "catena-stages.h"

/* Two engines. Neural: the ESRGAN networks of @upscalerjs run by engine/nn, tiled so any size
 * works in bounded memory (the default when their weights are installed). Classic: GEGL's
 * samplers; LoHalo (Robidoux's Jacobian-adaptive sampler) keeps edges crisp with little
 * haloing on product outlines. */
struct _CatenaStageUpscale
{
  CatenaStage parent_instance;

  double factor;
  CatenaUpscaleSampler sampler;
  CatenaUpscaleMethod method;
  CatenaUpscaleNetwork network;
};

G_DEFINE_FINAL_TYPE (CatenaStageUpscale, catena_stage_upscale, CATENA_TYPE_STAGE)

enum {
  PROP_0,
  PROP_FACTOR,
  PROP_METHOD,
  PROP_NETWORK,
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

/* The networks come in ×2, ×3, ×4 and ×8: run the smallest one that reaches the factor, then
 * box-filter down to the exact size. */
static int
network_scale (double factor)
{
  static const int scales[] = { 2, 3, 4, 8 };

  for (guint i = 0; i < G_N_ELEMENTS (scales); i++)
    if (scales[i] + 1e-9 >= factor)
      return scales[i];
  return 8;
}

static const char *
network_family (CatenaStageUpscale *self)
{
  return self->network == CATENA_UPSCALE_NETWORK_SLIM ? CATENA_NN_ESRGAN_SLIM
                                                       : CATENA_NN_ESRGAN_MEDIUM;
}

static gboolean
neural_available (CatenaStageUpscale *self)
{
  g_autofree char *path = catena_nn_find_upscaler (network_family (self),
                                                   network_scale (self->factor));
  return path != NULL;
}

static gboolean
use_neural (CatenaStageUpscale *self)
{
  return self->method == CATENA_UPSCALE_METHOD_NEURAL ||
         (self->method == CATENA_UPSCALE_METHOD_AUTO && neural_available (self));
}

/* Loaded networks are kept for the process (a few MB each); engine/nn serialises calls. */
static GMutex upscalers_lock;
static GHashTable *upscalers; /* model name → CatenaNnUpscaler */

static CatenaNnUpscaler *
get_upscaler (const char *family, int scale, GError **error)
{
  g_autofree char *name = catena_nn_upscaler_model_name (family, scale);
  CatenaNnUpscaler *up;

  g_mutex_lock (&upscalers_lock);
  if (upscalers == NULL)
    upscalers = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                       (GDestroyNotify) catena_nn_upscaler_free);
  up = g_hash_table_lookup (upscalers, name);
  if (up == NULL)
    {
      g_autofree char *path = catena_nn_find_upscaler (family, scale);
      if (path == NULL)
        {
          g_autofree char *why = catena_nn_model_missing_message (name);
          g_set_error (error, CATENA_STAGE_ERROR, CATENA_STAGE_ERROR_MISSING_MODEL, "%s", why);
        }
      else if ((up = catena_nn_upscaler_load (path, error)))
        g_hash_table_insert (upscalers, g_strdup (name), up);
    }
  g_mutex_unlock (&upscalers_lock);
  return up;
}

typedef struct
{
  GeglBuffer *input;
  GeglBuffer *output;
  const GeglRectangle *in;
  CatenaStageContext *ctx;
} NeuralIo;

static gboolean
read_rect (int x, int y, int w, int h, float *rgba, int stride, gpointer data, GError **error)
{
  NeuralIo *io = data;
  gegl_buffer_get (io->input, GEGL_RECTANGLE (io->in->x + x, io->in->y + y, w, h), 1.0,
                   babl_format (CATENA_WORK_FORMAT), rgba, stride * sizeof (float),
                   GEGL_ABYSS_CLAMP);
  return TRUE;
}

static gboolean
write_rect (int x, int y, int w, int h, const float *rgba, int stride, gpointer data,
            GError **error)
{
  NeuralIo *io = data;
  gegl_buffer_set (io->output, GEGL_RECTANGLE (x, y, w, h), 0, babl_format (CATENA_WORK_FORMAT),
                   rgba, stride * sizeof (float));
  return TRUE;
}

static void
neural_progress (double fraction, gpointer data)
{
  NeuralIo *io = data;
  catena_stage_context_report_progress (io->ctx, fraction);
}

static GeglBuffer *
upscale_neural (CatenaStageUpscale *self,
                CatenaStageContext *ctx,
                GeglBuffer *input,
                const GeglRectangle *out,
                GError **error)
{
  const GeglRectangle *in = gegl_buffer_get_extent (input);
  int scale = network_scale (self->factor);
  g_autoptr (GeglBuffer) big = NULL;
  CatenaNnUpscaler *up;
  NeuralIo io = { input, NULL, in, ctx };

  if (!(up = get_upscaler (network_family (self), scale, error)))
    return NULL;
  big = gegl_buffer_new (GEGL_RECTANGLE (0, 0, in->width * scale, in->height * scale),
                         babl_format (CATENA_WORK_FORMAT));
  io.output = big;
  if (!catena_nn_upscaler_process (up, in->width, in->height, 0, -1, read_rect, write_rect,
                                   neural_progress, &io, ctx ? ctx->cancellable : NULL, error))
    return NULL;
  if (gegl_buffer_get_extent (big)->width == out->width &&
      gegl_buffer_get_extent (big)->height == out->height)
    return g_steal_pointer (&big);

  {
    /* Down to the exact factor: box filter over linear, premultiplied pixels, in strips. */
    const Babl *linear = babl_format ("RaGaBaA float");
    double s = (double) out->width / (in->width * scale);
    g_autoptr (GeglBuffer) result = gegl_buffer_new (out, babl_format (CATENA_WORK_FORMAT));
    g_autofree float *strip = g_new (float, (gsize) out->width * 64 * 4);

    for (int y = 0; y < out->height; y += 64)
      {
        int n = MIN (64, out->height - y);
        gegl_buffer_get (big, GEGL_RECTANGLE (0, y, out->width, n), s, linear, strip,
                         GEGL_AUTO_ROWSTRIDE, GEGL_ABYSS_CLAMP | GEGL_BUFFER_FILTER_BOX);
        gegl_buffer_set (result, GEGL_RECTANGLE (0, y, out->width, n), 0, linear, strip,
                         GEGL_AUTO_ROWSTRIDE);
      }
    return g_steal_pointer (&result);
  }
}

static char *
catena_stage_upscale_engine_identity (CatenaStage *stage)
{
  CatenaStageUpscale *self = CATENA_STAGE_UPSCALE (stage);

  g_autofree char *model = NULL;
  const char *tag;

  if (g_strcmp0 (catena_stage_get_provider (stage), "local") != 0 || !use_neural (self))
    return g_strdup ("classic");
  model = catena_nn_upscaler_model_name (network_family (self), network_scale (self->factor));
  /* tensor-core precision changes the picture beyond float32 rounding */
  if ((tag = catena_nn_numerics_tag ()) != NULL)
    return g_strconcat (model, "@", tag, NULL);
  return g_steal_pointer (&model);
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

  if (use_neural (self))
    return upscale_neural (self, ctx, input, &out, error);

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
    case PROP_METHOD:
      g_value_set_enum (value, self->method);
      break;
    case PROP_NETWORK:
      g_value_set_enum (value, self->network);
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
    case PROP_METHOD:
      if (self->method != (CatenaUpscaleMethod) g_value_get_enum (value))
        {
          self->method = g_value_get_enum (value);
          g_object_notify_by_pspec (object, pspec);
        }
      break;
    case PROP_NETWORK:
      if (self->network != (CatenaUpscaleNetwork) g_value_get_enum (value))
        {
          self->network = g_value_get_enum (value);
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
  stage_class->engine_identity = catena_stage_upscale_engine_identity;

  properties[PROP_FACTOR] =
    g_param_spec_double ("factor", N_("Factor"), N_("How many times larger the output is"), 1.0,
                         8.0, 2.0,
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_METHOD] =
    g_param_spec_enum ("method", N_("Method"),
                       N_("Neural (ESRGAN) invents plausible detail; classic interpolates; "
                          "automatic uses the network when it is installed"),
                       CATENA_TYPE_UPSCALE_METHOD, CATENA_UPSCALE_METHOD_AUTO,
                       G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_NETWORK] =
    g_param_spec_enum ("network", N_("Network"),
                       N_("ESRGAN size for the neural method: medium is sharper, slim faster"),
                       CATENA_TYPE_UPSCALE_NETWORK, CATENA_UPSCALE_NETWORK_MEDIUM,
                       G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_SAMPLER] =
    g_param_spec_enum ("sampler", N_("Sampler"),
                       N_("Interpolation of the classic method: LoHalo keeps edges sharp, cubic is "
                          "smoother"),
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
