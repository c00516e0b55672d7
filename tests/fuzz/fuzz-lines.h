/* gst-s2s
 * Copyright (C) 2026 gst-s2s developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * What the event-parser fuzz targets share: an input is a sequence of
 * server messages, one per line, fed to a fresh element exactly as the I/O
 * thread feeds frames from the socket; then the conversation and the stats
 * they built are read back.
 */

#ifndef __S2S_FUZZ_LINES_H__
#define __S2S_FUZZ_LINES_H__

#include <stdint.h>
#include <gst/gst.h>

typedef void (*FuzzFeedFunc) (GstElement * element, const gchar * data,
    gsize size);

static inline void
fuzz_feed_lines (const gchar * factory, FuzzFeedFunc feed,
    const uint8_t * data, size_t size)
{
  GstElement *element = gst_element_factory_make (factory, NULL);
  size_t start = 0, i;

  for (i = 0; i <= size; i++) {
    if (i == size || data[i] == '\n') {
      if (i > start)
        feed (element, (const gchar *) data + start, i - start);
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
}

#endif
