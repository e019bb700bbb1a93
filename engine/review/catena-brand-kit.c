/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <glib/gi18n-lib.h>
#include <math.h>
#include <string.h>

#include "catena-json-private.h"
#include "catena-brand-kit.h"
#include "catena-error.h"
#include "catena-image-io.h"
#include "catena-runner.h"

/* The brand kit and its conformance score. The score answers the brand manager's question
 * "is the product in our colours?": it finds the product's main colour (the most common
 * colour of the cut-out, so a small logo or a highlight does not drag it) and measures its
 * CIEDE2000 distance to the nearest palette swatch. */

#define SCORE_EDGE      512   /* pixels on the long edge looked at: plenty for a main colour */
#define BIN_SIZE        6.0   /* Lab units per histogram bin */
#define MAIN_RADIUS     10.0  /* ΔE76 around the main bin that counts as "that colour" */
#define BACKDROP_DE     8.0   /* ΔE76 to the border colour of the row that is backdrop */
#define DEFAULT_THRESHOLD 5.0

struct _CatenaBrandKit
{
  GObject parent_instance;

  char *name;
  GArray *swatches;      /* CatenaBrandSwatch */
  GArray *backdrops;     /* CatenaBrandBackdrop */
  GArray *loras;         /* CatenaBrandLora */
  char *lut;             /* as written */
  char *lut_abs;
  char *base_dir;
  double threshold;
};

G_DEFINE_FINAL_TYPE (CatenaBrandKit, catena_brand_kit, G_TYPE_OBJECT)

static void
swatch_clear (CatenaBrandSwatch *s)
{
  g_free (s->name);
  g_free (s->hex);
}

static void
backdrop_clear (CatenaBrandBackdrop *b)
{
  g_free (b->name);
  g_free (b->kind);
  g_free (b->color);
  g_free (b->color2);
}

static void
lora_clear (CatenaBrandLora *l)
{
  g_free (l->source);
  g_strfreev (l->triggers);
}

static void
catena_brand_kit_finalize (GObject *object)
{
  CatenaBrandKit *self = CATENA_BRAND_KIT (object);

  g_free (self->name);
  g_array_unref (self->swatches);
  g_array_unref (self->backdrops);
  g_array_unref (self->loras);
  g_free (self->lut);
  g_free (self->lut_abs);
  g_free (self->base_dir);
  G_OBJECT_CLASS (catena_brand_kit_parent_class)->finalize (object);
}

static void
catena_brand_kit_class_init (CatenaBrandKitClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = catena_brand_kit_finalize;
}

static void
catena_brand_kit_init (CatenaBrandKit *self)
{
  self->swatches = g_array_new (FALSE, TRUE, sizeof (CatenaBrandSwatch));
  g_array_set_clear_func (self->swatches, (GDestroyNotify) swatch_clear);
  self->backdrops = g_array_new (FALSE, TRUE, sizeof (CatenaBrandBackdrop));
  g_array_set_clear_func (self->backdrops, (GDestroyNotify) backdrop_clear);
  self->loras = g_array_new (FALSE, TRUE, sizeof (CatenaBrandLora));
  g_array_set_clear_func (self->loras, (GDestroyNotify) lora_clear);
  self->threshold = DEFAULT_THRESHOLD;
}

CatenaBrandKit *
catena_brand_kit_new (void)
{
  return g_object_new (CATENA_TYPE_BRAND_KIT, NULL);
}

static gboolean
invalid (GError    **error,
         const char *what)
{
  g_set_error (error, CATENA_BRAND_ERROR, CATENA_BRAND_ERROR_INVALID,
               _("The brand kit cannot be read: %s."), what);
  return FALSE;
}

static const char *
opt_string (JsonObject *o,
            const char *name)
{
  JsonNode *n = json_object_get_member (o, name);

  if (n == NULL || !JSON_NODE_HOLDS_VALUE (n) || json_node_get_value_type (n) != G_TYPE_STRING)
    return NULL;
  return json_node_get_string (n);
}

static gboolean
opt_number (JsonObject *o,
            const char *name,
            double     *out)
{
  JsonNode *n = json_object_get_member (o, name);
  GType t;

  if (n == NULL)
    return TRUE;
  t = JSON_NODE_HOLDS_VALUE (n) ? json_node_get_value_type (n) : G_TYPE_INVALID;
  if (t != G_TYPE_DOUBLE && t != G_TYPE_INT64)
    return FALSE;
  *out = json_node_get_double (n);
  return isfinite (*out);
}

