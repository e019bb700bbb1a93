/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <string.h>

#include "../catena-test-util.h"
#include "catena-image-io.h"
#include "catena-review.h"

/* The delivery gate (refusal, override in the audit log, stale approvals), provenance
 * sidecars, the note embedded in PNG/JPEG (valid chunks, readable by GEGL), the review and
 * export CLI commands and the contact sheet. */

typedef struct
{
  char *dir;
  char *project_path;
  char *out;
} Fixture;

static void
fill_photo (int x, int y, float px[4])
{
  px[0] = x / 47.0f;
  px[1] = 0.3f + 0.4f * (y > 24);
  px[2] = 0.6f;
  px[3] = 1;
}

static void
write_project (Fixture *f, const char *format, double exposure)
{
  g_autofree char *text = g_strdup_printf (
    "{ \"format\": \"catena-project\", \"version\": 1, \"name\": \"Delivery test\",\n"
    "  \"chain\": [ { \"kind\": \"import\", \"id\": \"import\" },\n"
    "    { \"kind\": \"recolor\", \"id\": \"recolor\", \"params\": { \"exposure\": %.2f } },\n"
    "    { \"kind\": \"export\", \"id\": \"export\",\n"
    "      \"params\": { \"format\": \"%s\", \"long-edge\": 48 } } ],\n"
    "  \"assets\": [ { \"id\": \"mug\", \"name\": \"Mug\", \"source\": \"photo.png\" },\n"
    "               { \"id\": \"cup\", \"name\": \"Cup\", \"source\": \"photo.png\" } ] }\n",
    exposure, format);
  g_assert_true (g_file_set_contents (f->project_path, text, -1, NULL));
}

static void
fixture_setup (Fixture *f, gconstpointer data)
{
  g_autoptr (GeglBuffer) photo = test_make_buffer (48, 48, fill_photo);
  g_autofree char *photo_path = NULL;
  g_autoptr (GError) error = NULL;

  f->dir = test_mkdtemp ();
  photo_path = g_build_filename (f->dir, "photo.png", NULL);
  g_assert_true (catena_image_save (photo, photo_path, CATENA_EXPORT_FORMAT_PNG, 90, &error));
  f->project_path = g_build_filename (f->dir, "p.catena", NULL);
  f->out = g_build_filename (f->dir, "delivery", NULL);
  write_project (f, "png", 0.2);
}

static void
fixture_teardown (Fixture *f, gconstpointer data)
{
  test_rm_rf (f->dir);
  g_free (f->dir);
  g_free (f->project_path);
  g_free (f->out);
}

static CatenaProject *
load (Fixture *f)
{
  g_autoptr (GFile) file = g_file_new_for_path (f->project_path);
  g_autoptr (GError) error = NULL;
  CatenaProject *project = catena_project_load (file, &error);

  g_assert_no_error (error);
  return project;
}

static guint
count_files (const char *dir)
{
  g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
  guint n = 0;

  while (d && g_dir_read_name (d))
    n++;
  return n;
}

static guint32
be32 (const guchar *p)
{
  return (guint32) p[0] << 24 | (guint32) p[1] << 16 | (guint32) p[2] << 8 | p[3];
}

/* CRC-32 written bit by bit, independent of the engine's table-driven one. */
static guint32
slow_crc (const guchar *p, gsize n)
{
  guint32 c = 0xffffffffu;

  for (gsize i = 0; i < n; i++)
    {
      c ^= p[i];
      for (int k = 0; k < 8; k++)
        c = (c >> 1) ^ (0xedb88320u & (0u - (c & 1)));
    }
  return ~c;
}

