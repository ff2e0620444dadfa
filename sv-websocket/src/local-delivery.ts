/**
 * The last hop of every delivery: frames handed to this node's own connections, from a message
 * accepted here or a batch another node forwarded. A frame is encoded once, and only when one of
 * its users is connected here.
 */
import type { DeliverEvent, DeliverReply, DeliverRequest } from '@chat/shared/internal-api';
import { encodeMessageFrame } from '@chat/shared/protocol';
import type { ConnId, Message, UserId } from '@chat/shared/types';
import type { LocalConnections } from './local-connections.ts';

export class LocalDelivery {
  /** `counts.local` counts the message frames handed to connections of this node. */
  constructor(private readonly local: LocalConnections, private readonly counts: { local: number }) {}

  /** A one-to-one message: to its recipient's connections here and its sender's, except `originConn`. */
  message(m: Message, originConn: ConnId | undefined): void {
    const toHere = this.local.has(m.to);
    const fromHere = m.from !== m.to && this.local.has(m.from);
    if (!toHere && !fromHere) return;
    const frame = encodeMessageFrame(m);
    if (toHere) this.counts.local += this.local.sendTo(m.to, frame, originConn);
    if (fromHere) this.counts.local += this.local.sendTo(m.from, frame, originConn);
  }

  /**
   * A room's message: to the connections here of each of `recipients` (its members, or those a
   * forward named), except `originConn`. Membership is the sending node's business: a forward
   * names who gets it.
   */
  roomMessage(m: Message, recipients: readonly UserId[], originConn: ConnId | undefined): void {
    this.counts.local += this.local.sendToEach(recipients, () => encodeMessageFrame(m), originConn);
  }

  /** A typing, read or room event: to the connections here of the users in its `to`, except `originConn`. */
  event(e: DeliverEvent): void {
    this.local.sendToEach(e.to, () => JSON.stringify(e.event), e.originConn);
  }

  /**
   * Another node forwarded a batch: hand it to our connections, each event after the first `at`
   * messages (in the order the sender queued them), and report who is not here.
   */
  receive(req: DeliverRequest): DeliverReply {
    let next = 0;
    const deliverUpTo = (end: number) => {
      for (; next < end; next++) {
        const { message, originConn, recipients } = req.items[next]!;
        if (recipients === undefined) this.message(message, originConn);
        else this.roomMessage(message, recipients, originConn);
      }
    };
    for (const event of req.events ?? []) {
      deliverUpTo(Math.min(event.at ?? req.items.length, req.items.length));
      this.event(event);
    }
    deliverUpTo(req.items.length);
    return { absent: req.users.filter((u) => !this.local.has(u)) };
  }
}
