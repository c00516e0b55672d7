/* s2s-emulator: loopback speech-to-speech provider emulator for tests.
 * Copyright (C) 2026 gst-s2s contributors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Generic part: command line, HTTP(S)/WebSocket server, handshake checks,
 * scripted handshake rejections and faults, JSON-lines logging and the audio
 * helpers every dialect shares.  The wire protocols live in emu-*.c.
 */

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <glib-unix.h>

#include "emulator.h"
#ifdef HAVE_NOVA
#include "emu-h2.h"
#endif

/* ------------------------------------------------------------------------ */
/* Global state */

static const EmuDialect *const dialects[] = {
  &emu_openai_dialect,
  &emu_grok_dialect,
  &emu_gemini_dialect,
  NULL
};

/* --dialect: wins the paths several dialects share (OpenAI and Grok both
 * serve /v1/realtime); otherwise the first dialect listed wins */
static char *opt_dialect;

typedef enum
{
  TRIG_NONE,                    /* fires when the connection opens */
  TRIG_CLIENT_EVENT,
  TRIG_SERVER_EVENT,
  TRIG_AFTER_MS,
} FaultTrigger;

typedef enum
{
  ACT_DROP,
  ACT_CLOSE,
  ACT_ERROR,
  ACT_MALFORMED,
  ACT_FIRST_AUDIO_DELAY,
  ACT_PACE_AUDIO,
  ACT_SESSION_EXPIRED,
  ACT_SILENT,
  ACT_GO_AWAY,
} FaultAction;

typedef struct
{
  FaultTrigger trigger;
  char *event_type;
  guint count;
  guint after_ms;
  guint connection;             /* 0 = any */
  FaultAction action;
  gushort close_code;
  char *close_reason;
  guint time_left_ms;
  char *err_type;
  char *err_code;
  char *err_message;
  guint delay_ms;
  gboolean pace;
} Fault;


static gint64 start_us;
static JsonObject *script;
static GPtrArray *faults;       /* Fault* */
static GPtrArray *rejects;      /* EmuReject* */
static FILE *log_file;
static char *log_path;
static char *opt_api_key;
static guint opt_first_audio_delay_ms;
static gboolean opt_pace_audio;
static guint conn_counter;
static GList *live_conns;
static GMainLoop *main_loop;

EmuOptions emu_options = {
  .go_away_time_left_ms = 10000,
  .resumption_ttl_ms = 2 * 3600 * 1000,
};

/* ------------------------------------------------------------------------ */
/* Time */

gint64
emu_now_ms (void)
{
  return (g_get_monotonic_time () - start_us) / 1000;
}

gint64
emu_conn_ms (EmuConn * conn)
{
  return (g_get_monotonic_time () - conn->open_us) / 1000;
}

/* ------------------------------------------------------------------------ */
/* Small JSON helpers */

static const char *
obj_get_string (JsonObject * obj, const char *name)
{
  JsonNode *n;

  if (!obj || !json_object_has_member (obj, name))
    return NULL;
  n = json_object_get_member (obj, name);
  if (JSON_NODE_HOLDS_VALUE (n)
      && json_node_get_value_type (n) == G_TYPE_STRING)
    return json_node_get_string (n);
  return NULL;
}

/* Returns -1 when absent or not a non-negative integer that fits. */
static gint64
obj_get_uint (JsonObject * obj, const char *name)
{
  JsonNode *n;
  GType t;

  if (!obj || !json_object_has_member (obj, name))
    return -1;
  n = json_object_get_member (obj, name);
  if (!JSON_NODE_HOLDS_VALUE (n))
    return -1;
  t = json_node_get_value_type (n);
  if (t == G_TYPE_INT64) {
    gint64 v = json_node_get_int (n);
    return v < 0 || v > G_MAXINT32 ? -1 : v;
  }
  if (t == G_TYPE_DOUBLE) {
    double d = json_node_get_double (n);
    return (d < 0 || d > G_MAXINT32 || d != floor (d)) ? -1 : (gint64) d;
  }
  return -1;
}

/* json-glib 1.6 prints doubles that need an exponent as e.g. "1e+308.0",
 * which is not JSON.  Rewrite such values in place before generating:
 * integral ones as integers, the rest as strings. */
static void
fix_doubles (JsonNode * node)
{
  if (JSON_NODE_HOLDS_OBJECT (node)) {
    GList *members = json_object_get_members (json_node_get_object (node)), *l;
    for (l = members; l; l = l->next)
      fix_doubles (json_object_get_member (json_node_get_object (node),
              l->data));
    g_list_free (members);
  } else if (JSON_NODE_HOLDS_ARRAY (node)) {
    JsonArray *a = json_node_get_array (node);
    guint i;
    for (i = 0; i < json_array_get_length (a); i++)
      fix_doubles (json_array_get_element (a, i));
  } else if (JSON_NODE_HOLDS_VALUE (node)
      && json_node_get_value_type (node) == G_TYPE_DOUBLE) {
    double d = json_node_get_double (node);
    char buf[G_ASCII_DTOSTR_BUF_SIZE];

    g_ascii_formatd (buf, sizeof (buf), "%.17g", d);
    if (!strchr (buf, 'e') && !strchr (buf, 'n') && !strchr (buf, 'i'))
      return;
    if (isfinite (d) && d == floor (d) && fabs (d) < 9.2e18)
      json_node_set_int (node, (gint64) d);
    else
      json_node_set_string (node, buf);
  }
}

char *
emu_json_to_string (JsonNode * node)
{
  JsonGenerator *gen = json_generator_new ();
  char *s;

  fix_doubles (node);
  json_generator_set_root (gen, node);
  s = json_generator_to_data (gen, NULL);
  g_object_unref (gen);
  return s;
}

/* ------------------------------------------------------------------------ */
/* Logging */

/* Base64 length arithmetic instead of decoding: the log only needs sizes. */
gsize
emu_base64_decoded_len (const char *text)
{
  gsize len = strlen (text), pad = 0;

  while (len > 0 && (text[len - 1] == '=' || g_ascii_isspace (text[len - 1]))) {
    if (text[len - 1] == '=')
      pad++;
    len--;
  }
  len += pad;
  if (len % 4 != 0)
    return (len / 4) * 3 + (len % 4 > 1 ? len % 4 - 1 : 0);
  return len / 4 * 3 - MIN (pad, 2);
}

/* Copy of an event for the log where audio payloads become byte counts, so
 * the log stays small and tests still see how much audio went where. */
static JsonNode *
sanitize_node (JsonNode * node)
{
  if (JSON_NODE_HOLDS_OBJECT (node)) {
    JsonObject *in = json_node_get_object (node);
    JsonObject *out = json_object_new ();
    const char *type = obj_get_string (in, "type");
    gboolean audio_delta = type && g_str_has_suffix (type, "audio.delta");
    /* Gemini Blob {mimeType, data} */
    gboolean blob = obj_get_string (in, "mimeType") != NULL;
    GList *members = json_object_get_members (in), *l;
    JsonNode *res;

    for (l = members; l; l = l->next) {
      const char *name = l->data;
      JsonNode *child = json_object_get_member (in, name);
      gboolean is_str = JSON_NODE_HOLDS_VALUE (child) &&
          json_node_get_value_type (child) == G_TYPE_STRING;

      if (is_str && (g_str_equal (name, "audio") || (audio_delta
                  && g_str_equal (name, "delta")) || (blob
                  && g_str_equal (name, "data")))) {
        char *key = g_strdup_printf ("%s_bytes", name);
        json_object_set_int_member (out, key,
            emu_base64_decoded_len (json_node_get_string (child)));
        g_free (key);
      } else {
        json_object_set_member (out, name, sanitize_node (child));
      }
    }
    g_list_free (members);
    res = json_node_new (JSON_NODE_OBJECT);
    json_node_take_object (res, out);
    return res;
  } else if (JSON_NODE_HOLDS_ARRAY (node)) {
    JsonArray *in = json_node_get_array (node);
    JsonArray *out = json_array_new ();
    guint i, n = json_array_get_length (in);
    JsonNode *res;

    for (i = 0; i < n; i++)
      json_array_add_element (out,
          sanitize_node (json_array_get_element (in, i)));
    res = json_node_new (JSON_NODE_ARRAY);
    json_node_take_array (res, out);
    return res;
  }
  return json_node_copy (node);
}

