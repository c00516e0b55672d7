/* gst-s2s
 * Copyright (C) 2026 gst-s2s developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The differential check of s2sopenai's audio-delta fast path, shared by
 * the fuzz targets and the unit test: whatever the fast scanner and the
 * strict base64 decoder take must read the same through json-glib and
 * GLib's base64 (the path every other event takes): same type, ids,
 * indexes and audio bytes. A disagreement aborts.
 */

#ifndef __S2S_OPENAI_DELTA_DIFF_H__
#define __S2S_OPENAI_DELTA_DIFF_H__

#include <string.h>
#include <json-glib/json-glib.h>
#include "gsts2sbase64.h"
#include "openai/gsts2sopenai-private.h"

static inline void
openai_delta_diff_index (JsonObject * o, const gchar * name, gint64 fast)
{
  JsonNode *n = json_object_get_member (o, name);

  if (n == NULL) {
    if (fast != -1)
      g_error ("fast path: %s %" G_GINT64_FORMAT ", json-glib: none", name,
          fast);
    return;
  }
  if (!JSON_NODE_HOLDS_VALUE (n) || json_node_get_value_type (n) !=
      G_TYPE_INT64 || json_node_get_int (n) != fast)
    g_error ("fast path: %s %" G_GINT64_FORMAT ", json-glib differs", name,
        fast);
}

static inline void
openai_delta_diff_str (JsonObject * o, const gchar * name, const gchar * fast)
{
  const gchar *ref = gst_s2s_openai_str_member (o, name);

  if (g_strcmp0 (ref, fast) != 0)
    g_error ("fast path: %s \"%s\", json-glib \"%s\"", name,
        GST_STR_NULL (fast), GST_STR_NULL (ref));
}

/* Returns TRUE when the fast path takes @data (scanner and decoder) */
static inline gboolean
openai_delta_differential (const gchar * data, gsize size)
{
  GstS2SOpenAIAudioDelta ev;
  JsonParser *parser;
  JsonNode *root;
  JsonObject *o;
  const gchar *ref_delta;
  guint8 *fast;
  guchar *ref;
  gsize fast_len = 0, ref_len = 0;
  gboolean decoded;

  if (!gst_s2s_openai_scan_audio_delta (data, size, &ev))
    return FALSE;
  fast = g_malloc (gst_s2s_base64_decoded_max (ev.delta_len) + 1);
  decoded = gst_s2s_base64_decode (ev.delta, ev.delta_len, fast, &fast_len);
  if (!decoded || ev.delta_len < 4) {
    /* the element falls back to json-glib: nothing to compare */
    g_free (fast);
    return FALSE;
  }

  parser = json_parser_new ();
  if (!json_parser_load_from_data (parser, data, size, NULL))
    g_error ("fast path took an event json-glib refuses: %.*s",
        (int) MIN (size, 200), data);
  root = json_parser_get_root (parser);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    g_error ("fast path took an event that is not an object");
  o = json_node_get_object (root);
  openai_delta_diff_str (o, "type", ev.type);
  openai_delta_diff_str (o, "response_id", ev.response_id);
  openai_delta_diff_str (o, "item_id", ev.item_id);
  openai_delta_diff_str (o, "event_id", ev.event_id);
  openai_delta_diff_index (o, "output_index", ev.output_index);
  openai_delta_diff_index (o, "content_index", ev.content_index);

  ref_delta = gst_s2s_openai_str_member (o, "delta");
  if (ref_delta == NULL || strlen (ref_delta) != ev.delta_len ||
      memcmp (ref_delta, ev.delta, ev.delta_len) != 0)
    g_error ("fast path and json-glib read different deltas");
  ref = g_base64_decode (ref_delta, &ref_len);
  if (ref_len != fast_len || memcmp (ref, fast, fast_len) != 0)
    g_error ("fast path decoded %" G_GSIZE_FORMAT " bytes, GLib %"
        G_GSIZE_FORMAT " (or other bytes)", fast_len, ref_len);
  g_free (ref);
  g_free (fast);
  g_object_unref (parser);
  return TRUE;
}

#endif
