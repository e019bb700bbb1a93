/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Times catena:recolor against the same adjustments as a chain of stock GEGL operations on a
 * 2-megapixel proxy (1732×1155, the size a live preview renders at), both rendered from a
 * buffer in the working format into a buffer, with GEGL limited to a fixed number of threads.
 *
 *   bench-recolor [threads] [runs]      defaults: 2 threads, 30 runs (after 3 warm-up runs)
 *
 * The stock chain: gegl:exposure, gegl:color-temperature, gegl:brightness-contrast,
 * gegl:saturation, gegl:hue-chroma, with settings close to the fused grade (not identical
 * maths: the point is the cost of five operations and their format conversions). */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "catena-engine.h"
#include "catena-ops.h"

#define PROXY_WIDTH  1732
#define PROXY_HEIGHT 1155
#define WARM_UP      3

static GeglBuffer *
make_proxy (void)
{
  const char *path = "/usr/lib/python3/dist-packages/skimage/data/coffee.png";
  GeglRectangle rect = { 0, 0, PROXY_WIDTH, PROXY_HEIGHT };
  GeglBuffer *proxy = gegl_buffer_new (&rect, babl_format (CATENA_WORK_FORMAT));

  if (g_file_test (path, G_FILE_TEST_EXISTS))
    {
      g_autoptr (GeglNode) graph = gegl_node_new ();
      GeglNode *load = gegl_node_new_child (graph, "operation", "gegl:load", "path", path, NULL);
      GeglNode *scale = gegl_node_new_child (graph, "operation", "gegl:scale-size",
                                             "x", (double) PROXY_WIDTH,
                                             "y", (double) PROXY_HEIGHT,
                                             "sampler", GEGL_SAMPLER_CUBIC, NULL);
      GeglNode *crop = gegl_node_new_child (graph, "operation", "gegl:crop",
                                            "width", (double) PROXY_WIDTH,
                                            "height", (double) PROXY_HEIGHT, NULL);
      GeglNode *write = gegl_node_new_child (graph, "operation", "gegl:write-buffer",
                                             "buffer", proxy, NULL);

      gegl_node_link_many (load, scale, crop, write, NULL);
      gegl_node_process (write);
      g_print ("input: %s scaled to %dx%d\n", path, PROXY_WIDTH, PROXY_HEIGHT);
    }
  else
    {
      /* Synthetic: smooth colour ramps with a little structure, no file needed. */
      GeglBufferIterator *it = gegl_buffer_iterator_new (proxy, &rect, 0, NULL,
                                                         GEGL_ACCESS_WRITE, GEGL_ABYSS_NONE, 1);

      while (gegl_buffer_iterator_next (it))
        {
          float *p = it->items[0].data;
          const GeglRectangle *r = &it->items[0].roi;

          for (int y = r->y; y < r->y + r->height; y++)
            for (int x = r->x; x < r->x + r->width; x++, p += 4)
              {
                p[0] = (float) x / PROXY_WIDTH;
                p[1] = (float) y / PROXY_HEIGHT;
                p[2] = (float) ((x ^ y) & 255) / 255.0f;
                p[3] = 1;
              }
        }
      g_print ("input: synthetic %dx%d\n", PROXY_WIDTH, PROXY_HEIGHT);
    }
  return proxy;
}

static int
compare_doubles (const void *a,
                 const void *b)
{
  double x = *(const double *) a, y = *(const double *) b;

  return (x > y) - (x < y);
}

typedef struct
{
  double wall_ms;  /* median */
  double cpu_ms;   /* median CPU time of all threads: less sensitive to a busy machine */
} Timing;

