/* SPDX-License-Identifier: GPL-3.0-or-later */
/* bench-preview: how fast the large preview follows a recolor slider, and how long the main
 * loop is ever blocked during a full run. Runs the real window (under Xvfb in CI):
 *
 *   tests/ui/run-xvfb.sh _build/tests/ui/bench-preview [PROJECT.catena] [--moves N]
 *
 * Latency is from gtk_range_set_value() on the slider (what a drag does) to the preview widget
 * holding a texture of that value: "first" is the first texture (the coarse proxy when the view
 * is large), "sharp" the full-resolution one. "drag" moves the slider every 16 ms whatever the
 * renderer is doing, as a hand does, and measures each move until a frame at least that new is
 * shown. Stalls are the longest gaps between two runs of a 1 ms timeout at high priority. */
#include "config.h"

#include <glib/gstdio.h>
#include <math.h>
#include <stdlib.h>
#include <time.h>

#include "catena-ui.h"

typedef struct
{
  guint64 generation;
  gboolean sharp;
  gint64 time;
} Frame;

typedef struct
{
  CatenaWindow *window;
  GArray *frames; /* of Frame, in arrival order */
  gint64 last_tick;
  gint64 longest_gap;
  gint64 last_cpu;
  gint64 longest_cpu;
  guint tick_source;
} Bench;

static void
on_rendered (CatenaPreviewRenderer *renderer, GdkTexture *after, GdkTexture *before, double scale,
             int x, int y, gboolean sharp, guint64 generation, Bench *b)
{
  Frame frame = { generation, sharp, g_get_monotonic_time () };
  g_array_append_val (b->frames, frame);
}

/* CPU time of the main thread, in µs: a long gap with little CPU is the scheduler giving the
 * core to another thread or process, not work done on the main loop. */
static gint64
thread_cpu_us (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_THREAD_CPUTIME_ID, &ts);
  return (gint64) ts.tv_sec * G_USEC_PER_SEC + ts.tv_nsec / 1000;
}

static gboolean
on_tick (gpointer data)
{
  Bench *b = data;
  gint64 now = g_get_monotonic_time ();
  gint64 cpu = thread_cpu_us ();

  if (b->last_tick)
    {
      b->longest_gap = MAX (b->longest_gap, now - b->last_tick);
      b->longest_cpu = MAX (b->longest_cpu, cpu - b->last_cpu);
    }
  b->last_tick = now;
  b->last_cpu = cpu;
  return G_SOURCE_CONTINUE;
}

static void
stall_watch_start (Bench *b)
{
  b->last_tick = 0;
  b->longest_gap = 0;
  b->longest_cpu = 0;
  b->tick_source = g_timeout_add_full (G_PRIORITY_HIGH, 1, on_tick, b, NULL);
}

static double
stall_watch_stop (Bench *b, double *cpu_ms)
{
  g_clear_handle_id (&b->tick_source, g_source_remove);
  *cpu_ms = b->longest_cpu / 1000.0;
  /* the timeout's own period is not a stall */
  return MAX (0, (b->longest_gap - 1000) / 1000.0);
}

static void
iterate_for (gint64 us)
{
  gint64 end = g_get_monotonic_time () + us;

  while (g_get_monotonic_time () < end)
    g_main_context_iteration (NULL, FALSE);
}

static gboolean
wait_until_idle (CatenaWindow *window, gint64 timeout_us)
{
  gint64 end = g_get_monotonic_time () + timeout_us;

  while (g_get_monotonic_time () < end)
    {
      if (!catena_window_is_busy (window) &&
          !catena_runner_get_running (catena_window_get_runner (window)))
        {
          iterate_for (20000);
          if (!catena_window_is_busy (window))
            return TRUE;
        }
      g_main_context_iteration (NULL, FALSE);
    }
  return FALSE;
}

static int
compare_double (gconstpointer a, gconstpointer b)
{
  double x = *(const double *) a, y = *(const double *) b;
  return x < y ? -1 : x > y;
}

static void
report (const char *what, GArray *ms)
{
  double median, p95, max;

  if (ms->len == 0)
    {
      g_print ("%-34s no samples\n", what);
      return;
    }
  g_array_sort (ms, compare_double);
  median = g_array_index (ms, double, ms->len / 2);
  p95 = g_array_index (ms, double, MIN (ms->len - 1, (guint) ceil (ms->len * 0.95) - 1));
  max = g_array_index (ms, double, ms->len - 1);
  g_print ("%-34s median %6.2f ms   p95 %6.2f ms   max %6.2f ms   (n = %u)\n", what, median,
           p95, max, ms->len);
}

