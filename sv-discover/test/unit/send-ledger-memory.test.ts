/** What only the memory ledger has: its bounds by age (on its own clock) and by count. */
import assert from 'node:assert/strict';
import type { SendClaim } from '@chat/shared/send-ledger';
import { MemorySendLedger } from '../../src/send-ledger-memory.ts';

let serial = 0;
const claim = (cid: string): SendClaim => ({ from: 'alice', cid, id: `id-${++serial}`, ts: serial });

describe('MemorySendLedger bounds', () => {
  it('drops records once their TTL has passed on its clock, oldest first', async () => {
    let now = 1000;
    const ledger = new MemorySendLedger({ ttlMs: 100, maxEntries: 10, now: () => now });
    await ledger.claim([claim('a')]);
    now += 60;
    await ledger.claim([claim('b')]);
    now += 50; // a is 110 ms old, b 50 ms
    assert.equal((await ledger.claim([claim('a')]))[0], null, 'a expired: the claim is new');
    assert.notEqual((await ledger.claim([claim('b')]))[0], null, 'b is still held');
    assert.equal(ledger.size, 2);
  });

  it('keeps at most maxEntries, dropping the oldest and counting them', async () => {
    const ledger = new MemorySendLedger({ ttlMs: 60_000, maxEntries: 3 });
    const first = claim('c0');
    await ledger.claim([first, claim('c1'), claim('c2'), claim('c3'), claim('c4')]);
    assert.equal(ledger.size, 3);
    assert.equal(ledger.evicted, 2);
    assert.equal((await ledger.claim([claim('c0')]))[0], null, 'the oldest was dropped');
    assert.notEqual((await ledger.claim([claim('c4')]))[0], null, 'the newest is held');
  });

  it('settles a record without changing where it stands in expiry order', async () => {
    let now = 0;
    const ledger = new MemorySendLedger({ ttlMs: 100, maxEntries: 10, now: () => now });
    const a = claim('a');
    await ledger.claim([a]);
    now += 80;
    await ledger.settle([{ ...a, seq: 3 }]);
    assert.deepEqual(await ledger.claim([claim('a')]), [{ id: a.id, ts: a.ts, seq: 3 }]);
    now += 30;
    assert.equal((await ledger.claim([claim('a')]))[0], null, 'the TTL runs from the claim, not the settlement');
  });
});
