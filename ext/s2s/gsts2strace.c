/* gst-s2s
 * Copyright (C) 2026 gst-s2s developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/* The element's side of the s2s tracer's contract (docs/observability.md,
 * "What the element tells the tracer"). The tracer puts nothing on the
 * element's pads: while it is attached, the element records what only it
 * sees into these arrays (no allocation per record) and posts them in
 * `s2s-transport` messages, GST_S2S_TRACE_BATCH records at a time and
 * before the messages the tracer closes a turn on. */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <string.h>
#include <time.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif
/* AVX2 where the CPU has it, chosen at run time (the build targets plain
 * x86-64) */
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#define HAVE_AVX2_PATH 1
#endif

#include "gsts2strace.h"

#define IN_FIELDS 3             /* end offset, entry, hand-off */
#define HANDOFF_FIELDS 2        /* offset, hand-off */
#define PUSH_FIELDS 4           /* pts, duration, arrival, push */

/* How far before the first input of the VAD's speech window a voice seen
 * out of the window still counts as this turn's (a voice that ended
 * before the VAD's start reached the element) */
#define LOOKBACK_MS 1500

/* Bytes between fields that different threads write often, so that they
 * never share a cache line (a line written by one core and read by
 * another moves between them on every access) */
#define CACHE_LINE 64
#if defined(__GNUC__) || defined(__clang__)
#define ALIGNED_LINE __attribute__ ((aligned (CACHE_LINE)))
#else
#define ALIGNED_LINE
#endif

/* The struct is allocated on a cache line, and laid out by who touches
 * what: everything the streaming thread reads or writes per input is one
 * line (the first). A line the thread last touched a buffer ago is
 * usually out of this core's caches by the next one (the thread slept in
 * between, the transport's send ran through the kernel), and each such
 * line cost a miss of a few hundred ns per input: with these fields over
 * three lines, the first touch of each showed in the profile (tests/
 * bench/tracer-overhead.md, "Cold lines, not instructions") */
struct _GstS2STrace
{
  /* --- line 0: the streaming thread, per input --- */
  /* its clock (reffed) and whether it reads as the raw monotonic time
   * (gst_s2s_trace_now_streaming) */
  GstClock *stream_clock;
  /* input records: a ring the streaming thread fills without a lock
   * (in_head, atomic) and a post empties (in_tail, atomic, under the
   * element's lock), GST_S2S_TRACE_BATCH records */
  guint64 *in;
  /* out of the window every input is decided at once and the end of the
   * newest voiced one kept, so a voice that ended before the VAD's start
   * reached the element is still found when the window opens */
  GstClockTime lookback_end;
  /* set at reset only */
  gdouble voice_mean_square;
  guint in_head;
  /* in_tail as this thread last read it (never ahead of it): read again
   * only when the ring looks full, so that the streaming thread does not
   * touch the line of the fields the src task writes at every push */
  guint in_tail_seen;
  gint lookback_serial;
  gboolean stream_clock_raw;
  gboolean was_out;
  /* written at speech events (a few a turn), read on every input: a stale
   * value only moves the voiced check's window by one buffer */
  gint speaking;
  gint speech_seen;
  /* a speech stop bumps stop_serial; the look-back is emptied when it
   * sees a new one, so it never holds the voice of a turn already
   * stopped */
  gint stop_serial;

  /* --- line 1: the voiced check's result (voice_lock; the streaming
   * thread writes it when an input is voiced, a post reads it): the end
   * of the newest voiced input in the VAD's window. Every input is
   * decided at once, while it is in cache (a copy decided later cost
   * more CPU time: tests/bench/tracer-overhead.md) --- */
  GMutex voice_lock ALIGNED_LINE;
  GstClockTime voice_end;       /* running time, since the session start */

  /* --- line 2: the element's lock: hand-offs (I/O thread), the posts,
   * where the push records' state is (the element's, or own_pushes).
   * GST_S2S_TRACE_BATCH records each, kept: a post copies them (handoffs
   * allocated at the first hand-off) --- */
  guint in_tail ALIGNED_LINE;
  guint handoff_len;
  guint64 *handoffs;
  GstS2STracePushes *pushes;
  GstS2STracePushes own_pushes;
};

