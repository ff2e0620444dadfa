/**
 * How a client worker opens its share of the users (lo ≤ i < hi): `concurrency` handshakes in
 * flight at once, each lane taking the next user when its last one is done, and what came of it.
 */
import { nowMs } from './clock.ts';
import type { Ready } from './worker-protocol.ts';

/** `connectOne` resolves with why user i could not connect, or undefined when it did. */
export async function connectInLanes(lo: number, hi: number, concurrency: number, connectOne: (i: number) => Promise<string | undefined>): Promise<Ready> {
  const started = nowMs();
  let next = lo;
  let failed = 0;
  let firstError: string | undefined;
  const lane = async () => {
    while (next < hi) {
      const err = await connectOne(next++);
      if (err) { failed++; firstError ??= err; }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, lane));
  return { type: 'ready', connected: hi - lo - failed, failed, connectMs: nowMs() - started, ...(firstError && { firstError }) };
}

/** The workers' connect phases as one. */
export function connectionSummary(requested: number, ready: Ready[]): { requested: number; connected: number; failed: number; connectSeconds: number; firstError?: string | undefined } {
  return {
    requested,
    connected: ready.reduce((s, r) => s + r.connected, 0),
    failed: ready.reduce((s, r) => s + r.failed, 0),
    connectSeconds: Math.max(...ready.map((r) => r.connectMs)) / 1000,
    firstError: ready.find((r) => r.firstError)?.firstError,
  };
}
