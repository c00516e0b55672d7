/* gst-s2s
 * Copyright (C) 2026 gst-s2s developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * What the base class records for the s2s tracer (ext/s2s/gsts2strace.c):
 * the input records' lock-free ring (order, wrap-around, a full batch,
 * a writer and a poster on two threads), many traces at once and the
 * voiced check deciding each input at once. Links the core library: the
 * functions are private.
 */

#include <string.h>
#include <gst/check/gstcheck.h>
#include <gst/check/gsttestclock.h>
#include "gsts2strace.h"

#define IN_FIELDS 3
#define MS(x) ((GstClockTime) (x) * GST_MSECOND)

static const GstS2SAudioFormat s16 = { GST_S2S_ENCODING_PCM_S16LE, 24000 };

/* the input records of @st (NULL: none) as @n values */
static const guint64 *
inputs_of (const GstStructure * st, guint * n)
{
  const GValue *v = st ? gst_structure_get_value (st, "inputs") : NULL;
  gsize size = 0;
  const guint64 *r;

  *n = 0;
  if (v == NULL)
    return NULL;
  r = g_bytes_get_data (g_value_get_boxed (v), &size);
  fail_unless_equals_int (size % (IN_FIELDS * sizeof (guint64)), 0);
  *n = size / (IN_FIELDS * sizeof (guint64));
  return r;
}

/* records inputs [@from, @to) (end offset i, entry i + 1, hand-off i + 2)
 * and checks the ring says full exactly at the batch's last record */
static void
record_inputs (GstS2STrace * t, guint from, guint to, guint queued)
{
  guint i;

  for (i = from; i < to; i++) {
    gboolean full = gst_s2s_trace_input (t, i, i + 1, i + 2);

    fail_unless_equals_int (full,
        queued + (i - from) + 1 >= GST_S2S_TRACE_BATCH);
  }
}

/* takes the records and checks they are inputs [@from, @to), in order */
static void
take_inputs (GstS2STrace * t, guint from, guint to)
{
  GstStructure *st = gst_s2s_trace_take (t, GST_CLOCK_TIME_NONE);
  guint n, i;
  const guint64 *r = inputs_of (st, &n);

  fail_unless_equals_int (n, to - from);
  for (i = 0; i < n; i++) {
    fail_unless_equals_uint64 (r[i * IN_FIELDS], from + i);
    fail_unless_equals_uint64 (r[i * IN_FIELDS + 1], from + i + 1);
    fail_unless_equals_uint64 (r[i * IN_FIELDS + 2], from + i + 2);
  }
  if (st)
    gst_structure_free (st);
}

GST_START_TEST (test_inputs_ring)
{
  GstS2STrace *t = gst_s2s_trace_new (NULL);
  guint b = GST_S2S_TRACE_BATCH;

  gst_s2s_trace_reset (t, 0);
  /* nothing recorded: nothing to post */
  fail_unless (gst_s2s_trace_take (t, GST_CLOCK_TIME_NONE) == NULL);
  record_inputs (t, 0, 100, 0);
  take_inputs (t, 0, 100);
  /* over the ring's end: the oldest first, none lost */
  record_inputs (t, 100, 100 + b - 10, 0);
  take_inputs (t, 100, 100 + b - 10);
  /* a full batch, then one more: refused (the writer posts first) */
  record_inputs (t, 1000, 1000 + b, 0);
  fail_unless (gst_s2s_trace_input (t, 5000, 0, 0));
  take_inputs (t, 1000, 1000 + b);
  /* and the ring goes on after it */
  record_inputs (t, 2000, 2003, 0);
  take_inputs (t, 2000, 2003);
  /* a reset empties it */
  record_inputs (t, 3000, 3005, 0);
  gst_s2s_trace_reset (t, 0);
  fail_unless (gst_s2s_trace_take (t, GST_CLOCK_TIME_NONE) == NULL);
  gst_s2s_trace_free (t);
}

GST_END_TEST;

