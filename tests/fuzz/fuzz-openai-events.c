/* gst-s2s
 * Copyright (C) 2026 gst-s2s developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * libFuzzer target for the OpenAI Realtime server-event parser: each input
 * is a sequence of events, one per line, fed to a fresh s2sopenai element
 * exactly as the I/O thread feeds frames from the socket.
 */

#include <stdint.h>
#include <string.h>
#include <gst/gst.h>

#include "gsts2selements.h"
#include "openai/gsts2sopenai.h"

/* fuzz-grok-events.c reuses this target for s2sgrok */
#ifndef FUZZ_FACTORY
#define FUZZ_FACTORY "s2sopenai"
#define FUZZ_REGISTER() GST_ELEMENT_REGISTER (s2sopenai, NULL)
#endif

int LLVMFuzzerTestOneInput (const uint8_t * data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t * data, size_t size)
{
  static gboolean initialized = FALSE;
  GstElement *element;
  size_t start = 0, i;

  if (!initialized) {
    gst_init (NULL, NULL);
    FUZZ_REGISTER ();
    initialized = TRUE;
  }

  element = gst_element_factory_make (FUZZ_FACTORY, NULL);
  for (i = 0; i <= size; i++) {
    if (i == size || data[i] == '\n') {
      if (i > start)
        gst_s2s_openai_handle_event (GST_S2S_OPENAI (element),
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
