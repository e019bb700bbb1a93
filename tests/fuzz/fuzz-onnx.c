/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ONNX model bytes (a downloaded .onnx file): protobuf decoding, then graph construction. */
#include "config.h"

#include "fuzz-common.h"

#include "catena-nn.h"

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
  fuzz_quiet_logs ();
  return 0;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(CatenaNnGraph) graph = NULL;

  graph = catena_nn_graph_load_onnx (data, size, NULL, &error);
  if (graph != NULL)
    (void) catena_nn_graph_get_n_inputs (graph);
  return 0;
}
