/* gst-s2s
 * Copyright (C) 2026 gst-s2s developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/**
 * SECTION:element-s2snova
 * @title: s2snova
 *
 * Streams the user's voice to Amazon Nova Sonic (Nova 2 Sonic by default)
 * on Bedrock's bidirectional stream and plays the spoken reply on its src
 * pad, with transcripts, tool calls, usage and barge-in reported as element
 * messages like every s2s element. The session is one full-duplex HTTP/2
 * request (own HTTP/2 client on libnghttp2); every client event is an AWS
 * event-stream message in a SigV4-signed envelope chained from the request
 * signature.
 *
 * Input is 16 kHz S16LE mono, output 24 kHz S16LE mono. Credentials come
 * from the properties, then `AWS_ACCESS_KEY_ID`/`AWS_SECRET_ACCESS_KEY`/
 * `AWS_SESSION_TOKEN`, then the shared credentials and config files
 * (`profile` or `AWS_PROFILE`); the region from `region`, `AWS_REGION`,
 * `AWS_DEFAULT_REGION` or the config file. The endpoint is
 * `https://bedrock-runtime.<region>.amazonaws.com` unless `url` is set.
 *
 * With Nova 2, `silence-duration` picks the endpointing sensitivity: up to
 * 1500 ms HIGH, up to 1750 ms MEDIUM, above LOW (unset: the service
 * default).
 *
 * ## Example launch line
 * |[
 * gst-launch-1.0 -m filesrc location=question-16k.wav ! wavparse ! \
 *     s2snova url=http://127.0.0.1:8766 region=us-east-1 \
 *     access-key-id=AKIDEXAMPLE \
 *     secret-access-key=wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY \
 *     silence-duration=1500 ! wavenc ! filesink location=reply.wav
 * ]| Against `s2s-emulator --nova-port 8766`.
 * |[
 * gst-launch-1.0 autoaudiosrc ! audioconvert ! audioresample ! \
 *     s2snova region=us-east-1 ! audioconvert ! audioresample ! autoaudiosink
 * ]| A live conversation with Nova 2 Sonic (AWS credentials from the
 * environment).
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <string.h>
#include <glib/gi18n-lib.h>

#include "gsts2snova.h"
#include "gsts2selements.h"
#include "aws/h2client.h"
#include "aws/credentials.h"
#include "aws/eventstream.h"
#include "aws/sigv4.h"

GST_DEBUG_CATEGORY_STATIC (gst_s2s_nova_debug);
#define GST_CAT_DEFAULT gst_s2s_nova_debug

#define NOVA2_MODEL "amazon.nova-2-sonic-v1:0"
/* audioInput events of at most 100 ms, as the AWS samples send */
#define MAX_AUDIO_EVENT_BYTES (16000 * 2 / 10)
/* history textInput limit (§B9) */
#define MAX_TEXT_INPUT 1024
#define MAX_ERROR_BODY 4096

#define IN_CAPS "audio/x-raw, format = (string) S16LE, " \
    "layout = (string) interleaved, rate = (int) 16000, channels = (int) 1"
#define OUT_CAPS "audio/x-raw, format = (string) S16LE, " \
    "layout = (string) interleaved, rate = (int) 24000, channels = (int) 1"

static GstStaticPadTemplate sink_template = GST_STATIC_PAD_TEMPLATE ("sink",
    GST_PAD_SINK, GST_PAD_ALWAYS, GST_STATIC_CAPS (IN_CAPS));
static GstStaticPadTemplate src_template = GST_STATIC_PAD_TEMPLATE ("src",
    GST_PAD_SRC, GST_PAD_ALWAYS, GST_STATIC_CAPS (OUT_CAPS));

enum
{
  PROP_0,
  PROP_REGION,
  PROP_ACCESS_KEY_ID,
  PROP_SECRET_ACCESS_KEY,
  PROP_SESSION_TOKEN,
  PROP_PROFILE,
};

/* What a server contentStart announced */
typedef struct
{
  gchar *type;                  /* TEXT, AUDIO, TOOL */
  gchar *role;                  /* USER, ASSISTANT, TOOL */
  gboolean final;               /* generationStage FINAL */
} Content;

struct _GstS2SNova
{
  GstS2SBase parent;

  /* properties, object lock */
  gchar *region;
  gchar *access_key_id;
  gchar *secret_access_key;
  gchar *session_token;
  gchar *profile;

  /* I/O thread */
  GstS2SH2Client *h2;
  GstS2SAwsEventSigner *signer;
  GstS2SAwsDecoder *decoder;
  GByteArray *out;
  guint http_status;
  gchar *error_type;
  GString *error_body;
  gboolean nova2;
  gchar *prompt_name;
  gchar *audio_content;         /* open AUDIO block, NULL before the first */
  gboolean ending;

  JsonParser *parser;
  GHashTable *contents;         /* contentId -> Content */
  gchar *resp_id;               /* the assistant turn in progress */
  gchar *resp_item;
  guint resp_serial;
  GString *final_text;
};

G_DEFINE_TYPE_WITH_CODE (GstS2SNova, gst_s2s_nova, GST_TYPE_S2S_BASE,
    GST_DEBUG_CATEGORY_INIT (gst_s2s_nova_debug, "s2snova", 0,
        "Amazon Nova Sonic speech-to-speech"));
GST_ELEMENT_REGISTER_DEFINE_WITH_CODE (s2snova, "s2snova", GST_RANK_NONE,
    GST_TYPE_S2S_NOVA, s2s_element_init (plugin));

static void
content_free (gpointer p)
{
  Content *c = p;

  g_free (c->type);
  g_free (c->role);
  g_free (c);
}

/* ------------------------------------------------------------------------ */
/* Client events */

/* {"event": {name: body}}, wrapped, signed and queued on the stream by
 * transport_send. Takes @body. */
