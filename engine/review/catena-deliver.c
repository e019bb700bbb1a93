/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <errno.h>
#include <glib/gi18n-lib.h>

#include "catena-json-private.h"
#include "catena-error.h"
#include "catena-provider.h"
#include "catena-review.h"
#include "catena-runner.h"

/* The delivery gate: only approved assets leave, each with a record of how it was made.
 * An approval names the output it was given for (the last stage's cache key); when the chain
 * changed since, the approval no longer covers what would be delivered and the gate closes
 * again. Overrides are possible but never silent: they go into the audit log first. */

#define PROVENANCE_KEYWORD "Catena-Provenance"

/* The stage whose file is delivered: the last one that writes a file. */
static int
find_writer (CatenaChain *chain)
{
  for (int i = (int) catena_chain_get_n_stages (chain) - 1; i >= 0; i--)
    if (catena_stage_writes_output (catena_chain_get_stage (chain, i)))
      return i;
  return -1;
}

static void
add_string (JsonBuilder *b,
            const char  *name,
            const char  *value)
{
  json_builder_set_member_name (b, name);
  if (value != NULL)
    json_builder_add_string_value (b, value);
  else
    json_builder_add_null_value (b);
}

static JsonNode *
stage_params (CatenaStage *stage)
{
  g_autoptr (JsonNode) node = catena_stage_to_json (stage);
  JsonObject *o = json_node_get_object (node);
  JsonNode *params = json_object_get_member (o, "params");

  return params ? json_node_copy (params) : json_node_new (JSON_NODE_OBJECT);
}

static JsonNode *
build_provenance (CatenaProject *project,
                  CatenaChain   *chain,
                  CatenaAsset   *asset,
                  char         **keys,
                  CatenaCache   *cache,
                  GCancellable  *cancellable)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  g_autofree char *base = catena_project_dup_base_dir (project);
  g_autofree char *source = NULL;
  g_autofree char *source_hash = NULL;
  double total_cost = 0;

  if (catena_asset_get_source (asset) != NULL && catena_asset_get_source (asset)[0] != '\0')
    {
      source = catena_asset_resolve_source (asset, base);
      source_hash = catena_hash_file (source, cancellable, NULL);
    }

  json_builder_begin_object (b);
  add_string (b, "format", "catena-delivery-provenance");
  json_builder_set_member_name (b, "version");
  json_builder_add_int_value (b, 1);
  add_string (b, "generator", "Catena " PACKAGE_VERSION);
  add_string (b, "project", catena_project_get_name (project));
  json_builder_set_member_name (b, "asset");
  json_builder_begin_object (b);
  add_string (b, "id", catena_asset_get_id (asset));
  add_string (b, "name", catena_asset_get_name (asset));
  add_string (b, "class", catena_asset_class_to_string (catena_asset_get_asset_class (asset)));
  if (source != NULL)
    {
      g_autofree char *name = g_path_get_basename (source);
      add_string (b, "source", name);
      add_string (b, "source_sha256", source_hash);
    }
  if (catena_asset_get_prompt (asset) != NULL)
    add_string (b, "prompt", catena_asset_get_prompt (asset));
  json_builder_end_object (b);

  json_builder_set_member_name (b, "stages");
  json_builder_begin_array (b);
  for (guint i = 0; keys[i] != NULL; i++)
    {
      CatenaStage *stage = catena_chain_get_stage (chain, i);
      g_autoptr (CatenaProvenance) p = catena_provenance_lookup (cache, keys[i]);
      const char *provider = catena_stage_get_provider (stage);
      const char *model = catena_stage_get_model (stage);
      gint64 seed = -1;

      if (p != NULL && p->provider != NULL && p->provider[0] != '\0')
        provider = p->provider;
      if (p != NULL && p->model != NULL && p->model[0] != '\0')
        model = p->model;
      if (p != NULL)
        seed = p->seed;
      else
        {
          /* generate has a seed parameter whose integer type is its own business */
          GParamSpec *ps = g_object_class_find_property (G_OBJECT_GET_CLASS (stage), "seed");

          if (ps != NULL)
            {
              g_auto (GValue) v = G_VALUE_INIT;
              g_auto (GValue) v64 = G_VALUE_INIT;

              g_value_init (&v, G_PARAM_SPEC_VALUE_TYPE (ps));
              g_value_init (&v64, G_TYPE_INT64);
              g_object_get_property (G_OBJECT (stage), "seed", &v);
              if (g_value_transform (&v, &v64))
                seed = g_value_get_int64 (&v64);
            }
        }

      json_builder_begin_object (b);
      add_string (b, "kind", catena_stage_get_kind (stage));
      add_string (b, "id", catena_stage_get_id (stage));
      add_string (b, "provider", provider && provider[0] ? provider : "local");
      add_string (b, "model", model && model[0] ? model : NULL);
      json_builder_set_member_name (b, "parameters");
      json_builder_add_value (b, stage_params (stage));
      json_builder_set_member_name (b, "seed");
      if (seed >= 0)
        json_builder_add_int_value (b, seed);
      else
        json_builder_add_null_value (b);
      json_builder_set_member_name (b, "cost_usd");
      json_builder_add_double_value (b, p ? p->cost_usd : 0.0);
      total_cost += p ? p->cost_usd : 0.0;
      if (p != NULL)
        {
          g_autoptr (GDateTime) dt = g_date_time_new_from_unix_utc (p->started_at / G_USEC_PER_SEC);
          g_autofree char *iso = dt ? g_date_time_format (dt, "%Y-%m-%dT%H:%M:%SZ") : NULL;

          add_string (b, "started", iso);
          json_builder_set_member_name (b, "duration_s");
          json_builder_add_double_value (b, p->duration_s);
          if (p->remote_id != NULL)
            add_string (b, "remote_id", p->remote_id);
          if (p->parameters != NULL)
            {
              JsonNode *sent = json_node_new (JSON_NODE_OBJECT);
              json_node_set_object (sent, p->parameters);
              json_builder_set_member_name (b, "request");
              json_builder_add_value (b, sent);
            }
        }
      /* Cache keys are SHA-256 over the input's key, the kind, parameters, provider and model:
       * the input key of the first stage is the source photo's own SHA-256. */
      add_string (b, "input_key", i > 0 ? keys[i - 1] : source_hash);
      add_string (b, "output_key", keys[i]);
      json_builder_end_object (b);
    }
  json_builder_end_array (b);
  json_builder_set_member_name (b, "total_cost_usd");
  json_builder_add_double_value (b, total_cost);
  json_builder_end_object (b);
  return json_builder_get_root (b);
}

