/* s2s-emulator: loopback speech-to-speech provider emulator for tests.
 * Copyright (C) 2026 gst-s2s contributors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Shared declarations between the generic server (s2s-emulator.c) and the
 * per-provider dialects (emu-*.c).
 */

#ifndef __S2S_EMULATOR_H__
#define __S2S_EMULATOR_H__

#include <stdio.h>
#include <libsoup/soup.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS
/* Every dialect keeps audio internally as mono S16 at this rate: it is the
 * OpenAI wire rate, so 24 kHz PCM in and out stays sample exact, and 8 kHz
 * G.711 maps onto it by an exact factor of 3. */
#define EMU_RATE 24000
#define EMU_SAMPLES_PER_MS (EMU_RATE / 1000)
/* Bound per-connection input buffering (10 minutes at EMU_RATE). */
#define EMU_MAX_BUFFER_SAMPLES ((gsize) EMU_RATE * 600)
    typedef enum
{
  EMU_FMT_PCM16,                /* S16LE at 24 kHz */
  EMU_FMT_PCMU,                 /* G.711 mu-law at 8 kHz */
  EMU_FMT_PCMA,                 /* G.711 A-law at 8 kHz */
} EmuAudioFormat;

typedef struct _EmuConn EmuConn;
typedef struct _EmuDialect EmuDialect;

/* A connection whose transport is not the WebSocket (the Nova dialect's
 * HTTP/2 stream): the generic send/close/drop go through these. */
typedef struct
{
  /* the "malformed" fault: bytes the client cannot parse */
  void (*send_raw) (EmuConn * conn, const char *text);
  /* the "close" fault and shutdown */
  void (*close) (EmuConn * conn, gushort code, const char *reason);
  /* the "drop" fault: the socket goes away */
  void (*drop) (EmuConn * conn);
} EmuConnOps;

/* A scripted connection rejection (script reject_connect) */
typedef struct
{
  guint connection;             /* 0 = any */
  guint status;
  char *type;
  char *code;
  char *message;
  gint retry_after;             /* seconds, < 0 = no header */
} EmuReject;

struct _EmuDialect
{
  const char *name;
  const char *const *paths;

  /* Runs before the WebSocket upgrade.  Returns 0 to accept, or an HTTP
   * status; then *body is the JSON error body to send. */
    guint (*check_handshake) (SoupServerMessage * msg, const char *path,
      GHashTable * query, char **body);
  /* Body for a scripted handshake rejection. */
  char *(*http_error_body) (guint status, const char *type,
      const char *code, const char *message);

  /* Connection lifetime; conn_open sends the greeting. */
  void (*conn_open) (EmuConn * conn, SoupServerMessage * msg,
      const char *path, GHashTable * query);
  void (*conn_message) (EmuConn * conn, const char *text, gsize len);
  void (*conn_free) (EmuConn * conn);
  /* Snapshot of the conversation for the close log line (may be NULL). */
  JsonNode *(*conn_summary) (EmuConn * conn);

  /* Fault actions whose wire shape is dialect specific. */
  void (*fault_error) (EmuConn * conn, const char *type, const char *code,
      const char *message);
  void (*fault_session_expired) (EmuConn * conn);

  /* Optional, added for Gemini Live (NULL/FALSE keep the OpenAI
   * behaviour). */
  /* Server JSON goes out in binary frames (opcode 2) instead of text. */
  gboolean binary_frames;
  /* Name of a server event for after_server_event faults and counts
   * (newly allocated; NULL or unset = the event's "type" member). */
  char *(*event_type) (JsonObject * event);
  /* Close reason for a scripted close without "reason" (may be NULL). */
  const char *(*default_close_reason) (gushort code);
  /* The "go_away" fault action. */
  void (*fault_go_away) (EmuConn * conn, guint time_left_ms);
};

/* Emulator-wide knobs set by CLI flags or the script's top level (see
 * README.md); a dialect reads the ones that apply to it. 0 = off. */
typedef struct
{
  guint go_away_every_ms;       /* goAway this long after each open */
  guint go_away_time_left_ms;   /* timeLeft of those goAways */
  guint max_connection_ms;      /* connection lifetime limit */
  guint resumption_ttl_ms;      /* resumption handle lifetime */
  gboolean allow_resume_while_open;
  guint setup_complete_delay_ms;
  guint vad_start_delay_ms;     /* OpenAI/Grok VAD: speech_started late */
} EmuOptions;

extern EmuOptions emu_options;

struct _EmuConn
{
  gint ref_count;
  guint index;                  /* 1-based, counts every handshake attempt */
  const EmuDialect *dialect;
  SoupWebsocketConnection *ws;
  gint64 open_us;

  gboolean closed;              /* socket gone or closing: send nothing */
  gboolean silent;              /* "silent" fault: ignore and send nothing */

  /* Knobs set by CLI flags and by faults; read by dialects at response
   * start. */
  guint first_audio_delay_ms;
  gboolean pace_audio;

  GHashTable *client_counts;    /* event type -> count */
  GHashTable *server_counts;
  gboolean *fault_fired;
  GArray *timers;               /* guint source ids, removed on close */

  FILE *raw_in;                 /* <log>.conn<N>.in.raw */
  const EmuConnOps *ops;        /* NULL: the WebSocket */

  gpointer priv;                /* dialect state */
};

/* Time */
gint64 emu_now_ms (void);
gint64 emu_conn_ms (EmuConn * conn);

/* Script and options */
JsonObject *emu_script_turn (guint n);
const char *emu_required_api_key (void);

