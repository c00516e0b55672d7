/* gst-s2s
 * Copyright (C) 2026 gst-s2s developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * libFuzzer target for the SigV4 request verifier (ext/s2s/nova/aws), which
 * the emulator runs on the headers a client sends. Input: first line
 * "METHOD target", then "name:value" header lines. The verifier must
 * never accept a request that the signer did not produce for these
 * credentials, and must survive any Authorization header.
 */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <glib.h>

#include "sigv4.h"

int LLVMFuzzerTestOneInput (const uint8_t * data, size_t size);

#define AKID "AKIDEXAMPLE"
#define SECRET "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"

int
LLVMFuzzerTestOneInput (const uint8_t * data, size_t size)
{
  gchar *text = g_strndup ((const gchar *) data, size);
  gchar **lines = g_strsplit (text, "\n", 64);
  GstS2SAwsRequest *req;
  gchar *sp;
  guint i;

  if (!lines[0] || !(sp = strchr (lines[0], ' '))) {
    g_strfreev (lines);
    g_free (text);
    return 0;
  }
  *sp = 0;
  req = gst_s2s_aws_request_new (lines[0], sp + 1);
  for (i = 1; lines[i]; i++) {
    gchar *colon = strchr (lines[i], ':');

    /* pseudo-headers start with ':' */
    if (colon == lines[i] && lines[i][1])
      colon = strchr (lines[i] + 1, ':');
    if (!colon)
      continue;
    *colon = 0;
    gst_s2s_aws_request_add_header (req, lines[i], colon + 1);
  }
  gst_s2s_aws_request_verify (req, AKID, SECRET, 1440938160, 900, NULL);
  gst_s2s_aws_request_verify (req, AKID, SECRET, 0, 0, NULL);

  /* what the signer produces for the same request always verifies */
  {
    GstS2SAwsCredentials *creds = gst_s2s_aws_credentials_new (AKID, SECRET,
        NULL);
    GstS2SAwsRequest *signed_req = gst_s2s_aws_request_new (lines[0], sp + 1);
    guint n = gst_s2s_aws_request_get_n_headers (req);

    for (i = 0; i < n; i++) {
      const gchar *name, *value;

      gst_s2s_aws_request_get_nth_header (req, i, &name, &value);
      if (g_ascii_strcasecmp (name, "authorization") &&
          g_ascii_strcasecmp (name, "x-amz-date") && name[0])
        gst_s2s_aws_request_add_header (signed_req, name, value);
    }
    if (gst_s2s_aws_request_sign (signed_req, creds, "us-east-1", "bedrock",
            1440938160, NULL) &&
        !gst_s2s_aws_request_verify (signed_req, AKID, SECRET, 0, 0, NULL))
      abort ();
    gst_s2s_aws_request_free (signed_req);
    gst_s2s_aws_credentials_free (creds);
  }

  gst_s2s_aws_request_free (req);
  g_strfreev (lines);
  g_free (text);
  return 0;
}
