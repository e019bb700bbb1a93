/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <glib/gi18n.h>
#include <math.h>

#include "catena-preview.h"

#define MAX_ZOOM    16.0
#define MIN_ZOOM    0.02
#define FIT_PADDING 24
#define SPLIT_GRAB  10

struct _CatenaPreview
{
  GtkWidget parent_instance;

  int image_width, image_height;
  gboolean fit;
  double zoom;
  double center_x, center_y; /* image point at the middle of the widget */

  GdkTexture *after;
  GdkTexture *before;
  double tex_scale;
  int tex_x, tex_y;

  gboolean split;
  double split_pos; /* 0…1 of the width */
  gboolean dragging_split;
  double drag_center_x, drag_center_y;

  double pointer_x, pointer_y;
  GdkTexture *checker;
};

G_DEFINE_FINAL_TYPE (CatenaPreview, catena_preview, GTK_TYPE_WIDGET)

enum {
  PROP_0,
  PROP_ZOOM,
  PROP_SPLIT,
  N_PROPS
};

enum {
  VIEW_CHANGED,
  N_SIGNALS
};

static GParamSpec *properties[N_PROPS];
static guint signals[N_SIGNALS];

static double
effective_zoom (CatenaPreview *self)
{
  int w = gtk_widget_get_width (GTK_WIDGET (self));
  int h = gtk_widget_get_height (GTK_WIDGET (self));

  if (!self->fit || self->image_width <= 0 || self->image_height <= 0)
    return self->zoom;
  if (w <= 2 * FIT_PADDING || h <= 2 * FIT_PADDING)
    return self->zoom;
  return CLAMP (MIN ((double) (w - 2 * FIT_PADDING) / self->image_width,
                     (double) (h - 2 * FIT_PADDING) / self->image_height),
                MIN_ZOOM, 4.0);
}

static void
get_origin (CatenaPreview *self, double z, double *ox, double *oy)
{
  double cx = self->fit ? self->image_width / 2.0 : self->center_x;
  double cy = self->fit ? self->image_height / 2.0 : self->center_y;

  *ox = round (gtk_widget_get_width (GTK_WIDGET (self)) / 2.0 - cx * z);
  *oy = round (gtk_widget_get_height (GTK_WIDGET (self)) / 2.0 - cy * z);
}

gboolean
catena_preview_get_render_request (CatenaPreview *self, double *scale, GeglRectangle *rect)
{
  double z, ox, oy, rs, x0, y0, x1, y1;
  int w = gtk_widget_get_width (GTK_WIDGET (self));
  int h = gtk_widget_get_height (GTK_WIDGET (self));

  g_return_val_if_fail (CATENA_IS_PREVIEW (self), FALSE);

  if (self->image_width <= 0 || self->image_height <= 0 || w <= 0 || h <= 0)
    return FALSE;
  z = effective_zoom (self);
  get_origin (self, z, &ox, &oy);
  /* Above 100 % the texture is magnified on screen; never render more pixels than exist. */
  rs = MIN (z, 1.0);
  x0 = MAX (0, -ox / z);
  y0 = MAX (0, -oy / z);
  x1 = MIN (self->image_width, (w - ox) / z);
  y1 = MIN (self->image_height, (h - oy) / z);
  if (x1 <= x0 || y1 <= y0)
    return FALSE;
  *scale = rs;
  rect->x = (int) floor (x0 * rs);
  rect->y = (int) floor (y0 * rs);
  rect->width = MAX (1, (int) ceil (x1 * rs) - rect->x);
  rect->height = MAX (1, (int) ceil (y1 * rs) - rect->y);
  return TRUE;
}

static void
view_changed (CatenaPreview *self)
{
  gtk_widget_queue_draw (GTK_WIDGET (self));
  g_signal_emit (self, signals[VIEW_CHANGED], 0);
}

static void
append_texture_at (CatenaPreview *self, GtkSnapshot *snapshot, GdkTexture *texture, double z,
                   double ox, double oy)
{
  double k = z / self->tex_scale;
  graphene_rect_t bounds = GRAPHENE_RECT_INIT (ox + self->tex_x * k, oy + self->tex_y * k,
                                               gdk_texture_get_width (texture) * k,
                                               gdk_texture_get_height (texture) * k);

  gtk_snapshot_append_texture (snapshot, texture, &bounds);
}

