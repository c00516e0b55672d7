/* gst-s2s integration tests: helpers shared by the test programs
 * Copyright (C) 2026 gst-s2s developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <string.h>
#include <signal.h>
#include <sys/prctl.h>
#include <glib/gstdio.h>
#include <gst/check/gstcheck.h>

#include "emu-helper.h"

/* ------------------------------------------------------------------------ */
/* Environment */

const gchar *
it_env (const gchar * name)
{
  const gchar *v = g_getenv (name);

  fail_unless (v != NULL && *v != '\0', "%s is not set: run the tests with "
      "`meson test` (tests/meson.build test_env)", name);
  return v;
}

const ItProvider *
it_provider (void)
{
  static const ItProvider providers[] = {
    {"openai", "s2sopenai", "OPENAI_API_KEY", NULL, "openai/gsts2sopenai.c",
        "response.done"},
    {"grok", "s2sgrok", "XAI_API_KEY", "grok", "openai/gsts2sgrok.c",
        "response.done"},
    {"gemini", "s2sgemini", "GEMINI_API_KEY", NULL, "gemini/gsts2sgemini.c",
        "serverContent.turnComplete"},
    /* AWS credentials instead of a key; the emulator serves it with
     * --nova-port, and its log names every event "event" (the payload
     * is {"event": {name: body}}) */
    {"nova", "s2snova", "AWS_SECRET_ACCESS_KEY", NULL, "nova/gsts2snova.c",
        NULL},
  };
  const gchar *name = g_getenv ("S2S_IT_PROVIDER");
  guint i;

  if (name == NULL || *name == '\0')
    return &providers[0];
  for (i = 0; i < G_N_ELEMENTS (providers); i++)
    if (g_str_equal (providers[i].name, name))
      return &providers[i];
  fail ("unknown S2S_IT_PROVIDER %s", name);
  return NULL;
}

gboolean
it_provider_is (const gchar * name)
{
  return g_str_equal (it_provider ()->name, name);
}

JsonObject *
it_session_turn_detection (JsonObject * session)
{
  JsonObject *in;

  if (json_object_has_member (session, "turn_detection"))
    return json_object_get_object_member (session, "turn_detection");
  in = json_object_get_object_member (json_object_get_object_member (session,
          "audio"), "input");
  return json_object_get_object_member (in, "turn_detection");
}

gchar *
it_audio_path (const gchar * name)
{
  gchar *p = g_build_filename (it_env ("S2S_SHARED_AUDIO"), name, NULL);

  fail_unless (g_file_test (p, G_FILE_TEST_IS_REGULAR), "missing %s", p);
  return p;
}

gchar *
it_cert_path (const gchar * name)
{
  gchar *p = g_build_filename (it_env ("S2S_CERTS_DIR"), name, NULL);

  fail_unless (g_file_test (p, G_FILE_TEST_IS_REGULAR), "missing %s", p);
  return p;
}

gchar *
it_tmpdir_new (void)
{
  GError *err = NULL;
  gchar *dir = g_dir_make_tmp ("s2s-it-XXXXXX", &err);

  fail_unless (dir != NULL, "temporary dir: %s", err ? err->message : "?");
  return dir;
}

void
it_tmpdir_remove (const gchar * dir)
{
  GDir *d;
  const gchar *name;

  if (dir == NULL)
    return;
  /* S2S_IT_KEEP=1 keeps the logs for a post-mortem */
  if (g_getenv ("S2S_IT_KEEP")) {
    g_printerr ("keeping %s\n", dir);
    return;
  }
  d = g_dir_open (dir, 0, NULL);
  if (d) {
    while ((name = g_dir_read_name (d))) {
      gchar *p = g_build_filename (dir, name, NULL);
      g_unlink (p);
      g_free (p);
    }
    g_dir_close (d);
  }
  g_rmdir (dir);
}

/* ------------------------------------------------------------------------ */
/* Emulator */

/* The emulator dies with the test process even when a failed assertion
 * skips the teardown */
