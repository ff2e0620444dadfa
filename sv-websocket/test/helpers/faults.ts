/** Small tools shared by the fault tests (sv-websocket/test/faults): polling, discovery lookups. */
import assert from 'node:assert/strict';
import { InternalClient } from '@chat/shared/internal-client';
import { eventually as pollUntilPasses } from '@chat/shared/testing/eventually';
import { ROUTES, type LookupReply } from '@chat/shared/internal-api';
import type { ServiceProcess } from '@chat/shared/testing/processes';
import { TEST_SECRET } from './mesh.ts';

/**
 * Poll `check` until it returns true or `timeoutMs` passes, then fail naming `what`. A deadline on
 * a condition, never a timed assertion: the generous deadline only bounds a hung test. The polling
 * is the shared `eventually`'s; this one takes a condition instead of an assertion.
 */
export function eventually(what: string, check: () => Promise<boolean> | boolean, timeoutMs = 20_000): Promise<void> {
  return pollUntilPasses(async () => {
    let holds: boolean;
    try {
      holds = await check();
    } catch (err) {
      return assert.fail(`not within ${timeoutMs} ms: ${what} (last error: ${String(err)})`);
    }
    if (!holds) assert.fail(`not within ${timeoutMs} ms: ${what}`);
  }, timeoutMs);
}

/** Asks sv-discover directly which nodes hold each user (with the cluster secret). */
export class DiscoveryProbe {
  private readonly client = new InternalClient({ secret: TEST_SECRET, timeoutMs: 3000 });

  constructor(private readonly discoverUrl: () => string) {}

  /** Node ids of `user`, sorted; [] when discovery knows none. */
  async nodesOf(user: string): Promise<string[]> {
    const reply = await this.client.post<LookupReply>(this.discoverUrl(), ROUTES.discoverLookup, { users: [user] });
    return (reply.nodes[user] ?? []).map((n) => n.nodeId).sort();
  }

  close(): Promise<void> {
    return this.client.close();
  }
}

/** Exit code of a service process once it exited (null when killed by a signal). */
export async function exitCodeOf(p: ServiceProcess, timeoutMs = 30_000): Promise<number | null> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${p.name} did not exit within ${timeoutMs} ms:\n${p.logs.slice(-20).join('\n')}`)), timeoutMs);
  });
  try {
    return await Promise.race([p.exited, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** The value of a metric without labels from a service's /metrics (undefined when absent). */
export async function metricValue(baseUrl: string, name: string): Promise<number | undefined> {
  const res = await fetch(`${baseUrl}/metrics`);
  const text = await res.text();
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line === undefined ? undefined : Number(line.split(' ').pop());
}
