/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include "catena-nn-private.h"

/* The device entry points exist in every build; without CATENA_NN_HAVE_CUDA (no nvcc or no
 * cuBLAS when configuring, or -Dcuda=disabled) they report no device and run on the CPU. */

gboolean
catena_nn_cuda_available (char **device_name)
{
  if (device_name != NULL)
    *device_name = NULL;
#ifdef CATENA_NN_HAVE_CUDA
  return nn_cuda_available (device_name);
#else
  return FALSE;
#endif
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
  g_return_val_if_fail (graph != NULL, FALSE);

  if (used != NULL)
    *used = CATENA_NN_DEVICE_CPU;
  if (device == CATENA_NN_DEVICE_CUDA)
    {
#ifdef CATENA_NN_HAVE_CUDA
      g_autoptr (GError) local = NULL;

      if (nn_cuda_graph_run (graph, inputs, outputs, cancellable, &local))
        {
          if (used != NULL)
            *used = CATENA_NN_DEVICE_CUDA;
          return TRUE;
        }
      /* Input mismatches and cancellation are the run's own errors, not the device's. */
      if (!g_error_matches (local, CATENA_NN_ERROR, CATENA_NN_ERROR_DEVICE))
        {
          g_propagate_error (error, g_steal_pointer (&local));
          return FALSE;
        }
      g_debug ("%s; running on the CPU", local->message);
      g_propagate_error (fallback, g_steal_pointer (&local));
#else
      g_set_error_literal (fallback, CATENA_NN_ERROR, CATENA_NN_ERROR_DEVICE,
                           "This build of Catena has no CUDA support (built without the "
                           "CUDA toolkit); running on the CPU");
#endif
    }
  return catena_nn_graph_run (graph, inputs, outputs, cancellable, error);
}
