/* gst-s2s
 * Copyright (C) 2026 gst-s2s developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * AWS Signature Version 4: header signing of HTTP requests, and the chained
 * signing of event-stream messages (Transcribe/Bedrock bidirectional
 * streams), with verifiers for servers (the emulator).
 */

#ifndef __GST_S2S_AWS_SIGV4_H__
#define __GST_S2S_AWS_SIGV4_H__

#include <glib.h>

#include "credentials.h"
#include "eventstream.h"

G_BEGIN_DECLS

#define GST_S2S_AWS_SHA256_SIZE 32
/* x-amz-content-sha256 of an event-stream request body */
#define GST_S2S_AWS_STREAMING_PAYLOAD "STREAMING-AWS4-HMAC-SHA256-EVENTS"
#define GST_S2S_AWS_BEDROCK_SERVICE "bedrock"
#define GST_S2S_AWS_EVENTSTREAM_CONTENT_TYPE "application/vnd.amazon.eventstream"

/* One HTTP request to sign or verify */
typedef struct _GstS2SAwsRequest GstS2SAwsRequest;

/* path_and_query is the request target as sent on the wire: already
 * percent-encoded, optionally with "?query" */
GstS2SAwsRequest *gst_s2s_aws_request_new (const gchar * method,
    const gchar * path_and_query);
void gst_s2s_aws_request_free (GstS2SAwsRequest * req);
/* Headers in order; a name may repeat (values are joined with ','). Names
 * are matched case-insensitively; pseudo-headers such as ":authority" are
 * accepted. */
void gst_s2s_aws_request_add_header (GstS2SAwsRequest * req,
    const gchar * name, const gchar * value);
/* First value of that header (case-insensitive), or NULL */
const gchar *gst_s2s_aws_request_get_header (const GstS2SAwsRequest * req,
    const gchar * name);
guint gst_s2s_aws_request_get_n_headers (const GstS2SAwsRequest * req);
void gst_s2s_aws_request_get_nth_header (const GstS2SAwsRequest * req,
    guint n, const gchar ** name, const gchar ** value);
/* The payload hash line: a hex SHA-256, or a literal such as
 * GST_S2S_AWS_STREAMING_PAYLOAD. Default: the hash of the empty body. An
 * x-amz-content-sha256 header, when present, takes precedence. */
void gst_s2s_aws_request_set_payload_hash (GstS2SAwsRequest * req,
    const gchar * payload_hash);
void gst_s2s_aws_request_set_payload (GstS2SAwsRequest * req,
    const guint8 * data, gsize len);
/* Paths are normalized (dot segments, repeated slashes) and encoded again
 * (so "%3A" is signed as "%253A") by default, as for every service but S3.
 * FALSE: S3 style, the path as sent, neither normalized nor re-encoded. */
void gst_s2s_aws_request_set_normalize_path (GstS2SAwsRequest * req,
    gboolean normalize);

/* Signs req: adds x-amz-date (unless present) and, when creds carry a
 * session token, x-amz-security-token (unless present), then every header
 * of req is signed and "authorization" is appended. unix_time: seconds. */
gboolean gst_s2s_aws_request_sign (GstS2SAwsRequest * req,
    const GstS2SAwsCredentials * creds, const gchar * region,
    const gchar * service, gint64 unix_time, GError ** error);
/* Results of the last sign or verify (owned by req, NULL before) */
const gchar *gst_s2s_aws_request_get_canonical_request (const
    GstS2SAwsRequest * req);
const gchar *gst_s2s_aws_request_get_string_to_sign (const GstS2SAwsRequest *
    req);
const gchar *gst_s2s_aws_request_get_signed_headers (const GstS2SAwsRequest *
    req);
/* Hex signature: the seed of event signing */
const gchar *gst_s2s_aws_request_get_signature (const GstS2SAwsRequest * req);
const gchar *gst_s2s_aws_request_get_authorization (const GstS2SAwsRequest *
    req);

/* Server side: checks the request's "authorization" header against the
 * given key pair (wrong access key, scope, date or signature all fail with
 * GST_S2S_AWS_ERROR_SIGNATURE). Only the headers named in SignedHeaders are
 * used; "host" and ":authority" stand for each other, as Bedrock accepts
 * both. If now_unix > 0, x-amz-date must be within max_skew_s of it. On
 * success the region and service of the credential scope can be read with
 * the getters below, and the signature is the event-signing seed. */
gboolean gst_s2s_aws_request_verify (GstS2SAwsRequest * req,
    const gchar * access_key_id, const gchar * secret_access_key,
    gint64 now_unix, gint max_skew_s, GError ** error);
const gchar *gst_s2s_aws_request_get_region (const GstS2SAwsRequest * req);
const gchar *gst_s2s_aws_request_get_service (const GstS2SAwsRequest * req);

/* "/model/<id, ':' as %3A>/invoke-with-bidirectional-stream" */
gchar *gst_s2s_aws_bedrock_stream_path (const gchar * model_id);
/* The signed POST that opens a Bedrock bidirectional stream: headers host
 * (= authority, "host[:port]"), content-type, x-amz-content-sha256, x-amz-date,
 * [x-amz-security-token], authorization, in that order. */
GstS2SAwsRequest *gst_s2s_aws_bedrock_stream_request (const
    GstS2SAwsCredentials * creds, const gchar * region, const gchar * authority,
    const gchar * model_id, gint64 unix_time, GError ** error);

/* Chained event signing: each signature covers the previous one. */
typedef struct _GstS2SAwsEventSigner GstS2SAwsEventSigner;

/* seed_hex: the request's hex signature (or any even-length hex string:
 * its bytes are the first "previous signature"); NULL if it is not hex */
GstS2SAwsEventSigner *gst_s2s_aws_event_signer_new (const gchar *
    secret_access_key, const gchar * region, const gchar * service,
    const gchar * seed_hex);
void gst_s2s_aws_event_signer_free (GstS2SAwsEventSigner * signer);

/* The raw step: signature of (header bytes, payload bytes) at time_ms,
 * chained on the previous signature, which it then replaces. */
void gst_s2s_aws_event_signer_sign_raw (GstS2SAwsEventSigner * signer,
    const guint8 * headers, gsize headers_len, const guint8 * payload,
    gsize payload_len, gint64 time_ms, guint8 signature[32]);

/* Wraps payload (an encoded message, or empty for the end frame) in a
 * signed message with the headers :date and :chunk-signature, and appends
 * its encoding to out. */
gboolean gst_s2s_aws_event_signer_sign_to (GstS2SAwsEventSigner * signer,
    const guint8 * payload, gsize payload_len, gint64 time_ms,
    GByteArray * out, GError ** error);

/* Server side: checks a received signed message and advances the chain.
 * Fails with GST_S2S_AWS_ERROR_SIGNATURE (chain unchanged). */
gboolean gst_s2s_aws_event_signer_verify (GstS2SAwsEventSigner * signer,
    const GstS2SAwsMessage * msg, GError ** error);

/* Helpers */
gchar *gst_s2s_aws_sha256_hex (const guint8 * data, gsize len);
void gst_s2s_aws_hmac_sha256 (const guint8 * key, gsize key_len,
    const guint8 * data, gsize len, guint8 out[32]);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (GstS2SAwsRequest, gst_s2s_aws_request_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (GstS2SAwsEventSigner,
    gst_s2s_aws_event_signer_free)

G_END_DECLS

#endif