static void
send_event (GstS2SNova * self, const gchar * name, JsonObject * body)
{
  JsonObject *ev = json_object_new (), *wrap = json_object_new ();
  JsonNode *root = json_node_new (JSON_NODE_OBJECT);

  json_object_set_object_member (ev, name, body);
  json_object_set_object_member (wrap, "event", ev);
  json_node_take_object (root, wrap);
  gst_s2s_base_send_json (GST_S2S_BASE (self), root);
  json_node_unref (root);
}

static JsonObject *
prompt_body (GstS2SNova * self)
{
  JsonObject *o = json_object_new ();

  json_object_set_string_member (o, "promptName", self->prompt_name);
  return o;
}

static JsonObject *
content_body (GstS2SNova * self, const gchar * content_name)
{
  JsonObject *o = prompt_body (self);

  json_object_set_string_member (o, "contentName", content_name);
  return o;
}

static JsonObject *
text_config (void)
{
  JsonObject *o = json_object_new ();

  json_object_set_string_member (o, "mediaType", "text/plain");
  return o;
}

/* contentStart TEXT, textInput (split into ≤ 1 KiB pieces at UTF-8
 * boundaries), contentEnd */
static void
send_text_block (GstS2SNova * self, const gchar * role, gboolean interactive,
    const gchar * text)
{
  gchar *name = g_uuid_string_random ();
  JsonObject *o = content_body (self, name);
  const gchar *p = text;

  json_object_set_string_member (o, "type", "TEXT");
  json_object_set_boolean_member (o, "interactive", interactive);
  json_object_set_string_member (o, "role", role);
  json_object_set_object_member (o, "textInputConfiguration", text_config ());
  send_event (self, "contentStart", o);
  do {
    const gchar *end = p + strlen (p);
    gchar *piece;

    if (end - p > MAX_TEXT_INPUT) {
      end = p + MAX_TEXT_INPUT;
      while (end > p && (*end & 0xC0) == 0x80)
        end--;
    }
    piece = g_strndup (p, end - p);
    o = content_body (self, name);
    json_object_set_string_member (o, "content", piece);
    send_event (self, "textInput", o);
    g_free (piece);
    p = end;
  } while (*p);
  send_event (self, "contentEnd", content_body (self, name));
  g_free (name);
}

static void
ensure_audio_open (GstS2SNova * self)
{
  JsonObject *o, *cfg;

  if (self->audio_content)
    return;
  self->audio_content = g_uuid_string_random ();
  cfg = json_object_new ();
  json_object_set_string_member (cfg, "mediaType", "audio/lpcm");
  json_object_set_int_member (cfg, "sampleRateHertz", 16000);
  json_object_set_int_member (cfg, "sampleSizeBits", 16);
  json_object_set_int_member (cfg, "channelCount", 1);
  json_object_set_string_member (cfg, "audioType", "SPEECH");
  json_object_set_string_member (cfg, "encoding", "base64");
  o = content_body (self, self->audio_content);
  json_object_set_string_member (o, "type", "AUDIO");
  json_object_set_boolean_member (o, "interactive", TRUE);
  json_object_set_string_member (o, "role", "USER");
  json_object_set_object_member (o, "audioInputConfiguration", cfg);
  send_event (self, "contentStart", o);
}

static JsonObject *
tool_config (JsonArray * tools)
{
  JsonObject *cfg = json_object_new ();
  JsonArray *out = json_array_new ();
  guint i;

  for (i = 0; i < json_array_get_length (tools); i++) {
    JsonObject *t = json_array_get_object_element (tools, i);
    JsonObject *spec = json_object_new (), *schema = json_object_new ();
    JsonObject *wrap = json_object_new ();
    JsonNode *params = json_object_get_member (t, "parameters");
    gchar *params_json;

    json_object_set_string_member (spec, "name",
        json_object_get_string_member_with_default (t, "name", ""));
    json_object_set_string_member (spec, "description",
        json_object_get_string_member_with_default (t, "description", ""));
    /* the schema is a JSON string (§B6) */
    params_json = params ? json_to_string (params, FALSE) :
        g_strdup ("{\"type\":\"object\",\"properties\":{}}");
    json_object_set_string_member (schema, "json", params_json);
    g_free (params_json);
    json_object_set_object_member (spec, "inputSchema", schema);
    json_object_set_object_member (wrap, "toolSpec", spec);
    json_array_add_object_element (out, wrap);
  }
  json_object_set_array_member (cfg, "tools", out);
  return cfg;
}

static const gchar *
endpointing (gint silence_ms)
{
  if (silence_ms < 0)
    return NULL;
  if (silence_ms <= 1500)
    return "HIGH";
  if (silence_ms <= 1750)
    return "MEDIUM";
  return "LOW";
}

/* sessionStart, promptStart and the system prompt; the audio block opens
 * after the history, with the first audio */
