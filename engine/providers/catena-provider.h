/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gio/gio.h>
#include <gegl.h>
#include <json-glib/json-glib.h>

#include "catena-types.h"
#include "catena-stage.h"

G_BEGIN_DECLS

/* Errors raised by remote and server providers. */
#define CATENA_PROVIDER_ERROR (catena_provider_error_quark ())
typedef enum
{
  CATENA_PROVIDER_ERROR_FAILED,
  CATENA_PROVIDER_ERROR_MISSING_KEY,     /* no API key in the environment or the keyring */
  CATENA_PROVIDER_ERROR_UNAUTHORIZED,    /* 401/403: the key was refused */
  CATENA_PROVIDER_ERROR_RATE_LIMITED,    /* still 429 after the retries */
  CATENA_PROVIDER_ERROR_SERVER,          /* still 5xx after the retries */
  CATENA_PROVIDER_ERROR_INVALID_REQUEST, /* 4xx: the service refused the parameters */
  CATENA_PROVIDER_ERROR_NETWORK,         /* could not connect, connection dropped */
  CATENA_PROVIDER_ERROR_TIMEOUT,
  CATENA_PROVIDER_ERROR_BAD_RESPONSE,    /* malformed JSON, unexpected shape, not an image */
  CATENA_PROVIDER_ERROR_TOO_LARGE,       /* response body or image over Catena's limits */
  CATENA_PROVIDER_ERROR_UNSUPPORTED,     /* this provider cannot run this stage kind */
  CATENA_PROVIDER_ERROR_INSECURE_URL,    /* plain http to a non-loopback host */
  CATENA_PROVIDER_ERROR_REMOTE_FAILED,   /* the job itself failed on the server */
} CatenaProviderError;

GQuark catena_provider_error_quark (void);

/* ---------------------------------------------------------------------------------------- */
/* Provenance: what produced a stage output. Never contains a key. */

#define CATENA_TYPE_PROVENANCE (catena_provenance_get_type ())
typedef struct
{
  char       *provider;
  char       *model;
  char       *stage_kind;
  JsonObject *parameters;   /* what was sent (images as "<image>"), never secrets */
  gint64      seed;         /* -1: the service does not report one */
  double      cost_usd;     /* estimated from Catena's price table */
  gint64      started_at;   /* unix time, microseconds */
  double      duration_s;
  char       *remote_id;    /* fal request_id, ComfyUI prompt_id, NULL for OpenAI */
  guint       n_outputs;
} CatenaProvenance;

GType             catena_provenance_get_type  (void) G_GNUC_CONST;
CatenaProvenance *catena_provenance_new       (void);
CatenaProvenance *catena_provenance_copy      (const CatenaProvenance *self);
void              catena_provenance_free      (CatenaProvenance *self);
JsonNode         *catena_provenance_to_json   (const CatenaProvenance *self);
CatenaProvenance *catena_provenance_new_from_json (JsonNode *node,
                                                   GError  **error);
/* Sidecar <cache dir>/<key[0:2]>/<key>.json next to the cache entry. */
gboolean          catena_provenance_save      (const CatenaProvenance *self,
                                               CatenaCache            *cache,
                                               const char             *key,
                                               GError                **error);
CatenaProvenance *catena_provenance_lookup    (CatenaCache *cache,
                                               const char  *key);

/* Stages with an input cannot know their cache key; the last provider run on this worker
 * thread is kept as "pending" and the runner commits it after storing the stage output. */
void              catena_provenance_set_pending    (const CatenaProvenance *provenance);
CatenaProvenance *catena_provenance_steal_pending  (void);
gboolean          catena_provenance_commit_pending (CatenaCache *cache,
                                                    const char  *key);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (CatenaProvenance, catena_provenance_free)

/* ---------------------------------------------------------------------------------------- */
/* Requests and results */

