/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <string.h>

#include "provider-test-util.h"

/* The fal provider against the fake queue/storage/CDN server (fake-servers.c). */

typedef struct
{
  FakeServer *fake;
  CatenaProvider *fal;
} Fixture;

static void
setup (Fixture *f, gconstpointer data)
{
  f->fake = fake_fal_new ();
  f->fal = catena_provider_get ("fal");
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
  r->prompt = g_strdup ("a red handbag on a white table");
  r->width = 64;
  r->height = 48;
  r->n_images = n;
  r->seed = 7;
  return r;
}

static void
count_progress (double fraction, const char *message, gpointer data)
{
  double *last = data;
  g_assert_cmpfloat (fraction, >=, 0.0);
  g_assert_cmpfloat (fraction, <=, 1.0);
  *last = fraction;
}

static void
test_generate (Fixture *f, gconstpointer data)
{
  g_autoptr (CatenaProviderRequest) r = generate_request (2);
  g_autoptr (CatenaProviderResult) res = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonObject) sent = NULL;
  g_autofree char *path = NULL;
  g_autofree char *priority = NULL;
  double last = -1;

  res = catena_provider_run (f->fal, r, count_progress, &last, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (res->images->len, ==, 2);
  assert_size (res->images->pdata[0], 64, 48);
  g_assert_cmpfloat (last, ==, 1.0);

  /* the wire: model input JSON, queue priority header, path with the sub-path */
  path = fake_server_dup_last (f->fake, "submit-path");
  g_assert_cmpstr (path, ==, "/fal-ai/flux/schnell");
  priority = fake_server_dup_last (f->fake, "submit-priority");
  g_assert_cmpstr (priority, ==, "normal");
  sent = provider_test_take_parse (fake_server_dup_last (f->fake, "submit"));
  g_assert_cmpstr (json_object_get_string_member (sent, "prompt"), ==,
                   "a red handbag on a white table");
  g_assert_cmpint (json_object_get_int_member (sent, "num_images"), ==, 2);
  g_assert_cmpint (json_object_get_int_member (sent, "seed"), ==, 7);
  g_assert_cmpint (json_object_get_int_member (json_object_get_object_member (sent, "image_size"),
                                               "width"),
                   ==, 64);
  g_assert_cmpint (fake_server_count (f->fake, "submit"), ==, 1);
  /* IN_QUEUE → IN_PROGRESS → COMPLETED */
  g_assert_cmpint (fake_server_count (f->fake, "status"), ==, 3);
  g_assert_cmpint (fake_server_count (f->fake, "result"), ==, 1);
  g_assert_cmpint (fake_server_count (f->fake, "file"), ==, 2);
  g_assert_cmpint (fake_server_count (f->fake, "leaked-auth"), ==, 0);

  g_assert_cmpstr (res->provenance->provider, ==, "fal");
  g_assert_cmpstr (res->provenance->model, ==, "fal-ai/flux/schnell");
  g_assert_cmpint (res->provenance->seed, ==, 7);
  g_assert_nonnull (res->provenance->remote_id);
  g_assert_cmpfloat (res->provenance->cost_usd, >, 0.0);
  g_assert_cmpuint (res->provenance->n_outputs, ==, 2);
}

static void
test_edit_uploads (Fixture *f, gconstpointer data)
{
  g_autoptr (CatenaProviderRequest) r = catena_provider_request_new ("edit");
  g_autoptr (CatenaProviderResult) res = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonObject) sent = NULL;
  g_autofree char *ctype = NULL;
  const char *image_url;

  r->prompt = g_strdup ("make the bag burgundy");
  r->input = provider_test_buffer (32, 32);
  r->mask = provider_test_buffer (32, 32);
  res = catena_provider_run (f->fal, r, NULL, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (fake_server_count (f->fake, "upload-initiate"), ==, 2);
  g_assert_cmpint (fake_server_count (f->fake, "upload-put"), ==, 2);
  /* pre-signed upload URLs and CDN files never see the key */
  g_assert_cmpint (fake_server_count (f->fake, "leaked-auth"), ==, 0);
  ctype = fake_server_dup_last (f->fake, "upload-content-type");
  g_assert_cmpstr (ctype, ==, "image/png");
  sent = provider_test_take_parse (fake_server_dup_last (f->fake, "submit"));
  image_url = json_object_get_string_member (sent, "image_url");
  g_assert_true (g_str_has_prefix (image_url, fake_server_url (f->fake)));
  g_assert_true (g_str_has_suffix (image_url, ".png"));
  g_assert_true (json_object_has_member (sent, "mask_url"));
  g_assert_cmpstr (json_object_get_string_member (sent, "prompt"), ==, "make the bag burgundy");
}

