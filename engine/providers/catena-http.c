/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <glib/gi18n-lib.h>
#include <curl/curl.h>
#include <poll.h>
#include <string.h>

#include "catena-json-private.h"
#include "catena-provider-private.h"

/* One easy handle per attempt, driven through a multi handle so that a cancelled
 * GCancellable stops a transfer within one poll slice (50 ms) instead of libcurl's ~1 s
 * progress-callback cadence. Retries follow @fal-ai/client 1.10.1 src/retry.js: 429, 502,
 * 503, 504 (+500 for status polling) and transport errors, at most 3 retries, delay
 * min(base·2^attempt, 30 s) ± 25 % jitter; a user abort is never retried. A Retry-After
 * header (OpenAI sends one with 429) wins over the computed delay, capped at 30 s. */

#define POLL_SLICE_MS 50
#define MAX_DELAY_MS  30000

static gsize curl_initialized;

/* curl_global_init is not thread-safe and initialises OpenSSL, whose per-thread error state
 * then belongs to the calling thread: catena_engine_init calls this on the main thread so that
 * no engine worker does it first (a worker doing it left OpenSSL state that LeakSanitizer saw
 * as leaked when the worker outlived the process's last reference to it). */
void
catena_http_global_init (void)
{
  if (g_once_init_enter (&curl_initialized))
    {
      curl_global_init (CURL_GLOBAL_DEFAULT);
      g_once_init_leave (&curl_initialized, 1);
    }
}

void
catena_http_response_free (CatenaHttpResponse *response)
{
  if (response == NULL)
    return;
  g_clear_pointer (&response->body, g_bytes_unref);
  g_free (response->content_type);
  g_free (response->timeout_type);
  g_free (response);
}

gboolean
catena_http_sleep (guint ms, GCancellable *cancellable)
{
  gint64 end = g_get_monotonic_time () + (gint64) ms * 1000;

  while (g_get_monotonic_time () < end)
    {
      gint64 left = end - g_get_monotonic_time ();
      if (g_cancellable_is_cancelled (cancellable))
        return FALSE;
      g_usleep (MIN (left, POLL_SLICE_MS * 1000));
    }
  return !g_cancellable_is_cancelled (cancellable);
}

guint
catena_http_backoff_ms (guint attempt)
{
  double delay = MIN ((double) catena_providers_get_retry_base_ms () * (1u << MIN (attempt, 16)),
                      MAX_DELAY_MS);
  /* ±25 % so that many clients retrying together spread out */
  delay += 0.25 * delay * g_random_double_range (-1.0, 1.0);
  return (guint) MAX (delay, 0);
}

static gboolean
host_is_loopback (const char *host)
{
  return g_strcmp0 (host, "127.0.0.1") == 0 || g_strcmp0 (host, "localhost") == 0 ||
         g_strcmp0 (host, "::1") == 0 || g_strcmp0 (host, "[::1]") == 0 ||
         g_str_has_prefix (host ? host : "", "127.");
}

gboolean
catena_http_check_url (const char *url, const char *service, GError **error)
{
  g_autoptr (GUri) uri = url ? g_uri_parse (url, G_URI_FLAGS_NONE, NULL) : NULL;

  if (uri == NULL || g_uri_get_host (uri) == NULL)
    {
      g_set_error (error, CATENA_PROVIDER_ERROR, CATENA_PROVIDER_ERROR_BAD_RESPONSE,
                   _("%s gave an address Catena cannot read."), service);
      return FALSE;
    }
  if (g_ascii_strcasecmp (g_uri_get_scheme (uri), "https") == 0)
    return TRUE;
  if (g_ascii_strcasecmp (g_uri_get_scheme (uri), "http") == 0 &&
      host_is_loopback (g_uri_get_host (uri)))
    return TRUE;
  g_set_error (error, CATENA_PROVIDER_ERROR, CATENA_PROVIDER_ERROR_INSECURE_URL,
               _("Catena only talks to %s over https (plain http is allowed to this computer "
                 "only): %s://%s is refused."),
               service, g_uri_get_scheme (uri), g_uri_get_host (uri));
  return FALSE;
}

typedef struct
{
  GByteArray *data;
  gsize max;
  gboolean too_large;
  GCancellable *cancellable;
  double retry_after_s;
  char *content_type;
  char *timeout_type;
} Transfer;

static size_t
write_cb (char *ptr, size_t size, size_t nmemb, void *user_data)
{
  Transfer *t = user_data;
  gsize n = size * nmemb;

  if (t->data->len + n > t->max)
    {
      t->too_large = TRUE;
      return 0;
    }
  g_byte_array_append (t->data, (const guint8 *) ptr, n);
  return n;
}

