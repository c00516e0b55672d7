/* gst-s2s
 * Copyright (C) 2026 gst-s2s developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Unit tests for s2sgrok: only what differs from s2sopenai (whose tests
 * cover the shared base and protocol): caps and rates, the session shape,
 * semantic-vad refused, cumulative partial transcripts, barge-in cancelled
 * by the client, tool outputs before one response.create, XAI_API_KEY and
 * secrets, max_duration. The server is the in-process mock.
 */

#include <string.h>
#include <gst/check/gstcheck.h>
#include <gst/check/gstharness.h>

#include "s2s-openai-fixture.h"

#define fx_new(opts) fx_new_for ("s2sgrok", API_KEY, opts)
#define PCM_CAPS(rate) "audio/x-raw, format=(string)S16LE, " \
    "layout=(string)interleaved, rate=(int)" #rate ", channels=(int)1"

/* The session of the first session.update */
static JsonObject *
first_session_update (Fx * fx)
{
  JsonObject *ev = s2s_mock_server_wait_for_event (fx->mock,
      "session.update", WAIT_MS);
  JsonObject *session;

  fail_unless (ev != NULL, "no session.update");
  session = json_object_ref (jobj (ev, "session"));
  json_object_unref (ev);
  fail_unless (session != NULL);
  return session;
}

static gboolean
sink_accepts (GstElement * el, const gchar * caps_str)
{
  GstPad *pad = gst_element_get_static_pad (el, "sink");
  GstCaps *caps = gst_caps_from_string (caps_str);
  gboolean ret = gst_pad_query_accept_caps (pad, caps);

  gst_caps_unref (caps);
  gst_object_unref (pad);
  return ret;
}

GST_START_TEST (test_caps)
{
  GstElement *el = gst_element_factory_make ("s2sgrok", NULL);

  fail_unless (el != NULL);
  /* every PCM rate Grok takes, natively */
  fail_unless (sink_accepts (el, PCM_CAPS (8000)));
  fail_unless (sink_accepts (el, PCM_CAPS (16000)));
  fail_unless (sink_accepts (el, PCM_CAPS (22050)));
  fail_unless (sink_accepts (el, PCM_CAPS (24000)));
  fail_unless (sink_accepts (el, PCM_CAPS (32000)));
  fail_unless (sink_accepts (el, PCM_CAPS (44100)));
  fail_unless (sink_accepts (el, PCM_CAPS (48000)));
  fail_unless (sink_accepts (el, MULAW_CAPS));
  fail_unless (sink_accepts (el, ALAW_CAPS));
  fail_if (sink_accepts (el, PCM_CAPS (11025)));
  fail_if (sink_accepts (el, "audio/x-mulaw, rate=(int)16000, "
          "channels=(int)1"));
  fail_if (sink_accepts (el, "audio/x-raw, format=(string)S16LE, "
          "layout=(string)interleaved, rate=(int)16000, channels=(int)2"));
  gst_object_unref (el);
}

GST_END_TEST;

