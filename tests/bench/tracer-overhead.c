/* gst-s2s benchmark: CPU cost of the s2s tracer
 * Copyright (C) 2026 gst-s2s developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 *   tracer-overhead [--sessions 20] [--rounds 4] [--kinds none,empty,s2s]
 *                   [--sequential] [--wav FILE] [--emulator PATH]
 *
 * Starts one s2s-emulator, then runs the same load in child processes of
 * the given kinds, without a tracer ("none"), with GST_TRACERS=
 * "s2s(file=...)" ("s2s") or with an empty tracer ("empty", below): @sessions
 * pipelines `filesrc ! wavparse ! s2sopenai ! fakesink sync=true` in one
 * process, all talking to the emulator at once, each to EOS (the element
 * paces the file to real time, so a run lasts as long as the conversation).
 * The CPU time (user + system) of every child comes from wait4(); the
 * emulator's own CPU is not counted.
 *
 * By default a round's children run simultaneously: started together (the
 * one started first rotates from round to round), against the same
 * emulator, so what a shared machine does to CPU time at that moment
 * (steal, frequency, caches, wake-up latency) hits every kind alike, and
 * each round gives paired ratios slot k / slot 1. --sequential runs them
 * one after another in rotating order instead (the method before
 * 2026-12-03). Repeating a kind (--kinds none,none) is the A/A check of
 * the method: it must come out 1 within its interval. Prints every run,
 * the ratio of the summed CPU times with a bootstrap 95 % interval
 * (rounds resampled), the median and the geometric mean of the rounds'
 * ratios with a t-based 95 % interval, and the same for context switches.
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
#include <math.h>
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

static const gchar *const known_kinds[] = { "none", "empty", "s2s", NULL };

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

/* One child run: what wait4() says about it */
typedef struct
{
  pid_t pid;
  gint64 t0;
  gdouble user, sys, wall;
  glong vcsw, ivcsw;
} Run;

/* Forks and execs one child of @kind; its tracer file is @file */
static gboolean
start_run (Run * run, const gchar * self_path, guint sessions,
    const gchar * url, const gchar * wav, const gchar * kind,
    const gchar * file)
{
  gchar *n = g_strdup_printf ("%u", sessions);
  gchar *tracers = g_str_equal (kind, "s2s") ?
      g_strdup_printf ("s2s(file=\"%s\")", file) : NULL;

  run->t0 = g_get_monotonic_time ();
  run->pid = fork ();
  if (run->pid == 0) {
    if (tracers)
      g_setenv ("GST_TRACERS", tracers, TRUE);
    else
      g_unsetenv ("GST_TRACERS");
    execl (self_path, self_path, "--child", n, url, wav, kind, (char *) NULL);
    _exit (127);
  }
  g_free (n);
  g_free (tracers);
  return run->pid > 0;
}

/* Waits for a started child; FALSE if it failed */
static gboolean
finish_run (Run * run)
{
  struct rusage ru;
  int status;

  if (wait4 (run->pid, &status, 0, &ru) != run->pid)
    return FALSE;
  run->wall = (g_get_monotonic_time () - run->t0) / 1e6;
  if (!WIFEXITED (status) || WEXITSTATUS (status) != 0) {
    g_printerr ("tracer-overhead: child failed (status %d)\n", status);
    return FALSE;
  }
  run->user = ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6;
  run->sys = ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
  run->vcsw = ru.ru_nvcsw;
  run->ivcsw = ru.ru_nivcsw;
  return TRUE;
}

static gint
cmp_double (gconstpointer a, gconstpointer b)
{
  gdouble x = *(const gdouble *) a, y = *(const gdouble *) b;
  return x < y ? -1 : x > y;
}

/* Sorts @v */
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

/* Two-sided 95 % quantile of Student's t with @df degrees of freedom */
static gdouble
t975 (guint df)
{
  static const gdouble t[] = { 0, 12.706, 4.303, 3.182, 2.776, 2.571, 2.447,
    2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160, 2.145, 2.131, 2.120,
    2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056,
    2.052, 2.048, 2.045, 2.042
  };

  if (df < G_N_ELEMENTS (t))
    return t[df];
  return 1.96 + 2.5 / df;       /* within 0.002 of the table from 30 on */
}

