/**
 * Numbered requests over one signed internal WebSocket, both ends: the ingest stream (node →
 * sv-persist) and the forward stream (node → node). Why a stream: at light load every batch is a
 * message or two, and an HTTP request (headers, routing, hooks, an HMAC over each body) cost more
 * CPU than the work it carried; under load, one request in flight left the receiver idle while
 * each answer travelled back (docs/benchmarks.md).
 *
 * Wire: the client sends `{ n, ...request }` text frames, n counting up per connection; the server
 * hands each frame to its handler synchronously, in arrival order, and answers `{ n, ...reply }`,
 * or `{ n, error, message }` (a bad frame: `bad_request`, and the stream goes on). A frame that is
 * not JSON closes the stream with 1007, one without a number with 1008: the sender could not match
 * an answer to it. Answers may come in any order; frames leave in call order, also those sent
 * while the socket is still opening, which is what keeps the sender's order at the receiver.
 *
 * Client failure: when the socket closes or errs, every request without an answer is rejected
 * (the receiver may have acted on some: callers make retries harmless). A request unanswered for
 * `timeoutMs` closes the socket, as the answers behind it would wait as long. After a failed
 * connect, requests are refused at once for `retryMs` instead of each trying again.
 */
import type { Server } from 'node:http';
import type { RawData, WebSocket, WebSocketServer } from 'ws';
import type { z } from 'zod';
import { errorAnswer } from './errors.ts';
import { openInternalWebSocket, parseFrame, serveInternalWebSocket, type InternalWebSocketServerOptions } from './internal-websocket.ts';
import { describeIssues } from './protocol.ts';

export interface RequestStreamClientOptions {
  /** The peer's base URL (http or https; a path prefix is kept). */
  baseUrl: string;
  path: string;
  secret: string;
  /** Names the stream and the peer in errors: "the ingest stream", "sv-persist". */
  name: string;
  peer: string;
  /** Deadline for the connect and for each answer. @default 5000 */
  timeoutMs?: number;
  /** After a failed connect, refuse at once for this long. @default 250 */
  retryMs?: number;
  /** Largest answer. @default 64 MiB */
  maxPayload?: number;
}

export class RequestStreamError extends Error {
  /** `code`: the peer's error code for one request; `status`: the HTTP status that refused the upgrade. */
  constructor(message: string, readonly code?: string, readonly status?: number) {
    super(message);
  }
}

type ErrorReply = { n: number; error: string; message: string };

interface Waiting<Reply> {
  resolve: (reply: Reply) => void;
  reject: (err: Error) => void;
  since: number;
}

export class RequestStreamClient<Request extends object, Reply extends object> {
  private readonly timeoutMs: number;
  private readonly retryMs: number;
  private ws: WebSocket | undefined;
  private opened = false;
  private outbox: string[] = [];
  private readonly waiting = new Map<number, Waiting<Reply>>();
  private next = 0;
  private refuseUntil = 0;
  private closed = false;
  private readonly watchdog: NodeJS.Timeout;

  constructor(private readonly opts: RequestStreamClientOptions) {
    this.timeoutMs = opts.timeoutMs ?? 5000;
    this.retryMs = opts.retryMs ?? 250;
    // One timer for all requests: answers come roughly in order, so the oldest waiting is the one to check.
    this.watchdog = setInterval(() => this.checkOverdue(), Math.min(1000, this.timeoutMs));
    this.watchdog.unref();
  }

  /** Send `request`; resolves with the peer's answer to it. */
  request(request: Request): Promise<Reply> {
    if (this.closed) return Promise.reject(new RequestStreamError(`${this.opts.name} is closed`));
    if (Date.now() < this.refuseUntil) return Promise.reject(new RequestStreamError(`${this.opts.peer} was unreachable just now`));
    const n = this.next++;
    const frame = JSON.stringify({ n, ...request });
    return new Promise((resolve, reject) => {
      this.waiting.set(n, { resolve, reject, since: Date.now() });
      const ws = this.socket();
      if (this.opened) ws.send(frame);
      else this.outbox.push(frame);
    });
  }

  /** Stop: requests without an answer are rejected. Call once nothing is in flight for a clean end. */
  close(): void {
    this.closed = true;
    clearInterval(this.watchdog);
    this.ws?.close(1000, 'shutting down');
    this.fail(new RequestStreamError(`${this.opts.name} is closed`));
  }

