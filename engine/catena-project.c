/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <glib/gi18n-lib.h>
#include <string.h>

#include "catena-util-private.h"
#include "catena-error.h"
#include "catena-json-private.h"
#include "catena-project.h"

struct _CatenaProject
{
  GObject parent_instance;

  GFile *file;
  char *name;
  char *output_dir;
  CatenaChain *chain;
  GListStore *assets;
  JsonObject *sections;
};

G_DEFINE_FINAL_TYPE (CatenaProject, catena_project, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_FILE,
  PROP_NAME,
  PROP_OUTPUT_DIR,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

enum {
  SECTION_CHANGED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static void
catena_project_finalize (GObject *object)
{
  CatenaProject *self = CATENA_PROJECT (object);

  g_clear_object (&self->file);
  g_clear_object (&self->chain);
  g_clear_object (&self->assets);
  g_clear_pointer (&self->sections, json_object_unref);
  g_free (self->name);
  g_free (self->output_dir);

  G_OBJECT_CLASS (catena_project_parent_class)->finalize (object);
}

static void
catena_project_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  CatenaProject *self = CATENA_PROJECT (object);

  switch (prop_id)
    {
    case PROP_FILE:
      g_value_set_object (value, self->file);
      break;
    case PROP_NAME:
      g_value_set_string (value, self->name);
      break;
    case PROP_OUTPUT_DIR:
      g_value_set_string (value, self->output_dir);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
catena_project_set_property (GObject *object,
                             guint prop_id,
                             const GValue *value,
                             GParamSpec *pspec)
{
  CatenaProject *self = CATENA_PROJECT (object);

  switch (prop_id)
    {
    case PROP_NAME:
      catena_project_set_name (self, g_value_get_string (value));
      break;
    case PROP_OUTPUT_DIR:
      catena_project_set_output_dir (self, g_value_get_string (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
catena_project_class_init (CatenaProjectClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = catena_project_finalize;
  object_class->get_property = catena_project_get_property;
  object_class->set_property = catena_project_set_property;

  properties[PROP_FILE] =
    g_param_spec_object ("file", "File", "Where the project was loaded from or saved to",
                         G_TYPE_FILE, G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  properties[PROP_NAME] =
    g_param_spec_string ("name", "Name", "Name of the project", NULL,
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_OUTPUT_DIR] =
    g_param_spec_string ("output-dir", "Output folder",
                         "Where exports go, relative to the project file", "out",
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  g_object_class_install_properties (object_class, N_PROPS, properties);

  signals[SECTION_CHANGED] =
    g_signal_new ("section-changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                  NULL, G_TYPE_NONE, 1, G_TYPE_STRING);
}

static void
catena_project_init (CatenaProject *self)
{
  self->chain = catena_chain_new ();
  self->assets = g_list_store_new (CATENA_TYPE_ASSET);
  self->output_dir = g_strdup ("out");
  self->sections = json_object_new ();
}

CatenaProject *
catena_project_new (void)
{
  return g_object_new (CATENA_TYPE_PROJECT, NULL);
}

GFile *
catena_project_get_file (CatenaProject *self)
{
  g_return_val_if_fail (CATENA_IS_PROJECT (self), NULL);
  return self->file;
}

void
catena_project_set_file (CatenaProject *self, GFile *file)
{
  g_return_if_fail (CATENA_IS_PROJECT (self));
  if (self->file == file || (self->file && file && g_file_equal (self->file, file)))
    return;
  g_set_object (&self->file, file);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_FILE]);
}

char *
catena_project_dup_base_dir (CatenaProject *self)
{
  g_autoptr (GFile) parent = NULL;

  g_return_val_if_fail (CATENA_IS_PROJECT (self), NULL);

  if (self->file && (parent = g_file_get_parent (self->file)))
    return g_file_get_path (parent);
  return g_get_current_dir ();
}

const char *
catena_project_get_name (CatenaProject *self)
{
  g_return_val_if_fail (CATENA_IS_PROJECT (self), NULL);
  return self->name;
}

void
catena_project_set_name (CatenaProject *self, const char *name)
{
  g_return_if_fail (CATENA_IS_PROJECT (self));
  if (catena_set_str (&self->name, name))
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_NAME]);
}

const char *
catena_project_get_output_dir (CatenaProject *self)
{
  g_return_val_if_fail (CATENA_IS_PROJECT (self), NULL);
  return self->output_dir;
}

void
catena_project_set_output_dir (CatenaProject *self, const char *output_dir)
{
  g_return_if_fail (CATENA_IS_PROJECT (self));
  if (catena_set_str (&self->output_dir, output_dir))
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_OUTPUT_DIR]);
}

CatenaChain *
catena_project_get_chain (CatenaProject *self)
{
  g_return_val_if_fail (CATENA_IS_PROJECT (self), NULL);
  return self->chain;
}

GListModel *
catena_project_get_assets (CatenaProject *self)
{
  g_return_val_if_fail (CATENA_IS_PROJECT (self), NULL);
  return G_LIST_MODEL (self->assets);
}

GPtrArray *
catena_project_select_assets (CatenaProject *self, GPtrArray *assets)
{
  GPtrArray *selected = g_ptr_array_new_with_free_func (g_object_unref);

  g_return_val_if_fail (CATENA_IS_PROJECT (self), selected);
  if (assets != NULL)
    for (guint i = 0; i < assets->len; i++)
      g_ptr_array_add (selected, g_object_ref (g_ptr_array_index (assets, i)));
  else
    for (guint i = 0; i < g_list_model_get_n_items (G_LIST_MODEL (self->assets)); i++)
      g_ptr_array_add (selected, g_list_model_get_item (G_LIST_MODEL (self->assets), i));
  return selected;
}

CatenaAsset *
catena_project_find_asset (CatenaProject *self, const char *id)
{
  guint n = g_list_model_get_n_items (G_LIST_MODEL (self->assets));

  for (guint i = 0; i < n; i++)
    {
      g_autoptr (CatenaAsset) asset = g_list_model_get_item (G_LIST_MODEL (self->assets), i);
      if (g_strcmp0 (catena_asset_get_id (asset), id) == 0)
        return asset; /* the store keeps it alive */
    }
  return NULL;
}

void
catena_project_add_asset (CatenaProject *self, CatenaAsset *asset)
{
  g_return_if_fail (CATENA_IS_PROJECT (self));
  g_return_if_fail (catena_project_find_asset (self, catena_asset_get_id (asset)) == NULL);
  g_list_store_append (self->assets, asset);
}

void
catena_project_remove_asset (CatenaProject *self, CatenaAsset *asset)
{
  guint position;

  g_return_if_fail (CATENA_IS_PROJECT (self));
  if (g_list_store_find (self->assets, asset, &position))
    g_list_store_remove (self->assets, position);
}

char *
catena_project_make_asset_id (CatenaProject *self, const char *hint)
{
  g_autofree char *base = NULL;
  char *dot;

  base = g_path_get_basename (hint && *hint ? hint : "asset");
  if ((dot = strrchr (base, '.')) != NULL && dot != base)
    *dot = '\0';
  g_strcanon (base, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_", '-');

  if (catena_project_find_asset (self, base) == NULL)
    return g_steal_pointer (&base);
  for (guint n = 2;; n++)
    {
      g_autofree char *id = g_strdup_printf ("%s-%u", base, n);
      if (catena_project_find_asset (self, id) == NULL)
        return g_steal_pointer (&id);
    }
}

JsonNode *
catena_project_dup_section (CatenaProject *self, const char *name)
{
  JsonNode *node;

  g_return_val_if_fail (CATENA_IS_PROJECT (self), NULL);
  node = json_object_get_member (self->sections, name);
  return node ? json_node_copy (node) : NULL;
}

void
catena_project_set_section (CatenaProject *self, const char *name, JsonNode *node)
{
  g_return_if_fail (CATENA_IS_PROJECT (self));
  g_return_if_fail (name != NULL);

  if (node == NULL)
    {
      if (!json_object_has_member (self->sections, name))
        return;
      json_object_remove_member (self->sections, name);
    }
  else
    {
      JsonNode *old = json_object_get_member (self->sections, name);
      if (old != NULL && json_node_equal (old, node))
        return;
      json_object_set_member (self->sections, name, json_node_copy (node));
    }
  g_signal_emit (self, signals[SECTION_CHANGED], 0, name);
}

JsonNode *
catena_project_to_json (CatenaProject *self)
{
  JsonNode *root = json_node_new (JSON_NODE_OBJECT);
  JsonObject *obj = json_object_new ();
  JsonObject *settings = json_object_new ();
  JsonArray *assets = json_array_new ();
  guint n = g_list_model_get_n_items (G_LIST_MODEL (self->assets));

  json_object_set_string_member (obj, "format", "catena-project");
  json_object_set_int_member (obj, "version", CATENA_PROJECT_FORMAT_VERSION);
  if (self->name)
    json_object_set_string_member (obj, "name", self->name);
  json_object_set_string_member (settings, "output-dir", self->output_dir);
  json_object_set_object_member (obj, "settings", settings);
  json_object_set_member (obj, "chain", catena_chain_to_json (self->chain));
  for (guint i = 0; i < n; i++)
    {
      g_autoptr (CatenaAsset) asset = g_list_model_get_item (G_LIST_MODEL (self->assets), i);
      json_array_add_element (assets, catena_asset_to_json (asset));
    }
  json_object_set_array_member (obj, "assets", assets);
  if (json_object_get_size (self->sections) > 0)
    json_object_set_object_member (obj, "sections", json_object_ref (self->sections));
  json_node_take_object (root, obj);
  return root;
}

CatenaProject *
catena_project_new_from_json (JsonNode *node, GError **error)
{
  g_autoptr (CatenaProject) project = catena_project_new ();
  g_autoptr (CatenaChain) chain = NULL;
  JsonObject *obj;
  JsonNode *member;

  if (node == NULL || !JSON_NODE_HOLDS_OBJECT (node))
    {
      g_set_error (error, CATENA_PROJECT_ERROR, CATENA_PROJECT_ERROR_INVALID,
                   _("A project must be a JSON object."));
      return NULL;
    }
  obj = json_node_get_object (node);

  member = json_object_get_member (obj, "name");
  if (member && JSON_NODE_HOLDS_VALUE (member) &&
      json_node_get_value_type (member) == G_TYPE_STRING)
    project->name = g_strdup (json_node_get_string (member));

  member = json_object_get_member (obj, "settings");
  if (member && !JSON_NODE_HOLDS_NULL (member))
    {
      JsonNode *out;
      if (!JSON_NODE_HOLDS_OBJECT (member))
        {
          g_set_error (error, CATENA_PROJECT_ERROR, CATENA_PROJECT_ERROR_INVALID,
                       _("The project’s “settings” must be a JSON object."));
          return NULL;
        }
      out = json_object_get_member (json_node_get_object (member), "output-dir");
      if (out && JSON_NODE_HOLDS_VALUE (out) && json_node_get_value_type (out) == G_TYPE_STRING)
        catena_set_str (&project->output_dir, json_node_get_string (out));
    }

  member = json_object_get_member (obj, "chain");
  if (member == NULL)
    {
      g_set_error (error, CATENA_PROJECT_ERROR, CATENA_PROJECT_ERROR_INVALID,
                   _("The project has no chain."));
      return NULL;
    }
  if (!(chain = catena_chain_new_from_json (member, error)))
    return NULL;
  /* Move the stages into the project's own chain so views bound to it stay valid. */
  for (guint i = 0; i < catena_chain_get_n_stages (chain); i++)
    catena_chain_append (project->chain, catena_chain_get_stage (chain, i));

  member = json_object_get_member (obj, "assets");
  if (member != NULL && !JSON_NODE_HOLDS_NULL (member))
    {
      JsonArray *array;

      if (!JSON_NODE_HOLDS_ARRAY (member))
        {
          g_set_error (error, CATENA_PROJECT_ERROR, CATENA_PROJECT_ERROR_INVALID,
                       _("The project’s “assets” must be a JSON array."));
          return NULL;
        }
      array = json_node_get_array (member);
      for (guint i = 0; i < json_array_get_length (array); i++)
        {
          g_autoptr (CatenaAsset) asset = NULL;

          asset = catena_asset_new_from_json (json_array_get_element (array, i), error);
          if (asset == NULL)
            return NULL;
          if (catena_project_find_asset (project, catena_asset_get_id (asset)))
            {
              g_set_error (error, CATENA_PROJECT_ERROR, CATENA_PROJECT_ERROR_INVALID,
                           _("Two assets share the id “%s”."), catena_asset_get_id (asset));
              return NULL;
            }
          g_list_store_append (project->assets, asset);
        }
    }

  member = json_object_get_member (obj, "sections");
  if (member != NULL && !JSON_NODE_HOLDS_NULL (member))
    {
      if (!JSON_NODE_HOLDS_OBJECT (member))
        {
          g_set_error (error, CATENA_PROJECT_ERROR, CATENA_PROJECT_ERROR_INVALID,
                       _("The project’s “sections” must be a JSON object."));
          return NULL;
        }
      json_object_unref (project->sections);
      project->sections = json_node_dup_object (member);
    }

  return g_steal_pointer (&project);
}

CatenaProject *
catena_project_load (GFile *file, GError **error)
{
  g_autoptr (JsonNode) root = NULL;
  CatenaProject *project;

  g_return_val_if_fail (G_IS_FILE (file), NULL);

  root = catena_json_load_document (file, "catena-project", CATENA_PROJECT_FORMAT_VERSION, error);
  if (root == NULL)
    return NULL;
  if (!(project = catena_project_new_from_json (root, error)))
    return NULL;
  project->file = g_object_ref (file);
  return project;
}

gboolean
catena_project_save (CatenaProject *self, GFile *file, GError **error)
{
  g_autoptr (JsonNode) root = NULL;

  g_return_val_if_fail (CATENA_IS_PROJECT (self), FALSE);
  g_return_val_if_fail (G_IS_FILE (file), FALSE);

  root = catena_project_to_json (self);
  if (!catena_json_save_document (root, file, error))
    return FALSE;
  catena_project_set_file (self, file);
  return TRUE;
}
