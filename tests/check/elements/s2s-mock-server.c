/* gst-s2s
 * Copyright (C) 2026 gst-s2s developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * In-process mock of the OpenAI Realtime GA WebSocket server, for the unit
 * tests. Everything that touches libsoup runs on the mock's own thread,
 * whose GMainContext is its thread-default context before the server
 * listens (libsoup 3 attaches its sources to the caller's context). Test
 * threads talk to it through g_main_context_invoke() and wait for the
 * result, so server events go out strictly in the order they were asked for.
 */

#include <string.h>
#include <stdarg.h>
#include <libsoup/soup.h>

#include "s2s-mock-server.h"

struct _S2SMockServer
{
  /* options */
  gchar *require_key;
  gboolean no_session_updated;
  guint session_updated_delay_ms;
  gboolean gemini;
  gboolean refuse_resume_while_open;

  GThread *thread;
  GMainContext *ctx;
  GMainLoop *loop;
  SoupServer *server;           /* server thread only */
  GPtrArray *conns;             /* server thread only: every connection */
  SoupWebsocketConnection *conn;        /* server thread only: the latest */
  guint port;

  GMutex lock;
  GCond cond;
  gboolean started;
  gboolean shut_down;
  guint n_requests;
  guint n_connections;
  gchar *last_auth;
  gint64 session_updated_time;
  GPtrArray *log;               /* JsonObject, every client event */
  GAsyncQueue *events;          /* JsonObject, for wait_for_event */
};

typedef enum
{
  OP_TEXT,
  OP_BINARY,
  OP_DROP,
  OP_CLOSE,
} OpKind;

typedef struct
{
  S2SMockServer *mock;
  OpKind kind;
  const gchar *text;
  gushort code;
  gboolean done;
  gboolean ok;
} MockOp;

/* ------------------------------------------------------------------------ */
/* Server thread */

static void
send_text_on_server (S2SMockServer * m, const gchar * text)
{
  if (m->conn && soup_websocket_connection_get_state (m->conn) ==
      SOUP_WEBSOCKET_STATE_OPEN)
    soup_websocket_connection_send_text (m->conn, text);
}

static gboolean
conn_is_open (SoupWebsocketConnection * c)
{
  return c && soup_websocket_connection_get_state (c) ==
      SOUP_WEBSOCKET_STATE_OPEN;
}

static void
send_binary_on (SoupWebsocketConnection * c, const gchar * text)
{
  if (conn_is_open (c))
    soup_websocket_connection_send_binary (c, text, strlen (text));
}

static void
send_session_updated (S2SMockServer * m)
{
  if (m->gemini)
    send_binary_on (m->conn, "{\"setupComplete\":{}}");
  else
    send_text_on_server (m, "{\"type\":\"session.updated\",\"event_id\":"
        "\"event_mock_upd\",\"session\":{\"id\":\"sess_mock\",\"type\":"
        "\"realtime\",\"object\":\"realtime.session\"}}");
  g_mutex_lock (&m->lock);
  m->session_updated_time = g_get_monotonic_time ();
  g_mutex_unlock (&m->lock);
}

static gboolean
delayed_session_updated_cb (gpointer data)
{
  send_session_updated (data);
  return G_SOURCE_REMOVE;
}

static void
record_event (S2SMockServer * m, JsonObject * ev, guint conn_index)
{
  if (!json_object_has_member (ev, "type") && json_object_get_size (ev) == 1) {
    GList *names = json_object_get_members (ev);
    json_object_set_string_member (ev, "type", names->data);
    g_list_free (names);
  }
  json_object_set_int_member (ev, "_mock_conn", conn_index);
  g_mutex_lock (&m->lock);
  json_object_set_int_member (ev, "_mock_time_us", g_get_monotonic_time ());
  json_object_set_boolean_member (ev, "_mock_after_ready",
      m->session_updated_time != 0);
  g_ptr_array_add (m->log, json_object_ref (ev));
  g_cond_broadcast (&m->cond);
  g_mutex_unlock (&m->lock);
  g_async_queue_push (m->events, ev);
}

