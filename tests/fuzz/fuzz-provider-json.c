/* SPDX-License-Identifier: GPL-3.0-or-later */
/* What a provider's server sends back, before any provider reads it: the status mapper,
 * which digs an error message out of the body, the JSON reader every provider goes through,
 * and the ComfyUI workflow importer. The first byte picks the HTTP status, the rest is the
 * body. The per-provider answer readers have their own harness, fuzz-provider-answers. */
#include "config.h"

#include "fuzz-common.h"

#include "catena-engine.h"
#include "catena-provider.h"
#include "catena-provider-private.h"

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
  g_setenv ("GEGL_SWAP", "RAM", TRUE);
  fuzz_quiet_logs ();
  catena_engine_init ();
  return 0;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  static const long statuses[] = { 200, 400, 401, 403, 404, 422, 429, 500, 502, 503 };
  CatenaHttpResponse response = { 0, };
  g_autoptr(GError) status_error = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) root = NULL;

  if (size == 0)
    return 0;
  response.status = statuses[data[0] % G_N_ELEMENTS (statuses)];
  response.body = g_bytes_new (data + 1, size - 1);
  response.content_type = g_strdup ("application/json");

  (void) catena_http_check_status (&response, "fuzz", "FUZZ_API_KEY", &status_error);
  root = catena_http_parse_json (&response, "fuzz", &error);
  if (root != NULL)
    {
      g_autoptr(GPtrArray) ignored = NULL;
      g_autoptr(GError) import_error = NULL;
      g_autoptr(CatenaChain) chain = catena_comfyui_import_workflow (root, &ignored,
                                                                    &import_error);

      g_assert (chain != NULL || import_error != NULL);
    }

  g_clear_pointer (&response.body, g_bytes_unref);
  g_clear_pointer (&response.content_type, g_free);
  return 0;
}
