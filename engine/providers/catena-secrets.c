/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <glib/gi18n-lib.h>
#include <libsecret/secret.h>

#include "catena-provider-private.h"

/* API keys live in the Secret Service (GNOME Keyring, KWallet) under one schema, one item per
 * provider; the environment variable wins so that CI and headless batches need no keyring.
 * Keys are returned to the caller only: nothing here logs or stores them elsewhere. */

static const SecretSchema *
catena_key_schema (void)
{
  static const SecretSchema schema = {
    "org.catena.ApiKey", SECRET_SCHEMA_NONE,
    {
      { "provider", SECRET_SCHEMA_ATTRIBUTE_STRING },
      { "NULL", 0 },
    }
  };
  return &schema;
}

const char *
catena_secrets_get_env_name (const char *provider)
{
  if (g_strcmp0 (provider, "fal") == 0)
    return "FAL_KEY";
  if (g_strcmp0 (provider, "openai") == 0)
    return "OPENAI_API_KEY";
  return NULL;
}

static const char *
provider_title (const char *provider)
{
  if (g_strcmp0 (provider, "fal") == 0)
    return "fal";
  if (g_strcmp0 (provider, "openai") == 0)
    return "OpenAI";
  if (g_strcmp0 (provider, "comfyui") == 0)
    return "ComfyUI";
  return provider;
}

/* Without a session bus libsecret would try to autolaunch one; headless runs set this. */
static gboolean
keyring_disabled (void)
{
  return g_getenv ("CATENA_NO_SECRET_SERVICE") != NULL;
}

gboolean
catena_secrets_store (const char *provider, const char *key, GCancellable *cancellable,
                      GError **error)
{
  g_autofree char *label = NULL;
  g_autoptr (GError) local_error = NULL;

  g_return_val_if_fail (provider != NULL && key != NULL, FALSE);
  if (keyring_disabled ())
    {
      g_set_error (error, CATENA_PROVIDER_ERROR, CATENA_PROVIDER_ERROR_FAILED,
                   _("The system keyring is turned off for this session; set %s instead."),
                   catena_secrets_get_env_name (provider));
      return FALSE;
    }
  label = g_strdup_printf (_("Catena: %s API key"), provider_title (provider));
  if (!secret_password_store_sync (catena_key_schema (), SECRET_COLLECTION_DEFAULT, label, key,
                                   cancellable, &local_error, "provider", provider, NULL))
    {
      g_set_error (error, CATENA_PROVIDER_ERROR, CATENA_PROVIDER_ERROR_FAILED,
                   _("Could not save the key in the system keyring: %s"),
                   local_error->message);
      return FALSE;
    }
  return TRUE;
}

gboolean
catena_secrets_clear (const char *provider, GCancellable *cancellable, GError **error)
{
  g_autoptr (GError) local_error = NULL;

  if (keyring_disabled ())
    return TRUE;
  secret_password_clear_sync (catena_key_schema (), cancellable, &local_error, "provider",
                              provider, NULL);
  if (local_error)
    {
      g_set_error (error, CATENA_PROVIDER_ERROR, CATENA_PROVIDER_ERROR_FAILED,
                   _("Could not remove the key from the system keyring: %s"),
                   local_error->message);
      return FALSE;
    }
  return TRUE;
}

char *
catena_secrets_lookup (const char *provider, GCancellable *cancellable, GError **error)
{
  const char *env_name = catena_secrets_get_env_name (provider);
  const char *env = env_name ? g_getenv (env_name) : NULL;
  g_autoptr (GError) local_error = NULL;
  char *key = NULL;

  if (env && env[0])
    return g_strstrip (g_strdup (env));
  if (!keyring_disabled ())
    {
      key = secret_password_lookup_sync (catena_key_schema (), cancellable, &local_error,
                                         "provider", provider, NULL);
      if (key && key[0])
        {
          char *copy = g_strstrip (g_strdup (key));
          secret_password_free (key);
          return copy;
        }
      g_clear_pointer (&key, secret_password_free);
      if (local_error)
        g_debug ("keyring lookup failed: %s", local_error->message);
    }
  g_set_error (error, CATENA_PROVIDER_ERROR, CATENA_PROVIDER_ERROR_MISSING_KEY,
               _("No %s API key. Add it in Preferences → Providers, or set the %s "
                 "environment variable."),
               provider_title (provider), env_name ? env_name : "");
  return NULL;
}

