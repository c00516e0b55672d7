/* gst-s2s benchmark: load driver
 * Copyright (C) 2026 gst-s2s developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Runs N live conversations in this one process, each its own pipeline
 *
 *   appsrc (live, 20 ms buffers, real time) ! <provider element> ! fakesink sync=true
 *
 * or, with --floor, the same sources and sinks with no model element, for a
 * set duration, and prints one JSON line: CPU seconds per conversation-second
 * of this process (getrusage) and of the emulator (/proc/<pid>/stat), RSS
 * (base, end, peak, per added conversation), element-added latency in and
 * out (p50/p99) and errors. See docs/performance.md for the method.
 *
 * Latency probes, without touching the element:
 * - in: a pad probe on the element's sink pad stamps every buffer (its
 *   cumulative byte offset); this program defines gst_s2s_ws_probe_send,
 *   which the plugin's WebSocket client calls (a weak symbol there, resolved
 *   here since this program is linked with --export-dynamic) once a frame
 *   went to the socket (or, when the socket is full, to its queue): it
 *   stamps the moment the element hands an audio event to the socket.
 *   For builds before the client was ours (libsoup's connection), it also
 *   interposes soup_websocket_connection_send_message the same way.
 *   A buffer's in latency is hand-off time minus probe time of the event
 *   that carries its last byte. Each conversation's first sample pair
 *   carries a tag (0x5A5A, index) so a connection is mapped to its
 *   conversation by the first audio it sends.
 * - out: gst_s2s_ws_probe_message (likewise; for libsoup builds an
 *   emission hook on SoupWebsocketConnection::message) stamps when the
 *   first audio delta of each response arrives (before the element's
 *   handler runs); a pad probe on the element's src pad stamps when the
 *   first buffer after it leaves the element.
 * --no-latency takes none of these stamps (CPU only). --out-unsync: the
 * element's fakesink does not sync (nothing downstream waits on the clock,
 * as with an encoder and webrtcbin's network sink), so the element's src
 * task alone times the output.
 *
 * Sources (--source): appsrc, one per conversation, each with its streaming
 * thread (the feeder hands it buffers through appsrc's queue: a mutex and
 * condition wake-up per buffer), or thread: a minimal live source element
 * whose pad the feeder thread itself pushes on, so every conversation's
 * chain (the element's input path up to the socket) runs on that one
 * thread, as with a capture thread serving many streams. --phase: the
 * conversations' 20 ms periods staggered (conversation i pushed i/N of a
 * period in: independent sources) or aligned (all in one tick, as one
 * timer serving every stream). docs/performance.md.
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#define _GNU_SOURCE
#include <dlfcn.h>
#include <string.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
#include <sys/resource.h>
#include <malloc.h>
#include <gst/gst.h>
#include <gst/app/gstappsrc.h>
#include <libsoup/soup.h>

#define CHUNK_MS 20
#define TAG_MAGIC 0x5A5A
#define RING 512

/* What the driver needs to know of a provider's wire protocol to find its
 * audio in the frames (latency probes only) */
typedef struct
{
  const gchar *element;
  gint rate;                    /* input rate the element takes natively */
  const gchar *in_key;          /* JSON key whose string is base64 input audio */
  const gchar *resp_marker;     /* in a server frame: a response starts */
  const gchar *audio_marker;    /* in a server frame: audio of a response */
} Provider;

static const Provider providers[] = {
  {"s2sopenai", 24000, "\"audio\":\"", "\"response.created\"",
      "\"response.output_audio.delta\""},
  {"s2sgrok", 24000, "\"audio\":\"", "\"response.created\"",
      "\"response.output_audio.delta\""},
  /* Gemini Live: realtimeInput audio "data", serverContent inlineData; a
   * response starts with its first serverContent after turnComplete */
  {"s2sgemini", 16000, "\"data\":\"", "\"serverContent\"", "\"inlineData\""},
  /* Nova runs over HTTP/2, not WebSocket: no latency probes */
  {"s2snova", 16000, NULL, NULL, NULL},
};

typedef struct
{
  guint64 end;                  /* cumulative input bytes up to this buffer's end */
  gint64 t;                     /* ns, probe time */
} Stamp;

typedef struct
{
  guint idx;
  GstElement *pipeline, *src, *model;
  gsize pos;                    /* byte position in the loop */
  gboolean tagged;

  GMutex lock;
  Stamp ring[RING];
  guint head, tail;
  guint64 in_bytes, sent_bytes;
  gboolean expect_first, out_pending;
  gint64 t_arrive;

  GstClockTime base_time;
  GstPad *src_pad;              /* --source thread */
  gboolean started, push_failed;
  gint ready;
  gint late;                    /* output buffers pushed after their play time */
} Conv;

static const Provider *prov;
static Conv *convs;
static guint n_convs;
static guint8 *loop_pcm;
static gsize loop_len;
static gint rate = 24000;
static gint measuring;          /* atomic: latency samples taken */
static gint n_ready, n_errors, n_warnings, n_responses, n_interrupted;
static GHashTable *conv_map;    /* connection -> Conv, under conv_map_lock */
static GMutex conv_map_lock;
static gint64 out_bytes;        /* atomic-ish, under out_lock */
static GMutex out_lock;
static GstClock *sysclock;
static GstClockTime latency;    /* of the first pipeline */
static gboolean no_latency;     /* --no-latency: no stamps */
static gboolean out_unsync;     /* --out-unsync: the model's sink does not sync */
static gboolean thread_source;  /* --source thread */
static GstCaps *src_caps;       /* --source thread: pushed before the data */

/* Latency histograms: 1 us buckets up to 10 ms, then 100 us up to ~1 s.
 * Fixed size, so a long run's own bookkeeping does not grow. */
#define HIST_FINE 10000
#define HIST_N (HIST_FINE + 10000)
static gint *hist_in, *hist_out;

