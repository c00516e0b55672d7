/* gst-s2s
 * Copyright (C) 2026 gst-s2s developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The unit tests' fixture, shared by every element's test: the in-process
 * mock server, the element under test in a GstHarness, a bus that keeps
 * every message, and helpers to wait for messages, buffers and events.
 */

#ifndef __S2S_FIXTURE_H__
#define __S2S_FIXTURE_H__

#include <gst/check/gstcheck.h>
#include <gst/check/gstharness.h>

#include "s2s-mock-server.h"

#ifdef HAVE_VALGRIND
#include <valgrind/valgrind.h>
#else
#define RUNNING_ON_VALGRIND 0
#endif

G_BEGIN_DECLS

#define MS(x) ((GstClockTime) (x) * GST_MSECOND)
/* bound for things that take a few ms; only reached when a test fails
 * (valgrind on a loaded 2-core machine needs far more) */
#define WAIT_MS (RUNNING_ON_VALGRIND ? 30000 : 5000)

/* Fixture: mock server + element + harness + a bus that keeps every message */
typedef struct _Fx Fx;
struct _Fx
{
  S2SMockServer *mock;
  GstElement *el;
  GstHarness *h;
  GstBus *bus;
  GMutex lock;
  GCond cond;
  GPtrArray *msgs;
  /* when set, sees every message in the posting thread before it is kept */
  void (*on_msg) (Fx * fx, GstMessage * msg);
};

/* A mock server with @opts and a @factory element pointed at it with
 * @api_key; fx_start() puts it in a harness and goes to PLAYING */
Fx *fx_new_for (const gchar * factory, const gchar * api_key,
    const S2SMockOptions * opts);
void fx_start (Fx * fx, const gchar * caps);
void fx_free (Fx * fx);

gboolean msg_matches (GstMessage * m, GstMessageType type, const gchar * name,
    const gchar * field, const gchar * value);
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
/* Input buffer @index of @bytes (no timestamps, so no pacing): the mock's
 * pattern from sample @offset + @index * @bytes / 2 */
GstBuffer *fx_input_chunk (guint index, gsize bytes, guint64 offset);
void fx_push_input (Fx * fx, guint start, guint n, gsize bytes,
    guint64 offset);

JsonObject *jobj (JsonObject * o, const gchar * name);
const gchar *jstr (JsonObject * o, const gchar * name);
gint64 jint (JsonObject * o, const gchar * name, gint64 def);
JsonArray *parse_array (const gchar * json);

/* I/O threads of this process (s2s-io, s2s-io-N) */
guint count_s2s_io_threads (void);
/* count_s2s_io_threads polled until it is @n, for at most 2 s; returns the
 * last count. A thread an I/O thread starts (GLib's gmain worker, on the
 * first connect) has the I/O thread's name until it names itself, which on
 * a loaded machine takes a while; so also after a stop, where the I/O
 * thread itself is joined already (seen: 1 counted right after NULL in
 * CI, with the machine overloaded). */
guint wait_s2s_io_threads (guint n);

/* Counts the debug lines of category "s2s" at @level that contain @text
 * (after the element's log tag; from @object, when not NULL), from
 * fx_log_count_start() (which raises the category's threshold to @level)
 * to fx_log_count_stop() (which returns the count) */
typedef struct
{
  GstDebugLevel level;
  const gchar *text;
  gpointer object;
  gint count;
} FxLogCount;

void fx_log_count_start (FxLogCount * c);
gint fx_log_count_stop (FxLogCount * c);

/* Setting @property to @value refuses READY with an invalid-config ERROR
 * naming @prop_name, before any connection and without @api_key in it;
 * "api-key" means no key at all (@key_env unset) */
void check_config_error_for (const gchar * factory, const gchar * api_key,
    const gchar * key_env, const gchar * property, const gchar * prop_name,
    const gchar * value);

G_END_DECLS

#endif
