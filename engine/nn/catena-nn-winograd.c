/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <cblas.h>
#include <stdlib.h>
#include <string.h>

#include "catena-nn-winograd.h"

/* Winograd F(4×4, 3×3) (Lavin & Gray's points 0, ±1, ±2) for 3×3 stride-1 one-group convs:
 * U = G g Gᵀ per (out, in) channel pair, V = Bᵀ d B per 6×6 input tile and channel, for each
 * of the 36 positions ξ a GEMM M[ξ] = U[ξ] (M × C) · V[ξ] (C × tiles), then Y = Aᵀ M A per
 * tile (4×4 outputs) with bias and ReLU: 4× fewer multiplies than im2col.
 *
 * A dilation-d conv is d² ordinary 3×3 convs on interleaved sub-grids (output pixels
 * (a + d·u, b + d·v) read input pixels (a − pad + d·i, b − pad + d·j)), so it runs the same
 * tiles with a step of d.
 *
 * The transforms work on a whole row of tiles at a time with tiles in the vector lanes: the
 * 6 input rows of a tile row are split into their 4 column phases (sample 4k + r goes to
 * phase r, element k), after which every step is a plain loop over k with constant
 * coefficients that the compiler vectorises; the hot loops are built for AVX-512, AVX2 and
 * the baseline, chosen at run time (target_clones).
 *
 * Two schedules: *fused* tasks take a block of tiles through input transform, 36 GEMMs and
 * output transform while it is in cache (many pixels, few channels); *staged* runs each step
 * over the whole image (few pixels, many channels: the GEMMs see all tiles at once and every
 * U[ξ] is read once rather than once per block). */

/* a ξ-plane stride a little past a multiple of 4 KiB, so that 36 planes do not share cache
 * sets */
#define WG_PAD 16

static gint64
round16 (gint64 n)
{
  return (n + 15) & ~(gint64) 15;
}

/* samples of a sub-grid starting at a with step d in [0, n) */
static gint64
sub_len (gint64 n, gint64 a, gint64 d)
{
  return a < n ? (n - a + d - 1) / d : 0;
}

static gint64
tiles_of (gint64 n)
{
  return (n + 3) / 4;
}

/* per-thread scratch for row buffers (and a fused task's tiles) */
static NnThreadScratch scratch = NN_THREAD_SCRATCH_INIT;

/* ---- transforms ---- */

/* U[ξ·us + c] for one output channel: g is its C × 3 × 3 weights; buf 9·C floats */
static NN_SIMD void
wg_weight_row (const float *restrict g, gint64 nc, float *restrict u, gint64 us,
               float *restrict buf)
{
  for (gint64 c = 0; c < nc; c++)
    for (int k = 0; k < 9; k++)
      buf[k * nc + c] = g[c * 9 + k];
  NN_IVDEP
  for (gint64 c = 0; c < nc; c++)
    {
      float t[6][3];

      /* t = G g */
      for (int j = 0; j < 3; j++)
        {
          float g0 = buf[j * nc + c], g1 = buf[(3 + j) * nc + c], g2 = buf[(6 + j) * nc + c];

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
          float *ui = u + 6 * i * us + c;

          ui[0] = g0 * 0.25f;
          ui[us] = (g0 + g1 + g2) * (-1.f / 6);
          ui[2 * us] = (g0 - g1 + g2) * (-1.f / 6);
          ui[3 * us] = g0 * (1.f / 24) + g1 * (1.f / 12) + g2 * (1.f / 6);
          ui[4 * us] = g0 * (1.f / 24) - g1 * (1.f / 12) + g2 * (1.f / 6);
          ui[5 * us] = g2;
        }
    }
}

/* Bᵀ d for six values */
#define WG_BT(d0, d1, d2, d3, d4, d5, o0, o1, o2, o3, o4, o5)                                   \
  do                                                                                            \
    {                                                                                           \
      o0 = 4 * d0 - 5 * d2 + d4;                                                                \
      o1 = -4 * (d1 + d2) + d3 + d4;                                                            \
      o2 = 4 * (d1 - d2) - d3 + d4;                                                             \
      o3 = 2 * (d3 - d1) - d2 + d4;                                                             \
      o4 = 2 * (d1 - d3) - d2 + d4;                                                             \
      o5 = 4 * d1 - 5 * d3 + d5;                                                                \
    }                                                                                           \
  while (0)

