/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <glib/gi18n-lib.h>
#include <math.h>
#include <string.h>

#include "catena-util-private.h"
#include "catena-asset.h"
#include "catena-batch.h"
#include "catena-enums.h"
#include "catena-error.h"

G_DEFINE_ENUM_TYPE (CatenaBatchRowStatus, catena_batch_row_status,
                    G_DEFINE_ENUM_VALUE (CATENA_BATCH_ROW_PENDING, "pending"),
                    G_DEFINE_ENUM_VALUE (CATENA_BATCH_ROW_RUNNING, "running"),
                    G_DEFINE_ENUM_VALUE (CATENA_BATCH_ROW_DONE, "done"),
                    G_DEFINE_ENUM_VALUE (CATENA_BATCH_ROW_FAILED, "failed"),
                    G_DEFINE_ENUM_VALUE (CATENA_BATCH_ROW_CANCELLED, "cancelled"))

G_DEFINE_ENUM_TYPE (CatenaBatchState, catena_batch_state,
                    G_DEFINE_ENUM_VALUE (CATENA_BATCH_IDLE, "idle"),
                    G_DEFINE_ENUM_VALUE (CATENA_BATCH_RUNNING, "running"),
                    G_DEFINE_ENUM_VALUE (CATENA_BATCH_PAUSED, "paused"),
                    G_DEFINE_ENUM_VALUE (CATENA_BATCH_FINISHED, "finished"))

/* ---------------------------------------------------------------------------------------- */
/* Rows */

struct _CatenaBatchRow
{
  GObject parent_instance;

  char *id;
  CatenaAssetKind asset_class;
  char *source;
  char *prompt;
  GHashTable *extra;

  CatenaBatchRowStatus status;
  double progress;
  char *stage;
  double cost;
  double estimated;
  guint calls;
  char *output;
  char *message;
};

G_DEFINE_FINAL_TYPE (CatenaBatchRow, catena_batch_row, G_TYPE_OBJECT)

enum {
  ROW_PROP_0,
  ROW_PROP_ID,
  ROW_PROP_ASSET_CLASS,
  ROW_PROP_SOURCE,
  ROW_PROP_PROMPT,
  ROW_PROP_STATUS,
  ROW_PROP_PROGRESS,
  ROW_PROP_STAGE,
  ROW_PROP_COST,
  ROW_PROP_ESTIMATED_COST,
  ROW_PROP_CALLS,
  ROW_PROP_OUTPUT,
  ROW_PROP_MESSAGE,
  ROW_N_PROPS
};

static GParamSpec *row_properties[ROW_N_PROPS];

static void
catena_batch_row_finalize (GObject *object)
{
  CatenaBatchRow *self = CATENA_BATCH_ROW (object);

  g_free (self->id);
  g_free (self->source);
  g_free (self->prompt);
  g_clear_pointer (&self->extra, g_hash_table_unref);
  g_free (self->stage);
  g_free (self->output);
  g_free (self->message);
  G_OBJECT_CLASS (catena_batch_row_parent_class)->finalize (object);
}

