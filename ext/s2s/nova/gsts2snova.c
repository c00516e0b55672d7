/* gst-s2s
 * Copyright (C) 2026 gst-s2s developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/**
 * SECTION:element-s2snova
 * @title: s2snova
 *
 * Streams the user's voice to Amazon Nova Sonic (Nova 2 Sonic by default)
 * on Bedrock's bidirectional stream and plays the spoken reply on its src
 * pad, with transcripts, tool calls, usage and barge-in reported as element
 * messages like every s2s element. The session is one full-duplex HTTP/2
 * request (own HTTP/2 client on libnghttp2); every client event is an AWS
 * event-stream message in a SigV4-signed envelope chained from the request
 * signature.
 *
 * Input is 16 kHz S16LE mono, output 24 kHz S16LE mono. Credentials come
 * from the properties, then `AWS_ACCESS_KEY_ID`/`AWS_SECRET_ACCESS_KEY`/
 * `AWS_SESSION_TOKEN`, then the shared credentials and config files
 * (`profile` or `AWS_PROFILE`); the region from `region`, `AWS_REGION`,
 * `AWS_DEFAULT_REGION` or the config file. The endpoint is
 * `https://bedrock-runtime.<region>.amazonaws.com` unless `url` is set.
 *
 * With Nova 2, `silence-duration` picks the endpointing sensitivity: up to
 * 1500 ms HIGH, up to 1750 ms MEDIUM, above LOW (unset: the service
 * default).
 *
 * Bedrock wants the audio fed continuously: while no input audio flows
 * (a stalled source, text-only use, after input EOS) the element sends
 * real-time silence. Give real credentials through the environment or the
 * credentials file: gst-launch-1.0 logs its command line's property values
 * at GST_DEBUG=*:9.
 *
 * ## Example launch line
 * |[
 * gst-launch-1.0 -m filesrc location=question-16k.wav ! wavparse ! \
 *     s2snova url=http://127.0.0.1:8766 region=us-east-1 \
 *     access-key-id=AKIDEXAMPLE \
 *     secret-access-key=wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY \
 *     silence-duration=1500 ! wavenc ! filesink location=reply.wav
 * ]| Against `s2s-emulator --nova-port 8766`.
 * |[
 * gst-launch-1.0 autoaudiosrc ! audioconvert ! audioresample ! \
 *     s2snova region=us-east-1 ! audioconvert ! audioresample ! autoaudiosink
 * ]| A live conversation with Nova 2 Sonic (AWS credentials from the
 * environment).
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <string.h>
#include <glib/gi18n-lib.h>

#include "gsts2snova.h"
#include "gsts2selements.h"
#include "gsts2sbase-private.h"
#include "aws/h2client.h"
#include "aws/credentials.h"
#include "aws/eventstream.h"
#include "aws/sigv4.h"
#include "gsts2snova-protocol.h"

GST_DEBUG_CATEGORY_STATIC (gst_s2s_nova_debug);
#define GST_CAT_DEFAULT gst_s2s_nova_debug

#define NOVA2_MODEL "amazon.nova-2-sonic-v1:0"
/* audioInput events of at most 100 ms */
#define MAX_AUDIO_EVENT_BYTES (GST_S2S_NOVA_INPUT_RATE * 2 / 10)
#define MAX_ERROR_BODY 4096
/* Bedrock ends a stream after 8 minutes (§B9) */
#define DEFAULT_SESSION_LIMIT_MS (8 * 60 * 1000)
/* Rotation: a turn boundary is looked for from 3/4 of the limit; the switch
 * is forced a guard (1/16 of the limit, at most 10 s) plus the base's margin
 * before the limit */
#define ROTATION_GUARD_MAX_MS 10000
/* The replay of the turn in progress: at most this much audio, starting
 * this long before its first voiced frame */
#define REPLAY_MAX_MS 30000
#define REPLAY_LEAD_MS 300
/* Local voice detection for the replay and rotation_ready(): 10 ms frames
 * above -40 dBFS (mean square of 16-bit samples) */
#define VAD_FRAME_SAMPLES (GST_S2S_NOVA_INPUT_RATE / 100)
#define VAD_MEAN_SQUARE 107374.0
/* the close code a resumable exception is reported with */
#define EXCEPTION_CLOSE_CODE 1011
/* A rotated stream drains (its queued audio, the end events, END_STREAM)
 * until the server ends it, at most this long */
#define DRAIN_TIMEOUT_MS 2000
/* On stop the closing events and the signed end frame get at most this
 * long to reach the server and the server to end the stream
 * (docs/nova-aws.md) */
#define STOP_FLUSH_MS 1000
/* Keep-alive (§B9: keep the audio block fed, also in text-only sessions):
 * once no input audio went out for KEEPALIVE_GAP_MS, silence goes out in
 * KEEPALIVE_CHUNK_MS chunks (the ~32 ms of §B6) paced to real time until
 * input audio resumes. Catching up after a late tick is bounded by
 * KEEPALIVE_CATCHUP_MS. */
/* 200 ms: a paced or live source that is late by less (a scheduling
 * hiccup) gets no silence inside its audio */
#define KEEPALIVE_GAP_MS 200
/* An input buffer counts as covering its own duration, up to this much: a
 * burst (the padding after input EOS, input queued while connecting) does
 * not hold the keep-alive off for longer */
#define KEEPALIVE_MAX_AHEAD_MS 500
#define KEEPALIVE_CHUNK_MS 32
#define KEEPALIVE_CATCHUP_MS 200
#define KEEPALIVE_CHUNK_BYTES (GST_S2S_NOVA_INPUT_RATE * 2 * \
    KEEPALIVE_CHUNK_MS / 1000)

#define IN_CAPS "audio/x-raw, format = (string) S16LE, " \
    "layout = (string) interleaved, rate = (int) 16000, channels = (int) 1"
#define OUT_CAPS "audio/x-raw, format = (string) S16LE, " \
    "layout = (string) interleaved, rate = (int) 24000, channels = (int) 1"

static GstStaticPadTemplate sink_template = GST_STATIC_PAD_TEMPLATE ("sink",
    GST_PAD_SINK, GST_PAD_ALWAYS, GST_STATIC_CAPS (IN_CAPS));
static GstStaticPadTemplate src_template = GST_STATIC_PAD_TEMPLATE ("src",
    GST_PAD_SRC, GST_PAD_ALWAYS, GST_STATIC_CAPS (OUT_CAPS));

enum
{
  PROP_0,
  PROP_REGION,
  PROP_ACCESS_KEY_ID,
  PROP_SECRET_ACCESS_KEY,
  PROP_SESSION_TOKEN,
  PROP_PROFILE,
  PROP_SESSION_LIMIT,
};

struct _GstS2SNova
{
  GstS2SBase parent;

  /* properties, object lock */
  gchar *region;
  gchar *access_key_id;
  gchar *secret_access_key;
  gchar *session_token;
  gchar *profile;
  guint session_limit_ms;

  /* I/O thread: transport */
  GstS2SH2Client *h2;
  GstS2SAwsEventSigner *signer;
  GstS2SAwsDecoder *decoder;
  GByteArray *out;
  guint http_status;
  gchar *error_type;
  GString *error_body;
  gboolean ending;

  /* I/O thread: protocol (nova/gsts2snova-protocol.c) */
  GstS2SNovaProtocol *proto;
  gboolean nova2;
  gchar *resp_id;               /* the assistant turn in progress */
  gchar *resp_item;
  guint resp_serial;
  GString *final_text;
  GstS2SNovaUsage last_usage;   /* usageEvent totals so far */

