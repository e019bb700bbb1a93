/* SPDX-License-Identifier: GPL-3.0-or-later */
/* catena:recolor — every colour adjustment of the recolor stage fused into one point filter.
 *
 * Works on "R'G'B'A float" (sRGB-encoded, straight alpha): that is the working format every
 * stage hands on, so GEGL feeds the op without a conversion, and hue/saturation/contrast and
 * brand hues are meant perceptually (a designer's "#c8102e" is an sRGB-encoded colour).
 * The adjustments that are physically linear (exposure, white balance) are folded into a
 * per-channel tone curve that decodes, scales and re-encodes exactly, so they stay correct.
 *
 * Per pixel, in this order:
 *  1. Brand match. Hue is the angle around the grey axis in the chroma plane
 *       x = R' - (G' + B') / 2,   y = (√3 / 2) (G' - B')
 *     (red 0°, green 120°, blue 240°). A pixel whose hue lies within ±window/2 of the source
 *     hue is rotated about the grey axis by w·Δ, Δ = target − source (shortest way), with
 *     w = strength · (1 − smoothstep (window/4, window/2, |hue − source|)); a rotation leaves
 *     (R'+G'+B')/3 and the chroma unchanged and grey pixels where they are.
 *  2. Tone, per channel: v' → contrast (encode (gain_c · decode (v'))), where
 *     gain_c = 2^exposure · white-balance gain (temperature: R/B in opposite directions,
 *     tint: G against R+B, ±0.5 EV at ±100, normalised to keep the luminance of white), and
 *     contrast (v) = (v − ½) · 2^(contrast/50) + ½ around mid-grey of the encoded scale.
 *     On the power segment of the sRGB curve this whole map is exactly affine (see
 *     tone_affine()); only the dark toe uses a 256-step table, negatives follow by symmetry.
 *  3. One 3×3 matrix: hue shift = rotation by θ about the grey axis (Rodrigues), then
 *     saturation = lerp from Rec. 709 luma with factor 1 + saturation/100.
 * Alpha passes through. With all parameters at their defaults the op hands its input on. */
#include "config.h"

#include <math.h>
#ifdef __SSE__
#include <xmmintrin.h>
#endif

#include <gegl-plugin.h>
#include <operation/gegl-operation-point-filter.h>

#include "catena-ops.h"
#include "catena-ops-private.h"

#define TOE_LUT_SIZE   256   /* intervals over the dark end [0, toe), where the curve bends */
#define BRAND_LUT_SIZE 1024  /* steps over the hue window's half width */

struct _CatenaOpRecolor
{
  GeglOperationPointFilter parent_instance;

  /* properties */
  double hue;
  double saturation;
  double temperature;
  double tint;
  double exposure;
  double contrast;
  double target_hue;
  double source_hue;
  double brand_strength;
  double hue_window;

  /* Derived in prepare(), only after a property changed: GEGL calls prepare() about ten
   * times per render, and the tables take ~0.1 ms to build. Read-only while process() runs
   * on GEGL's threads. */
  GMutex   lock;
  gboolean dirty;
  gboolean tone_active;
  gboolean matrix_active;
  gboolean brand_active;
  gboolean brand_by_tangent;  /* window ≤ 180°: index by tan(distance), no atan2 */

  /* tone: above toe[c] the curve is exactly a[c]·v + b[c] (see tone_affine()) */
  float    gain[3];
  float    slope;
  float    a[3], b[3], toe[3], toe_scale[3];
  float    one_minus_slope;
  float    toe_lut[3][TOE_LUT_SIZE + 2];

  float    m[9];

  float    src_cos, src_sin;
  float    half_window;       /* radians */
  float    tan_half_window;
  float    brand_scale;       /* LUT index per radian, or per unit of tangent */
  float    brand_cos_m1[BRAND_LUT_SIZE + 1];  /* cos θ − 1 */
  float    brand_sin[BRAND_LUT_SIZE + 1];
};

