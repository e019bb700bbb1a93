/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <glib/gi18n-lib.h>
#include <math.h>
#include <string.h>

#include "catena-json-private.h"
#include "catena-error.h"
#include "catena-provider-private.h"

/* fal's queue API, as implemented by @fal-ai/client 1.10.1:
 *  - src/queue.js: submit POST https://queue.fal.run/<owner>/<alias>[/<path>] with
 *    x-fal-queue-priority; status GET …/<owner>/<alias>/requests/<id>/status?logs=0 (polled
 *    every 500 ms, retrying 500 as well); result GET …/requests/<id>; cancel PUT
 *    …/requests/<id>/cancel. Status, result and cancel drop the endpoint's sub-path.
 *  - src/storage.js: POST https://rest.fal.ai/storage/upload/initiate?storage_type=fal-cdn-v3
 *    {content_type, file_name} → {upload_url, file_url}; PUT the bytes to upload_url without
 *    fal credentials.
 *  - src/retry.js, src/response.js: the retry policy in catena-http.c; errors carry `detail`.
 * Status/result/cancel URLs are built here from the configured queue base rather than taken
 * from the submit answer, so the key is only ever sent to the host the user configured. */

struct _CatenaProviderFal
{
  CatenaProvider parent_instance;
};

G_DECLARE_FINAL_TYPE (CatenaProviderFal, catena_provider_fal, CATENA, PROVIDER_FAL,
                      CatenaProvider)
G_DEFINE_FINAL_TYPE (CatenaProviderFal, catena_provider_fal, CATENA_TYPE_PROVIDER)

#define SERVICE "fal"

/* Prices in USD, estimates read from fal.ai model pages (2025); the router's pricing table in
 * data/ is authoritative when present. per_mp: per megapixel of output; per_image otherwise. */
static const struct
{
  const char *model;
  double per_mp;
  double per_image;
} fal_prices[] = {
  { "fal-ai/flux/schnell", 0.003, 0 },
  { "fal-ai/flux/dev", 0.025, 0 },
  { "fal-ai/flux-lora", 0.035, 0 },
  { "fal-ai/flux-lora/image-to-image", 0.035, 0 },
  { "fal-ai/flux-pro/kontext", 0, 0.04 },
  { "fal-ai/qwen-image-edit", 0, 0.03 },
  { "fal-ai/birefnet", 0, 0.002 },
  { "fal-ai/esrgan", 0, 0.002 },
  { "fal-ai/clarity-upscaler", 0, 0.03 },
};

static gboolean
fal_supports (CatenaProvider *self, const char *kind)
{
  return g_str_equal (kind, "generate") || g_str_equal (kind, "edit") ||
         g_str_equal (kind, "style") || g_str_equal (kind, "remove-background") ||
         g_str_equal (kind, "upscale");
}

static const char *
fal_default_model (CatenaProvider *self, const char *kind)
{
  if (g_strcmp0 (kind, "generate") == 0)
    return "fal-ai/flux/schnell";
  if (g_strcmp0 (kind, "edit") == 0)
    return "fal-ai/flux-pro/kontext";
  if (g_strcmp0 (kind, "style") == 0)
    return "fal-ai/flux-lora/image-to-image";
  if (g_strcmp0 (kind, "remove-background") == 0)
    return "fal-ai/birefnet";
  if (g_strcmp0 (kind, "upscale") == 0)
    return "fal-ai/esrgan";
  return NULL;
}

static char **
fal_list_models (CatenaProvider *self, const char *kind, GCancellable *cancellable,
                 GError **error)
{
  GStrvBuilder *b = g_strv_builder_new ();
  char **out;

  if (g_strcmp0 (kind, "generate") == 0)
    {
      g_strv_builder_add (b, "fal-ai/flux/schnell");
      g_strv_builder_add (b, "fal-ai/flux/dev");
      g_strv_builder_add (b, "fal-ai/flux-lora");
    }
  else if (g_strcmp0 (kind, "edit") == 0)
    {
      g_strv_builder_add (b, "fal-ai/flux-pro/kontext");
      g_strv_builder_add (b, "fal-ai/qwen-image-edit");
    }
  else if (g_strcmp0 (kind, "style") == 0)
    {
      g_strv_builder_add (b, "fal-ai/flux-lora/image-to-image");
      g_strv_builder_add (b, "fal-ai/flux-lora");
    }
  else if (g_strcmp0 (kind, "remove-background") == 0)
    g_strv_builder_add (b, "fal-ai/birefnet");
  else if (g_strcmp0 (kind, "upscale") == 0)
    {
      g_strv_builder_add (b, "fal-ai/esrgan");
      g_strv_builder_add (b, "fal-ai/clarity-upscaler");
    }
  out = g_strv_builder_end (b);
  g_strv_builder_unref (b);
  return out;
}

