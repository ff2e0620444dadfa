/**
 * Forwards messages (and typing, read and room events beside them) to other nodes: one batcher per
 * target node, so while a batch to a node is in flight the next one gathers (natural batching).
 * Two transports, the same request and answer:
 * - the forward stream (default): one signed WebSocket per target node, up to `inFlight` batches
 *   on it at once; frames leave in batch order and the target hands them over in arrival order;
 * - HTTP (undici keep-alive): one POST per batch, one batch in flight per node.
 * Either way per-node order holds. Messages are already durable when forwarded: a failed forward
 * never fails the sender; the caller may try again, and the recipients catch up through `history`.
 *
 * A peer whose forward failed is marked down (peer-breaker.ts): what would go there is held at
 * once, with no request and no log line, until a probe gets through. Failures are logged once
 * per interval with a count (FailureLog), never once per batch.
 *
 * A peer nothing was forwarded to for `peerIdleMs` (a node that left the mesh, or whose users all
 * left it) is dropped, its stream closed: in a mesh whose nodes come and go, a node would
 * otherwise keep a socket, a batcher and a timer for every node that ever was. The next forward
 * there opens a new one.
 */
import { NaturalBatcher } from '@chat/shared/batcher';
import { FailureLog } from '@chat/shared/failure-log';
import { InternalHttpError, type InternalClient } from '@chat/shared/internal-client';
import { ROUTES, type DeliverReply, type DeliverRequest } from '@chat/shared/internal-api';
import type { Logger } from '@chat/shared/logger';
import { RequestStreamClient, RequestStreamError } from '@chat/shared/request-stream';
import type { NodeId, NodeInfo, UserId } from '@chat/shared/types';
import { forwardSize, requestOf, type ForwardItem, type Outgoing } from './forward-request.ts';
import { PeerBreaker, type PeerBreakerOptions } from './peer-breaker.ts';

export type { DeliverItem, ForwardItem } from './forward-request.ts';

/** What one forward came to. */
export interface ForwardResult {
  /** The node took the message. When false (the request failed, or the node is marked down), nothing is known. */
  readonly reached: boolean;
  /** Of the users asked for, those the node does not hold. */
  readonly absent: readonly UserId[];
}

const NOT_REACHED: ForwardResult = Object.freeze({ reached: false, absent: Object.freeze([]) });

export interface ForwardStats {
  batches: number;
  messages: number;
  /** Forward requests that failed: not answered, or refused. */
  failures: number;
  /** Messages held without a request because their node is marked down. */
  held: number;
  /** Messages dropped because the queue to their node was full. */
  dropped: number;
  onBatch?: (size: number) => void;
}

export interface ForwardStreamOptions {
  /** The cluster secret, proven by each stream's upgrade request. */
  secret: string;
  /** Batches on one node's stream at once. @default 4 */
  inFlight?: number;
}

export interface ForwarderOptions {
  /** Drop a peer not forwarded to for this long. @default 60000 */
  peerIdleMs?: number;
  /** When a peer marked down is probed. */
  breaker?: PeerBreakerOptions;
  /** A peer was just marked down (the lookup cache forgets who it placed there). */
  onPeerDown?: (nodeId: NodeId) => void;
  /** Failures of a kind are logged once per this interval, with a count. @default 10000 */
  failureLogMs?: number;
}

interface Peer {
  url: string;
  batcher: NaturalBatcher<Outgoing, ForwardResult>;
  stream?: RequestStreamClient<DeliverRequest, DeliverReply>;
  breaker: PeerBreaker;
  lastUsed: number;
}

export class Forwarder {
  private readonly perNode = new Map<NodeId, Peer>();
  readonly stats: ForwardStats = { batches: 0, messages: 0, failures: 0, held: 0, dropped: 0 };
  private readonly peerIdleMs: number;
  private readonly sweeper: NodeJS.Timeout;
  private readonly failureLog: FailureLog;

  /** Without `stream`, every forward is an HTTP request through `client`. */
  constructor(
    private readonly client: InternalClient,
    private readonly onAbsent: (user: UserId) => void,
    private readonly logger: Logger,
    private readonly stream?: ForwardStreamOptions,
    private readonly opts: ForwarderOptions = {},
  ) {
    this.peerIdleMs = opts.peerIdleMs ?? 60_000;
    this.sweeper = setInterval(() => this.dropIdlePeers(), Math.min(this.peerIdleMs, 30_000));
    this.sweeper.unref();
    this.failureLog = new FailureLog(logger, { intervalMs: opts.failureLogMs });
  }

  /** Nodes this one holds a pipe to (metrics, tests). */
  get peers(): number {
    return this.perNode.size;
  }

  /** Peers marked down: forwards to them are held until a probe gets through. */
  get peersDown(): number {
    let n = 0;
    for (const peer of this.perNode.values()) if (peer.breaker.down) n++;
    return n;
  }

