/* gst-s2s integration test: a two-minute conversation with s2snova through
 * the emulator's Nova dialect with a 20 s stream limit
 * Copyright (C) 2026 gst-s2s developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The input is the test speech looped with pauses to 2 minutes at 16 kHz
 * (the pauses are faint noise, so every stretch of the source is unique),
 * paced in real time by the element; the sink syncs to the clock. The
 * element rotates the Bedrock stream before the emulator's 20 s limit.
 * Checked:
 * (a) no ERROR, no modelTimeoutException: every stream was rotated before
 *     the limit; `rotations` and `s2s-session` `rotating` count them;
 * (b) every input sample reached some connection: each connection's raw
 *     input is one contiguous stretch of the source, the first starts at
 *     sample 0, each successor starts at or before the end of its
 *     predecessor (no gap) and the last reaches the end of the source;
 * (c) what a successor got twice (the replay) is only the turn in
 *     progress: it holds no voice of an utterance the old stream answered,
 *     and it starts at most the replay lead (300 ms) before the first
 *     unanswered utterance; every utterance is answered exactly once;
 * (d) the conversation went on: the history a successor received
 *     (textInput of its non-interactive blocks) holds every user and
 *     assistant transcript of the earlier streams, in order;
 * (e) the output timestamps never go back or overlap.
 * It runs in real time (about 2 min 10 s): scripts/valgrind.sh leaves it
 * out (suite long).
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <string.h>
#include <gst/check/gstcheck.h>

#include "emu-helper.h"

#define IN_RATE 16000
#define TOTAL_S 120
#define LIMIT_MS "20000"
#define BPS (IN_RATE * 2)
/* the element's replay starts this long before the voice (gsts2snova.c) */
#define REPLAY_LEAD_MS 300

typedef struct
{
  gsize start, end;             /* bytes in the source */
} Utt;

static guint32 noise_state = 12345;

static void
append_pause (GByteArray * a, guint ms)
{
  gsize old = a->len, n = (gsize) BPS * ms / 1000, i;

  g_byte_array_set_size (a, old + n);
  for (i = 0; i < n; i += 2) {
    gint16 v;
    noise_state = noise_state * 1103515245 + 12345;
    v = (gint16) ((noise_state >> 16) % 7) - 3; /* -3..3: ~-80 dBFS */
    GST_WRITE_UINT16_LE (a->data + old + i, (guint16) v);
  }
}

static void
append (GByteArray * a, GArray * utts, const gchar * name)
{
  gchar *path = it_audio_path (name);
  GBytes *pcm = it_wav_read_pcm (path, IN_RATE);
  gsize n;
  const guint8 *d = g_bytes_get_data (pcm, &n);
  Utt u = { a->len, a->len + n };

  g_byte_array_append (a, d, n);
  g_array_append_val (utts, u);
  g_bytes_unref (pcm);
  g_free (path);
}

/* Questions with pauses long enough for their echo, to TOTAL_S, ending
 * in a pause long enough for the last answer */
static GByteArray *
make_input (GArray * utts)
{
  GByteArray *a = g_byte_array_new ();

  append_pause (a, 1000);
  while (a->len < (gsize) BPS * (TOTAL_S - 20)) {
    append (a, utts, "q1-weather-16k.wav");
    append_pause (a, 5500);
    append (a, utts, "q3-tool-16k.wav");
    append_pause (a, 6000);
    append (a, utts, "q2-interrupt-16k.wav");
    append_pause (a, 7000);
  }
  append_pause (a, MAX (8000, (gint) ((gsize) BPS * TOTAL_S - a->len) * 1000 /
          BPS));
  return a;
}

/* The body of a Nova log line's event ({"event":{name:{...}}}) */
static JsonObject *
nova_event (JsonObject * line, const gchar ** name)
{
  JsonObject *ev, *inner;
  GList *m;

  if (!json_object_has_member (line, "event"))
    return NULL;
  ev = json_object_get_object_member (line, "event");
  if (ev == NULL || !json_object_has_member (ev, "event"))
    return NULL;
  inner = json_object_get_object_member (ev, "event");
  m = json_object_get_members (inner);
  if (m == NULL)
    return NULL;
  *name = m->data;
  g_list_free (m);
  return json_object_get_object_member (inner, *name);
}