/* Prints how @b compares with @a, round by round (the same rounds):
 * the ratio of the sums, the median of the rounds' ratios, their
 * geometric mean with a t-based 95 % interval (on the logarithms), and
 * a percentile bootstrap 95 % interval of the ratio of the sums */
static void
report_pair (const gchar * label, GArray * a, GArray * b)
{
  guint n = a->len, i, j;
  gdouble sa = 0, sb = 0, m = 0, ss = 0, gm, half;
  GArray *q = g_array_new (FALSE, FALSE, sizeof (gdouble));
  GArray *boot = g_array_new (FALSE, FALSE, sizeof (gdouble));
  GRand *rand = g_rand_new_with_seed (20261203);

  for (i = 0; i < n; i++) {
    gdouble x = g_array_index (a, gdouble, i), y = g_array_index (b, gdouble,
        i), l = log (y / x);

    sa += x;
    sb += y;
    m += l;
    g_array_append_val (q, l);
  }
  m /= n;
  for (i = 0; i < n; i++)
    ss += (g_array_index (q, gdouble, i) - m) *
        (g_array_index (q, gdouble, i) - m);
  gm = exp (m);
  half = n > 1 ? t975 (n - 1) * sqrt (ss / (n - 1) / n) : 0;
  for (j = 0; j < 10000; j++) {
    gdouble ba = 0, bb = 0, r;

    for (i = 0; i < n; i++) {
      guint k = g_rand_int_range (rand, 0, n);
      ba += g_array_index (a, gdouble, k);
      bb += g_array_index (b, gdouble, k);
    }
    r = bb / ba;
    g_array_append_val (boot, r);
  }
  g_array_sort (boot, cmp_double);
  g_print ("%-13s sums %.4f (%+.2f %%), bootstrap 95 %% %.4f .. %.4f; "
      "rounds: median %.4f, geometric mean %.4f, t 95 %% %.4f .. %.4f "
      "(n %u)\n", label, sb / sa, (sb / sa - 1) * 100,
      g_array_index (boot, gdouble, 249), g_array_index (boot, gdouble,
          9749), exp (median (q)), gm, exp (m - half), exp (m + half), n);
  g_rand_free (rand);
  g_array_unref (boot);
  g_array_unref (q);
}

