/* s2s-emulator: Gemini Live API dialect (BidiGenerateContent).
 * Copyright (C) 2026 gst-s2s contributors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Faithful to Google's public description of the Live API (see
 * /work/shared/reference/gemini-nova.md section A), not to any client of
 * ours: JSON in binary frames, setup then setupComplete, realtimeInput
 * audio at 16 kHz, serverContent audio at 24 kHz, errors as close frames
 * with a reason, session resumption handles and goAway.  The "model" is
 * deterministic: an energy VAD cuts user turns and the reply is the turn's
 * audio converted to 24 kHz (see README.md for the exact formula).
 */

#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "emulator.h"

#define IN_RATE 16000
#define OUT_RATE 24000
#define IN_PER_MS (IN_RATE / 1000)
#define OUT_PER_MS (OUT_RATE / 1000)
#define FRAME_IN (10 * IN_PER_MS)       /* 10 ms VAD frames */
#define CHUNK_OUT (100 * OUT_PER_MS)    /* 100 ms modelTurn chunks */
#define MAX_BUFFER_IN ((gsize) IN_RATE * 600)
/* Gemini counts 32 tokens per second of audio. */
#define AUDIO_TOKENS(ms) ((guint) ((guint64) (ms) * 32 / 1000))

#define R_INVALID "Request contains an invalid argument."
#define R_INTERNAL "Internal error occurred."
#define R_DEADLINE "Deadline expired before operation could complete."
#define R_NOT_FOUND "Requested entity was not found."
#define R_SESSION_NOT_FOUND "BidiGenerateContent session not found"

#define PATH_KEY_BETA \
  "/ws/google.ai.generativelanguage.v1beta.GenerativeService.BidiGenerateContent"
#define PATH_KEY_ALPHA \
  "/ws/google.ai.generativelanguage.v1alpha.GenerativeService.BidiGenerateContent"
#define PATH_EPHEMERAL \
  "/ws/google.ai.generativelanguage.v1alpha.GenerativeService.BidiGenerateContentConstrained"
#define PATH_VERTEX_BETA \
  "/ws/google.cloud.aiplatform.v1beta1.LlmBidiService/BidiGenerateContent"
#define PATH_VERTEX_V1 \
  "/ws/google.cloud.aiplatform.v1.LlmBidiService/BidiGenerateContent"

/* Google's front end takes the path with a doubled leading slash too, and
 * @google/genai sends exactly that: its WebSocket base URL keeps the
 * trailing slash of "https://host/" before "/ws/...". */
static const char *const gemini_paths[] = {
  PATH_KEY_BETA, PATH_KEY_ALPHA, PATH_EPHEMERAL, PATH_VERTEX_BETA,
  PATH_VERTEX_V1,
  "/" PATH_KEY_BETA, "/" PATH_KEY_ALPHA, "/" PATH_EPHEMERAL,
  "/" PATH_VERTEX_BETA, "/" PATH_VERTEX_V1, NULL
};

/* Gemini API model ids (after "models/") and Vertex publisher model ids
 * (after ".../publishers/google/models/"), gemini-nova.md A8. */
static const char *const gemini_models[] = {
  "gemini-2.5-flash-native-audio-preview-09-2025",
  "gemini-2.5-flash-native-audio-preview-12-2025",
  "gemini-2.5-flash-native-audio-latest",
  "gemini-3.1-flash-live-preview",
  "gemini-live-2.5-flash-preview",
  "gemini-2.0-flash-live-001",
  NULL
};

static const char *const vertex_models[] = {
  "gemini-live-2.5-flash-native-audio",
  "gemini-live-2.5-flash-preview-native-audio-09-2025",
  "gemini-live-2.5-flash-preview-native-audio",
  "gemini-2.0-flash-live-preview-04-09",
  NULL
};

/* The 30 HD voices of the Live API docs. */
static const char *const voices[] = {
  "Zephyr", "Puck", "Charon", "Kore", "Fenrir", "Leda", "Orus", "Aoede",
  "Callirrhoe", "Autonoe", "Enceladus", "Iapetus", "Umbriel", "Algieba",
  "Despina", "Erinome", "Algenib", "Rasalgethi", "Laomedeia", "Achernar",
  "Alnilam", "Schedar", "Gacrux", "Pulcherrima", "Achird", "Zubenelgenubi",
  "Vindemiatrix", "Sadachbia", "Sadaltager", "Sulafat", NULL
};

typedef enum
{
  EP_KEY,
  EP_EPHEMERAL,
  EP_VERTEX,
} Endpoint;

/* What a resumption handle restores: the conversation so far. */
typedef struct
{
  guint user_turns;
  char *first_turn;             /* user transcript of turn 1 */
  guint64 input_samples;        /* 16 kHz input the session consumed */
} ConvState;

typedef struct
{
  guint session_id;
  char *model;
  ConvState st;
  gint64 expires_us;
} Handle;

typedef struct
{
  guint turn;
  GArray *audio;                /* 24 kHz reply samples */
  gsize pos;
  char **words;
  guint n_words;
  guint words_sent;
  guint n_chunks;
  guint chunk_idx;
  EmuPacer pacer;
  guint in_tokens;
} Reply;

typedef struct
{
  guint turn;
  GArray *audio;                /* 16 kHz user turn */
  char *tool_text;              /* tool output, or NULL */
  char *user_text;              /* text turn, or NULL */
} TurnInput;

typedef struct
{
  EmuConn *conn;
  Endpoint ep;
  gushort auth_code;            /* 0 = authenticated */
  const char *auth_reason;

  gboolean setup_received;
  gboolean setup_complete;
  char *model;

  /* config from setup */
  gboolean auto_vad;
  double threshold_dbfs;
  guint prefix_ms;
  guint silence_ms;
  gboolean interrupts;
  gboolean in_transcription;
  gboolean out_transcription;
  gboolean resumption;
  gboolean transparent;         /* Vertex transparent resumption */
  guint64 client_msgs;          /* client messages on this connection */
  gboolean history_in_client_content;   /* historyConfig (3.1) */
  gboolean model_spoke;         /* a model turn happened on this session */

  /* session */
  guint session_id;
  char *resumed_from;
  ConvState st;
  guint64 conn_base;            /* st.input_samples when this conn began */

  /* input, 16 kHz; positions count from this connection's first sample */
  GArray *buf;
  gint64 buf_start;
  gint64 total;
  gboolean has_carry;
  guint8 carry;

  /* VAD */
  gint64 vad_pos;
  gboolean in_speech;
  gint64 speech_start;
  gint64 silence_run;
  gboolean activity;            /* manual mode: between start and end */
  gint64 activity_start;

  Reply *reply;
  GQueue queued;                /* TurnInput*, NO_INTERRUPTION */

  /* pending tool call */
  char *call_id;
  char *call_name;
  TurnInput *call_turn;
  GHashTable *cancelled_calls;
  guint next_call;

  guint64 out_ms_total;
  gboolean close_scheduled;
} Gem;

static GHashTable *handles;     /* handle string -> Handle* */
static GList *live_gems;        /* Gem* of open connections */
static guint session_counter;
static guint handle_counter;    /* process-wide: every handle is unique */

/* ------------------------------------------------------------------------ */
/* JSON helpers.  Google's JSON mapping accepts both lowerCamelCase and the
 * proto snake_case names; we look fields up under either. */

static char *
to_camel (const char *name)
{
  GString *s = g_string_new (NULL);
  gboolean up = FALSE;

  for (; *name; name++) {
    if (*name == '_') {
      up = TRUE;
      continue;
    }
    g_string_append_c (s, up ? g_ascii_toupper (*name) : *name);
    up = FALSE;
  }
  return g_string_free (s, FALSE);
}

static char *
to_snake (const char *name)
{
  GString *s = g_string_new (NULL);

  for (; *name; name++) {
    if (g_ascii_isupper (*name)) {
      g_string_append_c (s, '_');
      g_string_append_c (s, g_ascii_tolower (*name));
    } else {
      g_string_append_c (s, *name);
    }
  }
  return g_string_free (s, FALSE);
}

/* Member by its camelCase name, also found under the snake_case one. */
static JsonNode *
member (JsonObject * o, const char *camel)
{
  char *snake;
  JsonNode *n = NULL;

  if (!o)
    return NULL;
  if (json_object_has_member (o, camel))
    return json_object_get_member (o, camel);
  snake = to_snake (camel);
  if (json_object_has_member (o, snake))
    n = json_object_get_member (o, snake);
  g_free (snake);
  return n;
}

static gboolean
node_is (JsonNode * n, GType t)
{
  return n && JSON_NODE_HOLDS_VALUE (n) && json_node_get_value_type (n) == t;
}

static const char *
mstr (JsonObject * o, const char *camel)
{
  JsonNode *n = member (o, camel);
  return node_is (n, G_TYPE_STRING) ? json_node_get_string (n) : NULL;
}

static JsonObject *
mobj (JsonObject * o, const char *camel)
{
  JsonNode *n = member (o, camel);
  return n && JSON_NODE_HOLDS_OBJECT (n) ? json_node_get_object (n) : NULL;
}

static gboolean
mbool (JsonObject * o, const char *camel)
{
  JsonNode *n = member (o, camel);
  return node_is (n, G_TYPE_BOOLEAN) && json_node_get_boolean (n);
}

/* Integer field (JSON number, or a string for int64 fields); -1 if absent
 * or not a non-negative integer. */
static gint64
mint (JsonObject * o, const char *camel)
{
  JsonNode *n = member (o, camel);
  gint64 v;
  char *end;

  if (node_is (n, G_TYPE_INT64))
    return MAX (json_node_get_int (n), -1);
  if (node_is (n, G_TYPE_DOUBLE)) {
    double d = json_node_get_double (n);
    return d >= 0 && d == floor (d) && d < 9e15 ? (gint64) d : -1;
  }
  if (node_is (n, G_TYPE_STRING)) {
    v = g_ascii_strtoll (json_node_get_string (n), &end, 10);
    return *json_node_get_string (n) && !*end && v >= 0 ? v : -1;
  }
  return -1;
}

