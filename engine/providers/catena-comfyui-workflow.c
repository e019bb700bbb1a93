/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <glib/gi18n-lib.h>
#include <string.h>

#include "catena-json-private.h"
#include "catena-asset.h"
#include "catena-chain.h"
#include "catena-error.h"
#include "catena-provider-private.h"

/* ComfyUI's API format: {"<id>": {"class_type": …, "inputs": {…}}}, a link being
 * ["<id>", <output index>]. Only standard nodes are written (see script_examples/
 * basic_api_example.py in the ComfyUI repository for the same txt2img graph). Output indices:
 * CheckpointLoaderSimple MODEL 0, CLIP 1, VAE 2; LoraLoader MODEL 0, CLIP 1; LoadImage
 * IMAGE 0, MASK 1; every other node used here has one output. */

#define DEFAULT_CHECKPOINT    "sd_xl_base_1.0.safetensors"
#define DEFAULT_UPSCALE_MODEL "RealESRGAN_x4plus.pth"

typedef struct
{
  JsonObject *prompt;
  guint next_id;
} Graph;

static char *
add_node (Graph *g, const char *class_type, JsonObject *inputs)
{
  JsonObject *node = json_object_new ();
  char *id = g_strdup_printf ("%u", ++g->next_id);

  json_object_set_string_member (node, "class_type", class_type);
  json_object_set_object_member (node, "inputs", inputs);
  json_object_set_object_member (g->prompt, id, node);
  return id;
}

static JsonNode *
link_to (const char *id, int output)
{
  JsonArray *a = json_array_new ();
  JsonNode *n = json_node_new (JSON_NODE_ARRAY);

  json_array_add_string_element (a, id);
  json_array_add_int_element (a, output);
  json_node_take_array (n, a);
  return n;
}

typedef struct
{
  char *model_id;
  int model_out;
  char *clip_id;
  int clip_out;
  char *vae_id;
} ModelRefs;