void
emu_log_write (JsonObject * line)
{
  JsonNode *root;
  char *s;

  if (!log_file) {
    json_object_unref (line);
    return;
  }
  root = json_node_new (JSON_NODE_OBJECT);
  json_node_take_object (root, line);
  s = emu_json_to_string (root);
  fputs (s, log_file);
  fputc ('\n', log_file);
  fflush (log_file);
  g_free (s);
  json_node_unref (root);
}

JsonObject *
emu_log_line_new (guint conn, const char *dir)
{
  JsonObject *line = json_object_new ();

  json_object_set_int_member (line, "t_ms", emu_now_ms ());
  json_object_set_int_member (line, "conn", conn);
  json_object_set_string_member (line, "dir", dir);
  return line;
}

void
emu_conn_log_event (EmuConn * conn, const char *dir, JsonNode * event)
{
  JsonObject *line;

  if (!log_file)
    return;
  line = emu_log_line_new (conn->index, dir);
  json_object_set_member (line, "event", sanitize_node (event));
  emu_log_write (line);
}

void
emu_log_conn_note (guint conn, const char *what, const char *detail)
{
  JsonObject *line;

  if (!log_file)
    return;
  line = emu_log_line_new (conn, "conn");
  json_object_set_string_member (line, "what", what);
  if (detail)
    json_object_set_string_member (line, "detail", detail);
  emu_log_write (line);
}

gboolean
emu_is_secret_header (const char *name)
{
  static const char *const secret[] = {
    "authorization", "proxy-authorization", "api-key", "x-api-key",
    "x-goog-api-key", "cookie", "x-amz-security-token", NULL
  };
  guint i;

  for (i = 0; secret[i]; i++)
    if (g_ascii_strcasecmp (name, secret[i]) == 0)
      return TRUE;
  return FALSE;
}

/* Browser clients carry credentials in subprotocol names. */
static char *
redact_subprotocols (const char *value)
{
  char **parts = g_strsplit (value, ",", -1);
  GString *out = g_string_new (NULL);
  guint i;

  for (i = 0; parts[i]; i++) {
    char *p = g_strstrip (parts[i]);
    const char *dot = strchr (p, '.');

    if (out->len)
      g_string_append (out, ", ");
    if (dot && (g_str_has_prefix (p, "openai-insecure-api-key.")
            || g_str_has_prefix (p, "xai-client-secret.")))
      g_string_append_printf (out, "%.*sREDACTED", (int) (dot - p + 1), p);
    else
      g_string_append (out, p);
  }
  g_strfreev (parts);
  return g_string_free (out, FALSE);
}

static void
add_header_cb (const char *name, const char *value, gpointer user_data)
{
  JsonObject *obj = user_data;
  char *v;
  char *lname = g_ascii_strdown (name, -1);

  if (emu_is_secret_header (name))
    v = g_strdup ("REDACTED");
  else if (g_ascii_strcasecmp (name, "sec-websocket-protocol") == 0)
    v = redact_subprotocols (value);
  else
    v = g_strdup (value);

  if (json_object_has_member (obj, lname)) {
    char *joined = g_strdup_printf ("%s, %s",
        json_object_get_string_member (obj, lname), v);
    json_object_set_string_member (obj, lname, joined);
    g_free (joined);
  } else {
    json_object_set_string_member (obj, lname, v);
  }
  g_free (v);
  g_free (lname);
}

char *
emu_redact_query (GUri * uri)
{
  const char *query = g_uri_get_query (uri);
  GHashTable *params;
  GString *out;
  GList *keys, *l;

  if (!query)
    return NULL;
  params = g_uri_parse_params (query, -1, "&", G_URI_PARAMS_NONE, NULL);
  if (!params)
    return g_strdup ("<unparsable>");
  out = g_string_new (NULL);
  keys = g_hash_table_get_keys (params);
  keys = g_list_sort (keys, (GCompareFunc) g_strcmp0);
  for (l = keys; l; l = l->next) {
    const char *key = l->data;
    char *val;
    if (out->len)
      g_string_append_c (out, '&');
    if (g_ascii_strcasecmp (key, "api-key") == 0
        || g_ascii_strcasecmp (key, "key") == 0
        || g_ascii_strcasecmp (key, "authorization") == 0
        || g_ascii_strcasecmp (key, "access_token") == 0
        || g_ascii_strcasecmp (key, "token") == 0)
      val = g_strdup ("REDACTED");
    else
      val = g_uri_escape_string (g_hash_table_lookup (params, key), NULL,
          FALSE);
    g_string_append_printf (out, "%s=%s", key, val);
    g_free (val);
  }
  g_list_free (keys);
  g_hash_table_unref (params);
  return g_string_free (out, FALSE);
}

static void
log_handshake (guint conn, SoupServerMessage * msg, const char *what,
    guint status)
{
  JsonObject *line, *headers;
  GUri *uri = soup_server_message_get_uri (msg);
  char *q;

  if (!log_file)
    return;
  line = emu_log_line_new (conn, "conn");
  json_object_set_string_member (line, "what", what);
  json_object_set_string_member (line, "method",
      soup_server_message_get_method (msg));
  json_object_set_string_member (line, "path", g_uri_get_path (uri));
  q = emu_redact_query (uri);
  if (q)
    json_object_set_string_member (line, "query", q);
  g_free (q);
  headers = json_object_new ();
  soup_message_headers_foreach (soup_server_message_get_request_headers (msg),
      add_header_cb, headers);
  json_object_set_object_member (line, "headers", headers);
  if (status)
    json_object_set_int_member (line, "status", status);
  emu_log_write (line);
}

/* ------------------------------------------------------------------------ */
/* Script */

JsonObject *
emu_script_turn (guint n)
{
  JsonNode *turns;
  JsonArray *arr;
  JsonNode *t;

  if (!script || n == 0 || !json_object_has_member (script, "turns"))
    return NULL;
  turns = json_object_get_member (script, "turns");
  if (!JSON_NODE_HOLDS_ARRAY (turns))
    return NULL;
  arr = json_node_get_array (turns);
  if (n > json_array_get_length (arr))
    return NULL;
  t = json_array_get_element (arr, n - 1);
  return JSON_NODE_HOLDS_OBJECT (t) ? json_node_get_object (t) : NULL;
}

static gboolean
parse_action (JsonNode * node, Fault * f, GError ** error)
{
  JsonObject *o;

  if (JSON_NODE_HOLDS_VALUE (node)
      && json_node_get_value_type (node) == G_TYPE_STRING) {
    const char *s = json_node_get_string (node);
    if (g_str_equal (s, "drop"))
      f->action = ACT_DROP;
    else if (g_str_equal (s, "malformed"))
      f->action = ACT_MALFORMED;
    else if (g_str_equal (s, "silent"))
      f->action = ACT_SILENT;
    else if (g_str_equal (s, "session_expired"))
      f->action = ACT_SESSION_EXPIRED;
    else if (g_str_equal (s, "go_away")) {
      f->action = ACT_GO_AWAY;
      f->time_left_ms = G_MAXUINT;      /* the --go-away-time-left-ms value */
    } else if (g_str_equal (s, "pace_audio")) {
      f->action = ACT_PACE_AUDIO;
      f->pace = TRUE;
    } else {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
          "unknown fault action '%s'", s);
      return FALSE;
    }
    return TRUE;
  }
  if (!JSON_NODE_HOLDS_OBJECT (node)) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
        "fault action must be a string or an object");
    return FALSE;
  }
  o = json_node_get_object (node);
  if (json_object_has_member (o, "close")) {
    gint64 code = obj_get_uint (o, "close");
    if (code < 1000 || code > 4999 || code == 1005 || code == 1006
        || code == 1010 || code == 1015) {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
          "fault close code must be a sendable code (1000-4999)");
      return FALSE;
    }
    f->action = ACT_CLOSE;
    f->close_code = code;
    f->close_reason = g_strdup (obj_get_string (o, "reason"));
    if (f->close_reason && strlen (f->close_reason) > 123) {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
          "fault close reason is longer than 123 bytes");
      return FALSE;
    }
  } else if (json_object_has_member (o, "go_away")) {
    JsonNode *g = json_object_get_member (o, "go_away");
    gint64 t = obj_get_uint (JSON_NODE_HOLDS_OBJECT (g) ?
        json_node_get_object (g) : o, "time_left_ms");
    f->action = ACT_GO_AWAY;
    f->time_left_ms = t >= 0 ? (guint) t : G_MAXUINT;
  } else if (json_object_has_member (o, "error")) {
    JsonNode *e = json_object_get_member (o, "error");
    JsonObject *eo = JSON_NODE_HOLDS_OBJECT (e) ? json_node_get_object (e) :
        NULL;
    f->action = ACT_ERROR;
    f->err_type = g_strdup (obj_get_string (eo, "type"));
    f->err_code = g_strdup (obj_get_string (eo, "code"));
    f->err_message = g_strdup (obj_get_string (eo, "message"));
    if (!f->err_type)
      f->err_type = g_strdup ("server_error");
    if (!f->err_message)
      f->err_message = g_strdup ("The server had an error while processing "
          "your request. Sorry about that!");
  } else if (json_object_has_member (o, "first_audio_delay_ms")) {
    gint64 d = obj_get_uint (o, "first_audio_delay_ms");
    if (d < 0 || d > 600000) {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
          "first_audio_delay_ms must be 0..600000");
      return FALSE;
    }
    f->action = ACT_FIRST_AUDIO_DELAY;
    f->delay_ms = d;
  } else if (json_object_has_member (o, "pace_audio")) {
    JsonNode *p = json_object_get_member (o, "pace_audio");
    f->action = ACT_PACE_AUDIO;
    f->pace = JSON_NODE_HOLDS_VALUE (p)
        && json_node_get_value_type (p) == G_TYPE_BOOLEAN
        && json_node_get_boolean (p);
  } else if (json_object_has_member (o, "session_expired")) {
    f->action = ACT_SESSION_EXPIRED;
  } else if (json_object_has_member (o, "drop")) {
    f->action = ACT_DROP;
  } else if (json_object_has_member (o, "malformed")) {
    f->action = ACT_MALFORMED;
  } else if (json_object_has_member (o, "silent")) {
    f->action = ACT_SILENT;
  } else {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
        "fault has no known action");
    return FALSE;
  }
  return TRUE;
}