/* out[j·so + t] = (Bᵀ d)[j] for t < n, d[i] = in[i·si + t]; when phased, inputs 4 and 5 are
 * rows 0 and 1 one element on (sample 4k + i of phase-split rows is row i & 3, element
 * k + i / 4) */
G_ALWAYS_INLINE static inline void
wg_bt_rows (const float *restrict in, gint64 si, float *restrict out, gint64 so, gint64 n,
            int phased)
{
  gint64 s4 = phased ? 1 : 4 * si, s5 = phased ? si + 1 : 5 * si;

  NN_IVDEP
  for (gint64 t = 0; t < n; t++)
    {
      float d0 = in[t], d1 = in[si + t], d2 = in[2 * si + t], d3 = in[3 * si + t];
      float d4 = in[s4 + t], d5 = in[s5 + t];

      WG_BT (d0, d1, d2, d3, d4, d5, out[t], out[so + t], out[2 * so + t], out[3 * so + t],
             out[4 * so + t], out[5 * so + t]);
    }
}

/* sample q (column x of six rows, zero when outside) into e, as wg_bt_split */
G_ALWAYS_INLINE static inline void
wg_bt_sample (const float *const *rw, gint64 x, gint64 q, gboolean in, float *e, gint64 se,
              gint64 kk)
{
  gint64 t = (q & 3) * kk + (q >> 2);
  float d0 = in ? rw[0][x] : 0.f, d1 = in ? rw[1][x] : 0.f, d2 = in ? rw[2][x] : 0.f;
  float d3 = in ? rw[3][x] : 0.f, d4 = in ? rw[4][x] : 0.f, d5 = in ? rw[5][x] : 0.f;

  WG_BT (d0, d1, d2, d3, d4, d5, e[t], e[se + t], e[2 * se + t], e[3 * se + t], e[4 * se + t],
         e[5 * se + t]);
}

/* e[i·se + r·kk + k] = (Bᵀ d)[i] of the samples d[j] = src[j·sr + 4k + r] (six rows at stride
 * sr), k < n: the phase split and the transform down the columns at once */
G_ALWAYS_INLINE static inline void
wg_bt_split (const float *restrict src, gint64 sr, float *restrict e, gint64 se, gint64 kk,
             gint64 n)
{
#define WG_BT_PHASE(r)                                                                          \
  do                                                                                            \
    {                                                                                           \
      float d0 = src[4 * k + r], d1 = src[sr + 4 * k + r], d2 = src[2 * sr + 4 * k + r];        \
      float d3 = src[3 * sr + 4 * k + r], d4 = src[4 * sr + 4 * k + r];                         \
      float d5 = src[5 * sr + 4 * k + r];                                                       \
      float *o = e + r * kk + k;                                                                \
                                                                                                \
      WG_BT (d0, d1, d2, d3, d4, d5, o[0], o[se], o[2 * se], o[3 * se], o[4 * se], o[5 * se]);  \
    }                                                                                           \
  while (0)

  NN_IVDEP
  for (gint64 k = 0; k < n; k++)
    {
      WG_BT_PHASE (0);
      WG_BT_PHASE (1);
      WG_BT_PHASE (2);
      WG_BT_PHASE (3);
    }
#undef WG_BT_PHASE
}

/* Input transform of n tiles of one tile row. Tile k covers sub-grid rows 4·tu + 0…5 and
 * columns 4·(tv0 + k) + 0…5; sub-grid sample (i, j) is plane pixel (iy0 + d·i, ix0 + d·j),
 * zero outside the plane. Writes v[ξ·vs + k] for the 36 ξ. buf: 48·(n + 1) floats. */