static void
on_message (SoupWebsocketConnection * conn, gint type, GBytes * message,
    gpointer user_data)
{
  S2SMockServer *m = user_data;
  JsonParser *parser = json_parser_new ();
  gsize size;
  const gchar *data = g_bytes_get_data (message, &size);
  JsonObject *ev = NULL;
  const gchar *ev_type = NULL;
  guint index = GPOINTER_TO_UINT (g_object_get_data (G_OBJECT (conn),
          "mock-index"));

  if (type == SOUP_WEBSOCKET_DATA_TEXT &&
      json_parser_load_from_data (parser, data, size, NULL) &&
      json_parser_get_root (parser) &&
      JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser))) {
    ev = json_object_ref (json_node_get_object (json_parser_get_root (parser)));
    ev_type = json_object_get_string_member_with_default (ev, "type", NULL);
  } else {
    gchar *raw = g_strndup (data, size);
    ev = json_object_new ();
    json_object_set_string_member (ev, "type", "<raw>");
    json_object_set_string_member (ev, "raw", raw);
    json_object_set_boolean_member (ev, "binary",
        type == SOUP_WEBSOCKET_DATA_BINARY);
    g_free (raw);
  }
  g_object_unref (parser);

  if (m->gemini && ev_type == NULL && json_object_has_member (ev, "setup"))
    ev_type = "session.update";
  if (m->gemini && g_strcmp0 (ev_type, "session.update") == 0 &&
      m->refuse_resume_while_open) {
    JsonObject *sr =
        json_object_get_object_member (json_object_get_object_member (ev,
            "setup"), "sessionResumption");
    gboolean old_open = FALSE;
    guint i;

    for (i = 0; i < m->conns->len; i++)
      if (g_ptr_array_index (m->conns, i) != conn &&
          conn_is_open (g_ptr_array_index (m->conns, i)))
        old_open = TRUE;
    if (sr && json_object_has_member (sr, "handle") && old_open) {
      record_event (m, ev, index);
      soup_websocket_connection_close (conn, 1011, "Internal error occurred.");
      return;
    }
  }

  /* the reply to session.update goes after the update is logged */
  if (g_strcmp0 (ev_type, "session.update") == 0) {
    record_event (m, ev, index);
    if (m->no_session_updated)
      return;
    if (m->session_updated_delay_ms > 0) {
      GSource *src = g_timeout_source_new (m->session_updated_delay_ms);
      g_source_set_callback (src, delayed_session_updated_cb, m, NULL);
      g_source_attach (src, m->ctx);
      g_source_unref (src);
    } else {
      send_session_updated (m);
    }
    return;
  }
  record_event (m, ev, index);
}

static void
on_closed (SoupWebsocketConnection * conn, gpointer user_data)
{
  S2SMockServer *m = user_data;

  if (m->conn == conn)
    m->conn = NULL;
}

static void
on_error (SoupWebsocketConnection * conn, GError * error, gpointer user_data)
{
  /* expected when a test drops the stream; nothing to do */
}

/* Runs before the upgrade: a status set here refuses it */
static void
http_cb (SoupServer * server, SoupServerMessage * msg, const char *path,
    GHashTable * query, gpointer user_data)
{
  S2SMockServer *m = user_data;
  const gchar *auth = soup_message_headers_get_one
      (soup_server_message_get_request_headers (msg), "Authorization");
  const gchar *goog = soup_message_headers_get_one
      (soup_server_message_get_request_headers (msg), "x-goog-api-key");
  gboolean refuse = FALSE;

  if (m->gemini && auth == NULL)
    auth = goog;

  g_mutex_lock (&m->lock);
  m->n_requests++;
  g_free (m->last_auth);
  m->last_auth = g_strdup (auth);
  g_cond_broadcast (&m->cond);
  g_mutex_unlock (&m->lock);

  if (m->require_key) {
    gchar *want = m->gemini && auth == goog ? g_strdup (m->require_key) :
        g_strdup_printf ("Bearer %s", m->require_key);
    refuse = g_strcmp0 (auth, want) != 0;
    g_free (want);
  }
  if (refuse) {
    /* as OpenAI answers: the key it got, masked but for its first and
     * last characters */
    const gchar *got = auth && g_str_has_prefix (auth, "Bearer ") ?
        auth + 7 : (auth ? auth : "");
    gsize n = strlen (got);
    gchar *masked = n > 10 ? g_strdup_printf ("%.6s%s%s", got,
        "**************", got + n - 4) : g_strdup ("***");
    gchar *body = g_strdup_printf ("{\"error\":{\"message\":\"Incorrect API "
        "key provided: %s. You can find your API key at "
        "https://platform.openai.com/account/api-keys.\",\"type\":"
        "\"invalid_request_error\",\"code\":\"invalid_api_key\","
        "\"param\":null}}", masked);
    g_free (masked);
    soup_server_message_set_status (msg, SOUP_STATUS_UNAUTHORIZED, NULL);
    soup_message_headers_append (soup_server_message_get_response_headers
        (msg), "Connection", "close");
    soup_server_message_set_response (msg, "application/json",
        SOUP_MEMORY_TAKE, body, strlen (body));
  }
}

