/**
 * The `persist` scenario, a backlog drain: queue N messages first, then start sv-persist and time
 * until Postgres holds them all; then check 0 lost (every bench cid stored) and 0 duplicated.
 * Kafka mode (default): produce N records to a fresh topic the way nodes do (key = conversation,
 * murmur2 partition, acks = all), then start the persister on it.
 *
 * Two limits of librdkafka's mock broker shape the Kafka mode when no KAFKA_BROKERS is given
 * (both read in its source, rdkafka_mock.c and rdkafka_mock_handlers.c):
 * - it keeps at most 5 MiB of record batches per partition and silently drops older ones, so a
 *   backlog bigger than partitions × 5 MiB cannot be kept: the topic gets enough partitions for
 *   the backlog to fit (4 MiB each), which for 1M short messages is about 64;
 * - a fetch answers with one record batch per partition, so the backlog is produced in requests
 *   of one partition each (up to 2,000 records, one record batch), as a real broker would hand
 *   them to a consumer anyway (many batches per fetch, up to maxBytesPerPartition). Direct mode (--direct): start
 * sv-persist and POST the backlog to its ingest route as fast as it takes it.
 */
import { Kafka, logLevel } from 'kafkajs';
import { QueryTypes, Sequelize } from 'sequelize';
import { newId } from '@chat/shared/ids';
import { InternalClient } from '@chat/shared/internal-client';
import { ROUTES } from '@chat/shared/internal-api';
import { encodeRecordValue, partitionFor, recordKey } from '@chat/shared/kafka-log';
import type { NewMessage } from '@chat/shared/types';
import { nowMs, sleep } from './clock.ts';
import { EMBEDDED_POSTGRES, sampleGroups, type ProcGroup } from './proc-stats.ts';
import { Progress } from './progress.ts';
import { round } from './results.ts';
import { scrape } from './scrape.ts';
import { BENCH_SECRET, KAFKA_PARTITIONS, startEngines, startPersist } from './targets.ts';

export interface DrainResult {
  label: string;
  mode: 'kafka' | 'direct';
  messages: number;
  /** Kafka mode: how fast the backlog was produced, and into how many partitions. */
  producedPerSec?: number;
  partitions?: number;
  stored: number;
  lost: number;
  duplicated: number;
  /** Records the consumer found already stored (replays), skipped by ON CONFLICT. */
  replayedSkipped: number;
  /** From the first row committed to the last. */
  rowsPerSec: number;
  /** From sv-persist's start (group join, migrations included) to the last row. */
  rowsPerSecFromStart: number;
  seconds: number;
  processes: Record<string, { cpuSec: number; rssMB: number }>;
  timeline: { sec: number; rows: number }[];
}

/**
 * n messages in n / 20 conversations (at least one), both directions, interleaved: a chat
 * backlog, where a conversation holds many messages (its heads row moves, it is not created anew
 * for every message).
 */
function makeBacklog(n: number, prefix: string): NewMessage[] {
  const conversations = Math.max(1, Math.floor(n / 20));
  return Array.from({ length: n }, (_, i) => {
    const c = i % conversations;
    const [a, b] = [`u${c % 5000}`, `v${Math.floor(c / 5000)}`];
    return {
      id: newId(), from: i % 2 ? a : b, to: i % 2 ? b : a, cid: `${prefix}${i}`,
      body: `backlog message ${i}, a typical short chat line`, ts: Date.now(),
    };
  });
}

/** Bytes a mock-broker partition may hold before it drops old batches is 5 MiB; stay below. */
const MOCK_PARTITION_BYTES = 4 * 2 ** 20;

/** Partitions for the backlog: the bench default on a real broker, enough to keep it all on the mock. */
function partitionsFor(msgs: NewMessage[]): number {
  if (process.env.KAFKA_BROKERS) return KAFKA_PARTITIONS;
  const bytes = msgs.reduce((sum, m) => sum + recordKey(m).length + encodeRecordValue(m).length + 70, 0);
  return Math.max(KAFKA_PARTITIONS, Math.ceil(bytes / MOCK_PARTITION_BYTES));
}

async function produceBacklog(brokers: string[], topic: string, partitions: number, msgs: NewMessage[], progress: Progress): Promise<number> {
  const producer = new Kafka({ clientId: 'bench', brokers, logLevel: logLevel.NOTHING }).producer();
  await producer.connect();
  const started = nowMs();
  let done = 0;
  // One partition per request, up to `chunk` records: one record batch each (see the top).
  const chunk = 2000;
  const byPartition: { key: string; value: string; partition: number }[][] = Array.from({ length: partitions }, () => []);
  for (const m of msgs) {
    const key = recordKey(m);
    const partition = partitionFor(key, partitions);
    byPartition[partition]!.push({ key, value: encodeRecordValue(m), partition });
  }
  const requests = byPartition.flatMap((records) => Array.from({ length: Math.ceil(records.length / chunk) }, (_, i) => records.slice(i * chunk, (i + 1) * chunk)));
  let next = 0;
  const lane = async () => {
    while (next < requests.length) {
      const part = requests[next++]!;
      await producer.send({ topic, acks: -1, messages: part });
      done += part.length;
      progress.draw(`[persist] producing the backlog ${Progress.bar(done, msgs.length)} ${done}/${msgs.length}`);
    }
  };
  await Promise.all(Array.from({ length: 4 }, lane));
  await producer.disconnect();
  return msgs.length / ((nowMs() - started) / 1000);
}

