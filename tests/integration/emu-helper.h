/* gst-s2s integration tests: helpers shared by the test programs
 * Copyright (C) 2026 gst-s2s developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * - spawn s2s-emulator (GSubprocess), read its URL, stop it at teardown;
 * - read its JSON-lines log and the raw input audio it recorded;
 * - read/write the test WAV files;
 * - run a pipeline and collect its bus messages and the audio its sink got.
 */

#ifndef __S2S_IT_EMU_HELPER_H__
#define __S2S_IT_EMU_HELPER_H__

#include <gst/gst.h>
#include <gio/gio.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS
/* --- Environment (tests/meson.build test_env) ---------------------------- */
/* Value of a required variable of the test environment; fails the test when
 * it is missing (never a silent skip). */
const gchar *it_env (const gchar * name);
/* $S2S_SHARED_AUDIO/@name */
gchar *it_audio_path (const gchar * name);
/* $S2S_CERTS_DIR/@name */
gchar *it_cert_path (const gchar * name);
/* A fresh temporary directory, removed with its files by it_tmpdir_remove */
gchar *it_tmpdir_new (void);
void it_tmpdir_remove (const gchar * dir);

/* --- The provider under test ---------------------------------------------- */

/* The programs drive the element of $S2S_IT_PROVIDER ("openai" when unset,
 * "grok" or "gemini"): same pipelines, same emulator, the provider's
 * dialect. */
typedef struct
{
  const gchar *name;            /* "provider" field of messages and errors */
  const gchar *element;         /* factory name */
  const gchar *key_env;         /* environment variable of the api-key */
  const gchar *dialect;         /* s2s-emulator --dialect, or NULL */
  const gchar *source;          /* the element's source, below ext/s2s */
  const gchar *done_event;      /* the emulator's end-of-reply event */
} ItProvider;

const ItProvider *it_provider (void);
gboolean it_provider_is (const gchar * name);
/* turn_detection of a session object: Grok's at the top level, OpenAI's
 * under audio.input */
JsonObject *it_session_turn_detection (JsonObject * session);

/* --- The emulator ---------------------------------------------------------- */

typedef struct
{
  GSubprocess *proc;
  gchar *dir;                   /* temporary dir: log, raw audio, script */
  gchar *log_path;
  gchar *url;                   /* ws://127.0.0.1:PORT (wss:// with TLS) */
  guint port;
  gchar *nova_url;              /* with --nova-port: http(s)://127.0.0.1:P */
} ItEmu;

/* Starts `s2s-emulator --port 0 --log <tmp>/emu.log [--script F]
 * [--tls-cert --tls-key] [--dialect D] [extra args]` and waits for the URL
 * it prints (D: the provider's dialect).
 * @script_json: the script document, or NULL. */
ItEmu *it_emu_start_full (const gchar * script_json, gboolean tls,
    const gchar * const *extra_args);
#define it_emu_start(script) it_emu_start_full ((script), FALSE, NULL)
/* SIGTERM, wait, remove the temporary files */
void it_emu_stop (ItEmu * emu);

/* The log as JsonObject lines (the array owns them) */
GPtrArray *it_emu_log (ItEmu * emu);
/* "event" of a client/server line, or NULL; its type: "type", or for
 * keyed (Gemini) events the key ("setup", "serverContent.turnComplete") */
JsonObject *it_log_event (JsonObject * line);
const gchar *it_log_event_type (JsonObject * line);
const gchar *it_log_dir (JsonObject * line);
/* Index of the first line from @from on with dir @dir ("client", "server",
 * "conn") and event type (or, for "conn" lines, "what") @type; -1 if none */
gint it_log_find (GPtrArray * lines, gint from, const gchar * dir,
    const gchar * type);
guint it_log_count (GPtrArray * lines, const gchar * dir, const gchar * type);
/* Whether any connection reached the server (handshake, reject or open) */
gboolean it_log_has_connection (GPtrArray * lines);
/* Polls the log until a line like it_log_find's appears */
gboolean it_emu_wait_log (ItEmu * emu, const gchar * dir, const gchar * type,
    guint timeout_ms);
/* <log>.conn<N>.in.raw: the input audio the emulator received, S16LE */
GBytes *it_emu_in_raw (ItEmu * emu, guint conn);

/* --- Audio files ----------------------------------------------------------- */

