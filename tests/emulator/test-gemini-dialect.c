/* Tests of the s2s-emulator Gemini Live dialect, over a raw libsoup
 * WebSocket client (no element involved).
 * Copyright (C) 2026 gst-s2s contributors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Usage: test-gemini-dialect <path-to-s2s-emulator>
 * (or S2S_EMULATOR in the environment).  Checks what README.md promises:
 * setup validation and close reasons, binary frames, the echo converted to
 * 24 kHz, transcripts, resumption keeping the conversation, goAway and the
 * close after it, barge-in, tool calls.
 */

#include <math.h>
#include <signal.h>
#include <string.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif
#include <glib/gstdio.h>
#include <libsoup/soup.h>
#include <json-glib/json-glib.h>

#define PATH "/ws/google.ai.generativelanguage.v1beta.GenerativeService." \
  "BidiGenerateContent"
#define MODEL "models/gemini-2.5-flash-native-audio-preview-12-2025"
#define KEY "test-key-123"

static const char *emulator_path;

/* ------------------------------------------------------------------------ */
/* Emulator process */

typedef struct
{
  GSubprocess *proc;
  char *dir;
  char *log;
  char *url;
} Emu;

/* A failed assertion must not leave the emulator running (and meson
 * waiting on its stderr). */
static void
child_setup (gpointer data)
{
#ifdef __linux__
  prctl (PR_SET_PDEATHSIG, SIGTERM);
#endif
}

static Emu *
emu_start (const char *script, const char *const *extra)
{
  Emu *e = g_new0 (Emu, 1);
  GPtrArray *argv = g_ptr_array_new ();
  GError *err = NULL;
  GDataInputStream *out;
  guint i;

  e->dir = g_dir_make_tmp ("gemini-dialect-XXXXXX", &err);
  g_assert_no_error (err);
  e->log = g_build_filename (e->dir, "emu.log", NULL);
  g_ptr_array_add (argv, (gpointer) emulator_path);
  g_ptr_array_add (argv, (gpointer) "--log");
  g_ptr_array_add (argv, e->log);
  g_ptr_array_add (argv, (gpointer) "--api-key");
  g_ptr_array_add (argv, (gpointer) KEY);
  if (script) {
    char *sp = g_build_filename (e->dir, "script.json", NULL);
    g_assert_true (g_file_set_contents (sp, script, -1, NULL));
    g_ptr_array_add (argv, (gpointer) "--script");
    g_ptr_array_add (argv, sp);
  }
  for (i = 0; extra && extra[i]; i++)
    g_ptr_array_add (argv, (gpointer) extra[i]);
  g_ptr_array_add (argv, NULL);
  {
    GSubprocessLauncher *l =
        g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE);
    g_subprocess_launcher_set_child_setup (l, child_setup, NULL, NULL);
    e->proc = g_subprocess_launcher_spawnv (l,
        (const char *const *) argv->pdata, &err);
    g_object_unref (l);
  }
  g_assert_no_error (err);
  g_ptr_array_free (argv, TRUE);
  out = g_data_input_stream_new (g_subprocess_get_stdout_pipe (e->proc));
  e->url = g_data_input_stream_read_line (out, NULL, NULL, &err);
  g_assert_no_error (err);
  g_assert_nonnull (e->url);
  g_assert_true (g_str_has_prefix (e->url, "ws://127.0.0.1:"));
  g_object_unref (out);
  return e;
}

static void
emu_stop (Emu * e)
{
  GDir *d;
  const char *n;

  g_subprocess_send_signal (e->proc, SIGTERM);
  g_subprocess_wait (e->proc, NULL, NULL);
  g_assert_true (g_subprocess_get_if_exited (e->proc));
  g_assert_cmpint (g_subprocess_get_exit_status (e->proc), ==, 0);
  g_object_unref (e->proc);
  d = g_dir_open (e->dir, 0, NULL);
  while (d && (n = g_dir_read_name (d))) {
    char *p = g_build_filename (e->dir, n, NULL);
    g_unlink (p);
    g_free (p);
  }
  if (d)
    g_dir_close (d);
  g_rmdir (e->dir);
  g_free (e->dir);
  g_free (e->log);
  g_free (e->url);
  g_free (e);
}

static char *
emu_log_text (Emu * e)
{
  char *s = NULL;
  g_assert_true (g_file_get_contents (e->log, &s, NULL, NULL));
  return s;
}

static GBytes *
emu_raw (Emu * e, guint conn)
{
  char *p = g_strdup_printf ("%s.conn%u.in.raw", e->log, conn);
  char *s = NULL;
  gsize len = 0;

  if (!g_file_get_contents (p, &s, &len, NULL))
    s = NULL;
  g_free (p);
  return s ? g_bytes_new_take (s, len) : g_bytes_new (NULL, 0);
}

/* ------------------------------------------------------------------------ */
/* Client */

typedef struct
{
  SoupSession *session;
  SoupWebsocketConnection *ws;
  GPtrArray *msgs;              /* JsonObject*, every server message */
  guint cursor;
  gboolean closed;
  gushort close_code;
  char *close_reason;
  guint text_frames;
  gboolean done;
  GError *error;
} Cl;

static void
on_message (SoupWebsocketConnection * ws, gint type, GBytes * data, Cl * c)
{
  JsonParser *p = json_parser_new ();
  gsize len;
  const char *d = g_bytes_get_data (data, &len);

  if (type != SOUP_WEBSOCKET_DATA_BINARY)
    c->text_frames++;
  g_assert_true (json_parser_load_from_data (p, d, len, NULL));
  g_assert_true (JSON_NODE_HOLDS_OBJECT (json_parser_get_root (p)));
  g_ptr_array_add (c->msgs,
      json_object_ref (json_node_get_object (json_parser_get_root (p))));
  g_object_unref (p);
}