static void
catena_batch_row_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  CatenaBatchRow *self = CATENA_BATCH_ROW (object);

  switch (prop_id)
    {
    case ROW_PROP_ID:
      g_value_set_string (value, self->id);
      break;
    case ROW_PROP_ASSET_CLASS:
      g_value_set_enum (value, self->asset_class);
      break;
    case ROW_PROP_SOURCE:
      g_value_set_string (value, self->source);
      break;
    case ROW_PROP_PROMPT:
      g_value_set_string (value, self->prompt);
      break;
    case ROW_PROP_STATUS:
      g_value_set_enum (value, self->status);
      break;
    case ROW_PROP_PROGRESS:
      g_value_set_double (value, self->progress);
      break;
    case ROW_PROP_STAGE:
      g_value_set_string (value, self->stage);
      break;
    case ROW_PROP_COST:
      g_value_set_double (value, self->cost);
      break;
    case ROW_PROP_ESTIMATED_COST:
      g_value_set_double (value, self->estimated);
      break;
    case ROW_PROP_CALLS:
      g_value_set_uint (value, self->calls);
      break;
    case ROW_PROP_OUTPUT:
      g_value_set_string (value, self->output);
      break;
    case ROW_PROP_MESSAGE:
      g_value_set_string (value, self->message);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
catena_batch_row_class_init (CatenaBatchRowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GParamFlags flags = G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS;

  object_class->finalize = catena_batch_row_finalize;
  object_class->get_property = catena_batch_row_get_property;

  row_properties[ROW_PROP_ID] = g_param_spec_string ("id", "Id", "SKU id", NULL, flags);
  row_properties[ROW_PROP_ASSET_CLASS] =
    g_param_spec_enum ("asset-class", "Asset class", "thumbnail, feed, hero or print",
                       catena_asset_kind_get_type (), CATENA_ASSET_CLASS_FEED, flags);
  row_properties[ROW_PROP_SOURCE] =
    g_param_spec_string ("source", "Source", "Photo path", NULL, flags);
  row_properties[ROW_PROP_PROMPT] =
    g_param_spec_string ("prompt", "Prompt", "Prompt for generate stages", NULL, flags);
  row_properties[ROW_PROP_STATUS] =
    g_param_spec_enum ("status", "Status", "Where the row stands", CATENA_TYPE_BATCH_ROW_STATUS,
                       CATENA_BATCH_ROW_PENDING, flags);
  row_properties[ROW_PROP_PROGRESS] =
    g_param_spec_double ("progress", "Progress", "Fraction of the chain done", 0, 1, 0, flags);
  row_properties[ROW_PROP_STAGE] =
    g_param_spec_string ("stage", "Stage", "Id of the stage running", NULL, flags);
  row_properties[ROW_PROP_COST] =
    g_param_spec_double ("cost", "Cost", "US dollars reported by providers this session", 0,
                         G_MAXDOUBLE, 0, flags);
  row_properties[ROW_PROP_ESTIMATED_COST] =
    g_param_spec_double ("estimated-cost", "Estimated cost",
                         "US dollars estimated before the calls", 0, G_MAXDOUBLE, 0, flags);
  row_properties[ROW_PROP_CALLS] =
    g_param_spec_uint ("calls", "Calls", "Provider calls made this session", 0, G_MAXUINT, 0,
                       flags);
  row_properties[ROW_PROP_OUTPUT] =
    g_param_spec_string ("output", "Output", "File written", NULL, flags);
  row_properties[ROW_PROP_MESSAGE] =
    g_param_spec_string ("message", "Message", "Why the row failed", NULL, flags);
  g_object_class_install_properties (object_class, ROW_N_PROPS, row_properties);
}

static void
catena_batch_row_init (CatenaBatchRow *self)
{
  self->asset_class = CATENA_ASSET_CLASS_FEED;
}

#define ROW_SET_STR(self, field, prop, value)                                                    \
  G_STMT_START                                                                                   \
  {                                                                                              \
    if (catena_set_str (&(self)->field, (value)))                                                       \
      g_object_notify_by_pspec (G_OBJECT (self), row_properties[prop]);                          \
  }                                                                                              \
  G_STMT_END
#define ROW_SET_NUM(self, field, prop, value)                                                    \
  G_STMT_START                                                                                   \
  {                                                                                              \
    if ((self)->field != (value))                                                                \
      {                                                                                          \
        (self)->field = (value);                                                                 \
        g_object_notify_by_pspec (G_OBJECT (self), row_properties[prop]);                        \
      }                                                                                          \
  }                                                                                              \
  G_STMT_END

const char *
catena_batch_row_get_id (CatenaBatchRow *self)
{
  g_return_val_if_fail (CATENA_IS_BATCH_ROW (self), NULL);
  return self->id;
}

CatenaAssetKind
catena_batch_row_get_asset_class (CatenaBatchRow *self)
{
  g_return_val_if_fail (CATENA_IS_BATCH_ROW (self), CATENA_ASSET_CLASS_FEED);
  return self->asset_class;
}

const char *
catena_batch_row_get_source (CatenaBatchRow *self)
{
  g_return_val_if_fail (CATENA_IS_BATCH_ROW (self), NULL);
  return self->source;
}

const char *
catena_batch_row_get_prompt (CatenaBatchRow *self)
{
  g_return_val_if_fail (CATENA_IS_BATCH_ROW (self), NULL);
  return self->prompt;
}

CatenaBatchRowStatus
catena_batch_row_get_status (CatenaBatchRow *self)
{
  g_return_val_if_fail (CATENA_IS_BATCH_ROW (self), CATENA_BATCH_ROW_PENDING);
  return self->status;
}

double
catena_batch_row_get_progress (CatenaBatchRow *self)
{
  g_return_val_if_fail (CATENA_IS_BATCH_ROW (self), 0);
  return self->progress;
}

double
catena_batch_row_get_cost (CatenaBatchRow *self)
{
  g_return_val_if_fail (CATENA_IS_BATCH_ROW (self), 0);
  return self->cost;
}

const char *
catena_batch_row_get_output (CatenaBatchRow *self)
{
  g_return_val_if_fail (CATENA_IS_BATCH_ROW (self), NULL);
  return self->output;
}

const char *
catena_batch_row_get_message (CatenaBatchRow *self)
{
  g_return_val_if_fail (CATENA_IS_BATCH_ROW (self), NULL);
  return self->message;
}

const char *
catena_batch_row_get_extra (CatenaBatchRow *self, const char *name)
{
  g_return_val_if_fail (CATENA_IS_BATCH_ROW (self), NULL);
  return self->extra ? g_hash_table_lookup (self->extra, name) : NULL;
}

/* ---------------------------------------------------------------------------------------- */
/* The batch */

struct _CatenaBatch
{
  GObject parent_instance;

  CatenaProject *origin;  /* the project given at creation */
  CatenaProject *project; /* its chain and sections, with one asset per row */
  GListStore *rows;
  GHashTable *by_id;      /* id -> row (borrowed) */
  guint shard_index;
  guint shard_count;

  CatenaCache *cache;
  CatenaRouter *router;
  CatenaLedger *ledger;
  char *campaign;
  CatenaBudget *budget;
  double limit;
  gboolean stop_on_budget;
  char *out_dir;
  GHashTable *limits;     /* provider -> guint */
  CatenaRunner *runner;

  CatenaBatchState state;
  char *message;
  double fraction;
  double progress_sum;
  double spent;
  guint n_done;
  guint n_failed;

  GTask *task;
  GCancellable *cancellable;
  gulong user_cancel_id;
  GCancellable *user_cancellable;
  gboolean budget_stopped;
};

G_DEFINE_FINAL_TYPE (CatenaBatch, catena_batch, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_STATE,
  PROP_MESSAGE,
  PROP_FRACTION,
  PROP_SPENT,
  PROP_N_DONE,
  PROP_N_FAILED,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static void
catena_batch_dispose (GObject *object)
{
  CatenaBatch *self = CATENA_BATCH (object);

  if (self->runner)
    g_signal_handlers_disconnect_by_data (self->runner, self);
  g_clear_object (&self->runner);
  G_OBJECT_CLASS (catena_batch_parent_class)->dispose (object);
}

static void
catena_batch_finalize (GObject *object)
{
  CatenaBatch *self = CATENA_BATCH (object);

  g_clear_object (&self->origin);
  g_clear_object (&self->project);
  g_clear_object (&self->rows);
  g_hash_table_unref (self->by_id);
  g_clear_object (&self->cache);
  g_clear_object (&self->router);
  g_clear_object (&self->ledger);
  g_free (self->campaign);
  g_clear_object (&self->budget);
  g_free (self->out_dir);
  g_hash_table_unref (self->limits);
  g_free (self->message);
  g_clear_object (&self->cancellable);
  G_OBJECT_CLASS (catena_batch_parent_class)->finalize (object);
}

static void
catena_batch_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  CatenaBatch *self = CATENA_BATCH (object);

  switch (prop_id)
    {
    case PROP_STATE:
      g_value_set_enum (value, self->state);
      break;
    case PROP_MESSAGE:
      g_value_set_string (value, self->message);
      break;
    case PROP_FRACTION:
      g_value_set_double (value, self->fraction);
      break;
    case PROP_SPENT:
      g_value_set_double (value, self->spent);
      break;
    case PROP_N_DONE:
      g_value_set_uint (value, self->n_done);
      break;
    case PROP_N_FAILED:
      g_value_set_uint (value, self->n_failed);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
catena_batch_class_init (CatenaBatchClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GParamFlags flags = G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS;

  object_class->dispose = catena_batch_dispose;
  object_class->finalize = catena_batch_finalize;
  object_class->get_property = catena_batch_get_property;

  properties[PROP_STATE] = g_param_spec_enum ("state", "State", "Idle, running, paused, finished",
                                              CATENA_TYPE_BATCH_STATE, CATENA_BATCH_IDLE, flags);
  properties[PROP_MESSAGE] =
    g_param_spec_string ("message", "Message", "What the batch is doing or why it paused", NULL,
                         flags);
  properties[PROP_FRACTION] =
    g_param_spec_double ("fraction", "Fraction", "Progress over all rows", 0, 1, 0, flags);
  properties[PROP_SPENT] = g_param_spec_double ("spent", "Spent",
                                                "US dollars reported this session", 0,
                                                G_MAXDOUBLE, 0, flags);
  properties[PROP_N_DONE] =
    g_param_spec_uint ("n-done", "Done", "Rows finished", 0, G_MAXUINT, 0, flags);
  properties[PROP_N_FAILED] =
    g_param_spec_uint ("n-failed", "Failed", "Rows that failed", 0, G_MAXUINT, 0, flags);
  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
catena_batch_init (CatenaBatch *self)
{
  self->rows = g_list_store_new (CATENA_TYPE_BATCH_ROW);
  self->by_id = g_hash_table_new (g_str_hash, g_str_equal);
  self->limits = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  self->shard_count = 1;
  self->limit = -1;
}

CatenaBatch *
catena_batch_new (CatenaProject *project)
{
  CatenaBatch *self;
  g_autoptr (JsonNode) json = NULL;
  GListModel *assets;

  g_return_val_if_fail (CATENA_IS_PROJECT (project), NULL);

  self = g_object_new (CATENA_TYPE_BATCH, NULL);
  self->origin = g_object_ref (project);
  json = catena_project_to_json (project);
  self->project = catena_project_new_from_json (json, NULL);
  if (self->project == NULL)
    self->project = catena_project_new ();
  assets = catena_project_get_assets (self->project);
  while (g_list_model_get_n_items (assets) > 0)
    {
      g_autoptr (CatenaAsset) a = g_list_model_get_item (assets, 0);
      catena_project_remove_asset (self->project, a);
    }
  return self;
}

CatenaProject *
catena_batch_get_project (CatenaBatch *self)
{
  g_return_val_if_fail (CATENA_IS_BATCH (self), NULL);
  return self->project;
}

GListModel *
catena_batch_get_rows (CatenaBatch *self)
{
  g_return_val_if_fail (CATENA_IS_BATCH (self), NULL);
  return G_LIST_MODEL (self->rows);
}

gboolean
catena_batch_parse_shard (const char *text, guint *index, guint *count, GError **error)
{
  g_auto (GStrv) parts = text ? g_strsplit (text, "/", 3) : NULL;
  guint64 i, n;

  if (parts == NULL || g_strv_length (parts) != 2 ||
      !g_ascii_string_to_unsigned (parts[0], 10, 0, G_MAXUINT, &i, NULL) ||
      !g_ascii_string_to_unsigned (parts[1], 10, 1, G_MAXUINT, &n, NULL) || i >= n)
    {
      g_set_error (error, CATENA_ROUTING_ERROR, CATENA_ROUTING_ERROR_INVALID,
                   _("“%s” is not a shard: write I/N with 0 ≤ I < N, e.g. 0/4 for the first "
                     "of four machines (a job array's task id)."),
                   text ? text : "");
      return FALSE;
    }
  *index = (guint) i;
  *count = (guint) n;
  return TRUE;
}

void
catena_batch_set_shard (CatenaBatch *self, guint index, guint count)
{
  g_return_if_fail (CATENA_IS_BATCH (self));
  g_return_if_fail (count > 0 && index < count);
  self->shard_index = index;
  self->shard_count = count;
}

static char *
sanitize_id (const char *id)
{
  char *s = g_strstrip (g_strdup (id));
  g_strcanon (s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_", '-');
  return s;
}

/* position: the row's place in the input, for sharding. */
static gboolean
add_row (CatenaBatch *self,
         guint position,
         const char *id,
         const char *source,
         const char *prompt,
         CatenaAssetKind asset_class,
         GHashTable *extra,
         const char *where,
         GError **error)
{
  g_autoptr (CatenaBatchRow) row = NULL;
  g_autoptr (CatenaAsset) asset = NULL;
  g_autofree char *clean = sanitize_id (id);

  if (clean[0] == '\0')
    {
      g_set_error (error, CATENA_ROUTING_ERROR, CATENA_ROUTING_ERROR_INVALID,
                   _("%s has an empty id: every SKU needs one."), where);
      return FALSE;
    }
  if (g_hash_table_contains (self->by_id, clean) ||
      catena_project_find_asset (self->project, clean))
    {
      g_set_error (error, CATENA_ROUTING_ERROR, CATENA_ROUTING_ERROR_INVALID,
                   _("%s repeats the id “%s”: SKU ids must be unique."), where, clean);
      return FALSE;
    }
  if ((source == NULL || source[0] == '\0') && (prompt == NULL || prompt[0] == '\0'))
    {
      g_set_error (error, CATENA_ROUTING_ERROR, CATENA_ROUTING_ERROR_INVALID,
                   _("%s (“%s”) has neither a photo nor a prompt."), where, clean);
      return FALSE;
    }
  if (position % self->shard_count != self->shard_index)
    return TRUE;

  row = g_object_new (CATENA_TYPE_BATCH_ROW, NULL);
  row->id = g_strdup (clean);
  row->source = source && source[0] ? g_strdup (source) : NULL;
  row->prompt = prompt && prompt[0] ? g_strdup (prompt) : NULL;
  row->asset_class = asset_class;
  row->extra = extra ? g_hash_table_ref (extra) : NULL;

  asset = catena_asset_new (clean);
  catena_asset_set_name (asset, clean);
  if (row->source)
    catena_asset_set_source (asset, row->source);
  if (row->prompt)
    catena_asset_set_prompt (asset, row->prompt);
  catena_asset_set_asset_class (asset, asset_class);
  catena_project_add_asset (self->project, asset);

  g_hash_table_insert (self->by_id, row->id, row);
  g_list_store_append (self->rows, row);
  return TRUE;
}

static gboolean
is_photo_name (const char *name)
{
  static const char *exts[] = { ".png", ".jpg", ".jpeg", ".webp", ".tif", ".tiff" };
  g_autofree char *lower = g_ascii_strdown (name, -1);

  for (guint i = 0; i < G_N_ELEMENTS (exts); i++)
    if (g_str_has_suffix (lower, exts[i]))
      return TRUE;
  return FALSE;
}

static int
compare_names (gconstpointer a, gconstpointer b)
{
  return strcmp (*(const char **) a, *(const char **) b);
}

gboolean
catena_batch_load_folder (CatenaBatch *self,
                          const char *dir,
                          CatenaAssetKind asset_class,
                          GError **error)
{
  g_autoptr (GDir) d = NULL;
  g_autoptr (GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *abs = NULL;
  const char *name;

  g_return_val_if_fail (CATENA_IS_BATCH (self), FALSE);

  abs = g_canonicalize_filename (dir, NULL);
  if (!(d = g_dir_open (abs, 0, NULL)))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                   _("The folder “%s” cannot be opened: check that it exists."), dir);
      return FALSE;
    }
  while ((name = g_dir_read_name (d)))
    if (name[0] != '.' && is_photo_name (name))
      g_ptr_array_add (names, g_strdup (name));
  g_ptr_array_sort (names, compare_names);
  if (names->len == 0)
    {
      g_set_error (error, CATENA_ROUTING_ERROR, CATENA_ROUTING_ERROR_INVALID,
                   _("The folder “%s” has no photos (PNG, JPEG, WebP or TIFF)."), dir);
      return FALSE;
    }
  for (guint i = 0; i < names->len; i++)
    {
      g_autofree char *path = g_build_filename (abs, names->pdata[i], NULL);
      g_autofree char *id = g_strdup (names->pdata[i]);
      char *dot = strrchr (id, '.');

      if (dot && dot != id)
        *dot = '\0';
      if (!add_row (self, i, id, path, NULL, asset_class, NULL, names->pdata[i], error))
        return FALSE;
    }
  return TRUE;
}

/* RFC 4180: fields separated by commas, quoted with "" inside quotes, records by CRLF or
 * LF (also inside quotes). Returns records of GStrv with the line each began on. */
static GPtrArray *
parse_csv (const char *data, gsize len, GArray *lines, GError **error)
{
  g_autoptr (GPtrArray) records = g_ptr_array_new_with_free_func ((GDestroyNotify) g_strfreev);
  g_autoptr (GPtrArray) fields = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GString) field = g_string_new (NULL);
  gboolean quoted = FALSE, was_quoted = FALSE;
  guint line = 1, start_line = 1;
  gsize i = 0;

  if (len >= 3 && memcmp (data, "\xef\xbb\xbf", 3) == 0)
    i = 3;
  for (; i <= len; i++)
    {
      char c = i < len ? data[i] : '\n';
      gboolean end = i == len;

      if (quoted && !end)
        {
          if (c == '"' && i + 1 < len && data[i + 1] == '"')
            {
              g_string_append_c (field, '"');
              i++;
            }
          else if (c == '"')
            quoted = FALSE;
          else
            {
              if (c == '\n')
                line++;
              g_string_append_c (field, c);
            }
          continue;
        }
      if (quoted && end)
        {
          g_set_error (error, CATENA_ROUTING_ERROR, CATENA_ROUTING_ERROR_INVALID,
                       _("Line %u of the CSV opens a quote that is never closed."), start_line);
          return NULL;
        }
      if (c == '"' && field->len == 0 && !was_quoted)
        {
          quoted = was_quoted = TRUE;
          continue;
        }
      if (c == ',')
        {
          g_ptr_array_add (fields, g_strdup (field->str));
          g_string_truncate (field, 0);
          was_quoted = FALSE;
          continue;
        }
      if (c == '\r' && i + 1 < len && data[i + 1] == '\n')
        continue;
      if (c == '\n' || c == '\r')
        {
          g_ptr_array_add (fields, g_strdup (field->str));
          g_string_truncate (field, 0);
          was_quoted = FALSE;
          /* blank lines are skipped */
          if (!(fields->len == 1 && ((char *) fields->pdata[0])[0] == '\0'))
            {
              g_ptr_array_add (fields, NULL);
              /* the record takes the strings; the array itself goes */
              g_ptr_array_add (records, g_ptr_array_free (g_steal_pointer (&fields), FALSE));
              g_array_append_val (lines, start_line);
              fields = g_ptr_array_new_with_free_func (g_free);
            }
          else
            g_ptr_array_set_size (fields, 0);
          line++;
          start_line = line;
          continue;
        }
      g_string_append_c (field, c);
    }
  return g_steal_pointer (&records);
}

static int
find_column (char **header, const char *const *names)
{
  for (int i = 0; header[i]; i++)
    for (guint j = 0; names[j]; j++)
      if (g_ascii_strcasecmp (g_strstrip (header[i]), names[j]) == 0)
        return i;
  return -1;
}

/* "{column}" in a prompt template becomes that column's value. */
static char *
fill_template (const char *text, GHashTable *values)
{
  GString *s = g_string_new (NULL);

  for (const char *p = text; *p; p++)
    {
      const char *close;
      if (*p == '{' && (close = strchr (p + 1, '}')))
        {
          g_autofree char *name = g_strndup (p + 1, close - p - 1);
          const char *v = g_hash_table_lookup (values, name);
          if (v)
            {
              g_string_append (s, v);
              p = close;
              continue;
            }
        }
      g_string_append_c (s, *p);
    }
  return g_string_free (s, FALSE);
}

gboolean
catena_batch_load_csv (CatenaBatch *self,
                       const char *path,
                       CatenaAssetKind default_class,
                       GError **error)
{
  static const char *id_names[] = { "id", "sku", NULL };
  static const char *photo_names[] = { "photo", "path", "image", "file", NULL };
  static const char *prompt_names[] = { "prompt", NULL };
  static const char *class_names[] = { "class", "asset_class", NULL };
  g_autofree char *data = NULL;
  g_autofree char *dir = NULL;
  g_autoptr (GArray) lines = g_array_new (FALSE, FALSE, sizeof (guint));
  g_autoptr (GPtrArray) records = NULL;
  g_autoptr (GError) local_error = NULL;
  char **header;
  int c_id, c_photo, c_prompt, c_class;
  gsize len;

  g_return_val_if_fail (CATENA_IS_BATCH (self), FALSE);

  if (!g_file_get_contents (path, &data, &len, &local_error))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                   _("The SKU list “%s” cannot be read: %s"), path, local_error->message);
      return FALSE;
    }
  if (!g_utf8_validate (data, len, NULL))
    {
      g_set_error (error, CATENA_ROUTING_ERROR, CATENA_ROUTING_ERROR_INVALID,
                   _("The SKU list “%s” is not UTF-8 text: save it as CSV UTF-8."), path);
      return FALSE;
    }
  if (!(records = parse_csv (data, len, lines, error)))
    return FALSE;
  if (records->len < 2)
    {
      g_set_error (error, CATENA_ROUTING_ERROR, CATENA_ROUTING_ERROR_INVALID,
                   _("The SKU list “%s” needs a header row (id, photo, prompt, class) and at "
                     "least one SKU."),
                   path);
      return FALSE;
    }
  header = records->pdata[0];
  c_id = find_column (header, id_names);
  c_photo = find_column (header, photo_names);
  c_prompt = find_column (header, prompt_names);
  c_class = find_column (header, class_names);
  if (c_id < 0 || (c_photo < 0 && c_prompt < 0))
    {
      g_set_error (error, CATENA_ROUTING_ERROR, CATENA_ROUTING_ERROR_INVALID,
                   _("The header of “%s” needs an “id” column and a “photo” or “prompt” "
                     "column."),
                   path);
      return FALSE;
    }
  {
    g_autofree char *abs = g_canonicalize_filename (path, NULL);
    dir = g_path_get_dirname (abs);
  }

  for (guint r = 1; r < records->len; r++)
    {
      char **rec = records->pdata[r];
      guint n = g_strv_length (rec);
      g_autoptr (GHashTable) extra = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                                           g_free);
      g_autofree char *where = g_strdup_printf (_("Line %u of “%s”"),
                                                g_array_index (lines, guint, r), path);
      g_autofree char *source = NULL;
      g_autofree char *prompt = NULL;
      CatenaAssetKind klass = default_class;
      const char *v;

      for (guint i = 0; i < n && header[i]; i++)
        g_hash_table_replace (extra, g_strdup (header[i]), g_strdup (rec[i]));
      if ((int) n <= c_id)
        {
          g_set_error (error, CATENA_ROUTING_ERROR, CATENA_ROUTING_ERROR_INVALID,
                       _("%s has fewer columns than the header."), where);
          return FALSE;
        }
      if (c_photo >= 0 && (int) n > c_photo && (v = g_strstrip (rec[c_photo]))[0])
        source = g_path_is_absolute (v) ? g_strdup (v) : g_build_filename (dir, v, NULL);
      if (c_prompt >= 0 && (int) n > c_prompt && rec[c_prompt][0])
        prompt = fill_template (rec[c_prompt], extra);
      if (c_class >= 0 && (int) n > c_class && (v = g_strstrip (rec[c_class]))[0] &&
          !catena_asset_class_from_string (v, &klass))
        {
          g_set_error (error, CATENA_ROUTING_ERROR, CATENA_ROUTING_ERROR_INVALID,
                       _("%s has the class “%s”: use thumbnail, feed, hero or print."), where,
                       v);
          return FALSE;
        }
      if (source && !g_file_test (source, G_FILE_TEST_IS_REGULAR))
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                       _("%s names the photo “%s”, which does not exist."), where, source);
          return FALSE;
        }
      if (!add_row (self, r - 1, rec[c_id], source, prompt, klass, extra, where, error))
        return FALSE;
    }
  return TRUE;
}

