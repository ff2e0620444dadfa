/**
 * The message log with no Kafka (embedded default): messages go straight to sv-persist's ingest
 * endpoint, which answers after the database commit. Natural batching: one request in flight,
 * the next one gathers meanwhile, so order per connection holds and load makes batches bigger.
 */
import { NaturalBatcher } from '@chat/shared/batcher';
import { ERR_LOG_UNAVAILABLE } from '@chat/shared/errors';
import type { InternalClient } from '@chat/shared/internal-client';
import { ROUTES, type IngestReply } from '@chat/shared/internal-api';
import type { MessageLog } from '@chat/shared/message-log';
import type { Accepted, NewMessage } from '@chat/shared/types';

export interface DirectLogOptions {
  maxBatch?: number;
  maxQueue?: number;
  onBatch?: (size: number, ms: number) => void;
}

export class DirectMessageLog implements MessageLog {
  private readonly batcher: NaturalBatcher<NewMessage, Accepted>;

  constructor(client: InternalClient, persistUrl: string, opts: DirectLogOptions = {}) {
    this.batcher = new NaturalBatcher<NewMessage, Accepted>({
      name: 'message log',
      maxBatch: opts.maxBatch ?? 1000,
      maxQueue: opts.maxQueue ?? 20_000,
      run: async (messages) => {
        const started = performance.now();
        try {
          const reply = await client.post<IngestReply>(persistUrl, ROUTES.persistIngest, { messages });
          opts.onBatch?.(messages.length, performance.now() - started);
          return reply.accepted;
        } catch (err) {
          throw new ERR_LOG_UNAVAILABLE('sv-persist did not confirm the write', { cause: err });
        }
      },
    });
  }

  /** Queued synchronously in call order, so the caller's order becomes `seq` order. */
  append(msgs: NewMessage[]): Promise<Accepted[]> {
    return Promise.all(msgs.map((m) => this.batcher.push(m)));
  }

  async close(): Promise<void> {
    await this.batcher.idle();
  }
}
