/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <string.h>

/* The toolkit's headers test undefined macros (-Wundef). */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wundef"
#include <cublas_v2.h>
#include <cuda_runtime_api.h>

#include "catena-nn-cuda-kernels.h"
#pragma GCC diagnostic pop
#include "catena-nn-params.h"
#include "catena-nn-private.h"

/* The CUDA executor: the same graph, the same load-time decisions (shapes, folded constants,
 * fused activations, parsed params) and the same arena plan as the CPU, in device memory.
 * Constants are uploaded once per graph and kept with it (g->device); activations live at the
 * CPU plan's offsets in one device arena. Nodes with a kernel here run on the GPU; any other
 * node runs its CPU kernel on host copies of its inputs (downloaded, run, uploaded), so every
 * model engine/nn loads also runs here. Any CUDA or cuBLAS failure frees the device state and
 * returns CATENA_NN_ERROR_DEVICE (CATENA_NN_ERROR_DEVICE_MEMORY when it ran out of memory);
 * catena_nn_graph_run_device () then reruns on the CPU, and the upscaler first retries with
 * smaller tiles. */

/* im2col scratch: output rows per GEMM are capped so the packed columns stay under this. */
#define NN_CUDA_COL_BYTES ((gsize) 256 << 20)

typedef struct
{
  cudaStream_t stream;
  cublasHandle_t blas;
  guint8 *arena;
  void **dconst;  /* per value: its constant, uploaded */
  void **dinput;  /* per value: a graph input kept outside the arena */
  void **dptr;    /* per value: where it lives for this run */
  void **dnode;   /* per node: Resize taps */
  float *col;
  gsize col_bytes;
  guint n_values, n_nodes;
  gboolean host_bound; /* this run's host views are set (a node ran on the CPU) */
  CatenaNnPrecision precision; /* of the convolutions' GEMMs */
} NnCuda;

static gboolean
cu_ok (cudaError_t e, const char *what, GError **error)
{
  if (e == cudaSuccess)
    return TRUE;
  if (e == cudaErrorMemoryAllocation)
    g_set_error (error, CATENA_NN_ERROR, CATENA_NN_ERROR_DEVICE_MEMORY,
                 "Not enough GPU memory to run the model (%s)", what);
  else
    g_set_error (error, CATENA_NN_ERROR, CATENA_NN_ERROR_DEVICE, "CUDA error in %s: %s (%s)",
                 what, cudaGetErrorString (e), cudaGetErrorName (e));
  return FALSE;
}

static gboolean
blas_ok (cublasStatus_t s, const char *what, GError **error)
{
  if (s == CUBLAS_STATUS_SUCCESS)
    return TRUE;
  if (s == CUBLAS_STATUS_ALLOC_FAILED)
    g_set_error (error, CATENA_NN_ERROR, CATENA_NN_ERROR_DEVICE_MEMORY,
                 "Not enough GPU memory to run the model (%s)", what);
  else
    g_set_error (error, CATENA_NN_ERROR, CATENA_NN_ERROR_DEVICE, "cuBLAS error in %s: status %d",
                 what, (int) s);
  return FALSE;
}

/* Column-major C (m × n) = A (m × k) · B (k × n), all float32 in device memory. fp32: SGEMM.
 * TF32 and fp16: the same float32 matrices, with cuBLAS rounding the products' inputs to
 * TF32 (10-bit mantissa) or half (CUBLAS_COMPUTE_32F_FAST_16F) on the tensor cores and
 * accumulating in fp32. The tensors stay float32 in memory either way. */
