/**
 * The mesh on its distributed engines: two sv-discover instances on a real redis-server, nodes
 * producing to a Kafka-protocol broker (librdkafka's mock cluster, or KAFKA_BROKERS), and two
 * persisters sharing the topic's partitions into real Postgres. Processes are killed for real.
 */
import assert from 'node:assert/strict';
import { InternalClient } from '@chat/shared/internal-client';
import { ROUTES, type LookupReply } from '@chat/shared/internal-api';
import { startTestKafka, uniqueTopic, type TestKafka } from '@chat/shared/local-kafka';
import { startTestRedis } from '@chat/shared/testing/redis';
import type { ServiceProcess } from '@chat/shared/testing/processes';
import { eventually } from '@chat/shared/testing/eventually';
import { clientsOf, startMesh, TEST_SECRET, uniqueUser, type Mesh } from '../helpers/mesh.ts';
import { expectStoredExactlyOnce, type AckedMessage } from '../helpers/stored.ts';
import { metricValue } from '../helpers/faults.ts';

const LEASE_MS = 2000;
const PARTITIONS = 6;

/** A metric without labels from a persister's /metrics (0 when absent). */
const persistMetric = async (p: ServiceProcess, name: string) => (await metricValue(p.url, name)) ?? 0;
const rowsInsertedBy = (p: ServiceProcess) => persistMetric(p, 'chat_persist_rows_inserted_total');

