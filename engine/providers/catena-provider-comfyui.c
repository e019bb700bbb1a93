/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <glib/gi18n-lib.h>
#include <math.h>
#include <string.h>

#include "catena-json-private.h"
#include "catena-error.h"
#include "catena-provider-private.h"

/* A ComfyUI server the user runs (server.py of comfyanonymous/ComfyUI, commit 005f3ba):
 * POST /prompt {prompt, client_id} → {prompt_id, number, node_errors} or 400 {error,
 * node_errors}; GET /history/<id> ({} until done); GET /view?filename&subfolder&type;
 * POST /upload/image (multipart "image", "type", "overwrite") → {name, subfolder, type};
 * POST /interrupt; POST /queue {delete: [id]}; GET /object_info/<class>. Progress comes from
 * the /ws?clientId= WebSocket ({type, data} JSON; binary preview frames are skipped); when
 * the socket cannot be opened or drops, /history is polled instead. */

struct _CatenaProviderComfyui
{
  CatenaProvider parent_instance;
};

G_DECLARE_FINAL_TYPE (CatenaProviderComfyui, catena_provider_comfyui, CATENA, PROVIDER_COMFYUI,
                      CatenaProvider)
G_DEFINE_FINAL_TYPE (CatenaProviderComfyui, catena_provider_comfyui, CATENA_TYPE_PROVIDER)

#define SERVICE "ComfyUI"

static gboolean
comfy_supports (CatenaProvider *self, const char *kind)
{
  /* no standard node removes backgrounds */
  return g_str_equal (kind, "generate") || g_str_equal (kind, "edit") ||
         g_str_equal (kind, "style") || g_str_equal (kind, "upscale");
}

static const char *
comfy_endpoint_env (CatenaProvider *self, const char *which, const char **default_url)
{
  *default_url = "http://127.0.0.1:8188";
  return "CATENA_COMFYUI_URL";
}

static CatenaHttpResponse *
comfy_request (CatenaProvider *self, const char *method, const char *path, JsonNode *body,
               const CatenaHttpPart *parts, guint n_parts, gsize max, int max_retries,
               guint timeout_ms, GCancellable *cancellable, GError **error)
{
  g_autofree char *base = catena_provider_dup_endpoint (self, "base");
  g_autofree char *url = g_strconcat (base, path, NULL);
  g_autoptr (GBytes) bytes = NULL;
  CatenaHttpRequest req = { .method = method, .url = url, .parts = parts, .n_parts = n_parts,
                            .max_response = max, .max_retries = max_retries,
                            .timeout_ms = timeout_ms, .service = SERVICE };

  if (body)
    {
      char *data = json_to_string (body, FALSE);
      bytes = g_bytes_new_take (data, strlen (data));
      req.body = bytes;
      req.content_type = "application/json";
    }
  return catena_http_perform (&req, cancellable, error);
}

static JsonNode *
comfy_json (CatenaProvider *self, const char *method, const char *path, JsonNode *body,
            GCancellable *cancellable, GError **error)
{
  g_autoptr (CatenaHttpResponse) resp = comfy_request (self, method, path, body, NULL, 0, 0, -1,
                                                       0, cancellable, error);
  if (resp == NULL || !catena_http_check_status (resp, SERVICE, NULL, error))
    return NULL;
  return catena_http_parse_json (resp, SERVICE, error);
}

static const struct
{
  const char *kind;
  const char *node;
  const char *input;
} model_inputs[] = {
  { "generate", "CheckpointLoaderSimple", "ckpt_name" },
  { "edit", "CheckpointLoaderSimple", "ckpt_name" },
  { "style", "LoraLoader", "lora_name" },
  { "upscale", "UpscaleModelLoader", "model_name" },
};

static char **
list_node_choices (CatenaProvider *self, const char *node, const char *input,
                   GCancellable *cancellable, GError **error)
{
  g_autofree char *path = g_strdup_printf ("/object_info/%s", node);
  g_autoptr (JsonNode) info = comfy_json (self, "GET", path, NULL, cancellable, error);

  if (info == NULL)
    return NULL;
  return catena_comfyui_read_choices (json_node_get_object (info), node, input);
}

