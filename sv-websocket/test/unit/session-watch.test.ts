/** A connection's `watch` frames on a fake socket: validation, the send budget, answers, release at close. */
import assert from 'node:assert/strict';
import { FakeNode, settle } from '../helpers/session-fakes.ts';

const users = (n: number) => Array.from({ length: n }, (_, i) => `u${i}`);

describe('ClientSession: watch', () => {
  it('answers the known state of each watched user, and writes later changes', async () => {
    const node = new FakeNode();
    const client = node.connect();
    await client.hello('alice');
    client.ws.receive({ type: 'watch', users: ['bob', 'carol'] });
    await settle();
    assert.equal(node.watches.watchedUsers, 2);
    node.watches.received([{ user: 'bob', online: true, last_seen: null }, { user: 'carol', online: false, last_seen: null }]);
    node.watches.received([{ user: 'bob', online: false, last_seen: 1234 }]);
    await settle();
    assert.deepEqual(client.frames().slice(1), [
      { type: 'presence', user: 'bob', online: true, last_seen: null },
      { type: 'presence', user: 'carol', online: false, last_seen: null },
      { type: 'presence', user: 'bob', online: false, last_seen: 1234 },
    ]);
  });

  it('refuses more than 500 users or a bad user id with bad_request, keeping the list it had', async () => {
    const node = new FakeNode();
    const client = node.connect();
    await client.hello('alice');
    client.ws.receive({ type: 'watch', users: users(500) });
    client.ws.receive({ type: 'watch', users: users(501) });
    client.ws.receive({ type: 'watch', users: ['bob', 'not a user'] });
    client.ws.receive({ type: 'watch', users: 'bob' });
    await settle();
    assert.deepEqual(client.frames().slice(1).map((f) => f.type === 'error' && f.code), ['bad_request', 'bad_request', 'bad_request']);
    assert.equal(node.watches.watchedUsers, 500);
  });

  it('clears the list with an empty one, and releases it when the connection closes', async () => {
    const node = new FakeNode();
    const [first, second] = [node.connect(), node.connect()];
    await first.hello('alice');
    await second.hello('alice');
    first.ws.receive({ type: 'watch', users: ['bob', 'carol'] });
    second.ws.receive({ type: 'watch', users: ['carol', 'dave'] });
    await settle();
    assert.equal(node.watches.watchedUsers, 3);
    first.ws.receive({ type: 'watch', users: [] });
    await settle();
    assert.equal(node.watches.watchedUsers, 2);
    second.ws.emit('close');
    await settle();
    assert.equal(node.watches.watchedUsers, 0);
  });

  it('spends the send budget: beyond it a watch is rate_limited and changes nothing', async () => {
    const node = new FakeNode({ rateLimitPerSec: 1, rateLimitBurst: 2 });
    const client = node.connect();
    await client.hello('alice');
    client.ws.receive({ type: 'watch', users: ['bob'] });
    client.ws.receive({ type: 'send', to: 'bob', body: 'hi', cid: 'c1' });
    client.ws.receive({ type: 'watch', users: ['carol'] });
    await settle();
    const answers = client.frames().slice(1).map((f) => (f.type === 'error' ? f.code : f.type));
    assert.deepEqual(answers.sort(), ['ack', 'rate_limited'], 'the send took the second token; the ack comes after the log answers');
    assert.deepEqual(node.watches.watchedUsers, 1, 'still bob only');
  });
});
