/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <cblas.h>
#include <stdlib.h>

#include "catena-nn-private.h"

/* One process-wide pool of workers. The caller's thread takes tasks too, so n_threads = 2
 * means one worker. OpenBLAS is kept single-threaded: kernels split their GEMMs into tasks
 * themselves, which also parallelises the im2col and epilogue work around them. */

#define NN_MAX_THREADS 64

static struct
{
  GMutex lock;
  GCond wake;
  GCond done;
  GMutex run_lock; /* one parallel region at a time; others run inline */
  int n_threads;
  int n_workers_started;
  guint generation;
  int busy;
  NnTaskFunc fn;
  gpointer user;
  gsize n_tasks;
  gsize next;
} pool;

static gsize pool_init_done;

static void
run_tasks (int thread)
{
  for (;;)
    {
      gsize task = __atomic_fetch_add (&pool.next, 1, __ATOMIC_RELAXED);

      if (task >= pool.n_tasks)
        break;
      pool.fn (pool.user, task, thread);
    }
}

static gpointer
worker_main (gpointer data)
{
  int thread = GPOINTER_TO_INT (data);
  guint seen = 0;

  for (;;)
    {
      g_mutex_lock (&pool.lock);
      while (pool.generation == seen || thread >= pool.n_threads)
        {
          if (pool.generation != seen)
            seen = pool.generation; /* not needed this time */
          g_cond_wait (&pool.wake, &pool.lock);
        }
      seen = pool.generation;
      g_mutex_unlock (&pool.lock);

      run_tasks (thread);

      g_mutex_lock (&pool.lock);
      if (--pool.busy == 0)
        g_cond_signal (&pool.done);
      g_mutex_unlock (&pool.lock);
    }
  return NULL;
}

static void
pool_init (void)
{
  if (g_once_init_enter (&pool_init_done))
    {
      const char *env = g_getenv ("CATENA_NN_THREADS");
      int n = env != NULL ? atoi (env) : (int) g_get_num_processors ();

      g_mutex_init (&pool.lock);
      g_cond_init (&pool.wake);
      g_cond_init (&pool.done);
      g_mutex_init (&pool.run_lock);
      pool.n_threads = CLAMP (n, 1, NN_MAX_THREADS);
      openblas_set_num_threads (1);
      g_once_init_leave (&pool_init_done, 1);
    }
}

void
catena_nn_set_n_threads (int n_threads)
{
  pool_init ();
  g_mutex_lock (&pool.run_lock);
  g_mutex_lock (&pool.lock);
  pool.n_threads = CLAMP (n_threads, 1, NN_MAX_THREADS);
  g_mutex_unlock (&pool.lock);
  g_mutex_unlock (&pool.run_lock);
}

int
catena_nn_get_n_threads (void)
{
  pool_init ();
  return pool.n_threads;
}

int
nn_parallel_n_threads (void)
{
  return catena_nn_get_n_threads ();
}

void
nn_parallel_run (gsize n_tasks, NnTaskFunc fn, gpointer user)
{
  int n_helpers;

  pool_init ();
  if (n_tasks == 0)
    return;
  if (n_tasks == 1 || pool.n_threads == 1 || !g_mutex_trylock (&pool.run_lock))
    {
      for (gsize t = 0; t < n_tasks; t++)
        fn (user, t, 0);
      return;
    }
  g_mutex_lock (&pool.lock);
  n_helpers = (int) MIN ((gsize) pool.n_threads - 1, n_tasks - 1);
  while (pool.n_workers_started < pool.n_threads - 1)
    {
      g_autoptr (GThread) th = NULL;

      pool.n_workers_started++;
      th = g_thread_new ("catena-nn", worker_main, GINT_TO_POINTER (pool.n_workers_started));
    }
  pool.fn = fn;
  pool.user = user;
  pool.n_tasks = n_tasks;
  pool.next = 0;
  pool.busy = pool.n_threads - 1;
  pool.generation++;
  g_cond_broadcast (&pool.wake);
  g_mutex_unlock (&pool.lock);
  (void) n_helpers;

  run_tasks (0);

  g_mutex_lock (&pool.lock);
  while (pool.busy > 0)
    g_cond_wait (&pool.done, &pool.lock);
  g_mutex_unlock (&pool.lock);
  g_mutex_unlock (&pool.run_lock);
}
