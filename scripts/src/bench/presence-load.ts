/**
 * The presence scenario: connections spread over presence workers (presence-worker.ts), each
 * watching others; the workers churn connections at a fixed rate, and the parent matches every
 * change frame to the close or open that caused it (presence-match.ts), and samples the CPU of
 * the nodes and sv-discover, which carries the changes between them.
 */
import { fileURLToPath } from 'node:url';
import { nowMs, sleep } from './clock.ts';
import { connectionSummary } from './connect-lanes.ts';
import { newHist, recordMs, summarize, type LatencySummary } from './hist.ts';
import { Workers } from './load.ts';
import { emptyEvents, matchPresence, type PresenceEvents } from './presence-match.ts';
import { watcherLists } from './presence-plan.ts';
import type { PresenceCounts, PresenceFinal, PresenceParentMsg, PresenceWorkerMsg } from './presence-protocol.ts';
import { Progress } from './progress.ts';
import { eventLoop, processes, round, type ProcResult, type RunResult } from './results.ts';
import { Sampler } from './sampler.ts';
import type { Target } from './targets.ts';
import type { Ready } from './worker-protocol.ts';

export interface PresenceOptions {
  conns: number;
  workers: number;
  addresses: string[];
  /** Connections closed (and each opened again offlineMs later) per second, over all workers. */
  rate: number;
  durationS: number;
  watchCount: number;
  seed: number;
  offlineMs: number;
  connectConcurrency: number;
  /** Seconds without a new frame, once every reopen is answered, that end the run. */
  graceS: number;
}

export interface PresenceResult {
  label: string;
  connections: RunResult['connections'];
  churnRate: number;
  windowS: number;
  counts: Omit<PresenceCounts, 'errors'> & { changes: number; expected: number; matched: number; matchedOffline: number; unmatched: number };
  errorCodes: Record<string, number>;
  /** Change frames that arrived during the churn, per second. */
  framesPerSec: number;
  /** From the close or open of a connection to a watcher's frame about it. */
  latency: LatencySummary;
  processes: Record<string, ProcResult>;
  eventLoop: RunResult['eventLoop'];
}

/** The longest the bench waits, after the last reopen is due, for reopens and frames still on their way. */
const SETTLE_CAP_MS = 60_000;

/** From the last worker ready to the first close. */
const SETTLE_MS = 2000;

const WORKER = fileURLToPath(new URL('./presence-worker.ts', import.meta.url));

function concat(into: PresenceEvents, more: PresenceEvents): void {
  for (let k = 0; k < more.users.length; k++) {
    into.users.push(more.users[k]!);
    into.online.push(more.online[k]!);
    into.t.push(more.t[k]!);
  }
}

