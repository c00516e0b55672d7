/* gst-s2s
 * Copyright (C) 2026 gst-s2s developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Amazon Nova Sonic events (reference/gemini-nova.md §B6 input, §B7
 * output), without transport.
 */

#include <string.h>
#include <json-glib/json-glib.h>

#include "gsts2snova-protocol.h"

struct _GstS2SNovaProtocol
{
  gchar *prompt_name;
  gchar *audio_content;         /* the open audio block, or NULL */
  GHashTable *contents;         /* contentId -> Content */
  gboolean interrupted;         /* reported for the current response */
};

typedef struct
{
  gchar *id;
  gchar *type;
  gchar *role;
  GstS2SNovaStage stage;
} Content;

static void
content_free (gpointer p)
{
  Content *c = p;

  g_free (c->id);
  g_free (c->type);
  g_free (c->role);
  g_free (c);
}

GstS2SNovaProtocol *
gst_s2s_nova_protocol_new (void)
{
  GstS2SNovaProtocol *proto = g_new0 (GstS2SNovaProtocol, 1);

  proto->prompt_name = g_uuid_string_random ();
  proto->contents = g_hash_table_new_full (g_str_hash, g_str_equal, NULL,
      content_free);
  return proto;
}

void
gst_s2s_nova_protocol_free (GstS2SNovaProtocol * proto)
{
  if (!proto)
    return;
  g_free (proto->prompt_name);
  g_free (proto->audio_content);
  g_hash_table_unref (proto->contents);
  g_free (proto);
}

const gchar *
gst_s2s_nova_protocol_get_prompt_name (GstS2SNovaProtocol * proto)
{
  return proto->prompt_name;
}

/* ---- client events ---- */

/* {"event":{name:body}} as a string; takes body */
static void
emit (GPtrArray * events, const gchar * name, JsonObject * body)
{
  JsonObject *inner = json_object_new (), *outer = json_object_new ();
  JsonNode *root = json_node_new (JSON_NODE_OBJECT);

  json_object_set_object_member (inner, name, body);
  json_object_set_object_member (outer, "event", inner);
  json_node_take_object (root, outer);
  g_ptr_array_add (events, json_to_string (root, FALSE));
  json_node_unref (root);
}

static JsonObject *
prompt_object (GstS2SNovaProtocol * proto, const gchar * content_name)
{
  JsonObject *o = json_object_new ();

  json_object_set_string_member (o, "promptName", proto->prompt_name);
  if (content_name)
    json_object_set_string_member (o, "contentName", content_name);
  return o;
}

static JsonObject *
media_type (const gchar * type)
{
  JsonObject *o = json_object_new ();

  json_object_set_string_member (o, "mediaType", type);
  return o;
}

static JsonObject *
lpcm_config (gint rate)
{
  JsonObject *o = media_type ("audio/lpcm");

  json_object_set_int_member (o, "sampleRateHertz", rate);
  json_object_set_int_member (o, "sampleSizeBits", 16);
  json_object_set_int_member (o, "channelCount", 1);
  return o;
}

/* A whole TEXT block: contentStart, textInput(s) of at most 1 KiB each
 * (split on UTF-8 boundaries), contentEnd */
static void
text_block (GstS2SNovaProtocol * proto, const gchar * role,
    gboolean interactive, const gchar * text, GPtrArray * events)
{
  gchar *name = g_uuid_string_random ();
  JsonObject *o = prompt_object (proto, name);
  const gchar *p = text;

  json_object_set_string_member (o, "type", "TEXT");
  json_object_set_boolean_member (o, "interactive", interactive);
  json_object_set_string_member (o, "role", role);
  json_object_set_object_member (o, "textInputConfiguration",
      media_type ("text/plain"));
  emit (events, "contentStart", o);

  do {
    const gchar *end = p + strlen (p);
    gchar *chunk;

    if (end - p > GST_S2S_NOVA_TEXT_INPUT_MAX_BYTES) {
      end = p + GST_S2S_NOVA_TEXT_INPUT_MAX_BYTES;
      while (end > p && (((guchar) * end) & 0xC0) == 0x80)
        end--;
    }
    chunk = g_strndup (p, end - p);
    o = prompt_object (proto, name);
    json_object_set_string_member (o, "content", chunk);
    emit (events, "textInput", o);
    g_free (chunk);
    p = end;
  } while (*p);

  emit (events, "contentEnd", prompt_object (proto, name));
  g_free (name);
}

