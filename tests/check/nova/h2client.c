/* gst-s2s
 * Copyright (C) 2026 gst-s2s developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Unit tests for the HTTP/2 client (ext/s2s/nova/aws/h2client.c) against
 * the emulator's libnghttp2 server (tests/emulator/emu-h2.c), both on the
 * test thread's main context: h2c and TLS/ALPN, full duplex (response
 * DATA read while the request body streams), trust rules, status and
 * headers, RST_STREAM and GOAWAY, timeouts, cancellation.
 */

#include <string.h>
#include <gst/check/gstcheck.h>

#include "h2client.h"
#include "emu-h2.h"

#ifdef HAVE_VALGRIND
#include <valgrind/valgrind.h>
#else
#define RUNNING_ON_VALGRIND 0
#endif

/* bound for what takes milliseconds; only reached when a test fails */
#define WAIT_MS (RUNNING_ON_VALGRIND ? 180000 : 10000)
/* connect timeout of the tests that expect to connect (a TLS handshake
 * takes seconds under valgrind on a loaded machine) */
#define CONNECT_MS (RUNNING_ON_VALGRIND ? 120000 : 5000)

typedef enum
{
  SRV_ECHO,                     /* 200, echo every body byte, end on end */
  SRV_REJECT,                   /* 403 + JSON body + END_STREAM */
  SRV_RESET,                    /* RST_STREAM(REFUSED_STREAM) on request */
  SRV_GOAWAY_REFUSE,            /* GOAWAY(last 0) on request */
  SRV_GOAWAY_GRACEFUL,          /* GOAWAY(NO_ERROR, last = stream), echo */
  SRV_SILENT,                   /* never answers */
  SRV_DROP_AFTER_HEADERS,       /* 200, then close the socket */
} ServerMode;

typedef struct
{
  ServerMode mode;
  EmuH2Server *server;
  GString *server_got;          /* request body bytes seen by the server */
  gchar *authority;
  gchar *token_header;
  gboolean server_saw_end;
  guint client_goaways;

  GstS2SH2Client *client;
  gboolean opened, closed, closed_opened;
  GError *error;
  guint status;
  gchar *resp_header;           /* value of x-test */
  GString *client_got;
  gsize free_after;             /* free the client from data() after N bytes */
} Fx;

static Fx fx;

/* ---- server ---- */

static void
srv_request (EmuH2Conn * conn, gint32 id, const char *const *h, gpointer ud)
{
  const char *reject_headers[] = { "content-type", "application/json",
    "x-amzn-errortype", "InvalidSignatureException", NULL
  };
  const char *ok_headers[] = { "content-type",
    "application/vnd.amazon.eventstream", "x-test", "yes", NULL
  };
  guint i;

  for (i = 0; h[i]; i += 2) {
    if (!strcmp (h[i], ":authority"))
      fx.authority = g_strdup (h[i + 1]);
    if (!strcmp (h[i], "x-amz-security-token"))
      fx.token_header = g_strdup (h[i + 1]);
  }

  switch (fx.mode) {
    case SRV_ECHO:
      emu_h2_respond (conn, id, 200, ok_headers);
      break;
    case SRV_REJECT:{
      const char *body = "{\"message\":\"The request signature we "
          "calculated does not match\"}";
      emu_h2_respond (conn, id, 403, reject_headers);
      emu_h2_send (conn, id, (const guint8 *) body, strlen (body));
      emu_h2_end (conn, id);
      break;
    }
    case SRV_RESET:
      emu_h2_reset (conn, id, 7 /* REFUSED_STREAM */ );
      break;
    case SRV_GOAWAY_REFUSE:
      emu_h2_goaway (conn, 0, 0, "going away");
      emu_h2_close (conn);
      break;
    case SRV_GOAWAY_GRACEFUL:
      emu_h2_goaway (conn, 0, id, NULL);
      emu_h2_respond (conn, id, 200, ok_headers);
      break;
    case SRV_SILENT:
      break;
    case SRV_DROP_AFTER_HEADERS:
      emu_h2_respond (conn, id, 200, ok_headers);
      emu_h2_close (conn);
      break;
  }
}

