import assert from 'node:assert/strict';
import { parseClientFrame } from '../../src/protocol.ts';
import { errorAnswer } from '../../src/errors.ts';

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
