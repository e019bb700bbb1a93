/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <glib/gi18n-lib.h>

#include "catena-enums.h"
#include "catena-error.h"
#include "catena-ops.h"
#include "catena-stage-private.h"
#include "catena-stages-image.h"

/* Place a cut-out on a studio backdrop with a contact shadow (catena_composite_backdrop()). */
struct _CatenaStageComposite
{
  CatenaStage parent_instance;

  CatenaBackdropKind backdrop;
  char  *color;
  char  *color2;
  double fill;            /* percent */
  double aspect;
  double shadow_strength;
  double shadow_blur;     /* percent of the product's width */
};

G_DEFINE_FINAL_TYPE (CatenaStageComposite, catena_stage_composite, CATENA_TYPE_STAGE)

enum
{
  PROP_0,
  PROP_BACKDROP,
  PROP_COLOR,
  PROP_COLOR2,
  PROP_FILL,
  PROP_ASPECT,
  PROP_SHADOW_STRENGTH,
  PROP_SHADOW_BLUR,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static gboolean
parse_param_color (const char *text,
                   const char *label,
                   double      rgb[3],
                   GError    **error)
{
  if (catena_parse_color (text, rgb))
    return TRUE;
  g_set_error (error, CATENA_STAGE_ERROR, CATENA_STAGE_ERROR_INVALID_PARAMETER,
               _("The %s “%s” is not a colour: write it as #rrggbb."), label,
               text != NULL ? text : "");
  return FALSE;
}

static GeglBuffer *
catena_stage_composite_process (CatenaStage        *stage,
                                CatenaStageContext *ctx,
                                GeglBuffer         *input,
                                GError            **error)
{
  CatenaStageComposite *self = CATENA_STAGE_COMPOSITE (stage);
  CatenaBackdrop spec;
  GeglBuffer *output;

  catena_backdrop_init_default (&spec);
  spec.kind = self->backdrop;
  if (!parse_param_color (self->color, _("backdrop colour"), spec.color, error)
      || !parse_param_color (self->color2, _("gradient bottom colour"), spec.color2, error))
    return NULL;
  spec.fill = self->fill / 100;
  spec.aspect = self->aspect;
  spec.shadow_strength = self->shadow_strength;
  spec.shadow_blur = self->shadow_blur / 100;

  output = catena_composite_backdrop (input, &spec, ctx ? ctx->cancellable : NULL, error);
  if (output != NULL)
    catena_stage_context_report_progress (ctx, 1.0);
  return output;
}

static void
catena_stage_composite_get_property (GObject    *object,
                                     guint       prop_id,
                                     GValue     *value,
                                     GParamSpec *pspec)
{
  CatenaStageComposite *self = CATENA_STAGE_COMPOSITE (object);

  switch (prop_id)
    {
    case PROP_BACKDROP:
      g_value_set_enum (value, self->backdrop);
      break;
    case PROP_COLOR:
      g_value_set_string (value, self->color);
      break;
    case PROP_COLOR2:
      g_value_set_string (value, self->color2);
      break;
    case PROP_FILL:
      g_value_set_double (value, self->fill);
      break;
    case PROP_ASPECT:
      g_value_set_double (value, self->aspect);
      break;
    case PROP_SHADOW_STRENGTH:
      g_value_set_double (value, self->shadow_strength);
      break;
    case PROP_SHADOW_BLUR:
      g_value_set_double (value, self->shadow_blur);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

/* GLib 2.74 has no g_set_str. */
static gboolean
set_str (char       **field,
         const char  *value)
{
  if (g_strcmp0 (*field, value) == 0)
    return FALSE;
  g_free (*field);
  *field = g_strdup (value);
  return TRUE;
}

static gboolean
set_double (double *field,
            double  value)
{
  if (*field == value)
    return FALSE;
  *field = value;
  return TRUE;
}

static void
catena_stage_composite_set_property (GObject      *object,
                                     guint         prop_id,
                                     const GValue *value,
                                     GParamSpec   *pspec)
{
  CatenaStageComposite *self = CATENA_STAGE_COMPOSITE (object);
  gboolean changed;

  switch (prop_id)
    {
    case PROP_BACKDROP:
      changed = self->backdrop != (CatenaBackdropKind) g_value_get_enum (value);
      self->backdrop = g_value_get_enum (value);
      break;
    case PROP_COLOR:
      changed = set_str (&self->color, g_value_get_string (value));
      break;
    case PROP_COLOR2:
      changed = set_str (&self->color2, g_value_get_string (value));
      break;
    case PROP_FILL:
      changed = set_double (&self->fill, g_value_get_double (value));
      break;
    case PROP_ASPECT:
      changed = set_double (&self->aspect, g_value_get_double (value));
      break;
    case PROP_SHADOW_STRENGTH:
      changed = set_double (&self->shadow_strength, g_value_get_double (value));
      break;
    case PROP_SHADOW_BLUR:
      changed = set_double (&self->shadow_blur, g_value_get_double (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      return;
    }
  if (changed)
    g_object_notify_by_pspec (object, pspec);
}

static void
catena_stage_composite_finalize (GObject *object)
{
  CatenaStageComposite *self = CATENA_STAGE_COMPOSITE (object);

  g_free (self->color);
  g_free (self->color2);
  G_OBJECT_CLASS (catena_stage_composite_parent_class)->finalize (object);
}

static void
catena_stage_composite_class_init (CatenaStageCompositeClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  CatenaStageClass *stage_class = CATENA_STAGE_CLASS (klass);
  const GParamFlags flags = G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS;

  object_class->get_property = catena_stage_composite_get_property;
  object_class->set_property = catena_stage_composite_set_property;
  object_class->finalize = catena_stage_composite_finalize;

  stage_class->kind = "composite";
  stage_class->title = N_("Backdrop");
  stage_class->description = N_("Place the cut-out product on a studio backdrop with a shadow");
  stage_class->icon_name = "image-x-generic-symbolic";
  stage_class->needs_input = TRUE;
  stage_class->process = catena_stage_composite_process;

  properties[PROP_BACKDROP] =
    g_param_spec_enum ("backdrop", N_("Backdrop"),
                       N_("A solid colour, a vertical gradient between two colours, or "
                          "transparent"),
                       CATENA_TYPE_BACKDROP_KIND, CATENA_BACKDROP_SOLID, flags);
  properties[PROP_COLOR] =
    catena_param_spec_color ("color", N_("Colour"),
                             N_("The backdrop colour, or the top of the gradient"), "#ffffff");
  properties[PROP_COLOR2] =
    catena_param_spec_color ("color2", N_("Bottom colour"),
                             N_("The bottom of the gradient"), "#e6e6e6");
  properties[PROP_FILL] =
    g_param_spec_double ("fill", N_("Fill"),
                         N_("How much of the frame the product spans along its tighter side, "
                            "in percent"),
                         10, 100, 80, flags);
  properties[PROP_ASPECT] =
    g_param_spec_double ("aspect", N_("Aspect ratio"),
                         N_("Width over height of the output (1 square, 0.8 portrait 4:5); "
                            "0 keeps the input's size"),
                         0, 10, 0, flags);
  properties[PROP_SHADOW_STRENGTH] =
    g_param_spec_double ("shadow-strength", N_("Shadow"),
                         N_("Opacity of the contact shadow under the product (0 none)"),
                         0, 1, 0.35, flags);
  properties[PROP_SHADOW_BLUR] =
    g_param_spec_double ("shadow-blur", N_("Shadow softness"),
                         N_("Blur of the contact shadow, in percent of the product's width"),
                         0, 50, 5, flags);
  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
catena_stage_composite_init (CatenaStageComposite *self)
{
  self->backdrop = CATENA_BACKDROP_SOLID;
  self->color = g_strdup ("#ffffff");
  self->color2 = g_strdup ("#e6e6e6");
  self->fill = 80;
  self->shadow_strength = 0.35;
  self->shadow_blur = 5;
}
