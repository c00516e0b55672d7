/* gst-s2s: the WebSocket client (ext/s2s/gsts2sws.c) against a scripted
 * server in this file (a thread with blocking sockets): handshake, refused
 * upgrades, fragments, ping, close codes, protocol errors, TLS with
 * ssl-ca-file, and sends from several threads at once.
 * Copyright (C) 2026 gst-s2s developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <stdio.h>
#include <string.h>
#include <gst/gst.h>
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <libsoup/soup.h>

#include "gsts2sws.h"

GST_DEBUG_CATEGORY_EXTERN (gst_s2s_debug);

typedef struct _Server Server;
typedef void (*Script) (Server * s, GIOStream * io, const gchar * key,
    const gchar * request);

struct _Server
{
  GSocket *listen;
  guint16 port;
  gboolean tls;
  Script script;
  GThread *thread;
  gchar *request;
  /* results of the script, read after joining */
  gint got_pong;
  gushort got_close;
  gint frames_ok;
};

/* --- server side helpers (server thread, blocking) --- */

static void
srv_write (GIOStream * io, const void *data, gsize len)
{
  g_assert_true (g_output_stream_write_all (g_io_stream_get_output_stream
          (io), data, len, NULL, NULL, NULL));
}

static void
srv_frame (GIOStream * io, gboolean fin, guint8 op, const void *payload,
    gsize len)
{
  guint8 h[10];
  gsize n = 0;

  h[n++] = (fin ? 0x80 : 0) | op;
  if (len < 126) {
    h[n++] = len;
  } else {
    h[n++] = 126;
    h[n++] = len >> 8;
    h[n++] = len & 0xff;
  }
  srv_write (io, h, n);
  if (len)
    srv_write (io, payload, len);
}

static gboolean
srv_read (GIOStream * io, void *buf, gsize len)
{
  gsize got = 0;

  return g_input_stream_read_all (g_io_stream_get_input_stream (io), buf,
      len, &got, NULL, NULL) && got == len;
}

/* One client frame, unmasked; NULL at end of stream */
static guint8 *
srv_read_frame (GIOStream * io, guint8 * op, gsize * len)
{
  guint8 h[2], ext[8], key[4], *p;
  guint64 n;
  gsize i;

  if (!srv_read (io, h, 2))
    return NULL;
  /* clients always mask */
  g_assert_true (h[1] & 0x80);
  g_assert_true (h[0] & 0x80);
  *op = h[0] & 0x0f;
  n = h[1] & 0x7f;
  if (n == 126) {
    g_assert_true (srv_read (io, ext, 2));
    n = (ext[0] << 8) | ext[1];
  } else if (n == 127) {
    g_assert_true (srv_read (io, ext, 8));
    n = 0;
    for (i = 0; i < 8; i++)
      n = (n << 8) | ext[i];
  }
  g_assert_true (srv_read (io, key, 4));
  p = g_malloc (n + 1);
  g_assert_true (n == 0 || srv_read (io, p, n));
  for (i = 0; i < n; i++)
    p[i] ^= key[i & 3];
  p[n] = 0;
  *len = n;
  return p;
}

static gchar *
accept_of (const gchar * key)
{
  gchar *s = g_strconcat (key, "258EAFA5-E914-47DA-95CA-C5AB0DC85B11", NULL);
  GChecksum *c = g_checksum_new (G_CHECKSUM_SHA1);
  guint8 d[20];
  gsize dl = 20;
  gchar *r;

  g_checksum_update (c, (const guchar *) s, -1);
  g_checksum_get_digest (c, d, &dl);
  r = g_base64_encode (d, dl);
  g_checksum_free (c);
  g_free (s);
  return r;
}

static void
srv_accept_upgrade (GIOStream * io, const gchar * key)
{
  gchar *a = accept_of (key);
  gchar *r = g_strdup_printf ("HTTP/1.1 101 Switching Protocols\r\n"
      "Upgrade: websocket\r\nConnection: Upgrade\r\n"
      "Sec-WebSocket-Accept: %s\r\n\r\n", a);

  srv_write (io, r, strlen (r));
  g_free (r);
  g_free (a);
}

