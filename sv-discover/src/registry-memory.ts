/**
 * The embedded registry (no REDIS_URL): everything in one process, same semantics as RedisRegistry.
 * A node's entries hang off its lease, so dropping an expired node drops all of its entries at once;
 * that happens lazily when a lookup or update meets it, and in a periodic sweep so nodes nobody asks
 * about do not pile up.
 */
import type { ConnEntry, Registry } from '@chat/shared/registry';
import type { ConnId, NodeId, NodeInfo, UserId } from '@chat/shared/types';
import { assertTtl } from './lease.ts';

export interface MemoryRegistryOptions {
  /** Clock in epoch ms; unit tests inject a fake one. @default Date.now */
  now?: () => number;
  /** How often expired nodes are swept; 0 disables the timer (tests call `sweep()`). @default 5000 */
  sweepIntervalMs?: number;
}

interface NodeState {
  url: string;
  expiresAt: number;
  /** connId → user: what the node owns, so removal and expiry find the user side. */
  conns: Map<ConnId, UserId>;
}

export class MemoryRegistry implements Registry {
  private readonly now: () => number;
  private readonly nodes = new Map<NodeId, NodeState>();
  /** user → node → that node's connIds of the user. */
  private readonly users = new Map<UserId, Map<NodeId, Set<ConnId>>>();
  private readonly timer: NodeJS.Timeout | undefined;

  constructor(opts: MemoryRegistryOptions = {}) {
    this.now = opts.now ?? Date.now;
    const every = opts.sweepIntervalMs ?? 5000;
    if (every > 0) {
      this.timer = setInterval(() => this.sweep(), every);
      this.timer.unref(); // the sweep must never keep a process alive
    }
  }

  async renewLease(node: NodeInfo, ttlMs: number): Promise<boolean> {
    assertTtl(ttlMs);
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

  async updateEntries(nodeId: NodeId, add: readonly ConnEntry[], remove: readonly ConnId[]): Promise<void> {
    // Without a live lease there is nothing to own: adds are dropped (renewLease will answer false
    // and the node re-adds everything) and the node's old entries are already gone.
    const node = this.liveNode(nodeId);
    if (!node) return;
    for (const { user, connId } of add) {
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

  async lookup(users: readonly UserId[]): Promise<Map<UserId, NodeInfo[]>> {
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

  async removeNode(nodeId: NodeId): Promise<void> {
    this.dropNode(nodeId);
  }

  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
  }

  /** Always reachable: it lives in this process. */
  async ping(): Promise<void> {}

  /** Drop every expired node with its entries; returns how many were dropped. */
  sweep(): number {
    const now = this.now();
    let dropped = 0;
    for (const [nodeId, node] of this.nodes) {
      if (node.expiresAt <= now) {
        this.dropNode(nodeId);
        dropped++;
      }
    }
    return dropped;
  }

  /** Counts for tests and metrics: what the registry holds right now, expired or not. */
  stats(): { nodes: number; users: number; entries: number } {
    let entries = 0;
    for (const node of this.nodes.values()) entries += node.conns.size;
    return { nodes: this.nodes.size, users: this.users.size, entries };
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
      const byNode = this.users.get(user);
      byNode?.delete(nodeId);
      if (byNode?.size === 0) this.users.delete(user);
    }
  }

  private unlink(user: UserId, nodeId: NodeId, connId: ConnId): void {
    const byNode = this.users.get(user);
    const conns = byNode?.get(nodeId);
    if (!byNode || !conns) return;
    conns.delete(connId);
    if (conns.size === 0) byNode.delete(nodeId);
    if (byNode.size === 0) this.users.delete(user);
  }
}
