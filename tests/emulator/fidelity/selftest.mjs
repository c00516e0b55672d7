// Self-test of s2s-emulator's scenarios and faults over raw WebSockets
// (`ws` package).  Usage:
//   node selftest.mjs <s2s-emulator> <certdir> <q1-weather-24k.wav>
// Needs NODE_EXTRA_CA_CERTS=<certdir>/ca.pem.  Exit 0 = pass.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import WebSocket from 'ws';

const [emulator, certdir, wavPath] = process.argv.slice(2);
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 's2s-selftest-'));
const failures = [];
const check = (label, cond, detail = '') => {
  console.log(`${cond ? 'ok  ' : 'FAIL'} ${label}${cond ? '' : ' ' + detail}`);
  if (!cond) failures.push(label);
};

function readWav(p) {
  const buf = fs.readFileSync(p);
  let off = 12;
  while (off + 8 <= buf.length) {
    const id = buf.toString('ascii', off, off + 4);
    const size = buf.readUInt32LE(off + 4);
    if (id === 'data') return Buffer.from(buf.subarray(off + 8, off + 8 + size));
    off += 8 + size + (size & 1);
  }
  throw new Error('no data chunk');
}
const speech = Buffer.concat([readWav(wavPath), Buffer.alloc(48000)]);

function ulawEncode(s) {
  const BIAS = 0x84;
  let sign = 0;
  if (s < 0) { s = -s; sign = 0x80; }
  if (s > 32635) s = 32635;
  s += BIAS;
  let exp = 7;
  for (let m = 0x4000; (s & m) === 0 && exp > 0; m >>= 1) exp--;
  const mant = (s >> (exp + 3)) & 0x0f;
  return ~(sign | (exp << 4) | mant) & 0xff;
}

let emuCount = 0;
const children = new Set();
process.on('exit', () => { for (const ch of children) ch.kill('SIGKILL'); });
async function startEmu(script, extra = []) {
  const n = ++emuCount;
  const log = path.join(tmp, `emu${n}.log`);
  const args = ['--tls-cert', `${certdir}/server.pem`, '--tls-key', `${certdir}/server-key.pem`,
    '--log', log, ...extra];
  if (script) {
    fs.writeFileSync(path.join(tmp, `script${n}.json`), JSON.stringify(script));
    args.push('--script', path.join(tmp, `script${n}.json`));
  }
  const child = spawn(emulator, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  children.add(child);
  child.on('exit', () => children.delete(child));
  const url = await new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
      if (out.includes('\n')) resolve(out.split('\n')[0]);
    });
    child.on('exit', (c) => reject(new Error(`emulator exited ${c}`)));
  });
  return {
    url, log,
    stop: () => new Promise((resolve) => { child.on('exit', (c) => resolve(c)); child.kill('SIGTERM'); }),
  };
}

function connect(url, { path: p = '/v1/realtime?model=gpt-realtime', headers = { Authorization: 'Bearer sk-test' } } = {}) {
  const ws = new WebSocket(url.replace('wss:', 'wss:') + p, { headers });
  const c = { ws, events: [], raw: [], closed: null, httpStatus: null, httpBody: null, waiters: [] };
  ws.on('message', (d) => {
    const text = d.toString();
    c.raw.push(text);
    let e;
    try { e = JSON.parse(text); } catch { return; }
    c.events.push(e);
    c.waiters = c.waiters.filter((w) => !(w.pred(e) && (w.resolve(e), true)));
  });
  ws.on('close', (code) => { c.closed = code; c.waiters.forEach((w) => w.pred({ type: '__close' }) && w.resolve()); });
  ws.on('unexpected-response', (req, res) => {
    c.httpStatus = res.statusCode;
    let body = '';
    res.on('data', (d) => { body += d; });
    res.on('end', () => { c.httpBody = body; c.waiters.forEach((w) => w.pred({ type: '__http' }) && w.resolve()); });
  });
  ws.on('error', () => {});
  c.send = (o) => ws.send(typeof o === 'string' ? o : JSON.stringify(o));
  c.wait = (pred, ms = 5000, what = 'event') => new Promise((resolve, reject) => {
    const hit = c.events.find(pred);
    if (hit) return resolve(hit);
    const t = setTimeout(() => reject(new Error(`timeout: ${what}`)), ms);
    c.waiters.push({ pred, resolve: (e) => { clearTimeout(t); resolve(e); } });
  });
  c.waitType = (type, ms) => c.wait((e) => e.type === type, ms, type);
  c.waitClose = (ms = 5000) => new Promise((resolve, reject) => {
    if (c.closed !== null) return resolve(c.closed);
    const t = setTimeout(() => reject(new Error('timeout: close')), ms);
    ws.on('close', (code) => { clearTimeout(t); resolve(code); });
  });
  c.waitHttp = (ms = 5000) => new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error('timeout: http')), ms);
    const poll = setInterval(() => {
      if (c.httpBody !== null) { clearTimeout(t); clearInterval(poll); resolve(); }
    }, 10);
  });
  c.opened = new Promise((resolve) => ws.on('open', resolve));
  c.appendPcm = (buf, chunk = 4800) => {
    for (let off = 0; off < buf.length; off += chunk)
      c.send({ type: 'input_audio_buffer.append', audio: buf.subarray(off, off + chunk).toString('base64') });
  };
  return c;
}