G_STATIC_ASSERT (G_STRUCT_OFFSET (GstS2STrace, stop_serial) + sizeof (gint)
    <= CACHE_LINE);

/* The fields of s2s-transport, by quark (no string lookup per post) */
static GQuark q_transport, q_inputs, q_handoffs, q_pushes, q_voice_end,
    q_first_audio_pts;

GstS2STrace *
gst_s2s_trace_new (GstS2STracePushes * pushes)
{
  static gsize quarks = 0;
  GstS2STrace *t = g_aligned_alloc0 (1, sizeof (GstS2STrace), CACHE_LINE);

  if (g_once_init_enter (&quarks)) {
    q_transport = g_quark_from_static_string ("s2s-transport");
    q_inputs = g_quark_from_static_string ("inputs");
    q_handoffs = g_quark_from_static_string ("handoffs");
    q_pushes = g_quark_from_static_string ("pushes");
    q_voice_end = g_quark_from_static_string ("voice-end");
    q_first_audio_pts = g_quark_from_static_string ("first-audio-pts");
    g_once_init_leave (&quarks, 1);
  }

  /* the arrays are kept for the element's life and only copied from, so
   * that their pages are touched once; the hand-offs' only once queued
   * input is flushed (tests/bench/tracer-overhead.md, "Page faults") */
  t->in = g_new (guint64, GST_S2S_TRACE_BATCH * IN_FIELDS);
  t->pushes = pushes ? pushes : &t->own_pushes;
  t->pushes->v = g_new (guint64, GST_S2S_TRACE_BATCH * PUSH_FIELDS);
  g_mutex_init (&t->voice_lock);
  gst_s2s_trace_reset (t, 0);
  return t;
}

void
gst_s2s_trace_reset (GstS2STrace * t, gdouble voice_mean_square)
{
  t->voice_mean_square = voice_mean_square;
  g_atomic_int_set (&t->speaking, FALSE);
  g_atomic_int_set (&t->speech_seen, FALSE);
  g_atomic_int_set (&t->in_head, 0);
  g_atomic_int_set (&t->in_tail, 0);
  t->in_tail_seen = 0;
  t->handoff_len = t->pushes->len = 0;
  t->voice_end = GST_CLOCK_TIME_NONE;
  t->lookback_end = GST_CLOCK_TIME_NONE;
  t->was_out = FALSE;
  t->pushes->first_pts = GST_CLOCK_TIME_NONE;
}

GstS2STracePushes *
gst_s2s_trace_pushes (GstS2STrace * t)
{
  return t->pushes;
}

void
gst_s2s_trace_free (GstS2STrace * t)
{
  g_free (t->in);
  g_free (t->handoffs);
  g_clear_pointer (&t->pushes->v, g_free);
  gst_clear_object (&t->stream_clock);
  g_mutex_clear (&t->voice_lock);
  g_aligned_free (t);
}

/* Whether @clock's time is the raw CLOCK_MONOTONIC: a system clock of
 * that type, not calibrated (gst_clock_get_time() is then the identity of
 * its internal time) */
static gboolean
clock_is_raw_monotonic (GstClock * clock)
{
  GstClockType type = GST_CLOCK_TYPE_REALTIME;
  GstClockTime internal, external, num, denom;

  if (clock == NULL || !GST_IS_SYSTEM_CLOCK (clock) ||
      !g_object_class_find_property (G_OBJECT_GET_CLASS (clock), "clock-type"))
    return FALSE;
  g_object_get (clock, "clock-type", &type, NULL);
  gst_clock_get_calibration (clock, &internal, &external, &num, &denom);
  return type == GST_CLOCK_TYPE_MONOTONIC && internal == external &&
      num == denom;
}

GstClockTime
gst_s2s_trace_now_streaming (GstS2STrace * t, GstElement * element)
{
  GstClockTime raw_base;

  return gst_s2s_trace_now_streaming_base (t, element, &raw_base);
}