static JsonObject *
msg_new (const char *kind, JsonObject * body)
{
  JsonObject *m = json_object_new ();
  json_object_set_object_member (m, kind, body ? body : json_object_new ());
  return m;
}

static JsonObject *
server_content (const char *field, JsonNode * value)
{
  JsonObject *sc = json_object_new ();
  json_object_set_member (sc, field, value);
  return msg_new ("serverContent", sc);
}

static JsonNode *
bool_node (gboolean v)
{
  JsonNode *n = json_node_new (JSON_NODE_VALUE);
  json_node_set_boolean (n, v);
  return n;
}

/* ------------------------------------------------------------------------ */
/* Closing: Google reports every error as a close frame with a reason. */

static void
gem_close (EmuConn * conn, gushort code, const char *reason)
{
  char buf[124];
  gsize n = strlen (reason);

  /* a close reason holds at most 123 bytes; cut on a UTF-8 boundary */
  if (n > 123) {
    n = 123;
    while (n > 0 && (reason[n] & 0xC0) == 0x80)
      n--;
  }
  memcpy (buf, reason, n);
  buf[n] = '\0';
  if (!conn->closed) {
    char *d = g_strdup_printf ("%u %s", code, buf);
    emu_conn_note (conn, "server-close", d);
    g_free (d);
  }
  emu_conn_close (conn, code, buf);
}

static void
gem_closef (EmuConn * conn, gushort code, const char *fmt, ...)
{
  va_list ap;
  char *s;

  va_start (ap, fmt);
  s = g_strdup_vprintf (fmt, ap);
  va_end (ap);
  gem_close (conn, code, s);
  g_free (s);
}

static const char *
gemini_default_close_reason (gushort code)
{
  switch (code) {
    case 1007:
      return R_INVALID;
    case 1008:
      return R_NOT_FOUND;
    case 1011:
      return R_INTERNAL;
    default:
      return NULL;
  }
}

/* ------------------------------------------------------------------------ */
/* Conversation state and resumption handles */

static void
conv_copy (ConvState * dst, const ConvState * src)
{
  dst->user_turns = src->user_turns;
  g_free (dst->first_turn);
  dst->first_turn = g_strdup (src->first_turn);
  dst->input_samples = src->input_samples;
}

static void
handle_free (Handle * h)
{
  g_free (h->model);
  g_free (h->st.first_turn);
  g_free (h);
}

static gboolean
handle_expired (gpointer key, gpointer value, gpointer now)
{
  return ((Handle *) value)->expires_us < *(gint64 *) now;
}

static void
send_resumption_update (EmuConn * conn, gboolean resumable)
{
  Gem *g = conn->priv;
  JsonObject *body;

  if (!g->resumption || !emu_conn_alive (conn))
    return;
  body = json_object_new ();
  if (resumable) {
    Handle *h = g_new0 (Handle, 1);
    char *name = g_strdup_printf ("emu-gemini-s%u-h%u", g->session_id,
        ++handle_counter);
    gint64 now = g_get_monotonic_time ();

    h->session_id = g->session_id;
    h->model = g_strdup (g->model);
    conv_copy (&h->st, &g->st);
    h->st.input_samples = g->conn_base + g->total;
    h->expires_us = now + (gint64) emu_options.resumption_ttl_ms * 1000;

    if (!handles)
      handles = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
          (GDestroyNotify) handle_free);
    g_hash_table_foreach_remove (handles, handle_expired, &now);
    g_hash_table_replace (handles, g_strdup (name), h);
    json_object_set_string_member (body, "newHandle", name);
    json_object_set_boolean_member (body, "resumable", TRUE);
    if (g->transparent && g->client_msgs) {
      /* 0-based index of this connection's last client message the handle
       * includes (int64, so a JSON string) */
      char *idx = g_strdup_printf ("%" G_GUINT64_FORMAT, g->client_msgs - 1);
      json_object_set_string_member (body, "lastConsumedClientMessageIndex",
          idx);
      g_free (idx);
    }
    g_free (name);
  }
  /* not resumable: proto3 JSON leaves out the empty handle and false */
  emu_conn_send_event (conn, msg_new ("sessionResumptionUpdate", body));
}

/* ------------------------------------------------------------------------ */
/* One-shot timers that die with the connection */

typedef struct
{
  EmuConn *conn;
  guint id;
  void (*fn) (EmuConn * conn);
} Once;

static gboolean
once_cb (gpointer data)
{
  Once *o = data;

  emu_conn_timeout_remove (o->conn, o->id);
  o->fn (o->conn);
  return G_SOURCE_REMOVE;
}

static void
conn_once (EmuConn * conn, guint ms, void (*fn) (EmuConn * conn))
{
  Once *o = g_new0 (Once, 1);

  o->conn = conn;
  o->fn = fn;
  /* in conn->timers, so closing the connection removes it */
  o->id = g_timeout_add_full (G_PRIORITY_DEFAULT, ms, once_cb, o, g_free);
  g_array_append_val (conn->timers, o->id);
}

/* ------------------------------------------------------------------------ */
/* goAway and the connection lifetime */

static void
deadline_cb (EmuConn * conn)
{
  gem_close (conn, 1011, R_DEADLINE);
}

static void
go_away (EmuConn * conn, guint time_left_ms)
{
  Gem *g = conn->priv;
  JsonObject *body = json_object_new ();
  char *left = time_left_ms % 1000 ?
      g_strdup_printf ("%u.%03us", time_left_ms / 1000, time_left_ms % 1000) :
      g_strdup_printf ("%us", time_left_ms / 1000);

  if (!emu_conn_alive (conn)) {
    json_object_unref (body);
    g_free (left);
    return;
  }
  json_object_set_string_member (body, "timeLeft", left);
  emu_conn_note (conn, "go-away", left);
  g_free (left);
  emu_conn_send_event (conn, msg_new ("goAway", body));
  /* the real service closes when the time is up, whatever the client does */
  if (!g->close_scheduled) {
    g->close_scheduled = TRUE;
    conn_once (conn, time_left_ms, deadline_cb);
  }
}

static void
go_away_timer_cb (EmuConn * conn)
{
  Gem *g = conn->priv;
  guint left = emu_options.go_away_time_left_ms;

  /* the planned time left; the lifetime close is a timer of its own */
  if (emu_options.max_connection_ms)
    left = MIN (left, emu_options.max_connection_ms);
  if (!g->close_scheduled)
    go_away (conn, left);
}

static void
gemini_fault_go_away (EmuConn * conn, guint time_left_ms)
{
  go_away (conn, time_left_ms);
}

static void
arm_lifetime (EmuConn * conn)
{
  guint every = emu_options.go_away_every_ms;
  guint max = emu_options.max_connection_ms;
  guint left = emu_options.go_away_time_left_ms;

  if (every)
    conn_once (conn, every, go_away_timer_cb);
  if (max) {
    conn_once (conn, max > left ? max - left : 0, go_away_timer_cb);
    conn_once (conn, max, deadline_cb);
  }
}

/* ------------------------------------------------------------------------ */
/* Audio */

/* 16 kHz -> 24 kHz, exact 2:3 linear interpolation (README.md):
 *   out[3k]   = x[2k]
 *   out[3k+1] = round ((x[2k] + 2 x[2k+1]) / 3)
 *   out[3k+2] = round ((2 x[2k+1] + x[2k+2]) / 3)
 * indexes past the end take the last sample; length floor (3n / 2). */
static GArray *
upsample (const gint16 * x, gsize n)
{
  gsize out_n = n * 3 / 2, j;
  GArray *out = g_array_sized_new (FALSE, FALSE, sizeof (gint16), out_n);

  for (j = 0; j < out_n; j++) {
    gsize k = j / 3, i = 2 * k;
    gint a = x[MIN (i, n - 1)], b = x[MIN (i + 1, n - 1)],
        c = x[MIN (i + 2, n - 1)], v;
    gint16 s;

    switch (j % 3) {
      case 0:
        v = 3 * a;
        break;
      case 1:
        v = a + 2 * b;
        break;
      default:
        v = 2 * b + c;
        break;
    }
    s = (gint16) floor ((v + 1) / 3.0);
    g_array_append_val (out, s);
  }
  return out;
}

static GArray *
sine_reply (void)
{
  GArray *a = g_array_new (FALSE, FALSE, sizeof (gint16));
  guint i;

  for (i = 0; i < OUT_RATE; i++) {
    gint16 s = (gint16) lrint (8000.0 * sin (2.0 * G_PI * 440.0 * i /
            OUT_RATE));
    g_array_append_val (a, s);
  }
  return a;
}

/* ------------------------------------------------------------------------ */
/* Replies */

static void turn_input_free (TurnInput * t);
static void start_turn_reply (EmuConn * conn, TurnInput * t);

static void
reply_free (Reply * r)
{
  if (!r)
    return;
  g_array_unref (r->audio);
  g_strfreev (r->words);
  g_free (r);
}

static void
send_usage (EmuConn * conn, JsonObject * m, guint in_tokens, guint out_tokens)
{
  Gem *g = conn->priv;
  JsonObject *u = json_object_new (), *d;
  JsonArray *a;
  const char *resp = g->ep == EP_VERTEX ? "candidates" : "response";
  char *k;

  json_object_set_int_member (u, "promptTokenCount", in_tokens);
  k = g_strdup_printf ("%sTokenCount", resp);
  json_object_set_int_member (u, k, out_tokens);
  g_free (k);
  json_object_set_int_member (u, "totalTokenCount", in_tokens + out_tokens);
  a = json_array_new ();
  d = json_object_new ();
  json_object_set_string_member (d, "modality", "AUDIO");
  json_object_set_int_member (d, "tokenCount", in_tokens);
  json_array_add_object_element (a, d);
  json_object_set_array_member (u, "promptTokensDetails", a);
  a = json_array_new ();
  d = json_object_new ();
  json_object_set_string_member (d, "modality", "AUDIO");
  json_object_set_int_member (d, "tokenCount", out_tokens);
  json_array_add_object_element (a, d);
  k = g_strdup_printf ("%sTokensDetails", resp);
  json_object_set_array_member (u, k, a);
  g_free (k);
  if (!m)
    m = json_object_new ();
  json_object_set_object_member (m, "usageMetadata", u);
  emu_conn_send_event (conn, m);
}

