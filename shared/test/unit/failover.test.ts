import assert from 'node:assert/strict';
import { Failover } from '../../src/failover.ts';
import { InternalHttpError } from '../../src/internal-client.ts';

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

  it('stops at a refusal of the request: every instance would refuse it alike', async () => {
    const f = new Failover(['a', 'b']);
    const calls: string[] = [];
    await assert.rejects(f.run(async (u) => { calls.push(u); throw new InternalHttpError(403, '{"error":"forbidden"}', u); }), /failed with 403/);
    assert.deepEqual(calls, ['a']);
  });

  it('rejects with the last error when every instance fails', async () => {
    const f = new Failover(['a', 'b']);
    await assert.rejects(f.run(async (u) => { throw new Error(`${u} down`); }), /b down/);
  });
});
