/* gst-s2s
 * Copyright (C) 2026 gst-s2s developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Amazon Nova Sonic event protocol, independent of the transport: builds
 * the client events (JSON, to be wrapped by gst_s2s_aws_bedrock_event_
 * encode_to() and signed) and parses the server's event-stream messages
 * into callbacks.
 */

#ifndef __GST_S2S_NOVA_PROTOCOL_H__
#define __GST_S2S_NOVA_PROTOCOL_H__

#include <glib.h>

#include "eventstream.h"

G_BEGIN_DECLS

#define GST_S2S_NOVA_INPUT_RATE 16000
#define GST_S2S_NOVA_OUTPUT_RATE 24000
/* §B9: history limits of a continuation */
#define GST_S2S_NOVA_HISTORY_MAX_BYTES (40 * 1024)
#define GST_S2S_NOVA_TEXT_INPUT_MAX_BYTES 1024

typedef struct
{
  gboolean nova2;               /* Nova 2 Sonic: endpointing, cross-modal text */
  gint max_tokens;              /* <= 0: 1024 */
  gdouble top_p;                /* < 0: 0.9 */
  gdouble temperature;          /* < 0: 0.7 */
  const gchar *endpointing_sensitivity; /* HIGH, MEDIUM, LOW; NULL: omitted */
  const gchar *voice;           /* NULL: "matthew" */
  const gchar *system_prompt;   /* NULL or "": no system block */
  const gchar *tools_json;      /* neutral tools array, or NULL */
  const gchar *history_json;    /* neutral history array, or NULL */
} GstS2SNovaSessionConfig;

typedef enum
{
  GST_S2S_NOVA_STAGE_NONE,
  GST_S2S_NOVA_STAGE_SPECULATIVE,
  GST_S2S_NOVA_STAGE_FINAL,
} GstS2SNovaStage;

typedef struct
{
  const gchar *content_id;
  const gchar *type;            /* TEXT, AUDIO, TOOL */
  const gchar *role;            /* USER, ASSISTANT, TOOL, SYSTEM */
  GstS2SNovaStage stage;
} GstS2SNovaContent;

typedef struct
{
  gint64 input_speech_tokens;
  gint64 input_text_tokens;
  gint64 output_speech_tokens;
  gint64 output_text_tokens;
  gint64 total_input_tokens;
  gint64 total_output_tokens;
  gint64 total_tokens;
} GstS2SNovaUsage;

/* Every callback may be NULL. Strings are valid during the call only. */
typedef struct
{
  void (*completion_start) (gpointer user_data, const gchar * completion_id);
  void (*content_start) (gpointer user_data, const GstS2SNovaContent * c);
  void (*text_output) (gpointer user_data, const GstS2SNovaContent * c,
      const gchar * text);
  /* 16-bit LE mono PCM at 24 kHz */
  void (*audio_output) (gpointer user_data, const GstS2SNovaContent * c,
      const guint8 * pcm, gsize len);
  void (*tool_use) (gpointer user_data, const gchar * tool_use_id,
      const gchar * tool_name, const gchar * arguments_json);
  /* stop_reason: END_TURN, PARTIAL_TURN, INTERRUPTED, TOOL_USE or NULL */
  void (*content_end) (gpointer user_data, const GstS2SNovaContent * c,
      const gchar * stop_reason);
  /* barge-in ({ "interrupted" : true } or INTERRUPTED), once per response */
  void (*interrupted) (gpointer user_data);
  void (*usage) (gpointer user_data, const GstS2SNovaUsage * usage);
  void (*completion_end) (gpointer user_data, const gchar * stop_reason);
  /* in-stream exception (:exception-type) or error (:error-code) */
  void (*exception) (gpointer user_data, const gchar * type,
      const gchar * message);
} GstS2SNovaCallbacks;

typedef struct _GstS2SNovaProtocol GstS2SNovaProtocol;

GstS2SNovaProtocol *gst_s2s_nova_protocol_new (void);
void gst_s2s_nova_protocol_free (GstS2SNovaProtocol * proto);
const gchar *gst_s2s_nova_protocol_get_prompt_name (GstS2SNovaProtocol *
    proto);

/* Client events. Each appends event JSON strings ({"event":{...}}, transfer
 * full, g_free) to events, in the order they must be sent. */

/* sessionStart, promptStart, system block, history blocks, then the audio
 * contentStart kept open for the whole session */
gboolean gst_s2s_nova_protocol_start (GstS2SNovaProtocol * proto,
    const GstS2SNovaSessionConfig * config, GPtrArray * events,
    GError ** error);
/* One audioInput of 16 kHz S16LE mono (about 32 ms per call is usual) */
gchar *gst_s2s_nova_protocol_audio_input (GstS2SNovaProtocol * proto,
    const guint8 * pcm, gsize len);
/* A TOOL block while the audio block stays open */
void gst_s2s_nova_protocol_tool_result (GstS2SNovaProtocol * proto,
    const gchar * tool_use_id, const gchar * result, GPtrArray * events);
/* Nova 2 cross-modal text: interactive USER TEXT block */
void gst_s2s_nova_protocol_text_input (GstS2SNovaProtocol * proto,
    const gchar * text, GPtrArray * events);
/* audio contentEnd, promptEnd, sessionEnd (then the transport sends the
 * signed empty frame) */
void gst_s2s_nova_protocol_end (GstS2SNovaProtocol * proto,
    GPtrArray * events);

/* Server side: one decoded event-stream message. Fails (error set, nothing
 * called) on a message that is not a Nova event; unknown events are
 * ignored. */
gboolean gst_s2s_nova_protocol_handle_message (GstS2SNovaProtocol * proto,
    const GstS2SAwsMessage * msg, const GstS2SNovaCallbacks * cb,
    gpointer user_data, GError ** error);
/* The JSON inside "bytes" ({"event":{...}}); exposed for the fuzz target */
gboolean gst_s2s_nova_protocol_handle_event_json (GstS2SNovaProtocol * proto,
    const gchar * json, gssize len, const GstS2SNovaCallbacks * cb,
    gpointer user_data, GError ** error);

G_END_DECLS

#endif