static void
fault_free (Fault * f)
{
  g_free (f->event_type);
  g_free (f->close_reason);
  g_free (f->err_type);
  g_free (f->err_code);
  g_free (f->err_message);
  g_free (f);
}

static gboolean
parse_fault (JsonNode * node, GError ** error)
{
  JsonObject *o;
  Fault *f;
  gint64 v;

  if (!JSON_NODE_HOLDS_OBJECT (node)) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
        "each fault must be an object");
    return FALSE;
  }
  o = json_node_get_object (node);
  f = g_new0 (Fault, 1);
  f->count = 1;
  if (obj_get_string (o, "after_client_event")) {
    f->trigger = TRIG_CLIENT_EVENT;
    f->event_type = g_strdup (obj_get_string (o, "after_client_event"));
  } else if (obj_get_string (o, "after_server_event")) {
    f->trigger = TRIG_SERVER_EVENT;
    f->event_type = g_strdup (obj_get_string (o, "after_server_event"));
  } else if ((v = obj_get_uint (o, "after_ms")) >= 0) {
    f->trigger = TRIG_AFTER_MS;
    f->after_ms = v;
  } else {
    f->trigger = TRIG_NONE;
  }
  if ((v = obj_get_uint (o, "count")) >= 1)
    f->count = v;
  if ((v = obj_get_uint (o, "connection")) >= 1)
    f->connection = v;

  /* Both {"action": X} and the action keys inline in the fault object. */
  if (!parse_action (json_object_has_member (o, "action") ?
          json_object_get_member (o, "action") : node, f, error)) {
    fault_free (f);
    return FALSE;
  }
  g_ptr_array_add (faults, f);
  return TRUE;
}

static gboolean
parse_reject (JsonNode * node, GError ** error)
{
  JsonObject *o;
  EmuReject *r;
  gint64 v;

  if (!JSON_NODE_HOLDS_OBJECT (node)) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
        "reject_connect must be an object or an array of objects");
    return FALSE;
  }
  o = json_node_get_object (node);
  v = obj_get_uint (o, "status");
  if (v < 400 || v > 599) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
        "reject_connect.status must be 400..599");
    return FALSE;
  }
  r = g_new0 (EmuReject, 1);
  r->status = v;
  r->connection = MAX (obj_get_uint (o, "connection"), 0);
  r->type = g_strdup (obj_get_string (o, "type"));
  r->code = g_strdup (obj_get_string (o, "code"));
  r->message = g_strdup (obj_get_string (o, "message"));
  v = obj_get_uint (o, "retry_after");
  r->retry_after = v >= 0 ? (gint) v : -1;
  g_ptr_array_add (rejects, r);
  return TRUE;
}

static void
reject_free (EmuReject * r)
{
  g_free (r->type);
  g_free (r->code);
  g_free (r->message);
  g_free (r);
}

/* Top-level emulator-wide knobs (EmuOptions); CLI flags override them. */
static gboolean
load_script_options (GError ** error)
{
  static const struct
  {
    const char *name;
    gsize offset;
  } keys[] = {
    {"go_away_every_ms", G_STRUCT_OFFSET (EmuOptions, go_away_every_ms)},
    {"go_away_time_left_ms", G_STRUCT_OFFSET (EmuOptions,
            go_away_time_left_ms)},
    {"max_connection_ms", G_STRUCT_OFFSET (EmuOptions, max_connection_ms)},
    {"resumption_ttl_ms", G_STRUCT_OFFSET (EmuOptions, resumption_ttl_ms)},
    {"setup_complete_delay_ms", G_STRUCT_OFFSET (EmuOptions,
            setup_complete_delay_ms)},
    {"vad_start_delay_ms", G_STRUCT_OFFSET (EmuOptions, vad_start_delay_ms)},
  };
  guint i;

  for (i = 0; i < G_N_ELEMENTS (keys); i++) {
    gint64 v;
    if (!json_object_has_member (script, keys[i].name))
      continue;
    v = obj_get_uint (script, keys[i].name);
    if (v < 0) {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
          "script.%s must be a non-negative integer", keys[i].name);
      return FALSE;
    }
    G_STRUCT_MEMBER (guint, &emu_options, keys[i].offset) = v;
  }
  if (json_object_has_member (script, "allow_resume_while_open")) {
    JsonNode *n = json_object_get_member (script, "allow_resume_while_open");
    if (!JSON_NODE_HOLDS_VALUE (n)
        || json_node_get_value_type (n) != G_TYPE_BOOLEAN) {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
          "script.allow_resume_while_open must be a boolean");
      return FALSE;
    }
    emu_options.allow_resume_while_open = json_node_get_boolean (n);
  }
  return TRUE;
}

static gboolean
load_script (const char *path, GError ** error)
{
  JsonParser *parser = json_parser_new ();
  JsonNode *root, *n;
  gboolean ok = FALSE;

  if (!json_parser_load_from_file (parser, path, error))
    goto out;
  root = json_parser_get_root (parser);
  if (!root || !JSON_NODE_HOLDS_OBJECT (root)) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
        "script root must be a JSON object");
    goto out;
  }
  script = json_object_ref (json_node_get_object (root));

  if (json_object_has_member (script, "turns")
      && !JSON_NODE_HOLDS_ARRAY (json_object_get_member (script, "turns"))) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
        "script.turns must be an array");
    goto out;
  }
  if (json_object_has_member (script, "reject_connect")) {
    n = json_object_get_member (script, "reject_connect");
    if (JSON_NODE_HOLDS_ARRAY (n)) {
      JsonArray *a = json_node_get_array (n);
      guint i;
      for (i = 0; i < json_array_get_length (a); i++)
        if (!parse_reject (json_array_get_element (a, i), error))
          goto out;
    } else if (!parse_reject (n, error)) {
      goto out;
    }
  }
  if (!load_script_options (error))
    goto out;
  if (json_object_has_member (script, "faults")) {
    JsonArray *a;
    guint i;
    n = json_object_get_member (script, "faults");
    if (!JSON_NODE_HOLDS_ARRAY (n)) {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
          "script.faults must be an array");
      goto out;
    }
    a = json_node_get_array (n);
    for (i = 0; i < json_array_get_length (a); i++)
      if (!parse_fault (json_array_get_element (a, i), error))
        goto out;
  }
  ok = TRUE;
