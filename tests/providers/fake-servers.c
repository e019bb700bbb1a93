/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <gegl.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <libsoup/soup.h>
#include <string.h>

#include "catena-image-io.h"
#include "fake-server.h"

/* Faithful loopback fakes. What each one follows, and from where:
 *
 * fal — @fal-ai/client 1.10.1 (npm), src/queue.js, src/storage.js, src/response.js,
 * src/retry.js, src/headers.js:
 *   POST /<owner>/<alias>[/<path>]                → {request_id, response_url, status_url,
 *                                                    cancel_url, queue_position}
 *   GET  /<owner>/<alias>/requests/<id>/status    → {status: IN_QUEUE (queue_position) |
 *                                                    IN_PROGRESS (logs) | COMPLETED (logs,
 *                                                    metrics)}; the sub-path is dropped
 *   GET  /<owner>/<alias>/requests/<id>           → the model output: {images: [{url, width,
 *                                                    height, content_type}], seed, timings,
 *                                                    has_nsfw_concepts, prompt}
 *   PUT  /<owner>/<alias>/requests/<id>/cancel    → 202 {status: CANCELLATION_REQUESTED}
 *   POST /storage/upload/initiate?storage_type=fal-cdn-v3 {content_type, file_name}
 *                                                 → {upload_url, file_url}; PUT upload_url
 *   Auth "Authorization: Key <key>"; errors {detail} (422: detail [{loc, msg, type}]).
 *   The queue, REST and CDN hosts are one server here; the upload and file URLs must not
 *   receive the Authorization header ("leaked-auth" counts the times they did).
 * ComfyUI — server.py and execution.py of comfyanonymous/ComfyUI (commit 005f3ba), with
 * script_examples/websockets_api_example.py for the client's view:
 *   POST /prompt {prompt, client_id} → {prompt_id, number, node_errors} | 400 {error,
 *   node_errors}; GET /history/<id> → {} until done, then {<id>: {prompt, outputs, status:
 *   {status_str, completed, messages}}}; GET /view?filename&subfolder&type; POST /upload/image
 *   multipart (image, type, overwrite) → {name, subfolder, type}; POST /interrupt; POST
 *   /queue {delete}; GET /object_info[/<class>]; GET /system_stats; WebSocket /ws?clientId=
 *   with {type, data} messages (status, execution_start, execution_cached, executing,
 *   progress, executed, execution_success, execution_error, execution_interrupted) and binary
 *   preview frames (u32 BE event 1, u32 BE format 2 = PNG, image bytes).
 * OpenAI — Images API reference (platform.openai.com/docs/api-reference/images):
 *   POST /v1/images/generations JSON, POST /v1/images/edits multipart (image[] / image, mask,
 *   prompt, model, n, size) → {created, data: [{b64_json}], usage}; errors {error: {message,
 *   type, param, code}}; 429 with retry-after and x-ratelimit-* headers; GET /v1/models.
 *
 * Faults (fake_server_fault): all servers: "401" (any key refused), "malformed" (truncated
 * JSON), "huge" (a 9 MiB JSON body), "slow" (answer after 3 s), "drop" (close the connection
 * without answering). fal: "submit-429" (Retry-After: 1), "submit-500", "submit-503",
 * "submit-422", "status-500", "status-503", "status-drop", "status-slow", "never-complete",
 * "result-malformed", "result-huge", "image-not-image", "image-huge-png", "image-insecure".
 * ComfyUI: "no-ws", "hang", "exec-error", "view-not-image". OpenAI: "429", "500", "400",
 * "b64-not-image", "b64-huge-png". */

typedef enum
{
  FAKE_FAL,
  FAKE_COMFYUI,
  FAKE_OPENAI,
} FakeKind;

typedef struct
{
  char *id;
  int polls;
  int n_images;
  int width, height;
  gint64 seed;
  gboolean cancelled;
} FalJob;

typedef struct
{
  char *id;
  char *client_id;
  int step;
  int n_images;
  int width, height;
  char *save_node;
  gboolean hang, error, interrupted, done;
  JsonNode *prompt;
} ComfyJob;

struct _FakeServer
{
  FakeKind kind;
  GThread *thread;
  GMainContext *context;
  GMainLoop *loop;
  SoupServer *server;
  char *url;

  GMutex lock;
  GCond cond;
  gboolean ready;
  GHashTable *counts;   /* event -> GINT */
  GHashTable *faults;   /* name -> GINT remaining (-1 forever) */
  GHashTable *last;     /* event -> body */
  GHashTable *jobs;     /* id -> FalJob / ComfyJob */
  GHashTable *uploads;  /* token/name -> GBytes */
  GHashTable *sockets;  /* client id -> SoupWebsocketConnection */
  int next_id;
};

/* ---------------------------------------------------------------------------------------- */
/* Helpers */

static void
count (FakeServer *s, const char *event)
{
  g_mutex_lock (&s->lock);
  g_hash_table_replace (s->counts, g_strdup (event),
                        GINT_TO_POINTER (GPOINTER_TO_INT (g_hash_table_lookup (s->counts, event)) +
                                         1));
  g_mutex_unlock (&s->lock);
}

static void
remember (FakeServer *s, const char *event, const char *data, gsize len)
{
  g_mutex_lock (&s->lock);
  g_hash_table_replace (s->last, g_strdup (event), g_strndup (data ? data : "", len));
  g_mutex_unlock (&s->lock);
}

static gboolean
take_fault (FakeServer *s, const char *name)
{
  gboolean hit = FALSE;
  gpointer v;

  g_mutex_lock (&s->lock);
  if (g_hash_table_lookup_extended (s->faults, name, NULL, &v))
    {
      int left = GPOINTER_TO_INT (v);
      hit = TRUE;
      if (left > 0)
        {
          if (left == 1)
            g_hash_table_remove (s->faults, name);
          else
            g_hash_table_replace (s->faults, g_strdup (name), GINT_TO_POINTER (left - 1));
        }
    }
  g_mutex_unlock (&s->lock);
  return hit;
}

static void
respond (SoupServerMessage *msg, guint status, const char *type, const char *data, gsize len)
{
  soup_server_message_set_status (msg, status, NULL);
  if (data)
    soup_server_message_set_response (msg, type, SOUP_MEMORY_COPY, data, len);
}

static void
respond_json (SoupServerMessage *msg, guint status, JsonNode *node)
{
  g_autofree char *text = json_to_string (node, FALSE);
  respond (msg, status, "application/json", text, strlen (text));
}

static void
respond_text (SoupServerMessage *msg, guint status, const char *json)
{
  respond (msg, status, "application/json", json, strlen (json));
}

static GBytes *
request_body (SoupServerMessage *msg)
{
  return soup_message_body_flatten (soup_server_message_get_request_body (msg));
}

static JsonNode *
parse_body (SoupServerMessage *msg)
{
  g_autoptr (GBytes) b = request_body (msg);
  g_autoptr (JsonParser) p = json_parser_new ();
  gsize len;
  const char *d = g_bytes_get_data (b, &len);

  if (!d || !json_parser_load_from_data (p, d, len, NULL))
    return NULL;
  return json_parser_steal_root (p);
}

static const char *
header (SoupServerMessage *msg, const char *name)
{
  return soup_message_headers_get_one (soup_server_message_get_request_headers (msg), name);
}

static void
add_header (SoupServerMessage *msg, const char *name, const char *value)
{
  soup_message_headers_replace (soup_server_message_get_response_headers (msg), name, value);
}

