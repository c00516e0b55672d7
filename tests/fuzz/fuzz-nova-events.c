/* gst-s2s
 * Copyright (C) 2026 gst-s2s developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * libFuzzer target for the Nova Sonic server-event parser: each input is a
 * sequence of event JSON documents ({"event": {...}}, the decoded "bytes"
 * of the event-stream messages), one per line, fed to a fresh s2snova
 * element as the I/O thread feeds them. The event-stream framing itself is
 * fuzz-eventstream's.
 */

#include <stdint.h>
#include <string.h>
#include <gst/gst.h>

#include "gsts2selements.h"
#include "nova/gsts2snova.h"

int LLVMFuzzerTestOneInput (const uint8_t * data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t * data, size_t size)
{
  static gboolean initialized = FALSE;
  GstElement *element;
  size_t start = 0, i;

  if (!initialized) {
    gst_init (NULL, NULL);
    GST_ELEMENT_REGISTER (s2snova, NULL);
    initialized = TRUE;
  }

  element = gst_element_factory_make ("s2snova", NULL);
  for (i = 0; i <= size; i++) {
    if (i == size || data[i] == '\n') {
      if (i > start)
        gst_s2s_nova_handle_event (GST_S2S_NOVA (element),
            (const gchar *) data + start, i - start);
      start = i + 1;
    }
  }
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