/* Every chunk's CRC is right, the iTXt is ours and sits before IDAT, and GEGL decodes it. */
static void
check_png (const char *path)
{
  g_autofree guchar *d = NULL;
  gsize len, pos = 8;
  gboolean seen_itxt = FALSE, seen_idat = FALSE;
  g_autoptr (GError) error = NULL;
  g_autoptr (GeglBuffer) buffer = NULL;
  int w, h;
  CatenaImageKind kind;

  g_assert_true (g_file_get_contents (path, (char **) &d, &len, NULL));
  g_assert_cmpmem (d, 8, "\x89PNG\r\n\x1a\n", 8);
  while (pos + 12 <= len)
    {
      guint32 n = be32 (d + pos);

      g_assert_cmpuint (pos + 12 + n, <=, len);
      g_assert_cmphex (slow_crc (d + pos + 4, n + 4), ==, be32 (d + pos + 8 + n));
      if (memcmp (d + pos + 4, "iTXt", 4) == 0 &&
          memcmp (d + pos + 8, "Catena-Provenance\0\0\0\0\0", 22) == 0)
        {
          g_assert_false (seen_idat);
          g_assert_false (seen_itxt);  /* only one note, even after re-delivery */
          seen_itxt = TRUE;
        }
      if (memcmp (d + pos + 4, "IDAT", 4) == 0)
        seen_idat = TRUE;
      pos += 12 + n;
    }
  g_assert_cmpuint (pos, ==, len);
  g_assert_true (seen_itxt);
  g_assert_true (catena_image_probe (path, &kind, &w, &h, &error));
  g_assert_no_error (error);
  g_assert_cmpint (kind, ==, CATENA_IMAGE_KIND_PNG);
  g_assert_cmpint (w, ==, 48);
  buffer = catena_image_load (path, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (gegl_buffer_get_extent (buffer)->width, ==, 48);
}

static JsonObject *
read_json (const char *path)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (GError) error = NULL;

  json_parser_load_from_file (parser, path, &error);
  g_assert_no_error (error);
  return json_object_ref (json_node_get_object (json_parser_get_root (parser)));
}

static void
test_refuse_and_override (Fixture *f, gconstpointer data)
{
  g_autoptr (CatenaProject) project = load (f);
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) paths = NULL;
  g_autoptr (CatenaReview) review = NULL;
  g_autofree char *png = g_build_filename (f->out, "mug.png", NULL);
  g_autofree char *sidecar = g_build_filename (f->out, "mug.provenance.json", NULL);
  g_autofree char *note = NULL;
  g_autoptr (JsonObject) prov = NULL;
  g_autoptr (GPtrArray) one = g_ptr_array_new ();
  GListModel *log;
  guint n, n_override = 0, n_deliver = 0;

  /* drafts are refused and nothing is written */
  g_assert_false (catena_deliver_assets (project, NULL, f->out, NULL, NULL, NULL, NULL, NULL,
                                         &error));
  g_assert_error (error, CATENA_REVIEW_ERROR, CATENA_REVIEW_ERROR_NOT_APPROVED);
  g_test_message ("%s", error->message);
  g_clear_error (&error);
  g_assert_cmpuint (count_files (f->out), ==, 0);

  /* an override delivers, and says so in the audit log */
  g_ptr_array_add (one, catena_project_find_asset (project, "mug"));
  g_setenv ("CATENA_USER", "Dana Ops", TRUE);
  g_assert_true (catena_deliver_assets (project, one, f->out, "Client preview, CEO asked",
                                        NULL, NULL, NULL, &paths, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (paths->len, ==, 1);
  g_assert_cmpstr (g_ptr_array_index (paths, 0), ==, png);

  review = catena_review_new_for_project (project, &error);
  log = catena_review_get_log (review);
  n = g_list_model_get_n_items (log);
  for (guint i = 0; i < n; i++)
    {
      g_autoptr (CatenaReviewEntry) e = g_list_model_get_item (log, i);

      if (g_str_equal (catena_review_entry_get_action (e), "override"))
        {
          n_override++;
          g_assert_cmpstr (catena_review_entry_get_text (e), ==, "Client preview, CEO asked");
          g_assert_cmpstr (catena_review_entry_get_asset_id (e), ==, "mug");
          g_assert_cmpstr (catena_review_entry_get_user (e), ==, "Dana Ops");
          g_assert_cmpstr (catena_review_entry_get_from_state (e), ==, "draft");
        }
      if (g_str_equal (catena_review_entry_get_action (e), "deliver"))
        n_deliver++;
    }
  g_assert_cmpuint (n_override, ==, 1);
  g_assert_cmpuint (n_deliver, ==, 1);

  check_png (png);
  note = catena_image_read_text (png, "Catena-Provenance");
  g_assert_nonnull (note);
  g_assert_nonnull (strstr (note, "import(local) > recolor(local) > export(local)"));
  g_assert_nonnull (strstr (note, "mug.provenance.json"));

  prov = read_json (sidecar);
  {
    JsonArray *stages = json_object_get_array_member (prov, "stages");
    g_autofree char *photo = g_build_filename (f->dir, "photo.png", NULL);
    g_autofree char *photo_hash = catena_hash_file (photo, NULL, NULL);
    g_autofree char *file_hash = catena_hash_file (png, NULL, NULL);

    g_assert_cmpuint (json_array_get_length (stages), ==, 3);
    for (guint i = 0; i < 3; i++)
      {
        JsonObject *s = json_array_get_object_element (stages, i);
        g_assert_true (json_object_has_member (s, "kind"));
        g_assert_true (json_object_has_member (s, "id"));
        g_assert_cmpstr (json_object_get_string_member (s, "provider"), ==, "local");
        g_assert_true (json_object_has_member (s, "parameters"));
        g_assert_true (json_object_has_member (s, "seed"));
        g_assert_true (json_object_has_member (s, "cost_usd"));
        g_assert_cmpuint (strlen (json_object_get_string_member (s, "output_key")), ==, 64);
        if (i > 0)
          g_assert_cmpstr (json_object_get_string_member (s, "input_key"), ==,
                           json_object_get_string_member (
                             json_array_get_object_element (stages, i - 1), "output_key"));
      }
    g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (stages, 0),
                                                    "input_key"), ==, photo_hash);
    g_assert_cmpfloat (json_object_get_double_member (
                         json_object_get_object_member (json_array_get_object_element (stages,
                                                                                       1),
                                                        "parameters"),
                         "exposure"), ==, 0.2);
    g_assert_cmpstr (json_object_get_string_member (prov, "file_sha256"), ==, file_hash);
    g_assert_cmpstr (json_object_get_string_member (prov, "override_reason"), ==,
                     "Client preview, CEO asked");
    g_assert_cmpstr (json_object_get_string_member (prov, "delivered_by"), ==, "Dana Ops");
  }
  g_unsetenv ("CATENA_USER");

  /* an empty reason is no override */
  g_assert_false (catena_deliver_assets (project, one, f->out, "  ", NULL, NULL, NULL, NULL,
                                         &error));
  g_assert_error (error, CATENA_REVIEW_ERROR, CATENA_REVIEW_ERROR_EMPTY);
}

