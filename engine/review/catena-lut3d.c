/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <gegl-plugin.h>
#include <glib/gi18n-lib.h>
#include <math.h>
#include <operation/gegl-operation-point-filter.h>
#include <string.h>

#include "catena-brand-kit.h"
#include "catena-image-io.h"

/* 3D LUTs in the .cube text format (Adobe "Cube LUT Specification 1.0", as written by
 * Resolve, Photoshop and most grading tools): keywords (TITLE, LUT_3D_SIZE, DOMAIN_MIN,
 * DOMAIN_MAX, and Resolve's LUT_3D_INPUT_RANGE) before the data, then size³ lines of
 * "r g b" with red changing fastest. Brand LUTs come from outside the company, so the parser
 * treats every file as hostile: bounded size, every number checked, one clear error. */

G_DEFINE_QUARK (catena-brand-error-quark, catena_brand_error)

static const GEnumValue interpolation_values[] = {
  { CATENA_LUT_INTERPOLATION_TETRAHEDRAL, "CATENA_LUT_INTERPOLATION_TETRAHEDRAL",
    "tetrahedral" },
  { CATENA_LUT_INTERPOLATION_TRILINEAR, "CATENA_LUT_INTERPOLATION_TRILINEAR", "trilinear" },
  { 0, NULL, NULL },
};

GType
catena_lut_interpolation_get_type (void)
{
  static gsize type_id;

  if (g_once_init_enter (&type_id))
    g_once_init_leave (&type_id, g_enum_register_static ("CatenaLutInterpolation",
                                                         interpolation_values));
  return type_id;
}

struct _CatenaLut3d
{
  gint   ref_count;
  guint  size;
  float  domain_min[3];
  float  domain_max[3];
  float *table;       /* size³ × 3, red fastest */
  char  *title;
  char  *checksum;
};

G_DEFINE_BOXED_TYPE (CatenaLut3d, catena_lut3d, catena_lut3d_ref, catena_lut3d_unref)

CatenaLut3d *
catena_lut3d_ref (CatenaLut3d *lut)
{
  g_return_val_if_fail (lut != NULL, NULL);
  g_atomic_int_inc (&lut->ref_count);
  return lut;
}

void
catena_lut3d_unref (CatenaLut3d *lut)
{
  g_return_if_fail (lut != NULL);
  if (g_atomic_int_dec_and_test (&lut->ref_count))
    {
      g_free (lut->table);
      g_free (lut->title);
      g_free (lut->checksum);
      g_free (lut);
    }
}

static CatenaLut3d *
lut_alloc (guint size)
{
  CatenaLut3d *lut = g_new0 (CatenaLut3d, 1);

  lut->ref_count = 1;
  lut->size = size;
  lut->table = g_new (float, (gsize) size * size * size * 3);
  for (int c = 0; c < 3; c++)
    {
      lut->domain_min[c] = 0;
      lut->domain_max[c] = 1;
    }
  return lut;
}

static void
lut_finish (CatenaLut3d *lut)
{
  g_autoptr (GChecksum) sum = g_checksum_new (G_CHECKSUM_SHA256);

  g_checksum_update (sum, (const guchar *) &lut->size, sizeof lut->size);
  g_checksum_update (sum, (const guchar *) lut->domain_min, sizeof lut->domain_min);
  g_checksum_update (sum, (const guchar *) lut->domain_max, sizeof lut->domain_max);
  g_checksum_update (sum, (const guchar *) lut->table,
                     (gsize) lut->size * lut->size * lut->size * 3 * sizeof (float));
  lut->checksum = g_strdup (g_checksum_get_string (sum));
}

CatenaLut3d *
catena_lut3d_new_identity (guint size)
{
  CatenaLut3d *lut;
  gsize i = 0;

  g_return_val_if_fail (size >= 2 && size <= CATENA_LUT3D_MAX_SIZE, NULL);
  lut = lut_alloc (size);
  for (guint b = 0; b < size; b++)
    for (guint g = 0; g < size; g++)
      for (guint r = 0; r < size; r++, i += 3)
        {
          lut->table[i] = (float) r / (size - 1);
          lut->table[i + 1] = (float) g / (size - 1);
          lut->table[i + 2] = (float) b / (size - 1);
        }
  lut->title = g_strdup ("Identity");
  lut_finish (lut);
  return lut;
}

