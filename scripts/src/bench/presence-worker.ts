/**
 * A presence client worker (forked by presence-load.ts): connects its share of the users, each
 * watching its watch list (presence-plan.ts), then churns: closes open connections at a fixed
 * rate and opens each again `offlineMs` later (sending its watch again, as the client library
 * does). It records when it closed or opened each user and when each change frame arrived;
 * the parent matches them (presence-match.ts).
 */
import { connectChat } from './client-chat.ts';
import type { ClientConn } from './client-conn.ts';
import { connectInLanes } from './connect-lanes.ts';
import { nowMs } from './clock.ts';
import { emptyEvents, pushEvent } from './presence-match.ts';
import { watchList } from './presence-plan.ts';
import type { PresenceCounts, PresenceInit, PresenceParentMsg, PresenceRun, PresenceWorkerMsg } from './presence-protocol.ts';

let init: PresenceInit;
let run: PresenceRun | undefined;
const conns: (ClientConn | undefined)[] = [];
/** Users (own, by offset from lo) the churn has closed and not yet opened again. */
const churned = new Set<number>();
const counts: PresenceCounts = { closed: 0, reopened: 0, reopenFailed: 0, dropped: 0, answers: 0, frames: 0, errors: {} };
let changes = emptyEvents();
let arrivals = emptyEvents();

const post = (m: PresenceWorkerMsg) => process.send!(m);
const name = (i: number) => `${init.userPrefix}${i}`;

/** Connect user i and watch its list; the first frame per watched user answers the watch, later ones report changes. */
async function connectOne(i: number): Promise<string | undefined> {
  const list = watchList(i, init.totalUsers, init.watchCount, init.seed);
  const unanswered = new Set(list);
  const conn = await connectChat({
    url: init.wsUrls[i % init.wsUrls.length]!,
    user: name(i),
    localAddress: init.localAddresses[i % init.localAddresses.length],
  }, {
    message: () => {},
    ack: () => {},
    error: (code) => { counts.errors[code] = (counts.errors[code] ?? 0) + 1; },
    presence: (user, online) => {
      const now = nowMs();
      const watched = Number(user.slice(init.userPrefix.length));
      if (unanswered.delete(watched)) return void counts.answers++;
      // Changes while the users connected (before the churn) are neither counted nor matched.
      if (!run || now < run.startAt) return;
      counts.frames++;
      pushEvent(arrivals, watched, online, now);
    },
    closed: () => {
      conns[i - init.lo] = undefined;
      if (!churned.has(i - init.lo)) counts.dropped++;
    },
  });
  if (typeof conn === 'string') return conn;
  conns[i - init.lo] = conn;
  conn.watch!(list.map(name));
  return undefined;
}

/** A random own connection that is open and not churned, or undefined after a few misses. */
function pickOpen(): number | undefined {
  const own = init.hi - init.lo;
  for (let tries = 0; tries < 50; tries++) {
    const k = Math.floor(Math.random() * own);
    if (!churned.has(k) && conns[k]?.open) return k;
  }
  return undefined;
}

function churnOne(): void {
  const k = pickOpen();
  if (k === undefined) return;
  const user = init.lo + k;
  churned.add(k);
  pushEvent(changes, user, false, nowMs());
  conns[k]!.close();
  counts.closed++;
  setTimeout(() => {
    pushEvent(changes, user, true, nowMs());
    void connectOne(user).then((err) => {
      churned.delete(k);
      if (err) counts.reopenFailed++;
      else counts.reopened++;
    });
  }, run!.offlineMs);
}

function startChurn(): void {
  const r = run!;
  const interval = 1000 / r.rate;
  const total = Math.floor((r.durationMs / 1000) * r.rate);
  let n = 0;
  const tick = () => {
    const now = nowMs();
    while (n < total && r.startAt + n * interval <= now) { churnOne(); n++; }
    if (n < total) setTimeout(tick, Math.max(0, Math.min(5, r.startAt + n * interval - nowMs())));
  };
  setTimeout(tick, Math.max(0, r.startAt - nowMs()));
}

/** What happened since the last call, handed over and forgotten. */
function take(): { changes: typeof changes; arrivals: typeof arrivals } {
  const out = { changes, arrivals };
  changes = emptyEvents();
  arrivals = emptyEvents();
  return out;
}

const ticker = setInterval(() => { if (run) post({ type: 'tick', counts, ...take() }); }, 500);

process.on('message', (m: PresenceParentMsg) => {
  if (m.type === 'init') { init = m; void connectInLanes(init.lo, init.hi, init.connectConcurrency, connectOne).then(post); }
  if (m.type === 'run') { run = m; startChurn(); }
  if (m.type === 'finish') { clearInterval(ticker); post({ type: 'final', counts, ...take() }); }
  if (m.type === 'exit') {
    for (const conn of conns) conn?.close();
    process.exit(0);
  }
});
process.on('disconnect', () => process.exit(0));