static void
ws_cb (SoupServer * server, SoupServerMessage * msg, const char *path,
    SoupWebsocketConnection * conn, gpointer user_data)
{
  S2SMockServer *m = user_data;

  g_ptr_array_add (m->conns, g_object_ref (conn));
  g_object_set_data (G_OBJECT (conn), "mock-index",
      GUINT_TO_POINTER (m->conns->len));
  m->conn = conn;
  soup_websocket_connection_set_max_incoming_payload_size (conn, 16 << 20);
  soup_websocket_connection_set_keepalive_interval (conn, 0);
  g_signal_connect (conn, "message", G_CALLBACK (on_message), m);
  g_signal_connect (conn, "closed", G_CALLBACK (on_closed), m);
  g_signal_connect (conn, "error", G_CALLBACK (on_error), m);

  g_mutex_lock (&m->lock);
  m->n_connections++;
  g_cond_broadcast (&m->cond);
  g_mutex_unlock (&m->lock);

  if (!m->gemini)
    send_text_on_server (m, "{\"type\":\"session.created\",\"event_id\":"
        "\"event_mock_created\",\"session\":{\"id\":\"sess_mock\",\"type\":"
        "\"realtime\",\"object\":\"realtime.session\"}}");
}

static gboolean
op_cb (gpointer data)
{
  MockOp *op = data;
  S2SMockServer *m = op->mock;
  gboolean ok = FALSE;

  if (m->conn && soup_websocket_connection_get_state (m->conn) ==
      SOUP_WEBSOCKET_STATE_OPEN) {
    ok = TRUE;
    switch (op->kind) {
      case OP_TEXT:
        soup_websocket_connection_send_text (m->conn, op->text);
        break;
      case OP_BINARY:
        send_binary_on (m->conn, op->text);
        break;
      case OP_DROP:
        g_io_stream_close (soup_websocket_connection_get_io_stream (m->conn),
            NULL, NULL);
        break;
      case OP_CLOSE:
        soup_websocket_connection_close (m->conn, op->code, op->text);
        break;
    }
  }

  g_mutex_lock (&m->lock);
  op->ok = ok;
  op->done = TRUE;
  g_cond_broadcast (&m->cond);
  g_mutex_unlock (&m->lock);
  return G_SOURCE_REMOVE;
}

static gboolean
shutdown_cb (gpointer data)
{
  S2SMockServer *m = data;
  guint i;

  for (i = 0; i < m->conns->len; i++) {
    SoupWebsocketConnection *c = g_ptr_array_index (m->conns, i);

    g_signal_handlers_disconnect_by_data (c, m);
    if (soup_websocket_connection_get_state (c) == SOUP_WEBSOCKET_STATE_OPEN)
      soup_websocket_connection_close (c, SOUP_WEBSOCKET_CLOSE_GOING_AWAY,
          NULL);
    g_io_stream_close (soup_websocket_connection_get_io_stream (c), NULL, NULL);
  }
  g_ptr_array_set_size (m->conns, 0);
  m->conn = NULL;
  soup_server_disconnect (m->server);
  g_main_loop_quit (m->loop);
  return G_SOURCE_REMOVE;
}