static void
catena_preview_snapshot (GtkWidget *widget, GtkSnapshot *snapshot)
{
  CatenaPreview *self = CATENA_PREVIEW (widget);
  int w = gtk_widget_get_width (widget);
  int h = gtk_widget_get_height (widget);
  double z, ox, oy, split_x;
  graphene_rect_t image, view = GRAPHENE_RECT_INIT (0, 0, w, h);

  if (self->image_width <= 0 || self->image_height <= 0 || self->after == NULL)
    return;

  z = effective_zoom (self);
  get_origin (self, z, &ox, &oy);
  image = GRAPHENE_RECT_INIT (ox, oy, self->image_width * z, self->image_height * z);
  graphene_rect_intersection (&image, &view, &image);

  gtk_snapshot_push_clip (snapshot, &image);
  gtk_snapshot_push_repeat (snapshot, &image, &GRAPHENE_RECT_INIT (0, 0, 16, 16));
  gtk_snapshot_append_texture (snapshot, self->checker, &GRAPHENE_RECT_INIT (0, 0, 16, 16));
  gtk_snapshot_pop (snapshot);

  if (!self->split || self->before == NULL)
    {
      append_texture_at (self, snapshot, self->after, z, ox, oy);
      gtk_snapshot_pop (snapshot);
      return;
    }

  split_x = round (w * self->split_pos);
  gtk_snapshot_push_clip (snapshot, &GRAPHENE_RECT_INIT (0, 0, split_x, h));
  append_texture_at (self, snapshot, self->before, z, ox, oy);
  gtk_snapshot_pop (snapshot);
  gtk_snapshot_push_clip (snapshot, &GRAPHENE_RECT_INIT (split_x, 0, w - split_x, h));
  append_texture_at (self, snapshot, self->after, z, ox, oy);
  gtk_snapshot_pop (snapshot);
  gtk_snapshot_pop (snapshot);

  /* the divider */
  gtk_snapshot_append_color (snapshot, &(GdkRGBA){ 0, 0, 0, 0.4 },
                             &GRAPHENE_RECT_INIT (split_x - 2, 0, 4, h));
  gtk_snapshot_append_color (snapshot, &(GdkRGBA){ 1, 1, 1, 0.95 },
                             &GRAPHENE_RECT_INIT (split_x - 1, 0, 2, h));
  gtk_snapshot_append_color (snapshot, &(GdkRGBA){ 1, 1, 1, 0.95 },
                             &GRAPHENE_RECT_INIT (split_x - 6, h / 2.0 - 20, 12, 40));
}

static void
catena_preview_size_allocate (GtkWidget *widget, int width, int height, int baseline)
{
  view_changed (CATENA_PREVIEW (widget));
}

static void
on_scroll_motion (GtkEventControllerMotion *motion, double x, double y, CatenaPreview *self)
{
  self->pointer_x = x;
  self->pointer_y = y;
}

static void
zoom_around (CatenaPreview *self, double new_zoom, double px, double py)
{
  double z = effective_zoom (self), ox, oy, ix, iy;

  if (self->image_width <= 0)
    return;
  new_zoom = CLAMP (new_zoom, MIN_ZOOM, MAX_ZOOM);
  get_origin (self, z, &ox, &oy);
  ix = (px - ox) / z;
  iy = (py - oy) / z;
  self->fit = FALSE;
  self->zoom = new_zoom;
  self->center_x = ix + (gtk_widget_get_width (GTK_WIDGET (self)) / 2.0 - px) / new_zoom;
  self->center_y = iy + (gtk_widget_get_height (GTK_WIDGET (self)) / 2.0 - py) / new_zoom;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_ZOOM]);
  view_changed (self);
}

static gboolean
on_scroll (GtkEventControllerScroll *scroll, double dx, double dy, CatenaPreview *self)
{
  /* The motion controller tracks the pointer in our own coordinates. */
  double px = self->pointer_x, py = self->pointer_y;

  zoom_around (self, effective_zoom (self) * pow (1.15, -dy), px, py);
  return TRUE;
}

static void
on_drag_begin (GtkGestureDrag *drag, double x, double y, CatenaPreview *self)
{
  double split_x = gtk_widget_get_width (GTK_WIDGET (self)) * self->split_pos;

  self->dragging_split = self->split && fabs (x - split_x) <= SPLIT_GRAB;
  if (!self->dragging_split)
    {
      double z = effective_zoom (self);

      if (self->fit)
        {
          self->center_x = self->image_width / 2.0;
          self->center_y = self->image_height / 2.0;
          self->zoom = z;
        }
      self->drag_center_x = self->center_x;
      self->drag_center_y = self->center_y;
    }
}