static gpointer
server_thread (gpointer data)
{
  Server *s = data;
  GSocket *sock = g_socket_accept (s->listen, NULL, NULL);
  GIOStream *io;
  GString *req = g_string_new (NULL);
  gchar c, *key = NULL;
  gchar **lines;
  gint i;

  g_assert_nonnull (sock);
  io = G_IO_STREAM (g_socket_connection_factory_create_connection (sock));
  g_object_unref (sock);
  if (s->tls) {
    gchar *cert = g_build_filename (g_getenv ("S2S_CERTS_DIR"), "server.pem",
        NULL);
    gchar *keyf = g_build_filename (g_getenv ("S2S_CERTS_DIR"),
        "server-key.pem", NULL);
    GTlsCertificate *tc = g_tls_certificate_new_from_files (cert, keyf, NULL);
    GIOStream *t;

    g_assert_nonnull (tc);
    t = g_tls_server_connection_new (io, tc, NULL);
    g_assert_nonnull (t);
    g_object_unref (io);
    io = t;
    g_assert_true (g_tls_connection_handshake (G_TLS_CONNECTION (io), NULL,
            NULL));
    g_object_unref (tc);
    g_free (cert);
    g_free (keyf);
  }
  while (!g_str_has_suffix (req->str, "\r\n\r\n") && srv_read (io, &c, 1))
    g_string_append_c (req, c);
  lines = g_strsplit (req->str, "\r\n", -1);
  for (i = 0; lines[i]; i++)
    if (g_ascii_strncasecmp (lines[i], "Sec-WebSocket-Key:", 18) == 0)
      key = g_strstrip (g_strdup (lines[i] + 18));
  g_strfreev (lines);
  s->request = g_string_free (req, FALSE);
  g_assert_nonnull (key);
  s->script (s, io, key, s->request);
  g_free (key);
  g_io_stream_close (io, NULL, NULL);
  g_object_unref (io);
  return NULL;
}

static Server *
server_start (Script script, gboolean tls)
{
  Server *s = g_new0 (Server, 1);
  GInetAddress *lo = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  GSocketAddress *addr = g_inet_socket_address_new (lo, 0), *bound;

  s->listen = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM,
      G_SOCKET_PROTOCOL_TCP, NULL);
  g_assert_true (g_socket_bind (s->listen, addr, TRUE, NULL));
  g_assert_true (g_socket_listen (s->listen, NULL));
  bound = g_socket_get_local_address (s->listen, NULL);
  s->port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound));
  s->script = script;
  s->tls = tls;
  s->thread = g_thread_new ("ws-server", server_thread, s);
  g_object_unref (bound);
  g_object_unref (addr);
  g_object_unref (lo);
  return s;
}

static void
server_join (Server * s)
{
  g_thread_join (s->thread);
  g_object_unref (s->listen);
}

static void
server_free (Server * s)
{
  g_free (s->request);
  g_free (s);
}

/* --- client side (main thread) --- */

typedef struct
{
  GstS2SWs *ws;
  gboolean opened;
  GPtrArray *messages;
  gint closed_code;
  gchar *closed_reason;
  guint failed_status;
  gboolean failed;
  gchar *failed_body;
  GError *error;
  void (*on_open) (gpointer self);
} Client;

static void
c_opened (gpointer data)
{
  Client *c = data;

  c->opened = TRUE;
  if (c->on_open)
    c->on_open (c);
}

static void
c_message (GBytes * data, gboolean binary, gpointer user_data)
{
  Client *c = user_data;

  g_ptr_array_add (c->messages, g_strndup (g_bytes_get_data (data, NULL),
          g_bytes_get_size (data)));
}

static void
c_closed (gushort code, const gchar * reason, gpointer user_data)
{
  Client *c = user_data;

  c->closed_code = code;
  c->closed_reason = g_strdup (reason);
}

static void
c_failed (const GError * error, guint status, const gchar * body,
    gpointer user_data)
{
  Client *c = user_data;

  c->failed = TRUE;
  c->failed_status = status;
  c->failed_body = g_strdup (body);
  c->error = g_error_copy (error);
}

static const GstS2SWsCallbacks callbacks = {
  c_opened, c_message, c_closed, c_failed
};