static void
srv_data (EmuH2Conn * conn, gint32 id, const guint8 * data, gsize len,
    gpointer ud)
{
  g_string_append_len (fx.server_got, (const gchar *) data, len);
  if (fx.mode == SRV_ECHO || fx.mode == SRV_GOAWAY_GRACEFUL)
    emu_h2_send (conn, id, data, len);
}

static void
srv_end (EmuH2Conn * conn, gint32 id, gpointer ud)
{
  fx.server_saw_end = TRUE;
  if (fx.mode == SRV_ECHO || fx.mode == SRV_GOAWAY_GRACEFUL)
    emu_h2_end (conn, id);
}

static void
srv_goaway (EmuH2Conn * conn, guint32 code, gpointer ud)
{
  fx.client_goaways++;
}

static const EmuH2Callbacks srv_cb = {
  NULL, srv_request, srv_data, srv_end, NULL, srv_goaway, NULL
};

/* ---- client ---- */

static void
cl_opened (gpointer ud)
{
  fx.opened = TRUE;
}

static void
cl_response (guint status, const gchar * const *headers, gpointer ud)
{
  guint i;

  fx.status = status;
  for (i = 0; headers[i]; i += 2)
    if (!strcmp (headers[i], "x-test"))
      fx.resp_header = g_strdup (headers[i + 1]);
}

static void
cl_data (const guint8 * data, gsize len, gpointer ud)
{
  g_string_append_len (fx.client_got, (const gchar *) data, len);
  if (fx.free_after && fx.client_got->len >= fx.free_after) {
    gst_s2s_h2_client_free (fx.client);
    fx.client = NULL;
    fx.free_after = 0;
  }
}

static void
cl_closed (const GError * error, gboolean opened, gpointer ud)
{
  fail_if (fx.closed, "closed reported twice");
  fx.closed = TRUE;
  fx.closed_opened = opened;
  fx.error = error ? g_error_copy (error) : NULL;
}

static const GstS2SH2Callbacks cl_cb = {
  cl_opened, cl_response, cl_data, cl_closed
};

static gboolean
tick_cb (gpointer data)
{
  return G_SOURCE_CONTINUE;
}

static gboolean
iterate_until (gboolean * flag)
{
  gint64 end = g_get_monotonic_time () + WAIT_MS * 1000;

  /* a ticking source so the deadline is checked even if nothing comes */
  guint tick = g_timeout_add (50, tick_cb, NULL);

  while (!*flag && g_get_monotonic_time () < end)
    g_main_context_iteration (NULL, TRUE);
  g_source_remove (tick);
  return *flag;
}

static gboolean
iterate_until_len (GString * s, gsize len)
{
  gint64 end = g_get_monotonic_time () + WAIT_MS * 1000;

  guint tick = g_timeout_add (50, tick_cb, NULL);

  while (s->len < len && g_get_monotonic_time () < end)
    g_main_context_iteration (NULL, TRUE);
  g_source_remove (tick);
  return s->len >= len;
}

static gchar *
cert_path (const gchar * name)
{
  const gchar *dir = g_getenv ("S2S_CERTS_DIR");

  fail_unless (dir != NULL, "S2S_CERTS_DIR not set");
  return g_build_filename (dir, name, NULL);
}

static void
fx_setup (ServerMode mode, gboolean tls)
{
  GTlsCertificate *cert = NULL;
  GError *err = NULL;

  memset (&fx, 0, sizeof (fx));
  fx.mode = mode;
  fx.server_got = g_string_new (NULL);
  fx.client_got = g_string_new (NULL);
  if (tls) {
    gchar *crt = cert_path ("server.pem"), *key = cert_path ("server-key.pem");
    cert = g_tls_certificate_new_from_files (crt, key, &err);
    fail_unless (cert != NULL, "%s", err ? err->message : "");
    g_free (crt);
    g_free (key);
  }
  fx.server = emu_h2_listen (0, cert, &srv_cb, NULL, &err);
  fail_unless (fx.server != NULL, "%s", err ? err->message : "");
  g_clear_object (&cert);
  fx.client = gst_s2s_h2_client_new (NULL, &cl_cb, NULL);
}

