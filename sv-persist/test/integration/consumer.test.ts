import assert from 'node:assert/strict';
import { conversationKey, roomAddress } from '@chat/shared/types';
import type { Admin, Producer } from 'kafkajs';
import { seqFromOffset } from '@chat/shared/kafka-log';
import { startTestKafka, uniqueTopic, type TestKafka } from '@chat/shared/local-kafka';
import { withPg } from '@chat/shared/local-postgres';
import type { NewMessage } from '@chat/shared/types';
import { eventually } from '@chat/shared/testing/eventually';
import { SequelizeMessageStore } from '../../src/store-sequelize.ts';
import { createMigratedDatabase, msg } from '../helpers/db.ts';
import {
  countRows, expectedSeqs, PARTITIONS, plainKafka, produce, storedRows, testConsumer,
  type Produced, type TestConsumer,
} from '../helpers/kafka.ts';

/** `n` messages over 50 conversations (so every partition gets some), cids unique per `tag`. */
function messages(n: number, tag: string): NewMessage[] {
  return Array.from({ length: n }, (_, i) => msg(`u${i % 10}`, `v${Math.floor(i / 10) % 5}`, `${tag}-${i}`));
}

describe('Kafka consumer (sv-persist, Kafka mode)', function () {
  this.timeout(60_000);
  let kafka: TestKafka;
  let url: string;
  let store: SequelizeMessageStore;
  let producer: Producer;
  let admin: Admin;
  let topic: string;
  const running: TestConsumer[] = [];

  const start = async (groupId: string, seqGeneration = 0): Promise<TestConsumer> => {
    const c = testConsumer(kafka.brokers, store, { topic, groupId, seqGeneration });
    running.push(c);
    await c.consumer.start();
    return c;
  };

  /** Rows equal the produced messages exactly: each id once, seq from its offset. */
  const assertStoredExactly = async (produced: Produced[], generation: number) => {
    const rows = await storedRows(url);
    const expected = expectedSeqs(produced, generation);
    assert.equal(rows.length, expected.size, 'row count');
    const got = new Map(rows.map((r) => [r.id, r.seq]));
    assert.equal(got.size, rows.length, 'each id once');
    for (const [id, seq] of expected) assert.equal(got.get(id), seq, `seq of ${id}`);
  };

  /** Committed offset per partition of `groupId` (-1 when none). */
  const committed = async (groupId: string) => {
    const [t] = await admin.fetchOffsets({ groupId, topics: [topic] });
    return new Map(t!.partitions.map((p) => [p.partition, Number(p.offset)]));
  };

  before(async () => {
    kafka = await startTestKafka();
    url = await createMigratedDatabase();
    const client = plainKafka(kafka.brokers);
    producer = client.producer();
    admin = client.admin();
    await Promise.all([producer.connect(), admin.connect()]);
  });
  after(async () => {
    await producer?.disconnect();
    await admin?.disconnect();
  });
  beforeEach(async () => {
    topic = uniqueTopic('persist');
    await kafka.createTopic(topic, PARTITIONS);
    await withPg(url, (q) => q('TRUNCATE messages, conversations'));
    store = SequelizeMessageStore.connect(url);
  });
  afterEach(async () => {
    await Promise.all(running.splice(0).map((c) => c.consumer.stop()));
    await store.close();
  });

  it('stores every record once with seq = seqFromOffset(generation, offset); skips undecodable records; replays add nothing', async () => {
    const generation = 3;
    const a = await start('g-main', generation);
    const produced = await produce(producer, topic, messages(600, 'm'));
    assert.equal(new Set(produced.map((p) => p.partition)).size, PARTITIONS, 'the test spreads over every partition');
    const junk = await producer.send({ topic, acks: -1, messages: [
      { key: 'x', value: 'not json', partition: 2 },
      { key: 'y', value: JSON.stringify({ id: 'i', from: 'a' }), partition: 4 },
    ] });
    await eventually('602 records consumed', () => a.consumer.stats.records === 602, 20_000, () => a.consumer.stats);
    await assertStoredExactly(produced, generation);
    assert.equal(a.consumer.stats.undecodable, 2);
    const warned = a.records.filter((r) => r.msg === 'undecodable record skipped').map((r) => [r.topic, r.partition, r.offset]);
    assert.deepEqual(warned.sort(), junk.map((j) => [topic, j.partition, j.baseOffset]).sort());

    // The head of each conversation is its highest seq.
    const heads = await withPg(url, (q) => q<{ conv: string; last_seq: string }>('SELECT conv, last_seq FROM conversations'));
    const last = new Map<string, number>();
    for (const p of produced) {
      const conv = conversationKey(p.msg.from, p.msg.to);
      last.set(conv, Math.max(last.get(conv) ?? -1, seqFromOffset(generation, p.offset)));
    }
    assert.deepEqual(new Map(heads.map((h) => [h.conv, Number(h.last_seq)])), last);

    // A retried send produced twice (same from and cid, new id and offset): the first row stays.
    const original = produced[7]!.msg;
    await produce(producer, topic, [{ ...msg(original.from, original.to, original.cid, 'second copy') }]);
    await eventually('the retried send consumed', () => a.consumer.stats.records === 603);
    assert.equal(a.consumer.stats.duplicates, 1);
    await assertStoredExactly(produced, generation);
    assert.equal((await storedRows(url)).find((r) => r.id === original.id)!.body, original.body);

    // A new group replays the topic from the beginning: nothing new, nothing fails.
    const b = await start('g-replay', generation);
    await eventually('the replay consumed everything', () => b.consumer.stats.records === 603, 20_000, () => b.consumer.stats);
    const { lagMs: _lag, ...counts } = b.consumer.stats;
    assert.deepEqual(counts, { records: 603, inserted: 0, duplicates: 601, undecodable: 2, regressions: 0, collisions: 0, insertFailures: 0 });
    await assertStoredExactly(produced, generation);
  });

  it('stores a room\'s messages under its address, all in one partition, seq increasing per room in offset order', async () => {
    const a = await start('g-rooms');
    const rooms = ['r-one', 'r-two', 'r-three'].map(roomAddress);
    const produced = await produce(producer, topic, Array.from({ length: 90 }, (_, i) => msg(`u${i % 7}`, rooms[i % 3]!, `room-${i}`)));
    await eventually('90 records consumed', () => a.consumer.stats.records === 90, 20_000, () => a.consumer.stats);
    await assertStoredExactly(produced, 0);
    for (const room of rooms) {
      const mine = produced.filter((p) => p.msg.to === room);
      assert.equal(new Set(mine.map((p) => p.partition)).size, 1, `${room}: one partition`);
      const rows = await withPg(url, (q) => q<{ cid: string; seq: string; recipient: string }>(
        'SELECT cid, seq, recipient FROM messages WHERE conv = $1 ORDER BY seq', [room]));
      assert.deepEqual(rows.map((r) => [r.cid, Number(r.seq), r.recipient]), mine.map((p) => [p.msg.cid, p.offset, room]), `${room}: in offset order`);
    }
  });

  it('drains a backlog many times larger than one fetch (KAFKA_MAX_BYTES) exactly once', async () => {
    const produced = await produce(producer, topic, messages(1200, 'small-fetch'));
    // 1 KiB a fetch: a handful of records each, so the backlog takes a long run of fetches.
    const c = testConsumer(kafka.brokers, store, { topic, groupId: 'g-small-fetch', seqGeneration: 0, maxBytes: 1024 });
    running.push(c);
    await c.consumer.start();
    await eventually('1,200 records consumed', () => c.consumer.stats.records === 1200, 30_000, () => c.consumer.stats);
    await assertStoredExactly(produced, 0);
    assert.equal(c.consumer.stats.inserted, 1200);
  });

  it('two consumers of one group share the partitions and store 2,400 records exactly once', async () => {
    const a = await start('g-shared');
    const b = await start('g-shared');
    await eventually('both consumers hold partitions', () => {
      const [x, y] = [a.consumer.assignment, b.consumer.assignment];
      return x.length > 0 && y.length > 0 && x.length + y.length === PARTITIONS && new Set([...x, ...y]).size === PARTITIONS;
    }, 30_000, () => [a.consumer.assignment, b.consumer.assignment]);
    const produced: Produced[] = [];
    for (let i = 0; i < 6; i++) produced.push(...await produce(producer, topic, messages(400, `s${i}`)));
    await eventually('2,400 rows', async () => (await countRows(url)) === 2400, 30_000);
    await assertStoredExactly(produced, 0);
    assert.ok(a.consumer.stats.inserted > 0, `first consumer inserted ${a.consumer.stats.inserted}`);
    assert.ok(b.consumer.stats.inserted > 0, `second consumer inserted ${b.consumer.stats.inserted}`);
    assert.equal(a.consumer.stats.inserted + b.consumer.stats.inserted, 2400);
    assert.equal(a.consumer.stats.duplicates + b.consumer.stats.duplicates, 0);
  });

  it('a consumer stopped mid-stream hands over to another: nothing lost, nothing stored twice', async () => {
    const a = await start('g-handover');
    const produced: Produced[] = [];
    // Producing goes on until the first consumer has stopped, and for five batches after.
    let stopped = false;
    const producing = (async () => {
      for (let i = 0, after = 0; after < 5; i++) {
        produced.push(...await produce(producer, topic, messages(100, `h${i}`)));
        if (stopped) after++;
      }
    })();
    await eventually('the first consumer stored some rows', async () => (await countRows(url)) >= 300);
    await a.consumer.stop();
    stopped = true;
    const stoppedAt = await countRows(url);
    const b = await start('g-handover');
    await producing;
    const total = produced.length;
    await eventually(`${total} rows`, async () => (await countRows(url)) === total, 30_000, () => [a.consumer.stats, b.consumer.stats]);
    await assertStoredExactly(produced, 0);
    assert.ok(stoppedAt < total, 'stopped before the end of the stream');
    assert.equal(a.consumer.stats.inserted, stoppedAt, 'nothing stored after stop');
    assert.equal(b.consumer.stats.inserted, total - stoppedAt);
    // The stop committed exactly what was stored: the successor re-read none of it.
    assert.equal(b.consumer.stats.duplicates, 0);
  });

  it('retries the same records while the database fails, commits no offset until they are stored', async () => {
    const a = await start('g-dberror');
    const first = await produce(producer, topic, messages(300, 'before'));
    await eventually('300 rows', async () => (await countRows(url)) === 300);
    await eventually('offsets of the first 300 committed', async () => {
      const c = await committed('g-dberror');
      return first.every((p) => (c.get(p.partition) ?? -1) > p.offset);
    });
    const before = await committed('g-dberror');

    await withPg(url, (q) => q('ALTER TABLE messages RENAME TO messages_parked'));
    let restored = false;
    try {
      const second = await produce(producer, topic, messages(300, 'during'));
      const failureLines = () => a.records.filter((r) => r.msg === 'insert failed, retrying the same records');
      await eventually('repeated failed attempts', () => a.consumer.stats.insertFailures >= 6 && failureLines().some((f) => (f.attempt as number) >= 2), 20_000, () => a.consumer.stats);
      assert.deepEqual(await committed('g-dberror'), before, 'no offset moved while nothing could be stored');
      // Each retry is of the same records: per partition, the attempts count up on one first offset.
      const failures = failureLines();
      const byPartition = new Map<number, Set<string>>();
      for (const f of failures) {
        const set = byPartition.get(f.partition as number) ?? new Set();
        set.add(String(f.firstOffset));
        byPartition.set(f.partition as number, set);
      }
      for (const [partition, offsets] of byPartition) {
        const expected = before.get(partition);
        assert.deepEqual([...offsets], [String(expected)], `partition ${partition} retried from its committed offset`);
      }
      assert.ok(failures.some((f) => (f.attempt as number) >= 2), 'some batch was attempted again');

      await withPg(url, (q) => q('ALTER TABLE messages_parked RENAME TO messages'));
      restored = true;
      await eventually('600 rows after recovery', async () => (await countRows(url)) === 600, 20_000, () => a.consumer.stats);
      await assertStoredExactly([...first, ...second], 0);
      await eventually('offsets committed up to the end', async () => {
        const c = await committed('g-dberror');
        return [...first, ...second].every((p) => (c.get(p.partition) ?? -1) > p.offset);
      });
      assert.equal(a.consumer.stats.inserted, 600);
    } finally {
      if (!restored) await withPg(url, (q) => q('ALTER TABLE IF EXISTS messages_parked RENAME TO messages'));
    }
  });
});