out:
  g_object_unref (parser);
  return ok;
}

/* ------------------------------------------------------------------------ */
/* Connections */

static EmuConn *
emu_conn_ref (EmuConn * conn)
{
  g_atomic_int_inc (&conn->ref_count);
  return conn;
}

static void
emu_conn_unref (EmuConn * conn)
{
  if (!g_atomic_int_dec_and_test (&conn->ref_count))
    return;
  if (conn->dialect->conn_free)
    conn->dialect->conn_free (conn);
  g_clear_object (&conn->ws);
  g_hash_table_unref (conn->client_counts);
  g_hash_table_unref (conn->server_counts);
  g_free (conn->fault_fired);
  g_array_unref (conn->timers);
  if (conn->raw_in)
    fclose (conn->raw_in);
  g_free (conn);
}

gboolean
emu_conn_alive (EmuConn * conn)
{
  return !conn->closed && !conn->silent;
}

guint
emu_conn_timeout_add (EmuConn * conn, guint ms, GSourceFunc func, gpointer data)
{
  guint id = g_timeout_add (ms, func, data);
  g_array_append_val (conn->timers, id);
  return id;
}

/* Dialects call this from the callback of a one-shot timer too (returning
 * G_SOURCE_REMOVE afterwards), so only forget the id there. */
gboolean
emu_conn_timeout_remove (EmuConn * conn, guint id)
{
  guint i;

  for (i = 0; i < conn->timers->len; i++) {
    if (g_array_index (conn->timers, guint, i) == id) {
      g_array_remove_index_fast (conn->timers, i);
      return TRUE;
    }
  }
  return FALSE;
}

typedef struct
{
  EmuConn *conn;
  guint id;
  EmuPacerGet get;
  EmuPacerStep step;
} PaceTimer;

static gboolean
pace_timer_cb (gpointer data)
{
  PaceTimer *t = data;
  EmuPacer *p;

  emu_conn_timeout_remove (t->conn, t->id);
  p = t->get (t->conn);
  if (p && p->timer == t->id) {
    p->timer = 0;
    emu_pacer_run (t->conn, t->get, t->step);
  }
  return G_SOURCE_REMOVE;
}

static void
pace_after (EmuConn * conn, EmuPacer * p, guint ms, EmuPacerGet get,
    EmuPacerStep step)
{
  PaceTimer *t = g_new0 (PaceTimer, 1);

  t->conn = conn;
  t->get = get;
  t->step = step;
  /* in conn->timers, so closing the connection removes it */
  t->id = g_timeout_add_full (G_PRIORITY_DEFAULT, ms, pace_timer_cb, t, g_free);
  g_array_append_val (conn->timers, t->id);
  p->timer = t->id;
}

void
emu_pacer_run (EmuConn * conn, EmuPacerGet get, EmuPacerStep step)
{
  for (;;) {
    EmuPacer *p = get (conn);

    if (!p || !emu_conn_alive (conn))
      return;
    if (!p->delay_done) {
      p->delay_done = TRUE;
      if (conn->first_audio_delay_ms > 0 && !p->unpaced) {
        pace_after (conn, p, conn->first_audio_delay_ms, get, step);
        return;
      }
    }
    if (!step (conn))
      return;
    /* step returned TRUE: the reply, and so @p, is still there */
    if (conn->pace_audio && !p->unpaced) {
      pace_after (conn, p, 100, get, step);
      return;
    }
  }
}

void
emu_pacer_stop (EmuConn * conn, EmuPacer * p)
{
  /* a closed connection already removed its timers */
  if (p->timer && emu_conn_timeout_remove (conn, p->timer))
    g_source_remove (p->timer);
  p->timer = 0;
}

char **
emu_split_words (const char *text, guint * n_out)
{
  char **words = g_strsplit (text, " ", -1);
  GPtrArray *out = g_ptr_array_new ();
  guint i;

  for (i = 0; words[i]; i++) {
    if (i == 0 && words[i][0] == '\0' && !words[i + 1])
      break;
    g_ptr_array_add (out, i == 0 ? g_strdup (words[i]) :
        g_strconcat (" ", words[i], NULL));
  }
  g_strfreev (words);
  *n_out = out->len;
  g_ptr_array_add (out, NULL);
  return (char **) g_ptr_array_free (out, FALSE);
}

void
emu_buffer_drop_until (GArray * buf, gint64 * buf_start, gint64 pos)
{
  gint64 n = CLAMP (pos - *buf_start, 0, (gint64) buf->len);

  if (n > 0)
    g_array_remove_range (buf, 0, n);
  *buf_start += n;
}

static void
remove_all_timers (EmuConn * conn)
{
  guint i;

  for (i = 0; i < conn->timers->len; i++)
    g_source_remove (g_array_index (conn->timers, guint, i));
  g_array_set_size (conn->timers, 0);
}

void
emu_conn_write_raw_input (EmuConn * conn, const gint16 * samples, gsize n)
{
  gsize i;

  if (!conn->raw_in)
    return;
  /* S16LE on disk whatever the host order */
  for (i = 0; i < n; i++) {
    guint16 v = GUINT16_TO_LE ((guint16) samples[i]);
    fwrite (&v, 2, 1, conn->raw_in);
  }
  fflush (conn->raw_in);
}

static void fire_faults (EmuConn * conn, FaultTrigger trigger,
    const char *type, guint count);

static guint
bump_count (GHashTable * table, const char *type)
{
  guint c = GPOINTER_TO_UINT (g_hash_table_lookup (table, type)) + 1;
  g_hash_table_insert (table, g_strdup (type), GUINT_TO_POINTER (c));
  return c;
}

void
emu_conn_send_raw_text (EmuConn * conn, const char *text)
{
  if (conn->closed)
    return;
  if (conn->ops) {
    conn->ops->send_raw (conn, text);
    return;
  }
  if (!conn->ws)
    return;
  if (soup_websocket_connection_get_state (conn->ws) !=
      SOUP_WEBSOCKET_STATE_OPEN)
    return;
  if (conn->dialect->binary_frames)
    soup_websocket_connection_send_binary (conn->ws, text, strlen (text));
  else
    soup_websocket_connection_send_text (conn->ws, text);
}

/* Takes ownership of @event. */
void
emu_conn_send_event (EmuConn * conn, JsonObject * event)
{
  JsonNode *root;
  char *text;
  const char *type;
  gint64 send_us;

  if (!emu_conn_alive (conn)) {
    json_object_unref (event);
    return;
  }
  root = json_node_new (JSON_NODE_OBJECT);
  json_node_take_object (root, event);
  text = emu_json_to_string (root);
  emu_conn_ref (conn);
  send_us = g_get_monotonic_time ();
  emu_conn_send_raw_text (conn, text);
  if (log_file) {
    JsonObject *line = emu_log_line_new (conn->index, "server");

    /* the write's start on the monotonic clock (GStreamer's system clock):
     * the client cannot have the event before it */
    json_object_set_int_member (line, "send_us", send_us);
    json_object_set_member (line, "event", sanitize_node (root));
    emu_log_write (line);
  }
  type = obj_get_string (event, "type");
  if (conn->dialect->event_type || type) {
    char *t = conn->dialect->event_type ? conn->dialect->event_type (event) :
        g_strdup (type);
    if (t)
      emu_conn_server_event_done (conn, t);
    g_free (t);
  }
  emu_conn_unref (conn);
  g_free (text);
  json_node_unref (root);
}

void
emu_conn_server_event_done (EmuConn * conn, const char *type)
{
  guint c;

  if (conn->closed)
    return;
  c = bump_count (conn->server_counts, type);
  fire_faults (conn, TRIG_SERVER_EVENT, type, c);
}

void
emu_conn_client_event_done (EmuConn * conn, const char *type)
{
  guint c;

  if (conn->closed)
    return;
  c = bump_count (conn->client_counts, type);
  fire_faults (conn, TRIG_CLIENT_EVENT, type, c);
}

void
emu_conn_close (EmuConn * conn, gushort code, const char *reason)
{
  if (conn->closed)
    return;
  conn->closed = TRUE;
  remove_all_timers (conn);
  if (conn->ops) {
    conn->ops->close (conn, code, reason);
    return;
  }
  if (soup_websocket_connection_get_state (conn->ws) ==
      SOUP_WEBSOCKET_STATE_OPEN)
    soup_websocket_connection_close (conn->ws, code, reason);
}

