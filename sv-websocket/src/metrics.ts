/** Prometheus metrics of a node (prom-client), on a registry of its own so several apps can share a process. */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { DropReason as RetryDropReason } from './retry-queue.ts';

export interface Metrics {
  registry: Registry;
  connections: Gauge;
  framesIn: Counter;
  framesOut: Counter;
  deliveriesLocal: Counter;
  deliveriesForwarded: Counter;
  forwardBatchSize: Histogram;
  forwardsReceived: Counter<'transport'>;
  appendBatchSize: Histogram;
  appendLatency: Histogram;
  sendsRefused: Counter<'reason'>;
  typing: Counter<'outcome'>;
  reads: Counter<'outcome'>;
}

/** Why a node refused a send past its capacity (`unavailable`; the client retries the same cid). */
export type RefusalReason = 'deliveries' | 'log_wait' | 'log_queue';

export function createMetrics(sources: {
  local: () => number; forwarded: () => number; cacheHits: () => number; cacheMisses: () => number; cacheInvalidations: () => number;
  forwardPeers: () => number; deliveriesPending: () => number; logBacklogMs: () => number;
  forwardsFailed: () => number; forwardsHeld: () => number; forwardPeersDown: () => number; forwardRequests: () => number;
  retriesParked: () => number; retriesDropped: () => Readonly<Record<RetryDropReason, number>>;
}): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: 10 });
  const sizes = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000];
  const metrics: Metrics = {
    registry,
    connections: new Gauge({ name: 'chat_connections', help: 'Open client WebSocket connections', registers: [registry] }),
    framesIn: new Counter({ name: 'chat_frames_in_total', help: 'Frames received from clients', registers: [registry] }),
    framesOut: new Counter({ name: 'chat_frames_out_total', help: 'Frames sent to clients', registers: [registry] }),
    deliveriesLocal: new Counter({
      name: 'chat_deliveries_local_total', help: 'Message frames handed to local connections', registers: [registry],
      collect() { this.reset(); this.inc(sources.local()); },
    }),
    deliveriesForwarded: new Counter({
      name: 'chat_deliveries_forwarded_total', help: 'Messages forwarded to other nodes (one per target node)', registers: [registry],
      collect() { this.reset(); this.inc(sources.forwarded()); },
    }),
    forwardBatchSize: new Histogram({ name: 'chat_forward_batch_size', help: 'Messages and events per forward request', buckets: sizes, registers: [registry] }),
    forwardsReceived: new Counter({
      name: 'chat_forwards_received_total', help: 'Forward batches received from other nodes, by transport (stream or http)',
      labelNames: ['transport'], registers: [registry],
    }),
    appendBatchSize: new Histogram({ name: 'chat_append_batch_size', help: 'Messages per message-log append', buckets: sizes, registers: [registry] }),
    appendLatency: new Histogram({ name: 'chat_append_seconds', help: 'Time for the log to make a batch durable', registers: [registry] }),
    sendsRefused: new Counter({
      name: 'chat_sends_refused_total',
      help: 'Sends refused past capacity, by reason: deliveries (MAX_PENDING_DELIVERIES), log_wait (LOG_MAX_WAIT_MS), log_queue (the log queue full)',
      labelNames: ['reason'], registers: [registry],
    }),
    typing: new Counter({
      name: 'chat_typing_total', help: 'Typing indicators from clients, by outcome: sent, or throttled (within 2 s of the last one to the same recipient)',
      labelNames: ['outcome'], registers: [registry],
    }),
    reads: new Counter({
      name: 'chat_reads_total', help: 'Read frames from clients, by outcome: moved (the read mark moved; announced), unchanged, failed (not stored)',
      labelNames: ['outcome'], registers: [registry],
    }),
  };
  new Gauge({
    name: 'chat_log_backlog_seconds', help: 'How long the oldest message not yet durable has waited (sends are refused past LOG_MAX_WAIT_MS)', registers: [registry],
    collect() { this.set(sources.logBacklogMs() / 1000); },
  });
  new Gauge({
    name: 'chat_forward_peers', help: 'Nodes this node holds a forward pipe to (dropped after a minute unused)', registers: [registry],
    collect() { this.set(sources.forwardPeers()); },
  });
  new Gauge({
    name: 'chat_deliveries_pending', help: 'Accepted messages not yet handed to every node of their users (at MAX_PENDING_DELIVERIES sends are refused)', registers: [registry],
    collect() { this.set(sources.deliveriesPending()); },
  });
  new Gauge({
    name: 'chat_lookup_cache_hit_ratio', help: 'Discovery cache hits / lookups', registers: [registry],
    collect() { const h = sources.cacheHits(); const t = h + sources.cacheMisses(); this.set(t === 0 ? 0 : h / t); },
  });
  new Counter({
    name: 'chat_lookup_cache_invalidations_total', help: 'Users dropped from the discovery cache (pushed new connection, "absent", or their node found down)', registers: [registry],
    collect() { this.reset(); this.inc(sources.cacheInvalidations()); },
  });
  registerForwardFaultMetrics(registry, sources);
  return metrics;
}