static GBytes *
make_png (int w, int h, float r, float g, float b)
{
  g_autoptr (GeglBuffer) buffer = gegl_buffer_new (GEGL_RECTANGLE (0, 0, w, h),
                                                   babl_format (CATENA_WORK_FORMAT));
  g_autofree char *dir = g_dir_make_tmp ("fake-png-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, "x.png", NULL);
  float px[4] = { r, g, b, 1.0f };
  char *data = NULL;
  gsize len = 0;

  gegl_buffer_set_color_from_pixel (buffer, NULL, px, babl_format (CATENA_WORK_FORMAT));
  g_assert_true (catena_image_save (buffer, path, CATENA_EXPORT_FORMAT_PNG, 0, NULL));
  g_assert_true (g_file_get_contents (path, &data, &len, NULL));
  g_unlink (path);
  g_rmdir (dir);
  return g_bytes_new_take (data, len);
}

static guint32
crc32_png (const guint8 *data, gsize len)
{
  guint32 c = 0xffffffffu;
  for (gsize i = 0; i < len; i++)
    {
      c ^= data[i];
      for (int k = 0; k < 8; k++)
        c = (c >> 1) ^ (0xedb88320u & (-(c & 1)));
    }
  return c ^ 0xffffffffu;
}

static void
put_chunk (GByteArray *a, const char *type, const guint8 *data, guint32 len)
{
  guint8 be[4] = { len >> 24, len >> 16, len >> 8, len };
  g_autoptr (GByteArray) crc_in = g_byte_array_new ();
  guint32 crc;
  guint8 crc_be[4];

  g_byte_array_append (a, be, 4);
  g_byte_array_append (crc_in, (const guint8 *) type, 4);
  if (len)
    g_byte_array_append (crc_in, data, len);
  g_byte_array_append (a, crc_in->data, crc_in->len);
  crc = crc32_png (crc_in->data, crc_in->len);
  crc_be[0] = crc >> 24;
  crc_be[1] = crc >> 16;
  crc_be[2] = crc >> 8;
  crc_be[3] = crc;
  g_byte_array_append (a, crc_be, 4);
}

/* A well-formed PNG that claims 50000×50000 pixels (a decompression bomb's header). */
static GBytes *
make_huge_png (void)
{
  static const guint8 sig[8] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n' };
  /* zlib stream of one empty stored block: not the pixels, only plausible bytes */
  static const guint8 idat[] = { 0x78, 0x01, 0x01, 0x00, 0x00, 0xff, 0xff, 0x00, 0x00, 0x00,
                                 0x01 };
  guint32 edge = 50000;
  guint8 ihdr[13] = { edge >> 24, edge >> 16, edge >> 8, edge, edge >> 24, edge >> 16,
                      edge >> 8, edge, 8, 6, 0, 0, 0 };
  GByteArray *a = g_byte_array_new ();

  g_byte_array_append (a, sig, 8);
  put_chunk (a, "IHDR", ihdr, 13);
  put_chunk (a, "IDAT", idat, sizeof idat);
  put_chunk (a, "IEND", NULL, 0);
  return g_byte_array_free_to_bytes (a);
}

static char *
huge_json (void)
{
  GString *s = g_string_new ("{\"padding\": \"");
  for (int i = 0; i < 9 * 1024 * 1024; i += 64)
    g_string_append (s, "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef");
  g_string_append (s, "\"}");
  return g_string_free (s, FALSE);
}

typedef struct
{
  SoupServerMessage *msg;
  guint status;
  char *body;
} Delayed;

static gboolean
delayed_reply (gpointer data)
{
  Delayed *d = data;
  respond (d->msg, d->status, "application/json", d->body, strlen (d->body));
  soup_server_message_unpause (d->msg);
  return G_SOURCE_REMOVE;
}

static void
delayed_free (gpointer data)
{
  Delayed *d = data;
  g_object_unref (d->msg);
  g_free (d->body);
  g_free (d);
}

static void
reply_later (FakeServer *s, SoupServerMessage *msg, guint ms, guint status, const char *body)
{
  Delayed *d = g_new0 (Delayed, 1);
  GSource *src = g_timeout_source_new (ms);

  d->msg = g_object_ref (msg);
  d->status = status;
  d->body = g_strdup (body);
  soup_server_message_pause (msg);
  g_source_set_callback (src, delayed_reply, d, delayed_free);
  g_source_attach (src, s->context);
  g_source_unref (src);
}

static void
drop_connection (SoupServerMessage *msg)
{
  GIOStream *stream = soup_server_message_steal_connection (msg);
  if (stream)
    {
      g_io_stream_close (stream, NULL, NULL);
      g_object_unref (stream);
    }
}

/* Faults every server shares. TRUE when the request was answered by one. */
static gboolean
common_faults (FakeServer *s, SoupServerMessage *msg)
{
  if (take_fault (s, "401"))
    {
      if (s->kind == FAKE_OPENAI)
        respond_text (msg, 401, "{\"error\": {\"message\": \"Incorrect API key provided.\", "
                                "\"type\": \"invalid_request_error\", \"param\": null, "
                                "\"code\": \"invalid_api_key\"}}");
      else
        respond_text (msg, 401, "{\"detail\": \"Unauthorized\"}");
      return TRUE;
    }
  if (take_fault (s, "malformed"))
    {
      respond_text (msg, 200, "{\"request_id\": \"abc\", \"images\": [");
      return TRUE;
    }
  if (take_fault (s, "huge"))
    {
      g_autofree char *j = huge_json ();
      respond_text (msg, 200, j);
      return TRUE;
    }
  if (take_fault (s, "slow"))
    {
      reply_later (s, msg, 3000, 200, "{}");
      return TRUE;
    }
  if (take_fault (s, "drop"))
    {
      drop_connection (msg);
      return TRUE;
    }
  return FALSE;
}

/* ---------------------------------------------------------------------------------------- */
/* fal */

static gboolean
fal_authorized (FakeServer *s, SoupServerMessage *msg)
{
  const char *auth = header (msg, "Authorization");
  if (g_strcmp0 (auth, "Key " FAKE_KEY) == 0)
    return TRUE;
  count (s, "unauthorized");
  respond_text (msg, 401, "{\"detail\": \"Authentication is required to access this "
                          "resource.\"}");
  return FALSE;
}

static void
fal_job_free (gpointer data)
{
  FalJob *j = data;
  g_free (j->id);
  g_free (j);
}

static void
fal_submit (FakeServer *s, SoupServerMessage *msg, const char *path)
{
  g_autoptr (JsonNode) input = parse_body (msg);
  g_autoptr (GBytes) raw = request_body (msg);
  g_auto (GStrv) parts = g_strsplit (path + 1, "/", -1);
  g_autoptr (JsonBuilder) b = json_builder_new ();
  g_autoptr (JsonNode) answer = NULL;
  g_autofree char *base = NULL;
  FalJob *job;
  JsonObject *in;

  count (s, "submit");
  remember (s, "submit", g_bytes_get_data (raw, NULL), g_bytes_get_size (raw));
  remember (s, "submit-path", path, strlen (path));
  remember (s, "submit-priority", header (msg, "x-fal-queue-priority"),
            header (msg, "x-fal-queue-priority") ? strlen (header (msg, "x-fal-queue-priority"))
                                                  : 0);
  if (take_fault (s, "submit-429"))
    {
      add_header (msg, "Retry-After", "1");
      respond_text (msg, 429, "{\"detail\": \"Rate limit exceeded\"}");
      return;
    }
  if (take_fault (s, "submit-500"))
    {
      respond_text (msg, 500, "{\"detail\": \"Internal server error\"}");
      return;
    }
  if (take_fault (s, "submit-503"))
    {
      respond_text (msg, 503, "{\"detail\": \"Service unavailable\"}");
      return;
    }
  if (input == NULL || !JSON_NODE_HOLDS_OBJECT (input))
    {
      respond_text (msg, 422, "{\"detail\": [{\"loc\": [\"body\"], \"msg\": \"Input should "
                              "be a valid dictionary\", \"type\": \"dict_type\"}]}");
      return;
    }
  in = json_node_get_object (input);
  if (take_fault (s, "submit-422") || (!json_object_has_member (in, "prompt") &&
                                        !json_object_has_member (in, "image_url")))
    {
      respond_text (msg, 422, "{\"detail\": [{\"loc\": [\"body\", \"prompt\"], \"msg\": "
                              "\"Field required\", \"type\": \"missing\"}]}");
      return;
    }

  job = g_new0 (FalJob, 1);
  job->id = g_uuid_string_random ();
  job->n_images = json_object_get_int_member_with_default (in, "num_images", 1);
  job->seed = json_object_get_int_member_with_default (in, "seed", 1234567);
  job->width = job->height = 64;
  if (json_object_has_member (in, "image_size") &&
      JSON_NODE_HOLDS_OBJECT (json_object_get_member (in, "image_size")))
    {
      JsonObject *sz = json_object_get_object_member (in, "image_size");
      job->width = json_object_get_int_member_with_default (sz, "width", 64);
      job->height = json_object_get_int_member_with_default (sz, "height", 64);
    }
  g_mutex_lock (&s->lock);
  g_hash_table_replace (s->jobs, g_strdup (job->id), job);
  g_mutex_unlock (&s->lock);

  base = g_strdup_printf ("%s/%s/%s/requests/%s", s->url, parts[0], parts[1], job->id);
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "status");
  json_builder_add_string_value (b, "IN_QUEUE");
  json_builder_set_member_name (b, "request_id");
  json_builder_add_string_value (b, job->id);
  json_builder_set_member_name (b, "response_url");
  json_builder_add_string_value (b, base);
  json_builder_set_member_name (b, "status_url");
  {
    g_autofree char *u = g_strdup_printf ("%s/status", base);
    json_builder_add_string_value (b, u);
  }
  json_builder_set_member_name (b, "cancel_url");
  {
    g_autofree char *u = g_strdup_printf ("%s/cancel", base);
    json_builder_add_string_value (b, u);
  }
  json_builder_set_member_name (b, "queue_position");
  json_builder_add_int_value (b, 0);
  json_builder_end_object (b);
  answer = json_builder_get_root (b);
  add_header (msg, "x-fal-request-id", job->id);
  respond_json (msg, 200, answer);
}

