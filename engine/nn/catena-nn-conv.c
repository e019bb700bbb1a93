/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <cblas.h>
#include <stdlib.h>
#include <string.h>

#include "catena-nn-params.h"
#include "catena-nn-private.h"
#include "catena-nn-winograd.h"

/* Conv (1-D and 2-D, groups, dilations, any padding) as im2col + SGEMM over tiles of output
 * rows; each task packs its own tile in a per-thread buffer, runs a single-threaded SGEMM
 * straight into the output and applies bias and the fused activation while the tile is still
 * in cache. 1×1 stride-1 convs skip im2col; depthwise convs have a direct kernel. 3×3
 * stride-1 convs (dilated too) with enough channels use Winograd F(4×4, 3×3)
 * (catena-nn-winograd.c): 36 GEMMs over transformed tiles instead of one with K = 9·C, 4×
 * fewer multiplies. */

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
  /* im2col + a GEMM with M ≤ 4 runs at a few GFLOP/s (ISNet's last 64 → 1 conv at 512²: 35
   * ms on one core, 15 ms this way); a direct loop over rows is vectorised along x */
  p->narrow = !p->depthwise && p->mg <= 4 && p->sh == 1 && p->sw == 1 && !p->pointwise;

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

  /* Winograd F(4×4, 3×3) for 3×3 stride-1 convs (catena-nn-winograd.c); weights must be
   * known at load. */
  nn_wg_prepare (p, w->constant != NULL);

  node->flops = 2.0 * p->n * p->m * p->oh * p->ow * p->k;
  if (nsp == 2)
    {
      out_dims[0] = p->n, out_dims[1] = p->m, out_dims[2] = p->oh, out_dims[3] = p->ow;
      return nn_set_output (g, node, 0, CATENA_NN_DTYPE_FLOAT, 4, out_dims, error);
    }
  out_dims[0] = p->n, out_dims[1] = p->m, out_dims[2] = p->ow;
  return nn_set_output (g, node, 0, CATENA_NN_DTYPE_FLOAT, 3, out_dims, error);
}

static NnThreadScratch scratch = NN_THREAD_SCRATCH_INIT;

typedef struct
{
  const ConvParams *p;
  const float *x, *w, *b;
  float *y;
  NnActivation act;
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
      float *col = nn_thread_scratch (&scratch, (gsize) (p->k * cols));

      im2col_tile (p, x, oh0, oh1, col);
      bmat = col;
      ldb = cols;
    }
  cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasNoTrans, (int) mcount, (int) cols, (int) p->k,
               1.0f, a, (int) p->k, bmat, (int) ldb, 0.0f, y, (int) ohw);
  epilogue (y, ohw, mcount, cols, r->b != NULL ? r->b + gi * p->mg + m0 : NULL, r->act);
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

/* narrow convs: one task per (image, output channel, band of rows); the row is accumulated
 * in place, one kernel tap at a time */
#define NARROW_ROWS 8

/* the rows of one band for one input channel: out[r·ow + x] += Σ taps (row in L1) */
static NN_SIMD void
narrow_rows (const ConvParams *p, const float *restrict plane, const float *restrict wk,
             float *restrict out, gint64 y0, gint64 y1)
{
  for (gint64 oy = y0; oy < y1; oy++)
    for (gint64 ki = 0; ki < p->kh; ki++)
      {
        gint64 iy = oy - p->ph + ki * p->dh;
        const float *row;
        float *o = out + (oy - y0) * p->ow;

        if (iy < 0 || iy >= p->h)
          continue;
        row = plane + iy * p->w;
        for (gint64 kj = 0; kj < p->kw; kj++)
          {
            float wv = wk[ki * p->kw + kj];
            gint64 off = kj * p->dw - p->pw;
            gint64 lo = CLAMP (-off, 0, p->ow), hi = CLAMP (p->w - off, lo, p->ow);

            NN_IVDEP
            for (gint64 ox = lo; ox < hi; ox++)
              o[ox] += wv * row[ox + off];
          }
      }
}

static void
narrow_task (gpointer user, gsize task, int thread)
{
  ConvRun *r = user;
  const ConvParams *p = r->p;
  gint64 bands = (p->oh + NARROW_ROWS - 1) / NARROW_ROWS;
  gint64 nm = (gint64) task / bands, band = (gint64) task % bands;
  gint64 n = nm / p->m, o = nm % p->m, gi = o / p->mg;
  gint64 y0 = band * NARROW_ROWS, y1 = MIN (p->oh, y0 + NARROW_ROWS);
  const float *x = r->x + (n * p->c + gi * p->cg) * p->h * p->w;
  float *out = r->y + ((n * p->m + o) * p->oh + y0) * p->ow;
  float bv = r->b != NULL ? r->b[o] : 0.f;
  gint64 len = (y1 - y0) * p->ow;

  for (gint64 i = 0; i < len; i++)
    out[i] = bv;
  for (gint64 c = 0; c < p->cg; c++)
    narrow_rows (p, x + c * p->h * p->w, r->w + o * p->k + c * p->kh * p->kw, out, y0, y1);
  if (r->act == NN_ACT_RELU)
    for (gint64 i = 0; i < len; i++)
      out[i] = out[i] > 0.f ? out[i] : 0.f;
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
  else if (p->winograd && nn_wg_run (p, r.x, r.w, r.b, r.y, r.act))
    return;
  else if (p->narrow)
    nn_parallel_run ((gsize) (p->n * p->m * ((p->oh + NARROW_ROWS - 1) / NARROW_ROWS)),
                     narrow_task, &r);
  else
    nn_parallel_run ((gsize) (p->n * p->group * p->n_mblocks * p->n_tiles), conv_task, &r);
}
