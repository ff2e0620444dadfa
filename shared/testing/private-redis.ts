/**
 * A redis-server owned by one test file, which it may stop and start again empty on the same port
 * (fault tests). `startTestRedis` shares one server per run (or REDIS_URL) and cannot be stopped.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { freePort } from '@chat/shared/free-port';
import { onStop } from '@chat/shared/started-services';
import { waitForPing } from './redis.ts';

const REDIS_SERVER = process.env['REDIS_SERVER_BIN'] ?? 'redis-server';

export interface PrivateRedis {
  url: string;
  port: number;
  /** SIGKILL the server: its data is gone (nothing is saved). */
  kill(): Promise<void>;
  /** Start a new, empty server on the same port. */
  start(): Promise<void>;
}

export async function startPrivateRedis(): Promise<PrivateRedis> {
  const port = await freePort();
  const url = `redis://127.0.0.1:${port}`;
  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();
  const kill = async (): Promise<void> => {
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGKILL');
    await exited;
  };
  const start = async (): Promise<void> => {
    const c = spawn(REDIS_SERVER, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    c.stdout?.on('data', (d: Buffer) => { output = (output + d.toString()).slice(-4000); });
    c.stderr?.on('data', (d: Buffer) => { output = (output + d.toString()).slice(-4000); });
    const failed = new Promise<never>((_, reject) => c.once('error', (err) => reject(new Error(`could not start ${REDIS_SERVER} (install the Debian package redis-server): ${err.message}`, { cause: err }))));
    failed.catch(() => {});
    child = c;
    exited = new Promise((resolve) => c.once('exit', () => resolve()));
    await Promise.race([failed, waitForPing(url, c, () => output)]);
  };
  onStop(kill);
  await start();
  return { url, port, kill, start };
}