  /* I/O thread: rotation (survives close_transport) */
  GSource *rotation_timer;
  GstS2SH2Client *draining;     /* the rotated stream, until it ended */
  GSource *drain_timer;
  GByteArray *replay;           /* audio sent since the last answered point */
  gssize replay_voiced;         /* offset of its first voiced frame, or -1 */
  gboolean user_text_pending;   /* a USER transcript since that point */
  gboolean replay_all;          /* the old stream broke: it may have lost
                                 * any of that, not only the voice */
  guint stream_serial;          /* counts streams, for deferred reports */
  gchar *lost_reason;           /* a resumable exception ended the stream */

  /* I/O thread: keep-alive silence */
  GSource *keepalive;
  gint64 audio_until;           /* monotonic us the audio sent so far covers */
  gint64 last_input;            /* monotonic us of the last input handoff */
  gboolean keepalive_active;
  guint64 keepalive_bytes;      /* silence sent on this stream */
};

G_DEFINE_TYPE_WITH_CODE (GstS2SNova, gst_s2s_nova, GST_TYPE_S2S_BASE,
    GST_DEBUG_CATEGORY_INIT (gst_s2s_nova_debug, "s2snova", 0,
        "Amazon Nova Sonic speech-to-speech"));
GST_ELEMENT_REGISTER_DEFINE_WITH_CODE (s2snova, "s2snova", GST_RANK_NONE,
    GST_TYPE_S2S_NOVA, s2s_element_init (plugin));

/* ------------------------------------------------------------------------ */
/* Client events: built by the protocol layer, signed by transport_send */

static void
send_events (GstS2SNova * self, GPtrArray * events)
{
  guint i;

  for (i = 0; i < events->len; i++)
    gst_s2s_base_send (GST_S2S_BASE (self), g_ptr_array_index (events, i), -1);
  g_ptr_array_set_size (events, 0);
}

static void replay_reset (GstS2SNova * self);
static void gst_s2s_nova_send_audio (GstS2SBase * base, const guint8 * data,
    gsize size);
static void keepalive_start (GstS2SNova * self);

static const gchar *
endpointing (gint silence_ms)
{
  if (silence_ms < 0)
    return NULL;
  if (silence_ms <= 1500)
    return "HIGH";
  if (silence_ms <= 1750)
    return "MEDIUM";
  return "LOW";
}

/* sessionStart, promptStart, the system prompt, the history (the seed, or
 * the conversation so far), then the audio block kept open. Bedrock has no
 * acknowledgement: the session is ready once these are out. */
static gboolean
start_stream (GstS2SNova * self, const GstS2SConfig * c, gchar * history)
{
  GstS2SBase *base = GST_S2S_BASE (self);
  GstS2SNovaSessionConfig sc = { 0, };
  GPtrArray *events = g_ptr_array_new_with_free_func (g_free);
  gchar *tools = NULL;
  GError *err = NULL;
  gboolean ok;

  if (c->tools && json_array_get_length (c->tools) > 0) {
    JsonNode *n = json_node_new (JSON_NODE_ARRAY);
    json_node_set_array (n, c->tools);
    tools = json_to_string (n, FALSE);
    json_node_unref (n);
  }
  sc.nova2 = self->nova2;
  sc.max_tokens = c->max_output_tokens;
  sc.top_p = -1;
  sc.temperature = c->temperature;
  sc.endpointing_sensitivity = endpointing (c->silence_duration);
  sc.voice = c->voice;
  sc.system_prompt = c->instructions;
  sc.tools_json = tools;
  sc.history_json = history;
  ok = gst_s2s_nova_protocol_start (self->proto, &sc, events, &err);
  if (!ok) {
    gst_s2s_base_provider_error (base, GST_S2S_ERROR_INVALID_CONFIG, TRUE,
        FALSE, NULL, err->message);
    g_clear_error (&err);
  } else {
    send_events (self, events);
    keepalive_start (self);
  }
  g_ptr_array_unref (events);
  g_free (tools);
  g_free (history);
  return ok;
}

static void
gst_s2s_nova_session_open (GstS2SBase * base, const GstS2SConfig * c)
{
  GstS2SNova *self = GST_S2S_NOVA (base);
  gchar *history = NULL;

  replay_reset (self);
  /* before a session ran this is the history property's seed */
  g_object_get (self, "history", &history, NULL);
  if (start_stream (self, c, history))
    gst_s2s_base_session_ready (base,
        gst_s2s_nova_protocol_get_prompt_name (self->proto));
}

/* The conversation so far, without its trailing user messages when their
 * audio is replayed (the model transcribes it again) */
static gchar *
resume_history (GstS2SNova * self, gboolean drop_trailing_user)
{
  gchar *json = gst_s2s_base_dup_conversation (GST_S2S_BASE (self));
  JsonNode *root;
  JsonArray *a;
  guint n;

  if (!drop_trailing_user)
    return json;
  root = json_from_string (json, NULL);
  if (root == NULL || !JSON_NODE_HOLDS_ARRAY (root)) {
    if (root)
      json_node_unref (root);
    return json;
  }
  a = json_node_get_array (root);
  while ((n = json_array_get_length (a)) > 0) {
    JsonObject *o = json_array_get_object_element (a, n - 1);
    if (o == NULL || g_strcmp0 (json_object_get_string_member_with_default (o,
                "type", ""), "message") || g_strcmp0
        (json_object_get_string_member_with_default (o, "role", ""), "user"))
      break;
    json_array_remove_element (a, n - 1);
  }
  g_free (json);
  json = json_to_string (root, FALSE);
  json_node_unref (root);
  return json;
}

/* A successor stream (rotation before the limit, or after a drop): the
 * conversation so far as history (§B9: first message USER, the size limits,
 * applied by the protocol layer), then the user audio of the turn in
 * progress again, from shortly before its voice starts, so nothing the
 * user said is lost. Queued input follows once the session is ready. */
static void
gst_s2s_nova_session_resume (GstS2SBase * base, const GstS2SConfig * c)
{
  GstS2SNova *self = GST_S2S_NOVA (base);
  GByteArray *old = self->replay;
  gssize voiced = self->replay_voiced;
  gboolean pending = self->user_text_pending;
  gsize from = 0;

  self->replay = g_byte_array_new ();
  replay_reset (self);
  if (!start_stream (self, c, resume_history (self, voiced >= 0 && pending))) {
    g_byte_array_unref (old);
    return;
  }
  if (voiced >= 0 || (self->replay_all && old->len > 0)) {
    gsize lead = (gsize) GST_S2S_NOVA_INPUT_RATE * 2 * REPLAY_LEAD_MS / 1000;
    if (!self->replay_all)
      from = (gsize) voiced > lead ? ((gsize) voiced - lead) & ~(gsize) 1 : 0;
    GST_INFO_OBJECT (self, "replaying %" G_GSIZE_FORMAT " ms of the turn in "
        "progress", (gsize) (old->len - from) * 1000 /
        (GST_S2S_NOVA_INPUT_RATE * 2));
    gst_s2s_nova_send_audio (base, old->data + from, old->len - from);
  } else {
    GST_INFO_OBJECT (self, "nothing to replay (%" G_GSIZE_FORMAT " ms of "
        "silence since the last answer)", (gsize) old->len * 1000 /
        (GST_S2S_NOVA_INPUT_RATE * 2));
  }
  g_byte_array_unref (old);
  gst_s2s_base_session_ready (base,
      gst_s2s_nova_protocol_get_prompt_name (self->proto));
}