static void
child_setup (gpointer data)
{
  prctl (PR_SET_PDEATHSIG, SIGTERM);
}

ItEmu *
it_emu_start_full (const gchar * script_json, gboolean tls,
    const gchar * const *extra_args)
{
  ItEmu *emu = g_new0 (ItEmu, 1);
  GPtrArray *argv = g_ptr_array_new_with_free_func (g_free);
  GSubprocessLauncher *launcher;
  GDataInputStream *in;
  GError *err = NULL;
  gchar *line, *colon;
  guint i;

  emu->dir = it_tmpdir_new ();
  emu->log_path = g_build_filename (emu->dir, "emu.log", NULL);

  g_ptr_array_add (argv, g_strdup (it_env ("S2S_EMULATOR")));
  g_ptr_array_add (argv, g_strdup ("--port"));
  g_ptr_array_add (argv, g_strdup ("0"));
  g_ptr_array_add (argv, g_strdup ("--log"));
  g_ptr_array_add (argv, g_strdup (emu->log_path));
  if (script_json) {
    gchar *script = g_build_filename (emu->dir, "script.json", NULL);
    fail_unless (g_file_set_contents (script, script_json, -1, NULL));
    g_ptr_array_add (argv, g_strdup ("--script"));
    g_ptr_array_add (argv, script);
  }
  if (tls) {
    g_ptr_array_add (argv, g_strdup ("--tls-cert"));
    g_ptr_array_add (argv, it_cert_path ("server.pem"));
    g_ptr_array_add (argv, g_strdup ("--tls-key"));
    g_ptr_array_add (argv, it_cert_path ("server-key.pem"));
  }
  if (it_provider ()->dialect) {
    g_ptr_array_add (argv, g_strdup ("--dialect"));
    g_ptr_array_add (argv, g_strdup (it_provider ()->dialect));
  }
  for (i = 0; extra_args && extra_args[i]; i++)
    g_ptr_array_add (argv, g_strdup (extra_args[i]));
  g_ptr_array_add (argv, NULL);

  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE);
  g_subprocess_launcher_set_child_setup (launcher, child_setup, NULL, NULL);
  emu->proc = g_subprocess_launcher_spawnv (launcher,
      (const gchar * const *) argv->pdata, &err);
  g_object_unref (launcher);
  g_ptr_array_unref (argv);
  fail_unless (emu->proc != NULL, "spawning s2s-emulator: %s",
      err ? err->message : "?");

  /* the first stdout line is its URL */
  in = g_data_input_stream_new (g_subprocess_get_stdout_pipe (emu->proc));
  line = g_data_input_stream_read_line_utf8 (in, NULL, NULL, &err);
  fail_unless (line != NULL, "s2s-emulator printed no URL (%s)",
      err ? err->message : "exited?");
  /* with --nova-port, the second line is "nova <url>" */
  for (i = 0; extra_args && extra_args[i]; i++) {
    if (g_str_equal (extra_args[i], "--nova-port")) {
      gchar *nova = g_data_input_stream_read_line_utf8 (in, NULL, NULL, NULL);
      fail_unless (nova && g_str_has_prefix (nova, "nova "),
          "s2s-emulator printed no Nova URL");
      emu->nova_url = g_strdup (g_strstrip (nova + 5));
      g_free (nova);
    }
  }
  g_object_unref (in);
  g_strstrip (line);
  fail_unless (g_str_has_prefix (line, tls ? "wss://127.0.0.1:" :
          "ws://127.0.0.1:"), "unexpected emulator URL '%s'", line);
  colon = strrchr (line, ':');
  emu->port = (guint) g_ascii_strtoull (colon + 1, NULL, 10);
  fail_unless (emu->port > 0);
  emu->url = line;
  GST_INFO ("emulator at %s, log %s", emu->url, emu->log_path);
  return emu;
}