gboolean
catena_brand_kit_add_swatch (CatenaBrandKit *self,
                             const char     *name,
                             const char     *hex,
                             GError        **error)
{
  CatenaBrandSwatch s = { 0 };
  double rgb[3];

  g_return_val_if_fail (CATENA_IS_BRAND_KIT (self), FALSE);

  if (name == NULL || name[0] == '\0' || !g_utf8_validate (name, -1, NULL))
    {
      g_set_error (error, CATENA_BRAND_ERROR, CATENA_BRAND_ERROR_BAD_COLOR,
                   _("A palette swatch needs a name."));
      return FALSE;
    }
  if (hex == NULL || strlen (hex) != 7 || !catena_parse_color (hex, rgb))
    {
      g_set_error (error, CATENA_BRAND_ERROR, CATENA_BRAND_ERROR_BAD_COLOR,
                   _("The swatch “%s” has the colour “%s”: write it as #rrggbb."), name,
                   hex ? hex : "");
      return FALSE;
    }
  s.name = g_strdup (name);
  s.hex = g_ascii_strdown (hex, -1);
  catena_srgb_to_lab (rgb, s.lab);
  g_array_append_val (self->swatches, s);
  return TRUE;
}

static gboolean
parse_into (CatenaBrandKit *self,
            JsonNode       *node,
            GError        **error)
{
  JsonObject *o;
  JsonNode *n;

  if (node == NULL || !JSON_NODE_HOLDS_OBJECT (node))
    return invalid (error, _("it is not a JSON object"));
  o = json_node_get_object (node);
  if (catena_json_int (o, "version", 1) > 1)
    return invalid (error, _("it was written by a newer Catena"));

  self->name = g_strdup (opt_string (o, "name"));
  if ((n = json_object_get_member (o, "palette")) != NULL)
    {
      JsonArray *a;

      if (!JSON_NODE_HOLDS_ARRAY (n))
        return invalid (error, _("“palette” is not a list"));
      a = json_node_get_array (n);
      for (guint i = 0; i < json_array_get_length (a); i++)
        {
          JsonNode *e = json_array_get_element (a, i);
          if (!JSON_NODE_HOLDS_OBJECT (e))
            return invalid (error, _("a palette entry is not an object"));
          if (!catena_brand_kit_add_swatch (self, opt_string (json_node_get_object (e), "name"),
                                            opt_string (json_node_get_object (e), "hex"),
                                            error))
            return FALSE;
        }
    }
  if ((n = json_object_get_member (o, "backdrops")) != NULL)
    {
      JsonArray *a;

      if (!JSON_NODE_HOLDS_ARRAY (n))
        return invalid (error, _("“backdrops” is not a list"));
      a = json_node_get_array (n);
      for (guint i = 0; i < json_array_get_length (a); i++)
        {
          JsonNode *e = json_array_get_element (a, i);
          CatenaBrandBackdrop b = { 0 };
          JsonObject *bo;
          double rgb[3];

          if (!JSON_NODE_HOLDS_OBJECT (e))
            return invalid (error, _("a backdrop is not an object"));
          bo = json_node_get_object (e);
          if (opt_string (bo, "name") == NULL || !catena_parse_color (opt_string (bo, "color"),
                                                                       rgb))
            return invalid (error, _("a backdrop needs a name and a #rrggbb colour"));
          if (opt_string (bo, "color2") && !catena_parse_color (opt_string (bo, "color2"), rgb))
            return invalid (error, _("a backdrop's second colour is not #rrggbb"));
          b.name = g_strdup (opt_string (bo, "name"));
          b.kind = g_strdup (opt_string (bo, "kind") ? opt_string (bo, "kind") : "solid");
          b.color = g_strdup (opt_string (bo, "color"));
          b.color2 = g_strdup (opt_string (bo, "color2"));
          b.shadow_strength = 0.4;
          if (!opt_number (bo, "shadow-strength", &b.shadow_strength))
            {
              backdrop_clear (&b);
              return invalid (error, _("a backdrop's shadow strength is not a number"));
            }
          g_array_append_val (self->backdrops, b);
        }
    }
  if ((n = json_object_get_member (o, "loras")) != NULL)
    {
      JsonArray *a;

      if (!JSON_NODE_HOLDS_ARRAY (n))
        return invalid (error, _("“loras” is not a list"));
      a = json_node_get_array (n);
      for (guint i = 0; i < json_array_get_length (a); i++)
        {
          JsonNode *e = json_array_get_element (a, i);
          CatenaBrandLora l = { 0 };
          JsonObject *lo;
          JsonNode *tn;
          g_autoptr (GStrvBuilder) triggers = g_strv_builder_new ();

          if (!JSON_NODE_HOLDS_OBJECT (e))
            return invalid (error, _("a LoRA entry is not an object"));
          lo = json_node_get_object (e);
          if (opt_string (lo, "source") == NULL)
            return invalid (error, _("a LoRA entry has no “source” path or URL"));
          l.strength = 1.0;
          if (!opt_number (lo, "strength", &l.strength))
            return invalid (error, _("a LoRA strength is not a number"));
          if ((tn = json_object_get_member (lo, "triggers")) != NULL)
            {
              JsonArray *ta;

              if (!JSON_NODE_HOLDS_ARRAY (tn))
                return invalid (error, _("a LoRA's trigger words are not a list"));
              ta = json_node_get_array (tn);
              for (guint k = 0; k < json_array_get_length (ta); k++)
                {
                  JsonNode *t = json_array_get_element (ta, k);
                  if (!JSON_NODE_HOLDS_VALUE (t) || json_node_get_value_type (t) != G_TYPE_STRING)
                    return invalid (error, _("a LoRA trigger word is not text"));
                  g_strv_builder_add (triggers, json_node_get_string (t));
                }
            }
          l.source = g_strdup (opt_string (lo, "source"));
          l.triggers = g_strv_builder_end (triggers);
          g_array_append_val (self->loras, l);
        }
    }
  if (opt_string (o, "lut") != NULL && opt_string (o, "lut")[0] != '\0')
    catena_brand_kit_set_lut_path (self, opt_string (o, "lut"));
  if (!opt_number (o, "threshold", &self->threshold) || self->threshold < 0)
    return invalid (error, _("“threshold” is not a positive number"));
  return TRUE;
}

