/* gst-s2s
 * Copyright (C) 2026 gst-s2s developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#ifndef __GST_S2S_WS_FRAME_H__
#define __GST_S2S_WS_FRAME_H__

#include <glib.h>

G_BEGIN_DECLS
/* RFC 6455 framing, client side, without I/O: the parser of server frames
 * (its own fuzz target, tests/fuzz/fuzz-ws-frames.c) and the builder of
 * masked client frames. */
#define GST_S2S_WS_OP_CONTINUATION 0x0
#define GST_S2S_WS_OP_TEXT 0x1
#define GST_S2S_WS_OP_BINARY 0x2
#define GST_S2S_WS_OP_CLOSE 0x8
#define GST_S2S_WS_OP_PING 0x9
#define GST_S2S_WS_OP_PONG 0xa
    typedef struct
{
  gboolean fin;
  guint8 opcode;
  const guint8 *payload;        /* points into the parsed buffer */
  gsize len;
} GstS2SWsFrame;

/* One server frame from the start of @buf: the bytes it takes, 0 when
 * more are needed, or -(close code) when the stream breaks the protocol
 * (1002: masked, reserved bits, bad control frame, unknown opcode; 1009:
 * a payload over @max_payload). */
gssize gst_s2s_ws_frame_parse (const guint8 * buf, gsize len,
    gsize max_payload, GstS2SWsFrame * frame);

/* Reassembles data messages from frames; control frames stay separate. */
typedef struct
{
  guint8 opcode;                /* of the message in progress, 0: none */
  GByteArray *buf;
  gsize max_message;
} GstS2SWsAssembler;

void gst_s2s_ws_assembler_init (GstS2SWsAssembler * a, gsize max_message);
void gst_s2s_ws_assembler_clear (GstS2SWsAssembler * a);

/* Feeds one data frame (text, binary or continuation). Returns 0 and sets
 * @msg (NULL while the message is incomplete) and @binary, or the close
 * code for a protocol error (1002, 1007 invalid UTF-8, 1009 too big). */
gushort gst_s2s_ws_assembler_push (GstS2SWsAssembler * a,
    const GstS2SWsFrame * frame, GBytes ** msg, gboolean * binary);

/* The code and reason of a close frame's payload: 1005 when it has none;
 * FALSE when the payload is malformed (1002) */
gboolean gst_s2s_ws_parse_close (const guint8 * payload, gsize len,
    gushort * code, gchar ** reason);

/* A fast PRNG for masking keys (xorshift64*); not for secrets: RFC 6455
 * only asks that proxies cannot predict the key from what they saw. */
guint32 gst_s2s_ws_prng_next (guint64 * state);

/* Appends one complete masked client frame (FIN set) to @out. */
void gst_s2s_ws_frame_build (GByteArray * out, guint8 opcode,
    const guint8 * payload, gsize len, guint32 mask_key);

G_END_DECLS
#endif /* __GST_S2S_WS_FRAME_H__ */