void
it_emu_stop (ItEmu * emu)
{
  if (emu == NULL)
    return;
  if (emu->proc) {
    g_subprocess_send_signal (emu->proc, SIGTERM);
    g_subprocess_wait (emu->proc, NULL, NULL);
    g_object_unref (emu->proc);
  }
  it_tmpdir_remove (emu->dir);
  g_free (emu->dir);
  g_free (emu->log_path);
  g_free (emu->url);
  g_free (emu->nova_url);
  g_free (emu);
}

GPtrArray *
it_emu_log (ItEmu * emu)
{
  GPtrArray *lines =
      g_ptr_array_new_with_free_func ((GDestroyNotify) json_object_unref);
  gchar *text = it_file_contents (emu->log_path);
  gchar **parts;
  guint i;

  fail_unless (text != NULL, "no emulator log at %s", emu->log_path);
  parts = g_strsplit (text, "\n", -1);
  for (i = 0; parts[i]; i++) {
    JsonParser *p;
    JsonNode *root;

    if (*parts[i] == '\0')
      continue;
    p = json_parser_new ();
    /* the last line may still be being written: skip what does not parse */
    if (json_parser_load_from_data (p, parts[i], -1, NULL) &&
        (root = json_parser_get_root (p)) && JSON_NODE_HOLDS_OBJECT (root))
      g_ptr_array_add (lines, json_object_ref (json_node_get_object (root)));
    g_object_unref (p);
  }
  g_strfreev (parts);
  g_free (text);
  return lines;
}

const gchar *
it_log_dir (JsonObject * line)
{
  return json_object_get_string_member_with_default (line, "dir", "");
}

JsonObject *
it_log_event (JsonObject * line)
{
  JsonNode *n;

  if (!json_object_has_member (line, "event"))
    return NULL;
  n = json_object_get_member (line, "event");
  return JSON_NODE_HOLDS_OBJECT (n) ? json_node_get_object (n) : NULL;
}

const gchar *
it_log_event_type (JsonObject * line)
{
  JsonObject *ev = it_log_event (line);
  const gchar *type;
  GList *members;

  if (ev == NULL)
    return json_object_get_string_member_with_default (line, "what", NULL);
  type = json_object_get_string_member_with_default (ev, "type", NULL);
  if (type || json_object_get_size (ev) == 0)
    return type;
  /* Gemini: the first member, and for serverContent its first member too
   * ("serverContent.turnComplete"), as the emulator names it; kept in the
   * line so the string lives as long as the log */
  type = json_object_get_string_member_with_default (line, "_it_type", NULL);
  if (type)
    return type;
  members = json_object_get_members (ev);
  {
    JsonNode *sc = json_object_get_member (ev, members->data);
    GList *sm = g_str_equal (members->data, "serverContent") &&
        JSON_NODE_HOLDS_OBJECT (sc) ?
        json_object_get_members (json_node_get_object (sc)) : NULL;
    gchar *name = sm ? g_strdup_printf ("%s.%s", (gchar *) members->data,
        (gchar *) sm->data) : g_strdup (members->data);

    json_object_set_string_member (line, "_it_type", name);
    g_free (name);
    g_list_free (sm);
  }
  g_list_free (members);
  return json_object_get_string_member (line, "_it_type");
}

gint
it_log_find (GPtrArray * lines, gint from, const gchar * dir,
    const gchar * type)
{
  guint i;

  for (i = MAX (from, 0); i < lines->len; i++) {
    JsonObject *l = g_ptr_array_index (lines, i);
    if (g_strcmp0 (it_log_dir (l), dir) == 0 &&
        (type == NULL || g_strcmp0 (it_log_event_type (l), type) == 0))
      return i;
  }
  return -1;
}

guint
it_log_count (GPtrArray * lines, const gchar * dir, const gchar * type)
{
  guint n = 0;
  gint i = -1;

  while ((i = it_log_find (lines, i + 1, dir, type)) >= 0)
    n++;
  return n;
}

gboolean
it_log_has_connection (GPtrArray * lines)
{
  return it_log_find (lines, 0, "conn", "handshake") >= 0 ||
      it_log_find (lines, 0, "conn", "reject") >= 0 ||
      it_log_find (lines, 0, "conn", "open") >= 0 ||
      it_log_find (lines, 0, "client", NULL) >= 0;
}