/* Rotate where the user has said nothing the model has not answered yet
 * (the base adds: no response active or awaited, no tool call pending) */
static gboolean
gst_s2s_nova_rotation_ready (GstS2SBase * base)
{
  return GST_S2S_NOVA (base)->replay_voiced < 0;
}

/* A stream that ended under us (network, a clean end before the limit, a
 * retryable exception such as modelTimeoutException) goes on in a new one,
 * the same way as a rotation */
static gboolean
gst_s2s_nova_can_resume (GstS2SBase * base, gushort close_code,
    const gchar * reason)
{
  return close_code == 1000 || close_code == 1006 ||
      close_code == EXCEPTION_CLOSE_CODE;
}

static void map_exception (const gchar * type, GstS2SErrorCode * code,
    gboolean * retryable);

/* reason "<exceptionType>: message" */
static gboolean
gst_s2s_nova_map_close (GstS2SBase * base, gushort code, const gchar * reason,
    GstS2SErrorCode * error_code, gboolean * retryable)
{
  gchar *type;

  if (code != EXCEPTION_CLOSE_CODE || reason == NULL)
    return FALSE;
  type = g_strndup (reason, strcspn (reason, ":"));
  map_exception (type, error_code, retryable);
  g_free (type);
  return TRUE;
}

static gboolean
request_rotation_cb (gpointer data)
{
  GstS2SNova *self = data;
  guint limit = self->session_limit_ms;
  guint window = limit / 4;
  guint guard = MIN (limit / 16, ROTATION_GUARD_MAX_MS);

  g_clear_pointer (&self->rotation_timer, g_source_unref);
  gst_s2s_base_request_rotation (GST_S2S_BASE (self),
      (GstClockTime) (window - guard) * GST_MSECOND,
      "Bedrock stream limit ahead");
  return G_SOURCE_REMOVE;
}

static void
clear_rotation_timer (GstS2SNova * self)
{
  if (self->rotation_timer) {
    g_source_destroy (self->rotation_timer);
    g_clear_pointer (&self->rotation_timer, g_source_unref);
  }
}

/* From 3/4 of the limit the base looks for a turn boundary */
static void
schedule_rotation (GstS2SNova * self)
{
  guint limit;

  clear_rotation_timer (self);
  GST_OBJECT_LOCK (self);
  limit = self->session_limit_ms;
  GST_OBJECT_UNLOCK (self);
  if (limit == 0)
    return;
  self->rotation_timer = g_timeout_source_new (limit - limit / 4);
  gst_s2s_base_io_attach (GST_S2S_BASE (self), self->rotation_timer,
      request_rotation_cb, self, NULL);
}

/* The last answered point: the model answered everything sent so far */
static void
replay_reset (GstS2SNova * self)
{
  g_byte_array_set_size (self->replay, 0);
  self->replay_voiced = -1;
  self->user_text_pending = FALSE;
}

static gboolean
frame_voiced (const guint8 * data, gsize len)
{
  gdouble sum = 0;
  gsize i, n = len / 2;

  for (i = 0; i < n; i++) {
    gint16 v = (gint16) GST_READ_UINT16_LE (data + 2 * i);
    sum += (gdouble) v *v;
  }
  return n > 0 && sum / n > VAD_MEAN_SQUARE;
}

/* Keeps what was sent since the last answered point (at most
 * REPLAY_MAX_MS, the oldest dropped) and where voice starts in it */
static void
replay_append (GstS2SNova * self, const guint8 * data, gsize size)
{
  const gsize max = (gsize) GST_S2S_NOVA_INPUT_RATE * 2 * REPLAY_MAX_MS / 1000;
  gsize off = self->replay->len, i, drop;

  g_byte_array_append (self->replay, data, size);
  if (self->replay_voiced < 0) {
    for (i = 0; i < size; i += VAD_FRAME_SAMPLES * 2) {
      if (frame_voiced (data + i, MIN (size - i, VAD_FRAME_SAMPLES * 2))) {
        self->replay_voiced = off + i;
        break;
      }
    }
  }
  /* past the cap the oldest second goes at once (the replay is ~1 MB) */
  drop = gst_s2s_drop_oldest (self->replay, 0, max,
      (gsize) GST_S2S_NOVA_INPUT_RATE * 2);
  if (self->replay_voiced >= 0)
    self->replay_voiced = MAX (0, self->replay_voiced - (gssize) drop);
}

static void
send_audio_events (GstS2SNova * self, const guint8 * data, gsize size)
{
  while (size > 0) {
    gsize n = MIN (size, MAX_AUDIO_EVENT_BYTES);
    gchar *ev = gst_s2s_nova_protocol_audio_input (self->proto, data, n);

    gst_s2s_base_send (GST_S2S_BASE (self), ev, -1);
    g_free (ev);
    data += n;
    size -= n;
  }
}

static gint64
bytes_to_us (gsize bytes)
{
  return (gint64) bytes *G_USEC_PER_SEC / (GST_S2S_NOVA_INPUT_RATE * 2);
}

/* Input audio (the user's, the padding after input EOS, a replay): whole
 * buffers, in order; the keep-alive waits until it stops */
static void
gst_s2s_nova_send_audio (GstS2SBase * base, const guint8 * data, gsize size)
{
  GstS2SNova *self = GST_S2S_NOVA (base);
  gint64 now = g_get_monotonic_time ();

  if (self->keepalive_active)
    GST_DEBUG_OBJECT (self, "input resumes: keep-alive off after %"
        G_GUINT64_FORMAT " bytes of silence", self->keepalive_bytes);
  self->keepalive_active = FALSE;
  self->last_input = now;
  self->audio_until = MAX (self->audio_until, now) + bytes_to_us (size);
  replay_append (self, data, size);
  send_audio_events (self, data, size);
}

/* Silence while no input flows, paced to real time from the I/O thread.
 * It is not the user's audio: it does not go into the replay of a rotation
 * (the replay holds what the user said since the last answer, and the
 * successor's own keep-alive covers the time after). Only between whole
 * input buffers (both run on this thread), and not while the socket has a
 * backlog: silence behind queued audio would only lengthen the queue. Nor
 * while the base holds input: a late I/O thread finds the keep-alive tick
 * and the input's flush ready together. */
static gboolean
keepalive_cb (gpointer data)
{
  static const guint8 zeros[KEEPALIVE_CHUNK_BYTES] = { 0, };
  GstS2SNova *self = data;
  gint64 now = g_get_monotonic_time ();
  const gint64 chunk_us = KEEPALIVE_CHUNK_MS * G_TIME_SPAN_MILLISECOND;

  if (!gst_s2s_h2_client_is_open (self->h2) || self->proto == NULL ||
      gst_s2s_h2_client_get_queued (self->h2) > 4 * KEEPALIVE_CHUNK_BYTES)
    return G_SOURCE_CONTINUE;
  /* input that came while this thread was late waits for its flush, which
   * may be ready in the same main loop iteration: silence now would land
   * inside the user's audio */
  if (gst_s2s_base_input_queued (GST_S2S_BASE (self)))
    return G_SOURCE_CONTINUE;
  if (!self->keepalive_active) {
    gint64 covered = MIN (self->audio_until, self->last_input +
        KEEPALIVE_MAX_AHEAD_MS * G_TIME_SPAN_MILLISECOND);

    if (now < covered + KEEPALIVE_GAP_MS * G_TIME_SPAN_MILLISECOND)
      return G_SOURCE_CONTINUE;
    GST_DEBUG_OBJECT (self, "no input audio for %d ms: keep-alive silence",
        KEEPALIVE_GAP_MS);
    self->keepalive_active = TRUE;
    self->audio_until = now;
  }
  self->audio_until = MAX (self->audio_until,
      now - KEEPALIVE_CATCHUP_MS * G_TIME_SPAN_MILLISECOND);
  /* one chunk ahead of the clock, like a live source's buffer */
  while (self->audio_until < now + chunk_us) {
    send_audio_events (self, zeros, sizeof (zeros));
    self->audio_until += chunk_us;
    self->keepalive_bytes += sizeof (zeros);
  }
  return G_SOURCE_CONTINUE;
}