void
catena_batch_load_project_assets (CatenaBatch *self)
{
  GListModel *assets;
  g_autofree char *base = NULL;

  g_return_if_fail (CATENA_IS_BATCH (self));

  assets = catena_project_get_assets (self->origin);
  base = catena_project_dup_base_dir (self->origin);
  for (guint i = 0; i < g_list_model_get_n_items (assets); i++)
    {
      g_autoptr (CatenaAsset) a = g_list_model_get_item (assets, i);
      g_autofree char *source = catena_asset_get_source (a) && catena_asset_get_source (a)[0]
                                  ? catena_asset_resolve_source (a, base)
                                  : NULL;
      g_autoptr (GError) error = NULL;

      /* the project's own assets have unique ids; one without input fails when it runs */
      if (!add_row (self, i, catena_asset_get_id (a), source,
                    catena_asset_get_prompt (a) ? catena_asset_get_prompt (a) : "?",
                    catena_asset_get_asset_class (a), NULL, catena_asset_get_id (a), &error))
        g_warning ("%s", error->message);
    }
}

void
catena_batch_set_cache (CatenaBatch *self, CatenaCache *cache)
{
  g_return_if_fail (CATENA_IS_BATCH (self));
  g_return_if_fail (self->runner == NULL);
  g_set_object (&self->cache, cache);
}

