/* gst-s2s
 * Copyright (C) 2026 gst-s2s developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Unit tests for s2sgemini against the in-process mock in its Gemini Live
 * mode: the setup message, nothing sent before setupComplete, replies in
 * binary frames, barge-in, tool calls and their cancellation, usage, close
 * codes, manual turns, history seeding, secrets, and session renewal on
 * goAway and on a dropped connection (GstS2SBase's rotation).
 */

#include <string.h>
#include <gst/check/gstcheck.h>
#include <gst/check/gstharness.h>

#include "s2s-fixture.h"

#define API_KEY "AIza-unit-test-SECRET"
#define TOKEN "ya29.unit-test-TOKEN"
#define IN_CAPS "audio/x-raw, format=(string)S16LE, " \
    "layout=(string)interleaved, rate=(int)16000, channels=(int)1"
/* 20 ms of 16 kHz S16LE input */
#define IN_CHUNK 640
/* 20 ms of 24 kHz S16LE output */
#define OUT_CHUNK 960

static Fx *
fx_new (const S2SMockOptions * opts)
{
  S2SMockOptions o = { 0, };

  if (opts)
    o = *opts;
  o.gemini = TRUE;
  return fx_new_for ("s2sgemini", API_KEY, &o);
}

/* Input: the mock's pattern, offset so input and output patterns differ */
static void
push_input (Fx * fx, guint start, guint n)
{
  fx_push_input (fx, start, n, IN_CHUNK, 7000);
}

/* The audio of every realtimeInput the mock got (on connection @conn, or
 * all when 0), decoded and concatenated */
static GByteArray *
received_audio (Fx * fx, guint conn)
{
  GPtrArray *log = s2s_mock_server_get_log (fx->mock);
  GByteArray *out = g_byte_array_new ();
  guint i;

  for (i = 0; i < log->len; i++) {
    JsonObject *ev = g_ptr_array_index (log, i);
    JsonObject *audio = jobj (jobj (ev, "realtimeInput"), "audio");
    const gchar *b64 = jstr (audio, "data");
    guchar *pcm;
    gsize len;

    if (b64 == NULL || (conn && jint (ev, "_mock_conn", 0) != conn))
      continue;
    fail_unless_equals_string (jstr (audio, "mimeType"),
        "audio/pcm;rate=16000");
    pcm = g_base64_decode (b64, &len);
    g_byte_array_append (out, pcm, len);
    g_free (pcm);
  }
  g_ptr_array_unref (log);
  return out;
}

/* Waits until the mock got @bytes of input audio */
static GByteArray *
wait_audio (Fx * fx, gsize bytes)
{
  gint64 end = g_get_monotonic_time () + WAIT_MS * G_TIME_SPAN_MILLISECOND;
  GByteArray *got;

  for (;;) {
    got = received_audio (fx, 0);
    if (got->len >= bytes || g_get_monotonic_time () > end)
      return got;
    g_byte_array_unref (got);
    g_usleep (5000);
  }
}

static void
assert_input_pattern (const guint8 * data, gsize len, guint first_chunk)
{
  guint8 *want = s2s_mock_pattern ((guint64) first_chunk * (IN_CHUNK / 2) +
      7000, len / 2);

  fail_unless (memcmp (data, want, len) == 0,
      "input audio differs from what was pushed");
  g_free (want);
}

/* serverContent with @n 20 ms audio parts of the output pattern from
 * @first_sample, in binary frames */
static void
send_audio_parts (Fx * fx, guint n, guint64 first_sample)
{
  guint i, samples = OUT_CHUNK / 2;

  for (i = 0; i < n; i++) {
    guint8 *pcm = s2s_mock_pattern (first_sample + (guint64) i * samples,
        samples);
    gchar *b64 = g_base64_encode (pcm, OUT_CHUNK);

    fail_unless (s2s_mock_server_send_binary_printf (fx->mock,
            "{\"serverContent\":{\"modelTurn\":{\"role\":\"model\",\"parts\":"
            "[{\"inlineData\":{\"mimeType\":\"audio/pcm;rate=24000\","
            "\"data\":\"%s\"}}]}}}", b64));
    g_free (b64);
    g_free (pcm);
  }
}

static const GstStructure *
error_details (GstMessage * msg, GError ** err)
{
  const GstStructure *d = NULL;

  if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ERROR) {
    gst_message_parse_error (msg, err, NULL);
    gst_message_parse_error_details (msg, &d);
  } else {
    gst_message_parse_warning (msg, err, NULL);
    gst_message_parse_warning_details (msg, &d);
  }
  fail_unless (d != NULL && gst_structure_has_name (d, "s2s-error"));
  return d;
}

static guint
stat_uint (Fx * fx, const gchar * field)
{
  GstStructure *stats = NULL;
  guint v = 0;

  g_object_get (fx->el, "stats", &stats, NULL);
  fail_unless (gst_structure_get_uint (stats, field, &v));
  gst_structure_free (stats);
  return v;
}

