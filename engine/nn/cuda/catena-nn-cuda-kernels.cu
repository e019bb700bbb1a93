/* SPDX-License-Identifier: GPL-3.0-or-later */
/* engine/nn's CUDA kernels. Grid-stride loops over 64-bit indices: the arena holds tensors up
 * to 4 GiB. Float math follows the CPU twins operation for operation (no fast-math), so the
 * only differences come from GEMM summation order. */

#include "catena-nn-cuda-kernels.h"

#include <math.h>

#define NN_THREADS 256

static unsigned int
nn_blocks (int64_t n)
{
  int64_t b = (n + NN_THREADS - 1) / NN_THREADS;

  if (b < 1)
    b = 1;
  return (unsigned int) (b > 65535 * 8 ? 65535 * 8 : b);
}

#define NN_FOR(i, n)                                                                   \
  for (int64_t i = (int64_t) blockIdx.x * blockDim.x + threadIdx.x; i < (n);          \
       i += (int64_t) blockDim.x * gridDim.x)

static __global__ void
unary_kernel (NnCudaUnary op, const float *x, float *y, int64_t n, float a, float b)
{
  NN_FOR (i, n)
    {
      float v = x[i];

      switch (op)
        {
        case NN_CUDA_RELU: y[i] = v > 0.f ? v : 0.f; break;
        case NN_CUDA_SIGMOID: y[i] = 1.f / (1.f + expf (-v)); break;
        case NN_CUDA_TANH: y[i] = tanhf (v); break;
        case NN_CUDA_LEAKY_RELU: y[i] = v >= 0.f ? v : v * a; break;
        case NN_CUDA_CLIP: y[i] = v < a ? a : v > b ? b : v; break;
        }
    }
}

extern "C" cudaError_t
nn_cuda_unary (NnCudaUnary op, const float *x, float *y, int64_t n, float a, float b,
               cudaStream_t stream)
{
  if (n == 0)
    return cudaSuccess;
  unary_kernel<<<nn_blocks (n), NN_THREADS, 0, stream>>> (op, x, y, n, a, b);
  return cudaGetLastError ();
}

static __global__ void
binary_kernel (NnCudaBinary op, const float *a, const float *b, float *y, NnCudaBroadcast bc,
               int64_t n)
{
  NN_FOR (i, n)
    {
      int64_t rem = i, oa = 0, ob = 0;

      for (int d = bc.ndim - 1; d >= 0; d--)
        {
          int64_t k = rem % bc.dims[d];

          rem /= bc.dims[d];
          oa += k * bc.sa[d];
          ob += k * bc.sb[d];
        }
      float x = a[oa], z = b[ob];
      switch (op)
        {
        case NN_CUDA_ADD: y[i] = x + z; break;
        case NN_CUDA_SUB: y[i] = x - z; break;
        case NN_CUDA_MUL: y[i] = x * z; break;
        case NN_CUDA_DIV: y[i] = x / z; break;
        case NN_CUDA_PRELU: y[i] = x < 0 ? x * z : x; break;
        }
    }
}

extern "C" cudaError_t
nn_cuda_binary (NnCudaBinary op, const float *a, const float *b, float *y,
                const NnCudaBroadcast *bc, int64_t n, cudaStream_t stream)
{
  if (n == 0)
    return cudaSuccess;
  binary_kernel<<<nn_blocks (n), NN_THREADS, 0, stream>>> (op, a, b, y, *bc, n);
  return cudaGetLastError ();
}

static __global__ void
bias_act_kernel (float *y, const float *bias, int64_t channels, int64_t plane, int relu,
                 int64_t n)
{
  NN_FOR (i, n)
    {
      float v = y[i];

      if (bias != NULL)
        v += bias[(i / plane) % channels];
      if (relu && !(v > 0.f))
        v = 0.f;
      y[i] = v;
    }
}

extern "C" cudaError_t
nn_cuda_bias_act (float *y, const float *bias, int64_t images, int64_t channels, int64_t plane,
                  int relu, cudaStream_t stream)
{
  int64_t n = images * channels * plane;

  if (n == 0 || (bias == NULL && !relu))
    return cudaSuccess;
  bias_act_kernel<<<nn_blocks (n), NN_THREADS, 0, stream>>> (y, bias, channels, plane, relu, n);
  return cudaGetLastError ();
}

static __global__ void
im2col_kernel (const float *x, float *col, int64_t h, int64_t w, int64_t kh, int64_t kw,
               int64_t sh, int64_t sw, int64_t dh, int64_t dw, int64_t ph, int64_t pw,
               int64_t ow, int64_t oh0, int64_t rows, int64_t n)
{
  int64_t cols = rows * ow;

  NN_FOR (i, n)
    {
      int64_t p = i % cols, r = i / cols;
      int64_t kj = r % kw, ki = (r / kw) % kh, c = r / (kw * kh);
      int64_t oy = oh0 + p / ow, ox = p % ow;
      int64_t iy = oy * sh - ph + ki * dh, ix = ox * sw - pw + kj * dw;

      col[i] = iy >= 0 && iy < h && ix >= 0 && ix < w ? x[(c * h + iy) * w + ix] : 0.f;
    }
}

