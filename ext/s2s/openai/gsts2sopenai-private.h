/* gst-s2s
 * Copyright (C) 2026 gst-s2s developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * What dialects of s2sopenai (s2sgrok) share with it: session builders
 * and tolerant JSON accessors for server events.
 */

#ifndef __GST_S2S_OPENAI_PRIVATE_H__
#define __GST_S2S_OPENAI_PRIVATE_H__

#include "gsts2sopenai.h"

G_BEGIN_DECLS

/* "format": {"type": "audio/pcm", "rate": N} or G.711 */
void gst_s2s_openai_add_format (JsonBuilder * b,
    const GstS2SAudioFormat * fmt);
/* "turn_detection": server VAD, semantic VAD or null; @grok leaves out the
 * flags Grok does not document */
void gst_s2s_openai_add_turn_detection (JsonBuilder * b,
    const GstS2SConfig * c, gboolean grok);
/* "tools" as function tools, and "tool_choice": "auto" if @tool_choice */
void gst_s2s_openai_add_tools (JsonBuilder * b, JsonArray * tools,
    gboolean tool_choice);

/* Members of a given JSON type, or NULL / 0 */
const gchar *gst_s2s_openai_str_member (JsonObject * o, const gchar * name);
gint64 gst_s2s_openai_int_member (JsonObject * o, const gchar * name);
JsonObject *gst_s2s_openai_obj_member (JsonObject * o, const gchar * name);

/* The fast path for audio deltas (see gst_s2s_openai_handle_event): what a
 * flat event object carries. Strings are copies (NUL-terminated), NULL when
 * absent; the indexes are -1 when absent; @delta points into the scanned
 * text, not yet checked as base64. */
#define GST_S2S_OPENAI_FAST_ID_MAX 128
typedef struct
{
  const gchar *type;            /* a static string: one of the names taken */
  const gchar *response_id;
  const gchar *item_id;
  const gchar *event_id;
  gint64 output_index;
  gint64 content_index;
  const gchar *delta;
  gsize delta_len;
  /* storage for the ids above */
  gchar response_id_buf[GST_S2S_OPENAI_FAST_ID_MAX];
  gchar item_id_buf[GST_S2S_OPENAI_FAST_ID_MAX];
  gchar event_id_buf[GST_S2S_OPENAI_FAST_ID_MAX];
} GstS2SOpenAIAudioDelta;

/* TRUE when @data is an audio delta event the fast path takes: one JSON
 * object of string and integer members without escapes or duplicate keys,
 * printable ASCII strings, a "type" naming an audio delta and a "delta"
 * string; FALSE for anything else (json-glib then parses it) */
gboolean gst_s2s_openai_scan_audio_delta (const gchar * data, gsize size,
    GstS2SOpenAIAudioDelta * ev);

/* Turns the fast path off (TRUE by default), for tests and benchmarks that
 * compare it with the json-glib path */
void gst_s2s_openai_set_fast_path (GstS2SOpenAI * self, gboolean enabled);

/* Room (with the NUL) the input_audio_buffer.append event carrying @size
 * bytes takes, 0 on overflow */
gsize gst_s2s_openai_append_size (gsize size);

/* Writes that event, NUL-terminated, to @out (gst_s2s_openai_append_size
 * (@size) chars) and returns its length without the NUL */
gsize gst_s2s_openai_write_append (const guint8 * data, gsize size,
    gchar * out);

/* The same in a new string (any size: the caller splits long audio), and
 * its length in @len */
gchar *gst_s2s_openai_build_append (const guint8 * data, gsize size,
    gsize * len);

G_END_DECLS

#endif
