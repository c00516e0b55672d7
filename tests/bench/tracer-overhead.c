/* gst-s2s benchmark: CPU cost of the s2s tracer
 * Copyright (C) 2026 gst-s2s developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 *   tracer-overhead [--sessions 20] [--rounds 4] [--wav FILE]
 *                   [--emulator PATH]
 *
 * Starts one s2s-emulator, then runs the same load in child processes,
 * alternately without and with GST_TRACERS="s2s(file=...)": @sessions
 * pipelines `filesrc ! wavparse ! s2sopenai ! fakesink sync=true` in one
 * process, all talking to the emulator at once, each to EOS (the element
 * paces the file to real time, so a run lasts as long as the conversation).
 * The CPU time (user + system) of every child comes from wait4(); the
 * emulator's own CPU is not counted. Interleaving the kinds of runs in one
 * invocation cancels most of the drift of a shared machine. Prints every
 * run and the ratio traced / untraced of the summed CPU times.
 *
 * A third kind of run, "empty", has a tracer that registers one hook and
 * does nothing: it measures what GStreamer's tracing framework costs by
 * itself once any tracer is active (in 1.22 every hook point, mini-object
 * ref/unref included, then takes a timestamp and two hash lookups). The
 * s2s tracer registers no hook (docs/observability.md), so it does not pay
 * that: s2s / none is its whole cost.
 *
 * (Internally the program re-executes itself with --child N URL WAV KIND.)
 *
 * On a shared machine CPU time cannot resolve a few per cent: for the
 * deterministic figure run one child under `valgrind --tool=callgrind`
 * against an emulator started by hand, with and without GST_TRACERS, on a
 * release build (tests/bench/tracer-overhead.md has the exact commands).
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>
#include <gst/gst.h>
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <signal.h>

/* A tracer with one rarely called hook: tracing on, no work */
typedef struct
{
  GstTracer parent;
} EmptyTracer;

typedef struct
{
  GstTracerClass parent_class;
} EmptyTracerClass;

static GType empty_tracer_get_type (void);
G_DEFINE_TYPE (EmptyTracer, empty_tracer, GST_TYPE_TRACER);

static void
empty_hook (GObject * self, GstClockTime ts, GstPluginFeature * feature)
{
}

static void
empty_tracer_class_init (EmptyTracerClass * klass)
{
}

static void
empty_tracer_init (EmptyTracer * self)
{
  gst_tracing_register_hook (GST_TRACER (self), "plugin-feature-loaded",
      G_CALLBACK (empty_hook));
}

static const gchar *const kinds[] = { "none", "empty", "s2s" };