  private socket(): WebSocket {
    if (this.ws) return this.ws;
    const ws = openInternalWebSocket(this.opts.baseUrl, this.opts.path, this.opts.secret, {
      timeoutMs: this.timeoutMs, maxPayload: this.opts.maxPayload ?? 64 * 1024 * 1024,
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
      const status = res.statusCode ?? 0;
      this.lostSocket(ws, new RequestStreamError(`${this.opts.peer} refused ${this.opts.name} with ${status}`, undefined, status));
    });
    ws.on('close', (code: number) => this.lostSocket(ws, new RequestStreamError(`${this.opts.name} closed (${code})`)));
    return ws;
  }

  private lostSocket(ws: WebSocket, err: RequestStreamError): void {
    if (this.ws !== ws) return;
    if (!this.opened) this.refuseUntil = Date.now() + this.retryMs;
    this.ws = undefined;
    this.opened = false;
    this.outbox = [];
    this.fail(err);
  }

  private fail(err: Error): void {
    const waiting = [...this.waiting.values()];
    this.waiting.clear();
    for (const w of waiting) w.reject(err);
  }

  private onAnswer(data: RawData): void {
    const reply = parseFrame(data) as (Reply & { n: number }) | ErrorReply | undefined;
    if (typeof reply !== 'object' || reply === null) return void this.ws?.terminate();
    const w = this.waiting.get(reply.n);
    if (!w) return;
    this.waiting.delete(reply.n);
    if ('error' in reply) w.reject(new RequestStreamError(`${this.opts.peer} refused the request: ${reply.error}: ${reply.message}`, reply.error));
    else w.resolve(reply);
  }

  private checkOverdue(): void {
    const oldest = this.waiting.values().next();
    if (oldest.done || Date.now() - oldest.value.since < this.timeoutMs) return;
    const ws = this.ws;
    if (ws) {
      ws.terminate();
      this.lostSocket(ws, new RequestStreamError(`no answer from ${this.opts.peer} within ${this.timeoutMs} ms`));
    }
  }
}

export interface RequestStreamServerOptions<Request extends { n: number }, Reply extends object>
  extends Omit<InternalWebSocketServerOptions, 'onConnection'> {
  /** Every frame is checked against it (it must require `n`); only what it keeps reaches `handle`. */
  schema: z.ZodType<Request>;
  /** Called synchronously for each valid frame, in arrival order. A rejection is answered as an error. */
  handle: (request: Request) => Reply | Promise<Reply>;
}

/** Serve a request stream at `opts.path` of `server`; close it with closeInternalWebSockets. */
export function serveRequestStream<Request extends { n: number }, Reply extends object>(
  server: Server,
  opts: RequestStreamServerOptions<Request, Reply>,
): WebSocketServer {
  const log = opts.logger;
  return serveInternalWebSocket(server, {
    ...opts,
    onConnection: (ws) => {
      ws.on('error', (err) => log.warn({ err }, 'request stream error'));
      ws.on('message', (data: RawData) => onFrame(ws, data));
    },
  });

  function onFrame(ws: WebSocket, data: RawData): void {
    const frame = parseFrame(data);
    if (frame === undefined) return void ws.close(1007, 'frame is not JSON');
    const parsed = opts.schema.safeParse(frame);
    if (!parsed.success) {
      const n = (frame as { n?: unknown } | null)?.n;
      // Without its number the sender cannot match an answer: the connection is broken.
      if (typeof n !== 'number') return void ws.close(1008, 'frame without a number');
      return answer(ws, { n, error: 'bad_request', message: describeIssues(parsed.error) });
    }
    const { n } = parsed.data;
    let result: Reply | Promise<Reply>;
    try {
      // Handed over now, synchronously: the handler sees frames in arrival order.
      result = opts.handle(parsed.data);
    } catch (err) {
      return answerError(ws, n, err);
    }
    if (!(result instanceof Promise)) return answer(ws, { ...result, n });
    result.then((reply) => answer(ws, { ...reply, n }), (err: unknown) => answerError(ws, n, err));
  }

  /** As the HTTP routes answer: a failure nobody named is logged here and not described to the peer. */
  function answerError(ws: WebSocket, n: number, err: unknown): void {
    const { code, fault } = errorAnswer(err);
    if (fault === 'internal') log.error({ err }, 'request failed');
    else log.warn({ err }, 'request refused');
    answer(ws, { n, error: code, message: fault === 'internal' ? 'internal error' : (err as Error).message });
  }

  function answer(ws: WebSocket, reply: object): void {
    // A peer that went away gets nothing: it treats the request as failed, and its retries are harmless.
    if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(reply));
  }
}
