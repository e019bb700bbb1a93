/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <glib/gi18n-lib.h>

#include "catena-util-private.h"
#include "catena-asset.h"
#include "catena-error.h"
#include "catena-lora.h"
#include "catena-provider.h"
#include "catena-stages-remote.h"

/* Applies the brand LoRA to the image (image-to-image with the LoRA loaded at `strength`:
 * fal `loras: [{path, scale}]`, ComfyUI LoraLoader strength_model/strength_clip). A remote
 * render cannot follow a slider live, so the UI scrubs across a sweep rendered once
 * (catena_stage_style_render_sweep) and renders the exact value on release. */
struct _CatenaStageStyle
{
  CatenaStage parent_instance;

  char *lora;
  double strength;
  char *prompt;
  double denoise;
  int seed;
};

G_DEFINE_FINAL_TYPE (CatenaStageStyle, catena_stage_style, CATENA_TYPE_STAGE)

enum {
  PROP_0,
  PROP_LORA,
  PROP_STRENGTH,
  PROP_PROMPT,
  PROP_DENOISE,
  PROP_SEED,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static const double sweep_strengths[] = { 0.25, 0.5, 0.75, 1.0 };

const double *
catena_stage_style_get_sweep_strengths (guint *n_strengths)
{
  *n_strengths = G_N_ELEMENTS (sweep_strengths);
  return sweep_strengths;
}

static void
forward_progress (double fraction, const char *message, gpointer user_data)
{
  catena_stage_context_report_progress (user_data, fraction);
}

static CatenaProviderRequest *
make_request (CatenaStageStyle *self, CatenaStageContext *ctx, GeglBuffer *input,
              GError **error)
{
  g_autoptr (CatenaProviderRequest) req = catena_provider_request_new ("style");
  const char *model = catena_stage_get_model (CATENA_STAGE (self));
  const char *prompt = self->prompt;

  if (self->lora == NULL || self->lora[0] == '\0')
    {
      g_set_error (error, CATENA_STAGE_ERROR, CATENA_STAGE_ERROR_INVALID_PARAMETER,
                   _("Choose the brand LoRA for the style stage."));
      return NULL;
    }
  if ((prompt == NULL || prompt[0] == '\0') && ctx && ctx->asset)
    prompt = catena_asset_get_prompt (ctx->asset);
  if (prompt == NULL || prompt[0] == '\0')
    {
      g_set_error (error, CATENA_STAGE_ERROR, CATENA_STAGE_ERROR_INVALID_PARAMETER,
                   _("The style stage needs a few words describing the image: write them on "
                     "the stage or as the asset's prompt."));
      return NULL;
    }
  req->model = model && model[0] ? g_strdup (model) : NULL;
  req->prompt = g_strdup (prompt);
  req->lora = g_strdup (self->lora);
  req->lora_scale = self->strength;
  req->denoise = self->denoise;
  req->seed = self->seed;
  req->input = input ? g_object_ref (input) : NULL;
  return g_steal_pointer (&req);
}

/* Before any paid call: a LoRA trained for another base model (an SDXL LoRA on a Flux model)
 * would be accepted by the service and silently do nothing. Local .safetensors files are
 * checked from their header; remote references (URLs, server-side names) are checked when
 * they are added to the project's LoRA library. */
static gboolean
preflight_lora (CatenaStageStyle *self, CatenaStageContext *ctx, GError **error)
{
  const char *model = catena_stage_get_model (CATENA_STAGE (self));
  g_autofree char *path = NULL;
  g_autoptr (CatenaLoraInfo) info = NULL;
  g_autoptr (GError) local_error = NULL;

  if (g_str_has_prefix (self->lora, "http://") || g_str_has_prefix (self->lora, "https://"))
    return TRUE;
  path = g_path_is_absolute (self->lora) || ctx == NULL || ctx->base_dir == NULL
           ? g_strdup (self->lora)
           : g_build_filename (ctx->base_dir, self->lora, NULL);
  if (!g_file_test (path, G_FILE_TEST_IS_REGULAR))
    return TRUE;
  if (!(info = catena_lora_inspect_file (path, &local_error)) ||
      !catena_lora_check_compatible (info, catena_base_model_for_model_id (model), &local_error))
    {
      g_set_error (error, CATENA_STAGE_ERROR, CATENA_STAGE_ERROR_INVALID_PARAMETER, "%s",
                   local_error->message);
      return FALSE;
    }
  return TRUE;
}

static CatenaProvider *
get_provider (CatenaStage *stage, GError **error)
{
  CatenaProvider *provider = catena_provider_get (catena_stage_get_provider (stage));

  if (provider == NULL)
    g_set_error (error, CATENA_STAGE_ERROR, CATENA_STAGE_ERROR_INVALID_PARAMETER,
                 _("Catena does not know the provider “%s”. Choose fal or ComfyUI."),
                 catena_stage_get_provider (stage));
  return provider;
}

static GeglBuffer *
catena_stage_style_process (CatenaStage *stage, CatenaStageContext *ctx, GeglBuffer *input,
                            GError **error)
{
  CatenaStageStyle *self = CATENA_STAGE_STYLE (stage);
  CatenaProvider *provider;
  g_autoptr (CatenaProviderRequest) req = NULL;
  g_autoptr (CatenaProviderResult) result = NULL;

  catena_provenance_set_pending (NULL);
  if (!(provider = get_provider (stage, error)) ||
      !(req = make_request (self, ctx, input, error)) || !preflight_lora (self, ctx, error))
    return NULL;
  result = catena_provider_run (provider, req, forward_progress, ctx,
                                ctx ? ctx->cancellable : NULL, error);
  if (result == NULL)
    return NULL;
  catena_provenance_set_pending (result->provenance);
  return g_object_ref (g_ptr_array_index (result->images, 0));
}

char **
catena_stage_style_render_sweep (CatenaStageStyle *self,
                                 CatenaStageContext *ctx,
                                 GeglBuffer *input,
                                 const char *input_key,
                                 CatenaCache *cache,
                                 CatenaCostConfirmFunc confirm,
                                 gpointer confirm_data,
                                 GError **error)
{
  g_autoptr (GPtrArray) keys = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GPtrArray) stages = g_ptr_array_new_with_free_func (g_object_unref);
  CatenaProvider *provider;
  double cost = 0;
  guint n_missing = 0;

