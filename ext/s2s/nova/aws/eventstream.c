/* gst-s2s
 * Copyright (C) 2026 gst-s2s developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * AWS event-stream framing: [total u32][headers u32][prelude crc u32]
 * [headers][payload][message crc u32], big-endian, CRC32 (IEEE).
 */

#include <string.h>

#include "eventstream.h"

/* not G_DEFINE_QUARK: indent mangles its dashed argument */
GQuark
gst_s2s_aws_error_quark (void)
{
  return g_quark_from_static_string ("gst-s2s-aws-error-quark");
}

/* CRC32, IEEE polynomial (reflected 0xEDB88320), as zlib computes it */
static guint32 crc_table[256];

static gpointer
crc_table_init (gpointer data)
{
  guint32 i, j, c;

  for (i = 0; i < 256; i++) {
    c = i;
    for (j = 0; j < 8; j++)
      c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
    crc_table[i] = c;
  }
  return NULL;
}

guint32
gst_s2s_aws_crc32 (guint32 crc, const guint8 * data, gsize len)
{
  static GOnce once = G_ONCE_INIT;
  gsize i;

  g_once (&once, crc_table_init, NULL);
  crc = ~crc;
  for (i = 0; i < len; i++)
    crc = crc_table[(crc ^ data[i]) & 0xff] ^ (crc >> 8);
  return ~crc;
}

static inline guint32
read_u32 (const guint8 * p)
{
  return ((guint32) p[0] << 24) | ((guint32) p[1] << 16) |
      ((guint32) p[2] << 8) | p[3];
}

static inline guint64
read_u64 (const guint8 * p)
{
  return ((guint64) read_u32 (p) << 32) | read_u32 (p + 4);
}

static void
put_be (GByteArray * out, guint64 v, guint n)
{
  guint8 b[8];
  guint i;

  for (i = 0; i < n; i++)
    b[i] = (v >> (8 * (n - 1 - i))) & 0xff;
  g_byte_array_append (out, b, n);
}

static void
header_free (gpointer p)
{
  GstS2SAwsHeader *h = p;

  g_free (h->name);
  g_free (h->data);
  g_free (h);
}

GstS2SAwsMessage *
gst_s2s_aws_message_new (void)
{
  GstS2SAwsMessage *msg = g_new0 (GstS2SAwsMessage, 1);

  msg->headers = g_ptr_array_new_with_free_func (header_free);
  msg->payload = g_bytes_new_static ("", 0);
  return msg;
}

void
gst_s2s_aws_message_free (GstS2SAwsMessage * msg)
{
  if (!msg)
    return;
  g_ptr_array_unref (msg->headers);
  g_bytes_unref (msg->payload);
  g_free (msg);
}

static GstS2SAwsHeader *
add_header (GstS2SAwsMessage * msg, const gchar * name,
    GstS2SAwsHeaderType type)
{
  GstS2SAwsHeader *h = g_new0 (GstS2SAwsHeader, 1);

  h->name = g_strdup (name);
  h->type = type;
  g_ptr_array_add (msg->headers, h);
  return h;
}

static void
set_data (GstS2SAwsHeader * h, const guint8 * data, gsize len)
{
  h->data = g_malloc (len + 1);
  if (len)
    memcpy (h->data, data, len);
  h->data[len] = 0;
  h->len = len;
}

void
gst_s2s_aws_message_add_bool (GstS2SAwsMessage * msg, const gchar * name,
    gboolean value)
{
  add_header (msg, name, value ? GST_S2S_AWS_HEADER_BOOL_TRUE :
      GST_S2S_AWS_HEADER_BOOL_FALSE)->integer = value ? 1 : 0;
}

void
gst_s2s_aws_message_add_byte (GstS2SAwsMessage * msg, const gchar * name,
    gint8 value)
{
  add_header (msg, name, GST_S2S_AWS_HEADER_BYTE)->integer = value;
}

void
gst_s2s_aws_message_add_int16 (GstS2SAwsMessage * msg, const gchar * name,
    gint16 value)
{
  add_header (msg, name, GST_S2S_AWS_HEADER_INT16)->integer = value;
}

void
gst_s2s_aws_message_add_int32 (GstS2SAwsMessage * msg, const gchar * name,
    gint32 value)
{
  add_header (msg, name, GST_S2S_AWS_HEADER_INT32)->integer = value;
}