const errCode = (c, code) => c.events.some((e) => e.type === 'error' && e.error?.code === code);
const countType = (c, type) => c.events.filter((e) => e.type === type).length;

async function scenarioBasics() {
  console.log('# handshake, auth, validation, manual mode, truncate, G.711');
  const emu = await startEmu(null, ['--api-key', 'sk-right']);

  let c = connect(emu.url, { headers: {} });
  await c.waitHttp();
  check('no key -> 401 invalid_api_key', c.httpStatus === 401 && JSON.parse(c.httpBody).error.code === 'invalid_api_key', c.httpBody);
  c = connect(emu.url, { headers: { Authorization: 'Bearer sk-wrong' } });
  await c.waitHttp();
  check('wrong key -> 401', c.httpStatus === 401);
  c = connect(emu.url, { path: '/v2/nothing', headers: { Authorization: 'Bearer sk-right' } });
  await c.waitHttp();
  check('unknown path -> 404', c.httpStatus === 404);

  c = connect(emu.url, { headers: { Authorization: 'Bearer sk-right', 'OpenAI-Beta': 'realtime=v1' } });
  const code = await c.waitClose();
  check('beta header -> beta_api_shape_disabled + 4000', code === 4000 && errCode(c, 'beta_api_shape_disabled') &&
    countType(c, 'session.created') === 0);

  c = connect(emu.url, { path: '/openai/v1/realtime?model=my-deploy', headers: { 'api-key': 'sk-right' } });
  let e = await c.waitType('session.created');
  check('azure api-key header', e.session.model === 'my-deploy');
  c.ws.close();
  c = connect(emu.url, { path: '/openai/v1/realtime?model=d&api-key=sk-right', headers: {} });
  await c.waitType('session.created');
  check('azure api-key query', true);
  c.ws.close();

  c = connect(emu.url, { headers: { Authorization: 'Bearer sk-right' } });
  const created = await c.waitType('session.created');
  check('session.created defaults', created.session.type === 'realtime' &&
    created.session.audio.input.turn_detection.type === 'server_vad' &&
    created.session.audio.output.voice === 'marin' && created.session.audio.input.format.rate === 24000);
  // fuzz-ish junk: none of it may kill the socket
  const junk = ['not json', '[]', '42', '{}', '{"type":5}', '{"type":"session.update"}',
    '{"type":"session.update","session":[]}', '{"type":"session.update","session":{"type":"realtime","audio":"x"}}',
    '{"type":"session.update","session":{"type":"realtime","audio":{"input":{"turn_detection":{"type":"server_vad","threshold":1e308}}}}}',
    '{"type":"input_audio_buffer.append"}', '{"type":"input_audio_buffer.append","audio":7}',
    '{"type":"input_audio_buffer.append","audio":"@@@"}', '{"type":"conversation.item.create","item":{"type":"message"}}',
    '{"type":"conversation.item.create","item":{"type":"message","role":"user","content":[{"type":"input_text"}]}}',
    '{"type":"conversation.item.truncate","item_id":"x","content_index":0,"audio_end_ms":1e300}',
    '{"type":"conversation.item.delete"}', '{"type":"response.create","response":{"foo":1}}',
    '{"type":"response.create","response":{"output_modalities":["audio","text"]}}',
    '{"type":"conversation.item.create","item":{"type":"function_call_output","call_id":"nope","output":"x"}}',
    '{"type":"response.cancel"}', '{"type":"no.such.event","event_id":"evt_x"}'];
  for (const j of junk) c.send(j);
  c.send({ type: 'session.update', event_id: 'u1', session: { type: 'realtime', voice: 'alloy' } });
  c.send({ type: 'session.update', event_id: 'u2', session: { type: 'realtime', modalities: ['audio'] } });
  c.send({ type: 'session.update', event_id: 'u3', session: { type: 'realtime', audio: { output: { voice: 'nobody' } } } });
  c.send({ type: 'session.update', event_id: 'u4', session: { type: 'realtime', audio: { input: { turn_detection: null } } } });
  const upd = await c.wait((x) => x.type === 'session.updated');
  const errs = c.events.filter((x) => x.type === 'error');
  check('socket survives junk', c.closed === null && upd.session.audio.input.turn_detection === null);
  check('junk yields errors', errs.length >= junk.length, `${errs.length} errors for ${junk.length} junk`);
  const u1 = errs.find((x) => x.error.event_id === 'u1');
  check('beta voice -> unknown_parameter session.voice', u1?.error.code === 'unknown_parameter' &&
    u1.error.param === 'session.voice' && u1.error.message === "Unknown parameter: 'session.voice'.");
  check('modalities -> unknown_parameter', errs.find((x) => x.error.event_id === 'u2')?.error.param === 'session.modalities');
  check('bad voice -> invalid_value', errs.find((x) => x.error.event_id === 'u3')?.error.code === 'invalid_value');
  check('unknown event type', errs.find((x) => x.error.event_id === 'evt_x')?.error.code === 'unknown_event_type');
  check('invalid_json', errCode(c, 'invalid_json'));
  check('response_cancel_not_active', errCode(c, 'response_cancel_not_active'));
  check('no response from junk', countType(c, 'response.created') === 0);

  // manual mode: short commit, then a real one; no auto response
  c.events.length = 0;
  c.send({ type: 'input_audio_buffer.append', audio: Buffer.alloc(2000).toString('base64') });
  c.send({ type: 'input_audio_buffer.commit', event_id: 'cm1' });
  await c.wait((x) => x.type === 'error');
  check('commit < 100 ms -> input_audio_buffer_commit_empty', errCode(c, 'input_audio_buffer_commit_empty'));
  c.send({ type: 'input_audio_buffer.clear' });
  await c.waitType('input_audio_buffer.cleared');
  c.appendPcm(speech.subarray(0, 48000));
  c.send({ type: 'input_audio_buffer.commit' });
  const committed = await c.waitType('input_audio_buffer.committed');
  await c.waitType('conversation.item.added');
  await new Promise((r) => setTimeout(r, 200));
  check('manual commit: no auto response', countType(c, 'response.created') === 0 && countType(c, 'input_audio_buffer.speech_started') === 0);
  c.send({ type: 'response.create' });
  const done = await c.waitType('response.done');
  const out = Buffer.concat(c.events.filter((x) => x.type === 'response.output_audio.delta').map((x) => Buffer.from(x.delta, 'base64')));
  check('manual: echo of the committed buffer', out.equals(speech.subarray(0, 48000)) && done.response.status === 'completed');
  const asstItem = done.response.output[0].id;

  // truncate
  c.events.length = 0;
  c.send({ type: 'conversation.item.truncate', item_id: 'item_nope', content_index: 0, audio_end_ms: 10 });
  c.send({ type: 'conversation.item.truncate', item_id: committed.item_id, content_index: 0, audio_end_ms: 10 });
  c.send({ type: 'conversation.item.truncate', item_id: asstItem, content_index: 0, audio_end_ms: 5000 });
  c.send({ type: 'conversation.item.truncate', item_id: asstItem, content_index: 0, audio_end_ms: 400 });
  const tr = await c.waitType('conversation.item.truncated');
  const te = c.events.filter((x) => x.type === 'error').map((x) => x.error);
  check('truncate unknown item', te[0]?.code === 'item_truncate_invalid_item_id');
  check('truncate user item -> unsupported_content_type', te[1]?.code === 'unsupported_content_type');
  check('truncate too long', te[2]?.message === 'Audio content of 1000ms is already shorter than 5000ms', te[2]?.message);
  check('truncated', tr.item_id === asstItem && tr.audio_end_ms === 400);
  c.send({ type: 'conversation.item.retrieve', item_id: asstItem });
  const ret = await c.waitType('conversation.item.retrieved');
  check('truncate removes transcript', ret.item.content[0].transcript === '');

  // text message -> sine reply
  c.events.length = 0;
  c.send({ type: 'conversation.item.create', item: { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'hello there' }] } });
  await c.waitType('conversation.item.done');
  c.send({ type: 'response.create' });
  await c.waitType('response.done');
  const sine = Buffer.concat(c.events.filter((x) => x.type === 'response.output_audio.delta').map((x) => Buffer.from(x.delta, 'base64')));
  const tdone = c.events.find((x) => x.type === 'response.output_audio_transcript.done');
  check('text turn -> 1 s sine + You wrote', sine.length === 48000 && Math.abs(sine.readInt16LE(2 * 6) - Math.round(8000 * Math.sin(2 * Math.PI * 440 * 6 / 24000))) === 0 &&
    tdone?.transcript === 'You wrote: hello there', tdone?.transcript);
  c.send({ type: 'conversation.item.delete', item_id: asstItem });
  await c.waitType('conversation.item.deleted');
  c.ws.close();

  // G.711 mu-law in and out with VAD: output == input code words
  c = connect(emu.url, { headers: { Authorization: 'Bearer sk-right' } });
  await c.waitType('session.created');
  c.send({ type: 'session.update', session: { type: 'realtime', audio: { input: { format: { type: 'audio/pcmu' } }, output: { format: { type: 'audio/pcmu' } } } } });
  await c.waitType('session.updated');
  const n8 = Math.floor(speech.length / 6);
  const ulaw = Buffer.alloc(n8);
  for (let i = 0; i < n8; i++) ulaw[i] = ulawEncode(speech.readInt16LE(i * 6));
  for (let off = 0; off < ulaw.length; off += 800)
    c.send({ type: 'input_audio_buffer.append', audio: ulaw.subarray(off, off + 800).toString('base64') });
  const gd = await c.waitType('response.done');
  const st = c.events.find((x) => x.type === 'input_audio_buffer.speech_started');
  const sp = c.events.find((x) => x.type === 'input_audio_buffer.speech_stopped');
  const gout = Buffer.concat(c.events.filter((x) => x.type === 'response.output_audio.delta').map((x) => Buffer.from(x.delta, 'base64')));
  const gexp = Buffer.from(ulaw.subarray(st.audio_start_ms * 8, sp.audio_end_ms * 8)).map((b) => (b === 0x7f ? 0xff : b));
  check('G.711 mu-law echo', gd.response.status === 'completed' && gout.equals(gexp), `${gout.length} vs ${gexp.length}`);
  c.ws.close();

  check('emulator exits 0 on SIGTERM', (await emu.stop()) === 0);
  const log = fs.readFileSync(emu.log, 'utf8');
  check('log has no secrets', !log.includes('sk-right') && !log.includes('sk-wrong') && !log.includes('sk-test'));
  const lines = log.trim().split('\n').map((l) => JSON.parse(l));
  const app = lines.find((l) => l.dir === 'client' && l.event?.type === 'input_audio_buffer.append' && l.event.audio_bytes === 4800);
  check('log: append audio replaced by audio_bytes', !!app && app.event.audio === undefined);
  check('log: raw input file', fs.existsSync(`${emu.log}.conn7.in.raw`));
}