static const char *
effective_model (CatenaProvider *self, const CatenaProviderRequest *r)
{
  if (r->model && r->model[0])
    return r->model;
  /* LoRA styling without an input image is text-to-image with the LoRA */
  if (g_strcmp0 (r->stage_kind, "style") == 0 && r->input == NULL)
    return "fal-ai/flux-lora";
  return fal_default_model (self, r->stage_kind);
}

static double
fal_estimate_cost (CatenaProvider *self, const CatenaProviderRequest *r)
{
  const char *model = effective_model (self, r);
  double mp = 1.0;

  if (r->width > 0 && r->height > 0)
    mp = MAX (1.0, ceil (r->width * (double) r->height / 1e6));
  else if (r->input)
    {
      const GeglRectangle *e = gegl_buffer_get_extent (r->input);
      mp = MAX (1.0, ceil (e->width * (double) e->height / 1e6));
    }
  for (guint i = 0; i < G_N_ELEMENTS (fal_prices); i++)
    if (g_strcmp0 (model, fal_prices[i].model) == 0)
      return r->n_images * (fal_prices[i].per_image + fal_prices[i].per_mp * mp);
  /* unknown endpoint: assume a premium model rather than free */
  return r->n_images * 0.05;
}

static const char *
fal_endpoint_env (CatenaProvider *self, const char *which, const char **default_url)
{
  if (g_strcmp0 (which, "rest") == 0)
    {
      *default_url = "https://rest.fal.ai";
      return "CATENA_FAL_REST_URL";
    }
  if (g_strcmp0 (which, "run") == 0)
    {
      *default_url = "https://fal.run";
      return "CATENA_FAL_RUN_URL";
    }
  *default_url = "https://queue.fal.run";
  return "CATENA_FAL_QUEUE_URL";
}

typedef struct
{
  char *key_header;
  char *queue;
  char *rest;
  GCancellable *cancellable;
} FalCall;

static void
fal_call_clear (FalCall *c)
{
  if (c->key_header)
    memset (c->key_header, 0, strlen (c->key_header));
  g_free (c->key_header);
  g_free (c->queue);
  g_free (c->rest);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (FalCall, fal_call_clear)

static CatenaHttpResponse *
fal_request (FalCall *c, const char *method, const char *url, JsonNode *body, gboolean retry_500,
             int max_retries, GCancellable *cancellable, GError **error)
{
  const char *headers[] = { c->key_header, "Accept: application/json",
                            body ? "x-fal-queue-priority: normal" : NULL, NULL };
  g_autoptr (GBytes) bytes = NULL;
  CatenaHttpRequest req = { .method = method, .url = url, .headers = headers,
                            .retry_500 = retry_500, .max_retries = max_retries,
                            .service = SERVICE };

  if (body)
    {
      gsize len;
      char *data = json_to_string (body, FALSE);
      len = strlen (data);
      bytes = g_bytes_new_take (data, len);
      req.body = bytes;
      req.content_type = "application/json";
    }
  return catena_http_perform (&req, cancellable, error);
}

static JsonNode *
fal_json (FalCall *c, const char *method, const char *url, JsonNode *body, gboolean retry_500,
          GCancellable *cancellable, GError **error)
{
  g_autoptr (CatenaHttpResponse) resp = fal_request (c, method, url, body, retry_500, -1,
                                                     cancellable, error);
  if (resp == NULL || !catena_http_check_status (resp, SERVICE, "FAL_KEY", error))
    return NULL;
  return catena_http_parse_json (resp, SERVICE, error);
}

static char *
fal_upload (FalCall *c, GBytes *png, const char *file_name, GCancellable *cancellable,
            GError **error)
{
  g_autofree char *url = g_strdup_printf ("%s/storage/upload/initiate?storage_type=fal-cdn-v3",
                                          c->rest);
  g_autoptr (JsonBuilder) b = json_builder_new ();
  g_autoptr (JsonNode) body = NULL;
  g_autoptr (JsonNode) answer = NULL;
  g_autoptr (CatenaHttpResponse) put = NULL;
  const char *upload_url, *file_url;
  const char *put_headers[] = { NULL };
  CatenaHttpRequest req = { .method = "PUT", .body = png, .content_type = "image/png",
                            .headers = put_headers, .max_retries = 2, .service = SERVICE };

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "content_type");
  json_builder_add_string_value (b, "image/png");
  json_builder_set_member_name (b, "file_name");
  json_builder_add_string_value (b, file_name);
  json_builder_end_object (b);
  body = json_builder_get_root (b);

  if (!(answer = fal_json (c, "POST", url, body, FALSE, cancellable, error)))
    {
      g_prefix_error (error, _("Uploading the image failed: "));
      return NULL;
    }
  if (!catena_fal_read_upload (json_node_get_object (answer), &upload_url, &file_url, error))
    return NULL;
  /* the upload URL is pre-signed: fal credentials must not travel with it */
  req.url = upload_url;
  if (!(put = catena_http_perform (&req, cancellable, error)) ||
      !catena_http_check_status (put, SERVICE, NULL, error))
    {
      g_prefix_error (error, _("Uploading the image failed: "));
      return NULL;
    }
  if (!catena_http_check_url (file_url, SERVICE, error))
    return NULL;
  return g_strdup (file_url);
}

