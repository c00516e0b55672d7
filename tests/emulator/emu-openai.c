/* s2s-emulator: OpenAI Realtime GA dialect (also the Azure GA path), and
 * xAI Grok's Voice Agent dialect as a variant of it (Oa.grok).
 * Copyright (C) 2026 gst-s2s contributors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Faithful to the public GA wire protocol (see
 * /work/shared/reference/openai-grok.md section 1), not to any client of
 * ours.  The "model" is deterministic: an energy VAD cuts user turns and the
 * reply echoes the turn's audio, so tests can compare samples.
 *
 * Grok (section 2 of the reference): session with voice and turn_detection
 * at the top level, PCM at 8-48 kHz, server VAD or none, cumulative
 * transcription .updated partials, no conversation.item.done and no
 * rate_limits.updated, no auto-cancel on barge-in.
 */

#include <math.h>
#include <stdarg.h>
#include <string.h>

#include "emulator.h"

#define CHUNK_SAMPLES (100 * EMU_SAMPLES_PER_MS)        /* 100 ms deltas */
#define FRAME_SAMPLES (10 * EMU_SAMPLES_PER_MS) /* 10 ms VAD frames */
#define MIN_COMMIT_SAMPLES (100 * EMU_SAMPLES_PER_MS)
#define MAX_APPEND_BYTES (15 << 20)

static const char *const openai_paths[] = {
  "/v1/realtime",
  "/openai/v1/realtime",        /* Azure GA */
  NULL
};

static const char *const grok_paths[] = {
  "/v1/realtime",
  NULL
};

/* case-insensitive on the wire */
static const char *const grok_voices[] = {
  "eve", "ara", "rex", "sal", "leo", NULL
};

static const guint grok_rates[] = {
  8000, 16000, 22050, 24000, 32000, 44100, 48000, 0
};

static const char *const voices[] = {
  "alloy", "ash", "ballad", "coral", "echo", "sage", "shimmer", "verse",
  "marin", "cedar", NULL
};

typedef enum
{
  TD_NONE,
  TD_SERVER_VAD,
  TD_SEMANTIC_VAD,
} TurnDetection;

typedef enum
{
  SRC_NONE,
  SRC_AUDIO,
  SRC_TEXT,
  SRC_TOOL,
} SourceKind;

typedef struct
{
  char *id;
  JsonObject *item;             /* wire form, kept up to date */
  gboolean assistant_audio;     /* assistant message with output_audio */
  guint audio_ms;               /* assistant audio generated for it */
} Item;

typedef struct
{
  char *item_id;
  char *transcript;
  guint ms;
} PendingTranscript;

typedef struct
{
  char *id;
  char *item_id;
  char *prev_item_id;
  gboolean out_of_band;         /* response.conversation = "none" */
  gboolean text_only;
  EmuAudioFormat out_fmt;
  guint out_rate;
  JsonObject *format;           /* session audio.output.format copy */
  char *voice;
  JsonNode *modalities;

  /* audio/text reply */
  GArray *audio;                /* internal samples */
  gsize pos;
  char **words;
  guint n_words;
  guint words_sent;
  char *transcript;
  guint n_chunks;
  guint chunk_idx;
  gboolean part_added;
  EmuPacer pacer;

  /* tool call reply */
  char *tool_name;
  char *tool_call_id;
  char *tool_args;

  /* usage inputs */
  guint in_audio_ms;
  guint in_text_tokens;
} Response;

typedef struct
{
  JsonObject *session;
  char *model;
  gboolean beta;
  gboolean grok;                /* the Grok dialect */
  gboolean grok_partials;       /* transcription.model grok-transcribe */
  guint next_item;
  guint next_resp;
  guint next_call;

  /* cached from session */
  EmuAudioFormat in_fmt;
  EmuAudioFormat out_fmt;
  guint in_rate;
  guint out_rate;
  EmuResampler in_rs;
  TurnDetection td;
  double threshold;
  guint prefix_ms;
  guint silence_ms;
  gboolean create_response;
  gboolean interrupt_response;
  gboolean transcription;
  gboolean text_only;

  /* input audio, internal rate; sample positions are absolute since the
   * connection's first append */
  GArray *buf;
  gint64 buf_start;
  gint64 total;
  gboolean has_carry;
  guint8 carry;

  /* VAD */
  gint64 vad_pos;
  gboolean in_speech;
  gboolean start_sent;          /* speech_started sent for this speech */
  gint64 speech_start;
  gint64 silence_run;
  char *speech_item_id;

  /* conversation */
  GPtrArray *items;             /* Item*, in conversation order */
  guint user_turns;
  guint tokens_used;

  /* what the next response answers */
  SourceKind src;
  GArray *src_audio;
  char *src_text;
  guint src_turn;
  char *src_user_transcript;

  Response *resp;
  gboolean pending_auto_response;
  GPtrArray *pending_transcripts;
} Oa;

static guint global_event_counter;

/* ------------------------------------------------------------------------ */
/* JSON helpers */

static gboolean
is_string (JsonNode * n)
{
  return n && JSON_NODE_HOLDS_VALUE (n)
      && json_node_get_value_type (n) == G_TYPE_STRING;
}

static gboolean
is_bool (JsonNode * n)
{
  return n && JSON_NODE_HOLDS_VALUE (n)
      && json_node_get_value_type (n) == G_TYPE_BOOLEAN;
}

static gboolean
is_number (JsonNode * n)
{
  GType t;

  if (!n || !JSON_NODE_HOLDS_VALUE (n))
    return FALSE;
  t = json_node_get_value_type (n);
  return t == G_TYPE_INT64 || t == G_TYPE_DOUBLE;
}

static double
num (JsonNode * n)
{
  return json_node_get_value_type (n) == G_TYPE_INT64 ?
      (double) json_node_get_int (n) : json_node_get_double (n);
}

static gboolean
is_int (JsonNode * n)
{
  if (!is_number (n))
    return FALSE;
  if (json_node_get_value_type (n) == G_TYPE_INT64)
    return TRUE;
  return num (n) == floor (num (n)) && fabs (num (n)) < 9e15;
}

static const char *
type_name (JsonNode * n)
{
  if (!n || JSON_NODE_HOLDS_NULL (n))
    return "null";
  if (JSON_NODE_HOLDS_OBJECT (n))
    return "an object";
  if (JSON_NODE_HOLDS_ARRAY (n))
    return "an array";
  if (is_string (n))
    return "a string";
  if (is_bool (n))
    return "a boolean";
  if (json_node_get_value_type (n) == G_TYPE_INT64)
    return "an integer";
  return "a decimal";
}

static const char *
get_str (JsonObject * o, const char *name)
{
  JsonNode *n;

  if (!o || !json_object_has_member (o, name))
    return NULL;
  n = json_object_get_member (o, name);
  return is_string (n) ? json_node_get_string (n) : NULL;
}

static JsonObject *
get_obj (JsonObject * o, const char *name)
{
  JsonNode *n;

  if (!o || !json_object_has_member (o, name))
    return NULL;
  n = json_object_get_member (o, name);
  return JSON_NODE_HOLDS_OBJECT (n) ? json_node_get_object (n) : NULL;
}

static JsonObject *
obj_copy (JsonObject * o)
{
  JsonNode *n = json_node_new (JSON_NODE_OBJECT), *c;
  JsonObject *res;

  json_node_set_object (n, o);
  c = json_node_copy (n);
  res = json_object_ref (json_node_get_object (c));
  json_node_unref (c);
  json_node_unref (n);
  return res;
}

static JsonNode *
obj_node (JsonObject * o)
{
  JsonNode *n = json_node_new (JSON_NODE_OBJECT);
  json_node_set_object (n, o);
  return n;
}

static guint
count_words (const char *s)
{
  guint n = 0;
  gboolean in = FALSE;

  for (; s && *s; s++) {
    if (g_ascii_isspace (*s))
      in = FALSE;
    else if (!in) {
      in = TRUE;
      n++;
    }
  }
  return n;
}

static char **
split_deltas (const char *text, guint * n_out)
{
  return emu_split_words (text, n_out);
}

/* ------------------------------------------------------------------------ */
/* Events */

static JsonObject *
ev_new (const char *type)
{
  JsonObject *o = json_object_new ();
  char *id = g_strdup_printf ("event_%u", ++global_event_counter);

  json_object_set_string_member (o, "type", type);
  json_object_set_string_member (o, "event_id", id);
  g_free (id);
  return o;
}

static void
send_error (EmuConn * conn, const char *type, const char *code,
    const char *message, const char *param, const char *client_event_id)
{
  JsonObject *ev = ev_new ("error");
  JsonObject *err = json_object_new ();

  json_object_set_string_member (err, "type", type);
  if (code)
    json_object_set_string_member (err, "code", code);
  else
    json_object_set_null_member (err, "code");
  json_object_set_string_member (err, "message", message);
  if (param)
    json_object_set_string_member (err, "param", param);
  else if (!((Oa *) conn->priv)->grok)
    json_object_set_null_member (err, "param");
  if (client_event_id)
    json_object_set_string_member (err, "event_id", client_event_id);
  else
    json_object_set_null_member (err, "event_id");
  json_object_set_object_member (ev, "error", err);
  emu_conn_send_event (conn, ev);
}

static void
invalid_request (EmuConn * conn, const char *code, const char *param,
    const char *client_event_id, const char *fmt, ...)
G_GNUC_PRINTF (5, 6);

     static void
         invalid_request (EmuConn * conn, const char *code, const char *param,
    const char *client_event_id, const char *fmt, ...)
{
  va_list ap;
  char *msg;

  va_start (ap, fmt);
  msg = g_strdup_vprintf (fmt, ap);
  va_end (ap);
  send_error (conn, "invalid_request_error", code, msg, param, client_event_id);
  g_free (msg);
}

static char *
new_item_id (Oa * oa)
{
  return g_strdup_printf ("item_%u", ++oa->next_item);
}

/* ------------------------------------------------------------------------ */
/* Session config */

static JsonObject *
server_vad_defaults (void)
{
  JsonObject *td = json_object_new ();

  json_object_set_string_member (td, "type", "server_vad");
  json_object_set_double_member (td, "threshold", 0.5);
  json_object_set_int_member (td, "prefix_padding_ms", 300);
  json_object_set_int_member (td, "silence_duration_ms", 500);
  json_object_set_null_member (td, "idle_timeout_ms");
  json_object_set_boolean_member (td, "create_response", TRUE);
  json_object_set_boolean_member (td, "interrupt_response", TRUE);
  return td;
}

static JsonObject *
semantic_vad_defaults (void)
{
  JsonObject *td = json_object_new ();

  json_object_set_string_member (td, "type", "semantic_vad");
  json_object_set_string_member (td, "eagerness", "auto");
  json_object_set_boolean_member (td, "create_response", TRUE);
  json_object_set_boolean_member (td, "interrupt_response", TRUE);
  return td;
}

static JsonObject *
pcm_format (void)
{
  JsonObject *f = json_object_new ();

  json_object_set_string_member (f, "type", "audio/pcm");
  json_object_set_int_member (f, "rate", 24000);
  return f;
}

static JsonObject *
default_session (EmuConn * conn, const char *model)
{
  JsonObject *s = json_object_new ();
  JsonObject *audio = json_object_new ();
  JsonObject *in = json_object_new ();
  JsonObject *out = json_object_new ();
  JsonArray *mod = json_array_new ();
  char *id = g_strdup_printf ("sess_%u", conn->index);

  json_object_set_string_member (s, "type", "realtime");
  json_object_set_string_member (s, "object", "realtime.session");
  json_object_set_string_member (s, "id", id);
  json_object_set_string_member (s, "model", model);
  json_array_add_string_element (mod, "audio");
  json_object_set_array_member (s, "output_modalities", mod);
  json_object_set_string_member (s, "instructions",
      "Your knowledge cutoff is 2023-10. You are a helpful, witty, and "
      "friendly AI. Act like a human, but remember that you aren't a human "
      "and that you can't do human things in the real world.");
  json_object_set_object_member (in, "format", pcm_format ());
  json_object_set_null_member (in, "transcription");
  json_object_set_null_member (in, "noise_reduction");
  json_object_set_object_member (in, "turn_detection", server_vad_defaults ());
  json_object_set_object_member (out, "format", pcm_format ());
  json_object_set_string_member (out, "voice", "marin");
  json_object_set_double_member (out, "speed", 1.0);
  json_object_set_object_member (audio, "input", in);
  json_object_set_object_member (audio, "output", out);
  json_object_set_object_member (s, "audio", audio);
  json_object_set_array_member (s, "tools", json_array_new ());
  json_object_set_string_member (s, "tool_choice", "auto");
  json_object_set_string_member (s, "max_output_tokens", "inf");
  json_object_set_null_member (s, "tracing");
  json_object_set_string_member (s, "truncation", "auto");
  json_object_set_null_member (s, "prompt");
  json_object_set_int_member (s, "expires_at",
      g_get_real_time () / G_USEC_PER_SEC + 3600);
  json_object_set_null_member (s, "include");
  g_free (id);
  return s;
}

/* Grok: hybrid shape, voice and turn_detection at the top level */
static JsonObject *
grok_default_session (EmuConn * conn, const char *model)
{
  JsonObject *s = json_object_new ();
  JsonObject *audio = json_object_new ();
  JsonObject *in = json_object_new ();
  JsonObject *out = json_object_new ();
  JsonObject *td = json_object_new ();
  char *id = g_strdup_printf ("sess_%u", conn->index);

  json_object_set_string_member (s, "id", id);
  json_object_set_string_member (s, "object", "realtime.session");
  json_object_set_string_member (s, "model", model);
  json_object_set_string_member (s, "instructions", "");
  json_object_set_string_member (s, "voice", "eve");
  json_object_set_string_member (td, "type", "server_vad");
  json_object_set_double_member (td, "threshold", 0.85);
  json_object_set_int_member (td, "silence_duration_ms", 500);
  json_object_set_int_member (td, "prefix_padding_ms", 333);
  json_object_set_object_member (s, "turn_detection", td);
  json_object_set_object_member (in, "format", pcm_format ());
  json_object_set_object_member (out, "format", pcm_format ());
  json_object_set_object_member (audio, "input", in);
  json_object_set_object_member (audio, "output", out);
  json_object_set_object_member (s, "audio", audio);
  json_object_set_array_member (s, "tools", json_array_new ());
  g_free (id);
  return s;
}

