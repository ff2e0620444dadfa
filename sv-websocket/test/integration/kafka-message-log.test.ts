/**
 * KafkaMessageLog against the run's broker (librdkafka's mock cluster, or KAFKA_BROKERS): seq is
 * the record's offset, batches form naturally, repeats are acked from memory, an unreachable
 * broker answers `unavailable` within the send timeout, and a topic with another partition count
 * is refused.
 */
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { Partitioners, type Kafka, type Producer } from 'kafkajs';
import { errorAnswer } from '@chat/shared/errors';
import { newId } from '@chat/shared/ids';
import { partitionFor, recordKey, seqFromOffset } from '@chat/shared/kafka-log';
import { createLogger } from '@chat/shared/logger';
import { startTestKafka, uniqueTopic, type TestKafka } from '@chat/shared/local-kafka';
import { conversationKey, type Accepted, type NewMessage } from '@chat/shared/types';
import { createKafka } from '@chat/shared/kafka-client';
import { KafkaMessageLog, type KafkaLogOptions, type LogProducer } from '../../src/message-log-kafka.ts';
import { RecentSendsLog } from '../../src/recent-sends.ts';
import { consumeRecords, countRecords } from '../helpers/kafka.ts';

const PARTITIONS = 6;
const GENERATION = 3;

/** A pino logger whose records the test can read. */
function capturedLogger() {
  const records: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString().split('\n')) if (line) records.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  return { logger: createLogger({ service: 'test', level: 'warn', destination }), records };
}

/** A producer that counts its sends and the records in each. */
function counting(producer: Producer): LogProducer & { sends: number[] } {
  const sends: number[] = [];
  return {
    sends,
    send: (record) => { sends.push(record.messages.length); return producer.send(record); },
    disconnect: () => producer.disconnect(),
  };
}

let serial = 0;
function message(from: string, to: string, cid = `c${++serial}`): NewMessage {
  return { id: newId(), from, to, cid, body: `body ${serial}`, ts: Date.now() };
}

