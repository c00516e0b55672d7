/* gst-s2s
 * Copyright (C) 2026 gst-s2s developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gsts2selements.h"

static gboolean
plugin_init (GstPlugin * plugin)
{
  gboolean ret = FALSE;

#ifdef HAVE_OPENAI
  ret |= GST_ELEMENT_REGISTER (s2sopenai, plugin);
  ret |= GST_ELEMENT_REGISTER (s2sgrok, plugin);
#endif
#ifdef HAVE_GEMINI
  ret |= GST_ELEMENT_REGISTER (s2sgemini, plugin);
#endif
#ifdef HAVE_NOVA
  ret |= GST_ELEMENT_REGISTER (s2snova, plugin);
#endif

  return ret;
}

GST_PLUGIN_DEFINE (GST_VERSION_MAJOR, GST_VERSION_MINOR, s2s,
    "Speech-to-speech model elements (OpenAI Realtime, ...)",
    plugin_init, VERSION, GST_LICENSE, GST_PACKAGE_NAME, GST_PACKAGE_ORIGIN)
