/* gst-s2s
 * Copyright (C) 2026 gst-s2s developers
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2.1 of the License, or (at your option) any later version.
 */

#ifndef __GST_S2S_BASE_H__
#define __GST_S2S_BASE_H__

#include <gst/gst.h>
#include <libsoup/soup.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS
#define GST_TYPE_S2S_BASE            (gst_s2s_base_get_type ())
#define GST_S2S_BASE(obj)            (G_TYPE_CHECK_INSTANCE_CAST ((obj), GST_TYPE_S2S_BASE, GstS2SBase))
#define GST_S2S_BASE_CLASS(klass)    (G_TYPE_CHECK_CLASS_CAST ((klass), GST_TYPE_S2S_BASE, GstS2SBaseClass))
#define GST_S2S_BASE_GET_CLASS(obj)  (G_TYPE_INSTANCE_GET_CLASS ((obj), GST_TYPE_S2S_BASE, GstS2SBaseClass))
#define GST_IS_S2S_BASE(obj)         (G_TYPE_CHECK_INSTANCE_TYPE ((obj), GST_TYPE_S2S_BASE))
typedef struct _GstS2SBase GstS2SBase;
typedef struct _GstS2SBaseClass GstS2SBaseClass;
typedef struct _GstS2SBasePrivate GstS2SBasePrivate;

typedef enum
{
  GST_S2S_TURN_DETECTION_SERVER_VAD,
  GST_S2S_TURN_DETECTION_SEMANTIC_VAD,
  GST_S2S_TURN_DETECTION_NONE,
} GstS2STurnDetection;

#define GST_TYPE_S2S_TURN_DETECTION (gst_s2s_turn_detection_get_type ())
GType gst_s2s_turn_detection_get_type (void);

typedef enum
{
  GST_S2S_REASONING_BUILT_IN,
  GST_S2S_REASONING_EXTERNAL,
} GstS2SReasoning;

#define GST_TYPE_S2S_REASONING (gst_s2s_reasoning_get_type ())
GType gst_s2s_reasoning_get_type (void);

/* The contract's error codes (ARCHITECTURE.md §3), in `s2s-error` details */
typedef enum
{
  GST_S2S_ERROR_AUTHENTICATION,
  GST_S2S_ERROR_AUTHORIZATION,
  GST_S2S_ERROR_RATE_LIMIT,
  GST_S2S_ERROR_QUOTA,
  GST_S2S_ERROR_INVALID_REQUEST,
  GST_S2S_ERROR_INVALID_CONFIG,
  GST_S2S_ERROR_NETWORK,
  GST_S2S_ERROR_TIMEOUT,
  GST_S2S_ERROR_SESSION_EXPIRED,
  GST_S2S_ERROR_SERVER_ERROR,
  GST_S2S_ERROR_PROTOCOL,
  GST_S2S_ERROR_AUDIO_FORMAT,
} GstS2SErrorCode;

const gchar *gst_s2s_error_code_to_string (GstS2SErrorCode code);

typedef enum
{
  GST_S2S_ENCODING_PCM_S16LE,
  GST_S2S_ENCODING_MULAW,
  GST_S2S_ENCODING_ALAW,
} GstS2SEncoding;

/* Mono audio as a provider sends or takes it */
typedef struct
{
  GstS2SEncoding encoding;
  gint rate;
} GstS2SAudioFormat;

gboolean gst_s2s_audio_format_from_caps (GstS2SAudioFormat * fmt,
    const GstCaps * caps);
GstCaps *gst_s2s_audio_format_to_caps (const GstS2SAudioFormat * fmt);
guint gst_s2s_audio_format_bytes_per_sample (const GstS2SAudioFormat * fmt);
GstClockTime gst_s2s_audio_format_bytes_to_time (const GstS2SAudioFormat * fmt,
    guint64 bytes);

/* Everything a provider needs to build its session: a snapshot of the
 * properties, taken under the object lock, read only on the I/O thread. */
typedef struct
{
  gchar *url;
  gchar *api_key;
  gchar *model;
  gchar *voice;
  gchar *instructions;
  gchar *language;
  gdouble temperature;          /* < 0: provider default */
  gint max_output_tokens;       /* 0: provider default ("inf") */
  GstS2STurnDetection turn_detection;
  gdouble vad_threshold;        /* < 0: provider default */
  gint silence_duration;        /* ms, < 0: provider default */
  gint prefix_padding;          /* ms, < 0: provider default */
  gboolean transcribe_input;
  gchar *transcription_model;
  GstS2SReasoning reasoning;
  JsonArray *tools;             /* neutral form, NULL when none */
  gchar *ssl_ca_file;
  gchar *proxy;
  guint connect_timeout;        /* ms */
  GstS2SAudioFormat in_format;
  GstS2SAudioFormat out_format;
} GstS2SConfig;

