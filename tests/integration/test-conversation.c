/* gst-s2s integration tests: conversations with s2sopenai (or the element
 * of $S2S_IT_PROVIDER) against the emulator (spoken turn, two turns, tool
 * call, history, Azure GA URL)
 * Copyright (C) 2026 gst-s2s developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <string.h>
#include <gst/check/gstcheck.h>

#include "emu-helper.h"

#define RATE 24000
#define RUN_TIMEOUT_MS 40000

static GstElement *
make_pipeline (const gchar * wav, const gchar * s2s_props)
{
  GError *err = NULL;
  gchar *desc = g_strdup_printf ("filesrc location=\"%s\" ! wavparse ! "
      "%s name=s2s api-key=sk-test %s ! "
      "fakesink name=sink sync=false", wav, it_provider ()->element,
      s2s_props);
  GstElement *p = gst_parse_launch (desc, &err);

  fail_unless (p != NULL && err == NULL, "%s: %s", desc,
      err ? err->message : "?");
  g_free (desc);
  return p;
}

/* Indices of `name` messages with field=value must be in this order */
static gint
expect_msg_after (GPtrArray * msgs, gint after, const gchar * name,
    const gchar * field, const gchar * value)
{
  gint i = it_msgs_find (msgs, after + 1, name, field, value);

  fail_unless (i >= 0, "no %s %s=%s after message #%d", name, field, value,
      after);
  return i;
}

/* Server event @type number @nth (0-based) in the emulator log */
static JsonObject *
server_event (GPtrArray * log, const gchar * type, guint nth)
{
  gint i = -1;

  do {
    i = it_log_find (log, i + 1, "server", type);
    fail_unless (i >= 0, "emulator sent no %s #%u", type, nth);
  } while (nth-- > 0);
  return it_log_event (g_ptr_array_index (log, i));
}

/* ------------------------------------------------------------------------ */
/* 1. One spoken turn: the reply is the echo of the user's turn, sample for
 * sample, with the contract's messages */

