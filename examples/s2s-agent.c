/* gst-s2s example: a voice agent with one tool.
 *
 *   s2s-agent [--url URL] [--input FILE.wav] [--output REPLY.wav]
 *
 * Without --input it talks through the default microphone and speaker.
 * Prints the transcripts, answers `get_weather` tool calls from the app,
 * and prints the conversation (as the user heard it) at the end.
 * The key comes from OPENAI_API_KEY (or pass --url to the s2s-emulator).
 */

#include <gst/gst.h>

static const gchar *tools_json =
    "[{\"name\":\"get_weather\",\"description\":\"Current weather in a city\","
    "\"parameters\":{\"type\":\"object\",\"properties\":{\"city\":"
    "{\"type\":\"string\"}},\"required\":[\"city\"]}}]";

typedef struct
{
  GMainLoop *loop;
  GstElement *s2s;
  gint ret;
} App;

static void
on_element_message (App * app, GstMessage * msg)
{
  const GstStructure *s = gst_message_get_structure (msg);

  if (gst_structure_has_name (s, "s2s-transcript")) {
    gboolean final = FALSE;
    gst_structure_get_boolean (s, "final", &final);
    if (final)
      g_print ("%s: %s\n", gst_structure_get_string (s, "role"),
          gst_structure_get_string (s, "text"));
  } else if (gst_structure_has_name (s, "s2s-tool-call")) {
    const gchar *call_id = gst_structure_get_string (s, "call-id");
    const gchar *args = gst_structure_get_string (s, "arguments");
    gboolean ok = FALSE;

    g_print ("[tool] %s(%s)\n", gst_structure_get_string (s, "name"), args);
    /* a real agent would look the weather up here */
    g_signal_emit_by_name (app->s2s, "tool-result", call_id,
        "{\"temperature_c\":18,\"sky\":\"clear\"}", &ok);
  } else if (gst_structure_has_name (s, "s2s-response")) {
    const gchar *ev = gst_structure_get_string (s, "event");
    if (g_strcmp0 (ev, "interrupted") == 0)
      g_print ("[interrupted]\n");
  }
}

static gboolean
on_bus (GstBus * bus, GstMessage * msg, gpointer data)
{
  App *app = data;

  switch (GST_MESSAGE_TYPE (msg)) {
    case GST_MESSAGE_ELEMENT:
      on_element_message (app, msg);
      break;
    case GST_MESSAGE_ERROR:{
      GError *err = NULL;
      gchar *dbg = NULL;
      const GstStructure *details = NULL;

      gst_message_parse_error (msg, &err, &dbg);
      gst_message_parse_error_details (msg, &details);
      g_printerr ("error: %s\n", err->message);
      if (details)
        g_printerr ("  code=%s retryable=%s\n",
            gst_structure_get_string (details, "code"),
            g_value_get_boolean (gst_structure_get_value (details,
                    "retryable")) ? "yes" : "no");
      g_clear_error (&err);
      g_free (dbg);
      app->ret = 1;
      g_main_loop_quit (app->loop);
      break;
    }
    case GST_MESSAGE_EOS:
      g_main_loop_quit (app->loop);
      break;
    default:
      break;
  }
  return G_SOURCE_CONTINUE;
}

int
main (int argc, char **argv)
{
  gchar *url = NULL, *input = NULL, *output = NULL;
  GOptionEntry entries[] = {
    {"url", 0, 0, G_OPTION_ARG_STRING, &url, "Endpoint (e.g. the emulator)",
        "URL"},
    {"input", 0, 0, G_OPTION_ARG_FILENAME, &input, "WAV file to say", "FILE"},
    {"output", 0, 0, G_OPTION_ARG_FILENAME, &output, "WAV file for the reply",
        "FILE"},
    {NULL}
  };
  GOptionContext *ctx = g_option_context_new ("- voice agent with a tool");
  GError *err = NULL;
  App app = { 0, };
  GstElement *pipeline;
  GstBus *bus;
  gchar *desc, *src, *sink, *history = NULL;

  g_option_context_add_main_entries (ctx, entries, NULL);
  g_option_context_add_group (ctx, gst_init_get_option_group ());
  if (!g_option_context_parse (ctx, &argc, &argv, &err)) {
    g_printerr ("%s\n", err->message);
    return 2;
  }
  g_option_context_free (ctx);

  src = input ? g_strdup_printf ("filesrc location=\"%s\" ! wavparse", input)
      : g_strdup ("autoaudiosrc");
  sink = output ? g_strdup_printf ("wavenc ! filesink location=\"%s\"",
      output) : g_strdup ("autoaudiosink");
  desc = g_strdup_printf ("%s ! audioconvert ! audioresample ! "
      "s2sopenai name=s2s ! audioconvert ! audioresample ! %s", src, sink);
  pipeline = gst_parse_launch (desc, &err);
  g_free (desc);
  g_free (src);
  g_free (sink);
  if (pipeline == NULL) {
    g_printerr ("pipeline: %s\n", err->message);
    return 2;
  }
  app.s2s = gst_bin_get_by_name (GST_BIN (pipeline), "s2s");
  g_object_set (app.s2s, "tools", tools_json, "instructions",
      "You are a friendly assistant. Use get_weather for weather questions.",
      NULL);
  if (url)
    g_object_set (app.s2s, "url", url, NULL);

  app.loop = g_main_loop_new (NULL, FALSE);
  bus = gst_element_get_bus (pipeline);
  gst_bus_add_watch (bus, on_bus, &app);
  gst_element_set_state (pipeline, GST_STATE_PLAYING);
  g_main_loop_run (app.loop);

  g_object_get (app.s2s, "history", &history, NULL);
  g_print ("conversation: %s\n", history ? history : "[]");
  g_free (history);

  gst_element_set_state (pipeline, GST_STATE_NULL);
  gst_bus_remove_watch (bus);
  gst_object_unref (bus);
  gst_object_unref (app.s2s);
  gst_object_unref (pipeline);
  g_main_loop_unref (app.loop);
  return app.ret;
}