static gpointer
server_thread (gpointer data)
{
  S2SMockServer *m = data;
  GError *err = NULL;
  GSList *uris;
  gint64 end;

  /* before listening: libsoup attaches its sources to this context */
  g_main_context_push_thread_default (m->ctx);

  m->server = soup_server_new ("server-header", "s2s-mock", NULL);
  soup_server_add_handler (m->server, "/v1/realtime", http_cb, m, NULL);
  soup_server_add_websocket_handler (m->server, "/v1/realtime", NULL, NULL,
      ws_cb, m, NULL);
  soup_server_add_handler (m->server, S2S_MOCK_GEMINI_PATH, http_cb, m, NULL);
  soup_server_add_websocket_handler (m->server, S2S_MOCK_GEMINI_PATH, NULL,
      NULL, ws_cb, m, NULL);
  soup_server_add_handler (m->server, S2S_MOCK_VERTEX_PATH, http_cb, m, NULL);
  soup_server_add_websocket_handler (m->server, S2S_MOCK_VERTEX_PATH, NULL,
      NULL, ws_cb, m, NULL);
  if (!soup_server_listen_local (m->server, 0, SOUP_SERVER_LISTEN_IPV4_ONLY,
          &err))
    g_error ("mock server: listen: %s", err->message);
  uris = soup_server_get_uris (m->server);
  g_assert (uris != NULL);
  m->port = g_uri_get_port (uris->data);
  g_slist_free_full (uris, (GDestroyNotify) g_uri_unref);

  g_mutex_lock (&m->lock);
  m->started = TRUE;
  g_cond_broadcast (&m->cond);
  g_mutex_unlock (&m->lock);

  g_main_loop_run (m->loop);

  /* let closes and cancellations finish; bounded */
  end = g_get_monotonic_time () + 50 * G_TIME_SPAN_MILLISECOND;
  while (g_main_context_pending (m->ctx) && g_get_monotonic_time () < end)
    g_main_context_iteration (m->ctx, FALSE);

  g_clear_object (&m->server);
  g_main_context_pop_thread_default (m->ctx);
  return NULL;
}

/* ------------------------------------------------------------------------ */
/* Test thread API */

S2SMockServer *
s2s_mock_server_new (const S2SMockOptions * opts)
{
  S2SMockServer *m = g_new0 (S2SMockServer, 1);

  if (opts) {
    m->require_key = g_strdup (opts->require_key);
    m->no_session_updated = opts->no_session_updated;
    m->session_updated_delay_ms = opts->session_updated_delay_ms;
    m->gemini = opts->gemini;
    m->refuse_resume_while_open = opts->refuse_resume_while_open;
  }
  g_mutex_init (&m->lock);
  g_cond_init (&m->cond);
  m->conns = g_ptr_array_new_with_free_func (g_object_unref);
  m->log = g_ptr_array_new_with_free_func ((GDestroyNotify) json_object_unref);
  m->events = g_async_queue_new_full ((GDestroyNotify) json_object_unref);
  m->ctx = g_main_context_new ();
  m->loop = g_main_loop_new (m->ctx, FALSE);
  m->thread = g_thread_new ("s2s-mock", server_thread, m);

  g_mutex_lock (&m->lock);
  while (!m->started)
    g_cond_wait (&m->cond, &m->lock);
  g_mutex_unlock (&m->lock);
  return m;
}

void
s2s_mock_server_free (S2SMockServer * m)
{
  if (m == NULL)
    return;
  g_main_context_invoke (m->ctx, shutdown_cb, m);
  g_thread_join (m->thread);
  g_main_loop_unref (m->loop);
  g_main_context_unref (m->ctx);
  g_ptr_array_unref (m->conns);
  g_ptr_array_unref (m->log);
  g_async_queue_unref (m->events);
  g_free (m->last_auth);
  g_free (m->require_key);
  g_mutex_clear (&m->lock);
  g_cond_clear (&m->cond);
  g_free (m);
}

guint
s2s_mock_server_get_port (S2SMockServer * m)
{
  return m->port;
}

gchar *
s2s_mock_server_get_url (S2SMockServer * m)
{
  return g_strdup_printf ("ws://127.0.0.1:%u", m->port);
}

guint
s2s_mock_server_get_n_requests (S2SMockServer * m)
{
  guint n;

  g_mutex_lock (&m->lock);
  n = m->n_requests;
  g_mutex_unlock (&m->lock);
  return n;
}

guint
s2s_mock_server_get_n_connections (S2SMockServer * m)
{
  guint n;

  g_mutex_lock (&m->lock);
  n = m->n_connections;
  g_mutex_unlock (&m->lock);
  return n;
}

gboolean
s2s_mock_server_wait_connections (S2SMockServer * m, guint n, guint timeout_ms)
{
  gint64 end = g_get_monotonic_time () + timeout_ms * G_TIME_SPAN_MILLISECOND;
  gboolean ok;

  g_mutex_lock (&m->lock);
  while (m->n_connections < n && g_cond_wait_until (&m->cond, &m->lock, end));
  ok = m->n_connections >= n;
  g_mutex_unlock (&m->lock);
  return ok;
}

gchar *
s2s_mock_server_get_last_authorization (S2SMockServer * m)
{
  gchar *s;

  g_mutex_lock (&m->lock);
  s = g_strdup (m->last_auth);
  g_mutex_unlock (&m->lock);
  return s;
}

