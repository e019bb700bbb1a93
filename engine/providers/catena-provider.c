/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>
#include <string.h>

#include "catena-json-private.h"
#include "catena-asset.h"
#include "catena-cache.h"
#include "catena-error.h"
#include "catena-image-io.h"
#include "catena-provider-private.h"

G_DEFINE_QUARK (catena-provider-error-quark, catena_provider_error)

/* ---------------------------------------------------------------------------------------- */
/* Settings */

static guint retry_base_ms;    /* 0: environment or default */
static guint poll_interval_ms;
static guint http_timeout_ms;
static guint job_timeout_ms;

static guint
setting (guint *value, const char *env, guint fallback)
{
  guint v = g_atomic_int_get (value);
  const char *e;

  if (v)
    return v;
  if ((e = g_getenv (env)) && g_ascii_strtoull (e, NULL, 10) > 0)
    return (guint) MIN (g_ascii_strtoull (e, NULL, 10), G_MAXUINT);
  return fallback;
}

void catena_providers_set_retry_base_ms (guint ms) { g_atomic_int_set (&retry_base_ms, ms); }
void catena_providers_set_poll_interval_ms (guint ms) { g_atomic_int_set (&poll_interval_ms, ms); }
void catena_providers_set_http_timeout_ms (guint ms) { g_atomic_int_set (&http_timeout_ms, ms); }
void catena_providers_set_job_timeout_ms (guint ms) { g_atomic_int_set (&job_timeout_ms, ms); }

guint
catena_providers_get_retry_base_ms (void)
{
  /* @fal-ai/client DEFAULT_RETRY_OPTIONS.baseDelay */
  return setting (&retry_base_ms, "CATENA_RETRY_BASE_MS", 1000);
}

guint
catena_providers_get_poll_interval_ms (void)
{
  /* @fal-ai/client queue.js DEFAULT_POLL_INTERVAL */
  return setting (&poll_interval_ms, "CATENA_POLL_INTERVAL_MS", 500);
}

guint
catena_providers_get_http_timeout_ms (void)
{
  return setting (&http_timeout_ms, "CATENA_HTTP_TIMEOUT_MS", 120000);
}

guint
catena_providers_get_job_timeout_ms (void)
{
  return setting (&job_timeout_ms, "CATENA_JOB_TIMEOUT_MS", 600000);
}

static GMutex cache_lock;
static CatenaCache *providers_cache;

void
catena_providers_set_cache (CatenaCache *cache)
{
  g_mutex_lock (&cache_lock);
  g_set_object (&providers_cache, cache);
  g_mutex_unlock (&cache_lock);
}

CatenaCache *
catena_providers_get_cache (void)
{
  CatenaCache *cache;

  g_mutex_lock (&cache_lock);
  cache = providers_cache ? providers_cache : catena_cache_get_default ();
  g_mutex_unlock (&cache_lock);
  return cache;
}

/* ---------------------------------------------------------------------------------------- */
/* Boxed types */

CatenaProvenance *
catena_provenance_new (void)
{
  CatenaProvenance *self = g_new0 (CatenaProvenance, 1);
  self->seed = -1;
  return self;
}

CatenaProvenance *
catena_provenance_copy (const CatenaProvenance *self)
{
  CatenaProvenance *copy;

  if (self == NULL)
    return NULL;
  copy = g_memdup2 (self, sizeof *self);
  copy->provider = g_strdup (self->provider);
  copy->model = g_strdup (self->model);
  copy->stage_kind = g_strdup (self->stage_kind);
  copy->remote_id = g_strdup (self->remote_id);
  copy->parameters = self->parameters ? json_object_ref (self->parameters) : NULL;
  return copy;
}

void
catena_provenance_free (CatenaProvenance *self)
{
  if (self == NULL)
    return;
  g_free (self->provider);
  g_free (self->model);
  g_free (self->stage_kind);
  g_free (self->remote_id);
  g_clear_pointer (&self->parameters, json_object_unref);
  g_free (self);
}

G_DEFINE_BOXED_TYPE (CatenaProvenance, catena_provenance, catena_provenance_copy,
                     catena_provenance_free)

