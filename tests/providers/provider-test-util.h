/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include "catena-engine.h"
#include "catena-image-io.h"
#include "catena-provider.h"
#include "catena-stages-remote.h"
#include "fake-server.h"

/* Fast retries and polls so that the whole suite stays well under a minute; no keyring. */
static inline void
provider_test_init (int *argc, char ***argv)
{
  g_setenv ("CATENA_NO_SECRET_SERVICE", "1", TRUE);
  g_setenv ("FAL_KEY", FAKE_KEY, TRUE);
  g_setenv ("OPENAI_API_KEY", FAKE_KEY, TRUE);
  g_test_init (argc, argv, NULL);
  catena_engine_init ();
  catena_stage_register_type (CATENA_TYPE_STAGE_GENERATE);
  catena_stage_register_type (CATENA_TYPE_STAGE_EDIT);
  catena_stage_register_type (CATENA_TYPE_STAGE_STYLE);
  catena_providers_set_retry_base_ms (10);
  catena_providers_set_poll_interval_ms (20);
  catena_providers_set_http_timeout_ms (5000);
  catena_providers_set_job_timeout_ms (20000);
}

static inline void
provider_test_point_at (FakeServer *fake)
{
  const char *url = fake_server_url (fake);
  g_autofree char *v1 = g_strdup_printf ("%s/v1", url);

  catena_provider_set_endpoint (catena_provider_get ("fal"), "queue", url);
  catena_provider_set_endpoint (catena_provider_get ("fal"), "rest", url);
  catena_provider_set_endpoint (catena_provider_get ("comfyui"), "base", url);
  catena_provider_set_endpoint (catena_provider_get ("openai"), "base", v1);
}

static inline GeglBuffer *
provider_test_buffer (int w, int h)
{
  GeglBuffer *b = gegl_buffer_new (GEGL_RECTANGLE (0, 0, w, h), babl_format (CATENA_WORK_FORMAT));
  float px[4] = { 0.8f, 0.2f, 0.1f, 1.0f };
  gegl_buffer_set_color_from_pixel (b, NULL, px, babl_format (CATENA_WORK_FORMAT));
  return b;
}

static inline JsonObject *
provider_test_parse (const char *text)
{
  g_autoptr (JsonParser) p = json_parser_new ();
  g_assert_nonnull (text);
  g_assert_true (json_parser_load_from_data (p, text, -1, NULL));
  g_assert_true (JSON_NODE_HOLDS_OBJECT (json_parser_get_root (p)));
  return json_object_ref (json_node_get_object (json_parser_get_root (p)));
}

/* Parses and frees text (for fake_server_dup_last results). */
static inline JsonObject *
provider_test_take_parse (char *text)
{
  JsonObject *obj = provider_test_parse (text);
  g_free (text);
  return obj;
}

typedef struct
{
  GCancellable *cancellable;
  guint delay_ms;
} CancelLater;

static inline gpointer
cancel_later_thread (gpointer data)
{
  CancelLater *c = data;
  g_usleep (c->delay_ms * 1000);
  g_cancellable_cancel (c->cancellable);
  return NULL;
}

/* Cancels from another thread, as a window closing would while a worker runs. */
static inline GThread *
cancel_later (CancelLater *c)
{
  return g_thread_new ("cancel", cancel_later_thread, c);
}

static inline void
assert_size (GeglBuffer *b, int w, int h)
{
  const GeglRectangle *e = gegl_buffer_get_extent (b);
  g_assert_cmpint (e->width, ==, w);
  g_assert_cmpint (e->height, ==, h);
}
