/* gst-s2s
 * Copyright (C) 2026 gst-s2s developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * AWS credentials and region, looked up the way the AWS CLI and SDKs do.
 */

#ifndef __GST_S2S_AWS_CREDENTIALS_H__
#define __GST_S2S_AWS_CREDENTIALS_H__

#include <glib.h>

G_BEGIN_DECLS

typedef struct
{
  gchar *access_key_id;
  gchar *secret_access_key;     /* never log */
  gchar *session_token;         /* never log; NULL for long-term keys */
  /* where they came from, for logs: "properties", "environment",
   * "credentials-file:<profile>", "config-file:<profile>" */
  gchar *source;
} GstS2SAwsCredentials;

GstS2SAwsCredentials *gst_s2s_aws_credentials_new (const gchar *
    access_key_id, const gchar * secret_access_key,
    const gchar * session_token);
GstS2SAwsCredentials *gst_s2s_aws_credentials_copy (const GstS2SAwsCredentials
    * creds);
/* Overwrites the secrets before freeing them */
void gst_s2s_aws_credentials_free (GstS2SAwsCredentials * creds);

/* The credential chain. Arguments are the element's properties (NULL or ""
 * when unset):
 *  1. access_key_id + secret_access_key (+ session_token) properties;
 *  2. when the profile property is unset: AWS_ACCESS_KEY_ID,
 *     AWS_SECRET_ACCESS_KEY (+ AWS_SESSION_TOKEN);
 *  3. the profile (property, else AWS_PROFILE, else "default") in the
 *     shared credentials file (AWS_SHARED_CREDENTIALS_FILE, else
 *     ~/.aws/credentials), then in the config file (AWS_CONFIG_FILE, else
 *     ~/.aws/config, section "[profile NAME]" or "[default]").
 * Fails with GST_S2S_AWS_ERROR_CREDENTIALS saying what was tried; the
 * message never contains a secret. */
GstS2SAwsCredentials *gst_s2s_aws_credentials_resolve (const gchar *
    access_key_id, const gchar * secret_access_key,
    const gchar * session_token, const gchar * profile, GError ** error);

/* Region: the property, AWS_REGION, AWS_DEFAULT_REGION, then "region" of
 * the profile in the config file. NULL when none is set. */
gchar *gst_s2s_aws_region_resolve (const gchar * region, const gchar * profile);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (GstS2SAwsCredentials,
    gst_s2s_aws_credentials_free)

G_END_DECLS

#endif
