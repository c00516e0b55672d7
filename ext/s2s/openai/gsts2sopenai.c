/* gst-s2s
 * Copyright (C) 2026 gst-s2s developers
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2.1 of the License, or (at your option) any later version.
 */

/**
 * SECTION:element-s2sopenai
 * @title: s2sopenai
 *
 * Streams the user's voice to OpenAI's Realtime API (GA) over a WebSocket
 * and plays the model's spoken reply on its src pad, on a running-time
 * timeline, with transcripts, tool calls, usage and barge-in reported as
 * element messages (`s2s-session`, `s2s-speech`, `s2s-transcript`,
 * `s2s-response`, `s2s-tool-call`, `s2s-usage`).
 *
 * Input is 24 kHz S16LE mono PCM, or G.711 μ-law/A-law at 8 kHz; output
 * follows downstream caps among the same formats. Non-live input (a file)
 * is paced to real time. On EOS the user's turn is finished, the reply is
 * pushed, then EOS.
 *
 * The key comes from `api-key` or `OPENAI_API_KEY`. Azure OpenAI's GA
 * endpoint works by setting `url` to
 * `wss://<resource>.openai.azure.com/openai/v1/realtime?model=<deployment>`:
 * the key is then sent as the `api-key` header.
 *
 * ## Example launch line
 * |[
 * gst-launch-1.0 -m filesrc location=question-24k.wav ! wavparse ! \
 *     audioconvert ! audioresample ! s2sopenai url=ws://127.0.0.1:8765 \
 *     api-key=test ! wavenc ! filesink location=reply.wav
 * ]| Against `s2s-emulator --port 8765`: sends the question, writes the
 * reply and prints the transcripts as `s2s-transcript` messages.
 *
 * |[
 * gst-launch-1.0 autoaudiosrc ! audioconvert ! audioresample ! \
 *     s2sopenai ! audioconvert ! autoaudiosink
 * ]| A live conversation with OpenAI (needs `OPENAI_API_KEY`).
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <string.h>
#include <glib/gi18n-lib.h>

#include "gsts2sopenai.h"
#include "gsts2sopenai-private.h"
#include "gsts2selements.h"
#include "gsts2sbase64.h"

GST_DEBUG_CATEGORY_STATIC (gst_s2s_openai_debug);
#define GST_CAT_DEFAULT gst_s2s_openai_debug

#define DEFAULT_TRANSCRIPTION_MODEL "gpt-4o-mini-transcribe"
/* Audio per append event: 1 s keeps events far below the 15 MiB limit */
#define MAX_APPEND_MS 1000
#define MAX_OUTPUT_TOKENS_LIMIT 4096

#define CAPS_STR \
    "audio/x-raw, format = (string) S16LE, layout = (string) interleaved, " \
    "rate = (int) 24000, channels = (int) 1; " \
    "audio/x-mulaw, rate = (int) 8000, channels = (int) 1; " \
    "audio/x-alaw, rate = (int) 8000, channels = (int) 1"

static GstStaticPadTemplate sink_template = GST_STATIC_PAD_TEMPLATE ("sink",
    GST_PAD_SINK, GST_PAD_ALWAYS, GST_STATIC_CAPS (CAPS_STR));
static GstStaticPadTemplate src_template = GST_STATIC_PAD_TEMPLATE ("src",
    GST_PAD_SRC, GST_PAD_ALWAYS, GST_STATIC_CAPS (CAPS_STR));

typedef struct
{
  JsonParser *parser;
  gchar *session_id;
  guint event_serial;
  gchar *initial_update_id;
  gchar *sent_voice;
  /* item_id -> function name: GA puts the name on the item only */
  GHashTable *call_names;
  gboolean no_fast_path;
} GstS2SOpenAIPrivate;

G_DEFINE_TYPE_WITH_CODE (GstS2SOpenAI, gst_s2s_openai, GST_TYPE_S2S_BASE,
    G_ADD_PRIVATE (GstS2SOpenAI)
    GST_DEBUG_CATEGORY_INIT (gst_s2s_openai_debug, "s2sopenai", 0,
        "OpenAI Realtime speech-to-speech"));
GST_ELEMENT_REGISTER_DEFINE_WITH_CODE (s2sopenai, "s2sopenai", GST_RANK_NONE,
    GST_TYPE_S2S_OPENAI, s2s_element_init (plugin));

#define PRIV(self) ((GstS2SOpenAIPrivate *) \
    gst_s2s_openai_get_instance_private (GST_S2S_OPENAI (self)))

/* ------------------------------------------------------------------------ */
/* Building client events */

void
gst_s2s_openai_add_format (JsonBuilder * b, const GstS2SAudioFormat * fmt)
{
  json_builder_set_member_name (b, "format");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "type");
  switch (fmt->encoding) {
    case GST_S2S_ENCODING_MULAW:
      json_builder_add_string_value (b, "audio/pcmu");
      break;
    case GST_S2S_ENCODING_ALAW:
      json_builder_add_string_value (b, "audio/pcma");
      break;
    default:
      json_builder_add_string_value (b, "audio/pcm");
      json_builder_set_member_name (b, "rate");
      json_builder_add_int_value (b, fmt->rate);
      break;
  }
  json_builder_end_object (b);
}

