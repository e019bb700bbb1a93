/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "catena-json-private.h"
#include "catena-ledger.h"
#include "catena-provider.h"

/* ---------------------------------------------------------------------------------------- */
/* Entries */

static const char *event_names[] = { "sent", "billed", "failed" };

const char *
catena_ledger_event_to_string (CatenaLedgerEvent event)
{
  return event <= CATENA_LEDGER_FAILED ? event_names[event] : "unknown";
}

CatenaLedgerEntry *
catena_ledger_entry_new (void)
{
  return g_new0 (CatenaLedgerEntry, 1);
}

CatenaLedgerEntry *
catena_ledger_entry_copy (const CatenaLedgerEntry *self)
{
  CatenaLedgerEntry *copy = g_memdup2 (self, sizeof *self);

  copy->call_id = g_strdup (self->call_id);
  copy->campaign = g_strdup (self->campaign);
  copy->asset = g_strdup (self->asset);
  copy->stage = g_strdup (self->stage);
  copy->stage_kind = g_strdup (self->stage_kind);
  copy->provider = g_strdup (self->provider);
  copy->model = g_strdup (self->model);
  copy->key = g_strdup (self->key);
  copy->remote_id = g_strdup (self->remote_id);
  copy->message = g_strdup (self->message);
  return copy;
}

void
catena_ledger_entry_free (CatenaLedgerEntry *self)
{
  if (self == NULL)
    return;
  g_free (self->call_id);
  g_free (self->campaign);
  g_free (self->asset);
  g_free (self->stage);
  g_free (self->stage_kind);
  g_free (self->provider);
  g_free (self->model);
  g_free (self->key);
  g_free (self->remote_id);
  g_free (self->message);
  g_free (self);
}

G_DEFINE_BOXED_TYPE (CatenaLedgerEntry, catena_ledger_entry, catena_ledger_entry_copy,
                     catena_ledger_entry_free)

static char *
entry_to_line (const CatenaLedgerEntry *e)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  g_autoptr (JsonGenerator) gen = json_generator_new ();
  g_autoptr (JsonNode) root = NULL;
  g_autoptr (GDateTime) dt = g_date_time_new_from_unix_utc (e->time / G_USEC_PER_SEC);
  g_autofree char *iso = dt ? g_date_time_format_iso8601 (dt) : NULL;
  g_autofree char *text = NULL;

#define STR(name, value)                                                                         \
  G_STMT_START                                                                                   \
  {                                                                                              \
    json_builder_set_member_name (b, name);                                                      \
    json_builder_add_string_value (b, (value) ? (value) : "");                                   \
  }                                                                                              \
  G_STMT_END
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "v");
  json_builder_add_int_value (b, 1);
  STR ("event", catena_ledger_event_to_string (e->event));
  STR ("call", e->call_id);
  STR ("time", iso);
  json_builder_set_member_name (b, "t");
  json_builder_add_int_value (b, e->time);
  STR ("campaign", e->campaign);
  STR ("asset", e->asset);
  STR ("stage", e->stage);
  STR ("kind", e->stage_kind);
  STR ("provider", e->provider);
  STR ("model", e->model);
  STR ("key", e->key);
  json_builder_set_member_name (b, "estimated_usd");
  json_builder_add_double_value (b, e->estimated_usd);
  json_builder_set_member_name (b, "reported_usd");
  json_builder_add_double_value (b, e->reported_usd);
  if (e->started_at)
    {
      json_builder_set_member_name (b, "started");
      json_builder_add_int_value (b, e->started_at);
    }
  json_builder_set_member_name (b, "duration_s");
  json_builder_add_double_value (b, e->duration_s);
  if (e->remote_id)
    STR ("remote_id", e->remote_id);
  if (e->message)
    STR ("message", e->message);
  json_builder_end_object (b);
#undef STR
  root = json_builder_get_root (b);
  json_generator_set_root (gen, root);
  text = json_generator_to_data (gen, NULL);
  return g_strconcat (text, "\n", NULL);
}

