/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include "catena-provider.h"

G_BEGIN_DECLS

/* json-glib 1.6 has no object/array getters with a default */
static inline JsonObject *
catena_json_get_object (JsonObject *o, const char *name)
{
  JsonNode *n = o && json_object_has_member (o, name) ? json_object_get_member (o, name) : NULL;
  return n && JSON_NODE_HOLDS_OBJECT (n) ? json_node_get_object (n) : NULL;
}

static inline JsonArray *
catena_json_get_array (JsonObject *o, const char *name)
{
  JsonNode *n = o && json_object_has_member (o, name) ? json_object_get_member (o, name) : NULL;
  return n && JSON_NODE_HOLDS_ARRAY (n) ? json_node_get_array (n) : NULL;
}

struct _CatenaProviderClass
{
  GObjectClass parent_class;

  const char *name;   /* "fal" */
  const char *title;  /* N_() marked */

  gboolean              (*supports)          (CatenaProvider *self,
                                              const char     *stage_kind);
  const char           *(*default_model)     (CatenaProvider *self,
                                              const char     *stage_kind);
  char                **(*list_models)       (CatenaProvider *self,
                                              const char     *stage_kind,
                                              GCancellable   *cancellable,
                                              GError        **error);
  double                (*estimate_cost)     (CatenaProvider              *self,
                                              const CatenaProviderRequest *request);
  CatenaProviderResult *(*run)               (CatenaProvider              *self,
                                              const CatenaProviderRequest *request,
                                              CatenaProviderProgressFunc   progress,
                                              gpointer                     progress_data,
                                              GCancellable                *cancellable,
                                              GError                     **error);
  /* which: "queue", "rest", "base" ... → env name and default URL. */
  const char           *(*endpoint_env)      (CatenaProvider *self,
                                              const char     *which,
                                              const char    **default_url);

  gpointer padding[8];
};

GType catena_provider_local_get_type (void);
GType catena_provider_fal_get_type (void);
GType catena_provider_comfyui_get_type (void);
GType catena_provider_openai_get_type (void);

/* Settings resolved now (setter, then environment, then default). */
guint catena_providers_get_retry_base_ms (void);
guint catena_providers_get_poll_interval_ms (void);
guint catena_providers_get_http_timeout_ms (void);
guint catena_providers_get_job_timeout_ms (void);

/* ---------------------------------------------------------------------------------------- */
/* HTTP over libcurl (catena-http.c). Blocking, cancellable within ~50 ms. */

#define CATENA_HTTP_MAX_JSON  (8 * 1024 * 1024)
#define CATENA_HTTP_MAX_IMAGE (96 * 1024 * 1024)

typedef struct
{
  const char *name;
  const char *filename;     /* NULL for a plain field */
  const char *content_type; /* NULL for a plain field */
  GBytes     *data;
} CatenaHttpPart;

typedef struct
{
  const char         *method;        /* "GET", "POST", "PUT" */
  const char         *url;
  const char *const  *headers;       /* NULL-terminated "Name: value" */
  GBytes             *body;          /* nullable */
  const char         *content_type;  /* of body */
  const CatenaHttpPart *parts;       /* multipart/form-data instead of body */
  guint               n_parts;
  gsize               max_response;  /* 0: CATENA_HTTP_MAX_JSON */
  gboolean            retry_500;     /* status polling also retries 500 (fal) */
  int                 max_retries;   /* -1: 3; 0: no retries */
  guint               timeout_ms;    /* 0: catena_providers_get_http_timeout_ms() */
  const char         *service;       /* "fal": for error messages */
} CatenaHttpRequest;

typedef struct
{
  long    status;
  GBytes *body;
  char   *content_type;
  char   *timeout_type;   /* x-fal-request-timeout-type */
  guint   attempts;
} CatenaHttpResponse;

/* Once per process, on the main thread first (catena_engine_init does it); idempotent. */
void                catena_http_global_init (void);
void                catena_http_response_free (CatenaHttpResponse *response);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (CatenaHttpResponse, catena_http_response_free)

/* Retries 429/502/503/504 (+500 with retry_500) and connection errors per the policy; returns
 * the last response for any HTTP status (the caller maps it) or NULL with an error for
 * transport failures, oversized bodies, insecure URLs and cancellation. */
CatenaHttpResponse *catena_http_perform (const CatenaHttpRequest *request,
                                         GCancellable            *cancellable,
                                         GError                 **error);
/* https, or http to a loopback host. */
gboolean            catena_http_check_url (const char *url,
                                           const char *service,
                                           GError    **error);
/* Turns a non-2xx response into a GError: 401/403 name the key variable. */
gboolean            catena_http_check_status (CatenaHttpResponse *response,
                                              const char         *service,
                                              const char         *key_env,
                                              GError            **error);
JsonNode           *catena_http_parse_json (CatenaHttpResponse *response,
                                            const char         *service,
                                            GError            **error);
/* Interruptible sleep; FALSE when cancelled. */
gboolean            catena_http_sleep (guint ms, GCancellable *cancellable);
guint               catena_http_backoff_ms (guint attempt);

/* Minimal WebSocket client (RFC 6455) for ComfyUI's /ws: text messages only are returned. */
typedef struct _CatenaWebSocket CatenaWebSocket;
CatenaWebSocket *catena_websocket_connect (const char   *url,
                                           guint         timeout_ms,
                                           GCancellable *cancellable,
                                           GError      **error);
/* Waits up to timeout_ms: returns a text message, or NULL with *closed or no error on a
 * timeout, or NULL with error. */
char            *catena_websocket_receive (CatenaWebSocket *ws,
                                           guint            timeout_ms,
                                           gboolean        *closed,
                                           GCancellable    *cancellable,
                                           GError         **error);