static void
keepalive_stop (GstS2SNova * self)
{
  if (self->keepalive) {
    g_source_destroy (self->keepalive);
    g_clear_pointer (&self->keepalive, g_source_unref);
    GST_INFO_OBJECT (self, "keep-alive: %" G_GUINT64_FORMAT " bytes of "
        "silence sent on this stream", self->keepalive_bytes);
  }
  self->keepalive_active = FALSE;
}

/* From the session start until the stream closes; the first silence after
 * KEEPALIVE_GAP_MS without input (queued input goes out first, right after
 * the session is ready) */
static void
keepalive_start (GstS2SNova * self)
{
  keepalive_stop (self);
  self->audio_until = self->last_input = g_get_monotonic_time ();
  self->keepalive_bytes = 0;
  self->keepalive = g_timeout_source_new (KEEPALIVE_CHUNK_MS / 2);
  gst_s2s_base_io_attach (GST_S2S_BASE (self), self->keepalive, keepalive_cb,
      self, NULL);
}

/* Nova detects turns and answers by itself; these have no event */
static void
gst_s2s_nova_noop (GstS2SBase * base)
{
}

static void
gst_s2s_nova_cancel_response (GstS2SBase * base, const gchar * response_id)
{
}

static void
gst_s2s_nova_truncate (GstS2SBase * base, const gchar * item_id,
    guint audio_end_ms)
{
}

static void
gst_s2s_nova_send_tool_result (GstS2SBase * base, const gchar * call_id,
    const gchar * output)
{
  GstS2SNova *self = GST_S2S_NOVA (base);
  GPtrArray *events = g_ptr_array_new_with_free_func (g_free);

  gst_s2s_nova_protocol_tool_result (self->proto, call_id, output, events);
  send_events (self, events);
  g_ptr_array_unref (events);
}

static void
gst_s2s_nova_send_text (GstS2SBase * base, const gchar * role,
    const gchar * text)
{
  GstS2SNova *self = GST_S2S_NOVA (base);
  GPtrArray *events;

  if (!self->nova2 || !g_str_equal (role, "user")) {
    GST_WARNING_OBJECT (self, "%s text is not supported by this model; "
        "dropped", role);
    return;
  }
  events = g_ptr_array_new_with_free_func (g_free);
  gst_s2s_nova_protocol_text_input (self->proto, text, events);
  send_events (self, events);
  g_ptr_array_unref (events);
}

static const GstS2SNovaCallbacks nova_callbacks;
static void report_bad_event (GstS2SNova * self, GError * err);

/* ------------------------------------------------------------------------ */
/* Transport: one signed HTTP/2 request */

static gboolean
transport_send (GstS2SBase * base, const guint8 * data, gsize len,
    gboolean binary)
{
  GstS2SNova *self = GST_S2S_NOVA (base);
  GError *err = NULL;
  GByteArray *inner;
  gboolean ok;

  if (!gst_s2s_h2_client_is_open (self->h2) || self->signer == NULL)
    return FALSE;
  inner = g_byte_array_new ();
  g_byte_array_set_size (self->out, 0);
  ok = gst_s2s_aws_bedrock_event_encode_to ((const gchar *) data, len, inner,
      &err) && gst_s2s_aws_event_signer_sign_to (self->signer, inner->data,
      inner->len, g_get_real_time () / 1000, self->out, &err);
  g_byte_array_unref (inner);
  if (!ok) {
    gst_s2s_base_provider_error (base, GST_S2S_ERROR_INVALID_REQUEST, FALSE,
        FALSE, NULL, err->message);
    g_clear_error (&err);
    return FALSE;
  }
  return gst_s2s_h2_client_send (self->h2, self->out->data, self->out->len);
}

static void
map_exception (const gchar * type, GstS2SErrorCode * code, gboolean * retryable)
{
  *retryable = TRUE;
  if (!g_ascii_strcasecmp (type, "modelTimeoutException")) {
    /* the 8-minute connection limit */
    *code = GST_S2S_ERROR_SESSION_EXPIRED;
  } else if (!g_ascii_strcasecmp (type, "throttlingException")) {
    *code = GST_S2S_ERROR_RATE_LIMIT;
  } else if (!g_ascii_strcasecmp (type, "serviceQuotaExceededException")) {
    *code = GST_S2S_ERROR_QUOTA;
    *retryable = FALSE;
  } else if (!g_ascii_strcasecmp (type, "validationException")) {
    *code = GST_S2S_ERROR_INVALID_REQUEST;
    *retryable = FALSE;
  } else if (!g_ascii_strcasecmp (type, "accessDeniedException")) {
    *code = GST_S2S_ERROR_AUTHORIZATION;
    *retryable = FALSE;
  } else if (!g_ascii_strcasecmp (type, "invalidSignatureException") ||
      !g_ascii_strcasecmp (type, "unrecognizedClientException") ||
      !g_ascii_strcasecmp (type, "missingAuthenticationTokenException") ||
      !g_ascii_strcasecmp (type, "expiredTokenException")) {
    *code = GST_S2S_ERROR_AUTHENTICATION;
    *retryable = FALSE;
  } else if (!g_ascii_strcasecmp (type, "resourceNotFoundException")) {
    *code = GST_S2S_ERROR_INVALID_CONFIG;
    *retryable = FALSE;
  } else {
    /* internalServer, serviceUnavailable, modelStreamError, modelNotReady */
    *code = GST_S2S_ERROR_SERVER_ERROR;
  }
}

static gchar *
json_message (const gchar * body)
{
  JsonParser *p = json_parser_new ();
  gchar *msg = NULL;

  if (body && json_parser_load_from_data (p, body, -1, NULL) &&
      JSON_NODE_HOLDS_OBJECT (json_parser_get_root (p))) {
    JsonObject *o = json_node_get_object (json_parser_get_root (p));
    const gchar *m = json_object_get_string_member_with_default (o, "message",
        json_object_get_string_member_with_default (o, "Message", NULL));
    msg = g_strdup (m);
  }
  g_object_unref (p);
  return msg;
}

/* A refused request: status, x-amzn-errortype, {"message"} */
static void
report_http_error (GstS2SNova * self)
{
  GstS2SErrorCode code;
  gboolean retryable;
  const gchar *type = self->error_type;
  gchar *msg = json_message (self->error_body->str), *full;

  if (type == NULL) {
    type = self->http_status == 403 ? "AccessDeniedException" :
        self->http_status == 429 ? "ThrottlingException" :
        self->http_status >= 500 ? "InternalServerException" :
        "ValidationException";
  }
  map_exception (type, &code, &retryable);
  full = g_strdup_printf ("HTTP %u %s: %s", self->http_status, type,
      msg ? msg : "no message");
  gst_s2s_base_provider_error (GST_S2S_BASE (self), code, TRUE, retryable,
      type, full);
  g_free (full);
  g_free (msg);
}

