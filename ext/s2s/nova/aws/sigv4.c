/* gst-s2s
 * Copyright (C) 2026 gst-s2s developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * AWS Signature Version 4 (header signing) and the chained signing of
 * event-stream messages. Crypto from OpenSSL libcrypto.
 */

#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#include "sigv4.h"

#define ALGORITHM "AWS4-HMAC-SHA256"
#define EMPTY_SHA256 \
  "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

struct _GstS2SAwsRequest
{
  gchar *method;
  gchar *target;
  GPtrArray *names;             /* as given */
  GPtrArray *values;
  gchar *payload_hash;
  gboolean normalize_path;

  /* results */
  gchar *canonical_request;
  gchar *string_to_sign;
  gchar *signed_headers;
  gchar *signature;
  gchar *authorization;
  gchar *region;
  gchar *service;
};

void
gst_s2s_aws_hmac_sha256 (const guint8 * key, gsize key_len,
    const guint8 * data, gsize len, guint8 out[32])
{
  unsigned int out_len = 32;

  HMAC (EVP_sha256 (), key, key_len, data, len, out, &out_len);
}

static gchar *
hex_encode (const guint8 * data, gsize len)
{
  static const gchar digits[] = "0123456789abcdef";
  gchar *s = g_malloc (2 * len + 1);
  gsize i;

  for (i = 0; i < len; i++) {
    s[2 * i] = digits[data[i] >> 4];
    s[2 * i + 1] = digits[data[i] & 15];
  }
  s[2 * len] = 0;
  return s;
}

gchar *
gst_s2s_aws_sha256_hex (const guint8 * data, gsize len)
{
  guint8 md[SHA256_DIGEST_LENGTH];

  SHA256 (data, len, md);
  return hex_encode (md, sizeof (md));
}

/* The signing key: HMAC chain from "AWS4" + secret over the scope */
static void
derive_key (const gchar * secret, const gchar * date8, const gchar * region,
    const gchar * service, guint8 key[32])
{
  gchar *k = g_strconcat ("AWS4", secret, NULL);

  gst_s2s_aws_hmac_sha256 ((const guint8 *) k, strlen (k),
      (const guint8 *) date8, strlen (date8), key);
  OPENSSL_cleanse (k, strlen (k));
  g_free (k);
  gst_s2s_aws_hmac_sha256 (key, 32, (const guint8 *) region, strlen (region),
      key);
  gst_s2s_aws_hmac_sha256 (key, 32, (const guint8 *) service,
      strlen (service), key);
  gst_s2s_aws_hmac_sha256 (key, 32, (const guint8 *) "aws4_request", 12, key);
}

static gchar *
format_amz_date (gint64 unix_time)
{
  GDateTime *dt = g_date_time_new_from_unix_utc (unix_time);
  gchar *s;

  if (!dt)
    return NULL;
  s = g_date_time_format (dt, "%Y%m%dT%H%M%SZ");
  g_date_time_unref (dt);
  return s;
}

static gboolean
is_unreserved (guchar c)
{
  return g_ascii_isalnum (c) || c == '-' || c == '.' || c == '_' || c == '~';
}

static void
uri_encode (GString * out, const gchar * s, gsize len, gboolean keep_slash)
{
  gsize i;

  for (i = 0; i < len; i++) {
    guchar c = s[i];
    if (is_unreserved (c) || (keep_slash && c == '/'))
      g_string_append_c (out, c);
    else
      g_string_append_printf (out, "%%%02X", c);
  }
}

GstS2SAwsRequest *
gst_s2s_aws_request_new (const gchar * method, const gchar * path_and_query)
{
  GstS2SAwsRequest *req = g_new0 (GstS2SAwsRequest, 1);

  req->method = g_strdup (method);
  req->target = g_strdup (path_and_query);
  req->names = g_ptr_array_new_with_free_func (g_free);
  req->values = g_ptr_array_new_with_free_func (g_free);
  req->payload_hash = g_strdup (EMPTY_SHA256);
  req->normalize_path = TRUE;
  return req;
}

