/**
 * A session's room frames, and its sends, history and read marks by room, on in-memory parts; the
 * `cid` of every room request reaches the answer and the refusal of it, so a client matches each
 * to its request, the others get the change without it, and the asker gets it once.
 */
import assert from 'node:assert/strict';
import type { RoomFrame, ServerFrame } from '@chat/shared/protocol';
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

async function roomWithCid(node: FakeNode): Promise<{ alice: ReturnType<FakeNode['connect']>; bob: ReturnType<FakeNode['connect']>; room: string }> {
  const [alice, bob] = [node.connect(), node.connect()];
  await alice.hello('alice');
  await bob.hello('bob');
  alice.ws.receive({ type: 'room_create', title: 'Team', members: ['bob'], cid: 'make' });
  await settle();
  const made = node.delivery.events.map((e) => e.event.event as RoomFrame).find((f) => f.cid === 'make');
  assert.ok(made, 'the creator gets the room frame with its cid');
  return { alice, bob, room: made.room };
}

/** The room frames sent to other nodes' and this node's connections since `from`: to whom, and with which cid. */
const announced = (node: FakeNode, from: number) => node.delivery.events.slice(from).map((e) => [e.event.to, (e.event.event as RoomFrame).cid]);

describe('SessionRooms: answers carry the request\'s cid', () => {
  it('gives a change\'s room frame to the asker with its cid and to the others without', async () => {
    const node = new FakeNode();
    const { alice, room } = await roomWithCid(node);
    const from = node.delivery.events.length;
    alice.ws.receive({ type: 'room_add', room, users: ['carol'], cid: 'add-1' });
    await settle();
    assert.deepEqual(announced(node, from), [[['alice'], 'add-1'], [['bob', 'carol'], undefined]]);
  });

  it('gives a leaver the frame once, with its cid', async () => {
    const node = new FakeNode();
    const { bob, room } = await roomWithCid(node);
    const from = node.delivery.events.length;
    bob.ws.receive({ type: 'room_leave', room, cid: 'bye' });
    await settle();
    assert.deepEqual(announced(node, from), [[['bob'], 'bye'], [['alice'], undefined]]);
  });

  it('answers room_info and a change that changed nothing on the asking connection, with the cid', async () => {
    const node = new FakeNode();
    const { alice, room } = await roomWithCid(node);
    alice.ws.receive({ type: 'room_info', room, cid: 'info-1' });
    alice.ws.receive({ type: 'room_add', room, users: ['bob'], cid: 'again' });
    await settle();
    assert.deepEqual(alice.frames().filter((f) => f.type === 'room').map((f) => (f as RoomFrame).cid).sort(), ['again', 'info-1']);
  });

  it('refuses with the cid of the refused request', async () => {
    const node = new FakeNode();
    const { bob, room } = await roomWithCid(node);
    bob.ws.receive({ type: 'room_remove', room, users: ['alice'], cid: 'not-yours' });
    bob.ws.receive({ type: 'room_info', room: 'no-such-room', cid: 'nothing' });
    bob.ws.receive({ type: 'room_join', room: 'bad id!', cid: 'malformed' });
    await settle();
    const errors = bob.frames().flatMap((f) => (f.type === 'error' ? [[f.code, f.cid]] : []));
    assert.deepEqual(errors.sort(), [['bad_request', 'malformed'], ['forbidden', 'not-yours'], ['forbidden', 'nothing']]);
  });
});