static void
model_refs_clear (ModelRefs *m)
{
  g_free (m->model_id);
  g_free (m->clip_id);
  g_free (m->vae_id);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (ModelRefs, model_refs_clear)

static void
add_checkpoint (Graph *g, const char *checkpoint, const char *lora, double lora_scale,
                ModelRefs *m)
{
  JsonObject *in = json_object_new ();
  g_autofree char *ckpt = NULL;

  json_object_set_string_member (in, "ckpt_name", checkpoint);
  ckpt = add_node (g, "CheckpointLoaderSimple", in);
  m->model_id = g_strdup (ckpt);
  m->model_out = 0;
  m->clip_id = g_strdup (ckpt);
  m->clip_out = 1;
  m->vae_id = g_strdup (ckpt);
  if (lora && lora[0])
    {
      JsonObject *li = json_object_new ();
      g_autofree char *lid = NULL;
      json_object_set_member (li, "model", link_to (ckpt, 0));
      json_object_set_member (li, "clip", link_to (ckpt, 1));
      json_object_set_string_member (li, "lora_name", lora);
      json_object_set_double_member (li, "strength_model", lora_scale);
      json_object_set_double_member (li, "strength_clip", lora_scale);
      lid = add_node (g, "LoraLoader", li);
      g_free (m->model_id);
      g_free (m->clip_id);
      m->model_id = g_strdup (lid);
      m->clip_id = g_strdup (lid);
    }
}

static char *
add_text (Graph *g, ModelRefs *m, const char *text)
{
  JsonObject *in = json_object_new ();
  json_object_set_string_member (in, "text", text ? text : "");
  json_object_set_member (in, "clip", link_to (m->clip_id, m->clip_out));
  return add_node (g, "CLIPTextEncode", in);
}

static char *
add_load_image (Graph *g, const char *name)
{
  JsonObject *in = json_object_new ();
  json_object_set_string_member (in, "image", name);
  return add_node (g, "LoadImage", in);
}

/* Samples from latent (id, output 0) and decodes: returns the IMAGE node id. */
static char *
add_sampler (Graph *g, ModelRefs *m, const char *prompt, const char *negative,
             const char *latent, gint64 seed, double denoise)
{
  g_autofree char *pos = add_text (g, m, prompt);
  g_autofree char *neg = add_text (g, m, negative);
  g_autofree char *ks = NULL;
  JsonObject *in = json_object_new ();
  JsonObject *dec = json_object_new ();

  json_object_set_member (in, "model", link_to (m->model_id, m->model_out));
  json_object_set_int_member (in, "seed", seed);
  json_object_set_int_member (in, "steps", 20);
  json_object_set_double_member (in, "cfg", 7.0);
  json_object_set_string_member (in, "sampler_name", "euler");
  json_object_set_string_member (in, "scheduler", "normal");
  json_object_set_member (in, "positive", link_to (pos, 0));
  json_object_set_member (in, "negative", link_to (neg, 0));
  json_object_set_member (in, "latent_image", link_to (latent, 0));
  json_object_set_double_member (in, "denoise", denoise);
  ks = add_node (g, "KSampler", in);
  json_object_set_member (dec, "samples", link_to (ks, 0));
  json_object_set_member (dec, "vae", link_to (m->vae_id, 2));
  return add_node (g, "VAEDecode", dec);
}

/* image-to-image from IMAGE node image_id; mask_id: a LoadImageMask node or NULL. */
static char *
add_img2img (Graph *g, ModelRefs *m, const char *image_id, const char *mask_id,
             const char *prompt, const char *negative, gint64 seed, double denoise, guint batch)
{
  JsonObject *in = json_object_new ();
  g_autofree char *latent = NULL;

  json_object_set_member (in, "pixels", link_to (image_id, 0));
  json_object_set_member (in, "vae", link_to (m->vae_id, 2));
  if (mask_id)
    {
      json_object_set_member (in, "mask", link_to (mask_id, 0));
      json_object_set_int_member (in, "grow_mask_by", 6);
      latent = add_node (g, "VAEEncodeForInpaint", in);
      /* inpainting regenerates the masked area fully */
      denoise = 1.0;
    }
  else
    latent = add_node (g, "VAEEncode", in);
  if (batch > 1)
    {
      JsonObject *rep = json_object_new ();
      json_object_set_member (rep, "samples", link_to (latent, 0));
      json_object_set_int_member (rep, "amount", batch);
      g_free (latent);
      latent = add_node (g, "RepeatLatentBatch", rep);
    }
  return add_sampler (g, m, prompt, negative, latent, seed, denoise);
}

static char *
add_upscale_model (Graph *g, const char *image_id, const char *model)
{
  JsonObject *loader = json_object_new ();
  JsonObject *up = json_object_new ();
  g_autofree char *lid = NULL;

  json_object_set_string_member (loader, "model_name", model);
  lid = add_node (g, "UpscaleModelLoader", loader);
  json_object_set_member (up, "upscale_model", link_to (lid, 0));
  json_object_set_member (up, "image", link_to (image_id, 0));
  return add_node (g, "ImageUpscaleWithModel", up);
}

static void
add_save (Graph *g, const char *image_id)
{
  JsonObject *in = json_object_new ();
  g_autofree char *id = NULL;

  json_object_set_member (in, "images", link_to (image_id, 0));
  json_object_set_string_member (in, "filename_prefix", "catena");
  id = add_node (g, "SaveImage", in);
}

JsonObject *
catena_comfyui_build_prompt (const CatenaProviderRequest *r,
                             const char *checkpoint,
                             const char *input_name,
                             const char *mask_name,
                             gint64 seed,
                             GError **error)
{
  Graph g = { json_object_new (), 0 };
  g_auto (ModelRefs) m = { 0 };
  g_autofree char *image = NULL;
  const char *kind = r->stage_kind;

  if (g_str_equal (kind, "upscale"))
    {
      g_autofree char *load = NULL;
      if (input_name == NULL)
        goto missing_input;
      load = add_load_image (&g, input_name);
      image = add_upscale_model (&g, load, checkpoint);
    }
  else if (g_str_equal (kind, "generate") || g_str_equal (kind, "style") ||
           g_str_equal (kind, "edit"))
    {
      if (r->prompt == NULL || r->prompt[0] == '\0')
        {
          g_set_error (error, CATENA_STAGE_ERROR, CATENA_STAGE_ERROR_INVALID_PARAMETER,
                       _("There is no prompt: write one on the asset or on the stage."));
          json_object_unref (g.prompt);
          return NULL;
        }
      if (g_str_equal (kind, "style") && (r->lora == NULL || r->lora[0] == '\0'))
        {
          g_set_error (error, CATENA_STAGE_ERROR, CATENA_STAGE_ERROR_INVALID_PARAMETER,
                       _("Choose the brand LoRA file (as named on the ComfyUI server)."));
          json_object_unref (g.prompt);
          return NULL;
        }
      add_checkpoint (&g, checkpoint, g_str_equal (kind, "style") ? r->lora : NULL,
                      r->lora_scale, &m);
      if (input_name == NULL && !g_str_equal (kind, "generate") && !g_str_equal (kind, "style"))
        goto missing_input;
      if (input_name)
        {
          g_autofree char *load = add_load_image (&g, input_name);
          g_autofree char *mask = NULL;
          if (mask_name)
            {
              JsonObject *mi = json_object_new ();
              json_object_set_string_member (mi, "image", mask_name);
              json_object_set_string_member (mi, "channel", "alpha");
              mask = add_node (&g, "LoadImageMask", mi);
            }
          image = add_img2img (&g, &m, load, mask, r->prompt, r->negative_prompt, seed,
                               r->denoise, r->n_images);
        }
      else
        {
          JsonObject *lat = json_object_new ();
          g_autofree char *latent = NULL;
          json_object_set_int_member (lat, "width", r->width > 0 ? r->width : 1024);
          json_object_set_int_member (lat, "height", r->height > 0 ? r->height : 1024);
          json_object_set_int_member (lat, "batch_size", r->n_images);
          latent = add_node (&g, "EmptyLatentImage", lat);
          image = add_sampler (&g, &m, r->prompt, r->negative_prompt, latent, seed, 1.0);
        }
    }
  else
    {
      g_set_error (error, CATENA_PROVIDER_ERROR, CATENA_PROVIDER_ERROR_UNSUPPORTED,
                   _("ComfyUI has no standard node for the %s stage."), kind);
      json_object_unref (g.prompt);
      return NULL;
    }
  add_save (&g, image);
  return g.prompt;

missing_input:
  g_set_error (error, CATENA_STAGE_ERROR, CATENA_STAGE_ERROR_MISSING_INPUT,
               _("The %s stage needs an image before it."), kind);
  json_object_unref (g.prompt);
  return NULL;
}

/* ---------------------------------------------------------------------------------------- */
/* Export */

static char *
dup_string_prop (CatenaStage *stage, const char *name)
{
  char *v = NULL;
  GParamSpec *p = g_object_class_find_property (G_OBJECT_GET_CLASS (stage), name);

  if (p && p->value_type == G_TYPE_STRING)
    g_object_get (stage, name, &v, NULL);
  return v;
}

static double
get_double_prop (CatenaStage *stage, const char *name, double fallback)
{
  GParamSpec *p = g_object_class_find_property (G_OBJECT_GET_CLASS (stage), name);
  GValue v = G_VALUE_INIT;
  double d = fallback;

  if (p == NULL)
    return fallback;
  g_value_init (&v, G_TYPE_DOUBLE);
  {
    GValue raw = G_VALUE_INIT;
    g_value_init (&raw, p->value_type);
    g_object_get_property (G_OBJECT (stage), name, &raw);
    if (g_value_transform (&raw, &v))
      d = g_value_get_double (&v);
    g_value_unset (&raw);
  }
  g_value_unset (&v);
  return d;
}

static const char *
checkpoint_for (CatenaStage *stage)
{
  const char *model = catena_stage_get_model (stage);
  /* a fal or OpenAI model name means nothing to ComfyUI */
  if (model && model[0] && g_strcmp0 (catena_stage_get_provider (stage), "comfyui") == 0)
    return model;
  return DEFAULT_CHECKPOINT;
}

JsonNode *
catena_comfyui_export_chain (CatenaChain *chain, CatenaAsset *asset, GPtrArray **skipped,
                             GError **error)
{
  Graph g = { json_object_new (), 0 };
  g_autofree char *image = NULL; /* IMAGE node id of the current image */
  g_autoptr (GPtrArray) skip = g_ptr_array_new_with_free_func (g_free);
  const char *asset_prompt = asset ? catena_asset_get_prompt (asset) : NULL;
  gboolean saved = FALSE;
  JsonNode *root;

  for (guint i = 0; i < catena_chain_get_n_stages (chain); i++)
    {
      CatenaStage *stage = catena_chain_get_stage (chain, i);
      const char *kind = catena_stage_get_kind (stage);
      g_autofree char *prompt = dup_string_prop (stage, "prompt");
      g_autofree char *negative = dup_string_prop (stage, "negative-prompt");
      gint64 seed = (gint64) get_double_prop (stage, "seed", 0);
      g_auto (ModelRefs) m = { 0 };
      char *next = NULL;

      if (prompt == NULL || prompt[0] == '\0')
        {
          g_free (prompt);
          prompt = g_strdup (asset_prompt ? asset_prompt : "");
        }

      if (g_str_equal (kind, "import"))
        {
          const char *src = asset ? catena_asset_get_source (asset) : NULL;
          g_autofree char *base = src ? g_path_get_basename (src) : g_strdup ("input.png");
          next = add_load_image (&g, base);
        }
      else if (g_str_equal (kind, "generate"))
        {
          JsonObject *lat = json_object_new ();
          g_autofree char *latent = NULL;
          int w = (int) get_double_prop (stage, "width", 0);
          int h = (int) get_double_prop (stage, "height", 0);
          add_checkpoint (&g, checkpoint_for (stage), NULL, 1.0, &m);
          json_object_set_int_member (lat, "width", w > 0 ? w : 1024);
          json_object_set_int_member (lat, "height", h > 0 ? h : 1024);
          json_object_set_int_member (lat, "batch_size",
                                      (gint64) get_double_prop (stage, "candidates", 1));
          latent = add_node (&g, "EmptyLatentImage", lat);
          next = add_sampler (&g, &m, prompt, negative, latent, seed, 1.0);
        }
      else if (image && (g_str_equal (kind, "style") || g_str_equal (kind, "edit")))
        {
          g_autofree char *lora = g_str_equal (kind, "style") ? dup_string_prop (stage, "lora")
                                                              : NULL;
          g_autofree char *instruction = g_str_equal (kind, "edit")
                                           ? dup_string_prop (stage, "instruction")
                                           : NULL;
          add_checkpoint (&g, checkpoint_for (stage), lora,
                          get_double_prop (stage, "strength", 1.0), &m);
          next = add_img2img (&g, &m, image, NULL, instruction ? instruction : prompt, negative,
                              seed, get_double_prop (stage, "denoise", 0.6), 1);
        }
      else if (image && g_str_equal (kind, "upscale"))
        {
          if (g_strcmp0 (catena_stage_get_provider (stage), "comfyui") == 0 &&
              catena_stage_get_model (stage) && catena_stage_get_model (stage)[0])
            next = add_upscale_model (&g, image, catena_stage_get_model (stage));
          else
            {
              JsonObject *in = json_object_new ();
              json_object_set_member (in, "image", link_to (image, 0));
              json_object_set_string_member (in, "upscale_method", "lanczos");
              json_object_set_double_member (in, "scale_by",
                                             get_double_prop (stage, "factor", 2.0));
              next = add_node (&g, "ImageScaleBy", in);
            }
        }
      else if (image && g_str_equal (kind, "export"))
        {
          add_save (&g, image);
          saved = TRUE;
        }
      else
        g_ptr_array_add (skip, g_strdup_printf (_("%s (%s): no standard ComfyUI node; the "
                                                  "image passes through unchanged"),
                                                catena_stage_get_id (stage), kind));
      if (next)
        {
          g_free (image);
          image = next;
        }
    }
  if (image == NULL)
    {
      g_set_error (error, CATENA_PROJECT_ERROR, CATENA_PROJECT_ERROR_INVALID,
                   _("The chain has no stage that makes an image (import or generate), so "
                     "there is nothing to export to ComfyUI."));
      json_object_unref (g.prompt);
      return NULL;
    }
  if (!saved)
    add_save (&g, image);
  if (skipped)
    *skipped = g_steal_pointer (&skip);
  root = json_node_new (JSON_NODE_OBJECT);
  json_node_take_object (root, g.prompt);
  return root;
}

/* ---------------------------------------------------------------------------------------- */
/* Import */

typedef struct
{
  JsonObject *prompt;
  CatenaChain *chain;
  GHashTable *used;       /* node ids turned into stages */
  GPtrArray *ignored;
  guint depth;
} Importer;

static JsonObject *
node_inputs (Importer *im, const char *id, const char **class_type)
{
  JsonObject *node = catena_json_get_object (im->prompt, id);
  *class_type = node ? catena_json_string (node, "class_type", "") : "";
  return node ? catena_json_get_object (node, "inputs") : NULL;
}

/* The node id an input links to, or NULL when it is a literal. */
static const char *
linked (JsonObject *inputs, const char *name)
{
  JsonArray *a;
  JsonNode *first;

  if (inputs == NULL || !json_object_has_member (inputs, name))
    return NULL;
  if (!JSON_NODE_HOLDS_ARRAY (json_object_get_member (inputs, name)))
    return NULL;
  a = json_object_get_array_member (inputs, name);
  if (json_array_get_length (a) != 2)
    return NULL;
  first = json_array_get_element (a, 0);
  if (!JSON_NODE_HOLDS_VALUE (first))
    return NULL;
  if (json_node_get_value_type (first) == G_TYPE_STRING)
    return json_node_get_string (first);
  return NULL;
}

static const char *
literal_string (JsonObject *inputs, const char *name)
{
  JsonNode *n = inputs && json_object_has_member (inputs, name)
                  ? json_object_get_member (inputs, name)
                  : NULL;
  return n && JSON_NODE_HOLDS_VALUE (n) && json_node_get_value_type (n) == G_TYPE_STRING
           ? json_node_get_string (n)
           : NULL;
}

static double
literal_double (JsonObject *inputs, const char *name, double fallback)
{
  JsonNode *n = inputs && json_object_has_member (inputs, name)
                  ? json_object_get_member (inputs, name)
                  : NULL;
  GType t;

  if (n == NULL || !JSON_NODE_HOLDS_VALUE (n))
    return fallback;
  t = json_node_get_value_type (n);
  if (t == G_TYPE_INT64 || t == G_TYPE_DOUBLE)
    return json_node_get_double (n);
  return fallback;
}

static void
mark (Importer *im, const char *id)
{
  if (id)
    g_hash_table_add (im->used, g_strdup (id));
}

static void
set_if (CatenaStage *stage, const char *name, const char *value)
{
  if (value && g_object_class_find_property (G_OBJECT_GET_CLASS (stage), name))
    catena_stage_set_param_from_string (stage, name, value, NULL);
}

static void
set_number (CatenaStage *stage, const char *name, double value)
{
  char buf[G_ASCII_DTOSTR_BUF_SIZE];
  set_if (stage, name, g_ascii_dtostr (buf, sizeof buf, value));
}

static CatenaStage *
new_stage (const char *kind)
{
  return catena_stage_new (kind, NULL);
}

/* Follows the model link of a KSampler: returns the checkpoint name and the LoRA, if any. */
static void
read_model_path (Importer *im, const char *id, const char **ckpt, const char **lora,
                 double *strength)
{
  for (guint guard = 0; id && guard < 32; guard++)
    {
      const char *ct;
      JsonObject *in = node_inputs (im, id, &ct);
      mark (im, id);
      if (g_str_equal (ct, "CheckpointLoaderSimple"))
        {
          *ckpt = literal_string (in, "ckpt_name");
          return;
        }
      if (g_str_equal (ct, "LoraLoader"))
        {
          *lora = literal_string (in, "lora_name");
          *strength = literal_double (in, "strength_model", 1.0);
          id = linked (in, "model");
          continue;
        }
      return;
    }
}

static const char *
text_of (Importer *im, const char *id)
{
  const char *ct;
  JsonObject *in = id ? node_inputs (im, id, &ct) : NULL;

  if (in && g_str_equal (ct, "CLIPTextEncode"))
    {
      mark (im, id);
      return literal_string (in, "text");
    }
  return NULL;
}

static gboolean import_image (Importer *im, const char *id);

/* KSampler → generate (from EmptyLatentImage) or style/edit (from VAEEncode of an image). */
static gboolean
import_sampler (Importer *im, const char *ks_id)
{
  const char *ct;
  JsonObject *in = node_inputs (im, ks_id, &ct);
  const char *ckpt = NULL, *lora = NULL, *latent_id = linked (in, "latent_image");
  const char *prompt = text_of (im, linked (in, "positive"));
  const char *negative = text_of (im, linked (in, "negative"));
  double strength = 1.0;
  JsonObject *lat;
  const char *lat_ct;
  g_autoptr (CatenaStage) stage = NULL;

  mark (im, ks_id);
  read_model_path (im, linked (in, "model"), &ckpt, &lora, &strength);
  lat = latent_id ? node_inputs (im, latent_id, &lat_ct) : NULL;
  if (lat && g_str_equal (lat_ct, "RepeatLatentBatch"))
    {
      mark (im, latent_id);
      latent_id = linked (lat, "samples");
      lat = latent_id ? node_inputs (im, latent_id, &lat_ct) : NULL;
    }
  if (lat && g_str_equal (lat_ct, "EmptyLatentImage"))
    {
      mark (im, latent_id);
      if (!(stage = new_stage ("generate")))
        return FALSE;
      set_number (stage, "width", literal_double (lat, "width", 0));
      set_number (stage, "height", literal_double (lat, "height", 0));
      set_number (stage, "candidates", literal_double (lat, "batch_size", 1));
      set_number (stage, "seed", literal_double (in, "seed", 0));
      set_if (stage, "prompt", prompt);
      set_if (stage, "negative-prompt", negative);
      catena_stage_set_provider (stage, "comfyui");
      if (ckpt)
        catena_stage_set_model (stage, ckpt);
      catena_chain_append (im->chain, stage);
      if (lora)
        {
          /* a LoRA applied while generating becomes Catena's separate style stage */
          g_autoptr (CatenaStage) style = new_stage ("style");
          if (style)
            {
              set_if (style, "lora", lora);
              set_number (style, "strength", strength);
              catena_stage_set_provider (style, "comfyui");
              if (ckpt)
                catena_stage_set_model (style, ckpt);
              catena_chain_append (im->chain, style);
            }
        }
      return TRUE;
    }
  if (lat && (g_str_equal (lat_ct, "VAEEncode") || g_str_equal (lat_ct, "VAEEncodeForInpaint")))
    {
      mark (im, latent_id);
      if (!import_image (im, linked (lat, "pixels")))
        return FALSE;
      if (!(stage = new_stage (lora ? "style" : "edit")))
        return FALSE;
      if (lora)
        {
          set_if (stage, "lora", lora);
          set_number (stage, "strength", strength);
          set_if (stage, "prompt", prompt);
        }
      else
        set_if (stage, "instruction", prompt);
      set_number (stage, "denoise", literal_double (in, "denoise", 0.6));
      set_number (stage, "seed", literal_double (in, "seed", 0));
      catena_stage_set_provider (stage, "comfyui");
      if (ckpt)
        catena_stage_set_model (stage, ckpt);
      catena_chain_append (im->chain, stage);
      return TRUE;
    }
  return FALSE;
}

/* Builds the stages that produce the IMAGE of node id, upstream first. */
static gboolean
import_image (Importer *im, const char *id)
{
  const char *ct;
  JsonObject *in;

  if (id == NULL || ++im->depth > 64)
    return FALSE;
  in = node_inputs (im, id, &ct);
  if (in == NULL)
    return FALSE;

  if (g_str_equal (ct, "LoadImage"))
    {
      g_autoptr (CatenaStage) stage = new_stage ("import");
      mark (im, id);
      if (stage)
        catena_chain_append (im->chain, stage);
      return stage != NULL;
    }
  if (g_str_equal (ct, "VAEDecode"))
    {
      const char *ks = linked (in, "samples");
      const char *ks_ct;
      mark (im, id);
      if (ks && node_inputs (im, ks, &ks_ct) &&
          (g_str_equal (ks_ct, "KSampler") || g_str_equal (ks_ct, "KSamplerAdvanced")))
        return import_sampler (im, ks);
      return FALSE;
    }
  if (g_str_equal (ct, "ImageUpscaleWithModel"))
    {
      const char *loader = linked (in, "upscale_model");
      const char *lct;
      JsonObject *lin = loader ? node_inputs (im, loader, &lct) : NULL;
      g_autoptr (CatenaStage) stage = NULL;
      mark (im, id);
      if (!import_image (im, linked (in, "image")) || !(stage = new_stage ("upscale")))
        return FALSE;
      catena_stage_set_provider (stage, "comfyui");
      if (lin && g_str_equal (lct, "UpscaleModelLoader"))
        {
          mark (im, loader);
          catena_stage_set_model (stage, literal_string (lin, "model_name"));
        }
      catena_chain_append (im->chain, stage);
      return TRUE;
    }
  if (g_str_equal (ct, "ImageScaleBy"))
    {
      g_autoptr (CatenaStage) stage = NULL;
      mark (im, id);
      if (!import_image (im, linked (in, "image")) || !(stage = new_stage ("upscale")))
        return FALSE;
      set_number (stage, "factor", literal_double (in, "scale_by", 2.0));
      catena_chain_append (im->chain, stage);
      return TRUE;
    }
  /* an unknown node: pass through its image input if it has one */
  {
    static const char *image_inputs[] = { "image", "images", "pixels" };
    for (guint i = 0; i < G_N_ELEMENTS (image_inputs); i++)
      if (linked (in, image_inputs[i]))
        return import_image (im, linked (in, image_inputs[i]));
  }
  return FALSE;
}

CatenaChain *
catena_comfyui_import_workflow (JsonNode *workflow, GPtrArray **ignored, GError **error)
{
  Importer im = { 0 };
  g_autoptr (CatenaChain) chain = catena_chain_new ();
  g_autoptr (GHashTable) used = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autoptr (GPtrArray) ign = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GList) ids = NULL;
  JsonObject *root;
  const char *save_id = NULL;

  if (workflow == NULL || !JSON_NODE_HOLDS_OBJECT (workflow))
    goto invalid;
  root = json_node_get_object (workflow);
  /* {"prompt": {...}} as posted to /prompt is accepted too */
  if (catena_json_get_object (root, "prompt") &&
      !json_object_has_member (root, "class_type"))
    root = json_object_get_object_member (root, "prompt");
  /* the UI's own format (nodes + links) is not the API format */
  if (json_object_has_member (root, "nodes") && json_object_has_member (root, "links"))
    {
      g_set_error (error, CATENA_PROJECT_ERROR, CATENA_PROJECT_ERROR_INVALID,
                   _("This is a ComfyUI UI workflow; export it with “Save (API format)” in "
                     "ComfyUI and import that file."));
      return NULL;
    }
  im.prompt = root;
  im.chain = chain;
  im.used = used;
  im.ignored = ign;

  ids = json_object_get_members (root);
  ids = g_list_sort (ids, (GCompareFunc) g_strcmp0);
  for (GList *l = ids; l; l = l->next)
    {
      JsonNode *n = json_object_get_member (root, l->data);
      if (!JSON_NODE_HOLDS_OBJECT (n) ||
          !catena_json_string (json_node_get_object (n), "class_type",
                                                       NULL))
        goto invalid;
      if (g_strcmp0 (json_object_get_string_member (json_node_get_object (n), "class_type"),
                     "SaveImage") == 0)
        save_id = l->data;
    }
  if (save_id == NULL)
    {
      g_set_error (error, CATENA_PROJECT_ERROR, CATENA_PROJECT_ERROR_INVALID,
                   _("The workflow has no SaveImage node, so Catena cannot tell which image it "
                     "makes."));
      return NULL;
    }
  {
    const char *ct;
    JsonObject *in = node_inputs (&im, save_id, &ct);
    mark (&im, save_id);
    import_image (&im, linked (in, "images"));
  }
  if (catena_chain_get_n_stages (chain) == 0)
    {
      g_set_error (error, CATENA_PROJECT_ERROR, CATENA_PROJECT_ERROR_INVALID,
                   _("Catena did not find any stage it understands in this workflow."));
      return NULL;
    }
  {
    g_autoptr (CatenaStage) export = catena_stage_new ("export", NULL);
    if (export)
      catena_chain_append (chain, export);
  }
  for (GList *l = ids; l; l = l->next)
    if (!g_hash_table_contains (used, l->data))
      g_ptr_array_add (ign, g_strdup_printf (
                              "%s (%s)", (const char *) l->data,
                              json_object_get_string_member (
                                json_object_get_object_member (root, l->data), "class_type")));
  if (ignored)
    *ignored = g_steal_pointer (&ign);
  return g_steal_pointer (&chain);

invalid:
  g_set_error (error, CATENA_PROJECT_ERROR, CATENA_PROJECT_ERROR_INVALID,
               _("This is not a ComfyUI API-format workflow (an object of nodes with "
                 "class_type and inputs)."));
  return NULL;
}
