import assert from 'node:assert/strict';
import { parse, stringify, validate, version } from 'uuid';
import { newId } from '../../src/ids.ts';

describe('newId (UUIDv7 from pooled random bytes)', () => {
  it('gives valid, distinct version-7 ids that sort in creation order, across pool refills', () => {
    const ids = Array.from({ length: 20_000 }, () => newId());
    for (const id of ids.slice(0, 100)) {
      assert.ok(validate(id), id);
      assert.equal(version(id), 7);
      // The text is exactly uuid's canonical form of the same bytes (lower case, dashes in place).
      assert.equal(stringify(parse(id)), id);
    }
    assert.equal(new Set(ids).size, ids.length);
    for (let i = 1; i < ids.length; i++) assert.ok(ids[i - 1]! < ids[i]!, `${ids[i - 1]} < ${ids[i]}`);
  });

  it('carries the current time in its first 48 bits', () => {
    const before = Date.now();
    const ms = parseInt(newId().replace(/-/g, '').slice(0, 12), 16);
    assert.ok(ms >= before && ms <= Date.now() + 1, `${ms} near ${before}`);
  });
});