JsonNode *
catena_provenance_to_json (const CatenaProvenance *self)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  g_autoptr (GDateTime) dt = g_date_time_new_from_unix_utc (self->started_at / G_USEC_PER_SEC);
  g_autofree char *iso = dt ? g_date_time_format_iso8601 (dt) : NULL;

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "format");
  json_builder_add_string_value (b, "catena-provenance");
  json_builder_set_member_name (b, "version");
  json_builder_add_int_value (b, 1);
  json_builder_set_member_name (b, "provider");
  json_builder_add_string_value (b, self->provider ? self->provider : "");
  json_builder_set_member_name (b, "model");
  json_builder_add_string_value (b, self->model ? self->model : "");
  json_builder_set_member_name (b, "stage_kind");
  json_builder_add_string_value (b, self->stage_kind ? self->stage_kind : "");
  json_builder_set_member_name (b, "seed");
  json_builder_add_int_value (b, self->seed);
  json_builder_set_member_name (b, "cost_usd");
  json_builder_add_double_value (b, self->cost_usd);
  json_builder_set_member_name (b, "started_at");
  json_builder_add_int_value (b, self->started_at);
  if (iso)
    {
      json_builder_set_member_name (b, "started");
      json_builder_add_string_value (b, iso);
    }
  json_builder_set_member_name (b, "duration_s");
  json_builder_add_double_value (b, self->duration_s);
  json_builder_set_member_name (b, "n_outputs");
  json_builder_add_int_value (b, self->n_outputs);
  if (self->remote_id)
    {
      json_builder_set_member_name (b, "remote_id");
      json_builder_add_string_value (b, self->remote_id);
    }
  json_builder_set_member_name (b, "parameters");
  if (self->parameters)
    {
      JsonNode *n = json_node_new (JSON_NODE_OBJECT);
      json_node_set_object (n, self->parameters);
      json_builder_add_value (b, n);
    }
  else
    {
      json_builder_begin_object (b);
      json_builder_end_object (b);
    }
  json_builder_end_object (b);
  return json_builder_get_root (b);
}

CatenaProvenance *
catena_provenance_new_from_json (JsonNode *node, GError **error)
{
  g_autoptr (CatenaProvenance) self = catena_provenance_new ();
  JsonObject *o;

  if (node == NULL || !JSON_NODE_HOLDS_OBJECT (node) ||
      g_strcmp0 (catena_json_string (json_node_get_object (node),
                                                             "format", ""),
                 "catena-provenance") != 0)
    {
      g_set_error (error, CATENA_CACHE_ERROR, CATENA_CACHE_ERROR_CORRUPT,
                   _("The provenance record is damaged."));
      return NULL;
    }
  o = json_node_get_object (node);
  self->provider = g_strdup (catena_json_string (o, "provider", ""));
  self->model = g_strdup (catena_json_string (o, "model", ""));
  self->stage_kind = g_strdup (catena_json_string (o, "stage_kind", ""));
  self->seed = catena_json_int (o, "seed", -1);
  self->cost_usd = catena_json_double (o, "cost_usd", 0);
  self->started_at = catena_json_int (o, "started_at", 0);
  self->duration_s = catena_json_double (o, "duration_s", 0);
  self->n_outputs = catena_json_int (o, "n_outputs", 0);
  if (json_object_has_member (o, "remote_id"))
    self->remote_id = g_strdup (catena_json_string (o, "remote_id", ""));
  if (catena_json_get_object (o, "parameters"))
    self->parameters = json_object_ref (json_object_get_object_member (o, "parameters"));
  return g_steal_pointer (&self);
}

static char *
sidecar_path (CatenaCache *cache, const char *key)
{
  char sub[3];
  g_autofree char *name = NULL;

  if (key == NULL || strlen (key) < 8 || strspn (key, "0123456789abcdefABCDEF") != strlen (key))
    return NULL;
  sub[0] = key[0];
  sub[1] = key[1];
  sub[2] = 0;
  name = g_strconcat (key, ".json", NULL);
  return g_build_filename (catena_cache_get_dir (cache), sub, name, NULL);
}

