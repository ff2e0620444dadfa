/**
 * Turns what the workers and the sampler saw into one run's result: the accounting (sent = acked +
 * errors + unanswered; lost = acked, recipient online, never delivered; duplicated = extra
 * deliveries), latency percentiles, the per-second timeline, CPU and memory per process.
 */
import { addEncoded, newHist, summarize, type LatencySummary } from './hist.ts';
import type { LoadOptions } from './load.ts';
import type { Sample, Sampler } from './sampler.ts';
import type { SoakResult } from './soak.ts';
import type { Target } from './targets.ts';
import type { Final, SecondStats } from './worker-protocol.ts';

export interface ProcResult { cpuSec: number; rssMB: number; cpuPct: number }

export interface RunResult {
  label: string;
  connections: { requested: number; connected: number; failed: number; connectSeconds: number; firstError?: string | undefined };
  offeredRate: number;
  windowS: number;
  counts?: {
    sent: number; acked: number; errors: number; unanswered: number; delivered: number;
    lost: number; duplicated: number; ackedToOffline: number; deliveredWithoutAck: number;
  };
  errorCodes?: Record<string, number>;
  deliveredPerSec?: number;
  sendToDeliver?: LatencySummary;
  sendToAck?: LatencySummary;
  persistLag?: (LatencySummary & { unseen: number; pollErrors: number }) | undefined;
  processes: Record<string, ProcResult>;
  /** Service CPU (every process but the clients) per delivered message, µs. */
  cpuPerMessageUs?: number;
  /** Idle: RSS growth per connection on each node, KB. */
  rssPerConnKB?: Record<string, number>;
  eventLoop: Record<string, { p99MedianMs: number; p99MaxMs: number; maxMs: number }>;
  /** Per second: sends scheduled, errors answered (refusals: when they came shows why), deliveries, p99. */
  timeline: { sec: number; sent: number; errors: number; delivered: number; p99Ms: number | null }[];
  /** Errors answered during the warm-up (a cold start's refusals), of `counts.errors`. */
  errorsInWarmup?: number;
  /** The soak scenario: memory slope per process, latency and event-loop delay per minute. */
  soak?: SoakResult;
}

export interface AnalyzeInput {
  target: Target;
  o: LoadOptions;
  connections: RunResult['connections'];
  finals: Final[];
  sampler: Sampler;
  before: Sample;
  /** CPU is counted from here when given (idle: the hold, not the connect phase). */
  cpuBefore?: Sample;
  windowS: number;
  seconds: [number, SecondStats[]][];
  lag: RunResult['persistLag'];
  startAt?: number;
}

function accounting(finals: Final[]) {
  const offline = new Set(finals.flatMap((f) => f.offline));
  const c = { sent: 0, acked: 0, errors: 0, unanswered: 0, delivered: 0, lost: 0, duplicated: 0, ackedToOffline: 0, deliveredWithoutAck: 0 };
  finals.forEach((f, w) => {
    c.sent += f.counts.sent;
    for (let seq = 0; seq < f.answers.length; seq++) {
      let got = 0;
      for (const r of finals) got += r.received[w]![seq]!;
      const a = f.answers[seq]!;
      if (a === 1) c.acked++;
      else if (a === 2) c.errors++;
      else if (seq < f.counts.sent) c.unanswered++;
      if (got > 0) c.delivered++;
      if (got > 1) c.duplicated += got - 1;
      if (a === 1 && got === 0) {
        if (offline.has(f.recipients[seq]!)) c.ackedToOffline++;
        else c.lost++;
      }
      if (a !== 1 && got > 0) c.deliveredWithoutAck++;
    }
  });
  return c;
}

export function processes(before: Sample, after: Sample, windowS: number): Record<string, ProcResult> {
  const out: Record<string, ProcResult> = {};
  for (const [name, p] of Object.entries(after.procs)) {
    if (p.pids === 0) continue;
    const cpu = p.cpuSec - (before.procs[name]?.cpuSec ?? 0);
    out[name] = { cpuSec: round(cpu, 2), rssMB: round(p.rssBytes / 2 ** 20, 1), cpuPct: round((100 * cpu) / windowS, 0) };
  }
  return out;
}

