/** A session's sends (admission, append, ack, delivery) and queries, on in-memory parts. */
import assert from 'node:assert/strict';
import type { Accepted } from '@chat/shared/types';
import { ERR_LOG_UNAVAILABLE, ERR_QUEUE_FULL } from '@chat/shared/errors';
import type { ServerFrame } from '@chat/shared/protocol';
import { FakeNode, settle } from '../helpers/session-fakes.ts';

const send = (cid: string, to = 'bob') => ({ type: 'send', to, cid, body: `body of ${cid}` });
const summary = (f: ServerFrame) => (f.type === 'error' ? `error ${f.code} ${f.cid ?? '-'}` : f.type === 'ack' ? `ack ${f.cid}` : f.type);

/** Alice's connection sends c1 and the log answers `accepted`; resolves once the session has acted on it. */
async function sendAnswered(accepted: Accepted) {
  const node = new FakeNode();
  node.log.answer = async () => accepted;
  const client = node.connect();
  await client.hello('alice');
  client.ws.receive(send('c1'));
  await settle();
  return { node, client };
}

describe('ClientSession: sends', () => {
  it('acks a send with the log\'s answer and delivers it, sent from this connection', async () => {
    const { node, client } = await sendAnswered({ id: 'stored-id', seq: 42, ts: 7, duplicate: false });
    assert.deepEqual(client.frames()[1], { type: 'ack', cid: 'c1', id: 'stored-id', seq: 42, ts: 7 });
    assert.equal(node.log.appended.length, 1);
    assert.deepEqual(node.delivery.prefetched, [node.log.appended[0]], 'looked up while appended');
    assert.deepEqual(node.delivery.delivered, [{
      message: { id: 'stored-id', seq: 42, from: 'alice', to: 'bob', cid: 'c1', body: 'body of c1', ts: 7 },
      originConn: client.session.connId,
    }]);
  });

  it('acks a repeated cid this node remembers (no stored body) as the original, and does not deliver it again', async () => {
    const { node, client } = await sendAnswered({ id: 'first-id', seq: 3, ts: 5, duplicate: true });
    assert.deepEqual(client.frames()[1], { type: 'ack', cid: 'c1', id: 'first-id', seq: 3, ts: 5 });
    assert.deepEqual(node.delivery.delivered, []);
  });

  it('delivers a repeated cid the store answered, as it was stored, under the original id', async () => {
    const { node, client } = await sendAnswered({ id: 'first-id', seq: 3, ts: 5, duplicate: true, body: 'as first sent' });
    assert.deepEqual(client.frames()[1], { type: 'ack', cid: 'c1', id: 'first-id', seq: 3, ts: 5 }, 'the ack carries no body');
    assert.deepEqual(node.delivery.delivered, [{
      message: { id: 'first-id', seq: 3, from: 'alice', to: 'bob', cid: 'c1', body: 'as first sent', ts: 5 },
      originConn: client.session.connId,
    }]);
  });

  it('refuses a send past the connection\'s rate limit with rate_limited and its cid', async () => {
    const node = new FakeNode({ rateLimitPerSec: 1, rateLimitBurst: 2 });
    const client = node.connect();
    await client.hello();
    for (const cid of ['c1', 'c2', 'c3']) client.ws.receive(send(cid));
    await settle();
    // The refusal is answered at once, the acks once the log answers.
    assert.deepEqual(client.frames().slice(1).map(summary).sort(), ['ack c1', 'ack c2', 'error rate_limited c3']);
    assert.equal(node.log.appended.length, 2);
  });

  it('shares the user\'s limit across the user\'s connections on the node', async () => {
    const node = new FakeNode({ userRateLimitPerSec: 1, userRateLimitBurst: 2 });
    const [tab1, tab2] = [node.connect(), node.connect()];
    await tab1.hello('alice');
    await tab2.hello('alice');
    tab1.ws.receive(send('c1'));
    tab2.ws.receive(send('c2'));
    tab2.ws.receive(send('c3'));
    await settle();
    assert.deepEqual(tab2.frames().slice(1).map(summary).sort(), ['ack c2', 'error rate_limited c3']);
  });

  it('refuses sends past capacity with unavailable and their cid, counted by reason and not logged', async () => {
    const node = new FakeNode({ logMaxWaitMs: 300 });
    const client = node.connect();
    await client.hello();
    node.delivery.saturated = true;
    client.ws.receive(send('c1'));
    node.delivery.saturated = false;
    node.log.backlog = 301;
    client.ws.receive(send('c2'));
    node.log.backlog = 0;
    node.log.answer = async () => { throw new ERR_QUEUE_FULL('message log'); };
    client.ws.receive(send('c3'));
    await settle();
    assert.deepEqual(client.frames().slice(1).map(summary), ['error unavailable c1', 'error unavailable c2', 'error unavailable c3']);
    assert.deepEqual([await node.refused('deliveries'), await node.refused('log_wait'), await node.refused('log_queue')], [1, 1, 1]);
    assert.equal(node.log.appended.length, 1, 'only the third reached the log');
    assert.deepEqual(node.warnings(), []);
  });

  it('answers a send the log did not accept with unavailable and its cid, and logs why', async () => {
    const node = new FakeNode();
    node.log.answer = async () => { throw new ERR_LOG_UNAVAILABLE('persist down'); };
    const client = node.connect();
    await client.hello();
    client.ws.receive(send('c1'));
    await settle();
    assert.deepEqual(client.frames().slice(1).map(summary), ['error unavailable c1']);
    assert.deepEqual(node.delivery.delivered, []);
    assert.deepEqual(node.warnings().map((l) => l.msg), ['send not accepted']);
  });

  it('logs a thousand sends the log did not accept in at most two lines: the first, then a count', async () => {
    const node = new FakeNode();
    node.log.answer = async () => { throw new ERR_LOG_UNAVAILABLE('persist down'); };
    const client = node.connect();
    await client.hello('alice');
    for (let i = 0; i < 1000; i++) client.ws.receive(send(`c${i}`));
    await settle();
    assert.equal(client.frames().filter((f) => f.type === 'error' && f.code === 'unavailable').length, 1000);
    node.failures.close(); // the interval's count, reported when it ends
    const lines = node.warnings();
    assert.ok(lines.length <= 2, `${lines.length} lines`);
    assert.deepEqual(lines.map((l) => [l.kind, l.count, l.user]), [['send not accepted', undefined, 'alice'], ['send not accepted', 999, 'alice']]);
  });
});

