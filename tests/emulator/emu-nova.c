/* s2s-emulator: Amazon Nova Sonic dialect (Bedrock
 * InvokeModelWithBidirectionalStream over HTTP/2).
 * Copyright (C) 2026 gst-s2s contributors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Faithful to the public wire protocol (see
 * /work/shared/reference/gemini-nova.md §B), not to any client of ours: one
 * HTTP/2 stream per session at /model/{modelId}/invoke-with-bidirectional-
 * stream, a SigV4-signed request, every client event an AWS event-stream
 * message wrapped in a signed envelope (:date, :chunk-signature) chained
 * from the request signature, plain server events. The "model" echoes the
 * user's turn like the other dialects, so tests can compare samples.
 */

#include <math.h>
#include <string.h>

#include "emulator.h"
#include "emu-h2.h"
#include "eventstream.h"
#include "sigv4.h"

#define IN_RATE 16000
#define IN_FRAME (IN_RATE / 100)        /* 10 ms VAD frames at 16 kHz */
#define OUT_CHUNK_SAMPLES (100 * EMU_SAMPLES_PER_MS)    /* 100 ms at 24 kHz */
#define DEFAULT_SESSION_LIMIT_MS (8 * 60 * 1000)
#define MAX_SKEW_S (5 * 60)

#define PATH_PREFIX "/model/"
#define PATH_SUFFIX "/invoke-with-bidirectional-stream"

static const char *const nova_models[] = {
  "amazon.nova-sonic-v1:0", "amazon.nova-2-sonic-v1:0", NULL
};

/* Options (set by emu_nova_listen) */
static char *opt_access_key;
static char *opt_secret_key;
static char *opt_session_token;
static guint opt_session_limit_ms = DEFAULT_SESSION_LIMIT_MS;
static guint opt_input_timeout_ms;
static guint opt_read_pause_ms;

typedef enum
{
  REPLY_AUDIO,                  /* echo the user turn */
  REPLY_TEXT,                   /* cross-modal user text */
  REPLY_TOOL,                   /* after a tool result */
} ReplyKind;

typedef struct
{
  EmuConn *conn;
  EmuH2Conn *h2;
  gint32 stream_id;
  char *model;
  gboolean nova2;
  GstS2SAwsDecoder *dec;
  GstS2SAwsEventSigner *signer;
  guint n_events;
  gboolean ended;               /* response stream ended */
  gboolean input_done;          /* signed empty frame seen */

  char *session_id;
  char *prompt_name;
  char *completion_id;
  gboolean session_started, completion_started;
  guint endpointing_ms;

  /* open content blocks: contentName -> JsonObject (contentStart body) */
  GHashTable *contents;
  char *audio_content;          /* the open AUDIO block */
  GString *text_in;             /* textInput of the open TEXT/TOOL block */
  char *tool_result;

  /* VAD on 16 kHz input */
  GArray *frame;                /* partial frame */
  guint64 in_samples;
  gboolean speaking;
  guint silence_ms;
  GArray *turn;                 /* 16 kHz samples of the turn */
  guint turn_voiced_len;        /* samples up to the last voiced frame */
  guint user_turns;

  /* reply in progress */
  gboolean responding;
  GArray *reply;                /* 24 kHz */
  gsize reply_pos;
  char *reply_text;
  char *audio_content_id;
  guint pace_timer;
  guint limit_timer;
  guint idle_timer;             /* checks the input-stall limit */
  gint64 last_audio_us;         /* monotonic: the last audioInput */
  gboolean read_paused;         /* --nova-read-pause-ms done */
  char *pending_tool_id;
  guint out_ms_total, in_ms_total;
  gint64 tokens_in, tokens_out;

  JsonArray *summary;
} Nova;

static void nova_free (Nova * n);

/* ------------------------------------------------------------------------ */
/* Output */

static JsonObject *
ids (Nova * n)
{
  JsonObject *o = json_object_new ();

  json_object_set_string_member (o, "sessionId", n->session_id);
  json_object_set_string_member (o, "promptName",
      n->prompt_name ? n->prompt_name : "");
  json_object_set_string_member (o, "completionId", n->completion_id);
  return o;
}

static void
send_message (Nova * n, GstS2SAwsMessage * msg)
{
  GByteArray *out = g_byte_array_new ();

  if (gst_s2s_aws_message_encode_to (msg, out, NULL))
    emu_h2_send (n->h2, n->stream_id, out->data, out->len);
  g_byte_array_unref (out);
}

/* A server event: payload {"bytes": base64 of {"event":{name: body}}}.
 * Takes @body. */
static void
nova_send (Nova * n, const char *name, JsonObject * body)
{
  JsonObject *wrap = json_object_new (), *ev = json_object_new ();
  JsonNode *root = json_node_new (JSON_NODE_OBJECT);
  GstS2SAwsMessage *msg;
  char *json, *b64, *payload;

  if (n->ended || !emu_conn_alive (n->conn)) {
    json_object_unref (body);
    json_object_unref (wrap);
    json_object_unref (ev);
    json_node_unref (root);
    return;
  }
  json_object_set_object_member (ev, name, body);
  json_object_set_object_member (wrap, "event", ev);
  json_node_take_object (root, wrap);
  json = emu_json_to_string (root);
  b64 = g_base64_encode ((const guchar *) json, strlen (json));
  payload = g_strdup_printf ("{\"bytes\":\"%s\"}", b64);

  msg = gst_s2s_aws_message_new ();
  gst_s2s_aws_message_add_string (msg, ":message-type", "event");
  gst_s2s_aws_message_add_string (msg, ":event-type", "chunk");
  gst_s2s_aws_message_add_string (msg, ":content-type", "application/json");
  gst_s2s_aws_message_set_payload (msg, (const guint8 *) payload,
      strlen (payload));
  send_message (n, msg);
  gst_s2s_aws_message_free (msg);

  /* the log keeps audio sizes, not audio */
  if (!g_strcmp0 (name, "audioOutput")) {
    const char *c = json_object_get_string_member (body, "content");
    json_object_set_int_member (body, "content_bytes",
        emu_base64_decoded_len (c));
    json_object_remove_member (body, "content");
  }
  emu_conn_log_event (n->conn, "server", root);
  g_free (payload);
  g_free (b64);
  g_free (json);
  json_node_unref (root);
  emu_conn_server_event_done (n->conn, name);
}

