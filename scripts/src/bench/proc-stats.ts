/**
 * CPU seconds and RSS of processes from /proc (Linux): /proc/PID/stat fields 14–15 (utime, stime
 * in clock ticks) and /proc/PID/status VmRSS. A group (a service and what it spawned, e.g. the
 * embedded Postgres backends) is summed over its descendants.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';

/** USER_HZ: 100 on every Linux architecture Node runs on. */
const TICKS_PER_SEC = 100;

export interface ProcSample { cpuSec: number; rssBytes: number; pids: number }

interface StatLine { pid: number; comm: string; ppid: number; cpuTicks: number }

function readStat(pid: number): StatLine | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // comm is in parentheses and may hold spaces: split after the last ')'.
    const close = text.lastIndexOf(')');
    const comm = text.slice(text.indexOf('(') + 1, close);
    const f = text.slice(close + 2).split(' ');
    // f[0] is field 3 (state): ppid is field 4, utime 14, stime 15.
    // utime + stime + cutime + cstime: children a member reaped (Postgres backends that exited) still count.
    return { pid, comm, ppid: Number(f[1]), cpuTicks: Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]) };
  } catch {
    return undefined;
  }
}

function readRss(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

/** Every live process: pid → stat line. */
function allProcs(): Map<number, StatLine> {
  const out = new Map<number, StatLine>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const s = readStat(Number(name));
    if (s) out.set(s.pid, s);
  }
  return out;
}

/** `pid` and all its descendants, from one scan of /proc. */
function withDescendants(procs: Map<number, StatLine>, pid: number): StatLine[] {
  const children = new Map<number, number[]>();
  for (const p of procs.values()) {
    const list = children.get(p.ppid) ?? [];
    list.push(p.pid);
    children.set(p.ppid, list);
  }
  const out: StatLine[] = [];
  const stack = [pid];
  while (stack.length > 0) {
    const p = procs.get(stack.pop()!);
    if (!p) continue;
    out.push(p);
    stack.push(...(children.get(p.pid) ?? []));
  }
  return out;
}

/**
 * The redis-server listening on `port`, found by its process title (redis-server puts its listen
 * address there, e.g. `redis-server 127.0.0.1:6379`): among the descendants of `root` when given
 * (a server the bench started through a helper that does not hand out its pid), else among all.
 */
export function findRedisServer(port: number, root?: number): number | undefined {
  const procs = allProcs();
  const candidates = root === undefined ? [...procs.values()] : withDescendants(procs, root);
  return candidates.find((p) => p.comm === 'redis-server' && readCmdline(p.pid).split(/[\0 ]/).some((w) => w.endsWith(`:${port}`)))?.pid;
}

function readCmdline(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8');
  } catch {
    return '';
  }
}

/** A named set of process roots to sample (each root with its descendants, or alone). */
export interface ProcGroup { name: string; pid: number; descendants?: boolean; comm?: string }

/**
 * The embedded Postgres the bench starts (through the test helper, so a descendant of this
 * process): its postmaster and backends. Finds nothing when DATABASE_URL names another server.
 */
export const EMBEDDED_POSTGRES: ProcGroup = { name: 'postgres', pid: process.pid, descendants: true, comm: 'postgres' };

/** One sample per group: CPU seconds since each process started, and the current RSS. */
export function sampleGroups(groups: ProcGroup[]): Record<string, ProcSample> {
  const procs = allProcs();
  const out: Record<string, ProcSample> = {};
  for (const g of groups) {
    let lines = g.descendants ? withDescendants(procs, g.pid) : [procs.get(g.pid)].filter((p): p is StatLine => p !== undefined);
    if (g.comm) lines = lines.filter((l) => l.comm === g.comm);
    const prev = out[g.name] ?? { cpuSec: 0, rssBytes: 0, pids: 0 };
    out[g.name] = {
      cpuSec: prev.cpuSec + lines.reduce((s, l) => s + l.cpuTicks, 0) / TICKS_PER_SEC,
      rssBytes: prev.rssBytes + lines.reduce((s, l) => s + readRss(l.pid), 0),
      pids: prev.pids + lines.length,
    };
  }
  return out;
}

/** Machine facts for the report: cores, CPU model, memory, Node version. */
export function machineInfo(): { nproc: number; cpuModel: string; memGiB: number; node: string; kernel: string } {
  const cpuinfo = readFileSync('/proc/cpuinfo', 'utf8');
  const model = /model name\s*:\s*(.+)/.exec(cpuinfo)?.[1]?.trim() ?? 'unknown';
  const memKb = Number(/MemTotal:\s+(\d+)/.exec(readFileSync('/proc/meminfo', 'utf8'))?.[1] ?? 0);
  const nproc = availableParallelism();
  return { nproc, cpuModel: model, memGiB: Math.round((memKb / 1024 / 1024) * 10) / 10, node: process.version, kernel: readFileSync('/proc/sys/kernel/osrelease', 'utf8').trim() };
}
