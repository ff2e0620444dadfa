/**
 * Drives one target with client workers: connect, (idle hold | open-loop send), then gather and
 * check. Workers are forked processes (each well under the 20,000-open-files limit), each user's
 * connection binds a source address from --addresses round-robin so ephemeral ports suffice.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { nowMs, sleep } from './clock.ts';
import { connectionSummary } from './connect-lanes.ts';
import { addEncoded, newHist, summarize } from './hist.ts';
import { LagSampler } from './lag-sampler.ts';
import { Progress } from './progress.ts';
import { Sampler } from './sampler.ts';
import type { Target } from './targets.ts';
import { analyze, type RunResult } from './results.ts';
import { soakSummary, type SoakOptions } from './soak.ts';
import type { Counts, Final, ParentMsg, Ready, SecondStats, WorkerMsg } from './worker-protocol.ts';

export interface LoadOptions {
  scenario: string;
  conns: number;
  workers: number;
  addresses: string[];
  /** Messages per second over the whole run; 0 = idle (hold connections for durationS). */
  rate: number;
  durationS: number;
  warmupS: number;
  cross: number;
  bodyBytes: number;
  graceS: number;
  /** Sample every n-th ack for persistence lag (0 = off). */
  lagSampleEvery: number;
  connectConcurrency: number;
  /** Seconds between samples of the processes and the services' /metrics. */
  sampleIntervalS: number;
  /** Summarize the run as a soak (memory slope, per-minute latency and event-loop delay). */
  soak?: SoakOptions | undefined;
}

const WORKER = fileURLToPath(new URL('./client-worker.ts', import.meta.url));

/** `n` forked client workers running `script`, spoken to with In and answering with Out. */
export class Workers<In extends { type: string } = ParentMsg, Out extends { type: string } = WorkerMsg> {
  readonly procs: ChildProcess[];
  private readonly handlers = new Set<(w: number, m: Out) => void>();