static void
nova_end_stream (Nova * n)
{
  if (n->ended)
    return;
  n->ended = TRUE;
  if (n->pace_timer) {
    emu_conn_timeout_remove (n->conn, n->pace_timer);
    g_source_remove (n->pace_timer);
    n->pace_timer = 0;
  }
  emu_h2_end (n->h2, n->stream_id);
}

/* In-stream error: :message-type exception, then the stream ends */
static void
nova_exception (Nova * n, const char *type, const char *message)
{
  GstS2SAwsMessage *msg;
  JsonObject *line, *o = json_object_new ();
  JsonNode *node = json_node_new (JSON_NODE_OBJECT);
  char *payload;

  if (n->ended)
    return;
  json_object_set_string_member (o, "message", message);
  json_node_take_object (node, o);
  payload = emu_json_to_string (node);
  msg = gst_s2s_aws_message_new ();
  gst_s2s_aws_message_add_string (msg, ":message-type", "exception");
  gst_s2s_aws_message_add_string (msg, ":exception-type", type);
  gst_s2s_aws_message_add_string (msg, ":content-type", "application/json");
  gst_s2s_aws_message_set_payload (msg, (const guint8 *) payload,
      strlen (payload));
  send_message (n, msg);
  gst_s2s_aws_message_free (msg);

  line = emu_log_line_new (n->conn->index, "server");
  json_object_set_string_member (line, "exception", type);
  json_object_set_string_member (line, "message", message);
  emu_log_write (line);
  g_free (payload);
  json_node_unref (node);
  emu_conn_server_event_done (n->conn, type);
  nova_end_stream (n);
}

static char *
new_id (void)
{
  return g_uuid_string_random ();
}

static void
content_start (Nova * n, const char *content_id, const char *type,
    const char *role, const char *stage)
{
  JsonObject *o = ids (n);

  json_object_set_string_member (o, "contentId", content_id);
  json_object_set_string_member (o, "type", type);
  json_object_set_string_member (o, "role", role);
  if (stage) {
    /* a JSON string inside the JSON, as the service sends it */
    char *f = g_strdup_printf ("{\"generationStage\":\"%s\"}", stage);
    json_object_set_string_member (o, "additionalModelFields", f);
    g_free (f);
  }
  if (!strcmp (type, "AUDIO")) {
    JsonObject *cfg = json_object_new ();
    json_object_set_string_member (cfg, "mediaType", "audio/lpcm");
    json_object_set_int_member (cfg, "sampleRateHertz", EMU_RATE);
    json_object_set_int_member (cfg, "sampleSizeBits", 16);
    json_object_set_int_member (cfg, "channelCount", 1);
    json_object_set_string_member (cfg, "encoding", "base64");
    json_object_set_object_member (o, "audioOutputConfiguration", cfg);
  }
  nova_send (n, "contentStart", o);
}

static void
content_end (Nova * n, const char *content_id, const char *type,
    const char *reason)
{
  JsonObject *o = ids (n);

  json_object_set_string_member (o, "contentId", content_id);
  json_object_set_string_member (o, "type", type);
  json_object_set_string_member (o, "stopReason", reason);
  nova_send (n, "contentEnd", o);
}

/* One TEXT block: contentStart, textOutput, contentEnd */
static void
text_block (Nova * n, const char *role, const char *stage, const char *text,
    const char *reason)
{
  char *id = new_id ();
  JsonObject *o;

  content_start (n, id, "TEXT", role, stage);
  o = ids (n);
  json_object_set_string_member (o, "contentId", id);
  json_object_set_string_member (o, "role", role);
  json_object_set_string_member (o, "content", text);
  nova_send (n, "textOutput", o);
  content_end (n, id, "TEXT", reason);
  g_free (id);
}

static guint
count_words (const char *text)
{
  char **w = g_strsplit_set (text, " \t\n", -1);
  guint i, c = 0;

  for (i = 0; w[i]; i++)
    if (*w[i])
      c++;
  g_strfreev (w);
  return c;
}

static void
send_usage (Nova * n, gint64 in_speech, gint64 in_text, gint64 out_speech,
    gint64 out_text)
{
  JsonObject *o = ids (n), *details = json_object_new (),
      *delta = json_object_new (), *total = json_object_new ();
  JsonObject *di = json_object_new (), *dout = json_object_new ();
  JsonObject *ti = json_object_new (), *tout = json_object_new ();

  n->tokens_in += in_speech + in_text;
  n->tokens_out += out_speech + out_text;
  json_object_set_int_member (di, "speechTokens", in_speech);
  json_object_set_int_member (di, "textTokens", in_text);
  json_object_set_int_member (dout, "speechTokens", out_speech);
  json_object_set_int_member (dout, "textTokens", out_text);
  json_object_set_object_member (delta, "input", di);
  json_object_set_object_member (delta, "output", dout);
  json_object_set_int_member (ti, "speechTokens", n->in_ms_total / 50);
  json_object_set_int_member (ti, "textTokens",
      n->tokens_in - n->in_ms_total / 50);
  json_object_set_int_member (tout, "speechTokens", n->out_ms_total / 50);
  json_object_set_int_member (tout, "textTokens",
      n->tokens_out - n->out_ms_total / 50);
  json_object_set_object_member (total, "input", ti);
  json_object_set_object_member (total, "output", tout);
  json_object_set_object_member (details, "delta", delta);
  json_object_set_object_member (details, "total", total);
  json_object_set_object_member (o, "details", details);
  json_object_set_int_member (o, "totalInputTokens", n->tokens_in);
  json_object_set_int_member (o, "totalOutputTokens", n->tokens_out);
  json_object_set_int_member (o, "totalTokens", n->tokens_in + n->tokens_out);
  nova_send (n, "usageEvent", o);
}

static void
summary_add (Nova * n, const char *role, const char *text, guint audio_ms)
{
  JsonObject *o = json_object_new ();

  json_object_set_string_member (o, "role", role);
  json_object_set_string_member (o, "text", text);
  if (audio_ms)
    json_object_set_int_member (o, "audio_ms", audio_ms);
  json_array_add_object_element (n->summary, o);
}