static void
clear_results (GstS2SAwsRequest * req)
{
  g_clear_pointer (&req->canonical_request, g_free);
  g_clear_pointer (&req->string_to_sign, g_free);
  g_clear_pointer (&req->signed_headers, g_free);
  g_clear_pointer (&req->signature, g_free);
  g_clear_pointer (&req->authorization, g_free);
  g_clear_pointer (&req->region, g_free);
  g_clear_pointer (&req->service, g_free);
}

void
gst_s2s_aws_request_free (GstS2SAwsRequest * req)
{
  if (!req)
    return;
  clear_results (req);
  g_free (req->method);
  g_free (req->target);
  g_ptr_array_unref (req->names);
  g_ptr_array_unref (req->values);
  g_free (req->payload_hash);
  g_free (req);
}

void
gst_s2s_aws_request_add_header (GstS2SAwsRequest * req, const gchar * name,
    const gchar * value)
{
  g_ptr_array_add (req->names, g_strdup (name));
  g_ptr_array_add (req->values, g_strdup (value));
}

const gchar *
gst_s2s_aws_request_get_header (const GstS2SAwsRequest * req,
    const gchar * name)
{
  guint i;

  for (i = 0; i < req->names->len; i++)
    if (g_ascii_strcasecmp (g_ptr_array_index (req->names, i), name) == 0)
      return g_ptr_array_index (req->values, i);
  return NULL;
}

guint
gst_s2s_aws_request_get_n_headers (const GstS2SAwsRequest * req)
{
  return req->names->len;
}

void
gst_s2s_aws_request_get_nth_header (const GstS2SAwsRequest * req, guint n,
    const gchar ** name, const gchar ** value)
{
  g_return_if_fail (n < req->names->len);
  *name = g_ptr_array_index (req->names, n);
  *value = g_ptr_array_index (req->values, n);
}

void
gst_s2s_aws_request_set_payload_hash (GstS2SAwsRequest * req,
    const gchar * payload_hash)
{
  g_free (req->payload_hash);
  req->payload_hash = g_strdup (payload_hash);
}

void
gst_s2s_aws_request_set_payload (GstS2SAwsRequest * req, const guint8 * data,
    gsize len)
{
  g_free (req->payload_hash);
  req->payload_hash = gst_s2s_aws_sha256_hex (data, len);
}

void
gst_s2s_aws_request_set_normalize_path (GstS2SAwsRequest * req,
    gboolean normalize)
{
  req->normalize_path = normalize;
}

#define GET_RESULT(field) \
const gchar * \
gst_s2s_aws_request_get_##field (const GstS2SAwsRequest * req) \
{ \
  return req->field; \
}

GET_RESULT (canonical_request);
GET_RESULT (string_to_sign);
GET_RESULT (signed_headers);
GET_RESULT (signature);
GET_RESULT (authorization);
GET_RESULT (region);
GET_RESULT (service);

/* RFC 3986 dot-segment removal and empty-segment collapse, as every AWS
 * service but S3 expects */
static gchar *
normalize_path (const gchar * path, gsize len)
{
  gchar *copy = g_strndup (path, len);
  gchar **parts = g_strsplit (copy, "/", -1);
  GPtrArray *out = g_ptr_array_new ();
  GString *s = g_string_new ("/");
  gboolean trailing = len > 1 && path[len - 1] == '/';
  guint i;

  for (i = 0; parts[i]; i++) {
    if (parts[i][0] == 0 || strcmp (parts[i], ".") == 0)
      continue;
    if (strcmp (parts[i], "..") == 0) {
      if (out->len)
        g_ptr_array_remove_index (out, out->len - 1);
      continue;
    }
    g_ptr_array_add (out, parts[i]);
  }
  for (i = 0; i < out->len; i++) {
    if (i)
      g_string_append_c (s, '/');
    g_string_append (s, g_ptr_array_index (out, i));
  }
  if (trailing && out->len)
    g_string_append_c (s, '/');
  g_ptr_array_unref (out);
  g_strfreev (parts);
  g_free (copy);
  return g_string_free (s, FALSE);
}

