/**
 * Persister failover in Kafka mode, with the default group timings: a persister stopped with
 * SIGTERM leaves its group (kafkajs sends LeaveGroup), and one killed with SIGKILL is replaced as
 * soon as its session times out, so a successor stores new records within seconds instead of half
 * a minute. (librdkafka's mock broker, unlike a real one, holds a successor's join for the session
 * timeout even after a LeaveGroup, so here both signals are bounded by the session timeout.)
 */
import assert from 'node:assert/strict';
import type { Producer } from 'kafkajs';
import { startService, type ServiceProcess } from '@chat/shared/testing/processes';
import { startTestKafka, uniqueTopic, type TestKafka } from '@chat/shared/local-kafka';
import { createTestDatabase } from '@chat/shared/local-postgres';
import { msg } from '../helpers/db.ts';
import { eventually } from '@chat/shared/testing/eventually';
import { countRows, PARTITIONS, plainKafka, produce } from '../helpers/kafka.ts';

const SECRET = 'test-cluster-secret-0123456789';
/** Above the default session timeout (6 s) plus a join, well below the former default's 30 s. */
const RESUME_BOUND_MS = 15_000;

describe('sv-persist failover in Kafka mode (default group timings)', function () {
  this.timeout(120_000);
  let kafka: TestKafka;
  let producer: Producer;

  before(async () => {
    kafka = await startTestKafka();
    producer = plainKafka(kafka.brokers).producer();
    await producer.connect();
  });
  after(async () => {
    await producer?.disconnect();
  });

  const launch = (url: string, topic: string): Promise<ServiceProcess> => startService('sv-persist', {
    DATABASE_URL: url, CLUSTER_SECRET: SECRET, KAFKA_BROKERS: kafka.brokers.join(','), KAFKA_TOPIC: topic,
    KAFKA_GROUP_ID: `group-${topic}`, KAFKA_SEQ_GENERATION: '1',
  });

  async function persister(url: string, topic: string): Promise<ServiceProcess> {
    const p = await launch(url, topic);
    await eventually('the persister in its group', async () => (await fetch(`${p.url}/readyz`)).status === 200, 30_000);
    return p;
  }

  async function storesAgainAfter(signal: NodeJS.Signals): Promise<void> {
    const url = await createTestDatabase();
    const topic = uniqueTopic(`failover-${signal.toLowerCase()}`);
    await kafka.createTopic(topic, PARTITIONS);
    const first = await persister(url, topic);
    await produce(producer, topic, [msg('a', 'b', 'before')]);
    await eventually('the first record stored', async () => (await countRows(url)) === 1);

    await first.stop(signal);
    const successor = await launch(url, topic);
    // One record per partition's worth of keys, so whichever partitions the successor gets, it must get them all.
    await produce(producer, topic, Array.from({ length: 24 }, (_, i) => msg(`u${i}`, `v${i}`, `after-${i}`)));
    await eventually(`every record stored by the successor within ${RESUME_BOUND_MS} ms of the ${signal}`,
      async () => (await countRows(url)) === 25, RESUME_BOUND_MS, () => successor.logs.slice(-5));
    assert.equal(await countRows(url), 25);
    await successor.stop('SIGTERM');
  }

  it('a successor stores new records soon after the persister is stopped (SIGTERM: it leaves its group)', async () => {
    await storesAgainAfter('SIGTERM');
  });

  it('a successor stores new records soon after the persister crashes (SIGKILL: its session times out)', async () => {
    await storesAgainAfter('SIGKILL');
  });
});