void
gst_s2s_openai_add_turn_detection (JsonBuilder * b, const GstS2SConfig * c,
    gboolean grok)
{
  gboolean respond = c->reasoning == GST_S2S_REASONING_BUILT_IN;

  json_builder_set_member_name (b, "turn_detection");
  if (c->turn_detection == GST_S2S_TURN_DETECTION_NONE) {
    json_builder_add_null_value (b);
    return;
  }
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "type");
  if (c->turn_detection == GST_S2S_TURN_DETECTION_SEMANTIC_VAD) {
    json_builder_add_string_value (b, "semantic_vad");
  } else {
    json_builder_add_string_value (b, "server_vad");
    if (c->vad_threshold >= 0) {
      json_builder_set_member_name (b, "threshold");
      json_builder_add_double_value (b, c->vad_threshold);
    }
    if (c->prefix_padding >= 0) {
      json_builder_set_member_name (b, "prefix_padding_ms");
      json_builder_add_int_value (b, c->prefix_padding);
    }
    if (c->silence_duration >= 0) {
      json_builder_set_member_name (b, "silence_duration_ms");
      json_builder_add_int_value (b, c->silence_duration);
    }
  }
  /* with external reasoning the app decides when and what to answer; Grok
   * documents neither flag, so it gets create_response only when needed */
  if (!grok || !respond) {
    json_builder_set_member_name (b, "create_response");
    json_builder_add_boolean_value (b, respond);
  }
  if (!grok) {
    json_builder_set_member_name (b, "interrupt_response");
    json_builder_add_boolean_value (b, TRUE);
  }
  json_builder_end_object (b);
}

void
gst_s2s_openai_add_tools (JsonBuilder * b, JsonArray * tools,
    gboolean tool_choice)
{
  guint i;

  json_builder_set_member_name (b, "tools");
  json_builder_begin_array (b);
  for (i = 0; tools && i < json_array_get_length (tools); i++) {
    JsonObject *t = json_array_get_object_element (tools, i);
    JsonNode *params = json_object_get_member (t, "parameters");

    json_builder_begin_object (b);
    json_builder_set_member_name (b, "type");
    json_builder_add_string_value (b, "function");
    json_builder_set_member_name (b, "name");
    json_builder_add_string_value (b, json_object_get_string_member (t,
            "name"));
    json_builder_set_member_name (b, "description");
    json_builder_add_string_value (b,
        json_object_get_string_member_with_default (t, "description", ""));
    json_builder_set_member_name (b, "parameters");
    if (params) {
      json_builder_add_value (b, json_node_copy (params));
    } else {
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "type");
      json_builder_add_string_value (b, "object");
      json_builder_set_member_name (b, "properties");
      json_builder_begin_object (b);
      json_builder_end_object (b);
      json_builder_end_object (b);
    }
    json_builder_end_object (b);
  }
  json_builder_end_array (b);
  if (tool_choice) {
    json_builder_set_member_name (b, "tool_choice");
    json_builder_add_string_value (b, "auto");
  }
}

/* The GA session object. The voice is sent only when it changes: OpenAI
 * refuses a voice change once the model has spoken. */
static JsonNode *
gst_s2s_openai_build_session (GstS2SOpenAI * self, const GstS2SConfig * c,
    gboolean initial)
{
  GstS2SOpenAIPrivate *priv = PRIV (self);
  JsonBuilder *b = json_builder_new ();
  JsonNode *node;

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "type");
  json_builder_add_string_value (b, "realtime");
  if (initial) {
    json_builder_set_member_name (b, "output_modalities");
    json_builder_begin_array (b);
    json_builder_add_string_value (b, "audio");
    json_builder_end_array (b);
  }
  json_builder_set_member_name (b, "instructions");
  json_builder_add_string_value (b, c->instructions ? c->instructions : "");

  json_builder_set_member_name (b, "audio");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "input");
  json_builder_begin_object (b);
  gst_s2s_openai_add_format (b, &c->in_format);
  json_builder_set_member_name (b, "transcription");
  if (c->transcribe_input) {
    json_builder_begin_object (b);
    json_builder_set_member_name (b, "model");
    json_builder_add_string_value (b, c->transcription_model ?
        c->transcription_model : DEFAULT_TRANSCRIPTION_MODEL);
    if (c->language && *c->language) {
      json_builder_set_member_name (b, "language");
      json_builder_add_string_value (b, c->language);
    }
    json_builder_end_object (b);
  } else {
    json_builder_add_null_value (b);
  }
  gst_s2s_openai_add_turn_detection (b, c, FALSE);
  json_builder_end_object (b);
  json_builder_set_member_name (b, "output");
  json_builder_begin_object (b);
  if (initial)
    gst_s2s_openai_add_format (b, &c->out_format);
  if (c->voice && g_strcmp0 (c->voice, priv->sent_voice) != 0) {
    json_builder_set_member_name (b, "voice");
    json_builder_add_string_value (b, c->voice);
    g_free (priv->sent_voice);
    priv->sent_voice = g_strdup (c->voice);
  }
  json_builder_end_object (b);
  json_builder_end_object (b);

  gst_s2s_openai_add_tools (b, c->tools, TRUE);

  json_builder_set_member_name (b, "max_output_tokens");
  if (c->max_output_tokens > 0)
    json_builder_add_int_value (b, c->max_output_tokens);
  else
    json_builder_add_string_value (b, "inf");
  json_builder_end_object (b);

  node = json_builder_get_root (b);
  g_object_unref (b);
  return node;
}

/* Sends a client event; takes @ev */
static void
send_event (GstS2SBase * base, JsonObject * ev)
{
  JsonNode *root = json_node_new (JSON_NODE_OBJECT);

  json_node_take_object (root, ev);
  gst_s2s_base_send_json (base, root);
  json_node_unref (root);
}

static gchar *
next_event_id (GstS2SOpenAI * self, const gchar * what)
{
  return g_strdup_printf ("s2s_%s_%u", what, ++PRIV (self)->event_serial);
}

/* Wraps @session in a session.update and sends it; returns its event id */
static gchar *
send_session_update (GstS2SOpenAI * self, const GstS2SConfig * c,
    gboolean initial)
{
  GstS2SOpenAIClass *klass = GST_S2S_OPENAI_GET_CLASS (self);
  JsonObject *ev = json_object_new ();
  gchar *id = next_event_id (self, "update");

  json_object_set_string_member (ev, "type", "session.update");
  json_object_set_string_member (ev, "event_id", id);
  json_object_set_member (ev, "session", klass->build_session (self, c,
          initial));
  send_event (GST_S2S_BASE (self), ev);
  return id;
}

static void
send_simple (GstS2SOpenAI * self, const gchar * type)
{
  gchar *text = g_strdup_printf ("{\"type\":\"%s\"}", type);

  gst_s2s_base_send (GST_S2S_BASE (self), text, -1);
  g_free (text);
}