static gboolean
upload_member (FalCall *c, JsonObject *input, const char *member, GeglBuffer *buffer,
               GCancellable *cancellable, GError **error)
{
  g_autoptr (GBytes) png = NULL;
  g_autofree char *url = NULL;
  g_autofree char *name = g_strdup_printf ("catena-%s-%08x.png", member, g_random_int ());

  /* fal's inpainting endpoints read the mask as white = change here, as Catena does */
  png = catena_provider_encode_png (buffer, error);
  if (png == NULL || !(url = fal_upload (c, png, name, cancellable, error)))
    return FALSE;
  json_object_set_string_member (input, member, url);
  return TRUE;
}

static void
set_image_size (JsonObject *input, const CatenaProviderRequest *r)
{
  JsonObject *size;

  if (r->width <= 0 || r->height <= 0)
    return;
  size = json_object_new ();
  json_object_set_int_member (size, "width", r->width);
  json_object_set_int_member (size, "height", r->height);
  json_object_set_object_member (input, "image_size", size);
}

static JsonObject *
build_input (FalCall *c, const CatenaProviderRequest *r, const char *model,
             GCancellable *cancellable, GError **error)
{
  g_autoptr (JsonObject) input = json_object_new ();
  const char *kind = r->stage_kind;
  gboolean needs_image = !g_str_equal (kind, "generate") &&
                         !(g_str_equal (kind, "style") && r->input == NULL);

  if (needs_image && r->input == NULL)
    {
      g_set_error (error, CATENA_STAGE_ERROR, CATENA_STAGE_ERROR_MISSING_INPUT,
                   _("The %s stage needs an image before it."), kind);
      return NULL;
    }
  if (g_str_equal (kind, "generate") || g_str_equal (kind, "style") ||
      g_str_equal (kind, "edit"))
    {
      if (r->prompt == NULL || r->prompt[0] == '\0')
        {
          g_set_error (error, CATENA_STAGE_ERROR, CATENA_STAGE_ERROR_INVALID_PARAMETER,
                       g_str_equal (kind, "edit")
                         ? _("The edit stage needs an instruction, e.g. “make the bag red”.")
                         : _("There is no prompt: write one on the asset or on the stage."));
          return NULL;
        }
      json_object_set_string_member (input, "prompt", r->prompt);
      if (r->negative_prompt && r->negative_prompt[0])
        json_object_set_string_member (input, "negative_prompt", r->negative_prompt);
      json_object_set_int_member (input, "num_images", r->n_images);
      if (r->seed >= 0)
        json_object_set_int_member (input, "seed", r->seed);
      json_object_set_string_member (input, "output_format", "png");
    }
  if (g_str_equal (kind, "generate"))
    set_image_size (input, r);
  else if (g_str_equal (kind, "style"))
    {
      JsonArray *loras = json_array_new ();
      JsonObject *lora = json_object_new ();

      if (r->lora == NULL || r->lora[0] == '\0')
        {
          json_array_unref (loras);
          json_object_unref (lora);
          g_set_error (error, CATENA_STAGE_ERROR, CATENA_STAGE_ERROR_INVALID_PARAMETER,
                       _("Choose the brand LoRA (a URL or a fal path) for the style stage."));
          return NULL;
        }
      json_object_set_string_member (lora, "path", r->lora);
      json_object_set_double_member (lora, "scale", r->lora_scale);
      json_array_add_object_element (loras, lora);
      json_object_set_array_member (input, "loras", loras);
      if (r->input)
        json_object_set_double_member (input, "strength", r->denoise);
      else
        set_image_size (input, r);
    }
  else if (g_str_equal (kind, "upscale"))
    json_object_set_double_member (input, strstr (model, "clarity") ? "upscale_factor" : "scale",
                                   r->scale);

  if (r->input && !upload_member (c, input, "image_url", r->input, cancellable, error))
    return NULL;
  if (r->mask && !upload_member (c, input, "mask_url", r->mask, cancellable, error))
    return NULL;

  if (r->extra)
    {
      JsonObjectIter it;
      const char *name;
      JsonNode *value;
      json_object_iter_init (&it, r->extra);
      while (json_object_iter_next (&it, &name, &value))
        json_object_set_member (input, name, json_node_copy (value));
    }
  return g_steal_pointer (&input);
}