/* ------------------------------------------------------------------------ */

GST_START_TEST (test_setup_shape)
{
  Fx *fx = fx_new (NULL);
  JsonObject *ev, *setup, *gen, *aad, *decl;
  JsonArray *arr;
  gchar *auth;

  g_object_set (fx->el, "instructions", "Be brief.", "voice", "Kore",
      "silence-duration", 700, "transcribe-input", TRUE, "temperature", 0.5,
      "tools", "[{\"name\":\"get_weather\",\"description\":\"Weather\","
      "\"parameters\":{\"type\":\"object\",\"properties\":{\"city\":"
      "{\"type\":\"string\"}},\"required\":[\"city\"]}}]", NULL);
  fx_start (fx, IN_CAPS);
  ev = s2s_mock_server_wait_for_event (fx->mock, "setup", WAIT_MS);
  fail_unless (ev != NULL, "no setup");
  setup = jobj (ev, "setup");
  fail_unless_equals_string (jstr (setup, "model"),
      "models/gemini-2.5-flash-native-audio-preview-12-2025");
  gen = jobj (setup, "generationConfig");
  arr = json_object_get_array_member (gen, "responseModalities");
  fail_unless_equals_int (json_array_get_length (arr), 1);
  fail_unless_equals_string (json_array_get_string_element (arr, 0), "AUDIO");
  fail_unless_equals_string (jstr (jobj (jobj (jobj (gen, "speechConfig"),
                  "voiceConfig"), "prebuiltVoiceConfig"), "voiceName"), "Kore");
  fail_unless (json_object_get_double_member (gen, "temperature") == 0.5);
  arr = json_object_get_array_member (jobj (setup, "systemInstruction"),
      "parts");
  fail_unless_equals_string (jstr (json_array_get_object_element (arr, 0),
          "text"), "Be brief.");
  arr = json_object_get_array_member (setup, "tools");
  decl = json_array_get_object_element (json_object_get_array_member
      (json_array_get_object_element (arr, 0), "functionDeclarations"), 0);
  fail_unless_equals_string (jstr (decl, "name"), "get_weather");
  fail_unless_equals_string (jstr (jobj (decl, "parameters"), "type"),
      "OBJECT");
  fail_unless_equals_string (jstr (jobj (jobj (jobj (decl, "parameters"),
                  "properties"), "city"), "type"), "STRING");
  aad = jobj (jobj (setup, "realtimeInputConfig"),
      "automaticActivityDetection");
  fail_unless (aad != NULL);
  fail_if (json_object_get_boolean_member (aad, "disabled"));
  fail_unless_equals_int (jint (aad, "silenceDurationMs", 0), 700);
  fail_unless (jobj (setup, "inputAudioTranscription") != NULL);
  fail_unless (jobj (setup, "outputAudioTranscription") != NULL);
  fail_unless (jobj (setup, "sessionResumption") != NULL);
  fail_if (json_object_has_member (jobj (setup, "sessionResumption"),
          "handle"));
  fail_unless (jobj (jobj (setup, "contextWindowCompression"),
          "slidingWindow") != NULL);
  json_object_unref (ev);

  auth = s2s_mock_server_get_last_authorization (fx->mock);
  fail_unless_equals_string (auth, API_KEY);
  g_free (auth);
  fx_free (fx);
}

GST_END_TEST;

GST_START_TEST (test_nothing_before_setup_complete)
{
  S2SMockOptions opts = { 0, };
  Fx *fx;
  GPtrArray *log;
  GByteArray *got;
  guint i;

  opts.session_updated_delay_ms = 400;
  fx = fx_new (&opts);
  fx_start (fx, IN_CAPS);
  push_input (fx, 0, 25);
  fx_wait_ready (fx);
  got = wait_audio (fx, 25 * IN_CHUNK);
  fail_unless_equals_int (got->len, 25 * IN_CHUNK);
  assert_input_pattern (got->data, got->len, 0);
  g_byte_array_unref (got);

  log = s2s_mock_server_get_log (fx->mock);
  fail_unless_equals_string (jstr (g_ptr_array_index (log, 0), "type"),
      "setup");
  for (i = 1; i < log->len; i++)
    fail_unless (json_object_get_boolean_member (g_ptr_array_index (log, i),
            "_mock_after_ready"), "message %u went before setupComplete", i);
  fail_unless_equals_int (s2s_mock_server_count_events (fx->mock, "setup"), 1);
  g_ptr_array_unref (log);
  fx_free (fx);
}

GST_END_TEST;

