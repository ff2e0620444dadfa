/** sv-websocket configuration: the only file of the service that reads process.env. */
import { z } from 'zod';
import { clusterSecretFields, env, parseConfig, resolveClusterSecret } from '@chat/shared/config';
import { ERR_CONFIG } from '@chat/shared/errors';
import { MAX_GENERATION } from '@chat/shared/kafka-log';
import { DEFAULT_MAX_BODY } from '@chat/shared/protocol';

export interface Config {
  /** TCP port; 0 picks a free one. @default 3001 */ port: number;
  /** Interface to bind. @default 127.0.0.1 */ host: string;
  /** Id of this node in the registry; unset means `${hostname}-${listening port}`. */ nodeId: string | undefined;
  /** Base URL other nodes use to forward to this one. @default http://HOST:PORT */ publicUrl: string | undefined;
  /** sv-discover base URLs (several instances on one Redis: failover in order). */ discoverUrls: string[];
  /**
   * sv-persist base URLs. History goes to any of them (failover in order); direct-mode ingest
   * only to the first, the single writer that assigns seq.
   */ persistUrls: string[];
  authMode: 'dev' | 'jwt';
  /** HS256 secret of client JWTs (jwt mode). */ authSecret: string | undefined;
  clusterSecret: string;
  /** Longest message body, in characters. */ maxBody: number;
  /** Largest WebSocket frame, in bytes; larger closes with 1009. */ maxFrameBytes: number;
  /** Deadline for `hello` after the upgrade. */ helloTimeoutMs: number;
  /** Discovery lease; renewed every leaseMs / 3. */ leaseMs: number;
  /** How long a discovery answer is trusted. */ lookupCacheMs: number;
  /** How long while discovery's change feed is connected; 0 turns the feed off. */ lookupCachePushedMs: number;
  /** Sends per second per connection (token bucket), and its burst. */ rateLimitPerSec: number; rateLimitBurst: number;
  /**
   * Sends per second per user across all of the user's connections on this node, and its burst.
   * @default twice the per-connection values
   */ userRateLimitPerSec: number; userRateLimitBurst: number;
  /** A connection whose unsent buffer passes this many bytes is closed (slow consumer). */ maxBufferedBytes: number;
  /** Deliveries in progress at which sends are refused with `unavailable` (overload). @default 10000 */ maxPendingDeliveries: number;
  /** How long a remote delivery that failed (lookup or forward) is tried again; 0 never. @default 10000 */ forwardRetryMs: number;
  /** Most remote deliveries parked for retry at once; past it, new ones are left to history. @default 10000 */ forwardRetryMax: number;
  /**
   * Sends are refused with `unavailable` while the oldest message this node is writing to the log
   * has waited longer than this (overload): past capacity, acks stay this late at most instead of
   * queuing for seconds. @default 1000
   */ logMaxWaitMs: number;
  /** Protocol ping interval; a connection that misses a pong is terminated. */ pingIntervalMs: number;
  /** Browser origins allowed to open /ws; empty allows any. */ allowedOrigins: string[];
  /**
   * How forwards travel to other nodes: `stream` (one signed WebSocket per peer node, several
   * batches in flight; a peer that does not serve it gets HTTP) or `http` (one POST per batch).
   */ forwardTransport: 'stream' | 'http';
  /** Kafka brokers; empty means the DirectMessageLog to sv-persist. */ kafkaBrokers: string[];
  /** Topic of the message log. @default chat-messages */ kafkaTopic: string;
  /** Partition count the topic must have; the node refuses to start on another. @default 6 */ kafkaPartitions: number;
  /** High part of every seq; bump it when the topic is recreated or its partition count changes. @default 0 */ kafkaSeqGeneration: number;
  /** A batch Kafka has not acknowledged within this answers `unavailable`. @default 5000 */ kafkaSendTimeoutMs: number;
  /** Under load, the least time between two produce requests (message-log-kafka.ts); 0 is off. @default 5 */ kafkaLingerMs: number;
  /** kafkajs client id; unset means the node id. */ kafkaClientId: string | undefined;
  /**
   * Kafka mode: how long a send waits for sv-discover's record of sends before it is written on
   * this node's own record only (a repeat on another node is then not recognised). @default 1000
   */ sendDedupeClaimTimeoutMs: number;
  /**
   * Kafka mode: a repeat whose first copy's node died before recording its seq waits this long
   * for the store to show that copy; past it, the message is written under the first copy's id. @default 5000
   */ sendDedupeStoreWaitMs: number;
  /** Most rooms whose member lists the node keeps; the least recently used go first. @default 10000 */ roomCacheMax: number;
  /** Rooms a user may create per minute on this node (`rate_limited` beyond). @default 10 */ roomCreatePerMinute: number;
  logLevel: string;
}