static void
test_style_loras (Fixture *f, gconstpointer data)
{
  g_autoptr (CatenaProviderRequest) r = catena_provider_request_new ("style");
  g_autoptr (CatenaProviderResult) res = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonObject) sent = NULL;
  g_autofree char *path = NULL;
  JsonObject *lora;

  r->prompt = g_strdup ("product shot");
  r->input = provider_test_buffer (32, 32);
  r->lora = g_strdup ("https://example.com/brand.safetensors");
  r->lora_scale = 0.75;
  r->denoise = 0.4;
  res = catena_provider_run (f->fal, r, NULL, NULL, NULL, &error);
  g_assert_no_error (error);
  path = fake_server_dup_last (f->fake, "submit-path");
  g_assert_cmpstr (path, ==, "/fal-ai/flux-lora/image-to-image");
  sent = provider_test_take_parse (fake_server_dup_last (f->fake, "submit"));
  lora = json_array_get_object_element (json_object_get_array_member (sent, "loras"), 0);
  g_assert_cmpstr (json_object_get_string_member (lora, "path"), ==,
                   "https://example.com/brand.safetensors");
  g_assert_cmpfloat (json_object_get_double_member (lora, "scale"), ==, 0.75);
  g_assert_cmpfloat (json_object_get_double_member (sent, "strength"), ==, 0.4);
}

