/**
 * One client connection, from upgrade to close: the `hello` handshake (with its deadline), then
 * every frame of the protocol. Bad input gets an `error` frame and leaves the connection usable;
 * nothing a client sends can throw out of here.
 */
import type { Duplex } from 'node:stream';
import type { WebSocket, RawData } from 'ws';
import { CLOSE, type CloseCode } from '@chat/shared/close-codes';
import { ERR_BAD_FRAME, ERR_OVERLOADED, ERR_QUEUE_FULL, ERR_RATE_LIMITED, ERR_UNAUTHORIZED } from '@chat/shared/errors';
import { newId } from '@chat/shared/ids';
import type { Logger } from '@chat/shared/logger';
import type { MessageLog } from '@chat/shared/message-log';
import { ackFrame, errorFrame, parseClientFrame, type ClientFrame, type HistoryRequest, type Send, type ServerFrame } from '@chat/shared/protocol';
import type { ConnId, UserId } from '@chat/shared/types';
import type { Authenticator } from './auth.ts';
import type { Delivery } from './delivery.ts';
import type { HistoryClient } from './history-client.ts';
import type { LocalConnection, LocalConnections } from './local-connections.ts';
import type { Metrics, RefusalReason } from './metrics.ts';
import type { Presence } from './presence.ts';
import { TokenBucket, UserRateLimits } from './rate-limiter.ts';

export interface SessionDeps {
  nodeId: string;
  auth: Authenticator;
  local: LocalConnections;
  presence: Presence;
  log: MessageLog;
  delivery: Delivery;
  history: HistoryClient;
  metrics: Metrics;
  logger: Logger;
  limits: {
    maxBody: number; helloTimeoutMs: number; rateLimitPerSec: number; rateLimitBurst: number; maxBufferedBytes: number;
    userRateLimitPerSec: number; userRateLimitBurst: number; logMaxWaitMs: number;
  };
  /** Per-user send buckets shared by the user's connections on this node (app.ts makes one per node). */
  userLimits?: UserRateLimits;
}

/** Frames that may arrive while `hello` is being checked; they are handled right after `welcome`. */
const MAX_EARLY_FRAMES = 64;
/** History and conversation queries queued per connection. */
const MAX_PENDING_QUERIES = 16;

export class ClientSession {
  readonly connId: ConnId = newId();
  private state: 'hello' | 'authenticating' | 'open' | 'closed' = 'hello';
  private user: UserId | undefined;
  private conn: LocalConnection | undefined;
  private early: string[] = [];
  /** Messages for this connection that came while it was being registered; they follow `welcome`. */
  private beforeWelcome: string[] | undefined;
  private beforeWelcomeBytes = 0;
  private queries: Promise<void> = Promise.resolve();
  private queriesPending = 0;
  private readonly helloTimer: NodeJS.Timeout;
  private readonly bucket: TokenBucket;
  private userBucket: TokenBucket | undefined;
  private logger: Logger;

  /** The socket holds this turn's frames until the uncork below (see sendRaw). */
  private corked = false;

  /** `socket`: the connection's TCP socket, corked while a turn's frames gather (see sendRaw). */
  constructor(private readonly ws: WebSocket, private readonly deps: SessionDeps, private readonly socket: Duplex) {
    this.logger = deps.logger.child({ connId: this.connId });
    this.bucket = new TokenBucket(deps.limits.rateLimitPerSec, deps.limits.rateLimitBurst);
    this.helloTimer = setTimeout(() => this.close(CLOSE.UNAUTHORIZED), deps.limits.helloTimeoutMs);
    ws.on('message', (data, isBinary) => this.onMessage(data, isBinary));
    ws.on('close', () => this.onClose());
    ws.on('error', (err) => this.logger.debug({ err }, 'socket error'));
    deps.metrics.connections.inc();
  }

  private onMessage(data: RawData, isBinary: boolean): void {
    this.deps.metrics.framesIn.inc();
    if (isBinary) return this.sendError(new ERR_BAD_FRAME('text frames only'));
    const raw = data.toString();
    if (this.state === 'hello') return void this.onHello(raw);
    if (this.state === 'authenticating') {
      if (this.early.length >= MAX_EARLY_FRAMES) return this.sendError(new ERR_RATE_LIMITED('wait for welcome'));
      this.early.push(raw);
      return;
    }
    if (this.state === 'open') this.onFrame(raw);
  }