/* Grok's hybrid shape, and a 16 kHz source sent as it is */
GST_START_TEST (test_session_shape)
{
  Fx *fx = fx_new (NULL);
  JsonObject *session, *td, *in, *out, *ev;
  gchar *auth;
  guint8 *pcm;

  g_object_set (fx->el, "instructions", "Be brief.", "voice", "ara",
      "language", "de", "vad-threshold", 0.6, "silence-duration", 700,
      "tools", "[{\"name\":\"lookup\",\"description\":\"finds\"}]",
      "max-output-tokens", 100, NULL);
  fx_start (fx, PCM_CAPS (16000));
  session = first_session_update (fx);

  fail_if (json_object_has_member (session, "type"));
  fail_if (json_object_has_member (session, "output_modalities"));
  fail_if (json_object_has_member (session, "max_output_tokens"));
  fail_if (json_object_has_member (session, "tool_choice"));
  fail_unless_equals_string (jstr (session, "instructions"), "Be brief.");
  fail_unless_equals_string (jstr (session, "voice"), "ara");
  td = jobj (session, "turn_detection");
  fail_unless (td != NULL, "turn_detection not at the top level");
  fail_unless_equals_string (jstr (td, "type"), "server_vad");
  fail_unless_equals_int (jint (td, "silence_duration_ms", -1), 700);
  fail_unless (json_object_get_double_member (td, "threshold") == 0.6);
  fail_if (json_object_has_member (td, "interrupt_response"));
  fail_if (json_object_has_member (td, "create_response"));
  in = jobj (jobj (session, "audio"), "input");
  out = jobj (jobj (session, "audio"), "output");
  fail_unless (in != NULL && out != NULL);
  fail_if (json_object_has_member (in, "turn_detection"));
  fail_if (json_object_has_member (out, "voice"));
  fail_unless_equals_string (jstr (jobj (in, "format"), "type"), "audio/pcm");
  fail_unless_equals_int (jint (jobj (in, "format"), "rate", 0), 16000);
  fail_unless_equals_int (jint (jobj (out, "format"), "rate", 0), 24000);
  fail_unless_equals_string (jstr (jobj (in, "transcription"), "model"),
      "grok-transcribe");
  fail_unless_equals_string (jstr (jobj (in, "transcription"),
          "language_hint"), "de");
  fail_unless_equals_string (jstr (json_array_get_object_element
          (json_object_get_array_member (session, "tools"), 0), "type"),
      "function");
  json_object_unref (session);

  auth = s2s_mock_server_get_last_authorization (fx->mock);
  fail_unless_equals_string (auth, "Bearer " API_KEY);
  g_free (auth);

  /* 16 kHz samples reach the server untouched */
  fx_wait_ready (fx);
  pcm = s2s_mock_pattern (100, 1600);
  fail_unless_equals_int (gst_harness_push (fx->h, make_buffer (pcm, 3200)),
      GST_FLOW_OK);
  ev = s2s_mock_server_wait_for_event (fx->mock, "input_audio_buffer.append",
      WAIT_MS);
  fail_unless (ev != NULL);
  {
    gsize len = 0;
    guchar *got = g_base64_decode (jstr (ev, "audio"), &len);
    fail_unless (len <= 3200 && len > 0);
    fail_unless (memcmp (got, pcm, len) == 0, "input was converted");
    g_free (got);
  }
  json_object_unref (ev);
  g_free (pcm);
  fx_free (fx);
}

GST_END_TEST;

/* The output format follows what downstream takes: a 48 kHz sink gets
 * 48 kHz from Grok, no resampler */
GST_START_TEST (test_output_follows_downstream)
{
  static GstStaticPadTemplate down = GST_STATIC_PAD_TEMPLATE ("sink",
      GST_PAD_SINK, GST_PAD_ALWAYS, GST_STATIC_CAPS (PCM_CAPS (48000)));
  static GstStaticPadTemplate up = GST_STATIC_PAD_TEMPLATE ("src",
      GST_PAD_SRC, GST_PAD_ALWAYS, GST_STATIC_CAPS_ANY);
  Fx *fx = fx_new (NULL);
  JsonObject *session;
  GstEvent *ev;
  GstCaps *caps;
  gint rate = 0;

  fx->h = gst_harness_new_full (fx->el, &up, "sink", &down, "src");
  gst_harness_set_src_caps_str (fx->h, PCM_CAPS (48000));
  session = first_session_update (fx);
  fail_unless_equals_int (jint (jobj (jobj (jobj (session, "audio"),
                  "output"), "format"), "rate", 0), 48000);
  fail_unless_equals_int (jint (jobj (jobj (jobj (session, "audio"),
                  "input"), "format"), "rate", 0), 48000);
  json_object_unref (session);

  ev = pull_event_of_type (fx->h, GST_EVENT_CAPS, WAIT_MS);
  fail_unless (ev != NULL, "no caps on src");
  gst_event_parse_caps (ev, &caps);
  fail_unless (gst_structure_get_int (gst_caps_get_structure (caps, 0),
          "rate", &rate));
  fail_unless_equals_int (rate, 48000);
  gst_event_unref (ev);
  fx_free (fx);
}

GST_END_TEST;

GST_START_TEST (test_semantic_vad_refused)
{
  check_config_error_for ("s2sgrok", API_KEY, "XAI_API_KEY", "turn-detection",
      "turn-detection", "semantic-vad");
}

GST_END_TEST;

/* semantic-vad set while playing: not refused any more, so the session
 * keeps Grok's server VAD rather than sending what Grok would refuse */