gint64
s2s_mock_server_get_session_updated_time (S2SMockServer * m)
{
  gint64 t;

  g_mutex_lock (&m->lock);
  t = m->session_updated_time;
  g_mutex_unlock (&m->lock);
  return t;
}

JsonObject *
s2s_mock_server_wait_for_event (S2SMockServer * m, const gchar * type,
    guint timeout_ms)
{
  gint64 end = g_get_monotonic_time () + timeout_ms * G_TIME_SPAN_MILLISECOND;

  for (;;) {
    gint64 left = end - g_get_monotonic_time ();
    JsonObject *ev;

    if (left <= 0)
      return NULL;
    ev = g_async_queue_timeout_pop (m->events, left);
    if (ev == NULL)
      return NULL;
    if (g_strcmp0 (json_object_get_string_member_with_default (ev, "type",
                NULL), type) == 0)
      return ev;
    json_object_unref (ev);
  }
}

void
s2s_mock_server_clear_log (S2SMockServer * m)
{
  JsonObject *ev;

  g_mutex_lock (&m->lock);
  g_ptr_array_set_size (m->log, 0);
  g_mutex_unlock (&m->lock);
  while ((ev = g_async_queue_try_pop (m->events)))
    json_object_unref (ev);
}

GPtrArray *
s2s_mock_server_get_log (S2SMockServer * m)
{
  GPtrArray *copy = g_ptr_array_new_with_free_func ((GDestroyNotify)
      json_object_unref);
  guint i;

  g_mutex_lock (&m->lock);
  for (i = 0; i < m->log->len; i++)
    g_ptr_array_add (copy, json_object_ref (g_ptr_array_index (m->log, i)));
  g_mutex_unlock (&m->lock);
  return copy;
}

guint
s2s_mock_server_count_events (S2SMockServer * m, const gchar * type)
{
  guint i, n = 0;

  g_mutex_lock (&m->lock);
  for (i = 0; i < m->log->len; i++) {
    JsonObject *ev = g_ptr_array_index (m->log, i);
    if (g_strcmp0 (json_object_get_string_member_with_default (ev, "type",
                NULL), type) == 0)
      n++;
  }
  g_mutex_unlock (&m->lock);
  return n;
}

static gboolean
run_op (S2SMockServer * m, OpKind kind, const gchar * text, gushort code)
{
  MockOp op = { m, kind, text, code, FALSE, FALSE };

  g_main_context_invoke (m->ctx, op_cb, &op);
  g_mutex_lock (&m->lock);
  while (!op.done)
    g_cond_wait (&m->cond, &m->lock);
  g_mutex_unlock (&m->lock);
  return op.ok;
}

gboolean
s2s_mock_server_send (S2SMockServer * m, const gchar * json)
{
  return run_op (m, OP_TEXT, json, 0);
}

static gboolean
run_op_vprintf (S2SMockServer * m, OpKind kind, const gchar * format,
    va_list args)
{
  gchar *text = g_strdup_vprintf (format, args);
  gboolean ok = run_op (m, kind, text, 0);

  g_free (text);
  return ok;
}

gboolean
s2s_mock_server_send_printf (S2SMockServer * m, const gchar * format, ...)
{
  va_list args;
  gboolean ok;

  va_start (args, format);
  ok = run_op_vprintf (m, OP_TEXT, format, args);
  va_end (args);
  return ok;
}

gboolean
s2s_mock_server_send_binary (S2SMockServer * m, const gchar * json)
{
  return run_op (m, OP_BINARY, json, 0);
}

gboolean
s2s_mock_server_send_binary_printf (S2SMockServer * m, const gchar * format,
    ...)
{
  va_list args;
  gboolean ok;

  va_start (args, format);
  ok = run_op_vprintf (m, OP_BINARY, format, args);
  va_end (args);
  return ok;
}

typedef struct
{
  S2SMockServer *mock;
  guint n;
  gboolean done;
} CountOp;

static gboolean
count_open_cb (gpointer data)
{
  CountOp *op = data;
  guint i, n = 0;

  for (i = 0; i < op->mock->conns->len; i++)
    if (conn_is_open (g_ptr_array_index (op->mock->conns, i)))
      n++;
  g_mutex_lock (&op->mock->lock);
  op->n = n;
  op->done = TRUE;
  g_cond_broadcast (&op->mock->cond);
  g_mutex_unlock (&op->mock->lock);
  return G_SOURCE_REMOVE;
}

