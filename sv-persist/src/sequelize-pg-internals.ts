/**
 * The one place sv-persist leans on Sequelize's and pg's internals; everything else uses
 * `sequelize.query`, models and transactions. Known to work with Sequelize 6 and pg 8.
 *
 * 1. `preparedQuery`: a pooled connection borrowed from `sequelize.connectionManager`
 *    (`getConnection` / `releaseConnection`, typed but not in Sequelize's manual) and used as the
 *    pg `Client` it is in the postgres dialect (the typings only say `object`), to run a named
 *    prepared statement (`client.query({ name, text, values })`, pg's public API). Why: the hot
 *    inserts are then parsed once per connection, not per batch, and skip Sequelize's query layer
 *    (its bind rewriting and result mapping). Measured against `sequelize.query` on insert-bench's
 *    rows, the two ways alternating in blocks of 300 statements in one process (1 and 75 rows a
 *    statement): about 150–250 µs less CPU per statement in sv-persist and 100–250 µs less in
 *    Postgres, a quarter to a third of a one-row statement's cost. If Sequelize changes its manager
 *    or its connection type, the store refuses to start (`assertInternals`) or the first insert
 *    fails with an error naming this file; the public fallback is
 *    `sequelize.query(text, { bind: values, type: QueryTypes.SELECT })`, whose errors come wrapped
 *    (the SQLSTATE in `err.parent.code`, which store-errors.ts would then have to read).
 * 2. `pgWithGuardedClients`: Sequelize's public `dialectModule` option, given pg with its `Client`
 *    replaced by a subclass that adds an 'error' listener in its constructor. It relies on
 *    Sequelize creating connections as `new dialectModule.Client(config)` and reading the rest
 *    (`types`, …) from the same module. Why: a Postgres restart sends 57P01 to every connection,
 *    and a client with no listener yet (Sequelize adds its own only once connected) turned it into
 *    an unhandled 'error' event that killed sv-persist (docs/reliability.md). If Sequelize stops
 *    constructing `Client` so, the listener is silently missing: the Postgres-restart fault test
 *    (sv-websocket/test/faults/postgres-restart.test.ts) is what catches it.
 * 3. Buffer parameters go to Postgres in binary format (pg-protocol's bind message), which the
 *    binary arrays of pg-binary-arrays.ts rely on; sv-persist/test/integration/pg-binary-arrays.test.ts
 *    holds pg to it.
 */
import { createRequire } from 'node:module';
import { Sequelize } from 'sequelize';
import { fromPgError } from './store-errors.ts';

/** The part of a pg Client `preparedQuery` uses. */
interface PgConnection {
  query(config: { name: string; text: string; values: unknown[] }): Promise<{ rows: unknown[] }>;
}

interface PooledConnections {
  getConnection(o: { type: 'write' }): Promise<unknown>;
  releaseConnection(c: unknown): void;
}

function internalsMissing(what: string): Error {
  // Sequelize sets `version` (its package.json's) at runtime; its typings do not declare it.
  const version = (Sequelize as unknown as { version?: string }).version ?? 'of unknown version';
  return new Error(`${what} (Sequelize ${version}); sv-persist's prepared inserts need Sequelize 6 with pg 8: see sv-persist/src/sequelize-pg-internals.ts`);
}

/** Throws, naming this file, when `sequelize` lacks what `preparedQuery` uses. */
export function assertInternals(sequelize: Sequelize): void {
  if (sequelize.getDialect() !== 'postgres') throw internalsMissing(`dialect ${sequelize.getDialect()} is not postgres`);
  const manager = sequelize.connectionManager as Partial<PooledConnections> | undefined;
  if (typeof manager?.getConnection !== 'function' || typeof manager.releaseConnection !== 'function') {
    throw internalsMissing('sequelize.connectionManager has no getConnection/releaseConnection');
  }
}

/**
 * One autocommit statement as a named prepared statement (pg prepares it once per connection) on a
 * connection from Sequelize's pool. The statement's errors are pg's, not Sequelize's: those that
 * are not the statement's fault become ERR_STORE_UNAVAILABLE (`fromPgError`), as `guardStore` does
 * for Sequelize's. A broken connection is marked invalid by Sequelize's own listeners and replaced
 * by the pool.
 */
export async function preparedQuery<T>(sequelize: Sequelize, name: string, text: string, values: unknown[]): Promise<T[]> {
  const manager = sequelize.connectionManager as unknown as PooledConnections;
  const connection = await manager.getConnection({ type: 'write' }) as Partial<PgConnection>;
  try {
    if (typeof connection.query !== 'function') throw internalsMissing('a pooled connection is not a pg Client');
    return (await connection.query({ name, text, values }).catch((err: unknown) => { throw fromPgError(err); })).rows as T[];
  } finally {
    manager.releaseConnection(connection);
  }
}

/** pg whose clients always have an 'error' listener (2. above). */
export function pgWithGuardedClients(): object {
  type ClientCtor = new (config: unknown) => { on(event: 'error', fn: (err: unknown) => void): void };
  const pg = createRequire(import.meta.url)('pg') as { Client?: ClientCtor };
  if (typeof pg.Client !== 'function') throw internalsMissing('pg exports no Client class');
  // Sequelize's listener still marks the connection invalid and the pool replaces it; this one only keeps the process up.
  class GuardedClient extends pg.Client {
    constructor(config: unknown) {
      super(config);
      this.on('error', () => {});
    }
  }
  // Inherit the rest (types, Pool, …) without touching pg's lazy `native` getter.
  return Object.create(pg, { Client: { value: GuardedClient } }) as object;
}
