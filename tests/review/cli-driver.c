/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <locale.h>

#include "catena-cli-review.h"
#include "catena-engine.h"

/* Runs the review subcommands the way catena-cli's dispatch does, for test-deliver. */
int
main (int argc, char **argv)
{
  setlocale (LC_ALL, "");
  if (argc < 2)
    return 2;
  catena_engine_init ();
  if (g_str_equal (argv[1], "export"))
    return catena_cli_export (argc - 1, argv + 1);
  if (g_str_equal (argv[1], "review"))
    return catena_cli_review (argc - 1, argv + 1);
  if (g_str_equal (argv[1], "contact-sheet"))
    return catena_cli_contact_sheet (argc - 1, argv + 1);
  return 2;
}
