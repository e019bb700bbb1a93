/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gio/gio.h>

#include "catena-cache.h"
#include "catena-project.h"
#include "catena-router.h"

G_BEGIN_DECLS

/* What a ledger line says about a call. */
typedef enum
{
  CATENA_LEDGER_SENT,   /* written (and synced) before the request leaves */
  CATENA_LEDGER_BILLED, /* the provider answered with images: the call is paid */
  CATENA_LEDGER_FAILED, /* the call failed or was cancelled: nothing to pay */
} CatenaLedgerEvent;

/* One call. Read back from a ledger, a call whose last line is SENT is "unconfirmed": the
 * process stopped while it was in flight and the provider may have billed it. */
#define CATENA_TYPE_LEDGER_ENTRY (catena_ledger_entry_get_type ())
typedef struct
{
  char             *call_id;
  CatenaLedgerEvent event;
  gint64            time;          /* unix time, microseconds */
  char             *campaign;
  char             *asset;
  char             *stage;         /* stage id */
  char             *stage_kind;
  char             *provider;
  char             *model;
  char             *key;           /* cache key of the stage output (a content hash) */
  double            estimated_usd; /* from the pricing table, before the call */
  double            reported_usd;  /* from the provider's provenance, after it */
  gint64            started_at;    /* unix µs the request went out (billed/failed lines) */
  double            duration_s;    /* from started_at to the answer */
  char             *remote_id;
  char             *message;       /* why it failed */
} CatenaLedgerEntry;

GType              catena_ledger_entry_get_type (void) G_GNUC_CONST;
CatenaLedgerEntry *catena_ledger_entry_new      (void);
CatenaLedgerEntry *catena_ledger_entry_copy     (const CatenaLedgerEntry *self);
void               catena_ledger_entry_free     (CatenaLedgerEntry *self);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (CatenaLedgerEntry, catena_ledger_entry_free)
const char        *catena_ledger_event_to_string (CatenaLedgerEvent event);

/* The spend ledger: an append-only JSON-lines file, one self-contained record per line,
 * each write followed by fdatasync, so a killed process loses at most the line it was
 * writing (that torn line is skipped on reading). Thread-safe. */
#define CATENA_TYPE_LEDGER (catena_ledger_get_type ())
G_DECLARE_FINAL_TYPE (CatenaLedger, catena_ledger, CATENA, LEDGER, GObject)

/* Creates the file (and its folder) if needed and reads the totals already in it. */
CatenaLedger *catena_ledger_open          (const char          *path,
                                           GError             **error);
const char   *catena_ledger_get_path      (CatenaLedger        *self);
/* Fills call_id (when NULL) and time (when 0) of entry. */
gboolean      catena_ledger_append        (CatenaLedger        *self,
                                           CatenaLedgerEntry   *entry,
                                           GError             **error);
/* Money spent in campaign (NULL: all): billed calls at their reported cost, plus
 * unconfirmed ones at their estimate (they may have been billed). */
double        catena_ledger_get_spent     (CatenaLedger        *self,
                                           const char          *campaign);
guint         catena_ledger_get_n_unconfirmed (CatenaLedger    *self);
/* A call whose "sent" line has no end but whose output is in cache did complete: the
 * process stopped between storing the result and writing "billed". Writes the missing
 * "billed" lines (cost from the provenance sidecar, else the estimate); returns how many. */
guint         catena_ledger_reconcile     (CatenaLedger        *self,
                                           CatenaCache         *cache,
                                           GError             **error);
/* The same for the calls sent for key whose result a provider kept in its own cache (a
 * generate stage's candidates) before the process stopped: the next run takes it from there
 * without a request, so the call it paid for is billed then. reported_usd < 0 means "use
 * the estimate". Returns how many calls were settled. */
guint         catena_ledger_confirm_key   (CatenaLedger        *self,
                                           const char          *key,
                                           double               reported_usd,
                                           GError             **error);

/* Every call in the files, merged to its last state, in file order. */
GPtrArray    *catena_ledger_read_calls    (const char * const  *paths,
                                           GError             **error);
/* CSV (RFC 4180, header row). group_by: "call" (one row per call), "campaign", "asset"
 * (campaign+asset) or "stage" (campaign+asset+stage); campaign filters when not NULL. */
gboolean      catena_ledger_export_csv    (const char * const  *paths,
                                           const char          *group_by,
                                           const char          *campaign,
                                           GOutputStream       *out,
                                           GCancellable        *cancellable,
                                           GError             **error);

/* Next to the project file ("brand.catena" → "brand.ledger.jsonl"); for a project that was
 * never saved, "catena-ledger.jsonl" in out_dir (or the current folder). */
char         *catena_ledger_default_path  (CatenaProject       *project,
                                           const char          *out_dir);

/* A spending limit shared by the workers of a run. Money is reserved at the estimate before
 * a call and settled at the reported cost after it. limit < 0: no limit. Thread-safe. */
#define CATENA_TYPE_BUDGET (catena_budget_get_type ())
G_DECLARE_FINAL_TYPE (CatenaBudget, catena_budget, CATENA, BUDGET, GObject)

CatenaBudget *catena_budget_new           (double        limit_usd,
                                           double        already_spent_usd);
double        catena_budget_get_limit     (CatenaBudget *self);
void          catena_budget_set_limit     (CatenaBudget *self,
                                           double        limit_usd);
double        catena_budget_get_spent     (CatenaBudget *self);
double        catena_budget_get_reserved  (CatenaBudget *self);
/* FALSE (and CATENA_ROUTING_ERROR_BUDGET, saying how much is left) when spent + reserved +
 * amount would pass the limit. */
gboolean      catena_budget_reserve       (CatenaBudget *self,
                                           double        amount,
                                           GError      **error);
void          catena_budget_settle        (CatenaBudget *self,
                                           double        reserved,
                                           double        spent);

G_END_DECLS
