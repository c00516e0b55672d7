/* gst-s2s
 * Copyright (C) 2026 gst-s2s developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The AWS credential chain: element properties, environment, shared
 * credentials and config files. Secrets are never logged.
 */

#include <string.h>

#include <openssl/crypto.h>

#include "credentials.h"
#include "eventstream.h"

#define G_LOG_DOMAIN_AWS "s2saws"

static gboolean
is_set (const gchar * s)
{
  return s && s[0];
}

GstS2SAwsCredentials *
gst_s2s_aws_credentials_new (const gchar * access_key_id,
    const gchar * secret_access_key, const gchar * session_token)
{
  GstS2SAwsCredentials *c = g_new0 (GstS2SAwsCredentials, 1);

  c->access_key_id = g_strdup (access_key_id);
  c->secret_access_key = g_strdup (secret_access_key);
  c->session_token = is_set (session_token) ? g_strdup (session_token) : NULL;
  return c;
}

GstS2SAwsCredentials *
gst_s2s_aws_credentials_copy (const GstS2SAwsCredentials * creds)
{
  GstS2SAwsCredentials *c = gst_s2s_aws_credentials_new (creds->access_key_id,
      creds->secret_access_key, creds->session_token);

  c->source = g_strdup (creds->source);
  return c;
}

static void
free_secret (gchar * s)
{
  if (s) {
    OPENSSL_cleanse (s, strlen (s));
    g_free (s);
  }
}

void
gst_s2s_aws_credentials_free (GstS2SAwsCredentials * creds)
{
  if (!creds)
    return;
  g_free (creds->access_key_id);
  free_secret (creds->secret_access_key);
  free_secret (creds->session_token);
  g_free (creds->source);
  g_free (creds);
}

/* The AWS ini dialect: "[section]", "key = value", '#' and ';' comments,
 * indented lines continue a nested block (ignored). Returns the keys of
 * the wanted section (lower-case keys), or NULL when the file or the
 * section is absent. */
static GHashTable *
read_ini_section (const gchar * path, const gchar * section)
{
  gchar *contents = NULL, **lines;
  GHashTable *keys = NULL;
  gboolean in_section = FALSE;
  guint i;

  if (!g_file_get_contents (path, &contents, NULL, NULL))
    return NULL;
  lines = g_strsplit (contents, "\n", -1);
  OPENSSL_cleanse (contents, strlen (contents));
  g_free (contents);

  for (i = 0; lines[i]; i++) {
    gchar *line = lines[i], *eq;

    if (line[0] == ' ' || line[0] == '\t')
      continue;
    g_strstrip (line);
    if (line[0] == 0 || line[0] == '#' || line[0] == ';')
      continue;
    if (line[0] == '[') {
      gchar *end = strchr (line, ']');
      if (end) {
        *end = 0;
        in_section = strcmp (g_strstrip (line + 1), section) == 0;
        if (in_section && !keys)
          keys = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
              (GDestroyNotify) free_secret);
      }
      continue;
    }
    if (!in_section || !(eq = strchr (line, '=')))
      continue;
    *eq = 0;
    g_hash_table_replace (keys, g_ascii_strdown (g_strstrip (line), -1),
        g_strdup (g_strstrip (eq + 1)));
  }
  for (i = 0; lines[i]; i++)
    OPENSSL_cleanse (lines[i], strlen (lines[i]));
  g_strfreev (lines);
  return keys;
}

static const gchar *
home_dir (void)
{
  const gchar *home = g_getenv ("HOME");

  return is_set (home) ? home : g_get_home_dir ();
}

/* The file named by env ("~/" expanded, as the AWS CLI does), else
 * ~/.aws/name */
static gchar *
aws_file (const gchar * env, const gchar * name)
{
  const gchar *path = g_getenv (env);

  if (is_set (path) && g_str_has_prefix (path, "~/"))
    return g_build_filename (home_dir (), path + 2, NULL);
  if (is_set (path))
    return g_strdup (path);
  return g_build_filename (home_dir (), ".aws", name, NULL);
}

static const gchar *
profile_name (const gchar * profile)
{
  if (is_set (profile))
    return profile;
  if (is_set (g_getenv ("AWS_PROFILE")))
    return g_getenv ("AWS_PROFILE");
  return "default";
}

static GHashTable *
read_config_profile (const gchar * profile)
{
  gchar *path = aws_file ("AWS_CONFIG_FILE", "config");
  gchar *section = strcmp (profile, "default") == 0 ? g_strdup ("default") :
      g_strdup_printf ("profile %s", profile);
  GHashTable *keys = read_ini_section (path, section);

  /* "[default]" may also be written "[profile default]" */
  if (!keys && strcmp (profile, "default") == 0)
    keys = read_ini_section (path, "profile default");
  g_free (section);
  g_free (path);
  return keys;
}

