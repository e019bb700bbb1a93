/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <glib/gi18n-lib.h>
#include <math.h>

#include "catena-asset.h"
#include "catena-enums.h"
#include "catena-error.h"
#include "catena-image-io.h"
#include "catena-stage-private.h"
#include "catena-stages.h"

/* Final stage: resizes to the asset class's delivery size, flattens for formats without alpha
 * and writes an 8-bit sRGB file. The pixels are its cached output; the file is written by
 * write_output so a cache hit still produces the file. */
struct _CatenaStageExport
{
  CatenaStage parent_instance;

  CatenaExportFormat format;
  int quality;
  int long_edge;
  char *matte;
};

G_DEFINE_FINAL_TYPE (CatenaStageExport, catena_stage_export, CATENA_TYPE_STAGE)

enum {
  PROP_0,
  PROP_FORMAT,
  PROP_QUALITY,
  PROP_LONG_EDGE,
  PROP_MATTE,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static int
target_long_edge (CatenaStageExport *self, CatenaStageContext *ctx)
{
  if (self->long_edge > 0)
    return self->long_edge;
  if (ctx && ctx->asset)
    return catena_asset_class_get_long_edge (catena_asset_get_asset_class (ctx->asset));
  return catena_asset_class_get_long_edge (CATENA_ASSET_CLASS_FEED);
}

static GeglBuffer *
catena_stage_export_process (CatenaStage *stage,
                             CatenaStageContext *ctx,
                             GeglBuffer *input,
                             GError **error)
{
  CatenaStageExport *self = CATENA_STAGE_EXPORT (stage);
  g_autoptr (GeglNode) graph = gegl_node_new ();
  const GeglRectangle *in = gegl_buffer_get_extent (input);
  int edge = target_long_edge (self, ctx);
  double scale = (double) edge / MAX (in->width, in->height);
  GeglRectangle out = { 0, 0, MAX (1, (int) round (in->width * scale)),
                        MAX (1, (int) round (in->height * scale)) };
  GeglNode *src, *last, *translate;

  src = gegl_node_new_child (graph, "operation", "gegl:buffer-source", "buffer", input, NULL);
  translate = gegl_node_new_child (graph, "operation", "gegl:translate", "x", (double) -in->x,
                                   "y", (double) -in->y, NULL);
  gegl_node_connect_to (src, "output", translate, "input");
  last = translate;

  if (fabs (scale - 1.0) > 1e-9)
    {
      /* Separate x/y ratios land exactly on the integer target size. */
      GeglNode *resize = gegl_node_new_child (
        graph, "operation", "gegl:scale-ratio", "x", (double) out.width / in->width, "y",
        (double) out.height / in->height, "sampler", GEGL_SAMPLER_LOHALO, "abyss-policy",
        GEGL_ABYSS_CLAMP, NULL);
      gegl_node_connect_to (last, "output", resize, "input");
      last = resize;
    }

  if (self->format == CATENA_EXPORT_FORMAT_JPEG)
    {
      double rgb[3] = { 1, 1, 1 };
      GeglColor *color;
      GeglNode *bg, *over;

      catena_parse_color (self->matte, rgb);
      color = gegl_color_new (NULL);
      /* The matte is an sRGB (gamma-encoded) colour, as designers pick it. */
      gegl_color_set_pixel (color, babl_format ("R'G'B'A double"),
                            (double[]) { rgb[0], rgb[1], rgb[2], 1.0 });
      bg = gegl_node_new_child (graph, "operation", "gegl:color", "value", color, NULL);
      g_object_unref (color);
      over = gegl_node_new_child (graph, "operation", "gegl:over", NULL);
      gegl_node_connect_to (bg, "output", over, "input");
      gegl_node_connect_to (last, "output", over, "aux");
      last = over;
    }

  return catena_render_node (last, &out, ctx ? ctx->cancellable : NULL, ctx ? ctx->progress : NULL,
                             ctx ? ctx->progress_data : NULL, error);
}

static gboolean
catena_stage_export_write_output (CatenaStage *stage,
                                  CatenaStageContext *ctx,
                                  GeglBuffer *output,
                                  const char *dir,
                                  char **out_path,
                                  GError **error)
{
  CatenaStageExport *self = CATENA_STAGE_EXPORT (stage);
  g_autofree char *name = NULL;
  g_autofree char *path = NULL;

  name = g_strdup_printf ("%s.%s", ctx && ctx->asset ? catena_asset_get_id (ctx->asset) : "output",
                          catena_export_format_get_extension (self->format));
  path = g_build_filename (dir, name, NULL);
  if (!catena_image_save (output, path, self->format, self->quality, error))
    return FALSE;
  if (out_path)
    *out_path = g_steal_pointer (&path);
  return TRUE;
}

static void
catena_stage_export_finalize (GObject *object)
{
  g_free (CATENA_STAGE_EXPORT (object)->matte);
  G_OBJECT_CLASS (catena_stage_export_parent_class)->finalize (object);
}

static void
catena_stage_export_get_property (GObject *object,
                                  guint prop_id,
                                  GValue *value,
                                  GParamSpec *pspec)
{
  CatenaStageExport *self = CATENA_STAGE_EXPORT (object);

  switch (prop_id)
    {
    case PROP_FORMAT:
      g_value_set_enum (value, self->format);
      break;
    case PROP_QUALITY:
      g_value_set_int (value, self->quality);
      break;
    case PROP_LONG_EDGE:
      g_value_set_int (value, self->long_edge);
      break;
    case PROP_MATTE:
      g_value_set_string (value, self->matte);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
catena_stage_export_set_property (GObject *object,
                                  guint prop_id,
                                  const GValue *value,
                                  GParamSpec *pspec)
{
  CatenaStageExport *self = CATENA_STAGE_EXPORT (object);

  switch (prop_id)
    {
    case PROP_FORMAT:
      if (self->format == (CatenaExportFormat) g_value_get_enum (value))
        return;
      self->format = g_value_get_enum (value);
      break;
    case PROP_QUALITY:
      if (self->quality == g_value_get_int (value))
        return;
      self->quality = g_value_get_int (value);
      break;
    case PROP_LONG_EDGE:
      if (self->long_edge == g_value_get_int (value))
        return;
      self->long_edge = g_value_get_int (value);
      break;
    case PROP_MATTE:
      if (g_strcmp0 (self->matte, g_value_get_string (value)) == 0)
        return;
      g_free (self->matte);
      self->matte = g_value_dup_string (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      return;
    }
  g_object_notify_by_pspec (object, pspec);
}

static void
catena_stage_export_class_init (CatenaStageExportClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  CatenaStageClass *stage_class = CATENA_STAGE_CLASS (klass);

  object_class->finalize = catena_stage_export_finalize;
  object_class->get_property = catena_stage_export_get_property;
  object_class->set_property = catena_stage_export_set_property;

  stage_class->kind = "export";
  stage_class->title = N_("Export");
  stage_class->description = N_("Write the delivery file at the size of the asset’s class");
  stage_class->icon_name = "document-save-symbolic";
  stage_class->needs_input = TRUE;
  stage_class->key_uses_asset_class = TRUE;
  stage_class->process = catena_stage_export_process;
  stage_class->write_output = catena_stage_export_write_output;

  properties[PROP_FORMAT] =
    g_param_spec_enum ("format", N_("Format"), N_("File format of the delivered image"),
                       CATENA_TYPE_EXPORT_FORMAT, CATENA_EXPORT_FORMAT_PNG,
                       G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_QUALITY] =
    g_param_spec_int ("quality", N_("Quality"), N_("JPEG and WebP quality (1–100)"), 1, 100, 90,
                      G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_LONG_EDGE] =
    g_param_spec_int ("long-edge", N_("Long edge"),
                      N_("Size of the longer side in pixels; 0 uses the asset class "
                         "(thumbnail 512, feed 1080, hero 3840, print 7680)"),
                      0, CATENA_IMAGE_MAX_EDGE, 0,
                      G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_MATTE] = catena_param_spec_color (
    "matte", N_("Matte"), N_("Colour behind transparent areas for formats without alpha (JPEG)"),
    "#ffffff");
  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
catena_stage_export_init (CatenaStageExport *self)
{
  self->format = CATENA_EXPORT_FORMAT_PNG;
  self->quality = 90;
  self->matte = g_strdup ("#ffffff");
}
