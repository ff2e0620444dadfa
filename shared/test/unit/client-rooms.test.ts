/**
 * The client library's rooms without a node: its checks of room input, room requests matched to
 * their answers by cid, room messages kept once and caught up by room, and a room the user left
 * or lost dropped from the catch-up.
 */
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import { ChatClient, ChatError } from '../../client/chat-client.js';
import { CatchUp } from '../../client/catch-up.js';
import { Inbox } from '../../client/inbox.js';
import { QueryPipe } from '../../client/queries.js';
import { RoomRequests } from '../../client/room-requests.js';
import { SendQueue } from '../../client/send-queue.js';
import * as wire from '../../client/wire.js';
import { MAX_ROOM_TITLE, MAX_ROOM_USERS_PER_FRAME, ROOM_ID, type RoomFrame, type WireMessage } from '../../src/protocol.ts';

const room = '0190d3c1-0000-7000-8000-00000000a001';
const isCode = (code: string) => (err: unknown) => err instanceof ChatError && err.code === code;
const users = (n: number) => Array.from({ length: n }, (_, i) => `u${i}`);
const roomState = (members: string[], cid?: string): RoomFrame => ({ type: 'room', room, title: 'Team', owner: 'alice', public: false, members, ...(cid ? { cid } : {}) });
const roomMessage = (seq: number, from: string, cid = `c${seq}`): WireMessage => ({ id: `m${seq}`, seq, cid, from, room, body: `b${seq}`, ts: seq });

/** The parts of a client that route frames, on a connection that records what it writes. */
function inboxOn(me = 'alice') {
  const written: Record<string, unknown>[] = [];
  const write = (frame: object) => { written.push(frame as Record<string, unknown>); return true; };
  const queue = new SendQueue({ max: 10, baseMs: 1, capMs: 1, write });
  const queries = new QueryPipe({ maxInFlight: 16, timeoutMs: 60_000, write, onTimeout: () => {} });
  const rooms = new RoomRequests({ timeoutMs: 60_000, write });
  const catchUp = new CatchUp(100);
  const events: [string, unknown][] = [];
  const inbox = new Inbox({ queue, queries, rooms, catchUp, me: () => me, emit: (type, detail) => { events.push([type, detail]); } });
  queries.open(1);
  rooms.open();
  return { written, queue, queries, rooms, catchUp, events, inbox, messages: () => events.filter(([t]) => t === 'message').map(([, m]) => m as WireMessage) };
}

