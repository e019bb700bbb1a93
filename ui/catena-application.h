/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <adwaita.h>

G_BEGIN_DECLS

#define CATENA_TYPE_APPLICATION (catena_application_get_type ())
G_DECLARE_FINAL_TYPE (CatenaApplication, catena_application, CATENA, APPLICATION,
                      AdwApplication)

CatenaApplication *catena_application_new (void);

G_END_DECLS
