/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* catena-cli plan | batch | ledger. argv[0] is the command name. Each returns the process
 * exit status: 0 success, 1 failure, 2 usage, 3 budget reached (batch), 130 cancelled. */
int catena_cli_plan   (int argc, char **argv);
int catena_cli_batch  (int argc, char **argv);
int catena_cli_ledger (int argc, char **argv);

G_END_DECLS