/* The rest of the reply after the audio: FINAL text, usage */
static void
reply_finish (Nova * n, gboolean interrupted)
{
  guint ms = n->reply_pos / EMU_SAMPLES_PER_MS;

  if (n->pace_timer) {
    emu_conn_timeout_remove (n->conn, n->pace_timer);
    g_source_remove (n->pace_timer);
    n->pace_timer = 0;
  }
  content_end (n, n->audio_content_id, "AUDIO",
      interrupted ? "INTERRUPTED" : "END_TURN");
  if (interrupted)
    text_block (n, "ASSISTANT", "FINAL", "{ \"interrupted\" : true }",
        "INTERRUPTED");
  else
    text_block (n, "ASSISTANT", "FINAL", n->reply_text, "END_TURN");
  n->out_ms_total += ms;
  send_usage (n, 0, 0, ms / 50, count_words (n->reply_text));
  summary_add (n, "ASSISTANT", interrupted ? "" : n->reply_text, ms);
  n->responding = FALSE;
  g_clear_pointer (&n->audio_content_id, g_free);
  g_clear_pointer (&n->reply_text, g_free);
  g_array_set_size (n->reply, 0);
  n->reply_pos = 0;
}

static void
send_audio_chunk (Nova * n)
{
  gsize len = MIN (OUT_CHUNK_SAMPLES, n->reply->len - n->reply_pos);
  const gint16 *s = &g_array_index (n->reply, gint16, n->reply_pos);
  guint8 *le = g_malloc (len * 2);
  JsonObject *o = ids (n);
  char *b64;
  gsize i;

  for (i = 0; i < len; i++) {
    guint16 v = GUINT16_TO_LE ((guint16) s[i]);
    memcpy (le + 2 * i, &v, 2);
  }
  b64 = g_base64_encode (le, len * 2);
  json_object_set_string_member (o, "contentId", n->audio_content_id);
  json_object_set_string_member (o, "content", b64);
  n->reply_pos += len;
  nova_send (n, "audioOutput", o);
  g_free (b64);
  g_free (le);
}

static gboolean
pace_cb (gpointer data)
{
  Nova *n = data;

  if (n->ended || !n->responding)
    return G_SOURCE_CONTINUE;
  send_audio_chunk (n);
  if (n->reply_pos >= n->reply->len) {
    emu_conn_timeout_remove (n->conn, n->pace_timer);
    n->pace_timer = 0;
    reply_finish (n, FALSE);
    return G_SOURCE_REMOVE;
  }
  return G_SOURCE_CONTINUE;
}

static gboolean
first_audio_cb (gpointer data)
{
  Nova *n = data;

  emu_conn_timeout_remove (n->conn, n->pace_timer);
  n->pace_timer = 0;
  if (n->ended || !n->responding)
    return G_SOURCE_REMOVE;
  if (n->conn->pace_audio) {
    send_audio_chunk (n);
    n->pace_timer = emu_conn_timeout_add (n->conn, 100, pace_cb, n);
  } else {
    while (n->reply_pos < n->reply->len && !n->ended)
      send_audio_chunk (n);
    reply_finish (n, FALSE);
  }
  return G_SOURCE_REMOVE;
}

static void
ensure_completion (Nova * n)
{
  if (n->completion_started)
    return;
  n->completion_started = TRUE;
  nova_send (n, "completionStart", ids (n));
}

/* The assistant's answer: SPECULATIVE text, AUDIO, then (later) FINAL */
static void
reply_start (Nova * n, const char *text)
{
  ensure_completion (n);
  n->responding = TRUE;
  n->reply_text = g_strdup (text);
  text_block (n, "ASSISTANT", "SPECULATIVE", text, "PARTIAL_TURN");
  n->audio_content_id = new_id ();
  content_start (n, n->audio_content_id, "AUDIO", "ASSISTANT", NULL);
  n->reply_pos = 0;
  if (n->conn->first_audio_delay_ms > 0 || n->conn->pace_audio)
    n->pace_timer = emu_conn_timeout_add (n->conn,
        n->conn->first_audio_delay_ms, first_audio_cb, n);
  else
    first_audio_cb (n);
}

/* 16 kHz → 24 kHz by linear interpolation (output n at input 2n/3) */
static void
upsample (const gint16 * in, gsize n_in, GArray * out)
{
  gsize n_out = n_in * 3 / 2, i;

  for (i = 0; i < n_out; i++) {
    gsize num = i * 2, k = num / 3, frac = num % 3;
    gint a = in[k], b = k + 1 < n_in ? in[k + 1] : in[k];
    gint16 v = (gint16) ((a * (3 - (gint) frac) + b * (gint) frac) / 3);
    g_array_append_val (out, v);
  }
}

static JsonObject *
script_turn (Nova * n)
{
  return emu_script_turn (n->user_turns);
}

static const char *
obj_str (JsonObject * o, const char *name)
{
  JsonNode *m;

  if (!o || !json_object_has_member (o, name))
    return NULL;
  m = json_object_get_member (o, name);
  if (JSON_NODE_HOLDS_VALUE (m) && json_node_get_value_type (m) ==
      G_TYPE_STRING)
    return json_node_get_string (m);
  return NULL;
}

/* A scripted toolUse in place of the answer */
static gboolean
maybe_tool_call (Nova * n)
{
  JsonObject *t = script_turn (n), *call, *o;
  JsonNode *args;
  char *id, *args_str, *tool_use_id;

  if (!t || !json_object_has_member (t, "tool_call"))
    return FALSE;
  call = json_object_get_object_member (t, "tool_call");
  args = json_object_get_member (call, "arguments");
  if (args && JSON_NODE_HOLDS_VALUE (args))
    args_str = g_strdup (json_node_get_string (args));
  else if (args)
    args_str = emu_json_to_string (args);
  else
    args_str = g_strdup ("{}");
  tool_use_id = obj_str (call, "call_id") ? g_strdup (obj_str (call,
          "call_id")) : new_id ();

  id = new_id ();
  content_start (n, id, "TOOL", "TOOL", NULL);
  o = ids (n);
  json_object_set_string_member (o, "contentId", id);
  json_object_set_string_member (o, "toolName", obj_str (call, "name"));
  json_object_set_string_member (o, "toolUseId", tool_use_id);
  json_object_set_string_member (o, "content", args_str);
  nova_send (n, "toolUse", o);
  content_end (n, id, "TOOL", "TOOL_USE");
  send_usage (n, 0, 0, 0, (strlen (args_str) + 3) / 4);
  summary_add (n, "TOOL_USE", args_str, 0);
  g_free (n->pending_tool_id);
  n->pending_tool_id = tool_use_id;
  g_free (id);
  g_free (args_str);
  return TRUE;
}