static void
send_transcription (EmuConn * conn, const char *field, const char *text)
{
  JsonObject *t = json_object_new ();
  JsonNode *n = json_node_new (JSON_NODE_OBJECT);

  json_object_set_string_member (t, "text", text);
  json_node_take_object (n, t);
  emu_conn_send_event (conn, server_content (field, n));
}

static void
next_queued (EmuConn * conn)
{
  Gem *g = conn->priv;
  TurnInput *t;

  if (!g->reply && !g->call_id && emu_conn_alive (conn)
      && (t = g_queue_pop_head (&g->queued)))
    start_turn_reply (conn, t);
}

/* The reply is over: @last (turnComplete; NULL after an interruption)
 * carries the usage, then a resumable handle. */
static void
end_reply (EmuConn * conn, JsonObject * last)
{
  Gem *g = conn->priv;
  Reply *r = g->reply;
  guint out_ms = r->pos / OUT_PER_MS;

  emu_pacer_stop (conn, &r->pacer);
  g->reply = NULL;
  g->out_ms_total += out_ms;
  send_usage (conn, last, r->in_tokens, AUDIO_TOKENS (out_ms));
  reply_free (r);
  send_resumption_update (conn, TRUE);
}

static void
finish_reply (EmuConn * conn)
{
  emu_conn_send_event (conn, server_content ("generationComplete",
          bool_node (TRUE)));
  end_reply (conn, server_content ("turnComplete", bool_node (TRUE)));
  next_queued (conn);
}

/* One 100 ms chunk plus the transcript fragments due with it.  Returns
 * FALSE when the reply is over or gone. */
static gboolean
reply_step (EmuConn * conn)
{
  Gem *g = conn->priv;
  Reply *r = g->reply;

  if (r->chunk_idx < r->n_chunks) {
    gsize n = MIN (CHUNK_OUT, r->audio->len - r->pos), len;
    guint8 *bytes = emu_audio_encode (EMU_FMT_PCM16,
        &g_array_index (r->audio, gint16, r->pos), n, &len);
    JsonObject *blob = json_object_new (), *part = json_object_new (),
        *turn = json_object_new ();
    JsonArray *parts = json_array_new ();
    JsonNode *tn = json_node_new (JSON_NODE_OBJECT);
    char *b64;

    b64 = g_base64_encode (bytes, len);
    g_free (bytes);
    r->pos += n;
    json_object_set_string_member (blob, "mimeType", "audio/pcm;rate=24000");
    json_object_set_string_member (blob, "data", b64);
    g_free (b64);
    json_object_set_object_member (part, "inlineData", blob);
    json_array_add_object_element (parts, part);
    json_object_set_array_member (turn, "parts", parts);
    json_node_take_object (tn, turn);
    emu_conn_send_event (conn, server_content ("modelTurn", tn));
  }
  /* fragment j goes out with chunk floor (j * n_chunks / n_words) */
  while (g->reply == r && emu_conn_alive (conn) && r->words_sent < r->n_words
      && (r->n_chunks == 0 || (guint64) r->words_sent * r->n_chunks /
          r->n_words <= r->chunk_idx)) {
    const char *w = r->words[r->words_sent++];
    if (g->out_transcription)
      send_transcription (conn, "outputTranscription", w);
  }
  if (g->reply != r || !emu_conn_alive (conn))
    return FALSE;
  r->chunk_idx++;
  if (r->chunk_idx >= r->n_chunks) {
    finish_reply (conn);
    return FALSE;
  }
  return TRUE;
}

static EmuPacer *
reply_pacer (EmuConn * conn)
{
  Gem *g = conn->priv;
  return g->reply ? &g->reply->pacer : NULL;
}

static void
reply_pump (EmuConn * conn)
{
  emu_pacer_run (conn, reply_pacer, reply_step);
}

static char *
assistant_transcript (Gem * g, TurnInput * t)
{
  JsonObject *st = emu_script_turn (t->turn);
  const char *scripted = st ? mstr (st, "assistant_transcript") : NULL;
  const char *first = g->st.first_turn ? g->st.first_turn : "none";

  if (scripted)
    return g_strdup (scripted);
  if (t->tool_text)
    return g_strdup_printf ("echo of turn %u; tool said: %s; first turn: %s",
        t->turn, t->tool_text, first);
  return g_strdup_printf ("echo of turn %u; first turn: %s", t->turn, first);
}

static void
start_reply (EmuConn * conn, TurnInput * t)
{
  Gem *g = conn->priv;
  Reply *r = g_new0 (Reply, 1);
  char *text = assistant_transcript (g, t);

  r->turn = t->turn;
  if (t->audio && t->audio->len)
    r->audio = upsample ((gint16 *) t->audio->data, t->audio->len);
  else
    r->audio = sine_reply ();
  r->n_chunks = (r->audio->len + CHUNK_OUT - 1) / CHUNK_OUT;
  r->words = emu_split_words (text, &r->n_words);
  r->in_tokens = t->audio ? AUDIO_TOKENS (t->audio->len / IN_PER_MS) : 0;
  if (t->tool_text)
    r->in_tokens += (strlen (t->tool_text) + 3) / 4;
  if (t->user_text)
    r->in_tokens += (strlen (t->user_text) + 3) / 4;
  g_free (text);
  g->reply = r;
  g->model_spoke = TRUE;
  send_resumption_update (conn, FALSE);
  reply_pump (conn);
}

static void
send_tool_call (EmuConn * conn, TurnInput * t, JsonObject * tool)
{
  Gem *g = conn->priv;
  JsonObject *fc = json_object_new (), *body = json_object_new ();
  JsonArray *calls = json_array_new ();
  JsonNode *args = member (tool, "arguments");
  const char *id = mstr (tool, "call_id");

  g->call_id = id ? g_strdup (id) :
      g_strdup_printf ("function-call-%u-%u", g->session_id, ++g->next_call);
  g->call_name = g_strdup (mstr (tool, "name"));
  g->call_turn = t;
  json_object_set_string_member (fc, "id", g->call_id);
  json_object_set_string_member (fc, "name", g->call_name);
  if (args && JSON_NODE_HOLDS_OBJECT (args)) {
    json_object_set_member (fc, "args", json_node_copy (args));
  } else if (node_is (args, G_TYPE_STRING)) {
    JsonParser *p = json_parser_new ();
    JsonNode *root;
    if (json_parser_load_from_data (p, json_node_get_string (args), -1, NULL)
        && (root = json_parser_get_root (p)) && JSON_NODE_HOLDS_OBJECT (root))
      json_object_set_member (fc, "args", json_node_copy (root));
    else
      json_object_set_object_member (fc, "args", json_object_new ());
    g_object_unref (p);
  } else {
    json_object_set_object_member (fc, "args", json_object_new ());
  }
  json_array_add_object_element (calls, fc);
  json_object_set_array_member (body, "functionCalls", calls);
  send_resumption_update (conn, FALSE);
  emu_conn_send_event (conn, msg_new ("toolCall", body));
}

static void
turn_input_free (TurnInput * t)
{
  if (!t)
    return;
  if (t->audio)
    g_array_unref (t->audio);
  g_free (t->tool_text);
  g_free (t->user_text);
  g_free (t);
}

/* Takes @t. */
static void
start_turn_reply (EmuConn * conn, TurnInput * t)
{
  JsonObject *st = emu_script_turn (t->turn);
  JsonObject *tool = st ? mobj (st, "tool_call") : NULL;

  if (tool && !t->tool_text) {
    send_tool_call (conn, t, tool);
    return;
  }
  start_reply (conn, t);
  turn_input_free (t);
}

/* Barge-in: the model stops and the client is told to flush.  Google's
 * LiveServerContent docs: an interrupted turn has no generationComplete,
 * it goes "interrupted > turn_complete". */
static void
interrupt (EmuConn * conn)
{
  Gem *g = conn->priv;
  Reply *r = g->reply;

  if (r) {
    emu_conn_send_event (conn, server_content ("interrupted",
            bool_node (TRUE)));
    if (g->reply == r)
      end_reply (conn, server_content ("turnComplete", bool_node (TRUE)));
  }
  if (g->call_id && emu_conn_alive (conn)) {
    JsonObject *body = json_object_new ();
    JsonArray *ids = json_array_new ();
    TurnInput *t = g_steal_pointer (&g->call_turn);

    json_array_add_string_element (ids, g->call_id);
    json_object_set_array_member (body, "ids", ids);
    g_hash_table_add (g->cancelled_calls, g_steal_pointer (&g->call_id));
    g_clear_pointer (&g->call_name, g_free);
    emu_conn_send_event (conn, server_content ("interrupted",
            bool_node (TRUE)));
    emu_conn_send_event (conn, msg_new ("toolCallCancellation", body));
    send_usage (conn, server_content ("turnComplete", bool_node (TRUE)),
        AUDIO_TOKENS (t->audio ? t->audio->len / IN_PER_MS : 0), 0);
    turn_input_free (t);
    send_resumption_update (conn, TRUE);
  }
}

/* ------------------------------------------------------------------------ */
/* User turns */

static char *
user_transcript_for (Gem * g, guint turn, guint64 start, guint len)
{
  JsonObject *st = emu_script_turn (turn);
  const char *scripted = st ? mstr (st, "user_transcript") : NULL;

  if (scripted)
    return g_strdup (scripted);
  return g_strdup_printf ("turn %u, %u ms of speech at %" G_GUINT64_FORMAT
      " ms", turn, len / IN_PER_MS, start / IN_PER_MS);
}

