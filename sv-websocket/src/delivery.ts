/**
 * Delivery of an accepted message to every connection of its recipient and the sender's other
 * connections, or of a room's message to its members' (the sending connection excepted): local
 * ones directly (local-delivery.ts), remote ones through discovery and the forwarder. The frame
 * is encoded once for all local recipients. A room's members are looked up in one batch, and the
 * message goes once to each node holding any of them, naming its recipients there.
 *
 * A remote delivery that fails (discovery does not answer, or the forward does not get through)
 * is parked and tried again for `retryMs` (retry-queue.ts): a recipient who stays connected
 * through a short outage gets the message live, late. A repeat is harmless: recipients drop a
 * message whose id they hold. The messages are durable, so what is given up (the window ends,
 * too many are parked, shutdown) is still in `history`.
 */
import { FailureLog } from '@chat/shared/failure-log';
import type { DeliverEvent, DeliverReply, DeliverRequest } from '@chat/shared/internal-api';
import { createLogger, type Logger } from '@chat/shared/logger';
import type { ConnId, Message, NodeId, NodeInfo, UserId } from '@chat/shared/types';
import type { Forwarder, ForwardItem } from './forwarder.ts';
import type { LocalConnections } from './local-connections.ts';
import { LocalDelivery } from './local-delivery.ts';
import type { LookupCache } from './lookup-cache.ts';
import { RetryLoop } from './retry-loop.ts';
import type { DropReason } from './retry-queue.ts';

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
  /** How long a failed remote delivery is tried again; 0 never. @default 10000 */
  retryMs?: number;
  /** Most remote deliveries parked for retry at once; past it, new ones are left to history. @default 10000 */
  maxParked?: number;
  /** Where failures are reported, once per interval with a count. @default silent */
  logger?: Logger;
}

/** A remote delivery waiting for its next attempt. */
interface Retry {
  item: ForwardItem;
  /** Users not reached yet. */
  users: UserId[];
  /** Nodes that took the message (this one included): not sent to again. */
  answered: Set<NodeId>;
}

export class Delivery {
  readonly stats: DeliveryStats = { local: 0, forwarded: 0 };
  private inFlight = 0;
  private idleWaiters: (() => void)[] = [];
  private readonly maxPending: number;
  private readonly retryMs: number;
  private readonly retries: RetryLoop<Retry>;
  private closing = false;
  private readonly failureLog: FailureLog;
  private readonly here: LocalDelivery;

  constructor(
    private readonly selfId: NodeId,
    local: LocalConnections,
    private readonly cache: LookupCache,
    private readonly forwarder: Forwarder,
    opts: DeliveryOptions = {},
  ) {
    this.maxPending = opts.maxPending ?? 10_000;
    this.retryMs = opts.retryMs ?? 10_000;
    this.retries = new RetryLoop({ windowMs: this.retryMs, maxItems: opts.maxParked ?? 10_000 }, async (retry) => {
      const users = await this.deliverRemote(retry.item, retry.users, retry.answered, true);
      return users.length > 0 ? { ...retry, users } : undefined;
    });
    this.failureLog = new FailureLog(opts.logger ?? createLogger({ service: 'sv-websocket', level: 'silent' }));
    this.here = new LocalDelivery(local, this.stats);
  }

  /** Deliveries in progress: accepted messages not yet handed to every node of their users. */
  get pending(): number {
    return this.inFlight;
  }

  /**
   * True while `maxPending` deliveries are in progress: the node accepts no more sends until they
   * drain. Past its forwarding capacity a node would otherwise keep acking messages it cannot
   * deliver live: their forwards queue for seconds, time out, and reach the recipients only
   * through history. Refused sends are not stored, and the client retries them later. Parked
   * retries do not count: a peer down for long would otherwise shut the door on every send; they
   * have a bound of their own (`maxParked`).
   */
  get saturated(): boolean {
    return this.inFlight >= this.maxPending;
  }

  /** Remote deliveries parked for retry (or being retried). */
  get parked(): number {
    return this.retries.size;
  }

  /** Parked deliveries given up, by reason. */
  get retriesDropped(): Readonly<Record<DropReason, number>> {
    return this.retries.dropped;
  }

  /** Deliver everywhere; resolves once remote forwards were answered (or parked). Never rejects. */
  async deliver(m: Message, originConn?: ConnId): Promise<void> {
    // The usual same-node case, without the lookup and forward bookkeeping below (a tenth of
    // what a node allocated per message at 20,000 msgs/s, docs/benchmarks.md).
    if (this.cache.cachedOnlyOn(this.selfId, m.to, m.from)) {
      return this.here.message(m, originConn);
    }
    this.here.message(m, originConn);
    await this.deliverEverywhere(m, usersOf(m), originConn);
  }

  /**
   * Deliver a room's message to the connections of its `members` (the sender's other connections
   * included, `originConn` not), here and on other nodes: one batched lookup of the members, one
   * forward per node holding any, carrying the message once and its recipients there. Retried like
   * `deliver`. Never rejects.
   */
  async deliverRoom(m: Message, members: readonly UserId[], originConn?: ConnId): Promise<void> {
    this.here.roomMessage(m, members, originConn);
    await this.deliverEverywhere(m, [...members], originConn);
  }