static gboolean
gemm (NnCuda *cu, int m, int n, int k, const float *a, int lda, const float *b, int ldb,
      float *c, int ldc, GError **error)
{
  static const float one = 1.f, zero = 0.f;
  cublasComputeType_t compute;

  if (cu->precision == CATENA_NN_PRECISION_FP32)
    return blas_ok (cublasSgemm (cu->blas, CUBLAS_OP_N, CUBLAS_OP_N, m, n, k, &one, a, lda, b,
                                 ldb, &zero, c, ldc),
                    "cublasSgemm", error);
  compute = cu->precision == CATENA_NN_PRECISION_FP16 ? CUBLAS_COMPUTE_32F_FAST_16F
                                                      : CUBLAS_COMPUTE_32F_FAST_TF32;
  return blas_ok (cublasGemmEx (cu->blas, CUBLAS_OP_N, CUBLAS_OP_N, m, n, k, &one, a,
                                CUDA_R_32F, lda, b, CUDA_R_32F, ldb, &zero, c, CUDA_R_32F, ldc,
                                compute, CUBLAS_GEMM_DEFAULT_TENSOR_OP),
                  "cublasGemmEx", error);
}

/* ---- availability (probed once) ---- */

static char *probe_name;
static char *probe_reason;

static gpointer
probe (gpointer unused)
{
  int n = 0;
  cudaError_t e = cudaGetDeviceCount (&n);
  struct cudaDeviceProp prop;

  if (e != cudaSuccess || n == 0)
    {
      /* cudaErrorNoDevice, cudaErrorInsufficientDriver (no libcuda), … */
      probe_reason = g_strdup_printf ("no CUDA device (%s)",
                                      e != cudaSuccess ? cudaGetErrorString (e)
                                                       : "no GPU found");
      cudaGetLastError ();
      return GINT_TO_POINTER (FALSE);
    }
  e = cudaGetDeviceProperties (&prop, 0);
  if (e != cudaSuccess)
    {
      probe_reason = g_strdup_printf ("no CUDA device (%s)", cudaGetErrorString (e));
      cudaGetLastError ();
      return GINT_TO_POINTER (FALSE);
    }
  probe_name = g_strdup_printf ("%s (sm_%d%d, %.0f GiB)", prop.name, prop.major, prop.minor,
                                prop.totalGlobalMem / 1073741824.0);
  return GINT_TO_POINTER (TRUE);
}

gboolean
nn_cuda_available (char **device_name)
{
  static GOnce once = G_ONCE_INIT;
  gboolean ok = GPOINTER_TO_INT (g_once (&once, probe, NULL));

  if (device_name != NULL)
    *device_name = ok ? g_strdup (probe_name) : NULL;
  return ok;
}

const char *
nn_cuda_probe_reason (void)
{
  nn_cuda_available (NULL);
  return probe_reason;
}

/* ---- device state ---- */

static void
cuda_state_free (gpointer data)
{
  NnCuda *cu = data;

  if (cu == NULL)
    return;
  if (cu->stream != NULL)
    cudaStreamSynchronize (cu->stream);
  for (guint i = 0; i < cu->n_values; i++)
    {
      if (cu->dconst[i] != NULL)
        cudaFree (cu->dconst[i]);
      if (cu->dinput[i] != NULL)
        cudaFree (cu->dinput[i]);
    }
  for (guint i = 0; i < cu->n_nodes; i++)
    if (cu->dnode[i] != NULL)
      cudaFree (cu->dnode[i]);
  if (cu->col != NULL)
    cudaFree (cu->col);
  if (cu->arena != NULL)
    cudaFree (cu->arena);
  if (cu->blas != NULL)
    cublasDestroy (cu->blas);
  if (cu->stream != NULL)
    cudaStreamDestroy (cu->stream);
  g_free (cu->dconst);
  g_free (cu->dinput);
  g_free (cu->dptr);
  g_free (cu->dnode);
  g_free (cu);
  /* a failed kernel leaves a sticky error behind; do not report it on the next run */
  cudaGetLastError ();
}

static gboolean
upload (void *dst, const void *src, gsize n, cudaStream_t stream, GError **error)
{
  if (n == 0)
    return TRUE;
  return cu_ok (cudaMemcpyAsync (dst, src, n, cudaMemcpyHostToDevice, stream), "upload", error);
}

