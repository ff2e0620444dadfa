/**
 * `npm run bench -- --scenario <name> [options]`: starts the mesh (or uses --target), drives it with
 * client workers at a fixed open-loop rate, then optionally the peer product (--peer socketio) and
 * the bare ws relay (--baseline) with the same load and as many servers, prints them side by side
 * and writes bench-results/<timestamp>-<scenario>.json and .svg.
 * Options and scenarios: docs/benchmarks.md.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { stopStartedServices } from '@chat/shared/started-services';
import { runLoad, type LoadOptions } from './load.ts';
import { runDrain } from './persist-drain.ts';
import { machineInfo } from './proc-stats.ts';
import { Progress } from './progress.ts';
import { runPresence, type PresenceOptions } from './presence-load.ts';
import { presenceTable } from './presence-report.ts';
import { startSocketIo } from './peer-socketio.ts';
import { markdownTable, svgChart } from './report.ts';
import { runRoomPhase } from './room-load.ts';
import { roomTable } from './room-report.ts';
import { soakTables, soakVerdict } from './soak-report.ts';
import type { RunResult } from './results.ts';
import { externalTarget, startMesh, startRelay, type Target } from './targets.ts';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

/**
 * Per scenario: nodes, connections, msgs/s (0 = idle; presence: connections closed and opened
 * again per second), cross-node share, seconds; a soak samples every 10 s.
 */
const SCENARIOS: Record<string, { nodes: number; conns: number; rate: number; cross: number; duration: number; sampleS?: number; soak?: true }> = {
  idle: { nodes: 6, conns: 10_000, rate: 0, cross: 0, duration: 10 },
  'same-node': { nodes: 2, conns: 1000, rate: 5000, cross: 0, duration: 15 },
  'cross-node': { nodes: 2, conns: 1000, rate: 5000, cross: 1, duration: 15 },
  mixed: { nodes: 4, conns: 4000, rate: 3000, cross: 0.5, duration: 15 },
  persist: { nodes: 0, conns: 0, rate: 0, cross: 0, duration: 0 },
  soak: { nodes: 2, conns: 1000, rate: 1000, cross: 1, duration: 600, sampleS: 10, soak: true },
  presence: { nodes: 2, conns: 20_000, rate: 200, cross: 0, duration: 30 },
  // Phases of --members and --rate taken in pairs: a room of 1,000 at 10 msgs/s, then of 10,000 at 1.
  room: { nodes: 2, conns: 0, rate: 0, cross: 0, duration: 15 },
};

const { values: a } = parseArgs({
  options: {
    scenario: { type: 'string' }, target: { type: 'string' }, baseline: { type: 'boolean', default: false }, peer: { type: 'string' },
    nodes: { type: 'string' }, conns: { type: 'string' }, rate: { type: 'string' }, duration: { type: 'string' },
    warmup: { type: 'string' }, cross: { type: 'string' }, workers: { type: 'string' }, addresses: { type: 'string' },
    body: { type: 'string' }, grace: { type: 'string' }, kafka: { type: 'boolean', default: false }, partitions: { type: 'string' },
    direct: { type: 'boolean', default: false }, messages: { type: 'string' }, 'lag-sample': { type: 'string' },
    out: { type: 'string' }, quiet: { type: 'boolean', default: false }, label: { type: 'string' },
    'sample-interval': { type: 'string' }, 'slope-limit': { type: 'string' }, 'slope-window': { type: 'string' },
    members: { type: 'string' },
  },
  strict: true,
});

function usage(msg: string): never {
  process.stderr.write(`${msg}\nusage: npm run bench -- --scenario ${Object.keys(SCENARIOS).join('|')} [--nodes N] [--conns N] [--rate MSGS_PER_S] [--duration S] [--cross 0..1] [--members N,N (room)] [--peer ${Object.keys(PEERS).join('|')}] [--baseline] [--kafka] [--target URL,URL] [--sample-interval S] [--slope-limit MB_PER_MIN] [--slope-window MIN] (see docs/benchmarks.md)\n`);
  process.exit(2);
}

/** Peer products --peer runs with the mesh's load, on as many servers as the mesh has nodes. */
const PEERS: Record<string, (servers: number) => Promise<Target>> = { socketio: startSocketIo };

