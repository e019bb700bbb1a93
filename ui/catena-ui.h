/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <adwaita.h>

#include "catena-api-key-group.h"
#include "catena-application.h"
#include "catena-candidate-grid.h"
#include "catena-chain-view.h"
#include "catena-history.h"
#include "catena-inspector.h"
#include "catena-preview-renderer.h"
#include "catena-preferences-window.h"
#include "catena-preview.h"
#include "catena-routing-group.h"
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
/* The application's settings, or NULL when the schema is not installed (nor compiled next to
 * the build: GSETTINGS_SCHEMA_DIR); everything that uses them falls back to the defaults. */
GSettings *catena_ui_dup_settings  (void);
/* Applies the settings the engine reads (ComfyUI server address) now and whenever they
 * change, for as long as settings lives. */
void   catena_ui_watch_settings    (GSettings *settings);

G_END_DECLS
