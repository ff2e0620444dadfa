import assert from 'node:assert/strict';
import { RetryQueue, type Parked } from '../../src/retry-queue.ts';

describe('RetryQueue', () => {
  it('tries an entry after 250 ms, then with doubling waits up to 2 s, the last time at its deadline, then gives it up', () => {
    const queue = new RetryQueue<string>({ windowMs: 5000, maxItems: 10 });
    assert.equal(queue.park('m1', 1000), true);
    const attempts: number[] = [];
    for (let now = 1000; now <= 8000; now += 10) {
      for (const entry of queue.takeDue(now)) {
        attempts.push(now - 1000);
        queue.retryLater(entry, now);
      }
    }
    assert.deepEqual(attempts, [250, 750, 1750, 3750, 5000]);
    assert.equal(queue.size, 0);
    assert.deepEqual(queue.dropped, { full: 0, expired: 1, shutdown: 0 });
  });

  it('hands out only what is due, in order, and forgets an entry that got through', () => {
    const queue = new RetryQueue<string>({ windowMs: 10_000, maxItems: 10 });
    queue.park('a', 0);
    queue.park('b', 100);
    assert.deepEqual(queue.takeDue(249), []);
    assert.equal(queue.nextDueAt(), 250);
    const [a] = queue.takeDue(300);
    assert.equal(a!.value, 'a');
    assert.equal(queue.size, 2, 'an entry out still counts');
    queue.retryLater(a!, 300);
    assert.equal(queue.nextDueAt(), 350, 'b is due before a again');
    assert.deepEqual(queue.takeDue(800).map((e) => e.value), ['b', 'a']);
  });

  it('is bounded: past maxItems (parked or out) a new entry is dropped and counted', () => {
    const queue = new RetryQueue<number>({ windowMs: 10_000, maxItems: 2 });
    assert.equal(queue.park(1, 0), true);
    assert.equal(queue.park(2, 0), true);
    const out = queue.takeDue(250);
    assert.equal(queue.park(3, 250), false, 'two are out being tried');
    assert.equal(queue.dropped.full, 1);
    queue.done(out[0]!);
    assert.equal(queue.park(4, 260), true, 'room again once one got through');
    assert.equal(queue.size, 2);
  });

  it('on close gives up what is parked, what comes back from an attempt, and anything parked later', () => {
    const queue = new RetryQueue<number>({ windowMs: 10_000, maxItems: 10 });
    queue.park(1, 0);
    queue.park(2, 0);
    queue.park(3, 1000);
    const out: Parked<number>[] = queue.takeDue(250);
    assert.equal(out.length, 2);
    queue.close();
    queue.retryLater(out[0]!, 300);
    queue.done(out[1]!);
    assert.equal(queue.park(4, 400), false);
    assert.equal(queue.size, 0);
    assert.equal(queue.nextDueAt(), undefined);
    assert.deepEqual(queue.dropped, { full: 0, expired: 0, shutdown: 3 });
  });
});
