/** The presence scenario's table: churn, frames and their accounting, latency, CPU and RSS per process. */
import type { PresenceResult } from './presence-load.ts';

const fmt = (v: number | null | undefined) => (v === null || v === undefined ? '–' : v.toLocaleString('en-US', { maximumFractionDigits: 3 }));

export function presenceTable(r: PresenceResult): string {
  const c = r.counts;
  const rows: [string, number | null | undefined][] = [
    ['connections', r.connections.connected], ['connect time (s)', r.connections.connectSeconds],
    ['churn offered (closes/s)', r.churnRate], ['closed', c.closed], ['reopened', c.reopened], ['reopen failed', c.reopenFailed],
    ['dropped (not by the churn)', c.dropped], ['changes recorded', c.changes], ['watch answers', c.answers],
    ['change frames', c.frames], ['frames expected (watchers connected at the change)', c.expected],
    ['frames matched to a change', c.matched], ['of them: went offline', c.matchedOffline], ['of them: came online', c.matched - c.matchedOffline], ['frames matching no change', c.unmatched],
    ['presence frames/s', r.framesPerSec],
    ['change→frame p50 (ms)', r.latency.p50], ['change→frame p95 (ms)', r.latency.p95],
    ['change→frame p99 (ms)', r.latency.p99], ['change→frame max (ms)', r.latency.max],
  ];
  for (const [n, p] of Object.entries(r.processes).sort(([a], [b]) => a.localeCompare(b))) {
    rows.push([`${n} CPU (%)`, p.cpuPct], [`${n} RSS (MB)`, p.rssMB]);
    const loop = r.eventLoop[n];
    if (loop) rows.push([`${n} event-loop p99 median (ms)`, loop.p99MedianMs]);
  }
  return [`| metric | ${r.label} |`, '|---|---:|', ...rows.map(([k, v]) => `| ${k} | ${fmt(v)} |`)].join('\n');
}
