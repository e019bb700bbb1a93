/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <cblas.h>
#include <stdlib.h>
#include <string.h>

#include "catena-nn-params.h"
#include "catena-nn-private.h"

/* Conv (1-D and 2-D, groups, dilations, any padding) as im2col + SGEMM over tiles of output
 * rows; each task packs its own tile in a per-thread buffer, runs a single-threaded SGEMM
 * straight into the output and applies bias and the fused activation while the tile is still
 * in cache. 1×1 stride-1 convs skip im2col; depthwise convs have a direct kernel. 3×3
 * stride-1 undilated convs with enough channels use Winograd F(4×4, 3×3): 36 GEMMs over
 * transformed tiles instead of one with K = 9·C, 4× fewer multiplies. */

gboolean
nn_window_axis (const char *auto_pad,
                gint64 in,
                gint64 k,
                gint64 stride,
                gint64 dilation,
                gint64 *pad_begin,
                gint64 *pad_end,
                gboolean ceil_mode,
                gint64 *out)
{
  gint64 ek, span;

  if (k < 1 || stride < 1 || dilation < 1 || k > (1 << 20) || stride > (1 << 20)
      || dilation > (1 << 20) || *pad_begin < 0 || *pad_end < 0 || *pad_begin > (1 << 20)
      || *pad_end > (1 << 20))
    return FALSE;
  ek = (k - 1) * dilation + 1;
  if (strcmp (auto_pad, "SAME_UPPER") == 0 || strcmp (auto_pad, "SAME_LOWER") == 0)
    {
      gint64 o = (in + stride - 1) / stride;
      gint64 total = MAX (0, (o - 1) * stride + ek - in);

      *pad_begin = strcmp (auto_pad, "SAME_UPPER") == 0 ? total / 2 : (total + 1) / 2;
      *pad_end = total - *pad_begin;
      *out = o;
      return TRUE;
    }
  if (strcmp (auto_pad, "VALID") == 0)
    *pad_begin = *pad_end = 0;
  else if (strcmp (auto_pad, "NOTSET") != 0)
    return FALSE;
  span = in + *pad_begin + *pad_end - ek;
  if (span < 0)
    return FALSE;
  if (ceil_mode)
    {
      *out = (span + stride - 1) / stride + 1;
      /* the last window must start inside the input or the leading pad */
      if ((*out - 1) * stride >= in + *pad_begin)
        (*out)--;
    }
  else
    *out = span / stride + 1;
  return TRUE;
}

static gint64
nn_tile_min (void)
{
  const char *e = g_getenv ("CATENA_NN_TILE_MIN");
  return e ? atoi (e) : 256;
}

static gint64
nn_tile_floats (void)
{
  const char *e = g_getenv ("CATENA_NN_TILE_FLOATS");
  return e ? atoi (e) : 65536;
}