gboolean
catena_provenance_save (const CatenaProvenance *self, CatenaCache *cache, const char *key,
                        GError **error)
{
  g_autofree char *path = sidecar_path (cache, key);
  g_autofree char *dir = NULL;
  g_autoptr (JsonGenerator) gen = json_generator_new ();
  g_autoptr (JsonNode) root = NULL;
  g_autofree char *data = NULL;

  if (path == NULL)
    {
      g_set_error (error, CATENA_CACHE_ERROR, CATENA_CACHE_ERROR_IO,
                   _("Not a valid cache key."));
      return FALSE;
    }
  dir = g_path_get_dirname (path);
  if (g_mkdir_with_parents (dir, 0755) != 0)
    {
      g_set_error (error, CATENA_CACHE_ERROR, CATENA_CACHE_ERROR_IO,
                   _("Could not create the cache folder %s."), dir);
      return FALSE;
    }
  root = catena_provenance_to_json (self);
  json_generator_set_root (gen, root);
  json_generator_set_pretty (gen, TRUE);
  data = json_generator_to_data (gen, NULL);
  /* g_file_set_contents writes a temporary file and renames it */
  return g_file_set_contents (path, data, -1, error);
}

CatenaProvenance *
catena_provenance_lookup (CatenaCache *cache, const char *key)
{
  g_autofree char *path = sidecar_path (cache, key);
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autofree char *data = NULL;
  gsize len;

  if (path == NULL || !g_file_get_contents (path, &data, &len, NULL) || len > 1024 * 1024 ||
      !json_parser_load_from_data (parser, data, len, NULL))
    return NULL;
  return catena_provenance_new_from_json (json_parser_get_root (parser), NULL);
}

static GPrivate pending_provenance = G_PRIVATE_INIT ((GDestroyNotify) catena_provenance_free);

void
catena_provenance_set_pending (const CatenaProvenance *provenance)
{
  g_private_replace (&pending_provenance, catena_provenance_copy (provenance));
}

CatenaProvenance *
catena_provenance_steal_pending (void)
{
  CatenaProvenance *p = g_private_get (&pending_provenance);
  g_private_set (&pending_provenance, NULL);
  return p;
}

gboolean
catena_provenance_commit_pending (CatenaCache *cache, const char *key)
{
  g_autoptr (CatenaProvenance) p = catena_provenance_steal_pending ();
  g_autoptr (GError) error = NULL;

  if (p == NULL)
    return FALSE;
  if (!catena_provenance_save (p, cache, key, &error))
    {
      g_warning ("%s", error->message);
      return FALSE;
    }
  return TRUE;
}

CatenaProviderRequest *
catena_provider_request_new (const char *stage_kind)
{
  CatenaProviderRequest *self = g_new0 (CatenaProviderRequest, 1);
  self->stage_kind = g_strdup (stage_kind);
  self->seed = -1;
  self->n_images = 1;
  self->lora_scale = 1.0;
  self->denoise = 0.6;
  self->scale = 2.0;
  return self;
}

CatenaProviderRequest *
catena_provider_request_copy (const CatenaProviderRequest *self)
{
  CatenaProviderRequest *copy = g_memdup2 (self, sizeof *self);

  copy->stage_kind = g_strdup (self->stage_kind);
  copy->model = g_strdup (self->model);
  copy->prompt = g_strdup (self->prompt);
  copy->negative_prompt = g_strdup (self->negative_prompt);
  copy->lora = g_strdup (self->lora);
  copy->input = self->input ? g_object_ref (self->input) : NULL;
  copy->mask = self->mask ? g_object_ref (self->mask) : NULL;
  copy->extra = self->extra ? json_object_ref (self->extra) : NULL;
  return copy;
}

void
catena_provider_request_free (CatenaProviderRequest *self)
{
  if (self == NULL)
    return;
  g_free (self->stage_kind);
  g_free (self->model);
  g_free (self->prompt);
  g_free (self->negative_prompt);
  g_free (self->lora);
  g_clear_object (&self->input);
  g_clear_object (&self->mask);
  g_clear_pointer (&self->extra, json_object_unref);
  g_free (self);
}

G_DEFINE_BOXED_TYPE (CatenaProviderRequest, catena_provider_request, catena_provider_request_copy,
                     catena_provider_request_free)

CatenaProviderResult *
catena_provider_result_new (void)
{
  CatenaProviderResult *self = g_new0 (CatenaProviderResult, 1);
  self->images = g_ptr_array_new_with_free_func (g_object_unref);
  self->provenance = catena_provenance_new ();
  return self;
}

void
catena_provider_result_free (CatenaProviderResult *self)
{
  if (self == NULL)
    return;
  g_ptr_array_unref (self->images);
  catena_provenance_free (self->provenance);
  g_free (self);
}

