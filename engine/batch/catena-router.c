/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <glib/gi18n-lib.h>
#include <math.h>
#include <string.h>

#include "catena-json-private.h"
#include "catena-asset.h"
#include "catena-provider.h"
#include "catena-router.h"
#include "catena-stages-remote.h"

G_DEFINE_QUARK (catena-routing-error-quark, catena_routing_error)

typedef struct
{
  char *provider;
  char *model;
} Rule;

typedef struct
{
  double per_image;
  double per_mp;
} Price;

struct _CatenaRouter
{
  GObject parent_instance;

  GHashTable *rules;       /* "class|kind" (class "*" for any) -> Rule */
  GHashTable *prices;      /* "provider|model" (model "*" for any) -> Price */
  GHashTable *pinned;      /* stage id set */
  GHashTable *concurrency; /* provider -> GUINT */
  char *pricing_date;
  char *pricing_source;
};

G_DEFINE_FINAL_TYPE (CatenaRouter, catena_router, G_TYPE_OBJECT)

static const char *class_names[] = { "thumbnail", "feed", "hero", "print" };

static void
rule_free (gpointer data)
{
  Rule *r = data;
  g_free (r->provider);
  g_free (r->model);
  g_free (r);
}

static void
catena_router_finalize (GObject *object)
{
  CatenaRouter *self = CATENA_ROUTER (object);

  g_hash_table_unref (self->rules);
  g_hash_table_unref (self->prices);
  g_hash_table_unref (self->pinned);
  g_hash_table_unref (self->concurrency);
  g_free (self->pricing_date);
  g_free (self->pricing_source);
  G_OBJECT_CLASS (catena_router_parent_class)->finalize (object);
}

static void
catena_router_class_init (CatenaRouterClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = catena_router_finalize;
}

static void
catena_router_init (CatenaRouter *self)
{
  self->rules = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, rule_free);
  self->prices = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  self->pinned = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  self->concurrency = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
}

/* $CATENA_DATA_DIR, then the installed data, then the source tree (uninstalled builds). */
static char *
find_data_file (const char *relative)
{
  const char *dirs[] = { g_getenv ("CATENA_DATA_DIR"), CATENA_DATADIR, CATENA_SOURCE_DATADIR };

  for (guint i = 0; i < G_N_ELEMENTS (dirs); i++)
    {
      g_autofree char *path = NULL;
      if (dirs[i] == NULL || dirs[i][0] == '\0')
        continue;
      path = g_build_filename (dirs[i], relative, NULL);
      if (g_file_test (path, G_FILE_TEST_IS_REGULAR))
        return g_steal_pointer (&path);
    }
  return NULL;
}

CatenaRouter *
catena_router_new (void)
{
  CatenaRouter *self = g_object_new (CATENA_TYPE_ROUTER, NULL);
  g_autofree char *rules = find_data_file ("routing/routing.json");
  g_autofree char *pricing = find_data_file ("routing/pricing.json");
  g_autoptr (GError) error = NULL;

  /* Broken defaults must not stop a run: the stages' own settings still work. */
  if (rules && !catena_router_load_rules_file (self, rules, &error))
    g_warning ("%s", error->message);
  g_clear_error (&error);
  if (pricing && !catena_router_load_pricing_file (self, pricing, &error))
    g_warning ("%s", error->message);
  return self;
}

CatenaRouter *
catena_router_new_for_project (CatenaProject *project, GError **error)
{
  g_autoptr (CatenaRouter) self = catena_router_new ();
  g_autoptr (JsonNode) section = NULL;

  g_return_val_if_fail (CATENA_IS_PROJECT (project), NULL);

  section = catena_project_dup_section (project, "routing");
  if (section && !catena_router_load_rules (self, section, error))
    return NULL;
  return g_steal_pointer (&self);
}

static JsonNode *
parse_file (const char *path, GError **error)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (GError) local_error = NULL;

  if (!json_parser_load_from_file (parser, path, &local_error))
    {
      g_set_error (error, CATENA_ROUTING_ERROR, CATENA_ROUTING_ERROR_INVALID,
                   _("“%s” cannot be read as JSON: %s"), path, local_error->message);
      return NULL;
    }
  return json_parser_steal_root (parser);
}

