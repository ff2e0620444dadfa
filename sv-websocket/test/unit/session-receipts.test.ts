/** A session's typing and read frames, on in-memory parts: throttle, marks, events, refusals. */
import assert from 'node:assert/strict';
import type { ServerFrame } from '@chat/shared/protocol';
import { FakeNode, settle } from '../helpers/session-fakes.ts';

const codes = (frames: ServerFrame[]) => frames.slice(1).map((f) => (f.type === 'error' ? f.code : f.type));

async function alice(limits = {}) {
  const node = new FakeNode(limits);
  const client = node.connect();
  await client.hello('alice');
  return { node, client, conn: client.session.connId };
}

describe('ClientSession: typing', () => {
  it('delivers one indicator per recipient per 2 s, as {type, from}, never answered', async () => {
    const { node, client, conn } = await alice();
    client.ws.receive({ type: 'typing', to: 'bob' });
    client.ws.receive({ type: 'typing', to: 'bob' });
    client.ws.receive({ type: 'typing', to: 'carol' });
    await settle();
    assert.deepEqual(node.delivery.events, [
      { event: { event: { type: 'typing', from: 'alice' }, to: ['bob'], originConn: conn }, retry: false },
      { event: { event: { type: 'typing', from: 'alice' }, to: ['carol'], originConn: conn }, retry: false },
    ]);
    node.clock += 2000;
    client.ws.receive({ type: 'typing', to: 'bob' });
    await settle();
    assert.equal(node.delivery.events.length, 3, 'after 2 s the next one goes');
    assert.deepEqual(codes(client.frames()), [], 'nothing is answered');
  });

  it('counts against the send budget: a send after a typing that spent it is refused', async () => {
    const { node, client } = await alice({ rateLimitPerSec: 1, rateLimitBurst: 1 });
    client.ws.receive({ type: 'typing', to: 'bob' });
    client.ws.receive({ type: 'send', to: 'bob', cid: 'c1', body: 'hi' });
    client.ws.receive({ type: 'typing', to: 'carol' });
    await settle();
    assert.deepEqual(codes(client.frames()), ['rate_limited', 'rate_limited']);
    assert.equal(node.delivery.events.length, 1);
    assert.equal(node.log.appended.length, 0);
  });
});

describe('ClientSession: read', () => {
  it('stores the mark and announces it to the peer and the reader\'s other connections, only when it moved', async () => {
    const { node, client, conn } = await alice();
    client.ws.receive({ type: 'read', with: 'bob', seq: 5 });
    await settle();
    client.ws.receive({ type: 'read', with: 'bob', seq: 3 });
    client.ws.receive({ type: 'read', with: 'bob', seq: 5 });
    await settle();
    client.ws.receive({ type: 'read', with: 'bob', seq: 9 });
    await settle();
    assert.equal(node.marks.stored.get('alice\nbob'), 9);
    assert.deepEqual(node.delivery.events, [
      { event: { event: { type: 'read', by: 'alice', with: 'bob', seq: 5 }, to: ['bob', 'alice'], originConn: conn }, retry: true },
      { event: { event: { type: 'read', by: 'alice', with: 'bob', seq: 9 }, to: ['bob', 'alice'], originConn: conn }, retry: true },
    ]);
    assert.deepEqual(codes(client.frames()), [], 'nothing is answered');
  });

  it('takes a read of one\'s own conversation, announced to one\'s other connections', async () => {
    const { node, client, conn } = await alice();
    client.ws.receive({ type: 'read', with: 'alice', seq: 4 });
    await settle();
    assert.deepEqual(node.delivery.events.map((e) => e.event), [{ event: { type: 'read', by: 'alice', with: 'alice', seq: 4 }, to: ['alice'], originConn: conn }]);
  });

  it('answers unavailable when the mark cannot be stored, and announces nothing', async () => {
    const { node, client } = await alice();
    node.marks.down = true;
    client.ws.receive({ type: 'read', with: 'bob', seq: 5 });
    await settle();
    assert.deepEqual(codes(client.frames()), ['unavailable']);
    assert.deepEqual(node.delivery.events, []);
  });

  it('answers bad input with bad_request and changes nothing', async () => {
    const { node, client } = await alice();
    const bad = [
      { type: 'read', with: 'bob', seq: -1 }, { type: 'read', with: 'bob', seq: 1.5 }, { type: 'read', with: 'bob', seq: 2 ** 53 },
      { type: 'read', with: 'bob', seq: '3' }, { type: 'read', with: 'b o b', seq: 1 }, { type: 'read', seq: 1 }, { type: 'read', with: 'bob' },
      { type: 'typing', to: 'x'.repeat(65) }, { type: 'typing' }, { type: 'typing', to: 7 },
    ];
    for (const frame of bad) client.ws.receive(frame);
    await settle();
    assert.deepEqual(codes(client.frames()), bad.map(() => 'bad_request'));
    assert.deepEqual(node.delivery.events, []);
    assert.equal(node.marks.stored.size, 0);
  });

  it('refuses reads past the send budget with rate_limited', async () => {
    const { node, client } = await alice({ rateLimitPerSec: 1, rateLimitBurst: 2 });
    for (let seq = 1; seq <= 3; seq++) client.ws.receive({ type: 'read', with: 'bob', seq });
    await settle();
    assert.deepEqual(codes(client.frames()), ['rate_limited']);
    assert.equal(node.marks.stored.get('alice\nbob'), 2);
  });
});