static int
cli (char **out, char **err, ...)
{
  const char *driver = g_getenv ("CATENA_CLI_REVIEW_DRIVER");
  g_autoptr (GPtrArray) argv = g_ptr_array_new ();
  g_autoptr (GError) error = NULL;
  va_list ap;
  const char *arg;
  int status;

  g_assert_nonnull (driver);
  g_ptr_array_add (argv, (char *) driver);
  va_start (ap, err);
  while ((arg = va_arg (ap, const char *)))
    g_ptr_array_add (argv, (char *) arg);
  va_end (ap);
  g_ptr_array_add (argv, NULL);
  g_spawn_sync (NULL, (char **) argv->pdata, NULL, G_SPAWN_DEFAULT, NULL, NULL, out, err,
                &status, &error);
  g_assert_no_error (error);
  return WIFEXITED (status) ? WEXITSTATUS (status) : -1;
}

static void
test_cli_approve_export (Fixture *f, gconstpointer data)
{
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autofree char *png = g_build_filename (f->out, "cup.png", NULL);
  int rc;

  /* not approved: refused, exit 1, nothing written */
  rc = cli (&out, &err, "export", f->project_path, "--asset", "cup", "--out", f->out, NULL);
  g_assert_cmpint (rc, ==, 1);
  g_assert_nonnull (strstr (err, "approved"));
  g_assert_false (g_file_test (png, G_FILE_TEST_EXISTS));
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  /* draft → approved directly is refused */
  rc = cli (&out, &err, "review", f->project_path, "--asset", "cup", "--set-state", "approved",
            NULL);
  g_assert_cmpint (rc, ==, 1);
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  rc = cli (&out, &err, "review", f->project_path, "--asset", "cup", "--set-state", "in-review",
            "--comment", "Please check the handle", "--stage", "recolor", "--region",
            "4,4,20,12", "--user", "Eve AD", NULL);
  g_assert_cmpint (rc, ==, 0);
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  rc = cli (&out, &err, "review", f->project_path, "--asset", "cup", "--set-state", "approved",
            "--user", "Finn Brand", NULL);
  g_assert_cmpint (rc, ==, 0);
  g_assert_nonnull (strstr (out, "cup\tapproved\t1"));
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  rc = cli (&out, &err, "review", f->project_path, "--list", "--log", NULL);
  g_assert_cmpint (rc, ==, 0);
  g_assert_nonnull (strstr (out, "Finn Brand state in-review→approved"));
  g_assert_nonnull (strstr (out, "Please check the handle"));
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  rc = cli (&out, &err, "export", f->project_path, "--asset", "cup", "--out", f->out, NULL);
  g_assert_cmpint (rc, ==, 0);
  g_assert_nonnull (strstr (out, png));
  check_png (png);
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  /* the chain changed after the approval: the approval no longer covers the output */
  {
    g_autoptr (CatenaProject) project = load (f);
    g_autoptr (GFile) file = g_file_new_for_path (f->project_path);
    CatenaStage *recolor = catena_chain_find_stage (catena_project_get_chain (project), "recolor",
                                                    NULL);
    g_object_set (recolor, "exposure", 0.5, NULL);
    g_assert_true (catena_project_save (project, file, NULL));
  }
  rc = cli (&out, &err, "export", f->project_path, "--asset", "cup", "--out", f->out, NULL);
  g_assert_cmpint (rc, ==, 1);
  g_assert_nonnull (strstr (err, "changed since it was approved"));
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  /* contact sheet of both assets */
  {
    g_autofree char *pdf = g_build_filename (f->dir, "sheet.pdf", NULL);
    g_autofree char *head = NULL;
    const char *keep = g_getenv ("CATENA_CONTACT_SHEET_KEEP");

    rc = cli (&out, &err, "contact-sheet", f->project_path, "--out", pdf, NULL);
    g_assert_cmpint (rc, ==, 0);
    g_assert_true (g_file_get_contents (pdf, &head, NULL, NULL));
    g_assert_true (g_str_has_prefix (head, "%PDF-"));
    if (keep != NULL)
      {
        g_autoptr (GFile) src = g_file_new_for_path (pdf);
        g_autoptr (GFile) dst = g_file_new_for_path (keep);
        g_file_copy (src, dst, G_FILE_COPY_OVERWRITE, NULL, NULL, NULL, NULL);
      }
  }
}

