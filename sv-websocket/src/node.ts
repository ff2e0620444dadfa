/**
 * One sv-websocket node wired from its config: discovery and the lookup cache (with its change
 * feed), forwarding and delivery, the message log (direct or Kafka), read marks and the typing
 * throttle, presence (the node's entries, and the users its connections watch), metrics, and the
 * app. `listen` serves and joins the mesh; `stop` leaves it in an order that loses nothing acked.
 */
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { FailureLog } from '@chat/shared/failure-log';
import { InternalClient } from '@chat/shared/internal-client';
import { createKafka } from '@chat/shared/kafka-client';
import { createLogger, type Logger } from '@chat/shared/logger';
import type { Registry } from 'prom-client';
import type { MessageLog } from '@chat/shared/message-log';
import { buildApp } from './app.ts';
import { createAuthenticator } from './auth.ts';
import { ChangeFeedClient } from './change-feed-client.ts';
import type { Config } from './config.ts';
import { Delivery } from './delivery.ts';
import { Forwarder } from './forwarder.ts';
import { HistoryClient } from './history-client.ts';
import { LocalConnections } from './local-connections.ts';
import { LookupCache } from './lookup-cache.ts';
import { DirectMessageLog } from './message-log-direct.ts';
import { KafkaMessageLog } from './message-log-kafka.ts';
import { createMetrics, registerPresenceMetrics, registerRoomMetrics } from './metrics.ts';
import { Presence } from './presence.ts';
import { PresenceWatch } from './presence-watch.ts';
import { ReadMarksClient } from './read-marks-client.ts';
import { RoomMembers } from './room-members.ts';
import { RoomNotices } from './room-notices.ts';
import { Rooms } from './rooms.ts';
import { RoomsClient } from './rooms-client.ts';
import { withSendDedupe } from './send-dedupe.ts';
import { HttpRegistry } from './registry-http.ts';
import { TypingThrottle } from './typing-throttle.ts';

/** Deadline of one request to another service (discovery, sv-persist, another node). */
const INTERNAL_REQUEST_TIMEOUT_MS = 5000;
/** Keep-alive connections to each other service's origin. */
const INTERNAL_CONNECTIONS_PER_ORIGIN = 32;
/** Users whose discovery answer the node keeps at once. */
const LOOKUP_CACHE_MAX_USERS = 100_000;
/**
 * How long a room's member list is kept while the change feed is connected: a change drops it at
 * once, so this only bounds a list whose change notice never reached sv-discover.
 */
const ROOM_LIST_PUSHED_MS = 60_000;

export interface ChatNode {
  readonly nodeId: string;
  readonly logger: Logger;
  readonly app: FastifyInstance;
  /** Listen, then take the discovery lease: from then on the mesh forwards to this node. */
  listen(): Promise<void>;
  /** Close clients (1001), flush the log and the forwards, leave discovery. */
  stop(): Promise<void>;
}