gboolean
catena_router_load_rules_file (CatenaRouter *self, const char *path, GError **error)
{
  g_autoptr (JsonNode) root = parse_file (path, error);
  return root && catena_router_load_rules (self, root, error);
}

gboolean
catena_router_load_pricing_file (CatenaRouter *self, const char *path, GError **error)
{
  g_autoptr (JsonNode) root = parse_file (path, error);
  return root && catena_router_load_pricing (self, root, error);
}

static gboolean
invalid (GError **error, const char *what)
{
  g_set_error (error, CATENA_ROUTING_ERROR, CATENA_ROUTING_ERROR_INVALID,
               _("The routing rules are malformed: %s"), what);
  return FALSE;
}

static int
class_from_name (const char *name)
{
  if (g_strcmp0 (name, "*") == 0)
    return -1;
  for (guint i = 0; i < G_N_ELEMENTS (class_names); i++)
    if (g_strcmp0 (name, class_names[i]) == 0)
      return (int) i;
  return -2;
}

static char *
rule_key (int asset_class, const char *kind)
{
  return g_strdup_printf ("%s|%s", asset_class < 0 ? "*" : class_names[asset_class], kind);
}

static gboolean
check_rule (const char *klass, const char *kind, const char *provider, GError **error)
{
  CatenaProvider *p = catena_provider_get (provider);

  if (p == NULL)
    {
      g_set_error (error, CATENA_ROUTING_ERROR, CATENA_ROUTING_ERROR_UNKNOWN_PROVIDER,
                   _("The routing rule for %s %s names the provider “%s”, which Catena does "
                     "not have: use local, fal, comfyui or openai."),
                   klass, kind, provider);
      return FALSE;
    }
  if (catena_stage_type_for_kind (kind) != G_TYPE_INVALID && !catena_provider_supports (p, kind))
    {
      g_set_error (error, CATENA_ROUTING_ERROR, CATENA_ROUTING_ERROR_UNSUPPORTED,
                   _("The routing rule for %s %s sends it to %s, which cannot run that stage; "
                     "choose another provider."),
                   klass, kind, provider);
      return FALSE;
    }
  return TRUE;
}

gboolean
catena_router_load_rules (CatenaRouter *self, JsonNode *node, GError **error)
{
  JsonObject *root;
  JsonNode *member;

  g_return_val_if_fail (CATENA_IS_ROUTER (self), FALSE);

  if (node == NULL || !JSON_NODE_HOLDS_OBJECT (node))
    return invalid (error, _("the document must be a JSON object."));
  root = json_node_get_object (node);

  if ((member = json_object_get_member (root, "rules")))
    {
      JsonObjectIter ci;
      const char *klass;
      JsonNode *per_class;

      if (!JSON_NODE_HOLDS_OBJECT (member))
        return invalid (error, _("“rules” must be an object of asset classes."));
      json_object_iter_init (&ci, json_node_get_object (member));
      while (json_object_iter_next (&ci, &klass, &per_class))
        {
          JsonObjectIter ki;
          const char *kind;
          JsonNode *rule;
          int asset_class = class_from_name (klass);

          if (asset_class == -2)
            {
              g_set_error (error, CATENA_ROUTING_ERROR, CATENA_ROUTING_ERROR_INVALID,
                           _("The routing rules name an unknown asset class “%s”: use "
                             "thumbnail, feed, hero, print or *."),
                           klass);
              return FALSE;
            }
          if (!JSON_NODE_HOLDS_OBJECT (per_class))
            return invalid (error, _("each asset class must map stage kinds to rules."));
          json_object_iter_init (&ki, json_node_get_object (per_class));
          while (json_object_iter_next (&ki, &kind, &rule))
            {
              JsonObject *r;
              const char *provider, *model;

              if (!JSON_NODE_HOLDS_OBJECT (rule))
                return invalid (error, _("a rule must be {\"provider\": …, \"model\": …}."));
              r = json_node_get_object (rule);
              provider = catena_json_string (r, "provider", NULL);
              model = catena_json_string (r, "model", "");
              if (provider == NULL)
                return invalid (error, _("a rule has no “provider”."));
              if (!check_rule (klass, kind, provider, error))
                return FALSE;
              catena_router_set_rule (self, asset_class, kind, provider, model);
            }
        }
    }

  if ((member = json_object_get_member (root, "pinned")))
    {
      JsonArray *a;
      if (!JSON_NODE_HOLDS_ARRAY (member))
        return invalid (error, _("“pinned” must be a list of stage ids."));
      a = json_node_get_array (member);
      for (guint i = 0; i < json_array_get_length (a); i++)
        {
          const char *id = json_node_get_string (json_array_get_element (a, i));
          if (id)
            catena_router_pin_stage (self, id);
        }
    }

  if ((member = json_object_get_member (root, "concurrency")))
    {
      JsonObjectIter it;
      const char *provider;
      JsonNode *value;

      if (!JSON_NODE_HOLDS_OBJECT (member))
        return invalid (error, _("“concurrency” must map providers to numbers."));
      json_object_iter_init (&it, json_node_get_object (member));
      while (json_object_iter_next (&it, &provider, &value))
        {
          gint64 n = JSON_NODE_HOLDS_VALUE (value) ? json_node_get_int (value) : 0;
          if (n < 1 || n > 256)
            return invalid (error, _("a concurrency limit must be between 1 and 256."));
          catena_router_set_concurrency (self, provider, (guint) n);
        }
    }

  if ((member = json_object_get_member (root, "pricing")))
    return catena_router_load_pricing (self, member, error);
  return TRUE;
}

