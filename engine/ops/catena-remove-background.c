/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Classical background removal for studio packshots (no model needed).
 *
 * 1. Work on a proxy of at most WORK_PIXELS (the mask is smooth; only its edge needs detail,
 *    and the full-resolution pass below interpolates it), in CIE Lab.
 * 2. Background model: a quadratic surface in (x, y) per Lab channel, least-squares fitted to
 *    a ring of border pixels and refitted without outliers, so a studio gradient or vignette
 *    is modelled and a product touching the border is not; plus the main colours of the border
 *    (k-means, clusters covering ≥ 8 % of it) for backdrops that are not smooth. Distance to
 *    the backdrop is the smaller of the two. The border's median distance is its noise: the
 *    threshold is max (tolerance, min (4 × noise, 2.5 × tolerance)).
 * 3. Background = pixels under the threshold that a flood fill from the border reaches, so a
 *    white label on a product on white stays. Foreground specks (noise, dust) are dropped.
 * 4. Edge: along the boundary alpha = distance / distance of the nearby solid product, which
 *    recovers anti-aliased edges; then a Gaussian feather of `softness` pixels.
 * 5. Full resolution: input alpha × bilinearly interpolated mask, streamed tile by tile. */
#include "config.h"

#include <math.h>
#include <string.h>

#include <glib/gi18n-lib.h>

#include "catena-error.h"
#include "catena-ops.h"

#define WORK_PIXELS (1536 * 1024)
#define N_BASIS     6
#define L_WEIGHT    0.75  /* shading and soft shadows change L more than hue */

typedef struct
{
  int    width, height;
  float *lab;     /* L, a, b, alpha */
  float *dist;    /* distance to the background model */
  guint8 *bg;     /* 1 background, 0 foreground */
  float *alpha;
} Work;

static void
work_clear (Work *w)
{
  g_clear_pointer (&w->lab, g_free);
  g_clear_pointer (&w->dist, g_free);
  g_clear_pointer (&w->bg, g_free);
  g_clear_pointer (&w->alpha, g_free);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Work, work_clear)

#define MAX_CLUSTERS  6
#define MIN_SHARE     0.08  /* a backdrop colour covers at least this share of the border */

/* The backdrop: a smooth surface for studio sweeps, plus the main colours of the border for
 * backdrops that are not smooth (a table top, a two-tone set). */
typedef struct
{
  double coef[N_BASIS][3];
  double centre[MAX_CLUSTERS][3];
  int    n_centres;
} Model;

static void
basis (double u,
       double v,
       double out[N_BASIS])
{
  out[0] = 1;
  out[1] = u;
  out[2] = v;
  out[3] = u * v;
  out[4] = u * u;
  out[5] = v * v;
}

/* Solves the symmetric system a·x = b in place (Gaussian elimination, partial pivoting). */
static gboolean
solve (double a[N_BASIS][N_BASIS],
       double b[N_BASIS][3],
       double x[N_BASIS][3])
{
  for (int c = 0; c < N_BASIS; c++)
    {
      int p = c;

      for (int r = c + 1; r < N_BASIS; r++)
        if (fabs (a[r][c]) > fabs (a[p][c]))
          p = r;
      if (fabs (a[p][c]) < 1e-12)
        return FALSE;
      for (int k = 0; k < N_BASIS; k++)
        {
          double t = a[c][k];
          a[c][k] = a[p][k];
          a[p][k] = t;
        }
      for (int k = 0; k < 3; k++)
        {
          double t = b[c][k];
          b[c][k] = b[p][k];
          b[p][k] = t;
        }
      for (int r = c + 1; r < N_BASIS; r++)
        {
          double f = a[r][c] / a[c][c];

          for (int k = c; k < N_BASIS; k++)
            a[r][k] -= f * a[c][k];
          for (int k = 0; k < 3; k++)
            b[r][k] -= f * b[c][k];
        }
    }
  for (int r = N_BASIS - 1; r >= 0; r--)
    for (int k = 0; k < 3; k++)
      {
        double s = b[r][k];

        for (int j = r + 1; j < N_BASIS; j++)
          s -= a[r][j] * x[j][k];
        x[r][k] = s / a[r][r];
      }
  return TRUE;
}

