/** Prometheus metrics of sv-discover (prom-client), on a registry of its own: process defaults and lookups. */
import { Counter, Registry, collectDefaultMetrics } from 'prom-client';

export interface DiscoverMetrics {
  registry: Registry;
  /** Lookup requests answered. */
  lookups: Counter;
  /** Users asked about, over all lookups (a lookup is batched). */
  lookupUsers: Counter;
}

export function createDiscoverMetrics(): DiscoverMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: 10 });
  return {
    registry,
    lookups: new Counter({ name: 'chat_discover_lookups_total', help: 'Lookup requests answered', registers: [registry] }),
    lookupUsers: new Counter({ name: 'chat_discover_lookup_users_total', help: 'Users looked up (lookups are batched)', registers: [registry] }),
  };
}
