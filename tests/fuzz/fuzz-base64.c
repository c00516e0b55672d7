/* gst-s2s
 * Copyright (C) 2026 gst-s2s developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * libFuzzer target for the base64 codec (ext/s2s/gsts2sbase64.c), against
 * GLib's: the input encoded by both must match and decode back; the input
 * read as base64 text must either be refused or decode as GLib decodes it
 * and re-encode to itself (only canonical text is accepted). Aborts on any
 * difference.
 */

#include <string.h>
#include <stdint.h>
#include <glib.h>
#include "gsts2sbase64.h"

int LLVMFuzzerTestOneInput (const uint8_t * data, size_t size);

static void
check_encode (const uint8_t * data, size_t size)
{
  gsize n = gst_s2s_base64_encoded_size (size), len, back_len;
  gchar *ours = g_malloc (n + 1);
  gchar *ref = g_base64_encode (data, size);
  guint8 *back;

  len = gst_s2s_base64_encode (data, size, ours);
  if (len != n || strlen (ref) != len || memcmp (ours, ref, len) != 0)
    g_error ("encoding %" G_GSIZE_FORMAT " bytes differs from GLib", size);
  back = g_malloc (gst_s2s_base64_decoded_max (len) + 1);
  if (!gst_s2s_base64_decode (ours, len, back, &back_len) ||
      back_len != size || memcmp (back, data, size) != 0)
    g_error ("%" G_GSIZE_FORMAT " bytes do not round-trip", size);
  g_free (back);
  g_free (ref);
  g_free (ours);
}

static void
check_decode (const uint8_t * data, size_t size)
{
  guint8 *ours = g_malloc (gst_s2s_base64_decoded_max (size) + 1);
  gsize len;

  if (gst_s2s_base64_decode ((const gchar *) data, size, ours, &len)) {
    gchar *text = g_strndup ((const gchar *) data, size);
    gsize ref_len = 0;
    guchar *ref = g_base64_decode (text, &ref_len);
    gchar *again = g_malloc (gst_s2s_base64_encoded_size (len) + 1);

    if (size > 0 && (ref_len != len || memcmp (ref, ours, len) != 0))
      g_error ("accepted text decodes differently from GLib");
    if (gst_s2s_base64_encode (ours, len, again) != size ||
        memcmp (again, data, size) != 0)
      g_error ("accepted text is not canonical");
    g_free (again);
    g_free (ref);
    g_free (text);
  }
  /* in place, as the decoder allows */
  {
    gchar *copy = g_memdup2 (data, size);
    gsize len2;
    gboolean ok = gst_s2s_base64_decode (copy, size, (guint8 *) copy, &len2);

    if (ok && (len2 != len || (len > 0 && memcmp (copy, ours, len) != 0)))
      g_error ("in-place decoding differs");
    g_free (copy);
  }
  g_free (ours);
}

int
LLVMFuzzerTestOneInput (const uint8_t * data, size_t size)
{
  check_encode (data, size);
  check_decode (data, size);
  return 0;
}