static guint
format_rate (JsonObject * f)
{
  const char *t = get_str (f, "type");

  if (g_strcmp0 (t, "audio/pcm") == 0 && json_object_has_member (f, "rate"))
    return (guint) json_object_get_int_member (f, "rate");
  return g_strcmp0 (t, "audio/pcm") == 0 ? EMU_RATE : 8000;
}

static EmuAudioFormat
format_from (JsonObject * f)
{
  const char *t = get_str (f, "type");

  if (g_strcmp0 (t, "audio/pcmu") == 0)
    return EMU_FMT_PCMU;
  if (g_strcmp0 (t, "audio/pcma") == 0)
    return EMU_FMT_PCMA;
  return EMU_FMT_PCM16;
}

static void
cache_config (Oa * oa)
{
  JsonObject *audio = get_obj (oa->session, "audio");
  JsonObject *in = get_obj (audio, "input");
  JsonObject *out = get_obj (audio, "output");
  JsonObject *td = get_obj (oa->grok ? oa->session : in, "turn_detection");
  JsonNode *mod = json_object_get_member (oa->session, "output_modalities");
  const char *t = get_str (td, "type");
  EmuAudioFormat in_fmt = format_from (get_obj (in, "format"));
  guint in_rate = format_rate (get_obj (in, "format"));

  if (in_fmt != oa->in_fmt || in_rate != oa->in_rate || !oa->in_rs.rate) {
    /* a new input format starts its own sample count */
    memset (&oa->in_rs, 0, sizeof (oa->in_rs));
    oa->in_rs.rate = in_rate;
    oa->has_carry = FALSE;
  }
  oa->in_fmt = in_fmt;
  oa->in_rate = in_rate;
  oa->out_fmt = format_from (get_obj (out, "format"));
  oa->out_rate = format_rate (get_obj (out, "format"));
  /* Grok always transcribes the user; .updated partials need
   * grok-transcribe */
  oa->transcription = oa->grok || get_obj (in, "transcription") != NULL;
  oa->grok_partials = oa->grok && g_strcmp0 (get_str (get_obj (in,
              "transcription"), "model"), "grok-transcribe") == 0;
  oa->text_only = mod && JSON_NODE_HOLDS_ARRAY (mod)
      && json_array_get_length (json_node_get_array (mod)) == 1
      && g_strcmp0 (json_array_get_string_element (json_node_get_array (mod),
          0), "text") == 0;

  if (!td) {
    oa->td = TD_NONE;
    oa->create_response = FALSE;
    oa->interrupt_response = FALSE;
    return;
  }
  oa->create_response = !json_object_has_member (td, "create_response")
      || json_object_get_boolean_member (td, "create_response");
  /* Grok documents no auto-cancel: the client cancels on barge-in */
  oa->interrupt_response = !oa->grok
      && (!json_object_has_member (td, "interrupt_response")
      || json_object_get_boolean_member (td, "interrupt_response"));
  if (g_strcmp0 (t, "semantic_vad") == 0) {
    const char *e = get_str (td, "eagerness");
    /* No semantics here: eagerness only picks how long a pause ends the
     * turn (the docs give 8/4/2 s as the maximum waits). */
    oa->td = TD_SEMANTIC_VAD;
    oa->threshold = 0.5;
    oa->prefix_ms = 300;
    oa->silence_ms = g_strcmp0 (e, "high") == 0 ? 500 :
        g_strcmp0 (e, "low") == 0 ? 2000 : 1000;
  } else {
    oa->td = TD_SERVER_VAD;
    oa->threshold = json_object_get_double_member (td, "threshold");
    oa->prefix_ms = json_object_get_int_member (td, "prefix_padding_ms");
    oa->silence_ms = json_object_get_int_member (td, "silence_duration_ms");
  }
}

/* Validation mirrors the real server's error style:
 *   unknown_parameter           "Unknown parameter: 'session.voice'."
 *   missing_required_parameter  "Missing required parameter: 'session.type'."
 *   invalid_type                "Invalid type for 'x': expected a string, but got an integer instead."
 *   invalid_value               "Invalid value: 'x'. Supported values are: 'a' and 'b'."
 */
typedef struct
{
  char *code;
  char *param;
  char *message;
} VErr;

static gboolean
verr (VErr * e, const char *code, const char *param, const char *fmt, ...)
G_GNUC_PRINTF (4, 5);

     static gboolean
         verr (VErr * e, const char *code, const char *param, const char *fmt,
    ...)
{
  va_list ap;

  va_start (ap, fmt);
  e->message = g_strdup_vprintf (fmt, ap);
  va_end (ap);
  e->code = g_strdup (code);
  e->param = g_strdup (param);
  return FALSE;
}

static gboolean
unknown_param (VErr * e, const char *prefix, const char *name)
{
  char *p = g_strdup_printf ("%s.%s", prefix, name);
  gboolean r = verr (e, "unknown_parameter", p, "Unknown parameter: '%s'.", p);
  g_free (p);
  return r;
}

static gboolean
bad_type (VErr * e, const char *param, const char *expected, JsonNode * got)
{
  return verr (e, "invalid_type", param,
      "Invalid type for '%s': expected %s, but got %s instead.", param,
      expected, type_name (got));
}

static gboolean
bad_value (VErr * e, const char *param, const char *value,
    const char *supported)
{
  return verr (e, "invalid_value", param,
      "Invalid value: '%s'. Supported values are: %s.", value, supported);
}

static gboolean
check_enum (VErr * e, const char *param, JsonNode * n,
    const char *const *allowed, const char *supported)
{
  guint i;

  if (!is_string (n))
    return bad_type (e, param, "one of the supported values", n);
  for (i = 0; allowed[i]; i++)
    if (g_str_equal (allowed[i], json_node_get_string (n)))
      return TRUE;
  return bad_value (e, param, json_node_get_string (n), supported);
}

static gboolean
check_range (VErr * e, const char *param, JsonNode * n, double min,
    double max, gboolean integer)
{
  if (integer ? !is_int (n) : !is_number (n))
    return bad_type (e, param, integer ? "an integer" : "a decimal", n);
  if (num (n) < min)
    return verr (e, integer ? "integer_below_min_value" :
        "decimal_below_min_value", param,
        "Invalid '%s': %s below minimum value. Expected a value >= %g, "
        "but got %g instead.", param, integer ? "integer" : "decimal", min,
        num (n));
  if (num (n) > max)
    return verr (e, integer ? "integer_above_max_value" :
        "decimal_above_max_value", param,
        "Invalid '%s': %s above maximum value. Expected a value <= %g, "
        "but got %g instead.", param, integer ? "integer" : "decimal", max,
        num (n));
  return TRUE;
}

static gboolean
validate_format (VErr * e, const char *param, JsonNode * n, JsonObject ** out,
    gboolean grok)
{
  static const char *const types[] =
      { "audio/pcm", "audio/pcmu", "audio/pcma", NULL };
  JsonObject *o;
  GList *members, *l;
  const char *t;
  char *p;
  gboolean ok = TRUE;

  if (!JSON_NODE_HOLDS_OBJECT (n))
    return bad_type (e, param, "an object", n);
  o = json_node_get_object (n);
  members = json_object_get_members (o);
  for (l = members; l && ok; l = l->next)
    if (!g_str_equal (l->data, "type") && !g_str_equal (l->data, "rate"))
      ok = unknown_param (e, param, l->data);
  g_list_free (members);
  if (!ok)
    return FALSE;
  p = g_strdup_printf ("%s.type", param);
  if (!json_object_has_member (o, "type"))
    ok = verr (e, "missing_required_parameter", p,
        "Missing required parameter: '%s'.", p);
  else
    ok = check_enum (e, p, json_object_get_member (o, "type"), types,
        "'audio/pcm', 'audio/pcmu', and 'audio/pcma'");
  g_free (p);
  if (!ok)
    return FALSE;
  t = get_str (o, "type");
  if (json_object_has_member (o, "rate")) {
    JsonNode *r = json_object_get_member (o, "rate");
    double want = g_str_equal (t, "audio/pcm") ? 24000 : 8000;
    gboolean known = num (r) == want;
    guint i;
    p = g_strdup_printf ("%s.rate", param);
    for (i = 0; grok && g_str_equal (t, "audio/pcm") && grok_rates[i]; i++)
      known |= num (r) == grok_rates[i];
    if (!is_number (r))
      ok = bad_type (e, p, "an integer", r);
    else if (!known && grok && g_str_equal (t, "audio/pcm"))
      ok = verr (e, "invalid_value", p,
          "Invalid value: %g. Supported values are: 8000, 16000, 22050, "
          "24000, 32000, 44100, and 48000.", num (r));
    else if (!known)
      ok = verr (e, "invalid_value", p,
          "Invalid value: %g. Supported values are: %g.", num (r), want);
    g_free (p);
    if (!ok)
      return FALSE;
  }
  *out = json_object_new ();
  json_object_set_string_member (*out, "type", t);
  if (g_str_equal (t, "audio/pcm"))
    json_object_set_int_member (*out, "rate",
        json_object_has_member (o, "rate") ? (gint64) num
        (json_object_get_member (o, "rate")) : 24000);
  return TRUE;
}

/* Grok: turn_detection at the top level, server VAD only */
static JsonObject *
grok_vad_defaults (void)
{
  JsonObject *td = json_object_new ();

  json_object_set_string_member (td, "type", "server_vad");
  json_object_set_double_member (td, "threshold", 0.85);
  json_object_set_int_member (td, "silence_duration_ms", 500);
  json_object_set_int_member (td, "prefix_padding_ms", 333);
  return td;
}

/* @in holds turn_detection: audio.input (OpenAI) or the session (Grok) */
static gboolean
validate_turn_detection (VErr * e, JsonNode * n, JsonObject * in, gboolean grok)
{
  static const char *const openai_types[] =
      { "server_vad", "semantic_vad", NULL };
  static const char *const grok_types[] = { "server_vad", NULL };
  static const char *const eag[] = { "low", "medium", "high", "auto", NULL };
  const char *P = grok ? "session.turn_detection" :
      "session.audio.input.turn_detection";
  const char *const *types = grok ? grok_types : openai_types;
  char *Ptype = g_strconcat (P, ".type", NULL);
  JsonObject *upd, *cur = get_obj (in, "turn_detection"), *td;
  const char *type = NULL;
  GList *members, *l;
  gboolean ok = TRUE;

  if (JSON_NODE_HOLDS_NULL (n)) {
    json_object_set_null_member (in, "turn_detection");
    return TRUE;
  }
  if (!JSON_NODE_HOLDS_OBJECT (n))
    return bad_type (e, P, "an object", n);
  upd = json_node_get_object (n);
  if (json_object_has_member (upd, "type")) {
    ok = check_enum (e, Ptype, json_object_get_member (upd, "type"), types,
        grok ? "'server_vad'" : "'server_vad' and 'semantic_vad'");
    type = get_str (upd, "type");
  } else if (cur) {
    type = get_str (cur, "type");
  } else {
    ok = verr (e, "missing_required_parameter", Ptype,
        "Missing required parameter: '%s'.", Ptype);
  }
  g_free (Ptype);
  if (!ok)
    return FALSE;

  if (cur && g_strcmp0 (get_str (cur, "type"), type) == 0)
    td = obj_copy (cur);
  else if (grok)
    td = grok_vad_defaults ();
  else if (g_str_equal (type, "server_vad"))
    td = server_vad_defaults ();
  else
    td = semantic_vad_defaults ();

  members = json_object_get_members (upd);
  for (l = members; l && ok; l = l->next) {
    const char *k = l->data;
    JsonNode *v = json_object_get_member (upd, k);
    char *p = g_strdup_printf ("%s.%s", P, k);
    gboolean server = g_str_equal (type, "server_vad");

    if (g_str_equal (k, "type")) {
      /* handled */
    } else if (g_str_equal (k, "create_response")
        || g_str_equal (k, "interrupt_response")) {
      if (!is_bool (v))
        ok = bad_type (e, p, "a boolean", v);
      else
        json_object_set_boolean_member (td, k, json_node_get_boolean (v));
    } else if (server && g_str_equal (k, "threshold")) {
      if ((ok = check_range (e, p, v, grok ? 0.1 : 0.0, grok ? 0.9 : 1.0,
                  FALSE)))
        json_object_set_double_member (td, k, num (v));
    } else if (server && (g_str_equal (k, "prefix_padding_ms")
            || g_str_equal (k, "silence_duration_ms"))) {
      if ((ok = check_range (e, p, v, 0, 10000, TRUE)))
        json_object_set_int_member (td, k, (gint64) num (v));
    } else if (server && g_str_equal (k, "idle_timeout_ms")) {
      if (JSON_NODE_HOLDS_NULL (v))
        json_object_set_null_member (td, k);
      else if ((ok = check_range (e, p, v, grok ? 0 : 5000, grok ? 600000 :
                  30000, TRUE)))
        json_object_set_int_member (td, k, (gint64) num (v));
    } else if (!server && g_str_equal (k, "eagerness")) {
      if ((ok = check_enum (e, p, v, eag,
                  "'low', 'medium', 'high', and 'auto'")))
        json_object_set_string_member (td, k, json_node_get_string (v));
    } else {
      ok = unknown_param (e, P, k);
    }
    g_free (p);
  }
  g_list_free (members);
  if (ok)
    json_object_set_object_member (in, "turn_detection", td);
  else
    json_object_unref (td);
  return ok;
}

static gboolean
validate_string_fields (VErr * e, const char *P, JsonObject * o,
    const char *const *fields)
{
  GList *members = json_object_get_members (o), *l;
  gboolean ok = TRUE;

  for (l = members; l && ok; l = l->next) {
    guint i;
    gboolean known = FALSE;
    for (i = 0; fields[i]; i++)
      known |= g_str_equal (fields[i], l->data);
    if (!known) {
      ok = unknown_param (e, P, l->data);
    } else if (!is_string (json_object_get_member (o, l->data))) {
      char *p = g_strdup_printf ("%s.%s", P, (char *) l->data);
      ok = bad_type (e, p, "a string", json_object_get_member (o, l->data));
      g_free (p);
    }
  }
  g_list_free (members);
  return ok;
}

