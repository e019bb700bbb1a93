/* SPDX-License-Identifier: GPL-3.0-or-later */
/* A .catena project file as it comes off disk: the versioned document reader, then the
 * project (assets, chain, stages and their parameters, sections). */
#include "config.h"

#include "fuzz-common.h"

#include "catena-engine.h"
#include "catena-json-private.h"
#include "catena-project.h"

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
  g_autoptr(CatenaProject) project = NULL;

  root = catena_json_parse_document ((const char *) data, size, "fuzz.catena",
                                     "catena-project", CATENA_PROJECT_FORMAT_VERSION, &error);
  if (root == NULL)
    return 0;
  project = catena_project_new_from_json (root, &error);
  /* A project that loads must serialise again: saving is what users do next. */
  if (project != NULL)
    {
      g_autoptr(JsonNode) again = catena_project_to_json (project);
      g_assert (again != NULL);
    }
  return 0;
}