GST_START_TEST (test_semantic_vad_while_playing)
{
  Fx *fx = fx_new (NULL);
  JsonObject *session, *ev = NULL;
  gint64 end;

  fx_start (fx, PCM_CAPS (24000));
  session = first_session_update (fx);
  json_object_unref (session);
  fx_wait_ready (fx);
  gst_util_set_object_arg (G_OBJECT (fx->el), "turn-detection", "semantic-vad");
  end = g_get_monotonic_time () + WAIT_MS * G_TIME_SPAN_MILLISECOND;
  while (ev == NULL && g_get_monotonic_time () < end)
    ev = s2s_mock_server_wait_for_event (fx->mock, "session.update", 100);
  fail_unless (ev != NULL, "no session.update after the change");
  fail_unless_equals_string (jstr (jobj (jobj (ev, "session"),
              "turn_detection"), "type"), "server_vad");
  json_object_unref (ev);
  fx_free (fx);
}

GST_END_TEST;

/* `.updated` carries the transcript so far: the element posts deltas, and
 * the whole text with replace=TRUE when Grok revised earlier words */
GST_START_TEST (test_partial_transcripts)
{
  static const struct
  {
    const gchar *text;
    gboolean final;
    gboolean replace;
  } want[] = {
    {"Hel", FALSE, FALSE}, {"lo wor", FALSE, FALSE}, {"ld", FALSE, FALSE},
    {"Hullo world", FALSE, TRUE}, {"!", FALSE, FALSE},
    {"Hullo world!", TRUE, FALSE},
  };
  Fx *fx = fx_new (NULL);
  guint cur = 0, i;

  fx_start (fx, PCM_CAPS (24000));
  fx_wait_ready (fx);
#define UPDATED "{\"type\":\"conversation.item.input_audio_transcription." \
    "updated\",\"item_id\":\"item_u\",\"content_index\":0,\"transcript\":"
  s2s_mock_server_send (fx->mock, UPDATED "\"Hel\"}");
  s2s_mock_server_send (fx->mock, UPDATED "\"Hello wor\"}");
  s2s_mock_server_send (fx->mock, UPDATED "\"Hello world\"}");
  s2s_mock_server_send (fx->mock, UPDATED "\"Hello world\"}");
  s2s_mock_server_send (fx->mock, UPDATED "\"Hullo world\"}");
  /* the partial form LiveKit saw: .completed with status in_progress */
  s2s_mock_server_send (fx->mock, "{\"type\":\"conversation.item."
      "input_audio_transcription.completed\",\"item_id\":\"item_u\","
      "\"status\":\"in_progress\",\"transcript\":\"Hullo world!\"}");
  s2s_mock_server_send (fx->mock, "{\"type\":\"conversation.item."
      "input_audio_transcription.completed\",\"item_id\":\"item_u\","
      "\"transcript\":\"Hullo world!\"}");
#undef UPDATED
  for (i = 0; i < G_N_ELEMENTS (want); i++) {
    GstMessage *m = fx_wait_msg (fx, &cur, GST_MESSAGE_ELEMENT,
        "s2s-transcript", "role", "user", WAIT_MS);
    const GstStructure *s;
    gboolean final = !want[i].final, replace = FALSE;

    fail_unless (m != NULL, "transcript %u missing", i);
    s = gst_message_get_structure (m);
    fail_unless_equals_string (gst_structure_get_string (s, "text"),
        want[i].text);
    fail_unless (gst_structure_get_boolean (s, "final", &final));
    fail_unless_equals_int (final, want[i].final);
    gst_structure_get_boolean (s, "replace", &replace);
    fail_unless_equals_int (replace, want[i].replace);
    fail_unless_equals_string (gst_structure_get_string (s, "item-id"),
        "item_u");
    gst_message_unref (m);
  }
  /* the repeated snapshot posted nothing */
  fail_unless_equals_int (fx_count_msgs (fx, GST_MESSAGE_ELEMENT,
          "s2s-transcript", "role", "user"), G_N_ELEMENTS (want));
  fx_free (fx);
}

GST_END_TEST;