static void
begin_turn (EmuConn * conn, TurnInput * t, const char *user_transcript)
{
  Gem *g = conn->priv;

  if (t->turn == 1) {
    g_free (g->st.first_turn);
    g->st.first_turn = g_strdup (user_transcript);
  }
  if (g->reply || g->call_id)
    g_queue_push_tail (&g->queued, t);
  else
    start_turn_reply (conn, t);
}

/* The user turn [start, end) of this connection's input is complete. */
static void
end_audio_turn (EmuConn * conn, gint64 start, gint64 end)
{
  Gem *g = conn->priv;
  TurnInput *t = g_new0 (TurnInput, 1);
  gint64 s = CLAMP (start - g->buf_start, 0, (gint64) g->buf->len);
  gint64 e = CLAMP (end - g->buf_start, s, (gint64) g->buf->len);
  char *text;
  char **frags;
  guint n, i;

  t->audio = g_array_new (FALSE, FALSE, sizeof (gint16));
  g_array_append_vals (t->audio, &g_array_index (g->buf, gint16, s), e - s);
  emu_buffer_drop_until (g->buf, &g->buf_start, end);
  t->turn = ++g->st.user_turns;
  text = user_transcript_for (g, t->turn, g->conn_base + start, t->audio->len);
  emu_conn_note (conn, "user-turn", text);
  if (g->in_transcription) {
    frags = emu_split_words (text, &n);
    for (i = 0; i < n && emu_conn_alive (conn); i++)
      send_transcription (conn, "inputTranscription", frags[i]);
    g_strfreev (frags);
  }
  if (emu_conn_alive (conn))
    begin_turn (conn, t, text);
  else
    turn_input_free (t);
  g_free (text);
}

static void
text_turn (EmuConn * conn, const char *text)
{
  Gem *g = conn->priv;
  TurnInput *t = g_new0 (TurnInput, 1);

  t->turn = ++g->st.user_turns;
  t->user_text = g_strdup (text);
  emu_conn_note (conn, "user-turn", text);
  begin_turn (conn, t, text);
}

static void
speech_started (EmuConn * conn)
{
  Gem *g = conn->priv;

  if (g->interrupts && (g->reply || g->call_id))
    interrupt (conn);
}

static void
run_vad (EmuConn * conn)
{
  Gem *g = conn->priv;
  gint64 silence = (gint64) g->silence_ms * IN_PER_MS;
  gint64 prefix = (gint64) g->prefix_ms * IN_PER_MS;

  if (g->vad_pos < g->buf_start)
    g->vad_pos = g->buf_start;
  while (g->auto_vad && emu_conn_alive (conn)
      && g->vad_pos + FRAME_IN <= g->total) {
    const gint16 *frame = &g_array_index (g->buf, gint16,
        g->vad_pos - g->buf_start);
    gboolean voiced = emu_frame_dbfs (frame, FRAME_IN) > g->threshold_dbfs;

    g->vad_pos += FRAME_IN;
    if (!g->in_speech) {
      if (voiced) {
        g->in_speech = TRUE;
        g->speech_start = g->vad_pos - FRAME_IN;
        g->silence_run = 0;
        speech_started (conn);
      }
    } else {
      g->silence_run = voiced ? 0 : g->silence_run + FRAME_IN;
      if (g->silence_run >= silence) {
        g->in_speech = FALSE;
        end_audio_turn (conn, MAX (g->speech_start - prefix, g->buf_start),
            g->vad_pos);
      }
    }
  }
}

static gboolean
append_audio (EmuConn * conn, const guint8 * data, gsize len)
{
  Gem *g = conn->priv;
  GArray *native = g_array_new (FALSE, FALSE, sizeof (gint16));
  guint8 *joined = NULL;

  if (g->has_carry) {
    joined = g_malloc (len + 1);
    joined[0] = g->carry;
    memcpy (joined + 1, data, len);
    data = joined;
    len++;
    g->has_carry = FALSE;
  }
  if (len % 2) {
    g->carry = data[len - 1];
    g->has_carry = TRUE;
  }
  emu_audio_decode (EMU_FMT_PCM16, data, len, native);
  emu_conn_write_raw_input (conn, (gint16 *) native->data, native->len);
  g_array_append_vals (g->buf, native->data, native->len);
  g->total += native->len;
  g_array_unref (native);
  g_free (joined);
  if (g->buf->len > MAX_BUFFER_IN && !g->activity && !g->in_speech)
    emu_buffer_drop_until (g->buf, &g->buf_start, g->total - MAX_BUFFER_IN);
  run_vad (conn);
  return TRUE;
}

/* ------------------------------------------------------------------------ */
/* setup validation.  Errors close with 1007 and a Google style reason. */

typedef struct
{
  gushort code;
  char *reason;
} VErr;

static gboolean
verr (VErr * e, gushort code, const char *fmt, ...)
{
  va_list ap;

  if (e->reason)
    return FALSE;
  e->code = code;
  va_start (ap, fmt);
  e->reason = g_strdup_vprintf (fmt, ap);
  va_end (ap);
  return FALSE;
}

/* Every member of @o must be one of @known (camelCase; snake_case also
 * matches).  @path is the snake_case proto path for the message. */
static gboolean
check_fields (VErr * e, JsonObject * o, const char *path,
    const char *const *known)
{
  GList *members = json_object_get_members (o), *l;
  gboolean ok = TRUE;

  for (l = members; l && ok; l = l->next) {
    char *camel = to_camel (l->data);
    guint i;
    gboolean found = FALSE;

    for (i = 0; known[i] && !found; i++)
      found = g_str_equal (camel, known[i]);
    if (!found)
      ok = verr (e, 1007, "Invalid JSON payload received. Unknown name "
          "\"%s\" at '%s': Cannot find field.", (char *) l->data, path);
    g_free (camel);
  }
  g_list_free (members);
  return ok;
}

static gboolean
bad_value (VErr * e, const char *path, const char *field, const char *what)
{
  char *snake = to_snake (field);
  verr (e, 1007, "Invalid JSON payload received. Invalid value at "
      "'%s.%s' (%s)", path, snake, what);
  g_free (snake);
  return FALSE;
}

/* Field present with the wrong JSON type? */
static gboolean
want_object (VErr * e, JsonObject * o, const char *path, const char *field)
{
  JsonNode *n = member (o, field);
  if (n && !JSON_NODE_HOLDS_OBJECT (n))
    return bad_value (e, path, field, "object");
  return TRUE;
}

static gboolean
want_type (VErr * e, JsonObject * o, const char *path, const char *field,
    GType t, const char *what)
{
  JsonNode *n = member (o, field);
  if (!n)
    return TRUE;
  if (t == G_TYPE_DOUBLE) {
    if (node_is (n, G_TYPE_DOUBLE) || node_is (n, G_TYPE_INT64))
      return TRUE;
  } else if (t == G_TYPE_INT64) {
    if (mint (o, field) >= 0)
      return TRUE;
  } else if (node_is (n, t)) {
    return TRUE;
  }
  return bad_value (e, path, field, what);
}

static gboolean
want_enum (VErr * e, JsonObject * o, const char *path, const char *field,
    const char *type, const char *const *values)
{
  JsonNode *n = member (o, field);
  guint i;

  if (!n)
    return TRUE;
  if (node_is (n, G_TYPE_STRING))
    for (i = 0; values[i]; i++)
      if (g_str_equal (json_node_get_string (n), values[i]))
        return TRUE;
  return bad_value (e, path, field, type);
}

static gboolean
validate_generation_config (VErr * e, JsonObject * gc, Gem * g)
{
  static const char *const known[] = {
    "candidateCount", "maxOutputTokens", "temperature", "topP", "topK",
    "presencePenalty", "frequencyPenalty", "responseModalities",
    "speechConfig", "mediaResolution", "thinkingConfig",
    "enableAffectiveDialog", "seed", NULL
  };
  static const char *const speech_known[] = {
    "voiceConfig", "languageCode", "multiSpeakerVoiceConfig", NULL
  };
  static const char *const media_res[] = {
    "MEDIA_RESOLUTION_UNSPECIFIED", "MEDIA_RESOLUTION_LOW",
    "MEDIA_RESOLUTION_MEDIUM", "MEDIA_RESOLUTION_HIGH", NULL
  };
  const char *P = "setup.generation_config";
  JsonNode *mods = member (gc, "responseModalities");
  JsonObject *sc, *vc, *pv;
  const char *voice;
  guint i;

  if (!check_fields (e, gc, P, known)
      || !want_type (e, gc, P, "temperature", G_TYPE_DOUBLE, "TYPE_FLOAT")
      || !want_type (e, gc, P, "topP", G_TYPE_DOUBLE, "TYPE_FLOAT")
      || !want_type (e, gc, P, "topK", G_TYPE_INT64, "TYPE_INT32")
      || !want_type (e, gc, P, "maxOutputTokens", G_TYPE_INT64, "TYPE_INT32")
      || !want_type (e, gc, P, "candidateCount", G_TYPE_INT64, "TYPE_INT32")
      || !want_type (e, gc, P, "enableAffectiveDialog", G_TYPE_BOOLEAN,
          "TYPE_BOOL")
      || !want_enum (e, gc, P, "mediaResolution", "TYPE_ENUM", media_res)
      || !want_object (e, gc, P, "speechConfig")
      || !want_object (e, gc, P, "thinkingConfig"))
    return FALSE;
  if (mods) {
    JsonArray *a;
    if (!JSON_NODE_HOLDS_ARRAY (mods))
      return bad_value (e, P, "responseModalities", "TYPE_ENUM");
    a = json_node_get_array (mods);
    for (i = 0; i < json_array_get_length (a); i++) {
      JsonNode *m = json_array_get_element (a, i);
      const char *s = node_is (m, G_TYPE_STRING) ? json_node_get_string (m) :
          NULL;
      if (!s || !(g_str_equal (s, "TEXT") || g_str_equal (s, "AUDIO")
              || g_str_equal (s, "IMAGE")
              || g_str_equal (s, "MODALITY_UNSPECIFIED")))
        return bad_value (e, P, "responseModalities", "TYPE_ENUM");
    }
    /* native audio models answer in audio only (gemini-nova.md A3) */
    if (json_array_get_length (a) != 1
        || !g_str_equal (json_array_get_string_element (a, 0), "AUDIO"))
      return verr (e, 1007, "Cannot extract voices from a non-audio "
          "request.");
  }
  sc = mobj (gc, "speechConfig");
  if (sc) {
    const char *SP = "setup.generation_config.speech_config";
    if (!check_fields (e, sc, SP, speech_known)
        || !want_object (e, sc, SP, "voiceConfig")
        || !want_type (e, sc, SP, "languageCode", G_TYPE_STRING, "TYPE_STRING"))
      return FALSE;
    vc = mobj (sc, "voiceConfig");
    pv = vc ? mobj (vc, "prebuiltVoiceConfig") : NULL;
    voice = pv ? mstr (pv, "voiceName") : NULL;
    if (vc) {
      static const char *const vc_known[] = { "prebuiltVoiceConfig", NULL };
      static const char *const pv_known[] = { "voiceName", NULL };
      if (!check_fields (e, vc, "setup.generation_config.speech_config."
              "voice_config", vc_known))
        return FALSE;
      if (pv && !check_fields (e, pv, "setup.generation_config."
              "speech_config.voice_config.prebuilt_voice_config", pv_known))
        return FALSE;
    }
    if (voice) {
      gboolean found = FALSE;
      for (i = 0; voices[i] && !found; i++)
        found = g_ascii_strcasecmp (voice, voices[i]) == 0;
      if (!found)
        return verr (e, 1007, R_INVALID);
    }
  }
  return TRUE;
}