static CatenaLedgerEntry *
entry_from_line (const char *line, gsize len)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (CatenaLedgerEntry) e = NULL;
  JsonObject *o;
  const char *event;

  if (len == 0 || !json_parser_load_from_data (parser, line, len, NULL) ||
      !JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)))
    return NULL;
  o = json_node_get_object (json_parser_get_root (parser));
  event = catena_json_string (o, "event", "");
  e = catena_ledger_entry_new ();
  if (g_str_equal (event, "sent"))
    e->event = CATENA_LEDGER_SENT;
  else if (g_str_equal (event, "billed"))
    e->event = CATENA_LEDGER_BILLED;
  else if (g_str_equal (event, "failed"))
    e->event = CATENA_LEDGER_FAILED;
  else
    return NULL;
#define STR(field, name)                                                                         \
  e->field = g_strdup (catena_json_string (o, name, ""))
  STR (call_id, "call");
  STR (campaign, "campaign");
  STR (asset, "asset");
  STR (stage, "stage");
  STR (stage_kind, "kind");
  STR (provider, "provider");
  STR (model, "model");
  STR (key, "key");
#undef STR
  if (json_object_has_member (o, "remote_id"))
    e->remote_id = g_strdup (catena_json_string (o, "remote_id", ""));
  if (json_object_has_member (o, "message"))
    e->message = g_strdup (catena_json_string (o, "message", ""));
  e->time = catena_json_int (o, "t", 0);
  e->estimated_usd = catena_json_double (o, "estimated_usd", 0);
  e->reported_usd = catena_json_double (o, "reported_usd", 0);
  e->started_at = catena_json_int (o, "started", 0);
  e->duration_s = catena_json_double (o, "duration_s", 0);
  if (e->call_id[0] == '\0')
    return NULL;
  return g_steal_pointer (&e);
}

/* Reads a ledger file line by line, calling func for each valid record. A torn last line
 * (killed mid-write) or a line that is not a record is skipped. */
static gboolean
read_file (const char *path,
           void (*func) (CatenaLedgerEntry *entry, gpointer data),
           gpointer data,
           GError **error)
{
  g_autoptr (GFile) file = g_file_new_for_path (path);
  g_autoptr (GFileInputStream) fin = NULL;
  g_autoptr (GDataInputStream) in = NULL;
  g_autoptr (GError) local_error = NULL;

  if (!(fin = g_file_read (file, NULL, &local_error)))
    {
      if (g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND))
        return TRUE;
      g_set_error (error, CATENA_ROUTING_ERROR, CATENA_ROUTING_ERROR_IO,
                   _("The spend ledger “%s” cannot be read: %s"), path, local_error->message);
      return FALSE;
    }
  in = g_data_input_stream_new (G_INPUT_STREAM (fin));
  for (;;)
    {
      gsize len = 0;
      g_autofree char *line = g_data_input_stream_read_line (in, &len, NULL, &local_error);
      g_autoptr (CatenaLedgerEntry) e = NULL;

      if (line == NULL)
        break;
      if ((e = entry_from_line (line, len)))
        func (e, data);
    }
  if (local_error)
    {
      g_set_error (error, CATENA_ROUTING_ERROR, CATENA_ROUTING_ERROR_IO,
                   _("The spend ledger “%s” cannot be read: %s"), path, local_error->message);
      return FALSE;
    }
  return TRUE;
}

/* ---------------------------------------------------------------------------------------- */
/* The ledger */

struct _CatenaLedger
{
  GObject parent_instance;

  char *path;
  int fd;
  GMutex lock;
  GHashTable *billed; /* campaign -> double* */
  GHashTable *open;   /* call id -> CatenaLedgerEntry (its "sent" line) */
};

G_DEFINE_FINAL_TYPE (CatenaLedger, catena_ledger, G_TYPE_OBJECT)

static void
catena_ledger_finalize (GObject *object)
{
  CatenaLedger *self = CATENA_LEDGER (object);

  if (self->fd >= 0)
    close (self->fd);
  g_free (self->path);
  g_hash_table_unref (self->billed);
  g_hash_table_unref (self->open);
  g_mutex_clear (&self->lock);
  G_OBJECT_CLASS (catena_ledger_parent_class)->finalize (object);
}

