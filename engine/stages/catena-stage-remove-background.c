/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <glib/gi18n-lib.h>

#include "catena-enums.h"
#include "catena-error.h"
#include "catena-image-io.h"
#include "catena-nn.h"
#include "catena-ops.h"
#include "catena-provider.h"
#include "catena-stage-private.h"
#include "catena-stages-image.h"

/* Cut the product out. Two engines: the classical one in ops/ (border-colour model and flood
 * fill, right for studio packshots, no model needed) and the ISNet network run by engine/nn.
 * AUTO picks the network when its weights are installed (build-aux/fetch-models.sh). */
struct _CatenaStageRemoveBackground
{
  CatenaStage parent_instance;

  CatenaRemoveBackgroundMethod method;
  double tolerance;
  double softness;
};

G_DEFINE_FINAL_TYPE (CatenaStageRemoveBackground, catena_stage_remove_background,
                     CATENA_TYPE_STAGE)

enum
{
  PROP_0,
  PROP_METHOD,
  PROP_TOLERANCE,
  PROP_SOFTNESS,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

/* ISNet weights are large (88 MB, a 320 MiB working arena): load once per process and keep
 * them. engine/nn serialises runs of one graph, so workers may share it. */
static GMutex isnet_lock;
static CatenaNnIsnet *isnet;

static gboolean
neural_available (void)
{
  g_autofree char *path = catena_nn_find_model (CATENA_NN_ISNET_MODEL);
  return path != NULL;
}

static CatenaNnIsnet *
get_isnet (GError **error)
{
  CatenaNnIsnet *model;

  g_mutex_lock (&isnet_lock);
  if (isnet == NULL)
    {
      g_autofree char *path = catena_nn_find_model (CATENA_NN_ISNET_MODEL);

      if (path == NULL)
        {
          g_autofree char *why = catena_nn_model_missing_message (CATENA_NN_ISNET_MODEL);
          g_set_error (error, CATENA_STAGE_ERROR, CATENA_STAGE_ERROR_MISSING_MODEL, "%s", why);
        }
      else
        isnet = catena_nn_isnet_load (path, error);
    }
  model = isnet;
  g_mutex_unlock (&isnet_lock);
  return model;
}

/* The reference pipeline (@imgly/background-removal) works on 8-bit sRGB pixels: feed it
 * exactly that, then put the predicted mask into the alpha of the full-precision input. */
static GeglBuffer *
remove_background_neural (CatenaStageRemoveBackground *self,
                          CatenaStageContext          *ctx,
                          GeglBuffer                  *input,
                          GError                     **error)
{
  const GeglRectangle *r = gegl_buffer_get_extent (input);
  const Babl *work = babl_format (CATENA_WORK_FORMAT);
  g_autofree guint8 *rgba = NULL;
  g_autofree guint8 *alpha = NULL;
  g_autofree float *strip = NULL;
  GeglBuffer *output;
  CatenaNnIsnet *model;
  const int rows = 64;

  if (!(model = get_isnet (error)))
    return NULL;
  catena_stage_context_report_progress (ctx, 0.05);

  rgba = g_malloc ((gsize) r->width * r->height * 4);
  alpha = g_malloc ((gsize) r->width * r->height);
  gegl_buffer_get (input, r, 1.0, babl_format ("R'G'B'A u8"), rgba, GEGL_AUTO_ROWSTRIDE,
                   GEGL_ABYSS_NONE);
  if (!catena_nn_isnet_run (model, rgba, r->width, r->height, r->width * 4, alpha,
                            ctx ? ctx->cancellable : NULL, error))
    return NULL;
  g_clear_pointer (&rgba, g_free);
  catena_stage_context_report_progress (ctx, 0.9);

  output = gegl_buffer_new (GEGL_RECTANGLE (0, 0, r->width, r->height), work);
  strip = g_new (float, (gsize) r->width * rows * 4);
  for (int y = 0; y < r->height; y += rows)
    {
      int n = MIN (rows, r->height - y);
      GeglRectangle band = { r->x, r->y + y, r->width, n };

      gegl_buffer_get (input, &band, 1.0, work, strip, GEGL_AUTO_ROWSTRIDE, GEGL_ABYSS_NONE);
      for (gsize i = 0; i < (gsize) r->width * n; i++)
        strip[i * 4 + 3] *= alpha[(gsize) y * r->width + i] / 255.0f;
      gegl_buffer_set (output, GEGL_RECTANGLE (0, y, r->width, n), 0, work, strip,
                       GEGL_AUTO_ROWSTRIDE);
    }
  catena_stage_context_report_progress (ctx, 1.0);
  return output;
}

/* AUTO resolves to whichever engine is installed: that is part of what defines the output,
 * so it goes into the cache key (installing the weights later must not serve old results);
 * so does a GPU precision below float32 (catena_nn_numerics_tag). */
static char *
catena_stage_remove_background_engine_identity (CatenaStage *stage)
{
  CatenaStageRemoveBackground *self = CATENA_STAGE_REMOVE_BACKGROUND (stage);
  gboolean neural = self->method == CATENA_REMOVE_BACKGROUND_NEURAL ||
                    (self->method == CATENA_REMOVE_BACKGROUND_AUTO && neural_available ());

  const char *tag = neural ? catena_nn_numerics_tag () : NULL;

  if (!neural)
    return g_strdup ("classical");
  /* tensor-core precision changes the mask beyond float32 rounding */
  return tag != NULL ? g_strconcat (CATENA_NN_ISNET_MODEL, "@", tag, NULL)
                     : g_strdup (CATENA_NN_ISNET_MODEL);
}

static void
forward_progress (double   fraction,
                  gpointer data)
{
  catena_stage_context_report_progress (data, fraction);
}

static GeglBuffer *
catena_stage_remove_background_process (CatenaStage        *stage,
                                        CatenaStageContext *ctx,
                                        GeglBuffer         *input,
                                        GError            **error)
{
  CatenaStageRemoveBackground *self = CATENA_STAGE_REMOVE_BACKGROUND (stage);

  if (g_strcmp0 (catena_stage_get_provider (stage), "local") != 0)
    {
      g_autoptr (JsonObject) params = json_object_new ();
      return catena_provider_run_image_stage (catena_stage_get_provider (stage),
                                              catena_stage_get_model (stage),
                                              "remove-background", input, params, ctx, error);
    }

  switch (self->method)
    {
    case CATENA_REMOVE_BACKGROUND_NEURAL:
      return remove_background_neural (self, ctx, input, error);
    case CATENA_REMOVE_BACKGROUND_AUTO:
      if (neural_available ())
        return remove_background_neural (self, ctx, input, error);
      G_GNUC_FALLTHROUGH;
    case CATENA_REMOVE_BACKGROUND_CLASSICAL:
    default:
      return catena_remove_background_classical_full (input, self->tolerance, self->softness,
                                                      ctx ? ctx->cancellable : NULL,
                                                      forward_progress, ctx, error);
    }
}

static void
catena_stage_remove_background_get_property (GObject    *object,
                                             guint       prop_id,
                                             GValue     *value,
                                             GParamSpec *pspec)
{
  CatenaStageRemoveBackground *self = CATENA_STAGE_REMOVE_BACKGROUND (object);

  switch (prop_id)
    {
    case PROP_METHOD:
      g_value_set_enum (value, self->method);
      break;
    case PROP_TOLERANCE:
      g_value_set_double (value, self->tolerance);
      break;
    case PROP_SOFTNESS:
      g_value_set_double (value, self->softness);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
set_double (GObject    *object,
            double     *field,
            double      value,
            GParamSpec *pspec)
{
  if (*field != value)
    {
      *field = value;
      g_object_notify_by_pspec (object, pspec);
    }
}

static void
catena_stage_remove_background_set_property (GObject      *object,
                                             guint         prop_id,
                                             const GValue *value,
                                             GParamSpec   *pspec)
{
  CatenaStageRemoveBackground *self = CATENA_STAGE_REMOVE_BACKGROUND (object);

  switch (prop_id)
    {
    case PROP_METHOD:
      if (self->method != (CatenaRemoveBackgroundMethod) g_value_get_enum (value))
        {
          self->method = g_value_get_enum (value);
          g_object_notify_by_pspec (object, pspec);
        }
      break;
    case PROP_TOLERANCE:
      set_double (object, &self->tolerance, g_value_get_double (value), pspec);
      break;
    case PROP_SOFTNESS:
      set_double (object, &self->softness, g_value_get_double (value), pspec);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
catena_stage_remove_background_class_init (CatenaStageRemoveBackgroundClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  CatenaStageClass *stage_class = CATENA_STAGE_CLASS (klass);
  const GParamFlags flags = G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS;

  object_class->get_property = catena_stage_remove_background_get_property;
  object_class->set_property = catena_stage_remove_background_set_property;

  stage_class->kind = "remove-background";
  stage_class->title = N_("Remove Background");
  stage_class->description = N_("Cut the product out of its backdrop");
  stage_class->icon_name = "edit-cut-symbolic";
  stage_class->needs_input = TRUE;
  stage_class->process = catena_stage_remove_background_process;
  stage_class->engine_identity = catena_stage_remove_background_engine_identity;

  properties[PROP_METHOD] =
    g_param_spec_enum ("method", N_("Method"),
                       N_("Classical works on plain studio backdrops; neural handles any "
                          "scene; automatic picks the best one installed"),
                       CATENA_TYPE_REMOVE_BACKGROUND_METHOD, CATENA_REMOVE_BACKGROUND_AUTO,
                       flags);
  properties[PROP_TOLERANCE] =
    g_param_spec_double ("tolerance", N_("Tolerance"),
                         N_("How different from the backdrop a colour must be to count as "
                            "product (classical method; raise it for noisy backdrops)"),
                         1, 50, 6, flags);
  properties[PROP_SOFTNESS] =
    g_param_spec_double ("softness", N_("Edge softness"),
                         N_("Feathers the cut-out's edge by this many pixels"),
                         0, 20, 1, flags);
  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
catena_stage_remove_background_init (CatenaStageRemoveBackground *self)
{
  self->method = CATENA_REMOVE_BACKGROUND_AUTO;
  self->tolerance = 6;
  self->softness = 1;
}