void
gst_s2s_aws_message_add_int64 (GstS2SAwsMessage * msg, const gchar * name,
    gint64 value)
{
  add_header (msg, name, GST_S2S_AWS_HEADER_INT64)->integer = value;
}

void
gst_s2s_aws_message_add_timestamp (GstS2SAwsMessage * msg,
    const gchar * name, gint64 ms_since_epoch)
{
  add_header (msg, name, GST_S2S_AWS_HEADER_TIMESTAMP)->integer =
      ms_since_epoch;
}

void
gst_s2s_aws_message_add_bytes (GstS2SAwsMessage * msg, const gchar * name,
    const guint8 * data, gsize len)
{
  set_data (add_header (msg, name, GST_S2S_AWS_HEADER_BYTES), data, len);
}

void
gst_s2s_aws_message_add_string (GstS2SAwsMessage * msg, const gchar * name,
    const gchar * value)
{
  set_data (add_header (msg, name, GST_S2S_AWS_HEADER_STRING),
      (const guint8 *) value, strlen (value));
}

void
gst_s2s_aws_message_add_uuid (GstS2SAwsMessage * msg, const gchar * name,
    const guint8 uuid[16])
{
  set_data (add_header (msg, name, GST_S2S_AWS_HEADER_UUID), uuid, 16);
}

void
gst_s2s_aws_message_set_payload (GstS2SAwsMessage * msg,
    const guint8 * data, gsize len)
{
  gst_s2s_aws_message_take_payload (msg, g_bytes_new (data, len));
}

void
gst_s2s_aws_message_take_payload (GstS2SAwsMessage * msg, GBytes * payload)
{
  g_bytes_unref (msg->payload);
  msg->payload = payload ? payload : g_bytes_new_static ("", 0);
}

const GstS2SAwsHeader *
gst_s2s_aws_message_get_header (const GstS2SAwsMessage * msg,
    const gchar * name)
{
  guint i;

  for (i = 0; i < msg->headers->len; i++) {
    const GstS2SAwsHeader *h = g_ptr_array_index (msg->headers, i);
    if (strcmp (h->name, name) == 0)
      return h;
  }
  return NULL;
}

const gchar *
gst_s2s_aws_message_get_string (const GstS2SAwsMessage * msg,
    const gchar * name)
{
  const GstS2SAwsHeader *h = gst_s2s_aws_message_get_header (msg, name);

  return h && h->type == GST_S2S_AWS_HEADER_STRING ? (const gchar *) h->data :
      NULL;
}

static gsize
header_value_size (const GstS2SAwsHeader * h)
{
  switch (h->type) {
    case GST_S2S_AWS_HEADER_BOOL_TRUE:
    case GST_S2S_AWS_HEADER_BOOL_FALSE:
      return 0;
    case GST_S2S_AWS_HEADER_BYTE:
      return 1;
    case GST_S2S_AWS_HEADER_INT16:
      return 2;
    case GST_S2S_AWS_HEADER_INT32:
      return 4;
    case GST_S2S_AWS_HEADER_INT64:
    case GST_S2S_AWS_HEADER_TIMESTAMP:
      return 8;
    case GST_S2S_AWS_HEADER_UUID:
      return 16;
    case GST_S2S_AWS_HEADER_BYTES:
    case GST_S2S_AWS_HEADER_STRING:
    default:
      return 2 + h->len;
  }
}

void
gst_s2s_aws_header_encode_to (const GstS2SAwsHeader * h, GByteArray * out)
{
  guint8 name_len = strlen (h->name);
  guint8 type = h->type;

  g_byte_array_append (out, &name_len, 1);
  g_byte_array_append (out, (const guint8 *) h->name, name_len);
  g_byte_array_append (out, &type, 1);
  switch (h->type) {
    case GST_S2S_AWS_HEADER_BOOL_TRUE:
    case GST_S2S_AWS_HEADER_BOOL_FALSE:
      break;
    case GST_S2S_AWS_HEADER_BYTE:
      put_be (out, (guint64) h->integer, 1);
      break;
    case GST_S2S_AWS_HEADER_INT16:
      put_be (out, (guint64) h->integer, 2);
      break;
    case GST_S2S_AWS_HEADER_INT32:
      put_be (out, (guint64) h->integer, 4);
      break;
    case GST_S2S_AWS_HEADER_INT64:
    case GST_S2S_AWS_HEADER_TIMESTAMP:
      put_be (out, (guint64) h->integer, 8);
      break;
    case GST_S2S_AWS_HEADER_UUID:
      g_byte_array_append (out, h->data, 16);
      break;
    case GST_S2S_AWS_HEADER_BYTES:
    case GST_S2S_AWS_HEADER_STRING:
      put_be (out, h->len, 2);
      g_byte_array_append (out, h->data, h->len);
      break;
  }
}

