/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <glib/gi18n-lib.h>
#include <math.h>
#include <string.h>

#include "catena-util-private.h"
#include "catena-asset.h"
#include "catena-error.h"
#include "catena-stage-private.h"

typedef struct
{
  char *id;
  char *provider;
  char *model;
} CatenaStagePrivate;

G_DEFINE_ABSTRACT_TYPE_WITH_PRIVATE (CatenaStage, catena_stage, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_ID,
  PROP_PROVIDER,
  PROP_MODEL,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static GMutex registry_lock;
static GArray *registry; /* of GType, in registration order */

static G_DEFINE_QUARK (catena-param-color, catena_param_color)

static void
catena_stage_finalize (GObject *object)
{
  CatenaStagePrivate *priv = catena_stage_get_instance_private (CATENA_STAGE (object));

  g_free (priv->id);
  g_free (priv->provider);
  g_free (priv->model);

  G_OBJECT_CLASS (catena_stage_parent_class)->finalize (object);
}

static void
catena_stage_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  CatenaStagePrivate *priv = catena_stage_get_instance_private (CATENA_STAGE (object));

  switch (prop_id)
    {
    case PROP_ID:
      g_value_set_string (value, priv->id);
      break;
    case PROP_PROVIDER:
      g_value_set_string (value, priv->provider);
      break;
    case PROP_MODEL:
      g_value_set_string (value, priv->model);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
catena_stage_set_property (GObject *object,
                           guint prop_id,
                           const GValue *value,
                           GParamSpec *pspec)
{
  CatenaStage *self = CATENA_STAGE (object);

  switch (prop_id)
    {
    case PROP_ID:
      catena_stage_set_id (self, g_value_get_string (value));
      break;
    case PROP_PROVIDER:
      catena_stage_set_provider (self, g_value_get_string (value));
      break;
    case PROP_MODEL:
      catena_stage_set_model (self, g_value_get_string (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
catena_stage_class_init (CatenaStageClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = catena_stage_finalize;
  object_class->get_property = catena_stage_get_property;
  object_class->set_property = catena_stage_set_property;

  klass->icon_name = "applications-graphics-symbolic";

  properties[PROP_ID] =
    g_param_spec_string ("id", "Id", "Identifier of the stage, unique in its chain", NULL,
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_PROVIDER] =
    g_param_spec_string ("provider", "Provider", "Where the stage runs (local, fal, comfyui, openai)",
                         "local",
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_MODEL] =
    g_param_spec_string ("model", "Model", "Model the provider runs; empty for the default", "",
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
catena_stage_init (CatenaStage *self)
{
  CatenaStagePrivate *priv = catena_stage_get_instance_private (self);

  priv->provider = g_strdup ("local");
  priv->model = g_strdup ("");
}

void
catena_stage_context_report_progress (CatenaStageContext *ctx, double fraction)
{
  if (ctx != NULL && ctx->progress != NULL)
    ctx->progress (CLAMP (fraction, 0.0, 1.0), ctx->progress_data);
}

/* Registry */

void
catena_stage_register_type (GType type)
{
  g_return_if_fail (g_type_is_a (type, CATENA_TYPE_STAGE));

  g_mutex_lock (&registry_lock);
  if (registry == NULL)
    registry = g_array_new (FALSE, FALSE, sizeof (GType));
  for (guint i = 0; i < registry->len; i++)
    if (g_array_index (registry, GType, i) == type)
      goto out;
  g_type_class_ref (type); /* keep class metadata alive for the process */
  g_array_append_val (registry, type);
out:
  g_mutex_unlock (&registry_lock);
}

GType *
catena_stage_list_types (guint *n_types)
{
  GType *types;
  guint n;

  g_mutex_lock (&registry_lock);
  n = registry ? registry->len : 0;
  types = g_new0 (GType, n + 1);
  if (n > 0)
    memcpy (types, registry->data, n * sizeof (GType));
  g_mutex_unlock (&registry_lock);

  if (n_types)
    *n_types = n;
  return types;
}

GType
catena_stage_type_for_kind (const char *kind)
{
  GType found = G_TYPE_INVALID;

  g_return_val_if_fail (kind != NULL, G_TYPE_INVALID);

  g_mutex_lock (&registry_lock);
  for (guint i = 0; registry && i < registry->len; i++)
    {
      GType type = g_array_index (registry, GType, i);
      if (g_strcmp0 (catena_stage_type_get_kind (type), kind) == 0)
        {
          found = type;
          break;
        }
    }
  g_mutex_unlock (&registry_lock);

  return found;
}

CatenaStage *
catena_stage_new (const char *kind, GError **error)
{
  GType type = catena_stage_type_for_kind (kind);

  if (type == G_TYPE_INVALID)
    {
      g_set_error (error, CATENA_STAGE_ERROR, CATENA_STAGE_ERROR_UNKNOWN_KIND,
                   _("There is no stage called “%s”. Run “catena-cli stages” to list them."),
                   kind);
      return NULL;
    }
  return g_object_new (type, NULL);
}

/* Class metadata */

static CatenaStageClass *
peek_class (GType type)
{
  g_return_val_if_fail (g_type_is_a (type, CATENA_TYPE_STAGE), NULL);
  return g_type_class_peek (type);
}

const char *
catena_stage_type_get_kind (GType type)
{
  CatenaStageClass *klass = peek_class (type);
  return klass ? klass->kind : NULL;
}

const char *
catena_stage_type_get_title (GType type)
{
  CatenaStageClass *klass = peek_class (type);
  return klass && klass->title ? g_dgettext (GETTEXT_PACKAGE, klass->title) : NULL;
}

const char *
catena_stage_type_get_description (GType type)
{
  CatenaStageClass *klass = peek_class (type);
  return klass && klass->description ? g_dgettext (GETTEXT_PACKAGE, klass->description) : NULL;
}

const char *
catena_stage_type_get_icon_name (GType type)
{
  CatenaStageClass *klass = peek_class (type);
  return klass ? klass->icon_name : NULL;
}

const char *
catena_stage_get_kind (CatenaStage *self)
{
  g_return_val_if_fail (CATENA_IS_STAGE (self), NULL);
  return CATENA_STAGE_GET_CLASS (self)->kind;
}

const char *
catena_stage_get_title (CatenaStage *self)
{
  g_return_val_if_fail (CATENA_IS_STAGE (self), NULL);
  return catena_stage_type_get_title (G_OBJECT_TYPE (self));
}

const char *
catena_stage_get_description (CatenaStage *self)
{
  g_return_val_if_fail (CATENA_IS_STAGE (self), NULL);
  return catena_stage_type_get_description (G_OBJECT_TYPE (self));
}

const char *
catena_stage_get_icon_name (CatenaStage *self)
{
  g_return_val_if_fail (CATENA_IS_STAGE (self), NULL);
  return CATENA_STAGE_GET_CLASS (self)->icon_name;
}

gboolean
catena_stage_needs_input (CatenaStage *self)
{
  g_return_val_if_fail (CATENA_IS_STAGE (self), FALSE);
  return CATENA_STAGE_GET_CLASS (self)->needs_input;
}

gboolean
catena_stage_writes_output (CatenaStage *self)
{
  g_return_val_if_fail (CATENA_IS_STAGE (self), FALSE);
  return CATENA_STAGE_GET_CLASS (self)->write_output != NULL;
}

gboolean
catena_stage_supports_preview (CatenaStage *self)
{
  g_return_val_if_fail (CATENA_IS_STAGE (self), FALSE);
  return CATENA_STAGE_GET_CLASS (self)->build_preview != NULL;
}

/* Identity */

const char *
catena_stage_get_id (CatenaStage *self)
{
  CatenaStagePrivate *priv = catena_stage_get_instance_private (self);
  return priv->id;
}

void
catena_stage_set_id (CatenaStage *self, const char *id)
{
  CatenaStagePrivate *priv = catena_stage_get_instance_private (self);
  if (catena_set_str (&priv->id, id))
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_ID]);
}

const char *
catena_stage_get_provider (CatenaStage *self)
{
  CatenaStagePrivate *priv = catena_stage_get_instance_private (self);
  return priv->provider;
}

void
catena_stage_set_provider (CatenaStage *self, const char *provider)
{
  CatenaStagePrivate *priv = catena_stage_get_instance_private (self);
  if (catena_set_str (&priv->provider, provider ? provider : "local"))
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_PROVIDER]);
}

const char *
catena_stage_get_model (CatenaStage *self)
{
  CatenaStagePrivate *priv = catena_stage_get_instance_private (self);
  return priv->model;
}

void
catena_stage_set_model (CatenaStage *self, const char *model)
{
  CatenaStagePrivate *priv = catena_stage_get_instance_private (self);
  if (catena_set_str (&priv->model, model ? model : ""))
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_MODEL]);
}

/* Parameters */

static guint
type_depth (GType type)
{
  return g_type_depth (type);
}

static int
compare_pspecs (gconstpointer a, gconstpointer b)
{
  GParamSpec *pa = *(GParamSpec **) a;
  GParamSpec *pb = *(GParamSpec **) b;
  guint da = type_depth (pa->owner_type), db = type_depth (pb->owner_type);

  if (da != db)
    return da < db ? -1 : 1;
  return pa->param_id < pb->param_id ? -1 : (pa->param_id > pb->param_id);
}

GParamSpec **
catena_stage_type_list_params (GType type, guint *n_params)
{
  g_autoptr (GTypeClass) klass = g_type_class_ref (type);
  g_autofree GParamSpec **all = NULL;
  GPtrArray *out = g_ptr_array_new ();
  guint n_all = 0;

  all = g_object_class_list_properties (G_OBJECT_CLASS (klass), &n_all);
  for (guint i = 0; i < n_all; i++)
    if (all[i]->owner_type != CATENA_TYPE_STAGE && (all[i]->flags & G_PARAM_WRITABLE) != 0 &&
        (all[i]->flags & G_PARAM_READABLE) != 0)
      g_ptr_array_add (out, all[i]);

  g_ptr_array_sort (out, compare_pspecs);
  if (n_params)
    *n_params = out->len;
  g_ptr_array_add (out, NULL);
  return (GParamSpec **) g_ptr_array_free (out, FALSE);
}

GParamSpec **
catena_stage_list_params (CatenaStage *self, guint *n_params)
{
  g_return_val_if_fail (CATENA_IS_STAGE (self), NULL);
  return catena_stage_type_list_params (G_OBJECT_TYPE (self), n_params);
}

GParamSpec *
catena_param_spec_color (const char *name,
                         const char *nick,
                         const char *blurb,
                         const char *default_value)
{
  GParamSpec *pspec =
    g_param_spec_string (name, nick, blurb, default_value,
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_param_spec_set_qdata (pspec, catena_param_color_quark (), GINT_TO_POINTER (1));
  return pspec;
}

gboolean
catena_param_spec_is_color (GParamSpec *pspec)
{
  return G_IS_PARAM_SPEC_STRING (pspec) &&
         g_param_spec_get_qdata (pspec, catena_param_color_quark ()) != NULL;
}

gboolean
catena_parse_color (const char *text, double rgb[3])
{
  guint64 v;
  char *end = NULL;

  if (text == NULL || text[0] != '#' || strlen (text) != 7)
    return FALSE;
  for (int i = 1; i < 7; i++)
    if (!g_ascii_isxdigit (text[i]))
      return FALSE;
  v = g_ascii_strtoull (text + 1, &end, 16);
  if (end == NULL || *end != '\0')
    return FALSE;
  rgb[0] = ((v >> 16) & 0xff) / 255.0;
  rgb[1] = ((v >> 8) & 0xff) / 255.0;
  rgb[2] = (v & 0xff) / 255.0;
  return TRUE;
}

static GParamSpec *
find_param (CatenaStage *self, const char *name, GError **error)
{
  GParamSpec *pspec = g_object_class_find_property (G_OBJECT_GET_CLASS (self), name);

  if (pspec == NULL || pspec->owner_type == CATENA_TYPE_STAGE ||
      (pspec->flags & G_PARAM_WRITABLE) == 0)
    {
      g_set_error (error, CATENA_STAGE_ERROR, CATENA_STAGE_ERROR_INVALID_PARAMETER,
                   _("The %s stage has no parameter “%s”."), catena_stage_get_kind (self), name);
      return NULL;
    }
  return pspec;
}

static gboolean
parse_boolean (const char *text, gboolean *out)
{
  static const char *yes[] = { "true", "yes", "on", "1" };
  static const char *no[] = { "false", "no", "off", "0" };

  for (guint i = 0; i < G_N_ELEMENTS (yes); i++)
    {
      if (g_ascii_strcasecmp (text, yes[i]) == 0)
        return (*out = TRUE, TRUE);
      if (g_ascii_strcasecmp (text, no[i]) == 0)
        return (*out = FALSE, TRUE);
    }
  return FALSE;
}

/* Fills value (initialised to the pspec's type) from text; FALSE if text does not parse. */
static gboolean
value_from_string (GParamSpec *pspec, const char *text, GValue *value)
{
  GType type = G_PARAM_SPEC_VALUE_TYPE (pspec);
  char *end = NULL;

  if (type == G_TYPE_DOUBLE || type == G_TYPE_FLOAT)
    {
      double d = g_ascii_strtod (text, &end);
      if (end == text || *end != '\0' || !isfinite (d))
        return FALSE;
      if (type == G_TYPE_DOUBLE)
        g_value_set_double (value, d);
      else
        g_value_set_float (value, (float) d);
      return TRUE;
    }
  if (type == G_TYPE_INT || type == G_TYPE_INT64)
    {
      gint64 i;
      if (!g_ascii_string_to_signed (text, 10, G_MININT64, G_MAXINT64, &i, NULL))
        return FALSE;
      if (type == G_TYPE_INT)
        {
          if (i < G_MININT || i > G_MAXINT)
            return FALSE;
          g_value_set_int (value, (int) i);
        }
      else
        g_value_set_int64 (value, i);
      return TRUE;
    }
  if (type == G_TYPE_UINT)
    {
      guint64 u;
      if (!g_ascii_string_to_unsigned (text, 10, 0, G_MAXUINT, &u, NULL))
        return FALSE;
      g_value_set_uint (value, (guint) u);
      return TRUE;
    }
  if (type == G_TYPE_BOOLEAN)
    {
      gboolean b;
      if (!parse_boolean (text, &b))
        return FALSE;
      g_value_set_boolean (value, b);
      return TRUE;
    }
  if (G_TYPE_IS_ENUM (type))
    {
      g_autoptr (GEnumClass) klass = g_type_class_ref (type);
      GEnumValue *ev = g_enum_get_value_by_nick (klass, text);
      if (ev == NULL)
        ev = g_enum_get_value_by_name (klass, text);
      if (ev == NULL)
        return FALSE;
      g_value_set_enum (value, ev->value);
      return TRUE;
    }
  if (type == G_TYPE_STRING)
    {
      double rgb[3];
      if (catena_param_spec_is_color (pspec) && !catena_parse_color (text, rgb))
        return FALSE;
      g_value_set_string (value, text);
      return TRUE;
    }
  return FALSE;
}

static char *
expected_for (GParamSpec *pspec)
{
  GType type = G_PARAM_SPEC_VALUE_TYPE (pspec);
  g_autofree char *range = catena_param_spec_describe_range (pspec);

  if (catena_param_spec_is_color (pspec))
    return g_strdup (_("a colour such as #c8102e"));
  if (type == G_TYPE_BOOLEAN)
    return g_strdup (_("true or false"));
  if (range != NULL)
    return g_strdup (range);
  return g_strdup (_("a value of the right type"));
}

char *
catena_param_spec_describe_range (GParamSpec *pspec)
{
  if (G_IS_PARAM_SPEC_DOUBLE (pspec))
    {
      GParamSpecDouble *d = G_PARAM_SPEC_DOUBLE (pspec);
      return g_strdup_printf ("%g … %g", d->minimum, d->maximum);
    }
  if (G_IS_PARAM_SPEC_FLOAT (pspec))
    {
      GParamSpecFloat *f = G_PARAM_SPEC_FLOAT (pspec);
      return g_strdup_printf ("%g … %g", f->minimum, f->maximum);
    }
  if (G_IS_PARAM_SPEC_INT (pspec))
    {
      GParamSpecInt *i = G_PARAM_SPEC_INT (pspec);
      return g_strdup_printf ("%d … %d", i->minimum, i->maximum);
    }
  if (G_IS_PARAM_SPEC_UINT (pspec))
    {
      GParamSpecUInt *u = G_PARAM_SPEC_UINT (pspec);
      return g_strdup_printf ("%u … %u", u->minimum, u->maximum);
    }
  if (G_IS_PARAM_SPEC_ENUM (pspec))
    {
      GEnumClass *klass = G_PARAM_SPEC_ENUM (pspec)->enum_class;
      GString *s = g_string_new (NULL);
      for (guint i = 0; i < klass->n_values; i++)
        g_string_append_printf (s, "%s%s", i ? ", " : "", klass->values[i].value_nick);
      return g_string_free (s, FALSE);
    }
  return NULL;
}

gboolean
catena_stage_set_param_from_string (CatenaStage *self,
                                    const char *name,
                                    const char *text,
                                    GError **error)
{
  g_auto (GValue) value = G_VALUE_INIT;
  GParamSpec *pspec;

  g_return_val_if_fail (CATENA_IS_STAGE (self), FALSE);
  g_return_val_if_fail (name != NULL && text != NULL, FALSE);

  if (!(pspec = find_param (self, name, error)))
    return FALSE;

  g_value_init (&value, G_PARAM_SPEC_VALUE_TYPE (pspec));
  if (!value_from_string (pspec, text, &value) || g_param_value_validate (pspec, &value))
    {
      g_autofree char *expected = expected_for (pspec);
      g_set_error (error, CATENA_STAGE_ERROR, CATENA_STAGE_ERROR_INVALID_PARAMETER,
                   _("“%s” is not a valid %s for the %s stage: expected %s."), text,
                   g_param_spec_get_nick (pspec), catena_stage_get_kind (self), expected);
      return FALSE;
    }
  g_object_set_property (G_OBJECT (self), name, &value);
  return TRUE;
}

static char *
value_to_string (const GValue *value)
{
  GType type = G_VALUE_TYPE (value);
  char buf[G_ASCII_DTOSTR_BUF_SIZE];

  if (type == G_TYPE_DOUBLE)
    return g_strdup (g_ascii_dtostr (buf, sizeof buf, g_value_get_double (value)));
  if (type == G_TYPE_FLOAT)
    return g_strdup (g_ascii_dtostr (buf, sizeof buf, g_value_get_float (value)));
  if (type == G_TYPE_INT)
    return g_strdup_printf ("%d", g_value_get_int (value));
  if (type == G_TYPE_INT64)
    return g_strdup_printf ("%" G_GINT64_FORMAT, g_value_get_int64 (value));
  if (type == G_TYPE_UINT)
    return g_strdup_printf ("%u", g_value_get_uint (value));
  if (type == G_TYPE_BOOLEAN)
    return g_strdup (g_value_get_boolean (value) ? "true" : "false");
  if (G_TYPE_IS_ENUM (type))
    {
      g_autoptr (GEnumClass) klass = g_type_class_ref (type);
      GEnumValue *ev = g_enum_get_value (klass, g_value_get_enum (value));
      return g_strdup (ev ? ev->value_nick : "");
    }
  if (type == G_TYPE_STRING)
    return g_strdup (g_value_get_string (value) ? g_value_get_string (value) : "");
  return g_strdup_value_contents (value);
}

char *
catena_stage_dup_param_string (CatenaStage *self, const char *name)
{
  g_auto (GValue) value = G_VALUE_INIT;
  GParamSpec *pspec;

  g_return_val_if_fail (CATENA_IS_STAGE (self), NULL);

  if (!(pspec = find_param (self, name, NULL)))
    return NULL;
  g_value_init (&value, G_PARAM_SPEC_VALUE_TYPE (pspec));
  g_object_get_property (G_OBJECT (self), name, &value);
  return value_to_string (&value);
}

/* Serialisation */

JsonNode *
catena_stage_to_json (CatenaStage *self)
{
  g_autoptr (JsonBuilder) builder = json_builder_new ();
  g_autofree GParamSpec **params = NULL;
  guint n_params;

  g_return_val_if_fail (CATENA_IS_STAGE (self), NULL);

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "kind");
  json_builder_add_string_value (builder, catena_stage_get_kind (self));
  json_builder_set_member_name (builder, "id");
  json_builder_add_string_value (builder, catena_stage_get_id (self));
  json_builder_set_member_name (builder, "provider");
  json_builder_add_string_value (builder, catena_stage_get_provider (self));
  json_builder_set_member_name (builder, "model");
  json_builder_add_string_value (builder, catena_stage_get_model (self));
  json_builder_set_member_name (builder, "params");
  json_builder_begin_object (builder);

  params = catena_stage_list_params (self, &n_params);
  for (guint i = 0; i < n_params; i++)
    {
      g_auto (GValue) value = G_VALUE_INIT;
      GType type = G_PARAM_SPEC_VALUE_TYPE (params[i]);

      g_value_init (&value, type);
      g_object_get_property (G_OBJECT (self), params[i]->name, &value);
      json_builder_set_member_name (builder, params[i]->name);
      if (type == G_TYPE_DOUBLE)
        json_builder_add_double_value (builder, g_value_get_double (&value));
      else if (type == G_TYPE_FLOAT)
        json_builder_add_double_value (builder, g_value_get_float (&value));
      else if (type == G_TYPE_INT)
        json_builder_add_int_value (builder, g_value_get_int (&value));
      else if (type == G_TYPE_INT64)
        json_builder_add_int_value (builder, g_value_get_int64 (&value));
      else if (type == G_TYPE_UINT)
        json_builder_add_int_value (builder, g_value_get_uint (&value));
      else if (type == G_TYPE_BOOLEAN)
        json_builder_add_boolean_value (builder, g_value_get_boolean (&value));
      else
        {
          g_autofree char *s = value_to_string (&value);
          json_builder_add_string_value (builder, s);
        }
    }
  json_builder_end_object (builder);
  json_builder_end_object (builder);

  return json_builder_get_root (builder);
}

static gboolean
set_param_from_json (CatenaStage *self, const char *name, JsonNode *node, GError **error)
{
  GParamSpec *pspec;
  GType type;
  g_auto (GValue) value = G_VALUE_INIT;
  gboolean ok = FALSE;

  if (!(pspec = find_param (self, name, error)))
    return FALSE;

  type = G_PARAM_SPEC_VALUE_TYPE (pspec);
  g_value_init (&value, type);

  if (JSON_NODE_HOLDS_VALUE (node))
    {
      GType vt = json_node_get_value_type (node);

      if ((type == G_TYPE_DOUBLE || type == G_TYPE_FLOAT) &&
          (vt == G_TYPE_DOUBLE || vt == G_TYPE_INT64))
        {
          double d = json_node_get_double (node);
          if (type == G_TYPE_DOUBLE)
            g_value_set_double (&value, d);
          else
            g_value_set_float (&value, (float) d);
          ok = isfinite (d);
        }
      else if ((type == G_TYPE_INT || type == G_TYPE_UINT || type == G_TYPE_INT64) &&
               vt == G_TYPE_INT64)
        {
          gint64 i = json_node_get_int (node);
          if (type == G_TYPE_INT64)
            ok = (g_value_set_int64 (&value, i), TRUE);
          else if (type == G_TYPE_INT && i >= G_MININT && i <= G_MAXINT)
            ok = (g_value_set_int (&value, (int) i), TRUE);
          else if (type == G_TYPE_UINT && i >= 0 && i <= G_MAXUINT)
            ok = (g_value_set_uint (&value, (guint) i), TRUE);
        }
      else if (type == G_TYPE_BOOLEAN && vt == G_TYPE_BOOLEAN)
        ok = (g_value_set_boolean (&value, json_node_get_boolean (node)), TRUE);
      else if (vt == G_TYPE_STRING && (G_TYPE_IS_ENUM (type) || type == G_TYPE_STRING))
        ok = value_from_string (pspec, json_node_get_string (node), &value);
    }

  if (!ok || g_param_value_validate (pspec, &value))
    {
      g_autofree char *expected = expected_for (pspec);
      g_set_error (error, CATENA_PROJECT_ERROR, CATENA_PROJECT_ERROR_INVALID,
                   _("The %s stage’s parameter “%s” has an invalid value: expected %s."),
                   catena_stage_get_kind (self), name, expected);
      return FALSE;
    }
  g_object_set_property (G_OBJECT (self), name, &value);
  return TRUE;
}

static const char *
get_string_member (JsonObject *obj, const char *name, gboolean required, GError **error)
{
  JsonNode *node = json_object_get_member (obj, name);

  if (node == NULL || JSON_NODE_HOLDS_NULL (node))
    {
      if (required)
        g_set_error (error, CATENA_PROJECT_ERROR, CATENA_PROJECT_ERROR_INVALID,
                     _("A stage is missing its “%s” field."), name);
      return NULL;
    }
  if (!JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_STRING)
    {
      g_set_error (error, CATENA_PROJECT_ERROR, CATENA_PROJECT_ERROR_INVALID,
                   _("A stage’s “%s” field must be a string."), name);
      return NULL;
    }
  return json_node_get_string (node);
}

CatenaStage *
catena_stage_new_from_json (JsonNode *node, GError **error)
{
  g_autoptr (CatenaStage) stage = NULL;
  g_autoptr (GError) local_error = NULL;
  JsonObject *obj;
  JsonNode *params;
  const char *kind, *s;

  if (node == NULL || !JSON_NODE_HOLDS_OBJECT (node))
    {
      g_set_error (error, CATENA_PROJECT_ERROR, CATENA_PROJECT_ERROR_INVALID,
                   _("A stage must be a JSON object."));
      return NULL;
    }
  obj = json_node_get_object (node);

  if (!(kind = get_string_member (obj, "kind", TRUE, error)))
    return NULL;
  if (!(stage = catena_stage_new (kind, error)))
    return NULL;

  if ((s = get_string_member (obj, "id", FALSE, &local_error)))
    catena_stage_set_id (stage, s);
  if ((s = get_string_member (obj, "provider", FALSE, &local_error)))
    catena_stage_set_provider (stage, s);
  if ((s = get_string_member (obj, "model", FALSE, &local_error)))
    catena_stage_set_model (stage, s);
  if (local_error)
    {
      g_propagate_error (error, g_steal_pointer (&local_error));
      return NULL;
    }

  params = json_object_get_member (obj, "params");
  if (params != NULL && !JSON_NODE_HOLDS_NULL (params))
    {
      JsonObjectIter iter;
      const char *name;
      JsonNode *value;

      if (!JSON_NODE_HOLDS_OBJECT (params))
        {
          g_set_error (error, CATENA_PROJECT_ERROR, CATENA_PROJECT_ERROR_INVALID,
                       _("The %s stage’s “params” must be a JSON object."), kind);
          return NULL;
        }
      json_object_iter_init (&iter, json_node_get_object (params));
      while (json_object_iter_next (&iter, &name, &value))
        if (!set_param_from_json (stage, name, value, error))
          return NULL;
    }

  return g_steal_pointer (&stage);
}

CatenaStage *
catena_stage_duplicate (CatenaStage *self)
{
  g_autoptr (JsonNode) node = NULL;
  g_autoptr (GError) error = NULL;
  CatenaStage *copy;

  g_return_val_if_fail (CATENA_IS_STAGE (self), NULL);

  node = catena_stage_to_json (self);
  copy = catena_stage_new_from_json (node, &error);
  /* Our own serialisation always reads back. */
  g_assert_no_error (error);
  return copy;
}

char *
catena_stage_canonical_params (CatenaStage *self)
{
  g_autofree GParamSpec **params = NULL;
  GString *s = g_string_new (catena_stage_get_kind (self));
  guint n_params;

  params = catena_stage_list_params (self, &n_params);
  /* Declaration order is stable per kind; names keep it readable in debugging. */
  for (guint i = 0; i < n_params; i++)
    {
      g_autofree char *v = catena_stage_dup_param_string (self, params[i]->name);
      g_string_append_printf (s, ";%s=%s", params[i]->name, v);
    }
  return g_string_free (s, FALSE);
}

char *
catena_stage_compute_key (CatenaStage *self,
                          CatenaStageContext *ctx,
                          const char *input_key,
                          GError **error)
{
  CatenaStageClass *klass = CATENA_STAGE_GET_CLASS (self);
  g_autoptr (GChecksum) sum = g_checksum_new (G_CHECKSUM_SHA256);
  g_autofree char *identity = NULL;
  g_autofree char *params = NULL;

  g_return_val_if_fail (CATENA_IS_STAGE (self), NULL);

  if (!klass->needs_input && klass->input_identity != NULL)
    {
      if (!(identity = klass->input_identity (self, ctx, error)))
        return NULL;
      input_key = identity;
    }
  else if (klass->needs_input && input_key == NULL)
    {
      g_set_error (error, CATENA_STAGE_ERROR, CATENA_STAGE_ERROR_MISSING_INPUT,
                   _("The %s stage needs an image before it: put a stage that makes one "
                     "(import or generate) first."),
                   klass->kind);
      return NULL;
    }

  params = catena_stage_canonical_params (self);
  if (klass->engine_identity != NULL)
    {
      g_autofree char *engine = klass->engine_identity (self);
      g_autofree char *with_engine = g_strconcat (params, ";engine=", engine, NULL);
      g_free (params);
      params = g_steal_pointer (&with_engine);
    }

#define FEED(str)                                                                                  \
  G_STMT_START                                                                                     \
  {                                                                                                \
    const char *s_ = (str) ? (str) : "";                                                           \
    g_checksum_update (sum, (const guchar *) s_, strlen (s_) + 1);                                 \
  }                                                                                                \
  G_STMT_END
  FEED ("catena-stage-key-1");
  FEED (input_key);
  FEED (klass->kind);
  FEED (params);
  FEED (catena_stage_get_provider (self));
  FEED (catena_stage_get_model (self));
  if (klass->key_uses_asset_class && ctx != NULL && ctx->asset != NULL)
    FEED (catena_asset_class_to_string (catena_asset_get_asset_class (ctx->asset)));
#undef FEED

  return g_strdup (g_checksum_get_string (sum));
}

GeglBuffer *
catena_stage_process (CatenaStage *self,
                      CatenaStageContext *ctx,
                      GeglBuffer *input,
                      GError **error)
{
  CatenaStageClass *klass;
  GeglBuffer *output;

  g_return_val_if_fail (CATENA_IS_STAGE (self), NULL);
  klass = CATENA_STAGE_GET_CLASS (self);

  if (g_cancellable_set_error_if_cancelled (ctx ? ctx->cancellable : NULL, error))
    return NULL;

  if (klass->needs_input && input == NULL)
    {
      g_set_error (error, CATENA_STAGE_ERROR, CATENA_STAGE_ERROR_MISSING_INPUT,
                   _("The %s stage needs an image before it: put a stage that makes one "
                     "(import or generate) first."),
                   klass->kind);
      return NULL;
    }
  if (input != NULL)
    {
      const GeglRectangle *extent = gegl_buffer_get_extent (input);
      if (extent->width <= 0 || extent->height <= 0)
        {
          g_set_error (error, CATENA_STAGE_ERROR, CATENA_STAGE_ERROR_INVALID_IMAGE,
                       _("The %s stage received an empty image."), klass->kind);
          return NULL;
        }
    }

  output = klass->process (self, ctx, input, error);
  if (output == NULL && error != NULL && *error == NULL)
    g_set_error (error, CATENA_STAGE_ERROR, CATENA_STAGE_ERROR_FAILED,
                 _("The %s stage failed without saying why."), klass->kind);
  return output;
}

gboolean
catena_stage_write_output (CatenaStage *self,
                           CatenaStageContext *ctx,
                           GeglBuffer *output,
                           const char *dir,
                           char **out_path,
                           GError **error)
{
  CatenaStageClass *klass = CATENA_STAGE_GET_CLASS (self);

  if (klass->write_output == NULL)
    return TRUE;
  return klass->write_output (self, ctx, output, dir, out_path, error);
}

GeglNode *
catena_stage_build_preview (CatenaStage *self, GeglNode *parent, GeglNode *input)
{
  CatenaStageClass *klass = CATENA_STAGE_GET_CLASS (self);

  if (klass->build_preview == NULL)
    return NULL;
  return klass->build_preview (self, parent, input);
}
