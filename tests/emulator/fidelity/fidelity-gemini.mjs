// Fidelity check of the s2s-emulator Gemini Live dialect against the
// official @google/genai SDK (`ai.live.connect`), so the emulator is judged
// by Google's own client.  Usage:
//   node fidelity-gemini.mjs <s2s-emulator> <certdir> <q1-weather-16k.wav>
// Needs NODE_EXTRA_CA_CERTS=<certdir>/ca.pem (the SDK's Node WebSocket is
// the `ws` package, which uses Node's TLS defaults).  Exit 0 = pass.
//
// Pointing the SDK at the emulator: httpOptions.baseUrl
// "https://127.0.0.1:PORT".  The SDK turns https into wss and appends
// "/ws/google.ai.generativelanguage.<apiVersion>.GenerativeService.
// BidiGenerateContent?key=KEY"; because URL.toString() keeps the trailing
// slash the path starts with "//ws/", which Google's front end (and the
// emulator) accept.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { GoogleGenAI, Modality } from '@google/genai';

const [emulator, certdir, wavPath] = process.argv.slice(2);
if (!emulator || !certdir || !wavPath) {
  console.error('usage: node fidelity-gemini.mjs <s2s-emulator> <certdir> <wav-16k>');
  process.exit(2);
}
const KEY = 'gemini-emulator-key';
const MODEL = 'gemini-2.5-flash-native-audio-preview-12-2025';
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 's2s-fidelity-gemini-'));
const failures = [];
const check = (label, cond, detail = '') => {
  console.log(`${cond ? 'ok  ' : 'FAIL'} gemini: ${label}${cond ? '' : ' ' + detail}`);
  if (!cond) failures.push(label);
};

// 16 kHz mono S16 PCM from a RIFF/WAVE file (chunks walked, not assumed).
function readWav16k(p) {
  const buf = fs.readFileSync(p);
  let off = 12, fmt = null;
  while (off + 8 <= buf.length) {
    const id = buf.toString('ascii', off, off + 4);
    const size = buf.readUInt32LE(off + 4);
    const body = buf.subarray(off + 8, off + 8 + size);
    if (id === 'fmt ')
      fmt = { format: body.readUInt16LE(0), channels: body.readUInt16LE(2),
        rate: body.readUInt32LE(4), bits: body.readUInt16LE(14) };
    else if (id === 'data') {
      if (!fmt || fmt.format !== 1 || fmt.channels !== 1 || fmt.rate !== 16000 || fmt.bits !== 16)
        throw new Error(`${p}: need 16 kHz mono S16 PCM, got ${JSON.stringify(fmt)}`);
      return Buffer.from(body);
    }
    off += 8 + size + (size & 1);
  }
  throw new Error(`${p}: no data chunk`);
}

// The documented 2:3 conversion (tests/emulator/README.md), independently.
function to24k(pcm16) {
  const n = pcm16.length / 2;
  const x = (i) => pcm16.readInt16LE(2 * Math.min(i, n - 1));
  const outN = Math.floor(n * 3 / 2);
  const out = Buffer.alloc(outN * 2);
  for (let j = 0; j < outN; j++) {
    const k = Math.floor(j / 3), i = 2 * k;
    const v = j % 3 === 0 ? 3 * x(i) : j % 3 === 1 ? x(i) + 2 * x(i + 1) : 2 * x(i + 1) + x(i + 2);
    out.writeInt16LE(Math.floor((v + 1) / 3), 2 * j);
  }
  return out;
}