typedef struct
{
  gint64 input_tokens;
  gint64 output_tokens;
  gint64 input_audio_tokens;
  gint64 output_audio_tokens;
  gint64 cached_tokens;
} GstS2SUsage;

struct _GstS2SBase
{
  GstElement element;

  GstPad *sinkpad;
  GstPad *srcpad;

  /*< private > */
  GstS2SBasePrivate *priv;
  gpointer _gst_reserved[GST_PADDING];
};

/**
 * GstS2SBaseClass:
 *
 * Provider subclasses implement protocol only. Every vfunc except
 * check_config runs on the element's I/O thread.
 */
struct _GstS2SBaseClass
{
  GstElementClass parent_class;

  /* provider name for messages and errors, e.g. "openai" */
  const gchar *provider;
  /* environment variable the api-key falls back to, or NULL */
  const gchar *api_key_env;
  const gchar *default_url;
  const gchar *default_model;
  const gchar *default_voice;
  /* TRUE when the server cancels its own response on barge-in (OpenAI
   * interrupt_response), so the base does not send a cancel */
  gboolean server_cancels_on_speech;

  /* Extra configuration checks, on the way to READY. Set @error (message
   * names the property) and return FALSE to refuse. */
    gboolean (*check_config) (GstS2SBase * self, const GstS2SConfig * config,
      GError ** error);

  /* The WebSocket upgrade request: URL and headers */
  SoupMessage *(*build_request) (GstS2SBase * self, const GstS2SConfig * config,
      GError ** error);

  /* The socket is open: send the session configuration. The provider calls
   * gst_s2s_base_session_ready() once the server has accepted it. */
  void (*session_open) (GstS2SBase * self, const GstS2SConfig * config);

  /* Live-tunable properties or the input format changed */
  void (*session_update) (GstS2SBase * self, const GstS2SConfig * config);

  /* Seed the conversation: @items in neutral form, before any audio */
  void (*send_history) (GstS2SBase * self, JsonArray * items);

  /* One text or binary frame from the server */
  void (*handle_message) (GstS2SBase * self, GBytes * data, gboolean binary);

  /* Input audio in the session's input format */
  void (*send_audio) (GstS2SBase * self, const guint8 * data, gsize size);

  /* End the user turn (manual turn detection) */
  void (*commit) (GstS2SBase * self);

  /* Ask for a response now */
  void (*create_response) (GstS2SBase * self);

  /* Cancel the response in progress */
  void (*cancel_response) (GstS2SBase * self, const gchar * response_id);

  /* Tell the server how much of an assistant audio item was heard */
  void (*truncate) (GstS2SBase * self, const gchar * item_id,
      guint audio_end_ms);

  void (*send_tool_result) (GstS2SBase * self, const gchar * call_id,
      const gchar * output);

  void (*send_text) (GstS2SBase * self, const gchar * role, const gchar * text);

  /* Map a close code of the socket (and its reason text, may be NULL) to
   * an error code; return FALSE to use the base's mapping */
  gboolean (*map_close) (GstS2SBase * self, gushort code,
      const gchar * reason, GstS2SErrorCode * error_code,
      gboolean * retryable);

  /* Second environment variable the api-key falls back to, or NULL */
  const gchar *api_key_env_fallback;

  /* FALSE when the element authenticates without api-key (a bearer token
   * property, for example); NULL means an api-key is required */
  gboolean (*needs_api_key) (GstS2SBase * self);

  /* --- Session renewal (see gst_s2s_base_request_rotation()) --- */

  /* The socket of a successor connection is open: carry the session on
   * (Gemini: setup with the resumption handle; Nova: session start and the
   * conversation so far from gst_s2s_base_dup_conversation()). Then call
   * gst_s2s_base_session_ready() as after session_open. NULL: session_open
   * is called again. The base never sends `history` to a successor. */
  void (*session_resume) (GstS2SBase * self, const GstS2SConfig * config);

  /* The connection closed with @close_code/@reason: TRUE when a successor
   * can carry the session on (s2s-session "reconnecting", a WARNING),
   * FALSE for the usual ERROR. NULL: never. */
  gboolean (*can_resume) (GstS2SBase * self, gushort close_code,
      const gchar * reason);

  /* A requested rotation waits for a turn boundary (no response, no
   * pending tool call, user not speaking) and, if set, for this to return
   * TRUE (Gemini: a resumable handle newer than the last activity). The
   * deadline overrides both. */
  gboolean (*rotation_ready) (GstS2SBase * self);


