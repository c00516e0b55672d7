// Drives the s2s-emulator Nova dialect with the official AWS SDK for
// JavaScript v3 (InvokeModelWithBidirectionalStreamCommand over its HTTP/2
// handler, SigV4 request and chained event signatures) through one spoken
// turn, then checks that a wrong secret is refused with
// InvalidSignatureException.
// Usage: node fidelity-nova.mjs <port> <q1-weather-16k.wav>
import { readFileSync } from "node:fs";
import {
  BedrockRuntimeClient,
  InvokeModelWithBidirectionalStreamCommand,
} from "@aws-sdk/client-bedrock-runtime";

const [port, wavPath] = process.argv.slice(2);
const endpoint = `https://127.0.0.1:${port}`;
const MODEL = "amazon.nova-2-sonic-v1:0";
// The SigV4 test-suite credentials: the emulator's defaults
const GOOD = {
  accessKeyId: "AKIDEXAMPLE",
  secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
};

let failures = 0;
function check(cond, what) {
  if (cond) {
    console.log(`ok - ${what}`);
  } else {
    console.log(`not ok - ${what}`);
    failures++;
  }
}

// PCM samples of a mono 16-bit WAV (walks the RIFF chunks)
function wavPcm(path) {
  const b = readFileSync(path);
  let off = 12;
  let rate = 0;
  while (off + 8 <= b.length) {
    const id = b.toString("ascii", off, off + 4);
    const len = b.readUInt32LE(off + 4);
    if (id === "fmt ") rate = b.readUInt32LE(off + 12);
    if (id === "data") return { rate, pcm: b.subarray(off + 8, off + 8 + len) };
    off += 8 + len + (len & 1);
  }
  throw new Error("no data chunk");
}

const enc = new TextEncoder();
const dec = new TextDecoder();
const ev = (e) => ({ chunk: { bytes: enc.encode(JSON.stringify({ event: e })) } });

async function turn(credentials, { waitForReply }) {
  const client = new BedrockRuntimeClient({
    region: "us-east-1",
    endpoint,
    credentials,
    maxAttempts: 1,
  });
  const { rate, pcm } = wavPcm(wavPath);
  if (rate !== 16000) throw new Error(`expected 16 kHz audio, got ${rate}`);
  const P = "prompt-1", S = "system-1", A = "audio-1";
  let replied;
  const replyDone = new Promise((r) => (replied = r));

  async function* input() {
    yield ev({ sessionStart: {
      inferenceConfiguration: { maxTokens: 1024, topP: 0.9, temperature: 0.7 },
      turnDetectionConfiguration: { endpointingSensitivity: "HIGH" },
    } });
    yield ev({ promptStart: {
      promptName: P,
      textOutputConfiguration: { mediaType: "text/plain" },
      audioOutputConfiguration: { mediaType: "audio/lpcm", sampleRateHertz: 24000,
        sampleSizeBits: 16, channelCount: 1, voiceId: "matthew",
        encoding: "base64", audioType: "SPEECH" },
    } });
    yield ev({ contentStart: { promptName: P, contentName: S, type: "TEXT",
      interactive: false, role: "SYSTEM",
      textInputConfiguration: { mediaType: "text/plain" } } });
    yield ev({ textInput: { promptName: P, contentName: S,
      content: "You are a friendly assistant." } });
    yield ev({ contentEnd: { promptName: P, contentName: S } });
    yield ev({ contentStart: { promptName: P, contentName: A, type: "AUDIO",
      interactive: true, role: "USER",
      audioInputConfiguration: { mediaType: "audio/lpcm", sampleRateHertz: 16000,
        sampleSizeBits: 16, channelCount: 1, audioType: "SPEECH",
        encoding: "base64" } } });
    // 32 ms chunks, then 2.5 s of silence for the endpointing
    const chunk = 1024;
    const audio = Buffer.concat([pcm, Buffer.alloc(16000 * 2 * 2.5)]);
    for (let o = 0; o < audio.length; o += chunk) {
      yield ev({ audioInput: { promptName: P, contentName: A,
        content: audio.subarray(o, o + chunk).toString("base64") } });
    }
    if (waitForReply) await replyDone;
    yield ev({ contentEnd: { promptName: P, contentName: A } });
    yield ev({ promptEnd: { promptName: P } });
    yield ev({ sessionEnd: {} });
  }

  const res = await client.send(new InvokeModelWithBidirectionalStreamCommand({
    modelId: MODEL,
    body: input(),
  }));
  const events = [];
  const timer = setTimeout(() => replied(), 20000);
  try {
    for await (const out of res.body) {
      if (!out.chunk) {
        events.push({ exception: Object.keys(out)[0], detail: out });
        continue;
      }
      const j = JSON.parse(dec.decode(out.chunk.bytes)).event;
      const name = Object.keys(j)[0];
      events.push({ name, body: j[name] });
      if (name === "usageEvent" && events.some((e) => e.name === "contentEnd" &&
          e.body.type === "AUDIO"))
        replied();
    }
  } finally {
    clearTimeout(timer);
    client.destroy();
  }
  return events;
}

