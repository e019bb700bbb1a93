/* SPDX-License-Identifier: GPL-3.0-or-later */
/* A TF.js layers model: model.json, a NUL byte, then the weight shards concatenated (the
 * split catena_nn_tfjs_model_load_data() takes). A model that loads is also built into a
 * graph for a small input, which is where the manifest's shapes meet the layers. */
#include "config.h"

#include <string.h>

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
  g_autoptr(CatenaNnTfjsModel) model = NULL;
  const uint8_t *nul = memchr (data, '\0', size);
  gsize json_len = nul != NULL ? (gsize) (nul - data) : size;
  const guint8 *weights = nul != NULL ? nul + 1 : NULL;
  gsize weights_len = nul != NULL ? size - json_len - 1 : 0;
  /* The loader takes a length, so the text need not be NUL-terminated: copy it without one
   * so ASan sees any read past json_len. */
  g_autofree char *json = (char *) fuzz_copy (data, json_len);

  model = catena_nn_tfjs_model_load_data (json, json_len, weights, weights_len, &error);
  if (model != NULL)
    {
      g_autoptr(GError) build_error = NULL;
      g_autoptr(CatenaNnGraph) graph = catena_nn_tfjs_model_build (model, 8, 8, &build_error);

      g_assert (graph != NULL || build_error != NULL);
      (void) catena_nn_tfjs_model_get_radius (model);
      (void) catena_nn_tfjs_model_get_channels (model);
    }
  return 0;
}