static JsonObject *
tool_configuration (JsonArray * tools)
{
  JsonObject *conf = json_object_new ();
  JsonArray *out = json_array_new ();
  guint i;

  for (i = 0; i < json_array_get_length (tools); i++) {
    JsonNode *node = json_array_get_element (tools, i);
    JsonObject *t, *spec, *schema, *wrap;
    JsonNode *params;
    gchar *params_str;

    if (!JSON_NODE_HOLDS_OBJECT (node))
      continue;
    t = json_node_get_object (node);
    if (!json_object_has_member (t, "name"))
      continue;
    spec = json_object_new ();
    json_object_set_string_member (spec, "name",
        json_object_get_string_member (t, "name"));
    json_object_set_string_member (spec, "description",
        json_object_get_string_member_with_default (t, "description", ""));
    params = json_object_get_member (t, "parameters");
    /* inputSchema.json is the schema as a JSON *string* */
    params_str = params ? json_to_string (params, FALSE) :
        g_strdup ("{\"type\":\"object\",\"properties\":{}}");
    schema = json_object_new ();
    json_object_set_string_member (schema, "json", params_str);
    g_free (params_str);
    json_object_set_object_member (spec, "inputSchema", schema);
    wrap = json_object_new ();
    json_object_set_object_member (wrap, "toolSpec", spec);
    json_array_add_object_element (out, wrap);
  }
  json_object_set_array_member (conf, "tools", out);
  return conf;
}

typedef struct
{
  const gchar *role;
  GString *text;
} HistoryMessage;

/* §B9: text messages only, first one USER, consecutive same-role texts
 * merged, the oldest dropped until the total fits 40 KiB */
static GArray *
history_messages (JsonArray * items)
{
  GArray *msgs = g_array_new (FALSE, TRUE, sizeof (HistoryMessage));
  gsize total = 0;
  guint i, first = 0;

  for (i = 0; i < json_array_get_length (items); i++) {
    JsonNode *node = json_array_get_element (items, i);
    JsonObject *o;
    const gchar *role, *text;
    HistoryMessage m;

    if (!JSON_NODE_HOLDS_OBJECT (node))
      continue;
    o = json_node_get_object (node);
    if (g_strcmp0 (json_object_get_string_member_with_default (o, "type",
                "message"), "message") != 0)
      continue;
    role = json_object_get_string_member_with_default (o, "role", "");
    text = json_object_get_string_member_with_default (o, "text", "");
    if (!text[0])
      continue;
    if (!g_ascii_strcasecmp (role, "user"))
      role = "USER";
    else if (!g_ascii_strcasecmp (role, "assistant"))
      role = "ASSISTANT";
    else
      continue;
    if (msgs->len == 0 && strcmp (role, "USER") != 0)
      continue;
    if (msgs->len && !strcmp (g_array_index (msgs, HistoryMessage,
                msgs->len - 1).role, role)) {
      g_string_append_printf (g_array_index (msgs, HistoryMessage,
              msgs->len - 1).text, "\n%s", text);
      continue;
    }
    m.role = role;
    m.text = g_string_new (text);
    g_array_append_val (msgs, m);
  }

  for (i = 0; i < msgs->len; i++)
    total += g_array_index (msgs, HistoryMessage, i).text->len;
  while (total > GST_S2S_NOVA_HISTORY_MAX_BYTES && first < msgs->len) {
    /* drop a USER+ASSISTANT pair so the first message stays USER */
    guint n = MIN (2, msgs->len - first), k;
    for (k = 0; k < n; k++) {
      HistoryMessage *m = &g_array_index (msgs, HistoryMessage, first + k);
      total -= m->text->len;
      g_string_free (m->text, TRUE);
      m->text = NULL;
    }
    first += n;
  }
  if (first)
    g_array_remove_range (msgs, 0, first);
  return msgs;
}