static void
append_canonical_uri (GString * out, const GstS2SAwsRequest * req)
{
  const gchar *q = strchr (req->target, '?');
  gsize len = q ? (gsize) (q - req->target) : strlen (req->target);

  if (len == 0) {
    g_string_append_c (out, '/');
  } else if (req->normalize_path) {
    gchar *norm = normalize_path (req->target, len);
    uri_encode (out, norm, strlen (norm), TRUE);
    g_free (norm);
  } else {
    /* S3 style: the path as sent, only what is not yet encoded gets
     * encoded (no double encoding) */
    gsize i;

    for (i = 0; i < len; i++) {
      const gchar *p = req->target + i;
      if (p[0] == '%' && i + 2 < len && g_ascii_isxdigit (p[1]) &&
          g_ascii_isxdigit (p[2])) {
        g_string_append_c (out, '%');
        g_string_append_c (out, g_ascii_toupper (p[1]));
        g_string_append_c (out, g_ascii_toupper (p[2]));
        i += 2;
      } else {
        uri_encode (out, p, 1, TRUE);
      }
    }
  }
}

typedef struct
{
  gchar *key;
  gchar *value;
} QueryParam;

static gint
compare_params (gconstpointer a, gconstpointer b)
{
  const QueryParam *pa = *(QueryParam * const *) a;
  const QueryParam *pb = *(QueryParam * const *) b;
  gint r = strcmp (pa->key, pb->key);

  return r ? r : strcmp (pa->value, pb->value);
}

static void
query_param_free (gpointer p)
{
  QueryParam *qp = p;

  g_free (qp->key);
  g_free (qp->value);
  g_free (qp);
}

/* Percent-decodes then re-encodes with the SigV4 unreserved set */
static gchar *
canonical_component (const gchar * s, gsize len)
{
  gchar *raw = g_strndup (s, len);
  gchar *decoded = g_uri_unescape_string (raw, NULL);
  GString *out = g_string_new (NULL);

  /* a malformed escape is kept as is, then encoded */
  if (!decoded)
    decoded = g_strdup (raw);
  uri_encode (out, decoded, strlen (decoded), FALSE);
  g_free (decoded);
  g_free (raw);
  return g_string_free (out, FALSE);
}

static void
append_canonical_query (GString * out, const GstS2SAwsRequest * req)
{
  const gchar *q = strchr (req->target, '?');
  GPtrArray *params;
  gchar **pairs;
  guint i;

  if (!q)
    return;
  params = g_ptr_array_new_with_free_func (query_param_free);
  pairs = g_strsplit (q + 1, "&", -1);
  for (i = 0; pairs[i]; i++) {
    const gchar *eq = strchr (pairs[i], '=');
    QueryParam *qp;

    if (pairs[i][0] == 0)
      continue;
    qp = g_new0 (QueryParam, 1);
    if (eq) {
      qp->key = canonical_component (pairs[i], eq - pairs[i]);
      qp->value = canonical_component (eq + 1, strlen (eq + 1));
    } else {
      qp->key = canonical_component (pairs[i], strlen (pairs[i]));
      qp->value = g_strdup ("");
    }
    g_ptr_array_add (params, qp);
  }
  g_strfreev (pairs);
  g_ptr_array_sort (params, compare_params);
  for (i = 0; i < params->len; i++) {
    QueryParam *qp = g_ptr_array_index (params, i);
    g_string_append_printf (out, "%s%s=%s", i ? "&" : "", qp->key, qp->value);
  }
  g_ptr_array_unref (params);
}

/* Trimmed, inner whitespace runs collapsed to one space */
static void
append_header_value (GString * out, const gchar * v)
{
  gboolean space = FALSE, any = FALSE;

  for (; *v; v++) {
    if (g_ascii_isspace (*v)) {
      space = TRUE;
      continue;
    }
    if (space && any)
      g_string_append_c (out, ' ');
    g_string_append_c (out, *v);
    space = FALSE;
    any = TRUE;
  }
}

/* Values of one header in order; "host" and ":authority" stand in for each
 * other when the named one is absent. */