static void
on_closed (SoupWebsocketConnection * ws, Cl * c)
{
  c->closed = TRUE;
  c->close_code = soup_websocket_connection_get_close_code (ws);
  c->close_reason = g_strdup (soup_websocket_connection_get_close_data (ws));
}

static void
connected_cb (GObject * src, GAsyncResult * res, gpointer data)
{
  Cl *c = data;

  c->ws = soup_session_websocket_connect_finish (SOUP_SESSION (src), res,
      &c->error);
  c->done = TRUE;
}

static void
iterate_until (gboolean * flag, guint timeout_ms)
{
  gint64 end = g_get_monotonic_time () + (gint64) timeout_ms * 1000;

  while (!*flag && g_get_monotonic_time () < end)
    if (!g_main_context_iteration (NULL, FALSE))
      g_usleep (1000);
}

static Cl *
cl_connect_auth (Emu * e, const char *path_query, const char *header,
    const char *value)
{
  Cl *c = g_new0 (Cl, 1);
  char *url = g_strconcat (e->url, path_query, NULL);
  SoupMessage *msg = soup_message_new ("GET", url);

  c->session = soup_session_new ();
  c->msgs = g_ptr_array_new_with_free_func ((GDestroyNotify)
      json_object_unref);
  if (value)
    soup_message_headers_append (soup_message_get_request_headers (msg),
        header, value);
  soup_session_websocket_connect_async (c->session, msg, NULL, NULL,
      G_PRIORITY_DEFAULT, NULL, connected_cb, c);
  iterate_until (&c->done, 5000);
  g_assert_true (c->done);
  g_assert_no_error (c->error);
  soup_websocket_connection_set_max_incoming_payload_size (c->ws, 16 << 20);
  g_signal_connect (c->ws, "message", G_CALLBACK (on_message), c);
  g_signal_connect (c->ws, "closed", G_CALLBACK (on_closed), c);
  g_object_unref (msg);
  g_free (url);
  return c;
}

#define cl_connect_full(e, p, key) \
  cl_connect_auth ((e), (p), "x-goog-api-key", (key))
#define cl_connect(e) cl_connect_full ((e), PATH, KEY)

static void
cl_free (Cl * c)
{
  if (!c->closed
      && soup_websocket_connection_get_state (c->ws) ==
      SOUP_WEBSOCKET_STATE_OPEN) {
    soup_websocket_connection_close (c->ws, 1000, NULL);
    iterate_until (&c->closed, 2000);
  }
  g_object_unref (c->ws);
  g_object_unref (c->session);
  g_ptr_array_unref (c->msgs);
  g_free (c->close_reason);
  g_free (c);
}

static void
cl_send (Cl * c, const char *json)
{
  soup_websocket_connection_send_text (c->ws, json);
}

/* Same naming as the emulator's event_type: top-level field, and for
 * serverContent its first field. */
static char *
msg_type (JsonObject * m)
{
  GList *l = json_object_get_members (m);
  char *res;

  if (g_str_equal (l->data, "serverContent")) {
    JsonObject *sc = json_object_get_object_member (m, "serverContent");
    GList *s = json_object_get_members (sc);
    res = g_strdup_printf ("serverContent.%s", (char *) s->data);
    g_list_free (s);
  } else {
    res = g_strdup (l->data);
  }
  g_list_free (l);
  return res;
}

/* Next message from the cursor on whose type is @type; NULL on timeout or
 * close.  Messages skipped stay in c->msgs. */
static JsonObject *
cl_wait (Cl * c, const char *type, guint timeout_ms)
{
  gint64 end = g_get_monotonic_time () + (gint64) timeout_ms * 1000;

  for (;;) {
    while (c->cursor < c->msgs->len) {
      JsonObject *m = g_ptr_array_index (c->msgs, c->cursor++);
      char *t = msg_type (m);
      gboolean hit = g_str_equal (t, type);
      g_free (t);
      if (hit)
        return m;
    }
    if (c->closed || g_get_monotonic_time () >= end)
      return NULL;
    if (!g_main_context_iteration (NULL, FALSE))
      g_usleep (1000);
  }
}

static void
cl_wait_close (Cl * c, guint timeout_ms)
{
  iterate_until (&c->closed, timeout_ms);
  g_assert_true (c->closed);
}

static void
cl_setup (Cl * c, const char *extra)
{
  char *s = g_strdup_printf ("{\"setup\":{\"model\":\"" MODEL "\","
      "\"generationConfig\":{\"responseModalities\":[\"AUDIO\"],"
      "\"speechConfig\":{\"voiceConfig\":{\"prebuiltVoiceConfig\":"
      "{\"voiceName\":\"Puck\"}}}},"
      "\"systemInstruction\":{\"parts\":[{\"text\":\"Be brief.\"}]},"
      "\"inputAudioTranscription\":{},\"outputAudioTranscription\":{}%s%s}}",
      extra ? "," : "", extra ? extra : "");
  cl_send (c, s);
  g_free (s);
  g_assert_nonnull (cl_wait (c, "setupComplete", 5000));
}

/* 16 kHz S16 audio: @pre ms silence, @tone ms of 440 Hz at 8000, @post ms
 * silence. */
static GArray *
tone_audio (guint pre, guint tone, guint post)
{
  GArray *a = g_array_new (FALSE, TRUE, sizeof (gint16));
  guint i, n = (pre + tone + post) * 16;

  g_array_set_size (a, n);
  for (i = pre * 16; i < (pre + tone) * 16; i++)
    g_array_index (a, gint16, i) = (gint16) lrint (8000 * sin (2 * G_PI *
            440 * (i - pre * 16) / 16000.0));
  return a;
}

