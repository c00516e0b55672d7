/* gst-s2s
 * Copyright (C) 2026 gst-s2s developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The I/O threads (docs/design.md "I/O threads: a small shared pool"), run
 * three times by meson: elements/s2s-io-pool (the default, with
 * GST_S2S_IO_THREADS=2), elements/s2s-io-shared (GST_S2S_IO=shared) and
 * elements/s2s-io-element (GST_S2S_IO=element). Several s2sopenai elements
 * against their mock servers share at most K threads named s2s-io-N (one
 * s2s-io each in element mode), stopping one leaves the others working,
 * and no thread is left once none runs.
 */

#include "s2s-openai-fixture.h"

#define N_ELEMENTS 4

/* threads the mode should give N_ELEMENTS elements, and their names */
static guint
expected_threads (gboolean * named_n)
{
  const gchar *mode = g_getenv ("GST_S2S_IO");
  const gchar *k = g_getenv ("GST_S2S_IO_THREADS");

  *named_n = TRUE;
  if (!g_strcmp0 (mode, "element")) {
    *named_n = FALSE;
    return N_ELEMENTS;
  }
  if (!g_strcmp0 (mode, "shared"))
    return 1;
  fail_unless (k != NULL, "the pool test sets GST_S2S_IO_THREADS");
  return MIN (N_ELEMENTS, (guint) atoi (k));
}

/* g_ptr_array_sort passes pointers to the elements */
static gint
cmp_names (gconstpointer a, gconstpointer b)
{
  return g_strcmp0 (*(const gchar **) a, *(const gchar **) b);
}

static Fx *
fx_new (const S2SMockOptions * opts)
{
  return fx_new_for ("s2sopenai", API_KEY, opts);
}

/* the names of this process's I/O threads, sorted, comma-separated */
static gchar *
io_thread_names (void)
{
  GDir *dir = g_dir_open ("/proc/self/task", 0, NULL);
  GPtrArray *names = g_ptr_array_new_with_free_func (g_free);
  const gchar *tid;
  gchar *joined;

  fail_unless (dir != NULL);
  while ((tid = g_dir_read_name (dir))) {
    gchar *path = g_build_filename ("/proc/self/task", tid, "comm", NULL);
    gchar *comm = NULL;

    if (g_file_get_contents (path, &comm, NULL, NULL)) {
      g_strchomp (comm);
      if (g_str_has_prefix (comm, "s2s-io")) {
        g_ptr_array_add (names, comm);
        comm = NULL;
      }
    }
    g_free (comm);
    g_free (path);
  }
  g_dir_close (dir);
  g_ptr_array_sort (names, cmp_names);
  g_ptr_array_add (names, NULL);
  joined = g_strjoinv (",", (gchar **) names->pdata);
  g_ptr_array_unref (names);
  return joined;
}

/* io_thread_names() once it is @want, or after 2 s what it is then: a
 * thread an I/O thread starts (GLib's resolver pool, its gmain worker)
 * carries the I/O thread's name until it renames itself */
static gchar *
wait_io_thread_names (const gchar * want)
{
  gint64 end = g_get_monotonic_time () + 2 * G_TIME_SPAN_SECOND;
  gchar *names;

  while (g_strcmp0 (names = io_thread_names (), want) != 0 &&
      g_get_monotonic_time () < end) {
    g_free (names);
    g_usleep (10 * 1000);
  }
  return names;
}

static gchar *
expected_names (guint n, gboolean named_n)
{
  GString *s = g_string_new (NULL);
  GPtrArray *names = g_ptr_array_new_with_free_func (g_free);
  guint i;

  for (i = 0; i < n; i++)
    g_ptr_array_add (names, named_n ? g_strdup_printf ("s2s-io-%u", i) :
        g_strdup ("s2s-io"));
  g_ptr_array_sort (names, cmp_names);
  for (i = 0; i < n; i++)
    g_string_append_printf (s, "%s%s", i ? "," : "",
        (gchar *) g_ptr_array_index (names, i));
  g_ptr_array_unref (names);
  return g_string_free (s, FALSE);
}

