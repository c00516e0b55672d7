/* gst-s2s
 * Copyright (C) 2026 gst-s2s developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * libFuzzer target for the Gemini Live server-message parser: each input
 * is a sequence of messages, one per line, fed to a fresh s2sgemini element
 * exactly as the I/O thread feeds frames from the socket. Besides the
 * messages it walks the conversation and stats they built, and parses any
 * goAway duration.
 */

#include <stdint.h>
#include <string.h>
#include <gst/gst.h>

#include "gsts2selements.h"
#include "gemini/gsts2sgemini.h"

int LLVMFuzzerTestOneInput (const uint8_t * data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t * data, size_t size)
{
  static gboolean initialized = FALSE;
  GstElement *element;
  size_t start = 0, i;

  if (!initialized) {
    gst_init (NULL, NULL);
    GST_ELEMENT_REGISTER (s2sgemini, NULL);
    initialized = TRUE;
  }

  element = gst_element_factory_make ("s2sgemini", NULL);
  for (i = 0; i <= size; i++) {
    if (i == size || data[i] == '\n') {
      if (i > start)
        gst_s2s_gemini_handle_message (GST_S2S_GEMINI (element),
            (const gchar *) data + start, i - start);
      start = i + 1;
    }
  }
  /* reading back the conversation walks everything the events built */
  {
    gchar *history = NULL;
    GstStructure *stats = NULL;
    g_object_get (element, "history", &history, "stats", &stats, NULL);
    g_free (history);
    gst_structure_free (stats);
  }
  gst_object_unref (element);
  return 0;
}
