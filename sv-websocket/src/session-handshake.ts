/**
 * The start of a connection: `hello` within its deadline, authenticated; the connection registered
 * (with the node's local connections at once, with discovery before `welcome`); then `welcome`.
 * Frames that arrive while `hello` is being checked are held and handled right after `welcome`;
 * messages delivered to the connection meanwhile are held and follow `welcome`.
 */
import { CLOSE, type CloseCode } from '@chat/shared/close-codes';
import { ERR_RATE_LIMITED, ERR_UNAUTHORIZED } from '@chat/shared/errors';
import { parseClientFrame, type ClientFrame } from '@chat/shared/protocol';
import type { ConnId, UserId } from '@chat/shared/types';
import type { LocalConnection } from './local-connections.ts';
import type { SessionDeps } from './session-deps.ts';
import type { SocketWriter } from './socket-writer.ts';

/** Frames that may arrive while `hello` is being checked; they are handled right after `welcome`. */
const MAX_EARLY_FRAMES = 64;

export type HandshakeDeps = Pick<SessionDeps, 'nodeId' | 'auth' | 'local' | 'presence' | 'limits'>;

/** What the handshake tells its session. */
export interface HandshakeEvents {
  /** The user is proven; the connection is about to be registered. */
  authenticated(user: UserId): void;
  /** `welcome` and the messages held for it are sent; the held frames come next. */
  opened(): void;
  /** A frame after `welcome` (first the held ones, in arrival order). */
  frame(raw: string): void;
  close(code: CloseCode): void;
}

export class SessionHandshake {
  private state: 'hello' | 'authenticating' | 'open' | 'closed' = 'hello';
  private conn: LocalConnection | undefined;
  private early: string[] = [];
  /** Messages for this connection that came while it was being registered; they follow `welcome`. */
  private beforeWelcome: string[] | undefined;
  private beforeWelcomeBytes = 0;
  private readonly helloTimer: NodeJS.Timeout;

  constructor(
    private readonly connId: ConnId,
    private readonly out: SocketWriter,
    private readonly deps: HandshakeDeps,
    private readonly events: HandshakeEvents,
  ) {
    this.helloTimer = setTimeout(() => events.close(CLOSE.UNAUTHORIZED), deps.limits.helloTimeoutMs);
  }

  get closed(): boolean {
    return this.state === 'closed';
  }

  /** A text frame from the client: `hello` first, held until `welcome`, then passed on. */
  receive(raw: string): void {
    if (this.state === 'hello') return void this.hello(raw);
    if (this.state === 'authenticating') {
      if (this.early.length >= MAX_EARLY_FRAMES) return this.out.sendError(new ERR_RATE_LIMITED('wait for welcome'));
      this.early.push(raw);
      return;
    }
    if (this.state === 'open') this.events.frame(raw);
  }

  /** The connection closed: stop the deadline and unregister. False when it was closed already. */
  end(): boolean {
    if (this.state === 'closed') return false;
    this.state = 'closed';
    clearTimeout(this.helloTimer);
    if (this.conn) {
      this.deps.local.remove(this.conn);
      this.deps.presence.removed(this.connId);
    }
    return true;
  }

  private async hello(raw: string): Promise<void> {
    let frame: ClientFrame;
    try {
      frame = parseClientFrame(raw, this.deps.limits.maxBody);
    } catch (err) {
      return this.refuse(err);
    }
    if (frame.type !== 'hello') return this.refuse(new ERR_UNAUTHORIZED('the first frame must be hello'));
    this.state = 'authenticating';
    let user: UserId;
    try {
      user = await this.deps.auth.authenticate(frame);
    } catch (err) {
      return this.refuse(err);
    }
    if (this.state !== 'authenticating') return; // closed while we checked the token
    clearTimeout(this.helloTimer);
    this.events.authenticated(user);
    this.conn = { connId: this.connId, user, socket: { sendRaw: (f) => this.deliver(f) } };
    this.deps.local.add(this.conn);
    // Welcome only once discovery knows us, so a message sent right after welcome finds us.
    await this.deps.presence.added({ user, connId: this.connId });
    if (this.state !== 'authenticating') return;
    this.state = 'open';
    this.out.send({ type: 'welcome', user, node: this.deps.nodeId });
    for (const held of this.beforeWelcome ?? []) this.out.write(held);
    this.beforeWelcome = undefined;
    this.events.opened();
    for (const early of this.early.splice(0)) this.events.frame(early);
  }

  /** Refuse a handshake: say why, then close 4401. */
  private refuse(err: unknown): void {
    this.out.sendError(err);
    this.events.close(CLOSE.UNAUTHORIZED);
  }

  /**
   * A message for this connection. The connection is local before discovery has it, so nothing
   * sent to the user meanwhile is missed; but `welcome` answers `hello` and goes first. A client
   * catches up after `welcome` from what it had received before; a message shown to it before
   * `welcome` would raise that mark past the messages it missed while away.
   */
  private deliver(frame: string): void {
    if (this.state !== 'authenticating') return this.out.write(frame);
    this.beforeWelcomeBytes += frame.length;
    if (this.beforeWelcomeBytes > this.deps.limits.maxBufferedBytes) return this.events.close(CLOSE.SLOW_CONSUMER);
    (this.beforeWelcome ??= []).push(frame); // made only when needed: an idle connection holds none
  }
}
