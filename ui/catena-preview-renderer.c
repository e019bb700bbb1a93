/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <math.h>

#include "catena-preview-renderer.h"

#define STRIP_ROWS     64
/* Below this many pixels the sharp render is as quick as the coarse one: skip the coarse. */
#define COARSE_MIN_PIX (160 * 1000)
/* 8-bit renders of the buffers a blend mixes, kept while the view stays (a sweep has 4). */
#define BLEND_SLOTS    4

typedef struct
{
  GeglBuffer *origin; /* what the proxy was made from (a ref, for identity) */
  double scale;
  GeglRectangle rect;
  GeglBuffer *proxy;  /* origin scaled by scale, covering rect, float */
  GBytes *rgba;       /* origin scaled, as 8-bit, when only that was needed */
  gsize stride;
} Proxy;

struct _CatenaPreviewRenderer
{
  GObject parent_instance;

  GMainContext *context;
  GThread *thread;

  GMutex lock;
  GCond cond;
  /* wanted state, under lock */
  GeglBuffer *source;
  GeglBuffer *before;
  CatenaStage *live;
  GeglBuffer *blend_b;  /* non-NULL: show source and blend_b mixed by blend_t */
  double blend_t;
  double scale;
  GeglRectangle rect;
  gboolean show_before;
  guint64 generation;
  gboolean pending;
  gboolean quit;
  guint n_coarse, n_sharp, n_restarted;

  /* worker-only */
  Proxy coarse_proxy;
  Proxy sharp_proxy;
  Proxy before_proxy;
  Proxy blend_proxies[BLEND_SLOTS];
  guint blend_next;

  /* main-thread only */
  guint64 delivered_generation;
  gboolean delivered_sharp;
  gboolean disposed;
};

G_DEFINE_FINAL_TYPE (CatenaPreviewRenderer, catena_preview_renderer, G_TYPE_OBJECT)