static void
fal_cancel_remote (FalCall *c, const char *base)
{
  g_autofree char *url = g_strdup_printf ("%s/cancel", base);
  g_autoptr (CatenaHttpResponse) resp = NULL;
  g_autoptr (GError) error = NULL;
  const char *headers[] = { c->key_header, NULL };
  /* not cancellable: the user's cancel must reach fal so the job stops being billed */
  CatenaHttpRequest req = { .method = "PUT", .url = url, .headers = headers, .max_retries = 0,
                            .timeout_ms = 5000, .service = SERVICE };

  if (!(resp = catena_http_perform (&req, NULL, &error)))
    g_debug ("fal cancel failed: %s", error->message);
}

/* Answer readers (catena-provider-private.h) */

gboolean
catena_fal_read_upload (JsonObject *answer, const char **upload_url, const char **file_url,
                        GError **error)
{
  *upload_url = catena_json_string (answer, "upload_url", NULL);
  *file_url = catena_json_string (answer, "file_url", NULL);
  if (*upload_url == NULL || *file_url == NULL)
    {
      g_set_error (error, CATENA_PROVIDER_ERROR, CATENA_PROVIDER_ERROR_BAD_RESPONSE,
                   _("fal's storage did not say where to upload the image."));
      return FALSE;
    }
  return TRUE;
}

const char *
catena_fal_read_request_id (JsonObject *answer, GError **error)
{
  const char *request_id = catena_json_string (answer, "request_id", NULL);

  /* ids go into URLs: only accept the UUIDs fal issues (or hex with dashes) */
  if (request_id == NULL || request_id[0] == '\0' ||
      (!g_uuid_string_is_valid (request_id) &&
       strspn (request_id, "0123456789abcdefABCDEF-") != strlen (request_id)))
    {
      g_set_error (error, CATENA_PROVIDER_ERROR, CATENA_PROVIDER_ERROR_BAD_RESPONSE,
                   _("fal accepted the job but did not return a usable request id."));
      return NULL;
    }
  return request_id;
}