/** How forwarding fares while peers or discovery fail: failed requests, held forwards, parked retries. */
function registerForwardFaultMetrics(registry: Registry, sources: Parameters<typeof createMetrics>[0]): void {
  const counter = (name: string, help: string, read: () => number) =>
    new Counter({ name, help, registers: [registry], collect() { this.reset(); this.inc(read()); } });
  const gauge = (name: string, help: string, read: () => number) =>
    new Gauge({ name, help, registers: [registry], collect() { this.set(read()); } });
  counter('chat_forward_requests_total', 'Forward requests sent to other nodes (batches; a room\'s message is one per node holding its members)', sources.forwardRequests);
  counter('chat_forwards_failed_total', 'Forward requests to other nodes that failed (not answered, or refused)', sources.forwardsFailed);
  counter('chat_forwards_held_total', 'Forwards not sent because their node is marked down (no request until a probe gets through)', sources.forwardsHeld);
  gauge('chat_forward_peers_down', 'Nodes marked down after a failed forward, probed with backoff', sources.forwardPeersDown);
  gauge('chat_forward_retries_parked', 'Remote deliveries that failed, parked to be tried again for FORWARD_RETRY_MS (at most FORWARD_RETRY_MAX)', sources.retriesParked);
  new Counter({
    name: 'chat_forward_retries_dropped_total',
    help: 'Parked remote deliveries given up, by reason: full (FORWARD_RETRY_MAX), expired (FORWARD_RETRY_MS), shutdown; history has them',
    labelNames: ['reason'], registers: [registry],
    collect() {
      this.reset();
      for (const [reason, n] of Object.entries(sources.retriesDropped())) this.inc({ reason }, n);
    },
  });
}

/** Presence: the users this node's connections watch, and the states discovery pushed for them. */
export function registerPresenceMetrics(registry: Registry, sources: { changesReceived: () => number; watchedUsers: () => number }): void {
  new Counter({
    name: 'chat_presence_changes_received_total',
    help: 'Presence states discovery sent this node (answers to its watch set and changes of watched users; none when nobody here watches)',
    registers: [registry], collect() { this.reset(); this.inc(sources.changesReceived()); },
  });
  new Gauge({
    name: 'chat_presence_watched_users', help: 'Users the connections of this node watch (the union of their watch lists)',
    registers: [registry], collect() { this.set(sources.watchedUsers()); },
  });
}

/** Rooms: the member lists this node keeps, and how often it had to fetch or drop one. */
export function registerRoomMetrics(registry: Registry, sources: { cached: () => number; fetches: () => number; drops: () => number }): void {
  new Gauge({
    name: 'chat_room_lists_cached', help: 'Rooms whose member lists this node keeps (at most ROOM_CACHE_MAX)',
    registers: [registry], collect() { this.set(sources.cached()); },
  });
  new Counter({
    name: 'chat_room_list_fetches_total', help: 'Room member lists fetched from sv-persist (not cached, or dropped after a change)',
    registers: [registry], collect() { this.reset(); this.inc(sources.fetches()); },
  });
  new Counter({
    name: 'chat_room_list_drops_total', help: 'Room member lists dropped because the change feed named a newer version, or was reset',
    registers: [registry], collect() { this.reset(); this.inc(sources.drops()); },
  });
}