static void
hist_add (gint * h, gint64 ns)
{
  gint64 us = MAX (ns, 0) / 1000;
  gint64 i = us < HIST_FINE ? us : HIST_FINE + (us - HIST_FINE) / 100;

  g_atomic_int_inc (&h[MIN (i, HIST_N - 1)]);
}

static guint
hist_count (const gint * h)
{
  guint i, n = 0;

  for (i = 0; i < HIST_N; i++)
    n += h[i];
  return n;
}

/* The @p percentile in ms, -1 without samples */
static gdouble
hist_pct (const gint * h, gdouble p)
{
  guint n = hist_count (h), i, acc = 0, want;

  if (n == 0)
    return -1;
  want = (guint) (p / 100.0 * (n - 1) + 0.5) + 1;
  for (i = 0; i < HIST_N; i++) {
    acc += h[i];
    if (acc >= want)
      break;
  }
  return i < HIST_FINE ? i / 1000.0 : (HIST_FINE + (i - HIST_FINE) * 100.0) /
      1000.0;
}

static gint64
now_ns (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (gint64) ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* ------------------------------------------------------------------------ */
/* Process figures */

static gdouble
cpu_self (void)
{
  struct rusage ru;

  getrusage (RUSAGE_SELF, &ru);
  return ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
      ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

/* context switches of every thread of this process (voluntary: waits on
 * futexes, poll, sleeps; involuntary: preempted) */
static gint64
csw_self (void)
{
  struct rusage ru;

  getrusage (RUSAGE_SELF, &ru);
  return (gint64) ru.ru_nvcsw + ru.ru_nivcsw;
}


/* S2S_BENCH_THREADS=1: CPU ticks and context switches of each thread over
 * the measured window, summed by thread name (all digits taken out), printed to
 * stderr: which thread kind the time and the wake-ups go to */
typedef struct
{
  gchar name[32];
  gint64 ticks, vcsw, ivcsw;
  gint threads;
} ThreadKind;

static GHashTable *
threads_snapshot (void)
{
  GHashTable *t = g_hash_table_new_full (g_direct_hash, g_direct_equal, NULL,
      g_free);
  GDir *d = g_dir_open ("/proc/self/task", 0, NULL);
  const gchar *e;

  while (d && (e = g_dir_read_name (d))) {
    gchar *path, *text = NULL, *p;
    ThreadKind *k = g_new0 (ThreadKind, 1);
    gchar **f;

    path = g_strdup_printf ("/proc/self/task/%s/stat", e);
    if (g_file_get_contents (path, &text, NULL, NULL)
        && (p = strrchr (text, ')')) && strchr (text, '(')) {
      gchar *c = strchr (text, '(') + 1;
      gsize l = MIN ((gsize) (p - c), sizeof (k->name) - 1);
      gsize j, o = 0;

      for (j = 0; j < l; j++)
        if (!g_ascii_isdigit (c[j]))
          k->name[o++] = c[j];
      f = g_strsplit (p + 2, " ", 0);
      if (g_strv_length (f) > 13)
        k->ticks = g_ascii_strtoll (f[11], NULL, 10) +
            g_ascii_strtoll (f[12], NULL, 10);
      g_strfreev (f);
    }
    g_free (text);
    g_free (path);
    path = g_strdup_printf ("/proc/self/task/%s/status", e);
    if (g_file_get_contents (path, &text, NULL, NULL)) {
      if ((p = strstr (text, "\nvoluntary_ctxt_switches:")))
        k->vcsw = g_ascii_strtoll (p + 26, NULL, 10);
      if ((p = strstr (text, "nonvoluntary_ctxt_switches:")))
        k->ivcsw = g_ascii_strtoll (p + 27, NULL, 10);
    }
    g_free (text);
    g_free (path);
    g_hash_table_insert (t, GINT_TO_POINTER (atoi (e)), k);
  }
  if (d)
    g_dir_close (d);
  return t;
}

static void
threads_report (GHashTable * t0, GHashTable * t1, gint n, gdouble seconds)
{
  GHashTable *kinds = g_hash_table_new_full (g_str_hash, g_str_equal, NULL,
      g_free);
  GHashTableIter it;
  gpointer key, val;
  glong hz = sysconf (_SC_CLK_TCK);

  g_hash_table_iter_init (&it, t1);
  while (g_hash_table_iter_next (&it, &key, &val)) {
    ThreadKind *a = g_hash_table_lookup (t0, key), *b = val, *k;

    if (!a)
      continue;
    k = g_hash_table_lookup (kinds, b->name);
    if (!k) {
      k = g_new0 (ThreadKind, 1);
      memcpy (k->name, b->name, sizeof (k->name));
      g_hash_table_insert (kinds, k->name, k);
    }
    k->threads++;
    k->ticks += b->ticks - a->ticks;
    k->vcsw += b->vcsw - a->vcsw;
    k->ivcsw += b->ivcsw - a->ivcsw;
  }
  g_printerr ("threads over %.1f s, per conversation-second: kind threads "
      "cpu%% vcsw ivcsw\n", seconds);
  g_hash_table_iter_init (&it, kinds);
  while (g_hash_table_iter_next (&it, &key, &val)) {
    ThreadKind *k = val;
    g_printerr ("  %-16s %4d %7.3f %7.1f %6.1f\n", k->name, k->threads,
        100.0 * k->ticks / hz / (n * seconds), k->vcsw / (n * seconds),
        k->ivcsw / (n * seconds));
  }
  g_hash_table_destroy (kinds);
}

static gdouble
cpu_pid (gint pid)
{
  gchar *path, *text = NULL, *p;
  gdouble s = -1;

  if (pid <= 0)
    return -1;
  path = g_strdup_printf ("/proc/%d/stat", pid);
  if (g_file_get_contents (path, &text, NULL, NULL)
      && (p = strrchr (text, ')'))) {
    gchar **f = g_strsplit (p + 2, " ", -1);
    /* fields 14, 15 (utime, stime) are 11, 12 after "state" */
    if (g_strv_length (f) > 13)
      s = (g_ascii_strtod (f[11], NULL) + g_ascii_strtod (f[12], NULL)) /
          sysconf (_SC_CLK_TCK);
    g_strfreev (f);
  }
  g_free (text);
  g_free (path);
  return s;
}

/* VmRSS or VmHWM of this process, KiB */
static gint64
status_kib (const gchar * field)
{
  gchar *text = NULL, *p;
  gint64 v = -1;

  if (g_file_get_contents ("/proc/self/status", &text, NULL, NULL)
      && (p = strstr (text, field)))
    v = g_ascii_strtoll (p + strlen (field) + 1, NULL, 10);
  g_free (text);
  return v;
}

/* S2S_BENCH_MALLOC_INFO=FILE: at every RSS sample, append the time, this
 * process's /proc/self/smaps_rollup and glibc's malloc_info (per arena) to
 * FILE, to tell allocator fragmentation from live growth (see "Memory over
 * time" in docs/performance.md) */
static void
dump_malloc_info (const gchar * path, gdouble t)
{
  FILE *f = fopen (path, "a");
  gchar *rollup = NULL;

  if (f == NULL)
    return;
  fprintf (f, "<sample t=\"%.1f\">\n<smaps_rollup>\n", t);
  if (g_file_get_contents ("/proc/self/smaps_rollup", &rollup, NULL, NULL))
    fputs (rollup, f);
  g_free (rollup);
  fputs ("</smaps_rollup>\n", f);
  malloc_info (0, f);
  fputs ("</sample>\n", f);
  fclose (f);
}

/* ------------------------------------------------------------------------ */
/* Latency probes */

static Conv *
conv_of (gconstpointer conn)
{
  Conv *c;

  g_mutex_lock (&conv_map_lock);
  c = g_hash_table_lookup (conv_map, conn);
  g_mutex_unlock (&conv_map_lock);
  return c;
}

static gint
b64val (gchar c)
{
  if (c >= 'A' && c <= 'Z')
    return c - 'A';
  if (c >= 'a' && c <= 'z')
    return c - 'a' + 26;
  if (c >= '0' && c <= '9')
    return c - '0' + 52;
  if (c == '+')
    return 62;
  if (c == '/')
    return 63;
  return -1;
}

/* Decodes the 6 bytes of 8 base64 chars; FALSE if not base64 */
static gboolean
b64_6 (const gchar * s, guint8 out[6])
{
  gint i, v[8];

  for (i = 0; i < 8; i++)
    if ((v[i] = b64val (s[i])) < 0)
      return FALSE;
  for (i = 0; i < 2; i++) {
    out[i * 3] = (v[i * 4] << 2) | (v[i * 4 + 1] >> 4);
    out[i * 3 + 1] = ((v[i * 4 + 1] & 15) << 4) | (v[i * 4 + 2] >> 2);
    out[i * 3 + 2] = ((v[i * 4 + 2] & 3) << 6) | v[i * 4 + 3];
  }
  return TRUE;
}

static void
on_send (gconstpointer conn, const gchar * d, gsize len)
{
  const gchar *a, *q;
  gint64 t = now_ns ();
  Conv *c;
  gsize n;

  if (prov->in_key == NULL || no_latency)
    return;
  a = g_strstr_len (d, MIN (len, 256), prov->in_key);
  if (a == NULL)
    return;
  a += strlen (prov->in_key);
  q = memchr (a, '"', len - (a - d));
  if (q == NULL)
    return;
  c = conv_of (conn);
  if (c == NULL) {
    guint8 b[6];
    guint16 magic, idx;

    if (q - a < 8 || !b64_6 (a, b))
      return;
    magic = b[0] | (b[1] << 8);
    idx = b[2] | (b[3] << 8);
    if (magic != TAG_MAGIC || idx >= n_convs)
      return;
    c = &convs[idx];
    g_mutex_lock (&conv_map_lock);
    g_hash_table_insert (conv_map, (gpointer) conn, c);
    g_mutex_unlock (&conv_map_lock);
  }
  n = (q - a) / 4 * 3;
  if (q - a >= 1 && q[-1] == '=')
    n--;
  if (q - a >= 2 && q[-2] == '=')
    n--;

  g_mutex_lock (&c->lock);
  c->sent_bytes += n;
  while (c->tail != c->head && c->ring[c->tail].end <= c->sent_bytes) {
    if (g_atomic_int_get (&measuring))
      hist_add (hist_in, t - c->ring[c->tail].t);
    c->tail = (c->tail + 1) % RING;
  }
  g_mutex_unlock (&c->lock);
}

/* Resolved by the plugin before libsoup's own (see the top of this file) */
void
soup_websocket_connection_send_message (SoupWebsocketConnection * self,
    SoupWebsocketDataType type, GBytes * message)
{
  static void (*real) (SoupWebsocketConnection *, SoupWebsocketDataType,
      GBytes *);

  if (G_UNLIKELY (real == NULL))
    real = dlsym (RTLD_NEXT, "soup_websocket_connection_send_message");
  if (convs) {
    gsize len;
    const gchar *d = g_bytes_get_data (message, &len);
    on_send (self, d, len);
  }
  real (self, type, message);
}

/* The plugin's own WebSocket client calls these (weak there) */
void gst_s2s_ws_probe_send (gconstpointer ws, const guint8 * data, gsize len);
void gst_s2s_ws_probe_message (gconstpointer ws, const guint8 * data,
    gsize len);

void
gst_s2s_ws_probe_send (gconstpointer ws, const guint8 * data, gsize len)
{
  if (convs)
    on_send (ws, (const gchar *) data, len);
}

static void
on_message (gconstpointer conn, const gchar * d, gsize len)
{
  Conv *c;

  if (no_latency || prov->resp_marker == NULL)
    return;
  c = conv_of (conn);
  if (c == NULL)
    return;
  len = MIN (len, 96);
  g_mutex_lock (&c->lock);
  if (g_strstr_len (d, len, prov->resp_marker))
    c->expect_first = TRUE;
  if (c->expect_first && g_strstr_len (d, len, prov->audio_marker)) {
    c->expect_first = FALSE;
    c->out_pending = TRUE;
    c->t_arrive = gst_clock_get_time (sysclock);
  }
  g_mutex_unlock (&c->lock);
}

void
gst_s2s_ws_probe_message (gconstpointer ws, const guint8 * data, gsize len)
{
  on_message (ws, (const gchar *) data, len);
}

static gboolean
on_message_hook (GSignalInvocationHint * ihint, guint n_params,
    const GValue * params, gpointer data)
{
  SoupWebsocketConnection *conn = g_value_get_object (&params[0]);
  GBytes *msg = g_value_get_boxed (&params[2]);
  gsize len;
  const gchar *d = g_bytes_get_data (msg, &len);

  on_message (conn, d, len);
  return TRUE;
}

static GstPadProbeReturn
sink_probe (GstPad * pad, GstPadProbeInfo * info, gpointer data)
{
  Conv *c = data;
  GstBuffer *buf = GST_PAD_PROBE_INFO_BUFFER (info);
  guint next;

  g_mutex_lock (&c->lock);
  c->in_bytes += gst_buffer_get_size (buf);
  next = (c->head + 1) % RING;
  if (next != c->tail) {
    c->ring[c->head].end = c->in_bytes;
    c->ring[c->head].t = now_ns ();
    c->head = next;
  }
  g_mutex_unlock (&c->lock);
  return GST_PAD_PROBE_OK;
}

/* Output: the element stamps the first buffer of a response; the delay it
 * adds is that stamp (as clock time) minus the arrival of the audio. A
 * buffer that leaves the element after its play time (stamp + the
 * pipeline's latency) is counted as late. */
static GstPadProbeReturn
src_probe (GstPad * pad, GstPadProbeInfo * info, gpointer data)
{
  Conv *c = data;
  GstBuffer *buf = GST_PAD_PROBE_INFO_BUFFER (info);
  GstClockTime t = gst_clock_get_time (sysclock);
  GstClockTime play = c->base_time + GST_BUFFER_PTS (buf);

  g_mutex_lock (&c->lock);
  if (c->out_pending) {
    c->out_pending = FALSE;
    if (g_atomic_int_get (&measuring))
      hist_add (hist_out, (gint64) play - (gint64) c->t_arrive);
  }
  if (g_atomic_int_get (&measuring) && t > play + latency)
    c->late++;
  g_mutex_unlock (&c->lock);
  return GST_PAD_PROBE_OK;
}

/* ------------------------------------------------------------------------ */
/* --source thread: a live source with no thread of its own; the feeder
 * pushes on its pad */

typedef GstElement BenchSrc;
typedef GstElementClass BenchSrcClass;
static GType bench_src_get_type (void);
G_DEFINE_TYPE (BenchSrc, bench_src, GST_TYPE_ELEMENT);

static GstStaticPadTemplate bench_src_template =
GST_STATIC_PAD_TEMPLATE ("src", GST_PAD_SRC, GST_PAD_ALWAYS,
    GST_STATIC_CAPS ("audio/x-raw"));

static gboolean
bench_src_query (GstPad * pad, GstObject * parent, GstQuery * query)
{
  if (GST_QUERY_TYPE (query) == GST_QUERY_LATENCY) {
    gst_query_set_latency (query, TRUE, CHUNK_MS * GST_MSECOND,
        GST_CLOCK_TIME_NONE);
    return TRUE;
  }
  return gst_pad_query_default (pad, parent, query);
}

static GstStateChangeReturn
bench_src_change_state (GstElement * e, GstStateChange t)
{
  GstStateChangeReturn r =
      GST_ELEMENT_CLASS (bench_src_parent_class)->change_state (e, t);

  /* live: no preroll */
  if (r == GST_STATE_CHANGE_SUCCESS && (t == GST_STATE_CHANGE_READY_TO_PAUSED
          || t == GST_STATE_CHANGE_PLAYING_TO_PAUSED))
    return GST_STATE_CHANGE_NO_PREROLL;
  return r;
}

static void
bench_src_init (BenchSrc * self)
{
  GstPad *pad = gst_pad_new_from_static_template (&bench_src_template, "src");

  gst_pad_set_query_function (pad, bench_src_query);
  gst_pad_use_fixed_caps (pad);
  gst_element_add_pad (self, pad);
}

static void
bench_src_class_init (BenchSrcClass * klass)
{
  gst_element_class_add_static_pad_template (klass, &bench_src_template);
  gst_element_class_set_static_metadata (klass, "Bench source",
      "Source/Audio", "Pushed by the bench feeder", "gst-s2s");
  klass->change_state = bench_src_change_state;
}

/* ------------------------------------------------------------------------ */
/* Conversations */

static GstBusSyncReply
bus_sync (GstBus * bus, GstMessage * msg, gpointer data)
{
  Conv *c = data;

  switch (GST_MESSAGE_TYPE (msg)) {
    case GST_MESSAGE_ERROR:{
      GError *err = NULL;
      gchar *dbg = NULL;

      gst_message_parse_error (msg, &err, &dbg);
      if (g_atomic_int_add (&n_errors, 1) < 5)
        g_printerr ("conversation %u: ERROR %s (%s)\n", c->idx, err->message,
            GST_STR_NULL (dbg));
      g_error_free (err);
      g_free (dbg);
      break;
    }
    case GST_MESSAGE_WARNING:
      g_atomic_int_inc (&n_warnings);
      break;
    case GST_MESSAGE_ELEMENT:{
      const GstStructure *s = gst_message_get_structure (msg);
      const gchar *v;

      if (gst_structure_has_name (s, "s2s-session")
          && (v = gst_structure_get_string (s, "state"))
          && g_str_equal (v, "ready") && !g_atomic_int_get (&c->ready)) {
        g_atomic_int_set (&c->ready, 1);
        g_atomic_int_inc (&n_ready);
      } else if (gst_structure_has_name (s, "s2s-response")
          && (v = gst_structure_get_string (s, "event"))) {
        if (g_str_equal (v, "done") && g_atomic_int_get (&measuring))
          g_atomic_int_inc (&n_responses);
        else if (g_str_equal (v, "interrupted"))
          g_atomic_int_inc (&n_interrupted);
      }
      break;
    }
    default:
      break;
  }
  /* a sync handler that drops a message owns it */
  gst_message_unref (msg);
  return GST_BUS_DROP;
}

static void
on_handoff (GstElement * sink, GstBuffer * buf, GstPad * pad, gpointer data)
{
  g_mutex_lock (&out_lock);
  out_bytes += gst_buffer_get_size (buf);
  g_mutex_unlock (&out_lock);
}

static gboolean
conv_build (Conv * c, gboolean floor, const gchar * url, const gchar * ca,
    GError ** err)
{
  GstElement *sink;
  GstCaps *caps;
  gchar name[32];

  g_snprintf (name, sizeof name, "conv%u", c->idx);
  c->pipeline = gst_pipeline_new (name);
  sink = gst_element_factory_make ("fakesink", NULL);
  caps = gst_caps_new_simple ("audio/x-raw", "format", G_TYPE_STRING, "S16LE",
      "layout", G_TYPE_STRING, "interleaved", "rate", G_TYPE_INT, rate,
      "channels", G_TYPE_INT, 1, NULL);
  if (thread_source) {
    c->src = g_object_new (bench_src_get_type (), NULL);
    gst_caps_replace (&src_caps, caps);
  } else {
    c->src = gst_element_factory_make ("appsrc", NULL);
    g_object_set (c->src, "is-live", TRUE, "format", GST_FORMAT_TIME,
        "do-timestamp", FALSE, "caps", caps, "min-latency",
        (gint64) (CHUNK_MS * GST_MSECOND), "max-bytes", (guint64) 0,
        "max-buffers", (guint64) 50, NULL);
  }
  gst_caps_unref (caps);
  /* --floor --source thread: the sink runs on the feeder thread, whose
   * every clock wait would hold all conversations (a run at N=100 hung in
   * one): no sync there; its buffers arrive late anyway */
  /* --out-unsync: nothing downstream of the element waits on the clock
   * (as with an encoder and a network sink, webrtcbin's): the element's src
   * task alone times the output */
  g_object_set (sink, "sync", !(floor && thread_source) && !(out_unsync &&
          !floor), "signal-handoffs", !floor, NULL);
  gst_bin_add_many (GST_BIN (c->pipeline), c->src, sink, NULL);

  if (floor) {
    gst_element_link (c->src, sink);
  } else {
    GstPad *pad;

    c->model = gst_element_factory_make (prov->element, NULL);
    if (c->model == NULL) {
      g_set_error (err, GST_CORE_ERROR, GST_CORE_ERROR_MISSING_PLUGIN,
          "no element %s", prov->element);
      return FALSE;
    }
    /* hundreds of TLS handshakes at once take a while on a small machine */
    g_object_set (c->model, "url", url, "api-key", "sk-bench",
        "connect-timeout", 60000, NULL);
    if (ca)
      g_object_set (c->model, "ssl-ca-file", ca, NULL);
    gst_bin_add (GST_BIN (c->pipeline), c->model);
    if (!gst_element_link_many (c->src, c->model, sink, NULL)) {
      g_set_error (err, GST_CORE_ERROR, GST_CORE_ERROR_NEGOTIATION,
          "cannot link appsrc ! %s ! fakesink", prov->element);
      return FALSE;
    }
    if (!no_latency) {
      pad = gst_element_get_static_pad (c->model, "sink");
      gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BUFFER, sink_probe, c, NULL);
      gst_object_unref (pad);
      pad = gst_element_get_static_pad (c->model, "src");
      gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BUFFER, src_probe, c, NULL);
      gst_object_unref (pad);
    }
    g_signal_connect (sink, "handoff", G_CALLBACK (on_handoff), c);
  }
  {
    GstBus *bus = gst_element_get_bus (c->pipeline);
    gst_bus_set_sync_handler (bus, bus_sync, c, NULL);
    gst_object_unref (bus);
  }
  return TRUE;
}

