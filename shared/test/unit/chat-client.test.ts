/**
 * The client library's checks that need no node: options, bad input to its methods, node URLs,
 * cids, and that its copy of the protocol's rules matches shared/src/protocol.ts.
 */
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import { ChatClient, ChatError } from '../../client/chat-client.js';
import { HISTORY_MAX_LIMIT, MAX_CID_LENGTH, USER_ID } from '../../src/protocol.ts';
import * as wire from '../../client/wire.js';

const urls = ['http://127.0.0.1:1'];
const isBadRequest = (err: unknown) => err instanceof ChatError && err.code === 'bad_request';

describe('client library: checks before the wire', () => {
  it('keeps the rules of shared/src/protocol.ts', () => {
    assert.equal(wire.USER_ID.source, USER_ID.source);
    assert.equal(wire.MAX_CID_LENGTH, MAX_CID_LENGTH);
    assert.equal(wire.HISTORY_MAX_LIMIT, HISTORY_MAX_LIMIT);
  });

  it('turns node base URLs into their /ws endpoints', () => {
    assert.equal(wire.endpointOf('http://h:3001'), 'ws://h:3001/ws');
    assert.equal(wire.endpointOf('https://chat.example/'), 'wss://chat.example/ws');
    assert.equal(wire.endpointOf('wss://chat.example/api'), 'wss://chat.example/api/ws');
    assert.equal(wire.endpointOf('ws://h:1/ws'), 'ws://h:1/ws');
    assert.throws(() => wire.endpointOf('ftp://h'), /must start with http/);
    assert.throws(() => wire.endpointOf('not a url'), /is not a URL/);
  });

  it('refuses bad options with the option named', () => {
    assert.throws(() => new ChatClient({ urls: [], user: 'a', WebSocket }), /urls/);
    assert.throws(() => new ChatClient({ urls, WebSocket }), /either user .* or token/);
    assert.throws(() => new ChatClient({ urls, user: 'a', token: 't', WebSocket }), /either user .* or token/);
    assert.throws(() => new ChatClient({ urls, user: 'no spaces', WebSocket }), isBadRequest);
    assert.throws(() => new ChatClient({ urls, user: 'a', WebSocket, maxQueue: 0 }), /maxQueue/);
    assert.throws(() => new ChatClient({ urls, user: 'a' }), /pass one as options.WebSocket/, 'Node 20 has no global WebSocket');
  });

  it('rejects bad input at the call and queues nothing', async () => {
    const c = new ChatClient({ urls, user: 'alice', WebSocket });
    await assert.rejects(c.send('bad id!', 'x'), isBadRequest);
    await assert.rejects(c.send('bob', ''), isBadRequest);
    await assert.rejects(c.send('bob', 'a\u0000b'), isBadRequest);
    await assert.rejects(c.send('bob', 'x', { cid: 'c'.repeat(65) }), isBadRequest);
    await assert.rejects(c.history('bob', { before: 5, after: 1 }), isBadRequest);
    await assert.rejects(c.history('bob', { limit: 201 }), isBadRequest);
    await assert.rejects(c.history('bob', { after: -1 }), isBadRequest);
    await assert.rejects(c.conversations(0), isBadRequest);
    assert.throws(() => c.watch(['ok', 'not ok']), isBadRequest);
    assert.throws(() => c.markRead('bob', 1.5), isBadRequest);
    assert.equal(c.queued, 0);
    assert.equal(c.state, 'closed', 'nothing connects before connect()');
    assert.equal(c.typing('bob'), false, 'fire and forget: nothing to send it on');
  });

  it('rejects what is pending when closed', async () => {
    const c = new ChatClient({ urls, user: 'alice', WebSocket });
    const pending = c.send('bob', 'hi');
    const query = c.conversations();
    c.close();
    await assert.rejects(pending, (err: ChatError) => err.code === 'closed');
    await assert.rejects(query, (err: ChatError) => err.code === 'closed');
    await assert.rejects(c.send('bob', 'again'), (err: ChatError) => err.code === 'closed');
  });

  it('makes cids unique and within the protocol limit', () => {
    const next = wire.cidSource();
    const cids = Array.from({ length: 1000 }, next);
    assert.equal(new Set(cids).size, cids.length);
    assert.ok(cids.every((cid) => cid.length <= MAX_CID_LENGTH));
    assert.notEqual(wire.cidSource()(), wire.cidSource()(), 'two clients do not share cids');
  });

  it('draws full-jitter delays within [0, min(cap, base · 2^failures)]', () => {
    for (let failures = 0; failures < 40; failures++) {
      const d = wire.fullJitter(failures, 100, 5000);
      assert.ok(d >= 0 && d <= Math.min(5000, 100 * 2 ** failures), `${d} for ${failures} failures`);
    }
  });
});
