/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <string.h>

#include "catena-nn-private.h"

/* Where local models run. The entry points exist in every build; without CATENA_NN_HAVE_CUDA
 * (no nvcc or no cuBLAS when configuring, or -Dcuda=disabled) they report no device and run
 * on the CPU. The process-wide choice (catena_nn_set_device) is what the stages use: the UI
 * sets it from its preferences, catena-cli from --device, anyone from $CATENA_DEVICE. */

static GMutex device_lock;
static CatenaNnDevice chosen = CATENA_NN_DEVICE_AUTO;
static gboolean chosen_set;
static CatenaNnDeviceNotify notify_fn;
static gpointer notify_data;
static CatenaNnPrecision precision = CATENA_NN_PRECISION_FP32;
static gboolean precision_set;
static NnDeviceExecutor test_executor;
static char *test_device_name;

gboolean
catena_nn_device_from_string (const char *text, CatenaNnDevice *device)
{
  static const struct
  {
    const char *name;
    CatenaNnDevice device;
  } names[] = {
    { "cpu", CATENA_NN_DEVICE_CPU },
    { "cuda", CATENA_NN_DEVICE_CUDA },
    { "gpu", CATENA_NN_DEVICE_CUDA },
    { "auto", CATENA_NN_DEVICE_AUTO },
  };

  for (guint i = 0; text != NULL && i < G_N_ELEMENTS (names); i++)
    if (g_ascii_strcasecmp (text, names[i].name) == 0)
      {
        if (device != NULL)
          *device = names[i].device;
        return TRUE;
      }
  return FALSE;
}

const char *
catena_nn_device_to_string (CatenaNnDevice device)
{
  switch (device)
    {
    case CATENA_NN_DEVICE_CPU:
      return "cpu";
    case CATENA_NN_DEVICE_CUDA:
      return "cuda";
    case CATENA_NN_DEVICE_AUTO:
    default:
      return "auto";
    }
}

void
nn_device_set_test_executor (NnDeviceExecutor executor, const char *name)
{
  g_mutex_lock (&device_lock);
  test_executor = executor;
  g_free (test_device_name);
  test_device_name = executor != NULL ? g_strdup (name != NULL ? name : "test device") : NULL;
  g_mutex_unlock (&device_lock);
}

static NnDeviceExecutor
get_test_executor (char **name)
{
  NnDeviceExecutor fn;

  g_mutex_lock (&device_lock);
  fn = test_executor;
  if (name != NULL)
    *name = fn != NULL ? g_strdup (test_device_name) : NULL;
  g_mutex_unlock (&device_lock);
  return fn;
}

gboolean
catena_nn_cuda_available (char **device_name)
{
  if (device_name != NULL)
    *device_name = NULL;
  if (get_test_executor (device_name) != NULL)
    return TRUE;
#ifdef CATENA_NN_HAVE_CUDA
  return nn_cuda_available (device_name);
#else
  return FALSE;
#endif
}

const char *
catena_nn_numerics_tag (void)
{
  CatenaNnPrecision p = catena_nn_get_gpu_precision ();

  if (p == CATENA_NN_PRECISION_FP32 ||
      catena_nn_device_resolve (catena_nn_get_device ()) != CATENA_NN_DEVICE_CUDA)
    return NULL;
  return catena_nn_precision_to_string (p);
}

CatenaNnDevice
catena_nn_device_resolve (CatenaNnDevice device)
{
  if (device == CATENA_NN_DEVICE_AUTO)
    return catena_nn_cuda_available (NULL) ? CATENA_NN_DEVICE_CUDA : CATENA_NN_DEVICE_CPU;
  return device == CATENA_NN_DEVICE_CUDA ? CATENA_NN_DEVICE_CUDA : CATENA_NN_DEVICE_CPU;
}