static size_t
header_cb (char *buffer, size_t size, size_t nitems, void *user_data)
{
  Transfer *t = user_data;
  gsize n = size * nitems;
  g_autofree char *line = g_strndup (buffer, n);
  char *colon = strchr (line, ':');

  if (g_str_has_prefix (line, "HTTP/"))
    {
      /* a new response (after a redirect or 100-continue) starts afresh */
      t->retry_after_s = -1;
      return n;
    }
  if (colon == NULL)
    return n;
  *colon = '\0';
  g_strstrip (line);
  g_strstrip (colon + 1);
  if (g_ascii_strcasecmp (line, "retry-after") == 0)
    {
      char *end = NULL;
      double v = g_ascii_strtod (colon + 1, &end);
      if (end != colon + 1 && v >= 0)
        t->retry_after_s = v;
    }
  else if (g_ascii_strcasecmp (line, "content-type") == 0)
    {
      g_free (t->content_type);
      t->content_type = g_strdup (colon + 1);
    }
  else if (g_ascii_strcasecmp (line, "x-fal-request-timeout-type") == 0)
    {
      g_free (t->timeout_type);
      t->timeout_type = g_strdup (colon + 1);
    }
  if (t->data->len == 0 && g_ascii_strcasecmp (line, "content-length") == 0 &&
      g_ascii_strtoull (colon + 1, NULL, 10) > t->max)
    {
      /* refuse before reading a byte of the body */
      t->too_large = TRUE;
      return 0;
    }
  return n;
}

static int
xferinfo_cb (void *user_data, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
             curl_off_t ulnow)
{
  Transfer *t = user_data;
  return g_cancellable_is_cancelled (t->cancellable) ? 1 : 0;
}

typedef enum
{
  ATTEMPT_OK,          /* an HTTP response (any status) */
  ATTEMPT_TRANSPORT,   /* retryable transport error */
  ATTEMPT_FATAL,       /* error set, do not retry */
} AttemptResult;

