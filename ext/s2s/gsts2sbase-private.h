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

G_END_DECLS

#endif
