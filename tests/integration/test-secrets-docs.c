/* gst-s2s integration tests: the api-key never shows up in logs or in
 * gst-inspect, every property is documented, and the documented launch line
 * works against the emulator
 * Copyright (C) 2026 gst-s2s developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The secret tests run pipelines in child processes with GST_DEBUG=*:9
 * written to a file: this program itself (S2S_IT_CHILD=prop sets the key with
 * g_object_set, S2S_IT_CHILD=env leaves it to OPENAI_API_KEY) and
 * gst-launch-1.0 with api-key=... on its command line.
 *
 * S2S_IT_PROVIDER picks the element under test (emu-helper.h): the same
 * checks hold for every provider element. s2snova has AWS credentials
 * instead of a key: the secret access key and the session token are the
 * secrets (plus the SigV4 signing key derived from the secret, and the
 * request's Signature), given as properties, in AWS_* variables, or in a
 * shared credentials file (S2S_IT_CHILD=file); S2S_IT_CHILD=wrong runs a
 * turn with a wrong secret, whose error must not carry either secret.
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <string.h>
#include <gst/check/gstcheck.h>

#include "emu-helper.h"

#define RATE 24000
#define AWS_KEY_ID "AKIDEXAMPLE"
#define AWS_REGION "us-east-1"

static gboolean
is_nova (void)
{
  return it_provider_is ("nova");
}

/* the property that holds the secret */
static const gchar *
key_prop (void)
{
  return is_nova ()? "secret-access-key" : "api-key";
}

/* what the element logs when it connects to the emulator */
static const gchar *
connect_needle (void)
{
  return is_nova ()? "connecting to 127.0.0.1:" :
      "connecting to ws://127.0.0.1";
}

/* ------------------------------------------------------------------------ */
/* Child mode: one short turn, api-key from the property or the environment */

