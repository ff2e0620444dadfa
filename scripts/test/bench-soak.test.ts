/** The soak summary: memory verdicts from RSS samples, the per-minute table, the verdict line. */
import { strict as assert } from 'node:assert';
import { encodeHist, newHist, recordMs } from '../src/bench/hist.ts';
import type { Sample } from '../src/bench/sampler.ts';
import { soakMemory } from '../src/bench/soak-memory.ts';
import { soakMinutes } from '../src/bench/soak-minutes.ts';
import { soakTables, soakVerdict } from '../src/bench/soak-report.ts';
import type { SoakResult } from '../src/bench/soak.ts';
import type { SecondStats } from '../src/bench/worker-protocol.ts';

const MB = 2 ** 20;
const START = 1_000_000;

/** A sample `s` seconds after START with each process's RSS in MB (a negative RSS: the process is gone). */
function sample(s: number, rss: Record<string, number>, loopP99Ms: Record<string, number> = {}): Sample {
  return {
    t: START + s * 1000,
    procs: Object.fromEntries(Object.entries(rss).map(([n, mb]) => [n, { cpuSec: 0, rssBytes: Math.max(0, mb) * MB, pids: mb < 0 ? 0 : 1 }])),
    services: Object.fromEntries(Object.entries(loopP99Ms).map(([n, ms]) => [n, { loopP99Ms: ms }])),
  };
}

/** Samples every 10 s from 0 to `seconds`, RSS of each process as a function of the second. */
function series(seconds: number, rss: Record<string, (s: number) => number>): Sample[] {
  return Array.from({ length: seconds / 10 + 1 }, (_, k) => sample(k * 10, Object.fromEntries(Object.entries(rss).map(([n, f]) => [n, f(k * 10)]))));
}

const window = (toS: number) => ({ startAt: START, from: START + 3000, to: START + toS * 1000, slopeWindowMin: 5, slopeLimitMBPerMin: 1 });

describe('soak memory', () => {
  it('fits the slope in MB/min and flags a process growing faster than the limit', () => {
    const samples = series(600, { 'node-0': () => 90, 'sv-persist': (s) => 120 + (2 * s) / 60, postgres: (s) => 200 + (0.5 * s) / 60 });
    const m = soakMemory(samples, window(600));
    assert.deepEqual(Object.keys(m), ['node-0', 'postgres', 'sv-persist']);
    assert.equal(m['node-0']!.slopeMBPerMin, 0);
    assert.equal(m['node-0']!.growing, false);
    assert.equal(m['sv-persist']!.slopeMBPerMin, 2);
    assert.equal(m['sv-persist']!.growing, true);
    assert.equal(m.postgres!.slopeMBPerMin, 0.5);
    assert.equal(m.postgres!.growing, false);
    assert.deepEqual(Object.values(m).map((p) => p.kind), ['service', 'engine', 'service']);
  });

  it('starts after the warm-up, ends at the window\'s last sample and fits only its last minutes', () => {
    // Climbs 30 MB/min for the first 4 minutes, then flat: a warm-up plateau, not a leak.
    const samples = series(600, { 'node-0': (s) => 60 + Math.min(s, 240) / 2 });
    const m = soakMemory(samples, window(600))['node-0']!;
    assert.equal(m.startS, 10);
    assert.equal(m.startMB, 65);
    assert.equal(m.endS, 600);
    assert.equal(m.endMB, 180);
    assert.equal(m.slopeMBPerMin, 0);
    assert.equal(m.growing, false);
    assert.equal(m.fitSamples, 31);
    assert.equal(m.fitMinutes, 5);
    assert.equal(m.series.length, 60);
    assert.deepEqual(m.series[0], [10, 65]);
    // Samples after the window (taken while the workers hand in their results) are not counted.
    const later = [...samples, sample(700, { 'node-0': 900 })];
    assert.equal(soakMemory(later, window(600))['node-0']!.endMB, 180);
  });

  it('fits over the whole window when the run is shorter than the fit window', () => {
    const m = soakMemory(series(120, { 'node-0': (s) => 50 + (3 * s) / 60 }), window(120))['node-0']!;
    assert.equal(m.slopeMBPerMin, 3);
    assert.equal(m.fitSamples, 12);
    assert.equal(m.fitMinutes, 1.83);
  });

  it('leaves out the client workers and the samples that did not find a process, and gives no slope from two samples', () => {
    const samples = series(30, { 'client-0': (s) => 10 + s, 'node-0': (s) => (s === 20 ? -1 : 40), 'kafka-mock': () => -1 });
    const m = soakMemory(samples, window(30));
    assert.deepEqual(Object.keys(m), ['node-0']);
    assert.equal(m['node-0']!.fitSamples, 2);
    assert.equal(m['node-0']!.slopeMBPerMin, null);
    assert.equal(m['node-0']!.growing, false);
  });
});

