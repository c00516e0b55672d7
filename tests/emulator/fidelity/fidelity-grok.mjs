// Fidelity check of the emulator's Grok dialect: the official OpenAI SDK
// (the `ws` realtime client) configured as xAI documents it for Grok
// (baseURL https://<host>/v1, the xAI key as Bearer, no beta header), one
// spoken turn at 16 kHz in Grok's session shape.
// Usage: node fidelity-grok.mjs <port> <q1-weather-16k.wav>
// Exit 0 = all assertions hold; 1 = failure.

import fs from 'node:fs';
import OpenAI from 'openai';
import { OpenAIRealtimeWS } from 'openai/realtime/ws';

const [port, wavPath] = process.argv.slice(2);
if (!port || !wavPath) {
  console.error('usage: node fidelity-grok.mjs <port> <wav>');
  process.exit(2);
}
const RATE = 16000;

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
      fmt = { format: body.readUInt16LE(0), channels: body.readUInt16LE(2),
        rate: body.readUInt32LE(4), bits: body.readUInt16LE(14) };
    } else if (id === 'data') {
      if (!fmt || fmt.format !== 1 || fmt.channels !== 1 || fmt.rate !== RATE || fmt.bits !== 16)
        throw new Error(`${path}: need ${RATE} Hz mono S16 PCM, got ${JSON.stringify(fmt)}`);
      return Buffer.from(body);
    }
    off += 8 + size + (size & 1);
  }
  throw new Error(`${path}: no data chunk`);
}

const input = Buffer.concat([readWav(wavPath), Buffer.alloc(RATE * 2)]); // + 1 s silence
const CHUNK = RATE / 10 * 2; // 100 ms

const failures = [];
function check(label, cond, detail = '') {
  console.log(`${cond ? 'ok  ' : 'FAIL'} ${label} ${cond ? '' : detail}`);
  if (!cond) failures.push(label);
}

function waitFor(rt, events, pred, ms, what) {
  return new Promise((resolve, reject) => {
    const found = events.find(pred);
    if (found) return resolve(found);
    const timer = setTimeout(() => { rt.off('event', on); reject(new Error(`timeout waiting for ${what}`)); }, ms);
    const on = (e) => {
      if (pred(e)) { clearTimeout(timer); rt.off('event', on); resolve(e); }
    };
    rt.on('event', on);
  });
}

