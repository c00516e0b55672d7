/* gst-s2s
 * Copyright (C) 2026 gst-s2s developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The unit tests' fixture, shared by every provider element built on
 * s2sopenai's wire protocol (s2sopenai, s2sgrok): the in-process mock
 * server, the element under a GstHarness, a bus that keeps every message,
 * and pull/JSON helpers.
 */

#ifndef __S2S_CHECK_FIXTURE_H__
#define __S2S_CHECK_FIXTURE_H__

#include <gst/check/gstcheck.h>
#include <gst/check/gstharness.h>
#include <json-glib/json-glib.h>

#include "s2s-mock-server.h"

#ifdef HAVE_VALGRIND
#include <valgrind/valgrind.h>
#else
#define RUNNING_ON_VALGRIND 0
#endif

G_BEGIN_DECLS

#define API_KEY "sk-unit-test-SECRET"
#define S16_CAPS "audio/x-raw, format=(string)S16LE, " \
    "layout=(string)interleaved, rate=(int)24000, channels=(int)1"
#define MULAW_CAPS "audio/x-mulaw, rate=(int)8000, channels=(int)1"
#define ALAW_CAPS "audio/x-alaw, rate=(int)8000, channels=(int)1"
/* 20 ms of 24 kHz S16LE: the element's output buffer size */
#define CHUNK_BYTES 960
#define MS(x) ((GstClockTime) (x) * GST_MSECOND)
/* bound for things that take a few ms; only reached when a test fails
 * (a session's first start takes seconds under valgrind) */
#define WAIT_MS (RUNNING_ON_VALGRIND ? 30000 : 5000)

typedef struct
{
  S2SMockServer *mock;
  GstElement *el;
  GstHarness *h;
  GstBus *bus;
  GMutex lock;
  GCond cond;
  GPtrArray *msgs;
} Fx;

/* @factory against the mock server, with api-key API_KEY */
Fx *fx_new_for (const gchar * factory, const S2SMockOptions * opts);
void fx_start (Fx * fx, const gchar * caps);
void fx_free (Fx * fx);
gboolean msg_matches (GstMessage * m, GstMessageType type, const gchar * name,
    const gchar * field, const gchar * value);
/* The first message at or after *cursor (0 when NULL) that matches; moves
 * the cursor past it. Returns a ref, or NULL after @timeout_ms. */
GstMessage *fx_wait_msg (Fx * fx, guint * cursor, GstMessageType type,
    const gchar * name, const gchar * field, const gchar * value,
    guint timeout_ms);
guint fx_count_msgs (Fx * fx, GstMessageType type, const gchar * name,
    const gchar * field, const gchar * value);
void fx_wait_response (Fx * fx, const gchar * event,
    const gchar * response_id);
void fx_wait_ready (Fx * fx);
GstBuffer *pull_buffer (GstHarness * h, guint timeout_ms);
GstEvent *pull_event (GstHarness * h, guint timeout_ms);
GstEvent *pull_event_of_type (GstHarness * h, GstEventType type,
    guint timeout_ms);
GPtrArray *pull_bytes (GstHarness * h, gsize bytes, guint timeout_ms);
GstBuffer *make_buffer (const guint8 * data, gsize size);
GstBuffer *input_chunk (guint index);
void push_input (Fx * fx, guint start, guint n);
void assert_buffers_equal_pattern (GPtrArray * bufs, guint64 first_sample,
    gsize bytes);
JsonObject *jobj (JsonObject * o, const gchar * name);
const gchar *jstr (JsonObject * o, const gchar * name);
gint64 jint (JsonObject * o, const gchar * name, gint64 def);
JsonArray *parse_array (const gchar * json);
guint count_s2s_io_threads (void);
/* Setting @property to @value refuses READY with an invalid-config ERROR
 * naming @prop_name, before any connection; "api-key" means no key at all
 * (@key_env unset) */
void check_config_error_for (const gchar * factory, const gchar * key_env,
    const gchar * property, const gchar * prop_name, const gchar * value);

G_END_DECLS

#endif
