/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Errors about documents: projects and chain files. */
#define CATENA_PROJECT_ERROR (catena_project_error_quark ())
typedef enum
{
  CATENA_PROJECT_ERROR_INVALID,     /* malformed JSON or missing/mistyped fields */
  CATENA_PROJECT_ERROR_VERSION,     /* written by a newer Catena */
  CATENA_PROJECT_ERROR_NOT_FOUND,   /* asset or stage id not in the document */
} CatenaProjectError;

/* Errors raised while a stage runs or is configured. */
#define CATENA_STAGE_ERROR (catena_stage_error_quark ())
typedef enum
{
  CATENA_STAGE_ERROR_FAILED,
  CATENA_STAGE_ERROR_UNKNOWN_KIND,
  CATENA_STAGE_ERROR_INVALID_PARAMETER,
  CATENA_STAGE_ERROR_INVALID_IMAGE,  /* corrupt, truncated or unsupported image */
  CATENA_STAGE_ERROR_TOO_LARGE,      /* refused before allocating */
  CATENA_STAGE_ERROR_MISSING_INPUT,  /* stage needs an image and got none */
  CATENA_STAGE_ERROR_MISSING_MODEL,  /* model weights not installed */
} CatenaStageError;

#define CATENA_CACHE_ERROR (catena_cache_error_quark ())
typedef enum
{
  CATENA_CACHE_ERROR_IO,
  CATENA_CACHE_ERROR_CORRUPT,
} CatenaCacheError;

GQuark catena_project_error_quark (void);
GQuark catena_stage_error_quark (void);
GQuark catena_cache_error_quark (void);

G_END_DECLS
