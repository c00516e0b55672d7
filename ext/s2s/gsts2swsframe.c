/* gst-s2s
 * Copyright (C) 2026 gst-s2s developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <string.h>

#include "gsts2swsframe.h"

gssize
gst_s2s_ws_frame_parse (const guint8 * buf, gsize len, gsize max_payload,
    GstS2SWsFrame * frame)
{
  guint8 b0, b1, opcode;
  guint64 plen;
  gsize hdr = 2;

  if (len < 2)
    return 0;
  b0 = buf[0];
  b1 = buf[1];
  opcode = b0 & 0x0f;
  /* no extension was negotiated: the reserved bits stay clear */
  if (b0 & 0x70)
    return -1002;
  /* a server never masks (RFC 6455 5.1) */
  if (b1 & 0x80)
    return -1002;
  switch (opcode) {
    case GST_S2S_WS_OP_CONTINUATION:
    case GST_S2S_WS_OP_TEXT:
    case GST_S2S_WS_OP_BINARY:
      break;
    case GST_S2S_WS_OP_CLOSE:
    case GST_S2S_WS_OP_PING:
    case GST_S2S_WS_OP_PONG:
      /* control frames are whole and short (5.5) */
      if (!(b0 & 0x80) || (b1 & 0x7f) > 125)
        return -1002;
      break;
    default:
      return -1002;
  }
  plen = b1 & 0x7f;
  if (plen == 126) {
    if (len < 4)
      return 0;
    plen = ((guint64) buf[2] << 8) | buf[3];
    hdr = 4;
  } else if (plen == 127) {
    gint i;
    if (len < 10)
      return 0;
    if (buf[2] & 0x80)
      return -1002;
    plen = 0;
    for (i = 0; i < 8; i++)
      plen = (plen << 8) | buf[2 + i];
    hdr = 10;
  }
  if (plen > max_payload)
    return -1009;
  if (len - hdr < plen)
    return 0;
  frame->fin = (b0 & 0x80) != 0;
  frame->opcode = opcode;
  frame->payload = buf + hdr;
  frame->len = plen;
  return hdr + plen;
}

void
gst_s2s_ws_assembler_init (GstS2SWsAssembler * a, gsize max_message)
{
  a->opcode = 0;
  a->buf = NULL;
  a->max_message = max_message;
}

void
gst_s2s_ws_assembler_clear (GstS2SWsAssembler * a)
{
  if (a->buf)
    g_byte_array_unref (a->buf);
  a->buf = NULL;
  a->opcode = 0;
}

static gushort
finish_message (guint8 opcode, GBytes * bytes, GBytes ** msg, gboolean * binary)
{
  gsize n;
  const gchar *data = g_bytes_get_data (bytes, &n);

  if (opcode == GST_S2S_WS_OP_TEXT && !g_utf8_validate_len (data, n, NULL)) {
    g_bytes_unref (bytes);
    return 1007;
  }
  *msg = bytes;
  *binary = opcode == GST_S2S_WS_OP_BINARY;
  return 0;
}

gushort
gst_s2s_ws_assembler_push (GstS2SWsAssembler * a, const GstS2SWsFrame * frame,
    GBytes ** msg, gboolean * binary)
{
  *msg = NULL;
  if (frame->opcode == GST_S2S_WS_OP_CONTINUATION) {
    if (a->opcode == 0)
      return 1002;
    if (a->buf->len + frame->len > a->max_message)
      return 1009;
    g_byte_array_append (a->buf, frame->payload, frame->len);
    if (frame->fin) {
      guint8 op = a->opcode;
      GBytes *b = g_byte_array_free_to_bytes (a->buf);

      a->buf = NULL;
      a->opcode = 0;
      return finish_message (op, b, msg, binary);
    }
    return 0;
  }
  /* a new data message while one is in progress */
  if (a->opcode != 0)
    return 1002;
  if (frame->len > a->max_message)
    return 1009;
  if (frame->fin)
    return finish_message (frame->opcode, g_bytes_new (frame->payload,
            frame->len), msg, binary);
  a->opcode = frame->opcode;
  a->buf = g_byte_array_sized_new (frame->len);
  g_byte_array_append (a->buf, frame->payload, frame->len);
  return 0;
}

gboolean
gst_s2s_ws_parse_close (const guint8 * payload, gsize len, gushort * code,
    gchar ** reason)
{
  *reason = NULL;
  if (len == 0) {
    *code = 1005;
    return TRUE;
  }
  if (len == 1)
    return FALSE;
  *code = (payload[0] << 8) | payload[1];
  if (!g_utf8_validate_len ((const gchar *) payload + 2, len - 2, NULL))
    return FALSE;
  *reason = g_strndup ((const gchar *) payload + 2, len - 2);
  return TRUE;
}

guint32
gst_s2s_ws_prng_next (guint64 * state)
{
  guint64 x = *state;

  x ^= x >> 12;
  x ^= x << 25;
  x ^= x >> 27;
  *state = x;
  return (guint32) ((x * G_GUINT64_CONSTANT (0x2545F4914F6CDD1D)) >> 32);
}

void
gst_s2s_ws_frame_build (GByteArray * out, guint8 opcode,
    const guint8 * payload, gsize len, guint32 mask_key)
{
  guint8 hdr[14];
  gsize h = 0, start, i;
  guint8 key[4];
  guint64 key8;
  guint8 *p;

  hdr[h++] = 0x80 | opcode;
  if (len < 126) {
    hdr[h++] = 0x80 | len;
  } else if (len <= 0xffff) {
    hdr[h++] = 0x80 | 126;
    hdr[h++] = len >> 8;
    hdr[h++] = len & 0xff;
  } else {
    gint k;
    hdr[h++] = 0x80 | 127;
    for (k = 7; k >= 0; k--)
      hdr[h++] = ((guint64) len >> (8 * k)) & 0xff;
  }
  memcpy (key, &mask_key, 4);
  memcpy (hdr + h, key, 4);
  h += 4;
  g_byte_array_append (out, hdr, h);
  start = out->len;
  g_byte_array_set_size (out, start + len);
  p = out->data + start;
  if (len)
    memcpy (p, payload, len);
  /* 8 bytes at a time, then the tail; the key repeats every 4 bytes */
  memcpy (&key8, key, 4);
  memcpy ((guint8 *) & key8 + 4, key, 4);
  for (i = 0; i + 8 <= len; i += 8) {
    guint64 v;
    memcpy (&v, p + i, 8);
    v ^= key8;
    memcpy (p + i, &v, 8);
  }
  for (; i < len; i++)
    p[i] ^= key[i & 3];
}