static void
on_drag_update (GtkGestureDrag *drag, double dx, double dy, CatenaPreview *self)
{
  if (self->dragging_split)
    {
      double x, y;
      gtk_gesture_drag_get_start_point (drag, &x, &y);
      self->split_pos = CLAMP ((x + dx) / MAX (1, gtk_widget_get_width (GTK_WIDGET (self))),
                               0.0, 1.0);
      gtk_widget_queue_draw (GTK_WIDGET (self));
      return;
    }
  if (fabs (dx) < 1 && fabs (dy) < 1)
    return;
  if (self->fit)
    {
      self->fit = FALSE;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_ZOOM]);
    }
  self->center_x = CLAMP (self->drag_center_x - dx / self->zoom, 0, self->image_width);
  self->center_y = CLAMP (self->drag_center_y - dy / self->zoom, 0, self->image_height);
  view_changed (self);
}

static void
on_double_click (GtkGestureClick *click, int n_press, double x, double y, CatenaPreview *self)
{
  if (n_press != 2)
    return;
  if (self->fit)
    zoom_around (self, 1.0, x, y);
  else
    catena_preview_zoom_fit (self);
}

static void
catena_preview_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  CatenaPreview *self = CATENA_PREVIEW (object);

  switch (prop_id)
    {
    case PROP_ZOOM:
      g_value_set_double (value, catena_preview_get_zoom (self));
      break;
    case PROP_SPLIT:
      g_value_set_boolean (value, self->split);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
catena_preview_set_property (GObject *object, guint prop_id, const GValue *value,
                             GParamSpec *pspec)
{
  CatenaPreview *self = CATENA_PREVIEW (object);

  switch (prop_id)
    {
    case PROP_ZOOM:
      catena_preview_set_zoom (self, g_value_get_double (value));
      break;
    case PROP_SPLIT:
      catena_preview_set_split (self, g_value_get_boolean (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
catena_preview_dispose (GObject *object)
{
  CatenaPreview *self = CATENA_PREVIEW (object);

  g_clear_object (&self->after);
  g_clear_object (&self->before);
  g_clear_object (&self->checker);

  G_OBJECT_CLASS (catena_preview_parent_class)->dispose (object);
}

static void
catena_preview_class_init (CatenaPreviewClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = catena_preview_dispose;
  object_class->get_property = catena_preview_get_property;
  object_class->set_property = catena_preview_set_property;
  widget_class->snapshot = catena_preview_snapshot;
  widget_class->size_allocate = catena_preview_size_allocate;

  properties[PROP_ZOOM] =
    g_param_spec_double ("zoom", NULL, NULL, MIN_ZOOM, MAX_ZOOM, 1.0,
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_SPLIT] =
    g_param_spec_boolean ("split", NULL, NULL, FALSE,
                          G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  signals[VIEW_CHANGED] = g_signal_new ("view-changed", G_TYPE_FROM_CLASS (klass),
                                        G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL, G_TYPE_NONE, 0);

  gtk_widget_class_set_css_name (widget_class, "imagepreview");
  gtk_widget_class_set_accessible_role (widget_class, GTK_ACCESSIBLE_ROLE_IMG);
}

static GdkTexture *
make_checker (void)
{
  guint8 data[16 * 16 * 4];
  g_autoptr (GBytes) bytes = NULL;

  for (int y = 0; y < 16; y++)
    for (int x = 0; x < 16; x++)
      {
        guint8 v = ((x / 8) ^ (y / 8)) ? 0x99 : 0x66;
        guint8 *p = data + (y * 16 + x) * 4;
        p[0] = p[1] = p[2] = v;
        p[3] = 0xff;
      }
  bytes = g_bytes_new (data, sizeof data);
  return gdk_memory_texture_new (16, 16, GDK_MEMORY_R8G8B8A8, bytes, 16 * 4);
}

static void
catena_preview_init (CatenaPreview *self)
{
  GtkEventController *scroll, *motion;
  GtkGesture *drag, *click;

  self->fit = TRUE;
  self->zoom = 1.0;
  self->split_pos = 0.5;
  self->tex_scale = 1.0;
  self->checker = make_checker ();

  gtk_widget_set_hexpand (GTK_WIDGET (self), TRUE);
  gtk_widget_set_vexpand (GTK_WIDGET (self), TRUE);
  gtk_widget_set_overflow (GTK_WIDGET (self), GTK_OVERFLOW_HIDDEN);

  scroll = gtk_event_controller_scroll_new (GTK_EVENT_CONTROLLER_SCROLL_VERTICAL);
  g_signal_connect (scroll, "scroll", G_CALLBACK (on_scroll), self);
  gtk_widget_add_controller (GTK_WIDGET (self), scroll);

  motion = gtk_event_controller_motion_new ();
  g_signal_connect (motion, "motion", G_CALLBACK (on_scroll_motion), self);
  g_signal_connect (motion, "enter", G_CALLBACK (on_scroll_motion), self);
  gtk_widget_add_controller (GTK_WIDGET (self), motion);

  drag = gtk_gesture_drag_new ();
  g_signal_connect (drag, "drag-begin", G_CALLBACK (on_drag_begin), self);
  g_signal_connect (drag, "drag-update", G_CALLBACK (on_drag_update), self);
  gtk_widget_add_controller (GTK_WIDGET (self), GTK_EVENT_CONTROLLER (drag));

  click = gtk_gesture_click_new ();
  g_signal_connect (click, "pressed", G_CALLBACK (on_double_click), self);
  gtk_widget_add_controller (GTK_WIDGET (self), GTK_EVENT_CONTROLLER (click));
}

GtkWidget *
catena_preview_new (void)
{
  return g_object_new (CATENA_TYPE_PREVIEW, NULL);
}

void
catena_preview_set_image_size (CatenaPreview *self, int width, int height)
{
  g_return_if_fail (CATENA_IS_PREVIEW (self));

  if (self->image_width == width && self->image_height == height)
    return;
  /* Keep the same relative place when the size changes (an upscale stage). */
  if (!self->fit && self->image_width > 0 && width > 0)
    {
      double k = (double) width / self->image_width;
      self->center_x *= k;
      self->center_y *= k;
      self->zoom = CLAMP (self->zoom / k, MIN_ZOOM, MAX_ZOOM);
    }
  self->image_width = width;
  self->image_height = height;
  view_changed (self);
}

void
catena_preview_set_textures (CatenaPreview *self,
                             GdkTexture *after,
                             GdkTexture *before,
                             double scale,
                             int x,
                             int y)
{
  g_return_if_fail (CATENA_IS_PREVIEW (self));

  g_set_object (&self->after, after);
  g_set_object (&self->before, before);
  self->tex_scale = scale > 0 ? scale : 1.0;
  self->tex_x = x;
  self->tex_y = y;
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

void
catena_preview_clear (CatenaPreview *self)
{
  g_return_if_fail (CATENA_IS_PREVIEW (self));

  g_clear_object (&self->after);
  g_clear_object (&self->before);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

GdkTexture *
catena_preview_get_texture (CatenaPreview *self)
{
  g_return_val_if_fail (CATENA_IS_PREVIEW (self), NULL);
  return self->after;
}

void
catena_preview_zoom_fit (CatenaPreview *self)
{
  g_return_if_fail (CATENA_IS_PREVIEW (self));

  self->fit = TRUE;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_ZOOM]);
  view_changed (self);
}

void
catena_preview_set_zoom (CatenaPreview *self, double zoom)
{
  g_return_if_fail (CATENA_IS_PREVIEW (self));

  zoom_around (self, zoom, gtk_widget_get_width (GTK_WIDGET (self)) / 2.0,
               gtk_widget_get_height (GTK_WIDGET (self)) / 2.0);
}

double
catena_preview_get_zoom (CatenaPreview *self)
{
  g_return_val_if_fail (CATENA_IS_PREVIEW (self), 1.0);
  return effective_zoom (self);
}

void
catena_preview_zoom_by (CatenaPreview *self, double factor)
{
  g_return_if_fail (CATENA_IS_PREVIEW (self));
  catena_preview_set_zoom (self, effective_zoom (self) * factor);
}

gboolean
catena_preview_get_split (CatenaPreview *self)
{
  g_return_val_if_fail (CATENA_IS_PREVIEW (self), FALSE);
  return self->split;
}

void
catena_preview_set_split (CatenaPreview *self, gboolean split)
{
  g_return_if_fail (CATENA_IS_PREVIEW (self));

  split = !!split;
  if (self->split == split)
    return;
  self->split = split;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SPLIT]);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}