/* conversation.item.create; takes @item */
static void
send_item (GstS2SOpenAI * self, JsonObject * item)
{
  JsonObject *ev = json_object_new ();

  json_object_set_string_member (ev, "type", "conversation.item.create");
  json_object_set_object_member (ev, "item", item);
  send_event (GST_S2S_BASE (self), ev);
}

static JsonObject *
message_item (const gchar * role, const gchar * text)
{
  JsonObject *item = json_object_new ();
  JsonArray *content = json_array_new ();
  JsonObject *part = json_object_new ();

  json_object_set_string_member (item, "type", "message");
  json_object_set_string_member (item, "role", role);
  /* assistant text is output_text in GA; user and system take input_text */
  json_object_set_string_member (part, "type",
      g_str_equal (role, "assistant") ? "output_text" : "input_text");
  json_object_set_string_member (part, "text", text);
  json_array_add_object_element (content, part);
  json_object_set_array_member (item, "content", content);
  return item;
}

/* ------------------------------------------------------------------------ */
/* GstS2SBase vfuncs */

static gboolean
gst_s2s_openai_check_config (GstS2SBase * base, const GstS2SConfig * c,
    GError ** error)
{
  if (c->max_output_tokens > MAX_OUTPUT_TOKENS_LIMIT) {
    gchar *problem = g_strdup_printf (_("OpenAI Realtime allows at most %d"),
        MAX_OUTPUT_TOKENS_LIMIT);
    /* "property: problem", as the base class expects */
    g_set_error (error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_SETTINGS,
        "max-output-tokens: %s", problem);
    g_free (problem);
    return FALSE;
  }
  if (c->temperature >= 0)
    GST_WARNING_OBJECT (base, "temperature is not part of the OpenAI "
        "Realtime GA session: ignored");
  return TRUE;
}

static gboolean
host_is_azure (GUri * uri)
{
  const gchar *host = g_uri_get_host (uri);
  const gchar *path = g_uri_get_path (uri);

  return (host && (g_str_has_suffix (host, ".azure.com") ||
          g_str_has_suffix (host, ".azure.us") ||
          g_str_has_suffix (host, ".azure.cn"))) ||
      (path && g_str_has_prefix (path, "/openai/"));
}

static SoupMessage *
gst_s2s_openai_build_request (GstS2SBase * base, const GstS2SConfig * c,
    GError ** error)
{
  GUri *uri, *full;
  const gchar *scheme, *path, *query;
  gchar *new_query = NULL, *new_path = NULL;
  SoupMessage *msg;
  SoupMessageHeaders *headers;

  uri = g_uri_parse (c->url, G_URI_FLAGS_ENCODED, error);
  if (uri == NULL)
    return NULL;

  scheme = g_uri_get_scheme (uri);
  if (g_str_equal (scheme, "http"))
    scheme = "ws";
  else if (g_str_equal (scheme, "https"))
    scheme = "wss";

  /* a bare host means the default endpoint path on it */
  path = g_uri_get_path (uri);
  if (path == NULL || *path == '\0' || g_str_equal (path, "/"))
    path = new_path = g_strdup ("/v1/realtime");

  query = g_uri_get_query (uri);
  if (query == NULL || !(g_str_has_prefix (query, "model=") ||
          strstr (query, "&model="))) {
    gchar *model = g_uri_escape_string (c->model, NULL, FALSE);
    new_query = query && *query ? g_strdup_printf ("%s&model=%s", query, model)
        : g_strdup_printf ("model=%s", model);
    g_free (model);
    query = new_query;
  }

  full = g_uri_build (G_URI_FLAGS_ENCODED, scheme, NULL, g_uri_get_host (uri),
      g_uri_get_port (uri), path, query, NULL);
  msg = soup_message_new_from_uri ("GET", full);
  headers = soup_message_get_request_headers (msg);
  if (host_is_azure (uri)) {
    soup_message_headers_replace (headers, "api-key", c->api_key);
  } else {
    gchar *auth = g_strdup_printf ("Bearer %s", c->api_key);
    soup_message_headers_replace (headers, "Authorization", auth);
    memset (auth, 0, strlen (auth));
    g_free (auth);
  }
  {
    /* the query is left out: Azure accepts the key as ?api-key= */
    gchar *s = g_uri_to_string_partial (full, G_URI_HIDE_USERINFO |
        G_URI_HIDE_AUTH_PARAMS | G_URI_HIDE_QUERY);
    GST_INFO_OBJECT (base, "connecting to %s, model %s", s, c->model);
    g_free (s);
  }

  g_uri_unref (full);
  g_uri_unref (uri);
  g_free (new_query);
  g_free (new_path);
  return msg;
}

static void
gst_s2s_openai_session_open (GstS2SBase * base, const GstS2SConfig * c)
{
  GstS2SOpenAIPrivate *priv = PRIV (base);

  g_clear_pointer (&priv->sent_voice, g_free);
  g_free (priv->initial_update_id);
  priv->initial_update_id = send_session_update (GST_S2S_OPENAI (base), c,
      TRUE);
}

static void
gst_s2s_openai_session_update (GstS2SBase * base, const GstS2SConfig * c)
{
  g_free (send_session_update (GST_S2S_OPENAI (base), c, FALSE));
}

static void
gst_s2s_openai_send_history (GstS2SBase * base, JsonArray * items)
{
  guint i;

  for (i = 0; i < json_array_get_length (items); i++) {
    JsonObject *o = json_array_get_object_element (items, i);
    const gchar *type = json_object_get_string_member_with_default (o, "type",
        "message");
    JsonObject *item;

    if (g_str_equal (type, "message")) {
      item = message_item (json_object_get_string_member (o, "role"),
          json_object_get_string_member (o, "text"));
    } else {
      item = json_object_new ();
      json_object_set_string_member (item, "type", type);
      json_object_set_string_member (item, "call_id",
          json_object_get_string_member (o, "call_id"));
      if (g_str_equal (type, "function_call")) {
        json_object_set_string_member (item, "name",
            json_object_get_string_member (o, "name"));
        json_object_set_string_member (item, "arguments",
            json_object_get_string_member (o, "arguments"));
      } else {
        json_object_set_string_member (item, "output",
            json_object_get_string_member (o, "output"));
      }
    }
    send_item (GST_S2S_OPENAI (base), item);
  }
}

