/* gst-s2s
 * Copyright (C) 2026 gst-s2s developers
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2.1 of the License, or (at your option) any later version.
 */

/**
 * SECTION:gsts2sbase
 * @title: GstS2SBase
 * @short_description: base class for speech-to-speech provider elements
 *
 * GstS2SBase owns everything a speech-to-speech element does that is not the
 * provider's wire protocol: the pads and their caps, the I/O thread with its
 * own GMainContext where the connection lives and every send happens, the
 * src-pad task that pushes model audio on a running-time timeline and keeps
 * downstream fed with GAP events while the model is silent, pacing of
 * non-live input, the LATENCY answer, barge-in with played-duration
 * accounting, EOS drain, the conversation as the user heard it, tool calls,
 * usage and errors, and the contract messages on the bus.
 *
 * Threads: the sink chain only queues audio (and paces a non-live source to
 * real time against the pipeline clock); the I/O thread talks to the network
 * and calls the provider's vfuncs; the src task pushes. One mutex guards the
 * state they share; messages are posted outside it.
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <string.h>
#include <glib/gi18n-lib.h>

#include "gsts2sbase.h"
#include "gsts2sbase-private.h"
#include "gsts2sws.h"
#include "gsts2strace.h"
#include "gsts2stracesink.h"

GST_DEBUG_CATEGORY (gst_s2s_debug);
#define GST_CAT_DEFAULT gst_s2s_debug

#define DEFAULT_LATENCY_MS 100
#define DEFAULT_LATENCY_TARGET_MS 0
#define DEFAULT_CONNECT_TIMEOUT_MS 10000
#define DEFAULT_EOS_TIMEOUT_MS 15000
#define DEFAULT_TURN_DETECTION GST_S2S_TURN_DETECTION_SERVER_VAD
#define DEFAULT_REASONING GST_S2S_REASONING_BUILT_IN

/* Output buffers are cut to this (the audio of one item is cut on a grid
 * of this size from its start, whatever the size of the provider's
 * deltas). Each pushed buffer is one wake-up of the src task, and with a
 * synchronised sink downstream one sleep in its clock wait: 40 ms halves
 * them against 20 ms, while barge-in still drops all but the one buffer
 * being pushed (at most 40 ms that still plays). docs/design.md,
 * "Timeline". */
#define OUT_CHUNK_MS 40
/* While the model is silent, GAP events (or silence buffers) cover at least
 * this much; the src task sleeps until `latency` (at least this, at most
 * GAP_IDLE_MAX) of output is missing, and pushes a GAP whenever it is awake
 * anyway with this much missing (after a push that waited in a
 * synchronised sink) */
#define GAP_INTERVAL (40 * GST_MSECOND)
/* The longest the src task sleeps while silent, whatever `latency`: bounds
 * silence-fill buffers and what a missed wake-up could delay */
#define GAP_IDLE_MAX (200 * GST_MSECOND)
/* Input held while the session is not ready yet; older audio is dropped
 * past this, with a warning */
#define MAX_PENDING_INPUT_MS 30000
/* Past that cap the oldest input goes this much at a time */
#define PENDING_DROP_STEP_MS 1000
/* OpenAI refuses a commit of less than 100 ms; no provider wants less */
#define MIN_COMMIT_MS 100
/* After input EOS with server VAD, how long the provider has to report
 * speech in the last audio (on top of its silence duration) */
#define EOS_SETTLE_MS 1000
/* Session renewal: how often a requested rotation looks for a turn
 * boundary, the most it keeps before the connection's announced end, how
 * long sent frames get to reach the wire before the close frame, and how
 * long the peer gets to answer it */
#define ROTATION_TICK_MS 50
#define ROTATION_MAX_MARGIN (5 * GST_SECOND)
#define ROTATION_DRAIN_MS 150
#define ROTATION_CLOSE_TIMEOUT_MS 1000
/* Successive reconnects that may fail before the error stands */
#define MAX_RESUME_FAILURES 3

enum
{
  PROP_0,
  PROP_URL,
  PROP_API_KEY,
  PROP_MODEL,
  PROP_VOICE,
  PROP_INSTRUCTIONS,
  PROP_LANGUAGE,
  PROP_TEMPERATURE,
  PROP_MAX_OUTPUT_TOKENS,
  PROP_TOOLS,
  PROP_HISTORY,
  PROP_TURN_DETECTION,
  PROP_VAD_THRESHOLD,
  PROP_SILENCE_DURATION,
  PROP_PREFIX_PADDING,
  PROP_TRANSCRIBE_INPUT,
  PROP_TRANSCRIPTION_MODEL,
  PROP_REASONING,
  PROP_LATENCY,
  PROP_LATENCY_TARGET,
  PROP_SSL_CA_FILE,
  PROP_PROXY,
  PROP_CONNECT_TIMEOUT,
  PROP_EOS_TIMEOUT,
  PROP_SILENCE_FILL,
  PROP_STATS,
};

enum
{
  SIGNAL_SEND_TEXT,
  SIGNAL_TOOL_RESULT,
  SIGNAL_INTERRUPT,
  SIGNAL_SAY,
  SIGNAL_COMMIT,
  LAST_SIGNAL
};

static guint gst_s2s_base_signals[LAST_SIGNAL] = { 0 };

/* One item of the kept conversation. It lives as long as the session (and
 * is carried over reconnects), so it is kept compact: type and role point
 * at static strings when they are the usual ones, and the text is an
 * exact-size string, NULL when empty (docs/performance.md, "Memory over
 * time"). */
typedef struct
{
  gchar *type;                  /* message, function_call, function_call_output */
  gchar *role;
  gchar *id;                    /* provider item id, NULL for seeded items */
  gchar *text;                  /* NULL: empty; CONV_TEXT() reads it */
  gsize text_len;
  gchar *call_id;
  gchar *name;
  gchar *arguments;
  gchar *output;
  gboolean final;
  /* assistant audio: what arrived and, after barge-in, what was heard */
  GstClockTime audio_received;
  GstClockTime audio_played;    /* NONE unless interrupted */
} ConvItem;

typedef struct _S2SIoThread S2SIoThread;

struct _GstS2SBasePrivate
{
  /* Settings, object lock */
  gchar *url;
  gchar *api_key;
  gchar *model;
  gchar *voice;
  gchar *instructions;
  gchar *language;
  gdouble temperature;
  gint max_output_tokens;
  gchar *tools_json;
  gchar *history_json;
  GstS2STurnDetection turn_detection;
  gdouble vad_threshold;
  gint silence_duration;
  gint prefix_padding;
  gboolean transcribe_input;
  gchar *transcription_model;
  GstS2SReasoning reasoning;
  guint latency_ms;
  guint latency_target_ms;
  gchar *ssl_ca_file;
  gchar *proxy;
  guint connect_timeout_ms;
  guint eos_timeout_ms;
  gboolean silence_fill;

  /* I/O thread (one of the pool's, or the element's own with
   * GST_S2S_IO=element); only touched on it once started. io_ctx is its
   * context. */
  S2SIoThread *io;
  GMainContext *io_ctx;
  gboolean io_shutdown_done;
  /* io_lock: the sources this element attached to io_ctx (IoTask), so
   * that stopping it destroys only its own; io_closed once stopped: no
   * more. io_holds: gst_s2s_base_io_hold() not yet released (cond). */
  GMutex io_lock;
  GPtrArray *io_tasks;
  gboolean io_closed;
  guint io_holds;
  GstS2SWs *ws;
  GstS2SConfig *config;
  gboolean session_open;
  /* the provider's open_transport succeeded: close_transport on stop */
  gboolean own_transport;
  gboolean session_ready;
  gboolean history_sent;
  gboolean eos_handled;
  gint64 session_start_us;
  gchar *session_id;
  /* renewal */
  gboolean rotation_pending;
  gint64 rotation_deadline_us;
  gchar *rotation_reason;
  GSource *rotation_timer;
  GstS2SWs *closing_ws;
  guint resume_failures;

  /* State shared between threads: lock */
  GMutex lock;
  GCond cond;
  gboolean flushing;
  gboolean stopping;
  gboolean fatal;
  /* a successor connection is being set up: actions wait in `deferred` */
  gboolean renewing;
  /* tracing (ARCHITECTURE.md §5): moments only the element sees, handed
   * to the s2s tracer through the contract. Set at session start. Next to
   * the flags above, which the chain function and the src task read on
   * every buffer: a line they touch anyway (tests/bench/
   * tracer-overhead.md, "Lines, pages, the bus, and which thread pays") */
  gboolean traced;
  GstS2STrace *trace;           /* records (gsts2strace.c), lock; kept */
  GQueue deferred;

  /* input */
  GstSegment in_segment;
  GstS2SAudioFormat in_format;
  gboolean in_format_known;
  GByteArray *in_pending;
  GByteArray *in_spare;         /* swapped with in_pending: no alloc a flush */
  gboolean in_flush_scheduled;
  /* the I/O thread is sending what it took from in_pending: input from the
   * chain waits behind it, so it cannot overtake */
  gboolean in_flushing;
  gboolean in_eos;
  /* held by the streaming thread while it sends input itself, and by the
   * I/O thread while it replaces or frees `ws`: a direct send never meets
   * a freed connection. Taken before the object lock, never inside it. */
  GMutex direct_lock;
  guint64 uncommitted_bytes;
  GstClockID in_clock_id;

  /* output */
  GstS2SAudioFormat out_format;
  GQueue out_queue;
  /* while traced, the push records' state (gsts2strace.h): on the line of
   * the queue, which the src task reads at every push anyway */
  GstS2STracePushes trace_pushes;
  GstClockTime out_end;         /* end of queued output (or last GAP) */
  GstClockTime pushed_end;      /* end of pushed buffers/GAPs */
  GstClockTime last_buf_end;    /* end of the last buffer pushed */
  gboolean need_discont;
  gboolean src_started;         /* stream-start, caps and segment sent */
  gboolean need_segment;        /* a flush cleared the segment downstream */
  gboolean eos_pushed;
  gint64 eos_deadline;          /* monotonic us, 0 none */
  gint64 eos_settle_until;      /* no EOS before: the VAD may yet speak */
  GstClockTime pipeline_latency;

  /* turn/response state */
  gboolean user_speaking;
  gboolean awaiting_response;
  gboolean response_active;
  gboolean create_after_done;
  gchar *response_id;
  gchar *interrupted_response_id;
  gboolean response_first_audio;
  GstClockTime response_audio;
  GstClockTime turn_end_rt;
  gchar *audio_item_id;
  GstClockTime item_first_pts;
  guint64 item_received_bytes;
  guint64 item_pushed_bytes;
  GHashTable *pending_calls;    /* call_id -> name */
  guint tool_results_queued;    /* tool-result calls not yet on the I/O thread */

  /* conversation as the user heard it */
  GPtrArray *conv;

  /* tracing, the rest (traced and trace are with the flags above) */
  GPtrArray *tracers;           /* the s2s tracers attached, reffed */
  /* a tracer asked for s2s-transport on the bus too (bus-records); else
   * the records go to the tracers' sinks only. Set at attach */
  gboolean trace_bus;
  /* GstS2STraceSink: where the tracers take this element's messages
   * (gst_s2s_base_post_message); NULL when none, replaced (never changed
   * in place) under trace_sink_lock */
  GArray *trace_sinks;
  GMutex trace_sink_lock;

  /* "[provider session] " for log lines: written on one half while
   * readers use the other, then switched */
  gchar log_tag[2][96];
  gint log_tag_idx;

  /* stats */
  guint turns;
  guint interruptions;
  guint reconnects;
  guint rotations;
  guint64 bytes_in;
  guint64 bytes_out;
  GstS2SUsage usage_total;
  gchar *last_error;
};

/* Registered by hand, as GstBaseSrc is: instance init needs the class of
 * the subclass being instantiated to find its pad templates. */
static GstElementClass *gst_s2s_base_parent_class = NULL;
static gint private_offset = 0;

static void gst_s2s_base_class_init (GstS2SBaseClass * klass);
static void gst_s2s_base_init (GstS2SBase * self, gpointer g_class);

static inline GstS2SBasePrivate *
gst_s2s_base_get_instance_private (GstS2SBase * self)
{
  return G_STRUCT_MEMBER_P (self, private_offset);
}

static void
gst_s2s_base_class_intern_init (gpointer klass, gpointer data)
{
  gst_s2s_base_parent_class = g_type_class_peek_parent (klass);
  g_type_class_adjust_private_offset (klass, &private_offset);
  gst_s2s_base_class_init (klass);
}

GType
gst_s2s_base_get_type (void)
{
  static gsize type = 0;

  if (g_once_init_enter (&type)) {
    static const GTypeInfo info = {
      sizeof (GstS2SBaseClass), NULL, NULL,
      (GClassInitFunc) gst_s2s_base_class_intern_init, NULL, NULL,
      sizeof (GstS2SBase), 0, (GInstanceInitFunc) gst_s2s_base_init, NULL
    };
    GType t = g_type_register_static (GST_TYPE_ELEMENT, "GstS2SBase", &info,
        G_TYPE_FLAG_ABSTRACT);

    private_offset = g_type_add_instance_private (t,
        sizeof (GstS2SBasePrivate));
    g_once_init_leave (&type, t);
  }
  return type;
}

#define GST_S2S_BASE_LOCK(s)   g_mutex_lock (&(s)->priv->lock)
#define GST_S2S_BASE_UNLOCK(s) g_mutex_unlock (&(s)->priv->lock)
#define GST_S2S_BASE_SIGNAL(s) g_cond_broadcast (&(s)->priv->cond)

/* ------------------------------------------------------------------------ */
/* Enums and small helpers */

GType
gst_s2s_turn_detection_get_type (void)
{
  static GType type = 0;
  static const GEnumValue values[] = {
    {GST_S2S_TURN_DETECTION_SERVER_VAD, "The provider's voice activity "
          "detection ends the turn", "server-vad"},
    {GST_S2S_TURN_DETECTION_SEMANTIC_VAD, "The provider's semantic turn "
          "detection, where offered", "semantic-vad"},
    {GST_S2S_TURN_DETECTION_NONE, "The application ends turns with the "
          "commit action signal", "none"},
    {0, NULL, NULL}
  };

  if (g_once_init_enter (&type)) {
    GType t = g_enum_register_static ("GstS2STurnDetection", values);
    g_once_init_leave (&type, t);
  }
  return type;
}

GType
gst_s2s_reasoning_get_type (void)
{
  static GType type = 0;
  static const GEnumValue values[] = {
    {GST_S2S_REASONING_BUILT_IN, "The model decides what to say",
        "built-in"},
    {GST_S2S_REASONING_EXTERNAL, "The application decides what the model "
          "says, with the say action signal", "external"},
    {0, NULL, NULL}
  };

  if (g_once_init_enter (&type)) {
    GType t = g_enum_register_static ("GstS2SReasoning", values);
    g_once_init_leave (&type, t);
  }
  return type;
}

static const gchar *const error_code_names[] = {
  "authentication", "authorization", "rate-limit", "quota",
  "invalid-request", "invalid-config", "network", "timeout",
  "session-expired", "server-error", "protocol", "audio-format",
};

const gchar *
gst_s2s_error_code_to_string (GstS2SErrorCode code)
{
  g_return_val_if_fail (code < G_N_ELEMENTS (error_code_names), "unknown");
  return error_code_names[code];
}

gboolean
gst_s2s_audio_format_from_caps (GstS2SAudioFormat * fmt, const GstCaps * caps)
{
  GstStructure *s;
  const gchar *name;
  gint rate = 0, channels = 1;

  if (caps == NULL || gst_caps_get_size (caps) < 1)
    return FALSE;
  s = gst_caps_get_structure (caps, 0);
  name = gst_structure_get_name (s);
  if (!gst_structure_get_int (s, "rate", &rate) || rate <= 0)
    return FALSE;
  if (gst_structure_get_int (s, "channels", &channels) && channels != 1)
    return FALSE;

  if (g_str_equal (name, "audio/x-raw")) {
    const gchar *format = gst_structure_get_string (s, "format");
    if (g_strcmp0 (format, "S16LE") != 0)
      return FALSE;
    fmt->encoding = GST_S2S_ENCODING_PCM_S16LE;
  } else if (g_str_equal (name, "audio/x-mulaw")) {
    fmt->encoding = GST_S2S_ENCODING_MULAW;
  } else if (g_str_equal (name, "audio/x-alaw")) {
    fmt->encoding = GST_S2S_ENCODING_ALAW;
  } else {
    return FALSE;
  }
  fmt->rate = rate;
  return TRUE;
}

GstCaps *
gst_s2s_audio_format_to_caps (const GstS2SAudioFormat * fmt)
{
  switch (fmt->encoding) {
    case GST_S2S_ENCODING_MULAW:
      return gst_caps_new_simple ("audio/x-mulaw", "rate", G_TYPE_INT,
          fmt->rate, "channels", G_TYPE_INT, 1, NULL);
    case GST_S2S_ENCODING_ALAW:
      return gst_caps_new_simple ("audio/x-alaw", "rate", G_TYPE_INT,
          fmt->rate, "channels", G_TYPE_INT, 1, NULL);
    case GST_S2S_ENCODING_PCM_S16LE:
    default:
      return gst_caps_new_simple ("audio/x-raw", "format", G_TYPE_STRING,
          "S16LE", "layout", G_TYPE_STRING, "interleaved", "rate", G_TYPE_INT,
          fmt->rate, "channels", G_TYPE_INT, 1, NULL);
  }
}

guint
gst_s2s_audio_format_bytes_per_sample (const GstS2SAudioFormat * fmt)
{
  return fmt->encoding == GST_S2S_ENCODING_PCM_S16LE ? 2 : 1;
}

GstClockTime
gst_s2s_audio_format_bytes_to_time (const GstS2SAudioFormat * fmt,
    guint64 bytes)
{
  guint64 samples = bytes / gst_s2s_audio_format_bytes_per_sample (fmt);

  if (fmt->rate <= 0)
    return 0;
  return gst_util_uint64_scale_int (samples, GST_SECOND, fmt->rate);
}

static guint64
time_to_bytes (const GstS2SAudioFormat * fmt, GstClockTime t)
{
  return gst_util_uint64_scale_int (t, fmt->rate, GST_SECOND) *
      gst_s2s_audio_format_bytes_per_sample (fmt);
}

static guint8
silence_byte (const GstS2SAudioFormat * fmt)
{
  switch (fmt->encoding) {
    case GST_S2S_ENCODING_MULAW:
      return 0xff;
    case GST_S2S_ENCODING_ALAW:
      return 0xd5;
    default:
      return 0;
  }
}

void
gst_s2s_config_free (GstS2SConfig * c)
{
  if (c == NULL)
    return;
  g_free (c->url);
  g_free (c->api_key);
  g_free (c->model);
  g_free (c->voice);
  g_free (c->instructions);
  g_free (c->language);
  g_free (c->transcription_model);
  g_free (c->ssl_ca_file);
  g_free (c->proxy);
  if (c->tools)
    json_array_unref (c->tools);
  g_free (c);
}

const gchar *
gst_s2s_json_string (JsonObject * o, const gchar * name)
{
  JsonNode *n = o ? json_object_get_member (o, name) : NULL;

  if (n && JSON_NODE_HOLDS_VALUE (n) &&
      json_node_get_value_type (n) == G_TYPE_STRING)
    return json_node_get_string (n);
  return NULL;
}

gint64
gst_s2s_json_int (JsonObject * o, const gchar * name)
{
  JsonNode *n = o ? json_object_get_member (o, name) : NULL;

  if (n == NULL || !JSON_NODE_HOLDS_VALUE (n))
    return 0;
  switch (json_node_get_value_type (n)) {
    case G_TYPE_INT64:
      return json_node_get_int (n);
    case G_TYPE_DOUBLE:{
      gdouble d = json_node_get_double (n);
      /* 2^63 itself does not fit: saturate below it; NaN is 0 */
      if (d >= 9.2e18)
        return G_MAXINT64;
      if (d <= -9.2e18)
        return G_MININT64;
      return d == d ? (gint64) d : 0;
    }
    case G_TYPE_STRING:
      return g_ascii_strtoll (json_node_get_string (n), NULL, 10);
    default:
      return 0;
  }
}

gboolean
gst_s2s_json_bool (JsonObject * o, const gchar * name)
{
  JsonNode *n = o ? json_object_get_member (o, name) : NULL;

  return n && JSON_NODE_HOLDS_VALUE (n) &&
      json_node_get_value_type (n) == G_TYPE_BOOLEAN &&
      json_node_get_boolean (n);
}

JsonObject *
gst_s2s_json_object (JsonObject * o, const gchar * name)
{
  JsonNode *n = o ? json_object_get_member (o, name) : NULL;

  return n && JSON_NODE_HOLDS_OBJECT (n) ? json_node_get_object (n) : NULL;
}

JsonArray *
gst_s2s_json_array (JsonObject * o, const gchar * name)
{
  JsonNode *n = o ? json_object_get_member (o, name) : NULL;

  return n && JSON_NODE_HOLDS_ARRAY (n) ? json_node_get_array (n) : NULL;
}

static JsonNode *
parse_json (const gchar * json, GError ** error)
{
  JsonParser *parser = json_parser_new_immutable ();
  JsonNode *root = NULL;

  if (json_parser_load_from_data (parser, json, -1, error)) {
    root = json_parser_get_root (parser);
    if (root)
      root = json_node_copy (root);
    else
      g_set_error_literal (error, JSON_PARSER_ERROR, JSON_PARSER_ERROR_PARSE,
          "empty document");
  }
  g_object_unref (parser);
  return root;
}

static gboolean
member_is_string (JsonObject * o, const gchar * name)
{
  JsonNode *n = json_object_get_member (o, name);

  return n && JSON_NODE_HOLDS_VALUE (n) &&
      json_node_get_value_type (n) == G_TYPE_STRING;
}

/* A JSON array of objects; @what names an element in errors */
static JsonArray *
parse_object_array (const gchar * json, const gchar * what, GError ** error)
{
  JsonNode *root = parse_json (json, error);
  JsonArray *arr;
  guint i;

  if (root == NULL)
    return NULL;
  if (!JSON_NODE_HOLDS_ARRAY (root)) {
    g_set_error (error, JSON_PARSER_ERROR, JSON_PARSER_ERROR_PARSE,
        "expected a JSON array of %ss", what);
    json_node_unref (root);
    return NULL;
  }
  arr = json_array_ref (json_node_get_array (root));
  json_node_unref (root);

  for (i = 0; i < json_array_get_length (arr); i++) {
    if (!JSON_NODE_HOLDS_OBJECT (json_array_get_element (arr, i))) {
      g_set_error (error, JSON_PARSER_ERROR, JSON_PARSER_ERROR_PARSE,
          "%s %u is not an object", what, i);
      json_array_unref (arr);
      return NULL;
    }
  }
  return arr;
}