GST_START_TEST (test_spoken_turn_echo)
{
  ItEmu *emu = it_emu_start (NULL);
  gchar *wav = it_audio_path ("q1-weather-24k.wav");
  gchar *props = g_strdup_printf ("url=%s", emu->url);
  GstElement *p = make_pipeline (wav, props);
  ItSink *sink = it_sink_attach (p, "sink");
  GPtrArray *msgs = it_msgs_new (), *log;
  GstMessage *m;
  GBytes *file_pcm, *raw;
  JsonObject *started, *stopped, *updated, *td;
  gint64 start_ms, end_ms, prefix_ms, s0, s1, i;
  gsize file_len, raw_len;
  const gint16 *file_s, *raw_s, *out_s;
  gint a, b, c;
  gint64 in_tok = 0, out_tok = 0;
  const GstStructure *st;
  guint64 first_pts = 0;

  m = it_run (p, RUN_TIMEOUT_MS, msgs, NULL, NULL);
  it_assert_eos (m);
  gst_message_unref (m);

  /* -- what the emulator heard and how its VAD cut the turn -- */
  log = it_emu_log (emu);
  started = server_event (log, "input_audio_buffer.speech_started", 0);
  stopped = server_event (log, "input_audio_buffer.speech_stopped", 0);
  updated = server_event (log, "session.updated", 0);
  td = it_session_turn_detection (json_object_get_object_member (updated,
          "session"));
  start_ms = json_object_get_int_member (started, "audio_start_ms");
  end_ms = json_object_get_int_member (stopped, "audio_end_ms");
  prefix_ms = json_object_get_int_member (td, "prefix_padding_ms");
  fail_unless (end_ms > start_ms);
  /* as OpenAI documents, audio_start_ms includes the prefix padding */
  fail_unless (prefix_ms > 0);
  s0 = start_ms * (RATE / 1000);
  s1 = end_ms * (RATE / 1000);

  /* the element sent the file unchanged, then silence (end of the turn) */
  file_pcm = it_wav_read_pcm (wav, RATE);
  raw = it_emu_in_raw (emu, 1);
  file_s = g_bytes_get_data (file_pcm, &file_len);
  raw_s = g_bytes_get_data (raw, &raw_len);
  file_len /= 2;
  raw_len /= 2;
  fail_unless (raw_len >= file_len, "emulator got %" G_GSIZE_FORMAT
      " samples of %" G_GSIZE_FORMAT, raw_len, file_len);
  fail_unless (memcmp (raw_s, file_s, file_len * 2) == 0,
      "input audio altered on the way");
  for (i = file_len; i < (gint64) raw_len; i++)
    fail_unless (raw_s[i] == 0, "input after the file is not silence");
  fail_unless ((gsize) s1 <= raw_len);

  /* the reply is that turn, sample for sample, computed from the file */
  fail_unless_equals_int64 ((gint64) sink->data->len, (s1 - s0) * 2);
  out_s = (const gint16 *) sink->data->data;
  for (i = s0; i < s1; i++) {
    gint16 want = i < (gint64) file_len ? file_s[i] : 0;
    if (out_s[i - s0] != want)
      fail ("reply sample %" G_GINT64_FORMAT " is %d, the user's turn had %d",
          i - s0, out_s[i - s0], want);
  }
  GST_INFO ("reply: %" G_GINT64_FORMAT " samples = user turn [%" G_GINT64_FORMAT
      " ms - %" G_GINT64_FORMAT " ms] of the input", s1 - s0, start_ms, end_ms);

  /* one response: PTS sample-contiguous throughout */
  fail_unless (sink->bufs->len > 1);
  fail_unless (g_array_index (sink->bufs, ItBuf, 0).discont);
  it_assert_contiguous (sink, RATE, 0, sink->bufs->len - 1);

  /* -- the contract's messages, in order -- */
  a = expect_msg_after (msgs, -1, "s2s-session", "state", "connecting");
  a = expect_msg_after (msgs, a, "s2s-session", "state", "ready");
  fail_unless_equals_string (gst_structure_get_string (it_msgs_get (msgs, a),
          "provider"), it_provider ()->name);
  fail_unless (gst_structure_get_string (it_msgs_get (msgs, a),
          "session-id") != NULL);
  b = expect_msg_after (msgs, a, "s2s-speech", "event", "started");
  b = expect_msg_after (msgs, b, "s2s-speech", "event", "stopped");
  c = expect_msg_after (msgs, b, "s2s-response", "event", "started");
  c = expect_msg_after (msgs, c, "s2s-response", "event", "first-audio");
  st = it_msgs_get (msgs, c);
  fail_unless (gst_structure_get_uint64 (st, "pts", &first_pts));
  fail_unless_equals_uint64 (first_pts,
      g_array_index (sink->bufs, ItBuf, 0).pts);
  c = expect_msg_after (msgs, c, "s2s-response", "event", "done");
  fail_unless_equals_int (it_msgs_count (msgs, "s2s-response", "event",
          "done"), 1);
  fail_unless_equals_int (it_msgs_count (msgs, "s2s-response", "event",
          "interrupted"), 0);

  fail_unless_equals_int (it_final_transcripts (msgs, "user", NULL), 1);
  fail_unless_equals_int (it_final_transcripts (msgs, "assistant", NULL), 1);

  i = it_msgs_find (msgs, 0, "s2s-usage", NULL, NULL);
  fail_unless (i >= 0, "no s2s-usage");
  st = it_msgs_get (msgs, i);
  fail_unless (gst_structure_get_int64 (st, "input-tokens", &in_tok));
  fail_unless (gst_structure_get_int64 (st, "output-tokens", &out_tok));
  fail_unless (in_tok > 0 && out_tok > 0, "usage %" G_GINT64_FORMAT "/%"
      G_GINT64_FORMAT, in_tok, out_tok);
  /* every contract message carries running-time */
  for (i = 0; i < (gint64) msgs->len; i++) {
    GstMessage *msg = g_ptr_array_index (msgs, i);
    if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ELEMENT)
      fail_unless (gst_structure_has_field (gst_message_get_structure (msg),
              "running-time"));
  }
  fail_if (it_msgs_find_type (msgs, GST_MESSAGE_WARNING, NULL) != NULL,
      "unexpected WARNING");

  g_ptr_array_unref (log);
  g_bytes_unref (file_pcm);
  g_bytes_unref (raw);
  g_ptr_array_unref (msgs);
  it_pipeline_stop (p);
  it_sink_free (sink);
  g_free (props);
  g_free (wav);
  it_emu_stop (emu);
}

GST_END_TEST;

