/* gst-s2s
 * Copyright (C) 2026 gst-s2s developers
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2.1 of the License, or (at your option) any later version.
 */

/**
 * SECTION:element-s2sgemini
 * @title: s2sgemini
 *
 * Streams the user's voice to Google's Gemini Live API (native audio) over
 * a WebSocket and plays the model's spoken reply on its src pad, with
 * transcripts, tool calls, usage and barge-in reported as the same element
 * messages as every s2s element (`s2s-session`, `s2s-speech`,
 * `s2s-transcript`, `s2s-response`, `s2s-tool-call`, `s2s-tool-cancel`,
 * `s2s-usage`).
 *
 * Input is 16 kHz S16LE mono PCM, output 24 kHz S16LE mono PCM, as Gemini
 * takes and sends them. The key comes from `api-key`, `GEMINI_API_KEY` or
 * `GOOGLE_API_KEY` and travels in the `x-goog-api-key` header. For Vertex
 * AI set `vertex-project` (and `vertex-location`) and `access-token` (an
 * OAuth2 token, sent as a bearer token): the element then talks to the
 * regional Vertex endpoint with the model's full resource path.
 *
 * Gemini closes a connection after about ten minutes, announcing it with
 * `goAway`. The element asks for session resumption handles and moves to a
 * new connection resumed with the latest one, at a turn boundary before the
 * announced end (`s2s-session` state `rotating`), or after a dropped
 * connection (`reconnecting`): input captured meanwhile is sent on the new
 * connection, the output timeline goes on, the history is not sent again.
 * A sliding-window context compression keeps the session itself unbounded.
 *
 * Gemini has no truncate: after barge-in the server keeps what it generated
 * up to the interruption, while the `history` property read back keeps the
 * part of the reply the user heard (the transcript cut in proportion to the
 * audio played).
 *
 * ## Example launch line
 * |[
 * gst-launch-1.0 -m filesrc location=question-24k.wav ! wavparse ! \
 *     audioconvert ! audioresample ! s2sgemini url=ws://127.0.0.1:8765 \
 *     api-key=test ! wavenc ! filesink location=reply.wav
 * ]| Against `s2s-emulator --port 8765`: sends the question, writes the
 * reply and prints the transcripts as `s2s-transcript` messages.
 *
 * |[
 * gst-launch-1.0 autoaudiosrc ! audioconvert ! audioresample ! \
 *     s2sgemini ! audioconvert ! autoaudiosink
 * ]| A live conversation with Gemini (needs `GEMINI_API_KEY`).
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <string.h>
#include <glib/gi18n-lib.h>

#include "gsts2sgemini.h"
#include "gsts2sbase-private.h"
#include "gsts2selements.h"
#include "gsts2sbase64.h"

GST_DEBUG_CATEGORY_STATIC (gst_s2s_gemini_debug);
#define GST_CAT_DEFAULT gst_s2s_gemini_debug

#define GEMINI_PATH \
    "/ws/google.ai.generativelanguage.v1beta.GenerativeService.BidiGenerateContent"
#define VERTEX_PATH \
    "/ws/google.cloud.aiplatform.v1beta1.LlmBidiService/BidiGenerateContent"
#define DEFAULT_VERTEX_LOCATION "us-central1"
/* Audio per realtimeInput message: 100 ms, the top of Gemini's advice */
#define MAX_AUDIO_CHUNK 3200
/* Unconfirmed input kept for a successor at most (16 kHz S16 mono) */
#define MAX_UNCONFIRMED_BYTES (30 * 16000 * 2)
/* Past it the oldest second goes at once */
#define UNCONFIRMED_DROP_STEP (16000 * 2)

/* Resumption handles stay valid this long after the session ends */
#define HANDLE_LIFETIME_US (2 * G_TIME_SPAN_HOUR)

#define SINK_CAPS \
    "audio/x-raw, format = (string) S16LE, layout = (string) interleaved, " \
    "rate = (int) 16000, channels = (int) 1"
#define SRC_CAPS \
    "audio/x-raw, format = (string) S16LE, layout = (string) interleaved, " \
    "rate = (int) 24000, channels = (int) 1"

static GstStaticPadTemplate sink_template = GST_STATIC_PAD_TEMPLATE ("sink",
    GST_PAD_SINK, GST_PAD_ALWAYS, GST_STATIC_CAPS (SINK_CAPS));
static GstStaticPadTemplate src_template = GST_STATIC_PAD_TEMPLATE ("src",
    GST_PAD_SRC, GST_PAD_ALWAYS, GST_STATIC_CAPS (SRC_CAPS));

enum
{
  PROP_0,
  PROP_VERTEX_PROJECT,
  PROP_VERTEX_LOCATION,
  PROP_ACCESS_TOKEN,
};

struct _GstS2SGemini
{
  GstS2SBase parent;

  /* settings, object lock */
  gchar *vertex_project;
  gchar *vertex_location;
  gchar *access_token;

  /* I/O thread */
  JsonParser *parser;
  gboolean vertex;              /* this session talks to Vertex AI */
  gboolean manual;              /* turn-detection none: activityStart/End */
  gboolean realtime_text;       /* 3.x: text goes as realtimeInput */
  gboolean activity_open;
  gboolean text_pending;        /* clientContent sent without turnComplete */
  gboolean text_turn;           /* the next response answers text */
  gchar *handle;                /* latest resumable handle */
  gint64 handle_time;
  gboolean handle_fresh;        /* nothing happened since the handle */
  gboolean replay_on_ready;     /* a successor without a handle */
  gboolean lost;                /* the connection dropped: resend input */

  /* Audio sent on this connection that no resumption handle covers yet,
   * and how much of it had gone out when the last server message came:
   * a handle covers the audio sent before the message preceding it. */
  GMutex unconfirmed_lock;
  GByteArray *unconfirmed;
  guint unconfirmed_mark;       /* I/O thread */
  gboolean response_open;
  guint resp_serial;
  guint user_serial;
  gchar *resp_id;
  gchar *model_item;
  GString *in_text;
  GString *out_text;
  GHashTable *call_names;       /* call id -> function name */
  guint call_serial;
};

G_DEFINE_TYPE_WITH_CODE (GstS2SGemini, gst_s2s_gemini, GST_TYPE_S2S_BASE,
    GST_DEBUG_CATEGORY_INIT (gst_s2s_gemini_debug, "s2sgemini", 0,
        "Gemini Live speech-to-speech"));
GST_ELEMENT_REGISTER_DEFINE_WITH_CODE (s2sgemini, "s2sgemini", GST_RANK_NONE,
    GST_TYPE_S2S_GEMINI, s2s_element_init (plugin));

/* ------------------------------------------------------------------------ */
/* JSON helpers */

static JsonObject *
array_object (JsonArray * a, guint i)
{
  JsonNode *n = json_array_get_element (a, i);

  return n && JSON_NODE_HOLDS_OBJECT (n) ? json_node_get_object (n) : NULL;
}