export function eventLoop(samples: Sample[], from: number): RunResult['eventLoop'] {
  const out: RunResult['eventLoop'] = {};
  const names = new Set(samples.flatMap((s) => Object.keys(s.services)));
  for (const name of names) {
    const within = samples.filter((s) => s.t > from && s.services[name]?.loopP99Ms !== undefined).map((s) => s.services[name]!);
    if (within.length === 0) continue;
    const p99s = within.map((s) => s.loopP99Ms!).sort((a, b) => a - b);
    out[name] = {
      p99MedianMs: round(p99s[Math.floor(p99s.length / 2)]!, 1),
      p99MaxMs: round(p99s[p99s.length - 1]!, 1),
      maxMs: round(Math.max(...within.map((s) => s.loopMaxMs ?? 0)), 1),
    };
  }
  return out;
}

export function analyze(i: AnalyzeInput): RunResult {
  const after = i.sampler.latest();
  const procs = processes(i.cpuBefore ?? i.before, after, i.windowS);
  const result: RunResult = {
    label: i.target.label,
    connections: i.connections,
    offeredRate: i.o.rate,
    windowS: round(i.windowS, 1),
    processes: procs,
    eventLoop: eventLoop(i.sampler.samples, i.before.t),
    timeline: [],
  };
  if (i.o.rate === 0) {
    // RSS growth from before the first connection, over the connections each node holds.
    result.rssPerConnKB = {};
    const perNode = i.target.wsUrls.length;
    i.target.wsUrls.forEach((_, n) => {
      const name = `node-${n}`;
      const grew = (after.procs[name]?.rssBytes ?? 0) - (i.before.procs[name]?.rssBytes ?? 0);
      const held = after.services[name]?.connections ?? i.connections.connected / perNode;
      result.rssPerConnKB![name] = round(grew / 1024 / Math.max(held, 1), 2);
    });
    return result;
  }
  result.counts = accounting(i.finals);
  result.errorCodes = {};
  for (const f of i.finals) for (const [k, v] of Object.entries(f.errorCodes)) result.errorCodes[k] = (result.errorCodes[k] ?? 0) + v;
  const ack = newHist();
  const dlv = newHist();
  for (const f of i.finals) { addEncoded(ack, f.ackHist); addEncoded(dlv, f.deliverHist); }
  result.sendToAck = summarize(ack);
  result.sendToDeliver = summarize(dlv);
  result.persistLag = i.lag;
  result.timeline = timelineOf(i.seconds);
  result.errorsInWarmup = result.timeline.filter((t) => t.sec < i.o.warmupS).reduce((a, t) => a + t.errors, 0);
  result.deliveredPerSec = deliveredPerSec(result.timeline, i.o.warmupS, i.o.durationS);
  const serviceCpu = Object.entries(procs).filter(([n]) => !n.startsWith('client-')).reduce((a, [, p]) => a + p.cpuSec, 0);
  if (result.counts.delivered > 0) result.cpuPerMessageUs = Math.round((serviceCpu / result.counts.delivered) * 1e6);
  return result;
}

/** The workers' seconds merged, in order from the first scheduled send: sends, errors, deliveries and their p99. */
export function timelineOf(seconds: [number, SecondStats[]][]): RunResult['timeline'] {
  return seconds.sort((a, b) => a[0] - b[0]).filter(([sec]) => sec >= 0).map(([sec, list]) => {
    const h = newHist();
    for (const s of list) addEncoded(h, s.deliverHist);
    const p99 = summarize(h).p99;
    h.destroy();
    const sum = (k: 'sent' | 'errors' | 'delivered') => list.reduce((a, s) => a + s[k], 0);
    return { sec, sent: sum('sent'), errors: sum('errors'), delivered: sum('delivered'), p99Ms: p99 };
  });
}

/** Delivered per second over the measured part of the send window (after the warm-up). */
export function deliveredPerSec(timeline: RunResult['timeline'], warmupS: number, durationS: number): number {
  const measured = timeline.filter((t) => t.sec >= warmupS && t.sec < durationS);
  return measured.length ? Math.round(measured.reduce((a, t) => a + t.delivered, 0) / measured.length) : 0;
}

export function round(v: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}