gboolean
catena_router_load_pricing (CatenaRouter *self, JsonNode *node, GError **error)
{
  JsonObject *root;
  JsonArray *prices;
  const char *date;

  g_return_val_if_fail (CATENA_IS_ROUTER (self), FALSE);

  if (node == NULL || !JSON_NODE_HOLDS_OBJECT (node) ||
      !json_object_has_member ((root = json_node_get_object (node)), "prices") ||
      !JSON_NODE_HOLDS_ARRAY (json_object_get_member (root, "prices")))
    {
      g_set_error (error, CATENA_ROUTING_ERROR, CATENA_ROUTING_ERROR_INVALID,
                   _("The pricing table must be an object with a “prices” list."));
      return FALSE;
    }
  prices = json_object_get_array_member (root, "prices");
  for (guint i = 0; i < json_array_get_length (prices); i++)
    {
      JsonNode *n = json_array_get_element (prices, i);
      JsonObject *p;
      const char *provider, *model;
      double per_image, per_mp;

      if (!JSON_NODE_HOLDS_OBJECT (n))
        goto bad;
      p = json_node_get_object (n);
      provider = catena_json_string (p, "provider", NULL);
      model = catena_json_string (p, "model", "*");
      per_image = catena_json_double (p, "per_image", 0);
      per_mp = catena_json_double (p, "per_megapixel", 0);
      if (provider == NULL || !(per_image >= 0) || !(per_mp >= 0) || !isfinite (per_image) ||
          !isfinite (per_mp))
        goto bad;
      catena_router_set_price (self, provider, model, per_image, per_mp);
      continue;
    bad:
      g_set_error (error, CATENA_ROUTING_ERROR, CATENA_ROUTING_ERROR_INVALID,
                   _("Price number %u in the pricing table needs a “provider” and "
                     "non-negative “per_image” or “per_megapixel”."),
                   i + 1);
      return FALSE;
    }
  if ((date = catena_json_string (root, "read_on", NULL)))
    {
      g_free (self->pricing_date);
      self->pricing_date = g_strdup (date);
    }
  if (json_object_has_member (root, "source"))
    {
      g_free (self->pricing_source);
      self->pricing_source =
        g_strdup (catena_json_string (root, "source", ""));
    }
  return TRUE;
}

static int
compare_strings (gconstpointer a, gconstpointer b)
{
  return strcmp (*(const char **) a, *(const char **) b);
}

static GPtrArray *
sorted_keys (GHashTable *table)
{
  GPtrArray *keys = g_ptr_array_new ();
  GHashTableIter it;
  gpointer key;

  g_hash_table_iter_init (&it, table);
  while (g_hash_table_iter_next (&it, &key, NULL))
    g_ptr_array_add (keys, key);
  g_ptr_array_sort (keys, compare_strings);
  return keys;
}

