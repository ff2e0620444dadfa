/**
 * Once a second: CPU seconds and RSS of every process of the target (from /proc, or from each
 * service's /metrics process_* metrics for --target), and each service's /metrics: event-loop delay
 * (prom-client's monitorEventLoopDelay histogram, which it resets at every scrape, so each sample
 * covers the second since the previous one), connections, rows inserted.
 */
import { nowMs } from './clock.ts';
import { sampleGroups, type ProcGroup, type ProcSample } from './proc-stats.ts';
import { scrape } from './scrape.ts';
import type { Target } from './targets.ts';

export interface Sample {
  t: number;
  procs: Record<string, ProcSample>;
  /** Per service: event-loop delay p99 and max over the last interval (ms), connections, rows. */
  services: Record<string, { loopP99Ms?: number; loopMaxMs?: number; connections?: number; rowsInserted?: number; persistLagS?: number }>;
}

export class Sampler {
  readonly samples: Sample[] = [];
  private timer: NodeJS.Timeout | undefined;
  private busy = false;

  constructor(private readonly target: Target, private readonly extraGroups: ProcGroup[] = []) {}

  private endpoints(): { name: string; url: string }[] {
    return [...this.target.nodeUrls.map((url, i) => ({ name: `node-${i}`, url })), ...this.target.serviceUrls];
  }

  async sample(): Promise<Sample> {
    const procs = sampleGroups([...this.target.groups, ...this.extraGroups]);
    const services: Sample['services'] = {};
    await Promise.all(this.endpoints().map(async ({ name, url }) => {
      const m = await scrape(url);
      if (!m) return;
      const ms = (k: string) => (m.has(k) ? m.get(k)! * 1000 : undefined);
      services[name] = {
        loopP99Ms: ms('nodejs_eventloop_lag_p99_seconds'),
        loopMaxMs: ms('nodejs_eventloop_lag_max_seconds'),
        connections: m.get('chat_connections'),
        rowsInserted: m.get('chat_persist_rows_inserted_total'),
        persistLagS: m.get('chat_persist_lag_seconds'),
      };
      // A target we did not start: its process metrics stand in for /proc.
      if (!procs[name] && m.has('process_cpu_seconds_total')) {
        procs[name] = { cpuSec: m.get('process_cpu_seconds_total')!, rssBytes: m.get('process_resident_memory_bytes') ?? 0, pids: 1 };
      }
    }));
    const s = { t: nowMs(), procs, services };
    this.samples.push(s);
    return s;
  }

  latest(): Sample {
    return this.samples[this.samples.length - 1]!;
  }

  start(periodMs = 1000): void {
    this.timer = setInterval(() => {
      if (this.busy) return;
      this.busy = true;
      void this.sample().finally(() => { this.busy = false; });
    }, periodMs);
  }

  stop(): void {
    clearInterval(this.timer);
  }
}