/* ------------------------------------------------------------------------ */
/* 2. Two turns: two responses, two final transcripts each side, turns == 2 */

GST_START_TEST (test_two_turns)
{
  ItEmu *emu = it_emu_start (NULL);
  gchar *wav = it_audio_path ("two-turns-24k.wav");
  gchar *props = g_strdup_printf ("url=%s", emu->url);
  GstElement *p = make_pipeline (wav, props);
  GstElement *s2s = gst_bin_get_by_name (GST_BIN (p), "s2s");
  ItSink *sink = it_sink_attach (p, "sink");
  GPtrArray *msgs = it_msgs_new (), *log;
  GstMessage *m;
  GstStructure *stats = NULL;
  guint turns = 0, interruptions = 0;
  guint64 bytes_out = 0;

  m = it_run (p, RUN_TIMEOUT_MS, msgs, NULL, NULL);
  it_assert_eos (m);
  gst_message_unref (m);

  fail_unless_equals_int (it_msgs_count (msgs, "s2s-response", "event",
          "started"), 2);
  fail_unless_equals_int (it_msgs_count (msgs, "s2s-response", "event",
          "done"), 2);
  fail_unless_equals_int (it_final_transcripts (msgs, "user", NULL), 2);
  fail_unless_equals_int (it_final_transcripts (msgs, "assistant", NULL), 2);
  fail_unless_equals_int (it_msgs_count (msgs, "s2s-speech", "event",
          "started"), 2);
  fail_unless_equals_int (it_msgs_count (msgs, "s2s-speech", "event",
          "stopped"), 2);

  /* stats after EOS */
  g_object_get (s2s, "stats", &stats, NULL);
  fail_unless (stats != NULL);
  GST_INFO ("stats %" GST_PTR_FORMAT, stats);
  fail_unless (gst_structure_get_uint (stats, "turns", &turns));
  fail_unless_equals_int (turns, 2);
  /* The echo of turn 1 (about 2.7 s) is longer than the 2.0 s pause of
   * two-turns-24k.wav, so the second question starts while it plays: one
   * barge-in, as a user would make it. */
  fail_unless (gst_structure_get_uint (stats, "interruptions", &interruptions));
  fail_unless_equals_int (interruptions, 1);
  fail_unless_equals_int (it_msgs_count (msgs, "s2s-response", "event",
          "interrupted"), 1);
  fail_unless (gst_structure_get_uint64 (stats, "bytes-out", &bytes_out));
  fail_unless_equals_uint64 (bytes_out, sink->data->len);

  /* the emulator answered two user turns */
  log = it_emu_log (emu);
  fail_unless_equals_int (it_log_count (log, "server",
          "input_audio_buffer.committed"), 2);
  fail_unless_equals_int (it_log_count (log, "server", "response.done"), 2);
  g_ptr_array_unref (log);

  gst_structure_free (stats);
  gst_object_unref (s2s);
  g_ptr_array_unref (msgs);
  it_pipeline_stop (p);
  it_sink_free (sink);
  g_free (props);
  g_free (wav);
  it_emu_stop (emu);
}

GST_END_TEST;

/* ------------------------------------------------------------------------ */
/* 3. Tool call */

#define TOOLS_JSON "[{\"name\":\"book_table\",\"description\":\"Book a " \
  "restaurant table\",\"parameters\":{\"type\":\"object\",\"properties\":" \
  "{\"people\":{\"type\":\"integer\"},\"time\":{\"type\":\"string\"}}," \
  "\"required\":[\"people\",\"time\"]}}]"
#define TOOL_ARGS "{\"people\":2,\"time\":\"19:00\"}"
#define TOOL_OUTPUT "{\"ok\":true}"

typedef struct
{
  gchar *call_id;
  gchar *name;
  gchar *arguments;
  gboolean result_ret;
  guint bufs_at_call;
  ItSink *sink;
} ToolCtx;