JsonNode *
catena_router_to_json (CatenaRouter *self)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  g_autoptr (GPtrArray) keys = NULL;
  const char *open_class = NULL;

  g_return_val_if_fail (CATENA_IS_ROUTER (self), NULL);

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "rules");
  json_builder_begin_object (b);
  keys = sorted_keys (self->rules);
  for (guint i = 0; i < keys->len; i++)
    {
      const char *key = keys->pdata[i];
      const char *bar = strchr (key, '|');
      g_autofree char *klass = g_strndup (key, bar - key);
      Rule *r = g_hash_table_lookup (self->rules, key);

      if (g_strcmp0 (open_class, klass) != 0)
        {
          if (open_class)
            json_builder_end_object (b);
          json_builder_set_member_name (b, klass);
          json_builder_begin_object (b);
          open_class = g_intern_string (klass);
        }
      json_builder_set_member_name (b, bar + 1);
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "provider");
      json_builder_add_string_value (b, r->provider);
      json_builder_set_member_name (b, "model");
      json_builder_add_string_value (b, r->model);
      json_builder_end_object (b);
    }
  if (open_class)
    json_builder_end_object (b);
  json_builder_end_object (b);

  json_builder_set_member_name (b, "pinned");
  json_builder_begin_array (b);
  g_clear_pointer (&keys, g_ptr_array_unref);
  keys = sorted_keys (self->pinned);
  for (guint i = 0; i < keys->len; i++)
    json_builder_add_string_value (b, keys->pdata[i]);
  json_builder_end_array (b);

  json_builder_set_member_name (b, "concurrency");
  json_builder_begin_object (b);
  g_clear_pointer (&keys, g_ptr_array_unref);
  keys = sorted_keys (self->concurrency);
  for (guint i = 0; i < keys->len; i++)
    {
      json_builder_set_member_name (b, keys->pdata[i]);
      json_builder_add_int_value (
        b, GPOINTER_TO_UINT (g_hash_table_lookup (self->concurrency, keys->pdata[i])));
    }
  json_builder_end_object (b);

  json_builder_set_member_name (b, "pricing");
  json_builder_begin_object (b);
  if (self->pricing_date)
    {
      json_builder_set_member_name (b, "read_on");
      json_builder_add_string_value (b, self->pricing_date);
    }
  if (self->pricing_source)
    {
      json_builder_set_member_name (b, "source");
      json_builder_add_string_value (b, self->pricing_source);
    }
  json_builder_set_member_name (b, "prices");
  json_builder_begin_array (b);
  g_clear_pointer (&keys, g_ptr_array_unref);
  keys = sorted_keys (self->prices);
  for (guint i = 0; i < keys->len; i++)
    {
      const char *key = keys->pdata[i];
      const char *bar = strchr (key, '|');
      g_autofree char *provider = g_strndup (key, bar - key);
      Price *p = g_hash_table_lookup (self->prices, key);

      json_builder_begin_object (b);
      json_builder_set_member_name (b, "provider");
      json_builder_add_string_value (b, provider);
      json_builder_set_member_name (b, "model");
      json_builder_add_string_value (b, bar + 1);
      json_builder_set_member_name (b, "per_image");
      json_builder_add_double_value (b, p->per_image);
      json_builder_set_member_name (b, "per_megapixel");
      json_builder_add_double_value (b, p->per_mp);
      json_builder_end_object (b);
    }
  json_builder_end_array (b);
  json_builder_end_object (b);
  json_builder_end_object (b);
  return json_builder_get_root (b);
}

void
catena_router_set_rule (CatenaRouter *self,
                        int asset_class,
                        const char *stage_kind,
                        const char *provider,
                        const char *model)
{
  Rule *r;

  g_return_if_fail (CATENA_IS_ROUTER (self));
  g_return_if_fail (asset_class >= -1 && asset_class < (int) G_N_ELEMENTS (class_names));
  g_return_if_fail (stage_kind != NULL && provider != NULL);

  r = g_new0 (Rule, 1);
  r->provider = g_strdup (provider);
  r->model = g_strdup (model ? model : "");
  g_hash_table_replace (self->rules, rule_key (asset_class, stage_kind), r);
}

gboolean
catena_router_lookup_rule (CatenaRouter *self,
                           CatenaAssetKind asset_class,
                           const char *stage_kind,
                           const char **provider,
                           const char **model)
{
  g_autofree char *exact = rule_key (asset_class, stage_kind);
  g_autofree char *any = rule_key (-1, stage_kind);
  Rule *r;

  g_return_val_if_fail (CATENA_IS_ROUTER (self), FALSE);

  r = g_hash_table_lookup (self->rules, exact);
  if (r == NULL)
    r = g_hash_table_lookup (self->rules, any);
  if (r == NULL)
    return FALSE;
  if (provider)
    *provider = r->provider;
  if (model)
    *model = r->model;
  return TRUE;
}