static NN_SIMD void
wg_input_row (const float *restrict plane, gint64 h, gint64 w, gint64 iy0, gint64 ix0,
              gint64 dy, gint64 dx, gint64 tu, gint64 tv0, gint64 n, float *restrict v,
              gint64 vs, float *restrict buf)
{
  gint64 kk = n + 1, nq = 4 * kk;
  float *restrict lb = buf;           /* [6][4][kk]: row i, phase r, element k */
  float *restrict e = buf + 24 * kk;  /* [6][4][kk]: Bᵀ over the rows */
  gint64 c0 = ix0 + dx * 4 * tv0;     /* plane column of sample q = 0 */
  gint64 qlo = c0 >= 0 ? 0 : (-c0 + dx - 1) / dx;
  gint64 qhi = w - c0 <= 0 ? 0 : (w - c0 + dx - 1) / dx;

  qlo = MIN (qlo, nq);
  qhi = CLAMP (qhi, qlo, nq);
  if (dx == 1 && iy0 + dy * 4 * tu >= 0 && iy0 + dy * (4 * tu + 5) < h)
    {
      /* all six rows inside, unit step: split phases and apply Bᵀ down the columns in one
       * pass (no lb) for the groups of 4 inside the row, sample by sample at the ends */
      const float *rw[6];
      gint64 k0 = MIN ((qlo + 3) / 4, kk), k1 = MAX (qhi / 4, k0);

      for (int i = 0; i < 6; i++)
        rw[i] = plane + (iy0 + dy * (4 * tu + i)) * w;
      for (gint64 q = 0; q < 4 * k0; q++)
        wg_bt_sample (rw, c0 + q, q, q >= qlo && q < qhi, e, nq, kk);
      if (k1 > k0)
        wg_bt_split (rw[0] + c0 + 4 * k0, dy * w, e + k0, nq, kk, k1 - k0);
      for (gint64 q = 4 * k1; q < nq; q++)
        wg_bt_sample (rw, c0 + q, q, q >= qlo && q < qhi, e, nq, kk);
    }
  else
    {
      /* rows or columns outside the plane, or a step: split sample by sample into lb */
      for (int i = 0; i < 6; i++)
        {
          gint64 iy = iy0 + dy * (4 * tu + i);
          float *restrict l = lb + i * nq;
          const float *row;
          gint64 q = 0;

          if (iy < 0 || iy >= h)
            {
              memset (l, 0, sizeof (float) * nq);
              continue;
            }
          row = plane + iy * w;
          for (; q < qlo; q++)
            l[(q & 3) * kk + (q >> 2)] = 0.f;
          if (dx == 1)
            {
              /* whole groups of 4 inside: one de-interleaving loop */
              gint64 k0 = (qlo + 3) / 4, k1 = qhi / 4;

              for (; q < MIN (4 * k0, qhi); q++)
                l[(q & 3) * kk + (q >> 2)] = row[c0 + q];
              if (k1 > k0)
                {
                  const float *restrict src = row + c0 + 4 * k0;

                  NN_IVDEP
                  for (gint64 k = 0; k < k1 - k0; k++)
                    {
                      l[k0 + k] = src[4 * k];
                      l[kk + k0 + k] = src[4 * k + 1];
                      l[2 * kk + k0 + k] = src[4 * k + 2];
                      l[3 * kk + k0 + k] = src[4 * k + 3];
                    }
                  q = 4 * k1;
                }
            }
          for (; q < qhi; q++)
            l[(q & 3) * kk + (q >> 2)] = row[c0 + dx * q];
          for (; q < nq; q++)
            l[(q & 3) * kk + (q >> 2)] = 0.f;
        }
      /* e = Bᵀ d down the columns, for all phases at once */
      wg_bt_rows (lb, nq, e, nq, nq, FALSE);
    }
  /* (Bᵀ d) B along the rows: sample 4k + j is phase j & 3, element k + j / 4 */
  for (int i = 0; i < 6; i++)
    wg_bt_rows (e + i * nq, kk, v + 6 * i * vs, vs, n, TRUE);
}

/* Output transform of n tiles of one tile row of one output channel: m[ξ·ms + k] are tile
 * k's 36 products. Writes sub-grid rows 4·tu + 0…3 (< oh_s) and columns 4·(tv0 + k) + 0…3
 * (< ow_s), sub-grid sample (i, j) being y pixel (oy0 + d·i, ox0 + d·j), with bias and
 * ReLU. buf: 40·n floats. */