gboolean
it_emu_wait_log (ItEmu * emu, const gchar * dir, const gchar * type,
    guint timeout_ms)
{
  gint64 end = g_get_monotonic_time () + timeout_ms * (gint64) 1000;

  do {
    GPtrArray *lines = it_emu_log (emu);
    gboolean found = it_log_find (lines, 0, dir, type) >= 0;
    g_ptr_array_unref (lines);
    if (found)
      return TRUE;
    g_usleep (20 * 1000);
  } while (g_get_monotonic_time () < end);
  return FALSE;
}

GBytes *
it_emu_in_raw (ItEmu * emu, guint conn)
{
  gchar *path = g_strdup_printf ("%s.conn%u.in.raw", emu->log_path, conn);
  gchar *data = NULL;
  gsize len = 0;

  fail_unless (g_file_get_contents (path, &data, &len, NULL),
      "missing %s", path);
  g_free (path);
  return g_bytes_new_take (data, len);
}

/* ------------------------------------------------------------------------ */
/* WAV */

GBytes *
it_wav_read_pcm (const gchar * path, gint rate)
{
  gchar *data = NULL;
  gsize len = 0, off = 12;
  gboolean fmt_ok = FALSE;
  GBytes *pcm = NULL;

  fail_unless (g_file_get_contents (path, &data, &len, NULL), "read %s", path);
  fail_unless (len > 12 && memcmp (data, "RIFF", 4) == 0 &&
      memcmp (data + 8, "WAVE", 4) == 0, "%s is not a WAV file", path);
  while (off + 8 <= len) {
    const guint8 *c = (const guint8 *) data + off;
    guint32 size = GST_READ_UINT32_LE (c + 4);

    if (memcmp (c, "fmt ", 4) == 0 && size >= 16) {
      fmt_ok = GST_READ_UINT16_LE (c + 8) == 1 &&       /* PCM */
          GST_READ_UINT16_LE (c + 10) == 1 &&   /* mono */
          GST_READ_UINT32_LE (c + 12) == (guint32) rate &&
          GST_READ_UINT16_LE (c + 22) == 16;
    } else if (memcmp (c, "data", 4) == 0) {
      size = MIN (size, len - off - 8);
      pcm = g_bytes_new (c + 8, size & ~1u);
      break;
    }
    off += 8 + size + (size & 1);
  }
  fail_unless (fmt_ok, "%s is not S16LE mono %d Hz", path, rate);
  fail_unless (pcm != NULL, "%s has no data chunk", path);
  g_free (data);
  return pcm;
}

gchar *
it_wav_write (const gchar * dir, const gchar * name, const guint8 * pcm,
    gsize len, gint rate)
{
  gchar *path = g_build_filename (dir, name, NULL);
  guint8 *buf = g_malloc (44 + len);

  memcpy (buf, "RIFF", 4);
  GST_WRITE_UINT32_LE (buf + 4, 36 + len);
  memcpy (buf + 8, "WAVEfmt ", 8);
  GST_WRITE_UINT32_LE (buf + 16, 16);
  GST_WRITE_UINT16_LE (buf + 20, 1);
  GST_WRITE_UINT16_LE (buf + 22, 1);
  GST_WRITE_UINT32_LE (buf + 24, rate);
  GST_WRITE_UINT32_LE (buf + 28, rate * 2);
  GST_WRITE_UINT16_LE (buf + 32, 2);
  GST_WRITE_UINT16_LE (buf + 34, 16);
  memcpy (buf + 36, "data", 4);
  GST_WRITE_UINT32_LE (buf + 40, len);
  memcpy (buf + 44, pcm, len);
  fail_unless (g_file_set_contents (path, (const gchar *) buf, 44 + len,
          NULL), "writing %s", path);
  g_free (buf);
  return path;
}

