/* gst-s2s
 * Copyright (C) 2026 gst-s2s developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gsts2sws.h"
#include "gsts2sbase.h"

GST_DEBUG_CATEGORY_EXTERN (gst_s2s_debug);
#define GST_CAT_DEFAULT gst_s2s_debug

/* Server events carry base64 audio and whole transcripts: far above
 * libsoup's 128 KiB default per frame. */
#define MAX_INCOMING_PAYLOAD (16 * 1024 * 1024)

/* The async connect keeps a reference on this state so a callback that
 * fires after gst_s2s_ws_free() finds `dead` set instead of freed memory. */
typedef struct
{
  gint ref_count;
  gboolean dead;
  GstS2SWs *ws;
} GstS2SWsGuard;

struct _GstS2SWs
{
  GstObject *parent;            /* for log context only, not reffed */
  GstS2SWsCallbacks cb;
  gpointer user_data;

  SoupSession *session;
  SoupMessage *msg;
  SoupWebsocketConnection *conn;
  GCancellable *cancellable;
  GSource *timeout_source;
  GTlsDatabase *extra_ca;
  gboolean timed_out;
  GstS2SWsGuard *guard;
  gulong sig_message, sig_closed, sig_error;

  /* orderly close in progress */
  GstS2SWsDoneFunc close_done;
  gpointer close_data;
  GSource *close_source;
  guint close_timeout_ms;
};

/* The TLS trust store every connection verifies with.
 *
 * glib-networking 2.74's GnuTLS backend (Debian 12's only TLS backend)
 * gives every connection whose database is one of its own a private copy
 * of that database's trust list: for the system store, ~140 certificates
 * parsed again, about 4 MiB per connection for as long as it lives
 * (docs/performance.md, valgrind massif). With a database of another type
 * it allocates empty credentials and still verifies the peer through the
 * database's verify_chain. So sessions get this thin database, which hands
 * every call to the process's default (system) database: one parsed store
 * per process, the same verification. Extra anchors from ssl-ca-file are
 * still checked in on_accept_certificate. */
typedef struct
{
  GTlsDatabase parent;
} GstS2STlsDb;

typedef struct
{
  GTlsDatabaseClass parent_class;
} GstS2STlsDbClass;

static GType gst_s2s_tls_db_get_type (void);
G_DEFINE_TYPE (GstS2STlsDb, gst_s2s_tls_db, G_TYPE_TLS_DATABASE);

static GTlsDatabase *
system_db (void)
{
  static GTlsDatabase *db;

  if (g_once_init_enter (&db))
    g_once_init_leave (&db,
        g_tls_backend_get_default_database (g_tls_backend_get_default ()));
  return db;
}

static GTlsCertificateFlags
tls_db_verify_chain (GTlsDatabase * self, GTlsCertificate * chain,
    const gchar * purpose, GSocketConnectable * identity,
    GTlsInteraction * interaction, GTlsDatabaseVerifyFlags flags,
    GCancellable * cancellable, GError ** error)
{
  return g_tls_database_verify_chain (system_db (), chain, purpose, identity,
      interaction, flags, cancellable, error);
}

static gchar *
tls_db_create_certificate_handle (GTlsDatabase * self,
    GTlsCertificate * certificate)
{
  return g_tls_database_create_certificate_handle (system_db (), certificate);
}

static GTlsCertificate *
tls_db_lookup_certificate_for_handle (GTlsDatabase * self,
    const gchar * handle, GTlsInteraction * interaction,
    GTlsDatabaseLookupFlags flags, GCancellable * cancellable, GError ** error)
{
  return g_tls_database_lookup_certificate_for_handle (system_db (), handle,
      interaction, flags, cancellable, error);
}

static GTlsCertificate *
tls_db_lookup_certificate_issuer (GTlsDatabase * self,
    GTlsCertificate * certificate, GTlsInteraction * interaction,
    GTlsDatabaseLookupFlags flags, GCancellable * cancellable, GError ** error)
{
  return g_tls_database_lookup_certificate_issuer (system_db (), certificate,
      interaction, flags, cancellable, error);
}

static GList *
tls_db_lookup_certificates_issued_by (GTlsDatabase * self,
    GByteArray * issuer_raw_dn, GTlsInteraction * interaction,
    GTlsDatabaseLookupFlags flags, GCancellable * cancellable, GError ** error)
{
  return g_tls_database_lookup_certificates_issued_by (system_db (),
      issuer_raw_dn, interaction, flags, cancellable, error);
}