static inline double
lab_distance (const double a[3],
              const float *b)
{
  double dl = L_WEIGHT * (b[0] - a[0]), da = b[1] - a[1], db = b[2] - a[2];

  return sqrt (dl * dl + da * da + db * db);
}

static inline double
surface_distance (const double coef[N_BASIS][3],
                  int          width,
                  int          height,
                  int          x,
                  int          y,
                  const float *lab)
{
  double f[N_BASIS], m[3];

  basis ((x + 0.5) / width - 0.5, (y + 0.5) / height - 0.5, f);
  for (int k = 0; k < 3; k++)
    {
      m[k] = 0;
      for (int j = 0; j < N_BASIS; j++)
        m[k] += coef[j][k] * f[j];
    }
  return lab_distance (m, lab);
}

static inline double
model_distance (const Model *model,
                int          width,
                int          height,
                int          x,
                int          y,
                const float *lab)
{
  double d = surface_distance (model->coef, width, height, x, y, lab);

  for (int k = 0; k < model->n_centres; k++)
    d = MIN (d, lab_distance (model->centre[k], lab));
  return d;
}

static int
compare_floats (const void *a,
                const void *b)
{
  float x = *(const float *) a, y = *(const float *) b;

  return (x > y) - (x < y);
}

/* k-means on the border colours, seeded with the farthest-point rule (deterministic);
 * keeps the clusters that cover enough of the border. */
static void
cluster_border (const Work *w,
                GArray     *idx,
                Model      *model)
{
  double centre[MAX_CLUSTERS][3];
  int count[MAX_CLUSTERS];
  g_autofree int *assign = g_new0 (int, idx->len);
  int k_used = 0;

  for (int k = 0; k < MAX_CLUSTERS; k++)
    {
      guint best = 0;
      double best_d = -1;

      for (guint s = 0; s < idx->len; s++)
        {
          const float *p = w->lab + (gsize) g_array_index (idx, int, s) * 4;
          double d = G_MAXDOUBLE;

          for (int j = 0; j < k; j++)
            d = MIN (d, lab_distance (centre[j], p));
          if (k == 0)
            d = 0;
          if (d > best_d)
            {
              best_d = d;
              best = s;
            }
        }
      if (k > 0 && best_d < 1.0)
        break;
      for (int c = 0; c < 3; c++)
        centre[k][c] = w->lab[(gsize) g_array_index (idx, int, best) * 4 + c];
      k_used = k + 1;
    }

  for (int iter = 0; iter < 10; iter++)
    {
      double sum[MAX_CLUSTERS][3] = { { 0 } };

      memset (count, 0, sizeof count);
      for (guint s = 0; s < idx->len; s++)
        {
          const float *p = w->lab + (gsize) g_array_index (idx, int, s) * 4;
          double best_d = G_MAXDOUBLE;

          for (int k = 0; k < k_used; k++)
            {
              double d = lab_distance (centre[k], p);

              if (d < best_d)
                {
                  best_d = d;
                  assign[s] = k;
                }
            }
          count[assign[s]]++;
          for (int c = 0; c < 3; c++)
            sum[assign[s]][c] += p[c];
        }
      for (int k = 0; k < k_used; k++)
        if (count[k] > 0)
          for (int c = 0; c < 3; c++)
            centre[k][c] = sum[k][c] / count[k];
    }

  model->n_centres = 0;
  for (int k = 0; k < k_used; k++)
    if (count[k] >= MIN_SHARE * idx->len)
      {
        memcpy (model->centre[model->n_centres], centre[k], sizeof centre[k]);
        model->n_centres++;
      }
}

/* Fits the background model on the border ring; returns the noise level (median distance of
 * the border to the model). */
