/* gst-s2s
 * Copyright (C) 2026 gst-s2s developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/* The one compiled piece of the contract between the s2s elements
 * (ext/s2s, GstS2SBase) and the s2s tracer (gst/s2stracers): what the
 * tracer's "attach" action signal returns. Header only: neither side
 * links the other's code (docs/observability.md, "How the tracer finds
 * the elements").
 *
 * While traced, the element hands every element message posted on it
 * (its own and any other poster's) to @message, in the posting thread,
 * before the message goes up to its bin and the bus: the same message and
 * fields the application sees, without the bus's "sync-message" emission,
 * which costs every message of the pipeline a GLib signal emission. */

#ifndef __GST_S2S_TRACE_SINK_H__
#define __GST_S2S_TRACE_SINK_H__

#include <gst/gst.h>

G_BEGIN_DECLS

/* @session: GstS2STraceSink.session; @message: an element message of the
 * element, valid for the call (not reffed) */
typedef void (*GstS2STraceMessageFunc) (gpointer session,
    GstMessage * message);

typedef struct
{
  /* sizeof (GstS2STraceSink) on the tracer's side: the element ignores
   * a sink of another size (an element and a tracer of other builds) */
  gsize size;
  GstS2STraceMessageFunc message;
  /* the tracer's figures of this element: valid as long as the element
   * (they are its qdata) */
  gpointer session;
} GstS2STraceSink;

G_END_DECLS

#endif /* __GST_S2S_TRACE_SINK_H__ */
