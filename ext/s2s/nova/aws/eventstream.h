/* gst-s2s
 * Copyright (C) 2026 gst-s2s developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * AWS event-stream messages (application/vnd.amazon.eventstream): encoder
 * and an incremental decoder that accepts the bytes in any fragmentation.
 */

#ifndef __GST_S2S_AWS_EVENTSTREAM_H__
#define __GST_S2S_AWS_EVENTSTREAM_H__

#include <glib.h>

G_BEGIN_DECLS

/* Limits of the format (smithy amazon-eventstream) */
#define GST_S2S_AWS_PRELUDE_SIZE 12
#define GST_S2S_AWS_MESSAGE_OVERHEAD 16
#define GST_S2S_AWS_MAX_HEADERS_SIZE (128 * 1024)
#define GST_S2S_AWS_MAX_HEADER_VALUE_SIZE 32767
#define GST_S2S_AWS_MAX_PAYLOAD_SIZE (16 * 1024 * 1024)
#define GST_S2S_AWS_MAX_MESSAGE_SIZE (GST_S2S_AWS_MAX_HEADERS_SIZE + \
    GST_S2S_AWS_MAX_PAYLOAD_SIZE + GST_S2S_AWS_MESSAGE_OVERHEAD)

#define GST_S2S_AWS_ERROR (gst_s2s_aws_error_quark ())
GQuark gst_s2s_aws_error_quark (void);

/* Errors of the whole aws/ library (event stream, SigV4, credentials) */
typedef enum
{
  GST_S2S_AWS_ERROR_TRUNCATED,          /* input ended inside a message */
  GST_S2S_AWS_ERROR_PRELUDE_CRC,        /* prelude CRC32 mismatch */
  GST_S2S_AWS_ERROR_MESSAGE_CRC,        /* message CRC32 mismatch */
  GST_S2S_AWS_ERROR_MESSAGE_LENGTH,     /* total length impossible */
  GST_S2S_AWS_ERROR_HEADERS_LENGTH,     /* headers length impossible or > limit */
  GST_S2S_AWS_ERROR_PAYLOAD_LENGTH,     /* payload > limit */
  GST_S2S_AWS_ERROR_HEADER_VALUE_LENGTH,        /* header value > limit */
  GST_S2S_AWS_ERROR_HEADER,             /* malformed header */
  GST_S2S_AWS_ERROR_DUPLICATE_HEADER,
  GST_S2S_AWS_ERROR_SIGNATURE,          /* signature missing or wrong */
  GST_S2S_AWS_ERROR_CREDENTIALS,        /* no usable credentials */
  GST_S2S_AWS_ERROR_INVALID,            /* invalid argument or request */
} GstS2SAwsError;

typedef enum
{
  GST_S2S_AWS_HEADER_BOOL_TRUE = 0,
  GST_S2S_AWS_HEADER_BOOL_FALSE = 1,
  GST_S2S_AWS_HEADER_BYTE = 2,
  GST_S2S_AWS_HEADER_INT16 = 3,
  GST_S2S_AWS_HEADER_INT32 = 4,
  GST_S2S_AWS_HEADER_INT64 = 5,
  GST_S2S_AWS_HEADER_BYTES = 6,
  GST_S2S_AWS_HEADER_STRING = 7,
  GST_S2S_AWS_HEADER_TIMESTAMP = 8,     /* int64 milliseconds since the epoch */
  GST_S2S_AWS_HEADER_UUID = 9,
} GstS2SAwsHeaderType;

typedef struct
{
  gchar *name;
  GstS2SAwsHeaderType type;
  /* BOOL_* (1/0), BYTE, INT16, INT32, INT64, TIMESTAMP */
  gint64 integer;
  /* BYTES, STRING, UUID (16 bytes); always followed by a NUL byte not
   * counted in len, so a STRING value is a C string */
  guint8 *data;
  gsize len;
} GstS2SAwsHeader;

typedef struct
{
  GPtrArray *headers;           /* GstS2SAwsHeader *, in wire order */
  GBytes *payload;              /* never NULL */
} GstS2SAwsMessage;

guint32 gst_s2s_aws_crc32 (guint32 crc, const guint8 * data, gsize len);

GstS2SAwsMessage *gst_s2s_aws_message_new (void);
void gst_s2s_aws_message_free (GstS2SAwsMessage * msg);

