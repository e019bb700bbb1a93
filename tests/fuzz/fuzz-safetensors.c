/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The start of a .safetensors file (a LoRA picked by the user or fetched by URL): header
 * parsing, then the base-model classification the LoRA library runs on it. Half of the runs
 * claim the input is the whole file, half that the size is unknown (a URL's first bytes). */
#include "config.h"

#include "fuzz-common.h"

#include "catena-lora.h"

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
  g_autoptr(CatenaSafetensors) st = NULL;
  guint64 file_size = (size > 0 && (data[size - 1] & 1)) ? 0 : size;
  g_autofree guint8 *copy = fuzz_copy (data, size);

  st = catena_safetensors_parse (copy, size, file_size, &error);
  if (st != NULL)
    {
      g_autoptr(GError) info_error = NULL;
      g_autoptr(CatenaLoraInfo) info = catena_lora_info_from_header (st, "fuzz.safetensors",
                                                                     &info_error);
      if (info != NULL)
        {
          g_autoptr(JsonNode) node = catena_lora_info_to_json (info);
          g_autoptr(GError) json_error = NULL;
          g_autoptr(CatenaLoraInfo) again = catena_lora_info_new_from_json (node, &json_error);

          /* What Catena wrote about a LoRA it must read back (the project stores it). */
          g_assert (again != NULL);
        }
    }
  return 0;
}
