import assert from 'node:assert/strict';
import { PartitionPipeline, type Chunk } from '../../src/partition-pipeline.ts';

/** A chunk of `items` records starting at `first` (offsets are consecutive). */
const chunk = (first: number, items: number[]): Chunk<number> =>
  ({ items, records: items.length, firstOffset: String(first), lastOffset: String(first + items.length - 1) });

/** A flush the test completes by hand, one call at a time. */
interface Call { partition: number; items: number[]; firstOffset: string; done: (ok: boolean | Error) => void }

function harness(maxRows = 100, maxQueuedRows = 100) {
  const calls: Call[] = [];
  const stored: [number, string, number][] = [];
  const pipeline = new PartitionPipeline<number>({
    maxRows, maxQueuedRows,
    flush: (partition, items, firstOffset) => new Promise<boolean>((resolve, reject) => {
      calls.push({ partition, items, firstOffset, done: (ok) => (ok instanceof Error ? reject(ok) : resolve(ok)) });
    }),
    stored: async (partition, lastOffset, records) => { stored.push([partition, lastOffset, records]); },
  });
  return { pipeline, calls, stored };
}

const tick = () => new Promise((r) => setImmediate(r));

describe('PartitionPipeline', () => {
  it('keeps one flush in flight per partition and merges what arrives meanwhile into the next, in order', async () => {
    const { pipeline, calls, stored } = harness();
    await pipeline.push(0, chunk(0, [1, 2]));
    await pipeline.push(0, chunk(2, [3]));
    await pipeline.push(0, chunk(3, [4, 5]));
    assert.deepEqual(calls.map((c) => c.items), [[1, 2]], 'the later chunks wait for the first flush');
    calls[0]!.done(true);
    await tick();
    assert.deepEqual(stored, [[0, '1', 2]]);
    assert.deepEqual(calls.map((c) => [c.items, c.firstOffset]), [[[1, 2], '0'], [[3, 4, 5], '2']]);
    calls[1]!.done(true);
    await tick();
    assert.deepEqual(stored, [[0, '1', 2], [0, '4', 3]]);
  });

  it('flushes partitions independently', async () => {
    const { pipeline, calls, stored } = harness();
    await pipeline.push(0, chunk(0, [1]));
    await pipeline.push(1, chunk(0, [10]));
    assert.deepEqual(calls.map((c) => c.partition), [0, 1], 'both in flight at once');
    calls[1]!.done(true);
    await tick();
    assert.deepEqual(stored, [[1, '0', 1]], 'partition 1 is stored while partition 0 is still in flight');
  });

  it('caps a merged flush at maxRows, but sends a larger single chunk whole', async () => {
    const { pipeline, calls } = harness(3, 100);
    await pipeline.push(0, chunk(0, [1]));
    await pipeline.push(0, chunk(1, [2, 3]));
    await pipeline.push(0, chunk(3, [4, 5]));
    await pipeline.push(0, chunk(5, [6, 7, 8, 9]));
    for (let i = 0; i < 3; i++) {
      calls[i]!.done(true);
      await tick();
    }
    assert.deepEqual(calls.map((c) => c.items), [[1], [2, 3], [4, 5], [6, 7, 8, 9]]);
  });

  it('counts records that hold no item (undecodable) in what is stored, and flushes them', async () => {
    const { pipeline, calls, stored } = harness();
    await pipeline.push(0, { items: [], records: 3, firstOffset: '0', lastOffset: '2' });
    assert.deepEqual(calls.map((c) => c.items), [[]]);
    calls[0]!.done(true);
    await tick();
    assert.deepEqual(stored, [[0, '2', 3]]);
  });

  it('makes push wait while more than maxQueuedRows wait in all partitions together, until a flush takes them', async () => {
    const { pipeline, calls } = harness(100, 2);
    await pipeline.push(0, chunk(0, [1]));
    await pipeline.push(1, chunk(0, [10]));
    await pipeline.push(0, chunk(1, [2]));
    await pipeline.push(1, chunk(1, [11]));
    let resumed = false;
    const fifth = pipeline.push(0, chunk(2, [3])).then(() => { resumed = true; });
    await tick();
    assert.equal(resumed, false, '3 rows wait (2 in partition 0, 1 in partition 1): over the limit of 2');
    calls.find((c) => c.partition === 1)!.done(true);
    await fifth;
    assert.deepEqual(calls.map((c) => [c.partition, c.items]), [[0, [1]], [1, [10]], [1, [11]]], 'partition 1 taking its row made room');
  });

  it('makes push wait while more than maxQueuedRows wait in the partition, until a flush takes them', async () => {
    const { pipeline, calls } = harness(100, 2);
    await pipeline.push(0, chunk(0, [1]));
    await pipeline.push(0, chunk(1, [2, 3]));
    let resumed = false;
    const third = pipeline.push(0, chunk(3, [4])).then(() => { resumed = true; });
    await tick();
    assert.equal(resumed, false, '3 rows wait behind the flush in flight: over the limit of 2');
    calls[0]!.done(true);
    await third;
    assert.deepEqual(calls.map((c) => c.items), [[1], [2, 3, 4]]);
  });

  it('drops what waits in a partition whose flush reports it is no longer ours (false or a rejection); stores nothing of it', async () => {
    for (const outcome of [false, new Error('lost')]) {
      const { pipeline, calls, stored } = harness(100, 1);
      await pipeline.push(0, chunk(0, [1]));
      await pipeline.push(0, chunk(1, [2]));
      const waiting = pipeline.push(0, chunk(2, [3]));
      calls[0]!.done(outcome);
      await waiting;
      await pipeline.idle();
      assert.equal(calls.length, 1, 'the waiting chunks are never flushed');
      assert.deepEqual(stored, []);
      await pipeline.push(0, chunk(5, [6]));
      assert.deepEqual(calls.map((c) => c.items), [[1], [6]], 'the partition takes new chunks afterwards');
    }
  });

  it('drop() forgets what waits; idle() resolves once the flushes in flight are done', async () => {
    const { pipeline, calls, stored } = harness(100, 1);
    await pipeline.push(0, chunk(0, [1]));
    await pipeline.push(1, chunk(0, [10]));
    await pipeline.push(0, chunk(1, [2]));
    const blocked = pipeline.push(0, chunk(2, [3]));
    pipeline.drop();
    await blocked;
    let idle = false;
    const idling = pipeline.idle().then(() => { idle = true; });
    await tick();
    assert.equal(idle, false, 'two flushes still in flight');
    calls[0]!.done(true);
    calls[1]!.done(true);
    await idling;
    assert.deepEqual(calls.map((c) => c.items), [[1], [10]], 'nothing that waited was flushed');
    assert.deepEqual(stored, [[0, '0', 1], [1, '0', 1]]);
  });
});