static const gchar append_prefix[] =
    "{\"type\":\"input_audio_buffer.append\",\"audio\":\"";

gsize
gst_s2s_openai_append_size (gsize size)
{
  gsize b64 = gst_s2s_base64_encoded_size (size);

  if (b64 == 0 && size > 0)
    return 0;
  return sizeof (append_prefix) - 1 + b64 + 3;
}

gsize
gst_s2s_openai_write_append (const guint8 * data, gsize size, gchar * out)
{
  gsize n = sizeof (append_prefix) - 1;

  memcpy (out, append_prefix, n);
  n += gst_s2s_base64_encode (data, size, out + n);
  out[n++] = '"';
  out[n++] = '}';
  out[n] = '\0';
  return n;
}

gchar *
gst_s2s_openai_build_append (const guint8 * data, gsize size, gsize * len)
{
  gsize room = gst_s2s_openai_append_size (size);
  gchar *text;

  g_return_val_if_fail (room > 0, NULL);
  text = g_malloc (room);
  *len = gst_s2s_openai_write_append (data, size, text);
  return text;
}

/* Appends of up to APPEND_STACK_BYTES of audio (85 ms of 24 kHz PCM: every
 * buffer of a live source) are built on the stack; longer ones in the heap */
#define APPEND_STACK_BYTES 4096

static void
gst_s2s_openai_send_audio (GstS2SBase * base, const guint8 * data, gsize size)
{
  gsize max = 48000, off;       /* 1 s of 24 kHz PCM, 6 s of G.711 */
  gchar stack[(APPEND_STACK_BYTES + 2) / 3 * 4 + 64];

  G_STATIC_ASSERT (sizeof (stack) >= sizeof (append_prefix) +
      (APPEND_STACK_BYTES + 2) / 3 * 4 + 2);
  for (off = 0; off < size; off += max) {
    gsize n = MIN (max, size - off), len;
    gchar *text = n <= APPEND_STACK_BYTES ? stack :
        g_malloc (gst_s2s_openai_append_size (n));

    len = gst_s2s_openai_write_append (data + off, n, text);
    gst_s2s_base_send (base, text, len);
    if (text != stack)
      g_free (text);
  }
}

/* send_audio keeps no state: it may run on the streaming thread */
static gboolean
gst_s2s_openai_send_audio_any_thread (GstS2SBase * base)
{
  return TRUE;
}

static void
gst_s2s_openai_create_response (GstS2SBase * base)
{
  send_simple (GST_S2S_OPENAI (base), "response.create");
}

static void
gst_s2s_openai_commit (GstS2SBase * base)
{
  send_simple (GST_S2S_OPENAI (base), "input_audio_buffer.commit");
  send_simple (GST_S2S_OPENAI (base), "response.create");
}

static void
gst_s2s_openai_cancel_response (GstS2SBase * base, const gchar * response_id)
{
  JsonObject *ev = json_object_new ();

  json_object_set_string_member (ev, "type", "response.cancel");
  if (response_id)
    json_object_set_string_member (ev, "response_id", response_id);
  send_event (base, ev);
}

static void
gst_s2s_openai_truncate (GstS2SBase * base, const gchar * item_id,
    guint audio_end_ms)
{
  JsonObject *ev = json_object_new ();

  json_object_set_string_member (ev, "type", "conversation.item.truncate");
  json_object_set_string_member (ev, "item_id", item_id);
  json_object_set_int_member (ev, "content_index", 0);
  json_object_set_int_member (ev, "audio_end_ms", audio_end_ms);
  send_event (base, ev);
}

static void
gst_s2s_openai_send_tool_result (GstS2SBase * base, const gchar * call_id,
    const gchar * output)
{
  JsonObject *item = json_object_new ();

  json_object_set_string_member (item, "type", "function_call_output");
  json_object_set_string_member (item, "call_id", call_id);
  json_object_set_string_member (item, "output", output);
  send_item (GST_S2S_OPENAI (base), item);
}

static void
gst_s2s_openai_send_text (GstS2SBase * base, const gchar * role,
    const gchar * text)
{
  if (g_str_equal (role, "assistant-say")) {
    /* external reasoning: the model voices the app's words */
    JsonObject *ev = json_object_new ();
    JsonObject *resp = json_object_new ();
    gchar *instr = g_strdup_printf ("Say exactly the following text, word "
        "for word, and nothing else:\n%s", text);

    json_object_set_string_member (resp, "instructions", instr);
    json_object_set_string_member (ev, "type", "response.create");
    json_object_set_object_member (ev, "response", resp);
    send_event (base, ev);
    g_free (instr);
    return;
  }
  send_item (GST_S2S_OPENAI (base), message_item (role, text));
}

/* ------------------------------------------------------------------------ */
/* Server events */

const gchar *
gst_s2s_openai_str_member (JsonObject * o, const gchar * name)
{
  JsonNode *n;

  if (o == NULL)
    return NULL;
  n = json_object_get_member (o, name);
  if (n && JSON_NODE_HOLDS_VALUE (n) &&
      json_node_get_value_type (n) == G_TYPE_STRING)
    return json_node_get_string (n);
  return NULL;
}

gint64
gst_s2s_openai_int_member (JsonObject * o, const gchar * name)
{
  JsonNode *n;

  if (o == NULL)
    return 0;
  n = json_object_get_member (o, name);
  if (n && JSON_NODE_HOLDS_VALUE (n) &&
      (json_node_get_value_type (n) == G_TYPE_INT64 ||
          json_node_get_value_type (n) == G_TYPE_DOUBLE))
    return json_node_get_int (n);
  return 0;
}

