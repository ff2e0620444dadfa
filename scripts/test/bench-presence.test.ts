/** The presence scenario's pure parts: who watches whom, and matching frames to the changes behind them. */
import { strict as assert } from 'node:assert';
import { emptyEvents, latestAtOrBefore, matchPresence, pushEvent } from '../src/bench/presence-match.ts';
import { watcherLists, watchList } from '../src/bench/presence-plan.ts';

describe('presence watch lists', () => {
  it('gives each user the asked number of distinct others', () => {
    for (let u = 0; u < 200; u++) {
      const list = watchList(u, 200, 20, 7);
      assert.equal(list.length, 20);
      assert.equal(new Set(list).size, 20);
      assert.ok(!list.includes(u), `user ${u} watches itself`);
      assert.ok(list.every((w) => Number.isInteger(w) && w >= 0 && w < 200));
    }
  });

  it('derives the same lists from the same seed, other lists from another', () => {
    assert.deepEqual(watchList(5, 1000, 20, 1), watchList(5, 1000, 20, 1));
    assert.notDeepEqual(watchList(5, 1000, 20, 1), watchList(5, 1000, 20, 2));
    assert.notDeepEqual(watchList(5, 1000, 20, 1), watchList(6, 1000, 20, 1));
  });

  it('watches everyone else when there are fewer others than asked', () => {
    assert.deepEqual(watchList(1, 4, 20, 3).sort(), [0, 2, 3]);
  });

  it('refuses a user outside the population', () => {
    assert.throws(() => watchList(10, 10, 5, 1), RangeError);
    assert.throws(() => watchList(-1, 10, 5, 1), RangeError);
  });

  it('lists the watchers of each user consistently with the watch lists', () => {
    const watchers = watcherLists(300, 20, 9);
    assert.equal(watchers.reduce((a, l) => a + l.length, 0), 300 * 20);
    const of7 = Array.from({ length: 300 }, (_, u) => u).filter((u) => watchList(u, 300, 20, 9).includes(7));
    assert.deepEqual([...watchers[7]!].sort((a, b) => a - b), of7);
  });
});

describe('presence frame matching', () => {
  it('finds the latest time at or before a moment', () => {
    assert.equal(latestAtOrBefore([10, 20, 30], 25), 20);
    assert.equal(latestAtOrBefore([10, 20, 30], 20), 20);
    assert.equal(latestAtOrBefore([10, 20, 30], 5), undefined);
    assert.equal(latestAtOrBefore([], 5), undefined);
  });

  it('matches each frame to the latest change of its user to the same state', () => {
    const changes = emptyEvents();
    pushEvent(changes, 1, false, 1000);
    pushEvent(changes, 1, true, 3000);
    pushEvent(changes, 1, false, 5000);
    pushEvent(changes, 2, false, 1500);
    const arrivals = emptyEvents();
    pushEvent(arrivals, 1, false, 1004); // the first close
    pushEvent(arrivals, 1, true, 3010); // the reopen
    pushEvent(arrivals, 1, false, 3500); // late frame of the first close, after the reopen
    pushEvent(arrivals, 1, false, 5002); // the second close
    pushEvent(arrivals, 2, false, 1520);
    // 0, 2 and 3 watch user 1; 1 and 4 watch user 2. User 2 stays offline from 1500, user 1 is offline 1000–3000.
    const r = matchPresence(changes, arrivals, [[], [0, 2, 3], [1, 4]]);
    assert.deepEqual(r.latenciesMs, [4, 10, 2500, 2, 20]);
    assert.equal(r.matchedOffline, 4);
    assert.equal(r.unmatched, 0);
    // Watcher 2 misses user 1's changes at 3000 and 5000, watcher 1 misses user 2's at 1500.
    assert.equal(r.expected, 3 + 2 + 2 + 1);
  });

  it('counts frames no recorded change explains as unmatched', () => {
    const changes = emptyEvents();
    pushEvent(changes, 1, false, 1000);
    const arrivals = emptyEvents();
    pushEvent(arrivals, 1, true, 1200); // no reopen recorded
    pushEvent(arrivals, 1, false, 900); // before the close
    pushEvent(arrivals, 3, false, 1200); // a user nobody churned
    const r = matchPresence(changes, arrivals, [[], [0]]);
    assert.deepEqual(r.latenciesMs, []);
    assert.equal(r.matchedOffline, 0);
    assert.equal(r.unmatched, 3);
    assert.equal(r.expected, 1);
  });
});
