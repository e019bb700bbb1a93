/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <string.h>

#include "provider-test-util.h"

/* The OpenAI Images provider against the fake /v1/images API (fake-servers.c). */

typedef struct
{
  FakeServer *fake;
  CatenaProvider *openai;
} Fixture;

static void
setup (Fixture *f, gconstpointer data)
{
  f->fake = fake_openai_new ();
  f->openai = catena_provider_get ("openai");
  provider_test_point_at (f->fake);
}

static void
teardown (Fixture *f, gconstpointer data)
{
  fake_server_free (f->fake);
}

static CatenaProviderRequest *
generate_request (guint n)
{
  CatenaProviderRequest *r = catena_provider_request_new ("generate");
  r->prompt = g_strdup ("a ceramic mug, soft shadows");
  r->negative_prompt = g_strdup ("logos");
  r->width = 1536;
  r->height = 1024;
  r->n_images = n;
  return r;
}

static void
test_generate (Fixture *f, gconstpointer data)
{
  g_autoptr (CatenaProviderRequest) r = generate_request (2);
  g_autoptr (CatenaProviderResult) res = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonObject) sent = NULL;

  res = catena_provider_run (f->openai, r, NULL, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (res->images->len, ==, 2);
  assert_size (res->images->pdata[1], 64, 64);
  sent = provider_test_take_parse (fake_server_dup_last (f->fake, "generations"));
  g_assert_cmpstr (json_object_get_string_member (sent, "model"), ==, "gpt-image-1");
  g_assert_cmpstr (json_object_get_string_member (sent, "size"), ==, "1536x1024");
  g_assert_cmpint (json_object_get_int_member (sent, "n"), ==, 2);
  g_assert_nonnull (strstr (json_object_get_string_member (sent, "prompt"), "Avoid: logos"));
  g_assert_cmpstr (res->provenance->provider, ==, "openai");
  g_assert_cmpint (res->provenance->seed, ==, -1);
  g_assert_cmpfloat (res->provenance->cost_usd, >, 0.1);
  g_assert_true (json_object_has_member (res->provenance->parameters, "usage"));
}

