/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

/* Winograd F(4×4, 3×3) convolution (catena-nn-winograd.c) and the per-graph kernel workspace
 * it runs in (catena-nn-graph.c). */

#include "catena-nn-params.h"
#include "catena-nn-private.h"

G_BEGIN_DECLS

/* Hot loops are written as plain C that the compiler vectorises; NN_SIMD builds a function for
 * AVX-512, AVX2 + FMA and the baseline, picked by the dynamic loader (GCC ≥ 11's target_clones,
 * an ifunc: x86-64 with glibc only; elsewhere it is one portable build). */
#if defined(__GNUC__) && !defined(__clang__) && __GNUC__ >= 11 && defined(__x86_64__)          \
  && defined(__GLIBC__) && defined(__has_attribute)
#if __has_attribute(target_clones)
#define NN_SIMD __attribute__ ((target_clones ("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#endif
#endif
#ifndef NN_SIMD
#define NN_SIMD
#endif

/* loops that read and write disjoint rows of one buffer at run-time strides: without
 * this the compiler gives up on proving that and leaves them scalar */
#if defined(__clang__)
#define NN_IVDEP _Pragma ("clang loop vectorize(assume_safety)")
#elif defined(__GNUC__)
#define NN_IVDEP _Pragma ("GCC ivdep")
#else
#define NN_IVDEP
#endif

/* Decides whether a prepared Conv runs as Winograd and with which schedule; sets p->winograd
 * and the p->wg_* fields. */
void nn_wg_prepare (ConvParams *p, gboolean weights_constant);
/* FALSE (nothing written) when its workspace cannot be allocated */
gboolean nn_wg_run (const ConvParams *p,
                    const float *x,
                    const float *w,
                    const float *b,
                    float *y,
                    NnActivation act);

/* Scratch memory for the node being run, kept with the running graph (no page faults after
 * the first run); NULL outside catena_nn_graph_run or when out of memory. Valid until the
 * node returns. */
gpointer nn_workspace_get (gsize size);

G_END_DECLS