JsonObject *
gst_s2s_openai_obj_member (JsonObject * o, const gchar * name)
{
  JsonNode *n;

  if (o == NULL)
    return NULL;
  n = json_object_get_member (o, name);
  return n && JSON_NODE_HOLDS_OBJECT (n) ? json_node_get_object (n) : NULL;
}

static void
handle_error_event (GstS2SOpenAI * self, JsonObject * ev)
{
  GstS2SOpenAIPrivate *priv = PRIV (self);
  JsonObject *err = gst_s2s_openai_obj_member (ev, "error");
  const gchar *type, *code, *message, *event_id;
  GstS2SErrorCode ec = GST_S2S_ERROR_INVALID_REQUEST;
  gboolean fatal = FALSE, retryable = FALSE;

  /* some servers send the error as a plain string */
  if (err == NULL) {
    message = gst_s2s_openai_str_member (ev, "error");
    gst_s2s_base_provider_error (GST_S2S_BASE (self),
        GST_S2S_ERROR_SERVER_ERROR, FALSE, TRUE, NULL,
        message ? message : "error event without details");
    return;
  }
  type = gst_s2s_openai_str_member (err, "type");
  code = gst_s2s_openai_str_member (err, "code");
  message = gst_s2s_openai_str_member (err, "message");
  event_id = gst_s2s_openai_str_member (err, "event_id");

  if (g_strcmp0 (code, "invalid_api_key") == 0) {
    ec = GST_S2S_ERROR_AUTHENTICATION;
    fatal = TRUE;
  } else if (g_strcmp0 (code, "insufficient_quota") == 0) {
    ec = GST_S2S_ERROR_QUOTA;
    fatal = TRUE;
  } else if (g_strcmp0 (code, "rate_limit_exceeded") == 0) {
    ec = GST_S2S_ERROR_RATE_LIMIT;
    retryable = TRUE;
  } else if (g_strcmp0 (code, "session_expired") == 0) {
    ec = GST_S2S_ERROR_SESSION_EXPIRED;
    fatal = TRUE;
    retryable = TRUE;
  } else if (g_strcmp0 (code, "beta_api_shape_disabled") == 0) {
    fatal = TRUE;
  } else if (g_strcmp0 (type, "server_error") == 0) {
    ec = GST_S2S_ERROR_SERVER_ERROR;
    fatal = TRUE;
    retryable = TRUE;
  } else if (event_id && g_strcmp0 (event_id, priv->initial_update_id) == 0) {
    /* the session configuration itself was refused: nothing would work */
    fatal = TRUE;
  }
  /* the rest (active response, empty commit, truncate range, bad params)
   * leave the socket open: a WARNING and the session goes on */
  gst_s2s_base_provider_error (GST_S2S_BASE (self), ec, fatal, retryable,
      code ? code : type, message);
}

static void
handle_audio_delta (GstS2SOpenAI * self, JsonObject * ev)
{
  const gchar *b64 = gst_s2s_openai_str_member (ev, "delta");
  gchar *buf;
  gsize len = 0;

  if (b64 == NULL || *b64 == '\0')
    return;
  if (b64[1] == '\0') {
    /* g_base64_decode_inplace needs two characters at least */
    gst_s2s_base_provider_error (GST_S2S_BASE (self), GST_S2S_ERROR_PROTOCOL,
        FALSE, FALSE, NULL, "audio delta is not base64");
    return;
  }
  buf = g_strdup (b64);
  g_base64_decode_inplace (buf, &len);
  gst_s2s_base_response_audio (GST_S2S_BASE (self),
      gst_s2s_openai_str_member (ev, "response_id"),
      gst_s2s_openai_str_member (ev, "item_id"), (const guint8 *) buf, len);
  g_free (buf);
}

static void
handle_response_done (GstS2SOpenAI * self, JsonObject * ev)
{
  JsonObject *resp = gst_s2s_openai_obj_member (ev, "response");
  JsonObject *usage = gst_s2s_openai_obj_member (resp, "usage");
  const gchar *status = gst_s2s_openai_str_member (resp, "status");

  if (usage) {
    JsonObject *in = gst_s2s_openai_obj_member (usage, "input_token_details");
    JsonObject *out = gst_s2s_openai_obj_member (usage, "output_token_details");
    GstS2SUsage u = { 0, };

    u.input_tokens = gst_s2s_openai_int_member (usage, "input_tokens");
    u.output_tokens = gst_s2s_openai_int_member (usage, "output_tokens");
    u.input_audio_tokens = gst_s2s_openai_int_member (in, "audio_tokens");
    u.cached_tokens = gst_s2s_openai_int_member (in, "cached_tokens");
    u.output_audio_tokens = gst_s2s_openai_int_member (out, "audio_tokens");
    gst_s2s_base_usage (GST_S2S_BASE (self), &u);
  }
  if (g_strcmp0 (status, "failed") == 0) {
    JsonObject *details = gst_s2s_openai_obj_member (resp, "status_details");
    JsonObject *err = gst_s2s_openai_obj_member (details, "error");
    gst_s2s_base_provider_error (GST_S2S_BASE (self),
        GST_S2S_ERROR_SERVER_ERROR, FALSE, TRUE, gst_s2s_openai_str_member (err,
            "code"), gst_s2s_openai_str_member (err,
            "message") ? gst_s2s_openai_str_member (err,
            "message") : "response failed");
  }
  gst_s2s_base_response_done (GST_S2S_BASE (self),
      gst_s2s_openai_str_member (resp, "id"), status ? status : "completed");
}

