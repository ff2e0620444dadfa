/**
 * One client connection, from upgrade to close. The session routes each frame by its type to the
 * part that handles it: the handshake (session-handshake.ts) until `welcome`, then sends
 * (session-sends.ts, admitted by send-admission.ts), queries (session-queries.ts), watch lists
 * (session-watch.ts), typing and read receipts (session-receipts.ts), rooms (session-rooms.ts); every frame
 * to the client leaves through the socket writer (socket-writer.ts). Bad input gets an `error`
 * frame and leaves the connection usable; nothing a client sends can throw out of here.
 */
import type { RawData } from 'ws';
import { CLOSE, type CloseCode } from '@chat/shared/close-codes';
import { ERR_BAD_FRAME } from '@chat/shared/errors';
import { newId } from '@chat/shared/ids';
import type { Logger } from '@chat/shared/logger';
import { parseClientFrame, type ClientFrame } from '@chat/shared/protocol';
import type { ConnId, UserId } from '@chat/shared/types';
import type { ClientWebSocket, CorkableStream } from './client-websocket.ts';
import { SendAdmission } from './send-admission.ts';
import type { SessionDeps } from './session-deps.ts';
import { SessionHandshake } from './session-handshake.ts';
import { SessionQueries } from './session-queries.ts';
import { SessionReceipts } from './session-receipts.ts';
import { SessionRooms } from './session-rooms.ts';
import { SessionSends } from './session-sends.ts';
import { SessionWatch } from './session-watch.ts';
import { SocketWriter } from './socket-writer.ts';

/** The parts of a connection whose user is proven: what the frame handlers act on. */
interface OpenSession {
  out: SocketWriter;
  admission: SendAdmission;
  sends: SessionSends;
  queries: SessionQueries;
  watch: SessionWatch;
  receipts: SessionReceipts;
  rooms: SessionRooms;
}

type FrameOf<T extends ClientFrame['type']> = Extract<ClientFrame, { type: T }>;

/** What each client frame does after `welcome`: a new frame type is one more entry here. */
const HANDLERS: { [T in ClientFrame['type']]: (session: OpenSession, frame: FrameOf<T>) => void } = {
  hello: (s) => s.out.sendError(new ERR_BAD_FRAME('hello was already received')),
  send: (s, frame) => void s.sends.send(frame),
  history: (s, frame) => s.queries.history(frame),
  conversations: (s, frame) => s.queries.conversations(frame),
  ping: (s) => s.out.send({ type: 'pong' }),
  watch: (s, frame) => s.watch.watch(frame),
  typing: (s, frame) => s.receipts.typing(frame),
  read: (s, frame) => void s.receipts.read(frame),
  room_create: (s, frame) => void s.rooms.create(frame),
  room_add: (s, frame) => void s.rooms.add(frame),
  room_remove: (s, frame) => void s.rooms.remove(frame),
  room_join: (s, frame) => void s.rooms.join(frame),
  room_leave: (s, frame) => void s.rooms.leave(frame),
  room_info: (s, frame) => void s.rooms.info(frame),
};

export class ClientSession {
  readonly connId: ConnId = newId();
  private logger: Logger;
  private readonly out: SocketWriter;
  private readonly handshake: SessionHandshake;
  /** Made once `hello` proved the user. */
  private open: OpenSession | undefined;

  /** `tcp`: the connection's TCP socket, corked while a turn's frames gather (socket-writer.ts). */
  constructor(private readonly ws: ClientWebSocket, tcp: CorkableStream, private readonly deps: SessionDeps) {
    this.logger = deps.logger.child({ connId: this.connId });
    this.out = new SocketWriter(ws, tcp, {
      maxBufferedBytes: deps.limits.maxBufferedBytes,
      framesOut: deps.metrics.framesOut,
      onSlowConsumer: () => this.close(CLOSE.SLOW_CONSUMER),
    });
    this.handshake = new SessionHandshake(this.connId, this.out, deps, {
      authenticated: (user) => this.authenticated(user),
      opened: () => this.logger.debug('hello'),
      frame: (raw) => this.onFrame(raw),
      close: (code) => this.close(code),
    });
    ws.on('message', (data, isBinary) => this.onMessage(data, isBinary));
    ws.on('close', () => this.onClose());
    ws.on('error', (err) => this.logger.debug({ err }, 'socket error'));
    deps.metrics.connections.inc();
  }

  /** Close with one of CLOSE's codes. */
  close(code: CloseCode): void {
    if (this.handshake.closed) return;
    this.ws.close(code.code, code.reason);
    this.onClose();
  }

  private onMessage(data: RawData, isBinary: boolean): void {
    this.deps.metrics.framesIn.inc();
    if (isBinary) return this.out.sendError(new ERR_BAD_FRAME('text frames only'));
    this.handshake.receive(data.toString());
  }

  private authenticated(user: UserId): void {
    this.logger = this.logger.child({ user });
    const self = { connId: this.connId, user };
    const admission = new SendAdmission(user, this.deps);
    this.open = {
      out: this.out,
      admission,
      sends: new SessionSends(self, this.out, admission, this.deps),
      queries: new SessionQueries(self, this.out, this.deps),
      watch: new SessionWatch(self, this.out, admission, this.deps),
      receipts: new SessionReceipts(self, this.out, admission, this.deps),
      rooms: new SessionRooms(self, this.out, admission, this.deps),
    };
  }

  /** A frame after `welcome`. */
  private onFrame(raw: string): void {
    let frame: ClientFrame;
    try {
      frame = parseClientFrame(raw, this.deps.limits.maxBody);
    } catch (err) {
      return this.out.sendError(err, cidOf(raw));
    }
    // Each entry takes its own frame type; the table's type guarantees the pairing.
    const handle = HANDLERS[frame.type] as (session: OpenSession, frame: ClientFrame) => void;
    handle(this.open!, frame);
  }

  private onClose(): void {
    if (!this.handshake.end()) return;
    this.deps.metrics.connections.dec();
    this.open?.admission.release();
    this.open?.watch.release();
    this.open?.rooms.release();
  }
}

/** The `cid` of a refused `send` or room frame, when the frame is JSON enough to have one. */
function cidOf(raw: string): string | undefined {
  try {
    const v = JSON.parse(raw) as { type?: unknown; cid?: unknown } | null;
    const answersCid = v?.type === 'send' || (typeof v?.type === 'string' && v.type.startsWith('room_'));
    return answersCid && typeof v.cid === 'string' && v.cid.length > 0 && v.cid.length <= 64 ? v.cid : undefined;
  } catch {
    return undefined;
  }
}
