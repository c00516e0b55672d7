/* gst-s2s
 * Copyright (C) 2026 gst-s2s developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Base64 for the audio in JSON events (see gsts2sbase64.h). GLib's codec
 * works through a state machine a character at a time and its decoder
 * skips invalid characters; this one moves whole groups (the encoder four
 * 3-byte groups per loop turn, read with two 8-byte loads; the decoder two
 * 4-character groups) through tables (12 bits -> 2
 * characters to encode, one pre-shifted table per character position to
 * decode) and rejects anything that is not canonical base64, so a caller
 * can fall back to a lenient path.
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <string.h>

#include "gsts2sbase64.h"

/* The tables are built by the preprocessor from these two mappings. */

/* 6-bit value -> character */
#define ENC(i) ((i) < 26 ? 'A' + (i) : (i) < 52 ? 'a' + (i) - 26 : \
    (i) < 62 ? '0' + (i) - 52 : (i) == 62 ? '+' : '/')
/* character -> 6-bit value, or 0x100 for anything outside the alphabet
 * (including '=', which only the last group may hold) */
#define DEC(c) ((c) >= 'A' && (c) <= 'Z' ? (c) - 'A' : \
    (c) >= 'a' && (c) <= 'z' ? (c) - 'a' + 26 : \
    (c) >= '0' && (c) <= '9' ? (c) - '0' + 52 : \
    (c) == '+' ? 62 : (c) == '/' ? 63 : 0x100)

#define R4(f, n) f (n), f ((n) + 1), f ((n) + 2), f ((n) + 3)
#define R16(f, n) R4 (f, n), R4 (f, (n) + 4), R4 (f, (n) + 8), \
    R4 (f, (n) + 12)
#define R64(f, n) R16 (f, n), R16 (f, (n) + 16), R16 (f, (n) + 32), \
    R16 (f, (n) + 48)
#define R256(f, n) R64 (f, n), R64 (f, (n) + 64), R64 (f, (n) + 128), \
    R64 (f, (n) + 192)
#define R4096(f) R256 (f, 0), R256 (f, 256), R256 (f, 512), \
    R256 (f, 768), R256 (f, 1024), R256 (f, 1280), R256 (f, 1536), \
    R256 (f, 1792), R256 (f, 2048), R256 (f, 2304), R256 (f, 2560), \
    R256 (f, 2816), R256 (f, 3072), R256 (f, 3328), R256 (f, 3584), \
    R256 (f, 3840)

/* 12 bits -> their two characters, in memory order */
#define PAIR(x) { ENC ((x) >> 6), ENC ((x) & 0x3f) }
static const gchar enc_pairs[4096][2] = { R4096 (PAIR) };

/* character -> its value already in place in a group's 24 bits; a
 * character outside the alphabet sets the 8 bits above them, so one test
 * of the OR of a group finds any */
#define DSH(c, shift) (DEC (c) > 63 ? 0xff000000u : \
    (guint32) DEC (c) << (shift))
#define D0(c) DSH (c, 18)
#define D1(c) DSH (c, 12)
#define D2(c) DSH (c, 6)
#define D3(c) DSH (c, 0)
static const guint32 dec0[256] = { R256 (D0, 0) };
static const guint32 dec1[256] = { R256 (D1, 0) };
static const guint32 dec2[256] = { R256 (D2, 0) };
static const guint32 dec3[256] = { R256 (D3, 0) };

#define INVALID 0xff000000u

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

  memcpy (out, enc_pairs[v >> 12], 2);
  memcpy (out + 2, enc_pairs[v & 0xfff], 2);
}