void
catena_batch_set_router (CatenaBatch *self, CatenaRouter *router)
{
  g_return_if_fail (CATENA_IS_BATCH (self));
  g_set_object (&self->router, router);
}

CatenaRouter *
catena_batch_get_router (CatenaBatch *self)
{
  g_return_val_if_fail (CATENA_IS_BATCH (self), NULL);
  if (self->router == NULL)
    {
      g_autoptr (GError) error = NULL;
      self->router = catena_router_new_for_project (self->project, &error);
      if (self->router == NULL)
        {
          g_warning ("%s", error->message);
          self->router = catena_router_new ();
        }
    }
  return self->router;
}

void
catena_batch_set_ledger (CatenaBatch *self, CatenaLedger *ledger, const char *campaign)
{
  g_return_if_fail (CATENA_IS_BATCH (self));
  g_set_object (&self->ledger, ledger);
  catena_set_str (&self->campaign, campaign ? campaign : "");
}

void
catena_batch_set_budget_limit (CatenaBatch *self, double limit_usd)
{
  g_return_if_fail (CATENA_IS_BATCH (self));
  self->limit = limit_usd;
  if (self->budget)
    catena_budget_set_limit (self->budget, limit_usd);
}

CatenaBudget *
catena_batch_get_budget (CatenaBatch *self)
{
  g_return_val_if_fail (CATENA_IS_BATCH (self), NULL);
  return self->budget;
}