void
catena_router_pin_stage (CatenaRouter *self, const char *stage_id)
{
  g_return_if_fail (CATENA_IS_ROUTER (self));
  g_hash_table_add (self->pinned, g_strdup (stage_id));
}

/* The provider a freshly made stage of this kind has (generate: fal, image stages: local). */
static const char *
default_provider (const char *kind)
{
  static GMutex lock;
  static GHashTable *defaults;
  const char *provider;

  g_mutex_lock (&lock);
  if (defaults == NULL)
    defaults = g_hash_table_new (g_str_hash, g_str_equal);
  provider = g_hash_table_lookup (defaults, kind);
  if (provider == NULL)
    {
      g_autoptr (CatenaStage) stage = catena_stage_new (kind, NULL);
      provider = g_intern_string (stage ? catena_stage_get_provider (stage) : "local");
      g_hash_table_insert (defaults, (gpointer) g_intern_string (kind), (gpointer) provider);
    }
  g_mutex_unlock (&lock);
  return provider;
}

gboolean
catena_router_stage_is_pinned (CatenaRouter *self, CatenaStage *stage)
{
  const char *model = catena_stage_get_model (stage);

  g_return_val_if_fail (CATENA_IS_ROUTER (self), TRUE);

  if (catena_stage_get_id (stage) && g_hash_table_contains (self->pinned,
                                                             catena_stage_get_id (stage)))
    return TRUE;
  if (model && model[0])
    return TRUE;
  return g_strcmp0 (catena_stage_get_provider (stage),
                    default_provider (catena_stage_get_kind (stage))) != 0;
}

CatenaChain *
catena_router_route_chain (CatenaRouter *self, CatenaChain *chain, CatenaAssetKind asset_class)
{
  CatenaChain *copy;

  g_return_val_if_fail (CATENA_IS_ROUTER (self), NULL);
  g_return_val_if_fail (CATENA_IS_CHAIN (chain), NULL);

  copy = catena_chain_duplicate (chain);
  for (guint i = 0; i < catena_chain_get_n_stages (copy); i++)
    {
      CatenaStage *original = catena_chain_get_stage (chain, i);
      CatenaStage *stage = catena_chain_get_stage (copy, i);
      const char *provider, *model;

      if (catena_router_stage_is_pinned (self, original))
        continue;
      if (catena_router_lookup_rule (self, asset_class, catena_stage_get_kind (stage), &provider,
                                     &model))
        {
          catena_stage_set_provider (stage, provider);
          catena_stage_set_model (stage, model);
        }
    }
  return copy;
}

static char *
price_key (const char *provider, const char *model)
{
  return g_strdup_printf ("%s|%s", provider, model && model[0] ? model : "*");
}

void
catena_router_set_price (CatenaRouter *self,
                         const char *provider,
                         const char *model,
                         double per_image,
                         double per_megapixel)
{
  Price *p;

  g_return_if_fail (CATENA_IS_ROUTER (self));
  g_return_if_fail (provider != NULL);

  p = g_new0 (Price, 1);
  p->per_image = per_image;
  p->per_mp = per_megapixel;
  g_hash_table_replace (self->prices, price_key (provider, model), p);
}

const char *
catena_router_get_pricing_date (CatenaRouter *self)
{
  g_return_val_if_fail (CATENA_IS_ROUTER (self), NULL);
  return self->pricing_date;
}