static void
gst_s2s_nova_session_open (GstS2SBase * base, const GstS2SConfig * c)
{
  GstS2SNova *self = GST_S2S_NOVA (base);
  JsonObject *o = json_object_new (), *inf = json_object_new (), *aoc;

  json_object_set_int_member (inf, "maxTokens", c->max_output_tokens > 0 ?
      c->max_output_tokens : 1024);
  json_object_set_double_member (inf, "topP", 0.9);
  json_object_set_double_member (inf, "temperature", c->temperature >= 0 ?
      c->temperature : 0.7);
  json_object_set_object_member (o, "inferenceConfiguration", inf);
  if (self->nova2 && endpointing (c->silence_duration)) {
    JsonObject *td = json_object_new ();
    json_object_set_string_member (td, "endpointingSensitivity",
        endpointing (c->silence_duration));
    json_object_set_object_member (o, "turnDetectionConfiguration", td);
  }
  send_event (self, "sessionStart", o);

  g_free (self->prompt_name);
  self->prompt_name = g_uuid_string_random ();
  o = prompt_body (self);
  json_object_set_object_member (o, "textOutputConfiguration", text_config ());
  aoc = json_object_new ();
  json_object_set_string_member (aoc, "mediaType", "audio/lpcm");
  json_object_set_int_member (aoc, "sampleRateHertz", 24000);
  json_object_set_int_member (aoc, "sampleSizeBits", 16);
  json_object_set_int_member (aoc, "channelCount", 1);
  json_object_set_string_member (aoc, "voiceId", c->voice);
  json_object_set_string_member (aoc, "encoding", "base64");
  json_object_set_string_member (aoc, "audioType", "SPEECH");
  json_object_set_object_member (o, "audioOutputConfiguration", aoc);
  if (c->tools && json_array_get_length (c->tools) > 0) {
    JsonObject *tuc = json_object_new ();
    json_object_set_string_member (tuc, "mediaType", "application/json");
    json_object_set_object_member (o, "toolUseOutputConfiguration", tuc);
    json_object_set_object_member (o, "toolConfiguration",
        tool_config (c->tools));
  }
  send_event (self, "promptStart", o);

  if (c->instructions && *c->instructions)
    send_text_block (self, "SYSTEM", FALSE, c->instructions);

  /* Bedrock has no acknowledgement: the session is ready once the request
   * is out */
  gst_s2s_base_session_ready (base, self->prompt_name);
}

static void
gst_s2s_nova_send_history (GstS2SBase * base, JsonArray * items)
{
  GstS2SNova *self = GST_S2S_NOVA (base);
  guint i;

  for (i = 0; i < json_array_get_length (items); i++) {
    JsonObject *o = json_array_get_object_element (items, i);
    const gchar *type = json_object_get_string_member_with_default (o, "type",
        "message");
    const gchar *role = json_object_get_string_member_with_default (o, "role",
        "user");
    const gchar *text = json_object_get_string_member_with_default (o, "text",
        "");

    /* Nova's history is text turns only */
    if (!g_str_equal (type, "message") || *text == '\0')
      continue;
    send_text_block (self, g_str_equal (role, "assistant") ? "ASSISTANT" :
        "USER", FALSE, text);
  }
}

static void
gst_s2s_nova_send_audio (GstS2SBase * base, const guint8 * data, gsize size)
{
  GstS2SNova *self = GST_S2S_NOVA (base);

  ensure_audio_open (self);
  while (size > 0) {
    gsize n = MIN (size, MAX_AUDIO_EVENT_BYTES);
    JsonObject *o = content_body (self, self->audio_content);
    gchar *b64 = g_base64_encode (data, n);

    json_object_set_string_member (o, "content", b64);
    g_free (b64);
    send_event (self, "audioInput", o);
    data += n;
    size -= n;
  }
}

/* Nova detects turns and answers by itself; these have no event */
static void
gst_s2s_nova_noop (GstS2SBase * base)
{
}

static void
gst_s2s_nova_cancel_response (GstS2SBase * base, const gchar * response_id)
{
}

static void
gst_s2s_nova_truncate (GstS2SBase * base, const gchar * item_id,
    guint audio_end_ms)
{
}

static void
gst_s2s_nova_send_tool_result (GstS2SBase * base, const gchar * call_id,
    const gchar * output)
{
  GstS2SNova *self = GST_S2S_NOVA (base);
  gchar *name = g_uuid_string_random ();
  JsonObject *o = content_body (self, name), *trc = json_object_new ();

  /* the audio block stays open around the tool result */
  ensure_audio_open (self);
  json_object_set_boolean_member (o, "interactive", FALSE);
  json_object_set_string_member (o, "type", "TOOL");
  json_object_set_string_member (o, "role", "TOOL");
  json_object_set_string_member (trc, "toolUseId", call_id);
  json_object_set_string_member (trc, "type", "TEXT");
  json_object_set_object_member (trc, "textInputConfiguration", text_config ());
  json_object_set_object_member (o, "toolResultInputConfiguration", trc);
  send_event (self, "contentStart", o);
  o = content_body (self, name);
  json_object_set_string_member (o, "content", output);
  send_event (self, "toolResult", o);
  send_event (self, "contentEnd", content_body (self, name));
  g_free (name);
}

static void
gst_s2s_nova_send_text (GstS2SBase * base, const gchar * role,
    const gchar * text)
{
  GstS2SNova *self = GST_S2S_NOVA (base);

  if (!self->nova2 || !g_str_equal (role, "user")) {
    GST_WARNING_OBJECT (self, "%s text is not supported by this model; "
        "dropped", role);
    return;
  }
  ensure_audio_open (self);
  /* Nova 2 cross-modal input: the audio block stays open */
  send_text_block (self, "USER", TRUE, text);
}

/* ------------------------------------------------------------------------ */
/* Transport: one signed HTTP/2 request */

static gboolean
transport_send (GstS2SBase * base, const guint8 * data, gsize len,
    gboolean binary)
{
  GstS2SNova *self = GST_S2S_NOVA (base);
  GError *err = NULL;
  GByteArray *inner;
  gboolean ok;

  if (!gst_s2s_h2_client_is_open (self->h2) || self->signer == NULL)
    return FALSE;
  inner = g_byte_array_new ();
  g_byte_array_set_size (self->out, 0);
  ok = gst_s2s_aws_bedrock_event_encode_to ((const gchar *) data, len, inner,
      &err) && gst_s2s_aws_event_signer_sign_to (self->signer, inner->data,
      inner->len, g_get_real_time () / 1000, self->out, &err);
  g_byte_array_unref (inner);
  if (!ok) {
    gst_s2s_base_provider_error (base, GST_S2S_ERROR_INVALID_REQUEST, FALSE,
        FALSE, NULL, err->message);
    g_clear_error (&err);
    return FALSE;
  }
  return gst_s2s_h2_client_send (self->h2, self->out->data, self->out->len);
}