void
emu_conn_note (EmuConn * conn, const char *what, const char *detail)
{
  emu_log_conn_note (conn->index, what, detail);
}

/* An abrupt loss: no close frame, the peer just sees the TCP stream end
 * (plus a TLS close_notify with TLS), as when a proxy or NAT drops us. */
void
emu_conn_drop (EmuConn * conn)
{
  GIOStream *io;
  GSocket *sock;

  if (conn->closed)
    return;
  conn->closed = TRUE;
  remove_all_timers (conn);
  emu_log_conn_note (conn->index, "drop", NULL);
  if (conn->ops) {
    conn->ops->drop (conn);
    return;
  }
  io = soup_websocket_connection_get_io_stream (conn->ws);
  sock = g_object_get_data (G_OBJECT (io), "GSocket");
  if (sock)
    g_socket_shutdown (sock, TRUE, TRUE, NULL);
  g_io_stream_close (io, NULL, NULL);
}

static void
run_fault (EmuConn * conn, Fault * f)
{
  switch (f->action) {
    case ACT_DROP:
      emu_conn_drop (conn);
      break;
    case ACT_CLOSE:{
      const char *reason = f->close_reason;
      if (!reason && conn->dialect->default_close_reason)
        reason = conn->dialect->default_close_reason (f->close_code);
      emu_log_conn_note (conn->index, "fault-close", reason);
      emu_conn_close (conn, f->close_code, reason);
      break;
    }
    case ACT_GO_AWAY:
      if (conn->dialect->fault_go_away)
        conn->dialect->fault_go_away (conn, f->time_left_ms == G_MAXUINT ?
            emu_options.go_away_time_left_ms : f->time_left_ms);
      break;
    case ACT_ERROR:
      if (conn->dialect->fault_error)
        conn->dialect->fault_error (conn, f->err_type, f->err_code,
            f->err_message);
      break;
    case ACT_MALFORMED:
      if (emu_conn_alive (conn)) {
        emu_log_conn_note (conn->index, "fault-malformed", NULL);
        emu_conn_send_raw_text (conn, "this is not JSON");
        emu_conn_send_raw_text (conn,
            "{\"type\":\"response.output_audio.delta\",\"delta\":\"AAAA");
      }
      break;
    case ACT_FIRST_AUDIO_DELAY:
      conn->first_audio_delay_ms = f->delay_ms;
      break;
    case ACT_PACE_AUDIO:
      conn->pace_audio = f->pace;
      break;
    case ACT_SESSION_EXPIRED:
      if (conn->dialect->fault_session_expired)
        conn->dialect->fault_session_expired (conn);
      break;
    case ACT_SILENT:
      emu_log_conn_note (conn->index, "fault-silent", NULL);
      conn->silent = TRUE;
      remove_all_timers (conn);
      break;
  }
}

static void
fire_faults (EmuConn * conn, FaultTrigger trigger, const char *type,
    guint count)
{
  guint i;

  for (i = 0; i < faults->len && !conn->closed; i++) {
    Fault *f = g_ptr_array_index (faults, i);

    if (conn->fault_fired[i] || f->trigger != trigger)
      continue;
    if (f->connection && f->connection != conn->index)
      continue;
    if (trigger == TRIG_CLIENT_EVENT || trigger == TRIG_SERVER_EVENT) {
      if (g_strcmp0 (f->event_type, type) != 0 || f->count != count)
        continue;
    }
    conn->fault_fired[i] = TRUE;
    run_fault (conn, f);
  }
}

typedef struct
{
  EmuConn *conn;
  guint fault;
  guint id;
} TimedFault;

static gboolean
timed_fault_cb (gpointer data)
{
  TimedFault *tf = data;
  EmuConn *conn = tf->conn;

  emu_conn_timeout_remove (conn, tf->id);
  if (!conn->closed && !conn->fault_fired[tf->fault]) {
    conn->fault_fired[tf->fault] = TRUE;
    run_fault (conn, g_ptr_array_index (faults, tf->fault));
  }
  return G_SOURCE_REMOVE;
}

static void
arm_connection_faults (EmuConn * conn)
{
  guint i;

  for (i = 0; i < faults->len; i++) {
    Fault *f = g_ptr_array_index (faults, i);
    TimedFault *tf;

    if (f->connection && f->connection != conn->index)
      continue;
    if (f->trigger == TRIG_NONE) {
      conn->fault_fired[i] = TRUE;
      run_fault (conn, f);
    } else if (f->trigger == TRIG_AFTER_MS) {
      tf = g_new0 (TimedFault, 1);
      tf->conn = conn;
      tf->fault = i;
      tf->id = g_timeout_add_full (G_PRIORITY_DEFAULT, f->after_ms,
          timed_fault_cb, tf, g_free);
      g_array_append_val (conn->timers, tf->id);
    }
  }
}

static gboolean
finalize_conn_idle (gpointer data)
{
  emu_conn_unref (data);
  return G_SOURCE_REMOVE;
}

static void
conn_closed (EmuConn * conn, gint close_code, const char *close_reason)
{
  JsonObject *line;

  conn->closed = TRUE;
  remove_all_timers (conn);
  live_conns = g_list_remove (live_conns, conn);
  if (log_file) {
    line = emu_log_line_new (conn->index, "conn");
    json_object_set_string_member (line, "what", "close");
    json_object_set_int_member (line, "close_code", close_code);
    if (close_reason)
      json_object_set_string_member (line, "close_reason", close_reason);
    if (conn->dialect->conn_summary) {
      JsonNode *summary = conn->dialect->conn_summary (conn);
      if (summary)
        json_object_set_member (line, "summary", summary);
    }
    emu_log_write (line);
  }
  /* The signal can fire inside a send deep in dialect code; free later. */
  g_idle_add (finalize_conn_idle, conn);
}

static void
ws_closed_cb (SoupWebsocketConnection * ws, EmuConn * conn)
{
  conn_closed (conn, soup_websocket_connection_get_close_code (ws),
      soup_websocket_connection_get_close_data (ws));
}

static void
ws_message_cb (SoupWebsocketConnection * ws, gint type, GBytes * message,
    EmuConn * conn)
{
  gsize len;
  const char *data = g_bytes_get_data (message, &len);
  char *text;

  if (conn->closed)
    return;
  emu_conn_ref (conn);
  /* NUL-terminate: frames are not. */
  text = g_strndup (data ? data : "", len);
  conn->dialect->conn_message (conn, text, len);
  g_free (text);
  emu_conn_unref (conn);
}

static void
ws_error_cb (SoupWebsocketConnection * ws, GError * error, EmuConn * conn)
{
  emu_log_conn_note (conn->index, "ws-error", error->message);
}

static EmuConn *
conn_new (const EmuDialect * dialect, guint index)
{
  EmuConn *conn = g_new0 (EmuConn, 1);

  conn->ref_count = 1;
  conn->index = index;
  conn->dialect = dialect;
  conn->open_us = g_get_monotonic_time ();
  conn->first_audio_delay_ms = opt_first_audio_delay_ms;
  conn->pace_audio = opt_pace_audio;
  conn->client_counts = g_hash_table_new_full (g_str_hash, g_str_equal,
      g_free, NULL);
  conn->server_counts = g_hash_table_new_full (g_str_hash, g_str_equal,
      g_free, NULL);
  conn->fault_fired = g_new0 (gboolean, faults->len + 1);
  conn->timers = g_array_new (FALSE, FALSE, sizeof (guint));
  if (log_path) {
    char *raw = g_strdup_printf ("%s.conn%u.in.raw", log_path, conn->index);
    conn->raw_in = fopen (raw, "wb");
    g_free (raw);
  }
  live_conns = g_list_prepend (live_conns, conn);
  return conn;
}

guint
emu_next_conn_index (void)
{
  return ++conn_counter;
}

EmuConn *
emu_conn_new_custom (const EmuDialect * dialect, guint index,
    const EmuConnOps * ops, const char *path)
{
  EmuConn *conn = conn_new (dialect, index);

  conn->ops = ops;
  emu_log_conn_note (conn->index, "open", path);
  return conn;
}

void
emu_conn_arm_faults (EmuConn * conn)
{
  emu_conn_ref (conn);
  arm_connection_faults (conn);
  emu_conn_unref (conn);
}