gboolean
nn_conv_prepare (NnGraph *g, NnNode *node, GError **error)
{
  static const char *const known[] = { "auto_pad", "dilations", "group", "kernel_shape",
                                       "pads", "strides", NULL };
  NnValue *x = nn_input (g, node, 0), *w = nn_input (g, node, 1), *b = nn_input (g, node, 2);
  ConvParams *p;
  const gint64 *ks, *st, *di, *pa;
  gsize nks, nst, ndi, npa;
  const char *auto_pad;
  int nsp;
  gint64 pads[4] = { 0 }, out_dims[4];

  if (!nn_check_attrs (node, known, error))
    return FALSE;
  if (x == NULL || w == NULL)
    {
      nn_error (error, CATENA_NN_ERROR_INVALID, node, "needs inputs X and W");
      return FALSE;
    }
  if (x->dtype != CATENA_NN_DTYPE_FLOAT || w->dtype != CATENA_NN_DTYPE_FLOAT
      || (b != NULL && b->dtype != CATENA_NN_DTYPE_FLOAT))
    {
      nn_error (error, CATENA_NN_ERROR_UNSUPPORTED, node, "only float32 is supported (got %s)",
                catena_nn_dtype_name (x->dtype));
      return FALSE;
    }
  if (x->ndim != 3 && x->ndim != 4)
    {
      nn_error (error, CATENA_NN_ERROR_UNSUPPORTED, node,
                "only 1-D and 2-D convolutions are supported (input rank %d)", x->ndim);
      return FALSE;
    }
  nsp = x->ndim - 2;
  if (w->ndim != x->ndim)
    {
      nn_error (error, CATENA_NN_ERROR_INVALID, node, "weights of rank %d for input rank %d",
                w->ndim, x->ndim);
      return FALSE;
    }
  ks = nn_attr_ints (node, "kernel_shape", &nks);
  st = nn_attr_ints (node, "strides", &nst);
  di = nn_attr_ints (node, "dilations", &ndi);
  pa = nn_attr_ints (node, "pads", &npa);
  auto_pad = nn_attr_string (node, "auto_pad", "NOTSET");
  if ((ks && nks != (gsize) nsp) || (st && nst != (gsize) nsp) || (di && ndi != (gsize) nsp)
      || (pa && npa != (gsize) nsp * 2))
    {
      nn_error (error, CATENA_NN_ERROR_INVALID, node, "attribute lengths do not match rank");
      return FALSE;
    }
  p = g_new0 (ConvParams, 1);
  node->params = p;
  node->free_params = g_free;
  p->n = x->dims[0];
  p->c = x->dims[1];
  p->h = nsp == 2 ? x->dims[2] : 1;
  p->w = x->dims[nsp + 1];
  p->m = w->dims[0];
  p->kh = nsp == 2 ? w->dims[2] : 1;
  p->kw = w->dims[nsp + 1];
  p->group = nn_attr_int (node, "group", 1);
  if (ks && (ks[0] != w->dims[2] || (nsp == 2 && ks[1] != w->dims[3])))
    {
      nn_error (error, CATENA_NN_ERROR_INVALID, node, "kernel_shape does not match W");
      return FALSE;
    }
  p->sh = nsp == 2 && st ? st[0] : 1;
  p->sw = st ? st[nsp - 1] : 1;
  p->dh = nsp == 2 && di ? di[0] : 1;
  p->dw = di ? di[nsp - 1] : 1;
  if (pa && nsp == 2)
    memcpy (pads, (gint64[4]) { pa[0], pa[2], pa[1], pa[3] }, sizeof pads);
  else if (pa)
    memcpy (pads, (gint64[4]) { 0, 0, pa[0], pa[1] }, sizeof pads);
  if (p->group < 1 || p->c % p->group != 0 || p->m % p->group != 0
      || w->dims[1] != p->c / p->group)
    {
      nn_error (error, CATENA_NN_ERROR_INVALID, node,
                "group %" G_GINT64_FORMAT " does not fit %" G_GINT64_FORMAT
                " input and %" G_GINT64_FORMAT " output channels",
                p->group, p->c, p->m);
      return FALSE;
    }
  if (b != NULL && (b->ndim != 1 || b->dims[0] != p->m))
    {
      nn_error (error, CATENA_NN_ERROR_INVALID, node, "bias must have %" G_GINT64_FORMAT
                " elements", p->m);
      return FALSE;
    }
  if (!nn_window_axis (auto_pad, p->h, p->kh, p->sh, p->dh, &pads[0], &pads[1], FALSE, &p->oh)
      || !nn_window_axis (auto_pad, p->w, p->kw, p->sw, p->dw, &pads[2], &pads[3], FALSE,
                          &p->ow))
    {
      nn_error (error, CATENA_NN_ERROR_UNSUPPORTED, node,
                "kernel, strides, dilations or pads do not fit a %" G_GINT64_FORMAT "×%"
                G_GINT64_FORMAT " input (auto_pad %s)", p->h, p->w, auto_pad);
      return FALSE;
    }
  p->ph = pads[0];
  p->pw = pads[2];
  p->cg = p->c / p->group;
  p->mg = p->m / p->group;
  p->k = p->cg * p->kh * p->kw;
  p->pointwise = p->kh == 1 && p->kw == 1 && p->sh == 1 && p->sw == 1 && p->ph == 0
                 && p->pw == 0 && pads[1] == 0 && pads[3] == 0;
  p->depthwise = p->cg == 1 && p->mg == 1 && p->group > 1;

  /* Tiles: about 256 KiB of packed columns, at least one output row. */
  {
    gint64 target_cols = MAX (nn_tile_min (), (gint64) (nn_tile_floats () / MAX (p->k, 1)));
    gint64 threads = nn_parallel_n_threads ();
    gint64 cols = p->oh * p->ow;

    p->tile_rows = CLAMP (target_cols / MAX (p->ow, 1), 1, MAX (p->oh, 1));
    p->n_tiles = (p->oh + p->tile_rows - 1) / p->tile_rows;
    p->m_block = p->mg;
    if (p->n_tiles * p->n * p->group < 2 * threads && p->mg >= 32 && cols > 0)
      p->m_block = MAX (16, (p->mg / (2 * threads) + 15) / 16 * 16);
    p->n_mblocks = (p->mg + p->m_block - 1) / p->m_block;
  }

  /* Winograd: 3×3, stride 1, no dilation, one group, enough channels and pixels to pay for
   * the transforms; weights must be known at load (they are transformed at run time, so
   * no extra resident memory: ≈ 1 % of the conv's FLOPs). */
  {
    const char *e = g_getenv ("CATENA_NN_WINOGRAD");
    gboolean allow = e == NULL || atoi (e) != 0;

    p->winograd = allow && nsp == 2 && p->kh == 3 && p->kw == 3 && p->sh == 1 && p->sw == 1
                  && p->dh == 1 && p->dw == 1 && p->group == 1 && p->c >= 16 && p->m >= 16
                  && p->oh * p->ow >= 256 && w->constant != NULL;
    if (p->winograd)
      {
        const char *tb = g_getenv ("CATENA_NN_WG_TILES");
        gint64 tiles;

        p->wg_th = (p->oh + 3) / 4;
        p->wg_tw = (p->ow + 3) / 4;
        tiles = p->wg_th * p->wg_tw;
        /* V (36·C·tb) and the products (36·M·tb) of a task stay around 1.5 MiB */
        p->wg_tb = tb != NULL ? atoi (tb) : 393216 / (36 * (p->c + p->m));
        p->wg_tb = CLAMP (p->wg_tb, 8, 256);
        /* enough tasks for every thread */
        p->wg_tb = MIN (p->wg_tb, MAX (8, tiles / (4 * nn_parallel_n_threads ())));
        p->wg_ntasks = (tiles + p->wg_tb - 1) / p->wg_tb;
      }
  }

  node->flops = 2.0 * p->n * p->m * p->oh * p->ow * p->k;
  if (nsp == 2)
    {
      out_dims[0] = p->n, out_dims[1] = p->m, out_dims[2] = p->oh, out_dims[3] = p->ow;
      return nn_set_output (g, node, 0, CATENA_NN_DTYPE_FLOAT, 4, out_dims, error);
    }
  out_dims[0] = p->n, out_dims[1] = p->m, out_dims[2] = p->ow;
  return nn_set_output (g, node, 0, CATENA_NN_DTYPE_FLOAT, 3, out_dims, error);
}