  /* Optional: a transport of the provider's own (e.g. HTTP/2) instead of
   * the WebSocket. When set, it is called on the I/O thread in place of
   * build_request and the WebSocket connect; the provider then reports
   * with gst_s2s_base_transport_opened(), _message(), _failed() and
   * gst_s2s_base_connection_lost(). Return FALSE and set @error to refuse
   * (posted as a configuration error on "url"). transport_send and
   * close_transport are then required. */
    gboolean (*open_transport) (GstS2SBase * self, const GstS2SConfig * config,
      GError ** error);
  /* One message out over that transport: gst_s2s_base_send() (@binary
   * FALSE) and gst_s2s_base_send_binary() (TRUE) route here. FALSE when
   * it could not be sent. */
    gboolean (*transport_send) (GstS2SBase * self, const guint8 * data,
      gsize len, gboolean binary);
  /* Close that transport without blocking, on stop or restart; nothing may
   * be reported after this. */
  void (*close_transport) (GstS2SBase * self);

  /* Optional: TRUE when send_audio may run on the sink pad's streaming
   * thread right now, concurrently with the I/O thread's own sends: it
   * only formats the audio and calls gst_s2s_base_send() (the WebSocket
   * client takes sends from any thread), touching no state the I/O thread
   * changes. Input then skips the hand-off to the I/O thread. Called with
   * the object lock of the base class held. Not used with open_transport. */
    gboolean (*send_audio_any_thread) (GstS2SBase * self);

  gpointer _gst_reserved[GST_PADDING_LARGE - 9];
};

GType gst_s2s_base_get_type (void);

/* --- Called by providers, on the I/O thread --- */

void gst_s2s_base_send (GstS2SBase * self, const gchar * text, gssize len);
void gst_s2s_base_send_json (GstS2SBase * self, JsonNode * node);
/* A binary message (WebSocket binary frame, or the provider's transport) */
void gst_s2s_base_send_binary (GstS2SBase * self, const guint8 * data,
    gsize len);

/* Reports from a transport opened by open_transport (I/O thread). When it
 * ends after opened, call gst_s2s_base_connection_lost(). */
void gst_s2s_base_transport_opened (GstS2SBase * self);
void gst_s2s_base_transport_message (GstS2SBase * self, GBytes * data,
    gboolean binary);
/* Could not open: @http_status 0 when no HTTP response came; mapped like a
 * refused WebSocket upgrade (401 authentication, 403 authorization, 429
 * rate-limit, 5xx server-error, timeout, network) */
void gst_s2s_base_transport_failed (GstS2SBase * self, const GError * error,
    guint http_status, const gchar * body);

void gst_s2s_base_session_ready (GstS2SBase * self, const gchar * session_id);

void gst_s2s_base_speech_started (GstS2SBase * self, const gchar * item_id);
void gst_s2s_base_speech_stopped (GstS2SBase * self, const gchar * item_id);

/* A conversation item appeared on the server, in conversation order.
 * @type is "message", "function_call" or "function_call_output". */
void gst_s2s_base_item_added (GstS2SBase * self, const gchar * item_id,
    const gchar * type, const gchar * role);

void gst_s2s_base_transcript (GstS2SBase * self, const gchar * role,
    const gchar * item_id, const gchar * text, gboolean final);
/* A partial transcript given as the whole text so far (not a delta) */
void gst_s2s_base_transcript_snapshot (GstS2SBase * self, const gchar * role,
    const gchar * item_id, const gchar * text);

void gst_s2s_base_response_started (GstS2SBase * self,
    const gchar * response_id);
void gst_s2s_base_response_audio (GstS2SBase * self, const gchar * response_id,
    const gchar * item_id, const guint8 * data, gsize size);
/* The same for audio already in a buffer (taken): the queued output buffers
 * share its memory instead of copying it */
void gst_s2s_base_response_audio_buffer (GstS2SBase * self,
    const gchar * response_id, const gchar * item_id, GstBuffer * buffer);
/* @status: completed, cancelled, failed, incomplete */
void gst_s2s_base_response_done (GstS2SBase * self, const gchar * response_id,
    const gchar * status);

void gst_s2s_base_usage (GstS2SBase * self, const GstS2SUsage * usage);

void gst_s2s_base_tool_call (GstS2SBase * self, const gchar * call_id,
    const gchar * name, const gchar * arguments);

/* A provider-reported problem. @fatal errors post an ERROR and stop the
 * session; the others a WARNING, and the session goes on. */
void gst_s2s_base_provider_error (GstS2SBase * self, GstS2SErrorCode code,
    gboolean fatal, gboolean retryable, const gchar * provider_code,
    const gchar * provider_message);