/* PCM of a WAV file, which must be S16LE mono at @rate */
GBytes *it_wav_read_pcm (const gchar * path, gint rate);
/* Writes S16LE mono PCM as a WAV file; returns its path */
gchar *it_wav_write (const gchar * dir, const gchar * name,
    const guint8 * pcm, gsize len, gint rate);

/* --- Pipelines --------------------------------------------------------------- */

/* One buffer as the sink rendered it */
typedef struct
{
  GstClockTime pts;
  GstClockTime duration;
  gboolean discont;
  gsize offset;                 /* in ItSink.data */
  gsize size;
  GstClockTime render_rt;       /* running time when the handoff ran */
} ItBuf;

typedef struct
{
  GMutex lock;
  GArray *bufs;                 /* ItBuf */
  GByteArray *data;             /* every byte rendered, in order */
} ItSink;

/* Connects to "handoff" of the fakesink @name (signal-handoffs=true) */
ItSink *it_sink_attach (GstElement * pipeline, const gchar * name);
void it_sink_free (ItSink * sink);

/* Sets @pipeline to NULL (which must succeed) and unrefs it */
void it_pipeline_stop (GstElement * pipeline);

/* Called for every message the loop pops; return FALSE to stop the loop */
typedef gboolean (*ItMsgFunc) (GstElement * pipeline, GstMessage * msg,
    gpointer user_data);

/* Sets @pipeline to PLAYING and pops bus messages until EOS or ERROR (the
 * message is returned, reffed), @func returns FALSE or @timeout_ms passes
 * (NULL is returned). Every message is appended (reffed) to @msgs when
 * not NULL. The pipeline is left in its state. */
GstMessage *it_run (GstElement * pipeline, guint timeout_ms, GPtrArray * msgs,
    ItMsgFunc func, gpointer user_data);

/* A new array for it_run's @msgs */
GPtrArray *it_msgs_new (void);

/* Element messages named @name whose string field @field equals @value
 * (@field NULL: any) */
guint it_msgs_count (GPtrArray * msgs, const gchar * name,
    const gchar * field, const gchar * value);
/* Index of the first such message at or after @from, or -1 */
gint it_msgs_find (GPtrArray * msgs, gint from, const gchar * name,
    const gchar * field, const gchar * value);
const GstStructure *it_msgs_get (GPtrArray * msgs, gint index);
/* First message of type @type (ERROR, WARNING...), or NULL */
GstMessage *it_msgs_find_type (GPtrArray * msgs, GstMessageType type,
    gint * index);

/* Threads of this process whose name starts with @comm (s2s-io counts
 * s2s-io-N too) */
guint it_count_threads (const gchar * comm);
/* Polls it_count_threads until it is @n, for at most @timeout_ms: a thread
 * starts under its creator's name until it names itself, and one that ends
 * by itself (not joined) is there until it has, which on a loaded machine
 * takes a while. Returns the last count. */
guint it_wait_threads (const gchar * comm, guint n, guint timeout_ms);

/* Parses @json, returns a new node (fails the test on bad JSON) */
JsonNode *it_json_parse (const gchar * json);

/* Reads a whole file as a string, NULL when missing */
gchar *it_file_contents (const gchar * path);

/* An ItMsgFunc: run until the first s2s-response "interrupted" */
gboolean it_until_interrupted (GstElement * pipeline, GstMessage * msg,
    gpointer data);

/* --- Assertions --------------------------------------------------------- */

/* @m is an EOS (not NULL for a timeout, not an ERROR) */
void it_assert_eos (GstMessage * m);
/* Final s2s-transcript messages of @role; the last one's text in
 * *@last_text (g_free it) when not NULL */
guint it_final_transcripts (GPtrArray * msgs, const gchar * role,
    gchar ** last_text);
/* Output PTS are sample-contiguous (at @rate, S16 mono) from buffer @first
 * to @last inclusive, without DISCONT */
void it_assert_contiguous (ItSink * sink, gint rate, guint first, guint last);
/* Output PTS never go back or overlap; with @gaps_discont a gap must come
 * with DISCONT */
void it_assert_timeline (ItSink * sink, gboolean gaps_discont);
/* The longest s2s-session "rotating" -> "ready" in running time (each
 * rotating must be followed by a ready) */
GstClockTime it_msgs_longest_switch (GPtrArray * msgs);

G_END_DECLS
#endif /* __S2S_IT_EMU_HELPER_H__ */