/* Index of the first frame after `from` whose generation is at least `generation`. */
static gint64
time_of_frame (Bench *b, guint from, guint64 generation, gboolean need_sharp)
{
  for (guint i = from; i < b->frames->len; i++)
    {
      Frame *f = &g_array_index (b->frames, Frame, i);
      if (f->generation >= generation && (!need_sharp || f->sharp))
        return f->time;
    }
  return -1;
}

static void
remove_tree (GFile *file)
{
  g_autoptr (GFileEnumerator) children =
    g_file_enumerate_children (file, G_FILE_ATTRIBUTE_STANDARD_NAME,
                               G_FILE_QUERY_INFO_NOFOLLOW_SYMLINKS, NULL, NULL);
  GFileInfo *info;

  while (children && (info = g_file_enumerator_next_file (children, NULL, NULL)))
    {
      g_autoptr (GFile) child = g_file_get_child (file, g_file_info_get_name (info));
      if (g_file_info_get_file_type (info) == G_FILE_TYPE_DIRECTORY)
        remove_tree (child);
      else
        g_file_delete (child, NULL, NULL);
      g_object_unref (info);
    }
  g_file_delete (file, NULL, NULL);
}

static const char *
load_average (void)
{
  static char text[64];
  g_autofree char *contents = NULL;
  g_auto (GStrv) fields = NULL;

  if (!g_file_get_contents ("/proc/loadavg", &contents, NULL, NULL))
    return "unknown";
  fields = g_strsplit (contents, " ", 2);
  g_strlcpy (text, fields[0], sizeof text);
  return text;
}

