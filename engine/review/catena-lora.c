/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>
#include <math.h>
#include <string.h>

#include "catena-json-private.h"
#include "catena-lora.h"
#include "catena-provider-private.h"

/* A LoRA only changes the layers whose names it carries: an SDXL LoRA given to a Flux model
 * matches no layer and the paid run comes back unstyled, with no error from anyone. So the
 * library reads each file's header and decides its base model from facts of the key layout
 * (metadata can be wrong or missing; keys are what the loader matches):
 *  - Flux: "double_blocks"/"single_blocks" (BFL and kohya naming, lora_unet_double_blocks_…)
 *    or diffusers' "single_transformer_blocks".
 *  - SD3: MMDiT "joint_blocks" or diffusers "transformer.transformer_blocks" without any
 *    single block.
 *  - UNet models by the width of cross-attention context, the input dimension of the
 *    attn2.to_k / attn2.to_v down (A) matrices: 768 for SD 1.x (CLIP ViT-L), 1024 for 2.x
 *    (OpenCLIP ViT-H), 2048 for SDXL (CLIP-L 768 + OpenCLIP bigG 1280 concatenated).
 *  - Without attention keys: two text encoders (kohya lora_te1_/lora_te2_, diffusers
 *    text_encoder_2.) mean SDXL; one text encoder's width (mlp fc1 input) tells 1.x (768)
 *    from 2.x (1024); kohya's SDXL UNet names use input_blocks/middle_block/output_blocks.
 *  - Only then the training metadata: ss_base_model_version (kohya sd-scripts) or
 *    modelspec.architecture. */

G_DEFINE_QUARK (catena-lora-error-quark, catena_lora_error)

#define MAX_JSON_DEPTH 32   /* a header is two levels deep; deeper is an attack on the parser */
#define MAX_TRIGGERS   6

static const struct
{
  CatenaBaseModel base;
  const char *name;
} base_names[] = {
  { CATENA_BASE_MODEL_UNKNOWN, "unknown" },
  { CATENA_BASE_MODEL_SD1, "sd1" },
  { CATENA_BASE_MODEL_SD2, "sd2" },
  { CATENA_BASE_MODEL_SDXL, "sdxl" },
  { CATENA_BASE_MODEL_SD3, "sd3" },
  { CATENA_BASE_MODEL_FLUX, "flux" },
};

const char *
catena_base_model_to_string (CatenaBaseModel base)
{
  for (guint i = 0; i < G_N_ELEMENTS (base_names); i++)
    if (base_names[i].base == base)
      return base_names[i].name;
  return "unknown";
}

CatenaBaseModel
catena_base_model_from_string (const char *text)
{
  for (guint i = 0; text && i < G_N_ELEMENTS (base_names); i++)
    if (g_ascii_strcasecmp (text, base_names[i].name) == 0)
      return base_names[i].base;
  return CATENA_BASE_MODEL_UNKNOWN;
}

static const char *
base_title (CatenaBaseModel base)
{
  switch (base)
    {
    case CATENA_BASE_MODEL_SD1: return _("Stable Diffusion 1.x");
    case CATENA_BASE_MODEL_SD2: return _("Stable Diffusion 2.x");
    case CATENA_BASE_MODEL_SDXL: return _("SDXL");
    case CATENA_BASE_MODEL_SD3: return _("Stable Diffusion 3");
    case CATENA_BASE_MODEL_FLUX: return _("Flux");
    case CATENA_BASE_MODEL_UNKNOWN:
    default: return _("an unknown model");
    }
}

CatenaBaseModel
catena_base_model_for_model_id (const char *model_id)
{
  g_autofree char *m = NULL;

  if (model_id == NULL || model_id[0] == '\0')
    return CATENA_BASE_MODEL_UNKNOWN;
  m = g_ascii_strdown (model_id, -1);
  /* most specific first: "sdxl" contains "sd", "sd3" must not read as SD 1 */
  if (strstr (m, "flux"))
    return CATENA_BASE_MODEL_FLUX;
  if (strstr (m, "sd3") || strstr (m, "stable-diffusion-3") || strstr (m, "sd-3"))
    return CATENA_BASE_MODEL_SD3;
  if (strstr (m, "sdxl") || strstr (m, "sd_xl") || strstr (m, "stable-diffusion-xl") ||
      strstr (m, "-xl") || g_str_has_suffix (m, "xl") || strstr (m, "xl.") || strstr (m, "xl_"))
    return CATENA_BASE_MODEL_SDXL;
  if (strstr (m, "stable-diffusion-2") || strstr (m, "sd2") || strstr (m, "v2-1") ||
      strstr (m, "sd-2"))
    return CATENA_BASE_MODEL_SD2;
  if (strstr (m, "v1-5") || strstr (m, "sd15") || strstr (m, "sd1") ||
      strstr (m, "stable-diffusion-v1") || strstr (m, "sd-1") || strstr (m, "sd_1"))
    return CATENA_BASE_MODEL_SD1;
  return CATENA_BASE_MODEL_UNKNOWN;
}

/* ---------------------------------------------------------------------------------------- */

static gboolean
st_error (GError    **error,
          int         code,
          const char *what)
{
  g_set_error (error, CATENA_LORA_ERROR, code,
               _("This is not a usable .safetensors file: %s. Download or export it again."),
               what);
  return FALSE;
}

static void
tensor_free (CatenaSafetensorsTensor *t)
{
  g_free (t->name);
  g_free (t->dtype);
  g_free (t);
}

