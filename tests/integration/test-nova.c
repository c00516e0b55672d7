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

#ifdef HAVE_VALGRIND
#include <valgrind/valgrind.h>
#else
#define RUNNING_ON_VALGRIND 0
#endif

#define RUN_TIMEOUT_MS 40000
#define SECRET "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"

static const gchar *const nova_args[] = { "--nova-port", "0", NULL };

static GstElement *
make_pipeline (const gchar * wav, ItEmu * emu, const gchar * secret)
{
  GError *err = NULL;
  gchar *ca = it_cert_path ("ca.pem");
  /* TLS under valgrind is slow: a generous bound there */
  gchar *desc = g_strdup_printf ("filesrc location=\"%s\" ! wavparse ! "
      "s2snova name=s2s url=%s ssl-ca-file=\"%s\" region=us-east-1 "
      "access-key-id=AKIDEXAMPLE secret-access-key=%s silence-duration=1500 "
      "connect-timeout=%u ! "
      "fakesink name=sink sync=false signal-handoffs=true", wav,
      emu->nova_url, ca, secret, RUNNING_ON_VALGRIND ? 60000 : 10000);
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

  /* every input sample, in order, through signed events; the emulator may
   * log the end frame a moment after the pipeline stopped */
  fail_unless (it_emu_wait_log (emu, "conn", "input-end", 2000),
      "no signed end frame");
  log = it_emu_log (emu);
  fail_unless_equals_int (it_log_count (log, "conn", "bad-signature"), 0);
  fail_unless_equals_int (it_log_count (log, "conn", "bad-event-signature"), 0);
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

#define TOOLS_JSON "[{\"name\":\"book_table\",\"description\":\"Book a " \
  "restaurant table\",\"parameters\":{\"type\":\"object\",\"properties\":" \
  "{\"people\":{\"type\":\"integer\"},\"time\":{\"type\":\"string\"}}}}]"
#define TOOL_ARGS "{\"people\":2,\"time\":\"19:00\"}"
#define TOOL_OUTPUT "{\"ok\":true}"

static gboolean
answer_tool (GstElement * pipeline, GstMessage * msg, gpointer data)
{
  gchar **call_id = data;
  const GstStructure *s = gst_message_get_structure (msg);
  gboolean ret = FALSE;

  if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ELEMENT && s &&
      gst_structure_has_name (s, "s2s-tool-call")) {
    fail_unless (*call_id == NULL, "second tool call");
    fail_unless_equals_string (gst_structure_get_string (s, "name"),
        "book_table");
    fail_unless_equals_string (gst_structure_get_string (s, "arguments"),
        TOOL_ARGS);
    *call_id = g_strdup (gst_structure_get_string (s, "call-id"));
    g_signal_emit_by_name (GST_MESSAGE_SRC (msg), "tool-result", *call_id,
        TOOL_OUTPUT, &ret);
    fail_unless (ret);
  }
  return TRUE;
}

static GstMessage *
run_to_end (GstElement * p, GPtrArray * msgs, ItMsgFunc func, gpointer data)
{
  GstMessage *m = it_run (p, RUN_TIMEOUT_MS, msgs, func, data);

  fail_unless (m != NULL, "timed out");
  if (GST_MESSAGE_TYPE (m) == GST_MESSAGE_ERROR) {
    GError *e = NULL;
    gchar *dbg = NULL;
    gst_message_parse_error (m, &e, &dbg);
    fail ("ERROR: %s (%s)", e->message, dbg);
  }
  fail_unless_equals_int (GST_MESSAGE_TYPE (m), GST_MESSAGE_EOS);
  return m;
}

/* A scripted toolUse: the tool is declared in promptStart with its schema
 * as a JSON string, the call reaches the application, its result goes back
 * in a TOOL block while the audio block stays open, and the model answers */