static GstS2SAwsCredentials *
from_keys (GHashTable * keys, const gchar * source)
{
  GstS2SAwsCredentials *c;
  const gchar *id, *secret;

  if (!keys)
    return NULL;
  id = g_hash_table_lookup (keys, "aws_access_key_id");
  secret = g_hash_table_lookup (keys, "aws_secret_access_key");
  if (!is_set (id) || !is_set (secret))
    return NULL;
  c = gst_s2s_aws_credentials_new (id, secret,
      g_hash_table_lookup (keys, "aws_session_token"));
  c->source = g_strdup (source);
  return c;
}

GstS2SAwsCredentials *
gst_s2s_aws_credentials_resolve (const gchar * access_key_id,
    const gchar * secret_access_key, const gchar * session_token,
    const gchar * profile, GError ** error)
{
  GstS2SAwsCredentials *c;
  const gchar *name;
  GHashTable *keys;
  gchar *path, *source;

  if (is_set (access_key_id) || is_set (secret_access_key)) {
    if (!is_set (access_key_id) || !is_set (secret_access_key)) {
      g_set_error (error, GST_S2S_AWS_ERROR, GST_S2S_AWS_ERROR_CREDENTIALS,
          "access-key-id and secret-access-key must be set together");
      return NULL;
    }
    c = gst_s2s_aws_credentials_new (access_key_id, secret_access_key,
        session_token);
    c->source = g_strdup ("properties");
    return c;
  }

  /* An explicit profile is a choice made on the element: it wins over the
   * environment's keys, as with the AWS CLI's --profile */
  if (!is_set (profile) && is_set (g_getenv ("AWS_ACCESS_KEY_ID")) &&
      is_set (g_getenv ("AWS_SECRET_ACCESS_KEY"))) {
    c = gst_s2s_aws_credentials_new (g_getenv ("AWS_ACCESS_KEY_ID"),
        g_getenv ("AWS_SECRET_ACCESS_KEY"), g_getenv ("AWS_SESSION_TOKEN"));
    c->source = g_strdup ("environment");
    return c;
  }

  name = profile_name (profile);
  path = aws_file ("AWS_SHARED_CREDENTIALS_FILE", "credentials");
  keys = read_ini_section (path, name);
  source = g_strdup_printf ("credentials-file:%s", name);
  c = from_keys (keys, source);
  g_free (source);
  g_clear_pointer (&keys, g_hash_table_unref);
  if (c) {
    g_log (G_LOG_DOMAIN_AWS, G_LOG_LEVEL_DEBUG,
        "credentials of profile '%s' from %s", name, path);
    g_free (path);
    return c;
  }

  keys = read_config_profile (name);
  source = g_strdup_printf ("config-file:%s", name);
  c = from_keys (keys, source);
  g_free (source);
  if (!c) {
    gboolean unsupported = keys && (g_hash_table_contains (keys, "role_arn")
        || g_hash_table_contains (keys, "credential_process")
        || g_hash_table_contains (keys, "sso_session")
        || g_hash_table_contains (keys, "sso_start_url")
        || g_hash_table_contains (keys, "web_identity_token_file"));
    gchar *config = aws_file ("AWS_CONFIG_FILE", "config");

    if (unsupported)
      g_set_error (error, GST_S2S_AWS_ERROR, GST_S2S_AWS_ERROR_CREDENTIALS,
          "profile '%s' uses role, SSO or process credentials, which are not "
          "supported: export temporary keys (aws configure "
          "export-credentials) or set the key properties", name);
    else
      g_set_error (error, GST_S2S_AWS_ERROR, GST_S2S_AWS_ERROR_CREDENTIALS,
          "no AWS credentials: set access-key-id and secret-access-key, or "
          "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or profile '%s' in "
          "%s or %s", name, path, config);
    g_free (config);
  }
  g_clear_pointer (&keys, g_hash_table_unref);
  g_free (path);
  return c;
}

gchar *
gst_s2s_aws_region_resolve (const gchar * region, const gchar * profile)
{
  GHashTable *keys;
  gchar *r = NULL;

  if (is_set (region))
    return g_strdup (region);
  if (is_set (g_getenv ("AWS_REGION")))
    return g_strdup (g_getenv ("AWS_REGION"));
  if (is_set (g_getenv ("AWS_DEFAULT_REGION")))
    return g_strdup (g_getenv ("AWS_DEFAULT_REGION"));
  keys = read_config_profile (profile_name (profile));
  if (keys) {
    const gchar *v = g_hash_table_lookup (keys, "region");
    r = is_set (v) ? g_strdup (v) : NULL;
    g_hash_table_unref (keys);
  }
  return r;
}
