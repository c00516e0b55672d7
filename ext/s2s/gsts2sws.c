/* gst-s2s
 * Copyright (C) 2026 gst-s2s developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <string.h>
#include <glib/gstdio.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include "gsts2sws.h"
#include "gsts2swsframe.h"
#include "gsts2sbase.h"

GST_DEBUG_CATEGORY_EXTERN (gst_s2s_debug);
#define GST_CAT_DEFAULT gst_s2s_debug

/* The WebSocket client (RFC 6455) of the providers that speak WebSocket.
 *
 * Reading, connecting and closing happen on the element's I/O thread (the
 * GMainContext that is thread-default when gst_s2s_ws_connect() runs).
 * Sending may happen on any thread: the sink pad's streaming thread sends
 * input audio directly, the I/O thread its events. libsoup 3.2's
 * SoupWebsocketConnection cannot be shared that way, hence this client.
 *
 * Threading of the write side: every send builds one complete masked frame
 * and, under the writer's mutex, either writes it at once with a
 * non-blocking write (when nothing is queued) or appends what did not fit
 * to the queue, which a pollable output source on the I/O thread drains.
 * Frames never interleave, and at most one thread writes to the stream at
 * a time (the mutex). The stream may be read by the I/O thread meanwhile:
 * a GSocketConnection allows that, and so does glib-networking's
 * GTlsConnection (one reader and one writer at once; its read and write
 * operations are claimed separately). See docs/design.md. */

/* Benchmark probes: tests/bench/s2s-bench.c defines them (and is linked
 * with --export-dynamic, so these weak references resolve to it); in any
 * other program they stay NULL. send: a frame's payload went to the
 * socket, or to the queue when the socket was full (the end of the
 * element's input path); message: a message arrived, before the element
 * handles it. */
void gst_s2s_ws_probe_send (gconstpointer ws, const guint8 * data, gsize len)
    __attribute__((weak));
void gst_s2s_ws_probe_message (gconstpointer ws, const guint8 * data,
    gsize len) __attribute__((weak));

/* Server events carry base64 audio and whole transcripts */
#define MAX_INCOMING_PAYLOAD (16 * 1024 * 1024)
/* response headers, and the body of a refused upgrade */
#define MAX_HANDSHAKE_BYTES (64 * 1024)
/* the read step: a TLS record's size at most */
#define READ_CHUNK (16 * 1024)
#define WS_GUID "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

typedef enum
{
  WS_NEW,
  WS_CONNECTING,                /* TCP, proxy, TLS */
  WS_HANDSHAKE,                 /* upgrade sent, reading the response */
  WS_BODY,                      /* reading the body of a refused upgrade */
  WS_OPEN,
  WS_CLOSING,                   /* our close frame is out */
  WS_CLOSED
} WsState;

/* The write side, shared by every thread that sends. Refcounted: the
 * sources of the I/O thread hold it too. */
typedef struct
{
  gint ref_count;
  GMutex lock;
  /* all below under lock */
  gboolean writable;            /* data frames accepted */
  gboolean dead;                /* the stream is gone */
  GPollableOutputStream *out;
  GByteArray *queue;
  gsize queue_off;
  GByteArray *scratch;
  GSource *flush_source;
  GMainContext *ctx;
  guint64 prng;
  GstObject *parent;
} WsWriter;

/* The async operations keep a reference on this state so a callback that
 * fires after gst_s2s_ws_free() finds `dead` set instead of freed memory. */
typedef struct
{
  gint ref_count;
  gboolean dead;
  GstS2SWs *ws;
} GstS2SWsGuard;

/* What was read and not yet handled. It has no storage while nothing is
 * pending: allocated in READ_CHUNK steps as a read needs (a frame bigger
 * than a step grows it), and given back once the socket is drained with
 * no partial frame left, so an idle conversation holds none. */
typedef struct
{
  guint8 *data;
  gsize len;
  gsize cap;
} WsReadBuf;

struct _GstS2SWs
{
  GstObject *parent;            /* for log context only, not reffed */
  GstS2SWsCallbacks cb;
  gpointer user_data;
  GMainContext *ctx;

  WsState state;
  GUri *uri;
  SoupMessage *msg;
  GSocketClient *client;
  GTlsConnection *tls;          /* while its accept-certificate is ours */
  GIOStream *stream;
  GPollableInputStream *in;
  GSource *in_source;
  WsWriter *writer;
  WsReadBuf rbuf;
  GstS2SWsAssembler asm_;
  gchar *accept_key;

  GCancellable *cancellable;
  GSource *timeout_source;
  GTlsDatabase *extra_ca;
  gboolean timed_out;
  GstS2SWsGuard *guard;

  /* a refused upgrade */
  guint status;
  gint64 body_len;              /* -1: until close; -2: chunked */

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
    /* GIO builds each TLS client connection with the backend's default
     * database; ours is set only afterwards (GSocketClient's
     * TLS_HANDSHAKING event), by which time the copy is made: so this
     * becomes the process's default (it verifies exactly like the one it
     * wraps) */
    if (d)
      g_tls_backend_set_default_database (g_tls_backend_get_default (), d);
    g_once_init_leave (&db, d);
  }
  return db;
}


/* The ssl-ca-file databases: one per file per process, shared by every
 * connection (WebSocket and HTTP/2) that names the file, parsed again when
 * the file changed (modification time, size or inode). A connection keeps
 * the database it started with. */
