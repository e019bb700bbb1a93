/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

/* engine/nn internals: the graph IR shared by the loaders (ONNX now, TF.js layers later),
 * the planner and the kernels. A graph is specialised for fixed input shapes when it is
 * loaded: every value has a known dtype and shape, constants are folded, and activations
 * live at planned offsets in one arena. */

#include "catena-nn.h"

G_BEGIN_DECLS

/* Refuse single tensors and arenas above these before allocating anything. */
#define NN_MAX_TENSOR_BYTES ((gsize) 4 << 30)
#define NN_MAX_ARENA_BYTES ((gsize) 16 << 30)
#define NN_ALIGN 64

typedef enum
{
  NN_ATTR_INT,
  NN_ATTR_INTS,
  NN_ATTR_FLOAT,
  NN_ATTR_FLOATS,
  NN_ATTR_STRING,
  NN_ATTR_TENSOR,
  NN_ATTR_OTHER, /* graphs, sparse tensors, type protos: never understood */
} NnAttrType;

typedef struct
{
  char *name;
  NnAttrType type;
  gint64 i;
  float f;
  char *s;
  gint64 *ints;
  float *floats;
  gsize n;
  CatenaNnTensor *t;
} NnAttr;

typedef struct
{
  char *name;
  CatenaNnDType dtype; /* internal: float16 is computed as float */
  int ndim;
  gint64 dims[CATENA_NN_MAX_DIMS];
  gsize n_elements;
  gsize nbytes;
  CatenaNnTensor *constant; /* known at load */
  int producer;             /* node index or -1 */
  int n_consumers;
  int alias_of;             /* value whose storage this one shares, or -1 */
  gboolean is_input;
  gboolean is_output;
  gboolean in_arena;
  gsize offset;
  int def_step;
  int last_use;
} NnValue;

typedef struct _NnNode NnNode;
typedef struct _NnOpInfo NnOpInfo;
typedef struct _CatenaNnGraph NnGraph;

typedef enum
{
  NN_ACT_NONE,
  NN_ACT_RELU,
} NnActivation;

struct _NnNode
{
  char *name;
  char *op_type;
  const NnOpInfo *op;
  int opset;
  int n_in;
  int *in; /* value index, -1 for an omitted optional input */
  int n_out;
  int *out;
  NnAttr *attrs;
  int n_attrs;
  gboolean dead;
  gboolean alias;  /* output 0 is input 0's storage seen with another shape or type */
  NnActivation act;
  gpointer params;
  GDestroyNotify free_params;
  double flops;
};

typedef void (*NnRunFunc) (NnNode *node, CatenaNnTensor *const *in, CatenaNnTensor *const *out);

struct _NnOpInfo
{
  const char *name;
  /* Checks attributes and inputs, sets outputs' dtype and shape (nn_set_output), may set
   * node->alias or fold outputs to constants. Fails with UNSUPPORTED naming the op. */
  gboolean (*prepare) (NnGraph *g, NnNode *node, GError **error);
  NnRunFunc run;
  gboolean no_fold; /* too costly to run while loading even on constant inputs */
};

struct _CatenaNnGraph
{
  GArray *values; /* NnValue */
  GArray *nodes;  /* NnNode */
  GHashTable *value_index; /* name → index + 1 */
  GArray *inputs;          /* value index */
  GArray *input_dtypes;    /* declared CatenaNnDType */
  GArray *outputs;
  GArray *output_dtypes;
  int *order;
  int n_order;
  gsize arena_size;
  guint8 *arena;
  CatenaNnTensor *views; /* one per value, data filled before each run */
  GMutex lock;
  double conv_flops;
  gpointer device; /* the CUDA executor's state (device arena, uploaded weights), or NULL */
  GDestroyNotify free_device;
  /* Scratch memory kernels use while a node runs (Winograd's transformed weights and
   * tiles), grown on demand and kept between runs like the arena: nn_workspace_get () in
   * catena-nn-winograd.h. */
  gpointer workspace;
  gsize workspace_size;
};

static inline NnValue *
nn_value (NnGraph *g, int index)
{
  return &g_array_index (g->values, NnValue, index);
}

static inline NnNode *
nn_node (NnGraph *g, int index)
{
  return &g_array_index (g->nodes, NnNode, index);
}

/* catena-nn-tensor.c */
gboolean nn_shape_elements (int ndim,
                            const gint64 *dims,
                            CatenaNnDType dtype,
                            gsize *n_elements,
                            gsize *nbytes,
                            GError **error);
void nn_convert (const void *src,
                 CatenaNnDType src_type,
                 void *dst,
                 CatenaNnDType dst_type,
                 gsize n);
gboolean nn_dtype_is_storable (CatenaNnDType dtype);
double nn_tensor_get_double (const CatenaNnTensor *t, gsize i);
gint64 nn_tensor_get_int (const CatenaNnTensor *t, gsize i);
gpointer nn_aligned_alloc (gsize size);
void nn_aligned_free (gpointer p);