static NN_SIMD void
wg_output_row (const float *restrict m, gint64 ms, gint64 n, float bias, gboolean relu,
               float *restrict y, gint64 yw, gint64 oy0, gint64 ox0, gint64 dy, gint64 dx,
               gint64 tu, gint64 tv0, gint64 oh_s, gint64 ow_s, float *restrict buf)
{
  gint64 n4 = 4 * n;
  float *restrict a = buf;           /* [6][4][n]: Aᵀ along the rows */
  float *restrict p = buf + 24 * n;  /* [4][4][n]: output row i, column phase j, tile k */
  gint64 rows = MIN (4, oh_s - 4 * tu), cols = MIN (n4, ow_s - 4 * tv0);

  for (int i = 0; i < 6; i++)
    {
      const float *restrict mr = m + 6 * i * ms;
      float *restrict ar = a + i * n4;

      NN_IVDEP
      for (gint64 k = 0; k < n; k++)
        {
          float q0 = mr[k], q1 = mr[ms + k], q2 = mr[2 * ms + k], q3 = mr[3 * ms + k];
          float q4 = mr[4 * ms + k], q5 = mr[5 * ms + k];

          ar[k] = q0 + q1 + q2 + q3 + q4;
          ar[n + k] = q1 - q2 + 2 * (q3 - q4);
          ar[2 * n + k] = q1 + q2 + 4 * (q3 + q4);
          ar[3 * n + k] = q1 - q2 + 8 * (q3 - q4) + q5;
        }
    }
  NN_IVDEP
  for (gint64 t = 0; t < n4; t++)
    {
      float q0 = a[t], q1 = a[n4 + t], q2 = a[2 * n4 + t], q3 = a[3 * n4 + t];
      float q4 = a[4 * n4 + t], q5 = a[5 * n4 + t];
      float o0 = q0 + q1 + q2 + q3 + q4 + bias;
      float o1 = q1 - q2 + 2 * (q3 - q4) + bias;
      float o2 = q1 + q2 + 4 * (q3 + q4) + bias;
      float o3 = q1 - q2 + 8 * (q3 - q4) + q5 + bias;

      if (relu)
        {
          o0 = o0 > 0.f ? o0 : 0.f;
          o1 = o1 > 0.f ? o1 : 0.f;
          o2 = o2 > 0.f ? o2 : 0.f;
          o3 = o3 > 0.f ? o3 : 0.f;
        }
      p[t] = o0;
      p[n4 + t] = o1;
      p[2 * n4 + t] = o2;
      p[3 * n4 + t] = o3;
    }
  for (gint64 i = 0; i < rows; i++)
    {
      const float *restrict pr = p + i * n4;
      float *restrict dst = y + (oy0 + dy * (4 * tu + i)) * yw + ox0 + dx * 4 * tv0;
      gint64 q = 0;

      if (dx == 1)
        {
          NN_IVDEP
          for (gint64 k = 0; k < cols / 4; k++)
            {
              dst[4 * k] = pr[k];
              dst[4 * k + 1] = pr[n + k];
              dst[4 * k + 2] = pr[2 * n + k];
              dst[4 * k + 3] = pr[3 * n + k];
            }
          q = cols & ~(gint64) 3;
        }
      for (; q < cols; q++)
        dst[dx * q] = pr[(q & 3) * n + (q >> 2)];
    }
}

/* ---- schedules ---- */

typedef struct
{
  const ConvParams *p;
  const float *x, *w, *b;
  float *y;
  gboolean relu;
  float *u;       /* 36 planes of M × C (stride us) */
  gint64 us;
  float *v, *mm;  /* staged: 36 planes of C × ld and M × ld */
  gint64 ld, vs, ms;
  gint64 n;       /* staged: image */
} WgRun;

static void
weight_task (gpointer user, gsize task, int thread)
{
  WgRun *r = user;
  const ConvParams *p = r->p;
  float *buf = nn_thread_scratch (&scratch, (gsize) (9 * p->c));

  g_assert (buf != NULL);
  wg_weight_row (r->w + (gint64) task * p->c * 9, p->c, r->u + (gint64) task * p->c, r->us,
                 buf);
}

static void
fused_task (gpointer user, gsize task, int thread)
{
  WgRun *r = user;
  const ConvParams *p = r->p;
  gint64 nseg = (p->wg_tw + p->wg_seg - 1) / p->wg_seg;
  gint64 n = (gint64) task / p->wg_ntasks, blk = (gint64) task % p->wg_ntasks;
  gint64 tu0 = blk / nseg * p->wg_rows, tu1 = MIN (p->wg_th, tu0 + p->wg_rows);
  gint64 tv0 = blk % nseg * p->wg_seg, tv1 = MIN (p->wg_tw, tv0 + p->wg_seg);
  gint64 segw = tv1 - tv0, nt = (tu1 - tu0) * segw;
  gint64 ld = round16 (p->wg_rows * p->wg_seg);
  gint64 vs = p->c * ld + WG_PAD, ms = p->m * ld + WG_PAD;
  float *v = nn_thread_scratch (&scratch, (gsize) (36 * (vs + ms) + 48 * (p->wg_seg + 1)));
  float *mm = v + 36 * vs, *buf = mm + 36 * ms;
  const float *x = r->x + n * p->c * p->h * p->w;
  float *y = r->y + n * p->m * p->oh * p->ow;

  g_assert (v != NULL);
  for (gint64 c = 0; c < p->c; c++)
    for (gint64 tu = tu0; tu < tu1; tu++)
      wg_input_row (x + c * p->h * p->w, p->h, p->w, -p->ph, -p->pw, 1, 1, tu, tv0, segw,
                    v + c * ld + (tu - tu0) * segw, vs, buf);
  for (int xi = 0; xi < 36; xi++)
    cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasNoTrans, (int) p->m, (int) nt, (int) p->c,
                 1.0f, r->u + xi * r->us, (int) p->c, v + xi * vs, (int) ld, 0.0f,
                 mm + xi * ms, (int) ld);
  for (gint64 o = 0; o < p->m; o++)
    for (gint64 tu = tu0; tu < tu1; tu++)
      wg_output_row (mm + o * ld + (tu - tu0) * segw, ms, segw, r->b ? r->b[o] : 0.f, r->relu,
                     y + o * p->oh * p->ow, p->ow, 0, 0, 1, 1, tu, tv0, p->oh, p->ow, buf);
}

