/**
 * The node's end of sv-persist's ingest stream (sv-persist/src/ingest-stream.ts), used by the
 * direct message log (sv-websocket/src/message-log-direct.ts): numbered requests over one signed
 * WebSocket (request-stream.ts), several in flight. Frames leave in call order, and sv-persist
 * writes them in arrival order, which is what keeps seq in the node's order.
 *
 * A batch rejected because the stream failed may still have been committed: the client's retry
 * with the same cid is deduplicated by the store.
 */
import { ROUTES, type IngestReply } from './internal-api.ts';
import type { NewMessage } from './types.ts';
import { RequestStreamClient } from './request-stream.ts';

export interface IngestStreamClientOptions {
  /** sv-persist's base URL (http or https; a path prefix is kept). */
  persistUrl: string;
  secret: string;
  /** Deadline for the connect and for each answer. @default 5000 */
  timeoutMs?: number;
  /** After a failed connect, refuse at once for this long. @default 250 */
  retryMs?: number;
}

export class IngestStreamClient {
  private readonly stream: RequestStreamClient<{ messages: readonly NewMessage[] }, IngestReply>;

  constructor(opts: IngestStreamClientOptions) {
    this.stream = new RequestStreamClient({
      baseUrl: opts.persistUrl, path: ROUTES.persistIngestStream, secret: opts.secret,
      name: 'the ingest stream', peer: 'sv-persist', timeoutMs: opts.timeoutMs, retryMs: opts.retryMs,
    });
  }

  /** Write `messages`; resolves after sv-persist's commit with one result per message, in order. */
  async write(messages: readonly NewMessage[]): Promise<IngestReply['accepted']> {
    return (await this.stream.request({ messages })).accepted;
  }

  /** Stop: batches without an answer are rejected. Call once nothing is in flight for a clean end. */
  close(): void {
    this.stream.close();
  }
}