static gint
line_conn (JsonObject * line)
{
  return (gint) json_object_get_int_member_with_default (line, "conn", -1);
}

/* Transcripts the server sent on @conn: USER FINAL and ASSISTANT FINAL
 * textOutput (the speculative ones and the interruption marker left out) */
static void
server_transcripts (GPtrArray * log, gint conn, GPtrArray * user,
    GPtrArray * assistant)
{
  GHashTable *final = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
      NULL);
  guint i;

  for (i = 0; i < log->len; i++) {
    JsonObject *line = g_ptr_array_index (log, i), *b;
    const gchar *name = NULL, *id;

    if (line_conn (line) != conn || g_strcmp0 (it_log_dir (line), "server"))
      continue;
    b = nova_event (line, &name);
    if (b == NULL)
      continue;
    id = json_object_get_string_member_with_default (b, "contentId", "");
    if (!strcmp (name, "contentStart")) {
      const gchar *f = json_object_get_string_member_with_default (b,
          "additionalModelFields", "");
      if (strstr (f, "FINAL"))
        g_hash_table_add (final, g_strdup (id));
    } else if (!strcmp (name, "textOutput") &&
        g_hash_table_contains (final, id)) {
      const gchar *role = json_object_get_string_member (b, "role");
      const gchar *text = json_object_get_string_member (b, "content");
      if (strstr (text, "\"interrupted\""))
        continue;
      g_ptr_array_add (!g_strcmp0 (role, "USER") ? user : assistant,
          g_strdup (text));
    }
  }
  g_hash_table_unref (final);
}

/* The text of the history blocks a connection received, concatenated */
static gchar *
history_text (GPtrArray * log, gint conn)
{
  GString *s = g_string_new (NULL);
  GHashTable *hist = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
      NULL);
  guint i;

  for (i = 0; i < log->len; i++) {
    JsonObject *line = g_ptr_array_index (log, i), *b;
    const gchar *name = NULL, *cname;

    if (line_conn (line) != conn || g_strcmp0 (it_log_dir (line), "client"))
      continue;
    b = nova_event (line, &name);
    if (b == NULL)
      continue;
    cname = json_object_get_string_member_with_default (b, "contentName", "");
    if (!strcmp (name, "contentStart")) {
      const gchar *role = json_object_get_string_member_with_default (b,
          "role", "");
      if (!json_object_get_boolean_member_with_default (b, "interactive",
              TRUE) && (!strcmp (role, "USER") || !strcmp (role, "ASSISTANT")))
        g_hash_table_add (hist, g_strdup (cname));
    } else if (!strcmp (name, "textInput") && g_hash_table_contains (hist,
            cname)) {
      g_string_append (s, json_object_get_string_member (b, "content"));
    }
  }
  g_hash_table_unref (hist);
  return g_string_free (s, FALSE);
}

/* Where @c (a connection's input) lies in @src: the largest start offset
 * <= @max_start at which it matches (the tail past the source must be
 * silence); -1 if nowhere */
static gssize
find_start (GByteArray * src, const guint8 * c, gsize n, gsize max_start)
{
  gssize st;

  for (st = max_start; st >= 0; st -= 2) {
    gsize in_src = MIN (n, src->len - (gsize) st), i;

    if (memcmp (src->data + st, c, MIN (in_src, 3200)) != 0)
      continue;
    if (memcmp (src->data + st, c, in_src) != 0)
      continue;
    for (i = in_src; i < n; i++)
      if (c[i] != 0)
        break;
    if (i == n)
      return st;
  }
  return -1;
}