static void
gst_s2s_tls_db_class_init (GstS2STlsDbClass * klass)
{
  GTlsDatabaseClass *db_class = G_TLS_DATABASE_CLASS (klass);

  db_class->verify_chain = tls_db_verify_chain;
  db_class->create_certificate_handle = tls_db_create_certificate_handle;
  db_class->lookup_certificate_for_handle =
      tls_db_lookup_certificate_for_handle;
  db_class->lookup_certificate_issuer = tls_db_lookup_certificate_issuer;
  db_class->lookup_certificates_issued_by =
      tls_db_lookup_certificates_issued_by;
}

static void
gst_s2s_tls_db_init (GstS2STlsDb * self)
{
}

/* The process-wide instance; NULL when there is no TLS backend */
static GTlsDatabase *
shared_tls_db (void)
{
  static GTlsDatabase *db;

  if (g_once_init_enter (&db)) {
    GTlsDatabase *d = system_db ()?
        g_object_new (gst_s2s_tls_db_get_type (), NULL) : NULL;
    /* libsoup 3.2 builds each TLS connection with the backend's default
     * database and sets the session's only afterwards, by which time the
     * copy is made: so this becomes the process's default (it verifies
     * exactly like the one it wraps) */
    if (d)
      g_tls_backend_set_default_database (g_tls_backend_get_default (), d);
    g_once_init_leave (&db, d);
  }
  return db;
}

static GstS2SWsGuard *
guard_ref (GstS2SWsGuard * g)
{
  g->ref_count++;
  return g;
}

static void
guard_unref (GstS2SWsGuard * g)
{
  if (--g->ref_count == 0)
    g_free (g);
}

GstS2SWs *
gst_s2s_ws_new (GstObject * parent, const GstS2SWsCallbacks * cb,
    gpointer user_data)
{
  GstS2SWs *ws = g_new0 (GstS2SWs, 1);

  ws->parent = parent;
  ws->cb = *cb;
  ws->user_data = user_data;
  ws->guard = g_new0 (GstS2SWsGuard, 1);
  ws->guard->ref_count = 1;
  ws->guard->ws = ws;
  return ws;
}

gboolean
gst_s2s_tls_accept_with_extra_ca (GstObject * parent, GTlsDatabase * extra_ca,
    GTlsCertificate * cert, GTlsCertificateFlags errors, const gchar * host,
    guint16 port)
{
  GSocketConnectable *identity;
  GTlsCertificateFlags flags;
  GError *err = NULL;

  if (extra_ca == NULL)
    return FALSE;
  /* also used outside the plugin (the HTTP/2 client's unit tests) */
  if (G_UNLIKELY (gst_s2s_debug == NULL))
    GST_DEBUG_CATEGORY_INIT (gst_s2s_debug, "s2s", 0,
        "speech-to-speech base class");

  identity = g_network_address_new (host, port);
  flags = g_tls_database_verify_chain (extra_ca, cert,
      G_TLS_DATABASE_PURPOSE_AUTHENTICATE_SERVER, identity, NULL,
      G_TLS_DATABASE_VERIFY_NONE, NULL, &err);
  g_object_unref (identity);

  if (err) {
    GST_WARNING_OBJECT (parent, "verifying against ssl-ca-file: %s",
        err->message);
    g_clear_error (&err);
    return FALSE;
  }
  GST_DEBUG_OBJECT (parent, "certificate flags 0x%x against ssl-ca-file "
      "(0x%x against the system store)", flags, errors);
  return flags == 0;
}

static gboolean
on_accept_certificate (SoupMessage * msg, GTlsCertificate * cert,
    GTlsCertificateFlags errors, gpointer user_data)
{
  GstS2SWs *ws = user_data;
  GUri *uri = soup_message_get_uri (msg);

  return gst_s2s_tls_accept_with_extra_ca (ws->parent, ws->extra_ca, cert,
      errors, g_uri_get_host (uri),
      g_uri_get_port (uri) > 0 ? g_uri_get_port (uri) : 443);
}

static void
on_ws_message (SoupWebsocketConnection * conn, gint type, GBytes * message,
    gpointer user_data)
{
  GstS2SWs *ws = user_data;

  ws->cb.message (message, type == SOUP_WEBSOCKET_DATA_BINARY, ws->user_data);
}

static void
on_ws_error (SoupWebsocketConnection * conn, GError * error, gpointer user_data)
{
  GstS2SWs *ws = user_data;

  GST_WARNING_OBJECT (ws->parent, "WebSocket error: %s", error->message);
}

static void
clear_close_source (GstS2SWs * ws)
{
  if (ws->close_source) {
    g_source_destroy (ws->close_source);
    g_source_unref (ws->close_source);
    ws->close_source = NULL;
  }
}

static void
finish_close (GstS2SWs * ws)
{
  GstS2SWsDoneFunc done = ws->close_done;

  clear_close_source (ws);
  ws->close_done = NULL;
  if (done)
    done (ws->close_data);
}

