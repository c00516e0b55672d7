/* gst-s2s
 * Copyright (C) 2026 gst-s2s developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#ifndef __GST_S2S_WS_H__
#define __GST_S2S_WS_H__

#include <gst/gst.h>
#include <libsoup/soup.h>

G_BEGIN_DECLS
/* A WebSocket client (RFC 6455, our own: gsts2sws.c) living on one
 * GMainContext, the element's I/O thread: the one that is thread-default
 * when gst_s2s_ws_connect() runs. Every function must be called on that
 * thread, and callbacks fire there, except gst_s2s_ws_send_text(),
 * gst_s2s_ws_send_binary() and gst_s2s_ws_is_open(): those may be called
 * from any thread at any time between gst_s2s_ws_new() and
 * gst_s2s_ws_free() (the caller makes sure no send is still running when
 * it frees). A send never blocks: what the socket does not take at once is
 * queued and written by the I/O thread, in order. */
typedef struct _GstS2SWs GstS2SWs;

typedef struct
{
  void (*opened) (gpointer user_data);
  void (*message) (GBytes * data, gboolean binary, gpointer user_data);
  /* after opened: the peer closed (@code from its close frame, 1005 when
   * it had none), the socket broke (1006), or the peer broke the protocol
   * (the code we closed with: 1002, 1007 or 1009) */
  void (*closed) (gushort code, const gchar * reason, gpointer user_data);
  /* the connection could not be made; @http_status is 0 when no HTTP
   * response came, @body the response body if any (a refused upgrade's,
   * at most 64 KiB) */
  void (*failed) (const GError * error, guint http_status,
      const gchar * body, gpointer user_data);
} GstS2SWsCallbacks;

GstS2SWs *gst_s2s_ws_new (GstObject * parent, const GstS2SWsCallbacks * cb,
    gpointer user_data);

void gst_s2s_ws_connect (GstS2SWs * ws, SoupMessage * msg,
    const gchar * ssl_ca_file, const gchar * proxy, guint timeout_ms);

gboolean gst_s2s_ws_send_text (GstS2SWs * ws, const gchar * text, gsize len);

gboolean gst_s2s_ws_send_binary (GstS2SWs * ws, const guint8 * data, gsize len);

gboolean gst_s2s_ws_is_open (GstS2SWs * ws);

typedef void (*GstS2SWsDoneFunc) (gpointer user_data);

/* Orderly close: after @drain_ms, a close frame (after every frame sent
 * before it); @done runs once the peer answered it or @timeout_ms later. Frames
 * arriving meanwhile still reach the message callback; the closed callback
 * does not fire. Free the connection after @done. */
void gst_s2s_ws_close (GstS2SWs * ws, guint drain_ms, guint timeout_ms,
    GstS2SWsDoneFunc done, gpointer user_data);

/* Close and free; never blocks. Pending callbacks are dropped. */
void gst_s2s_ws_free (GstS2SWs * ws);

/* The accept-certificate rule of every TLS connection the elements make:
 * verification stays on, and a certificate the system store rejects is
 * accepted only when it verifies for @host:@port against @extra_ca (the
 * ssl-ca-file anchors; NULL: refuse). */
gboolean gst_s2s_tls_accept_with_extra_ca (GstObject * parent,
    GTlsDatabase * extra_ca, GTlsCertificate * cert,
    GTlsCertificateFlags errors, const gchar * host, guint16 port);

/* The trust store of every TLS connection (transfer none; NULL without a
 * TLS backend): the system store, behind a thin wrapper so that a
 * connection does not get its own parsed copy of it (docs/performance.md).
 * The first call makes it the TLS backend's default database. */
GTlsDatabase *gst_s2s_tls_system_database (void);

/* The ssl-ca-file anchors of @path as a database (a new reference): one
 * per file per process, parsed again when the file changed. NULL and
 * @error when the file cannot be read or parsed. */
GTlsDatabase *gst_s2s_tls_ca_file_database (const gchar * path,
    GError ** error);

/* For tests: the bytes the read buffer holds allocated (0: none) */
gsize gst_s2s_ws_read_buffer_size (GstS2SWs * ws);

G_END_DECLS
#endif /* __GST_S2S_WS_H__ */
