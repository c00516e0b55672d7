/* gst-s2s
 * Copyright (C) 2026 gst-s2s developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * libFuzzer target for the Nova Sonic server-event parser
 * (ext/s2s/nova/gsts2snova-protocol.c): each input line is one event JSON
 * ({"event":{...}}), fed to one protocol state in order, once directly and
 * once framed as Bedrock frames it (event-stream message, base64 "bytes").
 */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <glib.h>

#include "gsts2snova-protocol.h"

int LLVMFuzzerTestOneInput (const uint8_t * data, size_t size);

static gsize touched;

static void
on_completion_start (gpointer ud, const gchar * id)
{
  touched += id ? strlen (id) : 0;
}

static void
on_content (gpointer ud, const GstS2SNovaContent * c)
{
  touched += (c->type ? strlen (c->type) : 0) + (c->role ? strlen (c->role) :
      0) + c->stage;
}

static void
on_text (gpointer ud, const GstS2SNovaContent * c, const gchar * text)
{
  on_content (ud, c);
  touched += strlen (text);
}

static void
on_audio (gpointer ud, const GstS2SNovaContent * c, const guint8 * pcm,
    gsize len)
{
  if (len % 2)
    abort ();
  touched += pcm[len - 1];
}

static void
on_tool (gpointer ud, const gchar * id, const gchar * name, const gchar * args)
{
  touched += strlen (id) + strlen (name) + strlen (args);
}

static void
on_content_end (gpointer ud, const GstS2SNovaContent * c, const gchar * r)
{
  on_content (ud, c);
  touched += r ? strlen (r) : 0;
}

static void
on_interrupted (gpointer ud)
{
  touched++;
}

static void
on_usage (gpointer ud, const GstS2SNovaUsage * u)
{
  touched += u->total_tokens;
}

static void
on_exception (gpointer ud, const gchar * type, const gchar * message)
{
  touched += strlen (type) + strlen (message);
}

static const GstS2SNovaCallbacks callbacks = {
  on_completion_start, on_content, on_text, on_audio, on_tool,
  on_content_end, on_interrupted, on_usage, on_completion_start, on_exception
};

int
LLVMFuzzerTestOneInput (const uint8_t * data, size_t size)
{
  GstS2SNovaProtocol *direct = gst_s2s_nova_protocol_new ();
  GstS2SNovaProtocol *framed = gst_s2s_nova_protocol_new ();
  size_t start = 0, i;

  for (i = 0; i <= size; i++) {
    if (i == size || data[i] == '\n') {
      if (i > start) {
        const gchar *line = (const gchar *) data + start;
        GstS2SAwsMessage *msg = gst_s2s_aws_message_new ();
        gchar *b64 = g_base64_encode ((const guchar *) line, i - start);
        gchar *payload = g_strdup_printf ("{\"bytes\":\"%s\"}", b64);

        gst_s2s_nova_protocol_handle_event_json (direct, line, i - start,
            &callbacks, NULL, NULL);
        gst_s2s_aws_message_add_string (msg, ":message-type", "event");
        gst_s2s_aws_message_set_payload (msg, (const guint8 *) payload,
            strlen (payload));
        gst_s2s_nova_protocol_handle_message (framed, msg, &callbacks, NULL,
            NULL);
        /* the same bytes as an exception payload */
        gst_s2s_aws_message_free (msg);
        msg = gst_s2s_aws_message_new ();
        gst_s2s_aws_message_add_string (msg, ":message-type", "exception");
        gst_s2s_aws_message_set_payload (msg, (const guint8 *) line, i - start);
        gst_s2s_nova_protocol_handle_message (framed, msg, &callbacks, NULL,
            NULL);
        gst_s2s_aws_message_free (msg);
        g_free (payload);
        g_free (b64);
      }
      start = i + 1;
    }
  }
  gst_s2s_nova_protocol_free (direct);
  gst_s2s_nova_protocol_free (framed);
  return 0;
}