/* The socket closed under us */
void gst_s2s_base_connection_lost (GstS2SBase * self, gushort close_code,
    const gchar * reason);

/* A tool call was withdrawn by the server (after an interruption): its
 * result is no longer wanted. Posts `s2s-tool-cancel` (call-id). */
void gst_s2s_base_tool_call_cancelled (GstS2SBase * self,
    const gchar * call_id);

/* Session renewal. The provider's connection ends in @time_left
 * (GST_CLOCK_TIME_NONE: unknown, treated as now). The base moves to a
 * successor connection at the next turn boundary, at the latest a margin
 * (a quarter of @time_left, at most 5 s) before the end: it stops sending
 * input (the chain keeps queueing it), closes the old connection in order
 * (close frame, then the peer's answer or 1 s), opens a new one and calls
 * session_resume; once the provider calls gst_s2s_base_session_ready() the
 * queued input and any action deferred meanwhile (send-text, tool-result,
 * commit, say) go out on the new connection. Posts s2s-session "rotating"
 * and counts `rotations` in stats. */
void gst_s2s_base_request_rotation (GstS2SBase * self, GstClockTime time_left,
    const gchar * reason);

/* TRUE while a successor connection is being set up */
gboolean gst_s2s_base_is_renewing (GstS2SBase * self);

/* Puts input that went out on a lost connection, unconfirmed, back in
 * front of the queued input: the successor sends it first (any thread) */
void gst_s2s_base_requeue_input (GstS2SBase * self, const guint8 * data,
    gsize size);

/* TRUE while input waits in the base's queue for the I/O thread (any
 * thread): a provider's keep-alive sends no silence ahead of it */
gboolean gst_s2s_base_input_queued (GstS2SBase * self);

/* The conversation so far in the neutral history form (JSON array text;
 * g_free it), as the `history` property reads it */
gchar *gst_s2s_base_dup_conversation (GstS2SBase * self);

/* Helpers for subclasses */
const GstS2SAudioFormat *gst_s2s_base_get_out_format (GstS2SBase * self);

/* "[provider session-id] " for an s2s element (before the session is ready
 * the id is "-"), "" for any other object. Lock-free: safe in log lines. */
const gchar *gst_s2s_base_log_tag (gpointer object);

/* Structured logging: every GST_*_OBJECT line of a file that includes this
 * header (the base and every provider) starts with the element's provider
 * and session id, so one session can be grepped out of a busy log. The
 * arguments are only evaluated when the level is enabled. */
#define GST_S2S_CAT_LEVEL_LOG_OBJECT(level, obj, fmt, ...) \
    GST_CAT_LEVEL_LOG (GST_CAT_DEFAULT, level, obj, "%s" fmt, \
        gst_s2s_base_log_tag (obj), ##__VA_ARGS__)
#undef GST_ERROR_OBJECT
#undef GST_WARNING_OBJECT
#undef GST_FIXME_OBJECT
#undef GST_INFO_OBJECT
#undef GST_DEBUG_OBJECT
#undef GST_LOG_OBJECT
#undef GST_TRACE_OBJECT
#define GST_ERROR_OBJECT(obj, ...) \
    GST_S2S_CAT_LEVEL_LOG_OBJECT (GST_LEVEL_ERROR, obj, __VA_ARGS__)
#define GST_WARNING_OBJECT(obj, ...) \
    GST_S2S_CAT_LEVEL_LOG_OBJECT (GST_LEVEL_WARNING, obj, __VA_ARGS__)
#define GST_FIXME_OBJECT(obj, ...) \
    GST_S2S_CAT_LEVEL_LOG_OBJECT (GST_LEVEL_FIXME, obj, __VA_ARGS__)
#define GST_INFO_OBJECT(obj, ...) \
    GST_S2S_CAT_LEVEL_LOG_OBJECT (GST_LEVEL_INFO, obj, __VA_ARGS__)
#define GST_DEBUG_OBJECT(obj, ...) \
    GST_S2S_CAT_LEVEL_LOG_OBJECT (GST_LEVEL_DEBUG, obj, __VA_ARGS__)
#define GST_LOG_OBJECT(obj, ...) \
    GST_S2S_CAT_LEVEL_LOG_OBJECT (GST_LEVEL_LOG, obj, __VA_ARGS__)
#define GST_TRACE_OBJECT(obj, ...) \
    GST_S2S_CAT_LEVEL_LOG_OBJECT (GST_LEVEL_TRACE, obj, __VA_ARGS__)

G_DEFINE_AUTOPTR_CLEANUP_FUNC (GstS2SBase, gst_object_unref)
    G_END_DECLS
#endif /* __GST_S2S_BASE_H__ */