const schema = z.object({
  ...clusterSecretFields,
  PORT: env.port(3001),
  HOST: z.string().default('127.0.0.1'),
  NODE_ID: z.string().regex(/^[A-Za-z0-9_.:-]{1,128}$/, 'letters, digits and _ . : - only').optional(),
  PUBLIC_URL: env.url().optional(),
  DISCOVER_URL: env.list().pipe(z.array(z.url()).min(1)).default(['http://127.0.0.1:3000']),
  PERSIST_URL: env.list().pipe(z.array(z.url()).min(1)).default(['http://127.0.0.1:3100']),
  AUTH_MODE: z.enum(['dev', 'jwt']).default('dev'),
  AUTH_SECRET: z.string().min(32, 'must be at least 32 characters').optional(),
  ALLOW_DEV_AUTH_IN_PRODUCTION: env.bool(false),
  MAX_BODY: env.int(DEFAULT_MAX_BODY, 1, 1_000_000),
  MAX_FRAME_BYTES: env.int(64 * 1024, 1024, 16 * 1024 * 1024),
  HELLO_TIMEOUT_MS: env.int(5000, 100),
  LEASE_MS: env.int(10_000, 1000, 600_000),
  LOOKUP_CACHE_MS: env.int(1000, 0),
  LOOKUP_CACHE_PUSHED_MS: env.int(30_000, 0),
  RATE_LIMIT_PER_SEC: env.int(100, 1),
  RATE_LIMIT_BURST: env.int(200, 1),
  USER_RATE_LIMIT_PER_SEC: z.coerce.number().int().min(1).optional(),
  USER_RATE_LIMIT_BURST: z.coerce.number().int().min(1).optional(),
  MAX_BUFFERED_BYTES: env.int(4 * 1024 * 1024, 64 * 1024),
  MAX_PENDING_DELIVERIES: env.int(10_000, 1),
  FORWARD_RETRY_MS: env.int(10_000, 0, 600_000),
  FORWARD_RETRY_MAX: env.int(10_000, 1, 10_000_000),
  LOG_MAX_WAIT_MS: env.int(1000, 10),
  PING_INTERVAL_MS: env.int(30_000, 1000),
  ALLOWED_ORIGINS: env.list().default([]),
  FORWARD_TRANSPORT: z.enum(['stream', 'http']).default('stream'),
  KAFKA_BROKERS: env.list().default([]),
  KAFKA_TOPIC: z.string().regex(/^[A-Za-z0-9._-]{1,249}$/, 'letters, digits and . _ - only (a Kafka topic name)').default('chat-messages'),
  KAFKA_PARTITIONS: env.int(6, 1, 100_000),
  KAFKA_SEQ_GENERATION: env.int(0, 0, MAX_GENERATION),
  KAFKA_SEND_TIMEOUT_MS: env.int(5000, 100, 600_000),
  KAFKA_LINGER_MS: env.int(5, 0, 1000),
  KAFKA_CLIENT_ID: z.string().min(1).max(255).optional(),
  SEND_DEDUPE_CLAIM_TIMEOUT_MS: env.int(1000, 10, 60_000),
  SEND_DEDUPE_STORE_WAIT_MS: env.int(5000, 0, 600_000),
  ROOM_CACHE_MAX: env.int(10_000, 1, 10_000_000),
  ROOM_CREATE_PER_MINUTE: env.int(10, 1, 100_000),
  LOG_LEVEL: env.logLevel(),
});

