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

/* Downscaling (the usual case: hero/print renders delivered at feed or thumbnail size) is a
 * box filter over linear, premultiplied pixels: it averages light correctly, edges of cut-outs
 * do not pick up the colour of transparent pixels, and it is ~50× faster than LoHalo. Rows are
 * produced in strips, so memory stays bounded whatever the size. Upscaling uses LoHalo. */
static GeglBuffer *
resize (GeglBuffer *input, int out_w, int out_h, CatenaStageContext *ctx, GError **error)
{
  const GeglRectangle *in = gegl_buffer_get_extent (input);
  const Babl *linear = babl_format ("RaGaBaA float");
  double sx = (double) out_w / in->width, sy = (double) out_h / in->height;
  g_autoptr (GeglBuffer) src = NULL;
  g_autoptr (GeglBuffer) out = NULL;
  g_autofree float *strip = NULL;
  const int rows = 64;

  if (sx > 1.0 || sy > 1.0)
    {
      g_autoptr (GeglNode) graph = gegl_node_new ();
      GeglNode *source, *shift, *scale;

      source = gegl_node_new_child (graph, "operation", "gegl:buffer-source", "buffer", input,
                                    NULL);
      shift = gegl_node_new_child (graph, "operation", "gegl:translate", "x", (double) -in->x,
                                   "y", (double) -in->y, NULL);
      scale = gegl_node_new_child (graph, "operation", "gegl:scale-ratio", "x", sx, "y", sy,
                                   "sampler", GEGL_SAMPLER_LOHALO, "abyss-policy",
                                   GEGL_ABYSS_CLAMP, NULL);
      gegl_node_link_many (source, shift, scale, NULL);
      return catena_render_node (scale, GEGL_RECTANGLE (0, 0, out_w, out_h),
                                 ctx ? ctx->cancellable : NULL, ctx ? ctx->progress : NULL,
                                 ctx ? ctx->progress_data : NULL, error);
    }

  /* gegl_buffer_get scales uniformly: the scale of the longer side gives the exact target. */
  src = gegl_buffer_new (GEGL_RECTANGLE (0, 0, in->width, in->height), linear);
  gegl_buffer_copy (input, in, GEGL_ABYSS_NONE, src, GEGL_RECTANGLE (0, 0, 0, 0));
  out = gegl_buffer_new (GEGL_RECTANGLE (0, 0, out_w, out_h), linear);
  strip = g_new (float, (gsize) out_w * rows * 4);
  for (int y = 0; y < out_h; y += rows)
    {
      int n = MIN (rows, out_h - y);

      if (g_cancellable_set_error_if_cancelled (ctx ? ctx->cancellable : NULL, error))
        return NULL;
      gegl_buffer_get (src, GEGL_RECTANGLE (0, y, out_w, n), MAX (sx, sy), linear, strip,
                       GEGL_AUTO_ROWSTRIDE, GEGL_ABYSS_CLAMP | GEGL_BUFFER_FILTER_BOX);
      gegl_buffer_set (out, GEGL_RECTANGLE (0, y, out_w, n), 0, linear, strip,
                       GEGL_AUTO_ROWSTRIDE);
      catena_stage_context_report_progress (ctx, (double) (y + n) / out_h);
    }
  return g_steal_pointer (&out);
}

/* Formats without alpha: composite over the matte in linear light, premultiplied. */
static GeglBuffer *
flatten (GeglBuffer *input, const double matte_srgb[3])
{
  const GeglRectangle *r = gegl_buffer_get_extent (input);
  const Babl *linear = babl_format ("RaGaBaA float");
  GeglBuffer *out = gegl_buffer_new (r, babl_format (CATENA_WORK_FORMAT));
  g_autofree float *strip = g_new (float, (gsize) r->width * 64 * 4);
  float matte[4] = { matte_srgb[0], matte_srgb[1], matte_srgb[2], 1.0f };

  babl_process (babl_fish (babl_format ("R'G'B'A float"), linear), matte, matte, 1);
  for (int y = 0; y < r->height; y += 64)
    {
      int n = MIN (64, r->height - y);
      GeglRectangle band = { r->x, r->y + y, r->width, n };

      gegl_buffer_get (input, &band, 1.0, linear, strip, GEGL_AUTO_ROWSTRIDE, GEGL_ABYSS_NONE);
      for (gsize i = 0; i < (gsize) r->width * n; i++)
        {
          float *p = strip + i * 4, k = 1.0f - p[3];
          p[0] += matte[0] * k;
          p[1] += matte[1] * k;
          p[2] += matte[2] * k;
          p[3] = 1.0f;
        }
      gegl_buffer_set (out, &band, 0, linear, strip, GEGL_AUTO_ROWSTRIDE);
    }
  return out;
}

static GeglBuffer *
catena_stage_export_process (CatenaStage *stage,
                             CatenaStageContext *ctx,
                             GeglBuffer *input,
                             GError **error)
{
  CatenaStageExport *self = CATENA_STAGE_EXPORT (stage);
  const GeglRectangle *in = gegl_buffer_get_extent (input);
  int edge = target_long_edge (self, ctx);
  double scale = (double) edge / MAX (in->width, in->height);
  int out_w = MAX (1, (int) round (in->width * scale));
  int out_h = MAX (1, (int) round (in->height * scale));
  g_autoptr (GeglBuffer) sized = NULL;

  if (out_w == in->width && out_h == in->height)
    sized = g_object_ref (input);
  else if (!(sized = resize (input, out_w, out_h, ctx, error)))
    return NULL;

  if (self->format == CATENA_EXPORT_FORMAT_JPEG)
    {
      double rgb[3] = { 1, 1, 1 };
      catena_parse_color (self->matte, rgb);
      return flatten (sized, rgb);
    }
  if (gegl_buffer_get_format (sized) == babl_format (CATENA_WORK_FORMAT) && in->x == 0 &&
      in->y == 0)
    return g_steal_pointer (&sized);
  {
    /* Normalise format and origin so every stage output looks alike. */
    GeglBuffer *out = gegl_buffer_new (GEGL_RECTANGLE (0, 0, out_w, out_h),
                                       babl_format (CATENA_WORK_FORMAT));
    gegl_buffer_copy (sized, NULL, GEGL_ABYSS_NONE, out, GEGL_RECTANGLE (0, 0, 0, 0));
    return out;
  }
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
