/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

/* engine/nn: Catena's own inference engine for local models (CPU, NCHW float32).
 * No GEGL, no GTK: GLib/GIO, json-glib, OpenBLAS and protobuf-c only. See docs/nn.md.
 *
 * Calling it from a stage (a worker thread; nothing here touches a main context):
 *
 *   Background removal: catena_nn_isnet_load (catena_nn_find_model (CATENA_NN_ISNET_MODEL))
 *   once, then catena_nn_isnet_run () on 8-bit RGBA.
 *
 *   Upscaling (ESRGAN/RDN models of @upscalerjs, TF.js layers format):
 *     g_autofree char *path = catena_nn_find_upscaler (CATENA_NN_ESRGAN_MEDIUM, 4);
 *     if (path == NULL) → CATENA_NN_ERROR_MODEL_MISSING with
 *       catena_nn_model_missing_message (catena_nn_upscaler_model_name (family, scale))
 *     CatenaNnUpscaler *up = catena_nn_upscaler_load (path, &error);   // ~10 ms, keep it
 *     catena_nn_upscaler_process (up, src_w, src_h, 0, -1, read_rect, write_rect, progress,
 *                                 data, cancellable, &error);
 *   read_rect (x, y, w, h, rgba, stride) is asked for input rectangles (always inside the
 *   picture) and fills non-premultiplied R'G'B'A float (sRGB-encoded, 0…1 — babl
 *   "R'G'B'A float": the networks were trained on 8-bit sRGB); write_rect gets output
 *   rectangles (output coordinates = input · scale), each output pixel exactly once, in bands
 *   from top to bottom. Memory is bounded by the tile size, not the picture: an 8K output
 *   never exists in memory at once. A GeglBuffer caller maps them to gegl_buffer_get/set.
 *   catena_nn_upscaler_run () does the same on whole in-memory buffers. An upscaler serves one
 *   call at a time (calls from several threads are serialised); use one per worker to run in
 *   parallel (each holds its own working memory). Cancellation → G_IO_ERROR_CANCELLED. */

#include <gio/gio.h>

G_BEGIN_DECLS

#define CATENA_NN_ERROR (catena_nn_error_quark ())
typedef enum
{
  CATENA_NN_ERROR_INVALID,       /* malformed model or tensor file, inconsistent shapes */
  CATENA_NN_ERROR_UNSUPPORTED,   /* operator, attribute, type or shape engine/nn cannot run */
  CATENA_NN_ERROR_NOT_CONSTANT,  /* a shape-determining input is not known when loading */
  CATENA_NN_ERROR_TOO_LARGE,     /* refused before allocating */
  CATENA_NN_ERROR_INPUT,         /* a run's inputs do not match what the model expects */
  CATENA_NN_ERROR_MODEL_MISSING, /* weights are not installed */
  CATENA_NN_ERROR_IO,            /* the model file could not be read */
  CATENA_NN_ERROR_DEVICE,        /* the GPU could not run the model (no device, driver error) */
  CATENA_NN_ERROR_DEVICE_MEMORY, /* the GPU ran out of memory (smaller work may fit) */
} CatenaNnError;

GQuark catena_nn_error_quark (void);

/* Values follow ONNX's TensorProto.DataType. */
typedef enum
{
  CATENA_NN_DTYPE_UNDEFINED = 0,
  CATENA_NN_DTYPE_FLOAT = 1,
  CATENA_NN_DTYPE_UINT8 = 2,
  CATENA_NN_DTYPE_INT8 = 3,
  CATENA_NN_DTYPE_UINT16 = 4,
  CATENA_NN_DTYPE_INT16 = 5,
  CATENA_NN_DTYPE_INT32 = 6,
  CATENA_NN_DTYPE_INT64 = 7,
  CATENA_NN_DTYPE_STRING = 8,
  CATENA_NN_DTYPE_BOOL = 9,
  CATENA_NN_DTYPE_FLOAT16 = 10,
  CATENA_NN_DTYPE_DOUBLE = 11,
  CATENA_NN_DTYPE_UINT32 = 12,
  CATENA_NN_DTYPE_UINT64 = 13,
  CATENA_NN_DTYPE_BFLOAT16 = 16,
} CatenaNnDType;

