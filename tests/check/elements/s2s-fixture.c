/* gst-s2s
 * Copyright (C) 2026 gst-s2s developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <string.h>

#include "s2s-fixture.h"



static GstBusSyncReply
fx_bus_sync (GstBus * bus, GstMessage * msg, gpointer data)
{
  Fx *fx = data;

  if (fx->on_msg)
    fx->on_msg (fx, msg);
  /* GST_BUS_DROP: the handler owns the message; the list keeps it */
  g_mutex_lock (&fx->lock);
  g_ptr_array_add (fx->msgs, msg);
  g_cond_broadcast (&fx->cond);
  g_mutex_unlock (&fx->lock);
  return GST_BUS_DROP;
}

Fx *
fx_new_for (const gchar * factory, const gchar * api_key,
    const S2SMockOptions * opts)
{
  Fx *fx = g_new0 (Fx, 1);
  gchar *url;

  g_mutex_init (&fx->lock);
  g_cond_init (&fx->cond);
  fx->msgs = g_ptr_array_new_with_free_func ((GDestroyNotify)
      gst_message_unref);
  fx->mock = s2s_mock_server_new (opts);
  fx->el = gst_element_factory_make (factory, NULL);
  fail_unless (fx->el != NULL, "%s not found: GST_PLUGIN_PATH_1_0?", factory);
  gst_object_ref_sink (fx->el);
  url = s2s_mock_server_get_url (fx->mock);
  g_object_set (fx->el, "url", url, "api-key", api_key, NULL);
  g_free (url);
  fx->bus = gst_bus_new ();
  gst_bus_set_sync_handler (fx->bus, fx_bus_sync, fx, NULL);
  gst_element_set_bus (fx->el, fx->bus);
  return fx;
}

/* Links the harness and goes to PLAYING (the harness does that as soon as
 * the element has a sink pad); @caps then go out with a TIME segment. */
void
fx_start (Fx * fx, const gchar * caps)
{
  fx->h = gst_harness_new_with_element (fx->el, "sink", "src");
  fail_unless (fx->h != NULL);
  if (caps)
    gst_harness_set_src_caps_str (fx->h, caps);
}

void
fx_free (Fx * fx)
{
  if (fx->h)
    gst_harness_teardown (fx->h);
  else
    gst_element_set_state (fx->el, GST_STATE_NULL);
  gst_element_set_bus (fx->el, NULL);
  gst_object_unref (fx->el);
  gst_bus_set_sync_handler (fx->bus, NULL, NULL, NULL);
  gst_object_unref (fx->bus);
  s2s_mock_server_free (fx->mock);
  g_ptr_array_unref (fx->msgs);
  g_mutex_clear (&fx->lock);
  g_cond_clear (&fx->cond);
  g_free (fx);
}

gboolean
msg_matches (GstMessage * m, GstMessageType type, const gchar * name,
    const gchar * field, const gchar * value)
{
  const GstStructure *s;

  if (!(GST_MESSAGE_TYPE (m) & type))
    return FALSE;
  if (name == NULL)
    return TRUE;
  s = gst_message_get_structure (m);
  if (s == NULL || !gst_structure_has_name (s, name))
    return FALSE;
  return field == NULL ||
      g_strcmp0 (gst_structure_get_string (s, field), value) == 0;
}

/* The first message at or after *cursor (0 when NULL) that matches; moves
 * the cursor past it. Returns a ref, or NULL after @timeout_ms. */
GstMessage *
fx_wait_msg (Fx * fx, guint * cursor, GstMessageType type, const gchar * name,
    const gchar * field, const gchar * value, guint timeout_ms)
{
  gint64 end = g_get_monotonic_time () + timeout_ms * G_TIME_SPAN_MILLISECOND;
  GstMessage *found = NULL;
  guint i = cursor ? *cursor : 0;

  g_mutex_lock (&fx->lock);
  for (;;) {
    for (; i < fx->msgs->len; i++) {
      GstMessage *m = g_ptr_array_index (fx->msgs, i);
      if (msg_matches (m, type, name, field, value)) {
        found = gst_message_ref (m);
        if (cursor)
          *cursor = i + 1;
        break;
      }
    }
    if (found || !g_cond_wait_until (&fx->cond, &fx->lock, end))
      break;
  }
  g_mutex_unlock (&fx->lock);
  return found;
}

guint
fx_count_msgs (Fx * fx, GstMessageType type, const gchar * name,
    const gchar * field, const gchar * value)
{
  guint i, n = 0;

  g_mutex_lock (&fx->lock);
  for (i = 0; i < fx->msgs->len; i++)
    if (msg_matches (g_ptr_array_index (fx->msgs, i), type, name, field, value))
      n++;
  g_mutex_unlock (&fx->lock);
  return n;
}