/* the values of field @name of @st as @n values */
static const guint64 *
values_of (const GstStructure * st, const gchar * name, gsize * n)
{
  const GValue *v = gst_structure_get_value (st, name);
  const guint64 *r;

  fail_unless (v != NULL, "no %s", name);
  r = g_bytes_get_data (g_value_get_boxed (v), n);
  *n /= sizeof (guint64);
  return r;
}

/* Many traces at once, each with records of its own (its push records'
 * state its own too, gst_s2s_trace_new (NULL)), none overlapping
 * another's; freed out of order, and new ones start empty */
GST_START_TEST (test_many_traces)
{
  enum
  { N = 300 };
  GstS2STrace *t[N];
  guint i, round;

  for (round = 0; round < 2; round++) {
    for (i = 0; i < N; i++) {
      t[i] = gst_s2s_trace_new (NULL);
      /* a new trace has nothing to post, whatever its memory held */
      fail_unless (gst_s2s_trace_take (t[i], GST_CLOCK_TIME_NONE) == NULL);
    }
    for (i = 0; i < N; i++) {
      GstS2STracePushes *p = gst_s2s_trace_pushes (t[i]);

      gst_s2s_trace_input (t[i], i, i + 1, i + 2);
      gst_s2s_trace_handoff (t[i], 10 * i, 10 * i + 1);
      gst_s2s_trace_push (p, 100 * i, 100 * i + 1, 100 * i + 2, 100 * i + 3);
    }
    for (i = 0; i < N; i++) {
      GstStructure *st = gst_s2s_trace_take (t[i], GST_CLOCK_TIME_NONE);
      const guint64 *r;
      gsize n;

      fail_unless (st != NULL);
      r = values_of (st, "inputs", &n);
      fail_unless_equals_int (n, 3);
      fail_unless (r[0] == i && r[1] == i + 1 && r[2] == i + 2);
      r = values_of (st, "handoffs", &n);
      fail_unless_equals_int (n, 2);
      fail_unless (r[0] == 10 * i && r[1] == 10 * i + 1);
      r = values_of (st, "pushes", &n);
      fail_unless_equals_int (n, 4);
      fail_unless (r[0] == 100 * i && r[3] == 100 * i + 3);
      gst_structure_free (st);
    }
    /* every other one first: freed out of order */
    for (i = 0; i < N; i += 2)
      gst_s2s_trace_free (t[i]);
    for (i = 1; i < N; i += 2)
      gst_s2s_trace_free (t[i]);
  }
}

GST_END_TEST;

typedef struct
{
  GstS2STrace *t;
  GMutex lock;                  /* the element's lock of the posts */
  guint n;
  guint next;                   /* the next value expected */
  gboolean ok;
} Race;

/* a post: under the lock, checking order and continuity */
static void
race_take (Race * r)
{
  GstStructure *st;
  const guint64 *v;
  guint n, i;

  g_mutex_lock (&r->lock);
  st = gst_s2s_trace_take (r->t, GST_CLOCK_TIME_NONE);
  v = inputs_of (st, &n);
  for (i = 0; i < n; i++)
    if (v[i * IN_FIELDS] != r->next++ || v[i * IN_FIELDS + 2] != 7)
      r->ok = FALSE;
  g_mutex_unlock (&r->lock);
  if (st)
    gst_structure_free (st);
}

static gpointer
race_writer (gpointer data)
{
  Race *r = data;
  guint i;

  for (i = 0; i < r->n; i++)
    if (gst_s2s_trace_input (r->t, i, 0, 7))
      race_take (r);            /* as the streaming thread posts */
  return NULL;
}

/* the streaming thread records while other threads post: every record
 * comes out once, in order */