/* Pushes the next 20 ms of the loop; the very first buffer carries the tag */
static void
conv_push (Conv * c)
{
  gsize chunk = rate / (1000 / CHUNK_MS) * 2;
  GstBuffer *buf;

  if (!c->tagged) {
    guint16 *s;

    buf = gst_buffer_new_allocate (NULL, chunk, NULL);
    gst_buffer_fill (buf, 0, loop_pcm + c->pos, chunk);
    {
      GstMapInfo map;
      gst_buffer_map (buf, &map, GST_MAP_WRITE);
      s = (guint16 *) map.data;
      s[0] = GUINT16_TO_LE (TAG_MAGIC);
      s[1] = GUINT16_TO_LE (c->idx);
      gst_buffer_unmap (buf, &map);
    }
    c->tagged = TRUE;
  } else {
    /* a real source fills a fresh buffer per period: so do we */
    buf = gst_buffer_new_memdup (loop_pcm + c->pos, chunk);
  }
  /* like a capture source: stamped with the running time of its first
   * sample, pushed when its last sample is in */
  {
    GstClockTime rt = gst_clock_get_time (sysclock) - c->base_time;
    GstClockTime d = CHUNK_MS * GST_MSECOND;
    GST_BUFFER_PTS (buf) = rt > d ? rt - d : 0;
    GST_BUFFER_DURATION (buf) = d;
  }
  c->pos += chunk;
  if (c->pos + chunk > loop_len)
    c->pos = 0;
  if (!thread_source) {
    gst_app_src_push_buffer (GST_APP_SRC (c->src), buf);
    return;
  }
  /* the source's own work, on this thread: its sticky events first */
  if (!c->started) {
    GstPad *pad = gst_element_get_static_pad (c->src, "src");
    GstSegment seg;
    gchar id[32];

    g_snprintf (id, sizeof id, "bench-%u", c->idx);
    gst_pad_push_event (pad, gst_event_new_stream_start (id));
    gst_pad_push_event (pad, gst_event_new_caps (src_caps));
    gst_segment_init (&seg, GST_FORMAT_TIME);
    gst_pad_push_event (pad, gst_event_new_segment (&seg));
    c->src_pad = pad;
    c->started = TRUE;
  }
  if (gst_pad_push (c->src_pad, buf) != GST_FLOW_OK && !c->push_failed) {
    c->push_failed = TRUE;
    g_printerr ("conversation %u: push failed\n", c->idx);
  }
}

