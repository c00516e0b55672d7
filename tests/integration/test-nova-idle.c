/* gst-s2s integration tests: s2snova keeps an idle session fed with
 * silence (reference §B9) and lets the closing events out before it resets
 * the stream
 * Copyright (C) 2026 gst-s2s developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <stdio.h>
#include <string.h>
#include <gst/check/gstcheck.h>

#include "emu-helper.h"

#define RUN_TIMEOUT_MS 60000
#define SECRET "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
/* 16 kHz S16LE mono */
#define BYTES_PER_MS 32
/* the emulator's input-stall limit in these tests, and how long the
 * source stops pushing */
#define STALL_LIMIT_MS "1000"
#define PAUSE_MS 3000
#define PUSH_MS 20
/* the element's KEEPALIVE_GAP_MS */
#define GAP_MS 200

static const gchar *const idle_args[] = { "--nova-port", "0",
  "--nova-input-timeout-ms", STALL_LIMIT_MS, NULL
};

static GstElement *
make_pipeline (const gchar * src, ItEmu * emu)
{
  GError *err = NULL;
  gchar *ca = it_cert_path ("ca.pem");
  gchar *desc = g_strdup_printf ("%s ! "
      "s2snova name=s2s url=%s ssl-ca-file=\"%s\" region=us-east-1 "
      "access-key-id=AKIDEXAMPLE secret-access-key=%s silence-duration=1500 "
      "connect-timeout=20000 ! fakesink name=sink sync=false", src,
      emu->nova_url, ca, SECRET);
  GstElement *p = gst_parse_launch (desc, &err);

  fail_unless (p != NULL && err == NULL, "%s: %s", desc,
      err ? err->message : "?");
  g_free (desc);
  g_free (ca);
  return p;
}

#define APPSRC "appsrc name=src is-live=true format=time do-timestamp=true " \
  "caps=\"audio/x-raw,format=S16LE,layout=interleaved,rate=16000," \
  "channels=1\""

static gboolean
until_ready (GstElement * pipeline, GstMessage * msg, gpointer data)
{
  const GstStructure *s = gst_message_get_structure (msg);

  return !(GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ELEMENT && s &&
      gst_structure_has_name (s, "s2s-session") &&
      !g_strcmp0 (gst_structure_get_string (s, "state"), "ready"));
}

/* PLAYING until the session is ready (slow under ASan: the phases of a
 * test start from there) */
static void
run_until_ready (GstElement * p, GPtrArray * msgs)
{
  GstMessage *m = it_run (p, RUN_TIMEOUT_MS, msgs, until_ready, NULL);

  fail_unless (m == NULL || GST_MESSAGE_TYPE (m) == GST_MESSAGE_ELEMENT,
      "no session");
  if (m)
    gst_message_unref (m);
  fail_unless (it_msgs_count (msgs, "s2s-session", "state", "ready") == 1);
}

typedef struct
{
  GstElement *src;
  GBytes *speech;
  gint64 start;
  guint64 pushed_ms;
} Pusher;

/* @ms of @pcm (NULL: quiet, 1 LSB) in PUSH_MS buffers at the wall-clock
 * rate. Real input never holds an all-zero buffer (zeros become 1 LSB),
 * so the emulator log tells it from the element's digital silence. */
static void
push_paced (Pusher * pu, const guint8 * pcm, gsize len)
{
  gsize off;

  for (off = 0; off < len; off += PUSH_MS * BYTES_PER_MS) {
    gsize n = MIN (len - off, PUSH_MS * BYTES_PER_MS), i;
    GstBuffer *buf = gst_buffer_new_allocate (NULL, n, NULL);
    GstMapInfo map;
    gint64 due = pu->start + pu->pushed_ms * 1000;
    GstFlowReturn ret;

    gst_buffer_map (buf, &map, GST_MAP_WRITE);
    for (i = 0; i + 1 < n; i += 2) {
      gint16 v = pcm ? (gint16) GST_READ_UINT16_LE (pcm + off + i) : 1;
      GST_WRITE_UINT16_LE (map.data + i, v == 0 ? 1 : v);
    }
    gst_buffer_unmap (buf, &map);
    if (due > g_get_monotonic_time ())
      g_usleep (due - g_get_monotonic_time ());
    g_signal_emit_by_name (pu->src, "push-buffer", buf, &ret);
    gst_buffer_unref (buf);
    pu->pushed_ms += n / BYTES_PER_MS;
    if (ret != GST_FLOW_OK)
      return;
  }
}

