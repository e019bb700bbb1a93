/* SPDX-License-Identifier: GPL-3.0-or-later */
/* A brand's .cube 3D LUT (Adobe/Resolve text). The length is passed, so the text is not
 * NUL-terminated: a read past it is a finding. A LUT that parses is looked up at its corners. */
#include "config.h"

#include "fuzz-common.h"

#include "catena-brand-kit.h"

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
  g_autoptr(CatenaLut3d) lut = NULL;
  g_autofree char *text = (char *) fuzz_copy (data, size);

  if (size > G_MAXSSIZE)
    return 0;
  lut = catena_lut3d_new_from_data (text, (gssize) size, &error);
  if (lut != NULL)
    {
      guint n = catena_lut3d_get_size (lut);

      g_assert (n >= 2);
      (void) catena_lut3d_get_title (lut);
      (void) catena_lut3d_get_checksum (lut);
      for (guint corner = 0; corner < 8; corner++)
        {
          const float in[3] = { corner & 1, (corner >> 1) & 1, (corner >> 2) & 1 };
          float out[3];

          catena_lut3d_get_entry (lut, (corner & 1) * (n - 1), ((corner >> 1) & 1) * (n - 1),
                                  ((corner >> 2) & 1) * (n - 1), out);
          catena_lut3d_apply (lut, CATENA_LUT_INTERPOLATION_TETRAHEDRAL, in, out);
          catena_lut3d_apply (lut, CATENA_LUT_INTERPOLATION_TRILINEAR, in, out);
        }
    }
  return 0;
}
