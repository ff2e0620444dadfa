/**
 * A node's /readyz says what the node needs to accept, store and deliver messages, each dependency
 * named with its state. In Kafka mode the persisters are not among them: a node whose only
 * persister was SIGKILLed keeps accepting (Kafka holds the messages) and stays ready, so a load
 * balancer routing by /readyz keeps sending it traffic. In direct mode sv-persist is the log: its
 * loss makes the node not ready, and the answer says which dependency is down.
 */
import assert from 'node:assert/strict';
import { startTestKafka, uniqueTopic } from '@chat/shared/local-kafka';
import { clientsOf, startMesh, uniqueUser, type Mesh } from '../helpers/mesh.ts';
import { eventually } from '@chat/shared/testing/eventually';

interface Readiness { ready: boolean; checks: Record<string, string> }

async function readiness(nodeUrl: string): Promise<{ status: number; body: Readiness }> {
  const res = await fetch(`${nodeUrl}/readyz`);
  return { status: res.status, body: await res.json() as Readiness };
}

describe('faults: readiness of a node when its persister dies', function () {
  this.timeout(120_000);
  let mesh: Mesh | undefined;
  const clients = clientsOf(() => mesh!);
  afterEach(async () => {
    await clients.closeAll();
    await mesh?.stop();
    mesh = undefined;
  });

  it('Kafka mode: stays ready, naming discovery and the log, and keeps acking while no persister runs', async () => {
    const kafka = await startTestKafka();
    const topic = uniqueTopic('ready');
    await kafka.createTopic(topic, 6);
    mesh = await startMesh({ nodes: [{}, {}], kafka: { brokers: kafka.brokers, topic, partitions: 6 } });
    const [a, b] = [uniqueUser('alice'), uniqueUser('bob')];
    const alice = await clients.connect(0, a);
    await clients.connect(1, b);
    assert.deepEqual((await readiness(mesh.nodes[0]!.url)).body, { ready: true, checks: { discovery: 'ok', log: 'ok' } });

    await mesh.persist.stop('SIGKILL');
    // While no persister is in the group, every check of every node stays ok, again and again.
    for (let round = 0; round < 10; round++) {
      for (const node of mesh.nodes) {
        const r = await readiness(node.url);
        assert.equal(r.status, 200, JSON.stringify(r.body));
        assert.deepEqual(r.body, { ready: true, checks: { discovery: 'ok', log: 'ok' } });
      }
      const ack = await alice.sendMessage(b, `while no persister runs ${round}`, `c${round}`);
      assert.equal(ack.cid, `c${round}`);
    }
  });

  it('direct mode: not ready while sv-persist is down, and the answer names the log', async () => {
    mesh = await startMesh({ nodes: [{}] });
    assert.equal((await readiness(mesh.nodes[0]!.url)).status, 200);
    await mesh.persist.stop('SIGKILL');
    await eventually('the node reports its log down', async () => (await readiness(mesh!.nodes[0]!.url)).status === 503);
    const { body } = await readiness(mesh.nodes[0]!.url);
    assert.equal(body.ready, false);
    assert.equal(body.checks.discovery, 'ok');
    assert.match(body.checks.log!, /^down: /);
  });
});