int
main (int argc, char *argv[])
{
  g_autofree char *cache_dir = g_dir_make_tmp ("catena-bench-XXXXXX", NULL);
  g_autoptr (GFile) file = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GArray) first = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr (GArray) sharp = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr (GArray) drag = g_array_new (FALSE, FALSE, sizeof (double));
  CatenaChainView *view;
  CatenaChain *chain;
  GtkWidget *scale = NULL;
  double run_stall, drag_stall, run_cpu, drag_cpu, run_seconds;
  guint n_moves = 200, recolor = G_MAXUINT;
  guint n_coarse, n_sharp, n_restarted;
  GeglRectangle rect;
  double render_scale;
  gint64 t0;
  Bench b = { 0 };

  /* A private cache, so the run does all its work and the user's cache is left alone. */
  g_setenv ("XDG_CACHE_HOME", cache_dir, TRUE);
  g_setenv ("GEGL_SWAP", "RAM", FALSE);

  for (int i = 1; i < argc; i++)
    {
      if (g_str_equal (argv[i], "--moves") && i + 1 < argc)
        n_moves = (guint) atoi (argv[++i]);
      else
        file = g_file_new_for_commandline_arg (argv[i]);
    }

  gtk_init ();
  catena_ui_init ();
  catena_ui_load_style ();
  if (file == NULL && (file = catena_ui_dup_demo_project ()) == NULL)
    {
      g_printerr ("No demo project found; pass a project file.\n");
      return 1;
    }

  b.frames = g_array_new (FALSE, FALSE, sizeof (Frame));
  b.window = catena_window_new (NULL);
  g_signal_connect (catena_window_get_renderer (b.window), "rendered", G_CALLBACK (on_rendered),
                    &b);
  if (!catena_window_load (b.window, file, &error))
    {
      g_printerr ("%s\n", error->message);
      return 1;
    }
  /* Exports of the run go to the private folder too. */
  {
    g_autofree char *out = g_build_filename (cache_dir, "out", NULL);
    catena_project_set_output_dir (catena_window_get_project (b.window), out);
  }
  gtk_window_present (GTK_WINDOW (b.window));
  iterate_for (300000);
  wait_until_idle (b.window, 10 * G_USEC_PER_SEC);

  view = catena_window_get_chain_view (b.window);
  chain = catena_project_get_chain (catena_window_get_project (b.window));
  for (guint i = 0; i < catena_chain_get_n_stages (chain); i++)
    if (catena_stage_supports_preview (catena_chain_get_stage (chain, i)) && recolor == G_MAXUINT)
      recolor = i;
  if (recolor == G_MAXUINT)
    {
      g_printerr ("The project has no stage with a live preview (recolor).\n");
      return 1;
    }

  /* 1. A full run from an empty cache, watching the main loop. */
  stall_watch_start (&b);
  t0 = g_get_monotonic_time ();
  gtk_widget_activate_action (GTK_WIDGET (b.window), "win.run", NULL);
  if (!wait_until_idle (b.window, 600 * G_USEC_PER_SEC))
    {
      g_printerr ("The run did not finish in 10 minutes.\n");
      return 1;
    }
  run_seconds = (g_get_monotonic_time () - t0) / 1e6;
  run_stall = stall_watch_stop (&b, &run_cpu);
  g_print ("full run: %.2f s (%s)\n", run_seconds, catena_window_get_last_toast (b.window));

  /* 2. Live recolor at the default window size. */
  catena_chain_view_set_selected (view, recolor);
  wait_until_idle (b.window, 30 * G_USEC_PER_SEC);
  if (!catena_window_is_live (b.window))
    {
      g_printerr ("The recolor stage is not live: its input is not cached.\n");
      return 1;
    }
  scale = catena_inspector_get_editor (catena_window_get_inspector (b.window), "exposure");
  if (!GTK_IS_RANGE (scale))
    scale = catena_inspector_get_editor (catena_window_get_inspector (b.window), "saturation");
  g_assert (GTK_IS_RANGE (scale));
  catena_preview_get_render_request (catena_window_get_preview (b.window), &render_scale, &rect);
  g_print ("window %d × %d, preview %d × %d at scale %.3f\n",
           gtk_widget_get_width (GTK_WIDGET (b.window)),
           gtk_widget_get_height (GTK_WIDGET (b.window)), rect.width, rect.height, render_scale);

  for (guint i = 0; i < n_moves; i++)
    {
      double value = sin (i * 0.37) * 1.5;
      guint mark = b.frames->len;
      guint64 generation;
      gint64 start = g_get_monotonic_time (), t_first, t_sharp;

      gtk_range_set_value (GTK_RANGE (scale), value);
      generation = catena_preview_renderer_get_generation (catena_window_get_renderer (b.window));
      while ((t_sharp = time_of_frame (&b, mark, generation, TRUE)) < 0)
        g_main_context_iteration (NULL, TRUE);
      t_first = time_of_frame (&b, mark, generation, FALSE);
      g_array_append_val (first, ((double) { (t_first - start) / 1000.0 }));
      g_array_append_val (sharp, ((double) { (t_sharp - start) / 1000.0 }));
    }

  /* 3. A drag: a move every 16 ms, whatever the renderer is doing. */
  {
    g_autoptr (GArray) moves = g_array_new (FALSE, FALSE, sizeof (gint64) * 2);
    guint mark = b.frames->len;

    stall_watch_start (&b);
    for (guint i = 0; i < n_moves; i++)
      {
        gint64 move[2];
        move[0] = g_get_monotonic_time ();
        gtk_range_set_value (GTK_RANGE (scale), cos (i * 0.21) * 2.0);
        move[1] = (gint64) catena_preview_renderer_get_generation (
          catena_window_get_renderer (b.window));
        g_array_append_val (moves, move);
        iterate_for (16000);
      }
    iterate_for (300000);
    drag_stall = stall_watch_stop (&b, &drag_cpu);
    for (guint i = 0; i < moves->len; i++)
      {
        gint64 *move = &g_array_index (moves, gint64, i * 2);
        gint64 t = time_of_frame (&b, mark, (guint64) move[1], FALSE);
        if (t >= 0)
          g_array_append_val (drag, ((double) { (t - move[0]) / 1000.0 }));
      }
  }

  catena_preview_renderer_get_counts (catena_window_get_renderer (b.window), &n_coarse, &n_sharp,
                                      &n_restarted);
  g_print ("\nslider move → preview updated (%u moves each)\n", n_moves);
  report ("  first frame (proxy or sharp)", first);
  report ("  sharp frame", sharp);
  report ("  drag at 60 Hz, first frame", drag);
  g_print ("renders: %u coarse, %u sharp, %u restarted mid-render\n", n_coarse, n_sharp,
           n_restarted);
  g_print ("\nlongest main-loop stall (wall): %.2f ms during the full run, %.2f ms during the "
           "drag\n", run_stall, drag_stall);
  g_print ("  of which main-thread CPU at most: %.2f ms during the run, %.2f ms during the drag "
           "(%u CPUs, load %s)\n", run_cpu, drag_cpu, g_get_num_processors (), load_average ());

  gtk_window_destroy (GTK_WINDOW (b.window));
  iterate_for (100000);
  {
    g_autoptr (CatenaCache) cache = catena_cache_new (NULL, 0);
    g_autoptr (GFile) dir = g_file_new_for_path (cache_dir);
    catena_cache_clear (cache, NULL);
    remove_tree (dir);
  }
  g_array_unref (b.frames);
  return 0;
}