/* Waits for s2s-response @event of @response_id: once "done" (or, for a
 * reply still streaming, "first-audio") is seen the element has taken the
 * audio sent before it, so its timestamps are fixed and the test clock may
 * move on. */
void
fx_wait_response (Fx * fx, const gchar * event, const gchar * response_id)
{
  gint64 end = g_get_monotonic_time () + WAIT_MS * G_TIME_SPAN_MILLISECOND;
  guint cursor = 0;

  for (;;) {
    gint64 left = (end - g_get_monotonic_time ()) / 1000;
    GstMessage *m = fx_wait_msg (fx, &cursor, GST_MESSAGE_ELEMENT,
        "s2s-response", "event", event, left > 0 ? left : 0);
    gboolean match;

    fail_unless (m != NULL, "no s2s-response %s for %s", event, response_id);
    match = g_strcmp0 (gst_structure_get_string (gst_message_get_structure
            (m), "response-id"), response_id) == 0;
    gst_message_unref (m);
    if (match)
      return;
  }
}

void
fx_wait_ready (Fx * fx)
{
  GstMessage *m = fx_wait_msg (fx, NULL, GST_MESSAGE_ELEMENT, "s2s-session",
      "state", "ready", WAIT_MS);

  fail_unless (m != NULL, "the session never became ready");
  gst_message_unref (m);
}

GstBuffer *
pull_buffer (GstHarness * h, guint timeout_ms)
{
  gint64 end = g_get_monotonic_time () + timeout_ms * G_TIME_SPAN_MILLISECOND;

  do {
    GstBuffer *buf = gst_harness_try_pull (h);
    if (buf)
      return buf;
    g_usleep (1000);
  } while (g_get_monotonic_time () < end);
  return NULL;
}

GstEvent *
pull_event (GstHarness * h, guint timeout_ms)
{
  gint64 end = g_get_monotonic_time () + timeout_ms * G_TIME_SPAN_MILLISECOND;

  do {
    GstEvent *ev = gst_harness_try_pull_event (h);
    if (ev)
      return ev;
    g_usleep (1000);
  } while (g_get_monotonic_time () < end);
  return NULL;
}

/* Skips events of other types */
GstEvent *
pull_event_of_type (GstHarness * h, GstEventType type, guint timeout_ms)
{
  gint64 end = g_get_monotonic_time () + timeout_ms * G_TIME_SPAN_MILLISECOND;

  for (;;) {
    gint64 left = (end - g_get_monotonic_time ()) / 1000;
    GstEvent *ev = pull_event (h, left > 0 ? left : 0);

    if (ev == NULL)
      return NULL;
    if (GST_EVENT_TYPE (ev) == type)
      return ev;
    gst_event_unref (ev);
  }
}

/* Pulls buffers until @bytes have come; returns them in order */
GPtrArray *
pull_bytes (GstHarness * h, gsize bytes, guint timeout_ms)
{
  GPtrArray *bufs = g_ptr_array_new_with_free_func ((GDestroyNotify)
      gst_buffer_unref);
  gint64 end = g_get_monotonic_time () + timeout_ms * G_TIME_SPAN_MILLISECOND;
  gsize got = 0;

  while (got < bytes && g_get_monotonic_time () < end) {
    GstBuffer *buf = pull_buffer (h, 10);
    if (buf) {
      got += gst_buffer_get_size (buf);
      g_ptr_array_add (bufs, buf);
    }
  }
  return bufs;
}

GstBuffer *
make_buffer (const guint8 * data, gsize size)
{
  return gst_buffer_new_memdup (data, size);
}

GstBuffer *
fx_input_chunk (guint index, gsize bytes, guint64 offset)
{
  guint8 *pcm = s2s_mock_pattern ((guint64) index * (bytes / 2) + offset,
      bytes / 2);
  GstBuffer *buf = make_buffer (pcm, bytes);

  g_free (pcm);
  return buf;
}

void
fx_push_input (Fx * fx, guint start, guint n, gsize bytes, guint64 offset)
{
  guint i;

  for (i = start; i < start + n; i++)
    fail_unless_equals_int (gst_harness_push (fx->h, fx_input_chunk (i, bytes,
                offset)), GST_FLOW_OK);
}

/* JSON helpers */

JsonObject *
jobj (JsonObject * o, const gchar * name)
{
  JsonNode *n = o ? json_object_get_member (o, name) : NULL;
  return n && JSON_NODE_HOLDS_OBJECT (n) ? json_node_get_object (n) : NULL;
}

const gchar *
jstr (JsonObject * o, const gchar * name)
{
  JsonNode *n = o ? json_object_get_member (o, name) : NULL;

  if (n && JSON_NODE_HOLDS_VALUE (n) &&
      json_node_get_value_type (n) == G_TYPE_STRING)
    return json_node_get_string (n);
  return NULL;
}