const scenario = a.scenario ?? usage('--scenario is required');
const peer = a.peer === undefined ? undefined : Object.hasOwn(PEERS, a.peer) ? PEERS[a.peer]! : usage(`unknown --peer ${a.peer}`);
const preset = SCENARIOS[scenario] ?? usage(`unknown scenario ${scenario}`);
const num = (v: string | undefined, d: number) => (v === undefined ? d : Number(v));
const positive = (flag: 'sample-interval' | 'slope-limit' | 'slope-window', d: number) => {
  const v = num(a[flag], d);
  return Number.isFinite(v) && v > 0 ? v : usage(`--${flag} must be a number above 0, not ${a[flag]}`);
};
const conns = num(a.conns, preset.conns);
const workers = num(a.workers, Math.max(2, Math.ceil(conns / 15_000)));
const addressCount = Math.max(1, Math.ceil(conns / 20_000) + 1);
const load: LoadOptions = {
  scenario, conns, workers,
  addresses: a.addresses?.split(',') ?? Array.from({ length: addressCount }, (_, i) => `127.0.0.${i + 2}`),
  rate: num(a.rate, preset.rate),
  durationS: num(a.duration, preset.duration),
  warmupS: num(a.warmup, Math.min(3, Math.floor(num(a.duration, preset.duration) / 5))),
  cross: num(a.cross, preset.cross),
  bodyBytes: num(a.body, 64),
  graceS: num(a.grace, 10),
  lagSampleEvery: num(a['lag-sample'], 50),
  connectConcurrency: 200,
  sampleIntervalS: positive('sample-interval', preset.sampleS ?? 1),
  soak: preset.soak && { slopeLimitMBPerMin: positive('slope-limit', 1), slopeWindowMin: positive('slope-window', 5) },
};
if (load.soak && !(load.rate > 0)) usage('--scenario soak needs a --rate above 0');
if (!load.soak && (a['slope-limit'] ?? a['slope-window']) !== undefined) usage('--slope-limit and --slope-window apply to --scenario soak only');
const nodes = num(a.nodes, preset.nodes);
const progress = new Progress(!a.quiet);
const stamp = new Date().toISOString().replace(/[:.]/g, '-');
const outDir = resolve(a.out ?? join(ROOT, 'bench-results'));
const base = join(outDir, `${stamp}-${scenario}`);
const command = `npm run bench -- ${process.argv.slice(2).join(' ')}`;

async function withTarget(start: () => Promise<Target>): Promise<RunResult> {
  const target = await start();
  try {
    return await runLoad(target, load, progress);
  } finally {
    await target.stop();
  }
}

async function main(): Promise<void> {
  mkdirSync(outDir, { recursive: true });
  const machine = machineInfo();
  if (scenario === 'persist') {
    const drain = await runDrain({ messages: num(a.messages, 100_000), direct: a.direct, stallS: num(a.grace, 60) }, progress);
    writeFileSync(`${base}.json`, `${JSON.stringify({ scenario, command, machine, startedAt: stamp, drain }, null, 2)}\n`);
    const rows = drain.timeline.map((t) => ({ sec: t.sec, sent: 0, delivered: t.rows, p99Ms: null }));
    writeFileSync(`${base}.svg`, svgChart(`persist backlog drain (${drain.mode}), ${drain.messages.toLocaleString('en-US')} rows`, [{ label: 'rows/s', timeline: rows } as unknown as RunResult]));
    process.stdout.write(`${drainTable(drain)}\n\nresults: ${base}.json\nchart: ${base}.svg\n`);
    return;
  }
  if (scenario === 'presence') return void await presence();
  if (scenario === 'room') return void await rooms();
  const results: RunResult[] = [];
  const kafka = a.kafka || Boolean(process.env.KAFKA_BROKERS);
  results.push(await withTarget(() => (a.target
    ? Promise.resolve(externalTarget(a.target.split(','), process.env.DATABASE_URL))
    : startMesh({ nodes, kafka, ...(a.partitions !== undefined && { partitions: Number(a.partitions) }) }))));
  const servers = a.target ? a.target.split(',').length : nodes;
  if (peer) results.push(await withTarget(() => peer(servers)));
  if (a.baseline) results.push(await withTarget(() => startRelay(servers)));
  const title = `${a.label ?? scenario}: ${nodes} nodes, ${conns.toLocaleString('en-US')} connections${load.rate ? `, ${load.rate.toLocaleString('en-US')} msgs/s offered, cross ${load.cross}` : ''}${kafka ? ', Kafka' : ''}`;
  writeFileSync(`${base}.json`, `${JSON.stringify({ scenario, command, machine, startedAt: stamp, nodes, kafka, options: load, results }, null, 2)}\n`);
  if (load.rate > 0) writeFileSync(`${base}.svg`, svgChart(title, results));
  const soaks = results.flatMap((r) => (r.soak ? [[r.label, r.soak] as const] : []));
  const soakText = soaks.map(([label, s]) => `\n\n${soakTables(label, s)}`).join('') + soaks.map(([label, s]) => `\n\n${soakVerdict(label, s)}`).join('');
  process.stdout.write(`\n${title}\n\n${markdownTable(results)}${soakText}\n\nresults: ${base}.json\n${load.rate > 0 ? `chart: ${base}.svg\n` : ''}`);
}

