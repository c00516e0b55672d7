/* gst-s2s
 * Copyright (C) 2026 gst-s2s developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Runs a fuzz target over files or directories of inputs, for builds
 * without libFuzzer: the seed corpus becomes a regression test.
 */

#include <stdint.h>
#include <stdio.h>
#include <glib.h>

int LLVMFuzzerTestOneInput (const uint8_t * data, size_t size);

static int
run_file (const gchar * path)
{
  gchar *contents;
  gsize len;
  GError *err = NULL;

  if (!g_file_get_contents (path, &contents, &len, &err)) {
    g_printerr ("%s: %s\n", path, err->message);
    g_clear_error (&err);
    return 1;
  }
  LLVMFuzzerTestOneInput ((const uint8_t *) contents, len);
  g_free (contents);
  return 0;
}

int
main (int argc, char **argv)
{
  int i, n = 0, bad = 0;

  for (i = 1; i < argc; i++) {
    if (g_file_test (argv[i], G_FILE_TEST_IS_DIR)) {
      GDir *dir = g_dir_open (argv[i], 0, NULL);
      const gchar *name;

      while (dir && (name = g_dir_read_name (dir))) {
        gchar *path = g_build_filename (argv[i], name, NULL);
        bad += run_file (path);
        n++;
        g_free (path);
      }
      if (dir)
        g_dir_close (dir);
    } else {
      bad += run_file (argv[i]);
      n++;
    }
  }
  printf ("%d inputs run, %d unreadable\n", n, bad);
  return bad || n == 0 ? 1 : 0;
}