CatenaFalStatus
catena_fal_read_status (JsonObject *answer, GError **error)
{
  const char *status = catena_json_string (answer, "status", "");

  if (g_str_equal (status, "COMPLETED"))
    {
      const char *err = catena_json_string (answer, "error", NULL);
      if (err)
        {
          g_autofree char *excerpt = catena_provider_excerpt (err, 300);
          g_set_error (error, CATENA_PROVIDER_ERROR, CATENA_PROVIDER_ERROR_REMOTE_FAILED,
                       _("fal could not run the job: %.300s"), excerpt);
          return CATENA_FAL_STATUS_FAILED;
        }
      return CATENA_FAL_STATUS_COMPLETED;
    }
  if (g_str_equal (status, "IN_QUEUE"))
    return CATENA_FAL_STATUS_QUEUED;
  if (g_str_equal (status, "IN_PROGRESS"))
    return CATENA_FAL_STATUS_RUNNING;
  {
    g_autofree char *excerpt = catena_provider_excerpt (status, 40);
    g_set_error (error, CATENA_PROVIDER_ERROR, CATENA_PROVIDER_ERROR_BAD_RESPONSE,
                 _("fal reported a job state Catena does not know: “%.40s”."), excerpt);
  }
  return CATENA_FAL_STATUS_FAILED;
}

static gboolean
collect_image_urls (JsonObject *out, GPtrArray *urls)
{
  JsonArray *images = catena_json_get_array (out, "images");
  JsonObject *image = catena_json_get_object (out, "image");

  if (images)
    for (guint i = 0; i < json_array_get_length (images) && i < 16; i++)
      {
        JsonNode *n = json_array_get_element (images, i);
        const char *url = JSON_NODE_HOLDS_OBJECT (n)
                            ? catena_json_string (json_node_get_object (n), "url", NULL)
                            : NULL;
        if (url == NULL)
          return FALSE;
        g_ptr_array_add (urls, g_strdup (url));
      }
  else if (image)
    {
      const char *url = catena_json_string (image, "url", NULL);
      if (url == NULL)
        return FALSE;
      g_ptr_array_add (urls, g_strdup (url));
    }
  return urls->len > 0;
}

GPtrArray *
catena_fal_read_image_urls (JsonObject *answer, GError **error)
{
  g_autoptr (GPtrArray) urls = g_ptr_array_new_with_free_func (g_free);

  if (!collect_image_urls (answer, urls))
    {
      g_set_error (error, CATENA_PROVIDER_ERROR, CATENA_PROVIDER_ERROR_BAD_RESPONSE,
                   _("fal's answer has no images in it."));
      return NULL;
    }
  return g_steal_pointer (&urls);
}