  private async onHello(raw: string): Promise<void> {
    let frame: ClientFrame;
    try {
      frame = parseClientFrame(raw, this.deps.limits.maxBody);
    } catch (err) {
      return this.refuse(err);
    }
    if (frame.type !== 'hello') return this.refuse(new ERR_UNAUTHORIZED('the first frame must be hello'));
    this.state = 'authenticating';
    try {
      this.user = await this.deps.auth.authenticate(frame);
    } catch (err) {
      return this.refuse(err);
    }
    if (this.state !== 'authenticating') return; // closed while we checked the token
    clearTimeout(this.helloTimer);
    this.logger = this.logger.child({ user: this.user });
    this.conn = { connId: this.connId, user: this.user, socket: { sendRaw: (f) => this.sendDelivered(f) } };
    this.userBucket = this.deps.userLimits?.acquire(this.user);
    this.deps.local.add(this.conn);
    // Welcome only once discovery knows us, so a message sent right after welcome finds us.
    await this.deps.presence.added({ user: this.user, connId: this.connId });
    if (this.state !== 'authenticating') return;
    this.state = 'open';
    this.send({ type: 'welcome', user: this.user, node: this.deps.nodeId });
    for (const frame of this.beforeWelcome ?? []) this.sendRaw(frame);
    this.beforeWelcome = undefined;
    this.logger.debug('hello');
    for (const early of this.early.splice(0)) this.onFrame(early);
  }

  private onFrame(raw: string): void {
    let frame: ClientFrame;
    try {
      frame = parseClientFrame(raw, this.deps.limits.maxBody);
    } catch (err) {
      const cid = cidOf(raw);
      return this.sendError(err, cid);
    }
    switch (frame.type) {
      case 'hello':
        return this.sendError(new ERR_BAD_FRAME('hello was already received'));
      case 'send':
        return void this.onSend(frame);
      case 'history':
        return this.query(() => this.onHistory(frame));
      case 'conversations':
        return this.query(() => this.onConversations(frame.limit));
      case 'ping':
        return this.send({ type: 'pong' });
    }
  }

  private async onSend(frame: Send): Promise<void> {
    if (!this.bucket.take()) return this.sendError(new ERR_RATE_LIMITED('too many messages'), frame.cid);
    if (this.userBucket && !this.userBucket.take()) {
      return this.sendError(new ERR_RATE_LIMITED('too many messages from this user'), frame.cid);
    }
    if (this.deps.delivery.saturated) {
      return this.refuseSend('deliveries', `${this.deps.delivery.pending} deliveries pending`, frame.cid);
    }
    const backlogMs = this.deps.log.backlogMs?.() ?? 0;
    if (backlogMs > this.deps.limits.logMaxWaitMs) {
      return this.refuseSend('log_wait', `the message log is ${Math.round(backlogMs)} ms behind`, frame.cid);
    }
    const msg = { id: newId(), from: this.user!, to: frame.to, cid: frame.cid, body: frame.body, ts: Date.now() };
    try {
      // The append goes on the wire first; the lookup for its delivery runs meanwhile.
      const appended = this.deps.log.append([msg]);
      this.deps.delivery.prefetch(msg);
      const [accepted] = await appended;
      const { id, seq, ts, duplicate } = accepted!;
      this.send(ackFrame(msg.cid, accepted!));
      // A repeated cid was delivered the first time; it is acked again but not re-delivered.
      if (!duplicate) await this.deps.delivery.deliver({ id, seq, from: msg.from, to: msg.to, cid: msg.cid, body: msg.body, ts }, this.connId);
    } catch (err) {
      if (err instanceof ERR_QUEUE_FULL) {
        this.deps.metrics.sendsRefused.inc({ reason: 'log_queue' });
      } else {
        this.logger.warn({ err }, 'send not accepted');
      }
      this.sendError(err, frame.cid);
    }
  }

  /**
   * Past capacity: `unavailable`, counted by reason. Not logged one by one: under overload that
   * is thousands of lines a second, CPU the node needs for the sends it accepts.
   */
  private refuseSend(reason: RefusalReason, why: string, cid: string): void {
    this.deps.metrics.sendsRefused.inc({ reason });
    this.sendError(new ERR_OVERLOADED(why), cid);
  }

