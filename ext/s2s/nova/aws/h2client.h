/* gst-s2s
 * Copyright (C) 2026 gst-s2s developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#ifndef __GST_S2S_H2_CLIENT_H__
#define __GST_S2S_H2_CLIENT_H__

#include <gst/gst.h>
#include <gio/gio.h>

G_BEGIN_DECLS
/* One full-duplex HTTP/2 request on its own connection (libnghttp2), living
 * on one GMainContext: the thread-default context of the thread that calls
 * gst_s2s_h2_client_connect(), which is the element's I/O thread. Every
 * function must be called there; every callback fires there.
 *
 * The request body is streamed: gst_s2s_h2_client_send() queues bytes that
 * go out as DATA frames while the response is read concurrently, before and
 * after its HEADERS. https:// negotiates h2 by ALPN over TLS with
 * verification always on (system trust store, plus @ssl_ca_file as an extra
 * anchor); http:// speaks h2c with prior knowledge, to loopback hosts only. */
typedef struct _GstS2SH2Client GstS2SH2Client;

#define GST_S2S_H2_ERROR (gst_s2s_h2_error_quark ())
GQuark gst_s2s_h2_error_quark (void);

typedef enum
{
  /* the server did not agree to HTTP/2 (ALPN) */
  GST_S2S_H2_ERROR_NO_H2,
  /* the server broke the HTTP/2 protocol, or sent something we refuse */
  GST_S2S_H2_ERROR_PROTOCOL,
  /* the server reset our stream (RST_STREAM); the message names its code */
  GST_S2S_H2_ERROR_RESET,
  /* the server shut the connection with GOAWAY carrying an error, or
   * before processing our stream */
  GST_S2S_H2_ERROR_GOAWAY,
  /* the connection ended before the response did */
  GST_S2S_H2_ERROR_CLOSED,
} GstS2SH2Error;

typedef struct
{
  /* The connection is up and the request HEADERS are submitted. */
  void (*opened) (gpointer user_data);
  /* The final response HEADERS: @headers alternate name, value
   * (lower-case names, pseudo-headers left out), NULL-terminated. */
  void (*response) (guint status, const gchar * const *headers,
      gpointer user_data);
  /* Response body bytes, in order, as they come (any fragmentation). */
  void (*data) (const guint8 * data, gsize len, gpointer user_data);
  /* The end, reported once; no callback follows. @error is NULL when the
   * server ended its response cleanly (END_STREAM). Otherwise it is a
   * G_IO_ERROR (G_IO_ERROR_TIMED_OUT for the connect timeout), a
   * G_TLS_ERROR, a G_RESOLVER_ERROR, or a GST_S2S_H2_ERROR. @opened tells
   * whether opened() had been called. */
  void (*closed) (const GError * error, gboolean opened, gpointer user_data);
} GstS2SH2Callbacks;

GstS2SH2Client *gst_s2s_h2_client_new (GstObject * parent,
    const GstS2SH2Callbacks * cb, gpointer user_data);

/* Start connecting and send the request as soon as the connection is up.
 * @method: e.g. "POST". @url: http(s)://host[:port]/path?query, sent as is
 * in :path (the caller does any percent-encoding). @headers: name, value
 * pairs, NULL-terminated, names lower-case; ":authority" is host[:port] of
 * @url unless @headers has "host", which is then sent as :authority.
 * @proxy: an http:// proxy for CONNECT, NULL for the system default.
 * @timeout_ms: bound on connect, TLS handshake and the response HEADERS
 * (0: none). Returns FALSE (and sets @error) only when the arguments are
 * unusable; a failure later is reported by closed(). */
gboolean gst_s2s_h2_client_connect (GstS2SH2Client * client,
    const gchar * method, const gchar * url, const gchar * const *headers,
    const gchar * ssl_ca_file, const gchar * proxy, guint timeout_ms,
    GError ** error);

/* Queue request body bytes (copied). Allowed before opened(); they go out
 * right after the HEADERS. FALSE once the body was ended or closed()
 * fired. */
gboolean gst_s2s_h2_client_send (GstS2SH2Client * client, const guint8 * data,
    gsize len);

/* End the request body (END_STREAM after everything queued). The response
 * keeps being read. */
gboolean gst_s2s_h2_client_end (GstS2SH2Client * client);

/* Report to other callbacks from now on (a stream that drains while its
 * owner goes on with a new one) */
void gst_s2s_h2_client_set_callbacks (GstS2SH2Client * client,
    const GstS2SH2Callbacks * cb, gpointer user_data);

/* Bytes queued and not yet handed to the socket */
gsize gst_s2s_h2_client_get_queued (GstS2SH2Client * client);

gboolean gst_s2s_h2_client_is_open (GstS2SH2Client * client);

/* Cancel, send RST_STREAM(CANCEL) and GOAWAY if the socket takes them
 * without blocking, close and free. No callback fires after this; safe to
 * call from inside a callback. */
void gst_s2s_h2_client_free (GstS2SH2Client * client);

G_END_DECLS
#endif /* __GST_S2S_H2_CLIENT_H__ */