void
catena_safetensors_free (CatenaSafetensors *st)
{
  if (st == NULL)
    return;
  g_ptr_array_unref (st->tensors);
  g_hash_table_unref (st->metadata);
  g_free (st);
}

static int
dtype_size (const char *dtype)
{
  static const struct { const char *name; int size; } sizes[] = {
    { "BOOL", 1 }, { "U8", 1 }, { "I8", 1 }, { "F8_E5M2", 1 }, { "F8_E4M3", 1 },
    { "I16", 2 }, { "U16", 2 }, { "F16", 2 }, { "BF16", 2 },
    { "I32", 4 }, { "U32", 4 }, { "F32", 4 },
    { "I64", 8 }, { "U64", 8 }, { "F64", 8 },
  };

  for (guint i = 0; i < G_N_ELEMENTS (sizes); i++)
    if (g_str_equal (dtype, sizes[i].name))
      return sizes[i].size;
  return 0;
}

/* json-glib's parser recurses per nesting level: bound the depth before handing it over. */
static gboolean
json_depth_ok (const guint8 *p,
               gsize         len)
{
  gboolean in_string = FALSE, escaped = FALSE;
  int depth = 0;

  for (gsize i = 0; i < len; i++)
    {
      guint8 c = p[i];

      if (in_string)
        {
          if (escaped)
            escaped = FALSE;
          else if (c == '\\')
            escaped = TRUE;
          else if (c == '"')
            in_string = FALSE;
        }
      else if (c == '"')
        in_string = TRUE;
      else if (c == '[' || c == '{')
        {
          if (++depth > MAX_JSON_DEPTH)
            return FALSE;
        }
      else if (c == ']' || c == '}')
        depth--;
    }
  return TRUE;
}

static gboolean
get_uint (JsonNode *n,
          guint64  *out)
{
  gint64 v;

  if (n == NULL || !JSON_NODE_HOLDS_VALUE (n) || json_node_get_value_type (n) != G_TYPE_INT64)
    return FALSE;
  v = json_node_get_int (n);
  if (v < 0)
    return FALSE;
  *out = (guint64) v;
  return TRUE;
}

static int
compare_begin (gconstpointer a,
               gconstpointer b)
{
  const CatenaSafetensorsTensor *ta = *(CatenaSafetensorsTensor **) a;
  const CatenaSafetensorsTensor *tb = *(CatenaSafetensorsTensor **) b;

  if (ta->begin != tb->begin)
    return ta->begin < tb->begin ? -1 : 1;
  return ta->end < tb->end ? -1 : ta->end > tb->end;
}

static int
compare_name (gconstpointer a,
              gconstpointer b)
{
  return strcmp ((*(CatenaSafetensorsTensor **) a)->name, (*(CatenaSafetensorsTensor **) b)->name);
}