static gboolean
valid_function_name (const char *name)
{
  const char *p;

  if (!name || !*name || strlen (name) > 64)
    return FALSE;
  if (!g_ascii_isalpha (*name) && *name != '_')
    return FALSE;
  for (p = name; *p; p++)
    if (!g_ascii_isalnum (*p) && *p != '_' && *p != '.' && *p != '-')
      return FALSE;
  return TRUE;
}

static gboolean
validate_tools (VErr * e, JsonNode * tools)
{
  static const char *const tool_known[] = {
    "functionDeclarations", "googleSearch", "googleSearchRetrieval",
    "codeExecution", "urlContext", NULL
  };
  static const char *const fd_known[] = {
    "name", "description", "parameters", "parametersJsonSchema", "response",
    "responseJsonSchema", "behavior", NULL
  };
  static const char *const behaviors[] = {
    "UNSPECIFIED", "BLOCKING", "NON_BLOCKING", NULL
  };
  JsonArray *a;
  guint i, j;

  if (!JSON_NODE_HOLDS_ARRAY (tools))
    return bad_value (e, "setup", "tools", "type.googleapis.com/"
        "google.ai.generativelanguage.v1beta.Tool");
  a = json_node_get_array (tools);
  for (i = 0; i < json_array_get_length (a); i++) {
    JsonNode *tn = json_array_get_element (a, i);
    JsonObject *t;
    JsonNode *fds;
    char *P;
    gboolean ok;

    if (!JSON_NODE_HOLDS_OBJECT (tn))
      return bad_value (e, "setup", "tools", "type.googleapis.com/"
          "google.ai.generativelanguage.v1beta.Tool");
    t = json_node_get_object (tn);
    P = g_strdup_printf ("setup.tools[%u]", i);
    ok = check_fields (e, t, P, tool_known);
    fds = member (t, "functionDeclarations");
    if (ok && fds && !JSON_NODE_HOLDS_ARRAY (fds))
      ok = bad_value (e, P, "functionDeclarations", "type.googleapis.com/"
          "google.ai.generativelanguage.v1beta.FunctionDeclaration");
    for (j = 0; ok && fds && j < json_array_get_length (json_node_get_array
            (fds)); j++) {
      JsonNode *fn = json_array_get_element (json_node_get_array (fds), j);
      JsonObject *fd = JSON_NODE_HOLDS_OBJECT (fn) ?
          json_node_get_object (fn) : NULL;
      char *FP = g_strdup_printf ("%s.function_declarations[%u]", P, j);

      if (!fd)
        ok = bad_value (e, P, "functionDeclarations", "type.googleapis.com/"
            "google.ai.generativelanguage.v1beta.FunctionDeclaration");
      else if (!check_fields (e, fd, FP, fd_known)
          || !want_enum (e, fd, FP, "behavior", "TYPE_ENUM", behaviors)
          || !want_object (e, fd, FP, "parameters"))
        ok = FALSE;
      else if (!valid_function_name (mstr (fd, "name")))
        ok = verr (e, 1007, "* GenerateContentRequest.tools[%u]."
            "function_declarations[%u].name: Invalid function name. Must "
            "start with a letter or an underscore. Must be alphameric "
            "(a-z, A-Z, 0-9), underscores (_), dots (.) or dashes (-), "
            "with a maximum length of 64.", i, j);
      g_free (FP);
    }
    g_free (P);
    if (!ok)
      return FALSE;
  }
  return TRUE;
}

static gboolean
validate_realtime_input_config (VErr * e, JsonObject * ric, Gem * g)
{
  static const char *const known[] = {
    "automaticActivityDetection", "activityHandling", "turnCoverage", NULL
  };
  static const char *const aad_known[] = {
    "disabled", "startOfSpeechSensitivity", "endOfSpeechSensitivity",
    "prefixPaddingMs", "silenceDurationMs", NULL
  };
  static const char *const starts[] = {
    "START_SENSITIVITY_UNSPECIFIED", "START_SENSITIVITY_HIGH",
    "START_SENSITIVITY_LOW", NULL
  };
  static const char *const ends[] = {
    "END_SENSITIVITY_UNSPECIFIED", "END_SENSITIVITY_HIGH",
    "END_SENSITIVITY_LOW", NULL
  };
  static const char *const handling[] = {
    "ACTIVITY_HANDLING_UNSPECIFIED", "START_OF_ACTIVITY_INTERRUPTS",
    "NO_INTERRUPTION", NULL
  };
  static const char *const coverage[] = {
    "TURN_COVERAGE_UNSPECIFIED", "TURN_INCLUDES_ONLY_ACTIVITY",
    "TURN_INCLUDES_ALL_INPUT", "TURN_INCLUDES_AUDIO_ACTIVITY_AND_ALL_VIDEO",
    NULL
  };
  const char *P = "setup.realtime_input_config";
  const char *AP = "setup.realtime_input_config.automatic_activity_detection";
  JsonObject *aad;
  const char *s;

  if (!check_fields (e, ric, P, known)
      || !want_enum (e, ric, P, "activityHandling", "TYPE_ENUM", handling)
      || !want_enum (e, ric, P, "turnCoverage", "TYPE_ENUM", coverage)
      || !want_object (e, ric, P, "automaticActivityDetection"))
    return FALSE;
  s = mstr (ric, "activityHandling");
  g->interrupts = !s || !g_str_equal (s, "NO_INTERRUPTION");
  aad = mobj (ric, "automaticActivityDetection");
  if (!aad)
    return TRUE;
  if (!check_fields (e, aad, AP, aad_known)
      || !want_type (e, aad, AP, "disabled", G_TYPE_BOOLEAN, "TYPE_BOOL")
      || !want_enum (e, aad, AP, "startOfSpeechSensitivity", "TYPE_ENUM",
          starts)
      || !want_enum (e, aad, AP, "endOfSpeechSensitivity", "TYPE_ENUM", ends)
      || !want_type (e, aad, AP, "prefixPaddingMs", G_TYPE_INT64, "TYPE_INT32")
      || !want_type (e, aad, AP, "silenceDurationMs", G_TYPE_INT64,
          "TYPE_INT32"))
    return FALSE;
  g->auto_vad = !mbool (aad, "disabled");
  s = mstr (aad, "startOfSpeechSensitivity");
  g->threshold_dbfs = emu_vad_threshold_dbfs (s
      && g_str_equal (s, "START_SENSITIVITY_LOW") ? 0.5 : 0.2);
  s = mstr (aad, "endOfSpeechSensitivity");
  g->silence_ms = s && g_str_equal (s, "END_SENSITIVITY_LOW") ? 1000 : 500;
  if (mint (aad, "silenceDurationMs") >= 0)
    g->silence_ms = MIN (mint (aad, "silenceDurationMs"), 60000);
  if (mint (aad, "prefixPaddingMs") >= 0)
    g->prefix_ms = MIN (mint (aad, "prefixPaddingMs"), 60000);
  return TRUE;
}

static gboolean
validate_model (VErr * e, Gem * g, const char *model)
{
  const char *const *list = g->ep == EP_VERTEX ? vertex_models : gemini_models;
  const char *id = NULL;
  guint i;

  if (!model || !*model)
    return verr (e, 1007, R_INVALID);
  if (g->ep == EP_VERTEX) {
    /* projects/P/locations/L/publishers/google/models/ID, or without the
     * project part in express mode (API key, global host) */
    const char *m = strstr (model, "publishers/google/models/");
    if (m && (m == model || (g_str_has_prefix (model, "projects/")
                && strstr (model, "/locations/") && m[-1] == '/')))
      id = m + strlen ("publishers/google/models/");
  } else if (g_str_has_prefix (model, "models/")) {
    id = model + strlen ("models/");
  }
  for (i = 0; id && list[i]; i++)
    if (g_str_equal (id, list[i]))
      return TRUE;
  if (g->ep == EP_VERTEX)
    return verr (e, 1008, "Publisher Model `%s` not found.", model);
  return verr (e, 1008, "%s is not found for API version %s, or is not "
      "supported for bidiGenerateContent. Call ListModels to see the list of "
      "available models and their supported methods.", model,
      g->ep == EP_KEY ? "v1beta" : "v1alpha");
}