export async function runPresence(target: Target, o: PresenceOptions, progress: Progress): Promise<PresenceResult> {
  const workers = new Workers<PresenceParentMsg, PresenceWorkerMsg>(o.workers, WORKER);
  const sampler = new Sampler(target, workers.procs.map((p, i) => ({ name: `client-${i}`, pid: p.pid! })));
  try {
    const per = Math.ceil(o.conns / o.workers);
    // One prefix for all workers: a watch list names users of every worker.
    const userPrefix = `p${Date.now().toString(36)}-`;
    const readyP = workers.collect<Ready>('ready', 600_000);
    const connecting = setInterval(() => progress.draw(`[presence ${target.label}] connecting ${o.conns} over ${target.wsUrls.length} nodes…`), 500);
    workers.procs.forEach((_, w) => workers.send(w, {
      type: 'init', userPrefix, lo: Math.min(o.conns, w * per), hi: Math.min(o.conns, (w + 1) * per),
      totalUsers: o.conns, wsUrls: target.wsUrls, localAddresses: o.addresses, connectConcurrency: o.connectConcurrency,
      watchCount: o.watchCount, seed: o.seed,
    }));
    const ready = await readyP.finally(() => clearInterval(connecting));
    const connections = connectionSummary(o.conns, ready);
    progress.note(`[presence ${target.label}] ${connections.connected} connected, ${connections.failed} failed in ${connections.connectSeconds.toFixed(1)} s${connections.firstError ? ` (first error: ${connections.firstError})` : ''}`);
    const changes = emptyEvents();
    const arrivals = emptyEvents();
    const counts = new Map<number, PresenceCounts>();
    workers.on((w, m) => {
      if (m.type !== 'tick' && m.type !== 'final') return;
      counts.set(w, m.counts);
      concat(changes, m.changes);
      concat(arrivals, m.arrivals);
    });
    // The frames of the last users to connect have SETTLE_MS to arrive before the churn starts.
    const startAt = nowMs() + SETTLE_MS;
    workers.broadcast({ type: 'run', startAt, durationMs: o.durationS * 1000, rate: o.rate / o.workers, offlineMs: o.offlineMs });
    await sleep(Math.max(0, startAt - nowMs()));
    await sampler.sample();
    const before = sampler.latest();
    sampler.start(1000);
    const endAt = startAt + o.durationS * 1000;
    // After the churn: every reopen answered, then no new frame for graceS (at most SETTLE_CAP_MS).
    const cap = endAt + o.offlineMs + SETTLE_CAP_MS;
    let lastFrames = -1;
    let quietSince = nowMs();
    for (let now = nowMs(); now < cap; now = nowMs()) {
      const c = [...counts.values()].reduce((a, x) => ({ closed: a.closed + x.closed, back: a.back + x.reopened + x.reopenFailed, frames: a.frames + x.frames }), { closed: 0, back: 0, frames: 0 });
      if (c.frames !== lastFrames) { lastFrames = c.frames; quietSince = now; }
      if (now >= endAt + o.offlineMs && c.back === c.closed && now - quietSince >= o.graceS * 1000) break;
      progress.draw(`[presence ${target.label}] ${Progress.bar(now - startAt, endAt - startAt)} closed ${c.closed} reopened ${c.back} frames ${c.frames}`);
      await sleep(250);
    }
    // CPU per second over everything since the churn began (the reopens and the frames they left included).
    const windowS = (nowMs() - startAt) / 1000;
    await sampler.sample();
    const finalsP = workers.collect<PresenceFinal>('final', 120_000);
    workers.broadcast({ type: 'finish' });
    await finalsP;
    return summarizePresence({ target, o, connections, changes, arrivals, counts: [...counts.values()], sampler, before, windowS, startAt, endAt });
  } finally {
    sampler.stop();
    progress.done();
    await workers.exit();
  }
}

interface SummaryInput {
  target: Target; o: PresenceOptions; connections: RunResult['connections']; changes: PresenceEvents; arrivals: PresenceEvents;
  counts: PresenceCounts[]; sampler: Sampler; before: ReturnType<Sampler['latest']>; windowS: number; startAt: number; endAt: number;
}

function summarizePresence(i: SummaryInput): PresenceResult {
  const match = matchPresence(i.changes, i.arrivals, watcherLists(i.o.conns, i.o.watchCount, i.o.seed));
  const hist = newHist();
  for (const ms of match.latenciesMs) recordMs(hist, ms);
  const latency = summarize(hist);
  hist.destroy();
  const sum = (k: Exclude<keyof PresenceCounts, 'errors'>) => i.counts.reduce((a, c) => a + c[k], 0);
  const errorCodes: Record<string, number> = {};
  for (const c of i.counts) for (const [k, v] of Object.entries(c.errors)) errorCodes[k] = (errorCodes[k] ?? 0) + v;
  const during = i.arrivals.t.filter((t) => t >= i.startAt && t < i.endAt).length;
  return {
    label: i.target.label,
    connections: i.connections,
    churnRate: i.o.rate,
    windowS: round(i.windowS, 1),
    counts: {
      closed: sum('closed'), reopened: sum('reopened'), reopenFailed: sum('reopenFailed'), dropped: sum('dropped'),
      answers: sum('answers'), frames: sum('frames'), changes: i.changes.users.length,
      expected: match.expected, matched: match.latenciesMs.length, matchedOffline: match.matchedOffline, unmatched: match.unmatched,
    },
    errorCodes,
    framesPerSec: Math.round(during / i.o.durationS),
    latency,
    processes: processes(i.before, i.sampler.latest(), i.windowS),
    eventLoop: eventLoop(i.sampler.samples, i.before.t),
  };
}