static gboolean
append_header_values (GString * out, const GstS2SAwsRequest * req,
    const gchar * name)
{
  const gchar *alias = NULL;
  gboolean found = FALSE;
  guint i, pass;

  if (g_ascii_strcasecmp (name, "host") == 0)
    alias = ":authority";
  else if (g_ascii_strcasecmp (name, ":authority") == 0)
    alias = "host";

  for (pass = 0; pass < 2 && !found; pass++) {
    const gchar *n = pass == 0 ? name : alias;
    if (!n)
      break;
    for (i = 0; i < req->names->len; i++) {
      if (g_ascii_strcasecmp (g_ptr_array_index (req->names, i), n) != 0)
        continue;
      if (found)
        g_string_append_c (out, ',');
      append_header_value (out, g_ptr_array_index (req->values, i));
      found = TRUE;
    }
  }
  return found;
}

/* Builds canonical request and string to sign over the given lower-case,
 * sorted, unique header names. */
static gboolean
build_canonical (GstS2SAwsRequest * req, gchar ** names,
    const gchar * amz_date, const gchar * scope, const gchar * payload_hash,
    GError ** error)
{
  GString *c = g_string_new (req->method);
  gchar *hash;
  guint i;

  g_string_append_c (c, '\n');
  append_canonical_uri (c, req);
  g_string_append_c (c, '\n');
  append_canonical_query (c, req);
  g_string_append_c (c, '\n');
  for (i = 0; names[i]; i++) {
    g_string_append_printf (c, "%s:", names[i]);
    if (!append_header_values (c, req, names[i])) {
      g_set_error (error, GST_S2S_AWS_ERROR, GST_S2S_AWS_ERROR_SIGNATURE,
          "signed header '%s' is missing from the request", names[i]);
      g_string_free (c, TRUE);
      return FALSE;
    }
    g_string_append_c (c, '\n');
  }
  g_string_append_c (c, '\n');
  g_free (req->signed_headers);
  req->signed_headers = g_strjoinv (";", names);
  g_string_append_printf (c, "%s\n%s", req->signed_headers, payload_hash);

  g_free (req->canonical_request);
  req->canonical_request = g_string_free (c, FALSE);
  hash = gst_s2s_aws_sha256_hex ((const guint8 *) req->canonical_request,
      strlen (req->canonical_request));
  g_free (req->string_to_sign);
  req->string_to_sign = g_strdup_printf (ALGORITHM "\n%s\n%s\n%s", amz_date,
      scope, hash);
  g_free (hash);
  return TRUE;
}

static gchar *
compute_signature (const GstS2SAwsRequest * req, const gchar * secret,
    const gchar * date8, const gchar * region, const gchar * service)
{
  guint8 key[32], sig[32];

  derive_key (secret, date8, region, service, key);
  gst_s2s_aws_hmac_sha256 (key, 32, (const guint8 *) req->string_to_sign,
      strlen (req->string_to_sign), sig);
  OPENSSL_cleanse (key, sizeof (key));
  return hex_encode (sig, 32);
}

static gint
compare_str (gconstpointer a, gconstpointer b)
{
  return strcmp (*(gchar * const *) a, *(gchar * const *) b);
}

static gboolean
valid_amz_date (const gchar * d)
{
  guint i;

  if (!d || strlen (d) != 16 || d[8] != 'T' || d[15] != 'Z')
    return FALSE;
  for (i = 0; i < 15; i++)
    if (i != 8 && !g_ascii_isdigit (d[i]))
      return FALSE;
  return TRUE;
}

/* RFC 9110 token, with the leading ':' of HTTP/2 pseudo-headers */
static gboolean
valid_header_name (const gchar * name)
{
  const gchar *p = name[0] == ':' ? name + 1 : name;

  if (!*p)
    return FALSE;
  for (; *p; p++)
    if (!g_ascii_isalnum (*p) && !strchr ("!#$%&'*+-.^_`|~", *p))
      return FALSE;
  return TRUE;
}

