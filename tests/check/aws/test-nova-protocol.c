/* gst-s2s
 * Copyright (C) 2026 gst-s2s developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The Nova event protocol (ext/s2s/nova/gsts2snova-protocol.c): the shapes
 * of the input sequence of reference/gemini-nova.md §B6/§B9 and the parsing
 * of the output events of §B7.
 */

#include <string.h>
#include <glib.h>
#include <json-glib/json-glib.h>

#include "gsts2snova-protocol.h"

/* event name and body of one client event */
static JsonObject *
event_body (GPtrArray * events, guint i, const gchar * want_name,
    JsonNode ** keep)
{
  JsonNode *root;
  JsonObject *event;
  GList *members;

  g_assert_cmpuint (i, <, events->len);
  if (*keep)
    json_node_unref (*keep);
  root = json_from_string (g_ptr_array_index (events, i), NULL);
  g_assert_nonnull (root);
  event = json_object_get_object_member (json_node_get_object (root), "event");
  members = json_object_get_members (event);
  g_assert_cmpuint (g_list_length (members), ==, 1);
  if (g_strcmp0 (members->data, want_name))
    g_error ("event %u is %s, expected %s", i, (gchar *) members->data,
        want_name);
  g_list_free (members);
  *keep = root;
  return json_object_get_object_member (event, want_name);
}

#define BODY(i, name) event_body (events, i, name, &node)

static const gchar *TOOLS = "[{\"name\":\"get_weather\",\"description\":"
    "\"Weather of a city\",\"parameters\":{\"type\":\"object\",\"properties\":"
    "{\"city\":{\"type\":\"string\"}},\"required\":[\"city\"]}}]";

