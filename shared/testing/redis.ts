/**
 * Redis for tests: `REDIS_URL` when set, else one throwaway `redis-server` (Debian package
 * redis-server) on a free port, shared by every test file of the run and stopped by the root hook.
 * There is no fallback: a missing server fails the test with how to fix it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { freePort } from '@chat/shared/free-port';
import { onStop } from '@chat/shared/started-services';
import { eventually } from './eventually.ts';

const REDIS_SERVER = process.env['REDIS_SERVER_BIN'] ?? 'redis-server';
const START_TIMEOUT_MS = 10_000;

let started: Promise<string> | undefined;

/** A Redis URL for tests; the first call starts the server, later calls share it. */
export function startTestRedis(): Promise<string> {
  const fromEnv = process.env['REDIS_URL'];
  if (fromEnv) return Promise.resolve(fromEnv);
  started ??= spawnRedis().catch((err: unknown) => {
    started = undefined; // let a later test retry and report its own failure
    throw err;
  });
  return started;
}

/** A key prefix no other test file (or earlier run) uses, e.g. `test:registry:6f1c…:`. */
export function uniqueRedisPrefix(name: string): string {
  return `test:${name}:${randomUUID()}:`;
}

async function spawnRedis(): Promise<string> {
  const port = await freePort();
  const child = spawn(
    REDIS_SERVER,
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  child.stdout?.on('data', (d: Buffer) => { output = (output + d.toString()).slice(-4000); });
  child.stderr?.on('data', (d: Buffer) => { output = (output + d.toString()).slice(-4000); });
  // Not events.once: that would also reject on 'error', which spawnError already reports.
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const spawnError = new Promise<never>((_, reject) => {
    child.on('error', (err: NodeJS.ErrnoException) => {
      reject(err.code === 'ENOENT'
        ? new Error(`${REDIS_SERVER} not found: install the Debian package redis-server (apt-get install redis-server), or set REDIS_URL`)
        : new Error(`could not start ${REDIS_SERVER}: ${err.message}`, { cause: err }));
    });
  });
  spawnError.catch(() => {}); // observed through the race below; never an unhandled rejection
  onStop(() => stopChild(child, exited));
  const url = `redis://127.0.0.1:${port}`;
  if (child.pid === undefined) await spawnError; // spawn failed synchronously (e.g. ENOENT): report why
  await Promise.race([spawnError, waitForPing(url, child, () => output)]);
  return url;
}

/** Poll PING until the server answers, it exits, or the deadline passes. */
export async function waitForPing(url: string, child: ChildProcess, output: () => string): Promise<void> {
  const exited = () => child.exitCode !== null || child.signalCode !== null;
  await eventually(`redis-server on ${url} to answer PING`, async () => {
    if (exited()) return true; // reported below, without waiting out the deadline
    const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, enableOfflineQueue: false });
    client.on('error', () => {}); // failures are handled by the awaited calls below
    try {
      await client.connect();
      return (await client.ping()) === 'PONG';
    } finally {
      client.disconnect();
    }
  }, START_TIMEOUT_MS, output);
  if (exited()) throw new Error(`redis-server exited (${child.exitCode ?? child.signalCode}) before answering PING (port taken?):\n${output()}`);
}

async function stopChild(child: ChildProcess, exited: Promise<void>): Promise<void> {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
}
