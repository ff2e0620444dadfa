import assert from 'node:assert/strict';
import { z } from 'zod';
import { ERR_BAD_FRAME, ERR_QUEUE_FULL, errorAnswer } from '../../src/errors.ts';
import {
  ackFrame, encodeMessageFrame, encodePresenceFrame, errorFrame, historyPagingParams, parseClientFrame, toWireMessage, type InternalMessage,
} from '../../src/protocol.ts';

const code = (raw: string, maxBody?: number) => {
  try {
    parseClientFrame(raw, maxBody);
  } catch (err) {
    return errorAnswer(err).code;
  }
  return 'ok';
};
const j = (v: unknown) => JSON.stringify(v);

describe('parseClientFrame', () => {
  const valid: unknown[] = [
    { type: 'hello', user: 'alice' },
    { type: 'hello', token: 'abc.def.ghi' },
    { type: 'send', to: 'bob', body: 'hi', cid: 'c-1' },
    { type: 'send', to: 'A.b_c-9', body: 'x'.repeat(4000), cid: 'c'.repeat(64) },
    { type: 'history', with: 'bob' },
    { type: 'history', with: 'bob', before: 42, limit: 50 },
    { type: 'history', with: 'bob', after: 0, limit: 200 },
    { type: 'conversations' },
    { type: 'ping' },
    { type: 'ping', extra: 'ignored' },
    { type: 'watch', users: [] },
    { type: 'watch', users: ['bob', 'bob'] },
    { type: 'watch', users: Array.from({ length: 500 }, (_, i) => `u${i}`) },
    { type: 'typing', to: 'bob' },
    { type: 'read', with: 'bob', seq: 0 },
    { type: 'read', with: 'alice', seq: Number.MAX_SAFE_INTEGER },
  ];
  for (const frame of valid) {
    it(`accepts ${j(frame).slice(0, 60)}`, () => assert.equal(code(j(frame)), 'ok'));
  }

  const invalid: [string, string][] = [
    ['not json', 'bad_request'], ['', 'bad_request'], ['[]', 'bad_request'], ['null', 'bad_request'], ['7', 'bad_request'],
    [j({}), 'bad_request'], [j({ type: 1 }), 'bad_request'], [j({ type: 'nope' }), 'bad_request'],
    [j({ type: 'send', to: 'bob', body: 'hi' }), 'bad_request'],
    [j({ type: 'send', to: 'bob', body: '', cid: 'c' }), 'bad_request'],
    [j({ type: 'send', to: 'b o b', body: 'x', cid: 'c' }), 'bad_request'],
    [j({ type: 'send', to: 'x'.repeat(65), body: 'x', cid: 'c' }), 'bad_request'],
    [j({ type: 'send', to: 'bob', body: 'x', cid: '' }), 'bad_request'],
    [j({ type: 'send', to: 'bob', body: 'x', cid: 'c'.repeat(65) }), 'bad_request'],
    [j({ type: 'send', to: 'bob', body: ['x'], cid: 'c' }), 'bad_request'],
    [j({ type: 'send', to: 'bob', body: 'a\u0000b', cid: 'c' }), 'bad_request'],
    [j({ type: 'send', to: 'bob', body: 'x', cid: 'c\u0000' }), 'bad_request'],
    [j({ type: 'send', to: 'bob', body: 'x'.repeat(4001), cid: 'c' }), 'too_large'],
    [j({ type: 'history', with: 'bob', limit: 0 }), 'bad_request'],
    [j({ type: 'history', with: 'bob', limit: 201 }), 'bad_request'],
    [j({ type: 'history', with: 'bob', limit: 1.5 }), 'bad_request'],
    [j({ type: 'history', with: 'bob', before: -1 }), 'bad_request'],
    [j({ type: 'history', with: 'bob', before: '3' }), 'bad_request'],
    [j({ type: 'history', with: 'bob', before: 5, after: 2 }), 'bad_request'],
    [j({ type: 'history' }), 'bad_request'],
    [j({ type: 'hello', token: 5 }), 'bad_request'],
    [j({ type: 'watch' }), 'bad_request'],
    [j({ type: 'watch', users: 'bob' }), 'bad_request'],
    [j({ type: 'watch', users: ['b o b'] }), 'bad_request'],
    [j({ type: 'watch', users: Array.from({ length: 501 }, (_, i) => `u${i}`) }), 'bad_request'],
    [j({ type: 'typing' }), 'bad_request'],
    [j({ type: 'typing', to: 'b o b' }), 'bad_request'],
    [j({ type: 'read', with: 'bob' }), 'bad_request'],
    [j({ type: 'read', with: 'bob', seq: -1 }), 'bad_request'],
    [j({ type: 'read', with: 'bob', seq: 2.5 }), 'bad_request'],
    [j({ type: 'read', with: 'bob', seq: Number.MAX_SAFE_INTEGER + 1 }), 'bad_request'],
    [j({ type: 'read', with: 'bob', seq: '5' }), 'bad_request'],
    [j({ type: 'read', with: 'x'.repeat(65), seq: 5 }), 'bad_request'],
    ['{"type":"send","to":"bob","body":"x","cid":"c","__proto__":{"polluted":1}}', 'ok'],
  ];
  for (const [raw, expected] of invalid) {
    it(`answers ${raw.slice(0, 60) || '(empty)'} with ${expected}`, () => assert.equal(code(raw), expected));
  }

  it('honours a configured body limit', () => {
    assert.equal(code(j({ type: 'send', to: 'bob', body: 'x'.repeat(11), cid: 'c' }), 10), 'too_large');
    assert.equal(code(j({ type: 'send', to: 'bob', body: 'x'.repeat(10), cid: 'c' }), 10), 'ok');
  });

  it('never lets __proto__ reach the parsed frame', () => {
    const f = parseClientFrame('{"type":"send","to":"bob","body":"x","cid":"c","__proto__":{"polluted":1}}');
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
    assert.deepEqual(Object.keys(f).sort(), ['body', 'cid', 'to', 'type']);
  });

  it('survives deep nesting', () => {
    const deep = '{"type":"ping","x":' + '['.repeat(5000) + ']'.repeat(5000) + '}';
    assert.equal(code(deep), 'ok');
  });
});

