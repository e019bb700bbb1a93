/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <cairo-pdf.h>
#include <cairo.h>
#include <glib/gi18n-lib.h>
#include <errno.h>
#include <glib/gstdio.h>
#include <math.h>
#include <string.h>

#include "catena-error.h"
#include "catena-image-io.h"
#include "catena-review.h"
#include "catena-runner.h"

/* A PDF for reviewers outside the app: one A4 landscape page per asset with the final image,
 * every stage's intermediate as a strip (so "the cut-out ate the handle" is visible without
 * Catena), the review state and the comments with their regions drawn on the stage they
 * belong to. Only the cache is read: making a contact sheet never spends money. */

#define PAGE_W   841.89   /* A4 landscape, points */
#define PAGE_H   595.28
#define MARGIN   32.0
#define HERO     300.0
#define STRIP_H  86.0
#define RENDER_SCALE 2.0  /* thumbnails at 2 px per point: sharp when printed */

static void
state_color (CatenaReviewState state,
             double            rgb[3])
{
  static const double colors[][3] = {
    { 0.55, 0.55, 0.55 },  /* draft */
    { 0.11, 0.44, 0.85 },  /* in review */
    { 0.90, 0.57, 0.00 },  /* changes requested */
    { 0.15, 0.60, 0.30 },  /* approved */
    { 0.80, 0.15, 0.15 },  /* rejected */
  };

  memcpy (rgb, colors[MIN ((guint) state, G_N_ELEMENTS (colors) - 1)], sizeof colors[0]);
}

static void
checkerboard (cairo_t *cr,
              double   x,
              double   y,
              double   w,
              double   h)
{
  const double cell = 6;

  cairo_save (cr);
  cairo_rectangle (cr, x, y, w, h);
  cairo_clip (cr);
  cairo_set_source_rgb (cr, 1, 1, 1);
  cairo_paint (cr);
  cairo_set_source_rgb (cr, 0.88, 0.88, 0.88);
  for (double cy = y; cy < y + h; cy += cell)
    for (double cx = x + (fmod ((cy - y) / cell, 2) >= 1 ? cell : 0); cx < x + w; cx += 2 * cell)
      cairo_rectangle (cr, cx, cy, cell, cell);
  cairo_fill (cr);
  cairo_restore (cr);
}

/* Draws buffer fitted into the box (centred); returns the scale from buffer pixels to points
 * and where the image landed, for region marks. */
static double
draw_buffer (cairo_t     *cr,
             GeglBuffer  *buffer,
             double       bx,
             double       by,
             double       bw,
             double       bh,
             double      *ox,
             double      *oy)
{
  const GeglRectangle *e = gegl_buffer_get_extent (buffer);
  double fit = MIN (bw / e->width, bh / e->height);
  double px_scale = MIN (1.0, fit * RENDER_SCALE);
  int w = MAX (1, (int) floor (e->width * px_scale)), h = MAX (1, (int) floor (e->height * px_scale));
  int stride = cairo_format_stride_for_width (CAIRO_FORMAT_ARGB32, w);
  g_autofree guchar *pixels = g_malloc ((gsize) stride * h);
  cairo_surface_t *surface;
  double dw = e->width * fit, dh = e->height * fit;
  double x = bx + (bw - dw) / 2, y = by + (bh - dh) / 2;

  /* Converted here rather than by babl's "cairo-ARGB32": stage outputs may hold values above
   * 1 (exposure), and that path wraps them instead of clamping (seen as green coffee). */
  {
    g_autofree float *f = g_new (float, (gsize) w * h * 4);

    gegl_buffer_get (buffer,
                     GEGL_RECTANGLE ((int) floor (e->x * px_scale), (int) floor (e->y * px_scale),
                                     w, h),
                     px_scale, babl_format (CATENA_WORK_FORMAT), f, GEGL_AUTO_ROWSTRIDE,
                     GEGL_ABYSS_CLAMP);
    for (int row = 0; row < h; row++)
      {
        guint32 *dst = (guint32 *) (void *) (pixels + (gsize) row * stride);
        const float *src = f + (gsize) row * w * 4;

        for (int col = 0; col < w; col++, src += 4)
          {
            float a = CLAMP (src[3], 0.0f, 1.0f);
            guint32 r = (guint32) lroundf (CLAMP (src[0], 0.0f, 1.0f) * a * 255);
            guint32 g = (guint32) lroundf (CLAMP (src[1], 0.0f, 1.0f) * a * 255);
            guint32 b = (guint32) lroundf (CLAMP (src[2], 0.0f, 1.0f) * a * 255);

            dst[col] = (guint32) lroundf (a * 255) << 24 | r << 16 | g << 8 | b;
          }
      }
  }
  surface = cairo_image_surface_create_for_data (pixels, CAIRO_FORMAT_ARGB32, w, h, stride);

  checkerboard (cr, x, y, dw, dh);
  cairo_save (cr);
  cairo_translate (cr, x, y);
  cairo_scale (cr, dw / w, dh / h);
  cairo_set_source_surface (cr, surface, 0, 0);
  cairo_pattern_set_filter (cairo_get_source (cr), CAIRO_FILTER_GOOD);
  cairo_paint (cr);
  cairo_restore (cr);
  cairo_surface_finish (surface);  /* the PDF has copied the pixels: they may go now */
  cairo_surface_destroy (surface);

  cairo_set_source_rgb (cr, 0.75, 0.75, 0.75);
  cairo_set_line_width (cr, 0.5);
  cairo_rectangle (cr, x, y, dw, dh);
  cairo_stroke (cr);
  if (ox)
    *ox = x - e->x * fit;
  if (oy)
    *oy = y - e->y * fit;
  return fit;
}