static GPrivate scratch_key = G_PRIVATE_INIT (nn_aligned_free);
static GPrivate scratch_size_key;

static float *
scratch_get (gsize n_floats)
{
  float *buf = g_private_get (&scratch_key);
  gsize have = GPOINTER_TO_SIZE (g_private_get (&scratch_size_key));

  if (buf == NULL || have < n_floats)
    {
      buf = nn_aligned_alloc (n_floats * sizeof (float));
      g_private_replace (&scratch_key, buf);
      g_private_set (&scratch_size_key, GSIZE_TO_POINTER (buf ? n_floats : 0));
    }
  return buf;
}

typedef struct
{
  const ConvParams *p;
  const float *x, *w, *b;
  float *y;
  NnActivation act;
  float *u; /* Winograd: transformed weights, 36 × M × C */
} ConvRun;

static void
im2col_tile (const ConvParams *p, const float *x, gint64 oh0, gint64 oh1, float *col)
{
  gint64 cols = (oh1 - oh0) * p->ow;

  for (gint64 c = 0; c < p->cg; c++)
    for (gint64 ki = 0; ki < p->kh; ki++)
      for (gint64 kj = 0; kj < p->kw; kj++)
        {
          float *dst = col + ((c * p->kh + ki) * p->kw + kj) * cols;
          const float *plane = x + c * p->h * p->w;
          gint64 off_w = kj * p->dw - p->pw;
          /* ow range whose iw = ow*sw + off_w falls inside [0, w) */
          gint64 lo = off_w >= 0 ? 0 : (-off_w + p->sw - 1) / p->sw;
          gint64 hi = p->w - off_w <= 0 ? 0 : (p->w - off_w + p->sw - 1) / p->sw;

          lo = MIN (lo, p->ow);
          hi = CLAMP (hi, lo, p->ow);
          for (gint64 oh = oh0; oh < oh1; oh++, dst += p->ow)
            {
              gint64 ih = oh * p->sh - p->ph + ki * p->dh;
              const float *row;

              if (ih < 0 || ih >= p->h)
                {
                  memset (dst, 0, sizeof (float) * p->ow);
                  continue;
                }
              row = plane + ih * p->w + off_w;
              if (lo > 0)
                memset (dst, 0, sizeof (float) * lo);
              if (p->sw == 1)
                memcpy (dst + lo, row + lo, sizeof (float) * (hi - lo));
              else
                for (gint64 ow = lo; ow < hi; ow++)
                  dst[ow] = row[ow * p->sw];
              if (hi < p->ow)
                memset (dst + hi, 0, sizeof (float) * (p->ow - hi));
            }
        }
}