static void
test_start_sequence_nova2 (void)
{
  GstS2SNovaProtocol *proto = gst_s2s_nova_protocol_new ();
  GPtrArray *events = g_ptr_array_new_with_free_func (g_free);
  GstS2SNovaSessionConfig cfg = { TRUE, 0, -1, -1, "MEDIUM", "tiffany",
    "You are terse.", NULL,
    "[{\"type\":\"message\",\"role\":\"assistant\",\"text\":\"dropped: "
        "history starts with USER\"},"
        "{\"type\":\"message\",\"role\":\"user\",\"text\":\"Hi\"},"
        "{\"type\":\"message\",\"role\":\"user\",\"text\":\"there\"},"
        "{\"type\":\"function_call\",\"call_id\":\"c\",\"name\":\"f\","
        "\"arguments\":\"{}\"},"
        "{\"type\":\"message\",\"role\":\"assistant\",\"text\":\"Hello!\"}]"
  };
  const gchar *prompt = gst_s2s_nova_protocol_get_prompt_name (proto);
  JsonNode *node = NULL, *schema;
  JsonObject *o, *a;
  GError *err = NULL;
  const gchar *content;
  gchar *audio_name;
  guint i = 0;

  cfg.tools_json = TOOLS;
  g_assert_true (gst_s2s_nova_protocol_start (proto, &cfg, events, &err));
  g_assert_no_error (err);

  o = BODY (i++, "sessionStart");
  a = json_object_get_object_member (o, "inferenceConfiguration");
  g_assert_cmpint (json_object_get_int_member (a, "maxTokens"), ==, 1024);
  g_assert_cmpfloat (json_object_get_double_member (a, "topP"), ==, 0.9);
  g_assert_cmpfloat (json_object_get_double_member (a, "temperature"), ==, 0.7);
  g_assert_cmpstr (json_object_get_string_member (json_object_get_object_member
          (o, "turnDetectionConfiguration"), "endpointingSensitivity"), ==,
      "MEDIUM");

  o = BODY (i++, "promptStart");
  g_assert_cmpstr (json_object_get_string_member (o, "promptName"), ==, prompt);
  a = json_object_get_object_member (o, "audioOutputConfiguration");
  g_assert_cmpint (json_object_get_int_member (a, "sampleRateHertz"), ==,
      24000);
  g_assert_cmpint (json_object_get_int_member (a, "sampleSizeBits"), ==, 16);
  g_assert_cmpint (json_object_get_int_member (a, "channelCount"), ==, 1);
  g_assert_cmpstr (json_object_get_string_member (a, "voiceId"), ==, "tiffany");
  g_assert_cmpstr (json_object_get_string_member (a, "encoding"), ==, "base64");
  g_assert_cmpstr (json_object_get_string_member (a, "mediaType"), ==,
      "audio/lpcm");
  g_assert_cmpstr (json_object_get_string_member
      (json_object_get_object_member (o, "toolUseOutputConfiguration"),
          "mediaType"), ==, "application/json");
  a = json_array_get_object_element (json_object_get_array_member
      (json_object_get_object_member (o, "toolConfiguration"), "tools"), 0);
  a = json_object_get_object_member (a, "toolSpec");
  g_assert_cmpstr (json_object_get_string_member (a, "name"), ==,
      "get_weather");
  /* the schema is a JSON string holding the schema */
  schema = json_from_string (json_object_get_string_member
      (json_object_get_object_member (a, "inputSchema"), "json"), &err);
  g_assert_no_error (err);
  g_assert_cmpstr (json_object_get_string_member (json_node_get_object
          (schema), "type"), ==, "object");
  json_node_unref (schema);

  /* system block */
  o = BODY (i++, "contentStart");
  g_assert_cmpstr (json_object_get_string_member (o, "type"), ==, "TEXT");
  g_assert_cmpstr (json_object_get_string_member (o, "role"), ==, "SYSTEM");
  g_assert_false (json_object_get_boolean_member (o, "interactive"));
  content = json_object_get_string_member (o, "contentName");
  {
    gchar *name = g_strdup (content);
    o = BODY (i++, "textInput");
    g_assert_cmpstr (json_object_get_string_member (o, "contentName"), ==,
        name);
    g_assert_cmpstr (json_object_get_string_member (o, "content"), ==,
        "You are terse.");
    o = BODY (i++, "contentEnd");
    g_assert_cmpstr (json_object_get_string_member (o, "contentName"), ==,
        name);
    g_free (name);
  }

  /* history: the leading ASSISTANT dropped, the two USER texts merged, the
   * function call left out */
  o = BODY (i++, "contentStart");
  g_assert_cmpstr (json_object_get_string_member (o, "role"), ==, "USER");
  g_assert_false (json_object_get_boolean_member (o, "interactive"));
  o = BODY (i++, "textInput");
  g_assert_cmpstr (json_object_get_string_member (o, "content"), ==,
      "Hi\nthere");
  BODY (i++, "contentEnd");
  o = BODY (i++, "contentStart");
  g_assert_cmpstr (json_object_get_string_member (o, "role"), ==, "ASSISTANT");
  o = BODY (i++, "textInput");
  g_assert_cmpstr (json_object_get_string_member (o, "content"), ==, "Hello!");
  BODY (i++, "contentEnd");

  /* the audio block, left open */
  o = BODY (i++, "contentStart");
  g_assert_cmpstr (json_object_get_string_member (o, "type"), ==, "AUDIO");
  g_assert_cmpstr (json_object_get_string_member (o, "role"), ==, "USER");
  g_assert_true (json_object_get_boolean_member (o, "interactive"));
  a = json_object_get_object_member (o, "audioInputConfiguration");
  g_assert_cmpint (json_object_get_int_member (a, "sampleRateHertz"), ==,
      16000);
  g_assert_cmpstr (json_object_get_string_member (a, "audioType"), ==,
      "SPEECH");
  audio_name = g_strdup (json_object_get_string_member (o, "contentName"));
  g_assert_cmpuint (i, ==, events->len);

  /* audio chunk */
  {
    static const guint8 pcm[] = { 1, 2, 3, 4, 5, 6 };
    gchar *ev = gst_s2s_nova_protocol_audio_input (proto, pcm, sizeof (pcm));
    guchar *back;
    gsize len;

    g_ptr_array_add (events, ev);
    o = BODY (i++, "audioInput");
    g_assert_cmpstr (json_object_get_string_member (o, "promptName"), ==,
        prompt);
    g_assert_cmpstr (json_object_get_string_member (o, "contentName"), ==,
        audio_name);
    back = g_base64_decode (json_object_get_string_member (o, "content"), &len);
    g_assert_cmpmem (back, len, pcm, sizeof (pcm));
    g_free (back);
  }

  /* tool result while the audio block stays open */
  gst_s2s_nova_protocol_tool_result (proto, "tool-1", "{\"temp\":21}", events);
  o = BODY (i++, "contentStart");
  g_assert_cmpstr (json_object_get_string_member (o, "type"), ==, "TOOL");
  g_assert_cmpstr (json_object_get_string_member (o, "role"), ==, "TOOL");
  g_assert_false (json_object_get_boolean_member (o, "interactive"));
  a = json_object_get_object_member (o, "toolResultInputConfiguration");
  g_assert_cmpstr (json_object_get_string_member (a, "toolUseId"), ==,
      "tool-1");
  g_assert_cmpstr (json_object_get_string_member (a, "type"), ==, "TEXT");
  o = BODY (i++, "toolResult");
  g_assert_cmpstr (json_object_get_string_member (o, "content"), ==,
      "{\"temp\":21}");
  o = BODY (i++, "contentEnd");
  g_assert_cmpstr (json_object_get_string_member (o, "contentName"), !=,
      audio_name);

  /* Nova 2 cross-modal text */
  gst_s2s_nova_protocol_text_input (proto, "What's the time?", events);
  o = BODY (i++, "contentStart");
  g_assert_cmpstr (json_object_get_string_member (o, "role"), ==, "USER");
  g_assert_cmpstr (json_object_get_string_member (o, "type"), ==, "TEXT");
  g_assert_true (json_object_get_boolean_member (o, "interactive"));
  BODY (i++, "textInput");
  BODY (i++, "contentEnd");

  /* shutdown: audio contentEnd, promptEnd, sessionEnd {} */
  gst_s2s_nova_protocol_end (proto, events);
  o = BODY (i++, "contentEnd");
  g_assert_cmpstr (json_object_get_string_member (o, "contentName"), ==,
      audio_name);
  o = BODY (i++, "promptEnd");
  g_assert_cmpstr (json_object_get_string_member (o, "promptName"), ==, prompt);
  o = BODY (i++, "sessionEnd");
  g_assert_cmpuint (json_object_get_size (o), ==, 0);
  g_assert_cmpuint (i, ==, events->len);

  g_clear_pointer (&node, json_node_unref);
  g_free (audio_name);
  g_ptr_array_unref (events);
  gst_s2s_nova_protocol_free (proto);
}