describe('history paging', () => {
  const both = 'Invalid frame: history takes before or after, not both';
  const frameError = (raw: unknown) => {
    try {
      parseClientFrame(JSON.stringify(raw));
    } catch (err) {
      return (err as Error).message;
    }
    return 'ok';
  };
  const query = (q: Record<string, string | undefined>) => historyPagingParams.safeParse(q);

  it('refuses before and after together, in a frame and in a query string alike', () => {
    assert.equal(frameError({ type: 'history', with: 'bob', before: 5, after: 2 }), both);
    const r = query({ before: '5', after: '2' });
    assert.equal(r.success, false);
    assert.equal(r.error?.issues[0]?.message, 'history takes before or after, not both');
  });

  it('takes query-string text under the same limits as frame numbers', () => {
    assert.deepEqual(query({ before: '42', limit: '200' }).data, { before: 42, limit: 200 });
    assert.deepEqual(query({ after: '0' }).data, { after: 0 });
    for (const bad of [{ limit: '0' }, { limit: '201' }, { limit: '1.5' }, { before: '-1' }, { before: 'x' }, { after: '9007199254740992' }]) {
      assert.equal(query(bad).success, false, JSON.stringify(bad));
    }
  });

  it('keeps the rule when a route adds its own fields', () => {
    const route = historyPagingParams.safeExtend({ user: z.string() });
    assert.equal(route.safeParse({ user: 'alice', before: '1', after: '2' }).success, false);
    assert.deepEqual(route.safeParse({ user: 'alice', before: '1' }).data, { user: 'alice', before: 1 });
  });
});

describe('frame builders', () => {
  // Fields in another order than the wire's, as a database row or a forwarded message may hold them.
  const m: InternalMessage = { ts: 7, body: 'hi', to: 'bob', from: 'alice', cid: 'c1', seq: 3, id: 'm1' };
  const order = ['id', 'seq', 'cid', 'from', 'to', 'body', 'ts'];

  it('puts a message\'s fields in the wire order, in history and in the message frame alike', () => {
    assert.deepEqual(Object.keys(toWireMessage(m)), order);
    const frame = encodeMessageFrame(m);
    assert.deepEqual(Object.keys(JSON.parse(frame)), ['type', ...order]);
    assert.equal(frame, JSON.stringify({ type: 'message', ...toWireMessage(m) }));
  });

  it('acks with the cid and the id, seq and ts the log gave', () => {
    const accepted = { id: 'm1', seq: 3, ts: 7, duplicate: true };
    assert.equal(JSON.stringify(ackFrame('c1', accepted)), '{"type":"ack","cid":"c1","id":"m1","seq":3,"ts":7}');
  });

  it('encodes a presence frame with its fields in wire order, whatever extra the state carries', () => {
    const state = { last_seen: 12, online: false, user: 'bob', extra: 1 };
    assert.equal(encodePresenceFrame(state), '{"type":"presence","user":"bob","online":false,"last_seen":12}');
  });

  it('describes a bad request and hides an outage in an error frame, with the cid when given', () => {
    assert.deepEqual(errorFrame(new ERR_BAD_FRAME('unknown frame type')), { type: 'error', code: 'bad_request', message: 'Invalid frame: unknown frame type' });
    assert.deepEqual(errorFrame(new ERR_QUEUE_FULL('1000 waiting'), 'c9'), {
      type: 'error', code: 'unavailable', message: 'service unavailable, retry later', cid: 'c9',
    });
    assert.deepEqual(errorFrame(new Error('socket hang up')), { type: 'error', code: 'unavailable', message: 'service unavailable, retry later' });
  });
});
