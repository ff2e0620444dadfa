/**
 * A soak's per-minute view: deliveries and send→deliver p50/p99 by the minute they arrived in,
 * and each service's event-loop delay p99 in that minute. A latency or loop delay that creeps up
 * minute after minute shows a slow leak (a growing queue, map or GC heap) before memory does.
 */
import { addEncoded, newHist, summarize } from './hist.ts';
import { byMinute } from './minute-buckets.ts';
import { round } from './results.ts';
import type { Sample } from './sampler.ts';
import type { SecondStats } from './worker-protocol.ts';

export interface SoakMinute {
  /** 1 = the first 60 s after the first scheduled send; the last minute takes the drain after the send window. */
  minute: number;
  delivered: number;
  p50Ms: number | null;
  p99Ms: number | null;
  /**
   * Per service: the highest event-loop delay p99 among the sample intervals of the minute, ms
   * (each /metrics scrape resets the services' delay histogram, so each sample covers one interval).
   */
  loopP99Ms: Record<string, number | null>;
}

/**
 * `seconds`: per second since `startAt` (monotonic ms), every worker's stats; `samples`: the
 * sampler's, up to the end of the run; `windowMs`: the send window.
 */
export function soakMinutes(seconds: readonly [number, SecondStats[]][], samples: readonly Sample[], startAt: number, windowMs: number): SoakMinute[] {
  const latency = byMinute(seconds, ([sec]) => sec * 1000, windowMs);
  // A sample reports the interval since the one before it: it counts in the minute of that interval's middle.
  const intervals = samples.slice(1).map((s, k) => ({ s, mid: (samples[k]!.t + s.t) / 2 - startAt })).filter(({ s }) => s.t > startAt);
  const loop = byMinute(intervals, ({ mid }) => mid, windowMs);
  const services = [...new Set(samples.flatMap((s) => Object.keys(s.services)))].sort();
  return latency.map((list, m) => {
    const h = newHist();
    let delivered = 0;
    for (const [, perWorker] of list) {
      for (const s of perWorker) {
        addEncoded(h, s.deliverHist);
        delivered += s.delivered;
      }
    }
    const { p50, p99 } = summarize(h);
    h.destroy();
    const loopP99Ms = Object.fromEntries(services.map((name) => {
      const p99s = loop[m]!.flatMap(({ s }) => s.services[name]?.loopP99Ms ?? []);
      return [name, p99s.length ? round(Math.max(...p99s), 1) : null];
    }));
    return { minute: m + 1, delivered, p50Ms: p50, p99Ms: p99, loopP99Ms };
  });
}