const children = new Set();
process.on('exit', () => { for (const ch of children) ch.kill('SIGKILL'); });
async function startEmu(extra = [], script = null) {
  const log = path.join(tmp, `emu${children.size}-${Date.now()}.log`);
  const args = ['--tls-cert', `${certdir}/server.pem`, '--tls-key', `${certdir}/server-key.pem`,
    '--log', log, '--api-key', KEY, ...extra];
  if (script) {
    const sp = `${log}.script.json`;
    fs.writeFileSync(sp, JSON.stringify(script));
    args.push('--script', sp);
  }
  const child = spawn(emulator, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  children.add(child);
  const url = await new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d) => { out += d; if (out.includes('\n')) resolve(out.split('\n')[0]); });
    child.on('exit', (c) => reject(new Error(`emulator exited ${c}`)));
  });
  return {
    port: Number(url.split(':').pop()), log,
    stop: () => new Promise((resolve) => {
      child.on('exit', (c) => { children.delete(child); resolve(c); });
      child.kill('SIGTERM');
    }),
  };
}

// One SDK session; messages collected, with waiters on a predicate.
// live.connect() resolves on setupComplete only: a close before it leaves
// the promise pending (SDK 2.32.0), so open() also resolves on onclose;
// s.session is then undefined.
async function open(port, config = {}, client = {}, model = MODEL) {
  const ai = new GoogleGenAI({ apiKey: KEY, httpOptions: { baseUrl: `https://127.0.0.1:${port}` }, ...client });
  const s = { msgs: [], closed: null, errors: [], waiters: [] };
  const wake = () => { s.waiters = s.waiters.filter((w) => !w()); };
  const connecting = ai.live.connect({
    model,
    config: {
      responseModalities: [Modality.AUDIO],
      speechConfig: { voiceConfig: { prebuiltVoiceConfig: { voiceName: 'Puck' } } },
      systemInstruction: 'You are a test assistant.',
      inputAudioTranscription: {},
      outputAudioTranscription: {},
      sessionResumption: {},
      contextWindowCompression: { slidingWindow: {} },
      realtimeInputConfig: { automaticActivityDetection: { disabled: false, silenceDurationMs: 500 } },
      tools: [{ functionDeclarations: [{ name: 'get_weather', description: 'Weather for a city',
        parameters: { type: 'OBJECT', properties: { city: { type: 'STRING' } }, required: ['city'] } }] }],
      ...config,
    },
    callbacks: {
      onmessage: (m) => { s.msgs.push(m); wake(); },
      onerror: (e) => { s.errors.push(e); wake(); },
      onclose: (e) => { s.closed = { code: e.code, reason: e.reason }; wake(); },
    },
  });
  const closedEarly = new Promise((resolve) => s.waiters.push(() => {
    if (s.closed) { resolve(undefined); return true; }
    return false;
  }));
  s.session = await Promise.race([connecting, closedEarly]);
  s.wait = (pred, ms = 10000) => new Promise((resolve) => {
    const t = setTimeout(() => resolve(null), ms);
    const w = () => {
      const m = s.msgs.find(pred);
      if (m || s.closed) { clearTimeout(t); resolve(m || null); return true; }
      return false;
    };
    if (!w()) s.waiters.push(w);
  });
  s.waitClose = (ms = 10000) => new Promise((resolve) => {
    const t = setTimeout(() => resolve(null), ms);
    const w = () => { if (s.closed) { clearTimeout(t); resolve(s.closed); return true; } return false; };
    if (!w()) s.waiters.push(w);
  });
  return s;
}

function sendAudio(s, pcm) {
  for (let off = 0; off < pcm.length; off += 3200)
    s.session.sendRealtimeInput({ audio: { data: pcm.subarray(off, off + 3200).toString('base64'),
      mimeType: 'audio/pcm;rate=16000' } });
}

const text = (msgs, field) => msgs.map((m) => m.serverContent?.[field]?.text ?? '').join('');
const turnRe = /^turn (\d+), (\d+) ms of speech at (\d+) ms$/;

const input = Buffer.concat([readWav16k(wavPath), Buffer.alloc(32000)]); // + 1 s silence