static void
dispatch_event (GstS2SOpenAI * self, const gchar * type, JsonObject * ev)
{
  GstS2SBase *base = GST_S2S_BASE (self);
  GstS2SOpenAIPrivate *priv = PRIV (self);
  GstS2SOpenAIClass *klass = GST_S2S_OPENAI_GET_CLASS (self);

  if (klass->handle_event && klass->handle_event (self, type, ev))
    return;
  /* most frequent first; beta names are accepted on receive */
  if (g_str_equal (type, "response.output_audio.delta") ||
      g_str_equal (type, "response.audio.delta")) {
    handle_audio_delta (self, ev);
  } else if (g_str_equal (type, "response.output_audio_transcript.delta") ||
      g_str_equal (type, "response.audio_transcript.delta") ||
      g_str_equal (type, "response.output_text.delta") ||
      g_str_equal (type, "response.text.delta")) {
    const gchar *delta = gst_s2s_openai_str_member (ev, "delta");
    if (delta)
      gst_s2s_base_transcript (base, "assistant", gst_s2s_openai_str_member (ev,
              "item_id"), delta, FALSE);
  } else if (g_str_equal (type, "response.output_audio_transcript.done")
      || g_str_equal (type, "response.audio_transcript.done")) {
    const gchar *text = gst_s2s_openai_str_member (ev, "transcript");
    gst_s2s_base_transcript (base, "assistant", gst_s2s_openai_str_member (ev,
            "item_id"), text ? text : "", TRUE);
  } else if (g_str_equal (type, "response.output_text.done")
      || g_str_equal (type, "response.text.done")) {
    const gchar *text = gst_s2s_openai_str_member (ev, "text");
    gst_s2s_base_transcript (base, "assistant", gst_s2s_openai_str_member (ev,
            "item_id"), text ? text : "", TRUE);
  } else if (g_str_equal (type, "input_audio_buffer.speech_started")) {
    gst_s2s_base_speech_started (base, gst_s2s_openai_str_member (ev,
            "item_id"));
  } else if (g_str_equal (type, "input_audio_buffer.speech_stopped")) {
    gst_s2s_base_speech_stopped (base, gst_s2s_openai_str_member (ev,
            "item_id"));
  } else if (g_str_equal (type, "input_audio_buffer.committed")) {
    gst_s2s_base_item_added (base, gst_s2s_openai_str_member (ev, "item_id"),
        "message", "user");
  } else if (g_str_equal (type,
          "conversation.item.input_audio_transcription.delta")) {
    const gchar *delta = gst_s2s_openai_str_member (ev, "delta");
    if (delta)
      gst_s2s_base_transcript (base, "user", gst_s2s_openai_str_member (ev,
              "item_id"), delta, FALSE);
  } else if (g_str_equal (type,
          "conversation.item.input_audio_transcription.completed")) {
    const gchar *text = gst_s2s_openai_str_member (ev, "transcript");
    gst_s2s_base_transcript (base, "user", gst_s2s_openai_str_member (ev,
            "item_id"), text ? text : "", TRUE);
  } else if (g_str_equal (type,
          "conversation.item.input_audio_transcription.failed")) {
    JsonObject *err = gst_s2s_openai_obj_member (ev, "error");
    GST_WARNING_OBJECT (self, "input transcription failed: %s",
        GST_STR_NULL (gst_s2s_openai_str_member (err, "message")));
  } else if (g_str_equal (type, "response.created")) {
    gst_s2s_base_response_started (base,
        gst_s2s_openai_str_member (gst_s2s_openai_obj_member (ev, "response"),
            "id"));
  } else if (g_str_equal (type, "response.output_item.added")) {
    JsonObject *item = gst_s2s_openai_obj_member (ev, "item");
    const gchar *itype = gst_s2s_openai_str_member (item, "type");
    if (g_strcmp0 (itype, "message") == 0)
      gst_s2s_base_item_added (base, gst_s2s_openai_str_member (item, "id"),
          "message", "assistant");
    else if (g_strcmp0 (itype, "function_call") == 0
        && gst_s2s_openai_str_member (item, "id")
        && gst_s2s_openai_str_member (item, "name"))
      g_hash_table_insert (priv->call_names,
          g_strdup (gst_s2s_openai_str_member (item, "id")),
          g_strdup (gst_s2s_openai_str_member (item, "name")));
  } else if (g_str_equal (type, "response.function_call_arguments.done")) {
    const gchar *call_id = gst_s2s_openai_str_member (ev, "call_id");
    const gchar *name = gst_s2s_openai_str_member (ev, "name");
    const gchar *args = gst_s2s_openai_str_member (ev, "arguments");
    if (name == NULL && gst_s2s_openai_str_member (ev, "item_id"))
      name =
          g_hash_table_lookup (priv->call_names, gst_s2s_openai_str_member (ev,
              "item_id"));
    if (call_id && name)
      gst_s2s_base_tool_call (base, call_id, name, args ? args : "{}");
    else
      gst_s2s_base_provider_error (base, GST_S2S_ERROR_PROTOCOL, FALSE, FALSE,
          NULL, "function call without call_id or name");
    /* the name was needed for this event only: a long session must not
     * keep one entry per call */
    if (gst_s2s_openai_str_member (ev, "item_id"))
      g_hash_table_remove (priv->call_names, gst_s2s_openai_str_member (ev,
              "item_id"));
  } else if (g_str_equal (type, "response.done")) {
    handle_response_done (self, ev);
  } else if (g_str_equal (type, "session.created")) {
    JsonObject *session = gst_s2s_openai_obj_member (ev, "session");
    g_free (priv->session_id);
    priv->session_id = g_strdup (gst_s2s_openai_str_member (session, "id"));
  } else if (g_str_equal (type, "session.updated")) {
    gst_s2s_base_session_ready (base, priv->session_id);
  } else if (g_str_equal (type, "error")) {
    handle_error_event (self, ev);
  } else {
    GST_LOG_OBJECT (self, "ignoring %s", type);
  }
}


/* ------------------------------------------------------------------------ */
/* The fast path for audio deltas
 *
 * Audio deltas are nearly all of a reply's events and mostly one long
 * base64 string; json-glib scans that string a character at a time and
 * copies it before base64 has to decode it again. The scanner below takes
 * only the plain form servers send: one flat object of string and integer
 * members, no escapes, no duplicate keys, printable ASCII, and decodes the
 * delta (strict base64) straight into the output buffer. Anything else
 * returns FALSE and goes through json-glib as before, so errors and
 * lenient decoding stay what they were. */