static gboolean
upload_resize_taps (NnCuda *cu, guint ni, const ResizeParams *p, GError **error)
{
  gsize ny = (gsize) p->oh * p->ty.n_taps, nx = (gsize) p->ow * p->tx.n_taps;
  gsize bytes = (ny + nx) * (sizeof (gint64) + sizeof (float));
  guint8 *d;

  if (!cu_ok (cudaMalloc (&cu->dnode[ni], bytes), "cudaMalloc (resize taps)", error))
    return FALSE;
  d = cu->dnode[ni];
  return upload (d, p->ty.idx, ny * sizeof (gint64), cu->stream, error)
         && upload (d + ny * sizeof (gint64), p->tx.idx, nx * sizeof (gint64), cu->stream, error)
         && upload (d + (ny + nx) * sizeof (gint64), p->ty.w, ny * sizeof (float), cu->stream,
                    error)
         && upload (d + (ny + nx) * sizeof (gint64) + ny * sizeof (float), p->tx.w,
                    nx * sizeof (float), cu->stream, error);
}

static NnCuda *
cuda_state_new (NnGraph *g, GError **error)
{
  NnCuda *cu = g_new0 (NnCuda, 1);

  cu->n_values = g->values->len;
  cu->n_nodes = g->nodes->len;
  cu->dconst = g_new0 (void *, cu->n_values);
  cu->dinput = g_new0 (void *, cu->n_values);
  cu->dptr = g_new0 (void *, cu->n_values);
  cu->dnode = g_new0 (void *, cu->n_nodes);
  if (!cu_ok (cudaSetDevice (0), "cudaSetDevice", error)
      || !cu_ok (cudaStreamCreateWithFlags (&cu->stream, cudaStreamNonBlocking),
                 "cudaStreamCreate", error)
      || !blas_ok (cublasCreate (&cu->blas), "cublasCreate", error)
      || !blas_ok (cublasSetStream (cu->blas, cu->stream), "cublasSetStream", error))
    goto fail;
  /* Plain fp32 by default (the 1e-5 tests); tensor cores (TF32, fp16) as chosen: see gemm */
  cu->precision = catena_nn_get_gpu_precision ();
  if (cu->precision != CATENA_NN_PRECISION_FP32
      && !blas_ok (cublasSetMathMode (cu->blas, CUBLAS_TENSOR_OP_MATH), "cublasSetMathMode",
                   error))
    goto fail;
  if (g->arena_size > 0
      && !cu_ok (cudaMalloc ((void **) &cu->arena, g->arena_size), "cudaMalloc (arena)", error))
    goto fail;
  for (guint vi = 0; vi < cu->n_values; vi++)
    {
      NnValue *v = nn_value (g, vi);

      if (v->constant == NULL || v->constant->nbytes == 0)
        continue;
      if (!cu_ok (cudaMalloc (&cu->dconst[vi], v->constant->nbytes), "cudaMalloc (weights)",
                  error)
          || !upload (cu->dconst[vi], v->constant->data, v->constant->nbytes, cu->stream, error))
        goto fail;
    }
  for (guint i = 0; i < g->inputs->len; i++)
    {
      int vi = g_array_index (g->inputs, int, i);
      NnValue *v = nn_value (g, vi);

      if (!v->in_arena && v->nbytes > 0
          && !cu_ok (cudaMalloc (&cu->dinput[vi], v->nbytes), "cudaMalloc (input)", error))
        goto fail;
    }
  for (guint ni = 0; ni < cu->n_nodes; ni++)
    {
      NnNode *n = nn_node (g, ni);

      if (!n->dead && !n->alias && strcmp (n->op_type, "Resize") == 0 && n->params != NULL
          && !upload_resize_taps (cu, ni, n->params, error))
        goto fail;
    }
  if (!cu_ok (cudaStreamSynchronize (cu->stream), "upload", error))
    goto fail;
  return cu;

fail:
  cuda_state_free (cu);
  return NULL;
}

static int
value_root (NnGraph *g, int vi)
{
  while (nn_value (g, vi)->alias_of >= 0)
    vi = nn_value (g, vi)->alias_of;
  return vi;
}