static CatenaProviderResult *
catena_provider_result_copy (CatenaProviderResult *self)
{
  CatenaProviderResult *copy = g_new0 (CatenaProviderResult, 1);
  copy->images = g_ptr_array_ref (self->images);
  copy->provenance = catena_provenance_copy (self->provenance);
  return copy;
}

G_DEFINE_BOXED_TYPE (CatenaProviderResult, catena_provider_result, catena_provider_result_copy,
                     catena_provider_result_free)

JsonObject *
catena_provider_request_to_json (const CatenaProviderRequest *r)
{
  JsonObject *o = json_object_new ();

  if (r->prompt)
    json_object_set_string_member (o, "prompt", r->prompt);
  if (r->negative_prompt && r->negative_prompt[0])
    json_object_set_string_member (o, "negative_prompt", r->negative_prompt);
  if (r->width > 0)
    {
      json_object_set_int_member (o, "width", r->width);
      json_object_set_int_member (o, "height", r->height);
    }
  json_object_set_int_member (o, "seed", r->seed);
  json_object_set_int_member (o, "n_images", r->n_images);
  if (r->lora)
    {
      json_object_set_string_member (o, "lora", r->lora);
      json_object_set_double_member (o, "lora_scale", r->lora_scale);
    }
  if (g_strcmp0 (r->stage_kind, "style") == 0 || g_strcmp0 (r->stage_kind, "edit") == 0)
    json_object_set_double_member (o, "denoise", r->denoise);
  if (g_strcmp0 (r->stage_kind, "upscale") == 0)
    json_object_set_double_member (o, "scale", r->scale);
  if (r->input)
    {
      const GeglRectangle *e = gegl_buffer_get_extent (r->input);
      g_autofree char *s = g_strdup_printf ("<image %d×%d>", e->width, e->height);
      json_object_set_string_member (o, "input", s);
    }
  if (r->mask)
    json_object_set_string_member (o, "mask", "<mask>");
  if (r->extra)
    {
      JsonObjectIter it;
      const char *name;
      JsonNode *value;
      json_object_iter_init (&it, r->extra);
      while (json_object_iter_next (&it, &name, &value))
        if (!json_object_has_member (o, name))
          json_object_set_member (o, name, json_node_copy (value));
    }
  return o;
}

/* ---------------------------------------------------------------------------------------- */
/* Images */

static GBytes *
save_to_bytes (GeglBuffer *buffer, GError **error)
{
  g_autofree char *dir = g_dir_make_tmp ("catena-upload-XXXXXX", error);
  g_autofree char *path = NULL;
  char *data = NULL;
  gsize len = 0;
  gboolean ok;

  if (dir == NULL)
    return NULL;
  path = g_build_filename (dir, "image.png", NULL);
  ok = catena_image_save (buffer, path, CATENA_EXPORT_FORMAT_PNG, 0, error) &&
       g_file_get_contents (path, &data, &len, error);
  g_unlink (path);
  g_rmdir (dir);
  return ok ? g_bytes_new_take (data, len) : NULL;
}

GBytes *
catena_provider_encode_png (GeglBuffer *buffer, GError **error)
{
  return save_to_bytes (buffer, error);
}

GBytes *
catena_provider_encode_mask_png (GeglBuffer *mask, GError **error)
{
  const GeglRectangle *r = gegl_buffer_get_extent (mask);
  g_autoptr (GeglBuffer) out = gegl_buffer_new (r, babl_format (CATENA_WORK_FORMAT));
  gsize n = (gsize) r->width * r->height;
  g_autofree float *y = g_new (float, n);
  g_autofree float *rgba = g_new0 (float, n * 4);

  gegl_buffer_get (mask, r, 1.0, babl_format ("Y' float"), y, GEGL_AUTO_ROWSTRIDE,
                   GEGL_ABYSS_NONE);
  /* OpenAI and ComfyUI's LoadImage read "edit here" from transparency */
  for (gsize i = 0; i < n; i++)
    rgba[i * 4 + 3] = 1.0f - CLAMP (y[i], 0.0f, 1.0f);
  gegl_buffer_set (out, r, 0, babl_format (CATENA_WORK_FORMAT), rgba, GEGL_AUTO_ROWSTRIDE);
  return save_to_bytes (out, error);
}