gboolean
gst_s2s_aws_message_encode_to (const GstS2SAwsMessage * msg, GByteArray * out,
    GError ** error)
{
  gsize headers_len = 0, payload_len, total, start;
  guint i;
  guint32 crc;

  for (i = 0; i < msg->headers->len; i++) {
    const GstS2SAwsHeader *h = g_ptr_array_index (msg->headers, i);
    gsize name_len = strlen (h->name);

    if (name_len == 0 || name_len > 255) {
      g_set_error (error, GST_S2S_AWS_ERROR, GST_S2S_AWS_ERROR_HEADER,
          "header name of %" G_GSIZE_FORMAT " bytes (1 to 255 allowed)",
          name_len);
      return FALSE;
    }
    if ((h->type == GST_S2S_AWS_HEADER_BYTES ||
            h->type == GST_S2S_AWS_HEADER_STRING) &&
        h->len > GST_S2S_AWS_MAX_HEADER_VALUE_SIZE) {
      g_set_error (error, GST_S2S_AWS_ERROR,
          GST_S2S_AWS_ERROR_HEADER_VALUE_LENGTH,
          "value of header '%s' is %" G_GSIZE_FORMAT " bytes (limit %d)",
          h->name, h->len, GST_S2S_AWS_MAX_HEADER_VALUE_SIZE);
      return FALSE;
    }
    headers_len += 2 + name_len + header_value_size (h);
  }
  if (headers_len > GST_S2S_AWS_MAX_HEADERS_SIZE) {
    g_set_error (error, GST_S2S_AWS_ERROR, GST_S2S_AWS_ERROR_HEADERS_LENGTH,
        "headers are %" G_GSIZE_FORMAT " bytes (limit %d)", headers_len,
        GST_S2S_AWS_MAX_HEADERS_SIZE);
    return FALSE;
  }
  payload_len = g_bytes_get_size (msg->payload);
  if (payload_len > GST_S2S_AWS_MAX_PAYLOAD_SIZE) {
    g_set_error (error, GST_S2S_AWS_ERROR, GST_S2S_AWS_ERROR_PAYLOAD_LENGTH,
        "payload is %" G_GSIZE_FORMAT " bytes (limit %d)", payload_len,
        GST_S2S_AWS_MAX_PAYLOAD_SIZE);
    return FALSE;
  }

  total = GST_S2S_AWS_MESSAGE_OVERHEAD + headers_len + payload_len;
  start = out->len;
  put_be (out, total, 4);
  put_be (out, headers_len, 4);
  put_be (out, gst_s2s_aws_crc32 (0, out->data + start, 8), 4);
  for (i = 0; i < msg->headers->len; i++)
    gst_s2s_aws_header_encode_to (g_ptr_array_index (msg->headers, i), out);
  g_byte_array_append (out, g_bytes_get_data (msg->payload, NULL), payload_len);
  crc = gst_s2s_aws_crc32 (0, out->data + start, out->len - start);
  put_be (out, crc, 4);
  g_assert (out->len - start == total);
  return TRUE;
}

GBytes *
gst_s2s_aws_message_encode (const GstS2SAwsMessage * msg, GError ** error)
{
  GByteArray *out = g_byte_array_new ();

  if (!gst_s2s_aws_message_encode_to (msg, out, error)) {
    g_byte_array_unref (out);
    return NULL;
  }
  return g_byte_array_free_to_bytes (out);
}

