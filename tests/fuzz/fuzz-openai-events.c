/* gst-s2s
 * Copyright (C) 2026 gst-s2s developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * libFuzzer target for the OpenAI Realtime server-event parser: each input
 * is a sequence of events, one per line, fed to a fresh s2sopenai element
 * exactly as the I/O thread feeds frames from the socket. Each line also
 * goes through the differential check of the audio-delta fast path
 * (openai-delta-diff.h): it aborts when the fast path and json-glib read
 * an event differently.
 */

#include "fuzz-lines.h"
#include "openai-delta-diff.h"
#include "gsts2selements.h"
#include "openai/gsts2sopenai.h"

/* fuzz-grok-events.c reuses this target for s2sgrok */
#ifndef FUZZ_FACTORY
#define FUZZ_FACTORY "s2sopenai"
#define FUZZ_REGISTER() GST_ELEMENT_REGISTER (s2sopenai, NULL)
#endif

int LLVMFuzzerTestOneInput (const uint8_t * data, size_t size);

static void
feed (GstElement * element, const gchar * data, gsize size)
{
  openai_delta_differential (data, size);
  gst_s2s_openai_handle_event (GST_S2S_OPENAI (element), data, size);
}

int
LLVMFuzzerTestOneInput (const uint8_t * data, size_t size)
{
  static gboolean initialized = FALSE;

  if (!initialized) {
    gst_init (NULL, NULL);
    FUZZ_REGISTER ();
    initialized = TRUE;
  }
  fuzz_feed_lines (FUZZ_FACTORY, feed, data, size);
  return 0;
}
