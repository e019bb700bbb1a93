/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <glib/gi18n-lib.h>

#include "catena-util-private.h"
#include "catena-asset.h"
#include "catena-enums.h"
#include "catena-error.h"

struct _CatenaAsset
{
  GObject parent_instance;

  char *id;
  char *name;
  char *source;
  char *prompt;
  CatenaAssetKind asset_class;
};

G_DEFINE_FINAL_TYPE (CatenaAsset, catena_asset, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_ID,
  PROP_NAME,
  PROP_SOURCE,
  PROP_PROMPT,
  PROP_ASSET_CLASS,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static void
catena_asset_finalize (GObject *object)
{
  CatenaAsset *self = CATENA_ASSET (object);

  g_free (self->id);
  g_free (self->name);
  g_free (self->source);
  g_free (self->prompt);

  G_OBJECT_CLASS (catena_asset_parent_class)->finalize (object);
}

static void
catena_asset_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  CatenaAsset *self = CATENA_ASSET (object);

  switch (prop_id)
    {
    case PROP_ID:
      g_value_set_string (value, self->id);
      break;
    case PROP_NAME:
      g_value_set_string (value, catena_asset_get_name (self));
      break;
    case PROP_SOURCE:
      g_value_set_string (value, self->source);
      break;
    case PROP_PROMPT:
      g_value_set_string (value, self->prompt);
      break;
    case PROP_ASSET_CLASS:
      g_value_set_enum (value, self->asset_class);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
catena_asset_set_property (GObject *object,
                           guint prop_id,
                           const GValue *value,
                           GParamSpec *pspec)
{
  CatenaAsset *self = CATENA_ASSET (object);

  switch (prop_id)
    {
    case PROP_ID:
      self->id = g_value_dup_string (value);
      break;
    case PROP_NAME:
      catena_asset_set_name (self, g_value_get_string (value));
      break;
    case PROP_SOURCE:
      catena_asset_set_source (self, g_value_get_string (value));
      break;
    case PROP_PROMPT:
      catena_asset_set_prompt (self, g_value_get_string (value));
      break;
    case PROP_ASSET_CLASS:
      catena_asset_set_asset_class (self, g_value_get_enum (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
catena_asset_class_init (CatenaAssetClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = catena_asset_finalize;
  object_class->get_property = catena_asset_get_property;
  object_class->set_property = catena_asset_set_property;

  properties[PROP_ID] =
    g_param_spec_string ("id", "Id", "Identifier of the asset, unique in its project", NULL,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);
  properties[PROP_NAME] =
    g_param_spec_string ("name", "Name", "Name shown to people", NULL,
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_SOURCE] =
    g_param_spec_string ("source", "Source", "Path of the source photo", NULL,
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_PROMPT] =
    g_param_spec_string ("prompt", "Prompt", "Text prompt for generated assets", NULL,
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_ASSET_CLASS] =
    g_param_spec_enum ("asset-class", "Class", "What the asset is for", CATENA_TYPE_ASSET_KIND,
                       CATENA_ASSET_CLASS_FEED,
                       G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
catena_asset_init (CatenaAsset *self)
{
  self->asset_class = CATENA_ASSET_CLASS_FEED;
}

CatenaAsset *
catena_asset_new (const char *id)
{
  g_return_val_if_fail (id != NULL && *id != '\0', NULL);
  return g_object_new (CATENA_TYPE_ASSET, "id", id, NULL);
}

const char *
catena_asset_get_id (CatenaAsset *self)
{
  g_return_val_if_fail (CATENA_IS_ASSET (self), NULL);
  return self->id;
}

const char *
catena_asset_get_name (CatenaAsset *self)
{
  g_return_val_if_fail (CATENA_IS_ASSET (self), NULL);
  return self->name ? self->name : self->id;
}

void
catena_asset_set_name (CatenaAsset *self, const char *name)
{
  g_return_if_fail (CATENA_IS_ASSET (self));
  if (catena_set_str (&self->name, name))
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_NAME]);
}

const char *
catena_asset_get_source (CatenaAsset *self)
{
  g_return_val_if_fail (CATENA_IS_ASSET (self), NULL);
  return self->source;
}

void
catena_asset_set_source (CatenaAsset *self, const char *source)
{
  g_return_if_fail (CATENA_IS_ASSET (self));
  if (catena_set_str (&self->source, source))
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SOURCE]);
}

const char *
catena_asset_get_prompt (CatenaAsset *self)
{
  g_return_val_if_fail (CATENA_IS_ASSET (self), NULL);
  return self->prompt;
}

void
catena_asset_set_prompt (CatenaAsset *self, const char *prompt)
{
  g_return_if_fail (CATENA_IS_ASSET (self));
  if (catena_set_str (&self->prompt, prompt))
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_PROMPT]);
}

CatenaAssetKind
catena_asset_get_asset_class (CatenaAsset *self)
{
  g_return_val_if_fail (CATENA_IS_ASSET (self), CATENA_ASSET_CLASS_FEED);
  return self->asset_class;
}

void
catena_asset_set_asset_class (CatenaAsset *self, CatenaAssetKind asset_class)
{
  g_return_if_fail (CATENA_IS_ASSET (self));
  if (self->asset_class == asset_class)
    return;
  self->asset_class = asset_class;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_ASSET_CLASS]);
}

