/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gio/gio.h>
#include <json-glib/json-glib.h>

#include "catena-project.h"

G_BEGIN_DECLS

/* LoRA library: .safetensors files or URLs whose header is read (never the tensors) to learn
 * which base model they were trained for, so a LoRA that would silently do nothing is refused
 * before any paid call. Kept in the project's "loras" section. */

#define CATENA_LORA_ERROR (catena_lora_error_quark ())
typedef enum
{
  CATENA_LORA_ERROR_INVALID,       /* not a safetensors file, or an inconsistent header */
  CATENA_LORA_ERROR_TOO_LARGE,     /* header over 100 MB */
  CATENA_LORA_ERROR_IO,            /* cannot read the file or URL */
  CATENA_LORA_ERROR_NOT_A_LORA,    /* a safetensors file without LoRA weights */
  CATENA_LORA_ERROR_INCOMPATIBLE,  /* trained for another base model */
  CATENA_LORA_ERROR_UNKNOWN_BASE,  /* cannot tell which base model it is for */
} CatenaLoraError;

GQuark catena_lora_error_quark (void);

#define CATENA_SAFETENSORS_MAX_HEADER (100u * 1024 * 1024)

typedef enum
{
  CATENA_BASE_MODEL_UNKNOWN,
  CATENA_BASE_MODEL_SD1,    /* Stable Diffusion 1.x: 768-dim CLIP-L context */
  CATENA_BASE_MODEL_SD2,    /* 2.x: 1024-dim OpenCLIP-H context */
  CATENA_BASE_MODEL_SDXL,   /* two text encoders, 2048-dim context */
  CATENA_BASE_MODEL_SD3,    /* MMDiT transformer_blocks, no single blocks */
  CATENA_BASE_MODEL_FLUX,   /* double_blocks + single_blocks */
} CatenaBaseModel;

const char     *catena_base_model_to_string    (CatenaBaseModel base);
CatenaBaseModel catena_base_model_from_string  (const char     *text);
/* Guesses the family of a provider model id ("fal-ai/flux-lora" → FLUX,
 * "stabilityai/stable-diffusion-xl-base-1.0" → SDXL, a ComfyUI checkpoint name…). */
CatenaBaseModel catena_base_model_for_model_id (const char     *model_id);

/* ---------------------------------------------------------------------------------------- */
/* safetensors header: 8-byte little-endian length N, N bytes of JSON
 * {name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {str: str}}, then the
 * byte buffer the offsets point into. */

typedef struct
{
  char   *name;
  char   *dtype;
  guint64 shape[8];
  guint   n_dims;
  guint64 begin, end;  /* into the byte buffer after the header */
} CatenaSafetensorsTensor;

typedef struct
{
  GPtrArray  *tensors;   /* of CatenaSafetensorsTensor, sorted by name */
  GHashTable *metadata;  /* string → string; never NULL */
  guint64     header_length;
  guint64     file_size; /* 0: unknown (a URL) */
} CatenaSafetensors;

void                catena_safetensors_free        (CatenaSafetensors *st);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (CatenaSafetensors, catena_safetensors_free)

/* data: the first bytes of the file (at least 8 + N to succeed); file_size: the whole file's
 * size (0: unknown, only the header's own consistency is checked). Any input gives a result
 * or a GError, never a crash. */
CatenaSafetensors  *catena_safetensors_parse       (const guint8 *data,
                                                    gsize         length,
                                                    guint64       file_size,
                                                    GError      **error);
/* Reads 8 + N bytes of path, never the tensors. */
CatenaSafetensors  *catena_safetensors_read_header (const char   *path,
                                                    GError      **error);

/* ---------------------------------------------------------------------------------------- */

typedef struct
{
  char           *source;        /* path or URL as added */
  char           *name;          /* file name */
  CatenaBaseModel base;          /* from the key layout; metadata only when keys are silent */
  char           *evidence;      /* which facts decided base, for people */
  char           *metadata_base; /* ss_base_model_version / modelspec.architecture, or NULL */
  int             network_dim;   /* rank; 0 unknown */
  double          network_alpha; /* 0 unknown */
  char          **triggers;      /* most frequent training tags first; NULL-terminated */
  guint           n_tensors;
  guint           n_lora_modules;
  guint64         file_size;     /* 0 unknown */
} CatenaLoraInfo;

void            catena_lora_info_free       (CatenaLoraInfo *info);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (CatenaLoraInfo, catena_lora_info_free)
JsonNode       *catena_lora_info_to_json    (const CatenaLoraInfo *info);
CatenaLoraInfo *catena_lora_info_new_from_json (JsonNode *node,
                                                GError  **error);

/* Classifies a parsed header (source names it in messages). */
CatenaLoraInfo *catena_lora_info_from_header (const CatenaSafetensors *st,
                                              const char              *source,
                                              GError                 **error);
CatenaLoraInfo *catena_lora_inspect_file    (const char     *path,
                                             GError        **error);
/* https (or http on loopback) with Range requests: two small downloads, never the tensors.
 * Blocking. */
CatenaLoraInfo *catena_lora_inspect_url     (const char     *url,
                                             GCancellable   *cancellable,
                                             GError        **error);
/* FALSE with CATENA_LORA_ERROR_INCOMPATIBLE when info's base differs from target's family
 * (or UNKNOWN_BASE when the LoRA's base could not be told). target UNKNOWN: accepted. */
gboolean        catena_lora_check_compatible (const CatenaLoraInfo *info,
                                              CatenaBaseModel       target,
                                              GError              **error);

/* ---------------------------------------------------------------------------------------- */

#define CATENA_TYPE_LORA_LIBRARY (catena_lora_library_get_type ())
G_DECLARE_FINAL_TYPE (CatenaLoraLibrary, catena_lora_library, CATENA, LORA_LIBRARY, GObject)

/* Reads the project's "loras" section; every change is written back ("changed" signal). */
CatenaLoraLibrary    *catena_lora_library_new_for_project (CatenaProject     *project,
                                                           GError           **error);
guint                 catena_lora_library_get_n_items     (CatenaLoraLibrary *self);
const CatenaLoraInfo *catena_lora_library_get_item        (CatenaLoraLibrary *self,
                                                           guint              index);
const CatenaLoraInfo *catena_lora_library_find            (CatenaLoraLibrary *self,
                                                           const char        *source);
/* A path (made absolute) or an http(s) URL. Blocking. Replaces an entry with the same
 * source. */
const CatenaLoraInfo *catena_lora_library_add             (CatenaLoraLibrary *self,
                                                           const char        *source,
                                                           GCancellable      *cancellable,
                                                           GError           **error);
gboolean              catena_lora_library_remove          (CatenaLoraLibrary *self,
                                                           const char        *source);
/* For a style stage about to run: the LoRA must be in the library (or be inspectable now)
 * and fit model_id's family. Call before any paid request. Blocking. */
gboolean              catena_lora_library_check_for_model (CatenaLoraLibrary *self,
                                                           const char        *source,
                                                           const char        *model_id,
                                                           GCancellable      *cancellable,
                                                           GError           **error);

G_END_DECLS