/** Each user watches 20 others; the lists come from a fixed seed, so runs compare. */
async function presence(): Promise<void> {
  const o: PresenceOptions = {
    conns, workers: num(a.workers, Math.max(2, Math.ceil(conns / 5000))), addresses: load.addresses, rate: load.rate,
    durationS: load.durationS, watchCount: 20, seed: 1, offlineMs: 2000, connectConcurrency: load.connectConcurrency, graceS: num(a.grace, 3),
  };
  if (!(o.rate > 0) || !(o.durationS > 0) || !(o.conns > 1)) usage('--scenario presence needs --rate and --duration above 0 and --conns above 1');
  if (!a.target && !(Number.isInteger(nodes) && nodes >= 1)) usage(`--nodes must be a whole number above 0, not ${a.nodes}`);
  const target = await (a.target ? Promise.resolve(externalTarget(a.target.split(','), undefined)) : startMesh({ nodes, kafka: false }));
  const result = await runPresence(target, o, progress).finally(() => target.stop());
  const title = `presence: ${target.wsUrls.length} nodes, ${conns.toLocaleString('en-US')} connections watching ${o.watchCount} each, ${o.rate} closes/s (each reopened after ${o.offlineMs / 1000} s)`;
  writeFileSync(`${base}.json`, `${JSON.stringify({ scenario, command, machine: machineInfo(), startedAt: stamp, nodes, options: o, result }, null, 2)}\n`);
  process.stdout.write(`\n${title}\n\n${presenceTable(result)}\n\nresults: ${base}.json\n`);
}

/** The room phases (--members and --rate, comma lists taken in pairs) on one mesh, one after the other. */
async function rooms(): Promise<void> {
  const list = (v: string | undefined, d: string) => (v ?? d).split(',').map(Number);
  const members = list(a.members, '1000,10000');
  const rates = list(a.rate, '10,1');
  if (members.length !== rates.length) usage('--members and --rate take as many values each (one pair per room phase)');
  if (!members.every((m) => Number.isInteger(m) && m >= 2) || !rates.every((r) => r > 0)) usage('--members takes whole numbers of at least 2, --rate numbers above 0');
  if (!(load.durationS > 0)) usage('--duration must be above 0');
  if (!a.target && !(Number.isInteger(nodes) && nodes >= 1)) usage(`--nodes must be a whole number above 0, not ${a.nodes}`);
  const target = await (a.target ? Promise.resolve(externalTarget(a.target.split(','), undefined)) : startMesh({ nodes, kafka: a.kafka || Boolean(process.env.KAFKA_BROKERS) }));
  const results = [];
  try {
    for (const [k, m] of members.entries()) {
      results.push(await runRoomPhase(target, {
        members: m, rate: rates[k]!, durationS: load.durationS, warmupS: load.warmupS, graceS: load.graceS,
        workers: num(a.workers, Math.max(2, Math.ceil(m / 5000))), addresses: load.addresses, connectConcurrency: load.connectConcurrency, bodyBytes: load.bodyBytes,
      }, progress));
    }
  } finally {
    await target.stop();
  }
  const title = `room: ${target.wsUrls.length} nodes, ${members.map((m, k) => `${m.toLocaleString('en-US')} members at ${rates[k]} msgs/s`).join(', then ')}`;
  writeFileSync(`${base}.json`, `${JSON.stringify({ scenario, command, machine: machineInfo(), startedAt: stamp, nodes: target.wsUrls.length, results }, null, 2)}\n`);
  process.stdout.write(`\n${title}\n\n${roomTable(results)}\n\nresults: ${base}.json\n`);
}

function drainTable(d: Awaited<ReturnType<typeof runDrain>>): string {
  const rows: [string, unknown][] = [
    ['mode', d.mode], ['messages', d.messages], ['produced/s (backlog build)', d.producedPerSec ?? '–'], ['partitions', d.partitions ?? '–'], ['stored', d.stored],
    ['lost', d.lost], ['duplicated', d.duplicated], ['replays skipped (ON CONFLICT)', d.replayedSkipped],
    ['rows/s (first to last commit)', d.rowsPerSec], ['rows/s (from persister start)', d.rowsPerSecFromStart], ['seconds', d.seconds],
    ...Object.entries(d.processes).flatMap(([k, p]): [string, unknown][] => [[`${k} CPU s`, p.cpuSec], [`${k} RSS MB`, p.rssMB]]),
  ];
  return ['| metric | value |', '|---|---:|', ...rows.map(([k, v]) => `| ${k} | ${typeof v === 'number' ? v.toLocaleString('en-US') : String(v)} |`)].join('\n');
}

let exitCode = 0;
try {
  await main();
} catch (err) {
  progress.done();
  process.stderr.write(`bench failed: ${(err as Error).stack ?? String(err)}\n`);
  exitCode = 1;
} finally {
  await stopStartedServices();
}
process.exit(exitCode);
