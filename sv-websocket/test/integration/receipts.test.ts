/**
 * Typing indicators, read receipts and unread counts on a mesh of real processes (three nodes,
 * one forwarding over HTTP, the others over the forward stream; sv-persist on real Postgres), in
 * both log modes: direct (the ingest stream) and Kafka (librdkafka's mock cluster, or
 * KAFKA_BROKERS). Read marks are stored by sv-persist in either mode, so a persister restart
 * keeps them.
 */
import assert from 'node:assert/strict';
import { request } from 'undici';
import { startTestKafka, uniqueTopic } from '@chat/shared/local-kafka';
import type { ConversationItem, ServerFrame } from '@chat/shared/protocol';
import type { TestClient } from '@chat/shared/protocol-client';
import { eventually } from '@chat/shared/testing/eventually';
import { startService } from '@chat/shared/testing/processes';
import { clientsOf, startMesh, uniqueUser, type KafkaEngine, type Mesh } from '../helpers/mesh.ts';

const PARTITIONS = 3;
/** The typing throttle's window (docs/protocol.md), and a margin past it. */
const PAST_TYPING_WINDOW_MS = 2000 + 150;

const unconsumed = (c: TestClient, type: ServerFrame['type']) => c.frames.filter((f) => f.type === type);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Everything a connection got over `from`'s path up to now: `from` sends `to` a message, and once
 * `to` (and `others`) have it, every frame `from`'s node sent them before it has arrived too (one
 * path keeps order).
 */
async function fence(from: TestClient, fromUser: string, to: TestClient, toUser: string, cid: string, others: TestClient[] = []): Promise<void> {
  const ack = await from.sendMessage(toUser, `fence ${cid}`, cid);
  for (const c of [to, ...others]) await c.next('message', (m) => m.id === ack.id);
  assert.equal(unconsumed(from, 'error').length, 0, `${fromUser} was refused nothing`);
}