void gst_s2s_aws_message_add_bool (GstS2SAwsMessage * msg, const gchar * name,
    gboolean value);
void gst_s2s_aws_message_add_byte (GstS2SAwsMessage * msg, const gchar * name,
    gint8 value);
void gst_s2s_aws_message_add_int16 (GstS2SAwsMessage * msg, const gchar * name,
    gint16 value);
void gst_s2s_aws_message_add_int32 (GstS2SAwsMessage * msg, const gchar * name,
    gint32 value);
void gst_s2s_aws_message_add_int64 (GstS2SAwsMessage * msg, const gchar * name,
    gint64 value);
void gst_s2s_aws_message_add_timestamp (GstS2SAwsMessage * msg,
    const gchar * name, gint64 ms_since_epoch);
void gst_s2s_aws_message_add_bytes (GstS2SAwsMessage * msg, const gchar * name,
    const guint8 * data, gsize len);
void gst_s2s_aws_message_add_string (GstS2SAwsMessage * msg,
    const gchar * name, const gchar * value);
void gst_s2s_aws_message_add_uuid (GstS2SAwsMessage * msg, const gchar * name,
    const guint8 uuid[16]);

void gst_s2s_aws_message_set_payload (GstS2SAwsMessage * msg,
    const guint8 * data, gsize len);
void gst_s2s_aws_message_take_payload (GstS2SAwsMessage * msg,
    GBytes * payload);

/* First header of that name, or NULL */
const GstS2SAwsHeader *gst_s2s_aws_message_get_header (const GstS2SAwsMessage *
    msg, const gchar * name);
/* Value of a STRING header, or NULL when absent or of another type */
const gchar *gst_s2s_aws_message_get_string (const GstS2SAwsMessage * msg,
    const gchar * name);

/* Appends the encoded message to out. Fails (out unchanged) when a limit of
 * the format is exceeded. */
gboolean gst_s2s_aws_message_encode_to (const GstS2SAwsMessage * msg,
    GByteArray * out, GError ** error);
GBytes *gst_s2s_aws_message_encode (const GstS2SAwsMessage * msg,
    GError ** error);

/* Encodes one header alone, as it appears on the wire (event signing hashes
 * the encoded :date header). */
void gst_s2s_aws_header_encode_to (const GstS2SAwsHeader * header,
    GByteArray * out);

/* Decodes one complete message at the start of data. Returns NULL and
 * sets *consumed to 0 without error when data holds only part of it; on
 * malformed input returns NULL with error set. */
GstS2SAwsMessage *gst_s2s_aws_message_decode (const guint8 * data, gsize len,
    gsize * consumed, GError ** error);

/* The Bedrock inner message of a client event: headers :message-type=event,
 * :event-type=chunk, :content-type=application/json, payload
 * {"bytes":"<base64 of event_json>"}. Appended to out. */
gboolean gst_s2s_aws_bedrock_event_encode_to (const gchar * event_json,
    gsize len, GByteArray * out, GError ** error);

/* Incremental decoder: feed byte slices as they arrive (HTTP/2 DATA frames
 * of any size), then pop the complete messages. After an error the stream
 * is out of sync and every later feed fails with the same error. */
typedef struct _GstS2SAwsDecoder GstS2SAwsDecoder;

GstS2SAwsDecoder *gst_s2s_aws_decoder_new (void);
void gst_s2s_aws_decoder_free (GstS2SAwsDecoder * dec);
gboolean gst_s2s_aws_decoder_feed (GstS2SAwsDecoder * dec,
    const guint8 * data, gsize len, GError ** error);
/* Next complete message (transfer full), or NULL */
GstS2SAwsMessage *gst_s2s_aws_decoder_pop (GstS2SAwsDecoder * dec);
/* Bytes held of a message not yet complete */
gsize gst_s2s_aws_decoder_get_pending (GstS2SAwsDecoder * dec);
/* End of stream: fails with TRUNCATED when a message is incomplete */
gboolean gst_s2s_aws_decoder_finish (GstS2SAwsDecoder * dec, GError ** error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (GstS2SAwsMessage, gst_s2s_aws_message_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (GstS2SAwsDecoder, gst_s2s_aws_decoder_free)

G_END_DECLS

#endif