CatenaBrandKit *
catena_brand_kit_new_from_json (JsonNode   *node,
                                const char *base_dir,
                                GError    **error)
{
  g_autoptr (CatenaBrandKit) self = catena_brand_kit_new ();

  self->base_dir = g_strdup (base_dir);
  if (!parse_into (self, node, error))
    return NULL;
  return g_steal_pointer (&self);
}

CatenaBrandKit *
catena_brand_kit_load (const char *path,
                       GError    **error)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (GError) local_error = NULL;
  g_autofree char *dir = g_path_get_dirname (path);
  g_autofree char *abs_dir = g_canonicalize_filename (dir, NULL);

  if (!json_parser_load_from_file (parser, path, &local_error))
    {
      g_autofree char *name = g_filename_display_basename (path);
      g_set_error (error, CATENA_BRAND_ERROR, CATENA_BRAND_ERROR_INVALID,
                   _("The brand kit “%s” cannot be read: %s"), name, local_error->message);
      return NULL;
    }
  return catena_brand_kit_new_from_json (json_parser_get_root (parser), abs_dir, error);
}

CatenaBrandKit *
catena_brand_kit_new_for_project (CatenaProject *project,
                                  GError       **error)
{
  g_autoptr (JsonNode) node = catena_project_dup_section (project, "brand-kit");
  g_autofree char *base = catena_project_dup_base_dir (project);
  CatenaBrandKit *self;

  if (node == NULL)
    {
      self = catena_brand_kit_new ();
      self->base_dir = g_steal_pointer (&base);
      return self;
    }
  return catena_brand_kit_new_from_json (node, base, error);
}