/* Sends {"@key": @value}; takes @value */
static void
send_message (GstS2SGemini * self, const gchar * key, JsonObject * value)
{
  JsonObject *msg = json_object_new ();
  JsonNode *root = json_node_new (JSON_NODE_OBJECT);

  json_object_set_object_member (msg, key, value);
  json_node_take_object (root, msg);
  gst_s2s_base_send_json (GST_S2S_BASE (self), root);
  json_node_unref (root);
}

/* A JSON text as a node: objects and arrays as such, anything else (or text
 * that is not JSON) as a string */
static JsonNode *
json_or_string (const gchar * text)
{
  JsonNode *node = text ? json_from_string (text, NULL) : NULL;

  if (node == NULL) {
    node = json_node_new (JSON_NODE_VALUE);
    json_node_set_string (node, text ? text : "");
  }
  return node;
}

GstClockTime
gst_s2s_gemini_parse_duration (const gchar * text)
{
  gchar *end = NULL;
  gdouble secs;

  if (text == NULL)
    return GST_CLOCK_TIME_NONE;
  secs = g_ascii_strtod (text, &end);
  if (end == text || secs < 0 || secs > 24 * 3600 ||
      (*end != 's' && *end != '\0'))
    return GST_CLOCK_TIME_NONE;
  return (GstClockTime) (secs * GST_SECOND);
}

/* ------------------------------------------------------------------------ */
/* setup */

/* JSON Schema types in Gemini's OpenAPI form: "object" -> "OBJECT" */
static void
upper_case_types (JsonNode * node)
{
  if (JSON_NODE_HOLDS_OBJECT (node)) {
    JsonObject *o = json_node_get_object (node);
    GList *members = json_object_get_members (o), *l;

    for (l = members; l; l = l->next) {
      JsonNode *m = json_object_get_member (o, l->data);
      if (g_str_equal (l->data, "type") && JSON_NODE_HOLDS_VALUE (m) &&
          json_node_get_value_type (m) == G_TYPE_STRING) {
        gchar *up = g_ascii_strup (json_node_get_string (m), -1);
        json_node_set_string (m, up);
        g_free (up);
      } else {
        upper_case_types (m);
      }
    }
    g_list_free (members);
  } else if (JSON_NODE_HOLDS_ARRAY (node)) {
    JsonArray *a = json_node_get_array (node);
    guint i;

    for (i = 0; i < json_array_get_length (a); i++)
      upper_case_types (json_array_get_element (a, i));
  }
}

static JsonArray *
build_tools (JsonArray * tools)
{
  JsonArray *decls = json_array_new ();
  JsonArray *out = json_array_new ();
  JsonObject *wrap = json_object_new ();
  guint i;

  for (i = 0; i < json_array_get_length (tools); i++) {
    JsonObject *t = json_array_get_object_element (tools, i);
    JsonObject *d = json_object_new ();
    JsonNode *params = json_object_get_member (t, "parameters");

    json_object_set_string_member (d, "name",
        json_object_get_string_member (t, "name"));
    json_object_set_string_member (d, "description",
        json_object_get_string_member_with_default (t, "description", ""));
    if (params && JSON_NODE_HOLDS_OBJECT (params)) {
      /* json_node_copy() shares the object: copy through text */
      gchar *text = json_to_string (params, FALSE);
      JsonNode *copy = json_from_string (text, NULL);
      g_free (text);
      upper_case_types (copy);
      json_object_set_member (d, "parameters", copy);
    }
    json_array_add_object_element (decls, d);
  }
  json_object_set_array_member (wrap, "functionDeclarations", decls);
  json_array_add_object_element (out, wrap);
  return out;
}

static gchar *
model_path (GstS2SGemini * self, const gchar * model)
{
  gchar *path;

  if (g_str_has_prefix (model, "projects/") ||
      g_str_has_prefix (model, "models/") ||
      g_str_has_prefix (model, "tunedModels/"))
    return g_strdup (model);
  if (!self->vertex)
    return g_strdup_printf ("models/%s", model);
  GST_OBJECT_LOCK (self);
  path = g_strdup_printf ("projects/%s/locations/%s/publishers/google/"
      "models/%s", self->vertex_project, self->vertex_location ?
      self->vertex_location : DEFAULT_VERTEX_LOCATION, model);
  GST_OBJECT_UNLOCK (self);
  return path;
}

static JsonObject *
build_realtime_input_config (const GstS2SConfig * c)
{
  JsonObject *cfg = json_object_new ();
  JsonObject *aad = json_object_new ();

  json_object_set_boolean_member (aad, "disabled",
      c->turn_detection == GST_S2S_TURN_DETECTION_NONE);
  if (c->turn_detection != GST_S2S_TURN_DETECTION_NONE) {
    /* a higher threshold means less sensitive, as OpenAI's threshold */
    if (c->vad_threshold >= 0)
      json_object_set_string_member (aad, "startOfSpeechSensitivity",
          c->vad_threshold >= 0.5 ? "START_SENSITIVITY_LOW" :
          "START_SENSITIVITY_HIGH");
    if (c->prefix_padding >= 0)
      json_object_set_int_member (aad, "prefixPaddingMs", c->prefix_padding);
    if (c->silence_duration >= 0)
      json_object_set_int_member (aad, "silenceDurationMs",
          c->silence_duration);
  }
  json_object_set_object_member (cfg, "automaticActivityDetection", aad);
  json_object_set_string_member (cfg, "activityHandling",
      "START_OF_ACTIVITY_INTERRUPTS");
  return cfg;
}

static gboolean
is_gemini3 (const gchar * model)
{
  const gchar *base = strrchr (model, '/');

  base = base ? base + 1 : model;
  return g_str_has_prefix (base, "gemini-3");
}

/* The setup message: everything but the model may differ on a resumed
 * connection, and the handle makes it one */