static Client *
client_connect (Server * s, void (*on_open) (gpointer))
{
  Client *c = g_new0 (Client, 1);
  gchar *url = g_strdup_printf ("%s://127.0.0.1:%u/v1/realtime?model=m",
      s->tls ? "wss" : "ws", s->port);
  SoupMessage *msg = soup_message_new ("GET", url);
  gchar *ca = s->tls ? g_build_filename (g_getenv ("S2S_CERTS_DIR"),
      "ca.pem", NULL) : NULL;

  soup_message_headers_append (soup_message_get_request_headers (msg),
      "Authorization", "Bearer test-secret");
  c->messages = g_ptr_array_new_with_free_func (g_free);
  c->on_open = on_open;
  c->ws = gst_s2s_ws_new (NULL, &callbacks, c);
  g_assert_false (gst_s2s_ws_send_text (c->ws, "x", 1));
  gst_s2s_ws_connect (c->ws, msg, ca, NULL, 10000);
  g_object_unref (msg);
  g_free (url);
  g_free (ca);
  return c;
}

static void
client_free (Client * c)
{
  gst_s2s_ws_free (c->ws);
  g_ptr_array_unref (c->messages);
  g_free (c->closed_reason);
  g_free (c->failed_body);
  g_clear_error (&c->error);
  g_free (c);
}

/* iterates the main context until @cond holds (or 20 s) */
#define WAIT_FOR(cond) G_STMT_START {                                    \
  gint64 _end = g_get_monotonic_time () + 20 * G_TIME_SPAN_SECOND;       \
  while (!(cond) && g_get_monotonic_time () < _end)                      \
    if (!g_main_context_iteration (NULL, FALSE))                         \
      g_usleep (1000);                                                   \
  g_assert_true (cond);                                                  \
} G_STMT_END

/* --- tests --- */

static void
script_echo (Server * s, GIOStream * io, const gchar * key, const gchar * req)
{
  guint8 op, *p;
  gsize len, third;
  gushort code;

  srv_accept_upgrade (io, key);
  p = srv_read_frame (io, &op, &len);
  g_assert_cmpint (op, ==, 1);
  /* back in three fragments, a ping among them */
  third = len / 3;
  srv_frame (io, FALSE, 1, p, third);
  srv_frame (io, TRUE, 9, "hi", 2);
  srv_frame (io, FALSE, 0, p + third, third);
  srv_frame (io, TRUE, 0, p + 2 * third, len - 2 * third);
  g_free (p);
  p = srv_read_frame (io, &op, &len);
  g_assert_cmpint (op, ==, 0xa);
  s->got_pong = len == 2 && memcmp (p, "hi", 2) == 0;
  g_free (p);
  srv_frame (io, TRUE, 8, "\x0f\xa1" "bye", 5);
  p = srv_read_frame (io, &op, &len);
  g_assert_cmpint (op, ==, 8);
  g_assert_cmpuint (len, >=, 2);
  code = (p[0] << 8) | p[1];
  s->got_close = code;
  g_free (p);
}

static void
send_hello (gpointer data)
{
  Client *c = data;

  g_assert_true (gst_s2s_ws_is_open (c->ws));
  g_assert_true (gst_s2s_ws_send_text (c->ws, "hello, fragmented world", 23));
}

static void
run_echo (gboolean tls)
{
  Server *s = server_start (script_echo, tls);
  Client *c = client_connect (s, send_hello);

  WAIT_FOR (c->closed_code != 0 || c->failed);
  g_assert_false (c->failed);
  g_assert_true (c->opened);
  g_assert_cmpuint (c->messages->len, ==, 1);
  g_assert_cmpstr (c->messages->pdata[0], ==, "hello, fragmented world");
  g_assert_cmpint (c->closed_code, ==, 4001);
  g_assert_cmpstr (c->closed_reason, ==, "bye");
  g_assert_false (gst_s2s_ws_is_open (c->ws));
  g_assert_false (gst_s2s_ws_send_text (c->ws, "late", 4));
  server_join (s);
  g_assert_true (s->got_pong);
  g_assert_cmpint (s->got_close, ==, 4001);
  /* the upgrade request carries the message's headers */
  g_assert_nonnull (strstr (s->request, "GET /v1/realtime?model=m HTTP/1.1"));
  g_assert_nonnull (strstr (s->request, "Authorization: Bearer test-secret"));
  g_assert_nonnull (strstr (s->request, "Sec-WebSocket-Version: 13"));
  client_free (c);
  server_free (s);
}

static void
test_echo (void)
{
  run_echo (FALSE);
}

static void
test_tls_ca_file (void)
{
  run_echo (TRUE);
}

static void
script_bad_accept (Server * s, GIOStream * io, const gchar * key,
    const gchar * req)
{
  const gchar *r = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket"
      "\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: AAAA\r\n\r\n";
  guint8 b;

  srv_write (io, r, strlen (r));
  /* until the client hangs up */
  srv_read (io, &b, 1);
}

