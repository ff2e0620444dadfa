import assert from 'node:assert/strict';
import type { Producer } from 'kafkajs';
import { startService, type ServiceProcess } from '@chat/shared/testing/processes';
import { startTestKafka, uniqueTopic, type TestKafka } from '@chat/shared/local-kafka';
import { createTestDatabase } from '@chat/shared/local-postgres';
import { signedRequest } from '@chat/shared/testing/internal-requests';
import { ROUTES } from '@chat/shared/internal-api';
import { eventually } from '@chat/shared/testing/eventually';
import { msg } from '../helpers/db.ts';
import { countRows, PARTITIONS, plainKafka, produce, storedRows, expectedSeqs, type Produced } from '../helpers/kafka.ts';

const SECRET = 'test-cluster-secret-0123456789';

describe('sv-persist process in Kafka mode', function () {
  this.timeout(90_000);
  let kafka: TestKafka;
  let producer: Producer;
  let url: string;
  let topic: string;
  const procs: ServiceProcess[] = [];

  const launch = async () => {
    const p = await startService('sv-persist', {
      DATABASE_URL: url, CLUSTER_SECRET: SECRET, KAFKA_BROKERS: kafka.brokers.join(','), KAFKA_TOPIC: topic,
      KAFKA_GROUP_ID: 'persist-main', KAFKA_SEQ_GENERATION: '1', KAFKA_SESSION_TIMEOUT_MS: '6000', KAFKA_REBALANCE_TIMEOUT_MS: '3000',
    });
    procs.push(p);
    return p;
  };
  const ready = async (p: ServiceProcess) => (await fetch(`${p.url}/readyz`)).status === 200;

  before(async () => {
    kafka = await startTestKafka();
    url = await createTestDatabase();
    topic = uniqueTopic('persist-main');
    await kafka.createTopic(topic, PARTITIONS);
    producer = plainKafka(kafka.brokers).producer();
    await producer.connect();
  });
  after(async () => {
    await Promise.all(procs.map((p) => p.stop('SIGKILL')));
    await producer?.disconnect();
  });

  it('is ready once in its group, refuses direct ingest, and loses nothing when SIGKILLed mid-stream', async () => {
    const first = await launch();
    await eventually('/readyz 200', () => ready(first), 30_000);
    const ingest = await fetch(`${first.url}${ROUTES.persistIngest}`,
      signedRequest(SECRET, 'POST', `${first.url}${ROUTES.persistIngest}`, { messages: [msg('a', 'b', 'c')] }));
    assert.equal(ingest.status, 404, 'no sequence-assigned seq mixes with offset seqs');

    const produced: Produced[] = [];
    const batch = (i: number) => Array.from({ length: 100 }, (_, j) => msg(`k${j % 7}`, `p${i % 4}`, `k${i}-${j}`));
    const producing = (async () => {
      for (let i = 0; i < 10; i++) produced.push(...await produce(producer, topic, batch(i)));
    })();
    await eventually('some rows stored', async () => (await countRows(url)) > 0);
    await first.stop('SIGKILL');
    await producing;
    const second = await launch();
    // Only the successor can store these.
    for (let i = 10; i < 20; i++) produced.push(...await produce(producer, topic, batch(i)));
    await eventually('2,000 rows', async () => (await countRows(url)) === 2000, 40_000, () => second.logs.slice(-5));
    const rows = await storedRows(url);
    const expected = expectedSeqs(produced, 1);
    assert.equal(rows.length, expected.size);
    for (const r of rows) assert.equal(r.seq, expected.get(r.id), `seq of ${r.id}`);

    await second.stop('SIGTERM');
    assert.equal(await second.exited, 0, second.logs.slice(-8).join("\n"));
    assert.ok(second.logs.some((l) => l.includes('"msg":"shutting down"')));
  });
});