static AttemptResult
attempt (const CatenaHttpRequest *req,
         Transfer *t,
         long *status,
         GCancellable *cancellable,
         GError **error)
{
  CURL *easy = curl_easy_init ();
  CURLM *multi = curl_multi_init ();
  struct curl_slist *headers = NULL;
  curl_mime *mime = NULL;
  CURLcode result = CURLE_OK;
  int running = 1;
  AttemptResult ret;
  guint timeout_ms = req->timeout_ms ? req->timeout_ms : catena_providers_get_http_timeout_ms ();
  char errbuf[CURL_ERROR_SIZE] = "";

  curl_easy_setopt (easy, CURLOPT_URL, req->url);
  curl_easy_setopt (easy, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt (easy, CURLOPT_FOLLOWLOCATION, 1L);
  curl_easy_setopt (easy, CURLOPT_REDIR_PROTOCOLS_STR, "https");
  curl_easy_setopt (easy, CURLOPT_MAXREDIRS, 5L);
  curl_easy_setopt (easy, CURLOPT_SSL_VERIFYPEER, 1L);
  curl_easy_setopt (easy, CURLOPT_SSL_VERIFYHOST, 2L);
  curl_easy_setopt (easy, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt (easy, CURLOPT_CONNECTTIMEOUT_MS, (long) MIN (timeout_ms, 15000));
  curl_easy_setopt (easy, CURLOPT_TIMEOUT_MS, (long) timeout_ms);
  curl_easy_setopt (easy, CURLOPT_USERAGENT, "Catena/" PACKAGE_VERSION);
  curl_easy_setopt (easy, CURLOPT_ACCEPT_ENCODING, "");
  curl_easy_setopt (easy, CURLOPT_WRITEFUNCTION, write_cb);
  curl_easy_setopt (easy, CURLOPT_WRITEDATA, t);
  curl_easy_setopt (easy, CURLOPT_HEADERFUNCTION, header_cb);
  curl_easy_setopt (easy, CURLOPT_HEADERDATA, t);
  curl_easy_setopt (easy, CURLOPT_NOPROGRESS, 0L);
  curl_easy_setopt (easy, CURLOPT_XFERINFOFUNCTION, xferinfo_cb);
  curl_easy_setopt (easy, CURLOPT_XFERINFODATA, t);
  curl_easy_setopt (easy, CURLOPT_ERRORBUFFER, errbuf);
  /* the body of a POST/PUT must not be re-sent with a 100-continue round trip */
  headers = curl_slist_append (headers, "Expect:");
  for (guint i = 0; req->headers && req->headers[i]; i++)
    headers = curl_slist_append (headers, req->headers[i]);

  if (req->parts != NULL)
    {
      mime = curl_mime_init (easy);
      for (guint i = 0; i < req->n_parts; i++)
        {
          curl_mimepart *part = curl_mime_addpart (mime);
          gsize len;
          const char *data = g_bytes_get_data (req->parts[i].data, &len);
          curl_mime_name (part, req->parts[i].name);
          curl_mime_data (part, data, len);
          if (req->parts[i].filename)
            curl_mime_filename (part, req->parts[i].filename);
          if (req->parts[i].content_type)
            curl_mime_type (part, req->parts[i].content_type);
        }
      curl_easy_setopt (easy, CURLOPT_MIMEPOST, mime);
    }
  else if (req->body != NULL)
    {
      gsize len;
      const char *data = g_bytes_get_data (req->body, &len);
      curl_easy_setopt (easy, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t) len);
      curl_easy_setopt (easy, CURLOPT_POSTFIELDS, data);
      if (req->content_type)
        {
          g_autofree char *h = g_strdup_printf ("Content-Type: %s", req->content_type);
          headers = curl_slist_append (headers, h);
        }
    }
  else if (g_strcmp0 (req->method, "POST") == 0 || g_strcmp0 (req->method, "PUT") == 0)
    {
      curl_easy_setopt (easy, CURLOPT_POSTFIELDSIZE, 0L);
      curl_easy_setopt (easy, CURLOPT_POSTFIELDS, "");
    }
  if (g_strcmp0 (req->method, "GET") != 0 && g_strcmp0 (req->method, "POST") != 0)
    curl_easy_setopt (easy, CURLOPT_CUSTOMREQUEST, req->method);
  curl_easy_setopt (easy, CURLOPT_HTTPHEADER, headers);

  curl_multi_add_handle (multi, easy);
  while (running)
    {
      CURLMcode mc = curl_multi_perform (multi, &running);
      if (mc != CURLM_OK)
        break;
      if (g_cancellable_is_cancelled (cancellable))
        break;
      if (running)
        curl_multi_poll (multi, NULL, 0, POLL_SLICE_MS, NULL);
    }
  if (g_cancellable_is_cancelled (cancellable))
    result = CURLE_ABORTED_BY_CALLBACK;
  else
    {
      CURLMsg *msg;
      int left;
      result = CURLE_GOT_NOTHING;
      while ((msg = curl_multi_info_read (multi, &left)))
        if (msg->msg == CURLMSG_DONE)
          result = msg->data.result;
    }

  curl_easy_getinfo (easy, CURLINFO_RESPONSE_CODE, status);

  if (result == CURLE_OK)
    ret = ATTEMPT_OK;
  else if (result == CURLE_ABORTED_BY_CALLBACK || g_cancellable_is_cancelled (cancellable))
    {
      g_cancellable_set_error_if_cancelled (cancellable, error);
      if (error && *error == NULL)
        g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_CANCELLED, _("Cancelled"));
      ret = ATTEMPT_FATAL;
    }
  else if (t->too_large)
    {
      g_set_error (error, CATENA_PROVIDER_ERROR, CATENA_PROVIDER_ERROR_TOO_LARGE,
                   _("%s sent a response larger than %zu MB; Catena refused it."),
                   req->service, (size_t) (t->max / (1024 * 1024)));
      ret = ATTEMPT_FATAL;
    }
  else if (result == CURLE_OPERATION_TIMEDOUT)
    {
      g_set_error (error, CATENA_PROVIDER_ERROR, CATENA_PROVIDER_ERROR_TIMEOUT,
                   _("%s did not answer in time (%u s). Try again later."), req->service,
                   (timeout_ms + 999) / 1000);
      ret = ATTEMPT_TRANSPORT;
    }
  else if (result == CURLE_COULDNT_CONNECT || result == CURLE_COULDNT_RESOLVE_HOST ||
           result == CURLE_RECV_ERROR || result == CURLE_SEND_ERROR ||
           result == CURLE_GOT_NOTHING || result == CURLE_PARTIAL_FILE ||
           result == CURLE_HTTP2 || result == CURLE_HTTP2_STREAM)
    {
      g_set_error (error, CATENA_PROVIDER_ERROR, CATENA_PROVIDER_ERROR_NETWORK,
                   _("Could not reach %s (%s). Check the network connection."), req->service,
                   errbuf[0] ? errbuf : curl_easy_strerror (result));
      ret = ATTEMPT_TRANSPORT;
    }
  else
    {
      /* TLS failures, bad URLs: retrying will not help */
      g_set_error (error, CATENA_PROVIDER_ERROR, CATENA_PROVIDER_ERROR_NETWORK,
                   _("Could not talk to %s: %s."), req->service,
                   errbuf[0] ? errbuf : curl_easy_strerror (result));
      ret = ATTEMPT_FATAL;
    }

  curl_multi_remove_handle (multi, easy);
  curl_multi_cleanup (multi);
  curl_easy_cleanup (easy);
  curl_mime_free (mime);
  curl_slist_free_all (headers);
  return ret;
}