static gboolean
parse_json_array (const gchar * json, const gchar * what, JsonNode ** node,
    GError ** error)
{
  GError *err = NULL;

  *node = NULL;
  if (!json || !json[0])
    return TRUE;
  *node = json_from_string (json, &err);
  if (!*node || !JSON_NODE_HOLDS_ARRAY (*node)) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
        "%s must be a JSON array: %s", what, err ? err->message : "not an "
        "array");
    g_clear_error (&err);
    g_clear_pointer (node, json_node_unref);
    return FALSE;
  }
  return TRUE;
}

gboolean
gst_s2s_nova_protocol_start (GstS2SNovaProtocol * proto,
    const GstS2SNovaSessionConfig * config, GPtrArray * events, GError ** error)
{
  JsonNode *tools = NULL, *history = NULL;
  JsonObject *o, *inf, *audio;
  gboolean have_tools;

  if (!parse_json_array (config->tools_json, "tools", &tools, error) ||
      !parse_json_array (config->history_json, "history", &history, error)) {
    g_clear_pointer (&tools, json_node_unref);
    return FALSE;
  }
  have_tools = tools && json_array_get_length (json_node_get_array (tools));

  o = json_object_new ();
  inf = json_object_new ();
  json_object_set_int_member (inf, "maxTokens",
      config->max_tokens > 0 ? config->max_tokens : 1024);
  json_object_set_double_member (inf, "topP",
      config->top_p >= 0 ? config->top_p : 0.9);
  json_object_set_double_member (inf, "temperature",
      config->temperature >= 0 ? config->temperature : 0.7);
  json_object_set_object_member (o, "inferenceConfiguration", inf);
  if (config->nova2 && config->endpointing_sensitivity) {
    JsonObject *td = json_object_new ();
    json_object_set_string_member (td, "endpointingSensitivity",
        config->endpointing_sensitivity);
    json_object_set_object_member (o, "turnDetectionConfiguration", td);
  }
  emit (events, "sessionStart", o);

  o = prompt_object (proto, NULL);
  json_object_set_object_member (o, "textOutputConfiguration",
      media_type ("text/plain"));
  audio = lpcm_config (GST_S2S_NOVA_OUTPUT_RATE);
  json_object_set_string_member (audio, "voiceId",
      config->voice && config->voice[0] ? config->voice : "matthew");
  json_object_set_string_member (audio, "encoding", "base64");
  json_object_set_string_member (audio, "audioType", "SPEECH");
  json_object_set_object_member (o, "audioOutputConfiguration", audio);
  if (have_tools) {
    json_object_set_object_member (o, "toolUseOutputConfiguration",
        media_type ("application/json"));
    json_object_set_object_member (o, "toolConfiguration",
        tool_configuration (json_node_get_array (tools)));
  }
  emit (events, "promptStart", o);

  if (config->system_prompt && config->system_prompt[0])
    text_block (proto, "SYSTEM", FALSE, config->system_prompt, events);

  if (history) {
    GArray *msgs = history_messages (json_node_get_array (history));
    guint i;

    for (i = 0; i < msgs->len; i++) {
      HistoryMessage *m = &g_array_index (msgs, HistoryMessage, i);
      text_block (proto, m->role, FALSE, m->text->str, events);
      g_string_free (m->text, TRUE);
    }
    g_array_unref (msgs);
  }

  g_free (proto->audio_content);
  proto->audio_content = g_uuid_string_random ();
  o = prompt_object (proto, proto->audio_content);
  json_object_set_string_member (o, "type", "AUDIO");
  json_object_set_boolean_member (o, "interactive", TRUE);
  json_object_set_string_member (o, "role", "USER");
  audio = lpcm_config (GST_S2S_NOVA_INPUT_RATE);
  json_object_set_string_member (audio, "audioType", "SPEECH");
  json_object_set_string_member (audio, "encoding", "base64");
  json_object_set_object_member (o, "audioInputConfiguration", audio);
  emit (events, "contentStart", o);

  g_clear_pointer (&tools, json_node_unref);
  g_clear_pointer (&history, json_node_unref);
  return TRUE;
}