static void
map_exception (const gchar * type, GstS2SErrorCode * code, gboolean * retryable)
{
  *retryable = TRUE;
  if (!g_ascii_strcasecmp (type, "modelTimeoutException")) {
    /* the 8-minute connection limit */
    *code = GST_S2S_ERROR_SESSION_EXPIRED;
  } else if (!g_ascii_strcasecmp (type, "throttlingException")) {
    *code = GST_S2S_ERROR_RATE_LIMIT;
  } else if (!g_ascii_strcasecmp (type, "serviceQuotaExceededException")) {
    *code = GST_S2S_ERROR_QUOTA;
    *retryable = FALSE;
  } else if (!g_ascii_strcasecmp (type, "validationException")) {
    *code = GST_S2S_ERROR_INVALID_REQUEST;
    *retryable = FALSE;
  } else if (!g_ascii_strcasecmp (type, "accessDeniedException")) {
    *code = GST_S2S_ERROR_AUTHORIZATION;
    *retryable = FALSE;
  } else if (!g_ascii_strcasecmp (type, "invalidSignatureException") ||
      !g_ascii_strcasecmp (type, "unrecognizedClientException") ||
      !g_ascii_strcasecmp (type, "missingAuthenticationTokenException") ||
      !g_ascii_strcasecmp (type, "expiredTokenException")) {
    *code = GST_S2S_ERROR_AUTHENTICATION;
    *retryable = FALSE;
  } else if (!g_ascii_strcasecmp (type, "resourceNotFoundException")) {
    *code = GST_S2S_ERROR_INVALID_CONFIG;
    *retryable = FALSE;
  } else {
    /* internalServer, serviceUnavailable, modelStreamError, modelNotReady */
    *code = GST_S2S_ERROR_SERVER_ERROR;
  }
}

static gchar *
json_message (const gchar * body)
{
  JsonParser *p = json_parser_new ();
  gchar *msg = NULL;

  if (body && json_parser_load_from_data (p, body, -1, NULL) &&
      JSON_NODE_HOLDS_OBJECT (json_parser_get_root (p))) {
    JsonObject *o = json_node_get_object (json_parser_get_root (p));
    const gchar *m = json_object_get_string_member_with_default (o, "message",
        json_object_get_string_member_with_default (o, "Message", NULL));
    msg = g_strdup (m);
  }
  g_object_unref (p);
  return msg;
}

/* A refused request: status, x-amzn-errortype, {"message"} */
static void
report_http_error (GstS2SNova * self)
{
  GstS2SErrorCode code;
  gboolean retryable;
  const gchar *type = self->error_type;
  gchar *msg = json_message (self->error_body->str), *full;

  if (type == NULL) {
    type = self->http_status == 403 ? "AccessDeniedException" :
        self->http_status == 429 ? "ThrottlingException" :
        self->http_status >= 500 ? "InternalServerException" :
        "ValidationException";
  }
  map_exception (type, &code, &retryable);
  full = g_strdup_printf ("HTTP %u %s: %s", self->http_status, type,
      msg ? msg : "no message");
  gst_s2s_base_provider_error (GST_S2S_BASE (self), code, TRUE, retryable,
      type, full);
  g_free (full);
  g_free (msg);
}

static void
handle_server_message (GstS2SNova * self, GstS2SAwsMessage * msg)
{
  GstS2SBase *base = GST_S2S_BASE (self);
  const gchar *mtype = gst_s2s_aws_message_get_string (msg, ":message-type");
  gsize len;
  const gchar *payload = g_bytes_get_data (msg->payload, &len);

  if (!g_strcmp0 (mtype, "exception") || !g_strcmp0 (mtype, "error")) {
    const gchar *type = gst_s2s_aws_message_get_string (msg,
        !g_strcmp0 (mtype, "error") ? ":error-code" : ":exception-type");
    gchar *body = g_strndup (payload, len), *text;
    GstS2SErrorCode code;
    gboolean retryable;

    text = json_message (body);
    if (text == NULL && !g_strcmp0 (mtype, "error"))
      text = g_strdup (gst_s2s_aws_message_get_string (msg, ":error-message"));
    map_exception (type ? type : "internalServerException", &code, &retryable);
    gst_s2s_base_provider_error (base, code, TRUE, retryable, type,
        text ? text : "exception without a message");
    g_free (text);
    g_free (body);
    return;
  }
  if (g_strcmp0 (mtype, "event")) {
    GST_DEBUG_OBJECT (self, "ignoring message type %s", GST_STR_NULL (mtype));
    return;
  }
  {
    /* payload {"bytes": base64 of the event JSON}; unknown keys ignored */
    JsonObject *o;
    const gchar *b64;
    gchar *json;
    gsize json_len;
    GBytes *bytes;

    if (!json_parser_load_from_data (self->parser, payload, len, NULL) ||
        !JSON_NODE_HOLDS_OBJECT (json_parser_get_root (self->parser)) ||
        (b64 = json_object_get_string_member_with_default (o =
                json_node_get_object (json_parser_get_root (self->parser)),
                "bytes", NULL)) == NULL) {
      gst_s2s_base_provider_error (base, GST_S2S_ERROR_PROTOCOL, FALSE,
          FALSE, NULL, "event payload is not {\"bytes\": base64}");
      return;
    }
    json = g_strdup (b64);
    g_base64_decode_inplace (json, &json_len);
    bytes = g_bytes_new_take (json, json_len);
    gst_s2s_base_transport_message (base, bytes, FALSE);
    g_bytes_unref (bytes);
  }
}

static void
h2_opened (gpointer user_data)
{
  gst_s2s_base_transport_opened (GST_S2S_BASE (user_data));
}