/* Grok does not cancel on barge-in by itself: the element does */
GST_START_TEST (test_barge_in_cancels)
{
  Fx *fx = fx_new (NULL);
  JsonObject *ev;
  GPtrArray *bufs;

  fx_start (fx, PCM_CAPS (24000));
  fx_wait_ready (fx);
  s2s_mock_server_send_response_created (fx->mock, "resp_b");
  s2s_mock_server_send_message_item_added (fx->mock, "resp_b", "item_b");
  s2s_mock_server_send_audio_deltas (fx->mock, "resp_b", "item_b", 10, 100, 0);
  fx_wait_response (fx, "first-audio", "resp_b");
  gst_harness_set_time (fx->h, MS (300));
  bufs = pull_bytes (fx->h, 4 * CHUNK_BYTES, WAIT_MS);
  g_ptr_array_unref (bufs);

  s2s_mock_server_send (fx->mock, "{\"type\":"
      "\"input_audio_buffer.speech_started\",\"item_id\":\"item_u2\"}");
  ev = s2s_mock_server_wait_for_event (fx->mock, "response.cancel", WAIT_MS);
  fail_unless (ev != NULL, "no response.cancel on barge-in");
  json_object_unref (ev);
  ev = s2s_mock_server_wait_for_event (fx->mock,
      "conversation.item.truncate", WAIT_MS);
  fail_unless (ev != NULL, "no truncate on barge-in");
  fail_unless_equals_string (jstr (ev, "item_id"), "item_b");
  fail_unless (jint (ev, "audio_end_ms", -1) <= 1000);
  json_object_unref (ev);
  fx_free (fx);
}

GST_END_TEST;

/* Parallel calls: every function_call_output, then one response.create */
GST_START_TEST (test_tool_outputs_batched)
{
  Fx *fx = fx_new (NULL);
  const gchar *ids[] = { "call_a", "call_b", "call_c" };
  JsonObject *ev;
  GPtrArray *log;
  gboolean ret = FALSE;
  guint i, cur = 0, outputs = 0, creates = 0;

  g_object_set (fx->el, "tools", "[{\"name\":\"lookup\"}]", NULL);
  fx_start (fx, PCM_CAPS (24000));
  fx_wait_ready (fx);

  /* Grok puts the name on the .done event; no conversation.item.done */
  s2s_mock_server_send_response_created (fx->mock, "resp_t");
  for (i = 0; i < G_N_ELEMENTS (ids); i++)
    s2s_mock_server_send_printf (fx->mock, "{\"type\":"
        "\"response.function_call_arguments.done\",\"response_id\":"
        "\"resp_t\",\"call_id\":\"%s\",\"name\":\"lookup\","
        "\"arguments\":\"{\\\"n\\\":%u}\"}", ids[i], i);
  s2s_mock_server_send_response_done (fx->mock, "resp_t", "completed");
  for (i = 0; i < G_N_ELEMENTS (ids); i++) {
    GstMessage *m = fx_wait_msg (fx, &cur, GST_MESSAGE_ELEMENT,
        "s2s-tool-call", NULL, NULL, WAIT_MS);
    fail_unless (m != NULL, "missing s2s-tool-call %u", i);
    gst_message_unref (m);
  }
  for (i = 0; i < G_N_ELEMENTS (ids); i++) {
    g_signal_emit_by_name (fx->el, "tool-result", ids[i], "\"ok\"", &ret);
    fail_unless (ret);
  }
  ev = s2s_mock_server_wait_for_event (fx->mock, "response.create", WAIT_MS);
  fail_unless (ev != NULL, "no response.create");
  json_object_unref (ev);
  g_usleep (300 * G_TIME_SPAN_MILLISECOND);

  log = s2s_mock_server_get_log (fx->mock);
  for (i = 0; i < log->len; i++) {
    ev = g_ptr_array_index (log, i);
    if (g_strcmp0 (jstr (ev, "type"), "conversation.item.create") == 0) {
      fail_unless_equals_string (jstr (jobj (ev, "item"), "type"),
          "function_call_output");
      fail_unless_equals_int (creates, 0);
      outputs++;
    } else if (g_strcmp0 (jstr (ev, "type"), "response.create") == 0) {
      fail_unless_equals_int (outputs, G_N_ELEMENTS (ids));
      creates++;
    }
  }
  g_ptr_array_unref (log);
  fail_unless_equals_int (outputs, G_N_ELEMENTS (ids));
  fail_unless_equals_int (creates, 1);
  fx_free (fx);
}

GST_END_TEST;

static GString *debug_log;
static GMutex debug_lock;