static void
user_turn_done (Nova * n)
{
  guint ms = n->turn_voiced_len * 1000 / IN_RATE;
  JsonObject *t;
  const char *s;
  char *user, *assistant;

  n->user_turns++;
  t = script_turn (n);
  s = obj_str (t, "user_transcript");
  user = s ? g_strdup (s) : g_strdup_printf ("turn %u, %u ms of speech",
      n->user_turns, ms);
  s = obj_str (t, "assistant_transcript");
  assistant = s ? g_strdup (s) : g_strdup_printf ("You said: %s", user);

  ensure_completion (n);
  text_block (n, "USER", "FINAL", user, "PARTIAL_TURN");
  summary_add (n, "USER", user, ms);
  n->in_ms_total += ms;
  send_usage (n, ms / 50, 0, 0, 0);
  if (!maybe_tool_call (n)) {
    g_array_set_size (n->reply, 0);
    upsample ((const gint16 *) n->turn->data, n->turn_voiced_len, n->reply);
    reply_start (n, assistant);
  }
  g_free (user);
  g_free (assistant);
  g_array_set_size (n->turn, 0);
  n->turn_voiced_len = 0;
}

static void
reply_sine (Nova * n, const char *text)
{
  g_array_set_size (n->reply, 0);
  emu_sine (n->reply, 1000, 440.0, 8000.0);
  reply_start (n, text);
}

/* ------------------------------------------------------------------------ */
/* Input */

static void
vad_frame (Nova * n, const gint16 * s)
{
  gboolean voiced = emu_frame_dbfs (s, IN_FRAME) > emu_vad_threshold_dbfs (0.5);

  if (!n->speaking && voiced) {
    n->speaking = TRUE;
    n->silence_ms = 0;
    g_array_set_size (n->turn, 0);
    if (n->responding) {
      /* barge-in: the answer stops where it is */
      reply_finish (n, TRUE);
    }
  }
  if (!n->speaking)
    return;
  g_array_append_vals (n->turn, s, IN_FRAME);
  if (voiced) {
    n->silence_ms = 0;
    n->turn_voiced_len = n->turn->len;
  } else {
    n->silence_ms += 10;
    if (n->silence_ms >= n->endpointing_ms) {
      n->speaking = FALSE;
      user_turn_done (n);
    }
  }
}

static void
audio_in (Nova * n, const guint8 * data, gsize len)
{
  gsize i;

  for (i = 0; i + 1 < len; i += 2) {
    guint16 raw;
    gint16 v;

    memcpy (&raw, data + i, 2);
    v = (gint16) GUINT16_FROM_LE (raw);
    g_array_append_val (n->frame, v);
    if (n->frame->len == IN_FRAME) {
      emu_conn_write_raw_input (n->conn, (const gint16 *) n->frame->data,
          IN_FRAME);
      vad_frame (n, (const gint16 *) n->frame->data);
      g_array_set_size (n->frame, 0);
      if (n->ended)
        return;
    }
  }
  n->in_samples += len / 2;
}

static gboolean
validation (Nova * n, const char *message)
{
  nova_exception (n, "validationException", message);
  return FALSE;
}

/* --nova-input-timeout-ms: Bedrock wants the audio block fed without a
 * stall (§B9 of the reference: keep streaming silence while idle; it gives
 * no exact stall timeout, its only figure is ~175 s of silence ending a
 * session with validationException InternalErrorCode=531). The emulator
 * ends a session whose open audio block got no audioInput for that long
 * with that documented exception. */
static gboolean
idle_check_cb (gpointer data)
{
  Nova *n = data;
  char *m;

  if (n->ended || !n->audio_content || n->input_done) {
    emu_conn_timeout_remove (n->conn, n->idle_timer);
    n->idle_timer = 0;
    return G_SOURCE_REMOVE;
  }
  if (g_get_monotonic_time () - n->last_audio_us <
      (gint64) opt_input_timeout_ms * 1000)
    return G_SOURCE_CONTINUE;
  emu_conn_timeout_remove (n->conn, n->idle_timer);
  n->idle_timer = 0;
  m = g_strdup_printf ("InternalErrorCode=531: no audio input for %u ms "
      "(emulated input-stall limit)", opt_input_timeout_ms);
  nova_exception (n, "validationException", m);
  g_free (m);
  return G_SOURCE_REMOVE;
}

static gboolean
check_prompt (Nova * n, JsonObject * body)
{
  const char *p = obj_str (body, "promptName");

  if (!n->prompt_name || !p || strcmp (p, n->prompt_name))
    return validation (n, "Invalid input request: unknown promptName");
  return TRUE;
}

