/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The per-provider answer readers of catena-provider-private.h, each given the input the way
 * the provider gets it: the input as one ComfyUI /ws text message (NUL-terminated, as
 * catena_websocket_receive returns it), and the input as an HTTP body through
 * catena_http_parse_json, whose object then goes to every reader of fal (upload, submit,
 * status, result), OpenAI (data[] and each entry) and ComfyUI (upload, prompt, object_info,
 * history and its outputs). The seeds are shaped like the real answers (and like the fake
 * servers' in tests/providers/). Besides ASan/UBSan and GLib criticals, it checks what the
 * callers rely on: an error exactly when a reader fails, error messages in valid UTF-8 (they
 * reach GTK labels), ids and /view paths that are safe inside a URL, fractions in [0, 1]. */
#include "config.h"

#include <math.h>

#include "fuzz-common.h"

#include "catena-error.h"
#include "catena-provider-private.h"

/* The seeds' prompt id: /history answers are keyed by it, socket messages carry it. */
#define PROMPT_ID "7d3e2b1a-5c4f-4e6d-9a8b-0c1d2e3f4a5b"

static void
check_error (gboolean failed, GError *error)
{
  if (!failed)
    {
      g_assert (error == NULL);
      return;
    }
  g_assert (error != NULL);
  g_assert (error->domain == CATENA_PROVIDER_ERROR);
  g_assert (g_utf8_validate (error->message, -1, NULL));
}

/* An id or a path that goes into a URL: printable ASCII, no space. */
static void
check_url_safe (const char *s)
{
  for (; *s; s++)
    g_assert (*s > 0x20 && *s < 0x7f);
}

static void
check_id (const char *id)
{
  g_assert (id[0] != '\0');
  check_url_safe (id);
  for (const char *p = id; *p; p++)
    g_assert (g_ascii_isxdigit (*p) || *p == '-');
}

static void
read_message (const uint8_t *data, size_t size)
{
  /* catena_websocket_receive hands out a NUL-terminated copy of the frame's bytes */
  g_autofree char *text = g_malloc (size + 1);
  g_autoptr (GError) error = NULL;
  double fraction = -1;
  CatenaComfyuiEvent event;

  memcpy (text, data, size);
  text[size] = '\0';
  event = catena_comfyui_read_message (text, PROMPT_ID, &fraction, &error);
  check_error (event == CATENA_COMFYUI_EVENT_FAILED, error);
  if (event == CATENA_COMFYUI_EVENT_PROGRESS)
    g_assert (fraction >= 0.0 && fraction <= 1.0);
}

static void
read_fal (JsonObject *o)
{
  const char *upload_url = NULL, *file_url = NULL;
  const char *request_id;
  CatenaFalStatus status;
  GError *error = NULL;
  g_autoptr (GPtrArray) urls = NULL;
  gboolean failed;

  /* the call first: argument evaluation order is unspecified (gcc reads error first) */
  failed = !catena_fal_read_upload (o, &upload_url, &file_url, &error);
  check_error (failed, error);
  g_clear_error (&error);

  request_id = catena_fal_read_request_id (o, &error);
  check_error (request_id == NULL, error);
  g_clear_error (&error);
  if (request_id)
    check_id (request_id);

  status = catena_fal_read_status (o, &error);
  check_error (status == CATENA_FAL_STATUS_FAILED, error);
  g_clear_error (&error);

  urls = catena_fal_read_image_urls (o, &error);
  check_error (urls == NULL, error);
  g_clear_error (&error);
  if (urls)
    {
      g_assert (urls->len > 0 && urls->len <= 16);
      for (guint i = 0; i < urls->len; i++)
        g_assert (urls->pdata[i] != NULL);
    }
}

static void
read_openai (JsonObject *o)
{
  GError *error = NULL;
  JsonArray *data = catena_openai_read_data (o, &error);

  check_error (data == NULL, error);
  g_clear_error (&error);
  for (guint i = 0; data && i < json_array_get_length (data) && i < 16; i++)
    {
      g_autoptr (GBytes) bytes = NULL;
      const char *url = NULL;
      gboolean ok = catena_openai_read_image (json_array_get_element (data, i), &bytes, &url,
                                              &error);

      check_error (!ok, error);
      g_clear_error (&error);
      g_assert (!ok || (bytes != NULL) != (url != NULL));
    }
}

static void
read_entry (JsonObject *entry)
{
  GError *error = NULL;
  g_autoptr (GPtrArray) paths = NULL;
  gboolean failed;

  (void) catena_comfyui_history_finished (entry);
  failed = catena_comfyui_history_failed (entry, &error);
  check_error (failed, error);
  g_clear_error (&error);
  paths = catena_comfyui_read_outputs (entry, &error);
  check_error (paths == NULL, error);
  g_clear_error (&error);
  for (guint i = 0; paths && i < paths->len; i++)
    {
      g_assert (g_str_has_prefix (paths->pdata[i], "/view?filename="));
      check_url_safe (paths->pdata[i]);
    }
  g_assert (paths == NULL || paths->len <= 16);
}

static void
read_comfyui (JsonObject *o)
{
  static const char *const node_inputs[][2] = {
    { "CheckpointLoaderSimple", "ckpt_name" },
    { "LoraLoader", "lora_name" },
    { "UpscaleModelLoader", "model_name" },
  };
  GError *error = NULL;
  g_autofree char *name = NULL;
  g_autofree char *prompt_id = NULL;
  JsonObject *entry;

  name = catena_comfyui_read_upload_name (o, &error);
  check_error (name == NULL, error);
  g_clear_error (&error);

  prompt_id = catena_comfyui_read_prompt_id (o, &error);
  check_error (prompt_id == NULL, error);
  g_clear_error (&error);
  if (prompt_id)
    check_id (prompt_id);

  for (guint i = 0; i < G_N_ELEMENTS (node_inputs); i++)
    {
      g_auto (GStrv) choices = catena_comfyui_read_choices (o, node_inputs[i][0],
                                                            node_inputs[i][1]);
      g_assert (choices != NULL);
    }

  if ((entry = catena_comfyui_read_history (o, PROMPT_ID)))
    read_entry (entry);
  /* and the object as an entry, so mutations of an entry need not keep the id around it */
  read_entry (o);
}

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
  fuzz_quiet_logs ();
  return 0;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  CatenaHttpResponse response = { .status = 200 };
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonNode) root = NULL;
  JsonObject *o;

  read_message (data, size);

  /* a buffer of exactly the input's size: ASan sees any read past the body */
  response.body = g_bytes_new_take (fuzz_copy (data, size), size);
  root = catena_http_parse_json (&response, "fuzz", &error);
  g_clear_pointer (&response.body, g_bytes_unref);
  if (root == NULL)
    return 0;
  o = json_node_get_object (root);
  read_fal (o);
  read_openai (o);
  read_comfyui (o);
  return 0;
}