async function scenarioTool() {
  console.log('# scripted tool call');
  const emu = await startEmu({
    turns: [
      { user_transcript: 'What is the weather in Paris?', tool_call: { name: 'get_weather', arguments: { city: 'Paris' }, call_id: 'call_w1' } },
      { assistant_transcript: 'Scripted second answer.' },
    ],
  });
  let c = connect(emu.url);
  await c.waitType('session.created');
  c.appendPcm(speech);
  const d1 = await c.waitType('response.done');
  const fc = d1.response.output[0];
  const argsDone = c.events.find((x) => x.type === 'response.function_call_arguments.done');
  check('tool call response', fc.type === 'function_call' && fc.name === 'get_weather' && fc.call_id === 'call_w1' &&
    JSON.parse(fc.arguments).city === 'Paris' && argsDone?.arguments === fc.arguments &&
    countType(c, 'response.output_audio.delta') === 0);
  const argDeltas = c.events.filter((x) => x.type === 'response.function_call_arguments.delta').map((x) => x.delta).join('');
  check('arguments deltas concatenate', argDeltas === fc.arguments);
  c.events.length = 0;
  c.send({ type: 'conversation.item.create', item: { type: 'function_call_output', call_id: 'call_w1', output: 'sunny, 21 C' } });
  await c.waitType('conversation.item.added');
  c.send({ type: 'response.create' });
  await c.waitType('response.done');
  const t2 = c.events.find((x) => x.type === 'response.output_audio_transcript.done');
  check('follow-up: The tool said', t2?.transcript === 'The tool said: sunny, 21 C', t2?.transcript);
  c.ws.close();
  await emu.stop();
}

