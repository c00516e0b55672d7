/* gst-s2s
 * Copyright (C) 2026 gst-s2s developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#ifndef __GST_S2S_OPENAI_H__
#define __GST_S2S_OPENAI_H__

#include "gsts2sbase.h"

G_BEGIN_DECLS

#define GST_TYPE_S2S_OPENAI (gst_s2s_openai_get_type ())
G_DECLARE_DERIVABLE_TYPE (GstS2SOpenAI, gst_s2s_openai, GST, S2S_OPENAI,
    GstS2SBase)

struct _GstS2SOpenAIClass
{
  GstS2SBaseClass parent_class;

  /* Grok and other dialects override the session shape */
  JsonNode *(*build_session) (GstS2SOpenAI * self, const GstS2SConfig * config,
      gboolean initial);

  /* A dialect's own server events, tried before the OpenAI ones; return
   * TRUE when @ev was handled. Audio deltas
   * (response.output_audio.delta, response.audio.delta) taken by the fast
   * path never come here. */
  gboolean (*handle_event) (GstS2SOpenAI * self, const gchar * type,
      JsonObject * ev);

  gpointer _gst_reserved[GST_PADDING];
};

/* Parses one server event and drives the base class; exposed for the fuzz
 * target. */
void gst_s2s_openai_handle_event (GstS2SOpenAI * self, const gchar * data,
    gsize size);

G_END_DECLS

#endif
