/**
 * What one lone message costs each process of the path, in direct mode: a two-node mesh, alice on
 * the first node and bob on the second, one message at a time (the next after alice's ack and
 * bob's delivery, and a pause), so no hop ever batches two messages. With `--burst N`, N senders
 * on the first node each send one message to their own recipient on the second at the same moment,
 * then all wait: every hop then carries batches of about N, the shape of a loaded mesh, still
 * without depending on how busy the machine is. That is the shape of light
 * load, and unlike an open-loop run it does not drift with how busy the machine is (a busier
 * machine makes bigger batches and so a cheaper message). Per message it prints each process's CPU
 * (from /proc), its event-loop wake-ups (voluntary context switches of its main thread; for
 * Postgres, of every backend and helper) and Postgres's own counters (pg_stat_database, pg_stat_wal).
 *   npx tsx scripts/src/bench/lone-cost.ts [--sends 3000] [--burst 1] [--pause-ms 1] [--warmup 500]
 */
import { readFileSync } from 'node:fs';
import { flagsToEnv } from '@chat/shared/config';
import { withPg } from '@chat/shared/local-postgres';
import { TestClient } from '@chat/shared/protocol-client';
import { stopStartedServices } from '@chat/shared/started-services';
import { sampleGroups, type ProcGroup } from './proc-stats.ts';
import { startMesh } from './targets.ts';

const flags = flagsToEnv(process.argv.slice(2));
const sends = Number(flags.SENDS ?? 3000);
const pauseMs = Number(flags.PAUSE_MS ?? 1);
const warmup = Number(flags.WARMUP ?? 500);
const idleMs = Number(flags.IDLE_MS ?? 4000);
const burst = Number(flags.BURST ?? 1);

/** Sum of `pattern`'s number in /proc/PID/`file` over `group`'s processes (its main pid, or every `comm` process below it). */
function procCount(group: ProcGroup, file: string, pattern: RegExp): number {
  const pids = group.comm ? descendants(group.pid).filter((p) => comm(p) === group.comm) : [group.pid];
  return pids.reduce((sum, pid) => {
    try {
      return sum + Number(pattern.exec(readFileSync(`/proc/${pid}/${file}`, 'utf8'))?.[1] ?? 0);
    } catch {
      return sum;
    }
  }, 0);
}

/** Voluntary context switches of the main thread (the event loop's wake-ups; Postgres: every process). */
const wakeups = (g: ProcGroup) => procCount(g, 'status', /^voluntary_ctxt_switches:\s+(\d+)/m);
/** Write system calls (write, writev; not send), all threads. */
const writes = (g: ProcGroup) => procCount(g, 'io', /^syscw:\s+(\d+)/m);

function comm(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return '';
  }
}

function descendants(root: number): number[] {
  const out: number[] = [];
  const stack = [root];
  while (stack.length > 0) {
    const pid = stack.pop()!;
    out.push(pid);
    try {
      for (const task of readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(' ').filter(Boolean)) stack.push(Number(task));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

type PgCounters = Record<string, number>;

async function pgCounters(url: string): Promise<PgCounters> {
  return withPg(url, async (q) => {
    const [db] = await q<Record<string, string>>(`SELECT xact_commit, tup_inserted, tup_updated, blks_hit FROM pg_stat_database WHERE datname = current_database()`);
    const [wal] = await q<Record<string, string>>('SELECT wal_records, wal_bytes, wal_write, wal_sync FROM pg_stat_wal');
    return Object.fromEntries(Object.entries({ ...db, ...wal }).map(([k, v]) => [k, Number(v)]));
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const mesh = await startMesh({ nodes: 2, kafka: false });
try {
  const [n0, n1] = mesh.nodeUrls as [string, string];
  const pairs = await Promise.all(Array.from({ length: burst }, async (_, i) => ({
    sender: await TestClient.connect(n0, `alice${i}`), recipient: await TestClient.connect(n1, `bob${i}`), to: `bob${i}`,
  })));
  // One round: every sender sends one message; done when all are acked and delivered.
  const one = async (cid: string) => {
    await Promise.all(pairs.map(async ({ sender, recipient, to }) => {
      const delivered = recipient.next('message', (m) => m.cid === cid);
      await sender.sendMessage(to, 'a lone message of about the bench body size, 64 bytes…', cid);
      await delivered;
    }));
    if (pauseMs > 0) await sleep(pauseMs);
  };
  const rounds = Math.ceil(sends / burst);
  for (let i = 0; i < Math.ceil(warmup / burst); i++) await one(`w${i}`);
  // Postgres's statistics reach pg_stat_* when a backend reports them (about once a second).
  // What each process spends doing nothing (timers, leases, metrics), subtracted below.
  const idle0 = { cpu: sampleGroups(mesh.groups), wake: mesh.groups.map(wakeups), at: performance.now() };
  await sleep(idleMs);
  const pg0 = await pgCounters(mesh.databaseUrl!);
  const cpu0 = sampleGroups(mesh.groups);
  const wake0 = mesh.groups.map(wakeups);
  const writes0 = mesh.groups.map(writes);
  const idleSec = (performance.now() - idle0.at) / 1000;
  const started = performance.now();
  for (let i = 0; i < rounds; i++) await one(`m${i}`);
  const elapsed = performance.now() - started;
  const cpu1 = sampleGroups(mesh.groups);
  const wake1 = mesh.groups.map(wakeups);
  const writes1 = mesh.groups.map(writes);
  await sleep(1500);
  const pg1 = await pgCounters(mesh.databaseUrl!);

  const lines = [
    `${rounds * burst} messages (node-0 → node-1, direct mode) in rounds of ${burst}, ${(elapsed / rounds).toFixed(2)} ms a round with a ${pauseMs} ms pause;`,
    `each process's idle rate (measured over ${idleSec.toFixed(1)} s before) is taken out of its figures`, '',
    '| process | CPU µs per message | wake-ups per message | writes per message | idle: CPU % | idle: wake-ups/s |', '|---|---:|---:|---:|---:|---:|',
  ];
  let total = 0;
  const count = rounds * burst;
  const perMsg = elapsed / 1000 / count;
  mesh.groups.forEach((g, i) => {
    const [i0, a, b] = [idle0.cpu[g.name], cpu0[g.name], cpu1[g.name]];
    if (!i0 || !a || !b || b.pids === 0) return;
    const idleCpu = (a.cpuSec - i0.cpuSec) / idleSec;
    const idleWake = (wake0[i]! - idle0.wake[i]!) / idleSec;
    const us = ((b.cpuSec - a.cpuSec) / count - idleCpu * perMsg) * 1e6;
    const wake = (wake1[i]! - wake0[i]!) / count - idleWake * perMsg;
    total += us;
    const wrote = (writes1[i]! - writes0[i]!) / count;
    lines.push(`| ${g.name} | ${us.toFixed(0)} | ${wake.toFixed(2)} | ${wrote.toFixed(2)} | ${(idleCpu * 100).toFixed(1)} | ${idleWake.toFixed(0)} |`);
  });
  lines.push(`| all | ${total.toFixed(0)} | | | | |`, '', 'Postgres per message (the warm-up\'s stragglers and these queries included):');
  for (const k of Object.keys(pg1)) lines.push(`  ${k}: ${((pg1[k]! - (pg0[k] ?? 0)) / count).toFixed(2)}`);
  process.stdout.write(`${lines.join('\n')}\n`);
  await Promise.all(pairs.flatMap((p) => [p.sender.close(), p.recipient.close()]));
} finally {
  await mesh.stop();
  await stopStartedServices();
}