static FalJob *
fal_lookup (FakeServer *s, const char *id)
{
  FalJob *j;
  g_mutex_lock (&s->lock);
  j = g_hash_table_lookup (s->jobs, id);
  g_mutex_unlock (&s->lock);
  return j;
}

static void
fal_status (FakeServer *s, SoupServerMessage *msg, FalJob *job)
{
  count (s, "status");
  if (take_fault (s, "status-500"))
    {
      respond_text (msg, 500, "{\"detail\": \"Internal server error\"}");
      return;
    }
  if (take_fault (s, "status-503"))
    {
      respond_text (msg, 503, "{\"detail\": \"Service unavailable\"}");
      return;
    }
  if (take_fault (s, "status-drop"))
    {
      drop_connection (msg);
      return;
    }
  if (take_fault (s, "status-slow"))
    {
      reply_later (s, msg, 3000, 200, "{\"status\": \"IN_PROGRESS\", \"logs\": []}");
      return;
    }
  job->polls++;
  if (job->polls == 1 && !job->cancelled)
    respond_text (msg, 202, "{\"status\": \"IN_QUEUE\", \"queue_position\": 0, "
                            "\"response_url\": \"\"}");
  else if ((job->polls == 2 || take_fault (s, "never-complete")) && !job->cancelled)
    respond_text (msg, 202, "{\"status\": \"IN_PROGRESS\", \"logs\": [{\"message\": "
                            "\"step 1\", \"level\": \"INFO\", \"source\": \"user\", "
                            "\"timestamp\": \"2025-01-01T00:00:00\"}]}");
  else
    respond_text (msg, 200, "{\"status\": \"COMPLETED\", \"logs\": [], \"metrics\": "
                            "{\"inference_time\": 0.05}}");
}

static void
fal_result (FakeServer *s, SoupServerMessage *msg, FalJob *job)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  g_autoptr (JsonNode) answer = NULL;

  count (s, "result");
  if (take_fault (s, "result-malformed"))
    {
      respond_text (msg, 200, "{\"images\": [{\"url\": \"http://127.0.0.1:1/x.png\"");
      return;
    }
  if (take_fault (s, "result-huge"))
    {
      g_autofree char *j = huge_json ();
      respond_text (msg, 200, j);
      return;
    }
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "images");
  json_builder_begin_array (b);
  for (int i = 0; i < job->n_images; i++)
    {
      g_autofree char *url = NULL;
      if (take_fault (s, "image-not-image"))
        url = g_strdup_printf ("%s/files/not-an-image.png", s->url);
      else if (take_fault (s, "image-huge-png"))
        url = g_strdup_printf ("%s/files/huge.png", s->url);
      else if (take_fault (s, "image-insecure"))
        url = g_strdup ("http://cdn.example.com/files/x.png");
      else
        url = g_strdup_printf ("%s/files/%s-%d-%dx%d.png", s->url, job->id, i, job->width,
                               job->height);
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "url");
      json_builder_add_string_value (b, url);
      json_builder_set_member_name (b, "width");
      json_builder_add_int_value (b, job->width);
      json_builder_set_member_name (b, "height");
      json_builder_add_int_value (b, job->height);
      json_builder_set_member_name (b, "content_type");
      json_builder_add_string_value (b, "image/png");
      json_builder_end_object (b);
    }
  json_builder_end_array (b);
  json_builder_set_member_name (b, "seed");
  json_builder_add_int_value (b, job->seed);
  json_builder_set_member_name (b, "timings");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "inference");
  json_builder_add_double_value (b, 0.05);
  json_builder_end_object (b);
  json_builder_set_member_name (b, "has_nsfw_concepts");
  json_builder_begin_array (b);
  for (int i = 0; i < job->n_images; i++)
    json_builder_add_boolean_value (b, FALSE);
  json_builder_end_array (b);
  json_builder_end_object (b);
  answer = json_builder_get_root (b);
  respond_json (msg, 200, answer);
}

static void
serve_file (FakeServer *s, SoupServerMessage *msg, const char *name)
{
  g_autoptr (GBytes) png = NULL;
  int w = 64, h = 64, idx = 0;
  const char *dims;

  count (s, "file");
  if (header (msg, "Authorization"))
    count (s, "leaked-auth");
  if (g_str_equal (name, "not-an-image.png"))
    {
      respond (msg, 200, "text/html", "<html>Not found</html>", 22);
      return;
    }
  if (g_str_equal (name, "huge.png"))
    {
      png = make_huge_png ();
      respond (msg, 200, "image/png", g_bytes_get_data (png, NULL), g_bytes_get_size (png));
      return;
    }
  g_mutex_lock (&s->lock);
  png = g_hash_table_lookup (s->uploads, name);
  if (png)
    g_bytes_ref (png);
  g_mutex_unlock (&s->lock);
  if (png == NULL)
    {
      /* <job>-<index>-<w>x<h>.png: a flat colour per index so tests can tell them apart */
      const char *dash = strrchr (name, '-');
      if ((dims = dash ? dash + 1 : NULL))
        sscanf (dims, "%dx%d", &w, &h);
      if (dash)
        {
          const char *p = dash - 1;
          while (p > name && *p != '-')
            p--;
          idx = atoi (p + 1);
        }
      png = make_png (CLAMP (w, 1, 2048), CLAMP (h, 1, 2048), 0.1f * idx, 0.5f, 0.25f);
    }
  respond (msg, 200, "image/png", g_bytes_get_data (png, NULL), g_bytes_get_size (png));
}

