/**
 * The client library's rooms against a real mesh of two nodes: creating a room and each change
 * resolved by its own answer, messages to the room across nodes, its history, read marks and its
 * place in conversations, refusals as `forbidden`, and a member whose node was SIGKILLed catching
 * the room up after the reconnect, every message once.
 */
import assert from 'node:assert/strict';
import { ChatError } from '@chat/shared/client/chat-client.js';
import { startService } from '@chat/shared/testing/processes';
import { eventually } from '@chat/shared/testing/eventually';
import { recorded, type ChatClientOptions } from '../helpers/library-client.ts';
import { startMesh, uniqueUser, type Mesh } from '../helpers/mesh.ts';

const sorted = (users: readonly string[]) => [...users].sort();
const isForbidden = (err: unknown) => err instanceof ChatError && err.code === 'forbidden';

describe('client library: rooms against a mesh', function () {
  this.timeout(90_000);
  let mesh: Mesh;
  const open: ReturnType<typeof recorded>[] = [];
  /** A connected client of `user` on `node` (and only there). */
  const client = async (node: number, user: string, opts: Partial<ChatClientOptions> = {}) => {
    const r = recorded({ urls: [mesh.nodes[node]!.url], user, ...opts });
    open.push(r);
    await r.client.connect();
    return r;
  };

  before(async function () {
    this.timeout(120_000);
    mesh = await startMesh([{}, {}]);
  });
  afterEach(() => { for (const r of open.splice(0)) r.client.close(); });
  after(async () => { await mesh?.stop(); });

  it('creates a room, talks in it across nodes, pages its history, lists it and tells a read mark to the reader\'s other tab', async () => {
    const [a, b, c] = [uniqueUser('alice'), uniqueUser('bob'), uniqueUser('carol')];
    const [alice, bob, carol, carolOther] = [await client(0, a), await client(1, b), await client(1, c), await client(0, c)];
    const made = await alice.client.createRoom({ title: 'Team', members: [b, c] });
    assert.equal(typeof made.cid, 'string', 'the answer is the room frame of its own cid');
    assert.deepEqual({ ...made, members: sorted(made.members), cid: undefined }, { type: 'room', room: made.room, title: 'Team', owner: a, public: false, members: sorted([a, b, c]), cid: undefined });
    await eventually('bob heard of the room', () => bob.rooms.some((r) => r.room === made.room));

    const hi = await alice.client.sendToRoom(made.room, 'hi all');
    const hello = await bob.client.sendToRoom(made.room, 'hello');
    for (const member of [carol, carolOther]) {
      await eventually('both messages reached carol', () => [hi.id, hello.id].every((id) => member.messages.some((m) => m.id === id)));
      assert.deepEqual(member.messages.map((m) => [m.from, m.room, 'to' in m, m.body]), [[a, made.room, false, 'hi all'], [b, made.room, false, 'hello']]);
    }
    await eventually('alice got bob\'s', () => alice.messages.some((m) => m.id === hello.id));
    assert.deepEqual(alice.messages.map((m) => m.id), [hello.id], 'her own message came back as its ack');

    const page = await carol.client.roomHistory(made.room, { limit: 10 });
    assert.equal(page.room, made.room);
    assert.deepEqual(page.messages.map((m) => m.id), [hi.id, hello.id]);
    assert.deepEqual(page.messages.map((m) => m.seq), [hi.seq, hello.seq].sort((x, y) => x - y));
    const listed = (await carol.client.conversations()).find((item) => item.room === made.room);
    assert.deepEqual(listed && { title: listed.title, unread: listed.unread, last: listed.last.id, with: listed.with }, { title: 'Team', unread: 2, last: hello.id, with: undefined });

    carol.client.markRoomRead(made.room, hello.seq);
    await eventually('carol\'s other tab heard of the mark', () => carolOther.reads.some((r) => r.room === made.room && r.seq === hello.seq));
    assert.deepEqual(carolOther.reads, [{ type: 'read', by: c, room: made.room, seq: hello.seq }]);
    await eventually('the mark is stored', async () => (await carolOther.client.conversations()).find((item) => item.room === made.room)?.unread === 0);
    assert.deepEqual((await bob.client.roomInfo(made.room)).members.sort(), sorted([a, b, c]));
  });

  it('resolves each change with its own answer, refuses what the user may not do with forbidden, and lets a member leave', async () => {
    const [a, b, d, e] = [uniqueUser('alice'), uniqueUser('bob'), uniqueUser('dave'), uniqueUser('erin')];
    const [alice, bob, dave, erin] = [await client(0, a), await client(1, b), await client(1, d), await client(0, e)];
    const { room } = await alice.client.createRoom({ title: 'private', members: [b] });

    assert.deepEqual(sorted((await alice.client.addToRoom(room, [d])).members), sorted([a, b, d]));
    await eventually('dave heard he was added', () => dave.rooms.some((r) => r.room === room && r.members.includes(d)));
    await assert.rejects(bob.client.addToRoom(room, [e]), isForbidden, 'only the owner adds');
    await assert.rejects(erin.client.joinRoom(room), isForbidden, 'a private room is not joined');
    await assert.rejects(erin.client.roomInfo(room), isForbidden);
    await assert.rejects(erin.client.roomHistory(room), isForbidden);
    await assert.rejects(erin.client.sendToRoom(room, 'let me in'), isForbidden);
    assert.equal(erin.client.queued, 0, 'a forbidden send is not retried');

    assert.deepEqual(sorted((await alice.client.removeFromRoom(room, [b])).members), sorted([a, d]));
    await eventually('bob heard he was removed', () => bob.rooms.some((r) => r.room === room && !r.members.includes(b)));
    await assert.rejects(bob.client.sendToRoom(room, 'still here?'), isForbidden);
    await assert.rejects(bob.client.roomHistory(room), isForbidden);
    const left = await dave.client.leaveRoom(room);
    assert.deepEqual(left.members, [a], 'the answer to a leave no longer lists the leaver');

    const lobby = await alice.client.createRoom({ title: 'lobby', members: [], public: true });
    assert.deepEqual(sorted((await erin.client.joinRoom(lobby.room)).members), sorted([a, e]));
    assert.deepEqual((await erin.client.joinRoom(lobby.room)).members.length, 2, 'joining again changes nothing and is still answered');
  });
});