int
main (int argc, char **argv)
{
  gint sessions = 20, rounds = 4;
  gboolean sequential = FALSE;
  gchar *wav = NULL, *emulator = NULL, *kinds_opt = NULL;
  GOptionEntry entries[] = {
    {"sessions", 0, 0, G_OPTION_ARG_INT, &sessions, "Sessions per run", "N"},
    {"rounds", 0, 0, G_OPTION_ARG_INT, &rounds,
        "Rounds (one run of each kind per round)", "N"},
    {"kinds", 0, 0, G_OPTION_ARG_STRING, &kinds_opt,
          "Kinds of runs of a round, compared with the first "
          "(default none,empty,s2s; none,none is an A/A check)",
        "K1,K2,..."},
    {"sequential", 0, 0, G_OPTION_ARG_NONE, &sequential,
        "Run a round's children one after another (rotating order) "
          "instead of all at once", NULL},
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
  gchar *url, *dir, *self_path, **kinds, **files;
  guint nk, k;
  GArray **cpu, **csw;
  Run *runs;
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
  kinds = g_strsplit (kinds_opt ? kinds_opt : "none,empty,s2s", ",", -1);
  nk = g_strv_length (kinds);
  for (k = 0; k < nk; k++)
    if (!g_strv_contains (known_kinds, kinds[k])) {
      g_printerr ("tracer-overhead: unknown kind %s (none, empty, s2s)\n",
          kinds[k]);
      return 2;
    }
  if (nk < 2 || rounds < 1) {
    g_printerr ("tracer-overhead: two kinds or more, one round or more\n");
    return 2;
  }
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

  /* one tracer file per slot: simultaneous s2s runs must not share one */
  files = g_new0 (gchar *, nk + 1);
  cpu = g_new (GArray *, nk);
  csw = g_new (GArray *, nk);
  runs = g_new0 (Run, nk);
  for (k = 0; k < nk; k++) {
    gchar *name = g_strdup_printf ("turns-%u.jsonl", k);

    files[k] = g_build_filename (dir, name, NULL);
    g_free (name);
    cpu[k] = g_array_new (FALSE, FALSE, sizeof (gdouble));
    csw[k] = g_array_new (FALSE, FALSE, sizeof (gdouble));
  }

  g_print ("%d sessions per run, %d rounds, %s, input %s, emulator %s\n",
      sessions, rounds, sequential ? "sequential (one child at a time)" :
      "simultaneous (a round's children started together)", wav, url);
  g_print ("%-6s %-4s %-6s %5s %8s %8s %8s %8s %8s %8s\n", "round", "slot",
      "tracer", "start", "cpu_s", "user_s", "sys_s", "vcsw", "ivcsw", "wall_s");
  for (r = 0; r < rounds; r++) {
    guint i;

    /* rotate which kind starts first, so none always runs warm or cold */
    for (i = 0; i < nk; i++) {
      k = (i + r) % nk;
      if (!start_run (&runs[k], self_path, sessions, url, wav, kinds[k],
              files[k]))
        return 1;
      if (sequential && !finish_run (&runs[k]))
        return 1;
    }
    for (i = 0; i < nk; i++) {
      k = (i + r) % nk;
      if (!sequential && !finish_run (&runs[k]))
        return 1;
    }
    for (k = 0; k < nk; k++) {
      gdouble c = runs[k].user + runs[k].sys, s = runs[k].vcsw + runs[k].ivcsw;

      g_array_append_val (cpu[k], c);
      g_array_append_val (csw[k], s);
      g_print ("%-6d %-4u %-6s %5u %8.3f %8.3f %8.3f %8ld %8ld %8.3f\n",
          r + 1, k + 1, kinds[k], (k + nk - r % nk) % nk + 1, c,
          runs[k].user, runs[k].sys, runs[k].vcsw, runs[k].ivcsw, runs[k].wall);
      g_unlink (files[k]);
    }
  }

  for (k = 0; k < nk; k++) {
    gdouble sum = 0;
    guint i;

    for (i = 0; i < cpu[k]->len; i++)
      sum += g_array_index (cpu[k], gdouble, i);
    g_print ("slot %u %-6s cpu %.3f s\n", k + 1, kinds[k], sum);
  }
  g_print ("CPU time, slot / slot 1 (%s):\n", kinds[0]);
  for (k = 1; k < nk; k++) {
    gchar *label = g_strdup_printf ("%s%u / %s1", kinds[k], k + 1, kinds[0]);

    report_pair (label, cpu[0], cpu[k]);
    g_free (label);
  }
  g_print ("context switches (voluntary + involuntary), slot / slot 1:\n");
  for (k = 1; k < nk; k++) {
    gchar *label = g_strdup_printf ("%s%u / %s1", kinds[k], k + 1, kinds[0]);

    report_pair (label, csw[0], csw[k]);
    g_free (label);
  }

  g_subprocess_send_signal (emu, SIGTERM);
  g_subprocess_wait (emu, NULL, NULL);
  g_object_unref (lines);
  g_object_unref (emu);
  for (k = 0; k < nk; k++) {
    g_array_unref (cpu[k]);
    g_array_unref (csw[k]);
  }
  g_free (cpu);
  g_free (csw);
  g_free (runs);
  g_strfreev (files);
  g_strfreev (kinds);
  g_rmdir (dir);
  g_free (dir);
  g_free (url);
  g_free (wav);
  g_free (kinds_opt);
  g_free (emulator);
  g_free (self_path);
  return 0;
}
