/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <glib/gi18n-lib.h>
#include <string.h>

#include "catena-json-private.h"
#include "catena-error.h"
#include "catena-provider-private.h"

/* OpenAI Images API (platform.openai.com/docs/api-reference/images):
 * POST /v1/images/generations (JSON: model, prompt, n, size, quality, background,
 * output_format) and POST /v1/images/edits (multipart: model, prompt, image[], mask, n, size).
 * gpt-image-1 always answers {created, data: [{b64_json}], usage}. Errors are
 * {error: {message, type, param, code}}; 429 carries retry-after. There is no job to cancel
 * remotely: cancelling aborts the transfer. No seed is accepted or reported. */

struct _CatenaProviderOpenai
{
  CatenaProvider parent_instance;
};

G_DECLARE_FINAL_TYPE (CatenaProviderOpenai, catena_provider_openai, CATENA, PROVIDER_OPENAI,
                      CatenaProvider)
G_DEFINE_FINAL_TYPE (CatenaProviderOpenai, catena_provider_openai, CATENA_TYPE_PROVIDER)

#define SERVICE "OpenAI"

static gboolean
openai_supports (CatenaProvider *self, const char *kind)
{
  return g_str_equal (kind, "generate") || g_str_equal (kind, "edit");
}

static const char *
openai_default_model (CatenaProvider *self, const char *kind)
{
  return "gpt-image-1";
}

static char **
openai_list_models (CatenaProvider *self, const char *kind, GCancellable *cancellable,
                    GError **error)
{
  const char *models[] = { "gpt-image-1", "gpt-image-1-mini", NULL };
  return g_strdupv ((char **) models);
}

static const char *
openai_endpoint_env (CatenaProvider *self, const char *which, const char **default_url)
{
  *default_url = "https://api.openai.com/v1";
  return "CATENA_OPENAI_URL";
}

/* gpt-image-1 takes three sizes: pick the one closest in aspect */
static const char *
size_for (int w, int h)
{
  double aspect;

  if (w <= 0 || h <= 0)
    return "1024x1024";
  aspect = w / (double) h;
  if (aspect > 1.2)
    return "1536x1024";
  if (aspect < 1 / 1.2)
    return "1024x1536";
  return "1024x1024";
}

static double
openai_estimate_cost (CatenaProvider *self, const CatenaProviderRequest *r)
{
  /* gpt-image-1, medium quality, per image (OpenAI pricing page, 2025): 1024² $0.042,
   * 1536×1024 $0.063; mini is about a quarter of that. */
  gboolean square = g_str_equal (size_for (r->width, r->height), "1024x1024");
  double per = square ? 0.042 : 0.063;

  if (r->model && strstr (r->model, "mini"))
    per /= 4;
  return per * MAX (r->n_images, 1);
}

static char *
prompt_text (const CatenaProviderRequest *r)
{
  /* no negative prompt parameter: say it in words */
  if (r->negative_prompt && r->negative_prompt[0])
    return g_strdup_printf ("%s\n\nAvoid: %s", r->prompt, r->negative_prompt);
  return g_strdup (r->prompt);
}

/* Answer readers (catena-provider-private.h) */

JsonArray *
catena_openai_read_data (JsonObject *answer, GError **error)
{
  JsonArray *data = catena_json_get_array (answer, "data");

  if (data == NULL || json_array_get_length (data) == 0)
    {
      g_set_error (error, CATENA_PROVIDER_ERROR, CATENA_PROVIDER_ERROR_BAD_RESPONSE,
                   _("OpenAI's answer has no images in it."));
      return NULL;
    }
  return data;
}