static gboolean
validate_audio_input (VErr * e, JsonNode * n, JsonObject * in)
{
  static const char *const tr_fields[] = { "model", "language", "prompt",
    NULL
  };
  static const char *const nr[] = { "near_field", "far_field", NULL };
  const char *P = "session.audio.input";
  GList *members, *l;
  gboolean ok = TRUE;

  if (!JSON_NODE_HOLDS_OBJECT (n))
    return bad_type (e, P, "an object", n);
  members = json_object_get_members (json_node_get_object (n));
  for (l = members; l && ok; l = l->next) {
    const char *k = l->data;
    JsonNode *v = json_object_get_member (json_node_get_object (n), k);

    if (g_str_equal (k, "format")) {
      JsonObject *f;
      if ((ok = validate_format (e, "session.audio.input.format", v, &f,
                  FALSE)))
        json_object_set_object_member (in, "format", f);
    } else if (g_str_equal (k, "turn_detection")) {
      ok = validate_turn_detection (e, v, in, FALSE);
    } else if (g_str_equal (k, "transcription")) {
      if (JSON_NODE_HOLDS_NULL (v))
        json_object_set_null_member (in, k);
      else if (!JSON_NODE_HOLDS_OBJECT (v))
        ok = bad_type (e, "session.audio.input.transcription", "an object", v);
      else if ((ok = validate_string_fields (e,
                  "session.audio.input.transcription",
                  json_node_get_object (v), tr_fields)))
        json_object_set_member (in, k, json_node_copy (v));
    } else if (g_str_equal (k, "noise_reduction")) {
      if (JSON_NODE_HOLDS_NULL (v))
        json_object_set_null_member (in, k);
      else if (!JSON_NODE_HOLDS_OBJECT (v))
        ok = bad_type (e, "session.audio.input.noise_reduction", "an object",
            v);
      else if ((ok = check_enum (e,
                  "session.audio.input.noise_reduction.type",
                  json_object_get_member (json_node_get_object (v), "type"),
                  nr, "'near_field' and 'far_field'")))
        json_object_set_member (in, k, json_node_copy (v));
    } else {
      ok = unknown_param (e, P, k);
    }
  }
  g_list_free (members);
  return ok;
}

static gboolean
validate_audio_output (VErr * e, JsonNode * n, JsonObject * out)
{
  const char *P = "session.audio.output";
  GList *members, *l;
  gboolean ok = TRUE;

  if (!JSON_NODE_HOLDS_OBJECT (n))
    return bad_type (e, P, "an object", n);
  members = json_object_get_members (json_node_get_object (n));
  for (l = members; l && ok; l = l->next) {
    const char *k = l->data;
    JsonNode *v = json_object_get_member (json_node_get_object (n), k);

    if (g_str_equal (k, "format")) {
      JsonObject *f;
      if ((ok = validate_format (e, "session.audio.output.format", v, &f,
                  FALSE)))
        json_object_set_object_member (out, "format", f);
    } else if (g_str_equal (k, "voice")) {
      if (JSON_NODE_HOLDS_OBJECT (v)
          && is_string (json_object_get_member (json_node_get_object (v),
                  "id")))
        json_object_set_member (out, k, json_node_copy (v));
      else if ((ok = check_enum (e, "session.audio.output.voice", v, voices,
                  "'alloy', 'ash', 'ballad', 'coral', 'echo', 'sage', "
                  "'shimmer', 'verse', 'marin', and 'cedar'")))
        json_object_set_member (out, k, json_node_copy (v));
    } else if (g_str_equal (k, "speed")) {
      if ((ok = check_range (e, "session.audio.output.speed", v, 0.25, 1.5,
                  FALSE)))
        json_object_set_double_member (out, k, num (v));
    } else {
      ok = unknown_param (e, P, k);
    }
  }
  g_list_free (members);
  return ok;
}

static gboolean
validate_modalities (VErr * e, const char *P, JsonNode * v)
{
  JsonArray *a;
  const char *m;

  if (!JSON_NODE_HOLDS_ARRAY (v))
    return bad_type (e, P, "an array", v);
  a = json_node_get_array (v);
  if (json_array_get_length (a) != 1
      || !is_string (json_array_get_element (a, 0)))
    return verr (e, "invalid_value", P,
        "Invalid '%s': supported combinations are: ['text'] and "
        "['audio'].", P);
  m = json_array_get_string_element (a, 0);
  if (!g_str_equal (m, "audio") && !g_str_equal (m, "text"))
    return bad_value (e, P, m, "'text' and 'audio'");
  return TRUE;
}

static gboolean
validate_tools (VErr * e, const char *P, JsonNode * v, gboolean grok)
{
  JsonArray *a;
  guint i;

  if (!JSON_NODE_HOLDS_ARRAY (v))
    return bad_type (e, P, "an array", v);
  a = json_node_get_array (v);
  for (i = 0; i < json_array_get_length (a); i++) {
    JsonNode *t = json_array_get_element (a, i);
    JsonObject *o;
    char *p = g_strdup_printf ("%s[%u]", P, i);
    const char *type;
    gboolean ok = TRUE;

    if (!JSON_NODE_HOLDS_OBJECT (t)) {
      ok = bad_type (e, p, "an object", t);
    } else {
      o = json_node_get_object (t);
      type = get_str (o, "type");
      if (!type) {
        char *pt = g_strconcat (p, ".type", NULL);
        ok = verr (e, "missing_required_parameter", pt,
            "Missing required parameter: '%s'.", pt);
        g_free (pt);
      } else if (g_str_equal (type, "function")) {
        GList *members = json_object_get_members (o), *l;
        for (l = members; l && ok; l = l->next) {
          const char *k = l->data;
          JsonNode *mv = json_object_get_member (o, k);
          char *pk = g_strdup_printf ("%s.%s", p, k);
          if (g_str_equal (k, "type"));
          else if (g_str_equal (k, "name") || g_str_equal (k, "description")) {
            if (!is_string (mv))
              ok = bad_type (e, pk, "a string", mv);
          } else if (g_str_equal (k, "parameters")) {
            if (!JSON_NODE_HOLDS_OBJECT (mv))
              ok = bad_type (e, pk, "an object", mv);
          } else {
            ok = unknown_param (e, p, k);
          }
          g_free (pk);
        }
        g_list_free (members);
        if (ok && !get_str (o, "name")) {
          char *pn = g_strconcat (p, ".name", NULL);
          ok = verr (e, "missing_required_parameter", pn,
              "Missing required parameter: '%s'.", pn);
          g_free (pn);
        }
      } else if (grok && (g_str_equal (type, "web_search")
              || g_str_equal (type, "x_search")
              || g_str_equal (type, "file_search"))) {
        /* run by xAI itself: nothing for the client to answer */
      } else if (!g_str_equal (type, "mcp")) {
        char *pt = g_strconcat (p, ".type", NULL);
        ok = bad_value (e, pt, type, grok ? "'function', 'web_search', "
            "'x_search', 'file_search', and 'mcp'" : "'function' and 'mcp'");
        g_free (pt);
      }
    }
    g_free (p);
    if (!ok)
      return FALSE;
  }
  return TRUE;
}

static gboolean
validate_tool_choice (VErr * e, const char *P, JsonNode * v)
{
  static const char *const modes[] = { "auto", "none", "required", NULL };

  if (JSON_NODE_HOLDS_OBJECT (v)) {
    const char *t = get_str (json_node_get_object (v), "type");
    if (g_strcmp0 (t, "function") == 0
        && get_str (json_node_get_object (v), "name"))
      return TRUE;
    if (g_strcmp0 (t, "mcp") == 0)
      return TRUE;
    return verr (e, "invalid_value", P, "Invalid value for '%s'.", P);
  }
  return check_enum (e, P, v, modes, "'auto', 'none', and 'required'");
}

static gboolean
validate_max_tokens (VErr * e, const char *P, JsonNode * v)
{
  if (is_string (v)) {
    if (g_str_equal (json_node_get_string (v), "inf"))
      return TRUE;
    return bad_value (e, P, json_node_get_string (v), "'inf'");
  }
  return check_range (e, P, v, 1, 4096, TRUE);
}

/* The validated copy @s becomes the session if @ok; returns @ok */
static gboolean
adopt_session (Oa * oa, JsonObject * s, gboolean ok)
{
  if (ok) {
    json_object_unref (oa->session);
    oa->session = s;
  } else {
    json_object_unref (s);
  }
  return ok;
}

static gboolean grok_validate_audio (VErr * e, const char *dir, JsonNode * n,
    JsonObject * o);

/* session.audio: {input, output}, each validated into @audio */
static gboolean
validate_audio (VErr * e, JsonNode * v, JsonObject * audio, gboolean grok)
{
  GList *am, *al;
  gboolean ok = TRUE;

  if (!JSON_NODE_HOLDS_OBJECT (v))
    return bad_type (e, "session.audio", "an object", v);
  am = json_object_get_members (json_node_get_object (v));
  for (al = am; al && ok; al = al->next) {
    JsonNode *av = json_object_get_member (json_node_get_object (v),
        al->data);
    if (grok && (g_str_equal (al->data, "input")
            || g_str_equal (al->data, "output")))
      ok = grok_validate_audio (e, al->data, av, get_obj (audio, al->data));
    else if (g_str_equal (al->data, "input"))
      ok = validate_audio_input (e, av, get_obj (audio, "input"));
    else if (g_str_equal (al->data, "output"))
      ok = validate_audio_output (e, av, get_obj (audio, "output"));
    else
      ok = unknown_param (e, "session.audio", al->data);
  }
  g_list_free (am);
  return ok;
}

/* Validates @upd against a copy of the current session; on success the copy
 * becomes the session, otherwise nothing changes (like the real server). */
static gboolean
session_update (Oa * oa, JsonObject * upd, VErr * e)
{
  static const char *const trunc_modes[] = { "auto", "disabled", NULL };
  JsonObject *s;
  GList *members, *l;
  gboolean ok = TRUE;
  JsonNode *tn;

  if (!json_object_has_member (upd, "type"))
    return verr (e, "missing_required_parameter", "session.type",
        "Missing required parameter: 'session.type'.");
  tn = json_object_get_member (upd, "type");
  if (!is_string (tn))
    return bad_type (e, "session.type", "a string", tn);
  if (!g_str_equal (json_node_get_string (tn), "realtime"))
    return verr (e, "invalid_value", "session.type",
        "Invalid value: '%s'. This session is a 'realtime' session and its "
        "type cannot be changed.", json_node_get_string (tn));

  s = obj_copy (oa->session);
  members = json_object_get_members (upd);
  for (l = members; l && ok; l = l->next) {
    const char *k = l->data;
    JsonNode *v = json_object_get_member (upd, k);
    char *p = g_strdup_printf ("session.%s", k);

    if (g_str_equal (k, "type")) {
      /* checked above */
    } else if (g_str_equal (k, "model") || g_str_equal (k, "instructions")) {
      if (!is_string (v))
        ok = bad_type (e, p, "a string", v);
      else
        json_object_set_member (s, k, json_node_copy (v));
    } else if (g_str_equal (k, "output_modalities")) {
      if ((ok = validate_modalities (e, p, v)))
        json_object_set_member (s, k, json_node_copy (v));
    } else if (g_str_equal (k, "audio")) {
      ok = validate_audio (e, v, get_obj (s, "audio"), FALSE);
    } else if (g_str_equal (k, "tools")) {
      if ((ok = validate_tools (e, p, v, FALSE)))
        json_object_set_member (s, k, json_node_copy (v));
    } else if (g_str_equal (k, "tool_choice")) {
      if ((ok = validate_tool_choice (e, p, v)))
        json_object_set_member (s, k, json_node_copy (v));
    } else if (g_str_equal (k, "max_output_tokens")) {
      if ((ok = validate_max_tokens (e, p, v)))
        json_object_set_member (s, k, json_node_copy (v));
    } else if (g_str_equal (k, "truncation")) {
      if (JSON_NODE_HOLDS_OBJECT (v)) {
        const char *t = get_str (json_node_get_object (v), "type");
        if (g_strcmp0 (t, "retention_ratio") != 0)
          ok = bad_value (e, "session.truncation.type", t ? t : "",
              "'retention_ratio'");
        else
          json_object_set_member (s, k, json_node_copy (v));
      } else if ((ok = check_enum (e, p, v, trunc_modes,
                  "'auto' and 'disabled'"))) {
        json_object_set_member (s, k, json_node_copy (v));
      }
    } else if (g_str_equal (k, "tracing") || g_str_equal (k, "prompt")) {
      if (!JSON_NODE_HOLDS_NULL (v) && !JSON_NODE_HOLDS_OBJECT (v)
          && !(is_string (v) && g_str_equal (json_node_get_string (v), "auto")))
        ok = bad_type (e, p, "an object", v);
      else
        json_object_set_member (s, k, json_node_copy (v));
    } else if (g_str_equal (k, "include")) {
      if (!JSON_NODE_HOLDS_NULL (v) && !JSON_NODE_HOLDS_ARRAY (v))
        ok = bad_type (e, p, "an array", v);
      else
        json_object_set_member (s, k, json_node_copy (v));
    } else if (g_str_equal (k, "reasoning")) {
      if (!JSON_NODE_HOLDS_OBJECT (v))
        ok = bad_type (e, p, "an object", v);
      else
        json_object_set_member (s, k, json_node_copy (v));
    } else if (g_str_equal (k, "parallel_tool_calls")) {
      if (!is_bool (v))
        ok = bad_type (e, p, "a boolean", v);
      else
        json_object_set_member (s, k, json_node_copy (v));
    } else {
      /* Includes every beta field: voice, modalities, input_audio_format,
       * turn_detection, temperature, ... */
      ok = unknown_param (e, "session", k);
    }
    g_free (p);
  }
  g_list_free (members);
  return adopt_session (oa, s, ok);
}