describe('distributed engines: Redis discovery, Kafka log, two persisters', function () {
  this.timeout(120_000);
  let mesh: Mesh;
  let kafka: TestKafka;
  let internal: InternalClient;
  const clients = clientsOf(() => mesh);
  const connect = clients.connect;
  const acked = (from: string, a: { cid: string; id: string; seq: number }): AckedMessage => ({ from, cid: a.cid, id: a.id, seq: a.seq });

  before(async function () {
    this.timeout(180_000);
    const [redisUrl, k] = await Promise.all([startTestRedis(), startTestKafka()]);
    kafka = k;
    const topic = uniqueTopic('chat');
    await kafka.createTopic(topic, PARTITIONS);
    const node = { LEASE_MS: String(LEASE_MS), RATE_LIMIT_BURST: '1000' };
    mesh = await startMesh({
      nodes: [node, node, node],
      redisUrl,
      kafka: { brokers: kafka.brokers, topic, partitions: PARTITIONS },
      discovers: 2,
      persisters: 2,
      persistEnv: { KAFKA_SESSION_TIMEOUT_MS: '6000', KAFKA_HEARTBEAT_INTERVAL_MS: '500' },
    });
    internal = new InternalClient({ secret: TEST_SECRET });
  });
  afterEach(async () => {
    await clients.closeAll();
  });
  after(async () => {
    await internal?.close();
    await mesh?.stop();
  });

  it('delivers across nodes through Redis-backed discovery, seen by both sv-discover instances', async () => {
    const [a, b] = [uniqueUser('alice'), uniqueUser('bob')];
    const bob1 = await connect(1, b);
    const bob2 = await connect(2, b);
    const alice = await connect(0, a);
    for (const d of mesh.discovers) {
      const reply = await internal.post<LookupReply>(d.url, ROUTES.discoverLookup, { users: [b] });
      assert.deepEqual(reply.nodes[b]?.map((n) => n.nodeId).sort(), ['node-1', 'node-2']);
    }
    const ack = await alice.sendMessage(b, 'through redis and kafka', 'd-1');
    for (const c of [bob1, bob2]) assert.equal((await c.next('message', (m) => m.id === ack.id)).seq, ack.seq);
  });

  it('stores every acked message exactly once, with both persisters taking part', async () => {
    const users = Array.from({ length: 6 }, (_, i) => uniqueUser(`u${i}`));
    const senders = await Promise.all(users.map((u, i) => connect(i % 3, u)));
    const expected: AckedMessage[] = [];
    await Promise.all(senders.map(async (c, i) => {
      for (let k = 0; k < 60; k++) c.send({ type: 'send', to: users[(i + 1 + (k % 5)) % users.length], body: `load ${k}`, cid: `ld-${k}` });
      for (let k = 0; k < 60; k++) expected.push(acked(users[i]!, await c.next('ack', (f) => f.cid === `ld-${k}`)));
    }));
    await expectStoredExactlyOnce(mesh.databaseUrl, expected);
    const perPersister = await Promise.all(mesh.persisters.map(rowsInsertedBy));
    const consumerLogs = () => mesh.persisters.map((p) => p.logs.filter((l) => /consumer|kafkajs/.test(l)).slice(-6).join('\n')).join('\n---\n');
    assert.ok(perPersister.every((n) => n > 0), `each persister inserted rows: ${perPersister}\n${consumerLogs()}`);
    for (const p of mesh.persisters) {
      // Each insert statement is observed: at least as many rows went through statements as were new.
      assert.ok(await persistMetric(p, 'chat_persist_batch_size_count') > 0, 'insert statements are counted');
      assert.ok(await persistMetric(p, 'chat_persist_batch_size_sum') >= await rowsInsertedBy(p), 'their rows are summed');
    }
  });

  it('keeps seq strictly increasing per conversation, whichever node each message went through', async () => {
    const [a, b] = [uniqueUser('alice'), uniqueUser('bob')];
    const alice = await connect(0, a);
    const bob = await connect(1, b);
    const seqs: number[] = [];
    for (let i = 0; i < 10; i++) {
      const who = i % 2 === 0 ? alice : bob;
      seqs.push((await who.sendMessage(i % 2 === 0 ? b : a, `turn ${i}`, `t-${i}`)).seq);
    }
    for (let i = 1; i < seqs.length; i++) assert.ok(seqs[i]! > seqs[i - 1]!, `seq ${i} increases`);
  });

  it('drops a SIGKILLed node from lookups within its lease; its users reconnect elsewhere', async () => {
    const [a, c] = [uniqueUser('alice'), uniqueUser('carol')];
    await connect(2, c);
    const alice = await connect(1, a);
    await mesh.nodes[2]!.stop('SIGKILL');
    await eventually('node-2 gone from discovery', async () => {
      const reply = await internal.post<LookupReply>(mesh.discovers[1]!.url, ROUTES.discoverLookup, { users: [c] });
      return !reply.nodes[c];
    }, 3 * LEASE_MS);
    const carol = await connect(0, c);
    const ack = await alice.sendMessage(c, 'you moved', 'mv-1');
    assert.equal((await carol.next('message', (m) => m.id === ack.id)).body, 'you moved');
  });

  it('loses and duplicates nothing when a persister is SIGKILLed mid-stream', async () => {
    // 16 conversations, so every partition (and so each persister) has some of the stream.
    const a = uniqueUser('alice');
    const peers = Array.from({ length: 16 }, (_, i) => uniqueUser(`peer${i}`));
    const alice = await connect(0, a);
    const expected: AckedMessage[] = [];
    for (let k = 0; k < 400; k++) alice.send({ type: 'send', to: peers[k % peers.length], body: `stream ${k}`, cid: `st-${k}` });
    for (let k = 0; k < 400; k++) {
      if (k === 150) await mesh.persisters[1]!.stop('SIGKILL');
      expected.push(acked(a, await alice.next('ack', (f) => f.cid === `st-${k}`)));
    }
    assert.equal(mesh.persisters[1]!.child.signalCode, 'SIGKILL', 'the persister really died');
    await expectStoredExactlyOnce(mesh.databaseUrl, expected, 90_000);
  });

  it('answers unavailable while the broker is down, acks nothing unwritten, and recovers without a restart', async function () {
    if (kafka.external) throw new Error('this test stops the broker: it needs the librdkafka mock (unset KAFKA_BROKERS)');
    const [a, b] = [uniqueUser('alice'), uniqueUser('bob')];
    const alice = await connect(0, a);
    const before = await alice.sendMessage(b, 'before the outage', 'out-0');
    await kafka.setDown(true);
    const refused: string[] = [];
    const ackedDuring: AckedMessage[] = [];
    try {
      for (let k = 1; k <= 3; k++) alice.send({ type: 'send', to: b, body: `during ${k}`, cid: `out-${k}` });
      for (let k = 1; k <= 3; k++) {
        const frame = await alice.nextWhere((f) => (f.type === 'error' || f.type === 'ack') && f.cid === `out-${k}`, `answer to out-${k}`, 30_000);
        if (frame.type === 'error') { assert.equal(frame.code, 'unavailable'); refused.push(frame.cid!); }
        else if (frame.type === 'ack') ackedDuring.push(acked(a, frame));
      }
    } finally {
      await kafka.setDown(false);
    }
    assert.equal(refused.length, 3, 'every send during the outage was refused');
    // Recovery: retrying the same cids is accepted, and everything acked is stored exactly once.
    const after: AckedMessage[] = [acked(a, before)];
    for (const cid of refused) after.push(acked(a, await alice.sendMessage(b, 'retried', cid)));
    await expectStoredExactlyOnce(mesh.databaseUrl, [...after, ...ackedDuring], 90_000);
  });
});