/* ---- host fallback for nodes without a CUDA kernel ---- */

static gboolean
host_bind (NnGraph *g, NnCuda *cu, CatenaNnTensor *const *inputs, GError **error)
{
  if (cu->host_bound)
    return TRUE;
  if (g->arena == NULL && g->arena_size > 0)
    {
      g->arena = nn_aligned_alloc (g->arena_size);
      if (g->arena == NULL)
        {
          g_set_error (error, CATENA_NN_ERROR, CATENA_NN_ERROR_TOO_LARGE,
                       "Not enough memory to run the model (%.0f MiB needed)",
                       g->arena_size / 1048576.0);
          return FALSE;
        }
    }
  for (guint vi = 0; vi < g->values->len; vi++)
    {
      NnValue *v = nn_value (g, vi);

      g->views[vi].data = v->constant != NULL ? v->constant->data
                          : v->in_arena       ? g->arena + v->offset
                                              : NULL;
    }
  for (guint i = 0; i < g->inputs->len; i++)
    {
      int vi = g_array_index (g->inputs, int, i);

      if (!nn_value (g, vi)->in_arena)
        g->views[vi].data = inputs[i]->data;
    }
  for (guint vi = 0; vi < g->values->len; vi++)
    if (nn_value (g, vi)->alias_of >= 0)
      g->views[vi].data = g->views[value_root (g, vi)].data;
  cu->host_bound = TRUE;
  return TRUE;
}

static gboolean
run_on_host (NnGraph *g,
             NnCuda *cu,
             NnNode *n,
             CatenaNnTensor *const *inputs,
             GError **error)
{
  CatenaNnTensor *ip[n->n_in + 1], *op[n->n_out + 1];

  if (!host_bind (g, cu, inputs, error))
    return FALSE;
  for (int i = 0; i < n->n_in; i++)
    {
      int vi = n->in[i];
      NnValue *root = vi >= 0 ? nn_value (g, value_root (g, vi)) : NULL;

      ip[i] = vi >= 0 ? &g->views[vi] : NULL;
      /* constants are on the host already, and so are graph inputs outside the arena (their
       * view is the caller's tensor, never written), directly or through a view */
      if (vi < 0 || nn_value (g, vi)->constant != NULL || root->constant != NULL
          || nn_value (g, vi)->nbytes == 0 || (root->is_input && !root->in_arena))
        continue;
      if (!cu_ok (cudaMemcpyAsync (g->views[vi].data, cu->dptr[vi], nn_value (g, vi)->nbytes,
                                   cudaMemcpyDeviceToHost, cu->stream),
                  "download", error))
        return FALSE;
    }
  if (!cu_ok (cudaStreamSynchronize (cu->stream), "download", error))
    return FALSE;
  for (int o = 0; o < n->n_out; o++)
    op[o] = n->out[o] >= 0 ? &g->views[n->out[o]] : NULL;
  n->op->run (n, ip, op);
  for (int o = 0; o < n->n_out; o++)
    {
      int vi = n->out[o];

      if (vi >= 0 && cu->dptr[vi] != NULL
          && !upload (cu->dptr[vi], g->views[vi].data, nn_value (g, vi)->nbytes, cu->stream,
                      error))
        return FALSE;
    }
  /* the host buffers are reused by the next host node: finish the uploads first */
  return cu_ok (cudaStreamSynchronize (cu->stream), "upload", error);
}

/* ---- device kernels ---- */