/* Staged: the tiles of sub-grid (a, b) come in rows of tiles_of (ow_s) after those of the
 * sub-grids before it; rows of one sub-grid are consecutive. */

static void
staged_input_task (gpointer user, gsize task, int thread)
{
  WgRun *r = user;
  const ConvParams *p = r->p;
  gint64 c = (gint64) task;
  const float *plane = r->x + (r->n * p->c + c) * p->h * p->w;
  float *buf = nn_thread_scratch (&scratch, (gsize) (48 * (tiles_of (p->ow) + 1)));
  gint64 koff = 0;

  g_assert (buf != NULL);
  for (gint64 a = 0; a < p->dh; a++)
    for (gint64 b = 0; b < p->dw; b++)
      {
        gint64 th = tiles_of (sub_len (p->oh, a, p->dh)), tw = tiles_of (sub_len (p->ow, b, p->dw));

        for (gint64 tu = 0; tu < th; tu++, koff += tw)
          wg_input_row (plane, p->h, p->w, a - p->ph, b - p->pw, p->dh, p->dw, tu, 0, tw,
                        r->v + c * r->ld + koff, r->vs, buf);
      }
}

static void
staged_gemm_task (gpointer user, gsize task, int thread)
{
  WgRun *r = user;
  const ConvParams *p = r->p;
  int xi = (int) task;

  cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasNoTrans, (int) p->m, (int) p->wg_tiles,
               (int) p->c, 1.0f, r->u + xi * r->us, (int) p->c, r->v + xi * r->vs, (int) r->ld,
               0.0f, r->mm + xi * r->ms, (int) r->ld);
}

static void
staged_output_task (gpointer user, gsize task, int thread)
{
  WgRun *r = user;
  const ConvParams *p = r->p;
  gint64 o = (gint64) task;
  float *yp = r->y + (r->n * p->m + o) * p->oh * p->ow;
  float *buf = nn_thread_scratch (&scratch, (gsize) (40 * tiles_of (p->ow)));
  float bias = r->b != NULL ? r->b[o] : 0.f;
  gint64 koff = 0;

  g_assert (buf != NULL);
  for (gint64 a = 0; a < p->dh; a++)
    for (gint64 b = 0; b < p->dw; b++)
      {
        gint64 oh_s = sub_len (p->oh, a, p->dh), ow_s = sub_len (p->ow, b, p->dw);
        gint64 th = tiles_of (oh_s), tw = tiles_of (ow_s);

        for (gint64 tu = 0; tu < th; tu++, koff += tw)
          wg_output_row (r->mm + o * r->ld + koff, r->ms, tw, bias, r->relu, yp, p->ow, a, b,
                         p->dh, p->dw, tu, 0, oh_s, ow_s, buf);
      }
}

static gint64
staged_ld (const ConvParams *p)
{
  return round16 (p->wg_tiles);
}

static const char *
wg_schedule_env (void)
{
  const char *e = g_getenv ("CATENA_NN_WG_SCHEDULE");

  return e != NULL ? e : "";
}