void             catena_websocket_free    (CatenaWebSocket *ws);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (CatenaWebSocket, catena_websocket_free)

/* ---------------------------------------------------------------------------------------- */
/* Images crossing the wire */

/* PNG bytes of a buffer (for uploads). */
GBytes     *catena_provider_encode_png   (GeglBuffer *buffer,
                                          GError    **error);
/* The mask as a PNG whose alpha is 0 where mask is white (OpenAI and ComfyUI LoadImage). */
GBytes     *catena_provider_encode_mask_png (GeglBuffer *mask,
                                             GError    **error);
/* Decodes downloaded bytes (checked against the size limits before decoding). */
GeglBuffer *catena_provider_decode_image (GBytes       *bytes,
                                          const char   *service,
                                          GCancellable *cancellable,
                                          GError      **error);
/* GET an image URL without credentials; https or loopback only. */
GeglBuffer *catena_provider_download_image (const char   *url,
                                            const char   *service,
                                            GCancellable *cancellable,
                                            GError      **error);

/* At most max_bytes of text (NULL: ""), whole characters of valid UTF-8 whatever the server
 * sent: for quoting an answer in an error message. */
char       *catena_provider_excerpt (const char *text,
                                     gsize       max_bytes);
void        catena_provider_report (CatenaProviderProgressFunc progress,
                                    gpointer                   data,
                                    double                     fraction,
                                    const char                *message);
/* Parameters for provenance: the request without images. */
JsonObject *catena_provider_request_to_json (const CatenaProviderRequest *request);

/* ---------------------------------------------------------------------------------------- */
/* Answer readers: what each provider makes of a parsed answer, apart from the requests that
 * fetch it. They do no I/O, so tests/fuzz/fuzz-provider-answers.c drives each of them with
 * arbitrary answers. Strings they return without a copy belong to the answer. */

/* fal (catena-provider-fal.c) */
typedef enum
{
  CATENA_FAL_STATUS_QUEUED,
  CATENA_FAL_STATUS_RUNNING,
  CATENA_FAL_STATUS_COMPLETED,
  CATENA_FAL_STATUS_FAILED, /* error set */
} CatenaFalStatus;

/* storage/upload/initiate → {upload_url, file_url} */
gboolean        catena_fal_read_upload     (JsonObject  *answer,
                                            const char **upload_url,
                                            const char **file_url,
                                            GError     **error);
/* The submit answer's request_id, only when it is safe inside a URL. */
const char     *catena_fal_read_request_id (JsonObject *answer,
                                            GError    **error);
CatenaFalStatus catena_fal_read_status     (JsonObject *answer,
                                            GError    **error);
/* The result's image URLs (images[].url or image.url, at most 16), or NULL with an error. */
GPtrArray      *catena_fal_read_image_urls (JsonObject *answer,
                                            GError    **error);

/* OpenAI (catena-provider-openai.c) */

/* The non-empty data[] of an images answer. */
JsonArray      *catena_openai_read_data    (JsonObject *answer,
                                            GError    **error);
/* One entry of data[]: the decoded b64_json bytes, else the url to download (dall-e). */
gboolean        catena_openai_read_image   (JsonNode    *item,
                                            GBytes     **bytes,
                                            const char **url,
                                            GError     **error);

/* ComfyUI (catena-provider-comfyui.c) */
typedef enum
{
  CATENA_COMFYUI_EVENT_NONE,     /* nothing for this prompt, or not readable */
  CATENA_COMFYUI_EVENT_STARTED,
  CATENA_COMFYUI_EVENT_PROGRESS, /* *fraction set, in [0, 1] */
  CATENA_COMFYUI_EVENT_DONE,
  CATENA_COMFYUI_EVENT_FAILED,   /* error set */
} CatenaComfyuiEvent;

/* /upload/image → "<subfolder>/<name>" as LoadImage takes it. */
char              *catena_comfyui_read_upload_name (JsonObject *answer,
                                                    GError    **error);
/* POST /prompt → its prompt_id, only when it is safe inside a URL. */
char              *catena_comfyui_read_prompt_id   (JsonObject *answer,
                                                    GError    **error);
/* /object_info/<node> → the choices of one combo input (models installed). */
char             **catena_comfyui_read_choices     (JsonObject *answer,
                                                    const char *node,
                                                    const char *input);
/* One text message of the /ws socket (NUL-terminated, as received). */
CatenaComfyuiEvent catena_comfyui_read_message     (const char *text,
                                                    const char *prompt_id,
                                                    double     *fraction,
                                                    GError    **error);
/* /history/<id> → the prompt's entry, NULL while it is pending. */
JsonObject        *catena_comfyui_read_history     (JsonObject *answer,
                                                    const char *prompt_id);
/* Whether polling can stop: no status, completed, or failed. */
gboolean           catena_comfyui_history_finished (JsonObject *entry);
gboolean           catena_comfyui_history_failed   (JsonObject *entry,
                                                    GError    **error);
/* The /view paths of the images SaveImage wrote (at most 16), or NULL with an error. */
GPtrArray         *catena_comfyui_read_outputs     (JsonObject *entry,
                                                    GError    **error);

/* ---------------------------------------------------------------------------------------- */
/* ComfyUI graphs (catena-comfyui-workflow.c) */

/* The API-format prompt for one request. input_name/mask_name: names returned by
 * /upload/image, NULL when there is no such image. */
JsonObject *catena_comfyui_build_prompt (const CatenaProviderRequest *request,
                                         const char                  *checkpoint,
                                         const char                  *input_name,
                                         const char                  *mask_name,
                                         gint64                       seed,
                                         GError                     **error);

G_END_DECLS