static gboolean
lut_error (GError    **error,
           guint       line,
           const char *what)
{
  if (line > 0)
    g_set_error (error, CATENA_BRAND_ERROR, CATENA_BRAND_ERROR_LUT,
                 _("The LUT file is not a valid .cube file (line %u: %s). Export it again as a "
                   "3D .cube LUT."),
                 line, what);
  else
    g_set_error (error, CATENA_BRAND_ERROR, CATENA_BRAND_ERROR_LUT,
                 _("The LUT file is not a valid .cube file (%s). Export it again as a 3D .cube "
                   "LUT."),
                 what);
  return FALSE;
}

/* Parses exactly n finite numbers separated by blanks, nothing else but a trailing comment. */
static gboolean
parse_numbers (const char *s,
               guint       n,
               double     *out)
{
  for (guint i = 0; i < n; i++)
    {
      char *end;

      while (*s == ' ' || *s == '\t')
        s++;
      /* g_ascii_strtod takes "nan"/"inf" and hex floats: a .cube has only decimals */
      if (!(g_ascii_isdigit (*s) || *s == '-' || *s == '+' || *s == '.'))
        return FALSE;
      out[i] = g_ascii_strtod (s, &end);
      if (end == s || !isfinite (out[i]) || (*end != ' ' && *end != '\t' && *end != '\0' &&
                                             *end != '#'))
        return FALSE;
      s = end;
    }
  while (*s == ' ' || *s == '\t')
    s++;
  return *s == '\0' || *s == '#';
}