describe('KafkaMessageLog (integration)', function () {
  let broker: TestKafka;
  let kafka: Kafka;
  const { logger, records: logRecords } = capturedLogger();
  const toClose: { close(): Promise<void> }[] = [];

  before(async () => {
    broker = await startTestKafka();
    kafka = createKafka({ brokers: broker.brokers, clientId: 'kafka-log-test', sendTimeoutMs: 1500 }, logger);
  });
  afterEach(async () => {
    for (const log of toClose.splice(0)) await log.close();
  });

  /** A log on a fresh topic with PARTITIONS partitions, over a counting producer. */
  async function freshLog(opts: Partial<KafkaLogOptions> = {}) {
    const topic = uniqueTopic('kafka-log');
    await broker.createTopic(topic, PARTITIONS);
    const producer = kafka.producer({ allowAutoTopicCreation: false, createPartitioner: Partitioners.DefaultPartitioner });
    await producer.connect();
    const wrapped = counting(producer);
    const log = new KafkaMessageLog(wrapped, { topic, partitions: PARTITIONS, generation: GENERATION, ...opts });
    toClose.push(log);
    return { topic, log, sends: wrapped.sends };
  }

  it('gives each message seq = seqFromOffset(generation, its offset), increasing per conversation in append order', async () => {
    const { topic, log, sends } = await freshLog();
    const users = ['ann', 'ben', 'cat', 'dan', 'eve'];
    const pairs = users.flatMap((a, i) => users.slice(i + 1).map((b) => [a, b] as const)); // 10 conversations
    const first = Array.from({ length: 60 }, (_, i) => { const [a, b] = pairs[i % pairs.length]!; return i % 2 ? message(a, b) : message(b, a); });
    const second = Array.from({ length: 40 }, (_, i) => { const [a, b] = pairs[(i * 3) % pairs.length]!; return message(a, b); });
    const acceptedFirst = await log.append(first);
    const acceptedSecond = await log.append(second);
    const all = [...first, ...second];
    const accepted = [...acceptedFirst, ...acceptedSecond];
    // Few requests, each with more records than partitions: records shared a partition in one
    // request, so the base offset + index arithmetic was exercised.
    assert.equal(sends.reduce((a, b) => a + b, 0), 100);
    assert.ok(sends.length <= 4 && Math.max(...sends) > PARTITIONS, `sends: ${sends.join(',')}`);

    assert.deepEqual(accepted.map((a) => a.id), all.map((m) => m.id));
    assert.ok(accepted.every((a, i) => a.ts === all[i]!.ts && a.duplicate === false));
    const lastSeq = new Map<string, number>();
    all.forEach((m, i) => {
      const conv = conversationKey(m.from, m.to);
      const seq = accepted[i]!.seq;
      assert.ok(seq > (lastSeq.get(conv) ?? -1), `seq of message ${i} in ${conv} does not increase`);
      lastSeq.set(conv, seq);
    });

    const consumed = await consumeRecords(broker.brokers, topic, all.length);
    const byId = new Map(consumed.map((r) => [r.message.id, r]));
    assert.equal(byId.size, all.length);
    all.forEach((m, i) => {
      const r = byId.get(m.id)!;
      assert.equal(r.key, recordKey(m));
      assert.equal(r.partition, partitionFor(recordKey(m), PARTITIONS));
      assert.equal(accepted[i]!.seq, seqFromOffset(GENERATION, r.offset), `seq of message ${i}`);
      assert.deepEqual(r.message, m);
    });
  });

  it('batches concurrent appends into few sends, and resolves every one', async () => {
    const { topic, log, sends } = await freshLog();
    const msgs = Array.from({ length: 500 }, (_, i) => message(`u${i % 7}`, `v${i % 5}`));
    const results = await Promise.all(msgs.map((m) => log.append([m])));
    assert.deepEqual(results.map(([a]) => a!.id), msgs.map((m) => m.id));
    assert.equal(sends.reduce((a, b) => a + b, 0), 500);
    assert.ok(sends.length <= 5, `500 appends took ${sends.length} sends`);
    // Queued in call order, so seq follows call order within each conversation.
    const lastSeq = new Map<string, number>();
    msgs.forEach((m, i) => {
      const conv = conversationKey(m.from, m.to);
      assert.ok(results[i]![0]!.seq > (lastSeq.get(conv) ?? -1), `seq of append ${i} in ${conv} does not increase`);
      lastSeq.set(conv, results[i]![0]!.seq);
    });
    assert.equal(await countRecords(broker.brokers, topic), 500);
  });

  it('acks a repeated (sender, cid) with the same id, seq and ts, marked duplicate, and produces it once', async () => {
    const { topic, log: kafkaLog, sends } = await freshLog();
    const log = new RecentSendsLog(kafkaLog);
    const original = message('ann', 'ben', 'repeat-me');
    // The repeat arrives while the original is in flight, and once more after it was acked.
    const [[a], [inFlight]] = await Promise.all([log.append([original]), log.append([{ ...original, id: newId(), ts: original.ts + 1 }])]);
    const [[later]] = [await log.append([{ ...original, id: newId(), ts: original.ts + 2 }])];
    const expected: Accepted = { id: original.id, seq: a!.seq, ts: original.ts, duplicate: true };
    assert.equal(a!.duplicate, false);
    assert.deepEqual(inFlight, expected);
    assert.deepEqual(later, expected);
    // The same cid from another sender is another message.
    const [other] = await log.append([message('ben', 'ann', 'repeat-me')]);
    assert.equal(other!.duplicate, false);
    assert.deepEqual(sends, [1, 1]);
    assert.equal(await countRecords(broker.brokers, topic), 2);
  });

  it('answers `unavailable` while the broker is down, refuses past maxQueue, and recovers when it is back', async () => {
    const sendTimeoutMs = 1500;
    const { topic, log } = await freshLog({ sendTimeoutMs, maxQueue: 2 });
    const [before] = await log.append([message('ann', 'ben')]);
    await broker.setDown(true);
    try {
      const inFlight = log.append([message('ann', 'ben')]);
      const queued = [log.append([message('ann', 'ben')]), log.append([message('ann', 'ben')])];
      await assert.rejects(log.append([message('ann', 'ben')]), (err: { code?: string }) => err.code === 'CHAT_ERR_QUEUE_FULL' && errorAnswer(err).code === 'unavailable');
      // Answered while the broker is still down: the send timeout ended it, not the broker's return.
      await assert.rejects(inFlight, (err: { code?: string }) => err.code === 'CHAT_ERR_LOG_UNAVAILABLE' && errorAnswer(err).code === 'unavailable');
      for (const q of queued) await assert.rejects(q, (err) => errorAnswer(err).code === 'unavailable');
    } finally {
      await broker.setDown(false);
    }
    const [after] = await log.append([message('ann', 'ben')]);
    assert.ok(after!.seq > before!.seq);
    // kafkajs's complaints went to pino, not to its own console JSON.
    assert.ok(logRecords.some((r) => r.module === 'kafkajs' && (r.level as number) >= 40), 'no kafkajs record in the pino log');
    const consumed = await consumeRecords(broker.brokers, topic, await countRecords(broker.brokers, topic));
    assert.ok(consumed.some((r) => r.message.id === after!.id && seqFromOffset(GENERATION, r.offset) === after!.seq));
  });

  it('starts on a topic with the configured partition count', async () => {
    const topic = uniqueTopic('kafka-log-ok');
    await broker.createTopic(topic, PARTITIONS);
    const log = await KafkaMessageLog.create(kafka, { topic, partitions: PARTITIONS, generation: 0 }, logger);
    toClose.push(log);
    const [a] = await log.append([message('ann', 'ben')]);
    assert.equal(a!.seq, 1, "a partition's first record, offset 0, has seq 1");
  });

  it('creates a missing topic, or relies on auto-creation where admin createTopics does not work', async () => {
    // librdkafka's mock rejects createTopics and auto-creates topics with 4 partitions; a real
    // Kafka creates it with the count asked. 4 suits both.
    const partitions = 4;
    const topic = uniqueTopic('kafka-log-missing');
    const warningsBefore = logRecords.length;
    const log = await KafkaMessageLog.create(kafka, { topic, partitions, generation: 0 }, logger);
    toClose.push(log);
    const fallbackWarned = logRecords.slice(warningsBefore).some((r) => r.msg === 'could not create the message topic; relying on broker auto-creation');
    assert.equal(fallbackWarned, !broker.external);
    const msgs = Array.from({ length: 12 }, (_, i) => message(`w${i}`, 'x'));
    const accepted = await log.append(msgs);
    const consumed = await consumeRecords(broker.brokers, topic, msgs.length);
    assert.ok(consumed.every((r) => r.partition === partitionFor(r.key, partitions)));
    assert.deepEqual(accepted.map((a) => a.seq), msgs.map((m) => seqFromOffset(0, consumed.find((r) => r.message.id === m.id)!.offset)));
  });

  it('refuses to start on a topic with another partition count', async () => {
    const topic = uniqueTopic('kafka-log-mismatch');
    await broker.createTopic(topic, 3);
    await assert.rejects(
      KafkaMessageLog.create(kafka, { topic, partitions: PARTITIONS, generation: 0 }, logger),
      (err: { code?: string }) => err.code === 'CHAT_ERR_CONFIG',
    );
  });
});
