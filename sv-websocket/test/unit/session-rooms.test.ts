/** A session's room frames, and its sends, history and read marks by room, on in-memory parts. */
import assert from 'node:assert/strict';
import type { ServerFrame } from '@chat/shared/protocol';
import { FakeNode, settle } from '../helpers/session-fakes.ts';

const answers = (frames: ServerFrame[]) => frames.slice(1).map((f) => (f.type === 'error' ? `${f.code}${f.cid ? ` ${f.cid}` : ''}` : f.type));

async function session(user = 'alice', node = new FakeNode()) {
  const client = node.connect();
  await client.hello(user);
  return { node, client, conn: client.session.connId };
}

/** A room of alice's with bob and carol, made directly in the fake store. */
async function roomOfAlice(node: FakeNode, pub = false): Promise<string> {
  const made = await node.rooms.create({ owner: 'alice', title: 'plans', public: pub, members: ['bob', 'carol'] });
  return made.room;
}

describe('ClientSession: room changes', () => {
  it('creates a room and announces it: the creator with the cid, the other members without', async () => {
    const { node, client } = await session();
    client.ws.receive({ type: 'room_create', title: 'plans', members: ['bob', 'carol'], cid: 'c1' });
    await settle();
    const room = { room: 'r1', title: 'plans', owner: 'alice', public: false, members: ['alice', 'bob', 'carol'] };
    assert.deepEqual(node.delivery.events, [
      { event: { event: { type: 'room', ...room, cid: 'c1' }, to: ['alice'] }, retry: true },
      { event: { event: { type: 'room', ...room }, to: ['bob', 'carol'] }, retry: true },
    ]);
    assert.deepEqual(answers(client.frames()), [], 'the answer is the announcement');
  });

  it('announces each change to the members after it and to those it took out; a change that changed nothing to the asker alone', async () => {
    const { node, client } = await session();
    const room = await roomOfAlice(node, true);
    client.ws.receive({ type: 'room_remove', room, users: ['bob'] });
    await settle();
    assert.deepEqual(node.delivery.events.map((e) => [e.event.to, 'members' in e.event.event && e.event.event.members]), [
      [['alice', 'carol', 'bob'], ['alice', 'carol']],
    ]);
    client.ws.receive({ type: 'room_join', room });
    await settle();
    assert.equal(node.delivery.events.length, 1, 'nothing changed: no announcement');
    assert.deepEqual(answers(client.frames()), ['room']);
  });

  it('answers forbidden to a non-owner\'s add and remove, a join of a private room and a stranger\'s info; unavailable when the store is down', async () => {
    const node = new FakeNode();
    const room = await roomOfAlice(node);
    const { client: bob } = await session('bob', node);
    bob.ws.receive({ type: 'room_add', room, users: ['dave'] });
    bob.ws.receive({ type: 'room_remove', room, users: ['carol'] });
    const { client: mallory } = await session('mallory', node);
    mallory.ws.receive({ type: 'room_join', room });
    mallory.ws.receive({ type: 'room_info', room });
    await settle();
    bob.ws.receive({ type: 'room_info', room });
    await settle();
    assert.deepEqual(answers(bob.frames()), ['forbidden', 'forbidden', 'room']);
    assert.deepEqual(answers(mallory.frames()), ['forbidden', 'forbidden']);
    node.rooms.down = true;
    mallory.ws.receive({ type: 'room_create', title: 'x', members: [], cid: 'c9' });
    await settle();
    assert.deepEqual(answers(mallory.frames()).slice(2), ['unavailable c9']);
    assert.equal(node.delivery.events.length, 0);
  });

  it('lets a user create ROOM_CREATE_PER_MINUTE rooms at once across their connections, then one every 60 / that many seconds', async () => {
    const node = new FakeNode({ roomCreatePerMinute: 2 });
    const [{ client: one }, { client: two }] = [await session('alice', node), await session('alice', node)];
    one.ws.receive({ type: 'room_create', title: 'a', members: [], cid: 'a' });
    two.ws.receive({ type: 'room_create', title: 'b', members: [], cid: 'b' });
    two.ws.receive({ type: 'room_create', title: 'c', members: [], cid: 'c' });
    await settle();
    assert.deepEqual(answers(two.frames()), ['rate_limited c']);
    node.clock += 30_000;
    two.ws.receive({ type: 'room_create', title: 'd', members: [], cid: 'd' });
    await settle();
    assert.deepEqual([answers(two.frames()).length, node.rooms.rooms.size], [1, 3]);
  });
});

describe('ClientSession: a room\'s sends, history and read marks', () => {
  it('sends to a room as a member: appended to its address, acked, delivered to the members', async () => {
    const { node, client, conn } = await session();
    const room = await roomOfAlice(node);
    client.ws.receive({ type: 'send', room, body: 'hi all', cid: 's1' });
    await settle();
    assert.deepEqual(node.log.appended.map((m) => m.to), [`#${room}`]);
    assert.deepEqual(answers(client.frames()), ['ack']);
    assert.deepEqual(node.delivery.prefetchedMembers, [['alice', 'bob', 'carol']]);
    assert.deepEqual(node.delivery.deliveredToRooms.map((d) => [d.message.to, d.members, d.originConn]), [[`#${room}`, ['alice', 'bob', 'carol'], conn]]);
    assert.deepEqual(node.delivery.delivered, []);
  });

  it('refuses a non-member\'s send (with its cid) and read mark with forbidden, storing nothing', async () => {
    const node = new FakeNode();
    const room = await roomOfAlice(node);
    const { client } = await session('mallory', node);
    client.ws.receive({ type: 'send', room, body: 'hi', cid: 'm1' });
    client.ws.receive({ type: 'read', room, seq: 3 });
    await settle();
    assert.deepEqual(answers(client.frames()).sort(), ['forbidden', 'forbidden m1']);
    assert.deepEqual([node.log.appended, node.marks.stored.size, node.delivery.events], [[], 0, []]);
  });

  it('sends a room\'s read mark to the reader\'s other connections only, as {by, room, seq}', async () => {
    const { node, client, conn } = await session();
    const room = await roomOfAlice(node);
    client.ws.receive({ type: 'read', room, seq: 4 });
    await settle();
    assert.equal(node.marks.stored.get(`alice\n#${room}`), 4);
    assert.deepEqual(node.delivery.events, [{ event: { event: { type: 'read', by: 'alice', room, seq: 4 }, to: ['alice'], originConn: conn }, retry: true }]);
  });

  it('appends a connection\'s room sends in the order sent, even while the first waits for the room\'s member list', async () => {
    const { node, client } = await session();
    const room = await roomOfAlice(node);
    const held = node.rooms.hold();
    client.ws.receive({ type: 'send', room, body: 'first', cid: 'o1' });
    await settle();
    client.ws.receive({ type: 'send', room, body: 'second', cid: 'o2' });
    await settle();
    held.resolve();
    await settle();
    assert.deepEqual(node.log.appended.map((m) => m.cid), ['o1', 'o2']);
  });

  it('asks the history of a room by its address, and answers with the room', async () => {
    const { node, client } = await session();
    client.ws.receive({ type: 'history', room: 'r7', limit: 2 });
    await settle();
    assert.equal(node.history.asked[0]!.what, 'history #r7');
    node.history.asked[0]!.answer.resolve({ messages: [], more: false });
    await settle();
    assert.deepEqual(client.frames().slice(1), [{ type: 'history', room: 'r7', messages: [], more: false }]);
  });
});