GeglBuffer *
catena_provider_decode_image (GBytes *bytes, const char *service, GCancellable *cancellable,
                              GError **error)
{
  g_autoptr (GError) local_error = NULL;
  g_autofree char *path = NULL;
  GeglBuffer *buffer = NULL;
  gsize len;
  const char *data = g_bytes_get_data (bytes, &len);
  int fd, w = 0, h = 0;
  CatenaImageKind kind;

  fd = g_file_open_tmp ("catena-download-XXXXXX", &path, error);
  if (fd < 0)
    return NULL;
  close (fd);
  if (!g_file_set_contents (path, data ? data : "", len, error))
    {
      g_unlink (path);
      return NULL;
    }
  /* headers first: a 50000×50000 PNG is refused before any pixel memory is allocated */
  if (catena_image_probe (path, &kind, &w, &h, &local_error))
    buffer = catena_image_load (path, cancellable, &local_error);
  g_unlink (path);
  if (buffer == NULL)
    {
      if (g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        g_propagate_error (error, g_steal_pointer (&local_error));
      else if (g_error_matches (local_error, CATENA_STAGE_ERROR, CATENA_STAGE_ERROR_TOO_LARGE))
        g_set_error (error, CATENA_PROVIDER_ERROR, CATENA_PROVIDER_ERROR_TOO_LARGE,
                     _("%s sent an image larger than Catena handles: %s"), service,
                     local_error->message);
      else
        g_set_error (error, CATENA_PROVIDER_ERROR, CATENA_PROVIDER_ERROR_BAD_RESPONSE,
                     _("%s sent something that is not a usable image: %s"), service,
                     local_error ? local_error->message : "");
    }
  return buffer;
}

GeglBuffer *
catena_provider_download_image (const char *url, const char *service, GCancellable *cancellable,
                                GError **error)
{
  /* no Authorization header: result URLs point at CDNs, keys stay with the API host */
  CatenaHttpRequest req = { .method = "GET", .url = url, .max_response = CATENA_HTTP_MAX_IMAGE,
                            .max_retries = -1, .service = service };
  g_autoptr (CatenaHttpResponse) resp = NULL;

  if (g_str_has_prefix (url, "data:"))
    {
      const char *comma = strchr (url, ',');
      g_autoptr (GBytes) bytes = NULL;
      guchar *raw;
      gsize len;

      if (comma == NULL || strstr (url, ";base64") == NULL || strlen (comma) > 4 * CATENA_HTTP_MAX_IMAGE / 3)
        {
          g_set_error (error, CATENA_PROVIDER_ERROR, CATENA_PROVIDER_ERROR_BAD_RESPONSE,
                       _("%s sent an image Catena cannot read."), service);
          return NULL;
        }
      raw = g_base64_decode (comma + 1, &len);
      bytes = g_bytes_new_take (raw, len);
      return catena_provider_decode_image (bytes, service, cancellable, error);
    }
  if (!(resp = catena_http_perform (&req, cancellable, error)) ||
      !catena_http_check_status (resp, service, NULL, error))
    return NULL;
  return catena_provider_decode_image (resp->body, service, cancellable, error);
}

char *
catena_provider_excerpt (const char *text, gsize max_bytes)
{
  g_autofree char *valid = NULL;
  gsize end = max_bytes;

  if (text == NULL)
    return g_strdup ("");
  valid = g_utf8_make_valid (text, -1);
  if (strlen (valid) <= max_bytes)
    return g_steal_pointer (&valid);
  /* printf's %.300s would cut a character in half: stop before it instead */
  while (end > 0 && (valid[end] & 0xc0) == 0x80)
    end--;
  return g_strndup (valid, end);
}

void
catena_provider_report (CatenaProviderProgressFunc progress, gpointer data, double fraction,
                        const char *message)
{
  if (progress)
    progress (CLAMP (fraction, 0.0, 1.0), message, data);
}

/* ---------------------------------------------------------------------------------------- */
/* CatenaProvider */

typedef struct
{
  GMutex lock;
  GHashTable *endpoints; /* which -> url */
} CatenaProviderPrivate;

G_DEFINE_ABSTRACT_TYPE_WITH_PRIVATE (CatenaProvider, catena_provider, G_TYPE_OBJECT)

static void
catena_provider_finalize (GObject *object)
{
  CatenaProviderPrivate *priv = catena_provider_get_instance_private (CATENA_PROVIDER (object));

  g_hash_table_unref (priv->endpoints);
  g_mutex_clear (&priv->lock);
  G_OBJECT_CLASS (catena_provider_parent_class)->finalize (object);
}

static gboolean
catena_provider_real_supports (CatenaProvider *self, const char *stage_kind)
{
  return FALSE;
}

static double
catena_provider_real_estimate_cost (CatenaProvider *self, const CatenaProviderRequest *request)
{
  return 0.0;
}

static char **
catena_provider_real_list_models (CatenaProvider *self, const char *stage_kind,
                                  GCancellable *cancellable, GError **error)
{
  const char *model = catena_provider_get_default_model (self, stage_kind);
  GStrvBuilder *b = g_strv_builder_new ();
  char **models;

  if (model)
    g_strv_builder_add (b, model);
  models = g_strv_builder_end (b);
  g_strv_builder_unref (b);
  return models;
}

static void
catena_provider_class_init (CatenaProviderClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = catena_provider_finalize;
  klass->supports = catena_provider_real_supports;
  klass->estimate_cost = catena_provider_real_estimate_cost;
  klass->list_models = catena_provider_real_list_models;
}

static void
catena_provider_init (CatenaProvider *self)
{
  CatenaProviderPrivate *priv = catena_provider_get_instance_private (self);

  g_mutex_init (&priv->lock);
  priv->endpoints = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
}

static const char *provider_names[] = { "local", "fal", "comfyui", "openai", NULL };

const char **
catena_provider_list_names (void)
{
  return provider_names;
}

CatenaProvider *
catena_provider_get (const char *name)
{
  static gsize initialized;
  static CatenaProvider *instances[4];

  if (g_once_init_enter (&initialized))
    {
      instances[0] = g_object_new (catena_provider_local_get_type (), NULL);
      instances[1] = g_object_new (catena_provider_fal_get_type (), NULL);
      instances[2] = g_object_new (catena_provider_comfyui_get_type (), NULL);
      instances[3] = g_object_new (catena_provider_openai_get_type (), NULL);
      g_once_init_leave (&initialized, 1);
    }
  for (guint i = 0; provider_names[i]; i++)
    if (g_strcmp0 (name, provider_names[i]) == 0)
      return instances[i];
  return NULL;
}

const char *
catena_provider_get_name (CatenaProvider *self)
{
  g_return_val_if_fail (CATENA_IS_PROVIDER (self), NULL);
  return CATENA_PROVIDER_GET_CLASS (self)->name;
}

const char *
catena_provider_get_title (CatenaProvider *self)
{
  g_return_val_if_fail (CATENA_IS_PROVIDER (self), NULL);
  return _(CATENA_PROVIDER_GET_CLASS (self)->title);
}

gboolean
catena_provider_supports (CatenaProvider *self, const char *stage_kind)
{
  g_return_val_if_fail (CATENA_IS_PROVIDER (self), FALSE);
  return stage_kind && CATENA_PROVIDER_GET_CLASS (self)->supports (self, stage_kind);
}

const char *
catena_provider_get_default_model (CatenaProvider *self, const char *stage_kind)
{
  CatenaProviderClass *klass = CATENA_PROVIDER_GET_CLASS (self);
  return klass->default_model ? klass->default_model (self, stage_kind) : NULL;
}

char **
catena_provider_list_models (CatenaProvider *self, const char *stage_kind,
                             GCancellable *cancellable, GError **error)
{
  g_return_val_if_fail (CATENA_IS_PROVIDER (self), NULL);
  return CATENA_PROVIDER_GET_CLASS (self)->list_models (self, stage_kind, cancellable, error);
}

double
catena_provider_estimate_cost (CatenaProvider *self, const CatenaProviderRequest *request)
{
  g_return_val_if_fail (CATENA_IS_PROVIDER (self), 0);
  return CATENA_PROVIDER_GET_CLASS (self)->estimate_cost (self, request);
}

void
catena_provider_set_endpoint (CatenaProvider *self, const char *which, const char *url)
{
  CatenaProviderPrivate *priv = catena_provider_get_instance_private (self);

  g_mutex_lock (&priv->lock);
  if (url)
    g_hash_table_replace (priv->endpoints, g_strdup (which), g_strdup (url));
  else
    g_hash_table_remove (priv->endpoints, which);
  g_mutex_unlock (&priv->lock);
}

char *
catena_provider_dup_endpoint (CatenaProvider *self, const char *which)
{
  CatenaProviderPrivate *priv = catena_provider_get_instance_private (self);
  CatenaProviderClass *klass = CATENA_PROVIDER_GET_CLASS (self);
  const char *fallback = NULL, *env_name = NULL, *env;
  char *url = NULL;

  g_mutex_lock (&priv->lock);
  url = g_strdup (g_hash_table_lookup (priv->endpoints, which));
  g_mutex_unlock (&priv->lock);
  if (url == NULL && klass->endpoint_env)
    {
      env_name = klass->endpoint_env (self, which, &fallback);
      if (env_name && (env = g_getenv (env_name)) && env[0])
        url = g_strdup (env);
      else
        url = g_strdup (fallback);
    }
  if (url)
    {
      gsize len = strlen (url);
      while (len > 0 && url[len - 1] == '/')
        url[--len] = '\0';
    }
  return url;
}

CatenaProviderResult *
catena_provider_run (CatenaProvider *self,
                     const CatenaProviderRequest *request,
                     CatenaProviderProgressFunc progress,
                     gpointer progress_data,
                     GCancellable *cancellable,
                     GError **error)
{
  CatenaProviderClass *klass;
  CatenaProviderResult *result;
  gint64 start_mono = g_get_monotonic_time ();
  gint64 start = g_get_real_time ();

  g_return_val_if_fail (CATENA_IS_PROVIDER (self), NULL);
  g_return_val_if_fail (request != NULL, NULL);
  klass = CATENA_PROVIDER_GET_CLASS (self);

  if (g_cancellable_set_error_if_cancelled (cancellable, error))
    return NULL;
  if (!catena_provider_supports (self, request->stage_kind))
    {
      g_set_error (error, CATENA_PROVIDER_ERROR, CATENA_PROVIDER_ERROR_UNSUPPORTED,
                   _("%s cannot run the %s stage. Choose another provider for it."),
                   catena_provider_get_title (self), request->stage_kind);
      return NULL;
    }
  if (request->n_images < 1 || request->n_images > 16)
    {
      g_set_error (error, CATENA_STAGE_ERROR, CATENA_STAGE_ERROR_INVALID_PARAMETER,
                   _("Ask for between 1 and 16 candidates."));
      return NULL;
    }

  result = klass->run (self, request, progress, progress_data, cancellable, error);
  if (result == NULL)
    return NULL;
  if (result->images->len == 0)
    {
      catena_provider_result_free (result);
      g_set_error (error, CATENA_PROVIDER_ERROR, CATENA_PROVIDER_ERROR_BAD_RESPONSE,
                   _("%s finished without returning an image."),
                   catena_provider_get_title (self));
      return NULL;
    }
  {
    CatenaProvenance *p = result->provenance;
    if (p->provider == NULL)
      p->provider = g_strdup (klass->name);
    if (p->model == NULL)
      p->model = g_strdup (request->model ? request->model
                                          : catena_provider_get_default_model (self,
                                                                               request->stage_kind));
    if (p->stage_kind == NULL)
      p->stage_kind = g_strdup (request->stage_kind);
    if (p->parameters == NULL)
      p->parameters = catena_provider_request_to_json (request);
    p->started_at = start;
    p->duration_s = (g_get_monotonic_time () - start_mono) / (double) G_USEC_PER_SEC;
    p->n_outputs = result->images->len;
  }
  catena_provider_report (progress, progress_data, 1.0, NULL);
  return result;
}

typedef struct
{
  CatenaProviderRequest *request;
  CatenaProviderProgressFunc progress;
  gpointer progress_data;
  GMainContext *context;
} RunData;

static void
run_data_free (RunData *d)
{
  catena_provider_request_free (d->request);
  g_main_context_unref (d->context);
  g_free (d);
}

typedef struct
{
  CatenaProviderProgressFunc progress;
  gpointer data;
  double fraction;
  char *message;
} ProgressEvent;

static gboolean
deliver_progress (gpointer user_data)
{
  ProgressEvent *ev = user_data;
  ev->progress (ev->fraction, ev->message, ev->data);
  return G_SOURCE_REMOVE;
}

static void
progress_event_free (gpointer user_data)
{
  ProgressEvent *ev = user_data;
  g_free (ev->message);
  g_free (ev);
}

static void
relay_progress (double fraction, const char *message, gpointer user_data)
{
  RunData *d = user_data;
  ProgressEvent *ev = g_new0 (ProgressEvent, 1);

  ev->progress = d->progress;
  ev->data = d->progress_data;
  ev->fraction = fraction;
  ev->message = g_strdup (message);
  /* Always through a source: g_main_context_invoke() would run the callback right here on the
   * worker whenever the caller's context happens to be free to acquire. */
  {
    g_autoptr (GSource) source = g_idle_source_new ();
    g_source_set_priority (source, G_PRIORITY_LOW);
    g_source_set_callback (source, deliver_progress, ev, progress_event_free);
    g_source_set_static_name (source, "[catena] provider progress");
    g_source_attach (source, d->context);
  }
}

static void
run_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  RunData *d = task_data;
  GError *error = NULL;
  CatenaProviderResult *result;

  result = catena_provider_run (source, d->request, d->progress ? relay_progress : NULL, d,
                                cancellable, &error);
  if (result)
    g_task_return_pointer (task, result, (GDestroyNotify) catena_provider_result_free);
  else
    g_task_return_error (task, error);
}