async function scenarioPacing() {
  console.log('# pacing, barge-in, cancel');
  const emu = await startEmu({ faults: [{ pace_audio: true }] });
  const c = connect(emu.url);
  await c.waitType('session.created');
  c.appendPcm(speech);
  await c.waitType('response.created');
  const t0 = Date.now();
  await c.waitType('response.output_audio.delta');
  c.send({ type: 'response.create', event_id: 'rc' });
  await c.wait((x) => x.type === 'error');
  check('create while active -> conversation_already_has_active_response', errCode(c, 'conversation_already_has_active_response'));
  await new Promise((r) => setTimeout(r, 250));
  c.appendPcm(speech.subarray(0, 24000)); // new speech: barge-in
  const bd = await c.waitType('response.done');
  check('paced delivery (not all at once)', countType(c, 'response.output_audio.delta') < 10 && Date.now() - t0 >= 200);
  check('barge-in -> cancelled/turn_detected', bd.response.status === 'cancelled' &&
    bd.response.status_details?.reason === 'turn_detected', JSON.stringify(bd.response.status_details));
  c.events.length = 0;
  c.send({ type: 'conversation.item.create', item: { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'hi' }] } });
  c.send({ type: 'input_audio_buffer.clear' });
  c.send({ type: 'response.create' });
  await c.waitType('response.output_audio.delta');
  c.send({ type: 'response.cancel' });
  const cd = await c.waitType('response.done');
  check('response.cancel -> client_cancelled', cd.response.status === 'cancelled' && cd.response.status_details?.reason === 'client_cancelled');
  c.ws.close();
  await emu.stop();
}

