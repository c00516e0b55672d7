/* s2s-emulator: loopback speech-to-speech provider emulator for tests.
 * Copyright (C) 2026 gst-s2s contributors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A small HTTP/2 server on libnghttp2 (h2c with prior knowledge, or TLS
 * with ALPN h2) for the Nova dialect and the HTTP/2 client's unit tests.
 * Single-threaded: everything runs on the thread-default GMainContext of
 * the thread that called emu_h2_listen().
 */

#ifndef __EMU_H2_H__
#define __EMU_H2_H__

#include <gio/gio.h>

G_BEGIN_DECLS typedef struct _EmuH2Server EmuH2Server;
typedef struct _EmuH2Conn EmuH2Conn;

typedef struct
{
  /* A connection was accepted (TLS handshake done). */
  void (*conn_open) (EmuH2Conn * conn, gpointer user_data);
  /* Request HEADERS of a new stream: @headers alternate name, value
   * (pseudo-headers included, in wire order), NULL-terminated. */
  void (*request) (EmuH2Conn * conn, gint32 stream_id,
      const char *const *headers, gpointer user_data);
  /* Request body bytes as they arrive. */
  void (*data) (EmuH2Conn * conn, gint32 stream_id, const guint8 * data,
      gsize len, gpointer user_data);
  /* The client ended its body (END_STREAM). */
  void (*end) (EmuH2Conn * conn, gint32 stream_id, gpointer user_data);
  /* The stream is gone; @error_code is the HTTP/2 code (0: clean). */
  void (*stream_closed) (EmuH2Conn * conn, gint32 stream_id,
      guint32 error_code, gpointer user_data);
  /* The client sent GOAWAY (the connection may go on). */
  void (*goaway) (EmuH2Conn * conn, guint32 error_code, gpointer user_data);
  /* The connection is gone; @conn is freed right after. */
  void (*conn_closed) (EmuH2Conn * conn, gpointer user_data);
} EmuH2Callbacks;

/* Listen on 127.0.0.1:@port (0: any free port). @cert: TLS with ALPN h2,
 * or NULL for h2c. */
EmuH2Server *emu_h2_listen (guint16 port, GTlsCertificate * cert,
    const EmuH2Callbacks * cb, gpointer user_data, GError ** error);
guint16 emu_h2_server_port (EmuH2Server * server);
void emu_h2_server_free (EmuH2Server * server);

/* Per-connection user data (the dialect's state) */
void emu_h2_conn_set_data (EmuH2Conn * conn, gpointer data);
gpointer emu_h2_conn_get_data (EmuH2Conn * conn);

/* Answer @stream_id: HEADERS with @status and @headers (name, value pairs,
 * NULL-terminated); the body follows with emu_h2_send()/emu_h2_end(). */
void emu_h2_respond (EmuH2Conn * conn, gint32 stream_id, guint status,
    const char *const *headers);
void emu_h2_send (EmuH2Conn * conn, gint32 stream_id, const guint8 * data,
    gsize len);
void emu_h2_end (EmuH2Conn * conn, gint32 stream_id);
/* RST_STREAM with @error_code */
void emu_h2_reset (EmuH2Conn * conn, gint32 stream_id, guint32 error_code);
/* GOAWAY with @error_code; @last_stream_id < 0: the highest seen */
void emu_h2_goaway (EmuH2Conn * conn, guint32 error_code,
    gint32 last_stream_id, const char *debug);
/* Shut the socket with no further frame */
void emu_h2_drop (EmuH2Conn * conn);
/* Send everything queued, then close the connection */
void emu_h2_close (EmuH2Conn * conn);
/* Stop reading the socket for @ms (a client whose writes block once the
 * kernel buffers are full) */
void emu_h2_pause_reading (EmuH2Conn * conn, guint ms);

G_END_DECLS
#endif /* __EMU_H2_H__ */