gboolean
catena_openai_read_image (JsonNode *item, GBytes **bytes, const char **url, GError **error)
{
  JsonObject *o = JSON_NODE_HOLDS_OBJECT (item) ? json_node_get_object (item) : NULL;
  const char *b64 = catena_json_string (o, "b64_json", NULL);

  *bytes = NULL;
  *url = NULL;
  if (b64)
    {
      gsize len;
      guchar *raw = g_base64_decode (b64, &len);
      *bytes = g_bytes_new_take (raw, len);
      return TRUE;
    }
  if ((*url = catena_json_string (o, "url", NULL)))
    return TRUE;
  g_set_error (error, CATENA_PROVIDER_ERROR, CATENA_PROVIDER_ERROR_BAD_RESPONSE,
               _("OpenAI's answer has an image entry without image data."));
  return FALSE;
}

static CatenaProviderResult *
openai_run (CatenaProvider *self, const CatenaProviderRequest *r,
            CatenaProviderProgressFunc progress, gpointer progress_data,
            GCancellable *cancellable, GError **error)
{
  g_autofree char *key = NULL;
  g_autofree char *auth = NULL;
  g_autofree char *base = catena_provider_dup_endpoint (self, "base");
  g_autofree char *url = NULL;
  g_autofree char *prompt = NULL;
  g_autofree char *n_text = NULL;
  g_autoptr (GBytes) body = NULL;
  g_autoptr (GBytes) png = NULL;
  g_autoptr (GBytes) mask_png = NULL;
  g_autoptr (CatenaHttpResponse) resp = NULL;
  g_autoptr (JsonNode) answer = NULL;
  g_autoptr (CatenaProviderResult) result = NULL;
  const char *model = r->model && r->model[0] ? r->model : "gpt-image-1";
  const char *size = size_for (r->width, r->height);
  const char *headers[3] = { NULL, "Accept: application/json", NULL };
  CatenaHttpRequest req = { .method = "POST", .headers = headers,
                            .max_response = CATENA_HTTP_MAX_IMAGE, .max_retries = -1,
                            .retry_500 = TRUE, .service = SERVICE };
  CatenaHttpPart parts[8];
  guint n_parts = 0;
  JsonArray *data;

  if (r->prompt == NULL || r->prompt[0] == '\0')
    {
      g_set_error (error, CATENA_STAGE_ERROR, CATENA_STAGE_ERROR_INVALID_PARAMETER,
                   g_str_equal (r->stage_kind, "edit")
                     ? _("The edit stage needs an instruction, e.g. “make the bag red”.")
                     : _("There is no prompt: write one on the asset or on the stage."));
      return NULL;
    }
  if (g_str_equal (r->stage_kind, "edit") && r->input == NULL)
    {
      g_set_error (error, CATENA_STAGE_ERROR, CATENA_STAGE_ERROR_MISSING_INPUT,
                   _("The edit stage needs an image before it."));
      return NULL;
    }
  if (!(key = catena_secrets_lookup ("openai", cancellable, error)))
    return NULL;
  auth = g_strdup_printf ("Authorization: Bearer %s", key);
  memset (key, 0, strlen (key));
  headers[0] = auth;
  prompt = prompt_text (r);
  n_text = g_strdup_printf ("%u", r->n_images);
  catena_provider_report (progress, progress_data, 0.05, _("Sending"));

  if (g_str_equal (r->stage_kind, "generate"))
    {
      g_autoptr (JsonObject) o = json_object_new ();
      g_autoptr (JsonNode) n = json_node_new (JSON_NODE_OBJECT);
      char *text;

      url = g_strdup_printf ("%s/images/generations", base);
      json_object_set_string_member (o, "model", model);
      json_object_set_string_member (o, "prompt", prompt);
      json_object_set_int_member (o, "n", r->n_images);
      json_object_set_string_member (o, "size", size);
      json_object_set_string_member (o, "output_format", "png");
      if (r->extra)
        {
          JsonObjectIter it;
          const char *name;
          JsonNode *value;
          json_object_iter_init (&it, r->extra);
          while (json_object_iter_next (&it, &name, &value))
            json_object_set_member (o, name, json_node_copy (value));
        }
      json_node_set_object (n, o);
      text = json_to_string (n, FALSE);
      body = g_bytes_new_take (text, strlen (text));
      req.body = body;
      req.content_type = "application/json";
    }
  else
    {
      url = g_strdup_printf ("%s/images/edits", base);
      if (!(png = catena_provider_encode_png (r->input, error)))
        return NULL;
      if (r->mask && !(mask_png = catena_provider_encode_mask_png (r->mask, error)))
        return NULL;
      parts[n_parts++] = (CatenaHttpPart) { "model", NULL, NULL,
                                            g_bytes_new_static (model, strlen (model)) };
      parts[n_parts++] = (CatenaHttpPart) { "prompt", NULL, NULL,
                                            g_bytes_new_static (prompt, strlen (prompt)) };
      parts[n_parts++] = (CatenaHttpPart) { "n", NULL, NULL,
                                            g_bytes_new_static (n_text, strlen (n_text)) };
      parts[n_parts++] = (CatenaHttpPart) { "size", NULL, NULL,
                                            g_bytes_new_static (size, strlen (size)) };
      parts[n_parts++] = (CatenaHttpPart) { "image[]", "image.png", "image/png",
                                            g_bytes_ref (png) };
      if (mask_png)
        parts[n_parts++] = (CatenaHttpPart) { "mask", "mask.png", "image/png",
                                              g_bytes_ref (mask_png) };
      req.parts = parts;
      req.n_parts = n_parts;
    }
  req.url = url;
  resp = catena_http_perform (&req, cancellable, error);
  for (guint i = 0; i < n_parts; i++)
    g_bytes_unref (parts[i].data);
  if (resp == NULL || !catena_http_check_status (resp, SERVICE, "OPENAI_API_KEY", error) ||
      !(answer = catena_http_parse_json (resp, SERVICE, error)))
    return NULL;
  catena_provider_report (progress, progress_data, 0.8, _("Decoding"));

  if (!(data = catena_openai_read_data (json_node_get_object (answer), error)))
    return NULL;
  result = catena_provider_result_new ();
  for (guint i = 0; i < json_array_get_length (data) && i < 16; i++)
    {
      g_autoptr (GBytes) bytes = NULL;
      const char *item_url = NULL;
      GeglBuffer *image;

      if (!catena_openai_read_image (json_array_get_element (data, i), &bytes, &item_url,
                                     error))
        return NULL;
      if (bytes)
        image = catena_provider_decode_image (bytes, SERVICE, cancellable, error);
      else /* dall-e models answer with URLs */
        image = catena_provider_download_image (item_url, SERVICE, cancellable, error);
      if (image == NULL)
        return NULL;
      g_ptr_array_add (result->images, image);
    }
  result->provenance->model = g_strdup (model);
  result->provenance->seed = -1;
  result->provenance->cost_usd = openai_estimate_cost (self, r);
  result->provenance->parameters = catena_provider_request_to_json (r);
  json_object_set_string_member (result->provenance->parameters, "size", size);
  {
    JsonObject *usage = catena_json_get_object (json_node_get_object (answer), "usage");
    if (usage)
      json_object_set_object_member (result->provenance->parameters, "usage",
                                     json_object_ref (usage));
  }
  return g_steal_pointer (&result);
}

static void
catena_provider_openai_class_init (CatenaProviderOpenaiClass *klass)
{
  CatenaProviderClass *provider_class = CATENA_PROVIDER_CLASS (klass);

  provider_class->name = "openai";
  provider_class->title = N_("OpenAI");
  provider_class->supports = openai_supports;
  provider_class->default_model = openai_default_model;
  provider_class->list_models = openai_list_models;
  provider_class->estimate_cost = openai_estimate_cost;
  provider_class->run = openai_run;
  provider_class->endpoint_env = openai_endpoint_env;
}

static void
catena_provider_openai_init (CatenaProviderOpenai *self)
{
}