GST_START_TEST (test_reply_binary_frames)
{
  Fx *fx = fx_new (NULL);
  GPtrArray *bufs;
  GstMessage *m;
  guint8 *want;
  gsize off = 0;
  guint i;

  fx_start (fx, IN_CAPS);
  fx_wait_ready (fx);
  s2s_mock_server_send_binary (fx->mock, "{\"serverContent\":"
      "{\"inputTranscription\":{\"text\":\"hello there\"}}}");
  send_audio_parts (fx, 5, 0);
  /* text frames are taken too */
  s2s_mock_server_send (fx->mock, "{\"serverContent\":"
      "{\"outputTranscription\":{\"text\":\"Hi!\"}}}");
  s2s_mock_server_send_binary (fx->mock, "{\"serverContent\":"
      "{\"generationComplete\":true}}");
  s2s_mock_server_send_binary (fx->mock, "{\"serverContent\":"
      "{\"turnComplete\":true}}");
  fx_wait_response (fx, "done", "gemini-response-1");

  gst_harness_set_time (fx->h, MS (1000));
  bufs = pull_bytes (fx->h, 5 * OUT_CHUNK, WAIT_MS);
  want = s2s_mock_pattern (0, 5 * OUT_CHUNK / 2);
  for (i = 0; i < bufs->len; i++) {
    GstBuffer *b = g_ptr_array_index (bufs, i);
    fail_unless (gst_buffer_memcmp (b, 0, want + off,
            gst_buffer_get_size (b)) == 0);
    off += gst_buffer_get_size (b);
  }
  fail_unless_equals_int (off, 5 * OUT_CHUNK);
  g_free (want);
  g_ptr_array_unref (bufs);

  m = fx_wait_msg (fx, NULL, GST_MESSAGE_ELEMENT, "s2s-transcript", "role",
      "user", WAIT_MS);
  fail_unless (m != NULL);
  fail_unless_equals_string (gst_structure_get_string
      (gst_message_get_structure (m), "text"), "hello there");
  gst_message_unref (m);
  fail_unless_equals_int (fx_count_msgs (fx, GST_MESSAGE_ELEMENT,
          "s2s-transcript", "text", "Hi!"), 2);
  fail_unless_equals_int (fx_count_msgs (fx, GST_MESSAGE_ELEMENT,
          "s2s-speech", "event", "stopped"), 1);
  fail_unless_equals_int (fx_count_msgs (fx, GST_MESSAGE_WARNING, NULL, NULL,
          NULL), 0);
  fx_free (fx);
}

GST_END_TEST;

GST_START_TEST (test_barge_in)
{
  Fx *fx = fx_new (NULL);
  GstMessage *m;
  guint64 played = 99;
  GstBuffer *buf;
  gchar *history = NULL;

  fx_start (fx, IN_CAPS);
  fx_wait_ready (fx);
  s2s_mock_server_send_binary (fx->mock, "{\"serverContent\":"
      "{\"outputTranscription\":{\"text\":\"one two three four\"}}}");
  send_audio_parts (fx, 50, 0);
  fx_wait_response (fx, "first-audio", "gemini-response-1");
  /* one second of reply queued; what was due at time 0 may be out */
  while ((buf = gst_harness_try_pull (fx->h)))
    gst_buffer_unref (buf);
  s2s_mock_server_send_binary (fx->mock,
      "{\"serverContent\":{\"interrupted\":true}}");
  m = fx_wait_msg (fx, NULL, GST_MESSAGE_ELEMENT, "s2s-response", "event",
      "interrupted", WAIT_MS);
  fail_unless (m != NULL, "no interruption");
  fail_unless (gst_structure_get_uint64 (gst_message_get_structure (m),
          "played-duration", &played));
  fail_unless_equals_uint64 (played, 0);
  gst_message_unref (m);
  m = fx_wait_msg (fx, NULL, GST_MESSAGE_ELEMENT, "s2s-speech", "event",
      "started", WAIT_MS);
  fail_unless (m != NULL, "no s2s-speech started");
  gst_message_unref (m);

  /* the queued second is gone: time passes, no audio comes */
  gst_harness_set_time (fx->h, MS (1000));
  g_usleep (200 * 1000);
  {
    guint n = 0;
    while ((buf = gst_harness_try_pull (fx->h))) {
      n++;
      gst_buffer_unref (buf);
    }
    /* at most the buffer being pushed when the interruption came */
    fail_unless (n <= 1, "%u buffers after barge-in", n);
  }
  /* what the user heard of the reply: nothing */
  g_object_get (fx->el, "history", &history, NULL);
  fail_unless (strstr (history, "\"interrupted\":true") != NULL, "%s", history);
  fail_if (strstr (history, "four") != NULL, "%s", history);
  g_free (history);
  fail_unless_equals_int (stat_uint (fx, "interruptions"), 1);
  fx_free (fx);
}

GST_END_TEST;

