/* gst-s2s
 * Copyright (C) 2026 gst-s2s developers
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2.1 of the License, or (at your option) any later version.
 */

#ifndef __GST_S2S_GEMINI_H__
#define __GST_S2S_GEMINI_H__

#include "gsts2sbase.h"

G_BEGIN_DECLS
#define GST_TYPE_S2S_GEMINI (gst_s2s_gemini_get_type ())
G_DECLARE_FINAL_TYPE (GstS2SGemini, gst_s2s_gemini, GST, S2S_GEMINI, GstS2SBase)
/* One server message (JSON), as the I/O thread hands it over; exposed for
 * the fuzz target */
     void gst_s2s_gemini_handle_message (GstS2SGemini * self,
    const gchar * data, gsize size);

/* "50s", "1.5s" (protobuf Duration) to a time; NONE when unparsable */
     GstClockTime gst_s2s_gemini_parse_duration (const gchar * text);

G_END_DECLS
#endif /* __GST_S2S_GEMINI_H__ */
