/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <glib/gi18n-lib.h>
#include <string.h>

#include "catena-chain.h"
#include "catena-error.h"
#include "catena-json-private.h"

struct _CatenaChain
{
  GObject parent_instance;
  GPtrArray *stages;
};

static void list_model_iface_init (GListModelInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (CatenaChain, catena_chain, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (G_TYPE_LIST_MODEL, list_model_iface_init))

enum {
  STAGE_CHANGED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static GType
get_item_type (GListModel *model)
{
  return CATENA_TYPE_STAGE;
}

static guint
get_n_items (GListModel *model)
{
  return CATENA_CHAIN (model)->stages->len;
}

static gpointer
get_item (GListModel *model, guint position)
{
  CatenaChain *self = CATENA_CHAIN (model);

  if (position >= self->stages->len)
    return NULL;
  return g_object_ref (g_ptr_array_index (self->stages, position));
}

static void
list_model_iface_init (GListModelInterface *iface)
{
  iface->get_item_type = get_item_type;
  iface->get_n_items = get_n_items;
  iface->get_item = get_item;
}

static void
on_stage_notify (CatenaStage *stage, GParamSpec *pspec, CatenaChain *self)
{
  g_signal_emit (self, signals[STAGE_CHANGED], 0, stage, pspec);
}

/* A stage may sit in more than one chain (a snapshot, a loaded chain being moved into a
 * project): disconnect only this chain's handler. */
static void
release_stage (CatenaChain *self, CatenaStage *stage)
{
  g_signal_handlers_disconnect_by_func (stage, on_stage_notify, self);
  g_object_unref (stage);
}

static void
catena_chain_finalize (GObject *object)
{
  CatenaChain *self = CATENA_CHAIN (object);

  for (guint i = 0; i < self->stages->len; i++)
    release_stage (self, g_ptr_array_index (self->stages, i));
  g_ptr_array_unref (self->stages);
  G_OBJECT_CLASS (catena_chain_parent_class)->finalize (object);
}

static void
catena_chain_class_init (CatenaChainClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = catena_chain_finalize;

  signals[STAGE_CHANGED] = g_signal_new ("stage-changed", G_TYPE_FROM_CLASS (klass),
                                         G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL, G_TYPE_NONE, 2,
                                         CATENA_TYPE_STAGE, G_TYPE_PARAM);
}

static void
catena_chain_init (CatenaChain *self)
{
  self->stages = g_ptr_array_new ();
}

CatenaChain *
catena_chain_new (void)
{
  return g_object_new (CATENA_TYPE_CHAIN, NULL);
}

guint
catena_chain_get_n_stages (CatenaChain *self)
{
  g_return_val_if_fail (CATENA_IS_CHAIN (self), 0);
  return self->stages->len;
}

CatenaStage *
catena_chain_get_stage (CatenaChain *self, guint position)
{
  g_return_val_if_fail (CATENA_IS_CHAIN (self), NULL);
  if (position >= self->stages->len)
    return NULL;
  return g_ptr_array_index (self->stages, position);
}

CatenaStage *
catena_chain_find_stage (CatenaChain *self, const char *id, guint *position)
{
  g_return_val_if_fail (CATENA_IS_CHAIN (self), NULL);

  for (guint i = 0; i < self->stages->len; i++)
    {
      CatenaStage *stage = g_ptr_array_index (self->stages, i);
      if (g_strcmp0 (catena_stage_get_id (stage), id) == 0)
        {
          if (position)
            *position = i;
          return stage;
        }
    }
  return NULL;
}

char *
catena_chain_make_unique_id (CatenaChain *self, const char *kind)
{
  g_return_val_if_fail (CATENA_IS_CHAIN (self), NULL);

  if (catena_chain_find_stage (self, kind, NULL) == NULL)
    return g_strdup (kind);
  for (guint n = 2;; n++)
    {
      g_autofree char *id = g_strdup_printf ("%s-%u", kind, n);
      if (catena_chain_find_stage (self, id, NULL) == NULL)
        return g_steal_pointer (&id);
    }
}

void
catena_chain_insert (CatenaChain *self, guint position, CatenaStage *stage)
{
  CatenaStage *clash;
  const char *id;

  g_return_if_fail (CATENA_IS_CHAIN (self));
  g_return_if_fail (CATENA_IS_STAGE (stage));

  position = MIN (position, self->stages->len);
  id = catena_stage_get_id (stage);
  clash = id ? catena_chain_find_stage (self, id, NULL) : NULL;
  if (id == NULL || *id == '\0' || (clash != NULL && clash != stage))
    {
      g_autofree char *unique = catena_chain_make_unique_id (self, catena_stage_get_kind (stage));
      catena_stage_set_id (stage, unique);
    }

  g_ptr_array_insert (self->stages, position, g_object_ref (stage));
  g_signal_connect (stage, "notify", G_CALLBACK (on_stage_notify), self);
  g_list_model_items_changed (G_LIST_MODEL (self), position, 0, 1);
}

void
catena_chain_append (CatenaChain *self, CatenaStage *stage)
{
  catena_chain_insert (self, G_MAXUINT, stage);
}

void
catena_chain_remove (CatenaChain *self, guint position)
{
  g_return_if_fail (CATENA_IS_CHAIN (self));
  g_return_if_fail (position < self->stages->len);

  release_stage (self, g_ptr_array_steal_index (self->stages, position));
  g_list_model_items_changed (G_LIST_MODEL (self), position, 1, 0);
}

void
catena_chain_move (CatenaChain *self, guint from, guint to)
{
  gpointer stage;
  guint lo, n;

  g_return_if_fail (CATENA_IS_CHAIN (self));
  g_return_if_fail (from < self->stages->len);

  to = MIN (to, self->stages->len - 1);
  if (from == to)
    return;

  stage = g_ptr_array_steal_index (self->stages, from);
  g_ptr_array_insert (self->stages, to, stage);

  /* One span covering both ends keeps views' selection logic simple and is exact. */
  lo = MIN (from, to);
  n = MAX (from, to) - lo + 1;
  g_list_model_items_changed (G_LIST_MODEL (self), lo, n, n);
}

CatenaChain *
catena_chain_duplicate (CatenaChain *self)
{
  CatenaChain *copy = catena_chain_new ();

  for (guint i = 0; i < self->stages->len; i++)
    {
      g_autoptr (CatenaStage) stage = catena_stage_duplicate (g_ptr_array_index (self->stages, i));
      catena_chain_append (copy, stage);
    }
  return copy;
}

JsonNode *
catena_chain_to_json (CatenaChain *self)
{
  JsonArray *array = json_array_sized_new (self->stages->len);
  JsonNode *node = json_node_new (JSON_NODE_ARRAY);

  for (guint i = 0; i < self->stages->len; i++)
    json_array_add_element (array, catena_stage_to_json (g_ptr_array_index (self->stages, i)));
  json_node_take_array (node, array);
  return node;
}

CatenaChain *
catena_chain_new_from_json (JsonNode *node, GError **error)
{
  g_autoptr (CatenaChain) chain = catena_chain_new ();
  JsonArray *array;

  if (node == NULL || !JSON_NODE_HOLDS_ARRAY (node))
    {
      g_set_error (error, CATENA_PROJECT_ERROR, CATENA_PROJECT_ERROR_INVALID,
                   _("The chain must be a JSON array of stages."));
      return NULL;
    }
  array = json_node_get_array (node);
  for (guint i = 0; i < json_array_get_length (array); i++)
    {
      g_autoptr (CatenaStage) stage = NULL;
      g_autoptr (GError) local_error = NULL;
      const char *id;

      stage = catena_stage_new_from_json (json_array_get_element (array, i), &local_error);
      if (stage == NULL)
        {
          g_set_error (error, local_error->domain, local_error->code, _("Stage %u: %s"), i + 1,
                       local_error->message);
          return NULL;
        }
      id = catena_stage_get_id (stage);
      if (id != NULL && catena_chain_find_stage (chain, id, NULL) != NULL)
        {
          g_set_error (error, CATENA_PROJECT_ERROR, CATENA_PROJECT_ERROR_INVALID,
                       _("Two stages share the id “%s”."), id);
          return NULL;
        }
      catena_chain_append (chain, stage);
    }
  return g_steal_pointer (&chain);
}

CatenaChain *
catena_chain_load (GFile *file, GError **error)
{
  g_autoptr (JsonNode) root = NULL;
  JsonObject *obj;

  root = catena_json_load_document (file, "catena-chain", CATENA_CHAIN_FORMAT_VERSION, error);
  if (root == NULL)
    return NULL;
  obj = json_node_get_object (root);
  return catena_chain_new_from_json (json_object_get_member (obj, "stages"), error);
}

gboolean
catena_chain_save (CatenaChain *self, GFile *file, GError **error)
{
  g_autoptr (JsonNode) root = json_node_new (JSON_NODE_OBJECT);
  JsonObject *obj = json_object_new ();

  json_object_set_string_member (obj, "format", "catena-chain");
  json_object_set_int_member (obj, "version", CATENA_CHAIN_FORMAT_VERSION);
  json_object_set_member (obj, "stages", catena_chain_to_json (self));
  json_node_take_object (root, obj);
  return catena_json_save_document (root, file, error);
}

gboolean
catena_chain_apply_setting (CatenaChain *self, const char *assignment, GError **error)
{
  g_autofree char *lhs = NULL;
  const char *eq, *dot, *value;
  CatenaStage *stage = NULL;

  g_return_val_if_fail (CATENA_IS_CHAIN (self), FALSE);

  eq = strchr (assignment, '=');
  if (eq == NULL)
    goto bad;
  lhs = g_strndup (assignment, eq - assignment);
  value = eq + 1;
  dot = strchr (lhs, '.');
  if (dot == NULL || dot == lhs || dot[1] == '\0')
    goto bad;
  lhs[dot - lhs] = '\0';

  stage = catena_chain_find_stage (self, lhs, NULL);
  if (stage == NULL)
    {
      /* Accept a kind when exactly one stage has it. */
      guint matches = 0;
      for (guint i = 0; i < self->stages->len; i++)
        if (g_strcmp0 (catena_stage_get_kind (g_ptr_array_index (self->stages, i)), lhs) == 0)
          stage = g_ptr_array_index (self->stages, i), matches++;
      if (matches != 1)
        {
          g_set_error (error, CATENA_PROJECT_ERROR, CATENA_PROJECT_ERROR_NOT_FOUND,
                       matches ? _("Several stages are %s stages: name one by its id.")
                               : _("The chain has no stage “%s”."),
                       lhs);
          return FALSE;
        }
    }
  if (g_str_equal (lhs + (dot - lhs) + 1, "provider"))
    return (catena_stage_set_provider (stage, value), TRUE);
  if (g_str_equal (lhs + (dot - lhs) + 1, "model"))
    return (catena_stage_set_model (stage, value), TRUE);
  return catena_stage_set_param_from_string (stage, lhs + (dot - lhs) + 1, value, error);

bad:
  g_set_error (error, CATENA_STAGE_ERROR, CATENA_STAGE_ERROR_INVALID_PARAMETER,
               _("“%s” is not a setting: write stage.parameter=value, e.g. recolor.hue=30."),
               assignment);
  return FALSE;
}
