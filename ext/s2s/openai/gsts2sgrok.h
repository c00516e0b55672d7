/* gst-s2s
 * Copyright (C) 2026 gst-s2s developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#ifndef __GST_S2S_GROK_H__
#define __GST_S2S_GROK_H__

#include "gsts2sopenai.h"

G_BEGIN_DECLS

#define GST_TYPE_S2S_GROK (gst_s2s_grok_get_type ())
G_DECLARE_FINAL_TYPE (GstS2SGrok, gst_s2s_grok, GST, S2S_GROK, GstS2SOpenAI)

G_END_DECLS

#endif
