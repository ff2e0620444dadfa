import assert from 'node:assert/strict';
import { eventually } from '@chat/shared/testing/eventually';
import { MemoryRegistry } from '../../src/registry-memory.ts';

/** Lease math with a hand-driven clock: no waiting, exact boundaries. */
describe('MemoryRegistry (fake clock)', () => {
  let now: number;
  let registry: MemoryRegistry;
  const n1 = { nodeId: 'n1', url: 'http://127.0.0.1:3001' };
  const n2 = { nodeId: 'n2', url: 'http://127.0.0.1:3002' };

  beforeEach(() => {
    now = 1_000_000;
    registry = new MemoryRegistry({ now: () => now, sweepIntervalMs: 0 });
  });
  afterEach(() => registry.close());

  it('keeps a lease until exactly ttl has passed', async () => {
    await registry.renewLease(n1, 1000);
    await registry.updateEntries('n1', [{ user: 'alice', connId: 'c1' }], []);
    now += 999;
    assert.deepEqual((await registry.lookup(['alice'])).get('alice'), [n1]);
    now += 1;
    assert.equal((await registry.lookup(['alice'])).has('alice'), false);
  });

  it('extends the lease from the time of renewal', async () => {
    await registry.renewLease(n1, 1000);
    await registry.updateEntries('n1', [{ user: 'alice', connId: 'c1' }], []);
    now += 900;
    assert.equal(await registry.renewLease(n1, 1000), true);
    now += 900;
    assert.deepEqual((await registry.lookup(['alice'])).get('alice'), [n1]);
    now += 100;
    assert.equal((await registry.lookup(['alice'])).has('alice'), false);
    assert.equal(await registry.renewLease(n1, 1000), false);
  });

  it('drops an expired node and its entries when a lookup meets it', async () => {
    await registry.renewLease(n1, 1000);
    await registry.renewLease(n2, 60_000);
    await registry.updateEntries('n1', [{ user: 'alice', connId: 'c1' }, { user: 'bob', connId: 'c2' }], []);
    await registry.updateEntries('n2', [{ user: 'bob', connId: 'c3' }], []);
    now += 1000;
    assert.deepEqual((await registry.lookup(['alice'])).size, 0);
    assert.deepEqual(registry.stats(), { nodes: 1, users: 1, entries: 1 });
  });

  it('sweeps expired nodes nobody looks up, so memory stays bounded', async () => {
    for (let i = 0; i < 100; i++) {
      const node = { nodeId: `gone-${i}`, url: `http://127.0.0.1:${4000 + i}` };
      await registry.renewLease(node, 1000);
      await registry.updateEntries(node.nodeId, [{ user: `u${i}`, connId: `c${i}` }], []);
    }
    await registry.renewLease(n1, 5000);
    await registry.updateEntries('n1', [{ user: 'alice', connId: 'a1' }], []);
    assert.deepEqual(registry.stats(), { nodes: 101, users: 101, entries: 101 });
    now += 1000;
    assert.equal(registry.sweep(), 100);
    assert.deepEqual(registry.stats(), { nodes: 1, users: 1, entries: 1 });
    assert.equal(registry.sweep(), 0);
  });

  it('moves a connection re-added under another user', async () => {
    await registry.renewLease(n1, 1000);
    await registry.updateEntries('n1', [{ user: 'alice', connId: 'c1' }], []);
    await registry.updateEntries('n1', [{ user: 'bob', connId: 'c1' }], []);
    const found = await registry.lookup(['alice', 'bob']);
    assert.equal(found.has('alice'), false);
    assert.deepEqual(found.get('bob'), [n1]);
    assert.deepEqual(registry.stats(), { nodes: 1, users: 1, entries: 1 });
  });

  it('refuses a lease that is not a positive whole number of ms', async () => {
    for (const ttl of [0, -5, 1.5, Number.NaN, 600_001]) {
      await assert.rejects(registry.renewLease(n1, ttl), RangeError, String(ttl));
    }
    assert.deepEqual(registry.stats().nodes, 0);
  });

  it('sweeps expired nodes on its own timer', async () => {
    const timed = new MemoryRegistry({ now: () => now, sweepIntervalMs: 10 });
    try {
      await timed.renewLease(n1, 1000);
      now += 1000;
      await eventually('the sweep timer dropped the expired node', () => assert.equal(timed.stats().nodes, 0));
    } finally {
      await timed.close();
    }
  });
});
