import assert from 'node:assert/strict';
import { Failover } from '../../src/failover.ts';

describe('Failover', () => {
  it('moves on from a failing instance and sticks with the one that answered', async () => {
    const down = new Set(['a']);
    const calls: string[] = [];
    const f = new Failover(['a', 'b', 'c']);
    const call = async (url: string) => { calls.push(url); if (down.has(url)) throw new Error(`${url} down`); return url; };
    assert.equal(await f.run(call), 'b');
    assert.equal(await f.run(call), 'b');
    assert.deepEqual(calls, ['a', 'b', 'b']);
    down.add('b');
    assert.equal(await f.run(call), 'c');
  });

  it('rejects with the last error when every instance fails', async () => {
    const f = new Failover(['a', 'b']);
    await assert.rejects(f.run(async (u) => { throw new Error(`${u} down`); }), /b down/);
  });
});
