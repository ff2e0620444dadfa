/** Prometheus metrics of a persister (prom-client), on its own registry. */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { ConsumerStats } from './consumer-stats.ts';

export interface PersistMetrics {
  registry: Registry;
  /** Observe one committed insert batch (direct mode); `newestTs` is the batch's largest message `ts`. */
  batch(rows: number, seconds: number, newestTs?: number): void;
  /** Observe one insert statement of the Kafka consumer (its rows and lag come from its stats). */
  insert(rows: number, seconds: number): void;
}

/** `consumerStats`, when given, is read at scrape time (Kafka mode). */
export function createPersistMetrics(consumerStats?: () => ConsumerStats): PersistMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: 10 });
  let directRows = 0;
  let directLagMs = 0;
  new Gauge({
    name: 'chat_persist_lag_seconds', help: 'Commit time minus ts of the newest message in the last committed batch', registers: [registry],
    collect() { this.set((consumerStats ? consumerStats().lagMs : directLagMs) / 1000); },
  });
  new Counter({
    name: 'chat_persist_rows_inserted_total', help: 'Messages inserted into Postgres', registers: [registry],
    collect() { this.reset(); this.inc(consumerStats ? consumerStats().inserted : directRows); },
  });
  const batchSize = new Histogram({ name: 'chat_persist_batch_size', help: 'Messages per insert statement', buckets: [1, 10, 50, 100, 200, 500, 1000, 2000, 5000], registers: [registry] });
  const batchSeconds = new Histogram({ name: 'chat_persist_batch_seconds', help: 'Time of one insert transaction', registers: [registry] });
  if (consumerStats) {
    const fromStats = (name: string, help: string, pick: (s: ConsumerStats) => number) => new Counter({
      name, help, registers: [registry],
      collect() { this.reset(); this.inc(pick(consumerStats())); },
    });
    fromStats('chat_persist_records_total', 'Kafka records consumed', (s) => s.records);
    fromStats('chat_persist_duplicates_total', 'Records already stored (replays, retried sends)', (s) => s.duplicates);
    fromStats('chat_persist_undecodable_total', 'Records that are not messages, skipped', (s) => s.undecodable);
    fromStats('chat_persist_seq_regressions_total', 'Stored with a seq below the conversation head (bump KAFKA_SEQ_GENERATION)', (s) => s.regressions);
    fromStats('chat_persist_seq_collisions_total', 'Not stored: (conversation, seq) already taken (bump KAFKA_SEQ_GENERATION)', (s) => s.collisions);
    fromStats('chat_persist_insert_failures_total', 'Insert attempts that failed and were retried', (s) => s.insertFailures);
  }
  return {
    registry,
    batch(n, seconds, newestTs) {
      directRows += n;
      if (newestTs !== undefined) directLagMs = Date.now() - newestTs;
      batchSize.observe(n);
      batchSeconds.observe(seconds);
    },
    insert(n, seconds) {
      batchSize.observe(n);
      batchSeconds.observe(seconds);
    },
  };
}
