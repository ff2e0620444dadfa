/**
 * Presence through faults: a node SIGKILLed takes its users offline once its lease runs out (and
 * sv-discover's sweep finds it); sv-discover SIGKILLed and restarted on its port (memory: it comes
 * back empty; Redis: to the same data, and the nodes fail over to the other instance meanwhile)
 * brings every watched state back right, since each node says its watch set again on the new feed
 * connection and re-registers its connections, and removals missed meanwhile are sent again.
 */
import assert from 'node:assert/strict';
import { startService } from '@chat/shared/testing/processes';
import { eventually } from '@chat/shared/testing/eventually';
import { clientsOf, startRegistryMesh, uniqueUser, type Mesh } from '../helpers/mesh.ts';
import { presenceSeen, watch } from '../helpers/presence.ts';

const LEASE_MS = 2000;
const NODE = { LEASE_MS: String(LEASE_MS) };

for (const engine of ['memory', 'redis'] as const) {
  describe(`faults: presence through a node or sv-discover SIGKILL (${engine} registry)`, function () {
    this.timeout(90_000);
    let mesh: Mesh;
    const clients = clientsOf(() => mesh);

    before(async function () {
      this.timeout(180_000);
      mesh = await startRegistryMesh(engine, [NODE, NODE, NODE]);
    });
    afterEach(() => clients.closeAll());
    after(async () => {
      await mesh?.stop();
    });

    it('brings every watched state back right after sv-discover is killed and restarted', async () => {
      const [a, e, f] = [uniqueUser('alice'), uniqueUser('erin'), uniqueUser('frank')];
      const erin = await clients.connect(1, e);
      await clients.connect(1, f);
      const alice = await clients.connect(0, a);
      const seen = presenceSeen(alice);
      const answers = await watch(alice, [e, f]);
      assert.equal(answers.get(e)!.online && answers.get(f)!.online, true);

      const old = mesh.discovers[0]!;
      await old.stop('SIGKILL');
      await erin.close(); // its removal cannot reach the dead instance (memory), or fails over (Redis)
      mesh.discovers[0] = await startService('sv-discover', { ...mesh.discoverEnv(), PORT: String(old.port) });

      await eventually('erin offline and frank online, as alice was last told', () => {
        assert.equal(seen.get(e)?.online, false);
        assert.equal(seen.get(f)?.online, true);
      }, 30_000, () => [...seen.values()]);
      if (engine === 'redis') assert.equal(typeof seen.get(e)!.last_seen, 'number', 'Redis kept when erin left');
      // Still followed: the next change arrives.
      await clients.connect(2, e);
      await eventually('erin back online', () => assert.equal(seen.get(e)?.online, true));
    });

    it('takes the users of a SIGKILLed node offline once its lease runs out, except those connected elsewhere', async () => {
      const [a, d, g] = [uniqueUser('alice'), uniqueUser('dave'), uniqueUser('gina')];
      await clients.connect(2, d);
      await clients.connect(2, g);
      await clients.connect(1, g);
      const alice = await clients.connect(0, a);
      const seen = presenceSeen(alice);
      const answers = await watch(alice, [d, g]);
      assert.equal(answers.get(d)!.online && answers.get(g)!.online, true);

      const killedAt = Date.now();
      await mesh.nodes[2]!.stop('SIGKILL');
      const offline = await alice.next('presence', (p) => p.user === d, 20_000);
      assert.equal(offline.online, false);
      assert.ok(offline.last_seen !== null && offline.last_seen >= killedAt, 'last seen when the lease was found gone');
      assert.equal(seen.get(g)?.online, true, 'gina is still connected on node 1');
      assert.equal(alice.frames.filter((p) => p.type === 'presence' && p.user === g).length, 0, 'no news of gina');
    });
  });
}