#define CATENA_NN_MAX_DIMS 8

/* A dense row-major tensor (NCHW for images). Reference counted; data is owned unless the
 * tensor was made with catena_nn_tensor_new_wrap(). */
typedef struct _CatenaNnTensor CatenaNnTensor;
struct _CatenaNnTensor
{
  CatenaNnDType dtype;
  int ndim;
  gint64 dims[CATENA_NN_MAX_DIMS];
  gsize n_elements;
  gsize nbytes;
  gpointer data;
  /*< private >*/
  gint ref_count;
  GDestroyNotify free_data;
};

gsize catena_nn_dtype_size (CatenaNnDType dtype);
const char *catena_nn_dtype_name (CatenaNnDType dtype);

CatenaNnTensor *catena_nn_tensor_new (CatenaNnDType dtype,
                                      int ndim,
                                      const gint64 *dims,
                                      GError **error);
CatenaNnTensor *catena_nn_tensor_new_wrap (CatenaNnDType dtype,
                                           int ndim,
                                           const gint64 *dims,
                                           gpointer data,
                                           GDestroyNotify free_data,
                                           GError **error);
/* Parses a serialized ONNX TensorProto (the test suites' input_N.pb / output_N.pb). */
CatenaNnTensor *catena_nn_tensor_new_from_onnx (const guint8 *data, gsize len, GError **error);
CatenaNnTensor *catena_nn_tensor_ref (CatenaNnTensor *tensor);
void catena_nn_tensor_unref (CatenaNnTensor *tensor);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (CatenaNnTensor, catena_nn_tensor_unref)

float catena_nn_half_to_float (guint16 h);
guint16 catena_nn_float_to_half (float f);

/* A loaded model, specialised for fixed input shapes and ready to run. */
typedef struct _CatenaNnGraph CatenaNnGraph;

typedef struct
{
  /* input name → CatenaNnTensor*: inputs bound to constants at load (they then disappear from
   * the graph's inputs), e.g. to fold shape computations. May be NULL. */
  GHashTable *constants;
  /* NULL-terminated names of the outputs to compute; NULL computes all. Nodes that only feed
   * other outputs are dropped at load. */
  const char *const *outputs;
} CatenaNnLoadOptions;

CatenaNnGraph *catena_nn_graph_load_onnx (const guint8 *data,
                                          gsize len,
                                          const CatenaNnLoadOptions *options,
                                          GError **error);
CatenaNnGraph *catena_nn_graph_load_onnx_file (const char *path,
                                               const CatenaNnLoadOptions *options,
                                               GError **error);
void catena_nn_graph_free (CatenaNnGraph *graph);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (CatenaNnGraph, catena_nn_graph_free)

guint catena_nn_graph_get_n_inputs (CatenaNnGraph *graph);
guint catena_nn_graph_get_n_outputs (CatenaNnGraph *graph);
/* dims points into the graph; valid while it lives. */
const char *catena_nn_graph_get_input (CatenaNnGraph *graph,
                                       guint index,
                                       CatenaNnDType *dtype,
                                       int *ndim,
                                       const gint64 **dims);
const char *catena_nn_graph_get_output (CatenaNnGraph *graph,
                                        guint index,
                                        CatenaNnDType *dtype,
                                        int *ndim,
                                        const gint64 **dims);
/* Multiply-adds × 2 of the Conv nodes, for benchmarks. */
double catena_nn_graph_get_conv_flops (CatenaNnGraph *graph);
/* A one-line-per-node summary (op counts after folding and fusion) for debugging. */
char *catena_nn_graph_describe (CatenaNnGraph *graph);

/* inputs: one tensor per graph input, in order. outputs: an array of n_outputs pointers that
 * receive new references. Runs of one graph are serialised; different graphs may run at once. */
