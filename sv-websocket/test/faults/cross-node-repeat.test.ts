/**
 * Kafka mode: a client whose node is SIGKILLed mid-send resends the same cid on another node, and
 * gets the original's id, seq and ts; one row is stored, and the recipient sees one id. Run with
 * sv-discover's record of sends in memory and on Redis (two instances, the nodes on different ones).
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { InternalClient } from '@chat/shared/internal-client';
import { ROUTES, type SendsReply } from '@chat/shared/internal-api';
import { startTestKafka, uniqueTopic, type TestKafka } from '@chat/shared/local-kafka';
import type { ServerFrame } from '@chat/shared/protocol';
import { TestClient } from '@chat/shared/protocol-client';
import type { SendRecord } from '@chat/shared/send-ledger';
import { eventually } from '@chat/shared/testing/eventually';
import { startService, type ServiceProcess } from '@chat/shared/testing/processes';
import { startTestRedis } from '@chat/shared/testing/redis';
import { metricValue } from '../helpers/faults.ts';
import { clientsOf, startMesh, TEST_SECRET, uniqueUser, type Mesh } from '../helpers/mesh.ts';
import { expectStoredExactlyOnce } from '../helpers/stored.ts';

const PARTITIONS = 3;
/**
 * Long enough for the persister to store a first copy even on a loaded machine (a shorter wait
 * would write it again under its id, with another seq), short enough for the test to wait out
 * when nothing was written.
 */
const NODE = { SEND_DEDUPE_STORE_WAIT_MS: '10000', RATE_LIMIT_BURST: '1000' };
const ACK_WAIT_MS = 30_000;
const [RESEND, RECIPIENT] = [0, 1];

type Ack = Extract<ServerFrame, { type: 'ack' }>;
const identity = (a: { id: string; seq: number; ts: number }) => ({ id: a.id, seq: a.seq, ts: a.ts });