/* Sends @a as realtimeInput audio in 100 ms messages. */
static void
cl_send_audio (Cl * c, GArray * a)
{
  guint off;

  for (off = 0; off < a->len; off += 1600) {
    guint n = MIN (1600, a->len - off);
    char *b64 = g_base64_encode ((guchar *) & g_array_index (a, gint16, off),
        n * 2);
    char *m = g_strdup_printf ("{\"realtimeInput\":{\"audio\":{\"mimeType\":"
        "\"audio/pcm;rate=16000\",\"data\":\"%s\"}}}", b64);
    cl_send (c, m);
    g_free (m);
    g_free (b64);
  }
}

static const char *
sc_string (JsonObject * m, const char *field, const char *sub)
{
  JsonObject *sc = json_object_get_object_member (m, "serverContent");
  return json_object_get_string_member (json_object_get_object_member (sc,
          field), sub);
}

/* Concatenated transcription fragments of @field received so far. */
static char *
transcript (Cl * c, const char *field, guint from, guint to)
{
  GString *s = g_string_new (NULL);
  char *type = g_strdup_printf ("serverContent.%s", field);
  guint i;

  for (i = from; i < to && i < c->msgs->len; i++) {
    JsonObject *m = g_ptr_array_index (c->msgs, i);
    char *t = msg_type (m);
    if (g_str_equal (t, type))
      g_string_append (s, sc_string (m, field, "text"));
    g_free (t);
  }
  g_free (type);
  return g_string_free (s, FALSE);
}

/* Audio of the modelTurn messages in [from, to), 24 kHz samples. */
static GArray *
reply_audio (Cl * c, guint from, guint to)
{
  GArray *a = g_array_new (FALSE, FALSE, sizeof (gint16));
  guint i;

  for (i = from; i < to && i < c->msgs->len; i++) {
    JsonObject *m = g_ptr_array_index (c->msgs, i);
    JsonObject *sc, *part, *blob;
    guchar *d;
    gsize len;

    if (!json_object_has_member (m, "serverContent"))
      continue;
    sc = json_object_get_object_member (m, "serverContent");
    if (!json_object_has_member (sc, "modelTurn"))
      continue;
    part = json_array_get_object_element (json_object_get_array_member
        (json_object_get_object_member (sc, "modelTurn"), "parts"), 0);
    blob = json_object_get_object_member (part, "inlineData");
    g_assert_cmpstr (json_object_get_string_member (blob, "mimeType"), ==,
        "audio/pcm;rate=24000");
    d = g_base64_decode (json_object_get_string_member (blob, "data"), &len);
    g_assert_cmpuint (len % 2, ==, 0);
    g_array_append_vals (a, d, len / 2);
    g_free (d);
  }
  return a;
}

/* The documented 2:3 conversion, written out independently. */
static GArray *
expected_24k (const gint16 * x, gsize n)
{
  GArray *a = g_array_new (FALSE, FALSE, sizeof (gint16));
  gsize k;

  for (k = 0; 3 * k < n * 3 / 2; k++) {
    gint x0 = x[2 * k], x1 = x[MIN (2 * k + 1, n - 1)],
        x2 = x[MIN (2 * k + 2, n - 1)];
    gint16 v[3];
    guint j;

    v[0] = x0;
    v[1] = (gint16) lrint (floor ((x0 + 2.0 * x1) / 3.0 + 0.5));
    v[2] = (gint16) lrint (floor ((2.0 * x1 + x2) / 3.0 + 0.5));
    for (j = 0; j < 3 && 3 * k + j < n * 3 / 2; j++)
      g_array_append_val (a, v[j]);
  }
  return a;
}

static const char *
handle_of (JsonObject * m)
{
  JsonObject *u = json_object_get_object_member (m, "sessionResumptionUpdate");
  return json_object_has_member (u, "newHandle") ?
      json_object_get_string_member (u, "newHandle") : NULL;
}

/* ------------------------------------------------------------------------ */
/* Tests */

/* Sends @first on @c (then freed) and expects the server to close with
 * @code and a reason that contains @reason_part (NULL: any). */
static void
expect_close (Cl * c, const char *first, gushort code, const char *reason_part)
{
  if (first)
    cl_send (c, first);
  cl_wait_close (c, 5000);
  g_assert_cmpuint (c->close_code, ==, code);
  g_assert_nonnull (c->close_reason);
  if (reason_part && !strstr (c->close_reason, reason_part))
    g_error ("close reason '%s' lacks '%s'", c->close_reason, reason_part);
  g_assert_cmpuint (strlen (c->close_reason), <=, 123);
  cl_free (c);
}

static void
expect_close_after (Emu * e, const char *path, const char *key,
    const char *first, gushort code, const char *reason_part)
{
  expect_close (cl_connect_full (e, path, key), first, code, reason_part);
}

#define SETUP_PREFIX "{\"setup\":{\"model\":\"" MODEL "\""

