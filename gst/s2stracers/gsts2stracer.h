/* gst-s2s
 * Copyright (C) 2026 gst-s2s developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#ifndef __GST_S2S_TRACER_H__
#define __GST_S2S_TRACER_H__

#include <gst/gst.h>
#include <gst/gsttracer.h>

G_BEGIN_DECLS

#define GST_TYPE_S2S_TRACER (gst_s2s_tracer_get_type ())
G_DECLARE_FINAL_TYPE (GstS2STracer, gst_s2s_tracer, GST, S2S_TRACER,
    GstTracer)

G_END_DECLS

#endif /* __GST_S2S_TRACER_H__ */
