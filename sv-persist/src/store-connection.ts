/**
 * The store's connection to Postgres: Sequelize's pool, its timeouts, and pg clients that always
 * carry an 'error' listener (docs/reliability.md: sv-persist outlives a Postgres restart).
 */
import { Sequelize } from 'sequelize';
import { pgWithGuardedClients } from './sequelize-pg-internals.ts';

/**
 * A Sequelize instance on `databaseUrl` with a pool of at most `poolMax` connections. With
 * `customPlans`, prepared statements are planned at every execution (Kafka mode needs it, below);
 * without, Postgres's default: after five executions a prepared statement keeps a generic plan when
 * that costs no more than planning it anew. Only the prepared inserts are affected: every other
 * query is an unnamed statement, planned with its values whatever the setting.
 */
export function connectSequelize(databaseUrl: string, poolMax: number, customPlans = true): Sequelize {
  return new Sequelize(databaseUrl, {
    dialect: 'postgres',
    logging: false,
    pool: { max: poolMax, min: 0, acquire: 10_000, idle: 10_000 },
    // Kafka mode's insert (insert-unnest.ts) must be planned for its actual arrays: its generic plan
    // assumes 100 rows per unnest() and hash-joins whole tables, which at light load made Postgres
    // spend more than a core on a few rows per statement (bench, Kafka mode, 3k msgs/s). Direct
    // mode's insert joins nothing: its generic plan is the custom one, less the planning, which was
    // a fifth of Postgres's CPU per one-row statement (docs/benchmarks.md).
    dialectOptions: { connectionTimeoutMillis: 5_000, ...(customPlans && { options: '-c plan_cache_mode=force_custom_plan' }) },
    dialectModule: pgWithGuardedClients(),
    // A down database should answer 503 soon; the caller (a node, or Kafka) retries the batch.
    retry: { max: 1 },
  });
}
