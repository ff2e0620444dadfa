/**
 * SIGTERM is graceful for every service: a node stops accepting, closes its clients with 1001,
 * flushes its log and forwards, deregisters at once (not after its lease) and exits 0; sv-persist
 * stores and commits what it consumed and exits 0; sv-discover exits 0.
 */
import assert from 'node:assert/strict';
import { Kafka, logLevel } from 'kafkajs';
import { startTestKafka, uniqueTopic } from '@chat/shared/local-kafka';
import { startService } from '@chat/shared/testing/processes';
import { meshesPerTest, uniqueUser } from '../helpers/mesh.ts';
import { expectStoredExactlyOnce, type AckedMessage } from '../helpers/stored.ts';
import { DiscoveryProbe, exitCodeOf } from '../helpers/faults.ts';

// A lease far longer than the test: only deregistration can drop the node from lookups in time.
const NODE = { LEASE_MS: '60000', RATE_LIMIT_BURST: '1000' };

describe('faults: SIGTERM is graceful', function () {
  this.timeout(120_000);
  const perTest = meshesPerTest();
  const { connect } = perTest;
  afterEach(async () => {
    await perTest.stopAll();
  });

  it('a node closes clients with 1001, delivers what it acked, deregisters at once and exits 0; sv-discover exits 0', async function () {
    this.timeout(180_000);
    const mesh = await perTest.launch({ nodes: [NODE, NODE] });
    const probe = new DiscoveryProbe(() => mesh.discover.url);
    try {
      const [a, b] = [uniqueUser('alice'), uniqueUser('bob')];
      const alice = await connect(mesh, 1, a);
      const bob = await connect(mesh, 0, b);
      assert.deepEqual(await probe.nodesOf(b), ['node-0']);
      const n = 100;
      for (let k = 0; k < n; k++) bob.send({ type: 'send', to: a, body: `bye ${k}`, cid: `g-${k}` });
      const first = await bob.next('ack', (f) => f.cid === 'g-0'); // load is flowing when the signal lands
      const node = mesh.nodes[0]!;
      node.child.kill('SIGTERM');
      const closed = await bob.closed;
      assert.equal(closed.code, 1001, 'clients are told to reconnect elsewhere');
      assert.equal(await exitCodeOf(node), 0);
      assert.deepEqual(await probe.nodesOf(b), [], 'deregistered on exit, not after the 60 s lease');
      assert.ok(node.logs.some((l) => l.includes('"msg":"stopped"')), 'it went through the whole shutdown');

      const acked: AckedMessage[] = bob.frames.flatMap((f) => (f.type === 'ack' ? [{ from: b, cid: f.cid, id: f.id, seq: f.seq }] : []));
      acked.push({ from: b, cid: first.cid, id: first.id, seq: first.seq });
      await expectStoredExactlyOnce(mesh.databaseUrl, acked);
      // Forwards were flushed before exit: alice got every message bob saw acked.
      for (const x of acked) await alice.next('message', (m) => m.id === x.id, 5000);

      const discover = mesh.discover;
      discover.child.kill('SIGTERM');
      assert.equal(await exitCodeOf(discover), 0, 'sv-discover exits 0');
    } finally {
      await probe.close();
    }
  });

  it('sv-persist (Kafka mode) commits what it stored, exits 0, and a successor stores the rest once', async function () {
    this.timeout(180_000);
    const kafka = await startTestKafka();
    const topic = uniqueTopic('term');
    await kafka.createTopic(topic, 6);
    const mesh = await perTest.launch({ nodes: [NODE], kafka: { brokers: kafka.brokers, topic, partitions: 6 } });
    const a = uniqueUser('alice');
    const peers = Array.from({ length: 12 }, (_, i) => uniqueUser(`tp${i}`));
    const alice = await connect(mesh, 0, a);
    const acked: AckedMessage[] = [];
    for (let k = 0; k < 200; k++) alice.send({ type: 'send', to: peers[k % peers.length], body: `t ${k}`, cid: `t-${k}` });
    for (let k = 0; k < 200; k++) {
      const ack = await alice.next('ack', (f) => f.cid === `t-${k}`);
      acked.push({ from: a, cid: ack.cid, id: ack.id, seq: ack.seq });
    }
    await expectStoredExactlyOnce(mesh.databaseUrl, acked);
    // More load, then SIGTERM while it is being consumed.
    for (let k = 200; k < 400; k++) alice.send({ type: 'send', to: peers[k % peers.length], body: `t ${k}`, cid: `t-${k}` });
    const first = await alice.next('ack', (f) => f.cid === 't-200');
    acked.push({ from: a, cid: first.cid, id: first.id, seq: first.seq });
    const persister = mesh.persist;
    persister.child.kill('SIGTERM');
    for (let k = 201; k < 400; k++) {
      const ack = await alice.next('ack', (f) => f.cid === `t-${k}`);
      acked.push({ from: a, cid: ack.cid, id: ack.id, seq: ack.seq });
    }
    assert.equal(await exitCodeOf(persister), 0, 'sv-persist exits 0');

    // What it stored, it committed: the group's offsets never point below the first 200 records.
    const admin = new Kafka({ brokers: kafka.brokers, logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    try {
      const groupId = mesh.persistEnv().KAFKA_GROUP_ID!;
      const [committed] = await admin.fetchOffsets({ groupId, topics: [topic] });
      const total = committed!.partitions.reduce((s, p) => s + Math.max(0, Number(p.offset)), 0);
      assert.ok(total >= 200, `committed ${total} offsets, at least the 200 stored before SIGTERM`);
    } finally {
      await admin.disconnect();
    }
    const successor = await startService('sv-persist', mesh.persistEnv(), { timeoutMs: 120_000 });
    mesh.persisters[0] = successor;
    await expectStoredExactlyOnce(mesh.databaseUrl, acked, 90_000);
  });
});