static gboolean
status_is_retryable (long status, gboolean retry_500, const char *timeout_type)
{
  if (status == 504 && g_strcmp0 (timeout_type, "user") == 0)
    return FALSE;
  return status == 429 || status == 502 || status == 503 || status == 504 ||
         (retry_500 && status == 500);
}

CatenaHttpResponse *
catena_http_perform (const CatenaHttpRequest *req, GCancellable *cancellable, GError **error)
{
  int max_retries = req->max_retries < 0 ? 3 : req->max_retries;

  catena_http_global_init ();
  if (!catena_http_check_url (req->url, req->service, error))
    return NULL;

  for (int n = 0;; n++)
    {
      g_autoptr (GError) local_error = NULL;
      Transfer t = { .data = g_byte_array_new (),
                     .max = req->max_response ? req->max_response : CATENA_HTTP_MAX_JSON,
                     .cancellable = cancellable,
                     .retry_after_s = -1 };
      long status = 0;
      AttemptResult r = attempt (req, &t, &status, cancellable, &local_error);
      gboolean retry;
      guint delay;

      if (r == ATTEMPT_OK)
        retry = status_is_retryable (status, req->retry_500, t.timeout_type);
      else
        retry = r == ATTEMPT_TRANSPORT;

      if (!retry || n >= max_retries)
        {
          CatenaHttpResponse *resp;
          if (r != ATTEMPT_OK)
            {
              g_byte_array_unref (t.data);
              g_free (t.content_type);
              g_free (t.timeout_type);
              g_propagate_error (error, g_steal_pointer (&local_error));
              return NULL;
            }
          resp = g_new0 (CatenaHttpResponse, 1);
          resp->status = status;
          resp->body = g_byte_array_free_to_bytes (t.data);
          resp->content_type = t.content_type;
          resp->timeout_type = t.timeout_type;
          resp->attempts = n + 1;
          return resp;
        }

      delay = catena_http_backoff_ms (n);
      if (t.retry_after_s >= 0)
        delay = (guint) MIN (t.retry_after_s * 1000.0, MAX_DELAY_MS);
      g_debug ("%s: attempt %d failed (HTTP %ld), retrying in %u ms", req->service, n + 1,
               status, delay);
      g_byte_array_unref (t.data);
      g_free (t.content_type);
      g_free (t.timeout_type);
      if (!catena_http_sleep (delay, cancellable))
        {
          g_cancellable_set_error_if_cancelled (cancellable, error);
          return NULL;
        }
    }
}

static char *
error_detail (CatenaHttpResponse *response)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  gsize len;
  const char *data = g_bytes_get_data (response->body, &len);
  JsonNode *root;
  JsonObject *obj;

  if (len == 0 || !json_parser_load_from_data (parser, data, len, NULL))
    return NULL;
  root = json_parser_get_root (parser);
  /* A body of only whitespace parses to no root at all (found by fuzzing). */
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    return NULL;
  obj = json_node_get_object (root);
  /* OpenAI: {error: {message}}; ComfyUI: {error: {message}} or {error: "..."};
   * fal: {detail: "..."} or {detail: [{loc, msg, type}]} */
  if (json_object_has_member (obj, "error"))
    {
      JsonNode *e = json_object_get_member (obj, "error");
      if (JSON_NODE_HOLDS_OBJECT (e) &&
          json_object_has_member (json_node_get_object (e), "message"))
        return g_strdup (catena_json_string (json_node_get_object (e),
                                                                     "message", ""));
      if (JSON_NODE_HOLDS_VALUE (e) && json_node_get_value_type (e) == G_TYPE_STRING)
        return g_strdup (json_node_get_string (e));
    }
  if (json_object_has_member (obj, "detail"))
    {
      JsonNode *d = json_object_get_member (obj, "detail");
      if (JSON_NODE_HOLDS_VALUE (d) && json_node_get_value_type (d) == G_TYPE_STRING)
        return g_strdup (json_node_get_string (d));
      if (JSON_NODE_HOLDS_ARRAY (d))
        {
          GString *s = g_string_new (NULL);
          JsonArray *a = json_node_get_array (d);
          for (guint i = 0; i < json_array_get_length (a) && i < 4; i++)
            {
              JsonNode *item = json_array_get_element (a, i);
              if (!JSON_NODE_HOLDS_OBJECT (item))
                continue;
              JsonObject *io = json_node_get_object (item);
              JsonArray *loc = catena_json_get_array (io, "loc");
              if (s->len)
                g_string_append (s, "; ");
              if (loc && json_array_get_length (loc) > 0)
                {
                  JsonNode *last = json_array_get_element (loc, json_array_get_length (loc) - 1);
                  if (json_node_get_value_type (last) == G_TYPE_STRING)
                    g_string_append_printf (s, "%s: ", json_node_get_string (last));
                }
              g_string_append (s, catena_json_string (io, "msg", ""));
            }
          return g_string_free (s, FALSE);
        }
    }
  if (json_object_has_member (obj, "message"))
    return g_strdup (catena_json_string (obj, "message", ""));
  return NULL;
}