  g_return_val_if_fail (CATENA_IS_STAGE_STYLE (self), NULL);
  g_return_val_if_fail (input != NULL && input_key != NULL, NULL);
  if (cache == NULL)
    cache = catena_providers_get_cache ();
  if (!(provider = get_provider (CATENA_STAGE (self), error)))
    return NULL;

  /* one copy per strength: keys are exactly what the chain computes at that strength, so
   * releasing the slider on 0.75 is a cache hit */
  for (guint i = 0; i < G_N_ELEMENTS (sweep_strengths); i++)
    {
      CatenaStage *copy = catena_stage_duplicate (CATENA_STAGE (self));
      char *key;

      g_object_set (copy, "strength", sweep_strengths[i], NULL);
      if (!(key = catena_stage_compute_key (copy, ctx, input_key, error)))
        {
          g_object_unref (copy);
          return NULL;
        }
      g_ptr_array_add (stages, copy);
      g_ptr_array_add (keys, key);
      if (!catena_cache_contains (cache, key))
        {
          g_autoptr (CatenaProviderRequest) req = make_request (CATENA_STAGE_STYLE (copy), ctx,
                                                                input, error);
          if (req == NULL)
            return NULL;
          cost += catena_provider_estimate_cost (provider, req);
          n_missing++;
        }
    }

  if (n_missing > 0 && !preflight_lora (self, ctx, error))
    return NULL;
  if (n_missing > 0 && confirm && !confirm (cost, n_missing, confirm_data))
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_CANCELLED,
                           _("The strength preview was not rendered."));
      return NULL;
    }

  for (guint i = 0, done = 0; i < stages->len; i++)
    {
      CatenaStage *copy = stages->pdata[i];
      g_autoptr (GeglBuffer) out = NULL;
      g_autoptr (CatenaProvenance) prov = NULL;

      if (catena_cache_contains (cache, keys->pdata[i]))
        continue;
      if (!(out = catena_stage_process (copy, ctx, input, error)))
        return NULL;
      if (!catena_cache_store (cache, keys->pdata[i], out, error))
        return NULL;
      if ((prov = catena_provenance_steal_pending ()))
        catena_provenance_save (prov, cache, keys->pdata[i], NULL);
      catena_stage_context_report_progress (ctx, (double) ++done / n_missing);
    }
  g_ptr_array_add (keys, NULL);
  return (char **) g_ptr_array_steal (keys, NULL);
}

