/**
 * Postgres stopped and started again (same port, same data), on a private embedded Postgres the
 * test owns. Kafka mode: nodes keep acking while the log holds the messages, the persister retries
 * and resumes, and everything acked lands exactly once. Direct mode: sends during the outage are
 * refused with `unavailable` (never acked), and the same cids succeed afterwards.
 */
import assert from 'node:assert/strict';
import { startTestKafka, uniqueTopic } from '@chat/shared/local-kafka';
import { startPrivatePostgres, type PrivatePostgres } from '@chat/shared/testing/private-postgres';
import { eventually } from '@chat/shared/testing/eventually';
import { meshesPerTest, uniqueUser } from '../helpers/mesh.ts';
import { expectStoredExactlyOnce, type AckedMessage } from '../helpers/stored.ts';

const NODE = { RATE_LIMIT_BURST: '1000' };

describe('faults: Postgres stopped and restarted', function () {
  this.timeout(120_000);
  let pg: PrivatePostgres;
  const perTest = meshesPerTest();
  const { meshes, connect } = perTest;

  before(async function () {
    this.timeout(120_000);
    pg = await startPrivatePostgres();
  });
  afterEach(async function () {
    if (this.currentTest?.state === 'failed') {
      for (const m of meshes) process.stderr.write(`sv-persist log tail:\n${m.persist.logs.slice(-40).join('\n')}\n`);
    }
    await perTest.stopAll();
  });

  it('Kafka mode: keeps acking during the outage; the persister retries, resumes, stores each once', async function () {
    this.timeout(180_000);
    const kafka = await startTestKafka();
    const topic = uniqueTopic('pg-fault');
    await kafka.createTopic(topic, 6);
    const mesh = await perTest.launch({ nodes: [NODE, NODE], kafka: { brokers: kafka.brokers, topic, partitions: 6 }, databaseUrl: await pg.createDatabase() });
    const users = Array.from({ length: 4 }, (_, i) => uniqueUser(`pgk${i}`));
    const senders = await Promise.all(users.map((u, i) => connect(mesh, i % 2, u)));
    const acked: AckedMessage[] = [];
    let stopped = false;
    let loadDone = false;
    let ackedDuringOutage = 0;
    // Open-ended load: each sender keeps going until the test has seen acks during the outage, so
    // the outcome never depends on how long `pg.stop()` takes on the machine.
    const load = Promise.all(senders.map(async (c, i) => {
      for (let k = 0; !loadDone; k++) {
        const ack = await c.sendMessage(users[(i + 1 + (k % 3)) % users.length]!, `m ${k}`, `pk-${k}`);
        acked.push({ from: users[i]!, cid: ack.cid, id: ack.id, seq: ack.seq });
        if (stopped) ackedDuringOutage++;
        // Paces the load on purpose: it has to keep acks coming, not flood the node.
        await new Promise((r) => setTimeout(r, 5));
      }
    }));
    try {
      await eventually('some load acked', () => acked.length >= 40);
      await pg.stop();
      stopped = true;
      await eventually('sends acked while Postgres is down', () => ackedDuringOutage >= 40, 30_000);
      await eventually('the persister noticed the outage', () => mesh.persist.logs.some((l) => l.includes('insert failed, retrying')));
    } finally {
      loadDone = true;
      await load;
      if (stopped) await pg.start();
      stopped = false;
    }
    await expectStoredExactlyOnce(mesh.databaseUrl, acked, 90_000);
    assert.equal(mesh.persist.child.exitCode, null, 'the persister rode out the outage without exiting');
  });

  it('direct mode: refuses sends with unavailable during the outage, accepts the same cids after', async () => {
    const mesh = await perTest.launch({ nodes: [NODE], databaseUrl: await pg.createDatabase() });
    const [a, b] = [uniqueUser('alice'), uniqueUser('bob')];
    const alice = await connect(mesh, 0, a);
    const first = await alice.sendMessage(b, 'before', 'pd-0');
    await pg.stop();
    const refused: string[] = [];
    try {
      for (let k = 1; k <= 5; k++) alice.send({ type: 'send', to: b, body: `during ${k}`, cid: `pd-${k}` });
      for (let k = 1; k <= 5; k++) {
        const f = await alice.nextWhere((x) => (x.type === 'ack' || x.type === 'error') && x.cid === `pd-${k}`, `answer to pd-${k}`, 30_000);
        assert.equal(f.type, 'error', `pd-${k} was not acked while Postgres was down`);
        if (f.type === 'error') assert.equal(f.code, 'unavailable');
        refused.push(`pd-${k}`);
      }
    } finally {
      await pg.start();
    }
    const acked: AckedMessage[] = [{ from: a, cid: first.cid, id: first.id, seq: first.seq }];
    // Retrying the same cids: the pool reconnects on its own (nothing restarted), each is stored once.
    await eventually('sends accepted again', async () => {
      alice.send({ type: 'send', to: b, body: 'retry', cid: refused[0] });
      const f = await alice.nextWhere((x) => (x.type === 'ack' || x.type === 'error') && x.cid === refused[0], 'answer', 10_000);
      return f.type === 'ack';
    }, 60_000);
    for (const cid of refused) {
      const ack = await alice.sendMessage(b, 'retry', cid);
      acked.push({ from: a, cid, id: ack.id, seq: ack.seq });
    }
    assert.ok(acked.slice(1).every((x) => x.seq > first.seq), 'seq keeps increasing across the restart');
    await expectStoredExactlyOnce(mesh.databaseUrl, acked);
  });
});