JsonNode *
catena_deliver_build_provenance (CatenaProject *project,
                                 CatenaAsset   *asset,
                                 GCancellable  *cancellable,
                                 GError       **error)
{
  CatenaChain *chain;
  g_autofree char *base = NULL;
  g_auto (GStrv) keys = NULL;

  g_return_val_if_fail (CATENA_IS_PROJECT (project), NULL);
  g_return_val_if_fail (CATENA_IS_ASSET (asset), NULL);

  chain = catena_project_get_chain (project);
  base = catena_project_dup_base_dir (project);
  if (!(keys = catena_chain_compute_keys (chain, asset, base, cancellable, error)))
    return NULL;
  return build_provenance (project, chain, asset, keys, catena_cache_get_default (),
                           cancellable);
}

/* ---------------------------------------------------------------------------------------- */

typedef struct
{
  gboolean done;
  gboolean ok;
  GError *error;
  CatenaProgressFunc progress;
  gpointer progress_data;
} RunWait;

static void
on_run_done (GObject      *source,
             GAsyncResult *result,
             gpointer      user_data)
{
  RunWait *wait = user_data;

  wait->ok = catena_runner_run_finish (CATENA_RUNNER (source), result, &wait->error);
  wait->done = TRUE;
}

static void
on_fraction (CatenaRunner *runner,
             GParamSpec   *pspec,
             RunWait      *wait)
{
  if (wait->progress)
    wait->progress (0.8 * catena_runner_get_fraction (runner), wait->progress_data);
}

/* Runs (or finds in the cache) every stage of these assets, on a private main context so it
 * works from a CLI, a test or a worker thread alike. */
static gboolean
run_chain (CatenaProject     *project,
           GPtrArray         *assets,
           GCancellable      *cancellable,
           CatenaProgressFunc progress,
           gpointer           progress_data,
           GError           **error)
{
  g_autoptr (GMainContext) context = g_main_context_new ();
  g_autoptr (CatenaRunner) runner = catena_runner_new (catena_cache_get_default ());
  RunWait wait = { FALSE, FALSE, NULL, progress, progress_data };

  g_main_context_push_thread_default (context);
  g_signal_connect (runner, "notify::fraction", G_CALLBACK (on_fraction), &wait);
  catena_runner_run_async (runner, project, assets, NULL, cancellable, on_run_done, &wait);
  while (!wait.done)
    g_main_context_iteration (context, TRUE);
  g_signal_handlers_disconnect_by_data (runner, &wait);
  g_main_context_pop_thread_default (context);

  if (!wait.ok)
    {
      g_propagate_error (error, wait.error);
      return FALSE;
    }
  return TRUE;
}

static gboolean
write_json (JsonNode   *node,
            const char *path,
            GError    **error)
{
  g_autoptr (JsonGenerator) gen = json_generator_new ();
  g_autofree char *data = NULL;

  json_generator_set_root (gen, node);
  json_generator_set_pretty (gen, TRUE);
  data = json_generator_to_data (gen, NULL);
  return g_file_set_contents (path, data, -1, error);
}

