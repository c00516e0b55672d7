/* gst-s2s integration tests: s2sgemini against the emulator's Gemini Live
 * dialect (spoken turn, two turns, barge-in, errors by close code)
 * Copyright (C) 2026 gst-s2s developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The secrets and documentation checks run for s2sgemini through
 * test-secrets-docs (integration-gemini-secrets-docs); session renewal has
 * its own, longer program (test-gemini-renewal).
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <string.h>
#include <gst/check/gstcheck.h>

#include "emu-helper.h"

#define IN_RATE 16000
#define OUT_RATE 24000
#define RUN_TIMEOUT_MS 40000

static GstElement *
make_pipeline (const gchar * wav, const gchar * url, const gchar * sync)
{
  GError *err = NULL;
  gchar *desc = g_strdup_printf ("filesrc location=\"%s\" ! wavparse ! "
      "s2sgemini name=s2s api-key=test-key url=%s transcribe-input=true ! "
      "fakesink name=sink sync=%s", wav, url, sync);
  GstElement *p = gst_parse_launch (desc, &err);

  fail_unless (p != NULL && err == NULL, "%s: %s", desc,
      err ? err->message : "?");
  g_free (desc);
  return p;
}

static guint
stat_uint (GstElement * p, const gchar * field)
{
  GstElement *s2s = gst_bin_get_by_name (GST_BIN (p), "s2s");
  GstStructure *stats = NULL;
  guint v = 0;

  g_object_get (s2s, "stats", &stats, NULL);
  fail_unless (gst_structure_get_uint (stats, field, &v));
  gst_structure_free (stats);
  gst_object_unref (s2s);
  return v;
}

/* The emulator got the file's samples, exactly, first on connection 1 */
static void
assert_input_reached (ItEmu * emu, const gchar * wav)
{
  GBytes *file = it_wav_read_pcm (wav, IN_RATE), *raw = it_emu_in_raw (emu, 1);
  gsize flen, rlen;
  const guint8 *f = g_bytes_get_data (file, &flen);
  const guint8 *r = g_bytes_get_data (raw, &rlen);

  fail_unless (rlen >= flen, "the emulator got %" G_GSIZE_FORMAT " of %"
      G_GSIZE_FORMAT " bytes", rlen, flen);
  fail_unless (memcmp (f, r, flen) == 0, "input samples differ");
  g_bytes_unref (file);
  g_bytes_unref (raw);
}

GST_START_TEST (test_spoken_turn)
{
  ItEmu *emu = it_emu_start (NULL);
  gchar *wav = it_audio_path ("q1-weather-16k.wav");
  GstElement *p = make_pipeline (wav, emu->url, "false");
  ItSink *sink = it_sink_attach (p, "sink");
  GPtrArray *msgs = it_msgs_new (), *log;
  gchar *user = NULL, *assistant = NULL;
  gint i_start, i_first, i_done;

  it_assert_eos (it_run (p, RUN_TIMEOUT_MS, msgs, NULL, NULL));
  fail_unless_equals_int (it_final_transcripts (msgs, "user", &user), 1);
  fail_unless_equals_int (it_final_transcripts (msgs, "assistant",
          &assistant), 1);
  fail_unless (g_str_has_prefix (user, "turn 1,"), "%s", user);
  fail_unless (g_str_has_prefix (assistant, "echo of turn 1; first turn: "
          "turn 1,"), "%s", assistant);
  i_start = it_msgs_find (msgs, 0, "s2s-response", "event", "started");
  i_first = it_msgs_find (msgs, i_start, "s2s-response", "event",
      "first-audio");
  i_done = it_msgs_find (msgs, i_first, "s2s-response", "event", "done");
  fail_unless (i_start >= 0 && i_first > i_start && i_done > i_first);
  fail_unless (it_msgs_find (msgs, 0, "s2s-usage", NULL, NULL) >= 0);

  /* the echo: about as long as the question (2.55 s), contiguous */
  fail_unless (sink->data->len > OUT_RATE * 2 * 2, "%u bytes of reply",
      sink->data->len);
  it_assert_contiguous (sink, OUT_RATE, 0, sink->bufs->len - 1);
  assert_input_reached (emu, wav);

  /* binary frames from the server, setup first from the client */
  log = it_emu_log (emu);
  fail_unless_equals_int (it_log_find (log, 0, "client", NULL),
      it_log_find (log, 0, "client", "setup"));
  fail_unless_equals_int (it_log_count (log, "client", "setup"), 1);
  g_ptr_array_unref (log);

  g_free (user);
  g_free (assistant);
  g_ptr_array_unref (msgs);
  it_sink_free (sink);
  it_pipeline_stop (p);
  g_free (wav);
  it_emu_stop (emu);
}

