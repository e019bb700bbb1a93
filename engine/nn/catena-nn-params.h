/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

/* Parameters the CPU ops parse in their prepare step (node->params), shared with the CUDA
 * executor (engine/nn/cuda/) so that both run from the same load-time decisions. Plain C
 * structs: this header is also compiled by nvcc. */

#include "catena-nn-private.h"

G_BEGIN_DECLS

typedef enum { BIN_ADD, BIN_SUB, BIN_MUL, BIN_DIV, BIN_PRELU } BinOp;

typedef struct
{
  BinOp op;
  int ndim;
  gint64 dims[CATENA_NN_MAX_DIMS];
  gint64 sa[CATENA_NN_MAX_DIMS], sb[CATENA_NN_MAX_DIMS];
  gint64 rows; /* product of all but the last dim */
} BinParams;

typedef struct
{
  gint64 axis;
  gint64 outer;
} ConcatParams;

typedef struct
{
  gint64 base;
  gint64 sstride[CATENA_NN_MAX_DIMS];
} GatherParams;

typedef struct
{
  int ndim; /* of the permuted view */
  gint64 vdims[CATENA_NN_MAX_DIMS];
  gint64 sstride[CATENA_NN_MAX_DIMS];
} PermParams;

typedef struct
{
  int n_taps;
  gint64 *idx;  /* out_len × n_taps */
  float *w;
} AxisTaps;

typedef struct
{
  gint64 outer, ih, iw, oh, ow;
  AxisTaps ty, tx;
  gboolean nearest;
  gboolean x2; /* linear ×2 across: taps (i − 1, i)·(¼, ¾), (i, i + 1)·(¾, ¼) inside */
} ResizeParams;

typedef struct
{
  gint64 planes, h, w, oh, ow, kh, kw, sh, sw, dh, dw, ph, pw, pe_h, pe_w;
  gboolean is_max, count_include_pad, global;
} PoolParams;

typedef struct
{
  gint64 n, c, h, w;       /* input */
  gint64 m, kh, kw;        /* output channels, kernel */
  gint64 sh, sw, dh, dw;   /* strides, dilations */
  gint64 ph, pw;           /* leading pads */
  gint64 oh, ow;
  gint64 group;
  gint64 cg, mg, k;        /* per group: input channels, output channels, GEMM depth */
  gboolean pointwise;      /* 1×1, stride 1, no padding: the input is the GEMM's B */
  gboolean depthwise;
  gboolean narrow;         /* ≤ 4 outputs per group, stride 1: direct kernel (no tiny GEMM) */
  gint64 tile_rows;        /* output rows per task */
  gint64 n_tiles;
  gint64 m_block;          /* output channels per task */
  gint64 n_mblocks;
  gboolean winograd;       /* F(4×4, 3×3): see catena-nn-winograd.c */
  gboolean wg_staged;      /* whole-image transforms, then 36 GEMMs over all tiles */
  gint64 wg_th, wg_tw;     /* 4×4 output tiles down and across (undilated) */
  gint64 wg_tiles;         /* all tiles of one image (all dilation sub-grids) */
  gint64 wg_seg;           /* fused: tiles across per task */
  gint64 wg_rows;          /* fused: tile rows per task */
  gint64 wg_ntasks;        /* fused: tasks per image */
  gsize wg_ws_floats;      /* workspace: transformed weights (+ staged tiles) */
} ConvParams;

G_END_DECLS