/* ------------------------------------------------------------------------ */
/* Sink */

static void
on_handoff (GstElement * sink, GstBuffer * buf, GstPad * pad, ItSink * s)
{
  GstClock *clock = gst_element_get_clock (sink);
  GstClockTime rt = GST_CLOCK_TIME_NONE;
  ItBuf b = { 0, };
  GstMapInfo map;

  if (clock) {
    rt = gst_clock_get_time (clock) - gst_element_get_base_time (sink);
    gst_object_unref (clock);
  }
  b.pts = GST_BUFFER_PTS (buf);
  b.duration = GST_BUFFER_DURATION (buf);
  b.discont = GST_BUFFER_IS_DISCONT (buf);
  b.render_rt = rt;
  gst_buffer_map (buf, &map, GST_MAP_READ);
  g_mutex_lock (&s->lock);
  b.offset = s->data->len;
  b.size = map.size;
  g_byte_array_append (s->data, map.data, map.size);
  g_array_append_val (s->bufs, b);
  g_mutex_unlock (&s->lock);
  gst_buffer_unmap (buf, &map);
}

ItSink *
it_sink_attach (GstElement * pipeline, const gchar * name)
{
  GstElement *sink = gst_bin_get_by_name (GST_BIN (pipeline), name);
  ItSink *s = g_new0 (ItSink, 1);

  fail_unless (sink != NULL, "no element %s", name);
  g_mutex_init (&s->lock);
  s->bufs = g_array_new (FALSE, TRUE, sizeof (ItBuf));
  s->data = g_byte_array_new ();
  g_object_set (sink, "signal-handoffs", TRUE, NULL);
  g_signal_connect (sink, "handoff", G_CALLBACK (on_handoff), s);
  gst_object_unref (sink);
  return s;
}

void
it_pipeline_stop (GstElement * pipeline)
{
  fail_unless (gst_element_set_state (pipeline, GST_STATE_NULL) ==
      GST_STATE_CHANGE_SUCCESS);
  gst_object_unref (pipeline);
}

void
it_sink_free (ItSink * s)
{
  if (s == NULL)
    return;
  g_array_unref (s->bufs);
  g_byte_array_unref (s->data);
  g_mutex_clear (&s->lock);
  g_free (s);
}

/* ------------------------------------------------------------------------ */
/* Running pipelines */

GPtrArray *
it_msgs_new (void)
{
  return g_ptr_array_new_with_free_func ((GDestroyNotify) gst_message_unref);
}

GstMessage *
it_run (GstElement * pipeline, guint timeout_ms, GPtrArray * msgs,
    ItMsgFunc func, gpointer user_data)
{
  GstBus *bus = gst_element_get_bus (pipeline);
  gint64 end = g_get_monotonic_time () + timeout_ms * (gint64) 1000;
  GstMessage *result = NULL;

  gst_element_set_state (pipeline, GST_STATE_PLAYING);
  for (;;) {
    gint64 now = g_get_monotonic_time ();
    GstMessage *msg;
    gboolean go_on = TRUE;

    if (now >= end)
      break;
    msg = gst_bus_timed_pop (bus, (end - now) * GST_USECOND);
    if (msg == NULL)
      break;
    if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ELEMENT ||
        GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ERROR ||
        GST_MESSAGE_TYPE (msg) == GST_MESSAGE_WARNING ||
        GST_MESSAGE_TYPE (msg) == GST_MESSAGE_EOS) {
      const GstStructure *s = gst_message_get_structure (msg);
      if (s && GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ELEMENT)
        GST_DEBUG ("message %" GST_PTR_FORMAT, s);
      if (msgs)
        g_ptr_array_add (msgs, gst_message_ref (msg));
    }
    if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_LATENCY)
      gst_bin_recalculate_latency (GST_BIN (pipeline));
    if (func)
      go_on = func (pipeline, msg, user_data);
    if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_EOS ||
        GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ERROR) {
      result = msg;
      break;
    }
    gst_message_unref (msg);
    if (!go_on)
      break;
  }
  gst_object_unref (bus);
  return result;
}