JsonArray *
gst_s2s_parse_tools (const gchar * json, GError ** error)
{
  JsonArray *arr = parse_object_array (json, "tool", error);
  guint i;

  for (i = 0; arr && i < json_array_get_length (arr); i++) {
    JsonObject *o = json_array_get_object_element (arr, i);

    if (!member_is_string (o, "name") ||
        *json_object_get_string_member (o, "name") == '\0') {
      g_set_error (error, JSON_PARSER_ERROR, JSON_PARSER_ERROR_PARSE,
          "tool %u has no \"name\" string", i);
      goto fail;
    }
    if (json_object_has_member (o, "description") &&
        !member_is_string (o, "description")) {
      g_set_error (error, JSON_PARSER_ERROR, JSON_PARSER_ERROR_PARSE,
          "tool %u: \"description\" must be a string", i);
      goto fail;
    }
    if (json_object_has_member (o, "parameters") &&
        !JSON_NODE_HOLDS_OBJECT (json_object_get_member (o, "parameters"))) {
      g_set_error (error, JSON_PARSER_ERROR, JSON_PARSER_ERROR_PARSE,
          "tool %u: \"parameters\" must be a JSON Schema object", i);
      goto fail;
    }
  }
  return arr;

fail:
  json_array_unref (arr);
  return NULL;
}

gsize
gst_s2s_drop_oldest (GByteArray * store, gsize incoming, gsize max, gsize step)
{
  gsize drop;

  if (store->len + incoming <= max)
    return 0;
  drop = MIN (store->len, store->len + incoming - max + step);
  g_byte_array_remove_range (store, 0, drop);
  return drop;
}

JsonArray *
gst_s2s_parse_history (const gchar * json, GError ** error)
{
  JsonArray *arr = parse_object_array (json, "conversation item", error);
  guint i;

  for (i = 0; arr && i < json_array_get_length (arr); i++) {
    JsonObject *o = json_array_get_object_element (arr, i);
    const gchar *type;

    type = member_is_string (o, "type") ?
        json_object_get_string_member (o, "type") : "message";
    if (g_str_equal (type, "message")) {
      const gchar *role = member_is_string (o, "role") ?
          json_object_get_string_member (o, "role") : "";
      if (!g_str_equal (role, "system") && !g_str_equal (role, "user") &&
          !g_str_equal (role, "assistant")) {
        g_set_error (error, JSON_PARSER_ERROR, JSON_PARSER_ERROR_PARSE,
            "item %u: \"role\" must be system, user or assistant", i);
        goto fail;
      }
      if (!member_is_string (o, "text")) {
        g_set_error (error, JSON_PARSER_ERROR, JSON_PARSER_ERROR_PARSE,
            "item %u: message needs a \"text\" string", i);
        goto fail;
      }
    } else if (g_str_equal (type, "function_call")) {
      if (!member_is_string (o, "call_id") || !member_is_string (o, "name") ||
          !member_is_string (o, "arguments")) {
        g_set_error (error, JSON_PARSER_ERROR, JSON_PARSER_ERROR_PARSE,
            "item %u: function_call needs call_id, name and arguments "
            "strings", i);
        goto fail;
      }
    } else if (g_str_equal (type, "function_call_output")) {
      if (!member_is_string (o, "call_id") || !member_is_string (o, "output")) {
        g_set_error (error, JSON_PARSER_ERROR, JSON_PARSER_ERROR_PARSE,
            "item %u: function_call_output needs call_id and output "
            "strings", i);
        goto fail;
      }
    } else {
      g_set_error (error, JSON_PARSER_ERROR, JSON_PARSER_ERROR_PARSE,
          "item %u: unknown type \"%s\"", i, type);
      goto fail;
    }
  }
  return arr;

fail:
  json_array_unref (arr);
  return NULL;
}

/* ------------------------------------------------------------------------ */
/* Conversation */

#define CONV_TEXT(it) ((it)->text ? (it)->text : "")

/* The types and roles of nearly every item: shared, not copied */
static const gchar *const conv_words[] = {
  "message", "function_call", "function_call_output", "user", "assistant",
  "system", NULL
};

static gchar *
conv_word_dup (const gchar * s)
{
  guint i;

  if (s == NULL)
    return NULL;
  for (i = 0; conv_words[i]; i++)
    if (g_str_equal (s, conv_words[i]))
      return (gchar *) conv_words[i];
  return g_strdup (s);
}

static void
conv_word_free (gchar * s)
{
  guint i;

  for (i = 0; conv_words[i]; i++)
    if (s == conv_words[i])
      return;
  g_free (s);
}

static void
conv_item_set_text (ConvItem * it, const gchar * text)
{
  g_free (it->text);
  it->text_len = text ? strlen (text) : 0;
  it->text = it->text_len ? g_memdup2 (text, it->text_len + 1) : NULL;
}

/* exact size: a transcript grows by a few deltas a turn */
static void
conv_item_append_text (ConvItem * it, const gchar * text)
{
  gsize n = text ? strlen (text) : 0;

  if (n == 0)
    return;
  it->text = g_realloc (it->text, it->text_len + n + 1);
  memcpy (it->text + it->text_len, text, n + 1);
  it->text_len += n;
}

static void
conv_item_free (ConvItem * it)
{
  conv_word_free (it->type);
  conv_word_free (it->role);
  g_free (it->id);
  g_free (it->text);
  g_free (it->call_id);
  g_free (it->name);
  g_free (it->arguments);
  g_free (it->output);
  g_free (it);
}

static ConvItem *
conv_item_new (const gchar * type, const gchar * role, const gchar * id)
{
  ConvItem *it = g_new0 (ConvItem, 1);

  it->type = conv_word_dup (type);
  it->role = conv_word_dup (role);
  it->id = g_strdup (id);
  it->audio_played = GST_CLOCK_TIME_NONE;
  return it;
}

/* lock held */
static ConvItem *
conv_find (GstS2SBase * self, const gchar * id)
{
  GPtrArray *conv = self->priv->conv;
  guint i;

  if (id == NULL)
    return NULL;
  for (i = conv->len; i > 0; i--) {
    ConvItem *it = g_ptr_array_index (conv, i - 1);
    if (g_strcmp0 (it->id, id) == 0)
      return it;
  }
  return NULL;
}

/* lock held */
static ConvItem *
conv_ensure (GstS2SBase * self, const gchar * id, const gchar * type,
    const gchar * role)
{
  ConvItem *it = conv_find (self, id);

  if (it == NULL) {
    it = conv_item_new (type, role, id);
    g_ptr_array_add (self->priv->conv, it);
  } else if (role && it->role == NULL) {
    it->role = conv_word_dup (role);
  }
  return it;
}

/* What of an interrupted assistant message the user heard: the text cut in
 * proportion to the audio played, at a word boundary. The provider gives no
 * word timings, so this is an estimate; the server side is exact (truncate). */
static gchar *
conv_item_heard_text (ConvItem * it)
{
  const gchar *text = CONV_TEXT (it);
  gsize len = it->text_len, cut;

  if (!GST_CLOCK_TIME_IS_VALID (it->audio_played) || it->audio_received == 0)
    return g_strdup (text);
  if (it->audio_played >= it->audio_received)
    return g_strdup (text);
  cut = gst_util_uint64_scale (len, it->audio_played, it->audio_received);
  while (cut > 0 && !g_ascii_isspace (text[cut]))
    cut--;
  while (cut > 0 && g_ascii_isspace (text[cut - 1]))
    cut--;
  return g_strndup (text, cut);
}

static gchar *
conv_to_json (GstS2SBase * self)
{
  GPtrArray *conv = self->priv->conv;
  JsonBuilder *b = json_builder_new ();
  JsonGenerator *gen;
  JsonNode *root;
  gchar *out;
  guint i;

  json_builder_begin_array (b);
  for (i = 0; i < conv->len; i++) {
    ConvItem *it = g_ptr_array_index (conv, i);

    json_builder_begin_object (b);
    json_builder_set_member_name (b, "type");
    json_builder_add_string_value (b, it->type);
    if (g_str_equal (it->type, "message")) {
      gchar *text = conv_item_heard_text (it);
      json_builder_set_member_name (b, "role");
      json_builder_add_string_value (b, it->role ? it->role : "user");
      json_builder_set_member_name (b, "text");
      json_builder_add_string_value (b, text);
      g_free (text);
      if (GST_CLOCK_TIME_IS_VALID (it->audio_played)) {
        json_builder_set_member_name (b, "interrupted");
        json_builder_add_boolean_value (b, TRUE);
      }
    } else if (g_str_equal (it->type, "function_call")) {
      json_builder_set_member_name (b, "call_id");
      json_builder_add_string_value (b, it->call_id);
      json_builder_set_member_name (b, "name");
      json_builder_add_string_value (b, it->name);
      json_builder_set_member_name (b, "arguments");
      json_builder_add_string_value (b, it->arguments ? it->arguments : "{}");
    } else {
      json_builder_set_member_name (b, "call_id");
      json_builder_add_string_value (b, it->call_id);
      json_builder_set_member_name (b, "output");
      json_builder_add_string_value (b, it->output);
    }
    json_builder_end_object (b);
  }
  json_builder_end_array (b);

  root = json_builder_get_root (b);
  gen = json_generator_new ();
  json_generator_set_root (gen, root);
  out = json_generator_to_data (gen, NULL);
  json_node_unref (root);
  g_object_unref (gen);
  g_object_unref (b);
  return out;
}

/* lock held */
static void
conv_seed (GstS2SBase * self, JsonArray * items)
{
  guint i;

  for (i = 0; i < json_array_get_length (items); i++) {
    JsonObject *o = json_array_get_object_element (items, i);
    const gchar *type = json_object_get_string_member_with_default (o, "type",
        "message");
    ConvItem *it = conv_item_new (type,
        json_object_get_string_member_with_default (o, "role", NULL), NULL);

    conv_item_set_text (it,
        json_object_get_string_member_with_default (o, "text", ""));
    it->call_id = g_strdup (json_object_get_string_member_with_default (o,
            "call_id", NULL));
    it->name = g_strdup (json_object_get_string_member_with_default (o,
            "name", NULL));
    it->arguments = g_strdup (json_object_get_string_member_with_default (o,
            "arguments", NULL));
    it->output = g_strdup (json_object_get_string_member_with_default (o,
            "output", NULL));
    it->final = TRUE;
    g_ptr_array_add (self->priv->conv, it);
  }
}

/* ------------------------------------------------------------------------ */
/* Messages and errors */

static GstClockTime
current_running_time (GstS2SBase * self)
{
  if (GST_STATE (self) != GST_STATE_PLAYING)
    return GST_CLOCK_TIME_NONE;
  return gst_element_get_current_running_time (GST_ELEMENT (self));
}

/* An element message of @s (taken), stamped with the running time now
 * unless it has one */
static GstMessage *
new_element_message (GstS2SBase * self, GstStructure * s)
{
  GstClockTime rt = current_running_time (self);

  if (!gst_structure_has_field (s, "running-time"))
    gst_structure_set (s, "running-time", G_TYPE_UINT64, rt, NULL);
  return gst_message_new_element (GST_OBJECT (self), s);
}

static void
post_element_message (GstS2SBase * self, GstStructure * s)
{
  gst_element_post_message (GST_ELEMENT (self), new_element_message (self, s));
}

/* Type name of the s2s tracer (gst/s2stracers): the base only looks it up
 * among the active tracers, it links nothing of it */
#define S2S_TRACER_TYPE_NAME "GstS2STracer"

static void
set_log_tag (GstS2SBase * self, const gchar * session_id)
{
  GstS2SBasePrivate *priv = self->priv;
  gint next = !g_atomic_int_get (&priv->log_tag_idx);

  g_snprintf (priv->log_tag[next], sizeof (priv->log_tag[next]), "[%s %s] ",
      GST_S2S_BASE_GET_CLASS (self)->provider,
      session_id && *session_id ? session_id : "-");
  g_atomic_int_set (&priv->log_tag_idx, next);
}

const gchar *
gst_s2s_base_log_tag (gpointer object)
{
  GstS2SBasePrivate *priv;

  if (object == NULL || !GST_IS_S2S_BASE (object))
    return "";
  priv = GST_S2S_BASE (object)->priv;
  return priv->log_tag[g_atomic_int_get (&priv->log_tag_idx)];
}

/* The s2s tracers of this process hand themselves over without hooks:
 * g_type_get_qdata (GstS2STracer, "gst-s2s-tracers") is a GPtrArray of
 * them (docs/observability.md, "How the tracer finds the elements") */
#define S2S_TRACERS_QDATA "gst-s2s-tracers"

/* Replaces the tracers' sinks (takes @sinks; NULL or empty: none). A
 * post on another thread may still use the old array it holds a
 * reference to: the sessions it points to live as long as the element */
static void
trace_sinks_set (GstS2SBase * self, GArray * sinks)
{
  GstS2SBasePrivate *priv = self->priv;
  GArray *old;

  if (sinks && sinks->len == 0)
    g_clear_pointer (&sinks, g_array_unref);
  g_mutex_lock (&priv->trace_sink_lock);
  old = priv->trace_sinks;
  g_atomic_pointer_set (&priv->trace_sinks, sinks);
  g_mutex_unlock (&priv->trace_sink_lock);
  if (old)
    g_array_unref (old);
}

/* Any thread: an element message posted on the element, to the tracers
 * that measure it, before it goes up to the bus */
static void
trace_sinks_deliver (GstS2SBase * self, GstMessage * message)
{
  GstS2SBasePrivate *priv = self->priv;
  GArray *sinks;
  guint i;

  g_mutex_lock (&priv->trace_sink_lock);
  sinks = priv->trace_sinks ? g_array_ref (priv->trace_sinks) : NULL;
  g_mutex_unlock (&priv->trace_sink_lock);
  if (sinks == NULL)
    return;
  for (i = 0; i < sinks->len; i++) {
    const GstS2STraceSink *sink = &g_array_index (sinks, GstS2STraceSink, i);

    sink->message (sink->session, message);
  }
  g_array_unref (sinks);
}

/* Every message posted on the element, by it or anyone: while traced,
 * its element messages go to the tracers first (gsts2stracesink.h). An
 * untraced element pays one load */
static gboolean
gst_s2s_base_post_message (GstElement * element, GstMessage * message)
{
  GstS2SBase *self = GST_S2S_BASE (element);

  if (G_UNLIKELY (g_atomic_pointer_get (&self->priv->trace_sinks) != NULL) &&
      GST_MESSAGE_TYPE (message) == GST_MESSAGE_ELEMENT)
    trace_sinks_deliver (self, message);
  return GST_ELEMENT_CLASS (gst_s2s_base_parent_class)->post_message (element,
      message);
}

/* At session start: hands the element to every s2s tracer of the process
 * (their "attach" action signal). Only then are hand-offs recorded and
 * output buffers stamped, so untraced pipelines pay nothing. TRUE: a
 * tracer takes the element's records (it measures the element, or wants
 * them on the bus) */
static gboolean
s2s_tracers_attach (GstS2SBase * self)
{
  GType type = g_type_from_name (S2S_TRACER_TYPE_NAME);
  GPtrArray *all = type ? g_type_get_qdata (type,
      g_quark_from_static_string (S2S_TRACERS_QDATA)) : NULL;
  gdouble voiced_ms = G_MAXDOUBLE;
  gboolean bus = FALSE, taken;
  GArray *sinks;
  guint i;

  g_clear_pointer (&self->priv->tracers, g_ptr_array_unref);
  trace_sinks_set (self, NULL);
  if (all == NULL || all->len == 0)
    return FALSE;
  self->priv->tracers = g_ptr_array_new_with_free_func (gst_object_unref);
  for (i = 0; i < all->len; i++) {
    /* -40 dBFS as a mean square of S16 samples: the tracer's default */
    gdouble ms = 32768.0 * 32768.0 * 1e-4;

    /* the voiced check at the lowest threshold of the tracers */
    if (g_object_class_find_property (G_OBJECT_GET_CLASS (all->pdata[i]),
            "voice-threshold"))
      g_object_get (all->pdata[i], "voice-threshold", &ms, NULL);
    voiced_ms = MIN (voiced_ms, ms);
    if (g_object_class_find_property (G_OBJECT_GET_CLASS (all->pdata[i]),
            "bus-records")) {
      gboolean b = FALSE;

      g_object_get (all->pdata[i], "bus-records", &b, NULL);
      bus |= b;
    }
    g_ptr_array_add (self->priv->tracers, gst_object_ref (all->pdata[i]));
  }
  sinks = g_array_new (FALSE, FALSE, sizeof (GstS2STraceSink));
  for (i = 0; i < all->len; i++) {
    const GstS2STraceSink *sink = NULL;

    g_signal_emit_by_name (all->pdata[i], "attach", self, &sink);
    /* NULL: this tracer does not measure the element (its filter) */
    if (sink && sink->size == sizeof (GstS2STraceSink) && sink->message)
      g_array_append_val (sinks, *sink);
  }
  /* no tracer measures the element (their filters) and none wants the
   * records on the bus: nothing to record, it runs as untraced */
  taken = sinks->len > 0 || bus;
  self->priv->trace_bus = bus;
  if (taken) {
    /* the records are kept between sessions: a streaming thread may still
     * be on its way out of the last one */
    if (self->priv->trace == NULL)
      self->priv->trace = gst_s2s_trace_new (&self->priv->trace_pushes);
    gst_s2s_trace_reset (self->priv->trace, voiced_ms);
  }
  trace_sinks_set (self, sinks);
  return taken;
}

/* At session stop, after its last message: the tracers log the summary */
static void
s2s_tracers_detach (GstS2SBase * self)
{
  GPtrArray *tracers = g_steal_pointer (&self->priv->tracers);
  guint i;

  trace_sinks_set (self, NULL);
  for (i = 0; tracers && i < tracers->len; i++)
    g_signal_emit_by_name (tracers->pdata[i], "detach", self);
  g_clear_pointer (&tracers, g_ptr_array_unref);
}

/* Hands the tracer's records (gsts2strace.c) as one s2s-transport
 * message to the tracers' sinks, and posts it on the bus only when a
 * tracer asked for that (bus-records): the records are for the tracers,
 * and the bus would make every application's bus handling pay for them
 * (tests/bench/tracer-overhead.md, "Lines, pages, the bus, and which
 * thread pays"). @first_pts: the first audio of a response about to be
 * pushed */
static void
post_trace_records (GstS2SBase * self, GstClockTime first_pts)
{
  GstStructure *st;
  GstMessage *m;

  if (!self->priv->traced)
    return;
  GST_S2S_BASE_LOCK (self);
  st = gst_s2s_trace_take (self->priv->trace, first_pts);
  GST_S2S_BASE_UNLOCK (self);
  if (st == NULL)
    return;
  m = new_element_message (self, st);
  if (self->priv->trace_bus) {
    /* through gst_s2s_base_post_message: the sinks, then the bus */
    gst_element_post_message (GST_ELEMENT (self), m);
  } else {
    trace_sinks_deliver (self, m);
    gst_message_unref (m);
  }
}

static void
post_session_state (GstS2SBase * self, const gchar * state,
    const gchar * reason)
{
  GstS2SBaseClass *klass = GST_S2S_BASE_GET_CLASS (self);

  post_element_message (self, gst_structure_new ("s2s-session",
          "state", G_TYPE_STRING, state,
          "provider", G_TYPE_STRING, klass->provider,
          "session-id", G_TYPE_STRING, self->priv->session_id,
          "reason", G_TYPE_STRING, reason, NULL));
}

static const gchar *
error_user_text (GstS2SErrorCode code)
{
  switch (code) {
    case GST_S2S_ERROR_AUTHENTICATION:
      return _("The provider rejected the credentials: check api-key.");
    case GST_S2S_ERROR_AUTHORIZATION:
      return _("The credentials may not use this model or endpoint: check "
          "api-key, model and url.");
    case GST_S2S_ERROR_RATE_LIMIT:
      return _("The provider is limiting the request rate: retry later.");
    case GST_S2S_ERROR_QUOTA:
      return _("The account has no quota left: check billing with the "
          "provider.");
    case GST_S2S_ERROR_INVALID_REQUEST:
      return _("The provider rejected a request: check the element's "
          "settings.");
    case GST_S2S_ERROR_INVALID_CONFIG:
      return _("Invalid configuration.");
    case GST_S2S_ERROR_NETWORK:
      return _("Could not talk to the provider: check url, proxy and the "
          "network.");
    case GST_S2S_ERROR_TIMEOUT:
      return _("The provider did not answer in time: check url and the "
          "network, or raise connect-timeout.");
    case GST_S2S_ERROR_SESSION_EXPIRED:
      return _("The provider ended the session at its time limit.");
    case GST_S2S_ERROR_SERVER_ERROR:
      return _("The provider reported an internal error: retry later.");
    case GST_S2S_ERROR_PROTOCOL:
      return _("The provider sent data that could not be understood.");
    case GST_S2S_ERROR_AUDIO_FORMAT:
      return _("Unsupported audio format: put audioconvert and "
          "audioresample before the element.");
  }
  return _("Speech-to-speech session failed.");
}

static void
error_domain_code (GstS2SErrorCode code, GQuark * domain, gint * gcode)
{
  switch (code) {
    case GST_S2S_ERROR_AUTHENTICATION:
    case GST_S2S_ERROR_AUTHORIZATION:
      *domain = GST_RESOURCE_ERROR;
      *gcode = GST_RESOURCE_ERROR_NOT_AUTHORIZED;
      break;
    case GST_S2S_ERROR_NETWORK:
    case GST_S2S_ERROR_TIMEOUT:
      *domain = GST_RESOURCE_ERROR;
      *gcode = GST_RESOURCE_ERROR_OPEN_READ_WRITE;
      break;
    case GST_S2S_ERROR_RATE_LIMIT:
    case GST_S2S_ERROR_QUOTA:
      *domain = GST_RESOURCE_ERROR;
      *gcode = GST_RESOURCE_ERROR_BUSY;
      break;
    case GST_S2S_ERROR_INVALID_CONFIG:
      *domain = GST_RESOURCE_ERROR;
      *gcode = GST_RESOURCE_ERROR_SETTINGS;
      break;
    case GST_S2S_ERROR_AUDIO_FORMAT:
      *domain = GST_STREAM_ERROR;
      *gcode = GST_STREAM_ERROR_FORMAT;
      break;
    default:
      *domain = GST_STREAM_ERROR;
      *gcode = GST_STREAM_ERROR_FAILED;
      break;
  }
}

