/**
 * The client library's queue of unacknowledged sends, on its own: order, retries of refused sends,
 * and how soon they go again once acks come back.
 */
import assert from 'node:assert/strict';
import { SendQueue } from '../../client/send-queue.js';
import { eventually } from '@chat/shared/testing/eventually';

type Frame = { type: 'send'; body: string; cid: string } & ({ to: string } | { room: string });
const ack = (cid: string) => ({ type: 'ack' as const, cid, id: `id-${cid}`, seq: 1, ts: 1 });

function queue(opts: { baseMs: number; capMs: number }) {
  const written: string[] = [];
  const q = new SendQueue({ max: 100, ...opts, write: (f: Frame) => { written.push(f.cid); return true; } });
  return { q, written };
}

describe('client library: the send queue', () => {
  it('writes each send at once and again, in order, after a reconnect until acked', async () => {
    const { q, written } = queue({ baseMs: 10, capMs: 100 });
    const first = q.add({ to: 'bob' }, 'one', 'c1');
    void q.add({ to: 'bob' }, 'two', 'c2');
    assert.deepEqual(written, ['c1', 'c2']);
    assert.equal(q.acked(ack('c1')), true);
    assert.equal((await first).id, 'id-c1');
    q.writeAll();
    assert.deepEqual(written, ['c1', 'c2', 'c2']);
    assert.equal(q.acked(ack('c1')), false, 'a second ack of the same cid is not pending');
    q.failAll(new Error('closed'));
  });

  it('retries refused sends after a short pause once an ack shows the server accepts again', async () => {
    // Full jitter drawn at its top, so every pause is its bound: 10 ms doubling per refusal.
    const random = Math.random;
    Math.random = () => 0.99;
    try {
      const { q, written } = queue({ baseMs: 10, capMs: 3_600_000 });
      const late = q.add({ to: 'bob' }, 'late', 'late');
      const other = q.add({ to: 'bob' }, 'other', 'other');
      // Seven refusals in a row, each retried after its pause (10, 20, … 640 ms): the next pause is 1.28 s.
      for (let round = 1; round <= 7; round++) {
        q.refused('late', 'unavailable', 'busy');
        await eventually(`retry ${round}`, () => written.filter((c) => c === 'late').length === round + 1);
      }
      q.refused('late', 'unavailable', 'busy');
      const before = written.length;
      assert.equal(q.acked(ack('other')), true);
      await other;
      // Which comes first, the retry or half the 1.28 s pause the refusals grew (the pause after an
      // ack is 10 ms): an order of events under a fixed schedule, with a 64-fold margin.
      const retried = eventually('the retry', () => written.length > before).then(() => 'retried');
      const halfPause = new Promise((resolve) => setTimeout(resolve, 640, 'the old pause'));
      assert.equal(await Promise.race([retried, halfPause]), 'retried');
      assert.deepEqual(written.slice(before), ['late']);
      q.acked(ack('late'));
      assert.equal((await late).cid, 'late');
    } finally {
      Math.random = random;
    }
  });

  it('rejects a send refused for good, and keeps the others', async () => {
    const { q } = queue({ baseMs: 10, capMs: 100 });
    const bad = q.add({ to: 'bob' }, 'x', 'bad');
    void q.add({ to: 'bob' }, 'y', 'good');
    assert.equal(q.refused('bad', 'bad_request', 'nope'), false);
    await assert.rejects(bad, /refused: nope/);
    assert.equal(q.size, 1);
    q.failAll(new Error('closed'));
  });
});
