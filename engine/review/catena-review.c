/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <glib/gi18n-lib.h>

#include "catena-json-private.h"
#include "catena-error.h"
#include "catena-review.h"

/* Review state, comments and the audit log of a project. The audit log is the record a brand
 * manager relies on ("who approved this, when, and was anything delivered without
 * approval?"), so the API only ever appends to it; the per-asset state is kept beside it for
 * quick lookups and is checked against the workflow on every change. */

#define REVIEW_FORMAT_VERSION 1
#define MAX_TEXT              (64 * 1024)  /* a comment is prose, not a file */

G_DEFINE_QUARK (catena-review-error-quark, catena_review_error)

static const GEnumValue state_values[] = {
  { CATENA_REVIEW_STATE_DRAFT, "CATENA_REVIEW_STATE_DRAFT", "draft" },
  { CATENA_REVIEW_STATE_IN_REVIEW, "CATENA_REVIEW_STATE_IN_REVIEW", "in-review" },
  { CATENA_REVIEW_STATE_CHANGES_REQUESTED, "CATENA_REVIEW_STATE_CHANGES_REQUESTED",
    "changes-requested" },
  { CATENA_REVIEW_STATE_APPROVED, "CATENA_REVIEW_STATE_APPROVED", "approved" },
  { CATENA_REVIEW_STATE_REJECTED, "CATENA_REVIEW_STATE_REJECTED", "rejected" },
  { 0, NULL, NULL },
};

GType
catena_review_state_get_type (void)
{
  static gsize type_id;

  if (g_once_init_enter (&type_id))
    g_once_init_leave (&type_id, g_enum_register_static ("CatenaReviewState", state_values));
  return type_id;
}

const char *
catena_review_state_to_string (CatenaReviewState state)
{
  if ((guint) state > CATENA_REVIEW_STATE_REJECTED)
    return "draft";
  return state_values[state].value_nick;
}

gboolean
catena_review_state_from_string (const char        *text,
                                 CatenaReviewState *state)
{
  g_autofree char *nick = NULL;

  if (text == NULL)
    return FALSE;
  nick = g_strdelimit (g_ascii_strdown (text, -1), "_ ", '-');
  for (guint i = 0; state_values[i].value_nick; i++)
    if (g_str_equal (nick, state_values[i].value_nick))
      {
        if (state)
          *state = state_values[i].value;
        return TRUE;
      }
  return FALSE;
}

const char *
catena_review_state_get_title (CatenaReviewState state)
{
  switch (state)
    {
    case CATENA_REVIEW_STATE_IN_REVIEW: return _("In review");
    case CATENA_REVIEW_STATE_CHANGES_REQUESTED: return _("Changes requested");
    case CATENA_REVIEW_STATE_APPROVED: return _("Approved");
    case CATENA_REVIEW_STATE_REJECTED: return _("Rejected");
    case CATENA_REVIEW_STATE_DRAFT:
    default: return _("Draft");
    }
}

gboolean
catena_review_state_can_change (CatenaReviewState from,
                                CatenaReviewState to)
{
  /* rows: from, columns: to (draft, in review, changes requested, approved, rejected) */
  static const gboolean allowed[5][5] = {
    /* draft */             { FALSE, TRUE,  FALSE, FALSE, FALSE },
    /* in review */         { FALSE, FALSE, TRUE,  TRUE,  TRUE  },
    /* changes requested */ { TRUE,  TRUE,  FALSE, FALSE, FALSE },
    /* approved */          { FALSE, TRUE,  TRUE,  FALSE, FALSE },
    /* rejected */          { TRUE,  TRUE,  FALSE, FALSE, FALSE },
  };

  if ((guint) from > CATENA_REVIEW_STATE_REJECTED || (guint) to > CATENA_REVIEW_STATE_REJECTED)
    return FALSE;
  return allowed[from][to];
}

char *
catena_review_now_iso8601 (void)
{
  g_autoptr (GDateTime) now = g_date_time_new_now_utc ();

  return g_date_time_format (now, "%Y-%m-%dT%H:%M:%SZ");
}

/* GLib 2.74 has no g_set_str. */
static gboolean
set_str (char      **field,
         const char *value)
{
  if (g_strcmp0 (*field, value) == 0)
    return FALSE;
  g_free (*field);
  *field = g_strdup (value);
  return TRUE;
}

/* ---------------------------------------------------------------------------------------- */

