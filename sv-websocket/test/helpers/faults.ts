/** Small tools shared by the fault tests (sv-websocket/test/faults): discovery lookups, exits, metrics. */
import { InternalClient } from '@chat/shared/internal-client';
import { ROUTES, type LookupReply } from '@chat/shared/internal-api';
import type { ServiceProcess } from '@chat/shared/testing/processes';
import { TEST_SECRET } from './mesh.ts';

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