gint
it_msgs_find (GPtrArray * msgs, gint from, const gchar * name,
    const gchar * field, const gchar * value)
{
  guint i;

  for (i = MAX (from, 0); i < msgs->len; i++) {
    GstMessage *m = g_ptr_array_index (msgs, i);
    const GstStructure *s;

    if (GST_MESSAGE_TYPE (m) != GST_MESSAGE_ELEMENT)
      continue;
    s = gst_message_get_structure (m);
    if (s == NULL || !gst_structure_has_name (s, name))
      continue;
    if (field && g_strcmp0 (gst_structure_get_string (s, field), value) != 0)
      continue;
    return i;
  }
  return -1;
}

guint
it_msgs_count (GPtrArray * msgs, const gchar * name, const gchar * field,
    const gchar * value)
{
  guint n = 0;
  gint i = -1;

  while ((i = it_msgs_find (msgs, i + 1, name, field, value)) >= 0)
    n++;
  return n;
}

const GstStructure *
it_msgs_get (GPtrArray * msgs, gint index)
{
  fail_unless (index >= 0 && (guint) index < msgs->len);
  return gst_message_get_structure (g_ptr_array_index (msgs, index));
}

GstMessage *
it_msgs_find_type (GPtrArray * msgs, GstMessageType type, gint * index)
{
  guint i;

  for (i = index ? MAX (*index, 0) : 0; i < msgs->len; i++) {
    GstMessage *m = g_ptr_array_index (msgs, i);
    if (GST_MESSAGE_TYPE (m) == type) {
      if (index)
        *index = i;
      return m;
    }
  }
  return NULL;
}

/* ------------------------------------------------------------------------ */
/* Misc */

guint
it_count_threads (const gchar * comm)
{
  GDir *d = g_dir_open ("/proc/self/task", 0, NULL);
  const gchar *tid;
  guint n = 0;

  fail_unless (d != NULL, "no /proc/self/task");
  while ((tid = g_dir_read_name (d))) {
    gchar *path = g_strdup_printf ("/proc/self/task/%s/comm", tid);
    gchar *name = NULL;

    if (g_file_get_contents (path, &name, NULL, NULL)) {
      g_strstrip (name);
      if (g_str_has_prefix (name, comm))
        n++;
    }
    g_free (name);
    g_free (path);
  }
  g_dir_close (d);
  return n;
}

guint
it_wait_threads (const gchar * comm, guint n, guint timeout_ms)
{
  gint64 end = g_get_monotonic_time () + timeout_ms * (gint64) 1000;
  guint got;

  while ((got = it_count_threads (comm)) != n && g_get_monotonic_time () < end)
    g_usleep (10 * 1000);
  return got;
}

JsonNode *
it_json_parse (const gchar * json)
{
  JsonParser *p = json_parser_new ();
  GError *err = NULL;
  JsonNode *root;

  fail_unless (json_parser_load_from_data (p, json, -1, &err),
      "bad JSON (%s): %s", err ? err->message : "?", json);
  root = json_node_copy (json_parser_get_root (p));
  g_object_unref (p);
  return root;
}

gchar *
it_file_contents (const gchar * path)
{
  gchar *text = NULL;

  if (!g_file_get_contents (path, &text, NULL, NULL))
    return NULL;
  return text;
}

/* --- Assertions shared by the test programs --- */

void
it_assert_eos (GstMessage * m)
{
  fail_unless (m != NULL, "timed out without EOS");
  if (GST_MESSAGE_TYPE (m) == GST_MESSAGE_ERROR) {
    GError *e = NULL;
    gchar *dbg = NULL;
    gst_message_parse_error (m, &e, &dbg);
    fail ("ERROR instead of EOS: %s (%s)", e->message, dbg);
  }
  fail_unless_equals_int (GST_MESSAGE_TYPE (m), GST_MESSAGE_EOS);
}

