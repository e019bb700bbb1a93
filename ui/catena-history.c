/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include "catena-history.h"

/* Commands keep the stage objects themselves, so undoing a removal brings back the very card
 * (and its cache keys) the user saw. Parameters are kept as the engine's canonical strings,
 * which round-trip exactly. */

typedef enum
{
  COMMAND_INSERT,
  COMMAND_REMOVE,
  COMMAND_MOVE,
  COMMAND_PARAM,
  COMMAND_ROUTING, /* provider and model together: a new provider resets the model */
} CommandType;

typedef struct
{
  CommandType type;
  guint serial;
  guint position;
  guint to;
  CatenaStage *stage;
  char *name;
  char *old_value;
  char *new_value;
  char *old_model; /* COMMAND_ROUTING: old_value/new_value hold the providers */
  char *new_model;
} Command;

struct _CatenaHistory
{
  GObject parent_instance;

  CatenaChain *chain;
  GPtrArray *undo; /* of Command, oldest first */
  GPtrArray *redo; /* of Command, next to redo last */
  guint next_serial;
  guint saved_serial;
  gboolean group_open;
  gint64 group_time;
};

/* A pause longer than this between two changes of one parameter starts a new undo step. */
#define GROUP_TIMEOUT_US (1500 * 1000)

G_DEFINE_FINAL_TYPE (CatenaHistory, catena_history, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_CAN_UNDO,
  PROP_CAN_REDO,
  PROP_MODIFIED,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static void
command_free (Command *cmd)
{
  g_clear_object (&cmd->stage);
  g_free (cmd->name);
  g_free (cmd->old_value);
  g_free (cmd->new_value);
  g_free (cmd->old_model);
  g_free (cmd->new_model);
  g_free (cmd);
}

static void
catena_history_finalize (GObject *object)
{
  CatenaHistory *self = CATENA_HISTORY (object);

  g_clear_pointer (&self->undo, g_ptr_array_unref);
  g_clear_pointer (&self->redo, g_ptr_array_unref);
  g_clear_object (&self->chain);

  G_OBJECT_CLASS (catena_history_parent_class)->finalize (object);
}

static void
catena_history_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  CatenaHistory *self = CATENA_HISTORY (object);

  switch (prop_id)
    {
    case PROP_CAN_UNDO:
      g_value_set_boolean (value, catena_history_can_undo (self));
      break;
    case PROP_CAN_REDO:
      g_value_set_boolean (value, catena_history_can_redo (self));
      break;
    case PROP_MODIFIED:
      g_value_set_boolean (value, catena_history_get_modified (self));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
catena_history_class_init (CatenaHistoryClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = catena_history_finalize;
  object_class->get_property = catena_history_get_property;

  properties[PROP_CAN_UNDO] =
    g_param_spec_boolean ("can-undo", NULL, NULL, FALSE,
                          G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_CAN_REDO] =
    g_param_spec_boolean ("can-redo", NULL, NULL, FALSE,
                          G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_MODIFIED] =
    g_param_spec_boolean ("modified", NULL, NULL, FALSE,
                          G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
catena_history_init (CatenaHistory *self)
{
  self->undo = g_ptr_array_new_with_free_func ((GDestroyNotify) command_free);
  self->redo = g_ptr_array_new_with_free_func ((GDestroyNotify) command_free);
  self->next_serial = 1;
}

CatenaHistory *
catena_history_new (CatenaChain *chain)
{
  CatenaHistory *self;

  g_return_val_if_fail (CATENA_IS_CHAIN (chain), NULL);

  self = g_object_new (CATENA_TYPE_HISTORY, NULL);
  self->chain = g_object_ref (chain);
  return self;
}

CatenaChain *
catena_history_get_chain (CatenaHistory *self)
{
  g_return_val_if_fail (CATENA_IS_HISTORY (self), NULL);
  return self->chain;
}

static guint
top_serial (CatenaHistory *self)
{
  if (self->undo->len == 0)
    return 0;
  return ((Command *) g_ptr_array_index (self->undo, self->undo->len - 1))->serial;
}

typedef struct
{
  gboolean can_undo, can_redo, modified;
} State;

static State
get_state (CatenaHistory *self)
{
  return (State){ catena_history_can_undo (self), catena_history_can_redo (self),
                  catena_history_get_modified (self) };
}

static void
notify_changes (CatenaHistory *self, State before)
{
  State after = get_state (self);

  if (before.can_undo != after.can_undo)
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_CAN_UNDO]);
  if (before.can_redo != after.can_redo)
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_CAN_REDO]);
  if (before.modified != after.modified)
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_MODIFIED]);
}