static void
epilogue (float *y, gint64 ld, gint64 rows, gint64 cols, const float *bias, NnActivation act)
{
  for (gint64 m = 0; m < rows; m++)
    {
      float *r = y + m * ld;
      float bv = bias != NULL ? bias[m] : 0.f;

      if (act == NN_ACT_RELU)
        for (gint64 j = 0; j < cols; j++)
          {
            float v = r[j] + bv;
            r[j] = v > 0.f ? v : 0.f;
          }
      else if (bias != NULL)
        for (gint64 j = 0; j < cols; j++)
          r[j] += bv;
    }
}

static void
conv_task (gpointer user, gsize task, int thread)
{
  ConvRun *r = user;
  const ConvParams *p = r->p;
  gint64 tile = (gint64) task % p->n_tiles;
  gint64 rest = (gint64) task / p->n_tiles;
  gint64 mb = rest % p->n_mblocks;
  gint64 ng = rest / p->n_mblocks;
  gint64 n = ng / p->group, gi = ng % p->group;
  gint64 oh0 = tile * p->tile_rows, oh1 = MIN (p->oh, oh0 + p->tile_rows);
  gint64 m0 = mb * p->m_block, mcount = MIN (p->m_block, p->mg - m0);
  gint64 ohw = p->oh * p->ow, cols = (oh1 - oh0) * p->ow;
  const float *x = r->x + (n * p->c + gi * p->cg) * p->h * p->w;
  const float *a = r->w + (gi * p->mg + m0) * p->k;
  float *y = r->y + (n * p->m + gi * p->mg + m0) * ohw + oh0 * p->ow;
  const float *bmat;
  gint64 ldb;

  if (cols <= 0 || mcount <= 0)
    return;
  if (p->pointwise)
    {
      bmat = x + oh0 * p->ow;
      ldb = ohw;
    }
  else
    {
      float *col = scratch_get ((gsize) (p->k * cols));

      g_assert (col != NULL);
      im2col_tile (p, x, oh0, oh1, col);
      bmat = col;
      ldb = cols;
    }
  cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasNoTrans, (int) mcount, (int) cols, (int) p->k,
               1.0f, a, (int) p->k, bmat, (int) ldb, 0.0f, y, (int) ohw);
  epilogue (y, ohw, mcount, cols, r->b != NULL ? r->b + gi * p->mg + m0 : NULL, r->act);
}

/* ---- Winograd F(4×4, 3×3) (Lavin & Gray's points 0, ±1, ±2) ----
 * U = G g Gᵀ per (out, in) channel pair, V = Bᵀ d B per 6×6 input tile and channel, then for
 * each of the 36 positions ξ a GEMM M[ξ] = U[ξ] (M × C) · V[ξ] (C × tiles), then
 * Y = Aᵀ M A per tile (4×4 outputs). */

static void
wg_weight_task (gpointer user, gsize task, int thread)
{
  ConvRun *r = user;
  const ConvParams *p = r->p;
  gint64 o = (gint64) task, mc = p->m * p->c;

  for (gint64 c = 0; c < p->c; c++)
    {
      const float *g = r->w + (o * p->c + c) * 9;
      float t[6][3], u[6][6];

      /* t = G g */
      for (int j = 0; j < 3; j++)
        {
          float g0 = g[j], g1 = g[3 + j], g2 = g[6 + j];

          t[0][j] = g0 * 0.25f;
          t[1][j] = (g0 + g1 + g2) * (-1.f / 6);
          t[2][j] = (g0 - g1 + g2) * (-1.f / 6);
          t[3][j] = g0 * (1.f / 24) + g1 * (1.f / 12) + g2 * (1.f / 6);
          t[4][j] = g0 * (1.f / 24) - g1 * (1.f / 12) + g2 * (1.f / 6);
          t[5][j] = g2;
        }
      /* u = t Gᵀ */
      for (int i = 0; i < 6; i++)
        {
          float g0 = t[i][0], g1 = t[i][1], g2 = t[i][2];

          u[i][0] = g0 * 0.25f;
          u[i][1] = (g0 + g1 + g2) * (-1.f / 6);
          u[i][2] = (g0 - g1 + g2) * (-1.f / 6);
          u[i][3] = g0 * (1.f / 24) + g1 * (1.f / 12) + g2 * (1.f / 6);
          u[i][4] = g0 * (1.f / 24) - g1 * (1.f / 12) + g2 * (1.f / 6);
          u[i][5] = g2;
        }
      for (int xi = 0; xi < 36; xi++)
        r->u[xi * mc + o * p->c + c] = u[xi / 6][xi % 6];
    }
}

