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
  /**
   * True when the last `lookup` came from a registry that started empty moments ago: a user it did
   * not find may be online on a node that has not registered again yet. Absent: never.
   */
  warming?(): boolean;
  /** Drop `nodeId`'s lease and all its entries (graceful shutdown). */
  removeNode(nodeId: NodeId): Promise<void>;
  close(): Promise<void>;
}

/** Whether a user has a connection anywhere in the mesh, and since when they have none. */
export interface PresenceState {
  user: UserId;
  online: boolean;
  /** When the user's last connection went away (epoch ms); null while online and for a user never seen. */
  lastSeen: number | null;
}

/**
 * sv-discover's registries (memory, Redis): a Registry that also knows who is online. A user is
 * online from the moment their first entry is stored until their last one is gone: removed by
 * its node, dropped with its node (removeNode, a lease renewed under a new URL), or swept after
 * its node's lease ran out. Every such change is a transition, told to the one listener of the
 * registry instance that made it, in order; `lastSeen` is kept for long (Redis: a key with a TTL;
 * memory: a bounded map).
 */
export interface PresenceRegistry extends Registry {
  /** The current state of each user, in the order asked. One round trip for all users. */
  presence(users: readonly UserId[]): Promise<PresenceState[]>;
  /** Hear every transition this instance makes (a later call replaces the listener). */
  onTransitions(listener: (changes: PresenceState[]) => void): void;
  /** Drop every node whose lease ran out, with its entries (their users may go offline). */
  sweep(): number | Promise<number>;
}
