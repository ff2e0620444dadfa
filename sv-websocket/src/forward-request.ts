/**
 * What one forward to another node carries: the messages and events of a batch, each room
 * message and room event with its recipients on that node only, so a room's message travels once
 * per node however many of its members are there.
 */
import { MAX_FORWARD_USERS, type DeliverEvent, type DeliverRequest } from '@chat/shared/internal-api';
import { roomOf, type UserId } from '@chat/shared/types';

export type DeliverItem = DeliverRequest['items'][number];
/** What goes to another node: a message, or a typing, read or room event (carried beside the messages). */
export type ForwardItem = DeliverItem | DeliverEvent;

/** An item queued for one target node. */
export interface Outgoing {
  item: ForwardItem;
  /** Users discovery placed on the target node for this item. */
  users: UserId[];
  /** This item is the probe of a peer marked down. */
  probe: boolean;
}

/** Users per unit of batch size: a batch of 1,000 units names at most MAX_FORWARD_USERS users. */
const USERS_PER_UNIT = MAX_FORWARD_USERS / 1000;

/**
 * An item's share of a batch: one for a message or event of one or two users, more for a room's,
 * so that the users a request names stay within MAX_FORWARD_USERS.
 */
export function forwardSize(o: Outgoing): number {
  return o.users.length <= USERS_PER_UNIT ? 1 : Math.ceil(o.users.length / USERS_PER_UNIT);
}

/**
 * The request of a batch: its messages as `items` and its events beside them, each event with its
 * place among the messages (`at`), so the target hands everything over in the order queued. A
 * room's message names its recipients on the target, and a room event's `to` is cut down to them.
 * A batch of one-to-one messages alone is the request it always was.
 */
export function requestOf(users: UserId[], batch: readonly Outgoing[]): DeliverRequest {
  const items: DeliverItem[] = [];
  const events: DeliverEvent[] = [];
  for (const { item, users: here } of batch) {
    if ('message' in item) {
      items.push(roomOf(item.message.to) === undefined ? item : { ...item, recipients: here });
    } else {
      events.push(item.event.type === 'room' ? { ...item, to: here, at: items.length } : { ...item, at: items.length });
    }
  }
  return events.length === 0 ? { users, items } : { users, items, events };
}
