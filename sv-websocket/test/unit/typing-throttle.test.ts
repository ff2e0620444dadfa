/** The typing throttle: one indicator per sender and recipient per window, in bounded memory. */
import assert from 'node:assert/strict';
import { TYPING_WINDOW_MS, TypingThrottle } from '../../src/typing-throttle.ts';

function throttle(maxEntries?: number) {
  const clock = { now: 1000 };
  return { clock, t: new TypingThrottle({ now: () => clock.now, maxEntries }) };
}

describe('TypingThrottle', () => {
  it('lets the first indicator through and drops the next ones within the window', () => {
    const { clock, t } = throttle();
    assert.equal(t.allow('alice', 'bob'), true);
    clock.now += 10;
    assert.equal(t.allow('alice', 'bob'), false);
    clock.now += TYPING_WINDOW_MS - 11;
    assert.equal(t.allow('alice', 'bob'), false, 'still within the window');
  });

  it('lets one through again once the window is over, counted from the last one let through', () => {
    const { clock, t } = throttle();
    assert.equal(t.allow('alice', 'bob'), true);
    clock.now += 1500;
    assert.equal(t.allow('alice', 'bob'), false, 'a dropped one does not restart the window');
    clock.now += 500;
    assert.equal(t.allow('alice', 'bob'), true, '2 s after the first');
    clock.now += 1999;
    assert.equal(t.allow('alice', 'bob'), false, 'the window restarted at the second');
  });

  it('keeps one window per sender and recipient', () => {
    const { t } = throttle();
    assert.equal(t.allow('alice', 'bob'), true);
    assert.equal(t.allow('alice', 'carol'), true);
    assert.equal(t.allow('bob', 'alice'), true);
    assert.equal(t.allow('alice', 'alice'), true);
    assert.equal(t.allow('alice', 'bob'), false);
    assert.equal(t.allow('bob', 'alice'), false);
  });

  it('forgets pairs whose window is over', () => {
    const { clock, t } = throttle();
    for (let i = 0; i < 50; i++) t.allow('alice', `peer${i}`);
    assert.equal(t.size, 50);
    clock.now += TYPING_WINDOW_MS;
    t.allow('carol', 'dave');
    assert.equal(t.size, 1, 'only the pair just let through is left');
  });

  it('holds at most maxEntries pairs, giving up the oldest first', () => {
    const { t } = throttle(3);
    for (const peer of ['p1', 'p2', 'p3', 'p4']) assert.equal(t.allow('alice', peer), true);
    assert.equal(t.size, 3);
    assert.equal(t.allow('alice', 'p4'), false, 'the newest is still throttled');
    assert.equal(t.allow('alice', 'p1'), true, 'the oldest was given up: one extra indicator');
    assert.equal(t.size, 3);
  });
});
