/* gst-s2s
 * Copyright (C) 2026 gst-s2s developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The base64 codec (ext/s2s/gsts2sbase64.c) against RFC 4648 and GLib, and
 * s2sopenai's audio-delta fast path against json-glib (differential, as in
 * the fuzz targets: tests/fuzz/openai-delta-diff.h).
 */

#include <string.h>
#include <gst/gst.h>
#include "gsts2sbase64.h"
#include "openai/gsts2sopenai-private.h"
#include "../../fuzz/openai-delta-diff.h"

/* ---- base64 ---- */

static gchar *
encode (const gchar * data, gsize n)
{
  gchar *out = g_malloc (gst_s2s_base64_encoded_size (n) + 1);

  out[gst_s2s_base64_encode ((const guint8 *) data, n, out)] = '\0';
  return out;
}

/* the decoded bytes as a string, or NULL when refused */
static gchar *
decode (const gchar * text)
{
  gsize len = strlen (text), n;
  gchar *out = g_malloc (gst_s2s_base64_decoded_max (len) + 1);

  if (!gst_s2s_base64_decode (text, len, (guint8 *) out, &n)) {
    g_free (out);
    return NULL;
  }
  out[n] = '\0';
  return out;
}

static void
test_rfc4648_vectors (void)
{
  /* RFC 4648 §10 */
  static const gchar *vectors[][2] = {
    {"", ""}, {"f", "Zg=="}, {"fo", "Zm8="}, {"foo", "Zm9v"},
    {"foob", "Zm9vYg=="}, {"fooba", "Zm9vYmE="}, {"foobar", "Zm9vYmFy"},
  };
  guint i;

  for (i = 0; i < G_N_ELEMENTS (vectors); i++) {
    gchar *e = encode (vectors[i][0], strlen (vectors[i][0]));
    gchar *d = decode (vectors[i][1]);

    g_assert_cmpstr (e, ==, vectors[i][1]);
    g_assert_cmpuint (gst_s2s_base64_encoded_size (strlen (vectors[i][0])),
        ==, strlen (vectors[i][1]));
    g_assert_cmpstr (d, ==, vectors[i][0]);
    g_free (e);
    g_free (d);
  }
}

static void
test_round_trip_glib (void)
{
  GRand *rand = g_rand_new_with_seed (4648);
  guint8 *data = g_malloc (4097);
  gsize n;

  for (n = 0; n <= 4096; n++) {
    gchar *ours, *ref;
    guint8 *back;
    guchar *ref_back;
    gsize i, len, ref_len;

    for (i = 0; i < n; i++)
      data[i] = g_rand_int (rand);
    ours = g_malloc (gst_s2s_base64_encoded_size (n) + 1);
    len = gst_s2s_base64_encode (data, n, ours);
    ours[len] = '\0';
    ref = g_base64_encode (data, n);
    g_assert_cmpstr (ours, ==, ref);

    back = g_malloc (gst_s2s_base64_decoded_max (len) + 1);
    g_assert_true (gst_s2s_base64_decode (ref, len, back, &len));
    g_assert_cmpuint (len, ==, n);
    g_assert_cmpmem (back, len, data, n);
    if (n > 0) {
      ref_back = g_base64_decode (ours, &ref_len);
      g_assert_cmpmem (ref_back, ref_len, data, n);
      g_free (ref_back);
    }
    /* in place */
    g_assert_true (gst_s2s_base64_decode (ours, strlen (ours),
            (guint8 *) ours, &len));
    g_assert_cmpmem (ours, len, data, n);
    g_free (back);
    g_free (ref);
    g_free (ours);
  }
  g_free (data);
  g_rand_free (rand);
}

/* The append event, byte for byte, for sizes around every loop boundary of
 * the encoder (12-byte turns read 14 bytes ahead, 6-byte turns, the tail),
 * a 20 ms buffer and the largest stack-built event; written exactly into
 * the room gst_s2s_openai_append_size() names, nothing past it */
