/**
 * Makes the room a room phase measures, the way a client would: its owner (member 0) connects,
 * sends `room_create` with the first members and `room_add` frames for the rest, at most
 * MAX_ROOM_USERS_PER_FRAME users each, and waits for the `room` frame that lists them all after
 * each. It runs before the members connect, so the `room` frames of the growing room go to no one
 * but the owner; the owner's connection closes when the room is complete.
 */
import WebSocket from 'ws';
import { MAX_ROOM_USERS_PER_FRAME } from '@chat/shared/protocol';

interface Frame { type: string; room?: string; members?: string[]; cid?: string; code?: string; message?: string }

/** A connection that hands frames to whoever waits for one. */
async function connect(url: string, user: string, timeoutMs: number): Promise<{ ws: WebSocket; next: (match: (f: Frame) => boolean) => Promise<Frame> }> {
  const ws = new WebSocket(url, { perMessageDeflate: false, handshakeTimeout: timeoutMs, maxPayload: 64 * 2 ** 20 });
  let waiter: { match: (f: Frame) => boolean; resolve: (f: Frame) => void; reject: (e: Error) => void } | undefined;
  const next = (match: (f: Frame) => boolean) => new Promise<Frame>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`room setup: no answer within ${timeoutMs} ms`)), timeoutMs);
    waiter = { match, resolve: (f) => { clearTimeout(timer); resolve(f); }, reject: (e) => { clearTimeout(timer); reject(e); } };
  });
  ws.on('message', (data) => {
    const f = JSON.parse(data.toString()) as Frame;
    if (f.type === 'error') return waiter?.reject(new Error(`room setup refused: ${f.code}: ${f.message}`));
    if (waiter?.match(f)) waiter.resolve(f);
  });
  ws.on('close', () => waiter?.reject(new Error('room setup: the connection closed')));
  ws.on('error', (err) => waiter?.reject(err));
  const welcome = next((f) => f.type === 'welcome');
  ws.on('open', () => ws.send(JSON.stringify({ type: 'hello', user })));
  await welcome;
  return { ws, next };
}

/** The room of `members` (the first one owns it); resolves with its id. */
export async function createRoom(url: string, members: string[], title: string, timeoutMs = 60_000): Promise<string> {
  const [owner, ...others] = members;
  if (owner === undefined) throw new Error('a room needs at least one member');
  const { ws, next } = await connect(url, owner, timeoutMs);
  try {
    const first = others.slice(0, MAX_ROOM_USERS_PER_FRAME);
    const created = next((f) => f.type === 'room' && f.cid === 'bench-create');
    ws.send(JSON.stringify({ type: 'room_create', title, members: first, public: false, cid: 'bench-create' }));
    const room = (await created).room!;
    let count = 1 + first.length;
    for (let at = first.length; at < others.length; at += MAX_ROOM_USERS_PER_FRAME) {
      const users = others.slice(at, at + MAX_ROOM_USERS_PER_FRAME);
      count += users.length;
      const want = count;
      const grown = next((f) => f.type === 'room' && f.room === room && (f.members?.length ?? 0) >= want);
      ws.send(JSON.stringify({ type: 'room_add', room, users, cid: `bench-add-${at}` }));
      await grown;
    }
    return room;
  } finally {
    ws.terminate();
  }
}
