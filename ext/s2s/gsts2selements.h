/* gst-s2s
 * Copyright (C) 2026 gst-s2s developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#ifndef __GST_S2S_ELEMENTS_H__
#define __GST_S2S_ELEMENTS_H__

#include <gst/gst.h>

G_BEGIN_DECLS void s2s_element_init (GstPlugin * plugin);

GST_ELEMENT_REGISTER_DECLARE (s2sopenai);
GST_ELEMENT_REGISTER_DECLARE (s2sgrok);
GST_ELEMENT_REGISTER_DECLARE (s2sgemini);
GST_ELEMENT_REGISTER_DECLARE (s2snova);

G_END_DECLS
#endif
