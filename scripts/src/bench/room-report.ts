/** The room scenario's table: one column per phase (room size), its deliveries, latency over every recipient, forwards and CPU. */
import type { RoomResult } from './room-results.ts';

type Row = [string, (r: RoomResult) => number | null | undefined];

const fmt = (v: number | null | undefined) => (v === null || v === undefined ? '–' : v.toLocaleString('en-US', { maximumFractionDigits: 3 }));

export function roomTable(results: RoomResult[]): string {
  const rows: Row[] = [
    ['members', (r) => r.members], ['members connected', (r) => r.connections.connected], ['connect time (s)', (r) => r.connections.connectSeconds],
    ['offered msgs/s', (r) => r.offeredRate], ['sent', (r) => r.counts.sent], ['acked', (r) => r.counts.acked], ['errors', (r) => r.counts.errors],
    ['unanswered', (r) => r.counts.unanswered], ['deliveries owed (acked × other members)', (r) => r.counts.owed],
    ['delivered', (r) => r.counts.delivered], ['missing', (r) => r.counts.missing], ['duplicates', (r) => r.counts.duplicates],
    ['members dropped', (r) => r.counts.dropped],
    ['deliveries/s', (r) => r.deliveriesPerSec],
    ['send→deliver p50 (ms, every recipient)', (r) => r.sendToDeliver.p50], ['send→deliver p99 (ms)', (r) => r.sendToDeliver.p99],
    ['send→deliver max (ms)', (r) => r.sendToDeliver.max], ['send→ack p50 (ms)', (r) => r.sendToAck.p50], ['send→ack p99 (ms)', (r) => r.sendToAck.p99],
    ['forward requests', (r) => r.forwardRequests], ['forward requests per message', (r) => r.forwardRequestsPerMessage], ['other nodes', (r) => r.otherNodes],
  ];
  const names = [...new Set(results.flatMap((r) => Object.keys(r.processes)))].sort();
  for (const n of names) {
    rows.push([`${n} CPU (%)`, (r) => r.processes[n]?.cpuPct], [`${n} RSS (MB)`, (r) => r.processes[n]?.rssMB]);
    if (results.some((r) => r.eventLoop[n])) rows.push([`${n} event-loop p99 median (ms)`, (r) => r.eventLoop[n]?.p99MedianMs]);
  }
  return [
    `| metric | ${results.map((r) => r.label).join(' | ')} |`,
    `|---|${results.map(() => '---:|').join('')}`,
    ...rows.map(([name, get]) => `| ${name} | ${results.map((r) => fmt(get(r))).join(' | ')} |`),
  ].join('\n');
}