char *
catena_nn_device_unavailable_reason (void)
{
  if (catena_nn_cuda_available (NULL))
    return NULL;
#ifdef CATENA_NN_HAVE_CUDA
  return g_strdup (nn_cuda_probe_reason () != NULL ? nn_cuda_probe_reason ()
                                                   : "no CUDA device found");
#else
  return g_strdup ("this build has no CUDA support");
#endif
}

char *
catena_nn_device_describe (CatenaNnDevice device)
{
  g_autofree char *name = NULL, *why = NULL;
  int threads = catena_nn_get_n_threads ();

  if (device != CATENA_NN_DEVICE_CPU && catena_nn_cuda_available (&name))
    return g_strdup_printf ("GPU: %s", name);
  if (device == CATENA_NN_DEVICE_CPU)
    return g_strdup_printf ("CPU, %d thread%s", threads, threads == 1 ? "" : "s");
  why = catena_nn_device_unavailable_reason ();
  return g_strdup_printf ("CPU, %d thread%s (no GPU: %s)", threads, threads == 1 ? "" : "s",
                          why);
}

void
catena_nn_set_device (CatenaNnDevice device)
{
  g_mutex_lock (&device_lock);
  chosen = device;
  chosen_set = TRUE;
  g_mutex_unlock (&device_lock);
}

CatenaNnDevice
catena_nn_get_device (void)
{
  CatenaNnDevice d;

  g_mutex_lock (&device_lock);
  if (!chosen_set)
    {
      const char *env = g_getenv ("CATENA_DEVICE");

      if (env != NULL && env[0] != '\0' && !catena_nn_device_from_string (env, &chosen))
        g_warning ("CATENA_DEVICE=%s is not cpu, cuda or auto; using auto", env);
      chosen_set = TRUE;
    }
  d = chosen;
  g_mutex_unlock (&device_lock);
  return d;
}

static const char *const precision_names[] = { "fp32", "tf32", "fp16" };

gboolean
catena_nn_precision_from_string (const char *text, CatenaNnPrecision *out)
{
  for (guint i = 0; text != NULL && i < G_N_ELEMENTS (precision_names); i++)
    if (g_ascii_strcasecmp (text, precision_names[i]) == 0)
      {
        if (out != NULL)
          *out = (CatenaNnPrecision) i;
        return TRUE;
      }
  return FALSE;
}

const char *
catena_nn_precision_to_string (CatenaNnPrecision p)
{
  return (guint) p < G_N_ELEMENTS (precision_names) ? precision_names[p] : "fp32";
}

void
catena_nn_set_gpu_precision (CatenaNnPrecision p)
{
  g_mutex_lock (&device_lock);
  precision = p;
  precision_set = TRUE;
  g_mutex_unlock (&device_lock);
}

CatenaNnPrecision
catena_nn_get_gpu_precision (void)
{
  CatenaNnPrecision p;

  g_mutex_lock (&device_lock);
  if (!precision_set)
    {
      const char *env = g_getenv ("CATENA_NN_CUDA_PRECISION");

      if (env != NULL && env[0] != '\0' && !catena_nn_precision_from_string (env, &precision))
        g_warning ("CATENA_NN_CUDA_PRECISION=%s is not fp32, tf32 or fp16; using fp32", env);
      /* the older switch */
      if ((env == NULL || env[0] == '\0')
          && g_strcmp0 (g_getenv ("CATENA_NN_CUDA_TF32"), "1") == 0)
        precision = CATENA_NN_PRECISION_TF32;
      precision_set = TRUE;
    }
  p = precision;
  g_mutex_unlock (&device_lock);
  return p;
}

void
catena_nn_set_device_notify (CatenaNnDeviceNotify notify, gpointer user_data)
{
  g_mutex_lock (&device_lock);
  notify_fn = notify;
  notify_data = user_data;
  g_mutex_unlock (&device_lock);
}