static void
h2_opened (gpointer user_data)
{
  gst_s2s_base_transport_opened (GST_S2S_BASE (user_data));
}

static void
h2_response (guint status, const gchar * const *headers, gpointer user_data)
{
  GstS2SNova *self = user_data;
  guint i;

  self->http_status = status;
  for (i = 0; headers[i]; i += 2) {
    if (!g_ascii_strcasecmp (headers[i], "x-amzn-errortype")) {
      /* "Type:namespace" */
      g_free (self->error_type);
      self->error_type = g_strndup (headers[i + 1],
          strcspn (headers[i + 1], ":"));
    } else if (!g_ascii_strcasecmp (headers[i], "x-amzn-requestid")) {
      GST_INFO_OBJECT (self, "request id %s", headers[i + 1]);
    }
  }
  GST_DEBUG_OBJECT (self, "HTTP status %u", status);
}

static void
h2_data (const guint8 * data, gsize len, gpointer user_data)
{
  GstS2SNova *self = user_data;
  GstS2SAwsMessage *msg;
  GError *err = NULL;

  if (self->http_status != 200) {
    if (self->error_body->len < MAX_ERROR_BODY)
      g_string_append_len (self->error_body, (const gchar *) data,
          MIN (len, MAX_ERROR_BODY - self->error_body->len));
    return;
  }
  if (!gst_s2s_aws_decoder_feed (self->decoder, data, len, &err)) {
    gst_s2s_base_provider_error (GST_S2S_BASE (self), GST_S2S_ERROR_PROTOCOL,
        TRUE, TRUE, NULL, err->message);
    g_clear_error (&err);
    return;
  }
  while (self->h2 && (msg = gst_s2s_aws_decoder_pop (self->decoder))) {
    if (!gst_s2s_nova_protocol_handle_message (self->proto, msg,
            &nova_callbacks, self, &err))
      report_bad_event (self, err);
    gst_s2s_aws_message_free (msg);
    err = NULL;
  }
}

static void
h2_closed (const GError * error, gboolean opened, gpointer user_data)
{
  GstS2SNova *self = user_data;
  GstS2SBase *base = GST_S2S_BASE (self);

  if (self->lost_reason) {
    /* reported from the idle on_exception scheduled */
  } else if (self->http_status >= 300) {
    report_http_error (self);
  } else if (!opened) {
    gst_s2s_base_transport_failed (base, error, 0, NULL);
  } else if (error) {
    gst_s2s_base_connection_lost (base, 1006, error->message);
  } else if (!self->ending) {
    gst_s2s_base_connection_lost (base, 1000, "the server ended the stream");
  }
}

static const GstS2SH2Callbacks h2_callbacks = {
  h2_opened, h2_response, h2_data, h2_closed
};

static gchar *
endpoint_url (const GstS2SConfig * c, const gchar * region)
{
  if (c->url && *c->url)
    return g_strdup (c->url);
  return g_strdup_printf ("https://bedrock-runtime.%s.amazonaws.com", region);
}

static gboolean
resolve (GstS2SNova * self, GstS2SAwsCredentials ** creds, gchar ** region,
    GError ** error)
{
  GST_OBJECT_LOCK (self);
  *creds = gst_s2s_aws_credentials_resolve (self->access_key_id,
      self->secret_access_key, self->session_token, self->profile, error);
  *region = gst_s2s_aws_region_resolve (self->region, self->profile);
  GST_OBJECT_UNLOCK (self);

  if (*creds == NULL) {
    g_prefix_error (error, "access-key-id: ");
    g_free (*region);
    return FALSE;
  }
  if (*region == NULL) {
    g_set_error (error, GST_S2S_AWS_ERROR, GST_S2S_AWS_ERROR_INVALID,
        "region: %s", _("no region set, and AWS_REGION is not set either"));
    gst_s2s_aws_credentials_free (*creds);
    return FALSE;
  }
  return TRUE;
}

static gboolean
gst_s2s_nova_check_config (GstS2SBase * base, const GstS2SConfig * c,
    GError ** error)
{
  GstS2SNova *self = GST_S2S_NOVA (base);
  GstS2SAwsCredentials *creds;
  gchar *region;

  if (c->turn_detection == GST_S2S_TURN_DETECTION_NONE) {
    g_set_error (error, GST_S2S_AWS_ERROR, GST_S2S_AWS_ERROR_INVALID,
        "turn-detection: %s", _("Nova always detects turns itself"));
    return FALSE;
  }
  if (!resolve (self, &creds, &region, error))
    return FALSE;
  gst_s2s_aws_credentials_free (creds);
  g_free (region);
  return TRUE;
}

static gboolean
gst_s2s_nova_open_transport (GstS2SBase * base, const GstS2SConfig * c,
    GError ** error)
{
  GstS2SNova *self = GST_S2S_NOVA (base);
  GstS2SAwsCredentials *creds;
  GstS2SAwsRequest *req = NULL;
  gchar *region, *url, *authority = NULL, *path = NULL, *full = NULL;
  GPtrArray *headers = NULL;
  GUri *uri;
  gboolean ok = FALSE;
  guint i, n;

  if (!resolve (self, &creds, &region, error))
    return FALSE;
  GST_INFO_OBJECT (self, "credentials from %s, region %s, model %s",
      creds->source, region, c->model);
  url = endpoint_url (c, region);
  uri = g_uri_parse (url, G_URI_FLAGS_ENCODED, error);
  if (uri == NULL)
    goto out;
  authority = g_uri_get_port (uri) > 0 ? g_strdup_printf ("%s:%d",
      g_uri_get_host (uri), g_uri_get_port (uri)) :
      g_strdup (g_uri_get_host (uri));
  g_uri_unref (uri);

  req = gst_s2s_aws_bedrock_stream_request (creds, region, authority,
      c->model, g_get_real_time () / G_USEC_PER_SEC, error);
  if (req == NULL)
    goto out;
  path = gst_s2s_aws_bedrock_stream_path (c->model);
  full = g_strconcat (url, g_str_has_suffix (url, "/") ? path + 1 : path, NULL);
  headers = g_ptr_array_new ();
  n = gst_s2s_aws_request_get_n_headers (req);
  for (i = 0; i < n; i++) {
    const gchar *name, *value;
    gst_s2s_aws_request_get_nth_header (req, i, &name, &value);
    g_ptr_array_add (headers, (gpointer) name);
    g_ptr_array_add (headers, (gpointer) value);
  }
  g_ptr_array_add (headers, NULL);

  self->nova2 = g_str_equal (c->model, NOVA2_MODEL);
  self->signer = gst_s2s_aws_event_signer_new (creds->secret_access_key,
      region, GST_S2S_AWS_BEDROCK_SERVICE,
      gst_s2s_aws_request_get_signature (req));
  self->decoder = gst_s2s_aws_decoder_new ();
  self->proto = gst_s2s_nova_protocol_new ();
  memset (&self->last_usage, 0, sizeof (self->last_usage));
  self->h2 = gst_s2s_h2_client_new (GST_OBJECT (self), &h2_callbacks, self);
  ok = gst_s2s_h2_client_connect (self->h2, "POST", full,
      (const gchar * const *) headers->pdata, c->ssl_ca_file, c->proxy,
      c->connect_timeout, error);
  /* Bedrock counts the limit from the request */
  if (ok)
    schedule_rotation (self);

out:
  if (headers)
    g_ptr_array_unref (headers);
  if (req)
    gst_s2s_aws_request_free (req);
  gst_s2s_aws_credentials_free (creds);
  g_free (region);
  g_free (url);
  g_free (authority);
  g_free (path);
  g_free (full);
  return ok;
}