static gboolean
run_conv (NnGraph *g, NnCuda *cu, NnNode *n, GError **error)
{
  const ConvParams *p = n->params;
  const float *x = cu->dptr[n->in[0]], *w = cu->dptr[n->in[1]];
  const float *b = n->n_in > 2 && n->in[2] >= 0 ? cu->dptr[n->in[2]] : NULL;
  float *y = cu->dptr[n->out[0]];
  gint64 plane_out = p->oh * p->ow;
  gint64 rows = MAX (1, MIN (p->oh, (gint64) (NN_CUDA_COL_BYTES / sizeof (float))
                                      / MAX (1, p->k * p->ow)));

  if (!p->pointwise)
    {
      gsize need = (gsize) (p->k * rows * p->ow) * sizeof (float);

      if (need > cu->col_bytes)
        {
          if (cu->col != NULL)
            cudaFree (cu->col);
          cu->col = NULL;
          cu->col_bytes = 0;
          if (!cu_ok (cudaMalloc ((void **) &cu->col, need), "cudaMalloc (im2col)", error))
            return FALSE;
          cu->col_bytes = need;
        }
    }
  for (gint64 img = 0; img < p->n; img++)
    for (gint64 grp = 0; grp < p->group; grp++)
      {
        const float *xg = x + (img * p->c + grp * p->cg) * p->h * p->w;
        const float *wg = w + grp * p->mg * p->k;
        float *yg = y + (img * p->m + grp * p->mg) * plane_out;

        if (p->pointwise)
          {
            /* row-major Y (mg × P) = W (mg × K) · X (K × P) is, column-major,
             * Yᵀ (P × mg) = Xᵀ (P × K) · Wᵀ (K × mg) */
            if (!gemm (cu, (int) plane_out, (int) p->mg, (int) p->k, xg, (int) plane_out, wg,
                       (int) p->k, yg, (int) plane_out, error))
              return FALSE;
            continue;
          }
        for (gint64 oh0 = 0; oh0 < p->oh; oh0 += rows)
          {
            gint64 r = MIN (rows, p->oh - oh0), cols = r * p->ow;

            if (!cu_ok (nn_cuda_im2col (xg, cu->col, p->cg, p->h, p->w, p->kh, p->kw, p->sh,
                                        p->sw, p->dh, p->dw, p->ph, p->pw, p->ow, oh0, r,
                                        cu->stream),
                        "im2col", error)
                || !gemm (cu, (int) cols, (int) p->mg, (int) p->k, cu->col, (int) cols, wg,
                          (int) p->k, yg + oh0 * p->ow, (int) plane_out, error))
              return FALSE;
          }
      }
  return cu_ok (nn_cuda_bias_act (y, b, p->n, p->m, plane_out, n->act == NN_ACT_RELU,
                                  cu->stream),
                "bias + activation", error);
}

static gboolean
all_float (NnGraph *g, NnNode *n)
{
  for (int i = 0; i < n->n_in; i++)
    if (n->in[i] >= 0 && nn_value (g, n->in[i])->dtype != CATENA_NN_DTYPE_FLOAT)
      return FALSE;
  for (int o = 0; o < n->n_out; o++)
    if (n->out[o] >= 0 && nn_value (g, n->out[o])->dtype != CATENA_NN_DTYPE_FLOAT)
      return FALSE;
  return TRUE;
}

