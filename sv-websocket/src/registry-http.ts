/** The Registry port as seen from a node: sv-discover over HTTP with the cluster secret. */
import type { InternalClient } from '@chat/shared/internal-client';
import { ROUTES, type LeaseReply, type LookupReply } from '@chat/shared/internal-api';
import type { ConnEntry, Registry } from '@chat/shared/registry';
import type { ConnId, NodeId, NodeInfo, UserId } from '@chat/shared/types';

export class HttpRegistry implements Registry {
  constructor(private readonly client: InternalClient, private readonly baseUrl: string) {}

  async renewLease(node: NodeInfo, ttlMs: number): Promise<boolean> {
    const reply = await this.client.post<LeaseReply>(this.baseUrl, ROUTES.discoverLease, { ...node, ttlMs });
    return reply.known;
  }

  async updateEntries(nodeId: NodeId, add: readonly ConnEntry[], remove: readonly ConnId[]): Promise<void> {
    await this.client.post(this.baseUrl, ROUTES.discoverEntries, { nodeId, add, remove });
  }

  async lookup(users: readonly UserId[]): Promise<Map<UserId, NodeInfo[]>> {
    const reply = await this.client.post<LookupReply>(this.baseUrl, ROUTES.discoverLookup, { users });
    return new Map(Object.entries(reply.nodes));
  }

  async removeNode(nodeId: NodeId): Promise<void> {
    await this.client.post(this.baseUrl, ROUTES.discoverRemoveNode, { nodeId });
  }

  async close(): Promise<void> {}
}