GST_START_TEST (test_tool_calls)
{
  Fx *fx = fx_new (NULL);
  JsonObject *ev, *fr;
  GstMessage *m;
  gboolean ok = FALSE;

  g_object_set (fx->el, "tools", "[{\"name\":\"get_weather\"},"
      "{\"name\":\"get_time\"}]", NULL);
  fx_start (fx, IN_CAPS);
  fx_wait_ready (fx);
  s2s_mock_server_send_binary (fx->mock, "{\"toolCall\":{\"functionCalls\":["
      "{\"id\":\"c1\",\"name\":\"get_weather\",\"args\":{\"city\":\"Oslo\"}},"
      "{\"id\":\"c2\",\"name\":\"get_time\",\"args\":{}}]}}");
  m = fx_wait_msg (fx, NULL, GST_MESSAGE_ELEMENT, "s2s-tool-call", "call-id",
      "c1", WAIT_MS);
  fail_unless (m != NULL);
  fail_unless_equals_string (gst_structure_get_string
      (gst_message_get_structure (m), "name"), "get_weather");
  fail_unless (strstr (gst_structure_get_string (gst_message_get_structure
              (m), "arguments"), "Oslo") != NULL);
  gst_message_unref (m);

  s2s_mock_server_send_binary (fx->mock,
      "{\"toolCallCancellation\":{\"ids\":[\"c2\"]}}");
  m = fx_wait_msg (fx, NULL, GST_MESSAGE_ELEMENT, "s2s-tool-cancel",
      "call-id", "c2", WAIT_MS);
  fail_unless (m != NULL, "no s2s-tool-cancel");
  gst_message_unref (m);

  g_signal_emit_by_name (fx->el, "tool-result", "c2", "{\"t\":1}", &ok);
  fail_if (ok, "a cancelled call took a result");
  g_signal_emit_by_name (fx->el, "tool-result", "c1", "{\"temp\":21}", &ok);
  fail_unless (ok);
  ev = s2s_mock_server_wait_for_event (fx->mock, "toolResponse", WAIT_MS);
  fail_unless (ev != NULL);
  fr = json_array_get_object_element (json_object_get_array_member (jobj (ev,
              "toolResponse"), "functionResponses"), 0);
  fail_unless_equals_string (jstr (fr, "id"), "c1");
  fail_unless_equals_string (jstr (fr, "name"), "get_weather");
  fail_unless_equals_int (jint (jobj (jobj (fr, "response"), "output"),
          "temp", 0), 21);
  json_object_unref (ev);
  /* Gemini goes on by itself after a tool response: no clientContent */
  g_usleep (100 * 1000);
  fail_unless_equals_int (s2s_mock_server_count_events (fx->mock,
          "clientContent"), 0);
  fail_unless_equals_int (s2s_mock_server_count_events (fx->mock,
          "toolResponse"), 1);
  fx_free (fx);
}

GST_END_TEST;

GST_START_TEST (test_usage)
{
  Fx *fx = fx_new (NULL);
  GstMessage *m;
  const GstStructure *s;
  gint64 v = 0;

  fx_start (fx, IN_CAPS);
  fx_wait_ready (fx);
  s2s_mock_server_send_binary (fx->mock, "{\"usageMetadata\":{"
      "\"promptTokenCount\":522,\"responseTokenCount\":42,"
      "\"totalTokenCount\":564,\"promptTokensDetails\":[{\"modality\":"
      "\"TEXT\",\"tokenCount\":332},{\"modality\":\"AUDIO\",\"tokenCount\":"
      "165}],\"responseTokensDetails\":[{\"modality\":\"AUDIO\","
      "\"tokenCount\":42}]}}");
  m = fx_wait_msg (fx, NULL, GST_MESSAGE_ELEMENT, "s2s-usage", NULL, NULL,
      WAIT_MS);
  fail_unless (m != NULL);
  s = gst_message_get_structure (m);
  fail_unless (gst_structure_get_int64 (s, "input-tokens", &v));
  fail_unless_equals_int64 (v, 522);
  fail_unless (gst_structure_get_int64 (s, "output-tokens", &v));
  fail_unless_equals_int64 (v, 42);
  fail_unless (gst_structure_get_int64 (s, "input-audio-tokens", &v));
  fail_unless_equals_int64 (v, 165);
  fail_unless (gst_structure_get_int64 (s, "output-audio-tokens", &v));
  fail_unless_equals_int64 (v, 42);
  gst_message_unref (m);
  fx_free (fx);
}

GST_END_TEST;

