/* gst-s2s benchmark: CPU of s2sopenai's server-event parsing and appends
 * Copyright (C) 2026 gst-s2s developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 *   openai-events deltas [--events N] [--json] [--bytes B]
 *   openai-events appends [--events N] [--glib] [--bytes B]
 *
 * `deltas` feeds N response.output_audio.delta events shaped like the
 * emulator's (json-glib's output: type, event_id, response_id, item_id,
 * output_index, content_index, delta; B bytes of PCM each, default 4800 =
 * 100 ms at 24 kHz) to an s2sopenai element through its private entry point
 * (as the I/O thread does; the fuzz targets use the same one), with the
 * audio-delta fast path, or with --json through json-glib, the path every
 * delta took before it. The element is not started: the audio is decoded
 * and queued for the src pad as in a session, nothing is sent.
 *
 * `appends` builds N input_audio_buffer.append texts of B bytes (default
 * 960 = 20 ms) as the element does (gst_s2s_openai_build_append), or with
 * --glib as it did before (g_base64_encode_step into the same buffer).
 *
 * Meant for instruction counts: the work is in bench_deltas() /
 * bench_appends(), so
 *   valgrind --tool=callgrind --collect-atstart=no \
 *     --toggle-collect=bench_deltas build/tests/bench/openai-events deltas
 * counts only it (docs/performance.md). Events are built before.
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <string.h>
#include <stdlib.h>
#include <gst/gst.h>
#include <json-glib/json-glib.h>
#include "gsts2selements.h"
#include "openai/gsts2sopenai.h"
#include "openai/gsts2sopenai-private.h"

static gchar **
make_deltas (guint n, gsize bytes)
{
  gchar **events = g_new0 (gchar *, n + 1);
  guint8 *pcm = g_malloc (bytes);
  GRand *rand = g_rand_new_with_seed (1);
  guint i;
  gsize j;

  for (i = 0; i < n; i++) {
    JsonObject *o = json_object_new ();
    JsonNode *root = json_node_new (JSON_NODE_OBJECT);
    gchar *id = g_strdup_printf ("event_%u", 1000 + i);
    gchar *b64;

    for (j = 0; j < bytes; j++)
      pcm[j] = g_rand_int (rand);
    b64 = g_base64_encode (pcm, bytes);
    json_object_set_string_member (o, "type", "response.output_audio.delta");
    json_object_set_string_member (o, "event_id", id);
    json_object_set_string_member (o, "response_id",
        "resp_CmYmXEKgBnVyQGqfEAVR1");
    json_object_set_string_member (o, "item_id", "item_CmYmXGjm0yjlUbSRXiWQr");
    json_object_set_int_member (o, "output_index", 0);
    json_object_set_int_member (o, "content_index", 0);
    json_object_set_string_member (o, "delta", b64);
    json_node_take_object (root, o);
    events[i] = json_to_string (root, FALSE);
    json_node_unref (root);
    g_free (b64);
    g_free (id);
  }
  g_rand_free (rand);
  g_free (pcm);
  return events;
}

G_GNUC_NO_INLINE void bench_deltas (GstS2SOpenAI * element, gchar ** events);
G_GNUC_NO_INLINE void bench_appends (const guint8 * pcm, gsize bytes, guint n,
    gboolean glib);

void
bench_deltas (GstS2SOpenAI * element, gchar ** events)
{
  guint i;

  for (i = 0; events[i]; i++)
    gst_s2s_openai_handle_event (element, events[i], strlen (events[i]));
}

/* what gst_s2s_openai_send_audio did before the codec of gsts2sbase64.c */
static gchar *
build_append_glib (const guint8 * data, gsize n, gsize * out_len)
{
  static const gchar prefix[] =
      "{\"type\":\"input_audio_buffer.append\",\"audio\":\"";
  gsize b64 = (n / 3 + 1) * 4 + 4;
  gsize len = sizeof (prefix) - 1;
  gchar *text = g_malloc (len + b64 + 3);
  gint state = 0, save = 0;

  memcpy (text, prefix, len);
  len += g_base64_encode_step (data, n, FALSE, text + len, &state, &save);
  len += g_base64_encode_close (FALSE, text + len, &state, &save);
  text[len++] = '"';
  text[len++] = '}';
  text[len] = '\0';
  *out_len = len;
  return text;
}

void
bench_appends (const guint8 * pcm, gsize bytes, guint n, gboolean glib)
{
  guint i;
  gsize len, total = 0;

  for (i = 0; i < n; i++) {
    gchar *text = glib ? build_append_glib (pcm, bytes, &len) :
        gst_s2s_openai_build_append (pcm, bytes, &len);
    total += len + (guchar) text[len / 2];
    g_free (text);
  }
  if (total == 0)
    g_printerr ("nothing built\n");
}

int
main (int argc, char **argv)
{
  guint n = 1000;
  gsize bytes = 0;
  gboolean json = FALSE, glib = FALSE;
  const gchar *mode;
  gint i;

  gst_init (&argc, &argv);
  if (argc < 2) {
    g_printerr ("usage: %s deltas|appends [--events N] [--bytes B] "
        "[--json] [--glib]\n", argv[0]);
    return 2;
  }
  mode = argv[1];
  for (i = 2; i < argc; i++) {
    if (g_str_equal (argv[i], "--events") && i + 1 < argc)
      n = atoi (argv[++i]);
    else if (g_str_equal (argv[i], "--bytes") && i + 1 < argc)
      bytes = atoi (argv[++i]);
    else if (g_str_equal (argv[i], "--json"))
      json = TRUE;
    else if (g_str_equal (argv[i], "--glib"))
      glib = TRUE;
  }

  if (g_str_equal (mode, "deltas")) {
    gchar **events = make_deltas (n, bytes ? bytes : 4800);
    GstElement *element;
    gint64 t0;

    GST_ELEMENT_REGISTER (s2sopenai, NULL);
    element = gst_element_factory_make ("s2sopenai", NULL);
    gst_s2s_openai_set_fast_path (GST_S2S_OPENAI (element), !json);
    t0 = g_get_monotonic_time ();
    bench_deltas (GST_S2S_OPENAI (element), events);
    g_print ("%u deltas of %zu bytes (%s): %.2f us each\n", n,
        strlen (events[0]), json ? "json-glib" : "fast path",
        (g_get_monotonic_time () - t0) / (double) n);
    gst_object_unref (element);
    g_strfreev (events);
  } else if (g_str_equal (mode, "appends")) {
    guint8 *pcm;
    gsize j;
    gint64 t0;

    bytes = bytes ? bytes : 960;
    pcm = g_malloc (bytes);
    for (j = 0; j < bytes; j++)
      pcm[j] = j * 7;
    t0 = g_get_monotonic_time ();
    bench_appends (pcm, bytes, n, glib);
    g_print ("%u appends of %zu bytes (%s): %.2f us each\n", n, bytes,
        glib ? "GLib base64" : "gsts2sbase64",
        (g_get_monotonic_time () - t0) / (double) n);
    g_free (pcm);
  } else {
    g_printerr ("unknown mode %s\n", mode);
    return 2;
  }
  return 0;
}
