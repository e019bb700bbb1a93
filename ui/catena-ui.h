/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <adwaita.h>

#include "catena-application.h"
#include "catena-chain-view.h"
#include "catena-history.h"
#include "catena-inspector.h"
#include "catena-preview-renderer.h"
#include "catena-preview.h"
#include "catena-stage-card.h"
#include "catena-stage-palette.h"
#include "catena-thumbnailer.h"
#include "catena-window.h"

G_BEGIN_DECLS

#define CATENA_APPLICATION_ID APPLICATION_ID
#define CATENA_RESOURCE_PATH  "/io/github/catena/Catena"

void   catena_ui_register_resources (void);
/* Engine, resources and libadwaita; call after gtk_init() or from GApplication::startup. */
void   catena_ui_init              (void);
/* Loads style.css for the display when there is no AdwApplication to do it (tests). */
void   catena_ui_load_style        (void);
/* The demo project: CATENA_SOURCE_DATADIR when running from the build tree, else CATENA_DATADIR. */
GFile *catena_ui_dup_demo_project  (void);

G_END_DECLS