JsonNode *
catena_brand_kit_to_json (CatenaBrandKit *self)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "format");
  json_builder_add_string_value (b, "catena-brand-kit");
  json_builder_set_member_name (b, "version");
  json_builder_add_int_value (b, 1);
  if (self->name)
    {
      json_builder_set_member_name (b, "name");
      json_builder_add_string_value (b, self->name);
    }
  json_builder_set_member_name (b, "palette");
  json_builder_begin_array (b);
  for (guint i = 0; i < self->swatches->len; i++)
    {
      CatenaBrandSwatch *s = &g_array_index (self->swatches, CatenaBrandSwatch, i);
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "name");
      json_builder_add_string_value (b, s->name);
      json_builder_set_member_name (b, "hex");
      json_builder_add_string_value (b, s->hex);
      json_builder_end_object (b);
    }
  json_builder_end_array (b);
  json_builder_set_member_name (b, "backdrops");
  json_builder_begin_array (b);
  for (guint i = 0; i < self->backdrops->len; i++)
    {
      CatenaBrandBackdrop *d = &g_array_index (self->backdrops, CatenaBrandBackdrop, i);
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "name");
      json_builder_add_string_value (b, d->name);
      json_builder_set_member_name (b, "kind");
      json_builder_add_string_value (b, d->kind);
      json_builder_set_member_name (b, "color");
      json_builder_add_string_value (b, d->color);
      if (d->color2)
        {
          json_builder_set_member_name (b, "color2");
          json_builder_add_string_value (b, d->color2);
        }
      json_builder_set_member_name (b, "shadow-strength");
      json_builder_add_double_value (b, d->shadow_strength);
      json_builder_end_object (b);
    }
  json_builder_end_array (b);
  if (self->lut)
    {
      json_builder_set_member_name (b, "lut");
      json_builder_add_string_value (b, self->lut);
    }
  json_builder_set_member_name (b, "loras");
  json_builder_begin_array (b);
  for (guint i = 0; i < self->loras->len; i++)
    {
      CatenaBrandLora *l = &g_array_index (self->loras, CatenaBrandLora, i);
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "source");
      json_builder_add_string_value (b, l->source);
      json_builder_set_member_name (b, "strength");
      json_builder_add_double_value (b, l->strength);
      json_builder_set_member_name (b, "triggers");
      json_builder_begin_array (b);
      for (guint k = 0; l->triggers && l->triggers[k]; k++)
        json_builder_add_string_value (b, l->triggers[k]);
      json_builder_end_array (b);
      json_builder_end_object (b);
    }
  json_builder_end_array (b);
  json_builder_set_member_name (b, "threshold");
  json_builder_add_double_value (b, self->threshold);
  json_builder_end_object (b);
  return json_builder_get_root (b);
}

void
catena_brand_kit_save_to_project (CatenaBrandKit *self,
                                  CatenaProject  *project)
{
  g_autoptr (JsonNode) node = catena_brand_kit_to_json (self);

  catena_project_set_section (project, "brand-kit", node);
}

const char *
catena_brand_kit_get_name (CatenaBrandKit *self)
{
  return self->name;
}

guint
catena_brand_kit_get_n_swatches (CatenaBrandKit *self)
{
  return self->swatches->len;
}

const CatenaBrandSwatch *
catena_brand_kit_get_swatch (CatenaBrandKit *self,
                             guint           index)
{
  g_return_val_if_fail (index < self->swatches->len, NULL);
  return &g_array_index (self->swatches, CatenaBrandSwatch, index);
}

guint
catena_brand_kit_get_n_backdrops (CatenaBrandKit *self)
{
  return self->backdrops->len;
}

const CatenaBrandBackdrop *
catena_brand_kit_get_backdrop (CatenaBrandKit *self,
                               guint           index)
{
  g_return_val_if_fail (index < self->backdrops->len, NULL);
  return &g_array_index (self->backdrops, CatenaBrandBackdrop, index);
}

guint
catena_brand_kit_get_n_loras (CatenaBrandKit *self)
{
  return self->loras->len;
}

const CatenaBrandLora *
catena_brand_kit_get_lora (CatenaBrandKit *self,
                           guint           index)
{
  g_return_val_if_fail (index < self->loras->len, NULL);
  return &g_array_index (self->loras, CatenaBrandLora, index);
}

const char *
catena_brand_kit_get_lut_path (CatenaBrandKit *self)
{
  return self->lut_abs;
}

void
catena_brand_kit_set_lut_path (CatenaBrandKit *self,
                               const char     *path)
{
  g_free (self->lut);
  g_free (self->lut_abs);
  self->lut = g_strdup (path);
  self->lut_abs = path ? g_canonicalize_filename (path, self->base_dir) : NULL;
}

double
catena_brand_kit_get_threshold (CatenaBrandKit *self)
{
  return self->threshold;
}

void
catena_brand_kit_set_threshold (CatenaBrandKit *self,
                                double          threshold)
{
  self->threshold = MAX (0, threshold);
}

/* ---------------------------------------------------------------------------------------- */
/* Scoring */

static double
de76 (const double a[3],
      const double b[3])
{
  return sqrt ((a[0] - b[0]) * (a[0] - b[0]) + (a[1] - b[1]) * (a[1] - b[1]) +
               (a[2] - b[2]) * (a[2] - b[2]));
}