static gint
run_child (guint sessions, const gchar * url, const gchar * wav)
{
  GstElement **pipes = g_new0 (GstElement *, sessions);
  guint i, done = 0, errors = 0;
  gint64 end = g_get_monotonic_time () + 120 * G_TIME_SPAN_SECOND;

  for (i = 0; i < sessions; i++) {
    gchar *desc = g_strdup_printf ("filesrc location=\"%s\" ! wavparse ! "
        "s2sopenai name=s2s%u url=\"%s\" api-key=sk-bench ! "
        "fakesink sync=true", wav, i, url);
    GError *err = NULL;

    pipes[i] = gst_parse_launch (desc, &err);
    if (pipes[i] == NULL) {
      g_printerr ("tracer-overhead: %s\n", err->message);
      return 2;
    }
    g_free (desc);
    gst_element_set_state (pipes[i], GST_STATE_PLAYING);
  }
  while (done < sessions && g_get_monotonic_time () < end) {
    for (i = 0; i < sessions; i++) {
      GstBus *bus;
      GstMessage *m;

      if (pipes[i] == NULL)
        continue;
      bus = gst_element_get_bus (pipes[i]);
      m = gst_bus_timed_pop_filtered (bus, 10 * GST_MSECOND,
          GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
      gst_object_unref (bus);
      if (m == NULL)
        continue;
      if (GST_MESSAGE_TYPE (m) == GST_MESSAGE_ERROR)
        errors++;
      gst_message_unref (m);
      gst_element_set_state (pipes[i], GST_STATE_NULL);
      gst_object_unref (pipes[i]);
      pipes[i] = NULL;
      done++;
    }
  }
  g_free (pipes);
  return done == sessions && errors == 0 ? 0 : 3;
}

/* Runs one child; returns its CPU seconds, < 0 on failure */
static gdouble
measure (const gchar * self_path, guint sessions, const gchar * url,
    const gchar * wav, const gchar * kind, const gchar * tracers,
    gdouble * wall)
{
  gchar *n = g_strdup_printf ("%u", sessions);
  gint64 t0 = g_get_monotonic_time ();
  struct rusage ru;
  int status;
  pid_t pid = fork ();

  if (pid == 0) {
    if (tracers)
      g_setenv ("GST_TRACERS", tracers, TRUE);
    else
      g_unsetenv ("GST_TRACERS");
    execl (self_path, self_path, "--child", n, url, wav, kind, (char *) NULL);
    _exit (127);
  }
  g_free (n);
  if (pid < 0 || wait4 (pid, &status, 0, &ru) != pid)
    return -1;
  *wall = (g_get_monotonic_time () - t0) / 1e6;
  if (!WIFEXITED (status) || WEXITSTATUS (status) != 0) {
    g_printerr ("tracer-overhead: child failed (status %d)\n", status);
    return -1;
  }
  return ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
      ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

static gint
cmp_double (gconstpointer a, gconstpointer b)
{
  gdouble x = *(const gdouble *) a, y = *(const gdouble *) b;
  return x < y ? -1 : x > y;
}

static gdouble
median (GArray * v)
{
  g_array_sort (v, cmp_double);
  if (v->len == 0)
    return 0;
  return v->len % 2 ? g_array_index (v, gdouble, v->len / 2) :
      (g_array_index (v, gdouble, v->len / 2 - 1) +
      g_array_index (v, gdouble, v->len / 2)) / 2;
}

int
main (int argc, char **argv)
{
  gint sessions = 20, rounds = 4;
  gchar *wav = NULL, *emulator = NULL;
  GOptionEntry entries[] = {
    {"sessions", 0, 0, G_OPTION_ARG_INT, &sessions, "Sessions per run", "N"},
    {"rounds", 0, 0, G_OPTION_ARG_INT, &rounds,
        "Rounds of runs (none, empty, s2s, in rotating order)", "N"},
    {"wav", 0, 0, G_OPTION_ARG_FILENAME, &wav, "Input (24 kHz S16 mono WAV)",
        "FILE"},
    {"emulator", 0, 0, G_OPTION_ARG_FILENAME, &emulator,
        "s2s-emulator binary", "PATH"},
    {NULL}
  };
  GOptionContext *ctx;
  GError *err = NULL;
  GSubprocess *emu;
  GInputStream *out;
  GDataInputStream *lines;
  gchar *url, *dir, *tracers, *self_path;
  gdouble cpu[3] = { 0, 0, 0 }, round_cpu[3];
  GArray *ratios[2];
  gint r;

  if (argc == 6 && g_str_equal (argv[1], "--child")) {
    gst_init (NULL, NULL);
    if (g_str_equal (argv[5], "empty"))
      g_object_new (empty_tracer_get_type (), NULL);
    return run_child (atoi (argv[2]), argv[3], argv[4]);
  }

  ctx = g_option_context_new ("- CPU cost of the s2s tracer");
  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!g_option_context_parse (ctx, &argc, &argv, &err)) {
    g_printerr ("%s\n", err->message);
    return 2;
  }
  g_option_context_free (ctx);
  if (wav == NULL)
    wav = g_build_filename (g_getenv ("S2S_SHARED_AUDIO") ?
        g_getenv ("S2S_SHARED_AUDIO") : "../shared/audio",
        "two-turns-24k.wav", NULL);
  if (emulator == NULL)
    emulator = g_strdup (g_getenv ("S2S_EMULATOR") ?
        g_getenv ("S2S_EMULATOR") : "s2s-emulator");
  self_path = g_file_read_link ("/proc/self/exe", NULL);

  emu = g_subprocess_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE, &err, emulator,
      "--port", "0", NULL);
  if (emu == NULL) {
    g_printerr ("tracer-overhead: %s\n", err->message);
    return 2;
  }
  out = g_subprocess_get_stdout_pipe (emu);
  lines = g_data_input_stream_new (out);
  url = g_data_input_stream_read_line (lines, NULL, NULL, &err);
  if (url == NULL) {
    g_printerr ("tracer-overhead: no URL from the emulator\n");
    return 2;
  }
  dir = g_dir_make_tmp ("s2s-tracer-bench-XXXXXX", NULL);
  tracers = g_strdup_printf ("s2s(file=\"%s/turns.jsonl\")", dir);

  ratios[0] = g_array_new (FALSE, FALSE, sizeof (gdouble));
  ratios[1] = g_array_new (FALSE, FALSE, sizeof (gdouble));
  g_print ("%d sessions per run, %d rounds, input %s, emulator %s\n",
      sessions, rounds, wav, url);
  g_print ("%-6s %-9s %9s %9s\n", "round", "tracer", "cpu_s", "wall_s");
  for (r = 0; r < rounds; r++) {
    gint k;

    /* rotate which kind goes first, so none always runs warm or cold */
    for (k = 0; k < 3; k++) {
      gint kind = (k + r) % 3;
      gdouble wall = 0, c = measure (self_path, sessions, url, wav,
          kinds[kind], kind == 2 ? tracers : NULL, &wall);

      if (c < 0)
        return 1;
      cpu[kind] += c;
      round_cpu[kind] = c;
      g_print ("%-6d %-9s %9.3f %9.3f\n", r + 1, kinds[kind], c, wall);
    }
    /* runs of one round are minutes apart at most: paired ratios */
    for (k = 0; k < 2; k++) {
      gdouble q = round_cpu[k + 1] / round_cpu[0];
      g_array_append_val (ratios[k], q);
    }
  }
  g_print ("cpu none %.3f s, empty tracer %.3f s, s2s %.3f s\n", cpu[0],
      cpu[1], cpu[2]);
  g_print ("s2s / none %.4f (%+.2f %%); empty / none %.4f (%+.2f %%): "
      "GStreamer's tracing framework; s2s / empty %.4f (%+.2f %%): the s2s "
      "tracer's own cost\n", cpu[2] / cpu[0], (cpu[2] / cpu[0] - 1) * 100,
      cpu[1] / cpu[0], (cpu[1] / cpu[0] - 1) * 100, cpu[2] / cpu[1],
      (cpu[2] / cpu[1] - 1) * 100);
  g_print ("median of the rounds' ratios: empty / none %.4f, s2s / none "
      "%.4f\n", median (ratios[0]), median (ratios[1]));
  g_array_unref (ratios[0]);
  g_array_unref (ratios[1]);

  g_subprocess_send_signal (emu, SIGTERM);
  g_subprocess_wait (emu, NULL, NULL);
  g_object_unref (lines);
  g_object_unref (emu);
  {
    gchar *f = g_build_filename (dir, "turns.jsonl", NULL);
    g_unlink (f);
    g_free (f);
  }
  g_rmdir (dir);
  g_free (dir);
  g_free (tracers);
  g_free (url);
  g_free (wav);
  g_free (emulator);
  g_free (self_path);
  return 0;
}
