/* gst-s2s
 * Copyright (C) 2026 gst-s2s developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#ifndef __GST_S2S_NOVA_H__
#define __GST_S2S_NOVA_H__

#include "gsts2sbase.h"

G_BEGIN_DECLS
#define GST_TYPE_S2S_NOVA (gst_s2s_nova_get_type ())
G_DECLARE_FINAL_TYPE (GstS2SNova, gst_s2s_nova, GST, S2S_NOVA, GstS2SBase)
    G_END_DECLS
#endif                          /* __GST_S2S_NOVA_H__ */