static char **
comfy_list_models (CatenaProvider *self, const char *kind, GCancellable *cancellable,
                   GError **error)
{
  for (guint i = 0; i < G_N_ELEMENTS (model_inputs); i++)
    if (g_strcmp0 (kind, model_inputs[i].kind) == 0)
      return list_node_choices (self, model_inputs[i].node, model_inputs[i].input, cancellable,
                                error);
  return g_new0 (char *, 1);
}

static char *
upload_image (CatenaProvider *self, GBytes *png, const char *prefix, GCancellable *cancellable,
              GError **error)
{
  g_autofree char *file_name = g_strdup_printf ("catena-%s-%08x.png", prefix, g_random_int ());
  g_autoptr (GBytes) type = g_bytes_new_static ("input", 5);
  g_autoptr (GBytes) overwrite = g_bytes_new_static ("true", 4);
  CatenaHttpPart parts[] = {
    { "image", file_name, "image/png", png },
    { "type", NULL, NULL, type },
    { "overwrite", NULL, NULL, overwrite },
  };
  g_autoptr (CatenaHttpResponse) resp = NULL;
  g_autoptr (JsonNode) answer = NULL;

  if (!(resp = comfy_request (self, "POST", "/upload/image", NULL, parts, G_N_ELEMENTS (parts),
                              0, -1, 0, cancellable, error)) ||
      !catena_http_check_status (resp, SERVICE, NULL, error) ||
      !(answer = catena_http_parse_json (resp, SERVICE, error)))
    {
      g_prefix_error (error, _("Uploading the image to ComfyUI failed: "));
      return NULL;
    }
  return catena_comfyui_read_upload_name (json_node_get_object (answer), error);
}

static void
comfy_interrupt (CatenaProvider *self, const char *prompt_id)
{
  g_autoptr (JsonNode) body = json_node_new (JSON_NODE_OBJECT);
  g_autoptr (JsonObject) o = json_object_new ();
  g_autoptr (JsonObject) q = json_object_new ();
  g_autoptr (JsonNode) qbody = json_node_new (JSON_NODE_OBJECT);
  JsonArray *del = json_array_new ();
  g_autoptr (CatenaHttpResponse) r1 = NULL;
  g_autoptr (CatenaHttpResponse) r2 = NULL;

  /* not cancellable: these run because the user cancelled. Newer servers read prompt_id and
   * interrupt only that prompt; older ones interrupt whatever runs. A prompt still waiting
   * in the queue is removed with POST /queue {delete}. */
  json_object_set_string_member (o, "prompt_id", prompt_id);
  json_node_set_object (body, o);
  r1 = comfy_request (self, "POST", "/interrupt", body, NULL, 0, 0, 0, 5000, NULL, NULL);
  json_array_add_string_element (del, prompt_id);
  json_object_set_array_member (q, "delete", del);
  json_node_set_object (qbody, q);
  r2 = comfy_request (self, "POST", "/queue", qbody, NULL, 0, 0, 0, 5000, NULL, NULL);
}

typedef enum
{
  WAIT_DONE,
  WAIT_FALLBACK,   /* socket gone: poll /history */
  WAIT_FAILED,
} WaitResult;