  constructor(n: number, script = WORKER) {
    this.procs = Array.from({ length: n }, (_, w) => {
      const p = fork(script, [], { execArgv: ['--import', 'tsx', '--max-old-space-size=4096', ...(process.env.BENCH_WORKER_ARGS ?? '').split(' ').filter(Boolean)], serialization: 'advanced', stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
      p.on('message', (m: Out) => { for (const h of this.handlers) h(w, m); });
      return p;
    });
  }

  send(w: number, m: In): void { this.procs[w]!.send(m); }
  broadcast(m: In): void { this.procs.forEach((_, w) => this.send(w, m)); }
  on(h: (w: number, m: Out) => void): () => void { this.handlers.add(h); return () => this.handlers.delete(h); }

  /** One message of `type` from every worker. */
  collect<T extends Out>(type: T['type'], timeoutMs: number): Promise<T[]> {
    return new Promise((resolve, reject) => {
      const got: T[] = [];
      let n = 0;
      const timer = setTimeout(() => { off(); reject(new Error(`workers did not answer '${type}' within ${timeoutMs} ms`)); }, timeoutMs);
      const off = this.on((w, m) => {
        if (m.type !== type) return;
        got[w] = m as T;
        if (++n === this.procs.length) { clearTimeout(timer); off(); resolve(got); }
      });
    });
  }

  async exit(): Promise<void> {
    await Promise.all(this.procs.map((p) => new Promise((r) => {
      if (p.exitCode !== null) return r(null);
      p.once('exit', r);
      p.send({ type: 'exit' });
      setTimeout(() => p.kill('SIGKILL'), 10_000).unref();
    })));
  }
}

export async function runLoad(target: Target, o: LoadOptions, progress: Progress): Promise<RunResult> {
  const workers = new Workers(o.workers);
  const sampler = new Sampler(target, [...workers.procs.map((p, i) => ({ name: `client-${i}`, pid: p.pid! }))]);
  try {
    await sampler.sample(); // before any connection: the idle baseline of each process
    const before = sampler.latest();
    const userPrefix = `b${Date.now().toString(36)}-`;
    const per = Math.ceil(o.conns / o.workers);
    let readyCount = 0;
    const offReady = workers.on((_w, m) => { if (m.type === 'ready') readyCount++; });
    const connecting = setInterval(() => progress.draw(`[${o.scenario} ${target.label}] connecting ${o.conns} over ${target.wsUrls.length} nodes… workers ready ${readyCount}/${o.workers}`), 500);
    const readyP = workers.collect<Ready>('ready', 600_000);
    workers.procs.forEach((_, w) => workers.send(w, {
      type: 'init', worker: w, userPrefix, lo: Math.min(o.conns, w * per), hi: Math.min(o.conns, (w + 1) * per), totalUsers: o.conns,
      wsUrls: target.wsUrls, protocol: target.protocol, localAddresses: o.addresses, connectConcurrency: o.connectConcurrency,
    }));
    const ready = await readyP.finally(() => { clearInterval(connecting); offReady(); });
    const connections = connectionSummary(o.conns, ready);
    progress.note(`[${o.scenario} ${target.label}] ${connections.connected} connected, ${connections.failed} failed in ${connections.connectSeconds.toFixed(1)} s${connections.firstError ? ` (first error: ${connections.firstError})` : ''}`);
    if (o.rate === 0) return await holdIdle(target, o, workers, sampler, before, connections, progress);
    return await sendLoad(target, o, workers, sampler, connections, progress);
  } finally {
    sampler.stop();
    progress.done();
    await workers.exit();
  }
}

async function holdIdle(target: Target, o: LoadOptions, workers: Workers, sampler: Sampler, before: ReturnType<Sampler['latest']>, connections: RunResult['connections'], progress: Progress): Promise<RunResult> {
  // RSS growth counts from before the first connection; CPU only over the hold itself.
  const holdStart = await sampler.sample();
  sampler.start(o.sampleIntervalS * 1000);
  const until = nowMs() + o.durationS * 1000;
  while (nowMs() < until) {
    progress.draw(`[idle ${target.label}] holding ${connections.connected} connections ${Progress.bar(o.durationS * 1000 - (until - nowMs()), o.durationS * 1000)}`);
    await sleep(500);
  }
  await sampler.sample();
  const finals = await (async () => { const p = workers.collect<Final>('final', 60_000); workers.broadcast({ type: 'finish' }); return p; })();
  return analyze({ target, o, connections, finals, sampler, before, cpuBefore: holdStart, windowS: o.durationS, seconds: [], lag: undefined });
}

async function sendLoad(target: Target, o: LoadOptions, workers: Workers, sampler: Sampler, connections: RunResult['connections'], progress: Progress): Promise<RunResult> {
  const rateW = o.rate / o.workers;
  const totals = workers.procs.map(() => Math.floor(o.durationS * rateW));
  const scheduled = totals.reduce((a, b) => a + b, 0);
  const lag = target.databaseUrl && o.lagSampleEvery > 0 ? new LagSampler(target.databaseUrl) : undefined;
  lag?.start();
  const counts: Counts[] = workers.procs.map(() => ({ sent: 0, acked: 0, errors: 0, delivered: 0, duplicates: 0, unknown: 0 }));
  const seconds = new Map<number, SecondStats[]>();
  workers.on((w, m) => {
    if (m.type !== 'tick' && m.type !== 'final') return;
    counts[w] = m.counts;
    for (const s of m.seconds) seconds.set(s.sec, [...(seconds.get(s.sec) ?? []), s]);
    if (m.type === 'tick') lag?.add(m.samples);
  });
  const startAt = nowMs() + 1000;
  workers.procs.forEach((_, w) => workers.send(w, {
    type: 'run', startAt, offsetMs: (w * 1000) / (rateW * o.workers), warmupMs: o.warmupS * 1000, durationMs: o.durationS * 1000,
    rate: rateW, cross: o.cross, bodyBytes: o.bodyBytes, totals, sampleEvery: o.lagSampleEvery,
  }));
  await sleep(Math.max(0, startAt - nowMs()));
  await sampler.sample();
  const before = sampler.latest();
  sampler.start(o.sampleIntervalS * 1000);
  const endAt = startAt + o.durationS * 1000;
  const graceEnd = endAt + o.graceS * 1000;
  const sum = () => counts.reduce((a, c) => ({ sent: a.sent + c.sent, acked: a.acked + c.acked, errors: a.errors + c.errors, delivered: a.delivered + c.delivered }), { sent: 0, acked: 0, errors: 0, delivered: 0 });
  for (;;) {
    const now = nowMs();
    const t = sum();
    const last = seconds.get(Math.floor((now - startAt) / 1000) - 1);
    const p99 = last ? (() => { const h = newHist(); for (const s of last) addEncoded(h, s.deliverHist); const v = summarize(h).p99; h.destroy(); return v; })() : null;
    progress.draw(`[${o.scenario} ${target.label}] ${Progress.bar(now - startAt, o.durationS * 1000)} ${Math.min(o.durationS, (now - startAt) / 1000).toFixed(0)}/${o.durationS}s sent ${t.sent} acked ${t.acked} err ${t.errors} dlv ${t.delivered}${last ? ` | last s: ${last.reduce((a, s) => a + s.delivered, 0)}/s p99 ${p99 ?? '-'} ms` : ''}`);
    const settled = t.sent === scheduled && t.acked + t.errors === scheduled && t.delivered >= t.acked;
    if (now >= endAt && (settled || now >= graceEnd)) break;
    await sleep(250);
  }
  const windowS = (nowMs() - startAt) / 1000;
  const end = await sampler.sample();
  const finalsP = workers.collect<Final>('final', 120_000);
  workers.broadcast({ type: 'finish' });
  const finals = await finalsP;
  const lagSummary = lag ? await lag.finish(o.graceS * 1000) : undefined;
  const result = analyze({ target, o, connections, finals, sampler, before, windowS, seconds: [...seconds.entries()], lag: lagSummary, startAt });
  if (o.soak) {
    result.soak = soakSummary({
      options: o.soak, sampleIntervalS: o.sampleIntervalS, samples: sampler.samples, end, startAt,
      warmupS: o.warmupS, durationS: o.durationS, seconds: [...seconds.entries()],
    });
  }
  return result;
}
