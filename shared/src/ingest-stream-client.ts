/**
 * The node's end of sv-persist's ingest stream (sv-persist/src/ingest-stream.ts), used by the
 * direct message log (sv-websocket/src/message-log-direct.ts): one WebSocket, opened on first use with a signed upgrade request; each batch goes as a numbered frame and
 * resolves with its own answer, several in flight. Frames leave in call order, also those sent
 * while the socket is still opening (they wait in order in `outbox`), which is what keeps seq in
 * the node's order.
 *
 * Failure: when the socket closes or errs, every batch without an answer is rejected. Some of
 * them may be committed; the client's retry with the same cid is deduplicated by the store.
 * A batch unanswered for `timeoutMs` closes the socket (the answers behind it would wait as long).
 * After a failed connect, batches are refused at once for `retryMs` instead of each trying again.
 */
import type { RawData, WebSocket } from 'ws';
import { ROUTES, type IngestFrameReply, type IngestReply } from './internal-api.ts';
import { openInternalWebSocket, parseFrame } from './internal-websocket.ts';
import type { NewMessage } from './types.ts';

export interface IngestStreamClientOptions {
  /** sv-persist's base URL (http or https; a path prefix is kept). */
  persistUrl: string;
  secret: string;
  /** Deadline for the connect and for each answer. @default 5000 */
  timeoutMs?: number;
  /** After a failed connect, refuse at once for this long. @default 250 */
  retryMs?: number;
}

export class IngestStreamError extends Error {
  constructor(message: string, readonly code?: string) {
    super(message);
  }
}

interface Waiting {
  resolve: (accepted: IngestReply['accepted']) => void;
  reject: (err: Error) => void;
  since: number;
}

export class IngestStreamClient {
  private readonly timeoutMs: number;
  private readonly retryMs: number;
  private ws: WebSocket | undefined;
  private opened = false;
  private outbox: string[] = [];
  private readonly waiting = new Map<number, Waiting>();
  private next = 0;
  private refuseUntil = 0;
  private closed = false;
  private readonly watchdog: NodeJS.Timeout;

  constructor(private readonly opts: IngestStreamClientOptions) {
    this.timeoutMs = opts.timeoutMs ?? 5000;
    this.retryMs = opts.retryMs ?? 250;
    // One timer for all batches: answers come roughly in order, so the oldest waiting is the one to check.
    this.watchdog = setInterval(() => this.checkOverdue(), Math.min(1000, this.timeoutMs));
    this.watchdog.unref();
  }

  /** Write `messages`; resolves after sv-persist's commit with one result per message, in order. */
  write(messages: readonly NewMessage[]): Promise<IngestReply['accepted']> {
    if (this.closed) return Promise.reject(new IngestStreamError('the ingest stream is closed'));
    if (Date.now() < this.refuseUntil) return Promise.reject(new IngestStreamError('sv-persist was unreachable just now'));
    const n = this.next++;
    const frame = JSON.stringify({ n, messages });
    return new Promise((resolve, reject) => {
      this.waiting.set(n, { resolve, reject, since: Date.now() });
      const ws = this.socket();
      if (this.opened) ws.send(frame);
      else this.outbox.push(frame);
    });
  }

  /** Stop: batches without an answer are rejected. Call once nothing is in flight for a clean end. */
  close(): void {
    this.closed = true;
    clearInterval(this.watchdog);
    this.ws?.close(1000, 'node shutting down');
    this.fail(new IngestStreamError('the ingest stream is closed'));
  }

  private socket(): WebSocket {
    if (this.ws) return this.ws;
    const ws = openInternalWebSocket(this.opts.persistUrl, ROUTES.persistIngestStream, this.opts.secret, {
      timeoutMs: this.timeoutMs, maxPayload: 64 * 1024 * 1024,
    });
    this.ws = ws;
    this.opened = false;
    ws.on('open', () => {
      this.opened = true;
      for (const frame of this.outbox) ws.send(frame);
      this.outbox = [];
    });
    ws.on('message', (data: RawData) => this.onAnswer(data));
    ws.on('error', () => undefined); // 'close' follows and says the rest
    ws.on('unexpected-response', (_req, res) => {
      ws.terminate();
      this.lostSocket(ws, `sv-persist refused the ingest stream with ${res.statusCode}`);
    });
    ws.on('close', (code: number) => this.lostSocket(ws, `the ingest stream closed (${code})`));
    return ws;
  }

  private lostSocket(ws: WebSocket, why: string): void {
    if (this.ws !== ws) return;
    if (!this.opened) this.refuseUntil = Date.now() + this.retryMs;
    this.ws = undefined;
    this.opened = false;
    this.outbox = [];
    this.fail(new IngestStreamError(why));
  }

  private fail(err: Error): void {
    const waiting = [...this.waiting.values()];
    this.waiting.clear();
    for (const w of waiting) w.reject(err);
  }

  private onAnswer(data: RawData): void {
    const reply = parseFrame(data) as IngestFrameReply | undefined;
    if (typeof reply !== 'object' || reply === null) return void this.ws?.terminate();
    const w = this.waiting.get(reply.n);
    if (!w) return;
    this.waiting.delete(reply.n);
    if ('accepted' in reply) w.resolve(reply.accepted);
    else w.reject(new IngestStreamError(`sv-persist refused the batch: ${reply.error}: ${reply.message}`, reply.error));
  }

  private checkOverdue(): void {
    const oldest = this.waiting.values().next();
    if (oldest.done || Date.now() - oldest.value.since < this.timeoutMs) return;
    const ws = this.ws;
    if (ws) {
      ws.terminate();
      this.lostSocket(ws, `no answer from sv-persist within ${this.timeoutMs} ms`);
    }
  }
}