typedef struct
{
  GstS2SErrorCode code;
  gboolean fatal;
  gboolean retryable;
  guint http_status;
  gint close_code;
  const gchar *provider_code;
  const gchar *provider_message;
  const gchar *user_text;       /* NULL: the code's text */
  const gchar *debug;
} ErrorReport;

static void stop_session_on_io (GstS2SBase * self);

/* A provider's error text may quote the credential it refused: OpenAI
 * answers a wrong key with "Incorrect API key provided: sk-abc***…wxyz.".
 * Such a fragment never reaches the application, the log or stats: every
 * word holding "***" (a masked secret) or the start of the configured key
 * becomes "[redacted]". */
static gchar *
redact_secret_fragments (const gchar * text, const gchar * key)
{
  GString *out;
  const gchar *p = text;
  gsize key_len = key ? strlen (key) : 0;

  if (text == NULL)
    return NULL;
  out = g_string_sized_new (strlen (text));
  while (*p) {
    const gchar *start = p, *end;
    gsize lead, n;

    if (g_ascii_isspace (*p)) {
      g_string_append_c (out, *p++);
      continue;
    }
    while (*p && !g_ascii_isspace (*p))
      p++;
    /* the word without the punctuation around it */
    lead = strspn (start, "(\"'");
    end = p;
    while (end > start + lead && strchr (".,;:)\"'", end[-1]))
      end--;
    n = end > start + lead ? (gsize) (end - start - lead) : 0;
    if (n > 0 && (g_strstr_len (start + lead, n, "***") ||
            (key_len >= 8 && n >= 6 && strncmp (start + lead, key, 6) == 0)
            || (key_len >= 8 && g_strstr_len (start + lead, n, key)))) {
      g_string_append_len (out, start, lead);
      g_string_append (out, "[redacted]");
      g_string_append_len (out, end, p - end);
    } else {
      g_string_append_len (out, start, p - start);
    }
  }
  return g_string_free (out, FALSE);
}

static void
post_error_report (GstS2SBase * self, const ErrorReport * r)
{
  GstS2SBaseClass *klass = GST_S2S_BASE_GET_CLASS (self);
  GstStructure *details;
  GQuark domain;
  gint gcode;
  gchar *debug, *pmsg;
  const gchar *detail;

  GST_S2S_BASE_LOCK (self);
  pmsg = redact_secret_fragments (r->provider_message,
      self->priv->config ? self->priv->config->api_key : NULL);
  GST_S2S_BASE_UNLOCK (self);

  details = gst_structure_new ("s2s-error",
      "code", G_TYPE_STRING, gst_s2s_error_code_to_string (r->code),
      "retryable", G_TYPE_BOOLEAN, r->retryable,
      "provider", G_TYPE_STRING, klass->provider, NULL);
  if (r->http_status)
    gst_structure_set (details, "http-status", G_TYPE_UINT, r->http_status,
        NULL);
  if (r->close_code >= 0)
    gst_structure_set (details, "close-code", G_TYPE_UINT,
        (guint) r->close_code, NULL);
  if (r->provider_code)
    gst_structure_set (details, "provider-code", G_TYPE_STRING,
        r->provider_code, NULL);
  if (pmsg)
    gst_structure_set (details, "provider-message", G_TYPE_STRING, pmsg, NULL);

  /* "openai: network: connection closed ..." or "openai: server-error
   * server_error: boom"; without a provider code nothing is printed for it
   * (GST_STR_NULL gave "(NULL)"), and the detail is set off by ": " */
  detail = r->debug ? r->debug : pmsg;
  debug = g_strdup_printf ("%s: %s%s%s%s%s", klass->provider,
      gst_s2s_error_code_to_string (r->code),
      r->provider_code ? " " : "", r->provider_code ? r->provider_code : "",
      detail && *detail ? ": " : "", detail ? detail : "");

  GST_S2S_BASE_LOCK (self);
  g_free (self->priv->last_error);
  self->priv->last_error = g_strdup_printf ("%s%s%s",
      gst_s2s_error_code_to_string (r->code),
      pmsg ? ": " : "", GST_STR_NULL (pmsg));
  GST_S2S_BASE_UNLOCK (self);

  error_domain_code (r->code, &domain, &gcode);
  GST_S2S_CAT_LEVEL_LOG_OBJECT (r->fatal ? GST_LEVEL_ERROR : GST_LEVEL_WARNING,
      self, "%s", debug);
  gst_element_message_full_with_details (GST_ELEMENT (self),
      r->fatal ? GST_MESSAGE_ERROR : GST_MESSAGE_WARNING, domain, gcode,
      g_strdup (r->user_text ? r->user_text : error_user_text (r->code)),
      debug, __FILE__, GST_FUNCTION, __LINE__, details);

  /* Only now does the chain return GST_FLOW_ERROR: upstream then posts its
   * own "internal data stream error", which must come after ours, the one
   * with the cause and the s2s-error details. */
  if (r->fatal) {
    GST_S2S_BASE_LOCK (self);
    self->priv->fatal = TRUE;
    GST_S2S_BASE_SIGNAL (self);
    GST_S2S_BASE_UNLOCK (self);
  }

  if (r->fatal && self->priv->io_ctx &&
      g_main_context_is_owner (self->priv->io_ctx))
    stop_session_on_io (self);
  g_free (pmsg);
}

void
gst_s2s_base_provider_error (GstS2SBase * self, GstS2SErrorCode code,
    gboolean fatal, gboolean retryable, const gchar * provider_code,
    const gchar * provider_message)
{
  ErrorReport r = { code, fatal, retryable, 0, -1, provider_code,
    provider_message, NULL, NULL
  };

  post_error_report (self, &r);
}

static void
post_config_error (GstS2SBase * self, const gchar * property,
    const gchar * problem)
{
  gchar *text = g_strdup_printf (_("Invalid value for property \"%s\": %s."),
      property, problem);
  ErrorReport r = { GST_S2S_ERROR_INVALID_CONFIG, TRUE, FALSE, 0, -1, NULL,
    NULL, text, NULL
  };
  gchar *debug = g_strdup_printf ("property %s: %s", property, problem);

  r.debug = debug;
  post_error_report (self, &r);
  g_free (debug);
  g_free (text);
}

/* ------------------------------------------------------------------------ */
/* I/O thread */

/* The pool (GST_S2S_IO, docs/design.md "I/O threads: a small shared
 * pool"): K threads named s2s-io-N, K = min (CPUs, 4) or
 * GST_S2S_IO_THREADS; "shared" is a pool of one, "element" one thread
 * (s2s-io) per running element as before. An element takes the least used
 * thread when it starts; a thread ends with its last user (elements and
 * holds), so none is left when no element runs. */
#define IO_POOL_MAX 64
/* an element's stop waits this long for its holds (Nova's closing flush) */
#define IO_HOLD_WAIT_MS 2000

struct _S2SIoThread
{
  GThread *thread;
  GMainContext *ctx;
  GMainLoop *loop;
  guint users;                  /* elements and holds; io_pool_lock */
  gint slot;                    /* in io_pool, -1 for an element's own */
};

struct _GstS2SBaseIoHold
{
  GstS2SBase *self;
  S2SIoThread *io;
};

static GMutex io_pool_lock;
static S2SIoThread *io_pool[IO_POOL_MAX];

/* threads in the pool, 0 for one thread per element */
static guint
io_pool_size (void)
{
  static gsize size = 0;

  if (g_once_init_enter (&size)) {
    const gchar *mode = g_getenv ("GST_S2S_IO");
    const gchar *threads = g_getenv ("GST_S2S_IO_THREADS");
    guint64 k = MIN (g_get_num_processors (), 4);

    if (!g_strcmp0 (mode, "element")) {
      k = 0;
    } else if (!g_strcmp0 (mode, "shared")) {
      k = 1;
    } else {
      if (mode && *mode && g_strcmp0 (mode, "pool"))
        GST_WARNING ("GST_S2S_IO=%s unknown (pool, shared, element): pool",
            mode);
      if (threads && *threads && !g_ascii_string_to_unsigned (threads, 10, 1,
              IO_POOL_MAX, &k, NULL)) {
        k = MIN (g_get_num_processors (), 4);
        GST_WARNING ("GST_S2S_IO_THREADS=%s not in 1..%d: %" G_GUINT64_FORMAT,
            threads, IO_POOL_MAX, k);
      }
    }
    g_once_init_leave (&size, k + 1);
  }
  return size - 1;
}

static gpointer
io_thread_func (gpointer data)
{
  S2SIoThread *t = data;

  g_main_context_push_thread_default (t->ctx);
  g_main_loop_run (t->loop);
  /* Let cancelled operations deliver their callbacks so nothing they hold
   * leaks; bounded, never a hang. */
  {
    gint64 end = g_get_monotonic_time () + 50 * G_TIME_SPAN_MILLISECOND;
    while (g_main_context_pending (t->ctx) && g_get_monotonic_time () < end)
      g_main_context_iteration (t->ctx, FALSE);
  }
  g_main_context_pop_thread_default (t->ctx);
  g_main_loop_unref (t->loop);
  g_main_context_unref (t->ctx);
  g_free (t);
  return NULL;
}

static gboolean
io_thread_quit_cb (gpointer data)
{
  g_main_loop_quit (data);
  return G_SOURCE_REMOVE;
}

/* A user more on the least used thread of the pool, started if need be */
static S2SIoThread *
io_thread_acquire (void)
{
  guint k = io_pool_size (), i;
  gint slot = -1;
  S2SIoThread *t = NULL;

  g_mutex_lock (&io_pool_lock);
  for (i = 0; i < k; i++) {
    if (io_pool[i] == NULL) {
      slot = i;
      t = NULL;
      break;
    }
    if (t == NULL || io_pool[i]->users < t->users)
      t = io_pool[i];
  }
  if (t == NULL) {
    gchar *name = slot < 0 ? g_strdup ("s2s-io") :
        g_strdup_printf ("s2s-io-%d", slot);

    t = g_new0 (S2SIoThread, 1);
    t->slot = slot;
    t->ctx = g_main_context_new ();
    t->loop = g_main_loop_new (t->ctx, FALSE);
    t->thread = g_thread_new (name, io_thread_func, t);
    g_free (name);
    if (slot >= 0)
      io_pool[slot] = t;
  }
  t->users++;
  g_mutex_unlock (&io_pool_lock);
  return t;
}

/* One user less: the last ends the thread (joined unless it is this one) */
static void
io_thread_release (S2SIoThread * t)
{
  GThread *thread = NULL;

  g_mutex_lock (&io_pool_lock);
  if (--t->users == 0) {
    GSource *src = g_idle_source_new ();
    /* The thread may run the source, quit and drop its context before
     * this unrefs the source, whose last unref still reaches into the
     * context it was attached to (freed memory under valgrind): hold the
     * context until then. t itself may be gone once the source is in. */
    GMainContext *ctx = g_main_context_ref (t->ctx);

    if (t->slot >= 0)
      io_pool[t->slot] = NULL;
    thread = t->thread;
    /* quit from inside the loop: a quit before it runs would be lost */
    g_source_set_callback (src, io_thread_quit_cb, t->loop, NULL);
    g_source_attach (src, ctx);
    g_source_unref (src);
    g_main_context_unref (ctx);
  }
  g_mutex_unlock (&io_pool_lock);
  if (thread == NULL)
    return;
  if (thread == g_thread_self ())
    g_thread_unref (thread);
  else
    g_thread_join (thread);
}

/* A source of this element on its I/O context: io_tasks keeps it until it
 * is gone, and stopping the element destroys what is left. */
typedef struct
{
  GstS2SBase *self;
  GSourceFunc func;
  gpointer data;
  GDestroyNotify notify;
  GSource *src;                 /* no reference: out of io_tasks first */
} IoTask;

static gboolean
io_task_dispatch (gpointer data)
{
  IoTask *t = data;

  return t->func (t->data);
}

static void
io_task_free (gpointer data)
{
  IoTask *t = data;
  GstS2SBasePrivate *priv = t->self->priv;

  g_mutex_lock (&priv->io_lock);
  g_ptr_array_remove_fast (priv->io_tasks, t);
  g_mutex_unlock (&priv->io_lock);
  if (t->notify)
    t->notify (t->data);
  g_free (t);
}

void
gst_s2s_base_io_attach (GstS2SBase * self, GSource * src, GSourceFunc func,
    gpointer data, GDestroyNotify notify)
{
  GstS2SBasePrivate *priv = self->priv;
  IoTask *t;

  g_mutex_lock (&priv->io_lock);
  if (priv->io_ctx == NULL || priv->io_closed) {
    /* stopped: nothing runs for it any more */
    g_mutex_unlock (&priv->io_lock);
    if (notify)
      notify (data);
    return;
  }
  t = g_new (IoTask, 1);
  t->self = self;
  t->func = func;
  t->data = data;
  t->notify = notify;
  t->src = src;
  g_source_set_callback (src, io_task_dispatch, t, io_task_free);
  g_ptr_array_add (priv->io_tasks, t);
  g_source_attach (src, priv->io_ctx);
  g_mutex_unlock (&priv->io_lock);
}

/* I/O thread, at stop: this element's sources go, the others' stay */
static void
io_close_tasks (GstS2SBase * self)
{
  GstS2SBasePrivate *priv = self->priv;
  GPtrArray *srcs = g_ptr_array_new_with_free_func ((GDestroyNotify)
      g_source_unref);
  guint i;

  g_mutex_lock (&priv->io_lock);
  priv->io_closed = TRUE;
  for (i = 0; i < priv->io_tasks->len; i++)
    g_ptr_array_add (srcs, g_source_ref (((IoTask *)
                g_ptr_array_index (priv->io_tasks, i))->src));
  g_mutex_unlock (&priv->io_lock);
  for (i = 0; i < srcs->len; i++)
    g_source_destroy (g_ptr_array_index (srcs, i));
  g_ptr_array_unref (srcs);
}

GstS2SBaseIoHold *
gst_s2s_base_io_hold (GstS2SBase * self)
{
  GstS2SBaseIoHold *hold = g_new (GstS2SBaseIoHold, 1);

  hold->self = gst_object_ref (self);
  hold->io = self->priv->io;
  g_mutex_lock (&io_pool_lock);
  hold->io->users++;
  g_mutex_unlock (&io_pool_lock);
  GST_S2S_BASE_LOCK (self);
  self->priv->io_holds++;
  GST_S2S_BASE_UNLOCK (self);
  return hold;
}

void
gst_s2s_base_io_release (GstS2SBaseIoHold * hold)
{
  GstS2SBase *self = hold->self;

  GST_S2S_BASE_LOCK (self);
  self->priv->io_holds--;
  GST_S2S_BASE_SIGNAL (self);
  GST_S2S_BASE_UNLOCK (self);
  io_thread_release (hold->io);
  gst_object_unref (self);
  g_free (hold);
}

static void
io_invoke (GstS2SBase * self, GSourceFunc func, gpointer data,
    GDestroyNotify notify)
{
  GSource *src = g_idle_source_new ();

  g_source_set_priority (src, G_PRIORITY_DEFAULT);
  gst_s2s_base_io_attach (self, src, func, data, notify);
  g_source_unref (src);
}

static gboolean
transport_send (GstS2SBase * self, const guint8 * data, gsize len,
    gboolean binary)
{
  GstS2SBaseClass *klass = GST_S2S_BASE_GET_CLASS (self);

  if (klass->open_transport)
    return self->priv->own_transport &&
        klass->transport_send (self, data, len, binary);
  if (binary)
    return gst_s2s_ws_send_binary (self->priv->ws, data, len);
  return gst_s2s_ws_send_text (self->priv->ws, (const gchar *) data, len);
}

void
gst_s2s_base_send_binary (GstS2SBase * self, const guint8 * data, gsize len)
{
  if (!transport_send (self, data, len, TRUE)) {
    GST_DEBUG_OBJECT (self, "not connected, dropping %" G_GSIZE_FORMAT
        " bytes", len);
    return;
  }
  GST_LOG_OBJECT (self, "sent %" G_GSIZE_FORMAT " binary bytes", len);
}

void
gst_s2s_base_send (GstS2SBase * self, const gchar * text, gssize len)
{
  if (len < 0)
    len = strlen (text);
  if (!transport_send (self, (const guint8 *) text, len, FALSE)) {
    GST_DEBUG_OBJECT (self, "not connected, dropping %" G_GSSIZE_FORMAT
        " bytes", len);
    return;
  }
  /* events can carry user text: log only their size and type prefix */
  GST_LOG_OBJECT (self, "sent %" G_GSSIZE_FORMAT " bytes: %.48s", len, text);
}

void
gst_s2s_base_send_json (GstS2SBase * self, JsonNode * node)
{
  JsonGenerator *gen = json_generator_new ();
  gsize len;
  gchar *text;

  json_generator_set_root (gen, node);
  text = json_generator_to_data (gen, &len);
  gst_s2s_base_send (self, text, len);
  g_free (text);
  g_object_unref (gen);
}

const GstS2SAudioFormat *
gst_s2s_base_get_out_format (GstS2SBase * self)
{
  return &self->priv->out_format;
}

static void flush_input_on_io (GstS2SBase * self);

static gboolean
flush_input_cb (gpointer data)
{
  flush_input_on_io (GST_S2S_BASE (data));
  return G_SOURCE_REMOVE;
}

/* lock held */
static void
schedule_input_flush_locked (GstS2SBase * self)
{
  if (self->priv->in_flush_scheduled || self->priv->io_ctx == NULL)
    return;
  self->priv->in_flush_scheduled = TRUE;
  io_invoke (self, flush_input_cb, gst_object_ref (self),
      (GDestroyNotify) gst_object_unref);
}

void
gst_s2s_base_requeue_input (GstS2SBase * self, const guint8 * data, gsize size)
{
  if (size == 0)
    return;
  GST_S2S_BASE_LOCK (self);
  g_byte_array_prepend (self->priv->in_pending, data, size);
  /* counted when it went out the first time */
  self->priv->uncommitted_bytes -= MIN (self->priv->uncommitted_bytes, size);
  schedule_input_flush_locked (self);
  GST_S2S_BASE_UNLOCK (self);
}

gboolean
gst_s2s_base_input_queued (GstS2SBase * self)
{
  gboolean queued;

  GST_S2S_BASE_LOCK (self);
  queued = self->priv->in_pending->len > 0 || self->priv->in_flush_scheduled;
  GST_S2S_BASE_UNLOCK (self);
  return queued;
}

static void
request_response_on_io (GstS2SBase * self)
{
  GstS2SBaseClass *klass = GST_S2S_BASE_GET_CLASS (self);
  gboolean now;

  GST_S2S_BASE_LOCK (self);
  /* tool results still queued for this thread go out before the request */
  now = !self->priv->response_active &&
      g_hash_table_size (self->priv->pending_calls) == 0 &&
      self->priv->tool_results_queued == 0;
  if (now) {
    self->priv->awaiting_response = TRUE;
    /* this response covers every result so far: none is owed after it */
    self->priv->create_after_done = FALSE;
  } else {
    self->priv->create_after_done = TRUE;
  }
  GST_S2S_BASE_UNLOCK (self);

  if (now && klass->create_response)
    klass->create_response (self);
}

/* The input ended: finish the user turn so the reply comes, then the src
 * task pushes EOS once it is out (or eos-timeout passes). */
static void
handle_input_eos_on_io (GstS2SBase * self)
{
  GstS2SBasePrivate *priv = self->priv;
  GstS2SBaseClass *klass = GST_S2S_BASE_GET_CLASS (self);
  GstS2SConfig *c = priv->config;
  gboolean speaking, enough;
  guint64 pad_bytes = 0;

  GST_S2S_BASE_LOCK (self);
  priv->eos_handled = TRUE;
  speaking = priv->user_speaking;
  enough = priv->uncommitted_bytes >= time_to_bytes (&c->in_format,
      MIN_COMMIT_MS * GST_MSECOND);
  priv->eos_deadline = g_get_monotonic_time () +
      (gint64) priv->eos_timeout_ms * G_TIME_SPAN_MILLISECOND;
  if (c->turn_detection == GST_S2S_TURN_DETECTION_NONE && enough) {
    priv->awaiting_response = TRUE;
    priv->uncommitted_bytes = 0;
    priv->turns++;
  } else if (c->turn_detection != GST_S2S_TURN_DETECTION_NONE &&
      (speaking || enough)) {
    /* The provider's VAD ends the turn on silence; give it that silence
     * instead of cutting the turn short with a commit. The audio since the
     * last turn may hold speech the server has not reported yet (all of it
     * is sent at once when the session became ready late): wait a moment
     * for its verdict before EOS. */
    gint silence = c->silence_duration >= 0 ? c->silence_duration : 500;
    pad_bytes = time_to_bytes (&c->in_format, (silence + 300) * GST_MSECOND);
    priv->eos_settle_until = g_get_monotonic_time () +
        (EOS_SETTLE_MS + silence) * G_TIME_SPAN_MILLISECOND;
  }
  GST_S2S_BASE_SIGNAL (self);
  GST_S2S_BASE_UNLOCK (self);

  GST_DEBUG_OBJECT (self, "input EOS: speaking %d, padding %" G_GUINT64_FORMAT
      " bytes", speaking, pad_bytes);

  if (c->turn_detection == GST_S2S_TURN_DETECTION_NONE && enough) {
    klass->commit (self);
  } else if (pad_bytes > 0) {
    guint8 *silence = g_malloc (pad_bytes);
    memset (silence, silence_byte (&c->in_format), pad_bytes);
    klass->send_audio (self, silence, pad_bytes);
    g_free (silence);
  }
}

static void
flush_input_on_io (GstS2SBase * self)
{
  GstS2SBasePrivate *priv = self->priv;
  GstS2SBaseClass *klass = GST_S2S_BASE_GET_CLASS (self);
  GByteArray *pending;
  gboolean eos, post = FALSE;
  guint64 offset;

  GST_S2S_BASE_LOCK (self);
  priv->in_flush_scheduled = FALSE;
  /* a socket that closed under us (its callback is on the way) keeps the
   * input: a successor connection may yet send it */
  if (!priv->session_ready || priv->fatal ||
      (priv->ws && !gst_s2s_ws_is_open (priv->ws))) {
    GST_S2S_BASE_UNLOCK (self);
    return;
  }
  pending = priv->in_pending;
  priv->in_pending = priv->in_spare;
  priv->in_spare = NULL;
  priv->uncommitted_bytes += pending->len;
  offset = priv->bytes_in;
  eos = priv->in_eos;
  priv->in_flushing = TRUE;
  GST_S2S_BASE_UNLOCK (self);

  if (pending->len > 0)
    klass->send_audio (self, pending->data, pending->len);
  GST_S2S_BASE_LOCK (self);
  priv->in_flushing = FALSE;
  /* what the chain queued meanwhile follows at once */
  if (priv->in_pending->len > 0)
    schedule_input_flush_locked (self);
  if (pending->len > 0 && priv->traced)
    post = gst_s2s_trace_handoff (priv->trace, offset,
        current_running_time (self));
  g_byte_array_set_size (pending, 0);
  priv->in_spare = pending;
  GST_S2S_BASE_UNLOCK (self);
  if (post)
    post_trace_records (self, GST_CLOCK_TIME_NONE);

  if (eos && !priv->eos_handled)
    handle_input_eos_on_io (self);
}