gchar *
gst_s2s_nova_protocol_audio_input (GstS2SNovaProtocol * proto,
    const guint8 * pcm, gsize len)
{
  gchar *b64 = g_base64_encode (pcm, len);
  gchar *json;

  g_return_val_if_fail (proto->audio_content != NULL, NULL);
  /* hot path: formatted directly, the ids are UUIDs and need no escaping */
  json = g_strdup_printf ("{\"event\":{\"audioInput\":{\"promptName\":\"%s\","
      "\"contentName\":\"%s\",\"content\":\"%s\"}}}", proto->prompt_name,
      proto->audio_content, b64);
  g_free (b64);
  return json;
}

void
gst_s2s_nova_protocol_tool_result (GstS2SNovaProtocol * proto,
    const gchar * tool_use_id, const gchar * result, GPtrArray * events)
{
  gchar *name = g_uuid_string_random ();
  JsonObject *o = prompt_object (proto, name), *conf;

  json_object_set_boolean_member (o, "interactive", FALSE);
  json_object_set_string_member (o, "type", "TOOL");
  json_object_set_string_member (o, "role", "TOOL");
  conf = json_object_new ();
  json_object_set_string_member (conf, "toolUseId", tool_use_id);
  json_object_set_string_member (conf, "type", "TEXT");
  json_object_set_object_member (conf, "textInputConfiguration",
      media_type ("text/plain"));
  json_object_set_object_member (o, "toolResultInputConfiguration", conf);
  emit (events, "contentStart", o);

  o = prompt_object (proto, name);
  /* the result is a JSON string, sent as the string value */
  json_object_set_string_member (o, "content", result);
  emit (events, "toolResult", o);

  emit (events, "contentEnd", prompt_object (proto, name));
  g_free (name);
}

void
gst_s2s_nova_protocol_text_input (GstS2SNovaProtocol * proto,
    const gchar * text, GPtrArray * events)
{
  text_block (proto, "USER", TRUE, text, events);
}

void
gst_s2s_nova_protocol_end (GstS2SNovaProtocol * proto, GPtrArray * events)
{
  if (proto->audio_content) {
    emit (events, "contentEnd", prompt_object (proto, proto->audio_content));
    g_clear_pointer (&proto->audio_content, g_free);
  }
  emit (events, "promptEnd", prompt_object (proto, NULL));
  emit (events, "sessionEnd", json_object_new ());
}

/* ---- server events ---- */

static const gchar *
str_member (JsonObject * o, const gchar * name)
{
  JsonNode *n = json_object_get_member (o, name);

  return n && JSON_NODE_HOLDS_VALUE (n) &&
      json_node_get_value_type (n) == G_TYPE_STRING ?
      json_node_get_string (n) : NULL;
}

static gint64
int_member (JsonObject * o, const gchar * name)
{
  JsonNode *n = o ? json_object_get_member (o, name) : NULL;

  return n && JSON_NODE_HOLDS_VALUE (n) &&
      (json_node_get_value_type (n) == G_TYPE_INT64 ||
      json_node_get_value_type (n) == G_TYPE_DOUBLE) ?
      json_node_get_int (n) : 0;
}

static JsonObject *
obj_member (JsonObject * o, const gchar * name)
{
  JsonNode *n = o ? json_object_get_member (o, name) : NULL;

  return n && JSON_NODE_HOLDS_OBJECT (n) ? json_node_get_object (n) : NULL;
}

/* additionalModelFields is a JSON string holding {"generationStage":...} */
static GstS2SNovaStage
parse_stage (JsonObject * o)
{
  const gchar *fields = str_member (o, "additionalModelFields");
  GstS2SNovaStage stage = GST_S2S_NOVA_STAGE_NONE;
  JsonNode *node;

  if (!fields)
    return stage;
  node = json_from_string (fields, NULL);
  if (node && JSON_NODE_HOLDS_OBJECT (node)) {
    const gchar *s = str_member (json_node_get_object (node),
        "generationStage");
    if (!g_strcmp0 (s, "SPECULATIVE"))
      stage = GST_S2S_NOVA_STAGE_SPECULATIVE;
    else if (!g_strcmp0 (s, "FINAL"))
      stage = GST_S2S_NOVA_STAGE_FINAL;
  }
  if (node)
    json_node_unref (node);
  return stage;
}

