/**
 * SIGKILL of sv-discover (memory registry: it comes back empty) while a user on another node
 * stays connected and the sending node never looked them up: every lookup fails, so the remote
 * deliveries are parked and retried. Once sv-discover is back on its port and the nodes have
 * re-registered, the parked messages reach the user live, on the socket never closed.
 * And sv-discover back but still empty: a user it does not hold yet is not taken as offline while
 * its lookups say `warming`.
 */
import assert from 'node:assert/strict';
import { startService } from '@chat/shared/testing/processes';
import { startMesh, uniqueUser } from '../helpers/mesh.ts';
import { meshSuite } from '../helpers/mesh-suite.ts';
import { ackRecorder, expectStoredExactlyOnce } from '../helpers/stored.ts';
import { eventually } from '@chat/shared/testing/eventually';
import { DiscoveryProbe, metricValue } from '../helpers/faults.ts';

// A retry window far longer than sv-discover takes to restart on a loaded machine.
const NODE = { LEASE_MS: '2000', FORWARD_RETRY_MS: '60000' };
const SENDS = 5;

describe('faults: live delivery across a sv-discover outage', function () {
  this.timeout(120_000);
  const suite = meshSuite(() => startMesh({ nodes: [NODE, NODE] }));

  it('retries the deliveries whose lookups failed, so a recipient who stayed connected gets every message live', async () => {
    const [a, b] = ['alice', 'bob'].map(uniqueUser) as [string, string];
    const alice = await suite.connect(0, a);
    // `welcome` comes once discovery has the connection: bob is registered, node-0 never asked.
    const bob = await suite.connect(1, b);
    const sender = suite.mesh.nodes[0]!;
    const old = suite.mesh.discover;
    await old.stop('SIGKILL');

    const { acked, send } = ackRecorder();
    for (let k = 1; k <= SENDS; k++) await send(alice, a, b, `outage-${k}`);
    const parked = await metricValue(sender.url, 'chat_forward_retries_parked');

    const restarted = await startService('sv-discover', { ...suite.mesh.discoverEnv(), PORT: String(old.port) });
    suite.mesh.discovers[0] = restarted;
    suite.mesh.discover = restarted;
    for (const x of acked) {
      assert.equal((await bob.next('message', (m) => m.id === x.id, 60_000)).body, `${x.cid} body`, 'delivered live, late');
    }
    assert.ok(parked !== undefined && parked >= 1, `parked while discovery was down: ${parked}`);
    await eventually('nothing left parked', async () => (await metricValue(sender.url, 'chat_forward_retries_parked')) === 0);
    await expectStoredExactlyOnce(suite.mesh.databaseUrl, acked);
  });

  it('retries a recipient that discovery, just restarted empty, does not hold yet, so it still gets the message live', async () => {
    const [a, b] = ['alice', 'bob'].map(uniqueUser) as [string, string];
    const alice = await suite.connect(0, a);
    const bob = await suite.connect(1, b);
    const old = suite.mesh.discover;
    // Bob's node is frozen across the restart: it cannot register him again until SIGCONT.
    const bobsNode = suite.mesh.nodes[1]!;
    bobsNode.child.kill('SIGSTOP');
    try {
      await old.stop('SIGKILL');
      const restarted = await startService('sv-discover', { ...suite.mesh.discoverEnv(), PORT: String(old.port), LEASE_MS: NODE.LEASE_MS });
      suite.mesh.discovers[0] = restarted;
      suite.mesh.discover = restarted;
      const { acked, send } = ackRecorder();
      await send(alice, a, b, 'after-restart');
      const probe = new DiscoveryProbe(() => restarted.url);
      assert.deepEqual(await probe.nodesOf(b), [], 'bob is not registered yet');
      await probe.close();
      bobsNode.child.kill('SIGCONT');
      assert.equal((await bob.next('message', (m) => m.id === acked[0]!.id, 60_000)).body, 'after-restart body', 'delivered live');
    } finally {
      if (bobsNode.child.exitCode === null) bobsNode.child.kill('SIGCONT');
    }
  });
});
