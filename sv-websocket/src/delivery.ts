/**
 * Delivery of an accepted message to every connection of its recipient and the sender's other
 * connections: local ones directly, remote ones through discovery and the forwarder. The frame
 * is encoded once for all local recipients.
 */
import type { DeliverReply, DeliverRequest } from '@chat/shared/internal-api';
import { encodeMessageFrame } from '@chat/shared/protocol';
import type { ConnId, Message, NodeId, NodeInfo, UserId } from '@chat/shared/types';
import type { Forwarder } from './forwarder.ts';
import type { LocalConnections } from './local-connections.ts';
import type { LookupCache } from './lookup-cache.ts';

export interface DeliveryStats {
  local: number;
  forwarded: number;
}

export interface DeliveryOptions {
  /**
   * Deliveries in progress (accepted messages whose forwards are not answered yet) at which the
   * node stops accepting sends (`saturated`). @default 10000
   */
  maxPending?: number;
}

export class Delivery {
  readonly stats: DeliveryStats = { local: 0, forwarded: 0 };
  private inFlight = 0;
  private idleWaiters: (() => void)[] = [];
  private readonly maxPending: number;

  constructor(
    private readonly selfId: NodeId,
    private readonly local: LocalConnections,
    private readonly cache: LookupCache,
    private readonly forwarder: Forwarder,
    opts: DeliveryOptions = {},
  ) {
    this.maxPending = opts.maxPending ?? 10_000;
  }

  /** Deliveries in progress: accepted messages not yet handed to every node of their users. */
  get pending(): number {
    return this.inFlight;
  }

  /**
   * True while `maxPending` deliveries are in progress: the node accepts no more sends until they
   * drain. Past its forwarding capacity a node would otherwise keep acking messages it cannot
   * deliver live: their forwards queue for seconds, time out, and reach the recipients only
   * through history. Refused sends are not stored, and the client retries them later.
   */
  get saturated(): boolean {
    return this.inFlight >= this.maxPending;
  }

  /**
   * Deliver everywhere; resolves once remote forwards were answered. Never rejects. Users a
   * forward did not reach (the cached node is dead, or they left it) are looked up once more, and
   * the message goes to any node not tried yet: a recipient who just reconnected elsewhere gets it
   * live instead of only through history.
   */
  async deliver(m: Message, originConn?: ConnId): Promise<void> {
    // The usual same-node case, without the lookup and forward bookkeeping below (a tenth of
    // what a node allocated per message at 20,000 msgs/s, docs/benchmarks.md).
    if (this.cache.cachedOnlyOn(this.selfId, m.to, m.from)) {
      return this.deliverLocally(m, originConn);
    }
    this.inFlight++;
    try {
      await this.deliverEverywhere(m, originConn);
    } finally {
      if (--this.inFlight === 0) for (const w of this.idleWaiters.splice(0)) w();
    }
  }

  /**
   * Look up where a message's users are while it is being appended, so delivery after the ack
   * finds the answer cached (or in flight) instead of starting a lookup then: one round trip less.
   */
  prefetch(m: Pick<Message, 'from' | 'to'>): void {
    this.cache.prefetch(usersOf(m));
  }

  /** Resolves once no delivery is in progress (graceful shutdown, before the forwarder drains). */
  idle(): Promise<void> {
    return this.inFlight === 0 ? Promise.resolve() : new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private async deliverEverywhere(m: Message, originConn: ConnId | undefined): Promise<void> {
    this.deliverLocally(m, originConn);
    const item = originConn === undefined ? { message: m } : { message: m, originConn };
    const tried = new Set<NodeId>([this.selfId]);
    let users = usersOf(m);
    for (let round = 0; round < 2 && users.length > 0; round++) {
      let placed: Map<UserId, NodeInfo[]>;
      try {
        placed = await this.cache.nodesOf(users);
      } catch {
        return; // discovery down: local delivery done, remote recipients catch up from history
      }
      const targets = new Map<NodeId, { node: NodeInfo; users: UserId[] }>();
      for (const [user, nodes] of placed) {
        for (const node of nodes) {
          if (tried.has(node.nodeId)) continue;
          const t = targets.get(node.nodeId) ?? { node, users: [] };
          t.users.push(user);
          targets.set(node.nodeId, t);
        }
      }
      if (targets.size === 0) return; // every user is here only (the usual same-node case)
      const sends: Promise<UserId[]>[] = [];
      for (const { node, users: forUsers } of targets.values()) {
        tried.add(node.nodeId);
        this.stats.forwarded++;
        sends.push(this.forwarder.forward(node, item, forUsers));
      }
      users = [...new Set((await Promise.all(sends)).flat())];
    }
  }

  /** Another node forwarded a batch: hand it to our connections, report who is not here. */
  receive(req: DeliverRequest): DeliverReply {
    for (const { message, originConn } of req.items) this.deliverLocally(message, originConn);
    return { absent: req.users.filter((u) => !this.local.has(u)) };
  }

  private deliverLocally(m: Message, originConn: ConnId | undefined): void {
    const toHere = this.local.has(m.to);
    const fromHere = m.from !== m.to && this.local.has(m.from);
    if (!toHere && !fromHere) return;
    const frame = encodeMessageFrame(m);
    if (toHere) this.stats.local += this.local.sendTo(m.to, frame, originConn);
    if (fromHere) this.stats.local += this.local.sendTo(m.from, frame, originConn);
  }
}

/** The users a message is delivered to: its recipient and, for their other connections, its sender. */
function usersOf(m: Pick<Message, 'from' | 'to'>): UserId[] {
  return m.from === m.to ? [m.to] : [m.to, m.from];
}
