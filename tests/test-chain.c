/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <string.h>

#include "catena-test-util.h"

typedef struct
{
  guint position, removed, added;
} Change;

static void
on_items_changed (GListModel *model, guint position, guint removed, guint added, GArray *log)
{
  Change c = { position, removed, added };
  g_array_append_val (log, c);
}

static void
assert_change (GArray *log, guint i, guint position, guint removed, guint added)
{
  Change *c;

  g_assert_cmpuint (log->len, >, i);
  c = &g_array_index (log, Change, i);
  g_assert_cmpuint (c->position, ==, position);
  g_assert_cmpuint (c->removed, ==, removed);
  g_assert_cmpuint (c->added, ==, added);
}

static CatenaStage *
new_stage (const char *kind)
{
  GError *error = NULL;
  CatenaStage *stage = catena_stage_new (kind, &error);
  g_assert_no_error (error);
  return stage;
}

static char *
ids (CatenaChain *chain)
{
  GString *s = g_string_new (NULL);
  for (guint i = 0; i < catena_chain_get_n_stages (chain); i++)
    g_string_append_printf (s, "%s%s", i ? "," : "", catena_stage_get_id (catena_chain_get_stage (chain, i)));
  return g_string_free (s, FALSE);
}

static void
test_chain_model (void)
{
  g_autoptr (CatenaChain) chain = catena_chain_new ();
  g_autoptr (GArray) log = g_array_new (FALSE, FALSE, sizeof (Change));
  g_autofree char *order = NULL;
  g_autoptr (CatenaStage) first = NULL;

  g_signal_connect (chain, "items-changed", G_CALLBACK (on_items_changed), log);

  {
    g_autoptr (CatenaStage) imp = new_stage ("import");
    catena_chain_append (chain, imp);
  }
  {
    g_autoptr (CatenaStage) a = new_stage ("upscale");
    g_autoptr (CatenaStage) b = new_stage ("upscale");
    g_autoptr (CatenaStage) c = new_stage ("export");
    catena_chain_append (chain, a);
    catena_chain_append (chain, c);
    catena_chain_insert (chain, 2, b);
  }
  assert_change (log, 0, 0, 0, 1);
  assert_change (log, 1, 1, 0, 1);
  assert_change (log, 2, 2, 0, 1);
  assert_change (log, 3, 2, 0, 1);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (chain)), ==, 4);
  g_assert_true (g_list_model_get_item_type (G_LIST_MODEL (chain)) == CATENA_TYPE_STAGE);

  /* Ids are unique: the second upscale got a suffix. */
  order = ids (chain);
  g_assert_cmpstr (order, ==, "import,upscale,upscale-2,export");
  g_clear_pointer (&order, g_free);

  /* Move down: one span covering both ends. */
  catena_chain_move (chain, 1, 3);
  assert_change (log, 4, 1, 3, 3);
  order = ids (chain);
  g_assert_cmpstr (order, ==, "import,upscale-2,export,upscale");
  g_clear_pointer (&order, g_free);

  /* Move up. */
  catena_chain_move (chain, 3, 0);
  assert_change (log, 5, 0, 4, 4);
  order = ids (chain);
  g_assert_cmpstr (order, ==, "upscale,import,upscale-2,export");
  g_clear_pointer (&order, g_free);

  /* No-op move emits nothing. */
  catena_chain_move (chain, 2, 2);
  g_assert_cmpuint (log->len, ==, 6);

  first = g_list_model_get_item (G_LIST_MODEL (chain), 0);
  catena_chain_remove (chain, 0);
  assert_change (log, 6, 0, 1, 0);
  g_assert_cmpuint (catena_chain_get_n_stages (chain), ==, 3);
  g_assert_null (g_list_model_get_item (G_LIST_MODEL (chain), 3));

  /* A removed stage no longer reports changes through the chain. */
  g_assert_null (catena_chain_find_stage (chain, "upscale", NULL));
  g_assert_finalize_object (g_steal_pointer (&first));
}

static void
on_stage_changed (CatenaChain *chain, CatenaStage *stage, GParamSpec *pspec, GPtrArray *names)
{
  g_ptr_array_add (names, g_strdup (pspec->name));
}