static gpointer
pusher_thread (gpointer data)
{
  Pusher *pu = data;
  gsize speech_len;
  const guint8 *speech = g_bytes_get_data (pu->speech, &speech_len);
  GstFlowReturn ret;

  pu->start = g_get_monotonic_time ();
  push_paced (pu, NULL, 300 * BYTES_PER_MS);
  /* the source stalls, longer than the emulator's limit */
  pu->pushed_ms += PAUSE_MS;
  push_paced (pu, speech, speech_len);
  push_paced (pu, NULL, 2500 * BYTES_PER_MS);
  g_signal_emit_by_name (pu->src, "end-of-stream", &ret);
  return NULL;
}

typedef struct
{
  gint64 t_ms;
  gint64 bytes;
  gboolean silence;             /* all samples 0: the element's keep-alive */
} AudioEv;

/* The audioInput events of connection 1, in order */
static GArray *
audio_events (ItEmu * emu)
{
  GPtrArray *log = it_emu_log (emu);
  GArray *evs = g_array_new (FALSE, FALSE, sizeof (AudioEv));
  guint i;

  for (i = 0; i < log->len; i++) {
    JsonObject *line = g_ptr_array_index (log, i), *ev, *inner, *ai;
    AudioEv a;

    if (g_strcmp0 (it_log_dir (line), "client") ||
        json_object_get_int_member_with_default (line, "conn", 0) != 1 ||
        !(ev = it_log_event (line)) || !json_object_has_member (ev, "event"))
      continue;
    inner = json_object_get_object_member (ev, "event");
    if (!inner || !json_object_has_member (inner, "audioInput"))
      continue;
    ai = json_object_get_object_member (inner, "audioInput");
    a.t_ms = json_object_get_int_member (line, "t_ms");
    a.bytes = json_object_get_int_member (ai, "content_bytes");
    a.silence = json_object_get_boolean_member_with_default (ai,
        "digital_silence", FALSE);
    g_array_append_val (evs, a);
  }
  g_ptr_array_unref (log);
  return evs;
}

/* The source stops pushing for 3 s, three times the emulator's stall
 * limit: the element fills the gap with real-time silence, the session
 * survives and answers the speech that follows, and the silence stops as
 * soon as the input resumes */
