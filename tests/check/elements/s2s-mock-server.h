/* gst-s2s
 * Copyright (C) 2026 gst-s2s developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A small in-process mock of the providers' WebSocket servers for the unit
 * tests (OpenAI Realtime GA by default, Gemini Live with `gemini`): a
 * SoupServer on its own thread and GMainContext that records every client
 * event and sends whatever server events a test asks for.
 */

#ifndef __S2S_MOCK_SERVER_H__
#define __S2S_MOCK_SERVER_H__

#include <glib.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

typedef struct _S2SMockServer S2SMockServer;

typedef struct
{
  /* When set, the upgrade needs "Authorization: Bearer <require_key>";
   * anything else gets HTTP 401 */
  const gchar *require_key;
  /* Never answer session.update (a "silent" server) */
  gboolean no_session_updated;
  /* Answer session.update this much later */
  guint session_updated_delay_ms;
  /* Gemini Live: the upgrade is checked against "x-goog-api-key", no
   * greeting, `setup` is answered with {"setupComplete":{}} in a binary
   * frame (no_session_updated and the delay apply to it) */
  gboolean gemini;
  /* Gemini: a setup carrying a resumption handle while an earlier
   * connection is still open is refused with close code 1011, as the
   * service is reported to do (gemini-nova.md §A7) */
  gboolean refuse_resume_while_open;
} S2SMockOptions;

#define S2S_MOCK_GEMINI_PATH \
    "/ws/google.ai.generativelanguage.v1beta.GenerativeService.BidiGenerateContent"
#define S2S_MOCK_VERTEX_PATH \
    "/ws/google.cloud.aiplatform.v1beta1.LlmBidiService/BidiGenerateContent"

/* Sample rate of the PCM the response helpers send */
#define S2S_MOCK_RATE 24000

S2SMockServer *s2s_mock_server_new (const S2SMockOptions * opts);
void s2s_mock_server_free (S2SMockServer * mock);

guint s2s_mock_server_get_port (S2SMockServer * mock);
/* ws://127.0.0.1:<port> (free it) */
gchar *s2s_mock_server_get_url (S2SMockServer * mock);

/* Upgrade requests seen (refused ones included) and WebSocket connections
 * accepted */
guint s2s_mock_server_get_n_requests (S2SMockServer * mock);
guint s2s_mock_server_get_n_connections (S2SMockServer * mock);
gboolean s2s_mock_server_wait_connections (S2SMockServer * mock, guint n,
    guint timeout_ms);
/* Authorization header of the last upgrade request (free it) */
gchar *s2s_mock_server_get_last_authorization (S2SMockServer * mock);
/* monotonic time session.updated was last sent, 0 if never */
gint64 s2s_mock_server_get_session_updated_time (S2SMockServer * mock);

/* Client events. Every event is a JsonObject; text that is not a JSON
 * object is recorded as {"type":"<raw>","raw":text}. An object without
 * "type" and with one member (Gemini's {"setup":{...}}) gets that member's
 * name as "type". Each event also gets "_mock_time_us" (monotonic time of
 * arrival), "_mock_after_ready" (TRUE when session.updated or
 * setupComplete had been sent before it arrived) and "_mock_conn" (1 for
 * the first connection, 2 for the next, ...). */

/* Consumes events in arrival order until one of @type arrives; returns it
 * (unref it) or NULL after @timeout_ms. Skipped events stay in the log. */
JsonObject *s2s_mock_server_wait_for_event (S2SMockServer * mock,
    const gchar * type, guint timeout_ms);
/* Snapshot of every event so far, in order (unref the array) */
GPtrArray *s2s_mock_server_get_log (S2SMockServer * mock);
guint s2s_mock_server_count_events (S2SMockServer * mock, const gchar * type);
/* Forgets every event received so far (the log and the unconsumed ones):
 * a long test keeps the mock's own memory flat */
void s2s_mock_server_clear_log (S2SMockServer * mock);

/* Server events: sent in order on the latest connection from the server
 * thread. Returns once the frame has been handed to the connection (FALSE
 * if there is no open connection). */
gboolean s2s_mock_server_send (S2SMockServer * mock, const gchar * json);
gboolean s2s_mock_server_send_printf (S2SMockServer * mock,
    const gchar * format, ...) G_GNUC_PRINTF (2, 3);
/* The same in a binary frame, as Gemini sends its JSON */
gboolean s2s_mock_server_send_binary (S2SMockServer * mock,
    const gchar * json);
gboolean s2s_mock_server_send_binary_printf (S2SMockServer * mock,
    const gchar * format, ...) G_GNUC_PRINTF (2, 3);
/* Connections still open */
guint s2s_mock_server_get_n_open (S2SMockServer * mock);

void s2s_mock_server_send_response_created (S2SMockServer * mock,
    const gchar * response_id);
/* response.output_item.added for an assistant message item */
void s2s_mock_server_send_message_item_added (S2SMockServer * mock,
    const gchar * response_id, const gchar * item_id);
/* @n deltas of @ms each, PCM from s2s_mock_pattern() starting at sample
 * @first_sample */
void s2s_mock_server_send_audio_deltas (S2SMockServer * mock,
    const gchar * response_id, const gchar * item_id, guint n, guint ms,
    guint64 first_sample);
void s2s_mock_server_send_response_done (S2SMockServer * mock,
    const gchar * response_id, const gchar * status);
/* created + item added + @n deltas of @ms + done */
void s2s_mock_server_send_response (S2SMockServer * mock,
    const gchar * response_id, const gchar * item_id, guint n, guint ms);

/* Closes the connection's stream without a close frame */
void s2s_mock_server_drop_connection (S2SMockServer * mock);
/* Sends a close frame with @code */
void s2s_mock_server_close_connection (S2SMockServer * mock, gushort code,
    const gchar * reason);

/* The PCM pattern: S16LE sample i = a ramp that wraps, so any sample's
 * identity can be checked. Returns @n_samples * 2 bytes (g_free). */
guint8 *s2s_mock_pattern (guint64 first_sample, guint n_samples);
gint16 s2s_mock_pattern_sample (guint64 i);

G_END_DECLS

#endif