double
catena_router_estimate (CatenaRouter *self,
                        const char *provider,
                        const char *model,
                        const char *stage_kind,
                        int width,
                        int height,
                        guint n_images)
{
  CatenaProvider *p = catena_provider_get (provider);
  g_autofree char *exact = NULL;
  g_autofree char *any = NULL;
  Price *price;
  double mp = 1.0;

  g_return_val_if_fail (CATENA_IS_ROUTER (self), 0);

  if (g_strcmp0 (provider, "local") == 0)
    return 0;
  if ((model == NULL || model[0] == '\0') && p && stage_kind)
    model = catena_provider_get_default_model (p, stage_kind);
  n_images = MAX (n_images, 1);
  exact = price_key (provider, model);
  any = price_key (provider, NULL);
  if (!(price = g_hash_table_lookup (self->prices, exact)))
    price = g_hash_table_lookup (self->prices, any);
  if (price == NULL && p != NULL)
    {
      g_autoptr (CatenaProviderRequest) req = catena_provider_request_new (stage_kind);
      req->model = g_strdup (model);
      req->width = width;
      req->height = height;
      req->n_images = n_images;
      return catena_provider_estimate_cost (p, req);
    }
  if (price == NULL)
    return 0;
  if (width > 0 && height > 0)
    mp = MAX (1.0, ceil ((double) width * height / 1e6));
  return n_images * (price->per_image + price->per_mp * mp);
}

void
catena_router_set_concurrency (CatenaRouter *self, const char *provider, guint limit)
{
  g_return_if_fail (CATENA_IS_ROUTER (self));
  g_hash_table_replace (self->concurrency, g_strdup (provider), GUINT_TO_POINTER (MAX (1, limit)));
}

guint
catena_router_get_concurrency (CatenaRouter *self, const char *provider)
{
  gpointer v;

  g_return_val_if_fail (CATENA_IS_ROUTER (self), 1);
  if (g_hash_table_lookup_extended (self->concurrency, provider, NULL, &v))
    return GPOINTER_TO_UINT (v);
  if (g_strcmp0 (provider, "local") == 0)
    return CLAMP (g_get_num_processors (), 1, 8);
  if (g_strcmp0 (provider, "fal") == 0)
    return 8;
  if (g_strcmp0 (provider, "openai") == 0)
    return 4;
  return 1;
}

gboolean
catena_stage_is_remote_call (CatenaStage *stage)
{
  const char *name = catena_stage_get_provider (stage);
  CatenaProvider *p;

  if (name == NULL || g_str_equal (name, "local") || !(p = catena_provider_get (name)))
    return FALSE;
  return catena_provider_supports (p, catena_stage_get_kind (stage));
}

static gboolean
get_number (CatenaStage *stage, const char *name, double *out)
{
  GParamSpec *pspec = g_object_class_find_property (G_OBJECT_GET_CLASS (stage), name);
  g_auto (GValue) v = G_VALUE_INIT;

  if (pspec == NULL)
    return FALSE;
  g_value_init (&v, G_TYPE_DOUBLE);
  {
    g_auto (GValue) raw = G_VALUE_INIT;
    g_value_init (&raw, pspec->value_type);
    g_object_get_property (G_OBJECT (stage), name, &raw);
    if (!g_value_transform (&raw, &v))
      return FALSE;
  }
  *out = g_value_get_double (&v);
  return TRUE;
}

void
catena_stage_estimate_output (CatenaStage *stage,
                              CatenaAsset *asset,
                              int in_width,
                              int in_height,
                              int *out_width,
                              int *out_height,
                              guint *n_images)
{
  double v;
  int w = in_width, h = in_height;

  *n_images = 1;
  if (CATENA_IS_STAGE_GENERATE (stage))
    {
      CatenaStageContext ctx = { .asset = asset };
      catena_stage_generate_get_size (CATENA_STAGE_GENERATE (stage), &ctx, &w, &h);
      if (get_number (stage, "candidates", &v))
        *n_images = MAX (1, (guint) v);
    }
  else if ((w <= 0 || h <= 0) && asset)
    {
      /* No input size known: assume a square at the class's export size. */
      w = h = catena_asset_class_get_long_edge (catena_asset_get_asset_class (asset));
    }
  if (g_str_equal (catena_stage_get_kind (stage), "upscale") && get_number (stage, "factor", &v))
    {
      w = (int) lround (w * v);
      h = (int) lround (h * v);
    }
  *out_width = w;
  *out_height = h;
}

double
catena_router_estimate_stage (CatenaRouter *self,
                              CatenaStage *stage,
                              CatenaAsset *asset,
                              int in_width,
                              int in_height)
{
  int w, h;
  guint n;

  if (!catena_stage_is_remote_call (stage))
    return 0;
  catena_stage_estimate_output (stage, asset, in_width, in_height, &w, &h, &n);
  return catena_router_estimate (self, catena_stage_get_provider (stage),
                                 catena_stage_get_model (stage), catena_stage_get_kind (stage), w,
                                 h, n);
}
