/** The bench's side-by-side table: the mesh first, then one ratio column per other run. */
import { strict as assert } from 'node:assert';
import { markdownTable, ratio } from '../src/bench/report.ts';
import type { RunResult } from '../src/bench/results.ts';

function run(label: string, deliveredPerSec: number, p99: number, cpuPerMessageUs: number, procs: string[]): RunResult {
  const latency = { count: 1000, p50: p99 / 4, p95: p99 / 2, p99, max: p99 * 2 };
  return {
    label,
    connections: { requested: 200, connected: 200, failed: 0, connectSeconds: 1 },
    offeredRate: 1000,
    windowS: 10,
    counts: { sent: 10_000, acked: 10_000, errors: 0, unanswered: 0, delivered: 10_000, lost: 0, duplicated: 0, ackedToOffline: 0, deliveredWithoutAck: 0 },
    deliveredPerSec,
    sendToDeliver: latency,
    sendToAck: latency,
    processes: Object.fromEntries(procs.map((p) => [p, { cpuSec: 1, rssMB: 100, cpuPct: 10 }])),
    cpuPerMessageUs,
    eventLoop: {},
    timeline: [],
  };
}

/** The table's cells of the row named `metric`, after the metric's own cell. */
function cells(table: string, metric: string): string[] {
  const line = table.split('\n').find((l) => l.startsWith(`| ${metric} |`));
  assert.ok(line, `no row ${metric} in:\n${table}`);
  return line.split('|').slice(2, -1).map((c) => c.trim());
}

describe('bench report table', () => {
  const mesh = run('mesh', 1000, 12, 400, ['node-0', 'node-1', 'sv-discover', 'sv-persist', 'postgres']);
  const socketio = run('socketio', 1000, 6, 200, ['node-0', 'node-1', 'redis']);
  const baseline = run('baseline', 1000, 3, 100, ['node-0', 'node-1']);

  it('puts the mesh, the peer and the relay side by side with the mesh\'s ratio to each', () => {
    const table = markdownTable([mesh, socketio, baseline]);
    const [head, sep] = table.split('\n');
    assert.equal(head, '| metric | mesh | socketio | baseline | mesh / socketio | mesh / baseline |');
    assert.equal(sep, '|---|---:|---:|---:|---:|---:|');
    assert.deepEqual(cells(table, 'send→deliver p99 (ms)'), ['12', '6', '3', '2.00×', '4.00×']);
    assert.deepEqual(cells(table, 'service CPU per msg (µs)'), ['400', '200', '100', '2.00×', '4.00×']);
    assert.deepEqual(cells(table, 'delivered msgs/s'), ['1,000', '1,000', '1,000', '1.00×', '1.00×']);
  });

  it('shows a process one run does not have as – with no ratio', () => {
    const table = markdownTable([mesh, socketio, baseline]);
    assert.deepEqual(cells(table, 'redis CPU (%)'), ['–', '10', '–', '', '']);
    assert.deepEqual(cells(table, 'postgres CPU (%)'), ['10', '–', '–', '', '']);
  });

  it('keeps the two-run table of --baseline and the one-run table of the mesh alone', () => {
    assert.equal(markdownTable([mesh, baseline]).split('\n')[0], '| metric | mesh | baseline | mesh / baseline |');
    const alone = markdownTable([mesh]);
    assert.equal(alone.split('\n')[0], '| metric | mesh |');
    assert.deepEqual(cells(alone, 'send→deliver p99 (ms)'), ['12']);
  });

  it('gives no ratio over zero or a missing value', () => {
    assert.equal(ratio(5, 2), '2.50×');
    assert.equal(ratio(0, 0), '');
    assert.equal(ratio(1, null), '');
    assert.equal(ratio(undefined, 1), '');
  });
});