static void
test_setup_validation (void)
{
  Emu *e = emu_start (NULL, NULL);
  char *log;

  expect_close_after (e, PATH, KEY, SETUP_PREFIX ",\"bogus\":1}}", 1007,
      "Unknown name \"bogus\" at 'setup'");
  expect_close_after (e, PATH, KEY, SETUP_PREFIX ",\"generationConfig\":"
      "{\"response_modalities\":[\"TEXT\"]}}}", 1007,
      "Cannot extract voices from a non-audio request.");
  expect_close_after (e, PATH, KEY, SETUP_PREFIX ",\"generationConfig\":"
      "{\"speechConfig\":{\"voiceConfig\":{\"prebuiltVoiceConfig\":"
      "{\"voiceName\":\"Nobody\"}}}}}}", 1007,
      "Request contains an invalid argument.");
  expect_close_after (e, PATH, KEY, SETUP_PREFIX ",\"generationConfig\":"
      "{\"temprature\":1}}}", 1007, "Unknown name \"temprature\" at "
      "'setup.generation_config'");
  expect_close_after (e, PATH, KEY, SETUP_PREFIX ",\"realtimeInputConfig\":"
      "{\"automaticActivityDetection\":{\"startOfSpeechSensitivity\":"
      "\"LOUD\"}}}}", 1007, "Invalid value at 'setup.realtime_input_config."
      "automatic_activity_detection.start_of_speech_s");
  expect_close_after (e, PATH, KEY, SETUP_PREFIX ",\"tools\":[{"
      "\"functionDeclarations\":[{\"name\":\"9bad\"}]}]}}", 1007,
      "Invalid function name");
  expect_close_after (e, PATH, KEY,
      "{\"setup\":{\"model\":\"models/gpt-4o\"}}", 1008,
      "models/gpt-4o is not found for API version v1beta");
  /* nothing before setup */
  expect_close_after (e, PATH, KEY, "{\"realtimeInput\":{\"audioStreamEnd\":"
      "true}}", 1007, "Request contains an invalid argument.");
  expect_close_after (e, PATH, KEY, "{\"config\":{}}", 1007,
      "Unknown name \"config\": Cannot find field.");
  expect_close_after (e, PATH, KEY, "not json", 1007,
      "Invalid JSON payload received.");
  /* credentials: wrong key, no key, key as ?key= */
  expect_close_after (e, PATH, "wrong-key", SETUP_PREFIX "}}", 1007,
      "API key not valid. Please pass a valid API key.");
  expect_close_after (e, PATH, NULL, SETUP_PREFIX "}}", 1008,
      "Method doesn't allow unregistered callers");
  {
    Cl *c = cl_connect_full (e, PATH "?key=" KEY, NULL);
    cl_setup (c, "\"realtimeInputConfig\":{\"automaticActivityDetection\":"
        "{\"disabled\":false,\"startOfSpeechSensitivity\":"
        "\"START_SENSITIVITY_LOW\",\"endOfSpeechSensitivity\":"
        "\"END_SENSITIVITY_LOW\",\"prefixPaddingMs\":20,"
        "\"silenceDurationMs\":100},\"activityHandling\":"
        "\"START_OF_ACTIVITY_INTERRUPTS\",\"turnCoverage\":"
        "\"TURN_INCLUDES_ONLY_ACTIVITY\"},\"tools\":[{\"functionDeclarations\":"
        "[{\"name\":\"get_weather\",\"description\":\"d\",\"parameters\":"
        "{\"type\":\"OBJECT\",\"properties\":{\"city\":{\"type\":\"STRING\"}},"
        "\"required\":[\"city\"]},\"behavior\":\"NON_BLOCKING\"}]},"
        "{\"googleSearch\":{}}],\"sessionResumption\":{},"
        "\"contextWindowCompression\":{\"triggerTokens\":\"25600\","
        "\"slidingWindow\":{\"targetTokens\":12800}}");
    g_assert_cmpuint (c->text_frames, ==, 0);
    /* a second setup is refused */
    cl_send (c, SETUP_PREFIX "}}");
    cl_wait_close (c, 5000);
    g_assert_cmpuint (c->close_code, ==, 1007);
    cl_free (c);
  }
  log = emu_log_text (e);
  g_assert_null (strstr (log, KEY));
  g_assert_null (strstr (log, "wrong-key"));
  g_assert_nonnull (strstr (log, "\"x-goog-api-key\":\"REDACTED\""));
  g_assert_nonnull (strstr (log, "key=REDACTED"));
  g_free (log);
  emu_stop (e);
}

#define VERTEX_PATH \
  "/ws/google.cloud.aiplatform.v1beta1.LlmBidiService/BidiGenerateContent"
#define VERTEX_MODEL "publishers/google/models/gemini-live-2.5-flash-native-audio"
#define EPHEMERAL_PATH "/ws/google.ai.generativelanguage.v1alpha." \
  "GenerativeService.BidiGenerateContentConstrained"

static void
expect_setup_complete (Cl * c, const char *setup)
{
  cl_send (c, setup);
  g_assert_nonnull (cl_wait (c, "setupComplete", 5000));
  cl_free (c);
}

static void
test_vertex_and_ephemeral (void)
{
  Emu *e = emu_start (NULL, NULL);
  const char *full = "{\"setup\":{\"model\":\"projects/p/locations/"
      "us-central1/" VERTEX_MODEL "\"}}";
  const char *express = "{\"setup\":{\"model\":\"" VERTEX_MODEL "\"}}";
  char *log;

  /* Vertex: bearer token, full model path or express mode with a key */
  expect_setup_complete (cl_connect_auth (e, VERTEX_PATH, "Authorization",
          "Bearer " KEY), full);
  expect_setup_complete (cl_connect_full (e, VERTEX_PATH, KEY), express);
  expect_close (cl_connect_auth (e, VERTEX_PATH, "Authorization",
          "Bearer ya29.wrong"), full, 1008, "invalid authentication");
  expect_close (cl_connect_auth (e, VERTEX_PATH, "Authorization",
          "Bearer " KEY), SETUP_PREFIX "}}", 1008, "Publisher Model");
  /* transparent resumption: Vertex only, handles carry the index of the
   * last client message they include (setup = 0) */
  {
    Cl *c = cl_connect_auth (e, VERTEX_PATH, "Authorization", "Bearer " KEY);
    JsonObject *m;

    cl_send (c, "{\"setup\":{\"model\":\"" VERTEX_MODEL "\","
        "\"sessionResumption\":{\"transparent\":true}}}");
    m = cl_wait (c, "sessionResumptionUpdate", 5000);
    g_assert_nonnull (m);
    g_assert_cmpstr (json_object_get_string_member
        (json_object_get_object_member (m, "sessionResumptionUpdate"),
            "lastConsumedClientMessageIndex"), ==, "0");
    cl_free (c);
  }
  expect_close_after (e, PATH, KEY, SETUP_PREFIX ",\"sessionResumption\":"
      "{\"transparent\":true}}}", 1007, "not supported in Gemini API");
  /* ephemeral tokens on the Constrained endpoint */
  expect_setup_complete (cl_connect_auth (e, EPHEMERAL_PATH
          "?access_token=auth_tokens/abc", NULL, NULL), SETUP_PREFIX "}}");
  expect_setup_complete (cl_connect_auth (e, EPHEMERAL_PATH, "Authorization",
          "Token auth_tokens/abc"), SETUP_PREFIX "}}");
  expect_close (cl_connect_full (e, EPHEMERAL_PATH, KEY), SETUP_PREFIX "}}",
      1008, "unregistered callers");
  log = emu_log_text (e);
  g_assert_null (strstr (log, KEY));
  g_assert_null (strstr (log, "auth_tokens/abc"));
  g_assert_null (strstr (log, "ya29"));
  g_free (log);
  emu_stop (e);
}