/* Bᵀ applied to 6 values with stride s (in place into out[6] with stride os) */
#define WG_BT(d, s, out, os)                                                                    \
  do                                                                                            \
    {                                                                                           \
      float d0 = (d)[0], d1 = (d)[(s)], d2 = (d)[2 * (s)], d3 = (d)[3 * (s)];                   \
      float d4 = (d)[4 * (s)], d5 = (d)[5 * (s)];                                               \
      (out)[0] = 4 * d0 - 5 * d2 + d4;                                                          \
      (out)[(os)] = -4 * (d1 + d2) + d3 + d4;                                                   \
      (out)[2 * (os)] = 4 * (d1 - d2) - d3 + d4;                                                \
      (out)[3 * (os)] = 2 * (d3 - d1) - d2 + d4;                                                \
      (out)[4 * (os)] = 2 * (d1 - d3) - d2 + d4;                                                \
      (out)[5 * (os)] = 4 * d1 - 5 * d3 + d5;                                                   \
    }                                                                                           \
  while (0)

static void
wg_task (gpointer user, gsize task, int thread)
{
  ConvRun *r = user;
  const ConvParams *p = r->p;
  gint64 n = (gint64) task / p->wg_ntasks, blk = (gint64) task % p->wg_ntasks;
  gint64 tiles = p->wg_th * p->wg_tw;
  gint64 t0 = blk * p->wg_tb, nt = MIN (p->wg_tb, tiles - t0), tb = p->wg_tb;
  const float *x = r->x + n * p->c * p->h * p->w;
  float *y = r->y + n * p->m * p->oh * p->ow;
  float *v = scratch_get ((gsize) (36 * (p->c + p->m) * tb));
  float *mm = v + 36 * p->c * tb;
  gint64 cs = p->c * tb, ms = p->m * tb;

  g_assert (v != NULL);
  /* input transform: V[ξ][c][t] */
  for (gint64 c = 0; c < p->c; c++)
    {
      const float *plane = x + c * p->h * p->w;

      for (gint64 t = 0; t < nt; t++)
        {
          gint64 ty = (t0 + t) / p->wg_tw, tx = (t0 + t) % p->wg_tw;
          gint64 iy = ty * 4 - p->ph, ix = tx * 4 - p->pw;
          float d[36], e[36];

          if (iy >= 0 && ix >= 0 && iy + 6 <= p->h && ix + 6 <= p->w)
            for (int i = 0; i < 6; i++)
              memcpy (d + i * 6, plane + (iy + i) * p->w + ix, 6 * sizeof (float));
          else
            for (int i = 0; i < 6; i++)
              for (int j = 0; j < 6; j++)
                d[i * 6 + j] = iy + i >= 0 && iy + i < p->h && ix + j >= 0 && ix + j < p->w
                                 ? plane[(iy + i) * p->w + ix + j]
                                 : 0.f;
          for (int j = 0; j < 6; j++)
            WG_BT (d + j, 6, e + j, 6); /* columns: e = Bᵀ d */
          for (int i = 0; i < 6; i++)
            WG_BT (e + i * 6, 1, v + (i * 6) * cs + c * tb + t, cs); /* rows: (Bᵀ d) B */
        }
    }
  for (int xi = 0; xi < 36; xi++)
    cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasNoTrans, (int) p->m, (int) nt, (int) p->c,
                 1.0f, r->u + xi * p->m * p->c, (int) p->c, v + xi * cs, (int) tb, 0.0f,
                 mm + xi * ms, (int) tb);
  /* output transform, bias, activation */
  for (gint64 o = 0; o < p->m; o++)
    {
      float bv = r->b != NULL ? r->b[o] : 0.f;
      float *yp = y + o * p->oh * p->ow;

      for (gint64 t = 0; t < nt; t++)
        {
          gint64 ty = (t0 + t) / p->wg_tw, tx = (t0 + t) % p->wg_tw;
          gint64 oy = ty * 4, ox = tx * 4;
          float a[6][4], out[4][4];

          for (int i = 0; i < 6; i++)
            {
              const float *m0 = mm + (i * 6) * ms + o * tb + t;
              float q0 = m0[0], q1 = m0[ms], q2 = m0[2 * ms], q3 = m0[3 * ms];
              float q4 = m0[4 * ms], q5 = m0[5 * ms];

              a[i][0] = q0 + q1 + q2 + q3 + q4;
              a[i][1] = q1 - q2 + 2 * (q3 - q4);
              a[i][2] = q1 + q2 + 4 * (q3 + q4);
              a[i][3] = q1 - q2 + 8 * (q3 - q4) + q5;
            }
          for (int j = 0; j < 4; j++)
            {
              float q0 = a[0][j], q1 = a[1][j], q2 = a[2][j], q3 = a[3][j], q4 = a[4][j];
              float q5 = a[5][j];

              out[0][j] = q0 + q1 + q2 + q3 + q4 + bv;
              out[1][j] = q1 - q2 + 2 * (q3 - q4) + bv;
              out[2][j] = q1 + q2 + 4 * (q3 + q4) + bv;
              out[3][j] = q1 - q2 + 8 * (q3 - q4) + q5 + bv;
            }
          for (int i = 0; i < 4 && oy + i < p->oh; i++)
            for (int j = 0; j < 4 && ox + j < p->ow; j++)
              {
                float val = out[i][j];

                if (r->act == NN_ACT_RELU && val < 0.f)
                  val = 0.f;
                yp[(oy + i) * p->ow + ox + j] = val;
              }
        }
    }
}