/** One worker's second `sec`: `delivered` deliveries of `ms` each. */
function second(sec: number, delivered: number, ms: number): [number, SecondStats[]] {
  const h = newHist();
  for (let k = 0; k < delivered; k++) recordMs(h, ms);
  const s = { sec, sent: delivered, acked: delivered, errors: 0, delivered, deliverHist: encodeHist(h) };
  h.destroy();
  return [sec, [s, { ...s, delivered: 0, deliverHist: encodeHist(newHist()) }]];
}

describe('soak minutes', () => {
  it('counts deliveries and their percentiles by arrival minute, the drain in the last minute', () => {
    const seconds = [second(-1, 5, 900), second(0, 10, 2), second(59, 10, 4), second(60, 20, 8), second(119, 1, 50), second(121, 3, 100)];
    const minutes = soakMinutes(seconds, [], START, 120_000);
    assert.deepEqual(minutes.map((m) => [m.minute, m.delivered]), [[1, 20], [2, 24]]);
    // The histograms keep 3 significant digits: whole milliseconds are exact enough.
    assert.deepEqual(minutes.map((m) => [Math.round(m.p50Ms!), Math.round(m.p99Ms!)]), [[2, 4], [8, 100]]);
  });

  it('takes each service\'s worst event-loop p99 among the intervals of a minute, by each interval\'s middle', () => {
    const samples = [
      sample(0, {}, { 'node-0': 999 }), // the connect phase, before the first send
      sample(10, {}, { 'node-0': 3, 'sv-persist': 1 }),
      sample(50, {}, { 'node-0': 7 }),
      sample(65, {}, { 'node-0': 40 }), // covers 50–65 s: its middle is in the first minute
      sample(80, {}, { 'node-0': 5, 'sv-persist': 2 }),
    ];
    const minutes = soakMinutes([], samples, START, 120_000);
    assert.deepEqual(minutes.map((m) => m.loopP99Ms), [{ 'node-0': 40, 'sv-persist': 1 }, { 'node-0': 5, 'sv-persist': 2 }]);
    assert.deepEqual(minutes.map((m) => [m.delivered, m.p50Ms, m.p99Ms]), [[0, null, null], [0, null, null]]);
  });
});

describe('soak report', () => {
  const memory = (slopeMBPerMin: number | null, growing: boolean, kind: 'service' | 'engine' = 'service') => ({ kind, startMB: 90, endMB: 95, startS: 10, endS: 600, slopeMBPerMin, fitSamples: 31, fitMinutes: 5, growing, series: [] });
  const soak = (mem: SoakResult['memory']): SoakResult => ({
    slopeLimitMBPerMin: 1, slopeWindowMin: 5, sampleIntervalS: 10, memory: mem,
    minutes: [{ minute: 1, delivered: 60_000, p50Ms: 1.25, p99Ms: 9.5, loopP99Ms: { 'node-0': 12.3, 'sv-persist': null } }],
  });

  it('says flat when no process grows faster than the limit', () => {
    assert.equal(soakVerdict('mesh', soak({ 'node-0': memory(0.2, false), 'sv-persist': memory(-0.4, false) })),
      'mesh memory: flat: every service\'s RSS slope ≤ 1 MB/min over the last 5 min');
  });

  it('names each growing process with its slope, and those without a slope', () => {
    assert.equal(soakVerdict('mesh', soak({ 'node-0': memory(0.2, false), 'sv-persist': memory(2.5, true), redis: memory(null, false, 'engine') })),
      'mesh memory: GROWING: sv-persist +2.50 MB/min (limit 1 MB/min, fit over the last 5 min); too few samples for a slope: redis');
  });

  it('judges the services, and names a growing engine after the verdict', () => {
    assert.equal(soakVerdict('mesh', soak({ 'node-0': memory(0.2, false), postgres: memory(31.5, true, 'engine') })),
      'mesh memory: flat: every service\'s RSS slope ≤ 1 MB/min over the last 5 min; engines growing (their caches fill with the run\'s data): postgres +31.50 MB/min');
    assert.match(soakVerdict('mesh', soak({ 'node-0': memory(null, false) })), /no verdict: too few samples/);
  });

  it('tabulates memory per process and latency and loop delay per minute', () => {
    const lines = soakTables('mesh', soak({ 'sv-persist': memory(2.5, true) })).split('\n');
    assert.ok(lines.includes('| sv-persist | service | 90 (10 s) | 95 (600 s) | +2.50 | 5 / 31 | **GROWING** |'), lines.join('\n'));
    assert.ok(lines.includes('| minute | delivered | send→deliver p50 (ms) | p99 (ms) | node-0 loop p99 (ms) | sv-persist loop p99 (ms) |'), lines.join('\n'));
    assert.ok(lines.includes('| 1 | 60,000 | 1.3 | 9.5 | 12.3 | – |'), lines.join('\n'));
  });
});