static void
fal_handler (SoupServer *server, SoupServerMessage *msg, const char *path, GHashTable *query,
             gpointer user_data)
{
  FakeServer *s = user_data;
  const char *method = soup_server_message_get_method (msg);
  g_auto (GStrv) parts = g_strsplit (path + 1, "/", -1);
  guint n = g_strv_length (parts);

  if (g_str_has_prefix (path, "/files/"))
    {
      serve_file (s, msg, path + 7);
      return;
    }
  if (g_str_has_prefix (path, "/upload/") && g_str_equal (method, "PUT"))
    {
      g_autoptr (GBytes) body = request_body (msg);
      g_autofree char *name = g_strdup_printf ("uploaded-%s.png", path + 8);
      count (s, "upload-put");
      if (header (msg, "Authorization"))
        count (s, "leaked-auth");
      remember (s, "upload-content-type", header (msg, "Content-Type"),
                strlen (header (msg, "Content-Type") ? header (msg, "Content-Type") : ""));
      g_mutex_lock (&s->lock);
      g_hash_table_replace (s->uploads, g_strdup (name), g_bytes_ref (body));
      g_mutex_unlock (&s->lock);
      respond (msg, 200, NULL, NULL, 0);
      return;
    }
  if (common_faults (s, msg))
    return;
  if (g_str_equal (path, "/storage/upload/initiate") && g_str_equal (method, "POST"))
    {
      g_autoptr (JsonNode) req = parse_body (msg);
      g_autofree char *token = NULL;
      g_autofree char *answer = NULL;
      const char *st = query ? g_hash_table_lookup (query, "storage_type") : NULL;

      if (!fal_authorized (s, msg))
        return;
      count (s, "upload-initiate");
      if (g_strcmp0 (st, "fal-cdn-v3") != 0 || req == NULL || !JSON_NODE_HOLDS_OBJECT (req) ||
          !json_object_has_member (json_node_get_object (req), "content_type") ||
          !json_object_has_member (json_node_get_object (req), "file_name"))
        {
          respond_text (msg, 422, "{\"detail\": [{\"loc\": [\"body\", \"content_type\"], "
                                  "\"msg\": \"Field required\", \"type\": \"missing\"}]}");
          return;
        }
      g_mutex_lock (&s->lock);
      token = g_strdup_printf ("%d", ++s->next_id);
      g_mutex_unlock (&s->lock);
      answer = g_strdup_printf ("{\"upload_url\": \"%s/upload/%s?signature=abc\", "
                                "\"file_url\": \"%s/files/uploaded-%s.png\"}",
                                s->url, token, s->url, token);
      respond_text (msg, 200, answer);
      return;
    }
  if (n >= 2 && !fal_authorized (s, msg))
    return;
  if (n >= 4 && g_str_equal (parts[2], "requests"))
    {
      FalJob *job = fal_lookup (s, parts[3]);
      if (job == NULL)
        {
          respond_text (msg, 404, "{\"detail\": \"Request not found\"}");
          return;
        }
      if (n == 5 && g_str_equal (parts[4], "status") && g_str_equal (method, "GET"))
        fal_status (s, msg, job);
      else if (n == 5 && g_str_equal (parts[4], "cancel") && g_str_equal (method, "PUT"))
        {
          count (s, "cancel");
          job->cancelled = TRUE;
          respond_text (msg, 202, "{\"status\": \"CANCELLATION_REQUESTED\"}");
        }
      else if (n == 4 && g_str_equal (method, "GET"))
        fal_result (s, msg, job);
      else
        respond_text (msg, 405, "{\"detail\": \"Method Not Allowed\"}");
      return;
    }
  if (n >= 2 && g_str_equal (method, "POST"))
    {
      fal_submit (s, msg, path);
      return;
    }
  respond_text (msg, 404, "{\"detail\": \"Not Found\"}");
}

/* ---------------------------------------------------------------------------------------- */
/* ComfyUI */

static const char *comfy_checkpoints[] = { "sd_xl_base_1.0.safetensors", "flux1-dev.safetensors",
                                           NULL };
static const char *comfy_loras[] = { "brand-acme.safetensors", NULL };
static const char *comfy_upscalers[] = { "RealESRGAN_x4plus.pth", NULL };
static const char *comfy_known[] = { "CheckpointLoaderSimple", "LoraLoader", "CLIPTextEncode",
                                     "KSampler", "EmptyLatentImage", "VAEEncode",
                                     "VAEEncodeForInpaint", "RepeatLatentBatch", "VAEDecode",
                                     "LoadImage", "LoadImageMask", "SaveImage",
                                     "UpscaleModelLoader", "ImageUpscaleWithModel",
                                     "ImageScaleBy", NULL };

static void
comfy_job_free (gpointer data)
{
  ComfyJob *j = data;
  g_free (j->id);
  g_free (j->client_id);
  g_free (j->save_node);
  g_clear_pointer (&j->prompt, json_node_unref);
  g_free (j);
}

static void
ws_send (FakeServer *s, const char *client_id, const char *type, JsonObject *data)
{
  SoupWebsocketConnection *ws;
  g_autoptr (JsonObject) o = json_object_new ();
  g_autoptr (JsonNode) n = json_node_new (JSON_NODE_OBJECT);
  g_autofree char *text = NULL;

  ws = client_id ? g_hash_table_lookup (s->sockets, client_id) : NULL;
  if (ws == NULL || soup_websocket_connection_get_state (ws) != SOUP_WEBSOCKET_STATE_OPEN)
    {
      json_object_unref (data);
      return;
    }
  json_object_set_string_member (o, "type", type);
  json_object_set_object_member (o, "data", data);
  json_node_set_object (n, o);
  text = json_to_string (n, FALSE);
  soup_websocket_connection_send_text (ws, text);
}

static JsonObject *
pid_object (ComfyJob *j)
{
  JsonObject *d = json_object_new ();
  json_object_set_string_member (d, "prompt_id", j->id);
  return d;
}

static void
ws_send_preview (FakeServer *s, ComfyJob *j)
{
  SoupWebsocketConnection *ws = g_hash_table_lookup (s->sockets, j->client_id);
  g_autoptr (GBytes) png = NULL;
  g_autoptr (GByteArray) frame = g_byte_array_new ();
  static const guint8 head[8] = { 0, 0, 0, 1, 0, 0, 0, 2 };

  if (ws == NULL || soup_websocket_connection_get_state (ws) != SOUP_WEBSOCKET_STATE_OPEN)
    return;
  png = make_png (8, 8, 0.5f, 0.5f, 0.5f);
  g_byte_array_append (frame, head, 8);
  g_byte_array_append (frame, g_bytes_get_data (png, NULL), g_bytes_get_size (png));
  soup_websocket_connection_send_binary (ws, frame->data, frame->len);
}