enum {
  RENDERED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

typedef struct
{
  CatenaPreviewRenderer *self;
  GBytes *after;
  GBytes *before;
  int width, height;
  gsize stride;
  double scale;
  int x, y;
  gboolean sharp;
  guint64 generation;
} Result;

static void
proxy_clear (Proxy *p)
{
  g_clear_object (&p->origin);
  g_clear_object (&p->proxy);
  g_clear_pointer (&p->rgba, g_bytes_unref);
}

GBytes *
catena_render_rgba8 (GeglBuffer *buffer, double scale, const GeglRectangle *rect, gsize *stride)
{
  gsize row = (gsize) rect->width * 4;
  guint8 *data = g_malloc ((gsize) rect->height * row);

  gegl_buffer_get (buffer, rect, scale, babl_format ("R'G'B'A u8"), data, row,
                   GEGL_ABYSS_NONE);
  *stride = row;
  return g_bytes_new_take (data, (gsize) rect->height * row);
}

GdkTexture *
catena_texture_new_rgba8 (GBytes *bytes, int width, int height, gsize stride)
{
  return gdk_memory_texture_new (width, height, GDK_MEMORY_R8G8B8A8, bytes, stride);
}

static gboolean
same_rect (const GeglRectangle *a, const GeglRectangle *b)
{
  return a->x == b->x && a->y == b->y && a->width == b->width && a->height == b->height;
}

/* Float proxy of origin at scale over rect, made once and reused while only the stage
 * changes (a slider drag). */
static GeglBuffer *
ensure_proxy (Proxy *p, GeglBuffer *origin, double scale, const GeglRectangle *rect)
{
  const Babl *format = babl_format ("R'G'B'A float");
  gsize stride = (gsize) rect->width * 4 * sizeof (float);
  float *data;

  if (p->proxy && p->origin == origin && p->scale == scale && same_rect (&p->rect, rect))
    return p->proxy;

  proxy_clear (p);
  data = g_malloc ((gsize) rect->height * stride);
  gegl_buffer_get (origin, rect, scale, format, data, stride, GEGL_ABYSS_NONE);
  p->proxy = gegl_buffer_linear_new_from_data (data, format, rect, stride,
                                               (GDestroyNotify) g_free, data);
  p->origin = g_object_ref (origin);
  p->scale = scale;
  p->rect = *rect;
  return p->proxy;
}

static GBytes *
ensure_rgba (Proxy *p, GeglBuffer *origin, double scale, const GeglRectangle *rect,
             gsize *stride)
{
  if (!(p->rgba && p->origin == origin && p->scale == scale && same_rect (&p->rect, rect)))
    {
      proxy_clear (p);
      p->rgba = catena_render_rgba8 (origin, scale, rect, &p->stride);
      p->origin = g_object_ref (origin);
      p->scale = scale;
      p->rect = *rect;
    }
  *stride = p->stride;
  return g_bytes_ref (p->rgba);
}

/* An 8-bit render of origin at the view, from the blend slots when it is there already. */
static GBytes *
blend_rgba (CatenaPreviewRenderer *self, GeglBuffer *origin, double scale,
            const GeglRectangle *rect, gsize *stride)
{
  Proxy *p = NULL;

  for (guint i = 0; i < BLEND_SLOTS && p == NULL; i++)
    if (self->blend_proxies[i].origin == origin)
      p = &self->blend_proxies[i];
  if (p == NULL)
    {
      p = &self->blend_proxies[self->blend_next];
      self->blend_next = (self->blend_next + 1) % BLEND_SLOTS;
    }
  return ensure_rgba (p, origin, scale, rect, stride);
}

/* (1 − t)·a + t·b per byte: the same as mixing the two renders' pixels linearly. */
static GBytes *
mix_rgba (GBytes *a, GBytes *b, double t)
{
  gsize n, nb;
  const guint8 *pa = g_bytes_get_data (a, &n);
  const guint8 *pb = g_bytes_get_data (b, &nb);
  guint8 *out = g_malloc (n);
  guint w = (guint) lround (CLAMP (t, 0, 1) * 256);

  g_return_val_if_fail (n == nb, g_bytes_ref (a));
  for (gsize i = 0; i < n; i++)
    out[i] = (guint8) ((pa[i] * (256 - w) + pb[i] * w + 128) >> 8);
  return g_bytes_new_take (out, n);
}

static gboolean
is_stale (CatenaPreviewRenderer *self, guint64 generation)
{
  gboolean stale;

  g_mutex_lock (&self->lock);
  stale = self->quit || self->generation != generation;
  g_mutex_unlock (&self->lock);
  return stale;
}

/* Runs the stage's preview graph on proxy, strip by strip; NULL when a newer request came. */
static GBytes *
render_live (CatenaPreviewRenderer *self,
             GeglBuffer *proxy,
             CatenaStage *live,
             guint64 generation,
             gsize *stride)
{
  const GeglRectangle *rect = gegl_buffer_get_extent (proxy);
  gsize row = (gsize) rect->width * 4;
  g_autoptr (GeglNode) graph = gegl_node_new ();
  g_autofree guint8 *data = g_malloc ((gsize) rect->height * row);
  GeglNode *src, *out;

  src = gegl_node_new_child (graph, "operation", "gegl:buffer-source", "buffer", proxy, NULL);
  out = catena_stage_build_preview (live, graph, src);
  if (out == NULL)
    out = src;

  for (int y = 0; y < rect->height; y += STRIP_ROWS)
    {
      GeglRectangle strip = { rect->x, rect->y + y, rect->width, MIN (STRIP_ROWS,
                                                                      rect->height - y) };

      if (is_stale (self, generation))
        return NULL;
      gegl_node_blit (out, 1.0, &strip, babl_format ("R'G'B'A u8"), data + (gsize) y * row, row,
                      GEGL_BLIT_DEFAULT);
    }
  *stride = row;
  return g_bytes_new_take (g_steal_pointer (&data), (gsize) rect->height * row);
}

static gboolean
deliver_cb (gpointer data)
{
  Result *r = data;
  CatenaPreviewRenderer *self = r->self;
  g_autoptr (GdkTexture) after = NULL;
  g_autoptr (GdkTexture) before = NULL;

  if (self->disposed || r->generation < self->delivered_generation ||
      (r->generation == self->delivered_generation && self->delivered_sharp && !r->sharp))
    return G_SOURCE_REMOVE;

  self->delivered_generation = r->generation;
  self->delivered_sharp = r->sharp;
  after = catena_texture_new_rgba8 (r->after, r->width, r->height, r->stride);
  if (r->before)
    before = catena_texture_new_rgba8 (r->before, r->width, r->height, r->stride);
  g_signal_emit (self, signals[RENDERED], 0, after, before, r->scale, r->x, r->y, r->sharp,
                 r->generation);
  return G_SOURCE_REMOVE;
}

static void
result_free (Result *r)
{
  g_object_unref (r->self);
  g_clear_pointer (&r->after, g_bytes_unref);
  g_clear_pointer (&r->before, g_bytes_unref);
  g_free (r);
}

static void
deliver (CatenaPreviewRenderer *self,
         GBytes *after,
         GBytes *before,
         gsize stride,
         double scale,
         const GeglRectangle *rect,
         gboolean sharp,
         guint64 generation)
{
  Result *r = g_new0 (Result, 1);

  r->self = g_object_ref (self);
  r->after = after;
  r->before = before;
  r->width = rect->width;
  r->height = rect->height;
  r->stride = stride;
  r->scale = scale;
  r->x = rect->x;
  r->y = rect->y;
  r->sharp = sharp;
  r->generation = generation;
  /* A source, never g_main_context_invoke(): that runs the callback on this worker whenever
   * the main context is momentarily free, and the callback touches widgets. */
  {
    g_autoptr (GSource) source = g_idle_source_new ();
    g_source_set_priority (source, G_PRIORITY_DEFAULT);
    g_source_set_callback (source, deliver_cb, r, (GDestroyNotify) result_free);
    g_source_set_static_name (source, "[catena] preview result");
    g_source_attach (source, self->context);
  }
}

static void
clip_to_image (GeglBuffer *buffer, double scale, GeglRectangle *rect)
{
  const GeglRectangle *extent = gegl_buffer_get_extent (buffer);
  GeglRectangle scaled = { floor (extent->x * scale), floor (extent->y * scale),
                           MAX (1, (int) floor (extent->width * scale)),
                           MAX (1, (int) floor (extent->height * scale)) };

  if (rect->width <= 0 || rect->height <= 0)
    *rect = scaled;
  else
    gegl_rectangle_intersect (rect, rect, &scaled);
}

static gpointer
worker (gpointer data)
{
  CatenaPreviewRenderer *self = data;

  for (;;)
    {
      g_autoptr (GeglBuffer) source = NULL;
      g_autoptr (GeglBuffer) before = NULL;
      g_autoptr (CatenaStage) live = NULL;
      g_autoptr (GeglBuffer) blend_b = NULL;
      double blend_t;
      GBytes *after_bytes = NULL, *before_bytes = NULL;
      GeglRectangle rect;
      double scale;
      guint64 generation;
      gsize stride = 0;

      g_mutex_lock (&self->lock);
      while (!self->pending && !self->quit)
        g_cond_wait (&self->cond, &self->lock);
      if (self->quit)
        {
          g_mutex_unlock (&self->lock);
          break;
        }
      self->pending = FALSE;
      source = self->source ? g_object_ref (self->source) : NULL;
      before = self->before && self->show_before ? g_object_ref (self->before) : NULL;
      live = self->live ? g_object_ref (self->live) : NULL;
      blend_b = self->blend_b ? g_object_ref (self->blend_b) : NULL;
      blend_t = self->blend_t;
      scale = self->scale;
      rect = self->rect;
      generation = self->generation;
      g_mutex_unlock (&self->lock);

      if (source == NULL || scale <= 0)
        continue;
      clip_to_image (source, scale, &rect);
      if (rect.width <= 0 || rect.height <= 0)
        continue;

      if (live != NULL && (gint64) rect.width * rect.height > COARSE_MIN_PIX)
        {
          double cscale = scale / 2;
          GeglRectangle crect = { rect.x / 2, rect.y / 2, MAX (1, rect.width / 2),
                                  MAX (1, rect.height / 2) };
          GeglBuffer *proxy;

          clip_to_image (source, cscale, &crect);
          proxy = ensure_proxy (&self->coarse_proxy, source, cscale, &crect);
          after_bytes = render_live (self, proxy, live, generation, &stride);
          if (after_bytes == NULL)
            goto restarted;
          g_mutex_lock (&self->lock);
          self->n_coarse++;
          g_mutex_unlock (&self->lock);
          deliver (self, after_bytes, NULL, stride, cscale, &crect, FALSE, generation);
          after_bytes = NULL;
          if (is_stale (self, generation))
            goto restarted;
        }

      if (live != NULL)
        {
          GeglBuffer *proxy = ensure_proxy (&self->sharp_proxy, source, scale, &rect);

          after_bytes = render_live (self, proxy, live, generation, &stride);
          if (after_bytes == NULL)
            goto restarted;
          if (before == source)
            {
              gsize bstride;
              before_bytes = ensure_rgba (&self->before_proxy, proxy, 1.0, &rect, &bstride);
            }
        }
      else if (blend_b != NULL)
        {
          g_autoptr (GBytes) a = blend_rgba (self, source, scale, &rect, &stride);
          g_autoptr (GBytes) b = NULL;
          gsize bstride;

          /* Sweep renders come at the size of their input: the same rect fits both. */
          if (blend_t <= 0 || blend_b == source)
            after_bytes = g_bytes_ref (a);
          else
            {
              b = blend_rgba (self, blend_b, scale, &rect, &bstride);
              after_bytes = mix_rgba (a, b, blend_t);
            }
        }
      else
        after_bytes = catena_render_rgba8 (source, scale, &rect, &stride);

      if (before != NULL && before_bytes == NULL)
        {
          const GeglRectangle *be = gegl_buffer_get_extent (before);
          const GeglRectangle *se = gegl_buffer_get_extent (source);
          /* Stages that change the size (upscale): show the input at the same place. */
          double bscale = scale * (double) se->width / MAX (1, be->width);
          gsize bstride;

          /* rect in the output's scaled coordinates is the same rect in the input's. */
          before_bytes = ensure_rgba (&self->before_proxy, before, bscale, &rect, &bstride);
        }

      g_mutex_lock (&self->lock);
      self->n_sharp++;
      g_mutex_unlock (&self->lock);
      deliver (self, after_bytes, before_bytes, stride, scale, &rect, TRUE, generation);
      continue;

    restarted:
      g_mutex_lock (&self->lock);
      self->n_restarted++;
      g_mutex_unlock (&self->lock);
    }

  proxy_clear (&self->coarse_proxy);
  proxy_clear (&self->sharp_proxy);
  proxy_clear (&self->before_proxy);
  for (guint i = 0; i < BLEND_SLOTS; i++)
    proxy_clear (&self->blend_proxies[i]);
  return NULL;
}

void
catena_preview_renderer_stop (CatenaPreviewRenderer *self)
{
  g_return_if_fail (CATENA_IS_PREVIEW_RENDERER (self));

  /* deliver_cb drops every result from here on: queued results hold references, so without
   * this the renderer outlived its window and its last renders still reached "rendered"
   * handlers whose data was gone (found by ASan in the UI tests). */
  self->disposed = TRUE;
  if (self->thread)
    {
      g_mutex_lock (&self->lock);
      self->quit = TRUE;
      g_cond_signal (&self->cond);
      g_mutex_unlock (&self->lock);
      g_thread_join (self->thread);
      self->thread = NULL;
    }
  g_mutex_lock (&self->lock);
  g_clear_object (&self->source);
  g_clear_object (&self->before);
  g_clear_object (&self->live);
  g_clear_object (&self->blend_b);
  g_mutex_unlock (&self->lock);
}

static void
catena_preview_renderer_dispose (GObject *object)
{
  catena_preview_renderer_stop (CATENA_PREVIEW_RENDERER (object));

  G_OBJECT_CLASS (catena_preview_renderer_parent_class)->dispose (object);
}

static void
catena_preview_renderer_finalize (GObject *object)
{
  CatenaPreviewRenderer *self = CATENA_PREVIEW_RENDERER (object);

  g_mutex_clear (&self->lock);
  g_cond_clear (&self->cond);
  g_clear_pointer (&self->context, g_main_context_unref);

  G_OBJECT_CLASS (catena_preview_renderer_parent_class)->finalize (object);
}

static void
catena_preview_renderer_class_init (CatenaPreviewRendererClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = catena_preview_renderer_dispose;
  object_class->finalize = catena_preview_renderer_finalize;

  signals[RENDERED] =
    g_signal_new ("rendered", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                  G_TYPE_NONE, 7, GDK_TYPE_TEXTURE, GDK_TYPE_TEXTURE, G_TYPE_DOUBLE, G_TYPE_INT,
                  G_TYPE_INT, G_TYPE_BOOLEAN, G_TYPE_UINT64);
}

static void
catena_preview_renderer_init (CatenaPreviewRenderer *self)
{
  g_mutex_init (&self->lock);
  g_cond_init (&self->cond);
  self->context = g_main_context_ref_thread_default ();
  self->show_before = TRUE;
  self->thread = g_thread_new ("catena-preview", worker, self);
}

CatenaPreviewRenderer *
catena_preview_renderer_new (void)
{
  return g_object_new (CATENA_TYPE_PREVIEW_RENDERER, NULL);
}

/* Call with the lock held. */
static guint64
kick (CatenaPreviewRenderer *self)
{
  guint64 generation = ++self->generation;

  self->pending = TRUE;
  g_cond_signal (&self->cond);
  return generation;
}

guint64
catena_preview_renderer_set_source (CatenaPreviewRenderer *self,
                                    GeglBuffer *source,
                                    GeglBuffer *before,
                                    CatenaStage *live)
{
  guint64 generation;

  g_return_val_if_fail (CATENA_IS_PREVIEW_RENDERER (self), 0);

  g_mutex_lock (&self->lock);
  g_set_object (&self->source, source);
  g_set_object (&self->before, before);
  g_set_object (&self->live, live);
  g_clear_object (&self->blend_b);
  generation = kick (self);
  g_mutex_unlock (&self->lock);
  return generation;
}

guint64
catena_preview_renderer_set_blend (CatenaPreviewRenderer *self,
                                   GeglBuffer *a,
                                   GeglBuffer *b,
                                   double t,
                                   GeglBuffer *before)
{
  guint64 generation;

  g_return_val_if_fail (CATENA_IS_PREVIEW_RENDERER (self), 0);
  g_return_val_if_fail (GEGL_IS_BUFFER (a) && GEGL_IS_BUFFER (b), 0);

  g_mutex_lock (&self->lock);
  g_set_object (&self->source, a);
  g_set_object (&self->before, before);
  g_clear_object (&self->live);
  g_set_object (&self->blend_b, b);
  self->blend_t = CLAMP (t, 0, 1);
  generation = kick (self);
  g_mutex_unlock (&self->lock);
  return generation;
}

guint64
catena_preview_renderer_set_stage (CatenaPreviewRenderer *self, CatenaStage *live)
{
  guint64 generation;

  g_return_val_if_fail (CATENA_IS_PREVIEW_RENDERER (self), 0);

  g_mutex_lock (&self->lock);
  g_set_object (&self->live, live);
  generation = kick (self);
  g_mutex_unlock (&self->lock);
  return generation;
}

guint64
catena_preview_renderer_set_view (CatenaPreviewRenderer *self,
                                  double scale,
                                  const GeglRectangle *rect)
{
  guint64 generation;

  g_return_val_if_fail (CATENA_IS_PREVIEW_RENDERER (self), 0);

  g_mutex_lock (&self->lock);
  if (self->scale == scale && same_rect (&self->rect, rect))
    generation = self->generation;
  else
    {
      self->scale = scale;
      self->rect = *rect;
      generation = kick (self);
    }
  g_mutex_unlock (&self->lock);
  return generation;
}

guint64
catena_preview_renderer_set_show_before (CatenaPreviewRenderer *self, gboolean show_before)
{
  guint64 generation;

  g_return_val_if_fail (CATENA_IS_PREVIEW_RENDERER (self), 0);

  g_mutex_lock (&self->lock);
  if (self->show_before == !!show_before)
    generation = self->generation;
  else
    {
      self->show_before = !!show_before;
      generation = kick (self);
    }
  g_mutex_unlock (&self->lock);
  return generation;
}

guint64
catena_preview_renderer_get_generation (CatenaPreviewRenderer *self)
{
  guint64 generation;

  g_mutex_lock (&self->lock);
  generation = self->generation;
  g_mutex_unlock (&self->lock);
  return generation;
}

gboolean
catena_preview_renderer_has_source (CatenaPreviewRenderer *self)
{
  gboolean has;

  g_mutex_lock (&self->lock);
  has = self->source != NULL;
  g_mutex_unlock (&self->lock);
  return has;
}

void
catena_preview_renderer_get_counts (CatenaPreviewRenderer *self,
                                    guint *n_coarse,
                                    guint *n_sharp,
                                    guint *n_restarted)
{
  g_mutex_lock (&self->lock);
  if (n_coarse)
    *n_coarse = self->n_coarse;
  if (n_sharp)
    *n_sharp = self->n_sharp;
  if (n_restarted)
    *n_restarted = self->n_restarted;
  g_mutex_unlock (&self->lock);
}