static gboolean
handle_event (Nova * n, const char *name, JsonObject * body)
{
  if (!strcmp (name, "sessionStart")) {
    JsonObject *td;
    const char *sens;

    if (n->session_started)
      return validation (n, "Invalid input request: sessionStart sent twice");
    n->session_started = TRUE;
    if (json_object_has_member (body, "turnDetectionConfiguration")) {
      td = json_object_get_object_member (body, "turnDetectionConfiguration");
      sens = obj_str (td, "endpointingSensitivity");
      if (!n->nova2)
        return validation (n, "turnDetectionConfiguration is not supported "
            "by this model");
      if (!g_strcmp0 (sens, "HIGH"))
        n->endpointing_ms = 1500;
      else if (!g_strcmp0 (sens, "LOW"))
        n->endpointing_ms = 2000;
      else if (!g_strcmp0 (sens, "MEDIUM"))
        n->endpointing_ms = 1750;
      else
        return validation (n, "Invalid endpointingSensitivity");
    }
    return TRUE;
  }
  if (!n->session_started)
    return validation (n, "Invalid input request: sessionStart must come "
        "first");

  if (!strcmp (name, "promptStart")) {
    JsonObject *aoc;

    if (n->prompt_name)
      return validation (n, "Invalid input request: promptStart sent twice");
    if (!obj_str (body, "promptName"))
      return validation (n, "promptStart: promptName is required");
    if (json_object_has_member (body, "audioOutputConfiguration")) {
      aoc = json_object_get_object_member (body, "audioOutputConfiguration");
      if (json_object_get_int_member_with_default (aoc, "sampleRateHertz",
              EMU_RATE) != EMU_RATE)
        return validation (n, "audioOutputConfiguration: the emulator only "
            "produces sampleRateHertz 24000");
    }
    n->prompt_name = g_strdup (obj_str (body, "promptName"));
    return TRUE;
  }
  if (!strcmp (name, "contentStart")) {
    const char *cname = obj_str (body, "contentName");
    const char *type = obj_str (body, "type");

    if (!check_prompt (n, body))
      return FALSE;
    if (!cname || !type)
      return validation (n, "contentStart: contentName and type are "
          "required");
    if (g_hash_table_contains (n->contents, cname))
      return validation (n, "contentStart: contentName already open");
    if (!strcmp (type, "AUDIO")) {
      JsonObject *aic = json_object_has_member (body,
          "audioInputConfiguration") ? json_object_get_object_member (body,
          "audioInputConfiguration") : NULL;
      if (!aic || json_object_get_int_member_with_default (aic,
              "sampleRateHertz", 0) != IN_RATE)
        return validation (n, "audioInputConfiguration: the emulator takes "
            "sampleRateHertz 16000");
      if (n->audio_content)
        return validation (n, "only one AUDIO content may be open");
      n->audio_content = g_strdup (cname);
      n->last_audio_us = g_get_monotonic_time ();
      if (opt_input_timeout_ms > 0 && n->idle_timer == 0)
        n->idle_timer = emu_conn_timeout_add (n->conn, 50, idle_check_cb, n);
    } else if (strcmp (type, "TEXT") && strcmp (type, "TOOL")) {
      return validation (n, "contentStart: unknown type");
    }
    g_hash_table_insert (n->contents, g_strdup (cname), json_object_ref (body));
    g_string_truncate (n->text_in, 0);
    return TRUE;
  }
  if (!strcmp (name, "textInput") || !strcmp (name, "toolResult") ||
      !strcmp (name, "audioInput")) {
    const char *cname = obj_str (body, "contentName");
    const char *content = obj_str (body, "content");

    if (!check_prompt (n, body))
      return FALSE;
    if (!cname || !g_hash_table_contains (n->contents, cname) || !content)
      return validation (n, "Invalid input request: content not open");
    if (!strcmp (name, "audioInput")) {
      gsize len;
      guchar *pcm = emu_base64_decode_checked (content, &len);

      if (!pcm || g_strcmp0 (cname, n->audio_content))
        return validation (n, "audioInput: invalid content");
      n->last_audio_us = g_get_monotonic_time ();
      if (opt_read_pause_ms > 0 && !n->read_paused) {
        char *d = g_strdup_printf ("%u ms", opt_read_pause_ms);

        /* a client whose socket cannot take its writes for a while */
        n->read_paused = TRUE;
        emu_log_conn_note (n->conn->index, "read-pause", d);
        g_free (d);
        emu_h2_pause_reading (n->h2, opt_read_pause_ms);
      }
      audio_in (n, pcm, len);
      g_free (pcm);
    } else {
      g_string_append (n->text_in, content);
    }
    return TRUE;
  }
  if (!strcmp (name, "contentEnd")) {
    const char *cname = obj_str (body, "contentName");
    JsonObject *cs;
    const char *type, *role;

    if (!check_prompt (n, body))
      return FALSE;
    if (!cname || !(cs = g_hash_table_lookup (n->contents, cname)))
      return validation (n, "contentEnd: content not open");
    type = obj_str (cs, "type");
    role = obj_str (cs, "role");
    if (!strcmp (type, "AUDIO")) {
      /* the raw log gets a last partial frame too (not voice-detected) */
      if (n->frame->len > 0)
        emu_conn_write_raw_input (n->conn, (const gint16 *) n->frame->data,
            n->frame->len);
      g_array_set_size (n->frame, 0);
      g_clear_pointer (&n->audio_content, g_free);
    } else if (!strcmp (type, "TOOL")) {
      summary_add (n, "TOOL", n->text_in->str, 0);
      g_clear_pointer (&n->pending_tool_id, g_free);
      if (!n->responding) {
        char *t = g_strdup_printf ("The tool said: %s", n->text_in->str);
        reply_sine (n, t);
        g_free (t);
      }
    } else if (!g_strcmp0 (role, "USER") &&
        json_object_get_boolean_member_with_default (cs, "interactive",
            FALSE)) {
      summary_add (n, "USER", n->text_in->str, 0);
      if (n->nova2 && !n->responding) {
        char *t = g_strdup_printf ("You wrote: %s", n->text_in->str);
        reply_sine (n, t);
        g_free (t);
      }
    } else {
      summary_add (n, role ? role : "?", n->text_in->str, 0);
    }
    g_hash_table_remove (n->contents, cname);
    return TRUE;
  }
  if (!strcmp (name, "promptEnd"))
    return check_prompt (n, body);
  if (!strcmp (name, "sessionEnd"))
    return TRUE;
  return validation (n, "Invalid input request: unknown event");
}

/* The log keeps audio sizes, not audio */
static JsonNode *
loggable (JsonNode * event, const char *name, JsonObject * body)
{
  /* json_node_copy shares the objects: a deep copy through text */
  char *text = emu_json_to_string (event);
  JsonNode *copy = json_from_string (text, NULL);

  g_free (text);

  if (!strcmp (name, "audioInput")) {
    JsonObject *b = json_object_get_object_member (json_object_get_object_member
        (json_node_get_object (copy), "event"), name);
    const char *c = obj_str (b, "content");
    gsize len = 0, i;
    guchar *pcm = c ? emu_base64_decode_checked (c, &len) : NULL;
    gboolean zero = pcm != NULL && len > 0;

    for (i = 0; zero && i < len; i++)
      zero = pcm[i] == 0;
    g_free (pcm);
    json_object_set_int_member (b, "content_bytes",
        c ? emu_base64_decoded_len (c) : 0);
    /* all samples exactly 0: what s2snova sends to keep an idle session
     * fed (the tests tell it from their own input this way) */
    if (zero)
      json_object_set_boolean_member (b, "digital_silence", TRUE);
    json_object_remove_member (b, "content");
  }
  return copy;
}

