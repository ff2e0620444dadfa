/**
 * A client session on in-memory parts: a fake WebSocket over a fake TCP socket that records what
 * leaves in each write, and scripted stand-ins for the session's ports (discovery, the message
 * log, delivery, history). The authenticator (dev mode), local connections, rate limits and
 * metrics are the real ones: they are in-memory already.
 */
import { EventEmitter } from 'node:events';
import { WebSocket } from 'ws';
import { ERR_FORBIDDEN, ERR_STORE_UNAVAILABLE } from '@chat/shared/errors';
import { FailureLog } from '@chat/shared/failure-log';
import type { MessageLog } from '@chat/shared/message-log';
import { recordingLogger } from '@chat/shared/testing/recording-logger';
import type { ConversationItem, HistoryPage, ServerFrame } from '@chat/shared/protocol';
import type { ConnEntry } from '@chat/shared/registry';
import type { DeliverEvent, ReadMark, RoomChangeRequest, RoomCreateRequest, RoomState } from '@chat/shared/internal-api';
import type { Accepted, ConnId, Message, NewMessage, UserId } from '@chat/shared/types';
import { createAuthenticator } from '../../src/auth.ts';
import { ClientSession } from '../../src/client-session.ts';
import type { ClientWebSocket, CorkableStream } from '../../src/client-websocket.ts';
import { LocalConnections } from '../../src/local-connections.ts';
import { createMetrics, type Metrics } from '../../src/metrics.ts';
import { PresenceWatch } from '../../src/presence-watch.ts';
import { UserRateLimits } from '../../src/rate-limiter.ts';
import type { CachedRoom } from '../../src/room-members.ts';
import type { RoomChange } from '../../src/rooms.ts';
import type {
  SessionDeps, SessionDelivery, SessionHistory, SessionLimits, SessionPresence, SessionReceiptsDeps, SessionRooms,
} from '../../src/session-deps.ts';
import { TypingThrottle } from '../../src/typing-throttle.ts';

/** A promise the test settles by hand. */
export class Deferred<T> {
  resolve!: (value: T) => void;
  reject!: (err: unknown) => void;
  readonly promise = new Promise<T>((resolve, reject) => {
    this.resolve = resolve;
    this.reject = reject;
  });
}

/** Let every callback queued by now run (promises, nextTick, immediates): in-memory parts need no more. */
export const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** The TCP side: frames written while corked leave together at the uncork, as one write. */
export class FakeTcp implements CorkableStream {
  corks = 0;
  /** Each write that reached the wire, as the frames it carried. */
  readonly writes: string[][] = [];
  private held: string[] | undefined;

  cork(): void {
    this.corks++;
    this.held ??= [];
  }

  uncork(): void {
    if (this.held && this.held.length > 0) this.writes.push(this.held);
    this.held = undefined;
  }

  write(frame: string): void {
    if (this.held) this.held.push(frame);
    else this.writes.push([frame]);
  }
}

export class FakeWebSocket extends EventEmitter implements ClientWebSocket {
  readyState: number = WebSocket.OPEN;
  bufferedAmount = 0;
  readonly closed = new Deferred<{ code: number; reason: string }>();

  constructor(private readonly tcp: FakeTcp) {
    super();
  }

  send(data: string): void {
    this.tcp.write(data);
  }

  close(code: number, reason: string): void {
    this.readyState = WebSocket.CLOSING;
    this.closed.resolve({ code, reason });
  }

  /** The client sends a frame (an object is sent as JSON text). */
  receive(frame: object | string, isBinary = false): void {
    this.emit('message', Buffer.from(typeof frame === 'string' ? frame : JSON.stringify(frame)), isBinary);
  }
}

/** Discovery entries; `hold()` keeps the next `added` pending until the test releases it. */
export class FakePresence implements SessionPresence {
  readonly entries: ConnEntry[] = [];
  readonly removedIds: ConnId[] = [];
  private holding: Deferred<void> | undefined;

  hold(): Deferred<void> {
    return (this.holding = new Deferred<void>());
  }

  async added(entry: ConnEntry): Promise<void> {
    this.entries.push(entry);
    const held = this.holding;
    this.holding = undefined;
    if (held) await held.promise;
  }

  removed(connId: ConnId): void {
    this.removedIds.push(connId);
  }
}

