/**
 * What sv-persist stored for a (from, cid) (`POST /internal/v1/sent`): how a node resolves a repeat
 * whose first copy's node died before recording the log's answer (claiming-log.ts). Lookups are
 * batched (one request in flight) and fail over across the persisters like history.
 */
import { NaturalBatcher } from '@chat/shared/batcher';
import { Failover } from '@chat/shared/failover';
import type { InternalClient } from '@chat/shared/internal-client';
import { ROUTES, type SentReply } from '@chat/shared/internal-api';
import type { UserId } from '@chat/shared/types';

export type StoredSend = NonNullable<SentReply['found'][number]>;

export interface SendKey {
  from: UserId;
  cid: string;
}

/** The port ClaimingLog reads the store through. */
export interface StoredSends {
  /** The stored message of (from, cid), or null when none is stored (yet). */
  find(key: SendKey): Promise<StoredSend | null>;
}

export class HttpStoredSends implements StoredSends {
  private readonly targets: Failover;
  private readonly batcher: NaturalBatcher<SendKey, StoredSend | null>;

  constructor(private readonly client: InternalClient, persistUrls: readonly string[]) {
    this.targets = new Failover(persistUrls);
    this.batcher = new NaturalBatcher({
      name: 'stored sends lookup',
      maxBatch: 1000,
      maxQueue: 10_000,
      gatherTurn: true,
      run: async (keys) => {
        const body = { keys: keys.map(({ from, cid }) => ({ from, cid })) };
        const { found } = await this.targets.run((base) => this.client.post<SentReply>(base, ROUTES.persistSent, body));
        return found;
      },
    });
  }

  find(key: SendKey): Promise<StoredSend | null> {
    return this.batcher.push(key);
  }
}