static void
send_setup (GstS2SGemini * self, const GstS2SConfig * c, const gchar * handle)
{
  JsonObject *setup = json_object_new ();
  JsonObject *gen = json_object_new ();
  JsonObject *speech = json_object_new ();
  JsonObject *voice = json_object_new ();
  JsonObject *prebuilt = json_object_new ();
  JsonArray *modalities = json_array_new ();
  JsonObject *resumption = json_object_new ();
  JsonObject *compression = json_object_new ();
  gchar *model = model_path (self, c->model);

  json_object_set_string_member (setup, "model", model);
  g_free (model);

  json_array_add_string_element (modalities, "AUDIO");
  json_object_set_array_member (gen, "responseModalities", modalities);
  if (c->temperature >= 0)
    json_object_set_double_member (gen, "temperature", c->temperature);
  if (c->max_output_tokens > 0)
    json_object_set_int_member (gen, "maxOutputTokens", c->max_output_tokens);
  json_object_set_string_member (prebuilt, "voiceName", c->voice);
  json_object_set_object_member (voice, "prebuiltVoiceConfig", prebuilt);
  json_object_set_object_member (speech, "voiceConfig", voice);
  if (c->language && *c->language)
    json_object_set_string_member (speech, "languageCode", c->language);
  json_object_set_object_member (gen, "speechConfig", speech);
  json_object_set_object_member (setup, "generationConfig", gen);

  if (c->instructions && *c->instructions) {
    JsonObject *si = json_object_new ();
    JsonArray *parts = json_array_new ();
    JsonObject *part = json_object_new ();

    json_object_set_string_member (part, "text", c->instructions);
    json_array_add_object_element (parts, part);
    json_object_set_array_member (si, "parts", parts);
    json_object_set_object_member (setup, "systemInstruction", si);
  }
  if (c->tools && json_array_get_length (c->tools) > 0)
    json_object_set_array_member (setup, "tools", build_tools (c->tools));

  json_object_set_object_member (setup, "realtimeInputConfig",
      build_realtime_input_config (c));
  if (c->transcribe_input)
    json_object_set_object_member (setup, "inputAudioTranscription",
        json_object_new ());
  /* the assistant's words for transcripts and the history */
  json_object_set_object_member (setup, "outputAudioTranscription",
      json_object_new ());

  if (handle)
    json_object_set_string_member (resumption, "handle", handle);
  json_object_set_object_member (setup, "sessionResumption", resumption);
  json_object_set_object_member (compression, "slidingWindow",
      json_object_new ());
  json_object_set_object_member (setup, "contextWindowCompression",
      compression);
  if (is_gemini3 (c->model) && handle == NULL) {
    JsonObject *hc = json_object_new ();
    json_object_set_boolean_member (hc, "initialHistoryInClientContent", TRUE);
    json_object_set_object_member (setup, "historyConfig", hc);
  }

  GST_DEBUG_OBJECT (self, "setup for %s%s", c->model,
      handle ? ", resuming" : "");
  send_message (self, "setup", setup);
}

/* ------------------------------------------------------------------------ */
/* GstS2SBase vfuncs: client side */

static gboolean
gst_s2s_gemini_needs_api_key (GstS2SBase * base)
{
  GstS2SGemini *self = GST_S2S_GEMINI (base);
  gboolean needs;

  GST_OBJECT_LOCK (self);
  needs = self->access_token == NULL || *self->access_token == '\0';
  GST_OBJECT_UNLOCK (self);
  return needs;
}

static gboolean
gst_s2s_gemini_check_config (GstS2SBase * base, const GstS2SConfig * c,
    GError ** error)
{
  if (c->turn_detection == GST_S2S_TURN_DETECTION_SEMANTIC_VAD) {
    g_set_error (error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_SETTINGS,
        "turn-detection: %s",
        _("Gemini offers server-vad or none, not semantic-vad"));
    return FALSE;
  }
  if (c->reasoning == GST_S2S_REASONING_EXTERNAL) {
    g_set_error (error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_SETTINGS,
        "reasoning: %s",
        _("Gemini Live always answers by itself: use built-in"));
    return FALSE;
  }
  return TRUE;
}

static SoupMessage *
gst_s2s_gemini_build_request (GstS2SBase * base, const GstS2SConfig * c,
    GError ** error)
{
  GstS2SGemini *self = GST_S2S_GEMINI (base);
  GstS2SBaseClass *klass = GST_S2S_BASE_GET_CLASS (base);
  gchar *url, *token, *location, *new_url = NULL;
  GUri *uri, *full;
  const gchar *scheme, *path;
  SoupMessage *msg;
  SoupMessageHeaders *headers;

  GST_OBJECT_LOCK (self);
  self->vertex = self->vertex_project && *self->vertex_project;
  token = g_strdup (self->access_token);
  location = g_strdup (self->vertex_location ? self->vertex_location :
      DEFAULT_VERTEX_LOCATION);
  GST_OBJECT_UNLOCK (self);

  url = c->url;
  if (self->vertex && g_str_equal (url, klass->default_url)) {
    /* the global location has no regional prefix */
    url = new_url = g_str_equal (location, "global") ?
        g_strdup ("wss://aiplatform.googleapis.com" VERTEX_PATH) :
        g_strdup_printf ("wss://%s-aiplatform.googleapis.com" VERTEX_PATH,
        location);
  }
  g_free (location);

  uri = g_uri_parse (url, G_URI_FLAGS_ENCODED, error);
  g_free (new_url);
  if (uri == NULL) {
    g_free (token);
    return NULL;
  }
  scheme = g_uri_get_scheme (uri);
  if (g_str_equal (scheme, "http"))
    scheme = "ws";
  else if (g_str_equal (scheme, "https"))
    scheme = "wss";
  path = g_uri_get_path (uri);
  if (path == NULL || *path == '\0' || g_str_equal (path, "/"))
    path = self->vertex ? VERTEX_PATH : GEMINI_PATH;

  full = g_uri_build (G_URI_FLAGS_ENCODED, scheme, NULL, g_uri_get_host (uri),
      g_uri_get_port (uri), path, g_uri_get_query (uri), NULL);
  msg = soup_message_new_from_uri ("GET", full);
  headers = soup_message_get_request_headers (msg);
  if (token && *token) {
    gchar *auth = g_strdup_printf ("Bearer %s", token);
    soup_message_headers_replace (headers, "Authorization", auth);
    memset (auth, 0, strlen (auth));
    g_free (auth);
  } else {
    soup_message_headers_replace (headers, "x-goog-api-key", c->api_key);
  }
  if (token) {
    memset (token, 0, strlen (token));
    g_free (token);
  }
  {
    /* a key may ride in the query (?key=): never logged */
    gchar *s = g_uri_to_string_partial (full, G_URI_HIDE_USERINFO |
        G_URI_HIDE_AUTH_PARAMS | G_URI_HIDE_QUERY);
    GST_INFO_OBJECT (base, "connecting to %s, model %s%s", s, c->model,
        self->vertex ? " (Vertex AI)" : "");
    g_free (s);
  }
  g_uri_unref (full);
  g_uri_unref (uri);
  return msg;
}

static void
reset_connection_state (GstS2SGemini * self, const GstS2SConfig * c)
{
  self->manual = c->turn_detection == GST_S2S_TURN_DETECTION_NONE;
  self->realtime_text = is_gemini3 (c->model);
  self->activity_open = FALSE;
  self->text_pending = FALSE;
  self->text_turn = FALSE;
  self->response_open = FALSE;
  self->handle_fresh = FALSE;
  self->replay_on_ready = FALSE;
  g_string_truncate (self->in_text, 0);
  g_string_truncate (self->out_text, 0);
}

/* After a drop the audio sent on the lost connection that its last handle
 * does not cover goes first on the successor; after an orderly close (the
 * close frame follows the audio) or on a new session it is forgotten. */