static gboolean
fit_background (const Work *w,
                Model      *model,
                double     *noise)
{
  double (*coef)[3] = model->coef;

  int ring = MAX (2, MIN (w->width, w->height) / 100);
  g_autoptr (GArray) idx = g_array_new (FALSE, FALSE, sizeof (int));
  g_autofree float *res = NULL;
  g_autofree gboolean *inlier = NULL;
  double cutoff = G_MAXDOUBLE;

  for (int y = 0; y < w->height; y++)
    for (int x = 0; x < w->width; x++)
      {
        gboolean border = x < ring || y < ring || x >= w->width - ring || y >= w->height - ring;
        int i = y * w->width + x;

        /* already transparent pixels say nothing about the backdrop's colour */
        if (border && w->lab[i * 4 + 3] > 0.5f)
          g_array_append_val (idx, i);
        if (!border && y >= ring && y < w->height - ring && x == ring)
          x = w->width - ring - 1;
      }
  if (idx->len < N_BASIS * 4)
    return FALSE;

  res = g_new (float, idx->len);
  inlier = g_new (gboolean, idx->len);
  for (int iter = 0; iter < 4; iter++)
    {
      double a[N_BASIS][N_BASIS] = { { 0 } }, b[N_BASIS][3] = { { 0 } };
      guint n_in = 0;

      for (guint s = 0; s < idx->len; s++)
        {
          int i = g_array_index (idx, int, s);
          double f[N_BASIS];

          inlier[s] = iter == 0 || res[s] <= cutoff;
          if (!inlier[s])
            continue;
          n_in++;
          basis ((i % w->width + 0.5) / w->width - 0.5, (i / w->width + 0.5) / w->height - 0.5,
                 f);
          for (int r = 0; r < N_BASIS; r++)
            {
              for (int c = 0; c < N_BASIS; c++)
                a[r][c] += f[r] * f[c];
              for (int k = 0; k < 3; k++)
                b[r][k] += f[r] * w->lab[i * 4 + k];
            }
        }
      if (n_in < N_BASIS * 4 || !solve (a, b, coef))
        return FALSE;

      {
        g_autofree float *sorted = g_new (float, idx->len);
        guint n = 0;

        for (guint s = 0; s < idx->len; s++)
          {
            int i = g_array_index (idx, int, s);

            res[s] = (float) surface_distance (coef, w->width, w->height, i % w->width,
                                               i / w->width, w->lab + (gsize) i * 4);
            if (inlier[s])
              sorted[n++] = res[s];
          }
        qsort (sorted, n, sizeof (float), compare_floats);
        /* where a product touches the border its pixels are far off the fit: refit without
         * them; the floor keeps a perfectly flat backdrop from rejecting its own noise */
        cutoff = MAX (3.0 * sorted[n / 2], 2.0);
      }
    }

  cluster_border (w, idx, model);
  for (guint s = 0; s < idx->len; s++)
    {
      int i = g_array_index (idx, int, s);

      res[s] = (float) model_distance (model, w->width, w->height, i % w->width, i / w->width,
                                       w->lab + (gsize) i * 4);
    }
  qsort (res, idx->len, sizeof (float), compare_floats);
  *noise = res[idx->len / 2];
  return TRUE;
}

/* Flood fill from the border over pixels under the threshold. */
static gboolean
flood_background (Work         *w,
                  double        threshold,
                  GCancellable *cancellable)
{
  gsize n = (gsize) w->width * w->height;
  g_autofree int *queue = g_new (int, n);
  gsize head = 0, tail = 0;

  memset (w->bg, 0, n);
  for (int y = 0; y < w->height; y++)
    for (int x = 0; x < w->width; x++)
      if (x == 0 || y == 0 || x == w->width - 1 || y == w->height - 1)
        {
          int i = y * w->width + x;

          if (w->dist[i] < threshold && !w->bg[i])
            {
              w->bg[i] = 1;
              queue[tail++] = i;
            }
        }

  while (head < tail)
    {
      int i = queue[head++];
      int x = i % w->width, y = i / w->width;
      int nb[4] = { x > 0 ? i - 1 : -1, x < w->width - 1 ? i + 1 : -1,
                    y > 0 ? i - w->width : -1, y < w->height - 1 ? i + w->width : -1 };

      if ((head & 0xffff) == 0 && g_cancellable_is_cancelled (cancellable))
        return FALSE;
      for (int k = 0; k < 4; k++)
        if (nb[k] >= 0 && !w->bg[nb[k]] && w->dist[nb[k]] < threshold)
          {
            w->bg[nb[k]] = 1;
            queue[tail++] = nb[k];
          }
    }
  return TRUE;
}

