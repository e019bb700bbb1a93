/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

/* Launchers for engine/nn's CUDA kernels (catena-nn-cuda-kernels.cu, built by nvcc). Plain C
 * types only, so that the executor (catena-nn-cuda.c) is ordinary C compiled with the rest
 * of the engine. Every launcher queues work on `stream` and returns the launch status;
 * pointers are device pointers. Each kernel has a CPU twin in catena-nn-ops.c or
 * catena-nn-conv.c, which tests/nn/test-nn-cuda.c compares it with. */

#include <stdint.h>

#include <cuda_runtime_api.h>

#ifdef __cplusplus
extern "C" {
#endif

#define NN_CUDA_MAX_DIMS 8

typedef enum
{
  NN_CUDA_RELU,
  NN_CUDA_SIGMOID,
  NN_CUDA_TANH,
  NN_CUDA_LEAKY_RELU,
  NN_CUDA_CLIP,
} NnCudaUnary;

/* Same values as BinOp in catena-nn-params.h. */
typedef enum
{
  NN_CUDA_ADD,
  NN_CUDA_SUB,
  NN_CUDA_MUL,
  NN_CUDA_DIV,
  NN_CUDA_PRELU,
} NnCudaBinary;

typedef struct
{
  int ndim;
  int64_t dims[NN_CUDA_MAX_DIMS];
  int64_t sa[NN_CUDA_MAX_DIMS], sb[NN_CUDA_MAX_DIMS];
} NnCudaBroadcast;

typedef struct
{
  int ndim;
  int64_t base;
  int64_t dims[NN_CUDA_MAX_DIMS];    /* output (contiguous) */
  int64_t sstride[NN_CUDA_MAX_DIMS]; /* source element strides */
} NnCudaGather;

/* y = op (x); a: LeakyRelu's alpha or Clip's min, b: Clip's max. */
cudaError_t nn_cuda_unary (NnCudaUnary op,
                           const float *x,
                           float *y,
                           int64_t n,
                           float a,
                           float b,
                           cudaStream_t stream);
/* Float32 with numpy broadcasting (strides 0 on broadcast axes); n = output elements. */
cudaError_t nn_cuda_binary (NnCudaBinary op,
                            const float *a,
                            const float *b,
                            float *y,
                            const NnCudaBroadcast *bc,
                            int64_t n,
                            cudaStream_t stream);
/* The conv epilogue: y[i][c][p] += bias[c] (bias may be NULL), then ReLU if relu. */
cudaError_t nn_cuda_bias_act (float *y,
                              const float *bias,
                              int64_t images,
                              int64_t channels,
                              int64_t plane,
                              int relu,
                              cudaStream_t stream);
/* col[(c·kh + i)·kw + j][r·ow + x] for output rows [oh0, oh0 + rows) of one image's c
 * channels; zero outside the input. */
cudaError_t nn_cuda_im2col (const float *x,
                            float *col,
                            int64_t c,
                            int64_t h,
                            int64_t w,
                            int64_t kh,
                            int64_t kw,
                            int64_t sh,
                            int64_t sw,
                            int64_t dh,
                            int64_t dw,
                            int64_t ph,
                            int64_t pw,
                            int64_t ow,
                            int64_t oh0,
                            int64_t rows,
                            cudaStream_t stream);
/* MaxPool 2-D over `planes` planes; padding never wins. */
cudaError_t nn_cuda_maxpool (const float *x,
                             float *y,
                             int64_t planes,
                             int64_t h,
                             int64_t w,
                             int64_t oh,
                             int64_t ow,
                             int64_t kh,
                             int64_t kw,
                             int64_t sh,
                             int64_t sw,
                             int64_t dh,
                             int64_t dw,
                             int64_t ph,
                             int64_t pw,
                             cudaStream_t stream);
/* Separable resize with the CPU op's per-axis taps (indices and weights computed at load):
 * nearest reads tap 0 of each axis; otherwise out = Σ_j wx_j · Σ_k wy_k · in[iy_k][ix_j], the
 * CPU's order of summation. */
cudaError_t nn_cuda_resize (const float *x,
                            float *y,
                            int64_t planes,
                            int64_t ih,
                            int64_t iw,
                            int64_t oh,
                            int64_t ow,
                            const int64_t *iy,
                            const float *wy,
                            int ny,
                            const int64_t *ix,
                            const float *wx,
                            int nx,
                            int nearest,
                            cudaStream_t stream);
/* y[i] = x[base + Σ idx_d · sstride_d] over the contiguous output: Transpose, DepthToSpace,
 * Slice. esize 4 or 8. */
cudaError_t nn_cuda_gather (const void *x,
                            void *y,
                            const NnCudaGather *g,
                            int64_t n,
                            int esize,
                            cudaStream_t stream);

#ifdef __cplusplus
}
#endif