#define FAST_MAX_KEYS 16

static inline const gchar *
fast_skip_ws (const gchar * p, const gchar * end)
{
  while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
    p++;
  return p;
}

/* a string of printable ASCII without escapes at @p (its opening quote):
 * its text in @s / @len, and the position after its closing quote */
static const gchar *
fast_string (const gchar * p, const gchar * end, const gchar ** s, gsize * len)
{
  const gchar *q;

  if (p >= end || *p != '"')
    return NULL;
  for (q = ++p; q < end && *q != '"'; q++) {
    guchar c = *q;
    if (c < 0x20 || c > 0x7e || c == '\\')
      return NULL;
  }
  if (q >= end)
    return NULL;
  *s = p;
  *len = q - p;
  return q + 1;
}

/* -?(0|[1-9][0-9]*), 15 digits at most: exact in json-glib's int64 (no
 * fraction or exponent: the caller wants ',' or '}' next) */
static const gchar *
fast_int (const gchar * p, const gchar * end, gint64 * v)
{
  gboolean neg = FALSE;
  gint64 r = 0;
  guint digits = 0;

  if (p < end && *p == '-') {
    neg = TRUE;
    p++;
  }
  if (p >= end || !g_ascii_isdigit (*p))
    return NULL;
  if (*p == '0') {
    p++;
    if (p < end && g_ascii_isdigit (*p))
      return NULL;
  } else {
    for (; p < end && g_ascii_isdigit (*p); p++) {
      if (++digits > 15)
        return NULL;
      r = r * 10 + (*p - '0');
    }
  }
  *v = neg ? -r : r;
  return p;
}

#define KEY_IS(k, klen, lit) \
    ((klen) == sizeof (lit) - 1 && memcmp ((k), (lit), sizeof (lit) - 1) == 0)

static gboolean
fast_copy_id (gchar * buf, const gchar * s, gsize len, const gchar ** out)
{
  if (len >= GST_S2S_OPENAI_FAST_ID_MAX)
    return FALSE;
  memcpy (buf, s, len);
  buf[len] = '\0';
  *out = buf;
  return TRUE;
}

gboolean
gst_s2s_openai_scan_audio_delta (const gchar * data, gsize size,
    GstS2SOpenAIAudioDelta * ev)
{
  const gchar *p = data, *end = data + size;
  const gchar *keys[FAST_MAX_KEYS];
  gsize key_lens[FAST_MAX_KEYS];
  guint n_keys = 0, i;

  ev->type = ev->response_id = ev->item_id = ev->event_id = NULL;
  ev->output_index = ev->content_index = -1;
  ev->delta = NULL;
  ev->delta_len = 0;

  p = fast_skip_ws (p, end);
  if (p >= end || *p != '{')
    return FALSE;
  p = fast_skip_ws (p + 1, end);
  for (;;) {
    const gchar *k, *v;
    gsize klen, vlen;

    p = fast_string (p, end, &k, &klen);
    if (p == NULL || n_keys == FAST_MAX_KEYS)
      return FALSE;
    for (i = 0; i < n_keys; i++)
      if (key_lens[i] == klen && memcmp (keys[i], k, klen) == 0)
        return FALSE;
    keys[n_keys] = k;
    key_lens[n_keys++] = klen;

    p = fast_skip_ws (p, end);
    if (p >= end || *p != ':')
      return FALSE;
    p = fast_skip_ws (p + 1, end);
    if (p >= end)
      return FALSE;

    if (*p == '"' && KEY_IS (k, klen, "delta")) {
      /* the base64 decoder checks every character of it later: any escape
       * or control character fails there */
      const gchar *q = memchr (p + 1, '"', end - (p + 1));

      if (q == NULL)
        return FALSE;
      ev->delta = p + 1;
      ev->delta_len = q - (p + 1);
      p = q + 1;
    } else if (*p == '"') {
      p = fast_string (p, end, &v, &vlen);
      if (p == NULL)
        return FALSE;
      if (KEY_IS (k, klen, "type")) {
        if (KEY_IS (v, vlen, "response.output_audio.delta"))
          ev->type = "response.output_audio.delta";
        else if (KEY_IS (v, vlen, "response.audio.delta"))
          ev->type = "response.audio.delta";
        else
          return FALSE;         /* another event: json-glib's */
      } else if (KEY_IS (k, klen, "response_id")) {
        if (!fast_copy_id (ev->response_id_buf, v, vlen, &ev->response_id))
          return FALSE;
      } else if (KEY_IS (k, klen, "item_id")) {
        if (!fast_copy_id (ev->item_id_buf, v, vlen, &ev->item_id))
          return FALSE;
      } else if (KEY_IS (k, klen, "event_id")) {
        if (!fast_copy_id (ev->event_id_buf, v, vlen, &ev->event_id))
          return FALSE;
      } else if (KEY_IS (k, klen, "output_index") ||
          KEY_IS (k, klen, "content_index")) {
        return FALSE;
      }
    } else if (*p == '-' || g_ascii_isdigit (*p)) {
      gint64 n;

      p = fast_int (p, end, &n);
      if (p == NULL)
        return FALSE;
      if (KEY_IS (k, klen, "output_index"))
        ev->output_index = n;
      else if (KEY_IS (k, klen, "content_index"))
        ev->content_index = n;
      else if (KEY_IS (k, klen, "type") || KEY_IS (k, klen, "response_id") ||
          KEY_IS (k, klen, "item_id") || KEY_IS (k, klen, "event_id") ||
          KEY_IS (k, klen, "delta"))
        return FALSE;
    } else {
      return FALSE;             /* objects, arrays, literals, floats */
    }

    p = fast_skip_ws (p, end);
    if (p >= end)
      return FALSE;
    if (*p == '}')
      break;
    if (*p != ',')
      return FALSE;
    p = fast_skip_ws (p + 1, end);
  }
  if (fast_skip_ws (p + 1, end) != end)
    return FALSE;
  return ev->type != NULL && ev->delta != NULL;
}

