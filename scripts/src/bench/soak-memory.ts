/**
 * A soak's memory verdict per server-side process: RSS at the start and the end of the measured
 * window, and the least-squares slope of RSS over its last minutes. A process that leaks grows
 * steadily under a steady load; one that does not levels off after the warm-up, so the slope over
 * the tail of the run, not the difference from the start, tells the two apart.
 */
import { MINUTE_MS } from './minute-buckets.ts';
import { round } from './results.ts';
import type { Sample } from './sampler.ts';
import { leastSquaresSlope } from './slope.ts';

/** Fewer samples than this in the fit window give no slope (two points fit any line). */
export const MIN_FIT_SAMPLES = 3;

export interface SoakMemory {
  /**
   * service: a process of the system under test (a node, sv-*); engine: what it stands on
   * (Postgres, Redis, the Kafka mock), whose RSS also grows as its caches fill with the run's data.
   */
  kind: 'service' | 'engine';
  /** RSS at the first sample of the measured window and at its last, MB. */
  startMB: number;
  endMB: number;
  /** When those samples were taken, seconds since the first scheduled send. */
  startS: number;
  endS: number;
  /** Least-squares slope of RSS over the fit window, MB per minute; null with too few samples. */
  slopeMBPerMin: number | null;
  fitSamples: number;
  /** Minutes between the first and the last sample of the fit. */
  fitMinutes: number;
  /** The slope is above the limit. */
  growing: boolean;
  /** Every sample of the measured window: [seconds since the first scheduled send, RSS MB]. */
  series: [number, number][];
}

export interface MemoryWindow {
  /** Monotonic ms (clock.ts) of the first scheduled send: the series' time origin. */
  startAt: number;
  /** The measured window, monotonic ms: after the warm-up up to the last sample of the run. */
  from: number;
  to: number;
  /** The slope is fitted over the samples of the window's last `slopeWindowMin` minutes. */
  slopeWindowMin: number;
  slopeLimitMBPerMin: number;
}

/** Client workers are the load, not the system under test. */
const isServerSide = (name: string) => !name.startsWith('client-');
const kindOf = (name: string): SoakMemory['kind'] => (/^(node-\d+|sv-)/.test(name) ? 'service' : 'engine');

export function soakMemory(samples: readonly Sample[], w: MemoryWindow): Record<string, SoakMemory> {
  const within = samples.filter((s) => s.t >= w.from && s.t <= w.to);
  const names = [...new Set(within.flatMap((s) => Object.keys(s.procs)))].filter(isServerSide).sort();
  const out: Record<string, SoakMemory> = {};
  for (const name of names) {
    // [monotonic ms, MB] for the samples that found the process.
    const points = within.flatMap((s): [number, number][] => {
      const p = s.procs[name];
      return p && p.pids > 0 ? [[s.t, p.rssBytes / 2 ** 20]] : [];
    });
    if (points.length === 0) continue;
    const last = points[points.length - 1]!;
    const fit = points.filter(([t]) => t >= last[0] - w.slopeWindowMin * MINUTE_MS);
    const perMs = fit.length >= MIN_FIT_SAMPLES ? leastSquaresSlope(fit) : null;
    const slope = perMs === null ? null : perMs * MINUTE_MS;
    out[name] = {
      kind: kindOf(name),
      startMB: round(points[0]![1], 1),
      endMB: round(last[1], 1),
      startS: round((points[0]![0] - w.startAt) / 1000, 1),
      endS: round((last[0] - w.startAt) / 1000, 1),
      slopeMBPerMin: slope === null ? null : round(slope, 3),
      fitSamples: fit.length,
      fitMinutes: round((last[0] - fit[0]![0]) / MINUTE_MS, 2),
      growing: slope !== null && slope > w.slopeLimitMBPerMin,
      series: points.map(([t, mb]) => [round((t - w.startAt) / 1000, 1), round(mb, 1)]),
    };
  }
  return out;
}