const label = 'Grok via OpenAIRealtimeWS';
console.log(`# ${label}`);
try {
  const events = [];
  const errors = [];
  const rt = new OpenAIRealtimeWS({ model: 'grok-voice-think-fast-2.0' },
    new OpenAI({ apiKey: 'xai-emulator-dummy-key', baseURL: `https://127.0.0.1:${port}/v1` }));
  rt.on('event', (e) => events.push(e));
  rt.on('error', (err) => errors.push(err));
  await new Promise((resolve, reject) => { rt.socket.once('open', resolve); rt.socket.once('error', reject); });

  await waitFor(rt, events, (e) => e.type === 'session.created', 5000, 'session.created');
  check('greeting: conversation.created then session.created',
    events[0]?.type === 'conversation.created' && !!events[0].conversation?.id &&
    events[1]?.type === 'session.created');

  // The OpenAI GA shape is not Grok's: refused, the session unchanged.
  rt.send({ type: 'session.update', event_id: 'ev_ga',
    session: { type: 'realtime', audio: { output: { voice: 'marin' } } } });
  const gaErr = await waitFor(rt, events, (e) => e.type === 'error', 5000, 'error for the GA shape');
  check('GA session shape refused', gaErr.error?.code === 'unknown_parameter' &&
    gaErr.error?.event_id === 'ev_ga', JSON.stringify(gaErr));
  rt.send({ type: 'session.update', event_id: 'ev_sem',
    session: { turn_detection: { type: 'semantic_vad' } } });
  const semErr = await waitFor(rt, events, (e) => e.type === 'error' && e.error?.event_id === 'ev_sem', 5000,
    'error for semantic_vad');
  check('semantic_vad refused', semErr.error?.code === 'invalid_value' &&
    semErr.error?.param === 'session.turn_detection.type', JSON.stringify(semErr));
  const nErrors = events.filter((e) => e.type === 'error').length;

  rt.send({ type: 'session.update', session: {
    instructions: 'Be brief.', voice: 'Ara',
    turn_detection: { type: 'server_vad', threshold: 0.5, silence_duration_ms: 500, prefix_padding_ms: 300 },
    audio: {
      input: { format: { type: 'audio/pcm', rate: RATE }, transcription: { model: 'grok-transcribe', language_hint: 'en' } },
      output: { format: { type: 'audio/pcm', rate: RATE } },
    },
  } });
  const updated = await waitFor(rt, events, (e) => e.type === 'session.updated', 5000, 'session.updated');
  check('session.updated in Grok shape', updated.session?.voice === 'ara' &&
    updated.session?.turn_detection?.type === 'server_vad' &&
    updated.session?.audio?.input?.format?.rate === RATE && !('type' in updated.session),
    JSON.stringify(updated.session));

  for (let off = 0; off < input.length; off += CHUNK)
    rt.send({ type: 'input_audio_buffer.append', audio: input.subarray(off, off + CHUNK).toString('base64') });

  const done = await waitFor(rt, events, (e) => e.type === 'response.done', 10000, 'response.done');
  const userT = await waitFor(rt, events,
    (e) => e.type === 'conversation.item.input_audio_transcription.completed', 5000, 'input transcription');
  await new Promise((r) => setTimeout(r, 300)); // anything that would still come

  // (the SDK also reports each error event on 'error')
  check('no further error events', events.filter((e) => e.type === 'error').length === nErrors &&
    errors.length === nErrors, errors.map((e) => e.message).join('; '));
  const started = events.find((e) => e.type === 'input_audio_buffer.speech_started');
  const stopped = events.find((e) => e.type === 'input_audio_buffer.speech_stopped');
  check('speech_started/stopped', !!started && !!stopped && stopped.audio_end_ms > started.audio_start_ms);
  check('response.done completed', done.response?.status === 'completed');

  // Reply audio: the turn, at 16 kHz, through the emulator's 24 kHz core
  // (zero-order hold both ways: output j = input[floor((s0 + floor(j*3/2)) * 2/3)])
  const out = Buffer.concat(events.filter((e) => e.type === 'response.output_audio.delta')
    .map((e) => Buffer.from(e.delta, 'base64')));
  const turnMs = stopped.audio_end_ms - started.audio_start_ms;
  check(`reply length = turn length at 16 kHz (${out.length} bytes)`, out.length === turnMs * 32,
    `expected ${turnMs * 32}`);
  let same = out.length > 0;
  const s0 = started.audio_start_ms * 24;
  for (let j = 0; same && j < out.length / 2; j++) {
    const k = Math.floor((s0 + Math.floor(j * 3 / 2)) * 2 / 3);
    const want = k * 2 + 1 < input.length ? input.readInt16LE(k * 2) : 0;
    same = out.readInt16LE(j * 2) === want;
  }
  check('reply audio is the echoed turn', same);

  // Cumulative partials: each .updated extends the last, the final agrees
  const ups = events.filter((e) => e.type === 'conversation.item.input_audio_transcription.updated');
  check(`cumulative .updated partials (${ups.length})`, ups.length > 1 &&
    ups.every((e, i) => i === 0 || e.transcript.startsWith(ups[i - 1].transcript)) &&
    ups[ups.length - 1].transcript === userT.transcript, JSON.stringify(ups.map((e) => e.transcript)));
  check('no transcription .delta', !events.some((e) => e.type === 'conversation.item.input_audio_transcription.delta'));
  check('no conversation.item.done', !events.some((e) => e.type === 'conversation.item.done'));
  check('no rate_limits.updated', !events.some((e) => e.type === 'rate_limits.updated'));
  const asstT = events.find((e) => e.type === 'response.output_audio_transcript.done');
  check('assistant transcript', asstT?.transcript === `You said: ${userT.transcript}`, asstT?.transcript);
  rt.close();
} catch (err) {
  console.log(`FAIL exception: ${err.stack || err}`);
  failures.push('exception');
}

if (failures.length) {
  console.log(`${failures.length} failure(s)`);
  process.exit(1);
}
console.log('all Grok fidelity checks passed');