static void
ws_opened (gpointer user_data)
{
  GstS2SBase *self = user_data;
  GstS2SBaseClass *klass = GST_S2S_BASE_GET_CLASS (self);

  GST_INFO_OBJECT (self, "connected%s", self->priv->renewing ?
      " (successor)" : "");
  self->priv->session_open = TRUE;
  if (self->priv->renewing && klass->session_resume)
    klass->session_resume (self, self->priv->config);
  else
    klass->session_open (self, self->priv->config);
}

static void
ws_message (GBytes * data, gboolean binary, gpointer user_data)
{
  GstS2SBase *self = user_data;
  GstS2SBaseClass *klass = GST_S2S_BASE_GET_CLASS (self);

  klass->handle_message (self, data, binary);
}

static void
map_close_code (GstS2SBase * self, gushort code, const gchar * reason,
    GstS2SErrorCode * ec, gboolean * retryable)
{
  GstS2SBaseClass *klass = GST_S2S_BASE_GET_CLASS (self);

  if (klass->map_close && klass->map_close (self, code, reason, ec, retryable))
    return;

  switch (code) {
    case SOUP_WEBSOCKET_CLOSE_GOING_AWAY:
      *ec = GST_S2S_ERROR_SESSION_EXPIRED;
      *retryable = TRUE;
      break;
    case SOUP_WEBSOCKET_CLOSE_SERVER_ERROR:
    case 1013:                 /* try again later */
      *ec = GST_S2S_ERROR_SERVER_ERROR;
      *retryable = TRUE;
      break;
    case SOUP_WEBSOCKET_CLOSE_POLICY_VIOLATION:
    case SOUP_WEBSOCKET_CLOSE_UNSUPPORTED_DATA:
    case SOUP_WEBSOCKET_CLOSE_BAD_DATA:
    case SOUP_WEBSOCKET_CLOSE_TOO_BIG:
    case SOUP_WEBSOCKET_CLOSE_PROTOCOL_ERROR:
      *ec = GST_S2S_ERROR_PROTOCOL;
      *retryable = FALSE;
      break;
    default:
      if (code >= 4000) {
        *ec = GST_S2S_ERROR_INVALID_REQUEST;
        *retryable = FALSE;
      } else {
        /* 1000 or 1005/1006 (no close frame): the connection just went */
        *ec = GST_S2S_ERROR_NETWORK;
        *retryable = TRUE;
      }
      break;
  }
}

static void begin_renewal (GstS2SBase * self, const gchar * state,
    const gchar * reason, gboolean reconnect);
static void clear_deferred_locked (GstS2SBase * self);
static void run_deferred (GstS2SBase * self);

void
gst_s2s_base_connection_lost (GstS2SBase * self, gushort close_code,
    const gchar * reason)
{
  ErrorReport r = { GST_S2S_ERROR_NETWORK, TRUE, TRUE, 0, close_code, NULL,
    reason, NULL, NULL
  };
  gchar *debug;

  GstS2SBaseClass *klass = GST_S2S_BASE_GET_CLASS (self);
  gboolean resume;

  GST_S2S_BASE_LOCK (self);
  if (self->priv->fatal || self->priv->stopping) {
    GST_S2S_BASE_UNLOCK (self);
    return;
  }
  GST_S2S_BASE_UNLOCK (self);

  map_close_code (self, close_code, reason, &r.code, &r.retryable);
  debug = g_strdup_printf ("connection closed by the server, code %u%s%s",
      close_code, reason && *reason ? ": " : "", reason ? reason : "");
  r.debug = debug;
  if (reason && *reason == '\0')
    r.provider_message = NULL;

  /* a successor that fails before it is ready is not retried: the error
   * stands, so a refused resume cannot loop */
  resume = !self->priv->renewing && klass->can_resume &&
      self->priv->resume_failures < MAX_RESUME_FAILURES &&
      klass->can_resume (self, close_code, reason);
  if (resume) {
    self->priv->resume_failures++;
    r.fatal = FALSE;
    post_error_report (self, &r);
    begin_renewal (self, "reconnecting", debug, TRUE);
  } else {
    post_session_state (self, "closed", debug);
    post_error_report (self, &r);
  }
  g_free (debug);
}

static void
ws_closed (gushort code, const gchar * reason, gpointer user_data)
{
  gst_s2s_base_connection_lost (GST_S2S_BASE (user_data), code, reason);
}

static void
ws_failed (const GError * error, guint http_status, const gchar * body,
    gpointer user_data)
{
  GstS2SBase *self = user_data;
  ErrorReport r = { GST_S2S_ERROR_NETWORK, TRUE, TRUE, http_status, -1, NULL,
    NULL, NULL, NULL
  };
  gchar *debug, *provider_message = NULL, *provider_code = NULL;

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT)) {
    r.code = GST_S2S_ERROR_TIMEOUT;
  } else if (http_status == 401) {
    r.code = GST_S2S_ERROR_AUTHENTICATION;
    r.retryable = FALSE;
  } else if (http_status == 403) {
    r.code = GST_S2S_ERROR_AUTHORIZATION;
    r.retryable = FALSE;
  } else if (http_status == 429) {
    r.code = GST_S2S_ERROR_RATE_LIMIT;
  } else if (http_status >= 500) {
    r.code = GST_S2S_ERROR_SERVER_ERROR;
  } else if (http_status >= 400) {
    r.code = GST_S2S_ERROR_INVALID_REQUEST;
    r.retryable = FALSE;
  } else if (error->domain == G_TLS_ERROR) {
    r.retryable = FALSE;
  }

  /* the refused upgrade's body: {"error":{"message":…, "code"|"status":…}}
   * (OpenAI, xAI and Google all answer so) */
  if (body && *body && http_status >= 400) {
    JsonParser *parser = json_parser_new ();

    if (json_parser_load_from_data (parser, body, -1, NULL) &&
        JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser))) {
      JsonObject *o = json_node_get_object (json_parser_get_root (parser));
      JsonNode *e = json_object_get_member (o, "error");

      if (e && JSON_NODE_HOLDS_OBJECT (e)) {
        JsonObject *eo = json_node_get_object (e);
        JsonNode *m = json_object_get_member (eo, "message");
        JsonNode *c = json_object_get_member (eo, "code");

        if (c == NULL || json_node_get_value_type (c) != G_TYPE_STRING)
          c = json_object_get_member (eo, "status");
        if (m && json_node_get_value_type (m) == G_TYPE_STRING)
          provider_message = g_strdup (json_node_get_string (m));
        if (c && json_node_get_value_type (c) == G_TYPE_STRING)
          provider_code = g_strdup (json_node_get_string (c));
      }
    }
    g_object_unref (parser);
  }
  r.provider_message = provider_message;
  r.provider_code = provider_code;

  debug = g_strdup_printf ("could not connect (HTTP status %u): %s",
      http_status, error->message);
  r.debug = debug;
  post_session_state (self, "closed", debug);
  post_error_report (self, &r);
  g_free (debug);
  g_free (provider_message);
  g_free (provider_code);
}

static const GstS2SWsCallbacks ws_callbacks = {
  ws_opened, ws_message, ws_closed, ws_failed
};

void
gst_s2s_base_transport_opened (GstS2SBase * self)
{
  ws_opened (self);
}

void
gst_s2s_base_transport_message (GstS2SBase * self, GBytes * data,
    gboolean binary)
{
  ws_message (data, binary, self);
}

void
gst_s2s_base_transport_failed (GstS2SBase * self, const GError * error,
    guint http_status, const gchar * body)
{
  ws_failed (error, http_status, body, self);
}

static void
open_connection (GstS2SBase * self)
{
  GstS2SBaseClass *klass = GST_S2S_BASE_GET_CLASS (self);
  GstS2SConfig *c = self->priv->config;
  SoupMessage *msg;
  GError *err = NULL;

  if (klass->open_transport) {
    self->priv->own_transport = klass->open_transport (self, c, &err);
    if (!self->priv->own_transport) {
      post_config_error (self, "url", err ? err->message : "unusable");
      g_clear_error (&err);
    }
    return;
  }
  msg = klass->build_request (self, c, &err);
  if (msg == NULL) {
    post_config_error (self, "url", err ? err->message : "unusable");
    g_clear_error (&err);
    return;
  }
  g_mutex_lock (&self->priv->direct_lock);
  self->priv->ws = gst_s2s_ws_new (GST_OBJECT (self), &ws_callbacks, self);
  g_mutex_unlock (&self->priv->direct_lock);
  gst_s2s_ws_connect (self->priv->ws, msg, c->ssl_ca_file, c->proxy,
      c->connect_timeout);
  g_object_unref (msg);
}

static gboolean
connect_on_io (gpointer data)
{
  GstS2SBase *self = data;

  post_session_state (self, "connecting", NULL);
  open_connection (self);
  return G_SOURCE_REMOVE;
}

static void
clear_rotation (GstS2SBase * self)
{
  GstS2SBasePrivate *priv = self->priv;

  if (priv->rotation_timer) {
    g_source_destroy (priv->rotation_timer);
    g_source_unref (priv->rotation_timer);
    priv->rotation_timer = NULL;
  }
  priv->rotation_pending = FALSE;
  g_clear_pointer (&priv->rotation_reason, g_free);
}

static void
stop_session_on_io (GstS2SBase * self)
{
  GstS2SBaseClass *klass = GST_S2S_BASE_GET_CLASS (self);

  /* also without an open transport: the provider's timers go */
  if (klass->close_transport)
    klass->close_transport (self);
  self->priv->own_transport = FALSE;
  clear_rotation (self);
  gst_s2s_ws_free (self->priv->closing_ws);
  self->priv->closing_ws = NULL;
  g_mutex_lock (&self->priv->direct_lock);
  gst_s2s_ws_free (self->priv->ws);
  self->priv->ws = NULL;
  g_mutex_unlock (&self->priv->direct_lock);
  self->priv->session_open = FALSE;
  self->priv->session_ready = FALSE;
  GST_S2S_BASE_LOCK (self);
  self->priv->renewing = FALSE;
  clear_deferred_locked (self);
  GST_S2S_BASE_UNLOCK (self);
}

/* ------------------------------------------------------------------------ */
/* Session renewal (I/O thread) */

static gboolean
open_successor_on_io (gpointer data)
{
  GstS2SBase *self = data;

  gst_s2s_ws_free (self->priv->closing_ws);
  self->priv->closing_ws = NULL;
  if (self->priv->renewing && !self->priv->fatal && !self->priv->stopping)
    open_connection (self);
  return G_SOURCE_REMOVE;
}

/* The old connection is closed (from its own callback: free it later) */
static void
old_connection_closed (gpointer user_data)
{
  GstS2SBase *self = user_data;

  io_invoke (self, open_successor_on_io, gst_object_ref (self),
      (GDestroyNotify) gst_object_unref);
}

/* Stops input and actions, closes the connection in order, then opens its
 * successor. A response cut short here ends "incomplete": its audio so far
 * stays on the timeline, nothing of it is asked for again. */
static void
begin_renewal (GstS2SBase * self, const gchar * state, const gchar * reason,
    gboolean reconnect)
{
  GstS2SBasePrivate *priv = self->priv;
  gchar *resp_id;
  gboolean cut;

  clear_rotation (self);
  GST_S2S_BASE_LOCK (self);
  priv->session_ready = FALSE;
  priv->renewing = TRUE;
  priv->user_speaking = FALSE;
  cut = priv->response_active;
  resp_id = g_strdup (priv->response_id);
  if (reconnect)
    priv->reconnects++;
  else
    priv->rotations++;
  GST_S2S_BASE_UNLOCK (self);

  GST_INFO_OBJECT (self, "%s: %s", state, GST_STR_NULL (reason));
  if (cut)
    gst_s2s_base_response_done (self, resp_id, "incomplete");
  g_free (resp_id);
  post_session_state (self, state, reason);

  priv->session_open = FALSE;
  /* a provider transport (Nova's HTTP/2 stream) is closed by the provider
   * at once, without blocking; the successor comes from open_connection ->
   * open_transport like the first connection */
  if (priv->own_transport) {
    GST_S2S_BASE_GET_CLASS (self)->close_transport (self);
    priv->own_transport = FALSE;
  }
  g_mutex_lock (&priv->direct_lock);
  priv->closing_ws = priv->ws;
  priv->ws = NULL;
  g_mutex_unlock (&priv->direct_lock);
  if (priv->closing_ws)
    gst_s2s_ws_close (priv->closing_ws, ROTATION_DRAIN_MS,
        ROTATION_CLOSE_TIMEOUT_MS, old_connection_closed, self);
  else
    old_connection_closed (self);
}

static gboolean
at_turn_boundary (GstS2SBase * self)
{
  GstS2SBasePrivate *priv = self->priv;
  GstS2SBaseClass *klass = GST_S2S_BASE_GET_CLASS (self);
  gboolean idle;

  GST_S2S_BASE_LOCK (self);
  idle = priv->session_ready && !priv->response_active &&
      !priv->awaiting_response && !priv->user_speaking &&
      g_hash_table_size (priv->pending_calls) == 0;
  GST_S2S_BASE_UNLOCK (self);
  return idle && (klass->rotation_ready == NULL
      || klass->rotation_ready (self));
}

static gboolean
rotation_tick (gpointer data)
{
  GstS2SBase *self = data;
  GstS2SBasePrivate *priv = self->priv;
  gboolean forced;
  gchar *reason;

  if (priv->fatal || priv->stopping || priv->renewing)
    return G_SOURCE_CONTINUE;
  forced = g_get_monotonic_time () >= priv->rotation_deadline_us;
  if (!forced && !at_turn_boundary (self))
    return G_SOURCE_CONTINUE;

  reason = g_strdup_printf ("%s%s", GST_STR_NULL (priv->rotation_reason),
      forced ? " (deadline, not at a turn boundary)" : "");
  begin_renewal (self, "rotating", reason, FALSE);
  g_free (reason);
  /* begin_renewal destroyed this source */
  return G_SOURCE_REMOVE;
}

void
gst_s2s_base_request_rotation (GstS2SBase * self, GstClockTime time_left,
    const gchar * reason)
{
  GstS2SBasePrivate *priv = self->priv;
  gint64 deadline = g_get_monotonic_time ();

  if (priv->renewing || priv->fatal || priv->stopping || priv->io_ctx == NULL)
    return;
  if (GST_CLOCK_TIME_IS_VALID (time_left))
    deadline += (gint64) ((time_left - MIN (time_left / 4,
                ROTATION_MAX_MARGIN)) / GST_USECOND);
  if (!priv->rotation_pending || deadline < priv->rotation_deadline_us)
    priv->rotation_deadline_us = deadline;
  priv->rotation_pending = TRUE;
  g_free (priv->rotation_reason);
  priv->rotation_reason = g_strdup (reason);
  GST_INFO_OBJECT (self, "rotation requested (%s), %" G_GINT64_FORMAT
      " ms to go", GST_STR_NULL (reason),
      (priv->rotation_deadline_us - g_get_monotonic_time ()) / 1000);

  if (priv->rotation_timer == NULL) {
    priv->rotation_timer = g_timeout_source_new (ROTATION_TICK_MS);
    gst_s2s_base_io_attach (self, priv->rotation_timer, rotation_tick, self,
        NULL);
  }
}

gboolean
gst_s2s_base_is_renewing (GstS2SBase * self)
{
  return self->priv->renewing;
}

gchar *
gst_s2s_base_dup_conversation (GstS2SBase * self)
{
  gchar *json;

  GST_S2S_BASE_LOCK (self);
  json = conv_to_json (self);
  GST_S2S_BASE_UNLOCK (self);
  return json;
}

static gboolean
shutdown_on_io (gpointer data)
{
  GstS2SBase *self = data;

  stop_session_on_io (self);
  io_close_tasks (self);
  GST_S2S_BASE_LOCK (self);
  self->priv->io_shutdown_done = TRUE;
  GST_S2S_BASE_SIGNAL (self);
  GST_S2S_BASE_UNLOCK (self);
  return G_SOURCE_REMOVE;
}

/* ------------------------------------------------------------------------ */
/* Provider callbacks (I/O thread) */

void
gst_s2s_base_session_ready (GstS2SBase * self, const gchar * session_id)
{
  GstS2SBasePrivate *priv = self->priv;
  GstS2SBaseClass *klass = GST_S2S_BASE_GET_CLASS (self);
  JsonArray *seed = NULL;
  gboolean resumed;

  if (priv->session_ready)
    return;

  g_free (priv->session_id);
  priv->session_id = g_strdup (session_id);
  if (priv->session_start_us == 0)
    priv->session_start_us = g_get_monotonic_time ();

  /* the history is sent before any audio, so the first turn has it */
  if (!priv->history_sent) {
    priv->history_sent = TRUE;
    GST_OBJECT_LOCK (self);
    if (priv->history_json)
      seed = gst_s2s_parse_history (priv->history_json, NULL);
    GST_OBJECT_UNLOCK (self);
    if (seed && json_array_get_length (seed) > 0 && klass->send_history)
      klass->send_history (self, seed);
    if (seed)
      json_array_unref (seed);
  }

  set_log_tag (self, session_id);

  GST_S2S_BASE_LOCK (self);
  priv->session_ready = TRUE;
  resumed = priv->renewing;
  priv->renewing = FALSE;
  GST_S2S_BASE_UNLOCK (self);

  GST_INFO_OBJECT (self, "session %s ready%s", GST_STR_NULL (session_id),
      resumed ? " (successor)" : "");
  post_session_state (self, "ready", resumed ? "resumed" : NULL);
  /* input queued during the switch first, then what the app asked for */
  flush_input_on_io (self);
  run_deferred (self);
}

/* Stops the model: drops queued output and the rest of the response in
 * progress, cancels it unless the server does so itself, and tells the
 * provider how much of the audio item the user heard. Nothing happens when
 * the model was not speaking. */
static void
barge_in_on_io (GstS2SBase * self, gboolean server_cancels)
{
  GstS2SBasePrivate *priv = self->priv;
  GstS2SBaseClass *klass = GST_S2S_BASE_GET_CLASS (self);
  GstClockTime now = current_running_time (self);
  GstClockTime pushed, played = 0, received = 0;
  gboolean barge_in, cancel = FALSE, truncate = FALSE;
  gchar *resp_id = NULL, *audio_item = NULL;

  GST_S2S_BASE_LOCK (self);
  pushed = gst_s2s_audio_format_bytes_to_time (&priv->out_format,
      priv->item_pushed_bytes);
  if (priv->audio_item_id && GST_CLOCK_TIME_IS_VALID (priv->item_first_pts)) {
    played = pushed;
    if (GST_CLOCK_TIME_IS_VALID (now)) {
      GstClockTime heard_until = now > priv->pipeline_latency ?
          now - priv->pipeline_latency : 0;
      played = heard_until > priv->item_first_pts ?
          MIN (heard_until - priv->item_first_pts, pushed) : 0;
    }
    received = gst_s2s_audio_format_bytes_to_time (&priv->out_format,
        priv->item_received_bytes);
  }
  /* the model is speaking if output is queued, pushed but not heard yet, or
   * still being generated */
  barge_in = priv->response_active || !g_queue_is_empty (&priv->out_queue) ||
      (priv->audio_item_id && played < received);
  if (barge_in) {
    ConvItem *it;

    g_queue_clear_full (&priv->out_queue, (GDestroyNotify) gst_buffer_unref);
    priv->out_end = priv->pushed_end;
    priv->need_discont = TRUE;
    priv->interruptions++;
    resp_id = g_strdup (priv->response_id);
    if (priv->response_active) {
      g_free (priv->interrupted_response_id);
      priv->interrupted_response_id = g_strdup (priv->response_id);
      cancel = !server_cancels;
    }
    /* Only an item with audio the user has not heard is cut: when the
     * last item was heard to the end (the barge-in hit a new response
     * that has no audio yet), truncating it would be a needless request
     * and would mark a fully heard reply "interrupted" in the history.
     * An item of the response still being generated is unheard past
     * what arrived, even when all that arrived was heard (an underrun). */
    if (priv->audio_item_id && priv->item_received_bytes > 0 &&
        (played < received || (priv->response_active &&
                priv->response_first_audio))) {
      truncate = TRUE;
      audio_item = g_strdup (priv->audio_item_id);
      it = conv_find (self, priv->audio_item_id);
      if (it)
        it->audio_played = played;
      /* what was not heard is gone: no more pushes count for this item */
      priv->item_received_bytes = time_to_bytes (&priv->out_format, played);
      priv->item_pushed_bytes = MIN (priv->item_pushed_bytes,
          priv->item_received_bytes);
    }
  }
  GST_S2S_BASE_SIGNAL (self);
  GST_S2S_BASE_UNLOCK (self);

  if (barge_in) {
    GST_INFO_OBJECT (self, "barge-in: played %" GST_TIME_FORMAT " of %"
        GST_TIME_FORMAT, GST_TIME_ARGS (played), GST_TIME_ARGS (received));
    post_element_message (self, gst_structure_new ("s2s-response",
            "event", G_TYPE_STRING, "interrupted",
            "response-id", G_TYPE_STRING, resp_id,
            "audio-duration", G_TYPE_UINT64, received,
            "played-duration", G_TYPE_UINT64, played, NULL));
    if (cancel && klass->cancel_response)
      klass->cancel_response (self, resp_id);
    if (truncate && klass->truncate)
      klass->truncate (self, audio_item, (guint) (played / GST_MSECOND));
  }
  g_free (resp_id);
  g_free (audio_item);
}

void
gst_s2s_base_speech_started (GstS2SBase * self, const gchar * item_id)
{
  GST_S2S_BASE_LOCK (self);
  self->priv->user_speaking = TRUE;
  GST_S2S_BASE_UNLOCK (self);
  if (self->priv->traced)
    gst_s2s_trace_speech (self->priv->trace, TRUE);

  post_element_message (self, gst_structure_new ("s2s-speech",
          "event", G_TYPE_STRING, "started", "item-id", G_TYPE_STRING, item_id,
          NULL));
  barge_in_on_io (self,
      GST_S2S_BASE_GET_CLASS (self)->server_cancels_on_speech);
}

