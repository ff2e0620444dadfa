/**
 * Forwards messages to other nodes: one batcher per target node, so while a batch to a node is in
 * flight the next one gathers (natural batching). Two transports, the same request and answer:
 * - the forward stream (default): one signed WebSocket per target node, up to `inFlight` batches
 *   on it at once; frames leave in batch order and the target hands them over in arrival order;
 * - HTTP (undici keep-alive): one POST per batch, one batch in flight per node.
 * Either way per-node order holds. Messages are already durable when forwarded: a failed forward
 * is logged and the recipients catch up through `history`; it never fails the sender.
 *
 * A peer nothing was forwarded to for `peerIdleMs` (a node that left the mesh, or whose users all
 * left it) is dropped, its stream closed: in a mesh whose nodes come and go, a node would
 * otherwise keep a socket, a batcher and a timer for every node that ever was. The next forward
 * there opens a new one.
 */
import { NaturalBatcher } from '@chat/shared/batcher';
import type { InternalClient } from '@chat/shared/internal-client';
import { ROUTES, type DeliverReply, type DeliverRequest } from '@chat/shared/internal-api';
import type { Logger } from '@chat/shared/logger';
import { RequestStreamClient } from '@chat/shared/request-stream';
import type { NodeId, NodeInfo, UserId } from '@chat/shared/types';

type DeliverItem = DeliverRequest['items'][number];

interface Outgoing {
  item: DeliverItem;
  /** Users discovery placed on the target node for this item. */
  users: UserId[];
}

export interface ForwardStats {
  batches: number;
  messages: number;
  failures: number;
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
}

interface Peer {
  url: string;
  batcher: NaturalBatcher<Outgoing, UserId[]>;
  stream?: RequestStreamClient<DeliverRequest, DeliverReply>;
  lastUsed: number;
}

export class Forwarder {
  private readonly perNode = new Map<NodeId, Peer>();
  readonly stats: ForwardStats = { batches: 0, messages: 0, failures: 0 };
  private readonly peerIdleMs: number;
  private readonly sweeper: NodeJS.Timeout;

  /** Without `stream`, every forward is an HTTP request through `client`. */
  constructor(
    private readonly client: InternalClient,
    private readonly onAbsent: (user: UserId) => void,
    private readonly logger: Logger,
    private readonly stream?: ForwardStreamOptions,
    opts: ForwarderOptions = {},
  ) {
    this.peerIdleMs = opts.peerIdleMs ?? 60_000;
    this.sweeper = setInterval(() => this.dropIdlePeers(), Math.min(this.peerIdleMs, 30_000));
    this.sweeper.unref();
  }

  /** Nodes this one holds a pipe to (metrics, tests). */
  get peers(): number {
    return this.perNode.size;
  }

  /**
   * Queue `item` for `node`; resolves when its batch was answered (or failed) with the users it
   * did not reach there: absent from that node, or every one of them when the request failed.
   */
  forward(node: NodeInfo, item: DeliverItem, users: UserId[]): Promise<UserId[]> {
    const peer = this.peerFor(node);
    peer.lastUsed = Date.now();
    return peer.batcher.push({ item, users }).catch((err: unknown) => {
      // Queue full: the message is durable, so the recipient still gets it through history.
      this.stats.failures++;
      this.logger.warn({ err, node: node.nodeId }, 'forward dropped');
      return [];
    });
  }

  /** Resolves once every queued forward was sent (graceful shutdown). */
  async idle(): Promise<void> {
    await Promise.all([...this.perNode.values()].map((n) => n.batcher.idle()));
  }

  /** Close the forward streams (after `idle`). */
  close(): void {
    clearInterval(this.sweeper);
    for (const peer of this.perNode.values()) peer.stream?.close();
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
    const batcher = new NaturalBatcher<Outgoing, UserId[]>({
      name: `forward to ${node.nodeId}`,
      maxBatch: 1000,
      maxQueue: 50_000,
      concurrency: stream ? (this.stream?.inFlight ?? 4) : 1,
      gatherTurn: true,
      run: (batch) => this.send(node, stream, batch),
    });
    known?.stream?.close();
    const peer = { url: node.url, batcher, stream, lastUsed: Date.now() };
    this.perNode.set(node.nodeId, peer);
    return peer;
  }

  private async send(node: NodeInfo, stream: Peer['stream'], batch: Outgoing[]): Promise<UserId[][]> {
    const users = [...new Set(batch.flatMap((o) => o.users))];
    this.stats.batches++;
    this.stats.messages += batch.length;
    this.stats.onBatch?.(batch.length);
    try {
      const body: DeliverRequest = { users, items: batch.map((o) => o.item) };
      // The stream's frame goes out synchronously here, so batches leave in the batcher's order.
      const reply = stream ? await stream.request(body) : await this.client.post<DeliverReply>(node.url, ROUTES.nodeDeliver, body);
      for (const user of reply.absent) this.onAbsent(user);
      const absent = new Set(reply.absent);
      return batch.map((o) => o.users.filter((u) => absent.has(u)));
    } catch (err) {
      this.stats.failures++;
      for (const user of users) this.onAbsent(user);
      this.logger.warn({ err, node: node.nodeId, messages: batch.length }, 'forward failed; recipients will catch up from history');
      return batch.map((o) => o.users);
    }
  }
}