static void
test_start_sequence_nova1 (void)
{
  GstS2SNovaProtocol *proto = gst_s2s_nova_protocol_new ();
  GPtrArray *events = g_ptr_array_new_with_free_func (g_free);
  GstS2SNovaSessionConfig cfg = { FALSE, 2048, 0.5, 0.2, "HIGH", NULL, NULL,
    NULL, NULL
  };
  JsonNode *node = NULL;
  JsonObject *o;

  g_assert_true (gst_s2s_nova_protocol_start (proto, &cfg, events, NULL));
  /* sessionStart, promptStart, audio contentStart */
  g_assert_cmpuint (events->len, ==, 3);
  o = BODY (0, "sessionStart");
  g_assert_false (json_object_has_member (o, "turnDetectionConfiguration"));
  g_assert_cmpint (json_object_get_int_member (json_object_get_object_member
          (o, "inferenceConfiguration"), "maxTokens"), ==, 2048);
  o = BODY (1, "promptStart");
  g_assert_false (json_object_has_member (o, "toolConfiguration"));
  g_assert_false (json_object_has_member (o, "toolUseOutputConfiguration"));
  g_assert_cmpstr (json_object_get_string_member (json_object_get_object_member
          (o, "audioOutputConfiguration"), "voiceId"), ==, "matthew");
  BODY (2, "contentStart");
  g_clear_pointer (&node, json_node_unref);

  /* bad tools JSON is an error, not a crash */
  cfg.tools_json = "{not json";
  g_ptr_array_set_size (events, 0);
  g_assert_false (gst_s2s_nova_protocol_start (proto, &cfg, events, NULL));
  g_ptr_array_unref (events);
  gst_s2s_nova_protocol_free (proto);
}

