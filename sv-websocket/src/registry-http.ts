/**
 * The Registry port as seen from a node: sv-discover over HTTP with the cluster secret. Several
 * sv-discover instances (on one Redis) may be listed; a request that fails moves on to the next
 * one, and the node sticks with whichever answered.
 */
import { Failover } from '@chat/shared/failover';
import type { InternalClient } from '@chat/shared/internal-client';
import { ROUTES, type LeaseReply, type LookupReply } from '@chat/shared/internal-api';
import type { ConnEntry, Registry } from '@chat/shared/registry';
import type { ConnId, NodeId, NodeInfo, UserId } from '@chat/shared/types';

export class HttpRegistry implements Registry {
  private readonly targets: Failover;
  /** Whether the last lookup's answer said sv-discover is warming up (a window, not per request). */
  private lastWarming = false;

  constructor(private readonly client: InternalClient, baseUrls: readonly string[]) {
    this.targets = new Failover(baseUrls);
  }

  async renewLease(node: NodeInfo, ttlMs: number): Promise<boolean> {
    const reply = await this.post<LeaseReply>(ROUTES.discoverLease, { ...node, ttlMs });
    return reply.known;
  }

  async updateEntries(nodeId: NodeId, add: readonly ConnEntry[], remove: readonly ConnId[]): Promise<void> {
    await this.post(ROUTES.discoverEntries, { nodeId, add, remove });
  }

  async lookup(users: readonly UserId[]): Promise<Map<UserId, NodeInfo[]>> {
    const reply = await this.post<LookupReply>(ROUTES.discoverLookup, { users });
    this.lastWarming = reply.warming === true;
    return new Map(Object.entries(reply.nodes));
  }

  warming(): boolean {
    return this.lastWarming;
  }

  async removeNode(nodeId: NodeId): Promise<void> {
    await this.post(ROUTES.discoverRemoveNode, { nodeId });
  }

  async close(): Promise<void> {}

  private post<R>(path: string, body: unknown): Promise<R> {
    return this.targets.run((base) => this.client.post<R>(base, path, body));
  }
}