async function ingestBacklog(url: string, msgs: NewMessage[]): Promise<void> {
  const client = new InternalClient({ secret: BENCH_SECRET, timeoutMs: 60_000, connections: 4 });
  let next = 0;
  const lane = async () => {
    while (next < msgs.length) {
      const part = msgs.slice(next, next += 1000);
      for (;;) {
        try { await client.post(url, ROUTES.persistIngest, { messages: part }); break; } catch { await sleep(50); }
      }
    }
  };
  await Promise.all(Array.from({ length: 4 }, lane));
  await client.close();
}

export async function runDrain(opts: { messages: number; direct: boolean; stallS: number }, progress: Progress): Promise<DrainResult> {
  const mode = opts.direct ? 'direct' : 'kafka';
  const prefix = `d${Date.now().toString(36)}-`;
  const msgs = makeBacklog(opts.messages, prefix);
  const engines = await startEngines(!opts.direct, opts.direct ? undefined : partitionsFor(msgs));
  const producedPerSec = engines.kafka ? await produceBacklog(engines.kafka.brokers, engines.kafka.topic, engines.kafka.partitions, msgs, progress) : undefined;
  progress.note(producedPerSec ? `[persist] ${msgs.length} records in Kafka, ${engines.kafka!.partitions} partitions (${Math.round(producedPerSec)} produced/s); starting sv-persist` : '[persist] starting sv-persist');
  const startedAt = nowMs();
  const persist = await startPersist(engines, { PERSIST_MAX_QUEUE: '1000000' });
  const groups: ProcGroup[] = [{ name: 'sv-persist', pid: persist.child.pid! }, EMBEDDED_POSTGRES];
  const cpu0 = sampleGroups(groups);
  const ingest = opts.direct ? ingestBacklog(persist.url, msgs) : Promise.resolve();
  const timeline: { sec: number; rows: number }[] = [];
  let rows = 0, firstAt: number | undefined, lastAt = startedAt, lastProgress = nowMs(), prevRows = 0;
  const t0 = nowMs();
  try {
    while (rows < opts.messages && nowMs() - lastProgress < opts.stallS * 1000) {
      await sleep(250);
      const m = await scrape(persist.url);
      const now = nowMs();
      const r = m?.get('chat_persist_rows_inserted_total') ?? rows;
      if (r > rows) { rows = r; lastAt = now; lastProgress = now; firstAt ??= now; }
      const sec = Math.floor((now - t0) / 1000);
      if (sec > timeline.length - 1) { timeline.push({ sec, rows: rows - prevRows }); prevRows = rows; } else timeline[sec]!.rows += rows - prevRows, prevRows = rows;
      progress.draw(`[persist ${mode}] ${Progress.bar(rows, opts.messages)} ${rows}/${opts.messages} rows, ${((now - startedAt) / 1000).toFixed(1)} s`);
    }
    if (rows < opts.messages) progress.note(`[persist] no progress for ${opts.stallS} s at ${rows} rows; sv-persist's last lines:\n${persist.logs.slice(-5).join('\n')}`);
    await ingest;
    const cpu1 = sampleGroups(groups);
    const replayed = (await scrape(persist.url))?.get('chat_persist_duplicates_total') ?? 0;
    const db = new Sequelize(engines.databaseUrl, { dialect: 'postgres', logging: false, pool: { max: 1 } });
    const [c] = await db.query<{ total: string; ours: string; distinct_ids: string }>(
      `SELECT count(*) AS total, count(*) FILTER (WHERE cid LIKE $1) AS ours, count(DISTINCT id) AS distinct_ids FROM messages`,
      { bind: [`${prefix}%`], type: QueryTypes.SELECT });
    await db.close();
    const stored = Number(c!.ours);
    const drainS = (lastAt - (firstAt ?? lastAt)) / 1000;
    return {
      label: 'mesh', mode, messages: opts.messages, ...(producedPerSec && { producedPerSec: Math.round(producedPerSec), partitions: engines.kafka!.partitions }),
      stored, lost: opts.messages - stored, duplicated: Number(c!.total) - Number(c!.distinct_ids) + Math.max(0, stored - opts.messages),
      replayedSkipped: replayed,
      rowsPerSec: Math.round(drainS > 0 ? stored / drainS : 0),
      rowsPerSecFromStart: Math.round(stored / ((lastAt - startedAt) / 1000)),
      seconds: round((lastAt - startedAt) / 1000, 1),
      processes: Object.fromEntries(Object.entries(cpu1).map(([k, v]) => [k, { cpuSec: round(v.cpuSec - (cpu0[k]?.cpuSec ?? 0), 2), rssMB: round(v.rssBytes / 2 ** 20, 1) }])),
      timeline,
    };
  } finally {
    progress.done();
    await persist.stop();
  }
}