/* Drops foreground components much smaller than the largest one (specks of noise or dust). */
static void
drop_specks (Work *w)
{
  gsize n = (gsize) w->width * w->height;
  g_autofree int *label = g_new0 (int, n);
  g_autofree int *queue = g_new (int, n);
  g_autoptr (GArray) sizes = g_array_new (FALSE, FALSE, sizeof (int));
  int largest = 0, zero = 0;

  g_array_append_val (sizes, zero);  /* label 0: background */
  for (gsize s = 0; s < n; s++)
    {
      gsize head = 0, tail = 0;
      int id;

      if (w->bg[s] || label[s])
        continue;
      id = (int) sizes->len;
      label[s] = id;
      queue[tail++] = (int) s;
      while (head < tail)
        {
          int i = queue[head++];
          int x = i % w->width, y = i / w->width;

          for (int dy = -1; dy <= 1; dy++)
            for (int dx = -1; dx <= 1; dx++)
              {
                int nx = x + dx, ny = y + dy, j;

                if (nx < 0 || ny < 0 || nx >= w->width || ny >= w->height)
                  continue;
                j = ny * w->width + nx;
                if (!w->bg[j] && !label[j])
                  {
                    label[j] = id;
                    queue[tail++] = j;
                  }
              }
        }
      g_array_append_val (sizes, tail);
      largest = MAX (largest, (int) tail);
    }

  for (gsize s = 0; s < n; s++)
    {
      int size = g_array_index (sizes, int, label[s]);

      if (label[s] && (size < largest / 100 || size < 16))
        w->bg[s] = 1;
    }
}

/* Soft alpha along the boundary: a pixel mixing product and backdrop lies between them in
 * colour, so its distance over the distance of the solid product next to it estimates its
 * coverage. */
static void
edge_alpha (Work *w)
{
  const int r = 2;

  for (int y = 0; y < w->height; y++)
    for (int x = 0; x < w->width; x++)
      {
        int i = y * w->width + x;
        gboolean edge = FALSE;
        float solid = 0;

        w->alpha[i] = w->bg[i] ? 0 : 1;
        for (int dy = -1; dy <= 1 && !edge; dy++)
          for (int dx = -1; dx <= 1; dx++)
            {
              int nx = CLAMP (x + dx, 0, w->width - 1), ny = CLAMP (y + dy, 0, w->height - 1);

              if (w->bg[ny * w->width + nx] != w->bg[i])
                {
                  edge = TRUE;
                  break;
                }
            }
        if (!edge)
          continue;

        for (int dy = -r; dy <= r; dy++)
          for (int dx = -r; dx <= r; dx++)
            {
              int nx = x + dx, ny = y + dy;

              if (nx >= 0 && ny >= 0 && nx < w->width && ny < w->height
                  && !w->bg[ny * w->width + nx])
                solid = MAX (solid, w->dist[ny * w->width + nx]);
            }
        if (solid > 0)
          w->alpha[i] = CLAMP (w->dist[i] / solid, 0.0f, 1.0f);
        /* a lone background pixel next to the product keeps a trace, never more than half */
        if (w->bg[i])
          w->alpha[i] = MIN (w->alpha[i], 0.5f);
      }
}

