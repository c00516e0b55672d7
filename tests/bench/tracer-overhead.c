/* gst-s2s benchmark: CPU cost of the s2s tracer
 * Copyright (C) 2026 gst-s2s developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 *   tracer-overhead [--sessions 20] [--rounds 4] [--kinds none,empty,s2s]
 *                   [--sequential] [--wav FILE] [--emulator PATH]
 *                   [--alt-plugins PATHS] [--no-pad] [--fixed-layout]
 *                   [--encode]
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
 * each round gives paired ratios against the first slot's name. A slot
 * may be named kind.label: slots of one name are pooled (their mean per
 * round), so --kinds none,s2s,none,s2s runs two pairs per round and
 * --kinds none,none.b is the A/A check of the method (it must come out 1
 * within its interval). --sequential runs a round's children one after
 * another in rotating order instead (the method before 2026-12-03).
 * --alt-plugins PATHS runs the slots labelled "alt" (s2s.alt, none.alt)
 * with that GST_PLUGIN_PATH_1_0 (another build of the plugins) and a
 * registry of their own: "s2s.alt / s2s" is then the paired A/B of two
 * builds in the same rounds. Every kind's environment is padded to the
 * same size (GST_TRACERS empty without a tracer, and S2S_BENCH_PAD):
 * the size of the environment moves the initial stack and with it CPU
 * time; slots labelled "np" (none.np, s2s.np) and --no-pad run
 * unpadded, as before. Prints every run,
 * the ratio of the summed CPU times with a bootstrap 95 % interval
 * (rounds resampled), the median and the geometric mean of the rounds'
 * ratios with a t-based 95 % interval, and the same for context switches
 * and for minor page faults.
 *
 * A third kind of run, "empty", has a tracer that registers one hook and
 * does nothing: it measures what GStreamer's tracing framework costs by
 * itself once any tracer is active (in 1.22 every hook point, mini-object
 * ref/unref included, then takes a timestamp and two hash lookups). The
 * s2s tracer registers no hook (docs/observability.md), so it does not pay
 * that: s2s / none is its whole cost.
 *
 * Two more kinds split the s2s tracer's cost: "s2s-nofile" (GST_TRACERS=s2s,
 * the configuration the issue states its target for: no file, and without
 * GST_DEBUG no turn line is built, since nothing could read it) and
 * "s2s-filtered" (a filter no
 * element passes, and bus-records=true so that the elements still record:
 * the tracer loaded, the elements attached, recording and posting their
 * records on the bus, but no handler and no lines). "s2s-idle" has the
 * same filter without bus-records: the tracer loaded and the elements
 * attached and detached at every session, nothing recorded (an element
 * no tracer measures records nothing): the fixed part alone.
 * "s2s-lib" has no tracer but loads the tracers' plugin
 * (gst_plugin_load_by_name): what mapping and initialising its library
 * costs, without attach and detach.
 *
 * Every child's memory layout is drawn at random (since 2026-12-04): it
 * allocates a block of 0 to 4 080 bytes (a multiple of 16, from a seeded
 * sequence, passed in S2S_BENCH_HEAP_SHIFT) before gst_init(), which moves
 * every later allocation of the main thread's heap, the elements' and the
 * tracer's objects included, to other offsets in their pages and other
 * cache sets. ASLR moves whole pages only, so without this a kind keeps
 * one layout in every round, and that layout's luck (a 5 KB shift moved
 * an untraced kind by 0.7 %) is a bias no interval shows; drawn anew for
 * every child it becomes noise the rounds average out. --fixed-layout
 * shifts nothing (the runs before), nor do slots labelled "fl" (none.fl,
 * s2s.fl: the two methods in the same rounds).
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

/* s2s-nofile: GST_TRACERS=s2s, no file= (the turns measured, their lines
 * built only for a debug log at TRACE: none here);
 * s2s-filtered: a filter no element passes, with bus-records=true (an
 * element no tracer measures records nothing otherwise): the tracer
 * loaded and the elements recording and posting their records on the
 * bus, but no handler;
 * s2s-novoice: s2s-filtered with voice-db=-200, so that the voiced check
 * decides every input by its first samples (no copy, no second pass);
 * s2s-idle: the filter alone (nothing recorded: the fixed part);
 * s2s-lib: no tracer, but the tracers' plugin loaded (its library mapped
 * and initialised, no tracer object: no element is attached);
 * none-heap1, none-heap2: no tracer, the main thread's heap shifted
 * (main, --child) */