struct _CatenaReviewComment
{
  GObject parent_instance;

  char *id;
  char *asset_id;
  char *stage_id;
  char *author;
  char *time;
  char *text;
  gboolean has_region;
  GeglRectangle region;
};

G_DEFINE_FINAL_TYPE (CatenaReviewComment, catena_review_comment, G_TYPE_OBJECT)

static void
catena_review_comment_finalize (GObject *object)
{
  CatenaReviewComment *self = CATENA_REVIEW_COMMENT (object);

  g_free (self->id);
  g_free (self->asset_id);
  g_free (self->stage_id);
  g_free (self->author);
  g_free (self->time);
  g_free (self->text);
  G_OBJECT_CLASS (catena_review_comment_parent_class)->finalize (object);
}

static void
catena_review_comment_class_init (CatenaReviewCommentClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = catena_review_comment_finalize;
}

static void
catena_review_comment_init (CatenaReviewComment *self)
{
}

#define COMMENT_GETTER(field)                                                                  \
  const char *catena_review_comment_get_##field (CatenaReviewComment *self)                    \
  {                                                                                            \
    g_return_val_if_fail (CATENA_IS_REVIEW_COMMENT (self), NULL);                              \
    return self->field;                                                                        \
  }
COMMENT_GETTER (id)
COMMENT_GETTER (asset_id)
COMMENT_GETTER (stage_id)
COMMENT_GETTER (author)
COMMENT_GETTER (time)
COMMENT_GETTER (text)
#undef COMMENT_GETTER

gboolean
catena_review_comment_get_region (CatenaReviewComment *self,
                                  int                 *x,
                                  int                 *y,
                                  int                 *width,
                                  int                 *height)
{
  g_return_val_if_fail (CATENA_IS_REVIEW_COMMENT (self), FALSE);
  if (x) *x = self->region.x;
  if (y) *y = self->region.y;
  if (width) *width = self->region.width;
  if (height) *height = self->region.height;
  return self->has_region;
}

/* ---------------------------------------------------------------------------------------- */

struct _CatenaReviewEntry
{
  GObject parent_instance;

  char *action;
  char *asset_id;
  char *user;
  char *time;
  char *from_state;
  char *to_state;
  char *text;
};

G_DEFINE_FINAL_TYPE (CatenaReviewEntry, catena_review_entry, G_TYPE_OBJECT)

static void
catena_review_entry_finalize (GObject *object)
{
  CatenaReviewEntry *self = CATENA_REVIEW_ENTRY (object);

  g_free (self->action);
  g_free (self->asset_id);
  g_free (self->user);
  g_free (self->time);
  g_free (self->from_state);
  g_free (self->to_state);
  g_free (self->text);
  G_OBJECT_CLASS (catena_review_entry_parent_class)->finalize (object);
}

static void
catena_review_entry_class_init (CatenaReviewEntryClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = catena_review_entry_finalize;
}

static void
catena_review_entry_init (CatenaReviewEntry *self)
{
}

#define ENTRY_GETTER(field)                                                                    \
  const char *catena_review_entry_get_##field (CatenaReviewEntry *self)                        \
  {                                                                                            \
    g_return_val_if_fail (CATENA_IS_REVIEW_ENTRY (self), NULL);                                \
    return self->field;                                                                        \
  }
ENTRY_GETTER (action)
ENTRY_GETTER (asset_id)
ENTRY_GETTER (user)
ENTRY_GETTER (time)
ENTRY_GETTER (from_state)
ENTRY_GETTER (to_state)
ENTRY_GETTER (text)
#undef ENTRY_GETTER

/* ---------------------------------------------------------------------------------------- */

typedef struct
{
  CatenaReviewState state;
  char *approved_key;
} AssetReview;

static void
asset_review_free (AssetReview *ar)
{
  g_free (ar->approved_key);
  g_free (ar);
}

struct _CatenaReview
{
  GObject parent_instance;

  CatenaProject *project;   /* weak */
  char *user;
  GHashTable *assets;       /* asset id → AssetReview */
  GHashTable *comments;     /* asset id → GListStore of CatenaReviewComment */
  GPtrArray *all_comments;  /* in creation order, for saving */
  GListStore *log;          /* of CatenaReviewEntry */
  guint next_comment;
};

G_DEFINE_FINAL_TYPE (CatenaReview, catena_review, G_TYPE_OBJECT)

