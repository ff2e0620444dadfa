/**
 * A connection's `send`s: admitted (send-admission.ts), appended to the message log, acked with the
 * log's answer, then delivered. The append goes on the wire first; the lookup for the delivery
 * runs meanwhile (prefetch), so the delivery after the ack usually finds it done.
 *
 * A `send` to a room is first checked against the room's member list (the node's cache, fetched
 * when missing): a non-member is refused `forbidden`. Inside the services the message goes to the
 * room's address, so the log, dedupe by `cid` and the ack work as for any message; it is then
 * delivered to the members as they are after the ack (one added meanwhile gets it, one removed
 * does not).
 */
import { ERR_FORBIDDEN, ERR_QUEUE_FULL } from '@chat/shared/errors';
import { newId } from '@chat/shared/ids';
import { ackFrame, type Send } from '@chat/shared/protocol';
import { roomAddress, type Message, type NewMessage } from '@chat/shared/types';
import type { CachedRoom } from './room-members.ts';
import { NOT_A_MEMBER } from './rooms.ts';
import type { SendAdmission } from './send-admission.ts';
import type { SessionDeps, SessionUser } from './session-deps.ts';
import type { FrameOutput } from './socket-writer.ts';

export type SendDeps = Pick<SessionDeps, 'log' | 'delivery' | 'failures' | 'rooms'>;

export class SessionSends {
  /**
   * The membership checks of this connection's room sends, one after another: a check that waits
   * for a fetch must not let a later send of the connection reach the log first.
   */
  private checks: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly sender: SessionUser,
    private readonly out: FrameOutput,
    private readonly admission: SendAdmission,
    private readonly deps: SendDeps,
  ) {}

  /** Never rejects: a refusal or failure is answered with an error frame carrying the `cid`. */
  async send(frame: Send): Promise<void> {
    const refused = this.admission.refusal();
    if (refused) return this.out.sendError(refused, frame.cid);
    try {
      let room: CachedRoom | undefined;
      if (frame.room !== undefined) {
        const id = frame.room;
        const check = this.checks.then(() => this.deps.rooms.state(id));
        this.checks = check.catch(() => undefined);
        room = await check;
        if (room === undefined || !room.members.has(this.sender.user)) return this.out.sendError(new ERR_FORBIDDEN(NOT_A_MEMBER), frame.cid);
      }
      const to = frame.room === undefined ? frame.to! : roomAddress(frame.room);
      const msg: NewMessage = { id: newId(), from: this.sender.user, to, cid: frame.cid, body: frame.body, ts: Date.now() };
      // The append goes on the wire first; the lookup for its delivery runs meanwhile.
      const appended = this.deps.log.append([msg]);
      if (room === undefined) this.deps.delivery.prefetch(msg);
      else this.deps.delivery.prefetchMembers(room.state.members);
      const [accepted] = await appended;
      const { id, seq, ts, duplicate, body } = accepted!;
      this.out.send(ackFrame(msg.cid, accepted!));
      // A repeat the store answered is delivered again, as stored: the node that accepted the first
      // attempt may have died before delivering it, and recipients drop an id they hold. A repeat
      // this node remembers (no body) was delivered by this node the first time.
      if (duplicate && body === undefined) return;
      const message: Message = { id, seq, from: msg.from, to, cid: msg.cid, body: body ?? msg.body, ts };
      if (room === undefined) return await this.deps.delivery.deliver(message, this.sender.connId);
      await this.deps.delivery.deliverRoom(message, await this.membersNow(room), this.sender.connId);
    } catch (err) {
      if (err instanceof ERR_QUEUE_FULL) {
        this.admission.countLogQueueFull();
      } else {
        this.deps.failures.record('send not accepted', { err, connId: this.sender.connId, user: this.sender.user });
      }
      this.out.sendError(err, frame.cid);
    }
  }

  /**
   * The room's members after the ack: a change told meanwhile dropped the cached list, which is
   * fetched again. Never rejects (the message is acked): when the fetch fails, the list checked
   * before the append will do.
   */
  private async membersNow(before: CachedRoom): Promise<readonly string[]> {
    const now = await this.deps.rooms.state(before.state.room).catch(() => before);
    return (now ?? before).state.members;
  }
}