/* The payload of a verified envelope: the inner message */
static void
handle_inner (Nova * n, GBytes * inner)
{
  gsize len, used = 0;
  const guint8 *data = g_bytes_get_data (inner, &len);
  GstS2SAwsMessage *msg;
  GError *err = NULL;
  JsonParser *parser = NULL;
  JsonNode *root, *log;
  JsonObject *ev, *body;
  const char *b64, *name;
  guchar *json = NULL;
  gsize json_len;
  GList *members;

  msg = gst_s2s_aws_message_decode (data, len, &used, &err);
  if (!msg || used != len) {
    char *m = g_strdup_printf ("Invalid event bytes: %s",
        err ? err->message : "truncated inner message");
    validation (n, m);
    g_free (m);
    g_clear_error (&err);
    goto out;
  }
  if (g_strcmp0 (gst_s2s_aws_message_get_string (msg, ":message-type"),
          "event") || g_strcmp0 (gst_s2s_aws_message_get_string (msg,
              ":event-type"), "chunk")) {
    validation (n, "Invalid input request: expected an event of type chunk");
    goto out;
  }
  parser = json_parser_new ();
  data = g_bytes_get_data (msg->payload, &len);
  if (!json_parser_load_from_data (parser, (const char *) data, len, NULL) ||
      !JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)) ||
      !(b64 = obj_str (json_node_get_object (json_parser_get_root (parser)),
              "bytes")) || !(json = emu_base64_decode_checked (b64,
              &json_len))) {
    validation (n, "Invalid input request: payload is not {\"bytes\": "
        "base64}");
    goto out;
  }
  if (!json_parser_load_from_data (parser, (const char *) json, json_len,
          NULL) || !JSON_NODE_HOLDS_OBJECT (root =
          json_parser_get_root (parser)) ||
      !json_object_has_member (json_node_get_object (root), "event") ||
      !JSON_NODE_HOLDS_OBJECT (json_object_get_member (json_node_get_object
              (root), "event"))) {
    JsonObject *line = emu_log_line_new (n->conn->index, "client");
    json_object_set_string_member (line, "unparsable", "event JSON");
    emu_log_write (line);
    validation (n, "Invalid input request: malformed event JSON");
    goto out;
  }
  ev = json_object_get_object_member (json_node_get_object (root), "event");
  members = json_object_get_members (ev);
  if (g_list_length (members) != 1 || !JSON_NODE_HOLDS_OBJECT
      (json_object_get_member (ev, members->data))) {
    g_list_free (members);
    validation (n, "Invalid input request: one event per message");
    goto out;
  }
  name = members->data;
  g_list_free (members);
  body = json_object_get_object_member (ev, name);
  log = loggable (root, name, body);
  emu_conn_log_event (n->conn, "client", log);
  json_node_unref (log);
  if (handle_event (n, name, body))
    emu_conn_client_event_done (n->conn, name);

out:
  g_free (json);
  if (parser)
    g_object_unref (parser);
  if (msg)
    gst_s2s_aws_message_free (msg);
}

static void
handle_envelope (Nova * n, GstS2SAwsMessage * msg)
{
  GError *err = NULL;
  gsize len;

  n->n_events++;
  if (!gst_s2s_aws_event_signer_verify (n->signer, msg, &err)) {
    char *m = g_strdup_printf ("Invalid signature on event %u: %s",
        n->n_events, err->message);
    JsonObject *line = emu_log_line_new (n->conn->index, "conn");
    json_object_set_string_member (line, "what", "bad-event-signature");
    json_object_set_int_member (line, "event", n->n_events);
    emu_log_write (line);
    validation (n, m);
    g_free (m);
    g_clear_error (&err);
    return;
  }
  g_bytes_get_data (msg->payload, &len);
  if (len == 0) {
    n->input_done = TRUE;
    emu_log_conn_note (n->conn->index, "input-end", NULL);
    return;
  }
  if (n->input_done) {
    validation (n, "Invalid input request: event after the end frame");
    return;
  }
  handle_inner (n, msg->payload);
}

/* ------------------------------------------------------------------------ */
/* Stream lifetime */

static gboolean
limit_cb (gpointer data)
{
  Nova *n = data;

  emu_conn_timeout_remove (n->conn, n->limit_timer);
  n->limit_timer = 0;
  nova_exception (n, "modelTimeoutException",
      "Model has timed out in processing the request");
  return G_SOURCE_REMOVE;
}

static GHashTable *
conn_table (EmuH2Conn * h2)
{
  GHashTable *t = emu_h2_conn_get_data (h2);

  if (!t) {
    t = g_hash_table_new_full (NULL, NULL, NULL, (GDestroyNotify) nova_free);
    emu_h2_conn_set_data (h2, t);
  }
  return t;
}

static Nova *
lookup (EmuH2Conn * h2, gint32 id)
{
  GHashTable *t = emu_h2_conn_get_data (h2);

  return t ? g_hash_table_lookup (t, GINT_TO_POINTER (id)) : NULL;
}

static Nova *
nova_of (EmuConn * conn)
{
  return conn->priv;
}

static void
ops_send_raw (EmuConn * conn, const char *text)
{
  Nova *n = nova_of (conn);

  if (!n->ended)
    emu_h2_send (n->h2, n->stream_id, (const guint8 *) text, strlen (text));
}

static void
ops_close (EmuConn * conn, gushort code, const char *reason)
{
  Nova *n = nova_of (conn);

  if (code == 1000 || code == 1001) {
    nova_end_stream (n);
  } else {
    n->ended = TRUE;
    emu_h2_reset (n->h2, n->stream_id, 2 /* INTERNAL_ERROR */ );
  }
}

static void
ops_drop (EmuConn * conn)
{
  Nova *n = nova_of (conn);

  n->ended = TRUE;
  emu_h2_drop (n->h2);
}

static const EmuConnOps nova_ops = { ops_send_raw, ops_close, ops_drop };

static void
fault_error (EmuConn * conn, const char *type, const char *code,
    const char *message)
{
  nova_exception (nova_of (conn), code ? code : (type ? type :
          "internalServerException"), message ? message :
      "The system encountered an unexpected error during processing. "
      "Try your request again.");
}

static void
fault_session_expired (EmuConn * conn)
{
  nova_exception (nova_of (conn), "modelTimeoutException",
      "Model has timed out in processing the request");
}