static void
h2_response (guint status, const gchar * const *headers, gpointer user_data)
{
  GstS2SNova *self = user_data;
  guint i;

  self->http_status = status;
  for (i = 0; headers[i]; i += 2) {
    if (!g_ascii_strcasecmp (headers[i], "x-amzn-errortype")) {
      /* "Type:namespace" */
      g_free (self->error_type);
      self->error_type = g_strndup (headers[i + 1],
          strcspn (headers[i + 1], ":"));
    } else if (!g_ascii_strcasecmp (headers[i], "x-amzn-requestid")) {
      GST_INFO_OBJECT (self, "request id %s", headers[i + 1]);
    }
  }
  GST_DEBUG_OBJECT (self, "HTTP status %u", status);
}

static void
h2_data (const guint8 * data, gsize len, gpointer user_data)
{
  GstS2SNova *self = user_data;
  GstS2SAwsMessage *msg;
  GError *err = NULL;

  if (self->http_status != 200) {
    if (self->error_body->len < MAX_ERROR_BODY)
      g_string_append_len (self->error_body, (const gchar *) data,
          MIN (len, MAX_ERROR_BODY - self->error_body->len));
    return;
  }
  if (!gst_s2s_aws_decoder_feed (self->decoder, data, len, &err)) {
    gst_s2s_base_provider_error (GST_S2S_BASE (self), GST_S2S_ERROR_PROTOCOL,
        TRUE, TRUE, NULL, err->message);
    g_clear_error (&err);
    return;
  }
  while (self->h2 && (msg = gst_s2s_aws_decoder_pop (self->decoder))) {
    handle_server_message (self, msg);
    gst_s2s_aws_message_free (msg);
  }
}

static void
h2_closed (const GError * error, gboolean opened, gpointer user_data)
{
  GstS2SNova *self = user_data;
  GstS2SBase *base = GST_S2S_BASE (self);

  if (self->http_status >= 300) {
    report_http_error (self);
  } else if (!opened) {
    gst_s2s_base_transport_failed (base, error, 0, NULL);
  } else if (error) {
    gst_s2s_base_connection_lost (base, 1006, error->message);
  } else if (!self->ending) {
    gst_s2s_base_connection_lost (base, 1000, "the server ended the stream");
  }
}

static const GstS2SH2Callbacks h2_callbacks = {
  h2_opened, h2_response, h2_data, h2_closed
};

static gchar *
endpoint_url (const GstS2SConfig * c, const gchar * region)
{
  if (c->url && *c->url)
    return g_strdup (c->url);
  return g_strdup_printf ("https://bedrock-runtime.%s.amazonaws.com", region);
}

static gboolean
resolve (GstS2SNova * self, GstS2SAwsCredentials ** creds, gchar ** region,
    GError ** error)
{
  GST_OBJECT_LOCK (self);
  *creds = gst_s2s_aws_credentials_resolve (self->access_key_id,
      self->secret_access_key, self->session_token, self->profile, error);
  *region = gst_s2s_aws_region_resolve (self->region, self->profile);
  GST_OBJECT_UNLOCK (self);

  if (*creds == NULL) {
    g_prefix_error (error, "access-key-id: ");
    g_free (*region);
    return FALSE;
  }
  if (*region == NULL) {
    g_set_error (error, GST_S2S_AWS_ERROR, GST_S2S_AWS_ERROR_INVALID,
        "region: %s", _("no region set, and AWS_REGION is not set either"));
    gst_s2s_aws_credentials_free (*creds);
    return FALSE;
  }
  return TRUE;
}

static gboolean
gst_s2s_nova_check_config (GstS2SBase * base, const GstS2SConfig * c,
    GError ** error)
{
  GstS2SNova *self = GST_S2S_NOVA (base);
  GstS2SAwsCredentials *creds;
  gchar *region;

  if (c->turn_detection == GST_S2S_TURN_DETECTION_NONE) {
    g_set_error (error, GST_S2S_AWS_ERROR, GST_S2S_AWS_ERROR_INVALID,
        "turn-detection: %s", _("Nova always detects turns itself"));
    return FALSE;
  }
  if (!resolve (self, &creds, &region, error))
    return FALSE;
  gst_s2s_aws_credentials_free (creds);
  g_free (region);
  return TRUE;
}

static gboolean
gst_s2s_nova_open_transport (GstS2SBase * base, const GstS2SConfig * c,
    GError ** error)
{
  GstS2SNova *self = GST_S2S_NOVA (base);
  GstS2SAwsCredentials *creds;
  GstS2SAwsRequest *req = NULL;
  gchar *region, *url, *authority = NULL, *path = NULL, *full = NULL;
  GPtrArray *headers = NULL;
  GUri *uri;
  gboolean ok = FALSE;
  guint i, n;

  if (!resolve (self, &creds, &region, error))
    return FALSE;
  GST_INFO_OBJECT (self, "credentials from %s, region %s, model %s",
      creds->source, region, c->model);
  url = endpoint_url (c, region);
  uri = g_uri_parse (url, G_URI_FLAGS_ENCODED, error);
  if (uri == NULL)
    goto out;
  authority = g_uri_get_port (uri) > 0 ? g_strdup_printf ("%s:%d",
      g_uri_get_host (uri), g_uri_get_port (uri)) :
      g_strdup (g_uri_get_host (uri));
  g_uri_unref (uri);

  req = gst_s2s_aws_bedrock_stream_request (creds, region, authority,
      c->model, g_get_real_time () / G_USEC_PER_SEC, error);
  if (req == NULL)
    goto out;
  path = gst_s2s_aws_bedrock_stream_path (c->model);
  full = g_strconcat (url, g_str_has_suffix (url, "/") ? path + 1 : path, NULL);
  headers = g_ptr_array_new ();
  n = gst_s2s_aws_request_get_n_headers (req);
  for (i = 0; i < n; i++) {
    const gchar *name, *value;
    gst_s2s_aws_request_get_nth_header (req, i, &name, &value);
    g_ptr_array_add (headers, (gpointer) name);
    g_ptr_array_add (headers, (gpointer) value);
  }
  g_ptr_array_add (headers, NULL);

  self->nova2 = g_str_equal (c->model, NOVA2_MODEL);
  self->signer = gst_s2s_aws_event_signer_new (creds->secret_access_key,
      region, GST_S2S_AWS_BEDROCK_SERVICE,
      gst_s2s_aws_request_get_signature (req));
  self->decoder = gst_s2s_aws_decoder_new ();
  self->h2 = gst_s2s_h2_client_new (GST_OBJECT (self), &h2_callbacks, self);
  ok = gst_s2s_h2_client_connect (self->h2, "POST", full,
      (const gchar * const *) headers->pdata, c->ssl_ca_file, c->proxy,
      c->connect_timeout, error);

out:
  if (headers)
    g_ptr_array_unref (headers);
  if (req)
    gst_s2s_aws_request_free (req);
  gst_s2s_aws_credentials_free (creds);
  g_free (region);
  g_free (url);
  g_free (authority);
  g_free (path);
  g_free (full);
  return ok;
}

