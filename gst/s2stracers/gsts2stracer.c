/* gst-s2s
 * Copyright (C) 2026 gst-s2s developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/**
 * SECTION:tracer-s2s
 * @short_description: per-turn latency, usage and failures of
 * speech-to-speech elements
 *
 * The `s2s` tracer measures every speech-to-speech element of the process
 * (any subclass of GstS2SBase, never found by element name) through its
 * bus messages, including the records of its input and output it posts
 * while traced (`s2s-transport`): end of the user's speech,
 * time to the model's first audio (received, pushed, rendered by the sink
 * downstream), the latency the element itself adds on the way in and out,
 * interruptions, transcripts, tool-call round trips, tokens, reconnects,
 * rotations and fallback switches. One record per turn, and a session
 * summary when the element stops, are logged as GstTracerRecords
 * (`GST_DEBUG=GST_TRACER:7`) and, with `file=`, written as JSON lines.
 *
 * Every field is defined in docs/observability.md.
 *
 * ## Example
 * |[
 * GST_TRACERS="s2s(file=turns.jsonl)" gst-launch-1.0 autoaudiosrc ! \
 *     audioconvert ! audioresample ! s2sopenai ! audioconvert ! autoaudiosink
 * ]|
 *
 * Parameters: `file` (JSON-lines output, appended), `filter` (glob on element
 * names, alternatives separated by `|`; quote it: `filter="agent*"`),
 * `voice-db` (level above which an input buffer counts as voiced, dBFS,
 * default -40), `bus-records` (also post the elements' records, the
 * `s2s-transport` messages, on the bus; default false: only the s2s
 * tracers get them).
 *
 * The tracer registers no tracing hook: GStreamer's hook dispatch stays off
 * for the whole process. Each s2s element hands itself to the tracer when
 * its session starts (the "attach" action signal, which returns a
 * GstS2STraceSink, gsts2stracesink.h) and again when it stops ("detach").
 * In between, the element hands every element message posted on it to
 * that sink, in the posting thread; the pipeline's bus is watched
 * ("sync-message") only when a bin other than the pipeline is around the
 * element, for the s2s-fallback such a bin posts. The sinks downstream
 * are probed only while a first audio is on its way to them. Nothing is
 * put on the element's pads; every other element costs nothing.
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <gst/base/gstbasesink.h>

#include "gsts2stracer.h"
#include "gsts2stracesink.h"

GST_DEBUG_CATEGORY_STATIC (gst_s2s_tracer_debug);
#define GST_CAT_DEFAULT gst_s2s_tracer_debug

/* The contract (ARCHITECTURE.md §3): the base class by name, the
 * element's records batched in s2s-transport */
#define S2S_BASE_TYPE_NAME "GstS2SBase"
#define IN_FIELDS 3             /* end offset, entry, hand-off */
#define HANDOFF_FIELDS 2        /* offset, hand-off */
#define PUSH_FIELDS 4           /* pts, duration, arrival, push */
#define DEFAULT_VOICE_DB -40.0
/* Inputs waiting for their hand-off: the ring starts small and doubles up
 * to this many (memory a session holds but never touches is memory the
 * process's other allocations cannot reuse: tests/bench/
 * tracer-overhead.md, "Page faults") */
#define IN_RING_MIN 64
#define IN_RING_SIZE 4096
#define WALK_DEPTH 32

struct _GstS2STracer
{
  GstTracer parent;

  GMutex out_lock;
  FILE *out;
  gchar *file;
  GPatternSpec **filters;
  gdouble voice_db;
  gdouble voice_mean_square;    /* voice_db as a mean of squared samples */
  gboolean bus_records;
  /* per tracer, so two s2s tracers in one process keep apart */
  GQuark session_quark;
  GQuark bus_quark;
};

G_DEFINE_TYPE (GstS2STracer, gst_s2s_tracer, GST_TYPE_TRACER);

/* GstS2SBase's GType, known from the first element attached */
static GType s2s_type = 0;
static GMutex create_lock;

/* The discovery contract: a GPtrArray of the s2s tracers (reffed, never
 * shrinks), as qdata of the GstS2STracer GType */
#define TRACERS_QDATA "gst-s2s-tracers"
static GMutex registry_lock;
static GMutex watch_lock;

static GstTracerRecord *tr_turn;
static GstTracerRecord *tr_session;

static void declare_records (void);

/* Per-turn figures also summarised over the session */
typedef enum
{
  M_TTFA_RECEIVED,
  M_TTFA_PUSHED,
  M_TTFA_RENDERED,
  M_VOICE_TO_PUSHED,
  M_VOICE_TO_RENDERED,
  M_PROVIDER_TTFA,
  M_IN_MEDIAN,
  M_IN_MAX,
  M_OUT_MEDIAN,
  M_OUT_MAX,
  M_TOOL_RESULT,
  M_TOOL_AUDIO,
  N_METRICS
} Metric;

static const gchar *const metric_names[N_METRICS] = {
  "ttfa_received_ms", "ttfa_pushed_ms", "ttfa_rendered_ms",
  "voice_to_pushed_ms", "voice_to_rendered_ms", "provider_ttfa_ms",
  "in_latency_median_ms", "in_latency_max_ms", "out_latency_median_ms",
  "out_latency_max_ms", "tool_result_ms", "tool_audio_ms",
};

/* Latency samples (ns): appended per buffer, so no GArray call per
 * sample */
typedef struct
{
  guint64 *v;
  guint len;
  guint size;
} Samples;

typedef struct
{
  gchar *call_id;
  gchar *name;
  GstClockTime call_rt;
  GstClockTime result_rt;
  GstClockTime audio_rt;
} ToolCall;

typedef struct
{
  guint index;
  const gchar *trigger;         /* "speech", "response" or NULL (not begun) */
  GstClockTime vad_stop_rt;
  GstClockTime voice_end_rt;
  GstClockTime response_rt;     /* start of the response being received */
  GstClockTime first_response_rt;
  GstClockTime first_recv_rt;
  GstClockTime first_push_rt;
  GstClockTime render_rt;
  GstClockTime provider_ttfa;
  Samples in_lat;
  Samples out_lat;
  guint responses;
  gboolean awaiting_followup;   /* a tool result was given */
  guint interruptions;
  GstClockTime played;
  GstClockTime received;
  guint user_chars;
  guint assistant_chars;
  GPtrArray *tools;             /* ToolCall */
  gint64 tokens[5];
  guint reconnects;
  guint rotations;
  guint fallbacks;
  GString *events;              /* JSON objects, comma separated */
} Turn;

typedef struct
{
  guint64 end;                  /* sink bytes up to this buffer's end */
  GstClockTime rt;              /* when it entered the sink pad */
} InEntry;

typedef struct
{
  GstPad *pad;
  gulong id;
  gboolean render;              /* on a sink downstream, only while needed */
} Probe;

typedef struct
{
  /* what "attach" returns: the element hands its messages here */
  GstS2STraceSink sink;
  GMutex lock;
  GstS2STracer *tracer;         /* lives as long as the process */
  GstElement *element;          /* not reffed: the session lives in its qdata */
  gboolean active;              /* between READY->PAUSED and PAUSED->READY */
  gboolean excluded;            /* by the filter */
  gchar *provider;
  gchar *session_id;
  guint turn_count;
  Turn *cur;

  /* input, from the element's records: inputs waiting for their hand-off */
  /* ring_size entries (IN_RING_MIN, doubled as needed up to
   * IN_RING_SIZE), not zeroed; allocated at the first input that waits
   * for a hand-off (the element's direct path needs none) */
  InEntry *ring;
  guint ring_size;
  guint ring_head;
  guint ring_len;
  Samples in_acc;               /* in-latency since the last turn boundary */
  GstClockTime voice_end;       /* running time, the element's voice-end */

  /* output */
  GstClockTime first_pts_pending;
  GstClockTime render_pending;

  /* session summary */
  GArray *metrics[N_METRICS];   /* gdouble ms, one per turn (tools: per call) */
  guint turns;
  guint interruptions;
  guint tool_calls;
  guint reconnects;
  guint rotations;
  guint fallbacks;
  gint64 tokens[5];

  /* between attach and detach */
  GMutex probe_lock;
  GArray *probes;               /* Probe: sinks downstream, while needed */
  gboolean rewalk;              /* probe the sinks downstream */
  gboolean unprobe;             /* no render pending: drop the sinks' probes */
  /* watched (bus_watch_add) only for s2s-fallback, which a bin around
   * the element posts: the element's own messages come through sink */
  GstBus *bus;
} Session;

/* One sync-message handler per tracer and bus, shared by the sessions on
 * it: bus qdata under the tracer's bus_quark */
typedef struct
{
  gulong handler;
  guint users;
} BusWatch;

static const gchar *const token_names[5] = {
  "input", "output", "input_audio", "output_audio", "cached"
};

static const gchar *const token_fields[5] = {
  "input-tokens", "output-tokens", "input-audio-tokens",
  "output-audio-tokens", "cached-tokens"
};

/* ------------------------------------------------------------------------ */
/* Small helpers */

static GstClockTime
element_rt (GstElement * element)
{
  if (GST_STATE (element) != GST_STATE_PLAYING)
    return GST_CLOCK_TIME_NONE;
  return gst_element_get_current_running_time (element);
}