/* Connections of non-WebSocket dialects: take the next index, make the
 * connection (logs "open"), arm its faults once the dialect is set up,
 * and report its end (logs "close" with the summary, frees it later). */
guint emu_next_conn_index (void);
EmuConn *emu_conn_new_custom (const EmuDialect * dialect, guint index,
    const EmuConnOps * ops, const char *path);
void emu_conn_arm_faults (EmuConn * conn);
void emu_conn_custom_closed (EmuConn * conn, gint close_code,
    const char *close_reason);
/* The script's reject_connect entry for connection @index, or NULL */
const EmuReject *emu_script_reject (guint index);
/* A log line {"t_ms","conn","dir"}; emu_log_write takes it (no-op
 * without --log) */
JsonObject *emu_log_line_new (guint conn, const char *dir);
void emu_log_write (JsonObject * line);
void emu_log_conn_note (guint conn, const char *what, const char *detail);
gboolean emu_is_secret_header (const char *name);
/* For events without a "type" member: count and fire after_server_event */
void emu_conn_server_event_done (EmuConn * conn, const char *type);

/* Connection services for dialects */
gboolean emu_conn_alive (EmuConn * conn);
void emu_conn_send_event (EmuConn * conn, JsonObject * event);
void emu_conn_send_raw_text (EmuConn * conn, const char *text);
void emu_conn_log_event (EmuConn * conn, const char *dir, JsonNode * event);
void emu_conn_client_event_done (EmuConn * conn, const char *type);
void emu_conn_close (EmuConn * conn, gushort code, const char *reason);
void emu_conn_drop (EmuConn * conn);
void emu_conn_note (EmuConn * conn, const char *what, const char *detail);
guint emu_conn_timeout_add (EmuConn * conn, guint ms, GSourceFunc func,
    gpointer data);
gboolean emu_conn_timeout_remove (EmuConn * conn, guint id);
void emu_conn_write_raw_input (EmuConn * conn, const gint16 * samples, gsize n);

/* Replies sent step by step: conn->first_audio_delay_ms before the first
 * step, and with conn->pace_audio 100 ms between steps (unless @unpaced).
 * @get returns the current reply's pacer (NULL when there is none); @step
 * sends one step and returns FALSE once the reply ended or went away. */
typedef struct
{
  guint timer;
  gboolean delay_done;
  gboolean unpaced;
} EmuPacer;
typedef EmuPacer *(*EmuPacerGet) (EmuConn * conn);
typedef gboolean (*EmuPacerStep) (EmuConn * conn);
void emu_pacer_run (EmuConn * conn, EmuPacerGet get, EmuPacerStep step);
void emu_pacer_stop (EmuConn * conn, EmuPacer * pacer);

/* Words of @text as deltas whose concatenation is exactly @text */
char **emu_split_words (const char *text, guint * n_out);
/* Drops the samples of @buf (which starts at absolute sample *@buf_start)
 * that come before absolute sample @pos. */
void emu_buffer_drop_until (GArray * buf, gint64 * buf_start, gint64 pos);

/* JSON text of @node (rewrites doubles json-glib 1.6 would mangle) */
char *emu_json_to_string (JsonNode * node);

/* Logging / redaction */
char *emu_redact_query (GUri * uri);

/* Audio helpers */
guint emu_format_rate (EmuAudioFormat fmt);
gint16 emu_ulaw_decode (guint8 u);
guint8 emu_ulaw_encode (gint16 pcm);
gint16 emu_alaw_decode (guint8 a);
guint8 emu_alaw_encode (gint16 pcm);
void emu_audio_decode (EmuAudioFormat fmt, const guint8 * data, gsize len,
    GArray * native);
void emu_audio_to_internal (EmuAudioFormat fmt, const gint16 * native,
    gsize n, GArray * internal);
guint8 *emu_audio_encode (EmuAudioFormat fmt, const gint16 * internal,
    gsize n, gsize * out_len);
/* Rate conversion for PCM at rates other than EMU_RATE (Grok: 8-48 kHz) */
typedef struct
{
  guint rate;                   /* native rate */
  guint64 native;               /* native samples consumed so far */
  guint64 internal;             /* internal samples produced so far */
} EmuResampler;
gsize emu_resample_to_internal (EmuResampler * rs, const gint16 * native,
    gsize n, GArray * internal);
guint8 *emu_audio_encode_at (EmuAudioFormat fmt, guint rate,
    const gint16 * internal, gsize n, gsize * out_len);
double emu_frame_dbfs (const gint16 * s, gsize n);
double emu_vad_threshold_dbfs (double threshold);
void emu_sine (GArray * internal, guint ms, double freq, double amplitude);
guchar *emu_base64_decode_checked (const char *text, gsize * out_len);
gsize emu_base64_decoded_len (const char *text);

/* Dialects */
extern const EmuDialect emu_openai_dialect;
extern const EmuDialect emu_grok_dialect;       /* emu-openai.c, a variant */
extern const EmuDialect emu_gemini_dialect;
extern const EmuDialect emu_nova_dialect;

#ifdef HAVE_NOVA
/* The Nova dialect's HTTP/2 listener (emu-nova.c, README.md "Nova") */
struct _EmuH2Server *emu_nova_listen (guint16 port, GTlsCertificate * cert,
    const char *access_key, const char *secret_key,
    const char *session_token, guint session_limit_ms,
    guint input_timeout_ms, guint read_pause_ms, GError ** error);
#endif

G_END_DECLS
#endif /* __S2S_EMULATOR_H__ */