/* Checks the prelude; on success *total and *headers_len are set */
static gboolean
check_prelude (const guint8 * p, guint32 * total, guint32 * headers_len,
    GError ** error)
{
  guint32 crc = read_u32 (p + 8), want = gst_s2s_aws_crc32 (0, p, 8);

  *total = read_u32 (p);
  *headers_len = read_u32 (p + 4);
  if (crc != want) {
    g_set_error (error, GST_S2S_AWS_ERROR, GST_S2S_AWS_ERROR_PRELUDE_CRC,
        "prelude CRC mismatch (got 0x%08x, computed 0x%08x)", crc, want);
    return FALSE;
  }
  if (*total < GST_S2S_AWS_MESSAGE_OVERHEAD) {
    g_set_error (error, GST_S2S_AWS_ERROR, GST_S2S_AWS_ERROR_MESSAGE_LENGTH,
        "message length %u below the 16-byte minimum", *total);
    return FALSE;
  }
  if (*headers_len > GST_S2S_AWS_MAX_HEADERS_SIZE ||
      *headers_len > *total - GST_S2S_AWS_MESSAGE_OVERHEAD) {
    g_set_error (error, GST_S2S_AWS_ERROR, GST_S2S_AWS_ERROR_HEADERS_LENGTH,
        "headers length %u invalid for a message of %u bytes (limit %d)",
        *headers_len, *total, GST_S2S_AWS_MAX_HEADERS_SIZE);
    return FALSE;
  }
  if (*total - GST_S2S_AWS_MESSAGE_OVERHEAD - *headers_len >
      GST_S2S_AWS_MAX_PAYLOAD_SIZE) {
    g_set_error (error, GST_S2S_AWS_ERROR, GST_S2S_AWS_ERROR_PAYLOAD_LENGTH,
        "payload of %u bytes exceeds the limit of %d",
        *total - GST_S2S_AWS_MESSAGE_OVERHEAD - *headers_len,
        GST_S2S_AWS_MAX_PAYLOAD_SIZE);
    return FALSE;
  }
  return TRUE;
}

static gboolean
parse_headers (GstS2SAwsMessage * msg, const guint8 * p, gsize len,
    GError ** error)
{
  gsize pos = 0;

#define NEED(n, what) \
  if (len - pos < (gsize) (n)) { \
    g_set_error (error, GST_S2S_AWS_ERROR, GST_S2S_AWS_ERROR_HEADER, \
        "header %s runs past the end of the headers (offset %" \
        G_GSIZE_FORMAT ")", what, pos); \
    return FALSE; \
  }

  while (pos < len) {
    guint name_len = p[pos++];
    gchar *name;
    guint type;
    GstS2SAwsHeader *h;

    if (name_len == 0) {
      g_set_error (error, GST_S2S_AWS_ERROR, GST_S2S_AWS_ERROR_HEADER,
          "empty header name at offset %" G_GSIZE_FORMAT, pos - 1);
      return FALSE;
    }
    NEED (name_len + 1, "name");
    if (!g_utf8_validate ((const gchar *) p + pos, name_len, NULL) ||
        memchr (p + pos, 0, name_len)) {
      g_set_error (error, GST_S2S_AWS_ERROR, GST_S2S_AWS_ERROR_HEADER,
          "header name at offset %" G_GSIZE_FORMAT " is not valid UTF-8", pos);
      return FALSE;
    }
    name = g_strndup ((const gchar *) p + pos, name_len);
    pos += name_len;
    type = p[pos++];
    if (gst_s2s_aws_message_get_header (msg, name)) {
      g_set_error (error, GST_S2S_AWS_ERROR,
          GST_S2S_AWS_ERROR_DUPLICATE_HEADER, "duplicate header '%s'", name);
      g_free (name);
      return FALSE;
    }
    if (type > GST_S2S_AWS_HEADER_UUID) {
      g_set_error (error, GST_S2S_AWS_ERROR, GST_S2S_AWS_ERROR_HEADER,
          "header '%s' has unknown value type %u", name, type);
      g_free (name);
      return FALSE;
    }
    h = add_header (msg, name, type);
    g_free (name);
    switch (type) {
      case GST_S2S_AWS_HEADER_BOOL_TRUE:
        h->integer = 1;
        break;
      case GST_S2S_AWS_HEADER_BOOL_FALSE:
        h->integer = 0;
        break;
      case GST_S2S_AWS_HEADER_BYTE:
        NEED (1, "value");
        h->integer = (gint8) p[pos];
        pos += 1;
        break;
      case GST_S2S_AWS_HEADER_INT16:
        NEED (2, "value");
        h->integer = (gint16) ((p[pos] << 8) | p[pos + 1]);
        pos += 2;
        break;
      case GST_S2S_AWS_HEADER_INT32:
        NEED (4, "value");
        h->integer = (gint32) read_u32 (p + pos);
        pos += 4;
        break;
      case GST_S2S_AWS_HEADER_INT64:
      case GST_S2S_AWS_HEADER_TIMESTAMP:
        NEED (8, "value");
        h->integer = (gint64) read_u64 (p + pos);
        pos += 8;
        break;
      case GST_S2S_AWS_HEADER_UUID:
        NEED (16, "value");
        set_data (h, p + pos, 16);
        pos += 16;
        break;
      case GST_S2S_AWS_HEADER_BYTES:
      case GST_S2S_AWS_HEADER_STRING:{
        gsize vlen;

        NEED (2, "value length");
        vlen = (p[pos] << 8) | p[pos + 1];
        pos += 2;
        if (vlen > GST_S2S_AWS_MAX_HEADER_VALUE_SIZE) {
          g_set_error (error, GST_S2S_AWS_ERROR,
              GST_S2S_AWS_ERROR_HEADER_VALUE_LENGTH,
              "value of header '%s' is %" G_GSIZE_FORMAT " bytes (limit %d)",
              h->name, vlen, GST_S2S_AWS_MAX_HEADER_VALUE_SIZE);
          return FALSE;
        }
        NEED (vlen, "value");
        if (type == GST_S2S_AWS_HEADER_STRING &&
            (!g_utf8_validate ((const gchar *) p + pos, vlen, NULL) ||
                memchr (p + pos, 0, vlen))) {
          g_set_error (error, GST_S2S_AWS_ERROR, GST_S2S_AWS_ERROR_HEADER,
              "value of string header '%s' is not valid UTF-8", h->name);
          return FALSE;
        }
        set_data (h, p + pos, vlen);
        pos += vlen;
        break;
      }
    }
  }
#undef NEED
  return TRUE;
}

