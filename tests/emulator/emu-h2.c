/* s2s-emulator: loopback speech-to-speech provider emulator for tests.
 * Copyright (C) 2026 gst-s2s contributors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * HTTP/2 server side: nghttp2 does framing and HPACK in memory, this file
 * pumps bytes over non-blocking GIO streams with pollable sources.
 */

#include <string.h>
#include <nghttp2/nghttp2.h>

#include "emu-h2.h"

struct _EmuH2Server
{
  GSocketService *service;
  GTlsCertificate *cert;
  EmuH2Callbacks cb;
  gpointer user_data;
  guint16 port;
  GList *conns;
};

typedef struct
{
  gint32 id;
  GPtrArray *req_headers;       /* name, value, ..., NULL once complete */
  GByteArray *body;             /* response body queued */
  gsize body_off;
  gboolean responded;
  gboolean ended;
  gboolean deferred;
} EmuH2Stream;

struct _EmuH2Conn
{
  gint ref_count;
  gboolean closed;
  gboolean closing;             /* close once everything is written */
  EmuH2Server *server;
  GIOStream *stream;
  GSocket *socket;
  nghttp2_session *session;
  gint in_nghttp2;
  GSource *in_source, *out_source;
  GByteArray *out;
  gsize out_off;
  GHashTable *streams;          /* id -> EmuH2Stream */
  gpointer data;
  GSource *pause_source;        /* reading resumes when it fires */
};

static void conn_flush (EmuH2Conn * conn);
static void watch_input (EmuH2Conn * conn);

static void
stream_free (gpointer p)
{
  EmuH2Stream *s = p;

  g_ptr_array_unref (s->req_headers);
  g_byte_array_unref (s->body);
  g_free (s);
}

static EmuH2Stream *
get_stream (EmuH2Conn * conn, gint32 id)
{
  return g_hash_table_lookup (conn->streams, GINT_TO_POINTER (id));
}

static EmuH2Conn *
conn_ref (EmuH2Conn * conn)
{
  conn->ref_count++;
  return conn;
}

static void
conn_unref (EmuH2Conn * conn)
{
  if (--conn->ref_count > 0)
    return;
  if (conn->session)
    nghttp2_session_del (conn->session);
  g_hash_table_unref (conn->streams);
  g_byte_array_unref (conn->out);
  g_clear_object (&conn->stream);
  g_clear_object (&conn->socket);
  g_free (conn);
}

static void
clear_source (GSource ** src)
{
  if (*src) {
    g_source_destroy (*src);
    g_source_unref (*src);
    *src = NULL;
  }
}

static void
conn_shutdown (EmuH2Conn * conn)
{
  EmuH2Server *server = conn->server;

  if (conn->closed)
    return;
  conn->closed = TRUE;
  clear_source (&conn->in_source);
  clear_source (&conn->out_source);
  clear_source (&conn->pause_source);
  g_socket_close (conn->socket, NULL);
  server->conns = g_list_remove (server->conns, conn);
  if (server->cb.conn_closed)
    server->cb.conn_closed (conn, server->user_data);
  conn_unref (conn);
}

/* ------------------------------------------------------------------------ */
/* nghttp2 callbacks */

static gssize
read_body (nghttp2_session * session, int32_t stream_id, uint8_t * buf,
    size_t length, uint32_t * data_flags, nghttp2_data_source * source,
    void *user_data)
{
  EmuH2Stream *s = get_stream (user_data, stream_id);
  gsize n;

  if (s == NULL)
    return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
  n = MIN (s->body->len - s->body_off, length);
  if (n > 0) {
    memcpy (buf, s->body->data + s->body_off, n);
    s->body_off += n;
    if (s->body_off == s->body->len) {
      g_byte_array_set_size (s->body, 0);
      s->body_off = 0;
    }
    return n;
  }
  if (s->ended) {
    *data_flags |= NGHTTP2_DATA_FLAG_EOF;
    return 0;
  }
  s->deferred = TRUE;
  return NGHTTP2_ERR_DEFERRED;
}