static void
test_echo (void)
{
  Emu *e = emu_start (NULL, NULL);
  Cl *c = cl_connect (e);
  GArray *in = tone_audio (500, 1000, 1000), *out, *exp;
  JsonObject *m, *u;
  guint start, gen, tc, i;
  char *s;
  GBytes *raw;

  cl_setup (c, "\"sessionResumption\":{}");
  start = c->cursor;
  cl_send_audio (c, in);
  m = cl_wait (c, "serverContent.turnComplete", 5000);
  g_assert_nonnull (m);
  tc = c->cursor - 1;
  /* usage rides on turnComplete: 1600 ms in and out, 32 tokens/s */
  u = json_object_get_object_member (m, "usageMetadata");
  g_assert_cmpint (json_object_get_int_member (u, "promptTokenCount"), ==, 51);
  g_assert_cmpint (json_object_get_int_member (u, "responseTokenCount"), ==,
      51);
  g_assert_cmpint (json_object_get_int_member (u, "totalTokenCount"), ==, 102);
  c->cursor = start;
  g_assert_nonnull (cl_wait (c, "serverContent.generationComplete", 0));
  gen = c->cursor - 1;
  g_assert_cmpuint (gen, <, tc);

  /* turn = [onset 500 ms - prefix 100 ms, end of 500 ms silence) */
  s = transcript (c, "inputTranscription", start, tc);
  g_assert_cmpstr (s, ==, "turn 1, 1600 ms of speech at 400 ms");
  g_free (s);
  s = transcript (c, "outputTranscription", start, tc);
  g_assert_cmpstr (s, ==, "echo of turn 1; first turn: turn 1, 1600 ms of "
      "speech at 400 ms");
  g_free (s);
  out = reply_audio (c, start, gen);
  exp = expected_24k (&g_array_index (in, gint16, 400 * 16), 1600 * 16);
  g_assert_cmpuint (out->len, ==, 1600 * 24);
  g_assert_cmpuint (exp->len, ==, out->len);
  for (i = 0; i < out->len; i++)
    if (g_array_index (out, gint16, i) != g_array_index (exp, gint16, i))
      g_error ("sample %u: got %d expected %d", i,
          g_array_index (out, gint16, i), g_array_index (exp, gint16, i));
  /* a fresh handle after the turn */
  c->cursor = tc;
  m = cl_wait (c, "sessionResumptionUpdate", 2000);
  g_assert_nonnull (m);
  g_assert_nonnull (handle_of (m));
  g_assert_cmpuint (c->text_frames, ==, 0);
  cl_free (c);

  raw = emu_raw (e, 1);
  g_assert_cmpuint (g_bytes_get_size (raw), ==, in->len * 2);
  g_assert_cmpmem (g_bytes_get_data (raw, NULL), g_bytes_get_size (raw),
      in->data, in->len * 2);
  g_bytes_unref (raw);
  g_array_unref (in);
  g_array_unref (out);
  g_array_unref (exp);
  emu_stop (e);
}

static JsonObject *
last_handle_msg (Cl * c)
{
  guint i;

  for (i = c->msgs->len; i > 0; i--) {
    JsonObject *m = g_ptr_array_index (c->msgs, i - 1);
    if (json_object_has_member (m, "sessionResumptionUpdate")
        && handle_of (m))
      return m;
  }
  return NULL;
}

static void
test_resumption (void)
{
  Emu *e = emu_start (NULL, NULL);
  Cl *a = cl_connect (e), *b, *x;
  GArray *in = tone_audio (500, 1000, 1000);
  char *handle, *s, *setup, *log;
  guint start;
  GBytes *r1, *r2;

  cl_setup (a, "\"sessionResumption\":{}");
  cl_send_audio (a, in);
  g_assert_nonnull (cl_wait (a, "serverContent.turnComplete", 5000));
  g_assert_nonnull (cl_wait (a, "sessionResumptionUpdate", 2000));
  handle = g_strdup (handle_of (last_handle_msg (a)));

  /* resuming while the old socket is open is refused (gemini-nova A7) */
  setup = g_strdup_printf ("\"sessionResumption\":{\"handle\":\"%s\"}", handle);
  x = cl_connect (e);
  s = g_strdup_printf (SETUP_PREFIX ",%s}}", setup);
  expect_close (x, s, 1011, NULL);
  g_free (s);

  /* unknown handle */
  x = cl_connect (e);
  expect_close (x,
      SETUP_PREFIX ",\"sessionResumption\":{\"handle\":\"nope\"}}}", 1008,
      "BidiGenerateContent session not " "found");

  cl_free (a);
  b = cl_connect (e);
  cl_setup (b, setup);
  start = b->cursor;
  cl_send_audio (b, in);
  g_assert_nonnull (cl_wait (b, "serverContent.turnComplete", 5000));
  /* The handle came at the end of turn 1 (2000 ms of input); the 500 ms
   * sent after it are not part of the resumed session.  So turn 2 starts
   * at 2000 + 400 ms of the session's input, and turn 1 is remembered. */
  s = transcript (b, "inputTranscription", start, b->cursor);
  g_assert_cmpstr (s, ==, "turn 2, 1600 ms of speech at 2400 ms");
  g_free (s);
  s = transcript (b, "outputTranscription", start, b->cursor);
  g_assert_cmpstr (s, ==, "echo of turn 2; first turn: turn 1, 1600 ms of "
      "speech at 400 ms");
  g_free (s);
  cl_free (b);

  /* every input sample reached exactly one connection */
  r1 = emu_raw (e, 1);
  r2 = emu_raw (e, 4);
  g_assert_cmpuint (g_bytes_get_size (r1), ==, in->len * 2);
  g_assert_cmpuint (g_bytes_get_size (r2), ==, in->len * 2);
  g_bytes_unref (r1);
  g_bytes_unref (r2);
  /* a handle is a snapshot: the one from after turn 1 restores that state
   * again, although the session went on to turn 2 since */
  b = cl_connect (e);
  cl_setup (b, setup);
  start = b->cursor;
  cl_send_audio (b, in);
  g_assert_nonnull (cl_wait (b, "serverContent.turnComplete", 5000));
  s = transcript (b, "outputTranscription", start, b->cursor);
  g_assert_cmpstr (s, ==, "echo of turn 2; first turn: turn 1, 1600 ms of "
      "speech at 400 ms");
  g_free (s);
  cl_free (b);

  log = emu_log_text (e);
  g_assert_nonnull (strstr (log, "\"what\":\"resume-refused-old-open\""));
  g_assert_nonnull (strstr (log, "\"what\":\"resume\""));
  g_free (log);
  g_free (setup);
  g_free (handle);
  g_array_unref (in);
  emu_stop (e);
}