gboolean
catena_brand_kit_score_buffer (CatenaBrandKit   *self,
                               GeglBuffer       *buffer,
                               gboolean          mask_backdrop,
                               CatenaBrandScore *score,
                               GError          **error)
{
  const GeglRectangle *extent;
  g_autofree float *px = NULL;
  g_autofree double *labs = NULL;
  g_autoptr (GHashTable) bins = NULL;
  double scale, best_lab[3] = { 0, 0, 0 }, main_lab[3] = { 0, 0, 0 }, best_de = G_MAXDOUBLE;
  int w, h;
  guint n = 0, best_count = 0, n_main = 0;
  gpointer best_key = NULL;
  GHashTableIter iter;
  gpointer key, value;
  const CatenaBrandSwatch *nearest;

  g_return_val_if_fail (CATENA_IS_BRAND_KIT (self), FALSE);
  g_return_val_if_fail (GEGL_IS_BUFFER (buffer), FALSE);
  g_return_val_if_fail (score != NULL, FALSE);

  memset (score, 0, sizeof *score);
  if (self->swatches->len == 0)
    {
      g_set_error (error, CATENA_BRAND_ERROR, CATENA_BRAND_ERROR_NO_PALETTE,
                   _("The brand kit has no palette to compare with: add the brand's colours "
                     "first."));
      return FALSE;
    }
  extent = gegl_buffer_get_extent (buffer);
  if (extent->width <= 0 || extent->height <= 0)
    goto no_product;
  scale = MIN (1.0, (double) SCORE_EDGE / MAX (extent->width, extent->height));
  w = MAX (1, (int) floor (extent->width * scale));
  h = MAX (1, (int) floor (extent->height * scale));
  px = g_new (float, (gsize) w * h * 4);
  gegl_buffer_get (buffer,
                   GEGL_RECTANGLE ((int) floor (extent->x * scale), (int) floor (extent->y * scale),
                                   w, h),
                   scale, babl_format (CATENA_WORK_FORMAT), px, GEGL_AUTO_ROWSTRIDE,
                   GEGL_ABYSS_CLAMP);

  labs = g_new (double, (gsize) w * h * 3);
  bins = g_hash_table_new (g_direct_hash, g_direct_equal);
  for (int y = 0; y < h; y++)
    {
      double left[3], right[3];

      if (mask_backdrop)
        {
          const float *l = px + (gsize) y * w * 4, *r = px + ((gsize) y * w + w - 1) * 4;
          double lr[3] = { l[0], l[1], l[2] }, rr[3] = { r[0], r[1], r[2] };
          catena_srgb_to_lab (lr, left);
          catena_srgb_to_lab (rr, right);
        }
      for (int x = 0; x < w; x++)
        {
          const float *p = px + ((gsize) y * w + x) * 4;
          double rgb[3] = { CLAMP (p[0], 0, 1), CLAMP (p[1], 0, 1), CLAMP (p[2], 0, 1) };
          double *lab = labs + (gsize) n * 3;
          guint bl, ba, bb, k;

          if (!(p[3] > 0.5f))
            continue;
          catena_srgb_to_lab (rgb, lab);
          if (mask_backdrop && (de76 (lab, left) < BACKDROP_DE || de76 (lab, right) < BACKDROP_DE))
            continue;
          /* 6-unit bins over L 0..100, a/b -128..127: fits a 10+6+6 bit key */
          bl = (guint) CLAMP (lab[0] / BIN_SIZE, 0, 63);
          ba = (guint) CLAMP ((lab[1] + 128) / BIN_SIZE, 0, 63);
          bb = (guint) CLAMP ((lab[2] + 128) / BIN_SIZE, 0, 63);
          k = 1 + (bl << 12 | ba << 6 | bb);
          g_hash_table_insert (bins, GUINT_TO_POINTER (k),
                               GUINT_TO_POINTER (GPOINTER_TO_UINT (
                                                   g_hash_table_lookup (bins,
                                                                        GUINT_TO_POINTER (k))) +
                                                 1));
          n++;
        }
    }
  if (n == 0)
    goto no_product;

  g_hash_table_iter_init (&iter, bins);
  while (g_hash_table_iter_next (&iter, &key, &value))
    if (GPOINTER_TO_UINT (value) > best_count)
      {
        best_count = GPOINTER_TO_UINT (value);
        best_key = key;
      }
  {
    guint k = GPOINTER_TO_UINT (best_key) - 1;
    best_lab[0] = ((k >> 12) + 0.5) * BIN_SIZE;
    best_lab[1] = (((k >> 6) & 63) + 0.5) * BIN_SIZE - 128;
    best_lab[2] = ((k & 63) + 0.5) * BIN_SIZE - 128;
  }
  /* The main colour: the mean of the pixels around the fullest bin, not its centre. */
  for (guint i = 0; i < n; i++)
    if (de76 (labs + i * 3, best_lab) < MAIN_RADIUS)
      {
        for (int c = 0; c < 3; c++)
          main_lab[c] += labs[i * 3 + c];
        n_main++;
      }
  for (int c = 0; c < 3; c++)
    main_lab[c] /= MAX (1, n_main);

  /* there is at least one swatch (checked above) */
  nearest = &g_array_index (self->swatches, CatenaBrandSwatch, 0);
  for (guint i = 0; i < self->swatches->len; i++)
    {
      const CatenaBrandSwatch *s = &g_array_index (self->swatches, CatenaBrandSwatch, i);
      double de = catena_delta_e_2000 (main_lab, s->lab);

      if (de < best_de)
        {
          best_de = de;
          nearest = s;
        }
    }

  score->delta_e = best_de;
  score->swatch_name = nearest->name;
  score->swatch_hex = nearest->hex;
  memcpy (score->product_lab, main_lab, sizeof main_lab);
  {
    /* Lab → sRGB hex for people: the mean of the pixels themselves is good enough here */
    double rgb[3] = { 0, 0, 0 };
    guint m = 0;
    int written;

    for (int y = 0; y < h; y++)
      for (int x = 0; x < w; x++)
        {
          const float *p = px + ((gsize) y * w + x) * 4;
          double rgbp[3] = { CLAMP (p[0], 0, 1), CLAMP (p[1], 0, 1), CLAMP (p[2], 0, 1) };
          double lab[3];

          if (!(p[3] > 0.5f))
            continue;
          catena_srgb_to_lab (rgbp, lab);
          if (de76 (lab, main_lab) < MAIN_RADIUS / 2)
            {
              for (int c = 0; c < 3; c++)
                rgb[c] += rgbp[c];
              m++;
            }
        }
    for (int c = 0; c < 3; c++)
      rgb[c] = m ? rgb[c] / m : 0;
    written = g_snprintf (score->product_hex, sizeof score->product_hex, "#%02x%02x%02x",
                          (int) lround (rgb[0] * 255), (int) lround (rgb[1] * 255),
                          (int) lround (rgb[2] * 255));
    g_warn_if_fail (written == 7);
  }
  score->coverage = (double) n_main / n;
  score->n_pixels = n;
  score->flagged = best_de > self->threshold;
  return TRUE;

no_product:
  g_set_error (error, CATENA_BRAND_ERROR, CATENA_BRAND_ERROR_NO_PRODUCT,
               _("There is no product to score: the image is empty or fully transparent."));
  return FALSE;
}

