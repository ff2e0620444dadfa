/**
 * Forwards messages to other nodes over HTTP (undici keep-alive): one batcher per target node, so
 * while one request to a node is in flight the next batch gathers (natural batching) and per-node
 * order holds. Messages are already durable when forwarded: a failed forward is logged and the
 * recipients catch up through `history`; it never fails the sender.
 */
import { NaturalBatcher } from '@chat/shared/batcher';
import type { InternalClient } from '@chat/shared/internal-client';
import { ROUTES, type DeliverReply, type DeliverRequest } from '@chat/shared/internal-api';
import type { Logger } from '@chat/shared/logger';
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

export class Forwarder {
  private readonly perNode = new Map<NodeId, { url: string; batcher: NaturalBatcher<Outgoing, UserId[]> }>();
  readonly stats: ForwardStats = { batches: 0, messages: 0, failures: 0 };

  constructor(
    private readonly client: InternalClient,
    private readonly onAbsent: (user: UserId) => void,
    private readonly logger: Logger,
  ) {}

  /**
   * Queue `item` for `node`; resolves when its batch was answered (or failed) with the users it
   * did not reach there: absent from that node, or every one of them when the request failed.
   */
  forward(node: NodeInfo, item: DeliverItem, users: UserId[]): Promise<UserId[]> {
    return this.batcherFor(node).push({ item, users }).catch((err: unknown) => {
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

  private batcherFor(node: NodeInfo): NaturalBatcher<Outgoing, UserId[]> {
    const known = this.perNode.get(node.nodeId);
    // A node id re-registered under a new URL (restarted on another port) gets a fresh pipe.
    if (known && known.url === node.url) return known.batcher;
    const batcher = new NaturalBatcher<Outgoing, UserId[]>({
      name: `forward to ${node.nodeId}`,
      maxBatch: 1000,
      maxQueue: 50_000,
      run: (batch) => this.send(node, batch),
    });
    this.perNode.set(node.nodeId, { url: node.url, batcher });
    return batcher;
  }

  private async send(node: NodeInfo, batch: Outgoing[]): Promise<UserId[][]> {
    const users = [...new Set(batch.flatMap((o) => o.users))];
    this.stats.batches++;
    this.stats.messages += batch.length;
    this.stats.onBatch?.(batch.length);
    try {
      const body: DeliverRequest = { users, items: batch.map((o) => o.item) };
      const reply = await this.client.post<DeliverReply>(node.url, ROUTES.nodeDeliver, body);
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
