/* gst-s2s integration test: a three-minute conversation with s2sgemini
 * through an emulator that sends goAway every 40 s
 * Copyright (C) 2026 gst-s2s developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The input is the test speech looped with pauses to 3 minutes at 16 kHz,
 * paced in real time by the element; the sink syncs to the clock. Checked:
 * (a) every input sample reached some connection exactly once, in order
 *     (the emulator's per-connection raw input logs, concatenated, are the
 *     source followed only by the element's end-of-input silence);
 * (b) the output timestamps never go back or overlap, and each reply is
 *     sample-contiguous;
 * (c) the conversation went on across connections: the turn numbers of the
 *     emulator's echo transcripts count on without a reset, and the reply to
 *     the last turn still knows the first turn.
 * It runs in real time (about 3 min 10 s): scripts/valgrind.sh leaves it
 * out.
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <string.h>
#include <gst/check/gstcheck.h>

#include "emu-helper.h"

#define IN_RATE 16000
#define OUT_RATE 24000
#define TOTAL_S 180
#define GO_AWAY_EVERY_MS "40000"

static void
append (GByteArray * a, const gchar * name)
{
  gchar *path = it_audio_path (name);
  GBytes *pcm = it_wav_read_pcm (path, IN_RATE);
  gsize n;
  const guint8 *d = g_bytes_get_data (pcm, &n);

  g_byte_array_append (a, d, n);
  g_bytes_unref (pcm);
  g_free (path);
}

static void
append_silence (GByteArray * a, guint ms)
{
  gsize old = a->len, n = (gsize) IN_RATE * 2 * ms / 1000;

  g_byte_array_set_size (a, old + n);
  memset (a->data + old, 0, n);
}

/* Questions with pauses long enough for their echo, to TOTAL_S */
static GByteArray *
make_input (void)
{
  GByteArray *a = g_byte_array_new ();

  /* a cycle is 25.8 s: seven of them, cut to TOTAL_S in the last pause */
  while (a->len < (gsize) IN_RATE * 2 * (TOTAL_S - 25)) {
    append (a, "q1-weather-16k.wav");
    append_silence (a, 4500);
    append (a, "q3-tool-16k.wav");
    append_silence (a, 4500);
    append (a, "q2-interrupt-16k.wav");
    append_silence (a, 6500);
  }
  g_byte_array_set_size (a, MIN (a->len, (gsize) IN_RATE * 2 * TOTAL_S));
  return a;
}

/* The turn number in "echo of turn N; ..." */
static guint
echo_turn (const gchar * text)
{
  const gchar *p = strstr (text, "echo of turn ");

  fail_unless (p != NULL, "not an echo: %s", text);
  return (guint) g_ascii_strtoull (p + strlen ("echo of turn "), NULL, 10);
}