static void
test_go_away (void)
{
  const char *const args[] = {
    "--go-away-every-ms", "300", "--go-away-time-left-ms", "1500", NULL
  };
  Emu *e = emu_start (NULL, args);
  Cl *c = cl_connect (e);
  JsonObject *m;
  gint64 t0 = g_get_monotonic_time (), t1, t2;

  cl_setup (c, "\"sessionResumption\":{}");
  m = cl_wait (c, "goAway", 5000);
  g_assert_nonnull (m);
  t1 = g_get_monotonic_time ();
  g_assert_cmpstr (json_object_get_string_member
      (json_object_get_object_member (m, "goAway"), "timeLeft"), ==, "1.500s");
  cl_wait_close (c, 5000);
  t2 = g_get_monotonic_time ();
  g_assert_cmpuint (c->close_code, ==, 1011);
  g_assert_cmpstr (c->close_reason, ==, "Deadline expired before operation "
      "could complete.");
  g_assert_cmpint ((t1 - t0) / 1000, >=, 250);
  g_assert_cmpint ((t2 - t1) / 1000, >=, 1400);
  cl_free (c);
  emu_stop (e);
}

static void
test_lifetime_options (void)
{
  const char *const lifetime[] = {
    "--max-connection-ms", "900", "--go-away-time-left-ms", "400", NULL
  };
  const char *const short_ttl[] = {
    "--resumption-ttl-ms", "1", "--setup-complete-delay-ms", "300", NULL
  };
  const char *const allow[] = { "--allow-resume-while-open", NULL };
  Emu *e = emu_start (NULL, lifetime);
  Cl *c = cl_connect (e), *d;
  JsonObject *m;
  char *s, *log;
  gint64 t0 = g_get_monotonic_time (), t1;

  /* goAway at 900 - 400 ms, the close at 900 ms */
  cl_setup (c, NULL);
  m = cl_wait (c, "goAway", 3000);
  g_assert_nonnull (m);
  g_assert_cmpstr (json_object_get_string_member
      (json_object_get_object_member (m, "goAway"), "timeLeft"), ==, "0.400s");
  cl_wait_close (c, 3000);
  t1 = g_get_monotonic_time ();
  g_assert_cmpuint (c->close_code, ==, 1011);
  g_assert_cmpint ((t1 - t0) / 1000, >=, 850);
  cl_free (c);
  emu_stop (e);

  /* expired handle; a message before the delayed setupComplete */
  e = emu_start (NULL, short_ttl);
  c = cl_connect (e);
  cl_setup (c, "\"sessionResumption\":{}");
  m = cl_wait (c, "sessionResumptionUpdate", 2000);
  g_assert_nonnull (m);
  s = g_strdup_printf (SETUP_PREFIX ",\"sessionResumption\":{\"handle\":"
      "\"%s\"}}}", handle_of (m));
  cl_free (c);
  g_usleep (20000);
  d = cl_connect (e);
  expect_close (d, s, 1008, NULL);
  g_free (s);
  d = cl_connect (e);
  cl_send (d, SETUP_PREFIX "}}");
  cl_send (d, "{\"realtimeInput\":{\"audioStreamEnd\":true}}");
  cl_wait_close (d, 3000);
  /* closed before the delayed setupComplete could come */
  g_assert_null (cl_wait (d, "setupComplete", 0));
  expect_close (d, NULL, 1007, "Request contains an invalid argument.");
  log = emu_log_text (e);
  g_assert_nonnull (strstr (log, "\"what\":\"resume-invalid\""));
  g_assert_nonnull (strstr (log, "\"what\":\"early-message\""));
  g_free (log);
  emu_stop (e);

  /* --allow-resume-while-open */
  e = emu_start (NULL, allow);
  c = cl_connect (e);
  cl_setup (c, "\"sessionResumption\":{}");
  m = cl_wait (c, "sessionResumptionUpdate", 2000);
  s = g_strdup_printf ("\"sessionResumption\":{\"handle\":\"%s\"}",
      handle_of (m));
  d = cl_connect (e);
  cl_setup (d, s);
  g_assert_false (c->closed);
  g_free (s);
  cl_free (d);
  cl_free (c);
  log = emu_log_text (e);
  g_assert_nonnull (strstr (log, "\"what\":\"resume-while-open\""));
  g_free (log);
  emu_stop (e);
}