GstClockTime
gst_s2s_trace_now_streaming_base (GstS2STrace * t, GstElement * element,
    GstClockTime * raw_base)
{
  GstClock *clock;
  GstClockTime base, now;

  *raw_base = GST_CLOCK_TIME_NONE;
  if (GST_STATE (element) != GST_STATE_PLAYING)
    return GST_CLOCK_TIME_NONE;
  /* only compared: the one used is the reffed one */
  clock = g_atomic_pointer_get (&GST_ELEMENT_CLOCK (element));
  if (G_UNLIKELY (clock != t->stream_clock)) {
    GST_OBJECT_LOCK (element);
    gst_object_replace ((GstObject **) & t->stream_clock,
        (GstObject *) GST_ELEMENT_CLOCK (element));
    GST_OBJECT_UNLOCK (element);
    t->stream_clock_raw = clock_is_raw_monotonic (t->stream_clock);
  }
  if (t->stream_clock == NULL)
    return GST_CLOCK_TIME_NONE;
  base = element->base_time;
  if (G_LIKELY (t->stream_clock_raw)) {
    *raw_base = base;
    return gst_s2s_trace_now_raw (base);
  }
  now = gst_clock_get_time (t->stream_clock);
  if (!GST_CLOCK_TIME_IS_VALID (now) || now < base)
    return GST_CLOCK_TIME_NONE;
  return now - base;
}

/* ------------------------------------------------------------------------ */
/* The voiced check */

/* Samples between the checks: a voiced buffer stops at the first block
 * whose partial sum already decides it */
#define VOICED_BLOCK 256

/* The sum of the squares of @n S16LE samples at @data, exact. With SSE2
 * (every x86-64), 8 samples at a time: pmaddwd gives v0*v0 + v1*v1 per
 * 32-bit lane, at most 2^31, which only fits unsigned, so the lanes are
 * added zero-extended into two 64-bit sums */
static guint64
sum_squares_s16_sse2 (const guint8 * data, gsize n)
{
  guint64 sum = 0;
  gsize i = 0;

#if defined(__SSE2__) && G_BYTE_ORDER == G_LITTLE_ENDIAN
  {
    const __m128i low = _mm_set_epi32 (0, -1, 0, -1);
    __m128i acc = _mm_setzero_si128 ();
    guint64 part[2];

    for (; i + 8 <= n; i += 8) {
      __m128i v = _mm_loadu_si128 ((const __m128i *) (data + 2 * i));
      __m128i sq = _mm_madd_epi16 (v, v);

      acc = _mm_add_epi64 (acc, _mm_and_si128 (sq, low));
      acc = _mm_add_epi64 (acc, _mm_srli_epi64 (sq, 32));
    }
    _mm_storeu_si128 ((__m128i *) part, acc);
    sum = part[0] + part[1];
  }
#endif
  for (; i < n; i++) {
    gint v = (gint16) GST_READ_UINT16_LE (data + 2 * i);
    sum += (guint64) (v * v);
  }
  return sum;
}

/* An upper bound of the magnitude of @n S16LE samples at @data: with
 * SSE2, x ^ (x >> 15) (|x|, or |x| - 1 when negative) by pmaxsw, plus 1
 * (SSE2 has no 16-bit abs; the bound may be 1 over, never under) */