/* §B9: each textInput at most 1 KiB (split on UTF-8 boundaries), history at
 * most 40 KiB with the oldest dropped and USER first */
static void
test_history_limits (void)
{
  GstS2SNovaProtocol *proto = gst_s2s_nova_protocol_new ();
  GPtrArray *events = g_ptr_array_new_with_free_func (g_free);
  GstS2SNovaSessionConfig cfg = { TRUE, 0, -1, -1, NULL, NULL, NULL, NULL,
    NULL
  };
  GString *hist = g_string_new ("["), *joined = g_string_new (NULL);
  gchar *long_text;
  JsonNode *node = NULL;
  JsonObject *o;
  guint i, k, n_blocks = 0;
  const gchar *first_role = NULL;

  /* 2500 bytes of two-byte characters, then 60 messages of 1000 bytes */
  long_text = g_strnfill (0, 0);
  {
    GString *s = g_string_new (NULL);
    for (i = 0; i < 1250; i++)
      g_string_append (s, "\xc3\xa9");
    g_free (long_text);
    long_text = g_string_free (s, FALSE);
  }
  g_string_append_printf (hist, "{\"type\":\"message\",\"role\":\"user\","
      "\"text\":\"%s\"}", long_text);
  for (i = 0; i < 60; i++) {
    gchar *t = g_strnfill (1000, 'a' + (i % 26));
    g_string_append_printf (hist, ",{\"type\":\"message\",\"role\":\"%s\","
        "\"text\":\"%s\"}", i % 2 ? "user" : "assistant", t);
    g_free (t);
  }
  g_string_append (hist, "]");
  cfg.history_json = hist->str;
  g_assert_true (gst_s2s_nova_protocol_start (proto, &cfg, events, NULL));

  /* history blocks are events 2 .. len-2 */
  {
    gsize total = 0;
    for (i = 2; i + 1 < events->len;) {
      o = BODY (i++, "contentStart");
      if (!first_role)
        first_role = g_intern_string (json_object_get_string_member (o,
                "role"));
      n_blocks++;
      for (k = 0;; k++) {
        const gchar *c;
        gchar *probe = g_ptr_array_index (events, i);
        if (strstr (probe, "\"contentEnd\""))
          break;
        o = BODY (i++, "textInput");
        c = json_object_get_string_member (o, "content");
        g_assert_cmpuint (strlen (c), <=, 1024);
        g_assert_true (g_utf8_validate (c, -1, NULL));
        total += strlen (c);
        if (n_blocks == 1)
          g_string_append (joined, c);
      }
      BODY (i++, "contentEnd");
    }
    g_assert_cmpuint (total, <=, 40 * 1024);
    g_assert_cmpuint (total, >, 30 * 1024);
  }
  g_assert_cmpstr (first_role, ==, "USER");
  /* the oldest (long) message was dropped to fit */
  g_assert_null (strstr (joined->str, "\xc3\xa9"));
  g_clear_pointer (&node, json_node_unref);

  /* a long system prompt is split, whole characters, nothing lost */
  g_ptr_array_set_size (events, 0);
  cfg.history_json = NULL;
  cfg.system_prompt = long_text;
  g_string_truncate (joined, 0);
  g_assert_true (gst_s2s_nova_protocol_start (proto, &cfg, events, NULL));
  BODY (2, "contentStart");
  for (i = 3; i < 6; i++) {
    const gchar *c = json_object_get_string_member (BODY (i, "textInput"),
        "content");
    g_assert_cmpuint (strlen (c), <=, 1024);
    g_string_append (joined, c);
  }
  BODY (6, "contentEnd");
  g_assert_cmpstr (joined->str, ==, long_text);
  g_clear_pointer (&node, json_node_unref);

  g_free (long_text);
  g_string_free (hist, TRUE);
  g_string_free (joined, TRUE);
  g_ptr_array_unref (events);
  gst_s2s_nova_protocol_free (proto);
}