static JsonNode *
conn_summary (EmuConn * conn)
{
  Nova *n = nova_of (conn);
  JsonObject *o = json_object_new ();
  JsonNode *node = json_node_new (JSON_NODE_OBJECT);

  if (!n)
    return NULL;
  json_object_set_array_member (o, "items", json_array_ref (n->summary));
  json_object_set_int_member (o, "user_turns", n->user_turns);
  json_object_set_string_member (o, "model", n->model);
  json_node_take_object (node, o);
  return node;
}

const EmuDialect emu_nova_dialect = {
  .name = "nova",
  .paths = NULL,
  .conn_summary = conn_summary,
  .fault_error = fault_error,
  .fault_session_expired = fault_session_expired,
};

static void
nova_free (Nova * n)
{
  if (n->conn) {
    n->conn->priv = NULL;
    n->conn->closed = TRUE;
  }
  gst_s2s_aws_decoder_free (n->dec);
  if (n->signer)
    gst_s2s_aws_event_signer_free (n->signer);
  g_free (n->model);
  g_free (n->session_id);
  g_free (n->prompt_name);
  g_free (n->completion_id);
  g_hash_table_unref (n->contents);
  g_free (n->audio_content);
  g_string_free (n->text_in, TRUE);
  g_free (n->tool_result);
  g_array_unref (n->frame);
  g_array_unref (n->turn);
  g_array_unref (n->reply);
  g_free (n->reply_text);
  g_free (n->audio_content_id);
  g_free (n->pending_tool_id);
  json_array_unref (n->summary);
  g_free (n);
}

/* ------------------------------------------------------------------------ */
/* Request: path, signature */

static void
respond_error (EmuH2Conn * h2, gint32 id, guint index, guint status,
    const char *type, const char *message)
{
  JsonObject *o = json_object_new (), *line;
  JsonNode *node = json_node_new (JSON_NODE_OBJECT);
  const char *headers[] = { "content-type", "application/json",
    "x-amzn-errortype", type, "x-amzn-requestid", "emu-request", NULL
  };
  char *body;

  json_object_set_string_member (o, "message", message);
  json_node_take_object (node, o);
  body = emu_json_to_string (node);
  emu_h2_respond (h2, id, status, headers);
  emu_h2_send (h2, id, (const guint8 *) body, strlen (body));
  emu_h2_end (h2, id);
  line = emu_log_line_new (index, "conn");
  json_object_set_string_member (line, "what", "reject");
  json_object_set_int_member (line, "status", status);
  json_object_set_string_member (line, "error_type", type);
  emu_log_write (line);
  g_free (body);
  json_node_unref (node);
}

static void
log_request (guint index, const char *const *h)
{
  JsonObject *line = emu_log_line_new (index, "conn"),
      *headers = json_object_new ();
  guint i;

  json_object_set_string_member (line, "what", "handshake");
  for (i = 0; h[i]; i += 2)
    json_object_set_string_member (headers, h[i],
        emu_is_secret_header (h[i]) ? "REDACTED" : h[i + 1]);
  json_object_set_object_member (line, "headers", headers);
  emu_log_write (line);
}

static const char *
header (const char *const *h, const char *name)
{
  guint i;

  for (i = 0; h[i]; i += 2)
    if (!g_ascii_strcasecmp (h[i], name))
      return h[i + 1];
  return NULL;
}

/* The model id from the path, or NULL */
static char *
model_from_path (const char *path)
{
  const char *start, *end;
  char *enc, *model;

  if (!g_str_has_prefix (path, PATH_PREFIX))
    return NULL;
  start = path + strlen (PATH_PREFIX);
  end = strchr (start, '/');
  if (!end || strcmp (end, PATH_SUFFIX))
    return NULL;
  enc = g_strndup (start, end - start);
  model = g_uri_unescape_string (enc, NULL);
  g_free (enc);
  return model;
}

/* Returns the verified request (its signature seeds the event chain), or
 * NULL after answering 403 */
static GstS2SAwsRequest *
verify_request (EmuH2Conn * h2, gint32 id, guint index, const char *const *h)
{
  const char *auth = header (h, "authorization");
  const char *token = header (h, "x-amz-security-token");
  GstS2SAwsRequest *req;
  GError *err = NULL;
  char *cred;
  guint i;

  if (!auth) {
    respond_error (h2, id, index, 403, "MissingAuthenticationTokenException",
        "Missing Authentication Token");
    return NULL;
  }
  cred = g_strdup_printf ("Credential=%s/", opt_access_key);
  if (!strstr (auth, cred) || (opt_session_token &&
          g_strcmp0 (token, opt_session_token))) {
    g_free (cred);
    respond_error (h2, id, index, 403, "UnrecognizedClientException",
        "The security token included in the request is invalid.");
    return NULL;
  }
  g_free (cred);

  req = gst_s2s_aws_request_new (header (h, ":method"), header (h, ":path"));
  for (i = 0; h[i]; i += 2)
    if (strcmp (h[i], ":method") && strcmp (h[i], ":path") &&
        strcmp (h[i], ":scheme"))
      gst_s2s_aws_request_add_header (req, h[i], h[i + 1]);
  if (header (h, "x-amz-content-sha256"))
    gst_s2s_aws_request_set_payload_hash (req, header (h,
            "x-amz-content-sha256"));
  if (!gst_s2s_aws_request_verify (req, opt_access_key, opt_secret_key,
          g_get_real_time () / G_USEC_PER_SEC, MAX_SKEW_S, &err) ||
      g_strcmp0 (gst_s2s_aws_request_get_service (req), "bedrock")) {
    JsonObject *line = emu_log_line_new (index, "conn");
    json_object_set_string_member (line, "what", "bad-signature");
    json_object_set_string_member (line, "detail",
        err ? err->message : "service is not bedrock");
    emu_log_write (line);
    g_clear_error (&err);
    gst_s2s_aws_request_free (req);
    respond_error (h2, id, index, 403, "InvalidSignatureException",
        "The request signature we calculated does not match the signature "
        "you provided. Check your AWS Secret Access Key and signing method. "
        "Consult the service documentation for details.");
    return NULL;
  }
  return req;
}