guint
s2s_mock_server_get_n_open (S2SMockServer * m)
{
  CountOp op = { m, 0, FALSE };

  g_main_context_invoke (m->ctx, count_open_cb, &op);
  g_mutex_lock (&m->lock);
  while (!op.done)
    g_cond_wait (&m->cond, &m->lock);
  g_mutex_unlock (&m->lock);
  return op.n;
}

void
s2s_mock_server_drop_connection (S2SMockServer * m)
{
  run_op (m, OP_DROP, NULL, 0);
}

void
s2s_mock_server_close_connection (S2SMockServer * m, gushort code,
    const gchar * reason)
{
  run_op (m, OP_CLOSE, reason, code);
}

gint16
s2s_mock_pattern_sample (guint64 i)
{
  /* a ramp of step 3 that wraps; sample 0 is not silence */
  return (gint16) (guint16) ((i * 3 + 1) & 0xffff);
}

guint8 *
s2s_mock_pattern (guint64 first_sample, guint n_samples)
{
  guint8 *data = g_malloc (n_samples * 2);
  guint i;

  for (i = 0; i < n_samples; i++) {
    guint16 s = (guint16) s2s_mock_pattern_sample (first_sample + i);
    data[2 * i] = s & 0xff;
    data[2 * i + 1] = s >> 8;
  }
  return data;
}

void
s2s_mock_server_send_response_created (S2SMockServer * m,
    const gchar * response_id)
{
  s2s_mock_server_send_printf (m, "{\"type\":\"response.created\","
      "\"event_id\":\"ev_rc_%s\",\"response\":{\"id\":\"%s\",\"object\":"
      "\"realtime.response\",\"status\":\"in_progress\",\"output\":[]}}",
      response_id, response_id);
}

void
s2s_mock_server_send_message_item_added (S2SMockServer * m,
    const gchar * response_id, const gchar * item_id)
{
  s2s_mock_server_send_printf (m, "{\"type\":\"response.output_item.added\","
      "\"response_id\":\"%s\",\"output_index\":0,\"item\":{\"id\":\"%s\","
      "\"object\":\"realtime.item\",\"type\":\"message\",\"status\":"
      "\"in_progress\",\"role\":\"assistant\",\"content\":[]}}",
      response_id, item_id);
}

void
s2s_mock_server_send_audio_deltas (S2SMockServer * m,
    const gchar * response_id, const gchar * item_id, guint n, guint ms,
    guint64 first_sample)
{
  guint samples = S2S_MOCK_RATE / 1000 * ms;
  guint i;

  for (i = 0; i < n; i++) {
    guint8 *pcm = s2s_mock_pattern (first_sample + (guint64) i * samples,
        samples);
    gchar *b64 = g_base64_encode (pcm, samples * 2);

    s2s_mock_server_send_printf (m, "{\"type\":\"response.output_audio.delta\","
        "\"event_id\":\"ev_d%u\",\"response_id\":\"%s\",\"item_id\":\"%s\","
        "\"output_index\":0,\"content_index\":0,\"delta\":\"%s\"}", i,
        response_id, item_id, b64);
    g_free (b64);
    g_free (pcm);
  }
}

void
s2s_mock_server_send_response_done (S2SMockServer * m,
    const gchar * response_id, const gchar * status)
{
  s2s_mock_server_send_printf (m, "{\"type\":\"response.done\",\"event_id\":"
      "\"ev_done_%s\",\"response\":{\"id\":\"%s\",\"object\":"
      "\"realtime.response\",\"status\":\"%s\",\"output\":[],\"usage\":"
      "{\"total_tokens\":30,\"input_tokens\":10,\"output_tokens\":20,"
      "\"input_token_details\":{\"text_tokens\":3,\"audio_tokens\":7,"
      "\"cached_tokens\":3},\"output_token_details\":{\"text_tokens\":5,"
      "\"audio_tokens\":15}}}}", response_id, response_id,
      status ? status : "completed");
}

void
s2s_mock_server_send_response (S2SMockServer * m, const gchar * response_id,
    const gchar * item_id, guint n, guint ms)
{
  s2s_mock_server_send_response_created (m, response_id);
  s2s_mock_server_send_message_item_added (m, response_id, item_id);
  s2s_mock_server_send_audio_deltas (m, response_id, item_id, n, ms, 0);
  s2s_mock_server_send_response_done (m, response_id, "completed");
}
