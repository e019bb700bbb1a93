/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>

#include "catena-engine.h"

/* Benchmark (b) of the foundation issue: the full demo chain from an empty cache versus a
 * re-run after tweaking only the last stage. Target ratio ≤ 0.05.
 *   bench-chain [PROJECT.catena] [N]    (default: data/demo/demo.catena, N = 5) */

typedef struct
{
  GMainLoop *loop;
  GError *error;
} Wait;

static void
on_done (GObject *source, GAsyncResult *result, gpointer data)
{
  Wait *w = data;
  catena_runner_run_finish (CATENA_RUNNER (source), result, &w->error);
  g_main_loop_quit (w->loop);
}

static double
run_once (CatenaRunner *runner, CatenaProject *project, const char *out_dir)
{
  Wait w = { g_main_loop_new (NULL, FALSE), NULL };
  gint64 t0 = g_get_monotonic_time ();

  catena_runner_run_async (runner, project, NULL, out_dir, NULL, on_done, &w);
  g_main_loop_run (w.loop);
  g_main_loop_unref (w.loop);
  if (w.error)
    {
      g_printerr ("bench-chain: %s\n", w.error->message);
      exit (1);
    }
  return (g_get_monotonic_time () - t0) / 1000.0;
}

static int
cmp_double (gconstpointer a, gconstpointer b)
{
  double x = *(const double *) a, y = *(const double *) b;
  return x < y ? -1 : x > y;
}

static double
median (double *v, int n)
{
  qsort (v, n, sizeof *v, (int (*) (const void *, const void *)) cmp_double);
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

int
main (int argc, char **argv)
{
  g_autofree char *default_path = g_build_filename (CATENA_SOURCE_DATADIR, "demo", "demo.catena", NULL);
  const char *path = argc > 1 ? argv[1] : default_path;
  int n = argc > 2 ? atoi (argv[2]) : 5;
  g_autoptr (GFile) file = g_file_new_for_commandline_arg (path);
  g_autoptr (GError) error = NULL;
  g_autoptr (CatenaProject) project = NULL;
  g_autofree char *tmp = g_dir_make_tmp ("catena-bench-XXXXXX", NULL);
  g_autofree char *out_dir = g_build_filename (tmp, "out", NULL);
  CatenaChain *chain;
  CatenaStage *last;
  double *full = g_new (double, n), *tweak = g_new (double, n);
  double mf, mt;

  catena_engine_init ();
  if (!(project = catena_project_load (file, &error)))
    {
      g_printerr ("bench-chain: %s\n", error->message);
      return 1;
    }
  chain = catena_project_get_chain (project);
  last = catena_chain_get_stage (chain, catena_chain_get_n_stages (chain) - 1);
  {
    int threads;
    g_object_get (gegl_config (), "threads", &threads, NULL);
    g_print ("chain: %u stages, last is %s; %d runs each; GEGL threads %d\n",
             catena_chain_get_n_stages (chain), catena_stage_get_kind (last), n, threads);
  }

  for (int i = 0; i < n; i++)
    {
      /* Full: a fresh, empty cache every time (as on a new project). */
      g_autofree char *cache_dir = g_strdup_printf ("%s/cache-%d", tmp, i);
      g_autoptr (CatenaCache) cache = catena_cache_new (cache_dir, 1024 * 1024 * 1024);
      g_autoptr (CatenaRunner) runner = catena_runner_new (cache);
      GParamSpec **p;
      guint np;
      guint executed;

      full[i] = run_once (runner, project, out_dir);

      /* Tweak only the last stage: nudge its first numeric parameter. */
      p = catena_stage_list_params (last, &np);
      for (guint j = 0; j < np; j++)
        if (G_IS_PARAM_SPEC_INT (p[j]) || G_IS_PARAM_SPEC_DOUBLE (p[j]))
          {
            GValue v = G_VALUE_INIT;
            g_value_init (&v, G_PARAM_SPEC_VALUE_TYPE (p[j]));
            g_object_get_property (G_OBJECT (last), p[j]->name, &v);
            if (G_IS_PARAM_SPEC_INT (p[j]))
              g_value_set_int (&v, g_value_get_int (&v) == G_PARAM_SPEC_INT (p[j])->minimum
                                     ? g_value_get_int (&v) + 1
                                     : g_value_get_int (&v) - 1);
            else
              g_value_set_double (&v, g_value_get_double (&v) * 0.99 + 0.001);
            g_object_set_property (G_OBJECT (last), p[j]->name, &v);
            g_value_unset (&v);
            break;
          }
      g_free (p);
      tweak[i] = run_once (runner, project, out_dir);
      catena_runner_get_stats (runner, &executed, NULL);
      g_print ("run %d: full %.1f ms, last-stage tweak %.1f ms (stages executed in total: %u)\n",
               i + 1, full[i], tweak[i], executed);
    }

  mf = median (full, n);
  mt = median (tweak, n);
  g_print ("median full chain: %.1f ms\nmedian after tweaking the last stage: %.1f ms\n"
           "ratio: %.4f (target <= 0.05)\n",
           mf, mt, mt / mf);

  {
    char *argv_rm[] = { "rm", "-rf", tmp, NULL };
    g_spawn_sync (NULL, argv_rm, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL, NULL, NULL, NULL);
  }
  g_free (full);
  g_free (tweak);
  return 0;
}