static gboolean
comfy_tick (gpointer data)
{
  FakeServer *s = data;
  GHashTableIter it;
  ComfyJob *j;

  g_hash_table_iter_init (&it, s->jobs);
  while (g_hash_table_iter_next (&it, NULL, (gpointer *) &j))
    {
      JsonObject *d;
      if (j->done)
        continue;
      if (j->interrupted)
        {
          d = pid_object (j);
          json_object_set_string_member (d, "node_id", "6");
          json_object_set_string_member (d, "node_type", "KSampler");
          json_object_set_array_member (d, "executed", json_array_new ());
          ws_send (s, j->client_id, "execution_interrupted", d);
          j->done = TRUE;
          continue;
        }
      switch (j->step)
        {
        case 0:
          d = pid_object (j);
          json_object_set_int_member (d, "timestamp", g_get_real_time () / 1000);
          ws_send (s, j->client_id, "execution_start", d);
          break;
        case 1:
          d = pid_object (j);
          json_object_set_array_member (d, "nodes", json_array_new ());
          ws_send (s, j->client_id, "execution_cached", d);
          break;
        case 2:
          d = pid_object (j);
          json_object_set_string_member (d, "node", "6");
          json_object_set_string_member (d, "display_node", "6");
          ws_send (s, j->client_id, "executing", d);
          break;
        case 3:
        case 4:
        case 5:
        case 6:
          d = pid_object (j);
          json_object_set_int_member (d, "value", j->step - 2);
          json_object_set_int_member (d, "max", 5);
          json_object_set_string_member (d, "node", "6");
          ws_send (s, j->client_id, "progress", d);
          if (j->step == 4)
            ws_send_preview (s, j);
          if (j->step == 6 && j->hang)
            continue; /* stays at 4/5 until interrupted */
          break;
        case 7:
          if (j->error)
            {
              d = pid_object (j);
              json_object_set_string_member (d, "node_id", "6");
              json_object_set_string_member (d, "node_type", "KSampler");
              json_object_set_array_member (d, "executed", json_array_new ());
              json_object_set_string_member (d, "exception_message",
                                             "CUDA out of memory. Tried to allocate 2.00 GiB");
              json_object_set_string_member (d, "exception_type",
                                             "torch.cuda.OutOfMemoryError");
              json_object_set_array_member (d, "traceback", json_array_new ());
              json_object_set_object_member (d, "current_inputs", json_object_new ());
              json_object_set_object_member (d, "current_outputs", json_object_new ());
              ws_send (s, j->client_id, "execution_error", d);
              j->done = TRUE;
              continue;
            }
          d = pid_object (j);
          json_object_set_string_member (d, "node", j->save_node);
          json_object_set_string_member (d, "display_node", j->save_node);
          json_object_set_object_member (d, "output", json_object_new ());
          ws_send (s, j->client_id, "executed", d);
          break;
        case 8:
          d = pid_object (j);
          json_object_set_null_member (d, "node");
          ws_send (s, j->client_id, "executing", d);
          d = pid_object (j);
          json_object_set_int_member (d, "timestamp", g_get_real_time () / 1000);
          ws_send (s, j->client_id, "execution_success", d);
          j->done = TRUE;
          break;
        }
      j->step++;
    }
  return G_SOURCE_CONTINUE;
}

static gboolean
in_list (const char **list, const char *v)
{
  for (guint i = 0; list[i]; i++)
    if (g_strcmp0 (list[i], v) == 0)
      return TRUE;
  return FALSE;
}

static void
comfy_node_error (SoupServerMessage *msg, const char *id, const char *class_type,
                  const char *details)
{
  g_autofree char *esc = g_strescape (details, NULL);
  g_autofree char *body = g_strdup_printf (
    "{\"error\": {\"type\": \"prompt_outputs_failed_validation\", \"message\": \"Prompt "
    "outputs failed validation\", \"details\": \"\", \"extra_info\": {}}, \"node_errors\": "
    "{\"%s\": {\"errors\": [{\"type\": \"value_not_in_list\", \"message\": \"Value not in "
    "list\", \"details\": \"%s\", \"extra_info\": {}}], \"dependent_outputs\": [], "
    "\"class_type\": \"%s\"}}}",
    id, esc, class_type);
  respond_text (msg, 400, body);
}

static void
comfy_prompt (FakeServer *s, SoupServerMessage *msg)
{
  g_autoptr (JsonNode) body = parse_body (msg);
  g_autoptr (GBytes) raw = request_body (msg);
  g_autoptr (GList) ids = NULL;
  JsonObject *prompt;
  ComfyJob *job;
  g_autofree char *answer = NULL;

  count (s, "prompt");
  remember (s, "prompt", g_bytes_get_data (raw, NULL), g_bytes_get_size (raw));
  if (body == NULL || !JSON_NODE_HOLDS_OBJECT (body) ||
      !(prompt = json_object_has_member (json_node_get_object (body), "prompt")
                   ? json_object_get_object_member (json_node_get_object (body), "prompt")
                   : NULL))
    {
      respond_text (msg, 400, "{\"error\": {\"type\": \"no_prompt\", \"message\": \"No "
                              "prompt provided\", \"details\": \"No prompt provided\", "
                              "\"extra_info\": {}}, \"node_errors\": {}}");
      return;
    }
  job = g_new0 (ComfyJob, 1);
  job->width = job->height = 64;
  job->n_images = 1;
  ids = json_object_get_members (prompt);
  for (GList *l = ids; l; l = l->next)
    {
      JsonObject *node = json_object_get_object_member (prompt, l->data);
      const char *ct = json_object_get_string_member_with_default (node, "class_type", "");
      JsonObject *in = json_object_get_object_member (node, "inputs");

      if (!in_list (comfy_known, ct))
        {
          g_autofree char *m = g_strdup_printf (
            "{\"error\": {\"type\": \"invalid_prompt\", \"message\": \"Cannot execute because "
            "node %s does not exist.\", \"details\": \"Node ID '#%s'\", \"extra_info\": {}}, "
            "\"node_errors\": {}}",
            ct, (const char *) l->data);
          respond_text (msg, 400, m);
          comfy_job_free (job);
          return;
        }
      if (g_str_equal (ct, "CheckpointLoaderSimple") &&
          !in_list (comfy_checkpoints, json_object_get_string_member_with_default (in, "ckpt_name", "")))
        {
          comfy_node_error (msg, l->data, ct, "ckpt_name: value not in list");
          comfy_job_free (job);
          return;
        }
      if (g_str_equal (ct, "LoraLoader") &&
          !in_list (comfy_loras, json_object_get_string_member_with_default (in, "lora_name", "")))
        {
          comfy_node_error (msg, l->data, ct, "lora_name: value not in list");
          comfy_job_free (job);
          return;
        }
      if (g_str_equal (ct, "EmptyLatentImage"))
        {
          job->width = json_object_get_int_member_with_default (in, "width", 64);
          job->height = json_object_get_int_member_with_default (in, "height", 64);
          job->n_images = json_object_get_int_member_with_default (in, "batch_size", 1);
        }
      if (g_str_equal (ct, "RepeatLatentBatch"))
        job->n_images = json_object_get_int_member_with_default (in, "amount", 1);
      if (g_str_equal (ct, "ImageUpscaleWithModel"))
        job->width = job->height = 128;
      if (g_str_equal (ct, "SaveImage"))
        job->save_node = g_strdup (l->data);
    }
  job->id = g_uuid_string_random ();
  job->client_id = g_strdup (json_object_get_string_member_with_default (json_node_get_object (body),
                                                                        "client_id", ""));
  job->hang = take_fault (s, "hang");
  job->error = take_fault (s, "exec-error");
  job->prompt = json_node_copy (body);
  g_mutex_lock (&s->lock);
  g_hash_table_replace (s->jobs, g_strdup (job->id), job);
  g_mutex_unlock (&s->lock);
  answer = g_strdup_printf ("{\"prompt_id\": \"%s\", \"number\": %d, \"node_errors\": {}}",
                            job->id, ++s->next_id);
  respond_text (msg, 200, answer);
}

