/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Loopback fakes of fal, ComfyUI and OpenAI (see fake-servers.c for what each one follows).
 * Each runs a SoupServer on 127.0.0.1:<free port> in a thread of its own, so the blocking
 * provider calls under test can run on the test's thread. */
typedef struct _FakeServer FakeServer;

FakeServer *fake_fal_new      (void);
FakeServer *fake_comfyui_new  (void);
FakeServer *fake_openai_new   (void);
void        fake_server_free  (FakeServer *self);

/* "http://127.0.0.1:<port>" */
const char *fake_server_url   (FakeServer *self);

/* Arms a fault for the next `times` matching requests (-1: until cleared). Names are listed
 * at the top of fake-servers.c. */
void        fake_server_fault (FakeServer *self,
                               const char *name,
                               int         times);
void        fake_server_clear_faults (FakeServer *self);

/* How many times an event happened ("submit", "status", "cancel", "interrupt", …). */
int         fake_server_count (FakeServer *self,
                               const char *event);
/* The last request body of an event ("submit", "prompt", "generations", …), or NULL. */
char       *fake_server_dup_last (FakeServer *self,
                                  const char *event);

/* The API key every fake accepts. */
#define FAKE_KEY "test-key-5ecret"

G_DEFINE_AUTOPTR_CLEANUP_FUNC (FakeServer, fake_server_free)

G_END_DECLS
