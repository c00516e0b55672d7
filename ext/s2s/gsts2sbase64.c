/* gst-s2s
 * Copyright (C) 2026 gst-s2s developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Base64 for the audio in JSON events (see gsts2sbase64.h). GLib's codec
 * works through a state machine a character at a time and its decoder
 * skips invalid characters; this one moves whole groups (two 3-byte / 4-
 * character groups per loop turn) through tables and rejects anything
 * that is not canonical base64, so a caller can fall back to a lenient
 * path.
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gsts2sbase64.h"

static const gchar enc_table[64] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* character -> 6-bit value, 0xff for anything outside the alphabet
 * (including '=', which only the last group may hold) */
static const guint8 dec_table[256] = {
  0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
  0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
  0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
  0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
  0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
  0xff, 0xff, 0xff, 0x3e, 0xff, 0xff, 0xff, 0x3f,
  0x34, 0x35, 0x36, 0x37, 0x38, 0x39, 0x3a, 0x3b,
  0x3c, 0x3d, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
  0xff, 0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06,
  0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e,
  0x0f, 0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16,
  0x17, 0x18, 0x19, 0xff, 0xff, 0xff, 0xff, 0xff,
  0xff, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f, 0x20,
  0x21, 0x22, 0x23, 0x24, 0x25, 0x26, 0x27, 0x28,
  0x29, 0x2a, 0x2b, 0x2c, 0x2d, 0x2e, 0x2f, 0x30,
  0x31, 0x32, 0x33, 0xff, 0xff, 0xff, 0xff, 0xff,
  0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
  0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
  0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
  0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
  0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
  0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
  0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
  0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
  0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
  0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
  0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
  0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
  0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
  0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
  0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
  0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
};

gsize
gst_s2s_base64_encoded_size (gsize n)
{
  gsize groups = n / 3 + (n % 3 != 0);

  if (groups > G_MAXSIZE / 4)
    return 0;
  return groups * 4;
}

gsize
gst_s2s_base64_decoded_max (gsize len)
{
  return len / 4 * 3;
}

static inline void
encode_group (const guint8 * in, gchar * out)
{
  guint32 v = ((guint32) in[0] << 16) | ((guint32) in[1] << 8) | in[2];

  out[0] = enc_table[v >> 18];
  out[1] = enc_table[(v >> 12) & 0x3f];
  out[2] = enc_table[(v >> 6) & 0x3f];
  out[3] = enc_table[v & 0x3f];
}

gsize
gst_s2s_base64_encode (const guint8 * data, gsize n, gchar * out)
{
  gchar *o = out;
  gsize i = 0;

  /* two groups, 6 bytes -> 8 characters, per turn */
  for (; n - i >= 6; i += 6, o += 8) {
    encode_group (data + i, o);
    encode_group (data + i + 3, o + 4);
  }
  if (n - i >= 3) {
    encode_group (data + i, o);
    i += 3;
    o += 4;
  }
  if (n - i == 1) {
    guint32 v = (guint32) data[i] << 16;
    o[0] = enc_table[v >> 18];
    o[1] = enc_table[(v >> 12) & 0x3f];
    o[2] = '=';
    o[3] = '=';
    o += 4;
  } else if (n - i == 2) {
    guint32 v = ((guint32) data[i] << 16) | ((guint32) data[i + 1] << 8);
    o[0] = enc_table[v >> 18];
    o[1] = enc_table[(v >> 12) & 0x3f];
    o[2] = enc_table[(v >> 6) & 0x3f];
    o[3] = '=';
    o += 4;
  }
  return o - out;
}

gboolean
gst_s2s_base64_decode (const gchar * text, gsize len, guint8 * out,
    gsize * out_len)
{
  const guint8 *in = (const guint8 *) text;
  guint8 *o = out;
  guint32 bad = 0;
  gsize i = 0, body;
  guint a, b, c, d;

  *out_len = 0;
  if (len % 4 != 0)
    return FALSE;
  if (len == 0)
    return TRUE;
  /* every group but the last has no padding */
  body = len - 4;

  /* two groups, 8 characters -> 6 bytes, per turn; an invalid character
   * sets bit 7 of its table entry, collected in @bad and checked once per
   * turn */
  for (; body - i >= 8; i += 8, o += 6) {
    guint32 v, w;
    guint e, f, g, h;

    a = dec_table[in[i]];
    b = dec_table[in[i + 1]];
    c = dec_table[in[i + 2]];
    d = dec_table[in[i + 3]];
    e = dec_table[in[i + 4]];
    f = dec_table[in[i + 5]];
    g = dec_table[in[i + 6]];
    h = dec_table[in[i + 7]];
    bad = a | b | c | d | e | f | g | h;
    if (G_UNLIKELY (bad & 0x80))
      return FALSE;
    v = (a << 18) | (b << 12) | (c << 6) | d;
    w = (e << 18) | (f << 12) | (g << 6) | h;
    o[0] = v >> 16;
    o[1] = v >> 8;
    o[2] = v;
    o[3] = w >> 16;
    o[4] = w >> 8;
    o[5] = w;
  }
  if (body - i == 4) {
    guint32 v;

    a = dec_table[in[i]];
    b = dec_table[in[i + 1]];
    c = dec_table[in[i + 2]];
    d = dec_table[in[i + 3]];
    if ((a | b | c | d) & 0x80)
      return FALSE;
    v = (a << 18) | (b << 12) | (c << 6) | d;
    o[0] = v >> 16;
    o[1] = v >> 8;
    o[2] = v;
    o += 3;
    i += 4;
  }

  /* the last group: "xxxx", "xxx=" or "xx==" */
  a = dec_table[in[i]];
  b = dec_table[in[i + 1]];
  if ((a | b) & 0x80)
    return FALSE;
  if (in[i + 2] == '=') {
    if (in[i + 3] != '=' || (b & 0x0f) != 0)
      return FALSE;
    o[0] = (a << 2) | (b >> 4);
    o += 1;
  } else {
    c = dec_table[in[i + 2]];
    if (c & 0x80)
      return FALSE;
    if (in[i + 3] == '=') {
      if ((c & 0x03) != 0)
        return FALSE;
      o[0] = (a << 2) | (b >> 4);
      o[1] = (b << 4) | (c >> 2);
      o += 2;
    } else {
      guint32 v;

      d = dec_table[in[i + 3]];
      if (d & 0x80)
        return FALSE;
      v = (a << 18) | (b << 12) | (c << 6) | d;
      o[0] = v >> 16;
      o[1] = v >> 8;
      o[2] = v;
      o += 3;
    }
  }
  *out_len = o - out;
  return TRUE;
}