static void
fx_connect (gboolean tls, const gchar * ca, guint timeout_ms)
{
  gchar *url = g_strdup_printf ("%s://127.0.0.1:%u/model/a%%3A0/invoke",
      tls ? "https" : "http", emu_h2_server_port (fx.server));
  const gchar *headers[] = { "content-type",
    "application/vnd.amazon.eventstream", "x-amz-security-token", "TOKEN",
    NULL
  };
  GError *err = NULL;

  fail_unless (gst_s2s_h2_client_connect (fx.client, "POST", url, headers,
          ca, NULL, timeout_ms, &err), "%s", err ? err->message : "");
  g_free (url);
}

static void
fx_teardown (void)
{
  gst_s2s_h2_client_free (fx.client);
  emu_h2_server_free (fx.server);
  /* let cancelled operations finish */
  while (g_main_context_iteration (NULL, FALSE));
  g_string_free (fx.server_got, TRUE);
  g_string_free (fx.client_got, TRUE);
  g_clear_error (&fx.error);
  g_free (fx.resp_header);
  g_free (fx.authority);
  g_free (fx.token_header);
}

/* Full duplex: each chunk is echoed before the next is sent, so response
 * DATA is read while the request body is still open. */
static void
run_duplex (void)
{
  guint8 chunk[1000];
  guint i;

  gst_s2s_h2_client_send (fx.client, (const guint8 *) "early", 5);
  fail_unless (iterate_until (&fx.opened));
  fail_unless (iterate_until_len (fx.client_got, 5));
  fail_unless_equals_int (fx.status, 200);
  fail_unless_equals_string (fx.resp_header, "yes");
  fail_unless_equals_string (fx.token_header, "TOKEN");

  for (i = 0; i < 50; i++) {
    memset (chunk, 'a' + i % 26, sizeof (chunk));
    fail_unless (gst_s2s_h2_client_send (fx.client, chunk, sizeof (chunk)));
    fail_unless (iterate_until_len (fx.client_got, 5 + (i + 1) * 1000));
    fail_if (fx.server_saw_end);
  }
  fail_unless (gst_s2s_h2_client_end (fx.client));
  fail_if (gst_s2s_h2_client_send (fx.client, chunk, 1));
  fail_unless (iterate_until (&fx.closed));
  fail_unless (fx.error == NULL, "%s", fx.error ? fx.error->message : "");
  fail_unless (fx.server_saw_end);
  fail_unless_equals_int (fx.client_got->len, 5 + 50 * 1000);
  fail_unless (fx.client_got->len == fx.server_got->len &&
      memcmp (fx.client_got->str, fx.server_got->str, fx.server_got->len) == 0);
}

GST_START_TEST (test_h2c_duplex)
{
  fx_setup (SRV_ECHO, FALSE);
  fx_connect (FALSE, NULL, CONNECT_MS);
  run_duplex ();
  fail_unless (g_str_has_prefix (fx.authority, "127.0.0.1:"));
  fx_teardown ();
}

GST_END_TEST;

GST_START_TEST (test_tls_alpn_duplex)
{
  gchar *ca = cert_path ("ca.pem");

  fx_setup (SRV_ECHO, TRUE);
  fx_connect (TRUE, ca, CONNECT_MS);
  run_duplex ();
  g_free (ca);
  fx_teardown ();
}

GST_END_TEST;

/* The test CA is not in the system store: without ssl-ca-file the
 * certificate is refused, and the request never goes out. */
GST_START_TEST (test_tls_untrusted)
{
  fx_setup (SRV_ECHO, TRUE);
  fx_connect (TRUE, NULL, CONNECT_MS);
  fail_unless (iterate_until (&fx.closed));
  fail_unless (fx.error && fx.error->domain == G_TLS_ERROR, "%s",
      fx.error ? fx.error->message : "no error");
  fail_if (fx.closed_opened);
  fail_if (fx.opened);
  fail_unless_equals_int (fx.server_got->len, 0);
  fx_teardown ();
}

GST_END_TEST;