G_DEFINE_TYPE (CatenaOpRecolor, catena_op_recolor, GEGL_TYPE_OPERATION_POINT_FILTER)

enum
{
  PROP_0,
  PROP_HUE,
  PROP_SATURATION,
  PROP_TEMPERATURE,
  PROP_TINT,
  PROP_EXPOSURE,
  PROP_CONTRAST,
  PROP_TARGET_HUE,
  PROP_SOURCE_HUE,
  PROP_BRAND_STRENGTH,
  PROP_HUE_WINDOW,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static inline double
srgb_decode (double v)
{
  double a = fabs (v);
  double r = a <= 0.04045 ? a / 12.92 : pow ((a + 0.055) / 1.055, 2.4);
  return v < 0 ? -r : r;
}

static inline double
srgb_encode (double v)
{
  double a = fabs (v);
  double r = a <= 0.0031308 ? a * 12.92 : 1.055 * pow (a, 1.0 / 2.4) - 0.055;
  return v < 0 ? -r : r;
}

static inline float
tone_exact (const CatenaOpRecolor *self,
            int                    channel,
            float                  v)
{
  double e = srgb_encode (self->gain[channel] * srgb_decode (v));
  return (float) ((e - 0.5) * self->slope + 0.5);
}

void
catena_recolor_white_balance_gains (double temperature,
                                    double tint,
                                    double gains[3])
{
  /* Warm raises red and lowers blue; positive tint goes magenta (less green), as in
   * photo editors. Normalised so that white keeps its luminance. */
  double t = CLAMP (temperature, -100, 100) / 100.0 * 0.5;
  double g = CLAMP (tint, -100, 100) / 100.0 * 0.5;
  double r = exp2 (t + g / 2), gg = exp2 (-g), b = exp2 (-t + g / 2);
  double y = 0.2126 * r + 0.7152 * gg + 0.0722 * b;

  gains[0] = r / y;
  gains[1] = gg / y;
  gains[2] = b / y;
}

void
catena_recolor_matrix (double hue_degrees,
                       double saturation,
                       double m[9])
{
  double th = hue_degrees * G_PI / 180.0;
  double c = cos (th), s = sin (th), k = (1 - c) / 3.0, q = s / CATENA_SQRT3;
  double h[9] = {
    c + k, k - q, k + q,
    k + q, c + k, k - q,
    k - q, k + q, c + k,
  };
  double f = 1 + CLAMP (saturation, -100, 100) / 100.0;
  const double w[3] = { 0.2126, 0.7152, 0.0722 };
  double sm[9];

  for (int i = 0; i < 3; i++)
    for (int j = 0; j < 3; j++)
      sm[i * 3 + j] = (1 - f) * w[j] + (i == j ? f : 0);
  for (int i = 0; i < 3; i++)
    for (int j = 0; j < 3; j++)
      m[i * 3 + j] = sm[i * 3 + 0] * h[0 * 3 + j] + sm[i * 3 + 1] * h[1 * 3 + j]
                     + sm[i * 3 + 2] * h[2 * 3 + j];
}

double
catena_recolor_brand_weight (double hue_distance_degrees,
                             double window_degrees)
{
  double d = fabs (hue_distance_degrees), e0 = window_degrees / 4, e1 = window_degrees / 2;
  double t;

  if (d <= e0)
    return 1;
  if (d >= e1)
    return 0;
  t = (d - e0) / (e1 - e0);
  return 1 - t * t * (3 - 2 * t);
}

/* encode (g · decode (v)) is g^(1/2.4) · (v + 0.055) − 0.055 wherever both v and the result
 * lie on the power segment of the sRGB curve, so exposure and white balance followed by the
 * contrast line are one exact affine map there. Only the dark toe needs a table. */
static void
tone_affine (double  gain,
             double  slope,
             double *a,
             double *b,
             double *toe)
{
  double k = pow (gain, 1 / 2.4);

  *a = slope * k;
  *b = slope * (0.055 * k - 0.055 - 0.5) + 0.5;
  *toe = MAX (0.04045, srgb_encode (0.0031308 / gain));
}

static void
catena_op_recolor_prepare (GeglOperation *operation)
{
  CatenaOpRecolor *self = CATENA_OP_RECOLOR (operation);
  const Babl *format = babl_format ("R'G'B'A float");
  double gains[3];
  double m[9];

  gegl_operation_set_format (operation, "input", format);
  gegl_operation_set_format (operation, "output", format);

  g_mutex_lock (&self->lock);
  if (!self->dirty)
    {
      g_mutex_unlock (&self->lock);
      return;
    }
  self->dirty = FALSE;

  catena_recolor_white_balance_gains (self->temperature, self->tint, gains);
  self->slope = (float) exp2 (self->contrast / 50.0);
  self->tone_active = self->exposure != 0 || self->temperature != 0 || self->tint != 0
                      || self->contrast != 0;
  for (int c = 0; c < 3; c++)
    {
      double a, b, toe;

      self->gain[c] = (float) (gains[c] * exp2 (self->exposure));
      tone_affine (self->gain[c], self->slope, &a, &b, &toe);
      self->a[c] = (float) a;
      self->b[c] = (float) b;
      self->toe[c] = (float) toe;
      self->toe_scale[c] = (float) (TOE_LUT_SIZE / toe);
      for (int i = 0; i <= TOE_LUT_SIZE; i++)
        self->toe_lut[c][i] = tone_exact (self, c, (float) (toe * i / TOE_LUT_SIZE));
      /* a rounding up to the last entry may read one past it */
      self->toe_lut[c][TOE_LUT_SIZE + 1] = self->toe_lut[c][TOE_LUT_SIZE];
    }
  self->one_minus_slope = 1 - self->slope;

  self->matrix_active = self->hue != 0 || self->saturation != 0;
  catena_recolor_matrix (self->hue, self->saturation, m);
  for (int i = 0; i < 9; i++)
    self->m[i] = (float) m[i];

  {
    double delta = fmod (self->target_hue - self->source_hue, 360.0);
    double window = MIN (self->hue_window, 359.0);
    double half = window / 2 * G_PI / 180.0;

    if (delta > 180)
      delta -= 360;
    else if (delta < -180)
      delta += 360;
    self->brand_active = self->brand_strength > 0 && fabs (delta) > 1e-6 && half > 0;
    self->brand_by_tangent = window < 179.0;
    self->src_cos = (float) cos (self->source_hue * G_PI / 180.0);
    self->src_sin = (float) sin (self->source_hue * G_PI / 180.0);
    self->half_window = (float) half;
    self->tan_half_window = self->brand_by_tangent ? (float) tan (half) : 0;
    self->brand_scale = (float) (BRAND_LUT_SIZE / (self->brand_by_tangent ? tan (half) : half));
    for (int i = 0; i <= BRAND_LUT_SIZE; i++)
      {
        double f = (double) i / BRAND_LUT_SIZE;
        double d = (self->brand_by_tangent ? atan (f * tan (half)) : f * half) * 180 / G_PI;
        double th = self->brand_strength * catena_recolor_brand_weight (d, window)
                    * delta * G_PI / 180.0;

        self->brand_cos_m1[i] = (float) (cos (th) - 1);
        self->brand_sin[i] = (float) sin (th);
      }
    /* the window's edge: process() sends every pixel outside the window here */
    self->brand_cos_m1[BRAND_LUT_SIZE] = 0;
    self->brand_sin[BRAND_LUT_SIZE] = 0;
  }
  g_mutex_unlock (&self->lock);
}

/* min/max that compile to minss/maxss: GCC keeps IEEE ?: semantics with a branch, and in a
 * photo whether a pixel is near the product hue is a coin flip the predictor loses. */
static inline float
min_f (float a,
       float b)
{
#ifdef __SSE__
  return _mm_cvtss_f32 (_mm_min_ss (_mm_set_ss (a), _mm_set_ss (b)));
#else
  return a < b ? a : b;
#endif
}

static inline float
max_f (float a,
       float b)
{
#ifdef __SSE__
  return _mm_cvtss_f32 (_mm_max_ss (_mm_set_ss (a), _mm_set_ss (b)));
#else
  return a > b ? a : b;
#endif
}

/* atan2 for y >= 0, in [0, π]; max error ~1e-5 rad (minimax polynomial on [0, 1]). */
static inline float
fast_atan2_pos (float y,
                float x)
{
  float ax = fabsf (x);
  float mx = ax > y ? ax : y, mn = ax > y ? y : ax;
  float z, z2, a;

  if (mx == 0)
    return 0;
  z = mn / mx;
  z2 = z * z;
  a = z * (0.99997726f + z2 * (-0.33262347f + z2 * (0.19354346f + z2 * (-0.11643287f
          + z2 * (0.05265332f + z2 * -0.01172120f)))));
  if (y > ax)
    a = (float) G_PI_2 - a;
  if (x < 0)
    a = (float) G_PI - a;
  return a;
}

/* The tone curve off its affine part: the dark toe from the table, negative values (out of
 * gamut, e.g. after a large brand rotation) by symmetry: sRGB encoding is odd, so with T the
 * curve on u = |v| and S the contrast slope, T(v) = 1 − S − T(u) for v < 0. */
static inline float
tone_slow (const CatenaOpRecolor *self,
           int                    c,
           float                  v)
{
  const float toe = self->toe[c];
  float u = __builtin_fabsf (v);  /* GEGL's fabsf goes through an integer register */
  float t;

  if (!(u >= 0.0f))
    return v;  /* NaN stays NaN */
  if (u >= toe)
    {
      t = self->a[c] * u + self->b[c];
    }
  else
    {
      const float *lut = self->toe_lut[c];
      float f = u * self->toe_scale[c];
      int i = (int) f;

      t = lut[i] + (f - i) * (lut[i + 1] - lut[i]);
    }
  return v >= 0.0f ? t : self->one_minus_slope - t;
}

static gboolean
catena_op_recolor_process (GeglOperation       *operation,
                           void                *in_buf,
                           void                *out_buf,
                           glong                samples,
                           const GeglRectangle *roi,
                           gint                 level)
{
  const CatenaOpRecolor *self = CATENA_OP_RECOLOR (operation);
  const float *in = in_buf;
  float *out = out_buf;
  const gboolean tone_active = self->tone_active;
  const gboolean matrix_active = self->matrix_active;
  const gboolean brand_active = self->brand_active;
  const float k = (float) (CATENA_SQRT3 / 2), inv_sqrt3 = (float) (1 / CATENA_SQRT3);
  const float cs = self->src_cos, sn = self->src_sin;
  const float a0 = self->a[0], a1 = self->a[1], a2 = self->a[2];
  const float b0 = self->b[0], b1 = self->b[1], b2 = self->b[2];
  const float toe0 = self->toe[0], toe1 = self->toe[1], toe2 = self->toe[2];
  const float *m = self->m;
  const gboolean by_tangent = self->brand_by_tangent;
  const float tan_half = self->tan_half_window, half_window = self->half_window;
  const float brand_scale = self->brand_scale;
  const float *cos_m1 = self->brand_cos_m1, *sin_t = self->brand_sin;

  /* Plain scalar code: writing single lanes of a vector spills it through memory, which
   * cost more than the arithmetic it saved once out-of-gamut pixels took the slow path. */
  for (glong n = 0; n < samples; n++, in += 4, out += 4)
    {
      float r = in[0], g = in[1], b = in[2];

      if (brand_active)
        {
          float x = r - 0.5f * (g + b);
          float y = k * (g - b);
          float xs = x * cs + y * sn;
          float ys = __builtin_fabsf (y * cs - x * sn);
          float c, s, dx, dy;
          int i;

          if (by_tangent)
            {
              /* Branch-free: outside the window, or behind the grey axis (xs ≤ 0, pushed out
               * by `behind`), the index lands on the table's last entry, a rotation by 0. */
              float ahead = max_f (xs, 1e-30f);
              float behind = max_f (-xs, 0.0f);
              float t = min_f ((ys + behind * 1e6f) / ahead, tan_half);

              i = (int) (t * brand_scale + 0.5f);
            }
          else
            {
              float d = fast_atan2_pos (ys, xs);

              i = d < half_window ? (int) (d * brand_scale + 0.5f) : BRAND_LUT_SIZE;
            }
          c = cos_m1[i];
          s = sin_t[i];
          dx = (x * c - y * s) * (1.0f / 3.0f);
          dy = (x * s + y * c) * inv_sqrt3;
          r += 2 * dx;
          g += dy - dx;
          b -= dy + dx;
        }

      if (tone_active)
        {
          /* most values take the affine part; the rest branch off */
          r = G_LIKELY (r >= toe0) ? a0 * r + b0 : tone_slow (self, 0, r);
          g = G_LIKELY (g >= toe1) ? a1 * g + b1 : tone_slow (self, 1, g);
          b = G_LIKELY (b >= toe2) ? a2 * b + b2 : tone_slow (self, 2, b);
        }

      if (matrix_active)
        {
          float nr = m[0] * r + m[1] * g + m[2] * b;
          float ng = m[3] * r + m[4] * g + m[5] * b;
          float nb = m[6] * r + m[7] * g + m[8] * b;

          r = nr;
          g = ng;
          b = nb;
        }

      out[0] = r;
      out[1] = g;
      out[2] = b;
      out[3] = in[3];
    }

  return TRUE;
}

static gboolean
catena_op_recolor_is_identity (CatenaOpRecolor *self)
{
  return !self->tone_active && !self->matrix_active && !self->brand_active;
}

static gboolean
catena_op_recolor_operation_process (GeglOperation        *operation,
                                     GeglOperationContext *context,
                                     const gchar          *output_prop,
                                     const GeglRectangle  *result,
                                     gint                  level)
{
  CatenaOpRecolor *self = CATENA_OP_RECOLOR (operation);

  /* An untouched stage costs nothing: hand the input buffer on. */
  if (catena_op_recolor_is_identity (self))
    {
      GObject *input = gegl_operation_context_get_object (context, "input");

      if (input != NULL)
        {
          gegl_operation_context_take_object (context, "output", g_object_ref (input));
          return TRUE;
        }
    }

  return GEGL_OPERATION_CLASS (catena_op_recolor_parent_class)->process (operation, context,
                                                                        output_prop, result,
                                                                        level);
}

static double *
catena_op_recolor_field (CatenaOpRecolor *self,
                         guint            prop_id)
{
  switch (prop_id)
    {
    case PROP_HUE: return &self->hue;
    case PROP_SATURATION: return &self->saturation;
    case PROP_TEMPERATURE: return &self->temperature;
    case PROP_TINT: return &self->tint;
    case PROP_EXPOSURE: return &self->exposure;
    case PROP_CONTRAST: return &self->contrast;
    case PROP_TARGET_HUE: return &self->target_hue;
    case PROP_SOURCE_HUE: return &self->source_hue;
    case PROP_BRAND_STRENGTH: return &self->brand_strength;
    case PROP_HUE_WINDOW: return &self->hue_window;
    default: return NULL;
    }
}

static void
catena_op_recolor_get_property (GObject    *object,
                                guint       prop_id,
                                GValue     *value,
                                GParamSpec *pspec)
{
  double *field = catena_op_recolor_field (CATENA_OP_RECOLOR (object), prop_id);

  if (field == NULL)
    {
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      return;
    }
  g_value_set_double (value, *field);
}

static void
catena_op_recolor_set_property (GObject      *object,
                                guint         prop_id,
                                const GValue *value,
                                GParamSpec   *pspec)
{
  CatenaOpRecolor *self = CATENA_OP_RECOLOR (object);
  double *field = catena_op_recolor_field (self, prop_id);

  if (field == NULL)
    {
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      return;
    }
  *field = g_value_get_double (value);
  g_mutex_lock (&self->lock);
  self->dirty = TRUE;
  g_mutex_unlock (&self->lock);
}

static void
catena_op_recolor_finalize (GObject *object)
{
  g_mutex_clear (&CATENA_OP_RECOLOR (object)->lock);
  G_OBJECT_CLASS (catena_op_recolor_parent_class)->finalize (object);
}

static void
catena_op_recolor_class_init (CatenaOpRecolorClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GeglOperationClass *operation_class = GEGL_OPERATION_CLASS (klass);
  GeglOperationPointFilterClass *point_class = GEGL_OPERATION_POINT_FILTER_CLASS (klass);
  const GParamFlags flags = G_PARAM_READWRITE | G_PARAM_CONSTRUCT | G_PARAM_STATIC_STRINGS;

  object_class->get_property = catena_op_recolor_get_property;
  object_class->set_property = catena_op_recolor_set_property;
  object_class->finalize = catena_op_recolor_finalize;

  operation_class->prepare = catena_op_recolor_prepare;
  operation_class->process = catena_op_recolor_operation_process;
  point_class->process = catena_op_recolor_process;

  properties[PROP_HUE] =
    g_param_spec_double ("hue", "Hue", "Rotates every hue by this many degrees.",
                         -180, 180, 0, flags);
  properties[PROP_SATURATION] =
    g_param_spec_double ("saturation", "Saturation",
                         "Percent more (or less) colourfulness; −100 makes the image grey.",
                         -100, 100, 0, flags);
  properties[PROP_TEMPERATURE] =
    g_param_spec_double ("temperature", "Temperature",
                         "Warms (positive) or cools (negative) the white balance.",
                         -100, 100, 0, flags);
  properties[PROP_TINT] =
    g_param_spec_double ("tint", "Tint",
                         "Shifts the white balance towards magenta (positive) or green.",
                         -100, 100, 0, flags);
  properties[PROP_EXPOSURE] =
    g_param_spec_double ("exposure", "Exposure",
                         "Brightens or darkens by this many stops (EV).", -5, 5, 0, flags);
  properties[PROP_CONTRAST] =
    g_param_spec_double ("contrast", "Contrast",
                         "Spreads (positive) or flattens tones around mid-grey.",
                         -100, 100, 0, flags);
  properties[PROP_TARGET_HUE] =
    g_param_spec_double ("target-hue", "Brand hue",
                         "The hue, in degrees, the product colour is moved to.",
                         0, 360, 0, flags);
  properties[PROP_SOURCE_HUE] =
    g_param_spec_double ("source-hue", "Product hue",
                         "The product's own hue, in degrees, that is moved to the brand hue.",
                         0, 360, 0, flags);
  properties[PROP_BRAND_STRENGTH] =
    g_param_spec_double ("brand-strength", "Brand strength",
                         "How far colours near the product hue move to the brand hue (0–1).",
                         0, 1, 0, flags);
  properties[PROP_HUE_WINDOW] =
    g_param_spec_double ("hue-window", "Hue window",
                         "Width, in degrees, of the band of hues around the product hue "
                         "that is moved.", 1, 360, 60, flags);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  gegl_operation_class_set_keys (operation_class,
                                 "name", "catena:recolor",
                                 "title", "Catena Recolor",
                                 "categories", "color",
                                 "description",
                                 "Exposure, white balance, contrast, hue, saturation and brand "
                                 "colour match in one pass.",
                                 NULL);
}

static void
catena_op_recolor_init (CatenaOpRecolor *self)
{
  self->hue_window = 60;
  self->dirty = TRUE;
  g_mutex_init (&self->lock);
}