static gboolean
validate_setup (VErr * e, Gem * g, JsonObject * s)
{
  static const char *const known[] = {
    "model", "generationConfig", "systemInstruction", "tools",
    "realtimeInputConfig", "sessionResumption", "contextWindowCompression",
    "inputAudioTranscription", "outputAudioTranscription", "proactivity",
    "historyConfig", "explicitVadSignal", NULL
  };
  static const char *const content_known[] = { "parts", "role", NULL };
  static const char *const sr_known[] = { "handle", "transparent", NULL };
  static const char *const cwc_known[] = {
    "triggerTokens", "slidingWindow", NULL
  };
  static const char *const sw_known[] = { "targetTokens", NULL };
  static const char *const tr_known[] = { "languageCodes", NULL };
  JsonObject *o;
  JsonNode *n;

  if (!check_fields (e, s, "setup", known)
      || !want_type (e, s, "setup", "model", G_TYPE_STRING, "TYPE_STRING")
      || !want_object (e, s, "setup", "generationConfig")
      || !want_object (e, s, "setup", "systemInstruction")
      || !want_object (e, s, "setup", "realtimeInputConfig")
      || !want_object (e, s, "setup", "sessionResumption")
      || !want_object (e, s, "setup", "contextWindowCompression")
      || !want_object (e, s, "setup", "inputAudioTranscription")
      || !want_object (e, s, "setup", "outputAudioTranscription")
      || !want_object (e, s, "setup", "proactivity")
      || !want_object (e, s, "setup", "historyConfig"))
    return FALSE;
  if (!validate_model (e, g, mstr (s, "model")))
    return FALSE;
  if ((o = mobj (s, "generationConfig"))
      && !validate_generation_config (e, o, g))
    return FALSE;
  if ((o = mobj (s, "systemInstruction"))) {
    JsonNode *parts = member (o, "parts");
    if (!check_fields (e, o, "setup.system_instruction", content_known))
      return FALSE;
    if (parts && !JSON_NODE_HOLDS_ARRAY (parts))
      return bad_value (e, "setup.system_instruction", "parts",
          "type.googleapis.com/google.ai.generativelanguage.v1beta.Part");
  }
  if ((n = member (s, "tools")) && !validate_tools (e, n))
    return FALSE;
  if ((o = mobj (s, "realtimeInputConfig"))
      && !validate_realtime_input_config (e, o, g))
    return FALSE;
  if ((o = mobj (s, "sessionResumption"))) {
    if (!check_fields (e, o, "setup.session_resumption", sr_known)
        || !want_type (e, o, "setup.session_resumption", "handle",
            G_TYPE_STRING, "TYPE_STRING"))
      return FALSE;
    /* transparent resumption is Vertex only (gemini-nova.md A3) */
    if (member (o, "transparent") && g->ep != EP_VERTEX)
      return verr (e, 1007, "transparent parameter is not supported in "
          "Gemini API.");
    if (!want_type (e, o, "setup.session_resumption", "transparent",
            G_TYPE_BOOLEAN, "TYPE_BOOL"))
      return FALSE;
    g->transparent = mbool (o, "transparent");
    g->resumption = TRUE;
  }
  if ((o = mobj (s, "contextWindowCompression"))) {
    const char *P = "setup.context_window_compression";
    JsonObject *sw;
    if (!check_fields (e, o, P, cwc_known)
        || !want_type (e, o, P, "triggerTokens", G_TYPE_INT64, "TYPE_INT64")
        || !want_object (e, o, P, "slidingWindow"))
      return FALSE;
    sw = mobj (o, "slidingWindow");
    if (sw && (!check_fields (e, sw, "setup.context_window_compression."
                "sliding_window", sw_known)
            || !want_type (e, sw, "setup.context_window_compression."
                "sliding_window", "targetTokens", G_TYPE_INT64, "TYPE_INT64")))
      return FALSE;
  }
  if ((o = mobj (s, "inputAudioTranscription"))) {
    if (!check_fields (e, o, "setup.input_audio_transcription", tr_known))
      return FALSE;
    g->in_transcription = TRUE;
  }
  if ((o = mobj (s, "outputAudioTranscription"))) {
    if (!check_fields (e, o, "setup.output_audio_transcription", tr_known))
      return FALSE;
    g->out_transcription = TRUE;
  }
  if ((o = mobj (s, "historyConfig"))) {
    static const char *const hc_known[] = {
      "initialHistoryInClientContent", NULL
    };
    if (!check_fields (e, o, "setup.history_config", hc_known)
        || !want_type (e, o, "setup.history_config",
            "initialHistoryInClientContent", G_TYPE_BOOLEAN, "TYPE_BOOL"))
      return FALSE;
    g->history_in_client_content = mbool (o, "initialHistoryInClientContent");
  }
  if (member (s, "explicitVadSignal") && g->ep != EP_VERTEX)
    return verr (e, 1007, "explicit_vad_signal parameter is not supported in "
        "Gemini API.");
  return TRUE;
}

/* ------------------------------------------------------------------------ */
/* Client messages */

static void
setup_complete_cb (EmuConn * conn)
{
  Gem *g = conn->priv;

  if (g->setup_complete || !emu_conn_alive (conn))
    return;
  g->setup_complete = TRUE;
  emu_conn_send_event (conn, msg_new ("setupComplete", NULL));
  send_resumption_update (conn, TRUE);
}

static Gem *
session_live_elsewhere (Gem * g, guint session_id)
{
  GList *l;

  for (l = live_gems; l; l = l->next) {
    Gem *o = l->data;
    if (o != g && o->session_id == session_id && !o->conn->closed
        && o->conn->ws && soup_websocket_connection_get_state (o->conn->ws)
        == SOUP_WEBSOCKET_STATE_OPEN)
      return o;
  }
  return NULL;
}

static void
handle_setup (EmuConn * conn, JsonObject * s)
{
  Gem *g = conn->priv;
  VErr e = { 0, NULL };
  JsonObject *sr;
  const char *handle;

  if (g->setup_received) {
    gem_close (conn, 1007, R_INVALID);
    return;
  }
  g->setup_received = TRUE;
  /* Google authenticates the call when the first message arrives */
  if (g->auth_code) {
    emu_conn_note (conn, "auth-failed", NULL);
    gem_close (conn, g->auth_code, g->auth_reason);
    return;
  }
  if (!validate_setup (&e, g, s)) {
    gem_close (conn, e.code, e.reason);
    g_free (e.reason);
    return;
  }
  g->model = g_strdup (mstr (s, "model"));
  sr = mobj (s, "sessionResumption");
  handle = sr ? mstr (sr, "handle") : NULL;
  if (handle && *handle) {
    Handle *h = handles ? g_hash_table_lookup (handles, handle) : NULL;
    Gem *old;

    if (!h || h->expires_us < g_get_monotonic_time ()) {
      emu_conn_note (conn, "resume-invalid", handle);
      gem_close (conn, 1008, R_SESSION_NOT_FOUND);
      return;
    }
    if (!g_str_equal (h->model, g->model)) {
      emu_conn_note (conn, "resume-model-changed", handle);
      gem_close (conn, 1007, R_INVALID);
      return;
    }
    old = session_live_elsewhere (g, h->session_id);
    if (old && !emu_options.allow_resume_while_open) {
      /* reported by users of the real service (gemini-nova.md A7) */
      char *d = g_strdup_printf ("%s (connection %u still open)", handle,
          old->conn->index);
      emu_conn_note (conn, "resume-refused-old-open", d);
      g_free (d);
      gem_close (conn, 1011, R_INTERNAL);
      return;
    }
    g->session_id = h->session_id;
    conv_copy (&g->st, &h->st);
    g->conn_base = h->st.input_samples;
    g->resumed_from = g_strdup (handle);
    emu_conn_note (conn, old ? "resume-while-open" : "resume", handle);
  }
  if (emu_options.setup_complete_delay_ms)
    conn_once (conn, emu_options.setup_complete_delay_ms, setup_complete_cb);
  else
    setup_complete_cb (conn);
}

static guchar *
decode_b64 (const char *data, gsize * len)
{
  /* proto bytes accept the URL-safe alphabet too */
  char *copy = g_strdup (data), *p;
  guchar *out;

  for (p = copy; *p; p++) {
    if (*p == '-')
      *p = '+';
    else if (*p == '_')
      *p = '/';
  }
  out = emu_base64_decode_checked (copy, len);
  g_free (copy);
  return out;
}

static gboolean
handle_blob (EmuConn * conn, JsonObject * blob, const char *path)
{
  const char *mime = mstr (blob, "mimeType");
  const char *data = mstr (blob, "data");
  const char *rate;
  guchar *bytes;
  gsize len;

  if (!data) {
    gem_closef (conn, 1007, "Invalid JSON payload received. Invalid value "
        "at '%s.data' (TYPE_BYTES)", path);
    return FALSE;
  }
  if (!mime || !g_str_has_prefix (mime, "audio/pcm")) {
    /* images (video frames) are accepted and ignored */
    if (mime && g_str_has_prefix (mime, "image/"))
      return TRUE;
    gem_close (conn, 1007, R_INVALID);
    return FALSE;
  }
  rate = strstr (mime, "rate=");
  if (rate && atoi (rate + 5) != IN_RATE) {
    /* the real service resamples; the emulator keeps input sample exact */
    gem_closef (conn, 1007, "s2s-emulator: only audio/pcm;rate=16000 input "
        "is emulated (got %s)", mime);
    return FALSE;
  }
  bytes = decode_b64 (data, &len);
  if (!bytes) {
    gem_closef (conn, 1007, "Invalid JSON payload received. Invalid value "
        "at '%s.data' (TYPE_BYTES), Base64 decoding failed", path);
    return FALSE;
  }
  append_audio (conn, bytes, len);
  g_free (bytes);
  return TRUE;
}