static void
test_build_append (void)
{
  static const gsize sizes[] = { 960, 4095, 4096, 4097, 48000 };
  GRand *rand = g_rand_new_with_seed (1870);
  guint8 *data = g_malloc (48000);
  gsize i, k;

  for (i = 0; i < 48000; i++)
    data[i] = g_rand_int (rand);
  for (k = 0; k < 64 + G_N_ELEMENTS (sizes); k++) {
    gsize n = k < 64 ? k : sizes[k - 64], room, len;
    gchar *b64 = g_base64_encode (data, n);
    gchar *want = g_strconcat ("{\"type\":\"input_audio_buffer.append\","
        "\"audio\":\"", b64, "\"}", NULL);
    gchar *out, *built;

    room = gst_s2s_openai_append_size (n);
    g_assert_cmpuint (room, ==, strlen (want) + 1);
    out = g_malloc (room + 16);
    memset (out, 0x5a, room + 16);
    len = gst_s2s_openai_write_append (data, n, out);
    g_assert_cmpuint (len, ==, strlen (want));
    g_assert_cmpstr (out, ==, want);
    for (i = room; i < room + 16; i++)
      g_assert_cmpint (out[i], ==, 0x5a);
    built = gst_s2s_openai_build_append (data, n, &len);
    g_assert_cmpuint (len, ==, strlen (want));
    g_assert_cmpstr (built, ==, want);
    g_free (built);
    g_free (out);
    g_free (want);
    g_free (b64);
  }
  g_free (data);
  g_rand_free (rand);
}

static void
test_invalid (void)
{
  static const gchar *invalid[] = {
    "A", "AA", "AAA", "AAAAA",  /* not a multiple of 4 */
    "Zm9v YmFy", "Zm9v\nYmFy", " Zm8=", "Zm8= ",        /* whitespace */
    "Zm=v", "Zm9vY===", "=m9v", "Z===", "====", "Zm8=Zm8=",     /* padding */
    "Zh==", "Zm9=",             /* bits under the padding not zero */
    "Zm9-", "Zm9_", "Zm9\x80", "Zm9\"", "Zm9\\", "AAAAAAA!", "!AAAAAAAAAAA",
    "AAAAAAAAAAA\x01",
  };
  guint i;

  for (i = 0; i < G_N_ELEMENTS (invalid); i++) {
    gchar *d = decode (invalid[i]);
    if (d != NULL)
      g_error ("accepted \"%s\"", invalid[i]);
  }
  /* an embedded NUL */
  {
    guint8 out[6];
    gsize n;
    g_assert_false (gst_s2s_base64_decode ("AAAA\0AAA", 8, out, &n));
  }
  /* an invalid character in every position of a long text */
  {
    gchar *text = encode ("0123456789abcdefghijklmnopqrstuvwxyz", 36);
    gsize len = strlen (text), j, n;
    guint8 *out = g_malloc (len);

    for (j = 0; j < len; j++) {
      gchar c = text[j];
      text[j] = '*';
      g_assert_false (gst_s2s_base64_decode (text, len, out, &n));
      text[j] = c;
    }
    g_assert_true (gst_s2s_base64_decode (text, len, out, &n));
    g_free (out);
    g_free (text);
  }
}

/* ---- the audio-delta fast path ---- */

static gboolean
scan (const gchar * text, GstS2SOpenAIAudioDelta * ev)
{
  return gst_s2s_openai_scan_audio_delta (text, strlen (text), ev);
}

static void
test_scan_fields (void)
{
  GstS2SOpenAIAudioDelta ev;
  const gchar *text = "{\"type\":\"response.output_audio.delta\","
      "\"event_id\":\"event_7\",\"response_id\":\"resp_1\",\"item_id\":"
      "\"item_2\",\"output_index\":0,\"content_index\":3,\"delta\":\"Zm9v\"}";

  g_assert_true (scan (text, &ev));
  g_assert_cmpstr (ev.type, ==, "response.output_audio.delta");
  g_assert_cmpstr (ev.event_id, ==, "event_7");
  g_assert_cmpstr (ev.response_id, ==, "resp_1");
  g_assert_cmpstr (ev.item_id, ==, "item_2");
  g_assert_cmpint (ev.output_index, ==, 0);
  g_assert_cmpint (ev.content_index, ==, 3);
  g_assert_cmpuint (ev.delta_len, ==, 4);
  g_assert_cmpmem (ev.delta, ev.delta_len, "Zm9v", 4);
  g_assert_true (openai_delta_differential (text, strlen (text)));

  /* the beta name, whitespace, any order, missing ids */
  text = " {\r\n\t\"delta\" : \"Zm9vYg==\" , \"type\":\"response.audio.delta\""
      ",\"extra\":-5 }\n";
  g_assert_true (scan (text, &ev));
  g_assert_cmpstr (ev.type, ==, "response.audio.delta");
  g_assert_null (ev.response_id);
  g_assert_null (ev.item_id);
  g_assert_cmpint (ev.output_index, ==, -1);
  g_assert_true (openai_delta_differential (text, strlen (text)));
}