static void
test_go_away_fault_and_close (void)
{
  Emu *e = emu_start ("{\"faults\":["
      "{\"connection\":1,\"after_client_event\":\"setup\","
      "\"action\":{\"go_away\":{\"time_left_ms\":200}}},"
      "{\"connection\":2,\"after_server_event\":\"setupComplete\","
      "\"action\":{\"close\":1008}},"
      "{\"connection\":3,\"after_server_event\":\"setupComplete\","
      "\"action\":{\"close\":1011,\"reason\":\"The service is currently "
      "unavailable.\"}}]}", NULL);
  Cl *c = cl_connect (e);
  JsonObject *m;

  cl_setup (c, NULL);
  m = cl_wait (c, "goAway", 2000);
  g_assert_nonnull (m);
  g_assert_cmpstr (json_object_get_string_member
      (json_object_get_object_member (m, "goAway"), "timeLeft"), ==, "0.200s");
  cl_wait_close (c, 3000);
  g_assert_cmpuint (c->close_code, ==, 1011);
  cl_free (c);
  c = cl_connect (e);
  expect_close (c, SETUP_PREFIX "}}", 1008, "Requested entity was not found.");
  c = cl_connect (e);
  expect_close (c, SETUP_PREFIX "}}", 1011, "The service is currently "
      "unavailable.");
  emu_stop (e);
}

/* Types of messages [from, to) joined with ',' */
static char *
types_between (Cl * c, guint from, guint to)
{
  GString *s = g_string_new (NULL);
  guint i;

  for (i = from; i < to && i < c->msgs->len; i++) {
    char *t = msg_type (g_ptr_array_index (c->msgs, i));
    g_string_append_printf (s, "%s%s", s->len ? "," : "", t);
    g_free (t);
  }
  return g_string_free (s, FALSE);
}

static void
test_barge_in (void)
{
  const char *const args[] = { "--pace-audio", NULL };
  Emu *e = emu_start (NULL, args);
  Cl *c = cl_connect (e);
  GArray *in = tone_audio (500, 1000, 600), *again = tone_audio (0, 300, 600);
  GArray *sent;
  guint start, cut, tc;
  JsonObject *m;
  char *s;

  cl_setup (c, NULL);
  start = c->cursor;
  cl_send_audio (c, in);
  g_assert_nonnull (cl_wait (c, "serverContent.modelTurn", 5000));
  /* user speaks again while the paced 2.1 s reply is playing */
  cl_send_audio (c, again);
  g_assert_nonnull (cl_wait (c, "serverContent.interrupted", 5000));
  cut = c->cursor - 1;
  /* interrupted > turnComplete (with usage), no generationComplete, and
   * nothing more of the first reply */
  m = cl_wait (c, "serverContent.turnComplete", 5000);
  g_assert_nonnull (m);
  tc = c->cursor - 1;
  s = types_between (c, cut, tc + 1);
  g_assert_cmpstr (s, ==, "serverContent.interrupted,"
      "serverContent.turnComplete");
  g_free (s);
  s = types_between (c, start, cut);
  g_assert_null (strstr (s, "generationComplete"));
  g_free (s);
  sent = reply_audio (c, start, cut);
  g_assert_cmpuint (sent->len, <, 2100 * 24);
  g_assert_cmpint (json_object_get_int_member (json_object_get_object_member
          (m, "usageMetadata"), "responseTokenCount"), ==,
      sent->len / 24 * 32 / 1000);
  g_array_unref (sent);
  /* then turn 2 is answered in full */
  g_assert_nonnull (cl_wait (c, "serverContent.generationComplete", 8000));
  g_assert_nonnull (cl_wait (c, "serverContent.turnComplete", 8000));
  s = transcript (c, "outputTranscription", tc, c->cursor);
  g_assert_true (g_str_has_prefix (s, "echo of turn 2;"));
  g_free (s);
  g_array_unref (in);
  g_array_unref (again);
  cl_free (c);
  emu_stop (e);
}

static void
test_tool_call (void)
{
  const char *const args[] = { "--pace-audio", NULL };
  Emu *e = emu_start ("{\"turns\":[{\"user_transcript\":\"Weather in Paris?\","
      "\"tool_call\":{\"name\":\"get_weather\",\"arguments\":"
      "{\"city\":\"Paris\"},\"call_id\":\"fc_1\"}},"
      "{\"tool_call\":{\"name\":\"get_weather\",\"arguments\":\"{\\\"city\\\":"
      "\\\"Rome\\\"}\"}}]}", args);
  Cl *c = cl_connect (e);
  GArray *in = tone_audio (300, 500, 600);
  JsonObject *m, *fc;
  char *s;
  guint start;

  cl_setup (c, "\"tools\":[{\"functionDeclarations\":[{\"name\":"
      "\"get_weather\"}]}]");
  cl_send_audio (c, in);
  m = cl_wait (c, "toolCall", 5000);
  g_assert_nonnull (m);
  fc = json_array_get_object_element (json_object_get_array_member
      (json_object_get_object_member (m, "toolCall"), "functionCalls"), 0);
  g_assert_cmpstr (json_object_get_string_member (fc, "id"), ==, "fc_1");
  g_assert_cmpstr (json_object_get_string_member (fc, "name"), ==,
      "get_weather");
  g_assert_cmpstr (json_object_get_string_member
      (json_object_get_object_member (fc, "args"), "city"), ==, "Paris");
  start = c->cursor;
  cl_send (c, "{\"toolResponse\":{\"functionResponses\":[{\"id\":\"fc_1\","
      "\"name\":\"get_weather\",\"response\":{\"output\":\"sunny\"}}]}}");
  g_assert_nonnull (cl_wait (c, "serverContent.turnComplete", 8000));
  s = transcript (c, "outputTranscription", start, c->cursor);
  g_assert_cmpstr (s, ==, "echo of turn 1; tool said: {\"output\":\"sunny\"}; "
      "first turn: Weather in Paris?");
  g_free (s);

  /* turn 2: a call the user talks over is cancelled */
  cl_send_audio (c, in);
  m = cl_wait (c, "toolCall", 5000);
  g_assert_nonnull (m);
  fc = json_array_get_object_element (json_object_get_array_member
      (json_object_get_object_member (m, "toolCall"), "functionCalls"), 0);
  g_assert_cmpstr (json_object_get_string_member
      (json_object_get_object_member (fc, "args"), "city"), ==, "Rome");
  s = g_strdup (json_object_get_string_member (fc, "id"));
  cl_send_audio (c, in);
  m = cl_wait (c, "toolCallCancellation", 5000);
  g_assert_nonnull (m);
  g_assert_cmpstr (json_array_get_string_element (json_object_get_array_member
          (json_object_get_object_member (m, "toolCallCancellation"), "ids"),
          0), ==, s);
  g_free (s);
  /* the interrupted turn ends with turnComplete */
  g_assert_nonnull (cl_wait (c, "serverContent.turnComplete", 2000));
  /* turn 3 (no script entry) is answered */
  g_assert_nonnull (cl_wait (c, "serverContent.turnComplete", 8000));
  g_assert_false (c->closed);
  g_array_unref (in);
  cl_free (c);
  emu_stop (e);
}

