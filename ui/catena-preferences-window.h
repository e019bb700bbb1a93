/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <adwaita.h>

#include "catena-api-key-group.h"

G_BEGIN_DECLS

#define CATENA_TYPE_PREFERENCES_WINDOW (catena_preferences_window_get_type ())
G_DECLARE_FINAL_TYPE (CatenaPreferencesWindow, catena_preferences_window, CATENA,
                      PREFERENCES_WINDOW, AdwPreferencesWindow)

/* Providers (API keys, the ComfyUI server) and general settings. settings may be NULL when
 * the schema is not installed: those rows are then insensitive and say why. */
GtkWidget         *catena_preferences_window_new           (GtkWindow               *parent,
                                                            GSettings               *settings);
CatenaApiKeyGroup *catena_preferences_window_get_key_group (CatenaPreferencesWindow *self,
                                                            const char              *provider);
/* The ComfyUI address row (an AdwEntryRow) and the sentence of its last check. */
GtkWidget         *catena_preferences_window_get_comfyui_row (CatenaPreferencesWindow *self);
const char        *catena_preferences_window_get_comfyui_status (CatenaPreferencesWindow *self);
gboolean           catena_preferences_window_is_busy       (CatenaPreferencesWindow *self);

G_END_DECLS