/* ------------------------------------------------------------------------ */
/* Audio: the WAV's speech, then @gap_ms of silence, looped */

static gboolean
load_loop (const gchar * path, guint gap_ms, GError ** err)
{
  gchar *data;
  gsize len, off = 12, chunk = rate / (1000 / CHUNK_MS) * 2, speech = 0;
  const guint8 *pcm = NULL;

  if (!g_file_get_contents (path, &data, &len, err))
    return FALSE;
  while (off + 8 <= len) {
    guint32 sz = GST_READ_UINT32_LE (data + off + 4);
    if (memcmp (data + off, "fmt ", 4) == 0) {
      if (GST_READ_UINT16_LE (data + off + 8) != 1 ||
          GST_READ_UINT16_LE (data + off + 10) != 1 ||
          (gint) GST_READ_UINT32_LE (data + off + 12) != rate ||
          GST_READ_UINT16_LE (data + off + 22) != 16) {
        g_set_error (err, G_FILE_ERROR, G_FILE_ERROR_INVAL,
            "%s: need S16LE mono at %d Hz", path, rate);
        g_free (data);
        return FALSE;
      }
    } else if (memcmp (data + off, "data", 4) == 0) {
      pcm = (const guint8 *) data + off + 8;
      speech = MIN (sz, len - off - 8);
      break;
    }
    off += 8 + sz + (sz & 1);
  }
  if (pcm == NULL) {
    g_set_error (err, G_FILE_ERROR, G_FILE_ERROR_INVAL, "%s: no data", path);
    g_free (data);
    return FALSE;
  }
  loop_len = speech + (gsize) rate *2 * gap_ms / 1000;
  loop_len = (loop_len + chunk - 1) / chunk * chunk;
  loop_pcm = g_malloc0 (loop_len);
  memcpy (loop_pcm, pcm, speech);
  g_free (data);
  return TRUE;
}