static guint
max_abs_s16_sse2 (const guint8 * data, gsize n)
{
  guint m = 0;
  gsize i = 0;

#if defined(__SSE2__) && G_BYTE_ORDER == G_LITTLE_ENDIAN
  if (n >= 8) {
    __m128i m0 = _mm_setzero_si128 (), m1 = _mm_setzero_si128 ();
    guint16 lanes[8];
    guint k;

    for (; i + 16 <= n; i += 16) {
      __m128i a = _mm_loadu_si128 ((const __m128i *) (data + 2 * i));
      __m128i b = _mm_loadu_si128 ((const __m128i *) (data + 2 * i + 16));

      m0 = _mm_max_epi16 (m0, _mm_xor_si128 (a, _mm_srai_epi16 (a, 15)));
      m1 = _mm_max_epi16 (m1, _mm_xor_si128 (b, _mm_srai_epi16 (b, 15)));
    }
    for (; i + 8 <= n; i += 8) {
      __m128i a = _mm_loadu_si128 ((const __m128i *) (data + 2 * i));

      m0 = _mm_max_epi16 (m0, _mm_xor_si128 (a, _mm_srai_epi16 (a, 15)));
    }
    _mm_storeu_si128 ((__m128i *) lanes, _mm_max_epi16 (m0, m1));
    for (k = 0; k < 8; k++)
      m = MAX (m, (guint) lanes[k] + 1);
  }
#endif
  for (; i < n; i++) {
    gint v = (gint16) GST_READ_UINT16_LE (data + 2 * i);
    m = MAX (m, (guint) ABS (v));
  }
  return m;
}

#ifdef HAVE_AVX2_PATH
/* The same with AVX2, 16 samples at a time (the voiced check runs on
 * every input buffer while a tracer is attached: tests/bench/
 * tracer-overhead.md) */
__attribute__ ((target ("avx2")))
static guint64
sum_squares_s16_avx2 (const guint8 * data, gsize n)
{
  const __m256i low = _mm256_set1_epi64x (0xffffffff);
  __m256i acc = _mm256_setzero_si256 (), acc1 = _mm256_setzero_si256 ();
  guint64 part[4];
  gsize i = 0;

  /* two sums, so that the adds of one round do not wait for each other */
  for (; i + 32 <= n; i += 32) {
    __m256i v = _mm256_loadu_si256 ((const __m256i *) (data + 2 * i));
    __m256i w = _mm256_loadu_si256 ((const __m256i *) (data + 2 * i + 32));
    __m256i sq = _mm256_madd_epi16 (v, v), sq1 = _mm256_madd_epi16 (w, w);

    acc = _mm256_add_epi64 (acc, _mm256_and_si256 (sq, low));
    acc1 = _mm256_add_epi64 (acc1, _mm256_and_si256 (sq1, low));
    acc = _mm256_add_epi64 (acc, _mm256_srli_epi64 (sq, 32));
    acc1 = _mm256_add_epi64 (acc1, _mm256_srli_epi64 (sq1, 32));
  }
  for (; i + 16 <= n; i += 16) {
    __m256i v = _mm256_loadu_si256 ((const __m256i *) (data + 2 * i));
    __m256i sq = _mm256_madd_epi16 (v, v);

    acc = _mm256_add_epi64 (acc, _mm256_and_si256 (sq, low));
    acc = _mm256_add_epi64 (acc, _mm256_srli_epi64 (sq, 32));
  }
  _mm256_storeu_si256 ((__m256i *) part, _mm256_add_epi64 (acc, acc1));
  return part[0] + part[1] + part[2] + part[3] +
      sum_squares_s16_sse2 (data + 2 * i, n - i);
}

/* The exact magnitude with AVX2: vpabsw (32768 for -32768, as unsigned)
 * and vpmaxuw, 64 samples a round */
__attribute__ ((target ("avx2")))
static guint
max_abs_s16_avx2 (const guint8 * data, gsize n)
{
  __m256i m0 = _mm256_setzero_si256 (), m1 = _mm256_setzero_si256 ();
  guint16 lanes[16];
  guint m = 0, k;
  gsize i = 0;

  for (; i + 64 <= n; i += 64) {
    const __m256i *v = (const __m256i *) (data + 2 * i);

    m0 = _mm256_max_epu16 (m0, _mm256_abs_epi16 (_mm256_loadu_si256 (v)));
    m1 = _mm256_max_epu16 (m1, _mm256_abs_epi16 (_mm256_loadu_si256 (v + 1)));
    m0 = _mm256_max_epu16 (m0, _mm256_abs_epi16 (_mm256_loadu_si256 (v + 2)));
    m1 = _mm256_max_epu16 (m1, _mm256_abs_epi16 (_mm256_loadu_si256 (v + 3)));
  }
  for (; i + 16 <= n; i += 16) {
    __m256i a = _mm256_loadu_si256 ((const __m256i *) (data + 2 * i));

    m0 = _mm256_max_epu16 (m0, _mm256_abs_epi16 (a));
  }
  _mm256_storeu_si256 ((__m256i *) lanes, _mm256_max_epu16 (m0, m1));
  for (k = 0; k < 16; k++)
    m = MAX (m, lanes[k]);
  for (; i < n; i++) {
    gint v = (gint16) GST_READ_UINT16_LE (data + 2 * i);
    m = MAX (m, (guint) ABS (v));
  }
  return m;
}
#endif