typedef struct
{
  GTlsDatabase *db;
  gint64 mtime_ns;
  gint64 size;
  guint64 ino;
} CaFileEntry;

static GMutex ca_files_lock;
static GHashTable *ca_files;    /* path -> CaFileEntry */

static void
ca_file_entry_free (gpointer data)
{
  CaFileEntry *e = data;

  g_object_unref (e->db);
  g_free (e);
}

GTlsDatabase *
gst_s2s_tls_ca_file_database (const gchar * path, GError ** error)
{
  GStatBuf st;
  CaFileEntry *e;
  GTlsDatabase *db;
  gint64 mtime_ns;

  g_return_val_if_fail (path != NULL, NULL);
  /* the parser reports a missing or unreadable file */
  if (g_stat (path, &st) != 0)
    return g_tls_file_database_new (path, error);
  mtime_ns = (gint64) st.st_mtim.tv_sec * G_GINT64_CONSTANT (1000000000) +
      st.st_mtim.tv_nsec;

  g_mutex_lock (&ca_files_lock);
  if (ca_files == NULL)
    ca_files = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
        ca_file_entry_free);
  e = g_hash_table_lookup (ca_files, path);
  if (e && e->mtime_ns == mtime_ns && e->size == (gint64) st.st_size &&
      e->ino == (guint64) st.st_ino) {
    db = g_object_ref (e->db);
    g_mutex_unlock (&ca_files_lock);
    return db;
  }
  db = g_tls_file_database_new (path, error);
  if (db) {
    e = g_new0 (CaFileEntry, 1);
    e->db = g_object_ref (db);
    e->mtime_ns = mtime_ns;
    e->size = st.st_size;
    e->ino = st.st_ino;
    g_hash_table_replace (ca_files, g_strdup (path), e);
  }
  g_mutex_unlock (&ca_files_lock);
  return db;
}

/* Room for @extra more bytes after what is pending */
static void
rbuf_reserve (WsReadBuf * b, gsize extra)
{
  gsize want = b->len + extra;

  if (want <= b->cap)
    return;
  /* doubling past the first step: a big frame arrives in few reallocs */
  b->cap = b->cap == 0 ? want : MAX (want, b->cap * 2);
  b->data = g_realloc (b->data, b->cap);
}

/* Drops the first @n bytes */
static void
rbuf_consume (WsReadBuf * b, gsize n)
{
  g_assert (n <= b->len);
  if (n < b->len)
    memmove (b->data, b->data + n, b->len - n);
  b->len -= n;
}

static void
rbuf_release (WsReadBuf * b)
{
  g_clear_pointer (&b->data, g_free);
  b->len = b->cap = 0;
}

/* The socket is drained: nothing pending gives the storage back; a
 * partial frame keeps at most what it holds plus one step */
static void
rbuf_trim (WsReadBuf * b)
{
  if (b->len == 0) {
    rbuf_release (b);
  } else if (b->cap > b->len + 2 * READ_CHUNK) {
    b->cap = b->len + READ_CHUNK;
    b->data = g_realloc (b->data, b->cap);
  }
}

gsize
gst_s2s_ws_read_buffer_size (GstS2SWs * ws)
{
  return ws->rbuf.cap;
}