GST_START_TEST (test_manual_turns)
{
  Fx *fx = fx_new (NULL);
  GPtrArray *log;
  JsonObject *ev;
  gint start = -1, audio = -1, end = -1;
  guint i;

  g_object_set (fx->el, "turn-detection", 2 /* none */ , NULL);
  fx_start (fx, IN_CAPS);
  ev = s2s_mock_server_wait_for_event (fx->mock, "setup", WAIT_MS);
  fail_unless (json_object_get_boolean_member (jobj (jobj (jobj (ev, "setup"),
                  "realtimeInputConfig"), "automaticActivityDetection"),
          "disabled"));
  json_object_unref (ev);
  fx_wait_ready (fx);
  push_input (fx, 0, 10);
  g_byte_array_unref (wait_audio (fx, 10 * IN_CHUNK));
  g_signal_emit_by_name (fx->el, "commit");
  ev = s2s_mock_server_wait_for_event (fx->mock, "realtimeInput", WAIT_MS);
  json_object_unref (ev);
  g_usleep (200 * 1000);

  log = s2s_mock_server_get_log (fx->mock);
  for (i = 0; i < log->len; i++) {
    JsonObject *ri = jobj (g_ptr_array_index (log, i), "realtimeInput");
    if (jobj (ri, "activityStart") && start < 0)
      start = i;
    if (jobj (ri, "audio") && audio < 0)
      audio = i;
    if (jobj (ri, "activityEnd"))
      end = i;
  }
  g_ptr_array_unref (log);
  fail_unless (start >= 0 && audio > start && end > audio,
      "activityStart %d, audio %d, activityEnd %d", start, audio, end);
  fx_free (fx);
}

GST_END_TEST;

GST_START_TEST (test_send_text)
{
  Fx *fx = fx_new (NULL);
  JsonObject *ev, *cc;
  gboolean ok = FALSE;

  fx_start (fx, IN_CAPS);
  fx_wait_ready (fx);
  g_signal_emit_by_name (fx->el, "send-text", "What time is it?", TRUE, &ok);
  fail_unless (ok);
  ev = s2s_mock_server_wait_for_event (fx->mock, "clientContent", WAIT_MS);
  cc = jobj (ev, "clientContent");
  fail_unless_equals_string (jstr (json_array_get_object_element
          (json_object_get_array_member (cc, "turns"), 0), "role"), "user");
  fail_if (json_object_get_boolean_member (cc, "turnComplete"));
  json_object_unref (ev);
  ev = s2s_mock_server_wait_for_event (fx->mock, "clientContent", WAIT_MS);
  fail_unless (ev != NULL, "no turnComplete asking for the answer");
  fail_unless (json_object_get_boolean_member (jobj (ev, "clientContent"),
          "turnComplete"));
  json_object_unref (ev);
  fx_free (fx);
}

GST_END_TEST;

static void
check_close (gushort code, const gchar * reason, const gchar * want)
{
  Fx *fx = fx_new (NULL);
  GstMessage *m;
  GError *err = NULL;
  const GstStructure *d;
  guint cc = 0;

  fx_start (fx, IN_CAPS);
  fx_wait_ready (fx);
  s2s_mock_server_close_connection (fx->mock, code, reason);
  m = fx_wait_msg (fx, NULL, GST_MESSAGE_ERROR, NULL, NULL, NULL, WAIT_MS);
  fail_unless (m != NULL, "no ERROR on close %u", code);
  d = error_details (m, &err);
  fail_unless_equals_string (gst_structure_get_string (d, "code"), want);
  fail_unless (gst_structure_get_uint (d, "close-code", &cc));
  fail_unless_equals_int (cc, code);
  fail_unless_equals_string (gst_structure_get_string (d,
          "provider-message"), reason);
  g_clear_error (&err);
  gst_message_unref (m);
  fx_free (fx);
}

GST_START_TEST (test_close_codes)
{
  check_close (1007, "API key not valid. Please pass a valid API key.",
      "authentication");
  check_close (1007, "Request contains an invalid argument.",
      "invalid-request");
  check_close (1008, "Requested entity was not found.", "invalid-request");
  check_close (1011, "You exceeded your current quota.", "quota");
  /* without a handle a 1011 is not resumed: the error stands */
  check_close (1011, "Internal error occurred.", "server-error");
}

GST_END_TEST;

static gchar *captured_log;
static GMutex captured_lock;

static void
capture_log (GstDebugCategory * category, GstDebugLevel level,
    const gchar * file, const gchar * function, gint line, GObject * object,
    GstDebugMessage * message, gpointer user_data)
{
  const gchar *text = gst_debug_message_get (message);
  gchar *old;

  g_mutex_lock (&captured_lock);
  old = captured_log;
  captured_log = g_strconcat (old ? old : "",
      gst_debug_category_get_name (category), ": ", text, "\n", NULL);
  g_free (old);
  g_mutex_unlock (&captured_lock);
}