static int
on_begin_headers (nghttp2_session * session, const nghttp2_frame * frame,
    void *user_data)
{
  EmuH2Conn *conn = user_data;
  EmuH2Stream *s;

  if (frame->hd.type != NGHTTP2_HEADERS ||
      frame->headers.cat != NGHTTP2_HCAT_REQUEST)
    return 0;
  s = g_new0 (EmuH2Stream, 1);
  s->id = frame->hd.stream_id;
  s->req_headers = g_ptr_array_new_with_free_func (g_free);
  s->body = g_byte_array_new ();
  g_hash_table_insert (conn->streams, GINT_TO_POINTER (s->id), s);
  return 0;
}

static int
on_header (nghttp2_session * session, const nghttp2_frame * frame,
    const uint8_t * name, size_t namelen, const uint8_t * value,
    size_t valuelen, uint8_t flags, void *user_data)
{
  EmuH2Stream *s = get_stream (user_data, frame->hd.stream_id);

  if (s == NULL || frame->headers.cat != NGHTTP2_HCAT_REQUEST)
    return 0;
  g_ptr_array_add (s->req_headers, g_strndup ((const char *) name, namelen));
  g_ptr_array_add (s->req_headers, g_strndup ((const char *) value, valuelen));
  return 0;
}

static int
on_data_chunk (nghttp2_session * session, uint8_t flags, int32_t stream_id,
    const uint8_t * data, size_t len, void *user_data)
{
  EmuH2Conn *conn = user_data;

  if (!conn->closed && get_stream (conn, stream_id) && conn->server->cb.data)
    conn->server->cb.data (conn, stream_id, data, len, conn->server->user_data);
  return 0;
}

static int
on_frame_recv (nghttp2_session * session, const nghttp2_frame * frame,
    void *user_data)
{
  EmuH2Conn *conn = user_data;
  EmuH2Server *server = conn->server;
  EmuH2Stream *s = get_stream (conn, frame->hd.stream_id);

  if (conn->closed)
    return 0;
  if (frame->hd.type == NGHTTP2_GOAWAY) {
    if (server->cb.goaway)
      server->cb.goaway (conn, frame->goaway.error_code, server->user_data);
    return 0;
  }
  if (s == NULL)
    return 0;
  if (frame->hd.type == NGHTTP2_HEADERS &&
      frame->headers.cat == NGHTTP2_HCAT_REQUEST) {
    g_ptr_array_add (s->req_headers, NULL);
    if (server->cb.request)
      server->cb.request (conn, s->id,
          (const char *const *) s->req_headers->pdata, server->user_data);
  }
  if ((frame->hd.type == NGHTTP2_HEADERS || frame->hd.type == NGHTTP2_DATA)
      && (frame->hd.flags & NGHTTP2_FLAG_END_STREAM) && !conn->closed
      && server->cb.end)
    server->cb.end (conn, frame->hd.stream_id, server->user_data);
  return 0;
}

static int
on_stream_close (nghttp2_session * session, int32_t stream_id,
    uint32_t error_code, void *user_data)
{
  EmuH2Conn *conn = user_data;

  if (get_stream (conn, stream_id) == NULL)
    return 0;
  if (!conn->closed && conn->server->cb.stream_closed)
    conn->server->cb.stream_closed (conn, stream_id, error_code,
        conn->server->user_data);
  g_hash_table_remove (conn->streams, GINT_TO_POINTER (stream_id));
  return 0;
}

/* ------------------------------------------------------------------------ */
/* I/O */

static gboolean
on_writable (GObject * stream, gpointer user_data)
{
  EmuH2Conn *conn = user_data;

  conn_ref (conn);
  clear_source (&conn->out_source);
  conn_flush (conn);
  conn_unref (conn);
  return G_SOURCE_REMOVE;
}