static gboolean
is_s2s (gpointer object)
{
  return s2s_type != 0 && object != NULL &&
      G_TYPE_CHECK_INSTANCE_TYPE (object, s2s_type);
}

static gdouble
ns_to_ms (GstClockTime t)
{
  return (gdouble) t / GST_MSECOND;
}

/* b - a in ms, NAN when either is unknown */
static gdouble
diff_ms (GstClockTime a, GstClockTime b)
{
  if (!GST_CLOCK_TIME_IS_VALID (a) || !GST_CLOCK_TIME_IS_VALID (b))
    return NAN;
  return ((gdouble) b - (gdouble) a) / GST_MSECOND;
}

static int
cmp_double (gconstpointer a, gconstpointer b)
{
  gdouble x = *(const gdouble *) a, y = *(const gdouble *) b;
  return x < y ? -1 : x > y;
}

static void
samples_reserve (Samples * a, guint n)
{
  if (a->len + n > a->size) {
    a->size = MAX (MAX (a->size * 2, a->len + n), 64);
    a->v = g_renew (guint64, a->v, a->size);
  }
}

static inline void
samples_add (Samples * a, guint64 x)
{
  if (G_UNLIKELY (a->len == a->size))
    samples_reserve (a, 1);
  a->v[a->len++] = x;
}

static void
samples_append (Samples * a, const Samples * b)
{
  if (b->len == 0)
    return;
  samples_reserve (a, b->len);
  memcpy (a->v + a->len, b->v, b->len * sizeof (guint64));
  a->len += b->len;
}

/* Rearranges @v (@n > 0) so that v[k] holds what it would hold sorted,
 * in linear time on average (Hoare's selection) */
static guint64
select_nth (guint64 * v, guint n, guint k)
{
  guint lo = 0, hi = n - 1;

  while (lo < hi) {
    guint64 pivot = v[lo + (hi - lo) / 2];
    guint i = lo, j = hi;

    /* afterwards v[lo..j] <= pivot <= v[i..hi], and j < i */
    for (;;) {
      while (v[i] < pivot)
        i++;
      while (v[j] > pivot)
        j--;
      if (i >= j)
        break;
      {
        guint64 t = v[i];
        v[i] = v[j];
        v[j] = t;
      }
      i++;
      j--;
    }
    if (k <= j)
      hi = j;
    else
      lo = j + 1;
  }
  return v[k];
}

/* Median (lower middle for an even count) and max of @samples, in ms */
static void
median_max (Samples * samples, gdouble * median, gdouble * max)
{
  guint64 m = 0;
  guint i;

  if (samples->len == 0) {
    *median = *max = NAN;
    return;
  }
  for (i = 0; i < samples->len; i++)
    m = MAX (m, samples->v[i]);
  *median = ns_to_ms (select_nth (samples->v, samples->len,
          (samples->len - 1) / 2));
  *max = ns_to_ms (m);
}

/* Nearest-rank percentile of sorted @v */
static gdouble
percentile (GArray * v, guint p)
{
  guint rank;

  if (v->len == 0)
    return NAN;
  rank = (guint) ceil (p / 100.0 * v->len);
  return g_array_index (v, gdouble, MAX (rank, 1) - 1);
}

static void
json_string (GString * s, const gchar * str)
{
  const gchar *p;

  if (str == NULL) {
    g_string_append (s, "null");
    return;
  }
  g_string_append_c (s, '"');
  for (p = str; *p; p++) {
    guchar c = *p;
    const gchar *run = p;

    /* the plain characters up to the next one to escape, at once */
    while (*p && (guchar) * p >= 0x20 && *p != '"' && *p != '\\')
      p++;
    if (p > run)
      g_string_append_len (s, run, p - run);
    if (*p == '\0')
      break;
    c = *p;
    switch (c) {
      case '"':
        g_string_append (s, "\\\"");
        break;
      case '\\':
        g_string_append (s, "\\\\");
        break;
      case '\n':
        g_string_append (s, "\\n");
        break;
      case '\r':
        g_string_append (s, "\\r");
        break;
      case '\t':
        g_string_append (s, "\\t");
        break;
      default:
        if (c < 0x20)
          g_string_append_printf (s, "\\u%04x", c);
        else
          g_string_append_c (s, c);
    }
  }
  g_string_append_c (s, '"');
}

/* Room for @n more bytes (and the NUL) at the end of @s, written
 * directly: a turn line has dozens of fields, and GString's appends are
 * calls */
static inline gchar *
reserve (GString * s, gsize n)
{
  if (G_UNLIKELY (s->len + n >= s->allocated_len)) {
    gsize len = s->len;

    g_string_set_size (s, len + n);
    g_string_truncate (s, len);
  }
  return s->str + s->len;
}

/* Ends a direct write at @p */
static inline void
commit (GString * s, gchar * p)
{
  *p = '\0';
  s->len = p - s->str;
}

/* @key: a literal of this file, nothing to escape */
static inline void
json_key (GString * s, const gchar * key)
{
  gsize n = strlen (key);
  gchar *p = reserve (s, n + 4);

  if (s->len > 0 && p[-1] != '{' && p[-1] != '[')
    *p++ = ',';
  *p++ = '"';
  memcpy (p, key, n);
  p += n;
  *p++ = '"';
  *p++ = ':';
  commit (s, p);
}

/* Decimal digits of @v at @p, without printf; the end */
static inline gchar *
put_u64 (gchar * p, guint64 v)
{
  gchar buf[20];
  guint i = sizeof (buf);

  do {
    buf[--i] = '0' + v % 10;
    v /= 10;
  } while (v);
  memcpy (p, buf + i, sizeof (buf) - i);
  return p + sizeof (buf) - i;
}

static void
append_u64 (GString * s, guint64 v)
{
  commit (s, put_u64 (reserve (s, 20), v));
}

static void
append_i64 (GString * s, gint64 v)
{
  if (v < 0) {
    g_string_append_c (s, '-');
    append_u64 (s, -(guint64) v);
  } else {
    append_u64 (s, v);
  }
}

/* @v with 3 decimals (as "%.3f", rounded to the nearest microsecond) */
static void
json_ms (GString * s, const gchar * key, gdouble v)
{
  gchar buf[G_ASCII_DTOSTR_BUF_SIZE];
  gdouble us;
  guint64 a;
  gchar *p;

  json_key (s, key);
  if (isnan (v)) {
    g_string_append_len (s, "null", 4);
    return;
  }
  us = round (fabs (v) * 1000.0);
  if (us >= 1e18) {
    g_string_append (s, g_ascii_formatd (buf, sizeof (buf), "%.3f", v));
    return;
  }
  a = (guint64) us;
  p = reserve (s, 26);
  if (v < 0 && a > 0)
    *p++ = '-';
  p = put_u64 (p, a / 1000);
  *p++ = '.';
  *p++ = '0' + (a / 100) % 10;
  *p++ = '0' + (a / 10) % 10;
  *p++ = '0' + a % 10;
  commit (s, p);
}

static void
json_uint (GString * s, const gchar * key, guint64 v)
{
  json_key (s, key);
  append_u64 (s, v);
}

static void
json_str (GString * s, const gchar * key, const gchar * v)
{
  json_key (s, key);
  json_string (s, v);
}

static void
json_tokens (GString * s, const gint64 * tokens)
{
  guint i;

  json_key (s, "tokens");
  g_string_append_c (s, '{');
  for (i = 0; i < 5; i++) {
    json_key (s, token_names[i]);
    append_i64 (s, tokens[i]);
  }
  g_string_append_c (s, '}');
}

/* ------------------------------------------------------------------------ */
/* Turns and sessions */

static void
tool_call_free (ToolCall * c)
{
  g_free (c->call_id);
  g_free (c->name);
  g_free (c);
}

static Turn *
turn_new (void)
{
  Turn *t = g_new0 (Turn, 1);

  t->vad_stop_rt = t->voice_end_rt = t->response_rt = GST_CLOCK_TIME_NONE;
  t->first_response_rt = t->first_recv_rt = GST_CLOCK_TIME_NONE;
  t->first_push_rt = t->render_rt = t->provider_ttfa = GST_CLOCK_TIME_NONE;
  t->tools = g_ptr_array_new_with_free_func ((GDestroyNotify) tool_call_free);
  t->events = g_string_new (NULL);
  return t;
}

static void
turn_free (Turn * t)
{
  g_free (t->in_lat.v);
  g_free (t->out_lat.v);
  g_ptr_array_unref (t->tools);
  g_string_free (t->events, TRUE);
  g_free (t);
}

static void on_sync_message (GstBus * bus, GstMessage * msg, gpointer data);
static void on_element_message (gpointer session, GstMessage * msg);

/* The tracer watches the element messages of @bus */
static void
bus_watch_add (GstS2STracer * self, GstBus * bus)
{
  BusWatch *w;

  g_mutex_lock (&watch_lock);
  w = g_object_get_qdata (G_OBJECT (bus), self->bus_quark);
  if (w == NULL) {
    w = g_new0 (BusWatch, 1);
    gst_bus_enable_sync_message_emission (bus);
    w->handler = g_signal_connect (bus, "sync-message::element",
        G_CALLBACK (on_sync_message), self);
    g_object_set_qdata (G_OBJECT (bus), self->bus_quark, w);
  }
  w->users++;
  g_mutex_unlock (&watch_lock);
}