GST_START_TEST (test_secrets)
{
  Fx *fx = fx_new (NULL);
  gchar *key = NULL, *token = NULL;

  /* every level of the element's categories (and the base's); the
   * function stays (removing one leaks its list node by design): each test
   * runs in its own process */
  gst_debug_add_log_function (capture_log, NULL, NULL);
  gst_debug_set_threshold_from_string ("s2s*:9", FALSE);

  g_object_get (fx->el, "api-key", &key, NULL);
  fail_if (key == NULL || strstr (key, "SECRET") != NULL);
  g_free (key);
  g_object_set (fx->el, "access-token", TOKEN, NULL);
  g_object_get (fx->el, "access-token", &token, NULL);
  fail_if (token == NULL || strstr (token, "TOKEN") != NULL);
  g_free (token);
  g_object_set (fx->el, "access-token", NULL, NULL);

  fx_start (fx, IN_CAPS);
  fx_wait_ready (fx);
  s2s_mock_server_send_binary (fx->mock, "{\"sessionResumptionUpdate\":{"
      "\"newHandle\":\"handle-SECRET-1\",\"resumable\":true}}");
  push_input (fx, 0, 5);
  g_byte_array_unref (wait_audio (fx, 5 * IN_CHUNK));
  fx_free (fx);

  gst_debug_set_threshold_from_string ("s2s*:0", FALSE);
  g_mutex_lock (&captured_lock);
  fail_unless (captured_log != NULL && strstr (captured_log, "s2sgemini"));
  fail_if (strstr (captured_log, API_KEY) != NULL, "the key was logged");
  fail_if (strstr (captured_log, "handle-SECRET") != NULL,
      "the resumption handle was logged");
  g_clear_pointer (&captured_log, g_free);
  g_mutex_unlock (&captured_lock);
}

GST_END_TEST;

GST_START_TEST (test_vertex_bearer)
{
  Fx *fx = fx_new (NULL);
  JsonObject *ev;
  gchar *auth;

  g_object_set (fx->el, "api-key", NULL, "vertex-project", "proj-1",
      "vertex-location", "europe-west4", "access-token", TOKEN, NULL);
  g_setenv ("GEMINI_API_KEY", "", TRUE);
  g_setenv ("GOOGLE_API_KEY", "", TRUE);
  fx_start (fx, IN_CAPS);
  ev = s2s_mock_server_wait_for_event (fx->mock, "setup", WAIT_MS);
  fail_unless (ev != NULL, "no setup with a bearer token and no key");
  fail_unless_equals_string (jstr (jobj (ev, "setup"), "model"),
      "projects/proj-1/locations/europe-west4/publishers/google/models/"
      "gemini-2.5-flash-native-audio-preview-12-2025");
  json_object_unref (ev);
  auth = s2s_mock_server_get_last_authorization (fx->mock);
  fail_unless_equals_string (auth, "Bearer " TOKEN);
  g_free (auth);
  fx_free (fx);
}

GST_END_TEST;

/* ------------------------------------------------------------------------ */
/* Renewal */

/* goAway with a fresh handle: the element closes the old socket first (the
 * mock refuses a resume while it is open), resumes with the handle on a new
 * connection without the history, and every input sample reaches exactly
 * one connection, in order */
