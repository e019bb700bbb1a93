/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gegl-plugin.h>
#include <operation/gegl-operation-point-filter.h>

G_BEGIN_DECLS

#define CATENA_SQRT3 1.7320508075688772935

#define CATENA_TYPE_OP_RECOLOR (catena_op_recolor_get_type ())
G_DECLARE_FINAL_TYPE (CatenaOpRecolor, catena_op_recolor, CATENA, OP_RECOLOR,
                      GeglOperationPointFilter)

/* The recolor op's building blocks, shared with the stage (see catena-op-recolor.c). */
void   catena_recolor_white_balance_gains (double temperature,
                                           double tint,
                                           double gains[3]);
void   catena_recolor_matrix              (double hue_degrees,
                                           double saturation,
                                           double m[9]);
double catena_recolor_brand_weight        (double hue_distance_degrees,
                                           double window_degrees);

G_END_DECLS