void
gst_s2s_base_speech_stopped (GstS2SBase * self, const gchar * item_id)
{
  GstS2SBasePrivate *priv = self->priv;

  GST_S2S_BASE_LOCK (self);
  priv->user_speaking = FALSE;
  priv->uncommitted_bytes = 0;
  priv->turn_end_rt = current_running_time (self);
  /* the provider answers by itself unless the app does the reasoning */
  if (priv->config && priv->config->turn_detection !=
      GST_S2S_TURN_DETECTION_NONE &&
      priv->config->reasoning == GST_S2S_REASONING_BUILT_IN)
    priv->awaiting_response = TRUE;
  priv->turns++;
  GST_S2S_BASE_SIGNAL (self);
  GST_S2S_BASE_UNLOCK (self);

  /* the tracer closes the turn's input on this message: records first */
  if (priv->traced)
    gst_s2s_trace_speech (priv->trace, FALSE);
  post_trace_records (self, GST_CLOCK_TIME_NONE);
  post_element_message (self, gst_structure_new ("s2s-speech",
          "event", G_TYPE_STRING, "stopped", "item-id", G_TYPE_STRING, item_id,
          NULL));
}

void
gst_s2s_base_item_added (GstS2SBase * self, const gchar * item_id,
    const gchar * type, const gchar * role)
{
  GST_S2S_BASE_LOCK (self);
  conv_ensure (self, item_id, type, role);
  GST_S2S_BASE_UNLOCK (self);
}

void
gst_s2s_base_transcript (GstS2SBase * self, const gchar * role,
    const gchar * item_id, const gchar * text, gboolean final)
{
  ConvItem *it;

  GST_S2S_BASE_LOCK (self);
  it = conv_ensure (self, item_id, "message", role);
  if (final)
    conv_item_set_text (it, text);
  else if (!it->final)
    conv_item_append_text (it, text);
  it->final = final;
  GST_S2S_BASE_UNLOCK (self);

  post_element_message (self, gst_structure_new ("s2s-transcript",
          "role", G_TYPE_STRING, role, "text", G_TYPE_STRING, text,
          "final", G_TYPE_BOOLEAN, final,
          "item-id", G_TYPE_STRING, item_id, NULL));
}

/* A partial transcript as the whole text so far (Grok's cumulative
 * `.updated`): posted as the delta when it extends what came before, else
 * as the full text with replace=TRUE */
void
gst_s2s_base_transcript_snapshot (GstS2SBase * self, const gchar * role,
    const gchar * item_id, const gchar * text)
{
  ConvItem *it;
  const gchar *post = text;
  gboolean replace = FALSE;
  gchar *delta = NULL;

  GST_S2S_BASE_LOCK (self);
  it = conv_ensure (self, item_id, "message", role);
  if (it->final) {
    GST_S2S_BASE_UNLOCK (self);
    return;
  }
  if (g_str_has_prefix (text, CONV_TEXT (it))) {
    post = delta = g_strdup (text + it->text_len);
  } else {
    replace = TRUE;
  }
  conv_item_set_text (it, text);
  GST_S2S_BASE_UNLOCK (self);

  if (*post || replace)
    post_element_message (self, gst_structure_new ("s2s-transcript",
            "role", G_TYPE_STRING, role, "text", G_TYPE_STRING, post,
            "final", G_TYPE_BOOLEAN, FALSE,
            "replace", G_TYPE_BOOLEAN, replace,
            "item-id", G_TYPE_STRING, item_id, NULL));
  g_free (delta);
}

void
gst_s2s_base_response_started (GstS2SBase * self, const gchar * response_id)
{
  GstS2SBasePrivate *priv = self->priv;
  gboolean pushes;

  GST_S2S_BASE_LOCK (self);
  priv->response_active = TRUE;
  priv->awaiting_response = FALSE;
  g_free (priv->response_id);
  priv->response_id = g_strdup (response_id);
  priv->response_first_audio = FALSE;
  priv->response_audio = 0;
  /* a response may begin a turn: the pushes of the last one go first */
  pushes = priv->traced && gst_s2s_trace_pushes_pending (&priv->trace_pushes);
  GST_S2S_BASE_UNLOCK (self);

  if (pushes)
    post_trace_records (self, GST_CLOCK_TIME_NONE);
  post_element_message (self, gst_structure_new ("s2s-response",
          "event", G_TYPE_STRING, "started",
          "response-id", G_TYPE_STRING, response_id, NULL));
}

/* @data, or @owned (taken, its memory shared by the queued buffers) */
static void
queue_response_audio (GstS2SBase * self, const gchar * response_id,
    const gchar * item_id, const guint8 * data, GstBuffer * owned, gsize size)
{
  GstS2SBasePrivate *priv = self->priv;
  const GstS2SAudioFormat *fmt = &priv->out_format;
  guint bps = gst_s2s_audio_format_bytes_per_sample (fmt);
  gsize chunk = time_to_bytes (fmt, OUT_CHUNK_MS * GST_MSECOND);
  GstClockTime now, first_pts = GST_CLOCK_TIME_NONE;
  gboolean first_audio = FALSE, new_item = FALSE, was_empty;
  guint latency_target;
  GstClockTime turn_end;
  GstBuffer *tail;
  gsize off = 0;

  size -= size % bps;
  if (size == 0) {
    if (owned)
      gst_buffer_unref (owned);
    return;
  }

  now = current_running_time (self);
  GST_OBJECT_LOCK (self);
  latency_target = priv->latency_target_ms;
  GST_OBJECT_UNLOCK (self);

  GST_S2S_BASE_LOCK (self);
  if (priv->fatal || priv->flushing ||
      (priv->interrupted_response_id && response_id &&
          g_str_equal (priv->interrupted_response_id, response_id))) {
    GST_S2S_BASE_UNLOCK (self);
    GST_LOG_OBJECT (self, "dropping %" G_GSIZE_FORMAT " bytes of interrupted "
        "or flushed audio", size);
    if (owned)
      gst_buffer_unref (owned);
    return;
  }

  if (!priv->response_first_audio) {
    priv->response_first_audio = TRUE;
    first_audio = TRUE;
  }
  if (g_strcmp0 (item_id, priv->audio_item_id) != 0 ||
      !GST_CLOCK_TIME_IS_VALID (priv->item_first_pts)) {
    g_free (priv->audio_item_id);
    priv->audio_item_id = g_strdup (item_id);
    new_item = TRUE;
    priv->item_received_bytes = 0;
    priv->item_pushed_bytes = 0;
    /* a response starts at max(end of last output, now) */
    priv->item_first_pts = priv->out_end;
    if (GST_CLOCK_TIME_IS_VALID (now) && now > priv->item_first_pts)
      priv->item_first_pts = now;
    if (priv->item_first_pts != priv->last_buf_end)
      priv->need_discont = TRUE;
  }
  if (first_audio) {
    first_pts = priv->out_end > priv->item_first_pts ? priv->out_end :
        priv->item_first_pts;
    if (priv->traced)
      gst_s2s_trace_first_audio (&priv->trace_pushes, first_pts);
  }
  turn_end = priv->turn_end_rt;
  was_empty = g_queue_is_empty (&priv->out_queue);

  /* the grid: a short last chunk of this item still queued (the end of
   * the last delta) is filled up first */
  tail = g_queue_peek_tail (&priv->out_queue);
  if (!new_item && tail && !priv->need_discont &&
      gst_buffer_is_writable (tail) && gst_buffer_get_size (tail) < chunk
      && priv->out_end == GST_BUFFER_PTS (tail) + GST_BUFFER_DURATION (tail)) {
    gsize have = gst_buffer_get_size (tail);
    guint64 s1;

    off = MIN (chunk - have, size);
    if (owned) {
      gst_buffer_copy_into (tail, owned, GST_BUFFER_COPY_MEMORY, 0, off);
    } else {
      gpointer copy = g_memdup2 (data, off);

      gst_buffer_append_memory (tail, gst_memory_new_wrapped (0, copy, off,
              0, off, copy, g_free));
    }
    priv->item_received_bytes += off;
    s1 = priv->item_received_bytes / bps;
    priv->out_end = priv->item_first_pts +
        gst_util_uint64_scale_int (s1, GST_SECOND, fmt->rate);
    GST_BUFFER_DURATION (tail) = priv->out_end - GST_BUFFER_PTS (tail);
    /* traced: the arrival of its last part */
    if (priv->traced)
      GST_BUFFER_DTS (tail) = now;
  }

  for (; off < size; off += chunk) {
    gsize n = MIN (chunk, size - off);
    guint64 s0 = priv->item_received_bytes / bps;
    guint64 s1 = s0 + n / bps;
    GstClockTime pts = priv->item_first_pts +
        gst_util_uint64_scale_int (s0, GST_SECOND, fmt->rate);
    GstClockTime end = priv->item_first_pts +
        gst_util_uint64_scale_int (s1, GST_SECOND, fmt->rate);
    GstBuffer *buf;

    if (owned == NULL)
      buf = gst_buffer_new_memdup (data + off, n);
    else if (off == 0 && n == gst_buffer_get_size (owned)) {
      /* all of it in one output buffer */
      buf = owned;
      owned = NULL;
    } else
      buf = gst_buffer_copy_region (owned, GST_BUFFER_COPY_MEMORY, off, n);

    /* while traced, the arrival waits in the DTS (unused otherwise) until
     * the buffer is pushed and recorded */
    if (priv->traced)
      GST_BUFFER_DTS (buf) = now;
    GST_BUFFER_PTS (buf) = pts;
    GST_BUFFER_DURATION (buf) = end - pts;
    if (priv->need_discont) {
      GST_BUFFER_FLAG_SET (buf, GST_BUFFER_FLAG_DISCONT);
      priv->need_discont = FALSE;
    }
    g_queue_push_tail (&priv->out_queue, buf);
    priv->item_received_bytes += n;
    priv->out_end = end;
  }
  priv->response_audio += gst_s2s_audio_format_bytes_to_time (fmt, size);
  {
    ConvItem *it = conv_ensure (self, item_id, "message", "assistant");
    it->audio_received = gst_s2s_audio_format_bytes_to_time (fmt,
        priv->item_received_bytes);
  }
  /* Audio behind a queued head does not change when the src task has to
   * wake (at the head's PTS, or in its push): only a head does */
  if (was_empty)
    GST_S2S_BASE_SIGNAL (self);
  GST_S2S_BASE_UNLOCK (self);
  if (owned)
    gst_buffer_unref (owned);

  if (first_audio) {
    post_element_message (self, gst_structure_new ("s2s-response",
            "event", G_TYPE_STRING, "first-audio",
            "response-id", G_TYPE_STRING, response_id,
            "pts", G_TYPE_UINT64, first_pts,
            "received-time", G_TYPE_UINT64, now, NULL));
    if (latency_target > 0 && GST_CLOCK_TIME_IS_VALID (now) &&
        GST_CLOCK_TIME_IS_VALID (turn_end) && now > turn_end &&
        now - turn_end > latency_target * GST_MSECOND) {
      GstClockTime delay = now - turn_end;
      gchar *debug = g_strdup_printf ("first audio %" GST_TIME_FORMAT
          " after the end of the turn, target %u ms", GST_TIME_ARGS (delay),
          latency_target);

      GST_WARNING_OBJECT (self, "%s", debug);
      gst_element_message_full_with_details (GST_ELEMENT (self),
          GST_MESSAGE_WARNING, GST_STREAM_ERROR, GST_STREAM_ERROR_FAILED,
          g_strdup (_("The reply started later than latency-target.")), debug,
          __FILE__, GST_FUNCTION, __LINE__,
          gst_structure_new ("s2s-latency",
              "measured-delay", G_TYPE_UINT64, delay,
              "target", G_TYPE_UINT64, latency_target * GST_MSECOND,
              "response-id", G_TYPE_STRING, response_id, NULL));
    }
  }
}

void
gst_s2s_base_response_audio (GstS2SBase * self, const gchar * response_id,
    const gchar * item_id, const guint8 * data, gsize size)
{
  queue_response_audio (self, response_id, item_id, data, NULL, size);
}

void
gst_s2s_base_response_audio_buffer (GstS2SBase * self,
    const gchar * response_id, const gchar * item_id, GstBuffer * buffer)
{
  g_return_if_fail (GST_IS_BUFFER (buffer));

  queue_response_audio (self, response_id, item_id, NULL, buffer,
      gst_buffer_get_size (buffer));
}

void
gst_s2s_base_response_done (GstS2SBase * self, const gchar * response_id,
    const gchar * status)
{
  GstS2SBasePrivate *priv = self->priv;
  GstS2SBaseClass *klass = GST_S2S_BASE_GET_CLASS (self);
  GstClockTime audio;
  gboolean create = FALSE;

  GST_S2S_BASE_LOCK (self);
  priv->response_active = FALSE;
  /* a finished turn shows the connection works: reconnects start over */
  priv->resume_failures = 0;
  audio = priv->response_audio;
  /* results still queued for the I/O thread ask for the reply once sent */
  if (priv->create_after_done && g_hash_table_size (priv->pending_calls) == 0
      && priv->tool_results_queued == 0) {
    priv->create_after_done = FALSE;
    priv->awaiting_response = TRUE;
    create = TRUE;
  }
  GST_S2S_BASE_SIGNAL (self);
  GST_S2S_BASE_UNLOCK (self);

  post_element_message (self, gst_structure_new ("s2s-response",
          "event", G_TYPE_STRING, "done",
          "response-id", G_TYPE_STRING, response_id,
          "status", G_TYPE_STRING, status,
          "audio-duration", G_TYPE_UINT64, audio, NULL));

  if (create && klass->create_response)
    klass->create_response (self);
}

/* Totals saturate: counts come from the network */
static void
usage_add (gint64 * total, gint64 n)
{
  if (n > 0)
    *total = n > G_MAXINT64 - *total ? G_MAXINT64 : *total + n;
}

void
gst_s2s_base_usage (GstS2SBase * self, const GstS2SUsage * u)
{
  GstS2SBasePrivate *priv = self->priv;
  gdouble seconds = priv->session_start_us ?
      (g_get_monotonic_time () - priv->session_start_us) / 1e6 : 0.0;

  GST_S2S_BASE_LOCK (self);
  usage_add (&priv->usage_total.input_tokens, u->input_tokens);
  usage_add (&priv->usage_total.output_tokens, u->output_tokens);
  usage_add (&priv->usage_total.input_audio_tokens, u->input_audio_tokens);
  usage_add (&priv->usage_total.output_audio_tokens, u->output_audio_tokens);
  usage_add (&priv->usage_total.cached_tokens, u->cached_tokens);
  GST_S2S_BASE_UNLOCK (self);

  post_element_message (self, gst_structure_new ("s2s-usage",
          "input-tokens", G_TYPE_INT64, u->input_tokens,
          "output-tokens", G_TYPE_INT64, u->output_tokens,
          "input-audio-tokens", G_TYPE_INT64, u->input_audio_tokens,
          "output-audio-tokens", G_TYPE_INT64, u->output_audio_tokens,
          "cached-tokens", G_TYPE_INT64, u->cached_tokens,
          "session-seconds", G_TYPE_DOUBLE, seconds, NULL));
}

void
gst_s2s_base_tool_call (GstS2SBase * self, const gchar * call_id,
    const gchar * name, const gchar * arguments)
{
  GstS2SBasePrivate *priv = self->priv;
  ConvItem *it;

  GST_S2S_BASE_LOCK (self);
  it = conv_item_new ("function_call", NULL, NULL);
  it->call_id = g_strdup (call_id);
  it->name = g_strdup (name);
  it->arguments = g_strdup (arguments);
  it->final = TRUE;
  g_ptr_array_add (priv->conv, it);
  g_hash_table_insert (priv->pending_calls, g_strdup (call_id),
      g_strdup (name));
  GST_S2S_BASE_UNLOCK (self);

  post_element_message (self, gst_structure_new ("s2s-tool-call",
          "call-id", G_TYPE_STRING, call_id,
          "name", G_TYPE_STRING, name,
          "arguments", G_TYPE_STRING, arguments, NULL));
}

void
gst_s2s_base_tool_call_cancelled (GstS2SBase * self, const gchar * call_id)
{
  gboolean known;

  GST_S2S_BASE_LOCK (self);
  known = g_hash_table_remove (self->priv->pending_calls, call_id);
  GST_S2S_BASE_SIGNAL (self);
  GST_S2S_BASE_UNLOCK (self);

  GST_DEBUG_OBJECT (self, "tool call %s cancelled (%s)", call_id,
      known ? "pending" : "unknown or answered");
  post_element_message (self, gst_structure_new ("s2s-tool-cancel",
          "call-id", G_TYPE_STRING, call_id, NULL));
}

/* ------------------------------------------------------------------------ */
/* Action signals (any thread) */

typedef struct
{
  GstS2SBase *self;
  gchar *a;
  gchar *b;
  gboolean flag;
} IoCall;

static void
io_call_free (IoCall * c)
{
  gst_object_unref (c->self);
  g_free (c->a);
  g_free (c->b);
  g_free (c);
}

static IoCall *
io_call_new (GstS2SBase * self, const gchar * a, const gchar * b, gboolean flag)
{
  IoCall *c = g_new0 (IoCall, 1);

  c->self = gst_object_ref (self);
  c->a = g_strdup (a);
  c->b = g_strdup (b);
  c->flag = flag;
  return c;
}

/* An action that reached the I/O thread while a successor connection is
 * being set up waits for it (session_ready runs it) */
typedef struct
{
  GSourceFunc func;
  IoCall *call;
} Deferred;

static gboolean
defer_while_renewing (IoCall * c, GSourceFunc func)
{
  GstS2SBasePrivate *priv = c->self->priv;
  Deferred *d;

  if (!priv->renewing)
    return FALSE;
  d = g_new (Deferred, 1);
  d->func = func;
  d->call = io_call_new (c->self, c->a, c->b, c->flag);
  GST_S2S_BASE_LOCK (c->self);
  g_queue_push_tail (&priv->deferred, d);
  GST_S2S_BASE_UNLOCK (c->self);
  return TRUE;
}

static void
deferred_free (Deferred * d)
{
  io_call_free (d->call);
  g_free (d);
}

/* lock held */
static void
clear_deferred_locked (GstS2SBase * self)
{
  g_queue_clear_full (&self->priv->deferred, (GDestroyNotify) deferred_free);
}

static void
run_deferred (GstS2SBase * self)
{
  Deferred *d;

  for (;;) {
    GST_S2S_BASE_LOCK (self);
    d = g_queue_pop_head (&self->priv->deferred);
    GST_S2S_BASE_UNLOCK (self);
    if (d == NULL)
      break;
    d->func (d->call);
    deferred_free (d);
  }
}

/* lock held; FALSE when there is no session to act on */
static gboolean
session_usable_locked (GstS2SBase * self)
{
  return self->priv->io_ctx != NULL && !self->priv->fatal &&
      !self->priv->stopping;
}

static gboolean
tool_result_on_io (gpointer data)
{
  IoCall *c = data;
  GstS2SBaseClass *klass = GST_S2S_BASE_GET_CLASS (c->self);

  if (defer_while_renewing (c, tool_result_on_io))
    return G_SOURCE_REMOVE;
  GST_S2S_BASE_LOCK (c->self);
  c->self->priv->tool_results_queued--;
  GST_S2S_BASE_UNLOCK (c->self);
  if (!c->self->priv->session_ready)
    return G_SOURCE_REMOVE;
  klass->send_tool_result (c->self, c->a, c->b);
  /* results given together all go out before the one response.create */
  request_response_on_io (c->self);
  return G_SOURCE_REMOVE;
}

static gboolean
gst_s2s_base_tool_result (GstS2SBase * self, const gchar * call_id,
    const gchar * output)
{
  GstS2SBasePrivate *priv = self->priv;
  ConvItem *it;

  if (call_id == NULL || output == NULL)
    return FALSE;

  GST_S2S_BASE_LOCK (self);
  if (!session_usable_locked (self) ||
      !g_hash_table_remove (priv->pending_calls, call_id)) {
    GST_S2S_BASE_UNLOCK (self);
    GST_WARNING_OBJECT (self, "tool-result for unknown call %s", call_id);
    return FALSE;
  }
  /* With the last call answered a reply is due from now on. Without this
   * the src task could find no pending call and no awaited response in the
   * window before tool_result_on_io runs, and push EOS (after input EOS)
   * before the spoken follow-up; response_started clears it. */
  if (g_hash_table_size (priv->pending_calls) == 0)
    priv->awaiting_response = TRUE;
  it = conv_item_new ("function_call_output", NULL, NULL);
  it->call_id = g_strdup (call_id);
  it->output = g_strdup (output);
  it->final = TRUE;
  g_ptr_array_add (priv->conv, it);
  priv->tool_results_queued++;
  GST_S2S_BASE_UNLOCK (self);

  /* posted before the result can reach the server, so the follow-up's
   * messages (its first audio) come after it and its running time is
   * before their arrival however the threads run (the s2s tracer's
   * result_ms and audio_ms rely on both) */
  post_element_message (self, gst_structure_new ("s2s-tool-result",
          "call-id", G_TYPE_STRING, call_id, NULL));
  io_invoke (self, tool_result_on_io, io_call_new (self, call_id, output,
          FALSE), (GDestroyNotify) io_call_free);
  return TRUE;
}

static gboolean
send_text_on_io (gpointer data)
{
  IoCall *c = data;
  GstS2SBaseClass *klass = GST_S2S_BASE_GET_CLASS (c->self);

  if (defer_while_renewing (c, send_text_on_io))
    return G_SOURCE_REMOVE;
  if (!c->self->priv->session_ready)
    return G_SOURCE_REMOVE;
  klass->send_text (c->self, "user", c->a);
  if (c->flag)
    request_response_on_io (c->self);
  return G_SOURCE_REMOVE;
}

static gboolean
gst_s2s_base_send_text (GstS2SBase * self, const gchar * text, gboolean respond)
{
  ConvItem *it;

  if (text == NULL)
    return FALSE;
  GST_S2S_BASE_LOCK (self);
  if (!session_usable_locked (self)) {
    GST_S2S_BASE_UNLOCK (self);
    return FALSE;
  }
  it = conv_item_new ("message", "user", NULL);
  conv_item_set_text (it, text);
  it->final = TRUE;
  g_ptr_array_add (self->priv->conv, it);
  io_invoke (self, send_text_on_io, io_call_new (self, text, NULL, respond),
      (GDestroyNotify) io_call_free);
  GST_S2S_BASE_UNLOCK (self);
  return TRUE;
}