static void
fill_content (GstS2SNovaContent * out, const Content * c, const gchar * id)
{
  out->content_id = id;
  out->type = c ? c->type : NULL;
  out->role = c ? c->role : NULL;
  out->stage = c ? c->stage : GST_S2S_NOVA_STAGE_NONE;
}

static void
report_interrupted (GstS2SNovaProtocol * proto,
    const GstS2SNovaCallbacks * cb, gpointer ud)
{
  if (proto->interrupted)
    return;
  proto->interrupted = TRUE;
  if (cb->interrupted)
    cb->interrupted (ud);
}

/* {"interrupted":true} with any spacing */
static gboolean
is_interruption (const gchar * text)
{
  JsonNode *node;
  gboolean yes = FALSE;

  if (!text || !strstr (text, "interrupted"))
    return FALSE;
  node = json_from_string (text, NULL);
  if (node && JSON_NODE_HOLDS_OBJECT (node)) {
    JsonObject *o = json_node_get_object (node);
    JsonNode *v = json_object_get_member (o, "interrupted");
    yes = json_object_get_size (o) == 1 && v && JSON_NODE_HOLDS_VALUE (v) &&
        json_node_get_value_type (v) == G_TYPE_BOOLEAN &&
        json_node_get_boolean (v);
  }
  if (node)
    json_node_unref (node);
  return yes;
}

static void
handle_event (GstS2SNovaProtocol * proto, const gchar * name, JsonObject * o,
    const GstS2SNovaCallbacks * cb, gpointer ud)
{
  const gchar *id = str_member (o, "contentId");
  Content *c = id ? g_hash_table_lookup (proto->contents, id) : NULL;
  GstS2SNovaContent content;

  if (!strcmp (name, "completionStart")) {
    if (cb->completion_start)
      cb->completion_start (ud, str_member (o, "completionId"));
  } else if (!strcmp (name, "contentStart")) {
    if (!id)
      return;
    c = g_new0 (Content, 1);
    c->id = g_strdup (id);
    c->type = g_strdup (str_member (o, "type"));
    c->role = g_strdup (str_member (o, "role"));
    c->stage = parse_stage (o);
    g_hash_table_replace (proto->contents, c->id, c);
    /* a new response may be interrupted again */
    if (!g_strcmp0 (c->role, "ASSISTANT") && !g_strcmp0 (c->type, "AUDIO"))
      proto->interrupted = FALSE;
    fill_content (&content, c, id);
    if (cb->content_start)
      cb->content_start (ud, &content);
  } else if (!strcmp (name, "textOutput")) {
    const gchar *text = str_member (o, "content");

    if (!text)
      return;
    if (is_interruption (text)) {
      report_interrupted (proto, cb, ud);
      return;
    }
    fill_content (&content, c, id);
    if (!content.role)
      content.role = str_member (o, "role");
    if (cb->text_output)
      cb->text_output (ud, &content, text);
  } else if (!strcmp (name, "audioOutput")) {
    const gchar *b64 = str_member (o, "content");
    guchar *pcm;
    gsize len;

    if (!b64)
      return;
    pcm = g_base64_decode (b64, &len);
    fill_content (&content, c, id);
    /* whole samples only */
    if (cb->audio_output && len >= 2)
      cb->audio_output (ud, &content, pcm, len & ~(gsize) 1);
    g_free (pcm);
  } else if (!strcmp (name, "toolUse")) {
    const gchar *tid = str_member (o, "toolUseId");
    const gchar *tname = str_member (o, "toolName");
    const gchar *args = str_member (o, "content");

    if (tid && tname && cb->tool_use)
      cb->tool_use (ud, tid, tname, args ? args : "{}");
  } else if (!strcmp (name, "contentEnd")) {
    const gchar *reason = str_member (o, "stopReason");

    if (!g_strcmp0 (reason, "INTERRUPTED"))
      report_interrupted (proto, cb, ud);
    fill_content (&content, c, id);
    if (!content.type)
      content.type = str_member (o, "type");
    if (cb->content_end)
      cb->content_end (ud, &content, reason);
    if (id)
      g_hash_table_remove (proto->contents, id);
  } else if (!strcmp (name, "usageEvent")) {
    GstS2SNovaUsage u = { 0, };
    JsonObject *total = obj_member (obj_member (o, "details"), "total");

    u.input_speech_tokens =
        int_member (obj_member (total, "input"), "speechTokens");
    u.input_text_tokens = int_member (obj_member (total, "input"),
        "textTokens");
    u.output_speech_tokens =
        int_member (obj_member (total, "output"), "speechTokens");
    u.output_text_tokens = int_member (obj_member (total, "output"),
        "textTokens");
    u.total_input_tokens = int_member (o, "totalInputTokens");
    u.total_output_tokens = int_member (o, "totalOutputTokens");
    u.total_tokens = int_member (o, "totalTokens");
    if (cb->usage)
      cb->usage (ud, &u);
  } else if (!strcmp (name, "completionEnd")) {
    if (cb->completion_end)
      cb->completion_end (ud, str_member (o, "stopReason"));
  }
}