GST_START_TEST (test_three_minutes_with_go_away)
{
  const gchar *extra[] = { "--go-away-every-ms", GO_AWAY_EVERY_MS, NULL };
  ItEmu *emu = it_emu_start_full (NULL, FALSE, extra);
  GByteArray *input = make_input ();
  gchar *tmp = it_tmpdir_new ();
  gchar *wav = it_wav_write (tmp, "conversation.wav", input->data, input->len,
      IN_RATE);
  GError *err = NULL;
  gchar *desc = g_strdup_printf ("filesrc location=\"%s\" ! wavparse ! "
      "s2sgemini name=s2s api-key=test-key url=%s transcribe-input=true ! "
      "fakesink name=sink sync=true", wav, emu->url);
  GstElement *p = gst_parse_launch (desc, &err), *s2s;
  ItSink *sink;
  GPtrArray *msgs = it_msgs_new (), *log;
  GByteArray *received = g_byte_array_new ();
  GstStructure *stats = NULL;
  gchar *first_user = NULL, *last = NULL;
  guint conns, c, i, rotations = 0, reconnects = 0, turns_seen = 0;
  guint prev_turn = 0, n_final = 0;
  gsize tail;

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

  /* connections the emulator saw */
  log = it_emu_log (emu);
  conns = it_log_count (log, "conn", "open");
  g_printerr ("renewal: %u connections, %u rotations, %u reconnects, "
      "%u s2s-session rotating\n", conns, rotations, reconnects,
      it_msgs_count (msgs, "s2s-session", "state", "rotating"));
  fail_unless (conns >= 4, "only %u connections in %d s", conns, TOTAL_S);
  fail_unless_equals_int (rotations, conns - 1);
  fail_unless_equals_int (reconnects, 0);
  fail_unless_equals_int (it_msgs_count (msgs, "s2s-session", "state",
          "rotating"), rotations);
  /* every connection after the first resumed; the history went nowhere */
  fail_unless_equals_int (it_log_count (log, "client", "setup"), conns);
  fail_unless_equals_int (it_log_count (log, "client", "clientContent"), 0);

  /* how long each switch took, rotating to ready (running time) */
  g_printerr ("renewal: longest switch %" GST_TIME_FORMAT "\n",
      GST_TIME_ARGS (it_msgs_longest_switch (msgs)));

  /* (a) every input sample exactly once, in order */
  for (c = 1; c <= conns; c++) {
    GBytes *raw = it_emu_in_raw (emu, c);
    gsize n;
    const guint8 *d = g_bytes_get_data (raw, &n);

    g_printerr ("renewal: connection %u got %.2f s of input\n", c,
        n / (2.0 * IN_RATE));
    g_byte_array_append (received, d, n);
    g_bytes_unref (raw);
  }
  fail_unless (received->len >= input->len, "%u of %u input bytes arrived",
      received->len, input->len);
  for (i = 0; i < input->len; i += 2)
    if (memcmp (input->data + i, received->data + i, 2) != 0)
      break;
  fail_unless (i >= input->len, "input differs at sample %u (%.3f s): a "
      "sample was lost or sent twice", i / 2, i / (2.0 * IN_RATE));
  tail = received->len - input->len;
  fail_unless (tail < (gsize) IN_RATE * 2 * 2, "%" G_GSIZE_FORMAT
      " bytes more than the source", tail);
  for (i = input->len; i < received->len; i++)
    fail_unless (received->data[i] == 0, "the end padding is not silence");

  /* (b) the output timeline */
  it_assert_timeline (sink, TRUE);

  /* (c) the conversation went on */
  for (i = 0; i < msgs->len; i++) {
    GstMessage *m = g_ptr_array_index (msgs, i);
    const GstStructure *s = gst_message_get_structure (m);
    gboolean final = FALSE;
    const gchar *role, *text;

    if (GST_MESSAGE_TYPE (m) != GST_MESSAGE_ELEMENT || s == NULL ||
        !gst_structure_has_name (s, "s2s-transcript") ||
        !gst_structure_get_boolean (s, "final", &final) || !final)
      continue;
    role = gst_structure_get_string (s, "role");
    text = gst_structure_get_string (s, "text");
    if (g_str_equal (role, "user")) {
      if (first_user == NULL)
        first_user = g_strdup (text);
      continue;
    }
    n_final++;
    turns_seen = echo_turn (text);
    fail_unless (turns_seen > prev_turn, "turn %u after turn %u: the "
        "conversation restarted (%s)", turns_seen, prev_turn, text);
    prev_turn = turns_seen;
    g_free (last);
    last = g_strdup (text);
  }
  g_printerr ("renewal: %u replies, last: %s\n", n_final, last);
  fail_unless (n_final >= 18, "only %u replies", n_final);
  fail_unless (first_user != NULL && last != NULL);
  {
    gchar *want = g_strdup_printf ("first turn: %s", first_user);
    fail_unless (strstr (last, want) != NULL, "the last reply forgot the "
        "first turn: %s (first: %s)", last, first_user);
    g_free (want);
  }

  g_free (first_user);
  g_free (last);
  g_ptr_array_unref (log);
  g_byte_array_unref (received);
  g_ptr_array_unref (msgs);
  it_sink_free (sink);
  it_pipeline_stop (p);
  g_free (desc);
  g_free (wav);
  it_tmpdir_remove (tmp);
  g_free (tmp);
  g_byte_array_unref (input);
  it_emu_stop (emu);
}

GST_END_TEST;

static Suite *
s2s_gemini_renewal_suite (void)
{
  Suite *s = suite_create ("s2s-integration-gemini-renewal");
  TCase *tc = tcase_create ("renewal");

  suite_add_tcase (s, tc);
  tcase_set_timeout (tc, TOTAL_S + 90);
  tcase_add_test (tc, test_three_minutes_with_go_away);
  return s;
}

GST_CHECK_MAIN (s2s_gemini_renewal);