void
emu_conn_custom_closed (EmuConn * conn, gint close_code,
    const char *close_reason)
{
  if (g_list_find (live_conns, conn))
    conn_closed (conn, close_code, close_reason);
}

static void
server_ws_cb (SoupServer * server, SoupServerMessage * msg, const char *path,
    SoupWebsocketConnection * ws, gpointer user_data)
{
  const EmuDialect *dialect = user_data;
  EmuConn *conn = conn_new (dialect, GPOINTER_TO_UINT (g_object_get_data
          (G_OBJECT (msg), "emu-conn-index")));
  GUri *uri = soup_server_message_get_uri (msg);
  GHashTable *query = NULL;

  conn->ws = g_object_ref (ws);

  /* Large appends (up to 15 MiB of base64 per the docs) must get through. */
  soup_websocket_connection_set_max_incoming_payload_size (ws, 16 << 20);
  soup_websocket_connection_set_keepalive_interval (ws, 0);
  g_signal_connect (ws, "message", G_CALLBACK (ws_message_cb), conn);
  g_signal_connect (ws, "closed", G_CALLBACK (ws_closed_cb), conn);
  g_signal_connect (ws, "error", G_CALLBACK (ws_error_cb), conn);

  emu_log_conn_note (conn->index, "open", path);
  if (g_uri_get_query (uri))
    query = soup_form_decode (g_uri_get_query (uri));
  emu_conn_ref (conn);
  dialect->conn_open (conn, msg, path, query);
  arm_connection_faults (conn);
  emu_conn_unref (conn);
  if (query)
    g_hash_table_unref (query);
}

static void
set_json_response (SoupServerMessage * msg, guint status, char *body)
{
  soup_server_message_set_status (msg, status, NULL);
  soup_message_headers_append (soup_server_message_get_response_headers (msg),
      "Connection", "close");
  soup_server_message_set_response (msg, "application/json",
      SOUP_MEMORY_TAKE, body, strlen (body));
}

static gboolean
dialect_serves (const EmuDialect * d, const char *path)
{
  guint j;

  for (j = 0; d->paths[j]; j++)
    if (g_str_equal (path, d->paths[j]))
      return TRUE;
  return FALSE;
}

static const EmuDialect *
dialect_for_path (const char *path)
{
  guint i;

  for (i = 0; dialects[i]; i++)
    if (opt_dialect && g_str_equal (dialects[i]->name, opt_dialect)
        && dialect_serves (dialects[i], path))
      return dialects[i];
  for (i = 0; dialects[i]; i++)
    if (dialect_serves (dialects[i], path))
      return dialects[i];
  return NULL;
}

/* Runs before the upgrade: setting a status here prevents it. */
static void
server_http_cb (SoupServer * server, SoupServerMessage * msg,
    const char *path, GHashTable * query, gpointer user_data)
{
  const EmuDialect *dialect = dialect_for_path (path);
  guint index, i, status;
  char *body = NULL;

  if (!dialect) {
    body = g_strdup_printf ("{\"error\":{\"message\":\"Invalid URL (%s %s)\","
        "\"type\":\"invalid_request_error\",\"code\":null,\"param\":null}}",
        soup_server_message_get_method (msg), path);
    log_handshake (0, msg, "not-found", 404);
    set_json_response (msg, SOUP_STATUS_NOT_FOUND, body);
    return;
  }

  index = ++conn_counter;
  g_object_set_data (G_OBJECT (msg), "emu-conn-index",
      GUINT_TO_POINTER (index));

  for (i = 0; i < rejects->len; i++) {
    EmuReject *r = g_ptr_array_index (rejects, i);
    if (r->connection && r->connection != index)
      continue;
    body = dialect->http_error_body (r->status, r->type, r->code, r->message);
    if (r->retry_after >= 0) {
      char *ra = g_strdup_printf ("%d", r->retry_after);
      soup_message_headers_append (soup_server_message_get_response_headers
          (msg), "Retry-After", ra);
      g_free (ra);
    }
    log_handshake (index, msg, "reject", r->status);
    set_json_response (msg, r->status, body);
    return;
  }

  status = dialect->check_handshake (msg, path, query, &body);
  if (status) {
    log_handshake (index, msg, "reject", status);
    set_json_response (msg, status, body);
    return;
  }
  log_handshake (index, msg, "handshake", 0);
}

static void
default_http_cb (SoupServer * server, SoupServerMessage * msg,
    const char *path, GHashTable * query, gpointer user_data)
{
  char *body = g_strdup ("{\"error\":{\"message\":\"Invalid URL\","
      "\"type\":\"invalid_request_error\",\"code\":null,\"param\":null}}");

  log_handshake (0, msg, "not-found", 404);
  set_json_response (msg, SOUP_STATUS_NOT_FOUND, body);
}

const EmuReject *
emu_script_reject (guint index)
{
  guint i;

  for (i = 0; i < rejects->len; i++) {
    EmuReject *r = g_ptr_array_index (rejects, i);
    if (!r->connection || r->connection == index)
      return r;
  }
  return NULL;
}

/* The required key for every dialect (NULL = any non-empty key). */
const char *
emu_required_api_key (void)
{
  return opt_api_key;
}

/* ------------------------------------------------------------------------ */
/* Audio helpers */

guint
emu_format_rate (EmuAudioFormat fmt)
{
  return fmt == EMU_FMT_PCM16 ? 24000 : 8000;
}

/* G.711 as in ITU-T G.711 / the classic Sun reference implementation. */
gint16
emu_ulaw_decode (guint8 u)
{
  int t;

  u = ~u;
  t = ((u & 0x0f) << 3) + 0x84;
  t <<= (u & 0x70) >> 4;
  return (u & 0x80) ? (0x84 - t) : (t - 0x84);
}

guint8
emu_ulaw_encode (gint16 pcm)
{
  static const int seg_uend[8] =
      { 0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF, 0x1FFF };
  int mask, seg, v = pcm >> 2;

  if (v < 0) {
    v = -v;
    mask = 0x7F;
  } else {
    mask = 0xFF;
  }
  if (v > 8159)
    v = 8159;
  v += 0x84 >> 2;
  for (seg = 0; seg < 8 && v > seg_uend[seg]; seg++);
  if (seg >= 8)
    return 0x7F ^ mask;
  return ((seg << 4) | ((v >> (seg + 1)) & 0xF)) ^ mask;
}

gint16
emu_alaw_decode (guint8 a)
{
  int t, seg;

  a ^= 0x55;
  t = (a & 0x0f) << 4;
  seg = (a & 0x70) >> 4;
  switch (seg) {
    case 0:
      t += 8;
      break;
    case 1:
      t += 0x108;
      break;
    default:
      t += 0x108;
      t <<= seg - 1;
  }
  return (a & 0x80) ? t : -t;
}

guint8
emu_alaw_encode (gint16 pcm)
{
  static const int seg_aend[8] =
      { 0x1F, 0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF };
  int mask, seg, v = pcm >> 3;
  guint8 aval;

  if (v >= 0) {
    mask = 0xD5;
  } else {
    mask = 0x55;
    v = -v - 1;
  }
  for (seg = 0; seg < 8 && v > seg_aend[seg]; seg++);
  if (seg >= 8)
    return 0x7F ^ mask;
  aval = seg << 4;
  if (seg < 2)
    aval |= (v >> 1) & 0xf;
  else
    aval |= (v >> seg) & 0xf;
  return aval ^ mask;
}

/* Wire bytes -> linear samples at the format's own rate.  A trailing odd
 * PCM byte is dropped (the caller carries it over). */
void
emu_audio_decode (EmuAudioFormat fmt, const guint8 * data, gsize len,
    GArray * native)
{
  gsize i;

  switch (fmt) {
    case EMU_FMT_PCM16:
      for (i = 0; i + 1 < len; i += 2) {
        gint16 s = (gint16) (data[i] | (data[i + 1] << 8));
        g_array_append_val (native, s);
      }
      break;
    case EMU_FMT_PCMU:
      for (i = 0; i < len; i++) {
        gint16 s = emu_ulaw_decode (data[i]);
        g_array_append_val (native, s);
      }
      break;
    case EMU_FMT_PCMA:
      for (i = 0; i < len; i++) {
        gint16 s = emu_alaw_decode (data[i]);
        g_array_append_val (native, s);
      }
      break;
  }
}

