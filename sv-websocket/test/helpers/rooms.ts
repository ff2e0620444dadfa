/** Rooms over the wire with the protocol's test client: create one, send to it, read its history. */
import type { Ack, ErrorFrame, HistoryReply, MessageFrame, RoomFrame, WireMessage } from '@chat/shared/protocol';
import type { TestClient } from '@chat/shared/protocol-client';

/** `room_create` by `owner`; resolves with the `room` frame its connection gets (the one with this `cid`). */
export async function createRoom(owner: TestClient, members: string[], opts: { title?: string; public?: boolean; cid?: string } = {}): Promise<RoomFrame> {
  const cid = opts.cid ?? `create-${Math.random().toString(36).slice(2)}`;
  owner.send({ type: 'room_create', title: opts.title ?? 'a room', members, public: opts.public ?? false, cid });
  return owner.next('room', (r) => r.cid === cid);
}

/** A `send` to `room`, and its ack. */
export async function sendToRoom(client: TestClient, room: string, body: string, cid: string): Promise<Ack> {
  client.send({ type: 'send', room, body, cid });
  const answer = await client.nextWhere((f) => (f.type === 'ack' || f.type === 'error') && f.cid === cid, `the answer to ${cid}`);
  if (answer.type === 'error') throw new Error(`${cid} refused: ${answer.code} ${answer.message}`);
  return answer as Ack;
}

/** The `error` frame the client gets next (a refusal). */
export function nextError(client: TestClient, match: (e: ErrorFrame) => boolean = () => true): Promise<ErrorFrame> {
  return client.next('error', match);
}

/** The next `room` frame of `room` a connection gets. */
export function nextRoomFrame(client: TestClient, room: string): Promise<RoomFrame> {
  return client.next('room', (r) => r.room === room);
}

/** One `history` page of `room`. */
export async function roomHistoryPage(client: TestClient, room: string, paging: { before?: number; after?: number; limit?: number } = {}): Promise<HistoryReply> {
  client.send({ type: 'history', room, ...paging });
  const reply = await client.nextWhere((f) => (f.type === 'history' && f.room === room) || f.type === 'error', `history of ${room}`);
  if (reply.type === 'error') throw new Error(`history of ${room} refused: ${reply.code} ${reply.message}`);
  return reply as HistoryReply;
}

/**
 * Every message of `room`, paging `before` from the newest page: in Kafka mode a partition's first
 * record has `seq` 0, which no `after` cursor reaches.
 */
export async function wholeRoom(client: TestClient, room: string): Promise<WireMessage[]> {
  const pages: WireMessage[][] = [];
  for (let before: number | undefined; ;) {
    const page = await roomHistoryPage(client, room, before === undefined ? { limit: 200 } : { before, limit: 200 });
    pages.unshift(page.messages);
    if (!page.more || page.messages.length === 0) return pages.flat();
    before = page.messages[0]!.seq;
  }
}

/** The room messages a connection got so far (consumed from its frames), in the order they came. */
export function takeRoomMessages(client: TestClient, room: string): MessageFrame[] {
  const got: MessageFrame[] = [];
  for (let i = client.frames.length - 1; i >= 0; i--) {
    const f = client.frames[i]!;
    if (f.type === 'message' && f.room === room) got.unshift(...client.frames.splice(i, 1) as MessageFrame[]);
  }
  return got;
}
