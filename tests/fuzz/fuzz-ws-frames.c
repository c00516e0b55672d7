/* gst-s2s
 * Copyright (C) 2026 gst-s2s developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * libFuzzer target for the WebSocket client's frame parser: each input is
 * the byte stream a server sends after the upgrade, parsed and reassembled
 * exactly as the I/O thread does (ext/s2s/gsts2sws.c, handle_frames), with
 * the input split at an offset taken from its first byte so frames also
 * arrive cut in two.
 */

#include <stdint.h>
#include <string.h>

#include "gsts2swsframe.h"

int LLVMFuzzerTestOneInput (const uint8_t * data, size_t size);

/* a small limit, so the too-big paths are reached too */
#define MAX_PAYLOAD 4096

/* FALSE when the stream ended the connection (close or protocol error) */
static gboolean
consume (GByteArray * buf, GstS2SWsAssembler * a)
{
  gsize off = 0;
  gboolean go_on = TRUE;

  /* (an empty GByteArray has no storage: no pointer arithmetic on it) */
  while (go_on && off < buf->len) {
    GstS2SWsFrame f;
    gssize n = gst_s2s_ws_frame_parse (buf->data + off, buf->len - off,
        MAX_PAYLOAD, &f);

    if (n == 0)
      break;
    if (n < 0) {
      g_assert (n == -1002 || n == -1009);
      go_on = FALSE;
      break;
    }
    g_assert ((gsize) n <= buf->len - off);
    g_assert (f.payload + f.len == buf->data + off + n);
    off += n;
    if (f.opcode == GST_S2S_WS_OP_CLOSE) {
      gushort code;
      gchar *reason;

      g_assert (f.fin && f.len <= 125);
      if (gst_s2s_ws_parse_close (f.payload, f.len, &code, &reason))
        g_assert (reason == NULL || g_utf8_validate (reason, -1, NULL));
      g_free (reason);
      go_on = FALSE;
    } else if (f.opcode == GST_S2S_WS_OP_PING || f.opcode == GST_S2S_WS_OP_PONG) {
      g_assert (f.fin && f.len <= 125);
    } else {
      GBytes *msg;
      gboolean binary;
      gushort err = gst_s2s_ws_assembler_push (a, &f, &msg, &binary);

      if (err) {
        g_assert (err == 1002 || err == 1007 || err == 1009);
        go_on = FALSE;
      } else if (msg) {
        gsize len;
        const gchar *d = g_bytes_get_data (msg, &len);

        g_assert (len <= MAX_PAYLOAD);
        g_assert (binary || g_utf8_validate_len (d, len, NULL));
        g_bytes_unref (msg);
      }
    }
  }
  g_byte_array_remove_range (buf, 0, off);
  return go_on;
}

int
LLVMFuzzerTestOneInput (const uint8_t * data, size_t size)
{
  GByteArray *buf = g_byte_array_new ();
  GstS2SWsAssembler a;
  gsize cut;

  if (size == 0)
    return 0;
  cut = size > 1 ? data[0] % size : 0;
  data++;
  size--;
  cut = MIN (cut, size);
  gst_s2s_ws_assembler_init (&a, MAX_PAYLOAD);
  g_byte_array_append (buf, data, cut);
  if (consume (buf, &a)) {
    g_byte_array_append (buf, data + cut, size - cut);
    consume (buf, &a);
  }
  gst_s2s_ws_assembler_clear (&a);
  g_byte_array_unref (buf);
  return 0;
}
