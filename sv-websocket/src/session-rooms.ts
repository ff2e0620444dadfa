/**
 * A connection's room frames: `room_create`, `room_add`, `room_remove`, `room_join`, `room_leave`
 * and `room_info`. Each spends the send budget; creating also spends the user's room budget
 * (ROOM_CREATE_PER_MINUTE, one bucket per user on the node). sv-persist decides who may change
 * what; the node keeps the change in its member cache and tells every node (rooms.ts), then the
 * `room` frame goes to every member's connections on any node and to the users the change took
 * out, the asker's with the `cid` of its request. A change that changed nothing is answered to the
 * asking connection alone. Refusals come back as `error` frames, with the request's `cid`: a client
 * matches every answer to its request by it.
 */
import { ERR_FORBIDDEN, ERR_RATE_LIMITED, errorAnswer } from '@chat/shared/errors';
import type { RoomChangeRequest, RoomState } from '@chat/shared/internal-api';
import { roomFrame, type RoomAdd, type RoomCreate, type RoomInfoRequest, type RoomJoin, type RoomLeave, type RoomRemove } from '@chat/shared/protocol';
import type { UserId } from '@chat/shared/types';
import type { TokenBucket } from './rate-limiter.ts';
import { NOT_A_MEMBER } from './rooms.ts';
import type { SendAdmission } from './send-admission.ts';
import type { SessionDeps, SessionUser } from './session-deps.ts';
import type { FrameOutput } from './socket-writer.ts';

export type RoomsDeps = Pick<SessionDeps, 'rooms' | 'delivery' | 'failures' | 'roomCreateLimits'>;

export class SessionRooms {
  /** The user's room-creation bucket, taken at the first `room_create` and given back at `release`. */
  private createBucket: TokenBucket | undefined;

  constructor(
    private readonly self: SessionUser,
    private readonly out: FrameOutput,
    private readonly admission: SendAdmission,
    private readonly deps: RoomsDeps,
  ) {}

  /** Never rejects: a refusal or a failure is answered with an error frame carrying the `cid`. */
  async create(frame: RoomCreate): Promise<void> {
    const refused = this.admission.takeTokens() ?? this.takeCreateToken();
    if (refused) return this.out.sendError(refused, frame.cid);
    try {
      const room = await this.deps.rooms.create({ owner: this.self.user, title: frame.title, public: frame.public ?? false, members: frame.members });
      this.announce(room, [], frame.cid);
    } catch (err) {
      this.fail('room not created', err, frame.cid);
    }
  }

  add(frame: RoomAdd): Promise<void> {
    return this.change({ op: 'add', room: frame.room, by: this.self.user, users: frame.users }, frame.cid);
  }

  remove(frame: RoomRemove): Promise<void> {
    return this.change({ op: 'remove', room: frame.room, by: this.self.user, users: frame.users }, frame.cid);
  }

  join(frame: RoomJoin): Promise<void> {
    return this.change({ op: 'join', room: frame.room, by: this.self.user }, frame.cid);
  }

  leave(frame: RoomLeave): Promise<void> {
    return this.change({ op: 'leave', room: frame.room, by: this.self.user }, frame.cid);
  }

  /** The `room` frame to this connection, for a member only. Never rejects. */
  async info(frame: RoomInfoRequest): Promise<void> {
    const refused = this.admission.takeTokens();
    if (refused) return this.out.sendError(refused, frame.cid);
    try {
      const room = await this.deps.rooms.state(frame.room);
      if (room === undefined || !room.members.has(this.self.user)) return this.out.sendError(new ERR_FORBIDDEN(NOT_A_MEMBER), frame.cid);
      this.out.send(roomFrame(room.state, frame.cid));
    } catch (err) {
      this.fail('room info failed', err, frame.cid);
    }
  }

  /** The connection closed: give back its hold on the user's room-creation bucket. */
  release(): void {
    if (this.createBucket) this.deps.roomCreateLimits?.release(this.self.user);
  }

  private async change(req: RoomChangeRequest, cid: string | undefined): Promise<void> {
    const refused = this.admission.takeTokens();
    if (refused) return this.out.sendError(refused, cid);
    try {
      const { room, removed, changed } = await this.deps.rooms.change(req);
      if (changed) this.announce(room, removed, cid);
      else this.out.send(roomFrame(room, cid));
    } catch (err) {
      this.fail('room not changed', err, cid);
    }
  }

  /**
   * The room as it is now, to every member and to those the change took out, on every node,
   * retried like a message's forward; the asker's connections get it with `cid` (whether the
   * change kept the asker in, or took them out).
   */
  private announce(room: RoomState, removed: readonly UserId[], cid?: string): void {
    const others = (users: readonly UserId[]) => (cid === undefined ? users : users.filter((u) => u !== this.self.user));
    const to = [...others(room.members), ...others(removed)];
    if (cid !== undefined) void this.deps.delivery.deliverEvent({ event: roomFrame(room, cid), to: [this.self.user] }, true);
    if (to.length > 0) void this.deps.delivery.deliverEvent({ event: roomFrame(room), to }, true);
  }

  private takeCreateToken(): Error | undefined {
    const limits = this.deps.roomCreateLimits;
    if (!limits) return undefined;
    this.createBucket ??= limits.acquire(this.self.user);
    return this.createBucket.take() ? undefined : new ERR_RATE_LIMITED('too many rooms created; try again in a minute');
  }

  /** A refusal is the answer; any other failure (sv-persist down) is logged once per interval, and answered `unavailable`. */
  private fail(kind: string, err: unknown, cid?: string): void {
    if (errorAnswer(err).fault !== 'request') this.deps.failures.record(kind, { err, connId: this.self.connId, user: this.self.user });
    this.out.sendError(err, cid);
  }
}