static gboolean
tool_msg (GstElement * pipeline, GstMessage * msg, gpointer data)
{
  ToolCtx *ctx = data;
  const GstStructure *s = gst_message_get_structure (msg);

  if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ELEMENT && s &&
      gst_structure_has_name (s, "s2s-tool-call")) {
    GstElement *el = GST_ELEMENT (GST_MESSAGE_SRC (msg));

    fail_unless (ctx->call_id == NULL, "second tool call");
    ctx->call_id = g_strdup (gst_structure_get_string (s, "call-id"));
    ctx->name = g_strdup (gst_structure_get_string (s, "name"));
    ctx->arguments = g_strdup (gst_structure_get_string (s, "arguments"));
    g_mutex_lock (&ctx->sink->lock);
    ctx->bufs_at_call = ctx->sink->bufs->len;
    g_mutex_unlock (&ctx->sink->lock);
    /* the application runs the tool and answers */
    g_signal_emit_by_name (el, "tool-result", ctx->call_id, TOOL_OUTPUT,
        &ctx->result_ret);
  }
  return TRUE;
}

GST_START_TEST (test_tool_call)
{
  ItEmu *emu = it_emu_start ("{\"turns\":[{\"tool_call\":{\"name\":"
      "\"book_table\",\"arguments\":" TOOL_ARGS "}}]}");
  gchar *wav = it_audio_path ("q3-tool-24k.wav");
  gchar *props = g_strdup_printf ("url=%s", emu->url);
  GstElement *p = make_pipeline (wav, props);
  GstElement *s2s = gst_bin_get_by_name (GST_BIN (p), "s2s");
  GPtrArray *msgs = it_msgs_new (), *log;
  ToolCtx ctx = { 0, };
  GstMessage *m;
  JsonObject *upd, *ev, *item;
  JsonNode *tools_sent, *tool_want, *want_args, *got_args;
  JsonArray *tools_arr;
  gint iu, ic, ir, it;
  gchar *assistant = NULL;
  gint64 follow_bytes = 0;
  guint i;

  g_object_set (s2s, "tools", TOOLS_JSON, NULL);
  ctx.sink = it_sink_attach (p, "sink");
  m = it_run (p, RUN_TIMEOUT_MS, msgs, tool_msg, &ctx);
  it_assert_eos (m);
  gst_message_unref (m);

  /* the app got the call as the emulator made it */
  fail_unless (ctx.call_id != NULL, "no s2s-tool-call");
  fail_unless_equals_string (ctx.name, "book_table");
  want_args = it_json_parse (TOOL_ARGS);
  got_args = it_json_parse (ctx.arguments);
  fail_unless (json_node_equal (want_args, got_args), "arguments %s",
      ctx.arguments);
  fail_unless (ctx.result_ret, "tool-result returned FALSE");

  log = it_emu_log (emu);
  /* the session.update carried the tool in OpenAI's form */
  iu = it_log_find (log, 0, "client", "session.update");
  fail_unless (iu >= 0);
  upd = json_object_get_object_member (it_log_event (g_ptr_array_index (log,
              iu)), "session");
  tools_arr = json_object_get_array_member (upd, "tools");
  fail_unless (tools_arr != NULL && json_array_get_length (tools_arr) == 1);
  tools_sent = json_array_get_element (tools_arr, 0);
  tool_want = it_json_parse ("{\"type\":\"function\",\"name\":\"book_table\","
      "\"description\":\"Book a restaurant table\",\"parameters\":"
      "{\"type\":\"object\",\"properties\":{\"people\":{\"type\":"
      "\"integer\"},\"time\":{\"type\":\"string\"}},\"required\":"
      "[\"people\",\"time\"]}}");
  fail_unless (json_node_equal (tools_sent, tool_want),
      "session.update tools differ");

  /* function_call_output for that call, then response.create */
  it = it_log_find (log, 0, "server", "response.function_call_arguments.done");
  fail_unless (it >= 0);
  ic = it;
  do {
    ic = it_log_find (log, ic + 1, "client", "conversation.item.create");
    fail_unless (ic >= 0, "no function_call_output item");
    item = json_object_get_object_member (it_log_event (g_ptr_array_index
            (log, ic)), "item");
  } while (g_strcmp0 (json_object_get_string_member (item, "type"),
          "function_call_output") != 0);
  fail_unless_equals_string (json_object_get_string_member (item, "call_id"),
      ctx.call_id);
  fail_unless_equals_string (json_object_get_string_member (item, "output"),
      TOOL_OUTPUT);
  ir = it_log_find (log, ic + 1, "client", "response.create");
  fail_unless (ir > ic, "no response.create after the tool output");
  /* the emulator accepted both (no error event after them) */
  fail_unless (it_log_find (log, ic, "server", "error") < 0);

  /* a spoken follow-up arrived before EOS: audio after the call, and an
   * assistant transcript with the tool's output */
  for (i = ctx.bufs_at_call; i < ctx.sink->bufs->len; i++)
    follow_bytes += g_array_index (ctx.sink->bufs, ItBuf, i).size;
  ev = server_event (log, "response.output_audio.done", 0);
  fail_unless (ev != NULL);
  fail_unless (follow_bytes > 0, "no audio after the tool call");
  /* the emulator's follow-up is 1 s of tone */
  fail_unless_equals_int64 (follow_bytes, RATE * 2);
  fail_unless_equals_int (it_final_transcripts (msgs, "assistant", &assistant),
      1);
  fail_unless (strstr (assistant, TOOL_OUTPUT) != NULL, "assistant said '%s'",
      assistant);
  fail_unless_equals_int (it_msgs_count (msgs, "s2s-response", "event", "done"),
      2);

  json_node_unref (want_args);
  json_node_unref (got_args);
  json_node_unref (tool_want);
  g_ptr_array_unref (log);
  g_free (assistant);
  g_free (ctx.call_id);
  g_free (ctx.name);
  g_free (ctx.arguments);
  gst_object_unref (s2s);
  g_ptr_array_unref (msgs);
  it_pipeline_stop (p);
  it_sink_free (ctx.sink);
  g_free (props);
  g_free (wav);
  it_emu_stop (emu);
}