/* TRUE in *handled when the node ran on the device; FALSE with an error on a device failure. */
static gboolean
run_on_device (NnGraph *g, NnCuda *cu, guint ni, gboolean *handled, GError **error)
{
  NnNode *n = nn_node (g, ni);
  const char *op = n->op_type;
  NnValue *out = n->n_out > 0 && n->out[0] >= 0 ? nn_value (g, n->out[0]) : NULL;
  void *y = out != NULL ? cu->dptr[n->out[0]] : NULL;
  const void *x = n->n_in > 0 && n->in[0] >= 0 ? cu->dptr[n->in[0]] : NULL;
  gsize esize;

  *handled = FALSE;
  /* only the activations read their attributes at run time; the rest need parsed params */
  if (out == NULL || (n->params == NULL && strcmp (op, "Relu") != 0
                      && strcmp (op, "Sigmoid") != 0 && strcmp (op, "Tanh") != 0
                      && strcmp (op, "LeakyRelu") != 0 && strcmp (op, "Clip") != 0))
    return TRUE;
  if (out->nbytes > 0 && (y == NULL || x == NULL))
    return TRUE;
  esize = catena_nn_dtype_size (out->dtype);

  if (strcmp (op, "Conv") == 0 && all_float (g, n))
    {
      const ConvParams *p = n->params;

      /* cuBLAS takes int sizes */
      if (p->k * p->ow * MAX (p->oh, 1) >= G_MAXINT || p->mg >= G_MAXINT)
        return TRUE;
      *handled = TRUE;
      return run_conv (g, cu, n, error);
    }
  if (all_float (g, n) && (strcmp (op, "Relu") == 0 || strcmp (op, "Sigmoid") == 0
                           || strcmp (op, "Tanh") == 0 || strcmp (op, "LeakyRelu") == 0
                           || strcmp (op, "Clip") == 0))
    {
      NnCudaUnary u = strcmp (op, "Relu") == 0      ? NN_CUDA_RELU
                      : strcmp (op, "Sigmoid") == 0 ? NN_CUDA_SIGMOID
                      : strcmp (op, "Tanh") == 0    ? NN_CUDA_TANH
                      : strcmp (op, "LeakyRelu") == 0 ? NN_CUDA_LEAKY_RELU
                                                      : NN_CUDA_CLIP;
      float a = nn_attr_float (n, "alpha", 0.01f), b = 0;

      if (u == NN_CUDA_CLIP)
        {
          NnValue *vmin = n->n_in > 1 && n->in[1] >= 0 ? nn_value (g, n->in[1]) : NULL;
          NnValue *vmax = n->n_in > 2 && n->in[2] >= 0 ? nn_value (g, n->in[2]) : NULL;

          /* bounds computed at run time stay on the CPU */
          if ((vmin != NULL && vmin->constant == NULL) || (vmax != NULL && vmax->constant == NULL))
            return TRUE;
          a = vmin != NULL ? *(const float *) vmin->constant->data
                           : nn_attr_float (n, "min", -INFINITY);
          b = vmax != NULL ? *(const float *) vmax->constant->data
                           : nn_attr_float (n, "max", INFINITY);
        }
      *handled = TRUE;
      return cu_ok (nn_cuda_unary (u, x, y, (gint64) out->n_elements, a, b, cu->stream), op,
                    error);
    }
  if (all_float (g, n) && (strcmp (op, "Add") == 0 || strcmp (op, "Sub") == 0
                           || strcmp (op, "Mul") == 0 || strcmp (op, "Div") == 0
                           || strcmp (op, "PRelu") == 0))
    {
      const BinParams *p = n->params;
      NnCudaBroadcast bc = { 0 };

      bc.ndim = p->ndim;
      for (int d = 0; d < p->ndim; d++)
        bc.dims[d] = p->dims[d], bc.sa[d] = p->sa[d], bc.sb[d] = p->sb[d];
      *handled = TRUE;
      return cu_ok (nn_cuda_binary ((NnCudaBinary) p->op, x, cu->dptr[n->in[1]], y, &bc,
                                    (gint64) out->n_elements, cu->stream),
                    op, error);
    }
  if (strcmp (op, "MaxPool") == 0 && all_float (g, n))
    {
      const PoolParams *p = n->params;

      if (!p->is_max || p->global)
        return TRUE;
      *handled = TRUE;
      return cu_ok (nn_cuda_maxpool (x, y, p->planes, p->h, p->w, p->oh, p->ow, p->kh, p->kw,
                                     p->sh, p->sw, p->dh, p->dw, p->ph, p->pw, cu->stream),
                    op, error);
    }
  if (strcmp (op, "Resize") == 0 && all_float (g, n) && cu->dnode[ni] != NULL)
    {
      const ResizeParams *p = n->params;
      gsize ny = (gsize) p->oh * p->ty.n_taps, nx = (gsize) p->ow * p->tx.n_taps;
      const guint8 *d = cu->dnode[ni];

      *handled = TRUE;
      return cu_ok (nn_cuda_resize (x, y, p->outer, p->ih, p->iw, p->oh, p->ow,
                                    (const int64_t *) d, (const float *) (d + (ny + nx) * 8),
                                    p->ty.n_taps, (const int64_t *) (d + ny * 8),
                                    (const float *) (d + (ny + nx) * 8 + ny * 4), p->tx.n_taps,
                                    p->nearest, cu->stream),
                    op, error);
    }
  if (strcmp (op, "Concat") == 0)
    {
      const ConcatParams *p = n->params;
      gsize out_bytes = 0, prefix = 0;

      for (int i = 0; i < n->n_in; i++)
        {
          NnValue *v = nn_value (g, n->in[i]);
          gsize inner = esize;

          for (int d = (int) p->axis; d < v->ndim; d++)
            inner *= (gsize) v->dims[d];
          out_bytes += inner;
        }
      *handled = TRUE;
      for (int i = 0; i < n->n_in && p->outer > 0; i++)
        {
          NnValue *v = nn_value (g, n->in[i]);
          gsize inner = esize;

          for (int d = (int) p->axis; d < v->ndim; d++)
            inner *= (gsize) v->dims[d];
          /* an input its producer wrote in place (catena-nn-graph.c, Concat in place) lives
           * at the same arena offset on the device: nothing to copy, and a copy onto itself
           * would be an overlapping cudaMemcpy */
          if (inner > 0 && (guint8 *) cu->dptr[n->in[i]] != (guint8 *) y + prefix
              && !cu_ok (cudaMemcpy2DAsync ((guint8 *) y + prefix, out_bytes, cu->dptr[n->in[i]],
                                            inner, inner, (gsize) p->outer,
                                            cudaMemcpyDeviceToDevice, cu->stream),
                         op, error))
            return FALSE;
          prefix += inner;
        }
      return TRUE;
    }
  if ((strcmp (op, "DepthToSpace") == 0 || strcmp (op, "Transpose") == 0) && (esize == 4 || esize == 8))
    {
      const PermParams *p = n->params;
      NnCudaGather ga = { 0 };

      ga.ndim = p->ndim;
      for (int d = 0; d < p->ndim; d++)
        ga.dims[d] = p->vdims[d], ga.sstride[d] = p->sstride[d];
      *handled = TRUE;
      return cu_ok (nn_cuda_gather (x, y, &ga, (gint64) out->n_elements, (int) esize,
                                    cu->stream),
                    op, error);
    }
  if (strcmp (op, "Slice") == 0 && (esize == 4 || esize == 8))
    {
      const GatherParams *p = n->params;
      NnCudaGather ga = { 0 };

      ga.ndim = out->ndim;
      ga.base = p->base;
      for (int d = 0; d < out->ndim; d++)
        ga.dims[d] = out->dims[d], ga.sstride[d] = p->sstride[d];
      *handled = TRUE;
      return cu_ok (nn_cuda_gather (x, y, &ga, (gint64) out->n_elements, (int) esize,
                                    cu->stream),
                    op, error);
    }
  return TRUE;
}