void
nn_wg_prepare (ConvParams *p, gboolean weights_constant)
{
  const char *e = g_getenv ("CATENA_NN_WINOGRAD");
  gboolean allow = e == NULL || atoi (e) != 0;
  gint64 threads = nn_parallel_n_threads ();
  gint64 tiles = 0, tb, staged_floats, us;
  gboolean dilated = p->dh != 1 || p->dw != 1;

  p->winograd = FALSE;
  if (!allow || p->kh != 3 || p->kw != 3 || p->sh != 1 || p->sw != 1 || p->group != 1
      || p->c < 8 || p->m < 8 || p->oh * p->ow < 64 || !weights_constant)
    return;
  for (gint64 a = 0; a < p->dh; a++)
    for (gint64 b = 0; b < p->dw; b++)
      tiles += tiles_of (sub_len (p->oh, a, p->dh)) * tiles_of (sub_len (p->ow, b, p->dw));
  p->wg_tiles = tiles;
  p->wg_th = tiles_of (p->oh);
  p->wg_tw = tiles_of (p->ow);
  us = p->m * p->c + WG_PAD;
  staged_floats = 36 * ((p->c + p->m) * round16 (tiles) + 2 * WG_PAD);

  /* fused: V and the products of a task (36·(C + M)·tiles) around 1.5 MiB */
  {
    const char *tbe = g_getenv ("CATENA_NN_WG_TILES");

    tb = tbe != NULL ? atoi (tbe) : 393216 / (36 * (p->c + p->m));
    tb = CLAMP (tb, 8, 512);
  }
  if (strcmp (wg_schedule_env (), "staged") == 0)
    p->wg_staged = TRUE;
  else if (strcmp (wg_schedule_env (), "fused") == 0)
    p->wg_staged = dilated;
  else
    /* Many channels (fused blocks too thin for a good GEMM, U re-read per block) or few
     * tiles: staged, unless its whole-image buffers get large. Measured on ISNet's shapes
     * (bench/nn/bench-conv.sh): staged wins from C + M ≈ 512 (c256 m256 32²: 5.9 vs 8.4 ms
     * of CPU, c512 m128 128²: 78 vs 104 ms), fused below (c128 m256 128²: 34 vs 42 ms,
     * c256 m64 256²: 72 vs 97 ms). */
    p->wg_staged = dilated || ((tb < 24 || tiles < 128)
                               && staged_floats * sizeof (float) <= ((gsize) 96 << 20));
  if (p->wg_staged && staged_floats * sizeof (float) > ((gsize) 256 << 20))
    return; /* buffers too large (a huge dilated conv): im2col */
  if (!p->wg_staged)
    {
      if (p->wg_tw >= tb)
        {
          gint64 nseg = (p->wg_tw + tb - 1) / tb;

          p->wg_seg = (p->wg_tw + nseg - 1) / nseg;
          p->wg_rows = 1;
        }
      else
        {
          p->wg_seg = p->wg_tw;
          p->wg_rows = MAX (1, tb / p->wg_tw);
          /* at least two tasks per thread */
          p->wg_rows = MIN (p->wg_rows, MAX (1, p->wg_th / (2 * threads)));
        }
      p->wg_ntasks = (p->wg_th + p->wg_rows - 1) / p->wg_rows
                     * ((p->wg_tw + p->wg_seg - 1) / p->wg_seg);
    }
  p->wg_ws_floats = 36 * us + (p->wg_staged ? staged_floats : 0);
  p->winograd = TRUE;
}

gboolean
nn_wg_run (const ConvParams *p,
           const float *x,
           const float *w,
           const float *b,
           float *y,
           NnActivation act)
{
  WgRun r = { .p = p, .x = x, .w = w, .b = b, .y = y, .relu = act == NN_ACT_RELU };
  float *ws = nn_workspace_get (p->wg_ws_floats * sizeof (float));
  float *own = NULL;

  if (ws == NULL)
    ws = own = nn_aligned_alloc (p->wg_ws_floats * sizeof (float));
  if (ws == NULL)
    return FALSE;
  r.u = ws;
  r.us = p->m * p->c + WG_PAD;
  nn_parallel_run ((gsize) p->m, weight_task, &r);
  if (!p->wg_staged)
    nn_parallel_run ((gsize) (p->n * p->wg_ntasks), fused_task, &r);
  else
    {
      r.ld = staged_ld (p);
      r.vs = p->c * r.ld + WG_PAD;
      r.ms = p->m * r.ld + WG_PAD;
      r.v = ws + 36 * r.us;
      r.mm = r.v + 36 * r.vs;
      for (r.n = 0; r.n < p->n; r.n++)
        {
          nn_parallel_run ((gsize) p->c, staged_input_task, &r);
          nn_parallel_run (36, staged_gemm_task, &r);
          nn_parallel_run ((gsize) p->m, staged_output_task, &r);
        }
    }
  nn_aligned_free (own);
  return TRUE;
}
