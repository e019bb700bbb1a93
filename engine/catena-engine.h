/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include "catena-types.h"
#include "catena-enums.h"
#include "catena-error.h"
#include "catena-stage.h"
#include "catena-asset.h"
#include "catena-autosave.h"
#include "catena-chain.h"
#include "catena-project.h"
#include "catena-cache.h"
#include "catena-runner.h"

G_BEGIN_DECLS

/* Initialises GEGL (mipmap rendering on), registers Catena's operations and stage kinds.
 * Safe to call more than once. */
void catena_engine_init (void);
void catena_engine_shutdown (void);

G_END_DECLS