  /** The remote part of a message's delivery, counted in `pending` until every node was answered (or it is parked). */
  private async deliverEverywhere(m: Message, users: UserId[], originConn: ConnId | undefined): Promise<void> {
    this.inFlight++;
    try {
      const item = originConn === undefined ? { message: m } : { message: m, originConn };
      const answered = new Set<NodeId>([this.selfId]);
      const left = await this.deliverRemote(item, users, answered, false);
      if (left.length > 0) this.park({ item, users: left, answered });
    } finally {
      if (--this.inFlight === 0) for (const w of this.idleWaiters.splice(0)) w();
    }
  }

  /**
   * Deliver a typing or read event to the connections of `event.to` here and on other nodes
   * (except `originConn`); with `retry`, what a forward did not get to is parked like a message.
   * Never rejects. Events add nothing to `pending`: the overload guard is about messages.
   */
  async deliverEvent(event: DeliverEvent, retry: boolean): Promise<void> {
    this.here.event(event);
    const [a, b = a] = event.to;
    // A room's event names its members: they are looked up like a room message's.
    if (event.to.length <= 2 && this.cache.cachedOnlyOn(this.selfId, a!, b!)) return;
    const answered = new Set<NodeId>([this.selfId]);
    const left = await this.deliverRemote(event, event.to, answered, false);
    if (retry && left.length > 0) this.park({ item: event, users: left, answered });
  }

  /**
   * Look up where a message's users are while it is being appended, so delivery after the ack
   * finds the answer cached (or in flight) instead of starting a lookup then: one round trip less.
   */
  prefetch(m: Pick<Message, 'from' | 'to'>): void {
    this.cache.prefetch(usersOf(m));
  }

  /** The same for a room's message: where its members are. */
  prefetchMembers(members: readonly UserId[]): void {
    this.cache.prefetch(members);
  }

  /**
   * Graceful shutdown, before the forwarder drains: gives up the parked retries (the messages are
   * durable; history has them) and resolves once no delivery or retry is in progress.
   */
  async idle(): Promise<void> {
    this.closing = true;
    const retries = this.retries.close();
    if (this.inFlight > 0) await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
    await retries;
    this.failureLog.close();
  }

  /**
   * Forward `item` to the nodes of `users` not in `answered`, adding each node that takes it.
   * Users a forward did not reach (they left that node, or it failed) are looked up once more and
   * the message goes to any node not tried yet: a recipient who just reconnected elsewhere gets it
   * live. Returns the users to try again: their lookup failed, a forward to one of their nodes did
   * not get through, or (`again`) discovery knows them nowhere: on a retry, that may be discovery
   * back from a restart, empty, before their node re-registered them.
   */
  private async deliverRemote(item: ForwardItem, users: UserId[], answered: Set<NodeId>, again: boolean): Promise<UserId[]> {
    const tried = new Set(answered);
    const left = new Set<UserId>();
    for (let round = 0; round < 2 && users.length > 0; round++) {
      let placed: Map<UserId, NodeInfo[]>;
      try {
        placed = await this.cache.nodesOf(users);
      } catch (err) {
        this.failureLog.record('discovery lookup failed; remote deliveries parked for retry', { err });
        for (const user of users) left.add(user);
        break;
      }
      const targets = new Map<NodeId, { node: NodeInfo; users: UserId[] }>();
      for (const user of users) {
        const nodes = placed.get(user);
        if (nodes === undefined || (again && nodes.length === 0)) left.add(user);
        for (const node of nodes ?? []) {
          if (tried.has(node.nodeId)) continue;
          const t = targets.get(node.nodeId) ?? { node, users: [] };
          t.users.push(user);
          targets.set(node.nodeId, t);
        }
      }
      if (targets.size === 0) break; // every user is here only (the usual same-node case), or nowhere new
      const sends: Promise<readonly UserId[]>[] = [];
      for (const { node, users: forUsers } of targets.values()) {
        tried.add(node.nodeId);
        sends.push(this.forwarder.forward(node, item, forUsers).then((result) => {
          if (result.reached) {
            if ('message' in item) this.stats.forwarded++;
            answered.add(node.nodeId);
            return result.absent;
          }
          for (const user of forUsers) left.add(user);
          return forUsers;
        }));
      }
      users = [...new Set((await Promise.all(sends)).flat())];
    }
    return [...left];
  }

  private park(retry: Retry): void {
    if (this.retryMs <= 0 || this.retries.park(retry) || this.closing) return;
    this.failureLog.record('too many deliveries parked for retry; the message is left to history', { parked: this.retries.size });
  }

  /** Another node forwarded a batch: hand it to our connections, and report who is not here. */
  receive(req: DeliverRequest): DeliverReply {
    return this.here.receive(req);
  }
}

/** The users a message is delivered to: its recipient and, for their other connections, its sender. */
function usersOf(m: Pick<Message, 'from' | 'to'>): UserId[] {
  return m.from === m.to ? [m.to] : [m.to, m.from];
}