static void
draw_empty_cell (cairo_t    *cr,
             double      x,
             double      y,
             double      w,
             double      h,
             const char *text)
{
  cairo_text_extents_t ext;

  cairo_set_source_rgb (cr, 0.95, 0.95, 0.95);
  cairo_rectangle (cr, x, y, w, h);
  cairo_fill_preserve (cr);
  cairo_set_source_rgb (cr, 0.75, 0.75, 0.75);
  cairo_set_line_width (cr, 0.5);
  cairo_stroke (cr);
  cairo_set_source_rgb (cr, 0.45, 0.45, 0.45);
  cairo_set_font_size (cr, 8);
  cairo_text_extents (cr, text, &ext);
  cairo_move_to (cr, x + (w - ext.width) / 2, y + h / 2 + 3);
  cairo_show_text (cr, text);
}

/* Word-wrapped text; returns the y below it. Stops at max_y with an ellipsis. */
static double
draw_wrapped (cairo_t    *cr,
              const char *text,
              double      x,
              double      y,
              double      width,
              double      line_h,
              double      max_y)
{
  g_auto (GStrv) words = g_strsplit_set (text, " \n\t", -1);
  g_autoptr (GString) line = g_string_new (NULL);

  for (guint i = 0; words[i] != NULL; i++)
    {
      g_autofree char *candidate = NULL;
      cairo_text_extents_t ext;

      if (words[i][0] == '\0')
        continue;
      candidate = line->len ? g_strconcat (line->str, " ", words[i], NULL) : g_strdup (words[i]);
      cairo_text_extents (cr, candidate, &ext);
      if (ext.x_advance > width && line->len > 0)
        {
          if (y + line_h > max_y)
            {
              g_string_append (line, " …");
              break;
            }
          cairo_move_to (cr, x, y);
          cairo_show_text (cr, line->str);
          y += line_h;
          g_string_assign (line, words[i]);
        }
      else
        g_string_assign (line, candidate);
    }
  if (line->len > 0)
    {
      cairo_move_to (cr, x, y);
      cairo_show_text (cr, line->str);
      y += line_h;
    }
  return y;
}

static void
draw_region_marks (cairo_t    *cr,
                   GListModel *comments,
                   const char *stage_id,
                   double      scale,
                   double      ox,
                   double      oy)
{
  guint n = g_list_model_get_n_items (comments);

  for (guint i = 0; i < n; i++)
    {
      g_autoptr (CatenaReviewComment) c = g_list_model_get_item (comments, i);
      int x, y, w, h;
      g_autofree char *label = NULL;

      if (g_strcmp0 (catena_review_comment_get_stage_id (c), stage_id) != 0 ||
          !catena_review_comment_get_region (c, &x, &y, &w, &h))
        continue;
      cairo_set_source_rgb (cr, 0.90, 0.10, 0.35);
      cairo_set_line_width (cr, 1.2);
      cairo_rectangle (cr, ox + x * scale, oy + y * scale, MAX (2, w * scale), MAX (2, h * scale));
      cairo_stroke (cr);
      label = g_strdup_printf ("%u", i + 1);
      cairo_set_font_size (cr, 7);
      cairo_move_to (cr, ox + x * scale + 1.5, oy + y * scale + 7.5);
      cairo_show_text (cr, label);
    }
}