/* interrupt, or a flush: the app stopped the model, the server did not */
static gboolean
interrupt_on_io (gpointer data)
{
  barge_in_on_io (((IoCall *) data)->self, FALSE);
  return G_SOURCE_REMOVE;
}

static void
gst_s2s_base_interrupt (GstS2SBase * self)
{
  GST_S2S_BASE_LOCK (self);
  if (session_usable_locked (self))
    io_invoke (self, interrupt_on_io, io_call_new (self, NULL, NULL, FALSE),
        (GDestroyNotify) io_call_free);
  GST_S2S_BASE_UNLOCK (self);
}

static gboolean
commit_on_io (gpointer data)
{
  IoCall *c = data;
  GstS2SBase *self = c->self;
  GstS2SBaseClass *klass = GST_S2S_BASE_GET_CLASS (self);
  gboolean enough;

  if (defer_while_renewing (c, commit_on_io))
    return G_SOURCE_REMOVE;
  if (!self->priv->session_ready)
    return G_SOURCE_REMOVE;
  /* what the chain queued so far belongs to this turn */
  flush_input_on_io (self);
  GST_S2S_BASE_LOCK (self);
  enough = self->priv->uncommitted_bytes >=
      time_to_bytes (&self->priv->config->in_format,
      MIN_COMMIT_MS * GST_MSECOND);
  if (enough) {
    self->priv->uncommitted_bytes = 0;
    self->priv->awaiting_response = TRUE;
    self->priv->turn_end_rt = current_running_time (self);
    self->priv->turns++;
  }
  GST_S2S_BASE_UNLOCK (self);

  if (enough)
    klass->commit (self);
  else
    GST_WARNING_OBJECT (self, "commit ignored: less than %d ms of audio "
        "since the last turn", MIN_COMMIT_MS);
  return G_SOURCE_REMOVE;
}

static void
gst_s2s_base_commit (GstS2SBase * self)
{
  GST_S2S_BASE_LOCK (self);
  if (session_usable_locked (self))
    io_invoke (self, commit_on_io, io_call_new (self, NULL, NULL, FALSE),
        (GDestroyNotify) io_call_free);
  GST_S2S_BASE_UNLOCK (self);
}

static gboolean
say_on_io (gpointer data)
{
  IoCall *c = data;
  GstS2SBaseClass *klass = GST_S2S_BASE_GET_CLASS (c->self);

  if (defer_while_renewing (c, say_on_io))
    return G_SOURCE_REMOVE;
  if (!c->self->priv->session_ready)
    return G_SOURCE_REMOVE;
  klass->send_text (c->self, "assistant-say", c->a);
  GST_S2S_BASE_LOCK (c->self);
  c->self->priv->awaiting_response = TRUE;
  GST_S2S_BASE_UNLOCK (c->self);
  return G_SOURCE_REMOVE;
}

static gboolean
gst_s2s_base_say (GstS2SBase * self, const gchar * text)
{
  if (text == NULL)
    return FALSE;
  GST_S2S_BASE_LOCK (self);
  if (!session_usable_locked (self)) {
    GST_S2S_BASE_UNLOCK (self);
    return FALSE;
  }
  io_invoke (self, say_on_io, io_call_new (self, text, NULL, FALSE),
      (GDestroyNotify) io_call_free);
  GST_S2S_BASE_UNLOCK (self);
  return TRUE;
}

/* ------------------------------------------------------------------------ */
/* Configuration */

/* object lock held */
static GstS2SConfig *
snapshot_config (GstS2SBase * self)
{
  GstS2SBasePrivate *priv = self->priv;
  GstS2SBaseClass *klass = GST_S2S_BASE_GET_CLASS (self);
  GstS2SConfig *c = g_new0 (GstS2SConfig, 1);

  c->url = g_strdup (priv->url ? priv->url : klass->default_url);
  c->api_key = g_strdup (priv->api_key);
  if ((c->api_key == NULL || *c->api_key == '\0') && klass->api_key_env) {
    g_free (c->api_key);
    c->api_key = g_strdup (g_getenv (klass->api_key_env));
  }
  if ((c->api_key == NULL || *c->api_key == '\0') &&
      klass->api_key_env_fallback) {
    g_free (c->api_key);
    c->api_key = g_strdup (g_getenv (klass->api_key_env_fallback));
  }
  c->model = g_strdup (priv->model ? priv->model : klass->default_model);
  c->voice = g_strdup (priv->voice ? priv->voice : klass->default_voice);
  c->instructions = g_strdup (priv->instructions);
  c->language = g_strdup (priv->language);
  c->temperature = priv->temperature;
  c->max_output_tokens = priv->max_output_tokens;
  c->turn_detection = priv->turn_detection;
  c->vad_threshold = priv->vad_threshold;
  c->silence_duration = priv->silence_duration;
  c->prefix_padding = priv->prefix_padding;
  c->transcribe_input = priv->transcribe_input;
  c->transcription_model = g_strdup (priv->transcription_model);
  c->reasoning = priv->reasoning;
  if (priv->tools_json)
    c->tools = gst_s2s_parse_tools (priv->tools_json, NULL);
  c->ssl_ca_file = g_strdup (priv->ssl_ca_file);
  c->proxy = g_strdup (priv->proxy);
  c->connect_timeout = priv->connect_timeout_ms;
  c->in_format = priv->in_format;
  c->out_format = priv->out_format;
  return c;
}

static gboolean
check_config (GstS2SBase * self)
{
  GstS2SBasePrivate *priv = self->priv;
  GstS2SBaseClass *klass = GST_S2S_BASE_GET_CLASS (self);
  GstS2SConfig *c;
  GError *err = NULL;
  const gchar *prop = NULL;
  gchar *problem = NULL;
  JsonArray *arr;

  GST_OBJECT_LOCK (self);
  c = snapshot_config (self);
  if (priv->tools_json) {
    arr = gst_s2s_parse_tools (priv->tools_json, &err);
    if (arr == NULL) {
      prop = "tools";
      problem = g_strdup (err->message);
    } else {
      json_array_unref (arr);
    }
    g_clear_error (&err);
  }
  if (prop == NULL && priv->history_json) {
    arr = gst_s2s_parse_history (priv->history_json, &err);
    if (arr == NULL) {
      prop = "history";
      problem = g_strdup (err->message);
    } else {
      json_array_unref (arr);
    }
    g_clear_error (&err);
  }
  GST_OBJECT_UNLOCK (self);

  if (prop == NULL && (c->api_key == NULL || *c->api_key == '\0') &&
      (klass->needs_api_key == NULL || klass->needs_api_key (self))) {
    prop = "api-key";
    problem = klass->api_key_env ?
        g_strdup_printf (_("no key set, and %s is not set either"),
        klass->api_key_env) : g_strdup (_("no key set"));
  }
  /* no url and no default_url: the provider derives its endpoint (e.g.
   * from the region) in open_transport */
  if (prop == NULL && c->url) {
    GUri *uri = g_uri_parse (c->url, G_URI_FLAGS_ENCODED, &err);
    const gchar *scheme = uri ? g_uri_get_scheme (uri) : NULL;

    if (uri == NULL || (g_strcmp0 (scheme, "ws") && g_strcmp0 (scheme, "wss")
            && g_strcmp0 (scheme, "http") && g_strcmp0 (scheme, "https"))) {
      prop = "url";
      problem = g_strdup (_("not a ws://, wss://, http:// or https:// URL"));
    }
    if (uri)
      g_uri_unref (uri);
    g_clear_error (&err);
  }
  if (prop == NULL && c->ssl_ca_file && *c->ssl_ca_file &&
      !g_file_test (c->ssl_ca_file, G_FILE_TEST_IS_REGULAR)) {
    prop = "ssl-ca-file";
    problem = g_strdup (_("file not found"));
  }
  if (prop == NULL && c->reasoning == GST_S2S_REASONING_EXTERNAL &&
      c->tools && json_array_get_length (c->tools) > 0) {
    prop = "reasoning";
    problem = g_strdup (_("external reasoning cannot be combined with "
            "tools: the application decides what is said"));
  }
  if (prop == NULL && klass->check_config &&
      !klass->check_config (self, c, &err)) {
    /* providers name the property in the message: "property: problem" */
    gchar **parts = g_strsplit (err->message, ": ", 2);
    prop = g_intern_string (parts[0]);
    problem = g_strdup (parts[1] ? parts[1] : "not supported");
    g_strfreev (parts);
    g_clear_error (&err);
  }
  gst_s2s_config_free (c);

  if (prop) {
    post_config_error (self, prop, problem);
    g_free (problem);
    return FALSE;
  }
  return TRUE;
}

static gboolean
session_update_on_io (gpointer data)
{
  IoCall *c = data;
  GstS2SBase *self = c->self;
  GstS2SBaseClass *klass = GST_S2S_BASE_GET_CLASS (self);
  GstS2SConfig *config;

  GST_OBJECT_LOCK (self);
  config = snapshot_config (self);
  GST_OBJECT_UNLOCK (self);
  gst_s2s_config_free (self->priv->config);
  self->priv->config = config;
  if (self->priv->session_open && klass->session_update)
    klass->session_update (self, config);
  return G_SOURCE_REMOVE;
}

static void
schedule_session_update (GstS2SBase * self)
{
  GST_S2S_BASE_LOCK (self);
  if (session_usable_locked (self))
    io_invoke (self, session_update_on_io, io_call_new (self, NULL, NULL,
            FALSE), (GDestroyNotify) io_call_free);
  GST_S2S_BASE_UNLOCK (self);
}

/* ------------------------------------------------------------------------ */
/* Session start/stop (state changes, streaming thread never) */

static void
pick_format (GstPad * pad, gboolean peer_first, GstS2SAudioFormat * fmt)
{
  GstCaps *templ = gst_pad_get_pad_template_caps (pad);
  GstCaps *caps = gst_pad_peer_query_caps (pad, templ);

  if (caps == NULL || gst_caps_is_empty (caps)) {
    gst_clear_caps (&caps);
    caps = gst_caps_ref (templ);
  }
  caps = gst_caps_make_writable (caps);
  caps = gst_caps_truncate (caps);
  caps = gst_caps_fixate (caps);
  if (!gst_s2s_audio_format_from_caps (fmt, caps)) {
    fmt->encoding = GST_S2S_ENCODING_PCM_S16LE;
    fmt->rate = 24000;
  }
  gst_caps_unref (caps);
  gst_caps_unref (templ);
}

/* lock held; the end-of-input drain starts over (new session or flush) */
static void
reset_drain_locked (GstS2SBase * self)
{
  GstS2SBasePrivate *priv = self->priv;

  priv->in_eos = FALSE;
  priv->eos_handled = FALSE;
  priv->eos_pushed = FALSE;
  priv->eos_deadline = 0;
  priv->eos_settle_until = 0;
}

static void
reset_state (GstS2SBase * self)
{
  GstS2SBasePrivate *priv = self->priv;

  g_queue_clear_full (&priv->out_queue, (GDestroyNotify) gst_buffer_unref);
  g_byte_array_set_size (priv->in_pending, 0);
  priv->in_flush_scheduled = FALSE;
  reset_drain_locked (self);
  priv->uncommitted_bytes = 0;
  priv->out_end = 0;
  priv->pushed_end = 0;
  priv->last_buf_end = GST_CLOCK_TIME_NONE;
  priv->need_discont = TRUE;
  priv->src_started = FALSE;
  priv->need_segment = FALSE;
  priv->user_speaking = FALSE;
  priv->awaiting_response = FALSE;
  priv->response_active = FALSE;
  priv->create_after_done = FALSE;
  g_clear_pointer (&priv->response_id, g_free);
  g_clear_pointer (&priv->interrupted_response_id, g_free);
  g_clear_pointer (&priv->audio_item_id, g_free);
  priv->item_first_pts = GST_CLOCK_TIME_NONE;
  priv->item_received_bytes = 0;
  priv->item_pushed_bytes = 0;
  priv->turn_end_rt = GST_CLOCK_TIME_NONE;
  g_hash_table_remove_all (priv->pending_calls);
  priv->tool_results_queued = 0;
  priv->fatal = FALSE;
  priv->flushing = FALSE;
  priv->stopping = FALSE;
  priv->renewing = FALSE;
  clear_deferred_locked (self);
  priv->pipeline_latency = 0;
}

static gboolean
start_session (GstS2SBase * self)
{
  GstS2SBasePrivate *priv = self->priv;
  JsonArray *seed = NULL;

  GST_S2S_BASE_LOCK (self);
  reset_state (self);
  if (!priv->in_format_known)
    pick_format (self->sinkpad, TRUE, &priv->in_format);
  pick_format (self->srcpad, TRUE, &priv->out_format);
  g_ptr_array_set_size (priv->conv, 0);
  GST_S2S_BASE_UNLOCK (self);

  GST_OBJECT_LOCK (self);
  if (priv->history_json)
    seed = gst_s2s_parse_history (priv->history_json, NULL);
  priv->config = snapshot_config (self);
  GST_OBJECT_UNLOCK (self);

  GST_S2S_BASE_LOCK (self);
  if (seed) {
    conv_seed (self, seed);
    json_array_unref (seed);
  }
  GST_S2S_BASE_UNLOCK (self);

  priv->session_open = FALSE;
  priv->session_ready = FALSE;
  priv->history_sent = FALSE;
  priv->resume_failures = 0;
  priv->session_start_us = 0;
  g_clear_pointer (&priv->session_id, g_free);
  set_log_tag (self, NULL);
  priv->traced = s2s_tracers_attach (self);

  GST_DEBUG_OBJECT (self, "in %d Hz enc %d, out %d Hz enc %d",
      priv->in_format.rate, priv->in_format.encoding, priv->out_format.rate,
      priv->out_format.encoding);

  priv->io = io_thread_acquire ();
  GST_S2S_BASE_LOCK (self);
  g_mutex_lock (&priv->io_lock);
  priv->io_closed = FALSE;
  priv->io_ctx = priv->io->ctx;
  g_mutex_unlock (&priv->io_lock);
  GST_S2S_BASE_UNLOCK (self);
  io_invoke (self, connect_on_io, self, NULL);
  return TRUE;
}

static void
stop_session (GstS2SBase * self)
{
  GstS2SBasePrivate *priv = self->priv;

  GST_S2S_BASE_LOCK (self);
  priv->stopping = TRUE;
  priv->flushing = TRUE;
  if (priv->in_clock_id)
    gst_clock_id_unschedule (priv->in_clock_id);
  GST_S2S_BASE_SIGNAL (self);
  GST_S2S_BASE_UNLOCK (self);

  if (priv->io) {
    /* close this element's connection on its I/O thread and wait: the
     * thread's other elements go on */
    gboolean on_io = g_main_context_is_owner (priv->io_ctx);
    gint64 end;

    if (on_io)
      shutdown_on_io (self);
    else
      io_invoke (self, shutdown_on_io, self, NULL);
    GST_S2S_BASE_LOCK (self);
    while (!priv->io_shutdown_done)
      g_cond_wait (&priv->cond, &priv->lock);
    priv->io_shutdown_done = FALSE;
    /* what the provider still finishes there (Nova's closing flush), off
     * the I/O thread and bounded */
    end = g_get_monotonic_time () + IO_HOLD_WAIT_MS * G_TIME_SPAN_MILLISECOND;
    while (!on_io && priv->io_holds > 0 &&
        g_cond_wait_until (&priv->cond, &priv->lock, end));
    if (priv->io_holds > 0)
      GST_INFO_OBJECT (self, "%u holds on the I/O thread left", priv->io_holds);
    g_mutex_lock (&priv->io_lock);
    priv->io_ctx = NULL;
    g_mutex_unlock (&priv->io_lock);
    GST_S2S_BASE_UNLOCK (self);
    io_thread_release (priv->io);
    priv->io = NULL;
  }
  gst_s2s_config_free (priv->config);
  priv->config = NULL;
  post_trace_records (self, GST_CLOCK_TIME_NONE);
  if (priv->session_id) {
    post_session_state (self, "closed", "stopped");
  }
  s2s_tracers_detach (self);
}

static void gst_s2s_base_src_loop (GstPad * pad);

/* ------------------------------------------------------------------------ */
/* Sink pad */

/* Wait until @rt on the element clock: a non-live source is paced so the
 * provider hears it as from a microphone. Returns FALSE when flushing. */
static gboolean
pace_input (GstS2SBase * self, GstClockTime rt)
{
  GstS2SBasePrivate *priv = self->priv;
  GstClock *clock;
  GstClockTime base;
  GstClockID id;

  for (;;) {
    GST_S2S_BASE_LOCK (self);
    /* like a sink in preroll: data waits for PLAYING */
    while (!priv->flushing && !priv->fatal &&
        GST_STATE (self) != GST_STATE_PLAYING &&
        GST_STATE_PENDING (self) != GST_STATE_PLAYING)
      g_cond_wait (&priv->cond, &priv->lock);
    if (priv->flushing || priv->fatal) {
      GST_S2S_BASE_UNLOCK (self);
      return FALSE;
    }
    GST_S2S_BASE_UNLOCK (self);
    if (GST_STATE (self) == GST_STATE_PLAYING)
      break;
    g_usleep (1000);
  }

  GST_OBJECT_LOCK (self);
  clock = GST_ELEMENT_CLOCK (self);
  if (clock == NULL || !GST_CLOCK_TIME_IS_VALID (rt)) {
    GST_OBJECT_UNLOCK (self);
    return TRUE;
  }
  gst_object_ref (clock);
  base = GST_ELEMENT_CAST (self)->base_time;
  GST_OBJECT_UNLOCK (self);

  /* a live source pushes its buffers once their time has passed: no clock
   * entry, lock round and wait for those */
  if (base + rt <= gst_clock_get_time (clock)) {
    gst_object_unref (clock);
    return TRUE;
  }
  id = gst_clock_new_single_shot_id (clock, base + rt);
  GST_S2S_BASE_LOCK (self);
  if (priv->flushing) {
    GST_S2S_BASE_UNLOCK (self);
    gst_clock_id_unref (id);
    gst_object_unref (clock);
    return FALSE;
  }
  priv->in_clock_id = id;
  GST_S2S_BASE_UNLOCK (self);

  gst_clock_id_wait (id, NULL);

  GST_S2S_BASE_LOCK (self);
  priv->in_clock_id = NULL;
  GST_S2S_BASE_UNLOCK (self);
  gst_clock_id_unref (id);
  gst_object_unref (clock);
  return !priv->flushing;
}

/* While traced, the input record in the making, from the chain function's
 * entry to the hand-off (on its stack: no line of the element's to miss
 * after the send) */
typedef struct
{
  GstClockTime entry;           /* running time the buffer entered */
  GstClockTime raw_base;        /* and the base of that clock read */
  gpointer slot;                /* where its record will go */
} InputTrace;

/* Streaming thread: input goes to the connection from here, without the
 * hand-off to the I/O thread, when the session is up and nothing is
 * queued before it (so input stays in order). The send never blocks: the
 * WebSocket client writes what the socket takes at once and queues the
 * rest for the I/O thread (docs/design.md, "Input path"). Sends of the I/O
 * thread may go out before or after; input EOS is handled on the I/O
 * thread after this returned, so its padding or commit follows. FALSE:
 * queue the input as usual. @in: the input's record in the making (used
 * while traced) */
static gboolean
send_input_directly (GstS2SBase * self, const guint8 * data, gsize size,
    const InputTrace * in)
{
  GstS2SBasePrivate *priv = self->priv;
  GstS2SBaseClass *klass = GST_S2S_BASE_GET_CLASS (self);
  gboolean post = FALSE;
  guint64 offset;

  if (klass->send_audio_any_thread == NULL || klass->open_transport)
    return FALSE;
  g_mutex_lock (&priv->direct_lock);
  GST_S2S_BASE_LOCK (self);
  if (!priv->session_ready || priv->fatal || priv->renewing ||
      priv->stopping || priv->in_eos || priv->in_pending->len > 0 ||
      priv->in_flush_scheduled || priv->in_flushing || priv->ws == NULL ||
      !gst_s2s_ws_is_open (priv->ws) || !klass->send_audio_any_thread (self)) {
    GST_S2S_BASE_UNLOCK (self);
    g_mutex_unlock (&priv->direct_lock);
    return FALSE;
  }
  priv->bytes_in += size;
  priv->uncommitted_bytes += size;
  offset = priv->bytes_in;
  GST_S2S_BASE_UNLOCK (self);

  klass->send_audio (self, data, size);

  /* (no second round of the element's lock: the input records are a
   * ring of the streaming thread's) */
  if (priv->traced) {
    gst_s2s_trace_prefetch_input (priv->trace, in->slot);
    post = gst_s2s_trace_input (priv->trace, offset, in->entry,
        GST_CLOCK_TIME_IS_VALID (in->raw_base) ?
        gst_s2s_trace_now_raw (in->raw_base) :
        gst_s2s_trace_now_streaming (priv->trace, GST_ELEMENT (self)));
  }
  g_mutex_unlock (&priv->direct_lock);
  if (post)
    post_trace_records (self, GST_CLOCK_TIME_NONE);
  return TRUE;
}