gboolean
gst_s2s_aws_request_sign (GstS2SAwsRequest * req,
    const GstS2SAwsCredentials * creds, const gchar * region,
    const gchar * service, gint64 unix_time, GError ** error)
{
  GPtrArray *names;
  const gchar *content_hash;
  gchar *amz_date, date8[9], *scope;
  guint i;
  gboolean ok;

  g_return_val_if_fail (creds && creds->access_key_id &&
      creds->secret_access_key, FALSE);
  clear_results (req);
  for (i = 0; i < req->names->len; i++) {
    if (!valid_header_name (g_ptr_array_index (req->names, i))) {
      g_set_error (error, GST_S2S_AWS_ERROR, GST_S2S_AWS_ERROR_INVALID,
          "header name '%s' is not an HTTP token",
          (const gchar *) g_ptr_array_index (req->names, i));
      return FALSE;
    }
  }

  if (gst_s2s_aws_request_get_header (req, "x-amz-date")) {
    amz_date = g_strdup (gst_s2s_aws_request_get_header (req, "x-amz-date"));
    if (!valid_amz_date (amz_date)) {
      g_set_error (error, GST_S2S_AWS_ERROR, GST_S2S_AWS_ERROR_INVALID,
          "x-amz-date '%s' is not YYYYMMDDTHHMMSSZ", amz_date);
      g_free (amz_date);
      return FALSE;
    }
  } else {
    amz_date = format_amz_date (unix_time);
    if (!amz_date) {
      g_set_error (error, GST_S2S_AWS_ERROR, GST_S2S_AWS_ERROR_INVALID,
          "time %" G_GINT64_FORMAT " out of range", unix_time);
      return FALSE;
    }
    gst_s2s_aws_request_add_header (req, "x-amz-date", amz_date);
  }
  if (creds->session_token && creds->session_token[0] &&
      !gst_s2s_aws_request_get_header (req, "x-amz-security-token"))
    gst_s2s_aws_request_add_header (req, "x-amz-security-token",
        creds->session_token);

  names = g_ptr_array_new_with_free_func (g_free);
  for (i = 0; i < req->names->len; i++) {
    gchar *n = g_ascii_strdown (g_ptr_array_index (req->names, i), -1);
    guint j;
    gboolean dup = strcmp (n, "authorization") == 0;

    for (j = 0; j < names->len && !dup; j++)
      dup = strcmp (g_ptr_array_index (names, j), n) == 0;
    if (dup)
      g_free (n);
    else
      g_ptr_array_add (names, n);
  }
  g_ptr_array_sort (names, compare_str);
  g_ptr_array_add (names, NULL);

  memcpy (date8, amz_date, 8);
  date8[8] = 0;
  scope = g_strdup_printf ("%s/%s/%s/aws4_request", date8, region, service);
  /* a declared x-amz-content-sha256 is the payload hash, as the verifier
   * reads it */
  content_hash = gst_s2s_aws_request_get_header (req, "x-amz-content-sha256");
  ok = build_canonical (req, (gchar **) names->pdata, amz_date, scope,
      content_hash ? content_hash : req->payload_hash, error);
  if (ok) {
    req->signature = compute_signature (req, creds->secret_access_key, date8,
        region, service);
    req->authorization =
        g_strdup_printf (ALGORITHM " Credential=%s/%s, SignedHeaders=%s, "
        "Signature=%s", creds->access_key_id, scope, req->signed_headers,
        req->signature);
    req->region = g_strdup (region);
    req->service = g_strdup (service);
    gst_s2s_aws_request_add_header (req, "authorization", req->authorization);
  }
  g_ptr_array_unref (names);
  g_free (scope);
  g_free (amz_date);
  return ok;
}

/* Value of "Key=" in an Authorization header, up to ',' or end */
static gchar *
auth_field (const gchar * auth, const gchar * key)
{
  const gchar *p = auth;
  gsize klen = strlen (key);

  while ((p = strstr (p, key))) {
    if ((p == auth || p[-1] == ' ' || p[-1] == ',') && p[klen] == '=') {
      const gchar *v = p + klen + 1, *end = strchr (v, ',');
      return g_strndup (v, end ? (gsize) (end - v) : strlen (v));
    }
    p += klen;
  }
  return NULL;
}

static gboolean
verify_fail (GError ** error, const gchar * what)
{
  g_set_error (error, GST_S2S_AWS_ERROR, GST_S2S_AWS_ERROR_SIGNATURE,
      "request signature rejected: %s", what);
  return FALSE;
}

