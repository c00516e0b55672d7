// Fidelity check: drive s2s-emulator with the official OpenAI SDK realtime
// clients, so the emulator is judged by the vendor's own code rather than by
// ours.  Usage: node fidelity.mjs <port> <q1-weather-24k.wav>
// Exit 0 = all assertions hold; 1 = failure.

import fs from 'node:fs';
import OpenAI from 'openai';
import { OpenAIRealtimeWebSocket } from 'openai/realtime/websocket';
import { OpenAIRealtimeWS } from 'openai/realtime/ws';

const [port, wavPath] = process.argv.slice(2);
if (!port || !wavPath) {
  console.error('usage: node fidelity.mjs <port> <wav>');
  process.exit(2);
}

// Walk the RIFF chunks instead of assuming a 44-byte header.
function readWav(path) {
  const buf = fs.readFileSync(path);
  if (buf.toString('ascii', 0, 4) !== 'RIFF' || buf.toString('ascii', 8, 12) !== 'WAVE')
    throw new Error(`${path}: not a RIFF/WAVE file`);
  let off = 12;
  let fmt = null;
  while (off + 8 <= buf.length) {
    const id = buf.toString('ascii', off, off + 4);
    const size = buf.readUInt32LE(off + 4);
    const body = buf.subarray(off + 8, off + 8 + size);
    if (id === 'fmt ') {
      fmt = {
        format: body.readUInt16LE(0),
        channels: body.readUInt16LE(2),
        rate: body.readUInt32LE(4),
        bits: body.readUInt16LE(14),
      };
    } else if (id === 'data') {
      if (!fmt) throw new Error(`${path}: data before fmt`);
      if (fmt.format !== 1 || fmt.channels !== 1 || fmt.rate !== 24000 || fmt.bits !== 16)
        throw new Error(`${path}: need 24 kHz mono S16 PCM, got ${JSON.stringify(fmt)}`);
      return Buffer.from(body);
    }
    off += 8 + size + (size & 1);
  }
  throw new Error(`${path}: no data chunk`);
}

const speech = readWav(wavPath);
const silence = Buffer.alloc(24000 * 2); // 1 s
const input = Buffer.concat([speech, silence]);
const CHUNK = 4800; // 100 ms at 24 kHz S16

const failures = [];
function check(label, cond, detail = '') {
  if (cond) {
    console.log(`ok   ${label}`);
  } else {
    console.log(`FAIL ${label} ${detail}`);
    failures.push(label);
  }
}

function waitFor(rt, events, pred, ms, what) {
  return new Promise((resolve, reject) => {
    const found = events.find(pred);
    if (found) return resolve(found);
    const timer = setTimeout(() => {
      rt.off('event', on);
      reject(new Error(`timeout waiting for ${what}`));
    }, ms);
    const on = (e) => {
      if (pred(e)) {
        clearTimeout(timer);
        rt.off('event', on);
        resolve(e);
      }
    };
    rt.on('event', on);
  });
}

function openEvent(rt) {
  return new Promise((resolve, reject) => {
    const s = rt.socket;
    if (typeof s.on === 'function') {
      s.once('open', resolve);
      s.once('error', reject);
    } else {
      s.addEventListener('open', resolve, { once: true });
      s.addEventListener('error', (e) => reject(new Error(e.message || 'socket error')), { once: true });
    }
  });
}