void
catena_batch_set_stop_on_budget (CatenaBatch *self, gboolean stop)
{
  g_return_if_fail (CATENA_IS_BATCH (self));
  self->stop_on_budget = stop;
}

void
catena_batch_set_output_dir (CatenaBatch *self, const char *out_dir)
{
  g_return_if_fail (CATENA_IS_BATCH (self));
  g_free (self->out_dir);
  self->out_dir = out_dir ? g_canonicalize_filename (out_dir, NULL) : NULL;
}

void
catena_batch_set_provider_limit (CatenaBatch *self, const char *provider, guint limit)
{
  g_return_if_fail (CATENA_IS_BATCH (self));
  g_hash_table_replace (self->limits, g_strdup (provider), GUINT_TO_POINTER (limit));
  if (self->runner)
    catena_runner_set_provider_limit (self->runner, provider, limit);
}

static void
set_state (CatenaBatch *self, CatenaBatchState state, const char *message)
{
  if (self->state != state)
    {
      self->state = state;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_STATE]);
    }
  if (message && catena_set_str (&self->message, message))
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_MESSAGE]);
}

static void
set_row_progress (CatenaBatch *self, CatenaBatchRow *row, double progress)
{
  guint n = g_list_model_get_n_items (G_LIST_MODEL (self->rows));
  double fraction;

  progress = CLAMP (progress, 0, 1);
  if (row->progress == progress)
    return;
  self->progress_sum += progress - row->progress;
  ROW_SET_NUM (row, progress, ROW_PROP_PROGRESS, progress);
  fraction = n ? CLAMP (self->progress_sum / n, 0, 1) : 0;
  /* a notification per 0.1 % is plenty for a progress bar */
  if (fabs (fraction - self->fraction) >= 0.001 || fraction == 1.0)
    {
      self->fraction = fraction;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_FRACTION]);
    }
}