static void
test_client_content (void)
{
  Emu *e = emu_start (NULL, NULL);
  Cl *c = cl_connect (e);
  const char *hello = "{\"clientContent\":{\"turns\":[{\"role\":\"user\","
      "\"parts\":[{\"text\":\"hello there\"}]}],\"turnComplete\":true}}";
  const char *seed = "{\"clientContent\":{\"turns\":[{\"role\":\"user\","
      "\"parts\":[{\"text\":\"earlier\"}]},{\"role\":\"model\",\"parts\":"
      "[{\"text\":\"ok\"}]}],\"turnComplete\":false}}";
  const char *setup31 = "{\"setup\":{\"model\":"
      "\"models/gemini-3.1-flash-live-preview\"";
  char *s;
  GArray *out;

  /* 2.5: a text turn is answered with 1 s of 440 Hz */
  cl_setup (c, NULL);
  cl_send (c, hello);
  g_assert_nonnull (cl_wait (c, "serverContent.turnComplete", 5000));
  s = transcript (c, "outputTranscription", 0, c->cursor);
  g_assert_cmpstr (s, ==, "echo of turn 1; first turn: hello there");
  g_free (s);
  out = reply_audio (c, 0, c->cursor);
  g_assert_cmpuint (out->len, ==, 24000);
  g_assert_cmpint (g_array_index (out, gint16, 15), ==,
      (gint16) lrint (8000 * sin (2 * G_PI * 440 * 15 / 24000.0)));
  g_array_unref (out);
  cl_free (c);

  /* 3.1: only initial history announced by historyConfig */
  c = cl_connect (e);
  s = g_strdup_printf ("%s}}", setup31);
  cl_send (c, s);
  g_free (s);
  g_assert_nonnull (cl_wait (c, "setupComplete", 5000));
  expect_close (c, seed, 1007, NULL);
  c = cl_connect (e);
  s = g_strdup_printf
      ("%s,\"historyConfig\":{\"initialHistoryInClientContent\":" "true}}}",
      setup31);
  cl_send (c, s);
  g_free (s);
  g_assert_nonnull (cl_wait (c, "setupComplete", 5000));
  cl_send (c, seed);
  cl_send (c, hello);
  g_assert_nonnull (cl_wait (c, "serverContent.turnComplete", 5000));
  expect_close (c, hello, 1007, NULL);
  emu_stop (e);
}

static void
test_manual_activity (void)
{
  Emu *e = emu_start (NULL, NULL);
  Cl *c = cl_connect (e);
  GArray *in = tone_audio (0, 200, 0);
  GArray *out;
  guint start;

  cl_setup (c, "\"realtimeInputConfig\":{\"automaticActivityDetection\":"
      "{\"disabled\":true}}");
  start = c->cursor;
  cl_send (c, "{\"realtimeInput\":{\"activityStart\":{}}}");
  cl_send_audio (c, in);
  /* no VAD: nothing happens until activityEnd */
  g_assert_null (cl_wait (c, "serverContent.modelTurn", 300));
  cl_send (c, "{\"realtimeInput\":{\"activityEnd\":{}}}");
  g_assert_nonnull (cl_wait (c, "serverContent.turnComplete", 5000));
  out = reply_audio (c, start, c->cursor);
  g_assert_cmpuint (out->len, ==, 200 * 24);
  g_array_unref (out);
  g_array_unref (in);
  cl_free (c);
  emu_stop (e);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  emulator_path = argc > 1 ? argv[1] : g_getenv ("S2S_EMULATOR");
  if (!emulator_path) {
    g_printerr ("usage: test-gemini-dialect <s2s-emulator>\n");
    return 2;
  }
  g_test_add_func ("/gemini/setup-validation", test_setup_validation);
  g_test_add_func ("/gemini/vertex-and-ephemeral", test_vertex_and_ephemeral);
  g_test_add_func ("/gemini/echo", test_echo);
  g_test_add_func ("/gemini/resumption", test_resumption);
  g_test_add_func ("/gemini/go-away", test_go_away);
  g_test_add_func ("/gemini/lifetime-options", test_lifetime_options);
  g_test_add_func ("/gemini/faults", test_go_away_fault_and_close);
  g_test_add_func ("/gemini/barge-in", test_barge_in);
  g_test_add_func ("/gemini/tool-call", test_tool_call);
  g_test_add_func ("/gemini/manual-activity", test_manual_activity);
  g_test_add_func ("/gemini/client-content", test_client_content);
  return g_test_run ();
}