static void
bus_watch_remove (GstS2STracer * self, GstBus * bus)
{
  BusWatch *w;

  g_mutex_lock (&watch_lock);
  w = g_object_get_qdata (G_OBJECT (bus), self->bus_quark);
  if (w && --w->users == 0) {
    g_signal_handler_disconnect (bus, w->handler);
    gst_bus_disable_sync_message_emission (bus);
    g_object_set_qdata (G_OBJECT (bus), self->bus_quark, NULL);
    g_free (w);
  }
  g_mutex_unlock (&watch_lock);
}

/* Removes the session's probes and bus handler */
static void
drop_watches (Session * s)
{
  guint i;

  for (i = 0; i < s->probes->len; i++) {
    Probe *p = &g_array_index (s->probes, Probe, i);
    gst_pad_remove_probe (p->pad, p->id);
    gst_object_unref (p->pad);
  }
  g_array_set_size (s->probes, 0);
  if (s->bus) {
    bus_watch_remove (s->tracer, s->bus);
    gst_clear_object (&s->bus);
  }
}

static void
session_free (Session * s)
{
  guint i;

  if (s->cur)
    turn_free (s->cur);
  g_free (s->in_acc.v);
  for (i = 0; i < N_METRICS; i++)
    g_array_unref (s->metrics[i]);
  g_free (s->provider);
  g_free (s->session_id);
  /* the element went away attached (its start failed half-way): nothing
   * may call back into this session */
  drop_watches (s);
  g_array_unref (s->probes);
  g_free (s->ring);
  g_mutex_clear (&s->probe_lock);
  g_mutex_clear (&s->lock);
  g_free (s);
}

static void
session_reset_summary (Session * s)
{
  guint i;

  for (i = 0; i < N_METRICS; i++)
    g_array_set_size (s->metrics[i], 0);
  s->turns = s->interruptions = s->tool_calls = 0;
  s->reconnects = s->rotations = s->fallbacks = 0;
  memset (s->tokens, 0, sizeof (s->tokens));
  s->turn_count = 0;
}

/* lock held: nothing of a previous session is matched in this one */
static void
session_reset_stream (Session * s)
{
  s->first_pts_pending = s->render_pending = GST_CLOCK_TIME_NONE;
  s->voice_end = GST_CLOCK_TIME_NONE;
  s->in_acc.len = 0;
  s->ring_head = s->ring_len = 0;
}

static Session *
session_get (GstS2STracer * self, GstElement * element)
{
  Session *s = g_object_get_qdata (G_OBJECT (element), self->session_quark);
  guint i;

  if (G_LIKELY (s != NULL))
    return s;
  g_mutex_lock (&create_lock);
  s = g_object_get_qdata (G_OBJECT (element), self->session_quark);
  if (s == NULL) {
    s = g_new0 (Session, 1);
    s->sink.size = sizeof (GstS2STraceSink);
    s->sink.message = on_element_message;
    s->sink.session = s;
    g_mutex_init (&s->lock);
    g_mutex_init (&s->probe_lock);
    s->probes = g_array_new (FALSE, FALSE, sizeof (Probe));
    s->tracer = self;
    s->element = element;
    for (i = 0; i < N_METRICS; i++)
      s->metrics[i] = g_array_new (FALSE, FALSE, sizeof (gdouble));
    session_reset_stream (s);
    g_object_set_qdata_full (G_OBJECT (element), self->session_quark, s,
        (GDestroyNotify) session_free);
  }
  g_mutex_unlock (&create_lock);
  return s;
}

/* lock held: the open turn, created (not yet begun) when there is none */
static Turn *
turn_ensure (Session * s)
{
  if (s->cur == NULL)
    s->cur = turn_new ();
  return s->cur;
}

static void
add_metric (Session * s, Metric m, gdouble v)
{
  if (!isnan (v))
    g_array_append_val (s->metrics[m], v);
}

/* Whether a turn or session line can reach anyone: the file, or the
 * debug log, which gst_tracer_record_log only calls when some category
 * logs at TRACE (its own test, so every log function gets what it got
 * before). With neither (GST_TRACERS=s2s without GST_DEBUG), the lines
 * are not built: the turns are still measured and summed into the
 * session's figures, so a log switched on later still gets a whole
 * summary (docs/observability.md, "Turning it on") */
static gboolean
lines_wanted (GstS2STracer * self)
{
#ifndef GST_DISABLE_GST_DEBUG
  return self->out != NULL || _gst_debug_min >= GST_LEVEL_TRACE;
#else
  return self->out != NULL;
#endif
}

static void
write_line (GstS2STracer * self, GString * line)
{
  g_mutex_lock (&self->out_lock);
  if (self->out) {
    fputs (line->str, self->out);
    fputc ('\n', self->out);
    fflush (self->out);
  }
  g_mutex_unlock (&self->out_lock);
}

/* lock held: logs the open turn, if it began, and forgets it */
static void
turn_close (GstS2STracer * self, Session * s)
{
  Turn *t = s->cur;
  GString *j;
  gdouble v[N_METRICS];
  guint i;

  s->cur = NULL;
  if (t == NULL)
    return;
  if (t->trigger == NULL) {
    /* nothing happened in it but counters: they go to the next turn */
    s->cur = t;
    return;
  }

  v[M_TTFA_RECEIVED] = diff_ms (t->vad_stop_rt, t->first_recv_rt);
  v[M_TTFA_PUSHED] = diff_ms (t->vad_stop_rt, t->first_push_rt);
  v[M_TTFA_RENDERED] = diff_ms (t->vad_stop_rt, t->render_rt);
  v[M_VOICE_TO_PUSHED] = diff_ms (t->voice_end_rt, t->first_push_rt);
  v[M_VOICE_TO_RENDERED] = diff_ms (t->voice_end_rt, t->render_rt);
  v[M_PROVIDER_TTFA] = GST_CLOCK_TIME_IS_VALID (t->provider_ttfa) ?
      ns_to_ms (t->provider_ttfa) : NAN;
  median_max (&t->in_lat, &v[M_IN_MEDIAN], &v[M_IN_MAX]);
  median_max (&t->out_lat, &v[M_OUT_MEDIAN], &v[M_OUT_MAX]);

  s->turns++;
  s->interruptions += t->interruptions;
  s->tool_calls += t->tools->len;
  s->reconnects += t->reconnects;
  s->rotations += t->rotations;
  s->fallbacks += t->fallbacks;
  for (i = 0; i < 5; i++)
    s->tokens[i] += t->tokens[i];
  for (i = 0; i < M_TOOL_RESULT; i++)
    add_metric (s, i, v[i]);
  for (i = 0; i < t->tools->len; i++) {
    ToolCall *c = g_ptr_array_index (t->tools, i);

    add_metric (s, M_TOOL_RESULT, diff_ms (c->call_rt, c->result_rt));
    add_metric (s, M_TOOL_AUDIO, diff_ms (c->result_rt, c->audio_rt));
  }
  if (!lines_wanted (self)) {
    turn_free (t);
    return;
  }

  j = g_string_sized_new (1024);
  g_string_append_c (j, '{');
  json_str (j, "type", "turn");
  json_str (j, "element", GST_OBJECT_NAME (s->element));
  json_str (j, "provider", s->provider);
  json_str (j, "session_id", s->session_id);
  json_uint (j, "turn", t->index);
  json_str (j, "trigger", t->trigger);
  json_ms (j, "speech_stopped_rt_ms", GST_CLOCK_TIME_IS_VALID (t->vad_stop_rt)
      ? ns_to_ms (t->vad_stop_rt) : NAN);
  json_ms (j, "voice_end_rt_ms", GST_CLOCK_TIME_IS_VALID (t->voice_end_rt) ?
      ns_to_ms (t->voice_end_rt) : NAN);
  for (i = 0; i < M_TOOL_RESULT; i++)
    json_ms (j, metric_names[i], v[i]);
  json_uint (j, "in_samples", t->in_lat.len);
  json_uint (j, "out_samples", t->out_lat.len);
  json_uint (j, "responses", t->responses);
  json_uint (j, "interruptions", t->interruptions);
  json_ms (j, "played_ms", t->interruptions ? ns_to_ms (t->played) : NAN);
  json_ms (j, "received_ms", t->interruptions ? ns_to_ms (t->received) : NAN);
  json_uint (j, "user_transcript_chars", t->user_chars);
  json_uint (j, "assistant_transcript_chars", t->assistant_chars);
  json_key (j, "tool_calls");
  g_string_append_c (j, '[');
  for (i = 0; i < t->tools->len; i++) {
    ToolCall *c = g_ptr_array_index (t->tools, i);
    gdouble r = diff_ms (c->call_rt, c->result_rt);
    gdouble a = diff_ms (c->result_rt, c->audio_rt);

    if (i > 0)
      g_string_append_c (j, ',');
    g_string_append_c (j, '{');
    json_str (j, "call_id", c->call_id);
    json_str (j, "name", c->name);
    json_ms (j, "result_ms", r);
    json_ms (j, "audio_ms", a);
    g_string_append_c (j, '}');
  }
  g_string_append_c (j, ']');
  json_tokens (j, t->tokens);
  json_uint (j, "reconnects", t->reconnects);
  json_uint (j, "rotations", t->rotations);
  json_uint (j, "fallbacks", t->fallbacks);
  json_key (j, "events");
  g_string_append_printf (j, "[%s]}", t->events->str);

  gst_tracer_record_log (tr_turn, GST_OBJECT_NAME (s->element),
      s->session_id ? s->session_id : "", s->provider ? s->provider : "",
      t->index, v[M_TTFA_RECEIVED], v[M_TTFA_PUSHED], v[M_TTFA_RENDERED],
      v[M_PROVIDER_TTFA], v[M_IN_MEDIAN], v[M_IN_MAX], v[M_OUT_MEDIAN],
      v[M_OUT_MAX], t->interruptions, (guint) t->tools->len,
      t->reconnects + t->rotations + t->fallbacks, j->str);
  write_line (self, j);
  g_string_free (j, TRUE);
  turn_free (t);
}