gboolean
gst_s2s_aws_request_verify (GstS2SAwsRequest * req,
    const gchar * access_key_id, const gchar * secret_access_key,
    gint64 now_unix, gint max_skew_s, GError ** error)
{
  const gchar *auth = gst_s2s_aws_request_get_header (req, "authorization");
  const gchar *amz_date = gst_s2s_aws_request_get_header (req, "x-amz-date");
  const gchar *content_hash;
  gchar *credential = NULL, *signed_headers = NULL, *signature = NULL;
  gchar **scope = NULL, **names = NULL, *scope_str = NULL, *expected = NULL;
  gboolean ok = FALSE;
  guint i;

  clear_results (req);
  if (!auth || !g_str_has_prefix (auth, ALGORITHM " "))
    return verify_fail (error, "no AWS4-HMAC-SHA256 authorization header");
  if (!valid_amz_date (amz_date))
    return verify_fail (error, "missing or malformed x-amz-date");

  credential = auth_field (auth, "Credential");
  signed_headers = auth_field (auth, "SignedHeaders");
  signature = auth_field (auth, "Signature");
  if (!credential || !signed_headers || !signature) {
    verify_fail (error, "authorization lacks Credential, SignedHeaders or "
        "Signature");
    goto done;
  }
  /* AKID/date/region/service/aws4_request */
  scope = g_strsplit (credential, "/", -1);
  if (g_strv_length (scope) != 5 || strcmp (scope[4], "aws4_request") != 0) {
    verify_fail (error, "malformed credential scope");
    goto done;
  }
  if (strcmp (scope[0], access_key_id) != 0) {
    verify_fail (error, "unknown access key id");
    goto done;
  }
  if (strncmp (scope[1], amz_date, 8) != 0 || strlen (scope[1]) != 8) {
    verify_fail (error, "credential scope date differs from x-amz-date");
    goto done;
  }
  if (now_unix > 0) {
    GTimeZone *utc = g_time_zone_new_utc ();
    gchar *iso = g_strdup_printf ("%.4s-%.2s-%.2sT%.2s:%.2s:%.2sZ", amz_date,
        amz_date + 4, amz_date + 6, amz_date + 9, amz_date + 11, amz_date + 13);
    GDateTime *dt = g_date_time_new_from_iso8601 (iso, utc);
    gint64 t = dt ? g_date_time_to_unix (dt) : 0;

    g_clear_pointer (&dt, g_date_time_unref);
    g_time_zone_unref (utc);
    g_free (iso);
    if (!t || ABS (t - now_unix) > max_skew_s) {
      verify_fail (error, "x-amz-date too far from the server's clock");
      goto done;
    }
  }

  names = g_strsplit (signed_headers, ";", -1);
  /* canonicalized in the order given, as the signer listed them */
  for (i = 0; names[i]; i++) {
    const gchar *c;
    gboolean bad = names[i][0] == 0 || strcmp (names[i], "authorization") == 0;

    for (c = names[i]; *c && !bad; c++)
      bad = g_ascii_isupper (*c);
    if (bad) {
      verify_fail (error, "SignedHeaders malformed");
      goto done;
    }
  }
  content_hash = gst_s2s_aws_request_get_header (req, "x-amz-content-sha256");
  scope_str = g_strjoinv ("/", scope + 1);
  if (!build_canonical (req, names, amz_date, scope_str,
          content_hash ? content_hash : req->payload_hash, error))
    goto done;
  expected = compute_signature (req, secret_access_key, scope[1], scope[2],
      scope[3]);
  if (strlen (signature) != strlen (expected) ||
      CRYPTO_memcmp (signature, expected, strlen (expected)) != 0) {
    verify_fail (error, "signature mismatch");
    goto done;
  }
  req->signature = g_steal_pointer (&expected);
  req->authorization = g_strdup (auth);
  req->region = g_strdup (scope[2]);
  req->service = g_strdup (scope[3]);
  ok = TRUE;

done:
  g_free (credential);
  g_free (signed_headers);
  g_free (signature);
  g_free (expected);
  g_free (scope_str);
  g_strfreev (scope);
  g_strfreev (names);
  return ok;
}

