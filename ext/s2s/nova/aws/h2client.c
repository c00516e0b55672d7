/* gst-s2s
 * Copyright (C) 2026 gst-s2s developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * libsoup 3.2 cannot read a response while the request body is still being
 * written (see docs/design.md), so the one full-duplex request Bedrock needs
 * runs on libnghttp2 directly: nghttp2 does the framing and HPACK in memory
 * (mem_recv / mem_send), this file moves the bytes over a non-blocking GIO
 * stream (GSocketConnection, or a GTlsClientConnection on top of it) with
 * pollable sources on the caller's GMainContext.
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <string.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <nghttp2/nghttp2.h>

#include "h2client.h"
#include "gsts2sws.h"

GST_DEBUG_CATEGORY_STATIC (gst_s2s_h2_debug);
#define GST_CAT_DEFAULT gst_s2s_h2_debug

#define READ_CHUNK (16 * 1024)
/* bytes pulled out of nghttp2 ahead of the socket */
#define OUT_HIGH_WATER (64 * 1024)
/* Response events carry base64 audio: a large window keeps the server from
 * stalling on WINDOW_UPDATE round trips. */
#define STREAM_WINDOW (4 * 1024 * 1024)
#define CONNECTION_WINDOW (16 * 1024 * 1024)

G_DEFINE_QUARK (gst - s2s - h2 - error - quark, gst_s2s_h2_error);

struct _GstS2SH2Client
{
  gint ref_count;
  gboolean dead;                /* freed by the owner: no more callbacks */
  gboolean finished;            /* closed() was reported */
  gboolean opened;

  GstObject *parent;            /* log context only, not reffed */
  GstS2SH2Callbacks cb;
  gpointer user_data;

  /* request */
  gchar *method, *scheme, *authority, *path, *host;
  guint16 port;
  GPtrArray *req_headers;       /* name, value, name, value... */
  gboolean tls;

  /* connection */
  GSocketClient *socket_client;
  GSocketConnection *tcp;
  GIOStream *stream;            /* tcp, or the TLS connection over it */
  GTlsDatabase *extra_ca;
  GCancellable *cancellable;
  GSource *timeout_source;
  gboolean timed_out;
  GSource *in_source, *out_source;

  /* HTTP/2 */
  nghttp2_session *session;
  gint in_nghttp2;              /* inside mem_recv/mem_send: no re-entry */
  gint32 stream_id;
  GByteArray *body;             /* queued request body */
  gsize body_off;
  gboolean body_ended;
  gboolean body_deferred;
  GByteArray *out;              /* serialized frames not yet written */
  gsize out_off;

  /* response */
  guint status;
  GPtrArray *resp_headers;
  gboolean response_reported;
  gboolean goaway_received;
  guint32 goaway_error;
  gint32 goaway_last_stream;
};

static void h2_flush (GstS2SH2Client * c);

static GstS2SH2Client *
h2_ref (GstS2SH2Client * c)
{
  c->ref_count++;
  return c;
}