static void
depthwise_task (gpointer user, gsize task, int thread)
{
  ConvRun *r = user;
  const ConvParams *p = r->p;
  gint64 nc = (gint64) task; /* n * c + channel */
  gint64 ch = nc % p->c;
  const float *x = r->x + nc * p->h * p->w;
  const float *wk = r->w + ch * p->kh * p->kw;
  float *y = r->y + nc * p->oh * p->ow;
  float bv = r->b != NULL ? r->b[ch] : 0.f;

  for (gint64 oh = 0; oh < p->oh; oh++)
    for (gint64 ow = 0; ow < p->ow; ow++)
      {
        float acc = bv;

        for (gint64 ki = 0; ki < p->kh; ki++)
          {
            gint64 ih = oh * p->sh - p->ph + ki * p->dh;

            if (ih < 0 || ih >= p->h)
              continue;
            for (gint64 kj = 0; kj < p->kw; kj++)
              {
                gint64 iw = ow * p->sw - p->pw + kj * p->dw;

                if (iw >= 0 && iw < p->w)
                  acc += x[ih * p->w + iw] * wk[ki * p->kw + kj];
              }
          }
        if (r->act == NN_ACT_RELU && acc < 0.f)
          acc = 0.f;
        y[oh * p->ow + ow] = acc;
      }
}

void
nn_conv_run (NnNode *node, CatenaNnTensor *const *in, CatenaNnTensor *const *out)
{
  const ConvParams *p = node->params;
  ConvRun r = {
    .p = p,
    .x = in[0]->data,
    .w = in[1]->data,
    .b = node->n_in > 2 && in[2] != NULL ? in[2]->data : NULL,
    .y = out[0]->data,
    .act = node->act,
  };

  if (p->oh * p->ow == 0 || p->m == 0 || p->n == 0)
    return;
  if (p->k == 0)
    {
      /* no input channels: the output is the bias */
      memset (r.y, 0, out[0]->nbytes);
      for (gint64 n = 0; n < p->n; n++)
        epilogue (r.y + n * p->m * p->oh * p->ow, p->oh * p->ow, p->m, p->oh * p->ow, r.b,
                  r.act);
      return;
    }
  if (p->depthwise)
    nn_parallel_run ((gsize) (p->n * p->c), depthwise_task, &r);
  else if (p->winograd && (r.u = nn_aligned_alloc (sizeof (float) * 36 * p->m * p->c)) != NULL)
    {
      nn_parallel_run ((gsize) p->m, wg_weight_task, &r);
      nn_parallel_run ((gsize) (p->n * p->wg_ntasks), wg_task, &r);
      nn_aligned_free (r.u);
    }
  else
    nn_parallel_run ((gsize) (p->n * p->group * p->n_mblocks * p->n_tiles), conv_task, &r);
}