static GstFlowReturn
gst_s2s_base_chain (GstPad * pad, GstObject * parent, GstBuffer * buf)
{
  GstS2SBase *self = GST_S2S_BASE (parent);
  GstS2SBasePrivate *priv = self->priv;
  GstClockTime pts, end_rt = GST_CLOCK_TIME_NONE;
  GstMapInfo map;
  guint64 max_pending;
  gsize drop;
  gboolean post = FALSE;
  InputTrace in = { GST_CLOCK_TIME_NONE, GST_CLOCK_TIME_NONE, NULL };

  if (priv->traced) {
    in.entry = gst_s2s_trace_now_streaming_base (priv->trace,
        GST_ELEMENT (self), &in.raw_base);
    in.slot = gst_s2s_trace_input_slot (priv->trace);
  }
  if (priv->fatal) {
    gst_buffer_unref (buf);
    return GST_FLOW_ERROR;
  }
  if (!priv->in_format_known) {
    gst_buffer_unref (buf);
    GST_ELEMENT_ERROR (self, CORE, NEGOTIATION, (NULL),
        ("no caps before the first buffer"));
    return GST_FLOW_NOT_NEGOTIATED;
  }

  pts = GST_BUFFER_PTS (buf);
  /* a segment that is not in time (not paced) has no running time */
  if (GST_CLOCK_TIME_IS_VALID (pts) &&
      priv->in_segment.format == GST_FORMAT_TIME) {
    GstClockTime dur = GST_BUFFER_DURATION_IS_VALID (buf) ?
        GST_BUFFER_DURATION (buf) :
        gst_s2s_audio_format_bytes_to_time (&priv->in_format,
        gst_buffer_get_size (buf));
    end_rt = gst_segment_to_running_time (&priv->in_segment, GST_FORMAT_TIME,
        pts + dur);
  }

  if (!pace_input (self, end_rt)) {
    gst_buffer_unref (buf);
    return priv->fatal ? GST_FLOW_ERROR : GST_FLOW_FLUSHING;
  }

  gst_buffer_map (buf, &map, GST_MAP_READ);
  /* the voiced check reads the input after it went out, while it is in
   * cache: read first, it paid the input's cache misses itself, since its
   * scan has nothing to overlap them with (tests/bench/tracer-overhead.md,
   * "Cold lines, not instructions"). A voice end is only read at a
   * speech stop, which comes a silence after the last voiced input. */
  if (send_input_directly (self, map.data, map.size, &in)) {
    if (priv->traced)
      gst_s2s_trace_voice (priv->trace, &priv->in_format, map.data, map.size,
          end_rt);
    gst_buffer_unmap (buf, &map);
    gst_buffer_unref (buf);
    return GST_FLOW_OK;
  }
  GST_S2S_BASE_LOCK (self);
  max_pending = time_to_bytes (&priv->in_format,
      MAX_PENDING_INPUT_MS * GST_MSECOND);
  drop = gst_s2s_drop_oldest (priv->in_pending, map.size, max_pending,
      time_to_bytes (&priv->in_format, PENDING_DROP_STEP_MS * GST_MSECOND));
  if (drop > 0)
    GST_WARNING_OBJECT (self, "session not ready: dropping %" G_GSIZE_FORMAT
        " bytes of the oldest input", drop);
  g_byte_array_append (priv->in_pending, map.data, map.size);
  priv->bytes_in += map.size;
  if (priv->traced)
    post = gst_s2s_trace_input (priv->trace, priv->bytes_in,
        in.entry, GST_CLOCK_TIME_NONE);
  schedule_input_flush_locked (self);
  GST_S2S_BASE_UNLOCK (self);
  if (priv->traced)
    gst_s2s_trace_voice (priv->trace, &priv->in_format, map.data, map.size,
        end_rt);
  gst_buffer_unmap (buf, &map);
  gst_buffer_unref (buf);
  if (post)
    post_trace_records (self, GST_CLOCK_TIME_NONE);

  return GST_FLOW_OK;
}

static gboolean
gst_s2s_base_sink_event (GstPad * pad, GstObject * parent, GstEvent * event)
{
  GstS2SBase *self = GST_S2S_BASE (parent);
  GstS2SBasePrivate *priv = self->priv;

  switch (GST_EVENT_TYPE (event)) {
    case GST_EVENT_CAPS:{
      GstCaps *caps;
      GstS2SAudioFormat fmt;
      gboolean changed;

      gst_event_parse_caps (event, &caps);
      if (!gst_s2s_audio_format_from_caps (&fmt, caps)) {
        ErrorReport r = { GST_S2S_ERROR_AUDIO_FORMAT, TRUE, FALSE, 0, -1,
          NULL, NULL, NULL, NULL
        };
        gchar *s = gst_caps_to_string (caps);
        gchar *debug = g_strdup_printf ("unsupported input caps %s", s);
        r.debug = debug;
        post_error_report (self, &r);
        g_free (debug);
        g_free (s);
        gst_event_unref (event);
        return FALSE;
      }
      GST_S2S_BASE_LOCK (self);
      changed = !priv->in_format_known ||
          fmt.encoding != priv->in_format.encoding ||
          fmt.rate != priv->in_format.rate;
      /* audio queued in the old format goes out before the switch */
      if (changed && priv->in_pending->len > 0)
        schedule_input_flush_locked (self);
      priv->in_format = fmt;
      priv->in_format_known = TRUE;
      GST_S2S_BASE_UNLOCK (self);
      gst_event_unref (event);
      if (changed)
        schedule_session_update (self);
      return TRUE;
    }
    case GST_EVENT_SEGMENT:{
      const GstSegment *seg;
      gst_event_parse_segment (event, &seg);
      if (seg->format != GST_FORMAT_TIME) {
        GST_WARNING_OBJECT (self, "non-TIME segment: input is not paced");
        gst_segment_init (&priv->in_segment, GST_FORMAT_UNDEFINED);
      } else {
        gst_segment_copy_into (seg, &priv->in_segment);
      }
      gst_event_unref (event);
      return TRUE;
    }
    case GST_EVENT_STREAM_START:
    case GST_EVENT_TAG:
    case GST_EVENT_GAP:
      gst_event_unref (event);
      return TRUE;
    case GST_EVENT_EOS:
      GST_S2S_BASE_LOCK (self);
      priv->in_eos = TRUE;
      /* the drain is bounded even when the session never comes up */
      priv->eos_deadline = g_get_monotonic_time () +
          (gint64) priv->eos_timeout_ms * G_TIME_SPAN_MILLISECOND;
      schedule_input_flush_locked (self);
      GST_S2S_BASE_SIGNAL (self);
      GST_S2S_BASE_UNLOCK (self);
      gst_event_unref (event);
      return TRUE;
    case GST_EVENT_FLUSH_START:
      GST_S2S_BASE_LOCK (self);
      priv->flushing = TRUE;
      if (priv->in_clock_id)
        gst_clock_id_unschedule (priv->in_clock_id);
      /* what the model was saying is flushed too: stop it */
      if (session_usable_locked (self))
        io_invoke (self, interrupt_on_io, io_call_new (self, NULL, NULL,
                FALSE), (GDestroyNotify) io_call_free);
      GST_S2S_BASE_SIGNAL (self);
      GST_S2S_BASE_UNLOCK (self);
      gst_pad_push_event (self->srcpad, event);
      gst_pad_pause_task (self->srcpad);
      return TRUE;
    case GST_EVENT_FLUSH_STOP:{
      gboolean ret, reset_time;

      gst_event_parse_flush_stop (event, &reset_time);
      GST_PAD_STREAM_LOCK (self->srcpad);
      GST_S2S_BASE_LOCK (self);
      priv->flushing = FALSE;
      reset_drain_locked (self);
      g_byte_array_set_size (priv->in_pending, 0);
      g_queue_clear_full (&priv->out_queue, (GDestroyNotify) gst_buffer_unref);
      if (reset_time) {
        /* running time starts again from 0 */
        priv->pushed_end = 0;
        priv->last_buf_end = GST_CLOCK_TIME_NONE;
        priv->item_first_pts = GST_CLOCK_TIME_NONE;
      }
      priv->out_end = priv->pushed_end;
      priv->need_discont = TRUE;
      priv->need_segment = TRUE;
      GST_S2S_BASE_UNLOCK (self);
      ret = gst_pad_push_event (self->srcpad, event);
      GST_PAD_STREAM_UNLOCK (self->srcpad);
      gst_pad_start_task (self->srcpad,
          (GstTaskFunction) gst_s2s_base_src_loop, self->srcpad, NULL);
      return ret;
    }
    default:
      return gst_pad_event_default (pad, parent, event);
  }
}

/* Both pads offer their template: the provider's formats, whatever the
 * other pad negotiated (input and output formats are independent) */
static void
answer_caps_query (GstPad * pad, GstQuery * query)
{
  GstCaps *filter, *caps = gst_pad_get_pad_template_caps (pad);

  gst_query_parse_caps (query, &filter);
  if (filter) {
    GstCaps *tmp = gst_caps_intersect_full (filter, caps,
        GST_CAPS_INTERSECT_FIRST);
    gst_caps_unref (caps);
    caps = tmp;
  }
  gst_query_set_caps_result (query, caps);
  gst_caps_unref (caps);
}

static gboolean
gst_s2s_base_sink_query (GstPad * pad, GstObject * parent, GstQuery * query)
{
  switch (GST_QUERY_TYPE (query)) {
    case GST_QUERY_CAPS:
      answer_caps_query (pad, query);
      return TRUE;
    default:
      return gst_pad_query_default (pad, parent, query);
  }
}

/* ------------------------------------------------------------------------ */
/* Src pad */

/* lock held */
static gboolean
eos_ready_locked (GstS2SBase * self)
{
  GstS2SBasePrivate *priv = self->priv;

  if (!priv->in_eos || priv->eos_pushed)
    return FALSE;
  if (priv->eos_deadline && g_get_monotonic_time () >= priv->eos_deadline)
    return TRUE;
  if (g_get_monotonic_time () < priv->eos_settle_until)
    return FALSE;
  return priv->eos_handled && !priv->user_speaking &&
      !priv->awaiting_response && !priv->response_active &&
      !priv->create_after_done &&
      g_hash_table_size (priv->pending_calls) == 0 &&
      g_queue_is_empty (&priv->out_queue);
}

static void
gst_s2s_base_src_loop (GstPad * pad)
{
  GstS2SBase *self = GST_S2S_BASE (GST_PAD_PARENT (pad));
  GstS2SBasePrivate *priv = self->priv;
  GstBuffer *buf = NULL;
  GstEvent *gap = NULL;
  GstCaps *caps = NULL;
  GstClockTime first_pts = GST_CLOCK_TIME_NONE;
  gboolean start = FALSE, segment_only = FALSE, eos = FALSE, timed_out = FALSE;
  gboolean post = FALSE;
  GstFlowReturn ret = GST_FLOW_OK;
  GstClockTime idle;

  /* while silent, the task sleeps until this much output is missing */
  GST_OBJECT_LOCK (self);
  idle = CLAMP (priv->latency_ms * GST_MSECOND, GAP_INTERVAL, GAP_IDLE_MAX);
  GST_OBJECT_UNLOCK (self);

  GST_S2S_BASE_LOCK (self);
  for (;;) {
    GstClockTime now;
    GstBuffer *head;
    gint64 wake, mono;

    if (priv->stopping || priv->flushing || priv->fatal) {
      GST_S2S_BASE_UNLOCK (self);
      gst_pad_pause_task (pad);
      return;
    }
    if (!priv->src_started) {
      start = TRUE;
      priv->src_started = TRUE;
      priv->need_segment = FALSE;
      caps = gst_s2s_audio_format_to_caps (&priv->out_format);
      break;
    }
    if (priv->need_segment) {
      priv->need_segment = FALSE;
      segment_only = TRUE;
      break;
    }

    if (priv->traced)
      gst_s2s_trace_prefetch_push (&priv->trace_pushes);
    now = current_running_time (self);
    head = g_queue_peek_head (&priv->out_queue);
    if (head && (!GST_CLOCK_TIME_IS_VALID (now) || GST_BUFFER_PTS (head) <=
            now)) {
      gsize size = gst_buffer_get_size (head);

      buf = g_queue_pop_head (&priv->out_queue);
      priv->pushed_end = GST_BUFFER_PTS (buf) + GST_BUFFER_DURATION (buf);
      if (priv->traced) {
        /* the push, at the time it is due (read just above) */
        post = gst_s2s_trace_is_first_audio (&priv->trace_pushes,
            GST_BUFFER_PTS (buf), priv->pushed_end, &first_pts);
        post |= gst_s2s_trace_push (&priv->trace_pushes, GST_BUFFER_PTS (buf),
            GST_BUFFER_DURATION (buf), GST_BUFFER_DTS (buf), now);
      }
      GST_BUFFER_DTS (buf) = GST_CLOCK_TIME_NONE;
      priv->last_buf_end = priv->pushed_end;
      priv->item_pushed_bytes = MIN (priv->item_pushed_bytes + size,
          priv->item_received_bytes);
      priv->bytes_out += size;
      break;
    }
    if (eos_ready_locked (self)) {
      timed_out = !g_queue_is_empty (&priv->out_queue)
          || priv->awaiting_response || priv->response_active
          || !priv->eos_handled;
      g_queue_clear_full (&priv->out_queue, (GDestroyNotify) gst_buffer_unref);
      priv->eos_pushed = TRUE;
      eos = TRUE;
      break;
    }
    if (head == NULL && GST_CLOCK_TIME_IS_VALID (now) &&
        now >= priv->pushed_end + GAP_INTERVAL) {
      GstClockTime start_ts = priv->pushed_end, dur = now - start_ts;

      if (priv->silence_fill) {
        gsize n = time_to_bytes (&priv->out_format, dur);
        buf = gst_buffer_new_allocate (NULL, n, NULL);
        gst_buffer_memset (buf, 0, silence_byte (&priv->out_format), n);
        dur = gst_s2s_audio_format_bytes_to_time (&priv->out_format, n);
        GST_BUFFER_PTS (buf) = start_ts;
        GST_BUFFER_DURATION (buf) = dur;
        priv->last_buf_end = start_ts + dur;
      } else {
        gap = gst_event_new_gap (start_ts, dur);
      }
      priv->pushed_end = start_ts + dur;
      if (priv->out_end < priv->pushed_end)
        priv->out_end = priv->pushed_end;
      break;
    }

    /* Sleep until the head is due or, with nothing queued, until `latency`
     * of output is missing (GAP_INTERVAL when pushed_end is not known);
     * new audio behind an empty queue, state changes and stopping wake
     * the task. Draining after input EOS, the EOS conditions are polled
     * every GAP_INTERVAL as before. */
    mono = g_get_monotonic_time ();
    if (head && GST_CLOCK_TIME_IS_VALID (now))
      wake = mono + (gint64) ((GST_BUFFER_PTS (head) - now) / GST_USECOND) + 1;
    else if (!head && GST_CLOCK_TIME_IS_VALID (now) &&
        priv->pushed_end + idle > now)
      wake = mono + (gint64) ((priv->pushed_end + idle - now) / GST_USECOND) +
          1;
    else
      wake = mono + GAP_INTERVAL / GST_USECOND;
    if (priv->in_eos) {
      wake = MIN (wake, mono + GAP_INTERVAL / GST_USECOND);
      if (priv->eos_deadline)
        wake = MIN (wake, priv->eos_deadline);
    }
    g_cond_wait_until (&priv->cond, &priv->lock, wake);
    /* counted by the unit tests (test_output_wakes) */
    GST_TRACE_OBJECT (self, "src task woke");
  }
  GST_S2S_BASE_UNLOCK (self);

  if (start || segment_only) {
    GstSegment seg;

    if (start) {
      gchar *stream_id = gst_pad_create_stream_id (pad, GST_ELEMENT (self),
          "s2s");
      gst_pad_push_event (pad, gst_event_new_stream_start (stream_id));
      g_free (stream_id);
      gst_pad_push_event (pad, gst_event_new_caps (caps));
      gst_caps_unref (caps);
    }
    /* output timestamps are running time */
    gst_segment_init (&seg, GST_FORMAT_TIME);
    gst_pad_push_event (pad, gst_event_new_segment (&seg));
    return;
  }

  if (buf) {
    /* the tracer learns of a first audio before it goes downstream */
    if (G_UNLIKELY (post))
      post_trace_records (self, first_pts);
    GST_LOG_OBJECT (self, "pushing %" GST_PTR_FORMAT, buf);
    ret = gst_pad_push (pad, buf);
  } else if (gap) {
    if (!gst_pad_push_event (pad, gap))
      GST_DEBUG_OBJECT (self, "GAP not handled downstream");
  } else if (eos) {
    if (timed_out)
      GST_ELEMENT_WARNING (self, STREAM, FAILED,
          (_("The reply did not finish within eos-timeout.")),
          ("input ended; stopping the drain after %u ms",
              priv->eos_timeout_ms));
    GST_INFO_OBJECT (self, "pushing EOS");
    gst_pad_push_event (pad, gst_event_new_eos ());
    gst_pad_pause_task (pad);
    return;
  }

  if (ret != GST_FLOW_OK) {
    GST_DEBUG_OBJECT (self, "pausing task: %s", gst_flow_get_name (ret));
    gst_pad_pause_task (pad);
    if (ret == GST_FLOW_NOT_LINKED || ret < GST_FLOW_EOS) {
      GST_ELEMENT_FLOW_ERROR (self, ret);
      gst_pad_push_event (pad, gst_event_new_eos ());
    }
  }
}

static gboolean
gst_s2s_base_src_activate_mode (GstPad * pad, GstObject * parent,
    GstPadMode mode, gboolean active)
{
  GstS2SBase *self = GST_S2S_BASE (parent);

  if (mode != GST_PAD_MODE_PUSH)
    return FALSE;
  if (active)
    return gst_pad_start_task (pad, (GstTaskFunction) gst_s2s_base_src_loop,
        pad, NULL);

  GST_S2S_BASE_LOCK (self);
  self->priv->stopping = TRUE;
  GST_S2S_BASE_SIGNAL (self);
  GST_S2S_BASE_UNLOCK (self);
  return gst_pad_stop_task (pad);
}

static gboolean
gst_s2s_base_src_event (GstPad * pad, GstObject * parent, GstEvent * event)
{
  GstS2SBase *self = GST_S2S_BASE (parent);

  if (GST_EVENT_TYPE (event) == GST_EVENT_LATENCY) {
    GstClockTime latency;
    gst_event_parse_latency (event, &latency);
    GST_S2S_BASE_LOCK (self);
    self->priv->pipeline_latency = latency;
    GST_S2S_BASE_UNLOCK (self);
    GST_DEBUG_OBJECT (self, "pipeline latency %" GST_TIME_FORMAT,
        GST_TIME_ARGS (latency));
  }
  return gst_pad_event_default (pad, parent, event);
}

static gboolean
gst_s2s_base_src_query (GstPad * pad, GstObject * parent, GstQuery * query)
{
  GstS2SBase *self = GST_S2S_BASE (parent);

  switch (GST_QUERY_TYPE (query)) {
    case GST_QUERY_LATENCY:{
      GstQuery *up = gst_query_new_latency ();
      GstClockTime min = 0, max = GST_CLOCK_TIME_NONE, ours;
      gboolean live = FALSE;

      if (gst_pad_peer_query (self->sinkpad, up))
        gst_query_parse_latency (up, &live, &min, &max);
      gst_query_unref (up);
      GST_OBJECT_LOCK (self);
      ours = self->priv->latency_ms * GST_MSECOND;
      GST_OBJECT_UNLOCK (self);
      /* the output is produced in real time whatever the input: live */
      min += ours;
      if (GST_CLOCK_TIME_IS_VALID (max))
        max += ours;
      gst_query_set_latency (query, TRUE, min, max);
      GST_DEBUG_OBJECT (self, "latency: upstream live %d, answering min %"
          GST_TIME_FORMAT, live, GST_TIME_ARGS (min));
      return TRUE;
    }
    case GST_QUERY_CAPS:
      answer_caps_query (pad, query);
      return TRUE;
    default:
      return gst_pad_query_default (pad, parent, query);
  }
}

/* ------------------------------------------------------------------------ */
/* State */

static GstStateChangeReturn
gst_s2s_base_change_state (GstElement * element, GstStateChange transition)
{
  GstS2SBase *self = GST_S2S_BASE (element);
  GstStateChangeReturn ret;

  switch (transition) {
    case GST_STATE_CHANGE_NULL_TO_READY:
      if (!check_config (self))
        return GST_STATE_CHANGE_FAILURE;
      break;
    case GST_STATE_CHANGE_READY_TO_PAUSED:
      start_session (self);
      break;
    case GST_STATE_CHANGE_PAUSED_TO_READY:
      stop_session (self);
      break;
    default:
      break;
  }

  ret = gst_s2s_base_parent_class->change_state (element, transition);
  if (ret == GST_STATE_CHANGE_FAILURE)
    return ret;

  switch (transition) {
    case GST_STATE_CHANGE_READY_TO_PAUSED:
    case GST_STATE_CHANGE_PLAYING_TO_PAUSED:
      /* output comes in real time, like a live source: no preroll */
      ret = GST_STATE_CHANGE_NO_PREROLL;
      break;
    default:
      break;
  }

  /* wake the chain (waiting for PLAYING) and the src task */
  GST_S2S_BASE_LOCK (self);
  GST_S2S_BASE_SIGNAL (self);
  GST_S2S_BASE_UNLOCK (self);
  return ret;
}

/* ------------------------------------------------------------------------ */
/* Properties */

static GstStructure *
build_stats (GstS2SBase * self)
{
  GstS2SBasePrivate *priv = self->priv;
  GstStructure *s;

  GST_S2S_BASE_LOCK (self);
  s = gst_structure_new ("s2s-stats",
      "turns", G_TYPE_UINT, priv->turns,
      "interruptions", G_TYPE_UINT, priv->interruptions,
      "reconnects", G_TYPE_UINT, priv->reconnects,
      "rotations", G_TYPE_UINT, priv->rotations,
      "bytes-in", G_TYPE_UINT64, priv->bytes_in,
      "bytes-out", G_TYPE_UINT64, priv->bytes_out,
      "ms-in", G_TYPE_UINT64, (guint64) (gst_s2s_audio_format_bytes_to_time
          (&priv->in_format, priv->bytes_in) / GST_MSECOND),
      "ms-out", G_TYPE_UINT64, (guint64) (gst_s2s_audio_format_bytes_to_time
          (&priv->out_format, priv->bytes_out) / GST_MSECOND),
      "input-tokens", G_TYPE_INT64, priv->usage_total.input_tokens,
      "output-tokens", G_TYPE_INT64, priv->usage_total.output_tokens,
      "input-audio-tokens", G_TYPE_INT64, priv->usage_total.input_audio_tokens,
      "output-audio-tokens", G_TYPE_INT64,
      priv->usage_total.output_audio_tokens,
      "cached-tokens", G_TYPE_INT64, priv->usage_total.cached_tokens,
      "last-error", G_TYPE_STRING, priv->last_error, NULL);
  GST_S2S_BASE_UNLOCK (self);
  return s;
}

static gboolean
session_running (GstS2SBase * self)
{
  return GST_STATE (self) >= GST_STATE_PAUSED;
}

