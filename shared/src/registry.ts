import type { ConnId, NodeId, NodeInfo, UserId } from './types.ts';

/** One connection of a user, as a node reports it. */
export interface ConnEntry {
  user: UserId;
  connId: ConnId;
}

/**
 * Who holds which user (shaped after centrifuge's PresenceManager).
 * Entries are per connection and belong to the node that added them; they live only while
 * that node's lease does. Implementations: MemoryRegistry (embedded default), RedisRegistry
 * (REDIS_URL), HttpRegistry (a node talking to sv-discover).
 */
export interface Registry {
  /**
   * Create or renew the lease of `node`; its entries expire with it after `ttlMs`.
   * Resolves false when the registry did not hold the node (new, expired, or a registry restarted
   * empty): the node must then re-add every entry it holds.
   */
  renewLease(node: NodeInfo, ttlMs: number): Promise<boolean>;
  /** Add `add` and remove `remove` for `nodeId`. Removal touches only entries `nodeId` owns, so a stale node never erases a newer connection elsewhere. */
  updateEntries(nodeId: NodeId, add: readonly ConnEntry[], remove: readonly ConnId[]): Promise<void>;
  /** The live nodes holding each user; users held nowhere are absent from the map. One round trip for all users. */
  lookup(users: readonly UserId[]): Promise<Map<UserId, NodeInfo[]>>;
  /** Drop `nodeId`'s lease and all its entries (graceful shutdown). */
  removeNode(nodeId: NodeId): Promise<void>;
  close(): Promise<void>;
}