static double
cpu_now_ms (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_PROCESS_CPUTIME_ID, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* Renders @node's full extent into @out @runs times after a warm-up. */
static Timing
time_render (GeglNode   *first,
             GeglNode   *node,
             GeglBuffer *out,
             int         runs)
{
  const GeglRectangle *rect = gegl_buffer_get_extent (out);
  g_autofree double *wall = g_new (double, runs);
  g_autofree double *cpu = g_new (double, runs);

  for (int i = 0; i < WARM_UP + runs; i++)
    {
      gint64 t0;
      double c0;

      /* Nudge the first adjustment, as a moving slider does, so nothing comes from a cache. */
      gegl_node_set (first, "exposure", 0.3 + (i % 2) * 1e-3, NULL);
      t0 = g_get_monotonic_time ();
      c0 = cpu_now_ms ();
      gegl_node_blit_buffer (node, out, rect, 0, GEGL_ABYSS_NONE);
      if (i >= WARM_UP)
        {
          wall[i - WARM_UP] = (g_get_monotonic_time () - t0) / 1000.0;
          cpu[i - WARM_UP] = cpu_now_ms () - c0;
        }
    }
  qsort (wall, runs, sizeof (double), compare_doubles);
  qsort (cpu, runs, sizeof (double), compare_doubles);
  return (Timing) { wall[runs / 2], cpu[runs / 2] };
}

int
main (int    argc,
      char **argv)
{
  int threads = argc > 1 ? atoi (argv[1]) : 2;
  int runs = argc > 2 ? atoi (argv[2]) : 30;
  GeglBuffer *input, *out;
  GeglNode *graph;
  GeglNode *source, *recolor, *first = NULL, *last;
  Timing fused, stock, brand;
  int actual_threads;

  /* GEGL reads GEGL_THREADS when it starts; the config property is set as well. GEGL still
   * decides per render whether splitting it is worth it, so on a busy machine a run may stay
   * on one thread: compare the wall and CPU columns. */
  {
    g_autofree char *n = g_strdup_printf ("%d", MAX (threads, 1));

    g_setenv ("GEGL_THREADS", n, TRUE);
  }
  catena_engine_init ();
  catena_ops_register ();  /* idempotent; the engine does it too */
  g_object_set (gegl_config (), "threads", MAX (threads, 1), NULL);
  g_object_get (gegl_config (), "threads", &actual_threads, NULL);
  runs = MAX (runs, 1);

  input = make_proxy ();
  out = gegl_buffer_new (gegl_buffer_get_extent (input), babl_format (CATENA_WORK_FORMAT));
  graph = gegl_node_new ();
  source = gegl_node_new_child (graph, "operation", "gegl:buffer-source", "buffer", input, NULL);

  /* The same grade both ways: +0.3 EV, warmer, more contrast, more saturation, hue +10°. */
  recolor = gegl_node_new_child (graph, "operation", "catena:recolor",
                                 "exposure", 0.3, "temperature", 30.0, "contrast", 20.0,
                                 "saturation", 20.0, "hue", 10.0, NULL);
  gegl_node_link (source, recolor);

  last = source;
  {
    const char *chain[][5] = {
      { "gegl:exposure", "exposure", "0.3", NULL },
      { "gegl:color-temperature", "original-temperature", "6500", "intended-temperature",
        "5600" },
      { "gegl:brightness-contrast", "contrast", "1.32", NULL },
      { "gegl:saturation", "scale", "1.2", NULL },
      { "gegl:hue-chroma", "hue", "10", NULL },
    };

    for (guint i = 0; i < G_N_ELEMENTS (chain); i++)
      {
        GeglNode *node = gegl_node_new_child (graph, "operation", chain[i][0], NULL);

        for (int p = 1; p + 1 < 5 && chain[i][p] != NULL; p += 2)
          gegl_node_set (node, chain[i][p], g_ascii_strtod (chain[i][p + 1], NULL), NULL);
        gegl_node_link (last, node);
        last = node;
        if (first == NULL)
          first = node;
      }
  }

  fused = time_render (recolor, recolor, out, runs);
  /* what no stock chain does: the same grade plus a brand colour match (red → blue) */
  gegl_node_set (recolor, "brand-strength", 1.0, "source-hue", 10.0, "target-hue", 225.0,
                 "hue-window", 60.0, NULL);
  brand = time_render (recolor, recolor, out, runs);
  stock = time_render (first, last, out, runs);

  g_print ("threads: %d (gegl_config threads)\n", actual_threads);
  g_print ("runs: %d after %d warm-up; medians of wall time and of process CPU time\n", runs,
           WARM_UP);
  g_print ("                                    wall ms    CPU ms\n");
  g_print ("catena:recolor (fused)           %9.2f %9.2f\n", fused.wall_ms, fused.cpu_ms);
  g_print ("stock GEGL chain (5 operations)  %9.2f %9.2f\n", stock.wall_ms, stock.cpu_ms);
  g_print ("ratio stock / fused              %8.1fx %8.1fx\n", stock.wall_ms / fused.wall_ms,
           stock.cpu_ms / fused.cpu_ms);
  g_print ("catena:recolor + brand match     %9.2f %9.2f\n", brand.wall_ms, brand.cpu_ms);

  /* Everything GEGL made must be gone before GEGL shuts down. */
  g_object_unref (graph);
  g_object_unref (out);
  g_object_unref (input);
  catena_engine_shutdown ();
  return 0;
}
