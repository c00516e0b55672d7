/* gst-s2s
 * Copyright (C) 2026 gst-s2s developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The emulator's Nova dialect refuses what it must: a request signed with
 * the wrong secret (403 InvalidSignatureException), and an event whose
 * chained signature is wrong (an exception message, then the end of the
 * stream), while a correctly signed session goes on. Drives the s2s-emulator
 * binary with the HTTP/2 client and the nova/aws signer directly.
 */

#include <string.h>
#include <gst/check/gstcheck.h>

#include "h2client.h"
#include "credentials.h"
#include "eventstream.h"
#include "sigv4.h"

#ifdef HAVE_VALGRIND
#include <valgrind/valgrind.h>
#else
#define RUNNING_ON_VALGRIND 0
#endif

/* bound for what takes milliseconds; only reached when a test fails */
#define WAIT_MS (RUNNING_ON_VALGRIND ? 180000 : 10000)
/* connect timeout of the tests that expect to connect (a TLS handshake
 * takes seconds under valgrind on a loaded machine) */
#define CONNECT_MS (RUNNING_ON_VALGRIND ? 120000 : 5000)
#define AKID "AKIDEXAMPLE"
#define SECRET "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
#define MODEL "amazon.nova-2-sonic-v1:0"

typedef struct
{
  GSubprocess *emu;
  gchar *url;                   /* http://127.0.0.1:PORT */
  GstS2SH2Client *client;
  GstS2SAwsDecoder *dec;
  gboolean opened, closed;
  guint status;
  gchar *error_type;
  GPtrArray *messages;          /* GstS2SAwsMessage */
} Fx;

static Fx fx;

static void
cl_opened (gpointer ud)
{
  fx.opened = TRUE;
}

static void
cl_response (guint status, const gchar * const *h, gpointer ud)
{
  guint i;

  fx.status = status;
  for (i = 0; h[i]; i += 2)
    if (!strcmp (h[i], "x-amzn-errortype"))
      fx.error_type = g_strdup (h[i + 1]);
}

static void
cl_data (const guint8 * data, gsize len, gpointer ud)
{
  GstS2SAwsMessage *m;

  if (fx.status != 200)
    return;
  fail_unless (gst_s2s_aws_decoder_feed (fx.dec, data, len, NULL));
  while ((m = gst_s2s_aws_decoder_pop (fx.dec)))
    g_ptr_array_add (fx.messages, m);
}

static void
cl_closed (const GError * error, gboolean opened, gpointer ud)
{
  fail_unless (error == NULL, "%s", error ? error->message : "");
  fx.closed = TRUE;
}

static const GstS2SH2Callbacks cl_cb = {
  cl_opened, cl_response, cl_data, cl_closed
};

static gboolean
tick_cb (gpointer data)
{
  return G_SOURCE_CONTINUE;
}

static gboolean
iterate_until (gboolean * flag)
{
  gint64 end = g_get_monotonic_time () + WAIT_MS * 1000;

  /* a ticking source so the deadline is checked even if nothing comes */
  guint tick = g_timeout_add (50, tick_cb, NULL);

  while (!*flag && g_get_monotonic_time () < end)
    g_main_context_iteration (NULL, TRUE);
  g_source_remove (tick);
  return *flag;
}

static void
fx_setup (void)
{
  GError *err = NULL;
  GDataInputStream *in;
  gchar *line;

  memset (&fx, 0, sizeof (fx));
  fx.emu = g_subprocess_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE, &err,
      g_getenv ("S2S_EMULATOR"), "--port", "0", "--nova-port", "0", NULL);
  fail_unless (fx.emu != NULL, "%s", err ? err->message : "");
  in = g_data_input_stream_new (g_subprocess_get_stdout_pipe (fx.emu));
  g_free (g_data_input_stream_read_line_utf8 (in, NULL, NULL, NULL));
  line = g_data_input_stream_read_line_utf8 (in, NULL, NULL, NULL);
  g_object_unref (in);
  fail_unless (line && g_str_has_prefix (line, "nova http://"), "%s",
      GST_STR_NULL (line));
  fx.url = g_strdup (line + 5);
  g_free (line);
  fx.dec = gst_s2s_aws_decoder_new ();
  fx.messages = g_ptr_array_new_with_free_func ((GDestroyNotify)
      gst_s2s_aws_message_free);
  fx.client = gst_s2s_h2_client_new (NULL, &cl_cb, NULL);
}

static void
fx_teardown (void)
{
  gst_s2s_h2_client_free (fx.client);
  g_subprocess_send_signal (fx.emu, SIGTERM);
  g_subprocess_wait (fx.emu, NULL, NULL);
  g_object_unref (fx.emu);
  gst_s2s_aws_decoder_free (fx.dec);
  g_ptr_array_unref (fx.messages);
  g_free (fx.error_type);
  g_free (fx.url);
}

/* Connects with a request signed with @secret; returns the event signer
 * seeded with its signature (the chain's key is @event_secret) */