gboolean
catena_secrets_test_key (const char *provider_name, const char *key, GCancellable *cancellable,
                         GError **error)
{
  CatenaProvider *provider = catena_provider_get (provider_name);
  g_autofree char *stored = NULL;
  g_autofree char *url = NULL;
  g_autofree char *auth = NULL;
  g_autoptr (CatenaHttpResponse) resp = NULL;
  const char *headers[2] = { NULL, NULL };
  const char *env_name = catena_secrets_get_env_name (provider_name);
  CatenaHttpRequest req = { .method = "GET", .max_retries = 1, .timeout_ms = 20000,
                            .service = provider_title (provider_name) };

  if (provider == NULL)
    {
      g_set_error (error, CATENA_PROVIDER_ERROR, CATENA_PROVIDER_ERROR_UNSUPPORTED,
                   _("Catena does not know the provider “%s”."), provider_name);
      return FALSE;
    }
  if (g_strcmp0 (provider_name, "fal") == 0)
    {
      g_autofree char *base = catena_provider_dup_endpoint (provider, "queue");
      if (key == NULL && !(key = stored = catena_secrets_lookup ("fal", cancellable, error)))
        return FALSE;
      /* fal has no "who am I" endpoint: the status of a request id that cannot exist answers
       * 401/403 for a bad key and 404 for a good one. */
      url = g_strdup_printf ("%s/fal-ai/flux/requests/00000000-0000-0000-0000-000000000000/"
                             "status",
                             base);
      auth = g_strdup_printf ("Authorization: Key %s", key);
    }
  else if (g_strcmp0 (provider_name, "openai") == 0)
    {
      g_autofree char *base = catena_provider_dup_endpoint (provider, "base");
      if (key == NULL && !(key = stored = catena_secrets_lookup ("openai", cancellable, error)))
        return FALSE;
      url = g_strdup_printf ("%s/models", base);
      auth = g_strdup_printf ("Authorization: Bearer %s", key);
    }
  else if (g_strcmp0 (provider_name, "comfyui") == 0)
    {
      g_autofree char *base = catena_provider_dup_endpoint (provider, "base");
      url = g_strdup_printf ("%s/system_stats", base);
    }
  else
    return TRUE;

  headers[0] = auth;
  req.url = url;
  req.headers = auth ? headers : NULL;
  if (!(resp = catena_http_perform (&req, cancellable, error)))
    return FALSE;
  if (resp->status == 401 || resp->status == 403 || resp->status == 429 || resp->status >= 500)
    return catena_http_check_status (resp, req.service, env_name, error);
  if (g_strcmp0 (provider_name, "fal") != 0)
    return catena_http_check_status (resp, req.service, env_name, error);
  return TRUE;
}

static void
test_key_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  char **args = task_data;
  GError *error = NULL;

  if (catena_secrets_test_key (args[0], args[1], cancellable, &error))
    g_task_return_boolean (task, TRUE);
  else
    g_task_return_error (task, error);
}

void
catena_secrets_test_key_async (const char *provider, const char *key, GCancellable *cancellable,
                               GAsyncReadyCallback callback, gpointer user_data)
{
  g_autoptr (GTask) task = g_task_new (NULL, cancellable, callback, user_data);
  char **args = g_new0 (char *, 3);

  args[0] = g_strdup (provider);
  args[1] = g_strdup (key);
  g_task_set_source_tag (task, catena_secrets_test_key_async);
  g_task_set_task_data (task, args, (GDestroyNotify) g_strfreev);
  g_task_run_in_thread (task, test_key_thread);
}

gboolean
catena_secrets_test_key_finish (GAsyncResult *result, GError **error)
{
  return g_task_propagate_boolean (G_TASK (result), error);
}