#define CATENA_TYPE_PROVIDER_REQUEST (catena_provider_request_get_type ())
typedef struct
{
  char       *stage_kind;      /* "generate", "edit", "style", "remove-background", "upscale" */
  char       *model;           /* NULL: the provider's default for the kind */
  char       *prompt;          /* generate/style: the prompt; edit: the instruction */
  char       *negative_prompt;
  int         width, height;   /* generate: output size; 0: model default */
  gint64      seed;            /* -1: let the service choose */
  guint       n_images;        /* candidates, >= 1 */
  GeglBuffer *input;           /* edit, style, remove-background, upscale */
  GeglBuffer *mask;            /* edit: white = change here; nullable */
  char       *lora;            /* style: LoRA path/URL (fal) or file name (ComfyUI) */
  double      lora_scale;      /* style: LoRA strength */
  double      denoise;         /* image-to-image strength, 0..1 */
  double      scale;           /* upscale factor */
  JsonObject *extra;           /* model-specific fields passed on unchanged; nullable */
} CatenaProviderRequest;

GType                  catena_provider_request_get_type (void) G_GNUC_CONST;
CatenaProviderRequest *catena_provider_request_new      (const char *stage_kind);
CatenaProviderRequest *catena_provider_request_copy     (const CatenaProviderRequest *self);
void                   catena_provider_request_free     (CatenaProviderRequest *self);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (CatenaProviderRequest, catena_provider_request_free)

#define CATENA_TYPE_PROVIDER_RESULT (catena_provider_result_get_type ())
typedef struct
{
  GPtrArray        *images;     /* of GeglBuffer, CATENA_WORK_FORMAT */
  CatenaProvenance *provenance;
} CatenaProviderResult;

GType                 catena_provider_result_get_type (void) G_GNUC_CONST;
CatenaProviderResult *catena_provider_result_new      (void);
void                  catena_provider_result_free     (CatenaProviderResult *self);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (CatenaProviderResult, catena_provider_result_free)

/* ---------------------------------------------------------------------------------------- */
/* Providers */

#define CATENA_TYPE_PROVIDER (catena_provider_get_type ())
G_DECLARE_DERIVABLE_TYPE (CatenaProvider, catena_provider, CATENA, PROVIDER, GObject)

/* fraction in 0..1; message may be NULL. Called on the thread that runs the provider. */
typedef void (*CatenaProviderProgressFunc) (double      fraction,
                                            const char *message,
                                            gpointer    user_data);

/* Shared instances: "local", "fal", "comfyui", "openai". NULL for an unknown name. */
CatenaProvider *catena_provider_get            (const char *name);
const char    **catena_provider_list_names     (void);

const char     *catena_provider_get_name       (CatenaProvider *self);
const char     *catena_provider_get_title      (CatenaProvider *self);
gboolean        catena_provider_supports       (CatenaProvider *self,
                                                const char     *stage_kind);
const char     *catena_provider_get_default_model (CatenaProvider *self,
                                                   const char     *stage_kind);
/* Blocking (ComfyUI asks its server); call from a worker thread. */
char          **catena_provider_list_models    (CatenaProvider *self,
                                                const char     *stage_kind,
                                                GCancellable   *cancellable,
                                                GError        **error);
/* US dollars, from Catena's price table; 0 for local and ComfyUI. */
double          catena_provider_estimate_cost  (CatenaProvider              *self,
                                                const CatenaProviderRequest *request);

/* Blocking: meant for the runner's worker thread. Never call it on the main thread. */
CatenaProviderResult *catena_provider_run      (CatenaProvider              *self,
                                                const CatenaProviderRequest *request,
                                                CatenaProviderProgressFunc   progress,
                                                gpointer                     progress_data,
                                                GCancellable                *cancellable,
                                                GError                     **error);
/* progress is called on the caller's thread-default main context. */
void                  catena_provider_run_async  (CatenaProvider              *self,
                                                  const CatenaProviderRequest *request,
                                                  CatenaProviderProgressFunc   progress,
                                                  gpointer                     progress_data,
                                                  GCancellable                *cancellable,
                                                  GAsyncReadyCallback          callback,
                                                  gpointer                     user_data);