static void
drain_done (GstS2SNova * self)
{
  if (self->drain_timer) {
    g_source_destroy (self->drain_timer);
    g_clear_pointer (&self->drain_timer, g_source_unref);
  }
  g_clear_pointer (&self->draining, gst_s2s_h2_client_free);
}

static gboolean
drain_timeout_cb (gpointer data)
{
  GstS2SNova *self = data;

  GST_DEBUG_OBJECT (self, "the rotated stream did not end in time");
  g_clear_pointer (&self->drain_timer, g_source_unref);
  g_clear_pointer (&self->draining, gst_s2s_h2_client_free);
  return G_SOURCE_REMOVE;
}

static void
drain_closed (const GError * error, gboolean opened, gpointer user_data)
{
  GstS2SNova *self = user_data;

  GST_DEBUG_OBJECT (self, "the rotated stream ended%s%s", error ? ": " : "",
      error ? error->message : "");
  drain_done (self);
}

static void
drain_ignore_opened (gpointer user_data)
{
}

static void
drain_ignore_response (guint status, const gchar * const *headers,
    gpointer user_data)
{
}

static void
drain_ignore_data (const guint8 * data, gsize len, gpointer user_data)
{
}

/* what the rotated stream still says is not part of the session any more */
static const GstS2SH2Callbacks drain_callbacks = {
  drain_ignore_opened, drain_ignore_response, drain_ignore_data, drain_closed
};

/* The closing flush on stop: the end frame and what is queued before it go
 * out while the server ends the stream, without blocking the I/O thread
 * (its other elements go on). The client is freed when the stream ended or
 * after STOP_FLUSH_MS; a hold keeps the I/O thread and the element until
 * then, and the element's stop waits for it (bounded, off that thread). */
typedef struct
{
  GstS2SNova *self;
  GstS2SH2Client *h2;
  GSource *timer;
  GstS2SBaseIoHold *hold;
  gint64 start;
} StopFlush;

static void
stop_flush_done (StopFlush * f, gboolean ended)
{
  if (ended)
    GST_INFO_OBJECT (f->self, "closing events written and the stream ended "
        "in %" G_GINT64_FORMAT " us", g_get_monotonic_time () - f->start);
  else
    GST_INFO_OBJECT (f->self, "the stream did not end after the closing "
        "events (bound %d ms)", STOP_FLUSH_MS);
  g_source_destroy (f->timer);
  g_source_unref (f->timer);
  gst_s2s_h2_client_free (f->h2);
  gst_s2s_base_io_release (f->hold);
  g_free (f);
}

static gboolean
stop_flush_timeout_cb (gpointer data)
{
  stop_flush_done (data, FALSE);
  return G_SOURCE_REMOVE;
}

static void
stop_flush_closed (const GError * error, gboolean opened, gpointer user_data)
{
  stop_flush_done (user_data, error == NULL);
}

static const GstS2SH2Callbacks stop_flush_callbacks = {
  drain_ignore_opened, drain_ignore_response, drain_ignore_data,
  stop_flush_closed
};

static void
stop_flush_start (GstS2SNova * self)
{
  StopFlush *f = g_new0 (StopFlush, 1);

  f->self = self;
  f->h2 = self->h2;
  self->h2 = NULL;
  f->start = g_get_monotonic_time ();
  /* holds a reference to the element: its sources are not the element's
   * (they outlive its stop), the hold bounds them */
  f->hold = gst_s2s_base_io_hold (GST_S2S_BASE (self));
  f->timer = g_timeout_source_new (STOP_FLUSH_MS);
  g_source_set_callback (f->timer, stop_flush_timeout_cb, f, NULL);
  g_source_attach (f->timer, g_main_context_get_thread_default ());
  gst_s2s_h2_client_set_callbacks (f->h2, &stop_flush_callbacks, f);
}

/* Best effort goodbye that frees the server side (§B9), then close. On a
 * rotation the old stream drains on its own (its queued audio still
 * reaches the server) while the successor opens. */
static void
gst_s2s_nova_close_transport (GstS2SBase * base)
{
  GstS2SNova *self = GST_S2S_NOVA (base);
  gboolean drain = FALSE, goodbye = FALSE;

  /* at most one drains; stop frees it */
  drain_done (self);
  keepalive_stop (self);
  self->ending = TRUE;
  if (gst_s2s_h2_client_is_open (self->h2) && self->proto &&
      gst_s2s_nova_protocol_get_prompt_name (self->proto)) {
    GPtrArray *events = g_ptr_array_new_with_free_func (g_free);
    GByteArray *end = g_byte_array_new ();

    gst_s2s_nova_protocol_end (self->proto, events);
    send_events (self, events);
    g_ptr_array_unref (events);
    if (gst_s2s_aws_event_signer_sign_to (self->signer, NULL, 0,
            g_get_real_time () / 1000, end, NULL))
      gst_s2s_h2_client_send (self->h2, end->data, end->len);
    goodbye = gst_s2s_h2_client_end (self->h2);
    g_byte_array_unref (end);
    drain = gst_s2s_base_is_renewing (base) && self->lost_reason == NULL;
  }
  self->replay_all = !drain;
  if (drain) {
    gst_s2s_h2_client_set_callbacks (self->h2, &drain_callbacks, self);
    self->draining = self->h2;
    self->h2 = NULL;
    self->drain_timer = g_timeout_source_new (DRAIN_TIMEOUT_MS);
    gst_s2s_base_io_attach (base, self->drain_timer, drain_timeout_cb, self,
        NULL);
  } else if (goodbye) {
    /* stop: the server should see the end frame before our RST_STREAM */
    stop_flush_start (self);
  }
  g_clear_pointer (&self->h2, gst_s2s_h2_client_free);
  clear_rotation_timer (self);
  self->stream_serial++;
  g_clear_pointer (&self->lost_reason, g_free);
  g_clear_pointer (&self->signer, gst_s2s_aws_event_signer_free);
  g_clear_pointer (&self->decoder, gst_s2s_aws_decoder_free);
  g_clear_pointer (&self->proto, gst_s2s_nova_protocol_free);
  g_clear_pointer (&self->error_type, g_free);
  g_clear_pointer (&self->resp_id, g_free);
  g_clear_pointer (&self->resp_item, g_free);
  g_string_truncate (self->error_body, 0);
  g_string_truncate (self->final_text, 0);
  self->http_status = 0;
  self->ending = FALSE;
}


/* ------------------------------------------------------------------------ */
/* Server events (protocol layer callbacks) */

/* The assistant's turn starts at its first content (text, audio or tool) */
static void
ensure_response (GstS2SNova * self, const gchar * content_id)
{
  GstS2SBase *base = GST_S2S_BASE (self);

  if (self->resp_id)
    return;
  /* the model answers: what the user said so far was heard */
  replay_reset (self);
  self->resp_id = g_strdup_printf ("nova-%u", ++self->resp_serial);
  self->resp_item = g_strdup (content_id);
  g_string_truncate (self->final_text, 0);
  gst_s2s_base_response_started (base, self->resp_id);
  gst_s2s_base_item_added (base, self->resp_item, "message", "assistant");
}