static void
take_unconfirmed (GstS2SGemini * self, gboolean resend)
{
  GByteArray *a;

  g_mutex_lock (&self->unconfirmed_lock);
  a = self->unconfirmed;
  self->unconfirmed = g_byte_array_new ();
  self->unconfirmed_mark = 0;
  g_mutex_unlock (&self->unconfirmed_lock);
  if (resend && a->len > 0) {
    GST_INFO_OBJECT (self, "resending %u bytes of input the dropped "
        "connection's last handle does not cover", a->len);
    gst_s2s_base_requeue_input (GST_S2S_BASE (self), a->data, a->len);
  }
  g_byte_array_unref (a);
  self->lost = FALSE;
}

/* Every server message (I/O thread): a resumable handle confirms the audio
 * sent before the previous server message arrived; the server wrote the
 * handle before it could read what was sent after. */
static void
confirm_input (GstS2SGemini * self, gboolean handle)
{
  g_mutex_lock (&self->unconfirmed_lock);
  if (handle)
    g_byte_array_remove_range (self->unconfirmed, 0, self->unconfirmed_mark);
  self->unconfirmed_mark = self->unconfirmed->len;
  g_mutex_unlock (&self->unconfirmed_lock);
}

static void
gst_s2s_gemini_session_open (GstS2SBase * base, const GstS2SConfig * c)
{
  GstS2SGemini *self = GST_S2S_GEMINI (base);

  take_unconfirmed (self, FALSE);
  reset_connection_state (self, c);
  g_clear_pointer (&self->handle, g_free);
  self->resp_serial = 0;
  self->user_serial = 0;
  send_setup (self, c, NULL);
}

/* A successor connection resumes with the latest handle: the server keeps
 * the conversation, nothing of it is sent again */
static void
gst_s2s_gemini_session_resume (GstS2SBase * base, const GstS2SConfig * c)
{
  GstS2SGemini *self = GST_S2S_GEMINI (base);

  take_unconfirmed (self, self->lost);
  reset_connection_state (self, c);
  if (self->handle == NULL) {
    /* nothing to resume: a fresh session that gets the conversation so far
     * as history once set up (it was never part of this session) */
    GST_WARNING_OBJECT (self, "no resumption handle yet: the new connection "
        "starts a fresh session with the conversation as history");
    self->replay_on_ready = TRUE;
  }
  send_setup (self, c, self->handle);
}

static void gst_s2s_gemini_send_history (GstS2SBase * base, JsonArray * items);

/* Before the base sends queued input on the new session */
static void
replay_conversation (GstS2SGemini * self)
{
  gchar *json = gst_s2s_base_dup_conversation (GST_S2S_BASE (self));
  JsonNode *node = json_from_string (json, NULL);

  self->replay_on_ready = FALSE;
  if (node && JSON_NODE_HOLDS_ARRAY (node) &&
      json_array_get_length (json_node_get_array (node)) > 0)
    gst_s2s_gemini_send_history (GST_S2S_BASE (self),
        json_node_get_array (node));
  if (node)
    json_node_unref (node);
  g_free (json);
}

static void
gst_s2s_gemini_session_update (GstS2SBase * base, const GstS2SConfig * c)
{
  /* setup is immutable; the next resumed connection carries the change */
  GST_INFO_OBJECT (base, "Gemini applies changed settings on the next "
      "connection");
}

static JsonObject *
text_part (const gchar * text)
{
  JsonObject *part = json_object_new ();

  json_object_set_string_member (part, "text", text ? text : "");
  return part;
}

/* Appends @part to the last turn when it has @role, else to a new one */
static void
add_part (JsonArray * turns, const gchar * role, JsonObject * part)
{
  guint n = json_array_get_length (turns);
  JsonObject *turn = n ? json_array_get_object_element (turns, n - 1) : NULL;
  JsonArray *parts;

  if (turn == NULL || g_strcmp0 (json_object_get_string_member (turn, "role"),
          role) != 0) {
    turn = json_object_new ();
    json_object_set_string_member (turn, "role", role);
    json_object_set_array_member (turn, "parts", json_array_new ());
    json_array_add_object_element (turns, turn);
  }
  parts = json_object_get_array_member (turn, "parts");
  json_array_add_object_element (parts, part);
}

static void
send_client_content (GstS2SGemini * self, JsonArray * turns, gboolean complete)
{
  JsonObject *cc = json_object_new ();

  if (turns)
    json_object_set_array_member (cc, "turns", turns);
  json_object_set_boolean_member (cc, "turnComplete", complete);
  send_message (self, "clientContent", cc);
}

/* Seeding on a fresh session only: the base never calls this for a
 * successor, and a resumed Gemini session loops when history is re-sent */
static void
gst_s2s_gemini_send_history (GstS2SBase * base, JsonArray * items)
{
  GstS2SGemini *self = GST_S2S_GEMINI (base);
  JsonArray *turns = json_array_new ();
  GHashTable *names = g_hash_table_new (g_str_hash, g_str_equal);
  guint i;

  for (i = 0; i < json_array_get_length (items); i++) {
    JsonObject *o = json_array_get_object_element (items, i);
    const gchar *type = json_object_get_string_member_with_default (o, "type",
        "message");
    const gchar *call_id = json_object_get_string_member_with_default (o,
        "call_id", "");
    JsonObject *part = json_object_new ();
    JsonObject *inner = json_object_new ();

    if (g_str_equal (type, "function_call")) {
      const gchar *name = json_object_get_string_member (o, "name");
      json_object_set_string_member (inner, "id", call_id);
      json_object_set_string_member (inner, "name", name);
      json_object_set_member (inner, "args", json_or_string
          (json_object_get_string_member_with_default (o, "arguments", "{}")));
      json_object_set_object_member (part, "functionCall", inner);
      g_hash_table_insert (names, (gpointer) call_id, (gpointer) name);
      add_part (turns, "model", part);
    } else if (g_str_equal (type, "function_call_output")) {
      JsonObject *response = json_object_new ();
      json_object_set_member (response, "output", json_or_string
          (json_object_get_string_member_with_default (o, "output", "")));
      json_object_set_string_member (inner, "id", call_id);
      json_object_set_string_member (inner, "name",
          g_hash_table_lookup (names, call_id) ?
          (const gchar *) g_hash_table_lookup (names, call_id) : "");
      json_object_set_object_member (inner, "response", response);
      json_object_set_object_member (part, "functionResponse", inner);
      add_part (turns, "user", part);
    } else {
      const gchar *role = json_object_get_string_member (o, "role");
      const gchar *text = json_object_get_string_member_with_default (o,
          "text", "");
      json_object_unref (inner);
      json_object_unref (part);
      /* an empty part is refused; a reply without transcript has none */
      if (*text)
        add_part (turns, g_strcmp0 (role, "assistant") == 0 ? "model" :
            "user", text_part (text));
    }
  }
  g_hash_table_unref (names);
  if (json_array_get_length (turns) > 0)
    send_client_content (self, turns, FALSE);
  else
    json_array_unref (turns);
}

