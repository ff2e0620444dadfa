/** Prometheus metrics of sv-discover (prom-client), on a registry of its own: process defaults, lookups and the record of sends. */
import { Counter, Registry, collectDefaultMetrics } from 'prom-client';

export interface DiscoverMetrics {
  registry: Registry;
  /** Lookup requests answered. */
  lookups: Counter;
  /** Users asked about, over all lookups (a lookup is batched). */
  lookupUsers: Counter;
  /** Claims on the record of sends answered. */
  sendClaims: Counter;
  /** Claims answered with a record already held (a cid repeated within SEND_DEDUPE_TTL_MS). */
  sendRepeats: Counter;
}

/** `sendsEvicted`: records the memory ledger dropped for room before their TTL (absent on Redis). */
export function createDiscoverMetrics(sendsEvicted?: () => number): DiscoverMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: 10 });
  const metrics: DiscoverMetrics = {
    registry,
    lookups: new Counter({ name: 'chat_discover_lookups_total', help: 'Lookup requests answered', registers: [registry] }),
    lookupUsers: new Counter({ name: 'chat_discover_lookup_users_total', help: 'Users looked up (lookups are batched)', registers: [registry] }),
    sendClaims: new Counter({ name: 'chat_discover_send_claims_total', help: 'Claims on the record of sends answered', registers: [registry] }),
    sendRepeats: new Counter({
      name: 'chat_discover_send_repeats_total', help: 'Claims answered with a record already held (a cid repeated within SEND_DEDUPE_TTL_MS)', registers: [registry],
    }),
  };
  if (sendsEvicted) {
    new Counter({
      name: 'chat_discover_send_records_evicted_total', registers: [registry],
      help: 'Records of sends dropped for room (SEND_DEDUPE_MAX_ENTRIES) before their TTL: the window the record covers is shorter than SEND_DEDUPE_TTL_MS',
      collect() { this.reset(); this.inc(sendsEvicted()); },
    });
  }
  return metrics;
}