static void
blur_1d (float *data,
         int    n,
         int    stride,
         const float *kernel,
         int    radius,
         float *tmp)
{
  for (int i = 0; i < n; i++)
    tmp[i] = data[(gsize) i * stride];
  for (int i = 0; i < n; i++)
    {
      float s = 0;

      for (int k = -radius; k <= radius; k++)
        s += kernel[k + radius] * tmp[CLAMP (i + k, 0, n - 1)];
      data[(gsize) i * stride] = s;
    }
}

static void
feather (Work  *w,
         double sigma)
{
  int radius = (int) ceil (sigma * 3);
  g_autofree float *kernel = NULL;
  g_autofree float *tmp = NULL;
  float sum = 0;

  if (sigma < 0.3)
    return;
  kernel = g_new (float, 2 * radius + 1);
  tmp = g_new (float, MAX (w->width, w->height));
  for (int k = -radius; k <= radius; k++)
    sum += kernel[k + radius] = (float) exp (-k * k / (2 * sigma * sigma));
  for (int k = 0; k <= 2 * radius; k++)
    kernel[k] /= sum;
  for (int y = 0; y < w->height; y++)
    blur_1d (w->alpha + (gsize) y * w->width, w->width, 1, kernel, radius, tmp);
  for (int x = 0; x < w->width; x++)
    blur_1d (w->alpha + x, w->height, w->width, kernel, radius, tmp);
}

static inline float
sample_alpha (const Work *w,
              double      fx,
              double      fy)
{
  int x0, y0, x1, y1;
  double tx, ty;
  const float *a = w->alpha;

  fx = CLAMP (fx, 0, w->width - 1);
  fy = CLAMP (fy, 0, w->height - 1);
  x0 = (int) fx;
  y0 = (int) fy;
  x1 = MIN (x0 + 1, w->width - 1);
  y1 = MIN (y0 + 1, w->height - 1);
  tx = fx - x0;
  ty = fy - y0;
  return (float) ((1 - ty) * ((1 - tx) * a[y0 * w->width + x0] + tx * a[y0 * w->width + x1])
                  + ty * ((1 - tx) * a[y1 * w->width + x0] + tx * a[y1 * w->width + x1]));
}

static void
report (CatenaOpsProgressFunc progress,
        gpointer              data,
        double                fraction)
{
  if (progress != NULL)
    progress (fraction, data);
}