describe('ClientSession: queries', () => {
  it('runs queries one at a time, so replies come in the order asked', async () => {
    const node = new FakeNode();
    const client = node.connect();
    await client.hello('alice');
    client.ws.receive({ type: 'history', with: 'bob' });
    client.ws.receive({ type: 'conversations' });
    client.ws.receive({ type: 'history', with: 'carol' });
    await settle();
    assert.deepEqual(node.history.asked.map((q) => q.what), ['history bob'], 'the next waits for this one');
    node.history.asked[0]!.answer.resolve({ messages: [], more: false });
    await settle();
    assert.deepEqual(node.history.asked.map((q) => q.what), ['history bob', 'conversations']);
    node.history.asked[1]!.answer.reject(new ERR_LOG_UNAVAILABLE('persist down'));
    await settle();
    node.history.asked[2]!.answer.resolve({ messages: [], more: true });
    await settle();
    assert.deepEqual(client.frames().slice(1), [
      { type: 'history', with: 'bob', messages: [], more: false },
      { type: 'error', code: 'unavailable', message: 'service unavailable, retry later' },
      { type: 'history', with: 'carol', messages: [], more: true },
    ]);
  });

  it('refuses a query past 16 waiting with rate_limited', async () => {
    const node = new FakeNode();
    const client = node.connect();
    await client.hello('alice');
    for (let i = 0; i < 17; i++) client.ws.receive({ type: 'conversations' });
    await settle();
    assert.deepEqual(client.frames().slice(1).map(summary), ['error rate_limited -']);
    node.history.asked[0]!.answer.resolve([]);
    await settle();
    assert.deepEqual(client.frames()[2], { type: 'conversations', items: [] });
  });
});