static void
apply (CatenaHistory *self, Command *cmd, gboolean forward)
{
  switch (cmd->type)
    {
    case COMMAND_INSERT:
    case COMMAND_REMOVE:
      if (forward == (cmd->type == COMMAND_INSERT))
        catena_chain_insert (self->chain, cmd->position, cmd->stage);
      else
        catena_chain_remove (self->chain, cmd->position);
      break;
    case COMMAND_MOVE:
      if (forward)
        catena_chain_move (self->chain, cmd->position, cmd->to);
      else
        catena_chain_move (self->chain, cmd->to, cmd->position);
      break;
    case COMMAND_PARAM:
      {
        g_autoptr (GError) error = NULL;
        if (!catena_stage_set_param_from_string (cmd->stage, cmd->name,
                                                 forward ? cmd->new_value : cmd->old_value,
                                                 &error))
          g_warning ("Could not restore %s: %s", cmd->name, error->message);
      }
      break;
    case COMMAND_ROUTING:
      g_object_freeze_notify (G_OBJECT (cmd->stage));
      catena_stage_set_provider (cmd->stage, forward ? cmd->new_value : cmd->old_value);
      catena_stage_set_model (cmd->stage, forward ? cmd->new_model : cmd->old_model);
      g_object_thaw_notify (G_OBJECT (cmd->stage));
      break;
    default:
      g_assert_not_reached ();
    }
}

static void
push (CatenaHistory *self, Command *cmd)
{
  State before = get_state (self);

  cmd->serial = self->next_serial++;
  g_ptr_array_set_size (self->redo, 0);
  apply (self, cmd, TRUE);
  g_ptr_array_add (self->undo, cmd);
  notify_changes (self, before);
}

void
catena_history_insert (CatenaHistory *self, guint position, CatenaStage *stage)
{
  Command *cmd;

  g_return_if_fail (CATENA_IS_HISTORY (self));
  g_return_if_fail (CATENA_IS_STAGE (stage));

  self->group_open = FALSE;
  cmd = g_new0 (Command, 1);
  cmd->type = COMMAND_INSERT;
  cmd->position = MIN (position, catena_chain_get_n_stages (self->chain));
  cmd->stage = g_object_ref (stage);
  push (self, cmd);
}

void
catena_history_remove (CatenaHistory *self, guint position)
{
  Command *cmd;

  g_return_if_fail (CATENA_IS_HISTORY (self));
  g_return_if_fail (position < catena_chain_get_n_stages (self->chain));

  self->group_open = FALSE;
  cmd = g_new0 (Command, 1);
  cmd->type = COMMAND_REMOVE;
  cmd->position = position;
  cmd->stage = g_object_ref (catena_chain_get_stage (self->chain, position));
  push (self, cmd);
}

void
catena_history_move (CatenaHistory *self, guint from, guint to)
{
  Command *cmd;
  guint n;

  g_return_if_fail (CATENA_IS_HISTORY (self));

  n = catena_chain_get_n_stages (self->chain);
  g_return_if_fail (from < n);
  to = MIN (to, n - 1);
  if (from == to)
    return;

  self->group_open = FALSE;
  cmd = g_new0 (Command, 1);
  cmd->type = COMMAND_MOVE;
  cmd->position = from;
  cmd->to = to;
  push (self, cmd);
}

static char *
value_to_param_string (CatenaStage *stage, const char *name, const GValue *value)
{
  /* Let the engine print it: set on a scratch copy and read back its canonical string. */
  g_autoptr (CatenaStage) scratch = catena_stage_duplicate (stage);

  g_object_set_property (G_OBJECT (scratch), name, value);
  return catena_stage_dup_param_string (scratch, name);
}