gboolean
catena_brand_kit_score_asset (CatenaBrandKit   *self,
                              CatenaProject    *project,
                              CatenaAsset      *asset,
                              GCancellable     *cancellable,
                              CatenaBrandScore *score,
                              GError          **error)
{
  CatenaChain *chain = catena_project_get_chain (project);
  guint n = catena_chain_get_n_stages (chain);
  g_autofree char *base = catena_project_dup_base_dir (project);
  g_auto (GStrv) keys = NULL;
  g_autoptr (GeglBuffer) buffer = NULL;
  int index = -1;

  g_return_val_if_fail (CATENA_IS_BRAND_KIT (self), FALSE);

  if (n == 0)
    {
      g_set_error (error, CATENA_BRAND_ERROR, CATENA_BRAND_ERROR_NOT_RUN,
                   _("The chain is empty: there is nothing to score."));
      return FALSE;
    }
  for (guint i = 0; i < n; i++)
    if (g_str_equal (catena_stage_get_kind (catena_chain_get_stage (chain, i)),
                     "remove-background"))
      index = i;
  if (!(keys = catena_chain_compute_keys (chain, asset, base, cancellable, error)))
    return FALSE;
  buffer = catena_cache_lookup (catena_cache_get_default (), keys[index >= 0 ? index : (int) n - 1],
                                error);
  if (buffer == NULL)
    {
      if (error && *error == NULL)
        g_set_error (error, CATENA_BRAND_ERROR, CATENA_BRAND_ERROR_NOT_RUN,
                     _("“%s” has not been run with the current chain: run it, then score it."),
                     catena_asset_get_id (asset));
      return FALSE;
    }
  /* The cut-out's alpha is the product; a finished image needs its backdrop left out. */
  return catena_brand_kit_score_buffer (self, buffer, index < 0, score, error);
}
