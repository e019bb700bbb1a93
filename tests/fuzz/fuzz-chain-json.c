/* SPDX-License-Identifier: GPL-3.0-or-later */
/* A .json chain file, read the way catena_chain_load() reads one: the document, then its
 * "stages" member. */
#include "config.h"

#include "fuzz-common.h"

#include "catena-chain.h"
#include "catena-engine.h"
#include "catena-json-private.h"

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
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) root = NULL;
  g_autoptr(CatenaChain) chain = NULL;

  root = catena_json_parse_document ((const char *) data, size, "fuzz.json",
                                     "catena-chain", CATENA_CHAIN_FORMAT_VERSION, &error);
  if (root == NULL)
    return 0;
  /* Same expression as catena_chain_load(): a document without "stages" passes NULL. */
  chain = catena_chain_new_from_json (json_object_get_member (json_node_get_object (root),
                                                              "stages"),
                                      &error);
  if (chain != NULL)
    {
      g_autoptr(JsonNode) again = catena_chain_to_json (chain);
      g_assert (again != NULL);
    }
  return 0;
}