gchar *
gst_s2s_aws_bedrock_stream_path (const gchar * model_id)
{
  GString *s = g_string_new ("/model/");

  uri_encode (s, model_id, strlen (model_id), FALSE);
  g_string_append (s, "/invoke-with-bidirectional-stream");
  return g_string_free (s, FALSE);
}

GstS2SAwsRequest *
gst_s2s_aws_bedrock_stream_request (const GstS2SAwsCredentials * creds,
    const gchar * region, const gchar * authority, const gchar * model_id,
    gint64 unix_time, GError ** error)
{
  gchar *path = gst_s2s_aws_bedrock_stream_path (model_id);
  GstS2SAwsRequest *req = gst_s2s_aws_request_new ("POST", path);

  g_free (path);
  gst_s2s_aws_request_add_header (req, "host", authority);
  gst_s2s_aws_request_add_header (req, "content-type",
      GST_S2S_AWS_EVENTSTREAM_CONTENT_TYPE);
  gst_s2s_aws_request_add_header (req, "x-amz-content-sha256",
      GST_S2S_AWS_STREAMING_PAYLOAD);
  gst_s2s_aws_request_set_payload_hash (req, GST_S2S_AWS_STREAMING_PAYLOAD);
  if (!gst_s2s_aws_request_sign (req, creds, region,
          GST_S2S_AWS_BEDROCK_SERVICE, unix_time, error)) {
    gst_s2s_aws_request_free (req);
    return NULL;
  }
  return req;
}

/* Event signing */

struct _GstS2SAwsEventSigner
{
  gchar *secret;
  gchar *region;
  gchar *service;
  guint8 *prev;
  gsize prev_len;
  gchar key_date[9];            /* date of the cached key */
  guint8 key[32];
};

GstS2SAwsEventSigner *
gst_s2s_aws_event_signer_new (const gchar * secret_access_key,
    const gchar * region, const gchar * service, const gchar * seed_hex)
{
  GstS2SAwsEventSigner *s;
  gsize i, n = strlen (seed_hex) / 2;

  for (i = 0; seed_hex[i]; i++)
    g_return_val_if_fail (g_ascii_isxdigit (seed_hex[i]), NULL);
  g_return_val_if_fail (strlen (seed_hex) % 2 == 0, NULL);

  s = g_new0 (GstS2SAwsEventSigner, 1);
  s->secret = g_strdup (secret_access_key);
  s->region = g_strdup (region);
  s->service = g_strdup (service);
  s->prev = g_malloc0 (MAX (n, 32));
  for (i = 0; i < n; i++)
    s->prev[i] = (g_ascii_xdigit_value (seed_hex[2 * i]) << 4) |
        g_ascii_xdigit_value (seed_hex[2 * i + 1]);
  s->prev_len = n;
  return s;
}

void
gst_s2s_aws_event_signer_free (GstS2SAwsEventSigner * s)
{
  if (!s)
    return;
  OPENSSL_cleanse (s->secret, strlen (s->secret));
  OPENSSL_cleanse (s->key, sizeof (s->key));
  g_free (s->secret);
  g_free (s->region);
  g_free (s->service);
  g_free (s->prev);
  g_free (s);
}

static void
event_signature (GstS2SAwsEventSigner * s, const guint8 * headers,
    gsize headers_len, const guint8 * payload, gsize payload_len,
    gint64 time_ms, guint8 sig[32])
{
  gint64 secs = time_ms >= 0 ? time_ms / 1000 : (time_ms - 999) / 1000;
  gchar *amz_date = format_amz_date (secs);
  gchar *prev_hex, *headers_hash, *payload_hash, *sts;

  if (!amz_date)
    amz_date = g_strdup ("19700101T000000Z");
  if (strncmp (s->key_date, amz_date, 8) != 0) {
    memcpy (s->key_date, amz_date, 8);
    derive_key (s->secret, s->key_date, s->region, s->service, s->key);
  }
  prev_hex = hex_encode (s->prev, s->prev_len);
  headers_hash = gst_s2s_aws_sha256_hex (headers, headers_len);
  payload_hash = gst_s2s_aws_sha256_hex (payload, payload_len);
  sts = g_strdup_printf (ALGORITHM "-PAYLOAD\n%s\n%s/%s/%s/aws4_request\n"
      "%s\n%s\n%s", amz_date, s->key_date, s->region, s->service, prev_hex,
      headers_hash, payload_hash);
  gst_s2s_aws_hmac_sha256 (s->key, 32, (const guint8 *) sts, strlen (sts), sig);
  g_free (sts);
  g_free (payload_hash);
  g_free (headers_hash);
  g_free (prev_hex);
  g_free (amz_date);
}