gboolean catena_nn_graph_run (CatenaNnGraph *graph,
                              CatenaNnTensor *const *inputs,
                              CatenaNnTensor **outputs,
                              GCancellable *cancellable,
                              GError **error);

/* ---- GPU (CUDA; see docs/cuda.md) ---- */

typedef enum
{
  CATENA_NN_DEVICE_CPU,
  CATENA_NN_DEVICE_CUDA,
  CATENA_NN_DEVICE_AUTO, /* the GPU when this build has CUDA and a device exists, else the CPU */
} CatenaNnDevice;

/* "cpu", "cuda", "auto" ↔ the enum. FALSE for anything else. */
gboolean catena_nn_device_from_string (const char *text, CatenaNnDevice *device);
const char *catena_nn_device_to_string (CatenaNnDevice device);

/* TRUE when this build has the CUDA executor and a usable device exists (driver loaded, at
 * least one GPU); device_name (may be NULL) then receives its name. Never crashes without
 * a driver: FALSE. Cheap after the first call. */
gboolean catena_nn_cuda_available (char **device_name);

/* Why no GPU can be used (NULL when one can), e.g. "this build has no CUDA support". */
char *catena_nn_device_unavailable_reason (void);

/* Where `device` resolves to now: CPU or CUDA (AUTO → CUDA only when available). */
CatenaNnDevice catena_nn_device_resolve (CatenaNnDevice device);

/* One line for the user naming where local models run with this choice, e.g.
 * "GPU: NVIDIA H200 (sm_90, 139 GiB)" or "CPU, 2 threads (no GPU: this build has no CUDA
 * support)". Translatable by the caller only as a whole; engine/nn is not localised. */
char *catena_nn_device_describe (CatenaNnDevice device);

/* The process-wide choice the stages use (remove background, upscale). Starts as
 * $CATENA_DEVICE when that parses, else AUTO. Thread-safe. */
void catena_nn_set_device (CatenaNnDevice device);
CatenaNnDevice catena_nn_get_device (void);

/* How the GPU multiplies in convolutions. FP32 (default): exact float32, within 1e-5 of the
 * CPU. TF32 and FP16: tensor cores, inputs of each product rounded to TF32 or half, sums in
 * float32 (tensors stay float32 in memory); several times the throughput on A100/H100, at
 * about 1e-3 relative error. Starts as $CATENA_NN_CUDA_PRECISION (fp32, tf32, fp16);
 * applies to graphs first run on the GPU afterwards. */
typedef enum
{
  CATENA_NN_PRECISION_FP32,
  CATENA_NN_PRECISION_TF32,
  CATENA_NN_PRECISION_FP16,
} CatenaNnPrecision;

gboolean catena_nn_precision_from_string (const char *text, CatenaNnPrecision *precision);
const char *catena_nn_precision_to_string (CatenaNnPrecision precision);
void catena_nn_set_gpu_precision (CatenaNnPrecision precision);
CatenaNnPrecision catena_nn_get_gpu_precision (void);

/* What the stages add to their cache keys for local models: NULL while models run at float32
 * (the CPU, or the GPU at FP32: the same picture to 1e-5, so one cache entry serves both),
 * else "tf32" or "fp16" when the process-wide choice resolves to the GPU at that precision,
 * whose pictures differ visibly enough that a cached one must not stand in for the other. */
const char *catena_nn_numerics_tag (void);

/* Called (from the worker thread that ran the model) after every model run that used the
 * process-wide choice: `used` is where it ran, `fallback` is NULL or why the GPU was not used
 * although it was asked for (an error of CATENA_NN_ERROR_DEVICE*). One notify per process;
 * NULL removes it. The UI marshals it to its main context; the CLI prints it. */
typedef void (*CatenaNnDeviceNotify) (CatenaNnDevice used,
                                      const GError *fallback,
                                      gpointer user_data);
void catena_nn_set_device_notify (CatenaNnDeviceNotify notify, gpointer user_data);