describe('client library: a room caught up after the member\'s node was SIGKILLed', function () {
  this.timeout(120_000);
  let mesh: Mesh;
  const clients: ReturnType<typeof recorded>[] = [];
  before(async function () {
    this.timeout(120_000);
    mesh = await startMesh([{}, {}]);
  });
  after(async () => {
    for (const r of clients.splice(0)) r.client.close();
    await mesh?.stop();
  });

  it('reads what the room said meanwhile after its mark, and passes every message on once', async () => {
    const [a, b] = [uniqueUser('alice'), uniqueUser('bob')];
    const alice = recorded({ urls: [mesh.nodes[0]!.url], user: a });
    const bob = recorded({ urls: [mesh.nodes[1]!.url], user: b });
    clients.push(alice, bob);
    await Promise.all([alice.client.connect(), bob.client.connect()]);
    const { room } = await alice.client.createRoom({ title: 'outage', members: [b] });
    const first = await alice.client.sendToRoom(room, 'before');
    await eventually('bob got the first live', () => bob.messages.some((m) => m.id === first.id));

    const old = mesh.nodes[1]!;
    await old.stop('SIGKILL');
    const missed = [await alice.client.sendToRoom(room, 'while away 1'), await alice.client.sendToRoom(room, 'while away 2')];
    assert.equal(bob.client.state === 'open', false, 'bob is away while they are sent');
    const syncedBefore = bob.synced;
    mesh.nodes[1] = await startService('sv-websocket', { ...mesh.nodeEnv(1), PORT: String(old.port) });

    await eventually('bob is back and caught up', () => bob.client.state === 'open' && bob.synced > syncedBefore);
    await eventually('bob has every message', () => missed.every((x) => bob.messages.some((m) => m.id === x.id)));
    assert.deepEqual(bob.messages.map((m) => m.id), [first.id, ...missed.map((x) => x.id)], 'each once, in order');
    assert.ok(bob.messages.every((m) => m.room === room));
    const after = await alice.client.sendToRoom(room, 'after');
    await eventually('bob gets the next one live', () => bob.messages.some((m) => m.id === after.id));
    assert.equal(bob.messages.length, 4);
  });
});