/* 8 kHz -> 24 kHz by repeating each sample three times: crude, but exact to
 * undo (emu_audio_encode keeps every third sample), so a G.711 echo gives
 * back the caller's own code words. */
void
emu_audio_to_internal (EmuAudioFormat fmt, const gint16 * native, gsize n,
    GArray * internal)
{
  gsize i;

  if (fmt == EMU_FMT_PCM16) {
    g_array_append_vals (internal, native, n);
    return;
  }
  for (i = 0; i < n; i++) {
    g_array_append_val (internal, native[i]);
    g_array_append_val (internal, native[i]);
    g_array_append_val (internal, native[i]);
  }
}

guint8 *
emu_audio_encode (EmuAudioFormat fmt, const gint16 * internal, gsize n,
    gsize * out_len)
{
  guint8 *out;
  gsize i;

  if (fmt == EMU_FMT_PCM16) {
    out = g_malloc (n * 2 + 1);
    for (i = 0; i < n; i++) {
      guint16 v = (guint16) internal[i];
      out[2 * i] = v & 0xff;
      out[2 * i + 1] = v >> 8;
    }
    *out_len = n * 2;
    return out;
  }
  out = g_malloc (n / 3 + 1);
  for (i = 0; i < n / 3; i++) {
    gint16 s = internal[3 * i];
    out[i] = fmt == EMU_FMT_PCMU ? emu_ulaw_encode (s) : emu_alaw_encode (s);
  }
  *out_len = n / 3;
  return out;
}

/* Zero-order hold between a PCM rate and EMU_RATE, on absolute sample
 * counts so chunk boundaries do not matter: internal sample k is native
 * sample floor (k * rate / EMU_RATE).  At 8 kHz that is the x3 repeat of
 * emu_audio_to_internal, at 24 kHz the identity. */
gsize
emu_resample_to_internal (EmuResampler * rs, const gint16 * native, gsize n,
    GArray * internal)
{
  guint64 end = rs->native + n;
  gsize added = 0;

  for (;;) {
    guint64 src = rs->internal * rs->rate / EMU_RATE;
    if (src >= end)
      break;
    g_array_append_val (internal, native[src - rs->native]);
    rs->internal++;
    added++;
  }
  rs->native = end;
  return added;
}

/* emu_audio_encode at any PCM rate; @internal starts on a sample whose
 * time is a whole number of native samples (chunks of 100 ms are) */
guint8 *
emu_audio_encode_at (EmuAudioFormat fmt, guint rate, const gint16 * internal,
    gsize n, gsize * out_len)
{
  guint8 *out;
  gsize i, m;

  if (fmt != EMU_FMT_PCM16 || rate == EMU_RATE)
    return emu_audio_encode (fmt, internal, n, out_len);
  m = (gsize) ((guint64) n * rate / EMU_RATE);
  out = g_malloc (m * 2 + 1);
  for (i = 0; i < m; i++) {
    guint16 v = (guint16) internal[(guint64) i * EMU_RATE / rate];
    out[2 * i] = v & 0xff;
    out[2 * i + 1] = v >> 8;
  }
  *out_len = m * 2;
  return out;
}

double
emu_frame_dbfs (const gint16 * s, gsize n)
{
  double acc = 0;
  gsize i;

  if (n == 0)
    return -200.0;
  for (i = 0; i < n; i++)
    acc += (double) s[i] * s[i];
  acc /= n;
  if (acc <= 0)
    return -200.0;
  return 10.0 * log10 (acc / (32768.0 * 32768.0));
}

/* Energy VAD mapping (documented in README.md): a 10 ms frame is voiced
 * when its RMS level in dBFS exceeds -50 + 30 * threshold, i.e. -50 dBFS at
 * threshold 0, -35 dBFS at the default 0.5, -20 dBFS at 1.0. */
double
emu_vad_threshold_dbfs (double threshold)
{
  return -50.0 + 30.0 * CLAMP (threshold, 0.0, 1.0);
}

void
emu_sine (GArray * internal, guint ms, double freq, double amplitude)
{
  guint n = ms * EMU_SAMPLES_PER_MS, i;

  for (i = 0; i < n; i++) {
    gint16 s = (gint16) lrint (amplitude * sin (2.0 * G_PI * freq * i /
            EMU_RATE));
    g_array_append_val (internal, s);
  }
}

/* g_base64_decode accepts garbage silently; the real API rejects it. */
guchar *
emu_base64_decode_checked (const char *text, gsize * out_len)
{
  const char *p;
  gsize len = 0, pad = 0;

  for (p = text; *p; p++) {
    if (g_ascii_isalnum (*p) || *p == '+' || *p == '/') {
      if (pad)
        return NULL;
      len++;
    } else if (*p == '=') {
      pad++;
      if (pad > 2)
        return NULL;
    } else if (!g_ascii_isspace (*p)) {
      return NULL;
    }
  }
  if ((len + pad) % 4 == 1 || (pad && (len + pad) % 4 != 0))
    return NULL;
  return g_base64_decode (text, out_len);
}

/* ------------------------------------------------------------------------ */
/* main */

static gboolean
quit_cb (gpointer data)
{
  g_main_loop_quit (main_loop);
  return G_SOURCE_REMOVE;
}

static gboolean
signal_cb (gpointer data)
{
  GList *l, *copy = g_list_copy (live_conns);

  /* Going away like the real servers do on shutdown, then leave soon
   * even if peers never answer the close. */
  for (l = copy; l; l = l->next)
    emu_conn_close (l->data, SOUP_WEBSOCKET_CLOSE_GOING_AWAY, NULL);
  g_list_free (copy);
  g_timeout_add (200, quit_cb, NULL);
  return G_SOURCE_REMOVE;
}

