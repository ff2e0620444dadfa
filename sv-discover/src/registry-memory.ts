/**
 * The embedded registry (no REDIS_URL): everything in one process, same semantics as RedisRegistry.
 * A node's entries hang off its lease, so dropping an expired node drops all of its entries at once;
 * that happens lazily when a lookup or update meets it, and in a periodic sweep so nodes nobody asks
 * about do not pile up (and their users go offline soon after the lease).
 *
 * Presence: a user is online while `users` holds them. Every operation that changes entries runs
 * in one TransitionScope, which reports who went online or offline to the listener.
 */
import type { ConnEntry, PresenceRegistry, PresenceState } from '@chat/shared/registry';
import type { ConnId, NodeId, NodeInfo, UserId } from '@chat/shared/types';
import { assertTtl } from './lease.ts';
import { LastSeen, TransitionScope } from './registry-memory-presence.ts';

export interface MemoryRegistryOptions {
  /** Clock in epoch ms; unit tests inject a fake one. @default Date.now */
  now?: () => number;
  /** How often expired nodes are swept; 0 disables the timer (tests call `sweep()`). @default 5000 */
  sweepIntervalMs?: number;
  /** Users whose last-seen time is kept (those who went offline most recently). @default 200000 */
  lastSeenMaxUsers?: number;
}

interface NodeState {
  url: string;
  expiresAt: number;
  /** connId → user: what the node owns, so removal and expiry find the user side. */
  conns: Map<ConnId, UserId>;
}

export class MemoryRegistry implements PresenceRegistry {
  private readonly now: () => number;
  private readonly nodes = new Map<NodeId, NodeState>();
  /** user → node → that node's connIds of the user. */
  private readonly users = new Map<UserId, Map<NodeId, Set<ConnId>>>();
  private readonly timer: NodeJS.Timeout | undefined;
  private readonly lastSeen: LastSeen;
  private listener: (changes: PresenceState[]) => void = () => {};
  private inOperation = false;
  /** The users the operation in progress touched (made at the first touch: most lookups touch none). */
  private scope: TransitionScope | undefined;

  constructor(opts: MemoryRegistryOptions = {}) {
    this.now = opts.now ?? Date.now;
    this.lastSeen = new LastSeen(opts.lastSeenMaxUsers ?? 200_000);
    const every = opts.sweepIntervalMs ?? 5000;
    if (every > 0) {
      this.timer = setInterval(() => this.sweep(), every);
      this.timer.unref(); // the sweep must never keep a process alive
    }
  }

  async renewLease(node: NodeInfo, ttlMs: number): Promise<boolean> {
    assertTtl(ttlMs);
    return this.transaction(() => this.renew(node, ttlMs));
  }

  async updateEntries(nodeId: NodeId, add: readonly ConnEntry[], remove: readonly ConnId[]): Promise<void> {
    this.transaction(() => this.update(nodeId, add, remove));
  }

  async lookup(users: readonly UserId[]): Promise<Map<UserId, NodeInfo[]>> {
    return this.transaction(() => this.find(users));
  }

  async removeNode(nodeId: NodeId): Promise<void> {
    this.transaction(() => this.dropNode(nodeId));
  }

  async presence(users: readonly UserId[]): Promise<PresenceState[]> {
    return users.map((user) => {
      const online = this.users.has(user);
      return { user, online, lastSeen: online ? null : this.lastSeen.get(user) };
    });
  }

  onTransitions(listener: (changes: PresenceState[]) => void): void {
    this.listener = listener;
  }

  private renew(node: NodeInfo, ttlMs: number): boolean {
    const held = this.liveNode(node.nodeId);
    const expiresAt = this.now() + ttlMs;
    // A different URL is a new incarnation of the node: its old entries do not carry over.
    if (held && held.url === node.url) {
      held.expiresAt = expiresAt;
      return true;
    }
    if (held) this.dropNode(node.nodeId);
    this.nodes.set(node.nodeId, { url: node.url, expiresAt, conns: new Map() });
    return false;
  }