// --- a spoken turn, signatures verified on both sides ---
const events = await turn(GOOD, { waitForReply: true });
const names = events.map((e) => e.name);
check(!events.some((e) => e.exception), `no exception events (${
  JSON.stringify(events.filter((e) => e.exception))})`);
check(names[0] === "completionStart", "completionStart first");
const texts = events.filter((e) => e.name === "textOutput").map((e) => e.body);
const starts = new Map(events.filter((e) => e.name === "contentStart")
  .map((e) => [e.body.contentId, e.body]));
const stage = (t) => JSON.parse(starts.get(t.contentId)
  .additionalModelFields ?? "{}").generationStage;
const user = texts.find((t) => t.role === "USER");
check(user && /^turn 1, \d+ ms of speech$/.test(user.content) &&
  stage(user) === "FINAL", `USER FINAL transcript (${user?.content})`);
const spec = texts.find((t) => t.role === "ASSISTANT" && stage(t) === "SPECULATIVE");
const fin = texts.find((t) => t.role === "ASSISTANT" && stage(t) === "FINAL");
check(spec && fin && fin.content === `You said: ${user?.content}`,
  "ASSISTANT SPECULATIVE then FINAL text");
const ms = Number(user?.content.match(/(\d+) ms/)?.[1]);
const audioBytes = events.filter((e) => e.name === "audioOutput")
  .reduce((n, e) => n + Buffer.from(e.body.content, "base64").length, 0);
check(ms > 1500 && audioBytes === ms * 48,
  `echo at 24 kHz: ${audioBytes} bytes for ${ms} ms of speech`);
const audioEnd = events.find((e) => e.name === "contentEnd" && e.body.type === "AUDIO");
check(audioEnd?.body.stopReason === "END_TURN", "audio contentEnd END_TURN");
const usage = events.filter((e) => e.name === "usageEvent").at(-1)?.body;
check(usage && usage.totalTokens === usage.totalInputTokens + usage.totalOutputTokens &&
  usage.details.total.output.speechTokens === Math.floor(ms / 50),
  "usageEvent totals");
check(names.at(-1) === "completionEnd", "completionEnd last");
check(events.every((e) => !e.body || (e.body.sessionId && e.body.completionId)),
  "every event carries sessionId and completionId");

// --- a wrong secret is refused before any event ---
try {
  await turn({ ...GOOD, secretAccessKey: "wrong-secret" }, { waitForReply: false });
  check(false, "wrong secret refused");
} catch (e) {
  check(e.name === "InvalidSignatureException" && e.$metadata?.httpStatusCode === 403,
    `wrong secret refused: ${e.name} ${e.$metadata?.httpStatusCode}`);
}

if (failures) {
  console.log(`${failures} check(s) failed`);
  process.exit(1);
}
console.log("nova fidelity: all checks passed");