static void
h2_unref (GstS2SH2Client * c)
{
  if (--c->ref_count > 0)
    return;

  if (c->session)
    nghttp2_session_del (c->session);
  g_clear_object (&c->stream);
  g_clear_object (&c->tcp);
  g_clear_object (&c->socket_client);
  g_clear_object (&c->extra_ca);
  g_clear_object (&c->cancellable);
  g_free (c->method);
  g_free (c->scheme);
  g_free (c->authority);
  g_free (c->path);
  g_free (c->host);
  if (c->req_headers)
    g_ptr_array_unref (c->req_headers);
  g_ptr_array_unref (c->resp_headers);
  g_byte_array_unref (c->body);
  g_byte_array_unref (c->out);
  g_free (c);
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
stop_io (GstS2SH2Client * c)
{
  clear_source (&c->timeout_source);
  clear_source (&c->in_source);
  clear_source (&c->out_source);
  if (c->cancellable)
    g_cancellable_cancel (c->cancellable);
}

/* Report the end once; the owner frees us afterwards. */
static void
finish (GstS2SH2Client * c, GError * error)
{
  if (c->finished || c->dead) {
    g_clear_error (&error);
    return;
  }
  c->finished = TRUE;
  stop_io (c);
  if (error)
    GST_INFO_OBJECT (c->parent, "HTTP/2 request failed: %s", error->message);
  else
    GST_INFO_OBJECT (c->parent, "HTTP/2 response complete");
  c->cb.closed (error, c->opened, c->user_data);
  g_clear_error (&error);
}

static void
finish_with (GstS2SH2Client * c, GQuark domain, gint code,
    const gchar * format, ...)
G_GNUC_PRINTF (4, 5);

     static void
         finish_with (GstS2SH2Client * c, GQuark domain, gint code,
    const gchar * format, ...)
{
  va_list args;
  GError *err;

  va_start (args, format);
  err = g_error_new_valist (domain, code, format, args);
  va_end (args);
  finish (c, err);
}

/* GOAWAY debug data is arbitrary bytes from the network: printable ASCII
 * only, bounded. */
static gchar *
printable (const guint8 * data, gsize len)
{
  GString *s = g_string_new (NULL);
  gsize i;

  for (i = 0; i < len && i < 120; i++)
    g_string_append_c (s, g_ascii_isprint (data[i]) ? data[i] : '?');
  return g_string_free (s, FALSE);
}

/* ------------------------------------------------------------------------ */
/* nghttp2 callbacks (inside mem_recv / mem_send) */

static gssize
read_body (nghttp2_session * session, int32_t stream_id, uint8_t * buf,
    size_t length, uint32_t * data_flags, nghttp2_data_source * source,
    void *user_data)
{
  GstS2SH2Client *c = user_data;
  gsize avail = c->body->len - c->body_off;
  gsize n = MIN (avail, length);

  if (n > 0) {
    memcpy (buf, c->body->data + c->body_off, n);
    c->body_off += n;
    if (c->body_off == c->body->len) {
      g_byte_array_set_size (c->body, 0);
      c->body_off = 0;
    }
    return n;
  }
  if (c->body_ended) {
    *data_flags |= NGHTTP2_DATA_FLAG_EOF;
    return 0;
  }
  c->body_deferred = TRUE;
  return NGHTTP2_ERR_DEFERRED;
}

static int
on_begin_headers (nghttp2_session * session, const nghttp2_frame * frame,
    void *user_data)
{
  GstS2SH2Client *c = user_data;

  if (frame->hd.stream_id == c->stream_id && !c->response_reported)
    g_ptr_array_set_size (c->resp_headers, 0);
  return 0;
}

static int
on_header (nghttp2_session * session, const nghttp2_frame * frame,
    const uint8_t * name, size_t namelen, const uint8_t * value,
    size_t valuelen, uint8_t flags, void *user_data)
{
  GstS2SH2Client *c = user_data;

  if (frame->hd.type != NGHTTP2_HEADERS || frame->hd.stream_id != c->stream_id
      || c->response_reported)
    return 0;                   /* trailers are not used */

  /* nghttp2 has already checked the field syntax (HTTP messaging rules) */
  if (namelen == 7 && memcmp (name, ":status", 7) == 0) {
    gchar *v = g_strndup ((const gchar *) value, valuelen);
    c->status = (guint) g_ascii_strtoull (v, NULL, 10);
    g_free (v);
  } else if (namelen > 0 && name[0] != ':') {
    g_ptr_array_add (c->resp_headers, g_strndup ((const gchar *) name,
            namelen));
    g_ptr_array_add (c->resp_headers, g_strndup ((const gchar *) value,
            valuelen));
  }
  return 0;
}

static int
on_data_chunk (nghttp2_session * session, uint8_t flags, int32_t stream_id,
    const uint8_t * data, size_t len, void *user_data)
{
  GstS2SH2Client *c = user_data;

  if (stream_id != c->stream_id || c->finished || c->dead)
    return 0;
  c->cb.data (data, len, c->user_data);
  return 0;
}

static int
on_frame_recv (nghttp2_session * session, const nghttp2_frame * frame,
    void *user_data)
{
  GstS2SH2Client *c = user_data;

  if (c->finished || c->dead)
    return 0;

  switch (frame->hd.type) {
    case NGHTTP2_HEADERS:
      if (frame->hd.stream_id != c->stream_id || c->response_reported)
        break;
      if (c->status < 200) {
        GST_DEBUG_OBJECT (c->parent, "informational response %u", c->status);
        break;
      }
      c->response_reported = TRUE;
      clear_source (&c->timeout_source);
      g_ptr_array_add (c->resp_headers, NULL);
      GST_DEBUG_OBJECT (c->parent, "response status %u, %u headers",
          c->status, (c->resp_headers->len - 1) / 2);
      c->cb.response (c->status,
          (const gchar * const *) c->resp_headers->pdata, c->user_data);
      break;
    case NGHTTP2_GOAWAY:{
      gchar *dbg = printable (frame->goaway.opaque_data,
          frame->goaway.opaque_data_len);

      c->goaway_received = TRUE;
      c->goaway_error = frame->goaway.error_code;
      c->goaway_last_stream = frame->goaway.last_stream_id;
      GST_INFO_OBJECT (c->parent, "GOAWAY from the server: %s (0x%x), last "
          "stream %d, \"%s\"", nghttp2_http2_strerror (c->goaway_error),
          c->goaway_error, c->goaway_last_stream, dbg);
      g_free (dbg);
      break;
    }
    default:
      break;
  }

  if ((frame->hd.type == NGHTTP2_HEADERS || frame->hd.type == NGHTTP2_DATA)
      && frame->hd.stream_id == c->stream_id
      && (frame->hd.flags & NGHTTP2_FLAG_END_STREAM)) {
    if (!c->response_reported)
      finish_with (c, GST_S2S_H2_ERROR, GST_S2S_H2_ERROR_PROTOCOL,
          "the server ended the stream without a final response");
    else
      finish (c, NULL);
  }
  return 0;
}

static int
on_stream_close (nghttp2_session * session, int32_t stream_id,
    uint32_t error_code, void *user_data)
{
  GstS2SH2Client *c = user_data;

  if (stream_id != c->stream_id || c->finished || c->dead)
    return 0;

  if (c->goaway_received && stream_id > c->goaway_last_stream)
    finish_with (c, GST_S2S_H2_ERROR, GST_S2S_H2_ERROR_GOAWAY,
        "the server went away (GOAWAY %s) before taking the request",
        nghttp2_http2_strerror (c->goaway_error));
  else if (error_code != NGHTTP2_NO_ERROR)
    finish_with (c, GST_S2S_H2_ERROR, GST_S2S_H2_ERROR_RESET,
        "the server reset the stream: %s (HTTP/2 error 0x%x)",
        nghttp2_http2_strerror (error_code), error_code);
  else
    finish_with (c, GST_S2S_H2_ERROR, GST_S2S_H2_ERROR_CLOSED,
        "the stream closed before the response ended");
  return 0;
}

/* ------------------------------------------------------------------------ */
/* Socket I/O */

static void
fail_io (GstS2SH2Client * c, GError * err, const gchar * what)
{
  GST_DEBUG_OBJECT (c->parent, "%s: %s", what, err->message);
  if (c->goaway_received && c->goaway_error != NGHTTP2_NO_ERROR) {
    g_clear_error (&err);
    finish_with (c, GST_S2S_H2_ERROR, GST_S2S_H2_ERROR_GOAWAY,
        "the server shut the connection: %s (GOAWAY 0x%x)",
        nghttp2_http2_strerror (c->goaway_error), c->goaway_error);
    return;
  }
  g_prefix_error (&err, "%s: ", what);
  finish (c, err);
}

static gboolean
on_writable (GObject * stream, gpointer user_data)
{
  GstS2SH2Client *c = user_data;

  h2_ref (c);
  clear_source (&c->out_source);
  h2_flush (c);
  h2_unref (c);
  return G_SOURCE_REMOVE;
}

/* Move frames from nghttp2 to the socket until either runs dry. */
static void
h2_flush (GstS2SH2Client * c)
{
  GPollableOutputStream *os;

  if (c->finished || c->dead || c->session == NULL || c->in_nghttp2)
    return;
  os = G_POLLABLE_OUTPUT_STREAM (g_io_stream_get_output_stream (c->stream));

  for (;;) {
    gssize n;
    GError *err = NULL;

    while (c->out->len - c->out_off < OUT_HIGH_WATER) {
      const guint8 *data;
      gssize len;

      c->in_nghttp2++;
      len = nghttp2_session_mem_send (c->session, &data);
      c->in_nghttp2--;
      if (c->finished || c->dead)
        return;
      if (len < 0) {
        finish_with (c, GST_S2S_H2_ERROR, GST_S2S_H2_ERROR_PROTOCOL,
            "HTTP/2: %s", nghttp2_strerror (len));
        return;
      }
      if (len == 0)
        break;
      g_byte_array_append (c->out, data, len);
    }
    if (c->out->len == c->out_off)
      break;

    n = g_pollable_output_stream_write_nonblocking (os,
        c->out->data + c->out_off, c->out->len - c->out_off, NULL, &err);
    if (n < 0) {
      if (g_error_matches (err, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK)) {
        g_clear_error (&err);
        if (c->out_source == NULL) {
          c->out_source = g_pollable_output_stream_create_source (os, NULL);
          g_source_set_callback (c->out_source, G_SOURCE_FUNC (on_writable), c,
              NULL);
          g_source_attach (c->out_source, g_main_context_get_thread_default ());
        }
        return;
      }
      fail_io (c, err, "sending");
      return;
    }
    c->out_off += n;
    if (c->out_off == c->out->len) {
      g_byte_array_set_size (c->out, 0);
      c->out_off = 0;
    }
  }

  if (!nghttp2_session_want_read (c->session) &&
      !nghttp2_session_want_write (c->session))
    finish_with (c, GST_S2S_H2_ERROR, GST_S2S_H2_ERROR_CLOSED,
        "the HTTP/2 session ended before the response");
}

static gboolean
on_readable (GObject * stream, gpointer user_data)
{
  GstS2SH2Client *c = user_data;
  guint8 buf[READ_CHUNK];
  GError *err = NULL;
  gssize n, used;

  h2_ref (c);
  n = g_pollable_input_stream_read_nonblocking (G_POLLABLE_INPUT_STREAM
      (stream), buf, sizeof (buf), NULL, &err);
  if (n < 0) {
    if (!g_error_matches (err, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK))
      fail_io (c, err, "receiving");
    else
      g_clear_error (&err);
    goto out;
  }
  if (n == 0) {
    if (c->goaway_received && c->goaway_error != NGHTTP2_NO_ERROR)
      finish_with (c, GST_S2S_H2_ERROR, GST_S2S_H2_ERROR_GOAWAY,
          "the server shut the connection: %s (GOAWAY 0x%x)",
          nghttp2_http2_strerror (c->goaway_error), c->goaway_error);
    else
      finish_with (c, GST_S2S_H2_ERROR, GST_S2S_H2_ERROR_CLOSED,
          "the server closed the connection before the response ended");
    goto out;
  }

  c->in_nghttp2++;
  used = nghttp2_session_mem_recv (c->session, buf, n);
  c->in_nghttp2--;
  if (used < 0) {
    GST_WARNING_OBJECT (c->parent, "bad HTTP/2 input: %s",
        nghttp2_strerror (used));
    finish_with (c, GST_S2S_H2_ERROR, GST_S2S_H2_ERROR_PROTOCOL,
        "the server broke the HTTP/2 protocol: %s", nghttp2_strerror (used));
    goto out;
  }
  h2_flush (c);

out:
  h2_unref (c);
  return G_SOURCE_CONTINUE;
}

/* ------------------------------------------------------------------------ */
/* Session start */

static nghttp2_nv
make_nv (const gchar * name, const gchar * value, gboolean sensitive)
{
  nghttp2_nv nv;

  nv.name = (uint8_t *) name;
  nv.namelen = strlen (name);
  nv.value = (uint8_t *) value;
  nv.valuelen = strlen (value);
  nv.flags = sensitive ? NGHTTP2_NV_FLAG_NO_INDEX : NGHTTP2_NV_FLAG_NONE;
  return nv;
}

static gboolean
is_sensitive_header (const gchar * name)
{
  return !g_ascii_strcasecmp (name, "authorization") ||
      !g_ascii_strcasecmp (name, "x-amz-security-token") ||
      !g_ascii_strcasecmp (name, "cookie");
}

static gboolean
start_session (GstS2SH2Client * c)
{
  nghttp2_session_callbacks *cbs;
  nghttp2_settings_entry settings[] = {
    {NGHTTP2_SETTINGS_ENABLE_PUSH, 0},
    {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, STREAM_WINDOW},
  };
  nghttp2_data_provider prd;
  GArray *nva;
  guint i;
  int rv;
  GInputStream *is;

  nghttp2_session_callbacks_new (&cbs);
  nghttp2_session_callbacks_set_on_begin_headers_callback (cbs,
      on_begin_headers);
  nghttp2_session_callbacks_set_on_header_callback (cbs, on_header);
  nghttp2_session_callbacks_set_on_data_chunk_recv_callback (cbs,
      on_data_chunk);
  nghttp2_session_callbacks_set_on_frame_recv_callback (cbs, on_frame_recv);
  nghttp2_session_callbacks_set_on_stream_close_callback (cbs, on_stream_close);
  rv = nghttp2_session_client_new (&c->session, cbs, c);
  nghttp2_session_callbacks_del (cbs);
  if (rv != 0)
    goto failed;

  rv = nghttp2_submit_settings (c->session, NGHTTP2_FLAG_NONE, settings,
      G_N_ELEMENTS (settings));
  if (rv == 0)
    rv = nghttp2_session_set_local_window_size (c->session, NGHTTP2_FLAG_NONE,
        0, CONNECTION_WINDOW);
  if (rv != 0)
    goto failed;

  nva = g_array_new (FALSE, FALSE, sizeof (nghttp2_nv));
  {
    nghttp2_nv pseudo[] = {
      make_nv (":method", c->method, FALSE),
      make_nv (":scheme", c->scheme, FALSE),
      make_nv (":authority", c->authority, FALSE),
      make_nv (":path", c->path, FALSE),
    };
    g_array_append_vals (nva, pseudo, G_N_ELEMENTS (pseudo));
  }
  for (i = 0; i + 1 < c->req_headers->len; i += 2) {
    const gchar *name = g_ptr_array_index (c->req_headers, i);
    nghttp2_nv nv = make_nv (name, g_ptr_array_index (c->req_headers, i + 1),
        is_sensitive_header (name));
    g_array_append_val (nva, nv);
  }
  prd.source.ptr = NULL;
  prd.read_callback = read_body;
  c->stream_id = nghttp2_submit_request (c->session, NULL,
      (const nghttp2_nv *) nva->data, nva->len, &prd, NULL);
  g_array_unref (nva);
  if (c->stream_id < 0) {
    rv = c->stream_id;
    goto failed;
  }
  GST_DEBUG_OBJECT (c->parent, "%s %s on stream %d", c->method, c->path,
      c->stream_id);

  is = g_io_stream_get_input_stream (c->stream);
  c->in_source = g_pollable_input_stream_create_source (G_POLLABLE_INPUT_STREAM
      (is), NULL);
  g_source_set_callback (c->in_source, G_SOURCE_FUNC (on_readable), c, NULL);
  g_source_attach (c->in_source, g_main_context_get_thread_default ());

  c->opened = TRUE;
  c->cb.opened (c->user_data);
  h2_flush (c);
  return TRUE;

failed:
  finish_with (c, GST_S2S_H2_ERROR, GST_S2S_H2_ERROR_PROTOCOL,
      "HTTP/2 session setup: %s", nghttp2_strerror (rv));
  return FALSE;
}

static GError *
take_async_error (GstS2SH2Client * c, GError * err)
{
  if (c->timed_out) {
    g_clear_error (&err);
    return g_error_new_literal (G_IO_ERROR, G_IO_ERROR_TIMED_OUT,
        "connection timed out");
  }
  return err;
}

static gboolean
on_accept_certificate (GTlsConnection * conn, GTlsCertificate * cert,
    GTlsCertificateFlags errors, gpointer user_data)
{
  GstS2SH2Client *c = user_data;

  return gst_s2s_tls_accept_with_extra_ca (c->parent, c->extra_ca, cert,
      errors, c->host, c->port);
}

static void
on_handshake (GObject * source, GAsyncResult * res, gpointer user_data)
{
  GstS2SH2Client *c = user_data;
  GError *err = NULL;
  const gchar *alpn;

  g_tls_connection_handshake_finish (G_TLS_CONNECTION (source), res, &err);
  if (c->dead) {
    g_clear_error (&err);
    h2_unref (c);
    return;
  }
  if (err) {
    finish (c, take_async_error (c, err));
  } else {
    alpn = g_tls_connection_get_negotiated_protocol (G_TLS_CONNECTION (source));
    if (g_strcmp0 (alpn, "h2") != 0)
      finish_with (c, GST_S2S_H2_ERROR, GST_S2S_H2_ERROR_NO_H2,
          "the server does not speak HTTP/2 (ALPN: %s)", alpn ? alpn : "none");
    else
      start_session (c);
  }
  h2_unref (c);
}

static void
on_connected (GObject * source, GAsyncResult * res, gpointer user_data)
{
  GstS2SH2Client *c = user_data;
  GError *err = NULL;
  GSocketConnection *tcp;

  tcp = g_socket_client_connect_to_uri_finish (G_SOCKET_CLIENT (source), res,
      &err);
  if (c->dead) {
    g_clear_object (&tcp);
    g_clear_error (&err);
    h2_unref (c);
    return;
  }
  if (tcp == NULL) {
    finish (c, take_async_error (c, err));
    h2_unref (c);
    return;
  }
  c->tcp = tcp;
  g_tcp_connection_set_graceful_disconnect (G_TCP_CONNECTION (tcp), FALSE);
  g_socket_set_option (g_socket_connection_get_socket (tcp), IPPROTO_TCP,
      TCP_NODELAY, 1, NULL);

  if (c->tls) {
    const gchar *alpn[] = { "h2", NULL };
    GSocketConnectable *identity = g_network_address_new (c->host, c->port);
    /* before the connection exists: a connection built with a GnuTLS
     * database gets its own parsed copy of the system store (~4 MiB) */
    GTlsDatabase *db = gst_s2s_tls_system_database ();
    GIOStream *tls = g_tls_client_connection_new (G_IO_STREAM (tcp), identity,
        &err);

    g_object_unref (identity);
    if (tls == NULL) {
      finish (c, err);
      h2_unref (c);
      return;
    }
    c->stream = tls;
    if (db)
      g_tls_connection_set_database (G_TLS_CONNECTION (tls), db);
    g_tls_connection_set_advertised_protocols (G_TLS_CONNECTION (tls), alpn);
    g_signal_connect (tls, "accept-certificate",
        G_CALLBACK (on_accept_certificate), c);
    g_tls_connection_handshake_async (G_TLS_CONNECTION (tls),
        G_PRIORITY_DEFAULT, c->cancellable, on_handshake, c);
    return;                     /* the reference goes on to on_handshake */
  }

  c->stream = G_IO_STREAM (g_object_ref (tcp));
  start_session (c);
  h2_unref (c);
}

static gboolean
on_timeout (gpointer user_data)
{
  GstS2SH2Client *c = user_data;

  GST_WARNING_OBJECT (c->parent, "timed out waiting for the %s",
      c->opened ? "response" : "connection");
  g_source_unref (c->timeout_source);
  c->timeout_source = NULL;
  c->timed_out = TRUE;
  if (c->opened) {
    h2_ref (c);
    finish_with (c, G_IO_ERROR, G_IO_ERROR_TIMED_OUT,
        "no response from the server in time");
    h2_unref (c);
  } else {
    g_cancellable_cancel (c->cancellable);
  }
  return G_SOURCE_REMOVE;
}

/* ------------------------------------------------------------------------ */
/* Public API */

GstS2SH2Client *
gst_s2s_h2_client_new (GstObject * parent, const GstS2SH2Callbacks * cb,
    gpointer user_data)
{
  static gsize init = 0;
  GstS2SH2Client *c;

  if (g_once_init_enter (&init)) {
    GST_DEBUG_CATEGORY_INIT (gst_s2s_h2_debug, "s2sh2", 0,
        "speech-to-speech HTTP/2 client");
    g_once_init_leave (&init, 1);
  }

  c = g_new0 (GstS2SH2Client, 1);
  c->ref_count = 1;
  c->parent = parent;
  c->cb = *cb;
  c->user_data = user_data;
  c->body = g_byte_array_new ();
  c->out = g_byte_array_new ();
  c->resp_headers = g_ptr_array_new_with_free_func (g_free);
  return c;
}

void
gst_s2s_h2_client_set_callbacks (GstS2SH2Client * c,
    const GstS2SH2Callbacks * cb, gpointer user_data)
{
  c->cb = *cb;
  c->user_data = user_data;
}

static gboolean
host_is_loopback (const gchar * host)
{
  GInetAddress *addr;
  gboolean loopback;

  if (!g_ascii_strcasecmp (host, "localhost"))
    return TRUE;
  addr = g_inet_address_new_from_string (host);
  if (addr == NULL)
    return FALSE;
  loopback = g_inet_address_get_is_loopback (addr);
  g_object_unref (addr);
  return loopback;
}

gboolean
gst_s2s_h2_client_connect (GstS2SH2Client * c, const gchar * method,
    const gchar * url, const gchar * const *headers, const gchar * ssl_ca_file,
    const gchar * proxy, guint timeout_ms, GError ** error)
{
  GUri *uri;
  const gchar *scheme, *host, *query;
  gint port;
  guint i;

  g_return_val_if_fail (c->socket_client == NULL, FALSE);

  uri = g_uri_parse (url, G_URI_FLAGS_ENCODED, error);
  if (uri == NULL)
    return FALSE;
  scheme = g_uri_get_scheme (uri);
  host = g_uri_get_host (uri);
  if (host == NULL || *host == '\0' || (g_strcmp0 (scheme, "https") &&
          g_strcmp0 (scheme, "http"))) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
        "not an http:// or https:// URL");
    g_uri_unref (uri);
    return FALSE;
  }
  c->tls = !g_strcmp0 (scheme, "https");
  if (!c->tls && !host_is_loopback (host)) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
        "http:// (h2c, no TLS) is only allowed to a loopback host");
    g_uri_unref (uri);
    return FALSE;
  }
  if (ssl_ca_file && *ssl_ca_file) {
    c->extra_ca = gst_s2s_tls_ca_file_database (ssl_ca_file, error);
    if (c->extra_ca == NULL) {
      g_uri_unref (uri);
      return FALSE;
    }
  }

  port = g_uri_get_port (uri);
  c->port = port > 0 ? port : (c->tls ? 443 : 80);
  c->host = g_strdup (host);
  c->scheme = g_strdup (scheme);
  c->method = g_strdup (method);
  query = g_uri_get_query (uri);
  c->path = g_strdup_printf ("%s%s%s", *g_uri_get_path (uri) ?
      g_uri_get_path (uri) : "/", query ? "?" : "", query ? query : "");
  c->req_headers = g_ptr_array_new_with_free_func (g_free);
  for (i = 0; headers && headers[i] && headers[i + 1]; i += 2) {
    if (!g_ascii_strcasecmp (headers[i], "host")) {
      g_free (c->authority);
      c->authority = g_strdup (headers[i + 1]);
      continue;
    }
    g_ptr_array_add (c->req_headers, g_ascii_strdown (headers[i], -1));
    g_ptr_array_add (c->req_headers, g_strdup (headers[i + 1]));
  }
  if (c->authority == NULL)
    c->authority = port > 0 ? g_strdup_printf ("%s:%d", host, port) :
        g_strdup (host);
  g_uri_unref (uri);

  c->socket_client = g_socket_client_new ();
  if (!c->tls) {
    g_socket_client_set_enable_proxy (c->socket_client, FALSE);
  } else if (proxy && *proxy) {
    GProxyResolver *resolver = g_simple_proxy_resolver_new (proxy, NULL);
    g_socket_client_set_proxy_resolver (c->socket_client, resolver);
    g_object_unref (resolver);
  }
  c->cancellable = g_cancellable_new ();
  if (timeout_ms > 0) {
    c->timeout_source = g_timeout_source_new (timeout_ms);
    g_source_set_callback (c->timeout_source, on_timeout, c, NULL);
    g_source_attach (c->timeout_source, g_main_context_get_thread_default ());
  }

  GST_DEBUG_OBJECT (c->parent, "connecting to %s:%u (%s)", c->host, c->port,
      c->tls ? "TLS, ALPN h2" : "h2c");
  g_socket_client_connect_to_uri_async (c->socket_client, url, c->port,
      c->cancellable, on_connected, h2_ref (c));
  return TRUE;
}