static gboolean
grok_validate_audio (VErr * e, const char *dir, JsonNode * n, JsonObject * o)
{
  static const char *const transports[] = { "json", NULL };
  gboolean input = g_str_equal (dir, "input");
  char *P = g_strdup_printf ("session.audio.%s", dir);
  GList *members, *l;
  gboolean ok = TRUE;

  if (!JSON_NODE_HOLDS_OBJECT (n)) {
    ok = bad_type (e, P, "an object", n);
    g_free (P);
    return ok;
  }
  members = json_object_get_members (json_node_get_object (n));
  for (l = members; l && ok; l = l->next) {
    const char *k = l->data;
    JsonNode *v = json_object_get_member (json_node_get_object (n), k);
    char *p = g_strdup_printf ("%s.%s", P, k);

    if (g_str_equal (k, "format")) {
      JsonObject *f;
      if ((ok = validate_format (e, p, v, &f, TRUE)))
        json_object_set_object_member (o, "format", f);
    } else if (g_str_equal (k, "transport")) {
      /* binary frames are not emulated (README) */
      if ((ok = check_enum (e, p, v, transports, "'json'")))
        json_object_set_member (o, k, json_node_copy (v));
    } else if (input && g_str_equal (k, "transcription")) {
      static const char *const tr[] = { "model", "language_hint", NULL };
      JsonObject *t = JSON_NODE_HOLDS_OBJECT (v) ?
          json_node_get_object (v) : NULL;
      JsonNode *kt = t ? json_object_get_member (t, "keyterms") : NULL;
      if (!t) {
        ok = bad_type (e, p, "an object", v);
      } else if (kt && (!JSON_NODE_HOLDS_ARRAY (kt)
              || json_array_get_length (json_node_get_array (kt)) > 100)) {
        ok = verr (e, "invalid_value", "session.audio.input.transcription."
            "keyterms", "Invalid 'keyterms': expected at most 100 strings.");
      } else {
        JsonObject *rest = obj_copy (t);
        json_object_remove_member (rest, "keyterms");
        ok = validate_string_fields (e, p, rest, tr);
        json_object_unref (rest);
      }
      if (ok)
        json_object_set_member (o, k, json_node_copy (v));
    } else if (!input && g_str_equal (k, "speed")) {
      if ((ok = check_range (e, p, v, 0.7, 1.5, FALSE)))
        json_object_set_double_member (o, k, num (v));
    } else {
      ok = unknown_param (e, P, k);
    }
    g_free (p);
  }
  g_list_free (members);
  g_free (P);
  return ok;
}

/* Grok's session.update: no session.type, voice and turn_detection at the
 * top level; OpenAI GA fields (type, output_modalities, audio.output.voice,
 * tool_choice, max_output_tokens, ...) are unknown parameters. */
static gboolean
grok_session_update (Oa * oa, JsonObject * upd, VErr * e)
{
  static const char *const efforts[] = { "high", "none", NULL };
  JsonObject *s = obj_copy (oa->session);
  GList *members, *l;
  gboolean ok = TRUE;

  members = json_object_get_members (upd);
  for (l = members; l && ok; l = l->next) {
    const char *k = l->data;
    JsonNode *v = json_object_get_member (upd, k);
    char *p = g_strdup_printf ("session.%s", k);

    if (g_str_equal (k, "instructions")) {
      if (!is_string (v))
        ok = bad_type (e, p, "a string", v);
      else
        json_object_set_member (s, k, json_node_copy (v));
    } else if (g_str_equal (k, "voice")) {
      char *lower = is_string (v) ?
          g_ascii_strdown (json_node_get_string (v), -1) : NULL;
      if (!lower) {
        ok = bad_type (e, p, "a string", v);
      } else if (!g_strv_contains (grok_voices, lower)) {
        ok = bad_value (e, p, json_node_get_string (v),
            "'eve', 'ara', 'rex', 'sal', and 'leo'");
      } else {
        json_object_set_string_member (s, k, lower);
      }
      g_free (lower);
    } else if (g_str_equal (k, "turn_detection")) {
      ok = validate_turn_detection (e, v, s, TRUE);
    } else if (g_str_equal (k, "audio")) {
      ok = validate_audio (e, v, get_obj (s, "audio"), TRUE);
    } else if (g_str_equal (k, "tools")) {
      if ((ok = validate_tools (e, p, v, TRUE)))
        json_object_set_member (s, k, json_node_copy (v));
    } else if (g_str_equal (k, "reasoning")) {
      JsonObject *r = JSON_NODE_HOLDS_OBJECT (v) ? json_node_get_object (v) :
          NULL;
      if (!r)
        ok = bad_type (e, p, "an object", v);
      else if (json_object_has_member (r, "effort"))
        ok = check_enum (e, "session.reasoning.effort",
            json_object_get_member (r, "effort"), efforts, "'high' and 'none'");
      if (ok)
        json_object_set_member (s, k, json_node_copy (v));
    } else if (g_str_equal (k, "resumption") || g_str_equal (k, "replace")) {
      if (!JSON_NODE_HOLDS_OBJECT (v))
        ok = bad_type (e, p, "an object", v);
      else
        json_object_set_member (s, k, json_node_copy (v));
    } else {
      ok = unknown_param (e, "session", k);
    }
    g_free (p);
  }
  g_list_free (members);
  return adopt_session (oa, s, ok);
}

/* ------------------------------------------------------------------------ */
/* Conversation */

static Item *
find_item (Oa * oa, const char *id, guint * index)
{
  guint i;

  if (!id)
    return NULL;
  for (i = 0; i < oa->items->len; i++) {
    Item *it = g_ptr_array_index (oa->items, i);
    if (g_str_equal (it->id, id)) {
      if (index)
        *index = i;
      return it;
    }
  }
  return NULL;
}

static void
item_free (Item * it)
{
  g_free (it->id);
  json_object_unref (it->item);
  g_free (it);
}

static const char *
last_item_id (Oa * oa)
{
  if (oa->items->len == 0)
    return NULL;
  return ((Item *) g_ptr_array_index (oa->items, oa->items->len - 1))->id;
}

/* Takes @item; returns the stored Item. */
static Item *
add_item (Oa * oa, JsonObject * item, gint position)
{
  Item *it = g_new0 (Item, 1);

  it->id = g_strdup (get_str (item, "id"));
  it->item = item;
  if (position < 0 || (guint) position >= oa->items->len)
    g_ptr_array_add (oa->items, it);
  else
    g_ptr_array_insert (oa->items, position, it);
  return it;
}

static void
set_prev (JsonObject * ev, const char *prev)
{
  if (prev)
    json_object_set_string_member (ev, "previous_item_id", prev);
  else
    json_object_set_null_member (ev, "previous_item_id");
}

static void
send_item_event (EmuConn * conn, const char *type, const char *prev,
    JsonObject * item)
{
  JsonObject *ev;

  /* Grok never sends conversation.item.done */
  if (((Oa *) conn->priv)->grok && g_str_equal (type, "conversation.item.done"))
    return;
  ev = ev_new (type);
  set_prev (ev, prev);
  json_object_set_object_member (ev, "item", obj_copy (item));
  emu_conn_send_event (conn, ev);
}

static JsonObject *
message_item (const char *id, const char *role, const char *status)
{
  JsonObject *it = json_object_new ();

  json_object_set_string_member (it, "id", id);
  json_object_set_string_member (it, "object", "realtime.item");
  json_object_set_string_member (it, "type", "message");
  json_object_set_string_member (it, "status", status);
  json_object_set_string_member (it, "role", role);
  json_object_set_array_member (it, "content", json_array_new ());
  return it;
}

static void
set_source (Oa * oa, SourceKind kind, GArray * audio, const char *text,
    guint turn, const char *user_transcript)
{
  g_clear_pointer (&oa->src_audio, g_array_unref);
  g_clear_pointer (&oa->src_text, g_free);
  g_clear_pointer (&oa->src_user_transcript, g_free);
  oa->src = kind;
  oa->src_audio = audio;
  oa->src_text = g_strdup (text);
  oa->src_turn = turn;
  oa->src_user_transcript = g_strdup (user_transcript);
}

static char *
user_transcript_for (guint turn, guint ms)
{
  JsonObject *t = emu_script_turn (turn);
  const char *s = get_str (t, "user_transcript");

  if (s)
    return g_strdup (s);
  return g_strdup_printf ("turn %u, %u ms of speech", turn, ms);
}

static void
flush_transcripts (EmuConn * conn)
{
  Oa *oa = conn->priv;

  while (oa->pending_transcripts->len > 0) {
    PendingTranscript *pt = g_ptr_array_steal_index (oa->pending_transcripts,
        0);
    guint n, i;
    char **deltas = split_deltas (pt->transcript, &n);
    Item *it = find_item (oa, pt->item_id, NULL);
    JsonObject *ev, *usage;

    GString *sofar = g_string_new (NULL);

    for (i = 0; i < n && (!oa->grok || oa->grok_partials); i++) {
      /* Grok: .updated with the whole transcript so far */
      g_string_append (sofar, deltas[i]);
      ev = ev_new (oa->grok ?
          "conversation.item.input_audio_transcription.updated" :
          "conversation.item.input_audio_transcription.delta");
      json_object_set_string_member (ev, "item_id", pt->item_id);
      json_object_set_int_member (ev, "content_index", 0);
      json_object_set_string_member (ev, oa->grok ? "transcript" : "delta",
          oa->grok ? sofar->str : deltas[i]);
      emu_conn_send_event (conn, ev);
    }
    g_string_free (sofar, TRUE);
    g_strfreev (deltas);
    ev = ev_new ("conversation.item.input_audio_transcription.completed");
    json_object_set_string_member (ev, "item_id", pt->item_id);
    json_object_set_int_member (ev, "content_index", 0);
    json_object_set_string_member (ev, "transcript", pt->transcript);
    if (!oa->grok) {
      usage = json_object_new ();
      json_object_set_string_member (usage, "type", "duration");
      json_object_set_double_member (usage, "seconds", pt->ms / 1000.0);
      json_object_set_object_member (ev, "usage", usage);
    }
    emu_conn_send_event (conn, ev);

    if (it) {
      JsonArray *c = json_object_get_array_member (it->item, "content");
      if (c && json_array_get_length (c) > 0
          && JSON_NODE_HOLDS_OBJECT (json_array_get_element (c, 0)))
        json_object_set_string_member (json_array_get_object_element (c, 0),
            "transcript", pt->transcript);
    }
    g_free (pt->item_id);
    g_free (pt->transcript);
    g_free (pt);
  }
}

/* ------------------------------------------------------------------------ */
/* Responses */

static void start_response (EmuConn * conn, JsonObject * params);

static JsonObject *
response_object (Response * r, const char *status)
{
  JsonObject *o = json_object_new ();
  JsonObject *audio = json_object_new (), *out = json_object_new ();

  json_object_set_string_member (o, "object", "realtime.response");
  json_object_set_string_member (o, "id", r->id);
  json_object_set_string_member (o, "status", status);
  json_object_set_null_member (o, "status_details");
  json_object_set_array_member (o, "output", json_array_new ());
  if (r->out_of_band)
    json_object_set_null_member (o, "conversation_id");
  else
    json_object_set_string_member (o, "conversation_id", "conv_1");
  json_object_set_member (o, "output_modalities",
      json_node_copy (r->modalities));
  json_object_set_string_member (o, "max_output_tokens", "inf");
  json_object_set_object_member (out, "format", obj_copy (r->format));
  json_object_set_string_member (out, "voice", r->voice);
  json_object_set_object_member (audio, "output", out);
  json_object_set_object_member (o, "audio", audio);
  json_object_set_null_member (o, "usage");
  json_object_set_null_member (o, "metadata");
  return o;
}

static void
response_free (Response * r)
{
  g_free (r->id);
  g_free (r->item_id);
  g_free (r->prev_item_id);
  if (r->format)
    json_object_unref (r->format);
  g_free (r->voice);
  if (r->modalities)
    json_node_unref (r->modalities);
  if (r->audio)
    g_array_unref (r->audio);
  g_strfreev (r->words);
  g_free (r->transcript);
  g_free (r->tool_name);
  g_free (r->tool_call_id);
  g_free (r->tool_args);
  g_free (r);
}

static JsonObject *
resp_ev (Response * r, const char *type, gboolean with_content)
{
  JsonObject *ev = ev_new (type);

  json_object_set_string_member (ev, "response_id", r->id);
  json_object_set_string_member (ev, "item_id", r->item_id);
  json_object_set_int_member (ev, "output_index", 0);
  if (with_content)
    json_object_set_int_member (ev, "content_index", 0);
  return ev;
}

static char *
partial_transcript (Response * r)
{
  GString *s = g_string_new (NULL);
  guint i;

  for (i = 0; i < r->words_sent && i < r->n_words; i++)
    g_string_append (s, r->words[i]);
  return g_string_free (s, FALSE);
}

static JsonObject *
content_part (Response * r, const char *text)
{
  JsonObject *p = json_object_new ();

  if (r->text_only) {
    json_object_set_string_member (p, "type", "output_text");
    json_object_set_string_member (p, "text", text);
  } else {
    json_object_set_string_member (p, "type", "output_audio");
    json_object_set_string_member (p, "transcript", text);
  }
  return p;
}

/* The final item as stored and sent in *.done events. */
static JsonObject *
final_item (Response * r, const char *status, const char *text)
{
  JsonObject *it;

  if (r->tool_name) {
    it = json_object_new ();
    json_object_set_string_member (it, "id", r->item_id);
    json_object_set_string_member (it, "object", "realtime.item");
    json_object_set_string_member (it, "type", "function_call");
    json_object_set_string_member (it, "status", status);
    json_object_set_string_member (it, "name", r->tool_name);
    json_object_set_string_member (it, "call_id", r->tool_call_id);
    json_object_set_string_member (it, "arguments",
        g_str_equal (status, "completed") ? r->tool_args : "");
    return it;
  }
  it = message_item (r->item_id, "assistant", status);
  if (r->part_added)
    json_array_add_object_element (json_object_get_array_member (it,
            "content"), content_part (r, text));
  return it;
}