CatenaLut3d *
catena_lut3d_new_from_data (const char *data,
                            gssize      length,
                            GError    **error)
{
  g_autoptr (CatenaLut3d) lut = NULL;
  g_autofree char *title = NULL;
  const char *p, *end;
  gsize len, n_entries = 0, count = 0;
  float dmin[3] = { 0, 0, 0 }, dmax[3] = { 1, 1, 1 };
  guint line_no = 0;

  g_return_val_if_fail (data != NULL || length == 0, NULL);

  len = length < 0 ? strlen (data) : (gsize) length;
  if (len > CATENA_LUT3D_MAX_FILE)
    return lut_error (error, 0, _("larger than 96 MB")), NULL;
  if (memchr (data, '\0', len) != NULL)
    return lut_error (error, 0, _("it is binary, not text")), NULL;

  for (p = data, end = data + len; p < end; )
    {
      const char *nl = memchr (p, '\n', end - p);
      const char *line_end = nl ? nl : end;
      g_autofree char *line = NULL;
      char *s;

      line_no++;
      if (line_end - p > 4096)
        return lut_error (error, line_no, _("the line is too long")), NULL;
      line = g_strndup (p, line_end - p);
      p = nl ? nl + 1 : end;
      g_strchomp (line);  /* also removes the \r of CRLF files */
      s = line;
      while (*s == ' ' || *s == '\t')
        s++;
      if (*s == '\0' || *s == '#')
        continue;

      if (g_ascii_isalpha (*s))
        {
          char *arg = s;
          double v[3];

          while (*arg && *arg != ' ' && *arg != '\t')
            arg++;
          if (*arg)
            *arg++ = '\0';
          if (count > 0)
            return lut_error (error, line_no, _("a keyword after the table")), NULL;

          if (g_str_equal (s, "TITLE"))
            {
              g_free (title);
              title = g_strdup (g_strstrip (arg));
              if (title[0] == '"')
                {
                  gsize tl = strlen (title);
                  memmove (title, title + 1, tl);
                  if (tl >= 2 && title[tl - 2] == '"')
                    title[tl - 2] = '\0';
                }
              if (!g_utf8_validate (title, -1, NULL))
                {
                  g_free (title);
                  title = NULL;
                }
            }
          else if (g_str_equal (s, "LUT_3D_SIZE"))
            {
              if (lut != NULL)
                return lut_error (error, line_no, _("LUT_3D_SIZE is given twice")), NULL;
              /* Range first: floor() of a huge value is converted to an integer by GEGL's
               * fast floor (undefined behaviour, found by fuzzing). */
              if (!parse_numbers (arg, 1, v) || !(v[0] >= 2 && v[0] <= CATENA_LUT3D_MAX_SIZE) ||
                  v[0] != floor (v[0]))
                return lut_error (error, line_no,
                                  _("LUT_3D_SIZE must be a whole number from 2 to 129")), NULL;
              lut = lut_alloc ((guint) v[0]);
              n_entries = (gsize) lut->size * lut->size * lut->size;
            }
          else if (g_str_equal (s, "LUT_1D_SIZE"))
            return lut_error (error, line_no,
                              _("it is a 1D LUT; Catena applies 3D LUTs")), NULL;
          else if (g_str_equal (s, "DOMAIN_MIN") || g_str_equal (s, "DOMAIN_MAX"))
            {
              float *dst = s[7] == 'M' && s[8] == 'I' ? dmin : dmax;

              if (!parse_numbers (arg, 3, v))
                return lut_error (error, line_no, _("a domain needs three numbers")), NULL;
              for (int c = 0; c < 3; c++)
                dst[c] = v[c];
            }
          else if (g_str_equal (s, "LUT_3D_INPUT_RANGE"))
            {
              if (!parse_numbers (arg, 2, v))
                return lut_error (error, line_no, _("an input range needs two numbers")), NULL;
              for (int c = 0; c < 3; c++)
                {
                  dmin[c] = v[0];
                  dmax[c] = v[1];
                }
            }
          else if (g_str_equal (s, "LUT_1D_INPUT_RANGE"))
            continue;
          else
            return lut_error (error, line_no, _("unknown keyword")), NULL;
          continue;
        }

      {
        double v[3];

        if (lut == NULL)
          return lut_error (error, line_no, _("table data before LUT_3D_SIZE")), NULL;
        if (count >= n_entries)
          return lut_error (error, line_no, _("more table lines than LUT_3D_SIZE³")), NULL;
        if (!parse_numbers (s, 3, v))
          return lut_error (error, line_no, _("a table line needs three numbers")), NULL;
        for (int c = 0; c < 3; c++)
          {
            if (fabs (v[c]) > 1e6)
              return lut_error (error, line_no, _("a value is out of range")), NULL;
            lut->table[count * 3 + c] = (float) v[c];
          }
        count++;
      }
    }

  if (lut == NULL)
    return lut_error (error, 0, _("it has no LUT_3D_SIZE")), NULL;
  if (count != n_entries)
    {
      /* Plain %zu: xgettext cannot see through G_GSIZE_FORMAT. */
      g_autofree char *what = g_strdup_printf (_("%zu table lines where LUT_3D_SIZE %u needs %zu"),
                                               count, lut->size, n_entries);
      return lut_error (error, 0, what), NULL;
    }
  for (int c = 0; c < 3; c++)
    {
      if (!(dmax[c] > dmin[c]))
        return lut_error (error, 0, _("DOMAIN_MAX must be above DOMAIN_MIN")), NULL;
      lut->domain_min[c] = dmin[c];
      lut->domain_max[c] = dmax[c];
    }
  lut->title = g_steal_pointer (&title);
  lut_finish (lut);
  return g_steal_pointer (&lut);
}

CatenaLut3d *
catena_lut3d_load (const char *path,
                   GError    **error)
{
  g_autoptr (GMappedFile) map = NULL;
  g_autoptr (GError) local_error = NULL;
  g_autofree char *name = g_filename_display_basename (path);
  CatenaLut3d *lut;

  if (!(map = g_mapped_file_new (path, FALSE, &local_error)))
    {
      g_set_error (error, CATENA_BRAND_ERROR, CATENA_BRAND_ERROR_LUT,
                   _("Could not open the LUT “%s”: %s"), name, local_error->message);
      return NULL;
    }
  lut = catena_lut3d_new_from_data (g_mapped_file_get_contents (map),
                                    g_mapped_file_get_length (map), &local_error);
  if (lut == NULL)
    {
      g_set_error (error, local_error->domain, local_error->code, "“%s”: %s", name,
                   local_error->message);
      return NULL;
    }
  return lut;
}