GST_START_TEST (test_rotation_on_go_away)
{
  S2SMockOptions opts = { 0, };
  Fx *fx;
  JsonObject *ev, *sr;
  GByteArray *a1, *a2;
  GstMessage *m;
  guint i;

  opts.refuse_resume_while_open = TRUE;
  fx = fx_new (&opts);
  g_object_set (fx->el, "history", "[{\"type\":\"message\",\"role\":\"user\","
      "\"text\":\"My name is Ada.\"},{\"type\":\"message\",\"role\":"
      "\"assistant\",\"text\":\"Hello Ada.\"}]", NULL);
  fx_start (fx, IN_CAPS);
  fx_wait_ready (fx);
  ev = s2s_mock_server_wait_for_event (fx->mock, "clientContent", WAIT_MS);
  fail_unless (ev != NULL, "no history on the fresh session");
  fail_unless_equals_int (json_array_get_length (json_object_get_array_member
          (jobj (ev, "clientContent"), "turns")), 2);
  json_object_unref (ev);

  /* a turn, then the handle after it, then goAway */
  push_input (fx, 0, 20);
  send_audio_parts (fx, 3, 0);
  s2s_mock_server_send_binary (fx->mock, "{\"serverContent\":"
      "{\"turnComplete\":true}}");
  fx_wait_response (fx, "done", "gemini-response-1");
  s2s_mock_server_send_binary (fx->mock, "{\"sessionResumptionUpdate\":{"
      "\"newHandle\":\"h-after-turn-1\",\"resumable\":true}}");
  s2s_mock_server_send_binary (fx->mock, "{\"goAway\":{\"timeLeft\":\"8s\"}}");
  /* input keeps coming during the switch */
  for (i = 20; i < 60; i++) {
    push_input (fx, i, 1);
    g_usleep (10 * 1000);
  }
  fail_unless (s2s_mock_server_wait_connections (fx->mock, 2, WAIT_MS));
  m = fx_wait_msg (fx, NULL, GST_MESSAGE_ELEMENT, "s2s-session", "state",
      "rotating", WAIT_MS);
  fail_unless (m != NULL, "no s2s-session rotating");
  gst_message_unref (m);
  {
    guint cursor = 0;
    m = fx_wait_msg (fx, &cursor, GST_MESSAGE_ELEMENT, "s2s-session",
        "state", "ready", WAIT_MS);
    gst_message_unref (m);
    m = fx_wait_msg (fx, &cursor, GST_MESSAGE_ELEMENT, "s2s-session",
        "state", "ready", WAIT_MS);
    fail_unless (m != NULL, "the resumed session never became ready");
    gst_message_unref (m);
  }
  push_input (fx, 60, 10);

  /* the first setup was passed by the wait for clientContent */
  ev = s2s_mock_server_wait_for_event (fx->mock, "setup", WAIT_MS);
  fail_unless (ev != NULL, "no setup on the second connection");
  fail_unless_equals_int (jint (ev, "_mock_conn", 0), 2);
  sr = jobj (jobj (ev, "setup"), "sessionResumption");
  fail_unless_equals_string (jstr (sr, "handle"), "h-after-turn-1");
  json_object_unref (ev);

  a1 = received_audio (fx, 1);
  {
    GByteArray *all = wait_audio (fx, 70 * IN_CHUNK);
    fail_unless_equals_int (all->len, 70 * IN_CHUNK);
    g_byte_array_unref (all);
  }
  a2 = received_audio (fx, 2);
  fail_unless (a1->len > 0 && a2->len > 0, "audio on %u and %u bytes",
      a1->len, a2->len);
  fail_unless_equals_int (a1->len + a2->len, 70 * IN_CHUNK);
  fail_unless_equals_int (a1->len % 2, 0);
  assert_input_pattern (a1->data, a1->len, 0);
  {
    /* connection 2 goes on at the next sample: none lost, none twice */
    guint8 *want = s2s_mock_pattern (a1->len / 2 + 7000, a2->len / 2);
    fail_unless (memcmp (a2->data, want, a2->len) == 0);
    g_free (want);
  }
  g_byte_array_unref (a1);
  g_byte_array_unref (a2);

  /* the history went to the fresh session only */
  fail_unless_equals_int (s2s_mock_server_count_events (fx->mock,
          "clientContent"), 1);
  fail_unless_equals_int (s2s_mock_server_get_n_open (fx->mock), 1);
  fail_unless_equals_int (stat_uint (fx, "rotations"), 1);
  fail_unless_equals_int (stat_uint (fx, "reconnects"), 0);
  fail_unless_equals_int (fx_count_msgs (fx, GST_MESSAGE_ERROR, NULL, NULL,
          NULL), 0);

  /* the conversation goes on: a reply on the new connection */
  send_audio_parts (fx, 2, 0);
  s2s_mock_server_send_binary (fx->mock, "{\"serverContent\":"
      "{\"turnComplete\":true}}");
  fx_wait_response (fx, "done", "gemini-response-2");
  fx_free (fx);
}

GST_END_TEST;

/* A rotation waits for the turn to end and for a handle issued after it */
GST_START_TEST (test_rotation_waits_for_turn)
{
  Fx *fx = fx_new (NULL);
  JsonObject *ev;

  fx_start (fx, IN_CAPS);
  fx_wait_ready (fx);
  s2s_mock_server_send_binary (fx->mock, "{\"sessionResumptionUpdate\":{"
      "\"newHandle\":\"h-old\",\"resumable\":true}}");
  send_audio_parts (fx, 2, 0);
  fx_wait_response (fx, "first-audio", "gemini-response-1");
  s2s_mock_server_send_binary (fx->mock, "{\"goAway\":{\"timeLeft\":\"20s\"}}");
  g_usleep (400 * 1000);
  fail_unless_equals_int (s2s_mock_server_get_n_connections (fx->mock), 1);
  s2s_mock_server_send_binary (fx->mock, "{\"serverContent\":"
      "{\"turnComplete\":true}}");
  g_usleep (300 * 1000);
  fail_unless_equals_int (s2s_mock_server_get_n_connections (fx->mock), 1);
  s2s_mock_server_send_binary (fx->mock, "{\"sessionResumptionUpdate\":{"
      "\"newHandle\":\"h-new\",\"resumable\":true}}");
  fail_unless (s2s_mock_server_wait_connections (fx->mock, 2, WAIT_MS));
  ev = s2s_mock_server_wait_for_event (fx->mock, "setup", WAIT_MS);
  json_object_unref (ev);
  ev = s2s_mock_server_wait_for_event (fx->mock, "setup", WAIT_MS);
  fail_unless_equals_string (jstr (jobj (jobj (ev, "setup"),
              "sessionResumption"), "handle"), "h-new");
  json_object_unref (ev);
  fx_free (fx);
}

GST_END_TEST;