static void
comfy_history (FakeServer *s, SoupServerMessage *msg, const char *id)
{
  ComfyJob *j = g_hash_table_lookup (s->jobs, id);
  g_autoptr (JsonBuilder) b = json_builder_new ();
  g_autoptr (JsonNode) answer = NULL;

  count (s, "history");
  if (j == NULL || !j->done)
    {
      respond_text (msg, 200, "{}");
      return;
    }
  json_builder_begin_object (b);
  json_builder_set_member_name (b, id);
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "outputs");
  json_builder_begin_object (b);
  if (!j->error && !j->interrupted)
    {
      json_builder_set_member_name (b, j->save_node ? j->save_node : "9");
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "images");
      json_builder_begin_array (b);
      for (int i = 0; i < j->n_images; i++)
        {
          g_autofree char *fn = g_strdup_printf ("catena_%05d_.png", i + 1);
          json_builder_begin_object (b);
          json_builder_set_member_name (b, "filename");
          json_builder_add_string_value (b, fn);
          json_builder_set_member_name (b, "subfolder");
          json_builder_add_string_value (b, id);
          json_builder_set_member_name (b, "type");
          json_builder_add_string_value (b, "output");
          json_builder_end_object (b);
        }
      /* a temp preview that a client must not take for an output */
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "filename");
      json_builder_add_string_value (b, "preview.png");
      json_builder_set_member_name (b, "subfolder");
      json_builder_add_string_value (b, "");
      json_builder_set_member_name (b, "type");
      json_builder_add_string_value (b, "temp");
      json_builder_end_object (b);
      json_builder_end_array (b);
      json_builder_end_object (b);
    }
  json_builder_end_object (b);
  json_builder_set_member_name (b, "status");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "status_str");
  json_builder_add_string_value (b, j->error || j->interrupted ? "error" : "success");
  json_builder_set_member_name (b, "completed");
  json_builder_add_boolean_value (b, !j->error && !j->interrupted);
  json_builder_set_member_name (b, "messages");
  json_builder_begin_array (b);
  json_builder_end_array (b);
  json_builder_end_object (b);
  json_builder_end_object (b);
  json_builder_end_object (b);
  answer = json_builder_get_root (b);
  respond_json (msg, 200, answer);
}

static void
comfy_view (FakeServer *s, SoupServerMessage *msg, GHashTable *query)
{
  const char *fn = query ? g_hash_table_lookup (query, "filename") : NULL;
  const char *sub = query ? g_hash_table_lookup (query, "subfolder") : NULL;
  const char *type = query ? g_hash_table_lookup (query, "type") : NULL;
  ComfyJob *j = sub ? g_hash_table_lookup (s->jobs, sub) : NULL;
  g_autoptr (GBytes) png = NULL;
  int idx = 0;

  count (s, "view");
  if (fn == NULL || fn[0] == '/' || strstr (fn, ".."))
    {
      respond (msg, 400, NULL, NULL, 0);
      return;
    }
  if (j == NULL || g_strcmp0 (type, "output") != 0)
    {
      respond (msg, 404, NULL, NULL, 0);
      return;
    }
  if (take_fault (s, "view-not-image"))
    {
      respond (msg, 200, "image/png", "GIF89a-not-really", 17);
      return;
    }
  sscanf (fn, "catena_%d_", &idx);
  png = make_png (j->width, j->height, 0.2f * idx, 0.4f, 0.6f);
  add_header (msg, "Content-Disposition", "filename=\"catena.png\"");
  respond (msg, 200, "image/png", g_bytes_get_data (png, NULL), g_bytes_get_size (png));
}

static void
comfy_upload (FakeServer *s, SoupServerMessage *msg)
{
  g_autoptr (GBytes) body = request_body (msg);
  SoupMultipart *mp = soup_multipart_new_from_message (
    soup_server_message_get_request_headers (msg), body);
  GBytes *image = NULL;
  g_autofree char *filename = NULL;
  g_autofree char *type = g_strdup ("input");
  g_autofree char *answer = NULL;

  count (s, "upload");
  if (mp == NULL)
    {
      respond (msg, 400, NULL, NULL, 0);
      return;
    }
  for (int i = 0; i < soup_multipart_get_length (mp); i++)
    {
      SoupMessageHeaders *h;
      GBytes *part;
      g_autoptr (GHashTable) params = NULL;
      char *disposition = NULL;

      soup_multipart_get_part (mp, i, &h, &part);
      if (!soup_message_headers_get_content_disposition (h, &disposition, &params))
        continue;
      if (g_strcmp0 (g_hash_table_lookup (params, "name"), "image") == 0)
        {
          image = part;
          filename = g_strdup (g_hash_table_lookup (params, "filename"));
        }
      else if (g_strcmp0 (g_hash_table_lookup (params, "name"), "type") == 0)
        {
          g_free (type);
          type = g_strndup (g_bytes_get_data (part, NULL), g_bytes_get_size (part));
        }
      g_free (disposition);
    }
  if (image == NULL || filename == NULL || filename[0] == '\0')
    {
      soup_multipart_free (mp);
      respond (msg, 400, NULL, NULL, 0);
      return;
    }
  g_mutex_lock (&s->lock);
  g_hash_table_replace (s->uploads, g_strdup (filename), g_bytes_ref (image));
  g_mutex_unlock (&s->lock);
  remember (s, "upload", filename, strlen (filename));
  soup_multipart_free (mp);
  answer = g_strdup_printf ("{\"name\": \"%s\", \"subfolder\": \"\", \"type\": \"%s\"}",
                            filename, type);
  respond_text (msg, 200, answer);
}

static void
add_combo (JsonBuilder *b, const char *node, const char *input, const char **values,
           gboolean new_format)
{
  json_builder_set_member_name (b, node);
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "input");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "required");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, input);
  json_builder_begin_array (b);
  if (new_format)
    {
      /* newer servers: ["COMBO", {options: [...]}] */
      json_builder_add_string_value (b, "COMBO");
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "options");
    }
  json_builder_begin_array (b);
  for (guint i = 0; values[i]; i++)
    json_builder_add_string_value (b, values[i]);
  json_builder_end_array (b);
  if (new_format)
    json_builder_end_object (b);
  json_builder_end_array (b);
  json_builder_end_object (b);
  json_builder_end_object (b);
  json_builder_set_member_name (b, "output");
  json_builder_begin_array (b);
  json_builder_end_array (b);
  json_builder_set_member_name (b, "name");
  json_builder_add_string_value (b, node);
  json_builder_set_member_name (b, "category");
  json_builder_add_string_value (b, "loaders");
  json_builder_set_member_name (b, "output_node");
  json_builder_add_boolean_value (b, FALSE);
  json_builder_end_object (b);
}

static void
comfy_object_info (FakeServer *s, SoupServerMessage *msg, const char *only)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  g_autoptr (JsonNode) answer = NULL;

  count (s, "object_info");
  json_builder_begin_object (b);
  if (!only || g_str_equal (only, "CheckpointLoaderSimple"))
    add_combo (b, "CheckpointLoaderSimple", "ckpt_name", comfy_checkpoints, FALSE);
  if (!only || g_str_equal (only, "LoraLoader"))
    add_combo (b, "LoraLoader", "lora_name", comfy_loras, TRUE);
  if (!only || g_str_equal (only, "UpscaleModelLoader"))
    add_combo (b, "UpscaleModelLoader", "model_name", comfy_upscalers, FALSE);
  json_builder_end_object (b);
  answer = json_builder_get_root (b);
  respond_json (msg, 200, answer);
}