static void
catena_ledger_class_init (CatenaLedgerClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = catena_ledger_finalize;
}

static void
catena_ledger_init (CatenaLedger *self)
{
  self->fd = -1;
  g_mutex_init (&self->lock);
  self->billed = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  self->open = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                      (GDestroyNotify) catena_ledger_entry_free);
}

/* Called with the lock held (or before the ledger is shared). */
static void
account (CatenaLedger *self, const CatenaLedgerEntry *e)
{
  if (e->event == CATENA_LEDGER_SENT)
    {
      g_hash_table_replace (self->open, g_strdup (e->call_id), catena_ledger_entry_copy (e));
      return;
    }
  g_hash_table_remove (self->open, e->call_id);
  if (e->event == CATENA_LEDGER_BILLED)
    {
      const char *campaign = e->campaign ? e->campaign : "";
      double *total = g_hash_table_lookup (self->billed, campaign);
      if (total == NULL)
        {
          total = g_new0 (double, 1);
          g_hash_table_insert (self->billed, g_strdup (campaign), total);
        }
      *total += e->reported_usd;
    }
}

static void
account_cb (CatenaLedgerEntry *e, gpointer data)
{
  account (data, e);
}

CatenaLedger *
catena_ledger_open (const char *path, GError **error)
{
  g_autoptr (CatenaLedger) self = g_object_new (CATENA_TYPE_LEDGER, NULL);
  g_autofree char *dir = NULL;
  struct stat st;
  int saved;

  g_return_val_if_fail (path != NULL, NULL);

  self->path = g_canonicalize_filename (path, NULL);
  dir = g_path_get_dirname (self->path);
  if (g_mkdir_with_parents (dir, 0755) != 0)
    {
      saved = errno;
      g_set_error (error, CATENA_ROUTING_ERROR, CATENA_ROUTING_ERROR_IO,
                   _("The folder of the spend ledger “%s” cannot be created: %s"), self->path,
                   g_strerror (saved));
      return NULL;
    }
  if (!read_file (self->path, account_cb, self, error))
    return NULL;
  self->fd = g_open (self->path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  if (self->fd < 0)
    {
      saved = errno;
      g_set_error (error, CATENA_ROUTING_ERROR, CATENA_ROUTING_ERROR_IO,
                   _("The spend ledger “%s” cannot be written: %s"), self->path,
                   g_strerror (saved));
      return NULL;
    }
  /* A record torn by a crash must not glue itself to the next one. */
  if (fstat (self->fd, &st) == 0 && st.st_size > 0)
    {
      int rfd = g_open (self->path, O_RDONLY | O_CLOEXEC, 0);
      char last = '\n';
      if (rfd >= 0)
        {
          if (pread (rfd, &last, 1, st.st_size - 1) != 1)
            last = '\n';
          close (rfd);
        }
      if (last != '\n' && write (self->fd, "\n", 1) != 1)
        g_warning ("Could not terminate a torn line in %s", self->path);
    }
  return g_steal_pointer (&self);
}

const char *
catena_ledger_get_path (CatenaLedger *self)
{
  g_return_val_if_fail (CATENA_IS_LEDGER (self), NULL);
  return self->path;
}

gboolean
catena_ledger_append (CatenaLedger *self, CatenaLedgerEntry *entry, GError **error)
{
  g_autofree char *line = NULL;
  gsize len, done = 0;
  int saved = 0;

  g_return_val_if_fail (CATENA_IS_LEDGER (self), FALSE);
  g_return_val_if_fail (entry != NULL, FALSE);

  if (entry->call_id == NULL)
    entry->call_id = g_uuid_string_random ();
  if (entry->time == 0)
    entry->time = g_get_real_time ();
  line = entry_to_line (entry);
  len = strlen (line);

  g_mutex_lock (&self->lock);
  /* One write() of a whole line on an O_APPEND descriptor, then a sync: the record is on
   * disk before the request it announces leaves, or before the run moves on. */
  while (done < len)
    {
      ssize_t n = write (self->fd, line + done, len - done);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        {
          saved = errno ? errno : EIO;
          break;
        }
      done += n;
    }
  if (saved == 0 && fdatasync (self->fd) != 0)
    saved = errno;
  if (saved == 0)
    account (self, entry);
  g_mutex_unlock (&self->lock);

  if (saved != 0)
    {
      g_set_error (error, CATENA_ROUTING_ERROR, CATENA_ROUTING_ERROR_IO,
                   _("The spend ledger “%s” cannot be written (%s): no paid call is sent "
                     "until it can be."),
                   self->path, g_strerror (saved));
      return FALSE;
    }
  return TRUE;
}

double
catena_ledger_get_spent (CatenaLedger *self, const char *campaign)
{
  GHashTableIter it;
  gpointer key, value;
  double total = 0;

  g_return_val_if_fail (CATENA_IS_LEDGER (self), 0);

  g_mutex_lock (&self->lock);
  g_hash_table_iter_init (&it, self->billed);
  while (g_hash_table_iter_next (&it, &key, &value))
    if (campaign == NULL || g_str_equal (key, campaign))
      total += *(double *) value;
  g_hash_table_iter_init (&it, self->open);
  while (g_hash_table_iter_next (&it, &key, &value))
    {
      CatenaLedgerEntry *c = value;
      if (campaign == NULL || g_strcmp0 (c->campaign ? c->campaign : "", campaign) == 0)
        total += c->estimated_usd;
    }
  g_mutex_unlock (&self->lock);
  return total;
}

guint
catena_ledger_get_n_unconfirmed (CatenaLedger *self)
{
  guint n;

  g_return_val_if_fail (CATENA_IS_LEDGER (self), 0);
  g_mutex_lock (&self->lock);
  n = g_hash_table_size (self->open);
  g_mutex_unlock (&self->lock);
  return n;
}

guint
catena_ledger_reconcile (CatenaLedger *self, CatenaCache *cache, GError **error)
{
  g_autoptr (GPtrArray) settled =
    g_ptr_array_new_with_free_func ((GDestroyNotify) catena_ledger_entry_free);
  GHashTableIter it;
  gpointer value;

  g_return_val_if_fail (CATENA_IS_LEDGER (self), 0);
  g_return_val_if_fail (CATENA_IS_CACHE (cache), 0);

  g_mutex_lock (&self->lock);
  g_hash_table_iter_init (&it, self->open);
  while (g_hash_table_iter_next (&it, NULL, &value))
    {
      CatenaLedgerEntry *e = value;
      if (e->key && e->key[0] && catena_cache_contains (cache, e->key))
        g_ptr_array_add (settled, catena_ledger_entry_copy (e));
    }
  g_mutex_unlock (&self->lock);

  for (guint i = 0; i < settled->len; i++)
    {
      CatenaLedgerEntry *e = settled->pdata[i];
      g_autoptr (CatenaProvenance) p = catena_provenance_lookup (cache, e->key);

      e->event = CATENA_LEDGER_BILLED;
      e->time = 0;
      e->reported_usd = p ? p->cost_usd : e->estimated_usd;
      g_free (e->message);
      e->message = g_strdup (_("Confirmed on resume: the result was stored before the process "
                               "stopped."));
      if (!catena_ledger_append (self, e, error))
        return i;
    }
  return settled->len;
}

guint
catena_ledger_confirm_key (CatenaLedger *self,
                           const char *key,
                           double reported_usd,
                           GError **error)
{
  g_autoptr (GPtrArray) settled =
    g_ptr_array_new_with_free_func ((GDestroyNotify) catena_ledger_entry_free);
  GHashTableIter it;
  gpointer value;

  g_return_val_if_fail (CATENA_IS_LEDGER (self), 0);

  if (key == NULL || key[0] == '\0')
    return 0;
  g_mutex_lock (&self->lock);
  g_hash_table_iter_init (&it, self->open);
  while (g_hash_table_iter_next (&it, NULL, &value))
    {
      CatenaLedgerEntry *e = value;
      if (g_strcmp0 (e->key, key) == 0)
        g_ptr_array_add (settled, catena_ledger_entry_copy (e));
    }
  g_mutex_unlock (&self->lock);

  for (guint i = 0; i < settled->len; i++)
    {
      CatenaLedgerEntry *e = settled->pdata[i];

      e->event = CATENA_LEDGER_BILLED;
      e->time = 0;
      e->reported_usd = reported_usd >= 0 ? reported_usd : e->estimated_usd;
      g_free (e->message);
      e->message = g_strdup (_("Confirmed on resume: the provider's result was kept before the "
                               "process stopped."));
      if (!catena_ledger_append (self, e, error))
        return i;
    }
  return settled->len;
}

typedef struct
{
  GPtrArray *calls;  /* of CatenaLedgerEntry, first-seen order */
  GHashTable *by_id; /* call id -> index */
} Merge;

static void
merge_cb (CatenaLedgerEntry *e, gpointer data)
{
  Merge *m = data;
  gpointer index;

  if (g_hash_table_lookup_extended (m->by_id, e->call_id, NULL, &index))
    {
      CatenaLedgerEntry *old = m->calls->pdata[GPOINTER_TO_UINT (index)];
      /* a final state wins over "sent", whatever the order of the files */
      if (e->event != CATENA_LEDGER_SENT || old->event == CATENA_LEDGER_SENT)
        {
          m->calls->pdata[GPOINTER_TO_UINT (index)] = catena_ledger_entry_copy (e);
          catena_ledger_entry_free (old);
        }
      return;
    }
  g_hash_table_insert (m->by_id, g_strdup (e->call_id), GUINT_TO_POINTER (m->calls->len));
  g_ptr_array_add (m->calls, catena_ledger_entry_copy (e));
}

GPtrArray *
catena_ledger_read_calls (const char *const *paths, GError **error)
{
  g_autoptr (GPtrArray) calls =
    g_ptr_array_new_with_free_func ((GDestroyNotify) catena_ledger_entry_free);
  g_autoptr (GHashTable) by_id = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  Merge m = { calls, by_id };

  for (guint i = 0; paths && paths[i]; i++)
    if (!read_file (paths[i], merge_cb, &m, error))
      return NULL;
  return g_steal_pointer (&calls);
}

static void
csv_field (GString *s, const char *value, gboolean last)
{
  value = value ? value : "";
  if (strpbrk (value, ",\"\r\n"))
    {
      g_string_append_c (s, '"');
      for (const char *p = value; *p; p++)
        {
          if (*p == '"')
            g_string_append_c (s, '"');
          g_string_append_c (s, *p);
        }
      g_string_append_c (s, '"');
    }
  else
    g_string_append (s, value);
  g_string_append (s, last ? "\r\n" : ",");
}

static void
csv_number (GString *s, double value, gboolean last)
{
  char buf[G_ASCII_DTOSTR_BUF_SIZE];
  csv_field (s, g_ascii_formatd (buf, sizeof buf, "%.6f", value), last);
}

static const char *
call_status (const CatenaLedgerEntry *e)
{
  return e->event == CATENA_LEDGER_SENT ? "unconfirmed" : catena_ledger_event_to_string (e->event);
}

typedef struct
{
  char *campaign, *asset, *stage;
  guint calls, billed, unconfirmed, failed;
  double estimated, reported;
} Group;

static void
group_free (gpointer data)
{
  Group *g = data;
  g_free (g->campaign);
  g_free (g->asset);
  g_free (g->stage);
  g_free (g);
}

gboolean
catena_ledger_export_csv (const char *const *paths,
                          const char *group_by,
                          const char *campaign,
                          GOutputStream *out,
                          GCancellable *cancellable,
                          GError **error)
{
  g_autoptr (GPtrArray) calls = NULL;
  g_autoptr (GString) s = g_string_new (NULL);
  int level;

  if (group_by == NULL || g_str_equal (group_by, "call"))
    level = 0;
  else if (g_str_equal (group_by, "campaign"))
    level = 1;
  else if (g_str_equal (group_by, "asset"))
    level = 2;
  else if (g_str_equal (group_by, "stage"))
    level = 3;
  else
    {
      g_set_error (error, CATENA_ROUTING_ERROR, CATENA_ROUTING_ERROR_INVALID,
                   _("The ledger can be grouped by call, campaign, asset or stage, not “%s”."),
                   group_by);
      return FALSE;
    }
  if (!(calls = catena_ledger_read_calls (paths, error)))
    return FALSE;

  if (level == 0)
    {
      g_string_append (s, "time,campaign,asset,stage,kind,provider,model,status,estimated_usd,"
                          "reported_usd,duration_s,remote_id,key,call\r\n");
      for (guint i = 0; i < calls->len; i++)
        {
          CatenaLedgerEntry *e = calls->pdata[i];
          g_autoptr (GDateTime) dt = g_date_time_new_from_unix_utc (e->time / G_USEC_PER_SEC);
          g_autofree char *iso = dt ? g_date_time_format_iso8601 (dt) : NULL;

          if (campaign && g_strcmp0 (campaign, e->campaign) != 0)
            continue;
          csv_field (s, iso, FALSE);
          csv_field (s, e->campaign, FALSE);
          csv_field (s, e->asset, FALSE);
          csv_field (s, e->stage, FALSE);
          csv_field (s, e->stage_kind, FALSE);
          csv_field (s, e->provider, FALSE);
          csv_field (s, e->model, FALSE);
          csv_field (s, call_status (e), FALSE);
          csv_number (s, e->estimated_usd, FALSE);
          csv_number (s, e->reported_usd, FALSE);
          csv_number (s, e->duration_s, FALSE);
          csv_field (s, e->remote_id, FALSE);
          csv_field (s, e->key, FALSE);
          csv_field (s, e->call_id, TRUE);
        }
    }
  else
    {
      g_autoptr (GHashTable) groups =
        g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
      g_autoptr (GPtrArray) order = g_ptr_array_new_with_free_func (group_free);

      for (guint i = 0; i < calls->len; i++)
        {
          CatenaLedgerEntry *e = calls->pdata[i];
          g_autofree char *id = NULL;
          Group *g;

          if (campaign && g_strcmp0 (campaign, e->campaign) != 0)
            continue;
          id = g_strjoin ("\x1f", e->campaign, level >= 2 ? e->asset : "",
                          level >= 3 ? e->stage : "", NULL);
          if (!(g = g_hash_table_lookup (groups, id)))
            {
              g = g_new0 (Group, 1);
              g->campaign = g_strdup (e->campaign);
              g->asset = level >= 2 ? g_strdup (e->asset) : NULL;
              g->stage = level >= 3 ? g_strdup (e->stage) : NULL;
              g_hash_table_insert (groups, g_steal_pointer (&id), g);
              g_ptr_array_add (order, g);
            }
          g->calls++;
          g->estimated += e->estimated_usd;
          if (e->event == CATENA_LEDGER_BILLED)
            {
              g->billed++;
              g->reported += e->reported_usd;
            }
          else if (e->event == CATENA_LEDGER_SENT)
            g->unconfirmed++;
          else
            g->failed++;
        }
      g_string_append (s, "campaign,");
      if (level >= 2)
        g_string_append (s, "asset,");
      if (level >= 3)
        g_string_append (s, "stage,");
      g_string_append (s, "calls,billed,unconfirmed,failed,estimated_usd,reported_usd\r\n");
      for (guint i = 0; i < order->len; i++)
        {
          Group *g = order->pdata[i];
          char n[4][16];

          csv_field (s, g->campaign, FALSE);
          if (level >= 2)
            csv_field (s, g->asset, FALSE);
          if (level >= 3)
            csv_field (s, g->stage, FALSE);
          g_snprintf (n[0], sizeof n[0], "%u", g->calls);
          g_snprintf (n[1], sizeof n[1], "%u", g->billed);
          g_snprintf (n[2], sizeof n[2], "%u", g->unconfirmed);
          g_snprintf (n[3], sizeof n[3], "%u", g->failed);
          for (guint k = 0; k < 4; k++)
            csv_field (s, n[k], FALSE);
          csv_number (s, g->estimated, FALSE);
          csv_number (s, g->reported, TRUE);
        }
    }
  return g_output_stream_write_all (out, s->str, s->len, NULL, cancellable, error);
}

char *
catena_ledger_default_path (CatenaProject *project, const char *out_dir)
{
  GFile *file = project ? catena_project_get_file (project) : NULL;

  if (file != NULL)
    {
      g_autofree char *path = g_file_get_path (file);
      g_autofree char *dir = g_path_get_dirname (path);
      g_autofree char *base = g_path_get_basename (path);
      char *dot = strrchr (base, '.');
      g_autofree char *name = NULL;

      if (dot && dot != base)
        *dot = '\0';
      name = g_strconcat (base, ".ledger.jsonl", NULL);
      return g_build_filename (dir, name, NULL);
    }
  if (out_dir)
    return g_build_filename (out_dir, "catena-ledger.jsonl", NULL);
  return g_build_filename (g_get_current_dir (), "catena-ledger.jsonl", NULL);
}

/* ---------------------------------------------------------------------------------------- */
/* Budget */

struct _CatenaBudget
{
  GObject parent_instance;

  GMutex lock;
  double limit;
  double spent;
  double reserved;
};

G_DEFINE_FINAL_TYPE (CatenaBudget, catena_budget, G_TYPE_OBJECT)

static void
catena_budget_finalize (GObject *object)
{
  g_mutex_clear (&CATENA_BUDGET (object)->lock);
  G_OBJECT_CLASS (catena_budget_parent_class)->finalize (object);
}

static void
catena_budget_class_init (CatenaBudgetClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = catena_budget_finalize;
}

static void
catena_budget_init (CatenaBudget *self)
{
  g_mutex_init (&self->lock);
  self->limit = -1;
}

CatenaBudget *
catena_budget_new (double limit_usd, double already_spent_usd)
{
  CatenaBudget *self = g_object_new (CATENA_TYPE_BUDGET, NULL);
  self->limit = limit_usd;
  self->spent = MAX (0, already_spent_usd);
  return self;
}

#define LOCKED(expr)                                                                             \
  double v;                                                                                      \
  g_return_val_if_fail (CATENA_IS_BUDGET (self), 0);                                             \
  g_mutex_lock (&self->lock);                                                                    \
  v = (expr);                                                                                    \
  g_mutex_unlock (&self->lock);                                                                  \
  return v

double catena_budget_get_limit (CatenaBudget *self) { LOCKED (self->limit); }
double catena_budget_get_spent (CatenaBudget *self) { LOCKED (self->spent); }
double catena_budget_get_reserved (CatenaBudget *self) { LOCKED (self->reserved); }
#undef LOCKED

void
catena_budget_set_limit (CatenaBudget *self, double limit_usd)
{
  g_return_if_fail (CATENA_IS_BUDGET (self));
  g_mutex_lock (&self->lock);
  self->limit = limit_usd;
  g_mutex_unlock (&self->lock);
}

gboolean
catena_budget_reserve (CatenaBudget *self, double amount, GError **error)
{
  gboolean ok;
  double left;

  g_return_val_if_fail (CATENA_IS_BUDGET (self), FALSE);

  g_mutex_lock (&self->lock);
  left = self->limit - self->spent - self->reserved;
  /* a millionth of a cent absorbs rounding in sums of prices */
  ok = self->limit < 0 || amount <= left + 1e-9;
  if (ok)
    self->reserved += amount;
  g_mutex_unlock (&self->lock);

  if (!ok)
    g_set_error (error, CATENA_ROUTING_ERROR, CATENA_ROUTING_ERROR_BUDGET,
                 _("The budget of $%.2f is reached: the next call costs about $%.3f and $%.3f "
                   "is left. Raise the budget to continue; finished work is kept."),
                 self->limit, amount, MAX (0, left));
  return ok;
}

void
catena_budget_settle (CatenaBudget *self, double reserved, double spent)
{
  g_return_if_fail (CATENA_IS_BUDGET (self));
  g_mutex_lock (&self->lock);
  self->reserved = MAX (0, self->reserved - reserved);
  self->spent += spent;
  g_mutex_unlock (&self->lock);
}