static GstS2SAwsEventSigner *
connect_signed (const gchar * secret, const gchar * event_secret)
{
  GstS2SAwsCredentials *creds = gst_s2s_aws_credentials_new (AKID, secret,
      NULL);
  const gchar *authority = fx.url + strlen ("http://");
  GstS2SAwsRequest *req;
  GPtrArray *headers = g_ptr_array_new ();
  GstS2SAwsEventSigner *signer;
  gchar *path, *url;
  GError *err = NULL;
  guint i;

  req = gst_s2s_aws_bedrock_stream_request (creds, "us-east-1", authority,
      MODEL, g_get_real_time () / G_USEC_PER_SEC, &err);
  fail_unless (req != NULL, "%s", err ? err->message : "");
  for (i = 0; i < gst_s2s_aws_request_get_n_headers (req); i++) {
    const gchar *n, *v;
    gst_s2s_aws_request_get_nth_header (req, i, &n, &v);
    g_ptr_array_add (headers, (gpointer) n);
    g_ptr_array_add (headers, (gpointer) v);
  }
  g_ptr_array_add (headers, NULL);
  path = gst_s2s_aws_bedrock_stream_path (MODEL);
  url = g_strconcat (fx.url, path, NULL);
  fail_unless (gst_s2s_h2_client_connect (fx.client, "POST", url,
          (const gchar * const *) headers->pdata, NULL, NULL, CONNECT_MS,
          &err));
  signer =
      gst_s2s_aws_event_signer_new (event_secret, "us-east-1", "bedrock",
      gst_s2s_aws_request_get_signature (req));
  g_free (url);
  g_free (path);
  g_ptr_array_unref (headers);
  gst_s2s_aws_request_free (req);
  gst_s2s_aws_credentials_free (creds);
  return signer;
}

static void
send_event (GstS2SAwsEventSigner * signer, const gchar * json)
{
  GByteArray *inner = g_byte_array_new (), *out = g_byte_array_new ();

  fail_unless (gst_s2s_aws_bedrock_event_encode_to (json, strlen (json),
          inner, NULL));
  fail_unless (gst_s2s_aws_event_signer_sign_to (signer, inner->data,
          inner->len, g_get_real_time () / 1000, out, NULL));
  fail_unless (gst_s2s_h2_client_send (fx.client, out->data, out->len));
  g_byte_array_unref (inner);
  g_byte_array_unref (out);
}

GST_START_TEST (test_request_signature_refused)
{
  GstS2SAwsEventSigner *signer;

  fx_setup ();
  signer = connect_signed ("wrong-secret", "wrong-secret");
  fail_unless (iterate_until (&fx.closed));
  fail_unless_equals_int (fx.status, 403);
  fail_unless_equals_string (fx.error_type, "InvalidSignatureException");
  gst_s2s_aws_event_signer_free (signer);
  fx_teardown ();
}

GST_END_TEST;

/* The request is right, the events are signed with another key: the first
 * event is refused with an exception message and the stream ends */
GST_START_TEST (test_event_signature_refused)
{
  GstS2SAwsEventSigner *signer;
  GstS2SAwsMessage *m;

  fx_setup ();
  signer = connect_signed (SECRET, "wrong-secret");
  send_event (signer, "{\"event\":{\"sessionStart\":{}}}");
  fail_unless (iterate_until (&fx.closed));
  fail_unless_equals_int (fx.status, 200);
  fail_unless_equals_int (fx.messages->len, 1);
  m = g_ptr_array_index (fx.messages, 0);
  fail_unless_equals_string (gst_s2s_aws_message_get_string (m,
          ":message-type"), "exception");
  fail_unless_equals_string (gst_s2s_aws_message_get_string (m,
          ":exception-type"), "validationException");
  gst_s2s_aws_event_signer_free (signer);
  fx_teardown ();
}

GST_END_TEST;

/* Correct signatures: the session goes on and ends cleanly after the
 * signed empty frame */
GST_START_TEST (test_signed_session_accepted)
{
  GstS2SAwsEventSigner *signer;
  GByteArray *end = g_byte_array_new ();
  guint i;

  fx_setup ();
  signer = connect_signed (SECRET, SECRET);
  send_event (signer, "{\"event\":{\"sessionStart\":{}}}");
  send_event (signer, "{\"event\":{\"promptStart\":{\"promptName\":\"p\"}}}");
  send_event (signer, "{\"event\":{\"promptEnd\":{\"promptName\":\"p\"}}}");
  send_event (signer, "{\"event\":{\"sessionEnd\":{}}}");
  fail_unless (gst_s2s_aws_event_signer_sign_to (signer, NULL, 0,
          g_get_real_time () / 1000, end, NULL));
  gst_s2s_h2_client_send (fx.client, end->data, end->len);
  gst_s2s_h2_client_end (fx.client);
  fail_unless (iterate_until (&fx.closed));
  fail_unless_equals_int (fx.status, 200);
  for (i = 0; i < fx.messages->len; i++)
    fail_if (!g_strcmp0 (gst_s2s_aws_message_get_string (g_ptr_array_index
                (fx.messages, i), ":message-type"), "exception"));
  g_byte_array_unref (end);
  gst_s2s_aws_event_signer_free (signer);
  fx_teardown ();
}

GST_END_TEST;

static Suite *
emu_nova_suite (void)
{
  Suite *s = suite_create ("emu-nova");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_request_signature_refused);
  tcase_add_test (tc, test_event_signature_refused);
  tcase_add_test (tc, test_signed_session_accepted);
  return s;
}

GST_CHECK_MAIN (emu_nova);