static void
conn_flush (EmuH2Conn * conn)
{
  GPollableOutputStream *os;

  if (conn->closed || conn->in_nghttp2)
    return;
  os = G_POLLABLE_OUTPUT_STREAM (g_io_stream_get_output_stream (conn->stream));
  for (;;) {
    GError *err = NULL;
    gssize n;

    while (conn->out->len - conn->out_off < 65536) {
      const guint8 *data;
      gssize len;

      conn->in_nghttp2++;
      len = nghttp2_session_mem_send (conn->session, &data);
      conn->in_nghttp2--;
      if (len <= 0)
        break;
      g_byte_array_append (conn->out, data, len);
    }
    if (conn->out->len == conn->out_off)
      break;
    n = g_pollable_output_stream_write_nonblocking (os,
        conn->out->data + conn->out_off, conn->out->len - conn->out_off,
        NULL, &err);
    if (n < 0) {
      if (g_error_matches (err, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK)) {
        g_clear_error (&err);
        if (conn->out_source == NULL) {
          conn->out_source = g_pollable_output_stream_create_source (os, NULL);
          g_source_set_callback (conn->out_source, G_SOURCE_FUNC (on_writable),
              conn, NULL);
          g_source_attach (conn->out_source,
              g_main_context_get_thread_default ());
        }
        return;
      }
      g_clear_error (&err);
      conn_shutdown (conn);
      return;
    }
    conn->out_off += n;
    if (conn->out_off == conn->out->len) {
      g_byte_array_set_size (conn->out, 0);
      conn->out_off = 0;
    }
  }
  if (conn->closing || (!nghttp2_session_want_read (conn->session) &&
          !nghttp2_session_want_write (conn->session)))
    conn_shutdown (conn);
}

static gboolean
on_readable (GObject * stream, gpointer user_data)
{
  EmuH2Conn *conn = user_data;
  guint8 buf[16384];
  GError *err = NULL;
  gssize n;

  conn_ref (conn);
  n = g_pollable_input_stream_read_nonblocking (G_POLLABLE_INPUT_STREAM
      (stream), buf, sizeof (buf), NULL, &err);
  if (n < 0 && g_error_matches (err, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK)) {
    g_clear_error (&err);
  } else if (n <= 0) {
    g_clear_error (&err);
    conn_shutdown (conn);
  } else {
    gssize used;

    conn->in_nghttp2++;
    used = nghttp2_session_mem_recv (conn->session, buf, n);
    conn->in_nghttp2--;
    if (used < 0)
      g_printerr ("s2s-emulator: HTTP/2 input: %s\n", nghttp2_strerror (used));
    conn_flush (conn);
  }
  conn_unref (conn);
  return G_SOURCE_CONTINUE;
}

static void
conn_start (EmuH2Server * server, GIOStream * stream, GSocket * socket)
{
  EmuH2Conn *conn = g_new0 (EmuH2Conn, 1);
  nghttp2_session_callbacks *cbs;
  nghttp2_settings_entry settings[] = {
    {NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, 16},
    {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, 4 * 1024 * 1024},
  };

  conn->ref_count = 1;
  conn->server = server;
  conn->stream = g_object_ref (stream);
  conn->socket = g_object_ref (socket);
  conn->out = g_byte_array_new ();
  conn->streams = g_hash_table_new_full (NULL, NULL, NULL, stream_free);

  nghttp2_session_callbacks_new (&cbs);
  nghttp2_session_callbacks_set_on_begin_headers_callback (cbs,
      on_begin_headers);
  nghttp2_session_callbacks_set_on_header_callback (cbs, on_header);
  nghttp2_session_callbacks_set_on_data_chunk_recv_callback (cbs,
      on_data_chunk);
  nghttp2_session_callbacks_set_on_frame_recv_callback (cbs, on_frame_recv);
  nghttp2_session_callbacks_set_on_stream_close_callback (cbs, on_stream_close);
  nghttp2_session_server_new (&conn->session, cbs, conn);
  nghttp2_session_callbacks_del (cbs);
  nghttp2_submit_settings (conn->session, NGHTTP2_FLAG_NONE, settings,
      G_N_ELEMENTS (settings));
  nghttp2_session_set_local_window_size (conn->session, NGHTTP2_FLAG_NONE, 0,
      16 * 1024 * 1024);

  server->conns = g_list_prepend (server->conns, conn);
  watch_input (conn);
  if (server->cb.conn_open)
    server->cb.conn_open (conn, server->user_data);
  conn_flush (conn);
}

typedef struct
{
  EmuH2Server *server;
  GSocketConnection *tcp;
} Handshake;

