/**
 * Which database failures are the store being unavailable (ERR_STORE_UNAVAILABLE: wire
 * `unavailable`, HTTP 503, worth a retry: a node resends, Kafka mode retries the records) and
 * which are the statement's own fault (thrown as they are: retrying cannot help).
 */
import { ERR_STORE_UNAVAILABLE } from '@chat/shared/errors';

/**
 * SQLSTATE classes that are the statement's own fault (data exception, integrity, syntax or
 * access rule): anything else pg throws (a connection lost or refused, an operator shutdown, no
 * resources) means the database is unavailable, as Sequelize's errors below say.
 */
const STATEMENT_FAULT = /^(22|23|42)/;
const UNIQUE_VIOLATION = '23505';

/** Sequelize's connection-level failures: the database is down or unreachable, not our query. */
const UNAVAILABLE = new Set([
  'SequelizeConnectionError', 'SequelizeConnectionRefusedError', 'SequelizeHostNotFoundError',
  'SequelizeHostNotReachableError', 'SequelizeConnectionTimedOutError', 'SequelizeConnectionAcquireTimeoutError',
  'SequelizeAccessDeniedError', 'SequelizeInvalidConnectionError', 'SequelizeTimeoutError',
]);

function sqlState(err: unknown): unknown {
  return (err as { code?: unknown } | null)?.code;
}

/** A pg error (from a query on a raw pg connection): as it is when the statement's fault, else ERR_STORE_UNAVAILABLE. */
export function fromPgError(err: unknown): unknown {
  const code = sqlState(err);
  if (typeof code === 'string' && STATEMENT_FAULT.test(code)) return err;
  return new ERR_STORE_UNAVAILABLE((err as Error).message, { cause: err });
}

/** A pg error saying a row hit a unique key. */
export function isUniqueViolation(err: unknown): boolean {
  return sqlState(err) === UNIQUE_VIOLATION;
}

/** Run `fn`; Sequelize's connection-level failures become ERR_STORE_UNAVAILABLE. */
export async function guardStore<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    const name = (err as { name?: string } | null)?.name;
    if (name && UNAVAILABLE.has(name)) throw new ERR_STORE_UNAVAILABLE((err as Error).message, { cause: err });
    throw err;
  }
}
