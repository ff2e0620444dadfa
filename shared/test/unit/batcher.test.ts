import assert from 'node:assert/strict';
import { NaturalBatcher } from '../../src/batcher.ts';
import { errorAnswer } from '../../src/errors.ts';
import { eventually } from '@chat/shared/testing/eventually';

/** A run function whose batches complete when the test says so. */
function controlled() {
  const batches: number[][] = [];
  const releases: (() => void)[] = [];
  const run = (items: number[]) => {
    batches.push(items);
    return new Promise<number[]>((resolve) => releases.push(() => resolve(items.map((i) => i * 10))));
  };
  return { batches, releases, run };
}

describe('NaturalBatcher', () => {
  it('sends the first item alone at once, then everything gathered meanwhile as one batch', async () => {
    const c = controlled();
    const b = new NaturalBatcher({ run: c.run, maxBatch: 100, maxQueue: 100 });
    const results = [1, 2, 3, 4].map((i) => b.push(i));
    assert.deepEqual(c.batches, [[1]]);
    c.releases[0]!();
    await results[0];
    assert.deepEqual(c.batches, [[1], [2, 3, 4]]);
    c.releases[1]!();
    assert.deepEqual(await Promise.all(results), [10, 20, 30, 40]);
  });

  it('with linger, waits after a busy batch until `ms` after its start, and sends what arrived meanwhile as one batch', async () => {
    const c = controlled();
    const b = new NaturalBatcher({ run: c.run, maxBatch: 100, maxQueue: 100, gatherTurn: true, linger: { ms: 60, busyBatch: 2 } });
    const busy = [1, 2].map((i) => b.push(i));
    await new Promise(setImmediate);
    assert.deepEqual(c.batches, [[1, 2]], 'the batcher was idle: the turn\'s items go at its end');
    c.releases[0]!();
    await Promise.all(busy);
    const next = b.push(3);
    // Lets time pass on purpose: nothing may leave during this part of the linger.
    await new Promise((r) => setTimeout(r, 10));
    assert.deepEqual(c.batches, [[1, 2]], 'the batch of 2 was busy: the next waits for the linger');
    const more = b.push(4);
    await eventually('the batch after the linger', () => c.batches.length > 1);
    assert.deepEqual(c.batches, [[1, 2], [3, 4]], 'what arrived during the linger goes together');
    c.releases[1]!();
    assert.deepEqual(await Promise.all([next, more]), [30, 40]);
    // [3, 4] was busy too; after the linger a lone item is a small batch, and the one after it goes at once.
    // Lets the linger (60 ms) run out on purpose: it is internal, with nothing to wait on.
    await new Promise((r) => setTimeout(r, 70));
    const lone = b.push(5);
    await new Promise(setImmediate);
    assert.deepEqual(c.batches.at(-1), [5]);
    c.releases[2]!();
    await lone;
    const after = b.push(6);
    await new Promise(setImmediate);
    assert.deepEqual(c.batches.at(-1), [6], 'after a small batch, no linger');
    c.releases[3]!();
    assert.equal(await after, 60);
  });

  it('with gatherTurn, sends what one turn of the event loop gathered as one batch', async () => {
    const c = controlled();
    const b = new NaturalBatcher({ run: c.run, maxBatch: 100, maxQueue: 100, gatherTurn: true, concurrency: 2 });
    const first = [1, 2, 3].map((i) => b.push(i));
    await Promise.resolve();
    assert.deepEqual(c.batches, [], 'nothing leaves before the turn ends');
    const later = b.push(4); // still the same turn: joins the batch
    await new Promise(setImmediate);
    assert.deepEqual(c.batches, [[1, 2, 3, 4]], 'one batch, not the first item alone');
    // A slot is still free: the next turn's items go as their own batch at that turn's end.
    const next = [5, 6].map((i) => b.push(i));
    await new Promise(setImmediate);
    assert.deepEqual(c.batches, [[1, 2, 3, 4], [5, 6]]);
    // Both slots busy: what arrives waits for a completion and goes at once then.
    const waiting = b.push(7);
    await new Promise(setImmediate);
    assert.equal(c.batches.length, 2);
    c.releases[0]!();
    await Promise.all([...first, later]);
    assert.deepEqual(c.batches[2], [7]);
    c.releases[1]!();
    c.releases[2]!();
    assert.deepEqual(await Promise.all([...next, waiting]), [50, 60, 70]);
  });

  it('with gatherTurn, keeps to maxBatch and queue order within one turn', async () => {
    const c = controlled();
    const b = new NaturalBatcher({ run: c.run, maxBatch: 2, maxQueue: 100, gatherTurn: true, concurrency: 3 });
    const all = [1, 2, 3, 4, 5].map((i) => b.push(i));
    await new Promise(setImmediate);
    assert.deepEqual(c.batches, [[1, 2], [3, 4], [5]]);
    for (const release of c.releases) release();
    assert.deepEqual(await Promise.all(all), [10, 20, 30, 40, 50]);
  });

  it('caps batch size', async () => {
    const c = controlled();
    const b = new NaturalBatcher({ run: c.run, maxBatch: 2, maxQueue: 100 });
    const all = [1, 2, 3, 4, 5].map((i) => b.push(i));
    for (let i = 0; i < 3; i++) {
      await new Promise(setImmediate);
      c.releases[i]!();
    }
    await Promise.all(all);
    assert.deepEqual(c.batches, [[1], [2, 3], [4, 5]]);
  });

  it('caps batch size in sizeOf units when given, never splitting an item', async () => {
    const c = controlled();
    const b = new NaturalBatcher({ run: c.run, maxBatch: 5, maxQueue: 100, sizeOf: (i: number) => i });
    const all = [1, 2, 3, 7, 1, 1].map((i) => b.push(i));
    for (let i = 0; i < 4; i++) {
      await new Promise(setImmediate);
      c.releases[i]!();
    }
    await Promise.all(all);
    assert.deepEqual(c.batches, [[1], [2, 3], [7], [1, 1]], 'an item over the cap goes alone');
  });

  it('refuses with unavailable when the queue is full, and accepts again once drained', async () => {
    const c = controlled();
    const b = new NaturalBatcher({ run: c.run, maxBatch: 10, maxQueue: 2 });
    const first = b.push(1); // in flight, not queued
    const queued = [b.push(2), b.push(3)];
    await assert.rejects(b.push(4), (err) => errorAnswer(err).code === 'unavailable');
    c.releases[0]!();
    await first;
    c.releases[1]!();
    await Promise.all(queued);
    const later = b.push(5);
    c.releases[2]!();
    assert.equal(await later, 50);
  });

  it('rejects every item of a failed batch and goes on with the next', async () => {
    let calls = 0;
    const b = new NaturalBatcher<number, number>({
      maxBatch: 10, maxQueue: 10,
      run: async (items) => { if (calls++ === 0) throw new Error('down'); return items; },
    });
    const failed = b.push(1);
    const next = b.push(2);
    await assert.rejects(failed, /down/);
    assert.equal(await next, 2);
  });

  it('idle() waits for the queue to drain', async () => {
    const c = controlled();
    const b = new NaturalBatcher({ run: c.run, maxBatch: 10, maxQueue: 10 });
    void b.push(1);
    let idle = false;
    const done = b.idle().then(() => { idle = true; });
    await new Promise(setImmediate);
    assert.equal(idle, false);
    c.releases[0]!();
    await done;
    assert.equal(idle, true);
  });

  it('with concurrency 2 keeps two batches in flight, handed to run in queue order', async () => {
    const c = controlled();
    const b = new NaturalBatcher({ run: c.run, maxBatch: 100, maxQueue: 100, concurrency: 2 });
    const results = [1, 2, 3, 4].map((i) => b.push(i));
    // Two slots: 1 and 2 go alone at once; 3 and 4 wait for a slot and then go together.
    assert.deepEqual(c.batches, [[1], [2]]);
    c.releases[1]!(); // the second completes first: its slot takes what waited
    await results[1];
    assert.deepEqual(c.batches, [[1], [2], [3, 4]]);
    let idle = false;
    const done = b.idle().then(() => { idle = true; });
    c.releases[2]!();
    await Promise.all([results[2], results[3]]);
    await new Promise(setImmediate);
    assert.equal(idle, false, 'a batch is still in flight');
    c.releases[0]!();
    await done;
    assert.deepEqual(await Promise.all(results), [10, 20, 30, 40]);
  });

  it('oldestWaitMs is the wait of the oldest item not answered, in flight or queued, and 0 when none', async () => {
    const c = controlled();
    const b = new NaturalBatcher({ run: c.run, maxBatch: 1, maxQueue: 100, concurrency: 2 });
    assert.equal(b.oldestWaitMs(), 0);
    // Each item's push time lies between a clock reading before it and one after it.
    const firstFrom = performance.now();
    const results = [b.push(1)];
    const firstTo = performance.now();
    // Lets time pass on purpose, so the two pushes' clock windows do not overlap.
    await new Promise((r) => setTimeout(r, 40));
    const laterFrom = performance.now();
    results.push(b.push(2), b.push(3)); // 1 and 2 in flight, 3 queued
    const laterTo = performance.now();
    const now = laterTo + 100;
    const waitsSince = (from: number, to: number) => {
      const wait = b.oldestWaitMs(now);
      return wait >= now - to && wait <= now - from;
    };
    assert.ok(waitsSince(firstFrom, firstTo), 'item 1 counts from its push');
    c.releases[1]!(); // 2 answers first: 1 is still the oldest
    await results[1];
    assert.ok(waitsSince(firstFrom, firstTo), 'item 1 is still waiting');
    c.releases[0]!(); // 1 answers: 3 is the oldest left, in flight now
    await results[0];
    assert.ok(waitsSince(laterFrom, laterTo), 'item 3 counts from its push, not from leaving the queue');
    c.releases[2]!();
    await results[2];
    assert.equal(b.oldestWaitMs(), 0);
  });
});
