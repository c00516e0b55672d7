/* gst-s2s integration tests: barge-in against the emulator with paced audio
 * Copyright (C) 2026 gst-s2s developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The input is q1, 1.0 s of silence, then q2. The emulator answers q1 with
 * its echo (about 2.7 s) sent in real time (--pace-audio), and the element
 * plays it on a synchronised sink; q2 starts about 1 s into that reply, the
 * emulator's VAD reports speech_started, and the element must drop what is
 * queued, post `s2s-response` interrupted and tell the server with
 * conversation.item.truncate how much the user actually heard.
 *
 * What is compared: the element computes
 *     played = now - pipeline_latency - item_first_pts   (clamped to pushed)
 * at speech_started; a buffer with PTS t is rendered by the synchronised
 * sink at running time t + pipeline_latency. So the duration of the reply
 * buffers whose render (fakesink handoff) happened before the interruption
 * (the running-time of the `s2s-response` interrupted message) must equal
 * audio_end_ms of the truncate within one output buffer (20 ms); a little
 * scheduling slack is allowed on top.
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <string.h>
#include <gst/check/gstcheck.h>

#include "emu-helper.h"

#define RATE 24000
#define OUT_BUFFER_MS 40            /* the element's output buffers (OUT_CHUNK_MS) */
#define SLACK_MS 5

typedef struct
{
  GMutex lock;
  GstClockTime latency;
} LatencyProbe;

static GstPadProbeReturn
latency_probe (GstPad * pad, GstPadProbeInfo * info, gpointer data)
{
  LatencyProbe *lp = data;
  GstEvent *ev = GST_PAD_PROBE_INFO_EVENT (info);

  if (GST_EVENT_TYPE (ev) == GST_EVENT_LATENCY) {
    GstClockTime l;
    gst_event_parse_latency (ev, &l);
    g_mutex_lock (&lp->lock);
    lp->latency = l;
    g_mutex_unlock (&lp->lock);
  }
  return GST_PAD_PROBE_OK;
}