gboolean
gst_s2s_nova_protocol_handle_event_json (GstS2SNovaProtocol * proto,
    const gchar * json, gssize len, const GstS2SNovaCallbacks * cb,
    gpointer user_data, GError ** error)
{
  JsonParser *parser = json_parser_new_immutable ();
  JsonObject *event;
  GList *members, *l;
  GError *err = NULL;

  if (!json_parser_load_from_data (parser, json, len, &err)) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
        "Nova event is not JSON: %s", err->message);
    g_clear_error (&err);
    g_object_unref (parser);
    return FALSE;
  }
  event = JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)) ?
      obj_member (json_node_get_object (json_parser_get_root (parser)),
      "event") : NULL;
  if (!event) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
        "Nova event lacks the \"event\" object");
    g_object_unref (parser);
    return FALSE;
  }
  members = json_object_get_members (event);
  for (l = members; l; l = l->next) {
    JsonObject *body = obj_member (event, l->data);
    if (body)
      handle_event (proto, l->data, body, cb, user_data);
  }
  g_list_free (members);
  g_object_unref (parser);
  return TRUE;
}

gboolean
gst_s2s_nova_protocol_handle_message (GstS2SNovaProtocol * proto,
    const GstS2SAwsMessage * msg, const GstS2SNovaCallbacks * cb,
    gpointer user_data, GError ** error)
{
  const gchar *mtype = gst_s2s_aws_message_get_string (msg, ":message-type");
  gsize len;
  const gchar *payload = g_bytes_get_data (msg->payload, &len);
  JsonNode *node;
  const gchar *b64;
  guchar *json;
  gsize json_len;
  gboolean ok;

  if (!g_strcmp0 (mtype, "exception") || !g_strcmp0 (mtype, "error")) {
    const gchar *type = gst_s2s_aws_message_get_string (msg,
        !g_strcmp0 (mtype, "error") ? ":error-code" : ":exception-type");
    gchar *message = NULL;

    if (!g_strcmp0 (mtype, "error")) {
      message = g_strdup (gst_s2s_aws_message_get_string (msg,
              ":error-message"));
    } else if (len) {
      gchar *text = g_strndup (payload, len);
      node = json_from_string (text, NULL);
      g_free (text);
      if (node && JSON_NODE_HOLDS_OBJECT (node))
        message = g_strdup (str_member (json_node_get_object (node),
                "message"));
      if (node)
        json_node_unref (node);
    }
    if (cb->exception)
      cb->exception (user_data, type ? type : "unknown",
          message ? message : "");
    g_free (message);
    return TRUE;
  }
  if (g_strcmp0 (mtype, "event") != 0) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
        "unexpected event-stream message type '%s'", mtype ? mtype : "(none)");
    return FALSE;
  }

  {
    gchar *text = g_strndup (payload, len);
    node = json_from_string (text, NULL);
    g_free (text);
  }
  b64 = node && JSON_NODE_HOLDS_OBJECT (node) ?
      str_member (json_node_get_object (node), "bytes") : NULL;
  if (!b64) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
        "Nova event payload lacks \"bytes\"");
    if (node)
      json_node_unref (node);
    return FALSE;
  }
  json = g_base64_decode (b64, &json_len);
  json_node_unref (node);
  ok = gst_s2s_nova_protocol_handle_event_json (proto, (const gchar *) json,
      json_len, cb, user_data, error);
  g_free (json);
  return ok;
}