static guint
n_stages (CatenaBatch *self)
{
  return MAX (1, catena_chain_get_n_stages (catena_project_get_chain (self->project)));
}

static void
on_stage_started (CatenaRunner *runner, const char *asset_id, guint index, const char *stage_id,
                  CatenaBatch *self)
{
  CatenaBatchRow *row = g_hash_table_lookup (self->by_id, asset_id);

  if (row == NULL)
    return;
  ROW_SET_NUM (row, status, ROW_PROP_STATUS, CATENA_BATCH_ROW_RUNNING);
  ROW_SET_STR (row, stage, ROW_PROP_STAGE, stage_id);
  set_row_progress (self, row, (double) index / n_stages (self));
}

static void
on_stage_finished (CatenaRunner *runner, const char *asset_id, guint index, const char *stage_id,
                   const char *key, gboolean from_cache, CatenaBatch *self)
{
  CatenaBatchRow *row = g_hash_table_lookup (self->by_id, asset_id);

  if (row)
    set_row_progress (self, row, (double) (index + 1) / n_stages (self));
}

static void
on_asset_progress (CatenaRunner *runner, const char *asset_id, guint index, double fraction,
                   CatenaBatch *self)
{
  CatenaBatchRow *row = g_hash_table_lookup (self->by_id, asset_id);

  if (row)
    set_row_progress (self, row, (index + fraction) / n_stages (self));
}

static void
on_call_finished (CatenaRunner *runner, const char *asset_id, const char *stage_id,
                  const char *provider, const char *model, double estimated, double reported,
                  gboolean billed, CatenaBatch *self)
{
  CatenaBatchRow *row = g_hash_table_lookup (self->by_id, asset_id);

  if (row == NULL || !billed)
    return;
  ROW_SET_NUM (row, cost, ROW_PROP_COST, row->cost + reported);
  ROW_SET_NUM (row, estimated, ROW_PROP_ESTIMATED_COST, row->estimated + estimated);
  ROW_SET_NUM (row, calls, ROW_PROP_CALLS, row->calls + 1);
  self->spent += reported;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SPENT]);
}