async function scenarioFaults() {
  console.log('# faults');
  const emu = await startEmu({
    reject_connect: [{ connection: 1, status: 429, code: 'rate_limit_exceeded', message: 'slow down' }],
    faults: [
      { connection: 2, after_client_event: 'input_audio_buffer.append', count: 3, action: 'drop' },
      { connection: 3, after_ms: 200, session_expired: true },
      { connection: 4, after_server_event: 'session.created', action: 'malformed' },
      { connection: 4, after_client_event: 'session.update', close: 4001 },
      { connection: 5, after_server_event: 'session.created', action: { error: { type: 'server_error', code: 'boom', message: 'Scripted failure' } } },
      { connection: 5, after_client_event: 'session.update', action: 'silent' },
      { connection: 6, first_audio_delay_ms: 300 },
    ],
  });
  let c = connect(emu.url);
  await c.waitHttp();
  check('reject_connect 429', c.httpStatus === 429 && JSON.parse(c.httpBody).error.message === 'slow down');

  c = connect(emu.url);
  await c.waitType('session.created');
  c.appendPcm(speech.subarray(0, 4800 * 5));
  check('drop -> 1006 without close frame', (await c.waitClose()) === 1006);

  c = connect(emu.url);
  await c.waitType('session.created');
  const code3 = await c.waitClose();
  const se = c.events.find((x) => x.type === 'error');
  check('session_expired + 1001', code3 === 1001 && se?.error.code === 'session_expired' &&
    se.error.message === 'Your session hit the maximum duration of 60 minutes.');

  c = connect(emu.url);
  await c.waitType('session.created');
  await new Promise((r) => setTimeout(r, 100));
  check('malformed frames', c.raw.length >= 3 && c.raw.slice(1).every((t) => { try { JSON.parse(t); return false; } catch { return true; } }));
  c.send({ type: 'session.update', session: { type: 'realtime' } });
  check('close code 4001', (await c.waitClose()) === 4001);

  c = connect(emu.url);
  await c.waitType('session.created');
  await c.wait((x) => x.type === 'error');
  check('scripted error event', errCode(c, 'boom'));
  c.send({ type: 'session.update', session: { type: 'realtime' } });
  await c.waitType('session.updated');
  c.appendPcm(speech);
  await new Promise((r) => setTimeout(r, 300));
  check('silent: nothing more, socket open', countType(c, 'input_audio_buffer.speech_started') === 0 && c.closed === null);
  c.ws.close();

  c = connect(emu.url);
  await c.waitType('session.created');
  c.appendPcm(speech);
  const rc = await c.waitType('response.created');
  const tRc = Date.now();
  await c.waitType('response.output_audio.delta');
  check('first_audio_delay_ms', Date.now() - tRc >= 250, `${Date.now() - tRc} ms`);
  await c.waitType('response.done');
  check('delayed response completes', !!rc);
  c.ws.close();
  await emu.stop();
}

try {
  await scenarioBasics();
  await scenarioTool();
  await scenarioPacing();
  await scenarioFaults();
} catch (err) {
  console.log(`FAIL exception: ${err.stack || err}`);
  failures.push('exception');
}
if (!process.env.S2S_SELFTEST_KEEP) fs.rmSync(tmp, { recursive: true, force: true });
if (failures.length) {
  console.log(`${failures.length} selftest failure(s)`);
  process.exit(1);
}
console.log('all selftest checks passed');
process.exit(0);