/* a reply from the mock comes out of the element */
static void
check_answers (Fx * fx, const gchar * resp)
{
  GstBuffer *buf;

  s2s_mock_server_send_response (fx->mock, resp, "item_1", 2, 100);
  fx_wait_response (fx, "first-audio", resp);
  gst_harness_set_time (fx->h, MS (60 * 1000));
  buf = pull_buffer (fx->h, WAIT_MS);
  fail_unless (buf != NULL, "no reply after another element stopped");
  gst_buffer_unref (buf);
}

GST_START_TEST (test_io_threads_shared_and_named)
{
  Fx *fx[N_ELEMENTS];
  gboolean named_n;
  guint n = expected_threads (&named_n), i;
  gchar *names, *want;

  fail_unless_equals_int (wait_s2s_io_threads (0), 0);
  for (i = 0; i < N_ELEMENTS; i++) {
    fx[i] = fx_new (NULL);
    fx_start (fx[i], S16_CAPS);
  }
  for (i = 0; i < N_ELEMENTS; i++)
    fx_wait_ready (fx[i]);

  fail_unless_equals_int (wait_s2s_io_threads (n), n);
  want = expected_names (n, named_n);
  names = wait_io_thread_names (want);
  fail_unless_equals_string (names, want);
  g_free (names);
  g_free (want);

  /* the first element stops: the others, some on its thread, go on */
  fail_unless_equals_int (gst_element_set_state (fx[0]->el, GST_STATE_NULL),
      GST_STATE_CHANGE_SUCCESS);
  for (i = 1; i < N_ELEMENTS; i++) {
    push_input (fx[i], 0, 3);
    check_answers (fx[i], "resp_after_stop");
  }

  for (i = 0; i < N_ELEMENTS; i++)
    fx_free (fx[i]);
  fail_unless_equals_int (wait_s2s_io_threads (0), 0);
}

GST_END_TEST;

/* a pool thread ends with its last element and comes back with the next */
GST_START_TEST (test_io_thread_ends_with_last_element)
{
  gboolean named_n;
  guint round;

  expected_threads (&named_n);
  for (round = 0; round < 2; round++) {
    Fx *fx = fx_new (NULL);
    gchar *names;

    fx_start (fx, S16_CAPS);
    fx_wait_ready (fx);
    names = wait_io_thread_names (named_n ? "s2s-io-0" : "s2s-io");
    fail_unless_equals_string (names, named_n ? "s2s-io-0" : "s2s-io");
    g_free (names);
    check_answers (fx, "resp_1");
    fx_free (fx);
    fail_unless_equals_int (wait_s2s_io_threads (0), 0);
  }
}

GST_END_TEST;

/* Elements start and stop one after another, each the thread's last user:
 * the stop that ends the thread races the thread's own exit (the quit
 * source's last unref once reached into the context the thread had just
 * freed, seen under valgrind). ASan and valgrind, which run this suite,
 * report such a race; the cycles give it many chances. */
GST_START_TEST (test_io_thread_stop_cycles)
{
  guint round;

  for (round = 0; round < 200; round++) {
    Fx *fx = fx_new (NULL);

    fx_start (fx, S16_CAPS);
    fx_wait_ready (fx);
    fx_free (fx);
  }
  fail_unless_equals_int (wait_s2s_io_threads (0), 0);
}

GST_END_TEST;

static Suite *
s2s_io_suite (void)
{
  Suite *s = suite_create ("s2s-io");
  TCase *tc = tcase_create ("general");

  tcase_set_timeout (tc, 60);
  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_io_threads_shared_and_named);
  tcase_add_test (tc, test_io_thread_ends_with_last_element);
  tcase_add_test (tc, test_io_thread_stop_cycles);
  return s;
}

GST_CHECK_MAIN (s2s_io);