/* Best effort goodbye that frees the server side (§B9), then close */
static void
gst_s2s_nova_close_transport (GstS2SBase * base)
{
  GstS2SNova *self = GST_S2S_NOVA (base);

  self->ending = TRUE;
  if (gst_s2s_h2_client_is_open (self->h2) && self->prompt_name) {
    GByteArray *out = g_byte_array_new ();

    if (self->audio_content)
      send_event (self, "contentEnd", content_body (self, self->audio_content));
    send_event (self, "promptEnd", prompt_body (self));
    send_event (self, "sessionEnd", json_object_new ());
    if (gst_s2s_aws_event_signer_sign_to (self->signer, NULL, 0,
            g_get_real_time () / 1000, out, NULL))
      gst_s2s_h2_client_send (self->h2, out->data, out->len);
    gst_s2s_h2_client_end (self->h2);
    g_byte_array_unref (out);
  }
  g_clear_pointer (&self->h2, gst_s2s_h2_client_free);
  g_clear_pointer (&self->signer, gst_s2s_aws_event_signer_free);
  g_clear_pointer (&self->decoder, gst_s2s_aws_decoder_free);
  g_clear_pointer (&self->prompt_name, g_free);
  g_clear_pointer (&self->audio_content, g_free);
  g_clear_pointer (&self->error_type, g_free);
  g_clear_pointer (&self->resp_id, g_free);
  g_clear_pointer (&self->resp_item, g_free);
  g_string_truncate (self->error_body, 0);
  g_string_truncate (self->final_text, 0);
  g_hash_table_remove_all (self->contents);
  self->http_status = 0;
  self->ending = FALSE;
}

/* ------------------------------------------------------------------------ */
/* Server events */

static const gchar *
str_member (JsonObject * o, const gchar * name)
{
  return o ? json_object_get_string_member_with_default (o, name, NULL) : NULL;
}

static JsonObject *
obj_member (JsonObject * o, const gchar * name)
{
  JsonNode *n = o ? json_object_get_member (o, name) : NULL;

  return n && JSON_NODE_HOLDS_OBJECT (n) ? json_node_get_object (n) : NULL;
}

static gint64
int_member (JsonObject * o, const gchar * name)
{
  JsonNode *n = o ? json_object_get_member (o, name) : NULL;

  return n && JSON_NODE_HOLDS_VALUE (n) ? json_node_get_int (n) : 0;
}

/* additionalModelFields is a JSON string inside the JSON */
static gboolean
is_final_stage (const gchar * fields)
{
  JsonParser *p;
  gboolean final = FALSE;

  if (fields == NULL)
    return FALSE;
  p = json_parser_new ();
  if (json_parser_load_from_data (p, fields, -1, NULL) &&
      JSON_NODE_HOLDS_OBJECT (json_parser_get_root (p)))
    final = !g_strcmp0 (str_member (json_node_get_object (json_parser_get_root
                (p)), "generationStage"), "FINAL");
  g_object_unref (p);
  return final;
}

static gboolean
is_interrupted_marker (const gchar * text)
{
  JsonParser *p;
  gboolean yes = FALSE;

  if (text == NULL || strstr (text, "interrupted") == NULL)
    return FALSE;
  p = json_parser_new ();
  if (json_parser_load_from_data (p, text, -1, NULL) &&
      JSON_NODE_HOLDS_OBJECT (json_parser_get_root (p)))
    yes = json_object_get_boolean_member_with_default (json_node_get_object
        (json_parser_get_root (p)), "interrupted", FALSE);
  g_object_unref (p);
  return yes;
}

/* The assistant's turn starts at its first content (text, audio or tool) */
static void
ensure_response (GstS2SNova * self, const gchar * content_id)
{
  GstS2SBase *base = GST_S2S_BASE (self);

  if (self->resp_id)
    return;
  self->resp_id = g_strdup_printf ("nova-%u", ++self->resp_serial);
  self->resp_item = g_strdup (content_id);
  g_string_truncate (self->final_text, 0);
  gst_s2s_base_response_started (base, self->resp_id);
  gst_s2s_base_item_added (base, self->resp_item, "message", "assistant");
}

static void
end_response (GstS2SNova * self, const gchar * status)
{
  GstS2SBase *base = GST_S2S_BASE (self);

  if (self->resp_id == NULL)
    return;
  if (self->final_text->len > 0)
    gst_s2s_base_transcript (base, "assistant", self->resp_item,
        self->final_text->str, TRUE);
  gst_s2s_base_response_done (base, self->resp_id, status);
  g_clear_pointer (&self->resp_id, g_free);
  g_clear_pointer (&self->resp_item, g_free);
}