/* The vector functions, chosen once: AVX2 where the CPU has it */
typedef struct
{
  guint64 (*sum_squares) (const guint8 * data, gsize n);
  guint (*max_abs) (const guint8 * data, gsize n);
} Simd;

static const Simd simd_sse2 = { sum_squares_s16_sse2, max_abs_s16_sse2 };

#ifdef HAVE_AVX2_PATH
static const Simd simd_avx2 = { sum_squares_s16_avx2, max_abs_s16_avx2 };
#endif

static const Simd *simd = NULL;

/* The functions for @avx2, NULL when the build or the CPU has none */
static const Simd *
simd_for (gboolean avx2)
{
  if (!avx2)
    return &simd_sse2;
#ifdef HAVE_AVX2_PATH
  __builtin_cpu_init ();
  if (__builtin_cpu_supports ("avx2"))
    return &simd_avx2;
#endif
  return NULL;
}

static const Simd *
simd_get (void)
{
  const Simd *f = g_atomic_pointer_get (&simd);

  if (G_UNLIKELY (f == NULL)) {
    f = simd_for (TRUE);
    if (f == NULL)
      f = simd_for (FALSE);
    g_atomic_pointer_set (&simd, f);
  }
  return f;
}

gboolean
gst_s2s_trace_use_avx2 (gboolean avx2)
{
  const Simd *f = simd_for (avx2);

  if (f == NULL)
    return FALSE;
  g_atomic_pointer_set (&simd, f);
  return TRUE;
}

static gint
ulaw_to_linear (guint8 u)
{
  gint t;

  u = ~u;
  t = ((u & 0x0f) << 3) + 0x84;
  t <<= (u & 0x70) >> 4;
  return (u & 0x80) ? (0x84 - t) : (t - 0x84);
}

static gint
alaw_to_linear (guint8 a)
{
  gint t, seg;

  a ^= 0x55;
  t = (a & 0x0f) << 4;
  seg = (a & 0x70) >> 4;
  if (seg == 0)
    t += 8;
  else if (seg == 1)
    t += 0x108;
  else
    t = (t + 0x108) << (seg - 1);
  return (a & 0x80) ? t : -t;
}

/* Whether @n S16LE samples at @data have a mean square above
 * @threshold, exactly. The first block decides most voiced buffers; the
 * rest of a buffer it leaves open is first bounded by its largest
 * magnitude (half the work of the squares): silence is proven when even
 * that many samples at that magnitude would not reach the threshold.
 * Otherwise the squares, a block at a time, stopping at the first block
 * whose partial sum already decides it (the sum only grows: once sum / n
 * is above the threshold, the whole buffer's is too) */
static gboolean
voiced_s16 (const guint8 * data, gsize n, gdouble threshold)
{
  const Simd *f = simd_get ();
  gsize i = MIN (n, VOICED_BLOCK), block;
  guint64 sum = f->sum_squares (data, i), m;

  if ((gdouble) sum / n > threshold)
    return TRUE;
  if (i == n)
    return FALSE;
  /* (at most 2^30 * n: no overflow; a larger sum only rounds larger, so
   * the bound below the threshold proves the sum is too) */
  m = f->max_abs (data + 2 * i, n - i);
  if ((gdouble) (sum + m * m * (n - i)) / n <= threshold)
    return FALSE;
  while (i < n) {
    block = MIN (n, i + VOICED_BLOCK);
    sum += f->sum_squares (data + 2 * i, block - i);
    i = block;
    if ((gdouble) sum / n > threshold)
      return TRUE;
  }
  return FALSE;
}