static void
end_response (GstS2SNova * self, const gchar * status)
{
  GstS2SBase *base = GST_S2S_BASE (self);

  if (self->resp_id == NULL)
    return;
  /* a reply heard to its end: nothing said during it is waiting */
  if (!g_strcmp0 (status, "completed"))
    replay_reset (self);
  if (self->final_text->len > 0)
    gst_s2s_base_transcript (base, "assistant", self->resp_item,
        self->final_text->str, TRUE);
  gst_s2s_base_response_done (base, self->resp_id, status);
  g_clear_pointer (&self->resp_id, g_free);
  g_clear_pointer (&self->resp_item, g_free);
}

static void
on_content_start (gpointer user_data, const GstS2SNovaContent * c)
{
  if (!g_strcmp0 (c->role, "ASSISTANT") || !g_strcmp0 (c->role, "TOOL"))
    ensure_response (user_data, c->content_id);
}

static void
on_text_output (gpointer user_data, const GstS2SNovaContent * c,
    const gchar * text)
{
  GstS2SNova *self = user_data;
  GstS2SBase *base = GST_S2S_BASE (self);

  if (!g_strcmp0 (c->role, "USER")) {
    /* Nova reports the user's turn once it has ended */
    self->user_text_pending = TRUE;
    gst_s2s_base_item_added (base, c->content_id, "message", "user");
    gst_s2s_base_speech_stopped (base, c->content_id);
    gst_s2s_base_transcript (base, "user", c->content_id, text, TRUE);
  } else if (c->stage == GST_S2S_NOVA_STAGE_FINAL) {
    /* what was actually spoken, sentence by sentence */
    if (self->final_text->len > 0)
      g_string_append_c (self->final_text, ' ');
    g_string_append (self->final_text, text);
  } else if (self->resp_id) {
    /* SPECULATIVE: what the model plans to say */
    gst_s2s_base_transcript (base, "assistant", self->resp_item, text, FALSE);
  }
}

static void
on_audio_output (gpointer user_data, const GstS2SNovaContent * c,
    const guint8 * pcm, gsize len)
{
  GstS2SNova *self = user_data;

  ensure_response (self, c->content_id);
  gst_s2s_base_response_audio (GST_S2S_BASE (self), self->resp_id,
      self->resp_item, pcm, len);
}

static void
on_tool_use (gpointer user_data, const gchar * id, const gchar * name,
    const gchar * args)
{
  gst_s2s_base_tool_call (GST_S2S_BASE (user_data), id, name, args);
}

static void
on_content_end (gpointer user_data, const GstS2SNovaContent * c,
    const gchar * reason)
{
  GstS2SNova *self = user_data;

  if (!g_strcmp0 (c->role, "ASSISTANT") && !g_strcmp0 (c->type, "TEXT") &&
      c->stage == GST_S2S_NOVA_STAGE_FINAL && (!g_strcmp0 (reason,
              "END_TURN") || !g_strcmp0 (reason, "INTERRUPTED")))
    end_response (self, g_strcmp0 (reason, "INTERRUPTED") ? "completed" :
        "cancelled");
  else if (!g_strcmp0 (c->type, "TOOL") && !g_strcmp0 (reason, "TOOL_USE"))
    end_response (self, "completed");
}

static void
on_interrupted (gpointer user_data)
{
  /* barge-in: the server stopped its answer; drop what is queued */
  gst_s2s_base_speech_started (GST_S2S_BASE (user_data), NULL);
}

/* usageEvent carries running totals; s2s-usage wants what this event added */
static void
on_usage (gpointer user_data, const GstS2SNovaUsage * u)
{
  GstS2SNova *self = user_data;
  GstS2SNovaUsage *last = &self->last_usage;
  GstS2SUsage d = { 0, };

  d.input_audio_tokens = MAX (0, u->input_speech_tokens -
      last->input_speech_tokens);
  d.output_audio_tokens = MAX (0, u->output_speech_tokens -
      last->output_speech_tokens);
  d.input_tokens = d.input_audio_tokens + MAX (0, u->input_text_tokens -
      last->input_text_tokens);
  d.output_tokens = d.output_audio_tokens + MAX (0, u->output_text_tokens -
      last->output_text_tokens);
  *last = *u;
  if (d.input_tokens || d.output_tokens)
    gst_s2s_base_usage (GST_S2S_BASE (self), &d);
}

typedef struct
{
  GstS2SNova *self;
  guint serial;
} LostReport;

static void
lost_report_free (gpointer data)
{
  LostReport *r = data;

  gst_object_unref (r->self);
  g_free (r);
}

static gboolean
report_lost_cb (gpointer data)
{
  LostReport *r = data;
  GstS2SNova *self = r->self;

  /* still the stream that raised it */
  if (r->serial == self->stream_serial && self->lost_reason && self->h2)
    gst_s2s_base_connection_lost (GST_S2S_BASE (self), EXCEPTION_CLOSE_CODE,
        self->lost_reason);
  return G_SOURCE_REMOVE;
}

static gboolean
exception_is_resumable (const gchar * type)
{
  return !g_ascii_strcasecmp (type, "modelTimeoutException") ||
      !g_ascii_strcasecmp (type, "internalServerException") ||
      !g_ascii_strcasecmp (type, "serviceUnavailableException") ||
      !g_ascii_strcasecmp (type, "modelStreamErrorException");
}

static void
on_exception (gpointer user_data, const gchar * type, const gchar * message)
{
  GstS2SNova *self = user_data;
  GstS2SErrorCode code;
  gboolean retryable;

  /* the stream ends with such an exception: a successor carries the
   * conversation on (reported from an idle, outside the parser) */
  if (exception_is_resumable (type) && self->lost_reason == NULL) {
    LostReport *r = g_new0 (LostReport, 1);
    GSource *src = g_idle_source_new ();

    self->lost_reason = g_strdup_printf ("%s: %s", type, message && *message ?
        message : "exception without a message");
    r->self = gst_object_ref (self);
    r->serial = self->stream_serial;
    gst_s2s_base_io_attach (GST_S2S_BASE (self), src, report_lost_cb, r,
        lost_report_free);
    g_source_unref (src);
    return;
  }
  map_exception (type, &code, &retryable);
  gst_s2s_base_provider_error (GST_S2S_BASE (user_data), code, TRUE,
      retryable, type, message && *message ? message :
      "exception without a message");
}

static const GstS2SNovaCallbacks nova_callbacks = {
  .content_start = on_content_start,
  .text_output = on_text_output,
  .audio_output = on_audio_output,
  .tool_use = on_tool_use,
  .content_end = on_content_end,
  .interrupted = on_interrupted,
  .usage = on_usage,
  .exception = on_exception,
};

static void
report_bad_event (GstS2SNova * self, GError * err)
{
  gst_s2s_base_provider_error (GST_S2S_BASE (self), GST_S2S_ERROR_PROTOCOL,
      FALSE, FALSE, NULL, err->message);
  g_error_free (err);
}

/* The JSON of one event (the transport hands over decoded messages
 * directly; this path serves gst_s2s_base_transport_message) */
static void
gst_s2s_nova_handle_message (GstS2SBase * base, GBytes * data, gboolean binary)
{
  GstS2SNova *self = GST_S2S_NOVA (base);
  GError *err = NULL;
  gsize size;
  const gchar *text = g_bytes_get_data (data, &size);

  if (self->proto && !gst_s2s_nova_protocol_handle_event_json (self->proto,
          text, size, &nova_callbacks, self, &err))
    report_bad_event (self, err);
}