GST_END_TEST;

/* ------------------------------------------------------------------------ */
/* 4. History: seeded before any audio; read back with the new turn */

#define HISTORY_JSON "[" \
  "{\"type\":\"message\",\"role\":\"system\",\"text\":\"You are terse.\"}," \
  "{\"type\":\"message\",\"role\":\"user\",\"text\":\"My name is Ada.\"}," \
  "{\"type\":\"message\",\"role\":\"assistant\",\"text\":\"Hello Ada.\"}]"

GST_START_TEST (test_history)
{
  ItEmu *emu = it_emu_start (NULL);
  gchar *wav = it_audio_path ("q1-weather-24k.wav");
  gchar *props = g_strdup_printf ("url=%s", emu->url);
  GstElement *p = make_pipeline (wav, props);
  GstElement *s2s = gst_bin_get_by_name (GST_BIN (p), "s2s");
  GPtrArray *msgs = it_msgs_new (), *log;
  GstMessage *m;
  JsonNode *seed = it_json_parse (HISTORY_JSON), *got_node;
  JsonArray *seed_arr = json_node_get_array (seed), *got;
  gchar *got_json = NULL;
  gint idx = 0, first_append;
  guint i;
  const gchar *user_text, *assistant_text;
  static const gchar *const part_type[] = { "input_text", "input_text",
    "output_text"
  };

  g_object_set (s2s, "history", HISTORY_JSON, NULL);
  m = it_run (p, RUN_TIMEOUT_MS, msgs, NULL, NULL);
  it_assert_eos (m);
  gst_message_unref (m);

  /* one conversation.item.create per seeded item, in order, before the
   * first input_audio_buffer.append */
  log = it_emu_log (emu);
  first_append = it_log_find (log, 0, "client", "input_audio_buffer.append");
  fail_unless (first_append >= 0);
  for (i = 0; i < json_array_get_length (seed_arr); i++) {
    JsonObject *want = json_array_get_object_element (seed_arr, i);
    JsonObject *item, *part;
    JsonArray *content;

    idx = it_log_find (log, idx, "client", "conversation.item.create");
    fail_unless (idx >= 0 && idx < first_append, "seeded item %u not sent "
        "before the audio", i);
    item = json_object_get_object_member (it_log_event (g_ptr_array_index
            (log, idx)), "item");
    fail_unless_equals_string (json_object_get_string_member (item, "type"),
        "message");
    fail_unless_equals_string (json_object_get_string_member (item, "role"),
        json_object_get_string_member (want, "role"));
    content = json_object_get_array_member (item, "content");
    fail_unless_equals_int (json_array_get_length (content), 1);
    part = json_array_get_object_element (content, 0);
    fail_unless_equals_string (json_object_get_string_member (part, "type"),
        part_type[i]);
    fail_unless_equals_string (json_object_get_string_member (part, "text"),
        json_object_get_string_member (want, "text"));
    idx++;
  }
  fail_unless_equals_int (it_log_count (log, "client",
          "conversation.item.create"), 3);
  fail_unless (it_log_find (log, 0, "server", "error") < 0,
      "the emulator refused something");

  /* reading history: the seed, then the new user and assistant messages
   * with the emulator's transcripts */
  user_text = json_object_get_string_member (server_event (log,
          "conversation.item.input_audio_transcription.completed", 0),
      "transcript");
  assistant_text = json_object_get_string_member (server_event (log,
          "response.output_audio_transcript.done", 0), "transcript");
  g_object_get (s2s, "history", &got_json, NULL);
  fail_unless (got_json != NULL);
  GST_INFO ("history after the turn: %s", got_json);
  got_node = it_json_parse (got_json);
  fail_unless (JSON_NODE_HOLDS_ARRAY (got_node));
  got = json_node_get_array (got_node);
  fail_unless_equals_int (json_array_get_length (got), 5);
  for (i = 0; i < 3; i++)
    fail_unless (json_node_equal (json_array_get_element (seed_arr, i),
            json_array_get_element (got, i)), "history item %u changed", i);
  {
    JsonObject *u = json_array_get_object_element (got, 3);
    JsonObject *a = json_array_get_object_element (got, 4);

    fail_unless_equals_string (json_object_get_string_member (u, "type"),
        "message");
    fail_unless_equals_string (json_object_get_string_member (u, "role"),
        "user");
    fail_unless_equals_string (json_object_get_string_member (u, "text"),
        user_text);
    fail_unless_equals_string (json_object_get_string_member (a, "type"),
        "message");
    fail_unless_equals_string (json_object_get_string_member (a, "role"),
        "assistant");
    fail_unless_equals_string (json_object_get_string_member (a, "text"),
        assistant_text);
    fail_if (json_object_has_member (a, "interrupted"));
  }

  json_node_unref (seed);
  json_node_unref (got_node);
  g_free (got_json);
  g_ptr_array_unref (log);
  gst_object_unref (s2s);
  g_ptr_array_unref (msgs);
  it_pipeline_stop (p);
  g_free (props);
  g_free (wav);
  it_emu_stop (emu);
}