static void
comfy_handler (SoupServer *server, SoupServerMessage *msg, const char *path, GHashTable *query,
               gpointer user_data)
{
  FakeServer *s = user_data;
  const char *method = soup_server_message_get_method (msg);

  if (common_faults (s, msg))
    return;
  if (g_str_equal (path, "/prompt") && g_str_equal (method, "POST"))
    comfy_prompt (s, msg);
  else if (g_str_has_prefix (path, "/history/") && g_str_equal (method, "GET"))
    comfy_history (s, msg, path + 9);
  else if (g_str_equal (path, "/view") && g_str_equal (method, "GET"))
    comfy_view (s, msg, query);
  else if (g_str_equal (path, "/upload/image") && g_str_equal (method, "POST"))
    comfy_upload (s, msg);
  else if (g_str_equal (path, "/interrupt") && g_str_equal (method, "POST"))
    {
      GHashTableIter it;
      ComfyJob *j;
      count (s, "interrupt");
      g_hash_table_iter_init (&it, s->jobs);
      while (g_hash_table_iter_next (&it, NULL, (gpointer *) &j))
        if (!j->done)
          j->interrupted = TRUE;
      respond (msg, 200, NULL, NULL, 0);
    }
  else if (g_str_equal (path, "/queue") && g_str_equal (method, "POST"))
    {
      count (s, "queue-delete");
      respond (msg, 200, NULL, NULL, 0);
    }
  else if (g_str_equal (path, "/queue") && g_str_equal (method, "GET"))
    respond_text (msg, 200, "{\"queue_running\": [], \"queue_pending\": []}");
  else if (g_str_equal (path, "/object_info") && g_str_equal (method, "GET"))
    comfy_object_info (s, msg, NULL);
  else if (g_str_has_prefix (path, "/object_info/") && g_str_equal (method, "GET"))
    comfy_object_info (s, msg, path + 13);
  else if (g_str_equal (path, "/system_stats"))
    respond_text (msg, 200, "{\"system\": {\"os\": \"posix\", \"comfyui_version\": \"0.3.0\"}, "
                            "\"devices\": []}");
  else
    respond (msg, 404, NULL, NULL, 0);
}

/* A server behind a proxy that does not pass WebSockets: the upgrade is answered 404. */
static void
comfy_ws_early (SoupServer *server, SoupServerMessage *msg, const char *path, GHashTable *query,
                gpointer user_data)
{
  FakeServer *s = user_data;
  if (take_fault (s, "no-ws"))
    {
      count (s, "ws-refused");
      respond (msg, 404, NULL, NULL, 0);
    }
}

static void
comfy_ws_handler (SoupServer *server, SoupServerMessage *msg, const char *path,
                  SoupWebsocketConnection *connection, gpointer user_data)
{
  FakeServer *s = user_data;
  GUri *uri = soup_server_message_get_uri (msg);
  g_autoptr (GHashTable) q = g_uri_get_query (uri)
                                ? g_uri_parse_params (g_uri_get_query (uri), -1, "&",
                                                      G_URI_PARAMS_NONE, NULL)
                                : NULL;
  const char *client_id = q ? g_hash_table_lookup (q, "clientId") : NULL;
  JsonObject *d = json_object_new ();
  JsonObject *status = json_object_new ();
  JsonObject *exec = json_object_new ();

  count (s, "ws");
  if (client_id == NULL)
    client_id = "anonymous";
  g_hash_table_replace (s->sockets, g_strdup (client_id), g_object_ref (connection));
  json_object_set_int_member (exec, "queue_remaining", 0);
  json_object_set_object_member (status, "exec_info", exec);
  json_object_set_object_member (d, "status", status);
  json_object_set_string_member (d, "sid", client_id);
  ws_send (s, client_id, "status", d);
}

/* ---------------------------------------------------------------------------------------- */
/* OpenAI */

static void
openai_images (FakeServer *s, SoupServerMessage *msg, const char *event, int n)
{
  GString *body = g_string_new ("{\"created\": 1713833628, \"data\": [");

  for (int i = 0; i < n; i++)
    {
      g_autoptr (GBytes) png = NULL;
      g_autofree char *b64 = NULL;
      if (take_fault (s, "b64-not-image"))
        png = g_bytes_new_static ("this is not a png", 17);
      else if (take_fault (s, "b64-huge-png"))
        png = make_huge_png ();
      else
        png = make_png (64, 64, 0.25f * i, 0.1f, 0.9f);
      b64 = g_base64_encode (g_bytes_get_data (png, NULL), g_bytes_get_size (png));
      g_string_append_printf (body, "%s{\"b64_json\": \"%s\"}", i ? ", " : "", b64);
    }
  g_string_append (body, "], \"usage\": {\"total_tokens\": 100, \"input_tokens\": 50, "
                         "\"output_tokens\": 50, \"input_tokens_details\": {\"text_tokens\": "
                         "10, \"image_tokens\": 40}}}");
  respond (msg, 200, "application/json", body->str, body->len);
  g_string_free (body, TRUE);
}

static void
openai_error (SoupServerMessage *msg, guint status, const char *message, const char *type,
              const char *code)
{
  g_autofree char *body = g_strdup_printf ("{\"error\": {\"message\": \"%s\", \"type\": "
                                           "\"%s\", \"param\": null, \"code\": %s%s%s}}",
                                           message, type, code ? "\"" : "",
                                           code ? code : "null", code ? "\"" : "");
  respond_text (msg, status, body);
}

static void
openai_handler (SoupServer *server, SoupServerMessage *msg, const char *path, GHashTable *query,
                gpointer user_data)
{
  FakeServer *s = user_data;
  const char *method = soup_server_message_get_method (msg);
  const char *auth = header (msg, "Authorization");

  if (common_faults (s, msg))
    return;
  if (g_strcmp0 (auth, "Bearer " FAKE_KEY) != 0)
    {
      count (s, "unauthorized");
      openai_error (msg, 401, "Incorrect API key provided.", "invalid_request_error",
                    "invalid_api_key");
      return;
    }
  if (g_str_equal (path, "/v1/models") && g_str_equal (method, "GET"))
    {
      respond_text (msg, 200, "{\"object\": \"list\", \"data\": []}");
      return;
    }
  if (!g_str_equal (method, "POST") || (!g_str_equal (path, "/v1/images/generations") &&
                                        !g_str_equal (path, "/v1/images/edits")))
    {
      openai_error (msg, 404, "Invalid URL", "invalid_request_error", NULL);
      return;
    }
  {
    const char *event = g_str_equal (path, "/v1/images/edits") ? "edits" : "generations";
    count (s, event);
    if (take_fault (s, "429"))
      {
        add_header (msg, "retry-after", "1");
        add_header (msg, "x-ratelimit-limit-requests", "5");
        add_header (msg, "x-ratelimit-remaining-requests", "0");
        add_header (msg, "x-ratelimit-reset-requests", "1s");
        openai_error (msg, 429, "Rate limit reached for gpt-image-1.", "requests",
                      "rate_limit_exceeded");
        return;
      }
    if (take_fault (s, "500"))
      {
        openai_error (msg, 500, "The server had an error while processing your request.",
                      "server_error", NULL);
        return;
      }
    if (take_fault (s, "400"))
      {
        openai_error (msg, 400, "Invalid value: '999x999'. Supported values are: "
                                "'1024x1024', '1024x1536', '1536x1024', and 'auto'.",
                      "invalid_request_error", "invalid_value");
        return;
      }
    if (g_str_equal (event, "generations"))
      {
        g_autoptr (JsonNode) body = parse_body (msg);
        g_autoptr (GBytes) raw = request_body (msg);
        JsonObject *o;
        const char *size;
        remember (s, "generations", g_bytes_get_data (raw, NULL), g_bytes_get_size (raw));
        if (body == NULL || !JSON_NODE_HOLDS_OBJECT (body) ||
            !json_object_has_member ((o = json_node_get_object (body)), "prompt"))
          {
            openai_error (msg, 400, "Missing required parameter: 'prompt'.",
                          "invalid_request_error", "missing_required_parameter");
            return;
          }
        size = json_object_get_string_member_with_default (o, "size", "auto");
        if (!g_str_equal (size, "1024x1024") && !g_str_equal (size, "1536x1024") &&
            !g_str_equal (size, "1024x1536") && !g_str_equal (size, "auto"))
          {
            openai_error (msg, 400, "Invalid value for size.", "invalid_request_error",
                          "invalid_value");
            return;
          }
        openai_images (s, msg, event, json_object_get_int_member_with_default (o, "n", 1));
      }
    else
      {
        g_autoptr (GBytes) body = request_body (msg);
        SoupMultipart *mp = soup_multipart_new_from_message (
          soup_server_message_get_request_headers (msg), body);
        gboolean has_image = FALSE, has_prompt = FALSE, has_mask = FALSE;
        int n = 1;
        if (mp)
          for (int i = 0; i < soup_multipart_get_length (mp); i++)
            {
              SoupMessageHeaders *h;
              GBytes *part;
              g_autoptr (GHashTable) params = NULL;
              char *disposition = NULL;
              const char *name;
              soup_multipart_get_part (mp, i, &h, &part);
              if (!soup_message_headers_get_content_disposition (h, &disposition, &params))
                continue;
              name = g_hash_table_lookup (params, "name");
              if (g_strcmp0 (name, "image[]") == 0 || g_strcmp0 (name, "image") == 0)
                has_image = g_bytes_get_size (part) > 8 &&
                            memcmp (g_bytes_get_data (part, NULL), "\x89PNG", 4) == 0;
              else if (g_strcmp0 (name, "prompt") == 0)
                has_prompt = TRUE;
              else if (g_strcmp0 (name, "mask") == 0)
                has_mask = TRUE;
              else if (g_strcmp0 (name, "n") == 0)
                {
                  g_autofree char *v = g_strndup (g_bytes_get_data (part, NULL),
                                                  g_bytes_get_size (part));
                  n = atoi (v);
                }
              g_free (disposition);
            }
        if (mp)
          soup_multipart_free (mp);
        if (has_mask)
          count (s, "edits-mask");
        if (!has_image || !has_prompt)
          {
            openai_error (msg, 400, "Missing required parameter: 'image'.",
                          "invalid_request_error", "missing_required_parameter");
            return;
          }
        openai_images (s, msg, event, CLAMP (n, 1, 10));
      }
  }
}