async function spokenTurn() {
  const emu = await startEmu();
  const s = await open(emu.port);
  check('setupComplete before connect() resolves', s.msgs.some((m) => m.setupComplete));
  const firstHandle = await s.wait((m) => m.sessionResumptionUpdate?.newHandle, 3000);
  check('initial resumption handle', !!firstHandle);
  sendAudio(s, input);
  const done = await s.wait((m) => m.serverContent?.turnComplete);
  check('turnComplete', !!done, JSON.stringify(s.closed));
  const upto = s.msgs.indexOf(done) + 1;
  const msgs = s.msgs.slice(0, upto);
  const said = text(msgs, 'inputTranscription');
  const t = turnRe.exec(said);
  check('input transcription "turn 1, L ms of speech at S ms"', !!t && t[1] === '1', said);
  const heard = text(msgs, 'outputTranscription');
  check('output transcription', heard === `echo of turn 1; first turn: ${said}`, heard);
  // msg.data is the SDK's own concatenation of the inline audio parts
  const audio = Buffer.concat(msgs.filter((m) => m.serverContent?.modelTurn)
    .map((m) => Buffer.from(m.data, 'base64')));
  const mimes = new Set(msgs.flatMap((m) => m.serverContent?.modelTurn?.parts ?? [])
    .map((p) => p.inlineData?.mimeType));
  check('audio/pcm;rate=24000 parts', mimes.size === 1 && mimes.has('audio/pcm;rate=24000'), [...mimes].join());
  if (t) {
    const start = Number(t[3]) * 16, len = Number(t[2]) * 16;
    const expected = to24k(input.subarray(2 * start, 2 * (start + len)));
    check('reply audio = turn converted 16k->24k, sample exact', audio.equals(expected),
      `got ${audio.length} bytes, expected ${expected.length}`);
    check('usage on turnComplete', done.usageMetadata?.promptTokenCount === Math.floor(Number(t[2]) * 32 / 1000) &&
      done.usageMetadata?.totalTokenCount === 2 * done.usageMetadata?.promptTokenCount,
      JSON.stringify(done.usageMetadata));
  }
  const order = msgs.map((m) => m.serverContent?.generationComplete ? 'gen' : m.serverContent?.turnComplete ? 'tc' : null)
    .filter(Boolean);
  check('generationComplete then turnComplete', order.join() === 'gen,tc', order.join());
  const upd = await s.wait((m, i) => s.msgs.indexOf(m) >= upto && m.sessionResumptionUpdate?.resumable, 3000);
  check('resumable handle after the turn', !!upd?.sessionResumptionUpdate?.newHandle);
  check('no errors', s.errors.length === 0 && !s.closed, JSON.stringify(s.closed));
  const handle = upd?.sessionResumptionUpdate?.newHandle;
  s.session.close();
  await s.waitClose(3000);

  // a new connection resumed with the handle continues the conversation
  const r = await open(emu.port, { sessionResumption: { handle } });
  sendAudio(r, input);
  const done2 = await r.wait((m) => m.serverContent?.turnComplete);
  const heard2 = text(r.msgs, 'outputTranscription');
  check('resumed session: turn 2 remembers turn 1', !!done2 && heard2 === `echo of turn 2; first turn: ${said}`, heard2);
  r.session.close();
  await r.waitClose(3000);

  // a stale handle: 1008 and the close reason reach the SDK's onclose
  const x = await open(emu.port, { sessionResumption: { handle: 'no-such-handle' } });
  const xc = await x.waitClose(3000);
  check('unknown handle -> close 1008 with reason', !x.session && xc?.code === 1008 &&
    xc.reason === 'BidiGenerateContent session not found', JSON.stringify(xc));
  const rc = await emu.stop();
  check('emulator exit 0', rc === 0, String(rc));
  const log = fs.readFileSync(emu.log, 'utf8');
  check('API key never in the log', !log.includes(KEY));
  check('key sent as ?key= (logged redacted)', log.includes('key=REDACTED'));
}