GST_END_TEST;

/* ------------------------------------------------------------------------ */
/* 13. Azure OpenAI GA URL form: /openai/v1/realtime?model=<deployment>, key
 * in an api-key header */

/* G.711 μ-law end to end (telephony): μ-law caps in, and μ-law out because
 * downstream asks for it; the session says audio/pcmu both ways and the
 * reply is the user's turn, code for code (compared as linear PCM). */
static gint16
mulaw_to_linear (guint8 u)
{
  gint t;

  u = ~u;
  t = ((u & 0x0f) << 3) + 0x84;
  t <<= (u & 0x70) >> 4;
  return (u & 0x80) ? (0x84 - t) : (t - 0x84);
}

GST_START_TEST (test_mulaw_end_to_end)
{
  ItEmu *emu = it_emu_start (NULL);
  gchar *wav = it_audio_path ("q1-weather-24k.wav");
  gchar *desc = g_strdup_printf ("filesrc location=\"%s\" ! wavparse ! "
      "audioresample ! audio/x-raw,rate=8000 ! mulawenc ! "
      "%s name=s2s api-key=sk-test url=\"%s\" ! audio/x-mulaw ! "
      "fakesink name=sink sync=false", wav, it_provider ()->element,
      emu->url);
  GError *err = NULL;
  GstElement *p = gst_parse_launch (desc, &err);
  ItSink *sink;
  GPtrArray *msgs = it_msgs_new (), *log;
  GstMessage *m;
  JsonObject *upd, *audio, *started, *stopped;
  GBytes *raw;
  const gint16 *in;
  gsize in_len, i;
  gint64 s0, s1;
  const guint8 *out;

  fail_unless (p != NULL, "%s", err ? err->message : "?");
  sink = it_sink_attach (p, "sink");
  m = it_run (p, RUN_TIMEOUT_MS, msgs, NULL, NULL);
  it_assert_eos (m);
  gst_message_unref (m);

  log = it_emu_log (emu);
  upd = it_log_event (g_ptr_array_index (log, it_log_find (log, 0, "client",
              "session.update")));
  audio = json_object_get_object_member (json_object_get_object_member (upd,
          "session"), "audio");
  fail_unless_equals_string (json_object_get_string_member
      (json_object_get_object_member (json_object_get_object_member (audio,
                  "input"), "format"), "type"), "audio/pcmu");
  fail_unless_equals_string (json_object_get_string_member
      (json_object_get_object_member (json_object_get_object_member (audio,
                  "output"), "format"), "type"), "audio/pcmu");

  /* the echo: the user's turn as the emulator decoded it (8 kHz linear) */
  started = server_event (log, "input_audio_buffer.speech_started", 0);
  stopped = server_event (log, "input_audio_buffer.speech_stopped", 0);
  s0 = json_object_get_int_member (started, "audio_start_ms") * 8;
  s1 = json_object_get_int_member (stopped, "audio_end_ms") * 8;
  raw = it_emu_in_raw (emu, 1);
  in = g_bytes_get_data (raw, &in_len);
  in_len /= 2;
  fail_unless ((gsize) s1 <= in_len);
  fail_unless_equals_int64 ((gint64) sink->data->len, s1 - s0);
  out = sink->data->data;
  for (i = 0; i < (gsize) (s1 - s0); i++)
    fail_unless (mulaw_to_linear (out[i]) == in[s0 + i],
        "reply sample %" G_GSIZE_FORMAT " differs", i);
  fail_unless (it_msgs_count (msgs, "s2s-response", "event", "done") == 1);

  g_bytes_unref (raw);
  g_ptr_array_unref (log);
  g_ptr_array_unref (msgs);
  it_sink_free (sink);
  it_pipeline_stop (p);
  it_emu_stop (emu);
  g_free (desc);
  g_free (wav);
}