static void
test_chain_stage_changed (void)
{
  g_autoptr (CatenaChain) chain = catena_chain_new ();
  g_autoptr (CatenaStage) up = new_stage ("upscale");
  g_autoptr (GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  GError *error = NULL;

  catena_chain_append (chain, up);
  g_signal_connect (chain, "stage-changed", G_CALLBACK (on_stage_changed), names);

  g_object_set (up, "factor", 3.0, NULL);
  g_object_set (up, "factor", 3.0, NULL); /* no change, no notify */
  g_assert_cmpuint (names->len, ==, 1);
  g_assert_cmpstr (g_ptr_array_index (names, 0), ==, "factor");

  g_assert_true (catena_chain_apply_setting (chain, "upscale.sampler=cubic", &error));
  g_assert_no_error (error);
  g_assert_cmpuint (names->len, ==, 2);
  g_assert_true (catena_chain_apply_setting (chain, "upscale.model=esrgan-slim-4x", &error));
  g_assert_cmpstr (catena_stage_get_model (up), ==, "esrgan-slim-4x");

  g_assert_false (catena_chain_apply_setting (chain, "upscale.factor=99", &error));
  g_assert_error (error, CATENA_STAGE_ERROR, CATENA_STAGE_ERROR_INVALID_PARAMETER);
  g_assert_nonnull (strstr (error->message, "1 … 8"));
  g_clear_error (&error);
  g_assert_false (catena_chain_apply_setting (chain, "upscale.factor=abc", &error));
  g_assert_error (error, CATENA_STAGE_ERROR, CATENA_STAGE_ERROR_INVALID_PARAMETER);
  g_clear_error (&error);
  g_assert_false (catena_chain_apply_setting (chain, "nosuch.factor=2", &error));
  g_assert_error (error, CATENA_PROJECT_ERROR, CATENA_PROJECT_ERROR_NOT_FOUND);
  g_clear_error (&error);
  g_assert_false (catena_chain_apply_setting (chain, "upscale.nosuch=2", &error));
  g_assert_error (error, CATENA_STAGE_ERROR, CATENA_STAGE_ERROR_INVALID_PARAMETER);
  g_clear_error (&error);
  g_assert_false (catena_chain_apply_setting (chain, "garbage", &error));
  g_assert_error (error, CATENA_STAGE_ERROR, CATENA_STAGE_ERROR_INVALID_PARAMETER);
  g_clear_error (&error);
  {
    double f;
    g_object_get (up, "factor", &f, NULL);
    g_assert_cmpfloat (f, ==, 3.0);
  }
}

static void
test_stage_params (void)
{
  g_autoptr (CatenaStage) ex = new_stage ("export");
  g_autofree GParamSpec **params = NULL;
  g_autofree char *v = NULL;
  g_autofree char *canon1 = NULL;
  g_autofree char *canon2 = NULL;
  GError *error = NULL;
  guint n;

  params = catena_stage_list_params (ex, &n);
  /* Only the subclass's own parameters, in declaration order. */
  g_assert_cmpuint (n, ==, 4);
  g_assert_cmpstr (params[0]->name, ==, "format");
  g_assert_cmpstr (params[3]->name, ==, "matte");
  g_assert_true (catena_param_spec_is_color (params[3]));
  g_assert_false (catena_param_spec_is_color (params[0]));

  g_assert_true (catena_stage_set_param_from_string (ex, "format", "webp", &error));
  v = catena_stage_dup_param_string (ex, "format");
  g_assert_cmpstr (v, ==, "webp");
  g_assert_false (catena_stage_set_param_from_string (ex, "matte", "red", &error));
  g_assert_error (error, CATENA_STAGE_ERROR, CATENA_STAGE_ERROR_INVALID_PARAMETER);
  g_clear_error (&error);
  g_assert_true (catena_stage_set_param_from_string (ex, "matte", "#C8102E", &error));
  g_assert_false (catena_stage_set_param_from_string (ex, "id", "x", &error));
  g_clear_error (&error);

  canon1 = catena_stage_canonical_params (ex);
  g_assert_true (catena_stage_set_param_from_string (ex, "quality", "91", &error));
  canon2 = catena_stage_canonical_params (ex);
  g_assert_cmpstr (canon1, !=, canon2);

  g_assert_null (catena_stage_new ("no-such-stage", &error));
  g_assert_error (error, CATENA_STAGE_ERROR, CATENA_STAGE_ERROR_UNKNOWN_KIND);
  g_clear_error (&error);
}

static void
test_chain_duplicate_json (void)
{
  g_autoptr (CatenaChain) chain = catena_chain_new ();
  g_autoptr (CatenaChain) copy = NULL;
  g_autoptr (JsonNode) a = NULL;
  g_autoptr (JsonNode) b = NULL;
  g_autofree char *sa = NULL;
  g_autofree char *sb = NULL;
  GError *error = NULL;
  const char *kinds[] = { "import", "upscale", "export" };

  for (guint i = 0; i < G_N_ELEMENTS (kinds); i++)
    {
      g_autoptr (CatenaStage) s = new_stage (kinds[i]);
      catena_chain_append (chain, s);
    }
  g_assert_true (catena_chain_apply_setting (chain, "upscale.factor=2.5", &error));
  g_assert_true (catena_chain_apply_setting (chain, "export.format=jpeg", &error));

  copy = catena_chain_duplicate (chain);
  a = catena_chain_to_json (chain);
  b = catena_chain_to_json (copy);
  sa = json_to_string (a, FALSE);
  sb = json_to_string (b, FALSE);
  g_assert_cmpstr (sa, ==, sb);
  /* Deep copy: editing the copy leaves the original alone. */
  g_assert_true (catena_chain_apply_setting (copy, "upscale.factor=4", &error));
  g_assert_true (catena_chain_get_stage (copy, 1) != catena_chain_get_stage (chain, 1));
  {
    double f;
    g_object_get (catena_chain_get_stage (chain, 1), "factor", &f, NULL);
    g_assert_cmpfloat (f, ==, 2.5);
  }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  catena_engine_init ();

  g_test_add_func ("/chain/model", test_chain_model);
  g_test_add_func ("/chain/stage-changed", test_chain_stage_changed);
  g_test_add_func ("/chain/duplicate-json", test_chain_duplicate_json);
  g_test_add_func ("/stage/params", test_stage_params);

  return g_test_run ();
}