CatenaSafetensors *
catena_safetensors_parse (const guint8 *data,
                          gsize         length,
                          guint64       file_size,
                          GError      **error)
{
  g_autoptr (CatenaSafetensors) st = NULL;
  g_autoptr (JsonParser) parser = NULL;
  g_autoptr (GList) members = NULL;
  g_autoptr (GPtrArray) by_offset = NULL;
  JsonNode *root;
  JsonObject *o;
  guint64 n, expected = 0;

  if (length < 8)
    return st_error (error, CATENA_LORA_ERROR_INVALID, _("it is shorter than its header")), NULL;
  n = GUINT64_FROM_LE (*(const guint64 *) (const void *) data);
  if (n > CATENA_SAFETENSORS_MAX_HEADER)
    {
      g_set_error (error, CATENA_LORA_ERROR, CATENA_LORA_ERROR_TOO_LARGE,
                   _("This .safetensors file claims a header over 100 MB; Catena does not "
                     "read it (real LoRA headers are a few hundred KB)."));
      return NULL;
    }
  if (n < 2 || length - 8 < n || (file_size > 0 && file_size - 8 < n))
    return st_error (error, CATENA_LORA_ERROR_INVALID, _("the file is cut short in its header")),
           NULL;
  if (data[8] != '{')
    return st_error (error, CATENA_LORA_ERROR_INVALID, _("its header is not a JSON object")),
           NULL;
  if (!json_depth_ok (data + 8, n) || memchr (data + 8, '\0', n) != NULL)
    return st_error (error, CATENA_LORA_ERROR_INVALID, _("its header is not plain JSON")), NULL;

  parser = json_parser_new_immutable ();
  if (!json_parser_load_from_data (parser, (const char *) data + 8, (gssize) n, NULL) ||
      (root = json_parser_get_root (parser)) == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    return st_error (error, CATENA_LORA_ERROR_INVALID, _("its header is not valid JSON")), NULL;

  st = g_new0 (CatenaSafetensors, 1);
  st->tensors = g_ptr_array_new_with_free_func ((GDestroyNotify) tensor_free);
  st->metadata = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  st->header_length = n;
  st->file_size = file_size;
  o = json_node_get_object (root);
  members = json_object_get_members (o);
  for (GList *l = members; l; l = l->next)
    {
      const char *name = l->data;
      JsonNode *member = json_object_get_member (o, name);
      JsonObject *to;
      JsonNode *dn, *sn, *on;
      JsonArray *shape, *offsets;
      CatenaSafetensorsTensor *t;
      guint64 bytes;
      int esize;

      if (g_str_equal (name, "__metadata__"))
        {
          g_autoptr (GList) keys = NULL;
          JsonObject *mo;

          if (!JSON_NODE_HOLDS_OBJECT (member))
            return st_error (error, CATENA_LORA_ERROR_INVALID,
                             _("its metadata is not an object")), NULL;
          mo = json_node_get_object (member);
          keys = json_object_get_members (mo);
          for (GList *k = keys; k; k = k->next)
            {
              JsonNode *v = json_object_get_member (mo, k->data);
              if (!JSON_NODE_HOLDS_VALUE (v) || json_node_get_value_type (v) != G_TYPE_STRING)
                return st_error (error, CATENA_LORA_ERROR_INVALID,
                                 _("a metadata value is not text")), NULL;
              g_hash_table_replace (st->metadata, g_strdup (k->data),
                                    g_strdup (json_node_get_string (v)));
            }
          continue;
        }

      if (!JSON_NODE_HOLDS_OBJECT (member))
        return st_error (error, CATENA_LORA_ERROR_INVALID, _("a tensor entry is not an object")),
               NULL;
      to = json_node_get_object (member);
      dn = json_object_get_member (to, "dtype");
      sn = json_object_get_member (to, "shape");
      on = json_object_get_member (to, "data_offsets");
      if (dn == NULL || !JSON_NODE_HOLDS_VALUE (dn) ||
          json_node_get_value_type (dn) != G_TYPE_STRING || sn == NULL ||
          !JSON_NODE_HOLDS_ARRAY (sn) || on == NULL || !JSON_NODE_HOLDS_ARRAY (on))
        return st_error (error, CATENA_LORA_ERROR_INVALID,
                         _("a tensor lacks its dtype, shape or offsets")), NULL;
      esize = dtype_size (json_node_get_string (dn));
      if (esize == 0)
        return st_error (error, CATENA_LORA_ERROR_INVALID, _("a tensor has an unknown dtype")),
               NULL;
      shape = json_node_get_array (sn);
      offsets = json_node_get_array (on);
      if (json_array_get_length (shape) > G_N_ELEMENTS (t->shape) ||
          json_array_get_length (offsets) != 2)
        return st_error (error, CATENA_LORA_ERROR_INVALID,
                         _("a tensor's shape or offsets are malformed")), NULL;

      t = g_new0 (CatenaSafetensorsTensor, 1);
      g_ptr_array_add (st->tensors, t);
      t->name = g_strdup (name);
      t->dtype = g_strdup (json_node_get_string (dn));
      t->n_dims = json_array_get_length (shape);
      bytes = esize;
      for (guint d = 0; d < t->n_dims; d++)
        if (!get_uint (json_array_get_element (shape, d), &t->shape[d]) ||
            !g_uint64_checked_mul (&bytes, bytes, t->shape[d]))
          return st_error (error, CATENA_LORA_ERROR_INVALID,
                           _("a tensor's shape is not a list of sizes")), NULL;
      if (!get_uint (json_array_get_element (offsets, 0), &t->begin) ||
          !get_uint (json_array_get_element (offsets, 1), &t->end) || t->end < t->begin)
        return st_error (error, CATENA_LORA_ERROR_INVALID,
                         _("a tensor's offsets are not a byte range")), NULL;
      if (t->end - t->begin != bytes)
        return st_error (error, CATENA_LORA_ERROR_INVALID,
                         _("a tensor's size does not match its shape and dtype")), NULL;
    }

  /* The tensors must tile the byte buffer exactly: no overlap, no hole, nothing past its end
   * (the reference implementation refuses the same). */
  /* a plain view: g_ptr_array_copy would also copy the free function */
  by_offset = g_ptr_array_sized_new (st->tensors->len);
  for (guint i = 0; i < st->tensors->len; i++)
    g_ptr_array_add (by_offset, g_ptr_array_index (st->tensors, i));
  g_ptr_array_sort (by_offset, compare_begin);
  for (guint i = 0; i < by_offset->len; i++)
    {
      CatenaSafetensorsTensor *t = g_ptr_array_index (by_offset, i);

      if (t->begin != expected)
        return st_error (error, CATENA_LORA_ERROR_INVALID,
                         _("its tensors overlap or leave gaps")), NULL;
      expected = t->end;
    }
  if (file_size > 0 && expected != file_size - 8 - n)
    return st_error (error, CATENA_LORA_ERROR_INVALID,
                     expected > file_size - 8 - n ? _("the file is cut short")
                                                  : _("the file has data its header does not "
                                                      "describe")), NULL;
  g_ptr_array_sort (st->tensors, compare_name);
  return g_steal_pointer (&st);
}

CatenaSafetensors *
catena_safetensors_read_header (const char *path,
                                GError    **error)
{
  g_autoptr (GFile) file = g_file_new_for_path (path);
  g_autoptr (GFileInputStream) in = NULL;
  g_autoptr (GFileInfo) info = NULL;
  g_autoptr (GError) local_error = NULL;
  g_autofree guint8 *buf = NULL;
  g_autofree char *name = g_filename_display_basename (path);
  guint8 head[8];
  gsize got = 0;
  guint64 size, n;
  CatenaSafetensors *st;

  if (!(in = g_file_read (file, NULL, &local_error)) ||
      !(info = g_file_input_stream_query_info (in, G_FILE_ATTRIBUTE_STANDARD_SIZE, NULL,
                                               &local_error)))
    {
      g_set_error (error, CATENA_LORA_ERROR, CATENA_LORA_ERROR_IO,
                   _("Could not read the LoRA “%s”: %s"), name, local_error->message);
      return NULL;
    }
  size = g_file_info_get_size (info);
  if (!g_input_stream_read_all (G_INPUT_STREAM (in), head, 8, &got, NULL, &local_error) ||
      got < 8)
    {
      g_set_error (error, CATENA_LORA_ERROR, CATENA_LORA_ERROR_INVALID,
                   _("“%s” is not a .safetensors file: it is shorter than its header."), name);
      return NULL;
    }
  n = GUINT64_FROM_LE (*(guint64 *) (void *) head);
  if (n > CATENA_SAFETENSORS_MAX_HEADER || n > size - 8)
    return catena_safetensors_parse (head, 8, size, error);
  buf = g_malloc (8 + n);
  memcpy (buf, head, 8);
  if (!g_input_stream_read_all (G_INPUT_STREAM (in), buf + 8, n, &got, NULL, &local_error) ||
      got < n)
    {
      g_set_error (error, CATENA_LORA_ERROR, CATENA_LORA_ERROR_IO,
                   _("Could not read the LoRA “%s”: it is cut short."), name);
      return NULL;
    }
  st = catena_safetensors_parse (buf, 8 + n, size, &local_error);
  if (st == NULL)
    g_set_error (error, local_error->domain, local_error->code, "“%s”: %s", name,
                 local_error->message);
  return st;
}

/* ---------------------------------------------------------------------------------------- */

void
catena_lora_info_free (CatenaLoraInfo *info)
{
  if (info == NULL)
    return;
  g_free (info->source);
  g_free (info->name);
  g_free (info->evidence);
  g_free (info->metadata_base);
  g_strfreev (info->triggers);
  g_free (info);
}

static gboolean
is_down_weight (const char *name)
{
  return g_str_has_suffix (name, "lora_down.weight") || g_str_has_suffix (name, "lora_A.weight") ||
         g_str_has_suffix (name, "lora.down.weight") || g_str_has_suffix (name, ".down.weight") ||
         g_str_has_suffix (name, "hada_w1_a") || g_str_has_suffix (name, "lokr_w1");
}

static CatenaBaseModel
base_from_metadata (const char *text)
{
  g_autofree char *m = text ? g_ascii_strdown (text, -1) : NULL;

  if (m == NULL)
    return CATENA_BASE_MODEL_UNKNOWN;
  if (strstr (m, "flux"))
    return CATENA_BASE_MODEL_FLUX;
  if (strstr (m, "sdxl") || strstr (m, "stable-diffusion-xl"))
    return CATENA_BASE_MODEL_SDXL;
  if (strstr (m, "v3") || strstr (m, "sd3"))
    return CATENA_BASE_MODEL_SD3;
  if (strstr (m, "sd_v2") || strstr (m, "stable-diffusion-v2"))
    return CATENA_BASE_MODEL_SD2;
  if (strstr (m, "sd_v1") || strstr (m, "stable-diffusion-v1"))
    return CATENA_BASE_MODEL_SD1;
  return CATENA_BASE_MODEL_UNKNOWN;
}

typedef struct
{
  char *tag;
  gint64 count;
} TagCount;

static int
compare_tags (gconstpointer a,
              gconstpointer b)
{
  const TagCount *ta = a, *tb = b;

  if (ta->count != tb->count)
    return ta->count > tb->count ? -1 : 1;
  return g_strcmp0 (ta->tag, tb->tag);
}

/* ss_tag_frequency is a JSON string: {"<dataset folder>": {"<tag>": count, …}, …}. */
static char **
triggers_from_metadata (GHashTable *metadata)
{
  const char *freq = g_hash_table_lookup (metadata, "ss_tag_frequency");
  const char *phrase = g_hash_table_lookup (metadata, "modelspec.trigger_phrase");
  g_autoptr (GStrvBuilder) out = g_strv_builder_new ();
  guint n_out = 0;

  if (phrase != NULL && phrase[0] != '\0')
    {
      g_strv_builder_add (out, phrase);
      n_out++;
    }
  if (freq != NULL && strlen (freq) < 16 * 1024 * 1024 &&
      json_depth_ok ((const guint8 *) freq, strlen (freq)))
    {
      g_autoptr (JsonParser) parser = json_parser_new_immutable ();
      g_autoptr (GHashTable) counts = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
      g_autoptr (GArray) sorted = g_array_new (FALSE, FALSE, sizeof (TagCount));
      JsonNode *root;

      if (json_parser_load_from_data (parser, freq, -1, NULL) &&
          (root = json_parser_get_root (parser)) != NULL && JSON_NODE_HOLDS_OBJECT (root))
        {
          g_autoptr (GList) dirs = json_object_get_members (json_node_get_object (root));

          for (GList *d = dirs; d; d = d->next)
            {
              JsonNode *dn = json_object_get_member (json_node_get_object (root), d->data);
              g_autoptr (GList) tags = NULL;

              if (!JSON_NODE_HOLDS_OBJECT (dn))
                continue;
              tags = json_object_get_members (json_node_get_object (dn));
              for (GList *t = tags; t; t = t->next)
                {
                  JsonNode *cn = json_object_get_member (json_node_get_object (dn), t->data);
                  g_autofree char *tag = g_strstrip (g_strdup (t->data));
                  gint64 c;

                  if (!JSON_NODE_HOLDS_VALUE (cn) ||
                      json_node_get_value_type (cn) != G_TYPE_INT64 || tag[0] == '\0')
                    continue;
                  c = json_node_get_int (cn) +
                      GPOINTER_TO_SIZE (g_hash_table_lookup (counts, tag));
                  g_hash_table_replace (counts, g_steal_pointer (&tag),
                                        GSIZE_TO_POINTER ((gsize) MAX (c, 0)));
                }
            }
          {
            GHashTableIter iter;
            gpointer k, v;

            g_hash_table_iter_init (&iter, counts);
            while (g_hash_table_iter_next (&iter, &k, &v))
              {
                TagCount tc = { k, (gint64) GPOINTER_TO_SIZE (v) };
                g_array_append_val (sorted, tc);
              }
          }
          g_array_sort (sorted, compare_tags);
          for (guint i = 0; i < sorted->len && n_out < MAX_TRIGGERS; i++, n_out++)
            g_strv_builder_add (out, g_array_index (sorted, TagCount, i).tag);
        }
    }
  return g_strv_builder_end (out);
}

CatenaLoraInfo *
catena_lora_info_from_header (const CatenaSafetensors *st,
                              const char              *source,
                              GError                 **error)
{
  g_autoptr (CatenaLoraInfo) info = g_new0 (CatenaLoraInfo, 1);
  g_autoptr (GHashTable) ranks = g_hash_table_new (g_direct_hash, g_direct_equal);
  g_autofree char *display = NULL;
  gboolean flux = FALSE, joint = FALSE, mmdit = FALSE, te1 = FALSE, te2 = FALSE, te = FALSE;
  gboolean sgm_unet = FALSE;
  guint64 ctx_dim = 0, te_width = 0;
  guint best_rank_count = 0;
  CatenaBaseModel meta;
  const char *meta_text;

  info->source = g_strdup (source);
  info->name = g_path_get_basename (source);
  display = g_strdup (info->name);
  info->n_tensors = st->tensors->len;
  info->file_size = st->file_size;

  for (guint i = 0; i < st->tensors->len; i++)
    {
      const CatenaSafetensorsTensor *t = g_ptr_array_index (st->tensors, i);
      const char *k = t->name;

      if (strstr (k, "double_blocks") || strstr (k, "single_blocks") ||
          strstr (k, "single_transformer_blocks"))
        flux = TRUE;
      if (strstr (k, "joint_blocks"))
        joint = TRUE;
      if (strstr (k, "transformer.transformer_blocks") || strstr (k, "transformer_blocks.") )
        mmdit = mmdit || g_str_has_prefix (k, "transformer.");
      if (g_str_has_prefix (k, "lora_te1_") || g_str_has_prefix (k, "text_encoder."))
        te1 = TRUE;
      if (g_str_has_prefix (k, "lora_te2_") || g_str_has_prefix (k, "text_encoder_2."))
        te2 = TRUE;
      if (g_str_has_prefix (k, "lora_te_"))
        te = TRUE;
      if (g_str_has_prefix (k, "lora_unet_input_blocks") ||
          g_str_has_prefix (k, "lora_unet_middle_block") ||
          g_str_has_prefix (k, "lora_unet_output_blocks"))
        sgm_unet = TRUE;

      if (!is_down_weight (k))
        continue;
      info->n_lora_modules++;
      if (t->n_dims == 2 || t->n_dims == 4)
        {
          gsize r = (gsize) MIN (t->shape[0], G_MAXUINT);
          guint c = GPOINTER_TO_UINT (g_hash_table_lookup (ranks, GSIZE_TO_POINTER (r))) + 1;

          g_hash_table_insert (ranks, GSIZE_TO_POINTER (r), GUINT_TO_POINTER (c));
          if (c > best_rank_count)
            {
              best_rank_count = c;
              info->network_dim = (int) MIN (r, G_MAXINT);
            }
        }
      /* cross-attention keys/values read the text context: their input width is the
       * context width (kohya: …attn2_to_k.lora_down; diffusers: …attn2.to_k.lora_A) */
      if (t->n_dims == 2 && strstr (k, "attn2") && (strstr (k, "to_k") || strstr (k, "to_v")))
        ctx_dim = MAX (ctx_dim, t->shape[1]);
      if (t->n_dims == 2 && (te || te1) && strstr (k, "mlp") && strstr (k, "fc1"))
        te_width = MAX (te_width, t->shape[1]);
    }

  if (info->n_lora_modules == 0)
    {
      g_set_error (error, CATENA_LORA_ERROR, CATENA_LORA_ERROR_NOT_A_LORA,
                   _("“%s” holds no LoRA weights (no lora_down / lora_A tensors): it may be a "
                     "full checkpoint. Pick the LoRA file instead."),
                   display);
      return NULL;
    }

  meta_text = g_hash_table_lookup (st->metadata, "ss_base_model_version");
  if (meta_text == NULL)
    meta_text = g_hash_table_lookup (st->metadata, "modelspec.architecture");
  info->metadata_base = g_strdup (meta_text);
  meta = base_from_metadata (meta_text);

  if (flux)
    {
      info->base = CATENA_BASE_MODEL_FLUX;
      info->evidence = g_strdup (_("keys name Flux's double/single transformer blocks"));
    }
  else if (joint || mmdit)
    {
      info->base = CATENA_BASE_MODEL_SD3;
      info->evidence = g_strdup (_("keys name MMDiT joint transformer blocks"));
    }
  else if (ctx_dim == 768 || ctx_dim == 1024 || ctx_dim == 2048)
    {
      info->base = ctx_dim == 2048 ? CATENA_BASE_MODEL_SDXL
                   : ctx_dim == 1024 ? CATENA_BASE_MODEL_SD2 : CATENA_BASE_MODEL_SD1;
      info->evidence = g_strdup_printf (_("cross-attention layers take a %u-wide text context"),
                                        (guint) ctx_dim);
    }
  else if (te2 || sgm_unet)
    {
      info->base = CATENA_BASE_MODEL_SDXL;
      info->evidence = g_strdup (te2 ? _("keys name two text encoders")
                                     : _("keys use SDXL's input/middle/output block names"));
    }
  else if ((te || te1) && (te_width == 768 || te_width == 1024))
    {
      info->base = te_width == 768 ? CATENA_BASE_MODEL_SD1 : CATENA_BASE_MODEL_SD2;
      info->evidence = g_strdup_printf (_("its text encoder is %u wide"), (guint) te_width);
    }
  else if (meta != CATENA_BASE_MODEL_UNKNOWN)
    {
      info->base = meta;
      info->evidence = g_strdup_printf (_("training metadata says “%s”"), meta_text);
    }
  else
    {
      info->base = CATENA_BASE_MODEL_UNKNOWN;
      info->evidence = g_strdup (_("neither its keys nor its metadata name a base model"));
    }
  if (meta != CATENA_BASE_MODEL_UNKNOWN && info->base != CATENA_BASE_MODEL_UNKNOWN &&
      meta != info->base)
    {
      char *more = g_strdup_printf (_("%s (its metadata says “%s”, the keys win)"),
                                    info->evidence, meta_text);
      g_free (info->evidence);
      info->evidence = more;
    }

  {
    const char *dim = g_hash_table_lookup (st->metadata, "ss_network_dim");
    const char *alpha = g_hash_table_lookup (st->metadata, "ss_network_alpha");

    if (dim != NULL && g_ascii_strtoll (dim, NULL, 10) > 0)
      info->network_dim = (int) MIN (g_ascii_strtoll (dim, NULL, 10), G_MAXINT);
    if (alpha != NULL)
      {
        double a = g_ascii_strtod (alpha, NULL);
        if (isfinite (a) && a > 0)
          info->network_alpha = a;
      }
  }
  info->triggers = triggers_from_metadata (st->metadata);
  return g_steal_pointer (&info);
}

CatenaLoraInfo *
catena_lora_inspect_file (const char *path,
                          GError    **error)
{
  g_autoptr (CatenaSafetensors) st = NULL;
  g_autofree char *abs = g_canonicalize_filename (path, NULL);

  if (!(st = catena_safetensors_read_header (abs, error)))
    return NULL;
  return catena_lora_info_from_header (st, abs, error);
}

static GBytes *
fetch_range (const char   *url,
             guint64       first,
             guint64       last,
             GCancellable *cancellable,
             GError      **error)
{
  g_autofree char *range = g_strdup_printf ("Range: bytes=%" G_GUINT64_FORMAT "-%" G_GUINT64_FORMAT,
                                            first, last);
  const char *headers[] = { range, NULL };
  CatenaHttpRequest req = {
    .method = "GET",
    .url = url,
    .headers = headers,
    .max_response = (gsize) (last - first + 1),
    .max_retries = 2,
    .service = "LoRA",
  };
  g_autoptr (CatenaHttpResponse) resp = NULL;
  g_autoptr (GError) local_error = NULL;

  resp = catena_http_perform (&req, cancellable, &local_error);
  if (resp == NULL)
    {
      if (g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        g_propagate_error (error, g_steal_pointer (&local_error));
      else
        g_set_error (error, CATENA_LORA_ERROR, CATENA_LORA_ERROR_IO,
                     _("Could not read the LoRA at %s: %s (the server must allow partial "
                       "downloads)."),
                     url, local_error->message);
      return NULL;
    }
  if (resp->status != 206 && resp->status != 200)
    {
      g_set_error (error, CATENA_LORA_ERROR, CATENA_LORA_ERROR_IO,
                   _("Could not read the LoRA at %s: the server answered %ld."), url,
                   resp->status);
      return NULL;
    }
  return g_bytes_ref (resp->body);
}

CatenaLoraInfo *
catena_lora_inspect_url (const char   *url,
                         GCancellable *cancellable,
                         GError      **error)
{
  g_autoptr (GBytes) head = NULL;
  g_autoptr (GBytes) header = NULL;
  g_autoptr (GByteArray) all = NULL;
  g_autoptr (CatenaSafetensors) st = NULL;
  gsize len;
  const guint8 *d;
  guint64 n;

  if (!catena_http_check_url (url, "LoRA", error))
    return NULL;
  if (!(head = fetch_range (url, 0, 7, cancellable, error)))
    return NULL;
  d = g_bytes_get_data (head, &len);
  if (len < 8)
    return st_error (error, CATENA_LORA_ERROR_INVALID, _("it is shorter than its header")), NULL;
  n = GUINT64_FROM_LE (*(const guint64 *) (const void *) d);
  if (n > CATENA_SAFETENSORS_MAX_HEADER)
    return catena_safetensors_parse (d, 8, 0, error), NULL;
  if (n < 2 || !(header = fetch_range (url, 8, 8 + n - 1, cancellable, error)))
    return n < 2 ? (st_error (error, CATENA_LORA_ERROR_INVALID, _("its header is empty")), NULL)
                 : NULL;
  all = g_byte_array_sized_new (8 + n);
  g_byte_array_append (all, d, 8);
  d = g_bytes_get_data (header, &len);
  g_byte_array_append (all, d, len);
  /* The file's size is unknown here: only the header's own consistency is checked. */
  if (!(st = catena_safetensors_parse (all->data, all->len, 0, error)))
    return NULL;
  return catena_lora_info_from_header (st, url, error);
}

gboolean
catena_lora_check_compatible (const CatenaLoraInfo *info,
                              CatenaBaseModel       target,
                              GError              **error)
{
  g_return_val_if_fail (info != NULL, FALSE);

  if (target == CATENA_BASE_MODEL_UNKNOWN)
    return TRUE;
  if (info->base == CATENA_BASE_MODEL_UNKNOWN)
    {
      g_set_error (error, CATENA_LORA_ERROR, CATENA_LORA_ERROR_UNKNOWN_BASE,
                   _("Catena cannot tell which model the LoRA “%s” was trained for (%s), so it "
                     "might do nothing on %s. Use a LoRA made for %s."),
                   info->name, info->evidence, base_title (target), base_title (target));
      return FALSE;
    }
  if (info->base != target)
    {
      g_set_error (error, CATENA_LORA_ERROR, CATENA_LORA_ERROR_INCOMPATIBLE,
                   _("The LoRA “%s” was trained for %s (%s); on a %s model it would change "
                     "nothing and the run would still be paid. Pick a LoRA made for %s, or switch to a %s model."),
                   info->name, base_title (info->base), info->evidence, base_title (target),
                   base_title (target), base_title (info->base));
      return FALSE;
    }
  return TRUE;
}

JsonNode *
catena_lora_info_to_json (const CatenaLoraInfo *info)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "source");
  json_builder_add_string_value (b, info->source);
  json_builder_set_member_name (b, "name");
  json_builder_add_string_value (b, info->name);
  json_builder_set_member_name (b, "base");
  json_builder_add_string_value (b, catena_base_model_to_string (info->base));
  json_builder_set_member_name (b, "evidence");
  json_builder_add_string_value (b, info->evidence);
  if (info->metadata_base)
    {
      json_builder_set_member_name (b, "metadata-base");
      json_builder_add_string_value (b, info->metadata_base);
    }
  json_builder_set_member_name (b, "network-dim");
  json_builder_add_int_value (b, info->network_dim);
  json_builder_set_member_name (b, "network-alpha");
  json_builder_add_double_value (b, info->network_alpha);
  json_builder_set_member_name (b, "triggers");
  json_builder_begin_array (b);
  for (guint i = 0; info->triggers && info->triggers[i]; i++)
    json_builder_add_string_value (b, info->triggers[i]);
  json_builder_end_array (b);
  json_builder_set_member_name (b, "tensors");
  json_builder_add_int_value (b, info->n_tensors);
  json_builder_set_member_name (b, "modules");
  json_builder_add_int_value (b, info->n_lora_modules);
  json_builder_set_member_name (b, "file-size");
  json_builder_add_int_value (b, (gint64) MIN (info->file_size, G_MAXINT64));
  json_builder_end_object (b);
  return json_builder_get_root (b);
}

