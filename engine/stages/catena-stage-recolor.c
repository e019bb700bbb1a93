/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <glib/gi18n-lib.h>
#include <math.h>

#include "catena-error.h"
#include "catena-image-io.h"
#include "catena-ops.h"
#include "catena-stage-private.h"
#include "catena-stages-image.h"

/* Colour grading and brand colour match, all in one catena:recolor point operation, so the
 * same node serves the final render and the live preview. The product hue the brand match
 * starts from is the input's dominant hue (catena_analyze_dominant_hue()) unless the designer
 * sets it: it derives from the input, so it needs no place in the cache key. */
struct _CatenaStageRecolor
{
  CatenaStage parent_instance;

  double exposure;
  double contrast;
  double temperature;
  double tint;
  double saturation;
  double hue;
  char  *brand_color;
  double brand_strength;
  double hue_window;
  double source_hue;  /* < 0: the input's dominant hue */

  /* The preview analyses its proxy once, not on every slider move; guarded because previews
   * are built on a worker. */
  GMutex        lock;
  GWeakRef      analysed_node;
  GeglRectangle analysed_extent;
  double        analysed_hue;
};

G_DEFINE_FINAL_TYPE (CatenaStageRecolor, catena_stage_recolor, CATENA_TYPE_STAGE)

enum
{
  PROP_0,
  PROP_EXPOSURE,
  PROP_CONTRAST,
  PROP_TEMPERATURE,
  PROP_TINT,
  PROP_SATURATION,
  PROP_HUE,
  PROP_BRAND_COLOR,
  PROP_BRAND_STRENGTH,
  PROP_HUE_WINDOW,
  PROP_SOURCE_HUE,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

#define PREVIEW_ANALYSIS_EDGE 256  /* the dominant hue needs no more pixels than this */

static double *
double_field (CatenaStageRecolor *self,
              guint               prop_id)
{
  switch (prop_id)
    {
    case PROP_EXPOSURE: return &self->exposure;
    case PROP_CONTRAST: return &self->contrast;
    case PROP_TEMPERATURE: return &self->temperature;
    case PROP_TINT: return &self->tint;
    case PROP_SATURATION: return &self->saturation;
    case PROP_HUE: return &self->hue;
    case PROP_BRAND_STRENGTH: return &self->brand_strength;
    case PROP_HUE_WINDOW: return &self->hue_window;
    case PROP_SOURCE_HUE: return &self->source_hue;
    default: return NULL;
    }
}

/* Brand target hue, or -1 when the brand colour is grey or unreadable (no hue to move to). */
static double
target_hue (CatenaStageRecolor *self)
{
  double rgb[3];

  if (!catena_parse_color (self->brand_color, rgb))
    return -1;
  return catena_rgb_to_hue (rgb);
}

static gboolean
brand_wanted (CatenaStageRecolor *self)
{
  return self->brand_strength > 0 && target_hue (self) >= 0;
}

static void
apply_to_node (CatenaStageRecolor *self,
               GeglNode           *node,
               double              source_hue)
{
  double target = target_hue (self);
  gboolean brand = self->brand_strength > 0 && target >= 0 && source_hue >= 0;

  gegl_node_set (node,
                 "exposure", self->exposure,
                 "contrast", self->contrast,
                 "temperature", self->temperature,
                 "tint", self->tint,
                 "saturation", self->saturation,
                 "hue", self->hue,
                 "target-hue", brand ? target : 0.0,
                 "source-hue", brand ? source_hue : 0.0,
                 "brand-strength", brand ? self->brand_strength : 0.0,
                 "hue-window", self->hue_window,
                 NULL);
}

/* Dominant hue of what a preview node shows, from a small render; -1 if nothing is
 * colourful. Cached per node and extent. */
static double
analyse_node (CatenaStageRecolor *self,
              GeglNode           *input)
{
  GeglRectangle extent = gegl_node_get_bounding_box (input);
  GeglRectangle small;
  g_autoptr (GeglBuffer) buffer = NULL;
  g_autofree float *pixels = NULL;
  double scale, hue = -1, confidence;

  g_mutex_lock (&self->lock);
  {
    g_autoptr (GeglNode) cached = g_weak_ref_get (&self->analysed_node);

    if (cached == input && gegl_rectangle_equal (&extent, &self->analysed_extent))
      {
        hue = self->analysed_hue;
        g_mutex_unlock (&self->lock);
        return hue;
      }
  }
  g_mutex_unlock (&self->lock);

  /* an infinite plane (a colour source) has no product to look at */
  if (extent.width <= 0 || extent.height <= 0 || gegl_rectangle_is_infinite_plane (&extent))
    return -1;
  scale = MIN (1.0, (double) PREVIEW_ANALYSIS_EDGE / MAX (extent.width, extent.height));
  small = (GeglRectangle) { (int) floor (extent.x * scale), (int) floor (extent.y * scale),
                            MAX (1, (int) ceil (extent.width * scale)),
                            MAX (1, (int) ceil (extent.height * scale)) };
  pixels = g_new (float, (gsize) small.width * small.height * 4);
  gegl_node_blit (input, scale, &small, babl_format (CATENA_WORK_FORMAT), pixels,
                  GEGL_AUTO_ROWSTRIDE, GEGL_BLIT_DEFAULT);
  buffer = gegl_buffer_linear_new_from_data (pixels, babl_format (CATENA_WORK_FORMAT), &small,
                                             GEGL_AUTO_ROWSTRIDE, NULL, NULL);
  if (!catena_analyze_dominant_hue (buffer, NULL, &hue, &confidence))
    hue = -1;

  g_mutex_lock (&self->lock);
  g_weak_ref_set (&self->analysed_node, input);
  self->analysed_extent = extent;
  self->analysed_hue = hue;
  g_mutex_unlock (&self->lock);
  return hue;
}

typedef struct
{
  CatenaStageContext *ctx;
  double              start;
} ProgressSpan;

/* The render reports 0…1; after the analysis it covers start…1. */
static void
forward_progress (double   fraction,
                  gpointer data)
{
  ProgressSpan *span = data;

  catena_stage_context_report_progress (span->ctx, span->start + (1 - span->start) * fraction);
}

static GeglBuffer *
catena_stage_recolor_process (CatenaStage        *stage,
                              CatenaStageContext *ctx,
                              GeglBuffer         *input,
                              GError            **error)
{
  CatenaStageRecolor *self = CATENA_STAGE_RECOLOR (stage);
  GCancellable *cancellable = ctx != NULL ? ctx->cancellable : NULL;
  g_autoptr (GeglNode) graph = NULL;
  GeglNode *source, *recolor;
  GeglRectangle extent;
  double source_hue = self->source_hue;
  double rgb[3];
  ProgressSpan span = { ctx, 0 };

  if (input == NULL)
    {
      g_set_error (error, CATENA_STAGE_ERROR, CATENA_STAGE_ERROR_MISSING_INPUT,
                   _("Recolor needs an image before it."));
      return NULL;
    }
  extent = *gegl_buffer_get_extent (input);
  if (extent.width <= 0 || extent.height <= 0)
    {
      g_set_error (error, CATENA_STAGE_ERROR, CATENA_STAGE_ERROR_INVALID_IMAGE,
                   _("Recolor received an empty image."));
      return NULL;
    }
  if (self->brand_strength > 0 && !catena_parse_color (self->brand_color, rgb))
    {
      g_set_error (error, CATENA_STAGE_ERROR, CATENA_STAGE_ERROR_INVALID_PARAMETER,
                   _("The brand colour “%s” is not a colour: write it as #rrggbb."),
                   self->brand_color ? self->brand_color : "");
      return NULL;
    }

  if (brand_wanted (self) && source_hue < 0)
    {
      double confidence;

      if (!catena_analyze_dominant_hue (input, NULL, &source_hue, &confidence))
        {
          /* a grey product has no hue to move: the grade still applies */
          g_debug ("recolor: no colourful pixels, brand match skipped");
          source_hue = -1;
        }
      span.start = 0.1;
      catena_stage_context_report_progress (ctx, span.start);
      if (g_cancellable_set_error_if_cancelled (cancellable, error))
        return NULL;
    }

  graph = gegl_node_new ();
  source = gegl_node_new_child (graph, "operation", "gegl:buffer-source", "buffer", input, NULL);
  recolor = gegl_node_new_child (graph, "operation", "catena:recolor", NULL);
  apply_to_node (self, recolor, source_hue);
  gegl_node_link (source, recolor);

  return catena_render_node (recolor, &extent, cancellable, forward_progress, &span, error);
}

static GeglNode *
catena_stage_recolor_build_preview (CatenaStage *stage,
                                    GeglNode    *parent,
                                    GeglNode    *input)
{
  CatenaStageRecolor *self = CATENA_STAGE_RECOLOR (stage);
  GeglNode *node = gegl_node_new_child (parent, "operation", "catena:recolor", NULL);

  gegl_node_connect_to (input, "output", node, "input");
  catena_stage_recolor_update_node (self, node);
  return node;
}

void
catena_stage_recolor_update_node (CatenaStageRecolor *self,
                                  GeglNode           *node)
{
  double source_hue = self->source_hue;

  g_return_if_fail (CATENA_IS_STAGE_RECOLOR (self));
  g_return_if_fail (GEGL_IS_NODE (node));

  if (brand_wanted (self) && source_hue < 0)
    {
      GeglNode *input = gegl_node_get_producer (node, "input", NULL);

      source_hue = input != NULL ? analyse_node (self, input) : -1;
    }
  apply_to_node (self, node, source_hue);
}

static void
catena_stage_recolor_get_property (GObject    *object,
                                   guint       prop_id,
                                   GValue     *value,
                                   GParamSpec *pspec)
{
  CatenaStageRecolor *self = CATENA_STAGE_RECOLOR (object);
  double *field = double_field (self, prop_id);

  if (field != NULL)
    g_value_set_double (value, *field);
  else if (prop_id == PROP_BRAND_COLOR)
    g_value_set_string (value, self->brand_color);
  else
    G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
}

static void
catena_stage_recolor_set_property (GObject      *object,
                                   guint         prop_id,
                                   const GValue *value,
                                   GParamSpec   *pspec)
{
  CatenaStageRecolor *self = CATENA_STAGE_RECOLOR (object);
  double *field = double_field (self, prop_id);

  if (field != NULL)
    {
      if (*field != g_value_get_double (value))
        {
          *field = g_value_get_double (value);
          g_object_notify_by_pspec (object, pspec);
        }
    }
  else if (prop_id == PROP_BRAND_COLOR)
    {
      const char *color = g_value_get_string (value);

      if (g_strcmp0 (self->brand_color, color) != 0)
        {
          g_free (self->brand_color);
          self->brand_color = g_strdup (color);
          g_object_notify_by_pspec (object, pspec);
        }
    }
  else
    G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
}

static void
catena_stage_recolor_finalize (GObject *object)
{
  CatenaStageRecolor *self = CATENA_STAGE_RECOLOR (object);

  g_free (self->brand_color);
  g_weak_ref_clear (&self->analysed_node);
  g_mutex_clear (&self->lock);
  G_OBJECT_CLASS (catena_stage_recolor_parent_class)->finalize (object);
}

static void
catena_stage_recolor_class_init (CatenaStageRecolorClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  CatenaStageClass *stage_class = CATENA_STAGE_CLASS (klass);
  const GParamFlags flags = G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS;

  object_class->get_property = catena_stage_recolor_get_property;
  object_class->set_property = catena_stage_recolor_set_property;
  object_class->finalize = catena_stage_recolor_finalize;

  stage_class->kind = "recolor";
  stage_class->title = N_("Recolor");
  stage_class->description = N_("Grade colour and match the product to a brand colour");
  stage_class->icon_name = "color-select-symbolic";
  stage_class->needs_input = TRUE;
  stage_class->process = catena_stage_recolor_process;
  stage_class->build_preview = catena_stage_recolor_build_preview;

  properties[PROP_EXPOSURE] =
    g_param_spec_double ("exposure", N_("Exposure"),
                         N_("Brightens or darkens the image by this many stops (EV)"),
                         -5, 5, 0, flags);
  properties[PROP_CONTRAST] =
    g_param_spec_double ("contrast", N_("Contrast"),
                         N_("Spreads (positive) or flattens (negative) tones around mid-grey"),
                         -100, 100, 0, flags);
  properties[PROP_TEMPERATURE] =
    g_param_spec_double ("temperature", N_("Temperature"),
                         N_("Makes the light warmer (positive) or cooler (negative)"),
                         -100, 100, 0, flags);
  properties[PROP_TINT] =
    g_param_spec_double ("tint", N_("Tint"),
                         N_("Shifts the light towards magenta (positive) or green (negative)"),
                         -100, 100, 0, flags);
  properties[PROP_SATURATION] =
    g_param_spec_double ("saturation", N_("Saturation"),
                         N_("Percent more or less colour; −100 makes the image grey"),
                         -100, 100, 0, flags);
  properties[PROP_HUE] =
    g_param_spec_double ("hue", N_("Hue"), N_("Turns every colour by this many degrees"),
                         -180, 180, 0, flags);
  properties[PROP_BRAND_COLOR] =
    catena_param_spec_color ("brand-color", N_("Brand colour"),
                             N_("The colour the product is moved to"), "#0057b8");
  properties[PROP_BRAND_STRENGTH] =
    g_param_spec_double ("brand-strength", N_("Brand match"),
                         N_("How far the product's colour moves to the brand colour (0 off, "
                            "1 all the way)"),
                         0, 1, 0, flags);
  properties[PROP_HUE_WINDOW] =
    g_param_spec_double ("hue-window", N_("Hue range"),
                         N_("How wide a band of hues around the product's colour is moved, "
                            "in degrees"),
                         10, 180, 60, flags);
  properties[PROP_SOURCE_HUE] =
    g_param_spec_double ("source-hue", N_("Product hue"),
                         N_("The product's own hue in degrees; −1 finds it in the image"),
                         -1, 360, -1, flags);
  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
catena_stage_recolor_init (CatenaStageRecolor *self)
{
  self->brand_color = g_strdup ("#0057b8");
  self->hue_window = 60;
  self->source_hue = -1;
  self->analysed_hue = -1;
  g_mutex_init (&self->lock);
  g_weak_ref_init (&self->analysed_node, NULL);
}