static void
collect_log (GstDebugCategory * category, GstDebugLevel level,
    const gchar * file, const gchar * function, gint line, GObject * object,
    GstDebugMessage * message, gpointer user_data)
{
  g_mutex_lock (&debug_lock);
  g_string_append (debug_log, gst_debug_message_get (message));
  g_string_append_c (debug_log, '\n');
  g_mutex_unlock (&debug_lock);
}

/* The key comes from XAI_API_KEY (not OPENAI_API_KEY) and is never
 * logged by the s2s categories at level 9, nor readable back (the
 * integration tests check GST_DEBUG=*:9 in child processes) */
GST_START_TEST (test_key_from_env)
{
  static const gchar env_key[] = "xai-ENV-KEY-1234567890";
  S2SMockOptions opts = { env_key, };
  Fx *fx;
  gchar *auth, *key = NULL;

  g_setenv ("XAI_API_KEY", env_key, TRUE);
  g_setenv ("OPENAI_API_KEY", "sk-wrong-provider", TRUE);
  debug_log = g_string_new (NULL);
  gst_debug_remove_log_function (gst_debug_log_default);
  gst_debug_add_log_function (collect_log, NULL, NULL);
  gst_debug_set_threshold_from_string ("s2s*:9", TRUE);

  fx = fx_new (&opts);
  g_object_set (fx->el, "api-key", NULL, NULL);
  fx_start (fx, PCM_CAPS (16000));
  fx_wait_ready (fx);
  auth = s2s_mock_server_get_last_authorization (fx->mock);
  fail_unless_equals_string (auth, "Bearer xai-ENV-KEY-1234567890");
  g_free (auth);
  g_object_get (fx->el, "api-key", &key, NULL);
  fail_if (key && strstr (key, "ENV-KEY"), "key readable: %s", key);
  g_free (key);
  push_input (fx, 0, 5);
  fx_free (fx);

  gst_debug_set_threshold_from_string ("*:0", TRUE);
  gst_debug_remove_log_function (collect_log);
  gst_debug_add_log_function (gst_debug_log_default, NULL, NULL);
  fail_unless (strstr (debug_log->str, "session.update") != NULL,
      "debug log not captured");
  fail_if (strstr (debug_log->str, "ENV-KEY"), "key in the debug log");
  g_string_free (debug_log, TRUE);
  g_unsetenv ("XAI_API_KEY");
  g_unsetenv ("OPENAI_API_KEY");
}

GST_END_TEST;

/* Grok's name for the session limit is an expired session */
GST_START_TEST (test_max_duration)
{
  Fx *fx = fx_new (NULL);
  GstMessage *msg;
  const GstStructure *details = NULL;
  gboolean retryable = FALSE;

  fx_start (fx, PCM_CAPS (24000));
  fx_wait_ready (fx);
  s2s_mock_server_send (fx->mock, "{\"type\":\"error\",\"error\":{\"type\":"
      "\"invalid_request_error\",\"code\":\"max_duration\",\"message\":"
      "\"Session reached its maximum duration.\"}}");
  msg = fx_wait_msg (fx, NULL, GST_MESSAGE_ERROR, NULL, NULL, NULL, WAIT_MS);
  fail_unless (msg != NULL);
  gst_message_parse_error_details (msg, &details);
  fail_unless (details != NULL);
  fail_unless_equals_string (gst_structure_get_string (details, "code"),
      "session-expired");
  fail_unless (gst_structure_get_boolean (details, "retryable", &retryable));
  fail_unless (retryable);
  fail_unless_equals_string (gst_structure_get_string (details, "provider"),
      "grok");
  gst_message_unref (msg);
  fx_free (fx);
}

GST_END_TEST;

static Suite *
s2sgrok_suite (void)
{
  Suite *s = suite_create ("s2sgrok");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_caps);
  tcase_add_test (tc, test_session_shape);
  tcase_add_test (tc, test_output_follows_downstream);
  tcase_add_test (tc, test_semantic_vad_refused);
  tcase_add_test (tc, test_semantic_vad_while_playing);
  tcase_add_test (tc, test_partial_transcripts);
  tcase_add_test (tc, test_barge_in_cancels);
  tcase_add_test (tc, test_tool_outputs_batched);
  tcase_add_test (tc, test_key_from_env);
  tcase_add_test (tc, test_max_duration);
  return s;
}

GST_CHECK_MAIN (s2sgrok);