  private update(nodeId: NodeId, add: readonly ConnEntry[], remove: readonly ConnId[]): void {
    // Without a live lease there is nothing to own: adds are dropped (renewLease will answer false
    // and the node re-adds everything) and the node's old entries are already gone.
    const node = this.liveNode(nodeId);
    if (!node) return;
    for (const { user, connId } of add) {
      this.touch(user);
      const previous = node.conns.get(connId);
      if (previous !== undefined && previous !== user) this.unlink(previous, nodeId, connId);
      node.conns.set(connId, user);
      let byNode = this.users.get(user);
      if (!byNode) this.users.set(user, (byNode = new Map()));
      let conns = byNode.get(nodeId);
      if (!conns) byNode.set(nodeId, (conns = new Set()));
      conns.add(connId);
    }
    for (const connId of remove) {
      const user = node.conns.get(connId);
      if (user === undefined) continue; // not this node's: never touch another node's entry
      node.conns.delete(connId);
      this.unlink(user, nodeId, connId);
    }
  }

  private find(users: readonly UserId[]): Map<UserId, NodeInfo[]> {
    const out = new Map<UserId, NodeInfo[]>();
    for (const user of users) {
      const byNode = this.users.get(user);
      if (!byNode || out.has(user)) continue;
      const found: NodeInfo[] = [];
      for (const nodeId of [...byNode.keys()]) {
        const node = this.liveNode(nodeId);
        if (node) found.push({ nodeId, url: node.url });
      }
      if (found.length > 0) out.set(user, found);
    }
    return out;
  }

  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
  }

  /** Always reachable: it lives in this process. */
  async ping(): Promise<void> {}

  /** Drop every expired node with its entries; returns how many were dropped. */
  sweep(): number {
    return this.transaction(() => {
      const now = this.now();
      let dropped = 0;
      for (const [nodeId, node] of this.nodes) {
        if (node.expiresAt <= now) {
          this.dropNode(nodeId);
          dropped++;
        }
      }
      return dropped;
    });
  }

  /** Counts for tests and metrics: what the registry holds right now, expired or not. */
  stats(): { nodes: number; users: number; entries: number } {
    let entries = 0;
    for (const node of this.nodes.values()) entries += node.conns.size;
    return { nodes: this.nodes.size, users: this.users.size, entries };
  }

  /** Users whose last-seen time is kept (bounded by `lastSeenMaxUsers`). */
  get lastSeenUsers(): number {
    return this.lastSeen.size;
  }

  /** Run one operation; the users it moved online or offline are recorded and told once it ends. */
  private transaction<T>(run: () => T): T {
    if (this.inOperation) return run();
    this.inOperation = true;
    try {
      return run();
    } finally {
      this.inOperation = false;
      const changes = this.scope?.changes(this.now()) ?? [];
      this.scope = undefined;
      if (changes.length > 0) {
        this.lastSeen.record(changes);
        this.listener(changes);
      }
    }
  }

  /** Call before changing any entry of `user`. */
  private touch(user: UserId): void {
    (this.scope ??= new TransitionScope((u) => this.users.has(u))).touch(user);
  }

  /** The node if its lease is live; an expired one is dropped on the spot. */
  private liveNode(nodeId: NodeId): NodeState | undefined {
    const node = this.nodes.get(nodeId);
    if (node && node.expiresAt <= this.now()) {
      this.dropNode(nodeId);
      return undefined;
    }
    return node;
  }

  private dropNode(nodeId: NodeId): void {
    const node = this.nodes.get(nodeId);
    if (!node) return;
    this.nodes.delete(nodeId);
    for (const user of new Set(node.conns.values())) {
      this.touch(user);
      const byNode = this.users.get(user);
      byNode?.delete(nodeId);
      if (byNode?.size === 0) this.users.delete(user);
    }
  }

  private unlink(user: UserId, nodeId: NodeId, connId: ConnId): void {
    this.touch(user);
    const byNode = this.users.get(user);
    const conns = byNode?.get(nodeId);
    if (!byNode || !conns) return;
    conns.delete(connId);
    if (conns.size === 0) byNode.delete(nodeId);
    if (byNode.size === 0) this.users.delete(user);
  }
}