/* The note in the file: short, points at the sidecar and names the output key. */
static char *
provenance_note (JsonNode   *record,
                 const char *sidecar_name,
                 const char *delivered)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  g_autoptr (JsonNode) note = NULL;
  JsonObject *root = json_node_get_object (record);
  JsonArray *stages = json_object_get_array_member (root, "stages");
  guint n = json_array_get_length (stages);
  g_autoptr (GString) chain = g_string_new (NULL);

  for (guint i = 0; i < n; i++)
    {
      JsonObject *s = json_array_get_object_element (stages, i);
      const char *model = catena_json_string (s, "model", NULL);

      g_string_append_printf (chain, "%s%s(%s%s%s)", i ? " > " : "",
                              catena_json_string (s, "kind", "?"),
                              catena_json_string (s, "provider", "?"),
                              model ? ":" : "", model ? model : "");
    }

  json_builder_begin_object (b);
  add_string (b, "format", "catena-provenance-note/1");
  add_string (b, "asset",
              catena_json_string (
                json_object_get_object_member (root, "asset"), "id", NULL));
  add_string (b, "delivered", delivered);
  add_string (b, "chain", chain->str);
  if (n > 0)
    add_string (b, "output_key",
                catena_json_string (
                  json_array_get_object_element (stages, n - 1), "output_key", NULL));
  add_string (b, "sidecar", sidecar_name);
  json_builder_end_object (b);
  note = json_builder_get_root (b);
  return json_to_string (note, FALSE);
}