/* ---- output events ---- */

static void
log_content (GString * log, const gchar * what, const GstS2SNovaContent * c)
{
  static const gchar *stages[] = { "-", "SPECULATIVE", "FINAL" };

  g_string_append_printf (log, "%s %s %s %s", what, c->role ? c->role : "?",
      c->type ? c->type : "?", stages[c->stage]);
}

static void
on_content_start (gpointer ud, const GstS2SNovaContent * c)
{
  log_content (ud, "start", c);
  g_string_append_c (ud, '\n');
}

static void
on_text (gpointer ud, const GstS2SNovaContent * c, const gchar * text)
{
  log_content (ud, "text", c);
  g_string_append_printf (ud, " '%s'\n", text);
}

static void
on_audio (gpointer ud, const GstS2SNovaContent * c, const guint8 * pcm,
    gsize len)
{
  log_content (ud, "audio", c);
  g_string_append_printf (ud, " %" G_GSIZE_FORMAT " %u\n", len, pcm[0]);
}

static void
on_tool (gpointer ud, const gchar * id, const gchar * name, const gchar * args)
{
  g_string_append_printf (ud, "tool %s %s %s\n", id, name, args);
}

static void
on_content_end (gpointer ud, const GstS2SNovaContent * c, const gchar * r)
{
  log_content (ud, "end", c);
  g_string_append_printf (ud, " %s\n", r ? r : "-");
}

static void
on_interrupted (gpointer ud)
{
  g_string_append (ud, "interrupted\n");
}

static void
on_usage (gpointer ud, const GstS2SNovaUsage * u)
{
  g_string_append_printf (ud, "usage %" G_GINT64_FORMAT " %" G_GINT64_FORMAT
      " %" G_GINT64_FORMAT " %" G_GINT64_FORMAT " %" G_GINT64_FORMAT " %"
      G_GINT64_FORMAT " %" G_GINT64_FORMAT "\n", u->input_speech_tokens,
      u->input_text_tokens, u->output_speech_tokens, u->output_text_tokens,
      u->total_input_tokens, u->total_output_tokens, u->total_tokens);
}

static void
on_completion_start (gpointer ud, const gchar * id)
{
  g_string_append_printf (ud, "completion-start %s\n", id);
}

static void
on_completion_end (gpointer ud, const gchar * reason)
{
  g_string_append_printf (ud, "completion-end %s\n", reason);
}

static void
on_exception (gpointer ud, const gchar * type, const gchar * message)
{
  g_string_append_printf (ud, "exception %s '%s'\n", type, message);
}

static const GstS2SNovaCallbacks callbacks = {
  on_completion_start, on_content_start, on_text, on_audio, on_tool,
  on_content_end, on_interrupted, on_usage, on_completion_end, on_exception
};

/* a server event as Bedrock frames it */
static GstS2SAwsMessage *
server_event (const gchar * json)
{
  GstS2SAwsMessage *msg = gst_s2s_aws_message_new ();
  gchar *b64 = g_base64_encode ((const guchar *) json, strlen (json));
  gchar *payload = g_strdup_printf ("{\"bytes\":\"%s\",\"p\":\"abc\"}", b64);

  gst_s2s_aws_message_add_string (msg, ":message-type", "event");
  gst_s2s_aws_message_add_string (msg, ":event-type", "chunk");
  gst_s2s_aws_message_add_string (msg, ":content-type", "application/json");
  gst_s2s_aws_message_set_payload (msg, (const guint8 *) payload,
      strlen (payload));
  g_free (payload);
  g_free (b64);
  return msg;
}

#define IDS "\"sessionId\":\"s\",\"promptName\":\"p\",\"completionId\":\"c\""