guint
it_final_transcripts (GPtrArray * msgs, const gchar * role, gchar ** last_text)
{
  guint i, n = 0;

  for (i = 0; i < msgs->len; i++) {
    GstMessage *m = g_ptr_array_index (msgs, i);
    const GstStructure *s = gst_message_get_structure (m);
    gboolean final = FALSE;

    if (GST_MESSAGE_TYPE (m) != GST_MESSAGE_ELEMENT || s == NULL ||
        !gst_structure_has_name (s, "s2s-transcript") ||
        g_strcmp0 (gst_structure_get_string (s, "role"), role) != 0)
      continue;
    fail_unless (gst_structure_get_boolean (s, "final", &final));
    if (final) {
      n++;
      if (last_text) {
        g_free (*last_text);
        *last_text = g_strdup (gst_structure_get_string (s, "text"));
      }
    }
  }
  return n;
}

/* Output PTS are sample-contiguous from buffer @first to @last inclusive */
void
it_assert_contiguous (ItSink * sink, gint rate, guint first, guint last)
{
  guint i;

  for (i = first + 1; i <= last; i++) {
    ItBuf *a = &g_array_index (sink->bufs, ItBuf, i - 1);
    ItBuf *b = &g_array_index (sink->bufs, ItBuf, i);

    fail_unless (GST_CLOCK_TIME_IS_VALID (a->pts) &&
        GST_CLOCK_TIME_IS_VALID (a->duration));
    fail_unless (b->pts == a->pts + a->duration, "buffer %u at %"
        GST_TIME_FORMAT " does not follow %" GST_TIME_FORMAT " + %"
        GST_TIME_FORMAT, i, GST_TIME_ARGS (b->pts), GST_TIME_ARGS (a->pts),
        GST_TIME_ARGS (a->duration));
    fail_if (b->discont, "DISCONT inside a response at buffer %u", i);
    /* duration matches the samples it carries */
    fail_unless (gst_util_uint64_scale_int (a->size / 2, GST_SECOND, rate) <=
        a->duration + 1);
  }
}

void
it_assert_timeline (ItSink * sink, gboolean gaps_discont)
{
  guint i;

  fail_unless (sink->bufs->len > 0);
  for (i = 1; i < sink->bufs->len; i++) {
    ItBuf *a = &g_array_index (sink->bufs, ItBuf, i - 1);
    ItBuf *b = &g_array_index (sink->bufs, ItBuf, i);

    fail_unless (b->pts >= a->pts + a->duration, "buffer %u at %"
        GST_TIME_FORMAT " overlaps or goes back from %" GST_TIME_FORMAT
        " + %" GST_TIME_FORMAT, i, GST_TIME_ARGS (b->pts),
        GST_TIME_ARGS (a->pts), GST_TIME_ARGS (a->duration));
    if (gaps_discont && !b->discont)
      fail_unless (b->pts == a->pts + a->duration, "gap without DISCONT at "
          "buffer %u", i);
  }
}

GstClockTime
it_msgs_longest_switch (GPtrArray * msgs)
{
  gint r = -1, ready;
  GstClockTime t0, t1, worst = 0;

  while ((r = it_msgs_find (msgs, r + 1, "s2s-session", "state",
              "rotating")) >= 0) {
    ready = it_msgs_find (msgs, r, "s2s-session", "state", "ready");
    fail_unless (ready > r, "no ready after rotating");
    fail_unless (gst_structure_get_uint64 (it_msgs_get (msgs, r),
            "running-time", &t0));
    fail_unless (gst_structure_get_uint64 (it_msgs_get (msgs, ready),
            "running-time", &t1));
    worst = MAX (worst, t1 - t0);
  }
  return worst;
}

gboolean
it_until_interrupted (GstElement * pipeline, GstMessage * msg, gpointer data)
{
  const GstStructure *s = gst_message_get_structure (msg);

  return !(GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ELEMENT && s &&
      gst_structure_has_name (s, "s2s-response") &&
      g_strcmp0 (gst_structure_get_string (s, "event"), "interrupted") == 0);
}
