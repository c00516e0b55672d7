/* gst-s2s
 * Copyright (C) 2026 gst-s2s developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * libFuzzer target for the Gemini Live server-message parser (JSON objects
 * keyed setupComplete, serverContent, toolCall, toolCallCancellation,
 * goAway, sessionResumptionUpdate, usageMetadata), one message per line.
 */

#include "fuzz-lines.h"
#include "gsts2selements.h"
#include "gemini/gsts2sgemini.h"

int LLVMFuzzerTestOneInput (const uint8_t * data, size_t size);

static void
feed (GstElement * element, const gchar * data, gsize size)
{
  gchar *line = g_strndup (data, size);

  gst_s2s_gemini_handle_message (GST_S2S_GEMINI (element), data, size);
  /* goAway's duration parser on its own, with whatever the line holds */
  gst_s2s_gemini_parse_duration (line);
  g_free (line);
}

int
LLVMFuzzerTestOneInput (const uint8_t * data, size_t size)
{
  static gboolean initialized = FALSE;

  if (!initialized) {
    gst_init (NULL, NULL);
    GST_ELEMENT_REGISTER (s2sgemini, NULL);
    initialized = TRUE;
  }
  fuzz_feed_lines ("s2sgemini", feed, data, size);
  return 0;
}
