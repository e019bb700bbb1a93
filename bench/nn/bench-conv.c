/* SPDX-License-Identifier: GPL-3.0-or-later */
/* One 3×3 Conv + Relu through engine/nn, for tuning the conv kernels on ISNet's shapes:
 *
 *   bench-conv C M H W [DILATION] [RUNS]
 *
 * prints min and median ms and GFLOP/s (direct-convolution FLOPs), and the minimum CPU time of
 * the process per run (a busy machine's noise hits wall time much more). Built and run by
 * bench/nn/bench-conv.sh; CATENA_NN_* switches (CATENA_NN_WINOGRAD=0…) apply as usual. */

#include "config.h"

#include <stdlib.h>
#include <sys/resource.h>

#include "nn-test-onnx.h"

static double
cpu_ms (void)
{
  struct rusage ru;

  getrusage (RUSAGE_SELF, &ru);
  return (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e3
         + (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1e-3;
}

static int
cmp_double (gconstpointer a, gconstpointer b)
{
  double x = *(const double *) a, y = *(const double *) b;

  return x < y ? -1 : x > y;
}

int
main (int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (CatenaNnGraph) g = NULL;
  g_autoptr (CatenaNnTensor) x = NULL;
  g_autoptr (GRand) r = g_rand_new_with_seed (1);
  g_autofree float *wt = NULL, *b = NULL;
  g_autofree double *ms = NULL;
  Tb *tb;
  Onnx__NodeProto *node;
  gint64 c, m, h, w, d, runs, xd[4], wd[4], bd[1];
  double flops, cpu_min = G_MAXDOUBLE;

  if (argc < 5)
    {
      g_printerr ("usage: bench-conv C M H W [DILATION] [RUNS]\n");
      return 2;
    }
  c = atoi (argv[1]), m = atoi (argv[2]), h = atoi (argv[3]), w = atoi (argv[4]);
  d = argc > 5 ? atoi (argv[5]) : 1;
  runs = argc > 6 ? atoi (argv[6]) : 20;
  xd[0] = 1, xd[1] = c, xd[2] = h, xd[3] = w;
  wd[0] = m, wd[1] = c, wd[2] = 3, wd[3] = 3;
  bd[0] = m;
  wt = g_new (float, m * c * 9);
  b = g_new (float, m);
  for (gint64 i = 0; i < m * c * 9; i++)
    wt[i] = (float) g_rand_double_range (r, -0.1, 0.1);
  for (gint64 i = 0; i < m; i++)
    b[i] = (float) g_rand_double_range (r, -0.1, 0.1);
  tb = tb_new (13);
  tb_input (tb, "x", CATENA_NN_DTYPE_FLOAT, 4, xd);
  tb_init_float (tb, "w", 4, wd, wt);
  tb_init_float (tb, "b", 1, bd, b);
  node = tb_node (tb, "Conv", "x,w,b", "c");
  tb_attr_ints (tb, node, "kernel_shape", 2, (gint64[]) { 3, 3 });
  tb_attr_ints (tb, node, "dilations", 2, (gint64[]) { d, d });
  tb_attr_ints (tb, node, "pads", 4, (gint64[]) { d, d, d, d });
  tb_node (tb, "Relu", "c", "y");
  tb_output (tb, "y", CATENA_NN_DTYPE_FLOAT);
  g = tb_load (tb, NULL, &error);
  tb_free (tb);
  if (g == NULL)
    {
      g_printerr ("bench-conv: %s\n", error->message);
      return 1;
    }
  x = catena_nn_tensor_new (CATENA_NN_DTYPE_FLOAT, 4, xd, NULL);
  for (gsize i = 0; i < x->n_elements; i++)
    ((float *) x->data)[i] = (float) g_rand_double_range (r, -1, 1);
  ms = g_new (double, runs);
  for (gint64 i = -1; i < runs; i++)
    {
      CatenaNnTensor *out[1] = { NULL };
      gint64 t0 = g_get_monotonic_time ();
      double c0 = cpu_ms ();

      if (!catena_nn_graph_run (g, &x, out, NULL, &error))
        {
          g_printerr ("bench-conv: %s\n", error->message);
          return 1;
        }
      if (i >= 0)
        {
          ms[i] = (g_get_monotonic_time () - t0) / 1000.0;
          cpu_min = MIN (cpu_min, cpu_ms () - c0);
        }
      catena_nn_tensor_unref (out[0]);
    }
  qsort (ms, runs, sizeof (double), cmp_double);
  flops = 2.0 * m * c * 9 * h * w;
  g_print ("conv c%" G_GINT64_FORMAT " m%" G_GINT64_FORMAT " %" G_GINT64_FORMAT "x%"
           G_GINT64_FORMAT " d%" G_GINT64_FORMAT ": min %.2f ms (%.0f GFLOP/s), median %.2f ms"
           " (%.0f GFLOP/s), CPU %.2f ms\n",
           c, m, h, w, d, ms[0], flops / (ms[0] * 1e6), ms[runs / 2],
           flops / (ms[runs / 2] * 1e6), cpu_min);
  return 0;
}
