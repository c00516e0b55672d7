/* gst-s2s
 * Copyright (C) 2026 gst-s2s developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Base64 (RFC 4648 §4, standard alphabet, padded) for audio in JSON events:
 * a table-driven encoder and a strict decoder, both working on caller
 * memory (no allocation).
 */

#ifndef __GST_S2S_BASE64_H__
#define __GST_S2S_BASE64_H__

#include <glib.h>

G_BEGIN_DECLS

/* Characters gst_s2s_base64_encode() writes for @n bytes: 4 * ceil(n / 3),
 * or 0 when that would overflow a gsize */
gsize gst_s2s_base64_encoded_size (gsize n);

/* Writes gst_s2s_base64_encoded_size (@n) characters to @out (no NUL, no
 * line breaks) and returns their number */
gsize gst_s2s_base64_encode (const guint8 * data, gsize n, gchar * out);

/* Upper bound of the bytes @len characters decode to: 3 * (len / 4) */
gsize gst_s2s_base64_decoded_max (gsize len);

/* Strict decoding of @len characters into @out, which has room for
 * gst_s2s_base64_decoded_max (@len) bytes (it may be @text itself). Accepts
 * only the canonical form: a multiple of 4 characters of the standard
 * alphabet, '=' only as the one or two last characters, and zero bits
 * under the padding. No whitespace. Returns FALSE on anything else (@out
 * may then hold part of the data); on success *@out_len is the number of
 * bytes written. */
gboolean gst_s2s_base64_decode (const gchar * text, gsize len, guint8 * out,
    gsize * out_len);

G_END_DECLS

#endif