/* ---- one run ---- */

static gboolean
cuda_run_locked (NnGraph *g,
                 NnCuda *cu,
                 CatenaNnTensor *const *inputs,
                 CatenaNnTensor **outputs,
                 GCancellable *cancellable,
                 GError **error)
{
  cu->host_bound = FALSE;
  for (guint vi = 0; vi < cu->n_values; vi++)
    {
      NnValue *v = nn_value (g, vi);

      cu->dptr[vi] = v->constant != NULL ? cu->dconst[vi]
                     : v->in_arena       ? cu->arena + v->offset
                                         : cu->dinput[vi];
    }
  for (guint vi = 0; vi < cu->n_values; vi++)
    if (nn_value (g, vi)->alias_of >= 0)
      cu->dptr[vi] = cu->dptr[value_root (g, vi)];

  for (guint i = 0; i < g->inputs->len; i++)
    {
      int vi = g_array_index (g->inputs, int, i);
      NnValue *v = nn_value (g, vi);

      if (v->nbytes == 0)
        continue;
      if (v->in_arena && inputs[i]->dtype != v->dtype)
        {
          g_autofree guint8 *tmp = g_malloc (v->nbytes);

          nn_convert (inputs[i]->data, inputs[i]->dtype, tmp, v->dtype, v->n_elements);
          if (!upload (cu->dptr[vi], tmp, v->nbytes, cu->stream, error)
              || !cu_ok (cudaStreamSynchronize (cu->stream), "upload", error))
            return FALSE;
        }
      else if (!upload (cu->dptr[vi], inputs[i]->data, v->nbytes, cu->stream, error))
        return FALSE;
    }

  for (int s = 0; s < g->n_order; s++)
    {
      guint ni = (guint) g->order[s];
      NnNode *n = nn_node (g, ni);
      gboolean handled = FALSE;

      if (g_cancellable_set_error_if_cancelled (cancellable, error))
        return FALSE;
      if (n->alias || n->op->run == NULL)
        continue;
      if (!run_on_device (g, cu, ni, &handled, error))
        return FALSE;
      if (!handled && !run_on_host (g, cu, n, inputs, error))
        return FALSE;
    }
  if (!cu_ok (cudaStreamSynchronize (cu->stream), "the model's kernels", error))
    return FALSE;

  for (guint i = 0; i < g->outputs->len; i++)
    {
      int vi = g_array_index (g->outputs, int, i);
      NnValue *v = nn_value (g, vi);
      CatenaNnDType dt = g_array_index (g->output_dtypes, int, i);
      g_autofree guint8 *tmp = NULL;

      outputs[i] = catena_nn_tensor_new (dt, v->ndim, v->dims, error);
      if (outputs[i] == NULL)
        return FALSE;
      if (v->nbytes == 0)
        continue;
      if (v->constant != NULL)
        {
          nn_convert (v->constant->data, v->dtype, outputs[i]->data, dt, v->n_elements);
          continue;
        }
      tmp = dt == v->dtype ? NULL : g_malloc (v->nbytes);
      if (!cu_ok (cudaMemcpy (tmp != NULL ? tmp : outputs[i]->data, cu->dptr[vi], v->nbytes,
                              cudaMemcpyDeviceToHost),
                  "download", error))
        return FALSE;
      if (tmp != NULL)
        nn_convert (tmp, v->dtype, outputs[i]->data, dt, v->n_elements);
    }
  return TRUE;
}

