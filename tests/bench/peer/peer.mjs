// gst-s2s benchmark: the peer. The official `openai` npm package's realtime
// WebSocket client (OpenAIRealtimeWS, the `ws` transport; wss:// like the
// real service) driving N conversations in this one Node process against the
// emulator, with the same audio and pacing as the C driver (s2s-bench.c):
// the WAV's speech then silence, looped, sent in real time in 20 ms chunks,
// conversations staggered through the loop; the reply audio is decoded and
// collected per response. Prints one JSON line like s2s-bench.
//
// node peer.mjs --n N --duration S --warmup S --port P --wav F
//               [--gap-ms MS] [--emu-pid PID] [--rss-interval S] [--deflate 1]
//               [--phase staggered|aligned]
//
// --phase as in s2s-bench: staggered (default), conversation i sends i/N of
// a period into each 20 ms period, like independent sources (one timer per
// due send; Node's timers have 1 ms granularity, so at N > 20 several sends
// share a wake-up); aligned, all N sends in one timer tick every 20 ms.
//
// permessage-deflate is off unless --deflate 1: our element does not offer
// it, so both send the same bytes. (The `ws` package offers it by default;
// the emulator's libsoup server accepts it, and then ws's zlib queue, at
// most 10 jobs at a time, held the sends back beyond ~50 conversations
// here: docs/performance.md.)
// NODE_EXTRA_CA_CERTS must name tests/certs/ca.pem.

import fs from 'node:fs';
import OpenAI from 'openai';
import { OpenAIRealtimeWS } from 'openai/realtime/ws';

const opt = { n: 1, duration: 20, warmup: 3, port: 0, wav: '', 'gap-ms': 4500, 'emu-pid': 0, 'rss-interval': 0,
  deflate: 0, phase: 'staggered' };
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i += 2) {
  const k = argv[i].replace(/^--/, '');
  if (!(k in opt)) { console.error(`unknown option ${argv[i]}`); process.exit(2); }
  opt[k] = k === 'wav' || k === 'phase' ? argv[i + 1] : Number(argv[i + 1]);
}
if (opt.phase !== 'staggered' && opt.phase !== 'aligned') {
  console.error('--phase staggered|aligned'); process.exit(2);
}
const aligned = opt.phase === 'aligned';
if (!opt.port || !opt.wav) { console.error('need --port and --wav'); process.exit(2); }

const RATE = 24000, CHUNK_MS = 20, CHUNK = RATE / (1000 / CHUNK_MS) * 2;

function readWav(path) {
  const buf = fs.readFileSync(path);
  let off = 12;
  while (off + 8 <= buf.length) {
    const id = buf.toString('ascii', off, off + 4), size = buf.readUInt32LE(off + 4);
    if (id === 'fmt ' && (buf.readUInt16LE(off + 10) !== 1 || buf.readUInt32LE(off + 12) !== RATE))
      throw new Error(`${path}: need 24 kHz mono`);
    if (id === 'data') return buf.subarray(off + 8, off + 8 + size);
    off += 8 + size + (size & 1);
  }
  throw new Error(`${path}: no data`);
}

const speech = readWav(opt.wav);
let loopLen = speech.length + Math.floor(RATE * 2 * opt['gap-ms'] / 1000);
loopLen = Math.ceil(loopLen / CHUNK) * CHUNK;
const loop = Buffer.alloc(loopLen);
speech.copy(loop);

function cpuPid(pid) {
  if (!pid) return -1;
  try {
    const s = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) / 100; // USER_HZ
  } catch { return -1; }
}
function statusKib(field) {
  const m = fs.readFileSync('/proc/self/status', 'utf8').match(new RegExp(`${field}\\s+(\\d+)`));
  return m ? Number(m[1]) : -1;
}
const cpuSelf = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1e6; };

const client = new OpenAI({ apiKey: 'sk-bench', baseURL: `https://127.0.0.1:${opt.port}/v1` });
const rssBase = statusKib('VmRSS:');

let measuring = false, responses = 0, errors = 0, outBytes = 0, ready = 0;