static WaitResult
wait_on_socket (CatenaProvider *self, CatenaWebSocket *ws, const char *prompt_id,
                CatenaProviderProgressFunc progress, gpointer progress_data,
                gint64 deadline, GCancellable *cancellable, GError **error)
{
  for (;;)
    {
      g_autoptr (GError) local_error = NULL;
      g_autofree char *text = NULL;
      gboolean closed = FALSE;
      double fraction = 0;

      if (g_get_monotonic_time () > deadline)
        return WAIT_FALLBACK; /* the poll loop reports the timeout */
      text = catena_websocket_receive (ws, 250, &closed, cancellable, &local_error);
      if (local_error)
        {
          if (g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
            {
              g_propagate_error (error, g_steal_pointer (&local_error));
              return WAIT_FAILED;
            }
          g_debug ("ComfyUI socket: %s", local_error->message);
          return WAIT_FALLBACK;
        }
      if (closed)
        return WAIT_FALLBACK;
      if (text == NULL)
        continue;
      /* a garbled message costs a progress update, not the run */
      switch (catena_comfyui_read_message (text, prompt_id, &fraction, error))
        {
        case CATENA_COMFYUI_EVENT_NONE:
          break;
        case CATENA_COMFYUI_EVENT_STARTED:
          catena_provider_report (progress, progress_data, 0.1, _("Running"));
          break;
        case CATENA_COMFYUI_EVENT_PROGRESS:
          catena_provider_report (progress, progress_data, 0.1 + 0.75 * fraction, _("Running"));
          break;
        case CATENA_COMFYUI_EVENT_DONE:
          return WAIT_DONE;
        case CATENA_COMFYUI_EVENT_FAILED:
          return WAIT_FAILED;
        }
    }
}

/* Returns the history entry of prompt_id once it exists, NULL (no error) while pending. */
static JsonNode *
fetch_history (CatenaProvider *self, const char *prompt_id, GCancellable *cancellable,
               GError **error)
{
  g_autofree char *path = g_strdup_printf ("/history/%s", prompt_id);
  g_autoptr (JsonNode) h = comfy_json (self, "GET", path, NULL, cancellable, error);
  JsonObject *entry;

  if (h == NULL)
    return NULL;
  entry = catena_comfyui_read_history (json_node_get_object (h), prompt_id);
  if (entry == NULL)
    return NULL;
  {
    JsonNode *n = json_node_new (JSON_NODE_OBJECT);
    json_node_set_object (n, entry);
    return n;
  }
}

static gboolean
fetch_outputs (CatenaProvider *self, JsonObject *entry, CatenaProviderResult *result,
               CatenaProviderProgressFunc progress, gpointer progress_data,
               GCancellable *cancellable, GError **error)
{
  g_autoptr (GPtrArray) paths = catena_comfyui_read_outputs (entry, error);

  if (paths == NULL)
    return FALSE;
  for (guint i = 0; i < paths->len; i++)
    {
      g_autoptr (CatenaHttpResponse) resp = NULL;
      GeglBuffer *buffer;

      if (!(resp = comfy_request (self, "GET", paths->pdata[i], NULL, NULL, 0,
                                  CATENA_HTTP_MAX_IMAGE, -1, 0, cancellable, error)) ||
          !catena_http_check_status (resp, SERVICE, NULL, error) ||
          !(buffer = catena_provider_decode_image (resp->body, SERVICE, cancellable, error)))
        return FALSE;
      g_ptr_array_add (result->images, buffer);
      catena_provider_report (progress, progress_data, 0.9, _("Downloading"));
    }
  return TRUE;
}

static char *
ws_url_for (const char *base, const char *client_id)
{
  if (g_str_has_prefix (base, "https://"))
    return g_strdup_printf ("wss://%s/ws?clientId=%s", base + 8, client_id);
  if (g_str_has_prefix (base, "http://"))
    return g_strdup_printf ("ws://%s/ws?clientId=%s", base + 7, client_id);
  return NULL;
}

static CatenaProviderResult *
comfy_run (CatenaProvider *self, const CatenaProviderRequest *r,
           CatenaProviderProgressFunc progress, gpointer progress_data,
           GCancellable *cancellable, GError **error)
{
  g_autofree char *base = catena_provider_dup_endpoint (self, "base");
  g_autofree char *model = g_strdup (r->model && r->model[0] ? r->model : NULL);
  g_autofree char *input_name = NULL;
  g_autofree char *mask_name = NULL;
  g_autofree char *client_id = g_uuid_string_random ();
  g_autofree char *ws_url = NULL;
  g_autofree char *prompt_id = NULL;
  g_autoptr (CatenaWebSocket) ws = NULL;
  g_autoptr (JsonObject) graph = NULL;
  g_autoptr (JsonNode) body = NULL;
  g_autoptr (JsonNode) queued = NULL;
  g_autoptr (JsonNode) entry = NULL;
  g_autoptr (CatenaHttpResponse) resp = NULL;
  g_autoptr (CatenaProviderResult) result = NULL;
  g_autoptr (GError) ws_error = NULL;
  gint64 seed = r->seed >= 0 ? r->seed : g_random_int_range (0, G_MAXINT32);
  gint64 deadline = g_get_monotonic_time () +
                    (gint64) catena_providers_get_job_timeout_ms () * 1000;
  WaitResult wr = WAIT_FALLBACK;

  if (!catena_http_check_url (base, SERVICE, error))
    return NULL;
  if (model == NULL)
    {
      /* the server's first checkpoint / upscale model: ComfyUI has no notion of a default */
      const char *kind = g_str_equal (r->stage_kind, "style") ? "generate" : r->stage_kind;
      g_auto (GStrv) models = comfy_list_models (self, kind, cancellable, error);
      if (models == NULL)
        return NULL;
      if (models[0] == NULL)
        {
          g_set_error (error, CATENA_STAGE_ERROR, CATENA_STAGE_ERROR_MISSING_MODEL,
                       _("The ComfyUI server has no %s model installed."),
                       g_str_equal (kind, "upscale") ? _("upscale") : _("checkpoint"));
          return NULL;
        }
      model = g_strdup (models[0]);
    }

  catena_provider_report (progress, progress_data, 0.0, _("Uploading"));
  if (r->input)
    {
      g_autoptr (GBytes) png = catena_provider_encode_png (r->input, error);
      if (png == NULL || !(input_name = upload_image (self, png, "input", cancellable, error)))
        return NULL;
    }
  if (r->mask)
    {
      g_autoptr (GBytes) png = catena_provider_encode_mask_png (r->mask, error);
      if (png == NULL || !(mask_name = upload_image (self, png, "mask", cancellable, error)))
        return NULL;
    }
  if (!(graph = catena_comfyui_build_prompt (r, model, input_name, mask_name, seed, error)))
    return NULL;

  /* open the socket before queueing, or the first messages are missed */
  ws_url = ws_url_for (base, client_id);
  if (ws_url)
    ws = catena_websocket_connect (ws_url, 3000, cancellable, &ws_error);
  if (ws == NULL && g_error_matches (ws_error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    {
      g_propagate_error (error, g_steal_pointer (&ws_error));
      return NULL;
    }
  if (ws == NULL)
    g_debug ("ComfyUI: no progress socket (%s); polling /history",
             ws_error ? ws_error->message : "");

  {
    g_autoptr (JsonObject) o = json_object_new ();
    json_object_set_object_member (o, "prompt", json_object_ref (graph));
    json_object_set_string_member (o, "client_id", client_id);
    body = json_node_new (JSON_NODE_OBJECT);
    json_node_set_object (body, o);
  }
  /* a prompt is not idempotent: a retried POST could queue it twice */
  if (!(resp = comfy_request (self, "POST", "/prompt", body, NULL, 0, 0, 0, 0, cancellable,
                              error)))
    return NULL;
  if (resp->status == 400)
    {
      g_autoptr (GError) detail = NULL;
      catena_http_check_status (resp, SERVICE, NULL, &detail);
      g_set_error (error, CATENA_PROVIDER_ERROR, CATENA_PROVIDER_ERROR_INVALID_REQUEST,
                   _("ComfyUI refused the workflow (are the model and LoRA names installed on "
                     "the server?): %s"),
                   detail->message);
      return NULL;
    }
  if (!catena_http_check_status (resp, SERVICE, NULL, error) ||
      !(queued = catena_http_parse_json (resp, SERVICE, error)))
    return NULL;
  if (!(prompt_id = catena_comfyui_read_prompt_id (json_node_get_object (queued), error)))
    return NULL;
  catena_provider_report (progress, progress_data, 0.05, _("Queued"));

  if (ws)
    {
      wr = wait_on_socket (self, ws, prompt_id, progress, progress_data, deadline, cancellable,
                           error);
      if (wr == WAIT_FAILED)
        {
          if (g_cancellable_is_cancelled (cancellable))
            comfy_interrupt (self, prompt_id);
          return NULL;
        }
    }
  for (;;)
    {
      g_autoptr (GError) local_error = NULL;

      entry = fetch_history (self, prompt_id, cancellable, &local_error);
      if (local_error)
        {
          if (g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
            comfy_interrupt (self, prompt_id);
          g_propagate_error (error, g_steal_pointer (&local_error));
          return NULL;
        }
      if (entry && catena_comfyui_history_finished (json_node_get_object (entry)))
        break;
      if (g_get_monotonic_time () > deadline)
        {
          comfy_interrupt (self, prompt_id);
          g_set_error (error, CATENA_PROVIDER_ERROR, CATENA_PROVIDER_ERROR_TIMEOUT,
                       _("ComfyUI did not finish the job in %u s; it was interrupted."),
                       catena_providers_get_job_timeout_ms () / 1000);
          return NULL;
        }
      if (!catena_http_sleep (catena_providers_get_poll_interval_ms (), cancellable))
        {
          comfy_interrupt (self, prompt_id);
          g_cancellable_set_error_if_cancelled (cancellable, error);
          return NULL;
        }
      g_clear_pointer (&entry, json_node_unref);
    }
  if (catena_comfyui_history_failed (json_node_get_object (entry), error))
    return NULL;

  result = catena_provider_result_new ();
  if (!fetch_outputs (self, json_node_get_object (entry), result, progress, progress_data,
                      cancellable, error))
    return NULL;
  result->provenance->model = g_strdup (model);
  result->provenance->remote_id = g_strdup (prompt_id);
  result->provenance->seed = g_str_equal (r->stage_kind, "upscale") ? -1 : seed;
  result->provenance->parameters = catena_provider_request_to_json (r);
  json_object_set_int_member (result->provenance->parameters, "seed",
                              result->provenance->seed);
  json_object_set_object_member (result->provenance->parameters, "workflow",
                                 json_object_ref (graph));
  return g_steal_pointer (&result);
}

/* Answer readers (catena-provider-private.h) */

char *
catena_comfyui_read_upload_name (JsonObject *answer, GError **error)
{
  const char *name = catena_json_string (answer, "name", NULL);
  const char *subfolder = catena_json_string (answer, "subfolder", "");

  if (name == NULL)
    {
      g_set_error (error, CATENA_PROVIDER_ERROR, CATENA_PROVIDER_ERROR_BAD_RESPONSE,
                   _("ComfyUI did not say under which name it stored the image."));
      return NULL;
    }
  /* LoadImage takes "<subfolder>/<name>" relative to the input folder */
  return subfolder[0] ? g_strdup_printf ("%s/%s", subfolder, name) : g_strdup (name);
}

char *
catena_comfyui_read_prompt_id (JsonObject *answer, GError **error)
{
  const char *prompt_id = catena_json_string (answer, "prompt_id", NULL);

  /* ids go into URLs (/history/<id>) */
  if (prompt_id == NULL || prompt_id[0] == '\0' ||
      strspn (prompt_id, "0123456789abcdefABCDEF-") != strlen (prompt_id))
    {
      g_set_error (error, CATENA_PROVIDER_ERROR, CATENA_PROVIDER_ERROR_BAD_RESPONSE,
                   _("ComfyUI queued the workflow but did not return a usable prompt id."));
      return NULL;
    }
  return g_strdup (prompt_id);
}

/* Choices of a combo input: [[a, b, …], {…}] (classic) or ["COMBO", {options: [a, b]}]. */
static void
add_combo_choices (JsonNode *spec, GStrvBuilder *b)
{
  JsonArray *a, *choices = NULL;
  JsonNode *first;

  if (spec == NULL || !JSON_NODE_HOLDS_ARRAY (spec))
    return;
  a = json_node_get_array (spec);
  if (json_array_get_length (a) == 0)
    return;
  first = json_array_get_element (a, 0);
  if (JSON_NODE_HOLDS_ARRAY (first))
    choices = json_node_get_array (first);
  else if (json_array_get_length (a) > 1 &&
           JSON_NODE_HOLDS_OBJECT (json_array_get_element (a, 1)))
    choices = catena_json_get_array (json_node_get_object (json_array_get_element (a, 1)), "options");
  for (guint i = 0; choices && i < json_array_get_length (choices) && i < 4096; i++)
    {
      JsonNode *n = json_array_get_element (choices, i);
      if (JSON_NODE_HOLDS_VALUE (n) && json_node_get_value_type (n) == G_TYPE_STRING)
        g_strv_builder_add (b, json_node_get_string (n));
    }
}

char **
catena_comfyui_read_choices (JsonObject *answer, const char *node, const char *input)
{
  GStrvBuilder *b = g_strv_builder_new ();
  JsonObject *o = catena_json_get_object (answer, node);
  JsonObject *in = o ? catena_json_get_object (o, "input") : NULL;
  JsonObject *req = in ? catena_json_get_object (in, "required") : NULL;
  char **out;

  if (req && json_object_has_member (req, input))
    add_combo_choices (json_object_get_member (req, input), b);
  out = g_strv_builder_end (b);
  g_strv_builder_unref (b);
  return out;
}

CatenaComfyuiEvent
catena_comfyui_read_message (const char *text, const char *prompt_id, double *fraction,
                             GError **error)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  const char *type, *pid;
  JsonObject *msg, *data;

  /* an empty or blank message parses to no root at all (fuzz-provider-answers) */
  if (!json_parser_load_from_data (parser, text, -1, NULL) ||
      json_parser_get_root (parser) == NULL ||
      !JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)))
    return CATENA_COMFYUI_EVENT_NONE;
  msg = json_node_get_object (json_parser_get_root (parser));
  type = catena_json_string (msg, "type", "");
  data = catena_json_get_object (msg, "data");
  if (data == NULL)
    return CATENA_COMFYUI_EVENT_NONE;
  pid = catena_json_string (data, "prompt_id", NULL);
  if (pid && g_strcmp0 (pid, prompt_id) != 0)
    return CATENA_COMFYUI_EVENT_NONE; /* another client's prompt */
  if (g_str_equal (type, "progress"))
    {
      double value = catena_json_double (data, "value", 0);
      double max = catena_json_double (data, "max", 0);
      double f = max > 0 ? value / max : NAN;

      /* 1e999 reads as infinity: no fraction from that */
      if (!isfinite (f))
        return CATENA_COMFYUI_EVENT_NONE;
      *fraction = CLAMP (f, 0.0, 1.0);
      return CATENA_COMFYUI_EVENT_PROGRESS;
    }
  if (g_str_equal (type, "executing") && pid && json_object_has_member (data, "node") &&
      json_object_get_null_member (data, "node"))
    return CATENA_COMFYUI_EVENT_DONE;
  if (g_str_equal (type, "execution_success") && pid)
    return CATENA_COMFYUI_EVENT_DONE;
  if (g_str_equal (type, "execution_start"))
    return CATENA_COMFYUI_EVENT_STARTED;
  if (g_str_equal (type, "execution_error"))
    {
      /* the socket's text is not checked for UTF-8 the way HTTP bodies are */
      g_autofree char *node_id = catena_provider_excerpt (
        catena_json_string (data, "node_id", "?"), 40);
      g_autofree char *node_type = catena_provider_excerpt (
        catena_json_string (data, "node_type", "?"), 80);
      g_autofree char *message = catena_provider_excerpt (
        catena_json_string (data, "exception_message", ""), 300);

      g_set_error (error, CATENA_PROVIDER_ERROR, CATENA_PROVIDER_ERROR_REMOTE_FAILED,
                   _("ComfyUI failed in node %s (%s): %.300s"), node_id, node_type, message);
      return CATENA_COMFYUI_EVENT_FAILED;
    }
  if (g_str_equal (type, "execution_interrupted"))
    {
      g_set_error (error, CATENA_PROVIDER_ERROR, CATENA_PROVIDER_ERROR_REMOTE_FAILED,
                   _("The job was stopped on the ComfyUI server."));
      return CATENA_COMFYUI_EVENT_FAILED;
    }
  return CATENA_COMFYUI_EVENT_NONE;
}

JsonObject *
catena_comfyui_read_history (JsonObject *answer, const char *prompt_id)
{
  return catena_json_get_object (answer, prompt_id);
}

gboolean
catena_comfyui_history_finished (JsonObject *entry)
{
  JsonObject *st = catena_json_get_object (entry, "status");

  /* a history entry may appear before outputs are complete on some servers */
  return st == NULL || catena_json_boolean (st, "completed", TRUE) ||
         g_strcmp0 (catena_json_string (st, "status_str", ""), "error") == 0;
}

gboolean
catena_comfyui_history_failed (JsonObject *entry, GError **error)
{
  JsonObject *status = catena_json_get_object (entry, "status");
  const char *s = status ? catena_json_string (status, "status_str", "")
                         : "";

  if (g_strcmp0 (s, "error") != 0)
    return FALSE;
  g_set_error (error, CATENA_PROVIDER_ERROR, CATENA_PROVIDER_ERROR_REMOTE_FAILED,
               _("ComfyUI could not run the workflow; its log has the details."));
  return TRUE;
}

GPtrArray *
catena_comfyui_read_outputs (JsonObject *entry, GError **error)
{
  g_autoptr (GPtrArray) paths = g_ptr_array_new_with_free_func (g_free);
  JsonObject *outputs = catena_json_get_object (entry, "outputs");
  JsonObjectIter it;
  const char *node_id;
  JsonNode *node_out;

  if (outputs == NULL)
    {
      g_set_error (error, CATENA_PROVIDER_ERROR, CATENA_PROVIDER_ERROR_BAD_RESPONSE,
                   _("ComfyUI's history has no outputs for the job."));
      return NULL;
    }
  json_object_iter_init (&it, outputs);
  while (json_object_iter_next (&it, &node_id, &node_out))
    {
      JsonArray *images;

      if (!JSON_NODE_HOLDS_OBJECT (node_out))
        continue;
      images = catena_json_get_array (json_node_get_object (node_out), "images");
      for (guint i = 0; images && i < json_array_get_length (images); i++)
        {
          JsonNode *im = json_array_get_element (images, i);
          g_autofree char *fn = NULL, *sub = NULL, *ty = NULL;
          JsonObject *io;

          if (!JSON_NODE_HOLDS_OBJECT (im) || paths->len >= 16)
            continue;
          io = json_node_get_object (im);
          /* previews of intermediate nodes are "temp"; Catena wants what SaveImage wrote */
          if (g_strcmp0 (catena_json_string (io, "type", "output"), "output") != 0)
            continue;
          fn = g_uri_escape_string (catena_json_string (io, "filename", ""), NULL, FALSE);
          sub = g_uri_escape_string (catena_json_string (io, "subfolder", ""), NULL, FALSE);
          ty = g_uri_escape_string ("output", NULL, FALSE);
          g_ptr_array_add (paths,
                           g_strdup_printf ("/view?filename=%s&subfolder=%s&type=%s", fn, sub,
                                            ty));
        }
    }
  if (paths->len == 0)
    {
      g_set_error (error, CATENA_PROVIDER_ERROR, CATENA_PROVIDER_ERROR_BAD_RESPONSE,
                   _("ComfyUI finished without saving an image."));
      return NULL;
    }
  return g_steal_pointer (&paths);
}

static void
catena_provider_comfyui_class_init (CatenaProviderComfyuiClass *klass)
{
  CatenaProviderClass *provider_class = CATENA_PROVIDER_CLASS (klass);

  provider_class->name = "comfyui";
  provider_class->title = N_("ComfyUI");
  provider_class->supports = comfy_supports;
  provider_class->list_models = comfy_list_models;
  provider_class->run = comfy_run;
  provider_class->endpoint_env = comfy_endpoint_env;
}

static void
catena_provider_comfyui_init (CatenaProviderComfyui *self)
{
}