gboolean
nn_cuda_graph_run (NnGraph *g,
                   CatenaNnTensor *const *inputs,
                   CatenaNnTensor **outputs,
                   GCancellable *cancellable,
                   GError **error)
{
  g_autofree char *name = NULL;
  g_autoptr (GError) local = NULL;
  gboolean ok;

  for (guint i = 0; i < g->inputs->len; i++)
    if (!nn_graph_check_input (g, i, inputs[i], error))
      return FALSE;
  for (guint i = 0; i < g->outputs->len; i++)
    outputs[i] = NULL;
  if (!nn_cuda_available (&name))
    {
      g_set_error (error, CATENA_NN_ERROR, CATENA_NN_ERROR_DEVICE, "No usable GPU: %s",
                   probe_reason != NULL ? probe_reason : "no CUDA device");
      return FALSE;
    }

  g_mutex_lock (&g->lock);
  if (g->device == NULL)
    {
      g->device = cuda_state_new (g, error);
      g->free_device = cuda_state_free;
      if (g->device == NULL)
        {
          g_mutex_unlock (&g->lock);
          return FALSE;
        }
    }
  ok = cuda_run_locked (g, g->device, inputs, outputs, cancellable, &local);
  if (!ok)
    {
      for (guint i = 0; i < g->outputs->len; i++)
        g_clear_pointer (&outputs[i], catena_nn_tensor_unref);
      /* After a device error the context may be unusable: start afresh next time. After a
       * cancellation, wait for the queued work so the state can be reused. */
      if (g_error_matches (local, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        cudaStreamSynchronize (((NnCuda *) g->device)->stream);
      else
        g_clear_pointer (&g->device, cuda_state_free);
      g_propagate_error (error, g_steal_pointer (&local));
    }
  g_mutex_unlock (&g->lock);
  return ok;
}
