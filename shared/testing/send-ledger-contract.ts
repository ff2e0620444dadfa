/**
 * The behaviour every SendLedger implementation owes (shared/src/send-ledger.ts), as one mocha
 * suite each implementation runs against itself (like registry-contract.ts):
 *
 *   sendLedgerContract('MemorySendLedger', (ttlMs) => new MemorySendLedger({ ttlMs, maxEntries: 1000 }));
 *
 * The factory is called before every test with the TTL records must live, and the ledger closed
 * after it. Tests use fresh senders, so factories may share a store between calls.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { SendClaim, SendLedger } from '@chat/shared/send-ledger';
import { eventually } from './eventually.ts';

export type SendLedgerFactory = (ttlMs: number) => SendLedger | Promise<SendLedger>;

const TTL_MS = 60_000;
const SHORT_TTL_MS = 300;

export function sendLedgerContract(name: string, factory: SendLedgerFactory): void {
  describe(`SendLedger contract: ${name}`, function () {
    this.timeout(20_000);
    const run = randomUUID().slice(0, 8);
    let serial = 0;
    let ledger: SendLedger;
    const sender = (label = 'alice') => `${label}.${run}.${++serial}`;
    const claimOf = (from: string, cid: string): SendClaim => ({ from, cid, id: randomUUID(), ts: 1_764_150_000_000 + ++serial });

    const open: SendLedger[] = [];
    const make = async (ttlMs: number) => {
      const made = await factory(ttlMs);
      open.push(made);
      return made;
    };
    beforeEach(async () => {
      ledger = await make(TTL_MS);
    });
    afterEach(async () => {
      for (const l of open.splice(0)) await l.close();
    });

    it('answers null to the first claim and the first identity, without seq, to every later one', async () => {
      const from = sender();
      const first = claimOf(from, 'c-1');
      assert.deepEqual(await ledger.claim([first]), [null]);
      assert.deepEqual(await ledger.claim([claimOf(from, 'c-1')]), [{ id: first.id, ts: first.ts }]);
      assert.deepEqual(await ledger.claim([claimOf(from, 'c-1')]), [{ id: first.id, ts: first.ts }]);
    });

    it('answers with the seq once the claimant settled', async () => {
      const from = sender();
      const first = claimOf(from, 'c-1');
      await ledger.claim([first]);
      await ledger.settle([{ ...first, seq: 42 }]);
      assert.deepEqual(await ledger.claim([claimOf(from, 'c-1')]), [{ id: first.id, ts: first.ts, seq: 42 }]);
    });

    it('keeps senders and cids apart', async () => {
      const [alice, bob] = [sender('alice'), sender('bob')];
      const claims = [claimOf(alice, 'x'), claimOf(bob, 'x'), claimOf(alice, 'y'), claimOf(alice, 'x\ny')];
      assert.deepEqual(await ledger.claim(claims), [null, null, null, null]);
    });

    it('finds an earlier claim of the same call, in order', async () => {
      const from = sender();
      const [a, b, c] = [claimOf(from, 'c-1'), claimOf(from, 'c-2'), claimOf(from, 'c-1')];
      assert.deepEqual(await ledger.claim([a, b, c]), [null, null, { id: a.id, ts: a.ts }]);
    });

    it('ignores a settlement naming another identity', async () => {
      const from = sender();
      const first = claimOf(from, 'c-1');
      await ledger.claim([first]);
      await ledger.settle([{ ...claimOf(from, 'c-1'), seq: 7 }]);
      assert.deepEqual(await ledger.claim([claimOf(from, 'c-1')]), [{ id: first.id, ts: first.ts }]);
    });

    it('points a record at another identity only when the settlement replaces the one held', async () => {
      const from = sender();
      const first = claimOf(from, 'c-1');
      await ledger.claim([first]);
      const stored = claimOf(from, 'c-1');
      await ledger.settle([{ ...stored, seq: 9, replaces: randomUUID() }]);
      assert.deepEqual(await ledger.claim([claimOf(from, 'c-1')]), [{ id: first.id, ts: first.ts }], 'replaces names another id');
      await ledger.settle([{ ...stored, seq: 9, replaces: first.id }]);
      assert.deepEqual(await ledger.claim([claimOf(from, 'c-1')]), [{ id: stored.id, ts: stored.ts, seq: 9 }]);
      // The record now holds `stored`: settling it again with its own id still applies.
      await ledger.settle([{ ...stored, seq: 10 }]);
      assert.deepEqual(await ledger.claim([claimOf(from, 'c-1')]), [{ id: stored.id, ts: stored.ts, seq: 10 }]);
    });

    it('writes a settlement whose record is gone (expired, or the ledger restarted empty)', async () => {
      const from = sender();
      const lost = claimOf(from, 'c-1');
      await ledger.settle([{ ...lost, seq: 5 }]);
      assert.deepEqual(await ledger.claim([claimOf(from, 'c-1')]), [{ id: lost.id, ts: lost.ts, seq: 5 }]);
    });

    it('forgets a record after its TTL', async () => {
      const short = await make(SHORT_TTL_MS);
      const from = sender();
      await short.claim([claimOf(from, 'c-1')]);
      assert.notEqual((await short.claim([claimOf(from, 'c-1')]))[0], null, 'held within the TTL');
      // Once expired, a claim finds nothing and becomes the record.
      await eventually('the record expired', async () => (await short.claim([claimOf(from, 'c-1')]))[0] === null);
    });

    it('claims and settles many at once, and does nothing for empty lists', async () => {
      const from = sender();
      const claims = Array.from({ length: 500 }, (_, i) => claimOf(from, `m-${i}`));
      assert.ok((await ledger.claim(claims)).every((r) => r === null));
      await ledger.settle(claims.filter((_, i) => i % 2 === 0).map((c, i) => ({ ...c, seq: i })));
      const again = await ledger.claim(claims.map((c) => claimOf(from, c.cid)));
      again.forEach((r, i) => {
        const expected = i % 2 === 0 ? { id: claims[i]!.id, ts: claims[i]!.ts, seq: i / 2 } : { id: claims[i]!.id, ts: claims[i]!.ts };
        assert.deepEqual(r, expected, `claim ${i}`);
      });
      assert.deepEqual(await ledger.claim([]), []);
      await ledger.settle([]);
    });
  });
}