GST_END_TEST;

GST_START_TEST (test_two_turns)
{
  ItEmu *emu = it_emu_start (NULL);
  gchar *wav = it_audio_path ("two-turns-16k.wav");
  GstElement *p = make_pipeline (wav, emu->url, "false");
  GPtrArray *msgs = it_msgs_new ();
  gchar *assistant = NULL;

  it_assert_eos (it_run (p, RUN_TIMEOUT_MS, msgs, NULL, NULL));
  fail_unless_equals_int (it_final_transcripts (msgs, "assistant",
          &assistant), 2);
  /* the second reply still knows the first turn */
  fail_unless (g_str_has_prefix (assistant, "echo of turn 2; first turn: "
          "turn 1,"), "%s", assistant);
  fail_unless_equals_int (stat_uint (p, "turns"), 2);
  assert_input_reached (emu, wav);

  g_free (assistant);
  g_ptr_array_unref (msgs);
  it_pipeline_stop (p);
  g_free (wav);
  it_emu_stop (emu);
}

GST_END_TEST;

/* q2 (a long question, so a long echo) then q1 while the echo plays, paced
 * in real time: the emulator interrupts, the element drops the rest */
GST_START_TEST (test_barge_in)
{
  const gchar *extra[] = { "--pace-audio", NULL };
  ItEmu *emu = it_emu_start_full (NULL, FALSE, extra);
  gchar *q1 = it_audio_path ("q1-weather-16k.wav");
  gchar *q2 = it_audio_path ("q2-interrupt-16k.wav");
  GBytes *b1 = it_wav_read_pcm (q1, IN_RATE), *b2 = it_wav_read_pcm (q2,
      IN_RATE);
  GByteArray *input = g_byte_array_new ();
  gchar *tmp = it_tmpdir_new (), *wav;
  const guint8 *d;
  gsize n, gap = IN_RATE * 2 * 3 / 2;   /* 1.5 s: the echo has begun */
  GstElement *p;
  GPtrArray *msgs = it_msgs_new ();
  GstMessage *m;
  const GstStructure *s;
  GstClockTime played = 0, received = 0;
  gint i;

  d = g_bytes_get_data (b2, &n);
  g_byte_array_append (input, d, n);
  g_byte_array_set_size (input, n + gap);
  memset (input->data + n, 0, gap);
  d = g_bytes_get_data (b1, &n);
  g_byte_array_append (input, d, n);
  wav = it_wav_write (tmp, "q2-q1.wav", input->data, input->len, IN_RATE);
  p = make_pipeline (wav, emu->url, "true");

  m = it_run (p, 30000, msgs, it_until_interrupted, NULL);
  fail_unless (m == NULL, "the pipeline ended before the barge-in");
  i = it_msgs_find (msgs, 0, "s2s-response", "event", "interrupted");
  fail_unless (i >= 0, "no s2s-response interrupted");
  s = it_msgs_get (msgs, i);
  fail_unless (gst_structure_get_uint64 (s, "played-duration", &played));
  fail_unless (gst_structure_get_uint64 (s, "audio-duration", &received));
  fail_unless (played <= received);
  fail_unless (it_msgs_find (msgs, 0, "s2s-speech", "event", "started") >= 0);
  fail_unless_equals_int (stat_uint (p, "interruptions"), 1);

  g_ptr_array_unref (msgs);
  it_pipeline_stop (p);
  g_byte_array_unref (input);
  g_bytes_unref (b1);
  g_bytes_unref (b2);
  it_tmpdir_remove (tmp);
  g_free (tmp);
  g_free (wav);
  g_free (q1);
  g_free (q2);
  it_emu_stop (emu);
}

GST_END_TEST;

/* A close code from the emulator right after setupComplete becomes an
 * ERROR with the contract's code, the close code and Google's reason */
