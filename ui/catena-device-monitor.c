/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <glib/gi18n.h>

#include "catena-device-monitor.h"
#include "catena-nn.h"

struct _CatenaDeviceMonitor
{
  GObject parent_instance;

  GSettings *settings;
  char *description;
};

G_DEFINE_FINAL_TYPE (CatenaDeviceMonitor, catena_device_monitor, G_TYPE_OBJECT)

enum
{
  PROP_0,
  PROP_DESCRIPTION,
  N_PROPS
};

static GParamSpec *props[N_PROPS];

enum
{
  MODEL_RAN,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

typedef struct
{
  CatenaDeviceMonitor *self;
  CatenaNnDevice used;
  char *fallback;
} Report;

static void
report_free (gpointer data)
{
  Report *r = data;

  g_object_unref (r->self);
  g_free (r->fallback);
  g_free (r);
}

static gboolean
report_on_main (gpointer data)
{
  Report *r = data;

  g_signal_emit (r->self, signals[MODEL_RAN], 0, (int) r->used, r->fallback);
  return G_SOURCE_REMOVE;
}

/* engine/nn calls this from the worker that ran the model: hand it to the main context with
 * an idle source (never g_main_context_invoke from a worker: it may run it right here). */
static void
on_model_ran (CatenaNnDevice used, const GError *fallback, gpointer user_data)
{
  Report *r = g_new0 (Report, 1);
  GSource *source = g_idle_source_new ();

  r->self = g_object_ref (user_data);
  r->used = used;
  r->fallback = fallback != NULL ? g_strdup (fallback->message) : NULL;
  g_source_set_priority (source, G_PRIORITY_DEFAULT);
  g_source_set_callback (source, report_on_main, r, report_free);
  g_source_set_static_name (source, "[catena] model ran");
  g_source_attach (source, NULL);
  g_source_unref (source);
}

/* engine/nn's own description, in the user's language */
static char *
describe (CatenaNnDevice device)
{
  g_autofree char *gpu = NULL, *why = NULL;
  int threads = catena_nn_get_n_threads ();

  if (device != CATENA_NN_DEVICE_CPU && catena_nn_cuda_available (&gpu))
    /* TRANSLATORS: where local models run; %s is the graphics card, e.g. "NVIDIA RTX 4090" */
    return g_strdup_printf (_("GPU: %s"), gpu);
  if (device == CATENA_NN_DEVICE_CPU || (why = catena_nn_device_unavailable_reason ()) == NULL)
    return g_strdup_printf (ngettext ("CPU, %d thread", "CPU, %d threads", threads), threads);
  /* TRANSLATORS: where local models run; %s says why no graphics card can be used */
  return g_strdup_printf (ngettext ("CPU, %d thread (no GPU: %s)", "CPU, %d threads (no GPU: %s)",
                                    threads),
                          threads, why);
}

static void
update (CatenaDeviceMonitor *self)
{
  g_autofree char *desc = NULL;
  CatenaNnDevice device = CATENA_NN_DEVICE_AUTO;

  if (self->settings != NULL)
    {
      g_autofree char *nick = g_settings_get_string (self->settings, "device");

      if (!catena_nn_device_from_string (nick, &device))
        device = CATENA_NN_DEVICE_AUTO;
      catena_nn_set_device (device);
    }
  else
    device = catena_nn_get_device ();
  desc = describe (device);
  if (g_strcmp0 (desc, self->description) != 0)
    {
      g_free (self->description);
      self->description = g_steal_pointer (&desc);
      g_object_notify_by_pspec (G_OBJECT (self), props[PROP_DESCRIPTION]);
    }
}

static void
catena_device_monitor_finalize (GObject *object)
{
  CatenaDeviceMonitor *self = CATENA_DEVICE_MONITOR (object);

  catena_nn_set_device_notify (NULL, NULL);
  g_clear_object (&self->settings);
  g_free (self->description);
  G_OBJECT_CLASS (catena_device_monitor_parent_class)->finalize (object);
}

static void
catena_device_monitor_get_property (GObject *object, guint prop_id, GValue *value,
                                    GParamSpec *pspec)
{
  CatenaDeviceMonitor *self = CATENA_DEVICE_MONITOR (object);

  switch (prop_id)
    {
    case PROP_DESCRIPTION:
      g_value_set_string (value, self->description);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
catena_device_monitor_class_init (CatenaDeviceMonitorClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = catena_device_monitor_finalize;
  object_class->get_property = catena_device_monitor_get_property;

  props[PROP_DESCRIPTION] =
    g_param_spec_string ("description", NULL, NULL, NULL,
                         G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
  g_object_class_install_properties (object_class, N_PROPS, props);

  signals[MODEL_RAN] = g_signal_new ("model-ran", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                                     0, NULL, NULL, NULL, G_TYPE_NONE, 2, G_TYPE_INT,
                                     G_TYPE_STRING);
}

static void
catena_device_monitor_init (CatenaDeviceMonitor *self)
{
  catena_nn_set_device_notify (on_model_ran, self);
  update (self);
}

CatenaDeviceMonitor *
catena_device_monitor_get_default (void)
{
  static CatenaDeviceMonitor *monitor;

  if (monitor == NULL)
    monitor = g_object_new (CATENA_TYPE_DEVICE_MONITOR, NULL);
  return monitor;
}

void
catena_device_monitor_bind_settings (CatenaDeviceMonitor *self, GSettings *settings)
{
  g_return_if_fail (CATENA_IS_DEVICE_MONITOR (self));

  if (self->settings == settings)
    return;
  if (self->settings != NULL)
    g_signal_handlers_disconnect_by_data (self->settings, self);
  g_set_object (&self->settings, settings);
  if (settings != NULL)
    g_signal_connect_object (settings, "changed::device", G_CALLBACK (update), self,
                             G_CONNECT_SWAPPED);
  update (self);
}

const char *
catena_device_monitor_get_description (CatenaDeviceMonitor *self)
{
  g_return_val_if_fail (CATENA_IS_DEVICE_MONITOR (self), NULL);
  return self->description;
}