static void
test_output_turn (void)
{
  static const gchar *events[] = {
    "{\"event\":{\"completionStart\":{" IDS "}}}",
    "{\"event\":{\"contentStart\":{" IDS ",\"contentId\":\"u1\",\"type\":"
        "\"TEXT\",\"role\":\"USER\",\"additionalModelFields\":"
        "\"{\\\"generationStage\\\":\\\"FINAL\\\"}\"}}}",
    "{\"event\":{\"textOutput\":{" IDS ",\"contentId\":\"u1\",\"role\":"
        "\"USER\",\"content\":\"weather in Paris?\"}}}",
    "{\"event\":{\"contentEnd\":{" IDS ",\"contentId\":\"u1\",\"type\":"
        "\"TEXT\",\"stopReason\":\"PARTIAL_TURN\"}}}",
    "{\"event\":{\"contentStart\":{" IDS ",\"contentId\":\"t1\",\"type\":"
        "\"TOOL\",\"role\":\"TOOL\"}}}",
    "{\"event\":{\"toolUse\":{" IDS ",\"contentId\":\"t1\",\"toolName\":"
        "\"get_weather\",\"toolUseId\":\"tu-1\",\"content\":"
        "\"{\\\"city\\\":\\\"Paris\\\"}\"}}}",
    "{\"event\":{\"contentEnd\":{" IDS ",\"contentId\":\"t1\",\"type\":"
        "\"TOOL\",\"stopReason\":\"TOOL_USE\"}}}",
    "{\"event\":{\"contentStart\":{" IDS ",\"contentId\":\"a1\",\"type\":"
        "\"TEXT\",\"role\":\"ASSISTANT\",\"additionalModelFields\":"
        "\"{\\\"generationStage\\\":\\\"SPECULATIVE\\\"}\"}}}",
    "{\"event\":{\"textOutput\":{" IDS ",\"contentId\":\"a1\",\"role\":"
        "\"ASSISTANT\",\"content\":\"It is sunny.\"}}}",
    "{\"event\":{\"contentEnd\":{" IDS ",\"contentId\":\"a1\",\"type\":"
        "\"TEXT\",\"stopReason\":\"PARTIAL_TURN\"}}}",
    "{\"event\":{\"contentStart\":{" IDS ",\"contentId\":\"a2\",\"type\":"
        "\"AUDIO\",\"role\":\"ASSISTANT\"}}}",
    /* 3 bytes: one whole sample kept */
    "{\"event\":{\"audioOutput\":{" IDS ",\"contentId\":\"a2\",\"content\":"
        "\"BwgJ\"}}}",
    "{\"event\":{\"textOutput\":{" IDS ",\"contentId\":\"a1\",\"role\":"
        "\"ASSISTANT\",\"content\":\"{ \\\"interrupted\\\" : true }\"}}}",
    "{\"event\":{\"contentEnd\":{" IDS ",\"contentId\":\"a2\",\"type\":"
        "\"AUDIO\",\"stopReason\":\"INTERRUPTED\"}}}",
    "{\"event\":{\"usageEvent\":{" IDS ",\"details\":{\"delta\":{},\"total\":"
        "{\"input\":{\"speechTokens\":11,\"textTokens\":12},\"output\":"
        "{\"speechTokens\":13,\"textTokens\":14}}},\"totalInputTokens\":23,"
        "\"totalOutputTokens\":27,\"totalTokens\":50}}}",
    "{\"event\":{\"someFutureEvent\":{\"x\":1}}}",
    "{\"event\":{\"completionEnd\":{" IDS ",\"stopReason\":\"END_TURN\"}}}",
  };
  GstS2SNovaProtocol *proto = gst_s2s_nova_protocol_new ();
  GString *log = g_string_new (NULL);
  GError *err = NULL;
  guint i;

  for (i = 0; i < G_N_ELEMENTS (events); i++) {
    GstS2SAwsMessage *msg = server_event (events[i]);
    g_assert_true (gst_s2s_nova_protocol_handle_message (proto, msg,
            &callbacks, log, &err));
    g_assert_no_error (err);
    gst_s2s_aws_message_free (msg);
  }
  g_assert_cmpstr (log->str, ==,
      "completion-start c\n"
      "start USER TEXT FINAL\n"
      "text USER TEXT FINAL 'weather in Paris?'\n"
      "end USER TEXT FINAL PARTIAL_TURN\n"
      "start TOOL TOOL -\n"
      "tool tu-1 get_weather {\"city\":\"Paris\"}\n"
      "end TOOL TOOL - TOOL_USE\n"
      "start ASSISTANT TEXT SPECULATIVE\n"
      "text ASSISTANT TEXT SPECULATIVE 'It is sunny.'\n"
      "end ASSISTANT TEXT SPECULATIVE PARTIAL_TURN\n"
      "start ASSISTANT AUDIO -\n"
      "audio ASSISTANT AUDIO - 2 7\n"
      "interrupted\n"
      "end ASSISTANT AUDIO - INTERRUPTED\n"
      "usage 11 12 13 14 23 27 50\n" "completion-end END_TURN\n");
  g_string_free (log, TRUE);
  gst_s2s_nova_protocol_free (proto);
}