int
main (int argc, char **argv)
{
  gint port = 0;
  char *tls_cert = NULL, *tls_key = NULL, *script_path = NULL;
  gint first_delay = 0;
  gint go_away_every = -1, go_away_left = -1, max_conn = -1, ttl = -1;
  gint setup_delay = -1;
  gint vad_start_delay = -1;
  gboolean allow_resume = FALSE;
#ifdef HAVE_NOVA
  gint nova_port = -1, nova_limit_ms = 8 * 60 * 1000;
  gint nova_input_timeout_ms = 0, nova_read_pause_ms = 0;
  char *aws_access_key = NULL, *aws_secret_key = NULL;
  char *aws_session_token = NULL;
  struct _EmuH2Server *nova_server = NULL;
#endif
  GTlsCertificate *tls_certificate = NULL;
  GOptionEntry entries[] = {
    {"port", 'p', 0, G_OPTION_ARG_INT, &port,
        "TCP port on 127.0.0.1 (0 = pick a free one)", "N"},
    {"tls-cert", 0, 0, G_OPTION_ARG_FILENAME, &tls_cert,
        "PEM certificate (chain) for wss://", "FILE"},
    {"tls-key", 0, 0, G_OPTION_ARG_FILENAME, &tls_key,
        "PEM private key for --tls-cert", "FILE"},
    {"script", 's', 0, G_OPTION_ARG_FILENAME, &script_path,
        "JSON scenario/fault script (see README.md)", "FILE"},
    {"log", 'l', 0, G_OPTION_ARG_FILENAME, &log_path,
        "JSON-lines event log", "FILE"},
    {"api-key", 0, 0, G_OPTION_ARG_STRING, &opt_api_key,
        "Only accept this API key (default: any non-empty key)", "KEY"},
    {"first-audio-delay-ms", 0, 0, G_OPTION_ARG_INT, &first_delay,
        "Delay the first audio delta of every response", "N"},
    {"pace-audio", 0, 0, G_OPTION_ARG_NONE, &opt_pace_audio,
        "Send audio deltas in real time (100 ms every 100 ms)", NULL},
    {"dialect", 0, 0, G_OPTION_ARG_STRING, &opt_dialect,
        "Dialect serving the paths several share (openai, grok)", "NAME"},
    {"go-away-every-ms", 0, 0, G_OPTION_ARG_INT, &go_away_every,
          "Gemini: goAway N ms after each connection opens, then the close",
        "N"},
    {"go-away-time-left-ms", 0, 0, G_OPTION_ARG_INT, &go_away_left,
        "Gemini: timeLeft of goAway (default 10000)", "N"},
    {"max-connection-ms", 0, 0, G_OPTION_ARG_INT, &max_conn,
        "Gemini: connection lifetime limit (goAway timeLeft before it)", "N"},
    {"resumption-ttl-ms", 0, 0, G_OPTION_ARG_INT, &ttl,
        "Gemini: resumption handle lifetime (default 2 h)", "N"},
    {"setup-complete-delay-ms", 0, 0, G_OPTION_ARG_INT, &setup_delay,
        "Gemini: delay setupComplete by N ms", "N"},
    {"vad-start-delay-ms", 0, 0, G_OPTION_ARG_INT, &vad_start_delay,
        "OpenAI/Grok: the server VAD reports speech_started N ms of audio "
          "after the speech began (a detection latency)", "N"},
    {"allow-resume-while-open", 0, 0, G_OPTION_ARG_NONE, &allow_resume,
        "Gemini: accept a resume while the old socket is still open", NULL},
#ifdef HAVE_NOVA
    {"nova-port", 0, 0, G_OPTION_ARG_INT, &nova_port,
          "Also serve the Nova dialect (HTTP/2) on this port (0 = a free one)",
        "N"},
    {"aws-access-key-id", 0, 0, G_OPTION_ARG_STRING, &aws_access_key,
        "Nova: the only access key accepted (default AKIDEXAMPLE)", "ID"},
    {"aws-secret-access-key", 0, 0, G_OPTION_ARG_STRING, &aws_secret_key,
        "Nova: its secret (default the SigV4 test-suite secret)", "KEY"},
    {"aws-session-token", 0, 0, G_OPTION_ARG_STRING, &aws_session_token,
        "Nova: require this x-amz-security-token", "TOKEN"},
    {"nova-session-limit-ms", 0, 0, G_OPTION_ARG_INT, &nova_limit_ms,
        "Nova: connection limit (default 480000, 8 minutes)", "N"},
    {"nova-input-timeout-ms", 0, 0, G_OPTION_ARG_INT, &nova_input_timeout_ms,
        "Nova: end a session whose audio input stalls this long with "
          "validationException (default 0: off)", "N"},
    {"nova-read-pause-ms", 0, 0, G_OPTION_ARG_INT, &nova_read_pause_ms,
        "Nova: stop reading a connection for N ms at its first audioInput "
          "(a client whose writes block)", "N"},
#endif
    {NULL}
  };
  GOptionContext *ctx;
  GError *error = NULL;
  SoupServer *server;
  GSocketAddress *addr;
  GSList *uris;
  guint actual_port;
  gboolean tls;
  guint i, j;

  start_us = g_get_monotonic_time ();
  /* Writing to a dropped socket must not kill us. */
  signal (SIGPIPE, SIG_IGN);

  ctx = g_option_context_new ("- loopback speech-to-speech API emulator");
  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!g_option_context_parse (ctx, &argc, &argv, &error)) {
    g_printerr ("s2s-emulator: %s\n", error->message);
    return 2;
  }
  g_option_context_free (ctx);
  if (port < 0 || port > 65535 || first_delay < 0) {
    g_printerr ("s2s-emulator: invalid --port or --first-audio-delay-ms\n");
    return 2;
  }
  if (!tls_cert != !tls_key) {
    g_printerr ("s2s-emulator: --tls-cert and --tls-key go together\n");
    return 2;
  }
  opt_first_audio_delay_ms = first_delay;
  tls = tls_cert != NULL;
  if (opt_dialect) {
    for (i = 0; dialects[i]; i++)
      if (g_str_equal (dialects[i]->name, opt_dialect))
        break;
    if (!dialects[i]) {
      g_printerr ("s2s-emulator: unknown --dialect %s\n", opt_dialect);
      return 2;
    }
  }

  faults = g_ptr_array_new_with_free_func ((GDestroyNotify) fault_free);
  rejects = g_ptr_array_new_with_free_func ((GDestroyNotify) reject_free);
  if (script_path && !load_script (script_path, &error)) {
    g_printerr ("s2s-emulator: script %s: %s\n", script_path, error->message);
    return 2;
  }
  if (go_away_every >= 0)
    emu_options.go_away_every_ms = go_away_every;
  if (go_away_left >= 0)
    emu_options.go_away_time_left_ms = go_away_left;
  if (max_conn >= 0)
    emu_options.max_connection_ms = max_conn;
  if (ttl >= 0)
    emu_options.resumption_ttl_ms = ttl;
  if (setup_delay >= 0)
    emu_options.setup_complete_delay_ms = setup_delay;
  if (vad_start_delay >= 0)
    emu_options.vad_start_delay_ms = vad_start_delay;
  if (allow_resume)
    emu_options.allow_resume_while_open = TRUE;
  if (log_path) {
    log_file = fopen (log_path, "w");
    if (!log_file) {
      g_printerr ("s2s-emulator: cannot open log %s\n", log_path);
      return 2;
    }
  }

  server = soup_server_new ("server-header", "s2s-emulator", NULL);
  if (tls) {
    GTlsCertificate *cert =
        g_tls_certificate_new_from_files (tls_cert, tls_key, &error);
    if (!cert) {
      g_printerr ("s2s-emulator: TLS: %s\n", error->message);
      return 2;
    }
    soup_server_set_tls_certificate (server, cert);
    tls_certificate = cert;
  }

  soup_server_add_handler (server, NULL, default_http_cb, NULL, NULL);
  for (i = 0; dialects[i]; i++) {
    for (j = 0; dialects[i]->paths[j]; j++) {
      if (dialect_for_path (dialects[i]->paths[j]) != dialects[i])
        continue;
      soup_server_add_handler (server, dialects[i]->paths[j],
          server_http_cb, (gpointer) dialects[i], NULL);
      /* No protocol list: soup would refuse clients that offer only
       * credential subprotocols; check_handshake echoes "realtime". */
      soup_server_add_websocket_handler (server, dialects[i]->paths[j],
          NULL, NULL, server_ws_cb, (gpointer) dialects[i], NULL);
    }
  }

  addr = g_inet_socket_address_new_from_string ("127.0.0.1", port);
  if (!soup_server_listen (server, addr, tls ? SOUP_SERVER_LISTEN_HTTPS : 0,
          &error)) {
    g_printerr ("s2s-emulator: listen: %s\n", error->message);
    return 1;
  }
  g_object_unref (addr);
  uris = soup_server_get_uris (server);
  actual_port = uris ? g_uri_get_port (uris->data) : 0;
  g_slist_free_full (uris, (GDestroyNotify) g_uri_unref);

  printf ("%s://127.0.0.1:%u\n", tls ? "wss" : "ws", actual_port);
#ifdef HAVE_NOVA
  /* the Nova dialect speaks HTTP/2 on its own port (second stdout line) */
  if (nova_port >= 0) {
    if (nova_port > 65535 || nova_limit_ms < 0 || nova_input_timeout_ms < 0
        || nova_read_pause_ms < 0) {
      g_printerr ("s2s-emulator: invalid --nova-port or "
          "--nova-session-limit-ms\n");
      return 2;
    }
    nova_server = emu_nova_listen (nova_port, tls_certificate,
        aws_access_key ? aws_access_key : "AKIDEXAMPLE",
        aws_secret_key ? aws_secret_key :
        "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", aws_session_token,
        nova_limit_ms, nova_input_timeout_ms, nova_read_pause_ms, &error);
    if (!nova_server) {
      g_printerr ("s2s-emulator: listen (nova): %s\n", error->message);
      return 1;
    }
    printf ("nova %s://127.0.0.1:%u\n", tls ? "https" : "http",
        emu_h2_server_port (nova_server));
  }
#endif
  fflush (stdout);
  emu_log_conn_note (0, "listening", NULL);

  main_loop = g_main_loop_new (NULL, FALSE);
  g_unix_signal_add (SIGINT, signal_cb, NULL);
  g_unix_signal_add (SIGTERM, signal_cb, NULL);
  g_main_loop_run (main_loop);

  emu_log_conn_note (0, "exit", NULL);
#ifdef HAVE_NOVA
  emu_h2_server_free (nova_server);
#endif
  g_clear_object (&tls_certificate);
  soup_server_disconnect (server);
  g_object_unref (server);
  g_main_loop_unref (main_loop);
  if (log_file)
    fclose (log_file);
  g_ptr_array_unref (faults);
  g_ptr_array_unref (rejects);
  if (script)
    json_object_unref (script);
  return 0;
}