static void
check_close (gushort code, const gchar * reason, const gchar * want)
{
  gchar *script = g_strdup_printf ("{\"faults\":[{\"connection\":1,"
      "\"after_server_event\":\"setupComplete\",\"action\":{\"close\":%u%s%s%s"
      "}}]}", code, reason ? ",\"reason\":\"" : "", reason ? reason : "",
      reason ? "\"" : "");
  ItEmu *emu = it_emu_start (script);
  gchar *wav = it_audio_path ("q1-weather-16k.wav");
  GstElement *p = make_pipeline (wav, emu->url, "false");
  GPtrArray *msgs = it_msgs_new ();
  GstMessage *m = it_run (p, RUN_TIMEOUT_MS, msgs, NULL, NULL);
  const GstStructure *d = NULL;
  GError *err = NULL;
  guint cc = 0;

  fail_unless (m != NULL && GST_MESSAGE_TYPE (m) == GST_MESSAGE_ERROR,
      "no ERROR on close %u", code);
  gst_message_parse_error (m, &err, NULL);
  gst_message_parse_error_details (m, &d);
  fail_unless (d != NULL);
  fail_unless_equals_string (gst_structure_get_string (d, "code"), want);
  fail_unless_equals_string (gst_structure_get_string (d, "provider"),
      "gemini");
  fail_unless (gst_structure_get_uint (d, "close-code", &cc));
  fail_unless_equals_int (cc, code);
  fail_unless (gst_structure_get_string (d, "provider-message") != NULL);
  g_clear_error (&err);
  gst_message_unref (m);
  g_ptr_array_unref (msgs);
  it_pipeline_stop (p);
  g_free (wav);
  g_free (script);
  it_emu_stop (emu);
}

GST_START_TEST (test_errors_by_code)
{
  check_close (1007, NULL, "invalid-request");
  check_close (1008, NULL, "invalid-request");
  check_close (1011, NULL, "server-error");
  check_close (1011, "Resource has been exhausted (e.g. check quota).",
      "quota");
}

GST_END_TEST;

/* The connection drops after the first turn's resumption handle: the
 * element resumes on a new connection and the second turn still knows the
 * first; no input sample arrives twice */
GST_START_TEST (test_reconnect_after_drop)
{
  ItEmu *emu = it_emu_start ("{\"faults\":[{\"connection\":1,"
      "\"after_server_event\":\"sessionResumptionUpdate\","
      "\"action\":\"drop\"}]}");
  gchar *wav = it_audio_path ("two-turns-16k.wav");
  GstElement *p = make_pipeline (wav, emu->url, "false");
  GPtrArray *msgs = it_msgs_new ();
  GBytes *file = it_wav_read_pcm (wav, IN_RATE), *r1, *r2;
  GByteArray *got = g_byte_array_new ();
  gchar *assistant = NULL;
  const guint8 *f;
  gsize flen, n;
  const guint8 *d;

  it_assert_eos (it_run (p, RUN_TIMEOUT_MS, msgs, NULL, NULL));
  fail_unless (it_msgs_find (msgs, 0, "s2s-session", "state",
          "reconnecting") >= 0, "no s2s-session reconnecting");
  fail_unless (it_msgs_find_type (msgs, GST_MESSAGE_WARNING, NULL) != NULL);
  fail_unless_equals_int (stat_uint (p, "reconnects"), 1);
  fail_unless_equals_int (it_final_transcripts (msgs, "assistant",
          &assistant), 2);
  fail_unless (g_str_has_prefix (assistant, "echo of turn 2; first turn: "
          "turn 1,"), "%s", assistant);

  /* connection 1 then 2: the file in order, nothing twice */
  r1 = it_emu_in_raw (emu, 1);
  r2 = it_emu_in_raw (emu, 2);
  d = g_bytes_get_data (r1, &n);
  g_byte_array_append (got, d, n);
  d = g_bytes_get_data (r2, &n);
  g_byte_array_append (got, d, n);
  f = g_bytes_get_data (file, &flen);
  fail_unless (got->len >= flen, "%u of %" G_GSIZE_FORMAT " bytes arrived",
      got->len, flen);
  fail_unless (memcmp (got->data, f, flen) == 0,
      "input lost or repeated across the reconnect");

  g_bytes_unref (r1);
  g_bytes_unref (r2);
  g_bytes_unref (file);
  g_byte_array_unref (got);
  g_free (assistant);
  g_ptr_array_unref (msgs);
  it_pipeline_stop (p);
  g_free (wav);
  it_emu_stop (emu);
}

GST_END_TEST;

static Suite *
s2s_gemini_suite (void)
{
  Suite *s = suite_create ("s2s-integration-gemini");
  TCase *tc = tcase_create ("gemini");

  suite_add_tcase (s, tc);
  tcase_set_timeout (tc, 90);
  tcase_add_test (tc, test_spoken_turn);
  tcase_add_test (tc, test_two_turns);
  tcase_add_test (tc, test_barge_in);
  tcase_add_test (tc, test_errors_by_code);
  tcase_add_test (tc, test_reconnect_after_drop);
  return s;
}

GST_CHECK_MAIN (s2s_gemini);
