/**
 * The soak scenario's summary of one run: memory per server-side process (soak-memory.ts) and
 * the per-minute latency and event-loop view (soak-minutes.ts), from what the sampler and the
 * workers recorded over a long steady load.
 */
import { soakMemory, type SoakMemory } from './soak-memory.ts';
import { soakMinutes, type SoakMinute } from './soak-minutes.ts';
import type { Sample } from './sampler.ts';
import type { SecondStats } from './worker-protocol.ts';

export interface SoakOptions {
  /** A process whose RSS slope is above this is reported as growing, MB/min. */
  slopeLimitMBPerMin: number;
  /** The slope is fitted over the run's last minutes, this many. */
  slopeWindowMin: number;
}

export interface SoakResult extends SoakOptions {
  sampleIntervalS: number;
  memory: Record<string, SoakMemory>;
  minutes: SoakMinute[];
}

export interface SoakInput {
  options: SoakOptions;
  sampleIntervalS: number;
  /** The sampler's samples up to and including `end`, the last one of the run. */
  samples: readonly Sample[];
  end: Sample;
  /** Monotonic ms of the first scheduled send; the warm-up and the send window, s. */
  startAt: number;
  warmupS: number;
  durationS: number;
  seconds: readonly [number, SecondStats[]][];
}

export function soakSummary(i: SoakInput): SoakResult {
  const samples = i.samples.filter((s) => s.t <= i.end.t);
  return {
    ...i.options,
    sampleIntervalS: i.sampleIntervalS,
    memory: soakMemory(samples, {
      startAt: i.startAt, from: i.startAt + i.warmupS * 1000, to: i.end.t,
      ...i.options,
    }),
    minutes: soakMinutes(i.seconds, samples, i.startAt, i.durationS * 1000),
  };
}
