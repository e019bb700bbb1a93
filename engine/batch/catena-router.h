/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <json-glib/json-glib.h>

#include "catena-chain.h"
#include "catena-project.h"

G_BEGIN_DECLS

/* Errors about routing rules, prices and budgets. */
#define CATENA_ROUTING_ERROR (catena_routing_error_quark ())
typedef enum
{
  CATENA_ROUTING_ERROR_INVALID,          /* malformed rules, pricing, CSV or ledger file */
  CATENA_ROUTING_ERROR_UNKNOWN_PROVIDER, /* a rule names a provider Catena does not have */
  CATENA_ROUTING_ERROR_UNSUPPORTED,      /* a rule sends a stage kind to a provider that lacks it */
  CATENA_ROUTING_ERROR_BUDGET,           /* the next paid call would exceed the budget */
  CATENA_ROUTING_ERROR_IO,               /* the ledger could not be written */
} CatenaRoutingError;

GQuark catena_routing_error_quark (void);

/* Which provider/model runs each stage kind for each asset class, what that costs, and how
 * many calls may run at once per provider. Defaults come from data/routing/ (routing.json,
 * pricing.json); a project's "routing" section overrides them:
 *
 *   { "rules":   { "hero": { "generate": { "provider": "openai", "model": "gpt-image-1" } },
 *                  "*":    { "upscale":  { "provider": "local" } } },
 *     "pinned":  [ "upscale-2" ],
 *     "pricing": { "read_on": "2025-06-01", "source": "…",
 *                  "prices": [ { "provider": "fal", "model": "fal-ai/flux/schnell",
 *                                "per_megapixel": 0.003 } ] },
 *     "concurrency": { "fal": 8, "openai": 4, "comfyui": 1, "local": 2 } }
 *
 * A stage keeps its own provider/model (routing does not touch it) when it is listed in
 * "pinned", when its model is set, or when its provider differs from its kind's default:
 * that is what setting them explicitly in the inspector or with --set does.
 * Thread-safe after configuration: workers only read it. */
#define CATENA_TYPE_ROUTER (catena_router_get_type ())
G_DECLARE_FINAL_TYPE (CatenaRouter, catena_router, CATENA, ROUTER, GObject)

/* Defaults from data/routing/ ($CATENA_DATA_DIR, the installed data, or the source tree).
 * A missing default file is not an error: stages then keep their own settings. */
CatenaRouter *catena_router_new               (void);
/* Defaults plus the project's "routing" section. */
CatenaRouter *catena_router_new_for_project   (CatenaProject  *project,
                                               GError        **error);
/* Merge a rules document (the section's shape; "pricing" inside it is merged too). */
gboolean      catena_router_load_rules        (CatenaRouter   *self,
                                               JsonNode       *node,
                                               GError        **error);
gboolean      catena_router_load_rules_file   (CatenaRouter   *self,
                                               const char     *path,
                                               GError        **error);
/* Merge a pricing document ({read_on, source, prices: […]}). */
gboolean      catena_router_load_pricing      (CatenaRouter   *self,
                                               JsonNode       *node,
                                               GError        **error);
gboolean      catena_router_load_pricing_file (CatenaRouter   *self,
                                               const char     *path,
                                               GError        **error);
/* The whole configuration in the section's shape (for catena_project_set_section). */
JsonNode     *catena_router_to_json           (CatenaRouter   *self);

/* Rules. asset_class -1 means every class ("*"); provider "local" runs in-process. */
void          catena_router_set_rule          (CatenaRouter   *self,
                                               int             asset_class,
                                               const char     *stage_kind,
                                               const char     *provider,
                                               const char     *model);
gboolean      catena_router_lookup_rule       (CatenaRouter   *self,
                                               CatenaAssetKind asset_class,
                                               const char     *stage_kind,
                                               const char    **provider,
                                               const char    **model);
void          catena_router_pin_stage         (CatenaRouter   *self,
                                               const char     *stage_id);
gboolean      catena_router_stage_is_pinned   (CatenaRouter   *self,
                                               CatenaStage    *stage);
/* A copy of chain with every unpinned stage routed for asset_class. */
CatenaChain  *catena_router_route_chain       (CatenaRouter   *self,
                                               CatenaChain    *chain,
                                               CatenaAssetKind asset_class);

/* Prices (US dollars). per_image and per_megapixel add up; a megapixel count is rounded up,
 * as fal bills it. */
void          catena_router_set_price         (CatenaRouter   *self,
                                               const char     *provider,
                                               const char     *model,
                                               double          per_image,
                                               double          per_megapixel);
const char   *catena_router_get_pricing_date  (CatenaRouter   *self);
/* Cost of one call producing n_images of width×height. A model missing from the table uses
 * the provider's own estimate (catena_provider_estimate_cost). */
double        catena_router_estimate          (CatenaRouter   *self,
                                               const char     *provider,
                                               const char     *model,
                                               const char     *stage_kind,
                                               int             width,
                                               int             height,
                                               guint           n_images);

/* Calls at once per provider (default: fal 8, openai 4, comfyui 1, local = CPU count). */
void          catena_router_set_concurrency   (CatenaRouter   *self,
                                               const char     *provider,
                                               guint           limit);
guint         catena_router_get_concurrency   (CatenaRouter   *self,
                                               const char     *provider);

/* Whether running stage sends a request to a provider (generate/edit/style always; the image
 * stages when their provider is not "local"), and the provider's name then. */
gboolean      catena_stage_is_remote_call     (CatenaStage    *stage);
/* Output size of stage given its input size (0×0: none), and how many images one call
 * makes; used to price a call before it is sent. */
void          catena_stage_estimate_output    (CatenaStage    *stage,
                                               CatenaAsset    *asset,
                                               int             in_width,
                                               int             in_height,
                                               int            *out_width,
                                               int            *out_height,
                                               guint          *n_images);
/* Estimated cost of running stage once (0 when it makes no remote call). */
double        catena_router_estimate_stage    (CatenaRouter   *self,
                                               CatenaStage    *stage,
                                               CatenaAsset    *asset,
                                               int             in_width,
                                               int             in_height);

G_END_DECLS