guint
catena_lut3d_get_size (CatenaLut3d *lut)
{
  return lut->size;
}

const char *
catena_lut3d_get_title (CatenaLut3d *lut)
{
  return lut->title;
}

const char *
catena_lut3d_get_checksum (CatenaLut3d *lut)
{
  return lut->checksum;
}

void
catena_lut3d_get_entry (CatenaLut3d *lut,
                        guint        r,
                        guint        g,
                        guint        b,
                        float        out[3])
{
  gsize i;

  g_return_if_fail (r < lut->size && g < lut->size && b < lut->size);
  i = (((gsize) b * lut->size + g) * lut->size + r) * 3;
  out[0] = lut->table[i];
  out[1] = lut->table[i + 1];
  out[2] = lut->table[i + 2];
}

static inline void
lut_apply (const CatenaLut3d     *lut,
           CatenaLutInterpolation interpolation,
           const float            in[3],
           float                  out[3])
{
  const int n = lut->size;
  const gsize sr = 3, sg = (gsize) n * 3, sb = (gsize) n * n * 3;
  int i0[3];
  float f[3];
  const float *t = lut->table;

  for (int c = 0; c < 3; c++)
    {
      float x = (in[c] - lut->domain_min[c]) / (lut->domain_max[c] - lut->domain_min[c]);

      /* NaN compares false: it lands on 0 instead of indexing outside the table */
      x = x > 0 ? (x < 1 ? x : 1) : 0;
      x *= n - 1;
      i0[c] = MIN ((int) x, n - 2);
      f[c] = x - i0[c];
    }

  {
    const float *c000 = t + i0[0] * sr + i0[1] * sg + i0[2] * sb;
    const float *c100 = c000 + sr, *c010 = c000 + sg, *c001 = c000 + sb;
    const float *c110 = c000 + sr + sg, *c101 = c000 + sr + sb, *c011 = c000 + sg + sb;
    const float *c111 = c000 + sr + sg + sb;
    const float fr = f[0], fg = f[1], fb = f[2];

    if (interpolation == CATENA_LUT_INTERPOLATION_TRILINEAR)
      {
        for (int c = 0; c < 3; c++)
          {
            float x00 = c000[c] + fr * (c100[c] - c000[c]);
            float x10 = c010[c] + fr * (c110[c] - c010[c]);
            float x01 = c001[c] + fr * (c101[c] - c001[c]);
            float x11 = c011[c] + fr * (c111[c] - c011[c]);
            float y0 = x00 + fg * (x10 - x00);
            float y1 = x01 + fg * (x11 - x01);

            out[c] = y0 + fb * (y1 - y0);
          }
        return;
      }

    /* Tetrahedral: the cube is split into six tetrahedra along its grey diagonal, which keeps
     * neutrals neutral and needs four lookups instead of eight. */
    for (int c = 0; c < 3; c++)
      {
        float v;

        if (fr > fg)
          {
            if (fg > fb)
              v = c000[c] + fr * (c100[c] - c000[c]) + fg * (c110[c] - c100[c]) +
                  fb * (c111[c] - c110[c]);
            else if (fr > fb)
              v = c000[c] + fr * (c100[c] - c000[c]) + fb * (c101[c] - c100[c]) +
                  fg * (c111[c] - c101[c]);
            else
              v = c000[c] + fb * (c001[c] - c000[c]) + fr * (c101[c] - c001[c]) +
                  fg * (c111[c] - c101[c]);
          }
        else
          {
            if (fb > fg)
              v = c000[c] + fb * (c001[c] - c000[c]) + fg * (c011[c] - c001[c]) +
                  fr * (c111[c] - c011[c]);
            else if (fb > fr)
              v = c000[c] + fg * (c010[c] - c000[c]) + fb * (c011[c] - c010[c]) +
                  fr * (c111[c] - c011[c]);
            else
              v = c000[c] + fg * (c010[c] - c000[c]) + fr * (c110[c] - c010[c]) +
                  fb * (c111[c] - c110[c]);
          }
        out[c] = v;
      }
  }
}