static void
dispatch_event (GstS2SNova * self, const gchar * name, JsonObject * ev)
{
  GstS2SBase *base = GST_S2S_BASE (self);
  const gchar *cid = str_member (ev, "contentId");
  Content *content = cid ? g_hash_table_lookup (self->contents, cid) : NULL;

  if (g_str_equal (name, "audioOutput")) {
    const gchar *b64 = str_member (ev, "content");
    gchar *buf;
    gsize len = 0;

    if (b64 == NULL || self->resp_id == NULL)
      return;
    buf = g_strdup (b64);
    g_base64_decode_inplace (buf, &len);
    gst_s2s_base_response_audio (base, self->resp_id, self->resp_item,
        (const guint8 *) buf, len);
    g_free (buf);
  } else if (g_str_equal (name, "contentStart")) {
    Content *c = g_new0 (Content, 1);

    if (cid == NULL) {
      g_free (c);
      return;
    }
    c->type = g_strdup (str_member (ev, "type"));
    c->role = g_strdup (str_member (ev, "role"));
    c->final = is_final_stage (str_member (ev, "additionalModelFields"));
    g_hash_table_insert (self->contents, g_strdup (cid), c);
    if (!g_strcmp0 (c->role, "ASSISTANT") || !g_strcmp0 (c->role, "TOOL"))
      ensure_response (self, cid);
  } else if (g_str_equal (name, "textOutput")) {
    const gchar *text = str_member (ev, "content");

    if (text == NULL)
      return;
    if (is_interrupted_marker (text)) {
      /* barge-in: the server stopped its answer; drop what is queued */
      gst_s2s_base_speech_started (base, NULL);
      return;
    }
    if (content && !g_strcmp0 (content->role, "USER")) {
      /* Nova reports the user's turn once it has ended */
      gst_s2s_base_item_added (base, cid, "message", "user");
      gst_s2s_base_speech_stopped (base, cid);
      gst_s2s_base_transcript (base, "user", cid, text, TRUE);
    } else if (content && content->final) {
      if (self->final_text->len > 0)
        g_string_append_c (self->final_text, ' ');
      g_string_append (self->final_text, text);
    } else if (self->resp_id) {
      /* SPECULATIVE: what the model plans to say */
      gst_s2s_base_transcript (base, "assistant", self->resp_item, text, FALSE);
    }
  } else if (g_str_equal (name, "toolUse")) {
    const gchar *id = str_member (ev, "toolUseId");
    const gchar *tool = str_member (ev, "toolName");
    const gchar *args = str_member (ev, "content");

    if (id && tool)
      gst_s2s_base_tool_call (base, id, tool, args ? args : "{}");
    else
      gst_s2s_base_provider_error (base, GST_S2S_ERROR_PROTOCOL, FALSE,
          FALSE, NULL, "toolUse without toolUseId or toolName");
  } else if (g_str_equal (name, "contentEnd")) {
    const gchar *reason = str_member (ev, "stopReason");

    if (content && !g_strcmp0 (content->role, "ASSISTANT") &&
        !g_strcmp0 (content->type, "TEXT") && content->final &&
        (!g_strcmp0 (reason, "END_TURN") || !g_strcmp0 (reason, "INTERRUPTED")))
      end_response (self, g_strcmp0 (reason, "INTERRUPTED") ? "completed" :
          "cancelled");
    else if (content && !g_strcmp0 (content->type, "TOOL") &&
        !g_strcmp0 (reason, "TOOL_USE"))
      end_response (self, "completed");
    if (cid)
      g_hash_table_remove (self->contents, cid);
  } else if (g_str_equal (name, "usageEvent")) {
    JsonObject *delta = obj_member (obj_member (ev, "details"), "delta");
    JsonObject *in = obj_member (delta, "input");
    JsonObject *out = obj_member (delta, "output");
    GstS2SUsage u = { 0, };

    u.input_audio_tokens = int_member (in, "speechTokens");
    u.output_audio_tokens = int_member (out, "speechTokens");
    u.input_tokens = u.input_audio_tokens + int_member (in, "textTokens");
    u.output_tokens = u.output_audio_tokens + int_member (out, "textTokens");
    if (u.input_tokens || u.output_tokens)
      gst_s2s_base_usage (base, &u);
  } else {
    /* completionStart, completionEnd: Nova may keep one completion open
     * across turns, so they mark nothing for us */
    GST_LOG_OBJECT (self, "ignoring %s", name);
  }
}

void
gst_s2s_nova_handle_event (GstS2SNova * self, const gchar * data, gsize size)
{
  JsonNode *root;
  JsonObject *event = NULL, *body;
  GList *members = NULL;
  GError *err = NULL;

  if (!json_parser_load_from_data (self->parser, data, size, &err)) {
    gchar *msg = g_strdup_printf ("malformed event: %s", err->message);
    gst_s2s_base_provider_error (GST_S2S_BASE (self), GST_S2S_ERROR_PROTOCOL,
        FALSE, FALSE, NULL, msg);
    g_free (msg);
    g_clear_error (&err);
    return;
  }
  root = json_parser_get_root (self->parser);
  if (root && JSON_NODE_HOLDS_OBJECT (root))
    event = obj_member (json_node_get_object (root), "event");
  if (event)
    members = json_object_get_members (event);
  if (members == NULL || members->next != NULL ||
      (body = obj_member (event, members->data)) == NULL) {
    gst_s2s_base_provider_error (GST_S2S_BASE (self), GST_S2S_ERROR_PROTOCOL,
        FALSE, FALSE, NULL, "event is not {\"event\": {name: {...}}}");
    g_list_free (members);
    return;
  }
  GST_TRACE_OBJECT (self, "event %s (%" G_GSIZE_FORMAT " bytes)",
      (const gchar *) members->data, size);
  dispatch_event (self, members->data, body);
  g_list_free (members);
}

static void
gst_s2s_nova_handle_message (GstS2SBase * base, GBytes * data, gboolean binary)
{
  gsize size;
  const gchar *text = g_bytes_get_data (data, &size);

  gst_s2s_nova_handle_event (GST_S2S_NOVA (base), text, size);
}

/* ------------------------------------------------------------------------ */
/* GObject */

