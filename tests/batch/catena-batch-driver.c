/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <glib/gi18n.h>
#include <locale.h>

#include "catena-cli-batch.h"
#include "catena-engine.h"

/* Stands in for catena-cli's dispatch of plan, batch and ledger in tests. */
int
main (int argc, char **argv)
{
  setlocale (LC_ALL, "");
  if (argc < 2)
    {
      g_printerr ("usage: catena-batch-driver plan|batch|ledger …\n");
      return 2;
    }
  catena_engine_init ();
  if (g_str_equal (argv[1], "plan"))
    return catena_cli_plan (argc - 1, argv + 1);
  if (g_str_equal (argv[1], "batch"))
    return catena_cli_batch (argc - 1, argv + 1);
  if (g_str_equal (argv[1], "ledger"))
    return catena_cli_ledger (argc - 1, argv + 1);
  g_printerr ("unknown command %s\n", argv[1]);
  return 2;
}