static void
send_activity (GstS2SGemini * self, const gchar * what)
{
  JsonObject *ri = json_object_new ();

  json_object_set_object_member (ri, what, json_object_new ());
  send_message (self, "realtimeInput", ri);
}

static void
gst_s2s_gemini_send_audio (GstS2SBase * base, const guint8 * data, gsize size)
{
  static const gchar prefix[] = "{\"realtimeInput\":{\"audio\":{\"mimeType\":"
      "\"audio/pcm;rate=16000\",\"data\":\"";
  GstS2SGemini *self = GST_S2S_GEMINI (base);
  gsize off, drop;

  if (self->manual && !self->activity_open) {
    send_activity (self, "activityStart");
    self->activity_open = TRUE;
  }
  g_mutex_lock (&self->unconfirmed_lock);
  g_byte_array_append (self->unconfirmed, data, size);
  drop = gst_s2s_drop_oldest (self->unconfirmed, 0, MAX_UNCONFIRMED_BYTES,
      UNCONFIRMED_DROP_STEP);
  self->unconfirmed_mark -= MIN (self->unconfirmed_mark, drop);
  g_mutex_unlock (&self->unconfirmed_lock);
  for (off = 0; off < size; off += MAX_AUDIO_CHUNK) {
    gsize n = MIN (MAX_AUDIO_CHUNK, size - off);
    gsize len = sizeof (prefix) - 1;
    gchar *text = g_malloc (len + gst_s2s_base64_encoded_size (n) + 5);

    memcpy (text, prefix, len);
    len += gst_s2s_base64_encode (data + off, n, text + len);
    memcpy (text + len, "\"}}}", 4);
    len += 4;
    text[len] = '\0';
    gst_s2s_base_send (base, text, len);
    g_free (text);
  }
}

/* With automatic activity detection send_audio only formats the audio:
 * it may run on the streaming thread. Manual turns open the activity from
 * send_audio, in order with commit's activityEnd: I/O thread only.
 * `manual` is set when the session opens, before it is ready. */
static gboolean
gst_s2s_gemini_send_audio_any_thread (GstS2SBase * base)
{
  return !GST_S2S_GEMINI (base)->manual;
}

static void
gst_s2s_gemini_commit (GstS2SBase * base)
{
  GstS2SGemini *self = GST_S2S_GEMINI (base);

  if (!self->activity_open)
    return;
  send_activity (self, "activityEnd");
  self->activity_open = FALSE;
}

/* Text sent without turnComplete asks for its answer now; after a tool
 * result Gemini goes on by itself, so nothing is sent then */
static void
gst_s2s_gemini_create_response (GstS2SBase * base)
{
  GstS2SGemini *self = GST_S2S_GEMINI (base);

  if (!self->text_pending)
    return;
  self->text_pending = FALSE;
  self->text_turn = TRUE;
  send_client_content (self, NULL, TRUE);
}

static void
gst_s2s_gemini_send_text (GstS2SBase * base, const gchar * role,
    const gchar * text)
{
  GstS2SGemini *self = GST_S2S_GEMINI (base);
  JsonArray *turns = json_array_new ();

  if (g_str_equal (role, "assistant-say")) {
    gchar *instr = g_strdup_printf ("Say exactly the following text, word "
        "for word, and nothing else:\n%s", text);
    add_part (turns, "user", text_part (instr));
    g_free (instr);
    self->text_turn = TRUE;
    send_client_content (self, turns, TRUE);
    return;
  }
  if (self->realtime_text) {
    /* Gemini 3 refuses clientContent after the first turn */
    JsonObject *ri = json_object_new ();
    json_array_unref (turns);
    json_object_set_string_member (ri, "text", text);
    self->text_turn = TRUE;
    send_message (self, "realtimeInput", ri);
    return;
  }
  add_part (turns, "user", text_part (text));
  self->text_pending = TRUE;
  send_client_content (self, turns, FALSE);
}

static void
gst_s2s_gemini_send_tool_result (GstS2SBase * base, const gchar * call_id,
    const gchar * output)
{
  GstS2SGemini *self = GST_S2S_GEMINI (base);
  JsonObject *tr = json_object_new ();
  JsonArray *responses = json_array_new ();
  JsonObject *fr = json_object_new ();
  JsonObject *response = json_object_new ();
  const gchar *name = g_hash_table_lookup (self->call_names, call_id);

  json_object_set_member (response, "output", json_or_string (output));
  json_object_set_string_member (fr, "id", call_id);
  json_object_set_string_member (fr, "name", name ? name : "");
  json_object_set_object_member (fr, "response", response);
  json_array_add_object_element (responses, fr);
  json_object_set_array_member (tr, "functionResponses", responses);
  send_message (self, "toolResponse", tr);
  g_hash_table_remove (self->call_names, call_id);
}

/* Close codes and their reason texts (gemini-nova.md §A9): the reason is
 * the only detail Gemini gives */
static gboolean
reason_has (const gchar * reason, const gchar * what)
{
  gboolean found;
  gchar *low;

  if (reason == NULL)
    return FALSE;
  low = g_ascii_strdown (reason, -1);
  found = strstr (low, what) != NULL;
  g_free (low);
  return found;
}

static gboolean
gst_s2s_gemini_map_close (GstS2SBase * base, gushort code,
    const gchar * reason, GstS2SErrorCode * ec, gboolean * retryable)
{
  switch (code) {
    case 1007:
    case 1008:
      *ec = GST_S2S_ERROR_INVALID_REQUEST;
      *retryable = FALSE;
      break;
    case 1011:
      *ec = GST_S2S_ERROR_SERVER_ERROR;
      *retryable = TRUE;
      break;
    default:
      return FALSE;
  }

  if (code == 1007 && (reason_has (reason, "api key") ||
          reason_has (reason, "api_key"))) {
    *ec = GST_S2S_ERROR_AUTHENTICATION;
  } else if (code == 1007 && reason_has (reason, "location")) {
    *ec = GST_S2S_ERROR_AUTHORIZATION;
  } else if (code == 1008 && reason_has (reason, "session not found")) {
    *ec = GST_S2S_ERROR_SESSION_EXPIRED;
  } else if (code == 1008 && (reason_has (reason, "not implemented") ||
          reason_has (reason, "not supported"))) {
    *ec = GST_S2S_ERROR_SERVER_ERROR;
    *retryable = TRUE;
  } else if (code == 1011 && (reason_has (reason, "quota") ||
          reason_has (reason, "exhausted"))) {
    *ec = GST_S2S_ERROR_QUOTA;
    *retryable = FALSE;
  } else if (code == 1011 && reason_has (reason, "deadline")) {
    *ec = GST_S2S_ERROR_SESSION_EXPIRED;
  }
  return TRUE;
}