/* Whether @n samples of @enc at @data have a mean square above
 * @threshold (G.711 a sample at a time: telephony rates are low) */
static gboolean
voiced (GstS2SEncoding enc, const guint8 * data, gsize n, gdouble threshold)
{
  guint64 sum = 0;
  gsize i = 0, block;

  if (enc == GST_S2S_ENCODING_PCM_S16LE)
    return voiced_s16 (data, n, threshold);
  while (i < n) {
    block = MIN (n, i + VOICED_BLOCK);
    for (; i < block; i++) {
      gint v = enc == GST_S2S_ENCODING_MULAW ?
          ulaw_to_linear (data[i]) : alaw_to_linear (data[i]);
      sum += (guint64) (v * v);
    }
    if ((gdouble) sum / n > threshold)
      return TRUE;
  }
  return FALSE;
}

/* Outside the window of the voiced check */
static gboolean
out_of_window (GstS2STrace * t)
{
  return g_atomic_int_get (&t->speech_seen) && !g_atomic_int_get (&t->speaking);
}

/* Streaming thread, out of the window: @size bytes ending at @end decided
 * at once (the input is in cache now; a copy for later cost more), the
 * end of the newest voiced one kept */
static void
lookback_add (GstS2STrace * t, GstS2SEncoding enc, const guint8 * data,
    gsize size, GstClockTime end)
{
  gint serial = g_atomic_int_get (&t->stop_serial);
  gsize n = enc == GST_S2S_ENCODING_PCM_S16LE ? size / 2 : size;

  if (serial != t->lookback_serial) {
    t->lookback_serial = serial;
    t->lookback_end = GST_CLOCK_TIME_NONE;
  }
  if (voiced (enc, data, n, t->voice_mean_square))
    t->lookback_end = end;
}

/* Streaming thread, the first input in the window (ending at @end): a
 * voice seen just before it is the voice end so far (any later voiced
 * input of the window is newer) */
static void
lookback_take (GstS2STrace * t, GstClockTime end)
{
  GstClockTime lb = t->lookback_end;

  t->lookback_end = GST_CLOCK_TIME_NONE;
  /* a stop came after the last input it saw: another turn's */
  if (g_atomic_int_get (&t->stop_serial) != t->lookback_serial ||
      !GST_CLOCK_TIME_IS_VALID (lb) || lb > end ||
      end - lb > LOOKBACK_MS * GST_MSECOND)
    return;
  g_mutex_lock (&t->voice_lock);
  if (!out_of_window (t) && !GST_CLOCK_TIME_IS_VALID (t->voice_end))
    t->voice_end = lb;
  g_mutex_unlock (&t->voice_lock);
}

void
gst_s2s_trace_voice (GstS2STrace * t, const GstS2SAudioFormat * fmt,
    const guint8 * data, gsize size, GstClockTime end)
{
  gsize n = fmt->encoding == GST_S2S_ENCODING_PCM_S16LE ? size / 2 : size;

  if (!GST_CLOCK_TIME_IS_VALID (end) || n == 0)
    return;
  /* the voice that ends a turn is heard between the VAD's start and
   * stop; before the provider reported any start, everywhere. Out of that
   * window the input only goes into the look-back */
  if (out_of_window (t)) {
    lookback_add (t, fmt->encoding, data, size, end);
    t->was_out = TRUE;
    return;
  }
  if (G_UNLIKELY (t->was_out)) {
    t->was_out = FALSE;
    lookback_take (t, end);
  }
  /* decided at once, over all its samples if need be: a voiced input is
   * the newest voiced one so far */
  if (!voiced (fmt->encoding, data, n, t->voice_mean_square))
    return;
  g_mutex_lock (&t->voice_lock);
  /* (the speech may have stopped meanwhile: then it is after it) */
  if (!out_of_window (t))
    t->voice_end = end;
  g_mutex_unlock (&t->voice_lock);
}