static void
test_retry_retryable (Fixture *f, gconstpointer data)
{
  g_autoptr (CatenaProviderRequest) r = generate_request (1);
  g_autoptr (CatenaProviderResult) res = NULL;
  g_autoptr (GError) error = NULL;

  /* 503 on submit twice, 500 on a status poll twice (status polling retries 500 too) and a
   * dropped connection once: all retried */
  fake_server_fault (f->fake, "submit-503", 2);
  fake_server_fault (f->fake, "status-500", 2);
  fake_server_fault (f->fake, "status-drop", 1);
  res = catena_provider_run (f->fal, r, NULL, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (fake_server_count (f->fake, "submit"), ==, 3);
  g_assert_cmpint (fake_server_count (f->fake, "status"), ==, 3 + 2 + 1);
}

static void
test_retry_after (Fixture *f, gconstpointer data)
{
  g_autoptr (CatenaProviderRequest) r = generate_request (1);
  g_autoptr (CatenaProviderResult) res = NULL;
  g_autoptr (GError) error = NULL;
  gint64 start = g_get_monotonic_time ();

  fake_server_fault (f->fake, "submit-429", 1);
  res = catena_provider_run (f->fal, r, NULL, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (fake_server_count (f->fake, "submit"), ==, 2);
  /* Retry-After: 1 is honoured over the (10 ms) computed backoff */
  g_assert_cmpint (g_get_monotonic_time () - start, >=, 900 * 1000);
}

static void
test_no_retry (Fixture *f, gconstpointer data)
{
  g_autoptr (CatenaProviderRequest) r = generate_request (1);
  g_autoptr (GError) error = NULL;
  CatenaProviderResult *res;

  /* 422 is a validation error: not retried, detail shown */
  fake_server_fault (f->fake, "submit-422", 1);
  res = catena_provider_run (f->fal, r, NULL, NULL, NULL, &error);
  g_assert_null (res);
  g_assert_error (error, CATENA_PROVIDER_ERROR, CATENA_PROVIDER_ERROR_INVALID_REQUEST);
  g_assert_nonnull (strstr (error->message, "prompt: Field required"));
  g_assert_cmpint (fake_server_count (f->fake, "submit"), ==, 1);
  g_clear_error (&error);

  /* 500 on submit is not in fal's retry list (only status polling retries it) */
  fake_server_fault (f->fake, "submit-500", 1);
  res = catena_provider_run (f->fal, r, NULL, NULL, NULL, &error);
  g_assert_null (res);
  g_assert_error (error, CATENA_PROVIDER_ERROR, CATENA_PROVIDER_ERROR_SERVER);
  g_assert_cmpint (fake_server_count (f->fake, "submit"), ==, 2);
}

static void
test_retries_exhausted (Fixture *f, gconstpointer data)
{
  g_autoptr (CatenaProviderRequest) r = generate_request (1);
  g_autoptr (GError) error = NULL;
  CatenaProviderResult *res;

  fake_server_fault (f->fake, "submit-503", -1);
  res = catena_provider_run (f->fal, r, NULL, NULL, NULL, &error);
  g_assert_null (res);
  g_assert_error (error, CATENA_PROVIDER_ERROR, CATENA_PROVIDER_ERROR_SERVER);
  /* one try and three retries */
  g_assert_cmpint (fake_server_count (f->fake, "submit"), ==, 4);
}

static void
test_cancel (Fixture *f, gconstpointer data)
{
  g_autoptr (CatenaProviderRequest) r = generate_request (1);
  g_autoptr (GCancellable) cancellable = g_cancellable_new ();
  g_autoptr (GError) error = NULL;
  CancelLater c = { cancellable, 300 };
  GThread *t;
  gint64 start = g_get_monotonic_time ();
  CatenaProviderResult *res;

  fake_server_fault (f->fake, "never-complete", -1);
  t = cancel_later (&c);
  res = catena_provider_run (f->fal, r, NULL, NULL, cancellable, &error);
  g_thread_join (t);
  g_assert_null (res);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_cmpint (g_get_monotonic_time () - start, <, 1500 * 1000);
  /* the fake received PUT …/requests/<id>/cancel */
  g_assert_cmpint (fake_server_count (f->fake, "cancel"), ==, 1);
}

static void
test_cancel_in_transfer (Fixture *f, gconstpointer data)
{
  g_autoptr (CatenaProviderRequest) r = generate_request (1);
  g_autoptr (GCancellable) cancellable = g_cancellable_new ();
  g_autoptr (GError) error = NULL;
  CancelLater c = { cancellable, 200 };
  GThread *t;
  gint64 start = g_get_monotonic_time ();
  CatenaProviderResult *res;

  /* a status poll that takes 3 s: cancelling must abort the transfer itself */
  fake_server_fault (f->fake, "status-slow", -1);
  t = cancel_later (&c);
  res = catena_provider_run (f->fal, r, NULL, NULL, cancellable, &error);
  g_thread_join (t);
  g_assert_null (res);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_cmpint (g_get_monotonic_time () - start, <, 1000 * 1000);
  g_assert_cmpint (fake_server_count (f->fake, "cancel"), ==, 1);
}

static void
test_timeout (Fixture *f, gconstpointer data)
{
  g_autoptr (CatenaProviderRequest) r = generate_request (1);
  g_autoptr (GError) error = NULL;
  CatenaProviderResult *res;

  /* per-request: every status poll stalls past the 250 ms limit, retried then given up */
  catena_providers_set_http_timeout_ms (250);
  fake_server_fault (f->fake, "status-slow", -1);
  res = catena_provider_run (f->fal, r, NULL, NULL, NULL, &error);
  catena_providers_set_http_timeout_ms (5000);
  g_assert_null (res);
  g_assert_error (error, CATENA_PROVIDER_ERROR, CATENA_PROVIDER_ERROR_TIMEOUT);
  g_assert_cmpint (fake_server_count (f->fake, "status"), ==, 4);
  g_clear_error (&error);
  fake_server_clear_faults (f->fake);

  /* whole job: never completes within the job limit, and is cancelled remotely */
  catena_providers_set_job_timeout_ms (400);
  fake_server_fault (f->fake, "never-complete", -1);
  res = catena_provider_run (f->fal, r, NULL, NULL, NULL, &error);
  catena_providers_set_job_timeout_ms (20000);
  g_assert_null (res);
  g_assert_error (error, CATENA_PROVIDER_ERROR, CATENA_PROVIDER_ERROR_TIMEOUT);
  g_assert_cmpint (fake_server_count (f->fake, "cancel"), ==, 1);
}

static void
test_bad_key (Fixture *f, gconstpointer data)
{
  g_autoptr (CatenaProviderRequest) r = generate_request (1);
  g_autoptr (GError) error = NULL;
  CatenaProviderResult *res;

  g_setenv ("FAL_KEY", "wrong", TRUE);
  res = catena_provider_run (f->fal, r, NULL, NULL, NULL, &error);
  g_assert_null (res);
  g_assert_error (error, CATENA_PROVIDER_ERROR, CATENA_PROVIDER_ERROR_UNAUTHORIZED);
  g_assert_nonnull (strstr (error->message, "FAL_KEY"));
  g_assert_null (strstr (error->message, "wrong"));
  g_assert_cmpint (fake_server_count (f->fake, "submit"), ==, 0);
  g_clear_error (&error);

  g_assert_false (catena_secrets_test_key ("fal", "wrong", NULL, &error));
  g_assert_error (error, CATENA_PROVIDER_ERROR, CATENA_PROVIDER_ERROR_UNAUTHORIZED);
  g_clear_error (&error);
  g_assert_true (catena_secrets_test_key ("fal", FAKE_KEY, NULL, &error));
  g_assert_no_error (error);

  g_unsetenv ("FAL_KEY");
  res = catena_provider_run (f->fal, r, NULL, NULL, NULL, &error);
  g_assert_null (res);
  g_assert_error (error, CATENA_PROVIDER_ERROR, CATENA_PROVIDER_ERROR_MISSING_KEY);
  g_assert_nonnull (strstr (error->message, "FAL_KEY"));
  g_assert_nonnull (strstr (error->message, "Preferences"));
  g_setenv ("FAL_KEY", FAKE_KEY, TRUE);
}

static void
expect_failure (Fixture *f, const char *fault, int code)
{
  g_autoptr (CatenaProviderRequest) r = generate_request (1);
  g_autoptr (GError) error = NULL;
  CatenaProviderResult *res;

  fake_server_clear_faults (f->fake);
  fake_server_fault (f->fake, fault, 1);
  res = catena_provider_run (f->fal, r, NULL, NULL, NULL, &error);
  g_assert_null (res);
  if (!g_error_matches (error, CATENA_PROVIDER_ERROR, code))
    g_error ("%s: expected code %d, got %s", fault, code, error ? error->message : "no error");
  g_assert_true (g_utf8_validate (error->message, -1, NULL));
  g_assert_cmpuint (strlen (error->message), <, 1000);
}

static void
test_hostile (Fixture *f, gconstpointer data)
{
  expect_failure (f, "result-malformed", CATENA_PROVIDER_ERROR_BAD_RESPONSE);
  expect_failure (f, "result-huge", CATENA_PROVIDER_ERROR_TOO_LARGE);
  expect_failure (f, "image-not-image", CATENA_PROVIDER_ERROR_BAD_RESPONSE);
  expect_failure (f, "image-huge-png", CATENA_PROVIDER_ERROR_TOO_LARGE);
  expect_failure (f, "image-insecure", CATENA_PROVIDER_ERROR_INSECURE_URL);
  expect_failure (f, "malformed", CATENA_PROVIDER_ERROR_BAD_RESPONSE);
  expect_failure (f, "huge", CATENA_PROVIDER_ERROR_TOO_LARGE);
}

static void
test_dropped (Fixture *f, gconstpointer data)
{
  g_autoptr (CatenaProviderRequest) r = generate_request (1);
  g_autoptr (GError) error = NULL;
  CatenaProviderResult *res;

  fake_server_fault (f->fake, "status-drop", -1);
  res = catena_provider_run (f->fal, r, NULL, NULL, NULL, &error);
  g_assert_null (res);
  g_assert_error (error, CATENA_PROVIDER_ERROR, CATENA_PROVIDER_ERROR_NETWORK);
  g_assert_cmpint (fake_server_count (f->fake, "status"), ==, 4);
}

static void
test_insecure_endpoint (Fixture *f, gconstpointer data)
{
  g_autoptr (CatenaProviderRequest) r = generate_request (1);
  g_autoptr (GError) error = NULL;
  CatenaProviderResult *res;

  catena_provider_set_endpoint (f->fal, "queue", "http://queue.example.com");
  res = catena_provider_run (f->fal, r, NULL, NULL, NULL, &error);
  g_assert_null (res);
  g_assert_error (error, CATENA_PROVIDER_ERROR, CATENA_PROVIDER_ERROR_INSECURE_URL);
}

static void
test_env_endpoint (Fixture *f, gconstpointer data)
{
  g_autofree char *url = NULL;

  catena_provider_set_endpoint (f->fal, "queue", NULL);
  g_setenv ("CATENA_FAL_QUEUE_URL", "https://queue.example.org/", TRUE);
  url = catena_provider_dup_endpoint (f->fal, "queue");
  g_assert_cmpstr (url, ==, "https://queue.example.org");
  g_unsetenv ("CATENA_FAL_QUEUE_URL");
  g_free (url);
  url = catena_provider_dup_endpoint (f->fal, "queue");
  g_assert_cmpstr (url, ==, "https://queue.fal.run");
}

int
main (int argc, char **argv)
{
  provider_test_init (&argc, &argv);

#define ADD(name, fn) g_test_add ("/providers/fal/" name, Fixture, NULL, setup, fn, teardown)
  ADD ("generate", test_generate);
  ADD ("edit-uploads", test_edit_uploads);
  ADD ("style-loras", test_style_loras);
  ADD ("retry-retryable", test_retry_retryable);
  ADD ("retry-after", test_retry_after);
  ADD ("no-retry", test_no_retry);
  ADD ("retries-exhausted", test_retries_exhausted);
  ADD ("cancel", test_cancel);
  ADD ("cancel-in-transfer", test_cancel_in_transfer);
  ADD ("timeout", test_timeout);
  ADD ("bad-key", test_bad_key);
  ADD ("hostile", test_hostile);
  ADD ("dropped", test_dropped);
  ADD ("insecure-endpoint", test_insecure_endpoint);
  ADD ("env-endpoint", test_env_endpoint);
#undef ADD
  return g_test_run ();
}
