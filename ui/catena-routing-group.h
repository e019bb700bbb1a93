/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <adwaita.h>

#include "catena-engine.h"
#include "catena-history.h"

G_BEGIN_DECLS

#define CATENA_TYPE_ROUTING_GROUP (catena_routing_group_get_type ())
G_DECLARE_FINAL_TYPE (CatenaRoutingGroup, catena_routing_group, CATENA, ROUTING_GROUP,
                      AdwPreferencesGroup)

/* "Runs On": the stage's provider (those that support its kind) and model (the provider's
 * list, asked on a worker: ComfyUI asks its server), edited through the history as one step;
 * and the estimated cost of the stage for the selected photo, which the window works out. */
GtkWidget *catena_routing_group_new            (void);
void       catena_routing_group_set_history    (CatenaRoutingGroup *self,
                                                CatenaHistory      *history);
void       catena_routing_group_set_stage      (CatenaRoutingGroup *self,
                                                CatenaStage        *stage);
void       catena_routing_group_set_cost       (CatenaRoutingGroup *self,
                                                const char         *text);
const char *catena_routing_group_get_cost      (CatenaRoutingGroup *self);
/* AdwComboRows. */
GtkWidget *catena_routing_group_get_provider_row (CatenaRoutingGroup *self);
GtkWidget *catena_routing_group_get_model_row    (CatenaRoutingGroup *self);
/* TRUE while a model list is being fetched. */
gboolean   catena_routing_group_is_busy        (CatenaRoutingGroup *self);

G_END_DECLS
