/* gst-s2s
 * Copyright (C) 2026 gst-s2s developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * What the tests of the elements on OpenAI's wire protocol (s2sopenai,
 * s2sgrok) share on top of s2s-fixture.h: the key, the caps and 20 ms input
 * chunks of 24 kHz S16LE.
 */

#ifndef __S2S_OPENAI_FIXTURE_H__
#define __S2S_OPENAI_FIXTURE_H__

#include "s2s-fixture.h"

#define API_KEY "sk-unit-test-SECRET"
#define S16_CAPS "audio/x-raw, format=(string)S16LE, " \
    "layout=(string)interleaved, rate=(int)24000, channels=(int)1"
#define MULAW_CAPS "audio/x-mulaw, rate=(int)8000, channels=(int)1"
#define ALAW_CAPS "audio/x-alaw, rate=(int)8000, channels=(int)1"
/* 20 ms of 24 kHz S16LE: the input chunk */
#define CHUNK_BYTES 960
/* 40 ms of 24 kHz S16LE: the element's output buffer size (the last buffer
 * of a reply may be shorter) */
#define OUT_BYTES 1920

/* 20 ms input buffers without timestamps (no pacing) */
static inline void
push_input (Fx * fx, guint start, guint n)
{
  fx_push_input (fx, start, n, CHUNK_BYTES, 5000);
}

#endif