GST_START_TEST (test_two_minutes_with_rotation)
{
  const gchar *extra[] = { "--nova-port", "0", "--nova-session-limit-ms",
    LIMIT_MS, NULL
  };
  ItEmu *emu = it_emu_start_full (NULL, FALSE, extra);
  GArray *utts = g_array_new (FALSE, FALSE, sizeof (Utt));
  GByteArray *input = make_input (utts);
  gchar *tmp = it_tmpdir_new ();
  gchar *wav = it_wav_write (tmp, "conversation.wav", input->data, input->len,
      IN_RATE);
  GError *err = NULL;
  gchar *desc = g_strdup_printf ("filesrc location=\"%s\" ! wavparse ! "
      "s2snova name=s2s url=%s region=us-east-1 access-key-id=AKIDEXAMPLE "
      "secret-access-key=wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY "
      "silence-duration=1500 session-limit=" LIMIT_MS " ! "
      "fakesink name=sink sync=true signal-handoffs=true", wav, emu->nova_url);
  GstElement *p = gst_parse_launch (desc, &err), *s2s;
  ItSink *sink;
  GPtrArray *msgs = it_msgs_new (), *log;
  GstStructure *stats = NULL;
  guint conns, c, i, rotations = 0, reconnects = 0, answered = 0;
  gsize end_prev = 0, replayed_total = 0;
  GstClockTime worst = 0;

  fail_unless (p != NULL && err == NULL, "%s", desc);
  sink = it_sink_attach (p, "sink");
  it_assert_eos (it_run (p, (TOTAL_S + 60) * 1000, msgs, NULL, NULL));
  fail_unless (it_msgs_find_type (msgs, GST_MESSAGE_ERROR, NULL) == NULL);

  s2s = gst_bin_get_by_name (GST_BIN (p), "s2s");
  g_object_get (s2s, "stats", &stats, NULL);
  gst_structure_get_uint (stats, "rotations", &rotations);
  gst_structure_get_uint (stats, "reconnects", &reconnects);
  gst_structure_free (stats);
  gst_object_unref (s2s);

  /* (a) rotations before the limit */
  log = it_emu_log (emu);
  conns = it_log_count (log, "conn", "open");
  g_printerr ("nova-rotation: %u connections, %u rotations, %u reconnects, "
      "%u utterances\n", conns, rotations, reconnects, utts->len);
  fail_unless (conns >= 6, "only %u connections in %d s", conns, TOTAL_S);
  fail_unless_equals_int (rotations, conns - 1);
  fail_unless_equals_int (reconnects, 0);
  fail_unless_equals_int (it_msgs_count (msgs, "s2s-session", "state",
          "rotating"), rotations);
  for (i = 0; i < log->len; i++)
    fail_unless (!json_object_has_member (g_ptr_array_index (log, i),
            "exception"), "a stream hit an exception (the limit?)");
  worst = it_msgs_longest_switch (msgs);
  g_printerr ("nova-rotation: longest switch %" GST_TIME_FORMAT "\n",
      GST_TIME_ARGS (worst));

  /* (b), (c) and (d), connection by connection */
  for (c = 1; c <= conns; c++) {
    GBytes *raw = it_emu_in_raw (emu, c);
    gsize n, replay, j, lead = 0;
    const guint8 *d = g_bytes_get_data (raw, &n);
    gssize st;
    GPtrArray *user = g_ptr_array_new_with_free_func (g_free);
    GPtrArray *assistant = g_ptr_array_new_with_free_func (g_free);

    /* the element's keep-alive silence (all-zero samples) while a stream
     * waited for its first input buffer: not part of the source, whose
     * pauses are ±3 LSB noise (never 64 zero samples in a row) */
    while (lead < n && d[lead] == 0)
      lead++;
    lead &= ~(gsize) 1;
    if (lead >= 128) {
      g_printerr ("nova-rotation: connection %u starts with %.3f s of "
          "keep-alive silence\n", c, lead / (gdouble) BPS);
      d += lead;
      n -= lead;
    }
    st = find_start (input, d, n, MIN (end_prev, input->len - 2));

    if (st < 0) {
      gssize later = find_start (input, d, n, MIN (end_prev + 10 * BPS,
              input->len - 2));
      fail_unless (st >= 0, "connection %u: its input is not a stretch of "
          "the source starting at or before %.3f s (it starts at %.3f s: %s)",
          c, end_prev / (gdouble) BPS, later / (gdouble) BPS, later >= 0 ?
          "a gap" : "changed samples");
    }
    if (c == 1)
      fail_unless_equals_int (st, 0);
    replay = end_prev - st;
    replayed_total += replay;
    g_printerr ("nova-rotation: connection %u: %.3f s .. %.3f s of the "
        "source, %.3f s replayed\n", c, st / (gdouble) BPS,
        (st + n) / (gdouble) BPS, replay / (gdouble) BPS);
    /* (c) the replay holds no voice of an answered utterance and starts
     * at most the lead before the first unanswered one */
    if (replay > 0) {
      Utt *next = answered < utts->len ? &g_array_index (utts, Utt,
          answered) : NULL;
      for (j = 0; j < answered; j++) {
        Utt *u = &g_array_index (utts, Utt, j);
        fail_unless (u->end <= (gsize) st, "connection %u replays utterance "
            "%u, answered before", c, j + 1);
      }
      fail_unless (next != NULL && (gsize) st + (gsize) BPS * (REPLAY_LEAD_MS
              + 20) / 1000 >= next->start, "connection %u: the replay starts "
          "at %.3f s, long before the unanswered utterance", c,
          st / (gdouble) BPS);
    }
    end_prev = MAX (end_prev, st + n);

    /* (d) the history holds the earlier streams' transcripts */
    if (c > 1) {
      gchar *hist = history_text (log, c);
      guint k, seen_user = 0, seen_assistant = 0;
      const gchar *at = hist;
      for (k = 1; k < c; k++) {
        GPtrArray *u = g_ptr_array_new_with_free_func (g_free);
        GPtrArray *a = g_ptr_array_new_with_free_func (g_free);
        guint q;
        server_transcripts (log, k, u, a);
        for (q = 0; q < u->len; q++) {
          fail_unless (strstr (hist, g_ptr_array_index (u, q)) != NULL,
              "connection %u's history lacks \"%s\" of connection %u", c,
              (gchar *) g_ptr_array_index (u, q), k);
          seen_user++;
        }
        for (q = 0; q < a->len; q++) {
          const gchar *f = strstr (at, g_ptr_array_index (a, q));
          fail_unless (f != NULL, "connection %u's history lacks (in order) "
              "\"%s\" of connection %u", c, (gchar *) g_ptr_array_index (a,
                  q), k);
          at = f;
          seen_assistant++;
        }
        g_ptr_array_unref (u);
        g_ptr_array_unref (a);
      }
      g_printerr ("nova-rotation: connection %u's history: %u user, %u "
          "assistant transcripts of earlier streams\n", c, seen_user,
          seen_assistant);
      fail_unless (seen_user > 0);
      g_free (hist);
    }

    server_transcripts (log, c, user, assistant);
    answered += user->len;
    g_ptr_array_unref (user);
    g_ptr_array_unref (assistant);
    g_bytes_unref (raw);
  }
  g_printerr ("nova-rotation: %.3f s replayed in all, %u turns answered\n",
      replayed_total / (gdouble) BPS, answered);
  fail_unless (end_prev >= input->len, "the source's last %.3f s reached no "
      "connection", (input->len - end_prev) / (gdouble) BPS);
  fail_unless_equals_int (answered, utts->len);

  /* (e) the output timeline */
  it_assert_timeline (sink, FALSE);

  g_ptr_array_unref (log);
  g_ptr_array_unref (msgs);
  it_sink_free (sink);
  it_pipeline_stop (p);
  g_free (desc);
  g_free (wav);
  it_tmpdir_remove (tmp);
  g_free (tmp);
  g_byte_array_unref (input);
  g_array_unref (utts);
  it_emu_stop (emu);
}

GST_END_TEST;

static Suite *
s2s_nova_rotation_suite (void)
{
  Suite *s = suite_create ("s2s-integration-nova-rotation");
  TCase *tc = tcase_create ("rotation");

  suite_add_tcase (s, tc);
  tcase_set_timeout (tc, TOTAL_S + 90);
  tcase_add_test (tc, test_two_minutes_with_rotation);
  return s;
}

GST_CHECK_MAIN (s2s_nova_rotation);
