import assert from 'node:assert/strict';
import type { PresenceState } from '@chat/shared/registry';
import { MemoryRegistry } from '../../src/registry-memory.ts';
import { LastSeen, TransitionScope } from '../../src/registry-memory-presence.ts';

describe('TransitionScope', () => {
  it('reports the touched users whose state differs from before, in the order first touched', () => {
    const online = new Set(['bob', 'carol']);
    const scope = new TransitionScope((u) => online.has(u));
    for (const u of ['alice', 'bob', 'carol', 'alice']) scope.touch(u);
    online.add('alice');
    online.delete('bob');
    assert.deepEqual(scope.changes(42), [
      { user: 'alice', online: true, lastSeen: null },
      { user: 'bob', online: false, lastSeen: 42 },
    ]);
  });

  it('reports nobody who came and went within the scope', () => {
    const online = new Set<string>();
    const scope = new TransitionScope((u) => online.has(u));
    scope.touch('alice');
    online.add('alice');
    scope.touch('alice'); // the state before the scope counts, not this one
    online.delete('alice');
    assert.deepEqual(scope.changes(1), []);
  });
});

describe('LastSeen', () => {
  it('remembers offline users, forgets those back online, and keeps only the most recent past its bound', () => {
    const seen = new LastSeen(2);
    seen.record([{ user: 'a', online: false, lastSeen: 1 }, { user: 'b', online: false, lastSeen: 2 }]);
    seen.record([{ user: 'a', online: false, lastSeen: 3 }]); // a is now the most recent
    seen.record([{ user: 'c', online: false, lastSeen: 4 }]);
    assert.deepEqual(['a', 'b', 'c'].map((u) => seen.get(u)), [3, null, 4]);
    seen.record([{ user: 'c', online: true, lastSeen: null }]);
    assert.equal(seen.get('c'), null);
    assert.equal(seen.size, 1);
  });
});

describe('MemoryRegistry presence (fake clock)', () => {
  let now: number;
  let registry: MemoryRegistry;
  let heard: PresenceState[];
  const n1 = { nodeId: 'n1', url: 'http://127.0.0.1:3001' };

  beforeEach(() => {
    now = 1_000_000;
    registry = new MemoryRegistry({ now: () => now, sweepIntervalMs: 0, lastSeenMaxUsers: 10 });
    heard = [];
    registry.onTransitions((changes) => heard.push(...changes));
  });
  afterEach(() => registry.close());

  it('takes the users of an expired node offline when a lookup meets it, last seen at that moment', async () => {
    await registry.renewLease(n1, 1000);
    await registry.updateEntries('n1', [{ user: 'alice', connId: 'c1' }], []);
    now += 1500;
    assert.equal((await registry.lookup(['alice'])).has('alice'), false);
    assert.deepEqual(heard.slice(1), [{ user: 'alice', online: false, lastSeen: 1_001_500 }]);
    assert.deepEqual(await registry.presence(['alice']), [{ user: 'alice', online: false, lastSeen: 1_001_500 }]);
  });

  it('keeps last-seen times of a bounded number of users', async () => {
    await registry.renewLease(n1, 60_000);
    const entries = Array.from({ length: 25 }, (_, i) => ({ user: `u${i}`, connId: `c${i}` }));
    await registry.updateEntries('n1', entries, []);
    await registry.removeNode('n1');
    assert.equal(heard.filter((c) => !c.online).length, 25);
    assert.equal(registry.lastSeenUsers, 10);
  });
});
