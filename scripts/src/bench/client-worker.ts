/**
 * A bench client worker (forked by load.ts): holds a share of the connections (speaking the chat
 * protocol or Socket.IO, client-conn.ts), sends its share of the open-loop schedule, and measures
 * what arrives. Every `send` carries its scheduled time and
 * `worker.seq` in the body and cid, so any worker that receives it computes send→deliver latency
 * from the scheduled time (no coordinated omission) and the parent can match acks to deliveries.
 */
import { connectChat } from './client-chat.ts';
import type { ClientConn } from './client-conn.ts';
import { connectInLanes } from './connect-lanes.ts';
import { connectSocketIo } from './client-socketio.ts';
import { nowMs } from './clock.ts';
import { encodeHist, newHist, recordMs } from './hist.ts';
import { benchBody, openLoop, parseBenchBody, scheduleOf } from './open-loop.ts';
import { SecondsLog } from './seconds-log.ts';
import type { Counts, Final, InitMsg, ParentMsg, RunMsg, WorkerMsg } from './worker-protocol.ts';

let init: InitMsg;
let run: RunMsg | undefined;
const conns: (ClientConn | undefined)[] = [];
const offline = new Set<number>();
const counts: Counts = { sent: 0, acked: 0, errors: 0, delivered: 0, duplicates: 0, unknown: 0 };
const errorCodes: Record<string, number> = {};
const ackHist = newHist();
const deliverHist = newHist();
let answers = new Uint8Array(0);
let recipients = new Int32Array(0);
let received: Uint8Array[] = [];
let samples: { id: string; sched: number }[] = [];
const seconds = new SecondsLog();
let interval = 0;
let firstSched = 0;
let measureFrom = 0;

const post = (m: WorkerMsg) => process.send!(m);

function onError(code: string, cid: string | undefined): void {
  errorCodes[code] = (errorCodes[code] ?? 0) + 1;
  if (cid && run) onAnswer(cid, 2, nowMs());
}

function onAnswer(cid: string, answer: 1 | 2, now: number, id?: string): void {
  const seq = Number(cid.slice(cid.indexOf('.') + 1));
  if (!(seq < answers.length) || answers[seq] !== 0) return void counts.unknown++;
  answers[seq] = answer;
  if (answer === 2) {
    counts.errors++;
    return void seconds.at(run!.startAt, now).errors++;
  }
  counts.acked++;
  const sched = firstSched + seq * interval;
  seconds.at(run!.startAt, now).acked++;
  if (sched < measureFrom) return;
  recordMs(ackHist, now - sched);
  // The persistence lag leaves out the warm-up too, like every other percentile.
  if (id && run!.sampleEvery > 0 && seq % run!.sampleEvery === 0) samples.push({ id, sched });
}

function onMessage(body: string, now: number): void {
  const { due: sched, src, seq } = parseBenchBody(body);
  const map = received[src];
  if (!map || !(seq < map.length)) return void counts.unknown++;
  if (map[seq]! > 0) counts.duplicates++;
  else counts.delivered++;
  if (map[seq]! < 255) map[seq]!++;
  if (map[seq] !== 1) return;
  const s = seconds.at(run!.startAt, now);
  s.delivered++;
  recordMs(s.hist, now - sched);
  if (sched >= measureFrom) recordMs(deliverHist, now - sched);
}

async function connectOne(i: number): Promise<string | undefined> {
  const connect = init.protocol === 'socketio' ? connectSocketIo : connectChat;
  const conn = await connect({
    url: init.wsUrls[i % init.wsUrls.length]!,
    user: `${init.userPrefix}${i}`,
    localAddress: init.localAddresses[i % init.localAddresses.length],
  }, {
    message: (body) => { if (run) onMessage(body, nowMs()); },
    ack: (cid, id) => { if (run) onAnswer(cid, 1, nowMs(), id); },
    error: onError,
    closed: () => {
      conns[i - init.lo] = undefined;
      offline.add(i);
    },
  });
  if (typeof conn === 'string') return conn;
  conns[i - init.lo] = conn;
  offline.delete(i);
  return undefined;
}

async function connectAll(): Promise<void> {
  for (let i = init.lo; i < init.hi; i++) offline.add(i);
  post(await connectInLanes(init.lo, init.hi, init.connectConcurrency, connectOne));
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
  const { total, pad, ...at } = scheduleOf(r, init.worker);
  ({ first: firstSched, interval, measureFrom } = at);
  answers = new Uint8Array(total);
  recipients = new Int32Array(total);
  received = r.totals.map((n) => new Uint8Array(n));
  const own = init.hi - init.lo;
  openLoop(firstSched, interval, total, 1, (seq, sched) => {
    const k = Math.floor(Math.random() * own);
    const sender = init.lo + k;
    const to = pickRecipient(sender);
    recipients[seq] = to;
    const conn = conns[k];
    counts.sent++;
    seconds.at(r.startAt, sched).sent++;
    if (conn?.open) {
      conn.send(`${init.userPrefix}${to}`, `${init.worker}.${seq}`, benchBody(sched, init.worker, seq, pad));
    } else {
      answers[seq] = 2;
      counts.errors++;
      seconds.at(r.startAt, sched).errors++;
      errorCodes.not_connected = (errorCodes.not_connected ?? 0) + 1;
    }
  });
}

function final(): Final {
  return {
    type: 'final', counts, errorCodes,
    ackHist: encodeHist(ackHist), deliverHist: encodeHist(deliverHist),
    answers, recipients, received, offline: [...offline], seconds: run ? seconds.take() : [],
  };
}

const ticker = setInterval(() => {
  if (!run) return;
  const current = Math.floor((nowMs() - run.startAt) / 1000);
  post({ type: 'tick', counts, seconds: seconds.take(current), samples });
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
    for (const conn of conns) conn?.close();
    process.exit(0);
  }
});
process.on('disconnect', () => process.exit(0));