GST_START_TEST (test_tool_call)
{
  ItEmu *emu = it_emu_start_full ("{\"turns\":[{\"tool_call\":{\"name\":"
      "\"book_table\",\"arguments\":" TOOL_ARGS ",\"call_id\":\"tu-1\"}}]}",
      FALSE, nova_args);
  gchar *wav = it_audio_path ("q3-tool-16k.wav");
  GstElement *p = make_pipeline (wav, emu, SECRET);
  GstElement *s2s = gst_bin_get_by_name (GST_BIN (p), "s2s");
  ItSink *sink = it_sink_attach (p, "sink");
  GPtrArray *msgs = it_msgs_new (), *log;
  gchar *call_id = NULL;
  JsonObject *ev, *spec;
  gint i;

  g_object_set (s2s, "tools", TOOLS_JSON, NULL);
  gst_message_unref (run_to_end (p, msgs, answer_tool, &call_id));
  it_pipeline_stop (p);
  fail_unless_equals_string (call_id, "tu-1");
  fail_unless_equals_string (final_text (msgs, "assistant"),
      "The tool said: " TOOL_OUTPUT);
  /* the answer after the tool: 1 s of sine at 24 kHz */
  fail_unless_equals_int (sink->data->len, 48000);

  log = it_emu_log (emu);
  i = it_log_find (log, 0, "client", NULL);
  for (; i >= 0; i = it_log_find (log, i + 1, "client", NULL)) {
    ev = it_log_event (g_ptr_array_index (log, i));
    if (ev && json_object_has_member (json_object_get_object_member (ev,
                "event"), "promptStart"))
      break;
  }
  fail_unless (i >= 0, "no promptStart");
  spec = json_object_get_object_member (json_array_get_object_element
      (json_object_get_array_member (json_object_get_object_member
              (json_object_get_object_member (json_object_get_object_member
                      (ev, "event"), "promptStart"), "toolConfiguration"),
              "tools"), 0), "toolSpec");
  fail_unless_equals_string (json_object_get_string_member (spec, "name"),
      "book_table");
  fail_unless (g_str_has_prefix (json_object_get_string_member
          (json_object_get_object_member (spec, "inputSchema"), "json"),
          "{\"type\":\"object\""));
  fail_unless_equals_int (it_log_count (log, "conn", "bad-event-signature"), 0);
  g_ptr_array_unref (log);

  g_free (call_id);
  gst_object_unref (s2s);
  it_sink_free (sink);
  g_ptr_array_unref (msgs);
  g_free (wav);
  it_emu_stop (emu);
}

GST_END_TEST;

/* Two user turns 2 s apart (endpointing 1.5 s): two answers */
GST_START_TEST (test_two_turns)
{
  ItEmu *emu = it_emu_start_full (NULL, FALSE, nova_args);
  gchar *wav = it_audio_path ("two-turns-16k.wav");
  GstElement *p = make_pipeline (wav, emu, SECRET);
  GPtrArray *msgs = it_msgs_new ();
  const gchar *user;

  gst_message_unref (run_to_end (p, msgs, NULL, NULL));
  it_pipeline_stop (p);
  fail_unless_equals_int (it_msgs_count (msgs, "s2s-response", "event",
          "done"), 2);
  user = final_text (msgs, "user");
  fail_unless (user && g_str_has_prefix (user, "turn 2, "), "%s",
      GST_STR_NULL (user));
  g_ptr_array_unref (msgs);
  g_free (wav);
  it_emu_stop (emu);
}

GST_END_TEST;

static gboolean
stop_on_interrupt (GstElement * pipeline, GstMessage * msg, gpointer data)
{
  const GstStructure *s = gst_message_get_structure (msg);

  return !(GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ELEMENT && s &&
      gst_structure_has_name (s, "s2s-response") &&
      !g_strcmp0 (gst_structure_get_string (s, "event"), "interrupted"));
}

/* The user talks over the paced answer: the server sends
 * { "interrupted" : true }, the element drops what it queued */
