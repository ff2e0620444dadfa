/** A client session on a fake socket: the handshake, frame routing, and what leaves the socket writer. */
import assert from 'node:assert/strict';
import { CLOSE } from '@chat/shared/close-codes';
import { encodeMessageFrame } from '@chat/shared/protocol';
import { FakeNode, settle } from '../helpers/session-fakes.ts';

const message = { id: 'm1', seq: 7, cid: 'c-bob', from: 'bob', to: 'alice', body: 'hi', ts: 1 };

describe('ClientSession: handshake', () => {
  it('answers hello with welcome once the connection is registered locally and with discovery', async () => {
    const node = new FakeNode();
    const client = node.connect();
    await client.hello('alice');
    assert.deepEqual(client.frames(), [{ type: 'welcome', user: 'alice', node: 'node-1' }]);
    assert.equal(node.local.has('alice'), true);
    assert.deepEqual(node.presence.entries, [{ user: 'alice', connId: client.session.connId }]);
  });

  it('refuses a first frame that is not hello with an error, then closes 4401', async () => {
    const node = new FakeNode();
    const client = node.connect();
    client.ws.receive({ type: 'ping' });
    await settle();
    assert.deepEqual(await client.ws.closed.promise, { code: CLOSE.UNAUTHORIZED.code, reason: CLOSE.UNAUTHORIZED.reason });
    assert.deepEqual(client.frames().map((f) => f.type === 'error' && f.code), ['unauthorized']);
    assert.equal(node.local.size, 0);
    client.ws.receive({ type: 'hello', user: 'alice' });
    await settle();
    assert.equal(client.frames().length, 1, 'nothing is answered after the close');
  });

  it('refuses a hello that does not authenticate with an error, then closes 4401', async () => {
    const node = new FakeNode();
    const client = node.connect();
    client.ws.receive({ type: 'hello', user: 'not a user id' });
    assert.equal((await client.ws.closed.promise).code, 4401);
    await settle();
    assert.deepEqual(client.frames().map((f) => f.type === 'error' && f.code), ['unauthorized']);
    assert.equal(node.local.size, 0);
  });

  it('closes 4401 when no hello comes before the deadline', async () => {
    const node = new FakeNode({ helloTimeoutMs: 1 });
    const client = node.connect();
    assert.equal((await client.ws.closed.promise).code, 4401);
    assert.deepEqual(client.frames(), []);
  });

  it('holds frames that come before welcome and handles them after it, in order', async () => {
    const node = new FakeNode();
    const registering = node.presence.hold();
    const client = node.connect();
    client.ws.receive({ type: 'hello', user: 'alice' });
    client.ws.receive({ type: 'ping' });
    client.ws.receive({ type: 'send', to: 'bob', cid: 'c1', body: 'hi' });
    await settle();
    assert.deepEqual(client.frames(), [], 'nothing before welcome');
    registering.resolve();
    await settle();
    assert.deepEqual(client.frames().map((f) => f.type), ['welcome', 'pong', 'ack']);
  });

  it('holds messages for the connection that come before welcome and sends them right after it', async () => {
    const node = new FakeNode();
    const registering = node.presence.hold();
    const client = node.connect();
    client.ws.receive({ type: 'hello', user: 'alice' });
    await settle();
    assert.equal(node.local.sendTo('alice', encodeMessageFrame(message)), 1, 'the connection is local before discovery has it');
    assert.deepEqual(client.frames(), []);
    registering.resolve();
    await settle();
    assert.deepEqual(client.frames(), [{ type: 'welcome', user: 'alice', node: 'node-1' }, { type: 'message', ...message }]);
  });

  it('closes 1013 when what is held before welcome passes MAX_BUFFERED_BYTES', async () => {
    const node = new FakeNode({ maxBufferedBytes: 64 * 1024 });
    node.presence.hold();
    const client = node.connect();
    client.ws.receive({ type: 'hello', user: 'alice' });
    await settle();
    const big = encodeMessageFrame({ ...message, body: 'x'.repeat(40 * 1024) });
    node.local.sendTo('alice', big);
    node.local.sendTo('alice', big);
    assert.equal((await client.ws.closed.promise).code, CLOSE.SLOW_CONSUMER.code);
    assert.equal(node.local.size, 0);
  });

  it('unregisters the connection when it closes', async () => {
    const node = new FakeNode();
    const client = node.connect();
    await client.hello('alice');
    client.ws.emit('close');
    assert.equal(node.local.size, 0);
    assert.deepEqual(node.presence.removedIds, [client.session.connId]);
    assert.equal(node.deps.userLimits!.size, 0, 'the user bucket is given back');
    assert.equal((await node.metrics.connections.get()).values[0]!.value, 0);
  });
});

describe('ClientSession: frames after welcome', () => {
  it('answers ping, a second hello, a binary frame and a bad frame, and stays usable', async () => {
    const node = new FakeNode();
    const client = node.connect();
    await client.hello();
    client.ws.receive({ type: 'hello', user: 'alice' });
    client.ws.receive('binary', true);
    client.ws.receive({ type: 'send', to: 'bob', cid: 'c1', body: '' });
    client.ws.receive('{not json');
    client.ws.receive({ type: 'ping' });
    await settle();
    const [, ...rest] = client.frames();
    assert.deepEqual(rest.map((f) => (f.type === 'error' ? `${f.code} ${f.cid ?? '-'}` : f.type)),
      ['bad_request -', 'bad_request -', 'bad_request c1', 'bad_request -', 'pong']);
  });
});

describe('ClientSession: socket writer', () => {
  it('writes every frame of one turn in one write, corking the socket once', async () => {
    const node = new FakeNode();
    const client = node.connect();
    await client.hello();
    const corksBefore = client.tcp.corks;
    const writesBefore = client.tcp.writes.length;
    for (let i = 0; i < 3; i++) client.ws.receive({ type: 'ping' });
    assert.equal(client.tcp.writes.length, writesBefore, 'held until the uncork');
    await settle();
    assert.equal(client.tcp.corks, corksBefore + 1);
    assert.deepEqual(client.tcp.writes.slice(writesBefore).map((w) => w.length), [3]);
    assert.equal((await node.metrics.framesOut.get()).values[0]!.value, 4, 'welcome and three pongs');
  });

  it('closes a connection whose unsent bytes pass MAX_BUFFERED_BYTES with 1013, without writing to it', async () => {
    const node = new FakeNode({ maxBufferedBytes: 64 * 1024 });
    const client = node.connect();
    await client.hello();
    client.ws.bufferedAmount = 64 * 1024 + 1;
    client.ws.receive({ type: 'ping' });
    assert.deepEqual(await client.ws.closed.promise, { code: CLOSE.SLOW_CONSUMER.code, reason: CLOSE.SLOW_CONSUMER.reason });
    await settle();
    assert.deepEqual(client.frames().map((f) => f.type), ['welcome']);
    assert.equal(node.local.size, 0);
  });
});