/* A drop, the lifetime deadline, or an intermittent 1008 on native audio is
 * resumed while the handle is fresh; a refused request or quota is not */
static gboolean
gst_s2s_gemini_can_resume (GstS2SBase * base, gushort code,
    const gchar * reason)
{
  GstS2SGemini *self = GST_S2S_GEMINI (base);
  GstS2SErrorCode ec;
  gboolean retryable;

  if (self->handle == NULL ||
      g_get_monotonic_time () - self->handle_time > HANDLE_LIFETIME_US)
    return FALSE;
  if (gst_s2s_gemini_map_close (base, code, reason, &ec, &retryable))
    self->lost = retryable;
  else
    /* a close without a reason of Gemini's: only a plain end or a drop */
    self->lost = code == SOUP_WEBSOCKET_CLOSE_NORMAL ||
        code == SOUP_WEBSOCKET_CLOSE_GOING_AWAY ||
        code == SOUP_WEBSOCKET_CLOSE_NO_STATUS ||
        code == SOUP_WEBSOCKET_CLOSE_ABNORMAL;
  return self->lost;
}

static gboolean
gst_s2s_gemini_rotation_ready (GstS2SBase * base)
{
  return GST_S2S_GEMINI (base)->handle_fresh;
}

/* ------------------------------------------------------------------------ */
/* Server messages */

static void
ensure_response (GstS2SGemini * self)
{
  GstS2SBase *base = GST_S2S_BASE (self);
  gchar *user_item;

  if (self->response_open)
    return;
  self->response_open = TRUE;
  self->handle_fresh = FALSE;
  self->resp_serial++;
  g_free (self->resp_id);
  self->resp_id = g_strdup_printf ("gemini-response-%u", self->resp_serial);
  g_free (self->model_item);
  self->model_item = g_strdup_printf ("gemini-model-%u", self->resp_serial);
  /* Gemini reports no end of speech: a reply that is not to text marks it */
  if (!self->manual && !self->text_turn) {
    user_item = g_strdup_printf ("gemini-user-%u", self->user_serial);
    gst_s2s_base_speech_stopped (base, user_item);
    g_free (user_item);
  }
  self->text_turn = FALSE;
  gst_s2s_base_response_started (base, self->resp_id);
  gst_s2s_base_item_added (base, self->model_item, "message", "assistant");
}

static void
finish_transcripts (GstS2SGemini * self)
{
  GstS2SBase *base = GST_S2S_BASE (self);

  if (self->in_text->len > 0) {
    gchar *item = g_strdup_printf ("gemini-user-%u", self->user_serial);
    gst_s2s_base_transcript (base, "user", item, self->in_text->str, TRUE);
    g_free (item);
    g_string_truncate (self->in_text, 0);
  }
  if (self->response_open && self->out_text->len > 0)
    gst_s2s_base_transcript (base, "assistant", self->model_item,
        self->out_text->str, TRUE);
  g_string_truncate (self->out_text, 0);
}

static void
end_response (GstS2SGemini * self, const gchar * status)
{
  finish_transcripts (self);
  if (self->response_open) {
    self->response_open = FALSE;
    gst_s2s_base_response_done (GST_S2S_BASE (self), self->resp_id, status);
  }
  self->user_serial++;
}

static void
handle_model_turn (GstS2SGemini * self, JsonObject * turn)
{
  JsonArray *parts = gst_s2s_json_array (turn, "parts");
  guint i;

  for (i = 0; parts && i < json_array_get_length (parts); i++) {
    JsonObject *part = array_object (parts, i);
    JsonObject *inline_data = gst_s2s_json_object (part, "inlineData");
    const gchar *b64 = gst_s2s_json_string (inline_data, "data");
    const gchar *mime = gst_s2s_json_string (inline_data, "mimeType");
    gchar *buf;
    gsize len = 0, b64_len;
    GstBuffer *out;
    GstMapInfo map;
    gboolean ok;

    if (b64 == NULL || *b64 == '\0')
      continue;
    if (mime && !g_str_has_prefix (mime, "audio/pcm")) {
      GST_DEBUG_OBJECT (self, "ignoring inline %s", mime);
      continue;
    }
    if (mime && strstr (mime, "rate=") && !strstr (mime, "rate=24000"))
      GST_WARNING_OBJECT (self, "audio as %s, expected 24 kHz", mime);
    ensure_response (self);
    /* canonical base64 (what servers send) straight into the output
     * buffer; anything else through GLib's lenient decoder, as before */
    b64_len = strlen (b64);
    out = b64_len >= 4 ? gst_buffer_new_allocate (NULL,
        gst_s2s_base64_decoded_max (b64_len), NULL) : NULL;
    ok = out && gst_buffer_map (out, &map, GST_MAP_WRITE);
    if (ok) {
      ok = gst_s2s_base64_decode (b64, b64_len, map.data, &len);
      gst_buffer_unmap (out, &map);
    }
    if (ok && len > 0) {
      gst_buffer_set_size (out, len);
      gst_s2s_base_response_audio_buffer (GST_S2S_BASE (self), self->resp_id,
          self->model_item, out);
      continue;
    }
    if (out)
      gst_buffer_unref (out);
    if (b64_len < 2) {
      /* g_base64_decode_inplace needs two characters at least */
      gst_s2s_base_provider_error (GST_S2S_BASE (self),
          GST_S2S_ERROR_PROTOCOL, FALSE, FALSE, NULL,
          "inline audio data is not base64");
      continue;
    }
    len = 0;
    buf = g_strdup (b64);
    g_base64_decode_inplace (buf, &len);
    gst_s2s_base_response_audio (GST_S2S_BASE (self), self->resp_id,
        self->model_item, (const guint8 *) buf, len);
    g_free (buf);
  }
}

static void
handle_server_content (GstS2SGemini * self, JsonObject * sc)
{
  GstS2SBase *base = GST_S2S_BASE (self);
  const gchar *text;
  JsonObject *turn;

  text =
      gst_s2s_json_string (gst_s2s_json_object (sc, "inputTranscription"),
      "text");
  if (text && *text) {
    gchar *item = g_strdup_printf ("gemini-user-%u", self->user_serial);
    self->handle_fresh = FALSE;
    g_string_append (self->in_text, text);
    gst_s2s_base_transcript (base, "user", item, text, FALSE);
    g_free (item);
  }

  if (gst_s2s_json_bool (sc, "interrupted")) {
    /* barge-in: Gemini stopped the reply itself */
    gchar *next = g_strdup_printf ("gemini-user-%u", self->user_serial + 1);
    if (self->response_open)
      gst_s2s_base_speech_started (base, next);
    end_response (self, "cancelled");
    g_free (next);
    return;
  }

  turn = gst_s2s_json_object (sc, "modelTurn");
  if (turn)
    handle_model_turn (self, turn);

  text =
      gst_s2s_json_string (gst_s2s_json_object (sc, "outputTranscription"),
      "text");
  if (text && *text) {
    ensure_response (self);
    g_string_append (self->out_text, text);
    gst_s2s_base_transcript (base, "assistant", self->model_item, text, FALSE);
  }

  if (gst_s2s_json_bool (sc, "turnComplete"))
    end_response (self, "completed");
}