GST_END_TEST;

GST_START_TEST (test_azure_url)
{
  ItEmu *emu = it_emu_start (NULL);
  gchar *wav = it_audio_path ("q1-weather-24k.wav");
  gchar *props = g_strdup_printf ("url=\"ws://127.0.0.1:%u/openai/v1/"
      "realtime?model=my-deployment\"", emu->port);
  GstElement *p = make_pipeline (wav, props);
  ItSink *sink = it_sink_attach (p, "sink");
  GPtrArray *msgs = it_msgs_new (), *log;
  GstMessage *m;
  JsonObject *hs, *headers;
  gint i;
  guint64 audio_dur = 0;

  m = it_run (p, RUN_TIMEOUT_MS, msgs, NULL, NULL);
  it_assert_eos (m);
  gst_message_unref (m);

  log = it_emu_log (emu);
  i = it_log_find (log, 0, "conn", "handshake");
  fail_unless (i >= 0, "no handshake in the emulator log");
  hs = g_ptr_array_index (log, i);
  fail_unless_equals_string (json_object_get_string_member (hs, "path"),
      "/openai/v1/realtime");
  fail_unless_equals_string (json_object_get_string_member (hs, "query"),
      "model=my-deployment");
  headers = json_object_get_object_member (hs, "headers");
  /* present (the emulator redacts secrets in its log) */
  fail_unless (json_object_has_member (headers, "api-key"),
      "no api-key header");
  fail_unless_equals_string (json_object_get_string_member (headers,
          "api-key"), "REDACTED");
  fail_if (json_object_has_member (headers, "authorization"),
      "Azure gets the api-key header, not Bearer auth");

  /* the turn works */
  fail_unless_equals_int (it_msgs_count (msgs, "s2s-response", "event",
          "done"), 1);
  i = it_msgs_find (msgs, 0, "s2s-response", "event", "done");
  fail_unless (gst_structure_get_uint64 (it_msgs_get (msgs, i),
          "audio-duration", &audio_dur));
  fail_unless (audio_dur > 0);
  fail_unless_equals_uint64 (gst_util_uint64_scale_int (sink->data->len / 2,
          GST_SECOND, RATE), audio_dur);
  fail_unless_equals_int (it_final_transcripts (msgs, "assistant", NULL), 1);

  g_ptr_array_unref (log);
  g_ptr_array_unref (msgs);
  it_pipeline_stop (p);
  it_sink_free (sink);
  g_free (props);
  g_free (wav);
  it_emu_stop (emu);
}

GST_END_TEST;

/* ------------------------------------------------------------------------ */
/* 7. Grok: a 16 kHz source goes out as it is (no resampler), cumulative
 * partial transcripts, and a turn completes without the events Grok never
 * sends */