/* catena_nn_graph_run () on `device`. With CATENA_NN_DEVICE_CUDA (or AUTO with a device),
 * any device failure (no device, driver error, out of device memory) makes it run on the CPU
 * instead: the result is the same, and `fallback` (may be NULL) receives a
 * CATENA_NN_ERROR_DEVICE or _DEVICE_MEMORY error saying why. `used` (may be NULL) receives
 * where it actually ran. `error` is only set when the run itself fails (bad inputs,
 * cancellation), as for catena_nn_graph_run (). Operators without a CUDA kernel run on the
 * CPU between device kernels (their tensors are copied across). AUTO without a device runs
 * on the CPU with no fallback error. */
gboolean catena_nn_graph_run_device (CatenaNnGraph *graph,
                                     CatenaNnDevice device,
                                     CatenaNnTensor *const *inputs,
                                     CatenaNnTensor **outputs,
                                     CatenaNnDevice *used,
                                     GError **fallback,
                                     GCancellable *cancellable,
                                     GError **error);

/* NULL-terminated names of the ONNX operators engine/nn implements (default domain). */
const char *const *catena_nn_supported_ops (void);

/* Number of threads the kernels use (default: the number of CPUs, at most 64). */
void catena_nn_set_n_threads (int n_threads);
int catena_nn_get_n_threads (void);

/* Models. name is a file name such as CATENA_NN_ISNET_MODEL, or a relative path inside the
 * models folder (no “..”) such as "esrgan-slim-x2/model.json". Looks in $CATENA_MODEL_DIR, then
 * $XDG_CACHE_HOME/catena/models, then ~/.cache/catena/models. NULL when missing. */
#define CATENA_NN_ISNET_MODEL "isnet-medium.onnx"
char *catena_nn_find_model (const char *name);
/* A sentence for the user: what is missing and which command installs it. */
char *catena_nn_model_missing_message (const char *name);

/* ---- TF.js layers models (model.json + *.bin shards of float32) ---- */

typedef struct _CatenaNnTfjsModel CatenaNnTfjsModel;

/* path: a model.json or the folder holding it; shards are read from the same folder. */
CatenaNnTfjsModel *catena_nn_tfjs_model_load (const char *path, GError **error);
/* json: model.json's text; weights: every shard of the manifest concatenated in order. */
CatenaNnTfjsModel *catena_nn_tfjs_model_load_data (const char *json,
                                                   gsize json_len,
                                                   const guint8 *weights,
                                                   gsize weights_len,
                                                   GError **error);
void catena_nn_tfjs_model_free (CatenaNnTfjsModel *model);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (CatenaNnTfjsModel, catena_nn_tfjs_model_free)
/* A graph for a 1×C×height×width input (NCHW; the model's symbolic sizes fixed here). */
CatenaNnGraph *catena_nn_tfjs_model_build (CatenaNnTfjsModel *model,
                                           int height,
                                           int width,
                                           GError **error);
/* Input pixels that influence one output pixel, each side (from the conv kernels). */
int catena_nn_tfjs_model_get_radius (CatenaNnTfjsModel *model);
int catena_nn_tfjs_model_get_channels (CatenaNnTfjsModel *model);

/* ---- Upscaling (see the top of this file) ---- */

#define CATENA_NN_ESRGAN_SLIM "esrgan-slim"
#define CATENA_NN_ESRGAN_MEDIUM "esrgan-medium"

typedef struct _CatenaNnUpscaler CatenaNnUpscaler;

typedef gboolean (*CatenaNnReadRectFunc) (int x,
                                          int y,
                                          int width,
                                          int height,
                                          float *rgba,
                                          int stride_floats,
                                          gpointer user_data,
                                          GError **error);
typedef gboolean (*CatenaNnWriteRectFunc) (int x,
                                           int y,
                                           int width,
                                           int height,
                                           const float *rgba,
                                           int stride_floats,
                                           gpointer user_data,
                                           GError **error);
typedef void (*CatenaNnProgressFunc) (double fraction, gpointer user_data);

/* family: CATENA_NN_ESRGAN_SLIM or _MEDIUM; scale 2, 3, 4 or 8. The model's file name under
 * the models folder ("esrgan-medium-x4/model.json"), or NULL for an unknown model. */