GST_START_TEST (test_source_stall)
{
  ItEmu *emu = it_emu_start_full (NULL, TRUE, idle_args);
  gchar *wav = it_audio_path ("q1-weather-16k.wav");
  GstElement *p = make_pipeline (APPSRC, emu);
  GPtrArray *msgs = it_msgs_new ();
  Pusher pu = { 0, };
  GThread *thread;
  GstMessage *m;
  GArray *evs;
  guint i, run_start = 0, run_end = 0, best = 0, last;
  gint64 silence_bytes = 0, span, real_bytes = 0, late_silence = 0, t0, t1;
  gdouble rate;
  gchar *assistant = NULL;

  pu.src = gst_bin_get_by_name (GST_BIN (p), "src");
  pu.speech = it_wav_read_pcm (wav, 16000);
  run_until_ready (p, msgs);
  thread = g_thread_new ("pusher", pusher_thread, &pu);
  m = it_run (p, RUN_TIMEOUT_MS, msgs, NULL, NULL);
  g_thread_join (thread);
  fail_unless (m != NULL, "timed out");
  if (GST_MESSAGE_TYPE (m) == GST_MESSAGE_ERROR) {
    GError *e = NULL;
    gchar *dbg = NULL;
    gst_message_parse_error (m, &e, &dbg);
    fail ("ERROR: %s (%s)", e->message, dbg);
  }
  it_assert_eos (m);
  gst_message_unref (m);
  it_pipeline_stop (p);

  /* the session survived the stall and answered */
  fail_unless (it_msgs_find_type (msgs, GST_MESSAGE_WARNING, NULL) == NULL,
      "a WARNING: the stream did not survive the stall");
  it_final_transcripts (msgs, "assistant", &assistant);
  fail_unless (assistant && g_str_has_prefix (assistant, "You said: turn 1"),
      "assistant %s", GST_STR_NULL (assistant));
  g_free (assistant);
  {
    GPtrArray *log = it_emu_log (emu);
    fail_unless_equals_int (it_log_count (log, "conn", "open"), 1);
    for (i = 0; i < log->len; i++)
      fail_if (json_object_has_member (g_ptr_array_index (log, i),
              "exception"), "the emulator sent an exception");
    g_ptr_array_unref (log);
  }

  /* the stall: the longest run of silence events between real input */
  evs = audio_events (emu);
  for (i = 0; i < evs->len; i++) {
    guint j = i;
    if (!g_array_index (evs, AudioEv, i).silence)
      continue;
    while (j < evs->len && g_array_index (evs, AudioEv, j).silence)
      j++;
    if (i > 0 && j < evs->len && j - i > best) {
      best = j - i;
      run_start = i;
      run_end = j;
    }
    i = j;
  }
  fail_unless (best > 0, "no silence between the real input");
  for (i = run_start; i < run_end; i++)
    silence_bytes += g_array_index (evs, AudioEv, i).bytes;
  t0 = g_array_index (evs, AudioEv, run_start - 1).t_ms;
  t1 = g_array_index (evs, AudioEv, run_end).t_ms;
  span = t1 - t0;
  rate = (gdouble) silence_bytes / (span - GAP_MS);
  GST_INFO ("stall of %" G_GINT64_FORMAT " ms: %" G_GINT64_FORMAT " bytes "
      "of silence in %u events, %.1f bytes/ms", span, silence_bytes, best,
      rate);
  fail_unless (span > PAUSE_MS - 500 && span < PAUSE_MS + 1500,
      "stall of %" G_GINT64_FORMAT " ms", span);
  /* real time, within 15 % */
  fail_unless (rate > BYTES_PER_MS * 0.85 && rate < BYTES_PER_MS * 1.15,
      "%.1f bytes/ms of silence over %" G_GINT64_FORMAT " ms", rate, span);

  /* input resumed: the speech and the quiet after it, up to the last of
   * it (the input EOS padding and the keep-alive follow): silence stops,
   * no doubled rate */
  last = evs->len - 1;
  while (last > run_end && g_array_index (evs, AudioEv, last).silence)
    last--;
  for (i = run_end; i <= last; i++) {
    AudioEv *a = &g_array_index (evs, AudioEv, i);
    if (a->silence)
      late_silence += a->bytes;
    else
      real_bytes += a->bytes;
    t0 = a->t_ms;
  }
  span = t0 - t1;
  rate = (gdouble) (real_bytes + late_silence) / span;
  GST_INFO ("after the stall: %" G_GINT64_FORMAT " bytes of input, %"
      G_GINT64_FORMAT " of silence in %" G_GINT64_FORMAT " ms, %.1f "
      "bytes/ms", real_bytes, late_silence, span, rate);
  fail_unless (late_silence <= real_bytes / 20, "%" G_GINT64_FORMAT
      " bytes of silence while %" G_GINT64_FORMAT " of input flowed",
      late_silence, real_bytes);
  fail_unless (rate < BYTES_PER_MS * 1.2, "%.1f bytes/ms", rate);
  g_array_unref (evs);

  gst_object_unref (pu.src);
  g_bytes_unref (pu.speech);
  g_ptr_array_unref (msgs);
  g_free (wav);
  it_emu_stop (emu);
}

GST_END_TEST;

static gboolean
until_done (GstElement * pipeline, GstMessage * msg, gpointer data)
{
  const GstStructure *s = gst_message_get_structure (msg);

  return !(GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ELEMENT && s &&
      gst_structure_has_name (s, "s2s-response") &&
      !g_strcmp0 (gst_structure_get_string (s, "event"), "done"));
}

/* The user types; the reply ends without an ERROR */
static void
send_text_until_done (GstElement * p, GstElement * s2s, GPtrArray * msgs)
{
  gboolean ok = FALSE;
  GstMessage *m;

  g_signal_emit_by_name (s2s, "send-text", "hello there", TRUE, &ok);
  fail_unless (ok, "no session");
  m = it_run (p, RUN_TIMEOUT_MS, msgs, until_done, NULL);
  fail_unless (m == NULL || GST_MESSAGE_TYPE (m) != GST_MESSAGE_ERROR,
      "an ERROR");
  if (m)
    gst_message_unref (m);
  fail_unless_equals_int (it_msgs_count (msgs, "s2s-response", "event",
          "done"), 1);
}

/* Text only (Nova 2 cross-modal): no input audio at all, the user types
 * after a wait longer than the stall limit; silence keeps the audio block
 * fed and the typed turn is answered */