export function loadConfig(vars: Record<string, string | undefined> = process.env, argv: readonly string[] = process.argv.slice(2)): Readonly<Config> {
  const c = parseConfig(schema, vars, argv);
  const problems: string[] = [];
  if (c.AUTH_MODE === 'jwt' && !c.AUTH_SECRET) problems.push('  AUTH_SECRET: required when AUTH_MODE=jwt');
  if (c.AUTH_MODE === 'dev' && c.NODE_ENV === 'production' && !c.ALLOW_DEV_AUTH_IN_PRODUCTION) {
    problems.push('  AUTH_MODE: dev lets anyone claim any user; refused with NODE_ENV=production unless ALLOW_DEV_AUTH_IN_PRODUCTION=true');
  }
  if (problems.length > 0) throw new ERR_CONFIG(problems.join('\n'));
  return {
    port: c.PORT,
    host: c.HOST,
    nodeId: c.NODE_ID,
    publicUrl: c.PUBLIC_URL,
    discoverUrls: c.DISCOVER_URL.map((u) => u.replace(/\/$/, '')),
    persistUrls: c.PERSIST_URL.map((u) => u.replace(/\/$/, '')),
    authMode: c.AUTH_MODE,
    authSecret: c.AUTH_SECRET,
    clusterSecret: resolveClusterSecret(c),
    maxBody: c.MAX_BODY,
    maxFrameBytes: c.MAX_FRAME_BYTES,
    helloTimeoutMs: c.HELLO_TIMEOUT_MS,
    leaseMs: c.LEASE_MS,
    lookupCacheMs: c.LOOKUP_CACHE_MS,
    lookupCachePushedMs: c.LOOKUP_CACHE_PUSHED_MS,
    rateLimitPerSec: c.RATE_LIMIT_PER_SEC,
    rateLimitBurst: c.RATE_LIMIT_BURST,
    userRateLimitPerSec: c.USER_RATE_LIMIT_PER_SEC ?? 2 * c.RATE_LIMIT_PER_SEC,
    userRateLimitBurst: c.USER_RATE_LIMIT_BURST ?? 2 * c.RATE_LIMIT_BURST,
    maxBufferedBytes: c.MAX_BUFFERED_BYTES,
    maxPendingDeliveries: c.MAX_PENDING_DELIVERIES,
    forwardRetryMs: c.FORWARD_RETRY_MS,
    forwardRetryMax: c.FORWARD_RETRY_MAX,
    logMaxWaitMs: c.LOG_MAX_WAIT_MS,
    pingIntervalMs: c.PING_INTERVAL_MS,
    allowedOrigins: c.ALLOWED_ORIGINS,
    forwardTransport: c.FORWARD_TRANSPORT,
    kafkaBrokers: c.KAFKA_BROKERS,
    kafkaTopic: c.KAFKA_TOPIC,
    kafkaPartitions: c.KAFKA_PARTITIONS,
    kafkaSeqGeneration: c.KAFKA_SEQ_GENERATION,
    kafkaSendTimeoutMs: c.KAFKA_SEND_TIMEOUT_MS,
    kafkaLingerMs: c.KAFKA_LINGER_MS,
    kafkaClientId: c.KAFKA_CLIENT_ID,
    sendDedupeClaimTimeoutMs: c.SEND_DEDUPE_CLAIM_TIMEOUT_MS,
    sendDedupeStoreWaitMs: c.SEND_DEDUPE_STORE_WAIT_MS,
    roomCacheMax: c.ROOM_CACHE_MAX,
    roomCreatePerMinute: c.ROOM_CREATE_PER_MINUTE,
    logLevel: c.LOG_LEVEL,
  };
}