static void
test_output_exceptions (void)
{
  GstS2SNovaProtocol *proto = gst_s2s_nova_protocol_new ();
  GString *log = g_string_new (NULL);
  GstS2SAwsMessage *msg;
  GError *err = NULL;

  msg = gst_s2s_aws_message_new ();
  gst_s2s_aws_message_add_string (msg, ":message-type", "exception");
  gst_s2s_aws_message_add_string (msg, ":exception-type",
      "modelTimeoutException");
  gst_s2s_aws_message_add_string (msg, ":content-type", "application/json");
  gst_s2s_aws_message_set_payload (msg, (const guint8 *)
      "{\"message\":\"Model has timed out in processing the request\"}", 59);
  g_assert_true (gst_s2s_nova_protocol_handle_message (proto, msg, &callbacks,
          log, &err));
  gst_s2s_aws_message_free (msg);

  msg = gst_s2s_aws_message_new ();
  gst_s2s_aws_message_add_string (msg, ":message-type", "error");
  gst_s2s_aws_message_add_string (msg, ":error-code", "code");
  gst_s2s_aws_message_add_string (msg, ":error-message", "message");
  g_assert_true (gst_s2s_nova_protocol_handle_message (proto, msg, &callbacks,
          log, &err));
  gst_s2s_aws_message_free (msg);
  g_assert_cmpstr (log->str, ==, "exception modelTimeoutException "
      "'Model has timed out in processing the request'\n"
      "exception code 'message'\n");

  /* not an event; no bytes; bytes not JSON; JSON without event */
  msg = gst_s2s_aws_message_new ();
  g_assert_false (gst_s2s_nova_protocol_handle_message (proto, msg,
          &callbacks, log, &err));
  g_assert_nonnull (err);
  g_clear_error (&err);
  gst_s2s_aws_message_add_string (msg, ":message-type", "event");
  gst_s2s_aws_message_set_payload (msg, (const guint8 *) "{\"x\":1}", 7);
  g_assert_false (gst_s2s_nova_protocol_handle_message (proto, msg,
          &callbacks, log, &err));
  g_clear_error (&err);
  gst_s2s_aws_message_free (msg);
  msg = server_event ("not json");
  g_assert_false (gst_s2s_nova_protocol_handle_message (proto, msg,
          &callbacks, log, &err));
  g_clear_error (&err);
  gst_s2s_aws_message_free (msg);
  msg = server_event ("{\"other\":{}}");
  g_assert_false (gst_s2s_nova_protocol_handle_message (proto, msg,
          &callbacks, log, &err));
  g_clear_error (&err);
  gst_s2s_aws_message_free (msg);

  g_string_free (log, TRUE);
  gst_s2s_nova_protocol_free (proto);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/nova/protocol/input/start-sequence-nova2",
      test_start_sequence_nova2);
  g_test_add_func ("/nova/protocol/input/start-sequence-nova1",
      test_start_sequence_nova1);
  g_test_add_func ("/nova/protocol/input/history-limits", test_history_limits);
  g_test_add_func ("/nova/protocol/output/turn", test_output_turn);
  g_test_add_func ("/nova/protocol/output/exceptions", test_output_exceptions);
  return g_test_run ();
}