void
catena_lut3d_apply (CatenaLut3d           *lut,
                    CatenaLutInterpolation interpolation,
                    const float            in[3],
                    float                  out[3])
{
  g_return_if_fail (lut != NULL);
  lut_apply (lut, interpolation, in, out);
}

/* ---------------------------------------------------------------------------------------- */
/* catena:lut3d */

#define CATENA_TYPE_OP_LUT3D (catena_op_lut3d_get_type ())
G_DECLARE_FINAL_TYPE (CatenaOpLut3d, catena_op_lut3d, CATENA, OP_LUT3D, GeglOperationPointFilter)

struct _CatenaOpLut3d
{
  GeglOperationPointFilter parent_instance;

  CatenaLut3d *lut;            /* set directly, or loaded from path */
  char *path;
  double strength;
  CatenaLutInterpolation interpolation;

  GMutex lock;                 /* path → lut happens in prepare(), maybe on several threads */
  gboolean path_loaded;
};

G_DEFINE_TYPE (CatenaOpLut3d, catena_op_lut3d, GEGL_TYPE_OPERATION_POINT_FILTER)

enum
{
  OP_PROP_0,
  OP_PROP_LUT,
  OP_PROP_PATH,
  OP_PROP_STRENGTH,
  OP_PROP_INTERPOLATION,
  OP_N_PROPS
};

static GParamSpec *op_properties[OP_N_PROPS];

static void
catena_op_lut3d_prepare (GeglOperation *operation)
{
  CatenaOpLut3d *self = CATENA_OP_LUT3D (operation);
  const Babl *format = babl_format ("R'G'B'A float");

  gegl_operation_set_format (operation, "input", format);
  gegl_operation_set_format (operation, "output", format);

  g_mutex_lock (&self->lock);
  if (self->lut == NULL && self->path != NULL && self->path[0] != '\0' && !self->path_loaded)
    {
      g_autoptr (GError) error = NULL;

      self->lut = catena_lut3d_load (self->path, &error);
      if (self->lut == NULL)
        g_warning ("catena:lut3d: %s", error->message);  /* ops cannot fail: pass through */
      self->path_loaded = TRUE;
    }
  g_mutex_unlock (&self->lock);
}

static gboolean
catena_op_lut3d_process (GeglOperation       *operation,
                         void                *in_buf,
                         void                *out_buf,
                         glong                samples,
                         const GeglRectangle *roi,
                         gint                 level)
{
  CatenaOpLut3d *self = CATENA_OP_LUT3D (operation);
  const float *in = in_buf;
  float *out = out_buf;
  const float s = self->strength;
  const CatenaLut3d *lut = self->lut;

  if (lut == NULL || s <= 0)
    {
      if (in != out)
        memcpy (out, in, samples * 4 * sizeof (float));
      return TRUE;
    }
  for (glong i = 0; i < samples; i++, in += 4, out += 4)
    {
      float mapped[3];

      lut_apply (lut, self->interpolation, in, mapped);
      out[0] = in[0] + s * (mapped[0] - in[0]);
      out[1] = in[1] + s * (mapped[1] - in[1]);
      out[2] = in[2] + s * (mapped[2] - in[2]);
      out[3] = in[3];
    }
  return TRUE;
}

