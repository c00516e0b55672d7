/* gst-s2s
 * Copyright (C) 2026 gst-s2s developers
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2.1 of the License, or (at your option) any later version.
 */

/**
 * SECTION:element-s2sgrok
 * @title: s2sgrok
 *
 * Streams the user's voice to xAI's Grok Voice Agent API over a WebSocket
 * and plays the model's spoken reply on its src pad, with the same
 * properties, signals and element messages as s2sopenai, of which it is a
 * subclass: only what Grok does differently lives here.
 *
 * Input is S16LE mono PCM at 8, 16, 22.05, 24, 32, 44.1 or 48 kHz (Grok
 * takes all of them natively, so a 16 kHz microphone or a 48 kHz WebRTC
 * track needs no resampler), or G.711 μ-law/A-law at 8 kHz; the output
 * follows downstream caps among the same formats, 24 kHz PCM when
 * downstream does not care. `turn-detection` is `server-vad` or `none`:
 * Grok has no semantic VAD. Partial user transcripts come from Grok's
 * cumulative `…transcription.updated` events as deltas (an `s2s-transcript`
 * with `replace=TRUE` when Grok revised earlier words).
 *
 * The key comes from `api-key` or `XAI_API_KEY`.
 *
 * ## Example launch line
 * |[
 * gst-launch-1.0 -m filesrc location=question-16k.wav ! wavparse ! \
 *     audioconvert ! s2sgrok url=ws://127.0.0.1:8765/v1/realtime \
 *     api-key=test ! wavenc ! filesink location=reply.wav
 * ]| Against `s2s-emulator --port 8765 --dialect grok`: sends the 16 kHz
 * question as it is, writes the reply and prints the transcripts.
 *
 * |[
 * gst-launch-1.0 autoaudiosrc ! audioconvert ! audioresample ! \
 *     s2sgrok voice=ara ! audioconvert ! autoaudiosink
 * ]| A live conversation with Grok (needs `XAI_API_KEY`).
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <glib/gi18n-lib.h>

#include "gsts2sgrok.h"
#include "gsts2sopenai-private.h"
#include "gsts2selements.h"

GST_DEBUG_CATEGORY_STATIC (gst_s2s_grok_debug);
#define GST_CAT_DEFAULT gst_s2s_grok_debug

#define DEFAULT_TRANSCRIPTION_MODEL "grok-transcribe"

/* 24 kHz first: it is Grok's default and what fixation picks when the
 * peer does not care */
#define CAPS_STR \
    "audio/x-raw, format = (string) S16LE, layout = (string) interleaved, " \
    "rate = (int) { 24000, 16000, 48000, 8000, 22050, 32000, 44100 }, " \
    "channels = (int) 1; " \
    "audio/x-mulaw, rate = (int) 8000, channels = (int) 1; " \
    "audio/x-alaw, rate = (int) 8000, channels = (int) 1"

static GstStaticPadTemplate sink_template = GST_STATIC_PAD_TEMPLATE ("sink",
    GST_PAD_SINK, GST_PAD_ALWAYS, GST_STATIC_CAPS (CAPS_STR));
static GstStaticPadTemplate src_template = GST_STATIC_PAD_TEMPLATE ("src",
    GST_PAD_SRC, GST_PAD_ALWAYS, GST_STATIC_CAPS (CAPS_STR));

struct _GstS2SGrok
{
  GstS2SOpenAI parent;
};

G_DEFINE_TYPE_WITH_CODE (GstS2SGrok, gst_s2s_grok, GST_TYPE_S2S_OPENAI,
    GST_DEBUG_CATEGORY_INIT (gst_s2s_grok_debug, "s2sgrok", 0,
        "xAI Grok Voice Agent speech-to-speech"));
GST_ELEMENT_REGISTER_DEFINE_WITH_CODE (s2sgrok, "s2sgrok", GST_RANK_NONE,
    GST_TYPE_S2S_GROK, s2s_element_init (plugin));

/* Grok's hybrid shape: voice and turn_detection at the top level, formats
 * under audio.*.format, no session.type, no output_modalities, no token
 * limit and no tool_choice. */
