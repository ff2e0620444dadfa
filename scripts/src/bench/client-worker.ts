/**
 * A bench client worker (forked by load.ts): holds a share of the connections, sends its share of
 * the open-loop schedule, and measures what arrives. Every `send` carries its scheduled time and
 * `worker.seq` in the body and cid, so any worker that receives it computes send→deliver latency
 * from the scheduled time (no coordinated omission) and the parent can match acks to deliveries.
 */
import WebSocket from 'ws';
import { nowMs } from './clock.ts';
import { encodeHist, newHist, recordMs, type Hist } from './hist.ts';
import type { Counts, Final, InitMsg, ParentMsg, RunMsg, SecondStats, WorkerMsg } from './worker-protocol.ts';

let init: InitMsg;
let run: RunMsg | undefined;
const conns: (WebSocket | undefined)[] = [];
const offline = new Set<number>();
const counts: Counts = { sent: 0, acked: 0, errors: 0, delivered: 0, duplicates: 0, unknown: 0 };
const errorCodes: Record<string, number> = {};
const ackHist = newHist();
const deliverHist = newHist();
let answers = new Uint8Array(0);
let recipients = new Int32Array(0);
let received: Uint8Array[] = [];
let samples: { id: string; sched: number }[] = [];
const seconds = new Map<number, SecondStats & { hist: Hist }>();
let interval = 0;
let firstSched = 0;
let measureFrom = 0;

const post = (m: WorkerMsg) => process.send!(m);

function second(t: number): SecondStats & { hist: Hist } {
  const sec = Math.floor((t - run!.startAt) / 1000);
  let s = seconds.get(sec);
  if (!s) seconds.set(sec, s = { sec, sent: 0, acked: 0, errors: 0, delivered: 0, deliverHist: '', hist: newHist() });
  return s;
}

/** Seconds before `beforeSec` (all when undefined), encoded and forgotten. */
function flushSeconds(beforeSec?: number): SecondStats[] {
  const out: SecondStats[] = [];
  for (const [sec, s] of seconds) {
    if (beforeSec !== undefined && sec >= beforeSec) continue;
    out.push({ sec, sent: s.sent, acked: s.acked, errors: s.errors, delivered: s.delivered, deliverHist: encodeHist(s.hist) });
    s.hist.destroy();
    seconds.delete(sec);
  }
  return out;
}

function onFrame(raw: string): void {
  // Frames the bench expects: welcome (handled at connect), ack, message, error.
  const f = JSON.parse(raw) as { type: string; cid?: string; id?: string; body?: string; code?: string };
  const now = nowMs();
  if (f.type === 'message' && run) return onMessage(f.body ?? '', now);
  if (f.type === 'ack' && run && f.cid) return onAnswer(f.cid, 1, now, f.id);
  if (f.type === 'error') {
    errorCodes[f.code ?? '?'] = (errorCodes[f.code ?? '?'] ?? 0) + 1;
    if (f.cid && run) onAnswer(f.cid, 2, now);
  }
}

function onAnswer(cid: string, answer: 1 | 2, now: number, id?: string): void {
  const seq = Number(cid.slice(cid.indexOf('.') + 1));
  if (!(seq < answers.length) || answers[seq] !== 0) return void counts.unknown++;
  answers[seq] = answer;
  if (answer === 2) {
    counts.errors++;
    return void second(now).errors++;
  }
  counts.acked++;
  const sched = firstSched + seq * interval;
  second(now).acked++;
  if (sched < measureFrom) return;
  recordMs(ackHist, now - sched);
  // The persistence lag leaves out the warm-up too, like every other percentile.
  if (id && run!.sampleEvery > 0 && seq % run!.sampleEvery === 0) samples.push({ id, sched });
}

function onMessage(body: string, now: number): void {
  // body: "<sched ms>|<worker>|<seq>|padding"
  const a = body.indexOf('|');
  const b = body.indexOf('|', a + 1);
  const c = body.indexOf('|', b + 1);
  const sched = Number(body.slice(0, a));
  const src = Number(body.slice(a + 1, b));
  const seq = Number(body.slice(b + 1, c));
  const map = received[src];
  if (!map || !(seq < map.length)) return void counts.unknown++;
  if (map[seq]! > 0) counts.duplicates++;
  else counts.delivered++;
  if (map[seq]! < 255) map[seq]!++;
  if (map[seq] !== 1) return;
  const s = second(now);
  s.delivered++;
  recordMs(s.hist, now - sched);
  if (sched >= measureFrom) recordMs(deliverHist, now - sched);
}