void
gst_s2s_trace_speech (GstS2STrace * t, gboolean speaking)
{
  g_mutex_lock (&t->voice_lock);
  g_atomic_int_set (&t->speech_seen, TRUE);
  g_atomic_int_set (&t->speaking, speaking);
  if (speaking) {
    /* this turn's voice end, or none: never the previous turn's */
    t->voice_end = GST_CLOCK_TIME_NONE;
  } else {
    g_atomic_int_inc (&t->stop_serial);
  }
  g_mutex_unlock (&t->voice_lock);
}

/* ------------------------------------------------------------------------ */
/* Records */

/* Appends one record of @fields values to @array (@len records): TRUE
 * when it is full then (post it). A full array was posted by whoever
 * filled it: never more than full (the record is dropped) */
static inline gboolean
record (guint64 * array, guint * len, guint fields, guint64 a, guint64 b,
    guint64 c, guint64 d)
{
  guint64 *r;

  if (G_UNLIKELY (*len == GST_S2S_TRACE_BATCH))
    return TRUE;
  r = &array[(*len)++ * fields];
  r[0] = a;
  r[1] = b;
  if (fields > 2)
    r[2] = c;
  if (fields > 3)
    r[3] = d;
  return *len == GST_S2S_TRACE_BATCH;
}

gpointer
gst_s2s_trace_input_slot (GstS2STrace * t)
{
  return &t->in[(t->in_head % GST_S2S_TRACE_BATCH) * IN_FIELDS];
}

gboolean
gst_s2s_trace_input (GstS2STrace * t, guint64 end, GstClockTime entry,
    GstClockTime handoff)
{
  guint head = t->in_head;
  guint used = head - t->in_tail_seen;
  guint64 *r;

  /* (a stale tail only counts more records than wait: never fewer) */
  if (G_UNLIKELY (used >= GST_S2S_TRACE_BATCH)) {
    t->in_tail_seen = __atomic_load_n (&t->in_tail, __ATOMIC_ACQUIRE);
    used = head - t->in_tail_seen;
    if (used >= GST_S2S_TRACE_BATCH)
      return TRUE;
  }
  r = &t->in[(head % GST_S2S_TRACE_BATCH) * IN_FIELDS];
  r[0] = end;
  r[1] = entry;
  r[2] = handoff;
  /* (release: the record is written before a post can see it; a plain
   * store on x86, where GLib's atomics are full barriers) */
  __atomic_store_n (&t->in_head, head + 1, __ATOMIC_RELEASE);
  if (G_LIKELY (used + 1 < GST_S2S_TRACE_BATCH))
    return FALSE;
  t->in_tail_seen = __atomic_load_n (&t->in_tail, __ATOMIC_ACQUIRE);
  return head + 1 - t->in_tail_seen == GST_S2S_TRACE_BATCH;
}

/* The input records a post takes: copied out of the ring, oldest first */
static void
take_inputs (GstS2STrace * t, GstStructure * st)
{
  guint tail = t->in_tail;
  guint head = __atomic_load_n (&t->in_head, __ATOMIC_ACQUIRE);
  guint n = head - tail, from = tail % GST_S2S_TRACE_BATCH,
      first = MIN (n, GST_S2S_TRACE_BATCH - from);
  guint64 *v;
  GBytes *b;

  if (n == 0)
    return;
  v = g_new (guint64, n * IN_FIELDS);
  memcpy (v, &t->in[from * IN_FIELDS], first * IN_FIELDS * sizeof (guint64));
  memcpy (v + first * IN_FIELDS, t->in,
      (n - first) * IN_FIELDS * sizeof (guint64));
  __atomic_store_n (&t->in_tail, head, __ATOMIC_RELEASE);
  b = g_bytes_new_take (v, n * IN_FIELDS * sizeof (guint64));
  gst_structure_id_set (st, q_inputs, G_TYPE_BYTES, b, NULL);
  g_bytes_unref (b);
}

