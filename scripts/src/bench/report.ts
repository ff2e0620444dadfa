/**
 * Output of a bench run: a markdown table (the mesh, then the peer product and the baseline when
 * run, with the mesh's ratio to each), the JSON file and a hand-written SVG chart (delivered
 * msgs/s and p99 send→deliver per second, each run one line).
 */
import type { RunResult } from './results.ts';

type Row = [string, (r: RunResult) => number | null | undefined, string?];

const fmt = (v: number | null | undefined, unit = '') => (v === null || v === undefined || Number.isNaN(v) ? '–' : `${v.toLocaleString('en-US', { maximumFractionDigits: 3 })}${unit}`);

function rows(results: RunResult[]): Row[] {
  const base: Row[] = [
    ['connections', (r) => r.connections.connected],
    ['connect time (s)', (r) => r.connections.connectSeconds],
  ];
  if (results[0]!.counts) {
    base.push(
      ['offered msgs/s', (r) => r.offeredRate],
      ['delivered msgs/s', (r) => r.deliveredPerSec],
      ['sent', (r) => r.counts?.sent], ['acked', (r) => r.counts?.acked], ['errors', (r) => r.counts?.errors],
      ['errors during the warm-up', (r) => r.errorsInWarmup],
      ['unanswered', (r) => r.counts?.unanswered], ['delivered', (r) => r.counts?.delivered],
      ['lost', (r) => r.counts?.lost], ['duplicated', (r) => r.counts?.duplicated],
      ['send→deliver p50 (ms)', (r) => r.sendToDeliver?.p50], ['send→deliver p95 (ms)', (r) => r.sendToDeliver?.p95],
      ['send→deliver p99 (ms)', (r) => r.sendToDeliver?.p99], ['send→deliver max (ms)', (r) => r.sendToDeliver?.max],
      ['send→ack p50 (ms)', (r) => r.sendToAck?.p50], ['send→ack p99 (ms)', (r) => r.sendToAck?.p99], ['send→ack max (ms)', (r) => r.sendToAck?.max],
      ['persist lag p50 (ms)', (r) => r.persistLag?.p50], ['persist lag p99 (ms)', (r) => r.persistLag?.p99],
      // Sampled acked messages not found in Postgres by the end of the grace period.
      ['persist lag samples never stored', (r) => r.persistLag?.unseen],
      ['service CPU per msg (µs)', (r) => r.cpuPerMessageUs],
    );
  }
  const names = [...new Set(results.flatMap((r) => Object.keys(r.processes)))].sort();
  for (const n of names) {
    base.push([`${n} CPU (%)`, (r) => r.processes[n]?.cpuPct], [`${n} RSS (MB)`, (r) => r.processes[n]?.rssMB]);
    if (results[0]!.rssPerConnKB) base.push([`${n} RSS per connection (KB)`, (r) => r.rssPerConnKB?.[n]]);
    if (results.some((r) => r.eventLoop[n])) base.push([`${n} event-loop p99 median / max (ms)`, (r) => r.eventLoop[n]?.p99MedianMs], [`${n} event-loop max (ms)`, (r) => r.eventLoop[n]?.maxMs]);
  }
  return base;
}

/** `a / b` as "1.23×", or '' when either is missing or b is 0. */
export function ratio(a: number | null | undefined, b: number | null | undefined): string {
  return typeof a === 'number' && typeof b === 'number' && b !== 0 && !Number.isNaN(a) && !Number.isNaN(b) ? `${(a / b).toFixed(2)}×` : '';
}

/**
 * One markdown table, the runs side by side (the mesh first), then one ratio column per other
 * run: mesh / socketio, mesh / baseline.
 */
