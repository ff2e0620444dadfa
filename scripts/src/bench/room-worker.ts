/**
 * A room client worker (forked by room-load.ts): holds its share of the room's members, one
 * connection each, sends its share of the open-loop schedule to the room from random members of
 * its own, and measures every delivery: each message reaches every other member, so a message
 * yields one send→deliver sample per recipient, counted once per member (a repeat to a member is
 * a duplicate). Bodies carry "<scheduled ms>|<worker>|<seq>|padding" as in client-worker.ts.
 */
import { connectChat } from './client-chat.ts';
import type { ClientConn } from './client-conn.ts';
import { connectInLanes } from './connect-lanes.ts';
import { nowMs } from './clock.ts';
import { encodeHist, newHist, recordMs } from './hist.ts';
import { benchBody, openLoop, parseBenchBody, scheduleOf } from './open-loop.ts';
import { SecondsLog } from './seconds-log.ts';
import type { RoomCounts, RoomFinal, RoomInit, RoomParentMsg, RoomRun, RoomWorkerMsg } from './room-protocol.ts';

let init: RoomInit;
let run: RoomRun | undefined;
const conns: (ClientConn | undefined)[] = [];
/** Per own member: the messages it got (worker · 2^32 + seq). */
const got: Set<number>[] = [];
const counts: RoomCounts = { sent: 0, acked: 0, errors: 0, delivered: 0, duplicates: 0, unknown: 0, dropped: 0 };
const errorCodes: Record<string, number> = {};
const ackHist = newHist();
const deliverHist = newHist();
let answers = new Uint8Array(0);
let received: Uint16Array[] = [];
const seconds = new SecondsLog();
let interval = 0;
let firstSched = 0;
let measureFrom = 0;

const post = (m: RoomWorkerMsg) => process.send!(m);


/** An ack (1) or a refusal (2) of own message `cid` ("worker.seq"). */
function onAnswer(cid: string | undefined, answer: 1 | 2, now: number): void {
  const seq = cid === undefined ? NaN : Number(cid.slice(cid.indexOf('.') + 1));
  if (!(seq < answers.length) || answers[seq] !== 0) return void counts.unknown++;
  answers[seq] = answer;
  const s = seconds.at(run!.startAt, now);
  if (answer === 2) { counts.errors++; s.errors++; return; }
  counts.acked++;
  s.acked++;
  const sched = firstSched + seq * interval;
  if (sched >= measureFrom) recordMs(ackHist, now - sched);
}

/** Member k (own index) got a message. */
function onMessage(k: number, body: string, now: number): void {
  const { due: sched, src, seq } = parseBenchBody(body);
  const map = received[src];
  if (!map || !(seq < map.length)) return void counts.unknown++;
  const key = src * 2 ** 32 + seq;
  if (got[k]!.has(key)) return void counts.duplicates++;
  got[k]!.add(key);
  counts.delivered++;
  if (map[seq]! < 65_535) map[seq]!++;
  const s = seconds.at(run!.startAt, now);
  s.delivered++;
  recordMs(s.hist, now - sched);
  if (sched >= measureFrom) recordMs(deliverHist, now - sched);
}

async function connectOne(i: number): Promise<string | undefined> {
  const k = i - init.lo;
  got[k] = new Set();
  const conn = await connectChat({
    url: init.wsUrls[i % init.wsUrls.length]!,
    user: `${init.userPrefix}${i}`,
    localAddress: init.localAddresses[i % init.localAddresses.length],
  }, {
    message: (body) => { if (run) onMessage(k, body, nowMs()); },
    ack: (cid) => { if (run) onAnswer(cid, 1, nowMs()); },
    error: (code, cid) => {
      errorCodes[code] = (errorCodes[code] ?? 0) + 1;
      if (cid && run) onAnswer(cid, 2, nowMs());
    },
    closed: () => {
      conns[k] = undefined;
      counts.dropped++;
    },
  });
  if (typeof conn === 'string') return conn;
  conns[k] = conn;
  return undefined;
}

function startSending(): void {
  const r = run!;
  const { total, pad, ...at } = scheduleOf(r, init.worker);
  ({ first: firstSched, interval, measureFrom } = at);
  answers = new Uint8Array(total);
  received = r.totals.map((n) => new Uint16Array(n));
  const own = init.hi - init.lo;
  openLoop(firstSched, interval, total, 5, (seq, sched) => {
    const conn = conns[Math.floor(Math.random() * own)];
    counts.sent++;
    seconds.at(r.startAt, sched).sent++;
    if (conn?.open) return conn.sendToRoom!(r.room, `${init.worker}.${seq}`, benchBody(sched, init.worker, seq, pad));
    errorCodes.not_connected = (errorCodes.not_connected ?? 0) + 1;
    onAnswer(`${init.worker}.${seq}`, 2, sched);
  });
}

function final(): RoomFinal {
  return {
    type: 'final', counts, errorCodes, ackHist: encodeHist(ackHist), deliverHist: encodeHist(deliverHist),
    answers, received, seconds: run ? seconds.take() : [],
  };
}

const ticker = setInterval(() => {
  if (run) post({ type: 'tick', counts, seconds: seconds.take(Math.floor((nowMs() - run.startAt) / 1000)) });
}, 500);

process.on('message', (m: RoomParentMsg) => {
  if (m.type === 'init') { init = m; void connectInLanes(init.lo, init.hi, init.connectConcurrency, connectOne).then(post); }
  if (m.type === 'run') { run = m; startSending(); }
  if (m.type === 'finish') { clearInterval(ticker); post(final()); }
  if (m.type === 'exit') {
    for (const conn of conns) conn?.close();
    process.exit(0);
  }
});
process.on('disconnect', () => process.exit(0));