GST_START_TEST (test_barge_in)
{
  const gchar *extra[] = { "--nova-port", "0", "--pace-audio", NULL };
  ItEmu *emu;
  gchar *q1 = it_audio_path ("q1-weather-16k.wav");
  gchar *q2 = it_audio_path ("q2-interrupt-16k.wav");
  GBytes *b1 = it_wav_read_pcm (q1, 16000), *b2 = it_wav_read_pcm (q2, 16000);
  GByteArray *input = g_byte_array_new ();
  gchar *tmp = it_tmpdir_new (), *wav;
  GstElement *p;
  GPtrArray *msgs = it_msgs_new (), *log;
  GstMessage *m;
  gsize n1, n2, gap = 16000 * 2 * 2;    /* 2.0 s of silence */
  const guint8 *d1 = g_bytes_get_data (b1, &n1), *d2 =
      g_bytes_get_data (b2, &n2);

  if (RUNNING_ON_VALGRIND) {
    /* the overlap of real-time speech and the paced answer is not
     * reproducible at valgrind speed */
    g_printerr ("test_barge_in: skipped under valgrind\n");
    g_bytes_unref (b1);
    g_bytes_unref (b2);
    g_byte_array_unref (input);
    it_tmpdir_remove (tmp);
    g_free (tmp);
    g_free (q1);
    g_free (q2);
    g_ptr_array_unref (msgs);
    return;
  }
  emu = it_emu_start_full (NULL, FALSE, extra);
  g_byte_array_append (input, d1, n1);
  g_byte_array_set_size (input, n1 + gap);
  memset (input->data + n1, 0, gap);
  g_byte_array_append (input, d2, n2);
  wav = it_wav_write (tmp, "q1-pause-q2.wav", input->data, input->len, 16000);
  p = make_pipeline (wav, emu, SECRET);
  {
    GstElement *fs = gst_bin_get_by_name (GST_BIN (p), "sink");
    g_object_set (fs, "sync", TRUE, NULL);
    gst_object_unref (fs);
  }

  m = it_run (p, 30000, msgs, stop_on_interrupt, NULL);
  fail_unless (m == NULL, "pipeline ended before the barge-in");
  fail_unless (it_msgs_find (msgs, 0, "s2s-response", "event",
          "interrupted") >= 0);
  it_pipeline_stop (p);
  fail_unless (it_emu_wait_log (emu, "server", NULL, 1000));
  log = it_emu_log (emu);
  {
    guint i, markers = 0;
    for (i = 0; i < log->len; i++) {
      JsonObject *ev = it_log_event (g_ptr_array_index (log, i));
      JsonObject *e = ev ? json_object_get_object_member (ev, "event") : NULL;
      if (e && json_object_has_member (e, "textOutput") &&
          !g_strcmp0 (json_object_get_string_member
              (json_object_get_object_member (e, "textOutput"), "content"),
              "{ \"interrupted\" : true }"))
        markers++;
    }
    fail_unless_equals_int (markers, 1);
  }
  g_ptr_array_unref (log);

  g_ptr_array_unref (msgs);
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

/* Errors by code: in-stream exceptions and refused requests */
static void
expect_error (const gchar * script, const gchar * const *extra,
    const gchar * code, const gchar * provider_code, gboolean retryable)
{
  ItEmu *emu = it_emu_start_full (script, FALSE, extra);
  gchar *wav = it_audio_path ("q2-interrupt-16k.wav");
  GstElement *p = make_pipeline (wav, emu, SECRET);
  GPtrArray *msgs = it_msgs_new ();
  GstMessage *m = it_run (p, RUN_TIMEOUT_MS, msgs, NULL, NULL);
  const GstStructure *details = NULL;
  gboolean r = !retryable;

  fail_unless (m != NULL && GST_MESSAGE_TYPE (m) == GST_MESSAGE_ERROR,
      "no ERROR for %s", provider_code);
  gst_message_parse_error_details (m, &details);
  fail_unless (details && gst_structure_has_name (details, "s2s-error"));
  fail_unless_equals_string (gst_structure_get_string (details, "code"), code);
  fail_unless_equals_string (gst_structure_get_string (details,
          "provider-code"), provider_code);
  fail_unless (gst_structure_get_boolean (details, "retryable", &r));
  fail_unless_equals_int (r, retryable);
  gst_message_unref (m);
  it_pipeline_stop (p);
  g_ptr_array_unref (msgs);
  g_free (wav);
  it_emu_stop (emu);
}

/* A retryable exception ends the stream; the element goes on in a new one
 * (a WARNING with the mapped code, s2s-session reconnecting). With
 * @answered the conversation then completes without an ERROR. */
static void
expect_resumed (const gchar * script, const gchar * const *extra,
    const gchar * code, const gchar * provider_code, gboolean answered)
{
  ItEmu *emu = it_emu_start_full (script, FALSE, extra);
  gchar *wav = it_audio_path ("q2-interrupt-16k.wav");
  GstElement *p = make_pipeline (wav, emu, SECRET);
  GPtrArray *msgs = it_msgs_new (), *log;
  GstMessage *m = it_run (p, RUN_TIMEOUT_MS, msgs, NULL, NULL), *w;
  const GstStructure *details = NULL;
  gboolean r = FALSE;

  w = it_msgs_find_type (msgs, GST_MESSAGE_WARNING, NULL);
  fail_unless (w != NULL, "no WARNING for %s", provider_code);
  gst_message_parse_warning_details (w, &details);
  fail_unless (details && gst_structure_has_name (details, "s2s-error"));
  fail_unless_equals_string (gst_structure_get_string (details, "code"), code);
  if (provider_code)
    fail_unless (strstr (gst_structure_get_string (details,
                "provider-message"), provider_code) != NULL);
  fail_unless (gst_structure_get_boolean (details, "retryable", &r) && r);
  fail_unless (it_msgs_count (msgs, "s2s-session", "state",
          "reconnecting") >= 1);
  log = it_emu_log (emu);
  fail_unless (it_log_count (log, "conn", "open") >= 2);
  if (answered) {
    it_assert_eos (m);
    fail_unless (final_text (msgs, "assistant") != NULL);
    /* the successor got the audio of the unanswered turn again */
    fail_unless (final_text (msgs, "user") != NULL);
  }
  g_ptr_array_unref (log);
  if (m)
    gst_message_unref (m);
  it_pipeline_stop (p);
  g_ptr_array_unref (msgs);
  g_free (wav);
  it_emu_stop (emu);
}

/* A stream dropped mid-utterance: the new stream hears the whole
 * utterance again (the replay), and the turn is answered once */
GST_START_TEST (test_dropped_stream_replayed)
{
  ItEmu *emu = it_emu_start_full ("{\"faults\":[{\"connection\":1,"
      "\"after_client_event\":\"audioInput\",\"count\":15,"
      "\"action\":\"drop\"}]}", FALSE, nova_args);
  gchar *wav = it_audio_path ("q1-weather-16k.wav");
  GstElement *p = make_pipeline (wav, emu, SECRET);
  GPtrArray *msgs = it_msgs_new (), *log;
  GstMessage *m = it_run (p, RUN_TIMEOUT_MS, msgs, NULL, NULL);
  GBytes *file = it_wav_read_pcm (wav, 16000), *c1, *c2;
  gsize n1, n2, nf;
  gssize st;
  const guint8 *d1, *d2, *df;
  const gchar *user;
  guint ms = 0;

  it_assert_eos (m);
  fail_unless_equals_int (it_msgs_count (msgs, "s2s-session", "state",
          "reconnecting"), 1);
  log = it_emu_log (emu);
  fail_unless_equals_int (it_log_count (log, "conn", "open"), 2);
  c1 = it_emu_in_raw (emu, 1);
  c2 = it_emu_in_raw (emu, 2);
  d1 = g_bytes_get_data (c1, &n1);
  d2 = g_bytes_get_data (c2, &n2);
  df = g_bytes_get_data (file, &nf);
  /* the first stream got the start of the file; the second one stretch
   * from before the drop (the replay) to the end */
  fail_unless (n1 > 0 && n1 < nf && memcmp (d1, df, n1) == 0);
  for (st = n1; st >= 0; st -= 2)
    if (memcmp (d2, df + st, MIN (n2, nf - st)) == 0)
      break;
  fail_unless (st >= 0 && st + n2 >= nf, "the second stream's input is not "
      "the file from before %" G_GSIZE_FORMAT " to its end", n1);
  fail_unless (st < (gssize) n1, "nothing replayed");
  user = final_text (msgs, "user");
  fail_unless (user != NULL && sscanf (user, "turn 1, %u ms", &ms) == 1,
      "user transcript %s", GST_STR_NULL (user));
  g_printerr ("dropped stream: %.3f s on the first, %.3f s replayed, the "
      "turn heard as %u ms of speech\n", n1 / 32000.0, (n1 - st) / 32000.0, ms);
  fail_unless_equals_int (it_msgs_count (msgs, "s2s-response", "event",
          "done"), 1);

  g_bytes_unref (c1);
  g_bytes_unref (c2);
  g_bytes_unref (file);
  g_ptr_array_unref (log);
  gst_message_unref (m);
  it_pipeline_stop (p);
  g_ptr_array_unref (msgs);
  g_free (wav);
  it_emu_stop (emu);
}

GST_END_TEST;

GST_START_TEST (test_errors_by_code)
{
  const gchar *limit[] = { "--nova-port", "0", "--nova-session-limit-ms",
    "1500", NULL
  };

  /* the connection limit (8 min for real, 1.5 s here, shorter than the
   * element's session-limit): reported, and a new stream follows */
  expect_resumed (NULL, limit, "session-expired", "modelTimeoutException",
      FALSE);
  /* a server error on the first stream only: the turn is answered on the
   * second */
  expect_resumed ("{\"faults\":[{\"connection\":1,"
      "\"after_client_event\":\"audioInput\",\"count\":5,\"action\":"
      "{\"error\":{\"code\":\"internalServerException\"}}}]}", nova_args,
      "server-error", "internalServerException", TRUE);
  expect_error ("{\"faults\":[{\"after_client_event\":\"audioInput\","
      "\"count\":5,\"action\":{\"error\":{\"code\":\"throttlingException\","
      "\"message\":\"slow down\"}}}]}", nova_args, "rate-limit",
      "throttlingException", TRUE);
  expect_error ("{\"reject_connect\":{\"status\":429}}", nova_args,
      "rate-limit", "ThrottlingException", TRUE);
  expect_error ("{\"reject_connect\":{\"status\":403,\"code\":"
      "\"AccessDeniedException\",\"message\":\"no model access\"}}",
      nova_args, "authorization", "AccessDeniedException", FALSE);
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
  tcase_add_test (tc, test_tool_call);
  tcase_add_test (tc, test_two_turns);
  tcase_add_test (tc, test_barge_in);
  tcase_add_test (tc, test_errors_by_code);
  tcase_add_test (tc, test_dropped_stream_replayed);
  return s;
}

GST_CHECK_MAIN (nova);