gboolean
catena_http_check_status (CatenaHttpResponse *response,
                          const char *service,
                          const char *key_env,
                          GError **error)
{
  g_autofree char *detail = NULL;
  long status = response->status;

  if (status >= 200 && status < 300)
    return TRUE;
  detail = error_detail (response);
  /* keep messages short: a hostile server could send a novel */
  if (detail && strlen (detail) > 300)
    detail[300] = '\0';
  if (detail && !g_utf8_validate (detail, -1, NULL))
    g_clear_pointer (&detail, g_free);

  if (status == 401 || status == 403)
    {
      if (key_env)
        g_set_error (error, CATENA_PROVIDER_ERROR, CATENA_PROVIDER_ERROR_UNAUTHORIZED,
                     _("%s refused the API key (HTTP %ld). Check the key in Preferences → "
                       "Providers or in the %s environment variable."),
                     service, status, key_env);
      else
        g_set_error (error, CATENA_PROVIDER_ERROR, CATENA_PROVIDER_ERROR_UNAUTHORIZED,
                     _("%s refused access (HTTP %ld)."), service, status);
    }
  else if (status == 429)
    g_set_error (error, CATENA_PROVIDER_ERROR, CATENA_PROVIDER_ERROR_RATE_LIMITED,
                 _("%s is limiting requests (HTTP 429) and still refused after %u tries. Wait "
                   "a minute and run again."),
                 service, response->attempts);
  else if (status == 504 && g_strcmp0 (response->timeout_type, "user") == 0)
    g_set_error (error, CATENA_PROVIDER_ERROR, CATENA_PROVIDER_ERROR_TIMEOUT,
                 _("%s stopped the job because it ran past the time limit Catena asked for."),
                 service);
  else if (status >= 500)
    g_set_error (error, CATENA_PROVIDER_ERROR, CATENA_PROVIDER_ERROR_SERVER,
                 _("%s had a server error (HTTP %ld)%s%s. Try again later."), service, status,
                 detail ? ": " : "", detail ? detail : "");
  else
    g_set_error (error, CATENA_PROVIDER_ERROR, CATENA_PROVIDER_ERROR_INVALID_REQUEST,
                 _("%s refused the request (HTTP %ld)%s%s."), service, status,
                 detail ? ": " : "", detail ? detail : "");
  return FALSE;
}

JsonNode *
catena_http_parse_json (CatenaHttpResponse *response, const char *service, GError **error)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  gsize len;
  const char *data = g_bytes_get_data (response->body, &len);

  if (len == 0 || !g_utf8_validate (data, len, NULL) ||
      !json_parser_load_from_data (parser, data, len, NULL) ||
      json_parser_get_root (parser) == NULL ||
      !JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)))
    {
      g_set_error (error, CATENA_PROVIDER_ERROR, CATENA_PROVIDER_ERROR_BAD_RESPONSE,
                   _("%s sent an answer Catena cannot read (not the JSON it expected)."),
                   service);
      return NULL;
    }
  return json_parser_steal_root (parser);
}

/* ---------------------------------------------------------------------------------------- */
/* WebSocket (RFC 6455), client side, over a libcurl CONNECT_ONLY connection so that https
 * servers get the same TLS verification as every other request. libcurl 7.88 in Debian 12 is
 * built without its experimental ws support. */

#define WS_GUID        "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
#define WS_MAX_MESSAGE (16 * 1024 * 1024)