// The session our element asks for with its defaults
const session = {
  type: 'realtime',
  output_modalities: ['audio'],
  audio: {
    input: {
      format: { type: 'audio/pcm', rate: RATE },
      transcription: { model: 'gpt-4o-mini-transcribe' },
      turn_detection: { type: 'server_vad', threshold: 0.5, prefix_padding_ms: 300,
        silence_duration_ms: 500, create_response: true, interrupt_response: true },
    },
    output: { format: { type: 'audio/pcm', rate: RATE } },
  },
};

function startConversation(i) {
  return new Promise((resolve) => {
    const rt = new OpenAIRealtimeWS({ model: 'gpt-realtime', options: { perMessageDeflate: !!opt.deflate } },
      client);
    const conv = { rt, pos: Math.floor(i * loopLen / opt.n / CHUNK) * CHUNK, reply: [] };
    rt.on('error', (err) => {
      if (errors++ < 5) console.error(`conversation ${i}: ${err.message}`);
      resolve(conv);
    });
    rt.on('session.created', () => rt.send({ type: 'session.update', session }));
    rt.on('session.updated', () => { ready++; resolve(conv); });
    rt.on('response.output_audio.delta', (e) => {
      const b = Buffer.from(e.delta, 'base64');
      conv.reply.push(b);
      outBytes += b.length;
    });
    rt.on('response.done', () => {
      if (measuring) responses++;
      conv.reply = []; // played and gone
    });
  });
}

const convs = await Promise.all(Array.from({ length: opt.n }, (_, i) => startConversation(i)));

function send(c) {
  if (c.rt.socket.readyState !== 1) return;
  c.rt.send({ type: 'input_audio_buffer.append', audio: loop.toString('base64', c.pos, c.pos + CHUNK) });
  c.pos += CHUNK;
  if (c.pos + CHUNK > loopLen) c.pos = 0;
}

// Drift-free 20 ms ticks for warmup + duration
const t0 = performance.now();
const tEnd = t0 + (opt.warmup + opt.duration) * 1000;
const tMeasure = t0 + opt.warmup * 1000;
let next = t0, ci = 0, cpu0 = 0, emu0 = 0, rssNext = 0;
// when conversation ci is due in the period that starts at next
const due = () => next + (aligned ? 0 : ci * CHUNK_MS / opt.n);
const rssSamples = [];
await new Promise((resolve) => {
  const step = () => {
    const now = performance.now();
    while (next < tEnd && due() <= now) {
      send(convs[ci]);
      if (++ci === convs.length) {
        ci = 0;
        next += CHUNK_MS;
      }
    }
    if (!measuring && now >= tMeasure) {
      measuring = true;
      cpu0 = cpuSelf();
      emu0 = cpuPid(opt['emu-pid']);
      rssNext = now;
    }
    if (measuring && opt['rss-interval'] > 0 && now >= rssNext) {
      rssSamples.push(statusKib('VmRSS:'));
      rssNext += opt['rss-interval'] * 1000;
    }
    if (next >= tEnd) return resolve();
    setTimeout(step, Math.max(0, due() - performance.now()));
  };
  step();
});
const cpu1 = cpuSelf(), emu1 = cpuPid(opt['emu-pid']), rssEnd = statusKib('VmRSS:');
const d = opt.duration, n = opt.n;
console.log(JSON.stringify({
  client: opt.deflate ? 'openai-node-deflate' : 'openai-node', n, phase: opt.phase, source: 'timer', duration: d, cpu_s: +(cpu1 - cpu0).toFixed(3),
  cpu_pct_per_conv: +(100 * (cpu1 - cpu0) / (n * d)).toFixed(4),
  emu_cpu_pct_per_conv: opt['emu-pid'] ? +(100 * (emu1 - emu0) / (n * d)).toFixed(4) : -1,
  rss_base_kib: rssBase, rss_end_kib: rssEnd, rss_peak_kib: statusKib('VmHWM:'),
  rss_per_conv_kib: +((rssEnd - rssBase) / n).toFixed(1),
  responses, out_bytes: outBytes, ready, errors, rss_samples_kib: rssSamples,
}));
for (const c of convs) c.rt.close();
process.exit(errors ? 1 : 0);