extern "C" cudaError_t
nn_cuda_im2col (const float *x, float *col, int64_t c, int64_t h, int64_t w, int64_t kh,
                int64_t kw, int64_t sh, int64_t sw, int64_t dh, int64_t dw, int64_t ph,
                int64_t pw, int64_t ow, int64_t oh0, int64_t rows, cudaStream_t stream)
{
  int64_t n = c * kh * kw * rows * ow;

  if (n == 0)
    return cudaSuccess;
  im2col_kernel<<<nn_blocks (n), NN_THREADS, 0, stream>>> (x, col, h, w, kh, kw, sh, sw, dh,
                                                            dw, ph, pw, ow, oh0, rows, n);
  return cudaGetLastError ();
}

static __global__ void
maxpool_kernel (const float *x, float *y, int64_t h, int64_t w, int64_t oh, int64_t ow,
                int64_t kh, int64_t kw, int64_t sh, int64_t sw, int64_t dh, int64_t dw,
                int64_t ph, int64_t pw, int64_t n)
{
  NN_FOR (i, n)
    {
      int64_t ox = i % ow, oy = (i / ow) % oh, plane = i / (ow * oh);
      const float *src = x + plane * h * w;
      float best = -INFINITY;

      for (int64_t ki = 0; ki < kh; ki++)
        {
          int64_t iy = oy * sh - ph + ki * dh;

          if (iy < 0 || iy >= h)
            continue;
          for (int64_t kj = 0; kj < kw; kj++)
            {
              int64_t ix = ox * sw - pw + kj * dw;

              if (ix >= 0 && ix < w)
                best = fmaxf (best, src[iy * w + ix]);
            }
        }
      y[i] = best;
    }
}

extern "C" cudaError_t
nn_cuda_maxpool (const float *x, float *y, int64_t planes, int64_t h, int64_t w, int64_t oh,
                 int64_t ow, int64_t kh, int64_t kw, int64_t sh, int64_t sw, int64_t dh,
                 int64_t dw, int64_t ph, int64_t pw, cudaStream_t stream)
{
  int64_t n = planes * oh * ow;

  if (n == 0)
    return cudaSuccess;
  maxpool_kernel<<<nn_blocks (n), NN_THREADS, 0, stream>>> (x, y, h, w, oh, ow, kh, kw, sh, sw,
                                                             dh, dw, ph, pw, n);
  return cudaGetLastError ();
}

static __global__ void
resize_kernel (const float *x, float *y, int64_t ih, int64_t iw, int64_t oh, int64_t ow,
               const int64_t *iy, const float *wy, int ny, const int64_t *ix, const float *wx,
               int nx, int nearest, int64_t n)
{
  NN_FOR (i, n)
    {
      int64_t ox = i % ow, oy = (i / ow) % oh, plane = i / (ow * oh);
      const float *src = x + plane * ih * iw;

      if (nearest)
        {
          y[i] = src[iy[oy * ny] * iw + ix[ox * nx]];
          continue;
        }
      float acc = 0.f;
      for (int j = 0; j < nx; j++)
        {
          int64_t col = ix[ox * nx + j];
          float t = 0.f;

          for (int k = 0; k < ny; k++)
            {
              float wk = wy[oy * ny + k];

              if (wk != 0.f)
                t += wk * src[iy[oy * ny + k] * iw + col];
            }
          acc += wx[ox * nx + j] * t;
        }
      y[i] = acc;
    }
}

extern "C" cudaError_t
nn_cuda_resize (const float *x, float *y, int64_t planes, int64_t ih, int64_t iw, int64_t oh,
                int64_t ow, const int64_t *iy, const float *wy, int ny, const int64_t *ix,
                const float *wx, int nx, int nearest, cudaStream_t stream)
{
  int64_t n = planes * oh * ow;

  if (n == 0)
    return cudaSuccess;
  resize_kernel<<<nn_blocks (n), NN_THREADS, 0, stream>>> (x, y, ih, iw, oh, ow, iy, wy, ny, ix,
                                                            wx, nx, nearest, n);
  return cudaGetLastError ();
}

template <typename T>
static __global__ void
gather_kernel (const T *x, T *y, NnCudaGather g, int64_t n)
{
  NN_FOR (i, n)
    {
      int64_t rem = i, off = g.base;

      for (int d = g.ndim - 1; d >= 0; d--)
        {
          off += (rem % g.dims[d]) * g.sstride[d];
          rem /= g.dims[d];
        }
      y[i] = x[off];
    }
}

extern "C" cudaError_t
nn_cuda_gather (const void *x, void *y, const NnCudaGather *g, int64_t n, int esize,
                cudaStream_t stream)
{
  if (n == 0)
    return cudaSuccess;
  if (esize == 4)
    gather_kernel<<<nn_blocks (n), NN_THREADS, 0, stream>>> ((const uint32_t *) x,
                                                             (uint32_t *) y, *g, n);
  else if (esize == 8)
    gather_kernel<<<nn_blocks (n), NN_THREADS, 0, stream>>> ((const uint64_t *) x,
                                                             (uint64_t *) y, *g, n);
  else
    return cudaErrorInvalidValue;
  return cudaGetLastError ();
}