static void
on_handshake (GObject * source, GAsyncResult * res, gpointer user_data)
{
  Handshake *hs = user_data;
  GError *err = NULL;

  if (!g_tls_connection_handshake_finish (G_TLS_CONNECTION (source), res, &err)) {
    g_printerr ("s2s-emulator: HTTP/2 TLS handshake: %s\n", err->message);
    g_clear_error (&err);
  } else if (g_strcmp0 (g_tls_connection_get_negotiated_protocol
          (G_TLS_CONNECTION (source)), "h2") != 0) {
    g_printerr ("s2s-emulator: HTTP/2 port: client did not offer ALPN h2\n");
  } else {
    conn_start (hs->server, G_IO_STREAM (source),
        g_socket_connection_get_socket (hs->tcp));
  }
  g_object_unref (source);
  g_object_unref (hs->tcp);
  g_free (hs);
}

static gboolean
on_incoming (GSocketService * service, GSocketConnection * tcp,
    GObject * source_object, gpointer user_data)
{
  EmuH2Server *server = user_data;
  const gchar *alpn[] = { "h2", NULL };
  GIOStream *tls;
  Handshake *hs;
  GError *err = NULL;

  if (server->cert == NULL) {
    conn_start (server, G_IO_STREAM (tcp),
        g_socket_connection_get_socket (tcp));
    return TRUE;
  }
  tls = g_tls_server_connection_new (G_IO_STREAM (tcp), server->cert, &err);
  if (tls == NULL) {
    g_printerr ("s2s-emulator: TLS: %s\n", err->message);
    g_clear_error (&err);
    return TRUE;
  }
  g_tls_connection_set_advertised_protocols (G_TLS_CONNECTION (tls), alpn);
  hs = g_new0 (Handshake, 1);
  hs->server = server;
  hs->tcp = g_object_ref (tcp);
  g_tls_connection_handshake_async (G_TLS_CONNECTION (tls),
      G_PRIORITY_DEFAULT, NULL, on_handshake, hs);
  return TRUE;
}

static void
watch_input (EmuH2Conn * conn)
{
  conn->in_source =
      g_pollable_input_stream_create_source (G_POLLABLE_INPUT_STREAM
      (g_io_stream_get_input_stream (conn->stream)), NULL);
  g_source_set_callback (conn->in_source, G_SOURCE_FUNC (on_readable), conn,
      NULL);
  g_source_attach (conn->in_source, g_main_context_get_thread_default ());
}

static gboolean
resume_reading (gpointer user_data)
{
  EmuH2Conn *conn = user_data;

  g_clear_pointer (&conn->pause_source, g_source_unref);
  if (!conn->closed && conn->in_source == NULL)
    watch_input (conn);
  return G_SOURCE_REMOVE;
}

/* ------------------------------------------------------------------------ */
/* Public */

EmuH2Server *
emu_h2_listen (guint16 port, GTlsCertificate * cert,
    const EmuH2Callbacks * cb, gpointer user_data, GError ** error)
{
  EmuH2Server *server = g_new0 (EmuH2Server, 1);
  GInetAddress *lo = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  GSocketAddress *addr = g_inet_socket_address_new (lo, port);
  GSocketAddress *effective = NULL;
  gboolean ok;

  server->service = g_socket_service_new ();
  ok = g_socket_listener_add_address (G_SOCKET_LISTENER (server->service),
      addr, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, NULL, &effective,
      error);
  g_object_unref (addr);
  g_object_unref (lo);
  if (!ok) {
    g_object_unref (server->service);
    g_free (server);
    return NULL;
  }
  server->port =
      g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (effective));
  g_object_unref (effective);
  server->cert = cert ? g_object_ref (cert) : NULL;
  server->cb = *cb;
  server->user_data = user_data;
  g_signal_connect (server->service, "incoming", G_CALLBACK (on_incoming),
      server);
  g_socket_service_start (server->service);
  return server;
}

guint16
emu_h2_server_port (EmuH2Server * server)
{
  return server->port;
}