static void
handle_tool_call (GstS2SGemini * self, JsonObject * tc)
{
  JsonArray *calls = gst_s2s_json_array (tc, "functionCalls");
  guint i;

  for (i = 0; calls && i < json_array_get_length (calls); i++) {
    JsonObject *fc = array_object (calls, i);
    const gchar *name = gst_s2s_json_string (fc, "name");
    const gchar *id = gst_s2s_json_string (fc, "id");
    JsonNode *args = fc ? json_object_get_member (fc, "args") : NULL;
    gchar *args_json, *own_id = NULL;

    if (name == NULL) {
      gst_s2s_base_provider_error (GST_S2S_BASE (self),
          GST_S2S_ERROR_PROTOCOL, FALSE, FALSE, NULL,
          "function call without a name");
      continue;
    }
    /* Vertex may leave the id out: the reply then matches by name */
    if (id == NULL)
      id = own_id = g_strdup_printf ("gemini-call-%u", ++self->call_serial);
    ensure_response (self);
    args_json = args ? json_to_string (args, FALSE) : g_strdup ("{}");
    g_hash_table_insert (self->call_names, g_strdup (id), g_strdup (name));
    gst_s2s_base_tool_call (GST_S2S_BASE (self), id, name, args_json);
    g_free (args_json);
    g_free (own_id);
  }
}

/* A token count: never negative, and small enough to sum */
static gint64
token_count (JsonObject * o, const gchar * name)
{
  return CLAMP (gst_s2s_json_int (o, name), 0, G_MAXINT32);
}

static void
handle_usage (GstS2SGemini * self, JsonObject * um)
{
  GstS2SUsage u = { 0, };
  const gchar *lists[] = { "promptTokensDetails", "responseTokensDetails",
    "candidatesTokensDetails"
  };
  guint l, i;

  u.input_tokens = token_count (um, "promptTokenCount");
  u.output_tokens = token_count (um, "responseTokenCount");
  if (u.output_tokens == 0)
    u.output_tokens = token_count (um, "candidatesTokenCount");
  u.cached_tokens = token_count (um, "cachedContentTokenCount");
  for (l = 0; l < G_N_ELEMENTS (lists); l++) {
    JsonArray *details = gst_s2s_json_array (um, lists[l]);
    for (i = 0; details && i < json_array_get_length (details); i++) {
      JsonObject *d = array_object (details, i);
      if (g_strcmp0 (gst_s2s_json_string (d, "modality"), "AUDIO") != 0)
        continue;
      if (l == 0)
        u.input_audio_tokens += token_count (d, "tokenCount");
      else
        u.output_audio_tokens += token_count (d, "tokenCount");
    }
  }
  gst_s2s_base_usage (GST_S2S_BASE (self), &u);
}

/* a handle to resume from: empty or not resumable while the model
 * generates or a tool runs */
static const gchar *
resumable_handle (JsonObject * ru)
{
  const gchar *handle = ru ? gst_s2s_json_string (ru, "newHandle") : NULL;

  if (handle == NULL || *handle == '\0' || !gst_s2s_json_bool (ru, "resumable"))
    return NULL;
  return handle;
}

static void
handle_resumption_update (GstS2SGemini * self, JsonObject * ru)
{
  const gchar *handle = resumable_handle (ru);

  if (handle == NULL)
    return;
  g_free (self->handle);
  self->handle = g_strdup (handle);
  self->handle_time = g_get_monotonic_time ();
  self->handle_fresh = !self->response_open;
  GST_DEBUG_OBJECT (self, "new resumption handle (%" G_GSIZE_FORMAT
      " chars)", strlen (handle));
}

static void
dispatch (GstS2SGemini * self, JsonObject * msg)
{
  GstS2SBase *base = GST_S2S_BASE (self);
  JsonObject *o;
  gboolean known = FALSE;

  confirm_input (self, resumable_handle (gst_s2s_json_object (msg,
              "sessionResumptionUpdate")) != NULL);
  if ((o = gst_s2s_json_object (msg, "setupComplete"))) {
    known = TRUE;
    if (self->replay_on_ready)
      replay_conversation (self);
    gst_s2s_base_session_ready (base, gst_s2s_json_string (o, "sessionId"));
  }
  if ((o = gst_s2s_json_object (msg, "sessionResumptionUpdate"))) {
    known = TRUE;
    handle_resumption_update (self, o);
  }
  if ((o = gst_s2s_json_object (msg, "goAway"))) {
    GstClockTime left = gst_s2s_gemini_parse_duration (gst_s2s_json_string (o,
            "timeLeft"));
    known = TRUE;
    GST_INFO_OBJECT (self, "goAway, time left %s",
        GST_STR_NULL (gst_s2s_json_string (o, "timeLeft")));
    gst_s2s_base_request_rotation (base, left, "goAway");
  }
  /* what the old connection still says during a switch is not this
   * session's any more: its reply was cut at the switch */
  if (gst_s2s_base_is_renewing (base))
    return;
  if ((o = gst_s2s_json_object (msg, "serverContent"))) {
    known = TRUE;
    handle_server_content (self, o);
  }
  if ((o = gst_s2s_json_object (msg, "toolCall"))) {
    known = TRUE;
    handle_tool_call (self, o);
  }
  if ((o = gst_s2s_json_object (msg, "toolCallCancellation"))) {
    JsonArray *ids = gst_s2s_json_array (o, "ids");
    guint i;

    known = TRUE;
    for (i = 0; ids && i < json_array_get_length (ids); i++) {
      JsonNode *n = json_array_get_element (ids, i);
      if (JSON_NODE_HOLDS_VALUE (n) &&
          json_node_get_value_type (n) == G_TYPE_STRING) {
        g_hash_table_remove (self->call_names, json_node_get_string (n));
        gst_s2s_base_tool_call_cancelled (base, json_node_get_string (n));
      }
    }
  }
  if ((o = gst_s2s_json_object (msg, "usageMetadata"))) {
    known = TRUE;
    handle_usage (self, o);
  }
  if (!known)
    GST_LOG_OBJECT (self, "ignoring a message without a known member");
}

