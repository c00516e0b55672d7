/* gst-s2s
 * Copyright (C) 2026 gst-s2s developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#ifndef __GST_S2S_TRACE_H__
#define __GST_S2S_TRACE_H__

#include <time.h>
#include <gst/gst.h>
#include "gsts2sbase.h"

G_BEGIN_DECLS
/* What the element records for the s2s tracer while one is attached
 * (docs/observability.md, "What the element tells the tracer"): input
 * buffers, hand-offs to the transport and output pushes, in preallocated
 * arrays, posted batched as `s2s-transport`. The record calls never
 * allocate; each says which lock it needs. */
/* Records per array before the element posts them */
#define GST_S2S_TRACE_BATCH 256
typedef struct _GstS2STrace GstS2STrace;

/* The push records' state (the element's lock). The element keeps it next
 * to its output queue, on a line its src task touches at every push
 * anyway, instead of on a line of the trace that the task's sleep left
 * cold (tests/bench/tracer-overhead.md) */
typedef struct
{
  guint64 *v;                   /* GST_S2S_TRACE_BATCH records */
  guint len;
  GstClockTime first_pts;       /* first audio not pushed yet */
} GstS2STracePushes;

/* @pushes: where the push records' state lives (it must outlive the
 * trace), NULL for one of the trace's own (gst_s2s_trace_pushes) */
GstS2STrace *gst_s2s_trace_new (GstS2STracePushes * pushes);
GstS2STracePushes *gst_s2s_trace_pushes (GstS2STrace * t);
/* At session start (no streaming thread runs): no records, the voiced
 * check at @voice_mean_square (the tracer's voice-threshold) */
void gst_s2s_trace_reset (GstS2STrace * t, gdouble voice_mean_square);
void gst_s2s_trace_free (GstS2STrace * t);

/* The running time of @element now (NONE unless PLAYING), for the
 * element's streaming thread only, cheaper than a clock read: the clock
 * kept between calls, read as the raw monotonic time when it is the
 * uncalibrated monotonic system clock (the usual pipeline clock) */
GstClockTime gst_s2s_trace_now_streaming (GstS2STrace * t,
    GstElement * element);
/* The same, and in @raw_base the base time to subtract from the raw
 * monotonic time for the running time (NONE when the clock is not read
 * that way), so that a second read in the same chain call
 * (gst_s2s_trace_now_raw) touches neither the element nor the trace:
 * lines the transport's send may have evicted in between */
GstClockTime gst_s2s_trace_now_streaming_base (GstS2STrace * t,
    GstElement * element, GstClockTime * raw_base);

/* Streaming thread: where the next input record goes, for a prefetch
 * (gst_s2s_trace_prefetch_input) once the transport's send is done */
gpointer gst_s2s_trace_input_slot (GstS2STrace * t);

/* Streaming thread, right after the transport's send, before the clock
 * read and gst_s2s_trace_input: the trace's first two lines (the
 * per-input fields, the voiced check's result) and @slot (from
 * gst_s2s_trace_input_slot) are fetched while the clock is read, instead
 * of one miss after another (the send's kernel work leaves them out of
 * this core's caches) */
void gst_s2s_trace_prefetch_input (GstS2STrace * t, gpointer slot);

/* Src task, before it reads the clock for a push: the next push record's
 * slot, fetched while the clock is read (the task slept since its last
 * push, and the slot's line is usually out of this core's caches) */
void gst_s2s_trace_prefetch_push (GstS2STracePushes * p);

/* The running time now from @raw_base (gst_s2s_trace_now_streaming_base;
 * NONE if it is) */
static inline GstClockTime
gst_s2s_trace_now_raw (GstClockTime raw_base)
{
  struct timespec ts;
  GstClockTime now;

  if (!GST_CLOCK_TIME_IS_VALID (raw_base))
    return GST_CLOCK_TIME_NONE;
  clock_gettime (CLOCK_MONOTONIC, &ts);
  now = GST_TIMESPEC_TO_TIME (ts);
  return now < raw_base ? GST_CLOCK_TIME_NONE : now - raw_base;
}

/* Streaming thread, no lock: the voiced check of @size bytes of @fmt at
 * @data, ending at running time @end (mean square above the tracer's
 * voice-threshold). Only while the end of the user's voice can still be
 * ahead (the user is speaking per the provider's VAD, or it never
 * reported speech yet), each input decided at once; out of it, only the
 * newest voiced input's end is kept for a window opening just after it
 * (the look-back). The end of the last voiced input is posted as
 * voice-end */
void gst_s2s_trace_voice (GstS2STrace * t, const GstS2SAudioFormat * fmt,
    const guint8 * data, gsize size, GstClockTime end);
/* Tests: the voiced check with AVX2 (FALSE: SSE2) from now on; FALSE
 * when the CPU or the build has no AVX2 */
gboolean gst_s2s_trace_use_avx2 (gboolean avx2);
/* The provider's VAD: speech started / stopped (any thread, before the
 * s2s-speech message and its records are posted) */
void gst_s2s_trace_speech (GstS2STrace * t, gboolean speaking);

/* Each returns TRUE when the batch is full (post it). The streaming
 * thread only, no lock needed (a lock-free ring): an input that ends at
 * byte @end, entered at @entry and handed to the transport at @handoff
 * (NONE when queued: a hand-off record covers it later) */
gboolean gst_s2s_trace_input (GstS2STrace * t, guint64 end,
    GstClockTime entry, GstClockTime handoff);
/* lock held */
gboolean gst_s2s_trace_handoff (GstS2STrace * t, guint64 offset,
    GstClockTime rt);
gboolean gst_s2s_trace_push (GstS2STracePushes * p, GstClockTime pts,
    GstClockTime duration, GstClockTime arrival, GstClockTime rt);
gboolean gst_s2s_trace_pushes_pending (GstS2STracePushes * p);
/* The first audio of a response will be pushed at @pts: the push of the
 * buffer holding it posts the batch first */
void gst_s2s_trace_first_audio (GstS2STracePushes * p, GstClockTime pts);
/* Whether the buffer [@pts, @end) holds the pending first audio (it is
 * then no longer pending): post before pushing it */
gboolean gst_s2s_trace_is_first_audio (GstS2STracePushes * p,
    GstClockTime pts, GstClockTime end, GstClockTime * first_pts);

/* lock held: the records as an `s2s-transport` structure (NULL when there
 * is nothing to post), the arrays emptied. @first_pts: NONE, or the PTS of
 * the first audio about to be pushed */
GstStructure *gst_s2s_trace_take (GstS2STrace * t, GstClockTime first_pts);

G_END_DECLS
#endif