static void
finish_response (EmuConn * conn, const char *status, const char *reason)
{
  Oa *oa = conn->priv;
  Response *r = oa->resp;
  gboolean done = g_str_equal (status, "completed");
  char *text;
  JsonObject *ev, *item, *resp, *usage, *itd, *otd, *details;
  guint out_audio_ms, out_text, in_tokens, out_tokens;
  Item *stored;

  if (!r)
    return;
  emu_pacer_stop (conn, &r->pacer);
  text = done ? g_strdup (r->transcript ? r->transcript : "") :
      partial_transcript (r);

  if (r->tool_name) {
    if (done) {
      ev = resp_ev (r, "response.function_call_arguments.done", FALSE);
      json_object_set_string_member (ev, "call_id", r->tool_call_id);
      json_object_set_string_member (ev, "name", r->tool_name);
      json_object_set_string_member (ev, "arguments", r->tool_args);
      emu_conn_send_event (conn, ev);
    }
  } else if (r->part_added) {
    if (r->text_only) {
      ev = resp_ev (r, "response.output_text.done", TRUE);
      json_object_set_string_member (ev, "text", text);
      emu_conn_send_event (conn, ev);
    } else {
      emu_conn_send_event (conn, resp_ev (r, "response.output_audio.done",
              TRUE));
      ev = resp_ev (r, "response.output_audio_transcript.done", TRUE);
      json_object_set_string_member (ev, "transcript", text);
      emu_conn_send_event (conn, ev);
    }
    ev = resp_ev (r, "response.content_part.done", TRUE);
    json_object_set_object_member (ev, "part", content_part (r, text));
    emu_conn_send_event (conn, ev);
  }

  item = final_item (r, done ? "completed" : "incomplete", text);
  ev = ev_new ("response.output_item.done");
  json_object_set_string_member (ev, "response_id", r->id);
  json_object_set_int_member (ev, "output_index", 0);
  json_object_set_object_member (ev, "item", obj_copy (item));
  emu_conn_send_event (conn, ev);

  out_audio_ms = r->text_only || r->tool_name ? 0 :
      (guint) (r->pos / EMU_SAMPLES_PER_MS);
  stored = r->out_of_band ? NULL : find_item (oa, r->item_id, NULL);
  if (stored) {
    json_object_unref (stored->item);
    stored->item = obj_copy (item);
    stored->assistant_audio = !r->tool_name && !r->text_only && r->part_added;
    stored->audio_ms = out_audio_ms;
    send_item_event (conn, "conversation.item.done", r->prev_item_id, item);
  }

  /* Deterministic usage (README): audio tokens = ms / 50, text tokens =
   * words (tool arguments: ceil (chars / 4)). */
  out_text = r->tool_name ? (guint) ((strlen (r->tool_args) + 3) / 4) :
      count_words (text);
  in_tokens = r->in_audio_ms / 50 + r->in_text_tokens;
  out_tokens = out_audio_ms / 50 + out_text;
  resp = response_object (r, status);
  if (!done) {
    details = json_object_new ();
    json_object_set_string_member (details, "type", status);
    json_object_set_string_member (details, "reason", reason);
    json_object_set_object_member (resp, "status_details", details);
  }
  json_array_add_object_element (json_object_get_array_member (resp,
          "output"), item);
  usage = json_object_new ();
  json_object_set_int_member (usage, "total_tokens", in_tokens + out_tokens);
  json_object_set_int_member (usage, "input_tokens", in_tokens);
  json_object_set_int_member (usage, "output_tokens", out_tokens);
  itd = json_object_new ();
  json_object_set_int_member (itd, "text_tokens", r->in_text_tokens);
  json_object_set_int_member (itd, "audio_tokens", r->in_audio_ms / 50);
  json_object_set_int_member (itd, "image_tokens", 0);
  json_object_set_int_member (itd, "cached_tokens", 0);
  json_object_set_object_member (usage, "input_token_details", itd);
  otd = json_object_new ();
  json_object_set_int_member (otd, "text_tokens", out_text);
  json_object_set_int_member (otd, "audio_tokens", out_audio_ms / 50);
  json_object_set_object_member (usage, "output_token_details", otd);
  json_object_set_object_member (resp, "usage", usage);
  ev = ev_new ("response.done");
  json_object_set_object_member (ev, "response", resp);
  oa->tokens_used += in_tokens + out_tokens;
  oa->resp = NULL;
  emu_conn_send_event (conn, ev);

  /* Grok never sends rate_limits.updated */
  if (!oa->grok) {
    JsonArray *limits = json_array_new ();
    JsonObject *l1 = json_object_new (), *l2 = json_object_new ();
    json_object_set_string_member (l1, "name", "requests");
    json_object_set_int_member (l1, "limit", 5000);
    json_object_set_int_member (l1, "remaining", 4999);
    json_object_set_double_member (l1, "reset_seconds", 0.012);
    json_object_set_string_member (l2, "name", "tokens");
    json_object_set_int_member (l2, "limit", 4000000);
    json_object_set_int_member (l2, "remaining",
        4000000 - MIN (oa->tokens_used, 4000000));
    json_object_set_double_member (l2, "reset_seconds", 0.5);
    json_array_add_object_element (limits, l1);
    json_array_add_object_element (limits, l2);
    ev = ev_new ("rate_limits.updated");
    json_object_set_array_member (ev, "rate_limits", limits);
    emu_conn_send_event (conn, ev);
  }

  g_free (text);
  response_free (r);

  if (oa->pending_auto_response && emu_conn_alive (conn)) {
    oa->pending_auto_response = FALSE;
    start_response (conn, NULL);
  }
}

/* Emits chunk number chunk_idx (audio + the transcript words scheduled with
 * it).  Returns FALSE once the response is finished. */
static gboolean
response_step (EmuConn * conn)
{
  Oa *oa = conn->priv;
  Response *r = oa->resp;
  JsonObject *ev;

  if (!r->part_added) {
    ev = resp_ev (r, "response.content_part.added", TRUE);
    json_object_set_object_member (ev, "part", content_part (r, ""));
    r->part_added = TRUE;
    emu_conn_send_event (conn, ev);
    if (oa->resp != r || !emu_conn_alive (conn))
      return FALSE;
  }

  if (r->chunk_idx < r->n_chunks) {
    if (!r->text_only) {
      gsize n = MIN (CHUNK_SAMPLES, r->audio->len - r->pos), len;
      guint8 *bytes = emu_audio_encode_at (r->out_fmt, r->out_rate,
          &g_array_index (r->audio, gint16, r->pos), n, &len);
      char *b64 = g_base64_encode (bytes, len);

      r->pos += n;
      ev = resp_ev (r, "response.output_audio.delta", TRUE);
      json_object_set_string_member (ev, "delta", b64);
      g_free (b64);
      g_free (bytes);
      emu_conn_send_event (conn, ev);
    }
    /* word j goes out with chunk floor (j * n_chunks / n_words) */
    while (r->words_sent < r->n_words && oa->resp == r && emu_conn_alive (conn)
        && (guint64) r->words_sent * r->n_chunks / r->n_words <= r->chunk_idx) {
      ev = resp_ev (r, r->text_only ? "response.output_text.delta" :
          "response.output_audio_transcript.delta", TRUE);
      json_object_set_string_member (ev, "delta", r->words[r->words_sent]);
      r->words_sent++;
      emu_conn_send_event (conn, ev);
    }
    r->chunk_idx++;
  }
  if (oa->resp != r || !emu_conn_alive (conn))
    return FALSE;
  if (r->chunk_idx >= r->n_chunks) {
    finish_response (conn, "completed", NULL);
    return FALSE;
  }
  return TRUE;
}

static gboolean tool_step (EmuConn * conn);

static EmuPacer *
response_pacer (EmuConn * conn)
{
  Oa *oa = conn->priv;
  Response *r = oa->resp;

  if (!r)
    return NULL;
  /* text and tool calls go out at once */
  r->pacer.unpaced = r->text_only || r->tool_name;
  return &r->pacer;
}

static gboolean
response_pace_step (EmuConn * conn)
{
  Oa *oa = conn->priv;

  return oa->resp->tool_name ? tool_step (conn) : response_step (conn);
}

static void
response_pump (EmuConn * conn)
{
  emu_pacer_run (conn, response_pacer, response_pace_step);
}

static gboolean
tool_step (EmuConn * conn)
{
  Oa *oa = conn->priv;
  Response *r = oa->resp;
  gsize len = strlen (r->tool_args), off;

  /* arguments in 16-byte deltas; JSON text is ASCII-safe enough here
   * because we split on UTF-8 boundaries */
  for (off = 0; off < len && oa->resp == r && emu_conn_alive (conn);) {
    gsize n = MIN (16, len - off);
    JsonObject *ev;
    char *piece;

    while (off + n < len && (r->tool_args[off + n] & 0xC0) == 0x80)
      n++;
    piece = g_strndup (r->tool_args + off, n);
    ev = resp_ev (r, "response.function_call_arguments.delta", FALSE);
    json_object_set_string_member (ev, "call_id", r->tool_call_id);
    json_object_set_string_member (ev, "delta", piece);
    g_free (piece);
    off += n;
    emu_conn_send_event (conn, ev);
  }
  if (oa->resp == r && emu_conn_alive (conn))
    finish_response (conn, "completed", NULL);
  return FALSE;
}

static void
start_response (EmuConn * conn, JsonObject * params)
{
  Oa *oa = conn->priv;
  Response *r = g_new0 (Response, 1);
  JsonObject *script_turn = NULL, *tool = NULL, *ev, *item;
  JsonObject *out = get_obj (get_obj (oa->session, "audio"), "output");
  const char *assistant = NULL, *voice;
  const char *conv = get_str (params, "conversation");
  char *transcript;

  r->id = g_strdup_printf ("resp_%u", ++oa->next_resp);
  r->item_id = new_item_id (oa);
  r->out_of_band = g_strcmp0 (conv, "none") == 0;
  r->out_fmt = oa->out_fmt;
  r->out_rate = oa->out_rate;
  r->format = obj_copy (get_obj (out, "format"));
  voice = get_str (oa->grok ? oa->session : out, "voice");
  r->voice = g_strdup (voice ? voice : "marin");
  if (params && json_object_has_member (params, "output_modalities"))
    r->modalities = json_node_copy (json_object_get_member (params,
            "output_modalities"));
  else if (json_object_has_member (oa->session, "output_modalities"))
    r->modalities =
        json_node_copy (json_object_get_member (oa->session,
            "output_modalities"));
  else                          /* Grok: always audio */
    r->modalities = json_from_string ("[\"audio\"]", NULL);
  r->text_only = g_strcmp0 (json_array_get_string_element (json_node_get_array
          (r->modalities), 0), "text") == 0;

  if (oa->src != SRC_NONE && oa->src_turn > 0)
    script_turn = emu_script_turn (oa->src_turn);
  if (script_turn) {
    tool = get_obj (script_turn, "tool_call");
    assistant = get_str (script_turn, "assistant_transcript");
  }

  if (tool && get_str (tool, "name")) {
    JsonNode *args = json_object_has_member (tool, "arguments") ?
        json_object_get_member (tool, "arguments") : NULL;
    r->tool_name = g_strdup (get_str (tool, "name"));
    r->tool_call_id = get_str (tool, "call_id") ?
        g_strdup (get_str (tool, "call_id")) :
        g_strdup_printf ("call_%u", ++oa->next_call);
    if (args && is_string (args)) {
      r->tool_args = g_strdup (json_node_get_string (args));
    } else if (args) {
      r->tool_args = emu_json_to_string (args);
    } else {
      r->tool_args = g_strdup ("{}");
    }
  } else {
    r->audio = g_array_new (FALSE, FALSE, sizeof (gint16));
    if (oa->src == SRC_AUDIO && oa->src_audio) {
      g_array_append_vals (r->audio, oa->src_audio->data, oa->src_audio->len);
      transcript = assistant ? g_strdup (assistant) :
          g_strdup_printf ("You said: %s", oa->src_user_transcript);
    } else {
      emu_sine (r->audio, 1000, 440.0, 8000.0);
      if (assistant)
        transcript = g_strdup (assistant);
      else if (oa->src == SRC_TOOL)
        transcript = g_strdup_printf ("The tool said: %s", oa->src_text);
      else if (oa->src == SRC_TEXT || (oa->src == SRC_AUDIO))
        transcript = g_strdup_printf ("You wrote: %s",
            oa->src_text ? oa->src_text : "");
      else
        transcript = g_strdup ("Hello! How can I help you today?");
    }
    r->transcript = transcript;
    r->words = split_deltas (transcript, &r->n_words);
    if (r->text_only)
      r->n_chunks = MAX (r->n_words, 1);
    else
      r->n_chunks = MAX ((r->audio->len + CHUNK_SAMPLES - 1) / CHUNK_SAMPLES,
          1);
  }
  if (oa->src == SRC_AUDIO && oa->src_audio)
    r->in_audio_ms = oa->src_audio->len / EMU_SAMPLES_PER_MS;
  if (oa->src == SRC_TEXT || oa->src == SRC_TOOL)
    r->in_text_tokens = count_words (oa->src_text);
  if (!r->out_of_band)
    set_source (oa, SRC_NONE, NULL, NULL, 0, NULL);

  oa->resp = r;
  ev = ev_new ("response.created");
  json_object_set_object_member (ev, "response", response_object (r,
          "in_progress"));
  emu_conn_send_event (conn, ev);
  /* The real transcription is asynchronous and usually lands late. */
  flush_transcripts (conn);
  if (oa->resp != r || !emu_conn_alive (conn))
    return;

  if (r->tool_name) {
    item = json_object_new ();
    json_object_set_string_member (item, "id", r->item_id);
    json_object_set_string_member (item, "object", "realtime.item");
    json_object_set_string_member (item, "type", "function_call");
    json_object_set_string_member (item, "status", "in_progress");
    json_object_set_string_member (item, "name", r->tool_name);
    json_object_set_string_member (item, "call_id", r->tool_call_id);
    json_object_set_string_member (item, "arguments", "");
  } else {
    item = message_item (r->item_id, "assistant", "in_progress");
  }
  ev = ev_new ("response.output_item.added");
  json_object_set_string_member (ev, "response_id", r->id);
  json_object_set_int_member (ev, "output_index", 0);
  json_object_set_object_member (ev, "item", obj_copy (item));
  emu_conn_send_event (conn, ev);
  if (!r->out_of_band) {
    r->prev_item_id = g_strdup (last_item_id (oa));
    add_item (oa, obj_copy (item), -1);
    if (oa->resp == r && emu_conn_alive (conn))
      send_item_event (conn, "conversation.item.added", r->prev_item_id, item);
  }
  json_object_unref (item);
  response_pump (conn);
}

static void
cancel_response (EmuConn * conn, const char *reason)
{
  Oa *oa = conn->priv;

  if (oa->resp)
    finish_response (conn, "cancelled", reason);
}

/* ------------------------------------------------------------------------ */
/* Input audio */

static void
reset_vad (Oa * oa)
{
  oa->in_speech = FALSE;
  oa->silence_run = 0;
  g_clear_pointer (&oa->speech_item_id, g_free);
  oa->vad_pos = oa->total;
}

static void
drop_buffer_until (Oa * oa, gint64 pos)
{
  emu_buffer_drop_until (oa->buf, &oa->buf_start, pos);
}