static gboolean
on_close_timeout (gpointer user_data)
{
  GstS2SWs *ws = user_data;

  GST_INFO_OBJECT (ws->parent, "no answer to the close frame in %u ms",
      ws->close_timeout_ms);
  finish_close (ws);
  return G_SOURCE_REMOVE;
}

static void
schedule_close_source (GstS2SWs * ws, guint ms, GSourceFunc func)
{
  clear_close_source (ws);
  ws->close_source = g_timeout_source_new (ms);
  g_source_set_callback (ws->close_source, func, ws, NULL);
  g_source_attach (ws->close_source, g_main_context_get_thread_default ());
}

static gboolean
on_close_drained (gpointer user_data)
{
  GstS2SWs *ws = user_data;

  if (!gst_s2s_ws_is_open (ws)) {
    finish_close (ws);
    return G_SOURCE_REMOVE;
  }
  schedule_close_source (ws, ws->close_timeout_ms, on_close_timeout);
  soup_websocket_connection_close (ws->conn, SOUP_WEBSOCKET_CLOSE_NORMAL, NULL);
  return G_SOURCE_REMOVE;
}

void
gst_s2s_ws_close (GstS2SWs * ws, guint drain_ms, guint timeout_ms,
    GstS2SWsDoneFunc done, gpointer user_data)
{
  ws->close_done = done;
  ws->close_data = user_data;
  ws->close_timeout_ms = timeout_ms;
  if (!gst_s2s_ws_is_open (ws)) {
    finish_close (ws);
    return;
  }
  schedule_close_source (ws, drain_ms, on_close_drained);
}

static void
on_ws_closed (SoupWebsocketConnection * conn, gpointer user_data)
{
  GstS2SWs *ws = user_data;
  gushort code = soup_websocket_connection_get_close_code (conn);
  const gchar *data = soup_websocket_connection_get_close_data (conn);

  /* libsoup 3.2 leaves the code at 0 when the peer went away without a
   * close frame; RFC 6455 calls that 1006 (abnormal closure), which is what
   * the close-code of the error details and map_close_code expect */
  if (code == 0)
    code = SOUP_WEBSOCKET_CLOSE_ABNORMAL;

  GST_INFO_OBJECT (ws->parent, "WebSocket closed, code %u (%s)", code,
      GST_STR_NULL (data));
  if (ws->close_done) {
    finish_close (ws);
    return;
  }
  ws->cb.closed (code, data, ws->user_data);
}

static void
clear_timeout (GstS2SWs * ws)
{
  if (ws->timeout_source) {
    g_source_destroy (ws->timeout_source);
    g_source_unref (ws->timeout_source);
    ws->timeout_source = NULL;
  }
}

static void
on_connected (GObject * source, GAsyncResult * res, gpointer user_data)
{
  GstS2SWsGuard *guard = user_data;
  GstS2SWs *ws = guard->ws;
  SoupWebsocketConnection *conn;
  GError *err = NULL;

  conn = soup_session_websocket_connect_finish (SOUP_SESSION (source), res,
      &err);

  if (guard->dead) {
    g_clear_object (&conn);
    g_clear_error (&err);
    guard_unref (guard);
    return;
  }
  guard_unref (guard);
  clear_timeout (ws);

  if (conn == NULL) {
    guint status = soup_message_get_status (ws->msg);
    GError *report = err;

    if (ws->timed_out) {
      report = g_error_new_literal (G_IO_ERROR, G_IO_ERROR_TIMED_OUT,
          "connection timed out");
      g_clear_error (&err);
    }
    /* the body of a refused upgrade is not kept by libsoup 3.2 */
    ws->cb.failed (report, status >= 100 ? status : 0, NULL, ws->user_data);
    g_clear_error (&report);
    return;
  }

  ws->conn = conn;
  soup_websocket_connection_set_max_incoming_payload_size (conn,
      MAX_INCOMING_PAYLOAD);
  ws->sig_message = g_signal_connect (conn, "message",
      G_CALLBACK (on_ws_message), ws);
  ws->sig_error =
      g_signal_connect (conn, "error", G_CALLBACK (on_ws_error), ws);
  ws->sig_closed =
      g_signal_connect (conn, "closed", G_CALLBACK (on_ws_closed), ws);
  ws->cb.opened (ws->user_data);
}

static gboolean
on_connect_timeout (gpointer user_data)
{
  GstS2SWs *ws = user_data;

  GST_WARNING_OBJECT (ws->parent, "connect timed out");
  ws->timed_out = TRUE;
  g_cancellable_cancel (ws->cancellable);
  g_source_unref (ws->timeout_source);
  ws->timeout_source = NULL;
  return G_SOURCE_REMOVE;
}