void
gst_s2s_gemini_handle_message (GstS2SGemini * self, const gchar * data,
    gsize size)
{
  JsonNode *root;
  GError *err = NULL;

  if (!json_parser_load_from_data (self->parser, data, size, &err)) {
    gchar *msg = g_strdup_printf ("malformed message: %s", err->message);
    gst_s2s_base_provider_error (GST_S2S_BASE (self), GST_S2S_ERROR_PROTOCOL,
        FALSE, FALSE, NULL, msg);
    g_free (msg);
    g_clear_error (&err);
    return;
  }
  root = json_parser_get_root (self->parser);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root)) {
    gst_s2s_base_provider_error (GST_S2S_BASE (self), GST_S2S_ERROR_PROTOCOL,
        FALSE, FALSE, NULL, "message is not a JSON object");
    return;
  }
  GST_TRACE_OBJECT (self, "message (%" G_GSIZE_FORMAT " bytes)", size);
  dispatch (self, json_node_get_object (root));
}

/* Gemini sends its JSON in binary frames; text frames are taken too */
static void
gst_s2s_gemini_base_handle_message (GstS2SBase * base, GBytes * data,
    gboolean binary)
{
  gsize size;
  const gchar *text = g_bytes_get_data (data, &size);

  gst_s2s_gemini_handle_message (GST_S2S_GEMINI (base), text, size);
}

/* ------------------------------------------------------------------------ */
/* GObject */

static void
gst_s2s_gemini_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec)
{
  GstS2SGemini *self = GST_S2S_GEMINI (object);

  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_VERTEX_PROJECT:
      g_free (self->vertex_project);
      self->vertex_project = g_value_dup_string (value);
      break;
    case PROP_VERTEX_LOCATION:
      g_free (self->vertex_location);
      self->vertex_location = g_value_dup_string (value);
      break;
    case PROP_ACCESS_TOKEN:
      if (self->access_token)
        memset (self->access_token, 0, strlen (self->access_token));
      g_free (self->access_token);
      self->access_token = g_value_dup_string (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
}

static void
gst_s2s_gemini_get_property (GObject * object, guint prop_id, GValue * value,
    GParamSpec * pspec)
{
  GstS2SGemini *self = GST_S2S_GEMINI (object);

  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_VERTEX_PROJECT:
      g_value_set_string (value, self->vertex_project);
      break;
    case PROP_VERTEX_LOCATION:
      g_value_set_string (value, self->vertex_location ?
          self->vertex_location : DEFAULT_VERTEX_LOCATION);
      break;
    case PROP_ACCESS_TOKEN:
      /* never readable back in clear */
      g_value_set_string (value, self->access_token && *self->access_token ?
          "*****" : NULL);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
}

static void
gst_s2s_gemini_finalize (GObject * object)
{
  GstS2SGemini *self = GST_S2S_GEMINI (object);

  g_object_unref (self->parser);
  g_free (self->vertex_project);
  g_free (self->vertex_location);
  if (self->access_token)
    memset (self->access_token, 0, strlen (self->access_token));
  g_free (self->access_token);
  g_free (self->handle);
  g_free (self->resp_id);
  g_free (self->model_item);
  g_string_free (self->in_text, TRUE);
  g_string_free (self->out_text, TRUE);
  g_hash_table_unref (self->call_names);
  g_byte_array_unref (self->unconfirmed);
  g_mutex_clear (&self->unconfirmed_lock);
  G_OBJECT_CLASS (gst_s2s_gemini_parent_class)->finalize (object);
}

static void
gst_s2s_gemini_class_init (GstS2SGeminiClass * klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);
  GstS2SBaseClass *base_class = GST_S2S_BASE_CLASS (klass);

  gobject_class->set_property = gst_s2s_gemini_set_property;
  gobject_class->get_property = gst_s2s_gemini_get_property;
  gobject_class->finalize = gst_s2s_gemini_finalize;

  g_object_class_install_property (gobject_class, PROP_VERTEX_PROJECT,
      g_param_spec_string ("vertex-project", "Vertex AI project",
          "Google Cloud project: set it to use Vertex AI instead of the "
          "Gemini API (with access-token)", NULL,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_READY));
  g_object_class_install_property (gobject_class, PROP_VERTEX_LOCATION,
      g_param_spec_string ("vertex-location", "Vertex AI location",
          "Vertex AI region, or \"global\"", DEFAULT_VERTEX_LOCATION,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_READY));
  g_object_class_install_property (gobject_class, PROP_ACCESS_TOKEN,
      g_param_spec_string ("access-token", "Access token",
          "OAuth2 access token sent as a bearer token (Vertex AI); never "
          "logged, reads back as *****", NULL,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_READY));

  gst_element_class_add_static_pad_template (element_class, &sink_template);
  gst_element_class_add_static_pad_template (element_class, &src_template);
  gst_element_class_set_static_metadata (element_class,
      "Gemini Live speech-to-speech", "Filter/Effect/Audio/Network",
      "Talks with Google's Gemini Live API (native audio; Gemini API or "
      "Vertex AI): user speech in, model speech out, with transcripts, tool "
      "calls and seamless session renewal", "gst-s2s developers");

  base_class->provider = "gemini";
  base_class->api_key_env = "GEMINI_API_KEY";
  base_class->api_key_env_fallback = "GOOGLE_API_KEY";
  base_class->default_url = "wss://generativelanguage.googleapis.com"
      GEMINI_PATH;
  base_class->default_model = "gemini-2.5-flash-native-audio-preview-12-2025";
  base_class->default_voice = "Puck";
  base_class->server_cancels_on_speech = TRUE;

  base_class->needs_api_key = gst_s2s_gemini_needs_api_key;
  base_class->check_config = gst_s2s_gemini_check_config;
  base_class->build_request = gst_s2s_gemini_build_request;
  base_class->session_open = gst_s2s_gemini_session_open;
  base_class->session_resume = gst_s2s_gemini_session_resume;
  base_class->session_update = gst_s2s_gemini_session_update;
  base_class->send_history = gst_s2s_gemini_send_history;
  base_class->handle_message = gst_s2s_gemini_base_handle_message;
  base_class->send_audio = gst_s2s_gemini_send_audio;
  base_class->send_audio_any_thread = gst_s2s_gemini_send_audio_any_thread;
  base_class->commit = gst_s2s_gemini_commit;
  base_class->create_response = gst_s2s_gemini_create_response;
  base_class->send_tool_result = gst_s2s_gemini_send_tool_result;
  base_class->send_text = gst_s2s_gemini_send_text;
  base_class->map_close = gst_s2s_gemini_map_close;
  base_class->can_resume = gst_s2s_gemini_can_resume;
  base_class->rotation_ready = gst_s2s_gemini_rotation_ready;
}

static void
gst_s2s_gemini_init (GstS2SGemini * self)
{
  self->parser = json_parser_new ();
  self->in_text = g_string_new (NULL);
  self->out_text = g_string_new (NULL);
  self->call_names = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
      g_free);
  g_mutex_init (&self->unconfirmed_lock);
  self->unconfirmed = g_byte_array_new ();
}