static gboolean
draw_asset_page (cairo_t       *cr,
                 CatenaProject *project,
                 CatenaReview  *review,
                 CatenaAsset   *asset,
                 GCancellable  *cancellable,
                 GError       **error)
{
  CatenaChain *chain = catena_project_get_chain (project);
  CatenaCache *cache = catena_cache_get_default ();
  guint n_stages = catena_chain_get_n_stages (chain);
  g_autofree char *base = catena_project_dup_base_dir (project);
  g_auto (GStrv) keys = NULL;
  g_autoptr (GError) key_error = NULL;
  const char *id = catena_asset_get_id (asset);
  CatenaReviewState state = catena_review_get_state (review, id);
  GListModel *comments = catena_review_get_comments (review, id);
  GListModel *log = catena_review_get_log (review);
  double rgb[3], y, cell_w, strip_y, text_x;
  cairo_text_extents_t ext;
  int final_index = -1;
  g_autofree char *title = NULL;
  g_autofree char *badge = NULL;

  /* A missing photo must not stop the sheet: the page says so instead. */
  keys = catena_chain_compute_keys (chain, asset, base, cancellable, &key_error);
  if (keys == NULL && g_error_matches (key_error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    {
      g_propagate_error (error, g_steal_pointer (&key_error));
      return FALSE;
    }

  /* Header */
  cairo_set_source_rgb (cr, 0.1, 0.1, 0.1);
  cairo_select_font_face (cr, "Sans", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_BOLD);
  cairo_set_font_size (cr, 16);
  title = g_strdup_printf ("%s  (%s)", catena_asset_get_name (asset) ? catena_asset_get_name (asset)
                                                                     : id, id);
  cairo_move_to (cr, MARGIN, MARGIN + 12);
  cairo_show_text (cr, title);
  state_color (state, rgb);
  {
    const char *approved_key = catena_review_get_approved_key (review, id);

    /* an approval given for an output the chain no longer makes does not count */
    if (approved_key != NULL && keys != NULL && n_stages > 0 &&
        g_strcmp0 (approved_key, keys[n_stages - 1]) != 0)
      {
        badge = g_strdup (_("Approved (outdated: the chain changed)"));
        rgb[0] = 0.90, rgb[1] = 0.57, rgb[2] = 0.0;
      }
  }
  if (badge == NULL)
    badge = g_strdup (catena_review_state_get_title (state));
  cairo_set_font_size (cr, 10);
  cairo_text_extents (cr, badge, &ext);
  cairo_set_source_rgb (cr, rgb[0], rgb[1], rgb[2]);
  cairo_rectangle (cr, PAGE_W - MARGIN - ext.x_advance - 16, MARGIN - 2, ext.x_advance + 16, 18);
  cairo_fill (cr);
  cairo_set_source_rgb (cr, 1, 1, 1);
  cairo_move_to (cr, PAGE_W - MARGIN - ext.x_advance - 8, MARGIN + 11);
  cairo_show_text (cr, badge);

  cairo_select_font_face (cr, "Sans", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
  cairo_set_font_size (cr, 8.5);
  cairo_set_source_rgb (cr, 0.35, 0.35, 0.35);
  {
    g_autofree char *sub = g_strdup_printf (
      _("%s · class %s · %u stages"),
      catena_project_get_name (project) ? catena_project_get_name (project) : _("Untitled"),
      catena_asset_class_to_string (catena_asset_get_asset_class (asset)), n_stages);
    cairo_move_to (cr, MARGIN, MARGIN + 26);
    cairo_show_text (cr, sub);
  }

  /* Final image: the last stage with a cached output */
  y = MARGIN + 40;
  for (int i = (int) n_stages - 1; keys != NULL && i >= 0 && final_index < 0; i--)
    if (catena_cache_contains (cache, keys[i]))
      final_index = i;
  {
    g_autoptr (GeglBuffer) final = final_index >= 0
                                     ? catena_cache_lookup (cache, keys[final_index], NULL)
                                     : NULL;
    if (final != NULL)
      draw_buffer (cr, final, MARGIN, y, HERO, HERO, NULL, NULL);
    else
      draw_empty_cell (cr, MARGIN, y, HERO, HERO,
                   keys == NULL ? _("source photo missing") : _("not run yet"));
  }

  /* Comments, right of the final image */
  text_x = MARGIN + HERO + 20;
  {
    double ty = y + 8, max_y = y + HERO;
    guint n = g_list_model_get_n_items (comments);

    cairo_select_font_face (cr, "Sans", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_BOLD);
    cairo_set_font_size (cr, 10);
    cairo_set_source_rgb (cr, 0.1, 0.1, 0.1);
    cairo_move_to (cr, text_x, ty);
    cairo_show_text (cr, n ? _("Comments") : _("No comments"));
    ty += 16;
    for (guint i = 0; i < n && ty < max_y; i++)
      {
        g_autoptr (CatenaReviewComment) c = g_list_model_get_item (comments, i);
        g_autofree char *head = NULL;
        const char *stage = catena_review_comment_get_stage_id (c);
        int rx, ry, rw, rh;

        if (catena_review_comment_get_region (c, &rx, &ry, &rw, &rh))
          head = g_strdup_printf ("%u. %s — %s, %s (%d,%d %d×%d)", i + 1,
                                  catena_review_comment_get_author (c),
                                  catena_review_comment_get_time (c), stage, rx, ry, rw, rh);
        else
          head = g_strdup_printf ("%u. %s — %s%s%s", i + 1, catena_review_comment_get_author (c),
                                  catena_review_comment_get_time (c), stage ? ", " : "",
                                  stage ? stage : "");
        cairo_select_font_face (cr, "Sans", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_BOLD);
        cairo_set_font_size (cr, 8);
        cairo_set_source_rgb (cr, 0.25, 0.25, 0.25);
        ty = draw_wrapped (cr, head, text_x, ty, PAGE_W - MARGIN - text_x, 10, max_y);
        cairo_select_font_face (cr, "Sans", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
        cairo_set_font_size (cr, 9);
        cairo_set_source_rgb (cr, 0.1, 0.1, 0.1);
        ty = draw_wrapped (cr, catena_review_comment_get_text (c), text_x + 8, ty,
                           PAGE_W - MARGIN - text_x - 8, 11, max_y) + 5;
      }

    /* the latest state changes, for "who approved this?" */
    ty = MAX (ty, y + HERO - 60);
    cairo_select_font_face (cr, "Sans", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
    cairo_set_font_size (cr, 7.5);
    cairo_set_source_rgb (cr, 0.4, 0.4, 0.4);
    for (guint i = g_list_model_get_n_items (log), shown = 0; i > 0 && shown < 4; i--)
      {
        g_autoptr (CatenaReviewEntry) e = g_list_model_get_item (log, i - 1);
        g_autofree char *line = NULL;

        if (g_strcmp0 (catena_review_entry_get_asset_id (e), id) != 0 ||
            g_str_equal (catena_review_entry_get_action (e), "comment"))
          continue;
        if (g_str_equal (catena_review_entry_get_action (e), "state"))
          line = g_strdup_printf (_("%s  %s: %s → %s"), catena_review_entry_get_time (e),
                                  catena_review_entry_get_user (e),
                                  catena_review_entry_get_from_state (e),
                                  catena_review_entry_get_to_state (e));
        else
          line = g_strdup_printf ("%s  %s: %s %s", catena_review_entry_get_time (e),
                                  catena_review_entry_get_user (e),
                                  catena_review_entry_get_action (e),
                                  catena_review_entry_get_text (e) ? catena_review_entry_get_text (e)
                                                                   : "");
        cairo_move_to (cr, text_x, y + HERO - 4 - 10.0 * shown);
        cairo_show_text (cr, line);
        shown++;
      }
  }

  /* Stage strip */
  strip_y = y + HERO + 22;
  cell_w = n_stages ? MIN (130.0, (PAGE_W - 2 * MARGIN) / n_stages) : 0;
  for (guint i = 0; i < n_stages; i++)
    {
      CatenaStage *stage = catena_chain_get_stage (chain, i);
      double cx = MARGIN + i * cell_w;
      g_autoptr (GeglBuffer) buffer = NULL;
      g_autofree char *caption = NULL;
      const char *provider = catena_stage_get_provider (stage);
      const char *model = catena_stage_get_model (stage);

      if (g_cancellable_set_error_if_cancelled (cancellable, error))
        return FALSE;
      if (keys != NULL)
        buffer = catena_cache_lookup (cache, keys[i], NULL);
      if (buffer != NULL)
        {
          double ox, oy;
          double scale = draw_buffer (cr, buffer, cx + 2, strip_y, cell_w - 6, STRIP_H, &ox, &oy);
          draw_region_marks (cr, comments, catena_stage_get_id (stage), scale, ox, oy);
        }
      else
        draw_empty_cell (cr, cx + 2, strip_y, cell_w - 6, STRIP_H, _("not run"));

      cairo_select_font_face (cr, "Sans", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_BOLD);
      cairo_set_font_size (cr, 8);
      cairo_set_source_rgb (cr, 0.1, 0.1, 0.1);
      caption = g_strdup_printf ("%u. %s", i + 1, catena_stage_get_title (stage));
      draw_wrapped (cr, caption, cx + 2, strip_y + STRIP_H + 11, cell_w - 6, 10,
                    strip_y + STRIP_H + 12);
      cairo_select_font_face (cr, "Sans", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
      cairo_set_font_size (cr, 7);
      cairo_set_source_rgb (cr, 0.4, 0.4, 0.4);
      g_free (caption);
      caption = g_strdup_printf ("%s%s%s", provider && provider[0] ? provider : "local",
                                 model && model[0] ? " · " : "", model ? model : "");
      draw_wrapped (cr, caption, cx + 2, strip_y + STRIP_H + 21, cell_w - 6, 9,
                    strip_y + STRIP_H + 31);
    }

  /* Footer */
  {
    g_autofree char *now = catena_review_now_iso8601 ();
    g_autofree char *footer = g_strdup_printf (_("Catena contact sheet · generated %s"), now);

    cairo_set_font_size (cr, 7);
    cairo_set_source_rgb (cr, 0.5, 0.5, 0.5);
    cairo_move_to (cr, MARGIN, PAGE_H - MARGIN / 2);
    cairo_show_text (cr, footer);
  }
  return TRUE;
}

gboolean
catena_contact_sheet_write (CatenaProject *project,
                            GPtrArray     *assets,
                            const char    *pdf_path,
                            GCancellable  *cancellable,
                            GError       **error)
{
  g_autoptr (CatenaReview) review = NULL;
  g_autoptr (GPtrArray) selected = NULL;
  g_autofree char *dir = NULL;
  g_autofree char *base = NULL;
  g_autofree char *tmp = NULL;
  cairo_surface_t *surface;
  cairo_t *cr;
  cairo_status_t status;
  gboolean ok = TRUE;

  g_return_val_if_fail (CATENA_IS_PROJECT (project), FALSE);
  g_return_val_if_fail (pdf_path != NULL, FALSE);

  if (!(review = catena_review_new_for_project (project, error)))
    return FALSE;
  selected = catena_project_select_assets (project, assets);
  if (selected->len == 0)
    {
      g_set_error (error, CATENA_REVIEW_ERROR, CATENA_REVIEW_ERROR_FAILED,
                   _("There are no assets to put on a contact sheet."));
      return FALSE;
    }

  /* Written next to the target and renamed: a failed sheet never replaces a good one. */
  dir = g_path_get_dirname (pdf_path);
  base = g_path_get_basename (pdf_path);
  tmp = g_strdup_printf ("%s/.%s.%u.tmp", dir, base, g_random_int ());
  surface = cairo_pdf_surface_create (tmp, PAGE_W, PAGE_H);
  if (cairo_surface_status (surface) != CAIRO_STATUS_SUCCESS)
    {
      g_autofree char *name = g_filename_display_name (pdf_path);
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED,
                   _("Cannot write the contact sheet “%s”: %s"), name,
                   cairo_status_to_string (cairo_surface_status (surface)));
      cairo_surface_destroy (surface);
      return FALSE;
    }
  cairo_pdf_surface_set_metadata (surface, CAIRO_PDF_METADATA_TITLE,
                                  catena_project_get_name (project)
                                    ? catena_project_get_name (project) : "Catena");
  cairo_pdf_surface_set_metadata (surface, CAIRO_PDF_METADATA_CREATOR, "Catena " PACKAGE_VERSION);
  cr = cairo_create (surface);
  for (guint i = 0; i < selected->len && ok; i++)
    {
      cairo_save (cr);
      ok = draw_asset_page (cr, project, review, g_ptr_array_index (selected, i), cancellable, error);
      cairo_restore (cr);
      cairo_show_page (cr);
    }
  cairo_destroy (cr);
  cairo_surface_finish (surface);
  status = cairo_surface_status (surface);
  cairo_surface_destroy (surface);

  if (ok && status != CAIRO_STATUS_SUCCESS)
    {
      g_autofree char *name = g_filename_display_name (pdf_path);
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED,
                   _("Cannot write the contact sheet “%s”: %s"), name,
                   cairo_status_to_string (status));
      ok = FALSE;
    }
  if (ok && g_rename (tmp, pdf_path) != 0)
    {
      int saved = errno;
      g_autofree char *name = g_filename_display_name (pdf_path);
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved),
                   _("Cannot write the contact sheet “%s”: %s"), name, g_strerror (saved));
      ok = FALSE;
    }
  if (!ok)
    g_unlink (tmp);
  return ok;
}