char *
catena_asset_resolve_source (CatenaAsset *self, const char *base_dir)
{
  g_return_val_if_fail (CATENA_IS_ASSET (self), NULL);

  if (self->source == NULL)
    return NULL;
  if (g_path_is_absolute (self->source) || base_dir == NULL)
    return g_strdup (self->source);
  return g_build_filename (base_dir, self->source, NULL);
}

const char *
catena_asset_class_to_string (CatenaAssetKind asset_class)
{
  g_autoptr (GEnumClass) klass = g_type_class_ref (CATENA_TYPE_ASSET_KIND);
  GEnumValue *ev = g_enum_get_value (klass, asset_class);
  return ev ? ev->value_nick : "feed";
}

gboolean
catena_asset_class_from_string (const char *text, CatenaAssetKind *out)
{
  g_autoptr (GEnumClass) klass = g_type_class_ref (CATENA_TYPE_ASSET_KIND);
  GEnumValue *ev = text ? g_enum_get_value_by_nick (klass, text) : NULL;

  if (ev == NULL)
    return FALSE;
  *out = ev->value;
  return TRUE;
}

int
catena_asset_class_get_long_edge (CatenaAssetKind asset_class)
{
  /* Common targets: marketplace thumbnails, social feeds, 4K hero banners, 8K print. */
  switch (asset_class)
    {
    case CATENA_ASSET_CLASS_THUMBNAIL:
      return 512;
    case CATENA_ASSET_CLASS_FEED:
      return 1080;
    case CATENA_ASSET_CLASS_HERO:
      return 3840;
    case CATENA_ASSET_CLASS_PRINT:
      return 7680;
    default:
      return 1080;
    }
}

JsonNode *
catena_asset_to_json (CatenaAsset *self)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "id");
  json_builder_add_string_value (b, self->id);
  if (self->name)
    {
      json_builder_set_member_name (b, "name");
      json_builder_add_string_value (b, self->name);
    }
  if (self->source)
    {
      json_builder_set_member_name (b, "source");
      json_builder_add_string_value (b, self->source);
    }
  if (self->prompt)
    {
      json_builder_set_member_name (b, "prompt");
      json_builder_add_string_value (b, self->prompt);
    }
  json_builder_set_member_name (b, "class");
  json_builder_add_string_value (b, catena_asset_class_to_string (self->asset_class));
  json_builder_end_object (b);
  return json_builder_get_root (b);
}

static gboolean
read_string (JsonObject *obj, const char *name, const char **out, GError **error)
{
  JsonNode *node = json_object_get_member (obj, name);

  *out = NULL;
  if (node == NULL || JSON_NODE_HOLDS_NULL (node))
    return TRUE;
  if (!JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_STRING)
    {
      g_set_error (error, CATENA_PROJECT_ERROR, CATENA_PROJECT_ERROR_INVALID,
                   _("An asset’s “%s” field must be a string."), name);
      return FALSE;
    }
  *out = json_node_get_string (node);
  return TRUE;
}

CatenaAsset *
catena_asset_new_from_json (JsonNode *node, GError **error)
{
  const char *id, *name, *source, *prompt, *klass;
  CatenaAssetKind asset_class = CATENA_ASSET_CLASS_FEED;
  CatenaAsset *asset;
  JsonObject *obj;

  if (node == NULL || !JSON_NODE_HOLDS_OBJECT (node))
    {
      g_set_error (error, CATENA_PROJECT_ERROR, CATENA_PROJECT_ERROR_INVALID,
                   _("An asset must be a JSON object."));
      return NULL;
    }
  obj = json_node_get_object (node);
  if (!read_string (obj, "id", &id, error) || !read_string (obj, "name", &name, error) ||
      !read_string (obj, "source", &source, error) ||
      !read_string (obj, "prompt", &prompt, error) || !read_string (obj, "class", &klass, error))
    return NULL;
  if (id == NULL || *id == '\0')
    {
      g_set_error (error, CATENA_PROJECT_ERROR, CATENA_PROJECT_ERROR_INVALID,
                   _("An asset is missing its “id”."));
      return NULL;
    }
  if (klass != NULL && !catena_asset_class_from_string (klass, &asset_class))
    {
      g_set_error (error, CATENA_PROJECT_ERROR, CATENA_PROJECT_ERROR_INVALID,
                   _("Asset “%s” has an unknown class “%s” (use thumbnail, feed, hero or print)."),
                   id, klass);
      return NULL;
    }
  if (source == NULL && prompt == NULL)
    {
      g_set_error (error, CATENA_PROJECT_ERROR, CATENA_PROJECT_ERROR_INVALID,
                   _("Asset “%s” has neither a source photo nor a prompt."), id);
      return NULL;
    }

  asset = catena_asset_new (id);
  asset->name = g_strdup (name);
  asset->source = g_strdup (source);
  asset->prompt = g_strdup (prompt);
  asset->asset_class = asset_class;
  return asset;
}
