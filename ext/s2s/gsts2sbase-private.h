/* gst-s2s
 * Copyright (C) 2026 gst-s2s developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#ifndef __GST_S2S_BASE_PRIVATE_H__
#define __GST_S2S_BASE_PRIVATE_H__

#include "gsts2sbase.h"

G_BEGIN_DECLS

/* Neutral JSON helpers shared by the base and providers; exposed for the
 * unit tests. */
JsonArray *gst_s2s_parse_tools (const gchar * json, GError ** error);
JsonArray *gst_s2s_parse_history (const gchar * json, GError ** error);

void gst_s2s_config_free (GstS2SConfig * config);

/* A capped store of audio (input held until ready, s2sgemini's unconfirmed
 * input, s2snova's replay): once its bytes and @incoming more would pass
 * @max, its oldest bytes go down to @step under @max (never more than it
 * holds), so what is kept moves once per @step of input, not on every
 * buffer. Returns the bytes dropped (0 while it fits). */
gsize gst_s2s_drop_oldest (GByteArray * store, gsize incoming, gsize max,
    gsize step);

/* Typed members of a server event, NULL/0/FALSE when @o is NULL or the
 * member is missing or of another type. Integers may come as JSON numbers
 * or (protobuf int64) as strings. */
const gchar *gst_s2s_json_string (JsonObject * o, const gchar * name);
gint64 gst_s2s_json_int (JsonObject * o, const gchar * name);
gboolean gst_s2s_json_bool (JsonObject * o, const gchar * name);
JsonObject *gst_s2s_json_object (JsonObject * o, const gchar * name);
JsonArray *gst_s2s_json_array (JsonObject * o, const gchar * name);

/* I/O thread helpers for providers (docs/design.md "I/O threads: a small
 * shared pool"). gst_s2s_base_io_attach() attaches @src with @func, @data
 * and @notify to the element's I/O context, tracked: stopping the element
 * destroys it (and only its own sources); after the stop @notify is called
 * at once and nothing attached. */
void gst_s2s_base_io_attach (GstS2SBase * self, GSource * src,
    GSourceFunc func, gpointer data, GDestroyNotify notify);

/* On the I/O thread: work that outlives the element's stop (Nova's closing
 * flush) holds the thread and a reference to the element until released,
 * on that thread; the stop waits for the holds, at most 2 s, off it. */
typedef struct _GstS2SBaseIoHold GstS2SBaseIoHold;
GstS2SBaseIoHold *gst_s2s_base_io_hold (GstS2SBase * self);
void gst_s2s_base_io_release (GstS2SBaseIoHold * hold);

G_END_DECLS

#endif