GTlsDatabase *
gst_s2s_tls_system_database (void)
{
  return shared_tls_db ();
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

/* ------------------------------------------------------------------------ */
/* Write side (any thread) */

static WsWriter *
writer_ref (WsWriter * w)
{
  g_atomic_int_inc (&w->ref_count);
  return w;
}

static void
writer_unref (WsWriter * w)
{
  if (!g_atomic_int_dec_and_test (&w->ref_count))
    return;
  g_mutex_clear (&w->lock);
  g_byte_array_unref (w->queue);
  g_byte_array_unref (w->scratch);
  g_clear_object (&w->out);
  g_main_context_unref (w->ctx);
  g_free (w);
}

/* lock held: writes what the queue holds without blocking; FALSE when the
 * stream failed */
static gboolean
writer_drain_locked (WsWriter * w)
{
  while (w->queue_off < w->queue->len) {
    GError *err = NULL;
    gssize n = g_pollable_output_stream_write_nonblocking (w->out,
        w->queue->data + w->queue_off, w->queue->len - w->queue_off, NULL,
        &err);

    if (n < 0) {
      if (g_error_matches (err, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK)) {
        g_error_free (err);
        return TRUE;
      }
      GST_INFO_OBJECT (w->parent, "WebSocket write failed: %s", err->message);
      g_error_free (err);
      w->writable = FALSE;
      w->dead = TRUE;
      g_byte_array_set_size (w->queue, 0);
      w->queue_off = 0;
      return FALSE;
    }
    w->queue_off += n;
  }
  g_byte_array_set_size (w->queue, 0);
  w->queue_off = 0;
  return TRUE;
}

static gboolean
on_writable (GObject * stream, gpointer data)
{
  WsWriter *w = data;
  gboolean more;

  g_mutex_lock (&w->lock);
  if (!w->dead)
    writer_drain_locked (w);
  more = !w->dead && w->queue->len > 0;
  if (!more && w->flush_source) {
    g_source_unref (w->flush_source);
    w->flush_source = NULL;
  }
  g_mutex_unlock (&w->lock);
  return more ? G_SOURCE_CONTINUE : G_SOURCE_REMOVE;
}

/* I/O thread: wait for the stream to take the queue */
static gboolean
on_flush_wake (gpointer data)
{
  WsWriter *w = data;

  g_mutex_lock (&w->lock);
  if (!w->dead && w->flush_source == NULL && w->queue->len > 0) {
    w->flush_source = g_pollable_output_stream_create_source (w->out, NULL);
    g_source_set_callback (w->flush_source, G_SOURCE_FUNC (on_writable),
        writer_ref (w), (GDestroyNotify) writer_unref);
    g_source_attach (w->flush_source, w->ctx);
  }
  g_mutex_unlock (&w->lock);
  return G_SOURCE_REMOVE;
}

/* lock held: @data, a complete frame (or bytes of the handshake), goes to
 * the stream now if nothing is queued, otherwise (and for what the stream
 * did not take) after the queue */
static gboolean
writer_put_locked (WsWriter * w, const guint8 * data, gsize len,
    gboolean in_scratch)
{
  gboolean was_empty = w->queue->len == 0;

  if (was_empty) {
    gsize done = 0;

    while (done < len) {
      GError *err = NULL;
      gssize n = g_pollable_output_stream_write_nonblocking (w->out,
          data + done, len - done, NULL, &err);

      if (n < 0) {
        if (g_error_matches (err, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK)) {
          g_error_free (err);
          break;
        }
        GST_INFO_OBJECT (w->parent, "WebSocket write failed: %s", err->message);
        g_error_free (err);
        w->writable = FALSE;
        w->dead = TRUE;
        return FALSE;
      }
      done += n;
    }
    if (done == len)
      return TRUE;
    data += done;
    len -= done;
  }
  g_byte_array_append (w->queue, data, len);
  /* wake the I/O thread only when the queue just started */
  if (was_empty && w->flush_source == NULL) {
    GSource *src = g_idle_source_new ();

    g_source_set_priority (src, G_PRIORITY_DEFAULT);
    g_source_set_callback (src, on_flush_wake, writer_ref (w),
        (GDestroyNotify) writer_unref);
    g_source_attach (src, w->ctx);
    g_source_unref (src);
  }
  return TRUE;
}

/* any thread: one frame out; FALSE when the connection takes no more */
static gboolean
writer_send (WsWriter * w, guint8 opcode, const guint8 * data, gsize len,
    gboolean control)
{
  gboolean ok;

  g_mutex_lock (&w->lock);
  if (w->dead || (!w->writable && !control)) {
    g_mutex_unlock (&w->lock);
    return FALSE;
  }
  if (w->queue->len > 0) {
    gst_s2s_ws_frame_build (w->queue, opcode, data, len,
        gst_s2s_ws_prng_next (&w->prng));
    ok = TRUE;
  } else {
    g_byte_array_set_size (w->scratch, 0);
    gst_s2s_ws_frame_build (w->scratch, opcode, data, len,
        gst_s2s_ws_prng_next (&w->prng));
    ok = writer_put_locked (w, w->scratch->data, w->scratch->len, TRUE);
    /* do not keep a large buffer for the next small frame */
    if (w->scratch->len > 256 * 1024) {
      g_byte_array_unref (w->scratch);
      w->scratch = g_byte_array_new ();
    }
  }
  g_mutex_unlock (&w->lock);
  return ok;
}

/* I/O thread: the close frame; nothing but control frames after it */
static void
writer_send_close (WsWriter * w, gushort code, const gchar * reason)
{
  guint8 payload[125];
  gsize len = 0;

  g_mutex_lock (&w->lock);
  w->writable = FALSE;
  g_mutex_unlock (&w->lock);
  if (code != 1005) {
    payload[0] = code >> 8;
    payload[1] = code & 0xff;
    len = 2;
    if (reason) {
      gsize r = MIN (strlen (reason), sizeof (payload) - 2);
      memcpy (payload + 2, reason, r);
      len += r;
    }
  }
  writer_send (w, GST_S2S_WS_OP_CLOSE, payload, len, TRUE);
}

static WsWriter *
writer_new (GstS2SWs * ws, GOutputStream * out)
{
  WsWriter *w = g_new0 (WsWriter, 1);

  w->ref_count = 1;
  g_mutex_init (&w->lock);
  w->out = G_POLLABLE_OUTPUT_STREAM (g_object_ref (out));
  w->queue = g_byte_array_new ();
  w->scratch = g_byte_array_new ();
  w->ctx = g_main_context_ref (ws->ctx);
  w->parent = ws->parent;
  /* xorshift needs a non-zero state */
  w->prng = ((guint64) g_random_int () << 32) | g_random_int () | 1;
  return w;
}

/* I/O thread: no more writes; a last attempt at what is queued */
static void
writer_shutdown (WsWriter * w)
{
  g_mutex_lock (&w->lock);
  if (!w->dead && w->queue->len > 0)
    writer_drain_locked (w);
  w->writable = FALSE;
  w->dead = TRUE;
  if (w->flush_source) {
    g_source_destroy (w->flush_source);
    g_source_unref (w->flush_source);
    w->flush_source = NULL;
  }
  g_mutex_unlock (&w->lock);
}

/* ------------------------------------------------------------------------ */
/* Connection (I/O thread) */

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
  gst_s2s_ws_assembler_init (&ws->asm_, MAX_INCOMING_PAYLOAD);
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
on_accept_certificate (GTlsConnection * conn, GTlsCertificate * cert,
    GTlsCertificateFlags errors, gpointer user_data)
{
  GstS2SWs *ws = user_data;

  return gst_s2s_tls_accept_with_extra_ca (ws->parent, ws->extra_ca, cert,
      errors, g_uri_get_host (ws->uri),
      g_uri_get_port (ws->uri) > 0 ? g_uri_get_port (ws->uri) : 443);
}

/* The trust rules of every connection: the shared thin database, and the
 * ssl-ca-file anchors through accept-certificate */
static void
on_client_event (GSocketClient * client, GSocketClientEvent event,
    GSocketConnectable * connectable, GIOStream * connection,
    gpointer user_data)
{
  GstS2SWs *ws = user_data;

  if (event != G_SOCKET_CLIENT_TLS_HANDSHAKING ||
      !G_IS_TLS_CONNECTION (connection))
    return;
  if (shared_tls_db ())
    g_tls_connection_set_database (G_TLS_CONNECTION (connection),
        shared_tls_db ());
  g_signal_connect (connection, "accept-certificate",
      G_CALLBACK (on_accept_certificate), ws);
  if (ws->tls == NULL)
    ws->tls = g_object_ref (G_TLS_CONNECTION (connection));
}

static void
clear_tls (GstS2SWs * ws)
{
  if (ws->tls) {
    g_signal_handlers_disconnect_by_data (ws->tls, ws);
    g_clear_object (&ws->tls);
  }
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
clear_timeout (GstS2SWs * ws)
{
  clear_source (&ws->timeout_source);
}

/* Stops reading and writing; the stream stays until free */
static void
shutdown_io (GstS2SWs * ws)
{
  clear_source (&ws->in_source);
  if (ws->writer)
    writer_shutdown (ws->writer);
}

static void
fail_connect (GstS2SWs * ws, GError * error, guint status, const gchar * body)
{
  clear_timeout (ws);
  shutdown_io (ws);
  ws->state = WS_CLOSED;
  if (ws->timed_out && !g_error_matches (error, G_IO_ERROR,
          G_IO_ERROR_TIMED_OUT)) {
    GError *t = g_error_new_literal (G_IO_ERROR, G_IO_ERROR_TIMED_OUT,
        "connection timed out");
    ws->cb.failed (t, status, body, ws->user_data);
    g_error_free (t);
  } else {
    ws->cb.failed (error, status, body, ws->user_data);
  }
}

static void
clear_close_source (GstS2SWs * ws)
{
  clear_source (&ws->close_source);
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

/* The connection ended after it opened: the peer's close code, 1005 when
 * its close frame had none, 1006 when the socket broke without one */
static void
connection_ended (GstS2SWs * ws, gushort code, const gchar * reason)
{
  shutdown_io (ws);
  ws->state = WS_CLOSED;
  GST_INFO_OBJECT (ws->parent, "WebSocket closed, code %u (%s)", code,
      GST_STR_NULL (reason));
  if (ws->close_done) {
    finish_close (ws);
    return;
  }
  ws->cb.closed (code, reason, ws->user_data);
}

/* A frame that breaks the protocol: close with @code and report it */
static void
protocol_error (GstS2SWs * ws, gushort code)
{
  static const gchar *const reasons[] = {
    "protocol error", "invalid UTF-8", "message too big"
  };
  const gchar *reason = code == 1007 ? reasons[1] : code == 1009 ?
      reasons[2] : reasons[0];

  GST_WARNING_OBJECT (ws->parent, "WebSocket %s from the server, closing "
      "with %u", reason, code);
  writer_send_close (ws->writer, code, reason);
  connection_ended (ws, code, reason);
}

/* Returns FALSE when @ws was freed by a callback or stopped reading */
static gboolean
handle_frames (GstS2SWs * ws)
{
  GstS2SWsGuard *guard = ws->guard;
  gsize off = 0;
  gboolean alive = TRUE;

  guard_ref (guard);
  /* (an empty buffer may have no storage yet: no pointer arithmetic on it) */
  while ((ws->state == WS_OPEN || ws->state == WS_CLOSING) &&
      off < ws->rbuf.len) {
    GstS2SWsFrame f;
    gssize n = gst_s2s_ws_frame_parse (ws->rbuf.data + off,
        ws->rbuf.len - off, MAX_INCOMING_PAYLOAD, &f);

    if (n == 0)
      break;
    if (n < 0) {
      protocol_error (ws, -n);
      break;
    }
    off += n;
    if (f.opcode == GST_S2S_WS_OP_PING) {
      /* nothing may follow our close frame */
      if (ws->state == WS_OPEN)
        writer_send (ws->writer, GST_S2S_WS_OP_PONG, f.payload, f.len, TRUE);
    } else if (f.opcode == GST_S2S_WS_OP_PONG) {
    } else if (f.opcode == GST_S2S_WS_OP_CLOSE) {
      gushort code;
      gchar *reason;

      if (!gst_s2s_ws_parse_close (f.payload, f.len, &code, &reason)) {
        protocol_error (ws, 1002);
        break;
      }
      /* echo it, unless it answers ours */
      if (ws->state == WS_OPEN)
        writer_send_close (ws->writer, code, NULL);
      connection_ended (ws, code, reason);
      g_free (reason);
    } else {
      GBytes *msg;
      gboolean binary;
      gushort err = gst_s2s_ws_assembler_push (&ws->asm_, &f, &msg, &binary);

      if (err) {
        protocol_error (ws, err);
        break;
      }
      if (msg) {
        if (G_UNLIKELY (gst_s2s_ws_probe_message != NULL))
          gst_s2s_ws_probe_message (ws, g_bytes_get_data (msg, NULL),
              g_bytes_get_size (msg));
        ws->cb.message (msg, binary, ws->user_data);
        g_bytes_unref (msg);
      }
    }
    if (guard->dead) {
      alive = FALSE;
      break;
    }
  }
  if (guard->dead)
    alive = FALSE;
  if (alive && off > 0)
    rbuf_consume (&ws->rbuf, off);
  /* closed: nothing more is read */
  if (alive && ws->state == WS_CLOSED)
    rbuf_release (&ws->rbuf);
  guard_unref (guard);
  return alive && ws->state != WS_CLOSED;
}

static gchar *
chunked_decode (const guint8 * data, gsize len, gboolean * complete)
{
  GString *s = g_string_new (NULL);
  gsize off = 0;

  *complete = FALSE;
  while (off < len) {
    const guint8 *eol = memchr (data + off, '\n', len - off);
    guint64 size;

    if (eol == NULL)
      break;
    size = g_ascii_strtoull ((const gchar *) data + off, NULL, 16);
    off = eol - data + 1;
    if (size == 0) {
      *complete = TRUE;
      break;
    }
    if (len - off < size)
      break;
    g_string_append_len (s, (const gchar *) data + off, size);
    off += size;
    if (off < len && data[off] == '\r')
      off++;
    if (off < len && data[off] == '\n')
      off++;
  }
  return g_string_free (s, FALSE);
}

/* The body of a refused upgrade so far; @eof: the peer closed */
static void
check_body (GstS2SWs * ws, gboolean eof)
{
  gchar *body = NULL;
  gboolean complete = eof || ws->rbuf.len >= MAX_HANDSHAKE_BYTES;
  GError *err;

  if (ws->body_len == -2) {
    gboolean done;
    body = chunked_decode (ws->rbuf.data, ws->rbuf.len, &done);
    complete = complete || done;
  } else if (ws->body_len >= 0 && (gint64) ws->rbuf.len >= ws->body_len) {
    complete = TRUE;
  }
  if (!complete) {
    g_free (body);
    return;
  }
  if (body == NULL)
    body = g_strndup ((const gchar *) ws->rbuf.data, ws->body_len >= 0 ?
        MIN ((gsize) ws->body_len, ws->rbuf.len) : ws->rbuf.len);
  err = g_error_new (G_IO_ERROR, G_IO_ERROR_FAILED,
      "the server refused the WebSocket upgrade: HTTP %u", ws->status);
  fail_connect (ws, err, ws->status, body);
  g_error_free (err);
  g_free (body);
}

static gboolean
header_has_token (SoupMessageHeaders * h, const gchar * name,
    const gchar * token)
{
  const gchar *v = soup_message_headers_get_list (h, name);
  return v && soup_header_contains (v, token);
}

/* The response headers are complete in rbuf[0, @hlen) */
static void
handle_response (GstS2SWs * ws, gsize hlen)
{
  SoupMessageHeaders *h =
      soup_message_headers_new (SOUP_MESSAGE_HEADERS_RESPONSE);
  guint status = 0;
  GError *err = NULL;

  if (!soup_headers_parse_response ((const gchar *) ws->rbuf.data, hlen - 2,
          h, NULL, &status, NULL)) {
    err = g_error_new_literal (G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
        "invalid HTTP response to the WebSocket upgrade");
    fail_connect (ws, err, 0, NULL);
    goto out;
  }
  rbuf_consume (&ws->rbuf, hlen);

  if (status != 101) {
    GST_INFO_OBJECT (ws->parent, "upgrade refused: HTTP %u", status);
    ws->status = status;
    ws->state = WS_BODY;
    if (soup_message_headers_get_encoding (h) == SOUP_ENCODING_CHUNKED)
      ws->body_len = -2;
    else if (soup_message_headers_get_encoding (h) ==
        SOUP_ENCODING_CONTENT_LENGTH)
      ws->body_len = MIN (soup_message_headers_get_content_length (h),
          MAX_HANDSHAKE_BYTES);
    else
      ws->body_len = -1;
    check_body (ws, FALSE);
    goto out;
  }
  if (!header_has_token (h, "Upgrade", "websocket") ||
      !header_has_token (h, "Connection", "upgrade") ||
      g_strcmp0 (soup_message_headers_get_one (h, "Sec-WebSocket-Accept"),
          ws->accept_key) != 0) {
    err = g_error_new_literal (G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
        "the server did not accept the WebSocket handshake");
    fail_connect (ws, err, 101, NULL);
    goto out;
  }
  g_clear_pointer (&ws->accept_key, g_free);
  if (soup_message_headers_get_one (h, "Sec-WebSocket-Extensions")) {
    err = g_error_new_literal (G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
        "the server chose a WebSocket extension none was offered");
    fail_connect (ws, err, 101, NULL);
    goto out;
  }

  clear_timeout (ws);
  ws->state = WS_OPEN;
  g_mutex_lock (&ws->writer->lock);
  ws->writer->writable = TRUE;
  g_mutex_unlock (&ws->writer->lock);
  GST_INFO_OBJECT (ws->parent, "WebSocket open");
  {
    GstS2SWsGuard *guard = guard_ref (ws->guard);
    ws->cb.opened (ws->user_data);
    /* frames that came with the response */
    if (!guard->dead && ws->rbuf.len > 0)
      handle_frames (ws);
    guard_unref (guard);
  }
out:
  g_clear_error (&err);
  soup_message_headers_unref (h);
}

static const guint8 *
find_header_end (const WsReadBuf * b)
{
  guint i;

  for (i = 0; i + 4 <= b->len; i++)
    if (memcmp (b->data + i, "\r\n\r\n", 4) == 0)
      return b->data + i;
  return NULL;
}

static gboolean
on_readable (GObject * stream, gpointer data)
{
  GstS2SWs *ws = data;
  GstS2SWsGuard *guard;
  gboolean gone;

  for (;;) {
    GError *err = NULL;
    gssize n;

    /* into the room left when there is some, else one more step */
    if (ws->rbuf.cap - ws->rbuf.len < READ_CHUNK / 4)
      rbuf_reserve (&ws->rbuf, READ_CHUNK);
    n = g_pollable_input_stream_read_nonblocking (ws->in,
        ws->rbuf.data + ws->rbuf.len, ws->rbuf.cap - ws->rbuf.len, NULL, &err);
    if (n > 0)
      ws->rbuf.len += n;

    if (n < 0 && g_error_matches (err, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK)) {
      g_error_free (err);
      /* drained: what is left is a partial frame, if anything */
      rbuf_trim (&ws->rbuf);
      return G_SOURCE_CONTINUE;
    }
    if (n <= 0) {
      /* EOF or a broken socket; the source goes with shutdown_io() */
      GST_INFO_OBJECT (ws->parent, "WebSocket read: %s",
          err ? err->message : "end of stream");
      if (ws->state == WS_HANDSHAKE) {
        GError *e = err ? err : g_error_new_literal (G_IO_ERROR,
            G_IO_ERROR_CONNECTION_CLOSED, "connection closed during the "
            "WebSocket handshake");
        fail_connect (ws, e, 0, NULL);
        if (e != err)
          g_error_free (e);
      } else if (ws->state == WS_BODY) {
        check_body (ws, TRUE);
      } else {
        connection_ended (ws, 1006, NULL);
      }
      g_clear_error (&err);
      return G_SOURCE_REMOVE;
    }

    if (ws->state == WS_HANDSHAKE) {
      const guint8 *end = find_header_end (&ws->rbuf);

      if (end == NULL) {
        if (ws->rbuf.len > MAX_HANDSHAKE_BYTES) {
          GError *e = g_error_new_literal (G_IO_ERROR,
              G_IO_ERROR_MESSAGE_TOO_LARGE, "WebSocket upgrade response "
              "headers too large");
          fail_connect (ws, e, 0, NULL);
          g_error_free (e);
          return G_SOURCE_REMOVE;
        }
        continue;
      }
      guard = guard_ref (ws->guard);
      handle_response (ws, end - ws->rbuf.data + 4);
      gone = guard->dead;
      guard_unref (guard);
      /* a callback freed @ws, or the upgrade failed (the source is gone) */
      if (gone || (ws->state != WS_OPEN && ws->state != WS_BODY))
        return G_SOURCE_CONTINUE;
    } else if (ws->state == WS_BODY) {
      guard = guard_ref (ws->guard);
      check_body (ws, FALSE);
      gone = guard->dead;
      guard_unref (guard);
      if (gone || ws->state != WS_BODY)
        return G_SOURCE_CONTINUE;
    } else if (!handle_frames (ws)) {
      return G_SOURCE_CONTINUE;
    }
  }
}

static void
on_connected (GObject * source, GAsyncResult * res, gpointer user_data)
{
  GstS2SWsGuard *guard = user_data;
  GstS2SWs *ws = guard->ws;
  GSocketConnection *conn;
  GError *err = NULL;
  GString *req;
  guint8 key[16];
  gchar *key64, *path;
  GChecksum *sha;
  guint8 digest[20];
  gsize dlen = sizeof (digest);
  SoupMessageHeadersIter iter;
  const gchar *name, *value;
  GIOStream *base;
  gint i, port;

  conn = g_socket_client_connect_to_uri_finish (G_SOCKET_CLIENT (source), res,
      &err);
  if (guard->dead) {
    g_clear_object (&conn);
    g_clear_error (&err);
    guard_unref (guard);
    return;
  }
  guard_unref (guard);
  clear_tls (ws);
  /* what only the connect needed: the socket client (its resolver and
   * proxy settings) and the extra anchors (TLS was verified during the
   * connect) */
  g_signal_handlers_disconnect_by_data (ws->client, ws);
  g_clear_object (&ws->client);
  g_clear_object (&ws->extra_ca);
  g_clear_object (&ws->cancellable);

  if (conn == NULL) {
    fail_connect (ws, err, 0, NULL);
    g_clear_error (&err);
    return;
  }
  ws->stream = G_IO_STREAM (conn);

  /* input goes out 20 ms at a time: no Nagle delay */
  base = g_object_ref (ws->stream);
  if (G_IS_TLS_CONNECTION (base)) {
    GIOStream *b = NULL;
    g_object_get (base, "base-io-stream", &b, NULL);
    g_object_unref (base);
    base = b;
  }
  if (base && G_IS_SOCKET_CONNECTION (base)) {
    GSocket *sock = g_socket_connection_get_socket (G_SOCKET_CONNECTION (base));
    if (sock && g_socket_get_family (sock) != G_SOCKET_FAMILY_UNIX)
      g_socket_set_option (sock, IPPROTO_TCP, TCP_NODELAY, 1, NULL);
  }
  g_clear_object (&base);

  ws->in = G_POLLABLE_INPUT_STREAM (g_io_stream_get_input_stream (ws->stream));
  ws->writer = writer_new (ws, g_io_stream_get_output_stream (ws->stream));

  /* the upgrade request */
  for (i = 0; i < 4; i++) {
    guint32 r = g_random_int ();
    memcpy (key + 4 * i, &r, 4);
  }
  key64 = g_base64_encode (key, sizeof (key));
  sha = g_checksum_new (G_CHECKSUM_SHA1);
  g_checksum_update (sha, (const guchar *) key64, -1);
  g_checksum_update (sha, (const guchar *) WS_GUID, -1);
  g_checksum_get_digest (sha, digest, &dlen);
  g_checksum_free (sha);
  ws->accept_key = g_base64_encode (digest, dlen);

  path = g_uri_join (G_URI_FLAGS_ENCODED, NULL, NULL, NULL, -1,
      *g_uri_get_path (ws->uri) ? g_uri_get_path (ws->uri) : "/",
      g_uri_get_query (ws->uri), NULL);
  port = g_uri_get_port (ws->uri);
  req = g_string_new (NULL);
  g_string_append_printf (req, "GET %s HTTP/1.1\r\nHost: %s", path,
      g_uri_get_host (ws->uri));
  if (port > 0)
    g_string_append_printf (req, ":%d", port);
  g_string_append_printf (req, "\r\nUpgrade: websocket\r\n"
      "Connection: Upgrade\r\nSec-WebSocket-Key: %s\r\n"
      "Sec-WebSocket-Version: 13\r\n", key64);
  soup_message_headers_iter_init (&iter,
      soup_message_get_request_headers (ws->msg));
  while (soup_message_headers_iter_next (&iter, &name, &value)) {
    /* the request line and the upgrade are ours */
    if (g_ascii_strcasecmp (name, "Host") == 0 ||
        g_ascii_strcasecmp (name, "Upgrade") == 0 ||
        g_ascii_strcasecmp (name, "Connection") == 0 ||
        g_ascii_strncasecmp (name, "Sec-WebSocket-Key", 17) == 0 ||
        g_ascii_strcasecmp (name, "Sec-WebSocket-Version") == 0 ||
        g_ascii_strcasecmp (name, "Sec-WebSocket-Extensions") == 0)
      continue;
    g_string_append_printf (req, "%s: %s\r\n", name, value);
  }
  g_string_append (req, "\r\n");
  /* the headers carry credentials: log only the request line */
  GST_DEBUG_OBJECT (ws->parent, "WebSocket upgrade: GET %s", path);
  g_free (path);
  g_free (key64);
  /* the request is built: the message (its headers carry credentials)
   * and its URI are no longer needed */
  g_clear_object (&ws->msg);
  g_clear_pointer (&ws->uri, g_uri_unref);

  ws->state = WS_HANDSHAKE;
  g_mutex_lock (&ws->writer->lock);
  writer_put_locked (ws->writer, (const guint8 *) req->str, req->len, FALSE);
  g_mutex_unlock (&ws->writer->lock);
  memset (req->str, 0, req->len);
  g_string_free (req, TRUE);

  ws->in_source = g_pollable_input_stream_create_source (ws->in, NULL);
  g_source_set_callback (ws->in_source, G_SOURCE_FUNC (on_readable), ws, NULL);
  g_source_attach (ws->in_source, ws->ctx);
}

static gboolean
on_connect_timeout (gpointer user_data)
{
  GstS2SWs *ws = user_data;
  GError *err;

  GST_WARNING_OBJECT (ws->parent, "connect timed out");
  ws->timed_out = TRUE;
  g_source_unref (ws->timeout_source);
  ws->timeout_source = NULL;
  if (ws->state == WS_CONNECTING) {
    /* on_connected reports it */
    g_cancellable_cancel (ws->cancellable);
    return G_SOURCE_REMOVE;
  }
  err = g_error_new_literal (G_IO_ERROR, G_IO_ERROR_TIMED_OUT,
      "connection timed out");
  fail_connect (ws, err, 0, NULL);
  g_error_free (err);
  return G_SOURCE_REMOVE;
}

void
gst_s2s_ws_connect (GstS2SWs * ws, SoupMessage * msg,
    const gchar * ssl_ca_file, const gchar * proxy, guint timeout_ms)
{
  GError *err = NULL;
  gboolean tls;
  const gchar *scheme;
  gchar *uri;

  g_return_if_fail (ws->state == WS_NEW);

  ws->ctx = g_main_context_ref_thread_default ();
  ws->msg = g_object_ref (msg);
  ws->uri = g_uri_ref (soup_message_get_uri (msg));
  scheme = g_uri_get_scheme (ws->uri);
  tls = g_ascii_strcasecmp (scheme, "wss") == 0 ||
      g_ascii_strcasecmp (scheme, "https") == 0;
  ws->state = WS_CONNECTING;

  if (ssl_ca_file && *ssl_ca_file) {
    ws->extra_ca = gst_s2s_tls_ca_file_database (ssl_ca_file, &err);
    if (ws->extra_ca == NULL) {
      fail_connect (ws, err, 0, NULL);
      g_clear_error (&err);
      return;
    }
  }

  ws->client = g_socket_client_new ();
  if (tls) {
    g_socket_client_set_tls (ws->client, TRUE);
    /* loads the trust store (it takes a while) only when TLS needs it */
    shared_tls_db ();
  }
  if (proxy && *proxy) {
    GProxyResolver *resolver = g_simple_proxy_resolver_new (proxy, NULL);
    g_socket_client_set_proxy_resolver (ws->client, resolver);
    g_object_unref (resolver);
  }
  g_signal_connect (ws->client, "event", G_CALLBACK (on_client_event), ws);
  ws->cancellable = g_cancellable_new ();

  if (timeout_ms > 0) {
    ws->timeout_source = g_timeout_source_new (timeout_ms);
    g_source_set_callback (ws->timeout_source, on_connect_timeout, ws, NULL);
    g_source_attach (ws->timeout_source, ws->ctx);
  }

  /* GSocketClient knows no ws/wss default port */
  uri = g_uri_to_string_partial (ws->uri, G_URI_HIDE_USERINFO);
  g_socket_client_connect_to_uri_async (ws->client, uri, tls ? 443 : 80,
      ws->cancellable, on_connected, guard_ref (ws->guard));
  g_free (uri);
}

/* ------------------------------------------------------------------------ */
/* Orderly close (I/O thread) */

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
  g_source_attach (ws->close_source, ws->ctx);
}

static gboolean
on_close_drained (gpointer user_data)
{
  GstS2SWs *ws = user_data;

  if (ws->state != WS_OPEN) {
    finish_close (ws);
    return G_SOURCE_REMOVE;
  }
  schedule_close_source (ws, ws->close_timeout_ms, on_close_timeout);
  ws->state = WS_CLOSING;
  writer_send_close (ws->writer, 1000, NULL);
  return G_SOURCE_REMOVE;
}

void
gst_s2s_ws_close (GstS2SWs * ws, guint drain_ms, guint timeout_ms,
    GstS2SWsDoneFunc done, gpointer user_data)
{
  ws->close_done = done;
  ws->close_data = user_data;
  ws->close_timeout_ms = timeout_ms;
  if (ws->state != WS_OPEN) {
    finish_close (ws);
    return;
  }
  schedule_close_source (ws, drain_ms, on_close_drained);
}

/* ------------------------------------------------------------------------ */
/* Public sending API (any thread) */

gboolean
gst_s2s_ws_send_text (GstS2SWs * ws, const gchar * text, gsize len)
{
  gboolean ok;

  if (ws == NULL || ws->writer == NULL)
    return FALSE;
  ok = writer_send (ws->writer, GST_S2S_WS_OP_TEXT, (const guint8 *) text,
      len, FALSE);
  if (ok && G_UNLIKELY (gst_s2s_ws_probe_send != NULL))
    gst_s2s_ws_probe_send (ws, (const guint8 *) text, len);
  return ok;
}

gboolean
gst_s2s_ws_send_binary (GstS2SWs * ws, const guint8 * data, gsize len)
{
  if (ws == NULL || ws->writer == NULL)
    return FALSE;
  return writer_send (ws->writer, GST_S2S_WS_OP_BINARY, data, len, FALSE);
}

gboolean
gst_s2s_ws_is_open (GstS2SWs * ws)
{
  gboolean open;

  if (ws == NULL || ws->writer == NULL)
    return FALSE;
  g_mutex_lock (&ws->writer->lock);
  open = ws->writer->writable;
  g_mutex_unlock (&ws->writer->lock);
  return open;
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

  if (ws->writer) {
    /* Best effort close frame; we do not wait for the peer's answer. */
    if (ws->state == WS_OPEN)
      writer_send_close (ws->writer, 1000, NULL);
    shutdown_io (ws);
    writer_unref (ws->writer);
  }
  clear_source (&ws->in_source);
  if (ws->stream) {
    g_io_stream_close (ws->stream, NULL, NULL);
    g_object_unref (ws->stream);
  }
  clear_tls (ws);
  if (ws->client) {
    g_signal_handlers_disconnect_by_data (ws->client, ws);
    g_object_unref (ws->client);
  }
  g_clear_object (&ws->msg);
  g_clear_pointer (&ws->uri, g_uri_unref);
  g_clear_pointer (&ws->ctx, g_main_context_unref);
  g_clear_object (&ws->cancellable);
  g_clear_object (&ws->extra_ca);
  rbuf_release (&ws->rbuf);
  gst_s2s_ws_assembler_clear (&ws->asm_);
  g_free (ws->accept_key);
  g_free (ws);
}
