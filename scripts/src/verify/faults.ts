/**
 * The faults `verify --local` injects into its own mesh, spaced through the sending period, one at
 * a time: each waits for its slot, for every service to be ready again after the one before and
 * for the acks that one held up to have come, so each recovery is measured on its own. On a slow
 * machine that can be past the planned end of sending; the load then goes on until the last
 * fault has recovered. A killed service is started again at once on its port; a frozen node is
 * woken after a pause. sv-discover goes last: the nodes re-register with it at their next
 * heartbeat (up to LEASE_MS / 3 after it is back), later than it reports ready, and a fault
 * during that time would be measured together with it.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { LocalMesh } from './local-mesh.ts';
import { untilReady } from './readiness.ts';

export const FAULT_KINDS = ['node-kill', 'node-stop', 'persist-kill', 'discover-kill'] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

/** A service that is not ready this long after its fault has not recovered. */
const READY_TIMEOUT_MS = 60_000;
const LONGEST_PAUSE_MS = 5000;
const POLL_MS = 200;

export interface FaultResult {
  kind: FaultKind;
  /** What was done, e.g. "SIGKILL node-1, restart". */
  what: string;
  /** The service hit. */
  target: string;
  /** When the fault began, ms since the run started; absent when it was not injected. */
  at?: number;
  /** When the service answered /readyz with 200 again (ms since the run started). */
  readyAt?: number;
  /** Why it was not injected or did not recover. */
  problem?: string;
}

export interface FaultPlan {
  kinds: readonly FaultKind[];
  nodes: number;
  /** The planned sending period, ms since the run started. */
  loadStart: number;
  loadEnd: number;
  /** ms since the run started. */
  now: () => number;
  /** True when no send is waiting long for its ack: the last fault's backlog is through. */
  acksFlowing: () => boolean;
  /** Called as each fault starts, for progress output. */
  onFault?: (r: FaultResult) => void;
}

function describe(kind: FaultKind, nodes: number): { target: string; what: string } {
  switch (kind) {
    case 'node-kill': return { target: `node-${1 % nodes}`, what: `SIGKILL node-${1 % nodes}, restart` };
    case 'persist-kill': return { target: 'sv-persist', what: 'SIGKILL sv-persist, restart' };
    case 'discover-kill': return { target: 'sv-discover', what: 'SIGKILL sv-discover, restart' };
    // Another node than the killed one, which has no clients left once they moved away.
    case 'node-stop': { const target = `node-${nodes >= 3 ? 2 : 0}`; return { target, what: `SIGSTOP ${target}, SIGCONT` }; }
  }
}

/** Run the plan; resolves with one result per fault once the last one's service is ready again. */
export async function runFaults(mesh: LocalMesh, plan: FaultPlan): Promise<FaultResult[]> {
  const results: FaultResult[] = [];
  const spacing = (plan.loadEnd - plan.loadStart) / Math.max(1, plan.kinds.length);
  const pauseMs = Math.min(LONGEST_PAUSE_MS, spacing / 2);
  for (const [i, kind] of plan.kinds.entries()) {
    const result: FaultResult = { kind, ...describe(kind, plan.nodes) };
    results.push(result);
    const slot = plan.loadStart + (i + 0.5) * spacing;
    const settled = await Promise.all(mesh.labels.map((label) => untilReady(mesh.url(label), READY_TIMEOUT_MS)));
    if (settled.includes(false)) {
      result.problem = `not injected: a service of the mesh was not ready within ${READY_TIMEOUT_MS / 1000} s`;
      continue;
    }
    for (const deadline = plan.now() + READY_TIMEOUT_MS; !plan.acksFlowing() && plan.now() < deadline;) await sleep(POLL_MS);
    if (plan.now() < slot) await sleep(slot - plan.now());
    result.at = plan.now();
    plan.onFault?.(result);
    try {
      if (kind === 'node-stop') {
        await mesh.signal(result.target, 'SIGSTOP');
        await sleep(pauseMs);
        await mesh.signal(result.target, 'SIGCONT');
      } else {
        await mesh.signal(result.target, 'SIGKILL');
        await mesh.restart(result.target);
      }
      if (await untilReady(mesh.url(result.target), READY_TIMEOUT_MS - (plan.now() - result.at))) result.readyAt = plan.now();
      else result.problem = `not ready ${READY_TIMEOUT_MS / 1000} s after the fault`;
    } catch (err) {
      result.problem = `could not restart: ${(err as Error).message.split('\n')[0]}`;
    }
  }
  return results;
}
