/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <adwaita.h>

G_BEGIN_DECLS

/* Where keys go. The default is the engine's (catena_secrets_*: the environment first, then
 * the Secret Service); tests swap in a fake, since CI has no keyring. store, clear and lookup
 * block and are called on a worker thread. */
typedef struct
{
  gboolean (*store)       (const char *provider, const char *key, GCancellable *cancellable,
                           GError **error);
  gboolean (*clear)       (const char *provider, GCancellable *cancellable, GError **error);
  char    *(*lookup)      (const char *provider, GCancellable *cancellable, GError **error);
  void     (*test_async)  (const char *provider, const char *key, GCancellable *cancellable,
                           GAsyncReadyCallback callback, gpointer user_data);
  gboolean (*test_finish) (GAsyncResult *result, GError **error);
} CatenaSecretsBackend;

/* NULL restores the engine's. */
void catena_api_key_group_set_backend (const CatenaSecretsBackend *backend);

typedef enum
{
  CATENA_KEY_STATE_CHECKING,
  CATENA_KEY_STATE_NONE,
  CATENA_KEY_STATE_STORED,
  CATENA_KEY_STATE_ENVIRONMENT,
  CATENA_KEY_STATE_UNAVAILABLE, /* the keyring could not be asked */
} CatenaKeyState;

#define CATENA_TYPE_API_KEY_GROUP (catena_api_key_group_get_type ())
G_DECLARE_FINAL_TYPE (CatenaApiKeyGroup, catena_api_key_group, CATENA, API_KEY_GROUP,
                      AdwPreferencesGroup)

/* One provider's API key: enter or replace it (a password entry; the key is never shown or
 * logged once stored), forget it, test it. The environment variable wins and says so. */
GtkWidget      *catena_api_key_group_new        (const char        *provider);
const char     *catena_api_key_group_get_provider (CatenaApiKeyGroup *self);
CatenaKeyState  catena_api_key_group_get_state  (CatenaApiKeyGroup *self);
/* The sentence under the key row (state, or the last test's or error's outcome). */
const char     *catena_api_key_group_get_status (CatenaApiKeyGroup *self);
/* TRUE while the keyring or a test is being asked. */
gboolean        catena_api_key_group_is_busy    (CatenaApiKeyGroup *self);
/* The widgets, for tests and keyboard users' sake. */
GtkWidget      *catena_api_key_group_get_entry  (CatenaApiKeyGroup *self);
GtkWidget      *catena_api_key_group_get_test_button   (CatenaApiKeyGroup *self);
GtkWidget      *catena_api_key_group_get_forget_button (CatenaApiKeyGroup *self);

G_END_DECLS
