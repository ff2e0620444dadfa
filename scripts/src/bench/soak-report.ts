/**
 * The soak's part of the bench output: the memory table with each process's RSS slope and
 * verdict, the per-minute table, and one verdict line for the whole run, printed last so a
 * growing process is the first thing read.
 */
import { MIN_FIT_SAMPLES } from './soak-memory.ts';
import type { SoakResult } from './soak.ts';

const num = (v: number | null, digits = 1) => (v === null ? '–' : v.toLocaleString('en-US', { maximumFractionDigits: digits }));
const signed = (v: number | null) => (v === null ? '–' : `${v >= 0 ? '+' : '−'}${Math.abs(v).toFixed(2)}`);
/** A markdown table, text in the first column and in the `textColumns` after it, numbers right-aligned. */
const table = (head: string[], rows: string[][], textColumns: number[] = []) => [
  `| ${head.join(' | ')} |`, `|${head.map((_, k) => (k === 0 || textColumns.includes(k) ? '---|' : '---:|')).join('')}`, ...rows.map((r) => `| ${r.join(' | ')} |`),
].join('\n');

export function soakTables(label: string, s: SoakResult): string {
  const memory = table(['process', 'kind', 'RSS start (MB)', 'RSS end (MB)', 'slope (MB/min)', 'fit (min / samples)', 'verdict'],
    Object.entries(s.memory).map(([name, m]) => [
      name, m.kind, `${num(m.startMB)} (${num(m.startS, 0)} s)`, `${num(m.endMB)} (${num(m.endS, 0)} s)`, signed(m.slopeMBPerMin),
      `${num(m.fitMinutes)} / ${m.fitSamples}`, m.slopeMBPerMin === null ? 'too few samples' : m.growing ? '**GROWING**' : 'flat',
    ]), [1, 6]);
  const services = [...new Set(s.minutes.flatMap((m) => Object.keys(m.loopP99Ms)))];
  const minutes = table(['minute', 'delivered', 'send→deliver p50 (ms)', 'p99 (ms)', ...services.map((n) => `${n} loop p99 (ms)`)],
    s.minutes.map((m) => [String(m.minute), num(m.delivered, 0), num(m.p50Ms), num(m.p99Ms), ...services.map((n) => num(m.loopP99Ms[n] ?? null))]));
  return [
    `${label} soak: memory (RSS over the measured window; slope: least-squares fit over the last ${s.slopeWindowMin} min, one sample every ${s.sampleIntervalS} s; growing above ${s.slopeLimitMBPerMin} MB/min)`,
    '', memory, '',
    `${label} soak: per minute (deliveries by the minute they arrived in, the last minute with the drain after the sends; event-loop p99: the worst ${s.sampleIntervalS} s interval of the minute)`,
    '', minutes,
  ].join('\n');
}

/**
 * One line: flat, or which processes grow and how fast. It judges the services; an engine's
 * growth (Postgres' shared buffers filling, summed over its backends) is named after it.
 */
export function soakVerdict(label: string, s: SoakResult): string {
  const entries = Object.entries(s.memory);
  const fitted = entries.filter(([, m]) => m.slopeMBPerMin !== null);
  const unfit = entries.filter(([, m]) => m.slopeMBPerMin === null).map(([n]) => n);
  if (fitted.length === 0) return `${label} memory: no verdict: too few samples in the run for a slope (at least ${MIN_FIT_SAMPLES} are needed)`;
  const fitMin = num(Math.max(...fitted.map(([, m]) => m.fitMinutes)));
  const growing = (kind: 'service' | 'engine') => fitted.filter(([, m]) => m.kind === kind && m.growing).map(([n, m]) => `${n} ${signed(m.slopeMBPerMin)} MB/min`);
  const services = growing('service');
  const engines = growing('engine');
  return [
    services.length
      ? `${label} memory: GROWING: ${services.join(', ')} (limit ${s.slopeLimitMBPerMin} MB/min, fit over the last ${fitMin} min)`
      : `${label} memory: flat: every service's RSS slope ≤ ${s.slopeLimitMBPerMin} MB/min over the last ${fitMin} min`,
    ...(engines.length ? [`engines growing (their caches fill with the run's data): ${engines.join(', ')}`] : []),
    ...(unfit.length ? [`too few samples for a slope: ${unfit.join(', ')}`] : []),
  ].join('; ');
}