void
emu_h2_server_free (EmuH2Server * server)
{
  if (server == NULL)
    return;
  g_socket_service_stop (server->service);
  g_socket_listener_close (G_SOCKET_LISTENER (server->service));
  g_object_unref (server->service);
  while (server->conns)
    conn_shutdown (server->conns->data);
  g_clear_object (&server->cert);
  g_free (server);
}

void
emu_h2_conn_set_data (EmuH2Conn * conn, gpointer data)
{
  conn->data = data;
}

gpointer
emu_h2_conn_get_data (EmuH2Conn * conn)
{
  return conn->data;
}

void
emu_h2_respond (EmuH2Conn * conn, gint32 stream_id, guint status,
    const char *const *headers)
{
  EmuH2Stream *s = get_stream (conn, stream_id);
  GArray *nva;
  char status_str[8];
  nghttp2_data_provider prd = { {0}, read_body };
  guint i;

  if (conn->closed || s == NULL || s->responded)
    return;
  s->responded = TRUE;
  g_snprintf (status_str, sizeof (status_str), "%u", status);
  nva = g_array_new (FALSE, FALSE, sizeof (nghttp2_nv));
  {
    nghttp2_nv nv = { (uint8_t *) ":status", (uint8_t *) status_str, 7,
      strlen (status_str), NGHTTP2_NV_FLAG_NONE
    };
    g_array_append_val (nva, nv);
  }
  for (i = 0; headers && headers[i] && headers[i + 1]; i += 2) {
    nghttp2_nv nv = { (uint8_t *) headers[i], (uint8_t *) headers[i + 1],
      strlen (headers[i]), strlen (headers[i + 1]), NGHTTP2_NV_FLAG_NONE
    };
    g_array_append_val (nva, nv);
  }
  nghttp2_submit_response (conn->session, stream_id,
      (const nghttp2_nv *) nva->data, nva->len, &prd);
  g_array_unref (nva);
  conn_flush (conn);
}

static void
resume (EmuH2Conn * conn, EmuH2Stream * s)
{
  if (s->deferred) {
    s->deferred = FALSE;
    nghttp2_session_resume_data (conn->session, s->id);
  }
  conn_flush (conn);
}

void
emu_h2_send (EmuH2Conn * conn, gint32 stream_id, const guint8 * data, gsize len)
{
  EmuH2Stream *s = get_stream (conn, stream_id);

  if (conn->closed || s == NULL || s->ended)
    return;
  g_byte_array_append (s->body, data, len);
  resume (conn, s);
}

void
emu_h2_end (EmuH2Conn * conn, gint32 stream_id)
{
  EmuH2Stream *s = get_stream (conn, stream_id);

  if (conn->closed || s == NULL || s->ended)
    return;
  s->ended = TRUE;
  resume (conn, s);
}

void
emu_h2_reset (EmuH2Conn * conn, gint32 stream_id, guint32 error_code)
{
  if (conn->closed)
    return;
  nghttp2_submit_rst_stream (conn->session, NGHTTP2_FLAG_NONE, stream_id,
      error_code);
  conn_flush (conn);
}

void
emu_h2_goaway (EmuH2Conn * conn, guint32 error_code, gint32 last_stream_id,
    const char *debug)
{
  if (conn->closed)
    return;
  if (last_stream_id < 0)
    last_stream_id = nghttp2_session_get_last_proc_stream_id (conn->session);
  nghttp2_submit_goaway (conn->session, NGHTTP2_FLAG_NONE, last_stream_id,
      error_code, (const uint8_t *) debug, debug ? strlen (debug) : 0);
  conn_flush (conn);
}

void
emu_h2_drop (EmuH2Conn * conn)
{
  conn_shutdown (conn);
}

void
emu_h2_close (EmuH2Conn * conn)
{
  if (conn->closed)
    return;
  conn->closing = TRUE;
  conn_flush (conn);
}

void
emu_h2_pause_reading (EmuH2Conn * conn, guint ms)
{
  if (conn->closed || conn->pause_source)
    return;
  clear_source (&conn->in_source);
  conn->pause_source = g_timeout_source_new (ms);
  g_source_set_callback (conn->pause_source, resume_reading, conn, NULL);
  g_source_attach (conn->pause_source, g_main_context_get_thread_default ());
}