/* lock held: a new turn begins with @trigger */
static Turn *
turn_begin (GstS2STracer * self, Session * s, const gchar * trigger)
{
  Turn *t;

  if (s->cur && s->cur->trigger)
    turn_close (self, s);
  t = turn_ensure (s);
  t->trigger = trigger;
  t->index = ++s->turn_count;
  return t;
}

/* lock held */
static void
session_close (GstS2STracer * self, Session * s)
{
  GString *j;
  gdouble p[N_METRICS][3];
  guint i;

  turn_close (self, s);
  if (s->cur) {
    /* counters of a turn that never began still count */
    s->reconnects += s->cur->reconnects;
    s->rotations += s->cur->rotations;
    s->fallbacks += s->cur->fallbacks;
    for (i = 0; i < 5; i++)
      s->tokens[i] += s->cur->tokens[i];
    turn_free (s->cur);
    s->cur = NULL;
  }
  if (!lines_wanted (self))
    return;

  j = g_string_sized_new (2048);
  g_string_append_c (j, '{');
  json_str (j, "type", "session");
  json_str (j, "element", GST_OBJECT_NAME (s->element));
  json_str (j, "provider", s->provider);
  json_str (j, "session_id", s->session_id);
  json_uint (j, "turns", s->turns);
  json_uint (j, "interruptions", s->interruptions);
  json_uint (j, "tool_calls", s->tool_calls);
  json_uint (j, "reconnects", s->reconnects);
  json_uint (j, "rotations", s->rotations);
  json_uint (j, "fallbacks", s->fallbacks);
  json_tokens (j, s->tokens);
  json_key (j, "latency");
  g_string_append_c (j, '{');
  for (i = 0; i < N_METRICS; i++) {
    GArray *v = s->metrics[i];

    g_array_sort (v, cmp_double);
    p[i][0] = percentile (v, 50);
    p[i][1] = percentile (v, 90);
    p[i][2] = percentile (v, 99);
    json_key (j, metric_names[i]);
    g_string_append_c (j, '{');
    json_uint (j, "n", v->len);
    json_ms (j, "p50", p[i][0]);
    json_ms (j, "p90", p[i][1]);
    json_ms (j, "p99", p[i][2]);
    json_ms (j, "max", v->len ? g_array_index (v, gdouble, v->len - 1) : NAN);
    g_string_append_c (j, '}');
  }
  g_string_append (j, "}}");

  gst_tracer_record_log (tr_session, GST_OBJECT_NAME (s->element),
      s->session_id ? s->session_id : "", s->provider ? s->provider : "",
      s->turns, p[M_TTFA_PUSHED][0], p[M_TTFA_PUSHED][1], p[M_TTFA_PUSHED][2],
      p[M_PROVIDER_TTFA][0], p[M_PROVIDER_TTFA][1], p[M_PROVIDER_TTFA][2],
      s->interruptions, s->tool_calls, s->reconnects, s->rotations,
      s->fallbacks, j->str);
  write_line (self, j);
  g_string_free (j, TRUE);
}

static gboolean
name_passes (GstS2STracer * self, GstElement * element)
{
  gchar *name;
  gboolean pass = FALSE;
  guint i;

  if (self->filters == NULL)
    return TRUE;
  name = gst_object_get_name (GST_OBJECT (element));
  for (i = 0; self->filters[i] && !pass; i++)
    pass = g_pattern_spec_match_string (self->filters[i], name);
  g_free (name);
  return pass;
}

/* lock held: the element handed everything up to @offset to the transport
 * at @rt */
static void
input_handed_off (Session * s, guint64 offset, GstClockTime rt)
{
  while (s->ring_len > 0) {
    InEntry *e = &s->ring[s->ring_head];

    if (e->end > offset)
      break;
    if (GST_CLOCK_TIME_IS_VALID (e->rt) && rt >= e->rt) {
      guint64 d = rt - e->rt;
      samples_add (&s->in_acc, d);
    }
    s->ring_head = (s->ring_head + 1) % s->ring_size;
    s->ring_len--;
  }
  /* empty: the next entries go to the start again (the lines in cache,
   * not a walk through the whole ring) */
  if (s->ring_len == 0)
    s->ring_head = 0;
}

/* lock held: an input buffer entered the element at @entry; its bytes
 * end at @end of the element's input */
static void
input_entered (Session * s, guint64 end, GstClockTime entry)
{
  InEntry *e;

  if (G_UNLIKELY (s->ring_len == s->ring_size)) {
    if (s->ring_size < IN_RING_SIZE) {
      /* grown, the waiting inputs in order from the start */
      guint size = s->ring_size ? s->ring_size * 2 : IN_RING_MIN, i;
      InEntry *ring = g_new (InEntry, size);

      for (i = 0; i < s->ring_len; i++)
        ring[i] = s->ring[(s->ring_head + i) % s->ring_size];
      g_free (s->ring);
      s->ring = ring;
      s->ring_size = size;
      s->ring_head = 0;
    } else {
      /* no hand-off for a long time (no session): forget the oldest */
      s->ring_head = (s->ring_head + 1) % s->ring_size;
      s->ring_len--;
    }
  }
  e = &s->ring[(s->ring_head + s->ring_len) % s->ring_size];
  e->end = end;
  e->rt = entry;
  s->ring_len++;
}

/* ------------------------------------------------------------------------ */
/* Output: the element's pushes and the sink that renders them */

/* lock held: the first audio of the turn went out at @rt */
static void
first_pushed (Session * s, GstClockTime rt)
{
  if (s->cur && !GST_CLOCK_TIME_IS_VALID (s->cur->first_push_rt))
    s->cur->first_push_rt = rt;
  s->render_pending = s->first_pts_pending;
  s->first_pts_pending = GST_CLOCK_TIME_NONE;
  /* the sinks that will render it: links may have changed since */
  s->rewalk = TRUE;
}

/* lock held: one push the element recorded */
static void
output_pushed (Session * s, const guint64 * r)
{
  GstClockTime pts = r[0], dur = r[1], arrival = r[2], rt = r[3], end;

  if (s->cur && GST_CLOCK_TIME_IS_VALID (arrival) &&
      GST_CLOCK_TIME_IS_VALID (rt) && rt >= arrival)
    samples_add (&s->cur->out_lat, rt - arrival);
  if (!GST_CLOCK_TIME_IS_VALID (s->first_pts_pending) ||
      !GST_CLOCK_TIME_IS_VALID (pts))
    return;
  end = GST_CLOCK_TIME_IS_VALID (dur) ? pts + dur : pts;
  if (end > s->first_pts_pending)
    first_pushed (s, rt);
}

/* The sink pads downstream of @pad (a source pad), following peers, ghost
 * pads (into bins and out of them) and the source pads of elements in
 * between; reffed into @out */
static void
collect_sinks (GstPad * pad, GPtrArray * out, guint depth)
{
  GstPad *peer;
  GstObject *parent;

  if (depth > WALK_DEPTH)
    return;
  peer = gst_pad_get_peer (pad);
  while (peer && GST_IS_GHOST_PAD (peer)) {
    /* a bin's ghost sink pad: the element inside */
    GstPad *target = gst_ghost_pad_get_target (GST_GHOST_PAD (peer));
    gst_object_unref (peer);
    peer = target;
  }
  if (peer == NULL)
    return;
  parent = gst_object_get_parent (GST_OBJECT (peer));
  if (parent && GST_IS_PAD (parent)) {
    /* the inside of a ghost source pad: continue outside the bin */
    collect_sinks (GST_PAD (parent), out, depth + 1);
  } else if (parent && GST_IS_ELEMENT (parent)) {
    if (GST_OBJECT_FLAG_IS_SET (parent, GST_ELEMENT_FLAG_SINK) &&
        !GST_IS_BIN (parent)) {
      g_ptr_array_add (out, gst_object_ref (peer));
    } else {
      GList *pads, *l;

      GST_OBJECT_LOCK (parent);
      pads = g_list_copy (GST_ELEMENT (parent)->srcpads);
      g_list_foreach (pads, (GFunc) (void (*)(void)) gst_object_ref, NULL);
      GST_OBJECT_UNLOCK (parent);
      for (l = pads; l; l = l->next)
        collect_sinks (l->data, out, depth + 1);
      g_list_free_full (pads, gst_object_unref);
    }
  }
  if (parent)
    gst_object_unref (parent);
  gst_object_unref (peer);
}