static void
commit_turn (EmuConn * conn, gint64 start, gint64 end, char *item_id,
    gboolean respond)
{
  Oa *oa = conn->priv;
  GArray *audio = g_array_new (FALSE, FALSE, sizeof (gint16));
  JsonObject *ev, *item, *part;
  const char *prev = last_item_id (oa);
  char *prev_copy = g_strdup (prev);
  char *transcript;
  guint ms;
  gint64 s = CLAMP (start - oa->buf_start, 0, (gint64) oa->buf->len);
  gint64 e = CLAMP (end - oa->buf_start, s, (gint64) oa->buf->len);

  g_array_append_vals (audio, &g_array_index (oa->buf, gint16, s), e - s);
  drop_buffer_until (oa, end);
  ms = audio->len / EMU_SAMPLES_PER_MS;
  oa->user_turns++;
  transcript = user_transcript_for (oa->user_turns, ms);

  ev = ev_new ("input_audio_buffer.committed");
  set_prev (ev, prev_copy);
  json_object_set_string_member (ev, "item_id", item_id);
  emu_conn_send_event (conn, ev);

  item = message_item (item_id, "user", "completed");
  part = json_object_new ();
  json_object_set_string_member (part, "type", "input_audio");
  json_object_set_null_member (part, "transcript");
  json_array_add_object_element (json_object_get_array_member (item,
          "content"), part);
  add_item (oa, obj_copy (item), -1);
  send_item_event (conn, "conversation.item.added", prev_copy, item);
  send_item_event (conn, "conversation.item.done", prev_copy, item);
  json_object_unref (item);

  set_source (oa, SRC_AUDIO, audio, NULL, oa->user_turns, transcript);
  if (oa->transcription) {
    PendingTranscript *pt = g_new0 (PendingTranscript, 1);
    pt->item_id = g_strdup (item_id);
    pt->transcript = g_strdup (transcript);
    pt->ms = ms;
    g_ptr_array_add (oa->pending_transcripts, pt);
  }
  if (respond && emu_conn_alive (conn)) {
    if (oa->resp)
      oa->pending_auto_response = TRUE;
    else
      start_response (conn, NULL);
  }
  /* no response started: the transcript still comes, just later */
  if (emu_conn_alive (conn))
    flush_transcripts (conn);
  g_free (transcript);
  g_free (prev_copy);
  g_free (item_id);
}

static void
run_vad (EmuConn * conn)
{
  Oa *oa = conn->priv;
  double thr = emu_vad_threshold_dbfs (oa->threshold);
  gint64 silence_samples = (gint64) oa->silence_ms * EMU_SAMPLES_PER_MS;
  gint64 prefix_samples = (gint64) oa->prefix_ms * EMU_SAMPLES_PER_MS;

  if (oa->vad_pos < oa->buf_start)
    oa->vad_pos = oa->buf_start;
  while (oa->td != TD_NONE && emu_conn_alive (conn)
      && oa->vad_pos + FRAME_SAMPLES <= oa->total) {
    const gint16 *frame = &g_array_index (oa->buf, gint16,
        oa->vad_pos - oa->buf_start);
    gboolean voiced = emu_frame_dbfs (frame, FRAME_SAMPLES) > thr;
    JsonObject *ev;

    if (!oa->in_speech) {
      if (voiced) {
        oa->in_speech = TRUE;
        oa->start_sent = FALSE;
        oa->speech_start = oa->vad_pos;
        oa->silence_run = 0;
        oa->speech_item_id = new_item_id (oa);
      }
      oa->vad_pos += FRAME_SAMPLES;
    } else {
      oa->silence_run = voiced ? 0 : oa->silence_run + FRAME_SAMPLES;
      oa->vad_pos += FRAME_SAMPLES;
    }
    /* --vad-start-delay-ms: the VAD reports the speech that much audio
     * after it began (a detection latency), and stops only after that */
    if (oa->in_speech && !oa->start_sent && oa->vad_pos - oa->speech_start >
        (gint64) emu_options.vad_start_delay_ms * EMU_SAMPLES_PER_MS) {
      oa->start_sent = TRUE;
      ev = ev_new ("input_audio_buffer.speech_started");
      /* OpenAI: audio_start_ms "includes the prefix_padding_ms" */
      json_object_set_int_member (ev, "audio_start_ms",
          MAX (oa->speech_start - prefix_samples, 0) / EMU_SAMPLES_PER_MS);
      json_object_set_string_member (ev, "item_id", oa->speech_item_id);
      emu_conn_send_event (conn, ev);
      if (oa->interrupt_response && oa->resp)
        cancel_response (conn, "turn_detected");
    } else if (oa->in_speech && oa->start_sent) {
      if (oa->silence_run >= silence_samples) {
        gint64 end = oa->vad_pos;
        char *item_id = g_steal_pointer (&oa->speech_item_id);

        oa->in_speech = FALSE;
        ev = ev_new ("input_audio_buffer.speech_stopped");
        json_object_set_int_member (ev, "audio_end_ms",
            end / EMU_SAMPLES_PER_MS);
        json_object_set_string_member (ev, "item_id", item_id);
        emu_conn_send_event (conn, ev);
        commit_turn (conn, MAX (oa->speech_start - prefix_samples, 0), end,
            item_id, oa->create_response);
      }
    }
  }
}

static void
append_audio (EmuConn * conn, const guint8 * data, gsize len)
{
  Oa *oa = conn->priv;
  GArray *native = g_array_new (FALSE, FALSE, sizeof (gint16));
  guint8 *joined = NULL;

  if (oa->in_fmt == EMU_FMT_PCM16) {
    /* a sample may straddle two appends */
    if (oa->has_carry) {
      joined = g_malloc (len + 1);
      joined[0] = oa->carry;
      memcpy (joined + 1, data, len);
      data = joined;
      len++;
      oa->has_carry = FALSE;
    }
    if (len % 2) {
      oa->carry = data[len - 1];
      oa->has_carry = TRUE;
    }
  }
  emu_audio_decode (oa->in_fmt, data, len, native);
  emu_conn_write_raw_input (conn, (gint16 *) native->data, native->len);
  oa->total += emu_resample_to_internal (&oa->in_rs,
      (gint16 *) native->data, native->len, oa->buf);
  g_array_unref (native);
  g_free (joined);

  if (oa->buf->len > EMU_MAX_BUFFER_SAMPLES)
    drop_buffer_until (oa, oa->buf_start + (oa->buf->len -
            EMU_MAX_BUFFER_SAMPLES));
  run_vad (conn);
}

/* ------------------------------------------------------------------------ */
/* Client events */

static void
handle_session_update (EmuConn * conn, JsonObject * ev, const char *eid)
{
  Oa *oa = conn->priv;
  JsonObject *s = get_obj (ev, "session");
  VErr e = { 0 };
  TurnDetection old_td = oa->td;
  JsonObject *out;

  if (!json_object_has_member (ev, "session")) {
    invalid_request (conn, "missing_required_parameter", "session", eid,
        "Missing required parameter: 'session'.");
    return;
  }
  if (!s) {
    invalid_request (conn, "invalid_type", "session", eid,
        "Invalid type for 'session': expected an object, but got %s "
        "instead.", type_name (json_object_get_member (ev, "session")));
    return;
  }
  if (!(oa->grok ? grok_session_update (oa, s, &e) :
          session_update (oa, s, &e))) {
    send_error (conn, "invalid_request_error", e.code, e.message, e.param, eid);
    g_free (e.code);
    g_free (e.param);
    g_free (e.message);
    return;
  }
  cache_config (oa);
  if (oa->td == TD_NONE || old_td == TD_NONE)
    reset_vad (oa);
  out = ev_new ("session.updated");
  json_object_set_object_member (out, "session", obj_copy (oa->session));
  emu_conn_send_event (conn, out);
}

static void
handle_append (EmuConn * conn, JsonObject * ev, const char *eid)
{
  JsonNode *a = json_object_has_member (ev, "audio") ?
      json_object_get_member (ev, "audio") : NULL;
  guchar *data;
  gsize len = 0;

  if (!a) {
    invalid_request (conn, "missing_required_parameter", "audio", eid,
        "Missing required parameter: 'audio'.");
    return;
  }
  if (!is_string (a)) {
    invalid_request (conn, "invalid_type", "audio", eid,
        "Invalid type for 'audio': expected a base64-encoded string, but "
        "got %s instead.", type_name (a));
    return;
  }
  data = emu_base64_decode_checked (json_node_get_string (a), &len);
  if (!data) {
    invalid_request (conn, "invalid_value", "audio", eid,
        "Invalid 'audio'. Expected base64-encoded audio bytes.");
    return;
  }
  if (len > MAX_APPEND_BYTES) {
    invalid_request (conn, "invalid_value", "audio", eid,
        "Invalid 'audio': audio chunks must be at most 15 MiB.");
  } else if (len > 0) {
    append_audio (conn, data, len);
  }
  g_free (data);
}

static void
handle_commit (EmuConn * conn, const char *eid)
{
  Oa *oa = conn->priv;

  if (oa->buf->len < MIN_COMMIT_SAMPLES) {
    invalid_request (conn, "input_audio_buffer_commit_empty", NULL, eid,
        "Error committing input audio buffer: buffer too small. Expected "
        "at least 100ms of audio, but buffer only has %.2fms of audio.",
        oa->buf->len / (double) EMU_SAMPLES_PER_MS);
    return;
  }
  {
    char *item_id = oa->in_speech ? g_steal_pointer (&oa->speech_item_id) :
        new_item_id (oa);
    gint64 end = oa->buf_start + oa->buf->len;
    reset_vad (oa);
    commit_turn (conn, oa->buf_start, end, item_id,
        oa->td != TD_NONE && oa->create_response);
  }
}

static void
handle_response_create (EmuConn * conn, JsonObject * ev, const char *eid)
{
  static const char *const known[] = { "output_modalities", "instructions",
    "tools", "tool_choice", "max_output_tokens", "conversation", "input",
    "metadata", "audio", "prompt", "tracing", "truncation", NULL
  };
  static const char *const convs[] = { "auto", "none", NULL };
  Oa *oa = conn->priv;
  JsonObject *params = NULL;
  VErr e = { 0 };
  gboolean ok = TRUE;

  if (json_object_has_member (ev, "response")) {
    JsonNode *n = json_object_get_member (ev, "response");
    if (JSON_NODE_HOLDS_OBJECT (n)) {
      GList *members, *l;
      params = json_node_get_object (n);
      members = json_object_get_members (params);
      for (l = members; l && ok; l = l->next) {
        const char *k = l->data;
        JsonNode *v = json_object_get_member (params, k);
        guint i;
        gboolean is_known = FALSE;
        char *p = g_strdup_printf ("response.%s", k);

        for (i = 0; known[i]; i++)
          is_known |= g_str_equal (known[i], k);
        if (!is_known)
          ok = unknown_param (&e, "response", k);
        else if (g_str_equal (k, "output_modalities"))
          ok = validate_modalities (&e, p, v);
        else if (g_str_equal (k, "conversation"))
          ok = check_enum (&e, p, v, convs, "'auto' and 'none'");
        else if (g_str_equal (k, "instructions") && !is_string (v))
          ok = bad_type (&e, p, "a string", v);
        else if (g_str_equal (k, "tools"))
          ok = validate_tools (&e, p, v, oa->grok);
        else if (g_str_equal (k, "tool_choice"))
          ok = validate_tool_choice (&e, p, v);
        else if (g_str_equal (k, "max_output_tokens"))
          ok = validate_max_tokens (&e, p, v);
        g_free (p);
      }
      g_list_free (members);
    } else if (!JSON_NODE_HOLDS_NULL (n)) {
      ok = bad_type (&e, "response", "an object", n);
    }
  }
  if (!ok) {
    send_error (conn, "invalid_request_error", e.code, e.message, e.param, eid);
    g_free (e.code);
    g_free (e.param);
    g_free (e.message);
    return;
  }
  if (oa->resp) {
    invalid_request (conn, "conversation_already_has_active_response", NULL,
        eid, "Conversation already has an active response in progress: %s. "
        "Wait until the response is finished before creating a new one.",
        oa->resp->id);
    return;
  }
  start_response (conn, params);
}

static void
handle_response_cancel (EmuConn * conn, JsonObject * ev, const char *eid)
{
  Oa *oa = conn->priv;
  const char *rid = get_str (ev, "response_id");

  if (!oa->resp || (rid && !g_str_equal (rid, oa->resp->id))) {
    invalid_request (conn, "response_cancel_not_active", NULL, eid,
        "Cancellation failed: no active response found");
    return;
  }
  cancel_response (conn, "client_cancelled");
}

static void
handle_truncate (EmuConn * conn, JsonObject * ev, const char *eid)
{
  Oa *oa = conn->priv;
  const char *id = get_str (ev, "item_id");
  JsonNode *ci = json_object_has_member (ev, "content_index") ?
      json_object_get_member (ev, "content_index") : NULL;
  JsonNode *end = json_object_has_member (ev, "audio_end_ms") ?
      json_object_get_member (ev, "audio_end_ms") : NULL;
  Item *it;
  JsonObject *out;
  JsonArray *content;

  if (!id) {
    invalid_request (conn, "missing_required_parameter", "item_id", eid,
        "Missing required parameter: 'item_id'.");
    return;
  }
  if (!ci || !end) {
    invalid_request (conn, "missing_required_parameter",
        !ci ? "content_index" : "audio_end_ms", eid,
        "Missing required parameter: '%s'.",
        !ci ? "content_index" : "audio_end_ms");
    return;
  }
  if (!is_int (ci) || !is_int (end) || num (end) < 0) {
    invalid_request (conn, "invalid_type", !is_int (ci) ? "content_index" :
        "audio_end_ms", eid, "Invalid type for '%s': expected a "
        "non-negative integer.", !is_int (ci) ? "content_index" :
        "audio_end_ms");
    return;
  }
  it = find_item (oa, id, NULL);
  if (!it) {
    invalid_request (conn, "item_truncate_invalid_item_id", "item_id", eid,
        "Item with item_id not found: %s", id);
    return;
  }
  if (!it->assistant_audio) {
    invalid_request (conn, "unsupported_content_type", NULL, eid,
        "Only assistant messages with audio content can be truncated.");
    return;
  }
  if (num (ci) != 0) {
    invalid_request (conn, "invalid_value", "content_index", eid,
        "Invalid value for 'content_index': content part %.0f does not "
        "exist or is not audio.", num (ci));
    return;
  }
  if (num (end) > it->audio_ms) {
    invalid_request (conn, "invalid_value", "audio_end_ms", eid,
        "Audio content of %ums is already shorter than %.0fms",
        it->audio_ms, num (end));
    return;
  }
  it->audio_ms = (guint) num (end);
  /* Unheard text leaves the context along with the audio. */
  content = json_object_get_array_member (it->item, "content");
  if (content && json_array_get_length (content) > 0)
    json_object_set_string_member (json_array_get_object_element (content,
            0), "transcript", "");
  out = ev_new ("conversation.item.truncated");
  json_object_set_string_member (out, "item_id", id);
  json_object_set_int_member (out, "content_index", 0);
  json_object_set_int_member (out, "audio_end_ms", (gint64) num (end));
  emu_conn_send_event (conn, out);
}

