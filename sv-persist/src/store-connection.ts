/**
 * The store's connection to Postgres: Sequelize's pool, its timeouts, and pg clients that always
 * carry an 'error' listener (docs/reliability.md: sv-persist outlives a Postgres restart).
 */
import { Sequelize } from 'sequelize';
import { pgWithGuardedClients } from './sequelize-pg-internals.ts';

/** A Sequelize instance on `databaseUrl` with a pool of at most `poolMax` connections. */
export function connectSequelize(databaseUrl: string, poolMax: number): Sequelize {
  return new Sequelize(databaseUrl, {
    dialect: 'postgres',
    logging: false,
    pool: { max: poolMax, min: 0, acquire: 10_000, idle: 10_000 },
    // Prepared statements (insert-unnest.ts) keep being planned for their actual arrays: a generic
    // plan assumes 100 rows per unnest() and hash-joins whole tables, which at light load made
    // Postgres spend more than a core on a few rows per statement (bench, Kafka mode, 3k msgs/s).
    dialectOptions: { connectionTimeoutMillis: 5_000, options: '-c plan_cache_mode=force_custom_plan' },
    dialectModule: pgWithGuardedClients(),
    // A down database should answer 503 soon; the caller (a node, or Kafka) retries the batch.
    retry: { max: 1 },
  });
}