static void
handle_realtime_input (EmuConn * conn, JsonObject * ri, GString * kinds)
{
  static const char *const known[] = {
    "audio", "video", "text", "audioStreamEnd", "activityStart",
    "activityEnd", "mediaChunks", NULL
  };
  Gem *g = conn->priv;
  VErr e = { 0, NULL };
  JsonObject *o;
  JsonNode *n;
  GList *members = json_object_get_members (ri), *l;

  for (l = members; l; l = l->next) {
    char *c = to_camel (l->data);
    g_string_append_printf (kinds, "%s%s", kinds->len ? "+" : "", c);
    g_free (c);
  }
  g_list_free (members);
  if (!check_fields (&e, ri, "realtime_input", known)
      || !want_object (&e, ri, "realtime_input", "audio")
      || !want_object (&e, ri, "realtime_input", "video")
      || !want_object (&e, ri, "realtime_input", "activityStart")
      || !want_object (&e, ri, "realtime_input", "activityEnd")
      || !want_type (&e, ri, "realtime_input", "text", G_TYPE_STRING,
          "TYPE_STRING")
      || !want_type (&e, ri, "realtime_input", "audioStreamEnd",
          G_TYPE_BOOLEAN, "TYPE_BOOL")) {
    gem_close (conn, e.code, e.reason);
    g_free (e.reason);
    return;
  }
  if ((member (ri, "activityStart") || member (ri, "activityEnd"))
      && g->auto_vad) {
    gem_close (conn, 1007, "Explicit activity control is not supported when "
        "automatic activity detection is enabled.");
    return;
  }
  if (member (ri, "activityStart")) {
    if (!g->activity) {
      g->activity = TRUE;
      g->activity_start = g->total;
      speech_started (conn);
    }
  }
  if ((o = mobj (ri, "audio"))
      && !handle_blob (conn, o, "realtime_input.audio"))
    return;
  if ((n = member (ri, "mediaChunks"))) {
    guint i;
    if (!JSON_NODE_HOLDS_ARRAY (n)) {
      gem_close (conn, 1007, "Invalid JSON payload received. Invalid value "
          "at 'realtime_input.media_chunks' (type.googleapis.com/"
          "google.ai.generativelanguage.v1beta.Blob)");
      return;
    }
    for (i = 0; i < json_array_get_length (json_node_get_array (n)); i++) {
      JsonNode *c = json_array_get_element (json_node_get_array (n), i);
      char *p = g_strdup_printf ("realtime_input.media_chunks[%u]", i);
      gboolean ok = JSON_NODE_HOLDS_OBJECT (c)
          && handle_blob (conn, json_node_get_object (c), p);
      if (!JSON_NODE_HOLDS_OBJECT (c))
        gem_close (conn, 1007, R_INVALID);
      g_free (p);
      if (!ok)
        return;
    }
  }
  if (!emu_conn_alive (conn))
    return;
  if (member (ri, "activityEnd")) {
    if (g->activity) {
      g->activity = FALSE;
      end_audio_turn (conn, g->activity_start, g->total);
    } else {
      emu_conn_note (conn, "activity-end-without-start", NULL);
    }
  }
  if (mbool (ri, "audioStreamEnd")) {
    /* flushes the VAD: speech in progress ends here */
    if (g->auto_vad && g->in_speech) {
      g->in_speech = FALSE;
      end_audio_turn (conn, MAX (g->speech_start -
              (gint64) g->prefix_ms * IN_PER_MS, g->buf_start), g->total);
    } else if (!g->auto_vad) {
      emu_conn_note (conn, "audio-stream-end-ignored", "manual activity mode");
    }
  }
  if (emu_conn_alive (conn) && mstr (ri, "text") && *mstr (ri, "text"))
    text_turn (conn, mstr (ri, "text"));
}

static void
handle_client_content (EmuConn * conn, JsonObject * cc)
{
  static const char *const known[] = { "turns", "turnComplete", NULL };
  Gem *g = conn->priv;
  VErr e = { 0, NULL };
  JsonNode *turns;
  GString *text;
  guint i, j;

  /* Gemini 3.1 takes clientContent only as initial history, announced by
   * historyConfig, before the first model turn (gemini-nova.md A4) */
  if (g_str_has_suffix (g->model, "gemini-3.1-flash-live-preview")
      && (!g->history_in_client_content || g->model_spoke
          || g->st.user_turns > 0)) {
    gem_close (conn, 1007, R_INVALID);
    return;
  }
  text = g_string_new (NULL);
  if (!check_fields (&e, cc, "client_content", known)
      || !want_type (&e, cc, "client_content", "turnComplete",
          G_TYPE_BOOLEAN, "TYPE_BOOL")) {
    gem_close (conn, e.code, e.reason);
    g_free (e.reason);
    g_string_free (text, TRUE);
    return;
  }
  turns = member (cc, "turns");
  if (turns && !JSON_NODE_HOLDS_ARRAY (turns)) {
    gem_close (conn, 1007, "Invalid JSON payload received. Invalid value at "
        "'client_content.turns' (type.googleapis.com/"
        "google.ai.generativelanguage.v1beta.Content)");
    g_string_free (text, TRUE);
    return;
  }
  /* the text of the trailing user turn is what the model answers */
  for (i = 0; turns && i < json_array_get_length (json_node_get_array
          (turns)); i++) {
    JsonNode *tn = json_array_get_element (json_node_get_array (turns), i);
    JsonObject *t = JSON_NODE_HOLDS_OBJECT (tn) ? json_node_get_object (tn) :
        NULL;
    JsonNode *parts = t ? member (t, "parts") : NULL;
    const char *role = t ? mstr (t, "role") : NULL;

    g_string_truncate (text, 0);
    if (role && g_str_equal (role, "model"))
      continue;
    for (j = 0; parts && JSON_NODE_HOLDS_ARRAY (parts)
        && j < json_array_get_length (json_node_get_array (parts)); j++) {
      JsonNode *pn = json_array_get_element (json_node_get_array (parts), j);
      if (JSON_NODE_HOLDS_OBJECT (pn) && mstr (json_node_get_object (pn),
              "text"))
        g_string_append (text, mstr (json_node_get_object (pn), "text"));
    }
  }
  if (mbool (cc, "turnComplete") && text->len)
    text_turn (conn, text->str);
  g_string_free (text, TRUE);
}

static void
handle_tool_response (EmuConn * conn, JsonObject * tr)
{
  static const char *const known[] = { "functionResponses", NULL };
  Gem *g = conn->priv;
  VErr e = { 0, NULL };
  JsonNode *frs = member (tr, "functionResponses");
  guint i;

  if (!check_fields (&e, tr, "tool_response", known)) {
    gem_close (conn, e.code, e.reason);
    g_free (e.reason);
    return;
  }
  if (!frs || !JSON_NODE_HOLDS_ARRAY (frs)) {
    gem_close (conn, 1007, R_INVALID);
    return;
  }
  for (i = 0; i < json_array_get_length (json_node_get_array (frs)); i++) {
    JsonNode *fn = json_array_get_element (json_node_get_array (frs), i);
    JsonObject *fr = JSON_NODE_HOLDS_OBJECT (fn) ? json_node_get_object (fn) :
        NULL;
    const char *id = fr ? mstr (fr, "id") : NULL;
    JsonNode *resp = fr ? member (fr, "response") : NULL;
    TurnInput *t;

    if (!fr || (resp && !JSON_NODE_HOLDS_OBJECT (resp))) {
      gem_close (conn, 1007, R_INVALID);
      return;
    }
    if (id && g_hash_table_contains (g->cancelled_calls, id)) {
      emu_conn_note (conn, "late-tool-response", id);
      continue;
    }
    if (!id || !g->call_id || !g_str_equal (id, g->call_id)) {
      emu_conn_note (conn, "unknown-tool-response", id);
      gem_close (conn, 1007, R_INVALID);
      return;
    }
    t = g_steal_pointer (&g->call_turn);
    g_clear_pointer (&g->call_id, g_free);
    g_clear_pointer (&g->call_name, g_free);
    if (resp) {
      JsonNode *rn = json_node_copy (resp);
      t->tool_text = emu_json_to_string (rn);
      json_node_unref (rn);
    } else {
      t->tool_text = g_strdup ("{}");
    }
    start_turn_reply (conn, t);
  }
}

static void
gemini_message (EmuConn * conn, const char *text, gsize len)
{
  Gem *g = conn->priv;
  JsonParser *parser = json_parser_new ();
  JsonNode *root;
  JsonObject *m;
  GList *members;
  char *kind = NULL, *name = NULL;
  GString *sub = g_string_new (NULL);

  if (!json_parser_load_from_data (parser, text, len, NULL)
      || !(root = json_parser_get_root (parser))) {
    JsonObject *line = json_object_new ();
    JsonNode *n = json_node_new (JSON_NODE_OBJECT);
    char *head = g_utf8_make_valid (text, MIN (len, 200));

    json_object_set_string_member (line, "unparsable", head);
    g_free (head);
    json_node_take_object (n, line);
    emu_conn_log_event (conn, "client", n);
    json_node_unref (n);
    gem_close (conn, 1007, "Invalid JSON payload received. Unexpected token.");
    goto out;
  }
  emu_conn_log_event (conn, "client", root);
  if (!emu_conn_alive (conn))
    goto out;
  g->client_msgs++;
  if (!JSON_NODE_HOLDS_OBJECT (root)) {
    gem_close (conn, 1007, "Invalid JSON payload received. Expected an "
        "object.");
    goto out;
  }
  m = json_node_get_object (root);
  members = json_object_get_members (m);
  if (g_list_length (members) != 1) {
    /* exactly one of the message oneof */
    gem_close (conn, 1007, R_INVALID);
    g_list_free (members);
    goto out;
  }
  name = g_strdup (members->data);
  kind = to_camel (name);
  g_list_free (members);
  if (!g_str_equal (kind, "setup") && !g_str_equal (kind, "clientContent")
      && !g_str_equal (kind, "realtimeInput")
      && !g_str_equal (kind, "toolResponse")) {
    gem_closef (conn, 1007, "Invalid JSON payload received. Unknown name "
        "\"%s\": Cannot find field.", name);
    goto out;
  }
  if (!JSON_NODE_HOLDS_OBJECT (member (m, kind))) {
    gem_close (conn, 1007, R_INVALID);
    goto out;
  }
  if (g_str_equal (kind, "setup")) {
    handle_setup (conn, mobj (m, kind));
  } else if (!g->setup_complete) {
    /* nothing may precede setup, nor come before setupComplete */
    emu_conn_note (conn, "early-message", kind);
    if (!g->setup_received && g->auth_code)
      gem_close (conn, g->auth_code, g->auth_reason);
    else
      gem_close (conn, 1007, R_INVALID);
  } else if (g_str_equal (kind, "realtimeInput")) {
    handle_realtime_input (conn, mobj (m, kind), sub);
  } else if (g_str_equal (kind, "clientContent")) {
    /* history re-sent on a resumed session: the real model loops on it */
    if (g->resumed_from)
      emu_conn_note (conn, "client-content-after-resume", g->resumed_from);
    handle_client_content (conn, mobj (m, kind));
  } else {
    handle_tool_response (conn, mobj (m, kind));
  }
  if (sub->len) {
    char *t = g_strdup_printf ("%s.%s", kind, sub->str);
    emu_conn_client_event_done (conn, t);
    g_free (t);
  } else {
    emu_conn_client_event_done (conn, kind);
  }
out:
  g_free (kind);
  g_free (name);
  g_string_free (sub, TRUE);
  g_object_unref (parser);
}