static gboolean
call_id_known (Oa * oa, const char *call_id)
{
  guint i;

  for (i = 0; i < oa->items->len; i++) {
    Item *it = g_ptr_array_index (oa->items, i);
    if (g_strcmp0 (get_str (it->item, "type"), "function_call") == 0
        && g_strcmp0 (get_str (it->item, "call_id"), call_id) == 0)
      return TRUE;
  }
  return FALSE;
}

/* Validates a client item; returns the stored wire form or NULL with @e. */
static JsonObject *
build_client_item (EmuConn * conn, JsonObject * in, VErr * e,
    SourceKind * src, GString * text, GArray * audio)
{
  static const char *const roles[] = { "system", "user", "assistant", NULL };
  Oa *oa = conn->priv;
  const char *type = get_str (in, "type");
  JsonObject *out;
  char *id;

  *src = SRC_NONE;
  if (get_str (in, "id") && find_item (oa, get_str (in, "id"), NULL)) {
    verr (e, "invalid_value", "item.id",
        "Item with id '%s' already exists.", get_str (in, "id"));
    return NULL;
  }
  if (!type) {
    verr (e, "missing_required_parameter", "item.type",
        "Missing required parameter: 'item.type'.");
    return NULL;
  }
  id = get_str (in, "id") ? g_strdup (get_str (in, "id")) : new_item_id (oa);

  if (g_str_equal (type, "message")) {
    const char *role = get_str (in, "role");
    JsonNode *cn = json_object_has_member (in, "content") ?
        json_object_get_member (in, "content") : NULL;
    JsonArray *content, *oc;
    guint i;

    if (!json_object_has_member (in, "role")) {
      verr (e, "missing_required_parameter", "item.role",
          "Missing required parameter: 'item.role'.");
      goto fail;
    }
    if (!check_enum (e, "item.role", json_object_get_member (in, "role"),
            roles, "'system', 'user', and 'assistant'"))
      goto fail;
    if (!cn || !JSON_NODE_HOLDS_ARRAY (cn)) {
      if (!cn)
        verr (e, "missing_required_parameter", "item.content",
            "Missing required parameter: 'item.content'.");
      else
        bad_type (e, "item.content", "an array", cn);
      goto fail;
    }
    content = json_node_get_array (cn);
    out = message_item (id, role, "completed");
    oc = json_object_get_array_member (out, "content");
    for (i = 0; i < json_array_get_length (content); i++) {
      JsonNode *pn = json_array_get_element (content, i);
      JsonObject *p, *op;
      const char *pt;
      char *param = g_strdup_printf ("item.content[%u].type", i);
      gboolean ok = TRUE;

      if (!JSON_NODE_HOLDS_OBJECT (pn)) {
        ok = bad_type (e, param, "an object", pn);
        g_free (param);
        json_object_unref (out);
        goto fail;
      }
      p = json_node_get_object (pn);
      pt = get_str (p, "type");
      if (!pt)
        ok = verr (e, "missing_required_parameter", param,
            "Missing required parameter: '%s'.", param);
      else if (g_str_equal (role, "system") && !g_str_equal (pt, "input_text"))
        ok = bad_value (e, param, pt, "'input_text'");
      else if (g_str_equal (role, "user") && !g_str_equal (pt, "input_text")
          && !g_str_equal (pt, "input_audio") && !g_str_equal (pt,
              "input_image"))
        ok = bad_value (e, param, pt,
            "'input_text', 'input_audio', and 'input_image'");
      else if (g_str_equal (role, "assistant")
          && !g_str_equal (pt, "output_text") && !g_str_equal (pt, "text"))
        ok = bad_value (e, param, pt, "'output_text' and 'text'");
      g_free (param);
      if (!ok) {
        json_object_unref (out);
        goto fail;
      }
      op = json_object_new ();
      json_object_set_string_member (op, "type", pt);
      if (g_str_has_suffix (pt, "text")) {
        const char *t = get_str (p, "text");
        if (!t) {
          char *pp = g_strdup_printf ("item.content[%u].text", i);
          verr (e, "missing_required_parameter", pp,
              "Missing required parameter: '%s'.", pp);
          g_free (pp);
          json_object_unref (op);
          json_object_unref (out);
          goto fail;
        }
        json_object_set_string_member (op, "text", t);
        if (g_str_equal (role, "user")) {
          if (text->len)
            g_string_append_c (text, ' ');
          g_string_append (text, t);
        }
      } else if (g_str_equal (pt, "input_audio")) {
        const char *b64 = get_str (p, "audio");
        guchar *bytes;
        gsize len = 0;
        if (!b64 || !(bytes = emu_base64_decode_checked (b64, &len))) {
          char *pp = g_strdup_printf ("item.content[%u].audio", i);
          verr (e, "invalid_value", pp,
              "Invalid '%s'. Expected base64-encoded audio bytes.", pp);
          g_free (pp);
          json_object_unref (op);
          json_object_unref (out);
          goto fail;
        }
        {
          GArray *native = g_array_new (FALSE, FALSE, sizeof (gint16));
          EmuResampler rs = { oa->in_rate, 0, 0 };
          emu_audio_decode (oa->in_fmt, bytes, MIN (len, MAX_APPEND_BYTES),
              native);
          emu_resample_to_internal (&rs, (gint16 *) native->data,
              native->len, audio);
          g_array_unref (native);
        }
        g_free (bytes);
        if (get_str (p, "transcript"))
          json_object_set_string_member (op, "transcript",
              get_str (p, "transcript"));
        else
          json_object_set_null_member (op, "transcript");
      } else {
        json_object_set_member (op, "image_url",
            json_object_has_member (p, "image_url") ?
            json_node_copy (json_object_get_member (p, "image_url")) :
            json_node_new (JSON_NODE_NULL));
      }
      json_array_add_object_element (oc, op);
    }
    if (g_str_equal (role, "user"))
      *src = audio->len ? SRC_AUDIO : SRC_TEXT;
  } else if (g_str_equal (type, "function_call")) {
    const char *f[] = { "name", "call_id", "arguments", NULL };
    guint i;
    for (i = 0; f[i]; i++) {
      if (!get_str (in, f[i])) {
        char *pp = g_strdup_printf ("item.%s", f[i]);
        verr (e, "missing_required_parameter", pp,
            "Missing required parameter: '%s'.", pp);
        g_free (pp);
        goto fail;
      }
    }
    out = json_object_new ();
    json_object_set_string_member (out, "id", id);
    json_object_set_string_member (out, "object", "realtime.item");
    json_object_set_string_member (out, "type", "function_call");
    json_object_set_string_member (out, "status", "completed");
    for (i = 0; f[i]; i++)
      json_object_set_string_member (out, f[i], get_str (in, f[i]));
  } else if (g_str_equal (type, "function_call_output")) {
    const char *call_id = get_str (in, "call_id");
    const char *output = get_str (in, "output");
    if (!call_id || !output) {
      const char *pp = !call_id ? "item.call_id" : "item.output";
      verr (e, "missing_required_parameter", pp,
          "Missing required parameter: '%s'.", pp);
      goto fail;
    }
    if (!call_id_known (oa, call_id)) {
      verr (e, "invalid_value", "item.call_id",
          "Tool call ID '%s' not found in conversation.", call_id);
      goto fail;
    }
    out = json_object_new ();
    json_object_set_string_member (out, "id", id);
    json_object_set_string_member (out, "object", "realtime.item");
    json_object_set_string_member (out, "type", "function_call_output");
    json_object_set_string_member (out, "status", "completed");
    json_object_set_string_member (out, "call_id", call_id);
    json_object_set_string_member (out, "output", output);
    g_string_assign (text, output);
    *src = SRC_TOOL;
  } else {
    bad_value (e, "item.type", type,
        "'message', 'function_call', and 'function_call_output'");
    goto fail;
  }
  g_free (id);
  return out;
fail:
  g_free (id);
  return NULL;
}

static void
handle_item_create (EmuConn * conn, JsonObject * ev, const char *eid)
{
  Oa *oa = conn->priv;
  JsonObject *in = get_obj (ev, "item"), *item;
  JsonNode *prevn = json_object_has_member (ev, "previous_item_id") ?
      json_object_get_member (ev, "previous_item_id") : NULL;
  VErr e = { 0 };
  SourceKind src;
  GString *text = g_string_new (NULL);
  GArray *audio = g_array_new (FALSE, FALSE, sizeof (gint16));
  gint position = -1;
  char *prev = NULL;

  if (!in) {
    if (json_object_has_member (ev, "item"))
      invalid_request (conn, "invalid_type", "item", eid,
          "Invalid type for 'item': expected an object, but got %s instead.",
          type_name (json_object_get_member (ev, "item")));
    else
      invalid_request (conn, "missing_required_parameter", "item", eid,
          "Missing required parameter: 'item'.");
    goto out;
  }
  if (prevn && !JSON_NODE_HOLDS_NULL (prevn)) {
    guint idx;
    if (!is_string (prevn)) {
      invalid_request (conn, "invalid_type", "previous_item_id", eid,
          "Invalid type for 'previous_item_id': expected a string, but got "
          "%s instead.", type_name (prevn));
      goto out;
    }
    if (g_str_equal (json_node_get_string (prevn), "root")) {
      position = 0;
    } else if (find_item (oa, json_node_get_string (prevn), &idx)) {
      position = idx + 1;
      prev = g_strdup (json_node_get_string (prevn));
    } else {
      invalid_request (conn, "invalid_value", "previous_item_id", eid,
          "Previous item with id '%s' not found.",
          json_node_get_string (prevn));
      goto out;
    }
  } else {
    prev = g_strdup (last_item_id (oa));
  }

  item = build_client_item (conn, in, &e, &src, text, audio);
  if (!item) {
    send_error (conn, "invalid_request_error", e.code, e.message, e.param, eid);
    g_free (e.code);
    g_free (e.param);
    g_free (e.message);
    goto out;
  }
  add_item (oa, obj_copy (item), position);
  if (src == SRC_AUDIO || src == SRC_TEXT) {
    char *ut;
    oa->user_turns++;
    ut = src == SRC_AUDIO ? user_transcript_for (oa->user_turns,
        audio->len / EMU_SAMPLES_PER_MS) : NULL;
    set_source (oa, src, src == SRC_AUDIO ? g_array_ref (audio) : NULL,
        text->str, oa->user_turns, ut);
    g_free (ut);
  } else if (src == SRC_TOOL) {
    set_source (oa, SRC_TOOL, NULL, text->str, 0, NULL);
  }
  send_item_event (conn, "conversation.item.added", prev, item);
  send_item_event (conn, "conversation.item.done", prev, item);
  json_object_unref (item);
out:
  g_free (prev);
  g_string_free (text, TRUE);
  g_array_unref (audio);
}

static void
handle_item_delete_or_retrieve (EmuConn * conn, JsonObject * ev,
    const char *eid, gboolean del)
{
  Oa *oa = conn->priv;
  const char *id = get_str (ev, "item_id");
  guint idx;
  Item *it;
  JsonObject *out;

  if (!id) {
    invalid_request (conn, "missing_required_parameter", "item_id", eid,
        "Missing required parameter: 'item_id'.");
    return;
  }
  it = find_item (oa, id, &idx);
  if (!it) {
    invalid_request (conn, del ? "item_delete_invalid_item_id" :
        "item_retrieve_invalid_item_id", "item_id", eid,
        "Item with item_id not found: %s", id);
    return;
  }
  if (del) {
    out = ev_new ("conversation.item.deleted");
    json_object_set_string_member (out, "item_id", id);
    g_ptr_array_remove_index (oa->items, idx);  /* frees it */
  } else {
    out = ev_new ("conversation.item.retrieved");
    json_object_set_object_member (out, "item", obj_copy (it->item));
  }
  emu_conn_send_event (conn, out);
}

static void
openai_message (EmuConn * conn, const char *text, gsize len)
{
  Oa *oa = conn->priv;
  JsonParser *parser;
  JsonNode *root;
  JsonObject *ev;
  const char *type, *eid;
  char *type_copy;

  parser = json_parser_new ();
  if (!json_parser_load_from_data (parser, text, len, NULL)
      || !(root = json_parser_get_root (parser))) {
    JsonObject *line = json_object_new ();
    JsonNode *n;
    char *head = g_utf8_make_valid (text, MIN (len, 200));
    json_object_set_string_member (line, "unparsable", head);
    n = obj_node (line);
    emu_conn_log_event (conn, "client", n);
    json_node_unref (n);
    json_object_unref (line);
    g_free (head);
    g_object_unref (parser);
    if (emu_conn_alive (conn))
      invalid_request (conn, "invalid_json", NULL, NULL,
          "Invalid JSON in the client event: the server could not parse "
          "it.");
    return;
  }
  emu_conn_log_event (conn, "client", root);
  if (!emu_conn_alive (conn)) {
    g_object_unref (parser);
    return;
  }
  if (!JSON_NODE_HOLDS_OBJECT (root)) {
    invalid_request (conn, "invalid_type", NULL, NULL,
        "Invalid client event: expected an object, but got %s instead.",
        type_name (root));
    g_object_unref (parser);
    return;
  }
  ev = json_node_get_object (root);
  eid = get_str (ev, "event_id");
  type = get_str (ev, "type");
  if (!type) {
    invalid_request (conn, "missing_required_parameter", "type", eid,
        "Missing required parameter: 'type'.");
    g_object_unref (parser);
    return;
  }
  type_copy = g_strdup (type);

  if (oa->beta) {
    /* connection is closing already; nothing is served */
  } else if (g_str_equal (type, "session.update")) {
    handle_session_update (conn, ev, eid);
  } else if (g_str_equal (type, "input_audio_buffer.append")) {
    handle_append (conn, ev, eid);
  } else if (g_str_equal (type, "input_audio_buffer.commit")) {
    handle_commit (conn, eid);
  } else if (g_str_equal (type, "input_audio_buffer.clear")) {
    g_array_set_size (oa->buf, 0);
    oa->buf_start = oa->total;
    oa->has_carry = FALSE;
    reset_vad (oa);
    emu_conn_send_event (conn, ev_new ("input_audio_buffer.cleared"));
  } else if (g_str_equal (type, "response.create")) {
    handle_response_create (conn, ev, eid);
  } else if (g_str_equal (type, "response.cancel")) {
    handle_response_cancel (conn, ev, eid);
  } else if (g_str_equal (type, "conversation.item.create")) {
    handle_item_create (conn, ev, eid);
  } else if (g_str_equal (type, "conversation.item.truncate")) {
    handle_truncate (conn, ev, eid);
  } else if (g_str_equal (type, "conversation.item.delete")) {
    handle_item_delete_or_retrieve (conn, ev, eid, TRUE);
  } else if (oa->grok && (g_str_equal (type, "conversation.item.retrieve")
          || g_str_equal (type, "output_audio_buffer.clear"))) {
    invalid_request (conn, "unknown_event_type", "type", eid,
        "Invalid value: '%s'. This event is not supported.", type);
  } else if (g_str_equal (type, "conversation.item.retrieve")) {
    handle_item_delete_or_retrieve (conn, ev, eid, FALSE);
  } else if (g_str_equal (type, "output_audio_buffer.clear")) {
    /* WebRTC/SIP only: over WebSocket the real server refuses it */
    invalid_request (conn, "invalid_value", "type", eid,
        "output_audio_buffer.clear is only supported for WebRTC and SIP "
        "sessions.");
  } else {
    invalid_request (conn, "unknown_event_type", "type", eid,
        "Invalid value: '%s'. Supported values are: 'session.update', "
        "'input_audio_buffer.append', 'input_audio_buffer.commit', "
        "'input_audio_buffer.clear', 'conversation.item.create', "
        "'conversation.item.truncate', 'conversation.item.delete', "
        "'conversation.item.retrieve', 'response.create', and "
        "'response.cancel'.", type);
  }
  g_object_unref (parser);
  emu_conn_client_event_done (conn, type_copy);
  g_free (type_copy);
}

