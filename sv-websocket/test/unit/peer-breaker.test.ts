import assert from 'node:assert/strict';
import { PeerBreaker } from '../../src/peer-breaker.ts';

describe('PeerBreaker', () => {
  it('sends while closed; the first failure marks the peer down and holds everything until the first probe', () => {
    const breaker = new PeerBreaker({ firstDelayMs: 250, maxDelayMs: 5000 });
    assert.equal(breaker.admit(0), 'send');
    assert.equal(breaker.down, false);
    assert.equal(breaker.failed(10, false), true, 'this failure marked it down');
    assert.equal(breaker.down, true);
    assert.equal(breaker.failed(11, false), false, 'a forward that was in flight with it changes nothing');
    assert.deepEqual([breaker.admit(12), breaker.admit(259)], ['hold', 'hold']);
    assert.equal(breaker.admit(260), 'probe');
    assert.equal(breaker.admit(261), 'hold', 'one probe at a time');
  });

  it('doubles the wait after each failed probe, up to the longest, and a success closes it and resets the wait', () => {
    const breaker = new PeerBreaker({ firstDelayMs: 100, maxDelayMs: 350 });
    breaker.failed(0, false);
    const probes: number[] = [];
    let now = 0;
    for (let i = 0; i < 5; i++) {
      while (breaker.admit(now) !== 'probe') now++;
      probes.push(now);
      assert.equal(breaker.failed(now, true), false, 'a failed probe keeps it down');
    }
    assert.deepEqual(probes, [100, 300, 650, 1000, 1350]);
    while (breaker.admit(now) !== 'probe') now++;
    assert.equal(breaker.failed(now, false), false, 'a failure not carrying the probe leaves the probe out');
    assert.equal(breaker.admit(now + 10_000), 'hold');
    assert.equal(breaker.succeeded(), true, 'back');
    assert.equal(breaker.down, false);
    assert.equal(breaker.admit(now), 'send');
    assert.equal(breaker.succeeded(), false, 'was not down');
    breaker.failed(now, false);
    assert.equal(breaker.admit(now + 99), 'hold');
    assert.equal(breaker.admit(now + 100), 'probe', 'the wait starts again from the first');
  });
});