CatenaLoraInfo *
catena_lora_info_new_from_json (JsonNode *node,
                                GError  **error)
{
  g_autoptr (CatenaLoraInfo) info = g_new0 (CatenaLoraInfo, 1);
  g_autoptr (GStrvBuilder) triggers = g_strv_builder_new ();
  JsonObject *o;
  JsonNode *t;

  if (node == NULL || !JSON_NODE_HOLDS_OBJECT (node) ||
      catena_json_string (json_node_get_object (node), "source",
                                                  NULL) == NULL)
    {
      g_set_error (error, CATENA_LORA_ERROR, CATENA_LORA_ERROR_INVALID,
                   _("The project's LoRA library is damaged: an entry has no source."));
      return NULL;
    }
  o = json_node_get_object (node);
  info->source = g_strdup (catena_json_string (o, "source", NULL));
  info->name = g_strdup (catena_json_string (o, "name", info->source));
  info->base = catena_base_model_from_string (
    catena_json_string (o, "base", "unknown"));
  info->evidence = g_strdup (catena_json_string (o, "evidence", ""));
  info->metadata_base =
    g_strdup (catena_json_string (o, "metadata-base", NULL));
  info->network_dim = catena_json_int (o, "network-dim", 0);
  info->network_alpha = catena_json_double (o, "network-alpha", 0);
  info->n_tensors = catena_json_int (o, "tensors", 0);
  info->n_lora_modules = catena_json_int (o, "modules", 0);
  info->file_size = catena_json_int (o, "file-size", 0);
  if ((t = json_object_get_member (o, "triggers")) && JSON_NODE_HOLDS_ARRAY (t))
    {
      JsonArray *a = json_node_get_array (t);
      for (guint i = 0; i < json_array_get_length (a); i++)
        {
          JsonNode *e = json_array_get_element (a, i);
          if (JSON_NODE_HOLDS_VALUE (e) && json_node_get_value_type (e) == G_TYPE_STRING)
            g_strv_builder_add (triggers, json_node_get_string (e));
        }
    }
  info->triggers = g_strv_builder_end (triggers);
  return g_steal_pointer (&info);
}