void
gst_s2s_openai_set_fast_path (GstS2SOpenAI * self, gboolean enabled)
{
  PRIV (self)->no_fast_path = !enabled;
}

/* TRUE when @data was an audio delta taken here */
static gboolean
handle_audio_delta_fast (GstS2SOpenAI * self, const gchar * data, gsize size)
{
  GstS2SOpenAIAudioDelta ev;
  GstBuffer *buf;
  GstMapInfo map;
  gsize len;
  gboolean ok;

  if (!gst_s2s_openai_scan_audio_delta (data, size, &ev) || ev.delta_len < 4)
    return FALSE;
  buf = gst_buffer_new_allocate (NULL,
      gst_s2s_base64_decoded_max (ev.delta_len), NULL);
  if (buf == NULL)
    return FALSE;
  if (!gst_buffer_map (buf, &map, GST_MAP_WRITE)) {
    gst_buffer_unref (buf);
    return FALSE;
  }
  ok = gst_s2s_base64_decode (ev.delta, ev.delta_len, map.data, &len);
  gst_buffer_unmap (buf, &map);
  if (!ok) {
    gst_buffer_unref (buf);
    return FALSE;
  }
  gst_buffer_set_size (buf, len);
  GST_TRACE_OBJECT (self, "event %s (%" G_GSIZE_FORMAT " bytes, fast path)",
      ev.type, size);
  gst_s2s_base_response_audio_buffer (GST_S2S_BASE (self), ev.response_id,
      ev.item_id, buf);
  return TRUE;
}

void
gst_s2s_openai_handle_event (GstS2SOpenAI * self, const gchar * data,
    gsize size)
{
  GstS2SOpenAIPrivate *priv = PRIV (self);
  JsonNode *root;
  JsonObject *ev;
  const gchar *type;
  GError *err = NULL;

  if (!priv->no_fast_path && handle_audio_delta_fast (self, data, size))
    return;
  if (!json_parser_load_from_data (priv->parser, data, size, &err)) {
    gchar *msg = g_strdup_printf ("malformed event: %s", err->message);
    gst_s2s_base_provider_error (GST_S2S_BASE (self), GST_S2S_ERROR_PROTOCOL,
        FALSE, FALSE, NULL, msg);
    g_free (msg);
    g_clear_error (&err);
    return;
  }
  root = json_parser_get_root (priv->parser);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root) ||
      (type = gst_s2s_openai_str_member (ev =
              json_node_get_object (root), "type")) == NULL) {
    gst_s2s_base_provider_error (GST_S2S_BASE (self), GST_S2S_ERROR_PROTOCOL,
        FALSE, FALSE, NULL, "event is not an object with a type");
    return;
  }
  GST_TRACE_OBJECT (self, "event %s (%" G_GSIZE_FORMAT " bytes)", type, size);
  dispatch_event (self, type, ev);
}

static void
gst_s2s_openai_handle_message (GstS2SBase * base, GBytes * data,
    gboolean binary)
{
  gsize size;
  const gchar *text = g_bytes_get_data (data, &size);

  if (binary) {
    gst_s2s_base_provider_error (base, GST_S2S_ERROR_PROTOCOL, FALSE, FALSE,
        NULL, "unexpected binary frame");
    return;
  }
  gst_s2s_openai_handle_event (GST_S2S_OPENAI (base), text, size);
}

/* ------------------------------------------------------------------------ */

static void
gst_s2s_openai_finalize (GObject * object)
{
  GstS2SOpenAIPrivate *priv = PRIV (object);

  g_object_unref (priv->parser);
  g_free (priv->session_id);
  g_free (priv->initial_update_id);
  g_free (priv->sent_voice);
  g_hash_table_unref (priv->call_names);
  G_OBJECT_CLASS (gst_s2s_openai_parent_class)->finalize (object);
}

static void
gst_s2s_openai_class_init (GstS2SOpenAIClass * klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);
  GstS2SBaseClass *base_class = GST_S2S_BASE_CLASS (klass);

  gobject_class->finalize = gst_s2s_openai_finalize;

  gst_element_class_add_static_pad_template (element_class, &sink_template);
  gst_element_class_add_static_pad_template (element_class, &src_template);
  gst_element_class_set_static_metadata (element_class,
      "OpenAI Realtime speech-to-speech", "Filter/Effect/Audio/Network",
      "Talks with OpenAI's Realtime API (GA, and Azure OpenAI): user speech "
      "in, model speech out, with transcripts and tool calls",
      "gst-s2s developers");

  base_class->provider = "openai";
  base_class->api_key_env = "OPENAI_API_KEY";
  base_class->default_url = "wss://api.openai.com/v1/realtime";
  base_class->default_model = "gpt-realtime";
  base_class->default_voice = "marin";
  base_class->server_cancels_on_speech = TRUE;

  base_class->check_config = gst_s2s_openai_check_config;
  base_class->build_request = gst_s2s_openai_build_request;
  base_class->session_open = gst_s2s_openai_session_open;
  base_class->session_update = gst_s2s_openai_session_update;
  base_class->send_history = gst_s2s_openai_send_history;
  base_class->handle_message = gst_s2s_openai_handle_message;
  base_class->send_audio = gst_s2s_openai_send_audio;
  base_class->send_audio_any_thread = gst_s2s_openai_send_audio_any_thread;
  base_class->commit = gst_s2s_openai_commit;
  base_class->create_response = gst_s2s_openai_create_response;
  base_class->cancel_response = gst_s2s_openai_cancel_response;
  base_class->truncate = gst_s2s_openai_truncate;
  base_class->send_tool_result = gst_s2s_openai_send_tool_result;
  base_class->send_text = gst_s2s_openai_send_text;

  klass->build_session = gst_s2s_openai_build_session;
}

static void
gst_s2s_openai_init (GstS2SOpenAI * self)
{
  GstS2SOpenAIPrivate *priv = PRIV (self);

  priv->parser = json_parser_new ();
  priv->call_names = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
      g_free);
}
