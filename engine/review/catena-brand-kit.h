/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gegl.h>
#include <gio/gio.h>
#include <json-glib/json-glib.h>

#include "catena-project.h"
#include "catena-stage.h"

G_BEGIN_DECLS

/* Brand kit: palette, backdrop presets, a 3D LUT, default LoRAs and a conformance score.
 * Kept in the project's "brand-kit" section; data/brand/ has a sample. */

#define CATENA_BRAND_ERROR (catena_brand_error_quark ())
typedef enum
{
  CATENA_BRAND_ERROR_INVALID,      /* malformed brand kit */
  CATENA_BRAND_ERROR_BAD_COLOR,    /* a swatch that is not #rrggbb */
  CATENA_BRAND_ERROR_LUT,          /* unreadable or malformed .cube file */
  CATENA_BRAND_ERROR_NO_PALETTE,   /* scoring without swatches */
  CATENA_BRAND_ERROR_NO_PRODUCT,   /* no product pixels to score */
  CATENA_BRAND_ERROR_NOT_RUN,      /* the stage to score has no cached output yet */
} CatenaBrandError;

GQuark catena_brand_error_quark (void);

/* ---------------------------------------------------------------------------------------- */
/* Colour science: sRGB (D65, IEC 61966-2-1) → CIE L*a*b* (D65 white), and CIEDE2000. */

void   catena_srgb_to_lab       (const double rgb[3],
                                 double       lab[3]);
/* CIEDE2000 with kL = kC = kH = 1 (Sharma, Wu & Dalal 2005). */
double catena_delta_e_2000      (const double lab1[3],
                                 const double lab2[3]);

/* ---------------------------------------------------------------------------------------- */
/* 3D LUTs (.cube, Adobe/Resolve text format) */

typedef enum
{
  CATENA_LUT_INTERPOLATION_TETRAHEDRAL,
  CATENA_LUT_INTERPOLATION_TRILINEAR,
} CatenaLutInterpolation;

#define CATENA_TYPE_LUT_INTERPOLATION (catena_lut_interpolation_get_type ())
GType catena_lut_interpolation_get_type (void) G_GNUC_CONST;

#define CATENA_LUT3D_MAX_SIZE 129            /* 129³ entries: 26 MB of floats */
#define CATENA_LUT3D_MAX_FILE (96 * 1024 * 1024)

typedef struct _CatenaLut3d CatenaLut3d;
#define CATENA_TYPE_LUT3D (catena_lut3d_get_type ())
GType        catena_lut3d_get_type       (void) G_GNUC_CONST;
CatenaLut3d *catena_lut3d_ref            (CatenaLut3d  *lut);
void         catena_lut3d_unref          (CatenaLut3d  *lut);
/* Parses .cube text (length -1: NUL-terminated). Never crashes on any input: returns a LUT
 * or NULL with CATENA_BRAND_ERROR_LUT and the line at fault. */
CatenaLut3d *catena_lut3d_new_from_data  (const char   *data,
                                          gssize        length,
                                          GError      **error);
CatenaLut3d *catena_lut3d_load           (const char   *path,
                                          GError      **error);
/* size³ entries mapping every input to itself. */
CatenaLut3d *catena_lut3d_new_identity   (guint         size);
guint        catena_lut3d_get_size       (CatenaLut3d  *lut);
const char  *catena_lut3d_get_title      (CatenaLut3d  *lut);
/* SHA-256 of the table (for cache keys). */
const char  *catena_lut3d_get_checksum   (CatenaLut3d  *lut);
/* Entry at grid index (r fastest, as in the file). */
void         catena_lut3d_get_entry      (CatenaLut3d  *lut,
                                          guint         r,
                                          guint         g,
                                          guint         b,
                                          float         out[3]);
/* One colour through the LUT; inputs outside the domain are clamped to it. */
void         catena_lut3d_apply          (CatenaLut3d           *lut,
                                          CatenaLutInterpolation interpolation,
                                          const float            in[3],
                                          float                  out[3]);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (CatenaLut3d, catena_lut3d_unref)

/* Registers catena:lut3d (properties: "lut" CatenaLut3d boxed, or "path"; "strength" 0..1;
 * "interpolation"). Works on R'G'B'A float (a .cube applies to encoded values); alpha passes
 * through. Call after gegl_init(); idempotent. */
void         catena_lut3d_op_register    (void);

/* ---------------------------------------------------------------------------------------- */
/* The "brand-lut" stage: applies a .cube LUT with a strength. */

/* The instance type is private: stages are driven through CatenaStage and their properties
 * ("lut", "strength", "interpolation"). */