/* ---------------------------------------------------------------------------------------- */
/* Lifecycle */

static gpointer
server_thread (gpointer data)
{
  FakeServer *s = data;
  g_autoptr (GError) error = NULL;
  GSList *uris;

  g_main_context_push_thread_default (s->context);
  s->server = soup_server_new ("server-header", NULL, NULL);
  switch (s->kind)
    {
    case FAKE_FAL:
      soup_server_add_handler (s->server, NULL, fal_handler, s, NULL);
      break;
    case FAKE_COMFYUI:
      soup_server_add_handler (s->server, NULL, comfy_handler, s, NULL);
      soup_server_add_early_handler (s->server, "/ws", comfy_ws_early, s, NULL);
      soup_server_add_websocket_handler (s->server, "/ws", NULL, NULL, comfy_ws_handler, s,
                                         NULL);
      {
        GSource *tick = g_timeout_source_new (15);
        g_source_set_callback (tick, comfy_tick, s, NULL);
        g_source_attach (tick, s->context);
        g_source_unref (tick);
      }
      break;
    case FAKE_OPENAI:
      soup_server_add_handler (s->server, NULL, openai_handler, s, NULL);
      break;
    }
  if (!soup_server_listen_local (s->server, 0, SOUP_SERVER_LISTEN_IPV4_ONLY, &error))
    g_error ("fake server: %s", error->message);
  uris = soup_server_get_uris (s->server);
  {
    g_autofree char *u = g_uri_to_string (uris->data);
    gsize len = strlen (u);
    if (len && u[len - 1] == '/')
      u[len - 1] = '\0';
    s->url = g_strdup (u);
  }
  g_slist_free_full (uris, (GDestroyNotify) g_uri_unref);

  g_mutex_lock (&s->lock);
  s->ready = TRUE;
  g_cond_signal (&s->cond);
  g_mutex_unlock (&s->lock);

  g_main_loop_run (s->loop);

  soup_server_disconnect (s->server);
  g_hash_table_remove_all (s->sockets);
  g_clear_object (&s->server);
  g_main_context_pop_thread_default (s->context);
  return NULL;
}

static FakeServer *
fake_server_new (FakeKind kind)
{
  FakeServer *s = g_new0 (FakeServer, 1);

  s->kind = kind;
  g_mutex_init (&s->lock);
  g_cond_init (&s->cond);
  s->counts = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  s->faults = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  s->last = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  s->jobs = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                   kind == FAKE_COMFYUI ? comfy_job_free : fal_job_free);
  s->uploads = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                      (GDestroyNotify) g_bytes_unref);
  s->sockets = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_object_unref);
  s->context = g_main_context_new ();
  s->loop = g_main_loop_new (s->context, FALSE);
  s->thread = g_thread_new ("fake-server", server_thread, s);
  g_mutex_lock (&s->lock);
  while (!s->ready)
    g_cond_wait (&s->cond, &s->lock);
  g_mutex_unlock (&s->lock);
  return s;
}

FakeServer *fake_fal_new (void) { return fake_server_new (FAKE_FAL); }
FakeServer *fake_comfyui_new (void) { return fake_server_new (FAKE_COMFYUI); }
FakeServer *fake_openai_new (void) { return fake_server_new (FAKE_OPENAI); }

static gboolean
quit_loop (gpointer data)
{
  g_main_loop_quit (data);
  return G_SOURCE_REMOVE;
}

void
fake_server_free (FakeServer *s)
{
  if (s == NULL)
    return;
  {
    /* Queued on the server's context even if its thread has not started running it yet. */
    g_autoptr (GSource) source = g_idle_source_new ();
    g_source_set_callback (source, quit_loop, s->loop, NULL);
    g_source_attach (source, s->context);
  }
  g_thread_join (s->thread);
  g_main_loop_unref (s->loop);
  g_main_context_unref (s->context);
  g_hash_table_unref (s->counts);
  g_hash_table_unref (s->faults);
  g_hash_table_unref (s->last);
  g_hash_table_unref (s->jobs);
  g_hash_table_unref (s->uploads);
  g_hash_table_unref (s->sockets);
  g_mutex_clear (&s->lock);
  g_cond_clear (&s->cond);
  g_free (s->url);
  g_free (s);
}

const char *
fake_server_url (FakeServer *s)
{
  return s->url;
}

void
fake_server_fault (FakeServer *s, const char *name, int times)
{
  g_mutex_lock (&s->lock);
  g_hash_table_replace (s->faults, g_strdup (name), GINT_TO_POINTER (times));
  g_mutex_unlock (&s->lock);
}

void
fake_server_clear_faults (FakeServer *s)
{
  g_mutex_lock (&s->lock);
  g_hash_table_remove_all (s->faults);
  g_mutex_unlock (&s->lock);
}

int
fake_server_count (FakeServer *s, const char *event)
{
  int n;
  g_mutex_lock (&s->lock);
  n = GPOINTER_TO_INT (g_hash_table_lookup (s->counts, event));
  g_mutex_unlock (&s->lock);
  return n;
}

char *
fake_server_dup_last (FakeServer *s, const char *event)
{
  char *v;
  g_mutex_lock (&s->lock);
  v = g_strdup (g_hash_table_lookup (s->last, event));
  g_mutex_unlock (&s->lock);
  return v;
}
