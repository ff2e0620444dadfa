/**
 * The message log with no Kafka (embedded default): messages go straight to sv-persist over its
 * ingest stream (one WebSocket, shared/src/ingest-stream-client.ts), which answers each batch after the
 * database commit. Natural batching with a pipeline: up to `inFlight` batches on the stream at
 * once, the next one gathering meanwhile. The stream keeps frames in order and sv-persist writes
 * them in arrival order, so order per connection holds with several in flight.
 */
import { NaturalBatcher } from '@chat/shared/batcher';
import { ERR_LOG_UNAVAILABLE } from '@chat/shared/errors';
import type { MessageLog } from '@chat/shared/message-log';
import type { Accepted, NewMessage } from '@chat/shared/types';
import { IngestStreamClient } from '@chat/shared/ingest-stream-client';

export interface DirectLogOptions {
  persistUrl: string;
  secret: string;
  maxBatch?: number;
  maxQueue?: number;
  /** Batches on the stream at once. @default 4 */
  inFlight?: number;
  /** Deadline for each batch's answer. @default 5000 */
  timeoutMs?: number;
  onBatch?: (size: number, ms: number) => void;
}

export class DirectMessageLog implements MessageLog {
  private readonly batcher: NaturalBatcher<NewMessage, Accepted>;
  private readonly stream: IngestStreamClient;

  constructor(opts: DirectLogOptions) {
    this.stream = new IngestStreamClient({ persistUrl: opts.persistUrl, secret: opts.secret, timeoutMs: opts.timeoutMs });
    this.batcher = new NaturalBatcher<NewMessage, Accepted>({
      name: 'message log',
      maxBatch: opts.maxBatch ?? 1000,
      maxQueue: opts.maxQueue ?? 20_000,
      concurrency: opts.inFlight ?? 4,
      gatherTurn: true,
      run: async (messages) => {
        const started = performance.now();
        try {
          const accepted = await this.stream.write(messages);
          opts.onBatch?.(messages.length, performance.now() - started);
          return accepted;
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

  backlogMs(): number {
    return this.batcher.oldestWaitMs();
  }

  async close(): Promise<void> {
    await this.batcher.idle();
    this.stream.close();
  }
}