static void
gst_s2s_base_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec)
{
  GstS2SBase *self = GST_S2S_BASE (object);
  GstS2SBasePrivate *priv = self->priv;
  gboolean update = FALSE, latency_changed = FALSE;

  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_URL:
      g_free (priv->url);
      priv->url = g_value_dup_string (value);
      break;
    case PROP_API_KEY:
      g_free (priv->api_key);
      priv->api_key = g_value_dup_string (value);
      break;
    case PROP_MODEL:
      g_free (priv->model);
      priv->model = g_value_dup_string (value);
      break;
    case PROP_VOICE:
      g_free (priv->voice);
      priv->voice = g_value_dup_string (value);
      update = TRUE;
      break;
    case PROP_INSTRUCTIONS:
      g_free (priv->instructions);
      priv->instructions = g_value_dup_string (value);
      update = TRUE;
      break;
    case PROP_LANGUAGE:
      g_free (priv->language);
      priv->language = g_value_dup_string (value);
      update = TRUE;
      break;
    case PROP_TEMPERATURE:
      priv->temperature = g_value_get_double (value);
      update = TRUE;
      break;
    case PROP_MAX_OUTPUT_TOKENS:
      priv->max_output_tokens = g_value_get_int (value);
      update = TRUE;
      break;
    case PROP_TOOLS:{
      const gchar *json = g_value_get_string (value);
      JsonArray *arr;
      GError *err = NULL;

      /* running sessions only take valid tools; before READY the check
       * happens on the state change, with an error naming the property */
      if (session_running (self) && json &&
          (arr = gst_s2s_parse_tools (json, &err)) == NULL) {
        GST_WARNING_OBJECT (self, "ignoring invalid tools: %s", err->message);
        g_clear_error (&err);
        break;
      } else if (session_running (self) && json) {
        json_array_unref (arr);
      }
      g_free (priv->tools_json);
      priv->tools_json = g_value_dup_string (value);
      update = TRUE;
      break;
    }
    case PROP_HISTORY:
      g_free (priv->history_json);
      priv->history_json = g_value_dup_string (value);
      break;
    case PROP_TURN_DETECTION:
      priv->turn_detection = g_value_get_enum (value);
      update = TRUE;
      break;
    case PROP_VAD_THRESHOLD:
      priv->vad_threshold = g_value_get_double (value);
      update = TRUE;
      break;
    case PROP_SILENCE_DURATION:
      priv->silence_duration = g_value_get_int (value);
      update = TRUE;
      break;
    case PROP_PREFIX_PADDING:
      priv->prefix_padding = g_value_get_int (value);
      update = TRUE;
      break;
    case PROP_TRANSCRIBE_INPUT:
      priv->transcribe_input = g_value_get_boolean (value);
      update = TRUE;
      break;
    case PROP_TRANSCRIPTION_MODEL:
      g_free (priv->transcription_model);
      priv->transcription_model = g_value_dup_string (value);
      update = TRUE;
      break;
    case PROP_REASONING:
      priv->reasoning = g_value_get_enum (value);
      break;
    case PROP_LATENCY:
      latency_changed = priv->latency_ms != g_value_get_uint (value);
      priv->latency_ms = g_value_get_uint (value);
      break;
    case PROP_LATENCY_TARGET:
      priv->latency_target_ms = g_value_get_uint (value);
      break;
    case PROP_SSL_CA_FILE:
      g_free (priv->ssl_ca_file);
      priv->ssl_ca_file = g_value_dup_string (value);
      break;
    case PROP_PROXY:
      g_free (priv->proxy);
      priv->proxy = g_value_dup_string (value);
      break;
    case PROP_CONNECT_TIMEOUT:
      priv->connect_timeout_ms = g_value_get_uint (value);
      break;
    case PROP_EOS_TIMEOUT:
      priv->eos_timeout_ms = g_value_get_uint (value);
      break;
    case PROP_SILENCE_FILL:
      priv->silence_fill = g_value_get_boolean (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);

  if (update && session_running (self))
    schedule_session_update (self);
  if (latency_changed)
    gst_element_post_message (GST_ELEMENT (self),
        gst_message_new_latency (GST_OBJECT (self)));
}

static void
gst_s2s_base_get_property (GObject * object, guint prop_id, GValue * value,
    GParamSpec * pspec)
{
  GstS2SBase *self = GST_S2S_BASE (object);
  GstS2SBasePrivate *priv = self->priv;

  switch (prop_id) {
    case PROP_STATS:
      g_value_take_boxed (value, build_stats (self));
      return;
    case PROP_HISTORY:
      /* after a session ran: the conversation as the user heard it */
      GST_S2S_BASE_LOCK (self);
      if (priv->conv->len > 0) {
        g_value_take_string (value, conv_to_json (self));
        GST_S2S_BASE_UNLOCK (self);
        return;
      }
      GST_S2S_BASE_UNLOCK (self);
      GST_OBJECT_LOCK (self);
      g_value_set_string (value, priv->history_json);
      GST_OBJECT_UNLOCK (self);
      return;
    default:
      break;
  }

  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_URL:
      g_value_set_string (value, priv->url);
      break;
    case PROP_API_KEY:
      /* never readable back in clear */
      g_value_set_string (value, priv->api_key && *priv->api_key ?
          "*****" : NULL);
      break;
    case PROP_MODEL:
      g_value_set_string (value, priv->model);
      break;
    case PROP_VOICE:
      g_value_set_string (value, priv->voice);
      break;
    case PROP_INSTRUCTIONS:
      g_value_set_string (value, priv->instructions);
      break;
    case PROP_LANGUAGE:
      g_value_set_string (value, priv->language);
      break;
    case PROP_TEMPERATURE:
      g_value_set_double (value, priv->temperature);
      break;
    case PROP_MAX_OUTPUT_TOKENS:
      g_value_set_int (value, priv->max_output_tokens);
      break;
    case PROP_TOOLS:
      g_value_set_string (value, priv->tools_json);
      break;
    case PROP_TURN_DETECTION:
      g_value_set_enum (value, priv->turn_detection);
      break;
    case PROP_VAD_THRESHOLD:
      g_value_set_double (value, priv->vad_threshold);
      break;
    case PROP_SILENCE_DURATION:
      g_value_set_int (value, priv->silence_duration);
      break;
    case PROP_PREFIX_PADDING:
      g_value_set_int (value, priv->prefix_padding);
      break;
    case PROP_TRANSCRIBE_INPUT:
      g_value_set_boolean (value, priv->transcribe_input);
      break;
    case PROP_TRANSCRIPTION_MODEL:
      g_value_set_string (value, priv->transcription_model);
      break;
    case PROP_REASONING:
      g_value_set_enum (value, priv->reasoning);
      break;
    case PROP_LATENCY:
      g_value_set_uint (value, priv->latency_ms);
      break;
    case PROP_LATENCY_TARGET:
      g_value_set_uint (value, priv->latency_target_ms);
      break;
    case PROP_SSL_CA_FILE:
      g_value_set_string (value, priv->ssl_ca_file);
      break;
    case PROP_PROXY:
      g_value_set_string (value, priv->proxy);
      break;
    case PROP_CONNECT_TIMEOUT:
      g_value_set_uint (value, priv->connect_timeout_ms);
      break;
    case PROP_EOS_TIMEOUT:
      g_value_set_uint (value, priv->eos_timeout_ms);
      break;
    case PROP_SILENCE_FILL:
      g_value_set_boolean (value, priv->silence_fill);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
}

static void
gst_s2s_base_finalize (GObject * object)
{
  GstS2SBase *self = GST_S2S_BASE (object);
  GstS2SBasePrivate *priv = self->priv;

  g_free (priv->url);
  if (priv->api_key)
    memset (priv->api_key, 0, strlen (priv->api_key));
  g_free (priv->api_key);
  g_free (priv->model);
  g_free (priv->voice);
  g_free (priv->instructions);
  g_free (priv->language);
  g_free (priv->tools_json);
  g_free (priv->history_json);
  g_free (priv->transcription_model);
  g_free (priv->ssl_ca_file);
  g_free (priv->proxy);
  g_free (priv->session_id);
  g_free (priv->response_id);
  g_free (priv->interrupted_response_id);
  g_free (priv->audio_item_id);
  g_free (priv->last_error);
  g_queue_clear_full (&priv->out_queue, (GDestroyNotify) gst_buffer_unref);
  g_byte_array_unref (priv->in_pending);
  g_mutex_clear (&priv->direct_lock);
  g_mutex_clear (&priv->io_lock);
  g_ptr_array_unref (priv->io_tasks);
  g_byte_array_unref (priv->in_spare);
  g_hash_table_unref (priv->pending_calls);
  g_ptr_array_unref (priv->conv);
  g_clear_pointer (&priv->trace, gst_s2s_trace_free);
  g_clear_pointer (&priv->tracers, g_ptr_array_unref);
  g_clear_pointer (&priv->trace_sinks, g_array_unref);
  g_mutex_clear (&priv->trace_sink_lock);
  g_mutex_clear (&priv->lock);
  g_cond_clear (&priv->cond);

  G_OBJECT_CLASS (gst_s2s_base_parent_class)->finalize (object);
}

#define MUTABLE_READY (G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | \
    GST_PARAM_MUTABLE_READY)
#define MUTABLE_PLAYING (G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | \
    GST_PARAM_MUTABLE_PLAYING)

static void
gst_s2s_base_class_init (GstS2SBaseClass * klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);

  gobject_class->set_property = gst_s2s_base_set_property;
  gobject_class->get_property = gst_s2s_base_get_property;
  gobject_class->finalize = gst_s2s_base_finalize;
  element_class->change_state = GST_DEBUG_FUNCPTR (gst_s2s_base_change_state);
  element_class->post_message = GST_DEBUG_FUNCPTR (gst_s2s_base_post_message);

  g_object_class_install_property (gobject_class, PROP_URL,
      g_param_spec_string ("url", "URL",
          "Endpoint (ws://, wss://, http://, https://); NULL for the "
          "provider's own", NULL, MUTABLE_READY));
  g_object_class_install_property (gobject_class, PROP_API_KEY,
      g_param_spec_string ("api-key", "API key",
          "Provider API key; falls back to the provider's environment "
          "variable. Never logged; reads back masked", NULL, MUTABLE_READY));
  g_object_class_install_property (gobject_class, PROP_MODEL,
      g_param_spec_string ("model", "Model",
          "Model name (NULL: the provider's default)", NULL, MUTABLE_READY));
  g_object_class_install_property (gobject_class, PROP_VOICE,
      g_param_spec_string ("voice", "Voice",
          "Output voice (NULL: the provider's default); providers fix it once "
          "the model has spoken", NULL, MUTABLE_PLAYING));
  g_object_class_install_property (gobject_class, PROP_INSTRUCTIONS,
      g_param_spec_string ("instructions", "Instructions",
          "System instructions for the model", NULL, MUTABLE_PLAYING));
  g_object_class_install_property (gobject_class, PROP_LANGUAGE,
      g_param_spec_string ("language", "Language",
          "Language of the user's speech (BCP-47, e.g. \"en\"), a hint for "
          "transcription", NULL, MUTABLE_PLAYING));
  g_object_class_install_property (gobject_class, PROP_TEMPERATURE,
      g_param_spec_double ("temperature", "Temperature",
          "Sampling temperature (-1: provider default; ignored by providers "
          "without one)", -1.0, 2.0, -1.0, MUTABLE_PLAYING));
  g_object_class_install_property (gobject_class, PROP_MAX_OUTPUT_TOKENS,
      g_param_spec_int ("max-output-tokens", "Max output tokens",
          "Limit on tokens per response (0: no limit)", 0, G_MAXINT, 0,
          MUTABLE_PLAYING));
  g_object_class_install_property (gobject_class, PROP_TOOLS,
      g_param_spec_string ("tools", "Tools",
          "Functions the model may call, JSON: [{\"name\", \"description\", "
          "\"parameters\": JSON Schema}]", NULL, MUTABLE_PLAYING));
  g_object_class_install_property (gobject_class, PROP_HISTORY,
      g_param_spec_string ("history", "History",
          "Conversation, JSON: [{\"type\":\"message\",\"role\",\"text\"}, "
          "{\"type\":\"function_call\",...}, {\"type\":"
          "\"function_call_output\",...}]. Set: seeds the next session. "
          "Read: the conversation so far as the user heard it", NULL,
          MUTABLE_READY));
  g_object_class_install_property (gobject_class, PROP_TURN_DETECTION,
      g_param_spec_enum ("turn-detection", "Turn detection",
          "Who ends the user's turn", GST_TYPE_S2S_TURN_DETECTION,
          DEFAULT_TURN_DETECTION, MUTABLE_PLAYING));
  g_object_class_install_property (gobject_class, PROP_VAD_THRESHOLD,
      g_param_spec_double ("vad-threshold", "VAD threshold",
          "Server VAD activation threshold 0..1 (-1: provider default)",
          -1.0, 1.0, -1.0, MUTABLE_PLAYING));
  g_object_class_install_property (gobject_class, PROP_SILENCE_DURATION,
      g_param_spec_int ("silence-duration", "Silence duration",
          "Silence that ends a turn with server VAD, in ms (-1: provider "
          "default)", -1, 10000, -1, MUTABLE_PLAYING));
  g_object_class_install_property (gobject_class, PROP_PREFIX_PADDING,
      g_param_spec_int ("prefix-padding", "Prefix padding",
          "Audio kept before detected speech, in ms (-1: provider default)",
          -1, 10000, -1, MUTABLE_PLAYING));
  g_object_class_install_property (gobject_class, PROP_TRANSCRIBE_INPUT,
      g_param_spec_boolean ("transcribe-input", "Transcribe input",
          "Ask the provider for transcripts of the user's speech", TRUE,
          MUTABLE_PLAYING));
  g_object_class_install_property (gobject_class, PROP_TRANSCRIPTION_MODEL,
      g_param_spec_string ("transcription-model", "Transcription model",
          "Model for input transcription (NULL: provider default)", NULL,
          MUTABLE_PLAYING));
  g_object_class_install_property (gobject_class, PROP_REASONING,
      g_param_spec_enum ("reasoning", "Reasoning",
          "Who decides what the model says", GST_TYPE_S2S_REASONING,
          DEFAULT_REASONING, MUTABLE_READY));
  g_object_class_install_property (gobject_class, PROP_LATENCY,
      g_param_spec_uint ("latency", "Latency",
          "Latency this element adds to the upstream latency in the LATENCY "
          "query, in ms: the headroom output has downstream", 0, 10000,
          DEFAULT_LATENCY_MS, MUTABLE_PLAYING));
  g_object_class_install_property (gobject_class, PROP_LATENCY_TARGET,
      g_param_spec_uint ("latency-target", "Latency target",
          "Post a WARNING when a reply's first audio comes later than this "
          "after the end of the user's turn, in ms (0: off)", 0, 60000,
          DEFAULT_LATENCY_TARGET_MS, MUTABLE_PLAYING));
  g_object_class_install_property (gobject_class, PROP_SSL_CA_FILE,
      g_param_spec_string ("ssl-ca-file", "SSL CA file",
          "PEM file of extra trust anchors (verification stays on)", NULL,
          MUTABLE_READY));
  g_object_class_install_property (gobject_class, PROP_PROXY,
      g_param_spec_string ("proxy", "Proxy",
          "Proxy URI (NULL: the system's proxy settings)", NULL,
          MUTABLE_READY));
  g_object_class_install_property (gobject_class, PROP_CONNECT_TIMEOUT,
      g_param_spec_uint ("connect-timeout", "Connect timeout",
          "Time allowed to connect, in ms (0: none)", 0, G_MAXUINT,
          DEFAULT_CONNECT_TIMEOUT_MS, MUTABLE_READY));
  g_object_class_install_property (gobject_class, PROP_EOS_TIMEOUT,
      g_param_spec_uint ("eos-timeout", "EOS timeout",
          "After input EOS, the longest wait for the reply to finish "
          "before EOS is pushed, in ms", 0, G_MAXUINT, DEFAULT_EOS_TIMEOUT_MS,
          MUTABLE_PLAYING));
  g_object_class_install_property (gobject_class, PROP_SILENCE_FILL,
      g_param_spec_boolean ("silence-fill", "Silence fill",
          "While the model is silent push silence buffers instead of GAP "
          "events (for downstream elements that mishandle GAP)", FALSE,
          MUTABLE_READY));
  g_object_class_install_property (gobject_class, PROP_STATS,
      g_param_spec_boxed ("stats", "Statistics",
          "turns, interruptions, reconnects, rotations, bytes-in/out, "
          "ms-in/out, token totals, last-error", GST_TYPE_STRUCTURE,
          G_PARAM_READABLE | G_PARAM_STATIC_STRINGS));

  /**
   * GstS2SBase::send-text:
   * @text: user text
   * @respond: ask for a response right away
   *
   * Adds user text to the conversation. Returns FALSE when no session runs.
   */
  gst_s2s_base_signals[SIGNAL_SEND_TEXT] =
      g_signal_new_class_handler ("send-text", G_TYPE_FROM_CLASS (klass),
      G_SIGNAL_RUN_LAST | G_SIGNAL_ACTION,
      G_CALLBACK (gst_s2s_base_send_text), NULL, NULL, NULL,
      G_TYPE_BOOLEAN, 2, G_TYPE_STRING, G_TYPE_BOOLEAN);
  /**
   * GstS2SBase::tool-result:
   * @call_id: the call-id of an `s2s-tool-call` message
   * @output: the result, a JSON (or plain) string
   *
   * Answers a tool call; the reply follows once the response that made the
   * call is done. Returns FALSE for an unknown call-id.
   */
  gst_s2s_base_signals[SIGNAL_TOOL_RESULT] =
      g_signal_new_class_handler ("tool-result", G_TYPE_FROM_CLASS (klass),
      G_SIGNAL_RUN_LAST | G_SIGNAL_ACTION,
      G_CALLBACK (gst_s2s_base_tool_result), NULL, NULL, NULL,
      G_TYPE_BOOLEAN, 2, G_TYPE_STRING, G_TYPE_STRING);
  /**
   * GstS2SBase::interrupt:
   *
   * Cancels the current response, drops its queued audio and tells the
   * provider how much was heard.
   */
  gst_s2s_base_signals[SIGNAL_INTERRUPT] =
      g_signal_new_class_handler ("interrupt", G_TYPE_FROM_CLASS (klass),
      G_SIGNAL_RUN_LAST | G_SIGNAL_ACTION,
      G_CALLBACK (gst_s2s_base_interrupt), NULL, NULL, NULL, G_TYPE_NONE, 0);
  /**
   * GstS2SBase::say:
   * @text: assistant text to speak
   *
   * With external reasoning: the model speaks @text. Returns FALSE when no
   * session runs.
   */
  gst_s2s_base_signals[SIGNAL_SAY] =
      g_signal_new_class_handler ("say", G_TYPE_FROM_CLASS (klass),
      G_SIGNAL_RUN_LAST | G_SIGNAL_ACTION,
      G_CALLBACK (gst_s2s_base_say), NULL, NULL, NULL,
      G_TYPE_BOOLEAN, 1, G_TYPE_STRING);
  /**
   * GstS2SBase::commit:
   *
   * Ends the user's turn when turn-detection is none: the audio so far is
   * committed and a response requested.
   */
  gst_s2s_base_signals[SIGNAL_COMMIT] =
      g_signal_new_class_handler ("commit", G_TYPE_FROM_CLASS (klass),
      G_SIGNAL_RUN_LAST | G_SIGNAL_ACTION,
      G_CALLBACK (gst_s2s_base_commit), NULL, NULL, NULL, G_TYPE_NONE, 0);

  gst_type_mark_as_plugin_api (GST_TYPE_S2S_BASE, 0);
  gst_type_mark_as_plugin_api (GST_TYPE_S2S_TURN_DETECTION, 0);
  gst_type_mark_as_plugin_api (GST_TYPE_S2S_REASONING, 0);
}

static void
gst_s2s_base_init (GstS2SBase * self, gpointer g_class)
{
  GstElementClass *klass = GST_ELEMENT_CLASS (g_class);
  GstS2SBasePrivate *priv = gst_s2s_base_get_instance_private (self);
  GstPadTemplate *templ;

  self->priv = priv;
  set_log_tag (self, NULL);
  g_mutex_init (&priv->lock);
  g_cond_init (&priv->cond);
  g_queue_init (&priv->out_queue);
  priv->in_pending = g_byte_array_new ();
  g_mutex_init (&priv->direct_lock);
  g_mutex_init (&priv->io_lock);
  g_mutex_init (&priv->trace_sink_lock);
  priv->io_tasks = g_ptr_array_new ();
  priv->in_spare = g_byte_array_new ();
  priv->pending_calls = g_hash_table_new_full (g_str_hash, g_str_equal,
      g_free, g_free);
  priv->conv = g_ptr_array_new_with_free_func ((GDestroyNotify)
      conv_item_free);
  gst_segment_init (&priv->in_segment, GST_FORMAT_TIME);

  priv->temperature = -1.0;
  priv->vad_threshold = -1.0;
  priv->silence_duration = -1;
  priv->prefix_padding = -1;
  priv->turn_detection = DEFAULT_TURN_DETECTION;
  priv->transcribe_input = TRUE;
  priv->reasoning = DEFAULT_REASONING;
  priv->latency_ms = DEFAULT_LATENCY_MS;
  priv->connect_timeout_ms = DEFAULT_CONNECT_TIMEOUT_MS;
  priv->eos_timeout_ms = DEFAULT_EOS_TIMEOUT_MS;
  priv->in_format.encoding = GST_S2S_ENCODING_PCM_S16LE;
  priv->in_format.rate = 24000;
  priv->out_format = priv->in_format;
  priv->item_first_pts = GST_CLOCK_TIME_NONE;
  priv->last_buf_end = GST_CLOCK_TIME_NONE;

  templ = gst_element_class_get_pad_template (klass, "sink");
  self->sinkpad = gst_pad_new_from_template (templ, "sink");
  gst_pad_set_chain_function (self->sinkpad,
      GST_DEBUG_FUNCPTR (gst_s2s_base_chain));
  gst_pad_set_event_function (self->sinkpad,
      GST_DEBUG_FUNCPTR (gst_s2s_base_sink_event));
  gst_pad_set_query_function (self->sinkpad,
      GST_DEBUG_FUNCPTR (gst_s2s_base_sink_query));
  gst_element_add_pad (GST_ELEMENT (self), self->sinkpad);

  templ = gst_element_class_get_pad_template (klass, "src");
  self->srcpad = gst_pad_new_from_template (templ, "src");
  gst_pad_set_activatemode_function (self->srcpad,
      GST_DEBUG_FUNCPTR (gst_s2s_base_src_activate_mode));
  gst_pad_set_event_function (self->srcpad,
      GST_DEBUG_FUNCPTR (gst_s2s_base_src_event));
  gst_pad_set_query_function (self->srcpad,
      GST_DEBUG_FUNCPTR (gst_s2s_base_src_query));
  gst_pad_use_fixed_caps (self->srcpad);
  gst_element_add_pad (GST_ELEMENT (self), self->srcpad);

  GST_OBJECT_FLAG_SET (self, GST_ELEMENT_FLAG_SOURCE);
}