gint64
jint (JsonObject * o, const gchar * name, gint64 def)
{
  JsonNode *n = o ? json_object_get_member (o, name) : NULL;

  if (n && JSON_NODE_HOLDS_VALUE (n) &&
      json_node_get_value_type (n) == G_TYPE_INT64)
    return json_node_get_int (n);
  return def;
}

JsonArray *
parse_array (const gchar * json)
{
  JsonParser *p = json_parser_new ();
  JsonArray *arr = NULL;

  if (json && json_parser_load_from_data (p, json, -1, NULL) &&
      JSON_NODE_HOLDS_ARRAY (json_parser_get_root (p)))
    arr = json_array_ref (json_node_get_array (json_parser_get_root (p)));
  g_object_unref (p);
  return arr;
}

guint
count_s2s_io_threads (void)
{
  GDir *dir = g_dir_open ("/proc/self/task", 0, NULL);
  const gchar *name;
  guint n = 0;

  fail_unless (dir != NULL);
  while ((name = g_dir_read_name (dir))) {
    gchar *path = g_build_filename ("/proc/self/task", name, "comm", NULL);
    gchar *comm = NULL;

    if (g_file_get_contents (path, &comm, NULL, NULL)) {
      g_strchomp (comm);
      if (g_str_has_prefix (comm, "s2s-io"))
        n++;
    }
    g_free (comm);
    g_free (path);
  }
  g_dir_close (dir);
  return n;
}

guint
wait_s2s_io_threads (guint n)
{
  gint64 end = g_get_monotonic_time () + 2 * G_TIME_SPAN_SECOND;
  guint got;

  while ((got = count_s2s_io_threads ()) != n && g_get_monotonic_time () < end)
    g_usleep (10 * 1000);
  return got;
}

static void
log_count_func (GstDebugCategory * category, GstDebugLevel level,
    const gchar * file, const gchar * function, gint line, GObject * object,
    GstDebugMessage * message, gpointer user_data)
{
  FxLogCount *c = user_data;
  const gchar *text = gst_debug_message_get (message);

  if (level == c->level && (c->object == NULL || object == c->object) &&
      text && strstr (text, c->text) &&
      g_str_equal (gst_debug_category_get_name (category), "s2s"))
    g_atomic_int_inc (&c->count);
}

void
fx_log_count_start (FxLogCount * c)
{
  c->count = 0;
  gst_debug_set_active (TRUE);
  gst_debug_set_threshold_for_name ("s2s", MAX (c->level,
          gst_debug_get_default_threshold ()));
  gst_debug_add_log_function (log_count_func, c, NULL);
}

gint
fx_log_count_stop (FxLogCount * c)
{
  gst_debug_remove_log_function_by_data (c);
  gst_debug_unset_threshold_for_name ("s2s");
  return g_atomic_int_get (&c->count);
}

/* Config checks */

void
check_config_error_for (const gchar * factory, const gchar * api_key,
    const gchar * key_env,
    const gchar * property, const gchar * prop_name, const gchar * value)
{
  Fx *fx = fx_new_for (factory, api_key, NULL);
  GstMessage *msg;
  GError *err = NULL;
  gchar *debug = NULL;
  const GstStructure *details = NULL;

  if (g_str_equal (property, "api-key")) {
    g_unsetenv (key_env);
    g_object_set (fx->el, "api-key", NULL, NULL);
  } else {
    gst_util_set_object_arg (G_OBJECT (fx->el), property, value);
  }

  fail_unless_equals_int (gst_element_set_state (fx->el, GST_STATE_READY),
      GST_STATE_CHANGE_FAILURE);
  msg = fx_wait_msg (fx, NULL, GST_MESSAGE_ERROR, NULL, NULL, NULL, WAIT_MS);
  fail_unless (msg != NULL, "no ERROR for %s", property);
  gst_message_parse_error (msg, &err, &debug);
  gst_message_parse_error_details (msg, &details);
  fail_unless (err->domain == GST_RESOURCE_ERROR);
  fail_unless (details != NULL);
  fail_unless (gst_structure_has_name (details, "s2s-error"));
  fail_unless_equals_string (gst_structure_get_string (details, "code"),
      "invalid-config");
  fail_unless (strstr (err->message, prop_name) != NULL,
      "\"%s\" does not name %s", err->message, prop_name);
  fail_if (strstr (err->message, api_key) || (debug && strstr (debug,
              api_key)), "the key leaked into the error");
  g_clear_error (&err);
  g_free (debug);
  gst_message_unref (msg);

  /* refused before any connection */
  g_usleep (50 * 1000);
  fail_unless_equals_int (s2s_mock_server_get_n_requests (fx->mock), 0);
  fx_free (fx);
}