enum
{
  PROP_0,
  PROP_USER,
  N_PROPS
};

enum
{
  SIGNAL_STATE_CHANGED,
  SIGNAL_COMMENT_ADDED,
  SIGNAL_CHANGED,
  N_SIGNALS
};

static GParamSpec *properties[N_PROPS];
static guint signals[N_SIGNALS];

static char *
default_user (void)
{
  const char *env = g_getenv ("CATENA_USER");
  const char *real = g_get_real_name ();

  if (env != NULL && env[0] != '\0')
    return g_strdup (env);
  /* GLib answers "Unknown" when the GECOS field is empty */
  if (real != NULL && real[0] != '\0' && !g_str_equal (real, "Unknown"))
    return g_strdup (real);
  return g_strdup (g_get_user_name ());
}

static void
catena_review_dispose (GObject *object)
{
  CatenaReview *self = CATENA_REVIEW (object);

  g_clear_weak_pointer (&self->project);
  G_OBJECT_CLASS (catena_review_parent_class)->dispose (object);
}

static void
catena_review_finalize (GObject *object)
{
  CatenaReview *self = CATENA_REVIEW (object);

  g_free (self->user);
  g_hash_table_unref (self->assets);
  g_hash_table_unref (self->comments);
  g_ptr_array_unref (self->all_comments);
  g_object_unref (self->log);
  G_OBJECT_CLASS (catena_review_parent_class)->finalize (object);
}

