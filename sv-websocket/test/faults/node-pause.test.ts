/**
 * SIGSTOP of a node for longer than its lease, then SIGCONT: its entries expire meanwhile; a user
 * who reconnected to another node is not erased when the stopped node wakes and processes its late
 * closes (it removes only its own entries); the woken node re-registers its still-open connections.
 */
import assert from 'node:assert/strict';
import { eventually } from '@chat/shared/testing/eventually';
import { startMesh, uniqueUser } from '../helpers/mesh.ts';
import { meshSuite } from '../helpers/mesh-suite.ts';
import { expectStoredExactlyOnce, type AckedMessage } from '../helpers/stored.ts';
import { metricValue } from '../helpers/faults.ts';

const LEASE_MS = 2000;
const NODE = { LEASE_MS: String(LEASE_MS) };

describe('faults: SIGSTOP of a node past its lease, then SIGCONT', function () {
  this.timeout(90_000);
  const suite = meshSuite(() => startMesh({ nodes: [NODE, NODE] }), { beforeStop: (mesh) => { if (mesh.nodes[0]?.child.exitCode === null) mesh.nodes[0].child.kill('SIGCONT'); } });
  const { connect } = suite;

  it('expires the stopped node, keeps the reconnected user, and re-registers the node after SIGCONT', async () => {
    const [a, b, c] = ['alice', 'bob', 'carol'].map(uniqueUser) as [string, string, string];
    const aliceOld = await connect(0, a);
    const bob = await connect(0, b);
    const carol = await connect(1, c);
    assert.deepEqual(await suite.probe.nodesOf(a), ['node-0']);
    const acked: AckedMessage[] = [];

    const paused = suite.mesh.nodes[0]!;
    paused.child.kill('SIGSTOP');
    try {
      await eventually('the stopped node\'s entries expire with its lease', async () =>
        (await suite.probe.nodesOf(a)).length === 0 && (await suite.probe.nodesOf(b)).length === 0, 10 * LEASE_MS);
      // alice gives up on the silent node and reconnects to the other one.
      aliceOld.ws.terminate();
      const alice = await connect(1, a);
      assert.deepEqual(await suite.probe.nodesOf(a), ['node-1']);
      // carol writes to bob, whose node is asleep: accepted, and kept for him.
      const toBob = await carol.sendMessage(b, 'while you slept', 'p-1');
      acked.push({ from: c, cid: 'p-1', id: toBob.id, seq: toBob.seq });
      // Hold the stop well past the lease, so the wake-up meets an expired lease.
      await new Promise((r) => setTimeout(r, LEASE_MS));
      paused.child.kill('SIGCONT');

      // The woken node handles alice's old close (a removal of its own, expired entry) and
      // re-registers bob's connection, which is still open.
      await eventually('node-0 closed alice\'s old connection', async () => (await metricValue(paused.url, 'chat_connections')) === 1);
      await eventually('node-0 re-registered bob', async () => (await suite.probe.nodesOf(b)).join() === 'node-0');
      assert.deepEqual(await suite.probe.nodesOf(a), ['node-1'], 'the late removal did not erase alice\'s new connection');

      const toAlice = await carol.sendMessage(a, 'found you', 'p-2');
      acked.push({ from: c, cid: 'p-2', id: toAlice.id, seq: toAlice.seq });
      assert.equal((await alice.next('message', (m) => m.id === toAlice.id)).body, 'found you');
      const toBob2 = await carol.sendMessage(b, 'welcome back', 'p-3');
      acked.push({ from: c, cid: 'p-3', id: toBob2.id, seq: toBob2.seq });
      assert.equal((await bob.next('message', (m) => m.id === toBob2.id)).body, 'welcome back', 'cross-node to the woken node');
      // What bob may have missed while asleep comes back through history.
      bob.send({ type: 'history', with: c, after: 0 });
      const page = await bob.next('history');
      assert.deepEqual(page.messages.map((m) => m.id), [toBob.id, toBob2.id]);
      await expectStoredExactlyOnce(suite.mesh.databaseUrl, acked);
    } finally {
      if (paused.child.exitCode === null) paused.child.kill('SIGCONT');
    }
  });
});