/* Large bodies both ways: flow control and deferred data resume */
GST_START_TEST (test_large_body)
{
  gsize total = 3 * 1024 * 1024, sent = 0;
  guint8 *buf = g_malloc (total);
  gsize i;

  for (i = 0; i < total; i++)
    buf[i] = (guint8) (i * 7 + (i >> 13));
  fx_setup (SRV_ECHO, FALSE);
  fx_connect (FALSE, NULL, CONNECT_MS);
  while (sent < total) {
    gsize n = MIN (total - sent, 100000);
    fail_unless (gst_s2s_h2_client_send (fx.client, buf + sent, n));
    sent += n;
    g_main_context_iteration (NULL, FALSE);
  }
  gst_s2s_h2_client_end (fx.client);
  fail_unless (iterate_until (&fx.closed));
  fail_unless (fx.error == NULL, "%s", fx.error ? fx.error->message : "");
  fail_unless_equals_int (fx.client_got->len, total);
  fail_unless (memcmp (fx.client_got->str, buf, total) == 0);
  fail_unless_equals_int (gst_s2s_h2_client_get_queued (fx.client), 0);
  g_free (buf);
  fx_teardown ();
}

GST_END_TEST;

GST_START_TEST (test_http_error_status)
{
  fx_setup (SRV_REJECT, FALSE);
  fx_connect (FALSE, NULL, CONNECT_MS);
  fail_unless (iterate_until (&fx.closed));
  fail_unless (fx.error == NULL);
  fail_unless_equals_int (fx.status, 403);
  fail_unless (strstr (fx.client_got->str, "signature") != NULL);
  fx_teardown ();
}

GST_END_TEST;

GST_START_TEST (test_rst_stream)
{
  fx_setup (SRV_RESET, FALSE);
  fx_connect (FALSE, NULL, CONNECT_MS);
  fail_unless (iterate_until (&fx.closed));
  fail_unless (g_error_matches (fx.error, GST_S2S_H2_ERROR,
          GST_S2S_H2_ERROR_RESET));
  fail_unless (strstr (fx.error->message, "REFUSED_STREAM") != NULL, "%s",
      fx.error->message);
  fail_unless (fx.closed_opened);
  fx_teardown ();
}

GST_END_TEST;

GST_START_TEST (test_goaway_refused)
{
  fx_setup (SRV_GOAWAY_REFUSE, FALSE);
  fx_connect (FALSE, NULL, CONNECT_MS);
  fail_unless (iterate_until (&fx.closed));
  fail_unless (g_error_matches (fx.error, GST_S2S_H2_ERROR,
          GST_S2S_H2_ERROR_GOAWAY), "%s", fx.error ? fx.error->message : "");
  fx_teardown ();
}

GST_END_TEST;

/* A GOAWAY that includes our stream lets it go on to the end */
GST_START_TEST (test_goaway_graceful)
{
  fx_setup (SRV_GOAWAY_GRACEFUL, FALSE);
  fx_connect (FALSE, NULL, CONNECT_MS);
  run_duplex ();
  fx_teardown ();
}

GST_END_TEST;

GST_START_TEST (test_dropped_connection)
{
  fx_setup (SRV_DROP_AFTER_HEADERS, FALSE);
  fx_connect (FALSE, NULL, CONNECT_MS);
  fail_unless (iterate_until (&fx.closed));
  fail_unless (g_error_matches (fx.error, GST_S2S_H2_ERROR,
          GST_S2S_H2_ERROR_CLOSED), "%s", fx.error ? fx.error->message : "");
  fail_unless_equals_int (fx.status, 200);
  fx_teardown ();
}

GST_END_TEST;

/* No response HEADERS within the connect timeout */
GST_START_TEST (test_response_timeout)
{
  gint64 start;

  fx_setup (SRV_SILENT, FALSE);
  start = g_get_monotonic_time ();
  fx_connect (FALSE, NULL, 300);
  fail_unless (iterate_until (&fx.closed));
  fail_unless (g_error_matches (fx.error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT));
  fail_unless (g_get_monotonic_time () - start >= 290 * 1000);
  fx_teardown ();
}

GST_END_TEST;

/* The TCP connect itself stalls (TLS handshake against a listener that
 * never answers): the timeout still fires */
GST_START_TEST (test_connect_timeout)
{
  GSocketListener *l = g_socket_listener_new ();
  guint16 port = g_socket_listener_add_any_inet_port (l, NULL, NULL);
  gchar *url = g_strdup_printf ("https://127.0.0.1:%u/x", port);
  GError *err = NULL;

  fx_setup (SRV_ECHO, FALSE);
  fail_unless (gst_s2s_h2_client_connect (fx.client, "POST", url, NULL,
          NULL, NULL, 300, &err));
  fail_unless (iterate_until (&fx.closed));
  fail_unless (g_error_matches (fx.error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT),
      "%s", fx.error ? fx.error->message : "");
  fail_if (fx.closed_opened);
  g_free (url);
  g_socket_listener_close (l);
  g_object_unref (l);
  fx_teardown ();
}

