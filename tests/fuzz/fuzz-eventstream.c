/* gst-s2s
 * Copyright (C) 2026 gst-s2s developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * libFuzzer target for the AWS event-stream decoder (ext/s2s/nova/aws).
 * Input: 4 bytes seeding the fragmentation, then the stream. The stream is
 * fed in slices of pseudo-random sizes, as HTTP/2 DATA frames arrive, and
 * must decode to exactly what decoding it in one piece gives: the same
 * messages, then the same error or the same pending tail. Every message
 * must re-encode to its own bytes, and goes through the event verifier.
 */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <glib.h>

#include "eventstream.h"
#include "sigv4.h"

int LLVMFuzzerTestOneInput (const uint8_t * data, size_t size);

static void
check (gboolean cond)
{
  if (!cond)
    abort ();
}

int
LLVMFuzzerTestOneInput (const uint8_t * data, size_t size)
{
  GstS2SAwsDecoder *whole, *sliced;
  GstS2SAwsEventSigner *verifier;
  GError *err_whole = NULL, *err_sliced = NULL;
  guint32 seed;
  gsize pos = 0;
  gboolean ok_whole, ok_sliced = TRUE;
  GstS2SAwsMessage *a, *b;

  if (size < 4)
    return 0;
  seed = ((guint32) data[0] << 24) | (data[1] << 16) | (data[2] << 8) | data[3];
  data += 4;
  size -= 4;

  whole = gst_s2s_aws_decoder_new ();
  ok_whole = gst_s2s_aws_decoder_feed (whole, data, size, &err_whole);

  sliced = gst_s2s_aws_decoder_new ();
  while (pos < size && ok_sliced) {
    gsize n;

    seed = seed * 1103515245u + 12345u;
    /* mostly small slices, sometimes large ones */
    n = (seed >> 16) & 0x8000 ? ((seed >> 16) & 0x3fff) + 1 :
        ((seed >> 16) & 0x1f) + 1;
    n = MIN (n, size - pos);
    ok_sliced = gst_s2s_aws_decoder_feed (sliced, data + pos, n, &err_sliced);
    pos += n;
  }

  verifier = gst_s2s_aws_event_signer_new ("SECRET", "us-east-1", "bedrock",
      "00");
  while ((a = gst_s2s_aws_decoder_pop (whole))) {
    GBytes *enc;
    GstS2SAwsMessage *back;
    gsize used;
    GError *err = NULL;

    b = gst_s2s_aws_decoder_pop (sliced);
    check (b != NULL);
    enc = gst_s2s_aws_message_encode (a, NULL);
    check (enc != NULL);
    back = gst_s2s_aws_message_decode (g_bytes_get_data (enc, NULL),
        g_bytes_get_size (enc), &used, NULL);
    check (back != NULL && used == g_bytes_get_size (enc));
    check (g_bytes_equal (a->payload, b->payload));
    check (a->headers->len == b->headers->len);
    gst_s2s_aws_message_free (back);
    g_bytes_unref (enc);
    gst_s2s_aws_event_signer_verify (verifier, a, &err);
    g_clear_error (&err);
    gst_s2s_aws_message_free (a);
    gst_s2s_aws_message_free (b);
  }
  check (gst_s2s_aws_decoder_pop (sliced) == NULL);
  check (ok_whole == ok_sliced);
  if (!ok_whole)
    check (err_whole->code == err_sliced->code);
  else
    check (gst_s2s_aws_decoder_get_pending (whole) ==
        gst_s2s_aws_decoder_get_pending (sliced));

  gst_s2s_aws_event_signer_free (verifier);
  g_clear_error (&err_whole);
  g_clear_error (&err_sliced);
  gst_s2s_aws_decoder_free (whole);
  gst_s2s_aws_decoder_free (sliced);
  return 0;
}