static int
child_main (int argc, char **argv)
{
  const gchar *mode = g_getenv ("S2S_IT_CHILD");
  GstElement *p, *src, *parse, *s2s, *sink;
  GstBus *bus;
  GstMessage *m;
  gchar *readback = NULL;
  int ret = 1;

  gst_init (&argc, &argv);
  p = gst_pipeline_new (NULL);
  src = gst_element_factory_make ("filesrc", NULL);
  parse = gst_bin_new (NULL);
  {
    /* wavparse ! audioresample: every element gets its native rate */
    GstElement *wp = gst_element_factory_make ("wavparse", NULL);
    GstElement *rs = gst_element_factory_make ("audioresample", NULL);
    GstPad *pad;

    gst_bin_add_many (GST_BIN (parse), wp, rs, NULL);
    gst_element_link (wp, rs);
    pad = gst_element_get_static_pad (wp, "sink");
    gst_element_add_pad (parse, gst_ghost_pad_new ("sink", pad));
    gst_object_unref (pad);
    pad = gst_element_get_static_pad (rs, "src");
    gst_element_add_pad (parse, gst_ghost_pad_new ("src", pad));
    gst_object_unref (pad);
  }
  s2s = gst_element_factory_make (it_provider ()->element, NULL);
  sink = gst_element_factory_make ("fakesink", NULL);
  if (!p || !src || !parse || !s2s || !sink)
    return 2;
  gst_bin_add_many (GST_BIN (p), src, parse, s2s, sink, NULL);
  gst_element_link_many (src, parse, s2s, sink, NULL);
  g_object_set (src, "location", g_getenv ("S2S_IT_WAV"), NULL);
  g_object_set (s2s, "url", g_getenv ("S2S_IT_URL"), NULL);
  if (is_nova ()) {
    /* endpointing HIGH (1.5 s): the padding after input EOS ends the turn
     * at the emulator, so the reply comes before the element's EOS */
    g_object_set (s2s, "region", AWS_REGION, "silence-duration", 1500, NULL);
    if (g_strcmp0 (mode, "prop") == 0 || g_strcmp0 (mode, "wrong") == 0)
      g_object_set (s2s, "access-key-id", AWS_KEY_ID, "secret-access-key",
          g_getenv ("S2S_IT_KEY"), "session-token", g_getenv ("S2S_IT_TOKEN"),
          NULL);
  } else if (g_strcmp0 (mode, "prop") == 0) {
    g_object_set (s2s, "api-key", g_getenv ("S2S_IT_KEY"), NULL);
  }

  /* what an application reading the property back gets */
  g_object_get (s2s, key_prop (), &readback, NULL);
  g_print ("%s reads back as: %s\n", key_prop (), GST_STR_NULL (readback));
  g_free (readback);
  if (is_nova ()) {
    g_object_get (s2s, "session-token", &readback, NULL);
    g_print ("session-token reads back as: %s\n", GST_STR_NULL (readback));
    g_free (readback);
  }

  gst_element_set_state (p, GST_STATE_PLAYING);
  bus = gst_element_get_bus (p);
  m = gst_bus_timed_pop_filtered (bus, 20 * GST_SECOND,
      GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
  if (m && GST_MESSAGE_TYPE (m) == GST_MESSAGE_EOS &&
      g_strcmp0 (mode, "wrong") != 0)
    ret = 0;
  else if (m && GST_MESSAGE_TYPE (m) == GST_MESSAGE_ERROR) {
    GError *e = NULL;
    gchar *dbg = NULL, *details = NULL;
    const GstStructure *st = NULL;

    gst_message_parse_error (m, &e, &dbg);
    gst_message_parse_error_details (m, &st);
    details = st ? gst_structure_to_string (st) : NULL;
    /* everything an application gets to see of the error */
    g_printerr ("child: %s\nchild debug: %s\nchild details: %s\n",
        e->message, GST_STR_NULL (dbg), GST_STR_NULL (details));
    if (g_strcmp0 (mode, "wrong") == 0 && st &&
        !g_strcmp0 (gst_structure_get_string (st, "code"), "authentication"))
      ret = 0;
    g_error_free (e);
    g_free (dbg);
    g_free (details);
  }
  if (m)
    gst_message_unref (m);
  gst_object_unref (bus);
  gst_element_set_state (p, GST_STATE_NULL);
  gst_object_unref (p);
  return ret;
}

/* ------------------------------------------------------------------------ */
/* Helpers */

static gchar *
make_secret (void)
{
  return g_strdup_printf ("sk-SECRET-%08x%08x", g_random_int (),
      g_random_int ());
}

static gchar *
make_token (void)
{
  return g_strdup_printf ("TOKEN-SECRET-%08x%08x", g_random_int (),
      g_random_int ());
}

/* Hex of the SigV4 signing key of @secret for the UTC day of @t: HMAC
 * chain "AWS4"+secret -> date -> region -> "bedrock" -> "aws4_request" */
static gchar *
signing_key_hex (const gchar * secret, GDateTime * t)
{
  gchar *date = g_date_time_format (t, "%Y%m%d");
  gchar *k0 = g_strconcat ("AWS4", secret, NULL);
  const gchar *parts[] = { date, AWS_REGION, "bedrock", "aws4_request" };
  guint8 key[32];
  gsize len = sizeof (key);
  guint i;
  GString *hex = g_string_new (NULL);

  {
    GHmac *h = g_hmac_new (G_CHECKSUM_SHA256, (const guchar *) k0,
        strlen (k0));
    g_hmac_update (h, (const guchar *) parts[0], -1);
    g_hmac_get_digest (h, key, &len);
    g_hmac_unref (h);
  }
  for (i = 1; i < G_N_ELEMENTS (parts); i++) {
    GHmac *h = g_hmac_new (G_CHECKSUM_SHA256, key, len);
    g_hmac_update (h, (const guchar *) parts[i], -1);
    len = sizeof (key);
    g_hmac_get_digest (h, key, &len);
    g_hmac_unref (h);
  }
  for (i = 0; i < len; i++)
    g_string_append_printf (hex, "%02x", key[i]);
  g_free (date);
  g_free (k0);
  return g_string_free (hex, FALSE);
}

/* A shared credentials file with the default profile */
static gchar *
credentials_file (const gchar * dir, const gchar * secret, const gchar * token)
{
  gchar *path = g_build_filename (dir, "credentials", NULL);
  gchar *text = g_strdup_printf ("[default]\naws_access_key_id = %s\n"
      "aws_secret_access_key = %s\naws_session_token = %s\n", AWS_KEY_ID,
      secret, token);

  fail_unless (g_file_set_contents (path, text, -1, NULL));
  g_free (text);
  return path;
}

/* The emulator; for s2snova with its HTTP/2 port, accepting @secret and
 * requiring @token (NULL: the defaults, no token) */
static ItEmu *
start_emu (const gchar * secret, const gchar * token)
{
  const gchar *args[] = { "--nova-port", "0", NULL, NULL, NULL, NULL, NULL };
  guint n = 2;

  if (!is_nova ())
    return it_emu_start (NULL);
  if (secret) {
    args[n++] = "--aws-secret-access-key";
    args[n++] = secret;
  }
  if (token) {
    args[n++] = "--aws-session-token";
    args[n++] = token;
  }
  return it_emu_start_full (NULL, FALSE, args);
}

static const gchar *
emu_url (ItEmu * emu)
{
  return is_nova ()? emu->nova_url : emu->url;
}

/* The turn was answered: the emulator's end-of-reply event (s2snova: it
 * sent audio) */
static void
assert_answered (ItEmu * emu)
{
  if (is_nova ()) {
    gchar *text = it_file_contents (emu->log_path);
    fail_unless (text && strstr (text, "\"audioOutput\"") != NULL,
        "the emulator sent no audio");
    g_free (text);
  } else {
    GPtrArray *log = it_emu_log (emu);
    fail_unless (it_log_find (log, 0, "server",
            it_provider ()->done_event) >= 0);
    g_ptr_array_unref (log);
  }
}

/* How long a child may run: its own bus wait is 20 s; a child still running
 * after this is stuck, and is reported with its threads' backtraces */
#define CHILD_LIMIT_S 40

typedef struct
{
  GMainLoop *loop;
  gchar *out;
  GError *err;
  gboolean done;
} Spawned;

static void
on_communicated (GObject * proc, GAsyncResult * res, gpointer data)
{
  Spawned *s = data;

  g_subprocess_communicate_utf8_finish (G_SUBPROCESS (proc), res, &s->out,
      NULL, &s->err);
  s->done = TRUE;
  g_main_loop_quit (s->loop);
}

static gboolean
on_child_limit (gpointer data)
{
  g_main_loop_quit (((Spawned *) data)->loop);
  return G_SOURCE_REMOVE;
}

/* Every thread's backtrace of the stuck process @pid (gdb, when present) */
static gchar *
backtraces (const gchar * pid)
{
  gchar *gdb = g_find_program_in_path ("gdb"), *out = NULL;
  const gchar *argv[] = { gdb, "-p", pid, "-batch", "-nx", "-ex",
    "thread apply all bt", NULL
  };

  if (gdb == NULL)
    return g_strdup ("(no gdb for backtraces)");
  if (!g_spawn_sync (NULL, (gchar **) argv, NULL, G_SPAWN_STDERR_TO_DEV_NULL,
          NULL, NULL, &out, NULL, NULL, NULL))
    out = g_strdup ("(gdb failed)");
  g_free (gdb);
  return out;
}

/* Runs @argv with @env (NULL-terminated name, value pairs) added; returns
 * its stdout+stderr; fails unless it exits with 0 within CHILD_LIMIT_S. A
 * child that hangs is reported with its backtraces and the tail of
 * @debug_log (may be NULL), then killed: a hang names where it hangs
 * instead of expiring the test's timeout */
static gchar *
spawn_logged (const gchar * const *argv, const gchar * const *env,
    const gchar * debug_log)
{
  GSubprocessLauncher *l = g_subprocess_launcher_new
      (G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_MERGE);
  GMainContext *ctx = g_main_context_new ();
  Spawned s = { g_main_loop_new (ctx, FALSE), NULL, NULL, FALSE };
  GSource *limit = g_timeout_source_new_seconds (CHILD_LIMIT_S);
  GSubprocess *proc;
  GError *err = NULL;
  guint i;

  for (i = 0; env && env[i]; i += 2)
    g_subprocess_launcher_setenv (l, env[i], env[i + 1], TRUE);
  proc = g_subprocess_launcher_spawnv (l, argv, &err);
  fail_unless (proc != NULL, "spawn %s: %s", argv[0], err ? err->message : "?");
  g_main_context_push_thread_default (ctx);
  g_subprocess_communicate_utf8_async (proc, NULL, NULL, on_communicated, &s);
  g_source_set_callback (limit, on_child_limit, &s, NULL);
  g_source_attach (limit, ctx);
  g_main_loop_run (s.loop);
  if (!s.done) {
    gchar *pid = g_strdup (g_subprocess_get_identifier (proc));
    gchar *bt = pid ? backtraces (pid) : g_strdup ("(exited)");
    gchar *log = debug_log ? it_file_contents (debug_log) : NULL;
    gsize len = log ? strlen (log) : 0;

    g_subprocess_force_exit (proc);
    /* the tail of a GST_DEBUG=*:9 log shows each thread's last steps */
    g_printerr ("%s (pid %s) still running after %d s; its threads:\n%s\n"
        "the last of its debug log:\n%s\n", argv[0], GST_STR_NULL (pid),
        CHILD_LIMIT_S, bt, log ? log + (len > 24000 ? len - 24000 : 0) :
        "(none)");
    fail ("%s still running after %d s (backtraces and log on stderr)",
        argv[0], CHILD_LIMIT_S);
  }
  g_source_destroy (limit);
  g_source_unref (limit);
  g_main_context_pop_thread_default (ctx);
  fail_unless (s.out != NULL, "%s: %s", argv[0], s.err ? s.err->message : "?");
  fail_unless (g_subprocess_wait (proc, NULL, NULL));
  fail_unless (g_subprocess_get_if_exited (proc) &&
      g_subprocess_get_exit_status (proc) == 0, "%s failed:\n%s", argv[0],
      s.out);
  g_main_loop_unref (s.loop);
  g_main_context_unref (ctx);
  g_object_unref (proc);
  g_object_unref (l);
  return s.out;
}

static gchar *
spawn (const gchar * const *argv, const gchar * const *env)
{
  return spawn_logged (argv, env, NULL);
}

/* The first second of q1, then EOS: a short turn */
static gchar *
short_wav (const gchar * dir)
{
  gchar *q1 = it_audio_path ("q1-weather-24k.wav");
  GBytes *pcm = it_wav_read_pcm (q1, RATE);
  gsize len;
  const guint8 *data = g_bytes_get_data (pcm, &len);
  gchar *path = it_wav_write (dir, "short.wav", data, MIN (len, RATE * 2),
      RATE);

  g_bytes_unref (pcm);
  g_free (q1);
  return path;
}

/* Lines of a GST_DEBUG log (no colour) that contain @needle, with the
 * category of each */
static guint
lines_with (const gchar * log, const gchar * needle, gboolean s2s_only,
    GString * report)
{
  gchar **lines = g_strsplit (log, "\n", -1);
  guint i, n = 0;

  for (i = 0; lines[i]; i++) {
    gchar **tok;
    const gchar *cat = "?";
    guint t, k = 0;

    if (!strstr (lines[i], needle))
      continue;
    /* time pid thread level category file:line:func:<obj> message */
    tok = g_strsplit_set (lines[i], " ", -1);
    for (t = 0; tok[t]; t++) {
      if (*tok[t] == '\0')
        continue;
      if (k++ == 4) {
        cat = tok[t];
        break;
      }
    }
    if (!s2s_only || g_str_has_prefix (cat, "s2s")) {
      n++;
      if (report)
        g_string_append_printf (report, "  [%s] %.200s\n", cat, lines[i]);
    }
    g_strfreev (tok);
  }
  g_strfreev (lines);
  return n;
}

/* ------------------------------------------------------------------------ */
/* 11. Secrets */

static void
check_child_run (const gchar * mode)
{
  gboolean wrong = g_str_equal (mode, "wrong");
  gchar *key = make_secret (), *token = is_nova ()? make_token () : NULL;
  /* a wrong secret: the emulator expects another one */
  gchar *emu_secret = wrong ? make_secret () : g_strdup (key);
  ItEmu *emu = start_emu (emu_secret, token);
  gchar *tmp = it_tmpdir_new ();
  gchar *wav = short_wav (tmp);
  gchar *dbg_path = g_build_filename (tmp, "debug.log", NULL);
  gchar *self_exe = g_file_read_link ("/proc/self/exe", NULL);
  gchar *cred = is_nova ()? credentials_file (tmp, key, token) : NULL;
  gchar *no_config = g_build_filename (tmp, "no-config", NULL);
  const gchar *argv[] = { self_exe, NULL };
  gboolean by_prop = g_str_equal (mode, "prop") || wrong;
  const gchar *env[] = {
    "S2S_IT_CHILD", mode,
    "S2S_IT_WAV", wav,
    "S2S_IT_URL", emu_url (emu),
    "S2S_IT_KEY", by_prop ? key : "",
    "S2S_IT_TOKEN", by_prop && token ? token : "",
    it_provider ()->key_env, g_str_equal (mode, "env") ? key : "",
    "AWS_ACCESS_KEY_ID", g_str_equal (mode, "env") ? AWS_KEY_ID : "",
    "AWS_SESSION_TOKEN", g_str_equal (mode, "env") && token ? token : "",
    "AWS_SHARED_CREDENTIALS_FILE", g_str_equal (mode, "file") ? cred :
        no_config,
    "AWS_CONFIG_FILE", no_config,
    "AWS_PROFILE", "",
    "GST_DEBUG", "*:9",
    "GST_DEBUG_NO_COLOR", "1",
    "GST_DEBUG_FILE", dbg_path,
    NULL
  };
  gchar *out, *dbg, *emu_log, *readback;
  GString *report = g_string_new (NULL);
  GDateTime *now = g_date_time_new_now_utc ();
  gchar *kdate = is_nova ()? signing_key_hex (key, now) : NULL;

  out = spawn_logged (argv, env, dbg_path);
  dbg = it_file_contents (dbg_path);
  fail_unless (dbg != NULL, "no debug log");
  g_printerr ("%s: child debug log %" G_GSIZE_FORMAT " bytes\n", mode,
      strlen (dbg));
  /* the log is real: the element logged its connection */
  fail_unless (strstr (dbg, connect_needle ()) != NULL);
  fail_unless (lines_with (dbg, key, FALSE, report) == 0,
      "the secret is in the GST_DEBUG=*:9 log (%s):\n%s", mode, report->str);
  fail_unless (strstr (out, key) == NULL, "the secret is in the output:\n%s",
      out);
  if (token) {
    fail_unless (lines_with (dbg, token, FALSE, report) == 0,
        "the session token is in the GST_DEBUG=*:9 log (%s):\n%s", mode,
        report->str);
    fail_unless (strstr (out, token) == NULL, "the token is in the output");
    /* nor what is derived from the secret */
    fail_unless (lines_with (dbg, kdate, FALSE, report) == 0,
        "the signing key is in the log (%s):\n%s", mode, report->str);
    fail_unless (lines_with (dbg, "Signature=", FALSE, report) == 0,
        "the request signature is in the log (%s):\n%s", mode, report->str);
    fail_unless (strstr (dbg, "AWS4-HMAC-SHA256 Credential") == NULL);
  }
  if (wrong) {
    fail_unless (strstr (out, emu_secret) == NULL);
    fail_unless (lines_with (dbg, emu_secret, FALSE, report) == 0);
    fail_unless (strstr (out, "InvalidSignatureException") != NULL,
        "not refused for its signature:\n%s", out);
  }
  /* set: it reads back masked; otherwise the property is unset */
  readback = g_strdup_printf ("%s reads back as: %s\n", key_prop (), by_prop ?
      "*****" : "(NULL)");
  fail_unless (strstr (out, readback) != NULL,
      "%s must read back masked: %s", key_prop (), out);
  g_free (readback);
  if (token)
    fail_unless (strstr (out, by_prop ? "session-token reads back as: *****\n"
            : "session-token reads back as: (NULL)\n") != NULL, "%s", out);
  /* it did authenticate with it, and the emulator's log has it redacted */
  if (!wrong)
    assert_answered (emu);
  emu_log = it_file_contents (emu->log_path);
  fail_unless (strstr (emu_log, key) == NULL, "the emulator logged the key");
  fail_unless (token == NULL || strstr (emu_log, token) == NULL,
      "the emulator logged the token");

  g_date_time_unref (now);
  g_free (kdate);
  g_string_free (report, TRUE);
  g_free (self_exe);
  g_free (emu_log);
  g_free (out);
  g_free (dbg);
  g_free (dbg_path);
  g_free (key);
  g_free (token);
  g_free (emu_secret);
  g_free (cred);
  g_free (no_config);
  g_free (wav);
  it_tmpdir_remove (tmp);
  g_free (tmp);
  it_emu_stop (emu);
}

GST_START_TEST (test_secret_property)
{
  check_child_run ("prop");
}

GST_END_TEST;

GST_START_TEST (test_secret_env)
{
  check_child_run ("env");
}

GST_END_TEST;

/* s2snova: the shared credentials file */
GST_START_TEST (test_secret_file)
{
  check_child_run ("file");
}

GST_END_TEST;

/* s2snova: a wrong secret; the error reaches the app without either
 * secret */
GST_START_TEST (test_secret_wrong)
{
  check_child_run ("wrong");
}

GST_END_TEST;

/* gst-launch-1.0 with the secret on its command line (@file FALSE), or
 * (s2snova) with the credentials in a shared credentials file (@file
 * TRUE). GStreamer core's parser logs each property assignment of the
 * command line at GST_DEBUG=*:9 (gst_parse_launch, category GST_PIPELINE):
 * that is reported, not hidden; no line of our own categories may carry
 * the secret. From the file nothing goes through the parser: then no line
 * at all may carry it. */
static void
check_gst_launch (gboolean file)
{
  gchar *key = make_secret (), *token = is_nova ()? make_token () : NULL;
  ItEmu *emu = start_emu (key, token);
  gchar *tmp = it_tmpdir_new ();
  gchar *wav = short_wav (tmp);
  gchar *dbg_path = g_build_filename (tmp, "debug.log", NULL);
  gchar *cred = is_nova ()? credentials_file (tmp, key, token) : NULL;
  gchar *no_config = g_build_filename (tmp, "no-config", NULL);
  gchar *loc = g_strdup_printf ("location=%s", wav);
  gchar *url = g_strdup_printf ("url=%s", emu_url (emu));
  gchar *api = g_strdup_printf ("%s=%s", key_prop (), key);
  gchar *tok = token ? g_strdup_printf ("session-token=%s", token) : NULL;
  GPtrArray *argv = g_ptr_array_new ();
  const gchar *env[] = {
    "GST_DEBUG", "*:9",
    "GST_DEBUG_NO_COLOR", "1",
    "GST_DEBUG_FILE", dbg_path,
    "AWS_SHARED_CREDENTIALS_FILE", file ? cred : no_config,
    "AWS_CONFIG_FILE", no_config,
    "AWS_PROFILE", "",
    "AWS_ACCESS_KEY_ID", "",
    "AWS_SECRET_ACCESS_KEY", "",
    NULL
  };
  const gchar *base[] = { "gst-launch-1.0", "filesrc", loc, "!", "wavparse",
    "!", "audioresample", "!", it_provider ()->element, url, NULL
  };
  gchar *out, *dbg;
  GString *ours = g_string_new (NULL), *core = g_string_new (NULL);
  guint n_ours, n_all, i;

  for (i = 0; base[i]; i++)
    g_ptr_array_add (argv, (gpointer) base[i]);
  if (is_nova ()) {
    g_ptr_array_add (argv, (gpointer) "region=" AWS_REGION);
    g_ptr_array_add (argv, (gpointer) "silence-duration=1500");
  }
  if (!file) {
    if (is_nova ())
      g_ptr_array_add (argv, (gpointer) "access-key-id=" AWS_KEY_ID);
    g_ptr_array_add (argv, api);
    if (tok)
      g_ptr_array_add (argv, tok);
  }
  g_ptr_array_add (argv, (gpointer) "!");
  g_ptr_array_add (argv, (gpointer) "fakesink");
  g_ptr_array_add (argv, NULL);

  out = spawn_logged ((const gchar * const *) argv->pdata, env, dbg_path);
  dbg = it_file_contents (dbg_path);
  fail_unless (dbg != NULL && strstr (dbg, connect_needle ()));
  n_ours = lines_with (dbg, key, TRUE, ours);
  n_all = lines_with (dbg, key, FALSE, core);
  if (token) {
    n_ours += lines_with (dbg, token, TRUE, ours);
    n_all += lines_with (dbg, token, FALSE, core);
  }
  if (n_all > 0)
    g_printerr ("NOTE (GStreamer core behaviour): gst-launch-1.0 at "
        "GST_DEBUG=*:9 logs the secret given on its command line in %u "
        "line(s), none from the s2s categories:\n%s", n_all, core->str);
  fail_unless (n_ours == 0, "s2s categories logged the secret:\n%s", ours->str);
  if (file)
    fail_unless (n_all == 0, "the secret from the credentials file is in "
        "the log:\n%s", core->str);
  /* gst-launch prints nothing of it on stdout/stderr */
  fail_unless (strstr (out, key) == NULL, "gst-launch output has the key");
  fail_unless (token == NULL || strstr (out, token) == NULL);
  if (is_nova ())
    assert_answered (emu);

  g_ptr_array_unref (argv);
  g_string_free (ours, TRUE);
  g_string_free (core, TRUE);
  g_free (out);
  g_free (dbg);
  g_free (loc);
  g_free (url);
  g_free (api);
  g_free (tok);
  g_free (cred);
  g_free (no_config);
  g_free (dbg_path);
  g_free (key);
  g_free (token);
  g_free (wav);
  it_tmpdir_remove (tmp);
  g_free (tmp);
  it_emu_stop (emu);
}

GST_START_TEST (test_secret_gst_launch)
{
  check_gst_launch (FALSE);
}

GST_END_TEST;

GST_START_TEST (test_secret_gst_launch_file)
{
  check_gst_launch (TRUE);
}

GST_END_TEST;

GST_START_TEST (test_secret_gst_inspect)
{
  gchar *key = make_secret (), *token = make_token ();
  const gchar *argv[] = { "gst-inspect-1.0", it_provider ()->element, NULL };
  const gchar *env[] = { it_provider ()->key_env, key,
    "AWS_SESSION_TOKEN", token, NULL
  };
  gchar *out = spawn (argv, env);

  fail_unless (strstr (out, key_prop ()) != NULL);
  fail_unless (strstr (out, key) == NULL, "gst-inspect shows the key");
  fail_unless (strstr (out, token) == NULL, "gst-inspect shows the token");
  g_free (out);
  g_free (key);
  g_free (token);
}

GST_END_TEST;

/* ------------------------------------------------------------------------ */
/* 12. Documentation */

GST_START_TEST (test_properties_documented)
{
  GstElement *el = gst_element_factory_make (it_provider ()->element, NULL);
  const gchar *argv[] = { "gst-inspect-1.0", it_provider ()->element, NULL };
  GParamSpec **specs;
  guint n, i, ours = 0;
  gchar *out;

  fail_unless (el != NULL, "no %s", it_provider ()->element);
  out = spawn (argv, NULL);
  specs = g_object_class_list_properties (G_OBJECT_GET_CLASS (el), &n);
  for (i = 0; i < n; i++) {
    const gchar *blurb = g_param_spec_get_blurb (specs[i]);
    /* GstObject's own name/parent are documented by core */
    if (specs[i]->owner_type == GST_TYPE_OBJECT)
      continue;
    ours++;
    fail_unless (blurb != NULL && *blurb != '\0' &&
        g_strcmp0 (blurb, g_param_spec_get_nick (specs[i])) != 0,
        "property %s has no description", specs[i]->name);
    /* gst-inspect lists it with that description */
    fail_unless (strstr (out, specs[i]->name) != NULL,
        "gst-inspect does not list %s", specs[i]->name);
    fail_unless (strstr (out, blurb) != NULL,
        "gst-inspect does not show the description of %s", specs[i]->name);
  }
  fail_unless (ours >= 20, "only %u properties", ours);
  /* the element documents the contract's action signals too */
  fail_unless (strstr (out, "tool-result") && strstr (out, "send-text") &&
      strstr (out, "interrupt") && strstr (out, "commit"));
  g_free (specs);
  g_free (out);
  gst_object_unref (el);
}

GST_END_TEST;

/* Replaces the one argument starting with @prefix by @replacement */
static void
substitute (GPtrArray * args, const gchar * prefix, const gchar * replacement)
{
  guint i, found = 0;

  for (i = 0; i < args->len; i++) {
    gchar *a = g_ptr_array_index (args, i);
    if (a && g_str_has_prefix (a, prefix)) {
      g_free (a);
      g_ptr_array_index (args, i) = g_strdup (replacement);
      found++;
    }
  }
  fail_unless_equals_int (found, 1);
}

/* A gst-launch-1.0 block in the element's section of docs/elements.md, if
 * there is one, is the documented line the test runs */
static void
check_elements_md (const gchar * cmd)
{
  gchar *path = g_build_filename (it_env ("S2S_SOURCE_ROOT"), "docs",
      "elements.md", NULL);
  gchar *md = it_file_contents (path);
  gchar *head = g_strdup_printf ("\n## %s\n", it_provider ()->element);
  const gchar *sec, *next, *start, *end;
  gchar **lines, *block;
  GString *joined = g_string_new (NULL);
  guint i;

  fail_unless (md != NULL);
  sec = strstr (md, head);
  fail_unless (sec != NULL, "no %s section in elements.md", head);
  next = strstr (sec + 1, "\n## ");
  start = strstr (sec, "gst-launch-1.0 ");
  if (start == NULL || (next && start > next))
    goto out;
  end = strstr (start, "\n```");
  fail_unless (end != NULL);
  block = g_strndup (start, end - start);
  lines = g_strsplit (block, "\n", -1);
  for (i = 0; lines[i]; i++) {
    gchar *l = g_strstrip (lines[i]);
    if (g_str_has_suffix (l, "\\"))
      l[strlen (l) - 1] = '\0';
    g_string_append_printf (joined, "%s ", g_strstrip (l));
  }
  {
    /* the same words (the joins differ in spaces) */
    gchar **a = g_strsplit_set (joined->str, " ", -1);
    gchar **b = g_strsplit_set (cmd, " ", -1);
    GString *wa = g_string_new (NULL), *wb = g_string_new (NULL);
    guint k;

    for (k = 0; a[k]; k++)
      if (*a[k])
        g_string_append_printf (wa, "%s ", a[k]);
    for (k = 0; b[k]; k++)
      if (*b[k])
        g_string_append_printf (wb, "%s ", b[k]);
    fail_unless_equals_string (wa->str, wb->str);
    g_string_free (wa, TRUE);
    g_string_free (wb, TRUE);
    g_strfreev (a);
    g_strfreev (b);
  }
  g_strfreev (lines);
  g_free (block);
out:
  g_string_free (joined, TRUE);
  g_free (head);
  g_free (md);
  g_free (path);
}

GST_START_TEST (test_doc_launch_line)
{
  gchar *src_path = g_build_filename (it_env ("S2S_SOURCE_ROOT"), "ext",
      "s2s", it_provider ()->source, NULL);
  gchar *src = it_file_contents (src_path);
  const gchar *start, *end;
  gchar *block, **lines, *cmd, **argv = NULL;
  GString *joined = g_string_new (NULL);
  GPtrArray *args = g_ptr_array_new_with_free_func (g_free);
  ItEmu *emu;
  gchar *tmp, *q1, *reply, *s, *out;
  GBytes *pcm;
  guint i;
  gsize len;

  fail_unless (src != NULL, "cannot read %s", src_path);
  start = strstr (src, "## Example launch line");
  fail_unless (start != NULL, "no example launch line in the doc block");
  start = strstr (start, "|[");
  fail_unless (start != NULL);
  start += 2;
  end = strstr (start, "]|");
  fail_unless (end != NULL);
  block = g_strndup (start, end - start);

  /* " * text \" continuation lines -> one command line */
  lines = g_strsplit (block, "\n", -1);
  for (i = 0; lines[i]; i++) {
    gchar *l = g_strstrip (lines[i]);
    if (*l == '*')
      l = g_strstrip (l + 1);
    if (g_str_has_suffix (l, "\\"))
      l[strlen (l) - 1] = '\0';
    g_string_append_printf (joined, "%s ", l);
  }
  cmd = g_strstrip (joined->str);
  GST_INFO ("documented: %s", cmd);
  fail_unless (g_shell_parse_argv (cmd, NULL, &argv, NULL));
  fail_unless_equals_string (argv[0], "gst-launch-1.0");
  for (i = 0; argv[i]; i++)
    g_ptr_array_add (args, g_strdup (argv[i]));

  /* s2snova: the documented secret is the emulator's default */
  emu = start_emu (NULL, NULL);
  tmp = it_tmpdir_new ();
  /* the documented question is at 24 kHz, or 16 kHz where the element
   * takes that natively */
  q1 = it_audio_path (strstr (cmd, "question-16k.wav") ?
      "q1-weather-16k.wav" : "q1-weather-24k.wav");
  reply = g_build_filename (tmp, "reply.wav", NULL);
  s = g_strdup_printf ("location=%s", q1);
  substitute (args, "location=question-", s);
  g_free (s);
  s = g_strdup_printf ("location=%s", reply);
  substitute (args, "location=reply.wav", s);
  g_free (s);
  s = g_strdup_printf ("url=%s", emu_url (emu));
  substitute (args, is_nova ()? "url=http://127.0.0.1:" :
      "url=ws://127.0.0.1:", s);
  g_free (s);
  g_ptr_array_add (args, NULL);

  out = spawn ((const gchar * const *) args->pdata, NULL);
  fail_unless (strstr (out, "s2s-transcript") != NULL,
      "no transcripts printed:\n%s", out);
  pcm = it_wav_read_pcm (reply, RATE);
  g_bytes_get_data (pcm, &len);
  fail_unless (len >= RATE * 2, "reply.wav has %" G_GSIZE_FORMAT " bytes", len);
  assert_answered (emu);
  check_elements_md (cmd);

  g_bytes_unref (pcm);
  g_free (out);
  g_free (reply);
  g_free (q1);
  it_tmpdir_remove (tmp);
  g_free (tmp);
  it_emu_stop (emu);
  g_ptr_array_unref (args);
  g_strfreev (argv);
  g_strfreev (lines);
  g_free (block);
  g_string_free (joined, TRUE);
  g_free (src);
  g_free (src_path);
}

GST_END_TEST;

static Suite *
s2s_secrets_docs_suite (void)
{
  Suite *s = suite_create ("s2s-integration-secrets-docs");
  TCase *tc = tcase_create ("secrets-docs");

  suite_add_tcase (s, tc);
  tcase_set_timeout (tc, 60);
  tcase_add_test (tc, test_secret_property);
  tcase_add_test (tc, test_secret_env);
  tcase_add_test (tc, test_secret_gst_launch);
  tcase_add_test (tc, test_secret_gst_inspect);
  if (is_nova ()) {
    tcase_add_test (tc, test_secret_file);
    tcase_add_test (tc, test_secret_wrong);
    tcase_add_test (tc, test_secret_gst_launch_file);
  }
  tcase_add_test (tc, test_properties_documented);
  tcase_add_test (tc, test_doc_launch_line);
  return s;
}

int
main (int argc, char **argv)
{
  if (g_getenv ("S2S_IT_CHILD"))
    return child_main (argc, argv);
  gst_check_init (&argc, &argv);
  return gst_check_run_suite (s2s_secrets_docs_suite (), "s2s_secrets_docs",
      __FILE__);
}