static void
chain (GstS2SAwsEventSigner * s, const guint8 sig[32])
{
  memcpy (s->prev, sig, 32);
  s->prev_len = 32;
}

void
gst_s2s_aws_event_signer_sign_raw (GstS2SAwsEventSigner * s,
    const guint8 * headers, gsize headers_len, const guint8 * payload,
    gsize payload_len, gint64 time_ms, guint8 signature[32])
{
  event_signature (s, headers, headers_len, payload, payload_len, time_ms,
      signature);
  chain (s, signature);
}

static void
encode_date_header (gint64 time_ms, GByteArray * out)
{
  GstS2SAwsHeader h = { (gchar *) ":date", GST_S2S_AWS_HEADER_TIMESTAMP,
    time_ms, NULL, 0
  };

  gst_s2s_aws_header_encode_to (&h, out);
}

gboolean
gst_s2s_aws_event_signer_sign_to (GstS2SAwsEventSigner * s,
    const guint8 * payload, gsize payload_len, gint64 time_ms,
    GByteArray * out, GError ** error)
{
  GByteArray *date = g_byte_array_sized_new (15);
  GstS2SAwsMessage *msg = gst_s2s_aws_message_new ();
  guint8 sig[32];
  gboolean ok;

  encode_date_header (time_ms, date);
  event_signature (s, date->data, date->len, payload, payload_len, time_ms,
      sig);
  g_byte_array_unref (date);

  gst_s2s_aws_message_add_timestamp (msg, ":date", time_ms);
  gst_s2s_aws_message_add_bytes (msg, ":chunk-signature", sig, 32);
  gst_s2s_aws_message_take_payload (msg,
      g_bytes_new_static (payload_len ? payload : (const guint8 *) "",
          payload_len));
  ok = gst_s2s_aws_message_encode_to (msg, out, error);
  gst_s2s_aws_message_free (msg);
  if (ok)
    chain (s, sig);
  return ok;
}

gboolean
gst_s2s_aws_event_signer_verify (GstS2SAwsEventSigner * s,
    const GstS2SAwsMessage * msg, GError ** error)
{
  const GstS2SAwsHeader *date = gst_s2s_aws_message_get_header (msg, ":date");
  const GstS2SAwsHeader *sig =
      gst_s2s_aws_message_get_header (msg, ":chunk-signature");
  GByteArray *date_bytes;
  gsize payload_len;
  const guint8 *payload = g_bytes_get_data (msg->payload, &payload_len);
  guint8 want[32];

  if (!date || date->type != GST_S2S_AWS_HEADER_TIMESTAMP) {
    g_set_error (error, GST_S2S_AWS_ERROR, GST_S2S_AWS_ERROR_SIGNATURE,
        "event has no :date timestamp header");
    return FALSE;
  }
  if (!sig || sig->type != GST_S2S_AWS_HEADER_BYTES || sig->len != 32) {
    g_set_error (error, GST_S2S_AWS_ERROR, GST_S2S_AWS_ERROR_SIGNATURE,
        "event has no 32-byte :chunk-signature header");
    return FALSE;
  }
  date_bytes = g_byte_array_sized_new (15);
  encode_date_header (date->integer, date_bytes);
  event_signature (s, date_bytes->data, date_bytes->len,
      payload_len ? payload : (const guint8 *) "", payload_len,
      date->integer, want);
  g_byte_array_unref (date_bytes);
  if (CRYPTO_memcmp (want, sig->data, 32) != 0) {
    g_set_error (error, GST_S2S_AWS_ERROR, GST_S2S_AWS_ERROR_SIGNATURE,
        "event signature mismatch");
    return FALSE;
  }
  chain (s, want);
  return TRUE;
}