/* A buffer reaches a sink downstream of @s: the first model audio is
 * rendered when the sink presents it, at its running time plus the
 * pipeline latency on a synchronised sink, at once otherwise, and never
 * before it arrived */
static void
output_render (Session * s, GstPad * pad, GstElement * sink, GstBuffer * buf)
{
  GstClockTime target, pts = GST_BUFFER_PTS (buf), rt, end, now, render;
  GstEvent *ev;
  const GstSegment *seg;

  /* most buffers: nothing pending (a 64-bit read is atomic here, and a
   * stale value is checked again under the lock) */
  if (!GST_CLOCK_TIME_IS_VALID (s->render_pending) ||
      !GST_CLOCK_TIME_IS_VALID (pts))
    return;
  g_mutex_lock (&s->lock);
  target = s->render_pending;
  g_mutex_unlock (&s->lock);
  if (!GST_CLOCK_TIME_IS_VALID (target))
    return;

  ev = gst_pad_get_sticky_event (pad, GST_EVENT_SEGMENT, 0);
  if (ev == NULL)
    return;
  gst_event_parse_segment (ev, &seg);
  rt = gst_segment_to_running_time (seg, GST_FORMAT_TIME, pts);
  end = GST_BUFFER_DURATION_IS_VALID (buf) ?
      gst_segment_to_running_time (seg, GST_FORMAT_TIME,
      pts + GST_BUFFER_DURATION (buf)) : rt;
  gst_event_unref (ev);
  if (!GST_CLOCK_TIME_IS_VALID (rt) || (end <= target && end != rt) ||
      (end == rt && rt < target))
    return;

  now = element_rt (sink);
  render = now;
  if (GST_IS_BASE_SINK (sink) && gst_base_sink_get_sync (GST_BASE_SINK (sink))) {
    GstClockTime sample = MAX (rt, target);
    GstClockTimeDiff offset = gst_base_sink_get_ts_offset (GST_BASE_SINK
        (sink));
    GstClockTime latency = gst_base_sink_get_latency (GST_BASE_SINK (sink));
    gint64 due = (gint64) sample + (gint64) latency + offset;

    if (GST_CLOCK_TIME_IS_VALID (now) && due < (gint64) now)
      due = now;
    render = due > 0 ? (GstClockTime) due : 0;
  }

  g_mutex_lock (&s->lock);
  if (s->render_pending == target) {
    s->render_pending = GST_CLOCK_TIME_NONE;
    s->unprobe = TRUE;
    if (s->cur && !GST_CLOCK_TIME_IS_VALID (s->cur->render_rt))
      s->cur->render_rt = render;
  }
  g_mutex_unlock (&s->lock);
}

/* ------------------------------------------------------------------------ */
/* Messages */

/* Quarks of the names and fields read for every message: no string
 * hashing per message */
static GQuark q_transport, q_speech, q_response, q_transcript, q_fallback;
static GQuark q_running_time, q_event, q_final, q_inputs, q_handoffs;
static GQuark q_pushes, q_voice_end, q_first_audio_pts;
static GQuark q_tool_call, q_tool_result, q_usage, q_session, q_text, q_role;
static GQuark q_state, q_session_id, q_provider, q_call_id, q_name;
static GQuark q_tokens[5];

static void
init_quarks (void)
{
  struct
  {
    GQuark *q;
    const gchar *name;
  } const all[] = {
    {&q_transport, "s2s-transport"}, {&q_speech, "s2s-speech"},
    {&q_response, "s2s-response"}, {&q_transcript, "s2s-transcript"},
    {&q_fallback, "s2s-fallback"}, {&q_running_time, "running-time"},
    {&q_event, "event"}, {&q_final, "final"}, {&q_inputs, "inputs"},
    {&q_handoffs, "handoffs"}, {&q_pushes, "pushes"},
    {&q_voice_end, "voice-end"}, {&q_first_audio_pts, "first-audio-pts"},
    {&q_tool_call, "s2s-tool-call"}, {&q_tool_result, "s2s-tool-result"},
    {&q_usage, "s2s-usage"}, {&q_session, "s2s-session"}, {&q_text, "text"},
    {&q_role, "role"}, {&q_state, "state"}, {&q_session_id, "session-id"},
    {&q_provider, "provider"}, {&q_call_id, "call-id"}, {&q_name, "name"},
  };
  guint i;

  for (i = 0; i < G_N_ELEMENTS (all); i++)
    *all[i].q = g_quark_from_static_string (all[i].name);
  for (i = 0; i < G_N_ELEMENTS (q_tokens); i++)
    q_tokens[i] = g_quark_from_static_string (token_fields[i]);
}

static gboolean
id_get_uint64 (const GstStructure * st, GQuark field, guint64 * v)
{
  const GValue *value = gst_structure_id_get_value (st, field);

  if (value == NULL || !G_VALUE_HOLDS_UINT64 (value))
    return FALSE;
  *v = g_value_get_uint64 (value);
  return TRUE;
}

static const gchar *
id_get_string (const GstStructure * st, GQuark field)
{
  const GValue *value = gst_structure_id_get_value (st, field);

  return value && G_VALUE_HOLDS_STRING (value) ?
      g_value_get_string (value) : NULL;
}

static GstClockTime
msg_rt (const GstStructure * st)
{
  guint64 rt = GST_CLOCK_TIME_NONE;

  id_get_uint64 (st, q_running_time, &rt);
  return rt;
}

/* lock held */
static void
add_event (Turn * t, const gchar * type, GstClockTime rt,
    const GstStructure * st, const gchar * const *fields)
{
  GString *e = t->events;
  gsize start = e->len;
  GString *tmp = g_string_new ("{");

  json_str (tmp, "type", type);
  json_ms (tmp, "rt_ms", GST_CLOCK_TIME_IS_VALID (rt) ? ns_to_ms (rt) : NAN);
  for (; *fields; fields++)
    json_str (tmp, *fields, gst_structure_get_string (st, *fields));
  g_string_append_c (tmp, '}');
  if (start > 0)
    g_string_append_c (e, ',');
  g_string_append (e, tmp->str);
  g_string_free (tmp, TRUE);
}

static ToolCall *
find_tool (Turn * t, const gchar * call_id)
{
  guint i;

  for (i = 0; t && i < t->tools->len; i++) {
    ToolCall *c = g_ptr_array_index (t->tools, i);
    if (g_strcmp0 (c->call_id, call_id) == 0)
      return c;
  }
  return NULL;
}

/* A tool call of @t still waits for the audio that follows its result:
 * the next response is its follow-up, even when the app's result message
 * comes after the response started */
static gboolean
tool_open (Turn * t)
{
  guint i;

  for (i = 0; i < t->tools->len; i++) {
    ToolCall *c = g_ptr_array_index (t->tools, i);
    if (!GST_CLOCK_TIME_IS_VALID (c->audio_rt))
      return TRUE;
  }
  return FALSE;
}

/* lock held */
static void
handle_response (GstS2STracer * self, Session * s, const GstStructure * st,
    GstClockTime rt)
{
  const gchar *event = id_get_string (st, q_event);
  Turn *t;

  if (g_strcmp0 (event, "started") == 0) {
    t = s->cur;
    if (t == NULL || t->trigger == NULL ||
        (t->responses > 0 && !t->awaiting_followup && !tool_open (t)))
      t = turn_begin (self, s, "response");
    t->awaiting_followup = FALSE;
    t->responses++;
    t->response_rt = rt;
    if (!GST_CLOCK_TIME_IS_VALID (t->first_response_rt))
      t->first_response_rt = rt;
  } else if (g_strcmp0 (event, "first-audio") == 0) {
    guint64 recv = rt, pts = GST_CLOCK_TIME_NONE;
    guint i;

    t = turn_ensure (s);
    gst_structure_get_uint64 (st, "received-time", &recv);
    gst_structure_get_uint64 (st, "pts", &pts);
    for (i = 0; i < t->tools->len; i++) {
      ToolCall *c = g_ptr_array_index (t->tools, i);
      if (GST_CLOCK_TIME_IS_VALID (c->result_rt) &&
          !GST_CLOCK_TIME_IS_VALID (c->audio_rt))
        c->audio_rt = recv;
    }
    if (GST_CLOCK_TIME_IS_VALID (t->first_recv_rt))
      return;
    t->first_recv_rt = recv;
    if (GST_CLOCK_TIME_IS_VALID (t->response_rt) && recv >= t->response_rt)
      t->provider_ttfa = recv - t->response_rt;
    /* its push: s2s-transport first-audio-pts, from the src task */
  } else if (g_strcmp0 (event, "interrupted") == 0) {
    guint64 played = 0, received = 0;

    t = turn_ensure (s);
    gst_structure_get_uint64 (st, "played-duration", &played);
    gst_structure_get_uint64 (st, "audio-duration", &received);
    t->interruptions++;
    t->played += played;
    t->received += received;
    s->first_pts_pending = s->render_pending = GST_CLOCK_TIME_NONE;
    s->unprobe = TRUE;
  }
}

