/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <glib/gi18n-lib.h>
#include <string.h>

#include "catena-util-private.h"
#include "catena-asset.h"
#include "catena-error.h"
#include "catena-provider.h"
#include "catena-stages-remote.h"

/* Text to image on a provider. A run asks for `candidates` images at once (one request, one
 * seed: providers derive the others from it) and keeps them all in the cache; `pick` only
 * selects, so browsing candidates costs nothing. */
struct _CatenaStageGenerate
{
  CatenaStage parent_instance;

  char *prompt;
  char *negative_prompt;
  int width;
  int height;
  int seed;
  guint candidates;
  guint pick;
};

G_DEFINE_FINAL_TYPE (CatenaStageGenerate, catena_stage_generate, CATENA_TYPE_STAGE)

enum {
  PROP_0,
  PROP_PROMPT,
  PROP_NEGATIVE_PROMPT,
  PROP_WIDTH,
  PROP_HEIGHT,
  PROP_SEED,
  PROP_CANDIDATES,
  PROP_PICK,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static const char *
effective_prompt (CatenaStageGenerate *self, CatenaStageContext *ctx)
{
  if (self->prompt && self->prompt[0])
    return self->prompt;
  if (ctx && ctx->asset && catena_asset_get_prompt (ctx->asset))
    return catena_asset_get_prompt (ctx->asset);
  return "";
}

void
catena_stage_generate_get_size (CatenaStageGenerate *self, CatenaStageContext *ctx, int *width,
                                int *height)
{
  int edge;

  if (self->width > 0 && self->height > 0)
    {
      *width = self->width;
      *height = self->height;
      return;
    }
  /* Models generate best near 1 MP: thumbnails at 512², everything else at 1024² and the
   * upscale stage takes hero and print outputs to their size. */
  edge = ctx && ctx->asset
           ? catena_asset_class_get_long_edge (catena_asset_get_asset_class (ctx->asset))
           : 1024;
  edge = edge <= 512 ? 512 : 1024;
  *width = self->width > 0 ? self->width : edge;
  *height = self->height > 0 ? self->height : edge;
}

char *
catena_stage_generate_dup_batch_key (CatenaStageGenerate *self, CatenaStageContext *ctx)
{
  g_autoptr (GChecksum) sum = g_checksum_new (G_CHECKSUM_SHA256);
  g_autofree char *numbers = NULL;
  int w, h;

  catena_stage_generate_get_size (self, ctx, &w, &h);
  numbers = g_strdup_printf ("%d;%d;%d;%u", w, h, self->seed, self->candidates);
#define FEED(s) g_checksum_update (sum, (const guchar *) (s), strlen (s) + 1)
  FEED ("catena-generate-batch-1");
  FEED (effective_prompt (self, ctx));
  FEED (self->negative_prompt ? self->negative_prompt : "");
  FEED (numbers);
  FEED (catena_stage_get_provider (CATENA_STAGE (self)));
  FEED (catena_stage_get_model (CATENA_STAGE (self)) ? catena_stage_get_model (CATENA_STAGE (self))
                                                     : "");
#undef FEED
  return g_strdup (g_checksum_get_string (sum));
}

char *
catena_stage_generate_candidate_key (const char *batch_key, guint index)
{
  g_autofree char *text = g_strdup_printf ("catena-candidate-1;%s;%u", batch_key, index);
  return g_compute_checksum_for_string (G_CHECKSUM_SHA256, text, -1);
}

GPtrArray *
catena_stage_generate_lookup_candidates (CatenaStageGenerate *self, CatenaStageContext *ctx,
                                         CatenaCache *cache)
{
  g_autofree char *batch = catena_stage_generate_dup_batch_key (self, ctx);
  g_autoptr (GPtrArray) out = g_ptr_array_new_with_free_func (
    (GDestroyNotify) (void (*) (void)) g_object_unref);
  gboolean any = FALSE;

  for (guint i = 0; i < self->candidates; i++)
    {
      g_autofree char *key = catena_stage_generate_candidate_key (batch, i);
      GeglBuffer *b = catena_cache_lookup (cache, key, NULL);
      any |= b != NULL;
      g_ptr_array_add (out, b);
    }
  return any ? g_steal_pointer (&out) : NULL;
}

/* The input of a generate stage is everything that defines its images except `pick`. */
static char *
catena_stage_generate_input_identity (CatenaStage *stage, CatenaStageContext *ctx,
                                      GError **error)
{
  return catena_stage_generate_dup_batch_key (CATENA_STAGE_GENERATE (stage), ctx);
}

static void
forward_progress (double fraction, const char *message, gpointer user_data)
{
  catena_stage_context_report_progress (user_data, fraction);
}

static GeglBuffer *
catena_stage_generate_process (CatenaStage *stage, CatenaStageContext *ctx, GeglBuffer *input,
                               GError **error)
{
  CatenaStageGenerate *self = CATENA_STAGE_GENERATE (stage);
  CatenaCache *cache = catena_providers_get_cache ();
  CatenaProvider *provider = catena_provider_get (catena_stage_get_provider (stage));
  g_autofree char *batch = catena_stage_generate_dup_batch_key (self, ctx);
  g_autofree char *pick_key = NULL;
  g_autofree char *stage_key = NULL;
  g_autoptr (GeglBuffer) cached = NULL;
  g_autoptr (CatenaProviderRequest) req = NULL;
  g_autoptr (CatenaProviderResult) result = NULL;
  const char *model = catena_stage_get_model (stage);
  guint pick = MIN (self->pick, self->candidates - 1);

  catena_provenance_set_pending (NULL);
  pick_key = catena_stage_generate_candidate_key (batch, pick);
  if ((cached = catena_cache_lookup (cache, pick_key, NULL)))
    {
      g_autoptr (CatenaProvenance) p = catena_provenance_lookup (cache, batch);
      if (p)
        catena_provenance_set_pending (p);
      return g_steal_pointer (&cached);
    }

  if (provider == NULL)
    {
      g_set_error (error, CATENA_STAGE_ERROR, CATENA_STAGE_ERROR_INVALID_PARAMETER,
                   _("Catena does not know the provider “%s”. Choose fal, OpenAI or ComfyUI."),
                   catena_stage_get_provider (stage));
      return NULL;
    }
  req = catena_provider_request_new ("generate");
  req->model = model && model[0] ? g_strdup (model) : NULL;
  req->prompt = g_strdup (effective_prompt (self, ctx));
  req->negative_prompt = g_strdup (self->negative_prompt);
  catena_stage_generate_get_size (self, ctx, &req->width, &req->height);
  req->seed = self->seed;
  req->n_images = self->candidates;

  result = catena_provider_run (provider, req, forward_progress, ctx,
                                ctx ? ctx->cancellable : NULL, error);
  if (result == NULL)
    return NULL;

  /* Keep every candidate; a failed store costs a re-run later, not this result. */
  for (guint i = 0; i < result->images->len; i++)
    {
      g_autofree char *key = catena_stage_generate_candidate_key (batch, i);
      g_autoptr (GError) store_error = NULL;
      if (!catena_cache_store (cache, key, result->images->pdata[i], &store_error) ||
          !catena_provenance_save (result->provenance, cache, key, &store_error))
        g_warning ("%s", store_error->message);
    }
  catena_provenance_save (result->provenance, cache, batch, NULL);
  if ((stage_key = catena_stage_compute_key (stage, ctx, NULL, NULL)))
    catena_provenance_save (result->provenance, cache, stage_key, NULL);
  catena_provenance_set_pending (result->provenance);

  pick = MIN (pick, result->images->len - 1);
  return g_object_ref (g_ptr_array_index (result->images, pick));
}

static void
catena_stage_generate_get_property (GObject *object, guint prop_id, GValue *value,
                                    GParamSpec *pspec)
{
  CatenaStageGenerate *self = CATENA_STAGE_GENERATE (object);

  switch (prop_id)
    {
    case PROP_PROMPT:
      g_value_set_string (value, self->prompt);
      break;
    case PROP_NEGATIVE_PROMPT:
      g_value_set_string (value, self->negative_prompt);
      break;
    case PROP_WIDTH:
      g_value_set_int (value, self->width);
      break;
    case PROP_HEIGHT:
      g_value_set_int (value, self->height);
      break;
    case PROP_SEED:
      g_value_set_int (value, self->seed);
      break;
    case PROP_CANDIDATES:
      g_value_set_uint (value, self->candidates);
      break;
    case PROP_PICK:
      g_value_set_uint (value, self->pick);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

#define SET_NUMBER(field, getter)                                                                  \
  G_STMT_START                                                                                     \
  {                                                                                                \
    if (self->field != getter (value))                                                             \
      {                                                                                            \
        self->field = getter (value);                                                              \
        g_object_notify_by_pspec (object, pspec);                                                  \
      }                                                                                            \
  }                                                                                                \
  G_STMT_END

static void
catena_stage_generate_set_property (GObject *object, guint prop_id, const GValue *value,
                                    GParamSpec *pspec)
{
  CatenaStageGenerate *self = CATENA_STAGE_GENERATE (object);

  switch (prop_id)
    {
    case PROP_PROMPT:
      if (catena_set_str (&self->prompt, g_value_get_string (value)))
        g_object_notify_by_pspec (object, pspec);
      break;
    case PROP_NEGATIVE_PROMPT:
      if (catena_set_str (&self->negative_prompt, g_value_get_string (value)))
        g_object_notify_by_pspec (object, pspec);
      break;
    case PROP_WIDTH:
      SET_NUMBER (width, g_value_get_int);
      break;
    case PROP_HEIGHT:
      SET_NUMBER (height, g_value_get_int);
      break;
    case PROP_SEED:
      SET_NUMBER (seed, g_value_get_int);
      break;
    case PROP_CANDIDATES:
      SET_NUMBER (candidates, g_value_get_uint);
      break;
    case PROP_PICK:
      SET_NUMBER (pick, g_value_get_uint);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
catena_stage_generate_finalize (GObject *object)
{
  CatenaStageGenerate *self = CATENA_STAGE_GENERATE (object);

  g_free (self->prompt);
  g_free (self->negative_prompt);
  G_OBJECT_CLASS (catena_stage_generate_parent_class)->finalize (object);
}

static void
catena_stage_generate_class_init (CatenaStageGenerateClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  CatenaStageClass *stage_class = CATENA_STAGE_CLASS (klass);
  GParamFlags flags = G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS;

  object_class->get_property = catena_stage_generate_get_property;
  object_class->set_property = catena_stage_generate_set_property;
  object_class->finalize = catena_stage_generate_finalize;

  stage_class->kind = "generate";
  stage_class->title = N_("Generate");
  stage_class->description = N_("Make candidate images from the prompt with a model");
  stage_class->icon_name = "applications-graphics-symbolic";
  stage_class->needs_input = FALSE;
  stage_class->key_uses_asset_class = TRUE;
  stage_class->process = catena_stage_generate_process;
  stage_class->input_identity = catena_stage_generate_input_identity;

  properties[PROP_PROMPT] =
    g_param_spec_string ("prompt", N_("Prompt"),
                         N_("What to picture; empty uses the asset's prompt"), "", flags);
  properties[PROP_NEGATIVE_PROMPT] =
    g_param_spec_string ("negative-prompt", N_("Avoid"),
                         N_("What must not appear (models without negative prompts get it as "
                            "words)"),
                         "", flags);
  properties[PROP_WIDTH] =
    g_param_spec_int ("width", N_("Width"),
                      N_("Pixels; 0 follows the asset class"), 0, 2048, 0, flags);
  properties[PROP_HEIGHT] =
    g_param_spec_int ("height", N_("Height"),
                      N_("Pixels; 0 follows the asset class"), 0, 2048, 0, flags);
  properties[PROP_SEED] =
    g_param_spec_int ("seed", N_("Seed"),
                      N_("Same seed and prompt give the same images; change it for new ones"),
                      0, G_MAXINT32, 0, flags);
  properties[PROP_CANDIDATES] =
    g_param_spec_uint ("candidates", N_("Candidates"),
                       N_("How many images one run makes to choose from (each is paid for)"),
                       1, 8, 4, flags);
  properties[PROP_PICK] =
    g_param_spec_uint ("pick", N_("Pick"),
                       N_("Which candidate continues the chain (0 is the first)"), 0, 7, 0,
                       flags);
  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
catena_stage_generate_init (CatenaStageGenerate *self)
{
  self->prompt = g_strdup ("");
  self->negative_prompt = g_strdup ("");
  self->candidates = 4;
  catena_stage_set_provider (CATENA_STAGE (self), "fal");
}