function suite(name: string, engines: () => Promise<{ redisUrl?: string; discovers: number }>) {
  describe(`faults: a cid resent on another node after a SIGKILL (Kafka mode, record of sends ${name})`, function () {
    this.timeout(120_000);
    let mesh: Mesh;
    let kafka: TestKafka;
    let internal: InternalClient;
    let victims = 0;
    const clients = clientsOf(() => mesh);

    before(async function () {
      this.timeout(180_000);
      const [k, e] = await Promise.all([startTestKafka(), engines()]);
      kafka = k;
      const topic = uniqueTopic('repeat');
      await kafka.createTopic(topic, PARTITIONS);
      mesh = await startMesh({ nodes: [NODE, NODE], ...e, kafka: { brokers: kafka.brokers, topic, partitions: PARTITIONS } });
      internal = new InternalClient({ secret: TEST_SECRET });
    });
    afterEach(async () => {
      await clients.closeAll();
    });
    after(async () => {
      await internal?.close();
      await mesh?.stop();
    });

    /** The node to kill: a fresh one each test, on the second sv-discover when there are two. */
    async function startVictim(extra: Record<string, string> = {}): Promise<{ node: ServiceProcess; connect(user: string): Promise<TestClient> }> {
      const node = await startService('sv-websocket', { ...mesh.nodeEnv(1), ...NODE, NODE_ID: `victim-${++victims}`, ...extra });
      return { node, connect: async (user) => TestClient.connect(node.url, user) };
    }

    /** Messages of `from` with `cid` that `c` received, by id. */
    const receivedIds = (c: TestClient, from: string, cid: string) =>
      c.frames.filter((f) => f.type === 'message' && f.from === from && f.cid === cid).map((f) => (f as { id: string }).id);

    /** A marker sent after everything else on `via`: once the recipient has it, anything before it has arrived too. */
    async function drain(via: TestClient, recipient: TestClient, to: string): Promise<void> {
      const marker = `marker-${randomUUID()}`;
      await via.sendMessage(to, 'marker', marker);
      await recipient.next('message', (m) => m.cid === marker, 30_000);
    }

    const dedupeCount = async (outcome: string) => (await metricValue(mesh.nodes[RESEND]!.url, `chat_send_dedupe_total{outcome="${outcome}"}`)) ?? 0;

    it('acks the resend with the id, seq and ts of the ack the dead node sent', async () => {
      const [a, b] = [uniqueUser('alice'), uniqueUser('bob')];
      const bob = await clients.connect(RECIPIENT, b);
      const victim = await startVictim();
      const first = await victim.connect(a);
      const original = await first.sendMessage(b, 'hello once', 'once-1');
      // Killed the moment the ack is read: the seq may not have reached the record yet.
      await victim.node.stop('SIGKILL');
      const before = (await dedupeCount('repeat')) + (await dedupeCount('stored'));
      const alice = await clients.connect(RESEND, a);
      alice.send({ type: 'send', to: b, body: 'hello once', cid: 'once-1' });
      const again = await alice.next('ack', (f) => f.cid === 'once-1', ACK_WAIT_MS);
      assert.deepEqual(identity(again), identity(original));
      assert.equal((await dedupeCount('repeat')) + (await dedupeCount('stored')), before + 1, 'answered by the record of sends');
      await expectStoredExactlyOnce(mesh.databaseUrl, [{ from: a, cid: 'once-1', id: original.id, seq: original.seq }]);
      await drain(alice, bob, b);
      assert.ok(receivedIds(bob, a, 'once-1').every((id) => id === original.id), 'the recipient never sees another id');
      assert.ok(receivedIds(bob, a, 'once-1').length <= 1);
    });

    it('writes a claimed message its dead node never wrote under the claimed id, once', async () => {
      if (kafka.external) throw new Error('this test stops the broker: it needs the librdkafka mock (unset KAFKA_BROKERS)');
      const [a, b] = [uniqueUser('alice'), uniqueUser('bob')];
      const bob = await clients.connect(RECIPIENT, b);
      const victim = await startVictim({ KAFKA_SEND_TIMEOUT_MS: '60000' });
      const first = await victim.connect(a);
      await kafka.setDown(true);
      let claimed: SendRecord | null | undefined;
      try {
        first.send({ type: 'send', to: b, body: 'never written', cid: 'lost-1' });
        // The write waits on the broker only once the claim is answered.
        await eventually('the victim claimed and is writing', async () => ((await metricValue(victim.node.url, 'chat_log_backlog_seconds')) ?? 0) > 0);
        await victim.node.stop('SIGKILL');
        const probe = { from: a, cid: 'lost-1', id: randomUUID(), ts: 1 };
        claimed = (await internal.post<SendsReply>(mesh.discover.url, ROUTES.discoverSends, { settle: [], claim: [probe] })).records[0];
      } finally {
        await kafka.setDown(false);
      }
      assert.ok(claimed && claimed.seq === undefined, `the record holds the dead node's claim, without seq: ${JSON.stringify(claimed)}`);
      const rewrittenBefore = await dedupeCount('rewritten');
      const alice = await clients.connect(RESEND, a);
      alice.send({ type: 'send', to: b, body: 'never written', cid: 'lost-1' });
      const ack = await alice.next('ack', (f) => f.cid === 'lost-1', ACK_WAIT_MS);
      assert.deepEqual({ id: ack.id, ts: ack.ts }, { id: claimed.id, ts: claimed.ts });
      assert.equal(await dedupeCount('rewritten'), rewrittenBefore + 1);
      assert.equal((await bob.next('message', (m) => m.cid === 'lost-1', 30_000)).id, claimed.id, 'delivered once written');
      await expectStoredExactlyOnce(mesh.databaseUrl, [{ from: a, cid: 'lost-1', id: ack.id, seq: ack.seq }]);
      const again = await alice.sendMessage(b, 'never written', 'lost-1');
      assert.deepEqual(identity(again), identity(ack), 'a later repeat gets the same answer');
    });

    it('agrees with the store for every send in flight when the node died, whatever it had done', async () => {
      const [a, b] = [uniqueUser('alice'), uniqueUser('bob')];
      const bob = await clients.connect(RECIPIENT, b);
      const victim = await startVictim();
      const first = await victim.connect(a);
      const cids = Array.from({ length: 8 }, (_, i) => `burst-${i}`);
      for (const cid of cids) first.send({ type: 'send', to: b, body: `burst ${cid}`, cid });
      const third = await first.next('ack', (f) => f.cid === cids[2]); // some acked, some maybe not yet
      await victim.node.stop('SIGKILL');
      const ackedByVictim = new Map([third, ...first.frames.filter((f): f is Ack => f.type === 'ack')].map((f) => [f.cid, f]));
      const alice = await clients.connect(RESEND, a);
      for (const cid of cids) alice.send({ type: 'send', to: b, body: `burst ${cid}`, cid });
      const acks = await Promise.all(cids.map((cid) => alice.next('ack', (f) => f.cid === cid, ACK_WAIT_MS)));
      for (const ack of acks) {
        const earlier = ackedByVictim.get(ack.cid);
        if (earlier) assert.deepEqual(identity(ack), identity(earlier), `${ack.cid} acked alike by both nodes`);
      }
      await expectStoredExactlyOnce(mesh.databaseUrl, acks.map((k) => ({ from: a, cid: k.cid, id: k.id, seq: k.seq })));
      await drain(alice, bob, b);
      for (const ack of acks) {
        const seen = receivedIds(bob, a, ack.cid);
        assert.ok(seen.length <= 1 && seen.every((id) => id === ack.id), `${ack.cid}: the recipient saw ${JSON.stringify(seen)}, acked ${ack.id}`);
      }
    });
  });
}

suite('in memory', async () => ({ discovers: 1 }));
suite('on Redis', async () => ({ redisUrl: await startTestRedis(), discovers: 2 }));