/* The records of field @name: @fields guint64 each; their count */
static guint
records (const GstStructure * st, GQuark name, guint fields,
    const guint64 ** out)
{
  const GValue *v = gst_structure_id_get_value (st, name);
  GBytes *bytes = v && G_VALUE_HOLDS (v, G_TYPE_BYTES) ?
      g_value_get_boxed (v) : NULL;
  gsize size = 0;

  *out = bytes ? g_bytes_get_data (bytes, &size) : NULL;
  return *out ? size / (fields * sizeof (guint64)) : 0;
}

/* lock held: the element's records (docs/observability.md). Inputs come
 * before the hand-offs that cover them, so inputs first */
static void
handle_transport (Session * s, const GstStructure * st)
{
  const guint64 *r;
  guint64 v;
  guint i, n;

  n = records (st, q_inputs, IN_FIELDS, &r);
  for (i = 0; i < n; i++, r += IN_FIELDS) {
    if (s->ring_len == 0 && GST_CLOCK_TIME_IS_VALID (r[2])) {
      /* handed off as it came (the element's direct path, the usual
       * case), nothing queued before it: its own latency, no queue */
      if (GST_CLOCK_TIME_IS_VALID (r[1]) && r[2] >= r[1])
        samples_add (&s->in_acc, r[2] - r[1]);
      continue;
    }
    input_entered (s, r[0], r[1]);
    if (GST_CLOCK_TIME_IS_VALID (r[2]))
      input_handed_off (s, r[0], r[2]);
  }
  n = records (st, q_handoffs, HANDOFF_FIELDS, &r);
  for (i = 0; i < n; i++, r += HANDOFF_FIELDS)
    if (GST_CLOCK_TIME_IS_VALID (r[1]))
      input_handed_off (s, r[0], r[1]);
  if (id_get_uint64 (st, q_voice_end, &v))
    s->voice_end = v;
  /* the first audio of a response is about to be pushed (in this
   * thread, after this message): pending until its push is seen */
  if (id_get_uint64 (st, q_first_audio_pts, &v)) {
    s->first_pts_pending = v;
    s->render_pending = GST_CLOCK_TIME_NONE;
    s->unprobe = TRUE;
  }
  n = records (st, q_pushes, PUSH_FIELDS, &r);
  for (i = 0; i < n; i++, r += PUSH_FIELDS)
    output_pushed (s, r);
}

static void
handle_s2s_message (GstS2STracer * self, Session * s, const GstStructure * st)
{
  GQuark nid = gst_structure_get_name_id (st);
  GstClockTime rt = msg_rt (st);
  Turn *t;

  g_mutex_lock (&s->lock);
  if (nid == q_transport) {
    handle_transport (s, st);
  } else if (nid == q_speech) {
    const gchar *event = id_get_string (st, q_event);

    if (g_strcmp0 (event, "stopped") == 0) {
      t = turn_begin (self, s, "speech");
      t->vad_stop_rt = rt;
      /* the element posted its records (and voice-end) just before */
      t->voice_end_rt = s->voice_end;
      /* the input since the last turn boundary is this turn's */
      samples_append (&t->in_lat, &s->in_acc);
      s->in_acc.len = 0;
    }
  } else if (nid == q_response) {
    handle_response (self, s, st, rt);
  } else if (nid == q_transcript) {
    const GValue *f = gst_structure_id_get_value (st, q_final);
    gboolean final = f && G_VALUE_HOLDS_BOOLEAN (f) && g_value_get_boolean (f);
    /* deltas (most messages) stop here */
    const gchar *text = final ? id_get_string (st, q_text) : NULL;
    const gchar *role = final ? id_get_string (st, q_role) : NULL;

    if (final && text) {
      t = turn_ensure (s);
      if (g_strcmp0 (role, "user") == 0)
        t->user_chars += g_utf8_strlen (text, -1);
      else
        t->assistant_chars += g_utf8_strlen (text, -1);
    }
  } else if (nid == q_tool_call) {
    ToolCall *c = g_new0 (ToolCall, 1);

    t = turn_ensure (s);
    c->call_id = g_strdup (id_get_string (st, q_call_id));
    c->name = g_strdup (id_get_string (st, q_name));
    c->call_rt = rt;
    c->result_rt = c->audio_rt = GST_CLOCK_TIME_NONE;
    g_ptr_array_add (t->tools, c);
  } else if (nid == q_tool_result) {
    ToolCall *c = find_tool (s->cur, id_get_string (st, q_call_id));

    if (c && !GST_CLOCK_TIME_IS_VALID (c->result_rt)) {
      c->result_rt = rt;
      s->cur->awaiting_followup = TRUE;
    }
  } else if (nid == q_usage) {
    guint i;

    t = turn_ensure (s);
    for (i = 0; i < 5; i++) {
      const GValue *n = gst_structure_id_get_value (st, q_tokens[i]);

      if (n && G_VALUE_HOLDS_INT64 (n))
        t->tokens[i] += g_value_get_int64 (n);
    }
  } else if (nid == q_session) {
    const gchar *state = id_get_string (st, q_state);
    const gchar *id = id_get_string (st, q_session_id);
    const gchar *provider = id_get_string (st, q_provider);
    static const gchar *const fields[] = { "reason", "session-id", NULL };

    if (provider && g_strcmp0 (provider, s->provider) != 0) {
      g_free (s->provider);
      s->provider = g_strdup (provider);
    }
    if (id && g_strcmp0 (id, s->session_id) != 0) {
      g_free (s->session_id);
      s->session_id = g_strdup (id);
    }
    if (g_strcmp0 (state, "reconnecting") == 0) {
      t = turn_ensure (s);
      t->reconnects++;
      add_event (t, "reconnecting", rt, st, fields);
    } else if (g_strcmp0 (state, "rotating") == 0) {
      t = turn_ensure (s);
      t->rotations++;
      add_event (t, "rotating", rt, st, fields);
    }
  }
  g_mutex_unlock (&s->lock);
}

/* s2s-fallback comes from the bin: it counts for the child switched to
 * (else the one switched from, else the first s2s element inside). The
 * child, reffed, or NULL */
static GstElement *
fallback_child (GstElement * bin, const GstStructure * st)
{
  const gchar *names[2] = { gst_structure_get_string (st, "to"),
    gst_structure_get_string (st, "from")
  };
  GstElement *child = NULL;
  guint i;

  if (!GST_IS_BIN (bin))
    return NULL;
  for (i = 0; i < 2 && child == NULL; i++) {
    if (names[i])
      child = gst_bin_get_by_name (GST_BIN (bin), names[i]);
    if (child && !is_s2s (child))
      gst_clear_object (&child);
  }
  if (child == NULL) {
    GstIterator *it = gst_bin_iterate_recurse (GST_BIN (bin));
    GValue v = G_VALUE_INIT;

    while (child == NULL && gst_iterator_next (it, &v) == GST_ITERATOR_OK) {
      if (is_s2s (g_value_get_object (&v)))
        child = gst_object_ref (g_value_get_object (&v));
      g_value_reset (&v);
    }
    g_value_unset (&v);
    gst_iterator_free (it);
  }
  return child;
}

static void
handle_fallback (Session * s, const GstStructure * st)
{
  static const gchar *const fields[] = { "from", "to", "reason", "code",
    NULL
  };
  Turn *t;

  g_mutex_lock (&s->lock);
  t = turn_ensure (s);
  t->fallbacks++;
  add_event (t, "fallback", msg_rt (st), st, fields);
  g_mutex_unlock (&s->lock);
}

/* ------------------------------------------------------------------------ */
/* Probes, bus and the attach contract (no tracing hook) */

static gboolean
session_traced (Session * s)
{
  return s->active && !s->excluded;
}

/* Removes the render probe of @pad from the session's list: TRUE when it
 * was there (then nobody else removes it) */
static gboolean
forget_render_probe (Session * s, GstPad * pad)
{
  gboolean found = FALSE;
  guint i;

  g_mutex_lock (&s->probe_lock);
  for (i = 0; i < s->probes->len && !found; i++) {
    Probe *p = &g_array_index (s->probes, Probe, i);

    if (p->render && p->pad == pad) {
      gst_object_unref (p->pad);
      g_array_remove_index_fast (s->probes, i);
      found = TRUE;
    }
  }
  g_mutex_unlock (&s->probe_lock);
  return found;
}

/* A sink downstream of the element: the render time of the first audio.
 * Once none is pending, the probe removes itself: most buffers reach the
 * sinks without any probe */
static GstPadProbeReturn
probe_render (GstPad * pad, GstPadProbeInfo * info, gpointer data)
{
  Session *s = data;
  GstObject *parent = GST_OBJECT_PARENT (pad);

  if (session_traced (s) && parent)
    output_render (s, pad, GST_ELEMENT (parent),
        GST_PAD_PROBE_INFO_BUFFER (info));
  if (!GST_CLOCK_TIME_IS_VALID (s->render_pending) &&
      forget_render_probe (s, pad))
    return GST_PAD_PROBE_REMOVE;
  return GST_PAD_PROBE_OK;
}

static void
add_probe (Session * s, GstPad * pad, GstPadProbeType type,
    GstPadProbeCallback cb, gboolean render)
{
  Probe p;

  p.id = gst_pad_add_probe (pad, type, cb, s, NULL);
  if (p.id == 0)
    return;
  p.pad = gst_object_ref (pad);
  p.render = render;
  g_array_append_val (s->probes, p);
}

