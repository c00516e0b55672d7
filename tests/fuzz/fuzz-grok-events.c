/* gst-s2s
 * Copyright (C) 2026 gst-s2s developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * libFuzzer target for s2sgrok's server-event parser: Grok's own events
 * (cumulative transcription .updated, .completed in_progress, max_duration
 * errors) first, then the OpenAI ones it shares; the driver is the OpenAI
 * target's, on a fresh s2sgrok per input.
 */

#define FUZZ_FACTORY "s2sgrok"
#define FUZZ_REGISTER() GST_ELEMENT_REGISTER (s2sgrok, NULL)

#include "fuzz-openai-events.c"