/* Queue @len bytes and/or the end of the body, and wake the deferred data
 * provider */
static gboolean
queue_body (GstS2SH2Client * c, const guint8 * data, gsize len, gboolean end)
{
  if (c == NULL || c->finished || c->dead || c->body_ended)
    return FALSE;

  g_byte_array_append (c->body, data, len);
  c->body_ended = end;
  if (c->session && c->body_deferred) {
    c->body_deferred = FALSE;
    nghttp2_session_resume_data (c->session, c->stream_id);
  }
  h2_flush (c);
  return TRUE;
}

gboolean
gst_s2s_h2_client_send (GstS2SH2Client * c, const guint8 * data, gsize len)
{
  return queue_body (c, data, len, FALSE);
}

gboolean
gst_s2s_h2_client_end (GstS2SH2Client * c)
{
  return queue_body (c, NULL, 0, TRUE);
}

gsize
gst_s2s_h2_client_get_queued (GstS2SH2Client * c)
{
  return (c->body->len - c->body_off) + (c->out->len - c->out_off);
}

gboolean
gst_s2s_h2_client_is_open (GstS2SH2Client * c)
{
  return c && c->opened && !c->finished && !c->dead;
}

void
gst_s2s_h2_client_free (GstS2SH2Client * c)
{
  if (c == NULL)
    return;

  c->dead = TRUE;
  stop_io (c);

  /* A polite goodbye if the socket takes it now; never wait for it. Not
   * from inside an nghttp2 callback, where the session must not send. */
  if (c->session && c->stream && !c->in_nghttp2) {
    GPollableOutputStream *os =
        G_POLLABLE_OUTPUT_STREAM (g_io_stream_get_output_stream (c->stream));
    const guint8 *data;
    gssize len;

    if (c->stream_id > 0 && !c->finished)
      nghttp2_submit_rst_stream (c->session, NGHTTP2_FLAG_NONE, c->stream_id,
          NGHTTP2_CANCEL);
    nghttp2_session_terminate_session (c->session, NGHTTP2_NO_ERROR);
    if (c->out->len == c->out_off) {
      while ((len = nghttp2_session_mem_send (c->session, &data)) > 0)
        g_byte_array_append (c->out, data, len);
      if (c->out->len > 0)
        g_pollable_output_stream_write_nonblocking (os, c->out->data,
            c->out->len, NULL, NULL);
    }
  }
  if (c->tcp)
    g_socket_close (g_socket_connection_get_socket (c->tcp), NULL);
  h2_unref (c);
}