/* Probes the sinks downstream of the element not probed yet: at a turn's
 * first push, for its render time */
static void
probe_sinks (Session * s)
{
  GPtrArray *sinks = g_ptr_array_new_with_free_func (gst_object_unref);
  GstPad *src = gst_element_get_static_pad (s->element, "src");
  guint i, j;

  s->rewalk = FALSE;
  if (src) {
    collect_sinks (src, sinks, 0);
    gst_object_unref (src);
  }
  g_mutex_lock (&s->probe_lock);
  for (i = 0; s->active && i < sinks->len; i++) {
    gboolean known = FALSE;

    for (j = 0; j < s->probes->len && !known; j++)
      known = g_array_index (s->probes, Probe, j).pad == sinks->pdata[i];
    if (!known) {
      GST_DEBUG_OBJECT (s->tracer, "%s renders at %" GST_PTR_FORMAT,
          GST_OBJECT_NAME (s->element), sinks->pdata[i]);
      add_probe (s, sinks->pdata[i], GST_PAD_PROBE_TYPE_BUFFER, probe_render,
          TRUE);
    }
  }
  g_mutex_unlock (&s->probe_lock);
  g_ptr_array_unref (sinks);
}

/* Once no render is pending, the sinks' probes go: most buffers then
 * reach the sinks without any probe */
static void
unprobe_sinks (Session * s)
{
  gboolean pending;
  guint i = 0;

  g_mutex_lock (&s->probe_lock);
  g_mutex_lock (&s->lock);
  s->unprobe = FALSE;
  pending = GST_CLOCK_TIME_IS_VALID (s->render_pending);
  g_mutex_unlock (&s->lock);
  while (!pending && i < s->probes->len) {
    Probe *p = &g_array_index (s->probes, Probe, i);

    if (p->render) {
      gst_pad_remove_probe (p->pad, p->id);
      gst_object_unref (p->pad);
      g_array_remove_index_fast (s->probes, i);
    } else {
      i++;
    }
  }
  g_mutex_unlock (&s->probe_lock);
}

/* After a message: the sinks' probes as the message left them */
static void
session_reprobe (Session * s)
{
  if (G_UNLIKELY (s->rewalk))
    probe_sinks (s);
  if (G_UNLIKELY (s->unprobe))
    unprobe_sinks (s);
}

/* GstS2STraceSink.message: an element message posted on a traced element,
 * in the posting thread, before it goes up to the bus */
static void
on_element_message (gpointer session, GstMessage * msg)
{
  Session *s = session;
  const GstStructure *st = gst_message_get_structure (msg);

  if (st == NULL || !session_traced (s))
    return;
  handle_s2s_message (s->tracer, s, st);
  session_reprobe (s);
}

/* Element messages of the pipeline's bus, in the posting thread:
 * s2s-fallback from a bin around a traced element (the element's own
 * messages come through its sink, on_element_message) */
static void
on_sync_message (GstBus * bus, GstMessage * msg, gpointer data)
{
  GstS2STracer *self = data;
  const GstStructure *st = gst_message_get_structure (msg);
  GstObject *src = GST_MESSAGE_SRC (msg);
  GstElement *child;
  Session *s;

  if (st == NULL || src == NULL || !GST_IS_ELEMENT (src) ||
      gst_structure_get_name_id (st) != q_fallback)
    return;
  child = fallback_child (GST_ELEMENT (src), st);
  if (child == NULL)
    return;
  s = g_object_get_qdata (G_OBJECT (child), self->session_quark);
  gst_object_unref (child);
  if (s == NULL || !session_traced (s))
    return;
  handle_fallback (s, st);
  session_reprobe (s);
}

/* The bus the element's messages end on (its top-level parent's), when a
 * bin other than the top-level one is around the element: only such a bin
 * posts s2s-fallback. NULL otherwise: nothing to watch */
static GstBus *
fallback_bus (GstElement * element)
{
  GstObject *top = gst_object_ref (GST_OBJECT (element)), *parent;
  GstBus *bus = NULL;
  guint depth = 0;

  while ((parent = gst_object_get_parent (top))) {
    gst_object_unref (top);
    top = parent;
    depth++;
  }
  if (depth > 1 && GST_IS_ELEMENT (top))
    bus = gst_element_get_bus (GST_ELEMENT (top));
  gst_object_unref (top);
  return bus;
}

/* Removes the session's probes and bus handler */
static void
session_unwatch (Session * s)
{
  g_mutex_lock (&s->probe_lock);
  drop_watches (s);
  g_mutex_unlock (&s->probe_lock);
}

/* "attach": the element's session starts (it calls this from READY to
 * PAUSED, before its session opens). Returns where the element hands its
 * messages (gsts2stracesink.h), NULL when the tracer does not measure it */
static gpointer
do_attach (GstS2STracer * self, GstElement * element)
{
  static gsize declared = 0;
  Session *s;

  if (G_UNLIKELY (s2s_type == 0))
    s2s_type = g_type_from_name (S2S_BASE_TYPE_NAME);
  if (!is_s2s (element))
    return NULL;
  if (g_once_init_enter (&declared)) {
    GST_INFO_OBJECT (self, "first s2s element");
    declare_records ();
    g_once_init_leave (&declared, 1);
  }
  s = session_get (self, element);
  /* attached again without a detach (a failed start): start afresh */
  session_unwatch (s);
  g_mutex_lock (&s->lock);
  s->excluded = !name_passes (self, element);
  s->active = TRUE;
  session_reset_summary (s);
  session_reset_stream (s);
  g_mutex_unlock (&s->lock);
  if (s->excluded)
    return NULL;

  /* nothing on the element's pads: its records come in s2s-transport */
  g_mutex_lock (&s->probe_lock);
  s->bus = fallback_bus (element);
  if (s->bus)
    bus_watch_add (self, s->bus);
  s->unprobe = FALSE;
  g_mutex_unlock (&s->probe_lock);
  return &s->sink;
}

/* "detach": the element's session stopped, after its last message */
static void
do_detach (GstS2STracer * self, GstElement * element)
{
  Session *s;

  if (!is_s2s (element))
    return;
  s = session_get (self, element);
  g_mutex_lock (&s->lock);
  if (s->active && !s->excluded)
    session_close (self, s);
  s->active = FALSE;
  g_mutex_unlock (&s->lock);
  session_unwatch (s);
}

/* ------------------------------------------------------------------------ */
/* GObject */

static void
gst_s2s_tracer_constructed (GObject * object)
{
  GstS2STracer *self = GST_S2S_TRACER (object);
  gchar *params = NULL, *tmp;
  GstStructure *st = NULL;
  GPtrArray *all;

  G_OBJECT_CLASS (gst_s2s_tracer_parent_class)->constructed (object);

  g_object_get (self, "params", &params, NULL);
  if (params) {
    tmp = g_strdup_printf ("s2s,%s", params);
    st = gst_structure_from_string (tmp, NULL);
    g_free (tmp);
    if (st == NULL)
      GST_WARNING_OBJECT (self, "cannot parse parameters '%s'", params);
  }
  if (st) {
    const gchar *file = gst_structure_get_string (st, "file");
    const gchar *filter = gst_structure_get_string (st, "filter");
    gdouble db;
    gint idb;

    if (file) {
      self->file = g_strdup (file);
      self->out = fopen (file, "a");
      if (self->out == NULL)
        GST_ERROR_OBJECT (self, "cannot open %s for writing", file);
    }
    if (filter) {
      gchar **parts = g_strsplit (filter, "|", -1);
      guint i, n = g_strv_length (parts);

      self->filters = g_new0 (GPatternSpec *, n + 1);
      for (i = 0; i < n; i++)
        self->filters[i] = g_pattern_spec_new (parts[i]);
      g_strfreev (parts);
    }
    gst_structure_get_boolean (st, "bus-records", &self->bus_records);
    if (gst_structure_get_double (st, "voice-db", &db))
      self->voice_db = db;
    else if (gst_structure_get_int (st, "voice-db", &idb))
      self->voice_db = idb;
    gst_structure_free (st);
  }
  g_free (params);
  self->voice_mean_square = 32768.0 * 32768.0 * pow (10.0,
      self->voice_db / 10.0);

  /* No tracing hook keeps it: the list does, until the process ends, and
   * the elements find it there */
  g_mutex_lock (&registry_lock);
  all = g_type_get_qdata (GST_TYPE_S2S_TRACER,
      g_quark_from_static_string (TRACERS_QDATA));
  if (all == NULL) {
    all = g_ptr_array_new ();
    g_type_set_qdata (GST_TYPE_S2S_TRACER,
        g_quark_from_static_string (TRACERS_QDATA), all);
  }
  GST_OBJECT_FLAG_SET (self, GST_OBJECT_FLAG_MAY_BE_LEAKED);
  g_ptr_array_add (all, gst_object_ref (self));
  g_mutex_unlock (&registry_lock);
}

static void
gst_s2s_tracer_finalize (GObject * object)
{
  GstS2STracer *self = GST_S2S_TRACER (object);
  guint i;

  if (self->out)
    fclose (self->out);
  for (i = 0; self->filters && self->filters[i]; i++)
    g_pattern_spec_free (self->filters[i]);
  g_free (self->filters);
  g_free (self->file);
  g_mutex_clear (&self->out_lock);
  G_OBJECT_CLASS (gst_s2s_tracer_parent_class)->finalize (object);
}