/** A message log answering each append with `answer` (by default: stored, seq counted up). */
export class FakeLog implements MessageLog {
  readonly appended: NewMessage[] = [];
  backlog = 0;
  private seq = 0;
  answer: (m: NewMessage) => Promise<Accepted> = async (m) => ({ id: m.id, seq: ++this.seq, ts: m.ts, duplicate: false });

  append(msgs: NewMessage[]): Promise<Accepted[]> {
    this.appended.push(...msgs);
    return Promise.all(msgs.map((m) => this.answer(m)));
  }

  backlogMs(): number {
    return this.backlog;
  }

  async close(): Promise<void> {}
}

export class FakeDelivery implements SessionDelivery {
  saturated = false;
  pending = 0;
  readonly prefetched: Pick<Message, 'from' | 'to'>[] = [];
  readonly delivered: { message: Message; originConn: ConnId | undefined }[] = [];

  prefetch(m: Pick<Message, 'from' | 'to'>): void {
    this.prefetched.push(m);
  }

  async deliver(message: Message, originConn?: ConnId): Promise<void> {
    this.delivered.push({ message, originConn });
  }

  readonly prefetchedMembers: (readonly UserId[])[] = [];
  readonly deliveredToRooms: { message: Message; members: readonly UserId[]; originConn: ConnId | undefined }[] = [];

  prefetchMembers(members: readonly UserId[]): void {
    this.prefetchedMembers.push(members);
  }

  async deliverRoom(message: Message, members: readonly UserId[], originConn?: ConnId): Promise<void> {
    this.deliveredToRooms.push({ message, members, originConn });
  }

  readonly events: { event: DeliverEvent; retry: boolean }[] = [];

  async deliverEvent(event: DeliverEvent, retry: boolean): Promise<void> {
    this.events.push({ event, retry });
  }
}

/** Read marks kept in memory, moving forward only as sv-persist's do; `down` makes every mark fail. */
export class FakeReadMarks implements Pick<SessionReceiptsDeps['marks'], 'mark'> {
  readonly stored = new Map<string, number>();
  down = false;

  async mark(m: ReadMark): Promise<boolean> {
    if (this.down) throw new ERR_STORE_UNAVAILABLE('the database is down');
    const key = `${m.reader}\n${m.peer}`;
    if (m.seq <= (this.stored.get(key) ?? 0)) return false;
    this.stored.set(key, m.seq);
    return true;
  }
}

/** History whose every query waits for the test to answer it. */
export class FakeHistory implements SessionHistory {
  readonly asked: { what: string; answer: Deferred<unknown> }[] = [];

  history(q: { with: string }): Promise<HistoryPage> {
    return this.ask(`history ${q.with}`) as Promise<HistoryPage>;
  }

  conversations(): Promise<ConversationItem[]> {
    return this.ask('conversations') as Promise<ConversationItem[]>;
  }

  private ask(what: string): Promise<unknown> {
    const answer = new Deferred<unknown>();
    this.asked.push({ what, answer });
    return answer.promise;
  }
}

/**
 * Rooms kept in memory under sv-persist's rules (owner-only add and remove, join to a public room,
 * leave by a member), each change bumping the version; `down` makes every call fail, `hold()`
 * keeps the next member list pending.
 */
export class FakeRooms implements SessionRooms {
  readonly rooms = new Map<string, RoomState>();
  down = false;
  private made = 0;
  private holding: Deferred<void> | undefined;

  /** Keep the next `state` pending (a member list being fetched) until the test releases it. */
  hold(): Deferred<void> {
    return (this.holding = new Deferred<void>());
  }

  async state(room: string): Promise<CachedRoom | undefined> {
    const held = this.holding;
    this.holding = undefined;
    if (held) await held.promise;
    this.check();
    const state = this.rooms.get(room);
    return state && { state, members: new Set(state.members) };
  }

  async create(req: RoomCreateRequest): Promise<RoomState> {
    this.check();
    const room: RoomState = { room: `r${++this.made}`, title: req.title, owner: req.owner, public: req.public, members: [...new Set([req.owner, ...req.members])], version: 1 };
    this.rooms.set(room.room, room);
    return room;
  }

