/** sv-persist configuration: the only file of the service that reads process.env. */
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { clusterSecretFields, env, parseConfig, resolveClusterSecret } from '@chat/shared/config';
import { MAX_GENERATION } from '@chat/shared/kafka-log';
import { DEFAULT_MAX_ROOM_MEMBERS } from '@chat/shared/protocol';
import type { InsertMethod } from './store-sequelize.ts';

const REPO_ROOT = resolve(fileURLToPath(import.meta.url), '../../..');

export interface Config {
  /** HTTP port. @default 3100 */ port: number;
  /** HTTP host. @default 127.0.0.1 */ host: string;
  /** Postgres URL; absent means an embedded Postgres (below). */ databaseUrl: string | undefined;
  /** Embedded Postgres data directory. @default <repo>/data/postgres */ pgDataDir: string;
  /** Embedded Postgres port. @default 5433 */ pgPort: number;
  logLevel: string;
  /** Shared secret of internal requests. */ clusterSecret: string;
  /** Largest insert batch. @default 2000 */ maxBatch: number;
  /** Most messages queued behind the insert in flight; past it ingest answers 503. @default 50000 */ maxQueue: number;
  /** Batch insert statement. @default unnest */ insertMethod: InsertMethod;
  /** Sequelize pool size. @default 10 */ poolMax: number;
  /** The most members a room may have; a change past it is refused (bad_request). @default 10000 */ maxRoomMembers: number;
  /** Kafka brokers; empty means direct mode (nodes POST to the ingest route, seq from Postgres). */ kafkaBrokers: string[];
  /** Topic of the message log. @default chat-messages */ kafkaTopic: string;
  /** Consumer group of the persisters. @default chat-persist */ kafkaGroupId: string;
  /** seq = generation · 2^40 + offset; must equal the nodes' value. @default 0 */ kafkaSeqGeneration: number;
  /** Longest a fetch waits for data (the mock broker always waits all of it on an empty fetch). @default 100 */ kafkaMaxWaitMs: number;
  /**
   * A fetch returns once this many bytes are there, or after kafkaMaxWaitMs: above 1, a persister
   * under light load inserts fewer, bigger batches (less CPU per row) at up to kafkaMaxWaitMs of lag. @default 1
   */ kafkaMinBytes: number;
  /**
   * Most bytes one fetch response carries, all partitions together (a partition's first record batch
   * comes whole even when larger). kafkajs's 10 MB made a draining persister hold ~850 MB of decoded
   * records and spend a third more time in GC than with 1 MB (docs/benchmarks.md). @default 1048576
   */ kafkaMaxBytes: number;
  /**
   * Stored offsets are committed to Kafka at most this often (0: after every batch). A restart
   * re-reads at most this much, which the unique keys drop. @default 1000
   */ kafkaCommitIntervalMs: number;
  /**
   * Group session timeout: how soon a crashed persister's partitions move on, and so how long
   * storing pauses after a crash. Kafka brokers accept 6,000 ms and more by default
   * (group.min.session.timeout.ms). @default 6000
   */ kafkaSessionTimeoutMs: number;
  /** How long a rebalance waits for members to rejoin. @default 60000 */ kafkaRebalanceTimeoutMs: number;
  /** Partitions whose batches are inserted at the same time (one pooled connection each). @default 3 */ kafkaConcurrency: number;
}

const schema = z.object({
  PORT: env.port(3100),
  HOST: z.string().min(1).default('127.0.0.1'),
  DATABASE_URL: z.string().regex(/^postgres(ql)?:\/\//, 'must be a postgres:// URL').optional(),
  PG_DATA_DIR: z.string().min(1).default(resolve(REPO_ROOT, 'data', 'postgres')),
  PG_PORT: env.port(5433),
  LOG_LEVEL: env.logLevel(),
  PERSIST_MAX_BATCH: env.int(2000, 1, 10_000),
  PERSIST_MAX_QUEUE: env.int(50_000, 1, 1_000_000),
  PERSIST_INSERT_METHOD: z.enum(['unnest', 'bulkCreate']).default('unnest'),
  PG_POOL_MAX: env.int(10, 1, 100),
  MAX_ROOM_MEMBERS: env.int(DEFAULT_MAX_ROOM_MEMBERS, 1, 1_000_000),
  KAFKA_BROKERS: env.list().optional(),
  KAFKA_TOPIC: z.string().regex(/^[A-Za-z0-9._-]{1,249}$/, 'must be a Kafka topic name').default('chat-messages'),
  KAFKA_GROUP_ID: z.string().min(1).default('chat-persist'),
  KAFKA_SEQ_GENERATION: env.int(0, 0, MAX_GENERATION),
  KAFKA_MAX_WAIT_MS: env.int(100, 1, 30_000),
  KAFKA_MIN_BYTES: env.int(1, 1, 64 * 1024 * 1024),
  KAFKA_MAX_BYTES: env.int(1024 * 1024, 1024, 256 * 1024 * 1024),
  KAFKA_CONCURRENCY: env.int(3, 1, 64),
  KAFKA_COMMIT_INTERVAL_MS: env.int(1000, 0, 60_000),
  KAFKA_SESSION_TIMEOUT_MS: env.int(6000, 1000, 3_600_000),
  KAFKA_REBALANCE_TIMEOUT_MS: env.int(60_000, 1000, 3_600_000),
  ...clusterSecretFields,
});

export function loadConfig(source: Record<string, string | undefined> = process.env, argv: readonly string[] = process.argv.slice(2)): Readonly<Config> {
  const c = parseConfig(schema, source, argv);
  return Object.freeze({
    port: c.PORT,
    host: c.HOST,
    databaseUrl: c.DATABASE_URL,
    pgDataDir: resolve(c.PG_DATA_DIR),
    pgPort: c.PG_PORT,
    logLevel: c.LOG_LEVEL,
    clusterSecret: resolveClusterSecret(c),
    maxBatch: c.PERSIST_MAX_BATCH,
    maxQueue: c.PERSIST_MAX_QUEUE,
    insertMethod: c.PERSIST_INSERT_METHOD,
    poolMax: c.PG_POOL_MAX,
    maxRoomMembers: c.MAX_ROOM_MEMBERS,
    kafkaBrokers: c.KAFKA_BROKERS ?? [],
    kafkaTopic: c.KAFKA_TOPIC,
    kafkaGroupId: c.KAFKA_GROUP_ID,
    kafkaSeqGeneration: c.KAFKA_SEQ_GENERATION,
    kafkaMaxWaitMs: c.KAFKA_MAX_WAIT_MS,
    kafkaMinBytes: c.KAFKA_MIN_BYTES,
    kafkaMaxBytes: c.KAFKA_MAX_BYTES,
    kafkaCommitIntervalMs: c.KAFKA_COMMIT_INTERVAL_MS,
    kafkaConcurrency: c.KAFKA_CONCURRENCY,
    kafkaSessionTimeoutMs: c.KAFKA_SESSION_TIMEOUT_MS,
    kafkaRebalanceTimeoutMs: c.KAFKA_REBALANCE_TIMEOUT_MS,
  });
}
