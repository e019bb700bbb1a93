/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gio/gio.h>
#include <json-glib/json-glib.h>

#include "catena-project.h"
#include "catena-stage.h"

G_BEGIN_DECLS

/* Review states, approvals, the delivery gate and contact sheets. Everything lives in the
 * project's "review" section: per-asset state, comments and an append-only audit log. */

#define CATENA_REVIEW_ERROR (catena_review_error_quark ())
typedef enum
{
  CATENA_REVIEW_ERROR_INVALID,            /* the "review" section is malformed */
  CATENA_REVIEW_ERROR_UNKNOWN_ASSET,      /* no such asset in the project */
  CATENA_REVIEW_ERROR_UNKNOWN_STAGE,      /* a comment names a stage the chain lacks */
  CATENA_REVIEW_ERROR_TRANSITION,         /* e.g. draft → approved */
  CATENA_REVIEW_ERROR_NOT_APPROVED,       /* delivery without approval (or approval stale) */
  CATENA_REVIEW_ERROR_NO_OUTPUT,          /* the chain has no stage that writes a file */
  CATENA_REVIEW_ERROR_EMPTY,              /* empty comment text or override reason */
  CATENA_REVIEW_ERROR_FAILED,
} CatenaReviewError;

GQuark catena_review_error_quark (void);

typedef enum
{
  CATENA_REVIEW_STATE_DRAFT,
  CATENA_REVIEW_STATE_IN_REVIEW,
  CATENA_REVIEW_STATE_CHANGES_REQUESTED,
  CATENA_REVIEW_STATE_APPROVED,
  CATENA_REVIEW_STATE_REJECTED,
} CatenaReviewState;

#define CATENA_TYPE_REVIEW_STATE (catena_review_state_get_type ())
GType        catena_review_state_get_type     (void) G_GNUC_CONST;
/* "draft", "in-review", "changes-requested", "approved", "rejected" */
const char  *catena_review_state_to_string    (CatenaReviewState  state);
/* Also accepts '_' for '-' ("in_review"). */
gboolean     catena_review_state_from_string  (const char        *text,
                                               CatenaReviewState *state);
/* Translated, for people: "In review". */
const char  *catena_review_state_get_title    (CatenaReviewState  state);
/* The workflow: draft → in review → changes requested / approved / rejected; changes
 * requested → in review / draft; approved → in review / changes requested (reopened);
 * rejected → draft / in review. Staying in the same state is not a transition. */
gboolean     catena_review_state_can_change   (CatenaReviewState  from,
                                               CatenaReviewState  to);

/* ---------------------------------------------------------------------------------------- */
/* A comment on an asset, optionally on one stage's intermediate and a region of it. */

#define CATENA_TYPE_REVIEW_COMMENT (catena_review_comment_get_type ())
G_DECLARE_FINAL_TYPE (CatenaReviewComment, catena_review_comment, CATENA, REVIEW_COMMENT,
                      GObject)

const char *catena_review_comment_get_id       (CatenaReviewComment *self);
const char *catena_review_comment_get_asset_id (CatenaReviewComment *self);
/* NULL: about the asset as a whole. */
const char *catena_review_comment_get_stage_id (CatenaReviewComment *self);
const char *catena_review_comment_get_author   (CatenaReviewComment *self);
/* UTC, ISO 8601 ("2024-05-01T09:30:00Z"). */
const char *catena_review_comment_get_time     (CatenaReviewComment *self);
const char *catena_review_comment_get_text     (CatenaReviewComment *self);
/* In pixels of the stage's output (its full-resolution intermediate). FALSE: no region. */
gboolean    catena_review_comment_get_region   (CatenaReviewComment *self,
                                                int                 *x,
                                                int                 *y,
                                                int                 *width,
                                                int                 *height);

/* ---------------------------------------------------------------------------------------- */
/* One line of the audit log. Never edited or removed once written. */

#define CATENA_TYPE_REVIEW_ENTRY (catena_review_entry_get_type ())
G_DECLARE_FINAL_TYPE (CatenaReviewEntry, catena_review_entry, CATENA, REVIEW_ENTRY, GObject)

/* "state", "comment", "override", "deliver" */
const char *catena_review_entry_get_action     (CatenaReviewEntry *self);
const char *catena_review_entry_get_asset_id   (CatenaReviewEntry *self);
const char *catena_review_entry_get_user       (CatenaReviewEntry *self);
const char *catena_review_entry_get_time       (CatenaReviewEntry *self);
/* For "state": the states as strings; NULL otherwise. */
const char *catena_review_entry_get_from_state (CatenaReviewEntry *self);
const char *catena_review_entry_get_to_state   (CatenaReviewEntry *self);
/* The note, comment text, override reason or delivered file; nullable. */
const char *catena_review_entry_get_text       (CatenaReviewEntry *self);

/* ---------------------------------------------------------------------------------------- */

#define CATENA_TYPE_REVIEW (catena_review_get_type ())
G_DECLARE_FINAL_TYPE (CatenaReview, catena_review, CATENA, REVIEW, GObject)

/* An empty review not bound to a project. */
CatenaReview *catena_review_new               (void);
/* Reads the project's "review" section (none: everything is a draft) and writes every later
 * change back into it (the caller saves the project file). */