CatenaProviderResult *catena_provider_run_finish (CatenaProvider *self,
                                                  GAsyncResult   *result,
                                                  GError        **error);

/* For the remove-background and upscale stages when their provider is not "local": runs the
 * stage kind on provider/model and returns the first image. params may hold "prompt",
 * "scale", "seed" and model-specific fields (passed on unchanged). Records pending provenance. */
GeglBuffer *catena_provider_run_image_stage (const char         *provider,
                                             const char         *model,
                                             const char         *stage_kind,
                                             GeglBuffer         *input,
                                             JsonObject         *params,
                                             CatenaStageContext *ctx,
                                             GError            **error);

/* Where generate keeps its candidates and stages their provenance. Default: the default
 * cache. The runner should set its own cache here. */
void         catena_providers_set_cache (CatenaCache *cache);
CatenaCache *catena_providers_get_cache (void);

/* Endpoints, overriding the environment (CATENA_FAL_QUEUE_URL, CATENA_FAL_REST_URL,
 * CATENA_OPENAI_URL, CATENA_COMFYUI_URL); NULL restores the environment/default. */
void        catena_provider_set_endpoint (CatenaProvider *self,
                                          const char     *which,
                                          const char     *url);
char       *catena_provider_dup_endpoint (CatenaProvider *self,
                                          const char     *which);

/* Retry policy: the first backoff delay (default 1000 ms, env CATENA_RETRY_BASE_MS) and the
 * status poll interval (default 500 ms, env CATENA_POLL_INTERVAL_MS). */
void        catena_providers_set_retry_base_ms    (guint ms);
void        catena_providers_set_poll_interval_ms (guint ms);
/* Per-request timeout (default 120 s, env CATENA_HTTP_TIMEOUT_MS) and the whole job's
 * (default 600 s, env CATENA_JOB_TIMEOUT_MS). 0 restores the default. */
void        catena_providers_set_http_timeout_ms  (guint ms);
void        catena_providers_set_job_timeout_ms   (guint ms);

/* ---------------------------------------------------------------------------------------- */
/* API keys: environment (FAL_KEY, OPENAI_API_KEY) first, then the Secret Service. */

const char *catena_secrets_get_env_name (const char   *provider);
gboolean    catena_secrets_store        (const char   *provider,
                                         const char   *key,
                                         GCancellable *cancellable,
                                         GError      **error);
gboolean    catena_secrets_clear        (const char   *provider,
                                         GCancellable *cancellable,
                                         GError      **error);
/* Returns the key or NULL with CATENA_PROVIDER_ERROR_MISSING_KEY naming the variable. */
char       *catena_secrets_lookup       (const char   *provider,
                                         GCancellable *cancellable,
                                         GError      **error);
/* Blocking: makes one cheap authenticated request. key NULL: the stored key. */
gboolean    catena_secrets_test_key     (const char   *provider,
                                         const char   *key,
                                         GCancellable *cancellable,
                                         GError      **error);
void        catena_secrets_test_key_async  (const char         *provider,
                                            const char         *key,
                                            GCancellable       *cancellable,
                                            GAsyncReadyCallback callback,
                                            gpointer            user_data);
gboolean    catena_secrets_test_key_finish (GAsyncResult *result,
                                            GError      **error);

/* ---------------------------------------------------------------------------------------- */
/* ComfyUI interop: API-format workflows ({<id>: {class_type, inputs}}). */

/* asset (nullable) gives the prompt and the source file name. skipped (nullable) receives
 * one line per stage ComfyUI has no standard node for; the image passes through it. */
JsonNode    *catena_comfyui_export_chain     (CatenaChain *chain,
                                              CatenaAsset *asset,
                                              GPtrArray  **skipped,
                                              GError     **error);
/* Returns a chain of the stages Catena understands; ignored receives one line per node
 * (id and class_type) that was not turned into a stage. */
CatenaChain *catena_comfyui_import_workflow  (JsonNode    *workflow,
                                              GPtrArray  **ignored,
                                              GError     **error);

G_END_DECLS