enum
{
  PROP_0,
  PROP_VOICE_THRESHOLD,
  PROP_BUS_RECORDS,
};

static void
gst_s2s_tracer_get_property (GObject * object, guint prop_id, GValue * value,
    GParamSpec * pspec)
{
  GstS2STracer *self = GST_S2S_TRACER (object);

  switch (prop_id) {
    case PROP_VOICE_THRESHOLD:
      g_value_set_double (value, self->voice_mean_square);
      break;
    case PROP_BUS_RECORDS:
      g_value_set_boolean (value, self->bus_records);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
}

static GstStructure *
rec_value (GType type, const gchar * description)
{
  return gst_structure_new ("value", "type", G_TYPE_GTYPE, type,
      "description", G_TYPE_STRING, description, NULL);
}

static GstStructure *
rec_scope (void)
{
  return gst_structure_new ("scope", "type", G_TYPE_GTYPE, G_TYPE_STRING,
      "related-to", GST_TYPE_TRACER_VALUE_SCOPE, GST_TRACER_VALUE_SCOPE_ELEMENT,
      NULL);
}

#define MS(d) rec_value (G_TYPE_DOUBLE, d " (ms, NaN: not measured)")

/* Declared with the first s2s element: a process without one logs
 * nothing at all */
static void
declare_records (void)
{
  tr_turn = gst_tracer_record_new ("s2s-turn.class",
      "element", GST_TYPE_STRUCTURE, rec_scope (),
      "session-id", GST_TYPE_STRUCTURE, rec_value (G_TYPE_STRING,
          "provider session id"),
      "provider", GST_TYPE_STRUCTURE, rec_value (G_TYPE_STRING, "provider"),
      "turn", GST_TYPE_STRUCTURE, rec_value (G_TYPE_UINT, "turn number"),
      "ttfa-received", GST_TYPE_STRUCTURE,
      MS ("speech stopped to first model audio received"),
      "ttfa-pushed", GST_TYPE_STRUCTURE,
      MS ("speech stopped to first model audio pushed"),
      "ttfa-rendered", GST_TYPE_STRUCTURE,
      MS ("speech stopped to first model audio rendered"),
      "provider-ttfa", GST_TYPE_STRUCTURE,
      MS ("response started to first model audio received"),
      "in-median", GST_TYPE_STRUCTURE, MS ("sink pad to transport, median"),
      "in-max", GST_TYPE_STRUCTURE, MS ("sink pad to transport, max"),
      "out-median", GST_TYPE_STRUCTURE, MS ("transport to src pad, median"),
      "out-max", GST_TYPE_STRUCTURE, MS ("transport to src pad, max"),
      "interruptions", GST_TYPE_STRUCTURE, rec_value (G_TYPE_UINT,
          "responses interrupted"),
      "tool-calls", GST_TYPE_STRUCTURE, rec_value (G_TYPE_UINT, "tool calls"),
      "failovers", GST_TYPE_STRUCTURE, rec_value (G_TYPE_UINT,
          "reconnects, rotations and fallback switches"),
      "json", GST_TYPE_STRUCTURE, rec_value (G_TYPE_STRING,
          "the whole record (docs/observability.md)"), NULL);
  GST_OBJECT_FLAG_SET (tr_turn, GST_OBJECT_FLAG_MAY_BE_LEAKED);

  tr_session = gst_tracer_record_new ("s2s-session.class",
      "element", GST_TYPE_STRUCTURE, rec_scope (),
      "session-id", GST_TYPE_STRUCTURE, rec_value (G_TYPE_STRING,
          "provider session id"),
      "provider", GST_TYPE_STRUCTURE, rec_value (G_TYPE_STRING, "provider"),
      "turns", GST_TYPE_STRUCTURE, rec_value (G_TYPE_UINT, "turns"),
      "ttfa-pushed-p50", GST_TYPE_STRUCTURE, MS ("ttfa-pushed, median"),
      "ttfa-pushed-p90", GST_TYPE_STRUCTURE, MS ("ttfa-pushed, 90th pct"),
      "ttfa-pushed-p99", GST_TYPE_STRUCTURE, MS ("ttfa-pushed, 99th pct"),
      "provider-ttfa-p50", GST_TYPE_STRUCTURE, MS ("provider-ttfa, median"),
      "provider-ttfa-p90", GST_TYPE_STRUCTURE, MS ("provider-ttfa, 90th pct"),
      "provider-ttfa-p99", GST_TYPE_STRUCTURE, MS ("provider-ttfa, 99th pct"),
      "interruptions", GST_TYPE_STRUCTURE, rec_value (G_TYPE_UINT,
          "responses interrupted"),
      "tool-calls", GST_TYPE_STRUCTURE, rec_value (G_TYPE_UINT, "tool calls"),
      "reconnects", GST_TYPE_STRUCTURE, rec_value (G_TYPE_UINT, "reconnects"),
      "rotations", GST_TYPE_STRUCTURE, rec_value (G_TYPE_UINT, "rotations"),
      "fallbacks", GST_TYPE_STRUCTURE, rec_value (G_TYPE_UINT,
          "fallback switches"),
      "json", GST_TYPE_STRUCTURE, rec_value (G_TYPE_STRING,
          "the whole summary (docs/observability.md)"), NULL);
  GST_OBJECT_FLAG_SET (tr_session, GST_OBJECT_FLAG_MAY_BE_LEAKED);
}

static void
gst_s2s_tracer_class_init (GstS2STracerClass * klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);

  gobject_class->constructed = gst_s2s_tracer_constructed;
  gobject_class->finalize = gst_s2s_tracer_finalize;
  gobject_class->get_property = gst_s2s_tracer_get_property;

  /* What the elements read at attach for their voiced check (the contract,
   * docs/observability.md): voice-db as a mean of squared S16 samples */
  g_object_class_install_property (gobject_class, PROP_VOICE_THRESHOLD,
      g_param_spec_double ("voice-threshold", "Voice threshold",
          "Mean square of S16 samples above which an input buffer counts as "
          "voiced (the voice-db parameter)", 0, G_MAXDOUBLE,
          32768.0 * 32768.0 * 1e-4, G_PARAM_READABLE | G_PARAM_STATIC_STRINGS));
  /* and whether they post their records on the bus too (the bus-records
   * parameter); without it they hand them to the tracers only */
  g_object_class_install_property (gobject_class, PROP_BUS_RECORDS,
      g_param_spec_boolean ("bus-records", "Records on the bus",
          "The elements post their s2s-transport records on the bus too "
          "(the bus-records parameter)", FALSE,
          G_PARAM_READABLE | G_PARAM_STATIC_STRINGS));

  /**
   * GstS2STracer::attach:
   * @tracer: the tracer
   * @element: a GstS2SBase element whose session starts
   *
   * Emitted by the element itself (READY to PAUSED) on every tracer of the
   * gst-s2s-tracers list: the tracer starts measuring it.
   *
   * Returns: (transfer none) (nullable): a GstS2STraceSink
   * (gsts2stracesink.h), valid as long as the element, where the element
   * hands every element message posted on it until "detach"; NULL when
   * the tracer does not measure this element (its filter)
   */
  g_signal_new_class_handler ("attach", G_TYPE_FROM_CLASS (klass),
      G_SIGNAL_RUN_LAST | G_SIGNAL_ACTION, G_CALLBACK (do_attach), NULL, NULL,
      NULL, G_TYPE_POINTER, 1, GST_TYPE_ELEMENT);
  /**
   * GstS2STracer::detach:
   * @tracer: the tracer
   * @element: the element whose session stopped
   *
   * Emitted by the element after its last message of the session: the
   * tracer logs the session summary and removes its probes.
   */
  g_signal_new_class_handler ("detach", G_TYPE_FROM_CLASS (klass),
      G_SIGNAL_RUN_LAST | G_SIGNAL_ACTION, G_CALLBACK (do_detach), NULL, NULL,
      NULL, G_TYPE_NONE, 1, GST_TYPE_ELEMENT);
}

static void
gst_s2s_tracer_init (GstS2STracer * self)
{
  gchar *q;

  g_mutex_init (&self->out_lock);
  self->voice_db = DEFAULT_VOICE_DB;
  q = g_strdup_printf ("s2stracer:session:%p", self);
  self->session_quark = g_quark_from_string (q);
  g_free (q);
  q = g_strdup_printf ("s2stracer:bus:%p", self);
  self->bus_quark = g_quark_from_string (q);
  g_free (q);

}

static gboolean
plugin_init (GstPlugin * plugin)
{
  GST_DEBUG_CATEGORY_INIT (gst_s2s_tracer_debug, "s2stracer", 0, "s2s tracer");
  init_quarks ();
  return gst_tracer_register (plugin, "s2s", GST_TYPE_S2S_TRACER);
}

GST_PLUGIN_DEFINE (GST_VERSION_MAJOR, GST_VERSION_MINOR, s2stracers,
    "Tracers for speech-to-speech elements", plugin_init, VERSION,
    GST_LICENSE, GST_PACKAGE_NAME, GST_PACKAGE_ORIGIN)