async function goAway() {
  const emu = await startEmu(['--go-away-every-ms', '200', '--go-away-time-left-ms', '700']);
  const s = await open(emu.port);
  const ga = await s.wait((m) => m.goAway, 3000);
  check('goAway with timeLeft (SDK parses it)', ga?.goAway?.timeLeft === '0.700s', JSON.stringify(ga?.goAway));
  const c = await s.waitClose(3000);
  check('close 1011 "Deadline expired..." after timeLeft', c?.code === 1011 &&
    c?.reason === 'Deadline expired before operation could complete.', JSON.stringify(c));
  await emu.stop();
}

async function badSetup() {
  const emu = await startEmu();
  const s = await open(emu.port, { responseModalities: [Modality.TEXT] });
  const c = await s.waitClose(3000);
  check('TEXT modality -> 1007 "Cannot extract voices..."', !s.session && c?.code === 1007 &&
    c?.reason === 'Cannot extract voices from a non-audio request.', JSON.stringify(c));
  await emu.stop();
}

async function toolCall() {
  const emu = await startEmu([], { turns: [{ user_transcript: 'Weather in Paris?',
    tool_call: { name: 'get_weather', arguments: { city: 'Paris' } } }] });
  const s = await open(emu.port);
  sendAudio(s, input);
  const tc = await s.wait((m) => m.toolCall);
  const fc = tc?.toolCall?.functionCalls?.[0];
  check('toolCall.functionCalls[0] (SDK parses id, name, args)', !!fc?.id && fc.name === 'get_weather' &&
    fc.args?.city === 'Paris', JSON.stringify(tc?.toolCall));
  if (fc) {
    const from = s.msgs.length;
    s.session.sendToolResponse({ functionResponses: [{ id: fc.id, name: fc.name, response: { output: 'sunny' } }] });
    const done = await s.wait((m) => s.msgs.indexOf(m) >= from && m.serverContent?.turnComplete);
    const heard = text(s.msgs.slice(from), 'outputTranscription');
    check('reply after sendToolResponse', !!done &&
      heard === 'echo of turn 1; tool said: {"output":"sunny"}; first turn: Weather in Paris?', heard);
  }
  s.session?.close();
  await s.waitClose(3000);
  await emu.stop();
}

// Vertex AI express mode: vertexai + API key (x-goog-api-key header) on
// /ws/google.cloud.aiplatform.v1beta1.LlmBidiService/BidiGenerateContent.
async function vertexExpress() {
  const emu = await startEmu();
  const s = await open(emu.port, {}, { vertexai: true }, 'gemini-live-2.5-flash-native-audio');
  check('Vertex express mode: setupComplete', !!s.session, JSON.stringify(s.closed));
  if (s.session) {
    sendAudio(s, input);
    const done = await s.wait((m) => m.serverContent?.turnComplete);
    const audio = s.msgs.filter((m) => m.serverContent?.modelTurn).length;
    check('Vertex express mode: spoken turn answered', !!done && audio > 0, JSON.stringify(s.closed));
    s.session.close();
    await s.waitClose(3000);
  }
  await emu.stop();
  const log = fs.readFileSync(emu.log, 'utf8');
  check('Vertex path and model as the SDK sends them',
    log.includes('"path":"//ws/google.cloud.aiplatform.v1beta1.LlmBidiService/BidiGenerateContent"') &&
    log.includes('"model":"publishers/google/models/gemini-live-2.5-flash-native-audio"'));
}

try {
  await spokenTurn();
  await toolCall();
  await vertexExpress();
  await goAway();
  await badSetup();
} catch (e) {
  check('no exception', false, e?.stack ?? String(e));
}
fs.rmSync(tmp, { recursive: true, force: true });
console.log(failures.length ? `gemini fidelity: ${failures.length} failure(s)` : 'gemini fidelity: all ok');
process.exit(failures.length ? 1 : 0);