gboolean
gst_s2s_trace_handoff (GstS2STrace * t, guint64 offset, GstClockTime rt)
{
  if (G_UNLIKELY (t->handoffs == NULL))
    t->handoffs = g_new (guint64, GST_S2S_TRACE_BATCH * HANDOFF_FIELDS);
  return record (t->handoffs, &t->handoff_len, HANDOFF_FIELDS, offset, rt, 0,
      0);
}

void
gst_s2s_trace_prefetch_input (GstS2STrace * t, gpointer slot)
{
#if defined(__GNUC__) || defined(__clang__)
  __builtin_prefetch (t, 1);
  __builtin_prefetch (&t->voice_lock, 1);
  if (slot)
    __builtin_prefetch (slot, 1);
#endif
}

void
gst_s2s_trace_prefetch_push (GstS2STracePushes * p)
{
#if defined(__GNUC__) || defined(__clang__)
  if (G_LIKELY (p->len < GST_S2S_TRACE_BATCH))
    __builtin_prefetch (&p->v[p->len * PUSH_FIELDS], 1);
#endif
}

gboolean
gst_s2s_trace_push (GstS2STracePushes * p, GstClockTime pts,
    GstClockTime duration, GstClockTime arrival, GstClockTime rt)
{
  return record (p->v, &p->len, PUSH_FIELDS, pts, duration, arrival, rt);
}

gboolean
gst_s2s_trace_pushes_pending (GstS2STracePushes * p)
{
  return p->len > 0;
}

void
gst_s2s_trace_first_audio (GstS2STracePushes * p, GstClockTime pts)
{
  p->first_pts = pts;
}

gboolean
gst_s2s_trace_is_first_audio (GstS2STracePushes * p, GstClockTime pts,
    GstClockTime end, GstClockTime * first_pts)
{
  if (G_LIKELY (!GST_CLOCK_TIME_IS_VALID (p->first_pts)) ||
      !GST_CLOCK_TIME_IS_VALID (pts) || end <= p->first_pts)
    return FALSE;
  *first_pts = p->first_pts;
  p->first_pts = GST_CLOCK_TIME_NONE;
  return TRUE;
}

/* @v (@n values) goes into field @field of @st, copied: the array stays
 * (its pages already touched), the copy is freed with the message */
static void
set_records (GstStructure * st, GQuark field, const guint64 * v, guint n)
{
  GBytes *b;

  if (n == 0)
    return;
  b = g_bytes_new (v, n * sizeof (guint64));
  gst_structure_id_set (st, field, G_TYPE_BYTES, b, NULL);
  g_bytes_unref (b);
}

GstStructure *
gst_s2s_trace_take (GstS2STrace * t, GstClockTime first_pts)
{
  GstClockTime voice_end;
  GstStructure *st;

  if (__atomic_load_n (&t->in_head, __ATOMIC_ACQUIRE) == t->in_tail &&
      t->handoff_len == 0 &&
      t->pushes->len == 0 && !GST_CLOCK_TIME_IS_VALID (first_pts))
    return NULL;
  st = gst_structure_new_id_empty (q_transport);
  take_inputs (t, st);
  set_records (st, q_handoffs, t->handoffs, t->handoff_len * HANDOFF_FIELDS);
  set_records (st, q_pushes, t->pushes->v, t->pushes->len * PUSH_FIELDS);
  g_mutex_lock (&t->voice_lock);
  voice_end = t->voice_end;
  g_mutex_unlock (&t->voice_lock);
  if (GST_CLOCK_TIME_IS_VALID (voice_end))
    gst_structure_id_set (st, q_voice_end, G_TYPE_UINT64, voice_end, NULL);
  if (GST_CLOCK_TIME_IS_VALID (first_pts))
    gst_structure_id_set (st, q_first_audio_pts, G_TYPE_UINT64, first_pts,
        NULL);
  t->handoff_len = t->pushes->len = 0;
  return st;
}