static void
on_asset_finished (CatenaRunner *runner, const char *asset_id, const char *output,
                   const char *error_message, CatenaBatch *self)
{
  CatenaBatchRow *row = g_hash_table_lookup (self->by_id, asset_id);

  if (row == NULL)
    return;
  ROW_SET_STR (row, stage, ROW_PROP_STAGE, NULL);
  if (error_message == NULL)
    {
      ROW_SET_STR (row, output, ROW_PROP_OUTPUT, output);
      ROW_SET_STR (row, message, ROW_PROP_MESSAGE, NULL);
      set_row_progress (self, row, 1.0);
      ROW_SET_NUM (row, status, ROW_PROP_STATUS, CATENA_BATCH_ROW_DONE);
      self->n_done++;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_N_DONE]);
    }
  else if (g_cancellable_is_cancelled (self->cancellable))
    ROW_SET_NUM (row, status, ROW_PROP_STATUS, CATENA_BATCH_ROW_CANCELLED);
  else
    {
      ROW_SET_STR (row, message, ROW_PROP_MESSAGE, error_message);
      ROW_SET_NUM (row, status, ROW_PROP_STATUS, CATENA_BATCH_ROW_FAILED);
      self->n_failed++;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_N_FAILED]);
    }
}

/* Calls already sent when the budget ran out are paid for: let them land (their results
 * are cached and billed in the ledger) before stopping the rest. */
static gboolean
stop_when_calls_landed (gpointer data)
{
  CatenaBatch *self = data;

  if (self->task == NULL)
    return G_SOURCE_REMOVE;
  if (self->budget && catena_budget_get_reserved (self->budget) > 1e-12)
    return G_SOURCE_CONTINUE;
  self->budget_stopped = TRUE;
  g_cancellable_cancel (self->cancellable);
  return G_SOURCE_REMOVE;
}

static void
on_paused (CatenaRunner *runner, const char *reason, CatenaBatch *self)
{
  set_state (self, CATENA_BATCH_PAUSED, reason);
  if (self->stop_on_budget && self->cancellable && reason)
    {
      g_autoptr (GSource) source = g_timeout_source_new (20);
      g_source_set_callback (source, stop_when_calls_landed, g_object_ref (self), g_object_unref);
      g_source_set_static_name (source, "[catena] batch stop on budget");
      g_source_attach (source, g_main_context_get_thread_default ());
    }
}

CatenaRunner *
catena_batch_get_runner (CatenaBatch *self)
{
  g_return_val_if_fail (CATENA_IS_BATCH (self), NULL);
  if (self->runner == NULL)
    {
      GHashTableIter it;
      gpointer key, value;

      self->runner = catena_runner_new (self->cache);
      g_signal_connect (self->runner, "stage-started", G_CALLBACK (on_stage_started), self);
      g_signal_connect (self->runner, "stage-finished", G_CALLBACK (on_stage_finished), self);
      g_signal_connect (self->runner, "asset-progress", G_CALLBACK (on_asset_progress), self);
      g_signal_connect (self->runner, "asset-finished", G_CALLBACK (on_asset_finished), self);
      g_signal_connect (self->runner, "call-finished", G_CALLBACK (on_call_finished), self);
      g_signal_connect (self->runner, "paused", G_CALLBACK (on_paused), self);
      g_hash_table_iter_init (&it, self->limits);
      while (g_hash_table_iter_next (&it, &key, &value))
        catena_runner_set_provider_limit (self->runner, key, GPOINTER_TO_UINT (value));
    }
  return self->runner;
}

static GPtrArray *
pending_assets (CatenaBatch *self)
{
  GPtrArray *assets = g_ptr_array_new ();
  guint n = g_list_model_get_n_items (G_LIST_MODEL (self->rows));

  for (guint i = 0; i < n; i++)
    {
      g_autoptr (CatenaBatchRow) row = g_list_model_get_item (G_LIST_MODEL (self->rows), i);
      if (row->status != CATENA_BATCH_ROW_DONE)
        g_ptr_array_add (assets, catena_project_find_asset (self->project, row->id));
    }
  return assets;
}

CatenaPlan *
catena_batch_plan (CatenaBatch *self, GCancellable *cancellable, GError **error)
{
  g_autoptr (GPtrArray) assets = NULL;
  CatenaCache *cache;

  g_return_val_if_fail (CATENA_IS_BATCH (self), NULL);
  assets = pending_assets (self);
  cache = self->cache ? self->cache : catena_runner_get_cache (catena_batch_get_runner (self));
  return catena_plan_compute (self->project, assets, catena_batch_get_router (self), cache,
                              cancellable, error);
}

/* Enough workers to keep every provider's lanes busy; each mostly waits on the network. */
static guint
worker_count (CatenaBatch *self)
{
  CatenaRouter *router = catena_batch_get_router (self);
  CatenaChain *chain = catena_project_get_chain (self->project);
  g_autoptr (GHashTable) seen = g_hash_table_new (g_str_hash, g_str_equal);
  guint total = 0;

  for (guint c = 0; c <= CATENA_ASSET_CLASS_PRINT; c++)
    {
      g_autoptr (CatenaChain) routed = catena_router_route_chain (router, chain, c);
      for (guint i = 0; i < catena_chain_get_n_stages (routed); i++)
        {
          CatenaStage *stage = catena_chain_get_stage (routed, i);
          const char *lane =
            catena_stage_is_remote_call (stage) ? catena_stage_get_provider (stage) : "local";
          gpointer v;
          guint limit;

          if (!g_hash_table_add (seen, (gpointer) g_intern_string (lane)))
            continue;
          limit = g_hash_table_lookup_extended (self->limits, lane, NULL, &v)
                    ? GPOINTER_TO_UINT (v)
                    : catena_router_get_concurrency (router, lane);
          total += limit;
        }
    }
  return CLAMP (total, 1, 64);
}