GST_START_TEST (test_inputs_ring_threads)
{
  Race r = { gst_s2s_trace_new (NULL), {0}, 200000, 0, TRUE };
  GThread *w;

  g_mutex_init (&r.lock);
  gst_s2s_trace_reset (r.t, 0);
  w = g_thread_new ("writer", race_writer, &r);
  for (;;) {
    gboolean done;

    g_mutex_lock (&r.lock);
    done = r.next == r.n || !r.ok;
    g_mutex_unlock (&r.lock);
    if (done)
      break;
    race_take (&r);
    g_thread_yield ();
  }
  g_thread_join (w);
  race_take (&r);
  fail_unless (r.ok, "a record out of order, lost or twice");
  fail_unless_equals_int (r.next, r.n);
  g_mutex_clear (&r.lock);
  gst_s2s_trace_free (r.t);
}

GST_END_TEST;

/* @n S16LE samples of constant @amplitude */
static guint8 *
tone (guint n, gint16 amplitude)
{
  guint8 *d = g_malloc (n * 2);
  guint i;

  for (i = 0; i < n; i++)
    GST_WRITE_UINT16_LE (d + 2 * i, (guint16) (i % 2 ? amplitude : -amplitude));
  return d;
}

static GstClockTime
voice_end_of (GstS2STrace * t)
{
  GstStructure *st = gst_s2s_trace_take (t, MS (1));
  guint64 end = GST_CLOCK_TIME_NONE;

  fail_unless (st != NULL);
  gst_structure_get_uint64 (st, "voice-end", &end);
  gst_structure_free (st);
  return end;
}

/* Every input of the VAD's window is decided at once: the newest voiced
 * one is the voice end, whatever follows it; one voiced only past its
 * first 256 samples counts too */
GST_START_TEST (test_voiced_at_once)
{
  GstS2STrace *t = gst_s2s_trace_new (NULL);
  /* a threshold of 1000^2: 999 is silence, 1001 voice */
  guint8 *quiet = tone (480, 999), *loud = tone (480, 1001);
  guint8 *late = tone (480, 0);
  guint i;

  /* the last 180 samples loud enough to lift the mean over 480 */
  for (i = 300; i < 480; i++)
    GST_WRITE_UINT16_LE (late + 2 * i, (guint16) 2000);
  gst_s2s_trace_reset (t, 1000.0 * 1000.0);
  gst_s2s_trace_speech (t, TRUE);
  gst_s2s_trace_voice (t, &s16, quiet, 960, MS (20));
  fail_unless_equals_uint64 (voice_end_of (t), GST_CLOCK_TIME_NONE);
  gst_s2s_trace_voice (t, &s16, loud, 960, MS (40));
  gst_s2s_trace_voice (t, &s16, quiet, 960, MS (60));
  fail_unless_equals_uint64 (voice_end_of (t), MS (40));
  gst_s2s_trace_voice (t, &s16, late, 960, MS (80));
  gst_s2s_trace_voice (t, &s16, quiet, 960, MS (100));
  gst_s2s_trace_speech (t, FALSE);
  fail_unless_equals_uint64 (voice_end_of (t), MS (80));
  /* after the stop, input is not this turn's voice end */
  gst_s2s_trace_voice (t, &s16, loud, 960, MS (120));
  fail_unless_equals_uint64 (voice_end_of (t), MS (80));
  /* a start clears it: a turn without voice has none */
  gst_s2s_trace_speech (t, TRUE);
  fail_unless_equals_uint64 (voice_end_of (t), GST_CLOCK_TIME_NONE);
  g_free (quiet);
  g_free (loud);
  g_free (late);
  gst_s2s_trace_free (t);
}

GST_END_TEST;

/* whether @n S16LE samples at @d are voiced at @threshold (an input in
 * the window: the voice end is its end or none) */
static gboolean
voiced_at (const guint8 * d, guint n, gdouble threshold)
{
  GstS2STrace *t = gst_s2s_trace_new (NULL);
  gboolean v;

  gst_s2s_trace_reset (t, threshold);
  gst_s2s_trace_speech (t, TRUE);
  gst_s2s_trace_voice (t, &s16, d, n * 2, MS (20));
  v = voice_end_of (t) == MS (20);
  gst_s2s_trace_free (t);
  return v;
}