gboolean
catena_deliver_assets (CatenaProject     *project,
                       GPtrArray         *assets,
                       const char        *dest_dir,
                       const char        *override_reason,
                       GCancellable      *cancellable,
                       CatenaProgressFunc progress,
                       gpointer           progress_data,
                       GPtrArray        **out_paths,
                       GError           **error)
{
  g_autoptr (CatenaReview) review = NULL;
  g_autoptr (GPtrArray) selected = NULL;
  g_autoptr (GPtrArray) all_keys = g_ptr_array_new_with_free_func ((GDestroyNotify) g_strfreev);
  g_autoptr (GPtrArray) refused = g_ptr_array_new ();
  g_autoptr (GPtrArray) written = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *base = NULL;
  g_autofree char *dir = NULL;
  CatenaChain *chain;
  CatenaCache *cache = catena_cache_get_default ();
  guint n_stages;
  int writer;

  g_return_val_if_fail (CATENA_IS_PROJECT (project), FALSE);
  g_return_val_if_fail (dest_dir != NULL, FALSE);

  if (override_reason != NULL)
    {
      g_autofree char *stripped = g_strstrip (g_strdup (override_reason));
      if (stripped[0] == '\0')
        {
          g_set_error (error, CATENA_REVIEW_ERROR, CATENA_REVIEW_ERROR_EMPTY,
                       _("An override needs a reason: say why these assets may leave without "
                         "approval."));
          return FALSE;
        }
    }

  chain = catena_project_get_chain (project);
  n_stages = catena_chain_get_n_stages (chain);
  writer = find_writer (chain);
  if (writer < 0)
    {
      g_set_error (error, CATENA_REVIEW_ERROR, CATENA_REVIEW_ERROR_NO_OUTPUT,
                   _("The chain has no export stage, so there is no file to deliver: add an "
                     "Export stage at its end."));
      return FALSE;
    }
  if (!(review = catena_review_new_for_project (project, error)))
    return FALSE;

  selected = catena_project_select_assets (project, assets);

  /* The gate, before anything runs or is written. */
  base = catena_project_dup_base_dir (project);
  for (guint i = 0; i < selected->len; i++)
    {
      CatenaAsset *asset = g_ptr_array_index (selected, i);
      const char *id = catena_asset_get_id (asset);
      const char *approved_key = catena_review_get_approved_key (review, id);
      char **keys = catena_chain_compute_keys (chain, asset, base, cancellable, error);

      if (keys == NULL)
        return FALSE;
      g_ptr_array_add (all_keys, keys);
      if (catena_review_get_state (review, id) != CATENA_REVIEW_STATE_APPROVED ||
          (approved_key != NULL && g_strcmp0 (approved_key, keys[n_stages - 1]) != 0))
        g_ptr_array_add (refused, asset);
    }
  if (refused->len > 0 && override_reason == NULL)
    {
      g_autoptr (GString) names = g_string_new (NULL);

      for (guint i = 0; i < refused->len; i++)
        {
          CatenaAsset *asset = g_ptr_array_index (refused, i);
          CatenaReviewState state = catena_review_get_state (review, catena_asset_get_id (asset));

          g_string_append_printf (names, "%s“%s” (%s)", i ? ", " : "",
                                  catena_asset_get_id (asset),
                                  state == CATENA_REVIEW_STATE_APPROVED
                                    ? _("changed since it was approved")
                                    : catena_review_state_get_title (state));
        }
      g_set_error (error, CATENA_REVIEW_ERROR, CATENA_REVIEW_ERROR_NOT_APPROVED,
                   g_dngettext (GETTEXT_PACKAGE,
                                "Only approved assets can be delivered, and %s is not: have it "
                                "approved, or deliver with an override and a reason.",
                                "Only approved assets can be delivered, and %s are not: have "
                                "them approved, or deliver with an override and a reason.",
                                refused->len),
                   names->str);
      return FALSE;
    }
  for (guint i = 0; i < refused->len; i++)
    if (!catena_review_log_override (review,
                                     catena_asset_get_id (g_ptr_array_index (refused, i)),
                                     override_reason, error))
      return FALSE;

  dir = g_path_is_absolute (dest_dir) ? g_strdup (dest_dir)
                                      : g_canonicalize_filename (dest_dir, NULL);
  if (g_mkdir_with_parents (dir, 0755) != 0)
    {
      int saved = errno;
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved),
                   _("Could not create the delivery folder %s: %s"), dir, g_strerror (saved));
      return FALSE;
    }

  if (selected->len > 0 && !run_chain (project, selected, cancellable, progress, progress_data, error))
    return FALSE;

  for (guint i = 0; i < selected->len; i++)
    {
      CatenaAsset *asset = g_ptr_array_index (selected, i);
      char **keys = g_ptr_array_index (all_keys, i);
      CatenaStage *stage = catena_chain_get_stage (chain, writer);
      CatenaStageContext ctx = { .asset = asset, .base_dir = base, .cancellable = cancellable };
      g_autoptr (GeglBuffer) output = NULL;
      g_autoptr (JsonNode) record = NULL;
      g_autoptr (GError) embed_error = NULL;
      g_autofree char *path = NULL;
      g_autofree char *sidecar = NULL;
      g_autofree char *sidecar_name = NULL;
      g_autofree char *note = NULL;
      g_autofree char *file_hash = NULL;
      g_autofree char *now = catena_review_now_iso8601 ();
      JsonObject *root;

      if (g_cancellable_set_error_if_cancelled (cancellable, error))
        return FALSE;
      output = catena_cache_lookup (cache, keys[writer], error);
      if (output == NULL)
        {
          if (error && *error == NULL)
            g_set_error (error, CATENA_CACHE_ERROR, CATENA_CACHE_ERROR_CORRUPT,
                         _("The final image of “%s” is missing from the cache although the "
                           "chain just ran; check the free disk space and deliver again."),
                         catena_asset_get_id (asset));
          return FALSE;
        }
      if (!catena_stage_write_output (stage, &ctx, output, dir, &path, error))
        return FALSE;
      if (path == NULL)
        continue;

      record = build_provenance (project, chain, asset, keys, cache, cancellable);
      root = json_node_get_object (record);
      sidecar_name = g_strdup_printf ("%s.provenance.json", catena_asset_get_id (asset));
      sidecar = g_build_filename (dir, sidecar_name, NULL);

      note = provenance_note (record, sidecar_name, now);
      if (!catena_image_embed_text (path, PROVENANCE_KEYWORD, note, &embed_error))
        {
          if (!g_error_matches (embed_error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED))
            {
              g_propagate_error (error, g_steal_pointer (&embed_error));
              return FALSE;
            }
          g_debug ("%s: %s", path, embed_error->message);
        }

      /* The delivery facts, known only now: the file (after the note) and who let it out. */
      file_hash = catena_hash_file (path, cancellable, NULL);
      json_object_set_string_member (root, "delivered", now);
      json_object_set_string_member (root, "delivered_by", catena_review_get_user (review));
      {
        g_autofree char *file_name = g_path_get_basename (path);
        json_object_set_string_member (root, "file", file_name);
      }
      if (file_hash)
        json_object_set_string_member (root, "file_sha256", file_hash);
      json_object_set_string_member (
        root, "review_state",
        catena_review_state_to_string (catena_review_get_state (review,
                                                                catena_asset_get_id (asset))));
      if (g_ptr_array_find (refused, asset, NULL))
        json_object_set_string_member (root, "override_reason", override_reason);
      if (!write_json (record, sidecar, error))
        return FALSE;

      catena_review_log_delivery (review, catena_asset_get_id (asset), path);
      g_ptr_array_add (written, g_steal_pointer (&path));
      if (progress)
        progress (0.8 + 0.2 * (i + 1) / selected->len, progress_data);
    }

  if (out_paths)
    *out_paths = g_steal_pointer (&written);
  return TRUE;
}
