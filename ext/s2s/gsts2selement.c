/* gst-s2s
 * Copyright (C) 2026 gst-s2s developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <glib/gi18n-lib.h>

#include "gsts2selements.h"

GST_DEBUG_CATEGORY_EXTERN (gst_s2s_debug);

void
s2s_element_init (GstPlugin * plugin)
{
  static gsize done = 0;

  if (g_once_init_enter (&done)) {
    GST_DEBUG_CATEGORY_INIT (gst_s2s_debug, "s2s", 0,
        "speech-to-speech base class");
#ifdef ENABLE_NLS
    bindtextdomain (GETTEXT_PACKAGE, LOCALEDIR);
    bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
#endif
    g_once_init_leave (&done, 1);
  }
}
