/**
 * A connection's `typing` and `read` frames. Both count against the send budget (the connection's
 * and the user's token buckets), never against the overload guards: they add nothing to the
 * message log or to the deliveries those guards watch.
 * - `typing` is never stored nor answered: let through the node's throttle (typing-throttle.ts),
 *   it goes to the recipient's connections on any node, once (a lost indicator is followed by the
 *   next within seconds).
 * - `read` moves the user's read mark in sv-persist (read-marks-client.ts); only when the mark
 *   moved does a `read` frame go to the peer's connections and the reader's other ones, with
 *   retries like a message's forward: the mark is stored, and `conversations` shows it anyway.
 *   A room's mark is a member's only (checked against the node's member list, and by sv-persist),
 *   and its `read` frame goes to the reader's other connections alone, not to the other members.
 */
import { ERR_FORBIDDEN, errorAnswer } from '@chat/shared/errors';
import { readFrame, typingFrame, type ReadRequest, type TypingRequest } from '@chat/shared/protocol';
import { roomAddress, type UserId } from '@chat/shared/types';
import type { SendAdmission } from './send-admission.ts';
import type { SessionDeps, SessionUser } from './session-deps.ts';
import { NOT_A_MEMBER } from './rooms.ts';
import type { FrameOutput } from './socket-writer.ts';

export type ReceiptsDeps = Pick<SessionDeps, 'delivery' | 'receipts' | 'metrics' | 'failures' | 'rooms'>;

export class SessionReceipts {
  constructor(
    private readonly self: SessionUser,
    private readonly out: FrameOutput,
    private readonly admission: SendAdmission,
    private readonly deps: ReceiptsDeps,
  ) {}

  typing(frame: TypingRequest): void {
    const refused = this.admission.takeTokens();
    if (refused) return this.out.sendError(refused);
    if (!this.deps.receipts.typing.allow(this.self.user, frame.to)) {
      this.deps.metrics.typing.inc({ outcome: 'throttled' });
      return;
    }
    this.deps.metrics.typing.inc({ outcome: 'sent' });
    void this.deps.delivery.deliverEvent({ event: typingFrame(this.self.user), to: [frame.to], originConn: this.self.connId }, false);
  }

  /** Never rejects: a refusal or a failure to store is answered with an error frame. */
  async read(frame: ReadRequest): Promise<void> {
    const refused = this.admission.takeTokens();
    if (refused) return this.out.sendError(refused);
    const { user, connId } = this.self;
    const peer = frame.room === undefined ? frame.with! : roomAddress(frame.room);
    let moved: boolean;
    try {
      if (frame.room !== undefined && !(await this.deps.rooms.state(frame.room))?.members.has(user)) {
        return this.out.sendError(new ERR_FORBIDDEN(NOT_A_MEMBER));
      }
      moved = await this.deps.receipts.marks.mark({ reader: user, peer, seq: frame.seq });
    } catch (err) {
      this.deps.metrics.reads.inc({ outcome: 'failed' });
      if (errorAnswer(err).fault !== 'request') this.deps.failures.record('read mark not stored', { err, connId, user });
      return this.out.sendError(err);
    }
    this.deps.metrics.reads.inc({ outcome: moved ? 'moved' : 'unchanged' });
    if (!moved) return;
    const to: UserId[] = frame.room !== undefined || peer === user ? [user] : [peer, user];
    await this.deps.delivery.deliverEvent({ event: readFrame(user, peer, frame.seq), to, originConn: connId }, true);
  }
}
