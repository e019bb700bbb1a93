/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <string.h>

#include "catena-batch.h"
#include "catena-engine.h"
#include "catena-provider.h"
#include "fake-server.h"

/* The batch tests' chain: generate 64² (one candidate) → upscale ×2 → export 64 px PNG.
 * Routing sends generate to fal for every class and upscale to fal for hero/print only. */
static inline CatenaChain *
batch_test_chain (void)
{
  CatenaChain *chain = catena_chain_new ();
  g_autoptr (CatenaStage) gen = catena_stage_new ("generate", NULL);
  g_autoptr (CatenaStage) up = catena_stage_new ("upscale", NULL);
  g_autoptr (CatenaStage) out = catena_stage_new ("export", NULL);

  g_object_set (gen, "width", 64, "height", 64, "candidates", 1, NULL);
  g_object_set (up, "factor", 2.0, NULL);
  g_object_set (out, "long-edge", 64, NULL);
  catena_chain_append (chain, gen);
  catena_chain_append (chain, up);
  catena_chain_append (chain, out);
  return chain;
}

static inline void
batch_test_init (int *argc, char ***argv)
{
  g_setenv ("CATENA_NO_SECRET_SERVICE", "1", TRUE);
  g_setenv ("FAL_KEY", FAKE_KEY, TRUE);
  g_setenv ("OPENAI_API_KEY", FAKE_KEY, TRUE);
  g_test_init (argc, argv, NULL);
  catena_engine_init ();
  catena_providers_set_retry_base_ms (10);
  catena_providers_set_poll_interval_ms (20);
  catena_providers_set_http_timeout_ms (10000);
  catena_providers_set_job_timeout_ms (30000);
}

static inline void
batch_test_point_at (FakeServer *fake)
{
  catena_provider_set_endpoint (catena_provider_get ("fal"), "queue", fake_server_url (fake));
  catena_provider_set_endpoint (catena_provider_get ("fal"), "rest", fake_server_url (fake));
}

static inline char *
batch_test_write (const char *dir, const char *name, const char *text)
{
  char *path = g_build_filename (dir, name, NULL);
  g_assert_true (g_file_set_contents (path, text, -1, NULL));
  return path;
}

static inline void
batch_test_rm_rf (const char *path)
{
  char *argv[] = { (char *) "rm", (char *) "-rf", (char *) path, NULL };
  g_spawn_sync (NULL, argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL, NULL, NULL, NULL);
}

/* Billed calls per "asset/stage" in a ledger. */
static inline GHashTable *
batch_test_billed (const char *ledger_path, guint *n_unconfirmed)
{
  const char *paths[] = { ledger_path, NULL };
  g_autoptr (GPtrArray) calls = catena_ledger_read_calls (paths, NULL);
  GHashTable *billed = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);

  g_assert_nonnull (calls);
  if (n_unconfirmed)
    *n_unconfirmed = 0;
  for (guint i = 0; i < calls->len; i++)
    {
      CatenaLedgerEntry *e = calls->pdata[i];
      g_autofree char *k = g_strdup_printf ("%s/%s", e->asset, e->stage);
      if (e->event == CATENA_LEDGER_BILLED)
        {
          guint n = GPOINTER_TO_UINT (g_hash_table_lookup (billed, k));
          g_hash_table_replace (billed, g_steal_pointer (&k), GUINT_TO_POINTER (n + 1));
        }
      else if (e->event == CATENA_LEDGER_SENT && n_unconfirmed)
        (*n_unconfirmed)++;
    }
  return billed;
}