export function markdownTable(results: RunResult[]): string {
  const [first, ...others] = results;
  const head = `| metric | ${results.map((r) => r.label).join(' | ')} |${others.map((r) => ` ${first!.label} / ${r.label} |`).join('')}`;
  const sep = `|---|${results.map(() => '---:|').join('')}${others.map(() => '---:|').join('')}`;
  const lines = rows(results).map(([name, get]) => {
    const vals = results.map(get);
    return `| ${name} | ${vals.map((v) => fmt(v)).join(' | ')} |${vals.slice(1).map((v) => ` ${ratio(vals[0], v)} |`).join('')}`;
  });
  return [head, sep, ...lines].join('\n');
}

const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd'];
const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');

/** Two stacked panels over seconds: delivered msgs/s (dashed: errors/s, i.e. refusals), and p99 send→deliver (ms, log scale). */
export function svgChart(title: string, results: RunResult[]): string {
  const W = 760, H = 220, L = 70, R = 20, T = 30, gap = 50;
  const maxSec = Math.max(1, ...results.flatMap((r) => r.timeline.map((t) => t.sec + 1)));
  const x = (sec: number) => L + ((sec + 0.5) / maxSec) * (W - L - R);
  const panel = (top: number, label: string, values: (r: RunResult) => [number, number][], log: boolean, dashed?: (r: RunResult) => [number, number][]) => {
    const all = results.flatMap((r) => [...values(r), ...(dashed?.(r) ?? [])].map(([, v]) => v)).filter((v) => v > 0);
    const hi = Math.max(1, ...all);
    const lo = log ? Math.max(0.1, Math.min(...all, hi) / 1.5) : 0;
    const y = (v: number) => top + H - (log ? (Math.log10(Math.max(v, lo)) - Math.log10(lo)) / (Math.log10(hi * 1.1) - Math.log10(lo)) : v / (hi * 1.1)) * H;
    const ticks = log ? [lo, Math.sqrt(lo * hi), hi] : [0, hi / 2, hi];
    const parts = [`<text x="${L}" y="${top - 8}" font-size="13">${esc(label)}</text>`,
      `<rect x="${L}" y="${top}" width="${W - L - R}" height="${H}" fill="none" stroke="#999"/>`,
      ...ticks.map((t) => `<text x="${L - 6}" y="${y(t) + 4}" font-size="11" text-anchor="end">${t >= 100 ? Math.round(t).toLocaleString('en-US') : t.toFixed(1)}</text><line x1="${L}" x2="${W - R}" y1="${y(t)}" y2="${y(t)}" stroke="#eee"/>`)];
    const line = (pairs: [number, number][], k: number, dash: string) => {
      const pts = pairs.map(([s, v]) => `${x(s).toFixed(1)},${y(v).toFixed(1)}`).join(' ');
      parts.push(`<polyline fill="none" stroke="${COLORS[k % COLORS.length]}" stroke-width="2"${dash} points="${pts}"/>`);
    };
    results.forEach((r, k) => {
      line(values(r), k, '');
      const d = dashed?.(r);
      if (d?.some(([, v]) => v > 0)) line(d, k, ' stroke-dasharray="5,4"');
    });
    return parts.join('\n');
  };
  const top2 = T + H + gap;
  const height = top2 + H + 40;
  const legend = results.map((r, k) => `<text x="${L + 10 + k * 160}" y="${height - 8}" font-size="12" fill="${COLORS[k % COLORS.length]}">■ ${esc(r.label)}</text>`).join('');
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${height}" font-family="sans-serif">
<rect width="100%" height="100%" fill="white"/>
<text x="${W / 2}" y="16" font-size="14" text-anchor="middle">${esc(title)}</text>
${panel(T + 10, 'delivered msgs/s (dashed: errors/s, the sends refused)', (r) => r.timeline.map((t) => [t.sec, t.delivered]), false,
    (r) => r.timeline.map((t) => [t.sec, t.errors]))}
${panel(top2, 'p99 send→deliver (ms, log scale)', (r) => r.timeline.filter((t) => t.p99Ms !== null).map((t) => [t.sec, t.p99Ms!]), true)}
<text x="${W - R}" y="${height - 8}" font-size="11" text-anchor="end">seconds since the first scheduled send</text>
${legend}
</svg>
`;
}