#define CATENA_TYPE_STAGE_BRAND_LUT (catena_stage_brand_lut_get_type ())
GType catena_stage_brand_lut_get_type (void) G_GNUC_CONST;

/* ---------------------------------------------------------------------------------------- */

typedef struct
{
  char   *name;
  char   *hex;      /* "#rrggbb" */
  double  lab[3];
} CatenaBrandSwatch;

typedef struct
{
  char   *name;
  char   *kind;      /* "solid", "gradient", "transparent" (the composite stage's values) */
  char   *color;     /* "#rrggbb" */
  char   *color2;    /* nullable: a gradient's bottom colour */
  double  shadow_strength;
} CatenaBrandBackdrop;

typedef struct
{
  char   *source;    /* path or URL of a .safetensors file */
  double  strength;
  char  **triggers;  /* NULL-terminated */
} CatenaBrandLora;

typedef struct
{
  double      delta_e;        /* CIEDE2000 of the product's main colour to the nearest swatch */
  const char *swatch_name;    /* owned by the kit */
  const char *swatch_hex;
  double      product_lab[3]; /* the product's main colour */
  char        product_hex[8];
  double      coverage;       /* share of the product's pixels near that main colour */
  guint       n_pixels;       /* product pixels looked at */
  gboolean    flagged;        /* delta_e > the kit's threshold */
} CatenaBrandScore;

#define CATENA_TYPE_BRAND_KIT (catena_brand_kit_get_type ())
G_DECLARE_FINAL_TYPE (CatenaBrandKit, catena_brand_kit, CATENA, BRAND_KIT, GObject)

CatenaBrandKit *catena_brand_kit_new               (void);
/* base_dir: what a relative LUT path resolves against (nullable). */
CatenaBrandKit *catena_brand_kit_new_from_json     (JsonNode        *node,
                                                    const char      *base_dir,
                                                    GError         **error);
/* A kit file (data/brand/sample-brand-kit.json). */
CatenaBrandKit *catena_brand_kit_load              (const char      *path,
                                                    GError         **error);
/* The project's "brand-kit" section; an empty kit when there is none. */
CatenaBrandKit *catena_brand_kit_new_for_project   (CatenaProject   *project,
                                                    GError         **error);
JsonNode       *catena_brand_kit_to_json           (CatenaBrandKit  *self);
void            catena_brand_kit_save_to_project   (CatenaBrandKit  *self,
                                                    CatenaProject   *project);

const char     *catena_brand_kit_get_name          (CatenaBrandKit  *self);
guint           catena_brand_kit_get_n_swatches    (CatenaBrandKit  *self);
const CatenaBrandSwatch *catena_brand_kit_get_swatch (CatenaBrandKit *self,
                                                      guint           index);
gboolean        catena_brand_kit_add_swatch        (CatenaBrandKit  *self,
                                                    const char      *name,
                                                    const char      *hex,
                                                    GError         **error);
guint           catena_brand_kit_get_n_backdrops   (CatenaBrandKit  *self);
const CatenaBrandBackdrop *catena_brand_kit_get_backdrop (CatenaBrandKit *self,
                                                          guint           index);
guint           catena_brand_kit_get_n_loras       (CatenaBrandKit  *self);
const CatenaBrandLora *catena_brand_kit_get_lora   (CatenaBrandKit  *self,
                                                    guint           index);
/* Absolute path of the LUT, or NULL. */
const char     *catena_brand_kit_get_lut_path      (CatenaBrandKit  *self);
void            catena_brand_kit_set_lut_path      (CatenaBrandKit  *self,
                                                    const char      *path);
/* ΔE2000 above which an asset is flagged (default 5). */
double          catena_brand_kit_get_threshold     (CatenaBrandKit  *self);
void            catena_brand_kit_set_threshold     (CatenaBrandKit  *self,
                                                    double           threshold);

/* Scores the pixels of buffer with alpha > 0.5 (mask_backdrop: also leave out pixels close to
 * the colour of the image border, i.e. a studio backdrop). */
gboolean        catena_brand_kit_score_buffer      (CatenaBrandKit   *self,
                                                    GeglBuffer       *buffer,
                                                    gboolean          mask_backdrop,
                                                    CatenaBrandScore *score,
                                                    GError          **error);
/* Scores an asset from the cache (never runs stages): the remove-background stage's output
 * when the chain has one, else the last stage's output without its backdrop. */
gboolean        catena_brand_kit_score_asset       (CatenaBrandKit   *self,
                                                    CatenaProject    *project,
                                                    CatenaAsset      *asset,
                                                    GCancellable     *cancellable,
                                                    CatenaBrandScore *score,
                                                    GError          **error);

G_END_DECLS