static void
catena_review_get_property (GObject    *object,
                            guint       prop_id,
                            GValue     *value,
                            GParamSpec *pspec)
{
  CatenaReview *self = CATENA_REVIEW (object);

  switch (prop_id)
    {
    case PROP_USER:
      g_value_set_string (value, self->user);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
catena_review_set_property (GObject      *object,
                            guint         prop_id,
                            const GValue *value,
                            GParamSpec   *pspec)
{
  CatenaReview *self = CATENA_REVIEW (object);

  switch (prop_id)
    {
    case PROP_USER:
      catena_review_set_user (self, g_value_get_string (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
catena_review_class_init (CatenaReviewClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GType type = G_TYPE_FROM_CLASS (klass);

  object_class->dispose = catena_review_dispose;
  object_class->finalize = catena_review_finalize;
  object_class->get_property = catena_review_get_property;
  object_class->set_property = catena_review_set_property;

  properties[PROP_USER] =
    g_param_spec_string ("user", "User", "Name recorded with every change", NULL,
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  /* (asset_id, old CatenaReviewState, new CatenaReviewState) */
  signals[SIGNAL_STATE_CHANGED] =
    g_signal_new ("state-changed", type, G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL, G_TYPE_NONE,
                  3, G_TYPE_STRING, CATENA_TYPE_REVIEW_STATE, CATENA_TYPE_REVIEW_STATE);
  signals[SIGNAL_COMMENT_ADDED] =
    g_signal_new ("comment-added", type, G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL, G_TYPE_NONE,
                  1, CATENA_TYPE_REVIEW_COMMENT);
  /* Any change, including log entries: a board re-reads or saves here. */
  signals[SIGNAL_CHANGED] =
    g_signal_new ("changed", type, G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL, G_TYPE_NONE, 0);
}

static void
catena_review_init (CatenaReview *self)
{
  self->user = default_user ();
  self->assets = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                        (GDestroyNotify) asset_review_free);
  self->comments = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_object_unref);
  self->all_comments = g_ptr_array_new_with_free_func (g_object_unref);
  self->log = g_list_store_new (CATENA_TYPE_REVIEW_ENTRY);
  self->next_comment = 1;
}

CatenaReview *
catena_review_new (void)
{
  return g_object_new (CATENA_TYPE_REVIEW, NULL);
}

CatenaReview *
catena_review_new_for_project (CatenaProject *project,
                               GError       **error)
{
  g_autoptr (CatenaReview) self = NULL;
  g_autoptr (JsonNode) node = NULL;

  g_return_val_if_fail (CATENA_IS_PROJECT (project), NULL);

  self = catena_review_new ();
  node = catena_project_dup_section (project, "review");
  if (node != NULL && !catena_review_load_json (self, node, error))
    return NULL;
  g_set_weak_pointer (&self->project, project);
  return g_steal_pointer (&self);
}

CatenaProject *
catena_review_get_project (CatenaReview *self)
{
  g_return_val_if_fail (CATENA_IS_REVIEW (self), NULL);
  return self->project;
}

const char *
catena_review_get_user (CatenaReview *self)
{
  g_return_val_if_fail (CATENA_IS_REVIEW (self), NULL);
  return self->user;
}

void
catena_review_set_user (CatenaReview *self,
                        const char   *user)
{
  g_autofree char *fallback = NULL;

  g_return_if_fail (CATENA_IS_REVIEW (self));
  if (user == NULL || user[0] == '\0')
    user = fallback = default_user ();
  if (set_str (&self->user, user))
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_USER]);
}

static AssetReview *
lookup_asset (CatenaReview *self,
              const char   *asset_id,
              gboolean      create)
{
  AssetReview *ar = g_hash_table_lookup (self->assets, asset_id);

  if (ar == NULL && create)
    {
      ar = g_new0 (AssetReview, 1);
      g_hash_table_insert (self->assets, g_strdup (asset_id), ar);
    }
  return ar;
}

static GListStore *
comments_store (CatenaReview *self,
                const char   *asset_id)
{
  GListStore *store = g_hash_table_lookup (self->comments, asset_id);

  if (store == NULL)
    {
      store = g_list_store_new (CATENA_TYPE_REVIEW_COMMENT);
      g_hash_table_insert (self->comments, g_strdup (asset_id), store);
    }
  return store;
}

/* Writes the section back (when bound) and tells listeners. */
static void
commit (CatenaReview *self)
{
  if (self->project != NULL)
    {
      g_autoptr (JsonNode) node = catena_review_to_json (self);
      catena_project_set_section (self->project, "review", node);
    }
  g_signal_emit (self, signals[SIGNAL_CHANGED], 0);
}

static CatenaReviewEntry *
append_entry (CatenaReview *self,
              const char   *action,
              const char   *asset_id,
              const char   *user,
              const char   *time,
              const char   *from_state,
              const char   *to_state,
              const char   *text)
{
  CatenaReviewEntry *entry = g_object_new (CATENA_TYPE_REVIEW_ENTRY, NULL);
  g_autofree char *now = time ? NULL : catena_review_now_iso8601 ();

  entry->action = g_strdup (action);
  entry->asset_id = g_strdup (asset_id);
  entry->user = g_strdup (user ? user : self->user);
  entry->time = g_strdup (time ? time : now);
  entry->from_state = g_strdup (from_state);
  entry->to_state = g_strdup (to_state);
  entry->text = g_strdup (text);
  g_list_store_append (self->log, entry);
  g_object_unref (entry);
  return entry;
}

static gboolean
check_asset (CatenaReview *self,
             const char   *asset_id,
             GError      **error)
{
  if (asset_id == NULL || asset_id[0] == '\0' ||
      (self->project != NULL && catena_project_find_asset (self->project, asset_id) == NULL))
    {
      g_set_error (error, CATENA_REVIEW_ERROR, CATENA_REVIEW_ERROR_UNKNOWN_ASSET,
                   _("The project has no asset “%s”."), asset_id ? asset_id : "");
      return FALSE;
    }
  return TRUE;
}

static gboolean
check_text (const char *text,
            const char *what,
            GError    **error)
{
  g_autofree char *stripped = text ? g_strstrip (g_strdup (text)) : NULL;

  if (stripped == NULL || stripped[0] == '\0')
    {
      g_set_error (error, CATENA_REVIEW_ERROR, CATENA_REVIEW_ERROR_EMPTY,
                   _("The %s is empty: write what you mean."), what);
      return FALSE;
    }
  if (!g_utf8_validate (text, -1, NULL) || strlen (text) > MAX_TEXT)
    {
      g_set_error (error, CATENA_REVIEW_ERROR, CATENA_REVIEW_ERROR_INVALID,
                   _("The %s is not readable text or is longer than 64 KB."), what);
      return FALSE;
    }
  return TRUE;
}

CatenaReviewState
catena_review_get_state (CatenaReview *self,
                         const char   *asset_id)
{
  AssetReview *ar;

  g_return_val_if_fail (CATENA_IS_REVIEW (self), CATENA_REVIEW_STATE_DRAFT);
  ar = asset_id ? lookup_asset (self, asset_id, FALSE) : NULL;
  return ar ? ar->state : CATENA_REVIEW_STATE_DRAFT;
}

const char *
catena_review_get_approved_key (CatenaReview *self,
                                const char   *asset_id)
{
  AssetReview *ar;

  g_return_val_if_fail (CATENA_IS_REVIEW (self), NULL);
  ar = asset_id ? lookup_asset (self, asset_id, FALSE) : NULL;
  if (ar == NULL || ar->state != CATENA_REVIEW_STATE_APPROVED)
    return NULL;
  return ar->approved_key;
}

gboolean
catena_review_set_state (CatenaReview     *self,
                         const char       *asset_id,
                         CatenaReviewState state,
                         const char       *note,
                         const char       *output_key,
                         GError          **error)
{
  AssetReview *ar;
  CatenaReviewState old;

  g_return_val_if_fail (CATENA_IS_REVIEW (self), FALSE);

  if (!check_asset (self, asset_id, error))
    return FALSE;
  if (note != NULL && note[0] != '\0' && !check_text (note, _("note"), error))
    return FALSE;
  old = catena_review_get_state (self, asset_id);
  if (!catena_review_state_can_change (old, state))
    {
      g_set_error (error, CATENA_REVIEW_ERROR, CATENA_REVIEW_ERROR_TRANSITION,
                   _("“%s” is %s and cannot go to %s directly: %s."), asset_id,
                   catena_review_state_get_title (old), catena_review_state_get_title (state),
                   old == CATENA_REVIEW_STATE_DRAFT
                     ? _("send it to review first")
                     : old == state ? _("it already is")
                                    : _("move it back to review first"));
      return FALSE;
    }

  ar = lookup_asset (self, asset_id, TRUE);
  ar->state = state;
  g_clear_pointer (&ar->approved_key, g_free);
  if (state == CATENA_REVIEW_STATE_APPROVED)
    ar->approved_key = g_strdup (output_key);
  append_entry (self, "state", asset_id, NULL, NULL, catena_review_state_to_string (old),
                catena_review_state_to_string (state), note && note[0] ? note : NULL);
  g_signal_emit (self, signals[SIGNAL_STATE_CHANGED], 0, asset_id, old, state);
  commit (self);
  return TRUE;
}

CatenaReviewComment *
catena_review_add_comment (CatenaReview        *self,
                           const char          *asset_id,
                           const char          *stage_id,
                           const GeglRectangle *region,
                           const char          *text,
                           GError             **error)
{
  g_autoptr (CatenaReviewComment) comment = NULL;

  g_return_val_if_fail (CATENA_IS_REVIEW (self), NULL);

  if (!check_asset (self, asset_id, error) || !check_text (text, _("comment"), error))
    return NULL;
  if (stage_id != NULL && stage_id[0] == '\0')
    stage_id = NULL;
  if (stage_id != NULL && self->project != NULL &&
      catena_chain_find_stage (catena_project_get_chain (self->project), stage_id, NULL) ==
        NULL)
    {
      g_set_error (error, CATENA_REVIEW_ERROR, CATENA_REVIEW_ERROR_UNKNOWN_STAGE,
                   _("The chain has no stage “%s” to comment on."), stage_id);
      return NULL;
    }
  if (region != NULL && (region->width <= 0 || region->height <= 0))
    {
      g_set_error (error, CATENA_REVIEW_ERROR, CATENA_REVIEW_ERROR_INVALID,
                   _("The marked region has no area: drag a rectangle on the preview."));
      return NULL;
    }
  if (region != NULL && stage_id == NULL)
    {
      g_set_error (error, CATENA_REVIEW_ERROR, CATENA_REVIEW_ERROR_INVALID,
                   _("A marked region belongs to a stage's preview: pick the stage too."));
      return NULL;
    }

  comment = g_object_new (CATENA_TYPE_REVIEW_COMMENT, NULL);
  comment->id = g_strdup_printf ("c%u", self->next_comment++);
  comment->asset_id = g_strdup (asset_id);
  comment->stage_id = g_strdup (stage_id);
  comment->author = g_strdup (self->user);
  comment->time = catena_review_now_iso8601 ();
  comment->text = g_strdup (text);
  if (region != NULL)
    {
      comment->has_region = TRUE;
      comment->region = *region;
    }
  g_ptr_array_add (self->all_comments, g_object_ref (comment));
  g_list_store_append (comments_store (self, asset_id), comment);
  append_entry (self, "comment", asset_id, comment->author, comment->time, NULL, NULL, text);
  g_signal_emit (self, signals[SIGNAL_COMMENT_ADDED], 0, comment);
  commit (self);
  return comment;  /* owned by the store */
}

GListModel *
catena_review_get_comments (CatenaReview *self,
                            const char   *asset_id)
{
  g_return_val_if_fail (CATENA_IS_REVIEW (self), NULL);
  g_return_val_if_fail (asset_id != NULL, NULL);
  return G_LIST_MODEL (comments_store (self, asset_id));
}

GListModel *
catena_review_get_log (CatenaReview *self)
{
  g_return_val_if_fail (CATENA_IS_REVIEW (self), NULL);
  return G_LIST_MODEL (self->log);
}

gboolean
catena_review_log_override (CatenaReview *self,
                            const char   *asset_id,
                            const char   *reason,
                            GError      **error)
{
  g_return_val_if_fail (CATENA_IS_REVIEW (self), FALSE);

  if (!check_asset (self, asset_id, error) || !check_text (reason, _("override reason"), error))
    return FALSE;
  append_entry (self, "override", asset_id, NULL, NULL,
                catena_review_state_to_string (catena_review_get_state (self, asset_id)), NULL,
                reason);
  commit (self);
  return TRUE;
}

void
catena_review_log_delivery (CatenaReview *self,
                            const char   *asset_id,
                            const char   *path)
{
  g_return_if_fail (CATENA_IS_REVIEW (self));
  append_entry (self, "deliver", asset_id, NULL, NULL, NULL, NULL, path);
  commit (self);
}

/* ---------------------------------------------------------------------------------------- */
/* JSON */

static void
add_string (JsonBuilder *b,
            const char  *name,
            const char  *value)
{
  if (value == NULL)
    return;
  json_builder_set_member_name (b, name);
  json_builder_add_string_value (b, value);
}

JsonNode *
catena_review_to_json (CatenaReview *self)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  g_autoptr (GList) ids = NULL;
  guint n;

  g_return_val_if_fail (CATENA_IS_REVIEW (self), NULL);

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "version");
  json_builder_add_int_value (b, REVIEW_FORMAT_VERSION);

  /* sorted, so saving twice gives the same file */
  ids = g_list_sort (g_hash_table_get_keys (self->assets), (GCompareFunc) g_strcmp0);
  json_builder_set_member_name (b, "assets");
  json_builder_begin_object (b);
  for (GList *l = ids; l; l = l->next)
    {
      AssetReview *ar = g_hash_table_lookup (self->assets, l->data);

      json_builder_set_member_name (b, l->data);
      json_builder_begin_object (b);
      add_string (b, "state", catena_review_state_to_string (ar->state));
      add_string (b, "approved-key", ar->approved_key);
      json_builder_end_object (b);
    }
  json_builder_end_object (b);

  json_builder_set_member_name (b, "comments");
  json_builder_begin_array (b);
  for (guint i = 0; i < self->all_comments->len; i++)
    {
      CatenaReviewComment *c = g_ptr_array_index (self->all_comments, i);

      json_builder_begin_object (b);
      add_string (b, "id", c->id);
      add_string (b, "asset", c->asset_id);
      add_string (b, "stage", c->stage_id);
      if (c->has_region)
        {
          json_builder_set_member_name (b, "region");
          json_builder_begin_array (b);
          json_builder_add_int_value (b, c->region.x);
          json_builder_add_int_value (b, c->region.y);
          json_builder_add_int_value (b, c->region.width);
          json_builder_add_int_value (b, c->region.height);
          json_builder_end_array (b);
        }
      add_string (b, "author", c->author);
      add_string (b, "time", c->time);
      add_string (b, "text", c->text);
      json_builder_end_object (b);
    }
  json_builder_end_array (b);

  json_builder_set_member_name (b, "log");
  json_builder_begin_array (b);
  n = g_list_model_get_n_items (G_LIST_MODEL (self->log));
  for (guint i = 0; i < n; i++)
    {
      g_autoptr (CatenaReviewEntry) e = g_list_model_get_item (G_LIST_MODEL (self->log), i);

      json_builder_begin_object (b);
      add_string (b, "time", e->time);
      add_string (b, "user", e->user);
      add_string (b, "asset", e->asset_id);
      add_string (b, "action", e->action);
      add_string (b, "from", e->from_state);
      add_string (b, "to", e->to_state);
      add_string (b, "text", e->text);
      json_builder_end_object (b);
    }
  json_builder_end_array (b);
  json_builder_end_object (b);
  return json_builder_get_root (b);
}

static gboolean
invalid (GError    **error,
         const char *what)
{
  g_set_error (error, CATENA_REVIEW_ERROR, CATENA_REVIEW_ERROR_INVALID,
               _("The project's review data is damaged (%s); the review board cannot open it. "
                 "Restore the project from a backup or remove its “review” section."),
               what);
  return FALSE;
}

/* A string member, or NULL; FALSE when present but not a string. */
static gboolean
get_opt_string (JsonObject  *o,
                const char  *name,
                const char **out)
{
  JsonNode *n = json_object_get_member (o, name);

  *out = NULL;
  if (n == NULL || JSON_NODE_HOLDS_NULL (n))
    return TRUE;
  if (!JSON_NODE_HOLDS_VALUE (n) || json_node_get_value_type (n) != G_TYPE_STRING)
    return FALSE;
  *out = json_node_get_string (n);
  return TRUE;
}

gboolean
catena_review_load_json (CatenaReview *self,
                         JsonNode     *node,
                         GError      **error)
{
  g_autoptr (GHashTable) assets = NULL;
  g_autoptr (GPtrArray) comments = NULL;
  g_autoptr (GPtrArray) entries = NULL;
  JsonObject *root, *assets_o;
  JsonArray *arr;
  guint max_comment = 0;

  g_return_val_if_fail (CATENA_IS_REVIEW (self), FALSE);

  if (node == NULL || !JSON_NODE_HOLDS_OBJECT (node))
    return invalid (error, _("not an object"));
  root = json_node_get_object (node);
  if (catena_json_int (root, "version", 1) > REVIEW_FORMAT_VERSION)
    {
      g_set_error (error, CATENA_REVIEW_ERROR, CATENA_REVIEW_ERROR_INVALID,
                   _("The project's review data was written by a newer Catena: update Catena "
                     "to open it."));
      return FALSE;
    }

  /* Parse everything first: a damaged section leaves self untouched. */
  assets = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                  (GDestroyNotify) asset_review_free);
  if (json_object_has_member (root, "assets"))
    {
      g_autoptr (GList) members = NULL;

      if (!JSON_NODE_HOLDS_OBJECT (json_object_get_member (root, "assets")))
        return invalid (error, _("“assets” is not an object"));
      assets_o = json_object_get_object_member (root, "assets");
      members = json_object_get_members (assets_o);
      for (GList *l = members; l; l = l->next)
        {
          JsonNode *an = json_object_get_member (assets_o, l->data);
          const char *state = NULL, *key = NULL;
          AssetReview *ar;

          if (!JSON_NODE_HOLDS_OBJECT (an) ||
              !get_opt_string (json_node_get_object (an), "state", &state) ||
              !get_opt_string (json_node_get_object (an), "approved-key", &key))
            return invalid (error, _("an asset entry is not an object of strings"));
          ar = g_new0 (AssetReview, 1);
          if (!catena_review_state_from_string (state, &ar->state))
            {
              asset_review_free (ar);
              return invalid (error, _("unknown review state"));
            }
          ar->approved_key = g_strdup (key);
          g_hash_table_insert (assets, g_strdup (l->data), ar);
        }
    }

  comments = g_ptr_array_new_with_free_func (g_object_unref);
  if (json_object_has_member (root, "comments"))
    {
      if (!JSON_NODE_HOLDS_ARRAY (json_object_get_member (root, "comments")))
        return invalid (error, _("“comments” is not a list"));
      arr = json_object_get_array_member (root, "comments");
      for (guint i = 0; i < json_array_get_length (arr); i++)
        {
          JsonNode *cn = json_array_get_element (arr, i);
          JsonObject *co;
          const char *id, *asset, *stage, *author, *time, *text;
          CatenaReviewComment *c;

          if (!JSON_NODE_HOLDS_OBJECT (cn))
            return invalid (error, _("a comment is not an object"));
          co = json_node_get_object (cn);
          if (!get_opt_string (co, "id", &id) || !get_opt_string (co, "asset", &asset) ||
              !get_opt_string (co, "stage", &stage) || !get_opt_string (co, "author", &author) ||
              !get_opt_string (co, "time", &time) || !get_opt_string (co, "text", &text) ||
              asset == NULL || text == NULL)
            return invalid (error, _("a comment lacks its asset or text"));
          c = g_object_new (CATENA_TYPE_REVIEW_COMMENT, NULL);
          g_ptr_array_add (comments, c);
          c->id = g_strdup (id ? id : "");
          c->asset_id = g_strdup (asset);
          c->stage_id = g_strdup (stage);
          c->author = g_strdup (author ? author : "");
          c->time = g_strdup (time ? time : "");
          c->text = g_strdup (text);
          if (json_object_has_member (co, "region"))
            {
              JsonNode *rn = json_object_get_member (co, "region");
              JsonArray *ra = JSON_NODE_HOLDS_ARRAY (rn) ? json_node_get_array (rn) : NULL;
              gint64 v[4];

              if (ra == NULL || json_array_get_length (ra) != 4)
                return invalid (error, _("a comment's region is not [x, y, w, h]"));
              for (guint k = 0; k < 4; k++)
                {
                  JsonNode *e = json_array_get_element (ra, k);
                  if (!JSON_NODE_HOLDS_VALUE (e) || json_node_get_value_type (e) != G_TYPE_INT64)
                    return invalid (error, _("a comment's region is not [x, y, w, h]"));
                  v[k] = json_node_get_int (e);
                }
              if (v[2] <= 0 || v[3] <= 0 || v[0] < G_MININT || v[0] > G_MAXINT ||
                  v[1] < G_MININT || v[1] > G_MAXINT || v[2] > G_MAXINT || v[3] > G_MAXINT)
                return invalid (error, _("a comment's region is not [x, y, w, h]"));
              c->has_region = TRUE;
              c->region = (GeglRectangle) { v[0], v[1], v[2], v[3] };
            }
          if (id && id[0] == 'c')
            max_comment = MAX (max_comment, (guint) g_ascii_strtoull (id + 1, NULL, 10));
        }
    }

  entries = g_ptr_array_new_with_free_func (g_object_unref);
  if (json_object_has_member (root, "log"))
    {
      if (!JSON_NODE_HOLDS_ARRAY (json_object_get_member (root, "log")))
        return invalid (error, _("“log” is not a list"));
      arr = json_object_get_array_member (root, "log");
      for (guint i = 0; i < json_array_get_length (arr); i++)
        {
          JsonNode *en = json_array_get_element (arr, i);
          JsonObject *eo;
          CatenaReviewEntry *e;
          const char *time, *user, *asset, *action, *from, *to, *text;

          if (!JSON_NODE_HOLDS_OBJECT (en))
            return invalid (error, _("a log entry is not an object"));
          eo = json_node_get_object (en);
          if (!get_opt_string (eo, "time", &time) || !get_opt_string (eo, "user", &user) ||
              !get_opt_string (eo, "asset", &asset) || !get_opt_string (eo, "action", &action) ||
              !get_opt_string (eo, "from", &from) || !get_opt_string (eo, "to", &to) ||
              !get_opt_string (eo, "text", &text) || action == NULL || time == NULL)
            return invalid (error, _("a log entry lacks its time or action"));
          e = g_object_new (CATENA_TYPE_REVIEW_ENTRY, NULL);
          e->time = g_strdup (time);
          e->user = g_strdup (user ? user : "");
          e->asset_id = g_strdup (asset);
          e->action = g_strdup (action);
          e->from_state = g_strdup (from);
          e->to_state = g_strdup (to);
          e->text = g_strdup (text);
          g_ptr_array_add (entries, e);
        }
    }

  /* Replace */
  g_hash_table_remove_all (self->comments);
  g_ptr_array_set_size (self->all_comments, 0);
  g_list_store_remove_all (self->log);
  g_hash_table_unref (self->assets);
  self->assets = g_steal_pointer (&assets);
  for (guint i = 0; i < comments->len; i++)
    {
      CatenaReviewComment *c = g_ptr_array_index (comments, i);

      g_ptr_array_add (self->all_comments, g_object_ref (c));
      g_list_store_append (comments_store (self, c->asset_id), c);
    }
  g_list_store_splice (self->log, 0, 0, entries->pdata, entries->len);
  self->next_comment = MAX (max_comment + 1, comments->len + 1);
  g_signal_emit (self, signals[SIGNAL_CHANGED], 0);
  return TRUE;
}