static void
catena_op_lut3d_get_property (GObject    *object,
                              guint       prop_id,
                              GValue     *value,
                              GParamSpec *pspec)
{
  CatenaOpLut3d *self = CATENA_OP_LUT3D (object);

  switch (prop_id)
    {
    case OP_PROP_LUT:
      g_value_set_boxed (value, self->lut);
      break;
    case OP_PROP_PATH:
      g_value_set_string (value, self->path);
      break;
    case OP_PROP_STRENGTH:
      g_value_set_double (value, self->strength);
      break;
    case OP_PROP_INTERPOLATION:
      g_value_set_enum (value, self->interpolation);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
catena_op_lut3d_set_property (GObject      *object,
                              guint         prop_id,
                              const GValue *value,
                              GParamSpec   *pspec)
{
  CatenaOpLut3d *self = CATENA_OP_LUT3D (object);

  switch (prop_id)
    {
    case OP_PROP_LUT:
      g_mutex_lock (&self->lock);
      g_clear_pointer (&self->lut, catena_lut3d_unref);
      self->lut = g_value_dup_boxed (value);
      self->path_loaded = self->lut != NULL;
      g_mutex_unlock (&self->lock);
      break;
    case OP_PROP_PATH:
      g_mutex_lock (&self->lock);
      if (g_strcmp0 (self->path, g_value_get_string (value)) != 0)
        {
          g_free (self->path);
          self->path = g_value_dup_string (value);
          g_clear_pointer (&self->lut, catena_lut3d_unref);
          self->path_loaded = FALSE;
        }
      g_mutex_unlock (&self->lock);
      break;
    case OP_PROP_STRENGTH:
      self->strength = g_value_get_double (value);
      break;
    case OP_PROP_INTERPOLATION:
      self->interpolation = g_value_get_enum (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
catena_op_lut3d_finalize (GObject *object)
{
  CatenaOpLut3d *self = CATENA_OP_LUT3D (object);

  g_clear_pointer (&self->lut, catena_lut3d_unref);
  g_free (self->path);
  g_mutex_clear (&self->lock);
  G_OBJECT_CLASS (catena_op_lut3d_parent_class)->finalize (object);
}

static void
catena_op_lut3d_class_init (CatenaOpLut3dClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GeglOperationClass *operation_class = GEGL_OPERATION_CLASS (klass);
  GeglOperationPointFilterClass *point_class = GEGL_OPERATION_POINT_FILTER_CLASS (klass);
  const GParamFlags flags = G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS;

  object_class->get_property = catena_op_lut3d_get_property;
  object_class->set_property = catena_op_lut3d_set_property;
  object_class->finalize = catena_op_lut3d_finalize;
  operation_class->prepare = catena_op_lut3d_prepare;
  point_class->process = catena_op_lut3d_process;

  op_properties[OP_PROP_LUT] =
    g_param_spec_boxed ("lut", "LUT", "A loaded 3D LUT (takes precedence over path).",
                        CATENA_TYPE_LUT3D, flags);
  op_properties[OP_PROP_PATH] =
    g_param_spec_string ("path", "Path", "A .cube file to load.", NULL,
                         flags | G_PARAM_CONSTRUCT);
  op_properties[OP_PROP_STRENGTH] =
    g_param_spec_double ("strength", "Strength", "Mix of the graded and the original colour.",
                         0, 1, 1, flags | G_PARAM_CONSTRUCT);
  op_properties[OP_PROP_INTERPOLATION] =
    g_param_spec_enum ("interpolation", "Interpolation", "Between the LUT's grid points.",
                       CATENA_TYPE_LUT_INTERPOLATION, CATENA_LUT_INTERPOLATION_TETRAHEDRAL,
                       flags | G_PARAM_CONSTRUCT);
  g_object_class_install_properties (object_class, OP_N_PROPS, op_properties);

  gegl_operation_class_set_keys (operation_class,
                                 "name", "catena:lut3d",
                                 "title", "Catena 3D LUT",
                                 "categories", "color",
                                 "description",
                                 "Applies a .cube 3D LUT with tetrahedral or trilinear "
                                 "interpolation and a strength.",
                                 NULL);
}

static void
catena_op_lut3d_init (CatenaOpLut3d *self)
{
  self->strength = 1;
  g_mutex_init (&self->lock);
}

void
catena_lut3d_op_register (void)
{
  static gsize done;

  if (g_once_init_enter (&done))
    {
      /* GEGL learns the op's name when the class is initialised: keep it alive */
      g_type_class_ref (CATENA_TYPE_OP_LUT3D);
      g_once_init_leave (&done, 1);
    }
}