static void
on_user_cancelled (GCancellable *cancellable, gpointer data)
{
  g_cancellable_cancel (G_CANCELLABLE (data));
}

static void
on_run_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  CatenaBatch *self = user_data;
  g_autoptr (GTask) task = g_steal_pointer (&self->task);
  g_autoptr (GError) error = NULL;
  gboolean cancelled;

  catena_runner_run_finish (CATENA_RUNNER (source), result, &error);
  cancelled = g_cancellable_is_cancelled (self->cancellable);
  if (self->user_cancellable)
    g_cancellable_disconnect (self->user_cancellable, self->user_cancel_id);
  g_clear_object (&self->user_cancellable);
  /* A budget pause is undone for the next run: the limit may have been raised. */
  catena_runner_resume (CATENA_RUNNER (source));

  if (self->budget_stopped)
    {
      g_autofree char *msg = g_strdup (self->message);
      set_state (self, CATENA_BATCH_FINISHED, NULL);
      g_task_return_new_error (task, CATENA_ROUTING_ERROR, CATENA_ROUTING_ERROR_BUDGET, "%s",
                               msg ? msg : _("The budget is reached."));
    }
  else if (cancelled)
    {
      set_state (self, CATENA_BATCH_FINISHED, _("Cancelled; finished work is kept."));
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_CANCELLED, "%s",
                               _("The batch was cancelled."));
    }
  else
    {
      g_autofree char *msg = g_strdup_printf (_("%u done, %u failed, $%.2f spent"),
                                              self->n_done, self->n_failed, self->spent);
      set_state (self, CATENA_BATCH_FINISHED, msg);
      g_task_return_boolean (task, TRUE);
    }
  g_object_unref (self);
}

void
catena_batch_run_async (CatenaBatch *self,
                        GCancellable *cancellable,
                        GAsyncReadyCallback callback,
                        gpointer user_data)
{
  g_autoptr (GTask) task = NULL;
  g_autoptr (GPtrArray) assets = NULL;
  CatenaRunner *runner;

  g_return_if_fail (CATENA_IS_BATCH (self));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, catena_batch_run_async);
  if (self->task != NULL)
    {
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_PENDING, "%s",
                               _("This batch is already running."));
      return;
    }

  runner = catena_batch_get_runner (self);
  catena_runner_set_router (runner, catena_batch_get_router (self));
  catena_runner_set_ledger (runner, self->ledger, self->campaign);
  if (self->limit >= 0)
    {
      if (self->budget == NULL)
        self->budget = catena_budget_new (self->limit, self->ledger
                                                         ? catena_ledger_get_spent (self->ledger,
                                                                                    self->campaign)
                                                         : 0);
      else
        catena_budget_set_limit (self->budget, self->limit);
    }
  catena_runner_set_budget (runner, self->budget);
  catena_runner_set_max_workers (runner, worker_count (self));

  g_clear_object (&self->cancellable);
  self->cancellable = g_cancellable_new ();
  self->budget_stopped = FALSE;
  if (cancellable)
    {
      self->user_cancellable = g_object_ref (cancellable);
      self->user_cancel_id = g_cancellable_connect (cancellable, G_CALLBACK (on_user_cancelled),
                                                    g_object_ref (self->cancellable),
                                                    g_object_unref);
    }

  assets = pending_assets (self);
  for (guint i = 0; i < assets->len; i++)
    {
      CatenaBatchRow *row = g_hash_table_lookup (self->by_id,
                                                 catena_asset_get_id (assets->pdata[i]));
      if (row->status == CATENA_BATCH_ROW_FAILED)
        {
          self->n_failed--;
          g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_N_FAILED]);
        }
      ROW_SET_NUM (row, status, ROW_PROP_STATUS, CATENA_BATCH_ROW_PENDING);
    }
  self->task = g_steal_pointer (&task);
  set_state (self, CATENA_BATCH_RUNNING, _("Running…"));
  catena_runner_run_async (runner, self->project, assets, self->out_dir, self->cancellable,
                           on_run_done, g_object_ref (self));
}

gboolean
catena_batch_run_finish (CatenaBatch *self, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}

void
catena_batch_pause (CatenaBatch *self)
{
  g_return_if_fail (CATENA_IS_BATCH (self));
  if (self->state != CATENA_BATCH_RUNNING)
    return;
  catena_runner_pause (catena_batch_get_runner (self));
  set_state (self, CATENA_BATCH_PAUSED, _("Paused: running stages finish, nothing new starts."));
}

void
catena_batch_resume (CatenaBatch *self)
{
  g_return_if_fail (CATENA_IS_BATCH (self));
  if (self->state != CATENA_BATCH_PAUSED)
    return;
  set_state (self, CATENA_BATCH_RUNNING, _("Running…"));
  catena_runner_resume (catena_batch_get_runner (self));
}

CatenaBatchState
catena_batch_get_state (CatenaBatch *self)
{
  g_return_val_if_fail (CATENA_IS_BATCH (self), CATENA_BATCH_IDLE);
  return self->state;
}

const char *
catena_batch_get_message (CatenaBatch *self)
{
  g_return_val_if_fail (CATENA_IS_BATCH (self), NULL);
  return self->message;
}

double
catena_batch_get_spent (CatenaBatch *self)
{
  g_return_val_if_fail (CATENA_IS_BATCH (self), 0);
  return self->spent;
}

guint
catena_batch_get_n_done (CatenaBatch *self)
{
  g_return_val_if_fail (CATENA_IS_BATCH (self), 0);
  return self->n_done;
}

guint
catena_batch_get_n_failed (CatenaBatch *self)
{
  g_return_val_if_fail (CATENA_IS_BATCH (self), 0);
  return self->n_failed;
}