  async change(req: RoomChangeRequest): Promise<RoomChange> {
    this.check();
    const room = this.rooms.get(req.room);
    const member = room?.members.includes(req.by) ?? false;
    const owner = room?.owner === req.by && member;
    if (!room || ((req.op === 'add' || req.op === 'remove') && !owner) || (req.op === 'join' && !room.public) || (req.op === 'leave' && !member)) {
      throw new ERR_FORBIDDEN('not allowed');
    }
    const add = req.op === 'add' ? req.users : req.op === 'join' ? [req.by] : [];
    const gone = req.op === 'remove' ? req.users : req.op === 'leave' ? [req.by] : [];
    const removed = room.members.filter((u) => gone.includes(u));
    const members = [...room.members.filter((u) => !gone.includes(u)), ...add.filter((u) => !room.members.includes(u))];
    const changed = members.length !== room.members.length || removed.length > 0;
    const after = changed ? { ...room, members, version: room.version + 1 } : room;
    this.rooms.set(room.room, after);
    return { room: after, removed, changed };
  }

  private check(): void {
    if (this.down) throw new ERR_STORE_UNAVAILABLE('the database is down');
  }
}

export const TEST_LIMITS: SessionLimits = {
  maxBody: 4000, helloTimeoutMs: 60_000, rateLimitPerSec: 1000, rateLimitBurst: 1000, maxBufferedBytes: 64 * 1024,
  userRateLimitPerSec: 1000, userRateLimitBurst: 1000, logMaxWaitMs: 1000, roomCreatePerMinute: 10,
};

/** The parts one or more sessions share, as a node's sessions do. */
export class FakeNode {
  readonly local = new LocalConnections();
  readonly presence = new FakePresence();
  readonly log = new FakeLog();
  readonly delivery = new FakeDelivery();
  readonly history = new FakeHistory();
  /** The real watch lists, with no feed: a state reaches them only when a test calls `received`. */
  readonly watches = new PresenceWatch();
  readonly marks = new FakeReadMarks();
  readonly rooms = new FakeRooms();
  /** The node's typing throttle, on a clock the test moves. */
  clock = 0;
  readonly typing = new TypingThrottle({ now: () => this.clock });
  readonly metrics: Metrics = createMetrics({
    local: () => 0, forwarded: () => 0, cacheHits: () => 0, cacheMisses: () => 0, cacheInvalidations: () => 0,
    forwardPeers: () => 0, deliveriesPending: () => 0, logBacklogMs: () => 0,
    forwardsFailed: () => 0, forwardsHeld: () => 0, forwardPeersDown: () => 0, forwardRequests: () => 0, retriesParked: () => 0,
    retriesDropped: () => ({ full: 0, expired: 0, shutdown: 0 }),
  });
  readonly logged = recordingLogger();
  readonly failures = new FailureLog(this.logged.logger);
  readonly deps: SessionDeps;

  constructor(limits: Partial<SessionLimits> = {}) {
    const all = { ...TEST_LIMITS, ...limits };
    this.deps = {
      nodeId: 'node-1', auth: createAuthenticator('dev', undefined), local: this.local, presence: this.presence, log: this.log,
      delivery: this.delivery, history: this.history, watches: this.watches, receipts: { typing: this.typing, marks: this.marks },
      rooms: this.rooms, metrics: this.metrics, logger: this.logged.logger, failures: this.failures, limits: all,
      userLimits: new UserRateLimits(all.userRateLimitPerSec, all.userRateLimitBurst),
      roomCreateLimits: new UserRateLimits(all.roomCreatePerMinute / 60, all.roomCreatePerMinute, () => this.clock),
    };
  }

  /** A new connection to this node. */
  connect(): FakeClient {
    return new FakeClient(this.deps);
  }

  /** How many sends were refused for `reason` (chat_sends_refused_total). */
  async refused(reason: string): Promise<number> {
    const { values } = await this.metrics.sendsRefused.get();
    return values.find((v) => v.labels.reason === reason)?.value ?? 0;
  }

  /** Log lines at warn or above. */
  warnings(): Record<string, unknown>[] {
    return this.logged.lines.filter((l) => (l.level as number) >= 40);
  }
}

/** One connection: the session and the fake socket under it. */
export class FakeClient {
  readonly tcp = new FakeTcp();
  readonly ws = new FakeWebSocket(this.tcp);
  readonly session: ClientSession;

  constructor(deps: SessionDeps) {
    this.session = new ClientSession(this.ws, this.tcp, deps);
  }

  /** Every frame the client got so far, in order. */
  frames(): ServerFrame[] {
    return this.tcp.writes.flat().map((f) => JSON.parse(f) as ServerFrame);
  }

  /** `hello` as `user`, then wait for the handshake to finish. */
  async hello(user = 'alice'): Promise<void> {
    this.ws.receive({ type: 'hello', user });
    await settle();
  }
}