static void
test_edit_multipart (Fixture *f, gconstpointer data)
{
  g_autoptr (CatenaProviderRequest) r = catena_provider_request_new ("edit");
  g_autoptr (CatenaProviderResult) res = NULL;
  g_autoptr (GError) error = NULL;

  r->prompt = g_strdup ("make the mug matte black");
  r->input = provider_test_buffer (32, 32);
  r->mask = provider_test_buffer (32, 32);
  res = catena_provider_run (f->openai, r, NULL, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (fake_server_count (f->fake, "edits"), ==, 1);
  g_assert_cmpint (fake_server_count (f->fake, "edits-mask"), ==, 1);
  g_assert_cmpuint (res->images->len, ==, 1);
}

static void
test_retry_after (Fixture *f, gconstpointer data)
{
  g_autoptr (CatenaProviderRequest) r = generate_request (1);
  g_autoptr (CatenaProviderResult) res = NULL;
  g_autoptr (GError) error = NULL;
  gint64 start = g_get_monotonic_time ();

  fake_server_fault (f->fake, "429", 1);
  fake_server_fault (f->fake, "500", 1);
  res = catena_provider_run (f->openai, r, NULL, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (fake_server_count (f->fake, "generations"), ==, 3);
  g_assert_cmpint (g_get_monotonic_time () - start, >=, 900 * 1000);
}

static void
test_no_retry_400 (Fixture *f, gconstpointer data)
{
  g_autoptr (CatenaProviderRequest) r = generate_request (1);
  g_autoptr (GError) error = NULL;
  CatenaProviderResult *res;

  fake_server_fault (f->fake, "400", 1);
  res = catena_provider_run (f->openai, r, NULL, NULL, NULL, &error);
  g_assert_null (res);
  g_assert_error (error, CATENA_PROVIDER_ERROR, CATENA_PROVIDER_ERROR_INVALID_REQUEST);
  g_assert_nonnull (strstr (error->message, "Supported values"));
  g_assert_cmpint (fake_server_count (f->fake, "generations"), ==, 1);
}

static void
test_rate_limited (Fixture *f, gconstpointer data)
{
  g_autoptr (CatenaProviderRequest) r = generate_request (1);
  g_autoptr (GError) error = NULL;
  CatenaProviderResult *res;

  /* 500 is retried (as OpenAI's own client does) but only three times */
  fake_server_fault (f->fake, "500", 4);
  res = catena_provider_run (f->openai, r, NULL, NULL, NULL, &error);
  g_assert_null (res);
  g_assert_error (error, CATENA_PROVIDER_ERROR, CATENA_PROVIDER_ERROR_SERVER);
  g_assert_cmpint (fake_server_count (f->fake, "generations"), ==, 4);
}

static void
test_bad_key (Fixture *f, gconstpointer data)
{
  g_autoptr (CatenaProviderRequest) r = generate_request (1);
  g_autoptr (GError) error = NULL;
  CatenaProviderResult *res;

  fake_server_fault (f->fake, "401", 1);
  res = catena_provider_run (f->openai, r, NULL, NULL, NULL, &error);
  g_assert_null (res);
  g_assert_error (error, CATENA_PROVIDER_ERROR, CATENA_PROVIDER_ERROR_UNAUTHORIZED);
  g_assert_nonnull (strstr (error->message, "OPENAI_API_KEY"));
  g_clear_error (&error);
  g_assert_false (catena_secrets_test_key ("openai", "sk-wrong", NULL, &error));
  g_assert_error (error, CATENA_PROVIDER_ERROR, CATENA_PROVIDER_ERROR_UNAUTHORIZED);
  g_clear_error (&error);
  g_assert_true (catena_secrets_test_key ("openai", NULL, NULL, &error));
  g_assert_no_error (error);
}

static void
expect_failure (Fixture *f, const char *fault, int code)
{
  g_autoptr (CatenaProviderRequest) r = generate_request (1);
  g_autoptr (GError) error = NULL;
  CatenaProviderResult *res;

  fake_server_clear_faults (f->fake);
  fake_server_fault (f->fake, fault, 1);
  res = catena_provider_run (f->openai, r, NULL, NULL, NULL, &error);
  g_assert_null (res);
  if (!g_error_matches (error, CATENA_PROVIDER_ERROR, code))
    g_error ("%s: expected code %d, got %s", fault, code, error ? error->message : "no error");
}

static void
test_hostile (Fixture *f, gconstpointer data)
{
  expect_failure (f, "malformed", CATENA_PROVIDER_ERROR_BAD_RESPONSE);
  expect_failure (f, "b64-not-image", CATENA_PROVIDER_ERROR_BAD_RESPONSE);
  expect_failure (f, "b64-huge-png", CATENA_PROVIDER_ERROR_TOO_LARGE);
}

static void
test_slow_timeout (Fixture *f, gconstpointer data)
{
  g_autoptr (CatenaProviderRequest) r = generate_request (1);
  g_autoptr (GError) error = NULL;
  CatenaProviderResult *res;

  catena_providers_set_http_timeout_ms (200);
  fake_server_fault (f->fake, "slow", -1);
  res = catena_provider_run (f->openai, r, NULL, NULL, NULL, &error);
  catena_providers_set_http_timeout_ms (5000);
  g_assert_null (res);
  g_assert_error (error, CATENA_PROVIDER_ERROR, CATENA_PROVIDER_ERROR_TIMEOUT);
}

typedef struct
{
  GMainLoop *loop;
  CatenaProviderResult *result;
  GError *error;
  guint progress_calls;
  GThread *main_thread;
} AsyncData;

static void
async_progress (double fraction, const char *message, gpointer data)
{
  AsyncData *d = data;
  /* delivered on the caller's main context, not the worker */
  g_assert_true (g_thread_self () == d->main_thread);
  d->progress_calls++;
}

static void
async_done (GObject *source, GAsyncResult *result, gpointer data)
{
  AsyncData *d = data;
  d->result = catena_provider_run_finish (CATENA_PROVIDER (source), result, &d->error);
  g_main_loop_quit (d->loop);
}

static void
test_async (Fixture *f, gconstpointer data)
{
  g_autoptr (CatenaProviderRequest) r = generate_request (1);
  AsyncData d = { g_main_loop_new (NULL, FALSE), NULL, NULL, 0, g_thread_self () };

  catena_provider_run_async (f->openai, r, async_progress, &d, NULL, async_done, &d);
  g_main_loop_run (d.loop);
  g_assert_no_error (d.error);
  g_assert_nonnull (d.result);
  g_assert_cmpuint (d.result->images->len, ==, 1);
  /* let the low-priority progress idles run */
  while (g_main_context_iteration (NULL, FALSE))
    ;
  g_assert_cmpuint (d.progress_calls, >, 0);
  catena_provider_result_free (d.result);
  g_main_loop_unref (d.loop);
}

int
main (int argc, char **argv)
{
  provider_test_init (&argc, &argv);

#define ADD(name, fn) g_test_add ("/providers/openai/" name, Fixture, NULL, setup, fn, teardown)
  ADD ("generate", test_generate);
  ADD ("edit-multipart", test_edit_multipart);
  ADD ("retry-after", test_retry_after);
  ADD ("no-retry-400", test_no_retry_400);
  ADD ("retries-exhausted", test_rate_limited);
  ADD ("bad-key", test_bad_key);
  ADD ("hostile", test_hostile);
  ADD ("slow-timeout", test_slow_timeout);
  ADD ("async", test_async);
#undef ADD
  return g_test_run ();
}