export async function createNode(config: Readonly<Config>): Promise<ChatNode> {
  const nodeId = config.nodeId ?? `${hostname()}-${config.port || randomBytes(3).toString('hex')}`;
  const logger = createLogger({ service: 'sv-websocket', level: config.logLevel }).child({ node: nodeId });
  const failures = new FailureLog(logger);
  const client = new InternalClient({ secret: config.clusterSecret, timeoutMs: INTERNAL_REQUEST_TIMEOUT_MS, connections: INTERNAL_CONNECTIONS_PER_ORIGIN });

  const registry = new HttpRegistry(client, config.discoverUrls);
  const local = new LocalConnections();
  const cache = new LookupCache(registry, { ttlMs: config.lookupCacheMs, maxEntries: LOOKUP_CACHE_MAX_USERS, pushedTtlMs: config.lookupCachePushedMs });
  const watches = new PresenceWatch();
  const roomsClient = new RoomsClient(client, config.persistUrls);
  const roomLists = new RoomMembers({
    fetch: (rooms) => roomsClient.get(rooms), maxRooms: config.roomCacheMax, pushedTtlMs: ROOM_LIST_PUSHED_MS, ttlMs: config.lookupCacheMs,
  });
  const roomNotices = new RoomNotices(client, config.discoverUrls, failures);
  // The feed carries presence and room changes whatever the cache does; LOOKUP_CACHE_PUSHED_MS=0 keeps lookups off it.
  const feed = new ChangeFeedClient({
    discoverUrls: config.discoverUrls, secret: config.clusterSecret, logger: logger.child({ module: 'change-feed' }),
    cache: config.lookupCachePushedMs > 0 ? cache : undefined, presence: watches, rooms: roomLists,
  });
  feed.start();
  const forwarder = new Forwarder(client, (user) => cache.invalidate(user), logger.child({ module: 'forwarder' }),
    config.forwardTransport === 'stream' ? { secret: config.clusterSecret } : undefined, { onPeerDown: (peer) => cache.dropNode(peer) });
  const delivery = new Delivery(nodeId, local, cache, forwarder, {
    maxPending: config.maxPendingDeliveries, retryMs: config.forwardRetryMs, maxParked: config.forwardRetryMax, logger: logger.child({ module: 'delivery' }),
  });
  // Made below, once the metrics its batches report to exist; the backlog gauge reads it later.
  let log: MessageLog | undefined;
  const metrics = createMetrics({
    local: () => delivery.stats.local,
    forwarded: () => delivery.stats.forwarded,
    cacheHits: () => cache.hits,
    cacheMisses: () => cache.missCount,
    cacheInvalidations: () => cache.invalidations,
    forwardPeers: () => forwarder.peers,
    deliveriesPending: () => delivery.pending,
    logBacklogMs: () => log?.backlogMs?.() ?? 0,
    forwardsFailed: () => forwarder.stats.failures,
    forwardsHeld: () => forwarder.stats.held,
    forwardPeersDown: () => forwarder.peersDown,
    forwardRequests: () => forwarder.stats.batches,
    retriesParked: () => delivery.parked,
    retriesDropped: () => delivery.retriesDropped,
  });
  registerPresenceMetrics(metrics.registry, { changesReceived: () => watches.changesReceived, watchedUsers: () => watches.watchedUsers });
  registerRoomMetrics(metrics.registry, { cached: () => roomLists.size, fetches: () => roomLists.misses, drops: () => roomLists.drops });
  forwarder.stats.onBatch = (n) => metrics.forwardBatchSize.observe(n);
  const onBatch = (n: number, ms: number) => { metrics.appendBatchSize.observe(n); metrics.appendLatency.observe(ms / 1000); };
  const kafkaMode = config.kafkaBrokers.length > 0;
  log = kafkaMode ? await createKafkaLog(config, nodeId, logger, onBatch, { client, metrics: metrics.registry }) : createDirectLog(config, logger, onBatch);
  // The URL is known once listening (PORT=0 picks one); presence starts only then.
  const node = { nodeId, url: config.publicUrl ?? '' };
  const presence = new Presence(registry, node, config.leaseMs, local, logger.child({ module: 'presence' }));
  const readMarks = new ReadMarksClient(client, config.persistUrls);

  const app = buildApp({
    nodeId,
    auth: createAuthenticator(config.authMode, config.authSecret),
    local, presence, watches, log, delivery, metrics, logger, failures,
    history: new HistoryClient(client, config.persistUrls),
    receipts: { typing: new TypingThrottle(), marks: readMarks },
    rooms: new Rooms(roomsClient, roomLists, roomNotices),
    limits: config,
    clusterSecret: config.clusterSecret,
    maxFrameBytes: config.maxFrameBytes,
    pingIntervalMs: config.pingIntervalMs,
    allowedOrigins: config.allowedOrigins,
    readiness: {
      // Any one instance will do: the nodes fail over between them.
      discovery: () => Promise.any(config.discoverUrls.map((url) => client.get(url, '/readyz'))),
      // In direct mode the log is sv-persist, the single writer; in Kafka mode it is the producer,
      // and the persisters' group membership is no concern of the node: it accepts and stores
      // while they rejoin.
      log: async () => {
        if (!kafkaMode) await client.get(config.persistUrls[0]!, '/readyz');
        if (log.healthy?.() === false) throw new Error('the message log refused the last write');
      },
    },
  });

  return {
    nodeId, logger, app,
    async listen() {
      await app.listen({ port: config.port, host: config.host });
      const { port } = app.server.address() as { port: number };
      node.url ||= `http://${config.host === '0.0.0.0' ? '127.0.0.1' : config.host}:${port}`;
      await presence.start();
      logger.info({ url: `http://${config.host}:${port}`, client: `http://${config.host}:${port}/client`, nodeId, authMode: config.authMode }, 'listening');
    },
    async stop() {
      // Stop accepting and close clients with 1001, then flush what is in flight, then leave the mesh.
      await app.close();
      // The log's last acks start deliveries; those forward; only then is there nothing left to send.
      // Marks being stored likewise start the deliveries of their read events.
      await Promise.all([log.close(), readMarks.idle(), roomNotices.idle()]);
      await new Promise(setImmediate); // let the acks' continuations start their deliveries
      await delivery.idle();
      await forwarder.idle();
      forwarder.close();
      await presence.stop();
      feed.stop();
      await client.close();
      failures.close();
    },
  };
}

type OnBatch = (n: number, ms: number) => void;

async function createKafkaLog(
  config: Readonly<Config>, nodeId: string, logger: Logger, onBatch: OnBatch,
  shared: { client: InternalClient; metrics: Registry },
): Promise<MessageLog> {
  const kafka = createKafka({ brokers: config.kafkaBrokers, clientId: config.kafkaClientId ?? nodeId, sendTimeoutMs: config.kafkaSendTimeoutMs }, logger);
  const kafkaLog = await KafkaMessageLog.create(kafka, {
    topic: config.kafkaTopic,
    partitions: config.kafkaPartitions,
    generation: config.kafkaSeqGeneration,
    sendTimeoutMs: config.kafkaSendTimeoutMs,
    lingerMs: config.kafkaLingerMs,
    onBatch,
  }, logger.child({ module: 'message-log' }));
  logger.info({ log: 'kafka', brokers: config.kafkaBrokers, topic: config.kafkaTopic, partitions: config.kafkaPartitions, generation: config.kafkaSeqGeneration }, 'message log');
  // Kafka keeps every produced record, so a repeated (sender, cid) is answered from the records
  // of sends (this node's, then sv-discover's); the direct log dedups in the database instead.
  return withSendDedupe(kafkaLog, {
    client: shared.client, secret: config.clusterSecret, discoverUrls: config.discoverUrls, persistUrls: config.persistUrls,
    logger: logger.child({ module: 'send-dedupe' }), metrics: shared.metrics,
    claimTimeoutMs: config.sendDedupeClaimTimeoutMs, storeWaitMs: config.sendDedupeStoreWaitMs,
  });
}

function createDirectLog(config: Readonly<Config>, logger: Logger, onBatch: OnBatch): MessageLog {
  const log = new DirectMessageLog({ persistUrl: config.persistUrls[0]!, secret: config.clusterSecret, onBatch });
  logger.info({ log: 'direct', persistUrl: config.persistUrls[0] }, 'message log');
  return log;
}