static void
test_jpeg (Fixture *f, gconstpointer data)
{
  g_autoptr (CatenaProject) project = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *jpg = g_build_filename (f->out, "mug.jpg", NULL);
  g_autofree char *note = NULL;
  g_autoptr (GeglBuffer) buffer = NULL;
  CatenaImageKind kind;
  int w, h;

  write_project (f, "jpeg", 0.1);
  project = load (f);
  g_assert_true (catena_deliver_assets (project, NULL, f->out, "JPEG check", NULL, NULL, NULL,
                                        NULL, &error));
  g_assert_no_error (error);
  /* twice: the note is replaced, not repeated */
  g_assert_true (catena_deliver_assets (project, NULL, f->out, "JPEG check", NULL, NULL, NULL,
                                        NULL, &error));
  g_assert_true (catena_image_probe (jpg, &kind, &w, &h, &error));
  g_assert_no_error (error);
  g_assert_cmpint (kind, ==, CATENA_IMAGE_KIND_JPEG);
  g_assert_cmpint (w, ==, 48);
  buffer = catena_image_load (jpg, NULL, &error);
  g_assert_no_error (error);
  note = catena_image_read_text (jpg, "Catena-Provenance");
  g_assert_nonnull (note);
  g_assert_true (g_str_has_prefix (note, "{\"format\":\"catena-provenance-note/1\""));
  {
    g_autofree char *d = NULL;
    gsize len;
    guint n_com = 0;

    g_assert_true (g_file_get_contents (jpg, &d, &len, NULL));
    for (gsize i = 0; i + 20 < len; i++)
      if ((guchar) d[i] == 0xff && (guchar) d[i + 1] == 0xfe &&
          memcmp (d + i + 4, "Catena-Provenance: ", 19) == 0)
        n_com++;
    g_assert_cmpuint (n_com, ==, 1);
  }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  catena_engine_init ();

  g_test_add ("/deliver/refuse-and-override", Fixture, NULL, fixture_setup,
              test_refuse_and_override, fixture_teardown);
  g_test_add ("/deliver/cli-approve-export", Fixture, NULL, fixture_setup,
              test_cli_approve_export, fixture_teardown);
  g_test_add ("/deliver/jpeg", Fixture, NULL, fixture_setup, test_jpeg, fixture_teardown);
  return g_test_run ();
}
