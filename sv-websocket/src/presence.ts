/**
 * This node's presence in discovery: its lease (renewed by heartbeat) and one entry per local
 * connection. Entry changes are batched (natural batching) into one request at a time. When
 * discovery forgot the node (restart, expired lease) or an update failed, the next heartbeat
 * re-adds every local connection, so the registry heals without anyone cleaning up by hand.
 */
import { NaturalBatcher } from '@chat/shared/batcher';
import type { Logger } from '@chat/shared/logger';
import type { ConnEntry, Registry } from '@chat/shared/registry';
import type { ConnId, NodeInfo } from '@chat/shared/types';
import type { LocalConnections } from './local-connections.ts';

type EntryOp = { add: ConnEntry } | { remove: ConnId };
const RESYNC_CHUNK = 5000;
/** Failed removals kept for the next resync; past it the oldest are given up (their entries live as long as the node's lease). */
const MAX_FAILED_REMOVALS = 100_000;

export class Presence {
  private readonly ops: NaturalBatcher<EntryOp, void>;
  private timer: NodeJS.Timeout | undefined;
  private needsResync = true;
  private heartbeatRunning = false;
  /** Removals discovery may not have applied: sent again at the next resync. */
  private readonly failedRemovals = new Set<ConnId>();

  constructor(
    private readonly registry: Registry,
    private readonly node: NodeInfo,
    private readonly leaseMs: number,
    private readonly local: LocalConnections,
    private readonly logger: Logger,
  ) {
    this.ops = new NaturalBatcher<EntryOp, void>({
      name: 'presence updates',
      maxBatch: 5000,
      maxQueue: 100_000,
      run: async (batch) => {
        const { add, remove } = splitOps(batch);
        try {
          await this.registry.updateEntries(this.node.nodeId, add, remove);
        } catch (err) {
          this.removalFailed(remove);
          this.logger.warn({ err }, 'discovery update failed; will resync on next heartbeat');
        }
        return batch.map(() => undefined);
      },
    });
  }

  /** Take the lease now, then renew it every leaseMs / 3. */
  async start(): Promise<void> {
    await this.heartbeat();
    this.timer = setInterval(() => void this.heartbeat(), Math.floor(this.leaseMs / 3));
    this.timer.unref();
  }

  /** Resolves once discovery has the entry (or the attempt failed and a resync is scheduled). */
  added(entry: ConnEntry): Promise<void> {
    return this.ops.push({ add: entry }).catch(() => void (this.needsResync = true));
  }

  removed(connId: ConnId): void {
    void this.ops.push({ remove: connId }).catch(() => this.removalFailed([connId]));
  }

  /** Renew the lease; re-add all entries when discovery did not know us or an update failed. */
  async heartbeat(): Promise<void> {
    if (this.heartbeatRunning) return;
    this.heartbeatRunning = true;
    try {
      const known = await this.registry.renewLease(this.node, this.leaseMs);
      if (!known || this.needsResync) {
        this.needsResync = false;
        await this.resync(known);
      }
    } catch (err) {
      this.needsResync = true;
      this.logger.warn({ err }, 'discovery lease renewal failed');
    } finally {
      this.heartbeatRunning = false;
    }
  }

  /** Stop renewing and drop our lease and entries. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.ops.idle();
    try {
      await this.registry.removeNode(this.node.nodeId);
    } catch (err) {
      this.logger.warn({ err }, 'could not deregister from discovery; the lease will expire');
    }
  }

  private removalFailed(connIds: readonly ConnId[]): void {
    this.needsResync = true;
    for (const connId of connIds) {
      this.failedRemovals.add(connId);
      if (this.failedRemovals.size > MAX_FAILED_REMOVALS) this.failedRemovals.delete(this.failedRemovals.values().next().value!);
    }
  }

  /** Re-add every local connection; when discovery still held the node, remove what failed to go before. */
  private async resync(known: boolean): Promise<void> {
    const retried = known ? [...this.failedRemovals] : []; // a forgotten node's entries are gone already
    this.failedRemovals.clear();
    try {
      await this.readdAll();
      for (let i = 0; i < retried.length; i += RESYNC_CHUNK) await this.registry.updateEntries(this.node.nodeId, [], retried.slice(i, i + RESYNC_CHUNK));
    } catch (err) {
      this.removalFailed(retried);
      throw err;
    }
    if (retried.length > 0) this.logger.info({ removals: retried.length }, 'removals discovery missed sent again');
  }

  private async readdAll(): Promise<void> {
    let chunk: ConnEntry[] = [];
    for (const conn of this.local.all()) {
      chunk.push({ user: conn.user, connId: conn.connId });
      if (chunk.length === RESYNC_CHUNK) {
        await this.registry.updateEntries(this.node.nodeId, chunk, []);
        chunk = [];
      }
    }
    if (chunk.length > 0) await this.registry.updateEntries(this.node.nodeId, chunk, []);
    this.logger.info({ connections: this.local.size }, 'entries re-registered with discovery');
  }
}

/** Adds and removes of one batch; a connection both opened and closed within it cancels out. */
export function splitOps(batch: readonly EntryOp[]): { add: ConnEntry[]; remove: ConnId[] } {
  const removed = new Set<ConnId>();
  for (const op of batch) if ('remove' in op) removed.add(op.remove);
  const add: ConnEntry[] = [];
  const cancelled = new Set<ConnId>();
  for (const op of batch) {
    if (!('add' in op)) continue;
    if (removed.has(op.add.connId)) cancelled.add(op.add.connId);
    else add.push(op.add);
  }
  const remove = [...removed].filter((c) => !cancelled.has(c));
  return { add, remove };
}