void
catena_provider_run_async (CatenaProvider *self,
                           const CatenaProviderRequest *request,
                           CatenaProviderProgressFunc progress,
                           gpointer progress_data,
                           GCancellable *cancellable,
                           GAsyncReadyCallback callback,
                           gpointer user_data)
{
  g_autoptr (GTask) task = g_task_new (self, cancellable, callback, user_data);
  RunData *d = g_new0 (RunData, 1);

  d->request = catena_provider_request_copy (request);
  d->progress = progress;
  d->progress_data = progress_data;
  d->context = g_main_context_ref_thread_default ();
  g_task_set_source_tag (task, catena_provider_run_async);
  g_task_set_task_data (task, d, (GDestroyNotify) run_data_free);
  g_task_run_in_thread (task, run_thread);
}

CatenaProviderResult *
catena_provider_run_finish (CatenaProvider *self, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}

static void
ctx_progress (double fraction, const char *message, gpointer user_data)
{
  catena_stage_context_report_progress (user_data, fraction);
}

GeglBuffer *
catena_provider_run_image_stage (const char *provider_name,
                                 const char *model,
                                 const char *stage_kind,
                                 GeglBuffer *input,
                                 JsonObject *params,
                                 CatenaStageContext *ctx,
                                 GError **error)
{
  CatenaProvider *provider = catena_provider_get (provider_name);
  g_autoptr (CatenaProviderRequest) req = NULL;
  g_autoptr (CatenaProviderResult) result = NULL;

  if (provider == NULL)
    {
      g_set_error (error, CATENA_PROVIDER_ERROR, CATENA_PROVIDER_ERROR_UNSUPPORTED,
                   _("Catena does not know the provider “%s”. Choose local, fal, ComfyUI or "
                     "OpenAI."),
                   provider_name ? provider_name : "");
      return NULL;
    }
  req = catena_provider_request_new (stage_kind);
  req->model = model && model[0] ? g_strdup (model) : NULL;
  req->input = input ? g_object_ref (input) : NULL;
  if (params)
    {
      JsonObjectIter it;
      const char *name;
      JsonNode *value;

      req->extra = json_object_new ();
      json_object_iter_init (&it, params);
      while (json_object_iter_next (&it, &name, &value))
        {
          gboolean scalar = JSON_NODE_HOLDS_VALUE (value);
          if (scalar && g_str_equal (name, "prompt"))
            req->prompt = g_strdup (json_node_get_string (value));
          else if (scalar && g_str_equal (name, "negative_prompt"))
            req->negative_prompt = g_strdup (json_node_get_string (value));
          else if (scalar && (g_str_equal (name, "scale") || g_str_equal (name, "factor")))
            req->scale = json_node_get_double (value);
          else if (scalar && g_str_equal (name, "seed"))
            req->seed = json_node_get_int (value);
          else if (scalar && g_str_equal (name, "denoise"))
            req->denoise = json_node_get_double (value);
          else
            json_object_set_member (req->extra, name, json_node_copy (value));
        }
    }
  result = catena_provider_run (provider, req, ctx && ctx->progress ? ctx_progress : NULL, ctx,
                                ctx ? ctx->cancellable : NULL, error);
  if (result == NULL)
    return NULL;
  catena_provenance_set_pending (result->provenance);
  return g_object_ref (g_ptr_array_index (result->images, 0));
}