static void
test_bad_accept (void)
{
  Server *s = server_start (script_bad_accept, FALSE);
  Client *c = client_connect (s, NULL);

  WAIT_FOR (c->failed);
  g_assert_false (c->opened);
  g_assert_cmpuint (c->failed_status, ==, 101);
  client_free (c);
  server_join (s);
  server_free (s);
}

static void
script_refuse (Server * s, GIOStream * io, const gchar * key, const gchar * req)
{
  const gchar *body = "{\"error\":{\"type\":\"invalid_request_error\","
      "\"code\":\"invalid_api_key\",\"message\":\"bad key\"}}";
  gchar *r = g_strdup_printf ("HTTP/1.1 401 Unauthorized\r\n"
      "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n%s",
      strlen (body), body);
  guint8 b;

  srv_write (io, r, strlen (r));
  g_free (r);
  srv_read (io, &b, 1);
}

static void
test_refused_with_body (void)
{
  Server *s = server_start (script_refuse, FALSE);
  Client *c = client_connect (s, NULL);

  WAIT_FOR (c->failed);
  g_assert_false (c->opened);
  g_assert_cmpuint (c->failed_status, ==, 401);
  g_assert_cmpstr (c->failed_body, ==, "{\"error\":{\"type\":"
      "\"invalid_request_error\",\"code\":\"invalid_api_key\","
      "\"message\":\"bad key\"}}");
  client_free (c);
  server_join (s);
  server_free (s);
}

static void
script_too_big (Server * s, GIOStream * io, const gchar * key,
    const gchar * req)
{
  /* a text frame announcing 17 MiB */
  guint8 h[10] = { 0x81, 127, 0, 0, 0, 0, 0x01, 0x10, 0, 0 };
  guint8 op, *p;
  gsize len;

  srv_accept_upgrade (io, key);
  srv_write (io, h, sizeof (h));
  p = srv_read_frame (io, &op, &len);
  g_assert_cmpint (op, ==, 8);
  s->got_close = (p[0] << 8) | p[1];
  g_free (p);
}

static void
test_too_big (void)
{
  Server *s = server_start (script_too_big, FALSE);
  Client *c = client_connect (s, NULL);

  WAIT_FOR (c->closed_code != 0);
  g_assert_cmpint (c->closed_code, ==, 1009);
  server_join (s);
  g_assert_cmpint (s->got_close, ==, 1009);
  client_free (c);
  server_free (s);
}

static void
script_reserved_bits (Server * s, GIOStream * io, const gchar * key,
    const gchar * req)
{
  guint8 op, *p;
  gsize len;

  srv_accept_upgrade (io, key);
  srv_frame (io, TRUE, 0x40 | 1, "x", 1);
  p = srv_read_frame (io, &op, &len);
  g_assert_cmpint (op, ==, 8);
  s->got_close = (p[0] << 8) | p[1];
  g_free (p);
}

static void
test_protocol_error (void)
{
  Server *s = server_start (script_reserved_bits, FALSE);
  Client *c = client_connect (s, NULL);

  WAIT_FOR (c->closed_code != 0);
  g_assert_cmpint (c->closed_code, ==, 1002);
  server_join (s);
  g_assert_cmpint (s->got_close, ==, 1002);
  client_free (c);
  server_free (s);
}

static void
script_hang_up (Server * s, GIOStream * io, const gchar * key,
    const gchar * req)
{
  srv_accept_upgrade (io, key);
  srv_frame (io, TRUE, 2, "\x01\x02", 2);
}

static void
test_abnormal_close (void)
{
  Server *s = server_start (script_hang_up, FALSE);
  Client *c = client_connect (s, NULL);

  WAIT_FOR (c->closed_code != 0);
  g_assert_cmpuint (c->messages->len, ==, 1);
  g_assert_cmpint (c->closed_code, ==, 1006);
  server_join (s);
  client_free (c);
  server_free (s);
}

/* The read buffer: none while idle, grown for a big frame, kept for a
 * partial one */
#define BIG_FRAME 40000

