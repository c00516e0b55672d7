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

G_END_DECLS

#endif