static void
emit_notify (CatenaNnDevice used, const GError *fallback)
{
  CatenaNnDeviceNotify fn;
  gpointer data;

  g_mutex_lock (&device_lock);
  fn = notify_fn;
  data = notify_data;
  g_mutex_unlock (&device_lock);
  if (fn != NULL)
    fn (used, fallback, data);
}

static gboolean
is_device_error (const GError *e)
{
  return g_error_matches (e, CATENA_NN_ERROR, CATENA_NN_ERROR_DEVICE)
         || g_error_matches (e, CATENA_NN_ERROR, CATENA_NN_ERROR_DEVICE_MEMORY);
}

/* One attempt on the GPU: TRUE when it ran there; FALSE with `error` set to a device error
 * (the caller may fall back) or to the run's own error (bad inputs, cancellation). */
static gboolean
run_on_gpu (CatenaNnGraph *graph,
            CatenaNnTensor *const *inputs,
            CatenaNnTensor **outputs,
            GCancellable *cancellable,
            GError **error)
{
  NnDeviceExecutor fn = get_test_executor (NULL);

  if (fn != NULL)
    return fn (graph, inputs, outputs, cancellable, error);
#ifdef CATENA_NN_HAVE_CUDA
  return nn_cuda_graph_run (graph, inputs, outputs, cancellable, error);
#else
  g_set_error_literal (error, CATENA_NN_ERROR, CATENA_NN_ERROR_DEVICE,
                       "This build of Catena has no CUDA support (built without the CUDA "
                       "toolkit); running on the CPU");
  return FALSE;
#endif
}

gboolean
nn_graph_run_device_ex (CatenaNnGraph *graph,
            CatenaNnDevice device,
            CatenaNnTensor *const *inputs,
            CatenaNnTensor **outputs,
            CatenaNnDevice *used,
            gboolean *oom,
            GError **fallback,
            GCancellable *cancellable,
            GError **error)
{
  g_return_val_if_fail (graph != NULL, FALSE);

  if (used != NULL)
    *used = CATENA_NN_DEVICE_CPU;
  if (oom != NULL)
    *oom = FALSE;
  /* AUTO without a device is simply the CPU: nothing was asked of a GPU, nothing to report */
  if (device == CATENA_NN_DEVICE_AUTO && !catena_nn_cuda_available (NULL))
    device = CATENA_NN_DEVICE_CPU;
  if (device != CATENA_NN_DEVICE_CPU)
    {
      g_autoptr (GError) local = NULL;

      if (run_on_gpu (graph, inputs, outputs, cancellable, &local))
        {
          if (used != NULL)
            *used = CATENA_NN_DEVICE_CUDA;
          return TRUE;
        }
      /* Input mismatches and cancellation are the run's own errors, not the device's. */
      if (!is_device_error (local))
        {
          g_propagate_error (error, g_steal_pointer (&local));
          return FALSE;
        }
      if (oom != NULL && g_error_matches (local, CATENA_NN_ERROR, CATENA_NN_ERROR_DEVICE_MEMORY))
        {
          *oom = TRUE;
          g_propagate_error (fallback, g_steal_pointer (&local));
          return FALSE;
        }
      g_debug ("%s; running on the CPU", local->message);
      g_propagate_error (fallback, g_steal_pointer (&local));
    }
  return catena_nn_graph_run (graph, inputs, outputs, cancellable, error);
}

gboolean
catena_nn_graph_run_device (CatenaNnGraph *graph,
                            CatenaNnDevice device,
                            CatenaNnTensor *const *inputs,
                            CatenaNnTensor **outputs,
                            CatenaNnDevice *used,
                            GError **fallback,
                            GCancellable *cancellable,
                            GError **error)
{
  return nn_graph_run_device_ex (graph, device, inputs, outputs, used, NULL, fallback, cancellable,
                                 error);
}

void
nn_device_report (CatenaNnDevice used, const GError *fallback)
{
  emit_notify (used, fallback);
}