  /**
   * Queue `item` for `node`; resolves when its batch was answered, or at once when the node is
   * marked down. Never rejects.
   */
  forward(node: NodeInfo, item: ForwardItem, users: UserId[]): Promise<ForwardResult> {
    const peer = this.peerFor(node);
    const now = Date.now();
    peer.lastUsed = now;
    const admission = peer.breaker.admit(now);
    if (admission === 'hold') {
      this.stats.held++;
      return Promise.resolve(NOT_REACHED);
    }
    const probe = admission === 'probe';
    return peer.batcher.push({ item, users, probe }).catch((err: unknown) => {
      // Queue full. A probe lost this way counts as failed, so another one goes later.
      this.stats.dropped++;
      if (probe) peer.breaker.failed(Date.now(), true);
      this.failureLog.record('forward dropped: the queue to the node is full', { err, peer: node.nodeId });
      return NOT_REACHED;
    });
  }

  /** Resolves once every queued forward was sent (graceful shutdown). */
  async idle(): Promise<void> {
    await Promise.all([...this.perNode.values()].map((n) => n.batcher.idle()));
  }

  /** Close the forward streams (after `idle`), and log the failure counts not logged yet. */
  close(): void {
    clearInterval(this.sweeper);
    for (const peer of this.perNode.values()) peer.stream?.close();
    this.failureLog.close();
  }

  private dropIdlePeers(): void {
    const before = Date.now() - this.peerIdleMs;
    for (const [nodeId, peer] of this.perNode) {
      if (peer.lastUsed > before || peer.batcher.busy) continue;
      peer.stream?.close();
      this.perNode.delete(nodeId);
      this.logger.debug({ node: nodeId }, 'idle forward peer dropped');
    }
  }

  private peerFor(node: NodeInfo): Peer {
    const known = this.perNode.get(node.nodeId);
    // A node id re-registered under a new URL (restarted on another port) gets a fresh pipe.
    if (known && known.url === node.url) return known;
    const stream = this.stream && new RequestStreamClient<DeliverRequest, DeliverReply>({
      baseUrl: node.url, path: ROUTES.nodeDeliverStream, secret: this.stream.secret,
      name: `the forward stream to ${node.nodeId}`, peer: `node ${node.nodeId}`,
    });
    const breaker = new PeerBreaker(this.opts.breaker);
    const batcher = new NaturalBatcher<Outgoing, ForwardResult>({
      name: `forward to ${node.nodeId}`,
      // 1,000 one-to-one messages, or fewer when rooms' messages name many recipients.
      maxBatch: 1000,
      sizeOf: forwardSize,
      maxQueue: 50_000,
      concurrency: stream ? (this.stream?.inFlight ?? 4) : 1,
      gatherTurn: true,
      run: (batch) => this.send(node, stream, breaker, batch),
    });
    known?.stream?.close();
    const peer = { url: node.url, batcher, stream, breaker, lastUsed: Date.now() };
    this.perNode.set(node.nodeId, peer);
    return peer;
  }

  private async send(node: NodeInfo, stream: Peer['stream'], breaker: PeerBreaker, batch: Outgoing[]): Promise<ForwardResult[]> {
    const probe = batch.some((o) => o.probe);
    // Queued before the peer was marked down: held like the rest, unless the probe goes with them.
    if (breaker.down && !probe) {
      this.stats.held += batch.length;
      return batch.map(() => NOT_REACHED);
    }
    const users = [...new Set(batch.flatMap((o) => o.users))];
    this.stats.batches++;
    this.stats.messages += batch.length;
    this.stats.onBatch?.(batch.length);
    try {
      const body = requestOf(users, batch);
      // The stream's frame goes out synchronously here, so batches leave in the batcher's order.
      const reply = stream ? await stream.request(body) : await this.client.post<DeliverReply>(node.url, ROUTES.nodeDeliver, body);
      if (breaker.succeeded()) this.logger.info({ peer: node.nodeId }, 'forward peer is back: forwarding to it again');
      for (const user of reply.absent) this.onAbsent(user);
      const absent = new Set(reply.absent);
      return batch.map((o) => ({ reached: true, absent: o.users.filter((u) => absent.has(u)) }));
    } catch (err) {
      this.stats.failures++;
      // An error reply proves the peer up; only a forward it did not answer marks it down.
      if (answered(err)) {
        breaker.succeeded();
      } else if (breaker.failed(Date.now(), probe)) {
        this.opts.onPeerDown?.(node.nodeId);
        this.failureLog.record('forward peer down: holding forwards to it, probing it with backoff', { err, peer: node.nodeId });
        return batch.map(() => NOT_REACHED);
      }
      this.failureLog.record('forward failed', { err, peer: node.nodeId, messages: batch.length });
      return batch.map(() => NOT_REACHED);
    }
  }
}

/** Whether a failed forward was answered by its peer (an error reply, a 4xx). */
function answered(err: unknown): boolean {
  if (err instanceof RequestStreamError) return err.code !== undefined;
  return err instanceof InternalHttpError && err.status < 500;
}