static CatenaProviderResult *
fal_run (CatenaProvider *self, const CatenaProviderRequest *r,
         CatenaProviderProgressFunc progress, gpointer progress_data,
         GCancellable *cancellable, GError **error)
{
  g_auto (FalCall) c = { 0 };
  g_autofree char *key = NULL;
  g_autofree char *submit_url = NULL;
  g_autofree char *base = NULL;
  g_autofree char *status_url = NULL;
  g_autoptr (JsonObject) input = NULL;
  g_autoptr (JsonNode) body = NULL;
  g_autoptr (JsonNode) submitted = NULL;
  g_autoptr (JsonNode) output = NULL;
  g_autoptr (GPtrArray) urls = NULL;
  g_autoptr (CatenaProviderResult) result = NULL;
  g_auto (GStrv) parts = NULL;
  const char *model = effective_model (self, r);
  const char *request_id;
  gint64 deadline = g_get_monotonic_time () +
                    (gint64) catena_providers_get_job_timeout_ms () * 1000;
  gint64 started = g_get_monotonic_time ();

  parts = g_strsplit (model, "/", -1);
  if (g_strv_length (parts) < 2 || !parts[0][0] || !parts[1][0] || strstr (model, ".."))
    {
      g_set_error (error, CATENA_STAGE_ERROR, CATENA_STAGE_ERROR_INVALID_PARAMETER,
                   _("“%s” is not a fal endpoint; use owner/app, e.g. fal-ai/flux/schnell."),
                   model);
      return NULL;
    }
  if (!(key = catena_secrets_lookup ("fal", cancellable, error)))
    return NULL;
  c.key_header = g_strdup_printf ("Authorization: Key %s", key);
  memset (key, 0, strlen (key));
  c.queue = catena_provider_dup_endpoint (self, "queue");
  c.rest = catena_provider_dup_endpoint (self, "rest");

  catena_provider_report (progress, progress_data, 0.0, _("Uploading"));
  if (!(input = build_input (&c, r, model, cancellable, error)))
    return NULL;
  body = json_node_new (JSON_NODE_OBJECT);
  json_node_set_object (body, input);

  submit_url = g_strdup_printf ("%s/%s", c.queue, model);
  if (!(submitted = fal_json (&c, "POST", submit_url, body, FALSE, cancellable, error)))
    return NULL;
  if (!(request_id = catena_fal_read_request_id (json_node_get_object (submitted), error)))
    return NULL;
  base = g_strdup_printf ("%s/%s/%s/requests/%s", c.queue, parts[0], parts[1], request_id);
  status_url = g_strdup_printf ("%s/status?logs=0", base);
  catena_provider_report (progress, progress_data, 0.05, _("Queued"));

  for (;;)
    {
      g_autoptr (GError) poll_error = NULL;
      g_autoptr (JsonNode) st = NULL;
      CatenaFalStatus status;

      if (g_get_monotonic_time () > deadline)
        {
          fal_cancel_remote (&c, base);
          g_set_error (error, CATENA_PROVIDER_ERROR, CATENA_PROVIDER_ERROR_TIMEOUT,
                       _("fal did not finish the job in %u s; it was cancelled."),
                       catena_providers_get_job_timeout_ms () / 1000);
          return NULL;
        }
      st = fal_json (&c, "GET", status_url, NULL, TRUE, cancellable, &poll_error);
      if (st == NULL)
        {
          if (g_error_matches (poll_error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
            fal_cancel_remote (&c, base);
          g_propagate_error (error, g_steal_pointer (&poll_error));
          return NULL;
        }
      status = catena_fal_read_status (json_node_get_object (st), error);
      if (status == CATENA_FAL_STATUS_FAILED)
        return NULL;
      if (status == CATENA_FAL_STATUS_COMPLETED)
        break;
      if (status == CATENA_FAL_STATUS_QUEUED)
        catena_provider_report (progress, progress_data, 0.05, _("Queued"));
      else
        {
          double t = (g_get_monotonic_time () - started) / (double) G_USEC_PER_SEC;
          /* fal reports no fraction: approach 80 % over typical job times */
          catena_provider_report (progress, progress_data, 0.1 + 0.7 * (1 - exp (-t / 8.0)),
                                  _("Running"));
        }
      if (!catena_http_sleep (catena_providers_get_poll_interval_ms (), cancellable))
        {
          fal_cancel_remote (&c, base);
          g_cancellable_set_error_if_cancelled (cancellable, error);
          return NULL;
        }
    }

  catena_provider_report (progress, progress_data, 0.85, _("Downloading"));
  if (!(output = fal_json (&c, "GET", base, NULL, FALSE, cancellable, error)))
    return NULL;
  if (!(urls = catena_fal_read_image_urls (json_node_get_object (output), error)))
    return NULL;
  result = catena_provider_result_new ();
  for (guint i = 0; i < urls->len; i++)
    {
      GeglBuffer *image = catena_provider_download_image (urls->pdata[i], SERVICE, cancellable,
                                                          error);
      if (image == NULL)
        return NULL;
      g_ptr_array_add (result->images, image);
      catena_provider_report (progress, progress_data, 0.85 + 0.15 * (i + 1) / urls->len, NULL);
    }
  result->provenance->model = g_strdup (model);
  result->provenance->remote_id = g_strdup (request_id);
  result->provenance->cost_usd = fal_estimate_cost (self, r);
  result->provenance->seed = catena_json_int (json_node_get_object (output), "seed", r->seed);
  result->provenance->parameters = catena_provider_request_to_json (r);
  json_object_set_string_member (result->provenance->parameters, "endpoint", model);
  return g_steal_pointer (&result);
}

static void
catena_provider_fal_class_init (CatenaProviderFalClass *klass)
{
  CatenaProviderClass *provider_class = CATENA_PROVIDER_CLASS (klass);

  provider_class->name = "fal";
  provider_class->title = N_("fal");
  provider_class->supports = fal_supports;
  provider_class->default_model = fal_default_model;
  provider_class->list_models = fal_list_models;
  provider_class->estimate_cost = fal_estimate_cost;
  provider_class->run = fal_run;
  provider_class->endpoint_env = fal_endpoint_env;
}

static void
catena_provider_fal_init (CatenaProviderFal *self)
{
}