GST_END_TEST;

GST_START_TEST (test_refused_urls)
{
  GError *err = NULL;

  fx_setup (SRV_ECHO, FALSE);
  fail_if (gst_s2s_h2_client_connect (fx.client, "POST",
          "http://192.0.2.1/x", NULL, NULL, NULL, 0, &err));
  fail_unless (err && strstr (err->message, "loopback"));
  g_clear_error (&err);
  fail_if (gst_s2s_h2_client_connect (fx.client, "POST", "ws://127.0.0.1/x",
          NULL, NULL, NULL, 0, &err));
  g_clear_error (&err);
  fx_teardown ();
}

GST_END_TEST;

/* Freeing from inside a callback is safe and silences the client; the
 * server sees the stream cancelled */
GST_START_TEST (test_free_in_callback)
{
  guint8 chunk[4000] = { 0 };

  fx_setup (SRV_ECHO, FALSE);
  fx_connect (FALSE, NULL, CONNECT_MS);
  fx.free_after = 1;
  gst_s2s_h2_client_send (fx.client, chunk, sizeof (chunk));
  fail_unless (iterate_until_len (fx.client_got, 1));
  fail_unless (fx.client == NULL);
  /* a little more time: nothing may arrive */
  {
    gint64 end = g_get_monotonic_time () + 200 * 1000;
    while (g_get_monotonic_time () < end)
      g_main_context_iteration (NULL, FALSE);
  }
  fail_if (fx.closed);
  fx_teardown ();
}

GST_END_TEST;

/* Free while the connect is in flight: no callback, no crash */
GST_START_TEST (test_free_while_connecting)
{
  fx_setup (SRV_ECHO, TRUE);
  fx_connect (TRUE, NULL, CONNECT_MS);
  gst_s2s_h2_client_free (fx.client);
  fx.client = NULL;
  {
    gint64 end = g_get_monotonic_time () + 300 * 1000;
    while (g_get_monotonic_time () < end)
      g_main_context_iteration (NULL, FALSE);
  }
  fail_if (fx.closed);
  fail_if (fx.opened);
  fx_teardown ();
}

GST_END_TEST;

/* ---- a minimal HTTP CONNECT proxy on its own threads ---- */

typedef struct
{
  GSocketListener *listener;
  guint16 port;
  gchar *request_line;
  GThread *thread;
} Proxy;

typedef struct
{
  GInputStream *in;
  GOutputStream *out;
} Pipe;

static gpointer
pipe_thread (gpointer data)
{
  Pipe *p = data;
  guint8 buf[16384];
  gssize n;

  while ((n = g_input_stream_read (p->in, buf, sizeof (buf), NULL, NULL)) > 0)
    if (!g_output_stream_write_all (p->out, buf, n, NULL, NULL, NULL))
      break;
  g_output_stream_close (p->out, NULL, NULL);
  g_free (p);
  return NULL;
}