GST_START_TEST (test_reconnect_on_drop)
{
  Fx *fx = fx_new (NULL);
  JsonObject *ev;
  GstMessage *m;
  GError *err = NULL;

  fx_start (fx, IN_CAPS);
  fx_wait_ready (fx);
  s2s_mock_server_send_binary (fx->mock, "{\"sessionResumptionUpdate\":{"
      "\"newHandle\":\"h-drop\",\"resumable\":true}}");
  g_usleep (50 * 1000);
  s2s_mock_server_drop_connection (fx->mock);
  m = fx_wait_msg (fx, NULL, GST_MESSAGE_ELEMENT, "s2s-session", "state",
      "reconnecting", WAIT_MS);
  fail_unless (m != NULL, "no reconnecting");
  gst_message_unref (m);
  m = fx_wait_msg (fx, NULL, GST_MESSAGE_WARNING, NULL, NULL, NULL, WAIT_MS);
  fail_unless (m != NULL, "a handled drop is a WARNING");
  error_details (m, &err);
  g_clear_error (&err);
  gst_message_unref (m);
  fail_unless (s2s_mock_server_wait_connections (fx->mock, 2, WAIT_MS));
  ev = s2s_mock_server_wait_for_event (fx->mock, "setup", WAIT_MS);
  json_object_unref (ev);
  ev = s2s_mock_server_wait_for_event (fx->mock, "setup", WAIT_MS);
  fail_unless_equals_string (jstr (jobj (jobj (ev, "setup"),
              "sessionResumption"), "handle"), "h-drop");
  json_object_unref (ev);
  push_input (fx, 0, 5);
  g_byte_array_unref (wait_audio (fx, 5 * IN_CHUNK));
  fail_unless_equals_int (stat_uint (fx, "reconnects"), 1);
  fail_unless_equals_int (fx_count_msgs (fx, GST_MESSAGE_ERROR, NULL, NULL,
          NULL), 0);
  fx_free (fx);
}

GST_END_TEST;

/* goAway before any handle: the deadline forces the switch, and the new,
 * fresh session gets the conversation so far as history */
GST_START_TEST (test_rotation_without_handle)
{
  Fx *fx = fx_new (NULL);
  JsonObject *ev;
  JsonArray *turns;

  g_object_set (fx->el, "history", "[{\"type\":\"message\",\"role\":\"user\","
      "\"text\":\"My name is Ada.\"},{\"type\":\"message\",\"role\":"
      "\"assistant\",\"text\":\"Hello Ada.\"}]", NULL);
  fx_start (fx, IN_CAPS);
  fx_wait_ready (fx);
  ev = s2s_mock_server_wait_for_event (fx->mock, "clientContent", WAIT_MS);
  fail_unless (ev != NULL);
  json_object_unref (ev);
  s2s_mock_server_send_binary (fx->mock,
      "{\"goAway\":{\"timeLeft\":\"0.4s\"}}");
  fail_unless (s2s_mock_server_wait_connections (fx->mock, 2, WAIT_MS));
  ev = s2s_mock_server_wait_for_event (fx->mock, "setup", WAIT_MS);
  fail_unless (ev != NULL);
  fail_unless_equals_int (jint (ev, "_mock_conn", 0), 2);
  fail_if (json_object_has_member (jobj (jobj (ev, "setup"),
              "sessionResumption"), "handle"));
  json_object_unref (ev);
  ev = s2s_mock_server_wait_for_event (fx->mock, "clientContent", WAIT_MS);
  fail_unless (ev != NULL, "no conversation replayed on the fresh session");
  fail_unless_equals_int (jint (ev, "_mock_conn", 0), 2);
  turns = json_object_get_array_member (jobj (ev, "clientContent"), "turns");
  fail_unless_equals_int (json_array_get_length (turns), 2);
  json_object_unref (ev);
  fail_unless_equals_int (stat_uint (fx, "rotations"), 1);
  fx_free (fx);
}

GST_END_TEST;

static Suite *
s2sgemini_suite (void)
{
  Suite *s = suite_create ("s2sgemini");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_setup_shape);
  tcase_add_test (tc, test_nothing_before_setup_complete);
  tcase_add_test (tc, test_reply_binary_frames);
  tcase_add_test (tc, test_barge_in);
  tcase_add_test (tc, test_tool_calls);
  tcase_add_test (tc, test_usage);
  tcase_add_test (tc, test_manual_turns);
  tcase_add_test (tc, test_send_text);
  tcase_add_test (tc, test_close_codes);
  tcase_add_test (tc, test_secrets);
  tcase_add_test (tc, test_vertex_bearer);
  tcase_add_test (tc, test_rotation_on_go_away);
  tcase_add_test (tc, test_rotation_waits_for_turn);
  tcase_add_test (tc, test_reconnect_on_drop);
  tcase_add_test (tc, test_rotation_without_handle);
  return s;
}

GST_CHECK_MAIN (s2sgemini);