async function runSession(label, makeRt) {
  console.log(`# ${label}`);
  const events = [];
  const errors = [];
  const rt = makeRt();
  rt.on('event', (e) => events.push(e));
  rt.on('error', (err) => errors.push(err));
  await openEvent(rt);

  await waitFor(rt, events, (e) => e.type === 'session.created', 5000, 'session.created');
  rt.send({
    type: 'session.update',
    session: {
      type: 'realtime',
      output_modalities: ['audio'],
      instructions: 'Be brief.',
      audio: {
        input: {
          format: { type: 'audio/pcm', rate: 24000 },
          transcription: { model: 'gpt-4o-mini-transcribe', language: 'en' },
          turn_detection: {
            type: 'server_vad', threshold: 0.5, prefix_padding_ms: 300,
            silence_duration_ms: 500, create_response: true, interrupt_response: true,
          },
        },
        output: { format: { type: 'audio/pcm', rate: 24000 }, voice: 'marin' },
      },
    },
  });
  const updated = await waitFor(rt, events, (e) => e.type === 'session.updated', 5000, 'session.updated');
  check(`${label}: session.updated`, updated.session?.audio?.input?.transcription?.model === 'gpt-4o-mini-transcribe');

  for (let off = 0; off < input.length; off += CHUNK)
    rt.send({ type: 'input_audio_buffer.append', audio: input.subarray(off, off + CHUNK).toString('base64') });

  const done = await waitFor(rt, events, (e) => e.type === 'response.done', 10000, 'response.done');
  await waitFor(rt, events, (e) => e.type === 'conversation.item.input_audio_transcription.completed', 5000,
    'input transcription');
  await waitFor(rt, events, (e) => e.type === 'rate_limits.updated', 5000, 'rate_limits.updated');

  const started = events.find((e) => e.type === 'input_audio_buffer.speech_started');
  const stopped = events.find((e) => e.type === 'input_audio_buffer.speech_stopped');
  check(`${label}: no error events`, errors.length === 0 && !events.some((e) => e.type === 'error'),
    errors.map((e) => e.message).join('; '));
  check(`${label}: speech_started`, !!started && Number.isInteger(started.audio_start_ms) && !!started.item_id);
  check(`${label}: speech_stopped`, !!stopped && stopped.audio_end_ms > (started?.audio_start_ms ?? 0));
  check(`${label}: committed`, events.some((e) => e.type === 'input_audio_buffer.committed' && e.item_id === started?.item_id));
  check(`${label}: response.done completed`, done.response?.status === 'completed');
  const u = done.response?.usage;
  check(`${label}: usage`, !!u && u.total_tokens === u.input_tokens + u.output_tokens &&
    u.input_token_details?.audio_tokens > 0 && u.output_token_details?.audio_tokens > 0,
    JSON.stringify(u));

  // Output audio must be the user's turn, sample for sample.
  const out = Buffer.concat(events.filter((e) => e.type === 'response.output_audio.delta')
    .map((e) => Buffer.from(e.delta, 'base64')));
  const startMs = started?.audio_start_ms ?? 0;  // includes the prefix padding
  const expected = input.subarray(startMs * 48, (stopped?.audio_end_ms ?? 0) * 48);
  check(`${label}: output audio == echoed turn (${out.length} bytes)`, out.length > 0 && out.equals(expected),
    `got ${out.length} bytes, expected ${expected.length}`);

  const userT = events.find((e) => e.type === 'conversation.item.input_audio_transcription.completed');
  const asstT = events.find((e) => e.type === 'response.output_audio_transcript.done');
  const deltas = events.filter((e) => e.type === 'response.output_audio_transcript.delta').map((e) => e.delta).join('');
  check(`${label}: user transcript`, !!userT?.transcript && userT.item_id === started?.item_id, userT?.transcript);
  check(`${label}: assistant transcript`, !!asstT?.transcript && asstT.transcript === deltas &&
    asstT.transcript === `You said: ${userT?.transcript}`, asstT?.transcript);
  const order = ['response.created', 'response.output_item.added', 'conversation.item.added',
    'response.content_part.added', 'response.output_audio.delta', 'response.output_audio.done',
    'response.output_audio_transcript.done', 'response.content_part.done', 'response.output_item.done',
    'response.done', 'rate_limits.updated'];
  const resp = events.findIndex((e) => e.type === 'response.created');
  const idx = order.map((t) => events.findIndex((e, i) => i >= resp && e.type === t));
  check(`${label}: response event order`, idx.every((v, i) => v >= 0 && (i === 0 || v > idx[i - 1])),
    JSON.stringify(idx));
  const ids = events.map((e) => e.event_id);
  check(`${label}: unique event ids`, new Set(ids).size === ids.length);

  rt.close();
}

const key = 'sk-emulator-dummy-key';
try {
  // Native (undici) WebSocket: key travels as a subprotocol. Node 18
  // (Debian 12's) has no global WebSocket: only the `ws` client runs there.
  if (typeof globalThis.WebSocket === 'function') {
    await runSession('OpenAIRealtimeWebSocket', () => new OpenAIRealtimeWebSocket(
      { model: 'gpt-realtime' },
      new OpenAI({ apiKey: key, baseURL: `https://127.0.0.1:${port}/v1` })));
  } else {
    console.log('note: no global WebSocket in this Node; OpenAIRealtimeWebSocket not run');
  }
  // `ws` package: key travels as Authorization: Bearer.
  await runSession('OpenAIRealtimeWS', () => new OpenAIRealtimeWS(
    { model: 'gpt-realtime' },
    new OpenAI({ apiKey: key, baseURL: `https://127.0.0.1:${port}/v1` })));
  // No Azure pass here: this SDK version builds the deprecated preview URL
  // (/openai/realtime?api-version=...); selftest.mjs covers the GA path.
} catch (err) {
  console.log(`FAIL exception: ${err.stack || err}`);
  failures.push('exception');
}

if (failures.length) {
  console.log(`${failures.length} failure(s)`);
  process.exit(1);
}
console.log('all fidelity checks passed');
process.exit(0);
