/** Starts one sv-websocket node: reads config, wires the parts, listens, joins the mesh. */
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { runMain } from '@chat/shared/config';
import { InternalClient } from '@chat/shared/internal-client';
import { createLogger } from '@chat/shared/logger';
import type { MessageLog } from '@chat/shared/message-log';
import { buildApp } from './app.ts';
import { createAuthenticator } from './auth.ts';
import { loadConfig } from './config.ts';
import { Delivery } from './delivery.ts';
import { Forwarder } from './forwarder.ts';
import { HistoryClient } from './history-client.ts';
import { LocalConnections } from './local-connections.ts';
import { LookupCache } from './lookup-cache.ts';
import { createKafka } from '@chat/shared/kafka-client';
import { DirectMessageLog } from './message-log-direct.ts';
import { KafkaMessageLog } from './message-log-kafka.ts';
import { ChangeFeedClient } from './change-feed-client.ts';
import { createMetrics } from './metrics.ts';
import { Presence } from './presence.ts';
import { withSendDedupe } from './send-dedupe.ts';
import { HttpRegistry } from './registry-http.ts';

await runMain(async () => {
  const config = loadConfig();
  const nodeId = config.nodeId ?? `${hostname()}-${config.port || randomBytes(3).toString('hex')}`;
  const logger = createLogger({ service: 'sv-websocket', level: config.logLevel }).child({ node: nodeId });
  const client = new InternalClient({ secret: config.clusterSecret, timeoutMs: 5000, connections: 32 });

  const registry = new HttpRegistry(client, config.discoverUrls);
  const local = new LocalConnections();
  const cache = new LookupCache(registry, config.lookupCacheMs, 100_000, config.lookupCachePushedMs);
  const feed = config.lookupCachePushedMs > 0
    ? new ChangeFeedClient({ discoverUrls: config.discoverUrls, secret: config.clusterSecret, cache, logger: logger.child({ module: 'change-feed' }) })
    : undefined;
  feed?.start();
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
    retriesParked: () => delivery.parked,
    retriesDropped: () => delivery.retriesDropped,
  });
  forwarder.stats.onBatch = (n) => metrics.forwardBatchSize.observe(n);
  const onBatch = (n: number, ms: number) => { metrics.appendBatchSize.observe(n); metrics.appendLatency.observe(ms / 1000); };
  const kafkaMode = config.kafkaBrokers.length > 0;
  if (kafkaMode) {
    const kafka = createKafka({ brokers: config.kafkaBrokers, clientId: config.kafkaClientId ?? nodeId, sendTimeoutMs: config.kafkaSendTimeoutMs }, logger);
    const kafkaLog = await KafkaMessageLog.create(kafka, {
      topic: config.kafkaTopic,
      partitions: config.kafkaPartitions,
      generation: config.kafkaSeqGeneration,
      sendTimeoutMs: config.kafkaSendTimeoutMs,
      lingerMs: config.kafkaLingerMs,
      onBatch,
    }, logger.child({ module: 'message-log' }));
    // Kafka keeps every produced record, so a repeated (sender, cid) is answered from the records
    // of sends (this node's, then sv-discover's); the direct log dedups in the database instead.
    log = withSendDedupe(kafkaLog, {
      client, secret: config.clusterSecret, discoverUrls: config.discoverUrls, persistUrls: config.persistUrls, logger: logger.child({ module: 'send-dedupe' }),
      metrics: metrics.registry, claimTimeoutMs: config.sendDedupeClaimTimeoutMs, storeWaitMs: config.sendDedupeStoreWaitMs,
    });
    logger.info({ log: 'kafka', brokers: config.kafkaBrokers, topic: config.kafkaTopic, partitions: config.kafkaPartitions, generation: config.kafkaSeqGeneration }, 'message log');
  } else {
    log = new DirectMessageLog({ persistUrl: config.persistUrls[0]!, secret: config.clusterSecret, onBatch });
    logger.info({ log: 'direct', persistUrl: config.persistUrls[0] }, 'message log');
  }
  // The URL is known once listening (PORT=0 picks one); presence starts only then.
  const node = { nodeId, url: config.publicUrl ?? '' };
  const presence = new Presence(registry, node, config.leaseMs, local, logger.child({ module: 'presence' }));

  const app = buildApp({
    nodeId,
    auth: createAuthenticator(config.authMode, config.authSecret),
    local, presence, log, delivery, metrics, logger,
    history: new HistoryClient(client, config.persistUrls),
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

  await app.listen({ port: config.port, host: config.host });
  const { port } = app.server.address() as { port: number };
  node.url ||= `http://${config.host === '0.0.0.0' ? '127.0.0.1' : config.host}:${port}`;
  await presence.start();
  logger.info({ url: `http://${config.host}:${port}`, client: `http://${config.host}:${port}/client`, nodeId, authMode: config.authMode }, 'listening');

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    // Stop accepting and close clients with 1001, then flush what is in flight, then leave the mesh.
    await app.close();
    // The log's last acks start deliveries; those forward; only then is there nothing left to send.
    await log.close();
    await new Promise(setImmediate); // let the acks' continuations start their deliveries
    await delivery.idle();
    await forwarder.idle();
    forwarder.close();
    await presence.stop();
    feed?.stop();
    await client.close();
    logger.info('stopped');
    process.exit(0);
  };
  process.once('SIGTERM', () => void stop('SIGTERM'));
  process.once('SIGINT', () => void stop('SIGINT'));
});