static const gchar *const known_kinds[] = { "none", "empty", "s2s",
  "s2s-nofile", "s2s-filtered", "s2s-novoice", "s2s-idle", "s2s-lib",
  "none-heap1", "none-heap2", NULL
};

static gint
run_child (guint sessions, const gchar * url, const gchar * wav)
{
  /* --encode: the reply encoded to Opus before the sink, as a WebRTC or
   * telephony pipeline does (every kind alike) */
  gboolean encode = g_strcmp0 (g_getenv ("S2S_BENCH_ENCODE"), "1") == 0;
  GstElement **pipes = g_new0 (GstElement *, sessions);
  guint i, done = 0, errors = 0;
  gint64 end = g_get_monotonic_time () + 120 * G_TIME_SPAN_SECOND;

  /* a long connect timeout: 100+ sessions connect at once in the
   * simultaneous rounds, on a loaded machine */
  for (i = 0; i < sessions; i++) {
    gchar *desc = g_strdup_printf ("filesrc location=\"%s\" ! wavparse ! "
        "s2sopenai name=s2s%u url=\"%s\" api-key=sk-bench "
        "connect-timeout=60000 ! %sfakesink sync=true", wav, i, url,
        encode ? "opusenc ! " : "");
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
      if (GST_MESSAGE_TYPE (m) == GST_MESSAGE_ERROR) {
        GError *e = NULL;

        gst_message_parse_error (m, &e, NULL);
        g_printerr ("tracer-overhead: session %u: %s\n", i, e->message);
        g_clear_error (&e);
        errors++;
      }
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
  glong vcsw, ivcsw, minflt;
  guint heap_shift;             /* its layout: bytes allocated first */
} Run;

/* The environment and argument bytes every kind starts with (--no-pad:
 * as before 2026-12-03 17:45, no tracer = no GST_TRACERS) */
#define PAD_BYTES 300
static gboolean pad_env = TRUE;

/* --alt-plugins, and the registry of the slots that use it */
static gchar *alt_plugins = NULL;
static gchar *alt_registry = NULL;

/* Forks and execs one child of @kind (with the heap shift of @run); its
 * tracer file is @file; @alt: with the --alt-plugins build; @pad_this:
 * its environment padded (slots labelled "np" are not: none.np against
 * none is the padding's effect) */
static gboolean
start_run (Run * run, const gchar * self_path, guint sessions,
    const gchar * url, const gchar * wav, const gchar * kind,
    const gchar * file, gboolean alt, gboolean pad_this)
{
  gchar *n = g_strdup_printf ("%u", sessions);
  gchar *tracers = NULL;

  if (g_str_equal (kind, "s2s"))
    tracers = g_strdup_printf ("s2s(file=\"%s\")", file);
  else if (g_str_equal (kind, "s2s-nofile"))
    tracers = g_strdup ("s2s");
  else if (g_str_equal (kind, "s2s-filtered"))
    tracers = g_strdup_printf ("s2s(file=\"%s\",filter=\"no-such-name\","
        "bus-records=true)", file);
  else if (g_str_equal (kind, "s2s-idle"))
    tracers = g_strdup_printf ("s2s(file=\"%s\",filter=\"no-such-name\")",
        file);
  else if (g_str_equal (kind, "s2s-novoice"))
    tracers = g_strdup_printf ("s2s(file=\"%s\",filter=\"no-such-name\","
        "bus-records=true,voice-db=-200.0)", file);

  run->t0 = g_get_monotonic_time ();
  run->pid = fork ();
  if (run->pid == 0) {
    if (alt) {
      g_setenv ("GST_PLUGIN_PATH_1_0", alt_plugins, TRUE);
      g_setenv ("GST_REGISTRY", alt_registry, TRUE);
    }
    /* Every kind starts with the same bytes of environment and
     * arguments (GST_TRACERS empty for no tracer, which GStreamer
     * ignores, and a pad): their size moves the initial stack, which by
     * itself can move a process's CPU time by a per cent or more
     * (Mytkowicz et al., "Producing wrong data without doing anything
     * obviously wrong!", ASPLOS 2009); --no-pad for the runs before */
    g_setenv ("GST_TRACERS", tracers ? tracers : "", TRUE);
    if (pad_this) {
      gsize used = strlen (tracers ? tracers : "") + strlen (kind);
      gchar *pad = g_strnfill (used < PAD_BYTES ? PAD_BYTES - used : 0, 'x');

      g_setenv ("S2S_BENCH_PAD", pad, TRUE);
      g_free (pad);
    } else if (!tracers) {
      g_unsetenv ("GST_TRACERS");
    }
    {
      /* (a fixed width: every kind's environment keeps one size) */
      gchar *shift = g_strdup_printf ("%04u", run->heap_shift);

      g_setenv ("S2S_BENCH_HEAP_SHIFT", shift, TRUE);
      g_free (shift);
    }
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
  run->minflt = ru.ru_minflt;
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

/* Compares the groups of @names (the first @ng slot names, then the
 * kinds up to @nt) whose per-round figures are @v: every name with the
 * first name; when a kind has several names, every kind (its slots
 * pooled) with the first kind, and every name kind.label with the name
 * kind (the A/A check) */
static void
report_all (GPtrArray * names, guint ng, guint nt, GArray ** v,
    const gchar * what)
{
  guint g, h;

  g_print ("%s, per name / %s:\n", what, (gchar *) names->pdata[0]);
  for (g = 1; g < ng; g++) {
    gchar *label = g_strdup_printf ("%s / %s", (gchar *) names->pdata[g],
        (gchar *) names->pdata[0]);

    report_pair (label, v[0], v[g]);
    g_free (label);
  }
  if (nt - ng == ng)
    return;
  g_print ("%s, per kind (its slots pooled) / %s:\n", what,
      (gchar *) names->pdata[ng]);
  for (g = ng + 1; g < nt; g++) {
    gchar *label = g_strdup_printf ("%s / %s", (gchar *) names->pdata[g],
        (gchar *) names->pdata[ng]);

    report_pair (label, v[ng], v[g]);
    g_free (label);
  }
  g_print ("%s, A/A (kind.label / kind):\n", what);
  for (g = 0; g < ng; g++)
    for (h = 0; h < ng; h++) {
      const gchar *a = names->pdata[h], *b = names->pdata[g];
      gsize n = strlen (a);
      gchar *label;

      if (strchr (a, '.') || strncmp (a, b, n) != 0 || b[n] != '.')
        continue;
      label = g_strdup_printf ("%s / %s", b, a);
      report_pair (label, v[h], v[g]);
      g_free (label);
    }
}

static void
stop_emulator (GSubprocess * emu)
{
  g_subprocess_send_signal (emu, SIGTERM);
  g_subprocess_wait (emu, NULL, NULL);
}

/* Stops the emulator on a failure: returns the exit status */
static gint
give_up (GSubprocess * emu)
{
  stop_emulator (emu);
  return 1;
}

/* The index of @name among @names from @from on, added if missing */
static guint
name_index (GPtrArray * names, guint from, const gchar * name)
{
  guint g;

  for (g = from; g < names->len; g++)
    if (g_str_equal (names->pdata[g], name))
      return g;
  g_ptr_array_add (names, g_strdup (name));
  return names->len - 1;
}

/* The kind of a slot: its name up to a '.' ("none.b": none) */
static gchar *
slot_kind (const gchar * slot)
{
  const gchar *dot = strchr (slot, '.');

  return dot ? g_strndup (slot, dot - slot) : g_strdup (slot);
}

int
main (int argc, char **argv)
{
  gint sessions = 20, rounds = 4;
  gboolean sequential = FALSE, no_pad = FALSE, fixed_layout = FALSE;
  gboolean encode = FALSE;
  gchar *wav = NULL, *emulator = NULL, *kinds_opt = NULL;
  GOptionEntry entries[] = {
    {"sessions", 0, 0, G_OPTION_ARG_INT, &sessions, "Sessions per run", "N"},
    {"rounds", 0, 0, G_OPTION_ARG_INT, &rounds,
        "Rounds (one run per slot each)", "N"},
    {"kinds", 0, 0, G_OPTION_ARG_STRING, &kinds_opt,
        "The slots of a round: kinds none, empty or s2s, each with an "
          "optional .label; slots of the same name are pooled, each name "
          "compared with the first (default none,empty,s2s; A/A check: "
          "none,none.b)", "K1,K2,..."},
    {"sequential", 0, 0, G_OPTION_ARG_NONE, &sequential,
        "Run a round's children one after another (rotating order) "
          "instead of all at once", NULL},
    {"wav", 0, 0, G_OPTION_ARG_FILENAME, &wav, "Input (24 kHz S16 mono WAV)",
        "FILE"},
    {"emulator", 0, 0, G_OPTION_ARG_FILENAME, &emulator,
        "s2s-emulator binary", "PATH"},
    {"no-pad", 0, 0, G_OPTION_ARG_NONE, &no_pad,
        "Leave GST_TRACERS unset without a tracer and the environment "
          "unpadded (the runs before 2026-12-03 17:45)", NULL},
    {"fixed-layout", 0, 0, G_OPTION_ARG_NONE, &fixed_layout,
        "Shift no child's heap (every kind keeps one memory layout: the "
          "runs before 2026-12-04)", NULL},
    {"encode", 0, 0, G_OPTION_ARG_NONE, &encode,
        "Encode the reply to Opus before the sink in every kind (opusenc, "
          "as a WebRTC or telephony pipeline does)", NULL},
    {"alt-plugins", 0, 0, G_OPTION_ARG_STRING, &alt_plugins,
          "GST_PLUGIN_PATH_1_0 of the slots labelled alt (another build)",
        "PATHS"},
    {NULL}
  };
  GOptionContext *ctx;
  GError *err = NULL;
  GSubprocess *emu;
  GInputStream *out;
  GDataInputStream *lines;
  gchar *url, *dir, *self_path, **slots, **files;
  GPtrArray *names;
  guint ns, ng, nt, k, g, *group, *kgroup;
  GArray **cpu, **csw, **flt;
  Run *runs;
  gint r, failed = 0;
  GRand *layouts;

  if (argc == 6 && g_str_equal (argv[1], "--child")) {
    const gchar *shift = g_getenv ("S2S_BENCH_HEAP_SHIFT");
    /* the layout drawn for this child (above): before anything else is
     * allocated on the main thread's heap (g_malloc0 (0) is NULL) */
    gpointer layout = g_malloc0 (shift ? MAX (atoi (shift), 0) : 0);
    gpointer heap_shift = NULL;

    gst_init (NULL, NULL);
    /* none-heap1, none-heap2: no tracer, and a block that moves every
     * later allocation of the main thread's heap, as a tracer's own
     * allocations do: the A/A of memory layout (tracer-overhead.md) */
    if (g_str_equal (argv[5], "none-heap1"))
      heap_shift = g_malloc0 (1536);
    else if (g_str_equal (argv[5], "none-heap2"))
      heap_shift = g_malloc0 (5120);
    if (g_str_equal (argv[5], "empty"))
      g_object_new (empty_tracer_get_type (), NULL);
    if (g_str_equal (argv[5], "s2s-lib")) {
      GstPlugin *lib = gst_plugin_load_by_name ("s2stracers");

      if (lib == NULL) {
        g_printerr ("tracer-overhead: no s2stracers plugin\n");
        return 2;
      }
      gst_object_unref (lib);
    }
    r = run_child (atoi (argv[2]), argv[3], argv[4]);
    g_free (heap_shift);
    g_free (layout);
    return r;
  }

  ctx = g_option_context_new ("- CPU cost of the s2s tracer");
  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!g_option_context_parse (ctx, &argc, &argv, &err)) {
    g_printerr ("%s\n", err->message);
    return 2;
  }
  g_option_context_free (ctx);
  setvbuf (stdout, NULL, _IOLBF, 0);
  /* the same value, hence the same environment size, in every kind */
  g_setenv ("S2S_BENCH_ENCODE", encode ? "1" : "0", TRUE);
  slots = g_strsplit (kinds_opt ? kinds_opt : "none,empty,s2s", ",", -1);
  ns = g_strv_length (slots);
  /* groups: the names of the slots, then their kinds (all slots of one
   * kind pooled, e.g. s2s and s2s.b) */
  names = g_ptr_array_new_with_free_func (g_free);
  group = g_new (guint, ns);
  kgroup = g_new (guint, ns);
  for (k = 0; k < ns; k++)
    group[k] = name_index (names, 0, slots[k]);
  ng = names->len;
  for (k = 0; k < ns; k++) {
    gchar *kind = slot_kind (slots[k]);

    if (!g_strv_contains (known_kinds, kind)) {
      gchar *all = g_strjoinv (", ", (gchar **) known_kinds);

      g_printerr ("tracer-overhead: unknown kind %s (%s)\n", slots[k], all);
      g_free (all);
      return 2;
    }
    kgroup[k] = name_index (names, ng, kind);
    g_free (kind);
  }
  nt = names->len;
  if (ng < 2 || rounds < 1) {
    g_printerr ("tracer-overhead: two slot names or more, one round or "
        "more\n");
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
  /* a registry of our own, built once before the rounds: a rescan (the
   * shared one rewritten by another build's run) costs a child ~0.5 s */
  if (g_getenv ("GST_REGISTRY") == NULL) {
    gchar *reg = g_build_filename (dir, "registry.bin", NULL);

    g_setenv ("GST_REGISTRY", reg, TRUE);
    g_free (reg);
  }
  alt_registry = g_build_filename (dir, "registry-alt.bin", NULL);
  {
    Run warm = { 0 };

    if (!start_run (&warm, self_path, 0, url, wav, "none", NULL, FALSE,
            FALSE) ||
        !finish_run (&warm))
      return give_up (emu);
    if (alt_plugins && (!start_run (&warm, self_path, 0, url, wav, "none",
                NULL, TRUE, FALSE) || !finish_run (&warm)))
      return give_up (emu);
  }

  /* one tracer file per slot: simultaneous s2s runs must not share one */
  files = g_new0 (gchar *, ns + 1);
  runs = g_new0 (Run, ns);
  for (k = 0; k < ns; k++) {
    gchar *name = g_strdup_printf ("turns-%u.jsonl", k);

    files[k] = g_build_filename (dir, name, NULL);
    g_free (name);
  }
  /* per group and round: the mean over its slots */
  cpu = g_new (GArray *, nt);
  csw = g_new (GArray *, nt);
  flt = g_new (GArray *, nt);
  for (g = 0; g < nt; g++) {
    cpu[g] = g_array_new (FALSE, FALSE, sizeof (gdouble));
    csw[g] = g_array_new (FALSE, FALSE, sizeof (gdouble));
    flt[g] = g_array_new (FALSE, FALSE, sizeof (gdouble));
  }

  pad_env = !no_pad;
  /* the children's layouts: a seeded sequence, so a run can be repeated */
  layouts = g_rand_new_with_seed (20261204);
  g_print ("%d sessions per run, %d rounds of %u runs, %s, input %s, "
      "emulator %s, %s, %s%s\n", sessions, rounds, ns, sequential ?
      "sequential (one child at a time)" :
      "simultaneous (a round's children started together)", wav, url,
      pad_env ? "environments padded to one size" : "environments unpadded",
      fixed_layout ? "one layout a kind (--fixed-layout)" :
      "layouts drawn per child (heap shift 0-4080 bytes)",
      encode ? ", reply encoded to Opus (--encode)" : "");
  g_print ("%-6s %-4s %-12s %5s %8s %8s %8s %8s %8s %8s %8s %6s\n", "round",
      "slot", "tracer", "start", "cpu_s", "user_s", "sys_s", "vcsw", "ivcsw",
      "wall_s", "minflt", "shift");
  for (r = 0; r < rounds + failed; r++) {
    gdouble c[2 * ns], s[2 * ns], f[2 * ns];
    guint i, n[2 * ns];
    gboolean ok = TRUE;

    /* rotate which slot starts first, so none always runs warm or cold */
    for (i = 0; i < ns; i++) {
      gchar *kind;
      gboolean started;

      k = (i + r) % ns;
      kind = slot_kind (slots[k]);
      /* (drawn for every slot, so that a .fl slot leaves the others'
       * sequence as it is) */
      runs[k].heap_shift = 16 * g_rand_int_range (layouts, 0, 256);
      if (fixed_layout || g_str_has_suffix (slots[k], ".fl"))
        runs[k].heap_shift = 0;
      started = start_run (&runs[k], self_path, sessions, url, wav, kind,
          files[k], g_str_has_suffix (slots[k], ".alt"), pad_env &&
          !g_str_has_suffix (slots[k], ".np"));
      g_free (kind);
      if (!started)
        return give_up (emu);
      if (sequential)
        ok &= finish_run (&runs[k]);
    }
    for (i = 0; i < ns; i++) {
      k = (i + r) % ns;
      if (!sequential)
        ok &= finish_run (&runs[k]);
    }
    /* a session failed (e.g. the emulator missed a connection on an
     * overloaded machine): the round is left out and run again, up to
     * as many times as there are rounds */
    if (!ok) {
      g_print ("%-6d round left out: a child failed\n", r + 1);
      for (k = 0; k < ns; k++)
        g_unlink (files[k]);
      if (++failed > rounds)
        return give_up (emu);
      continue;
    }
    for (g = 0; g < nt; g++) {
      c[g] = s[g] = f[g] = 0;
      n[g] = 0;
    }
    for (k = 0; k < ns; k++) {
      gdouble t = runs[k].user + runs[k].sys;

      c[group[k]] += t;
      s[group[k]] += runs[k].vcsw + runs[k].ivcsw;
      f[group[k]] += runs[k].minflt;
      n[group[k]]++;
      c[kgroup[k]] += t;
      s[kgroup[k]] += runs[k].vcsw + runs[k].ivcsw;
      f[kgroup[k]] += runs[k].minflt;
      n[kgroup[k]]++;
      g_print ("%-6d %-4u %-12s %5u %8.3f %8.3f %8.3f %8ld %8ld %8.3f %8ld "
          "%6u\n", r + 1, k + 1, slots[k], (k + ns - r % ns) % ns + 1, t,
          runs[k].user, runs[k].sys, runs[k].vcsw, runs[k].ivcsw,
          runs[k].wall, runs[k].minflt, runs[k].heap_shift);
      g_unlink (files[k]);
    }
    for (g = 0; g < nt; g++) {
      c[g] /= n[g];
      s[g] /= n[g];
      f[g] /= n[g];
      g_array_append_val (cpu[g], c[g]);
      g_array_append_val (csw[g], s[g]);
      g_array_append_val (flt[g], f[g]);
    }
  }

  for (g = 0; g < nt; g++) {
    gdouble sum = 0;
    guint i;

    if (g >= ng && nt - ng == ng)
      break;                    /* no kind has two names: as above */
    for (i = 0; i < cpu[g]->len; i++)
      sum += g_array_index (cpu[g], gdouble, i);
    g_print ("%-8s%s cpu per run %.4f s (mean of %d rounds)\n",
        (gchar *) names->pdata[g], g >= ng ? " (all)" : "", sum / rounds,
        rounds);
  }
  if (failed)
    g_print ("%d round(s) left out (a child failed), run again\n", failed);
  report_all (names, ng, nt, cpu, "CPU time");
  report_all (names, ng, nt, csw, "context switches (voluntary + involuntary)");
  /* ru_minflt: traps and pages mapped by MAP_POPULATE alike; what a
   * fault costs here is not settled (tests/bench/tracer-overhead.md,
   * "Page faults" and "Recycled reply memory") */
  report_all (names, ng, nt, flt, "minor page faults");

  stop_emulator (emu);
  g_rand_free (layouts);
  g_object_unref (lines);
  g_object_unref (emu);
  for (g = 0; g < nt; g++) {
    g_array_unref (cpu[g]);
    g_array_unref (csw[g]);
    g_array_unref (flt[g]);
  }
  g_free (cpu);
  g_free (csw);
  g_free (flt);
  g_free (runs);
  g_free (group);
  g_free (kgroup);
  g_ptr_array_unref (names);
  g_strfreev (files);
  g_strfreev (slots);
  if (g_str_has_prefix (g_getenv ("GST_REGISTRY"), dir))
    g_unlink (g_getenv ("GST_REGISTRY"));
  g_unlink (alt_registry);
  g_free (alt_registry);
  g_free (alt_plugins);
  g_rmdir (dir);
  g_free (dir);
  g_free (url);
  g_free (wav);
  g_free (kinds_opt);
  g_free (emulator);
  g_free (self_path);
  return 0;
}