/* ------------------------------------------------------------------------ */

static void
sleep_until (gint64 t)
{
  struct timespec ts = { t / 1000000000, t % 1000000000 };
  while (clock_nanosleep (CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) != 0);
}

int
main (int argc, char **argv)
{
  gint n = 1, emu_pid = 0;
  gdouble duration = 20, warmup = 3, rss_interval = 0;
  gchar *element = NULL, *url = NULL, *ca = NULL, *wav = NULL;
  gboolean floor = FALSE, aligned = FALSE;
  gchar *phase = NULL, *source = NULL;
  guint gap_ms = 4500, i;
  GOptionEntry entries[] = {
    {"n", 'n', 0, G_OPTION_ARG_INT, &n, "Conversations (1-1000)", "N"},
    {"duration", 'd', 0, G_OPTION_ARG_DOUBLE, &duration,
        "Measured seconds", "S"},
    {"warmup", 'w', 0, G_OPTION_ARG_DOUBLE, &warmup,
        "Seconds of audio before measuring", "S"},
    {"element", 'e', 0, G_OPTION_ARG_STRING, &element,
        "Provider element (s2sopenai, s2sgrok, s2sgemini, s2snova)", "NAME"},
    {"floor", 0, 0, G_OPTION_ARG_NONE, &floor,
        "No model element: source ! fakesink only", NULL},
    {"url", 'u', 0, G_OPTION_ARG_STRING, &url, "Emulator URL", "URL"},
    {"ca", 0, 0, G_OPTION_ARG_FILENAME, &ca, "ssl-ca-file", "FILE"},
    {"wav", 0, 0, G_OPTION_ARG_FILENAME, &wav, "Speech WAV (S16LE mono)",
        "FILE"},
    {"gap-ms", 0, 0, G_OPTION_ARG_INT, &gap_ms,
        "Silence after the speech in the loop", "MS"},
    {"emu-pid", 0, 0, G_OPTION_ARG_INT, &emu_pid,
        "Emulator process id (its CPU is reported)", "PID"},
    {"rss-interval", 0, 0, G_OPTION_ARG_DOUBLE, &rss_interval,
        "Sample RSS every S seconds while measuring", "S"},
    {"phase", 0, 0, G_OPTION_ARG_STRING, &phase,
          "Conversations' periods staggered (default) or aligned",
        "staggered|aligned"},
    {"source", 0, 0, G_OPTION_ARG_STRING, &source,
          "appsrc per conversation (default) or thread: the feeder pushes",
        "appsrc|thread"},
    {"no-latency", 0, 0, G_OPTION_ARG_NONE, &no_latency,
        "No latency stamps (CPU only)", NULL},
    {"out-unsync", 0, 0, G_OPTION_ARG_NONE, &out_unsync,
          "The element's fakesink does not sync (the element times output)",
        NULL},
    {NULL}
  };
  GOptionContext *ctx = g_option_context_new ("- gst-s2s load driver");
  GError *err = NULL;
  GstClockTime start_base;
  gint64 t0, next, t_end, rss_next, rss_base, rss_end;
  gdouble cpu0, cpu1, emu0, emu1;
  gint64 csw0 = 0, csw1 = 0;
  GHashTable *thr0 = NULL;
  GArray *rss_samples;
  gint late = 0;
  guint64 history_bytes = 0;
  GString *json;
  const gchar *malloc_info_path = g_getenv ("S2S_BENCH_MALLOC_INFO");
  gint64 t0_ns;
  gboolean malloc_trim_each = g_strcmp0 (g_getenv ("S2S_BENCH_MALLOC_TRIM"),
      "1") == 0;

  g_option_context_add_main_entries (ctx, entries, NULL);
  g_option_context_add_group (ctx, gst_init_get_option_group ());
  if (!g_option_context_parse (ctx, &argc, &argv, &err)) {
    g_printerr ("%s\n", err->message);
    return 2;
  }
  g_option_context_free (ctx);
  if (phase && !g_str_equal (phase, "staggered")
      && !(aligned = g_str_equal (phase, "aligned"))) {
    g_printerr ("--phase staggered|aligned\n");
    return 2;
  }
  if (source && !g_str_equal (source, "appsrc")
      && !(thread_source = g_str_equal (source, "thread"))) {
    g_printerr ("--source appsrc|thread\n");
    return 2;
  }
  if (n < 1 || n > 1000 || wav == NULL || (!floor && url == NULL)) {
    g_printerr ("need --n 1..1000, --wav and (unless --floor) --url\n");
    return 2;
  }
  prov = &providers[0];
  if (element) {
    for (i = 0; i < G_N_ELEMENTS (providers); i++)
      if (g_str_equal (providers[i].element, element))
        prov = &providers[i];
    if (!g_str_equal (prov->element, element)) {
      g_printerr ("unknown element %s\n", element);
      return 2;
    }
  }
  rate = prov->rate;
  if (!load_loop (wav, gap_ms, &err)) {
    g_printerr ("%s\n", err->message);
    return 2;
  }
  conv_map = g_hash_table_new (NULL, NULL);
  hist_in = g_new0 (gint, HIST_N);
  hist_out = g_new0 (gint, HIST_N);
  g_type_class_unref (g_type_class_ref (SOUP_TYPE_WEBSOCKET_CONNECTION));
  g_signal_add_emission_hook (g_signal_lookup ("message",
          SOUP_TYPE_WEBSOCKET_CONNECTION), 0, on_message_hook, NULL, NULL);
  if (ca && !g_path_is_absolute (ca)) {
    gchar *cwd = g_get_current_dir ();
    gchar *abs = g_build_filename (cwd, ca, NULL);
    g_free (cwd);
    g_free (ca);
    ca = abs;
  }

  /* The base RSS: GStreamer and the plugin loaded, no conversation yet */
  {
    GstElement *e = gst_element_factory_make (floor ? "fakesink" :
        prov->element, NULL);
    GstElement *s = gst_element_factory_make ("appsrc", NULL);
    if (e == NULL || s == NULL) {
      g_printerr ("missing element %s\n", floor ? "fakesink" : prov->element);
      return 2;
    }
    gst_object_unref (e);
    gst_object_unref (s);
  }
  rss_base = status_kib ("VmRSS:");

  sysclock = gst_system_clock_obtain ();
  start_base = gst_clock_get_time (sysclock);
  n_convs = n;
  convs = g_new0 (Conv, n);
  for (i = 0; i < n_convs; i++) {
    Conv *c = &convs[i];
    c->idx = i;
    g_mutex_init (&c->lock);
    /* conversations start at staggered points of the loop */
    c->pos = (gsize) i *loop_len / n_convs;
    c->pos -= c->pos % (rate / (1000 / CHUNK_MS) * 2);
    if (!conv_build (c, floor, url, ca, &err)) {
      g_printerr ("%s\n", err->message);
      return 2;
    }
    /* one clock and one base time for all, so stamps compare */
    gst_pipeline_use_clock (GST_PIPELINE (c->pipeline), sysclock);
    gst_element_set_start_time (c->pipeline, GST_CLOCK_TIME_NONE);
    gst_element_set_base_time (c->pipeline, start_base);
    c->base_time = start_base;
    if (gst_element_set_state (c->pipeline, GST_STATE_PLAYING) ==
        GST_STATE_CHANGE_FAILURE) {
      g_printerr ("conversation %u: cannot start\n", i);
      return 1;
    }
    /* ramp up: at most 20 connection attempts outstanding */
    while (!floor && i >= 20 + (guint) g_atomic_int_get (&n_ready) &&
        g_atomic_int_get (&n_errors) == 0)
      g_usleep (5000);
  }

  /* Every session ready (60 s at most) before the audio starts */
  t0 = g_get_monotonic_time ();
  while (!floor && g_atomic_int_get (&n_ready) < n &&
      g_get_monotonic_time () - t0 < 60 * G_TIME_SPAN_SECOND &&
      g_atomic_int_get (&n_errors) == 0)
    g_usleep (20000);
  if (!floor && g_atomic_int_get (&n_ready) < n)
    g_printerr ("only %d of %d sessions ready\n", n_ready, n);
  {
    GstQuery *q = gst_query_new_latency ();
    if (gst_element_query (convs[0].pipeline, q))
      gst_query_parse_latency (q, NULL, &latency, NULL);
    gst_query_unref (q);
  }

  /* The feeder: every 20 ms one buffer into every conversation */
  rss_samples = g_array_new (FALSE, FALSE, sizeof (gint64));
  next = t0_ns = now_ns ();
  t_end = next + (gint64) ((warmup + duration) * 1e9);
  cpu0 = emu0 = -1;
  rss_next = 0;
  while (next < t_end) {
    /* independent sources are not in phase: conversation i is pushed
     * i/N of a period into it (--phase aligned: all at once) */
    for (i = 0; i < n_convs; i++) {
      if (i > 0 && !aligned)
        sleep_until (next + (gint64) i * CHUNK_MS * GST_MSECOND / n_convs);
      conv_push (&convs[i]);
    }
    if (cpu0 < 0 && next >= t_end - (gint64) (duration * 1e9)) {
      cpu0 = cpu_self ();
      csw0 = csw_self ();
      if (g_getenv ("S2S_BENCH_THREADS"))
        thr0 = threads_snapshot ();
      emu0 = cpu_pid (emu_pid);
      g_atomic_int_set (&measuring, 1);
      rss_next = next;
    }
    if (rss_interval > 0 && cpu0 >= 0 && next >= rss_next) {
      gint64 r;

      /* S2S_BENCH_MALLOC_TRIM=1: return free heap pages to the system
       * before each sample (experiment: fragmentation or live growth?) */
      if (malloc_trim_each)
        malloc_trim (0);
      r = status_kib ("VmRSS:");
      g_array_append_val (rss_samples, r);
      if (malloc_info_path)
        dump_malloc_info (malloc_info_path, (next - t0_ns) / 1e9);
      rss_next += (gint64) (rss_interval * 1e9);
    }
    next += CHUNK_MS * GST_MSECOND;
    sleep_until (next);
  }
  cpu1 = cpu_self ();
  csw1 = csw_self ();
  if (thr0) {
    GHashTable *thr1 = threads_snapshot ();
    threads_report (thr0, thr1, n, duration);
    g_hash_table_destroy (thr0);
    g_hash_table_destroy (thr1);
  }
  emu1 = cpu_pid (emu_pid);
  g_atomic_int_set (&measuring, 0);
  rss_end = status_kib ("VmRSS:");

  for (i = 0; i < n_convs; i++) {
    g_mutex_lock (&convs[i].lock);
    late += convs[i].late;
    g_mutex_unlock (&convs[i].lock);
    /* the conversation each element keeps (its `history`): grows with the
     * turns by design */
    if (convs[i].model
        && g_object_class_find_property (G_OBJECT_GET_CLASS (convs[i].model),
            "history")) {
      gchar *h = NULL;
      g_object_get (convs[i].model, "history", &h, NULL);
      history_bytes += h ? strlen (h) : 0;
      g_free (h);
    }
  }

  json = g_string_new (NULL);
  g_string_append_printf (json, "{\"client\":\"%s\",\"n\":%d,"
      "\"phase\":\"%s\",\"source\":\"%s\",\"duration\":%.1f,\"cpu_s\":%.3f,\"cpu_pct_per_conv\":%.4f,"
      "\"emu_cpu_pct_per_conv\":%.4f,\"rss_base_kib\":%" G_GINT64_FORMAT
      ",\"rss_end_kib\":%" G_GINT64_FORMAT ",\"rss_peak_kib\":%"
      G_GINT64_FORMAT ",\"rss_per_conv_kib\":%.1f,", floor ? "floor" :
      prov->element, n, aligned ? "aligned" : "staggered",
      thread_source ? "thread" : "appsrc", duration, cpu1 - cpu0,
      100.0 * (cpu1 - cpu0) / (n * duration),
      emu_pid > 0 ? 100.0 * (emu1 - emu0) / (n * duration) : -1.0,
      rss_base, rss_end, status_kib ("VmHWM:"),
      (gdouble) (rss_end - rss_base) / n);
  g_string_append_printf (json, "\"csw_per_conv_s\":%.1f,",
      (gdouble) (csw1 - csw0) / (n * duration));
  g_string_append_printf (json, "\"lat_in_p50_ms\":%.3f,\"lat_in_p99_ms\":%.3f,"
      "\"lat_in_n\":%u,\"lat_out_p50_ms\":%.3f,\"lat_out_p99_ms\":%.3f,"
      "\"lat_out_n\":%u,\"late_out\":%d,\"latency_ms\":%.1f,\"responses\":%d,\"interrupted\":%d,"
      "\"out_bytes\":%" G_GINT64_FORMAT ",\"ready\":%d,\"errors\":%d,"
      "\"warnings\":%d,\"history_bytes\":%" G_GUINT64_FORMAT
      ",\"rss_samples_kib\":[", hist_pct (hist_in, 50),
      hist_pct (hist_in, 99), hist_count (hist_in), hist_pct (hist_out, 50),
      hist_pct (hist_out, 99), hist_count (hist_out), late, latency / 1e6,
      n_responses, n_interrupted, out_bytes, floor ? n : n_ready, n_errors,
      n_warnings, history_bytes);
  for (i = 0; i < rss_samples->len; i++)
    g_string_append_printf (json, "%s%" G_GINT64_FORMAT, i ? "," : "",
        g_array_index (rss_samples, gint64, i));
  g_string_append (json, "]}");
  g_print ("%s\n", json->str);
  fflush (stdout);

  /* S2S_BENCH_NO_TEARDOWN=1: exit with every conversation still live, so
   * a heap profiler's "leaked" list is what was live at the end (heaptrack
   * runs of two durations, diffed, show what grows) */
  if (g_strcmp0 (g_getenv ("S2S_BENCH_NO_TEARDOWN"), "1") == 0)
    exit (n_errors > 0 ? 1 : 0);
  for (i = 0; i < n_convs; i++) {
    gst_element_set_state (convs[i].pipeline, GST_STATE_NULL);
    if (convs[i].src_pad)
      gst_object_unref (convs[i].src_pad);
    gst_object_unref (convs[i].pipeline);
  }
  return n_errors > 0 ? 1 : 0;
}
