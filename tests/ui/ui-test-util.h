/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include "catena-ui.h"

G_BEGIN_DECLS

/* What the UI tests share: waiting on the default main context, finding widgets, rendering a
 * widget to a texture, describing a chain. Tests run under Xvfb (run-xvfb.sh). */

/* One wait step: iterates the default main context once without blocking, sleeps 0.5 ms;
 * FALSE once the monotonic clock is past end_us. */
gboolean    ui_test_step           (gint64 end_us);

/* Iterates the default main context until expr holds: TRUE, or FALSE if it still does not
 * hold after timeout_us. expr is evaluated on this (the main) thread between iterations. */
#define ui_test_wait_until(expr, timeout_us)                                                  \
  ({                                                                                          \
    gint64 ui_test_end_ = g_get_monotonic_time () + (timeout_us);                             \
    gboolean ui_test_ok_ = TRUE;                                                              \
    while (!(expr))                                                                           \
      if (!ui_test_step (ui_test_end_))                                                       \
        {                                                                                     \
          ui_test_ok_ = (expr);                                                               \
          break;                                                                              \
        }                                                                                     \
    ui_test_ok_;                                                                              \
  })

/* Iterates the default main context for ms milliseconds. */
void        ui_test_pump           (guint ms);
/* Dispatches what is ready now, without waiting. */
void        ui_test_drain          (void);
/* Waits (up to timeout_us) until window is allocated and not busy, lets late worker results
 * run, and waits again; asserts on timeout. */
void        ui_test_settle_window  (CatenaWindow *window,
                                    gint64        timeout_us);

/* tests/ui/test.catena */
GFile      *ui_test_project_file   (void);
/* "import,recolor,export": the kinds of chain's stages in order. */
char       *ui_test_chain_kinds    (CatenaChain *chain);
/* The first widget of type at or below root, depth first; NULL if none. */
GtkWidget  *ui_test_find_widget    (GtkWidget *root,
                                    GType      type);
/* widget as drawn now (after its next frame if it has not drawn since its last change). */
GdkTexture *ui_test_render_widget  (GtkWidget *widget);

G_END_DECLS