  /** Queries run one at a time per connection, so replies come in the order asked. */
  private query(run: () => Promise<void>): void {
    if (this.queriesPending >= MAX_PENDING_QUERIES) return this.sendError(new ERR_RATE_LIMITED('too many queries in flight'));
    this.queriesPending++;
    this.queries = this.queries.then(run).finally(() => void this.queriesPending--);
  }

  private async onHistory(frame: HistoryRequest): Promise<void> {
    try {
      const page = await this.deps.history.history({ user: this.user!, with: frame.with, before: frame.before, after: frame.after, limit: frame.limit });
      this.send({ type: 'history', with: frame.with, messages: page.messages, more: page.more });
    } catch (err) {
      this.logger.warn({ err }, 'history failed');
      this.sendError(err);
    }
  }

  private async onConversations(limit: number | undefined): Promise<void> {
    try {
      const items = await this.deps.history.conversations(this.user!, limit);
      this.send({ type: 'conversations', items });
    } catch (err) {
      this.logger.warn({ err }, 'conversations failed');
      this.sendError(err);
    }
  }

  /** Refuse a handshake: say why, then close 4401. */
  private refuse(err: unknown): void {
    this.sendError(err);
    this.close(CLOSE.UNAUTHORIZED);
  }

  private sendError(err: unknown, cid?: string): void {
    this.send(errorFrame(err, cid));
  }

  private send(frame: ServerFrame): void {
    this.sendRaw(JSON.stringify(frame));
  }

  /**
   * A message for this connection. The connection is local before discovery has it, so nothing
   * sent to the user meanwhile is missed; but `welcome` answers `hello` and goes first. A client
   * catches up after `welcome` from what it had received before; a message shown to it before
   * `welcome` would raise that mark past the messages it missed while away.
   */
  private sendDelivered(frame: string): void {
    if (this.state !== 'authenticating') return this.sendRaw(frame);
    this.beforeWelcomeBytes += frame.length;
    if (this.beforeWelcomeBytes > this.deps.limits.maxBufferedBytes) return this.close(CLOSE.SLOW_CONSUMER);
    (this.beforeWelcome ??= []).push(frame); // made only when needed: an idle connection holds none
  }

  private sendRaw(frame: string): void {
    if (this.ws.readyState !== this.ws.OPEN) return;
    if (!this.corked) {
      // A client that does not read must not grow our memory: close it instead. Checked at the
      // first frame of a turn, so it counts what the kernel did not take in earlier turns, not
      // this turn's frames waiting for the uncork.
      if (this.ws.bufferedAmount > this.deps.limits.maxBufferedBytes) return this.close(CLOSE.SLOW_CONSUMER);
      // One write for every frame this connection gets in this turn: a completed log batch acks
      // and delivers hundreds of messages in one go, often several to one connection, and each
      // frame written alone is a system call through the whole TCP stack. The uncork runs once
      // the turn's promise callbacks are done (process.nextTick after microtasks).
      // docs/benchmarks.md, corked client sockets: p99 at 15,000 msgs/s 277-286 ms instead of 609-975.
      this.corked = true;
      this.socket.cork();
      process.nextTick(this.uncork);
    }
    this.deps.metrics.framesOut.inc();
    this.ws.send(frame);
  }

  private readonly uncork = (): void => {
    this.corked = false;
    this.socket.uncork();
  };

  /** Close with one of CLOSE's codes. */
  close(code: CloseCode): void {
    if (this.state === 'closed') return;
    this.ws.close(code.code, code.reason);
    this.onClose();
  }

  private onClose(): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    clearTimeout(this.helloTimer);
    this.deps.metrics.connections.dec();
    if (this.conn) {
      if (this.userBucket) this.deps.userLimits?.release(this.conn.user);
      this.deps.local.remove(this.conn);
      this.deps.presence.removed(this.connId);
    }
  }
}

/** The `cid` of a refused `send`, when the frame is JSON enough to have one. */
function cidOf(raw: string): string | undefined {
  try {
    const v = JSON.parse(raw) as { type?: unknown; cid?: unknown } | null;
    return v?.type === 'send' && typeof v.cid === 'string' && v.cid.length > 0 && v.cid.length <= 64 ? v.cid : undefined;
  } catch {
    return undefined;
  }
}