GeglBuffer *
catena_remove_background_classical_full (GeglBuffer           *input,
                                         double                 tolerance,
                                         double                 softness,
                                         GCancellable          *cancellable,
                                         CatenaOpsProgressFunc  progress,
                                         gpointer               progress_data,
                                         GError               **error)
{
  const Babl *lab_format = babl_format ("CIE Lab alpha float");
  const Babl *work_format = babl_format (CATENA_WORK_FORMAT);
  g_auto (Work) w = { 0 };
  g_autoptr (GeglBuffer) output = NULL;
  GeglRectangle extent, rect;
  double scale, noise, threshold;
  Model model = { 0 };
  GeglBufferIterator *it;

  if (input == NULL)
    {
      g_set_error (error, CATENA_STAGE_ERROR, CATENA_STAGE_ERROR_MISSING_INPUT,
                   _("Background removal needs an image."));
      return NULL;
    }
  extent = *gegl_buffer_get_extent (input);
  if (extent.width <= 0 || extent.height <= 0)
    {
      g_set_error (error, CATENA_STAGE_ERROR, CATENA_STAGE_ERROR_INVALID_IMAGE,
                   _("Background removal received an empty image."));
      return NULL;
    }
  tolerance = CLAMP (tolerance, 0.5, 100);
  softness = CLAMP (softness, 0, 50);

  scale = MIN (1.0, sqrt ((double) WORK_PIXELS / ((double) extent.width * extent.height)));
  w.width = MAX (1, (int) floor (extent.width * scale));
  w.height = MAX (1, (int) floor (extent.height * scale));
  w.lab = g_new (float, (gsize) w.width * w.height * 4);
  w.dist = g_new (float, (gsize) w.width * w.height);
  w.bg = g_new (guint8, (gsize) w.width * w.height);
  w.alpha = g_new (float, (gsize) w.width * w.height);

  rect = (GeglRectangle) { (int) floor (extent.x * scale), (int) floor (extent.y * scale),
                           w.width, w.height };
  gegl_buffer_get (input, &rect, scale, lab_format, w.lab, GEGL_AUTO_ROWSTRIDE,
                   GEGL_ABYSS_CLAMP);
  report (progress, progress_data, 0.15);
  if (g_cancellable_set_error_if_cancelled (cancellable, error))
    return NULL;

  if (w.width < 8 || w.height < 8 || !fit_background (&w, &model, &noise))
    {
      g_set_error (error, CATENA_STAGE_ERROR, CATENA_STAGE_ERROR_INVALID_IMAGE,
                   _("The image is too small or too transparent to find its background."));
      return NULL;
    }
  /* a noisy backdrop raises the threshold, but a textured one must not swallow the product */
  threshold = MAX (tolerance, MIN (4.0 * noise, 2.5 * tolerance));
  g_debug ("remove-background: %dx%d proxy, %d border colours, noise dE %.2f, threshold %.2f",
           w.width, w.height, model.n_centres, noise, threshold);

  for (int y = 0; y < w.height; y++)
    for (int x = 0; x < w.width; x++)
      {
        gsize i = (gsize) y * w.width + x;

        w.dist[i] = w.lab[i * 4 + 3] <= 0.5f
                    ? 0 : (float) model_distance (&model, w.width, w.height, x, y, w.lab + i * 4);
      }
  report (progress, progress_data, 0.3);

  if (!flood_background (&w, threshold, cancellable)
      || g_cancellable_set_error_if_cancelled (cancellable, error))
    {
      g_cancellable_set_error_if_cancelled (cancellable, error);
      return NULL;
    }
  drop_specks (&w);
  report (progress, progress_data, 0.5);
  if (g_cancellable_set_error_if_cancelled (cancellable, error))
    return NULL;

  edge_alpha (&w);
  feather (&w, softness * scale);
  report (progress, progress_data, 0.6);
  if (g_cancellable_set_error_if_cancelled (cancellable, error))
    return NULL;

  output = gegl_buffer_new (&extent, work_format);
  it = gegl_buffer_iterator_new (output, &extent, 0, work_format, GEGL_ACCESS_WRITE,
                                 GEGL_ABYSS_NONE, 2);
  gegl_buffer_iterator_add (it, input, &extent, 0, work_format, GEGL_ACCESS_READ,
                            GEGL_ABYSS_NONE);
  {
    guint64 done = 0, total = (guint64) extent.width * extent.height;

    while (gegl_buffer_iterator_next (it))
      {
        float *out = it->items[0].data;
        const float *in = it->items[1].data;
        const GeglRectangle *r = &it->items[0].roi;

        for (int y = r->y; y < r->y + r->height; y++)
          for (int x = r->x; x < r->x + r->width; x++, in += 4, out += 4)
            {
              /* pixel centres map onto proxy pixel centres */
              double fx = (x - extent.x + 0.5) * scale - 0.5;
              double fy = (y - extent.y + 0.5) * scale - 0.5;

              out[0] = in[0];
              out[1] = in[1];
              out[2] = in[2];
              out[3] = in[3] * sample_alpha (&w, fx, fy);
            }
        done += (guint64) r->width * r->height;
        report (progress, progress_data, 0.6 + 0.4 * done / total);
        if (g_cancellable_is_cancelled (cancellable))
          {
            gegl_buffer_iterator_stop (it);
            g_cancellable_set_error_if_cancelled (cancellable, error);
            return NULL;
          }
      }
  }
  return g_steal_pointer (&output);
}

GeglBuffer *
catena_remove_background_classical (GeglBuffer    *input,
                                    double         tolerance,
                                    double         softness,
                                    GCancellable  *cancellable,
                                    GError       **error)
{
  return catena_remove_background_classical_full (input, tolerance, softness, cancellable,
                                                  NULL, NULL, error);
}