GST_START_TEST (test_barge_in)
{
  const gchar *extra[] = { "--pace-audio", NULL };
  ItEmu *emu = it_emu_start_full (NULL, FALSE, extra);
  gchar *q1 = it_audio_path ("q1-weather-24k.wav");
  gchar *q2 = it_audio_path ("q2-interrupt-24k.wav");
  GBytes *b1 = it_wav_read_pcm (q1, RATE), *b2 = it_wav_read_pcm (q2, RATE);
  gsize n1, n2, gap = RATE * 2; /* 1.0 s of silence */
  const guint8 *d1, *d2;
  GError *err = NULL;
  GByteArray *input = g_byte_array_new ();
  gchar *tmp = it_tmpdir_new (), *wav, *desc;
  GstElement *p, *s2s;
  GstPad *srcpad;
  ItSink *sink;
  LatencyProbe lp = { {0,}, GST_CLOCK_TIME_NONE };
  GPtrArray *msgs = it_msgs_new (), *log;
  GstMessage *m;
  gint i_int, i_trunc, i_first;
  const GstStructure *st;
  GstClockTime int_rt = 0, played = 0, received = 0, first_pts = 0;
  GstClockTime rendered = 0, rendered_total = 0, latency;
  guint64 audio_end_ms;
  JsonObject *trunc;
  const gchar *resp_id, *item_id;
  GstStructure *stats = NULL;
  guint interruptions = 0, i;
  gdouble diff_ms;

  /* q1 + 1.0 s silence + q2 */
  d1 = g_bytes_get_data (b1, &n1);
  d2 = g_bytes_get_data (b2, &n2);
  g_byte_array_append (input, d1, n1);
  g_byte_array_set_size (input, n1 + gap);
  memset (input->data + n1, 0, gap);
  g_byte_array_append (input, d2, n2);
  wav = it_wav_write (tmp, "q1-pause-q2.wav", input->data, input->len, RATE);

  desc = g_strdup_printf ("filesrc location=\"%s\" ! wavparse ! "
      "%s name=s2s url=%s api-key=sk-test ! "
      "fakesink name=sink sync=true", wav, it_provider ()->element, emu->url);
  p = gst_parse_launch (desc, &err);
  fail_unless (p != NULL && err == NULL, "%s: %s", desc,
      err ? err->message : "?");
  s2s = gst_bin_get_by_name (GST_BIN (p), "s2s");
  srcpad = gst_element_get_static_pad (s2s, "src");
  g_mutex_init (&lp.lock);
  gst_pad_add_probe (srcpad, GST_PAD_PROBE_TYPE_EVENT_UPSTREAM,
      latency_probe, &lp, NULL);
  sink = it_sink_attach (p, "sink");

  m = it_run (p, 30000, msgs, it_until_interrupted, NULL);
  if (m) {
    GError *e = NULL;
    if (GST_MESSAGE_TYPE (m) == GST_MESSAGE_ERROR)
      gst_message_parse_error (m, &e, NULL);
    fail ("pipeline ended before the barge-in: %s", e ? e->message : "EOS");
  }
  i_int = it_msgs_find (msgs, 0, "s2s-response", "event", "interrupted");
  fail_unless (i_int >= 0, "no s2s-response interrupted within 30 s");

  /* the element tells the server right away (a generous bound: the wait
   * ends as soon as the emulator logs it); let the sink finish the buffer
   * it holds, then stop */
  fail_unless (it_emu_wait_log (emu, "client", "conversation.item.truncate",
          10000), "no conversation.item.truncate");
  g_usleep (200 * 1000);
  fail_unless (gst_element_set_state (p, GST_STATE_NULL) ==
      GST_STATE_CHANGE_SUCCESS);

  st = it_msgs_get (msgs, i_int);
  fail_unless (gst_structure_get_uint64 (st, "running-time", &int_rt));
  fail_unless (gst_structure_get_uint64 (st, "played-duration", &played));
  fail_unless (gst_structure_get_uint64 (st, "audio-duration", &received));
  resp_id = gst_structure_get_string (st, "response-id");
  fail_unless (resp_id != NULL);
  i_first = it_msgs_find (msgs, 0, "s2s-response", "event", "first-audio");
  fail_unless (i_first >= 0 && i_first < i_int);
  fail_unless_equals_string (gst_structure_get_string (it_msgs_get (msgs,
              i_first), "response-id"), resp_id);
  fail_unless (gst_structure_get_uint64 (it_msgs_get (msgs, i_first), "pts",
          &first_pts));
  /* the user was speaking again */
  fail_unless (it_msgs_find (msgs, i_first, "s2s-speech", "event",
          "started") >= 0);

  g_mutex_lock (&lp.lock);
  latency = lp.latency;
  g_mutex_unlock (&lp.lock);
  fail_unless (GST_CLOCK_TIME_IS_VALID (latency), "no LATENCY event seen");

  /* what the sink rendered of the reply before the interruption, and in
   * all (only this reply played: the run stopped long before q2's) */
  for (i = 0; i < sink->bufs->len; i++) {
    ItBuf *b = &g_array_index (sink->bufs, ItBuf, i);
    fail_unless (b->pts >= first_pts);
    if (b->render_rt <= int_rt)
      rendered += b->duration;
    rendered_total += b->duration;
  }

  log = it_emu_log (emu);
  i_trunc = it_log_find (log, 0, "client", "conversation.item.truncate");
  fail_unless (i_trunc >= 0);
  trunc = it_log_event (g_ptr_array_index (log, i_trunc));
  audio_end_ms = json_object_get_int_member (trunc, "audio_end_ms");
  item_id = json_object_get_string_member (trunc, "item_id");
  fail_unless_equals_int (json_object_get_int_member (trunc,
          "content_index"), 0);
  /* the truncated item is the reply's, and the server took the truncate */
  fail_unless_equals_string (item_id, json_object_get_string_member
      (json_object_get_object_member (it_log_event (g_ptr_array_index (log,
                      it_log_find (log, 0, "server",
                          "response.output_item.added"))), "item"), "id"));
  fail_unless (it_log_find (log, i_trunc, "server",
          "conversation.item.truncated") > i_trunc,
      "the emulator refused the truncate");
  /* the server cancelled its response itself (interrupt_response) */
  fail_unless (it_log_find (log, 0, "server", "response.done") >= 0);

  diff_ms = ((gdouble) rendered - (gdouble) audio_end_ms * GST_MSECOND) /
      GST_MSECOND;
  g_printerr ("barge-in: pipeline latency %" GST_TIME_FORMAT ", played "
      "(element) %" GST_TIME_FORMAT " of %" GST_TIME_FORMAT " received, "
      "truncate audio_end_ms %" G_GUINT64_FORMAT ", rendered before the "
      "interruption %" GST_TIME_FORMAT " (diff %.1f ms), rendered in all %"
      GST_TIME_FORMAT "\n", GST_TIME_ARGS (latency), GST_TIME_ARGS (played),
      GST_TIME_ARGS (received), audio_end_ms, GST_TIME_ARGS (rendered),
      diff_ms, GST_TIME_ARGS (rendered_total));

  /* the message and the wire agree */
  fail_unless_equals_uint64 (audio_end_ms, played / GST_MSECOND);
  /* never more than received; some of it was heard. All that was received
   * is heard when the reply under-ran (the emulator's real-time deltas fell
   * behind the sink on a loaded machine): the reply was still being
   * generated, so it is cut all the same, at the end of what arrived. */
  fail_unless (played > 0 && played <= received, "played %" GST_TIME_FORMAT
      " of %" GST_TIME_FORMAT, GST_TIME_ARGS (played),
      GST_TIME_ARGS (received));
  /* what was heard, within one buffer */
  fail_unless (ABS (diff_ms) <= OUT_BUFFER_MS + SLACK_MS,
      "truncate says %" G_GUINT64_FORMAT " ms, the sink rendered %"
      GST_TIME_FORMAT " before the interruption", audio_end_ms,
      GST_TIME_ARGS (rendered));
  /* queued output was dropped: at most the buffer the sink held, plus the
   * one the src task may have been pushing, reached the sink afterwards */
  fail_unless (rendered_total <= rendered + 2 * OUT_BUFFER_MS * GST_MSECOND,
      "%" GST_TIME_FORMAT " more rendered after the interruption",
      GST_TIME_ARGS (rendered_total - rendered));

  g_object_get (s2s, "stats", &stats, NULL);
  fail_unless (gst_structure_get_uint (stats, "interruptions", &interruptions));
  fail_unless_equals_int (interruptions, 1);
  gst_structure_free (stats);

  /* the conversation keeps what the user heard */
  {
    gchar *hist = NULL;
    JsonNode *h;
    JsonArray *arr;
    JsonObject *last;

    g_object_get (s2s, "history", &hist, NULL);
    h = it_json_parse (hist);
    arr = json_node_get_array (h);
    fail_unless (json_array_get_length (arr) >= 2);
    last = json_array_get_object_element (arr, 1);
    fail_unless_equals_string (json_object_get_string_member (last, "role"),
        "assistant");
    fail_unless (json_object_get_boolean_member_with_default (last,
            "interrupted", FALSE));
    json_node_unref (h);
    g_free (hist);
  }

  g_ptr_array_unref (log);
  gst_object_unref (srcpad);
  gst_object_unref (s2s);
  gst_object_unref (p);
  g_mutex_clear (&lp.lock);
  it_sink_free (sink);
  g_ptr_array_unref (msgs);
  g_byte_array_unref (input);
  g_bytes_unref (b1);
  g_bytes_unref (b2);
  it_tmpdir_remove (tmp);
  g_free (tmp);
  g_free (wav);
  g_free (desc);
  g_free (q1);
  g_free (q2);
  it_emu_stop (emu);
}

GST_END_TEST;

static Suite *
s2s_bargein_suite (void)
{
  Suite *s = suite_create ("s2s-integration-bargein");
  TCase *tc = tcase_create ("bargein");

  suite_add_tcase (s, tc);
  tcase_set_timeout (tc, 60);
  tcase_add_test (tc, test_barge_in);
  return s;
}

GST_CHECK_MAIN (s2s_bargein);
