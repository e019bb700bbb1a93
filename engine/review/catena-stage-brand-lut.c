/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <glib/gi18n-lib.h>

#include "catena-brand-kit.h"
#include "catena-cache.h"
#include "catena-error.h"
#include "catena-image-io.h"
#include "catena-stage-private.h"

G_DECLARE_FINAL_TYPE (CatenaStageBrandLut, catena_stage_brand_lut, CATENA, STAGE_BRAND_LUT,
                      CatenaStage)

/* The brand's look as a 3D LUT (.cube from the grading suite), with a strength so a designer
 * can dial it back per asset. A point operation: the same catena:lut3d node serves the render
 * and the live preview. The LUT's content, not just its path, is part of the cache key, so a
 * re-exported LUT at the same path re-runs the stage. */
struct _CatenaStageBrandLut
{
  CatenaStage parent_instance;

  char *lut;
  double strength;
  CatenaLutInterpolation interpolation;

  GMutex lock;            /* the loaded LUT is shared by process() and previews */
  char *loaded_path;
  CatenaLut3d *loaded;
};

G_DEFINE_FINAL_TYPE (CatenaStageBrandLut, catena_stage_brand_lut, CATENA_TYPE_STAGE)

enum
{
  PROP_0,
  PROP_LUT,
  PROP_STRENGTH,
  PROP_INTERPOLATION,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static char *
resolve (CatenaStageBrandLut *self,
         const char          *base_dir)
{
  if (self->lut == NULL || self->lut[0] == '\0')
    return NULL;
  if (g_path_is_absolute (self->lut) || base_dir == NULL)
    return g_canonicalize_filename (self->lut, NULL);
  return g_canonicalize_filename (self->lut, base_dir);
}

static CatenaLut3d *
get_lut (CatenaStageBrandLut *self,
         const char          *base_dir,
         GError             **error)
{
  g_autofree char *path = resolve (self, base_dir);
  CatenaLut3d *lut;

  if (path == NULL)
    {
      g_set_error (error, CATENA_STAGE_ERROR, CATENA_STAGE_ERROR_INVALID_PARAMETER,
                   _("Brand LUT has no LUT file: choose the brand's .cube file."));
      return NULL;
    }
  g_mutex_lock (&self->lock);
  if (self->loaded != NULL && g_strcmp0 (self->loaded_path, path) == 0)
    {
      lut = catena_lut3d_ref (self->loaded);
      g_mutex_unlock (&self->lock);
      return lut;
    }
  g_mutex_unlock (&self->lock);

  if (!(lut = catena_lut3d_load (path, error)))
    return NULL;
  g_mutex_lock (&self->lock);
  g_clear_pointer (&self->loaded, catena_lut3d_unref);
  self->loaded = catena_lut3d_ref (lut);
  g_free (self->loaded_path);
  self->loaded_path = g_steal_pointer (&path);
  g_mutex_unlock (&self->lock);
  return lut;
}

static GeglBuffer *
catena_stage_brand_lut_process (CatenaStage        *stage,
                                CatenaStageContext *ctx,
                                GeglBuffer         *input,
                                GError            **error)
{
  CatenaStageBrandLut *self = CATENA_STAGE_BRAND_LUT (stage);
  g_autoptr (CatenaLut3d) lut = NULL;
  g_autoptr (GeglNode) graph = NULL;
  GeglNode *source, *op;
  GeglRectangle extent;

  if (input == NULL)
    {
      g_set_error (error, CATENA_STAGE_ERROR, CATENA_STAGE_ERROR_MISSING_INPUT,
                   _("Brand LUT needs an image before it."));
      return NULL;
    }
  if (!(lut = get_lut (self, ctx ? ctx->base_dir : NULL, error)))
    return NULL;
  extent = *gegl_buffer_get_extent (input);

  catena_lut3d_op_register ();
  graph = gegl_node_new ();
  source = gegl_node_new_child (graph, "operation", "gegl:buffer-source", "buffer", input, NULL);
  op = gegl_node_new_child (graph, "operation", "catena:lut3d", "lut", lut, "strength",
                            self->strength, "interpolation", self->interpolation, NULL);
  gegl_node_link (source, op);
  return catena_render_node (op, &extent, ctx ? ctx->cancellable : NULL,
                             ctx ? ctx->progress : NULL, ctx ? ctx->progress_data : NULL,
                             error);
}

static GeglNode *
catena_stage_brand_lut_build_preview (CatenaStage *stage,
                                      GeglNode    *parent,
                                      GeglNode    *input)
{
  CatenaStageBrandLut *self = CATENA_STAGE_BRAND_LUT (stage);
  g_autoptr (CatenaLut3d) lut = get_lut (self, NULL, NULL);
  GeglNode *node;

  catena_lut3d_op_register ();
  node = gegl_node_new_child (parent, "operation", "catena:lut3d", "lut", lut, "strength",
                              self->strength, "interpolation", self->interpolation, NULL);
  gegl_node_connect_to (input, "output", node, "input");
  return node;
}

/* The LUT's content: the key must change when the file does. Relative paths resolve against
 * the working directory here (the hook has no run context). */
static char *
catena_stage_brand_lut_engine_identity (CatenaStage *stage)
{
  CatenaStageBrandLut *self = CATENA_STAGE_BRAND_LUT (stage);
  g_autofree char *path = resolve (self, NULL);
  char *hash = path ? catena_hash_file (path, NULL, NULL) : NULL;

  return hash ? hash : g_strdup ("missing");
}

static void
catena_stage_brand_lut_get_property (GObject    *object,
                                     guint       prop_id,
                                     GValue     *value,
                                     GParamSpec *pspec)
{
  CatenaStageBrandLut *self = CATENA_STAGE_BRAND_LUT (object);

  switch (prop_id)
    {
    case PROP_LUT:
      g_value_set_string (value, self->lut);
      break;
    case PROP_STRENGTH:
      g_value_set_double (value, self->strength);
      break;
    case PROP_INTERPOLATION:
      g_value_set_enum (value, self->interpolation);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
catena_stage_brand_lut_set_property (GObject      *object,
                                     guint         prop_id,
                                     const GValue *value,
                                     GParamSpec   *pspec)
{
  CatenaStageBrandLut *self = CATENA_STAGE_BRAND_LUT (object);

  switch (prop_id)
    {
    case PROP_LUT:
      if (g_strcmp0 (self->lut, g_value_get_string (value)) == 0)
        return;
      g_free (self->lut);
      self->lut = g_value_dup_string (value);
      break;
    case PROP_STRENGTH:
      if (self->strength == g_value_get_double (value))
        return;
      self->strength = g_value_get_double (value);
      break;
    case PROP_INTERPOLATION:
      if (self->interpolation == (CatenaLutInterpolation) g_value_get_enum (value))
        return;
      self->interpolation = g_value_get_enum (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      return;
    }
  g_object_notify_by_pspec (object, pspec);
}

static void
catena_stage_brand_lut_finalize (GObject *object)
{
  CatenaStageBrandLut *self = CATENA_STAGE_BRAND_LUT (object);

  g_free (self->lut);
  g_free (self->loaded_path);
  g_clear_pointer (&self->loaded, catena_lut3d_unref);
  g_mutex_clear (&self->lock);
  G_OBJECT_CLASS (catena_stage_brand_lut_parent_class)->finalize (object);
}

static void
catena_stage_brand_lut_class_init (CatenaStageBrandLutClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  CatenaStageClass *stage_class = CATENA_STAGE_CLASS (klass);
  const GParamFlags flags = G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS;

  object_class->get_property = catena_stage_brand_lut_get_property;
  object_class->set_property = catena_stage_brand_lut_set_property;
  object_class->finalize = catena_stage_brand_lut_finalize;

  stage_class->kind = "brand-lut";
  stage_class->title = N_("Brand LUT");
  stage_class->description = N_("Apply the brand's colour look from a 3D LUT (.cube)");
  stage_class->icon_name = "applications-graphics-symbolic";
  stage_class->needs_input = TRUE;
  stage_class->process = catena_stage_brand_lut_process;
  stage_class->build_preview = catena_stage_brand_lut_build_preview;
  stage_class->engine_identity = catena_stage_brand_lut_engine_identity;

  properties[PROP_LUT] =
    g_param_spec_string ("lut", N_("LUT file"),
                         N_("The brand's 3D LUT, a .cube file (relative to the project)"), "",
                         flags);
  properties[PROP_STRENGTH] =
    g_param_spec_double ("strength", N_("Strength"),
                         N_("How much of the LUT's look is applied (0 none, 1 all)"), 0, 1, 1,
                         flags);
  properties[PROP_INTERPOLATION] =
    g_param_spec_enum ("interpolation", N_("Interpolation"),
                       N_("How colours between the LUT's grid points are computed"),
                       CATENA_TYPE_LUT_INTERPOLATION, CATENA_LUT_INTERPOLATION_TETRAHEDRAL,
                       flags);
  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
catena_stage_brand_lut_init (CatenaStageBrandLut *self)
{
  self->lut = g_strdup ("");
  self->strength = 1;
  g_mutex_init (&self->lock);
}
