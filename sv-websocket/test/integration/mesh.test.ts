/**
 * The mesh end to end: separate processes (discover, persist on real Postgres, three nodes)
 * driven by `ws` clients speaking the public protocol.
 */
import assert from 'node:assert/strict';
import { request } from 'undici';
import { TestClient } from '@chat/shared/protocol-client';
import { startMesh, uniqueUser, type Mesh } from '../helpers/mesh.ts';

const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('mesh: delivery, acks, history', function () {
  let mesh: Mesh;
  const clients: TestClient[] = [];
  const connect = async (node: number, user: string) => {
    const c = await TestClient.connect(mesh.nodes[node]!.url, user);
    clients.push(c);
    return c;
  };

  before(async function () {
    this.timeout(120_000);
    mesh = await startMesh([{ RATE_LIMIT_BURST: '1000' }, { RATE_LIMIT_BURST: '1000' }, {}]);
  });
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.close()));
  });
  after(async () => {
    await mesh?.stop();
  });

  it('delivers on the same node with a complete ack', async () => {
    const [a, b] = [uniqueUser('alice'), uniqueUser('bob')];
    const alice = await connect(0, a);
    const bob = await connect(0, b);
    const ack = await alice.sendMessage(b, 'hello bob', 'c-1');
    assert.equal(ack.cid, 'c-1');
    assert.match(ack.id, UUID_V7);
    assert.equal(typeof ack.seq, 'number');
    assert.ok(Math.abs(ack.ts - Date.now()) < 60_000, 'ts is server time in ms');
    const msg = await bob.next('message');
    assert.deepEqual(msg, { type: 'message', id: ack.id, seq: ack.seq, cid: 'c-1', from: a, to: b, body: 'hello bob', ts: ack.ts });
  });

  it('delivers across nodes, to every connection of the recipient and the sender\'s other connections', async () => {
    const [a, b] = [uniqueUser('alice'), uniqueUser('bob')];
    const bob1 = await connect(1, b);
    const bob2 = await connect(2, b);
    const aliceOther = await connect(2, a);
    const aliceLocal = await connect(0, a);
    const alice = await connect(0, a);
    const ack = await alice.sendMessage(b, 'across', 'x-1');
    for (const c of [bob1, bob2, aliceOther, aliceLocal]) {
      const m = await c.next('message', (f) => f.id === ack.id);
      assert.equal(m.body, 'across');
      assert.equal(m.from, a);
      assert.equal(m.seq, ack.seq);
    }
    // The sending connection got the ack, not a copy.
    assert.equal(alice.frames.filter((f) => f.type === 'message').length, 0);
  });

  it('gives strictly increasing seq in the order sent', async () => {
    const [a, b] = [uniqueUser('alice'), uniqueUser('bob')];
    const alice = await connect(0, a);
    const bob = await connect(1, b);
    const acks = [];
    for (let i = 0; i < 5; i++) acks.push(await alice.sendMessage(b, `m${i}`, `s-${i}`));
    for (let i = 1; i < acks.length; i++) assert.ok(acks[i]!.seq > acks[i - 1]!.seq);
    // bob replies: same conversation, seq keeps increasing whoever sends
    const reply = await bob.sendMessage(a, 'reply', 'r-1');
    assert.ok(reply.seq > acks[4]!.seq);
  });

  it('sends 300 messages fast, all acked, delivered and stored in order', async () => {
    const [a, b] = [uniqueUser('alice'), uniqueUser('bob')];
    const alice = await connect(0, a);
    const bob = await connect(1, b);
    const n = 300;
    for (let i = 0; i < n; i++) alice.send({ type: 'send', to: b, body: `fast ${i}`, cid: `f-${i}` });
    const acks = [];
    for (let i = 0; i < n; i++) acks.push(await alice.next('ack', (f) => f.cid === `f-${i}`));
    for (let i = 1; i < n; i++) assert.ok(acks[i]!.seq > acks[i - 1]!.seq, `ack ${i} seq increases`);
    const got = [];
    for (let i = 0; i < n; i++) got.push(await bob.next('message', (f) => f.cid === `f-${i}`));
    assert.deepEqual(got.map((m) => m.body), acks.map((_, i) => `fast ${i}`));
    // History pages of 200: ascending seq, all 300 exactly once.
    alice.send({ type: 'history', with: b, limit: 200 });
    const newest = await alice.next('history');
    assert.equal(newest.messages.length, 200);
    assert.equal(newest.more, true);
    alice.send({ type: 'history', with: b, before: newest.messages[0]!.seq, limit: 200 });
    const older = await alice.next('history');
    assert.equal(older.more, false);
    const all = [...older.messages, ...newest.messages];
    assert.deepEqual(all.map((m) => m.cid), acks.map((x) => x.cid));
    assert.deepEqual(all.map((m) => m.seq), acks.map((x) => x.seq));
  });

  it('pages history both ways, over WebSocket and HTTP', async () => {
    const [a, b] = [uniqueUser('alice'), uniqueUser('bob')];
    const alice = await connect(0, a);
    const acks = [];
    for (let i = 0; i < 7; i++) acks.push(await alice.sendMessage(b, `h${i}`, `h-${i}`));
    const seqs = acks.map((x) => x.seq);

    alice.send({ type: 'history', with: b, limit: 3 });
    const page1 = await alice.next('history');
    assert.equal(page1.with, b);
    assert.deepEqual(page1.messages.map((m) => m.seq), seqs.slice(4));
    assert.equal(page1.more, true);
    alice.send({ type: 'history', with: b, before: seqs[4], limit: 3 });
    const page2 = await alice.next('history');
    assert.deepEqual(page2.messages.map((m) => m.seq), seqs.slice(1, 4));
    alice.send({ type: 'history', with: b, after: seqs[1], limit: 2 });
    const forward = await alice.next('history');
    assert.deepEqual(forward.messages.map((m) => m.seq), seqs.slice(2, 4));
    assert.equal(forward.more, true);
    alice.send({ type: 'history', with: b, after: seqs[6] });
    const none = await alice.next('history');
    assert.deepEqual(none.messages, []);
    assert.equal(none.more, false);
    const first = page1.messages[0]!;
    assert.deepEqual(Object.keys(first).sort(), ['body', 'cid', 'from', 'id', 'seq', 'to', 'ts']);

    // The same through HTTP on another node, as bob (dev mode: ?user=).
    const res = await request(`${mesh.nodes[2]!.url}/v1/conversations/${a}/messages?user=${b}&before=${seqs[4]}&limit=3`);
    assert.equal(res.statusCode, 200);
    const body = (await res.body.json()) as { messages: { seq: number }[]; more: boolean };
    assert.deepEqual(body.messages.map((m) => m.seq), seqs.slice(1, 4));
    assert.equal(body.more, true);
    const bad = await request(`${mesh.nodes[2]!.url}/v1/conversations/${a}/messages?user=${b}&limit=500`);
    assert.equal(bad.statusCode, 400);
    await bad.body.dump();
    const anon = await request(`${mesh.nodes[2]!.url}/v1/conversations/${a}/messages`);
    assert.equal(anon.statusCode, 401);
    await anon.body.dump();
  });

  it('lists conversations newest first, by frame and HTTP', async () => {
    const [a, b, c] = [uniqueUser('alice'), uniqueUser('bob'), uniqueUser('carol')];
    const alice = await connect(0, a);
    await alice.sendMessage(b, 'to bob', 'cv-1');
    const last = await alice.sendMessage(c, 'to carol', 'cv-2');
    alice.send({ type: 'conversations' });
    const list = await alice.next('conversations');
    assert.deepEqual(list.items.map((i) => i.with), [c, b]);
    assert.equal(list.items[0]!.last.id, last.id);
    assert.equal(list.items[0]!.last.body, 'to carol');
    const res = await request(`${mesh.nodes[1]!.url}/v1/conversations?user=${b}`);
    const body = (await res.body.json()) as { items: { with: string }[] };
    assert.deepEqual(body.items.map((i) => i.with), [a]);
  });

  it('keeps messages for an offline recipient, who catches up with history after', async () => {
    const [a, d] = [uniqueUser('alice'), uniqueUser('dave')];
    const alice = await connect(0, a);
    const acks = [];
    for (let i = 0; i < 4; i++) acks.push(await alice.sendMessage(d, `while away ${i}`, `o-${i}`));
    const dave = await connect(1, d);
    dave.send({ type: 'history', with: a, after: 0 });
    const page = await dave.next('history');
    assert.deepEqual(page.messages.map((m) => m.id), acks.map((x) => x.id));
    assert.equal(page.messages[0]!.from, a);
  });

  it('stores a repeated cid once and acks it with the same id', async () => {
    const [a, b] = [uniqueUser('alice'), uniqueUser('bob')];
    const alice = await connect(0, a);
    const first = await alice.sendMessage(b, 'once', 'dup-1');
    const again = await alice.sendMessage(b, 'once', 'dup-1');
    assert.equal(again.id, first.id);
    assert.equal(again.seq, first.seq);
    // from another connection of the same user, on another node
    const alice2 = await connect(2, a);
    const third = await alice2.sendMessage(b, 'once', 'dup-1');
    assert.equal(third.id, first.id);
    alice.send({ type: 'history', with: b });
    const page = await alice.next('history');
    assert.equal(page.messages.filter((m) => m.cid === 'dup-1').length, 1);
  });
});