static void
gst_s2s_nova_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec)
{
  GstS2SNova *self = GST_S2S_NOVA (object);
  gchar **field;

  switch (prop_id) {
    case PROP_REGION:
      field = &self->region;
      break;
    case PROP_ACCESS_KEY_ID:
      field = &self->access_key_id;
      break;
    case PROP_SECRET_ACCESS_KEY:
      field = &self->secret_access_key;
      break;
    case PROP_SESSION_TOKEN:
      field = &self->session_token;
      break;
    case PROP_PROFILE:
      field = &self->profile;
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      return;
  }
  GST_OBJECT_LOCK (self);
  if (*field)
    memset (*field, 0, strlen (*field));
  g_free (*field);
  *field = g_value_dup_string (value);
  GST_OBJECT_UNLOCK (self);
}

static void
gst_s2s_nova_get_property (GObject * object, guint prop_id, GValue * value,
    GParamSpec * pspec)
{
  GstS2SNova *self = GST_S2S_NOVA (object);

  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_REGION:
      g_value_set_string (value, self->region);
      break;
    case PROP_ACCESS_KEY_ID:
      g_value_set_string (value, self->access_key_id);
      break;
    case PROP_SECRET_ACCESS_KEY:
      /* never readable back in clear */
      g_value_set_string (value, self->secret_access_key &&
          *self->secret_access_key ? "*****" : NULL);
      break;
    case PROP_SESSION_TOKEN:
      g_value_set_string (value, self->session_token &&
          *self->session_token ? "*****" : NULL);
      break;
    case PROP_PROFILE:
      g_value_set_string (value, self->profile);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
}

static void
wipe (gchar * s)
{
  if (s) {
    memset (s, 0, strlen (s));
    g_free (s);
  }
}

static void
gst_s2s_nova_finalize (GObject * object)
{
  GstS2SNova *self = GST_S2S_NOVA (object);

  g_free (self->region);
  g_free (self->access_key_id);
  wipe (self->secret_access_key);
  wipe (self->session_token);
  g_free (self->profile);
  g_byte_array_unref (self->out);
  g_string_free (self->error_body, TRUE);
  g_string_free (self->final_text, TRUE);
  g_hash_table_unref (self->contents);
  g_object_unref (self->parser);
  G_OBJECT_CLASS (gst_s2s_nova_parent_class)->finalize (object);
}

#define MUTABLE_READY (G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | \
    GST_PARAM_MUTABLE_READY)

static void
gst_s2s_nova_class_init (GstS2SNovaClass * klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);
  GstS2SBaseClass *base_class = GST_S2S_BASE_CLASS (klass);

  gobject_class->set_property = gst_s2s_nova_set_property;
  gobject_class->get_property = gst_s2s_nova_get_property;
  gobject_class->finalize = gst_s2s_nova_finalize;

  g_object_class_install_property (gobject_class, PROP_REGION,
      g_param_spec_string ("region", "Region",
          "AWS region (NULL: AWS_REGION, AWS_DEFAULT_REGION, then the "
          "profile's config)", NULL, MUTABLE_READY));
  g_object_class_install_property (gobject_class, PROP_ACCESS_KEY_ID,
      g_param_spec_string ("access-key-id", "Access key ID",
          "AWS access key ID (NULL: the environment, then the shared "
          "credentials file)", NULL, MUTABLE_READY));
  g_object_class_install_property (gobject_class, PROP_SECRET_ACCESS_KEY,
      g_param_spec_string ("secret-access-key", "Secret access key",
          "AWS secret access key for access-key-id. Never logged; reads back "
          "masked", NULL, MUTABLE_READY));
  g_object_class_install_property (gobject_class, PROP_SESSION_TOKEN,
      g_param_spec_string ("session-token", "Session token",
          "AWS session token of temporary credentials. Never logged; reads "
          "back masked", NULL, MUTABLE_READY));
  g_object_class_install_property (gobject_class, PROP_PROFILE,
      g_param_spec_string ("profile", "Profile",
          "Profile of the shared credentials/config files (NULL: "
          "AWS_PROFILE, then \"default\")", NULL, MUTABLE_READY));

  gst_element_class_add_static_pad_template (element_class, &sink_template);
  gst_element_class_add_static_pad_template (element_class, &src_template);
  gst_element_class_set_static_metadata (element_class,
      "Amazon Nova Sonic speech-to-speech", "Filter/Audio/Network",
      "Talks with Amazon Nova Sonic on Bedrock: voice in, voice out",
      "gst-s2s developers");

  base_class->provider = "nova";
  base_class->api_key_env = NULL;
  base_class->api_key_optional = TRUE;
  base_class->default_url = NULL;
  base_class->default_model = NOVA2_MODEL;
  base_class->default_voice = "matthew";
  base_class->server_cancels_on_speech = TRUE;

  base_class->check_config = gst_s2s_nova_check_config;
  base_class->open_transport = gst_s2s_nova_open_transport;
  base_class->transport_send = transport_send;
  base_class->close_transport = gst_s2s_nova_close_transport;
  base_class->session_open = gst_s2s_nova_session_open;
  base_class->send_history = gst_s2s_nova_send_history;
  base_class->handle_message = gst_s2s_nova_handle_message;
  base_class->send_audio = gst_s2s_nova_send_audio;
  base_class->commit = gst_s2s_nova_noop;
  base_class->create_response = gst_s2s_nova_noop;
  base_class->cancel_response = gst_s2s_nova_cancel_response;
  base_class->truncate = gst_s2s_nova_truncate;
  base_class->send_tool_result = gst_s2s_nova_send_tool_result;
  base_class->send_text = gst_s2s_nova_send_text;
}

static void
gst_s2s_nova_init (GstS2SNova * self)
{
  self->out = g_byte_array_new ();
  self->error_body = g_string_new (NULL);
  self->final_text = g_string_new (NULL);
  self->contents = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
      content_free);
  self->parser = json_parser_new ();
}
