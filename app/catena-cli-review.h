/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* catena-cli subcommands for review, delivery and contact sheets. argv[0] is the subcommand
 * name; the engine must be initialised. Return the process exit status (0 ok, 1 failed,
 * 2 usage, 130 cancelled). */
int catena_cli_export        (int    argc,
                              char **argv);
int catena_cli_review        (int    argc,
                              char **argv);
int catena_cli_contact_sheet (int    argc,
                              char **argv);

G_END_DECLS