static void
on_request (EmuH2Conn * h2, gint32 id, const char *const *h, gpointer ud)
{
  guint index = emu_next_conn_index ();
  const char *path = header (h, ":path");
  const EmuReject *rej;
  GstS2SAwsRequest *req;
  char *model;
  Nova *n;
  const char *ok_headers[] = { "content-type",
    "application/vnd.amazon.eventstream", "x-amzn-requestid", "emu-request",
    NULL
  };

  log_request (index, h);
  model = path ? model_from_path (path) : NULL;
  if (g_strcmp0 (header (h, ":method"), "POST") || !model) {
    respond_error (h2, id, index, 404, "UnknownOperationException",
        "Unknown operation");
    g_free (model);
    return;
  }
  if (!g_strv_contains (nova_models, model)) {
    respond_error (h2, id, index, 400, "ValidationException",
        "The provided model identifier is invalid.");
    g_free (model);
    return;
  }
  if ((rej = emu_script_reject (index))) {
    respond_error (h2, id, index, rej->status, rej->code ? rej->code :
        (rej->status == 429 ? "ThrottlingException" : rej->status >= 500 ?
            "InternalServerException" : "ValidationException"),
        rej->message ? rej->message : "Rejected by the emulator script");
    g_free (model);
    return;
  }
  req = verify_request (h2, id, index, h);
  if (!req) {
    g_free (model);
    return;
  }

  n = g_new0 (Nova, 1);
  n->h2 = h2;
  n->stream_id = id;
  n->model = model;
  n->nova2 = strstr (model, "nova-2") != NULL;
  n->dec = gst_s2s_aws_decoder_new ();
  n->signer = gst_s2s_aws_event_signer_new (opt_secret_key,
      gst_s2s_aws_request_get_region (req), "bedrock",
      gst_s2s_aws_request_get_signature (req));
  gst_s2s_aws_request_free (req);
  n->session_id = new_id ();
  n->completion_id = new_id ();
  n->endpointing_ms = 1750;
  n->contents = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
      (GDestroyNotify) json_object_unref);
  n->text_in = g_string_new (NULL);
  n->frame = g_array_new (FALSE, FALSE, sizeof (gint16));
  n->turn = g_array_new (FALSE, FALSE, sizeof (gint16));
  n->reply = g_array_new (FALSE, FALSE, sizeof (gint16));
  n->summary = json_array_new ();
  g_hash_table_insert (conn_table (h2), GINT_TO_POINTER (id), n);

  n->conn = emu_conn_new_custom (&emu_nova_dialect, index, &nova_ops, path);
  n->conn->priv = n;
  /* headers go out at once: the client streams events before and after */
  emu_h2_respond (h2, id, 200, ok_headers);
  if (opt_session_limit_ms > 0)
    n->limit_timer = emu_conn_timeout_add (n->conn, opt_session_limit_ms,
        limit_cb, n);
  emu_conn_arm_faults (n->conn);
}

static void
on_data (EmuH2Conn * h2, gint32 id, const guint8 * data, gsize len, gpointer ud)
{
  Nova *n = lookup (h2, id);
  GstS2SAwsMessage *msg;
  GError *err = NULL;

  if (!n || n->ended)
    return;
  if (!gst_s2s_aws_decoder_feed (n->dec, data, len, &err)) {
    char *m = g_strdup_printf ("Invalid event bytes: %s", err->message);
    validation (n, m);
    g_free (m);
    g_clear_error (&err);
    return;
  }
  while (!n->ended && (msg = gst_s2s_aws_decoder_pop (n->dec))) {
    handle_envelope (n, msg);
    gst_s2s_aws_message_free (msg);
    /* a fault (drop) may have closed the connection and freed n */
    if (lookup (h2, id) != n)
      return;
  }
}

static void
on_end (EmuH2Conn * h2, gint32 id, gpointer ud)
{
  Nova *n = lookup (h2, id);

  if (!n || n->ended)
    return;
  emu_log_conn_note (n->conn->index, "client-end-stream", NULL);
  if (n->responding) {
    while (n->reply_pos < n->reply->len) {
      send_audio_chunk (n);
      /* a fault on a server event may have closed the connection */
      if (lookup (h2, id) != n || n->ended)
        return;
    }
    reply_finish (n, FALSE);
  }
  if (n->completion_started) {
    JsonObject *o = ids (n);
    json_object_set_string_member (o, "stopReason", "END_TURN");
    nova_send (n, "completionEnd", o);
  }
  nova_end_stream (n);
}

static void
on_stream_closed (EmuH2Conn * h2, gint32 id, guint32 code, gpointer ud)
{
  Nova *n = lookup (h2, id);
  char reason[32];

  if (!n)
    return;
  g_snprintf (reason, sizeof (reason), "HTTP/2 error %u", code);
  n->ended = TRUE;
  emu_conn_custom_closed (n->conn, code, code ? reason : NULL);
  g_hash_table_remove (emu_h2_conn_get_data (h2), GINT_TO_POINTER (id));
}

static void
on_goaway (EmuH2Conn * h2, guint32 code, gpointer ud)
{
  /* the AWS SDK for JavaScript sends GOAWAY(NO_ERROR) as soon as the
   * response starts and keeps streaming: serve on */
  emu_log_conn_note (0, "client-goaway", code ? "error" : "graceful");
}

static void
on_conn_closed (EmuH2Conn * h2, gpointer ud)
{
  GHashTable *t = emu_h2_conn_get_data (h2);
  GHashTableIter it;
  gpointer v;

  if (!t)
    return;
  g_hash_table_iter_init (&it, t);
  while (g_hash_table_iter_next (&it, NULL, &v)) {
    Nova *n = v;
    n->ended = TRUE;
    emu_conn_custom_closed (n->conn, 1006, "connection closed");
  }
  g_hash_table_unref (t);
  emu_h2_conn_set_data (h2, NULL);
}

static const EmuH2Callbacks h2_callbacks = {
  NULL, on_request, on_data, on_end, on_stream_closed, on_goaway,
  on_conn_closed
};

EmuH2Server *
emu_nova_listen (guint16 port, GTlsCertificate * cert,
    const char *access_key, const char *secret_key,
    const char *session_token, guint session_limit_ms,
    guint input_timeout_ms, guint read_pause_ms, GError ** error)
{
  opt_input_timeout_ms = input_timeout_ms;
  opt_read_pause_ms = read_pause_ms;
  opt_access_key = g_strdup (access_key);
  opt_secret_key = g_strdup (secret_key);
  opt_session_token = session_token ? g_strdup (session_token) : NULL;
  opt_session_limit_ms = session_limit_ms;
  return emu_h2_listen (port, cert, &h2_callbacks, NULL, error);
}