for (const mode of ['direct', 'kafka'] as const) {
  describe(`typing, read receipts and unread counts (${mode} mode)`, function () {
    this.timeout(120_000);
    let mesh: Mesh;
    const clients = clientsOf(() => mesh);
    const connect = clients.connect;

    before(async function () {
      this.timeout(180_000);
      let kafka: KafkaEngine | undefined;
      if (mode === 'kafka') {
        const broker = await startTestKafka();
        const topic = uniqueTopic('receipts');
        await broker.createTopic(topic, PARTITIONS);
        kafka = { brokers: broker.brokers, topic, partitions: PARTITIONS };
      }
      const node = { RATE_LIMIT_BURST: '1000' };
      // Node 2 forwards over HTTP: events travel both transports.
      mesh = await startMesh({ nodes: [node, node, { ...node, FORWARD_TRANSPORT: 'http' }], kafka });
    });
    afterEach(async () => {
      await clients.closeAll();
    });
    after(async () => {
      await mesh?.stop();
    });

    /** The user's conversation with `peer`, once sv-persist stored what `ready` waits for (Kafka mode lags the ack). */
    async function conversationWith(c: TestClient, peer: string, ready: (i: ConversationItem) => boolean = () => true): Promise<ConversationItem> {
      let item: ConversationItem | undefined;
      await eventually(`the conversation with ${peer} as expected`, async () => {
        c.send({ type: 'conversations' });
        item = (await c.next('conversations')).items.find((i) => i.with === peer);
        return item !== undefined && ready(item);
      }, 30_000, () => item);
      return item!;
    }

    it('delivers typing to the recipient\'s connections on other nodes as {type, from}, from the connection\'s user, and answers nothing', async () => {
      const [a, b] = [uniqueUser('alice'), uniqueUser('bob')];
      const bob1 = await connect(1, b);
      const bob2 = await connect(2, b);
      const aliceOther = await connect(2, a);
      const alice = await connect(0, a);
      // Identity comes from the connection: a `from` in the frame is ignored.
      alice.send({ type: 'typing', to: b, from: 'mallory' });
      for (const c of [bob1, bob2]) assert.deepEqual(await c.next('typing'), { type: 'typing', from: a });
      await fence(alice, a, bob1, b, 'ty-fence', [aliceOther]);
      assert.deepEqual(unconsumed(aliceOther, 'typing'), [], 'the sender\'s other connections are not told');
      assert.deepEqual(alice.frames.filter((f) => f.type !== 'ack'), [], 'typing is never answered');
    });

    it('lets one typing per sender and recipient through every 2 s, dropping the rest for good', async () => {
      const [a, b] = [uniqueUser('alice'), uniqueUser('bob')];
      const bob = await connect(1, b);
      const alice = await connect(0, a);
      const windowStart = Date.now();
      alice.send({ type: 'typing', to: b });
      alice.send({ type: 'typing', to: b });
      await fence(alice, a, bob, b, 'th-1');
      assert.equal(unconsumed(bob, 'typing').length, 1, 'two typings within 2 s: one delivered');
      bob.frames.length = 0;
      await sleep(windowStart + PAST_TYPING_WINDOW_MS - Date.now());
      alice.send({ type: 'typing', to: b });
      assert.deepEqual(await bob.next('typing'), { type: 'typing', from: a }, 'after 2 s the next one goes through');
      await fence(alice, a, bob, b, 'th-2');
      assert.equal(unconsumed(bob, 'typing').length, 0, 'the dropped one is never sent later');
    });

    it('counts unread messages right after sends; a read moves the mark forward only and tells the peer and the reader\'s other tabs', async () => {
      const [a, b] = [uniqueUser('alice'), uniqueUser('bob')];
      const alice = await connect(0, a);
      const aliceOther = await connect(2, a);
      const bob = await connect(1, b);
      const seqs: number[] = [];
      for (let i = 1; i <= 4; i++) seqs.push((await bob.sendMessage(a, `m${i}`, `m-${i}`)).seq);
      const [s1, s2, s3, s4] = seqs as [number, number, number, number];
      const fresh = await conversationWith(alice, b, (i) => i.last.seq === s4);
      assert.deepEqual([fresh.unread, fresh.peer_read_seq], [4, 0]);

      alice.send({ type: 'read', with: b, seq: s3, by: 'mallory' });
      const expected = { type: 'read', by: a, with: b, seq: s3 };
      assert.deepEqual(await bob.next('read'), expected, 'the peer is told');
      assert.deepEqual(await aliceOther.next('read'), expected, 'the reader\'s tab on another node is told');
      alice.send({ type: 'read', with: b, seq: s1 });
      alice.send({ type: 'read', with: b, seq: s3 });
      await fence(alice, a, bob, b, 'rd-fence', [aliceOther]);
      assert.deepEqual([unconsumed(bob, 'read'), unconsumed(aliceOther, 'read'), unconsumed(alice, 'read')], [[], [], []],
        'a read that does not move the mark is told to nobody, and the reading connection never hears of its own');

      const mine = await conversationWith(alice, b, (i) => i.unread === 1);
      assert.deepEqual([mine.unread, mine.peer_read_seq], [1, 0], 'one message above the mark; bob read nothing');
      const theirs = await conversationWith(bob, a, (i) => i.unread === 1);
      assert.deepEqual([theirs.unread, theirs.peer_read_seq], [1, s3], 'bob sees how far alice read; alice\'s fence is unread');
      assert.ok(s2 < s3 && s3 < s4);
    });

    it('keeps marks across a persister restart, and serves them on GET /v1/conversations', async () => {
      const [a, b] = [uniqueUser('alice'), uniqueUser('bob')];
      const alice = await connect(0, a);
      const bob = await connect(1, b);
      const seqs: number[] = [];
      for (let i = 1; i <= 3; i++) seqs.push((await bob.sendMessage(a, `r${i}`, `r-${i}`)).seq);
      await conversationWith(alice, b, (i) => i.last.seq === seqs[2]);
      alice.send({ type: 'read', with: b, seq: seqs[1]! });
      assert.equal((await bob.next('read')).seq, seqs[1]);

      const old = mesh.persisters[0]!;
      await old.stop();
      mesh.persisters[0] = await startService('sv-persist', { ...mesh.persistEnv(), PORT: String(old.port) }, { timeoutMs: 120_000 });
      const after = await conversationWith(alice, b);
      assert.deepEqual([after.unread, after.peer_read_seq], [1, 0], 'the mark survived the restart');
      const http = await request(`${mesh.nodes[2]!.url}/v1/conversations?user=${b}`);
      const items = (await http.body.json() as { items: ConversationItem[] }).items;
      assert.deepEqual(items.map((i) => [i.with, i.unread, i.peer_read_seq]), [[a, 0, seqs[1]]]);

      // The stored mark decides: a lower read after the restart moves nothing, a higher one does.
      const aliceElsewhere = await connect(2, a);
      aliceElsewhere.send({ type: 'read', with: b, seq: seqs[0]! });
      aliceElsewhere.send({ type: 'read', with: b, seq: seqs[2]! });
      assert.deepEqual(await bob.next('read'), { type: 'read', by: a, with: b, seq: seqs[2] }, 'the next read that moves the mark');
      await fence(aliceElsewhere, a, bob, b, 'rs-fence');
      assert.deepEqual(unconsumed(bob, 'read'), [], 'the lower one was told to nobody');
      assert.deepEqual(await alice.next('read'), { type: 'read', by: a, with: b, seq: seqs[2] }, 'the other tab is told');
      const last = await conversationWith(alice, b, (i) => i.unread === 0);
      assert.deepEqual([last.unread, last.peer_read_seq], [0, 0]);
    });
  });
}
