/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib-object.h>

G_BEGIN_DECLS

typedef struct _CatenaAsset   CatenaAsset;
typedef struct _CatenaCache   CatenaCache;
typedef struct _CatenaChain   CatenaChain;
typedef struct _CatenaProject CatenaProject;
typedef struct _CatenaRunner  CatenaRunner;
typedef struct _CatenaStage   CatenaStage;

typedef enum
{
  CATENA_ASSET_CLASS_THUMBNAIL,
  CATENA_ASSET_CLASS_FEED,
  CATENA_ASSET_CLASS_HERO,
  CATENA_ASSET_CLASS_PRINT,
} CatenaAssetKind;

typedef enum
{
  CATENA_EXPORT_FORMAT_PNG,
  CATENA_EXPORT_FORMAT_JPEG,
  CATENA_EXPORT_FORMAT_WEBP,
  CATENA_EXPORT_FORMAT_TIFF,
} CatenaExportFormat;

typedef enum
{
  CATENA_UPSCALE_SAMPLER_CUBIC,
  CATENA_UPSCALE_SAMPLER_LOHALO,
  CATENA_UPSCALE_SAMPLER_NOHALO,
  CATENA_UPSCALE_SAMPLER_LINEAR,
} CatenaUpscaleSampler;

typedef enum
{
  CATENA_UPSCALE_METHOD_AUTO,
  CATENA_UPSCALE_METHOD_CLASSIC,
  CATENA_UPSCALE_METHOD_NEURAL,
} CatenaUpscaleMethod;

typedef enum
{
  CATENA_UPSCALE_NETWORK_MEDIUM,
  CATENA_UPSCALE_NETWORK_SLIM,
} CatenaUpscaleNetwork;

typedef enum
{
  CATENA_BACKDROP_SOLID,
  CATENA_BACKDROP_GRADIENT,
  CATENA_BACKDROP_TRANSPARENT,
} CatenaBackdropKind;

typedef enum
{
  CATENA_REMOVE_BACKGROUND_AUTO,
  CATENA_REMOVE_BACKGROUND_CLASSICAL,
  CATENA_REMOVE_BACKGROUND_NEURAL,
} CatenaRemoveBackgroundMethod;

G_END_DECLS
