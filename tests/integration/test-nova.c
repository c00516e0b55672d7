/* gst-s2s integration tests: s2snova against the emulator's Nova dialect
 * (HTTP/2 over TLS, SigV4 request and event signatures checked by the
 * emulator)
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

#define RUN_TIMEOUT_MS 40000
#define SECRET "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"

static const gchar *const nova_args[] = { "--nova-port", "0", NULL };

static GstElement *
make_pipeline (const gchar * wav, ItEmu * emu, const gchar * secret)
{
  GError *err = NULL;
  gchar *ca = it_cert_path ("ca.pem");
  gchar *desc = g_strdup_printf ("filesrc location=\"%s\" ! wavparse ! "
      "s2snova name=s2s url=%s ssl-ca-file=\"%s\" region=us-east-1 "
      "access-key-id=AKIDEXAMPLE secret-access-key=%s silence-duration=1500 ! "
      "fakesink name=sink sync=false signal-handoffs=true", wav,
      emu->nova_url, ca, secret);
  GstElement *p = gst_parse_launch (desc, &err);

  fail_unless (p != NULL && err == NULL, "%s: %s", desc,
      err ? err->message : "?");
  g_free (desc);
  g_free (ca);
  return p;
}

static const gchar *
final_text (GPtrArray * msgs, const gchar * role)
{
  const gchar *text = NULL;
  guint i;

  for (i = 0; i < msgs->len; i++) {
    const GstStructure *s = gst_message_get_structure (g_ptr_array_index (msgs,
            i));
    gboolean final = FALSE;

    if (s && gst_structure_has_name (s, "s2s-transcript") &&
        !g_strcmp0 (gst_structure_get_string (s, "role"), role) &&
        gst_structure_get_boolean (s, "final", &final) && final)
      text = gst_structure_get_string (s, "text");
  }
  return text;
}

/* A spoken turn over TLS: every input sample reaches the emulator through
 * signed events, the echo comes back at 24 kHz with both transcripts */
GST_START_TEST (test_spoken_turn)
{
  ItEmu *emu = it_emu_start_full (NULL, TRUE, nova_args);
  gchar *wav = it_audio_path ("q1-weather-16k.wav");
  GstElement *p = make_pipeline (wav, emu, SECRET);
  ItSink *sink = it_sink_attach (p, "sink");
  GPtrArray *msgs = it_msgs_new (), *log;
  GstMessage *m;
  GBytes *file_pcm, *raw;
  gsize file_len, raw_len;
  const gchar *user, *assistant;
  guint ms;
  gchar *expect;

  fail_unless (g_str_has_prefix (emu->nova_url, "https://"));
  m = it_run (p, RUN_TIMEOUT_MS, msgs, NULL, NULL);
  fail_unless (m != NULL, "timed out");
  if (GST_MESSAGE_TYPE (m) == GST_MESSAGE_ERROR) {
    GError *e = NULL;
    gchar *dbg = NULL;
    gst_message_parse_error (m, &e, &dbg);
    fail ("ERROR: %s (%s)", e->message, dbg);
  }
  fail_unless_equals_int (GST_MESSAGE_TYPE (m), GST_MESSAGE_EOS);
  gst_message_unref (m);
  it_pipeline_stop (p);

  user = final_text (msgs, "user");
  fail_unless (user != NULL && sscanf (user, "turn 1, %u ms", &ms) == 1,
      "user transcript %s", GST_STR_NULL (user));
  fail_unless (ms > 1500);
  assistant = final_text (msgs, "assistant");
  expect = g_strdup_printf ("You said: %s", user);
  fail_unless_equals_string (assistant, expect);
  g_free (expect);
  fail_unless_equals_int (it_msgs_count (msgs, "s2s-response", "event",
          "done"), 1);
  /* the echo: N ms of 16 kHz speech come back as N ms at 24 kHz */
  fail_unless_equals_int (sink->data->len, ms * 48);

  /* every input sample, in order, through signed events */
  log = it_emu_log (emu);
  fail_unless_equals_int (it_log_count (log, "conn", "bad-signature"), 0);
  fail_unless_equals_int (it_log_count (log, "conn", "bad-event-signature"), 0);
  fail_unless (it_log_find (log, 0, "conn", "input-end") >= 0,
      "no signed end frame");
  g_ptr_array_unref (log);
  file_pcm = it_wav_read_pcm (wav, 16000);
  raw = it_emu_in_raw (emu, 1);
  g_bytes_get_data (file_pcm, &file_len);
  g_bytes_get_data (raw, &raw_len);
  /* the raw log has whole 10 ms frames */
  fail_unless (raw_len >= file_len - 320, "%" G_GSIZE_FORMAT " of %"
      G_GSIZE_FORMAT " bytes arrived", raw_len, file_len);
  fail_unless (memcmp (g_bytes_get_data (raw, NULL),
          g_bytes_get_data (file_pcm, NULL), MIN (raw_len, file_len)) == 0);
  g_bytes_unref (raw);
  g_bytes_unref (file_pcm);

  it_sink_free (sink);
  g_ptr_array_unref (msgs);
  g_free (wav);
  it_emu_stop (emu);
}

GST_END_TEST;

/* A wrong secret: 403 InvalidSignatureException → authentication, and the
 * secret appears nowhere in the messages */
GST_START_TEST (test_wrong_secret)
{
  ItEmu *emu = it_emu_start_full (NULL, TRUE, nova_args);
  gchar *wav = it_audio_path ("q1-weather-16k.wav");
  GstElement *p = make_pipeline (wav, emu, "not-the-secret-XYZ");
  GPtrArray *msgs = it_msgs_new ();
  GstMessage *m;
  GError *e = NULL;
  gchar *dbg = NULL;
  const GstStructure *details = NULL;
  gboolean retryable = TRUE;
  guint i;

  m = it_run (p, RUN_TIMEOUT_MS, msgs, NULL, NULL);
  fail_unless (m != NULL && GST_MESSAGE_TYPE (m) == GST_MESSAGE_ERROR);
  gst_message_parse_error (m, &e, &dbg);
  gst_message_parse_error_details (m, &details);
  fail_unless (details && gst_structure_has_name (details, "s2s-error"));
  fail_unless_equals_string (gst_structure_get_string (details, "code"),
      "authentication");
  fail_unless_equals_string (gst_structure_get_string (details,
          "provider-code"), "InvalidSignatureException");
  fail_unless (gst_structure_get_boolean (details, "retryable", &retryable));
  fail_if (retryable);
  fail_if (strstr (dbg, "not-the-secret") != NULL);
  for (i = 0; i < msgs->len; i++) {
    gchar *s = gst_structure_to_string (gst_message_get_structure
        (g_ptr_array_index (msgs, i)) ? gst_message_get_structure
        (g_ptr_array_index (msgs, i)) : details);
    fail_if (strstr (s, "not-the-secret") != NULL, "secret in %s", s);
    g_free (s);
  }
  g_clear_error (&e);
  g_free (dbg);
  gst_message_unref (m);
  it_pipeline_stop (p);
  g_ptr_array_unref (msgs);
  g_free (wav);
  it_emu_stop (emu);
}

GST_END_TEST;

static Suite *
nova_suite (void)
{
  Suite *s = suite_create ("nova");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_set_timeout (tc, 120);
  tcase_add_test (tc, test_spoken_turn);
  tcase_add_test (tc, test_wrong_secret);
  return s;
}

GST_CHECK_MAIN (nova);
