/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);
int LLVMFuzzerInitialize (int *argc, char ***argv);

/* A critical is a bug the parser let through (a NULL or invalid node reaching an API that
 * checks for it): abort so libFuzzer saves the input. G_BREAKPOINT's SIGTRAP, which
 * G_DEBUG=fatal-criticals raises, is not one of the signals libFuzzer handles. Warnings and
 * debug output stay non-fatal. */
static GLogWriterOutput
fuzz_log_writer (GLogLevelFlags   level,
                 const GLogField *fields,
                 gsize            n_fields,
                 gpointer         user_data)
{
  if (level & (G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_ERROR))
    {
      g_log_writer_standard_streams (level, fields, n_fields, user_data);
      abort ();
    }
  return G_LOG_WRITER_HANDLED;
}

static inline void
fuzz_quiet_logs (void)
{
  g_log_set_writer_func (fuzz_log_writer, NULL, NULL);
}

/* A copy of the input in its own allocation, never NULL (an empty file reads as a valid
 * pointer and length 0), so ASan sees any read past size. */
static inline guint8 *
fuzz_copy (const uint8_t *data, size_t size)
{
  guint8 *copy = g_malloc (size > 0 ? size : 1);

  if (size > 0)
    memcpy (copy, data, size);
  return copy;
}