describe('client library: rooms', () => {
  it('keeps the room rules of shared/src/protocol.ts', () => {
    assert.equal(wire.ROOM_ID.source, ROOM_ID.source);
    assert.equal(wire.MAX_ROOM_TITLE, MAX_ROOM_TITLE);
    assert.equal(wire.MAX_ROOM_USERS_PER_FRAME, MAX_ROOM_USERS_PER_FRAME);
  });

  it('rejects bad room input at the call and writes nothing', async () => {
    const c = new ChatClient({ urls: ['http://127.0.0.1:1'], user: 'alice', WebSocket });
    const bad = isCode('bad_request');
    await assert.rejects(c.createRoom({ title: 't'.repeat(MAX_ROOM_TITLE + 1) }), bad);
    await assert.rejects(c.createRoom({ title: 'a\u0000b' }), bad);
    await assert.rejects(c.createRoom({ title: 'T', members: users(MAX_ROOM_USERS_PER_FRAME + 1) }), bad);
    await assert.rejects(c.createRoom({ title: 'T', members: ['b o b'] }), bad);
    await assert.rejects(c.createRoom({ title: 'T', public: 'yes' as unknown as boolean }), bad);
    await assert.rejects(c.addToRoom(room, []), bad);
    await assert.rejects(c.removeFromRoom('#nope', ['bob']), bad);
    await assert.rejects(c.joinRoom(''), bad);
    await assert.rejects(c.sendToRoom('not a room!', 'x'), bad);
    await assert.rejects(c.sendToRoom(room, ''), bad);
    await assert.rejects(c.roomHistory(room, { before: 1, after: 2 }), bad);
    assert.throws(() => c.markRoomRead('x y', 1), bad);
    assert.equal(c.queued, 0);
    c.close();
    await assert.rejects(c.leaveRoom(room), isCode('closed'));
  });

  it('writes a room request once connected and settles it by its cid only', async () => {
    const written: object[] = [];
    const rooms = new RoomRequests({ timeoutMs: 60_000, write: (f) => { written.push(f); return true; } });
    const asked = rooms.ask({ type: 'room_add', room, users: ['dave'] }, 'r-1');
    assert.equal(written.length, 0, 'nothing goes before a connection is welcomed');
    rooms.open();
    assert.deepEqual(written, [{ type: 'room_add', room, users: ['dave'], cid: 'r-1' }]);
    assert.equal(rooms.answer(roomState(['alice', 'dave'])), false, 'a change without a cid answers nothing');
    assert.equal(rooms.answer(roomState(['alice', 'dave'], 'r-other')), false);
    assert.equal(rooms.answer(roomState(['alice', 'dave'], 'r-1')), true);
    assert.deepEqual((await asked).members, ['alice', 'dave']);
    assert.equal(rooms.has('r-1'), false);
  });

  it('rejects a refused request with its code, and one lost with its connection, without writing it again', async () => {
    const written: { cid: string }[] = [];
    let connected = true;
    const rooms = new RoomRequests({ timeoutMs: 60_000, write: (f) => connected && written.push(f as { cid: string }) > 0 });
    rooms.open();
    const refused = rooms.ask({ type: 'room_join', room }, 'r-1');
    rooms.refused('r-1', 'forbidden', 'a private room');
    await assert.rejects(refused, isCode('forbidden'));

    const lost = rooms.ask({ type: 'room_create', title: 'T', members: [], public: false }, 'r-2');
    rooms.lost(new ChatError('disconnected', 'lost'));
    connected = false;
    const waiting = rooms.ask({ type: 'room_info', room }, 'r-3');
    await assert.rejects(lost, isCode('disconnected'));
    connected = true;
    rooms.open();
    assert.deepEqual(written.map((f) => f.cid), ['r-1', 'r-2', 'r-3'], 'the lost create is not written again; the waiting info goes');
    rooms.answer(roomState(['alice'], 'r-3'));
    assert.equal((await waiting).room, room);
  });

  it('rejects a request without an answer with timeout', async () => {
    const rooms = new RoomRequests({ timeoutMs: 5, write: () => true });
    rooms.open();
    await assert.rejects(rooms.ask({ type: 'room_leave', room }, 'r-1'), isCode('timeout'));
  });

  it('passes a room message on once, with its room, and an own repeat as its ack', async () => {
    const c = inboxOn('alice');
    const live = { type: 'message', ...roomMessage(5, 'bob') };
    c.inbox.frame(live);
    c.inbox.frame(live);
    c.inbox.frame({ ...live, id: 'm5-again' }); // a Kafka-mode repeat: same sender and cid, new id
    assert.deepEqual(c.messages(), [roomMessage(5, 'bob')]);
    assert.equal('to' in c.messages()[0]!, false);

    const sent = c.queue.add({ room }, 'hi all', 'own-1');
    assert.deepEqual(c.written.at(-1), { type: 'send', room, body: 'hi all', cid: 'own-1' });
    c.inbox.frame({ type: 'message', ...roomMessage(6, 'alice', 'own-1') });
    assert.equal((await sent).seq, 6, 'the own message stored before its ack was lost counts as the ack');
    assert.equal(c.messages().length, 1);
  });

  it('catches a room up after its mark, and drops a room whose history is forbidden', async () => {
    const c = inboxOn('alice');
    const other = '0190d3c1-0000-7000-8000-00000000b002';
    c.inbox.frame({ type: 'message', ...roomMessage(5, 'bob') });
    c.inbox.frame({ type: 'message', id: 'x1', seq: 3, cid: 'x', from: 'carol', room: other, body: 'x', ts: 1 });
    const asked: Record<string, unknown>[] = [];
    const ask = async (frame: Record<string, unknown>) => {
      asked.push(frame);
      if (frame.type === 'conversations') return { type: 'conversations', items: [] };
      if (frame.room === other) throw new ChatError('forbidden', 'not a member');
      return { type: 'history', room, messages: [roomMessage(5, 'bob'), roomMessage(9, 'carol')], more: false };
    };
    const delivered: WireMessage[] = [];
    await c.catchUp.sync(ask as never, false, (m) => delivered.push(m));
    assert.deepEqual(asked.filter((f) => f.type === 'history').map((f) => [f.room, f.after]), [[room, 5], [other, 3]]);
    assert.deepEqual(delivered.map((m) => m.id), ['m5', 'm9']);

    asked.length = 0;
    await c.catchUp.sync(ask as never, false, () => {});
    assert.deepEqual(asked.filter((f) => f.type === 'history').map((f) => f.room), [room], 'the forbidden room is no longer asked for');
  });

  it('stops catching up a room whose state no longer lists the user, and passes every room state on', async () => {
    const c = inboxOn('alice');
    c.inbox.frame({ type: 'message', ...roomMessage(5, 'bob') });
    c.inbox.frame(roomState(['bob', 'carol']));
    assert.deepEqual(c.events.filter(([t]) => t === 'room').length, 1);
    const asked: Record<string, unknown>[] = [];
    await c.catchUp.sync((async (f: Record<string, unknown>) => { asked.push(f); return { type: 'conversations', items: [] }; }) as never, false, () => {});
    assert.deepEqual(asked.map((f) => f.type), ['conversations']);
  });

  it('refuses a waiting room history with a forbidden error, and not a one-to-one one', async () => {
    const c = inboxOn('alice');
    const peer = c.queries.ask({ type: 'history', with: 'bob' });
    const ofRoom = c.queries.ask({ type: 'history', room });
    c.inbox.frame({ type: 'error', code: 'forbidden', message: 'not a member' });
    c.inbox.frame({ type: 'history', with: 'bob', messages: [], more: false });
    c.inbox.frame({ type: 'error', code: 'forbidden', message: 'not a member' });
    assert.equal((await peer).with, 'bob', 'a forbidden error is never a one-to-one history\'s');
    await assert.rejects(ofRoom, isCode('forbidden'));
  });

  it('rejects a room request refused by cid and still reports the error', async () => {
    const c = inboxOn('alice');
    const add = c.rooms.ask({ type: 'room_add', room, users: ['dave'] }, 'r-9');
    c.inbox.frame({ type: 'error', code: 'forbidden', message: 'only the owner adds members', cid: 'r-9' });
    await assert.rejects(add, isCode('forbidden'));
    assert.deepEqual(c.events.filter(([t]) => t === 'error').map(([, e]) => (e as { cid: string }).cid), ['r-9']);
  });
});