struct _CatenaWebSocket
{
  CURL *easy;
  curl_socket_t fd;
  GByteArray *in;        /* raw bytes received, not yet parsed */
  GByteArray *message;   /* fragments of the current message */
  int message_opcode;
};

void
catena_websocket_free (CatenaWebSocket *ws)
{
  if (ws == NULL)
    return;
  if (ws->easy)
    curl_easy_cleanup (ws->easy);
  g_byte_array_unref (ws->in);
  g_byte_array_unref (ws->message);
  g_free (ws);
}

static gboolean
ws_wait (CatenaWebSocket *ws, short events, guint timeout_ms)
{
  struct pollfd p = { .fd = ws->fd, .events = events };
  return poll (&p, 1, (int) timeout_ms) > 0;
}

static gboolean
ws_send_all (CatenaWebSocket *ws, const guint8 *data, gsize len, GCancellable *cancellable,
             GError **error)
{
  gsize off = 0;
  gint64 deadline = g_get_monotonic_time () + 10 * G_USEC_PER_SEC;

  while (off < len)
    {
      size_t sent = 0;
      CURLcode rc = curl_easy_send (ws->easy, data + off, len - off, &sent);
      if (rc == CURLE_AGAIN)
        {
          if (g_cancellable_set_error_if_cancelled (cancellable, error))
            return FALSE;
          if (g_get_monotonic_time () > deadline)
            break;
          ws_wait (ws, POLLOUT, POLL_SLICE_MS);
          continue;
        }
      if (rc != CURLE_OK)
        break;
      off += sent;
    }
  if (off < len)
    {
      g_set_error (error, CATENA_PROVIDER_ERROR, CATENA_PROVIDER_ERROR_NETWORK,
                   _("The progress connection to the server was lost."));
      return FALSE;
    }
  return TRUE;
}

/* Reads what is available into ws->in; FALSE on EOF or error. */
static gboolean
ws_fill (CatenaWebSocket *ws, guint timeout_ms, gboolean *timed_out)
{
  guint8 buf[16384];
  size_t got = 0;
  CURLcode rc;

  *timed_out = FALSE;
  rc = curl_easy_recv (ws->easy, buf, sizeof buf, &got);
  if (rc == CURLE_AGAIN)
    {
      if (!ws_wait (ws, POLLIN, timeout_ms))
        {
          *timed_out = TRUE;
          return TRUE;
        }
      rc = curl_easy_recv (ws->easy, buf, sizeof buf, &got);
      if (rc == CURLE_AGAIN)
        {
          *timed_out = TRUE;
          return TRUE;
        }
    }
  if (rc != CURLE_OK || got == 0)
    return FALSE;
  g_byte_array_append (ws->in, buf, got);
  return TRUE;
}