static void
test_scan_refuses (void)
{
  /* each goes to json-glib */
  static const gchar *refused[] = {
    "",
    "{}",
    "[]",
    "{\"type\":\"response.output_audio_transcript.delta\",\"delta\":\"Hi\"}",
    "{\"type\":\"response.output_audio.delta\"}",
    "{\"delta\":\"AAAA\"}",
    "{\"type\":\"response.output_audio.delta\",\"delta\":\"AAAA\",}",
    "{\"type\":\"response.output_audio.delta\",\"delta\":\"AAAA\"} x",
    "{\"type\":\"response.output_audio.delta\",\"delta\":\"AAAA\"",
    "{\"type\":\"response.output_audio.delta\",\"delta\":\"AAAA",
    "{\"type\":\"response.output_audio.delta\",\"delta\":\"AAAA\"}{}",
    "{\"type\":\"response.output_audio.delta\",\"delta\":AAAA}",
    "{\"type\":\"response.output_audio.delta\",\"type\":\"x\",\"delta\":\"AAAA\"}",
    "{\"type\":\"response.output_audio.delta\",\"delta\":\"AAAA\",\"delta\":\"AAAA\"}",
    "{\"type\":\"response.output_audio.delta\",\"x\":1,\"x\":2,\"delta\":\"AAAA\"}",
    "{\"type\":\"response.output_audio.delta\",\"item\":{},\"delta\":\"AAAA\"}",
    "{\"type\":\"response.output_audio.delta\",\"a\":[1],\"delta\":\"AAAA\"}",
    "{\"type\":\"response.output_audio.delta\",\"a\":null,\"delta\":\"AAAA\"}",
    "{\"type\":\"response.output_audio.delta\",\"a\":true,\"delta\":\"AAAA\"}",
    "{\"type\":\"response.output_audio.delta\",\"a\":1.5,\"delta\":\"AAAA\"}",
    "{\"type\":\"response.output_audio.delta\",\"a\":1e3,\"delta\":\"AAAA\"}",
    "{\"type\":\"response.output_audio.delta\",\"a\":01,\"delta\":\"AAAA\"}",
    "{\"type\":\"response.output_audio.delta\",\"a\":-,\"delta\":\"AAAA\"}",
    "{\"type\":\"response.output_audio.delta\",\"a\":1234567890123456,"
        "\"delta\":\"AAAA\"}",
    "{\"type\":\"response.output_audio.delta\",\"item_id\":5,\"delta\":\"AAAA\"}",
    "{\"type\":\"response.output_audio.delta\",\"output_index\":\"0\","
        "\"delta\":\"AAAA\"}",
    "{\"type\":\"response.output_audio.delta\",\"delta\":7}",
    "{\"type\":\"response.output_audio.delta\",\"item_id\":\"a\\\"b\","
        "\"delta\":\"AAAA\"}",
    "{\"type\":\"response.output_audio.delta\",\"item_id\":\"\xc3\xa9\","
        "\"delta\":\"AAAA\"}",
    "{\"type\":\"response.output_audio.delta\",\"item_id\":\"a\tb\","
        "\"delta\":\"AAAA\"}",
    "{\"type\":\"response.output_audio.delta\",\"it\\u0065m_id\":\"a\","
        "\"delta\":\"AAAA\"}",
    "{\"type\" \"response.output_audio.delta\",\"delta\":\"AAAA\"}",
    "{\"type\":\"response.output_audio.delta\"\"delta\":\"AAAA\"}",
    "\v{\"type\":\"response.output_audio.delta\",\"delta\":\"AAAA\"}",
  };
  GstS2SOpenAIAudioDelta ev;
  guint i;

  for (i = 0; i < G_N_ELEMENTS (refused); i++) {
    if (scan (refused[i], &ev))
      g_error ("fast path took %s", refused[i]);
  }
  /* 17 members */
  {
    GString *s = g_string_new ("{\"type\":\"response.audio.delta\"");
    for (i = 0; i < 15; i++)
      g_string_append_printf (s, ",\"k%u\":%u", i, i);
    g_string_append (s, ",\"delta\":\"AAAA\"}");
    g_assert_false (scan (s->str, &ev));
    g_string_free (s, TRUE);
  }
  /* an id of 127 characters fits, 128 does not */
  {
    gchar *id = g_strnfill (127, 'i');
    gchar *text = g_strdup_printf ("{\"type\":\"response.audio.delta\","
        "\"item_id\":\"%s\",\"delta\":\"AAAA\"}", id);
    gchar *longer = g_strdup_printf ("{\"type\":\"response.audio.delta\","
        "\"item_id\":\"%si\",\"delta\":\"AAAA\"}", id);

    g_assert_true (scan (text, &ev));
    g_assert_cmpstr (ev.item_id, ==, id);
    g_assert_false (scan (longer, &ev));
    g_free (longer);
    g_free (text);
    g_free (id);
  }
  /* taken by the scanner, refused by the decoder: the element falls back */
  {
    static const gchar *bad[] = { "", "A", "AAA", "AAAAA", "AB==", "!!!!",
      "AAAA\\/AAA", "AAA=AAAA", "AAAA\\u0041AAA"
    };
    for (i = 0; i < G_N_ELEMENTS (bad); i++) {
      gchar *text = g_strdup_printf ("{\"type\":\"response.audio.delta\","
          "\"delta\":\"%s\"}", bad[i]);
      g_assert_false (openai_delta_differential (text, strlen (text)));
      g_free (text);
    }
  }
}

