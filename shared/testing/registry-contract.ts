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
import type { PresenceRegistry, PresenceState, Registry } from '@chat/shared/registry';
import type { NodeInfo, UserId } from '@chat/shared/types';
import { eventually } from './eventually.ts';

export type RegistryFactory = () => Registry | Promise<Registry>;

/** Shortest lease the HTTP API accepts; used where a test waits for expiry. */
export const SHORT_LEASE_MS = 1000;
const LEASE_MS = 60_000;
/** How far a registry's clock (Redis's, for RedisRegistry) may be from this process's. */
const CLOCK_SLACK_MS = 1000;


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

export type PresenceRegistryFactory = () => PresenceRegistry | Promise<PresenceRegistry>;

/**
 * What sv-discover's registries owe on top of the Registry contract: who is online, when they were
 * last seen, and one transition per change, told to the listener of the instance that made it.
 * The factory's registry must not sweep by itself (tests call `sweep()`), so a sweep's transitions
 * are seen by the test that expects them.
 */
export function presenceContract(name: string, factory: PresenceRegistryFactory): void {
  describe(`PresenceRegistry contract: ${name}`, function () {
    this.timeout(20_000);
    const run = randomUUID().slice(0, 8);
    let seq = 0;
    let registry: PresenceRegistry;
    let heard: PresenceState[];
    const node = (label: string): NodeInfo => ({ nodeId: `${label}-${run}-${++seq}`, url: `http://127.0.0.1:${30_000 + seq}` });
    const user = (label: string): UserId => `${label}.${run}.${++seq}`;
    const entry = (u: UserId) => ({ user: u, connId: randomUUID() });
    const stateOf = async (u: UserId) => (await registry.presence([u]))[0]!;
    /** The transitions heard since the last call. */
    const transitions = () => heard.splice(0);
    /** Assert `changes` are exactly the offline transitions of `users` (any order), stamped between `from` and now. */
    const assertOffline = (changes: PresenceState[], users: UserId[], from: number) => {
      assert.deepEqual(changes.map((c) => c.user).sort(), [...users].sort());
      for (const c of changes) {
        assert.equal(c.online, false, c.user);
        assert.ok(c.lastSeen !== null && c.lastSeen >= from - CLOCK_SLACK_MS && c.lastSeen <= Date.now() + CLOCK_SLACK_MS, `${c.user} last seen at ${c.lastSeen}`);
      }
    };

    beforeEach(async () => {
      registry = await factory();
      heard = [];
      registry.onTransitions((changes) => heard.push(...changes));
    });
    afterEach(async () => {
      await registry.close();
    });

    it('answers offline with no last-seen time for users never seen, in the order asked', async () => {
      const [a, b] = [user('a'), user('b')];
      assert.deepEqual(await registry.presence([a, b]), [{ user: a, online: false, lastSeen: null }, { user: b, online: false, lastSeen: null }]);
      assert.deepEqual(await registry.presence([]), []);
    });

    it('goes online at the first connection and offline, last seen, when the last one is removed', async () => {
      const [n1, n2] = [node('n'), node('n')];
      const alice = user('alice');
      const [c1, c2, c3] = [entry(alice), entry(alice), entry(alice)];
      await registry.renewLease(n1, LEASE_MS);
      await registry.renewLease(n2, LEASE_MS);
      await registry.updateEntries(n1.nodeId, [c1], []);
      assert.deepEqual(transitions(), [{ user: alice, online: true, lastSeen: null }]);
      assert.deepEqual(await stateOf(alice), { user: alice, online: true, lastSeen: null });
      await registry.updateEntries(n1.nodeId, [c2], []);
      await registry.updateEntries(n2.nodeId, [c3], []);
      await registry.updateEntries(n1.nodeId, [], [c1.connId, c2.connId]);
      assert.deepEqual(transitions(), [], 'a connection on another node keeps her online');
      const from = Date.now();
      await registry.updateEntries(n2.nodeId, [], [c3.connId]);
      const changes = transitions();
      assertOffline(changes, [alice], from);
      assert.deepEqual(await stateOf(alice), changes[0], 'the state says what the transition said');
      await registry.updateEntries(n2.nodeId, [entry(alice)], []);
      assert.deepEqual(transitions(), [{ user: alice, online: true, lastSeen: null }]);
      assert.deepEqual(await stateOf(alice), { user: alice, online: true, lastSeen: null }, 'online again: no last-seen time');
    });

    it('makes no transition for a connection added and removed in one update, nor for a removal by a stranger', async () => {
      const [owner, stranger] = [node('owner'), node('stranger')];
      const [alice, bob] = [user('alice'), user('bob')];
      const brief = entry(alice);
      await registry.renewLease(owner, LEASE_MS);
      await registry.renewLease(stranger, LEASE_MS);
      await registry.updateEntries(owner.nodeId, [brief], [brief.connId]);
      assert.deepEqual(transitions(), []);
      assert.deepEqual(await stateOf(alice), { user: alice, online: false, lastSeen: null });
      const kept = entry(bob);
      await registry.updateEntries(owner.nodeId, [kept], []);
      transitions();
      await registry.updateEntries(stranger.nodeId, [], [kept.connId]);
      assert.deepEqual(transitions(), []);
      assert.equal((await stateOf(bob)).online, true);
    });

    it('moves a connection re-added under another user: the old user goes offline, the new one online', async () => {
      const n1 = node('n');
      const [alice, bob] = [user('alice'), user('bob')];
      const conn = entry(alice);
      await registry.renewLease(n1, LEASE_MS);
      await registry.updateEntries(n1.nodeId, [conn], []);
      transitions();
      const from = Date.now();
      await registry.updateEntries(n1.nodeId, [{ user: bob, connId: conn.connId }], []);
      const changes = transitions();
      assert.deepEqual(changes.filter((c) => c.online), [{ user: bob, online: true, lastSeen: null }]);
      assertOffline(changes.filter((c) => !c.online), [alice], from);
    });

    it('takes the users of a removed node offline, except those connected elsewhere', async () => {
      const [n1, n2] = [node('n'), node('n')];
      const [alice, bob, carol] = [user('alice'), user('bob'), user('carol')];
      await registry.renewLease(n1, LEASE_MS);
      await registry.renewLease(n2, LEASE_MS);
      await registry.updateEntries(n1.nodeId, [entry(alice), entry(alice), entry(bob), entry(carol)], []);
      await registry.updateEntries(n2.nodeId, [entry(bob)], []);
      assert.equal(transitions().length, 3);
      const from = Date.now();
      await registry.removeNode(n1.nodeId);
      assertOffline(transitions(), [alice, carol], from);
      assert.deepEqual((await registry.presence([bob])).map((s) => s.online), [true]);
    });

    it('takes the users of a node renewed under a new URL offline, as a new node', async () => {
      const n1 = node('n');
      const alice = user('alice');
      await registry.renewLease(n1, LEASE_MS);
      await registry.updateEntries(n1.nodeId, [entry(alice)], []);
      transitions();
      const from = Date.now();
      assert.equal(await registry.renewLease({ ...n1, url: 'http://127.0.0.1:1/' }, LEASE_MS), false);
      assertOffline(transitions(), [alice], from);
    });

    it('takes the users of an expired lease offline at the sweep, last seen then', async () => {
      const [short, long] = [node('short'), node('long')];
      const [alice, bob] = [user('alice'), user('bob')];
      await registry.renewLease(short, SHORT_LEASE_MS);
      await registry.renewLease(long, LEASE_MS);
      await registry.updateEntries(short.nodeId, [entry(alice), entry(bob)], []);
      await registry.updateEntries(long.nodeId, [entry(bob)], []);
      transitions();
      const from = Date.now();
      await eventually('the short lease expired and was swept', async () => {
        await registry.sweep();
        assert.equal((await stateOf(alice)).online, false);
      });
      const changes = transitions();
      assertOffline(changes, [alice], from);
      assert.deepEqual(await stateOf(alice), changes[0], 'last seen when the sweep took her offline');
      assert.equal((await stateOf(bob)).online, true, 'bob is still connected on the live node');
    });
  });
}