GST_START_TEST (test_text_only)
{
  ItEmu *emu = it_emu_start_full (NULL, TRUE, idle_args);
  GstElement *p = make_pipeline (APPSRC, emu);
  GstElement *s2s = gst_bin_get_by_name (GST_BIN (p), "s2s");
  GPtrArray *msgs = it_msgs_new ();
  GArray *evs;
  gint64 bytes = 0, t0, t1;
  guint i;
  gdouble rate;

  run_until_ready (p, msgs);
  g_usleep (2500 * 1000);
  send_text_until_done (p, s2s, msgs);
  fail_unless (it_msgs_find_type (msgs, GST_MESSAGE_WARNING, NULL) == NULL);
  it_pipeline_stop (p);

  evs = audio_events (emu);
  fail_unless (evs->len > 10, "%u audio events", evs->len);
  for (i = 0; i < evs->len; i++) {
    fail_unless (g_array_index (evs, AudioEv, i).silence);
    bytes += g_array_index (evs, AudioEv, i).bytes;
  }
  t0 = g_array_index (evs, AudioEv, 0).t_ms;
  t1 = g_array_index (evs, AudioEv, evs->len - 1).t_ms;
  rate = (gdouble) bytes / (t1 - t0 + 32);
  GST_INFO ("text only: %" G_GINT64_FORMAT " bytes of silence in %"
      G_GINT64_FORMAT " ms, %.1f bytes/ms", bytes, t1 - t0, rate);
  fail_unless (t1 - t0 > 1500, "%" G_GINT64_FORMAT " ms", t1 - t0);
  fail_unless (rate > BYTES_PER_MS * 0.85 && rate < BYTES_PER_MS * 1.15,
      "%.1f bytes/ms", rate);
  g_array_unref (evs);
  gst_object_unref (s2s);
  g_ptr_array_unref (msgs);
  it_emu_stop (emu);
}

GST_END_TEST;

/* The emulator stops reading for @pause_ms at the first audio; a minute
 * of audio is queued: the pipeline, PLAYING, 100 ms into the pause */
static GstElement *
start_while_paused (ItEmu * emu)
{
  /* buffers without timestamps are not paced: a minute of audio goes out
   * at once, more than the socket buffers take */
  GstElement *p = make_pipeline ("appsrc name=src format=time "
      "caps=\"audio/x-raw,format=S16LE,layout=interleaved,rate=16000,"
      "channels=1\"", emu);
  GstElement *src = gst_bin_get_by_name (GST_BIN (p), "src");
  guint i;

  gst_element_set_state (p, GST_STATE_PLAYING);
  /* one second first: the emulator stops reading at the first audioInput */
  for (i = 0; i < 61; i++) {
    GstBuffer *buf = gst_buffer_new_allocate (NULL, 1000 * BYTES_PER_MS, NULL);
    GstFlowReturn ret;

    gst_buffer_memset (buf, 0, 1, 1000 * BYTES_PER_MS);
    g_signal_emit_by_name (src, "push-buffer", buf, &ret);
    gst_buffer_unref (buf);
    if (i == 0)
      fail_unless (it_emu_wait_log (emu, "conn", "read-pause", 60000));
  }
  gst_object_unref (src);
  g_usleep (100 * 1000);
  return p;
}

/* start_while_paused, then stop: how long the stop took, in ms */
static gint64
stop_while_paused (ItEmu * emu)
{
  GstElement *p = start_while_paused (emu);
  gint64 t;

  t = g_get_monotonic_time ();
  fail_unless (gst_element_set_state (p, GST_STATE_NULL) ==
      GST_STATE_CHANGE_SUCCESS);
  t = (g_get_monotonic_time () - t) / 1000;
  gst_object_unref (p);
  return t;
}

/* Stop while the socket cannot take the writes (the emulator stops reading
 * for 500 ms): the closing events and the signed end frame still reach it
 * before the stream is reset */
GST_START_TEST (test_stop_flushes_end)
{
  const gchar *args[] = { "--nova-port", "0", "--nova-read-pause-ms", "500",
    NULL
  };
  ItEmu *emu = it_emu_start_full (NULL, TRUE, args);
  gint64 ms = stop_while_paused (emu);
  GPtrArray *log;
  gint ended;

  GST_INFO ("stop took %" G_GINT64_FORMAT " ms", ms);
  fail_unless (it_emu_wait_log (emu, "conn", "input-end", 5000),
      "no signed end frame");
  log = it_emu_log (emu);
  ended = it_log_find (log, 0, "conn", "input-end");
  fail_unless (it_log_find (log, 0, "conn", "client-end-stream") > ended);
  fail_unless_equals_int (it_log_count (log, "conn", "bad-event-signature"), 0);
  g_ptr_array_unref (log);
  it_emu_stop (emu);
}