GstS2SAwsMessage *
gst_s2s_aws_message_decode (const guint8 * data, gsize len, gsize * consumed,
    GError ** error)
{
  guint32 total, headers_len, crc, want;
  GstS2SAwsMessage *msg;

  *consumed = 0;
  if (len < GST_S2S_AWS_PRELUDE_SIZE)
    return NULL;
  if (!check_prelude (data, &total, &headers_len, error))
    return NULL;
  if (len < total)
    return NULL;

  crc = read_u32 (data + total - 4);
  want = gst_s2s_aws_crc32 (0, data, total - 4);
  if (crc != want) {
    g_set_error (error, GST_S2S_AWS_ERROR, GST_S2S_AWS_ERROR_MESSAGE_CRC,
        "message CRC mismatch (got 0x%08x, computed 0x%08x)", crc, want);
    return NULL;
  }

  msg = gst_s2s_aws_message_new ();
  if (!parse_headers (msg, data + GST_S2S_AWS_PRELUDE_SIZE, headers_len, error)) {
    gst_s2s_aws_message_free (msg);
    return NULL;
  }
  gst_s2s_aws_message_set_payload (msg,
      data + GST_S2S_AWS_PRELUDE_SIZE + headers_len,
      total - GST_S2S_AWS_MESSAGE_OVERHEAD - headers_len);
  *consumed = total;
  return msg;
}

struct _GstS2SAwsDecoder
{
  GByteArray *buf;              /* bytes of the message in progress */
  GQueue messages;
  GError *error;                /* sticky: the stream is out of sync */
};

GstS2SAwsDecoder *
gst_s2s_aws_decoder_new (void)
{
  GstS2SAwsDecoder *dec = g_new0 (GstS2SAwsDecoder, 1);

  dec->buf = g_byte_array_new ();
  g_queue_init (&dec->messages);
  return dec;
}