char *catena_nn_upscaler_model_name (const char *family, int scale);
/* Its installed path (catena_nn_find_model), or NULL. */
char *catena_nn_find_upscaler (const char *family, int scale);

CatenaNnUpscaler *catena_nn_upscaler_load (const char *model_dir_or_json, GError **error);
void catena_nn_upscaler_free (CatenaNnUpscaler *upscaler);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (CatenaNnUpscaler, catena_nn_upscaler_free)
int catena_nn_upscaler_get_scale (CatenaNnUpscaler *upscaler);
/* The overlap (input pixels per side) at which tiles equal the untiled result. */
int catena_nn_upscaler_get_receptive_radius (CatenaNnUpscaler *upscaler);
/* tile: side of the window the network sees, in input pixels (0: 192; memory grows with its
 * square: arena 198 MiB at 192 for esrgan-medium, 54 MiB for slim); overlap: context pixels
 * per side (−1: the receptive radius, seamless). Writes happen before the function returns;
 * progress (may be NULL) gets the fraction done after each tile. All three callbacks get
 * user_data. */
gboolean catena_nn_upscaler_process (CatenaNnUpscaler *upscaler,
                                     int width,
                                     int height,
                                     int tile,
                                     int overlap,
                                     CatenaNnReadRectFunc read_rect,
                                     CatenaNnWriteRectFunc write_rect,
                                     CatenaNnProgressFunc progress,
                                     gpointer user_data,
                                     GCancellable *cancellable,
                                     GError **error);
/* Whole buffers: rgba_in width × height, rgba_out (width·scale) × (height·scale), rows of
 * *_stride_floats floats. */
gboolean catena_nn_upscaler_run (CatenaNnUpscaler *upscaler,
                                 const float *rgba_in,
                                 int width,
                                 int height,
                                 int in_stride_floats,
                                 float *rgba_out,
                                 int out_stride_floats,
                                 int tile,
                                 int overlap,
                                 GCancellable *cancellable,
                                 CatenaNnProgressFunc progress,
                                 gpointer progress_data,
                                 GError **error);
/* The graph for one window size (benchmarks, tests); owned by the upscaler, valid until the
 * next call with another size. Not thread-safe against a running process (). */
CatenaNnGraph *catena_nn_upscaler_get_graph (CatenaNnUpscaler *upscaler,
                                             int width,
                                             int height,
                                             GError **error);

/* ISNet background removal (IS-Net from @imgly/background-removal-data, 1024×1024). */
typedef struct _CatenaNnIsnet CatenaNnIsnet;

CatenaNnIsnet *catena_nn_isnet_load (const char *model_path, GError **error);
void catena_nn_isnet_free (CatenaNnIsnet *isnet);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (CatenaNnIsnet, catena_nn_isnet_free)
/* rgba: 8-bit RGBA rows of `stride` bytes. alpha_out: width × height bytes (row stride =
 * width), the predicted alpha at full resolution. */
gboolean catena_nn_isnet_run (CatenaNnIsnet *isnet,
                              const guint8 *rgba,
                              int width,
                              int height,
                              int stride,
                              guint8 *alpha_out,
                              GCancellable *cancellable,
                              GError **error);
/* The network's raw 1024×1024 float output for the last run (owned by isnet), or NULL. */
const float *catena_nn_isnet_get_raw_output (CatenaNnIsnet *isnet);
CatenaNnGraph *catena_nn_isnet_get_graph (CatenaNnIsnet *isnet);

/* The reference bilinear of @imgly/background-removal (source x = dst x · srcW/dstW, no
 * half-pixel offset, floor/ceil neighbours clamped, rounded half up), on interleaved 8-bit
 * pixels with `channels` channels. */
void catena_nn_resize_bilinear_u8 (const guint8 *src,
                                   int src_w,
                                   int src_h,
                                   int src_stride,
                                   guint8 *dst,
                                   int dst_w,
                                   int dst_h,
                                   int dst_stride,
                                   int channels);

G_END_DECLS
