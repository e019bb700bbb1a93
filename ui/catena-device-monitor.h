/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* Where local models run, for the UI: applies the "device" setting to engine/nn, and brings
 * engine/nn's reports (from worker threads) to the main context as the "model-ran" signal
 * (used: CatenaNnDevice, fallback: the reason the GPU was not used, or NULL). "description"
 * names where models run with the current choice ("GPU: NVIDIA …", "CPU, 16 threads"). One
 * per process. */
#define CATENA_TYPE_DEVICE_MONITOR (catena_device_monitor_get_type ())
G_DECLARE_FINAL_TYPE (CatenaDeviceMonitor, catena_device_monitor, CATENA, DEVICE_MONITOR, GObject)

CatenaDeviceMonitor *catena_device_monitor_get_default (void);
/* Follows settings' "device" key from now on (settings may be NULL: the engine's default). */
void catena_device_monitor_bind_settings (CatenaDeviceMonitor *self, GSettings *settings);
const char *catena_device_monitor_get_description (CatenaDeviceMonitor *self);

G_END_DECLS