/* ------------------------------------------------------------------------ */
/* GObject */

static void
gst_s2s_nova_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec)
{
  GstS2SNova *self = GST_S2S_NOVA (object);
  gchar **field;

  switch (prop_id) {
    case PROP_REGION:
      field = &self->region;
      break;
    case PROP_ACCESS_KEY_ID:
      field = &self->access_key_id;
      break;
    case PROP_SECRET_ACCESS_KEY:
      field = &self->secret_access_key;
      break;
    case PROP_SESSION_TOKEN:
      field = &self->session_token;
      break;
    case PROP_PROFILE:
      field = &self->profile;
      break;
    case PROP_SESSION_LIMIT:
      GST_OBJECT_LOCK (self);
      self->session_limit_ms = g_value_get_uint (value);
      GST_OBJECT_UNLOCK (self);
      return;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      return;
  }
  GST_OBJECT_LOCK (self);
  if (*field)
    memset (*field, 0, strlen (*field));
  g_free (*field);
  *field = g_value_dup_string (value);
  GST_OBJECT_UNLOCK (self);
}

static void
gst_s2s_nova_get_property (GObject * object, guint prop_id, GValue * value,
    GParamSpec * pspec)
{
  GstS2SNova *self = GST_S2S_NOVA (object);

  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_REGION:
      g_value_set_string (value, self->region);
      break;
    case PROP_ACCESS_KEY_ID:
      g_value_set_string (value, self->access_key_id);
      break;
    case PROP_SECRET_ACCESS_KEY:
      /* never readable back in clear */
      g_value_set_string (value, self->secret_access_key &&
          *self->secret_access_key ? "*****" : NULL);
      break;
    case PROP_SESSION_TOKEN:
      g_value_set_string (value, self->session_token &&
          *self->session_token ? "*****" : NULL);
      break;
    case PROP_PROFILE:
      g_value_set_string (value, self->profile);
      break;
    case PROP_SESSION_LIMIT:
      g_value_set_uint (value, self->session_limit_ms);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
}

static void
wipe (gchar * s)
{
  if (s) {
    memset (s, 0, strlen (s));
    g_free (s);
  }
}

static void
gst_s2s_nova_finalize (GObject * object)
{
  GstS2SNova *self = GST_S2S_NOVA (object);

  g_free (self->region);
  g_free (self->access_key_id);
  wipe (self->secret_access_key);
  wipe (self->session_token);
  g_free (self->profile);
  g_byte_array_unref (self->out);
  g_string_free (self->error_body, TRUE);
  g_string_free (self->final_text, TRUE);
  g_byte_array_unref (self->replay);
  drain_done (self);
  keepalive_stop (self);
  G_OBJECT_CLASS (gst_s2s_nova_parent_class)->finalize (object);
}

#define MUTABLE_READY (G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | \
    GST_PARAM_MUTABLE_READY)

/* AWS credentials (properties, environment, profile), never api-key */
static gboolean
gst_s2s_nova_needs_api_key (GstS2SBase * base)
{
  return FALSE;
}

static void
gst_s2s_nova_class_init (GstS2SNovaClass * klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);
  GstS2SBaseClass *base_class = GST_S2S_BASE_CLASS (klass);

  gobject_class->set_property = gst_s2s_nova_set_property;
  gobject_class->get_property = gst_s2s_nova_get_property;
  gobject_class->finalize = gst_s2s_nova_finalize;

  g_object_class_install_property (gobject_class, PROP_REGION,
      g_param_spec_string ("region", "Region",
          "AWS region (NULL: AWS_REGION, AWS_DEFAULT_REGION, then the "
          "profile's config)", NULL, MUTABLE_READY));
  g_object_class_install_property (gobject_class, PROP_ACCESS_KEY_ID,
      g_param_spec_string ("access-key-id", "Access key ID",
          "AWS access key ID (NULL: the environment, then the shared "
          "credentials file)", NULL, MUTABLE_READY));
  g_object_class_install_property (gobject_class, PROP_SECRET_ACCESS_KEY,
      g_param_spec_string ("secret-access-key", "Secret access key",
          "AWS secret access key for access-key-id. Never logged; reads back "
          "masked", NULL, MUTABLE_READY));
  g_object_class_install_property (gobject_class, PROP_SESSION_TOKEN,
      g_param_spec_string ("session-token", "Session token",
          "AWS session token of temporary credentials. Never logged; reads "
          "back masked", NULL, MUTABLE_READY));
  g_object_class_install_property (gobject_class, PROP_PROFILE,
      g_param_spec_string ("profile", "Profile",
          "Profile of the shared credentials/config files (NULL: "
          "AWS_PROFILE, then \"default\")", NULL, MUTABLE_READY));
  g_object_class_install_property (gobject_class, PROP_SESSION_LIMIT,
      g_param_spec_uint ("session-limit", "Session limit",
          "How long Bedrock lets one stream run (ms). From 3/4 of it the "
          "element moves the conversation to a new stream at a turn "
          "boundary, with the history and the unanswered user audio "
          "replayed; at the latest about 15 s before it (0: never rotate)",
          0, G_MAXUINT, DEFAULT_SESSION_LIMIT_MS, MUTABLE_READY));

  gst_element_class_add_static_pad_template (element_class, &sink_template);
  gst_element_class_add_static_pad_template (element_class, &src_template);
  gst_element_class_set_static_metadata (element_class,
      "Amazon Nova Sonic speech-to-speech", "Filter/Audio/Network",
      "Talks with Amazon Nova Sonic on Bedrock: voice in, voice out",
      "gst-s2s developers");

  base_class->provider = "nova";
  base_class->api_key_env = NULL;
  base_class->needs_api_key = gst_s2s_nova_needs_api_key;
  base_class->default_url = NULL;
  base_class->default_model = NOVA2_MODEL;
  base_class->default_voice = "matthew";
  base_class->server_cancels_on_speech = TRUE;

  base_class->check_config = gst_s2s_nova_check_config;
  base_class->open_transport = gst_s2s_nova_open_transport;
  base_class->transport_send = transport_send;
  base_class->close_transport = gst_s2s_nova_close_transport;
  base_class->session_open = gst_s2s_nova_session_open;
  base_class->session_resume = gst_s2s_nova_session_resume;
  base_class->rotation_ready = gst_s2s_nova_rotation_ready;
  base_class->can_resume = gst_s2s_nova_can_resume;
  base_class->map_close = gst_s2s_nova_map_close;
  base_class->handle_message = gst_s2s_nova_handle_message;
  base_class->send_audio = gst_s2s_nova_send_audio;
  base_class->commit = gst_s2s_nova_noop;
  base_class->create_response = gst_s2s_nova_noop;
  base_class->cancel_response = gst_s2s_nova_cancel_response;
  base_class->truncate = gst_s2s_nova_truncate;
  base_class->send_tool_result = gst_s2s_nova_send_tool_result;
  base_class->send_text = gst_s2s_nova_send_text;
}

static void
gst_s2s_nova_init (GstS2SNova * self)
{
  self->out = g_byte_array_new ();
  self->error_body = g_string_new (NULL);
  self->final_text = g_string_new (NULL);
  self->replay = g_byte_array_new ();
  self->replay_voiced = -1;
  self->session_limit_ms = DEFAULT_SESSION_LIMIT_MS;
}