/* random events built like a server's (json-glib's generator) and by hand
 * with spacing and member order varied: the fast path takes them all and
 * reads what json-glib reads */
static void
test_differential_random (void)
{
  GRand *rand = g_rand_new_with_seed (2026);
  guint round;

  for (round = 0; round < 300; round++) {
    gsize n = g_rand_int_range (rand, 1, 2000), i, len;
    guint8 *pcm = g_malloc (n);
    gchar *b64, *text, *rid, *iid;
    JsonObject *o = json_object_new ();
    JsonNode *root = json_node_new (JSON_NODE_OBJECT);
    JsonGenerator *gen = json_generator_new ();

    for (i = 0; i < n; i++)
      pcm[i] = g_rand_int (rand);
    b64 = g_base64_encode (pcm, n);
    rid = g_strdup_printf ("resp_%08x", g_rand_int (rand));
    iid = g_strdup_printf ("item_%u", g_rand_int (rand));
    json_object_set_string_member (o, "type", g_rand_boolean (rand) ?
        "response.output_audio.delta" : "response.audio.delta");
    json_object_set_string_member (o, "event_id", "event_1");
    json_object_set_string_member (o, "response_id", rid);
    json_object_set_string_member (o, "item_id", iid);
    json_object_set_int_member (o, "output_index", g_rand_int_range (rand, 0,
            3));
    json_object_set_int_member (o, "content_index", 0);
    json_object_set_string_member (o, "delta", b64);
    json_node_take_object (root, o);
    json_generator_set_root (gen, root);
    json_generator_set_pretty (gen, g_rand_boolean (rand));
    text = json_generator_to_data (gen, &len);
    if (!openai_delta_differential (text, len))
      g_error ("fast path refused %s", text);
    g_free (text);

    text = g_strdup_printf ("%s{ \"delta\":\"%s\",%s\"item_id\" :\"%s\","
        "\"type\":\"response.output_audio.delta\",\"output_index\":-%u }",
        g_rand_boolean (rand) ? " " : "", b64,
        g_rand_boolean (rand) ? "\t" : "", iid, g_rand_int_range (rand, 0,
            99999));
    if (!openai_delta_differential (text, strlen (text)))
      g_error ("fast path refused %s", text);
    g_free (text);

    g_object_unref (gen);
    json_node_unref (root);
    g_free (rid);
    g_free (iid);
    g_free (b64);
    g_free (pcm);
  }
  g_rand_free (rand);
}

int
main (int argc, char **argv)
{
  gst_init (&argc, &argv);
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/base64/rfc4648-vectors", test_rfc4648_vectors);
  g_test_add_func ("/base64/round-trip-glib", test_round_trip_glib);
  g_test_add_func ("/base64/invalid", test_invalid);
  g_test_add_func ("/openai/build-append", test_build_append);
  g_test_add_func ("/openai/fast-path/fields", test_scan_fields);
  g_test_add_func ("/openai/fast-path/refuses", test_scan_refuses);
  g_test_add_func ("/openai/fast-path/differential", test_differential_random);
  return g_test_run ();
}