/* ---------------------------------------------------------------------------------------- */

struct _CatenaLoraLibrary
{
  GObject parent_instance;

  CatenaProject *project;  /* weak */
  GPtrArray *items;        /* CatenaLoraInfo */
};

G_DEFINE_FINAL_TYPE (CatenaLoraLibrary, catena_lora_library, G_TYPE_OBJECT)

static guint library_changed_signal;

static void
catena_lora_library_dispose (GObject *object)
{
  g_clear_weak_pointer (&CATENA_LORA_LIBRARY (object)->project);
  G_OBJECT_CLASS (catena_lora_library_parent_class)->dispose (object);
}

static void
catena_lora_library_finalize (GObject *object)
{
  g_ptr_array_unref (CATENA_LORA_LIBRARY (object)->items);
  G_OBJECT_CLASS (catena_lora_library_parent_class)->finalize (object);
}

static void
catena_lora_library_class_init (CatenaLoraLibraryClass *klass)
{
  G_OBJECT_CLASS (klass)->dispose = catena_lora_library_dispose;
  G_OBJECT_CLASS (klass)->finalize = catena_lora_library_finalize;
  library_changed_signal = g_signal_new ("changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                                         0, NULL, NULL, NULL, G_TYPE_NONE, 0);
}

static void
catena_lora_library_init (CatenaLoraLibrary *self)
{
  self->items = g_ptr_array_new_with_free_func ((GDestroyNotify) catena_lora_info_free);
}

static void
library_commit (CatenaLoraLibrary *self)
{
  if (self->project != NULL)
    {
      g_autoptr (JsonBuilder) b = json_builder_new ();
      g_autoptr (JsonNode) node = NULL;

      json_builder_begin_object (b);
      json_builder_set_member_name (b, "version");
      json_builder_add_int_value (b, 1);
      json_builder_set_member_name (b, "loras");
      json_builder_begin_array (b);
      for (guint i = 0; i < self->items->len; i++)
        json_builder_add_value (b, catena_lora_info_to_json (g_ptr_array_index (self->items, i)));
      json_builder_end_array (b);
      json_builder_end_object (b);
      node = json_builder_get_root (b);
      catena_project_set_section (self->project, "loras", node);
    }
  g_signal_emit (self, library_changed_signal, 0);
}

CatenaLoraLibrary *
catena_lora_library_new_for_project (CatenaProject *project,
                                     GError       **error)
{
  g_autoptr (CatenaLoraLibrary) self = g_object_new (CATENA_TYPE_LORA_LIBRARY, NULL);
  g_autoptr (JsonNode) node = catena_project_dup_section (project, "loras");

  if (node != NULL)
    {
      JsonNode *list = JSON_NODE_HOLDS_OBJECT (node)
                         ? json_object_get_member (json_node_get_object (node), "loras")
                         : NULL;

      if (list == NULL || !JSON_NODE_HOLDS_ARRAY (list))
        {
          g_set_error (error, CATENA_LORA_ERROR, CATENA_LORA_ERROR_INVALID,
                       _("The project's LoRA library is damaged: remove its “loras” section "
                         "and add the LoRAs again."));
          return NULL;
        }
      for (guint i = 0; i < json_array_get_length (json_node_get_array (list)); i++)
        {
          CatenaLoraInfo *info =
            catena_lora_info_new_from_json (json_array_get_element (json_node_get_array (list),
                                                                    i),
                                            error);
          if (info == NULL)
            return NULL;
          g_ptr_array_add (self->items, info);
        }
    }
  g_set_weak_pointer (&self->project, project);
  return g_steal_pointer (&self);
}

guint
catena_lora_library_get_n_items (CatenaLoraLibrary *self)
{
  return self->items->len;
}

const CatenaLoraInfo *
catena_lora_library_get_item (CatenaLoraLibrary *self,
                              guint              index)
{
  g_return_val_if_fail (index < self->items->len, NULL);
  return g_ptr_array_index (self->items, index);
}

static gboolean
is_url (const char *source)
{
  return g_str_has_prefix (source, "https://") || g_str_has_prefix (source, "http://");
}

static char *
normalise_source (const char *source)
{
  return is_url (source) ? g_strdup (source) : g_canonicalize_filename (source, NULL);
}

const CatenaLoraInfo *
catena_lora_library_find (CatenaLoraLibrary *self,
                          const char        *source)
{
  g_autofree char *norm = normalise_source (source);

  for (guint i = 0; i < self->items->len; i++)
    {
      CatenaLoraInfo *info = g_ptr_array_index (self->items, i);
      if (g_str_equal (info->source, norm) || g_str_equal (info->source, source))
        return info;
    }
  return NULL;
}

gboolean
catena_lora_library_remove (CatenaLoraLibrary *self,
                            const char        *source)
{
  const CatenaLoraInfo *info = catena_lora_library_find (self, source);

  if (info == NULL)
    return FALSE;
  g_ptr_array_remove (self->items, (gpointer) info);
  library_commit (self);
  return TRUE;
}

const CatenaLoraInfo *
catena_lora_library_add (CatenaLoraLibrary *self,
                         const char        *source,
                         GCancellable      *cancellable,
                         GError           **error)
{
  CatenaLoraInfo *info;

  g_return_val_if_fail (CATENA_IS_LORA_LIBRARY (self), NULL);
  g_return_val_if_fail (source != NULL, NULL);

  info = is_url (source) ? catena_lora_inspect_url (source, cancellable, error)
                         : catena_lora_inspect_file (source, error);
  if (info == NULL)
    return NULL;
  catena_lora_library_remove (self, info->source);
  g_ptr_array_add (self->items, info);
  library_commit (self);
  return info;
}

gboolean
catena_lora_library_check_for_model (CatenaLoraLibrary *self,
                                     const char        *source,
                                     const char        *model_id,
                                     GCancellable      *cancellable,
                                     GError           **error)
{
  const CatenaLoraInfo *info;

  g_return_val_if_fail (CATENA_IS_LORA_LIBRARY (self), FALSE);

  if (source == NULL || source[0] == '\0')
    return TRUE;
  info = catena_lora_library_find (self, source);
  if (info == NULL && !(info = catena_lora_library_add (self, source, cancellable, error)))
    return FALSE;
  return catena_lora_check_compatible (info, catena_base_model_for_model_id (model_id), error);
}
