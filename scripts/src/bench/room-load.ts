/**
 * One phase of the room scenario: a room of `members` users made with room_create and room_add
 * frames (room-setup.ts) before they connect, its members spread over the nodes (member i on node
 * i % nodes) and over room workers (room-worker.ts), then messages to the room at a fixed
 * open-loop rate from random members. The nodes' forward requests are read from their /metrics
 * before and after, the processes' CPU from the sampler.
 */
import { fileURLToPath } from 'node:url';
import { nowMs, sleep } from './clock.ts';
import { connectionSummary } from './connect-lanes.ts';
import { Workers } from './load.ts';
import { Progress } from './progress.ts';
import type { RoomCounts, RoomFinal, RoomParentMsg, RoomWorkerMsg } from './room-protocol.ts';
import { summarizeRoom, type RoomResult } from './room-results.ts';
import { createRoom } from './room-setup.ts';
import { Sampler } from './sampler.ts';
import { scrape } from './scrape.ts';
import type { Target } from './targets.ts';
import type { Ready, SecondStats } from './worker-protocol.ts';

export interface RoomOptions {
  members: number;
  /** Messages per second to the room, over all workers. */
  rate: number;
  durationS: number;
  warmupS: number;
  /** Seconds after the send window that deliveries still owed may take. */
  graceS: number;
  workers: number;
  addresses: string[];
  connectConcurrency: number;
  bodyBytes: number;
}

const WORKER = fileURLToPath(new URL('./room-worker.ts', import.meta.url));
export const FORWARD_REQUESTS = 'chat_forward_requests_total';

/** Σ of the nodes' forward requests; undefined when a node did not answer or does not count them. */
async function forwardRequests(target: Target): Promise<number | undefined> {
  const values = await Promise.all(target.nodeUrls.map(async (url) => (await scrape(url))?.get(FORWARD_REQUESTS)));
  return values.every((v) => v !== undefined) ? values.reduce((a, v) => a + v!, 0) : undefined;
}

export async function runRoomPhase(target: Target, o: RoomOptions, progress: Progress): Promise<RoomResult> {
  const label = `room of ${o.members.toLocaleString('en-US')}`;
  const userPrefix = `r${Date.now().toString(36)}-`;
  const members = Array.from({ length: o.members }, (_, i) => `${userPrefix}${i}`);
  progress.note(`[${label}] creating the room (${Math.ceil(Math.max(0, o.members - 1) / 1000)} room frames)…`);
  const room = await createRoom(target.wsUrls[0]!, members, label);
  const workers = new Workers<RoomParentMsg, RoomWorkerMsg>(o.workers, WORKER);
  const sampler = new Sampler(target, workers.procs.map((p, i) => ({ name: `client-${i}`, pid: p.pid! })));
  try {
    const per = Math.ceil(o.members / o.workers);
    const connecting = setInterval(() => progress.draw(`[${label}] connecting ${o.members} members over ${target.wsUrls.length} nodes…`), 500);
    const readyP = workers.collect<Ready>('ready', 600_000);
    workers.procs.forEach((_, w) => workers.send(w, {
      type: 'init', worker: w, userPrefix, lo: Math.min(o.members, w * per), hi: Math.min(o.members, (w + 1) * per),
      wsUrls: target.wsUrls, localAddresses: o.addresses, connectConcurrency: o.connectConcurrency,
    }));
    const connections = connectionSummary(o.members, await readyP.finally(() => clearInterval(connecting)));
    progress.note(`[${label}] ${connections.connected} connected, ${connections.failed} failed in ${connections.connectSeconds.toFixed(1)} s${connections.firstError ? ` (first error: ${connections.firstError})` : ''}`);

    const counts: RoomCounts[] = workers.procs.map(() => ({ sent: 0, acked: 0, errors: 0, delivered: 0, duplicates: 0, unknown: 0, dropped: 0 }));
    const seconds = new Map<number, SecondStats[]>();
    workers.on((w, m) => {
      if (m.type !== 'tick' && m.type !== 'final') return;
      counts[w] = m.counts;
      for (const s of m.seconds) seconds.set(s.sec, [...(seconds.get(s.sec) ?? []), s]);
    });
    const rateW = o.rate / o.workers;
    const totals = workers.procs.map(() => Math.floor(o.durationS * rateW));
    const scheduled = totals.reduce((a, b) => a + b, 0);
    const forwardsBefore = await forwardRequests(target);
    const startAt = nowMs() + 1000;
    workers.procs.forEach((_, w) => workers.send(w, {
      type: 'run', room, startAt, offsetMs: (w * 1000) / o.rate, warmupMs: o.warmupS * 1000, durationMs: o.durationS * 1000,
      rate: rateW, bodyBytes: o.bodyBytes, totals,
    }));
    await sleep(Math.max(0, startAt - nowMs()));
    const before = await sampler.sample();
    sampler.start(1000);
    const endAt = startAt + o.durationS * 1000;
    const graceEnd = endAt + o.graceS * 1000;
    const owedEach = Math.max(0, connections.connected - 1);
    for (;;) {
      const now = nowMs();
      const t = counts.reduce((a, c) => ({ sent: a.sent + c.sent, acked: a.acked + c.acked, errors: a.errors + c.errors, delivered: a.delivered + c.delivered }), { sent: 0, acked: 0, errors: 0, delivered: 0 });
      progress.draw(`[${label}] ${Progress.bar(now - startAt, o.durationS * 1000)} sent ${t.sent} acked ${t.acked} err ${t.errors} deliveries ${t.delivered}/${t.acked * owedEach}`);
      const settled = t.sent === scheduled && t.acked + t.errors === scheduled && t.delivered >= t.acked * owedEach;
      if (now >= endAt && (settled || now >= graceEnd)) break;
      await sleep(250);
    }
    const windowS = (nowMs() - startAt) / 1000;
    const after = await sampler.sample();
    const forwardsAfter = await forwardRequests(target);
    const finalsP = workers.collect<RoomFinal>('final', 120_000);
    workers.broadcast({ type: 'finish' });
    const finals = await finalsP;
    return summarizeRoom({
      label, members: o.members, nodes: target.wsUrls.length, rate: o.rate, warmupS: o.warmupS, durationS: o.durationS, windowS,
      connections, finals, seconds: [...seconds.entries()], before, after, samples: sampler.samples, forwardsBefore, forwardsAfter,
    });
  } finally {
    sampler.stop();
    progress.done();
    await workers.exit();
  }
}