/* ------------------------------------------------------------------------ */
/* Connection lifecycle */

static guint
gemini_check_handshake (SoupServerMessage * msg, const char *path,
    GHashTable * query, char **body)
{
  SoupMessageHeaders *h = soup_server_message_get_request_headers (msg);
  const char *auth = soup_message_headers_get_one (h, "Authorization");
  const char *hkey = soup_message_headers_get_one (h, "x-goog-api-key");
  const char *required = emu_required_api_key ();
  const char *cred = NULL;
  gushort code = 0;
  const char *reason = NULL;

  /* The upgrade always succeeds: Google reports bad credentials as a
   * close frame once the call starts (gemini-nova.md A9). */
  if (g_str_has_prefix (path, "//"))
    path++;
  if (g_str_equal (path, PATH_EPHEMERAL)) {
    if (auth && g_ascii_strncasecmp (auth, "Token ", 6) == 0)
      cred = auth + 6;
    else if (query)
      cred = g_hash_table_lookup (query, "access_token");
    if (!cred || !g_str_has_prefix (cred, "auth_tokens/") || !cred[12]) {
      code = 1008;
      reason = cred ? "Invalid authentication token." :
          "Method doesn't allow unregistered callers (callers without "
          "established identity). Please use API Key or other form of API "
          "consumer identity to call this API.";
    }
  } else {
    gboolean vertex = g_str_has_prefix (path, "/ws/google.cloud.");
    if (vertex && auth && g_ascii_strncasecmp (auth, "Bearer ", 7) == 0)
      cred = auth + 7;
    else if (hkey)
      cred = hkey;
    else if (query)
      cred = g_hash_table_lookup (query, "key");
    if (!cred || !*cred) {
      code = 1008;
      reason = vertex ? "Request is missing required authentication "
          "credential. Expected OAuth 2 access token, login cookie or other "
          "valid authentication credential." : "Method doesn't allow "
          "unregistered callers (callers without established identity). "
          "Please use API Key or other form of API consumer identity to call "
          "this API.";
    } else if (required && !g_str_equal (required, cred)) {
      code = vertex ? 1008 : 1007;
      reason = vertex ? "Request had invalid authentication credentials. "
          "Expected OAuth 2 access token, login cookie or other valid "
          "authentication credential." :
          "API key not valid. Please pass a valid API key.";
    }
  }
  g_object_set_data (G_OBJECT (msg), "emu-gemini-auth-code",
      GUINT_TO_POINTER (code));
  g_object_set_data (G_OBJECT (msg), "emu-gemini-auth-reason",
      (gpointer) reason);
  return 0;
}

static char *
gemini_http_error_body (guint status, const char *type, const char *code,
    const char *message)
{
  /* google.rpc.Status as Google's HTTP front ends send it */
  JsonObject *err = json_object_new (), *root = json_object_new ();
  JsonNode *n = json_node_new (JSON_NODE_OBJECT);
  char *s;
  const char *st = code ? code : status == 429 ? "RESOURCE_EXHAUSTED" :
      status == 401 ? "UNAUTHENTICATED" : status == 403 ? "PERMISSION_DENIED"
      : status == 404 ? "NOT_FOUND" : status == 503 ? "UNAVAILABLE" :
      status >= 500 ? "INTERNAL" : "INVALID_ARGUMENT";

  json_object_set_int_member (err, "code", status);
  json_object_set_string_member (err, "message", message ? message :
      status == 429 ? "Resource has been exhausted (e.g. check quota)." :
      status >= 500 ? "Internal error encountered." : R_INVALID);
  json_object_set_string_member (err, "status", st);
  json_object_set_object_member (root, "error", err);
  json_node_take_object (n, root);
  s = emu_json_to_string (n);
  json_node_unref (n);
  return s;
}

static void
gemini_conn_open (EmuConn * conn, SoupServerMessage * msg, const char *path,
    GHashTable * query)
{
  Gem *g = g_new0 (Gem, 1);

  if (g_str_has_prefix (path, "//"))
    path++;
  conn->priv = g;
  g->conn = conn;
  g->ep = g_str_equal (path, PATH_EPHEMERAL) ? EP_EPHEMERAL :
      g_str_has_prefix (path, "/ws/google.cloud.") ? EP_VERTEX : EP_KEY;
  g->auth_code = GPOINTER_TO_UINT (g_object_get_data (G_OBJECT (msg),
          "emu-gemini-auth-code"));
  g->auth_reason = g_object_get_data (G_OBJECT (msg), "emu-gemini-auth-reason");
  g->auto_vad = TRUE;
  g->threshold_dbfs = emu_vad_threshold_dbfs (0.2);
  g->silence_ms = 500;
  g->prefix_ms = 100;
  g->interrupts = TRUE;
  g->session_id = ++session_counter;
  g->buf = g_array_new (FALSE, FALSE, sizeof (gint16));
  g->cancelled_calls = g_hash_table_new_full (g_str_hash, g_str_equal,
      g_free, NULL);
  g_queue_init (&g->queued);
  live_gems = g_list_prepend (live_gems, g);
  arm_lifetime (conn);
}

static void
gemini_conn_free (EmuConn * conn)
{
  Gem *g = conn->priv;

  if (!g)
    return;
  live_gems = g_list_remove (live_gems, g);
  reply_free (g->reply);
  g_queue_clear_full (&g->queued, (GDestroyNotify) turn_input_free);
  turn_input_free (g->call_turn);
  g_free (g->call_id);
  g_free (g->call_name);
  g_hash_table_unref (g->cancelled_calls);
  g_array_unref (g->buf);
  g_free (g->model);
  g_free (g->resumed_from);
  g_free (g->st.first_turn);
  g_free (g);
  conn->priv = NULL;
}

static JsonNode *
gemini_conn_summary (EmuConn * conn)
{
  Gem *g = conn->priv;
  JsonObject *o = json_object_new ();
  JsonNode *n = json_node_new (JSON_NODE_OBJECT);

  json_object_set_int_member (o, "session", g->session_id);
  if (g->resumed_from)
    json_object_set_string_member (o, "resumed_from", g->resumed_from);
  json_object_set_int_member (o, "user_turns", g->st.user_turns);
  if (g->st.first_turn)
    json_object_set_string_member (o, "first_turn", g->st.first_turn);
  json_object_set_int_member (o, "input_ms", g->total / IN_PER_MS);
  json_object_set_int_member (o, "session_input_ms",
      (g->conn_base + g->total) / IN_PER_MS);
  json_object_set_int_member (o, "output_ms", g->out_ms_total);
  json_object_set_boolean_member (o, "setup_complete", g->setup_complete);
  json_node_take_object (n, o);
  return n;
}

/* Server message name for fault triggers and counts: the top-level field,
 * and for serverContent its first field (serverContent.modelTurn, ...). */
static char *
gemini_event_type (JsonObject * event)
{
  GList *members = json_object_get_members (event);
  char *res = NULL;

  if (members) {
    const char *k = members->data;
    JsonObject *sc = g_str_equal (k, "serverContent") ?
        json_object_get_object_member (event, k) : NULL;
    GList *sm = sc ? json_object_get_members (sc) : NULL;

    res = sm ? g_strdup_printf ("%s.%s", k, (char *) sm->data) : g_strdup (k);
    g_list_free (sm);
  }
  g_list_free (members);
  return res;
}

static void
gemini_fault_error (EmuConn * conn, const char *type, const char *code,
    const char *message)
{
  /* the Live API has no error message: errors are close frames */
  gem_close (conn, 1011, message ? message : R_INTERNAL);
}

static void
gemini_fault_session_expired (EmuConn * conn)
{
  gem_close (conn, 1011, R_DEADLINE);
}

const EmuDialect emu_gemini_dialect = {
  .name = "gemini",
  .paths = gemini_paths,
  .check_handshake = gemini_check_handshake,
  .http_error_body = gemini_http_error_body,
  .conn_open = gemini_conn_open,
  .conn_message = gemini_message,
  .conn_free = gemini_conn_free,
  .conn_summary = gemini_conn_summary,
  .fault_error = gemini_fault_error,
  .fault_session_expired = gemini_fault_session_expired,
  .binary_frames = TRUE,
  .event_type = gemini_event_type,
  .default_close_reason = gemini_default_close_reason,
  .fault_go_away = gemini_fault_go_away,
};