/* The vector widths to check: SSE2 always, AVX2 where the CPU has it */
static guint
simd_paths (gboolean * paths)
{
  guint n = 0;

  if (gst_s2s_trace_use_avx2 (TRUE))
    paths[n++] = TRUE;
  fail_unless (gst_s2s_trace_use_avx2 (FALSE));
  paths[n++] = FALSE;
  return n;
}

/* Writes sample @i of @d: its square */
static guint64
put_sample (guint8 * d, guint i, gint16 v)
{
  GST_WRITE_UINT16_LE (d + 2 * i, (guint16) v);
  return (guint64) ((gint64) v * v);
}

/* @d (@n samples) is voiced above (sum of squares) / n, and not at it */
static void
check_at_threshold (const guint8 * d, guint n, guint64 sum, const gchar * what,
    gboolean avx2)
{
  /* (sum / n, as the element divides: a double) */
  fail_if (voiced_at (d, n, (gdouble) sum / n), "%s, n %u, %s: at threshold",
      what, n, avx2 ? "AVX2" : "SSE2");
  fail_unless (voiced_at (d, n, (gdouble) sum / n - 1e-6 * sum / n),
      "%s, n %u, %s: above threshold", what, n, avx2 ? "AVX2" : "SSE2");
}

/* The check is exact (a 64-bit sum of squares, whatever vector width the
 * CPU gives): a mean square equal to the threshold is not voiced, one
 * just above is; full-scale samples (the largest squares) and lengths
 * that leave a tail of every size after the vector blocks, with AVX2 and
 * with SSE2 */
GST_START_TEST (test_voiced_exact)
{
  gboolean paths[2];
  guint np = simd_paths (paths), p, n, i;

  for (p = 0; p < np; p++) {
    gst_s2s_trace_use_avx2 (paths[p]);
    for (n = 1; n <= 600; n += (n < 40 ? 1 : 37)) {
      guint8 *d = tone (n, 0);
      guint64 sum = 0;

      for (i = 0; i < n; i++) {
        /* full scale, a ramp and a few signs */
        sum += put_sample (d, i, i % 3 == 0 ? -32768 :
            (gint16) ((i * 977) % 65536 - 32768));
      }
      check_at_threshold (d, n, sum, "ramp", paths[p]);
      g_free (d);
    }
  }
  gst_s2s_trace_use_avx2 (paths[0]);
}

GST_END_TEST;

/* A buffer whose first block is silent is bounded by its largest
 * magnitude before any square of the rest is summed: the bound proves
 * silence only when it holds. One loud sample at the very end (every
 * tail length after the vector blocks, -32768 included), and a rest of
 * one magnitude (the bound then equals the mean square, with AVX2's
 * exact magnitude) */
GST_START_TEST (test_voiced_bound)
{
  gboolean paths[2];
  guint np = simd_paths (paths), p, n;
  const gint16 spikes[] = { 1, 181, -182, 4000, 32767, -32768 };

  for (p = 0; p < np; p++) {
    gst_s2s_trace_use_avx2 (paths[p]);
    for (n = 257; n <= 2100; n += (n < 300 ? 1 : 101)) {
      guint8 *d;
      guint64 sum;
      guint i, k;

      for (k = 0; k < G_N_ELEMENTS (spikes); k++) {
        d = tone (n, 0);
        sum = put_sample (d, n - 1, spikes[k]);
        check_at_threshold (d, n, sum, "last sample", paths[p]);
        g_free (d);
      }
      /* the first block quiet, the rest at one magnitude */
      d = tone (n, -32768);
      sum = 0;
      for (i = 0; i < n; i++)
        sum += put_sample (d, i, i < 256 ? (gint16) (i % 7) : -32768);
      check_at_threshold (d, n, sum, "one magnitude", paths[p]);
      g_free (d);
    }
  }
  gst_s2s_trace_use_avx2 (paths[0]);
}

GST_END_TEST;

/* The streaming thread's clock reads: with the pipeline's usual clock
 * (the uncalibrated monotonic system clock) the first read gives the base
 * that the second read of the chain call subtracts from the raw
 * monotonic time, and both are the element's running time; with another
 * clock, or not PLAYING, there is no raw base */
