/**
 * A connection's `send`s: admitted (send-admission.ts), appended to the message log, acked with the
 * log's answer, then delivered. The append goes on the wire first; the lookup for the delivery
 * runs meanwhile (prefetch), so the delivery after the ack usually finds it done.
 */
import { ERR_FORBIDDEN, ERR_QUEUE_FULL } from '@chat/shared/errors';
import { newId } from '@chat/shared/ids';
import { ackFrame, type Send } from '@chat/shared/protocol';
import type { SendAdmission } from './send-admission.ts';
import type { SessionDeps, SessionUser } from './session-deps.ts';
import type { FrameOutput } from './socket-writer.ts';

export type SendDeps = Pick<SessionDeps, 'log' | 'delivery' | 'failures'>;

export class SessionSends {
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
    if (frame.to === undefined) return this.out.sendError(new ERR_FORBIDDEN('rooms are not enabled on this node'), frame.cid);
    const msg = { id: newId(), from: this.sender.user, to: frame.to, cid: frame.cid, body: frame.body, ts: Date.now() };
    try {
      // The append goes on the wire first; the lookup for its delivery runs meanwhile.
      const appended = this.deps.log.append([msg]);
      this.deps.delivery.prefetch(msg);
      const [accepted] = await appended;
      const { id, seq, ts, duplicate, body } = accepted!;
      this.out.send(ackFrame(msg.cid, accepted!));
      // A repeat the store answered is delivered again, as stored: the node that accepted the first
      // attempt may have died before delivering it, and recipients drop an id they hold. A repeat
      // this node remembers (no body) was delivered by this node the first time.
      if (!duplicate || body !== undefined) {
        await this.deps.delivery.deliver({ id, seq, from: msg.from, to: msg.to, cid: msg.cid, body: body ?? msg.body, ts }, this.sender.connId);
      }
    } catch (err) {
      if (err instanceof ERR_QUEUE_FULL) {
        this.admission.countLogQueueFull();
      } else {
        this.deps.failures.record('send not accepted', { err, connId: this.sender.connId, user: this.sender.user });
      }
      this.out.sendError(err, frame.cid);
    }
  }
}
