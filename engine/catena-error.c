/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include "catena-error.h"

G_DEFINE_QUARK (catena-project-error-quark, catena_project_error)
G_DEFINE_QUARK (catena-stage-error-quark, catena_stage_error)
G_DEFINE_QUARK (catena-cache-error-quark, catena_cache_error)