static void
catena_stage_style_get_property (GObject *object, guint prop_id, GValue *value,
                                 GParamSpec *pspec)
{
  CatenaStageStyle *self = CATENA_STAGE_STYLE (object);

  switch (prop_id)
    {
    case PROP_LORA:
      g_value_set_string (value, self->lora);
      break;
    case PROP_STRENGTH:
      g_value_set_double (value, self->strength);
      break;
    case PROP_PROMPT:
      g_value_set_string (value, self->prompt);
      break;
    case PROP_DENOISE:
      g_value_set_double (value, self->denoise);
      break;
    case PROP_SEED:
      g_value_set_int (value, self->seed);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
catena_stage_style_set_property (GObject *object, guint prop_id, const GValue *value,
                                 GParamSpec *pspec)
{
  CatenaStageStyle *self = CATENA_STAGE_STYLE (object);

  switch (prop_id)
    {
    case PROP_LORA:
      if (catena_set_str (&self->lora, g_value_get_string (value)))
        g_object_notify_by_pspec (object, pspec);
      break;
    case PROP_PROMPT:
      if (catena_set_str (&self->prompt, g_value_get_string (value)))
        g_object_notify_by_pspec (object, pspec);
      break;
    case PROP_STRENGTH:
      if (self->strength != g_value_get_double (value))
        {
          self->strength = g_value_get_double (value);
          g_object_notify_by_pspec (object, pspec);
        }
      break;
    case PROP_DENOISE:
      if (self->denoise != g_value_get_double (value))
        {
          self->denoise = g_value_get_double (value);
          g_object_notify_by_pspec (object, pspec);
        }
      break;
    case PROP_SEED:
      if (self->seed != g_value_get_int (value))
        {
          self->seed = g_value_get_int (value);
          g_object_notify_by_pspec (object, pspec);
        }
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
catena_stage_style_finalize (GObject *object)
{
  CatenaStageStyle *self = CATENA_STAGE_STYLE (object);

  g_free (self->lora);
  g_free (self->prompt);
  G_OBJECT_CLASS (catena_stage_style_parent_class)->finalize (object);
}

static void
catena_stage_style_class_init (CatenaStageStyleClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  CatenaStageClass *stage_class = CATENA_STAGE_CLASS (klass);
  GParamFlags flags = G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS;

  object_class->get_property = catena_stage_style_get_property;
  object_class->set_property = catena_stage_style_set_property;
  object_class->finalize = catena_stage_style_finalize;

  stage_class->kind = "style";
  stage_class->title = N_("Brand style");
  stage_class->description = N_("Apply the brand's LoRA to the image at a chosen strength");
  stage_class->icon_name = "applications-graphics-symbolic";
  stage_class->needs_input = TRUE;
  stage_class->process = catena_stage_style_process;

  properties[PROP_LORA] =
    g_param_spec_string ("lora", N_("LoRA"),
                         N_("The brand LoRA: a URL or fal path, or its file name on the ComfyUI "
                            "server"),
                         "", flags);
  properties[PROP_STRENGTH] =
    g_param_spec_double ("strength", N_("Strength"),
                         N_("How strongly the brand style shows (1 is the LoRA as trained)"),
                         0.0, 2.0, 0.75, flags);
  properties[PROP_PROMPT] =
    g_param_spec_string ("prompt", N_("Description"),
                         N_("A few words describing the image; empty uses the asset's prompt"),
                         "", flags);
  properties[PROP_DENOISE] =
    g_param_spec_double ("denoise", N_("Freedom"),
                         N_("How much the model may redraw the image (low keeps the product "
                            "exact)"),
                         0.05, 1.0, 0.35, flags);
  properties[PROP_SEED] =
    g_param_spec_int ("seed", N_("Seed"), N_("Change it for another variation"), 0, G_MAXINT32,
                      0, flags);
  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
catena_stage_style_init (CatenaStageStyle *self)
{
  self->lora = g_strdup ("");
  self->prompt = g_strdup ("");
  self->strength = 0.75;
  self->denoise = 0.35;
  catena_stage_set_provider (CATENA_STAGE (self), "fal");
}