void
gst_s2s_ws_connect (GstS2SWs * ws, SoupMessage * msg,
    const gchar * ssl_ca_file, const gchar * proxy, guint timeout_ms)
{
  GError *err = NULL;

  g_return_if_fail (ws->session == NULL);

  ws->session = soup_session_new_with_options ("timeout", 0,
      "idle-timeout", 0, NULL);
  /* only TLS needs the trust store (loading it takes a while) */
  if (g_ascii_strcasecmp (g_uri_get_scheme (soup_message_get_uri (msg)),
          "wss") == 0 || g_ascii_strcasecmp (g_uri_get_scheme
          (soup_message_get_uri (msg)), "https") == 0) {
    if (shared_tls_db ())
      soup_session_set_tls_database (ws->session, shared_tls_db ());
  }
  if (proxy && *proxy) {
    GProxyResolver *resolver = g_simple_proxy_resolver_new (proxy, NULL);
    soup_session_set_proxy_resolver (ws->session, resolver);
    g_object_unref (resolver);
  }
  if (ssl_ca_file && *ssl_ca_file) {
    ws->extra_ca = g_tls_file_database_new (ssl_ca_file, &err);
    if (ws->extra_ca == NULL) {
      ws->cb.failed (err, 0, NULL, ws->user_data);
      g_clear_error (&err);
      return;
    }
  }

  ws->msg = g_object_ref (msg);
  g_signal_connect (msg, "accept-certificate",
      G_CALLBACK (on_accept_certificate), ws);
  ws->cancellable = g_cancellable_new ();

  if (timeout_ms > 0) {
    ws->timeout_source = g_timeout_source_new (timeout_ms);
    g_source_set_callback (ws->timeout_source, on_connect_timeout, ws, NULL);
    g_source_attach (ws->timeout_source, g_main_context_get_thread_default ());
  }

  soup_session_websocket_connect_async (ws->session, msg, NULL, NULL,
      G_PRIORITY_DEFAULT, ws->cancellable, on_connected, guard_ref (ws->guard));
}

static gboolean
ws_send (GstS2SWs * ws, SoupWebsocketDataType type, gconstpointer data,
    gsize len)
{
  GBytes *bytes;

  if (!gst_s2s_ws_is_open (ws))
    return FALSE;

  /* send_message takes the exact length: no copy into a NUL-terminated
   * string as send_text would need */
  bytes = g_bytes_new (data, len);
  soup_websocket_connection_send_message (ws->conn, type, bytes);
  g_bytes_unref (bytes);
  return TRUE;
}

gboolean
gst_s2s_ws_send_text (GstS2SWs * ws, const gchar * text, gsize len)
{
  return ws_send (ws, SOUP_WEBSOCKET_DATA_TEXT, text, len);
}

gboolean
gst_s2s_ws_send_binary (GstS2SWs * ws, const guint8 * data, gsize len)
{
  return ws_send (ws, SOUP_WEBSOCKET_DATA_BINARY, data, len);
}

gboolean
gst_s2s_ws_is_open (GstS2SWs * ws)
{
  return ws && ws->conn &&
      soup_websocket_connection_get_state (ws->conn) ==
      SOUP_WEBSOCKET_STATE_OPEN;
}

void
gst_s2s_ws_free (GstS2SWs * ws)
{
  if (ws == NULL)
    return;

  ws->guard->dead = TRUE;
  guard_unref (ws->guard);
  clear_timeout (ws);
  clear_close_source (ws);
  if (ws->cancellable)
    g_cancellable_cancel (ws->cancellable);

  if (ws->conn) {
    g_signal_handler_disconnect (ws->conn, ws->sig_message);
    g_signal_handler_disconnect (ws->conn, ws->sig_error);
    g_signal_handler_disconnect (ws->conn, ws->sig_closed);
    /* Best effort close frame; we do not wait for the peer's answer. */
    if (soup_websocket_connection_get_state (ws->conn) ==
        SOUP_WEBSOCKET_STATE_OPEN)
      soup_websocket_connection_close (ws->conn, SOUP_WEBSOCKET_CLOSE_NORMAL,
          NULL);
    g_io_stream_close (soup_websocket_connection_get_io_stream (ws->conn),
        NULL, NULL);
    g_object_unref (ws->conn);
  }
  if (ws->msg) {
    g_signal_handlers_disconnect_by_data (ws->msg, ws);
    g_object_unref (ws->msg);
  }
  if (ws->session) {
    soup_session_abort (ws->session);
    g_object_unref (ws->session);
  }
  g_clear_object (&ws->cancellable);
  g_clear_object (&ws->extra_ca);
  g_free (ws);
}