static void
script_read_buffer (Server * s, GIOStream * io, const gchar * key,
    const gchar * req)
{
  guint8 op, *p, *big = g_malloc (BIG_FRAME);
  gsize len;
  const guint8 partial_hdr[] = { 0x81, 126, 1000 >> 8, 1000 & 0xff };
  gchar half[1000];

  memset (big, 'b', BIG_FRAME);
  memset (half, 'h', sizeof (half));
  srv_accept_upgrade (io, key);
  srv_frame (io, TRUE, 1, "small", 5);
  /* the client saw it and its buffer was given back */
  p = srv_read_frame (io, &op, &len);
  g_free (p);
  srv_frame (io, TRUE, 1, big, BIG_FRAME);
  p = srv_read_frame (io, &op, &len);
  g_free (p);
  /* half a frame, the rest once the client looked */
  srv_write (io, partial_hdr, sizeof (partial_hdr));
  srv_write (io, half, 500);
  p = srv_read_frame (io, &op, &len);
  g_free (p);
  srv_write (io, half + 500, 500);
  srv_frame (io, TRUE, 8, "\x03\xe8", 2);
  p = srv_read_frame (io, &op, &len);
  g_free (p);
  g_free (big);
}

static void
test_read_buffer_given_back (void)
{
  Server *s = server_start (script_read_buffer, FALSE);
  Client *c = client_connect (s, NULL);
  gint i;

  WAIT_FOR (c->opened);
  WAIT_FOR (c->messages->len == 1);
  g_assert_cmpstr (c->messages->pdata[0], ==, "small");
  /* drained, nothing pending: no storage held */
  WAIT_FOR (gst_s2s_ws_read_buffer_size (c->ws) == 0);
  g_assert_true (gst_s2s_ws_send_text (c->ws, "1", 1));

  WAIT_FOR (c->messages->len == 2);
  g_assert_cmpuint (strlen (c->messages->pdata[1]), ==, BIG_FRAME);
  WAIT_FOR (gst_s2s_ws_read_buffer_size (c->ws) == 0);
  g_assert_true (gst_s2s_ws_send_text (c->ws, "2", 1));

  /* a partial frame keeps its bytes, in one read step */
  WAIT_FOR (gst_s2s_ws_read_buffer_size (c->ws) > 0);
  for (i = 0; i < 20; i++) {
    g_main_context_iteration (NULL, FALSE);
    g_usleep (1000);
  }
  g_assert_cmpuint (c->messages->len, ==, 2);
  g_assert_cmpuint (gst_s2s_ws_read_buffer_size (c->ws), >, 0);
  g_assert_cmpuint (gst_s2s_ws_read_buffer_size (c->ws), <=, 16 * 1024);
  g_assert_true (gst_s2s_ws_send_text (c->ws, "3", 1));
  WAIT_FOR (c->messages->len == 3);
  g_assert_cmpuint (strlen (c->messages->pdata[2]), ==, 1000);
  WAIT_FOR (c->closed_code != 0);
  g_assert_cmpint (c->closed_code, ==, 1000);
  g_assert_cmpuint (gst_s2s_ws_read_buffer_size (c->ws), ==, 0);
  server_join (s);
  client_free (c);
  server_free (s);
}

/* ssl-ca-file: one database per file per process, parsed again when the
 * file changes; a connection with it still verifies the server */
static void
test_ca_file_shared (void)
{
  gchar *ca = g_build_filename (g_getenv ("S2S_CERTS_DIR"), "ca.pem", NULL);
  gchar *dir = g_dir_make_tmp ("s2s-ca-XXXXXX", NULL);
  gchar *copy = g_build_filename (dir, "ca.pem", NULL);
  gchar *pem, *twice, *missing = g_build_filename (dir, "none.pem", NULL);
  gsize len;
  GTlsDatabase *a, *b, *d;
  GError *err = NULL;

  g_assert_true (g_file_get_contents (ca, &pem, &len, NULL));
  g_assert_true (g_file_set_contents (copy, pem, len, NULL));
  a = gst_s2s_tls_ca_file_database (copy, &err);
  g_assert_no_error (err);
  b = gst_s2s_tls_ca_file_database (copy, &err);
  g_assert_no_error (err);
  g_assert_true (a == b);
  g_object_unref (b);

  /* changed: parsed again; the old one lives on with its holders */
  twice = g_strconcat (pem, pem, NULL);
  g_assert_true (g_file_set_contents (copy, twice, -1, NULL));
  b = gst_s2s_tls_ca_file_database (copy, &err);
  g_assert_no_error (err);
  g_assert_true (G_IS_TLS_DATABASE (b));
  g_assert_true (a != b);
  d = gst_s2s_tls_ca_file_database (copy, &err);
  g_assert_true (d == b);
  g_object_unref (d);

  g_assert_null (gst_s2s_tls_ca_file_database (missing, &err));
  g_assert_nonnull (err);
  g_clear_error (&err);
  g_assert_true (g_file_set_contents (copy, "not a certificate\n", -1, NULL));
  g_assert_null (gst_s2s_tls_ca_file_database (copy, &err));
  g_assert_nonnull (err);
  g_clear_error (&err);

  g_object_unref (a);
  g_object_unref (b);
  g_unlink (copy);
  g_rmdir (dir);
  /* two TLS connections with the (shared) file still verify */
  run_echo (TRUE);
  run_echo (TRUE);
  g_free (pem);
  g_free (twice);
  g_free (copy);
  g_free (missing);
  g_free (dir);
  g_free (ca);
}