gsize
gst_s2s_base64_encode (const guint8 * data, gsize n, gchar * out)
{
  gchar *o = out;
  gsize i = 0;

  /* four groups, 12 bytes -> 16 characters, per turn, read as two 8-byte
   * loads (big-endian, so the 48 bits of each half are the top ones) while
   * at least 14 bytes remain, so the second load stays inside @data */
  for (; n - i >= 14; i += 12, o += 16) {
    guint64 x, y;

    memcpy (&x, data + i, 8);
    memcpy (&y, data + i + 6, 8);
    x = GUINT64_FROM_BE (x);
    y = GUINT64_FROM_BE (y);
    memcpy (o, enc_pairs[x >> 52], 2);
    memcpy (o + 2, enc_pairs[(x >> 40) & 0xfff], 2);
    memcpy (o + 4, enc_pairs[(x >> 28) & 0xfff], 2);
    memcpy (o + 6, enc_pairs[(x >> 16) & 0xfff], 2);
    memcpy (o + 8, enc_pairs[y >> 52], 2);
    memcpy (o + 10, enc_pairs[(y >> 40) & 0xfff], 2);
    memcpy (o + 12, enc_pairs[(y >> 28) & 0xfff], 2);
    memcpy (o + 14, enc_pairs[(y >> 16) & 0xfff], 2);
  }
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
    memcpy (o, enc_pairs[(guint) data[i] << 4], 2);
    o[2] = '=';
    o[3] = '=';
    o += 4;
  } else if (n - i == 2) {
    guint32 v = ((guint32) data[i] << 16) | ((guint32) data[i + 1] << 8);
    memcpy (o, enc_pairs[v >> 12], 2);
    o[2] = enc_pairs[v & 0xfff][0];
    o[3] = '=';
    o += 4;
  }
  return o - out;
}

static inline guint32
decode_group (const guint8 * in)
{
  return dec0[in[0]] | dec1[in[1]] | dec2[in[2]] | dec3[in[3]];
}

static inline void
store3 (guint8 * o, guint32 v)
{
  o[0] = v >> 16;
  o[1] = v >> 8;
  o[2] = v;
}

gboolean
gst_s2s_base64_decode (const gchar * text, gsize len, guint8 * out,
    gsize * out_len)
{
  const guint8 *in = (const guint8 *) text;
  guint8 *o = out;
  gsize i = 0, body;
  guint a, b, c;
  guint32 v;

  *out_len = 0;
  if (len % 4 != 0)
    return FALSE;
  if (len == 0)
    return TRUE;
  /* every group but the last has no padding */
  body = len - 4;

  /* two groups, 8 characters -> 6 bytes, per turn, written as one 8-byte
   * store (its last two bytes are overwritten next: the loop stops while
   * at least 3 more bytes follow, so it never writes past the output) */
  for (; body - i >= 12; i += 8, o += 6) {
    guint32 w;
    guint64 x;

    v = decode_group (in + i);
    w = decode_group (in + i + 4);
    if (G_UNLIKELY ((v | w) & INVALID))
      return FALSE;
    x = GUINT64_TO_BE (((guint64) v << 40) | ((guint64) w << 16));
    memcpy (o, &x, 8);
  }
  for (; body - i >= 4; i += 4, o += 3) {
    v = decode_group (in + i);
    if (v & INVALID)
      return FALSE;
    store3 (o, v);
  }

  /* the last group: "xxxx", "xxx=" or "xx==" */
  if (in[i + 3] != '=') {
    v = decode_group (in + i);
    if (v & INVALID)
      return FALSE;
    store3 (o, v);
    o += 3;
  } else {
    a = in[i];
    b = in[i + 1];
    c = in[i + 2];
    v = dec0[a] | dec1[b];
    if (v & INVALID)
      return FALSE;
    if (c == '=') {
      /* "xx==": 8 bits, the 4 below them zero */
      if (v & 0x0ffff)
        return FALSE;
      o[0] = v >> 16;
      o += 1;
    } else {
      /* "xxx=": 16 bits, the 2 below them zero */
      v |= dec2[c];
      if ((v & INVALID) || (v & 0x000ff))
        return FALSE;
      o[0] = v >> 16;
      o[1] = v >> 8;
      o += 2;
    }
  }
  *out_len = o - out;
  return TRUE;
}