/* A buffer per thread that grows to the largest size asked of it and lives as long as the
 * thread (the kernels' row and tile buffers). Aborts if memory runs out, as g_malloc does. */
typedef struct
{
  GPrivate buf;
  GPrivate n_floats;
} NnThreadScratch;
#define NN_THREAD_SCRATCH_INIT { G_PRIVATE_INIT (nn_aligned_free), G_PRIVATE_INIT (NULL) }
float *nn_thread_scratch (NnThreadScratch *scratch, gsize n_floats);

/* catena-nn-graph.c */
int nn_graph_add_value (NnGraph *g, const char *name);
int nn_graph_lookup (NnGraph *g, const char *name);
NnGraph *nn_graph_new (void);
gboolean nn_graph_add_node (NnGraph *g, NnNode *node, GError **error);
gboolean nn_graph_finish (NnGraph *g, const char *const *wanted_outputs, GError **error);
gboolean nn_graph_check_input (NnGraph *g, guint i, CatenaNnTensor *t, GError **error);
NnAttr *nn_attr (NnNode *node, const char *name);
gint64 nn_attr_int (NnNode *node, const char *name, gint64 def);
float nn_attr_float (NnNode *node, const char *name, float def);
const char *nn_attr_string (NnNode *node, const char *name, const char *def);
const gint64 *nn_attr_ints (NnNode *node, const char *name, gsize *n);
gboolean nn_check_attrs (NnNode *node, const char *const *known, GError **error);
NnValue *nn_input (NnGraph *g, NnNode *node, int i);
gboolean nn_set_output (NnGraph *g,
                        NnNode *node,
                        int i,
                        CatenaNnDType dtype,
                        int ndim,
                        const gint64 *dims,
                        GError **error);
void nn_error (GError **error, int code, NnNode *node, const char *format, ...)
  G_GNUC_PRINTF (4, 5);

/* catena-nn-ops.c */
const NnOpInfo *nn_op_lookup (const char *op_type);
const char *const *nn_supported_ops (void);

/* catena-nn-conv.c */
gboolean nn_conv_prepare (NnGraph *g, NnNode *node, GError **error);
void nn_conv_run (NnNode *node, CatenaNnTensor *const *in, CatenaNnTensor *const *out);
/* Shared with pooling: fills begin/end pads and output size for one spatial axis. */
gboolean nn_window_axis (const char *auto_pad,
                         gint64 in,
                         gint64 k,
                         gint64 stride,
                         gint64 dilation,
                         gint64 *pad_begin,
                         gint64 *pad_end,
                         gboolean ceil_mode,
                         gint64 *out);

/* cuda/catena-nn-cuda.c (only with CUDA): runs the graph on the device; FALSE with an error
 * when anything on the device fails (the caller then runs it on the CPU). */
gboolean nn_cuda_available (char **device_name);
/* Why no device is usable (NULL when one is), e.g. "no CUDA device (no CUDA-capable device
 * is detected)". */
const char *nn_cuda_probe_reason (void);
gboolean nn_cuda_graph_run (NnGraph *g,
                            CatenaNnTensor *const *inputs,
                            CatenaNnTensor **outputs,
                            GCancellable *cancellable,
                            GError **error);

/* catena-nn-device.c. catena_nn_graph_run_device () plus: with `oom` non-NULL, running out
 * of GPU memory is not hidden by a CPU rerun: the call returns FALSE with *oom = TRUE, the
 * reason in `fallback` and no `error`, so the caller can retry with smaller work. Any other
 * device failure still falls back to the CPU. */
gboolean nn_graph_run_device_ex (CatenaNnGraph *graph,
                                 CatenaNnDevice device,
                                 CatenaNnTensor *const *inputs,
                                 CatenaNnTensor **outputs,
                                 CatenaNnDevice *used,
                                 gboolean *oom,
                                 GError **fallback,
                                 GCancellable *cancellable,
                                 GError **error);
/* Tells the device notify (catena_nn_set_device_notify) where a model ran: once per model
 * call that used the process-wide choice (ISNet run, one whole upscale). */
void nn_device_report (CatenaNnDevice used, const GError *fallback);
/* Tests only: stands in for the CUDA executor (in any build) so the device choice, the
 * fallbacks and the upscaler's smaller-tile retry can be exercised without a GPU. `name` is
 * what catena_nn_cuda_available () reports while it is set. NULL restores the real one. */
typedef gboolean (*NnDeviceExecutor) (CatenaNnGraph *graph,
                                      CatenaNnTensor *const *inputs,
                                      CatenaNnTensor **outputs,
                                      GCancellable *cancellable,
                                      GError **error);
void nn_device_set_test_executor (NnDeviceExecutor executor, const char *name);

/* catena-nn-parallel.c: runs fn (user, task, thread) for task in [0, n_tasks) on the pool. */
typedef void (*NnTaskFunc) (gpointer user, gsize task, int thread);
void nn_parallel_run (gsize n_tasks, NnTaskFunc fn, gpointer user);
int nn_parallel_n_threads (void);

G_END_DECLS