#define SENDERS 4
#define PER_SENDER 400

static void
script_count (Server * s, GIOStream * io, const gchar * key, const gchar * req)
{
  gint next[SENDERS] = { 0 };
  gint total = 0, ok = 0;

  srv_accept_upgrade (io, key);
  while (total < SENDERS * PER_SENDER) {
    guint8 op, *p;
    gsize len;
    gint t, i;
    gchar *expect;

    p = srv_read_frame (io, &op, &len);
    if (p == NULL)
      break;
    g_assert_cmpint (op, ==, 1);
    g_assert_cmpint (sscanf ((gchar *) p, "t%d-%d", &t, &i), ==, 2);
    g_assert_cmpint (t, <, SENDERS);
    /* in each sender's order, intact (a long padded payload) */
    expect = g_strdup_printf ("t%d-%d-%0*d", t, i, 200 + (i % 300) * 30, i);
    if (i == next[t] && g_str_equal (expect, (gchar *) p))
      ok++;
    next[t] = i + 1;
    g_free (expect);
    g_free (p);
    total++;
  }
  s->frames_ok = ok;
  srv_frame (io, TRUE, 8, "\x03\xe8", 2);
}

typedef struct
{
  GstS2SWs *ws;
  gint id;
} Sender;

static gpointer
sender_thread (gpointer data)
{
  Sender *sd = data;
  gint i;

  for (i = 0; i < PER_SENDER; i++) {
    gchar *m = g_strdup_printf ("t%d-%d-%0*d", sd->id, i,
        200 + (i % 300) * 30, i);
    g_assert_true (gst_s2s_ws_send_text (sd->ws, m, strlen (m)));
    g_free (m);
  }
  return NULL;
}

static void
test_concurrent_senders (void)
{
  Server *s = server_start (script_count, FALSE);
  Client *c = client_connect (s, NULL);
  Sender sd[SENDERS];
  GThread *th[SENDERS];
  gint i;

  WAIT_FOR (c->opened);
  for (i = 0; i < SENDERS; i++) {
    sd[i].ws = c->ws;
    sd[i].id = i;
    th[i] = g_thread_new ("sender", sender_thread, &sd[i]);
  }
  /* the I/O thread (here) drains what the socket did not take at once */
  WAIT_FOR (c->closed_code != 0);
  for (i = 0; i < SENDERS; i++)
    g_thread_join (th[i]);
  g_assert_cmpint (c->closed_code, ==, 1000);
  server_join (s);
  g_assert_cmpint (s->frames_ok, ==, SENDERS * PER_SENDER);
  client_free (c);
  server_free (s);
}

int
main (int argc, char **argv)
{
  gst_init (&argc, &argv);
  g_test_init (&argc, &argv, NULL);
  GST_DEBUG_CATEGORY_INIT (gst_s2s_debug, "s2s", 0, "s2s");

  g_test_add_func ("/ws/echo-fragments-ping-close", test_echo);
  g_test_add_func ("/ws/tls-ssl-ca-file", test_tls_ca_file);
  g_test_add_func ("/ws/bad-accept", test_bad_accept);
  g_test_add_func ("/ws/refused-with-body", test_refused_with_body);
  g_test_add_func ("/ws/too-big", test_too_big);
  g_test_add_func ("/ws/protocol-error", test_protocol_error);
  g_test_add_func ("/ws/abnormal-close", test_abnormal_close);
  g_test_add_func ("/ws/concurrent-senders", test_concurrent_senders);
  g_test_add_func ("/ws/read-buffer-given-back", test_read_buffer_given_back);
  g_test_add_func ("/ws/ca-file-shared", test_ca_file_shared);
  return g_test_run ();
}