GST_END_TEST;

/* A server that does not read for 20 s: the stop still ends after the
 * flush bound (1 s), not after the pause */
GST_START_TEST (test_stop_bounded)
{
  const gchar *args[] = { "--nova-port", "0", "--nova-read-pause-ms",
    "20000", NULL
  };
  ItEmu *emu = it_emu_start_full (NULL, TRUE, args);
  gint64 ms = stop_while_paused (emu);

  GST_INFO ("stop took %" G_GINT64_FORMAT " ms", ms);
  /* the bound plus the rest of the teardown, generous for ASan on a
   * loaded machine, far below the pause */
  fail_unless (ms >= 900 && ms < 8000, "stop took %" G_GINT64_FORMAT " ms", ms);
  it_emu_stop (emu);
}

GST_END_TEST;

/* Two elements on the one I/O thread (GST_S2S_IO_THREADS=1, see main):
 * one stops while its server does not read, so its closing flush takes the
 * whole bound (1 s); the other goes on meanwhile, its keep-alive silence
 * without a gap (a flush blocking the thread would leave one of ~1 s), and
 * answers a typed turn */
GST_START_TEST (test_stop_leaves_others_running)
{
  const gchar *paused[] = { "--nova-port", "0", "--nova-read-pause-ms",
    "20000", NULL
  };
  ItEmu *emu_a = it_emu_start_full (NULL, TRUE, paused);
  ItEmu *emu_b = it_emu_start_full (NULL, TRUE, idle_args);
  GstElement *pb = make_pipeline (APPSRC, emu_b), *pa;
  GstElement *s2s = gst_bin_get_by_name (GST_BIN (pb), "s2s");
  GPtrArray *msgs = it_msgs_new ();
  GArray *evs;
  gint64 ms, gap = 0;
  guint i;

  run_until_ready (pb, msgs);
  pa = start_while_paused (emu_a);
  fail_unless_equals_int (it_wait_threads ("s2s-io", 1, 2000), 1);
  g_usleep (300 * 1000);
  ms = g_get_monotonic_time ();
  fail_unless (gst_element_set_state (pa, GST_STATE_NULL) ==
      GST_STATE_CHANGE_SUCCESS);
  ms = (g_get_monotonic_time () - ms) / 1000;
  gst_object_unref (pa);
  GST_INFO ("the other element's stop took %" G_GINT64_FORMAT " ms", ms);
  /* it waited for its flush, bounded */
  fail_unless (ms >= 900 && ms < 8000, "stop took %" G_GINT64_FORMAT " ms", ms);

  send_text_until_done (pb, s2s, msgs);
  it_pipeline_stop (pb);
  /* the thread may end by itself, not joined: 1 was seen here at load 19
   * (2026-12-03) */
  fail_unless_equals_int (it_wait_threads ("s2s-io", 0, 2000), 0);

  evs = audio_events (emu_b);
  fail_unless (evs->len > 10, "%u audio events", evs->len);
  for (i = 1; i < evs->len; i++)
    gap = MAX (gap, g_array_index (evs, AudioEv, i).t_ms -
        g_array_index (evs, AudioEv, i - 1).t_ms);
  GST_INFO ("longest gap between keep-alive events: %" G_GINT64_FORMAT " ms",
      gap);
  fail_unless (gap < 600, "the keep-alive stalled %" G_GINT64_FORMAT " ms "
      "while the other element stopped", gap);
  g_array_unref (evs);
  gst_object_unref (s2s);
  g_ptr_array_unref (msgs);
  it_emu_stop (emu_a);
  it_emu_stop (emu_b);
}

GST_END_TEST;

static Suite *
nova_idle_suite (void)
{
  Suite *s = suite_create ("nova-idle");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_set_timeout (tc, 120);
  tcase_add_test (tc, test_source_stall);
  tcase_add_test (tc, test_text_only);
  tcase_add_test (tc, test_stop_flushes_end);
  tcase_add_test (tc, test_stop_bounded);
  tcase_add_test (tc, test_stop_leaves_others_running);
  return s;
}

int
main (int argc, char **argv)
{
  /* one I/O thread for all: test_stop_leaves_others_running puts two
   * elements on it (read once, at the first element's start) */
  g_setenv ("GST_S2S_IO_THREADS", "1", FALSE);
  gst_check_init (&argc, &argv);
  return gst_check_run_suite (nova_idle_suite (), "nova_idle", __FILE__);
}