GST_START_TEST (test_clock_reads)
{
  GstS2STrace *t = gst_s2s_trace_new (NULL);
  GstElement *pipe = gst_pipeline_new (NULL);
  GstElement *el = gst_element_factory_make ("fakesink", NULL);
  GstClock *sys = g_object_new (GST_TYPE_SYSTEM_CLOCK, "clock-type",
      GST_CLOCK_TYPE_MONOTONIC, NULL);
  GstClock *test_clock = gst_test_clock_new_with_start_time (MS (5000));
  GstClockTime base, entry, later, ref, raw_base;

  gst_bin_add (GST_BIN (pipe), el);
  g_object_set (el, "async", FALSE, NULL);
  gst_pipeline_use_clock (GST_PIPELINE (pipe), sys);
  /* not playing: nothing, no base */
  entry = gst_s2s_trace_now_streaming_base (t, el, &raw_base);
  fail_unless (!GST_CLOCK_TIME_IS_VALID (entry));
  fail_unless (!GST_CLOCK_TIME_IS_VALID (raw_base));
  fail_unless (!GST_CLOCK_TIME_IS_VALID (gst_s2s_trace_now_raw (raw_base)));

  fail_unless_equals_int (gst_element_set_state (pipe, GST_STATE_PLAYING),
      GST_STATE_CHANGE_SUCCESS);
  base = gst_element_get_base_time (el);
  entry = gst_s2s_trace_now_streaming_base (t, el, &raw_base);
  fail_unless_equals_uint64 (raw_base, base);
  later = gst_s2s_trace_now_raw (raw_base);
  ref = gst_clock_get_time (sys) - base;
  fail_unless (GST_CLOCK_TIME_IS_VALID (entry));
  fail_unless (entry <= later && later <= ref, "%" GST_TIME_FORMAT " %"
      GST_TIME_FORMAT " %" GST_TIME_FORMAT, GST_TIME_ARGS (entry),
      GST_TIME_ARGS (later), GST_TIME_ARGS (ref));
  fail_unless (ref - entry < GST_SECOND);
  /* a base after now (never from a real read): no time */
  fail_unless (!GST_CLOCK_TIME_IS_VALID (gst_s2s_trace_now_raw (ref + base +
              GST_SECOND)));

  /* another clock: read through it, no raw base */
  fail_unless_equals_int (gst_element_set_state (pipe, GST_STATE_NULL),
      GST_STATE_CHANGE_SUCCESS);
  gst_pipeline_use_clock (GST_PIPELINE (pipe), test_clock);
  fail_unless_equals_int (gst_element_set_state (pipe, GST_STATE_PLAYING),
      GST_STATE_CHANGE_SUCCESS);
  base = gst_element_get_base_time (el);
  gst_test_clock_advance_time (GST_TEST_CLOCK (test_clock), MS (250));
  entry = gst_s2s_trace_now_streaming_base (t, el, &raw_base);
  fail_unless (!GST_CLOCK_TIME_IS_VALID (raw_base));
  fail_unless_equals_uint64 (entry, gst_clock_get_time (test_clock) - base);

  fail_unless_equals_int (gst_element_set_state (pipe, GST_STATE_NULL),
      GST_STATE_CHANGE_SUCCESS);
  gst_object_unref (pipe);
  gst_object_unref (sys);
  gst_object_unref (test_clock);
  gst_s2s_trace_free (t);
}

GST_END_TEST;

static Suite *
trace_suite (void)
{
  Suite *s = suite_create ("s2s-trace");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_inputs_ring);
  tcase_add_test (tc, test_inputs_ring_threads);
  tcase_add_test (tc, test_many_traces);
  tcase_add_test (tc, test_voiced_at_once);
  tcase_add_test (tc, test_voiced_exact);
  tcase_add_test (tc, test_voiced_bound);
  tcase_add_test (tc, test_clock_reads);
  return s;
}

GST_CHECK_MAIN (trace);