static gpointer
proxy_thread (gpointer data)
{
  Proxy *px = data;
  GSocketConnection *in, *out;
  GSocketClient *client;
  GString *head = g_string_new (NULL);
  gchar **parts, *eol;
  const gchar *ok = "HTTP/1.1 200 Connection established\r\n\r\n";
  Pipe *a, *b;
  GThread *ta, *tb;

  in = g_socket_listener_accept (px->listener, NULL, NULL, NULL);
  if (in == NULL)
    goto out;
  while (!strstr (head->str, "\r\n\r\n")) {
    gchar c;
    if (g_input_stream_read (g_io_stream_get_input_stream (G_IO_STREAM (in)),
            &c, 1, NULL, NULL) != 1)
      break;
    g_string_append_c (head, c);
  }
  eol = strstr (head->str, "\r\n");
  px->request_line = g_strndup (head->str, eol ? eol - head->str : 0);
  parts = g_strsplit (px->request_line, " ", 3);
  client = g_socket_client_new ();
  g_socket_client_set_enable_proxy (client, FALSE);
  out = parts[0] && parts[1] ? g_socket_client_connect_to_host (client,
      parts[1], 0, NULL, NULL) : NULL;
  g_strfreev (parts);
  g_object_unref (client);
  if (out == NULL) {
    g_object_unref (in);
    goto out;
  }
  g_output_stream_write_all (g_io_stream_get_output_stream (G_IO_STREAM (in)),
      ok, strlen (ok), NULL, NULL, NULL);
  a = g_new0 (Pipe, 1);
  a->in = g_io_stream_get_input_stream (G_IO_STREAM (in));
  a->out = g_io_stream_get_output_stream (G_IO_STREAM (out));
  b = g_new0 (Pipe, 1);
  b->in = g_io_stream_get_input_stream (G_IO_STREAM (out));
  b->out = g_io_stream_get_output_stream (G_IO_STREAM (in));
  ta = g_thread_new ("proxy-up", pipe_thread, a);
  tb = g_thread_new ("proxy-down", pipe_thread, b);
  g_thread_join (ta);
  g_thread_join (tb);
  g_object_unref (in);
  g_object_unref (out);
out:
  g_string_free (head, TRUE);
  return NULL;
}

/* https:// through an http:// proxy (HTTP CONNECT), TLS end to end */
GST_START_TEST (test_proxy_connect)
{
  Proxy px = { 0, };
  gchar *ca = cert_path ("ca.pem"), *proxy, *url, *expect;
  GError *err = NULL;

  fx_setup (SRV_ECHO, TRUE);
  px.listener = g_socket_listener_new ();
  px.port = g_socket_listener_add_any_inet_port (px.listener, NULL, &err);
  fail_unless (px.port > 0);
  px.thread = g_thread_new ("proxy", proxy_thread, &px);
  proxy = g_strdup_printf ("http://127.0.0.1:%u", px.port);
  url = g_strdup_printf ("https://127.0.0.1:%u/x",
      emu_h2_server_port (fx.server));
  fail_unless (gst_s2s_h2_client_connect (fx.client, "POST", url, NULL, ca,
          proxy, CONNECT_MS, &err), "%s", err ? err->message : "");
  gst_s2s_h2_client_send (fx.client, (const guint8 *) "via proxy", 9);
  fail_unless (iterate_until_len (fx.client_got, 9));
  fail_unless (memcmp (fx.client_got->str, "via proxy", 9) == 0);
  gst_s2s_h2_client_end (fx.client);
  fail_unless (iterate_until (&fx.closed));
  fail_unless (fx.error == NULL, "%s", fx.error ? fx.error->message : "");

  fx_teardown ();
  g_socket_listener_close (px.listener);
  g_thread_join (px.thread);
  expect = g_strdup_printf ("CONNECT 127.0.0.1:%u HTTP/1.",
      (guint) g_ascii_strtoull (strrchr (url, ':') + 1, NULL, 10));
  fail_unless (px.request_line && g_str_has_prefix (px.request_line, expect),
      "proxy saw '%s'", GST_STR_NULL (px.request_line));
  g_free (expect);
  g_free (px.request_line);
  g_object_unref (px.listener);
  g_free (proxy);
  g_free (url);
  g_free (ca);
}

GST_END_TEST;

static Suite *
h2client_suite (void)
{
  Suite *s = suite_create ("h2client");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_h2c_duplex);
  tcase_add_test (tc, test_tls_alpn_duplex);
  tcase_add_test (tc, test_tls_untrusted);
  tcase_add_test (tc, test_large_body);
  tcase_add_test (tc, test_http_error_status);
  tcase_add_test (tc, test_rst_stream);
  tcase_add_test (tc, test_goaway_refused);
  tcase_add_test (tc, test_goaway_graceful);
  tcase_add_test (tc, test_dropped_connection);
  tcase_add_test (tc, test_response_timeout);
  tcase_add_test (tc, test_connect_timeout);
  tcase_add_test (tc, test_refused_urls);
  tcase_add_test (tc, test_free_in_callback);
  tcase_add_test (tc, test_free_while_connecting);
  tcase_add_test (tc, test_proxy_connect);
  return s;
}

GST_CHECK_MAIN (h2client);