CatenaWebSocket *
catena_websocket_connect (const char *url, guint timeout_ms, GCancellable *cancellable,
                          GError **error)
{
  g_autoptr (CatenaWebSocket) ws = g_new0 (CatenaWebSocket, 1);
  g_autoptr (GUri) uri = g_uri_parse (url, G_URI_FLAGS_NONE, NULL);
  g_autofree char *http_url = NULL;
  g_autofree char *key = NULL;
  g_autofree char *request = NULL;
  g_autofree char *accept = NULL;
  guint8 nonce[16];
  gint64 deadline = g_get_monotonic_time () + (gint64) timeout_ms * 1000;
  CURLcode rc;
  const char *scheme;
  int port;
  guint8 digest[20];
  gsize digest_len = sizeof digest;
  g_autoptr (GChecksum) sha1 = g_checksum_new (G_CHECKSUM_SHA1);

  catena_http_global_init ();
  ws->in = g_byte_array_new ();
  ws->message = g_byte_array_new ();
  if (uri == NULL)
    {
      g_set_error (error, CATENA_PROVIDER_ERROR, CATENA_PROVIDER_ERROR_FAILED,
                   _("The server address is not valid."));
      return NULL;
    }
  scheme = g_uri_get_scheme (uri);
  port = g_uri_get_port (uri) > 0 ? g_uri_get_port (uri)
                                  : (g_ascii_strcasecmp (scheme, "wss") == 0 ? 443 : 80);
  http_url = g_strdup_printf ("%s://%s:%d/",
                              g_ascii_strcasecmp (scheme, "wss") == 0 ? "https" : "http",
                              g_uri_get_host (uri), port);
  if (!catena_http_check_url (http_url, "ComfyUI", error))
    return NULL;

  ws->easy = curl_easy_init ();
  curl_easy_setopt (ws->easy, CURLOPT_URL, http_url);
  curl_easy_setopt (ws->easy, CURLOPT_CONNECT_ONLY, 1L);
  curl_easy_setopt (ws->easy, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt (ws->easy, CURLOPT_CONNECTTIMEOUT_MS, (long) timeout_ms);
  curl_easy_setopt (ws->easy, CURLOPT_SSL_VERIFYPEER, 1L);
  curl_easy_setopt (ws->easy, CURLOPT_SSL_VERIFYHOST, 2L);
  rc = curl_easy_perform (ws->easy);
  if (rc != CURLE_OK ||
      curl_easy_getinfo (ws->easy, CURLINFO_ACTIVESOCKET, &ws->fd) != CURLE_OK ||
      ws->fd == CURL_SOCKET_BAD)
    {
      g_set_error (error, CATENA_PROVIDER_ERROR, CATENA_PROVIDER_ERROR_NETWORK,
                   _("Could not open the progress connection: %s."), curl_easy_strerror (rc));
      return NULL;
    }

  for (guint i = 0; i < 16; i++)
    nonce[i] = (guint8) g_random_int_range (0, 256);
  key = g_base64_encode (nonce, 16);
  request = g_strdup_printf ("GET %s%s%s HTTP/1.1\r\nHost: %s:%d\r\nUpgrade: websocket\r\n"
                             "Connection: Upgrade\r\nSec-WebSocket-Key: %s\r\n"
                             "Sec-WebSocket-Version: 13\r\nUser-Agent: Catena/%s\r\n\r\n",
                             g_uri_get_path (uri)[0] ? g_uri_get_path (uri) : "/",
                             g_uri_get_query (uri) ? "?" : "",
                             g_uri_get_query (uri) ? g_uri_get_query (uri) : "",
                             g_uri_get_host (uri), port, key, PACKAGE_VERSION);
  if (!ws_send_all (ws, (const guint8 *) request, strlen (request), cancellable, error))
    return NULL;

  /* read the handshake answer */
  for (;;)
    {
      gboolean timed_out;
      guint8 *end = ws->in->len >= 4
                      ? memmem (ws->in->data, ws->in->len, "\r\n\r\n", 4)
                      : NULL;
      if (end != NULL)
        {
          gsize head_len = end - ws->in->data + 4;
          g_autofree char *head = g_strndup ((const char *) ws->in->data, head_len);
          g_auto (GStrv) lines = g_strsplit (head, "\r\n", -1);
          gboolean accepted = FALSE;

          g_checksum_update (sha1, (const guchar *) key, -1);
          g_checksum_update (sha1, (const guchar *) WS_GUID, -1);
          g_checksum_get_digest (sha1, digest, &digest_len);
          accept = g_base64_encode (digest, digest_len);
          for (guint i = 1; lines[i]; i++)
            if (g_ascii_strncasecmp (lines[i], "sec-websocket-accept:", 21) == 0)
              accepted = g_strcmp0 (g_strstrip (lines[i] + 21), accept) == 0;
          if (!g_str_has_prefix (lines[0], "HTTP/1.1 101") || !accepted)
            {
              g_set_error (error, CATENA_PROVIDER_ERROR, CATENA_PROVIDER_ERROR_BAD_RESPONSE,
                           _("The server does not offer a progress connection."));
              return NULL;
            }
          g_byte_array_remove_range (ws->in, 0, head_len);
          break;
        }
      if (ws->in->len > 65536 || g_get_monotonic_time () > deadline)
        {
          g_set_error (error, CATENA_PROVIDER_ERROR, CATENA_PROVIDER_ERROR_TIMEOUT,
                       _("The server did not open the progress connection in time."));
          return NULL;
        }
      if (g_cancellable_set_error_if_cancelled (cancellable, error))
        return NULL;
      if (!ws_fill (ws, POLL_SLICE_MS, &timed_out))
        {
          g_set_error (error, CATENA_PROVIDER_ERROR, CATENA_PROVIDER_ERROR_NETWORK,
                       _("The server closed the progress connection."));
          return NULL;
        }
    }
  return g_steal_pointer (&ws);
}

static gboolean
ws_send_frame (CatenaWebSocket *ws, int opcode, const guint8 *payload, gsize len,
               GCancellable *cancellable)
{
  g_autoptr (GByteArray) frame = g_byte_array_new ();
  guint8 head[2] = { 0x80 | opcode, 0x80 | (guint8) MIN (len, 125) };
  guint8 mask[4];

  /* control frames only (pong, close): payload <= 125 */
  len = MIN (len, 125);
  for (guint i = 0; i < 4; i++)
    mask[i] = (guint8) g_random_int_range (0, 256);
  g_byte_array_append (frame, head, 2);
  g_byte_array_append (frame, mask, 4);
  for (gsize i = 0; i < len; i++)
    {
      guint8 b = payload[i] ^ mask[i % 4];
      g_byte_array_append (frame, &b, 1);
    }
  return ws_send_all (ws, frame->data, frame->len, cancellable, NULL);
}

/* Parses one frame from ws->in: 1 parsed, 0 need more, -1 protocol error. */
static int
ws_parse_frame (CatenaWebSocket *ws, int *opcode, gboolean *fin, GBytes **payload)
{
  const guint8 *d = ws->in->data;
  gsize avail = ws->in->len, hdr = 2;
  guint64 len;
  gboolean masked;

  if (avail < 2)
    return 0;
  *fin = (d[0] & 0x80) != 0;
  *opcode = d[0] & 0x0f;
  masked = (d[1] & 0x80) != 0;
  len = d[1] & 0x7f;
  if (len == 126)
    {
      if (avail < 4)
        return 0;
      len = ((guint64) d[2] << 8) | d[3];
      hdr = 4;
    }
  else if (len == 127)
    {
      if (avail < 10)
        return 0;
      len = 0;
      for (int i = 0; i < 8; i++)
        len = (len << 8) | d[2 + i];
      hdr = 10;
    }
  if (len > WS_MAX_MESSAGE)
    return -1;
  if (masked)
    hdr += 4;
  if (avail < hdr + len)
    return 0;
  {
    guint8 *p = g_memdup2 (d + hdr, len);
    if (masked)
      for (guint64 i = 0; i < len; i++)
        p[i] ^= d[hdr - 4 + (i % 4)];
    *payload = g_bytes_new_take (p, len);
  }
  g_byte_array_remove_range (ws->in, 0, hdr + len);
  return 1;
}

char *
catena_websocket_receive (CatenaWebSocket *ws, guint timeout_ms, gboolean *closed,
                          GCancellable *cancellable, GError **error)
{
  gint64 deadline = g_get_monotonic_time () + (gint64) timeout_ms * 1000;

  *closed = FALSE;
  for (;;)
    {
      int opcode = 0;
      gboolean fin = FALSE, timed_out = FALSE;
      g_autoptr (GBytes) payload = NULL;
      int r = ws_parse_frame (ws, &opcode, &fin, &payload);

      if (r < 0)
        {
          g_set_error (error, CATENA_PROVIDER_ERROR, CATENA_PROVIDER_ERROR_BAD_RESPONSE,
                       _("The server sent a progress message Catena cannot read."));
          return NULL;
        }
      if (r > 0)
        {
          gsize plen;
          const guint8 *pdata = g_bytes_get_data (payload, &plen);
          switch (opcode)
            {
            case 0x8: /* close */
              ws_send_frame (ws, 0x8, pdata, MIN (plen, 2), cancellable);
              *closed = TRUE;
              return NULL;
            case 0x9: /* ping */
              ws_send_frame (ws, 0xA, pdata, plen, cancellable);
              continue;
            case 0xA:
              continue;
            case 0x1: /* text */
            case 0x2: /* binary: ComfyUI previews */
              g_byte_array_set_size (ws->message, 0);
              ws->message_opcode = opcode;
              G_GNUC_FALLTHROUGH;
            case 0x0:
              if (ws->message->len + plen > WS_MAX_MESSAGE)
                {
                  g_set_error (error, CATENA_PROVIDER_ERROR, CATENA_PROVIDER_ERROR_TOO_LARGE,
                               _("The server sent a progress message that is too large."));
                  return NULL;
                }
              g_byte_array_append (ws->message, pdata, plen);
              if (fin && ws->message_opcode == 0x1)
                {
                  char *text = g_strndup ((const char *) ws->message->data, ws->message->len);
                  g_byte_array_set_size (ws->message, 0);
                  return text;
                }
              if (fin)
                g_byte_array_set_size (ws->message, 0);
              continue;
            default:
              g_set_error (error, CATENA_PROVIDER_ERROR, CATENA_PROVIDER_ERROR_BAD_RESPONSE,
                           _("The server sent a progress message Catena cannot read."));
              return NULL;
            }
        }
      if (g_cancellable_set_error_if_cancelled (cancellable, error))
        return NULL;
      if (g_get_monotonic_time () >= deadline)
        return NULL;
      if (!ws_fill (ws, MIN (POLL_SLICE_MS, MAX (1, (deadline - g_get_monotonic_time ()) / 1000)),
                    &timed_out))
        {
          *closed = TRUE;
          return NULL;
        }
    }
}