void
gst_s2s_aws_decoder_free (GstS2SAwsDecoder * dec)
{
  if (!dec)
    return;
  g_byte_array_unref (dec->buf);
  g_queue_clear_full (&dec->messages,
      (GDestroyNotify) gst_s2s_aws_message_free);
  g_clear_error (&dec->error);
  g_free (dec);
}

/* Decodes every complete message at the start of data; returns the bytes
 * used, or -1 on error (dec->error set) */
static gssize
decode_all (GstS2SAwsDecoder * dec, const guint8 * data, gsize len)
{
  gsize pos = 0, used;

  while (pos < len) {
    GstS2SAwsMessage *msg = gst_s2s_aws_message_decode (data + pos,
        len - pos, &used, &dec->error);

    if (!msg)
      return dec->error ? -1 : (gssize) pos;
    g_queue_push_tail (&dec->messages, msg);
    pos += used;
  }
  return pos;
}

gboolean
gst_s2s_aws_decoder_feed (GstS2SAwsDecoder * dec, const guint8 * data,
    gsize len, GError ** error)
{
  gssize used;

  if (dec->error)
    goto failed;

  /* Bytes of a partial message first: complete just its prelude, then just
   * that message, so the input is copied only where a message spans slices */
  while (dec->buf->len > 0 && len > 0) {
    gsize want;

    if (dec->buf->len < GST_S2S_AWS_PRELUDE_SIZE) {
      want = GST_S2S_AWS_PRELUDE_SIZE - dec->buf->len;
    } else {
      want = read_u32 (dec->buf->data) - dec->buf->len;
    }
    want = MIN (want, len);
    g_byte_array_append (dec->buf, data, want);
    data += want;
    len -= want;
    used = decode_all (dec, dec->buf->data, dec->buf->len);
    if (used < 0)
      goto failed;
    if ((gsize) used == dec->buf->len)
      g_byte_array_set_size (dec->buf, 0);
  }
  if (len == 0)
    return TRUE;

  used = decode_all (dec, data, len);
  if (used < 0)
    goto failed;
  g_byte_array_append (dec->buf, data + used, len - used);
  /* a prelude that arrived whole in the tail is checked at once */
  if (dec->buf->len >= GST_S2S_AWS_PRELUDE_SIZE) {
    guint32 total, headers_len;

    if (!check_prelude (dec->buf->data, &total, &headers_len, &dec->error))
      goto failed;
  }
  return TRUE;

failed:
  g_byte_array_set_size (dec->buf, 0);
  if (error)
    *error = g_error_copy (dec->error);
  return FALSE;
}

GstS2SAwsMessage *
gst_s2s_aws_decoder_pop (GstS2SAwsDecoder * dec)
{
  return g_queue_pop_head (&dec->messages);
}

gsize
gst_s2s_aws_decoder_get_pending (GstS2SAwsDecoder * dec)
{
  return dec->buf->len;
}

gboolean
gst_s2s_aws_decoder_finish (GstS2SAwsDecoder * dec, GError ** error)
{
  if (dec->error) {
    g_propagate_error (error, g_error_copy (dec->error));
    return FALSE;
  }
  if (dec->buf->len > 0) {
    g_set_error (error, GST_S2S_AWS_ERROR, GST_S2S_AWS_ERROR_TRUNCATED,
        "stream ended inside a message (%u bytes of it received)",
        dec->buf->len);
    return FALSE;
  }
  return TRUE;
}

gboolean
gst_s2s_aws_bedrock_event_encode_to (const gchar * event_json, gsize len,
    GByteArray * out, GError ** error)
{
  GstS2SAwsMessage *msg = gst_s2s_aws_message_new ();
  gchar *b64 = g_base64_encode ((const guchar *) event_json, len);
  gchar *payload = g_strconcat ("{\"bytes\":\"", b64, "\"}", NULL);
  gsize payload_len = strlen (payload);
  gboolean ok;

  g_free (b64);
  gst_s2s_aws_message_add_string (msg, ":message-type", "event");
  gst_s2s_aws_message_add_string (msg, ":event-type", "chunk");
  gst_s2s_aws_message_add_string (msg, ":content-type", "application/json");
  gst_s2s_aws_message_take_payload (msg,
      g_bytes_new_take (payload, payload_len));
  ok = gst_s2s_aws_message_encode_to (msg, out, error);
  gst_s2s_aws_message_free (msg);
  return ok;
}