gboolean
catena_history_set_param (CatenaHistory *self,
                          CatenaStage *stage,
                          const char *name,
                          const GValue *value)
{
  g_autofree char *old_value = NULL;
  g_autofree char *new_value = NULL;
  Command *top;

  g_return_val_if_fail (CATENA_IS_HISTORY (self), FALSE);
  g_return_val_if_fail (CATENA_IS_STAGE (stage), FALSE);

  old_value = catena_stage_dup_param_string (stage, name);
  if (old_value == NULL)
    return FALSE;
  new_value = value_to_param_string (stage, name, value);
  if (g_strcmp0 (old_value, new_value) == 0)
    return FALSE;

  top = self->undo->len ? g_ptr_array_index (self->undo, self->undo->len - 1) : NULL;
  if (self->group_open && g_get_monotonic_time () - self->group_time < GROUP_TIMEOUT_US &&
      top != NULL && top->type == COMMAND_PARAM && top->stage == stage &&
      g_strcmp0 (top->name, name) == 0 && self->redo->len == 0 &&
      top->serial != self->saved_serial)
    {
      State before = get_state (self);

      g_free (top->new_value);
      top->new_value = g_steal_pointer (&new_value);
      apply (self, top, TRUE);
      notify_changes (self, before);
      self->group_time = g_get_monotonic_time ();
    }
  else
    {
      Command *cmd = g_new0 (Command, 1);

      cmd->type = COMMAND_PARAM;
      cmd->stage = g_object_ref (stage);
      cmd->name = g_strdup (name);
      cmd->old_value = g_steal_pointer (&old_value);
      cmd->new_value = g_steal_pointer (&new_value);
      push (self, cmd);
      self->group_open = TRUE;
      self->group_time = g_get_monotonic_time ();
    }
  return TRUE;
}

gboolean
catena_history_set_routing (CatenaHistory *self,
                            CatenaStage *stage,
                            const char *provider,
                            const char *model)
{
  Command *cmd;

  g_return_val_if_fail (CATENA_IS_HISTORY (self), FALSE);
  g_return_val_if_fail (CATENA_IS_STAGE (stage), FALSE);
  g_return_val_if_fail (provider != NULL, FALSE);

  if (model == NULL)
    model = "";
  if (g_strcmp0 (catena_stage_get_provider (stage), provider) == 0 &&
      g_strcmp0 (catena_stage_get_model (stage), model) == 0)
    return FALSE;

  self->group_open = FALSE;
  cmd = g_new0 (Command, 1);
  cmd->type = COMMAND_ROUTING;
  cmd->stage = g_object_ref (stage);
  cmd->old_value = g_strdup (catena_stage_get_provider (stage));
  cmd->old_model = g_strdup (catena_stage_get_model (stage));
  cmd->new_value = g_strdup (provider);
  cmd->new_model = g_strdup (model);
  push (self, cmd);
  return TRUE;
}

void
catena_history_close_group (CatenaHistory *self)
{
  g_return_if_fail (CATENA_IS_HISTORY (self));
  self->group_open = FALSE;
}

gboolean
catena_history_undo (CatenaHistory *self)
{
  State before;
  Command *cmd;

  g_return_val_if_fail (CATENA_IS_HISTORY (self), FALSE);

  if (self->undo->len == 0)
    return FALSE;
  before = get_state (self);
  self->group_open = FALSE;
  cmd = g_ptr_array_steal_index (self->undo, self->undo->len - 1);
  apply (self, cmd, FALSE);
  g_ptr_array_add (self->redo, cmd);
  notify_changes (self, before);
  return TRUE;
}

gboolean
catena_history_redo (CatenaHistory *self)
{
  State before;
  Command *cmd;

  g_return_val_if_fail (CATENA_IS_HISTORY (self), FALSE);

  if (self->redo->len == 0)
    return FALSE;
  before = get_state (self);
  self->group_open = FALSE;
  cmd = g_ptr_array_steal_index (self->redo, self->redo->len - 1);
  apply (self, cmd, TRUE);
  g_ptr_array_add (self->undo, cmd);
  notify_changes (self, before);
  return TRUE;
}

gboolean
catena_history_can_undo (CatenaHistory *self)
{
  g_return_val_if_fail (CATENA_IS_HISTORY (self), FALSE);
  return self->undo->len > 0;
}

gboolean
catena_history_can_redo (CatenaHistory *self)
{
  g_return_val_if_fail (CATENA_IS_HISTORY (self), FALSE);
  return self->redo->len > 0;
}

guint
catena_history_get_n_undo (CatenaHistory *self)
{
  g_return_val_if_fail (CATENA_IS_HISTORY (self), 0);
  return self->undo->len;
}

gboolean
catena_history_get_modified (CatenaHistory *self)
{
  g_return_val_if_fail (CATENA_IS_HISTORY (self), FALSE);
  return top_serial (self) != self->saved_serial;
}

void
catena_history_mark_saved (CatenaHistory *self)
{
  State before;

  g_return_if_fail (CATENA_IS_HISTORY (self));

  before = get_state (self);
  self->saved_serial = top_serial (self);
  self->group_open = FALSE;
  notify_changes (self, before);
}