function connectOne(i: number): Promise<string | undefined> {
  const nodes = init.wsUrls.length;
  const ws = new WebSocket(init.wsUrls[i % nodes]!, {
    localAddress: init.localAddresses[i % init.localAddresses.length],
    perMessageDeflate: false,
    handshakeTimeout: 60_000,
  });
  return new Promise((resolve) => {
    let welcomed = false;
    ws.on('open', () => ws.send(JSON.stringify({ type: 'hello', user: `${init.userPrefix}${i}` })));
    ws.on('message', (data) => {
      if (welcomed) return onFrame(data.toString());
      const f = JSON.parse(data.toString()) as { type: string; message?: string };
      if (f.type !== 'welcome') { ws.terminate(); return resolve(`hello refused: ${f.message ?? f.type}`); }
      welcomed = true;
      conns[i - init.lo] = ws;
      offline.delete(i);
      resolve(undefined);
    });
    ws.on('error', (err) => { if (!welcomed) resolve(err.message); });
    ws.on('close', () => {
      conns[i - init.lo] = undefined;
      offline.add(i);
      if (!welcomed) resolve('closed before welcome');
    });
  });
}

async function connectAll(): Promise<void> {
  const started = nowMs();
  for (let i = init.lo; i < init.hi; i++) offline.add(i);
  let next = init.lo;
  let failed = 0;
  let firstError: string | undefined;
  const lane = async () => {
    while (next < init.hi) {
      const err = await connectOne(next++);
      if (err) { failed++; firstError ??= err; }
    }
  };
  await Promise.all(Array.from({ length: init.connectConcurrency }, lane));
  post({ type: 'ready', connected: init.hi - init.lo - failed, failed, connectMs: nowMs() - started, ...(firstError && { firstError }) });
}

/** A recipient for a sender on `node`: on another node with probability `cross`. */
function pickRecipient(sender: number): number {
  const nodes = init.wsUrls.length;
  const node = sender % nodes;
  let target = node;
  if (nodes > 1 && Math.random() < run!.cross) target = (node + 1 + Math.floor(Math.random() * (nodes - 1))) % nodes;
  const onTarget = Math.ceil((init.totalUsers - target) / nodes);
  for (;;) {
    const r = target + nodes * Math.floor(Math.random() * onTarget);
    if (r !== sender && r < init.totalUsers) return r;
  }
}

function startSending(): void {
  const r = run!;
  interval = 1000 / r.rate;
  firstSched = r.startAt + r.offsetMs;
  measureFrom = r.startAt + r.warmupMs;
  const total = r.totals[init.worker]!;
  answers = new Uint8Array(total);
  recipients = new Int32Array(total);
  received = r.totals.map((n) => new Uint8Array(n));
  const own = init.hi - init.lo;
  const pad = 'x'.repeat(Math.max(0, r.bodyBytes - 30));
  let seq = 0;
  const tick = () => {
    const now = nowMs();
    while (seq < total && firstSched + seq * interval <= now) {
      const sched = firstSched + seq * interval;
      const k = Math.floor(Math.random() * own);
      const sender = init.lo + k;
      const to = pickRecipient(sender);
      recipients[seq] = to;
      const ws = conns[k];
      counts.sent++;
      second(sched).sent++;
      if (ws && ws.readyState === WebSocket.OPEN) {
        ws.send(`{"type":"send","to":"${init.userPrefix}${to}","cid":"${init.worker}.${seq}","body":"${sched.toFixed(3)}|${init.worker}|${seq}|${pad}"}`);
      } else {
        answers[seq] = 2;
        counts.errors++;
        second(sched).errors++;
        errorCodes.not_connected = (errorCodes.not_connected ?? 0) + 1;
      }
      seq++;
    }
    if (seq < total) setTimeout(tick, Math.max(0, Math.min(1, firstSched + seq * interval - nowMs())));
  };
  setTimeout(tick, Math.max(0, firstSched - nowMs()));
}

function final(): Final {
  return {
    type: 'final', counts, errorCodes,
    ackHist: encodeHist(ackHist), deliverHist: encodeHist(deliverHist),
    answers, recipients, received, offline: [...offline], seconds: run ? flushSeconds() : [],
  };
}

const ticker = setInterval(() => {
  if (!run) return;
  const current = Math.floor((nowMs() - run.startAt) / 1000);
  post({ type: 'tick', counts, seconds: flushSeconds(current), samples });
  samples = [];
}, 500);
// Sampled ids go out every 50 ms so the lag sampler's clock starts soon after the ack.
const sampleTicker = setInterval(() => {
  if (samples.length === 0) return;
  post({ type: 'tick', counts, seconds: [], samples });
  samples = [];
}, 50);

process.on('message', (m: ParentMsg) => {
  if (m.type === 'init') { init = m; void connectAll(); }
  if (m.type === 'run') { run = m; startSending(); }
  if (m.type === 'finish') { clearInterval(ticker); clearInterval(sampleTicker); post(final()); }
  if (m.type === 'exit') {
    for (const ws of conns) ws?.terminate();
    process.exit(0);
  }
});
process.on('disconnect', () => process.exit(0));