static JsonNode *
gst_s2s_grok_build_session (GstS2SOpenAI * self, const GstS2SConfig * c,
    gboolean initial)
{
  JsonBuilder *b = json_builder_new ();
  JsonNode *node;
  GstS2SConfig server_vad;

  if (c->turn_detection == GST_S2S_TURN_DETECTION_SEMANTIC_VAD) {
    /* refused at READY; set while playing it falls back to the server VAD
     * instead of a session.update Grok would refuse */
    GST_WARNING_OBJECT (self, "Grok has no semantic VAD: using server-vad");
    server_vad = *c;
    server_vad.turn_detection = GST_S2S_TURN_DETECTION_SERVER_VAD;
    c = &server_vad;
  }

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "instructions");
  json_builder_add_string_value (b, c->instructions ? c->instructions : "");
  if (c->voice) {
    json_builder_set_member_name (b, "voice");
    json_builder_add_string_value (b, c->voice);
  }
  gst_s2s_openai_add_turn_detection (b, c, TRUE);

  json_builder_set_member_name (b, "audio");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "input");
  json_builder_begin_object (b);
  gst_s2s_openai_add_format (b, &c->in_format);
  if (c->transcribe_input) {
    json_builder_set_member_name (b, "transcription");
    json_builder_begin_object (b);
    json_builder_set_member_name (b, "model");
    json_builder_add_string_value (b, c->transcription_model ?
        c->transcription_model : DEFAULT_TRANSCRIPTION_MODEL);
    if (c->language && *c->language) {
      json_builder_set_member_name (b, "language_hint");
      json_builder_add_string_value (b, c->language);
    }
    json_builder_end_object (b);
  }
  json_builder_end_object (b);
  json_builder_set_member_name (b, "output");
  json_builder_begin_object (b);
  gst_s2s_openai_add_format (b, &c->out_format);
  json_builder_end_object (b);
  json_builder_end_object (b);

  gst_s2s_openai_add_tools (b, c->tools, FALSE);
  json_builder_end_object (b);

  node = json_builder_get_root (b);
  g_object_unref (b);
  return node;
}

static gboolean
gst_s2s_grok_check_config (GstS2SBase * base, const GstS2SConfig * c,
    GError ** error)
{
  if (c->turn_detection == GST_S2S_TURN_DETECTION_SEMANTIC_VAD) {
    /* "property: problem", as the base class expects */
    g_set_error (error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_SETTINGS,
        "turn-detection: %s", _("Grok offers server-vad or none, not "
            "semantic-vad"));
    return FALSE;
  }
  if (c->temperature >= 0)
    GST_WARNING_OBJECT (base, "Grok's session has no temperature: ignored");
  if (c->max_output_tokens > 0)
    GST_WARNING_OBJECT (base, "Grok's session has no token limit: "
        "max-output-tokens ignored");
  return TRUE;
}

static gboolean
gst_s2s_grok_handle_event (GstS2SOpenAI * self, const gchar * type,
    JsonObject * ev)
{
  GstS2SBase *base = GST_S2S_BASE (self);

  if (g_str_equal (type, "conversation.item.input_audio_transcription.updated")) {
    const gchar *text = gst_s2s_openai_str_member (ev, "transcript");
    if (text)
      gst_s2s_base_transcript_snapshot (base, "user",
          gst_s2s_openai_str_member (ev, "item_id"), text);
    return TRUE;
  }
  if (g_str_equal (type,
          "conversation.item.input_audio_transcription.completed") &&
      g_strcmp0 (gst_s2s_openai_str_member (ev, "status"),
          "in_progress") == 0) {
    /* partials seen as .completed with status in_progress (LiveKit) */
    const gchar *text = gst_s2s_openai_str_member (ev, "transcript");
    if (text)
      gst_s2s_base_transcript_snapshot (base, "user",
          gst_s2s_openai_str_member (ev, "item_id"), text);
    return TRUE;
  }
  if (g_str_equal (type, "error")) {
    JsonObject *err = gst_s2s_openai_obj_member (ev, "error");
    const gchar *code = gst_s2s_openai_str_member (err, "code");
    /* Grok's name for the session limit (reference 2.8) */
    if (g_strcmp0 (code, "max_duration") == 0) {
      gst_s2s_base_provider_error (base, GST_S2S_ERROR_SESSION_EXPIRED, TRUE,
          TRUE, code, gst_s2s_openai_str_member (err, "message"));
      return TRUE;
    }
  }
  return FALSE;
}

static void
gst_s2s_grok_class_init (GstS2SGrokClass * klass)
{
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);
  GstS2SBaseClass *base_class = GST_S2S_BASE_CLASS (klass);
  GstS2SOpenAIClass *openai_class = GST_S2S_OPENAI_CLASS (klass);

  /* same names as the parent's templates: these replace them */
  gst_element_class_add_static_pad_template (element_class, &sink_template);
  gst_element_class_add_static_pad_template (element_class, &src_template);
  gst_element_class_set_static_metadata (element_class,
      "xAI Grok Voice Agent speech-to-speech", "Filter/Effect/Audio/Network",
      "Talks with xAI's Grok Voice Agent API: user speech in, model speech "
      "out, with transcripts and tool calls", "gst-s2s developers");

  base_class->provider = "grok";
  base_class->api_key_env = "XAI_API_KEY";
  base_class->default_url = "wss://api.x.ai/v1/realtime";
  base_class->default_model = "grok-voice-think-fast-2.0";
  base_class->default_voice = "eve";
  /* Grok documents no interrupt_response: the element cancels itself */
  base_class->server_cancels_on_speech = FALSE;
  base_class->check_config = gst_s2s_grok_check_config;

  openai_class->build_session = gst_s2s_grok_build_session;
  openai_class->handle_event = gst_s2s_grok_handle_event;
}

static void
gst_s2s_grok_init (GstS2SGrok * self)
{
}