CatenaReview *catena_review_new_for_project   (CatenaProject     *project,
                                               GError           **error);
gboolean      catena_review_load_json         (CatenaReview      *self,
                                               JsonNode          *node,
                                               GError           **error);
JsonNode     *catena_review_to_json           (CatenaReview      *self);
CatenaProject *catena_review_get_project      (CatenaReview      *self);

/* Who changes are recorded as. Default: $CATENA_USER, else the real name, else the login. */
const char   *catena_review_get_user          (CatenaReview      *self);
void          catena_review_set_user          (CatenaReview      *self,
                                               const char        *user);

CatenaReviewState catena_review_get_state     (CatenaReview      *self,
                                               const char        *asset_id);
/* output_key: the cache key of the final stage the reviewer looked at; stored with an
 * approval so delivery can tell when the chain changed afterwards. Nullable. note nullable.
 * Emits "state-changed" (asset_id, old, new) and "changed". */
gboolean      catena_review_set_state         (CatenaReview      *self,
                                               const char        *asset_id,
                                               CatenaReviewState  state,
                                               const char        *note,
                                               const char        *output_key,
                                               GError           **error);
/* The output key stored with the approval; NULL when none was given or not approved. */
const char   *catena_review_get_approved_key  (CatenaReview      *self,
                                               const char        *asset_id);

/* stage_id and region nullable; region in pixels of that stage's output. Emits
 * "comment-added" (CatenaReviewComment) and "changed". Returns the comment (owned by self). */
CatenaReviewComment *catena_review_add_comment (CatenaReview       *self,
                                                const char         *asset_id,
                                                const char         *stage_id,
                                                const GeglRectangle *region,
                                                const char         *text,
                                                GError            **error);
/* A live GListModel of CatenaReviewComment for one asset, oldest first (transfer none). */
GListModel   *catena_review_get_comments      (CatenaReview      *self,
                                               const char        *asset_id);
/* The whole audit log, oldest first: a live GListModel of CatenaReviewEntry (transfer none). */
GListModel   *catena_review_get_log           (CatenaReview      *self);

/* Delivery records (used by catena_deliver_assets). reason must not be empty. */
gboolean      catena_review_log_override      (CatenaReview      *self,
                                               const char        *asset_id,
                                               const char        *reason,
                                               GError           **error);
void          catena_review_log_delivery      (CatenaReview      *self,
                                               const char        *asset_id,
                                               const char        *path);

/* Current UTC time as ISO 8601 with a Z ("2024-05-01T09:30:00Z"). */
char         *catena_review_now_iso8601       (void);

/* ---------------------------------------------------------------------------------------- */
/* Delivery gate */

/* Delivers approved assets (assets NULL: every asset) into dest_dir. Each asset whose state
 * is not approved, or whose approval was given for an output that the chain no longer
 * produces, is refused with CATENA_REVIEW_ERROR_NOT_APPROVED (nothing is written) unless
 * override_reason is given: then the override is recorded in the audit log first.
 * For each asset: runs the chain through the cache (CatenaRunner, nothing written), writes
 * the export stage's file, a provenance note embedded in the file (PNG iTXt / JPEG COM,
 * keyword "Catena-Provenance") and <file>.provenance.json next to it, and logs the delivery.
 * The review section of project is updated; the caller saves the project.
 * Blocking: runs its own main context; call from a worker thread in a UI.
 * out_paths (nullable) receives the written image paths. */
gboolean catena_deliver_assets (CatenaProject      *project,
                                GPtrArray          *assets,
                                const char         *dest_dir,
                                const char         *override_reason,
                                GCancellable       *cancellable,
                                CatenaProgressFunc  progress,
                                gpointer            progress_data,
                                GPtrArray         **out_paths,
                                GError            **error);

/* The provenance record of one asset (what the sidecar holds): every stage's kind, id,
 * provider, model, parameters, seed, cost and input/output cache keys. Blocking (hashes the
 * source photo). */
JsonNode *catena_deliver_build_provenance (CatenaProject *project,
                                           CatenaAsset   *asset,
                                           GCancellable  *cancellable,
                                           GError       **error);

/* Embeds text in an existing PNG (iTXt chunk, UTF-8, before IDAT) or JPEG (COM segment after
 * SOI/APP markers) under keyword, atomically. Other formats: G_IO_ERROR_NOT_SUPPORTED. */
gboolean catena_image_embed_text (const char  *path,
                                  const char  *keyword,
                                  const char  *text,
                                  GError     **error);
/* Reads back what catena_image_embed_text wrote (NULL if absent or unreadable). */
char    *catena_image_read_text  (const char  *path,
                                  const char  *keyword);

/* ---------------------------------------------------------------------------------------- */
/* Contact sheet: an A4 landscape PDF, one asset per page, with the final output, a strip of
 * every stage's intermediate (from the cache; "not run" when missing), the review state and
 * the comments. assets NULL: every asset. Never runs stages. */
gboolean catena_contact_sheet_write (CatenaProject *project,
                                     GPtrArray     *assets,
                                     const char    *pdf_path,
                                     GCancellable  *cancellable,
                                     GError       **error);

G_END_DECLS