GST_START_TEST (test_grok_native_16k)
{
  ItEmu *emu = it_emu_start (NULL);
  gchar *wav = it_audio_path ("q1-weather-16k.wav");
  gchar *props = g_strdup_printf ("url=%s", emu->url);
  GstElement *p = make_pipeline (wav, props);
  ItSink *sink = it_sink_attach (p, "sink");
  GPtrArray *msgs = it_msgs_new (), *log;
  GstMessage *m;
  GBytes *file_pcm, *raw;
  JsonObject *upd, *fmt;
  gsize file_len, raw_len;
  guint partials = 0, i;

  m = it_run (p, RUN_TIMEOUT_MS, msgs, NULL, NULL);
  it_assert_eos (m);
  gst_message_unref (m);

  log = it_emu_log (emu);
  /* the session may open before the caps are known: the last update has
   * the input format the audio went out in */
  upd = server_event (log, "session.updated",
      it_log_count (log, "server", "session.updated") - 1);
  fmt = json_object_get_object_member (json_object_get_object_member
      (json_object_get_object_member (json_object_get_object_member (upd,
                  "session"), "audio"), "input"), "format");
  fail_unless_equals_int (json_object_get_int_member (fmt, "rate"), 16000);
  /* the samples of the file, unchanged, at 16 kHz */
  file_pcm = it_wav_read_pcm (wav, 16000);
  raw = it_emu_in_raw (emu, 1);
  g_bytes_get_data (file_pcm, &file_len);
  g_bytes_get_data (raw, &raw_len);
  fail_unless (raw_len >= file_len);
  fail_unless (memcmp (g_bytes_get_data (raw, NULL),
          g_bytes_get_data (file_pcm, NULL), file_len) == 0,
      "input audio altered on the way");

  fail_unless (it_log_count (log, "server",
          "conversation.item.input_audio_transcription.updated") > 1);
  fail_unless_equals_int (it_log_count (log, "server",
          "conversation.item.done"), 0);
  fail_unless_equals_int (it_log_count (log, "server",
          "rate_limits.updated"), 0);
  /* user partials are deltas that add up to the final transcript */
  {
    GString *sum = g_string_new (NULL);
    gchar *final = NULL;

    for (i = 0; i < msgs->len; i++) {
      const GstStructure *st = gst_message_get_structure (g_ptr_array_index
          (msgs, i));
      gboolean f = TRUE;
      if (st == NULL || !gst_structure_has_name (st, "s2s-transcript") ||
          g_strcmp0 (gst_structure_get_string (st, "role"), "user") != 0)
        continue;
      gst_structure_get_boolean (st, "final", &f);
      if (!f) {
        g_string_append (sum, gst_structure_get_string (st, "text"));
        partials++;
      }
    }
    fail_unless_equals_int (it_final_transcripts (msgs, "user", &final), 1);
    fail_unless (partials > 1);
    fail_unless_equals_string (sum->str, final);
    g_string_free (sum, TRUE);
    g_free (final);
  }
  fail_unless_equals_int (it_msgs_count (msgs, "s2s-response", "event",
          "done"), 1);
  fail_unless (sink->data->len > 16000, "no reply audio");

  g_ptr_array_unref (log);
  g_bytes_unref (file_pcm);
  g_bytes_unref (raw);
  g_ptr_array_unref (msgs);
  it_pipeline_stop (p);
  it_sink_free (sink);
  g_free (props);
  g_free (wav);
  it_emu_stop (emu);
}

GST_END_TEST;

static Suite *
s2s_conversation_suite (void)
{
  Suite *s = suite_create ("s2s-integration-conversation");
  TCase *tc = tcase_create ("conversation");

  suite_add_tcase (s, tc);
  tcase_set_timeout (tc, 60);
  tcase_add_test (tc, test_spoken_turn_echo);
  tcase_add_test (tc, test_two_turns);
  tcase_add_test (tc, test_tool_call);
  tcase_add_test (tc, test_history);
  if (it_provider_is ("openai"))
    tcase_add_test (tc, test_azure_url);
  tcase_add_test (tc, test_mulaw_end_to_end);
  if (it_provider_is ("grok"))
    tcase_add_test (tc, test_grok_native_16k);
  return s;
}

GST_CHECK_MAIN (s2s_conversation);