/* ------------------------------------------------------------------------ */
/* Handshake and lifetime */

static char *
openai_http_error_body (guint status, const char *type, const char *code,
    const char *message)
{
  JsonObject *root = json_object_new (), *err = json_object_new ();
  JsonNode *n;
  char *s;

  if (!type)
    type = status == 429 ? "requests" : status >= 500 ? "server_error" :
        "invalid_request_error";
  if (!message)
    message = status == 429 ? "Rate limit reached for requests." :
        status >= 500 ? "The server had an error while processing your "
        "request. Sorry about that!" : status == 403 ?
        "You are not allowed to access this resource." : "Request rejected.";
  json_object_set_string_member (err, "message", message);
  json_object_set_string_member (err, "type", type);
  if (code)
    json_object_set_string_member (err, "code", code);
  else if (status == 429)
    json_object_set_string_member (err, "code", "rate_limit_exceeded");
  else
    json_object_set_null_member (err, "code");
  json_object_set_null_member (err, "param");
  json_object_set_object_member (root, "error", err);
  n = obj_node (root);
  s = emu_json_to_string (n);
  json_node_unref (n);
  json_object_unref (root);
  return s;
}

static gboolean
offers_protocol (SoupMessageHeaders * h, const char *prefix, gboolean exact,
    char **value)
{
  const char *list = soup_message_headers_get_list (h,
      "Sec-WebSocket-Protocol");
  char **parts;
  guint i;
  gboolean found = FALSE;

  if (!list)
    return FALSE;
  parts = g_strsplit (list, ",", -1);
  for (i = 0; parts[i] && !found; i++) {
    char *p = g_strstrip (parts[i]);
    if (exact ? g_str_equal (p, prefix) : g_str_has_prefix (p, prefix)) {
      found = TRUE;
      if (value)
        *value = g_strdup (p + strlen (prefix));
    }
  }
  g_strfreev (parts);
  return found;
}

static guint
openai_check_handshake (SoupServerMessage * msg, const char *path,
    GHashTable * query, char **body)
{
  SoupMessageHeaders *h = soup_server_message_get_request_headers (msg);
  gboolean azure = g_str_has_prefix (path, "/openai/");
  const char *auth = soup_message_headers_get_one (h, "Authorization");
  const char *beta = soup_message_headers_get_one (h, "OpenAI-Beta");
  const char *required = emu_required_api_key ();
  char *key = NULL;
  guint status = 0;

  if (auth && g_ascii_strncasecmp (auth, "Bearer ", 7) == 0 && auth[7])
    key = g_strdup (auth + 7);
  if (!key)
    offers_protocol (h, "openai-insecure-api-key.", FALSE, &key);
  if (!key && azure) {
    const char *k = soup_message_headers_get_one (h, "api-key");
    if (!k && query)
      k = g_hash_table_lookup (query, "api-key");
    key = g_strdup (k);
  }

  if (!key || !*key) {
    *body = openai_http_error_body (401, "invalid_request_error",
        "invalid_api_key", azure ?
        "You didn't provide an API key. Provide it in an 'api-key' header "
        "or as 'Authorization: Bearer <token>'." :
        "You didn't provide an API key. You need to provide your API key in "
        "an Authorization header using Bearer auth (i.e. Authorization: "
        "Bearer YOUR_KEY), or as the password field (with blank username) "
        "if you're accessing the API from your browser and are prompted for "
        "a username and password. You can obtain an API key from "
        "https://platform.openai.com/account/api-keys.");
    status = 401;
  } else if (required && !g_str_equal (required, key)) {
    /* never echo the key: the message is logged */
    *body = openai_http_error_body (401, "invalid_request_error",
        "invalid_api_key", "Incorrect API key provided. You can find your "
        "API key at https://platform.openai.com/account/api-keys.");
    status = 401;
  }
  if (key)
    memset (key, 0, strlen (key));
  g_free (key);
  if (status)
    return status;

  if ((beta && strstr (beta, "realtime=v1"))
      || offers_protocol (h, "openai-beta.realtime-v1", TRUE, NULL))
    g_object_set_data (G_OBJECT (msg), "emu-openai-beta", GINT_TO_POINTER (1));
  /* Browser-style clients require the server to pick their protocol. */
  if (offers_protocol (h, "realtime", TRUE, NULL))
    soup_message_headers_replace (soup_server_message_get_response_headers
        (msg), "Sec-WebSocket-Protocol", "realtime");
  return 0;
}

static Oa *
oa_new (EmuConn * conn, GHashTable * query, gboolean grok)
{
  Oa *oa = g_new0 (Oa, 1);
  const char *model = query ? g_hash_table_lookup (query, "model") : NULL;

  conn->priv = oa;
  oa->grok = grok;
  oa->model = g_strdup (model && *model ? model : grok ?
      "grok-voice-think-fast-2.0" : "gpt-realtime");
  oa->buf = g_array_new (FALSE, FALSE, sizeof (gint16));
  oa->items = g_ptr_array_new_with_free_func ((GDestroyNotify) item_free);
  oa->pending_transcripts = g_ptr_array_new ();
  oa->session = grok ? grok_default_session (conn, oa->model) :
      default_session (conn, oa->model);
  cache_config (oa);
  return oa;
}

static void
openai_conn_open (EmuConn * conn, SoupServerMessage * msg, const char *path,
    GHashTable * query)
{
  Oa *oa = oa_new (conn, query, FALSE);
  JsonObject *ev;

  oa->beta = g_object_get_data (G_OBJECT (msg), "emu-openai-beta") != NULL;

  if (oa->beta) {
    invalid_request (conn, "beta_api_shape_disabled", NULL, NULL,
        "The Realtime API beta shape has been disabled. Remove the "
        "'OpenAI-Beta: realtime=v1' header (or subprotocol) and use the GA "
        "interface.");
    emu_conn_close (conn, 4000, "beta_api_shape_disabled");
    return;
  }
  ev = ev_new ("session.created");
  json_object_set_object_member (ev, "session", obj_copy (oa->session));
  emu_conn_send_event (conn, ev);
}

static void
pending_transcript_free (PendingTranscript * pt)
{
  g_free (pt->item_id);
  g_free (pt->transcript);
  g_free (pt);
}

static void
openai_conn_free (EmuConn * conn)
{
  Oa *oa = conn->priv;

  if (!oa)
    return;
  if (oa->resp) {
    /* timers were removed with the connection */
    oa->resp->pacer.timer = 0;
    response_free (oa->resp);
  }
  json_object_unref (oa->session);
  g_free (oa->model);
  g_array_unref (oa->buf);
  g_ptr_array_unref (oa->items);
  while (oa->pending_transcripts->len)
    pending_transcript_free (g_ptr_array_steal_index
        (oa->pending_transcripts, 0));
  g_ptr_array_unref (oa->pending_transcripts);
  g_free (oa->speech_item_id);
  set_source (oa, SRC_NONE, NULL, NULL, 0, NULL);
  g_free (oa);
  conn->priv = NULL;
}

static JsonNode *
openai_conn_summary (EmuConn * conn)
{
  Oa *oa = conn->priv;
  JsonArray *items = json_array_new ();
  JsonObject *o = json_object_new ();
  JsonNode *n;
  guint i;

  for (i = 0; i < oa->items->len; i++) {
    Item *it = g_ptr_array_index (oa->items, i);
    JsonObject *c = obj_copy (it->item);
    if (it->assistant_audio)
      json_object_set_int_member (c, "audio_ms", it->audio_ms);
    json_array_add_object_element (items, c);
  }
  json_object_set_array_member (o, "conversation", items);
  json_object_set_int_member (o, "user_turns", oa->user_turns);
  n = json_node_new (JSON_NODE_OBJECT);
  json_node_take_object (n, o);
  return n;
}

static void
openai_fault_error (EmuConn * conn, const char *type, const char *code,
    const char *message)
{
  send_error (conn, type, code, message, NULL, NULL);
}

/* Grok's limit is reported as max_duration (reference 2.8, unconfirmed) */
static void
openai_fault_session_expired (EmuConn * conn)
{
  if (((Oa *) conn->priv)->grok)
    invalid_request (conn, "max_duration", NULL, NULL,
        "Session reached its maximum duration.");
  else
    invalid_request (conn, "session_expired", NULL, NULL,
        "Your session hit the maximum duration of 60 minutes.");
  emu_conn_close (conn, SOUP_WEBSOCKET_CLOSE_GOING_AWAY, NULL);
}

const EmuDialect emu_openai_dialect = {
  .name = "openai",
  .paths = openai_paths,
  .check_handshake = openai_check_handshake,
  .http_error_body = openai_http_error_body,
  .conn_open = openai_conn_open,
  .conn_message = openai_message,
  .conn_free = openai_conn_free,
  .conn_summary = openai_conn_summary,
  .fault_error = openai_fault_error,
  .fault_session_expired = openai_fault_session_expired,
};

/* ------------------------------------------------------------------------ */
/* Grok: what differs at the edges */

/* xAI's REST error body: {"code": "<what went wrong>", "error": "<detail>"} */
static char *
grok_http_error_body (guint status, const char *type, const char *code,
    const char *message)
{
  JsonObject *root = json_object_new ();
  JsonNode *n;
  char *s;

  if (!code)
    code = status == 401 ? "Unauthenticated" : status == 403 ?
        "The caller does not have permission to execute the specified "
        "operation" : status == 429 ? "Too many requests" : status >= 500 ?
        "Internal error" : "The request was malformed and could not be "
        "processed.";
  if (!message)
    message = status == 429 ? "Rate limit reached for requests." :
        status >= 500 ? "The service had an error. Please try again." :
        "Request rejected.";
  json_object_set_string_member (root, "code", code);
  json_object_set_string_member (root, "error", message);
  n = obj_node (root);
  s = emu_json_to_string (n);
  json_node_unref (n);
  json_object_unref (root);
  return s;
}

static guint
grok_check_handshake (SoupServerMessage * msg, const char *path,
    GHashTable * query, char **body)
{
  SoupMessageHeaders *h = soup_server_message_get_request_headers (msg);
  const char *auth = soup_message_headers_get_one (h, "Authorization");
  const char *required = emu_required_api_key ();
  char *key = NULL, *proto;
  guint status = 0;

  if (auth && g_ascii_strncasecmp (auth, "Bearer ", 7) == 0 && auth[7])
    key = g_strdup (auth + 7);
  if (!key && offers_protocol (h, "xai-client-secret.", FALSE, &key)) {
    /* browsers need the server to pick the protocol they offered */
    proto = g_strconcat ("xai-client-secret.", key, NULL);
    soup_message_headers_replace (soup_server_message_get_response_headers
        (msg), "Sec-WebSocket-Protocol", proto);
    memset (proto, 0, strlen (proto));
    g_free (proto);
  }
  if (!key || !*key) {
    *body = grok_http_error_body (401, NULL, NULL,
        "No API key provided. Provide it as 'Authorization: Bearer "
        "<XAI_API_KEY>' or an ephemeral token.");
    status = 401;
  } else if (required && !g_str_equal (required, key)) {
    /* never echo the key: the message is logged */
    *body = grok_http_error_body (401, NULL, NULL,
        "Incorrect API key provided. You can obtain an API key from "
        "https://console.x.ai.");
    status = 401;
  }
  if (key)
    memset (key, 0, strlen (key));
  g_free (key);
  return status;
}

/* Grok greets with conversation.created (its id is the resumption handle),
 * then session.created */
static void
grok_conn_open (EmuConn * conn, SoupServerMessage * msg, const char *path,
    GHashTable * query)
{
  Oa *oa = oa_new (conn, query, TRUE);
  JsonObject *ev, *c;
  char *id = g_strdup_printf ("conv_%u", conn->index);

  ev = ev_new ("conversation.created");
  c = json_object_new ();
  json_object_set_string_member (c, "id", id);
  json_object_set_string_member (c, "object", "realtime.conversation");
  json_object_set_object_member (ev, "conversation", c);
  emu_conn_send_event (conn, ev);
  g_free (id);
  if (!emu_conn_alive (conn))
    return;
  ev = ev_new ("session.created");
  json_object_set_object_member (ev, "session", obj_copy (oa->session));
  emu_conn_send_event (conn, ev);
}

const EmuDialect emu_grok_dialect = {
  .name = "grok",
  .paths = grok_paths,
  .check_handshake = grok_check_handshake,
  .http_error_body = grok_http_error_body,
  .conn_open = grok_conn_open,
  .conn_message = openai_message,
  .conn_free = openai_conn_free,
  .conn_summary = openai_conn_summary,
  .fault_error = openai_fault_error,
  .fault_session_expired = openai_fault_session_expired,
};
