/**
 * The behaviour every Registry implementation owes (shared/src/registry.ts), as one mocha suite
 * each implementation runs against itself (socket.io-redis-adapter's test-runner style):
 *
 *   registryContract('MemoryRegistry', () => new MemoryRegistry());
 *
 * The factory is called before every test and the registry closed after it. Tests use fresh
 * node and user ids, so factories may share a store between calls. Leases in the expiry tests
 * are 1000 ms, the shortest the internal HTTP API accepts, so HttpRegistry can run this too.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { Registry } from '@chat/shared/registry';
import type { NodeInfo, UserId } from '@chat/shared/types';
import { eventually } from './eventually.ts';

export type RegistryFactory = () => Registry | Promise<Registry>;

/** Shortest lease the HTTP API accepts; used where a test waits for expiry. */
export const SHORT_LEASE_MS = 1000;
const LEASE_MS = 60_000;


function byNode(infos: readonly NodeInfo[] | undefined): NodeInfo[] {
  return [...(infos ?? [])].sort((a, b) => a.nodeId.localeCompare(b.nodeId));
}

export function registryContract(name: string, factory: RegistryFactory): void {
  describe(`Registry contract: ${name}`, function () {
    this.timeout(20_000);
    const run = randomUUID().slice(0, 8);
    let seq = 0;
    let registry: Registry;
    const node = (label: string): NodeInfo => {
      const nodeId = `${label}-${run}-${++seq}`;
      return { nodeId, url: `http://127.0.0.1:${20_000 + seq}` };
    };
    const user = (label: string): UserId => `${label}.${run}.${++seq}`;
    const nodesOf = async (u: UserId) => byNode((await registry.lookup([u])).get(u));

    beforeEach(async () => {
      registry = await factory();
    });
    afterEach(async () => {
      await registry.close();
    });

    it('renewLease answers false for an unknown node and true once it holds the lease', async () => {
      const n1 = node('n');
      assert.equal(await registry.renewLease(n1, LEASE_MS), false);
      assert.equal(await registry.renewLease(n1, LEASE_MS), true);
      assert.equal(await registry.renewLease(n1, LEASE_MS), true);
    });

    it('finds an added connection and leaves unknown users out of the map', async () => {
      const n1 = node('n');
      const alice = user('alice');
      const nobody = user('nobody');
      await registry.renewLease(n1, LEASE_MS);
      await registry.updateEntries(n1.nodeId, [{ user: alice, connId: randomUUID() }], []);
      const found = await registry.lookup([alice, nobody]);
      assert.deepEqual([...found.keys()], [alice]);
      assert.deepEqual(found.get(alice), [n1]);
    });

    it('reports each node of a user once, however many connections it holds there', async () => {
      const [n1, n2] = [node('n'), node('n')];
      const alice = user('alice');
      const [c1, c2, c3] = [randomUUID(), randomUUID(), randomUUID()];
      await registry.renewLease(n1, LEASE_MS);
      await registry.renewLease(n2, LEASE_MS);
      await registry.updateEntries(n1.nodeId, [{ user: alice, connId: c1 }, { user: alice, connId: c2 }], []);
      await registry.updateEntries(n2.nodeId, [{ user: alice, connId: c3 }], []);
      assert.deepEqual(await nodesOf(alice), byNode([n1, n2]));
      await registry.updateEntries(n1.nodeId, [], [c1]);
      assert.deepEqual(await nodesOf(alice), byNode([n1, n2]), 'c2 still holds alice on n1');
      await registry.updateEntries(n1.nodeId, [], [c2]);
      assert.deepEqual(await nodesOf(alice), [n2]);
      await registry.updateEntries(n2.nodeId, [], [c3]);
      assert.equal((await registry.lookup([alice])).has(alice), false);
    });

    it('ignores removal of a connection by a node that does not own it', async () => {
      const [owner, stale] = [node('owner'), node('stale')];
      const alice = user('alice');
      const conn = randomUUID();
      await registry.renewLease(owner, LEASE_MS);
      await registry.renewLease(stale, LEASE_MS);
      await registry.updateEntries(owner.nodeId, [{ user: alice, connId: conn }], []);
      await registry.updateEntries(stale.nodeId, [], [conn]);
      assert.deepEqual(await nodesOf(alice), [owner]);
      await registry.removeNode(stale.nodeId);
      assert.deepEqual(await nodesOf(alice), [owner], "removing another node leaves the owner's entries");
    });

    it('applies adds before removes within one update', async () => {
      const n1 = node('n');
      const [alice, bob] = [user('alice'), user('bob')];
      const [brief, lasting] = [randomUUID(), randomUUID()];
      await registry.renewLease(n1, LEASE_MS);
      await registry.updateEntries(n1.nodeId, [{ user: alice, connId: brief }, { user: bob, connId: lasting }], [brief]);
      const found = await registry.lookup([alice, bob]);
      assert.equal(found.has(alice), false);
      assert.deepEqual(found.get(bob), [n1]);
    });

    it('drops entries added for a node that holds no lease', async () => {
      const n1 = node('n');
      const alice = user('alice');
      await registry.updateEntries(n1.nodeId, [{ user: alice, connId: randomUUID() }], []);
      assert.equal(await registry.renewLease(n1, LEASE_MS), false, 'the node is told to re-add');
      assert.equal((await registry.lookup([alice])).has(alice), false);
    });

    it('hides the entries of an expired lease, and does not bring them back when the node returns', async () => {
      const [short, long] = [node('short'), node('long')];
      const alice = user('alice');
      await registry.renewLease(short, SHORT_LEASE_MS);
      await registry.renewLease(long, LEASE_MS);
      await registry.updateEntries(short.nodeId, [{ user: alice, connId: randomUUID() }], []);
      await registry.updateEntries(long.nodeId, [{ user: alice, connId: randomUUID() }], []);
      assert.deepEqual(await nodesOf(alice), byNode([short, long]));
      await eventually('the short lease expired', async () => assert.deepEqual(await nodesOf(alice), [long]));
      assert.equal(await registry.renewLease(short, LEASE_MS), false, 'an expired node must re-add');
      assert.deepEqual(await nodesOf(alice), [long], 'old entries stay gone after the new lease');
    });

    it('keeps entries alive while the lease is renewed', async () => {
      const n1 = node('n');
      const alice = user('alice');
      await registry.renewLease(n1, SHORT_LEASE_MS);
      await registry.updateEntries(n1.nodeId, [{ user: alice, connId: randomUUID() }], []);
      const until = Date.now() + 2.5 * SHORT_LEASE_MS;
      while (Date.now() < until) {
        assert.equal(await registry.renewLease(n1, SHORT_LEASE_MS), true);
        assert.deepEqual(await nodesOf(alice), [n1]);
        // Lets time pass on purpose: over the loop, unrenewed, the lease would expire twice.
        await new Promise((r) => setTimeout(r, SHORT_LEASE_MS / 4));
      }
    });

    it('treats a lease renewed under a new URL as a new node whose old entries are gone', async () => {
      const n1 = node('n');
      const moved = { ...n1, url: 'http://127.0.0.1:1/' };
      const alice = user('alice');
      await registry.renewLease(n1, LEASE_MS);
      await registry.updateEntries(n1.nodeId, [{ user: alice, connId: randomUUID() }], []);
      assert.equal(await registry.renewLease(moved, LEASE_MS), false);
      assert.equal((await registry.lookup([alice])).has(alice), false);
      await registry.updateEntries(n1.nodeId, [{ user: alice, connId: randomUUID() }], []);
      assert.deepEqual(await nodesOf(alice), [moved]);
    });

    it('removeNode drops the lease and every entry of the node', async () => {
      const [n1, n2] = [node('n'), node('n')];
      const [alice, bob] = [user('alice'), user('bob')];
      await registry.renewLease(n1, LEASE_MS);
      await registry.renewLease(n2, LEASE_MS);
      await registry.updateEntries(n1.nodeId, [{ user: alice, connId: randomUUID() }, { user: bob, connId: randomUUID() }], []);
      await registry.updateEntries(n2.nodeId, [{ user: bob, connId: randomUUID() }], []);
      await registry.removeNode(n1.nodeId);
      const found = await registry.lookup([alice, bob]);
      assert.equal(found.has(alice), false);
      assert.deepEqual(found.get(bob), [n2]);
      assert.equal(await registry.renewLease(n1, LEASE_MS), false);
      assert.equal((await registry.lookup([alice])).has(alice), false, 'entries do not return with the lease');
    });

    it('looks up many users at once', async () => {
      const nodes = [node('n'), node('n'), node('n')];
      for (const n of nodes) await registry.renewLease(n, LEASE_MS);
      const users = Array.from({ length: 600 }, () => user('u'));
      const expected = new Map<UserId, NodeInfo[]>();
      for (let i = 0; i < nodes.length; i++) {
        const mine = users.filter((_, j) => j % 4 !== 3 && (j + i) % 2 === 0);
        await registry.updateEntries(nodes[i]!.nodeId, mine.map((u) => ({ user: u, connId: randomUUID() })), []);
        for (const u of mine) expected.set(u, [...(expected.get(u) ?? []), nodes[i]!]);
      }
      const found = await registry.lookup([...users, user('absent')]);
      assert.equal(found.size, expected.size);
      for (const [u, infos] of expected) assert.deepEqual(byNode(found.get(u)), byNode(infos), u);
      assert.deepEqual(await registry.lookup([]), new Map());
    });
  });
}
